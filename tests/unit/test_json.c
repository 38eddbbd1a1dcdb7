/* test_json.c — the bounded parser and the pool-bound json-c helpers. */
#include <string.h>

#include <apr_strings.h>

#include "mi_json.h"
#include "unit.h"

static apr_status_t parse(const char *text, int depth, json_object **pj, mi_json_error_t *err)
{
    return mi_json_parse(pj, text, strlen(text), depth, tp, err);
}

static char *nested(int levels)
{
    char *s = apr_palloc(tp, (apr_size_t)levels * 2 + 1);
    int i;

    for (i = 0; i < levels; i++) {
        s[i] = '[';
        s[levels * 2 - 1 - i] = ']';
    }
    s[levels * 2] = '\0';
    return s;
}

static void parses_an_object_and_binds_it_to_the_pool(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{\"a\": [1, 2, {\"b\": null}]}", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_TRUE(json_object_is_type(j, json_type_object));
    CU_ASSERT_STRING_EQUAL(unit_dump(j), "{\"a\":[1,2,{\"b\":null}]}");
}

static void empty_document_is_rejected(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(mi_json_parse(&j, "", 0, 32, tp, &err), APR_EINVAL);
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_STRING_EQUAL(err.reason, "empty document");
}

static void malformed_json_reports_line_and_column(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{\n  \"a\": 1,\n  \"b\": x\n}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_EQUAL(err.line, 3);
    CU_ASSERT_EQUAL(err.column, 8);
    CU_ASSERT_EQUAL(err.offset, 19);
}

static void truncated_document_is_reported_at_its_end(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{\"a\": [1, 2", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 11);
    CU_ASSERT_STRING_EQUAL(err.reason, "unexpected end of document");
}

static void trailing_data_is_rejected(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{} {}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 3);
    CU_ASSERT_EQUAL(parse("{}  \n\t", 32, &j, &err), APR_SUCCESS);
}

static void strict_syntax_only(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{'a': 1}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(parse("[1, 2,]", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(parse("{\"a\": NaN}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 6);
    CU_ASSERT_EQUAL(parse("[-Infinity]", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(parse("{\"a'b\": \"it's\", \"c\\\"'\": 1e5, \"d\": 1.5E-3}", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_EQUAL(parse("[true, false, null]", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_EQUAL(parse("[nul]", 32, &j, &err), APR_EINVAL);
}

static void bare_scalars_parse(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("12", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_EQUAL(json_object_get_int(j), 12);
    CU_ASSERT_EQUAL(parse("\"s\"", 32, &j, &err), APR_SUCCESS);
}

static void invalid_utf8_is_rejected(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{\"a\": \"\xC3\x28\"}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.reason, "invalid UTF-8");
    CU_ASSERT_EQUAL(parse("{\"a\": \"caf\xC3\xA9\"}", 32, &j, &err), APR_SUCCESS);
}

/* Found by fuzz_json: json-c's JSON_TOKENER_VALIDATE_UTF8 accepts these ill-formed
 * sequences, which PostgreSQL then refuses (a 500 instead of a 400). */
static void ill_formed_utf8_that_json_c_accepts_is_rejected(void)
{
    static const char *const docs[] = {
        "[\"ab\xC0\xAF\"]",           /* overlong '/' */
        "[\"ab\xE0\x80\xAF\"]",       /* overlong, three bytes */
        "[\"ab\xED\xA0\x80\"]",       /* UTF-16 surrogate */
        "[\"ab\xF4\x90\x80\x80\"]",   /* above U+10FFFF */
        "{\"ab\xC0\xAF\":1}",          /* in a member name */
    };
    json_object *j;
    mi_json_error_t err;
    size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        CU_ASSERT_EQUAL(parse(docs[i], 32, &j, &err), APR_EINVAL);
        CU_ASSERT_PTR_NULL(j);
        CU_ASSERT_STRING_EQUAL(err.reason, "invalid UTF-8");
        CU_ASSERT_EQUAL(err.offset, 4);
    }
    CU_ASSERT_EQUAL(parse("[\"\xF4\x8F\xBF\xBF\xEF\xBF\xBD\"]", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_EQUAL(mi_utf8_check("ab\xC0\xAF", 4), 2);
    CU_ASSERT_EQUAL(mi_utf8_check("ab\xE2\x82", 4), 2);
    CU_ASSERT_EQUAL(mi_utf8_check("ab\xE2\x82\xAC", 5), 5);
}

/* json-c cuts a member name at "\u0000": {"a\u0000b":1} would become {"a":1}, and two
 * different user-data keys could collapse into one. */
static void nul_in_a_member_name_is_rejected(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{\"k\": 1, \"a\\u0000b\" : 1}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 9);
    CU_ASSERT_STRING_EQUAL(err.reason, "a member name must not contain \\u0000");
    CU_ASSERT_EQUAL(parse("{\"a\":{\"\\u0000\":1}}", 32, &j, &err), APR_EINVAL);
    /* in a value too: C would read "Complete\u0000x" as Complete, and PostgreSQL cannot
     * store it */
    CU_ASSERT_EQUAL(parse("{\"a\":\"\\u0000\"}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 5);
    CU_ASSERT_STRING_EQUAL(err.reason, "a string must not contain \\u0000");
    CU_ASSERT_EQUAL(parse("[\"x\", \"Complete\\u0000x\"]", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 6);
    CU_ASSERT_EQUAL(parse("{\"operationName\":\"Complete\\u0000x\"}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_PTR_NULL(j);
    /* other escapes of control characters are fine */
    CU_ASSERT_EQUAL(parse("[\"\\u0001\\t\\u001f\"]", 32, &j, &err), APR_SUCCESS);
    /* an escaped backslash followed by u0000 is not an escape */
    CU_ASSERT_EQUAL(parse("{\"a\\\\u0000\":1}", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL(mi_json_get(j, "a\\u0000"));
}

/* json-c clamps integers beyond 64 bits to INT64_MIN / UINT64_MAX without a word, and
 * PostgreSQL's jsonb writes large numbers as long integers (1e20 comes back as
 * 100000000000000000000): they are read as doubles that dump to the same digits. */
static void integers_beyond_64_bits_keep_their_digits(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("[18446744073709551615, -9223372036854775808, 0, -0]", 32, &j, &err),
                    APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(unit_dump(j), "[18446744073709551615,-9223372036854775808,0,0]");
    CU_ASSERT_TRUE(json_object_is_type(json_object_array_get_idx(j, 0), json_type_int));
    CU_ASSERT_EQUAL(parse("{\"orderId\": 18446744073709551616, \"n\": [-9223372036854775809, "
                          "100000000000000000000000000000]}", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(unit_dump(j), "{\"orderId\":18446744073709551616,\"n\":"
                           "[-9223372036854775809,100000000000000000000000000000]}");
    CU_ASSERT_TRUE(json_object_is_type(mi_json_get(j, "orderId"), json_type_double));
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(mi_json_get(j, "orderId")), 18446744073709551616.0, 1.0);
    CU_ASSERT_EQUAL(parse("99999999999999999999", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(unit_dump(j), "99999999999999999999");
    /* positions after big integers are those of the document as sent: each error is where
     * the same document with one-digit numbers has it, 45 characters later per number */
    {
        static const char *const small[] = { "[9, 9, ]", "[9, 9 1]", "[9] 1", "{\"a\":9,\"b\":9 \"c\"}" };
        static const char *const big[] = {
            "[9999999999999999999999999999999999999999999999, 9999999999999999999999999999999999999999999999, ]",
            "[9999999999999999999999999999999999999999999999, 9999999999999999999999999999999999999999999999 1]",
            "[9999999999999999999999999999999999999999999999] 1",
            "{\"a\":9999999999999999999999999999999999999999999999,\"b\":9999999999999999999999999999999999999999999999 \"c\"}",
        };
        static const apr_size_t numbers[] = { 2, 2, 1, 2 };
        size_t i;
        for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
            mi_json_error_t serr;
            CU_ASSERT_EQUAL(parse(small[i], 32, &j, &serr), APR_EINVAL);
            CU_ASSERT_EQUAL(parse(big[i], 32, &j, &err), APR_EINVAL);
            CU_ASSERT_EQUAL(err.offset, serr.offset + numbers[i] * 45);
            CU_ASSERT_STRING_EQUAL(err.reason, serr.reason);
        }
    }
    /* the client's own exponents stay as written, also next to a big integer (found by
     * fuzz_json: "81e0" lost its exponent and read back as the integer 81) */
    CU_ASSERT_EQUAL(parse("[1e0, 99999999999999999999.0, 1e300, 12e0]", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(unit_dump(j), "[1e0,99999999999999999999.0,1e300,12e0]");
    CU_ASSERT_EQUAL(parse("[-922193372337203685474, 81e0, 99999999999999999999e0]", 32, &j, &err),
                    APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(unit_dump(j), "[-922193372337203685474,81e0,99999999999999999999]");
    CU_ASSERT_TRUE(json_object_is_type(json_object_array_get_idx(j, 1), json_type_double));
    /* digits inside strings are not numbers */
    CU_ASSERT_EQUAL(parse("[\"99999999999999999999\"]", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(unit_dump(j), "[\"99999999999999999999\"]");
}

/* What PostgreSQL's numeric cannot hold made the database call fail (500): 1e200000,
 * 1e-200000, 16384 digits after the point.  The parser keeps numbers within a double's range
 * and numeric's 16383 fraction digits. */
static void numbers_out_of_range_are_rejected(void)
{
    static const char *const refused[] = {
        "[1e400]", "[-1e400]", "[1e-400]", "[1E200000]", "[0e-99999]", "[0.5e-999999999999999999999]",
    };
    json_object *j;
    mi_json_error_t err;
    char *digits;
    size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        CU_ASSERT_EQUAL(parse(refused[i], 32, &j, &err), APR_EINVAL);
        CU_ASSERT_STRING_EQUAL(err.reason, "number out of range");
        CU_ASSERT_EQUAL(err.offset, 1);
    }
    /* a 400-digit integer is beyond a double too */
    digits = apr_palloc(tp, 403);
    digits[0] = '[';
    memset(digits + 1, '7', 400);
    strcpy(digits + 401, "]");
    CU_ASSERT_EQUAL(parse(digits, 32, &j, &err), APR_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.reason, "number out of range");
    /* 16383 digits after the point are fine, 16384 are not */
    digits = apr_palloc(tp, 16390);
    strcpy(digits, "[0.");
    memset(digits + 3, '5', 16383);
    strcpy(digits + 3 + 16383, "]");
    CU_ASSERT_EQUAL(parse(digits, 32, &j, &err), APR_SUCCESS);
    strcpy(digits + 3 + 16383, "5]");
    CU_ASSERT_EQUAL(parse(digits, 32, &j, &err), APR_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.reason, "number out of range");
    /* the edges of a double, zero with any exponent, and a compensated exponent */
    CU_ASSERT_EQUAL(parse("[1.7976931348623157e308, -4.9e-324, 0e999999, 0.0, 10e-1]", 32, &j, &err),
                    APR_SUCCESS);
    CU_ASSERT_EQUAL(parse("[1.8e308]", 32, &j, &err), APR_EINVAL);
}

/* json-c's strict mode takes numbers JSON does not have, and PostgreSQL refuses them (found
 * by fuzz_json: 90.e0). */
static void numbers_follow_json_grammar(void)
{
    static const char *const refused[] = { "[1.]", "[1.e5]", "[0.e1]", "[00]", "[-01]", "[1.5.5]",
                                           "[1e5e5]", "[1-2]", "[-]", "[1e]", "[1E+]", "[--1]" };
    json_object *j;
    mi_json_error_t err;
    size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        CU_ASSERT_EQUAL(parse(refused[i], 32, &j, &err), APR_EINVAL);
        CU_ASSERT_STRING_EQUAL(err.reason, "malformed number");
        CU_ASSERT_EQUAL(err.offset, 1);
    }
    CU_ASSERT_EQUAL(parse("[0, -0, 0.5, -0.0e-0, 1e+5, 1E5, 10, 123.456e-7]", 32, &j, &err),
                    APR_SUCCESS);
}

/* jsonb writes numbers out in full: the user-data limit counts them that way. */
static void number_growth_counts_what_jsonb_writes(void)
{
    CU_ASSERT_EQUAL(mi_json_number_growth(unit_json("[1.5e300]")), 301 - 7);
    CU_ASSERT_EQUAL(mi_json_number_growth(unit_json("{\"a\":[1e-5],\"b\":{\"c\":0.05e3}}")),
                    (7 - 4) + 0);                             /* 0.00001; 50 is shorter */
    CU_ASSERT_EQUAL(mi_json_number_growth(unit_json("[1, 2.5, 99999999999999999999, 1.50]")), 0);
}

static void nesting_up_to_the_limit_is_accepted(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse(nested(32), 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_EQUAL(parse(nested(33), 32, &j, &err), APR_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.reason, "nesting too deep");
    CU_ASSERT_EQUAL(parse(nested(3), 2, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(parse(nested(2), 2, &j, &err), APR_SUCCESS);
}

static void getters_are_type_safe(void)
{
    json_object *j = unit_json("{\"s\":\"x\",\"n\":5,\"f\":1.5,\"z\":null,\"o\":{}}");

    CU_ASSERT_STRING_EQUAL(mi_json_get_str(j, "s"), "x");
    CU_ASSERT_PTR_NULL(mi_json_get_str(j, "n"));
    CU_ASSERT_PTR_NULL(mi_json_get_str(j, "z"));
    CU_ASSERT_PTR_NULL(mi_json_get_str(j, "missing"));
    CU_ASSERT_EQUAL(mi_json_get_int(j, "n", -1), 5);
    CU_ASSERT_EQUAL(mi_json_get_int(j, "f", -1), -1);
    CU_ASSERT_EQUAL(mi_json_get_int(j, "s", -1), -1);
    CU_ASSERT_PTR_NULL(mi_json_get(mi_json_get(j, "s"), "x"));
}

/* json-c takes raw control characters inside strings; JSON does not (RFC 8259, 7). */
static void control_characters_in_strings_are_rejected(void)
{
    static const char *const refused[] = {
        "{\"a\":\"x\ty\"}", "[\"x\ny\"]", "[\"\x01\"]", "{\"a\x1f\":1}", "[\"\r\"]"
    };
    json_object *j;
    mi_json_error_t err;
    size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        CU_ASSERT_EQUAL(parse(refused[i], 32, &j, &err), APR_EINVAL);
        CU_ASSERT_PTR_NULL(j);
        CU_ASSERT_STRING_EQUAL(err.reason, "a control character in a string must be escaped");
    }
    CU_ASSERT_EQUAL(parse("{\"a\":\"x\ty\"}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 7);
    /* whitespace between tokens is still whitespace, and escaped it is fine in strings */
    CU_ASSERT_EQUAL(parse("{\t\"a\" :\r\n\"x\\ty\"\n}", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(mi_json_get_str(j, "a"), "x\ty");
}

/* json-c keeps the last of two members of the same name without a word; the client's
 * intent is unknown, so the document is refused, with where the second one is. */
static void duplicate_member_names_are_rejected(void)
{
    json_object *j;
    mi_json_error_t err;

    CU_ASSERT_EQUAL(parse("{\"a\":1,\"a\":2}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_STRING_EQUAL(err.reason, "duplicate member name");
    CU_ASSERT_EQUAL(err.offset, 7);
    /* the same name however it is written */
    CU_ASSERT_EQUAL(parse("{\"ab\":1, \"x\":{}, \"\\u0061b\" : 2}", 32, &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 17);
    /* deep inside, after an array of objects that each have the name once */
    CU_ASSERT_EQUAL(parse("[{\"k\":1},{\"k\":2},{\"u\":{\"k\":[],\"k\":[]}}]", 32, &j, &err),
                    APR_EINVAL);
    CU_ASSERT_EQUAL(err.offset, 30);
    CU_ASSERT_EQUAL(err.line, 1);
    CU_ASSERT_EQUAL(parse("{\"operationName\":\"Accept\",\n \"operationName\":\"Complete\"}", 32,
                          &j, &err), APR_EINVAL);
    CU_ASSERT_EQUAL(err.line, 2);
    CU_ASSERT_EQUAL(err.column, 2);
    /* one name in several objects, names equal to values, and a name that is a prefix */
    CU_ASSERT_EQUAL(parse("[{\"k\":\"k\"},{\"k\":{\"k\":\"k\"}},{\"k\":1,\"kk\":2,\"k \":3}]", 32, &j,
                          &err), APR_SUCCESS);
    CU_ASSERT_EQUAL(parse("{\"a\\\"\":1,\"a\":2}", 32, &j, &err), APR_SUCCESS);
}

/* json-c turns half a UTF-16 surrogate pair into U+FFFD: stored would not be what was sent. */
static void unpaired_surrogates_are_rejected(void)
{
    static const char *const refused[] = {
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\uD83Dx\"]", "[\"\\ud83d\\u0041\"]",
        "[\"\\ude00\\ud83d\"]", "{\"\\ud800\":1}"
    };
    json_object *j;
    mi_json_error_t err;
    size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        CU_ASSERT_EQUAL(parse(refused[i], 32, &j, &err), APR_EINVAL);
        CU_ASSERT_STRING_EQUAL(err.reason, "unpaired UTF-16 surrogate in a \\u escape");
        CU_ASSERT_EQUAL(err.offset, 2);
    }
    CU_ASSERT_EQUAL(parse("[\"\\ud83d\\ude00\", \"\\u00e9\"]", 32, &j, &err), APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(j, 0)), "\xF0\x9F\x98\x80");
}

static void nul_characters_are_detected(void)
{
    /* built by hand: the parser refuses "\u0000" */
    json_object *j = mi_json_bind(tp, json_object_new_object());

    json_object_object_add(j, "a", json_object_new_string_len("x\0y", 3));
    json_object_object_add(j, "b", json_object_new_string("xy"));

    CU_ASSERT_TRUE(mi_json_string_has_nul(mi_json_get(j, "a")));
    CU_ASSERT_FALSE(mi_json_string_has_nul(mi_json_get(j, "b")));
}

static void longest_string_covers_keys_and_nested_values(void)
{
    json_object *j = unit_json("{\"ab\":[\"c\",{\"defgh\":1}],\"i\":\"jklmnop\"}");

    CU_ASSERT_EQUAL(mi_json_longest_string(j), 7);
    CU_ASSERT_EQUAL(mi_json_longest_string(unit_json("[1,2]")), 0);
}

static void dump_does_not_escape_slashes(void)
{
    json_object *j = unit_json("{\"uri\":\"http://h/a\"}");
    apr_size_t len = 0;
    const char *s = mi_json_dump_len(j, tp, &len);

    CU_ASSERT_STRING_EQUAL(s, "{\"uri\":\"http://h/a\"}");
    CU_ASSERT_EQUAL(len, strlen(s));
}

void add_json_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(parses_an_object_and_binds_it_to_the_pool),
        UNIT_TEST(empty_document_is_rejected),
        UNIT_TEST(malformed_json_reports_line_and_column),
        UNIT_TEST(truncated_document_is_reported_at_its_end),
        UNIT_TEST(trailing_data_is_rejected),
        UNIT_TEST(strict_syntax_only),
        UNIT_TEST(bare_scalars_parse),
        UNIT_TEST(invalid_utf8_is_rejected),
        UNIT_TEST(ill_formed_utf8_that_json_c_accepts_is_rejected),
        UNIT_TEST(nul_in_a_member_name_is_rejected),
        UNIT_TEST(integers_beyond_64_bits_keep_their_digits),
        UNIT_TEST(numbers_out_of_range_are_rejected),
        UNIT_TEST(numbers_follow_json_grammar),
        UNIT_TEST(number_growth_counts_what_jsonb_writes),
        UNIT_TEST(nesting_up_to_the_limit_is_accepted),
        UNIT_TEST(getters_are_type_safe),
        UNIT_TEST(control_characters_in_strings_are_rejected),
        UNIT_TEST(duplicate_member_names_are_rejected),
        UNIT_TEST(unpaired_surrogates_are_rejected),
        UNIT_TEST(nul_characters_are_detected),
        UNIT_TEST(longest_string_covers_keys_and_nested_values),
        UNIT_TEST(dump_does_not_escape_slashes),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("json", tests);
}
