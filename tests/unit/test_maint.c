/* test_maint.c — the maintenance thread against a database that does not answer: it tries
 * again every interval, reports every run to its owner, says once (not once per run) that it
 * cannot run, and a shutdown ends its wait at once rather than at the end of the interval. */
#include <string.h>

#include <apr_atomic.h>
#include <apr_time.h>

#include "mi_log.h"
#include "mi_maint.h"
#include "mi_store.h"
#include "unit.h"

static volatile apr_uint32_t runs, ran, changes, cannot_run, runs_again;

static void count_run(void *baton, int r, int n)
{
    (void)baton;
    apr_atomic_inc32(&runs);
    if (r) {
        apr_atomic_inc32(&ran);
    }
    apr_atomic_add32(&changes, (apr_uint32_t)n);
}

static int every_level(void *baton, mi_log_level_e level)
{
    (void)baton;
    (void)level;
    return 1;
}

static void count_lines(void *baton, const char *file, int line, mi_log_level_e level,
                        apr_status_t rv, const char *msg)
{
    (void)baton;
    (void)file;
    (void)line;
    (void)level;
    (void)rv;
    if (strncmp(msg, "MI00601: ", 9) == 0) {
        apr_atomic_inc32(&cannot_run);
    }
    else if (strncmp(msg, "MI00602: ", 9) == 0) {
        apr_atomic_inc32(&runs_again);
    }
}

static void reset(void)
{
    apr_atomic_set32(&runs, 0);
    apr_atomic_set32(&ran, 0);
    apr_atomic_set32(&changes, 0);
    apr_atomic_set32(&cannot_run, 0);
    apr_atomic_set32(&runs_again, 0);
}

/* A store in @p whose database cannot be reached: nothing listens on port 1 of the loopback. */
static mi_store_t *store_without_database(apr_pool_t *p)
{
    mi_store_conf_t conf;
    mi_store_t *store = NULL;

    memset(&conf, 0, sizeof(conf));
    conf.pool.conninfo = "host=127.0.0.1 port=1 dbname=none user=none";
    conf.pool.min = 0;
    conf.pool.keep = 1;
    conf.pool.max = 2;
    conf.pool.ttl = apr_time_from_sec(60);
    conf.pool.acquire_timeout = apr_time_from_msec(500);
    conf.pool.down_backoff = apr_time_from_msec(20);
    conf.pool.connect_timeout_s = 2;
    conf.pool.application_name = "mi-unit";
    conf.statement_timeout_ms = 1000;
    CU_ASSERT_EQUAL_FATAL(mi_store_create(&store, &conf, p), APR_SUCCESS);
    return store;
}

static void without_a_database_it_tries_every_interval_and_says_so_once(void)
{
    mi_maint_conf_t conf;
    mi_maint_t *m = NULL;
    apr_pool_t *p;
    apr_time_t until = apr_time_now() + apr_time_from_sec(20);
    apr_uint32_t seen;

    reset();
    mi_log_set(every_level, count_lines, NULL);
    CU_ASSERT_EQUAL_FATAL(apr_pool_create(&p, tp), APR_SUCCESS);
    memset(&conf, 0, sizeof(conf));
    conf.store = store_without_database(p);
    conf.interval_ms = 10;
    conf.after_run = count_run;
    CU_ASSERT_EQUAL_FATAL(mi_maint_create(&m, &conf, p), APR_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    while (apr_atomic_read32(&runs) < 5 && apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(10));
    }
    /* the pool's pre-cleanup stops the thread and waits for it */
    apr_pool_destroy(p);
    seen = apr_atomic_read32(&runs);
    CU_ASSERT(seen >= 5);
    CU_ASSERT_EQUAL(apr_atomic_read32(&ran), 0);
    CU_ASSERT_EQUAL(apr_atomic_read32(&changes), 0);
    CU_ASSERT_EQUAL(apr_atomic_read32(&cannot_run), 1);
    CU_ASSERT_EQUAL(apr_atomic_read32(&runs_again), 0);
    /* and it is gone: no run after the pool */
    apr_sleep(apr_time_from_msec(50));
    CU_ASSERT_EQUAL(apr_atomic_read32(&runs), seen);
    mi_log_set(NULL, NULL, NULL);
}

static void a_shutdown_ends_the_wait_at_once(void)
{
    mi_maint_conf_t conf;
    mi_maint_t *m = NULL;
    apr_pool_t *p;
    apr_time_t start;

    reset();
    CU_ASSERT_EQUAL_FATAL(apr_pool_create(&p, tp), APR_SUCCESS);
    memset(&conf, 0, sizeof(conf));
    conf.store = store_without_database(p);
    conf.interval_ms = 600000;           /* ten minutes: the test would wait them out */
    conf.after_run = count_run;
    CU_ASSERT_EQUAL_FATAL(mi_maint_create(&m, &conf, p), APR_SUCCESS);
    start = apr_time_now();
    mi_maint_shutdown(m);
    apr_pool_destroy(p);
    CU_ASSERT(apr_time_now() - start < apr_time_from_sec(60));
    CU_ASSERT_EQUAL(apr_atomic_read32(&runs), 0);
}

void add_maint_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(without_a_database_it_tries_every_interval_and_says_so_once),
        UNIT_TEST(a_shutdown_ends_the_wait_at_once),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("maint", tests);
}
