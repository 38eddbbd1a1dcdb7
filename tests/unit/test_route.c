/* test_route.c — path routing, 404 and 405. */
#include "mi_route.h"
#include "unit.h"

static mi_route_t match(const char *method, const char *path, int *found)
{
    mi_route_t r;

    *found = mi_route_match(&r, method, path, tp);
    return r;
}

static void every_contract_path_is_routed(void)
{
    static const struct { const char *m, *path; mi_route_e route; const char *param; } cases[] = {
        { "GET", "/me", MI_R_ME, NULL },
        { "POST", "/me", MI_R_ME, NULL },
        { "POST", "/me/channels/email", MI_R_ME_CHANNEL, "email" },
        { "GET", "/interactions", MI_R_INTERACTIONS, NULL },
        { "POST", "/interactions", MI_R_INTERACTIONS, NULL },
        { "GET", "/interactions/abc", MI_R_INTERACTION, "abc" },
        { "PUT", "/interactions/abc", MI_R_INTERACTION, "abc" },
        { "POST", "/interactions/abc", MI_R_INTERACTION, "abc" },
        { "GET", "/agents", MI_R_AGENTS, NULL },
        { "POST", "/agents/agent1/channels/email", MI_R_AGENT_CHANNEL, "agent1" },
        { "GET", "/me/interactions", MI_R_MY_INTERACTIONS, NULL },
        { "POST", "/me/interactions", MI_R_MY_INTERACTIONS, NULL },
        { "POST", "/me/interactions/x1", MI_R_MY_INTERACTION, "x1" },
        { "GET", "/me/workbins", MI_R_MY_WORKBINS, NULL },
        { "GET", "/me/workbins/team", MI_R_MY_WORKBIN, "team" },
        { "GET", "/queues", MI_R_QUEUES, NULL },
        { "GET", "/queues/support/statistics", MI_R_QUEUE_STATISTICS, "support" },
        { "POST", "/notifications", MI_R_NOTIFICATIONS, NULL },
        { "POST", "/notifications/handshake", MI_R_NOTIFICATIONS, NULL },
        { "GET", "/notifications/connect", MI_R_NOTIFICATIONS, NULL },
        { "HEAD", "/me", MI_R_ME, NULL },
        { "GET", "/events", MI_R_EVENTS, NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int found;
        mi_route_t r = match(cases[i].m, cases[i].path, &found);
        CU_ASSERT_TRUE(found);
        CU_ASSERT_TRUE(r.method_ok);
        CU_ASSERT_EQUAL(r.route, cases[i].route);
        if (cases[i].param != NULL) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(r.param);
            CU_ASSERT_STRING_EQUAL(r.param, cases[i].param);
        }
        else {
            CU_ASSERT_PTR_NULL(r.param);
        }
    }
}

static void trailing_and_doubled_slashes_are_tolerated(void)
{
    int found;
    mi_route_t r = match("GET", "/interactions/", &found);

    CU_ASSERT_TRUE(found);
    CU_ASSERT_EQUAL(r.route, MI_R_INTERACTIONS);
    r = match("GET", "//me//interactions", &found);
    CU_ASSERT_TRUE(found);
    CU_ASSERT_EQUAL(r.route, MI_R_MY_INTERACTIONS);
}

static void unknown_paths_are_not_found(void)
{
    static const char *const paths[] = {
        "", "/", "/mee", "/me/x", "/interactions/a/b", "/me/interactions/a/b",
        "/notificationsx", "/me/channels", "/me/workbins/a/b", "/users",
        "/agents/a", "/agents/a/channels", "/agents/a/states/email", "/agents/a/channels/email/x"
    };
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        int found;
        match("GET", paths[i], &found);
        CU_ASSERT_FALSE(found);
    }
}

static void wrong_methods_are_found_but_not_allowed(void)
{
    int found;
    mi_route_t r = match("DELETE", "/interactions/abc", &found);

    CU_ASSERT_TRUE(found);
    CU_ASSERT_FALSE(r.method_ok);
    CU_ASSERT_STRING_EQUAL(r.allow, "GET, POST, PUT");
    r = match("GET", "/agents/agent1/channels/email", &found);
    CU_ASSERT_TRUE(found);
    CU_ASSERT_FALSE(r.method_ok);
    CU_ASSERT_STRING_EQUAL(r.allow, "POST");
    CU_ASSERT_STRING_EQUAL(r.param2, "email");
    r = match("POST", "/agents", &found);
    CU_ASSERT_FALSE(r.method_ok);
    r = match("PUT", "/me", &found);
    CU_ASSERT_FALSE(r.method_ok);
    CU_ASSERT_STRING_EQUAL(r.allow, "GET, POST");
    r = match("GET", "/me/interactions/x", &found);
    CU_ASSERT_FALSE(r.method_ok);
    r = match("PUT", "/notifications", &found);
    CU_ASSERT_FALSE(r.method_ok);
}

static void writes_are_post_and_put(void)
{
    int found;
    mi_route_t r = match("POST", "/interactions", &found);

    CU_ASSERT_TRUE(mi_route_is_write(&r));
    r = match("PUT", "/interactions/a", &found);
    CU_ASSERT_TRUE(mi_route_is_write(&r));
    r = match("GET", "/interactions", &found);
    CU_ASSERT_FALSE(mi_route_is_write(&r));
}

static void base_is_found_from_the_path_when_unknown(void)
{
    mi_route_t r;
    const char *base;

    CU_ASSERT_TRUE(mi_route_match_any_base(&r, &base, "GET", "/api/v2/me/interactions", tp));
    CU_ASSERT_STRING_EQUAL(base, "/api/v2");
    CU_ASSERT_EQUAL(r.route, MI_R_MY_INTERACTIONS);
    CU_ASSERT_TRUE(mi_route_match_any_base(&r, &base, "GET", "/interactions/api/v2/me", tp));
    CU_ASSERT_STRING_EQUAL(base, "/interactions/api/v2");
    CU_ASSERT_EQUAL(r.route, MI_R_ME);
    CU_ASSERT_TRUE(mi_route_match_any_base(&r, &base, "GET", "/me", tp));
    CU_ASSERT_STRING_EQUAL(base, "");
    CU_ASSERT_TRUE(mi_route_match_any_base(&r, &base, "POST", "/x/notifications/connect", tp));
    CU_ASSERT_STRING_EQUAL(base, "/x");
    CU_ASSERT_FALSE(mi_route_match_any_base(&r, &base, "GET", "/api/v2/nothing", tp));
}

void add_route_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(every_contract_path_is_routed),
        UNIT_TEST(trailing_and_doubled_slashes_are_tolerated),
        UNIT_TEST(unknown_paths_are_not_found),
        UNIT_TEST(wrong_methods_are_found_but_not_allowed),
        UNIT_TEST(writes_are_post_and_put),
        UNIT_TEST(base_is_found_from_the_path_when_unknown),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("route", tests);
}
