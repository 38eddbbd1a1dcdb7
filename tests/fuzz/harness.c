/* harness.c — libFuzzer's entry points for every target of tests/fuzz/ (see harness.h): APR
 * and a process-wide pool once, a pool per input, and the checks the targets share. */
#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>

#include "harness.h"
#include "mi_json.h"

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    atexit(apr_terminate);
    if (apr_pool_create(&root, NULL) != APR_SUCCESS || fuzz_setup(root) != APR_SUCCESS) {
        fprintf(stderr, "%s: set-up failed\n", fuzz_target);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    int rv;

    /* a pool per input: what one input allocates never meets the next */
    if (apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    rv = fuzz_one(data, size, p);
    apr_pool_destroy(p);
    return rv;
}

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s: invariant failed at %s:%d: %s\n", fuzz_target, file, line, what);
    abort();
}

void fuzz_check_strict_json(json_object *j, apr_pool_t *p)
{
    apr_size_t len;
    const char *text = mi_json_dump_len(j, p, &len);
    json_object *back = NULL;
    mi_json_error_t jerr;

    if (mi_json_parse(&back, text, len, 1000, p, &jerr) != APR_SUCCESS) {
        fprintf(stderr, "%s: not strict JSON (%s at %lu): %s\n", fuzz_target, jerr.reason,
                (unsigned long)jerr.offset, text);
        abort();
    }
    CHECK(json_object_equal(j, back));
}
