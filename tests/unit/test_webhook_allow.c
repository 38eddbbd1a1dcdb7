/* test_webhook_allow.c — which URLs a webhook may request (InteractionsWebhookAllow): the
 * entries the directive takes, a host that is not listed, a listed name that resolves to an
 * address that is not public (DNS rebinding: the resolved address is checked, not the name),
 * addresses and networks, and what the request is pinned to. */
#include <string.h>

#include "mi_webhook_allow.h"
#include "unit.h"

static mi_webhook_allow_t *allow(const char *const *entries)
{
    mi_webhook_allow_t *a = mi_webhook_allow_create(tp);

    for (; *entries != NULL; entries++) {
        CU_ASSERT_PTR_NULL(mi_webhook_allow_add(a, *entries));
    }
    return a;
}

static const char *refused(const mi_webhook_allow_t *a, const char *url)
{
    mi_webhook_target_t t;
    const char *why = NULL;

    if (mi_webhook_allow_check(a, url, &t, &why, tp) == APR_SUCCESS) {
        return NULL;
    }
    CU_ASSERT_PTR_NOT_NULL(why);
    return why != NULL ? why : "?";
}

static void entries_are_names_domains_addresses_or_networks(void)
{
    mi_webhook_allow_t *a = mi_webhook_allow_create(tp);
    const char *good[] = { "hooks.example.com", "*.example.org", "localhost",    "127.0.0.1", "::1",
                           "10.0.0.0/8",        "fd00::/8",      "192.0.2.1/32", NULL };
    const char *bad[] = { "",
                          "http://hooks.example.com",
                          "hooks.example.com:443",
                          "*",
                          "*.",
                          "a..b",
                          "-a.example",
                          "10.0.0.0/",
                          "10.0.0.0/x",
                          "10.0.0/8x",
                          "300.1.1.1/8",
                          "hooks example",
                          "exa_mple.com",
                          NULL };
    int i;

    for (i = 0; good[i] != NULL; i++) {
        CU_ASSERT_PTR_NULL(mi_webhook_allow_add(a, good[i]));
    }
    for (i = 0; bad[i] != NULL; i++) {
        const char *err = mi_webhook_allow_add(a, bad[i]);
        CU_ASSERT_PTR_NOT_NULL(err);
    }
    CU_ASSERT_EQUAL(mi_webhook_allow_count(a), 8);
}

static void an_empty_list_allows_nothing(void)
{
    const char *none[] = { NULL };
    mi_webhook_allow_t *a = allow(none);

    CU_ASSERT_PTR_NOT_NULL(refused(a, "http://127.0.0.1:8080/hook"));
    CU_ASSERT_PTR_NOT_NULL(refused(a, "http://localhost/hook"));
}

static void listed_addresses_and_networks_are_allowed_and_pinned(void)
{
    const char *e[] = { "127.0.0.1", "::1", NULL };
    mi_webhook_allow_t *a = allow(e);
    mi_webhook_target_t t;
    const char *why = NULL;

    CU_ASSERT_EQUAL(mi_webhook_allow_check(a, "http://127.0.0.1:8080/hook?x=1", &t, &why, tp),
                    APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(t.address, "127.0.0.1");
    CU_ASSERT_EQUAL(t.port, 8080);
    CU_ASSERT_STRING_EQUAL(t.resolve, "127.0.0.1:8080:127.0.0.1");
    CU_ASSERT_EQUAL(mi_webhook_allow_check(a, "https://[::1]/hook", &t, &why, tp), APR_SUCCESS);
    CU_ASSERT_EQUAL(t.port, 443);
    CU_ASSERT_STRING_EQUAL(t.host, "::1");
    /* a name that resolves to a listed address is that address */
    CU_ASSERT_EQUAL(mi_webhook_allow_check(a, "http://localhost:9/hook", &t, &why, tp),
                    APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(t.resolve, "localhost:9:127.0.0.1");
    /* another loopback address is not listed */
    CU_ASSERT_PTR_NOT_NULL(refused(a, "http://127.0.0.2:8080/hook"));
    const char *n[] = { "127.0.0.0/8", NULL };
    CU_ASSERT_PTR_NULL(refused(allow(n), "http://127.0.0.2:8080/hook"));
}

static void a_listed_name_must_resolve_to_a_public_address(void)
{
    /* "localhost" is listed, but it resolves to 127.0.0.1, which is not public and not
     * listed: a name in the list does not open the address it happens to point at */
    const char *e[] = { "localhost", NULL };
    const char *why = refused(allow(e), "http://localhost:8080/hook");

    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "127.0.0.1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "public"));
    /* nor does a domain entry */
    const char *d[] = { "*.localdomain", "*.example.com", NULL };
    CU_ASSERT_PTR_NOT_NULL(refused(allow(d), "http://localhost/"));
    /* and a literal private address is refused though its name-like form is listed */
    const char *f[] = { "10.0.0.1.example.com", NULL };
    CU_ASSERT_PTR_NOT_NULL(refused(allow(f), "http://10.0.0.1/"));
}

static void names_and_domains_match_as_listed(void)
{
    const char *e[] = { "127.0.0.1", "Hooks.Example.COM", "*.example.org", NULL };
    mi_webhook_allow_t *a = allow(e);
    const char *why;

    /* listed but not resolvable here: refused for that reason, not for the list */
    why = refused(a, "http://hooks.example.com.invalid/");
    CU_ASSERT_PTR_NOT_NULL(why);
    why = refused(a, "http://other.example.net/");
    CU_ASSERT_PTR_NOT_NULL(why);
}

static void only_plain_http_and_https_urls(void)
{
    const char *e[] = { "127.0.0.1", NULL };
    mi_webhook_allow_t *a = allow(e);

    CU_ASSERT_PTR_NOT_NULL(refused(a, "ftp://127.0.0.1/"));
    CU_ASSERT_PTR_NOT_NULL(refused(a, "file:///etc/passwd"));
    CU_ASSERT_PTR_NOT_NULL(refused(a, "gopher://127.0.0.1/"));
    CU_ASSERT_PTR_NOT_NULL(refused(a, "http://user:pw@127.0.0.1/"));
    CU_ASSERT_PTR_NOT_NULL(refused(a, "not a url"));
    CU_ASSERT_PTR_NOT_NULL(refused(a, "http:///nohost"));
    /* the host is the one libcurl, which makes the request, reads: a URL that another
     * parser would read otherwise is checked as it will be requested */
    CU_ASSERT_PTR_NOT_NULL(refused(a, "http://169.254.169.254\\@127.0.0.1/"));
    mi_webhook_target_t t;
    const char *why = NULL;
    CU_ASSERT_EQUAL(mi_webhook_allow_check(a, "http://127.0.0.1#@169.254.169.254/", &t, &why, tp),
                    APR_SUCCESS);
    CU_ASSERT_STRING_EQUAL(t.resolve, "127.0.0.1:80:127.0.0.1");
    CU_ASSERT_PTR_NOT_NULL(refused(a, "http://169.254.169.254#@127.0.0.1/"));
}

void add_webhook_allow_suite(void)
{
    static CU_TestInfo tests[] = { UNIT_TEST(entries_are_names_domains_addresses_or_networks),
                                   UNIT_TEST(an_empty_list_allows_nothing),
                                   UNIT_TEST(listed_addresses_and_networks_are_allowed_and_pinned),
                                   UNIT_TEST(a_listed_name_must_resolve_to_a_public_address),
                                   UNIT_TEST(names_and_domains_match_as_listed),
                                   UNIT_TEST(only_plain_http_and_https_urls),
                                   CU_TEST_INFO_NULL };
    unit_add_suite("webhook_allow", tests);
}
