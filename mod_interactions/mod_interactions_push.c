/* mod_interactions_push.c — the push channel's HTTP side and its per-process machinery.
 *
 * The protocol is the core's (mi_push.c); this file reads the request (JSON POST for
 * long-polling, JSONP GET for callback-polling), applies the transport rules that need HTTP
 * (no form posts, no cross-site JSONP), and writes the replies; a WebSocket upgrade goes to
 * mod_interactions_push_ws.c.  In each child
 * process it creates the waiter registry, the Bayeux server and the listener thread, and
 * stops them when the child stops.
 */
#include <httpd.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <scoreboard.h>

#include "mi_push_bayeux.h"
#include "mi_json.h"
#include "mi_push_listener.h"
#include "mi_push.h"
#include "mi_push_store.h"
#include "mi_tunables.h"
#include "mi_validate.h"
#include "mod_interactions.h"
#include "mod_interactions_config.h"
#include "mod_interactions_db.h"
#include "mod_interactions_http.h"
#include "mod_interactions_push.h"
#include "mod_interactions_status.h"
#include "mod_interactions_push_ws.h"

#define BROWSER_COOKIE "BAYEUX_BROWSER"

/* ------------------------------------------------------------------ origins */

/* The origin the browser addressed.  Here, unlike in uris (mi_ap_http_public_base()), the
 * Host header is the right source: it is compared with the Origin/Referer of the same
 * request, and a page of another site cannot make the browser send our Host with its own
 * Origin. */
static const char *own_origin(request_rec *r)
{
    const char *host = apr_table_get(r->headers_in, "Host");

    return apr_pstrcat(r->pool, ap_http_scheme(r), "://",
                       host != NULL ? host : r->server->server_hostname, NULL);
}

static int origin_listed(const mi_ap_dir_conf_t *dc, const char *origin)
{
    return origin != NULL && dc->allow_origins != NULL
           && mi_push_bx_jsonp_allowed("cross-site", origin, NULL, NULL,
                                       (const char *const *)dc->allow_origins->elts,
                                       dc->allow_origins->nelts, NULL);
}

int mi_ap_push_origin_allowed(request_rec *r, const mi_ap_dir_conf_t *dc, const char *origin)
{
    return strcasecmp(origin, own_origin(r)) == 0 || origin_listed(dc, origin);
}

/* JSONP with cached credentials would hand an agent's interactions to any site's page:
 * see mi_push_bx_jsonp_allowed(). */
static int jsonp_allowed(request_rec *r, const mi_ap_dir_conf_t *dc)
{
    return mi_push_bx_jsonp_allowed(apr_table_get(r->headers_in, "Sec-Fetch-Site"),
                                    apr_table_get(r->headers_in, "Origin"),
                                    apr_table_get(r->headers_in, "Referer"), own_origin(r),
                                    dc->allow_origins != NULL
                                    ? (const char *const *)dc->allow_origins->elts : NULL,
                                    dc->allow_origins != NULL ? dc->allow_origins->nelts : 0,
                                    r->pool);
}

/* CORS for the origins a site lets use the API cross-origin. */
static void cors(request_rec *r, const mi_ap_dir_conf_t *dc)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");

    apr_table_mergen(r->headers_out, "Vary", "Origin");
    if (origin != NULL && origin_listed(dc, origin)) {
        apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", origin);
        apr_table_setn(r->headers_out, "Access-Control-Allow-Credentials", "true");
    }
}

/* ------------------------------------------------------------------ the request */

/* JSONP: ?jsonp=callback&message=[...] */
static int read_jsonp(request_rec *r, const mi_ap_dir_conf_t *dc, const mi_limits_t *lim,
                      const char **pcallback, json_object **pdoc, mi_error_t *err)
{
    apr_table_t *args = apr_table_make(r->pool, 4);
    const char *callback, *message;
    mi_json_error_t jerr;

    if (!mi_ap_config_srv()->push_jsonp) {
        mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST,
                     "callback-polling (JSONP) is disabled here; POST application/json");
        return 0;
    }
    if (r->args == NULL || !mi_form_parse(args, r->args, r->pool)) {
        mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST,
                     "a GET is callback-polling: it needs jsonp= and message=");
        return 0;
    }
    callback = apr_table_get(args, "jsonp");
    message = apr_table_get(args, "message");
    if (callback == NULL || message == NULL) {
        mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST,
                     "a GET is callback-polling: it needs jsonp= and message=");
        return 0;
    }
    if (!mi_push_bx_jsonp_valid(callback)) {
        mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST,
                     "jsonp must be a name such as _cometd_jsonp_1: an underscore, then letters, "
                     "digits and underscores");
        return 0;
    }
    if (!jsonp_allowed(r, dc)) {
        const char *page = mi_push_bx_page_origin(apr_table_get(r->headers_in, "Origin"),
                                                  apr_table_get(r->headers_in, "Referer"), r->pool);
        if (page == NULL && apr_table_get(r->headers_in, "Sec-Fetch-Site") == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, MI_LOGNO(00414)
                          "refused JSONP that names no page (no Sec-Fetch-Site, Origin or "
                          "Referer)");
            mi_error_set(err, MI_SC_PERMISSION, HTTP_FORBIDDEN,
                         "callback-polling is answered only to a browser page that says where "
                         "it is (Sec-Fetch-Site, Origin or Referer); programs use long-polling");
            return 0;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, MI_LOGNO(00404)
                      "refused cross-site JSONP from %s (InteractionsAllowOrigin lists the "
                      "origins allowed)", page != NULL ? page : "?");
        mi_error_set(err, MI_SC_PERMISSION, HTTP_FORBIDDEN,
                     "cross-site callback-polling is not allowed for this origin");
        return 0;
    }
    if (strlen(message) > lim->max_body) {
        mi_error_set(err, MI_SC_INVALID, HTTP_REQUEST_ENTITY_TOO_LARGE, "the message is too large");
        return 0;
    }
    if (mi_json_parse(pdoc, message, strlen(message), lim->max_depth, r->pool, &jerr)
        != APR_SUCCESS) {
        mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST,
                     apr_psprintf(r->pool, "malformed JSON in message at byte %" APR_SIZE_T_FMT
                                  ": %s", jerr.offset, jerr.reason));
        return 0;
    }
    *pcallback = callback;
    return 1;
}

/* ------------------------------------------------------------------ what the logs keep */

/* Is @r a GET of the push channel in a location of ours, with a query? */
static int is_jsonp(request_rec *r)
{
    const mi_ap_dir_conf_t *dc = mi_ap_config_dir(r);
    const char *seg;

    if (r->method_number != M_GET || r->args == NULL || r->the_request == NULL
        || dc == NULL || dc->contact_center == NULL || r->uri == NULL) {
        return 0;
    }
    for (seg = strstr(r->uri, "/notifications"); seg != NULL;
         seg = strstr(seg + 1, "/notifications")) {
        if (seg[14] == '\0' || seg[14] == '/') {
            return 1;
        }
    }
    return 0;
}

void mi_ap_push_hide_query(request_rec *r)
{
    const char *q, *tail;

    /* A JSONP query carries a clientId, the session's bearer token: whoever reads it can
     * take the session's messages in a browser holding the user's credentials.  The access
     * log (%r, %q, %U%q) and server-status keep the request line, so both get it without
     * the query. */
    if (!is_jsonp(r) || (q = strchr(r->the_request, '?')) == NULL) {
        return;
    }
    tail = strrchr(r->the_request, ' ');
    r->the_request = apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, r->the_request,
                                                         (apr_size_t)(q - r->the_request)),
                                 "?(hidden)", tail != NULL && tail > q ? tail : "", NULL);
    if (r->unparsed_uri != NULL && (q = strchr(r->unparsed_uri, '?')) != NULL) {
        r->unparsed_uri = apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, r->unparsed_uri,
                                                              (apr_size_t)(q - r->unparsed_uri)),
                                      "?(hidden)", NULL);
    }
    r->parsed_uri.query = NULL;
    r->args = NULL;
}

static int send_replies(request_rec *r, const mi_ap_dir_conf_t *dc, const mi_push_resp_t *resp,
                        const char *callback)
{
    apr_size_t len;
    const char *text = mi_json_dump_len(resp->replies, r->pool, &len);

    r->status = HTTP_OK;
    if (callback != NULL) {
        /* the leading comment keeps the answer from being read as anything but a script */
        text = apr_pstrcat(r->pool, "/**/", callback, "(", text, ");", NULL);
        len = strlen(text);
        ap_set_content_type(r, "text/javascript;charset=UTF-8");
    }
    else {
        ap_set_content_type(r, "application/json;charset=UTF-8");
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache, no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (resp->new_browser != NULL) {
        apr_table_addn(r->headers_out, "Set-Cookie",
                       apr_psprintf(r->pool, BROWSER_COOKIE "=%s; Path=%s/notifications; "
                                    "HttpOnly; SameSite=Lax%s", resp->new_browser,
                                    dc->base != NULL ? dc->base : "",
                                    strcmp(ap_http_scheme(r), "https") == 0 ? "; Secure" : ""));
    }
    ap_set_content_length(r, (apr_off_t)len);
    /* counted like every API answer (failures inside a batch are Bayeux replies, not
     * statusCodes) */
    mi_ap_status_count(r, HTTP_OK, MI_SC_OK);
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
    return OK;
}

int mi_ap_push_handler(request_rec *r, int cc, const char *base, const mi_ap_dir_conf_t *dc,
                       const mi_limits_t *lim)
{
    const char *callback = NULL, *perr = NULL, *browser;
    /* the location's database: a session lives where its contact center's rows are */
    mi_ap_process_t *proc = mi_ap_db_proc(r);
    json_object *doc = NULL;
    mi_push_req_t req;
    mi_push_resp_t resp;
    mi_error_t err;

    if (mi_ap_push_ws_is_upgrade(r)) {
        return mi_ap_push_ws_handler(r, cc, base, dc, lim);
    }
    cors(r, dc);
    if (r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow", "GET, POST, OPTIONS");
        if (apr_table_get(r->headers_out, "Access-Control-Allow-Origin") != NULL) {
            apr_table_setn(r->headers_out, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            apr_table_setn(r->headers_out, "Access-Control-Allow-Headers",
                           "Content-Type, Authorization");
            apr_table_setn(r->headers_out, "Access-Control-Max-Age", "600");
        }
        return mi_ap_http_send_json(r, HTTP_OK, mi_envelope_ok(r->pool));
    }
    if (proc == NULL || proc->push == NULL) {
        return mi_ap_http_send_error(r, mi_ap_http_store_error(MI_STORE_UNAVAILABLE, &err));
    }
    if (r->method_number == M_GET) {
        int ok = read_jsonp(r, dc, lim, &callback, &doc, &err);

        /* read: from now on the query shows nowhere (a connect may be held for long, and
         * server-status shows the request line meanwhile) */
        mi_ap_push_hide_query(r);
        ap_update_child_status(r->connection->sbh, SERVER_BUSY_WRITE, r);
        if (!ok) {
            return mi_ap_http_send_error(r, &err);
        }
    }
    else if (!mi_ap_http_read_json(r, lim, &doc, &err)) {
        /* JSON only: a form post is what another site's page could send with the
         * browser's cached credentials */
        return mi_ap_http_send_error(r, &err);
    }

    browser = mi_push_bx_cookie(apr_table_get(r->headers_in, "Cookie"), BROWSER_COOKIE, r->pool);
    memset(&req, 0, sizeof(req));
    req.cc = cc;
    req.login = r->user;
    req.base = base;
    req.browser = mi_push_bx_browser_valid(browser) ? browser : NULL;
    req.pool = r->pool;
    if (!mi_push_serve(proc->push, &req, doc, &resp, &perr)) {
        return mi_ap_http_send_error(r, mi_error_set(&err, MI_SC_INVALID, HTTP_BAD_REQUEST, perr));
    }
    if (resp.close_connection) {
        /* told to reconnect at once: over a new connection, to a process that stays */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    return send_replies(r, dc, &resp, callback);
}

/* mi_ap_process_t.on_change: REST writes and the maintenance thread call it */
static void poke(mi_ap_process_t *proc)
{
    if (proc->listener != NULL) {
        mi_push_listener_poke(proc->listener);
    }
}

/* Sessions changed here that other processes must hear about: through the listener. */
static void session_changed(void *baton, mi_push_change_e what, int cc, const char *login,
                            const char *client_id)
{
    mi_push_listener_announce(baton, what == MI_PUSH_GONE, cc, login, client_id);
}

/* ------------------------------------------------------------------ per child */

/* The connects this child holds, whichever database they wait on (mi_push_waiters_share()). */
static volatile apr_uint32_t held_here;

static apr_status_t push_child_cleanup(void *data)
{
    mi_ap_process_t *proc = data;

    /* before the pools go: answer the held connects, then stop the listener thread */
    if (proc->waiters != NULL) {
        mi_push_waiters_shutdown(proc->waiters);
    }
    mi_push_listener_stop(proc->listener);
    proc->listener = NULL;
    return APR_SUCCESS;
}

void mi_ap_push_child_init(apr_pool_t *pchild, server_rec *s, mi_ap_process_t *proc)
{
    const mi_ap_srv_conf_t *sc = mi_ap_config_srv();
    mi_push_backend_t backend;
    mi_push_conf_t pc;
    mi_push_listener_conf_t lc;
    apr_status_t rv;

    rv = mi_push_waiters_create(&proc->waiters, sc->push_max_waiters, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00506)
                     "creating the push channel's waiter registry failed");
        return;
    }
    mi_push_waiters_limit(proc->waiters, sc->push_held_per_user, sc->push_held_per_cc);
    /* InteractionsPushMaxWaiters is the child's, over the registries of all its databases */
    mi_push_waiters_share(proc->waiters, &held_here);
    memset(&pc, 0, sizeof(pc));
    pc.timeout_ms = sc->push_timeout_ms;
    pc.max_interval_ms = sc->push_max_interval_ms;
    pc.per_browser = sc->push_sessions_per_browser;
    pc.jsonp = sc->push_jsonp;
    pc.multi_interval_ms = MI_PUSH_MULTI_INTERVAL_MS;
    pc.busy_interval_ms = MI_PUSH_BUSY_INTERVAL_MS;
    pc.share_interval_ms = MI_PUSH_SHARE_INTERVAL_MS;
    pc.retry_interval_ms = (long long)sc->retry_after_s * 1000;
    pc.batch_limit = MI_PUSH_BATCH_LIMIT;
    pc.cache_rows = sc->push_cache_rows;
    pc.cache_bytes = sc->push_cache_bytes;
    pc.max_sessions = sc->push_sessions_per_user;
    pc.max_cc_sessions = sc->push_sessions_per_cc;
    pc.handshakes_per_minute = sc->push_handshakes_per_minute;
    pc.websocket = sc->push_websocket;
    mi_push_store_backend(&backend, proc->store);
    mi_push_create(&proc->push, &pc, &backend, proc->waiters, pchild);

    memset(&lc, 0, sizeof(lc));
    lc.pgpool = mi_store_pool(proc->store);
    lc.waiters = proc->waiters;
    lc.statement_timeout_ms = sc->statement_timeout_ms;
    rv = mi_push_listener_start(&proc->listener, &lc, pchild);
    if (rv != APR_SUCCESS) {
        /* held connects then see news only when their hold ends */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, MI_LOGNO(00507)
                     "starting the push listener thread failed");
        proc->listener = NULL;
    }
    if (proc->listener != NULL) {
        mi_push_on_change(proc->push, session_changed, proc->listener);
    }
    proc->on_change = poke;
    apr_pool_pre_cleanup_register(pchild, proc, push_child_cleanup);
}

void mi_ap_push_child_stopping(apr_pool_t *pchild, int graceful)
{
    int i;

    (void)pchild;
    (void)graceful;
    /* worker threads blocked in held connects must not delay the stop: answer them now
     * (their sessions live on in the database; clients reconnect to another process) */
    for (i = 0; i < mi_ap_db_count(); i++) {
        mi_ap_process_t *proc = mi_ap_db_proc_at(i);
        if (proc != NULL && proc->waiters != NULL) {
            mi_push_waiters_shutdown(proc->waiters);
        }
    }
}
