/* mi_webhook.h — the webhook delivery worker (CONTRACT 8.5).
 *
 * Every child process runs this thread; one of the processes of a server is the server's
 * worker, elected through a PostgreSQL advisory lock keyed by the server (like the
 * maintenance tick, which one process at a time runs): the elected thread holds the lock on
 * a connection of its own for as long as it works, the others look every
 * MI_WEBHOOK_ELECT_MS whether it is free (it is when that process or its connection died)
 * and one of them takes over.  The worker's round:
 *
 *   claim    interactions.webhook_claim(): new deliveries from the history stream, and up to
 *            MI_WEBHOOK_CLAIM deliveries due, each leased, with its body and signature
 *   post     each to its URL at once (libcurl's multi interface), if InteractionsWebhookAllow
 *            allows it (mi_webhook_allow.h: the resolved address is checked and the request
 *            pinned to it); no redirect is followed, no proxy used, http and https only
 *   result   interactions.webhook_result() for each: delivered (2xx), tried again later
 *            (backoff), or dead after InteractionsWebhookAttempts attempts (logged)
 *
 * What a server's worker delivers is safe with other servers' workers at work too: leases
 * keep a delivery with one worker at a time, and a webhook has one delivery pending at a
 * time, so its events go out in order.  A worker that stops mid-request leaves its
 * deliveries leased; they are tried again when the lease ends (at least once).  The
 * statements are in mi_webhook.c, beside the loop; the fixed numbers in mi_tunables.h.
 */
#ifndef MI_WEBHOOK_H
#define MI_WEBHOOK_H

#include <apr_pools.h>

#include "mi_store.h"
#include "mi_webhook_allow.h"

typedef struct mi_webhook_t mi_webhook_t;

typedef struct {
    mi_store_t *store; /* the election's look-up; its pool opens the worker's connection */
    const mi_webhook_allow_t *allow; /* the hosts deliveries may reach */
    int server_key;                  /* this httpd server: one worker per key */
    int attempts;                    /* InteractionsWebhookAttempts */
    int timeout_ms;                  /* InteractionsWebhookTimeout, per request */
} mi_webhook_conf_t;

/** libcurl's global set-up: once per process, before any thread that uses it starts; a
 *  cleanup of @p undoes it (register the worker's thread on @p or a subpool after this). */
apr_status_t mi_webhook_global_init(apr_pool_t *p);

/** Start the thread (in a child process).  A pre-cleanup of @p stops it and waits for it;
 *  the store must outlive it.  Logs nothing: a failure is the caller's to report. */
apr_status_t mi_webhook_create(mi_webhook_t **pw, const mi_webhook_conf_t *conf, apr_pool_t *p);

/** Let the thread end soon (a graceful stop); callable from any thread, does not wait. */
void mi_webhook_shutdown(mi_webhook_t *w);

/** Is this process its server's worker now? */
int mi_webhook_is_worker(mi_webhook_t *w);

#endif
