/* mi_push_waiters.c — see mi_push_waiters.h */
#include <stddef.h>   /* first: APR_OFFSETOF (in APR_RING_*) is then offsetof, not member access through NULL */
#include <stdio.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_ring.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "mi_push_waiters.h"

/* "cc\x1flogin": logins are at most 255 bytes (the REST handler refuses longer ones). */
#define KEY_MAX 280

typedef struct bucket_t bucket_t;

APR_RING_HEAD(waiter_ring, mi_push_waiter_t);

struct mi_push_waiter_t {
    APR_RING_ENTRY(mi_push_waiter_t) user_link;   /* in user_bucket's ring */
    APR_RING_ENTRY(mi_push_waiter_t) cc_link;     /* in cc_bucket's ring, while interested */
    APR_RING_ENTRY(mi_push_waiter_t) all_link;    /* in the registry's ring of every waiter */
    bucket_t *user_bucket;
    bucket_t *cc_bucket;                     /* NULL: not interested in /v2/interactions */
    int cc;
    const char *client_id;
    mi_push_waiter_state_e state;
    mi_push_waiter_reason_e reason;
    int registered;
    apr_thread_cond_t *cond;
    mi_push_waiters_t *reg;
};

/* The waiters sharing one key.  The key lives in the bucket, so a bucket outlives none of
 * its waiters' pools; empty buckets go to a free list and are reused, which bounds their
 * number by the most waiters ever registered at once. */
struct bucket_t {
    struct waiter_ring ring;
    bucket_t *next_free;
    int n;
    char key[KEY_MAX];
};

struct mi_push_waiters_t {
    apr_pool_t *pool;
    apr_thread_mutex_t *mutex;
    apr_hash_t *users;             /* "cc\x1flogin" -> bucket (ring via user_link) */
    apr_hash_t *ccs;               /* "cc" -> bucket (ring via cc_link) */
    apr_hash_t *cc_counts;         /* "cc" -> int: waiters of the contact center */
    struct waiter_ring all;        /* every registered waiter (via all_link) */
    bucket_t *free_buckets;
    int count;
    int max;
    int per_user;                  /* 0: no share of its own */
    int per_cc;
    int closed;
};

apr_status_t mi_push_waiters_create(mi_push_waiters_t **preg, int max, apr_pool_t *p)
{
    mi_push_waiters_t *reg = apr_pcalloc(p, sizeof(*reg));
    apr_status_t rv;

    *preg = NULL;
    reg->pool = p;
    reg->max = max;
    reg->users = apr_hash_make(p);
    reg->ccs = apr_hash_make(p);
    reg->cc_counts = apr_hash_make(p);
    APR_RING_INIT(&reg->all, mi_push_waiter_t, all_link);
    rv = apr_thread_mutex_create(&reg->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        *preg = reg;
    }
    return rv;
}

void mi_push_waiters_limit(mi_push_waiters_t *reg, int per_user, int per_cc)
{
    apr_thread_mutex_lock(reg->mutex);
    reg->per_user = per_user > 0 ? per_user : 0;
    reg->per_cc = per_cc > 0 ? per_cc : 0;
    apr_thread_mutex_unlock(reg->mutex);
}

/* ------------------------------------------------------------------ buckets (mutex held) */

static bucket_t *bucket_get(mi_push_waiters_t *reg, apr_hash_t *h, const char *key, int create,
                            int cc_ring)
{
    bucket_t *b = apr_hash_get(h, key, APR_HASH_KEY_STRING);

    if (b != NULL || !create) {
        return b;
    }
    if (reg->free_buckets != NULL) {
        b = reg->free_buckets;
        reg->free_buckets = b->next_free;
    }
    else {
        b = apr_palloc(reg->pool, sizeof(*b));
    }
    memset(b, 0, sizeof(*b));
    apr_cpystrn(b->key, key, sizeof(b->key));
    if (cc_ring) {
        APR_RING_INIT(&b->ring, mi_push_waiter_t, cc_link);
    }
    else {
        APR_RING_INIT(&b->ring, mi_push_waiter_t, user_link);
    }
    apr_hash_set(h, b->key, APR_HASH_KEY_STRING, b);
    return b;
}

static void bucket_release(mi_push_waiters_t *reg, apr_hash_t *h, bucket_t *b)
{
    if (b->n == 0) {
        apr_hash_set(h, b->key, APR_HASH_KEY_STRING, NULL);
        b->next_free = reg->free_buckets;
        reg->free_buckets = b;
    }
}

static void user_key(char *key, int cc, const char *login)
{
    snprintf(key, KEY_MAX, "%d\x1f%s", cc, login);
}

static void cc_key(char *key, int cc)
{
    snprintf(key, KEY_MAX, "%d", cc);
}

/* The counter of the contact center's waiters.  One int per contact center ever seen by the
 * process, never freed: their number is bounded by the provisioned contact centers. */
static int *cc_count(mi_push_waiters_t *reg, int cc, int create)
{
    char key[KEY_MAX];
    int *n;

    cc_key(key, cc);
    n = apr_hash_get(reg->cc_counts, key, APR_HASH_KEY_STRING);
    if (n == NULL && create) {
        n = apr_pcalloc(reg->pool, sizeof(*n));
        apr_hash_set(reg->cc_counts, apr_pstrdup(reg->pool, key), APR_HASH_KEY_STRING, n);
    }
    return n;
}

static void join_cc(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    char key[KEY_MAX];

    if (w->cc_bucket == NULL) {
        cc_key(key, w->cc);
        w->cc_bucket = bucket_get(reg, reg->ccs, key, 1, 1);
        APR_RING_INSERT_TAIL(&w->cc_bucket->ring, w, mi_push_waiter_t, cc_link);
        w->cc_bucket->n++;
    }
}

static void leave_cc(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    if (w->cc_bucket != NULL) {
        APR_RING_REMOVE(w, cc_link);
        w->cc_bucket->n--;
        bucket_release(reg, reg->ccs, w->cc_bucket);
        w->cc_bucket = NULL;
    }
}

/* ------------------------------------------------------------------ state changes (mutex held) */

/* The only places a waiter's state changes; each wakes the waiting thread. */
static int wake(mi_push_waiter_t *w)
{
    if (w->state != MI_PUSH_WAITER_WAITING) {
        return 0;    /* already notified, or final */
    }
    w->state = MI_PUSH_WAITER_NOTIFIED;
    apr_thread_cond_signal(w->cond);
    return 1;
}

static int cancel(mi_push_waiter_t *w, mi_push_waiter_reason_e reason)
{
    /* a TIMED_OUT waiter may still be re-armed (mi_push_waiter_rearm): the cancellation wins */
    if (w->state == MI_PUSH_WAITER_CANCELLED) {
        return 0;
    }
    w->state = MI_PUSH_WAITER_CANCELLED;
    w->reason = reason;
    apr_thread_cond_signal(w->cond);
    return 1;
}

static void unregister_locked(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    if (!w->registered) {
        return;
    }
    leave_cc(reg, w);
    APR_RING_REMOVE(w, user_link);
    w->user_bucket->n--;
    bucket_release(reg, reg->users, w->user_bucket);
    w->user_bucket = NULL;
    APR_RING_REMOVE(w, all_link);
    reg->count--;
    (*cc_count(reg, w->cc, 1))--;
    w->registered = 0;
}

/* ------------------------------------------------------------------ waiters */

static apr_status_t waiter_cleanup(void *data)
{
    mi_push_waiter_t *w = data;

    mi_push_waiter_unregister(w->reg, w);
    return APR_SUCCESS;
}

apr_status_t mi_push_waiter_register(mi_push_waiters_t *reg, int cc, const char *login,
                                     const char *client_id, apr_pool_t *p, mi_push_waiter_t **pw)
{
    char key[KEY_MAX];
    mi_push_waiter_t *w, *old;
    apr_status_t rv;
    int same = 0;

    *pw = NULL;
    if (strlen(login) > 255) {
        return APR_EINVAL;
    }
    w = apr_pcalloc(p, sizeof(*w));
    w->reg = reg;
    w->cc = cc;
    w->client_id = apr_pstrdup(p, client_id);
    w->state = MI_PUSH_WAITER_WAITING;
    rv = apr_thread_cond_create(&w->cond, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    user_key(key, cc, login);

    apr_thread_mutex_lock(reg->mutex);
    if (reg->closed) {
        rv = APR_EOF;
        goto leave;
    }
    if (reg->count >= reg->max) {
        rv = APR_EBUSY;
        goto leave;
    }
    w->user_bucket = bucket_get(reg, reg->users, key, 1, 0);
    /* The shares: a connect of a session that is held here replaces that one, so the
     * session's own waiters do not count (a client reconnecting is never refused). */
    for (old = APR_RING_FIRST(&w->user_bucket->ring);
         old != APR_RING_SENTINEL(&w->user_bucket->ring, mi_push_waiter_t, user_link);
         old = APR_RING_NEXT(old, user_link)) {
        if (strcmp(old->client_id, w->client_id) == 0) {
            same++;
        }
    }
    if (reg->per_user > 0 && w->user_bucket->n - same >= reg->per_user) {
        rv = MI_PUSH_WAITERS_USER_FULL;
        goto leave;
    }
    if (reg->per_cc > 0 && *cc_count(reg, cc, 1) - same >= reg->per_cc) {
        rv = MI_PUSH_WAITERS_CC_FULL;
        goto leave;
    }
    /* one held connect per session: the older one answers now (only the same user's
     * waiters are looked at, so naming someone else's clientId cancels nothing) */
    for (old = APR_RING_FIRST(&w->user_bucket->ring);
         old != APR_RING_SENTINEL(&w->user_bucket->ring, mi_push_waiter_t, user_link);
         old = APR_RING_NEXT(old, user_link)) {
        if (strcmp(old->client_id, w->client_id) == 0) {
            cancel(old, MI_PUSH_WAITER_SUPERSEDED);
        }
    }
    APR_RING_INSERT_TAIL(&w->user_bucket->ring, w, mi_push_waiter_t, user_link);
    w->user_bucket->n++;
    /* interested in everything of the contact center until the session is known */
    join_cc(reg, w);
    APR_RING_INSERT_TAIL(&reg->all, w, mi_push_waiter_t, all_link);
    reg->count++;
    (*cc_count(reg, cc, 1))++;
    w->registered = 1;
    rv = APR_SUCCESS;

leave:
    if (rv != APR_SUCCESS && w->user_bucket != NULL) {
        bucket_release(reg, reg->users, w->user_bucket);   /* created for nothing */
        w->user_bucket = NULL;
    }
    apr_thread_mutex_unlock(reg->mutex);
    if (rv == APR_SUCCESS) {
        /* registered after the condition variable, so it runs before the cond is destroyed */
        apr_pool_cleanup_register(p, w, waiter_cleanup, apr_pool_cleanup_null);
        *pw = w;
    }
    return rv;
}

void mi_push_waiter_narrow(mi_push_waiters_t *reg, mi_push_waiter_t *w, int all)
{
    apr_thread_mutex_lock(reg->mutex);
    if (w->registered) {
        if (all && w->cc_bucket == NULL) {
            join_cc(reg, w);
            wake(w);
        }
        else if (!all) {
            leave_cc(reg, w);
        }
    }
    apr_thread_mutex_unlock(reg->mutex);
}

mi_push_waiter_state_e mi_push_waiter_wait(mi_push_waiters_t *reg, mi_push_waiter_t *w,
                                           apr_time_t deadline)
{
    mi_push_waiter_state_e st;
    apr_time_t now;

    apr_thread_mutex_lock(reg->mutex);
    while (w->state == MI_PUSH_WAITER_WAITING) {
        now = apr_time_now();
        if (now >= deadline) {
            w->state = MI_PUSH_WAITER_TIMED_OUT;
            break;
        }
        /* spurious wake-ups and signals both just re-check the state */
        apr_thread_cond_timedwait(w->cond, reg->mutex, deadline - now);
    }
    st = w->state;
    if (st == MI_PUSH_WAITER_NOTIFIED) {
        w->state = MI_PUSH_WAITER_WAITING;
    }
    apr_thread_mutex_unlock(reg->mutex);
    return st;
}

mi_push_waiter_reason_e mi_push_waiter_reason(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    mi_push_waiter_reason_e r;

    apr_thread_mutex_lock(reg->mutex);
    r = w->reason;
    apr_thread_mutex_unlock(reg->mutex);
    return r;
}

int mi_push_waiter_rearm(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    int again = 0;

    apr_thread_mutex_lock(reg->mutex);
    if (w->registered && !reg->closed && w->state == MI_PUSH_WAITER_TIMED_OUT) {
        w->state = MI_PUSH_WAITER_WAITING;
        again = 1;
    }
    apr_thread_mutex_unlock(reg->mutex);
    return again;
}

void mi_push_waiter_unregister(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    apr_thread_mutex_lock(reg->mutex);
    unregister_locked(reg, w);
    apr_thread_mutex_unlock(reg->mutex);
}

/* ------------------------------------------------------------------ the listener's side */

int mi_push_waiters_notify(mi_push_waiters_t *reg, int cc, const char *const *logins, int n, int all)
{
    char key[KEY_MAX];
    bucket_t *b;
    mi_push_waiter_t *w;
    int i, woken = 0;

    apr_thread_mutex_lock(reg->mutex);
    for (i = 0; i < n; i++) {
        user_key(key, cc, logins[i]);
        b = bucket_get(reg, reg->users, key, 0, 0);
        if (b == NULL) {
            continue;
        }
        for (w = APR_RING_FIRST(&b->ring); w != APR_RING_SENTINEL(&b->ring, mi_push_waiter_t, user_link);
             w = APR_RING_NEXT(w, user_link)) {
            woken += wake(w);
        }
    }
    if (all) {
        cc_key(key, cc);
        b = bucket_get(reg, reg->ccs, key, 0, 1);
        if (b != NULL) {
            for (w = APR_RING_FIRST(&b->ring); w != APR_RING_SENTINEL(&b->ring, mi_push_waiter_t, cc_link);
                 w = APR_RING_NEXT(w, cc_link)) {
                woken += wake(w);
            }
        }
    }
    apr_thread_mutex_unlock(reg->mutex);
    return woken;
}

int mi_push_waiters_notify_everyone(mi_push_waiters_t *reg)
{
    mi_push_waiter_t *w;
    int woken = 0;

    apr_thread_mutex_lock(reg->mutex);
    for (w = APR_RING_FIRST(&reg->all); w != APR_RING_SENTINEL(&reg->all, mi_push_waiter_t, all_link);
         w = APR_RING_NEXT(w, all_link)) {
        woken += wake(w);
    }
    apr_thread_mutex_unlock(reg->mutex);
    return woken;
}

int mi_push_waiters_cancel_client(mi_push_waiters_t *reg, int cc, const char *login,
                                  const char *client_id, mi_push_waiter_reason_e reason)
{
    char key[KEY_MAX];
    bucket_t *b;
    mi_push_waiter_t *w;
    int n = 0;

    if (strlen(login) > 255) {
        return 0;
    }
    user_key(key, cc, login);
    apr_thread_mutex_lock(reg->mutex);
    b = bucket_get(reg, reg->users, key, 0, 0);
    if (b != NULL) {
        for (w = APR_RING_FIRST(&b->ring); w != APR_RING_SENTINEL(&b->ring, mi_push_waiter_t, user_link);
             w = APR_RING_NEXT(w, user_link)) {
            if (strcmp(w->client_id, client_id) == 0) {
                n += cancel(w, reason);
            }
        }
    }
    apr_thread_mutex_unlock(reg->mutex);
    return n;
}

int mi_push_waiters_shutdown(mi_push_waiters_t *reg)
{
    mi_push_waiter_t *w;
    int n = 0;

    apr_thread_mutex_lock(reg->mutex);
    reg->closed = 1;
    for (w = APR_RING_FIRST(&reg->all); w != APR_RING_SENTINEL(&reg->all, mi_push_waiter_t, all_link);
         w = APR_RING_NEXT(w, all_link)) {
        n += cancel(w, MI_PUSH_WAITER_STOPPING);
    }
    apr_thread_mutex_unlock(reg->mutex);
    return n;
}

int mi_push_waiters_count(mi_push_waiters_t *reg)
{
    int n;

    apr_thread_mutex_lock(reg->mutex);
    n = reg->count;
    apr_thread_mutex_unlock(reg->mutex);
    return n;
}

int mi_push_waiters_count_of(mi_push_waiters_t *reg, int cc, const char *login)
{
    char key[KEY_MAX];
    bucket_t *b;
    int *c, n = 0;

    apr_thread_mutex_lock(reg->mutex);
    if (login == NULL) {
        c = cc_count(reg, cc, 0);
        n = c != NULL ? *c : 0;
    }
    else if (strlen(login) <= 255) {
        user_key(key, cc, login);
        b = bucket_get(reg, reg->users, key, 0, 0);
        n = b != NULL ? b->n : 0;
    }
    apr_thread_mutex_unlock(reg->mutex);
    return n;
}
