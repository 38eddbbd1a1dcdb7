/* mi_pgpool.h — a per-process pool of libpq connections.
 *
 * Modelled on mod_dbd's apr_reslist pool, with what it lacks: an acquire timeout (never a
 * hung worker), a health check on acquire (a connection the server closed is noticed before
 * use), a generation counter that retires every older connection once one is found dead (a
 * database restart kills them all), and a short circuit breaker so that while the database
 * is unreachable requests fail at once instead of each waiting for a connect timeout.
 *
 * Each connection owns a subpool; PQfinish is that pool's cleanup.
 */
#ifndef MI_PGPOOL_H
#define MI_PGPOOL_H

#include <apr_pools.h>
#include <apr_time.h>
#include <libpq-fe.h>

typedef struct mi_pgpool_t mi_pgpool_t;

typedef struct {
    PGconn *conn;
    apr_pool_t *pool;          /* lives as long as the connection */
    void *user;                /* for the pool's user (e.g. the store's prepared-statement state) */
    apr_uint32_t generation;
    apr_time_t created;
} mi_pgconn_t;

/** Called once for every new connection (prepare statements, set session state). */
typedef apr_status_t mi_pgpool_init_cb(mi_pgconn_t *c, void *baton);

typedef struct {
    const char *conninfo;
    const char *password;      /* overrides the conninfo's password; NULL: the conninfo's */
    int min;                   /* connections opened at start when the database answers */
    int keep;                  /* idle connections kept (apr_reslist smax) */
    int max;                   /* hard maximum per process */
    apr_interval_time_t ttl;   /* idle connections above keep close after this */
    apr_interval_time_t acquire_timeout;
    apr_interval_time_t down_backoff;  /* after a failed connect, fail fast for this long */
    int connect_timeout_s;     /* libpq connect_timeout unless the conninfo sets one */
    const char *application_name;
    mi_pgpool_init_cb *init;
    void *init_baton;
} mi_pgpool_conf_t;

typedef struct {
    apr_uint32_t in_use;
    apr_uint32_t opened;       /* connections opened since start */
    apr_uint32_t connect_failures;
    apr_uint32_t acquire_timeouts;
    apr_uint32_t discarded;    /* found dead or retired */
    int max;
} mi_pgpool_stats_t;

/** Create the pool (never fails because the database is down). */
apr_status_t mi_pgpool_create(mi_pgpool_t **ppool, const mi_pgpool_conf_t *conf, apr_pool_t *p);

/** Take a healthy connection.  APR_ETIMEDOUT: all busy for acquire_timeout;
 *  APR_ECONNREFUSED: the database cannot be reached now. */
apr_status_t mi_pgpool_acquire(mi_pgpool_t *pool, mi_pgconn_t **pc);

/** Give @c back.  Pass @broken when a query failed at the connection level or the session
 *  state is unknown; the connection is closed instead of reused. */
void mi_pgpool_release(mi_pgpool_t *pool, mi_pgconn_t *c, int broken);

/** Counters for server-status and metrics. */
void mi_pgpool_stats(mi_pgpool_t *pool, mi_pgpool_stats_t *st);

/** Is the circuit breaker open (the last connect failed within down_backoff)? */
int mi_pgpool_is_down(mi_pgpool_t *pool);

/** Open one connection outside the pool with the pool's settings (for the listener). */
apr_status_t mi_pgpool_connect_direct(mi_pgpool_t *pool, PGconn **pconn, const char **perr,
                                      apr_pool_t *p);

/** A name for the database of @conninfo that shows no secret, for logs, server-status and
 *  metrics: "dbname@host:port" with what the string names (libpq's defaults otherwise:
 *  "default" for a part it leaves out); "invalid" when libpq cannot read the string. */
const char *mi_pgpool_label(const char *conninfo, apr_pool_t *p);

/** mi_pgpool_label() of the pool's database, for what it logs and what others log of it. */
const char *mi_pgpool_name(const mi_pgpool_t *pool);

/** Route libpq notices of @conn to the module log instead of stderr. */
void mi_pg_quiet_notices(PGconn *conn);

#endif
