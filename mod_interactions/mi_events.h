/* mi_events.h — GET /events, the event feed for integrations (CONTRACT 8.5): one read of the
 * contact center's history after a cursor, and when there is nothing yet and the client asked
 * to wait, a hold until news commits.
 *
 * A held feed request pins a worker thread exactly like a held push connect, so it is one:
 * it registers in the process's waiter registry (mi_push_waiters.h) for its user and contact
 * center, and counts against the same shares (InteractionsPushMaxWaiters,
 * InteractionsPushHeldPerUser, InteractionsPushHeldPerContactCenter); when a share is used up
 * the request is answered at once, with "retryAfterMs".  It is woken by the listener when the
 * contact center's stream has news, and looks again every MI_PUSH_RECHECK_MS of its own
 * accord (a change without a push notification wakes nobody).  Every look is a whole call of
 * interactions.api(): the caller's roles are read again each time.
 */
#ifndef MI_EVENTS_H
#define MI_EVENTS_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_push_waiters.h"
#include "mi_store.h"

typedef struct {
    mi_store_t *store;
    mi_push_waiters_t *waiters; /* NULL: never held */
    int cc;
    const char *login;
    json_object *args; /* validated: after, limit, wait (seconds), _maxBytes */
    int max_depth;     /* the nesting the location allows (snapshots hold user data) */
} mi_events_req_t;

/** Answer a GET /events: *pres is the store's result (bound to @p), events or a refusal;
 *  after a hold the share would not allow, it carries "retryAfterMs".  Returns the store's
 *  status (MI_STORE_UNAVAILABLE, MI_STORE_FAILED) when it could not be asked. */
apr_status_t mi_events_get(const mi_events_req_t *q, apr_pool_t *p, json_object **pres);

#endif
