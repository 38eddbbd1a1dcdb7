/* mod_interactions_push_ws.c — CometD's websocket transport: the push channel over one WebSocket
 * connection per client.
 *
 * The upgrade is an ordinary request of {base}/notifications: authenticated by the location
 * like every request, the contact center resolved, the page's origin checked (a browser
 * opens a WebSocket to any site with that site's cookies and cached credentials).  After
 * the 101 the handler keeps the connection and its worker thread (httpd 2.4 cannot park a
 * connection without one: docs/push.md) and exchanges Bayeux messages as text frames,
 * reading and writing through the connection's filters, so mod_ssl and front proxies that
 * pass upgrades work as for any request.  Each message is served by the core's Bayeux
 * server exactly as a long-polling request (mi_push_serve(): same sessions, limits, ack
 * extension, processes and servers); a held /meta/connect waits on its waiter and on the
 * client's frames at once (the waiter wakes the poll), so a delivery goes out on the open
 * connection with no request, no authentication and no HTTP parse, and the client's
 * subscriptions are answered while its connect is held.
 *
 * The connection counts as one thread of the process's, the user's and the contact
 * center's shares for as long as it is open (mi_push_waiters_hold()); an upgrade beyond
 * them is refused, and CometD then uses long-polling.  Frames are client input: the codec
 * (mi_push_ws.c) refuses what RFC 6455 does not allow, messages are bounded by
 * InteractionsMaxBodySize and parsed like request bodies.
 */
#include <httpd.h>
#include <apr_poll.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mi_json.h"
#include "mi_push.h"
#include "mi_push_bayeux.h"
#include "mi_push_waiters.h"
#include "mi_tunables.h"
#include "mi_push_ws.h"
#include "mod_interactions.h"
#include "mod_interactions_config.h"
#include "mod_interactions_db.h"
#include "mod_interactions_http.h"
#include "mod_interactions_push.h"
#include "mod_interactions_status.h"
#include "mod_interactions_push_ws.h"

#define BROWSER_COOKIE "BAYEUX_BROWSER"

typedef struct {
    request_rec *r;
    conn_rec *c;
    const mi_limits_t *lim;
    int cc;
    const char *base;
    const char *browser;
    apr_bucket_brigade *bb_in, *bb_out;
    mi_push_ws_decoder_t *dec;
    apr_pollset_t *ps;      /* the client's socket, woken by the waiter of a held connect */
    apr_pollfd_t pfd;
    int more;               /* the filters may hold input: read before polling */
    int done;               /* a close was sent or the connection failed */
    char *stash;            /* a message that ended a held connect, served next */
    apr_size_t stash_len;
    int stashed;
    mi_ap_process_t *proc;  /* this child's state of the location's database */
} ws_t;

typedef enum {
    EV_MESSAGE,             /* a whole text message */
    EV_GONE,                /* the connection is closed (or closing) */
    EV_TIMEUP,              /* the deadline passed */
    EV_WOKEN                /* woken (or a slice of the wait passed): look around */
} ev_e;

int mi_ap_push_ws_is_upgrade(request_rec *r)
{
    const char *upgrade = apr_table_get(r->headers_in, "Upgrade");

    return upgrade != NULL && mi_push_ws_has_token(upgrade, "websocket");
}

/* ------------------------------------------------------------------ frames out */

static apr_status_t send_frame(ws_t *ws, int opcode, const char *data, apr_size_t len)
{
    unsigned char hdr[MI_PUSH_WS_HEADER_MAX];
    apr_size_t hlen = mi_push_ws_header(hdr, opcode, len);
    apr_status_t rv;

    if (ws->done) {
        return APR_EOF;
    }
    APR_BRIGADE_INSERT_TAIL(ws->bb_out, apr_bucket_heap_create((const char *)hdr, hlen, NULL,
                                                               ws->c->bucket_alloc));
    if (len > 0) {
        APR_BRIGADE_INSERT_TAIL(ws->bb_out,
                                apr_bucket_transient_create(data, len, ws->c->bucket_alloc));
    }
    APR_BRIGADE_INSERT_TAIL(ws->bb_out, apr_bucket_flush_create(ws->c->bucket_alloc));
    rv = ap_pass_brigade(ws->c->output_filters, ws->bb_out);
    apr_brigade_cleanup(ws->bb_out);
    if (rv != APR_SUCCESS) {
        /* the client is gone: nothing more can reach it */
        ws->done = 1;
        ws->c->aborted = 1;
    }
    else if (opcode == MI_PUSH_WS_OP_TEXT) {
        mi_ap_status_ws(0, 0, 1);
    }
    return rv;
}

/* Send a close frame; nothing goes out after it (httpd's lingering close ends the TCP
 * connection, reading what the client still sends). */
static void close_with(ws_t *ws, int code, const char *reason)
{
    apr_size_t len;
    const char *payload = mi_push_ws_close_payload(code, reason, ws->r->pool, &len);

    send_frame(ws, MI_PUSH_WS_OP_CLOSE, payload, len);
    ws->done = 1;
}

/* ------------------------------------------------------------------ frames in */

/* Read what the connection's filters hold, without blocking: APR_SUCCESS with bytes for
 * the decoder, APR_EAGAIN when there is nothing, APR_EOF or another status when the
 * connection is gone. */
static apr_status_t read_some(ws_t *ws)
{
    char *buf;
    apr_size_t room, len;
    apr_status_t rv;
    int eos;

    mi_push_ws_space(ws->dec, &buf, &room);
    if (room == 0) {
        return APR_SUCCESS; /* the decoder takes what it holds first */
    }
    rv = ap_get_brigade(ws->c->input_filters, ws->bb_in, AP_MODE_READBYTES, APR_NONBLOCK_READ,
                        room);
    if (rv != APR_SUCCESS) {
        apr_brigade_cleanup(ws->bb_in);
        return rv;
    }
    eos = !APR_BRIGADE_EMPTY(ws->bb_in) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(ws->bb_in));
    len = room;
    rv = apr_brigade_flatten(ws->bb_in, buf, &len);
    apr_brigade_cleanup(ws->bb_in);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    mi_push_ws_filled(ws->dec, len);
    if (len == 0) {
        return eos ? APR_EOF : APR_EAGAIN;
    }
    return APR_SUCCESS;
}

static void wake(void *baton)
{
    ws_t *ws = baton;

    apr_pollset_wakeup(ws->ps);
}

/* The connection's next event before @deadline.  Pings are answered and pongs dropped
 * here; a close or a broken frame closes the connection (EV_GONE). */
static ev_e next_event(ws_t *ws, apr_time_t deadline, const char **pdata, apr_size_t *plen)
{
    mi_push_ws_frame_t f;
    apr_interval_time_t left;
    const apr_pollfd_t *out;
    apr_int32_t n;
    apr_status_t rv;

    for (;;) {
        if (ws->done) {
            return EV_GONE;
        }
        mi_push_ws_next(ws->dec, &f);
        switch (f.event) {
        case MI_PUSH_WS_MESSAGE:
            mi_ap_status_ws(0, 1, 0);
            *pdata = f.data;
            *plen = f.len;
            return EV_MESSAGE;
        case MI_PUSH_WS_PING:
            send_frame(ws, MI_PUSH_WS_OP_PONG, f.data, f.len);
            continue;
        case MI_PUSH_WS_PONG:
            continue;
        case MI_PUSH_WS_CLOSE:
            /* the closing handshake: echo the client's code */
            close_with(ws, f.code == MI_PUSH_WS_CLOSE_NO_STATUS ? MI_PUSH_WS_CLOSE_NORMAL : f.code, NULL);
            return EV_GONE;
        case MI_PUSH_WS_FAIL:
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ws->r, MI_LOGNO(00461)
                          "closing a push WebSocket (%d): %s", f.code, f.reason);
            close_with(ws, f.code, f.reason);
            return EV_GONE;
        case MI_PUSH_WS_MORE:
            break;
        }
        if (ws->more) {
            rv = read_some(ws);
            if (rv == APR_SUCCESS) {
                continue;
            }
            if (!APR_STATUS_IS_EAGAIN(rv)) {
                ws->done = 1;
                return EV_GONE;
            }
            ws->more = 0;
        }
        left = deadline - apr_time_now();
        if (left <= 0) {
            return EV_TIMEUP;
        }
        /* in slices: a process that stops says so to its waiters, not to idle connections */
        if (left > apr_time_from_msec(MI_PUSH_WS_SLICE_MS)) {
            left = apr_time_from_msec(MI_PUSH_WS_SLICE_MS);
        }
        rv = apr_pollset_poll(ws->ps, left, &n, &out);
        if (rv == APR_SUCCESS) {
            ws->more = 1;    /* readable, or hung up: the read says which */
            continue;
        }
        if (APR_STATUS_IS_EINTR(rv) || APR_STATUS_IS_TIMEUP(rv)) {
            return EV_WOKEN;
        }
        ws->done = 1;
        return EV_GONE;
    }
}

/* ------------------------------------------------------------------ Bayeux over it */

static void serve_text(ws_t *ws, const char *text, apr_size_t len);

/* Do the messages of @doc end a held connect before they are served?  A connect (the
 * client gave up on the held one), a disconnect (its reply comes after the connect's, as
 * CometD expects) or a handshake. */
static int ends_hold(json_object *doc)
{
    size_t i, n;

    if (json_object_is_type(doc, json_type_object)) {
        const char *ch = mi_json_get_str(doc, "channel");
        return ch != NULL
               && (strcmp(ch, "/meta/connect") == 0 || strcmp(ch, "/meta/disconnect") == 0
                   || strcmp(ch, "/meta/handshake") == 0);
    }
    n = json_object_is_type(doc, json_type_array) ? json_object_array_length(doc) : 0;
    for (i = 0; i < n; i++) {
        if (ends_hold(json_object_array_get_idx(doc, i))) {
            return 1;
        }
    }
    return 0;
}

/* mi_push_req_t.wait: a held connect of this connection waits for its waiter and for the
 * client's frames at once.  Messages that leave the connect held (subscriptions) are served
 * meanwhile; one that ends it is kept for after its reply, and the waiter cancelled. */
static mi_push_waiter_state_e hold(void *baton, mi_push_waiter_t *w, apr_time_t deadline)
{
    ws_t *ws = baton;
    mi_push_waiters_t *reg = ws->proc->waiters;
    const char *data;
    apr_size_t len;
    apr_pool_t *p;
    json_object *doc;
    mi_json_error_t jerr;

    mi_push_waiter_on_wake(reg, w, wake, ws);
    for (;;) {
        if (ws->done || ws->stashed) {
            /* the client is gone, or asked for what ends the hold: answer it now */
            mi_push_waiter_cancel(reg, w, MI_PUSH_WAITER_SUPERSEDED);
            break;
        }
        if (mi_push_waiter_due(reg, w) || apr_time_now() >= deadline) {
            break;
        }
        if (next_event(ws, deadline, &data, &len) != EV_MESSAGE) {
            continue; /* woken, timed up or gone: the loop looks */
        }
        apr_pool_create(&p, ws->r->pool);
        if (mi_json_parse(&doc, data, len, ws->lim->max_depth, p, &jerr) == APR_SUCCESS
            && ends_hold(doc)) {
            memcpy(ws->stash, data, len);
            ws->stash_len = len;
            ws->stashed = 1;
        }
        else {
            /* served now (a malformed one closes the connection) */
            serve_text(ws, data, len);
        }
        apr_pool_destroy(p);
    }
    return mi_push_waiter_wait(reg, w, deadline);
}

static void serve_text(ws_t *ws, const char *text, apr_size_t len)
{
    apr_pool_t *p;
    json_object *doc = NULL;
    mi_json_error_t jerr;
    mi_push_req_t req;
    mi_push_resp_t resp;
    const char *perr = NULL, *out;
    apr_size_t olen;

    apr_pool_create(&p, ws->r->pool);
    if (mi_json_parse(&doc, text, len, ws->lim->max_depth, p, &jerr) != APR_SUCCESS) {
        close_with(ws, MI_PUSH_WS_CLOSE_INVALID,
                   apr_psprintf(p, "malformed JSON at byte %" APR_SIZE_T_FMT ": %s", jerr.offset,
                                jerr.reason));
        apr_pool_destroy(p);
        return;
    }
    memset(&req, 0, sizeof(req));
    req.cc = ws->cc;
    req.login = ws->r->user;
    req.base = ws->base;
    req.browser = ws->browser;
    req.pool = p;
    req.websocket = 1;
    req.wait = hold;
    req.wait_baton = ws;
    if (!mi_push_serve(ws->proc->push, &req, doc, &resp, &perr)) {
        close_with(ws, MI_PUSH_WS_CLOSE_INVALID, perr);
        apr_pool_destroy(p);
        return;
    }
    out = mi_json_dump_len(resp.replies, p, &olen);
    send_frame(ws, MI_PUSH_WS_OP_TEXT, out, olen);
    if (resp.close_connection) {
        /* this process stops: the client reconnects to one that stays */
        close_with(ws, MI_PUSH_WS_CLOSE_GOING_AWAY, "the server is restarting; reconnect");
    }
    apr_pool_destroy(p);
}

/* ------------------------------------------------------------------ the upgrade */

static int refuse(request_rec *r, int sc, int http, const char *message)
{
    mi_error_t err;

    return mi_ap_http_send_error(r, mi_error_set(&err, sc, http, message));
}

typedef struct {
    int cc;
    const char *login;
    mi_ap_process_t *proc;  /* whose waiters hold it */
} held_t;

static apr_status_t release(void *data)
{
    held_t *h = data;

    mi_push_waiters_unhold(h->proc->waiters, h->cc, h->login);
    mi_ap_status_ws(-1, 0, 0);
    return APR_SUCCESS;
}

int mi_ap_push_ws_handler(request_rec *r, int cc, const char *base, const mi_ap_dir_conf_t *dc,
                     const mi_limits_t *lim)
{
    const char *key = apr_table_get(r->headers_in, "Sec-WebSocket-Key");
    const char *version = apr_table_get(r->headers_in, "Sec-WebSocket-Version");
    const char *connection = apr_table_get(r->headers_in, "Connection");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    conn_rec *c = r->connection;
    apr_interval_time_t timeout;
    apr_time_t idle_until;
    const char *data;
    apr_size_t len;
    held_t *h;
    ws_t *ws;
    mi_ap_process_t *proc;
    apr_status_t rv;
    ev_e ev;

    /* CometD tries WebSocket first; a quick refusal makes it fall back to long-polling at
     * once, where a hanging upgrade would cost it its network timeout. */
    if (!mi_ap_config_srv()->push_websocket) {
        return refuse(r, MI_SC_INVALID, HTTP_BAD_REQUEST,
                      "no WebSocket transport here (InteractionsPushWebSocket Off); use "
                      "long-polling");
    }
    if (r->method_number != M_GET || r->proto_num != HTTP_VERSION(1, 1) || c->master != NULL
        || connection == NULL || !mi_push_ws_has_token(connection, "upgrade")) {
        return refuse(r, MI_SC_INVALID, HTTP_BAD_REQUEST,
                      "a WebSocket upgrade is a GET over HTTP/1.1 with Connection: Upgrade");
    }
    if (version == NULL || strcmp(version, "13") != 0) {
        apr_table_setn(r->err_headers_out, "Sec-WebSocket-Version", "13");
        return refuse(r, MI_SC_INVALID, HTTP_UPGRADE_REQUIRED,
                      "Sec-WebSocket-Version 13 is the version spoken here");
    }
    if (!mi_push_ws_key_valid(key)) {
        return refuse(r, MI_SC_INVALID, HTTP_BAD_REQUEST,
                      "Sec-WebSocket-Key must be the base64 of 16 bytes");
    }
    /* A browser opens a WebSocket to any site, with that site's cookies and cached
     * credentials, and says which page asked: only our own pages and the listed origins
     * may (programs send no Origin). */
    if (origin != NULL && !mi_ap_push_origin_allowed(r, dc, origin)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, MI_LOGNO(00460)
                      "refused a push WebSocket from the page of %s (InteractionsAllowOrigin "
                      "lists the origins allowed)", origin);
        return refuse(r, MI_SC_PERMISSION, HTTP_FORBIDDEN,
                      "WebSocket connections are accepted only from this site's pages and "
                      "the origins it allows");
    }
    /* the location's database: a session lives where its contact center's rows are */
    proc = mi_ap_db_proc(r);
    if (proc == NULL || proc->push == NULL || proc->waiters == NULL) {
        mi_error_t err;
        return mi_ap_http_send_error(r, mi_ap_http_store_error(MI_STORE_UNAVAILABLE, &err));
    }
    /* the connection keeps this thread: counted in the process's and the user's shares */
    rv = mi_push_waiters_hold(proc->waiters, cc, r->user);
    if (rv == MI_PUSH_WAITERS_USER_FULL || rv == MI_PUSH_WAITERS_CC_FULL) {
        apr_table_setn(r->err_headers_out, "Retry-After", "2");
        return refuse(r, MI_SC_FORBIDDEN, HTTP_TOO_MANY_REQUESTS,
                      rv == MI_PUSH_WAITERS_USER_FULL
                      ? "this user holds as many push connections here as allowed; use "
                        "long-polling"
                      : "this contact center holds as many push connections here as allowed; "
                        "use long-polling");
    }
    if (rv != APR_SUCCESS) {
        return refuse(r, MI_SC_INTERNAL, HTTP_SERVICE_UNAVAILABLE,
                      "no room for another push connection here; use long-polling");
    }
    h = apr_palloc(r->pool, sizeof(*h));
    h->cc = cc;
    h->login = apr_pstrdup(r->pool, r->user);
    h->proc = proc;
    mi_ap_status_ws(1, 0, 0);
    apr_pool_cleanup_register(r->pool, h, release, apr_pool_cleanup_null);

    ws = apr_pcalloc(r->pool, sizeof(*ws));
    ws->r = r;
    ws->c = c;
    ws->proc = proc;
    ws->lim = lim;
    ws->cc = cc;
    ws->base = base;
    ws->browser = mi_push_bx_cookie(apr_table_get(r->headers_in, "Cookie"), BROWSER_COOKIE,
                                    r->pool);
    if (!mi_push_bx_browser_valid(ws->browser)) {
        ws->browser = NULL;
    }
    ws->bb_in = apr_brigade_create(r->pool, c->bucket_alloc);
    ws->bb_out = apr_brigade_create(r->pool, c->bucket_alloc);
    ws->stash = apr_palloc(r->pool, (apr_size_t)lim->max_body + 1);
    ws->more = 1; /* the client may have sent frames right behind its request */
    mi_push_ws_decoder_create(&ws->dec, (apr_size_t)lim->max_body, r->pool);
    ws->pfd.p = r->pool;
    ws->pfd.reqevents = APR_POLLIN;
    rv = ap_get_pollfd_from_conn(c, &ws->pfd, &timeout);
    if (rv == APR_SUCCESS) {
        rv = apr_pollset_create_ex(&ws->ps, 1, r->pool, APR_POLLSET_WAKEABLE | APR_POLLSET_NOCOPY,
                                   APR_POLLSET_POLL);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_pollset_add(ws->ps, &ws->pfd);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, MI_LOGNO(00462)
                      "cannot wait on a push WebSocket's connection");
        return refuse(r, MI_SC_INTERNAL, HTTP_SERVICE_UNAVAILABLE,
                      "no room for another push connection here; use long-polling");
    }

    /* switch protocols: the 101 goes out now, straight through the connection's filters */
    r->status = HTTP_SWITCHING_PROTOCOLS;
    apr_table_clear(r->headers_out);
    apr_table_setn(r->headers_out, "Upgrade", "websocket");
    apr_table_setn(r->headers_out, "Connection", "Upgrade");
    apr_table_setn(r->headers_out, "Sec-WebSocket-Accept", mi_push_ws_accept(key, r->pool));
    ap_send_interim_response(r, 1);
    mi_ap_status_count(r, HTTP_SWITCHING_PROTOCOLS, MI_SC_OK);
    /* From here on only the connection's filters (mod_ssl's among them) see the bytes: no
     * request filter, no coalescing of small frames, no request-body timeout, and the
     * connection is never reused for HTTP. */
    ap_remove_output_filter_byhandle(c->output_filters, "SSL/TLS Coalescing Filter");
    ap_remove_input_filter_byhandle(c->input_filters, "reqtimeout");
    r->input_filters = r->proto_input_filters = c->input_filters;
    r->output_filters = r->proto_output_filters = c->output_filters;
    c->keepalive = AP_CONN_CLOSE;

    idle_until = apr_time_now() + r->server->timeout;
    for (;;) {
        if (ws->stashed) {
            /* what ended a held connect: its turn now */
            ws->stashed = 0;
            serve_text(ws, ws->stash, ws->stash_len);
            idle_until = apr_time_now() + r->server->timeout;
            continue;
        }
        ev = next_event(ws, idle_until, &data, &len);
        if (ev == EV_MESSAGE) {
            serve_text(ws, data, len);
            idle_until = apr_time_now() + r->server->timeout;
            continue;
        }
        if (ev == EV_GONE) {
            break;
        }
        if (ev == EV_TIMEUP) {
            /* a client neither holding a connect nor saying anything for Timeout */
            close_with(ws, MI_PUSH_WS_CLOSE_NORMAL, "idle");
            break;
        }
        if (mi_push_waiters_is_closed(ws->proc->waiters)) {
            close_with(ws, MI_PUSH_WS_CLOSE_GOING_AWAY, "the server is restarting; reconnect");
            break;
        }
    }
    return DONE;
}
