/* mi_push.h — the Bayeux server: one request (a batch of messages) in, the replies out.
 *
 * Sessions live in the database (mi_push_store.c implements the backend below), so any
 * process of any httpd sharing the database can serve any request of a session.  A
 * /meta/connect with nothing to deliver is held by blocking the calling thread on a waiter
 * (mi_push_waiters.h) without holding a database connection; the listener
 * (mi_push_listener.h) wakes it when the history stream has news for its user, and the
 * thread re-reads its session.
 *
 * The backend is an interface so that the protocol can be tested without a database
 * (tests/unit/test_push.c drives it with an in-memory double).
 */
#ifndef MI_PUSH_H
#define MI_PUSH_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_push_bayeux.h"
#include "mi_push_cache.h"
#include "mi_render.h"
#include "mi_push_waiters.h"

/** A session as the backend knows it. */
typedef struct {
    mi_caller_t caller;        /* its user: id and roles (for rendering and authorization) */
    unsigned channels;         /* MI_PUSH_ME | MI_PUSH_ALL | MI_PUSH_MYCH | MI_PUSH_AGENTS */
    int ack;                   /* ack extension negotiated */
} mi_push_session_t;

/** One call of the backend's connect (the first for a /meta/connect, or a re-check). */
typedef struct {
    int cc;
    const char *login;
    const char *client_id;
    int first;                 /* a new connect (0: re-checking a held one) */
    long long gen;             /* re-check: the hold generation the first call returned */
    long long ack;             /* first call: ext.ack, the last batch received; -1 none */
    long long hold_ms;         /* 0: answer now; else the connect may be held this long */
    int per_browser;           /* first call: held connects allowed per browser; 0 no limit */
    long long max_interval_ms;
    int limit;                 /* most events in one reply */
} mi_push_connect_t;

typedef enum {
    MI_PUSH_DELIVER = 1,       /* answer now with d->events (maybe none) */
    MI_PUSH_HELD,              /* nothing to deliver: hold; the session counts as holding */
    MI_PUSH_UNKNOWN,           /* no such session for this user: 402 */
    MI_PUSH_SUPERSEDED         /* a newer connect of the session exists: answer, deliver nothing */
} mi_push_outcome_e;

typedef struct {
    mi_push_outcome_e outcome;
    mi_push_session_t session; /* DELIVER and HELD */
    long long gen;             /* DELIVER and HELD: this connect's hold generation */
    long long batch;           /* DELIVER with the ack extension: this reply's batch id; else -1 */
    int multiple_clients;      /* DELIVER instead of HELD: the browser holds enough connects */
    int have_pos;              /* HELD: the session's cursor is known (xid, seq), so the
                                  listener may hand it rows from memory (mi_push_waiters.h) */
    apr_uint64_t xid;
    long long seq;
    json_object *events;       /* DELIVER: [{"seq","notification","referenceId","snapshot",
                                  "me","revoked","all"}], owned by the call's pool; an event
                                  only for /v2/interactions ("all" without "me") may come
                                  without its snapshot (null): see mi_push_cache.h */
} mi_push_delivery_t;

/** A handshake: the session to open, and the limits it must stay within (0: none). */
typedef struct {
    int cc;
    const char *login;
    const char *client_id;
    const char *browser;
    int ack;
    long long max_interval_ms;
    int max_sessions;          /* live sessions of the user */
    int max_cc_sessions;       /* live sessions of the contact center */
    int per_minute;            /* handshakes of the user per minute */
} mi_push_handshake_t;

/** Why a handshake opened nothing. */
typedef enum {
    MI_PUSH_OPENED = 0,
    MI_PUSH_TOO_FAST,          /* the user used up its handshakes per minute */
    MI_PUSH_USER_FULL,         /* the user holds its most live sessions */
    MI_PUSH_CC_FULL            /* the contact center holds its most live sessions */
} mi_push_refusal_e;

/** Where sessions live.  Every function returns APR_SUCCESS, APR_NOTFOUND (no such session
 *  of this user, or for handshake: the login is not a user of @cc), or another status when
 *  the store failed (the client is told to retry). */
typedef struct {
    void *baton;
    /* APR_SUCCESS with *prefused MI_PUSH_OPENED: opened; another refusal: nothing opened,
     * and trying again after *pretry_ms may succeed. */
    apr_status_t (*handshake)(void *baton, const mi_push_handshake_t *h, apr_pool_t *p,
                              mi_push_refusal_e *prefused, long long *pretry_ms);
    apr_status_t (*session)(void *baton, int cc, const char *login, const char *client_id,
                            long long max_interval_ms, apr_pool_t *p, mi_push_session_t *s);
    /* session() for @client_ids[0..n) in one call (a request of several messages): rvs[i]
     * APR_SUCCESS with sessions[i] filled, or APR_NOTFOUND.  Another status: the store
     * failed, for all of them.  May be NULL: session() is called for each then. */
    apr_status_t (*sessions)(void *baton, int cc, const char *login,
                             const char *const *client_ids, int n, long long max_interval_ms,
                             apr_pool_t *p, mi_push_session_t *sessions, apr_status_t *rvs);
    apr_status_t (*subscribe)(void *baton, int cc, const char *login, const char *client_id,
                              unsigned add, unsigned remove, apr_pool_t *p, unsigned *pchannels);
    apr_status_t (*connect)(void *baton, const mi_push_connect_t *c, apr_pool_t *p,
                            mi_push_delivery_t *d);
    apr_status_t (*disconnect)(void *baton, int cc, const char *login, const char *client_id,
                               apr_pool_t *p);
    /* The snapshots of history rows @seqs[0..n) of @cc as a /v2/interactions subscriber
     * (@login) sees them: *pevents [{"seq","snapshot"}], rows it may not see left out. */
    apr_status_t (*snapshots)(void *baton, int cc, const char *login, const long long *seqs,
                              int n, apr_pool_t *p, json_object **pevents);
} mi_push_backend_t;

typedef struct {
    long long timeout_ms;          /* longest hold of a /meta/connect (advice.timeout) */
    long long max_interval_ms;     /* a session without a connect this long after the last expires */
    int per_browser;               /* held connects per BAYEUX_BROWSER; 0 no limit */
    int jsonp;                     /* offer callback-polling */
    long long multi_interval_ms;   /* advice.interval for a browser over its share */
    long long busy_interval_ms;    /* advice.interval when this process holds its maximum */
    long long share_interval_ms;   /* advice.interval when the user or the contact center
                                      holds its share of this process's held connects */
    long long retry_interval_ms;   /* advice.interval when the database is unavailable */
    int batch_limit;               /* most events in one reply */
    int cache_rows;                /* /v2/interactions rows rendered once per process (0: 4096) */
    long long cache_bytes;         /* what those rows and their messages may cost (0: 16 MiB) */
    int max_sessions;              /* live sessions of one user; 0 no limit */
    int max_cc_sessions;           /* live sessions of one contact center; 0 no limit */
    int handshakes_per_minute;     /* handshakes of one user per minute; 0 no limit */
    int websocket;                 /* offer the websocket transport */
} mi_push_conf_t;

typedef struct mi_push_t mi_push_t;

/** One Bayeux request. */
typedef struct {
    int cc;
    const char *login;         /* the authenticated user */
    const char *base;          /* absolute API base, for interaction uris */
    const char *browser;       /* a valid BAYEUX_BROWSER cookie, or NULL */
    apr_pool_t *pool;          /* the request's */
    /* A message of a WebSocket connection: its connects are counted as the connection's
     * thread (mi_push_waiter_register_held()) and never limited per browser (a WebSocket
     * takes none of a browser's few HTTP connections).  @wait replaces
     * mi_push_waiter_wait() for its held connect: the connection reads its client's frames
     * meanwhile, and cancels the waiter (SUPERSEDED) to end the hold early. */
    int websocket;
    mi_push_waiter_state_e (*wait)(void *baton, mi_push_waiter_t *w, apr_time_t deadline);
    void *wait_baton;
} mi_push_req_t;

typedef struct {
    json_object *replies;      /* the JSON array to send (bound to the request pool) */
    const char *new_browser;   /* set this BAYEUX_BROWSER cookie, or NULL */
    int close_connection;      /* this process is stopping: the client should reconnect
                                  elsewhere, not on this keep-alive connection */
} mi_push_resp_t;

apr_status_t mi_push_create(mi_push_t **ppush, const mi_push_conf_t *conf,
                            const mi_push_backend_t *backend, mi_push_waiters_t *waiters,
                            apr_pool_t *p);

/** What other processes must hear about a session changed here. */
typedef enum {
    MI_PUSH_GONE = 1,          /* disconnected, and no connect of it was held here: one held
                                  elsewhere should answer now */
    MI_PUSH_WIDENED            /* it subscribed to /v2/interactions: a connect held elsewhere
                                  must start listening for the contact center's news */
} mi_push_change_e;

typedef void mi_push_change_cb(void *baton, mi_push_change_e what, int cc, const char *login,
                               const char *client_id);

void mi_push_on_change(mi_push_t *push, mi_push_change_cb *fn, void *baton);

/** The process's cache of /v2/interactions messages (for statistics and tests). */
mi_push_cache_t *mi_push_cache_of(mi_push_t *push);

/** Process the parsed body @doc.  Returns 1 with @resp filled (always at least one reply),
 *  or 0 with *perr when @doc is not a Bayeux request.  May block for a held connect. */
int mi_push_serve(mi_push_t *push, const mi_push_req_t *req, json_object *doc,
                  mi_push_resp_t *resp, const char **perr);

#endif
