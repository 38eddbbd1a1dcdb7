/* mi_stats.c — see mi_stats.h */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "mi_stats.h"

static const int codes[MI_STATS_CODE_OTHER] = {
#define MI_STATS_CODE_VALUE(sc) sc,
    MI_STATS_CODES(MI_STATS_CODE_VALUE)
#undef MI_STATS_CODE_VALUE
};

static const apr_uint64_t bounds_us[MI_STATS_BUCKET_INF] = {
#define MI_STATS_BUCKET_VALUE(us) us,
    MI_STATS_BUCKETS(MI_STATS_BUCKET_VALUE)
#undef MI_STATS_BUCKET_VALUE
};

static int code_index(int sc)
{
    int i;

    for (i = 0; i < MI_STATS_CODE_OTHER; i++) {
        if (codes[i] == sc) {
            return i;
        }
    }
    return MI_STATS_CODE_OTHER;
}

static int bucket_index(apr_uint64_t usec)
{
    int i;

    for (i = 0; i < MI_STATS_BUCKET_INF && usec > bounds_us[i]; i++)
        ;
    return i;
}

void mi_stats_add(apr_uint64_t *field, apr_uint64_t n)
{
    __atomic_fetch_add(field, n, __ATOMIC_RELAXED);
}

void mi_stats_count(mi_stats_slot_t *slot, mi_op_e op, int sc, apr_uint64_t usec)
{
    if (slot == NULL || (int)op < 0 || op >= MI_OP__COUNT) {
        return;
    }
    mi_stats_add(&slot->requests[op][code_index(sc)], 1);
    mi_stats_add(&slot->latency[op][bucket_index(usec)], 1);
    mi_stats_add(&slot->latency_us[op], usec);
}

mi_stats_slot_t *mi_stats_claim(mi_stats_t *st, apr_uint32_t pid, int (*alive)(apr_uint32_t pid))
{
    int i, j;

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
                for (j = 0; j < MI_MAX_DATABASES; j++) {
                    st->slots[i].dbs[j].pool_in_use = 0;
                    st->slots[i].dbs[j].pool_max = 0;
                }
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

/* The exposition is built as a list of pieces and joined once. */
typedef struct {
    apr_array_header_t *parts;
    apr_pool_t *p;
} out_t;

static void put(out_t *o, const char *text)
{
    APR_ARRAY_PUSH(o->parts, const char *) = text;
}

static void family(out_t *o, const char *name, const char *type, const char *help)
{
    put(o, apr_psprintf(o->p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type));
}

static void metric(out_t *o, const char *name, const char *type, const char *help,
                   apr_uint64_t value)
{
    family(o, name, type, help);
    put(o, apr_psprintf(o->p, "%s %" APR_UINT64_T_FMT "\n", name, value));
}

/* seconds as Prometheus writes them, from microseconds */
static const char *seconds(apr_uint64_t usec, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT, usec / 1000000,
                        usec % 1000000);
}

static const char *bound(int b, apr_pool_t *p)
{
    char *s;
    apr_size_t n;

    if (b == MI_STATS_BUCKET_INF) {
        return "+Inf";
    }
    /* 0.001, 0.0025, 1, 2.5: the shortest decimal */
    s = apr_pstrdup(p, seconds(bounds_us[b], p));
    for (n = strlen(s); s[n - 1] == '0'; n--) {
        s[n - 1] = '\0';
    }
    if (s[n - 1] == '.') {
        s[n - 1] = '\0';
    }
    return s;
}

static void requests(out_t *o, const mi_stats_t *st)
{
    apr_uint64_t total;
    int i, op, c;

    family(o, "interactions_requests_total", "counter",
           "API requests by operation and the API statusCode answered (label status_code: "
           "0 success, 2 wrong state, 5 not allowed, 6 not found, 10 bad input, 20 not "
           "authenticated, 4 internal or unavailable, ...; not the HTTP status).");
    for (op = 0; op < MI_OP__COUNT; op++) {
        for (c = 0; c < MI_STATS_NCODES; c++) {
            total = 0;
            for (i = 0; i < st->nslots; i++) {
                total += rd(&st->slots[i].requests[op][c]);
            }
            if (total == 0) {
                continue;
            }
            put(o, apr_psprintf(o->p, "interactions_requests_total{op=\"%s\",status_code=\"%s\"} %"
                                APR_UINT64_T_FMT "\n", mi_op_name((mi_op_e)op),
                                c < MI_STATS_CODE_OTHER ? apr_itoa(o->p, codes[c]) : "other",
                                total));
        }
    }
}

/* The latency histogram, per operation with requests (Prometheus's cumulative buckets). */
static void latency(out_t *o, const mi_stats_t *st)
{
    int i, op, b;

    family(o, "interactions_request_duration_seconds", "histogram",
           "Time from reading a request to answering it, by operation (authentication "
           "included; a held /meta/connect counts its hold).");
    for (op = 0; op < MI_OP__COUNT; op++) {
        apr_uint64_t count = 0, sum = 0, n[MI_STATS_NBUCKETS];
        const char *name = mi_op_name((mi_op_e)op);
        for (b = 0; b < MI_STATS_NBUCKETS; b++) {
            n[b] = 0;
            for (i = 0; i < st->nslots; i++) {
                n[b] += rd(&st->slots[i].latency[op][b]);
            }
        }
        for (i = 0; i < st->nslots; i++) {
            sum += rd(&st->slots[i].latency_us[op]);
        }
        for (b = 0; b < MI_STATS_NBUCKETS; b++) {
            count += n[b];
        }
        if (count == 0) {
            continue;
        }
        count = 0;
        for (b = 0; b < MI_STATS_NBUCKETS; b++) {
            count += n[b];
            put(o, apr_psprintf(o->p, "interactions_request_duration_seconds_bucket{op=\"%s\","
                                "le=\"%s\"} %" APR_UINT64_T_FMT "\n", name, bound(b, o->p), count));
        }
        put(o, apr_psprintf(o->p, "interactions_request_duration_seconds_sum{op=\"%s\"} %s\n"
                            "interactions_request_duration_seconds_count{op=\"%s\"} %"
                            APR_UINT64_T_FMT "\n", name, seconds(sum, o->p), name, count));
    }
}

const char *mi_stats_prometheus(const mi_stats_t *st, int (*alive)(apr_uint32_t pid),
                                const char *version, const char *commit, apr_pool_t *p)
{
    out_t out = { apr_array_make(p, 256, sizeof(const char *)), p };
    out_t *o = &out;
    apr_uint64_t total;
    int i, live = 0;
    apr_uint64_t in_use = 0, max = 0, held = 0, connected = 0, last_read = 0, ws_open = 0;
    apr_uint64_t cache_bytes = 0, cache_rows = 0;

    family(o, "interactions_build_info", "gauge",
           "The module's version and the git commit it was built from (when known); always 1.");
    put(o, apr_psprintf(p, "interactions_build_info{version=\"%s\"%s} 1\n", version,
                        commit != NULL && *commit != '\0'
                        ? apr_psprintf(p, ",commit=\"%s\"", commit) : ""));
    requests(o, st);
    latency(o, st);
    total = 0; SUM(db_unavailable);
    metric(o, "interactions_db_unavailable_total", "counter",
           "Requests answered 503 because the database could not be reached.", total);
    total = 0; SUM(pool_opened);
    metric(o, "interactions_db_connections_opened_total", "counter",
           "Database connections opened by the pools.", total);
    total = 0; SUM(pool_connect_failures);
    metric(o, "interactions_db_connect_failures_total", "counter",
           "Failed attempts to open a database connection.", total);
    total = 0; SUM(pool_acquire_timeouts);
    metric(o, "interactions_db_acquire_timeouts_total", "counter",
           "Requests that found no free pooled connection in time.", total);
    total = 0; SUM(pool_discarded);
    metric(o, "interactions_db_connections_discarded_total", "counter",
           "Pooled connections closed because they were found dead or retired.", total);
    total = 0; SUM(maintenance_runs);
    metric(o, "interactions_maintenance_runs_total", "counter",
           "Runs of the maintenance sweep (offer timeouts, stuck routing).", total);
    total = 0; SUM(maintenance_changes);
    metric(o, "interactions_maintenance_changes_total", "counter",
           "Interactions changed by the maintenance sweep.", total);
    total = 0; SUM(push_reads);
    metric(o, "interactions_push_listener_reads_total", "counter",
           "Reads of the history stream by the push listeners.", total);
    total = 0; SUM(push_doorbells);
    metric(o, "interactions_push_doorbells_total", "counter",
           "NOTIFYs the push listeners rang to wake other processes and servers.", total);
    total = 0; SUM(push_listener_connects);
    metric(o, "interactions_push_listener_connections_total", "counter",
           "Connections the push listeners opened (one per process, plus reconnects).", total);
    total = 0; SUM(push_woken);
    metric(o, "interactions_push_woken_total", "counter",
           "Held /meta/connect requests woken because there was news for them.", total);
    total = 0; SUM(push_ws_opened);
    metric(o, "interactions_push_websocket_connections_total", "counter",
           "WebSocket connections the push channel accepted.", total);
    total = 0; SUM(push_ws_in);
    metric(o, "interactions_push_websocket_messages_received_total", "counter",
           "Text frames (Bayeux requests) received on push WebSocket connections.", total);
    total = 0; SUM(push_ws_out);
    metric(o, "interactions_push_websocket_messages_sent_total", "counter",
           "Text frames (Bayeux replies and deliveries) sent on push WebSocket connections.", total);
    for (i = 0; i < st->nslots; i++) {
        const mi_stats_slot_t *s = &st->slots[i];
        if (s->pid != 0 && alive(s->pid)) {
            ws_open += s->push_ws_open;
            live++;
            in_use += s->pool_in_use;
            max += s->pool_max;
            held += s->push_held;
            connected += s->push_listener_connected;
            cache_bytes += s->push_cache_bytes;
            cache_rows += s->push_cache_rows;
            /* the least recent of the listeners that have read */
            if (s->push_listener_read_s != 0
                && (last_read == 0 || s->push_listener_read_s < last_read)) {
                last_read = s->push_listener_read_s;
            }
        }
    }
    metric(o, "interactions_push_held_polls", "gauge",
           "Held /meta/connect requests and open push WebSocket connections now (each holds "
           "a worker thread), all processes.", held);
    metric(o, "interactions_push_websockets_open", "gauge",
           "Push WebSocket connections open now (each holds a worker thread, and counts in "
           "interactions_push_held_polls), all processes.", ws_open);
    metric(o, "interactions_push_listeners_connected", "gauge",
           "Processes whose push listener is connected to PostgreSQL (compare interactions_processes).",
           connected);
    metric(o, "interactions_push_listener_last_read_timestamp_seconds", "gauge",
           "When the push listener that read least recently last read the history stream "
           "successfully (Unix time; 0: none has yet).  A healthy one reads at least every 10 s: "
           "alert on time() minus this.", last_read);
    metric(o, "interactions_push_cache_bytes", "gauge",
           "Memory the rendered /v2/interactions messages take, all processes (each process at "
           "most InteractionsPushCacheSize).", cache_bytes);
    metric(o, "interactions_push_cache_rows", "gauge",
           "History rows whose /v2/interactions messages are kept rendered, all processes.",
           cache_rows);
    metric(o, "interactions_processes", "gauge",
           "httpd child processes running the module.", (apr_uint64_t)live);
    metric(o, "interactions_db_pool_in_use", "gauge",
           "Database connections in use now, all processes.", in_use);
    metric(o, "interactions_db_pool_max", "gauge",
           "Most database connections the running processes may open.", max);
    return apr_array_pstrcat(p, out.parts, 0);
}

void mi_stats_database(const mi_stats_t *st, int (*alive)(apr_uint32_t pid), int db,
                       mi_stats_db_t *out)
{
    int i;

    memset(out, 0, sizeof(*out));
    if (db < 0 || db >= MI_MAX_DATABASES) {
        return;
    }
    for (i = 0; i < st->nslots; i++) {
        const mi_stats_slot_t *s = &st->slots[i];
        const mi_stats_db_t *d = &s->dbs[db];
        out->unavailable += rd(&d->unavailable);
        out->connect_failures += rd(&d->connect_failures);
        out->acquire_timeouts += rd(&d->acquire_timeouts);
        out->maintenance_runs += rd(&d->maintenance_runs);
        if (s->pid != 0 && alive(s->pid)) {
            out->pool_in_use += d->pool_in_use;
            out->pool_max += d->pool_max;
            out->listener_connected += d->listener_connected;
            out->push_held += d->push_held;
        }
    }
}

/* A label's value as the text format quotes it. */
static const char *label_value(const char *v, apr_pool_t *p)
{
    char *out = apr_palloc(p, strlen(v) * 2 + 1), *o = out;

    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"') {
            *o++ = '\\';
            *o++ = *v;
        }
        else if (*v == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *v;
        }
    }
    *o = '\0';
    return out;
}

/* One family, one series per database. */
static void by_database(out_t *o, const char *name, const char *type, const char *help,
                        const char *const *names, const apr_uint64_t *values, int n)
{
    int i;

    family(o, name, type, help);
    for (i = 0; i < n; i++) {
        put(o, apr_psprintf(o->p, "%s{database=\"%s\"} %" APR_UINT64_T_FMT "\n", name,
                            label_value(names[i], o->p), values[i]));
    }
}

const char *mi_stats_prometheus_databases(const mi_stats_t *st, int (*alive)(apr_uint32_t pid),
                                          const char *const *names, int n, apr_pool_t *p)
{
    out_t out = { apr_array_make(p, 64, sizeof(const char *)), p };
    apr_uint64_t v[7][MI_MAX_DATABASES];
    mi_stats_db_t d;
    int i;

    if (n > MI_MAX_DATABASES) {
        n = MI_MAX_DATABASES;
    }
    for (i = 0; i < n; i++) {
        mi_stats_database(st, alive, i, &d);
        v[0][i] = d.unavailable;
        v[1][i] = d.connect_failures;
        v[2][i] = d.acquire_timeouts;
        v[3][i] = d.maintenance_runs;
        v[4][i] = d.pool_in_use;
        v[5][i] = d.pool_max;
        v[6][i] = d.listener_connected;
    }
    by_database(&out, "interactions_database_unavailable_total", "counter",
                "Requests answered 503 because their contact center's database could not be "
                "reached, by database.", names, v[0], n);
    by_database(&out, "interactions_database_connect_failures_total", "counter",
                "Failed attempts to open a connection, by database.", names, v[1], n);
    by_database(&out, "interactions_database_acquire_timeouts_total", "counter",
                "Requests that found no free pooled connection in time, by database.", names,
                v[2], n);
    by_database(&out, "interactions_database_maintenance_runs_total", "counter",
                "Runs of the maintenance sweep, by database.", names, v[3], n);
    by_database(&out, "interactions_database_pool_in_use", "gauge",
                "Connections in use now, all processes, by database.", names, v[4], n);
    by_database(&out, "interactions_database_pool_max", "gauge",
                "Most connections the running processes may open, by database.", names, v[5], n);
    by_database(&out, "interactions_database_push_listeners_connected", "gauge",
                "Processes whose push listener of this database is connected, by database.",
                names, v[6], n);
    return apr_array_pstrcat(p, out.parts, 0);
}
