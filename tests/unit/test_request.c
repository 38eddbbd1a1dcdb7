/* test_request.c — a routed request decoded into its store call. */
#include <string.h>

#include <apr_strings.h>

#include "mi_json.h"
#include "mi_request.h"
#include "unit.h"

#define ID "0b7e3a7c-8a4e-4c1e-9f3e-1d2c3b4a5f60"

static mi_limits_t lim = { 65536, 32, 1024, 32768, 500, 100, 1048576, 16 };

static int decode(mi_decoded_t *d, const char *method, const char *path, const char *query,
                  const char *body, mi_error_t *err)
{
    mi_route_t rt;

    CU_ASSERT_TRUE_FATAL(mi_route_match(&rt, method, path, tp));
    CU_ASSERT_EQUAL(mi_request_wants_body(&rt), body != NULL);
    return mi_request_decode(d, &rt, query, body ? unit_json(body) : NULL, &lim, tp, err);
}

static void every_route_names_its_store_operation(void)
{
    static const struct { const char *m, *path, *query, *body, *store, *stat; int uris; } cases[] = {
        { "GET", "/me", NULL, NULL, "me", "me", 0 },
        { "POST", "/me/channels/chat", NULL, "{\"operationName\":\"Ready\"}", "channel", "channel", 0 },
        { "GET", "/interactions", NULL, NULL, "list", "list", 1 },
        { "GET", "/interactions", "fields=*", NULL, "list", "list", 0 },
        { "POST", "/interactions", NULL, "{\"mediaType\":\"email\",\"queueName\":\"q\"}", "create", "create", 0 },
        { "GET", "/interactions/" ID, NULL, NULL, "get", "get", 0 },
        { "PUT", "/interactions/" ID, NULL, "{\"userData\":{}}", "update", "update", 0 },
        { "GET", "/me/interactions", "limit=5", NULL, "my_list", "my_list", 1 },
        { "POST", "/me/interactions", NULL, "{\"operationName\":\"GetWorkbinContent\",\"workbin\":\"w\"}",
          "operation", "GetWorkbinContent", 0 },
        { "POST", "/me/interactions/" ID, NULL, "{\"operationName\":\"Accept\"}", "operation", "Accept", 0 },
        { "GET", "/me/workbins", NULL, NULL, "workbins", "workbins", 0 },
        { "GET", "/me/workbins/team", NULL, NULL, "workbin", "workbin", 0 },
        { "GET", "/agents", "state=Ready&media=email&queue=q", NULL, "agents", "agents", 0 },
        { "POST", "/agents/agent1/channels/email", NULL, "{\"operationName\":\"NotReady\"}",
          "agent_channel", "agent_channel", 0 },
        { "POST", "/interactions/" ID, NULL, "{\"operationName\":\"PlaceInQueue\",\"queueName\":\"q\"}",
          "supervise", "supervise", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mi_decoded_t d;
        mi_error_t err;
        CU_ASSERT_TRUE(decode(&d, cases[i].m, cases[i].path, cases[i].query, cases[i].body, &err));
        CU_ASSERT_STRING_EQUAL(mi_op(d.op)->entry, cases[i].store);
        CU_ASSERT_STRING_EQUAL(mi_op_name(d.op), cases[i].stat);
        CU_ASSERT_EQUAL(d.uris_only, cases[i].uris);
    }
}

static void operations_carry_the_id_and_the_user_data_limit(void)
{
    mi_decoded_t d;
    mi_error_t err;

    CU_ASSERT_TRUE(decode(&d, "POST", "/me/interactions/" ID, NULL,
                          "{\"operationName\":\"UpdateUserData\",\"userData\":{\"a\":1}}", &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "id"), ID);
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "_maxUserData", 0), 32768);
    CU_ASSERT_TRUE(decode(&d, "PUT", "/interactions/" ID, NULL, "{\"subject\":\"s\"}", &err));
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "_maxUserData", 0), 32768);
    CU_ASSERT_TRUE(decode(&d, "GET", "/me/workbins/team", NULL, NULL, &err));
    CU_ASSERT_STRING_EQUAL(unit_dump(d.args), "{\"name\":\"team\",\"_maxBytes\":1048576}");
}

/* Collection pages carry the byte bound the store stops them at. */
static void lists_carry_the_page_byte_bound(void)
{
    mi_decoded_t d;
    mi_error_t err;

    CU_ASSERT_TRUE(decode(&d, "GET", "/interactions", "fields=*&limit=500", NULL, &err));
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "_maxBytes", 0), 1048576);
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "limit", 0), 500);
    CU_ASSERT_TRUE(decode(&d, "GET", "/me/interactions", NULL, NULL, &err));
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "_maxBytes", 0), 1048576);
    /* a workbin's content is a page too, also when GetWorkbinContent asks for it */
    CU_ASSERT_TRUE(decode(&d, "POST", "/me/interactions", NULL,
                          "{\"operationName\":\"GetWorkbinContent\",\"workbin\":\"team\"}", &err));
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "_maxBytes", 0), 1048576);
    CU_ASSERT_TRUE(decode(&d, "POST", "/me/interactions/" ID, NULL,
                          "{\"operationName\":\"GetWorkbinContent\",\"workbin\":\"team\"}", &err));
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "_maxBytes", 0), 1048576);
    CU_ASSERT_TRUE(decode(&d, "POST", "/me/interactions/" ID, NULL, "{\"operationName\":\"Accept\"}", &err));
    CU_ASSERT_PTR_NULL(mi_json_get(d.args, "_maxBytes"));
    /* a client cannot set it: query parameters other than the known ones are ignored */
    CU_ASSERT_TRUE(decode(&d, "GET", "/interactions", "_maxBytes=999999999", NULL, &err));
    CU_ASSERT_EQUAL(mi_json_get_int(d.args, "_maxBytes", 0), 1048576);
}

static void bad_ids_and_names_are_unknown_resources(void)
{
    mi_decoded_t d;
    mi_error_t err;

    CU_ASSERT_FALSE(decode(&d, "GET", "/interactions/42", NULL, NULL, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_NOT_FOUND);
    CU_ASSERT_PTR_NULL(d.args);
    CU_ASSERT_FALSE(decode(&d, "POST", "/me/interactions/x", NULL, "{\"operationName\":\"Accept\"}", &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_NOT_FOUND);
    CU_ASSERT_FALSE(decode(&d, "GET", "/me/workbins/\xC3\x28", NULL, NULL, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_NOT_FOUND);
    CU_ASSERT_FALSE(decode(&d, "POST", "/me/interactions/" ID, NULL, "{\"operationName\":\"Fly\"}", &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_STRING_EQUAL(mi_op_name(d.op), "other");
    CU_ASSERT_FALSE(decode(&d, "GET", "/interactions", "limit=9999", NULL, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
}

/* A GWS queueUri names a queue of this location: the whole base, the base's path, or a path
 * relative to it; any other location's is an unknown queue, like a name that is none. */
static void queue_uris_resolve_to_names_of_this_location_only(void)
{
    static const char *const base = "http://Cc.Example:8080/t35/api/v2";
    static const struct { const char *uri; int ok; const char *name; } cases[] = {
        { "http://Cc.Example:8080/t35/api/v2/queues/support", 1, "support" },
        { "HTTP://cc.example:8080/t35/api/v2/queues/support", 1, "support" },
        { "/t35/api/v2/queues/support", 1, "support" },
        { "/queues/support", 1, "support" },
        { "/queues/post%20processing", 1, "post processing" },
        { "/queues/a+b", 1, "a+b" },
        { "http://cc.example:8080/t36/api/v2/queues/support", 0, NULL },
        { "http://other.example:8080/t35/api/v2/queues/support", 0, NULL },
        { "http://cc.example:8081/t35/api/v2/queues/support", 0, NULL },
        { "http://cc.example:8080/t35/api/v2x/queues/support", 0, NULL },
        { "/t36/api/v2/queues/support", 0, NULL },
        { "/t35/API/v2/queues/support", 0, NULL },
        { "/queues/", 0, NULL },
        { "/queues/a/b", 0, NULL },
        { "/queues/a?x=1", 0, NULL },
        { "/queues/%00", 0, NULL },
        { "/queues/%zz", 0, NULL },
        { "/queues/%C3", 0, NULL },
        { "/users/agent1", 0, NULL },
        { "support", 0, NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mi_decoded_t d;
        mi_error_t err = { 0, 0, NULL };
        const char *body = apr_psprintf(tp,
                                        "{\"operationName\":\"PlaceInQueue\",\"queueUri\":\"%s\"}",
                                        cases[i].uri);
        int ok;

        CU_ASSERT_TRUE_FATAL(decode(&d, "POST", "/me/interactions/" ID, NULL, body, &err));
        ok = mi_request_resolve(&d, base, tp, &err);
        if (ok != cases[i].ok) {
            fprintf(stderr, "\n  case %s: ok=%d (%s)\n", cases[i].uri, ok,
                    err.message ? err.message : "");
        }
        CU_ASSERT_EQUAL(ok, cases[i].ok);
        /* nothing of the uri goes on to the store */
        CU_ASSERT_PTR_NULL(mi_json_get(d.args, "_queueUri"));
        CU_ASSERT_PTR_NULL(mi_json_get(d.args, "_queueUriField"));
        if (ok) {
            CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "queueName"), cases[i].name);
        }
        else {
            CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
            CU_ASSERT_PTR_NULL(mi_json_get(d.args, "queueName"));
        }
    }
}

/* Another location's queue uri and an unknown name of this one read the same. */
static void another_locations_queue_is_told_as_an_unknown_queue(void)
{
    mi_decoded_t d;
    mi_error_t err;

    CU_ASSERT_TRUE_FATAL(decode(&d, "POST", "/me/interactions/" ID, NULL,
                                "{\"operationName\":\"Complete\",\"queueUri\":"
                                "\"http://h/acme/api/v2/queues/support\"}", &err));
    CU_ASSERT_FALSE(mi_request_resolve(&d, "http://h/api/v2", tp, &err));
    CU_ASSERT_STRING_EQUAL(err.message, "unknown queue");
    /* nothing to resolve: unchanged */
    CU_ASSERT_TRUE_FATAL(decode(&d, "POST", "/me/interactions/" ID, NULL,
                                "{\"operationName\":\"Complete\",\"queueName\":\"q\"}", &err));
    CU_ASSERT_TRUE(mi_request_resolve(&d, "http://h/api/v2", tp, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "queueName"), "q");
    CU_ASSERT_TRUE(decode(&d, "GET", "/me", NULL, NULL, &err));
    CU_ASSERT_TRUE(mi_request_resolve(&d, "http://h/api/v2", tp, &err));
    /* targetPath's queue: its field is named in what is wrong with it */
    CU_ASSERT_TRUE_FATAL(decode(&d, "POST", "/me/interactions/" ID, NULL,
                                "{\"operationName\":\"Transfer\",\"targetPath\":\"/queues/a/b\"}", &err));
    CU_ASSERT_FALSE(mi_request_resolve(&d, "http://h/api/v2", tp, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'targetPath'"));
}

static void supervisors_post_only_the_moves_with_the_agents_bodies(void)
{
    mi_decoded_t d;
    mi_error_t err;

    CU_ASSERT_TRUE(decode(&d, "POST", "/interactions/" ID, NULL,
                          "{\"operationName\":\"Transfer\",\"userId\":\"agent2\"}", &err));
    CU_ASSERT_EQUAL(d.op, MI_OP_SUPERVISE);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "operationName"), "Transfer");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "id"), ID);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "user"), "agent2");
    CU_ASSERT_FALSE(decode(&d, "POST", "/interactions/" ID, NULL, "{\"operationName\":\"Complete\"}", &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(decode(&d, "POST", "/interactions/" ID, NULL, "{\"operationName\":\"PlaceInQueue\"}", &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_FALSE(decode(&d, "POST", "/interactions/42", NULL,
                           "{\"operationName\":\"PlaceInQueue\",\"queueName\":\"q\"}", &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_NOT_FOUND);
    CU_ASSERT_TRUE(decode(&d, "POST", "/agents/agent1/channels/chat", NULL,
                          "{\"operationName\":\"NotReady\",\"reason\":\"Lunch\"}", &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "user"), "agent1");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(d.args, "media"), "chat");
    CU_ASSERT_FALSE(decode(&d, "POST", "/agents/agent1/channels/e%20mail", NULL,
                           "{\"operationName\":\"Ready\"}", &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(decode(&d, "GET", "/agents", "state=Busy", NULL, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(decode(&d, "GET", "/agents", "sate=Ready", NULL, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
}

static void the_push_channel_is_not_decoded_here(void)
{
    mi_route_t rt;
    mi_decoded_t d;
    mi_error_t err;

    CU_ASSERT_TRUE(mi_route_match(&rt, "POST", "/notifications", tp));
    CU_ASSERT_FALSE(mi_request_wants_body(&rt));
    CU_ASSERT_STRING_EQUAL(mi_op_name(mi_request_route_op(&rt)), "notifications");
    CU_ASSERT_FALSE(mi_request_decode(&d, &rt, NULL, NULL, &lim, tp, &err));
}

void add_request_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(every_route_names_its_store_operation),
        UNIT_TEST(operations_carry_the_id_and_the_user_data_limit),
        UNIT_TEST(lists_carry_the_page_byte_bound),
        UNIT_TEST(bad_ids_and_names_are_unknown_resources),
        UNIT_TEST(queue_uris_resolve_to_names_of_this_location_only),
        UNIT_TEST(another_locations_queue_is_told_as_an_unknown_queue),
        UNIT_TEST(supervisors_post_only_the_moves_with_the_agents_bodies),
        UNIT_TEST(the_push_channel_is_not_decoded_here),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("request", tests);
}
