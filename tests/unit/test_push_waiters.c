/* test_push_waiters.c — the registry of held connects: states, keys, the cap, shutdown, and a
 * wake-up across threads.  No assertion depends on timing: waits that must end early use
 * deadlines far in the future (a failure would show as a hang of that length plus a wrong
 * state), waits that must time out use deadlines in the past. */
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "mi_push_waiters.h"
#include "unit.h"

#define FAR (apr_time_now() + apr_time_from_sec(60))
#define PAST (apr_time_now() - 1)

static mi_push_waiters_t *registry(int max)
{
    mi_push_waiters_t *reg = NULL;

    CU_ASSERT_EQUAL_FATAL(mi_push_waiters_create(&reg, max, tp), APR_SUCCESS);
    return reg;
}

static mi_push_waiter_t *reg_ok(mi_push_waiters_t *reg, int cc, const char *login, const char *client)
{
    mi_push_waiter_t *w = NULL;

    CU_ASSERT_EQUAL_FATAL(mi_push_waiter_register(reg, cc, login, client, tp, &w), APR_SUCCESS);
    return w;
}

static void a_waiter_times_out_when_nothing_happens(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");

    CU_ASSERT_EQUAL(mi_push_waiters_count(reg), 1);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_TIMED_OUT);
    /* final: a notification after the timeout changes nothing */
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, (const char *[]){ "agent1" }, 1, 0), 0);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, FAR), MI_PUSH_WAITER_TIMED_OUT);
    mi_push_waiter_unregister(reg, w);
    CU_ASSERT_EQUAL(mi_push_waiters_count(reg), 0);
}

static void a_timed_out_waiter_can_wait_again_unless_cancelled(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");
    mi_push_waiter_t *v;

    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_TIMED_OUT);
    CU_ASSERT_TRUE(mi_push_waiter_rearm(reg, w));
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, (const char *[]){ "agent1" }, 1, 0), 1);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, FAR), MI_PUSH_WAITER_NOTIFIED);
    /* a cancellation while it was timed out wins over re-arming */
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_TIMED_OUT);
    CU_ASSERT_EQUAL(mi_push_waiters_cancel_client(reg, 1, "agent1", "c1", MI_PUSH_WAITER_DISCONNECTED), 1);
    CU_ASSERT_FALSE(mi_push_waiter_rearm(reg, w));
    CU_ASSERT_EQUAL(mi_push_waiter_reason(reg, w), MI_PUSH_WAITER_DISCONNECTED);
    mi_push_waiter_unregister(reg, w);
    /* and a shut-down registry re-arms nobody */
    v = reg_ok(reg, 1, "agent2", "c2");
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, v, PAST), MI_PUSH_WAITER_TIMED_OUT);
    mi_push_waiters_shutdown(reg);
    CU_ASSERT_FALSE(mi_push_waiter_rearm(reg, v));
    CU_ASSERT_EQUAL(mi_push_waiter_reason(reg, v), MI_PUSH_WAITER_STOPPING);
    mi_push_waiter_unregister(reg, v);
}

static void a_notification_before_the_wait_is_not_lost(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");

    /* registered, then the database was checked, then news arrived, then the wait */
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, (const char *[]){ "agent1" }, 1, 0), 1);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_NOTIFIED);
    /* consumed: re-armed and waiting again */
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_TIMED_OUT);
}

static void notifications_reach_only_the_named_users_of_that_contact_center(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *a1 = reg_ok(reg, 1, "agent1", "c1");
    mi_push_waiter_t *a2 = reg_ok(reg, 1, "agent2", "c2");
    mi_push_waiter_t *other = reg_ok(reg, 2, "agent1", "c3");   /* same login, other contact center */

    mi_push_waiter_narrow(reg, a1, 0);
    mi_push_waiter_narrow(reg, a2, 0);
    mi_push_waiter_narrow(reg, other, 0);
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, (const char *[]){ "agent1", "nobody" }, 2, 0), 1);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, a1, PAST), MI_PUSH_WAITER_NOTIFIED);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, a2, PAST), MI_PUSH_WAITER_TIMED_OUT);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, other, PAST), MI_PUSH_WAITER_TIMED_OUT);
}

static void contact_center_news_reaches_only_interested_waiters(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *sup = reg_ok(reg, 1, "supervisor", "c1");
    mi_push_waiter_t *agent = reg_ok(reg, 1, "agent1", "c2");
    mi_push_waiter_t *elsewhere = reg_ok(reg, 2, "supervisor", "c3");
    mi_push_waiter_t *unknown = reg_ok(reg, 1, "agent2", "c4");

    mi_push_waiter_narrow(reg, sup, 1);
    mi_push_waiter_narrow(reg, agent, 0);
    mi_push_waiter_narrow(reg, elsewhere, 1);
    /* not narrowed yet (its session not read): interested in everything, so no news can
     * slip between registering and knowing the subscriptions */
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, NULL, 0, 1), 2);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, sup, PAST), MI_PUSH_WAITER_NOTIFIED);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, unknown, PAST), MI_PUSH_WAITER_NOTIFIED);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, agent, PAST), MI_PUSH_WAITER_TIMED_OUT);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, elsewhere, PAST), MI_PUSH_WAITER_TIMED_OUT);
}

static void widening_the_interest_looks_once_more(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "supervisor", "c1");

    mi_push_waiter_narrow(reg, w, 1);     /* listed from the start: nothing to catch up */
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_TIMED_OUT);
    w = reg_ok(reg, 1, "supervisor", "c2");
    mi_push_waiter_narrow(reg, w, 0);
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, NULL, 0, 1), 0);
    /* the session subscribed meanwhile: news it missed while unlisted is looked for */
    mi_push_waiter_narrow(reg, w, 1);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_NOTIFIED);
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, NULL, 0, 1), 1);
}

static void a_newer_connect_of_the_same_session_supersedes_the_held_one(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *old = reg_ok(reg, 1, "agent1", "c1");
    mi_push_waiter_t *same_id_other_user = reg_ok(reg, 1, "agent2", "c1");
    mi_push_waiter_t *newer = reg_ok(reg, 1, "agent1", "c1");

    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, old, FAR), MI_PUSH_WAITER_CANCELLED);
    CU_ASSERT_EQUAL(mi_push_waiter_reason(reg, old), MI_PUSH_WAITER_SUPERSEDED);
    /* another user naming that clientId cancels nothing of agent1's */
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, same_id_other_user, PAST), MI_PUSH_WAITER_TIMED_OUT);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, newer, PAST), MI_PUSH_WAITER_TIMED_OUT);
}

static void a_disconnect_cancels_that_sessions_waiter(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");
    mi_push_waiter_t *keep = reg_ok(reg, 1, "agent1", "c2");

    CU_ASSERT_EQUAL(mi_push_waiters_cancel_client(reg, 1, "agent2", "c1", MI_PUSH_WAITER_DISCONNECTED), 0);
    CU_ASSERT_EQUAL(mi_push_waiters_cancel_client(reg, 1, "agent1", "c1", MI_PUSH_WAITER_DISCONNECTED), 1);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, FAR), MI_PUSH_WAITER_CANCELLED);
    CU_ASSERT_EQUAL(mi_push_waiter_reason(reg, w), MI_PUSH_WAITER_DISCONNECTED);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, keep, PAST), MI_PUSH_WAITER_TIMED_OUT);
}

static void the_registry_refuses_waiters_beyond_its_cap(void)
{
    mi_push_waiters_t *reg = registry(2);
    mi_push_waiters_t *none = registry(0);
    mi_push_waiter_t *w = NULL, *a, *b;

    a = reg_ok(reg, 1, "a", "c1");
    b = reg_ok(reg, 1, "b", "c2");
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "c", "c3", tp, &w), APR_EBUSY);
    CU_ASSERT_PTR_NULL(w);
    mi_push_waiter_unregister(reg, a);
    mi_push_waiter_unregister(reg, a);    /* idempotent */
    CU_ASSERT_EQUAL(mi_push_waiters_count(reg), 1);
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "c", "c3", tp, &w), APR_SUCCESS);
    CU_ASSERT_EQUAL(mi_push_waiter_register(none, 1, "c", "c3", tp, &w), APR_EBUSY);
    (void)b;
}

static void one_user_and_one_contact_center_get_only_their_share(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = NULL, *a, *b, *old;

    mi_push_waiters_limit(reg, 2, 3);
    a = reg_ok(reg, 1, "agent1", "c1");
    b = reg_ok(reg, 1, "agent1", "c2");
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "agent1", "c3", tp, &w), MI_PUSH_WAITERS_USER_FULL);
    CU_ASSERT_PTR_NULL(w);
    /* refused: nothing of the user's was cancelled */
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, a, PAST), MI_PUSH_WAITER_TIMED_OUT);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, b, PAST), MI_PUSH_WAITER_TIMED_OUT);
    /* a session held here reconnecting replaces its waiter: never refused */
    old = a;
    a = reg_ok(reg, 1, "agent1", "c1");
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, old, FAR), MI_PUSH_WAITER_CANCELLED);
    CU_ASSERT_EQUAL(mi_push_waiters_count_of(reg, 1, "agent1"), 3);
    mi_push_waiter_unregister(reg, old);   /* its thread answers and leaves */
    CU_ASSERT_EQUAL(mi_push_waiters_count_of(reg, 1, "agent1"), 2);
    /* the same login in another contact center is another user */
    reg_ok(reg, 2, "agent1", "c4");
    /* the contact center's share */
    reg_ok(reg, 1, "agent2", "c5");
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "agent3", "c6", tp, &w), MI_PUSH_WAITERS_CC_FULL);
    CU_ASSERT_EQUAL(mi_push_waiters_count_of(reg, 1, NULL), 3);
    CU_ASSERT_EQUAL(mi_push_waiters_count_of(reg, 2, NULL), 1);
    CU_ASSERT_EQUAL(mi_push_waiters_count_of(reg, 1, "agent3"), 0);
    /* room again once a waiter leaves */
    mi_push_waiter_unregister(reg, a);
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "agent3", "c6", tp, &w), APR_SUCCESS);
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "agent1", "c7", tp, &w), MI_PUSH_WAITERS_CC_FULL);
    /* no shares: only the registry's cap */
    mi_push_waiters_limit(reg, 0, 0);
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "agent1", "c7", tp, &w), APR_SUCCESS);
}

static void shutdown_answers_everyone_and_refuses_newcomers(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *a = reg_ok(reg, 1, "a", "c1"), *b = reg_ok(reg, 2, "b", "c2"), *w = NULL;

    CU_ASSERT_EQUAL(mi_push_waiters_shutdown(reg), 2);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, a, FAR), MI_PUSH_WAITER_CANCELLED);
    CU_ASSERT_EQUAL(mi_push_waiter_reason(reg, b), MI_PUSH_WAITER_STOPPING);
    CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1, "c", "c3", tp, &w), APR_EOF);
}

static void notify_everyone_wakes_all(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *a = reg_ok(reg, 1, "a", "c1"), *b = reg_ok(reg, 2, "b", "c2");

    mi_push_waiter_narrow(reg, a, 0);
    CU_ASSERT_EQUAL(mi_push_waiters_notify_everyone(reg), 2);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, a, PAST), MI_PUSH_WAITER_NOTIFIED);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, b, PAST), MI_PUSH_WAITER_NOTIFIED);
}

static void a_pool_cleanup_unregisters_a_forgotten_waiter(void)
{
    mi_push_waiters_t *reg = registry(10);
    apr_pool_t *req;
    mi_push_waiter_t *w = NULL;
    int i;

    /* many short-lived requests reuse the key buckets */
    for (i = 0; i < 50; i++) {
        apr_pool_create(&req, tp);
        CU_ASSERT_EQUAL(mi_push_waiter_register(reg, 1 + i % 3, "agent1", "c1", req, &w), APR_SUCCESS);
        mi_push_waiter_narrow(reg, w, i % 2);
        apr_pool_destroy(req);
    }
    CU_ASSERT_EQUAL(mi_push_waiters_count(reg), 0);
    CU_ASSERT_EQUAL(mi_push_waiters_notify(reg, 1, (const char *[]){ "agent1" }, 1, 1), 0);
}

/* ------------------------------------------------------------------ across threads */

typedef struct {
    mi_push_waiters_t *reg;
    mi_push_waiter_t *w;
    mi_push_waiter_state_e got;
} waiting_t;

static void *APR_THREAD_FUNC wait_far(apr_thread_t *t, void *data)
{
    waiting_t *x = data;

    x->got = mi_push_waiter_wait(x->reg, x->w, FAR);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void a_blocked_thread_is_woken_by_a_notification(void)
{
    waiting_t x;
    apr_thread_t *t;
    apr_status_t trv;

    x.reg = registry(10);
    x.w = reg_ok(x.reg, 7, "agent3", "c1");
    x.got = MI_PUSH_WAITER_WAITING;
    mi_push_waiter_narrow(x.reg, x.w, 0);
    CU_ASSERT_EQUAL_FATAL(apr_thread_create(&t, NULL, wait_far, &x, tp), APR_SUCCESS);
    /* Give the thread time to block (if it has not, the notification waits for it: the
     * outcome is the same, which is the point); it must come back NOTIFIED, not after its
     * 60-second deadline. */
    apr_sleep(apr_time_from_msec(50));
    CU_ASSERT_EQUAL(mi_push_waiters_notify(x.reg, 7, (const char *[]){ "agent3" }, 1, 0), 1);
    apr_thread_join(&trv, t);
    CU_ASSERT_EQUAL(x.got, MI_PUSH_WAITER_NOTIFIED);
}

static void a_blocked_thread_is_woken_by_shutdown(void)
{
    waiting_t x;
    apr_thread_t *t;
    apr_status_t trv;

    x.reg = registry(10);
    x.w = reg_ok(x.reg, 7, "agent3", "c1");
    x.got = MI_PUSH_WAITER_WAITING;
    CU_ASSERT_EQUAL_FATAL(apr_thread_create(&t, NULL, wait_far, &x, tp), APR_SUCCESS);
    mi_push_waiters_shutdown(x.reg);
    apr_thread_join(&trv, t);
    CU_ASSERT_EQUAL(x.got, MI_PUSH_WAITER_CANCELLED);
}

void add_push_waiters_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(a_waiter_times_out_when_nothing_happens),
        UNIT_TEST(a_timed_out_waiter_can_wait_again_unless_cancelled),
        UNIT_TEST(a_notification_before_the_wait_is_not_lost),
        UNIT_TEST(notifications_reach_only_the_named_users_of_that_contact_center),
        UNIT_TEST(contact_center_news_reaches_only_interested_waiters),
        UNIT_TEST(widening_the_interest_looks_once_more),
        UNIT_TEST(a_newer_connect_of_the_same_session_supersedes_the_held_one),
        UNIT_TEST(a_disconnect_cancels_that_sessions_waiter),
        UNIT_TEST(the_registry_refuses_waiters_beyond_its_cap),
        UNIT_TEST(one_user_and_one_contact_center_get_only_their_share),
        UNIT_TEST(shutdown_answers_everyone_and_refuses_newcomers),
        UNIT_TEST(notify_everyone_wakes_all),
        UNIT_TEST(a_pool_cleanup_unregisters_a_forgotten_waiter),
        UNIT_TEST(a_blocked_thread_is_woken_by_a_notification),
        UNIT_TEST(a_blocked_thread_is_woken_by_shutdown),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("waiters", tests);
}
