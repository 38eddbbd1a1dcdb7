/* test_validate.c — request validation: every refusal gets the right statusCode. */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "mi_json.h"
#include "mi_validate.h"
#include "unit.h"

static mi_limits_t lim = { 65536, 32, 20, 64, 50, 10, 4096, 4 };

static int op(const char *body, mi_op_e *pop, json_object **pargs, mi_error_t *err)
{
    return mi_validate_operation(pop, pargs, unit_json(body), 1, &lim, tp, err);
}

static void every_operation_name_round_trips(void)
{
    int i;

    for (i = MI_OP_NONE + 1; i < MI_OP__COUNT; i++) {
        if (mi_op_is((mi_op_e)i, MI_OPF_NAMED)) {
            CU_ASSERT_EQUAL(mi_op_parse(mi_op_name((mi_op_e)i)), i);
        }
        else {
            /* the names of REST calls ("me", "list") are no operationNames */
            CU_ASSERT_EQUAL(mi_op_parse(mi_op_name((mi_op_e)i)), MI_OP_NONE);
        }
    }
    CU_ASSERT_EQUAL(mi_op_parse("accept"), MI_OP_NONE);
    CU_ASSERT_EQUAL(mi_op_parse(NULL), MI_OP_NONE);
    CU_ASSERT_PTR_NULL(mi_op_name(MI_OP__COUNT));
}

static void operation_cases(void)
{
    static const struct { const char *body; int ok; int sc; mi_op_e op; } cases[] = {
        { "{\"operationName\":\"Accept\"}", 1, 0, MI_OP_ACCEPT },
        { "{}", 0, 1, MI_OP_NONE },
        { "{\"operationName\":7}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Dance\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Accept\",\"x\":1}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Complete\"}", 1, 0, MI_OP_COMPLETE },
        { "{\"operationName\":\"Complete\",\"queueName\":\"q\"}", 1, 0, MI_OP_COMPLETE },
        { "{\"operationName\":\"Complete\",\"queueName\":\"\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"PlaceInQueue\"}", 0, 1, MI_OP_NONE },
        { "{\"operationName\":\"PlaceInQueue\",\"queueName\":5}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"PlaceInQueue\",\"queueName\":\"support\"}", 1, 0, MI_OP_PLACE_IN_QUEUE },
        { "{\"operationName\":\"PlaceInWorkbin\"}", 0, 1, MI_OP_NONE },
        { "{\"operationName\":\"PlaceInWorkbin\",\"workbin\":\"drafts\"}", 1, 0, MI_OP_PLACE_IN_WORKBIN },
        { "{\"operationName\":\"GetWorkbinContent\",\"workbin\":\"team\"}", 1, 0, MI_OP_GET_WORKBIN_CONTENT },
        { "{\"operationName\":\"Transfer\"}", 0, 1, MI_OP_NONE },
        { "{\"operationName\":\"Transfer\",\"userId\":\"agent2\"}", 1, 0, MI_OP_TRANSFER },
        { "{\"operationName\":\"Transfer\",\"queueName\":\"sales\"}", 1, 0, MI_OP_TRANSFER },
        { "{\"operationName\":\"Transfer\",\"userId\":\"a\",\"queueName\":\"s\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Transfer\",\"userId\":\"a\",\"targetUri\":\"b\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Transfer\",\"userUri\":\"http://h/api/v2/users/\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"AttachUserData\"}", 0, 1, MI_OP_NONE },
        { "{\"operationName\":\"AttachUserData\",\"userData\":[]}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"AttachUserData\",\"userData\":{}}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"UpdateUserData\",\"userData\":{\"k\":{\"n\":[1]}}}", 1, 0, MI_OP_UPDATE_USER_DATA },
        { "{\"operationName\":\"UpdateUserData\",\"userData\":{\"\":1}}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"DeleteUserData\"}", 0, 1, MI_OP_NONE },
        { "{\"operationName\":\"DeleteUserData\",\"keys\":[\"a\",\"b\"]}", 1, 0, MI_OP_DELETE_USER_DATA },
        { "{\"operationName\":\"DeleteUserData\",\"userData\":{\"a\":1}}", 1, 0, MI_OP_DELETE_USER_DATA },
        { "{\"operationName\":\"DeleteUserData\",\"keys\":[]}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"DeleteUserData\",\"keys\":[1]}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"DeleteUserData\",\"keys\":[\"a\"],\"userData\":{}}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Reply\"}", 1, 0, MI_OP_REPLY },
        { "{\"operationName\":\"ReplyAll\"}", 1, 0, MI_OP_REPLY_ALL },
        { "{\"operationName\":\"Cancel\"}", 1, 0, MI_OP_CANCEL },
        { "{\"operationName\":\"Send\"}", 1, 0, MI_OP_SEND },
        { "{\"operationName\":\"Pull\"}", 1, 0, MI_OP_PULL },
        { "{\"operationName\":\"Reject\"}", 1, 0, MI_OP_REJECT },
        { "[]", 0, 10, MI_OP_NONE },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mi_op_e o;
        json_object *args;
        mi_error_t err = { 0, 0, NULL };
        int ok = op(cases[i].body, &o, &args, &err);
        if (ok != cases[i].ok || (!ok && err.sc != cases[i].sc) || o != cases[i].op) {
            fprintf(stderr, "\n  case %s: ok=%d sc=%d op=%d (%s)\n", cases[i].body, ok, err.sc, o,
                    err.message ? err.message : "");
        }
        CU_ASSERT_EQUAL(ok, cases[i].ok);
        CU_ASSERT_EQUAL(o, cases[i].op);
        if (!ok) {
            CU_ASSERT_EQUAL(err.sc, cases[i].sc);
            CU_ASSERT_PTR_NOT_NULL(err.message);
            CU_ASSERT_PTR_NULL(args);
        }
    }
}

/* Found with the fuzz_request harness: "unknown operation '%.64s'" cut the name after 64
 * bytes, in the middle of a character, and the error envelope was not valid UTF-8. */
static void long_names_in_messages_are_cut_between_characters(void)
{
    mi_op_e o;
    json_object *args;
    mi_error_t err;
    char name[200];
    const char *body;

    memset(name, 'a', 63);
    strcpy(name + 63, "\xC3\xA9\xC3\xA9");   /* 63 + 2 characters, 67 bytes */
    body = apr_psprintf(tp, "{\"operationName\":\"%s\"}", name);
    CU_ASSERT_FALSE(op(body, &o, &args, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_TRUE(mi_utf8_valid(err.message, strlen(err.message)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "aaa\xC3\xA9...'"));
    /* a channel operation name is refused for its length (64 characters) first */
    CU_ASSERT_FALSE(mi_validate_channel(&args, "email", unit_json(body), &lim, tp, &err));
    CU_ASSERT_TRUE(mi_utf8_valid(err.message, strlen(err.message)));
    body = apr_psprintf(tp, "{\"operationName\":\"Accept\",\"%s\":1}", name);
    CU_ASSERT_FALSE(op(body, &o, &args, &err));
    CU_ASSERT_TRUE(mi_utf8_valid(err.message, strlen(err.message)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "aaa\xC3\xA9...'"));
    /* 64 characters are shown whole */
    name[65] = '\0';
    body = apr_psprintf(tp, "{\"operationName\":\"%s\"}", name);
    CU_ASSERT_FALSE(op(body, &o, &args, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "aaa\xC3\xA9'"));
}

/* The parser refuses "\u0000" anywhere; a document built otherwise is still checked, and an
 * operation name is compared whole ("Complete\0x" is not Complete). */
static void nul_characters_are_refused_by_the_validators_too(void)
{
    json_object *body = mi_json_bind(tp, json_object_new_object()), *ud, *args;
    mi_error_t err;
    mi_op_e o;

    json_object_object_add(body, "operationName", json_object_new_string_len("Complete\0x", 10));
    CU_ASSERT_FALSE(mi_validate_operation(&o, &args, body, 1, &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_EQUAL(o, MI_OP_NONE);
    CU_ASSERT_FALSE(mi_validate_channel(&args, "email", body, &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    json_object_object_add(body, "operationName", json_object_new_string("UpdateUserData"));
    ud = json_object_new_object();
    json_object_object_add(ud, "k", json_object_new_string_len("a\0b", 3));
    json_object_object_add(body, "userData", ud);
    CU_ASSERT_FALSE(mi_validate_operation(&o, &args, body, 1, &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
}

static void transfer_target_comes_from_the_uri(void)
{
    mi_op_e o;
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE(op("{\"operationName\":\"Transfer\",\"targetUri\":\"http://h/api/v2/users/agent2\"}",
                      &o, &args, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "user"), "agent2");
}

/* GWS clients: the seed's name of Transfer, and the fields their bodies carry beside ours
 * (accepted, used or ignored by the documented list); anything else is still refused. */
static void gws_bodies_are_accepted_and_unknown_fields_still_refused(void)
{
    static const struct { const char *body; int ok; int sc; mi_op_e op; } cases[] = {
        { "{\"operationName\":\"SingleStepTransfer\",\"userId\":\"agent2\"}", 1, 0, MI_OP_TRANSFER },
        { "{\"operationName\":\"singlesteptransfer\",\"userId\":\"agent2\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Complete\",\"saveLAR\":true}", 1, 0, MI_OP_COMPLETE },
        { "{\"operationName\":\"Complete\",\"saveLAR\":\"yes\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Complete\",\"saveLAR\":true,\"savelar\":true}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Accept\",\"saveLAR\":true}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Accept\",\"reason\":\"r\",\"disposition\":\"d\",\"dispositionKey\":\"k\"}",
          1, 0, MI_OP_ACCEPT },
        { "{\"operationName\":\"Complete\",\"reason\":5}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Complete\",\"queueUri\":\"/queues/q\"}", 1, 0, MI_OP_COMPLETE },
        { "{\"operationName\":\"Complete\",\"queueUri\":\"\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Complete\",\"queueUri\":\"/queues/q\",\"queueName\":\"q\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"PlaceInQueue\",\"queueUri\":\"/queues/q\"}", 1, 0, MI_OP_PLACE_IN_QUEUE },
        { "{\"operationName\":\"PlaceInQueue\",\"queueUri\":7}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"PlaceInWorkbin\",\"workbin\":\"w\",\"saveLAR\":false}", 1, 0, MI_OP_PLACE_IN_WORKBIN },
        { "{\"operationName\":\"Pull\",\"nickname\":\"Ann\"}", 1, 0, MI_OP_PULL },
        { "{\"operationName\":\"Transfer\",\"queueUri\":\"/queues/q\"}", 1, 0, MI_OP_TRANSFER },
        { "{\"operationName\":\"Transfer\",\"queueUri\":\"/queues/q\",\"userId\":\"a\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Transfer\",\"targetPath\":\"/users/agent2\"}", 1, 0, MI_OP_TRANSFER },
        { "{\"operationName\":\"Transfer\",\"targetPath\":\"/queues/sales\"}", 1, 0, MI_OP_TRANSFER },
        { "{\"operationName\":\"Transfer\",\"targetPath\":\"/contacts/c1\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Transfer\",\"targetPath\":\"/users/\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Transfer\",\"targetPath\":\"/users/a\",\"userId\":\"a\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Transfer\",\"targetPath\":\"/users/a\",\"queueName\":\"q\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Reply\",\"queueName\":\"q\",\"body\":\"b\",\"userData\":{\"k\":1},"
          "\"mime\":\"text/html\",\"bodyAsPlainText\":\"b\",\"subjectPrefix\":\"Re:\","
          "\"replyToStartLine\":\"On...\",\"quoteOriginal\":true,\"indentCharacter\":\">\"}", 1, 0, MI_OP_REPLY },
        { "{\"operationName\":\"ReplyAll\",\"queueUri\":\"/queues/q\"}", 1, 0, MI_OP_REPLY_ALL },
        { "{\"operationName\":\"Reply\",\"quoteOriginal\":\"yes\"}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Reply\",\"userData\":[]}", 0, 10, MI_OP_NONE },
        { "{\"operationName\":\"Send\",\"body\":\"b\"}", 0, 10, MI_OP_NONE },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mi_op_e o;
        json_object *args = NULL;
        mi_error_t err = { 0, 0, NULL };
        int ok = op(cases[i].body, &o, &args, &err);
        if (ok != cases[i].ok || (!ok && err.sc != cases[i].sc) || o != cases[i].op) {
            fprintf(stderr, "\n  case %s: ok=%d sc=%d op=%d (%s)\n", cases[i].body, ok, err.sc, o,
                    err.message ? err.message : "");
        }
        CU_ASSERT_EQUAL(ok, cases[i].ok);
        CU_ASSERT_EQUAL(o, cases[i].op);
        if (ok) {
            /* ignored fields go no further than validation */
            CU_ASSERT_PTR_NULL(mi_json_get(args, "saveLAR"));
            CU_ASSERT_PTR_NULL(mi_json_get(args, "reason"));
            CU_ASSERT_PTR_NULL(mi_json_get(args, "mime"));
            CU_ASSERT_PTR_NULL(mi_json_get(args, "targetPath"));
            CU_ASSERT_PTR_NULL(mi_json_get(args, "queueUri"));
        }
        else {
            CU_ASSERT_EQUAL(err.sc, cases[i].sc);
        }
    }
}

static void gws_names_and_targets_become_ours(void)
{
    mi_op_e o;
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE_FATAL(op("{\"operationName\":\"SingleStepTransfer\",\"queueName\":\"sales\"}",
                            &o, &args, &err));
    /* SQL, statistics and capabilities know one name */
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "operationName"), "Transfer");
    CU_ASSERT_TRUE_FATAL(op("{\"operationName\":\"Transfer\",\"targetPath\":\"/users/agent2\"}",
                            &o, &args, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "user"), "agent2");
    CU_ASSERT_TRUE_FATAL(op("{\"operationName\":\"Transfer\",\"targetPath\":\"/queues/sales\"}",
                            &o, &args, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "_queueUri"), "/queues/sales");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "_queueUriField"), "targetPath");
    CU_ASSERT_TRUE_FATAL(op("{\"operationName\":\"Reply\",\"queueName\":\"q\",\"body\":\"b\","
                            "\"userData\":{\"k\":1},\"mime\":\"text/html\"}", &o, &args, &err));
    CU_ASSERT_STRING_EQUAL(unit_dump(args), "{\"queueName\":\"q\",\"body\":\"b\",\"userData\":{\"k\":1},"
                           "\"operationName\":\"Reply\"}");
}

/* docs/api.md shows the list of GWS fields: every field of the table is in the row of its
 * operation there, and said to be used or ignored as it is. */
static void the_gws_field_list_is_documented(void)
{
    char *doc = unit_read_source("docs/api.md");
    const char *start = strstr(doc, "<!-- gws-fields -->"), *end;
    const mi_gws_field_t *f;
    int i, n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(start);
    end = strstr(start + 1, "<!-- /gws-fields -->");
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    f = mi_validate_gws_fields(&n);
    CU_ASSERT_TRUE(n > 0);
    for (i = 0; i < n; i++) {
        const char *opname = f[i].op == MI_OP_NONE ? "any" : mi_op_name(f[i].op);
        const char *row = apr_psprintf(tp, "\n| %s | `%s` | %s |", opname, f[i].name,
                                       f[i].used ? "used" : "ignored");
        const char *at = strstr(start, row);
        if (at == NULL || at > end) {
            fprintf(stderr, "\n  docs/api.md lacks the row starting '%s'\n", row + 1);
        }
        CU_ASSERT_TRUE(at != NULL && at < end);
    }
}

static void delete_by_user_data_lists_its_keys(void)
{
    mi_op_e o;
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE(op("{\"operationName\":\"DeleteUserData\",\"userData\":{\"a\":1,\"b\":null}}",
                      &o, &args, &err));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(args, "keys")), "[\"a\",\"b\"]");
}

static void only_get_workbin_content_works_without_an_id(void)
{
    mi_op_e o;
    json_object *args;
    mi_error_t err;

    CU_ASSERT_FALSE(mi_validate_operation(&o, &args, unit_json("{\"operationName\":\"Accept\"}"), 0,
                                          &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_TRUE(mi_validate_operation(&o, &args,
                   unit_json("{\"operationName\":\"GetWorkbinContent\",\"workbin\":\"w\"}"), 0,
                   &lim, tp, &err));
}

static void user_data_limits(void)
{
    mi_op_e o;
    json_object *args;
    mi_error_t err;
    char key[300], *body;

    mi_limits_t big = lim;

    /* 255-character keys are fine, 256 are not */
    big.max_user_data = 4096;
    memset(key, 'k', 255);
    key[255] = '\0';
    body = apr_psprintf(tp, "{\"operationName\":\"UpdateUserData\",\"userData\":{\"%s\":1}}", key);
    CU_ASSERT_TRUE(mi_validate_operation(&o, &args, unit_json(body), 1, &big, tp, &err));
    body = apr_psprintf(tp, "{\"operationName\":\"UpdateUserData\",\"userData\":{\"%sk\":1}}", key);
    CU_ASSERT_FALSE(mi_validate_operation(&o, &args, unit_json(body), 1, &big, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    /* the serialized size limit (64 bytes in this suite) */
    CU_ASSERT_TRUE(op("{\"operationName\":\"UpdateUserData\",\"userData\":{\"a\":\"0123456789\"}}",
                      &o, &args, &err));
    CU_ASSERT_FALSE(op("{\"operationName\":\"UpdateUserData\",\"userData\":{\"a\":\"0123456789"
                       "0123456789012345678901234567890123456789012345678901234567890123\"}}",
                       &o, &args, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    /* numbers count as the database writes them: {"a":1e60} is 10 bytes here, 67 there */
    CU_ASSERT_TRUE(op("{\"operationName\":\"UpdateUserData\",\"userData\":{\"a\":1e50}}",
                      &o, &args, &err));
    CU_ASSERT_FALSE(op("{\"operationName\":\"UpdateUserData\",\"userData\":{\"a\":1e60}}",
                       &o, &args, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
}

static void create_requires_media_and_queue(void)
{
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"support\",\"to\":\"a@b\",\"priority\":3,"
        "\"externalId\":\"g-1\",\"userData\":{\"x\":1}}"), &lim, tp, &err));
    CU_ASSERT_STRING_EQUAL(unit_dump(mi_json_get(args, "to")), "[\"a@b\"]");
    CU_ASSERT_EQUAL(mi_json_get_int(args, "priority", 0), 3);
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json("{\"queueName\":\"q\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json("{\"mediaType\":\"email\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"e mail\",\"queueName\":\"q\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"q\",\"priority\":\"high\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"q\",\"priority\":1.5}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"q\",\"state\":\"Processing\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"q\",\"to\":[\"a\",3]}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"q\",\"externalId\":\"\"}"), &lim, tp, &err));
}

static void string_limits_count_characters(void)
{
    json_object *args;
    mi_error_t err;

    /* max_string is 20 in this suite: 20 two-byte characters pass, 21 do not */
    CU_ASSERT_TRUE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"q\",\"subject\":"
        "\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"}"),
        &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_create(&args, unit_json(
        "{\"mediaType\":\"email\",\"queueName\":\"q\",\"subject\":\"012345678901234567890\"}"),
        &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
}

static void update_refuses_read_only_properties(void)
{
    json_object *args;
    mi_error_t err;

    CU_ASSERT_FALSE(mi_validate_update(&args, unit_json("{\"state\":\"Completed\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_READ_ONLY);
    CU_ASSERT_FALSE(mi_validate_update(&args, unit_json("{\"subject\":\"s\",\"id\":\"x\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_READ_ONLY);
    CU_ASSERT_FALSE(mi_validate_update(&args, unit_json("{\"color\":\"red\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_update(&args, unit_json("{}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_TRUE(mi_validate_update(&args, unit_json("{\"userData\":{},\"subject\":\"s\"}"), &lim, tp, &err));
}

static void events_query_is_checked(void)
{
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE(mi_validate_events_query(&args, NULL, &lim, tp, &err));
    CU_ASSERT_EQUAL(mi_json_get_int(args, "after", -1), 0);
    CU_ASSERT_EQUAL(mi_json_get_int(args, "limit", 0), 10);
    CU_ASSERT_EQUAL(mi_json_get_int(args, "wait", -1), 0);
    CU_ASSERT_TRUE(mi_validate_events_query(&args, "after=9007199254740993&limit=50&wait=30", &lim, tp, &err));
    CU_ASSERT_EQUAL(mi_json_get_int(args, "after", 0), 9007199254740993LL);
    CU_ASSERT_EQUAL(mi_json_get_int(args, "limit", 0), 50);
    CU_ASSERT_EQUAL(mi_json_get_int(args, "wait", 0), 30);
    /* a long-poll is held 30 s at most (CONTRACT 8.5), a page as long as the location allows */
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "wait=31", &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "limit=51", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "limit=0", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "after=-1", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "after=1e3", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "after=", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "after=1234567890123456789", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "wait=-1", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "since=5", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_events_query(&args, "after=%zz", &lim, tp, &err));
}

static void list_query_is_checked(void)
{
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE(mi_validate_list_query(&args, NULL, &lim, tp, &err));
    CU_ASSERT_EQUAL(mi_json_get_int(args, "limit", 0), 10);
    CU_ASSERT_EQUAL(mi_json_get_int(args, "offset", -1), 0);
    CU_ASSERT_TRUE(mi_validate_list_query(&args, "fields=*&state=Queued&queue=a%20b&limit=50&offset=2&_=1",
                                          &lim, tp, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "queue"), "a b");
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "fields"), "*");
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "limit=51", &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "limit=0", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "limit=-1", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "offset=x", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "state=Sleeping", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "fields=id", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "queue=%zz", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "queue=a%00b", &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "queue=%C3%28", &lim, tp, &err));
    /* a workbin's content, page by page */
    CU_ASSERT_TRUE(mi_validate_list_query(&args, "workbin=team%20b", &lim, tp, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "workbin"), "team b");
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "workbin=", &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    {
        char name[256 + 1];
        memset(name, 'w', 256);
        name[256] = '\0';
        CU_ASSERT_FALSE(mi_validate_list_query(&args, apr_pstrcat(tp, "workbin=", name, NULL), &lim,
                                               tp, &err));
        name[255] = '\0';
        CU_ASSERT_TRUE(mi_validate_list_query(&args, apr_pstrcat(tp, "workbin=", name, NULL), &lim,
                                              tp, &err));
    }
    CU_ASSERT_FALSE(mi_validate_list_query(&args, "workbin=a%00b", &lim, tp, &err));
}

static void form_decoding(void)
{
    apr_table_t *t = apr_table_make(tp, 4);

    CU_ASSERT_TRUE(mi_form_parse(t, "a=1&b=x+y%21&c&a=2&&d=", tp));
    CU_ASSERT_STRING_EQUAL(apr_table_get(t, "a"), "1");
    CU_ASSERT_STRING_EQUAL(apr_table_get(t, "b"), "x y!");
    CU_ASSERT_STRING_EQUAL(apr_table_get(t, "c"), "");
    CU_ASSERT_STRING_EQUAL(apr_table_get(t, "d"), "");
    CU_ASSERT_FALSE(mi_form_parse(t, "a=%4", tp));
    CU_ASSERT_FALSE(mi_form_parse(t, "a=%", tp));
}

static void utf8_validation(void)
{
    CU_ASSERT_TRUE(mi_utf8_valid("abc", 3));
    CU_ASSERT_TRUE(mi_utf8_valid("\xE2\x82\xAC", 3));         /* euro sign */
    CU_ASSERT_TRUE(mi_utf8_valid("\xF0\x9F\x98\x80", 4));     /* emoji */
    CU_ASSERT_FALSE(mi_utf8_valid("\xC0\xAF", 2));            /* overlong '/' */
    CU_ASSERT_FALSE(mi_utf8_valid("\xED\xA0\x80", 3));        /* surrogate */
    CU_ASSERT_FALSE(mi_utf8_valid("\xE2\x82", 2));            /* truncated */
    CU_ASSERT_FALSE(mi_utf8_valid("\xF4\x90\x80\x80", 4));    /* above U+10FFFF */
    CU_ASSERT_FALSE(mi_utf8_valid("\x80", 1));
    CU_ASSERT_EQUAL(mi_utf8_chars("a\xC3\xA9\xE2\x82\xAC", 6), 3);
}

static void ids_and_tokens(void)
{
    CU_ASSERT_TRUE(mi_validate_id("0b7e3a7c-8a4e-4c1e-9f3e-1d2c3b4a5f60"));
    CU_ASSERT_FALSE(mi_validate_id("0b7e3a7c8a4e4c1e9f3e1d2c3b4a5f60"));
    CU_ASSERT_FALSE(mi_validate_id("0b7e3a7c-8a4e-4c1e-9f3e-1d2c3b4a5f6g"));
    CU_ASSERT_FALSE(mi_validate_id("1"));
    CU_ASSERT_FALSE(mi_validate_id(NULL));
    CU_ASSERT_TRUE(mi_validate_token("email"));
    CU_ASSERT_TRUE(mi_validate_token("open-media.v2"));
    CU_ASSERT_FALSE(mi_validate_token(""));
    CU_ASSERT_FALSE(mi_validate_token("e mail"));
}

static void channel_operations(void)
{
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE(mi_validate_channel(&args, "email", unit_json("{\"operationName\":\"Ready\"}"), &lim, tp, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "media"), "email");
    CU_ASSERT_TRUE(mi_validate_channel(&args, "chat", unit_json("{\"operationName\":\"NotReady\"}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_channel(&args, "chat", unit_json("{\"operationName\":\"Busy\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_channel(&args, "chat", unit_json("{}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_FALSE(mi_validate_channel(&args, "c h", unit_json("{\"operationName\":\"Ready\"}"), &lim, tp, &err));
    /* the agent's day: wrap-up chosen, and NotReady with a reason (the store checks it is
     * one of the contact center's) */
    CU_ASSERT_TRUE(mi_validate_channel(&args, "email", unit_json("{\"operationName\":\"AfterCallWork\"}"), &lim, tp, &err));
    CU_ASSERT_TRUE(mi_validate_channel(&args, "email", unit_json("{\"operationName\":\"NotReady\",\"reason\":\"Lunch\"}"), &lim, tp, &err));
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(args, "reason"), "Lunch");
    CU_ASSERT_FALSE(mi_validate_channel(&args, "email", unit_json("{\"operationName\":\"Ready\",\"reason\":\"Lunch\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_channel(&args, "email", unit_json("{\"operationName\":\"NotReady\",\"reason\":\"\"}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_channel(&args, "email", unit_json("{\"operationName\":\"NotReady\",\"reason\":7}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_channel(&args, "email", unit_json("{\"operationName\":\"NotReady\",\"mood\":\"x\"}"), &lim, tp, &err));
}

static void session_and_do_not_disturb(void)
{
    json_object *args;
    mi_error_t err;

    CU_ASSERT_TRUE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"DoNotDisturbOn\"}"), &lim, tp, &err));
    CU_ASSERT_TRUE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"DoNotDisturbOff\"}"), &lim, tp, &err));
    CU_ASSERT_TRUE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"EndContactCenterSession\"}"), &lim, tp, &err));
    CU_ASSERT_TRUE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"StartContactCenterSession\",\"channels\":[\"email\",\"chat\"]}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(json_object_array_length(mi_json_get(args, "channels")), 2);
    /* channels: required, an array of 1 to max_channels (4 here) media tokens */
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"StartContactCenterSession\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"StartContactCenterSession\",\"channels\":[]}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"StartContactCenterSession\",\"channels\":\"email\"}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"StartContactCenterSession\",\"channels\":[\"e mail\"]}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"StartContactCenterSession\",\"channels\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    /* nothing else: unknown names and fields */
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"Ready\"}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_INVALID);
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{\"operationName\":\"DoNotDisturbOn\",\"channels\":[\"email\"]}"), &lim, tp, &err));
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("{}"), &lim, tp, &err));
    CU_ASSERT_EQUAL(err.sc, MI_SC_MISSING);
    CU_ASSERT_FALSE(mi_validate_me_state(&args, unit_json("[]"), &lim, tp, &err));
}

void add_validate_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(every_operation_name_round_trips),
        UNIT_TEST(operation_cases),
        UNIT_TEST(long_names_in_messages_are_cut_between_characters),
        UNIT_TEST(nul_characters_are_refused_by_the_validators_too),
        UNIT_TEST(transfer_target_comes_from_the_uri),
        UNIT_TEST(gws_bodies_are_accepted_and_unknown_fields_still_refused),
        UNIT_TEST(gws_names_and_targets_become_ours),
        UNIT_TEST(the_gws_field_list_is_documented),
        UNIT_TEST(delete_by_user_data_lists_its_keys),
        UNIT_TEST(only_get_workbin_content_works_without_an_id),
        UNIT_TEST(user_data_limits),
        UNIT_TEST(create_requires_media_and_queue),
        UNIT_TEST(string_limits_count_characters),
        UNIT_TEST(update_refuses_read_only_properties),
        UNIT_TEST(list_query_is_checked),
        UNIT_TEST(events_query_is_checked),
        UNIT_TEST(form_decoding),
        UNIT_TEST(utf8_validation),
        UNIT_TEST(ids_and_tokens),
        UNIT_TEST(channel_operations),
        UNIT_TEST(session_and_do_not_disturb),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("validate", tests);
}
