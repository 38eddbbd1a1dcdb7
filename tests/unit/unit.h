/* unit.h — shared bits of the CUnit suites.  Each suite gets a fresh APR pool per test. */
#ifndef MI_UNIT_H
#define MI_UNIT_H

#include <CUnit/CUnit.h>
#include <apr_pools.h>
#include <json-c/json.h>

extern apr_pool_t *tp;   /* the current test's pool */

int unit_pool_setup(void);
int unit_pool_teardown(void);

/* Parse a literal JSON document into tp (asserting success). */
json_object *unit_json(const char *text);

/* Compact serialization in tp. */
const char *unit_dump(json_object *j);

/* The file @rel of the source tree (e.g. "sql/functions/030_api.sql"), read into tp. */
#ifndef MI_TOP_SRCDIR
#define MI_TOP_SRCDIR "."
#endif
char *unit_read_source(const char *rel);

#define UNIT_TEST(fn) { #fn, fn }

void add_json_suite(void);
void add_status_suite(void);
void add_ops_suite(void);
void add_sql_sources_suite(void);
void add_stats_suite(void);
void add_route_suite(void);
void add_request_suite(void);
void add_validate_suite(void);
void add_caps_suite(void);
void add_render_suite(void);
void add_password_suite(void);
void add_push_bayeux_suite(void);
void add_push_waiters_suite(void);
void add_push_suite(void);
void add_credcache_suite(void);
void add_secret_suite(void);
void add_maint_suite(void);
void add_pgpool_suite(void);
void add_push_ws_suite(void);
void add_webhook_allow_suite(void);

/* Register a suite whose tests each get a fresh pool. */
void unit_add_suite(const char *name, CU_TestInfo *tests);

#endif
