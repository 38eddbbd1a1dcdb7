/* mi_maint.c — see mi_maint.h */
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "mi_log.h"
#include "mi_maint.h"
#include "mi_tunables.h"

/* $1: the batch (MI_MAINT_BATCH); $2: the interval, which lets the push sweep tell an
 * outage (no run for a while) from silence */
#define MAINT_SQL "SELECT interactions.maintenance($1::int, $2::int)"

struct mi_maint_t {
    mi_maint_conf_t conf;
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex;    /* guards stop; the thread sleeps on cond under it */
    apr_thread_cond_t *cond;
    volatile int stop;
    int failing;                  /* the last run failed (said once, until one succeeds) */
};

/* One run of interactions.maintenance(), then after_run. */
static void run_once(mi_maint_t *m, apr_pool_t *p)
{
    const char *params[2];
    const char *val = NULL;
    apr_status_t rv;

    params[0] = apr_itoa(p, MI_MAINT_BATCH);
    params[1] = apr_itoa(p, m->conf.interval_ms);
    rv = mi_store_scalar(m->conf.store, MAINT_SQL, 2, params, p, &val);
    if (rv == MI_STORE_UNAVAILABLE) {
        /* One lost connection (the server ended it, e.g. pg_terminate_backend) is not
         * an outage: the sweep is idempotent, so run it again at once on a new one.
         * When the database is really away the pool refuses at once. */
        rv = mi_store_scalar(m->conf.store, MAINT_SQL, 2, params, p, &val);
    }
    if (rv != APR_SUCCESS) {
        if (!m->failing) {
            /* the store logged the cause; say once that background work is paused */
            mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, rv, NULL, MI_LOGNO(00601)
                          "maintenance cannot run (offer timeouts wait) until the database "
                          "answers (database %s)", mi_pgpool_name(mi_store_pool(m->conf.store)));
            m->failing = 1;
        }
        m->conf.after_run(m->conf.baton, 0, 0);
        return;
    }
    if (m->failing) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_NOTICE, 0, NULL, MI_LOGNO(00602)
                      "maintenance runs again (database %s)",
                      mi_pgpool_name(mi_store_pool(m->conf.store)));
        m->failing = 0;
    }
    m->conf.after_run(m->conf.baton, 1, val != NULL ? atoi(val) : 0);
}

static void *APR_THREAD_FUNC maint_main(apr_thread_t *thread, void *data)
{
    mi_maint_t *m = data;
    apr_interval_time_t interval = apr_time_from_msec(m->conf.interval_ms);
    apr_pool_t *tmp;

    apr_pool_create(&tmp, NULL);
    apr_thread_mutex_lock(m->mutex);
    while (!m->stop) {
        /* a little jitter keeps the children of one server from ticking in step */
        apr_interval_time_t wait = interval + apr_time_from_msec(MI_MAINT_JITTER_MS)
                                              * (apr_time_now() % 1000) / 1000;
        apr_thread_cond_timedwait(m->cond, m->mutex, wait);
        if (m->stop) {
            break;
        }
        apr_thread_mutex_unlock(m->mutex);
        run_once(m, tmp);
        apr_pool_clear(tmp);
        apr_thread_mutex_lock(m->mutex);
    }
    apr_thread_mutex_unlock(m->mutex);
    apr_pool_destroy(tmp);
    (void)thread;
    return NULL;   /* returning ends the thread; nothing waits for an exit status */
}

void mi_maint_shutdown(mi_maint_t *m)
{
    apr_thread_mutex_lock(m->mutex);
    m->stop = 1;
    apr_thread_cond_broadcast(m->cond);
    apr_thread_mutex_unlock(m->mutex);
}

/* A pre-cleanup of the pool the thread was started with: it runs before that pool's other
 * cleanups, so the thread is gone before the pool and the store it uses are destroyed. */
static apr_status_t maint_stop(void *data)
{
    mi_maint_t *m = data;
    apr_status_t trv;

    mi_maint_shutdown(m);
    apr_thread_join(&trv, m->thread);
    return APR_SUCCESS;
}

apr_status_t mi_maint_create(mi_maint_t **pm, const mi_maint_conf_t *conf, apr_pool_t *p)
{
    mi_maint_t *m = apr_pcalloc(p, sizeof(*m));
    apr_threadattr_t *attr;
    apr_status_t rv;

    *pm = NULL;
    m->conf = *conf;
    if ((rv = apr_thread_mutex_create(&m->mutex, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&m->cond, p)) != APR_SUCCESS
        || (rv = apr_threadattr_create(&attr, p)) != APR_SUCCESS) {
        goto leave;
    }
    apr_threadattr_stacksize_set(attr, MI_MAINT_STACK_SIZE);
    rv = apr_thread_create(&m->thread, attr, maint_main, m, p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    apr_pool_pre_cleanup_register(p, m, maint_stop);
    *pm = m;

leave:
    return rv;
}
