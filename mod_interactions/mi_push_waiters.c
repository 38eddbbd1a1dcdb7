/* mi_push_waiters.c — see mi_push_waiters.h */
#include <stddef.h>   /* first: APR_OFFSETOF (in APR_RING_*) is then offsetof, not member access through NULL */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_ring.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "mi_push_bayeux.h"
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
    /* delivery from memory (see mi_push_waiters.h); all under the registry's mutex */
    int tracked;    /* t says where its session stands */
    int pending;    /* its cursor is being written */
    int ready;      /* written: DELIVER */
    int full;       /* the inbox holds t.limit rows */
    int touched;    /* handed rows by the current offer */
    unsigned roles; /* MI_PUSH_ROLE_* when written */
    mi_push_waiter_track_t t;
    mi_push_row_t **inbox; /* malloc'd while it holds rows */
    unsigned char *how;
    int n_in;
    mi_push_waiter_t *next_touched;
    /* a WebSocket connection's connect: its thread is counted as the connection's hold
     * (mi_push_waiters_hold()), not as a waiter, and it waits on more than the condition
     * variable, so every state change also calls on_wake */
    int held;
    void (*on_wake)(void *baton);
    void *wake_baton;
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
    apr_hash_t *cc_counts;         /* "cc" -> int: threads of the contact center (waiters
                                      and WebSocket connections) */
    apr_hash_t *holds;             /* "cc\x1flogin" -> bucket: the user's WebSocket
                                      connections (n) */
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
    reg->holds = apr_hash_make(p);
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

/* ------------------------------------------------------------------ rows */

void mi_push_row_release(mi_push_row_t *row)
{
    if (row != NULL && apr_atomic_dec32(&row->refs) == 0) {
        free(row);
    }
}

/* Give back the rows a waiter holds (mutex held). */
static void drop_inbox(mi_push_waiter_t *w)
{
    int i;

    for (i = 0; i < w->n_in; i++) {
        mi_push_row_release(w->inbox[i]);
    }
    free(w->inbox);
    free(w->how);
    w->inbox = NULL;
    w->how = NULL;
    w->n_in = 0;
    w->full = 0;
}

/* The waiter's thread reads the database itself from now on (mutex held). */
static void untrack(mi_push_waiter_t *w)
{
    w->tracked = 0;
    if (!w->pending && !w->ready) {
        drop_inbox(w);
    }
}

static int row_after(const mi_push_row_t *r, apr_uint64_t xid, long long seq)
{
    return r->xid > xid || (r->xid == xid && r->seq > seq);
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
    if (w->on_wake != NULL) {
        w->on_wake(w->wake_baton);
    }
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
    if (w->on_wake != NULL) {
        w->on_wake(w->wake_baton);
    }
    return 1;
}

static void unregister_locked(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    /* the listener is writing its cursor and will tell it the outcome: wait for that (one
     * statement, bounded by the listener's statement timeout) */
    while (w->pending) {
        apr_thread_cond_wait(w->cond, reg->mutex);
    }
    w->ready = 0;
    w->tracked = 0;
    drop_inbox(w);
    if (!w->registered) {
        return;
    }
    leave_cc(reg, w);
    APR_RING_REMOVE(w, user_link);
    w->user_bucket->n--;
    bucket_release(reg, reg->users, w->user_bucket);
    w->user_bucket = NULL;
    APR_RING_REMOVE(w, all_link);
    if (!w->held) {
        reg->count--;
        (*cc_count(reg, w->cc, 1))--;
    }
    w->registered = 0;
    w->on_wake = NULL;
}

/* ------------------------------------------------------------------ waiters */

static apr_status_t waiter_cleanup(void *data)
{
    mi_push_waiter_t *w = data;

    mi_push_waiter_unregister(w->reg, w);
    return APR_SUCCESS;
}

static apr_status_t register_waiter(mi_push_waiters_t *reg, int cc, const char *login,
                                    const char *client_id, int held, apr_pool_t *p,
                                    mi_push_waiter_t **pw)
{
    char key[KEY_MAX];
    mi_push_waiter_t *w, *old;
    bucket_t *holds;
    apr_status_t rv;
    int same = 0, others = 0;

    *pw = NULL;
    if (strlen(login) > 255) {
        return APR_EINVAL;
    }
    w = apr_pcalloc(p, sizeof(*w));
    w->reg = reg;
    w->cc = cc;
    w->client_id = apr_pstrdup(p, client_id);
    w->state = MI_PUSH_WAITER_WAITING;
    w->held = held;
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
    if (!held && reg->count >= reg->max) {
        rv = APR_EBUSY;
        goto leave;
    }
    w->user_bucket = bucket_get(reg, reg->users, key, 1, 0);
    /* The shares count threads: a connect of a session that is held here replaces that
     * one, so the session's own waiters do not count (a client reconnecting is never
     * refused); a WebSocket connection counts once, as its hold, whatever its connect
     * does, and its connect is never refused. */
    for (old = APR_RING_FIRST(&w->user_bucket->ring);
         old != APR_RING_SENTINEL(&w->user_bucket->ring, mi_push_waiter_t, user_link);
         old = APR_RING_NEXT(old, user_link)) {
        if (old->held) {
            continue;
        }
        if (strcmp(old->client_id, w->client_id) == 0) {
            same++;
        }
        else {
            others++;
        }
    }
    holds = bucket_get(reg, reg->holds, key, 0, 0);
    if (!held && reg->per_user > 0 && others + (holds != NULL ? holds->n : 0) >= reg->per_user) {
        rv = MI_PUSH_WAITERS_USER_FULL;
        goto leave;
    }
    if (!held && reg->per_cc > 0 && *cc_count(reg, cc, 1) - same >= reg->per_cc) {
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
    if (!held) {
        reg->count++;
        (*cc_count(reg, cc, 1))++;
    }
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

apr_status_t mi_push_waiter_register(mi_push_waiters_t *reg, int cc, const char *login,
                                     const char *client_id, apr_pool_t *p, mi_push_waiter_t **pw)
{
    return register_waiter(reg, cc, login, client_id, 0, p, pw);
}

apr_status_t mi_push_waiter_register_held(mi_push_waiters_t *reg, int cc, const char *login,
                                          const char *client_id, apr_pool_t *p,
                                          mi_push_waiter_t **pw)
{
    return register_waiter(reg, cc, login, client_id, 1, p, pw);
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
    for (;;) {
        if (w->ready) {
            break;
        }
        if (w->pending) {
            /* its cursor is being written: it is answered with those rows whatever else
             * happens, so it outlasts the deadline and a cancellation until then */
            apr_thread_cond_wait(w->cond, reg->mutex);
            continue;
        }
        if (w->state != MI_PUSH_WAITER_WAITING) {
            break;
        }
        now = apr_time_now();
        if (now >= deadline) {
            w->state = MI_PUSH_WAITER_TIMED_OUT;
            break;
        }
        /* spurious wake-ups and signals both just re-check the state */
        apr_thread_cond_timedwait(w->cond, reg->mutex, deadline - now);
    }
    st = w->ready ? MI_PUSH_WAITER_DELIVER : w->state;
    if (st == MI_PUSH_WAITER_NOTIFIED) {
        w->state = MI_PUSH_WAITER_WAITING;
    }
    if (st == MI_PUSH_WAITER_NOTIFIED || st == MI_PUSH_WAITER_TIMED_OUT) {
        /* its thread looks at the database now, and tracks again from what it finds */
        untrack(w);
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

int mi_push_waiter_track(mi_push_waiters_t *reg, mi_push_waiter_t *w,
                         const mi_push_waiter_track_t *t)
{
    int ok = 0;

    apr_thread_mutex_lock(reg->mutex);
    if (w->registered && !reg->closed && w->state == MI_PUSH_WAITER_WAITING && !w->pending
        && !w->ready && t->limit > 0) {
        w->t = *t;
        w->tracked = 1;
        ok = 1;
    }
    apr_thread_mutex_unlock(reg->mutex);
    return ok;
}

static apr_status_t rows_cleanup(void *data)
{
    mi_push_waiter_delivery_t *d = data;
    int i;

    for (i = 0; i < d->n; i++) {
        mi_push_row_release(d->rows[i]);
    }
    d->n = 0;
    return APR_SUCCESS;
}

void mi_push_waiter_take(mi_push_waiters_t *reg, mi_push_waiter_t *w, apr_pool_t *p,
                         mi_push_waiter_delivery_t *pd)
{
    mi_push_waiter_delivery_t *d = apr_pcalloc(p, sizeof(*d));

    apr_thread_mutex_lock(reg->mutex);
    if (w->ready && w->n_in > 0) {
        d->n = w->n_in;
        d->rows = apr_pmemdup(p, w->inbox, (apr_size_t)w->n_in * sizeof(*d->rows));
        d->how = apr_pmemdup(p, w->how, (apr_size_t)w->n_in);
        d->batch = w->inbox[w->n_in - 1]->seq;
        d->agent = (w->roles & MI_PUSH_ROLE_AGENT) != 0;
        d->supervisor = (w->roles & MI_PUSH_ROLE_SUPERVISOR) != 0;
        d->admin = (w->roles & MI_PUSH_ROLE_ADMIN) != 0;
        d->apiuser = (w->roles & MI_PUSH_ROLE_APIUSER) != 0;
        /* the references move to the delivery */
        w->n_in = 0;
    }
    w->ready = 0;
    w->tracked = 0;
    drop_inbox(w);
    apr_thread_mutex_unlock(reg->mutex);
    apr_pool_cleanup_register(p, d, rows_cleanup, apr_pool_cleanup_null);
    *pd = *d;
}

void mi_push_waiter_advanced(mi_push_waiters_t *reg, mi_push_waiter_t *w, int ok, unsigned roles)
{
    apr_thread_mutex_lock(reg->mutex);
    w->pending = 0;
    if (ok && w->n_in > 0) {
        w->ready = 1;
        w->roles = roles;
    }
    else {
        /* not written: its thread reads the database */
        w->tracked = 0;
        drop_inbox(w);
        wake(w);
    }
    /* its thread, or an unregister waiting for the outcome */
    apr_thread_cond_broadcast(w->cond);
    if (w->on_wake != NULL) {
        w->on_wake(w->wake_baton);
    }
    apr_thread_mutex_unlock(reg->mutex);
}

/* Hand row @r to waiter @w, which it concerns @how (mutex held).  *ptouched lists the
 * waiters handed rows in this offer. */
static int give(mi_push_waiter_t *w, mi_push_row_t *r, unsigned how, mi_push_waiter_t **ptouched)
{
    if (!w->tracked) {
        /* not tracked: its thread reads the database (as mi_push_waiters_notify()) */
        return wake(w);
    }
    if (w->pending || w->ready || w->state != MI_PUSH_WAITER_WAITING
        || !row_after(r, w->t.xid, w->t.seq) || !(w->t.channels & how)) {
        /* answered soon (its next connect reads on from the database), ending, or not for it */
        return 0;
    }
    if (!r->from_memory) {
        /* rendered per recipient in the database */
        untrack(w);
        return wake(w);
    }
    if (w->n_in > 0 && w->inbox[w->n_in - 1] == r) {
        w->how[w->n_in - 1] |= (unsigned char)how; /* named twice, or on both channels */
        return 0;
    }
    if (w->full) {
        return 0;
    }
    if (w->inbox == NULL) {
        w->inbox = malloc((size_t)w->t.limit * sizeof(*w->inbox));
        w->how = malloc((size_t)w->t.limit);
        if (w->inbox == NULL || w->how == NULL) {
            untrack(w);
            return wake(w);
        }
    }
    apr_atomic_inc32(&r->refs);
    w->inbox[w->n_in] = r;
    w->how[w->n_in] = (unsigned char)how;
    w->n_in++;
    w->full = (w->n_in >= w->t.limit);
    if (!w->touched) {
        w->touched = 1;
        w->next_touched = *ptouched;
        *ptouched = w;
    }
    return 0;
}

int mi_push_waiters_offer(mi_push_waiters_t *reg, mi_push_row_t *const *rows, int n,
                          apr_uint64_t xid, long long seq, apr_array_header_t *out)
{
    char key[KEY_MAX];
    mi_push_waiter_t *touched = NULL, *w, *next;
    bucket_t *b;
    int i, j, k, woken = 0;

    apr_thread_mutex_lock(reg->mutex);
    for (i = 0; i < n; i++) {
        mi_push_row_t *r = rows[i];

        /* a channel state goes to its agent on /v2/me/channels, never as an interaction */
        for (k = 0; k < (r->chstate ? 1 : 2); k++) {
            const char **logins = k == 0 ? r->audience : r->revoked;
            int nl = k == 0 ? r->n_audience : r->n_revoked;

            for (j = 0; j < nl; j++) {
                if (strlen(logins[j]) > 255) {
                    continue;
                }
                user_key(key, r->cc, logins[j]);
                b = bucket_get(reg, reg->users, key, 0, 0);
                for (w = b != NULL ? APR_RING_FIRST(&b->ring) : NULL;
                     b != NULL && w != APR_RING_SENTINEL(&b->ring, mi_push_waiter_t, user_link);
                     w = APR_RING_NEXT(w, user_link)) {
                    woken += give(w, r, r->chstate ? MI_PUSH_MYCH : MI_PUSH_ME, &touched);
                }
            }
        }
        if (r->all || r->chstate) {
            cc_key(key, r->cc);
            b = bucket_get(reg, reg->ccs, key, 0, 1);
            for (w = b != NULL ? APR_RING_FIRST(&b->ring) : NULL;
                 b != NULL && w != APR_RING_SENTINEL(&b->ring, mi_push_waiter_t, cc_link);
                 w = APR_RING_NEXT(w, cc_link)) {
                woken += give(w, r, r->chstate ? MI_PUSH_AGENTS : MI_PUSH_ALL, &touched);
            }
        }
    }
    /* Every waiter handed rows has its cursor written before they go out: the rows reach
     * the end of this read, or the last row taken when it holds as many as one reply may. */
    for (w = touched; w != NULL; w = next) {
        next = w->next_touched;
        w->touched = 0;
        w->next_touched = NULL;
        if (w->tracked && w->n_in > 0 && !w->pending && !w->ready) {
            mi_push_advance_t *a = apr_array_push(out);
            mi_push_row_t *last = w->inbox[w->n_in - 1];

            w->pending = 1;
            a->w = w;
            a->cc = w->cc;
            a->client_id = apr_pstrdup(out->pool, w->client_id);
            a->gen = w->t.gen;
            a->batch = last->seq;
            a->max_interval_ms = w->t.max_interval_ms;
            if (w->full || !(xid > last->xid || (xid == last->xid && seq > last->seq))) {
                a->xid = last->xid;
                a->seq = last->seq;
            }
            else {
                a->xid = xid;
                a->seq = seq;
            }
        }
    }
    apr_thread_mutex_unlock(reg->mutex);
    return woken;
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

/* ------------------------------------------------------------------ WebSocket connections */

void mi_push_waiter_on_wake(mi_push_waiters_t *reg, mi_push_waiter_t *w, void (*fn)(void *baton),
                            void *baton)
{
    apr_thread_mutex_lock(reg->mutex);
    w->on_wake = fn;
    w->wake_baton = baton;
    apr_thread_mutex_unlock(reg->mutex);
}

int mi_push_waiter_due(mi_push_waiters_t *reg, mi_push_waiter_t *w)
{
    int due;

    apr_thread_mutex_lock(reg->mutex);
    due = w->ready || w->pending || w->state != MI_PUSH_WAITER_WAITING;
    apr_thread_mutex_unlock(reg->mutex);
    return due;
}

apr_status_t mi_push_waiters_hold(mi_push_waiters_t *reg, int cc, const char *login)
{
    char key[KEY_MAX];
    bucket_t *users, *holds;
    mi_push_waiter_t *w;
    apr_status_t rv = APR_SUCCESS;
    int mine = 0;

    if (strlen(login) > 255) {
        return APR_EINVAL;
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
    users = bucket_get(reg, reg->users, key, 0, 0);
    for (w = users != NULL ? APR_RING_FIRST(&users->ring) : NULL;
         users != NULL && w != APR_RING_SENTINEL(&users->ring, mi_push_waiter_t, user_link);
         w = APR_RING_NEXT(w, user_link)) {
        mine += !w->held;
    }
    holds = bucket_get(reg, reg->holds, key, 0, 0);
    if (reg->per_user > 0 && mine + (holds != NULL ? holds->n : 0) >= reg->per_user) {
        rv = MI_PUSH_WAITERS_USER_FULL;
        goto leave;
    }
    if (reg->per_cc > 0 && *cc_count(reg, cc, 1) >= reg->per_cc) {
        rv = MI_PUSH_WAITERS_CC_FULL;
        goto leave;
    }
    holds = bucket_get(reg, reg->holds, key, 1, 0);
    holds->n++;
    reg->count++;
    (*cc_count(reg, cc, 1))++;

leave:
    apr_thread_mutex_unlock(reg->mutex);
    return rv;
}

void mi_push_waiters_unhold(mi_push_waiters_t *reg, int cc, const char *login)
{
    char key[KEY_MAX];
    bucket_t *holds;

    if (strlen(login) > 255) {
        return;
    }
    user_key(key, cc, login);
    apr_thread_mutex_lock(reg->mutex);
    holds = bucket_get(reg, reg->holds, key, 0, 0);
    if (holds != NULL && holds->n > 0) {
        holds->n--;
        bucket_release(reg, reg->holds, holds);
        reg->count--;
        (*cc_count(reg, cc, 1))--;
    }
    apr_thread_mutex_unlock(reg->mutex);
}

int mi_push_waiters_is_closed(mi_push_waiters_t *reg)
{
    int closed;

    apr_thread_mutex_lock(reg->mutex);
    closed = reg->closed;
    apr_thread_mutex_unlock(reg->mutex);
    return closed;
}

void mi_push_waiter_cancel(mi_push_waiters_t *reg, mi_push_waiter_t *w,
                           mi_push_waiter_reason_e reason)
{
    apr_thread_mutex_lock(reg->mutex);
    if (w->registered) {
        cancel(w, reason);
    }
    apr_thread_mutex_unlock(reg->mutex);
}
