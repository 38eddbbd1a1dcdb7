/* test_sql_sources.c — facts the core and the SQL functions share, read from the source
 * tree: the statusCodes (mi_status.h and interactions.sc_*()), and that the repeatable files
 * (sql/functions, re-applied by every migrate) drop no function: an old signature goes in a
 * versioned migration, once.
 */
#include <stdio.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "mi_status.h"
#include "unit.h"

static void sql_status_codes_are_the_cores(void)
{
    static const struct { const char *name; int sc; } codes[] = {
        { "ok", MI_SC_OK }, { "state", MI_SC_STATE }, { "permission", MI_SC_PERMISSION },
        { "not_found", MI_SC_NOT_FOUND }, { "invalid", MI_SC_INVALID },
        { "read_only", MI_SC_READ_ONLY }, { "exists", MI_SC_EXISTS },
        { "unauthenticated", MI_SC_UNAUTHENTICATED },
    };
    const char *sql = unit_read_source("sql/functions/010_common.sql");
    const char *at;
    size_t i;
    int n = 0;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        /* "interactions.sc_state() RETURNS integer\nLANGUAGE sql ... AS $$ SELECT 2 $$" */
        const char *def = strstr(sql, apr_pstrcat(tp, "FUNCTION interactions.sc_", codes[i].name,
                                                  "() RETURNS integer", NULL));
        const char *body = def != NULL ? strstr(def, "$$ SELECT ") : NULL;
        int value = -1;
        CU_ASSERT_PTR_NOT_NULL(body);
        if (body == NULL) {
            fprintf(stderr, "\ninteractions.sc_%s() is missing\n", codes[i].name);
            continue;
        }
        CU_ASSERT_EQUAL(sscanf(body, "$$ SELECT %d $$", &value), 1);
        CU_ASSERT_EQUAL(value, codes[i].sc);
    }
    /* and SQL names no statusCode the core does not know by that name */
    for (at = strstr(sql, "CREATE OR REPLACE FUNCTION interactions.sc_"); at != NULL;
         at = strstr(at + 1, "CREATE OR REPLACE FUNCTION interactions.sc_")) {
        n++;
    }
    CU_ASSERT_EQUAL(n, (int)(sizeof(codes) / sizeof(codes[0])));
}

static void repeatable_files_drop_no_function(void)
{
    const char *dir = apr_pstrcat(tp, MI_TOP_SRCDIR, "/sql/functions", NULL);
    apr_dir_t *d;
    apr_finfo_t fi;
    int files = 0;

    CU_ASSERT_EQUAL_FATAL(apr_dir_open(&d, dir, tp), APR_SUCCESS);
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        const char *sql;
        apr_size_t len = strlen(fi.name);
        if (len < 5 || strcmp(fi.name + len - 4, ".sql") != 0) {
            continue;
        }
        files++;
        sql = unit_read_source(apr_pstrcat(tp, "sql/functions/", fi.name, NULL));
        CU_ASSERT_PTR_NULL(strstr(sql, "DROP FUNCTION"));
        if (strstr(sql, "DROP FUNCTION") != NULL) {
            fprintf(stderr, "\nsql/functions/%s drops a function: that belongs in a migration\n",
                    fi.name);
        }
    }
    apr_dir_close(d);
    CU_ASSERT_TRUE(files >= 5);
}

void add_sql_sources_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(sql_status_codes_are_the_cores),
        UNIT_TEST(repeatable_files_drop_no_function),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("sql_sources", tests);
}
