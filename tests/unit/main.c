/* main.c — runs every CUnit suite of the core; the exit status is the number of failures. */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "mi_json.h"
#include "unit.h"

apr_pool_t *tp;
static apr_pool_t *root;

int unit_pool_setup(void)
{
    return apr_pool_create(&tp, root) == APR_SUCCESS ? 0 : 1;
}

int unit_pool_teardown(void)
{
    apr_pool_destroy(tp);
    tp = NULL;
    return 0;
}

static void test_setup(void)
{
    apr_pool_create(&tp, root);
}

static void test_teardown(void)
{
    apr_pool_destroy(tp);
    tp = NULL;
}

void unit_add_suite(const char *name, CU_TestInfo *tests)
{
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(name, NULL, NULL, test_setup, test_teardown);
    for (; tests->pName != NULL; tests++) {
        CU_add_test(s, tests->pName, tests->pTestFunc);
    }
}

json_object *unit_json(const char *text)
{
    json_object *j = NULL;
    mi_json_error_t err;
    apr_status_t rv = mi_json_parse(&j, text, strlen(text), 32, tp, &err);

    CU_ASSERT_EQUAL_FATAL(rv, APR_SUCCESS);
    return j;
}

const char *unit_dump(json_object *j)
{
    return mi_json_dump(j, tp);
}

char *unit_read_source(const char *rel)
{
    const char *path = apr_pstrcat(tp, MI_TOP_SRCDIR, "/", rel, NULL);
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(tp, (apr_size_t)n + 1);
    CU_ASSERT_EQUAL(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

int main(void)
{
    unsigned int failures;

    apr_initialize();
    apr_pool_create(&root, NULL);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 2;
    }
    add_json_suite();
    add_status_suite();
    add_ops_suite();
    add_sql_sources_suite();
    add_stats_suite();
    add_route_suite();
    add_request_suite();
    add_validate_suite();
    add_caps_suite();
    add_render_suite();
    add_password_suite();
    add_push_bayeux_suite();
    add_push_waiters_suite();
    add_push_suite();
    add_credcache_suite();
    add_secret_suite();
    add_maint_suite();
    add_pgpool_suite();
    add_push_ws_suite();
    add_webhook_allow_suite();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    if (CU_get_number_of_tests_run() == 0) {
        failures = 1;
    }
    CU_cleanup_registry();
    apr_pool_destroy(root);
    apr_terminate();
    return failures == 0 ? 0 : 1;
}
