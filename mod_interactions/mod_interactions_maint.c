/* mod_interactions_maint.c — the maintenance thread of each child process.
 *
 * Offers time out without any request arriving, so something must run
 * interactions.maintenance() on its own: one thread per child, every
 * InteractionsMaintenanceInterval.  The SQL function takes a transaction-level advisory lock
 * and returns at once when another child (of this or another httpd server) holds it, so many
 * children and servers run it safely; with nothing due it costs one index probe per step.
 * When it changed something it tells the push channel (mi_ap_proc->on_change), so agents hear
 * of revoked and re-routed offers at once.
 */
#include <httpd.h>
#include <http_log.h>
#include <http_main.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "mod_interactions.h"
#include "mod_interactions_config.h"
#include "mod_interactions_maint.h"
#include "mod_interactions_status.h"

#define MAINT_SQL "SELECT interactions.maintenance(200, $1::int)"

typedef struct mi_ap_maint_t {
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    volatile int stop;
    apr_interval_time_t interval;
    mi_ap_process_t *proc;
} mi_ap_maint_t;

static void *APR_THREAD_FUNC maint_main(apr_thread_t *thread, void *data)
{
    mi_ap_maint_t *m = data;
    apr_pool_t *tmp;
    int failing = 0;

    apr_pool_create(&tmp, NULL);
    apr_thread_mutex_lock(m->mutex);
    while (!m->stop) {
        /* a little jitter keeps the children of one server from ticking in step */
        apr_interval_time_t wait = m->interval + (apr_interval_time_t)(apr_time_now() % 1000) * 50;
        apr_thread_cond_timedwait(m->cond, m->mutex, wait);
        if (m->stop) {
            break;
        }
        apr_thread_mutex_unlock(m->mutex);
        {
            /* the tick lets the push sweep tell an outage (no tick for a while) from silence */
            const char *tick = apr_itoa(tmp, (int)apr_time_as_msec(m->interval));
            const char *val = NULL;
            apr_status_t rv = mi_store_scalar(m->proc->store, MAINT_SQL, 1, &tick, tmp, &val);
            if (rv == MI_STORE_UNAVAILABLE) {
                /* One lost connection (the server ended it, e.g. pg_terminate_backend) is not
                 * an outage: the sweep is idempotent, so run it again at once on a new one.
                 * When the database is really away the pool refuses at once. */
                rv = mi_store_scalar(m->proc->store, MAINT_SQL, 1, &tick, tmp, &val);
            }
            if (rv == APR_SUCCESS) {
                if (failing) {
                    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ap_server_conf, MI_LOGNO(00602)
                                 "maintenance runs again");
                    failing = 0;
                }
                if (val != NULL && atoi(val) > 0 && m->proc->on_change != NULL) {
                    m->proc->on_change(m->proc);
                }
                mi_ap_status_publish_pool(mi_store_pool(m->proc->store), 1,
                                          val != NULL ? atoi(val) : 0);
            }
            else {
                mi_ap_status_publish_pool(mi_store_pool(m->proc->store), 0, 0);
            }
            if (rv != APR_SUCCESS && !failing) {
                /* the store logged the cause; say once that background work is paused */
                ap_log_error(APLOG_MARK, APLOG_WARNING, rv, ap_server_conf, MI_LOGNO(00601)
                             "maintenance cannot run (offer timeouts wait) until the database answers");
                failing = 1;
            }
            apr_pool_clear(tmp);
        }
        apr_thread_mutex_lock(m->mutex);
    }
    apr_thread_mutex_unlock(m->mutex);
    apr_pool_destroy(tmp);
    (void)thread;
    return NULL;   /* returning ends the thread; nothing waits for an exit status */
}

/* Runs before the child pool's other cleanups, so the thread is gone before the pool and
 * the database pool it uses are destroyed. */
static apr_status_t maint_stop(void *data)
{
    mi_ap_maint_t *m = data;
    apr_status_t trv;

    apr_thread_mutex_lock(m->mutex);
    m->stop = 1;
    apr_thread_cond_broadcast(m->cond);
    apr_thread_mutex_unlock(m->mutex);
    apr_thread_join(&trv, m->thread);
    return APR_SUCCESS;
}

void mi_ap_maint_wake_for_stop(mi_ap_process_t *proc)
{
    mi_ap_maint_t *m = proc->maint;

    if (m != NULL) {
        apr_thread_mutex_lock(m->mutex);
        m->stop = 1;
        apr_thread_cond_broadcast(m->cond);
        apr_thread_mutex_unlock(m->mutex);
    }
}

apr_status_t mi_ap_maint_start(mi_ap_process_t *proc, server_rec *s, apr_pool_t *pchild)
{
    const mi_ap_srv_conf_t *sc = mi_ap_config_srv();
    mi_ap_maint_t *m = apr_pcalloc(pchild, sizeof(*m));
    apr_threadattr_t *attr;
    apr_status_t rv;

    m->proc = proc;
    m->interval = apr_time_from_msec(sc->tick_ms);
    if ((rv = apr_thread_mutex_create(&m->mutex, APR_THREAD_MUTEX_DEFAULT, pchild)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&m->cond, pchild)) != APR_SUCCESS
        || (rv = apr_threadattr_create(&attr, pchild)) != APR_SUCCESS) {
        goto leave;
    }
    apr_threadattr_stacksize_set(attr, 256 * 1024);
    rv = apr_thread_create(&m->thread, attr, maint_main, m, pchild);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    apr_pool_pre_cleanup_register(pchild, m, maint_stop);
    proc->maint = m;

leave:
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00603)
                     "cannot start the maintenance thread: offers will not time out in this child");
    }
    return rv;
}
