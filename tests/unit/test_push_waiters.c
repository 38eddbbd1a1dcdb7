/* test_push_waiters.c — the registry of held connects: states, keys, the cap, shutdown, and a
 * wake-up across threads.  No assertion depends on timing: waits that must end early use
 * deadlines far in the future (a failure would show as a hang of that length plus a wrong
 * state), waits that must time out use deadlines in the past. */
#include <stdlib.h>
#include <string.h>

#include <apr_thread_proc.h>
#include <apr_time.h>

#include "mi_push_bayeux.h"

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

/* The registries of one process (one per database) share its cap. */
static void registries_sharing_a_count_share_the_cap(void)
{
    static volatile apr_uint32_t held;
    mi_push_waiters_t *a = registry(3), *b = registry(3);
    mi_push_waiter_t *w = NULL, *a1;

    held = 0;
    mi_push_waiters_share(a, &held);
    mi_push_waiters_share(b, &held);
    a1 = reg_ok(a, 1, "a", "c1");
    reg_ok(a, 1, "b", "c2");
    reg_ok(b, 1, "a", "c3");       /* the same cc id and login in the other database */
    CU_ASSERT_EQUAL(held, 3);
    CU_ASSERT_EQUAL(mi_push_waiter_register(b, 2, "x", "c4", tp, &w), APR_EBUSY);
    CU_ASSERT_EQUAL(mi_push_waiter_register(a, 2, "x", "c4", tp, &w), APR_EBUSY);
    CU_ASSERT_EQUAL(held, 3);      /* a refusal gives its place back */
    mi_push_waiter_unregister(a, a1);
    CU_ASSERT_EQUAL(held, 2);
    CU_ASSERT_EQUAL(mi_push_waiter_register(b, 2, "x", "c4", tp, &w), APR_SUCCESS);
    CU_ASSERT_EQUAL(held, 3);
    /* a refusal for a share of the registry's own gives the place back too */
    mi_push_waiters_limit(a, 1, 0);
    mi_push_waiter_unregister(b, w);
    CU_ASSERT_EQUAL(mi_push_waiter_register(a, 1, "b", "c5", tp, &w), MI_PUSH_WAITERS_USER_FULL);
    CU_ASSERT_EQUAL(held, 2);
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

/* ------------------------------------------------------------------ delivery from memory */

/* A row of contact center @cc at (@xid, @seq) for @login (NULL: nobody by name); @all: a
 * StatusChange (also for /v2/interactions), else WorkbinContent. */
static mi_push_row_t *row(int cc, apr_uint64_t xid, long long seq, const char *login, int all)
{
    mi_push_row_t *r = calloc(1, sizeof(*r) + sizeof(const char *));

    r->refs = 1;
    r->cc = cc;
    r->xid = xid;
    r->seq = seq;
    r->all = all;
    r->from_memory = all;
    r->reference_id = -1;
    r->notification = all ? "StatusChange" : "WorkbinContent";
    r->snapshot = "{}";
    r->audience = (const char **)(r + 1);
    r->audience[0] = login;
    r->n_audience = login != NULL;
    r->revoked = r->audience;
    return r;
}

static void track(mi_push_waiters_t *reg, mi_push_waiter_t *w, apr_uint64_t xid, long long seq,
                  unsigned channels, int limit)
{
    mi_push_waiter_track_t t;

    memset(&t, 0, sizeof(t));
    t.xid = xid;
    t.seq = seq;
    t.channels = channels;
    t.gen = 7;
    t.max_interval_ms = 10000;
    t.limit = limit;
    CU_ASSERT_EQUAL_FATAL(mi_push_waiter_track(reg, w, &t), 1);
}

static void rows_after_the_sessions_position_are_handed_over_once_its_cursor_is_written(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");
    mi_push_row_t *rows[3];
    apr_array_header_t *out = apr_array_make(tp, 4, sizeof(mi_push_advance_t));
    mi_push_advance_t *a;
    mi_push_waiter_delivery_t d;

    track(reg, w, 100, 5, MI_PUSH_ME, 200);
    rows[0] = row(1, 100, 4, "agent1", 1); /* before its position: it has it */
    rows[1] = row(1, 100, 6, "agent1", 1);
    rows[2] = row(1, 101, 2, "agent2", 1); /* someone else's */
    CU_ASSERT_EQUAL(mi_push_waiters_offer(reg, rows, 3, 102, 0, out), 0);
    CU_ASSERT_EQUAL_FATAL(out->nelts, 1);
    a = &APR_ARRAY_IDX(out, 0, mi_push_advance_t);
    CU_ASSERT_PTR_EQUAL(a->w, w);
    CU_ASSERT_STRING_EQUAL(a->client_id, "c1");
    CU_ASSERT_EQUAL(a->gen, 7);
    CU_ASSERT_EQUAL(a->batch, 6);
    /* the cursor reaches the end of the read: the rows for others are passed over too */
    CU_ASSERT_EQUAL(a->xid, 102);
    CU_ASSERT_EQUAL(a->seq, 0);
    /* written: it answers with the rows, though its deadline has passed */
    mi_push_waiter_advanced(reg, w, 1, MI_PUSH_ROLE_AGENT);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, PAST), MI_PUSH_WAITER_DELIVER);
    mi_push_waiter_take(reg, w, tp, &d);
    CU_ASSERT_EQUAL_FATAL(d.n, 1);
    CU_ASSERT_EQUAL(d.rows[0]->seq, 6);
    CU_ASSERT_EQUAL(d.how[0], MI_PUSH_ME);
    CU_ASSERT_EQUAL(d.batch, 6);
    CU_ASSERT(d.agent && !d.supervisor);
    /* the reader's references go; the delivery's go with its pool */
    mi_push_row_release(rows[0]);
    mi_push_row_release(rows[1]);
    mi_push_row_release(rows[2]);
    mi_push_waiter_unregister(reg, w);
}

static void a_waiter_not_yet_tracked_is_woken_to_read_the_database(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");
    mi_push_row_t *r = row(1, 100, 6, "agent1", 1);
    apr_array_header_t *out = apr_array_make(tp, 4, sizeof(mi_push_advance_t));
    mi_push_waiter_track_t t;

    CU_ASSERT_EQUAL(mi_push_waiters_offer(reg, &r, 1, 101, 0, out), 1);
    CU_ASSERT_EQUAL(out->nelts, 0);
    /* notified meanwhile: tracking refuses, the thread reads the database first */
    memset(&t, 0, sizeof(t));
    t.limit = 200;
    t.channels = MI_PUSH_ME;
    CU_ASSERT_EQUAL(mi_push_waiter_track(reg, w, &t), 0);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, FAR), MI_PUSH_WAITER_NOTIFIED);
    mi_push_row_release(r);
    mi_push_waiter_unregister(reg, w);
}

static void a_row_rendered_in_the_database_sends_the_waiter_there(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");
    mi_push_row_t *r[2];
    apr_array_header_t *out = apr_array_make(tp, 4, sizeof(mi_push_advance_t));

    track(reg, w, 100, 0, MI_PUSH_ME, 200);
    r[0] = row(1, 100, 6, "agent1", 1);
    r[1] = row(1, 100, 7, "agent1", 0); /* WorkbinContent */
    CU_ASSERT_EQUAL(mi_push_waiters_offer(reg, r, 2, 101, 0, out), 1);
    CU_ASSERT_EQUAL(out->nelts, 0);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, FAR), MI_PUSH_WAITER_NOTIFIED);
    mi_push_row_release(r[0]);
    mi_push_row_release(r[1]);
    mi_push_waiter_unregister(reg, w);
}

static void contact_center_rows_reach_its_followers_and_a_full_reply_stops_at_its_last_row(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *sup = reg_ok(reg, 2, "sup1", "c1");
    mi_push_waiter_t *other = reg_ok(reg, 3, "sup2", "c2");
    mi_push_row_t *r[3];
    apr_array_header_t *out = apr_array_make(tp, 4, sizeof(mi_push_advance_t));
    mi_push_advance_t *a;
    mi_push_waiter_delivery_t d;

    track(reg, sup, 50, 0, MI_PUSH_ALL, 2);
    track(reg, other, 50, 0, MI_PUSH_ALL, 2);
    r[0] = row(2, 60, 1, NULL, 1);
    r[1] = row(2, 60, 2, NULL, 1);
    r[2] = row(2, 61, 3, NULL, 1);
    CU_ASSERT_EQUAL(mi_push_waiters_offer(reg, r, 3, 70, 0, out), 0);
    CU_ASSERT_EQUAL_FATAL(out->nelts, 1); /* contact center 3 has no news */
    a = &APR_ARRAY_IDX(out, 0, mi_push_advance_t);
    CU_ASSERT_PTR_EQUAL(a->w, sup);
    CU_ASSERT_EQUAL(a->xid, 60); /* two rows make a reply: it ends there */
    CU_ASSERT_EQUAL(a->seq, 2);
    /* superseded (not written): it reads the database itself */
    mi_push_waiter_advanced(reg, sup, 0, 0);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, sup, FAR), MI_PUSH_WAITER_NOTIFIED);
    mi_push_waiter_take(reg, sup, tp, &d);
    CU_ASSERT_EQUAL(d.n, 0);
    mi_push_row_release(r[0]);
    mi_push_row_release(r[1]);
    mi_push_row_release(r[2]);
    mi_push_waiter_unregister(reg, sup);
    mi_push_waiter_unregister(reg, other);
}

typedef struct {
    mi_push_waiters_t *reg;
    mi_push_waiter_t *w;
    volatile int done;
} unregistering_t;

static void *APR_THREAD_FUNC unregister_it(apr_thread_t *t, void *data)
{
    unregistering_t *u = data;

    mi_push_waiter_unregister(u->reg, u->w);
    u->done = 1;
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void a_cancelled_waiter_whose_cursor_is_written_still_delivers(void)
{
    mi_push_waiters_t *reg = registry(10);
    mi_push_waiter_t *w = reg_ok(reg, 1, "agent1", "c1");
    mi_push_row_t *r = row(1, 100, 6, "agent1", 1);
    apr_array_header_t *out = apr_array_make(tp, 4, sizeof(mi_push_advance_t));

    track(reg, w, 100, 0, MI_PUSH_ME, 200);
    mi_push_waiters_offer(reg, &r, 1, 101, 0, out);
    CU_ASSERT_EQUAL_FATAL(out->nelts, 1);
    mi_push_waiters_shutdown(reg);
    mi_push_waiter_advanced(reg, w, 1, MI_PUSH_ROLE_AGENT);
    CU_ASSERT_EQUAL(mi_push_waiter_wait(reg, w, FAR), MI_PUSH_WAITER_DELIVER);
    CU_ASSERT_EQUAL(mi_push_waiter_reason(reg, w), MI_PUSH_WAITER_STOPPING);
    mi_push_row_release(r);
    mi_push_waiter_unregister(reg, w);
}

static void unregistering_waits_for_the_cursor_write(void)
{
    unregistering_t u;
    apr_thread_t *t;
    apr_status_t trv;
    mi_push_row_t *r = row(1, 100, 6, "agent1", 1);
    apr_array_header_t *out = apr_array_make(tp, 4, sizeof(mi_push_advance_t));

    u.reg = registry(10);
    u.w = reg_ok(u.reg, 1, "agent1", "c1");
    u.done = 0;
    track(u.reg, u.w, 100, 0, MI_PUSH_ME, 200);
    mi_push_waiters_offer(u.reg, &r, 1, 101, 0, out);
    CU_ASSERT_EQUAL_FATAL(out->nelts, 1);
    CU_ASSERT_EQUAL_FATAL(apr_thread_create(&t, NULL, unregister_it, &u, tp), APR_SUCCESS);
    apr_sleep(apr_time_from_msec(50));
    /* a property, not a timing: until the outcome comes, the waiter cannot go */
    CU_ASSERT_EQUAL(u.done, 0);
    mi_push_waiter_advanced(u.reg, u.w, 1, MI_PUSH_ROLE_AGENT);
    apr_thread_join(&trv, t);
    CU_ASSERT_EQUAL(u.done, 1);
    CU_ASSERT_EQUAL(mi_push_waiters_count(u.reg), 0);
    mi_push_row_release(r);
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
        UNIT_TEST(registries_sharing_a_count_share_the_cap),
        UNIT_TEST(one_user_and_one_contact_center_get_only_their_share),
        UNIT_TEST(shutdown_answers_everyone_and_refuses_newcomers),
        UNIT_TEST(notify_everyone_wakes_all),
        UNIT_TEST(a_pool_cleanup_unregisters_a_forgotten_waiter),
        UNIT_TEST(a_blocked_thread_is_woken_by_a_notification),
        UNIT_TEST(a_blocked_thread_is_woken_by_shutdown),
        UNIT_TEST(rows_after_the_sessions_position_are_handed_over_once_its_cursor_is_written),
        UNIT_TEST(a_waiter_not_yet_tracked_is_woken_to_read_the_database),
        UNIT_TEST(a_row_rendered_in_the_database_sends_the_waiter_there),
        UNIT_TEST(contact_center_rows_reach_its_followers_and_a_full_reply_stops_at_its_last_row),
        UNIT_TEST(a_cancelled_waiter_whose_cursor_is_written_still_delivers),
        UNIT_TEST(unregistering_waits_for_the_cursor_write),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("waiters", tests);
}
