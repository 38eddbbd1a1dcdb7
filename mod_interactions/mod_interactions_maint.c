/* mod_interactions_maint.c — starts and stops this child's maintenance thread (mi_maint.c,
 * which holds the loop and its statement).
 *
 * The glue gives it the interval (InteractionsMaintenanceInterval) and, after every run,
 * publishes the statistics and tells the push channel when something changed
 * (mi_ap_proc->on_change), so agents hear of revoked and re-routed offers at once.
 */
#include <httpd.h>
#include <http_log.h>

#include "mi_maint.h"
#include "mod_interactions_config.h"
#include "mod_interactions.h"
#include "mod_interactions_maint.h"
#include "mod_interactions_status.h"

/* on the maintenance thread, after every run */
static void after_run(void *baton, int ran, int changes)
{
    mi_ap_process_t *proc = baton;

    if (ran && changes > 0 && proc->on_change != NULL) {
        proc->on_change(proc);
    }
    mi_ap_status_publish(proc, ran, changes);
}

apr_status_t mi_ap_maint_start(mi_ap_process_t *proc, server_rec *s, apr_pool_t *pchild)
{
    mi_maint_conf_t conf;
    apr_status_t rv;

    conf.store = proc->store;
    conf.interval_ms = mi_ap_config_srv()->tick_ms;
    conf.after_run = after_run;
    conf.baton = proc;
    /* the thread is stopped and joined by a pre-cleanup of pchild */
    rv = mi_maint_create(&proc->maint, &conf, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00603)
                     "cannot start the maintenance thread: offers will not time out in this child");
    }
    return rv;
}

void mi_ap_maint_wake_for_stop(mi_ap_process_t *proc)
{
    if (proc->maint != NULL) {
        mi_maint_shutdown(proc->maint);
    }
}
