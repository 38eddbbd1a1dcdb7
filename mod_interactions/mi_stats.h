/* mi_stats.h — counters and gauges for server-status and the Prometheus endpoint.
 *
 * Every child process owns one slot of an array in shared memory (created by the parent
 * before it forks) and only ever adds to it; whoever serves /metrics sums the slots.
 * Counters stay in their slot when a child exits and a new child adopts the slot, so
 * totals only grow (until a restart, which Prometheus treats as a counter reset); gauges
 * are summed over live processes only.
 */
#ifndef MI_STATS_H
#define MI_STATS_H

#include <apr.h>
#include <apr_pools.h>

#include "mi_ops.h"
#include "mi_tunables.h"

/* Requests are counted per operation (mi_ops.h: the REST calls, every operationName, the
 * push channel, and "other" for requests never decoded) and per statusCode, and their
 * latency per operation in a histogram. */

/* statusCodes counted separately (mi_status.h); anything else lands in "other" */
#define MI_STATS_CODES(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(10) X(11) X(18) X(20)

/* Upper bounds of the latency histogram in microseconds, then +Inf.  From a cached read
 * (about a millisecond) to a held /meta/connect (InteractionsPushTimeout, 25 s by
 * default; at most 60 s). */
#define MI_STATS_BUCKETS(X) \
    X(1000) X(2500) X(5000) X(10000) X(25000) X(50000) X(100000) X(250000) X(500000) \
    X(1000000) X(2500000) X(5000000) X(10000000) X(30000000) X(60000000)

enum {
#define MI_STATS_CODE_ENUM(sc) MI_STATS_CODE_##sc,
    MI_STATS_CODES(MI_STATS_CODE_ENUM)
#undef MI_STATS_CODE_ENUM
    MI_STATS_CODE_OTHER,
    MI_STATS_NCODES
};

enum {
#define MI_STATS_BUCKET_ENUM(us) MI_STATS_BUCKET_##us,
    MI_STATS_BUCKETS(MI_STATS_BUCKET_ENUM)
#undef MI_STATS_BUCKET_ENUM
    MI_STATS_BUCKET_INF,
    MI_STATS_NBUCKETS
};

/* One database's share of a process's figures (server-status and metrics by database). */
typedef struct {
    apr_uint64_t unavailable;             /* requests answered 503 */
    apr_uint64_t connect_failures;
    apr_uint64_t acquire_timeouts;
    apr_uint64_t maintenance_runs;
    apr_uint32_t pool_in_use;
    apr_uint32_t pool_max;
    apr_uint32_t listener_connected;      /* 1 while its push listener's connection is open */
    apr_uint32_t push_held;               /* /meta/connect requests of its contact centers */
} mi_stats_db_t;

typedef struct {
    volatile apr_uint32_t pid;            /* the process using the slot; 0 if never used */
    apr_uint32_t pad;
    apr_uint64_t requests[MI_OP__COUNT][MI_STATS_NCODES];
    apr_uint64_t latency[MI_OP__COUNT][MI_STATS_NBUCKETS];  /* requests per bucket (not
                                                               cumulative) */
    apr_uint64_t latency_us[MI_OP__COUNT];                  /* their sum, microseconds */
    apr_uint64_t db_unavailable;          /* requests answered 503 */
    apr_uint64_t maintenance_runs;
    apr_uint64_t maintenance_changes;
    /* gauges and pool counters, published by the process itself */
    apr_uint64_t pool_opened;
    apr_uint64_t pool_connect_failures;
    apr_uint64_t pool_acquire_timeouts;
    apr_uint64_t pool_discarded;
    apr_uint32_t pool_in_use;
    apr_uint32_t pool_max;
    /* the push channel, published by the process itself */
    apr_uint64_t push_reads;              /* the listener's reads of the history stream */
    apr_uint64_t push_doorbells;          /* NOTIFYs it rang */
    apr_uint64_t push_listener_connects;  /* connections it opened (1 + reconnects) */
    apr_uint64_t push_woken;              /* held connects it woke */
    apr_uint32_t push_held;               /* /meta/connect requests held now */
    apr_uint32_t push_listener_connected; /* 1 while its connection is open */
    apr_uint32_t push_listener_read_s;    /* epoch seconds of its last successful read */
    apr_uint32_t push_pad;
    /* the process's rendered /v2/interactions messages (mi_push_cache.h) */
    apr_uint64_t push_cache_bytes;        /* what they cost now */
    apr_uint32_t push_cache_rows;         /* history rows kept */
    apr_uint32_t push_cache_pad;
    /* the push channel's WebSocket connections, counted by the connections themselves */
    apr_uint64_t push_ws_opened;          /* upgrades accepted */
    apr_uint64_t push_ws_in;              /* text messages received */
    apr_uint64_t push_ws_out;             /* text messages sent */
    apr_uint32_t push_ws_open;            /* open now (each holds a worker thread) */
    apr_uint32_t push_ws_pad;
    /* by database, in the order of the configuration (mi_stats_prometheus_databases()) */
    mi_stats_db_t dbs[MI_MAX_DATABASES];
} mi_stats_slot_t;

typedef struct {
    int nslots;
    mi_stats_slot_t *slots;
} mi_stats_t;

/** Count one request of operation @op answered with statusCode @sc after @usec
 *  microseconds. */
void mi_stats_count(mi_stats_slot_t *slot, mi_op_e op, int sc, apr_uint64_t usec);

/** Add @n to a counter field atomically. */
void mi_stats_add(apr_uint64_t *field, apr_uint64_t n);

/** Claim a slot for process @pid: its own from before, a never-used one, or one whose
 *  process is gone (@alive tells).  NULL when all are in use. */
mi_stats_slot_t *mi_stats_claim(mi_stats_t *st, apr_uint32_t pid, int (*alive)(apr_uint32_t pid));

/** The Prometheus text exposition (format 0.0.4) of all slots, summed, and the build's
 *  info (@version, and @commit unless NULL or empty). */
const char *mi_stats_prometheus(const mi_stats_t *st, int (*alive)(apr_uint32_t pid),
                                const char *version, const char *commit, apr_pool_t *p);

/** Totals for a short human summary: requests, errors (statusCode != 0), 503s, live
 *  processes, connections in use. */
void mi_stats_totals(const mi_stats_t *st, int (*alive)(apr_uint32_t pid), apr_uint64_t *requests,
                     apr_uint64_t *errors, apr_uint64_t *unavailable, int *processes,
                     apr_uint64_t *in_use);

/** The figures of each database, labelled database="@names[i]" (i < @n, at most
 *  MI_MAX_DATABASES), in the Prometheus text format. */
const char *mi_stats_prometheus_databases(const mi_stats_t *st, int (*alive)(apr_uint32_t pid),
                                          const char *const *names, int n, apr_pool_t *p);

/** Database @db's figures summed over the slots (gauges over live processes only). */
void mi_stats_database(const mi_stats_t *st, int (*alive)(apr_uint32_t pid), int db,
                       mi_stats_db_t *out);

#endif
