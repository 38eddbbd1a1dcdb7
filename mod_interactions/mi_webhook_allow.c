/* mi_webhook_allow.c — see mi_webhook_allow.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "mi_webhook_allow.h"

struct mi_webhook_allow_t {
    apr_pool_t *pool;
    apr_array_header_t *names; /* const char *: "host" exact, ".domain" for *.domain */
    apr_array_header_t *nets;  /* apr_ipsubnet_t * */
};

mi_webhook_allow_t *mi_webhook_allow_create(apr_pool_t *p)
{
    mi_webhook_allow_t *a = apr_pcalloc(p, sizeof(*a));

    a->pool = p;
    a->names = apr_array_make(p, 4, sizeof(const char *));
    a->nets = apr_array_make(p, 4, sizeof(apr_ipsubnet_t *));
    return a;
}

int mi_webhook_allow_count(const mi_webhook_allow_t *a)
{
    return a->names->nelts + a->nets->nelts;
}

/* An IPv4 or IPv6 address in text? */
static int is_address(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A DNS name: labels of letters, digits and hyphens, 1 to 63 each, 253 in all. */
static int is_hostname(const char *s)
{
    size_t len = strlen(s), label = 0;
    const char *c;

    if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.' || s[0] == '-') {
        return 0;
    }
    for (c = s; *c; c++) {
        if (*c == '.') {
            if (label == 0 || c[-1] == '-') {
                return 0;
            }
            label = 0;
        }
        else if (apr_isalnum(*c) || (*c == '-' && label > 0)) {
            if (++label > 63) {
                return 0;
            }
        }
        else {
            return 0;
        }
    }
    return 1;
}

const char *mi_webhook_allow_add(mi_webhook_allow_t *a, const char *entry)
{
    const char *slash = strchr(entry, '/');
    apr_ipsubnet_t *net;
    char *name;

    if (slash != NULL || is_address(entry)) {
        char *ip = slash != NULL ? apr_pstrmemdup(a->pool, entry, (apr_size_t)(slash - entry))
                                 : apr_pstrdup(a->pool, entry);
        const char *bits = slash != NULL ? slash + 1 : NULL;

        if (!is_address(ip)
            || (bits != NULL && (*bits == '\0' || strspn(bits, "0123456789") != strlen(bits)))
            || apr_ipsubnet_create(&net, ip, bits, a->pool) != APR_SUCCESS) {
            return apr_psprintf(a->pool, "'%s' is not an address or a network (address/bits)",
                                entry);
        }
        APR_ARRAY_PUSH(a->nets, apr_ipsubnet_t *) = net;
        return NULL;
    }
    if (strncmp(entry, "*.", 2) == 0 && is_hostname(entry + 2)) {
        name = apr_pstrdup(a->pool, entry + 1); /* ".example.com" */
    }
    else if (is_hostname(entry)) {
        name = apr_pstrdup(a->pool, entry);
    }
    else {
        return apr_psprintf(a->pool, "'%s' is not a host name, *.domain, address or network",
                            entry);
    }
    for (char *c = name; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    APR_ARRAY_PUSH(a->names, const char *) = name;
    return NULL;
}

static int name_listed(const mi_webhook_allow_t *a, const char *host)
{
    size_t hl = strlen(host);
    int i;

    for (i = 0; i < a->names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(a->names, i, const char *);
        size_t nl = strlen(n);

        if (n[0] == '.' ? (hl > nl && strcasecmp(host + hl - nl, n) == 0)
                        : strcasecmp(host, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int address_listed(const mi_webhook_allow_t *a, apr_sockaddr_t *sa)
{
    int i;

    for (i = 0; i < a->nets->nelts; i++) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(a->nets, i, apr_ipsubnet_t *), sa)) {
            return 1;
        }
    }
    return 0;
}

/* Is the IPv4 address @b (network order) one that the public internet routes? */
static int public_v4(const unsigned char *b)
{
    return !(b[0] == 0 || b[0] == 10 || b[0] == 127
             || b[0] >= 224 /* this, private, loopback, multicast, reserved */
             || (b[0] == 100 && (b[1] & 0xc0) == 64) /* shared (CGNAT) 100.64/10 */
             || (b[0] == 169 && b[1] == 254)         /* link-local */
             || (b[0] == 172 && (b[1] & 0xf0) == 16) /* private 172.16/12 */
             || (b[0] == 192 && b[1] == 168)         /* private */
             || (b[0] == 192 && b[1] == 0
                 && (b[2] == 0 || b[2] == 2))              /* protocol assignments, documentation */
             || (b[0] == 198 && (b[1] & 0xfe) == 18)       /* benchmarking 198.18/15 */
             || (b[0] == 198 && b[1] == 51 && b[2] == 100) /* documentation */
             || (b[0] == 203 && b[1] == 0 && b[2] == 113)); /* documentation */
}

static int public_address(const apr_sockaddr_t *sa)
{
    if (sa->family == AF_INET) {
        return public_v4((const unsigned char *)&sa->sa.sin.sin_addr);
    }
#if APR_HAVE_IPV6
    if (sa->family == AF_INET6) {
        const unsigned char *b = (const unsigned char *)&sa->sa.sin6.sin6_addr;
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
        static const unsigned char zero[15] = { 0 };

        if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) {
            return public_v4(b + 12); /* an IPv4 address in disguise */
        }
        return !(
            memcmp(b, zero, 15) == 0                   /* :: and ::1 */
            || (b[0] & 0xfe) == 0xfc                   /* unique local fc00::/7 */
            || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* link-local fe80::/10 */
            || b[0] == 0xff                            /* multicast */
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* documentation */
            || (b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0));        /* discard 100::/64 */
    }
#endif
    return 0;
}

/* A part of a parsed URL, copied into @p (NULL when absent). */
static const char *url_part(CURLU *u, CURLUPart what, unsigned int flags, apr_pool_t *p)
{
    char *v = NULL;
    const char *copy = NULL;

    if (curl_url_get(u, what, &v, flags) == CURLUE_OK && v != NULL) {
        copy = apr_pstrdup(p, v);
    }
    curl_free(v);
    return copy;
}

apr_status_t mi_webhook_allow_check(const mi_webhook_allow_t *a, const char *url,
                                    mi_webhook_target_t *t, const char **why, apr_pool_t *p)
{
    CURLU *u = curl_url();
    const char *port = NULL, *host = NULL;
    apr_sockaddr_t *sa = NULL, *each;
    apr_status_t rv = APR_EACCES;
    int literal, listed_name;
    char *ip;

    memset(t, 0, sizeof(*t));
    *why = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        *why = "the URL cannot be parsed";
        goto leave;
    }
    t->scheme = url_part(u, CURLUPART_SCHEME, 0, p);
    host = url_part(u, CURLUPART_HOST, 0, p);
    port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, p);
    if (t->scheme == NULL || (strcmp(t->scheme, "http") != 0 && strcmp(t->scheme, "https") != 0)) {
        *why = "only http and https URLs are requested";
        goto leave;
    }
    if (url_part(u, CURLUPART_USER, 0, p) != NULL
        || url_part(u, CURLUPART_PASSWORD, 0, p) != NULL) {
        *why = "a URL with credentials is not requested";
        goto leave;
    }
    if (host == NULL || *host == '\0' || port == NULL) {
        *why = "the URL has no host";
        goto leave;
    }
    t->port = atoi(port);
    if (host[0] == '[') { /* an IPv6 literal */
        host = apr_pstrndup(p, host + 1, strlen(host) - 2);
    }
    t->host = host;
    literal = is_address(host);
    listed_name = !literal && name_listed(a, host);
    if (apr_sockaddr_info_get(&sa, host, APR_UNSPEC, (apr_port_t)t->port, 0, p) != APR_SUCCESS
        || sa == NULL) {
        *why = apr_psprintf(p, "host %s does not resolve", host);
        goto leave;
    }
    /* the first address that is allowed: listed, or public and reached through a listed name */
    for (each = sa; each != NULL; each = each->next) {
        if (address_listed(a, each) || (listed_name && public_address(each))) {
            break;
        }
    }
    if (each == NULL) {
        const char *seen = "";

        for (; sa != NULL; sa = sa->next) {
            apr_sockaddr_ip_get(&ip, sa);
            seen = apr_pstrcat(p, seen, *seen ? ", " : "", ip, NULL);
        }
        if (literal || !listed_name) {
            *why = apr_psprintf(p, "host %s (%s) is not allowed by InteractionsWebhookAllow", host,
                                seen);
        }
        else {
            *why = apr_psprintf(p,
                                "host %s resolves to %s, which InteractionsWebhookAllow does not "
                                "allow (a listed name must resolve to a public address, or the "
                                "address must be listed)",
                                host, seen);
        }
        goto leave;
    }
    apr_sockaddr_ip_get(&ip, each);
    t->address = ip;
    t->resolve = apr_psprintf(p, each->family == AF_INET ? "%s:%d:%s" : "%s:%d:[%s]", host, t->port,
                              ip);
    rv = APR_SUCCESS;

leave:
    curl_url_cleanup(u);
    return rv;
}
