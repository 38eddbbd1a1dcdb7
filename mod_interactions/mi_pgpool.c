/* mi_pgpool.c — see mi_pgpool.h */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_reslist.h>
#include <apr_strings.h>

#include "mi_log.h"
#include "mi_pgpool.h"

struct mi_pgpool_t {
    apr_pool_t *pool;
    apr_reslist_t *reslist;
    mi_pgpool_conf_t conf;
    const char *label;          /* mi_pgpool_label() of conf.conninfo */
    const char *const *keywords;
    const char *const *values;
    volatile apr_uint32_t generation;
    volatile apr_uint32_t in_use;
    volatile apr_uint32_t opened;
    volatile apr_uint32_t connect_failures;
    volatile apr_uint32_t acquire_timeouts;
    volatile apr_uint32_t discarded;
    /* apr_time_t of the last failed connect, read and written atomically as two halves is
     * not possible portably, so it is kept in seconds*1000+ms granularity in 32 bits. */
    volatile apr_uint32_t down_since_ms;
};

static apr_uint32_t now_ms(void)
{
    return (apr_uint32_t)(apr_time_as_msec(apr_time_now()) & 0xFFFFFFFFu);
}

int mi_pgpool_is_down(mi_pgpool_t *pool)
{
    apr_uint32_t since = apr_atomic_read32(&pool->down_since_ms);

    return since != 0
           && (apr_uint32_t)(now_ms() - since) < (apr_uint32_t)apr_time_as_msec(pool->conf.down_backoff);
}

static void notice_receiver(void *arg, const PGresult *res)
{
    (void)arg;
    mi_log_perror(MI_LOG_MARK, MI_LOG_DEBUG, 0, NULL, MI_LOGNO(00101) "PostgreSQL notice: %s",
                  PQresultErrorMessage(res));
}

void mi_pg_quiet_notices(PGconn *conn)
{
    PQsetNoticeReceiver(conn, notice_receiver, NULL);
}

static apr_status_t open_conn(mi_pgpool_t *pool, PGconn **pconn, const char **perr, apr_pool_t *p)
{
    PGconn *conn = PQconnectdbParams(pool->keywords, pool->values, 1);

    *pconn = NULL;
    if (conn == NULL) {
        *perr = "out of memory";
        return APR_ENOMEM;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        /* libpq's message names host and port only, never the password */
        char *msg = apr_pstrdup(p, PQerrorMessage(conn));
        apr_size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
        *perr = msg;
        PQfinish(conn);
        return APR_ECONNREFUSED;
    }
    mi_pg_quiet_notices(conn);
    *pconn = conn;
    return APR_SUCCESS;
}

apr_status_t mi_pgpool_connect_direct(mi_pgpool_t *pool, PGconn **pconn, const char **perr,
                                      apr_pool_t *p)
{
    return open_conn(pool, pconn, perr, p);
}

static apr_status_t conn_cleanup(void *data)
{
    mi_pgconn_t *c = data;

    if (c->conn != NULL) {
        PQfinish(c->conn);
        c->conn = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t construct(void **resource, void *params, apr_pool_t *rlpool)
{
    mi_pgpool_t *pool = params;
    apr_pool_t *cp;
    mi_pgconn_t *c;
    const char *err = NULL;
    apr_status_t rv;

    if (mi_pgpool_is_down(pool)) {
        return APR_ECONNREFUSED;
    }
    apr_pool_create(&cp, rlpool);
    apr_pool_tag(cp, "mi_pgconn");
    c = apr_pcalloc(cp, sizeof(*c));
    c->pool = cp;
    c->generation = apr_atomic_read32(&pool->generation);
    c->created = apr_time_now();
    rv = open_conn(pool, &c->conn, &err, cp);
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(cp, c, conn_cleanup, apr_pool_cleanup_null);
        if (pool->conf.init != NULL) {
            rv = pool->conf.init(c, pool->conf.init_baton);
            err = "initializing the connection failed";
        }
    }
    if (rv != APR_SUCCESS) {
        apr_atomic_inc32(&pool->connect_failures);
        apr_atomic_set32(&pool->down_since_ms, now_ms() | 1u);
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, rv, NULL,
                      MI_LOGNO(00102) "cannot connect to PostgreSQL: %s (database %s)",
                      err ? err : "", pool->label);
        apr_pool_destroy(cp);
        return rv;
    }
    apr_atomic_set32(&pool->down_since_ms, 0);
    apr_atomic_inc32(&pool->opened);
    *resource = c;
    return APR_SUCCESS;
}

static apr_status_t destruct(void *resource, void *params, apr_pool_t *rlpool)
{
    mi_pgconn_t *c = resource;

    (void)params;
    (void)rlpool;
    apr_pool_destroy(c->pool);
    return APR_SUCCESS;
}

apr_status_t mi_pgpool_create(mi_pgpool_t **ppool, const mi_pgpool_conf_t *conf, apr_pool_t *p)
{
    mi_pgpool_t *pool = apr_pcalloc(p, sizeof(*pool));
    const char **kw = apr_pcalloc(p, 5 * sizeof(char *));
    const char **val = apr_pcalloc(p, 5 * sizeof(char *));
    apr_status_t rv;

    pool->pool = p;
    pool->conf = *conf;
    pool->label = mi_pgpool_label(conf->conninfo, p);
    /* Our defaults come first: with expand_dbname the conninfo's own settings override them. */
    kw[0] = "application_name";
    val[0] = conf->application_name ? conf->application_name : "mod_interactions";
    kw[1] = "connect_timeout";
    val[1] = apr_itoa(p, conf->connect_timeout_s > 0 ? conf->connect_timeout_s : 3);
    kw[2] = "dbname";
    val[2] = conf->conninfo ? conf->conninfo : "";
    /* After dbname, so that it overrides the conninfo: the password read from the file
     * named by InteractionsDatabasePasswordFile.  It stays in the process's memory only
     * (never in the environment, where any process of the same user could read it). */
    if (conf->password != NULL && conf->password[0] != '\0') {
        kw[3] = "password";
        val[3] = conf->password;
    }
    pool->keywords = kw;
    pool->values = val;

    /* apr_reslist_create() opens `min` connections at once and fails if it cannot; the
     * server must start with the database down, so fall back to an empty pool. */
    rv = apr_reslist_create(&pool->reslist, conf->min, conf->keep, conf->max, conf->ttl,
                            construct, destruct, pool, p);
    if (rv != APR_SUCCESS && conf->min > 0) {
        apr_atomic_set32(&pool->down_since_ms, 0);
        rv = apr_reslist_create(&pool->reslist, 0, conf->keep, conf->max, conf->ttl,
                                construct, destruct, pool, p);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_reslist_cleanup_order_set(pool->reslist, APR_RESLIST_CLEANUP_FIRST);
    apr_reslist_timeout_set(pool->reslist, conf->acquire_timeout);
    *ppool = pool;
    return APR_SUCCESS;
}

/* A connection is healthy when it belongs to the current generation, is idle, and the server
 * has said nothing since it was last used.  An idle pooled connection never LISTENs and runs
 * no query, so whatever the server sends it announces the connection's end: a FATAL from
 * pg_terminate_backend(), idle_session_timeout or a shutdown, then the close.  The message
 * can arrive before the close does, and libpq still reports CONNECTION_OK after reading it,
 * so input alone is reason enough not to hand the connection out (a request on it would
 * fail with 503). */
static int healthy(mi_pgpool_t *pool, mi_pgconn_t *c)
{
    struct pollfd pfd;

    if (c->generation != apr_atomic_read32(&pool->generation)
        || PQstatus(c->conn) != CONNECTION_OK
        || PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
        return 0;
    }
    pfd.fd = PQsocket(c->conn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (pfd.fd < 0) {
        return 0;
    }
    if (poll(&pfd, 1, 0) > 0) {
        (void)PQconsumeInput(c->conn);   /* the notice reaches the notice receiver */
        return 0;
    }
    return 1;
}

apr_status_t mi_pgpool_acquire(mi_pgpool_t *pool, mi_pgconn_t **pc)
{
    apr_status_t rv;
    void *res;
    int tries;

    *pc = NULL;
    for (tries = 0; tries < pool->conf.max + 2; tries++) {
        rv = apr_reslist_acquire(pool->reslist, &res);
        if (rv != APR_SUCCESS) {
            if (APR_STATUS_IS_TIMEUP(rv) || rv == APR_ETIMEDOUT) {
                apr_atomic_inc32(&pool->acquire_timeouts);
                return APR_ETIMEDOUT;
            }
            return APR_ECONNREFUSED;
        }
        if (healthy(pool, res)) {
            apr_atomic_inc32(&pool->in_use);
            *pc = res;
            return APR_SUCCESS;
        }
        /* One dead connection means the server went away: retire all older ones. */
        if (PQstatus(((mi_pgconn_t *)res)->conn) != CONNECTION_OK) {
            apr_atomic_inc32(&pool->generation);
        }
        apr_atomic_inc32(&pool->discarded);
        apr_reslist_invalidate(pool->reslist, res);
    }
    return APR_ECONNREFUSED;
}

void mi_pgpool_release(mi_pgpool_t *pool, mi_pgconn_t *c, int broken)
{
    if (c == NULL) {
        return;
    }
    apr_atomic_dec32(&pool->in_use);
    if (broken || PQstatus(c->conn) != CONNECTION_OK
        || PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
        if (PQstatus(c->conn) != CONNECTION_OK) {
            apr_atomic_inc32(&pool->generation);
        }
        apr_atomic_inc32(&pool->discarded);
        apr_reslist_invalidate(pool->reslist, c);
        return;
    }
    apr_reslist_release(pool->reslist, c);
}

void mi_pgpool_stats(mi_pgpool_t *pool, mi_pgpool_stats_t *st)
{
    st->in_use = apr_atomic_read32(&pool->in_use);
    st->opened = apr_atomic_read32(&pool->opened);
    st->connect_failures = apr_atomic_read32(&pool->connect_failures);
    st->acquire_timeouts = apr_atomic_read32(&pool->acquire_timeouts);
    st->discarded = apr_atomic_read32(&pool->discarded);
    st->max = pool->conf.max;
}

const char *mi_pgpool_label(const char *conninfo, apr_pool_t *p)
{
    PQconninfoOption *opts, *o;
    const char *host = NULL, *port = NULL, *dbname = NULL, *label;
    char *err = NULL;

    opts = PQconninfoParse(conninfo != NULL ? conninfo : "", &err);
    if (opts == NULL) {
        PQfreemem(err);
        return "invalid";
    }
    /* only these three: the string may also hold a password */
    for (o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL || *o->val == '\0') {
            continue;
        }
        if (strcmp(o->keyword, "host") == 0 || (host == NULL && strcmp(o->keyword, "hostaddr") == 0)) {
            host = o->val;
        }
        else if (strcmp(o->keyword, "port") == 0) {
            port = o->val;
        }
        else if (strcmp(o->keyword, "dbname") == 0) {
            dbname = o->val;
        }
    }
    label = apr_pstrcat(p, dbname != NULL ? dbname : "default", "@",
                        host != NULL ? host : "default", ":", port != NULL ? port : "default",
                        NULL);
    PQconninfoFree(opts);
    return label;
}

const char *mi_pgpool_name(const mi_pgpool_t *pool)
{
    return pool->label;
}
