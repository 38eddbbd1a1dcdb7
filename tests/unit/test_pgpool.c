/* test_pgpool.c — what the pool says of a database without connecting: its label. */
#include <string.h>

#include "mi_pgpool.h"
#include "unit.h"

/* A database's name in server-status, the metrics and the logs: dbname@host:port from the
 * connection string, never what else it holds. */
static void a_database_is_labelled_without_its_password(void)
{
    CU_ASSERT_STRING_EQUAL(mi_pgpool_label("host=db1,db2 port=5432 dbname=interactions "
                                           "user=interactions_app password=s3cret", tp),
                           "interactions@db1,db2:5432");
    CU_ASSERT_STRING_EQUAL(mi_pgpool_label("postgresql://app:s3cret@db9:6432/cc", tp),
                           "cc@db9:6432");
    CU_ASSERT_STRING_EQUAL(mi_pgpool_label("hostaddr=10.0.0.5 dbname=x", tp), "x@10.0.0.5:default");
    CU_ASSERT_STRING_EQUAL(mi_pgpool_label(NULL, tp), "default@default:default");
    CU_ASSERT_STRING_EQUAL(mi_pgpool_label("host='unterminated", tp), "invalid");
    CU_ASSERT_PTR_NULL(strstr(mi_pgpool_label("host=h password=s3cret", tp), "s3cret"));
}

void add_pgpool_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(a_database_is_labelled_without_its_password),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("pgpool", tests);
}
