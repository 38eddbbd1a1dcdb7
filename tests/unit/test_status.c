/* test_status.c — statusCodes, their HTTP statuses and the envelope. */
#include "mi_json.h"
#include "mi_status.h"
#include "unit.h"

static void status_codes_map_to_the_contracts_http_statuses(void)
{
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_OK), 200);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_MISSING), 400);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_STATE), 409);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_FORBIDDEN), 403);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_INTERNAL), 500);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_PERMISSION), 403);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_NOT_FOUND), 404);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_INVALID), 400);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_READ_ONLY), 400);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_EXISTS), 409);
    CU_ASSERT_EQUAL(mi_status_http(MI_SC_UNAUTHENTICATED), 401);
}

static void explicit_http_status_overrides_the_default(void)
{
    mi_error_t err;

    mi_error_set(&err, MI_SC_INVALID, 413, "too big");
    CU_ASSERT_EQUAL(mi_error_http(&err), 413);
    mi_error_set(&err, MI_SC_INTERNAL, 0, NULL);
    CU_ASSERT_EQUAL(mi_error_http(&err), 500);
    CU_ASSERT_STRING_EQUAL(err.message, "internal error");
}

/* httpd's own refusals (authentication, LimitRequestBody, a method) in the contract's terms */
static void http_errors_of_httpd_map_to_status_codes(void)
{
    CU_ASSERT_EQUAL(mi_status_from_http(401), MI_SC_UNAUTHENTICATED);
    CU_ASSERT_EQUAL(mi_status_from_http(403), MI_SC_PERMISSION);
    CU_ASSERT_EQUAL(mi_status_from_http(404), MI_SC_NOT_FOUND);
    CU_ASSERT_EQUAL(mi_status_from_http(405), MI_SC_FORBIDDEN);
    CU_ASSERT_EQUAL(mi_status_from_http(400), MI_SC_INVALID);
    CU_ASSERT_EQUAL(mi_status_from_http(413), MI_SC_INVALID);
    CU_ASSERT_EQUAL(mi_status_from_http(415), MI_SC_INVALID);
    CU_ASSERT_EQUAL(mi_status_from_http(408), MI_SC_INVALID);
    CU_ASSERT_EQUAL(mi_status_from_http(500), MI_SC_INTERNAL);
    CU_ASSERT_EQUAL(mi_status_from_http(503), MI_SC_INTERNAL);
}

static void error_envelope_carries_both_message_spellings(void)
{
    mi_error_t err;

    mi_error_set(&err, MI_SC_STATE, 0, "already accepted");
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_envelope_error(tp, &err)),
        "{\"statusCode\":2,\"statusMessage\":\"already accepted\",\"status\":\"error\","
        "\"errorDescription\":\"already accepted\"}");
}

static void ok_envelope_has_status_code_zero(void)
{
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_envelope_ok(tp)), "{\"statusCode\":0,\"status\":\"ok\"}");
}

void add_status_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(status_codes_map_to_the_contracts_http_statuses),
        UNIT_TEST(explicit_http_status_overrides_the_default),
        UNIT_TEST(http_errors_of_httpd_map_to_status_codes),
        UNIT_TEST(error_envelope_carries_both_message_spellings),
        UNIT_TEST(ok_envelope_has_status_code_zero),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("status", tests);
}
