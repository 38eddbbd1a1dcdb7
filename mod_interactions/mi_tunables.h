/* mi_tunables.h — the fixed numbers of the background machinery: the push channel (the
 * Bayeux server, its message cache, the listener thread, the room a child keeps for other
 * requests), the maintenance thread and the webhook worker.
 *
 * Each is a choice no deployment has needed to change; what an operator may change is a
 * directive (mod_interactions_directives.h), and where a directive's default is one of the
 * numbers below, the directive table names the constant instead of repeating it.  Keep the
 * values plain literals: the table turns them into the "(default N)" of its help strings.
 * Times are in milliseconds unless the name says otherwise.
 */
#ifndef MI_TUNABLES_H
#define MI_TUNABLES_H

/* ------------------------------------------------------------------ the Bayeux server */

/* Messages in one Bayeux request; more is refused with 400 (CometD batches a handful). */
#define MI_PUSH_MAX_MESSAGES 100

/* Channels one (un)subscribe message may name. */
#define MI_PUSH_MAX_SUBSCRIPTIONS 32

/* Events in one connect reply; the client reconnects at once for the rest. */
#define MI_PUSH_BATCH_LIMIT 200

/* A held connect looks at its session of its own accord this often: wake-ups travel
 * through NOTIFY, which PostgreSQL does not keep, so a lost one costs seconds, not the rest
 * of the hold (one SQL call per held connect per period). */
#define MI_PUSH_RECHECK_MS 8000

/* Below this much hold left, a wake-up is answered rather than waited out again. */
#define MI_PUSH_MIN_HOLD_MS 20

/* A push WebSocket connection waiting for its client's next message, with no connect held,
 * looks this often whether its process is stopping (a held connect is told at once). */
#define MI_PUSH_WS_SLICE_MS 1000

/* advice.interval of a connect answered at once instead of held:
 *   a browser holding its InteractionsPushSessionsPerBrowser connects (CometD's own
 *   multiSessionInterval), */
#define MI_PUSH_MULTI_INTERVAL_MS 2000
/*   this child holding its most connects (InteractionsPushMaxWaiters), */
#define MI_PUSH_BUSY_INTERVAL_MS 1500
/*   the user or contact center holding its share of them (below InteractionsPushMaxInterval's
 *   10 s minimum use, so the session never expires meanwhile). */
#define MI_PUSH_SHARE_INTERVAL_MS 2000

/* ------------------------------------------------------------------ threads of a child */

/* Worker threads a child keeps for requests that are not held connects: at least
 * MI_PUSH_RESERVE_MIN, or 1/MI_PUSH_RESERVE_SHARE of its threads when that is more
 * (InteractionsPushMaxWaiters is lowered to the rest at start). */
#define MI_PUSH_RESERVE_MIN 8
#define MI_PUSH_RESERVE_SHARE 32

/* ------------------------------------------------------------------ the message cache */

/* Rows of /v2/interactions kept rendered per child: the default of InteractionsPushCacheRows,
 * and what the Bayeux server uses when given 0. */
#define MI_PUSH_CACHE_ROWS 4096

/* Bytes those rows and their messages may take per child (16 MiB): the default of
 * InteractionsPushCacheSize, and what the cache uses when given 0. */
#define MI_PUSH_CACHE_BYTES 16777216

/* Messages kept per row: one per relation of a recipient to the interaction (16 at most)
 * and location base; more means bases nobody configured. */
#define MI_PUSH_CACHE_MAX_VARIANTS 16

/* What a row and a rendered message cost besides their text (structs, hash slot, malloc's
 * headers), in bytes: counted so that the byte bound holds for many small entries too. */
#define MI_PUSH_CACHE_ENTRY_OVERHEAD 160
#define MI_PUSH_CACHE_VARIANT_OVERHEAD 64

/* ------------------------------------------------------------------ the store's results */

/* JSON nesting allowed when parsing what a push SQL function returns.  Snapshots nest the
 * user data as deep as the location that wrote it allowed (32 by default), four levels
 * down; json-c allocates and clears a parse stack of the allowed depth for every document,
 * so the common case gets MI_PUSH_RESULT_DEPTH and only a document that needs more is
 * parsed again with MI_PUSH_RESULT_DEPTH_LARGE (also the depth a cached snapshot is parsed
 * with again). */
#define MI_PUSH_RESULT_DEPTH 64
#define MI_PUSH_RESULT_DEPTH_LARGE 1000

/* ------------------------------------------------------------------ the listener thread */

/* Read the history stream this often while connects are held here (a change made by
 * another writer, e.g. psql, rings no doorbell), and look at the waiter count at least this
 * often while none are. */
#define MI_PUSH_LISTENER_FALLBACK_MS 1000

/* Nobody waits here: move the cursor to the stable cut this often, so that the first held
 * connect does not begin with a backlog. */
#define MI_PUSH_LISTENER_IDLE_MS 1000

/* Rows are visible but above the stable cut (an older transaction still runs): read again
 * after this long, doubling up to the maximum. */
#define MI_PUSH_LISTENER_RECHECK_MIN_MS 5
#define MI_PUSH_LISTENER_RECHECK_MAX_MS 1000

/* The connection was lost: connect again after this long, doubling up to the maximum. */
#define MI_PUSH_LISTENER_BACKOFF_MIN_MS 100
#define MI_PUSH_LISTENER_BACKOFF_MAX_MS 5000

/* History rows per read of the stream, and reads in a row before the listener looks at its
 * other duties again. */
#define MI_PUSH_LISTENER_READ_LIMIT 1000
#define MI_PUSH_LISTENER_READ_PAGES 100

/* Session announcements (disconnects, subscriptions) queued for the other processes; more
 * are dropped, and held connects then find out at their next re-check. */
#define MI_PUSH_LISTENER_MAX_ANNOUNCE 1000

/* A "hold" heard from another process counts for this many fallback periods: it rings the
 * doorbell for its writes that long.  Also how long a new connection assumes that others
 * hold connects, before it could have heard them. */
#define MI_PUSH_LISTENER_HOLD_HEARD 3

/* statement_timeout of the listener's connection when InteractionsStatementTimeout is 0
 * (the server's): a read of the stream must never hang the listener. */
#define MI_PUSH_LISTENER_STATEMENT_TIMEOUT_MS 5000

/* ------------------------------------------------------------------ the maintenance thread */

/* Expired offers, and Ready agents with waiting work, handled per maintenance run (each a
 * LIMIT of interactions.maintenance()); more wait for the next run. */
#define MI_MAINT_BATCH 200

/* Each child waits up to this much longer than InteractionsMaintenanceInterval between
 * runs, so that the children of one server do not tick in step. */
#define MI_MAINT_JITTER_MS 50

/* Stack of the maintenance thread in bytes: it only calls one SQL function. */
#define MI_MAINT_STACK_SIZE 262144

/* Distinct databases (InteractionsDatabase) one httpd serves: each costs every child a pool, a
 * listener and a maintenance thread, and the statistics keep a fixed slot per database in
 * shared memory.  More is refused at start. */
#define MI_MAX_DATABASES 16
/* ------------------------------------------------------------------ the webhook worker */

/* A process that is not its server's webhook worker looks this often whether the worker's
 * advisory lock is free (one pooled query), and takes over when it is. */
#define MI_WEBHOOK_ELECT_MS 2000

/* The worker asks for work again after this long when there was none; after a round with
 * deliveries it asks again at once. */
#define MI_WEBHOOK_POLL_MS 250

/* Deliveries claimed per round, all POSTed at once (a slow receiver holds up one of
 * them, not the others). */
#define MI_WEBHOOK_CLAIM 16

/* History rows read into one delivery at most (events of one POST). */
#define MI_WEBHOOK_BATCH 100

/* After a failed attempt the next waits this long, doubling per attempt up to the
 * maximum: with InteractionsWebhookAttempts' default of 10, a delivery is tried for about
 * 17 minutes before it is dead. */
#define MI_WEBHOOK_BACKOFF_MS 1000
#define MI_WEBHOOK_BACKOFF_MAX_MS 600000

/* Defaults of InteractionsWebhookAttempts and InteractionsWebhookTimeout. */
#define MI_WEBHOOK_ATTEMPTS 10
#define MI_WEBHOOK_TIMEOUT_MS 10000

/* A claimed delivery is tried again this long after its request's timeout should the
 * worker vanish meanwhile (its lease). */
#define MI_WEBHOOK_LEASE_MARGIN_MS 5000

/* statement_timeout of the worker's connection. */
#define MI_WEBHOOK_STATEMENT_TIMEOUT_MS 30000

/* Stack of the worker thread in bytes: libcurl, OpenSSL and the resolver run on it. */
#define MI_WEBHOOK_STACK_SIZE 1048576

#endif
