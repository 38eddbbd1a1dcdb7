/* mi_push_listener.h — one thread per process that follows the history stream and wakes
 * the held connects it concerns.
 *
 * It owns a dedicated PostgreSQL connection (never a pooled one: LISTEN is session state),
 * with its statements beside its loop in mi_push_listener.c, and LISTENs on the doorbell
 * channel.  It reads the stream from its own cursor, once for the whole process, and hands
 * each row to the held connects it is meant for (mi_push_waiters_offer()): their sessions'
 * cursors are written in one call per read, and they answer with the rows from memory;
 * held connects that cannot take rows from memory are woken to read the database
 * themselves.  While connects are held in
 * this process it reads when
 *   - this process poked it (mi_push_listener_poke(): a local API write committed); it then
 *     also rings the doorbell once, on its own connection and in its own transaction, so
 *     that the other processes that hold connects read too.  Pokes that arrive together
 *     ring once;
 *   - another process rang the doorbell;
 *   - rows are visible but still above the stable cut (an older transaction is running):
 *     again after a few ms, backing off;
 *   - every second (a change made by another writer, e.g. psql, rings no doorbell).
 * While none are held it only moves its cursor to the stable cut, once a second.
 * When the connection is lost it reconnects with backoff and reads on from its cursor, so
 * nothing committed meanwhile is missed.  Its fixed numbers are in mi_tunables.h.
 */
#ifndef MI_PUSH_LISTENER_H
#define MI_PUSH_LISTENER_H

#include <apr_pools.h>

#include "mi_pgpool.h"
#include "mi_push_waiters.h"

typedef struct mi_push_listener_t mi_push_listener_t;

typedef struct {
    mi_pgpool_t *pgpool;          /* its settings open the dedicated connection */
    mi_push_waiters_t *waiters;
    int statement_timeout_ms;     /* on the listener's connection; 0: a fixed bound
                                     (MI_PUSH_LISTENER_STATEMENT_TIMEOUT_MS) */
} mi_push_listener_conf_t;

typedef struct {
    apr_uint32_t reads;           /* stream reads */
    apr_uint32_t doorbells;       /* doorbells rung */
    apr_uint32_t connects;        /* connections opened */
    apr_uint32_t woken;           /* waiters woken */
    apr_uint32_t cancelled;       /* waiters cancelled by other processes' disconnects */
    apr_uint32_t connected;       /* the dedicated connection is open */
    apr_uint32_t last_read_s;     /* epoch seconds of the last successful read; 0: none yet */
    apr_uint32_t delivered;       /* held connects answered from the listener's read */
    apr_uint32_t advances;        /* calls writing their cursors (one per read that
                                     delivered) */
} mi_push_listener_stats_t;

/** Start the thread (in a child process; never in the parent).  Its resources live in a
 *  subpool of @p; call mi_push_listener_stop() before @p is destroyed. */
apr_status_t mi_push_listener_start(mi_push_listener_t **pl, const mi_push_listener_conf_t *conf,
                                    apr_pool_t *p);

/** Something committed here: read the stream now and ring the doorbell.  Cheap, never
 *  blocks, callable from any thread. */
void mi_push_listener_poke(mi_push_listener_t *l);

/** Session @client_id of @login in @cc changed here; tell every other process (queued and
 *  sent by the listener thread; never blocks):
 *    @disconnected: a connect of that session held there answers now (CometD waits for that
 *                   answer after a disconnect);
 *    otherwise:     connects of @login held there look at their sessions again (a
 *                   subscription was added). */
void mi_push_listener_announce(mi_push_listener_t *l, int disconnected, int cc, const char *login,
                               const char *client_id);

/** Stop the thread and close its connection (idempotent). */
void mi_push_listener_stop(mi_push_listener_t *l);

void mi_push_listener_stats(mi_push_listener_t *l, mi_push_listener_stats_t *st);

#endif
