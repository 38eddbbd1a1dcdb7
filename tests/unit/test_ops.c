/* test_ops.c — the table of operations, and the SQL functions that serve it in step with it.
 *
 * The module decides from mi_ops.h which entry of interactions.api() a request calls and
 * whether it may write; the SQL side maps each entry to a function (030_api.sql) and each
 * operationName of the "operation" entry to its branch (040_operations.sql).  A name missing
 * on either side, or a read whose function could write, fails here rather than in front of
 * a client.  The SQL files are read from the source tree.
 */
#include <stdio.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "mi_ops.h"
#include "unit.h"

static void names_are_unique_and_rows_complete(void)
{
    apr_hash_t *seen = apr_hash_make(tp);
    int i;

    CU_ASSERT_STRING_EQUAL(mi_op_name(MI_OP_NONE), "other");
    CU_ASSERT_PTR_NULL(mi_op(MI_OP_NONE)->entry);
    CU_ASSERT_PTR_NULL(mi_op(MI_OP_NOTIFICATIONS)->entry);
    CU_ASSERT_PTR_NULL(mi_op_name(MI_OP__COUNT));
    CU_ASSERT_PTR_EQUAL(mi_op(MI_OP__COUNT), mi_op(MI_OP_NONE));
    CU_ASSERT_PTR_EQUAL(mi_op((mi_op_e)-1), mi_op(MI_OP_NONE));
    for (i = 0; i < MI_OP__COUNT; i++) {
        const mi_op_t *o = mi_op((mi_op_e)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o->name);
        CU_ASSERT_PTR_NULL(apr_hash_get(seen, o->name, APR_HASH_KEY_STRING));
        apr_hash_set(seen, o->name, APR_HASH_KEY_STRING, o);
        if (o->flags & MI_OPF_NAMED) {
            /* the agent operations: one entry, one role */
            CU_ASSERT_STRING_EQUAL(o->entry, "operation");
            CU_ASSERT_EQUAL(o->roles, MI_ROLE_AGENT);
        }
        if (o->flags & MI_OPF_NO_ID) {
            CU_ASSERT_TRUE(o->flags & MI_OPF_NAMED);
        }
        if (i != MI_OP_NONE && i != MI_OP_NOTIFICATIONS) {
            CU_ASSERT_PTR_NOT_NULL(o->entry);
        }
    }
}

static void reads_and_writes(void)
{
    static const mi_op_e reads[] = {
        MI_OP_ME, MI_OP_LIST, MI_OP_GET, MI_OP_MY_LIST, MI_OP_WORKBINS, MI_OP_WORKBIN,
        MI_OP_AGENTS, MI_OP_EVENTS, MI_OP_QUEUES, MI_OP_QUEUE_STATISTICS
    };
    size_t i;
    int op, n = 0;

    for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        CU_ASSERT_FALSE(mi_op_is(reads[i], MI_OPF_WRITE));
    }
    for (op = 0; op < MI_OP__COUNT; op++) {
        n += mi_op(op)->entry != NULL && !mi_op_is((mi_op_e)op, MI_OPF_WRITE);
    }
    CU_ASSERT_EQUAL(n, (int)(sizeof(reads) / sizeof(reads[0])));
    /* it answers, and is also a push message: a history row is written */
    CU_ASSERT_TRUE(mi_op_is(MI_OP_GET_WORKBIN_CONTENT, MI_OPF_WRITE));
    CU_ASSERT_TRUE(mi_op_is(MI_OP_CHANNEL, MI_OPF_WRITE));
    CU_ASSERT_TRUE(mi_op_is(MI_OP_AGENT_CHANNEL, MI_OPF_WRITE));
    CU_ASSERT_TRUE(mi_op_is(MI_OP_SUPERVISE, MI_OPF_WRITE));
    CU_ASSERT_FALSE(mi_op_permits(MI_OP_SUPERVISE, MI_ROLE_AGENT));
    CU_ASSERT_TRUE(mi_op_permits(MI_OP_AGENTS, MI_ROLE_SUPERVISOR));
    CU_ASSERT_EQUAL(mi_op_parse("GetWorkbinContent"), MI_OP_GET_WORKBIN_CONTENT);
    CU_ASSERT_EQUAL(mi_op_parse("list"), MI_OP_NONE);
    CU_ASSERT_EQUAL(mi_op_parse("other"), MI_OP_NONE);
}

static void roles(void)
{
    CU_ASSERT_TRUE(mi_op_permits(MI_OP_ME, 0));
    CU_ASSERT_TRUE(mi_op_permits(MI_OP_NOTIFICATIONS, MI_ROLE_SUPERVISOR));
    CU_ASSERT_TRUE(mi_op_permits(MI_OP_CREATE, MI_ROLE_APIUSER));
    CU_ASSERT_TRUE(mi_op_permits(MI_OP_CREATE, MI_ROLE_AGENT | MI_ROLE_ADMIN));
    CU_ASSERT_FALSE(mi_op_permits(MI_OP_CREATE, MI_ROLE_AGENT | MI_ROLE_SUPERVISOR));
    CU_ASSERT_FALSE(mi_op_permits(MI_OP_ACCEPT, MI_ROLE_ADMIN));
    CU_ASSERT_FALSE(mi_op_permits(MI_OP_GET, 0));
    CU_ASSERT_EQUAL(mi_role_bit("agent"), MI_ROLE_AGENT);
    CU_ASSERT_EQUAL(mi_role_bit("apiuser"), MI_ROLE_APIUSER);
    CU_ASSERT_EQUAL(mi_role_bit("Agent"), 0);
    CU_ASSERT_EQUAL(mi_role_bit(NULL), 0);
}

/* ------------------------------------------------------------------ the SQL side */

/* The text of @s from @from up to (not including) @to, or NULL. */
static char *between(const char *s, const char *from, const char *to)
{
    const char *a = s != NULL ? strstr(s, from) : NULL;
    const char *b = a != NULL ? strstr(a, to) : NULL;

    return b != NULL ? apr_pstrmemdup(tp, a, (apr_size_t)(b - a)) : NULL;
}

/* The header of "CREATE OR REPLACE FUNCTION interactions.@fn(" up to its body: does it
 * declare the function STABLE or IMMUTABLE (so that PostgreSQL refuses any write in it)? */
static int declared_read_only(const char *sql, const char *fn)
{
    char *head = between(sql, apr_pstrcat(tp, "FUNCTION interactions.", fn, "(", NULL), "AS $$");

    CU_ASSERT_PTR_NOT_NULL_FATAL(head);
    return strstr(head, " STABLE") != NULL || strstr(head, " IMMUTABLE") != NULL;
}

/* Every quoted name on the lines of @body that start (after blanks) with @lead, e.g.
 * "WHEN 'AttachUserData', 'UpdateUserData' THEN", into @names (name -> lead). */
static void quoted_names(apr_hash_t *names, const char *body, const char *lead)
{
    const char *line = body;

    while (line != NULL && *line != '\0') {
        const char *next = strchr(line, '\n');
        const char *s = line;
        while (*s == ' ') s++;
        if (strncmp(s, lead, strlen(lead)) == 0) {
            s += strlen(lead);
            while (s != NULL && *s == '\'' && (next == NULL || s < next)) {
                const char *q = strchr(s + 1, '\'');
                CU_ASSERT_PTR_NOT_NULL_FATAL(q);
                apr_hash_set(names, apr_pstrmemdup(tp, s + 1, (apr_size_t)(q - s - 1)),
                             APR_HASH_KEY_STRING, lead);
                s = strncmp(q + 1, ", '", 3) == 0 ? q + 3 : NULL;
            }
        }
        line = next != NULL ? next + 1 : NULL;
    }
}

static void the_sql_dispatch_serves_every_entry(void)
{
    char *api = unit_read_source("sql/functions/030_api.sql");
    char *ops = unit_read_source("sql/functions/040_operations.sql");
    char *events = unit_read_source("sql/functions/067_events.sql");
    char *stats = unit_read_source("sql/functions/075_queue_statistics.sql");
    char *all = apr_pstrcat(tp, api, ops, events, stats, NULL);
    char *dispatch = between(api, "v_res := CASE p_op", "END;");
    apr_hash_t *entries = apr_hash_make(tp), *used = apr_hash_make(tp);
    apr_hash_index_t *hi;
    const char *line;
    int op, n = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(dispatch);
    /* "WHEN 'list' THEN interactions.api_list(c, p_args)" */
    for (line = strstr(dispatch, "WHEN '"); line != NULL; line = strstr(line + 1, "WHEN '")) {
        char entry[64], fn[64];
        CU_ASSERT_EQUAL_FATAL(sscanf(line, "WHEN '%63[a-z_]' THEN interactions.%63[a-z_](", entry, fn), 2);
        apr_hash_set(entries, apr_pstrdup(tp, entry), APR_HASH_KEY_STRING, apr_pstrdup(tp, fn));
        n++;
    }
    CU_ASSERT_EQUAL(apr_hash_count(entries), (unsigned int)n);
    for (op = 0; op < MI_OP__COUNT; op++) {
        const mi_op_t *o = mi_op((mi_op_e)op);
        const char *fn;
        if (o->entry == NULL) {
            continue;
        }
        fn = apr_hash_get(entries, o->entry, APR_HASH_KEY_STRING);
        if (fn == NULL) {
            fprintf(stderr, "\n%s: interactions.api() has no '%s'\n", o->name, o->entry);
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(fn);
        /* a read runs read-only: its function must not be one that writes; a write's must
         * be able to */
        CU_ASSERT_EQUAL(declared_read_only(all, fn), !(o->flags & MI_OPF_WRITE));
        if (declared_read_only(all, fn) != !(o->flags & MI_OPF_WRITE)) {
            fprintf(stderr, "\n%s: mi_ops.h says %s, interactions.%s is declared otherwise\n",
                    o->name, (o->flags & MI_OPF_WRITE) ? "write" : "read", fn);
        }
        apr_hash_set(used, o->entry, APR_HASH_KEY_STRING, fn);
    }
    /* and SQL serves nothing the module does not call */
    for (hi = apr_hash_first(tp, entries); hi != NULL; hi = apr_hash_next(hi)) {
        const char *entry = apr_hash_this_key(hi);
        CU_ASSERT_PTR_NOT_NULL(apr_hash_get(used, entry, APR_HASH_KEY_STRING));
        if (apr_hash_get(used, entry, APR_HASH_KEY_STRING) == NULL) {
            fprintf(stderr, "\n'%s': interactions.api() serves it, mi_ops.h has no row\n", entry);
        }
    }
}

static void the_sql_operation_serves_every_operation_name(void)
{
    char *body = between(unit_read_source("sql/functions/040_operations.sql"),
                         "FUNCTION interactions.api_operation(", "END $$;");
    apr_hash_t *names = apr_hash_make(tp);
    int op;

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    /* before the interaction is looked up: those that need no id */
    quoted_names(names, body, "IF v_op = ");
    /* the branches of "CASE v_op" */
    quoted_names(names, body, "WHEN ");
    for (op = 0; op < MI_OP__COUNT; op++) {
        const mi_op_t *o = mi_op((mi_op_e)op);
        const char *lead;
        if (!(o->flags & MI_OPF_NAMED)) {
            continue;
        }
        lead = apr_hash_get(names, o->name, APR_HASH_KEY_STRING);
        CU_ASSERT_PTR_NOT_NULL(lead);
        if (lead == NULL) {
            fprintf(stderr, "\n%s: no branch in interactions.api_operation\n", o->name);
            continue;
        }
        CU_ASSERT_EQUAL(strcmp(lead, "IF v_op = ") == 0, (o->flags & MI_OPF_NO_ID) != 0);
        apr_hash_set(names, o->name, APR_HASH_KEY_STRING, NULL);
    }
    CU_ASSERT_EQUAL(apr_hash_count(names), 0);
}

void add_ops_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(names_are_unique_and_rows_complete),
        UNIT_TEST(reads_and_writes),
        UNIT_TEST(roles),
        UNIT_TEST(the_sql_dispatch_serves_every_entry),
        UNIT_TEST(the_sql_operation_serves_every_operation_name),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("ops", tests);
}
