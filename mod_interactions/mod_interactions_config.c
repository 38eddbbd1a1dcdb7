/* mod_interactions_config.c — see mod_interactions_config.h
 *
 * Everything about the directives that is the same for each of them is generated here from
 * the table in mod_interactions_directives.h: the defaults, create, merge, applying defaults
 * and floors, the command table.  What is particular stays as code: the setters of STR and
 * LIST rows, the checks between settings (the pool's sizes, the push channel's room in a
 * child's threads), and turning per-location settings into the request limits.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_main.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <apr_lib.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <unistd.h>

#include "mi_secret.h"
#include "mi_render.h"
#include "mi_tunables.h"
#include "mi_webhook_allow.h"
#include "mod_interactions_config.h"
#include "mod_interactions.h"

/* ------------------------------------------------------------------ the table, expanded */

#define MI_STR_(x) #x
#define MI_STR(x) MI_STR_(x)

/* a row's scope: the struct and httpd's context */
#define MI_CONF_SRV mi_ap_srv_conf_t
#define MI_CONF_DIR mi_ap_dir_conf_t
#define MI_CONF_DB  mi_ap_dir_conf_t
#define MI_CTX_SRV  RSRC_CONF
#define MI_CTX_DIR  (RSRC_CONF | ACCESS_CONF)
#define MI_CTX_DB   (RSRC_CONF | ACCESS_CONF)

/* a row's type: what "unset" is, the value of its default, how it takes its argument */
#define MI_UNSET_INT  MI_AP_UNSET
#define MI_UNSET_LONG MI_AP_UNSET
#define MI_UNSET_FLAG MI_AP_UNSET
#define MI_UNSET_STR  NULL
#define MI_UNSET_LIST NULL
#define MI_FLAG_On  1
#define MI_FLAG_Off 0
#define MI_DEFAULT_INT(def)  (def)
#define MI_DEFAULT_LONG(def) (def)
#define MI_DEFAULT_FLAG(def) MI_FLAG_##def
#define MI_DEFAULT_STR(def)  def
#define MI_DEFAULT_LIST(def) def
/* the generic setters; a combination without one (a LONG server-wide, a FLAG per location)
 * does not compile */
#define MI_SETTER_INT_SRV  set_srv_int
#define MI_SETTER_INT_DIR  set_dir_int
#define MI_SETTER_LONG_DIR set_dir_long
#define MI_SETTER_FLAG_SRV set_srv_flag
#define MI_SETTER_INT_DB   set_db_int
#define MI_OFFSET(scope, field) ((void *)APR_OFFSETOF(MI_CONF_##scope, field))
#define MI_CMD_INT(name, scope, field, def, setter, help) \
    AP_INIT_TAKE1(name, MI_SETTER_INT_##scope, MI_OFFSET(scope, field), MI_CTX_##scope, \
                  help " (default " MI_STR(def) ")")
#define MI_CMD_LONG(name, scope, field, def, setter, help) \
    AP_INIT_TAKE1(name, MI_SETTER_LONG_##scope, MI_OFFSET(scope, field), MI_CTX_##scope, \
                  help " (default " MI_STR(def) ")")
#define MI_CMD_FLAG(name, scope, field, def, setter, help) \
    AP_INIT_FLAG(name, MI_SETTER_FLAG_##scope, MI_OFFSET(scope, field), MI_CTX_##scope, \
                 help " (default " #def ")")
#define MI_CMD_STR(name, scope, field, def, setter, help) \
    AP_INIT_TAKE1(name, setter, MI_OFFSET(scope, field), MI_CTX_##scope, help)
#define MI_CMD_LIST(name, scope, field, def, setter, help) \
    AP_INIT_ITERATE(name, setter, MI_OFFSET(scope, field), MI_CTX_##scope, help)

/* a row's default (MI_DEFAULT_<type> applied) and floor (numbers only) */
#define MI_APPLY_INT(c, field, def, floor) \
    do { \
        if ((c)->field == MI_AP_UNSET) (c)->field = (def); \
        if ((c)->field < (floor)) (c)->field = (floor); \
    } while (0);
#define MI_APPLY_LONG MI_APPLY_INT
#define MI_APPLY_FLAG(c, field, def, floor) \
    do { \
        if ((c)->field == MI_AP_UNSET) (c)->field = (def); \
    } while (0);
#define MI_APPLY_STR(c, field, def, floor)
#define MI_APPLY_LIST(c, field, def, floor)

/* a row's merge rule */
#define MI_MERGE_INNER(c, base, add, field, unset) \
    (c)->field = (add)->field != (unset) ? (add)->field : (base)->field;

/* the row macros, one per use; MI_ONLY_<struct>_<scope> (mod_interactions_config.h) keeps
 * the rows of one struct */
#define MI_ROW_NAME(name, scope, type, field, def, floor, merge, setter, help) name,
#define MI_ROW_INDEX(name, scope, type, field, def, floor, merge, setter, help) MI_D_##field,
#define MI_ROW_CMD(name, scope, type, field, def, floor, merge, setter, help) \
    MI_CMD_##type(name, scope, field, def, setter, help),
#define MI_ROW_UNSET_SRV(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_SRV_##scope(c->field = MI_UNSET_##type;)
#define MI_ROW_UNSET_DIR(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_DIR_##scope(c->field = MI_UNSET_##type;)
#define MI_ROW_MERGE_SRV(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_SRV_##scope(MI_MERGE_##merge(c, base, add, field, MI_UNSET_##type))
#define MI_ROW_MERGE_DIR(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_DIR_##scope(MI_MERGE_##merge(c, base, add, field, MI_UNSET_##type))
#define MI_ROW_APPLY_SRV(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_SRV_##scope(MI_APPLY_##type(c, field, MI_DEFAULT_##type(def), floor))
#define MI_ROW_APPLY_DIR(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_DIR_##scope(MI_APPLY_##type(c, field, MI_DEFAULT_##type(def), floor))
/* MI_ONLY_DB_<scope>: the rows of a database's settings alone */
#define MI_ONLY_DB_SRV(x)
#define MI_ONLY_DB_DIR(x)
#define MI_ONLY_DB_DB(x) x
#define MI_ROW_APPLY_DB(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_DB_##scope(MI_APPLY_##type(c, field, MI_DEFAULT_##type(def), floor))

/* A directive's name for messages: D(field). */
enum { MI_DIRECTIVES(MI_ROW_INDEX) MI_D_COUNT };
static const char *const directive_names[MI_D_COUNT] = { MI_DIRECTIVES(MI_ROW_NAME) };
#define D(field) (directive_names[MI_D_##field])

/* ------------------------------------------------------------------ create and merge */

void *mi_ap_config_create_srv(apr_pool_t *p, server_rec *s)
{
    mi_ap_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    MI_DIRECTIVES(MI_ROW_UNSET_SRV)
    c->db_password = NULL;
    return c;
}

void *mi_ap_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    mi_ap_srv_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    MI_DIRECTIVES(MI_ROW_MERGE_SRV)
    c->db_password = add->db_password != NULL ? add->db_password : base->db_password;
    return c;
}

void *mi_ap_config_create_dir(apr_pool_t *p, char *dir)
{
    mi_ap_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    MI_DIRECTIVES(MI_ROW_UNSET_DIR)
    /* A <Location /api/v2> holding one of our directives passes its path (strip a trailing
     * slash so "/api/v2/" works too); without one, the handler finds the base itself. */
    if (dir != NULL && dir[0] == '/') {
        apr_size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        c->base = (n == 1) ? "" : apr_pstrmemdup(p, dir, n);
    }
    return c;
}

void *mi_ap_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    mi_ap_dir_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    MI_DIRECTIVES(MI_ROW_MERGE_DIR)
    return c;
}

/* ------------------------------------------------------------------ defaults */

/* A held /meta/connect blocks a worker thread for its whole hold (docs/push.md), and a child
 * whose threads are all busy stops accepting connections: requests of everybody else wait.
 * So a child holds at most its threads less a reserve for other requests, whatever
 * InteractionsPushMaxWaiters says; an explicit setting beyond that is a configuration
 * mistake and said so at start. */
int mi_ap_config_push_room(int threads)
{
    int reserve = threads / MI_PUSH_RESERVE_SHARE > MI_PUSH_RESERVE_MIN
                  ? threads / MI_PUSH_RESERVE_SHARE : MI_PUSH_RESERVE_MIN;

    return threads > reserve ? threads - reserve : 0;
}

static void fit_threads(server_rec *s, mi_ap_srv_conf_t *c, int waiters_set)
{
    int threaded = AP_MPMQ_NOT_SUPPORTED, threads = 1, room;
    /* the first of the two start-up passes is a dry run: say things once */
    int say = ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG;

    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS
        || threaded == AP_MPMQ_NOT_SUPPORTED
        || ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1) {
        threads = 1;          /* prefork: a held connect would take the whole process */
    }
    room = mi_ap_config_push_room(threads);
    if (c->push_max_waiters > room) {
        if (say && waiters_set) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00410)
                         "%s %d exceeds what a child can hold: it has %d "
                         "threads (ThreadsPerChild) and keeps %d for other requests, so at "
                         "most %d connects are held per child", D(push_max_waiters),
                         c->push_max_waiters, threads, threads - room, room);
        }
        else if (say) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, MI_LOGNO(00411)
                         "at most %d push connects are held per child (%d threads, %d kept "
                         "for other requests)", room, threads, threads - room);
        }
        c->push_max_waiters = room;
    }
    if (say && c->push_held_per_user > 0 && c->push_max_waiters > 0
        && c->push_held_per_user > c->push_max_waiters / 2) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00412)
                     "%s %d lets one user take more than half of the %d connects a child "
                     "holds", D(push_held_per_user), c->push_held_per_user, c->push_max_waiters);
    }
}

void mi_ap_config_finalize(server_rec *s)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(s->module_config, &interactions_module);
    /* asked before the default fills it in: only an explicit setting is warned about */
    int waiters_set = c->push_max_waiters != MI_AP_UNSET;

    MI_DIRECTIVES(MI_ROW_APPLY_SRV)
    fit_threads(s, c, waiters_set);
}

void mi_ap_config_database(const mi_ap_dir_conf_t *dc, mi_ap_dir_conf_t *out)
{
    mi_ap_dir_conf_t *c = out;

    *out = *dc;
    MI_DIRECTIVES(MI_ROW_APPLY_DB)
    if (c->pool_keep > c->pool_max) c->pool_keep = c->pool_max;
    if (c->pool_min > c->pool_keep) c->pool_min = c->pool_keep;
}

const char *mi_ap_config_read_password(server_rec *s, apr_pool_t *pconf)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(s->module_config, &interactions_module);
    const char *secret = NULL, *err = NULL;
    /* the file belongs to the user httpd starts as (root), not to the user it serves as */
    apr_uid_t uid = (apr_uid_t)geteuid();

    c->db_password = NULL;
    if (c->password_file == NULL) {
        return NULL;
    }
    /* pconf: the children inherit the password in memory; a restart clears (and wipes) it
     * and reads the file again */
    if (mi_secret_read_file(&secret, &err, c->password_file, uid, pconf) != APR_SUCCESS) {
        return apr_psprintf(pconf, "%s %s: %s", D(password_file), c->password_file, err);
    }
    c->db_password = secret;
    return NULL;
}

const mi_ap_srv_conf_t *mi_ap_config_srv(void)
{
    /* server-wide settings are GLOBAL_ONLY, so the main server's are the only ones */
    return ap_get_module_config(ap_server_conf->module_config, &interactions_module);
}

const mi_ap_dir_conf_t *mi_ap_config_dir(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &interactions_module);
}

void mi_ap_config_limits(const mi_ap_dir_conf_t *dc, mi_limits_t *lim)
{
    mi_ap_dir_conf_t v = *dc, *c = &v;

    MI_DIRECTIVES(MI_ROW_APPLY_DIR)
    lim->max_body = (apr_size_t)c->max_body;
    lim->max_depth = c->max_depth;
    lim->max_string = (apr_size_t)c->max_string;
    lim->max_user_data = (apr_size_t)c->max_user_data;
    lim->max_page = c->max_page;
    lim->default_page = c->default_page > c->max_page ? c->max_page : c->default_page;
    lim->max_page_bytes = (apr_size_t)c->max_page_bytes;
    lim->max_channels = c->max_channels;
}

/* ------------------------------------------------------------------ setters */

/* Numeric server-wide directives share one setter; cmd->info is the field's offset. */
static const char *set_srv_int(cmd_parms *cmd, void *dummy, const char *arg)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &interactions_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    long v;

    (void)dummy;
    if (err != NULL) {
        return err;
    }
    v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 0 || v > 100000000L) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a non-negative integer",
                            cmd->directive->directive, arg);
    }
    *(int *)((char *)c + (apr_size_t)cmd->info) = (int)v;
    return NULL;
}

static const char *set_srv_flag(cmd_parms *cmd, void *dummy, int flag)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &interactions_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dummy;
    if (err != NULL) {
        return err;
    }
    *(int *)((char *)c + (apr_size_t)cmd->info) = flag ? 1 : 0;
    return NULL;
}

/* A database's numbers (scope DB): per location like DIR, the range of SRV (0 is meaningful:
 * no connection opened at start, no idle one kept). */
static const char *set_db_int(cmd_parms *cmd, void *dcv, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 0 || v > 100000000L) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a non-negative integer",
                            cmd->directive->directive, arg);
    }
    *(int *)((char *)dcv + (apr_size_t)cmd->info) = (int)v;
    return NULL;
}

static const char *set_database(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;

    /* an empty string would mean libpq's defaults, a database nobody named: say so instead */
    if (*arg == '\0') {
        return apr_psprintf(cmd->pool, "%s: the connection string is empty",
                            cmd->directive->directive);
    }
    dc->conninfo = arg;
    return NULL;
}

static const char *set_password_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &interactions_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dummy;
    if (err != NULL) {
        return err;
    }
    c->password_file = ap_server_root_relative(cmd->pool, arg);
    if (c->password_file == NULL) {
        return apr_pstrcat(cmd->pool, cmd->directive->directive, ": invalid path ", arg,
                           NULL);
    }
    return NULL;
}

static const char *set_contact_center(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;
    const char *s;

    for (s = arg; *s != '\0'; s++) {
        if (!apr_isalnum(*s) && *s != '_' && *s != '-') {
            return apr_psprintf(cmd->pool, "%s: the name may hold letters, digits, '_' and '-' "
                                "only", cmd->directive->directive);
        }
    }
    if (s == arg || s - arg > 64) {
        return apr_psprintf(cmd->pool, "%s: the name must have 1 to 64 characters",
                            cmd->directive->directive);
    }
    dc->contact_center = arg;
    return NULL;
}

static const char *set_base_path(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;
    apr_size_t n = strlen(arg);

    if (arg[0] != '/') {
        return apr_psprintf(cmd->pool, "%s: the path must start with '/'",
                            cmd->directive->directive);
    }
    while (n > 1 && arg[n - 1] == '/') n--;
    dc->base = (n == 1) ? "" : apr_pstrmemdup(cmd->pool, arg, n);
    return NULL;
}

static const char *add_allow_origin(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;

    if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0) {
        return apr_psprintf(cmd->pool, "%s: an origin looks like https://host[:port]",
                            cmd->directive->directive);
    }
    if (dc->allow_origins == NULL) {
        dc->allow_origins = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(dc->allow_origins, const char *) = arg;
    return NULL;
}

static const char *set_public_origin(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;
    apr_size_t n = strlen(arg);

    while (n > 0 && arg[n - 1] == '/') n--;
    dc->public_origin = apr_pstrmemdup(cmd->pool, arg, n);
    if (!mi_render_origin_valid(dc->public_origin)) {
        return apr_psprintf(cmd->pool, "%s: an origin looks like https://host[:port] (no path)",
                            cmd->directive->directive);
    }
    return NULL;
}

static const char *add_trusted_proxy(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;
    char *ip = apr_pstrdup(cmd->pool, arg), *mask = strchr(ip, '/');
    apr_ipsubnet_t *sub;

    if (mask != NULL) {
        *mask++ = '\0';
    }
    if (apr_ipsubnet_create(&sub, ip, mask, cmd->pool) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an address or address/bits",
                            cmd->directive->directive, arg);
    }
    if (dc->trusted_proxies == NULL) {
        dc->trusted_proxies = apr_array_make(cmd->pool, 2, sizeof(apr_ipsubnet_t *));
    }
    APR_ARRAY_PUSH(dc->trusted_proxies, apr_ipsubnet_t *) = sub;
    return NULL;
}

/* One entry of the webhook allowlist, checked by the parser the worker uses. */
static const char *add_webhook_allow(cmd_parms *cmd, void *dummy, const char *arg)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &interactions_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dummy;
    if (err != NULL) {
        return err;
    }
    err = mi_webhook_allow_add(mi_webhook_allow_create(cmd->temp_pool), arg);
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    if (c->webhook_allow == NULL) {
        c->webhook_allow = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->webhook_allow, const char *) = arg;
    return NULL;
}

static const char *set_dir_long(cmd_parms *cmd, void *dcv, const char *arg)
{
    char *end;
    long long v = strtoll(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 1 || v > 1073741824LL) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a positive integer up to 1073741824",
                            cmd->directive->directive, arg);
    }
    *(long long *)((char *)dcv + (apr_size_t)cmd->info) = v;
    return NULL;
}

static const char *set_dir_int(cmd_parms *cmd, void *dcv, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 1 || v > 1000000L) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a positive integer up to 1000000",
                            cmd->directive->directive, arg);
    }
    *(int *)((char *)dcv + (apr_size_t)cmd->info) = (int)v;
    return NULL;
}

const command_rec mi_ap_config_cmds[] = {
    MI_DIRECTIVES(MI_ROW_CMD)
    { NULL }
};
