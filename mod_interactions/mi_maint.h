/* mi_maint.h — the maintenance thread of a process.
 *
 * Offers time out without any request arriving, so something must run
 * interactions.maintenance() on its own: one thread per process, every interval
 * (InteractionsMaintenanceInterval).  The SQL function takes a transaction-level advisory
 * lock and returns at once when another process (of this or another httpd server) holds it,
 * so many processes and servers run it safely; with nothing due it costs one index probe
 * per step.  After every run the thread tells its owner (after_run): the glue wakes the
 * push channel when something changed, so agents hear of revoked and re-routed offers at
 * once, and publishes the statistics.  The statement is in mi_maint.c, beside the loop; its
 * fixed numbers are in mi_tunables.h.
 */
#ifndef MI_MAINT_H
#define MI_MAINT_H

#include <apr_pools.h>

#include "mi_store.h"

typedef struct mi_maint_t mi_maint_t;

typedef struct {
    mi_store_t *store;            /* runs on its pooled connections */
    int interval_ms;              /* between runs (a little jitter is added) */
    /* After every run, on the maintenance thread: @ran 1 and what it changed (@changes
     * interactions), or @ran 0 when the database did not answer. */
    void (*after_run)(void *baton, int ran, int changes);
    void *baton;
} mi_maint_conf_t;

/** Start the thread (in a child process; never in the parent).  A pre-cleanup of @p stops
 *  it and waits for it, so it is gone before @p's other cleanups run (the store it uses
 *  must outlive it).  Logs nothing: a failure is the caller's to report. */
apr_status_t mi_maint_create(mi_maint_t **pm, const mi_maint_conf_t *conf, apr_pool_t *p);

/** Let the thread end now rather than at the end of its interval (a graceful stop);
 *  callable from any thread, and it does not wait. */
void mi_maint_shutdown(mi_maint_t *m);

#endif
