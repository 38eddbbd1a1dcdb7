/* mi_push_store.c — see mi_push_store.h */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "mi_json.h"
#include "mi_log.h"
#include "mi_push_store.h"
#include "mi_tunables.h"

/* ------------------------------------------------------------------ sessions (pooled) */

static const mi_store_stmt_t st_handshake = {
    "mi_push_handshake",
    "SELECT interactions.push_handshake($1::int, $2::text, $3::text, $4::text, $5::boolean,"
    " $6::int, $7::int, $8::int, $9::int)::text", 9
};
static const mi_store_stmt_t st_session_batch = {
    "mi_push_session_batch",
    "SELECT interactions.push_session_batch($1::int, $2::text, $3::text[], $4::int)::text", 4
};
static const mi_store_stmt_t st_session = {
    "mi_push_session",
    "SELECT interactions.push_session($1::int, $2::text, $3::text, $4::int)::text", 4
};
static const mi_store_stmt_t st_subscribe = {
    "mi_push_subscribe",
    "SELECT interactions.push_subscribe($1::int, $2::text, $3::text, $4::text[], $5::text[])::text", 5
};
static const mi_store_stmt_t st_connect = {
    "mi_push_connect",
    "SELECT interactions.push_connect($1::int, $2::text, $3::text, $4::boolean, $5::bigint,"
    " $6::bigint, $7::int, $8::int, $9::int, $10::int)::text", 10
};
static const mi_store_stmt_t st_snapshots = {
    "mi_push_snapshots",
    "SELECT interactions.push_snapshots($1::int, $2::text, $3::bigint[])::text", 3
};
static const mi_store_stmt_t st_disconnect = {
    "mi_push_disconnect",
    "SELECT interactions.push_disconnect($1::int, $2::text, $3::text)::text", 3
};

/* Call @stmt and parse its JSON document (a modest depth first, the large one only when a
 * document needs it: mi_tunables.h); statusCode 20 (unknown user) is APR_NOTFOUND. */
static apr_status_t call(mi_store_t *store, const mi_store_stmt_t *stmt,
                         const char *const *params, apr_pool_t *p, json_object **pres)
{
    const char *text = NULL;
    mi_json_error_t jerr;
    apr_status_t rv;

    *pres = NULL;
    rv = mi_store_call(store, stmt, params, p, &text);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (text != NULL
        && mi_json_parse(pres, text, strlen(text), MI_PUSH_RESULT_DEPTH, p, &jerr) != APR_SUCCESS) {
        mi_json_parse(pres, text, strlen(text), MI_PUSH_RESULT_DEPTH_LARGE, p, &jerr);
    }
    if (text == NULL || *pres == NULL || !json_object_is_type(*pres, json_type_object)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00401)
                      "%s returned no usable document", stmt->name);
        *pres = NULL;
        return MI_STORE_FAILED;
    }
    if (mi_json_get_int(*pres, "statusCode", 4) == 20) {
        return APR_NOTFOUND;
    }
    if (mi_json_get_int(*pres, "statusCode", 4) != 0) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00402)
                      "%s failed: %s", stmt->name, text);
        return MI_STORE_FAILED;
    }
    return APR_SUCCESS;
}

static const char *num(apr_pool_t *p, long long v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
}

static unsigned channel_bits(json_object *channels)
{
    size_t i, n = channels != NULL && json_object_is_type(channels, json_type_array)
                  ? json_object_array_length(channels) : 0;
    unsigned bits = 0;

    for (i = 0; i < n; i++) {
        const char *c = json_object_get_string(json_object_array_get_idx(channels, i));
        if (c != NULL && strchr(c, '*') == NULL) {
            bits |= mi_push_bx_channel_bits(c);
        }
    }
    return bits;
}

/* A PostgreSQL text[] literal of the channels in @bits (names need no quoting). */
static const char *channel_array(unsigned bits, apr_pool_t *p)
{
    const mi_push_bx_channel_t *ch;
    const char *out = "";
    int i, n;

    ch = mi_push_bx_channels(&n);
    for (i = 0; i < n; i++) {
        if (bits & ch[i].bit) {
            out = apr_pstrcat(p, out, *out != '\0' ? "," : "", ch[i].name, NULL);
        }
    }
    return apr_pstrcat(p, "{", out, "}", NULL);
}

static int session_from(mi_push_session_t *s, json_object *user, json_object *channels,
                        json_object *ack)
{
    memset(s, 0, sizeof(*s));
    s->channels = channel_bits(channels);
    s->ack = ack != NULL && json_object_get_boolean(ack);
    return mi_caller_from_json(&s->caller, user);
}

static apr_status_t be_handshake(void *baton, const mi_push_handshake_t *h, apr_pool_t *p,
                                 mi_push_refusal_e *prefused, long long *pretry_ms)
{
    const char *params[9];
    const char *refused;
    json_object *res;
    apr_status_t rv;

    *prefused = MI_PUSH_OPENED;
    *pretry_ms = 0;
    params[0] = apr_itoa(p, h->cc);
    params[1] = h->login;
    params[2] = h->client_id;
    params[3] = h->browser;
    params[4] = h->ack ? "true" : "false";
    params[5] = num(p, h->max_interval_ms);
    params[6] = apr_itoa(p, h->max_sessions);
    params[7] = apr_itoa(p, h->max_cc_sessions);
    params[8] = apr_itoa(p, h->per_minute);
    rv = call(baton, &st_handshake, params, p, &res);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    refused = mi_json_get_str(res, "refused");
    if (refused != NULL) {
        *prefused = strcmp(refused, "rate") == 0 ? MI_PUSH_TOO_FAST
                    : strcmp(refused, "sessions") == 0 ? MI_PUSH_USER_FULL : MI_PUSH_CC_FULL;
        *pretry_ms = mi_json_get_int(res, "retryMs", 0);
    }
    return APR_SUCCESS;
}

static apr_status_t be_session(void *baton, int cc, const char *login, const char *client_id,
                               long long max_interval_ms, apr_pool_t *p, mi_push_session_t *s)
{
    const char *params[4];
    json_object *res, *sess;
    apr_status_t rv;

    params[0] = apr_itoa(p, cc);
    params[1] = login;
    params[2] = client_id;
    params[3] = num(p, max_interval_ms);
    rv = call(baton, &st_session, params, p, &res);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    sess = mi_json_get(res, "session");
    if (sess == NULL || !json_object_is_type(sess, json_type_object)) {
        return APR_NOTFOUND;
    }
    if (!session_from(s, mi_json_get(sess, "user"), mi_json_get(sess, "channels"),
                      mi_json_get(sess, "ack"))) {
        return MI_STORE_FAILED;
    }
    return APR_SUCCESS;
}

/* A PostgreSQL text[] literal of @items, each quoted and escaped: a clientId is whatever the
 * client sent, and none may break out of its element. */
static const char *text_array(const char *const *items, int n, apr_pool_t *p)
{
    apr_size_t len = 3;
    char *out, *w;
    const char *c;
    int i;

    for (i = 0; i < n; i++) {
        len += 2 * strlen(items[i]) + 3;
    }
    out = w = apr_palloc(p, len);
    *w++ = '{';
    for (i = 0; i < n; i++) {
        if (i > 0) {
            *w++ = ',';
        }
        *w++ = '"';
        for (c = items[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\') {
                *w++ = '\\';
            }
            *w++ = *c;
        }
        *w++ = '"';
    }
    *w++ = '}';
    *w = '\0';
    return out;
}

static apr_status_t be_sessions(void *baton, int cc, const char *login,
                                const char *const *client_ids, int n, long long max_interval_ms,
                                apr_pool_t *p, mi_push_session_t *sessions, apr_status_t *rvs)
{
    const char *params[4];
    json_object *res, *all, *sess;
    apr_status_t rv;
    int i;

    params[0] = apr_itoa(p, cc);
    params[1] = login;
    params[2] = text_array(client_ids, n, p);
    params[3] = num(p, max_interval_ms);
    rv = call(baton, &st_session_batch, params, p, &res);
    if (rv != APR_SUCCESS) {
        return rv == APR_NOTFOUND ? MI_STORE_FAILED : rv;
    }
    all = mi_json_get(res, "sessions");
    if (all == NULL || !json_object_is_type(all, json_type_object)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00413)
                      "push_session_batch returned an unexpected document");
        return MI_STORE_FAILED;
    }
    for (i = 0; i < n; i++) {
        sess = mi_json_get(all, client_ids[i]);
        rvs[i] = APR_NOTFOUND;
        if (sess != NULL && json_object_is_type(sess, json_type_object)) {
            if (!session_from(&sessions[i], mi_json_get(sess, "user"),
                              mi_json_get(sess, "channels"), mi_json_get(sess, "ack"))) {
                return MI_STORE_FAILED;
            }
            rvs[i] = APR_SUCCESS;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t be_subscribe(void *baton, int cc, const char *login, const char *client_id,
                                 unsigned add, unsigned remove, apr_pool_t *p,
                                 unsigned *pchannels)
{
    const char *params[5];
    json_object *res, *sess;
    apr_status_t rv;

    params[0] = apr_itoa(p, cc);
    params[1] = login;
    params[2] = client_id;
    params[3] = channel_array(add, p);
    params[4] = channel_array(remove, p);
    rv = call(baton, &st_subscribe, params, p, &res);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    sess = mi_json_get(res, "session");
    if (sess == NULL || !json_object_is_type(sess, json_type_object)) {
        return APR_NOTFOUND;
    }
    *pchannels = channel_bits(mi_json_get(sess, "channels"));
    return APR_SUCCESS;
}

static apr_status_t be_connect(void *baton, const mi_push_connect_t *c, apr_pool_t *p,
                               mi_push_delivery_t *d)
{
    const char *params[10];
    const char *outcome;
    json_object *res;
    apr_status_t rv;

    params[0] = apr_itoa(p, c->cc);
    params[1] = c->login;
    params[2] = c->client_id;
    params[3] = c->first ? "true" : "false";
    params[4] = num(p, c->gen);
    params[5] = c->ack >= 0 ? num(p, c->ack) : NULL;
    params[6] = num(p, c->hold_ms);
    params[7] = num(p, c->max_interval_ms);
    params[8] = apr_itoa(p, c->per_browser);
    params[9] = apr_itoa(p, c->limit);
    rv = call(baton, &st_connect, params, p, &res);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    outcome = mi_json_get_str(res, "outcome");
    d->batch = -1;
    if (outcome != NULL && strcmp(outcome, "unknown") == 0) {
        d->outcome = MI_PUSH_UNKNOWN;
        return APR_SUCCESS;
    }
    if (outcome != NULL && strcmp(outcome, "superseded") == 0) {
        d->outcome = MI_PUSH_SUPERSEDED;
        return APR_SUCCESS;
    }
    if (outcome == NULL || strcmp(outcome, "ok") != 0
        || !session_from(&d->session, mi_json_get(res, "user"), mi_json_get(res, "channels"),
                         NULL)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00403)
                      "push_connect returned an unexpected document");
        return MI_STORE_FAILED;
    }
    d->gen = mi_json_get_int(res, "gen", 0);
    if (json_object_get_boolean(mi_json_get(res, "held"))) {
        const char *xid = mi_json_get_str(res, "xid");

        d->outcome = MI_PUSH_HELD;
        d->session.ack = json_object_get_boolean(mi_json_get(res, "ack"));
        if (xid != NULL && mi_json_get(res, "seq") != NULL) {
            d->have_pos = 1;
            d->xid = (apr_uint64_t)apr_strtoi64(xid, NULL, 10);
            d->seq = mi_json_get_int(res, "seq", 0);
        }
        return APR_SUCCESS;
    }
    d->outcome = MI_PUSH_DELIVER;
    d->batch = mi_json_get_int(res, "batch", -1);
    d->multiple_clients = json_object_get_boolean(mi_json_get(res, "multipleClients"));
    d->events = mi_json_get(res, "events");
    return APR_SUCCESS;
}

static apr_status_t be_disconnect(void *baton, int cc, const char *login, const char *client_id,
                                  apr_pool_t *p)
{
    const char *params[3];
    json_object *res;
    apr_status_t rv;

    params[0] = apr_itoa(p, cc);
    params[1] = login;
    params[2] = client_id;
    rv = call(baton, &st_disconnect, params, p, &res);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return json_object_get_boolean(mi_json_get(res, "found")) ? APR_SUCCESS : APR_NOTFOUND;
}

static apr_status_t be_snapshots(void *baton, int cc, const char *login, const long long *seqs,
                                 int n, apr_pool_t *p, json_object **pevents)
{
    const char *params[3];
    json_object *res, *events;
    char *list = apr_palloc(p, (apr_size_t)n * 21 + 3), *w = list;
    apr_status_t rv;
    int i;

    *pevents = NULL;
    *w++ = '{';
    for (i = 0; i < n; i++) {
        w += snprintf(w, 22, "%s%lld", i > 0 ? "," : "", seqs[i]);
    }
    *w++ = '}';
    *w = '\0';
    params[0] = apr_itoa(p, cc);
    params[1] = login;
    params[2] = list;
    rv = call(baton, &st_snapshots, params, p, &res);
    if (rv != APR_SUCCESS) {
        return rv == APR_NOTFOUND ? MI_STORE_FAILED : rv;
    }
    events = mi_json_get(res, "events");
    if (events == NULL || !json_object_is_type(events, json_type_array)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00405)
                      "push_snapshots returned an unexpected document");
        return MI_STORE_FAILED;
    }
    *pevents = events;
    return APR_SUCCESS;
}

void mi_push_store_backend(mi_push_backend_t *backend, mi_store_t *store)
{
    memset(backend, 0, sizeof(*backend));
    backend->baton = store;
    backend->handshake = be_handshake;
    backend->session = be_session;
    backend->sessions = be_sessions;
    backend->subscribe = be_subscribe;
    backend->connect = be_connect;
    backend->disconnect = be_disconnect;
    backend->snapshots = be_snapshots;
}
