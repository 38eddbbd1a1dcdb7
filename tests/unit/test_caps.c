/* test_caps.c — the contract's state table seen from one caller. */
#include "mi_caps.h"
#include "mi_json.h"
#include "unit.h"

static const char *caps(const char *state, const char *media, int agent, int invitee, int owner,
                        int wb)
{
    mi_caps_ctx_t c = { state, media, agent ? MI_ROLE_AGENT : 0u, invitee, owner, wb };
    json_object *a = mi_json_bind(tp, mi_caps_json(&c));

    return unit_dump(a);
}

static void invited_to_me_offers_accept_and_reject(void)
{
    CU_ASSERT_STRING_EQUAL(caps("Invited", "email", 1, 1, 0, 0), "[\"Accept\",\"Reject\"]");
    CU_ASSERT_STRING_EQUAL(caps("Invited", "email", 1, 0, 0, 0), "[]");
}

static void processing_email_adds_replies(void)
{
    CU_ASSERT_STRING_EQUAL(caps("Processing", "email", 1, 0, 1, 0),
        "[\"Complete\",\"PlaceInQueue\",\"PlaceInWorkbin\",\"Transfer\",\"AttachUserData\","
        "\"UpdateUserData\",\"DeleteUserData\",\"Reply\",\"ReplyAll\"]");
    CU_ASSERT_STRING_EQUAL(caps("Processing", "chat", 1, 0, 1, 0),
        "[\"Complete\",\"PlaceInQueue\",\"PlaceInWorkbin\",\"Transfer\",\"AttachUserData\","
        "\"UpdateUserData\",\"DeleteUserData\"]");
    CU_ASSERT_STRING_EQUAL(caps("Processing", "email", 1, 0, 0, 0), "[]");
}

static void workbin_content_can_be_pulled_by_who_may_use_it(void)
{
    CU_ASSERT_STRING_EQUAL(caps("InWorkbin", "email", 1, 0, 0, 1), "[\"Pull\"]");
    CU_ASSERT_STRING_EQUAL(caps("InWorkbin", "email", 1, 0, 0, 0), "[]");
}

static void composing_drafts(void)
{
    CU_ASSERT_STRING_EQUAL(caps("Composing", "email", 1, 0, 1, 0),
        "[\"AttachUserData\",\"UpdateUserData\",\"DeleteUserData\",\"Cancel\",\"Send\"]");
}

static void final_and_queued_states_offer_nothing(void)
{
    static const char *const states[] = { "Queued", "Completed", "Canceled", "Sent", "Bogus" };
    size_t i;

    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        CU_ASSERT_STRING_EQUAL(caps(states[i], "email", 1, 1, 1, 1), "[]");
    }
}

static void non_agents_get_no_capabilities(void)
{
    CU_ASSERT_STRING_EQUAL(caps("Processing", "email", 0, 0, 1, 0), "[]");
    CU_ASSERT_EQUAL(mi_caps_mask(&(mi_caps_ctx_t){ "Invited", "email", 0, 1, 0, 0 }), 0);
    CU_ASSERT_EQUAL(mi_caps_mask(&(mi_caps_ctx_t){ NULL, NULL, 1, 1, 1, 1 }), 0);
    /* the table of operations (mi_ops.h) gives them to agents only */
    CU_ASSERT_EQUAL(mi_caps_mask(&(mi_caps_ctx_t){ "Processing", "email",
                                                   MI_ROLES_ALL & ~MI_ROLE_AGENT, 0, 1, 0 }), 0);
}

void add_caps_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(invited_to_me_offers_accept_and_reject),
        UNIT_TEST(processing_email_adds_replies),
        UNIT_TEST(workbin_content_can_be_pulled_by_who_may_use_it),
        UNIT_TEST(composing_drafts),
        UNIT_TEST(final_and_queued_states_offer_nothing),
        UNIT_TEST(non_agents_get_no_capabilities),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("caps", tests);
}
