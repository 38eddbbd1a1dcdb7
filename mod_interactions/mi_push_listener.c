/* mi_push_listener.c — see mi_push_listener.h
 *
 * Top to bottom: the listener's statements (on its own connection, so its SQL is here
 * beside the loop that runs it; each calls a function of sql/functions/060_push.sql, or
 * LISTEN/NOTIFY), the connection, reading the stream and handing its rows to the held
 * connects of the process (the sessions they reach have their cursors written in one call
 * per read, push_advance, before they answer), the session announcements, and the
 * thread: a loop whose every pass runs these steps in order, each a function below
 *
 *   connect   no connection, and its backoff is over: open one, LISTEN, take the cursor
 *   announce  send the session announcements that other threads queued
 *   say_hold  connects are held here: tell the other processes, once per fallback period
 *   ring      pokes arrived and another process holds connects: ring the doorbell
 *   read      connects are held: read the stream when asked or due; none: follow the cut
 *   wait      sleep until the next step is due, a notification arrives or a poke
 *
 * A step that fails on the connection drops it (logged once per outage); the passes that
 * follow only connect and wait until it is back, then read on from the cursor at once.
 * What is due when is kept in one schedule (sched_t); its fixed numbers are in
 * mi_tunables.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_poll.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <libpq-fe.h>

#include "mi_json.h"
#include "mi_log.h"
#include "mi_push_listener.h"
#include "mi_tunables.h"

#define FALLBACK       apr_time_from_msec(MI_PUSH_LISTENER_FALLBACK_MS)
#define IDLE           apr_time_from_msec(MI_PUSH_LISTENER_IDLE_MS)
#define RECHECK_MIN    apr_time_from_msec(MI_PUSH_LISTENER_RECHECK_MIN_MS)
#define RECHECK_MAX    apr_time_from_msec(MI_PUSH_LISTENER_RECHECK_MAX_MS)
#define BACKOFF_MIN    apr_time_from_msec(MI_PUSH_LISTENER_BACKOFF_MIN_MS)
#define BACKOFF_MAX    apr_time_from_msec(MI_PUSH_LISTENER_BACKOFF_MAX_MS)
#define HOLD_HEARD_FOR (MI_PUSH_LISTENER_HOLD_HEARD * FALLBACK)

/* The doorbell's channel, and the payloads on it besides the empty doorbell. */
#define DOORBELL       "interactions_events"
#define DISCONNECT_TAG "disconnect "
#define WAKE_TAG       "wake "
#define HOLD_TAG       "hold"                    /* "I hold connects: ring me" */

struct mi_push_listener_t {
    apr_pool_t *pool;
    apr_pool_t *conn_pool;          /* lives as long as one connection */
    apr_pool_t *read_pool;          /* cleared for every read */
    mi_push_listener_conf_t conf;
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
    volatile apr_uint32_t n_delivered, n_advances;
    volatile apr_uint32_t connected;      /* for the statistics: is conn open? */
    volatile apr_uint32_t last_read_s;    /* for the statistics: when a read last succeeded */
    apr_thread_mutex_t *qlock;      /* guards the announcements below */
    apr_pool_t *qpool;
    apr_array_header_t *queue;      /* payloads of session announcements to send */
};

/* ------------------------------------------------------------------ the statements */

static apr_status_t exec_ok(PGconn *conn, const char *sql, ExecStatusType want)
{
    PGresult *res = PQexec(conn, sql);
    apr_status_t rv = APR_SUCCESS;

    if (PQresultStatus(res) != want) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL, MI_LOGNO(00501)
                      "push listener: \"%s\" failed: %s", sql, PQerrorMessage(conn));
        rv = APR_EGENERAL;
    }
    PQclear(res);
    return rv;
}

/* Prepare a new connection: statement timeout, then LISTEN on the doorbell. */
static apr_status_t db_listen(PGconn *conn, int statement_timeout_ms)
{
    char sql[64];
    apr_status_t rv;

    snprintf(sql, sizeof(sql), "SET statement_timeout = %d", statement_timeout_ms);
    rv = exec_ok(conn, sql, PGRES_COMMAND_OK);
    if (rv == APR_SUCCESS) {
        rv = exec_ok(conn, "LISTEN " DOORBELL, PGRES_COMMAND_OK);
    }
    return rv;
}

/* One text value from a parameterized query. */
static apr_status_t scalar(PGconn *conn, const char *sql, int nparams, const char *const *params,
                           apr_pool_t *p, const char **pvalue)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    apr_status_t rv = APR_SUCCESS;

    *pvalue = NULL;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL, MI_LOGNO(00502)
                      "push listener: reading the history stream failed: %s",
                      PQerrorMessage(conn));
        rv = APR_EGENERAL;
    }
    else {
        *pvalue = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rv;
}

/* The stream's stable cut now (where a new reader starts), an xid8 as text. */
static apr_status_t db_stream_head(PGconn *conn, apr_pool_t *p, const char **pxid)
{
    return scalar(conn, "SELECT interactions.push_stream_head()", 0, NULL, p, pxid);
}

/* The rows after (@xid, @seq), at most @limit, as push_stream returns them:
 * {"xid","seq","more","unstable","rows":[..]}, bound to @p. */
static apr_status_t db_stream(PGconn *conn, const char *xid, long long seq, int limit,
                              apr_pool_t *p, json_object **presult)
{
    const char *params[3];
    const char *text = NULL;
    mi_json_error_t jerr;
    apr_status_t rv;

    *presult = NULL;
    params[0] = xid;
    params[1] = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)seq);
    params[2] = apr_itoa(p, limit);
    rv = scalar(conn, "SELECT interactions.push_stream($1::xid8, $2::bigint, $3::int)::text", 3,
                params, p, &text);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* snapshots come as JSON text (strings), so the page nests only a few levels */
    if (mi_json_parse(presult, text, strlen(text), MI_PUSH_RESULT_DEPTH, p, &jerr) != APR_SUCCESS
        || !json_object_is_type(*presult, json_type_object)) {
        *presult = NULL;
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL,
                      MI_LOGNO(00560) "push listener: push_stream returned no usable document");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Write the cursors of the sessions handed rows (@todo, of mi_push_advance_t), one call:
 * *presult [{"cc","c","ok","roles"}], bound to @p. */
static apr_status_t db_advance(PGconn *conn, const apr_array_header_t *todo, apr_pool_t *p,
                               json_object **presult)
{
    const char *params[1];
    const char *text = NULL;
    json_object *res;
    mi_json_error_t jerr;
    apr_array_header_t *parts = apr_array_make(p, todo->nelts, sizeof(const char *));
    apr_status_t rv;
    int i;

    *presult = NULL;
    for (i = 0; i < todo->nelts; i++) {
        const mi_push_advance_t *a = &APR_ARRAY_IDX(todo, i, mi_push_advance_t);

        /* a tracked session's clientId was found by push_connect: 32 hex digits */
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p,
            "%s{\"cc\":%d,\"client\":\"%s\",\"gen\":%" APR_INT64_T_FMT
            ",\"xid\":\"%" APR_UINT64_T_FMT "\",\"seq\":%" APR_INT64_T_FMT
            ",\"batch\":%" APR_INT64_T_FMT ",\"maxMs\":%" APR_INT64_T_FMT "}",
            i > 0 ? "," : "[", a->cc, a->client_id, (apr_int64_t)a->gen, (apr_uint64_t)a->xid,
            (apr_int64_t)a->seq, (apr_int64_t)a->batch, (apr_int64_t)a->max_interval_ms);
    }
    params[0] = apr_pstrcat(p, apr_array_pstrcat(p, parts, 0), "]", NULL);
    rv = scalar(conn, "SELECT interactions.push_advance($1::json)::text", 1, params, p, &text);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (mi_json_parse(&res, text, strlen(text), MI_PUSH_RESULT_DEPTH, p, &jerr) != APR_SUCCESS
        || !json_object_is_type(mi_json_get(res, "sessions"), json_type_array)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL,
                      MI_LOGNO(00561) "push listener: push_advance returned no usable document");
        return APR_EGENERAL;
    }
    *presult = mi_json_get(res, "sessions");
    return APR_SUCCESS;
}

/* Send @payload on the doorbell channel; "" is the doorbell itself: every listener of every
 * process and server on this database reads. */
static apr_status_t db_notify(PGconn *conn, const char *payload)
{
    const char *params[1];
    PGresult *res;
    apr_status_t rv = APR_SUCCESS;

    /* Its own tiny transaction, never inside an API one (a NOTIFY serializes every commit
     * of the database behind a global lock until it has committed); not worth an fsync. */
    params[0] = payload;
    res = PQexecParams(conn, "SELECT set_config('synchronous_commit', 'off', true), "
                             "pg_notify('" DOORBELL "', $1)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL, MI_LOGNO(00508)
                      "push listener: notifying the other processes failed: %s",
                      PQerrorMessage(conn));
        rv = APR_EGENERAL;
    }
    PQclear(res);
    return rv;
}

/* ------------------------------------------------------------------ the connection */

static void drop_conn(mi_push_listener_t *l)
{
    if (l->conn != NULL) {
        apr_pollset_remove(l->pollset, &l->pfd);
        PQfinish(l->conn);
        l->conn = NULL;
        apr_atomic_set32(&l->connected, 0);
    }
    apr_pool_clear(l->conn_pool);
}

static void outage(mi_push_listener_t *l, const char *what, const char *detail)
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
static apr_time_t lose_conn(mi_push_listener_t *l, const char *what, apr_interval_time_t backoff)
{
    outage(l, what, PQerrorMessage(l->conn));
    drop_conn(l);
    return apr_time_now() + backoff;
}

static apr_status_t open_conn(mi_push_listener_t *l)
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
    rv = db_listen(conn, l->conf.statement_timeout_ms);
    if (rv == APR_SUCCESS && !l->have_cursor) {
        /* The first connection starts at the stable cut; later ones go on from the cursor,
         * so what committed while the listener was away still wakes its waiters. */
        rv = db_stream_head(conn, l->conn_pool, &head);
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

/* The logins of @arr as C strings at @slots, their text after @text; returns where the
 * text ends (or the size needed when @slots is NULL). */
static apr_size_t copy_logins(json_object *arr, const char **slots, char *text)
{
    size_t i, n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    apr_size_t used = 0;

    for (i = 0; i < n; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
        apr_size_t len = s != NULL ? strlen(s) + 1 : 1;

        if (slots != NULL) {
            memcpy(text + used, s != NULL ? s : "", len);
            slots[i] = text + used;
        }
        used += len;
    }
    return used;
}

/* A row of push_stream as a shared row (one allocation, one reference: the reader's), or
 * NULL when malformed or out of memory. */
static mi_push_row_t *row_from(json_object *j)
{
    json_object *aud = mi_json_get(j, "audience"), *rev = mi_json_get(j, "revoked");
    json_object *ref = mi_json_get(j, "referenceId");
    const char *notification = mi_json_get_str(j, "notification");
    const char *snapshot = mi_json_get_str(j, "snapshot");
    const char *xid = mi_json_get_str(j, "xid");
    int na = json_object_is_type(aud, json_type_array) ? (int)json_object_array_length(aud) : 0;
    int nr = json_object_is_type(rev, json_type_array) ? (int)json_object_array_length(rev) : 0;
    apr_size_t size, text;
    mi_push_row_t *r;
    char *w;

    if (notification == NULL || xid == NULL) {
        return NULL;
    }
    text = copy_logins(aud, NULL, NULL) + copy_logins(rev, NULL, NULL) + strlen(notification) + 1
           + (snapshot != NULL ? strlen(snapshot) + 1 : 0);
    size = sizeof(*r) + (apr_size_t)(na + nr) * sizeof(const char *) + text;
    r = calloc(1, size);
    if (r == NULL) {
        return NULL;
    }
    r->refs = 1;
    r->cc = (int)mi_json_get_int(j, "cc", 0);
    r->xid = (apr_uint64_t)apr_strtoi64(xid, NULL, 10);
    r->seq = mi_json_get_int(j, "seq", 0);
    r->all = strcmp(notification, "StatusChange") == 0
             || strcmp(notification, "PropertiesUpdated") == 0;
    r->chstate = strcmp(notification, "ChannelState") == 0;
    r->from_memory = (r->all || r->chstate) && snapshot != NULL;
    r->reference_id = ref != NULL && json_object_is_type(ref, json_type_int)
                          ? (long long)json_object_get_int64(ref)
                          : -1;
    r->n_audience = na;
    r->n_revoked = nr;
    r->audience = (const char **)(r + 1);
    r->revoked = r->audience + na;
    w = (char *)(r->revoked + nr);
    w += copy_logins(aud, r->audience, w);
    w += copy_logins(rev, r->revoked, w);
    memcpy(w, notification, strlen(notification) + 1);
    r->notification = w;
    w += strlen(notification) + 1;
    if (snapshot != NULL) {
        memcpy(w, snapshot, strlen(snapshot) + 1);
        r->snapshot = w;
    }
    return r;
}

/* Hand the rows of one read to the waiters of this process, then write the cursors of the
 * sessions that received any, in one call, and let them answer (or, when that fails, read
 * the database themselves). */
static apr_status_t fan_out(mi_push_listener_t *l, json_object *res, const char *xid, long long seq)
{
    json_object *jrows = mi_json_get(res, "rows"), *done = NULL;
    size_t i, n = json_object_is_type(jrows, json_type_array) ? json_object_array_length(jrows) : 0;
    mi_push_row_t **rows = apr_pcalloc(l->read_pool, (n + 1) * sizeof(*rows));
    apr_array_header_t *todo = apr_array_make(l->read_pool, 16, sizeof(mi_push_advance_t));
    apr_hash_t *outcome = apr_hash_make(l->read_pool);
    apr_status_t rv = APR_SUCCESS;
    int k = 0, woken, j;

    for (i = 0; i < n; i++) {
        mi_push_row_t *r = row_from(json_object_array_get_idx(jrows, i));

        if (r == NULL) {
            /* a row we cannot hold: everybody its contact center concerns reads the
             * database (the rows after it still come from here) */
            int cc = (int)mi_json_get_int(json_object_array_get_idx(jrows, i), "cc", 0);
            apr_atomic_add32(&l->n_woken,
                             (apr_uint32_t)mi_push_waiters_notify(l->conf.waiters, cc, NULL, 0, 1));
            continue;
        }
        rows[k++] = r;
    }
    woken = mi_push_waiters_offer(l->conf.waiters, rows, k,
                                  (apr_uint64_t)apr_strtoi64(xid, NULL, 10), seq, todo);
    apr_atomic_add32(&l->n_woken, (apr_uint32_t)woken);
    for (j = 0; j < k; j++) {
        mi_push_row_release(rows[j]); /* the waiters hold their own references */
    }
    if (todo->nelts == 0) {
        return APR_SUCCESS;
    }
    rv = db_advance(l->conn, todo, l->read_pool, &done);
    for (i = 0; rv == APR_SUCCESS && i < json_object_array_length(done); i++) {
        json_object *o = json_object_array_get_idx(done, i);
        const char *c = mi_json_get_str(o, "c");

        if (c != NULL) {
            apr_hash_set(outcome,
                         apr_psprintf(l->read_pool, "%d %s", (int)mi_json_get_int(o, "cc", 0), c),
                         APR_HASH_KEY_STRING, o);
        }
    }
    for (j = 0; j < todo->nelts; j++) {
        const mi_push_advance_t *a = &APR_ARRAY_IDX(todo, j, mi_push_advance_t);
        json_object *o = rv == APR_SUCCESS ? apr_hash_get(outcome,
                                                          apr_psprintf(l->read_pool, "%d %s", a->cc,
                                                                       a->client_id),
                                                          APR_HASH_KEY_STRING)
                                           : NULL;
        json_object *roles = mi_json_get(o, "roles");
        unsigned bits = 0;
        size_t m, nroles = json_object_is_type(roles, json_type_array)
                               ? json_object_array_length(roles)
                               : 0;

        for (m = 0; m < nroles; m++) {
            const char *role = json_object_get_string(json_object_array_get_idx(roles, m));
            bits |= role == NULL                      ? 0u
                    : strcmp(role, "agent") == 0      ? MI_PUSH_ROLE_AGENT
                    : strcmp(role, "supervisor") == 0 ? MI_PUSH_ROLE_SUPERVISOR
                    : strcmp(role, "admin") == 0      ? MI_PUSH_ROLE_ADMIN
                    : strcmp(role, "apiuser") == 0    ? MI_PUSH_ROLE_APIUSER
                                                      : 0u;
        }
        /* Not written (no answer, superseded, gone): its thread reads the database, so the
         * rights of the moment decide there too.  Written: it answers with the rows. */
        mi_push_waiter_advanced(l->conf.waiters, a->w,
                                o != NULL && json_object_get_boolean(mi_json_get(o, "ok")), bits);
        if (o != NULL && json_object_get_boolean(mi_json_get(o, "ok"))) {
            apr_atomic_inc32(&l->n_delivered);
        }
    }
    apr_atomic_inc32(&l->n_advances);
    return rv;
}

/* Read everything new below the stable cut; *punstable: rows wait above it. */
static apr_status_t read_stream(mi_push_listener_t *l, int *punstable)
{
    json_object *res;
    const char *xid;
    apr_status_t rv = APR_SUCCESS;
    int page;

    *punstable = 0;
    for (page = 0; page < MI_PUSH_LISTENER_READ_PAGES; page++) {
        apr_pool_clear(l->read_pool);
        rv = db_stream(l->conn, l->xid, l->seq, MI_PUSH_LISTENER_READ_LIMIT, l->read_pool, &res);
        if (rv != APR_SUCCESS) {
            break;
        }
        apr_atomic_inc32(&l->n_reads);
        apr_atomic_set32(&l->last_read_s, (apr_uint32_t)apr_time_sec(apr_time_now()));
        xid = mi_json_get_str(res, "xid");
        if (xid == NULL || strlen(xid) >= sizeof(l->xid)) {
            rv = APR_EGENERAL;
            break;
        }
        /* the cursor moves first: rows handed out are never read again, whatever the
         * cursor writes' outcome (a session not written reads them from the database) */
        apr_cpystrn(l->xid, xid, sizeof(l->xid));
        l->seq = mi_json_get_int(res, "seq", 0);
        *punstable = json_object_get_boolean(mi_json_get(res, "unstable"));
        rv = fan_out(l, res, xid, l->seq);
        if (rv != APR_SUCCESS) {
            break;
        }
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
static apr_status_t skip_to_head(mi_push_listener_t *l)
{
    const char *head = NULL;
    apr_status_t rv;

    apr_pool_clear(l->read_pool);
    rv = db_stream_head(l->conn, l->read_pool, &head);
    if (rv != APR_SUCCESS || head == NULL || strlen(head) >= sizeof(l->xid)) {
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    apr_atomic_set32(&l->last_read_s, (apr_uint32_t)apr_time_sec(apr_time_now()));
    if (mi_push_waiters_count(l->conf.waiters) == 0
        && apr_strtoi64(head, NULL, 10) > apr_strtoi64(l->xid, NULL, 10)) {
        apr_cpystrn(l->xid, head, sizeof(l->xid));
        l->seq = 0;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ disconnects */

/* "disconnect <cc> <clientId> <login>": answer our held connect of that session, if any;
 * "wake <cc> <clientId> <login>": that user's held connects read their sessions again. */
static void announced(mi_push_listener_t *l, const char *payload)
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
        apr_atomic_add32(&l->n_cancelled, (apr_uint32_t)mi_push_waiters_cancel_client(
            l->conf.waiters, (int)cc, login, client, MI_PUSH_WAITER_DISCONNECTED));
    }
    else {
        apr_atomic_add32(&l->n_woken, (apr_uint32_t)mi_push_waiters_notify(
            l->conf.waiters, (int)cc, &login, 1, 0));
    }
}

void mi_push_listener_announce(mi_push_listener_t *l, int disconnected, int cc, const char *login,
                               const char *client_id)
{
    apr_thread_mutex_lock(l->qlock);
    if (l->queue->nelts < MI_PUSH_LISTENER_MAX_ANNOUNCE) {
        APR_ARRAY_PUSH(l->queue, const char *) =
            apr_psprintf(l->qpool, "%s%d %s %s", disconnected ? DISCONNECT_TAG : WAKE_TAG, cc,
                         client_id, login);
    }
    apr_thread_mutex_unlock(l->qlock);
    mi_push_listener_poke(l);
}

/* Send the queued announcements (listener thread). */
static apr_status_t announce(mi_push_listener_t *l)
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
        rv = db_notify(l->conn, APR_ARRAY_IDX(todo, i, const char *));
    }
    return rv;
}

/* ------------------------------------------------------------------ the thread */

/* What is due when; only the listener thread touches it. */
typedef struct {
    apr_time_t next_connect;           /* connect: not before this */
    apr_interval_time_t backoff;       /* connect: the wait after the next failure */
    int held;                          /* connects are held here (counted every pass) */
    apr_time_t last_held;              /* say_hold: when connects were last held here */
    apr_time_t last_hold_sent;         /* say_hold: when "hold" was last sent */
    apr_time_t others_hold_until;      /* ring: another process holds connects until then */
    int need_bell;                     /* ring: pokes arrived since the last doorbell */
    int need_read;                     /* read: at once (a poke, a doorbell, a reconnect) */
    apr_time_t last_read;              /* read: the last read, or move of the cursor */
    int unstable;                      /* read: the last read left rows above the stable cut */
    apr_interval_time_t unstable_wait; /* read: the wait before looking at those rows again */
    apr_interval_time_t next_recheck;  /* read: that wait after the next such read */
} sched_t;

/* How long after the last read the next one is due.  Without held connects nobody waits
 * for a fallback read or a re-check: the cursor only follows the cut. */
static apr_interval_time_t read_interval(const sched_t *s)
{
    return !s->held ? IDLE : s->unstable ? s->unstable_wait : FALLBACK;
}

static void step_connect(mi_push_listener_t *l, sched_t *s, apr_time_t now)
{
    if (open_conn(l) == APR_SUCCESS) {
        s->backoff = BACKOFF_MIN;
        s->need_read = 1;
        /* until we have listened a while, assume the others hold connects */
        s->others_hold_until = now + HOLD_HEARD_FOR;
        s->last_hold_sent = 0;
    }
    else {
        s->next_connect = now + s->backoff;
        s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
    }
}

static apr_status_t step_announce(mi_push_listener_t *l, sched_t *s, apr_time_t now)
{
    (void)s;
    (void)now;
    return announce(l);
}

static apr_status_t step_say_hold(mi_push_listener_t *l, sched_t *s, apr_time_t now)
{
    if (s->last_held != 0 && now - s->last_held < 2 * FALLBACK
        && now - s->last_hold_sent >= FALLBACK) {
        /* Tell the others that connects are held here, so they ring for their writes.
         * Those who have not heard it yet (the first second of our first waiter) leave
         * our waiters to the fallback read. */
        s->last_hold_sent = now;
        return db_notify(l->conn, HOLD_TAG);
    }
    return APR_SUCCESS;
}

static apr_status_t step_ring(mi_push_listener_t *l, sched_t *s, apr_time_t now)
{
    apr_status_t rv;

    if (s->need_bell && now >= s->others_hold_until) {
        /* nobody else holds connects: a doorbell would wake no one (this process's
         * own waiters are read for below) */
        s->need_bell = 0;
    }
    if (!s->need_bell) {
        return APR_SUCCESS;
    }
    /* one doorbell for every poke since the last one, rung before our own read so that the
     * other processes read at the same time as this one */
    s->need_bell = 0;
    rv = db_notify(l->conn, "");
    if (rv == APR_SUCCESS) {
        apr_atomic_inc32(&l->n_doorbells);
    }
    return rv;
}

static apr_status_t step_read(mi_push_listener_t *l, sched_t *s, apr_time_t now)
{
    apr_status_t rv;

    if (!s->held && now >= s->last_read + read_interval(s)) {
        /* nobody to wake here; need_read waits for the first waiter */
        s->last_read = now;
        s->unstable = 0;
        s->next_recheck = RECHECK_MIN;
        return skip_to_head(l);
    }
    if (!s->held || !(s->need_read || now >= s->last_read + read_interval(s))) {
        return APR_SUCCESS;
    }
    s->need_read = 0;
    s->last_read = now;
    rv = read_stream(l, &s->unstable);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (s->unstable) {
        /* an older transaction still runs: look again soon, then less soon */
        s->unstable_wait = s->next_recheck;
        s->next_recheck = s->next_recheck * 2 > RECHECK_MAX ? RECHECK_MAX : s->next_recheck * 2;
    }
    else {
        s->next_recheck = RECHECK_MIN;
    }
    return APR_SUCCESS;
}

/* The steps that need the connection, in the order of a pass.  When one fails the
 * connection is dropped (@what is logged, once per outage), the stream is read as soon as
 * it is back, and a doorbell that may not have rung rings then (@ring_again). */
static const struct {
    apr_status_t (*run)(mi_push_listener_t *l, sched_t *s, apr_time_t now);
    const char *what;
    int ring_again;
} steps[] = {
    { step_announce, "announcing a disconnect failed", 0 },
    { step_say_hold, "ringing the doorbell failed", 1 },
    { step_ring, "ringing the doorbell failed", 1 },
    { step_read, "reading the history stream failed", 0 },
};

/* Take what arrived on the connection: the others' doorbells mean "read"; "hold" that they
 * hold connects; anything else announces a session change. */
static apr_status_t take_notifications(mi_push_listener_t *l, sched_t *s)
{
    PGnotify *nt;

    if (!PQconsumeInput(l->conn) || PQstatus(l->conn) != CONNECTION_OK) {
        return APR_EGENERAL;
    }
    while ((nt = PQnotifies(l->conn)) != NULL) {
        /* our own doorbell comes back too */
        if (nt->be_pid != PQbackendPID(l->conn)) {
            if (nt->extra != NULL && strcmp(nt->extra, HOLD_TAG) == 0) {
                s->others_hold_until = apr_time_now() + HOLD_HEARD_FOR;
            }
            else if (nt->extra != NULL && *nt->extra != '\0') {
                announced(l, nt->extra);
            }
            else {
                s->need_read = 1;
            }
        }
        PQfreemem(nt);
    }
    return APR_SUCCESS;
}

static void step_wait(mi_push_listener_t *l, sched_t *s)
{
    const apr_pollfd_t *out = NULL;
    apr_int32_t n = 0;
    apr_time_t now = apr_time_now();
    apr_time_t due = l->conn != NULL ? s->last_read + read_interval(s) : s->next_connect;

    /* Sleep until the next read is due, but look at the waiter count at least every
     * fallback period: the first held connect shortens the schedule. */
    if (due > now + FALLBACK) {
        due = now + FALLBACK;
    }
    apr_pollset_poll(l->pollset, due > now ? due - now : 0, &n, &out);
    if (apr_atomic_read32(&l->stopping)) {
        return;
    }
    if (l->conn != NULL && n > 0 && take_notifications(l, s) != APR_SUCCESS) {
        s->next_connect = lose_conn(l, "the connection was lost", s->backoff);
        s->need_read = 1;
    }
    if (apr_atomic_xchg32(&l->poked, 0)) {
        s->need_read = 1;
        s->need_bell = 1;
    }
}

static void *APR_THREAD_FUNC run(apr_thread_t *thread, void *data)
{
    mi_push_listener_t *l = data;
    sched_t s;
    apr_time_t now;
    size_t i;
    int failed;

    memset(&s, 0, sizeof(s));
    s.backoff = BACKOFF_MIN;
    s.unstable_wait = s.next_recheck = RECHECK_MIN;
    s.need_read = 1;
    while (!apr_atomic_read32(&l->stopping)) {
        now = apr_time_now();
        if (l->conn == NULL && now >= s.next_connect) {
            step_connect(l, &s, now);
        }
        s.held = mi_push_waiters_count(l->conf.waiters) > 0;
        if (s.held) {
            s.last_held = now;
        }
        failed = 0;
        for (i = 0; l->conn != NULL && i < sizeof(steps) / sizeof(steps[0]); i++) {
            if (steps[i].run(l, &s, now) != APR_SUCCESS) {
                s.next_connect = lose_conn(l, steps[i].what, s.backoff);
                s.need_read = 1;
                s.need_bell |= steps[i].ring_again;
                failed = 1;
                break;
            }
        }
        if (!failed) {
            step_wait(l, &s);
        }
    }
    drop_conn(l);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

apr_status_t mi_push_listener_start(mi_push_listener_t **pl, const mi_push_listener_conf_t *conf,
                                    apr_pool_t *p)
{
    mi_push_listener_t *l;
    apr_pool_t *lp;
    apr_status_t rv;

    *pl = NULL;
    rv = apr_pool_create(&lp, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_tag(lp, "mi_push_listener");
    l = apr_pcalloc(lp, sizeof(*l));
    l->pool = lp;
    l->conf = *conf;
    if (l->conf.statement_timeout_ms <= 0) {
        l->conf.statement_timeout_ms = MI_PUSH_LISTENER_STATEMENT_TIMEOUT_MS;
    }
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

void mi_push_listener_poke(mi_push_listener_t *l)
{
    if (apr_atomic_xchg32(&l->poked, 1) == 0) {
        apr_pollset_wakeup(l->pollset);
    }
}

void mi_push_listener_stop(mi_push_listener_t *l)
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

void mi_push_listener_stats(mi_push_listener_t *l, mi_push_listener_stats_t *st)
{
    st->reads = apr_atomic_read32(&l->n_reads);
    st->doorbells = apr_atomic_read32(&l->n_doorbells);
    st->connects = apr_atomic_read32(&l->n_connects);
    st->woken = apr_atomic_read32(&l->n_woken);
    st->cancelled = apr_atomic_read32(&l->n_cancelled);
    st->connected = apr_atomic_read32(&l->connected);
    st->last_read_s = apr_atomic_read32(&l->last_read_s);
    st->delivered = apr_atomic_read32(&l->n_delivered);
    st->advances = apr_atomic_read32(&l->n_advances);
}
