/* mi_push.c — see mi_push.h */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "mi_json.h"
#include "mi_log.h"
#include "mi_push.h"
#include "mi_tunables.h"

struct mi_push_t {
    mi_push_conf_t conf;
    mi_push_backend_t backend;
    mi_push_cache_t *cache;
    mi_push_waiters_t *waiters;
    mi_push_change_cb *changed;
    void *changed_baton;
};

/* Sessions looked up while processing one request (normally one clientId). */
typedef struct known_t {
    struct known_t *next;
    const char *client_id;
    apr_status_t rv;             /* APR_SUCCESS, APR_NOTFOUND or a store failure */
    mi_push_session_t s;
    int connected;               /* a connect of it was answered in this request */
} known_t;

/* A /meta/subscribe or /meta/unsubscribe of a request of several messages.  Those of one
 * session between two of its connects or disconnects form a group, applied in one call
 * (plan_subscriptions()). */
typedef struct {
    int leader;                  /* the index of the group's first message */
    int planned;                 /* leader: the group's call was made */
    const char *err;             /* this message refused (nothing of it applied) */
    unsigned bits;               /* this message's channels that are recorded */
    apr_status_t rv;             /* leader: the call's outcome */
} sub_t;

typedef struct {
    mi_push_t *push;
    const mi_push_req_t *req;
    int nmsgs;
    const mi_push_bx_msg_t *msgs;
    sub_t *subs;                 /* per message */
    json_object *replies;
    known_t *known;
    int prefetched;              /* every session the request names is in known */
    int stopping;                /* the waiter registry is closed: this process stops */
} ctx_t;

apr_status_t mi_push_create(mi_push_t **ppush, const mi_push_conf_t *conf,
                            const mi_push_backend_t *backend, mi_push_waiters_t *waiters,
                            apr_pool_t *p)
{
    mi_push_t *push = apr_pcalloc(p, sizeof(*push));
    apr_status_t rv;

    *ppush = NULL;
    push->conf = *conf;
    push->backend = *backend;
    push->waiters = waiters;
    rv = mi_push_cache_create(&push->cache, conf->cache_rows > 0 ? conf->cache_rows : MI_PUSH_CACHE_ROWS, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    mi_push_cache_set_max_bytes(push->cache, conf->cache_bytes > 0 ? (apr_size_t)conf->cache_bytes : 0);
    *ppush = push;
    return APR_SUCCESS;
}

mi_push_cache_t *mi_push_cache_of(mi_push_t *push)
{
    return push->cache;
}

void mi_push_on_change(mi_push_t *push, mi_push_change_cb *fn, void *baton)
{
    push->changed = fn;
    push->changed_baton = baton;
}

/* ------------------------------------------------------------------ helpers */

static void add(ctx_t *x, json_object *reply)
{
    json_object_array_add(x->replies, reply);
}

/* The store failed: tell the client to try again a little later. */
static json_object *unavailable(ctx_t *x, const mi_push_bx_msg_t *m, const char *reconnect)
{
    json_object *r = mi_push_bx_reply(m, 0, m->client_id);

    mi_push_bx_set_error(r, "503::the database is unavailable; retry later");
    mi_push_bx_set_advice(r, reconnect, x->push->conf.retry_interval_ms, -1, 0);
    return r;
}

static known_t *lookup(ctx_t *x, const char *client_id)
{
    known_t *k;

    for (k = x->known; k != NULL; k = k->next) {
        if (strcmp(k->client_id, client_id) == 0) {
            return k;
        }
    }
    k = apr_pcalloc(x->req->pool, sizeof(*k));
    k->client_id = client_id;
    k->rv = x->push->backend.session(x->push->backend.baton, x->req->cc, x->req->login,
                                     client_id, x->push->conf.max_interval_ms, x->req->pool,
                                     &k->s);
    k->next = x->known;
    x->known = k;
    return k;
}

/* The session a non-connect message names, or NULL after adding the failure reply. */
static known_t *session_for(ctx_t *x, const mi_push_bx_msg_t *m)
{
    known_t *k;

    if (m->client_id == NULL) {
        add(x, mi_push_bx_unknown_client(m));
        return NULL;
    }
    k = lookup(x, m->client_id);
    if (k->rv == APR_NOTFOUND) {
        add(x, mi_push_bx_unknown_client(m));
        return NULL;
    }
    if (k->rv != APR_SUCCESS) {
        add(x, unavailable(x, m, "retry"));
        return NULL;
    }
    return k;
}

/* ------------------------------------------------------------------ /meta/handshake */

static void meta_handshake(ctx_t *x, const mi_push_bx_msg_t *m, mi_push_resp_t *resp)
{
    const mi_push_conf_t *conf = &x->push->conf;
    const char *err = NULL, *client_id = NULL, *browser = x->req->browser;
    int ack = mi_push_bx_wants_ack(m);
    json_object *r, *types;
    mi_push_handshake_t h;
    mi_push_refusal_e refused = MI_PUSH_OPENED;
    long long retry_ms = 0;
    apr_status_t rv;

    if (!mi_push_bx_handshake_ok_ws(m, conf->websocket, &err)) {
        r = mi_push_bx_reply(m, 0, NULL);
        mi_push_bx_set_error(r, err);
        /* retrying the same offer cannot succeed */
        mi_push_bx_set_advice(r, "none", -1, -1, 0);
        add(x, r);
        return;
    }
    if (mi_push_bx_random_id(x->req->pool, &client_id) != APR_SUCCESS
        || (browser == NULL && mi_push_bx_random_id(x->req->pool, &browser) != APR_SUCCESS)) {
        add(x, unavailable(x, m, "handshake"));
        return;
    }
    if (browser != x->req->browser) {
        resp->new_browser = browser;
    }
    memset(&h, 0, sizeof(h));
    h.cc = x->req->cc;
    h.login = x->req->login;
    h.client_id = client_id;
    h.browser = browser;
    h.ack = ack;
    h.max_interval_ms = conf->max_interval_ms;
    h.max_sessions = conf->max_sessions;
    h.max_cc_sessions = conf->max_cc_sessions;
    h.per_minute = conf->handshakes_per_minute;
    rv = x->push->backend.handshake(x->push->backend.baton, &h, x->req->pool, &refused,
                                    &retry_ms);
    if (rv == APR_SUCCESS && refused != MI_PUSH_OPENED) {
        /* answered at once; CometD and Faye handshake again after the interval */
        r = mi_push_bx_reply(m, 0, NULL);
        mi_push_bx_set_error(r, refused == MI_PUSH_TOO_FAST
                                ? "429::too_many_handshakes: this user handshakes too often; "
                                  "retry after advice.interval"
                                : refused == MI_PUSH_USER_FULL
                                ? "429::too_many_sessions: this user has the most sessions allowed; "
                                  "disconnect one or retry after advice.interval"
                                : "429::too_many_sessions: this contact center has the most "
                                  "sessions allowed; retry after advice.interval");
        mi_push_bx_set_advice(r, "handshake", retry_ms > 0 ? retry_ms : conf->retry_interval_ms,
                              -1, 0);
        add(x, r);
        return;
    }
    if (rv == APR_NOTFOUND) {
        r = mi_push_bx_reply(m, 0, NULL);
        mi_push_bx_set_error(r, "403::handshake_denied: not a user of this contact center");
        mi_push_bx_set_advice(r, "none", -1, -1, 0);
        add(x, r);
        return;
    }
    if (rv != APR_SUCCESS) {
        add(x, unavailable(x, m, "handshake"));
        return;
    }
    r = mi_push_bx_reply(m, 1, client_id);
    json_object_object_add(r, "version", json_object_new_string("1.0"));
    json_object_object_add(r, "minimumVersion", json_object_new_string("1.0"));
    types = json_object_new_array();
    if (conf->websocket) {
        /* first: the client takes the first of its own list that the server names, and
         * CometD and Faye list it first; a client whose upgrade failed skips it */
        json_object_array_add(types, json_object_new_string("websocket"));
    }
    json_object_array_add(types, json_object_new_string("long-polling"));
    if (conf->jsonp) {
        json_object_array_add(types, json_object_new_string("callback-polling"));
    }
    json_object_object_add(r, "supportedConnectionTypes", types);
    /* always "retry": a client still remembering "handshake" from a 402 would loop */
    mi_push_bx_set_advice(r, "retry", 0, conf->timeout_ms, 0);
    if (ack) {
        json_object *ext = json_object_new_object();
        json_object_object_add(ext, "ack", json_object_new_boolean(1));
        json_object_object_add(r, "ext", ext);
    }
    add(x, r);
}

/* ------------------------------------------------------------------ /meta/connect */

/* An event to the session only through /v2/interactions, sent by the store without its
 * snapshot: its message comes from the process's cache. */
static int lean(json_object *e)
{
    json_object *me = mi_json_get(e, "me"), *all = mi_json_get(e, "all");
    json_object *snap = mi_json_get(e, "snapshot");

    return all != NULL && json_object_get_boolean(all)
           && !(me != NULL && json_object_get_boolean(me))
           && (snap == NULL || json_object_is_type(snap, json_type_null));
}

/* Add the messages of @d to the replies, in order.  Lean events are answered from the cache;
 * those not in it yet are fetched in one call and cached for the process's other sessions.
 * Returns APR_SUCCESS or the store's failure (nothing was added then). */
static apr_status_t deliver(ctx_t *x, const mi_push_delivery_t *d)
{
    size_t i, n = d->events != NULL ? json_object_array_length(d->events) : 0;
    const mi_caller_t *caller = &d->session.caller;
    json_object **lean_msgs = apr_pcalloc(x->req->pool, (n + 1) * sizeof(*lean_msgs));
    long long *missing = apr_palloc(x->req->pool, (n + 1) * sizeof(*missing));
    int nmissing = 0;

    /* 1. lean events: cached messages, and which rows must be fetched */
    for (i = 0; i < n && (d->session.channels & MI_PUSH_ALL); i++) {
        json_object *e = json_object_array_get_idx(d->events, i);
        const char *text;
        long long seq;

        if (!lean(e)) {
            continue;
        }
        seq = mi_json_get_int(e, "seq", -1);
        text = mi_push_cache_message(x->push->cache, x->req->cc, seq, caller, x->req->base,
                                     x->req->pool);
        if (text != NULL) {
            lean_msgs[i] = mi_push_cache_raw(text);
        }
        else {
            missing[nmissing++] = seq;
        }
    }
    /* 2. the rows not cached: one call, then cached and rendered */
    if (nmissing > 0) {
        json_object *rows = NULL;
        apr_hash_t *by_seq = apr_hash_make(x->req->pool);
        apr_status_t rv = x->push->backend.snapshots(x->push->backend.baton, x->req->cc,
                                                     x->req->login, missing, nmissing,
                                                     x->req->pool, &rows);
        size_t k, nrows;

        if (rv != APR_SUCCESS) {
            for (i = 0; i < n; i++) {
                if (lean_msgs[i] != NULL) {
                    json_object_put(lean_msgs[i]);
                }
            }
            return rv;
        }
        nrows = rows != NULL ? json_object_array_length(rows) : 0;
        for (k = 0; k < nrows; k++) {
            json_object *row = json_object_array_get_idx(rows, k);
            long long *key = apr_palloc(x->req->pool, sizeof(*key));
            *key = mi_json_get_int(row, "seq", -1);
            apr_hash_set(by_seq, key, sizeof(*key), row);
        }
        for (i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(d->events, i), *row;
            long long seq;

            if (lean_msgs[i] != NULL || !(d->session.channels & MI_PUSH_ALL) || !lean(e)) {
                continue;
            }
            seq = mi_json_get_int(e, "seq", -1);
            row = apr_hash_get(by_seq, &seq, sizeof(seq));
            if (row == NULL || !json_object_is_type(mi_json_get(row, "snapshot"), json_type_object)) {
                continue;      /* a row the subscriber may not see: nothing to send */
            }
            /* the connect's event carries notification and referenceId, the row the rest */
            json_object_object_add(e, "snapshot", json_object_get(mi_json_get(row, "snapshot")));
            mi_push_cache_put(x->push->cache, x->req->cc, seq, e);
            lean_msgs[i] = mi_push_bx_event(MI_PUSH_BX_CH_ALL, e, caller, x->req->base, 0, x->req->pool);
        }
    }
    /* 3. in order */
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(d->events, i);
        json_object *me = mi_json_get(e, "me"), *all = mi_json_get(e, "all");
        json_object *revoked = mi_json_get(e, "revoked");

        if (lean_msgs[i] != NULL) {
            add(x, lean_msgs[i]);
            continue;
        }
        if (lean(e)) {
            continue;
        }
        if (me != NULL && json_object_get_boolean(me) && (d->session.channels & MI_PUSH_ME)) {
            add(x, mi_push_bx_event(MI_PUSH_BX_CH_ME, e, caller, x->req->base,
                                    revoked != NULL && json_object_get_boolean(revoked), x->req->pool));
        }
        if (all != NULL && json_object_get_boolean(all) && (d->session.channels & MI_PUSH_ALL)) {
            add(x, mi_push_bx_event(MI_PUSH_BX_CH_ALL, e, caller, x->req->base, 0, x->req->pool));
        }
        /* an agent's channel state: to the agent, and to the contact center's followers */
        if (json_object_get_boolean(mi_json_get(e, "mych")) && (d->session.channels & MI_PUSH_MYCH)) {
            add(x, mi_push_bx_channel_event(MI_PUSH_BX_CH_MY_CHANNELS, e));
        }
        if (json_object_get_boolean(mi_json_get(e, "agents"))
            && (d->session.channels & MI_PUSH_AGENTS)) {
            add(x, mi_push_bx_channel_event(MI_PUSH_BX_CH_AGENTS, e));
        }
    }
    return APR_SUCCESS;
}

/* The JSON text of a row's snapshot as an object bound to the request's pool; NULL if unreadable. */
static json_object *parse_snapshot(ctx_t *x, const char *text)
{
    json_object *o = NULL;
    mi_json_error_t jerr;

    if (text == NULL
        || mi_json_parse(&o, text, strlen(text), MI_PUSH_RESULT_DEPTH_LARGE, x->req->pool, &jerr)
               != APR_SUCCESS) {
        return NULL;
    }
    return o;
}

/* The rows the listener handed the held connect @w (DELIVER), as the events push_connect
 * would have returned: d->events, d->batch, and the user's roles when the cursor was
 * written.  A row for the session only through /v2/interactions goes into the process's
 * cache (from the listener's copy: no push_snapshots call) and out as a lean event. */
static void from_memory(ctx_t *x, mi_push_waiter_t *w, mi_push_delivery_t *d)
{
    mi_push_waiter_delivery_t got;
    int i, k;

    mi_push_waiter_take(x->push->waiters, w, x->req->pool, &got);
    d->outcome = MI_PUSH_DELIVER;
    d->multiple_clients = 0;
    d->batch = d->session.ack ? got.batch : -1;
    d->session.caller.is_agent = got.agent;
    d->session.caller.is_supervisor = got.supervisor;
    d->session.caller.is_admin = got.admin;
    d->session.caller.is_apiuser = got.apiuser;
    d->events = mi_json_bind(x->req->pool, json_object_new_array());
    for (i = 0; i < got.n; i++) {
        const mi_push_row_t *r = got.rows[i];
        int me = (got.how[i] & MI_PUSH_ME) != 0, all = (got.how[i] & MI_PUSH_ALL) != 0;
        int mych = (got.how[i] & MI_PUSH_MYCH) != 0, agents = (got.how[i] & MI_PUSH_AGENTS) != 0;
        int revoked = 0;
        json_object *e = json_object_new_object(), *snap = NULL;

        for (k = 0; me && k < r->n_revoked && !revoked; k++) {
            revoked = strcmp(r->revoked[k], x->req->login) == 0;
        }
        json_object_object_add(e, "seq", json_object_new_int64(r->seq));
        json_object_object_add(e, "notification", json_object_new_string(r->notification));
        json_object_object_add(e, "referenceId",
                               r->reference_id >= 0 ? json_object_new_int64(r->reference_id)
                                                    : NULL);
        if (me || mych || agents || !mi_push_cache_has(x->push->cache, x->req->cc, r->seq)) {
            snap = parse_snapshot(x, r->snapshot);
            if (snap == NULL) {
                json_object_put(e);
                continue; /* a row whose snapshot is unreadable: nothing to send */
            }
            json_object_object_add(e, "snapshot", json_object_get(snap));
            /* channel states are small and rendered alike for everyone: not cached */
            if (!me && all && mi_push_cache_put(x->push->cache, x->req->cc, r->seq, e)) {
                /* cached: the message comes from there, rendered once per variant */
                json_object_object_add(e, "snapshot", NULL);
            }
        }
        json_object_object_add(e, "me", json_object_new_boolean(me));
        json_object_object_add(e, "revoked", json_object_new_boolean(revoked));
        json_object_object_add(e, "all", json_object_new_boolean(all));
        json_object_object_add(e, "mych", json_object_new_boolean(mych));
        json_object_object_add(e, "agents", json_object_new_boolean(agents));
        json_object_array_add(d->events, e);
    }
}

/* Does @d hold a message the session may receive on its channels now? */
static int deliverable(const mi_push_delivery_t *d)
{
    size_t i, n = d->events != NULL ? json_object_array_length(d->events) : 0;

    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(d->events, i);

        if (((d->session.channels & MI_PUSH_ME) && json_object_get_boolean(mi_json_get(e, "me")))
            || ((d->session.channels & MI_PUSH_ALL)
                && json_object_get_boolean(mi_json_get(e, "all")))
            || ((d->session.channels & MI_PUSH_MYCH)
                && json_object_get_boolean(mi_json_get(e, "mych")))
            || ((d->session.channels & MI_PUSH_AGENTS)
                && json_object_get_boolean(mi_json_get(e, "agents")))) {
            return 1;
        }
    }
    return 0;
}

static void meta_connect(ctx_t *x, const mi_push_bx_msg_t *m)
{
    const mi_push_conf_t *conf = &x->push->conf;
    long long client_timeout = mi_push_bx_connect_timeout(m);
    mi_push_connect_t c;
    mi_push_delivery_t d;
    mi_push_waiter_t *w = NULL;
    mi_push_waiter_state_e st;
    apr_time_t deadline;
    json_object *r = NULL;
    apr_status_t rv;
    int busy = 0, share = 0, handed = 0;

    if (m->client_id == NULL) {
        add(x, mi_push_bx_unknown_client(m));
        return;
    }
    if (x->prefetched) {
        /* a request of several messages: its sessions are known already */
        known_t *k = session_for(x, m);

        if (k == NULL) {
            return;
        }
        if (k->connected) {
            /* Bayeux: one connect per session at a time; a second in the same request
             * would only cost the database another call */
            r = mi_push_bx_reply(m, 0, m->client_id);
            mi_push_bx_set_error(r, "409::one /meta/connect per session and request");
            add(x, r);
            return;
        }
        k->connected = 1;
    }
    memset(&c, 0, sizeof(c));
    c.cc = x->req->cc;
    c.login = x->req->login;
    c.client_id = m->client_id;
    c.first = 1;
    c.ack = mi_push_bx_connect_ack(m);
    c.per_browser = x->req->websocket ? 0 : conf->per_browser;
    c.max_interval_ms = conf->max_interval_ms;
    c.limit = conf->batch_limit;
    /* Held only when alone in its request (the client waits for the other replies) and the
     * client did not ask for an immediate answer; a shorter client timeout is honoured. */
    c.hold_ms = conf->timeout_ms;
    if (x->nmsgs != 1 || client_timeout == 0) {
        c.hold_ms = 0;
    }
    else if (client_timeout > 0 && client_timeout < c.hold_ms) {
        c.hold_ms = client_timeout;
    }
    if (c.hold_ms > 0) {
        /* registered before the database is asked, so news committed in between wakes it */
        if (x->push->waiters == NULL) {
            rv = APR_EBUSY;
        }
        else if (x->req->websocket) {
            rv = mi_push_waiter_register_held(x->push->waiters, c.cc, c.login, c.client_id,
                                              x->req->pool, &w);
        }
        else {
            rv = mi_push_waiter_register(x->push->waiters, c.cc, c.login, c.client_id,
                                         x->req->pool, &w);
        }
        if (rv != APR_SUCCESS) {
            /* not held: answered at once, and told when to come back */
            c.hold_ms = 0;
            busy = (rv == APR_EBUSY);
            share = (rv == MI_PUSH_WAITERS_USER_FULL || rv == MI_PUSH_WAITERS_CC_FULL);
            x->stopping = (rv == APR_EOF);
        }
    }
    deadline = apr_time_now() + apr_time_from_msec(c.hold_ms);

    for (;;) {
        if (!handed) {
            memset(&d, 0, sizeof(d));
            rv = x->push->backend.connect(x->push->backend.baton, &c, x->req->pool, &d);
            if (rv != APR_SUCCESS) {
                r = unavailable(x, m, "retry");
                break;
            }
        }
        if (d.outcome == MI_PUSH_UNKNOWN) {
            r = mi_push_bx_unknown_client(m);
            break;
        }
        if (d.outcome == MI_PUSH_SUPERSEDED) {
            r = mi_push_bx_reply(m, 1, m->client_id);
            break;
        }
        /* Rights are checked where data leaves, with the roles this very call read: a
         * subscription to /v2/interactions outlives a demotion, its deliveries do not (the
         * store leaves those events out too; this keeps cached messages from going out). */
        d.session.channels &= mi_push_bx_allowed(&d.session.caller);
        if (handed && !deliverable(&d) && w != NULL
            && deadline - apr_time_now() >= apr_time_from_msec(MI_PUSH_MIN_HOLD_MS)) {
            /* every row handed over was for rights the user no longer has: nothing to say,
             * hold on (its cursor passed them, as push_connect would have) */
            handed = 0;
            c.first = 0;
            c.gen = d.gen;
            c.ack = -1;
            c.per_browser = 0;
            c.hold_ms = (long long)apr_time_as_msec(deadline - apr_time_now());
            continue;
        }
        handed = 0;
        if (d.outcome == MI_PUSH_HELD && w != NULL) {
            apr_interval_time_t left;

            mi_push_waiter_narrow(x->push->waiters, w, (d.session.channels & MI_PUSH_CC_WIDE) != 0);
            if (d.have_pos) {
                /* from here on the listener hands it its rows from memory */
                mi_push_waiter_track_t t;

                memset(&t, 0, sizeof(t));
                t.xid = d.xid;
                t.seq = d.seq;
                t.channels = d.session.channels;
                t.ack = d.session.ack;
                t.gen = d.gen;
                t.max_interval_ms = conf->max_interval_ms;
                t.limit = conf->batch_limit;
                mi_push_waiter_track(x->push->waiters, w, &t);
            }
            /* Wake-ups travel through NOTIFY, which is not durable: one sent while a listener
             * was reconnecting is gone.  A held connect therefore looks at its session again
             * every MI_PUSH_RECHECK_MS of its own accord, so a lost wake-up costs seconds, not the
             * whole hold. */
            {
                apr_time_t until = deadline - apr_time_now() > apr_time_from_msec(MI_PUSH_RECHECK_MS)
                                   ? apr_time_now() + apr_time_from_msec(MI_PUSH_RECHECK_MS)
                                   : deadline;

                st = x->req->wait != NULL ? x->req->wait(x->req->wait_baton, w, until)
                                          : mi_push_waiter_wait(x->push->waiters, w, until);
            }
            if (st == MI_PUSH_WAITER_DELIVER) {
                /* its cursor is written: answer with the rows, whatever else came meanwhile
                 * (a process stopping still sends them, and says to reconnect elsewhere) */
                from_memory(x, w, &d);
                if (mi_push_waiter_reason(x->push->waiters, w) == MI_PUSH_WAITER_STOPPING) {
                    x->stopping = 1;
                }
                handed = 1;
                continue;
            }
            if (st == MI_PUSH_WAITER_TIMED_OUT
                && deadline - apr_time_now() >= apr_time_from_msec(MI_PUSH_MIN_HOLD_MS)
                && mi_push_waiter_rearm(x->push->waiters, w)) {
                st = MI_PUSH_WAITER_NOTIFIED;   /* not the end of the hold: look again */
            }
            else if (st == MI_PUSH_WAITER_TIMED_OUT
                     && mi_push_waiter_reason(x->push->waiters, w) != MI_PUSH_WAITER_NO_REASON) {
                st = MI_PUSH_WAITER_CANCELLED;  /* cancelled while it looked: answer as cancelled */
            }
            if (st == MI_PUSH_WAITER_CANCELLED) {
                mi_push_waiter_reason_e why = mi_push_waiter_reason(x->push->waiters, w);
                r = mi_push_bx_reply(m, 1, m->client_id);
                if (why == MI_PUSH_WAITER_DISCONNECTED) {
                    mi_push_bx_set_advice(r, "none", -1, -1, 0);
                }
                else if (why == MI_PUSH_WAITER_STOPPING) {
                    /* this process is going away; the session is not: reconnect elsewhere */
                    mi_push_bx_set_advice(r, "retry", 0, conf->timeout_ms, 0);
                    x->stopping = 1;
                }
                break;
            }
            /* notified (or timed out): look again, holding on for the rest of the time */
            left = deadline - apr_time_now();
            c.first = 0;
            c.gen = d.gen;
            c.ack = -1;
            c.per_browser = 0;
            c.hold_ms = (st == MI_PUSH_WAITER_TIMED_OUT || left < apr_time_from_msec(MI_PUSH_MIN_HOLD_MS))
                        ? 0 : (long long)apr_time_as_msec(left);
            continue;
        }
        if (d.outcome != MI_PUSH_DELIVER) {
            /* HELD without a waiter cannot happen (hold_ms was 0); never hang on it */
            r = mi_push_bx_reply(m, 1, m->client_id);
            break;
        }
        if (deliver(x, &d) != APR_SUCCESS) {
            /* without the ack extension these events are lost like a reply lost on its
             * way; with it the client acknowledges the previous batch and gets them again */
            r = unavailable(x, m, "retry");
            break;
        }
        r = mi_push_bx_reply(m, 1, m->client_id);
        if (d.multiple_clients) {
            mi_push_bx_set_advice(r, "retry", conf->multi_interval_ms, conf->timeout_ms, 1);
        }
        else if (share) {
            mi_push_bx_set_advice(r, "retry", conf->share_interval_ms, conf->timeout_ms, 0);
        }
        else if (busy) {
            mi_push_bx_set_advice(r, "retry", conf->busy_interval_ms, conf->timeout_ms, 0);
        }
        else {
            mi_push_bx_set_advice(r, "retry", 0, conf->timeout_ms, 0);
        }
        if (d.batch >= 0) {
            json_object *ext = json_object_new_object();
            json_object_object_add(ext, "ack", json_object_new_int64(d.batch));
            json_object_object_add(r, "ext", ext);
        }
        break;
    }
    if (w != NULL) {
        mi_push_waiter_unregister(x->push->waiters, w);
    }
    add(x, r);
}

/* ------------------------------------------------------------------ (un)subscribe */

/* Which channels of (un)subscription @m are recorded (*pbits) and whether it is refused
 * (*perr); @k is its session. */
static void sub_check(ctx_t *x, const mi_push_bx_msg_t *m, const known_t *k, unsigned *pbits,
                      const char **perr)
{
    const char **chans = NULL;
    const char *err = NULL;
    unsigned bits = 0;
    int i, n, on = (m->type == MI_PUSH_BX_SUBSCRIBE);

    n = mi_push_bx_subscriptions(m, x->req->pool, &chans);
    if (n == 0) {
        err = "403::subscription_missing (a channel name or an array of them)";
    }
    for (i = 0; i < n && err == NULL; i++) {
        if (on) {
            unsigned these = 0;

            /* service channels: nothing to record */
            if (mi_push_bx_authorize(chans[i], &k->s.caller, x->req->pool, &these, &err)
                == MI_PUSH_BX_SUB_CHANNELS) {
                bits |= these;
            }
        }
        else if (!mi_push_bx_channel_valid(chans[i])) {
            err = apr_psprintf(x->req->pool, "405:%s:Invalid channel", chans[i]);
        }
        else {
            /* a wildcard ends what it named */
            bits |= mi_push_bx_channel_bits(chans[i]);
        }
    }
    *pbits = err == NULL ? bits : 0;
    *perr = err;
}

static int is_sub(const mi_push_bx_msg_t *m)
{
    return m->type == MI_PUSH_BX_SUBSCRIBE || m->type == MI_PUSH_BX_UNSUBSCRIBE;
}

/* Group the (un)subscriptions of each session: a message joins the group of the previous
 * (un)subscription of its session unless a connect or disconnect of that session came in
 * between.  Within a group only the order of one session's messages matters, and for each
 * channel the last message naming it decides, so one call with the net additions and
 * removals records what one call per message would have; messages of other sessions in
 * between commute with them. */
static void plan_subscriptions(ctx_t *x)
{
    int i, j;

    x->subs = apr_pcalloc(x->req->pool, (apr_size_t)(unsigned)x->nmsgs * sizeof(*x->subs));
    for (i = 0; i < x->nmsgs; i++) {
        const mi_push_bx_msg_t *m = &x->msgs[i];

        x->subs[i].leader = i;
        if (!is_sub(m) || m->client_id == NULL) {
            continue;
        }
        for (j = i - 1; j >= 0; j--) {
            const mi_push_bx_msg_t *o = &x->msgs[j];

            if (o->client_id == NULL || strcmp(o->client_id, m->client_id) != 0) {
                continue;
            }
            if (is_sub(o)) {
                x->subs[i].leader = x->subs[j].leader;
            }
            break;          /* a connect or disconnect of the session ends the group */
        }
    }
}

/* Record the group led by message @lead of session @k: one call. */
static void apply_group(ctx_t *x, int lead, known_t *k)
{
    sub_t *g = &x->subs[lead];
    unsigned add_bits = 0, remove_bits = 0, now = 0;
    int i;

    for (i = lead; i < x->nmsgs; i++) {
        sub_t *t = &x->subs[i];

        if (t->leader != lead || !is_sub(&x->msgs[i])) {
            continue;
        }
        sub_check(x, &x->msgs[i], k, &t->bits, &t->err);
        if (x->msgs[i].type == MI_PUSH_BX_SUBSCRIBE) {
            add_bits |= t->bits;
            remove_bits &= ~t->bits;
        }
        else {
            remove_bits |= t->bits;
            add_bits &= ~t->bits;
        }
    }
    g->planned = 1;
    g->rv = APR_SUCCESS;
    if (add_bits == 0 && remove_bits == 0) {
        return;
    }
    /* one request at a time per session (Bayeux), so the cached view stays right */
    g->rv = x->push->backend.subscribe(x->push->backend.baton, x->req->cc, x->req->login,
                                       k->client_id, add_bits, remove_bits, x->req->pool, &now);
    if (g->rv != APR_SUCCESS) {
        return;
    }
    k->s.channels = now;
    /* CometD subscribes while its connect is held: that connect, here or elsewhere, looked
     * at the session before and does not yet listen for the contact center's news.  Wake
     * it (it re-reads the session) and have the other processes do so. */
    if (add_bits & MI_PUSH_CC_WIDE) {
        if (x->push->waiters != NULL) {
            mi_push_waiters_notify(x->push->waiters, x->req->cc, &x->req->login, 1, 0);
        }
        if (x->push->changed != NULL) {
            x->push->changed(x->push->changed_baton, MI_PUSH_WIDENED, x->req->cc,
                             x->req->login, k->client_id);
        }
    }
}

static void meta_subscribe(ctx_t *x, const mi_push_bx_msg_t *m, int i)
{
    json_object *echo = mi_json_get(m->json, "subscription");
    sub_t *t = &x->subs[i], *g = &x->subs[x->subs[i].leader];
    known_t *k;
    json_object *r;

    k = session_for(x, m);
    if (k == NULL) {
        return;
    }
    if (!g->planned) {
        apply_group(x, t->leader, k);
    }
    if (t->err == NULL && t->bits != 0 && g->rv == APR_NOTFOUND) {
        add(x, mi_push_bx_unknown_client(m));
        return;
    }
    if (t->err == NULL && t->bits != 0 && g->rv != APR_SUCCESS) {
        add(x, unavailable(x, m, "retry"));
        return;
    }
    r = mi_push_bx_reply(m, t->err == NULL, m->client_id);
    if (echo != NULL) {
        json_object_object_add(r, "subscription", json_object_get(echo));
    }
    if (t->err != NULL) {
        mi_push_bx_set_error(r, t->err);
    }
    add(x, r);
}

/* ------------------------------------------------------------------ the rest */

static void meta_disconnect(ctx_t *x, const mi_push_bx_msg_t *m)
{
    known_t *k = NULL;
    apr_status_t rv;

    if (m->client_id == NULL) {
        add(x, mi_push_bx_unknown_client(m));
        return;
    }
    if (x->prefetched && (k = session_for(x, m)) == NULL) {
        return;
    }
    rv = x->push->backend.disconnect(x->push->backend.baton, x->req->cc, x->req->login,
                                     m->client_id, x->req->pool);
    if (rv == APR_NOTFOUND) {
        add(x, mi_push_bx_unknown_client(m));
        return;
    }
    if (rv != APR_SUCCESS) {
        add(x, unavailable(x, m, "retry"));
        return;
    }
    if (k != NULL) {
        k->rv = APR_NOTFOUND;   /* what the request says of it later is for a gone session */
    }
    /* A connect of this session held here answers now; one held by another process is
     * told through the listener (CometD waits for that answer after a disconnect). */
    if ((x->push->waiters == NULL
         || mi_push_waiters_cancel_client(x->push->waiters, x->req->cc, x->req->login, m->client_id,
                                          MI_PUSH_WAITER_DISCONNECTED) == 0)
        && x->push->changed != NULL) {
        x->push->changed(x->push->changed_baton, MI_PUSH_GONE, x->req->cc, x->req->login,
                         m->client_id);
    }
    add(x, mi_push_bx_reply(m, 1, m->client_id));
}

static void refuse(ctx_t *x, const mi_push_bx_msg_t *m, const char *error)
{
    json_object *r;

    if (session_for(x, m) == NULL) {
        return;
    }
    r = mi_push_bx_reply(m, 0, m->client_id);
    mi_push_bx_set_error(r, error);
    add(x, r);
}

/* A request of several messages: every session it names is looked up in one call, so that
 * the request costs the database that call plus one per session that needs more (its
 * subscriptions, its connect, its disconnect), never one per message. */
static void prefetch(ctx_t *x)
{
    const char **ids = apr_palloc(x->req->pool, (apr_size_t)(unsigned)x->nmsgs * sizeof(*ids));
    mi_push_session_t *ss;
    apr_status_t *rvs, rv;
    int i, j, n = 0;

    if (x->push->backend.sessions == NULL) {
        return;
    }
    for (i = 0; i < x->nmsgs; i++) {
        const char *id = x->msgs[i].client_id;

        for (j = 0; id != NULL && j < n && strcmp(ids[j], id) != 0; j++) {
        }
        if (id != NULL && j == n) {
            ids[n++] = id;
        }
    }
    if (n == 0) {
        return;
    }
    ss = apr_pcalloc(x->req->pool, (apr_size_t)(unsigned)n * sizeof(*ss));
    rvs = apr_pcalloc(x->req->pool, (apr_size_t)(unsigned)n * sizeof(*rvs));
    rv = x->push->backend.sessions(x->push->backend.baton, x->req->cc, x->req->login, ids, n,
                                   x->push->conf.max_interval_ms, x->req->pool, ss, rvs);
    for (i = 0; i < n; i++) {
        known_t *k = apr_pcalloc(x->req->pool, sizeof(*k));

        k->client_id = ids[i];
        k->rv = rv != APR_SUCCESS ? rv : rvs[i];
        k->s = ss[i];
        k->next = x->known;
        x->known = k;
    }
    x->prefetched = 1;
}

int mi_push_serve(mi_push_t *push, const mi_push_req_t *req, json_object *doc,
                  mi_push_resp_t *resp, const char **perr)
{
    mi_push_bx_msg_t *msgs;
    ctx_t x;
    int i;

    resp->replies = NULL;
    resp->new_browser = NULL;
    resp->close_connection = 0;
    memset(&x, 0, sizeof(x));
    x.nmsgs = mi_push_bx_parse(doc, req->pool, &msgs, perr);
    if (x.nmsgs == 0) {
        return 0;
    }
    x.push = push;
    x.req = req;
    x.replies = mi_json_bind(req->pool, json_object_new_array());
    resp->replies = x.replies;

    /* A handshake is answered alone: the spec says to ignore whatever came with it. */
    for (i = 0; i < x.nmsgs; i++) {
        if (msgs[i].type == MI_PUSH_BX_HANDSHAKE) {
            meta_handshake(&x, &msgs[i], resp);
            return 1;
        }
    }
    x.msgs = msgs;
    plan_subscriptions(&x);
    if (x.nmsgs > 1) {
        prefetch(&x);
    }
    for (i = 0; i < x.nmsgs; i++) {
        const mi_push_bx_msg_t *m = &msgs[i];
        switch (m->type) {
        case MI_PUSH_BX_CONNECT:     meta_connect(&x, m); break;
        case MI_PUSH_BX_SUBSCRIBE:
        case MI_PUSH_BX_UNSUBSCRIBE: meta_subscribe(&x, m, i); break;
        case MI_PUSH_BX_DISCONNECT:  meta_disconnect(&x, m); break;
        case MI_PUSH_BX_META_OTHER:
            refuse(&x, m, apr_psprintf(req->pool, "404:%s:Unknown meta channel", m->channel));
            break;
        default:
            /* the events come from the database; clients only listen */
            refuse(&x, m, "403::publish_denied");
            break;
        }
    }
    resp->close_connection = x.stopping;
    return 1;
}
