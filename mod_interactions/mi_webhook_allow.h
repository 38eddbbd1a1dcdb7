/* mi_webhook_allow.h — which hosts a webhook may reach (InteractionsWebhookAllow).
 *
 * A webhook's URL is set in the database, by whoever may create webhooks there; the module
 * that POSTs to it runs inside the network, next to services that trust it.  So the hosts
 * a webhook may reach are the operator's list, empty by default, of
 *   host names        hooks.example.com        that name exactly (any case)
 *   domains           *.example.com            its subdomains (not example.com itself)
 *   addresses         192.0.2.10, ::1          that address
 *   networks          10.1.0.0/16, fd00::/8    every address in it
 * and a URL is allowed only when its host is on the list *and* the address the request
 * will go to is: a name is resolved here, every address it resolves to is checked, and the
 * request is pinned to the one chosen (curl's CURLOPT_RESOLVE), so a name that resolves to
 * one address when checked and to another when connected (DNS rebinding) reaches nothing
 * unchecked.  An address a listed name resolves to must be a public one — not loopback,
 * private, link-local, shared, multicast or reserved — unless an address or network entry
 * allows it: listing hooks.example.com does not let it point at 127.0.0.1.  The URL is
 * parsed by libcurl's own parser, the one that the request will use.
 */
#ifndef MI_WEBHOOK_ALLOW_H
#define MI_WEBHOOK_ALLOW_H

#include <apr_errno.h>
#include <apr_pools.h>

typedef struct mi_webhook_allow_t mi_webhook_allow_t;

/** An empty list (nothing allowed), in @p. */
mi_webhook_allow_t *mi_webhook_allow_create(apr_pool_t *p);

/** Add one entry (see above).  NULL, or why @entry is none of those (for the directive's
 *  error). */
const char *mi_webhook_allow_add(mi_webhook_allow_t *a, const char *entry);

/** How many entries the list has. */
int mi_webhook_allow_count(const mi_webhook_allow_t *a);

/** Where a request to an allowed URL goes. */
typedef struct {
    const char *scheme; /* http or https */
    const char *host;   /* as in the URL, without brackets */
    int port;
    const char *address; /* the checked address the request is pinned to */
    const char *resolve; /* "host:port:address" for CURLOPT_RESOLVE */
} mi_webhook_target_t;

/** May @url be requested?  APR_SUCCESS with @t filled in, or APR_EACCES with *@why saying
 *  what was refused (a malformed URL, another scheme, a host not on the list, a name that
 *  does not resolve or only to addresses not allowed).  Resolves the host (blocking). */
apr_status_t mi_webhook_allow_check(const mi_webhook_allow_t *a, const char *url,
                                    mi_webhook_target_t *t, const char **why, apr_pool_t *p);

#endif
