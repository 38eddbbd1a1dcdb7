/* mod_interactions.c — the module record and its hooks.
 *
 * How the module comes up:
 *  0. check_config (in the parent, as root): the database password file, if one is named,
 *     is read into the configuration pool; the children inherit the password in memory.
 *  1. post_config (twice at start-up, once per restart): settings get their defaults and the
 *     core's log printer is installed.  No database work happens here; the first run is a
 *     dry run and the parent process never serves requests.
 *  2. child_init (every child process): for each database of the configuration
 *     (mod_interactions_db.h) a connection pool, the push channel and the maintenance thread
 *     are created.  None needs its database to be up: requests of its contact centers answer
 *     503 until it is, those of the other databases are not affected.
 *  3. Requests: the REST/push handler (mod_interactions_rest.c, _push.c), the authn provider
 *     (_authn.c), and the error filter that turns httpd's own error pages into the JSON
 *     envelope (_http.c).
 */
#define MI_AP_MODULE_MAIN
#include <httpd.h>
#include <http_main.h>
#include <http_protocol.h>
#include <mpm_common.h>

#include "mod_interactions.h"
#include "mod_interactions_authn.h"
#include "mod_interactions_config.h"
#include "mod_interactions_db.h"
#include "mod_interactions_http.h"
#include "mod_interactions_maint.h"
#include "mod_interactions_push.h"
#include "mod_interactions_rest.h"
#include "mod_interactions_status.h"
#include "mod_interactions_webhook.h"

mi_ap_process_t *mi_ap_proc;

/* ------------------------------------------------------------------ logging bridge */

static int log_is_level(void *baton, mi_log_level_e level)
{
    (void)baton;
    return APLOG_IS_LEVEL(ap_server_conf, (int)level);
}

static void log_print(void *baton, const char *file, int line, mi_log_level_e level,
                      apr_status_t rv, const char *msg)
{
    (void)baton;
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, rv, ap_server_conf, "%s", msg);
}

/* ------------------------------------------------------------------ lifecycle */

/* check_config runs in httpd's parent at every start and restart, as the user httpd starts
 * as (root) and before the logs open, so that a refusal reaches the terminal of whoever
 * started httpd (and "apache2ctl configtest" reports it too).  This is the one place where
 * the database password file is read: the children, forked later, inherit the password in
 * memory and run as a user that cannot read the file. */
static int mi_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    const char *err;

    (void)plog;
    (void)ptemp;
    err = mi_ap_config_read_password(s, pconf);
    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00010)
                     "%s; httpd does not start without the database password", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    err = mi_ap_db_configure(s, pconf);
    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00900)
                     "%s; httpd does not start with this configuration", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int mi_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                          server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    mi_ap_config_finalize(s);
    mi_log_set(log_is_level, log_print, NULL);
    mi_ap_status_post_config(pconf, s);
    return OK;
}

/* One database's pool, push channel and maintenance thread in this child; NULL when its
 * pool cannot be made (its contact centers then answer 503). */
static mi_ap_process_t *start_database(apr_pool_t *pchild, server_rec *s, const mi_ap_db_t *db)
{
    const mi_ap_srv_conf_t *sc = mi_ap_config_srv();
    const mi_ap_dir_conf_t *dc = &db->settings;
    mi_store_conf_t conf;
    mi_ap_process_t *proc;
    apr_status_t rv;

    proc = apr_pcalloc(pchild, sizeof(*proc));
    proc->pool = pchild;
    proc->db = db->index;
    proc->db_label = db->label;
    memset(&conf, 0, sizeof(conf));
    conf.pool.conninfo = db->conninfo;
    conf.pool.password = sc->db_password;
    conf.pool.min = dc->pool_min;
    conf.pool.keep = dc->pool_keep;
    conf.pool.max = dc->pool_max;
    conf.pool.ttl = apr_time_from_sec(dc->pool_ttl_s);
    conf.pool.acquire_timeout = apr_time_from_msec(dc->acquire_timeout_ms);
    conf.pool.down_backoff = apr_time_from_msec(1000);
    conf.pool.connect_timeout_s = dc->connect_timeout_s;
    conf.pool.application_name = "mod_interactions";
    conf.statement_timeout_ms = sc->statement_timeout_ms;
    rv = mi_store_create(&proc->store, &conf, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00001)
                     "creating the database pool of %s failed; its requests will get 503",
                     db->label);
        return NULL;
    }
    /* the push channel: waiters, the Bayeux server and the listener thread */
    mi_ap_push_child_init(pchild, s, proc);
    mi_ap_maint_start(proc, s, pchild);
    mi_ap_webhook_start(proc, s, pchild);
    return proc;
}

static void mi_child_init(apr_pool_t *pchild, server_rec *s)
{
    int i;

    mi_ap_status_child_init(pchild, s);
    for (i = 0; i < mi_ap_db_count(); i++) {
        mi_ap_db_set_proc(i, start_database(pchild, s, mi_ap_db_at(i)));
    }
    mi_ap_proc = mi_ap_db_proc_at(0);
}

/* Graceful stop (httpd 2.4.49+): let the background threads finish now rather than at the
 * end of their intervals. */
static void mi_child_stopping(apr_pool_t *pchild, int graceful)
{
    int i;

    (void)pchild;
    (void)graceful;
    for (i = 0; i < mi_ap_db_count(); i++) {
        if (mi_ap_db_proc_at(i) != NULL) {
            mi_ap_maint_wake_for_stop(mi_ap_db_proc_at(i));
            mi_ap_webhook_wake_for_stop(mi_ap_db_proc_at(i));
        }
    }
    /* held /meta/connect requests answer at once, graceful or not */
    mi_ap_push_child_stopping(pchild, graceful);
}

/* Before mod_log_config writes the access log: requests that never reached the handler
 * (refused by authentication, say) carry their JSONP query too. */
static int mi_log_transaction(request_rec *r)
{
    mi_ap_push_hide_query(r);
    return DECLINED;
}

/* ------------------------------------------------------------------ registration */

static void mi_register_hooks(apr_pool_t *p)
{
    /* the database password file, read by the parent before it drops privileges */
    ap_hook_check_config(mi_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* settings and logging; before modules that might log through us */
    ap_hook_post_config(mi_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* per child: the database pool and the maintenance thread */
    ap_hook_child_init(mi_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(mi_child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    /* the REST API and the push channel */
    ap_hook_handler(mi_ap_rest_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* JSON error envelopes for httpd's own errors inside our locations */
    mi_ap_http_register_hooks(p);
    /* no clientId in the access log */
    ap_hook_log_transaction(mi_log_transaction, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* AuthBasicProvider interactions */
    mi_ap_authn_register(p);
    /* server-status section and the Prometheus endpoint */
    mi_ap_status_register_hooks(p);
}

AP_DECLARE_MODULE(interactions) = {
    STANDARD20_MODULE_STUFF,
    mi_ap_config_create_dir,
    mi_ap_config_merge_dir,
    mi_ap_config_create_srv,
    mi_ap_config_merge_srv,
    mi_ap_config_cmds,
    mi_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
