/* mi_push_waiters.h — the held /meta/connect requests of one process, and how they are woken.
 *
 * httpd 2.4 cannot park a request without its thread (see docs/push.md), so a held connect
 * is a worker thread blocked on its own condition variable.  While it waits it holds no
 * database connection: it is only an entry here, keyed by (contact center, login) and, for
 * sessions subscribed to /v2/interactions, listed under its contact center.  The listener
 * thread wakes entries when the history stream has news for them; the waiting thread then
 * reads its session's events from the database itself.
 *
 * Every waiter is in exactly one state, changed only under the registry's mutex
 * (PgBouncer-style explicit states):
 *
 *     WAITING --notify--> NOTIFIED --mi_push_waiter_wait() returns it--> WAITING (re-armed)
 *     WAITING --deadline--> TIMED_OUT
 *     any     --cancel---> CANCELLED (superseded by a newer connect of the same session,
 *                                      disconnected, or the process is stopping)
 *
 * A notification that arrives while the thread is busy (e.g. reading the database) stays as
 * NOTIFIED, so the next wait returns at once: register first, then check the database, then
 * wait, and no wake-up is ever lost.
 */
#ifndef MI_PUSH_WAITERS_H
#define MI_PUSH_WAITERS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef struct mi_push_waiters_t mi_push_waiters_t;
typedef struct mi_push_waiter_t mi_push_waiter_t;

typedef enum {
    MI_PUSH_WAITER_WAITING = 1,
    MI_PUSH_WAITER_NOTIFIED,
    MI_PUSH_WAITER_TIMED_OUT,
    MI_PUSH_WAITER_CANCELLED,
    MI_PUSH_WAITER_DELIVER /* rows handed over from memory: mi_push_waiter_take() */
} mi_push_waiter_state_e;

typedef enum {
    MI_PUSH_WAITER_NO_REASON = 0,
    MI_PUSH_WAITER_SUPERSEDED,     /* a newer connect of the same session registered */
    MI_PUSH_WAITER_DISCONNECTED,   /* the session was disconnected */
    MI_PUSH_WAITER_STOPPING        /* the process is stopping: answer now */
} mi_push_waiter_reason_e;

/* ------------------------------------------------------------------ delivery from memory
 *
 * The listener reads each history row once (push_stream) and hands it to every waiter of
 * the process that push_connect would give it to, instead of waking them all to read the
 * database themselves.  A waiter takes part once its thread has told where its session
 * stands in the stream (mi_push_waiter_track(), after push_connect held it): the rows after
 * that position are then exactly the rows the listener reads from there on, so none can be
 * missed or given twice.  Rows it cannot judge alone (WorkbinContent: rendered per recipient
 * in the database) send it back to the database, like every waiter not tracked.
 *
 *   tracked WAITING --rows for it--> PENDING (its cursor is being written, in one call for
 *                                    every session the read reached: push_advance)
 *   PENDING --written--> DELIVER (mi_push_waiter_wait() returns it; mi_push_waiter_take())
 *   PENDING --not written (superseded, gone, no database)--> NOTIFIED, untracked
 *
 * A PENDING waiter is answered whatever else happens meanwhile (its cursor has moved): its
 * wait outlasts the deadline and a cancellation until the write's outcome is known. */

/** A history row as the listener read it, shared by the waiters it is handed to: immutable
 *  once made; the last mi_push_row_release() frees it (from any thread). */
typedef struct mi_push_row_t {
    volatile apr_uint32_t refs;
    int cc;
    apr_uint64_t xid;
    long long seq;
    int all;                /* StatusChange or PropertiesUpdated: /v2/interactions too */
    int chstate;            /* ChannelState: /v2/me/channels (audience), /v2/agents */
    int from_memory;        /* may be delivered from here (not WorkbinContent) */
    long long reference_id; /* -1: none */
    const char *notification;
    int n_audience, n_revoked;
    const char **audience; /* logins told on /v2/me/interactions */
    const char **revoked;  /* logins told it is no longer theirs */
    const char *snapshot;  /* JSON text */
} mi_push_row_t;

void mi_push_row_release(mi_push_row_t *row);

/** Where a held connect's session stands, from its push_connect. */
typedef struct {
    apr_uint64_t xid; /* its cursor */
    long long seq;
    unsigned channels; /* MI_PUSH_ME | MI_PUSH_ALL (mi_push_bayeux.h) */
    int ack;           /* the ack extension */
    long long gen;     /* the hold generation of this connect */
    long long max_interval_ms;
    int limit; /* most rows in one reply */
} mi_push_waiter_track_t;

/** What a waiter is handed (DELIVER). */
typedef struct {
    mi_push_row_t **rows; /* in stream order; the caller releases each */
    unsigned char *how;   /* per row: MI_PUSH_ME, _ALL, _MYCH and/or _AGENTS */
    int n;
    long long batch; /* the seq of the last row (the ack extension's batch id) */
    int agent, supervisor, admin, apiuser; /* the user's roles when the cursor was written */
} mi_push_waiter_delivery_t;

/** A cursor the listener must write before the rows go out (push_advance). */
typedef struct {
    mi_push_waiter_t *w;
    int cc;
    const char *client_id;
    long long gen;
    apr_uint64_t xid; /* the position the rows reach */
    long long seq;
    long long batch;
    long long max_interval_ms;
} mi_push_advance_t;

/** A registry for at most @max waiters (0: none may wait). */
apr_status_t mi_push_waiters_create(mi_push_waiters_t **preg, int max, apr_pool_t *p);

/* What mi_push_waiter_register() returns when a share is used up (see mi_push_waiters_limit()). */
#define MI_PUSH_WAITERS_USER_FULL (APR_OS_START_USERERR + 410)   /* the user's share */
#define MI_PUSH_WAITERS_CC_FULL   (APR_OS_START_USERERR + 411)   /* the contact center's share */

/** Besides the registry's @max: at most @per_user waiters of one user (a login of a contact
 *  center) and @per_cc of one contact center; 0 leaves that share unlimited.  A held connect
 *  pins a worker thread, so these keep one user, or one tenant, from taking every thread of
 *  the process.  Call before the registry is used. */
void mi_push_waiters_limit(mi_push_waiters_t *reg, int per_user, int per_cc);

/** Register a waiter for session @client_id of @login in contact center @cc, allocated in
 *  @p (a pool cleanup unregisters it at the latest when @p goes).  It starts WAITING and
 *  interested in the contact center's /v2/interactions news until mi_push_waiter_narrow() says
 *  otherwise.  A waiter of the same session is cancelled (SUPERSEDED); it does not count
 *  against the shares, since the new one replaces it.
 *  APR_EBUSY: the registry is full; MI_PUSH_WAITERS_USER_FULL, MI_PUSH_WAITERS_CC_FULL: the user or
 *  the contact center holds its share (nothing was cancelled then); APR_EOF: the process is
 *  stopping; APR_EINVAL: @login is too long. */
apr_status_t mi_push_waiter_register(mi_push_waiters_t *reg, int cc, const char *login,
                                     const char *client_id, apr_pool_t *p, mi_push_waiter_t **pw);

/** Say whether the waiter's session wants the contact center's /v2/interactions news.
 *  Widening also marks the waiter NOTIFIED: news of the contact center that committed while
 *  it was not listed is looked for once more. */
void mi_push_waiter_narrow(mi_push_waiters_t *reg, mi_push_waiter_t *w, int all);

/** Block until the waiter is notified or cancelled, or @deadline passes.  Returns the state;
 *  NOTIFIED is consumed (the waiter is WAITING again), CANCELLED is final, TIMED_OUT is
 *  final unless mi_push_waiter_rearm() makes the waiter wait again. */
mi_push_waiter_state_e mi_push_waiter_wait(mi_push_waiters_t *reg, mi_push_waiter_t *w,
                                           apr_time_t deadline);

/** Why a CANCELLED waiter was cancelled. */
mi_push_waiter_reason_e mi_push_waiter_reason(mi_push_waiters_t *reg, mi_push_waiter_t *w);

/** After a TIMED_OUT that was only a pause (the caller looks at its session and waits on),
 *  make @w WAITING again.  Not when it was cancelled meanwhile or the registry is shut
 *  down.  Returns whether it waits again.  A wake-up that came between the timeout and
 *  this call is not kept: the caller looks anyway. */
int mi_push_waiter_rearm(mi_push_waiters_t *reg, mi_push_waiter_t *w);

/** The waiter's session stands at @t (its thread holds the connect from there): the
 *  listener hands it the rows that follow.  Returns 0 (nothing changes) when the waiter was
 *  notified or cancelled since it registered: its thread reads the database again first. */
int mi_push_waiter_track(mi_push_waiters_t *reg, mi_push_waiter_t *w,
                         const mi_push_waiter_track_t *t);

/** After DELIVER: hand the rows over (*pd, allocated in @p; the caller releases the rows)
 *  and stop tracking. */
void mi_push_waiter_take(mi_push_waiters_t *reg, mi_push_waiter_t *w, apr_pool_t *p,
                         mi_push_waiter_delivery_t *pd);

/** The listener read @rows[0..n) (in stream order), which bring the stream to (@xid, @seq):
 *  hand them to the tracked waiters, wake the others they concern (as
 *  mi_push_waiters_notify()).  Waiters handed rows become PENDING and are listed in @out
 *  (of mi_push_advance_t, allocated in its pool).  Returns how many were woken. */
int mi_push_waiters_offer(mi_push_waiters_t *reg, mi_push_row_t *const *rows, int n,
                          apr_uint64_t xid, long long seq, apr_array_header_t *out);

/** The outcome of a PENDING waiter's cursor write: @ok with the user's roles then
 *  (MI_PUSH_ROLE_* bits), or not written (it reads the database again). */
#define MI_PUSH_ROLE_AGENT      1u
#define MI_PUSH_ROLE_SUPERVISOR 2u
#define MI_PUSH_ROLE_ADMIN      4u
#define MI_PUSH_ROLE_APIUSER    8u
void mi_push_waiter_advanced(mi_push_waiters_t *reg, mi_push_waiter_t *w, int ok, unsigned roles);

/** Remove the waiter (idempotent; waits for a PENDING cursor write to end). */
void mi_push_waiter_unregister(mi_push_waiters_t *reg, mi_push_waiter_t *w);

/** Wake the waiters of @logins[0..n) in contact center @cc and, when @all, every waiter
 *  of @cc interested in /v2/interactions.  Returns how many were woken. */
int mi_push_waiters_notify(mi_push_waiters_t *reg, int cc, const char *const *logins, int n, int all);

/** Wake every waiter (e.g. when news may have been missed). */
int mi_push_waiters_notify_everyone(mi_push_waiters_t *reg);

/** Cancel the waiters of session @client_id of @login in @cc with @reason; returns how many. */
int mi_push_waiters_cancel_client(mi_push_waiters_t *reg, int cc, const char *login,
                                  const char *client_id, mi_push_waiter_reason_e reason);

/** Refuse new waiters and cancel every waiter (STOPPING); returns how many. */
int mi_push_waiters_shutdown(mi_push_waiters_t *reg);

/** How many waiters are registered now. */
int mi_push_waiters_count(mi_push_waiters_t *reg);

/** How many waiters of @login in @cc (@login NULL: of the whole contact center) are
 *  registered now. */
int mi_push_waiters_count_of(mi_push_waiters_t *reg, int cc, const char *login);

/* ------------------------------------------------------------------ WebSocket connections
 *
 * A WebSocket connection keeps its worker thread for as long as it is open, held connect
 * or not, so the registry counts the connection, not its connects: mi_push_waiters_hold()
 * takes a thread of the process's, the user's and the contact center's shares (refused as
 * mi_push_waiter_register() would be), and the connection's connects register with
 * mi_push_waiter_register_held(), which counts nothing and is never refused for a share.
 * The thread waits on its client's frames and its waiter at once: mi_push_waiter_on_wake()
 * has every change of the waiter's state call a function too (it wakes the thread's poll),
 * and mi_push_waiter_due() says whether mi_push_waiter_wait() would return at once. */

/** Take a thread for a WebSocket connection of @login in @cc: APR_SUCCESS, or APR_EBUSY,
 *  MI_PUSH_WAITERS_USER_FULL, MI_PUSH_WAITERS_CC_FULL, APR_EOF, APR_EINVAL as
 *  mi_push_waiter_register(). */
apr_status_t mi_push_waiters_hold(mi_push_waiters_t *reg, int cc, const char *login);

/** The connection taken by mi_push_waiters_hold() closed. */
void mi_push_waiters_unhold(mi_push_waiters_t *reg, int cc, const char *login);

/** mi_push_waiter_register() for the connect of a connection that holds its thread: counted
 *  by the hold, so refused only when the process stops (APR_EOF). */
apr_status_t mi_push_waiter_register_held(mi_push_waiters_t *reg, int cc, const char *login,
                                          const char *client_id, apr_pool_t *p,
                                          mi_push_waiter_t **pw);

/** Have every change of @w's state also call @fn(@baton), under the registry's mutex (it
 *  must neither block nor call the registry). */
void mi_push_waiter_on_wake(mi_push_waiters_t *reg, mi_push_waiter_t *w, void (*fn)(void *baton),
                            void *baton);

/** Would mi_push_waiter_wait() return at once (notified, cancelled, rows handed or being
 *  written)? */
int mi_push_waiter_due(mi_push_waiters_t *reg, mi_push_waiter_t *w);

/** Cancel @w with @reason (its thread ends the hold; a no-op once it is cancelled). */
void mi_push_waiter_cancel(mi_push_waiters_t *reg, mi_push_waiter_t *w,
                           mi_push_waiter_reason_e reason);

/** Has mi_push_waiters_shutdown() run (the process stops)? */
int mi_push_waiters_is_closed(mi_push_waiters_t *reg);

#endif
