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
#include <apr_time.h>

typedef struct mi_push_waiters_t mi_push_waiters_t;
typedef struct mi_push_waiter_t mi_push_waiter_t;

typedef enum {
    MI_PUSH_WAITER_WAITING = 1,
    MI_PUSH_WAITER_NOTIFIED,
    MI_PUSH_WAITER_TIMED_OUT,
    MI_PUSH_WAITER_CANCELLED
} mi_push_waiter_state_e;

typedef enum {
    MI_PUSH_WAITER_NO_REASON = 0,
    MI_PUSH_WAITER_SUPERSEDED,     /* a newer connect of the same session registered */
    MI_PUSH_WAITER_DISCONNECTED,   /* the session was disconnected */
    MI_PUSH_WAITER_STOPPING        /* the process is stopping: answer now */
} mi_push_waiter_reason_e;

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

/** Remove the waiter (idempotent). */
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

#endif
