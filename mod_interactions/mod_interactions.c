/* mod_interactions.c — the module record and its hooks.
 *
 * How the module comes up:
 *  0. check_config (in the parent, as root): the database password file, if one is named,
 *     is read into the configuration pool; the children inherit the password in memory.
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
#include <apr_network_io.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mpm_common.h>
#include <util_filter.h>

#include "mi_json.h"
#include "mi_render.h"
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
    err = mi_srv_conf_read_password(s, pconf);
    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00010)
                     "%s; httpd does not start without the database password", err);
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
    conf.pool.password = sc->db_password;
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
    mi_webhook_start(proc, s, pchild);
}

/* Graceful stop (httpd 2.4.49+): let the background threads finish now rather than at the
 * end of their intervals. */
static void mi_child_stopping(apr_pool_t *pchild, int graceful)
{
    (void)pchild;
    (void)graceful;
    if (mi_proc != NULL) {
        mi_maint_wake_for_stop(mi_proc);
        mi_webhook_wake_for_stop(mi_proc);
    }
    /* held /meta/connect requests answer at once, graceful or not */
    mi_push_child_stopping(pchild, graceful);
}

/* ------------------------------------------------------------------ the base of uris */

static int from_trusted_proxy(request_rec *r, const mi_dir_conf_t *dc)
{
    int i;

    if (dc->trusted_proxies == NULL) {
        return 0;
    }
    /* the peer of the TCP connection, which a client cannot choose (unlike the headers) */
    for (i = 0; i < dc->trusted_proxies->nelts; i++) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(dc->trusted_proxies, i, apr_ipsubnet_t *),
                              r->connection->client_addr)) {
            return 1;
        }
    }
    return 0;
}

const char *mi_public_base(request_rec *r, const mi_dir_conf_t *dc, const char *path)
{
    const char *origin = dc->public_origin;
    apr_port_t port;

    /* Never the request's Host header: uris end up in push messages that one process
     * renders once for every recipient (mi_push_cache.h), so what a client sends must not
     * choose them, nor multiply them. */
    if (origin == NULL && from_trusted_proxy(r, dc)) {
        origin = mi_render_forwarded_origin(apr_table_get(r->headers_in, "X-Forwarded-Proto"),
                                            apr_table_get(r->headers_in, "X-Forwarded-Host"),
                                            ap_http_scheme(r), r->pool);
    }
    if (origin == NULL) {
        /* ServerName, with its port if it names one, else the port the request came in on */
        port = r->server->port != 0 ? r->server->port
               : r->connection->local_addr != NULL ? r->connection->local_addr->port : 0;
        origin = mi_render_origin(ap_http_scheme(r), r->server->server_hostname, port, r->pool);
    }
    return apr_pstrcat(r->pool, origin, path, NULL);
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
        if (r->status == HTTP_UNAUTHORIZED && apr_table_get(r->notes, MI_NOTE_AUTHN_LOCKED) != NULL) {
            /* too many failed logins: say when trying again can help */
            apr_table_setn(r->err_headers_out, "Retry-After",
                           apr_table_get(r->notes, MI_NOTE_AUTHN_LOCKED));
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
                 r->status == HTTP_UNAUTHORIZED
                     && apr_table_get(r->notes, MI_NOTE_AUTHN_LOCKED) != NULL
                     ? "not authenticated: too many failed logins, try again later"
                 : r->status == HTTP_UNAUTHORIZED ? "not authenticated"
                 : r->status == HTTP_SERVICE_UNAVAILABLE ? "the database is unavailable"
                 : ap_get_status_line(r->status) + 4);
    mi_status_count(r, r->status, err.sc);
    text = mi_json_dump_len(mi_envelope_error(r->pool, &err), r->pool, &len);
    ap_set_content_type(r, "application/json");
    /* like every other answer of the API (mi_send_json); once */
    apr_table_unset(r->headers_out, "X-Content-Type-Options");
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
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
    /* the database password file, read by the parent before it drops privileges */
    ap_hook_check_config(mi_check_config, NULL, NULL, APR_HOOK_MIDDLE);
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
