/* fuzz_bayeux.c — libFuzzer target for the push channel's request decoder (mi_push_bayeux.c) and
 * the Bayeux server (mi_push.c) over an in-memory backend.
 *
 * The input is an HTTP-like request:
 *
 *     POST | GET [?QUERY] LF
 *     Header: value LF ...        (Origin, Referer, Sec-Fetch-Site, Cookie, Upgrade)
 *     LF
 *     BODY
 *
 * and the target runs what mod_interactions_push.c does with it: a WebSocket upgrade is
 * refused; a GET is callback-polling (mi_form_parse of the query, jsonp= through
 * mi_push_bx_jsonp_valid, the cross-site decision mi_push_bx_jsonp_allowed, message= through
 * mi_json_parse); a POST body goes through mi_json_parse with the limits; the BAYEUX_BROWSER
 * cookie through mi_push_bx_cookie and mi_push_bx_browser_valid; then mi_push_serve.  The backend
 * never holds a connect (nothing blocks) and lets the clientId choose the session: 'x...'
 * unknown, 'f...' the database is down, 's...' a supervisor, anything else an agent.
 *
 * Invariants:
 *   - a JSONP callback that passes is dotted JavaScript identifiers of at most 128 bytes, so
 *     "/ * * /callback(...);" cannot be made to run anything else;
 *   - a JSONP request is answered cross-site only to the API's own origin or a listed one;
 *   - mi_push_serve either refuses the body with a reason, or answers at least one reply;
 *     every reply is an object with a channel, every /meta reply says "successful", an
 *     unsuccessful one carries an "error", a message's "id" comes back in a reply on its
 *     channel, and the whole answer is strict JSON.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "harness.h"
#include "mi_push_bayeux.h"
#include "mi_json.h"
#include "mi_limits.h"
#include "mi_push.h"
#include "mi_validate.h"
#include "mi_push_waiters.h"

#define OWN_ORIGIN "http://127.0.0.1:8080"
static const char *const allowed_origins[] = { "https://desktop.example.com", "http://localhost:3000" };

static mi_push_t *push;

/* ------------------------------------------------------------------ the backend */

static int session_of(const char *client_id, mi_push_session_t *s)
{
    memset(s, 0, sizeof(*s));
    s->caller.id = "11111111-1111-1111-1111-111111111111";
    s->caller.is_supervisor = client_id[0] == 's';
    s->caller.is_agent = !s->caller.is_supervisor;
    s->channels = MI_PUSH_ME;
    s->ack = client_id[0] == 'k';
    return client_id[0] != 'x';
}

static apr_status_t b_handshake(void *b, const mi_push_handshake_t *h, apr_pool_t *p,
                                mi_push_refusal_e *prefused, long long *pretry_ms)
{
    (void)b; (void)p;
    CHECK(h->client_id != NULL && strlen(h->client_id) == 32);
    /* a handshake whose browser cookie starts with a digit is refused, so both ways run */
    *prefused = h->browser != NULL && h->browser[0] >= '0' && h->browser[0] <= '9'
                ? MI_PUSH_TOO_FAST : MI_PUSH_OPENED;
    *pretry_ms = 1000;
    return APR_SUCCESS;
}

static apr_status_t b_sessions(void *b, int cc, const char *login, const char *const *ids, int n,
                               long long max_interval_ms, apr_pool_t *p, mi_push_session_t *ss,
                               apr_status_t *rvs)
{
    int i;

    (void)b; (void)cc; (void)login; (void)max_interval_ms; (void)p;
    CHECK(n >= 1 && n <= 100);
    for (i = 0; i < n; i++) {
        CHECK(ids[i] != NULL);
        if (ids[i][0] == 'f') return APR_ECONNREFUSED;
        rvs[i] = session_of(ids[i], &ss[i]) ? APR_SUCCESS : APR_NOTFOUND;
    }
    return APR_SUCCESS;
}

static apr_status_t b_session(void *b, int cc, const char *login, const char *client_id,
                              long long max_interval_ms, apr_pool_t *p, mi_push_session_t *s)
{
    (void)b; (void)cc; (void)login; (void)max_interval_ms; (void)p;
    CHECK(client_id != NULL);
    if (client_id[0] == 'f') return APR_ECONNREFUSED;
    return session_of(client_id, s) ? APR_SUCCESS : APR_NOTFOUND;
}

static apr_status_t b_subscribe(void *b, int cc, const char *login, const char *client_id,
                                unsigned add, unsigned remove, apr_pool_t *p, unsigned *pch)
{
    mi_push_session_t s;

    (void)b; (void)cc; (void)login; (void)p;
    CHECK(client_id != NULL);
    CHECK(((add | remove) & ~(MI_PUSH_ME | MI_PUSH_ALL | MI_PUSH_MYCH | MI_PUSH_AGENTS)) == 0);
    if (client_id[0] == 'f') return APR_ECONNREFUSED;
    if (!session_of(client_id, &s)) return APR_NOTFOUND;
    /* only supervisors and admins may follow every interaction */
    CHECK(!(add & MI_PUSH_ALL) || s.caller.is_supervisor);
    *pch = (s.channels | add) & ~remove;
    return APR_SUCCESS;
}

static apr_status_t b_connect(void *b, const mi_push_connect_t *c, apr_pool_t *p,
                              mi_push_delivery_t *d)
{
    (void)b; (void)p;
    CHECK(c->client_id != NULL);
    if (c->client_id[0] == 'f') return APR_ECONNREFUSED;
    memset(d, 0, sizeof(*d));
    if (!session_of(c->client_id, &d->session)) {
        d->outcome = MI_PUSH_UNKNOWN;
        return APR_SUCCESS;
    }
    d->outcome = MI_PUSH_DELIVER;     /* never held: nothing blocks */
    d->gen = 1;
    d->batch = d->session.ack ? 7 : -1;
    d->multiple_clients = c->client_id[0] == 'm';
    return APR_SUCCESS;
}

static apr_status_t b_disconnect(void *b, int cc, const char *login, const char *client_id,
                                 apr_pool_t *p)
{
    mi_push_session_t s;

    (void)b; (void)cc; (void)login; (void)p;
    if (client_id[0] == 'f') return APR_ECONNREFUSED;
    return session_of(client_id, &s) ? APR_SUCCESS : APR_NOTFOUND;
}

const char fuzz_target[] = "fuzz_bayeux";

apr_status_t fuzz_setup(apr_pool_t *root)
{
    static mi_push_backend_t backend;
    mi_push_conf_t conf;
    mi_push_waiters_t *waiters;

    backend.baton = NULL;
    backend.handshake = b_handshake;
    backend.session = b_session;
    backend.sessions = b_sessions;
    backend.subscribe = b_subscribe;
    backend.connect = b_connect;
    backend.disconnect = b_disconnect;
    memset(&conf, 0, sizeof(conf));
    conf.timeout_ms = 25000;
    conf.max_interval_ms = 10000;
    conf.per_browser = 1;
    conf.jsonp = 1;
    conf.multi_interval_ms = 2000;
    conf.busy_interval_ms = 1500;
    conf.retry_interval_ms = 2000;
    conf.batch_limit = 200;
    if (mi_push_waiters_create(&waiters, 200, root) != APR_SUCCESS
        || mi_push_create(&push, &conf, &backend, waiters, root) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ invariants */

/* an underscore, then letters, digits and underscores, at most 64 bytes, and no member every
 * object has (checked independently of mi_push_bayeux.c) */
static int callback_safe(const char *s)
{
    static const char *const proto[] = { "__proto__", "__defineGetter__", "__defineSetter__",
                                         "__lookupGetter__", "__lookupSetter__" };
    apr_size_t n = strlen(s), i;

    if (n < 2 || n > 64 || s[0] != '_') return 0;
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    }
    for (i = 0; i < sizeof(proto) / sizeof(proto[0]); i++) {
        if (strcmp(s, proto[i]) == 0) return 0;
    }
    return 1;
}

static void check_replies(json_object *doc, const mi_push_resp_t *resp, apr_pool_t *p)
{
    size_t i, k, n, nmsg;
    json_object *msgs;

    CHECK(resp->replies != NULL && json_object_is_type(resp->replies, json_type_array));
    n = json_object_array_length(resp->replies);
    CHECK(n >= 1);
    for (i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(resp->replies, i);
        const char *ch = mi_json_get_str(r, "channel");
        CHECK(json_object_is_type(r, json_type_object));
        CHECK(ch != NULL);
        if (strncmp(ch, "/meta/", 6) == 0) {
            json_object *ok = mi_json_get(r, "successful");
            CHECK(ok != NULL && json_object_is_type(ok, json_type_boolean));
            if (!json_object_get_boolean(ok)) {
                CHECK(mi_json_get_str(r, "error") != NULL);
            }
        }
    }
    /* every message's id comes back on its channel; a handshake is answered alone (the
     * spec: whatever came with it is ignored), so then only the first handshake's */
    if (json_object_is_type(doc, json_type_array)) {
        msgs = doc;
        nmsg = json_object_array_length(doc);
    }
    else {
        msgs = NULL;
        nmsg = 1;
    }
    for (k = 0; k < nmsg; k++) {
        json_object *m = msgs != NULL ? json_object_array_get_idx(msgs, k) : doc;
        const char *ch = mi_json_get_str(m, "channel");
        if (ch != NULL && strcmp(ch, "/meta/handshake") == 0) {
            CHECK(n == 1 && strcmp(mi_json_get_str(json_object_array_get_idx(resp->replies, 0),
                                                   "channel"), ch) == 0);
            msgs = NULL;
            nmsg = 1;
            doc = m;
            break;
        }
    }
    for (k = 0; k < nmsg; k++) {
        json_object *m = msgs != NULL ? json_object_array_get_idx(msgs, k) : doc;
        json_object *id = mi_json_get(m, "id");
        const char *ch = mi_json_get_str(m, "channel");
        int found = 0;
        if (id == NULL || ch == NULL) continue;
        for (i = 0; i < n && !found; i++) {
            json_object *r = json_object_array_get_idx(resp->replies, i);
            found = mi_json_get_str(r, "channel") != NULL
                    && strcmp(mi_json_get_str(r, "channel"), ch) == 0
                    && json_object_equal(mi_json_get(r, "id"), id);
        }
        if (!found) {
            fprintf(stderr, "fuzz_bayeux: no reply on %s with the id of\n  %s\nreplies: %s\n", ch,
                    mi_json_dump(m, p), mi_json_dump(resp->replies, p));
            abort();
        }
    }
    fuzz_check_strict_json(resp->replies, p);
}

/* ------------------------------------------------------------------ the request */

typedef struct {
    const char *origin, *referer, *sec_fetch_site, *cookie, *upgrade;
} headers_t;

static void header(headers_t *h, const char *line, apr_size_t n, apr_pool_t *p)
{
    static const char *const names[] = { "Origin", "Referer", "Sec-Fetch-Site", "Cookie", "Upgrade" };
    const char **slots[] = { &h->origin, &h->referer, &h->sec_fetch_site, &h->cookie, &h->upgrade };
    const char *colon = memchr(line, ':', n);
    apr_size_t i, k;

    if (colon == NULL) return;
    k = (apr_size_t)(colon - line);
    for (i = 0; i < 5; i++) {
        if (strlen(names[i]) == k && strncasecmp(line, names[i], k) == 0) {
            const char *v = colon + 1;
            while (v < line + n && *v == ' ') v++;
            *slots[i] = apr_pstrmemdup(p, v, (apr_size_t)(line + n - v));
        }
    }
}

static void decode(const char *method_line, const headers_t *h, const char *body, apr_size_t blen,
                   const mi_limits_t *lim, apr_pool_t *p)
{
    json_object *doc = NULL;
    mi_json_error_t jerr;
    mi_push_req_t req;
    mi_push_resp_t resp;
    const char *perr = NULL, *browser, *callback = NULL;

    /* a WebSocket upgrade gets a fast 400 (the handler looks for "websocket" anywhere) */
    if (h->upgrade != NULL) {
        char *lower = apr_pstrdup(p, h->upgrade), *c;
        for (c = lower; *c != '\0'; c++) *c = (char)tolower((unsigned char)*c);
        if (strstr(lower, "websocket") != NULL) return;
    }
    if (strncmp(method_line, "GET", 3) == 0) {
        const char *qs = strchr(method_line, '?');
        apr_table_t *args = apr_table_make(p, 4);
        const char *message;
        int allowed;
        if (qs == NULL || !mi_form_parse(args, qs + 1, p)) return;
        callback = apr_table_get(args, "jsonp");
        message = apr_table_get(args, "message");
        if (callback == NULL || message == NULL) return;
        if (!mi_push_bx_jsonp_valid(callback)) return;
        CHECK(callback_safe(callback));
        allowed = mi_push_bx_jsonp_allowed(h->sec_fetch_site, h->origin, h->referer, OWN_ORIGIN,
                                           allowed_origins, 2, p);
        if (allowed && !(h->sec_fetch_site != NULL
                         && (strcasecmp(h->sec_fetch_site, "same-origin") == 0
                             || strcasecmp(h->sec_fetch_site, "none") == 0))) {
            const char *page = mi_push_bx_page_origin(h->origin, h->referer, p);
            /* answered only when a page is named and it is ours or listed: a request
             * naming none could be any site's */
            CHECK(page != NULL && (strcasecmp(page, OWN_ORIGIN) == 0
                                   || strcasecmp(page, allowed_origins[0]) == 0
                                   || strcasecmp(page, allowed_origins[1]) == 0));
        }
        if (!allowed) return;
        if (strlen(message) > lim->max_body) return;
        if (mi_json_parse(&doc, message, strlen(message), lim->max_depth, p, &jerr) != APR_SUCCESS) {
            return;
        }
    }
    else if (strncmp(method_line, "POST", 4) == 0) {
        if (blen > lim->max_body) return;
        if (mi_json_parse(&doc, body, blen, lim->max_depth, p, &jerr) != APR_SUCCESS) {
            CHECK(doc == NULL && jerr.offset <= blen);
            return;
        }
    }
    else {
        return;
    }
    /* what is accepted holds no NUL: "/meta/connect\u0000x" must not pass for /meta/connect */
    CHECK(!mi_json_has_nul(doc));
    browser = mi_push_bx_cookie(h->cookie, "BAYEUX_BROWSER", p);
    memset(&req, 0, sizeof(req));
    req.cc = 1;
    req.login = "agent1";
    req.base = OWN_ORIGIN "/api/v2";
    req.browser = mi_push_bx_browser_valid(browser) ? browser : NULL;
    req.pool = p;
    memset(&resp, 0, sizeof(resp));
    if (!mi_push_serve(push, &req, doc, &resp, &perr)) {
        CHECK(perr != NULL && perr[0] != '\0');
        return;
    }
    check_replies(doc, &resp, p);
    if (callback != NULL) {
        /* the JSONP answer: a comment, the callback, the replies */
        const char *text = apr_pstrcat(p, "/**/", callback, "(", mi_json_dump(resp.replies, p),
                                       ");", NULL);
        CHECK(strncmp(text + 4, callback, strlen(callback)) == 0);
    }
}

int fuzz_one(const uint8_t *data, size_t size, apr_pool_t *p)
{
    static const mi_limits_t lim = {
        MI_DEFAULT_MAX_BODY, MI_DEFAULT_MAX_DEPTH, MI_DEFAULT_MAX_STRING,
        MI_DEFAULT_MAX_USER_DATA, MI_DEFAULT_MAX_PAGE, MI_DEFAULT_PAGE, MI_DEFAULT_MAX_PAGE_BYTES,
        MI_DEFAULT_MAX_CHANNELS
    };
    const char *in = (const char *)data, *end = in + size, *line, *nl;
    headers_t h;
    char *method_line, *body;

    nl = memchr(in, '\n', size);
    if (nl == NULL || memchr(in, '\0', (size_t)(nl - in)) != NULL) {
        return -1;
    }
    method_line = apr_pstrmemdup(p, in, (apr_size_t)(nl - in));
    memset(&h, 0, sizeof(h));
    /* header lines up to an empty line; httpd gives a module no NUL in a header */
    for (line = nl + 1; line < end; line = nl + 1) {
        nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL) nl = end;
        if (nl == line) { line = nl + 1; break; }
        if (memchr(line, '\0', (size_t)(nl - line)) == NULL) {
            header(&h, line, (apr_size_t)(nl - line), p);
        }
        if (nl == end) { line = end; break; }
    }
    if (line > end) line = end;
    body = apr_pstrmemdup(p, line, (apr_size_t)(end - line));
    decode(method_line, &h, body, (apr_size_t)(end - line), &lim, p);
    return 0;
}
