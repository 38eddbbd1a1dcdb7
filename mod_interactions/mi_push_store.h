/* mi_push_store.h — the push channel's session SQL: the session backend of mi_push.h over
 * the store's pooled connections.
 *
 * Every statement calls a function of sql/functions/060_push.sql, prepared per connection
 * (mi_store_call()).  One call = one statement = one round trip.  The listener thread's
 * statements run on its own connection and live beside its loop, in mi_push_listener.c.
 */
#ifndef MI_PUSH_STORE_H
#define MI_PUSH_STORE_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_push.h"
#include "mi_store.h"

/** The session backend of mi_push over @store's pooled connections. */
void mi_push_store_backend(mi_push_backend_t *backend, mi_store_t *store);

#endif
