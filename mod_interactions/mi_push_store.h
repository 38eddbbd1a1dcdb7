/* mi_push_store.h — the push channel's SQL: the session backend of mi_push.h over the
 * store's pool, and the listener's statements on its own connection.
 *
 * All SQL text of the push channel is in mi_push_store.c; everything it calls is a function
 * in sql/functions/060_push.sql.  One call = one statement = one round trip.
 */
#ifndef MI_PUSH_STORE_H
#define MI_PUSH_STORE_H

#include <apr_pools.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "mi_push.h"
#include "mi_store.h"

/** The session backend of mi_push over @store's pooled connections. */
void mi_push_store_backend(mi_push_backend_t *backend, mi_store_t *store);

/* ---- the listener's dedicated connection (never a pooled one: LISTEN is session state) */

/** Prepare the listener's connection: statement timeout, then LISTEN on the doorbell. */
apr_status_t mi_push_store_listen(PGconn *conn, int statement_timeout_ms);

/** The stream's stable cut now (where a new reader starts), an xid8 as text. */
apr_status_t mi_push_store_head(PGconn *conn, apr_pool_t *p, const char **pxid);

/** Read who has news after (@xid, @seq), at most @limit rows:
 *  {"xid","seq","more","unstable","wake":[{"cc","all","logins":[..]}]}, bound to @p. */
apr_status_t mi_push_store_wakeups(PGconn *conn, const char *xid, long long seq, int limit,
                                   apr_pool_t *p, json_object **presult);

/** Ring the doorbell: wake the listeners of every process and server on this database. */
apr_status_t mi_push_store_doorbell(PGconn *conn);

/** Send @payload on the doorbell channel (its own transaction, like the doorbell). */
apr_status_t mi_push_store_notify(PGconn *conn, const char *payload);

/** The doorbell's channel name. */
#define MI_PUSH_DOORBELL "interactions_events"

#endif
