/* test_render.c — the interaction object built from a store snapshot. */
#include <apr_strings.h>

#include "mi_json.h"
#include "mi_render.h"
#include "unit.h"

#define A1 "11111111-1111-1111-1111-111111111111"
#define A2 "22222222-2222-2222-2222-222222222222"

static const char *snap_invited =
    "{\"id\":\"i1\",\"mediaType\":\"email\",\"state\":\"Invited\",\"queue\":\"support\","
    "\"workbin\":null,\"assignedTo\":\"agent1\",\"parentId\":null,\"userData\":{\"k\":1},"
    "\"subject\":\"s\",\"from\":\"f\",\"to\":[\"t\"],\"receivedDate\":\"2026-01-01T00:00:00.000Z\","
    "\"updatedDate\":\"2026-01-01T00:00:01.000Z\",\"priority\":0,"
    "\"_owner\":null,\"_invitee\":\"" A1 "\",\"_workbinOwner\":null}";

static mi_caller_t caller(const char *json)
{
    mi_caller_t c;

    CU_ASSERT_TRUE(mi_caller_from_json(&c, unit_json(json)));
    return c;
}

static void renders_the_contract_fields_in_order(void)
{
    mi_caller_t c = caller("{\"id\":\"" A1 "\",\"roles\":[\"agent\"]}");
    json_object *o = mi_json_bind(tp, mi_render_interaction(unit_json(snap_invited), &c,
                                                            "http://h/api/v2", NULL, tp));

    CU_ASSERT_STRING_EQUAL(unit_dump(o),
        "{\"id\":\"i1\",\"uri\":\"http://h/api/v2/interactions/i1\",\"mediaType\":\"email\","
        "\"state\":\"Invited\",\"capabilities\":[\"Accept\",\"Reject\"],\"queue\":\"support\","
        "\"workbin\":null,\"assignedTo\":\"agent1\",\"parentId\":null,\"userData\":{\"k\":1},"
        "\"subject\":\"s\",\"from\":\"f\",\"to\":[\"t\"],"
        "\"receivedDate\":\"2026-01-01T00:00:00.000Z\",\"updatedDate\":\"2026-01-01T00:00:01.000Z\","
        "\"priority\":0}");
}

static void other_callers_see_no_capabilities(void)
{
    mi_caller_t c = caller("{\"id\":\"" A2 "\",\"roles\":[\"agent\",\"supervisor\"]}");
    json_object *o = mi_json_bind(tp, mi_render_interaction(unit_json(snap_invited), &c,
                                                            "http://h", NULL, tp));

    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(o, "capabilities")), "[]");
    CU_ASSERT_TRUE(c.is_supervisor);
    CU_ASSERT_FALSE(c.is_admin);
}

static void revoked_override_empties_capabilities(void)
{
    mi_caller_t c = caller("{\"id\":\"" A1 "\",\"roles\":[\"agent\"]}");
    json_object *o = mi_json_bind(tp, mi_render_interaction(unit_json(snap_invited), &c,
                                                            "http://h", "Revoked", tp));

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(o, "state"), "Revoked");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(o, "capabilities")), "[]");
    CU_ASSERT_PTR_NULL(mi_json_get(o, "_invitee"));
}

static void a_ring_all_offer_may_be_answered_by_every_agent_it_rings_for(void)
{
    mi_caller_t rung = caller("{\"id\":\"" A2 "\",\"roles\":[\"agent\"]}");
    mi_caller_t other = caller("{\"id\":\"33333333-3333-3333-3333-333333333333\",\"roles\":[\"agent\"]}");
    json_object *snap = unit_json("{\"id\":\"i\",\"state\":\"Invited\",\"mediaType\":\"email\","
                                  "\"_invitee\":\"" A1 "\",\"_ringing\":[\"" A2 "\"]}");
    json_object *o;

    o = mi_json_bind(tp, mi_render_interaction(snap, &rung, "", NULL, tp));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(o, "capabilities")), "[\"Accept\",\"Reject\"]");
    CU_ASSERT_PTR_NULL(mi_json_get(o, "_ringing"));
    o = mi_json_bind(tp, mi_render_interaction(snap, &other, "", NULL, tp));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(o, "capabilities")), "[]");
}

static void unservable_work_says_so(void)
{
    mi_caller_t c = caller("{\"id\":\"" A2 "\",\"roles\":[\"supervisor\"]}");
    json_object *stuck = unit_json("{\"id\":\"i\",\"state\":\"Queued\",\"mediaType\":\"email\","
                                   "\"priority\":0,\"_unservable\":true}");
    json_object *o = mi_json_bind(tp, mi_render_interaction(stuck, &c, "", NULL, tp));

    CU_ASSERT_TRUE(json_object_get_boolean(mi_json_get(o, "unservable")));
    CU_ASSERT_PTR_NULL(mi_json_get(o, "_unservable"));
    o = mi_json_bind(tp, mi_render_interaction(unit_json(snap_invited), &c, "", NULL, tp));
    CU_ASSERT_PTR_NULL(mi_json_get(o, "unservable"));
}

static void shared_workbin_content_is_pullable_by_any_agent(void)
{
    mi_caller_t c = caller("{\"id\":\"" A2 "\",\"roles\":[\"agent\"]}");
    json_object *shared = unit_json("{\"id\":\"i\",\"state\":\"InWorkbin\",\"mediaType\":\"email\","
                                    "\"workbin\":\"team\",\"_workbinOwner\":null}");
    json_object *personal = unit_json("{\"id\":\"i\",\"state\":\"InWorkbin\",\"mediaType\":\"email\","
                                      "\"workbin\":\"drafts\",\"_workbinOwner\":\"" A1 "\"}");
    json_object *o;

    o = mi_json_bind(tp, mi_render_interaction(shared, &c, "", NULL, tp));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(o, "capabilities")), "[\"Pull\"]");
    o = mi_json_bind(tp, mi_render_interaction(personal, &c, "", NULL, tp));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(o, "capabilities")), "[]");
}

static void uris_of_a_list(void)
{
    json_object *a = mi_json_bind(tp, mi_render_uris(unit_json("[{\"id\":\"a\"},{\"id\":\"b\"}]"),
                                                     "http://h/x", tp));

    CU_ASSERT_STRING_EQUAL(unit_dump(a), "[\"http://h/x/interactions/a\",\"http://h/x/interactions/b\"]");
}

/* A store result becomes the success envelope: interactions rendered for the caller (also
 * those of a workbin), uris only when asked, the caller dropped, a created one named by uri. */
static void a_store_result_becomes_the_envelope(void)
{
    char *res = apr_pstrcat(tp, "{\"statusCode\":0,\"referenceId\":7,\"interaction\":", snap_invited,
                            ",\"caller\":{\"id\":\"" A1 "\",\"roles\":[\"agent\"]}}", NULL);
    json_object *o = mi_render_result(unit_json(res), "http://h/api/v2", 0, tp);

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(o, "status"), "ok");
    CU_ASSERT_EQUAL(mi_json_get_int(o, "statusCode", -1), 0);
    CU_ASSERT_EQUAL(mi_json_get_int(o, "referenceId", -1), 7);
    CU_ASSERT_PTR_NULL(mi_json_get(o, "caller"));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(mi_json_get(o, "interaction"), "capabilities")),
                           "[\"Accept\",\"Reject\"]");
    CU_ASSERT_PTR_NULL(mi_json_get(mi_json_get(o, "interaction"), "_invitee"));

    res = apr_pstrcat(tp, "{\"statusCode\":0,\"interactions\":[", snap_invited, "],\"totalCount\":1,"
                      "\"caller\":{\"id\":\"" A2 "\",\"roles\":[\"agent\"]}}", NULL);
    o = mi_render_result(unit_json(res), "http://h/api/v2", 1, tp);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(o, "uris")), "[\"http://h/api/v2/interactions/i1\"]");
    CU_ASSERT_PTR_NULL(mi_json_get(o, "interactions"));
    CU_ASSERT_EQUAL(mi_json_get_int(o, "totalCount", -1), 1);
    o = mi_render_result(unit_json(res), "http://h/api/v2", 0, tp);
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(json_object_array_get_idx(mi_json_get(o, "interactions"), 0),
                                                 "capabilities")), "[]");

    res = apr_pstrcat(tp, "{\"statusCode\":0,\"workbin\":{\"name\":\"w\",\"interactions\":[", snap_invited,
                      "]},\"caller\":{\"id\":\"" A1 "\",\"roles\":[\"agent\"]}}", NULL);
    o = mi_render_result(unit_json(res), "http://h/api/v2", 0, tp);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(mi_json_get(o, "workbin"), "name"), "w");
    CU_ASSERT_PTR_NOT_NULL(mi_json_get(json_object_array_get_idx(
        mi_json_get(mi_json_get(o, "workbin"), "interactions"), 0), "uri"));

    o = mi_render_result(unit_json("{\"statusCode\":0,\"id\":\"i9\",\"created\":true}"), "http://h/api/v2", 0, tp);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(o, "uri"), "http://h/api/v2/interactions/i9");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(o, "id"), "i9");
}

static void malformed_caller_is_refused(void)
{
    mi_caller_t c;

    CU_ASSERT_FALSE(mi_caller_from_json(&c, unit_json("{\"roles\":[]}")));
    CU_ASSERT_FALSE(mi_caller_from_json(&c, unit_json("{\"id\":\"x\"}")));
    CU_ASSERT_FALSE(mi_caller_from_json(&c, NULL));
}

static void the_origin_of_uris(void)
{
    CU_ASSERT_STRING_EQUAL(mi_render_origin("http", "cc.example.com", 80, tp), "http://cc.example.com");
    CU_ASSERT_STRING_EQUAL(mi_render_origin("https", "cc.example.com", 443, tp), "https://cc.example.com");
    CU_ASSERT_STRING_EQUAL(mi_render_origin("https", "cc.example.com", 8443, tp), "https://cc.example.com:8443");
    CU_ASSERT_STRING_EQUAL(mi_render_origin("http", "127.0.0.1", 8080, tp), "http://127.0.0.1:8080");
    CU_ASSERT_STRING_EQUAL(mi_render_origin("http", "::1", 8080, tp), "http://[::1]:8080");
    CU_ASSERT_STRING_EQUAL(mi_render_origin("http", "h", 0, tp), "http://h");
}

static void a_forwarded_origin_is_a_plain_host_and_port(void)
{
    CU_ASSERT_STRING_EQUAL(mi_render_forwarded_origin("https", "cc.example.com", "http", tp), "https://cc.example.com");
    CU_ASSERT_STRING_EQUAL(mi_render_forwarded_origin(NULL, "cc.example.com:8443", "https", tp), "https://cc.example.com:8443");
    /* several proxies: the first names what the client used */
    CU_ASSERT_STRING_EQUAL(mi_render_forwarded_origin("https, http", " a.example , b.internal", "http", tp), "https://a.example");
    CU_ASSERT_STRING_EQUAL(mi_render_forwarded_origin("HTTP", "[2001:db8::1]:8080", "https", tp), "http://[2001:db8::1]:8080");
    /* an unknown protocol keeps the server's scheme */
    CU_ASSERT_STRING_EQUAL(mi_render_forwarded_origin("gopher", "a.example", "https", tp), "https://a.example");
    /* anything else is no origin: the server's own name is used instead */
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", NULL, "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "", "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "evil.example/x", "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "user@evil.example", "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "a.example:0", "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "a.example:65536", "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "a.example:", "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "[]", "http", tp));
    CU_ASSERT_PTR_NULL(mi_render_forwarded_origin("https", "a\"b", "http", tp));
}

static void a_configured_origin_is_scheme_host_and_port_only(void)
{
    CU_ASSERT_TRUE(mi_render_origin_valid("https://cc.example.com"));
    CU_ASSERT_TRUE(mi_render_origin_valid("http://127.0.0.1:8080"));
    CU_ASSERT_TRUE(mi_render_origin_valid("https://[::1]:8443"));
    CU_ASSERT_FALSE(mi_render_origin_valid("cc.example.com"));
    CU_ASSERT_FALSE(mi_render_origin_valid("ftp://cc.example.com"));
    CU_ASSERT_FALSE(mi_render_origin_valid("https://cc.example.com/api"));
    CU_ASSERT_FALSE(mi_render_origin_valid("https://"));
    CU_ASSERT_FALSE(mi_render_origin_valid(NULL));
}

void add_render_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(renders_the_contract_fields_in_order),
        UNIT_TEST(other_callers_see_no_capabilities),
        UNIT_TEST(revoked_override_empties_capabilities),
        UNIT_TEST(a_ring_all_offer_may_be_answered_by_every_agent_it_rings_for),
        UNIT_TEST(unservable_work_says_so),
        UNIT_TEST(shared_workbin_content_is_pullable_by_any_agent),
        UNIT_TEST(uris_of_a_list),
        UNIT_TEST(a_store_result_becomes_the_envelope),
        UNIT_TEST(malformed_caller_is_refused),
        UNIT_TEST(the_origin_of_uris),
        UNIT_TEST(a_forwarded_origin_is_a_plain_host_and_port),
        UNIT_TEST(a_configured_origin_is_scheme_host_and_port_only),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("render", tests);
}
