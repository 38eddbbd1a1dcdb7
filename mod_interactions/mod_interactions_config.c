/* mod_interactions_config.c — see mod_interactions_config.h
 *
 * Directive names are macros so a misspelling is a compile error, and the same names
 * appear in messages.  scripts/check-directives keeps this table, the sample
 * configuration and docs/configuration.md in step.
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
#include "mod_interactions.h"
#include "mod_interactions_config.h"

#define D_DATABASE            "InteractionsDatabase"
#define D_POOL_MIN            "InteractionsPoolMin"
#define D_POOL_KEEP           "InteractionsPoolKeep"
#define D_POOL_MAX            "InteractionsPoolMax"
#define D_POOL_TTL            "InteractionsPoolTTL"
#define D_ACQUIRE_TIMEOUT     "InteractionsPoolAcquireTimeout"
#define D_CONNECT_TIMEOUT     "InteractionsDBConnectTimeout"
#define D_STATEMENT_TIMEOUT   "InteractionsStatementTimeout"
#define D_RETRY_AFTER         "InteractionsRetryAfter"
#define D_TICK                "InteractionsMaintenanceInterval"
#define D_PUSH_TIMEOUT        "InteractionsPushTimeout"
#define D_PUSH_MAX_INTERVAL   "InteractionsPushMaxInterval"
#define D_PUSH_MAX_WAITERS    "InteractionsPushMaxWaiters"
#define D_PUSH_PER_BROWSER    "InteractionsPushSessionsPerBrowser"
#define D_PUSH_JSONP          "InteractionsPushJSONP"
#define D_PUSH_HELD_USER      "InteractionsPushHeldPerUser"
#define D_PUSH_HELD_CC        "InteractionsPushHeldPerContactCenter"
#define D_PUSH_SESSIONS_USER  "InteractionsPushSessionsPerUser"
#define D_PUSH_SESSIONS_CC    "InteractionsPushSessionsPerContactCenter"
#define D_PUSH_HANDSHAKES     "InteractionsPushHandshakesPerMinute"
#define D_CONTACT_CENTER      "InteractionsContactCenter"
#define D_BASE_PATH           "InteractionsBasePath"
#define D_ALLOW_ORIGIN        "InteractionsAllowOrigin"
#define D_MAX_BODY            "InteractionsMaxBodySize"
#define D_MAX_DEPTH           "InteractionsMaxJSONDepth"
#define D_MAX_STRING          "InteractionsMaxStringLength"
#define D_MAX_USER_DATA       "InteractionsMaxUserDataSize"
#define D_MAX_PAGE            "InteractionsMaxPageSize"
#define D_DEFAULT_PAGE        "InteractionsDefaultPageSize"
#define D_MAX_PAGE_BYTES      "InteractionsMaxPageBytes"
#define D_AUTHN_CACHE_ENTRIES "InteractionsAuthnCacheEntries"
#define D_AUTHN_CACHE_RECHECK "InteractionsAuthnCacheRecheck"
#define D_AUTHN_FAIL_ENTRIES  "InteractionsAuthnFailureEntries"
#define D_AUTHN_FAIL_WINDOW   "InteractionsAuthnFailureWindow"
#define D_AUTHN_MAX_USER_ADDR "InteractionsAuthnMaxFailuresUserAddress"
#define D_AUTHN_MAX_USER      "InteractionsAuthnMaxFailuresUser"
#define D_AUTHN_MAX_ADDR      "InteractionsAuthnMaxFailuresAddress"
#define D_PASSWORD_FILE       "InteractionsDatabasePasswordFile"
#define D_PUSH_CACHE_ROWS     "InteractionsPushCacheRows"
#define D_PUSH_CACHE_SIZE     "InteractionsPushCacheSize"
#define D_PUBLIC_ORIGIN       "InteractionsPublicOrigin"
#define D_TRUSTED_PROXY       "InteractionsTrustedProxy"

/* Designated initializers: scripts/check-directives reads the defaults from here by name. */
static const mi_ap_srv_conf_t srv_defaults = {
    .conninfo = NULL,                 /* libpq defaults (PG* environment, local socket) */
    .pool_min = 1,                    /* opened at child start when the database answers */
    .pool_keep = 4,                   /* idle connections kept */
    .pool_max = 16,                   /* per child process */
    .pool_ttl_s = 60,
    .acquire_timeout_ms = 2000,       /* then 503 */
    .connect_timeout_s = 3,
    .statement_timeout_ms = 5000,
    .retry_after_s = 2,
    .tick_ms = 500,
    .push_timeout_ms = 25000,         /* below every common proxy's 30-60 s idle timeout */
    .push_max_interval_ms = 10000,    /* CometD's default maxInterval */
    .push_max_waiters = 200,          /* held polls per child; lowered to what its threads allow */
    .push_sessions_per_browser = 1,   /* held polls per browser (HTTP/1.1 has ~6 sockets) */
    .push_jsonp = 1,
    .authn_cache_entries = 65536,     /* users verified, all contact centers together */
    .authn_cache_recheck_s = 5,       /* a password change takes effect within this */
    .authn_failure_entries = 65536,   /* per user, per address, per (user, address) */
    .authn_failure_window_s = 300,
    .authn_max_failures_user_address = 10,
    .authn_max_failures_user = 100,
    .authn_max_failures_address = 1000,
    .password_file = NULL,            /* the password, if any, is in the conninfo or libpq's */
    .db_password = NULL,
    .push_cache_rows = 4096,          /* /v2/interactions rows rendered once per child */
    .push_cache_bytes = 16777216,     /* 16 MiB per child, whatever clients send */
    .push_held_per_user = 4,          /* a desktop holds one per browser; a few browsers or devices */
    .push_held_per_cc = 0,            /* a server of one contact center gives it all its room */
    .push_sessions_per_user = 16,     /* tabs, and reloads whose old sessions are still expiring */
    .push_sessions_per_cc = 0,        /* bounded by its users times their share */
    .push_handshakes_per_minute = 30, /* a desktop handshakes once per page load or restart */
};

static const mi_ap_dir_conf_t dir_defaults = {
    .contact_center = NULL,
    .base = NULL,
    .allow_origins = NULL,
    .max_body = MI_DEFAULT_MAX_BODY,
    .max_depth = MI_DEFAULT_MAX_DEPTH,
    .max_string = MI_DEFAULT_MAX_STRING,
    .max_user_data = MI_DEFAULT_MAX_USER_DATA,
    .max_page = MI_DEFAULT_MAX_PAGE,
    .default_page = MI_DEFAULT_PAGE,
    .max_page_bytes = MI_DEFAULT_MAX_PAGE_BYTES,
    .public_origin = NULL,            /* the server's own name (ServerName), never the Host header */
    .trusted_proxies = NULL,          /* X-Forwarded-* ignored */
};

#define PICK(add, base, f) ((add)->f != MI_AP_UNSET ? (add)->f : (base)->f)
#define PICKP(add, base, f) ((add)->f != NULL ? (add)->f : (base)->f)
#define DEF(c, d, f) ((c)->f != MI_AP_UNSET ? (c)->f : (d).f)

void *mi_ap_config_create_srv(apr_pool_t *p, server_rec *s)
{
    mi_ap_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->conninfo = NULL;
    c->pool_min = c->pool_keep = c->pool_max = c->pool_ttl_s = MI_AP_UNSET;
    c->acquire_timeout_ms = c->connect_timeout_s = c->statement_timeout_ms = MI_AP_UNSET;
    c->retry_after_s = c->tick_ms = MI_AP_UNSET;
    c->push_timeout_ms = c->push_max_interval_ms = c->push_max_waiters = MI_AP_UNSET;
    c->push_sessions_per_browser = c->push_jsonp = MI_AP_UNSET;
    c->authn_cache_entries = c->authn_cache_recheck_s = MI_AP_UNSET;
    c->authn_failure_entries = c->authn_failure_window_s = MI_AP_UNSET;
    c->authn_max_failures_user_address = c->authn_max_failures_user = MI_AP_UNSET;
    c->authn_max_failures_address = MI_AP_UNSET;
    c->password_file = NULL;
    c->db_password = NULL;
    c->push_cache_rows = c->push_cache_bytes = MI_AP_UNSET;
    c->push_held_per_user = c->push_held_per_cc = MI_AP_UNSET;
    c->push_sessions_per_user = c->push_sessions_per_cc = MI_AP_UNSET;
    c->push_handshakes_per_minute = MI_AP_UNSET;
    return c;
}

void *mi_ap_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    mi_ap_srv_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->conninfo = PICKP(add, base, conninfo);
    c->pool_min = PICK(add, base, pool_min);
    c->pool_keep = PICK(add, base, pool_keep);
    c->pool_max = PICK(add, base, pool_max);
    c->pool_ttl_s = PICK(add, base, pool_ttl_s);
    c->acquire_timeout_ms = PICK(add, base, acquire_timeout_ms);
    c->connect_timeout_s = PICK(add, base, connect_timeout_s);
    c->statement_timeout_ms = PICK(add, base, statement_timeout_ms);
    c->retry_after_s = PICK(add, base, retry_after_s);
    c->tick_ms = PICK(add, base, tick_ms);
    c->push_timeout_ms = PICK(add, base, push_timeout_ms);
    c->push_max_interval_ms = PICK(add, base, push_max_interval_ms);
    c->push_max_waiters = PICK(add, base, push_max_waiters);
    c->push_sessions_per_browser = PICK(add, base, push_sessions_per_browser);
    c->push_jsonp = PICK(add, base, push_jsonp);
    c->authn_cache_entries = PICK(add, base, authn_cache_entries);
    c->authn_cache_recheck_s = PICK(add, base, authn_cache_recheck_s);
    c->authn_failure_entries = PICK(add, base, authn_failure_entries);
    c->authn_failure_window_s = PICK(add, base, authn_failure_window_s);
    c->authn_max_failures_user_address = PICK(add, base, authn_max_failures_user_address);
    c->authn_max_failures_user = PICK(add, base, authn_max_failures_user);
    c->authn_max_failures_address = PICK(add, base, authn_max_failures_address);
    c->password_file = PICKP(add, base, password_file);
    c->db_password = PICKP(add, base, db_password);
    c->push_cache_rows = PICK(add, base, push_cache_rows);
    c->push_cache_bytes = PICK(add, base, push_cache_bytes);
    c->push_held_per_user = PICK(add, base, push_held_per_user);
    c->push_held_per_cc = PICK(add, base, push_held_per_cc);
    c->push_sessions_per_user = PICK(add, base, push_sessions_per_user);
    c->push_sessions_per_cc = PICK(add, base, push_sessions_per_cc);
    c->push_handshakes_per_minute = PICK(add, base, push_handshakes_per_minute);
    return c;
}

void *mi_ap_config_create_dir(apr_pool_t *p, char *dir)
{
    mi_ap_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->contact_center = NULL;
    /* A <Location /api/v2> holding one of our directives passes its path (strip a trailing
     * slash so "/api/v2/" works too); without one, the handler finds the base itself. */
    if (dir != NULL && dir[0] == '/') {
        apr_size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        c->base = (n == 1) ? "" : apr_pstrmemdup(p, dir, n);
    }
    c->allow_origins = NULL;
    c->max_body = c->max_user_data = c->max_page_bytes = MI_AP_UNSET;
    c->max_depth = c->max_string = c->max_page = c->default_page = MI_AP_UNSET;
    c->public_origin = NULL;
    c->trusted_proxies = NULL;
    return c;
}

void *mi_ap_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    mi_ap_dir_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->contact_center = PICKP(add, base, contact_center);
    c->base = PICKP(add, base, base);
    c->allow_origins = PICKP(add, base, allow_origins);
    c->max_body = PICK(add, base, max_body);
    c->max_depth = PICK(add, base, max_depth);
    c->max_string = PICK(add, base, max_string);
    c->max_user_data = PICK(add, base, max_user_data);
    c->max_page = PICK(add, base, max_page);
    c->default_page = PICK(add, base, default_page);
    c->max_page_bytes = PICK(add, base, max_page_bytes);
    c->public_origin = PICKP(add, base, public_origin);
    c->trusted_proxies = PICKP(add, base, trusted_proxies);
    return c;
}

/* A held /meta/connect blocks a worker thread for its whole hold (docs/push.md), and a child
 * whose threads are all busy stops accepting connections: requests of everybody else wait.
 * So a child holds at most its threads less a reserve for other requests, whatever
 * InteractionsPushMaxWaiters says; an explicit setting beyond that is a configuration
 * mistake and said so at start. */
#define RESERVE_MIN 8          /* threads a child keeps for requests that are not held */
#define RESERVE_SHARE 32       /* ... or 1/32 of them, when more */

int mi_ap_config_push_room(int threads)
{
    int reserve = threads / RESERVE_SHARE > RESERVE_MIN ? threads / RESERVE_SHARE : RESERVE_MIN;

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
                         D_PUSH_MAX_WAITERS " %d exceeds what a child can hold: it has %d "
                         "threads (ThreadsPerChild) and keeps %d for other requests, so at "
                         "most %d connects are held per child", c->push_max_waiters, threads,
                         threads - room, room);
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
                     D_PUSH_HELD_USER " %d lets one user take more than half of the %d "
                     "connects a child holds", c->push_held_per_user, c->push_max_waiters);
    }
}

void mi_ap_config_finalize(server_rec *s)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(s->module_config, &interactions_module);
    int waiters_set;

    c->pool_min = DEF(c, srv_defaults, pool_min);
    c->pool_keep = DEF(c, srv_defaults, pool_keep);
    c->pool_max = DEF(c, srv_defaults, pool_max);
    if (c->pool_max < 1) c->pool_max = 1;
    if (c->pool_keep > c->pool_max) c->pool_keep = c->pool_max;
    if (c->pool_min > c->pool_keep) c->pool_min = c->pool_keep;
    c->pool_ttl_s = DEF(c, srv_defaults, pool_ttl_s);
    c->acquire_timeout_ms = DEF(c, srv_defaults, acquire_timeout_ms);
    c->connect_timeout_s = DEF(c, srv_defaults, connect_timeout_s);
    c->statement_timeout_ms = DEF(c, srv_defaults, statement_timeout_ms);
    c->retry_after_s = DEF(c, srv_defaults, retry_after_s);
    c->tick_ms = DEF(c, srv_defaults, tick_ms);
    if (c->tick_ms < 10) c->tick_ms = 10;
    c->push_timeout_ms = DEF(c, srv_defaults, push_timeout_ms);
    c->push_max_interval_ms = DEF(c, srv_defaults, push_max_interval_ms);
    waiters_set = c->push_max_waiters != MI_AP_UNSET;
    c->push_max_waiters = DEF(c, srv_defaults, push_max_waiters);
    c->push_sessions_per_browser = DEF(c, srv_defaults, push_sessions_per_browser);
    c->push_jsonp = DEF(c, srv_defaults, push_jsonp);
    c->authn_cache_entries = DEF(c, srv_defaults, authn_cache_entries);
    c->authn_cache_recheck_s = DEF(c, srv_defaults, authn_cache_recheck_s);
    c->authn_failure_entries = DEF(c, srv_defaults, authn_failure_entries);
    c->authn_failure_window_s = DEF(c, srv_defaults, authn_failure_window_s);
    if (c->authn_failure_window_s < 1) c->authn_failure_window_s = 1;
    c->authn_max_failures_user_address = DEF(c, srv_defaults, authn_max_failures_user_address);
    c->authn_max_failures_user = DEF(c, srv_defaults, authn_max_failures_user);
    c->authn_max_failures_address = DEF(c, srv_defaults, authn_max_failures_address);
    c->push_cache_rows = DEF(c, srv_defaults, push_cache_rows);
    if (c->push_cache_rows < 1) c->push_cache_rows = 1;
    c->push_cache_bytes = DEF(c, srv_defaults, push_cache_bytes);
    c->push_held_per_user = DEF(c, srv_defaults, push_held_per_user);
    c->push_held_per_cc = DEF(c, srv_defaults, push_held_per_cc);
    c->push_sessions_per_user = DEF(c, srv_defaults, push_sessions_per_user);
    c->push_sessions_per_cc = DEF(c, srv_defaults, push_sessions_per_cc);
    c->push_handshakes_per_minute = DEF(c, srv_defaults, push_handshakes_per_minute);
    fit_threads(s, c, waiters_set);
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
        return apr_psprintf(pconf, D_PASSWORD_FILE " %s: %s", c->password_file, err);
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
    lim->max_body = (apr_size_t)DEF(dc, dir_defaults, max_body);
    lim->max_depth = DEF(dc, dir_defaults, max_depth);
    lim->max_string = (apr_size_t)DEF(dc, dir_defaults, max_string);
    lim->max_user_data = (apr_size_t)DEF(dc, dir_defaults, max_user_data);
    lim->max_page = DEF(dc, dir_defaults, max_page);
    lim->default_page = DEF(dc, dir_defaults, default_page);
    if (lim->default_page > lim->max_page) {
        lim->default_page = lim->max_page;
    }
    lim->max_page_bytes = (apr_size_t)DEF(dc, dir_defaults, max_page_bytes);
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

static const char *set_database(cmd_parms *cmd, void *dummy, const char *arg)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &interactions_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dummy;
    if (err != NULL) {
        return err;
    }
    c->conninfo = arg;
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
        return apr_pstrcat(cmd->pool, D_PASSWORD_FILE ": invalid path ", arg, NULL);
    }
    return NULL;
}

static const char *set_jsonp(cmd_parms *cmd, void *dummy, int flag)
{
    mi_ap_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &interactions_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dummy;
    if (err != NULL) {
        return err;
    }
    c->push_jsonp = flag ? 1 : 0;
    return NULL;
}

static const char *set_contact_center(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;
    const char *s;

    for (s = arg; *s != '\0'; s++) {
        if (!apr_isalnum(*s) && *s != '_' && *s != '-') {
            return D_CONTACT_CENTER ": the name may hold letters, digits, '_' and '-' only";
        }
    }
    if (s == arg || s - arg > 64) {
        return D_CONTACT_CENTER ": the name must have 1 to 64 characters";
    }
    dc->contact_center = arg;
    (void)cmd;
    return NULL;
}

static const char *set_base_path(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;
    apr_size_t n = strlen(arg);

    if (arg[0] != '/') {
        return D_BASE_PATH ": the path must start with '/'";
    }
    while (n > 1 && arg[n - 1] == '/') n--;
    dc->base = (n == 1) ? "" : apr_pstrmemdup(cmd->pool, arg, n);
    return NULL;
}

static const char *add_allow_origin(cmd_parms *cmd, void *dcv, const char *arg)
{
    mi_ap_dir_conf_t *dc = dcv;

    if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0) {
        return D_ALLOW_ORIGIN ": an origin looks like https://host[:port]";
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
        return D_PUBLIC_ORIGIN ": an origin looks like https://host[:port] (no path)";
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
        return apr_psprintf(cmd->pool, D_TRUSTED_PROXY ": '%s' is not an address or "
                            "address/bits", arg);
    }
    if (dc->trusted_proxies == NULL) {
        dc->trusted_proxies = apr_array_make(cmd->pool, 2, sizeof(apr_ipsubnet_t *));
    }
    APR_ARRAY_PUSH(dc->trusted_proxies, apr_ipsubnet_t *) = sub;
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

#define SRV_INT(name, field, help) \
    AP_INIT_TAKE1(name, set_srv_int, (void *)APR_OFFSETOF(mi_ap_srv_conf_t, field), RSRC_CONF, help)
#define DIR_INT(name, field, help) \
    AP_INIT_TAKE1(name, set_dir_int, (void *)APR_OFFSETOF(mi_ap_dir_conf_t, field), \
                  RSRC_CONF | ACCESS_CONF, help)
#define DIR_LONG(name, field, help) \
    AP_INIT_TAKE1(name, set_dir_long, (void *)APR_OFFSETOF(mi_ap_dir_conf_t, field), \
                  RSRC_CONF | ACCESS_CONF, help)

const command_rec mi_ap_config_cmds[] = {
    AP_INIT_TAKE1(D_DATABASE, set_database, NULL, RSRC_CONF,
                  "libpq connection string of the interactions database (global)"),
    AP_INIT_TAKE1(D_PASSWORD_FILE, set_password_file, NULL, RSRC_CONF,
                  "file holding the database password, readable by the user httpd starts as "
                  "only; read at start, it overrides a password in the connection string (global)"),
    SRV_INT(D_POOL_MIN, pool_min, "connections each child opens at start (default 1)"),
    SRV_INT(D_POOL_KEEP, pool_keep, "idle connections each child keeps (default 4)"),
    SRV_INT(D_POOL_MAX, pool_max, "most connections per child process (default 16)"),
    SRV_INT(D_POOL_TTL, pool_ttl_s, "seconds an idle connection above the kept ones lives (default 60)"),
    SRV_INT(D_ACQUIRE_TIMEOUT, acquire_timeout_ms,
            "milliseconds a request waits for a free connection before 503 (default 2000)"),
    SRV_INT(D_CONNECT_TIMEOUT, connect_timeout_s,
            "seconds to wait for a new database connection (default 3)"),
    SRV_INT(D_STATEMENT_TIMEOUT, statement_timeout_ms,
            "statement_timeout of API calls in milliseconds, 0 for the server's (default 5000)"),
    SRV_INT(D_RETRY_AFTER, retry_after_s,
            "Retry-After seconds sent with 503 when the database is unavailable (default 2)"),
    SRV_INT(D_TICK, tick_ms,
            "milliseconds between maintenance runs: offer timeouts, stuck routing, expired push "
            "sessions (default 500)"),
    SRV_INT(D_PUSH_TIMEOUT, push_timeout_ms,
            "milliseconds a CometD /meta/connect is held when there is nothing to deliver (default 25000)"),
    SRV_INT(D_PUSH_MAX_INTERVAL, push_max_interval_ms,
            "milliseconds after a connect reply before a silent CometD session expires (default 10000)"),
    SRV_INT(D_PUSH_MAX_WAITERS, push_max_waiters,
            "most held /meta/connect requests per child process, at most its threads less a "
            "reserve; beyond it clients are told to poll again later (default 200)"),
    SRV_INT(D_PUSH_PER_BROWSER, push_sessions_per_browser,
            "held /meta/connect requests per browser (BAYEUX_BROWSER cookie); 0 for no limit (default 1)"),
    SRV_INT(D_PUSH_HELD_USER, push_held_per_user,
            "held /meta/connect requests of one user per child process; beyond it the user is "
            "told to poll; 0 for no limit (default 4)"),
    SRV_INT(D_PUSH_HELD_CC, push_held_per_cc,
            "held /meta/connect requests of one contact center per child process; 0 for no "
            "limit (default 0)"),
    SRV_INT(D_PUSH_SESSIONS_USER, push_sessions_per_user,
            "live CometD sessions of one user; further handshakes are refused until one ends; "
            "0 for no limit (default 16)"),
    SRV_INT(D_PUSH_SESSIONS_CC, push_sessions_per_cc,
            "live CometD sessions of one contact center; 0 for no limit (default 0)"),
    SRV_INT(D_PUSH_HANDSHAKES, push_handshakes_per_minute,
            "CometD handshakes of one user per minute (as many at once); 0 for no limit (default 30)"),
    AP_INIT_FLAG(D_PUSH_JSONP, set_jsonp, NULL, RSRC_CONF,
                 "allow the callback-polling (JSONP) transport (default On)"),
    SRV_INT(D_AUTHN_CACHE_ENTRIES, authn_cache_entries,
            "users whose verified password the authn provider remembers, all contact centers "
            "together; 0 for none (default 65536)"),
    SRV_INT(D_AUTHN_CACHE_RECHECK, authn_cache_recheck_s,
            "seconds a remembered password is trusted before the user's credential version is "
            "checked again (default 5)"),
    SRV_INT(D_AUTHN_FAIL_ENTRIES, authn_failure_entries,
            "failed-login records kept (per user, per address, per user and address) "
            "(default 65536)"),
    SRV_INT(D_AUTHN_FAIL_WINDOW, authn_failure_window_s,
            "seconds over which failed logins are counted, and how long a lock lasts (default 300)"),
    SRV_INT(D_AUTHN_MAX_USER_ADDR, authn_max_failures_user_address,
            "failed logins of one user from one address before that pair is locked; 0 for no "
            "limit (default 10)"),
    SRV_INT(D_AUTHN_MAX_USER, authn_max_failures_user,
            "failed logins of one user before the user is locked except where they logged in "
            "before; 0 for no limit (default 100)"),
    SRV_INT(D_AUTHN_MAX_ADDR, authn_max_failures_address,
            "failed logins from one address before it is locked except for users who logged in "
            "there before; 0 for no limit (default 1000)"),
    AP_INIT_TAKE1(D_CONTACT_CENTER, set_contact_center, NULL, RSRC_CONF | ACCESS_CONF,
                  "the contact center served by this location or virtual host"),
    AP_INIT_TAKE1(D_BASE_PATH, set_base_path, NULL, RSRC_CONF | ACCESS_CONF,
                  "the API base path when it is not the <Location> path (e.g. in a <VirtualHost>)"),
    AP_INIT_ITERATE(D_ALLOW_ORIGIN, add_allow_origin, NULL, RSRC_CONF | ACCESS_CONF,
                    "origins (https://host[:port]) whose pages may use the push channel "
                    "cross-site (JSONP, CORS)"),
    DIR_LONG(D_MAX_BODY, max_body, "largest request body in bytes (default 65536)"),
    DIR_INT(D_MAX_DEPTH, max_depth, "deepest JSON nesting accepted (default 32)"),
    DIR_INT(D_MAX_STRING, max_string,
            "longest string field in characters: subject, addresses, names (default 1024)"),
    DIR_LONG(D_MAX_USER_DATA, max_user_data,
             "largest serialized user data of one interaction in bytes (default 32768)"),
    DIR_INT(D_MAX_PAGE, max_page, "largest 'limit' of a collection request (default 500)"),
    DIR_INT(D_DEFAULT_PAGE, default_page, "'limit' of a collection request without one (default 100)"),
    DIR_LONG(D_MAX_PAGE_BYTES, max_page_bytes,
             "bytes of interactions in one collection page; a page stops early and says where to "
             "continue (default 1048576)"),
    SRV_INT(D_PUSH_CACHE_ROWS, push_cache_rows,
            "/v2/interactions changes kept rendered per child process (default 4096)"),
    SRV_INT(D_PUSH_CACHE_SIZE, push_cache_bytes,
            "bytes those rendered changes may take per child process (default 16777216)"),
    AP_INIT_TAKE1(D_PUBLIC_ORIGIN, set_public_origin, NULL, RSRC_CONF | ACCESS_CONF,
                  "scheme://host[:port] that interaction uris start with (default: the server's "
                  "ServerName, never the request's Host header)"),
    AP_INIT_ITERATE(D_TRUSTED_PROXY, add_trusted_proxy, NULL, RSRC_CONF | ACCESS_CONF,
                    "addresses (a.b.c.d[/bits]) of proxies whose X-Forwarded-Host and "
                    "X-Forwarded-Proto name the origin of interaction uris"),
    { NULL }
};
