/* mod_interactions_status.c — the operations view: a section in mod_status's server-status
 * page and a Prometheus text endpoint ("SetHandler interactions-metrics").
 *
 * The counters live in anonymous shared memory created by the parent in post_config (not in
 * the dry run), one slot per possible child process (ServerLimit); each child claims a slot
 * in child_init and is its only writer.  See mi_stats.h for what is counted.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_mpm.h>
#include <apr_optional_hooks.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <mod_status.h>

#include "mi_build.h"
#include "mi_push_listener.h"
#include "mi_push.h"
#include "mi_stats.h"
#include "mi_push_waiters.h"
#include "mod_interactions.h"
#include "mod_interactions_authn.h"
#include "mod_interactions_db.h"
#include "mod_interactions_status.h"

#define MI_METRICS_HANDLER "interactions-metrics"

static mi_stats_t stats;          /* shared by the parent and its children */
static mi_stats_slot_t *my_stats;      /* this child's slot */

static int alive(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static apr_status_t stats_gone(void *data)
{
    (void)data;
    stats.slots = NULL;
    stats.nslots = 0;
    my_stats = NULL;
    return APR_SUCCESS;
}

apr_status_t mi_ap_status_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    int limit = 0;
    apr_status_t rv;

    /* httpd runs post_config twice at its first start, the first time as a dry run, and once
     * per restart; the state tells the dry run apart, also when a restart is the first
     * time the module is loaded (a2enmod, then a reload) */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return APR_SUCCESS;
    }
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit);
    if (limit < 1) {
        limit = 1;
    }
    rv = apr_shm_create(&shm, sizeof(mi_stats_slot_t) * (apr_size_t)limit, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, MI_LOGNO(00701)
                     "no shared memory for statistics; server-status and metrics stay empty");
        return APR_SUCCESS;
    }
    stats.slots = apr_shm_baseaddr_get(shm);
    stats.nslots = limit;
    memset(stats.slots, 0, sizeof(mi_stats_slot_t) * (apr_size_t)limit);
    apr_pool_cleanup_register(pconf, NULL, stats_gone, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void mi_ap_status_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)pchild;
    if (stats.slots == NULL) {
        return;
    }
    my_stats = mi_stats_claim(&stats, (apr_uint32_t)getpid(), alive);
    if (my_stats == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00702)
                     "no free statistics slot for this child; its requests are not counted");
    }
}

/* The operation of a request lives in the module's slot of r->request_config: set by the
 * handler once it knows, read when the answer is counted. */
void mi_ap_status_op(request_rec *r, mi_op_e op)
{
    mi_op_e *slot = ap_get_module_config(r->request_config, &interactions_module);

    if (slot == NULL) {
        slot = apr_palloc(r->pool, sizeof(*slot));
        ap_set_module_config(r->request_config, &interactions_module, slot);
    }
    *slot = op;
}

void mi_ap_status_count(request_rec *r, int status, int sc)
{
    const mi_op_e *op = ap_get_module_config(r->request_config, &interactions_module);

    if (my_stats == NULL) {
        return;
    }
    /* from reading the request line: authentication, the body and the database included */
    mi_stats_count(my_stats, op != NULL ? *op : MI_OP_NONE, sc,
                   r->request_time > 0 ? (apr_uint64_t)(apr_time_now() - r->request_time) : 0);
    if (status == HTTP_SERVICE_UNAVAILABLE) {
        int db = mi_ap_db_index(r);

        mi_stats_add(&my_stats->db_unavailable, 1);
        if (db >= 0 && db < MI_MAX_DATABASES) {
            mi_stats_add(&my_stats->dbs[db].unavailable, 1);
        }
    }
}

void mi_ap_status_ws(int open, apr_uint64_t in, apr_uint64_t out)
{
    if (my_stats == NULL) {
        return;
    }
    if (open > 0) {
        mi_stats_add(&my_stats->push_ws_opened, 1);
        __atomic_add_fetch(&my_stats->push_ws_open, 1, __ATOMIC_RELAXED);
    }
    else if (open < 0) {
        __atomic_sub_fetch(&my_stats->push_ws_open, 1, __ATOMIC_RELAXED);
    }
    if (in > 0) {
        mi_stats_add(&my_stats->push_ws_in, in);
    }
    if (out > 0) {
        mi_stats_add(&my_stats->push_ws_out, out);
    }
}

/* The process's figures over all its databases, and database @proc's own. */
void mi_ap_status_publish(mi_ap_process_t *proc, int ran, int changes)
{
    mi_pgpool_stats_t ps;
    apr_uint64_t opened = 0, failures = 0, timeouts = 0, discarded = 0, reads = 0;
    apr_uint64_t doorbells = 0, connects = 0, woken = 0, cache_bytes = 0;
    apr_uint32_t in_use = 0, max = 0, held = 0, cache_rows = 0, last_read = 0;
    int i, all_connected = 1;

    if (my_stats == NULL || proc == NULL) {
        return;
    }
    if (ran) {
        mi_stats_add(&my_stats->maintenance_runs, 1);
        mi_stats_add(&my_stats->maintenance_changes, (apr_uint64_t)changes);
        if (proc->db >= 0 && proc->db < MI_MAX_DATABASES) {
            mi_stats_add(&my_stats->dbs[proc->db].maintenance_runs, 1);
        }
    }
    for (i = 0; i < mi_ap_db_count() && i < MI_MAX_DATABASES; i++) {
        mi_ap_process_t *p = mi_ap_db_proc_at(i);
        mi_stats_db_t *d = &my_stats->dbs[i];
        if (p == NULL) {
            continue;
        }
        mi_pgpool_stats(mi_store_pool(p->store), &ps);
        in_use += ps.in_use;
        max += (apr_uint32_t)ps.max;
        opened += ps.opened;
        failures += ps.connect_failures;
        timeouts += ps.acquire_timeouts;
        discarded += ps.discarded;
        d->pool_in_use = ps.in_use;
        d->pool_max = (apr_uint32_t)ps.max;
        __atomic_store_n(&d->connect_failures, (apr_uint64_t)ps.connect_failures, __ATOMIC_RELAXED);
        __atomic_store_n(&d->acquire_timeouts, (apr_uint64_t)ps.acquire_timeouts, __ATOMIC_RELAXED);
        if (p->waiters != NULL) {
            d->push_held = (apr_uint32_t)mi_push_waiters_count(p->waiters);
            held += d->push_held;
        }
        d->listener_connected = 0;
        if (p->listener != NULL) {
            mi_push_listener_stats_t ls;
            mi_push_listener_stats(p->listener, &ls);
            reads += ls.reads;
            doorbells += ls.doorbells;
            connects += ls.connects;
            woken += ls.woken;
            d->listener_connected = ls.connected ? 1 : 0;
            /* the least recent of this process's listeners */
            if (last_read == 0 || (ls.last_read_s != 0 && ls.last_read_s < last_read)) {
                last_read = ls.last_read_s;
            }
        }
        all_connected = all_connected && d->listener_connected;
        if (p->push != NULL) {
            mi_push_cache_stats_t cs;
            mi_push_cache_stats(mi_push_cache_of(p->push), &cs);
            cache_bytes += cs.bytes;
            cache_rows += (apr_uint32_t)cs.rows;
        }
    }
    my_stats->pool_in_use = in_use;
    my_stats->pool_max = max;
    /* the pools' own counters are per process and cumulative: publish them as they are */
    __atomic_store_n(&my_stats->pool_opened, opened, __ATOMIC_RELAXED);
    __atomic_store_n(&my_stats->pool_connect_failures, failures, __ATOMIC_RELAXED);
    __atomic_store_n(&my_stats->pool_acquire_timeouts, timeouts, __ATOMIC_RELAXED);
    __atomic_store_n(&my_stats->pool_discarded, discarded, __ATOMIC_RELAXED);
    my_stats->push_held = held;
    __atomic_store_n(&my_stats->push_reads, reads, __ATOMIC_RELAXED);
    __atomic_store_n(&my_stats->push_doorbells, doorbells, __ATOMIC_RELAXED);
    __atomic_store_n(&my_stats->push_listener_connects, connects, __ATOMIC_RELAXED);
    __atomic_store_n(&my_stats->push_woken, woken, __ATOMIC_RELAXED);
    /* a process counts as connected when the listeners of all its databases are */
    my_stats->push_listener_connected = all_connected ? 1 : 0;
    my_stats->push_listener_read_s = last_read;
    __atomic_store_n(&my_stats->push_cache_bytes, cache_bytes, __ATOMIC_RELAXED);
    my_stats->push_cache_rows = cache_rows;
}

/* The databases' labels in their order, for the figures by database. */
static const char *const *database_names(apr_pool_t *p, int *pn)
{
    int i, n = mi_ap_db_count() < MI_MAX_DATABASES ? mi_ap_db_count() : MI_MAX_DATABASES;
    const char **names = apr_pcalloc(p, sizeof(*names) * (apr_size_t)(n + 1));

    for (i = 0; i < n; i++) {
        names[i] = mi_ap_db_at(i)->label;
    }
    *pn = n;
    return names;
}

/* GET of the Prometheus text format */
static int metrics_handler(request_rec *r)
{
    const char *text;
    const char *const *names;
    int n;

    if (r->handler == NULL || strcmp(r->handler, MI_METRICS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    text = stats.slots != NULL
           ? mi_stats_prometheus(&stats, alive, MI_BUILD_VERSION, MI_BUILD_COMMIT, r->pool)
           : "";
    names = database_names(r->pool, &n);
    if (stats.slots != NULL) {
        text = apr_pstrcat(r->pool, text,
                           mi_stats_prometheus_databases(&stats, alive, names, n, r->pool), NULL);
    }
    text = apr_pstrcat(r->pool, text, mi_ap_authn_prometheus(r->pool), NULL);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}

/* A section of server-status (and lines of server-status?auto) */
static int status_hook(request_rec *r, int flags)
{
    apr_uint64_t requests, errors, unavailable, in_use;
    const char *const *names;
    mi_stats_db_t d;
    int processes, i, n;

    if (stats.slots == NULL) {
        return OK;
    }
    mi_stats_totals(&stats, alive, &requests, &errors, &unavailable, &processes, &in_use);
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "InteractionsRequests: %" APR_UINT64_T_FMT "\n"
                      "InteractionsErrors: %" APR_UINT64_T_FMT "\n"
                      "InteractionsDBUnavailable: %" APR_UINT64_T_FMT "\n"
                      "InteractionsProcesses: %d\n"
                      "InteractionsDBConnectionsInUse: %" APR_UINT64_T_FMT "\n",
                   requests, errors, unavailable, processes, in_use);
        names = database_names(r->pool, &n);
        for (i = 0; i < n; i++) {
            mi_stats_database(&stats, alive, i, &d);
            ap_rprintf(r, "InteractionsDatabase%d: %s in_use=%u max=%u unavailable=%"
                          APR_UINT64_T_FMT " listeners=%u\n", i, names[i], d.pool_in_use,
                       d.pool_max, d.unavailable, d.listener_connected);
        }
    }
    else {
        ap_rputs("<hr />\n<h2>mod_interactions</h2>\n<dl>\n", r);
        ap_rprintf(r, "<dt>API requests: %" APR_UINT64_T_FMT " (%" APR_UINT64_T_FMT
                      " refused or failed, %" APR_UINT64_T_FMT " answered 503)</dt>\n",
                   requests, errors, unavailable);
        ap_rprintf(r, "<dt>child processes with the module: %d; database connections in use: %"
                      APR_UINT64_T_FMT "</dt>\n", processes, in_use);
        names = database_names(r->pool, &n);
        for (i = 0; i < n; i++) {
            mi_stats_database(&stats, alive, i, &d);
            ap_rprintf(r, "<dt>database %s: %u connections in use of %u, %" APR_UINT64_T_FMT
                          " requests answered 503, push listeners connected in %u processes"
                          "</dt>\n", ap_escape_html(r->pool, names[i]), d.pool_in_use,
                       d.pool_max, d.unavailable, d.listener_connected);
        }
        ap_rputs("<dt>per operation and statusCode: see the Prometheus endpoint "
                 "(SetHandler " MI_METRICS_HANDLER ")</dt>\n</dl>\n", r);
    }
    return OK;
}

void mi_ap_status_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_handler(metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
