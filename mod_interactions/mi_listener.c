/* mi_listener.c — see mi_listener.h */
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_poll.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "mi_json.h"
#include "mi_listener.h"
#include "mi_log.h"
#include "mi_push_store.h"

#define READ_LIMIT     1000                      /* history rows per read */
#define READ_PAGES     100                       /* reads in a row before looking up again */
#define RECHECK_MIN    apr_time_from_msec(5)     /* rows above the cut: look again soon */
#define RECHECK_MAX    apr_time_from_msec(1000)
#define BACKOFF_MIN    apr_time_from_msec(100)   /* reconnecting */
#define BACKOFF_MAX    apr_time_from_sec(5)
#define MAX_ANNOUNCE   1000                      /* queued session announcements */
#define DISCONNECT_TAG "disconnect "
#define WAKE_TAG       "wake "
#define HOLD_TAG       "hold"                    /* "I hold connects: ring me" */
#define HOLD_HEARD     3                         /* a "hold" counts for 3 fallback periods */

struct mi_listener_t {
    apr_pool_t *pool;
    apr_pool_t *conn_pool;          /* lives as long as one connection */
    apr_pool_t *read_pool;          /* cleared for every read */
    mi_listener_conf_t conf;
    apr_pollset_t *pollset;
    apr_pollfd_t pfd;
    apr_thread_t *thread;
    PGconn *conn;                   /* only the listener thread touches it */
    char xid[32];                   /* the cursor: (xid, seq) in the history stream */
    long long seq;
    int have_cursor;
    int outage_logged;
    int stopped;
    volatile apr_uint32_t poked;
    volatile apr_uint32_t stopping;
    volatile apr_uint32_t n_reads, n_doorbells, n_connects, n_woken, n_cancelled;
    volatile apr_uint32_t connected;      /* for the statistics: is conn open? */
    volatile apr_uint32_t last_read_s;    /* for the statistics: when a read last succeeded */
    apr_thread_mutex_t *qlock;      /* guards the announcements below */
    apr_pool_t *qpool;
    apr_array_header_t *queue;      /* payloads of session announcements to send */
};

/* ------------------------------------------------------------------ the connection */

static void drop_conn(mi_listener_t *l)
{
    if (l->conn != NULL) {
        apr_pollset_remove(l->pollset, &l->pfd);
        PQfinish(l->conn);
        l->conn = NULL;
        apr_atomic_set32(&l->connected, 0);
    }
    apr_pool_clear(l->conn_pool);
}

static void outage(mi_listener_t *l, const char *what, const char *detail)
{
    /* once per outage, not once per attempt */
    if (!l->outage_logged) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL, MI_LOGNO(00504)
                      "push listener: %s (%s); held connects are answered when their hold "
                      "ends; reconnecting", what, detail != NULL ? detail : "");
        l->outage_logged = 1;
    }
}

/* The listener's connection failed at @what: say so once, close it, and return when to try
 * again.  The caller decides what to redo after the reconnect. */
static apr_time_t lose_conn(mi_listener_t *l, const char *what, apr_interval_time_t backoff)
{
    outage(l, what, PQerrorMessage(l->conn));
    drop_conn(l);
    return apr_time_now() + backoff;
}

static apr_status_t open_conn(mi_listener_t *l)
{
    const char *err = NULL, *head = NULL;
    apr_socket_t *sock = NULL;
    apr_os_sock_t fd;
    PGconn *conn = NULL;
    apr_status_t rv;

    apr_pool_clear(l->conn_pool);
    rv = mi_pgpool_connect_direct(l->conf.pgpool, &conn, &err, l->conn_pool);
    if (rv != APR_SUCCESS) {
        outage(l, "cannot connect to PostgreSQL", err);
        goto leave;
    }
    rv = mi_push_store_listen(conn, l->conf.statement_timeout_ms);
    if (rv == APR_SUCCESS && !l->have_cursor) {
        /* The first connection starts at the stable cut; later ones go on from the cursor,
         * so what committed while the listener was away still wakes its waiters. */
        rv = mi_push_store_head(conn, l->conn_pool, &head);
        if (rv == APR_SUCCESS && strlen(head) < sizeof(l->xid)) {
            apr_cpystrn(l->xid, head, sizeof(l->xid));
            l->seq = 0;
            l->have_cursor = 1;
        }
        else {
            rv = APR_EGENERAL;
        }
    }
    if (rv == APR_SUCCESS) {
        fd = PQsocket(conn);
        rv = fd >= 0 ? apr_os_sock_put(&sock, &fd, l->conn_pool) : APR_EBADF;
    }
    if (rv == APR_SUCCESS) {
        memset(&l->pfd, 0, sizeof(l->pfd));
        l->pfd.p = l->conn_pool;
        l->pfd.desc_type = APR_POLL_SOCKET;
        l->pfd.reqevents = APR_POLLIN;
        l->pfd.desc.s = sock;
        rv = apr_pollset_add(l->pollset, &l->pfd);
    }
    if (rv != APR_SUCCESS) {
        outage(l, "cannot listen for the doorbell", PQerrorMessage(conn));
        goto leave;
    }
    l->conn = conn;
    apr_atomic_set32(&l->connected, 1);
    conn = NULL;
    apr_atomic_inc32(&l->n_connects);
    if (l->outage_logged) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_NOTICE, 0, NULL, MI_LOGNO(00505)
                      "push listener: connected again; reading on from where it stopped");
        l->outage_logged = 0;
    }

leave:
    if (conn != NULL) {
        PQfinish(conn);
        apr_pool_clear(l->conn_pool);
    }
    return rv;
}

/* ------------------------------------------------------------------ reading the stream */

static void wake_from(mi_listener_t *l, json_object *wake)
{
    size_t i, j, n = wake != NULL && json_object_is_type(wake, json_type_array)
                     ? json_object_array_length(wake) : 0;

    for (i = 0; i < n; i++) {
        json_object *w = json_object_array_get_idx(wake, i);
        json_object *logins = mi_json_get(w, "logins");
        size_t nl = logins != NULL && json_object_is_type(logins, json_type_array)
                    ? json_object_array_length(logins) : 0;
        const char **names = apr_palloc(l->read_pool, (nl + 1) * sizeof(*names));
        int k = 0, woken;

        for (j = 0; j < nl; j++) {
            const char *s = json_object_get_string(json_object_array_get_idx(logins, j));
            if (s != NULL) {
                names[k++] = s;
            }
        }
        woken = mi_waiters_notify(l->conf.waiters, (int)mi_json_get_int(w, "cc", 0), names, k,
                                  json_object_get_boolean(mi_json_get(w, "all")));
        apr_atomic_add32(&l->n_woken, (apr_uint32_t)woken);
    }
}

/* Read everything new below the stable cut; *punstable: rows wait above it. */
static apr_status_t read_stream(mi_listener_t *l, int *punstable)
{
    json_object *res;
    const char *xid;
    apr_status_t rv = APR_SUCCESS;
    int page;

    *punstable = 0;
    for (page = 0; page < READ_PAGES; page++) {
        apr_pool_clear(l->read_pool);
        rv = mi_push_store_wakeups(l->conn, l->xid, l->seq, READ_LIMIT, l->read_pool, &res);
        if (rv != APR_SUCCESS) {
            break;
        }
        apr_atomic_inc32(&l->n_reads);
        apr_atomic_set32(&l->last_read_s, (apr_uint32_t)apr_time_sec(apr_time_now()));
        wake_from(l, mi_json_get(res, "wake"));
        xid = mi_json_get_str(res, "xid");
        if (xid == NULL || strlen(xid) >= sizeof(l->xid)) {
            rv = APR_EGENERAL;
            break;
        }
        apr_cpystrn(l->xid, xid, sizeof(l->xid));
        l->seq = mi_json_get_int(res, "seq", 0);
        *punstable = json_object_get_boolean(mi_json_get(res, "unstable"));
        if (!json_object_get_boolean(mi_json_get(res, "more"))) {
            break;
        }
    }
    apr_pool_clear(l->read_pool);
    return rv;
}

/* Nobody in this process waits, so a read would wake nobody: move the cursor to the stable
 * cut instead, one trivial query, so the first held connect does not begin with a backlog.
 * This is safe because a connect registers its waiter before it asks the database: when the
 * count is still 0 after the cut was taken, every later waiter's own read saw at least what
 * lies below that cut.  If a waiter came in between, the cursor stays and the next pass reads. */
static apr_status_t skip_to_head(mi_listener_t *l)
{
    const char *head = NULL;
    apr_status_t rv;

    apr_pool_clear(l->read_pool);
    rv = mi_push_store_head(l->conn, l->read_pool, &head);
    if (rv != APR_SUCCESS || head == NULL || strlen(head) >= sizeof(l->xid)) {
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    apr_atomic_set32(&l->last_read_s, (apr_uint32_t)apr_time_sec(apr_time_now()));
    if (mi_waiters_count(l->conf.waiters) == 0
        && apr_strtoi64(head, NULL, 10) > apr_strtoi64(l->xid, NULL, 10)) {
        apr_cpystrn(l->xid, head, sizeof(l->xid));
        l->seq = 0;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ disconnects */

/* "disconnect <cc> <clientId> <login>": answer our held connect of that session, if any;
 * "wake <cc> <clientId> <login>": that user's held connects read their sessions again. */
static void announced(mi_listener_t *l, const char *payload)
{
    int disconnect = strncmp(payload, DISCONNECT_TAG, sizeof(DISCONNECT_TAG) - 1) == 0;
    int wake = strncmp(payload, WAKE_TAG, sizeof(WAKE_TAG) - 1) == 0;
    const char *s, *client, *login;
    char *end;
    long cc;

    if (!disconnect && !wake) {
        return;
    }
    s = payload + (disconnect ? sizeof(DISCONNECT_TAG) : sizeof(WAKE_TAG)) - 1;
    cc = strtol(s, &end, 10);
    if (end == s || *end != ' ') {
        return;
    }
    client = end + 1;
    login = strchr(client, ' ');
    if (login == NULL || login - client != 32) {
        return;
    }
    login++;
    if (disconnect) {
        client = apr_pstrmemdup(l->read_pool, client, 32);
        apr_atomic_add32(&l->n_cancelled, (apr_uint32_t)mi_waiters_cancel_client(
            l->conf.waiters, (int)cc, login, client, MI_WAITER_DISCONNECTED));
    }
    else {
        apr_atomic_add32(&l->n_woken, (apr_uint32_t)mi_waiters_notify(
            l->conf.waiters, (int)cc, &login, 1, 0));
    }
}

void mi_listener_announce(mi_listener_t *l, int disconnected, int cc, const char *login,
                          const char *client_id)
{
    apr_thread_mutex_lock(l->qlock);
    if (l->queue->nelts < MAX_ANNOUNCE) {
        APR_ARRAY_PUSH(l->queue, const char *) =
            apr_psprintf(l->qpool, "%s%d %s %s", disconnected ? DISCONNECT_TAG : WAKE_TAG, cc,
                         client_id, login);
    }
    apr_thread_mutex_unlock(l->qlock);
    mi_listener_poke(l);
}

/* Send the queued announcements (listener thread). */
static apr_status_t announce(mi_listener_t *l)
{
    apr_array_header_t *todo = NULL;
    apr_status_t rv = APR_SUCCESS;
    int i;

    apr_thread_mutex_lock(l->qlock);
    if (l->queue->nelts > 0) {
        /* take them out under the lock; send them without it */
        apr_pool_clear(l->read_pool);
        todo = apr_array_make(l->read_pool, l->queue->nelts, sizeof(const char *));
        for (i = 0; i < l->queue->nelts; i++) {
            APR_ARRAY_PUSH(todo, const char *) =
                apr_pstrdup(l->read_pool, APR_ARRAY_IDX(l->queue, i, const char *));
        }
        apr_pool_clear(l->qpool);
        l->queue = apr_array_make(l->qpool, 8, sizeof(const char *));
    }
    apr_thread_mutex_unlock(l->qlock);
    for (i = 0; todo != NULL && i < todo->nelts && rv == APR_SUCCESS; i++) {
        rv = mi_push_store_notify(l->conn, APR_ARRAY_IDX(todo, i, const char *));
    }
    return rv;
}

/* ------------------------------------------------------------------ the thread */

static void *APR_THREAD_FUNC run(apr_thread_t *thread, void *data)
{
    mi_listener_t *l = data;
    apr_time_t last_read = 0, next_connect = 0, now, due;
    apr_time_t last_held = 0, last_hold_sent = 0, others_hold_until = 0;
    apr_interval_time_t backoff = BACKOFF_MIN, next_recheck = RECHECK_MIN;
    apr_interval_time_t unstable_wait = RECHECK_MIN, every;
    apr_interval_time_t fallback = apr_time_from_msec(l->conf.fallback_ms);
    apr_interval_time_t idle = apr_time_from_msec(l->conf.idle_ms);
    int need_read = 1, need_bell = 0, unstable = 0, held;

    while (!apr_atomic_read32(&l->stopping)) {
        const apr_pollfd_t *out = NULL;
        apr_int32_t n = 0;
        PGnotify *nt;

        now = apr_time_now();
        if (l->conn == NULL && now >= next_connect) {
            if (open_conn(l) == APR_SUCCESS) {
                backoff = BACKOFF_MIN;
                need_read = 1;
                /* until we have listened a while, assume the others hold connects */
                others_hold_until = now + HOLD_HEARD * fallback;
                last_hold_sent = 0;
            }
            else {
                next_connect = now + backoff;
                backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
            }
        }
        /* Without held connects nobody waits for a fallback read or a re-check. */
        held = mi_waiters_count(l->conf.waiters) > 0;
        if (held) {
            last_held = now;
        }
        if (l->conn != NULL && announce(l) != APR_SUCCESS) {
            next_connect = lose_conn(l, "announcing a disconnect failed", backoff);
            need_read = 1;
            continue;
        }
        if (l->conn != NULL && last_held != 0 && now - last_held < 2 * fallback
            && now - last_hold_sent >= fallback) {
            /* Tell the others that connects are held here, so they ring for their writes.
             * Those who have not heard it yet (the first second of our first waiter) leave
             * our waiters to the fallback read. */
            last_hold_sent = now;
            if (mi_push_store_notify(l->conn, HOLD_TAG) != APR_SUCCESS) {
                next_connect = lose_conn(l, "ringing the doorbell failed", backoff);
                need_read = need_bell = 1;
                continue;
            }
        }
        if (l->conn != NULL && need_bell && now >= others_hold_until) {
            /* nobody else holds connects: a doorbell would wake no one (this process's
             * own waiters are read for below) */
            need_bell = 0;
        }
        if (l->conn != NULL && need_bell) {
            /* one doorbell for every poke since the last one, rung before our own read so
             * that the other processes read at the same time as this one */
            need_bell = 0;
            if (mi_push_store_doorbell(l->conn) != APR_SUCCESS) {
                next_connect = lose_conn(l, "ringing the doorbell failed", backoff);
                need_read = need_bell = 1;
                continue;
            }
            apr_atomic_inc32(&l->n_doorbells);
        }
        every = !held ? idle : unstable ? unstable_wait : fallback;
        if (l->conn != NULL && !held && now >= last_read + every) {
            /* nobody to wake here; need_read waits for the first waiter */
            last_read = now;
            unstable = 0;
            next_recheck = RECHECK_MIN;
            if (skip_to_head(l) != APR_SUCCESS) {
                next_connect = lose_conn(l, "reading the history stream failed", backoff);
                need_read = 1;
                continue;
            }
        }
        else if (l->conn != NULL && held && (need_read || now >= last_read + every)) {
            need_read = 0;
            last_read = now;
            if (read_stream(l, &unstable) != APR_SUCCESS) {
                next_connect = lose_conn(l, "reading the history stream failed", backoff);
                need_read = 1;
                continue;
            }
            if (unstable) {
                unstable_wait = next_recheck;
                next_recheck = next_recheck * 2 > RECHECK_MAX ? RECHECK_MAX : next_recheck * 2;
            }
            else {
                next_recheck = RECHECK_MIN;
            }
            every = unstable ? unstable_wait : fallback;   /* held here */
        }
        /* Sleep until the next read is due, but look at the waiter count at least every
         * fallback period: the first held connect shortens the schedule. */
        now = apr_time_now();
        due = l->conn != NULL ? last_read + every : next_connect;
        if (due > now + fallback) {
            due = now + fallback;
        }
        apr_pollset_poll(l->pollset, due > now ? due - now : 0, &n, &out);
        if (apr_atomic_read32(&l->stopping)) {
            break;
        }
        if (l->conn != NULL && n > 0) {
            if (!PQconsumeInput(l->conn) || PQstatus(l->conn) != CONNECTION_OK) {
                next_connect = lose_conn(l, "the connection was lost", backoff);
                need_read = 1;
            }
            else {
                while ((nt = PQnotifies(l->conn)) != NULL) {
                    /* our own doorbell comes back too; the others' mean "read", or
                     * carry an announcement about a session */
                    if (nt->be_pid != PQbackendPID(l->conn)) {
                        if (nt->extra != NULL && strcmp(nt->extra, HOLD_TAG) == 0) {
                            others_hold_until = apr_time_now() + HOLD_HEARD * fallback;
                        }
                        else if (nt->extra != NULL && *nt->extra != '\0') {
                            announced(l, nt->extra);
                        }
                        else {
                            need_read = 1;
                        }
                    }
                    PQfreemem(nt);
                }
            }
        }
        if (apr_atomic_xchg32(&l->poked, 0)) {
            need_read = 1;
            need_bell = 1;
        }
    }
    drop_conn(l);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

apr_status_t mi_listener_start(mi_listener_t **pl, const mi_listener_conf_t *conf,
                               apr_pool_t *p)
{
    mi_listener_t *l;
    apr_pool_t *lp;
    apr_status_t rv;

    *pl = NULL;
    rv = apr_pool_create(&lp, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_tag(lp, "mi_listener");
    l = apr_pcalloc(lp, sizeof(*l));
    l->pool = lp;
    l->conf = *conf;
    if (l->conf.fallback_ms <= 0) l->conf.fallback_ms = 1000;
    if (l->conf.idle_ms <= 0) l->conf.idle_ms = 10000;
    l->queue = NULL;
    if ((rv = apr_pool_create(&l->conn_pool, lp)) != APR_SUCCESS
        || (rv = apr_pool_create(&l->read_pool, lp)) != APR_SUCCESS
        || (rv = apr_pool_create(&l->qpool, lp)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&l->qlock, APR_THREAD_MUTEX_DEFAULT, lp)) != APR_SUCCESS
        || (l->queue = apr_array_make(l->qpool, 8, sizeof(const char *))) == NULL
        || (rv = apr_pollset_create(&l->pollset, 1, lp, APR_POLLSET_WAKEABLE)) != APR_SUCCESS
        || (rv = apr_thread_create(&l->thread, NULL, run, l, lp)) != APR_SUCCESS) {
        apr_pool_destroy(lp);
        return rv;
    }
    *pl = l;
    return APR_SUCCESS;
}

void mi_listener_poke(mi_listener_t *l)
{
    if (apr_atomic_xchg32(&l->poked, 1) == 0) {
        apr_pollset_wakeup(l->pollset);
    }
}

void mi_listener_stop(mi_listener_t *l)
{
    apr_status_t trv;

    if (l == NULL || l->stopped) {
        return;
    }
    apr_atomic_set32(&l->stopping, 1);
    apr_pollset_wakeup(l->pollset);
    apr_thread_join(&trv, l->thread);
    l->stopped = 1;
}

void mi_listener_stats(mi_listener_t *l, mi_listener_stats_t *st)
{
    st->reads = apr_atomic_read32(&l->n_reads);
    st->doorbells = apr_atomic_read32(&l->n_doorbells);
    st->connects = apr_atomic_read32(&l->n_connects);
    st->woken = apr_atomic_read32(&l->n_woken);
    st->cancelled = apr_atomic_read32(&l->n_cancelled);
    st->connected = apr_atomic_read32(&l->connected);
    st->last_read_s = apr_atomic_read32(&l->last_read_s);
}
