/* harness.h — what every libFuzzer target of tests/fuzz/ shares: libFuzzer's entry points
 * (harness.c defines them), the invariant check and the strict-JSON check.
 *
 * A target (fuzz_NAME.c, linked with harness.c by run.sh) defines:
 *
 *   const char fuzz_target[]   its name, which starts every message it prints;
 *   fuzz_setup(root)           once, before the first input, with the process's pool
 *                              (APR is initialized);
 *   fuzz_one(data, size, p)    one input, with a pool of its own that is destroyed after it;
 *                              returns 0, or -1 for an input the target does not take (libFuzzer
 *                              keeps it out of the corpus).
 */
#ifndef MI_FUZZ_HARNESS_H
#define MI_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>

#include "mi_json.h"

extern const char fuzz_target[];
apr_status_t fuzz_setup(apr_pool_t *root);
int fuzz_one(const uint8_t *data, size_t size, apr_pool_t *p);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant did not hold: says which, where, and aborts (libFuzzer keeps the input). */
__attribute__((noreturn)) void fuzz_fail(const char *file, int line, const char *what);

#define CHECK(cond)                                          \
    do {                                                     \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond);   \
    } while (0)

/* What a client gets is strict JSON: @j's dump parses back with mi_json_parse (which refuses
 * what json-c alone would take) to a document equal to @j; else the dump is printed and the
 * run aborts. */
void fuzz_check_strict_json(json_object *j, apr_pool_t *p);

#endif
