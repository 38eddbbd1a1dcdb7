/* test_push.c — the Bayeux server driven through its backend interface by an in-memory
 * double: dispatch per channel, the replies CometD and Faye need, holding and waking a
 * connect, the ack batch, 402, the caps and the advice. */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "mi_json.h"
#include "mi_push.h"
#include "unit.h"

#define UID "11111111-1111-1111-1111-111111111111"

/* ------------------------------------------------------------------ the double */

typedef struct {
    const char *role;               /* of the one user */
    const char *client_id;          /* the one session, after a handshake */
    unsigned channels;
    int ack;
    long long gen, batch;
    int fail;                       /* every call fails like an unreachable database */
    int multiple;                   /* the browser holds its share */
    json_object *events;            /* delivered by the next connect that finds them ready */
    volatile int ready;
    /* what the engine asked */
    int n_handshake, n_connect, n_subscribe, n_disconnect, n_session, n_sessions;
    const char *hs_browser;
    int hs_ack;
    mi_push_handshake_t hs;         /* the last handshake's limits */
    mi_push_refusal_e refuse;       /* the next handshakes are refused so */
    mi_push_connect_t connects[8];
    unsigned add, remove;
    /* the snapshots of lean events */
    json_object *rows;              /* [{"seq","snapshot"}] returned by snapshots() */
    int snapshots_fail;
    int n_snapshots;
    long long asked[8];
    int n_asked;
} fake_t;

static void fill_session(fake_t *f, mi_push_session_t *s)
{
    memset(s, 0, sizeof(*s));
    s->caller.id = UID;
    s->caller.is_agent = strcmp(f->role, "agent") == 0;
    s->caller.is_supervisor = strcmp(f->role, "supervisor") == 0;
    s->caller.is_admin = strcmp(f->role, "admin") == 0;
    s->channels = f->channels;
    s->ack = f->ack;
}

static int known(fake_t *f, const char *client_id)
{
    return f->client_id != NULL && strcmp(f->client_id, client_id) == 0;
}

static apr_status_t f_handshake(void *b, const mi_push_handshake_t *h, apr_pool_t *p,
                                mi_push_refusal_e *prefused, long long *pretry_ms)
{
    fake_t *f = b;

    f->n_handshake++;
    f->hs = *h;
    *prefused = MI_PUSH_OPENED;
    *pretry_ms = 0;
    if (f->fail) return APR_ECONNREFUSED;
    if (strcmp(h->login, "stranger") == 0) return APR_NOTFOUND;
    if (f->refuse != MI_PUSH_OPENED) {
        *prefused = f->refuse;
        *pretry_ms = 4321;
        return APR_SUCCESS;
    }
    f->client_id = apr_pstrdup(p, h->client_id);
    f->hs_browser = h->browser;
    f->hs_ack = h->ack;
    f->ack = h->ack;
    return APR_SUCCESS;
}

static apr_status_t f_session(void *b, int cc, const char *login, const char *client_id,
                              long long max_interval_ms, apr_pool_t *p, mi_push_session_t *s)
{
    fake_t *f = b;

    f->n_session++;
    if (f->fail) return APR_ECONNREFUSED;
    if (!known(f, client_id)) return APR_NOTFOUND;
    fill_session(f, s);
    return APR_SUCCESS;
}

static apr_status_t f_sessions(void *b, int cc, const char *login, const char *const *ids, int n,
                               long long max_interval_ms, apr_pool_t *p, mi_push_session_t *ss,
                               apr_status_t *rvs)
{
    fake_t *f = b;
    int i;

    f->n_sessions++;
    if (f->fail) return APR_ECONNREFUSED;
    for (i = 0; i < n; i++) {
        rvs[i] = known(f, ids[i]) ? APR_SUCCESS : APR_NOTFOUND;
        if (rvs[i] == APR_SUCCESS) fill_session(f, &ss[i]);
    }
    return APR_SUCCESS;
}

static apr_status_t f_subscribe(void *b, int cc, const char *login, const char *client_id,
                                unsigned add, unsigned remove, apr_pool_t *p, unsigned *pch)
{
    fake_t *f = b;

    f->n_subscribe++;
    if (!known(f, client_id)) return APR_NOTFOUND;
    f->add = add;
    f->remove = remove;
    f->channels = (f->channels | add) & ~remove;
    *pch = f->channels;
    return APR_SUCCESS;
}

static apr_status_t f_connect(void *b, const mi_push_connect_t *c, apr_pool_t *p,
                              mi_push_delivery_t *d)
{
    fake_t *f = b;

    if (f->n_connect < 8) f->connects[f->n_connect] = *c;
    f->n_connect++;
    if (f->fail) return APR_ECONNREFUSED;
    if (!known(f, c->client_id)) {
        d->outcome = MI_PUSH_UNKNOWN;
        return APR_SUCCESS;
    }
    if (c->first) f->gen++;
    else if (c->gen != f->gen) {
        d->outcome = MI_PUSH_SUPERSEDED;
        return APR_SUCCESS;
    }
    fill_session(f, &d->session);
    d->gen = f->gen;
    d->batch = -1;
    if (f->events != NULL && f->ready) {
        d->events = f->events;
        f->events = NULL;
    }
    else if (c->hold_ms > 0 && !(c->first && f->multiple)) {
        d->outcome = MI_PUSH_HELD;
        return APR_SUCCESS;
    }
    d->multiple_clients = c->first && f->multiple && c->hold_ms > 0;
    d->outcome = MI_PUSH_DELIVER;
    if (f->ack) d->batch = ++f->batch;
    return APR_SUCCESS;
}

static apr_status_t f_disconnect(void *b, int cc, const char *login, const char *client_id,
                                 apr_pool_t *p)
{
    fake_t *f = b;

    f->n_disconnect++;
    if (!known(f, client_id)) return APR_NOTFOUND;
    f->client_id = NULL;
    return APR_SUCCESS;
}

static apr_status_t f_snapshots(void *b, int cc, const char *login, const long long *seqs, int n,
                                apr_pool_t *p, json_object **pevents)
{
    fake_t *f = b;
    int i;

    f->n_snapshots++;
    for (i = 0; i < n && i < 8; i++) f->asked[i] = seqs[i];
    f->n_asked = n;
    if (f->snapshots_fail) return APR_ECONNREFUSED;
    *pevents = f->rows;
    return APR_SUCCESS;
}

typedef struct {
    fake_t f;
    mi_push_waiters_t *waiters;
    mi_push_t *push;
    mi_push_conf_t conf;
} rig_t;

static rig_t *rig(const char *role, int max_waiters)
{
    rig_t *r = apr_pcalloc(tp, sizeof(*r));
    mi_push_backend_t be;

    r->f.role = role;
    r->f.ready = 1;
    memset(&be, 0, sizeof(be));
    be.baton = &r->f;
    be.handshake = f_handshake;
    be.session = f_session;
    be.sessions = f_sessions;
    be.subscribe = f_subscribe;
    be.connect = f_connect;
    be.disconnect = f_disconnect;
    be.snapshots = f_snapshots;
    r->conf.timeout_ms = 60000;
    r->conf.max_interval_ms = 10000;
    r->conf.per_browser = 1;
    r->conf.jsonp = 1;
    r->conf.multi_interval_ms = 2000;
    r->conf.busy_interval_ms = 1500;
    r->conf.share_interval_ms = 3000;
    r->conf.retry_interval_ms = 2000;
    r->conf.max_sessions = 16;
    r->conf.max_cc_sessions = 500;
    r->conf.handshakes_per_minute = 30;
    r->conf.batch_limit = 100;
    CU_ASSERT_EQUAL_FATAL(mi_push_waiters_create(&r->waiters, max_waiters, tp), APR_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(mi_push_create(&r->push, &r->conf, &be, r->waiters, tp), APR_SUCCESS);
    return r;
}

/* One request; returns the replies array. */
static json_object *send_as(rig_t *r, const char *login, const char *browser, const char *body,
                            mi_push_resp_t *out)
{
    mi_push_req_t req;
    mi_push_resp_t resp;
    const char *err = NULL;

    memset(&req, 0, sizeof(req));
    req.cc = 7;
    req.login = login;
    req.base = "http://h/t7/api/v2";
    req.browser = browser;
    req.pool = tp;
    CU_ASSERT_EQUAL_FATAL(mi_push_serve(r->push, &req, unit_json(body), &resp, &err), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp.replies);
    /* every request gets at least one reply (CometD counts [] as a failure) */
    CU_ASSERT_TRUE(json_object_array_length(resp.replies) >= 1);
    if (out != NULL) *out = resp;
    return resp.replies;
}

static json_object *send1(rig_t *r, const char *body)
{
    return send_as(r, "agent1", NULL, body, NULL);
}

static json_object *at(json_object *a, size_t i)
{
    CU_ASSERT_FATAL(i < json_object_array_length(a));
    return json_object_array_get_idx(a, i);
}

static const char *handshake(rig_t *r, int ack)
{
    json_object *a = send1(r, ack ? "[{\"id\":\"1\",\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                                   "\"supportedConnectionTypes\":[\"long-polling\"],\"ext\":{\"ack\":true}}]"
                                 : "[{\"id\":\"1\",\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                                   "\"supportedConnectionTypes\":[\"long-polling\"]}]");

    CU_ASSERT_TRUE_FATAL(json_object_get_boolean(mi_json_get(at(a, 0), "successful")));
    return mi_json_get_str(at(a, 0), "clientId");
}

/* @text with every "%s" replaced by @cid */
static const char *msg(const char *text, const char *cid)
{
    const char *s = text, *hit;
    const char *out = "";

    while ((hit = strstr(s, "%s")) != NULL) {
        out = apr_pstrcat(tp, out, apr_pstrmemdup(tp, s, (apr_size_t)(hit - s)), cid, NULL);
        s = hit + 2;
    }
    return apr_pstrcat(tp, out, s, NULL);
}

static const char *snap =
    "{\"id\":\"i1\",\"mediaType\":\"email\",\"state\":\"Invited\",\"queue\":\"support\","
    "\"workbin\":null,\"assignedTo\":\"agent1\",\"parentId\":null,\"userData\":{},"
    "\"subject\":\"s\",\"from\":\"f\",\"to\":[],\"receivedDate\":\"d\",\"updatedDate\":\"d\","
    "\"priority\":0,\"_owner\":null,\"_invitee\":\"" UID "\",\"_workbinOwner\":null}";

/* ------------------------------------------------------------------ handshake */

static void the_handshake_reply_has_what_cometd_needs(void)
{
    rig_t *r = rig("agent", 10);
    mi_push_resp_t resp;
    json_object *a = send_as(r, "agent1", NULL,
        "[{\"id\":\"1\",\"version\":\"1.0\",\"minimumVersion\":\"1.0\",\"channel\":\"/meta/handshake\","
        "\"supportedConnectionTypes\":[\"websocket\",\"long-polling\",\"callback-polling\"],"
        "\"advice\":{\"timeout\":60000,\"interval\":0}}]", &resp);
    json_object *h = at(a, 0);

    CU_ASSERT_EQUAL(json_object_array_length(a), 1);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(h, "id"), "1");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(h, "channel"), "/meta/handshake");
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(h, "successful")));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(h, "version"), "1.0");
    CU_ASSERT_EQUAL(strlen(mi_json_get_str(h, "clientId")), 32);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(h, "clientId"), r->f.client_id);
    /* websocket only where the configuration offers it (not here) */
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(h, "supportedConnectionTypes")),
                           "[\"long-polling\",\"callback-polling\"]");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(h, "advice")),
                           "{\"reconnect\":\"retry\",\"interval\":0,\"timeout\":60000}");
    CU_ASSERT_PTR_NULL(mi_json_get(h, "ext"));
    /* a browser without the cookie gets one, and the session records it */
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp.new_browser);
    CU_ASSERT_STRING_EQUAL(resp.new_browser, r->f.hs_browser);
    CU_ASSERT_FALSE(r->f.hs_ack);
}

static void a_known_browser_keeps_its_cookie(void)
{
    rig_t *r = rig("agent", 10);
    mi_push_resp_t resp;

    send_as(r, "agent1", "0123456789abcdef0123", "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
            "\"supportedConnectionTypes\":[\"long-polling\"]}]", &resp);
    CU_ASSERT_PTR_NULL(resp.new_browser);
    CU_ASSERT_STRING_EQUAL(r->f.hs_browser, "0123456789abcdef0123");
}

static void the_ack_extension_is_confirmed_in_the_handshake(void)
{
    rig_t *r = rig("agent", 10);
    json_object *a = send1(r, "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                             "\"supportedConnectionTypes\":[\"long-polling\"],\"ext\":{\"ack\":true}}]");

    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(at(a, 0), "ext")), "{\"ack\":true}");
    CU_ASSERT_TRUE(r->f.hs_ack);
}

static void a_handshake_without_a_polling_transport_fails_for_good(void)
{
    rig_t *r = rig("agent", 10);
    json_object *h = at(send1(r, "[{\"id\":\"1\",\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                                "\"supportedConnectionTypes\":[\"websocket\"]}]"), 0);

    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(h, "successful")));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(h, "advice"), "reconnect"), "none");
    CU_ASSERT_EQUAL(r->f.n_handshake, 0);
}

static void a_handshake_is_answered_alone(void)
{
    rig_t *r = rig("agent", 10);
    json_object *a = send1(r, "[{\"id\":\"1\",\"channel\":\"/meta/connect\",\"clientId\":\"x\"},"
                             "{\"id\":\"2\",\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                             "\"supportedConnectionTypes\":[\"long-polling\"]},"
                             "{\"id\":\"3\",\"channel\":\"/meta/subscribe\",\"subscription\":\"/v2/me/interactions\"}]");

    CU_ASSERT_EQUAL(json_object_array_length(a), 1);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "id"), "2");
    CU_ASSERT_EQUAL(r->f.n_connect, 0);
    CU_ASSERT_EQUAL(r->f.n_subscribe, 0);
}

static void unknown_users_and_an_unreachable_database_fail_the_handshake(void)
{
    rig_t *r = rig("agent", 10);
    json_object *h = at(send_as(r, "stranger", NULL, "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                                "\"supportedConnectionTypes\":[\"long-polling\"]}]", NULL), 0);

    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(h, "successful")));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(h, "advice"), "reconnect"), "none");
    r->f.fail = 1;
    h = at(send1(r, "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                   "\"supportedConnectionTypes\":[\"long-polling\"]}]"), 0);
    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(h, "successful")));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(h, "advice")),
                           "{\"reconnect\":\"handshake\",\"interval\":2000}");
}

static void a_handshake_beyond_the_users_limits_is_refused_with_advice(void)
{
    static const struct { mi_push_refusal_e why; const char *error; } cases[] = {
        { MI_PUSH_TOO_FAST, "429::too_many_handshakes:" },
        { MI_PUSH_USER_FULL, "429::too_many_sessions: this user" },
        { MI_PUSH_CC_FULL, "429::too_many_sessions: this contact center" },
    };
    rig_t *r = rig("agent", 10);
    json_object *h;
    size_t i;

    handshake(r, 0);
    /* the limits travel to the store, which counts them */
    CU_ASSERT_EQUAL(r->f.hs.max_sessions, 16);
    CU_ASSERT_EQUAL(r->f.hs.max_cc_sessions, 500);
    CU_ASSERT_EQUAL(r->f.hs.per_minute, 30);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r->f.refuse = cases[i].why;
        h = at(send1(r, "[{\"id\":\"7\",\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                       "\"supportedConnectionTypes\":[\"long-polling\"]}]"), 0);
        CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(h, "successful")));
        CU_ASSERT_STRING_EQUAL(mi_json_get_str(h, "id"), "7");
        CU_ASSERT_PTR_NULL(mi_json_get(h, "clientId"));
        CU_ASSERT_EQUAL(strncmp(mi_json_get_str(h, "error"), cases[i].error, strlen(cases[i].error)), 0);
        /* CometD and Faye handshake again, after the interval */
        CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(h, "advice")),
                               "{\"reconnect\":\"handshake\",\"interval\":4321}");
    }
}

/* ------------------------------------------------------------------ connect */

static void an_unknown_client_gets_402_with_its_id(void)
{
    rig_t *r = rig("agent", 10);
    json_object *c;

    handshake(r, 0);
    c = at(send1(r, "[{\"id\":\"5\",\"channel\":\"/meta/connect\",\"connectionType\":\"long-polling\","
                   "\"clientId\":\"00000000000000000000000000000000\"}]"), 0);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(c, "id"), "5");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(c, "error"), "402::Unknown client");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "advice")), "{\"reconnect\":\"handshake\",\"interval\":0}");
    /* without a clientId at all, the same */
    c = at(send1(r, "[{\"id\":\"6\",\"channel\":\"/meta/connect\"}]"), 0);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(c, "error"), "402::Unknown client");
    CU_ASSERT_EQUAL(mi_push_waiters_count(r->waiters), 0);
}

static void a_first_connect_asking_timeout_zero_is_answered_at_once(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    json_object *c = at(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"connectionType\":\"long-polling\","
                                    "\"advice\":{\"timeout\":0},\"clientId\":\"%s\"}]", cid)), 0);

    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(c, "successful")));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(c, "id"), "2");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(c, "clientId"), cid);
    CU_ASSERT_EQUAL(r->f.n_connect, 1);
    CU_ASSERT_EQUAL(r->f.connects[0].hold_ms, 0);
    CU_ASSERT_TRUE(r->f.connects[0].first);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "advice")),
                           "{\"reconnect\":\"retry\",\"interval\":0,\"timeout\":60000}");
}

static void a_connect_batched_with_a_subscribe_is_not_held(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    json_object *a = send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"connectionType\":\"long-polling\","
                                 "\"clientId\":\"%s\"},{\"id\":\"3\",\"channel\":\"/meta/subscribe\","
                                 "\"clientId\":\"%s\",\"subscription\":\"/v2/me/interactions\"}]", cid));

    CU_ASSERT_EQUAL(r->f.connects[0].hold_ms, 0);
    CU_ASSERT_EQUAL(json_object_array_length(a), 2);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "id"), "2");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 1), "id"), "3");
    CU_ASSERT_EQUAL(r->f.channels, MI_PUSH_ME);
}

static void events_come_before_the_connect_reply_rendered_per_channel(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    json_object *a, *e1, *e2, *e3;

    r->f.channels = MI_PUSH_ME | MI_PUSH_ALL;
    r->f.events = unit_json(apr_pstrcat(tp, "[{\"notification\":\"StatusChange\",\"referenceId\":3,"
        "\"me\":true,\"revoked\":true,\"all\":true,\"snapshot\":", snap, "},"
        "{\"notification\":\"PropertiesUpdated\",\"referenceId\":null,"
        "\"me\":false,\"revoked\":false,\"all\":true,\"snapshot\":", snap, "}]", NULL));
    a = send1(r, msg("[{\"id\":\"9\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 4);
    e1 = at(a, 0);
    e2 = at(a, 1);
    e3 = at(a, 2);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(e1, "channel"), "/v2/me/interactions");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(mi_json_get(e1, "data"), "interaction"), "state"),
                           "Revoked");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(e2, "channel"), "/v2/interactions");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(mi_json_get(e2, "data"), "interaction"), "state"),
                           "Invited");
    CU_ASSERT_EQUAL(mi_json_get_int(mi_json_get(e2, "data"), "referenceId", 0), 3);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(e3, "channel"), "/v2/interactions");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(e3, "data"), "notificationType"), "PropertiesUpdated");
    CU_ASSERT_PTR_NULL(mi_json_get(mi_json_get(e3, "data"), "referenceId"));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 3), "channel"), "/meta/connect");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 3), "id"), "9");
    /* events never carry anybody's clientId */
    CU_ASSERT_PTR_NULL(mi_json_get(e1, "clientId"));
}

/* The replies as the client reads them: cached messages are raw text until serialized. */
static json_object *as_sent(json_object *a)
{
    return unit_json(unit_dump(a));
}

static const char *snap_of(const char *id, const char *state, const char *owner)
{
    return apr_psprintf(tp, "{\"id\":\"%s\",\"mediaType\":\"email\",\"state\":\"%s\","
                        "\"queue\":\"support\",\"workbin\":null,\"assignedTo\":\"agent1\","
                        "\"parentId\":null,\"userData\":{\"k\":\"v\"},\"subject\":\"s\",\"from\":\"f\","
                        "\"to\":[],\"receivedDate\":\"d\",\"updatedDate\":\"d\",\"priority\":0,"
                        "\"_owner\":%s,\"_invitee\":null,\"_workbinOwner\":null}",
                        id, state, owner);
}

static void lean_events_are_rendered_once_per_process_from_fetched_snapshots(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    json_object *a, *first;

    /* seq 11 names the user (sent with its snapshot); 12 and 13 are only for
     * /v2/interactions and come lean */
    r->f.channels = MI_PUSH_ME | MI_PUSH_ALL;
    r->f.events = unit_json(apr_pstrcat(tp,
        "[{\"seq\":11,\"notification\":\"StatusChange\",\"referenceId\":5,"
        "\"me\":true,\"revoked\":false,\"all\":true,\"snapshot\":", snap, "},"
        "{\"seq\":12,\"notification\":\"StatusChange\",\"referenceId\":6,"
        "\"me\":false,\"revoked\":false,\"all\":true,\"snapshot\":null},"
        "{\"seq\":13,\"notification\":\"PropertiesUpdated\",\"referenceId\":null,"
        "\"me\":false,\"revoked\":false,\"all\":true,\"snapshot\":null}]", NULL));
    r->f.rows = unit_json(apr_pstrcat(tp, "[{\"seq\":13,\"snapshot\":",
                                      snap_of("i3", "Processing", "\"" UID "\""), "},"
                                      "{\"seq\":12,\"snapshot\":", snap_of("i2", "Queued", "null"), "}]", NULL));
    a = as_sent(send1(r, msg("[{\"id\":\"9\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)));
    /* one fetch for both lean rows, in the order of the stream */
    CU_ASSERT_EQUAL(r->f.n_snapshots, 1);
    CU_ASSERT_EQUAL_FATAL(r->f.n_asked, 2);
    CU_ASSERT_EQUAL(r->f.asked[0], 12);
    CU_ASSERT_EQUAL(r->f.asked[1], 13);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 5);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "channel"), "/v2/me/interactions");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 1), "channel"), "/v2/interactions");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(mi_json_get(at(a, 1), "data"), "interaction"), "id"), "i1");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 2), "channel"), "/v2/interactions");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(mi_json_get(at(a, 2), "data"), "interaction"), "id"), "i2");
    CU_ASSERT_EQUAL(mi_json_get_int(mi_json_get(at(a, 2), "data"), "referenceId", 0), 6);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(at(a, 3), "data"), "notificationType"), "PropertiesUpdated");
    CU_ASSERT_PTR_NULL(mi_json_get(mi_json_get(at(a, 3), "data"), "referenceId"));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(mi_json_get(at(a, 3), "data"), "interaction"), "uri"),
                           "http://h/t7/api/v2/interactions/i3");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 4), "channel"), "/meta/connect");
    first = at(a, 2);

    /* another session of this process delivering row 12: from the cache, the same text */
    r->f.events = unit_json("[{\"seq\":12,\"notification\":\"StatusChange\",\"referenceId\":6,"
                            "\"me\":false,\"revoked\":false,\"all\":true,\"snapshot\":null}]");
    a = as_sent(send1(r, msg("[{\"id\":\"10\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)));
    CU_ASSERT_EQUAL(r->f.n_snapshots, 1);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 2);
    CU_ASSERT_STRING_EQUAL(unit_dump(at(a, 0)), unit_dump(first));
}

static void a_lean_row_the_subscriber_may_not_see_is_left_out(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    json_object *a;

    r->f.channels = MI_PUSH_ALL;
    r->f.events = unit_json("[{\"seq\":21,\"notification\":\"StatusChange\",\"referenceId\":1,"
                            "\"me\":false,\"revoked\":false,\"all\":true,\"snapshot\":null}]");
    r->f.rows = unit_json("[]");
    a = as_sent(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 1);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "channel"), "/meta/connect");
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(at(a, 0), "successful")));
}

static void a_failing_snapshot_fetch_says_retry_later(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    json_object *a;

    r->f.channels = MI_PUSH_ALL;
    r->f.events = unit_json("[{\"seq\":31,\"notification\":\"StatusChange\",\"referenceId\":1,"
                            "\"me\":false,\"revoked\":false,\"all\":true,\"snapshot\":null}]");
    r->f.snapshots_fail = 1;
    a = as_sent(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)));
    /* nothing half-delivered: only the connect reply, telling the client to come back */
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 1);
    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(at(a, 0), "successful")));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(at(a, 0), "advice")), "{\"reconnect\":\"retry\",\"interval\":2000}");
    CU_ASSERT_FALSE(mi_push_cache_has(mi_push_cache_of(r->push), 7, 31));
}

/* Rights are checked on every delivery with the roles the store read for it: a supervisor
 * demoted to agent gets no /v2/interactions message, not even one the process has cached
 * (here the store double still sends the event and the channel). */
static void a_demoted_supervisor_gets_no_contact_center_messages_even_cached_ones(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    const char *lean_event = "[{\"seq\":41,\"notification\":\"StatusChange\",\"referenceId\":1,"
                             "\"me\":false,\"revoked\":false,\"all\":true,\"snapshot\":null}]";
    json_object *a;

    r->f.channels = MI_PUSH_ALL;
    r->f.events = unit_json(lean_event);
    r->f.rows = unit_json(apr_pstrcat(tp, "[{\"seq\":41,\"snapshot\":", snap_of("i4", "Queued", "null"), "}]", NULL));
    a = as_sent(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 2);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "channel"), "/v2/interactions");
    CU_ASSERT_TRUE(mi_push_cache_has(mi_push_cache_of(r->push), 7, 41));

    r->f.role = "agent";
    r->f.events = unit_json(lean_event);
    a = as_sent(send1(r, msg("[{\"id\":\"3\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 1);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "channel"), "/meta/connect");
    CU_ASSERT_EQUAL(r->f.n_snapshots, 1);

    /* an admin may follow the contact center too */
    r->f.role = "admin";
    r->f.events = unit_json(lean_event);
    a = as_sent(send1(r, msg("[{\"id\":\"4\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 2);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "channel"), "/v2/interactions");
}

/* The cache itself: a message per relation to the interaction, each as rendering it
 * directly would give; the oldest rows go first. */
static void the_cache_renders_each_relation_as_rendering_directly_would(void)
{
    mi_push_cache_t *c;
    json_object *event = unit_json(apr_pstrcat(tp, "{\"notification\":\"StatusChange\",\"referenceId\":4,"
                                               "\"snapshot\":", snap, "}", NULL));
    mi_caller_t sup, invitee;
    const char *as_sup, *as_invitee;

    memset(&sup, 0, sizeof(sup));
    sup.id = "22222222-2222-2222-2222-222222222222";
    sup.is_supervisor = 1;
    invitee = sup;
    invitee.id = UID;                   /* the snapshot's _invitee */
    invitee.is_agent = 1;
    CU_ASSERT_EQUAL_FATAL(mi_push_cache_create(&c, 4, tp), APR_SUCCESS);
    CU_ASSERT_PTR_NULL(mi_push_cache_message(c, 7, 1, &sup, "http://h/a", tp));
    CU_ASSERT_TRUE(mi_push_cache_put(c, 7, 1, event));
    CU_ASSERT_TRUE(mi_push_cache_has(c, 7, 1));
    CU_ASSERT_FALSE(mi_push_cache_has(c, 8, 1));     /* another contact center's row 1 */
    as_sup = mi_push_cache_message(c, 7, 1, &sup, "http://h/a", tp);
    as_invitee = mi_push_cache_message(c, 7, 1, &invitee, "http://h/a", tp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(as_sup);
    CU_ASSERT_PTR_NOT_NULL_FATAL(as_invitee);
    CU_ASSERT_STRING_EQUAL(as_sup, unit_dump(mi_json_bind(tp, mi_push_bx_event(MI_PUSH_BX_CH_ALL, event, &sup, "http://h/a", 0, tp))));
    CU_ASSERT_STRING_EQUAL(as_invitee, unit_dump(mi_json_bind(tp, mi_push_bx_event(MI_PUSH_BX_CH_ALL, event, &invitee, "http://h/a", 0, tp))));
    CU_ASSERT_STRING_NOT_EQUAL(as_sup, as_invitee);  /* only the invitee may Accept */
    /* another location's base */
    CU_ASSERT_PTR_NOT_NULL(strstr(mi_push_cache_message(c, 7, 1, &sup, "http://h/b", tp), "http://h/b/interactions/i1"));
    /* asked again: the same text, no new rendering */
    {
        mi_push_cache_stats_t st;
        mi_push_cache_message(c, 7, 1, &sup, "http://h/a", tp);
        mi_push_cache_stats(c, &st);
        CU_ASSERT_EQUAL(st.renders, 3);
        CU_ASSERT_EQUAL(st.hits, 1);
    }
    /* a row without a snapshot is not cached */
    CU_ASSERT_FALSE(mi_push_cache_put(c, 7, 2, unit_json("{\"notification\":\"StatusChange\",\"snapshot\":null}")));
    CU_ASSERT_FALSE(mi_push_cache_has(c, 7, 2));
}

/* ring-all: an agent the offer rings for besides its invitee gets the invitee's message
 * (Accept, Reject), not the one of an onlooker, also from the cache. */
static void the_cache_renders_a_ring_all_offer_for_every_agent_it_rings_for(void)
{
    mi_push_cache_t *c;
    const char *rung_snap = "{\"id\":\"i1\",\"mediaType\":\"email\",\"state\":\"Invited\","
        "\"_owner\":null,\"_invitee\":\"" UID "\",\"_ringing\":[\"33333333-3333-3333-3333-333333333333\"]}";
    json_object *event = unit_json(apr_pstrcat(tp, "{\"notification\":\"StatusChange\",\"snapshot\":",
                                               rung_snap, "}", NULL));
    mi_caller_t rung, onlooker;
    const char *as_rung, *as_onlooker;

    memset(&rung, 0, sizeof(rung));
    rung.id = "33333333-3333-3333-3333-333333333333";
    rung.is_agent = 1;
    onlooker = rung;
    onlooker.id = "44444444-4444-4444-4444-444444444444";
    CU_ASSERT_EQUAL_FATAL(mi_push_cache_create(&c, 4, tp), APR_SUCCESS);
    CU_ASSERT_TRUE(mi_push_cache_put(c, 7, 1, event));
    as_onlooker = mi_push_cache_message(c, 7, 1, &onlooker, "http://h/a", tp);
    as_rung = mi_push_cache_message(c, 7, 1, &rung, "http://h/a", tp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(as_rung);
    CU_ASSERT_PTR_NOT_NULL_FATAL(as_onlooker);
    CU_ASSERT_STRING_EQUAL(as_rung, unit_dump(mi_json_bind(tp, mi_push_bx_event(MI_PUSH_BX_CH_ALL, event, &rung, "http://h/a", 0, tp))));
    CU_ASSERT_PTR_NOT_NULL(strstr(as_rung, "\"Accept\""));
    CU_ASSERT_PTR_NULL(strstr(as_onlooker, "\"Accept\""));
}

static void the_cache_keeps_its_newest_rows(void)
{
    mi_push_cache_t *c;
    json_object *event = unit_json(apr_pstrcat(tp, "{\"notification\":\"StatusChange\",\"snapshot\":", snap, "}", NULL));
    long long seq;

    CU_ASSERT_EQUAL_FATAL(mi_push_cache_create(&c, 3, tp), APR_SUCCESS);
    for (seq = 1; seq <= 5; seq++) {
        CU_ASSERT_TRUE(mi_push_cache_put(c, 7, seq, event));
    }
    CU_ASSERT_FALSE(mi_push_cache_has(c, 7, 1));
    CU_ASSERT_FALSE(mi_push_cache_has(c, 7, 2));
    CU_ASSERT_TRUE(mi_push_cache_has(c, 7, 3));
    CU_ASSERT_TRUE(mi_push_cache_has(c, 7, 5));
    /* putting a row again changes nothing */
    CU_ASSERT_TRUE(mi_push_cache_put(c, 7, 5, event));
    CU_ASSERT_TRUE(mi_push_cache_has(c, 7, 3));
}

/* The byte bound: rows and messages counted with their overhead, the oldest rows go first,
 * and a message beyond the bound (or beyond a row's share of messages) is rendered all the
 * same but not kept. */
static void the_cache_stays_within_its_bytes_whatever_the_bases(void)
{
    mi_push_cache_t *c;
    json_object *event = unit_json(apr_pstrcat(tp, "{\"notification\":\"StatusChange\",\"snapshot\":", snap, "}", NULL));
    mi_push_cache_stats_t st;
    mi_caller_t sup;
    const char *text;
    long long seq;
    int i;

    memset(&sup, 0, sizeof(sup));
    sup.id = "22222222-2222-2222-2222-222222222222";
    sup.is_supervisor = 1;
    CU_ASSERT_EQUAL_FATAL(mi_push_cache_create(&c, 1000, tp), APR_SUCCESS);
    mi_push_cache_set_max_bytes(c, 32 * 1024);
    /* one row, a message for each of 100 bases: at most 16 are kept, each still rendered */
    CU_ASSERT_TRUE(mi_push_cache_put(c, 7, 1, event));
    for (i = 0; i < 100; i++) {
        const char *base = apr_psprintf(tp, "http://h%d/api/v2", i);
        text = mi_push_cache_message(c, 7, 1, &sup, base, tp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, apr_pstrcat(tp, base, "/interactions/i1", NULL)));
    }
    mi_push_cache_stats(c, &st);
    CU_ASSERT_EQUAL(st.renders, 100);
    CU_ASSERT_EQUAL(st.uncached, 84);
    CU_ASSERT_TRUE(st.bytes <= 32 * 1024);
    /* many rows: the newest stay, within the bytes */
    for (seq = 2; seq <= 200; seq++) {
        CU_ASSERT_TRUE(mi_push_cache_put(c, 7, seq, event));
        CU_ASSERT_PTR_NOT_NULL(mi_push_cache_message(c, 7, seq, &sup, "http://h/api/v2", tp));
        mi_push_cache_stats(c, &st);
        CU_ASSERT_TRUE_FATAL(st.bytes <= 32 * 1024);
    }
    CU_ASSERT_TRUE(mi_push_cache_has(c, 7, 200));
    CU_ASSERT_FALSE(mi_push_cache_has(c, 7, 1));
    CU_ASSERT_TRUE(st.rows > 1 && st.rows < 200);
    CU_ASSERT_TRUE(st.evictions > 0);
    /* a row larger than the whole cache may be is not kept; its message still renders */
    mi_push_cache_set_max_bytes(c, 256);
    CU_ASSERT_FALSE(mi_push_cache_put(c, 7, 500, event));
    CU_ASSERT_FALSE(mi_push_cache_has(c, 7, 500));
    mi_push_cache_stats(c, &st);
    CU_ASSERT_TRUE(st.bytes <= 32 * 1024);
}

static void the_ack_batch_travels_both_ways(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 1);
    json_object *c;

    c = at(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"advice\":{\"timeout\":0},"
                       "\"clientId\":\"%s\",\"ext\":{\"ack\":0}}]", cid)), 0);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "ext")), "{\"ack\":1}");
    CU_ASSERT_EQUAL(r->f.connects[0].ack, 0);
    c = at(send1(r, msg("[{\"id\":\"3\",\"channel\":\"/meta/connect\",\"advice\":{\"timeout\":0},"
                       "\"clientId\":\"%s\",\"ext\":{\"ack\":1}}]", cid)), 0);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "ext")), "{\"ack\":2}");
    CU_ASSERT_EQUAL(r->f.connects[1].ack, 1);
    /* no ext.ack: nothing acknowledged */
    send1(r, msg("[{\"id\":\"4\",\"channel\":\"/meta/connect\",\"advice\":{\"timeout\":0},"
                "\"clientId\":\"%s\"}]", cid));
    CU_ASSERT_EQUAL(r->f.connects[2].ack, -1);
}

typedef struct {
    rig_t *r;
} poke_t;

static void *APR_THREAD_FUNC news_arrives(apr_thread_t *t, void *data)
{
    poke_t *p = data;

    /* the waiter was registered before the database was asked, so this can come at any
     * moment after the request started and still wake it */
    apr_sleep(apr_time_from_msec(30));
    p->r->f.ready = 1;
    mi_push_waiters_notify(p->r->waiters, 7, (const char *[]){ "agent1" }, 1, 0);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void a_held_connect_is_woken_by_news_for_its_user(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    poke_t p;
    apr_thread_t *t;
    apr_status_t trv;
    json_object *a;

    r->f.channels = MI_PUSH_ME;
    r->f.ready = 0;
    r->f.events = unit_json(apr_pstrcat(tp, "[{\"notification\":\"StatusChange\",\"referenceId\":1,"
                                        "\"me\":true,\"revoked\":false,\"all\":false,\"snapshot\":", snap,
                                        "}]", NULL));
    p.r = r;
    CU_ASSERT_EQUAL_FATAL(apr_thread_create(&t, NULL, news_arrives, &p, tp), APR_SUCCESS);
    a = send1(r, msg("[{\"id\":\"7\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid));
    apr_thread_join(&trv, t);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 2);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "channel"), "/v2/me/interactions");
    /* first call held (60 s), the re-check came from the wake-up, not from the deadline:
     * it still had hold time left and named the first call's generation */
    CU_ASSERT_EQUAL(r->f.connects[0].hold_ms, 60000);
    CU_ASSERT_TRUE(r->f.n_connect >= 2);
    CU_ASSERT_FALSE(r->f.connects[1].first);
    CU_ASSERT_TRUE(r->f.connects[1].hold_ms > 0);
    CU_ASSERT_EQUAL(r->f.connects[1].gen, 1);
    CU_ASSERT_EQUAL(mi_push_waiters_count(r->waiters), 0);
}

static void a_client_timeout_shorter_than_the_servers_is_honoured(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);

    /* the deadline passes at once: the re-check asks for no further hold */
    send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"advice\":{\"timeout\":1},"
                "\"clientId\":\"%s\"}]", cid));
    CU_ASSERT_EQUAL(r->f.connects[0].hold_ms, 1);
    CU_ASSERT_EQUAL(r->f.connects[r->f.n_connect - 1].hold_ms, 0);
}

static void a_full_registry_answers_at_once_and_says_when_to_come_back(void)
{
    rig_t *r = rig("agent", 0);
    const char *cid = handshake(r, 0);
    json_object *c = at(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)), 0);

    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(c, "successful")));
    CU_ASSERT_EQUAL(r->f.connects[0].hold_ms, 0);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "advice")),
                           "{\"reconnect\":\"retry\",\"interval\":1500,\"timeout\":60000}");
}

static void a_user_over_its_share_of_held_connects_is_told_to_poll(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    mi_push_waiter_t *w = NULL;
    json_object *c;

    /* agent1 holds its one connect of this process (another session, another thread) */
    mi_push_waiters_limit(r->waiters, 1, 0);
    CU_ASSERT_EQUAL_FATAL(mi_push_waiter_register(r->waiters, 7, "agent1", "other", tp, &w), APR_SUCCESS);
    c = at(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(c, "successful")));
    CU_ASSERT_EQUAL(r->f.connects[0].hold_ms, 0);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "advice")),
                           "{\"reconnect\":\"retry\",\"interval\":3000,\"timeout\":60000}");
    /* another user is held as before; so is agent1 when its other connect ends */
    mi_push_waiter_unregister(r->waiters, w);
    CU_ASSERT_EQUAL_FATAL(mi_push_waiter_register(r->waiters, 7, "agent1", "other", tp, &w), APR_SUCCESS);
    mi_push_waiters_limit(r->waiters, 0, 1);
    c = at(send1(r, msg("[{\"id\":\"3\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)), 0);
    CU_ASSERT_EQUAL(r->f.connects[1].hold_ms, 0);
    CU_ASSERT_EQUAL(mi_json_get_int(mi_json_get(c, "advice"), "interval", -1), 3000);
}

static void a_browser_over_its_share_is_told_multiple_clients(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    json_object *c;

    r->f.multiple = 1;
    c = at(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(c, "successful")));
    CU_ASSERT_EQUAL(r->f.connects[0].per_browser, 1);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "advice")),
                           "{\"reconnect\":\"retry\",\"interval\":2000,\"timeout\":60000,\"multiple-clients\":true}");
}

static void a_stopping_process_answers_at_once_and_lets_the_connection_go(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    mi_push_resp_t resp;
    json_object *c;

    mi_push_waiters_shutdown(r->waiters);
    c = at(send_as(r, "agent1", NULL, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid), &resp), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(c, "successful")));
    CU_ASSERT_EQUAL(r->f.connects[0].hold_ms, 0);
    CU_ASSERT_TRUE(resp.close_connection);
    send_as(r, "agent1", NULL, msg("[{\"id\":\"3\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\","
                                   "\"subscription\":\"/v2/me/interactions\"}]", cid), &resp);
    CU_ASSERT_FALSE(resp.close_connection);
}

static void a_database_failure_on_connect_says_retry_later(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    json_object *c;

    r->f.fail = 1;
    c = at(send1(r, msg("[{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)), 0);
    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(c, "successful")));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(c, "id"), "2");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(c, "advice")), "{\"reconnect\":\"retry\",\"interval\":2000}");
    CU_ASSERT_EQUAL(mi_push_waiters_count(r->waiters), 0);
}

/* ------------------------------------------------------------------ subscriptions and the rest */

static int gone_calls, widened_calls;
static const char *gone_client;

static void changed(void *baton, mi_push_change_e what, int cc, const char *login,
                    const char *client_id)
{
    if (what == MI_PUSH_GONE) {
        gone_calls++;
    }
    else if (what == MI_PUSH_WIDENED) {
        widened_calls++;
    }
    gone_client = apr_pstrdup(tp, client_id);
    CU_ASSERT_EQUAL(cc, 7);
    CU_ASSERT_STRING_EQUAL(login, "agent1");
}

static void subscribing_the_contact_center_wakes_the_sessions_held_connects(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid;
    mi_push_waiter_t *w = NULL;

    r->f.role = "supervisor";
    cid = handshake(r, 0);
    widened_calls = gone_calls = 0;
    mi_push_on_change(r->push, changed, NULL);
    /* a connect of agent1's held here, which looked at the session before the subscribe
     * and so listens to agent1's own news only */
    CU_ASSERT_EQUAL_FATAL(mi_push_waiter_register(r->waiters, 7, "agent1", cid, tp, &w), APR_SUCCESS);
    mi_push_waiter_narrow(r->waiters, w, 0);
    send1(r, msg("[{\"id\":\"3\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\","
                 "\"subscription\":\"/v2/me/interactions\"}]", cid));
    CU_ASSERT_EQUAL(widened_calls, 0);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(r->waiters, w, apr_time_now() - 1), MI_PUSH_WAITER_TIMED_OUT);
    mi_push_waiter_unregister(r->waiters, w);

    CU_ASSERT_EQUAL_FATAL(mi_push_waiter_register(r->waiters, 7, "agent1", cid, tp, &w), APR_SUCCESS);
    mi_push_waiter_narrow(r->waiters, w, 0);
    send1(r, msg("[{\"id\":\"4\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\","
                 "\"subscription\":\"/v2/interactions\"}]", cid));
    /* woken here, announced to the other processes */
    CU_ASSERT_EQUAL(mi_push_waiter_wait(r->waiters, w, apr_time_now() + apr_time_from_sec(60)), MI_PUSH_WAITER_NOTIFIED);
    CU_ASSERT_EQUAL(widened_calls, 1);
    CU_ASSERT_STRING_EQUAL(gone_client, cid);
    CU_ASSERT_EQUAL(gone_calls, 0);
}

static void subscribe_echoes_the_subscription_as_sent(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    json_object *s;

    s = at(send1(r, msg("[{\"id\":\"3\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\","
                       "\"subscription\":[\"/v2/me/interactions\",\"/v2/interactions\"]}]", cid)), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(s, "successful")));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(s, "subscription")),
                           "[\"/v2/me/interactions\",\"/v2/interactions\"]");
    CU_ASSERT_EQUAL(r->f.add, MI_PUSH_ME | MI_PUSH_ALL);
    s = at(send1(r, msg("[{\"id\":\"4\",\"channel\":\"/meta/unsubscribe\",\"clientId\":\"%s\","
                       "\"subscription\":\"/v2/interactions\"}]", cid)), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(s, "successful")));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(s, "subscription"), "/v2/interactions");
    CU_ASSERT_EQUAL(r->f.remove, MI_PUSH_ALL);
    CU_ASSERT_EQUAL(r->f.channels, MI_PUSH_ME);
}

static void an_agent_may_not_subscribe_the_contact_center_channel(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    json_object *s = at(send1(r, msg("[{\"id\":\"3\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\","
                                    "\"subscription\":[\"/v2/me/interactions\",\"/v2/interactions\"]}]", cid)), 0);

    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(s, "successful")));
    CU_ASSERT_EQUAL(strncmp(mi_json_get_str(s, "error"), "403:/v2/interactions:", 21), 0);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(s, "subscription")),
                           "[\"/v2/me/interactions\",\"/v2/interactions\"]");
    /* all or nothing */
    CU_ASSERT_EQUAL(r->f.n_subscribe, 0);
}

static void meta_and_unknown_channels_are_refused_and_service_ones_recorded_nowhere(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    json_object *a = send1(r, msg("[{\"id\":\"1\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"/meta/connect\"},"
                                 "{\"id\":\"2\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"/foo\"},"
                                 "{\"id\":\"3\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"/service/x\"},"
                                 "{\"id\":\"4\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\"}]", cid));

    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 4);
    CU_ASSERT_EQUAL(strncmp(mi_json_get_str(at(a, 0), "error"), "403:", 4), 0);
    CU_ASSERT_EQUAL(strncmp(mi_json_get_str(at(a, 1), "error"), "403:/foo:", 9), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(at(a, 2), "successful")));
    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(at(a, 3), "successful")));
    CU_ASSERT_EQUAL(r->f.n_subscribe, 0);
}

static void clients_may_not_publish(void)
{
    rig_t *r = rig("admin", 10);
    const char *cid = handshake(r, 0);
    json_object *a = send1(r, msg("[{\"id\":\"5\",\"channel\":\"/v2/me/interactions\",\"clientId\":\"%s\","
                                 "\"data\":{\"x\":1}},{\"id\":\"6\",\"channel\":\"/meta/other\",\"clientId\":\"%s\"}]",
                                 cid));

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "error"), "403::publish_denied");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "id"), "5");
    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(at(a, 1), "successful")));
    /* an unknown client publishing is sent to handshake instead */
    a = send1(r, "[{\"id\":\"7\",\"channel\":\"/x\",\"clientId\":\"nope\",\"data\":{}}]");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 0), "error"), "402::Unknown client");
}

static void a_batch_of_many_messages_costs_one_call_per_session_not_per_message(void)
{
    rig_t *r = rig("supervisor", 10);
    const char *cid = handshake(r, 0);
    const char *body = "[";
    json_object *a;
    int i;

    /* 98 (un)subscriptions alternating, then a publish and a message of an unknown session */
    for (i = 0; i < 98; i++) {
        body = apr_psprintf(tp, "%s{\"id\":\"%d\",\"channel\":\"/meta/%s\",\"clientId\":\"%s\","
                            "\"subscription\":\"%s\"},", body, i, i % 2 ? "unsubscribe" : "subscribe", cid,
                            i % 4 < 2 ? "/v2/interactions" : "/v2/me/interactions");
    }
    body = apr_psprintf(tp, "%s{\"id\":\"p\",\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":{}},"
                        "{\"id\":\"u\",\"channel\":\"/meta/subscribe\",\"clientId\":\"nope\","
                        "\"subscription\":\"/v2/me/interactions\"}]", body, cid);
    a = send1(r, body);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 100);
    for (i = 0; i < 98; i++) {
        CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(at(a, (size_t)i), "successful")));
    }
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 98), "error"), "403::publish_denied");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 99), "error"), "402::Unknown client");
    /* one look-up of both clientIds, one call for the session's subscriptions */
    CU_ASSERT_EQUAL(r->f.n_sessions, 1);
    CU_ASSERT_EQUAL(r->f.n_session, 0);
    CU_ASSERT_EQUAL(r->f.n_subscribe, 1);
    /* the last message naming a channel decides: /v2/interactions was unsubscribed last
     * (message 97: i % 4 == 1), /v2/me/interactions too (message 95) */
    CU_ASSERT_EQUAL(r->f.channels, 0);

    /* a connect splits the groups: what it sees is what came before it */
    r->f.n_subscribe = 0;
    a = send1(r, msg("[{\"id\":\"1\",\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"/v2/interactions\"},"
                     "{\"id\":\"2\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"},"
                     "{\"id\":\"3\",\"channel\":\"/meta/unsubscribe\",\"clientId\":\"%s\",\"subscription\":\"/v2/interactions\"},"
                     "{\"id\":\"4\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid));
    CU_ASSERT_EQUAL(r->f.n_subscribe, 2);
    CU_ASSERT_EQUAL(r->f.n_connect, 1);
    CU_ASSERT_EQUAL(r->f.channels, 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(at(a, 1), "successful")));
    /* one connect per session and request: the second costs nothing */
    CU_ASSERT_FALSE(json_object_get_boolean(mi_json_get(at(a, 3), "successful")));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 3), "id"), "4");

    /* a disconnect: what follows it in the request is for a gone session */
    a = send1(r, msg("[{\"id\":\"1\",\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"},"
                     "{\"id\":\"2\",\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"},"
                     "{\"id\":\"3\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid));
    CU_ASSERT_EQUAL(r->f.n_disconnect, 1);
    CU_ASSERT_EQUAL(r->f.n_connect, 1);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 1), "error"), "402::Unknown client");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(at(a, 2), "error"), "402::Unknown client");
}

static void disconnect_ends_the_session(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    json_object *d;

    gone_calls = 0;
    mi_push_on_change(r->push, changed, NULL);
    d = at(send1(r, msg("[{\"id\":\"8\",\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", cid)), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(d, "successful")));
    /* no connect of it held here: the other processes are told */
    CU_ASSERT_EQUAL(gone_calls, 1);
    CU_ASSERT_STRING_EQUAL(gone_client, cid);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d, "id"), "8");
    CU_ASSERT_PTR_NULL(r->f.client_id);
    d = at(send1(r, msg("[{\"id\":\"9\",\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", cid)), 0);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d, "error"), "402::Unknown client");
    CU_ASSERT_EQUAL(gone_calls, 1);
}

static void a_disconnect_answers_the_connect_held_here(void)
{
    rig_t *r = rig("agent", 10);
    const char *cid = handshake(r, 0);
    mi_push_waiter_t *w = NULL;

    gone_calls = 0;
    mi_push_on_change(r->push, changed, NULL);
    /* as if another thread of this process held a connect of the session */
    CU_ASSERT_EQUAL_FATAL(mi_push_waiter_register(r->waiters, 7, "agent1", cid, tp, &w), APR_SUCCESS);
    send1(r, msg("[{\"id\":\"8\",\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", cid));
    CU_ASSERT_EQUAL(mi_push_waiter_wait(r->waiters, w, apr_time_now() + apr_time_from_sec(60)), MI_PUSH_WAITER_CANCELLED);
    CU_ASSERT_EQUAL(mi_push_waiter_reason(r->waiters, w), MI_PUSH_WAITER_DISCONNECTED);
    CU_ASSERT_EQUAL(gone_calls, 0);
}

static void what_is_not_bayeux_is_rejected(void)
{
    rig_t *r = rig("agent", 10);
    mi_push_req_t req;
    mi_push_resp_t resp;
    const char *err = NULL;

    memset(&req, 0, sizeof(req));
    req.cc = 7;
    req.login = "agent1";
    req.base = "http://h";
    req.pool = tp;
    CU_ASSERT_EQUAL(mi_push_serve(r->push, &req, unit_json("[]"), &resp, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(err);
    CU_ASSERT_EQUAL(mi_push_serve(r->push, &req, unit_json("{\"a\":1}"), &resp, &err), 0);
}

void add_push_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(the_handshake_reply_has_what_cometd_needs),
        UNIT_TEST(a_known_browser_keeps_its_cookie),
        UNIT_TEST(the_ack_extension_is_confirmed_in_the_handshake),
        UNIT_TEST(a_handshake_without_a_polling_transport_fails_for_good),
        UNIT_TEST(a_handshake_is_answered_alone),
        UNIT_TEST(unknown_users_and_an_unreachable_database_fail_the_handshake),
        UNIT_TEST(a_handshake_beyond_the_users_limits_is_refused_with_advice),
        UNIT_TEST(an_unknown_client_gets_402_with_its_id),
        UNIT_TEST(a_first_connect_asking_timeout_zero_is_answered_at_once),
        UNIT_TEST(a_connect_batched_with_a_subscribe_is_not_held),
        UNIT_TEST(events_come_before_the_connect_reply_rendered_per_channel),
        UNIT_TEST(lean_events_are_rendered_once_per_process_from_fetched_snapshots),
        UNIT_TEST(a_lean_row_the_subscriber_may_not_see_is_left_out),
        UNIT_TEST(a_failing_snapshot_fetch_says_retry_later),
        UNIT_TEST(a_demoted_supervisor_gets_no_contact_center_messages_even_cached_ones),
        UNIT_TEST(the_cache_renders_each_relation_as_rendering_directly_would),
        UNIT_TEST(the_cache_renders_a_ring_all_offer_for_every_agent_it_rings_for),
        UNIT_TEST(the_cache_keeps_its_newest_rows),
        UNIT_TEST(the_cache_stays_within_its_bytes_whatever_the_bases),
        UNIT_TEST(the_ack_batch_travels_both_ways),
        UNIT_TEST(a_held_connect_is_woken_by_news_for_its_user),
        UNIT_TEST(a_client_timeout_shorter_than_the_servers_is_honoured),
        UNIT_TEST(a_full_registry_answers_at_once_and_says_when_to_come_back),
        UNIT_TEST(a_user_over_its_share_of_held_connects_is_told_to_poll),
        UNIT_TEST(a_browser_over_its_share_is_told_multiple_clients),
        UNIT_TEST(a_stopping_process_answers_at_once_and_lets_the_connection_go),
        UNIT_TEST(a_database_failure_on_connect_says_retry_later),
        UNIT_TEST(subscribe_echoes_the_subscription_as_sent),
        UNIT_TEST(subscribing_the_contact_center_wakes_the_sessions_held_connects),
        UNIT_TEST(an_agent_may_not_subscribe_the_contact_center_channel),
        UNIT_TEST(meta_and_unknown_channels_are_refused_and_service_ones_recorded_nowhere),
        UNIT_TEST(clients_may_not_publish),
        UNIT_TEST(a_batch_of_many_messages_costs_one_call_per_session_not_per_message),
        UNIT_TEST(disconnect_ends_the_session),
        UNIT_TEST(a_disconnect_answers_the_connect_held_here),
        UNIT_TEST(what_is_not_bayeux_is_rejected),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("push", tests);
}
