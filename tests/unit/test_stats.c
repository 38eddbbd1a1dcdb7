/* test_stats.c — the counters' exposition: requests by operation and statusCode, the latency
 * histogram, the build's info, the listener's last read. */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "mi_stats.h"
#include "unit.h"

static int everyone_alive(apr_uint32_t pid)
{
    (void)pid;
    return 1;
}

static mi_stats_t *stats(int n)
{
    mi_stats_t *st = apr_pcalloc(tp, sizeof(*st));

    st->nslots = n;
    st->slots = apr_pcalloc(tp, sizeof(mi_stats_slot_t) * (apr_size_t)n);
    return st;
}

static void has_line(const char *text, const char *line)
{
    const char *at = strstr(text, apr_pstrcat(tp, "\n", line, "\n", NULL));

    CU_ASSERT_PTR_NOT_NULL(at);
    if (at == NULL) {
        fprintf(stderr, "\nno line '%s' in:\n%s\n", line, text);
    }
}

static void requests_and_latency_by_operation(void)
{
    mi_stats_t *st = stats(2);
    mi_stats_slot_t *a = mi_stats_claim(st, 11, everyone_alive);
    mi_stats_slot_t *b = mi_stats_claim(st, 12, everyone_alive);
    const char *text;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    mi_stats_count(a, MI_OP_ME, 0, 800);          /* le 0.001 */
    mi_stats_count(b, MI_OP_ME, 0, 1000);         /* le 0.001: the bound is inclusive */
    mi_stats_count(a, MI_OP_ME, 20, 3000);        /* le 0.005 */
    mi_stats_count(b, MI_OP_ACCEPT, 2, 70000000); /* above 60 s: +Inf */
    mi_stats_count(a, MI_OP_ACCEPT, 99, 0);       /* a statusCode not listed: "other" */
    mi_stats_count(a, (mi_op_e)MI_OP__COUNT, 0, 5);   /* ignored */
    text = apr_pstrcat(tp, "\n", mi_stats_prometheus(st, everyone_alive, "1.2.3", "abc", tp), NULL);
    has_line(text, "interactions_requests_total{op=\"me\",status_code=\"0\"} 2");
    has_line(text, "interactions_requests_total{op=\"me\",status_code=\"20\"} 1");
    has_line(text, "interactions_requests_total{op=\"Accept\",status_code=\"other\"} 1");
    has_line(text, "# TYPE interactions_request_duration_seconds histogram");
    has_line(text, "interactions_request_duration_seconds_bucket{op=\"me\",le=\"0.001\"} 2");
    has_line(text, "interactions_request_duration_seconds_bucket{op=\"me\",le=\"0.0025\"} 2");
    has_line(text, "interactions_request_duration_seconds_bucket{op=\"me\",le=\"0.005\"} 3");
    has_line(text, "interactions_request_duration_seconds_bucket{op=\"me\",le=\"60\"} 3");
    has_line(text, "interactions_request_duration_seconds_bucket{op=\"me\",le=\"+Inf\"} 3");
    has_line(text, "interactions_request_duration_seconds_sum{op=\"me\"} 0.004800");
    has_line(text, "interactions_request_duration_seconds_count{op=\"me\"} 3");
    has_line(text, "interactions_request_duration_seconds_bucket{op=\"Accept\",le=\"60\"} 1");
    has_line(text, "interactions_request_duration_seconds_bucket{op=\"Accept\",le=\"+Inf\"} 2");
    has_line(text, "interactions_request_duration_seconds_sum{op=\"Accept\"} 70.000000");
    /* operations never called have no series */
    CU_ASSERT_PTR_NULL(strstr(text, "op=\"list\""));
    has_line(text, "interactions_build_info{version=\"1.2.3\",commit=\"abc\"} 1");
    text = mi_stats_prometheus(st, everyone_alive, "1.2.3", "", tp);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ninteractions_build_info{version=\"1.2.3\"} 1\n"));
}

static void the_least_recent_read_of_the_listeners(void)
{
    mi_stats_t *st = stats(3);
    mi_stats_slot_t *a = mi_stats_claim(st, 21, everyone_alive);
    mi_stats_slot_t *b = mi_stats_claim(st, 22, everyone_alive);
    mi_stats_slot_t *c = mi_stats_claim(st, 23, everyone_alive);
    const char *text;

    text = apr_pstrcat(tp, "\n", mi_stats_prometheus(st, everyone_alive, "v", NULL, tp), NULL);
    has_line(text, "interactions_push_listener_last_read_timestamp_seconds 0");
    a->push_listener_read_s = 1700000100;
    b->push_listener_read_s = 1700000050;
    c->push_listener_read_s = 0;      /* not read yet: not the least recent */
    text = apr_pstrcat(tp, "\n", mi_stats_prometheus(st, everyone_alive, "v", NULL, tp), NULL);
    has_line(text, "interactions_push_listener_last_read_timestamp_seconds 1700000050");
    has_line(text, "interactions_processes 3");
}

/* Each database's figures, by its label; gauges of dead processes left out, the label's
 * quotes escaped. */
static void figures_by_database(void)
{
    mi_stats_t *st = stats(2);
    mi_stats_slot_t *a = mi_stats_claim(st, 11, everyone_alive);
    mi_stats_slot_t *b = mi_stats_claim(st, 12, everyone_alive);
    const char *names[] = { "interactions@db-a:5432", "x\"y@db-b:5432" };
    const char *text;
    mi_stats_db_t d;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    a->dbs[0].pool_in_use = 2;
    a->dbs[0].pool_max = 16;
    b->dbs[0].pool_max = 16;
    a->dbs[1].unavailable = 3;
    b->dbs[1].unavailable = 4;
    a->dbs[1].listener_connected = 1;
    b->dbs[1].maintenance_runs = 7;
    text = apr_pstrcat(tp, "\n", mi_stats_prometheus_databases(st, everyone_alive, names, 2, tp),
                       NULL);
    has_line(text, "# TYPE interactions_database_unavailable_total counter");
    has_line(text, "interactions_database_unavailable_total{database=\"interactions@db-a:5432\"} 0");
    has_line(text, "interactions_database_unavailable_total{database=\"x\\\"y@db-b:5432\"} 7");
    has_line(text, "interactions_database_pool_in_use{database=\"interactions@db-a:5432\"} 2");
    has_line(text, "interactions_database_pool_max{database=\"interactions@db-a:5432\"} 32");
    has_line(text, "interactions_database_push_listeners_connected{database=\"x\\\"y@db-b:5432\"} 1");
    has_line(text, "interactions_database_maintenance_runs_total{database=\"x\\\"y@db-b:5432\"} 7");
    mi_stats_database(st, everyone_alive, 1, &d);
    CU_ASSERT_EQUAL(d.unavailable, 7);
    mi_stats_database(st, everyone_alive, MI_MAX_DATABASES, &d);   /* out of range: zeros */
    CU_ASSERT_EQUAL(d.unavailable, 0);
}

void add_stats_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(requests_and_latency_by_operation),
        UNIT_TEST(the_least_recent_read_of_the_listeners),
        UNIT_TEST(figures_by_database),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("stats", tests);
}
