/* fuzz_credcache.c — libFuzzer target for the authn provider's credential cache.
 *
 * The input is what a client controls before the database is asked:
 *
 *     ADDRESS LF LOGIN ':' PASSWORD
 *
 * (no LF: no address; no ':' after it: an empty password), as mod_interactions_authn.c gets
 * them from mod_auth_basic and r->useragent_ip.  The target runs the provider's sequence on
 * a small table (every input meets earlier ones in the same buckets) and checks what must
 * hold for every input:
 *
 *   - the tags of a credential are the same every time they are computed, and another
 *     password (or the same one of another contact center) gets another verifier;
 *   - a stored credential is found for its password and never for another;
 *   - failures lock the (user, address) pair at the threshold, whatever the password, and
 *     a full check's success clears it;
 *   - nothing leaks (LeakSanitizer), nothing reads out of bounds (ASan) or hits undefined
 *     behaviour (UBSan), long logins and passwords included.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>

#include "harness.h"
#include "mi_credcache.h"

#define MAX_UA 3

static mi_credcache_t *cache;
static apr_time_t now;

const char fuzz_target[] = "fuzz_credcache";

apr_status_t fuzz_setup(apr_pool_t *root)
{
    mi_credcache_conf_t conf;
    void *mem;

    memset(&conf, 0, sizeof(conf));
    conf.entries = 16;
    conf.failure_entries = 16;
    conf.recheck = apr_time_from_sec(5);
    conf.window = apr_time_from_sec(60);
    conf.max_user_address = MAX_UA;
    conf.max_user = 0;
    conf.max_address = 0;
    mem = apr_palloc(root, mi_credcache_size(&conf));
    if (mi_credcache_create(&cache, mem, mi_credcache_size(&conf), &conf, root) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    now = apr_time_from_sec(1700000000);
    return APR_SUCCESS;
}

int fuzz_one(const uint8_t *data, size_t size, apr_pool_t *p)
{
    const char *text, *nl, *colon, *addr = NULL, *cred;
    char *login, *password, *other;
    mi_credcache_who_t w, again, wrong, elsewhere;
    apr_time_t until = 0;
    int version = 0, i;

    /* C strings, as httpd hands them over: the input ends at its first NUL */
    text = apr_pstrmemdup(p, (const char *)data, size);
    nl = strchr(text, '\n');
    cred = text;
    if (nl != NULL) {
        addr = apr_pstrmemdup(p, text, (apr_size_t)(nl - text));
        cred = nl + 1;
    }
    colon = strchr(cred, ':');
    login = colon != NULL ? apr_pstrmemdup(p, cred, (apr_size_t)(colon - cred)) : apr_pstrdup(p, cred);
    password = colon != NULL ? apr_pstrdup(p, colon + 1) : apr_pstrdup(p, "");
    other = apr_pstrcat(p, password, "x", NULL);
    /* every input starts later than the previous one's locks */
    now += apr_time_from_sec(3600);

    mi_credcache_who(cache, 1, login, password, addr, &w);
    mi_credcache_who(cache, 1, login, password, addr, &again);
    CHECK(memcmp(&w, &again, sizeof(w)) == 0);
    mi_credcache_who(cache, 1, login, other, addr, &wrong);
    CHECK(memcmp(w.user, wrong.user, sizeof(w.user)) == 0);
    CHECK(memcmp(w.verifier, wrong.verifier, sizeof(w.verifier)) != 0);
    CHECK(memcmp(w.user_address, wrong.user_address, sizeof(w.user_address)) == 0);
    mi_credcache_who(cache, 2, login, password, addr, &elsewhere);
    CHECK(memcmp(w.user, elsewhere.user, sizeof(w.user)) != 0);

    mi_credcache_store(cache, &w, 7, now);
    CHECK(mi_credcache_lookup(cache, &w, now, &version) == MI_CRED_FRESH && version == 7);
    CHECK(mi_credcache_lookup(cache, &wrong, now, &version) == MI_CRED_MISS);
    CHECK(mi_credcache_lookup(cache, &elsewhere, now, &version) == MI_CRED_MISS);
    CHECK(mi_credcache_lookup(cache, &w, now + apr_time_from_sec(5), &version) == MI_CRED_RECHECK);

    for (i = 1; i <= MAX_UA; i++) {
        mi_lock_e got = mi_credcache_failed(cache, &wrong, now, &until);
        CHECK(got == (i == MAX_UA ? MI_LOCK_USER_ADDRESS : MI_LOCK_NONE));
    }
    CHECK(mi_credcache_locked(cache, &w, now, &until, NULL) == MI_LOCK_USER_ADDRESS);
    CHECK(until == now + apr_time_from_sec(60));
    mi_credcache_succeeded(cache, &w, now, 1);
    CHECK(mi_credcache_locked(cache, &w, now, &until, NULL) == MI_LOCK_NONE);
    mi_credcache_forget(cache, &w);
    CHECK(mi_credcache_lookup(cache, &w, now, &version) == MI_CRED_MISS);

    return 0;
}
