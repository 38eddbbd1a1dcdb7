/* mi_stats.c — see mi_stats.h */
#include <string.h>

#include <apr_strings.h>

#include "mi_stats.h"

static const int codes[MI_STATS_NCODES - 1] = { MI_STATS_CODES };

static int code_index(int sc)
{
    int i;

    for (i = 0; i < MI_STATS_NCODES - 1; i++) {
        if (codes[i] == sc) {
            return i;
        }
    }
    return MI_STATS_NCODES - 1;
}

void mi_stats_add(apr_uint64_t *field, apr_uint64_t n)
{
    __atomic_fetch_add(field, n, __ATOMIC_RELAXED);
}

void mi_stats_count(mi_stats_slot_t *slot, mi_op_e op, int sc)
{
    if (slot == NULL || (int)op < 0 || op >= MI_OP__COUNT) {
        return;
    }
    mi_stats_add(&slot->requests[op][code_index(sc)], 1);
}

mi_stats_slot_t *mi_stats_claim(mi_stats_t *st, apr_uint32_t pid, int (*alive)(apr_uint32_t pid))
{
    int i;

    for (i = 0; i < st->nslots; i++) {
        if (st->slots[i].pid == pid) {
            return &st->slots[i];
        }
    }
    for (i = 0; i < st->nslots; i++) {
        apr_uint32_t old = st->slots[i].pid;
        if (old == 0 || !alive(old)) {
            if (__atomic_compare_exchange_n(&st->slots[i].pid, &old, pid, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                /* counters stay: they are the dead process's share of the totals */
                st->slots[i].pool_in_use = 0;
                st->slots[i].pool_max = 0;
                return &st->slots[i];
            }
        }
    }
    return NULL;
}

static apr_uint64_t rd(const apr_uint64_t *f)
{
    return __atomic_load_n(f, __ATOMIC_RELAXED);
}

#define SUM(field) do { for (i = 0; i < st->nslots; i++) total += rd(&st->slots[i].field); } while (0)

void mi_stats_totals(const mi_stats_t *st, int (*alive)(apr_uint32_t pid), apr_uint64_t *requests,
                     apr_uint64_t *errors, apr_uint64_t *unavailable, int *processes,
                     apr_uint64_t *in_use)
{
    int i, o, c;

    *requests = *errors = *unavailable = *in_use = 0;
    *processes = 0;
    for (i = 0; i < st->nslots; i++) {
        const mi_stats_slot_t *s = &st->slots[i];
        for (o = 0; o < MI_OP__COUNT; o++) {
            for (c = 0; c < MI_STATS_NCODES; c++) {
                apr_uint64_t n = rd(&s->requests[o][c]);
                *requests += n;
                if (c != 0) *errors += n;
            }
        }
        *unavailable += rd(&s->db_unavailable);
        if (s->pid != 0 && alive(s->pid)) {
            (*processes)++;
            *in_use += s->pool_in_use;
        }
    }
}

static void metric(apr_pool_t *p, char **out, const char *name, const char *type, const char *help,
                   apr_uint64_t value)
{
    *out = apr_psprintf(p, "%s# HELP %s %s\n# TYPE %s %s\n%s %" APR_UINT64_T_FMT "\n", *out, name,
                        help, name, type, name, value);
}

const char *mi_stats_prometheus(const mi_stats_t *st, int (*alive)(apr_uint32_t pid),
                                apr_uint32_t now_s, apr_pool_t *p)
{
    char *out = apr_pstrdup(p, "");
    apr_uint64_t total;
    int i, o, c, live = 0;
    apr_uint64_t in_use = 0, max = 0, held = 0, connected = 0, read_age = 0;
    apr_uint64_t cache_bytes = 0, cache_rows = 0;

    out = apr_pstrcat(p, out,
        "# HELP interactions_requests_total API requests by operation and the statusCode answered.\n"
        "# TYPE interactions_requests_total counter\n", NULL);
    for (o = 0; o < MI_OP__COUNT; o++) {
        for (c = 0; c < MI_STATS_NCODES; c++) {
            total = 0;
            for (i = 0; i < st->nslots; i++) {
                total += rd(&st->slots[i].requests[o][c]);
            }
            if (total == 0) {
                continue;
            }
            out = apr_psprintf(p, "%sinteractions_requests_total{op=\"%s\",status_code=\"%s\"} %"
                               APR_UINT64_T_FMT "\n", out, mi_op_name((mi_op_e)o),
                               c < MI_STATS_NCODES - 1 ? apr_itoa(p, codes[c]) : "other", total);
        }
    }
    total = 0; SUM(db_unavailable);
    metric(p, &out, "interactions_db_unavailable_total", "counter",
           "Requests answered 503 because the database could not be reached.", total);
    total = 0; SUM(pool_opened);
    metric(p, &out, "interactions_db_connections_opened_total", "counter",
           "Database connections opened by the pools.", total);
    total = 0; SUM(pool_connect_failures);
    metric(p, &out, "interactions_db_connect_failures_total", "counter",
           "Failed attempts to open a database connection.", total);
    total = 0; SUM(pool_acquire_timeouts);
    metric(p, &out, "interactions_db_acquire_timeouts_total", "counter",
           "Requests that found no free pooled connection in time.", total);
    total = 0; SUM(pool_discarded);
    metric(p, &out, "interactions_db_connections_discarded_total", "counter",
           "Pooled connections closed because they were found dead or retired.", total);
    total = 0; SUM(maintenance_runs);
    metric(p, &out, "interactions_maintenance_runs_total", "counter",
           "Runs of the maintenance sweep (offer timeouts, stuck routing).", total);
    total = 0; SUM(maintenance_changes);
    metric(p, &out, "interactions_maintenance_changes_total", "counter",
           "Interactions changed by the maintenance sweep.", total);
    total = 0; SUM(push_reads);
    metric(p, &out, "interactions_push_listener_reads_total", "counter",
           "Reads of the history stream by the push listeners.", total);
    total = 0; SUM(push_doorbells);
    metric(p, &out, "interactions_push_doorbells_total", "counter",
           "NOTIFYs the push listeners rang to wake other processes and servers.", total);
    total = 0; SUM(push_listener_connects);
    metric(p, &out, "interactions_push_listener_connections_total", "counter",
           "Connections the push listeners opened (one per process, plus reconnects).", total);
    total = 0; SUM(push_woken);
    metric(p, &out, "interactions_push_woken_total", "counter",
           "Held /meta/connect requests woken because there was news for them.", total);
    for (i = 0; i < st->nslots; i++) {
        const mi_stats_slot_t *s = &st->slots[i];
        if (s->pid != 0 && alive(s->pid)) {
            live++;
            in_use += s->pool_in_use;
            max += s->pool_max;
            held += s->push_held;
            connected += s->push_listener_connected;
            cache_bytes += s->push_cache_bytes;
            cache_rows += s->push_cache_rows;
            if (s->push_listener_read_s != 0 && now_s > s->push_listener_read_s
                && now_s - s->push_listener_read_s > read_age) {
                read_age = now_s - s->push_listener_read_s;
            }
        }
    }
    metric(p, &out, "interactions_push_held_polls", "gauge",
           "/meta/connect requests held now (each holds a worker thread), all processes.", held);
    metric(p, &out, "interactions_push_listeners_connected", "gauge",
           "Processes whose push listener is connected to PostgreSQL (compare interactions_processes).",
           connected);
    metric(p, &out, "interactions_push_listener_read_age_seconds", "gauge",
           "Seconds since the least recent successful read of any push listener (a healthy one reads "
           "at least every 10 s; more means it is stuck or disconnected).", read_age);
    metric(p, &out, "interactions_push_cache_bytes", "gauge",
           "Memory the rendered /v2/interactions messages take, all processes (each process at "
           "most InteractionsPushCacheSize).", cache_bytes);
    metric(p, &out, "interactions_push_cache_rows", "gauge",
           "History rows whose /v2/interactions messages are kept rendered, all processes.",
           cache_rows);
    metric(p, &out, "interactions_processes", "gauge",
           "httpd child processes running the module.", (apr_uint64_t)live);
    metric(p, &out, "interactions_db_pool_in_use", "gauge",
           "Database connections in use now, all processes.", in_use);
    metric(p, &out, "interactions_db_pool_max", "gauge",
           "Most database connections the running processes may open.", max);
    return out;
}
