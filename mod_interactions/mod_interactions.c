/* mod_interactions.c — the module record and its hooks.
 *
 * How the module comes up:
 *  1. post_config (twice at start-up, once per restart): settings get their defaults and the
 *     core's log printer is installed.  No database work happens here; the first run is a
 *     dry run and the parent process never serves requests.
 *  2. child_init (every child process): the connection pool is created.  It does not need
 *     the database to be up: requests answer 503 until it is.
 *  3. Requests: the REST/push handler, the authn provider, and the error filter that turns
 *     httpd's own error pages into the JSON envelope.
 */
#define MI_MODULE_MAIN
#include <httpd.h>
#include <http_main.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mpm_common.h>
#include <util_filter.h>

#include "mi_json.h"
#include "mod_interactions_config.h"
#include "mod_interactions_private.h"

mi_process_t *mi_proc;

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

static int mi_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                          server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    mi_srv_conf_finalize(s);
    mi_log_set(log_is_level, log_print, NULL);
    mi_status_post_config(pconf, s);
    return OK;
}

static void mi_child_init(apr_pool_t *pchild, server_rec *s)
{
    const mi_srv_conf_t *sc = mi_srv_conf();
    mi_store_conf_t conf;
    mi_process_t *proc;
    apr_status_t rv;

    mi_status_child_init(pchild, s);
    proc = apr_pcalloc(pchild, sizeof(*proc));
    proc->pool = pchild;
    memset(&conf, 0, sizeof(conf));
    conf.pool.conninfo = sc->conninfo;
    conf.pool.min = sc->pool_min;
    conf.pool.keep = sc->pool_keep;
    conf.pool.max = sc->pool_max;
    conf.pool.ttl = apr_time_from_sec(sc->pool_ttl_s);
    conf.pool.acquire_timeout = apr_time_from_msec(sc->acquire_timeout_ms);
    conf.pool.down_backoff = apr_time_from_msec(1000);
    conf.pool.connect_timeout_s = sc->connect_timeout_s;
    conf.pool.application_name = "mod_interactions";
    conf.statement_timeout_ms = sc->statement_timeout_ms;
    rv = mi_store_create(&proc->store, &conf, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00001)
                     "creating the database pool failed; requests will get 503");
        return;
    }
    /* the push channel: waiters, the Bayeux server and the listener thread */
    mi_push_child_init(pchild, s, proc);
    mi_proc = proc;
    mi_maint_start(proc, s, pchild);
}

/* Graceful stop (httpd 2.4.49+): let the background thread finish now rather than at the
 * end of its interval. */
static void mi_child_stopping(apr_pool_t *pchild, int graceful)
{
    (void)pchild;
    (void)graceful;
    if (mi_proc != NULL) {
        mi_maint_wake_for_stop(mi_proc);
    }
    /* held /meta/connect requests answer at once, graceful or not */
    mi_push_child_stopping(pchild, graceful);
}

/* ------------------------------------------------------------------ error pages */

void mi_insert_error_filter(request_rec *r)
{
    const mi_dir_conf_t *dc = mi_dir_conf(r);

    /* httpd refuses some requests before it has merged the <Location> sections: an encoded
     * slash or NUL in the path (AH00026), a malformed header.  Such a request still carries
     * the server's defaults, so it would get httpd's HTML page even inside an API location.
     * Walk the locations now (what httpd would have done next) so that it gets the envelope. */
    if ((dc == NULL || dc->contact_center == NULL)
        && r->per_dir_config == r->server->lookup_defaults
        && r->uri != NULL && r->uri[0] == '/') {
        ap_location_walk(r);
        dc = mi_dir_conf(r);
    }
    if (dc != NULL && dc->contact_center != NULL) {
        ap_add_output_filter("INTERACTIONS_ERROR", NULL, r, r->connection);
        if (r->status == HTTP_INTERNAL_SERVER_ERROR
            && apr_table_get(r->notes, MI_NOTE_DB_DOWN) != NULL) {
            /* the authn provider could not reach the database: say so, and when to retry */
            r->status = HTTP_SERVICE_UNAVAILABLE;
            r->status_line = NULL;
            apr_table_setn(r->err_headers_out, "Retry-After",
                           apr_itoa(r->pool, mi_srv_conf()->retry_after_s));
        }
    }
}

static int sc_for_http(int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED:            return MI_SC_UNAUTHENTICATED;
    case HTTP_FORBIDDEN:               return MI_SC_PERMISSION;
    case HTTP_NOT_FOUND:               return MI_SC_NOT_FOUND;
    case HTTP_METHOD_NOT_ALLOWED:      return MI_SC_FORBIDDEN;
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
    case HTTP_UNSUPPORTED_MEDIA_TYPE:
    case HTTP_BAD_REQUEST:             return MI_SC_INVALID;
    default:                           return status >= 500 ? MI_SC_INTERNAL : MI_SC_INVALID;
    }
}

apr_status_t mi_error_output_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket_brigade *out;
    mi_error_t err;
    const char *text;
    apr_size_t len;
    int eos = 0;

    /* Drop httpd's HTML body; send the envelope once, when the body ends. */
    while (!APR_BRIGADE_EMPTY(bb)) {
        apr_bucket *b = APR_BRIGADE_FIRST(bb);
        if (APR_BUCKET_IS_EOS(b)) {
            eos = 1;
        }
        apr_bucket_delete(b);
    }
    if (!eos) {
        return APR_SUCCESS;
    }
    ap_remove_output_filter(f);
    mi_error_set(&err, sc_for_http(r->status), r->status,
                 r->status == HTTP_UNAUTHORIZED ? "not authenticated"
                 : r->status == HTTP_SERVICE_UNAVAILABLE ? "the database is unavailable"
                 : ap_get_status_line(r->status) + 4);
    mi_status_count(r, r->status, err.sc);
    text = mi_json_dump_len(mi_envelope_error(r->pool, &err), r->pool, &len);
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_pool_create(text, len, r->pool,
                                                        r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(f->next, out);
}

/* Before mod_log_config writes the access log: requests that never reached the handler
 * (refused by authentication, say) carry their JSONP query too. */
static int mi_log_transaction(request_rec *r)
{
    mi_push_hide_query(r);
    return DECLINED;
}

/* ------------------------------------------------------------------ registration */

static void mi_register_hooks(apr_pool_t *p)
{
    /* settings and logging; before modules that might log through us */
    ap_hook_post_config(mi_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* per child: the database pool and the maintenance thread */
    ap_hook_child_init(mi_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(mi_child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    /* the REST API and the push channel */
    ap_hook_handler(mi_rest_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* JSON error envelopes for httpd's own errors inside our locations */
    ap_hook_insert_error_filter(mi_insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter("INTERACTIONS_ERROR", mi_error_output_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    /* no clientId in the access log */
    ap_hook_log_transaction(mi_log_transaction, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* AuthBasicProvider interactions */
    mi_authn_register(p);
    /* server-status section and the Prometheus endpoint */
    mi_status_register_hooks(p);
}

AP_DECLARE_MODULE(interactions) = {
    STANDARD20_MODULE_STUFF,
    mi_create_dir_conf,
    mi_merge_dir_conf,
    mi_create_srv_conf,
    mi_merge_srv_conf,
    mi_cmds,
    mi_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
