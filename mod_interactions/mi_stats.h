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

/* Requests are counted per operation (mi_ops.h: the REST calls, every operationName, the
 * push channel, and "other" for requests never decoded) and per statusCode. */
/* statusCodes counted separately; anything else lands in the last bucket */
#define MI_STATS_CODES 0, 1, 2, 3, 4, 5, 6, 10, 11, 18, 20
#define MI_STATS_NCODES 12

typedef struct {
    volatile apr_uint32_t pid;            /* the process using the slot; 0 if never used */
    apr_uint32_t pad;
    apr_uint64_t requests[MI_OP__COUNT][MI_STATS_NCODES];
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
} mi_stats_slot_t;

typedef struct {
    int nslots;
    mi_stats_slot_t *slots;
} mi_stats_t;

/** Count one request of operation @op answered with statusCode @sc. */
void mi_stats_count(mi_stats_slot_t *slot, mi_op_e op, int sc);

/** Add @n to a counter field atomically. */
void mi_stats_add(apr_uint64_t *field, apr_uint64_t n);

/** Claim a slot for process @pid: its own from before, a never-used one, or one whose
 *  process is gone (@alive tells).  NULL when all are in use. */
mi_stats_slot_t *mi_stats_claim(mi_stats_t *st, apr_uint32_t pid, int (*alive)(apr_uint32_t pid));

/** The Prometheus text exposition (format 0.0.4) of all slots, summed; @now_s (epoch
 *  seconds) dates the listener's read age. */
const char *mi_stats_prometheus(const mi_stats_t *st, int (*alive)(apr_uint32_t pid),
                                apr_uint32_t now_s, apr_pool_t *p);

/** Totals for a short human summary: requests, errors (statusCode != 0), 503s, live
 *  processes, connections in use. */
void mi_stats_totals(const mi_stats_t *st, int (*alive)(apr_uint32_t pid), apr_uint64_t *requests,
                     apr_uint64_t *errors, apr_uint64_t *unavailable, int *processes,
                     apr_uint64_t *in_use);

#endif
