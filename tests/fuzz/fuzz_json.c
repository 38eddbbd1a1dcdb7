/* fuzz_json.c — libFuzzer target for the bounded JSON codec (mi_json_parse, mi_json_dump).
 *
 * The first byte picks the nesting limit (1..64); the rest is the document, handed over in a
 * buffer of exactly its size, so a read past the end is an ASan report.  Invariants:
 *
 *   - a refusal says where (offset within the document, line and column from 1) and why,
 *     and returns no object;
 *   - an accepted document is valid UTF-8, is nested no deeper than the limit, holds only
 *     finite numbers (PostgreSQL's jsonb cannot store the rest), has no NUL and no raw
 *     control character in any string, and keeps a member for every name written (json-c
 *     keeps only the last of duplicate names); its compact serialization is strict JSON
 *     again: it parses (with the same limit) to an equal document, and serializing that
 *     gives the very same text (dump is a fixed point);
 *   - the helpers that walk documents (mi_json_longest_string) agree between the two copies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>

#include "harness.h"
#include "mi_json.h"
#include "mi_validate.h"

/* Every number of an accepted document is a finite double or a 64-bit integer. */
static int numbers_finite(json_object *j)
{
    size_t i, n;
    double d;

    switch (json_object_get_type(j)) {
    case json_type_double:
        d = json_object_get_double(j);
        return d - d == 0.0;
    case json_type_array:
        n = json_object_array_length(j);
        for (i = 0; i < n; i++) {
            if (!numbers_finite(json_object_array_get_idx(j, i))) return 0;
        }
        return 1;
    case json_type_object: {
        json_object_object_foreach(j, k, v) {
            (void)k;
            if (!numbers_finite(v)) return 0;
        }
        return 1;
    }
    default:
        return 1;
    }
}

/* Members of every object of @j. */
static size_t members_of(json_object *j)
{
    size_t i, n, m = 0;

    switch (json_object_get_type(j)) {
    case json_type_array:
        n = json_object_array_length(j);
        for (i = 0; i < n; i++) {
            m += members_of(json_object_array_get_idx(j, i));
        }
        return m;
    case json_type_object: {
        json_object_object_foreach(j, k, v) {
            (void)k;
            m += 1 + members_of(v);
        }
        return m;
    }
    default:
        return 0;
    }
}

/* Colons outside strings: in a well-formed document, one per member name written. */
static size_t colons_of(const char *s, size_t n)
{
    size_t i, c = 0;
    int in_string = 0;

    for (i = 0; i < n; i++) {
        if (in_string) {
            if (s[i] == '\\') i++;
            else if (s[i] == '"') in_string = 0;
        }
        else if (s[i] == '"') in_string = 1;
        else if (s[i] == ':') c++;
    }
    return c;
}

/* No byte of a string of the document (between quotes) is a control character. */
static int strings_without_controls(const char *s, size_t n)
{
    size_t i;
    int in_string = 0;

    for (i = 0; i < n; i++) {
        if (in_string && (unsigned char)s[i] < 0x20) return 0;
        if (in_string && s[i] == '\\') i++;
        else if (s[i] == '"') in_string = !in_string;
    }
    return 1;
}

const char fuzz_target[] = "fuzz_json";

apr_status_t fuzz_setup(apr_pool_t *root)
{
    (void)root;
    return APR_SUCCESS;
}

/* Levels of nesting, counting the outermost container as 1 (as json-c does). */
static int depth_of(json_object *j)
{
    int d = 0, c;
    size_t i, n;

    switch (json_object_get_type(j)) {
    case json_type_array:
        n = json_object_array_length(j);
        for (i = 0; i < n; i++) {
            c = depth_of(json_object_array_get_idx(j, i));
            d = c > d ? c : d;
        }
        return d + 1;
    case json_type_object: {
        json_object_object_foreach(j, k, v) {
            (void)k;
            c = depth_of(v);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    default:
        return 0;
    }
}

int fuzz_one(const uint8_t *data, size_t size, apr_pool_t *p)
{
    json_object *a = NULL, *b = NULL;
    mi_json_error_t err;
    apr_size_t len, len2, dlen;
    const char *text, *text2;
    char *doc;
    int max_depth;

    if (size < 1) {
        return -1;
    }
    max_depth = 1 + data[0] % 64;
    dlen = size - 1;
    doc = malloc(dlen > 0 ? dlen : 1);
    CHECK(doc != NULL);
    memcpy(doc, data + 1, dlen);

    if (mi_json_parse(&a, doc, dlen, max_depth, p, &err) != APR_SUCCESS) {
        CHECK(a == NULL);
        CHECK(err.reason != NULL && err.reason[0] != '\0');
        CHECK(err.offset <= dlen);
        CHECK(err.line >= 1 && err.column >= 1);
        goto done;
    }
    CHECK(a != NULL);
    CHECK(mi_utf8_valid(doc, dlen));
    CHECK(depth_of(a) <= max_depth);
    CHECK(numbers_finite(a));
    /* nothing json-c would take silently: no NUL, no raw control character in a string, no
     * member dropped for a duplicate name (every name written is a member kept) */
    CHECK(!mi_json_has_nul(a));
    CHECK(strings_without_controls(doc, dlen));
    CHECK(colons_of(doc, dlen) == members_of(a));

    text = mi_json_dump_len(a, p, &len);
    CHECK(text != NULL && strlen(text) == len);
    if (mi_json_parse(&b, text, len, max_depth, p, &err) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_json: the dump of an accepted document does not parse "
                "(%s at byte %lu): %s\n", err.reason, (unsigned long)err.offset, text);
        abort();
    }
    if (!json_object_equal(a, b)) {
        fprintf(stderr, "fuzz_json: the dump parses to a different document: %s\n", text);
        abort();
    }
    text2 = mi_json_dump_len(b, p, &len2);
    if (len2 != len || memcmp(text, text2, len) != 0) {
        fprintf(stderr, "fuzz_json: dump is not a fixed point:\n  %s\n  %s\n", text, text2);
        abort();
    }
    CHECK(mi_json_longest_string(a) == mi_json_longest_string(b));

done:
    free(doc);
    return 0;
}
