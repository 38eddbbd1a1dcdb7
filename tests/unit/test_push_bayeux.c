/* test_push_bayeux.c — Bayeux messages: parsing batches, replies, advice, subscriptions, JSONP
 * callback names, cookies, and push messages rendered for their recipient. */
#include <string.h>

#include <apr_strings.h>

#include "mi_push_bayeux.h"
#include "mi_json.h"
#include "unit.h"

#define A1 "11111111-1111-1111-1111-111111111111"
#define A2 "22222222-2222-2222-2222-222222222222"

static mi_push_bx_msg_t *parse_ok(const char *text, int want)
{
    mi_push_bx_msg_t *msgs = NULL;
    const char *err = NULL;
    int n = mi_push_bx_parse(unit_json(text), tp, &msgs, &err);

    CU_ASSERT_EQUAL_FATAL(n, want);
    CU_ASSERT_PTR_NULL(err);
    return msgs;
}

static mi_caller_t caller(const char *id, const char *role)
{
    mi_caller_t c;

    memset(&c, 0, sizeof(c));
    c.id = id;
    c.is_agent = strcmp(role, "agent") == 0;
    c.is_supervisor = strcmp(role, "supervisor") == 0;
    c.is_admin = strcmp(role, "admin") == 0;
    c.is_apiuser = strcmp(role, "apiuser") == 0;
    return c;
}

/* ------------------------------------------------------------------ parsing */

static void a_batch_is_split_and_classified(void)
{
    mi_push_bx_msg_t *m = parse_ok(
        "[{\"channel\":\"/meta/handshake\"},{\"channel\":\"/meta/connect\",\"clientId\":\"c1\"},"
        "{\"channel\":\"/meta/subscribe\"},{\"channel\":\"/meta/unsubscribe\"},"
        "{\"channel\":\"/meta/disconnect\"},{\"channel\":\"/meta/what\"},{\"channel\":\"/v2/x\"}]", 7);

    CU_ASSERT_EQUAL(m[0].type, MI_PUSH_BX_HANDSHAKE);
    CU_ASSERT_EQUAL(m[1].type, MI_PUSH_BX_CONNECT);
    CU_ASSERT_STRING_EQUAL(m[1].client_id, "c1");
    CU_ASSERT_PTR_NULL(m[0].client_id);
    CU_ASSERT_EQUAL(m[2].type, MI_PUSH_BX_SUBSCRIBE);
    CU_ASSERT_EQUAL(m[3].type, MI_PUSH_BX_UNSUBSCRIBE);
    CU_ASSERT_EQUAL(m[4].type, MI_PUSH_BX_DISCONNECT);
    CU_ASSERT_EQUAL(m[5].type, MI_PUSH_BX_META_OTHER);
    CU_ASSERT_EQUAL(m[6].type, MI_PUSH_BX_PUBLISH);
}

static void a_single_object_is_a_batch_of_one(void)
{
    mi_push_bx_msg_t *m = parse_ok("{\"channel\":\"/meta/connect\",\"clientId\":\"x\"}", 1);

    CU_ASSERT_EQUAL(m[0].type, MI_PUSH_BX_CONNECT);
}

static void what_is_not_bayeux_is_refused_with_a_reason(void)
{
    static const char *const bad[] = {
        "[]", "5", "\"x\"", "[1]", "[{}]", "[{\"channel\":5}]", "[{\"channel\":\"meta\"}]",
        "[{\"channel\":\"/meta/connect\"},7]", NULL
    };
    const char *const *b;

    for (b = bad; *b != NULL; b++) {
        mi_push_bx_msg_t *msgs = NULL;
        const char *err = NULL;
        CU_ASSERT_EQUAL(mi_push_bx_parse(unit_json(*b), tp, &msgs, &err), 0);
        CU_ASSERT_PTR_NOT_NULL(err);
    }
}

/* ------------------------------------------------------------------ replies */

static void replies_echo_the_id_verbatim(void)
{
    mi_push_bx_msg_t *m = parse_ok("[{\"id\":\"7\",\"channel\":\"/meta/connect\"},"
                                   "{\"id\":12,\"channel\":\"/meta/connect\"},"
                                   "{\"channel\":\"/meta/connect\"}]", 3);

    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_bind(tp, mi_push_bx_reply(&m[0], 1, "c"))),
                           "{\"id\":\"7\",\"channel\":\"/meta/connect\",\"successful\":true,\"clientId\":\"c\"}");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_bind(tp, mi_push_bx_reply(&m[1], 0, NULL))),
                           "{\"id\":12,\"channel\":\"/meta/connect\",\"successful\":false}");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_bind(tp, mi_push_bx_reply(&m[2], 1, NULL))),
                           "{\"channel\":\"/meta/connect\",\"successful\":true}");
}

static void an_unknown_client_is_told_402_and_to_handshake_at_once(void)
{
    mi_push_bx_msg_t *m = parse_ok("[{\"id\":\"9\",\"channel\":\"/meta/connect\",\"clientId\":\"gone\"}]", 1);

    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_bind(tp, mi_push_bx_unknown_client(m))),
                           "{\"id\":\"9\",\"channel\":\"/meta/connect\",\"successful\":false,"
                           "\"error\":\"402::Unknown client\","
                           "\"advice\":{\"reconnect\":\"handshake\",\"interval\":0}}");
}

static void advice_leaves_out_what_is_negative(void)
{
    json_object *r = mi_json_bind(tp, json_object_new_object());

    mi_push_bx_set_advice(r, "retry", 2000, -1, 1);
    CU_ASSERT_STRING_EQUAL(unit_dump(r), "{\"advice\":{\"reconnect\":\"retry\",\"interval\":2000,"
                                         "\"multiple-clients\":true}}");
    mi_push_bx_set_advice(r, "none", -1, -1, 0);
    CU_ASSERT_STRING_EQUAL(unit_dump(r), "{\"advice\":{\"reconnect\":\"none\"}}");
}

/* ------------------------------------------------------------------ handshake and connect fields */

static void handshakes_need_version_one_and_a_polling_transport(void)
{
    const char *err = NULL;
    mi_push_bx_msg_t *ok1 = parse_ok("[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                                     "\"supportedConnectionTypes\":[\"websocket\",\"long-polling\"]}]", 1);
    mi_push_bx_msg_t *ok2 = parse_ok("[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                                     "\"supportedConnectionTypes\":[\"callback-polling\"]}]", 1);
    mi_push_bx_msg_t *ws = parse_ok("[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                                    "\"supportedConnectionTypes\":[\"websocket\"]}]", 1);
    mi_push_bx_msg_t *nov = parse_ok("[{\"channel\":\"/meta/handshake\","
                                     "\"supportedConnectionTypes\":[\"long-polling\"]}]", 1);
    mi_push_bx_msg_t *v2 = parse_ok("[{\"channel\":\"/meta/handshake\",\"version\":\"2.0\","
                                    "\"supportedConnectionTypes\":[\"long-polling\"]}]", 1);

    CU_ASSERT_TRUE(mi_push_bx_handshake_ok(ok1, &err));
    CU_ASSERT_TRUE(mi_push_bx_handshake_ok(ok2, &err));
    CU_ASSERT_FALSE(mi_push_bx_handshake_ok(ws, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "Connection types not supported"));
    CU_ASSERT_FALSE(mi_push_bx_handshake_ok(nov, &err));
    CU_ASSERT_FALSE(mi_push_bx_handshake_ok(v2, &err));
    /* where websocket is offered, a client offering only websocket is acceptable */
    CU_ASSERT_TRUE(mi_push_bx_handshake_ok_ws(ws, 1, &err));
    CU_ASSERT_FALSE(mi_push_bx_handshake_ok_ws(ws, 0, &err));
    CU_ASSERT_FALSE(mi_push_bx_handshake_ok_ws(v2, 1, &err));
}

static void the_ack_extension_is_asked_for_in_either_form(void)
{
    CU_ASSERT_TRUE(mi_push_bx_wants_ack(parse_ok("[{\"channel\":\"/meta/handshake\",\"ext\":{\"ack\":true}}]", 1)));
    CU_ASSERT_TRUE(mi_push_bx_wants_ack(parse_ok("[{\"channel\":\"/meta/handshake\",\"ext\":{\"ack\":{\"enabled\":true,\"batch\":0}}}]", 1)));
    CU_ASSERT_FALSE(mi_push_bx_wants_ack(parse_ok("[{\"channel\":\"/meta/handshake\",\"ext\":{\"ack\":false}}]", 1)));
    CU_ASSERT_FALSE(mi_push_bx_wants_ack(parse_ok("[{\"channel\":\"/meta/handshake\",\"ext\":{\"ack\":{\"enabled\":false}}}]", 1)));
    CU_ASSERT_FALSE(mi_push_bx_wants_ack(parse_ok("[{\"channel\":\"/meta/handshake\"}]", 1)));
}

static void a_connect_carries_its_ack_and_timeout(void)
{
    mi_push_bx_msg_t *m = parse_ok("[{\"channel\":\"/meta/connect\",\"ext\":{\"ack\":4},\"advice\":{\"timeout\":0}},"
                                   "{\"channel\":\"/meta/connect\"},"
                                   "{\"channel\":\"/meta/connect\",\"ext\":{\"ack\":\"4\"},\"advice\":{\"timeout\":15000}}]", 3);

    CU_ASSERT_EQUAL(mi_push_bx_connect_ack(&m[0]), 4);
    CU_ASSERT_EQUAL(mi_push_bx_connect_timeout(&m[0]), 0);
    CU_ASSERT_EQUAL(mi_push_bx_connect_ack(&m[1]), -1);
    CU_ASSERT_EQUAL(mi_push_bx_connect_timeout(&m[1]), -1);
    CU_ASSERT_EQUAL(mi_push_bx_connect_ack(&m[2]), -1);      /* not a number: ignored */
    CU_ASSERT_EQUAL(mi_push_bx_connect_timeout(&m[2]), 15000);
}

/* ------------------------------------------------------------------ subscriptions */

static void subscriptions_are_a_string_or_an_array_of_strings(void)
{
    const char **c = NULL;
    mi_push_bx_msg_t *m = parse_ok("[{\"channel\":\"/meta/subscribe\",\"subscription\":\"/a\"},"
                                   "{\"channel\":\"/meta/subscribe\",\"subscription\":[\"/a\",\"/b\"]},"
                                   "{\"channel\":\"/meta/subscribe\",\"subscription\":[]},"
                                   "{\"channel\":\"/meta/subscribe\",\"subscription\":[\"/a\",1]},"
                                   "{\"channel\":\"/meta/subscribe\"}]", 5);

    CU_ASSERT_EQUAL(mi_push_bx_subscriptions(&m[0], tp, &c), 1);
    CU_ASSERT_STRING_EQUAL(c[0], "/a");
    CU_ASSERT_EQUAL(mi_push_bx_subscriptions(&m[1], tp, &c), 2);
    CU_ASSERT_STRING_EQUAL(c[1], "/b");
    CU_ASSERT_EQUAL(mi_push_bx_subscriptions(&m[2], tp, &c), 0);
    CU_ASSERT_EQUAL(mi_push_bx_subscriptions(&m[3], tp, &c), 0);
    CU_ASSERT_EQUAL(mi_push_bx_subscriptions(&m[4], tp, &c), 0);
}

static void channel_names_follow_the_bayeux_grammar(void)
{
    CU_ASSERT_TRUE(mi_push_bx_channel_valid("/v2/me/interactions"));
    CU_ASSERT_TRUE(mi_push_bx_channel_valid("/foo/*"));
    CU_ASSERT_TRUE(mi_push_bx_channel_valid("/foo/**"));
    CU_ASSERT_TRUE(mi_push_bx_channel_valid("/a-b_c!~()$@.d"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("/"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("v2/me"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("/v2//me"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("/v2/me/"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("/**/x"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("/a*"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("/***"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid("/a b"));
    CU_ASSERT_FALSE(mi_push_bx_channel_valid(NULL));
}

static void agents_get_their_channel_and_supervisors_the_contact_centers(void)
{
    mi_caller_t agent = caller(A1, "agent"), sup = caller(A2, "supervisor");
    mi_caller_t admin = caller(A2, "admin"), api = caller(A2, "apiuser");
    const char *err = NULL;
    unsigned bits = 0;

    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_ME, &agent, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, MI_PUSH_ME);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_ME, &sup, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, MI_PUSH_ME);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_ALL, &sup, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, MI_PUSH_ALL);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_ALL, &admin, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, MI_PUSH_ALL);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_ALL, &agent, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(bits, 0);
    CU_ASSERT_EQUAL(strncmp(err, "403:/v2/interactions:", 21), 0);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_ALL, &api, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
}

static void channel_states_go_to_the_agent_and_to_supervisors(void)
{
    mi_caller_t agent = caller(A1, "agent"), sup = caller(A2, "supervisor");
    mi_caller_t admin = caller(A2, "admin"), api = caller(A2, "apiuser");
    const char *err = NULL;
    unsigned bits = 0;

    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_MY_CHANNELS, &agent, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, MI_PUSH_MYCH);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_MY_CHANNELS, &sup, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_AGENTS, &sup, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, MI_PUSH_AGENTS);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_AGENTS, &admin, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_AGENTS, &agent, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(strncmp(err, "403:/v2/agents:", 15), 0);
    CU_ASSERT_EQUAL(mi_push_bx_authorize(MI_PUSH_BX_CH_AGENTS, &api, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
    /* an agent's own channel states are below /v2/me/: the GWS wildcards include them */
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/me/*", &agent, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, MI_PUSH_ME | MI_PUSH_MYCH);
    /* /v2/agents is the contact center's news: never an agent's, dropped with a demotion */
    CU_ASSERT_FALSE(mi_push_bx_allowed(&agent) & MI_PUSH_AGENTS);
    CU_ASSERT_TRUE(mi_push_bx_allowed(&sup) & MI_PUSH_AGENTS);
}

static void a_channel_state_message_names_the_agent_only_to_supervisors(void)
{
    json_object *ev = unit_json("{\"referenceId\":7,\"snapshot\":{\"user\":{\"id\":\"u1\","
                                "\"userName\":\"agent1\"},\"channels\":[{\"channel\":\"email\","
                                "\"userState\":{\"state\":\"Ready\"}}],\"cause\":\"Agent\"}}");
    json_object *mine = mi_json_bind(tp, mi_push_bx_channel_event(MI_PUSH_BX_CH_MY_CHANNELS, ev));
    json_object *all = mi_json_bind(tp, mi_push_bx_channel_event(MI_PUSH_BX_CH_AGENTS, ev));
    json_object *d = mi_json_get(mine, "data");

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mine, "channel"), "/v2/me/channels");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d, "messageType"), "ChannelStateChangeMessage");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d, "messageTypeName"), "ChannelStateChangeMessage");
    CU_ASSERT_EQUAL(mi_json_get_int(d, "referenceId", -1), 7);
    CU_ASSERT_PTR_NULL(mi_json_get(d, "user"));
    CU_ASSERT_PTR_NULL(mi_json_get(d, "cause"));
    CU_ASSERT_EQUAL(json_object_array_length(mi_json_get(d, "channels")), 1);
    d = mi_json_get(all, "data");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(all, "channel"), "/v2/agents");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(d, "user"), "userName"), "agent1");
    /* a change the server made by itself carries no referenceId */
    ev = unit_json("{\"referenceId\":null,\"snapshot\":{\"channels\":[]}}");
    d = mi_json_get(mi_json_bind(tp, mi_push_bx_channel_event(MI_PUSH_BX_CH_AGENTS, ev)), "data");
    CU_ASSERT_PTR_NULL(mi_json_get(d, "referenceId"));
}

static void meta_wildcards_and_other_channels_are_denied(void)
{
    mi_caller_t admin = caller(A2, "admin");
    const char *err = NULL;
    unsigned bits = 0;

    CU_ASSERT_EQUAL(mi_push_bx_authorize("/meta/connect", &admin, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(strncmp(err, "403:", 4), 0);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/meta/**", &admin, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/**", &admin, tp, &bits, &err), MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/**", &admin, tp, &bits, &err), MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/*", &admin, tp, &bits, &err), MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/me/other", &admin, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(strncmp(err, "403:/v2/me/other:", 17), 0);
    /* the refusal names the channels there are */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, MI_PUSH_BX_CH_ME ", " MI_PUSH_BX_CH_ALL));
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/me/other/*", &admin, tp, &bits, &err),
                    MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2//x", &admin, tp, &bits, &err), MI_PUSH_BX_SUB_DENIED);
    CU_ASSERT_EQUAL(strncmp(err, "405:", 4), 0);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/service/echo", &admin, tp, &bits, &err),
                    MI_PUSH_BX_SUB_SERVICE);
    CU_ASSERT_EQUAL(bits, 0);
}

/* GWS clients subscribe the wildcards below /v2/me/ ("*" or "**"): every /v2/me/ channel of
 * the table the user may have, whatever the roles; a supervisor's /v2/interactions is not
 * below /v2/me/. */
static void me_wildcards_mean_every_me_channel_the_user_may_have(void)
{
    mi_caller_t agent = caller(A1, "agent"), sup = caller(A2, "supervisor");
    const mi_push_bx_channel_t *ch;
    const char *err = NULL;
    unsigned bits = 0, me = 0;
    int i, n;

    ch = mi_push_bx_channels(&n);
    for (i = 0; i < n; i++) {
        if (strncmp(ch[i].name, "/v2/me/", 7) == 0) {
            me |= ch[i].bit;
        }
    }
    CU_ASSERT_TRUE(me & MI_PUSH_ME);
    CU_ASSERT_FALSE(me & MI_PUSH_ALL);
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/me/*", &agent, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, me & mi_push_bx_allowed(&agent));
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/me/**", &agent, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, me & mi_push_bx_allowed(&agent));
    CU_ASSERT_EQUAL(mi_push_bx_authorize("/v2/me/*", &sup, tp, &bits, &err),
                    MI_PUSH_BX_SUB_CHANNELS);
    CU_ASSERT_EQUAL(bits, me & mi_push_bx_allowed(&sup));
    CU_ASSERT_FALSE(bits & MI_PUSH_ALL);
    /* what a pattern names, rights aside: unsubscribing a wildcard ends what it named */
    CU_ASSERT_EQUAL(mi_push_bx_channel_bits("/v2/me/*"), me);
    CU_ASSERT_EQUAL(mi_push_bx_channel_bits("/v2/me/**"), me);
    CU_ASSERT_EQUAL(mi_push_bx_channel_bits(MI_PUSH_BX_CH_ALL), MI_PUSH_ALL);
    CU_ASSERT_EQUAL(mi_push_bx_channel_bits("/v2/me"), 0);
    CU_ASSERT_EQUAL(mi_push_bx_channel_bits("/v2/me/interactions/*"), 0);
    CU_ASSERT_EQUAL(mi_push_bx_channel_bits("/v2/*") & MI_PUSH_ME, 0);
    CU_ASSERT_TRUE(mi_push_bx_channel_bits("/v2/**") & MI_PUSH_ME);
    CU_ASSERT_EQUAL(mi_push_bx_channel_bits(NULL), 0);
    /* rights per row: only supervisors and admins may have /v2/interactions */
    CU_ASSERT_FALSE(mi_push_bx_allowed(&agent) & MI_PUSH_ALL);
    CU_ASSERT_TRUE(mi_push_bx_allowed(&sup) & MI_PUSH_ALL);
    CU_ASSERT_TRUE(mi_push_bx_allowed(&agent) & MI_PUSH_ME);
}

/* ------------------------------------------------------------------ transport details */

static void jsonp_callbacks_are_javascript_names_only(void)
{
    char longname[MI_PUSH_BX_JSONP_MAX + 2];

    /* what CometD and Faye send */
    CU_ASSERT_TRUE(mi_push_bx_jsonp_valid("_cometd_jsonp_0"));
    CU_ASSERT_TRUE(mi_push_bx_jsonp_valid("__jsonp12__"));
    CU_ASSERT_TRUE(mi_push_bx_jsonp_valid("_cb"));
    /* names that reach into the page: dotted ones, built-in globals, Object.prototype */
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("document.write"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_a.b"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("opener.location.assign"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("$.app.cb1"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("alert"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("eval"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("jsonpcallback"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("__proto__"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("__defineSetter__"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_$"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid(""));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid(NULL));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_1cb("));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_a;b"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_a b"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_a[0]"));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid("_\xc3\xa9"));
    memset(longname, 'a', sizeof(longname) - 1);
    longname[0] = '_';
    longname[sizeof(longname) - 1] = '\0';
    CU_ASSERT_FALSE(mi_push_bx_jsonp_valid(longname));
    longname[MI_PUSH_BX_JSONP_MAX] = '\0';
    CU_ASSERT_TRUE(mi_push_bx_jsonp_valid(longname));
}

static void jsonp_is_answered_only_to_our_own_or_allowed_pages(void)
{
    static const char *const allowed[] = { "https://desk.example" };
    const char *own = "http://cc.example:8080";

    /* the browser's own verdict */
    CU_ASSERT_TRUE(mi_push_bx_jsonp_allowed("same-origin", NULL, NULL, own, allowed, 1, tp));
    CU_ASSERT_TRUE(mi_push_bx_jsonp_allowed("none", NULL, NULL, own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed("cross-site", NULL, "https://evil.example/x", own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed("same-site", NULL, NULL, own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed("cross-site", NULL, NULL, own, allowed, 1, tp));
    CU_ASSERT_TRUE(mi_push_bx_jsonp_allowed("cross-site", NULL, "https://desk.example/agent/", own, allowed, 1, tp));
    CU_ASSERT_TRUE(mi_push_bx_jsonp_allowed("cross-site", "https://DESK.example", NULL, own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed("cross-site", "https://desk.example.evil", NULL, own, allowed, 1, tp));
    /* older browsers: Origin or Referer name the page */
    CU_ASSERT_TRUE(mi_push_bx_jsonp_allowed(NULL, NULL, "http://cc.example:8080/desk/", own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed(NULL, NULL, "http://cc.example:8081/desk/", own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed(NULL, "null", NULL, own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed(NULL, "https://evil.example", "http://cc.example:8080/", own, allowed, 1, tp));
    CU_ASSERT_TRUE(mi_push_bx_jsonp_allowed(NULL, "https://desk.example", NULL, own, allowed, 1, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed(NULL, "https://desk.example", NULL, own, NULL, 0, tp));
    /* no page named at all: it could be any site's, so no */
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed(NULL, NULL, NULL, own, NULL, 0, tp));
    CU_ASSERT_FALSE(mi_push_bx_jsonp_allowed(NULL, "", "", own, allowed, 1, tp));
    CU_ASSERT_STRING_EQUAL(mi_push_bx_page_origin(NULL, "https://a.example:444/b/c?d", tp), "https://a.example:444");
    CU_ASSERT_STRING_EQUAL(mi_push_bx_page_origin(NULL, "https://a.example", tp), "https://a.example");
    CU_ASSERT_PTR_NULL(mi_push_bx_page_origin("", "not a url", tp));
}

static void the_browser_cookie_is_found_among_others(void)
{
    CU_ASSERT_STRING_EQUAL(mi_push_bx_cookie("a=1; BAYEUX_BROWSER=abc; b=2", "BAYEUX_BROWSER", tp), "abc");
    CU_ASSERT_STRING_EQUAL(mi_push_bx_cookie("BAYEUX_BROWSER=xyz", "BAYEUX_BROWSER", tp), "xyz");
    CU_ASSERT_PTR_NULL(mi_push_bx_cookie("XBAYEUX_BROWSER=1; a=2", "BAYEUX_BROWSER", tp));
    CU_ASSERT_PTR_NULL(mi_push_bx_cookie(NULL, "BAYEUX_BROWSER", tp));
    CU_ASSERT_TRUE(mi_push_bx_browser_valid("0123456789abcdefABCDEF"));
    CU_ASSERT_FALSE(mi_push_bx_browser_valid("short"));
    CU_ASSERT_FALSE(mi_push_bx_browser_valid("0123456789abcdef;x"));
    CU_ASSERT_FALSE(mi_push_bx_browser_valid(NULL));
}

static void random_ids_are_128_bits_of_hex_and_differ(void)
{
    const char *a = NULL, *b = NULL;
    int i;

    CU_ASSERT_EQUAL(mi_push_bx_random_id(tp, &a), APR_SUCCESS);
    CU_ASSERT_EQUAL(mi_push_bx_random_id(tp, &b), APR_SUCCESS);
    CU_ASSERT_EQUAL(strlen(a), 32);
    for (i = 0; i < 32; i++) {
        CU_ASSERT_PTR_NOT_NULL(strchr("0123456789abcdef", a[i]));
    }
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT_TRUE(mi_push_bx_browser_valid(a));
}

/* ------------------------------------------------------------------ push messages */

static const char *snap =
    "{\"id\":\"i1\",\"mediaType\":\"email\",\"state\":\"Invited\",\"queue\":\"support\","
    "\"workbin\":null,\"assignedTo\":\"agent1\",\"parentId\":null,\"userData\":{},"
    "\"subject\":\"s\",\"from\":\"f\",\"to\":[],\"receivedDate\":\"d\",\"updatedDate\":\"d\","
    "\"priority\":0,\"_owner\":null,\"_invitee\":\"" A1 "\",\"_workbinOwner\":null}";

static void a_state_message_is_rendered_for_its_recipient(void)
{
    mi_caller_t agent = caller(A1, "agent");
    json_object *e = unit_json(apr_pstrcat(tp, "{\"notification\":\"StatusChange\",\"referenceId\":42,"
                                           "\"snapshot\":", snap, "}", NULL));
    json_object *m = mi_json_bind(tp, mi_push_bx_event(MI_PUSH_BX_CH_ME, e, &agent, "http://h/api/v2", 0, tp));
    json_object *data = mi_json_get(m, "data"), *it = mi_json_get(data, "interaction");

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(m, "channel"), "/v2/me/interactions");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(data, "messageType"), "InteractionStateMessage");
    /* GWS 8.5.0 clients read the same under its older name */
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(data, "messageTypeName"), "InteractionStateMessage");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(data, "notificationType"), "StatusChange");
    CU_ASSERT_EQUAL(mi_json_get_int(data, "referenceId", 0), 42);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(it, "state"), "Invited");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(it, "uri"), "http://h/api/v2/interactions/i1");
    /* the invitee may accept or reject; internal fields never leave */
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(it, "capabilities")), "[\"Accept\",\"Reject\"]");
    CU_ASSERT_PTR_NULL(mi_json_get(it, "_invitee"));
    CU_ASSERT_PTR_NULL(mi_json_get(it, "_owner"));
}

static void a_revoked_recipient_sees_revoked_and_no_capabilities(void)
{
    mi_caller_t agent = caller(A1, "agent");
    json_object *e = unit_json(apr_pstrcat(tp, "{\"notification\":\"StatusChange\",\"referenceId\":null,"
                                           "\"snapshot\":", snap, "}", NULL));
    json_object *m = mi_json_bind(tp, mi_push_bx_event(MI_PUSH_BX_CH_ME, e, &agent, "http://h/api/v2", 1, tp));
    json_object *data = mi_json_get(m, "data"), *it = mi_json_get(data, "interaction");

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(it, "state"), "Revoked");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(it, "capabilities")), "[]");
    /* no API call caused it (routing, a timeout): no referenceId at all */
    CU_ASSERT_PTR_NULL(mi_json_get(data, "referenceId"));
}

static void workbin_content_renders_every_interaction(void)
{
    mi_caller_t agent = caller(A1, "agent");
    json_object *e = unit_json(apr_pstrcat(tp, "{\"notification\":\"WorkbinContent\",\"referenceId\":5,"
                                           "\"snapshot\":{\"name\":\"drafts\",\"type\":\"personal\","
                                           "\"interactions\":[", snap, "]}}", NULL));
    json_object *m = mi_json_bind(tp, mi_push_bx_event(MI_PUSH_BX_CH_ME, e, &agent, "http://h/api/v2", 0, tp));
    json_object *data = mi_json_get(m, "data"), *wb = mi_json_get(data, "workbin");

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(data, "messageType"), "WorkbinContentMessage");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(data, "messageTypeName"), "WorkbinContentMessage");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(data, "notificationType"), "WorkbinContent");
    CU_ASSERT_EQUAL(mi_json_get_int(data, "referenceId", 0), 5);
    CU_ASSERT_PTR_NULL(mi_json_get(data, "interaction"));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(wb, "name"), "drafts");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(wb, "type"), "personal");
    CU_ASSERT_EQUAL(json_object_array_length(mi_json_get(wb, "interactions")), 1);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(json_object_array_get_idx(mi_json_get(wb, "interactions"), 0),
                                           "uri"), "http://h/api/v2/interactions/i1");
}

void add_push_bayeux_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(a_batch_is_split_and_classified),
        UNIT_TEST(a_single_object_is_a_batch_of_one),
        UNIT_TEST(what_is_not_bayeux_is_refused_with_a_reason),
        UNIT_TEST(replies_echo_the_id_verbatim),
        UNIT_TEST(an_unknown_client_is_told_402_and_to_handshake_at_once),
        UNIT_TEST(advice_leaves_out_what_is_negative),
        UNIT_TEST(handshakes_need_version_one_and_a_polling_transport),
        UNIT_TEST(the_ack_extension_is_asked_for_in_either_form),
        UNIT_TEST(a_connect_carries_its_ack_and_timeout),
        UNIT_TEST(subscriptions_are_a_string_or_an_array_of_strings),
        UNIT_TEST(channel_names_follow_the_bayeux_grammar),
        UNIT_TEST(agents_get_their_channel_and_supervisors_the_contact_centers),
        UNIT_TEST(meta_wildcards_and_other_channels_are_denied),
        UNIT_TEST(me_wildcards_mean_every_me_channel_the_user_may_have),
        UNIT_TEST(jsonp_callbacks_are_javascript_names_only),
        UNIT_TEST(jsonp_is_answered_only_to_our_own_or_allowed_pages),
        UNIT_TEST(the_browser_cookie_is_found_among_others),
        UNIT_TEST(random_ids_are_128_bits_of_hex_and_differ),
        UNIT_TEST(a_state_message_is_rendered_for_its_recipient),
        UNIT_TEST(a_revoked_recipient_sees_revoked_and_no_capabilities),
        UNIT_TEST(workbin_content_renders_every_interaction),
        UNIT_TEST(channel_states_go_to_the_agent_and_to_supervisors),
        UNIT_TEST(a_channel_state_message_names_the_agent_only_to_supervisors),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("bayeux", tests);
}
