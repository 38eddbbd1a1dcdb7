/* mi_events.c — see mi_events.h */
#include <apr_strings.h>

#include "mi_events.h"
#include "mi_json.h"
#include "mi_status.h"
#include "mi_tunables.h"

/* Did the result bring events (or a refusal)?  Then it is the answer. */
static int final(json_object *res)
{
    json_object *events = mi_json_get(res, "events");

    return mi_json_get_int(res, "statusCode", MI_SC_INTERNAL) != MI_SC_OK
           || !json_object_is_type(events, json_type_array) || json_object_array_length(events) > 0;
}

apr_status_t mi_events_get(const mi_events_req_t *q, apr_pool_t *p, json_object **pres)
{
    mi_push_waiter_t *w = NULL;
    mi_push_waiter_state_e st;
    apr_time_t deadline, now;
    apr_status_t rv = APR_SUCCESS;
    int refused = 0;
    long long wait_s = mi_json_get_int(q->args, "wait", 0);

    *pres = NULL;
    if (wait_s > 0) {
        /* registered before the database is asked, so news committed in between wakes it;
         * a unique name per request: two polls of one user do not supersede each other */
        rv = q->waiters != NULL
                 ? mi_push_waiter_register(q->waiters, q->cc, q->login,
                                           apr_psprintf(p, "events %pp", (void *)p), p, &w)
                 : APR_EBUSY;
        if (rv != APR_SUCCESS) {
            refused = (rv != APR_EOF); /* stopping: answered at once, nothing to advise */
            w = NULL;
            wait_s = 0;
        }
        else {
            /* interested in every change of the contact center, as a /v2/interactions session */
            mi_push_waiter_narrow(q->waiters, w, 1);
        }
    }
    deadline = apr_time_now() + apr_time_from_sec(wait_s);
    for (;;) {
        rv = mi_store_api(q->store, q->cc, q->login, MI_OP_EVENTS, q->args, q->max_depth, p, pres);
        if (rv != APR_SUCCESS || final(*pres) || w == NULL) {
            break;
        }
        now = apr_time_now();
        if (deadline - now < apr_time_from_msec(MI_PUSH_MIN_HOLD_MS)) {
            break;
        }
        st = mi_push_waiter_wait(q->waiters, w,
                                 deadline - now > apr_time_from_msec(MI_PUSH_RECHECK_MS)
                                     ? now + apr_time_from_msec(MI_PUSH_RECHECK_MS)
                                     : deadline);
        if (st == MI_PUSH_WAITER_CANCELLED
            || (st == MI_PUSH_WAITER_TIMED_OUT && !mi_push_waiter_rearm(q->waiters, w))) {
            break; /* stopping, or the hold is over: what the last look found is the answer */
        }
    }
    if (w != NULL) {
        mi_push_waiter_unregister(q->waiters, w);
    }
    if (rv == APR_SUCCESS && refused && !final(*pres)) {
        /* not held: this process or this user holds all it may; poll again after a while */
        json_object_object_add(*pres, "retryAfterMs",
                               json_object_new_int(MI_PUSH_SHARE_INTERVAL_MS));
    }
    return rv;
}
