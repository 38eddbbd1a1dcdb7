/* mi_credcache.c — see mi_credcache.h */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <apr_general.h>

#include "mi_credcache.h"

#define SECRET_BYTES 32
#define MAGIC 0x6d69637265646331ULL     /* "micredc1" */

typedef struct {
    unsigned char key[MI_CREDCACHE_TAG];
    unsigned char verifier[MI_CREDCACHE_TAG];
    apr_int64_t checked_at;       /* when the database last confirmed it (bcrypt or version) */
    apr_int32_t version;
    apr_uint32_t used;
} cred_t;

typedef struct {
    unsigned char key[MI_CREDCACHE_TAG];
    apr_int64_t window_start;
    apr_int64_t locked_until;     /* 0: never locked */
    apr_int64_t ok_at;            /* last successful login ((user, address) records); 0: none */
    apr_uint32_t failures;
    apr_uint32_t used;
} fail_t;

typedef struct {
    pthread_mutex_t mutex;
    cred_t e[MI_CREDCACHE_WAYS];
} cred_bucket_t;

typedef struct {
    pthread_mutex_t mutex;
    fail_t e[MI_CREDCACHE_WAYS];
} fail_bucket_t;

typedef struct {
    apr_uint64_t magic;
    apr_uint32_t ncred;           /* buckets */
    apr_uint32_t nfail;
    apr_uint64_t counters[5];     /* mi_cred_count_e */
    apr_uint64_t locks[4];        /* mi_lock_e */
} header_t;

struct mi_credcache_t {
    header_t *hdr;
    cred_bucket_t *cred;
    fail_bucket_t *fail;
    mi_credcache_conf_t conf;
    unsigned char secret[SECRET_BYTES];
};

/* Sizes are rounded so that each part starts 64-byte aligned (the mutexes and the counters
 * are written by every process: keep them off each other's cache lines where cheap). */
#define ROUND64(n) (((n) + 63) & ~(apr_size_t)63)

static apr_uint32_t buckets_for(int entries)
{
    return entries <= 0 ? 0 : (apr_uint32_t)((entries + MI_CREDCACHE_WAYS - 1) / MI_CREDCACHE_WAYS);
}

apr_size_t mi_credcache_size(const mi_credcache_conf_t *conf)
{
    return ROUND64(sizeof(header_t))
           + ROUND64(sizeof(cred_bucket_t) * buckets_for(conf->entries))
           + ROUND64(sizeof(fail_bucket_t) * buckets_for(conf->failure_entries));
}

static apr_status_t init_mutex(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    int rc;

    pthread_mutexattr_init(&attr);
    /* shared by httpd's children; robust: a child killed while holding it does not leave
     * the others waiting forever (the next locker gets EOWNERDEAD and takes over) */
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0) {
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    if (rc == 0) {
        rc = pthread_mutex_init(m, &attr);
    }
    pthread_mutexattr_destroy(&attr);
    return rc == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(rc);
}

apr_status_t mi_credcache_create(mi_credcache_t **pc, void *mem, apr_size_t size,
                                 const mi_credcache_conf_t *conf, apr_pool_t *p)
{
    mi_credcache_t *c;
    char *base = mem;
    apr_uint32_t i;
    apr_status_t rv;

    *pc = NULL;
    if (mem == NULL || size < mi_credcache_size(conf) || ((apr_uintptr_t)mem & 7) != 0) {
        return APR_EINVAL;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->conf = *conf;
    rv = apr_generate_random_bytes(c->secret, sizeof(c->secret));
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    memset(mem, 0, mi_credcache_size(conf));
    c->hdr = (header_t *)base;
    c->hdr->magic = MAGIC;
    c->hdr->ncred = buckets_for(conf->entries);
    c->hdr->nfail = buckets_for(conf->failure_entries);
    c->cred = (cred_bucket_t *)(base + ROUND64(sizeof(header_t)));
    c->fail = (fail_bucket_t *)(base + ROUND64(sizeof(header_t))
                                + ROUND64(sizeof(cred_bucket_t) * c->hdr->ncred));
    for (i = 0; i < c->hdr->ncred && rv == APR_SUCCESS; i++) {
        rv = init_mutex(&c->cred[i].mutex);
    }
    for (i = 0; i < c->hdr->nfail && rv == APR_SUCCESS; i++) {
        rv = init_mutex(&c->fail[i].mutex);
    }
    if (rv == APR_SUCCESS) {
        *pc = c;
    }

leave:
    return rv;
}

/* ------------------------------------------------------------------ tags */

/* HMAC-SHA256 under the start-up secret of @n parts, truncated to a tag.  The parts are
 * fixed-length except the last, or carry their length, so two inputs never run together. */
static void tag(const mi_credcache_t *c, const void *const *part, const size_t *len, int n,
                unsigned char out[MI_CREDCACHE_TAG])
{
    unsigned char small[512], *buf = small, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t total = 0, off = 0;
    int i;

    for (i = 0; i < n; i++) {
        total += len[i];
    }
    if (total > sizeof(small)) {
        buf = malloc(total);
    }
    if (buf == NULL) {
        /* no memory for a long input: a tag that matches nothing stored (all ones is never
         * a stored key or verifier but by a 2^-128 chance) */
        memset(out, 0xff, MI_CREDCACHE_TAG);
        return;
    }
    for (i = 0; i < n; i++) {
        memcpy(buf + off, part[i], len[i]);
        off += len[i];
    }
    if (HMAC(EVP_sha256(), c->secret, (int)sizeof(c->secret), buf, total, md, &mdlen) == NULL
        || mdlen < MI_CREDCACHE_TAG) {
        memset(out, 0xff, MI_CREDCACHE_TAG);
    }
    else {
        memcpy(out, md, MI_CREDCACHE_TAG);
    }
    OPENSSL_cleanse(md, sizeof(md));
    OPENSSL_cleanse(buf, total);
    if (buf != small) {
        free(buf);
    }
}

/* The client address as bytes: IPv4 (also IPv4-mapped IPv6) whole, IPv6 by its /64, which
 * one client usually holds entire (a guesser could otherwise take a new address per try). */
static size_t address_bytes(const char *addr, unsigned char *out, size_t room)
{
    unsigned char a[16];
    size_t n;

    if (addr == NULL) {
        out[0] = 'n';
        return 1;
    }
    if (inet_pton(AF_INET, addr, a) == 1) {
        out[0] = '4';
        memcpy(out + 1, a, 4);
        return 5;
    }
    if (inet_pton(AF_INET6, addr, a) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(a, mapped, sizeof(mapped)) == 0) {
            out[0] = '4';
            memcpy(out + 1, a + 12, 4);
            return 5;
        }
        out[0] = '6';
        memcpy(out + 1, a, 8);
        return 9;
    }
    n = strlen(addr);
    if (n > room - 1) {
        n = room - 1;
    }
    out[0] = 's';
    memcpy(out + 1, addr, n);
    return n + 1;
}

void mi_credcache_who(const mi_credcache_t *c, int cc, const char *login, const char *password,
                      const char *addr, mi_credcache_who_t *who)
{
    mi_credcache_who_in(c, 0, cc, login, password, addr, who);
}

void mi_credcache_who_in(const mi_credcache_t *c, unsigned db, int cc, const char *login,
                         const char *password, const char *addr, mi_credcache_who_t *who)
{
    unsigned char ccb[6], lenb[2], ab[1 + 64];
    size_t llen = strlen(login), plen = password != NULL ? strlen(password) : 0, alen;
    const void *part[5];
    size_t len[5];

    ccb[0] = (unsigned char)((apr_uint32_t)cc >> 24);
    ccb[1] = (unsigned char)((apr_uint32_t)cc >> 16);
    ccb[2] = (unsigned char)((apr_uint32_t)cc >> 8);
    ccb[3] = (unsigned char)cc;
    ccb[4] = (unsigned char)(db >> 8);
    ccb[5] = (unsigned char)db;
    lenb[0] = (unsigned char)(llen >> 8);
    lenb[1] = (unsigned char)llen;
    alen = address_bytes(addr, ab, sizeof(ab));

    part[0] = "U"; len[0] = 1;
    part[1] = ccb; len[1] = sizeof(ccb);
    part[2] = login; len[2] = llen;
    tag(c, part, len, 3, who->user);

    /* the verifier names the user too: a value can never pass for another user's */
    part[0] = "P";
    part[2] = lenb; len[2] = 2;
    part[3] = login; len[3] = llen;
    part[4] = password != NULL ? password : ""; len[4] = plen;
    tag(c, part, len, 5, who->verifier);

    part[0] = "A";
    part[1] = ab; len[1] = alen;
    tag(c, part, len, 2, who->address);

    part[0] = "B";
    part[1] = who->user; len[1] = MI_CREDCACHE_TAG;
    part[2] = ab; len[2] = alen;
    tag(c, part, len, 3, who->user_address);
}

/* ------------------------------------------------------------------ buckets */

static apr_uint32_t index_of(const unsigned char *key, apr_uint32_t n)
{
    apr_uint32_t h = ((apr_uint32_t)key[0] << 24) | ((apr_uint32_t)key[1] << 16)
                     | ((apr_uint32_t)key[2] << 8) | key[3];
    return h % n;
}

/* Lock a bucket's mutex: 0 when locked as it was left, 1 when its last owner died holding it
 * (now ours, its contents possibly half-written), -1 when it cannot be locked. */
static int bucket_lock(pthread_mutex_t *m)
{
    int rc = pthread_mutex_lock(m);

    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(m);
        return 1;
    }
    return rc == 0 ? 0 : -1;
}

static cred_bucket_t *cred_bucket(mi_credcache_t *c, const unsigned char *key)
{
    cred_bucket_t *b;
    int got;

    if (c->hdr->ncred == 0) {
        return NULL;
    }
    b = &c->cred[index_of(key, c->hdr->ncred)];
    got = bucket_lock(&b->mutex);
    if (got < 0) {
        return NULL;
    }
    if (got > 0) {
        /* an entry may be half-written; they are only a cache, so start this bucket over */
        memset(b->e, 0, sizeof(b->e));
    }
    return b;
}

static fail_bucket_t *fail_bucket(mi_credcache_t *c, const unsigned char *key)
{
    fail_bucket_t *b;

    if (c->hdr->nfail == 0) {
        return NULL;
    }
    b = &c->fail[index_of(key, c->hdr->nfail)];
    /* a dead owner leaves at worst one record's counts a little off: keep them */
    return bucket_lock(&b->mutex) >= 0 ? b : NULL;
}

static cred_t *cred_find(cred_bucket_t *b, const unsigned char *key)
{
    int i;

    for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
        if (b->e[i].used && memcmp(b->e[i].key, key, MI_CREDCACHE_TAG) == 0) {
            return &b->e[i];
        }
    }
    return NULL;
}

mi_cred_e mi_credcache_lookup(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                              int *pversion)
{
    cred_bucket_t *b = cred_bucket(c, who->user);
    mi_cred_e res = MI_CRED_MISS;
    cred_t *e;

    *pversion = 0;
    if (b == NULL) {
        return MI_CRED_MISS;
    }
    e = cred_find(b, who->user);
    if (e != NULL && CRYPTO_memcmp(e->verifier, who->verifier, MI_CREDCACHE_TAG) == 0) {
        *pversion = e->version;
        /* a clock that went back makes the entry due, not fresh for longer */
        res = (now >= e->checked_at && now - e->checked_at < c->conf.recheck) ? MI_CRED_FRESH
                                                                              : MI_CRED_RECHECK;
    }
    pthread_mutex_unlock(&b->mutex);
    return res;
}

void mi_credcache_store(mi_credcache_t *c, const mi_credcache_who_t *who, int version,
                        apr_time_t now)
{
    cred_bucket_t *b = cred_bucket(c, who->user);
    cred_t *e;
    int i;

    if (b == NULL) {
        return;
    }
    e = cred_find(b, who->user);
    if (e == NULL) {
        /* a free entry, else the one confirmed longest ago: users who are active get
         * confirmed every `recheck`, so this one is likely gone */
        e = &b->e[0];
        for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
            if (!b->e[i].used) {
                e = &b->e[i];
                break;
            }
            if (b->e[i].checked_at < e->checked_at) {
                e = &b->e[i];
            }
        }
    }
    memcpy(e->key, who->user, MI_CREDCACHE_TAG);
    memcpy(e->verifier, who->verifier, MI_CREDCACHE_TAG);
    e->version = version;
    e->checked_at = now;
    e->used = 1;
    pthread_mutex_unlock(&b->mutex);
}

void mi_credcache_confirm(mi_credcache_t *c, const mi_credcache_who_t *who, int version,
                          apr_time_t now)
{
    cred_bucket_t *b = cred_bucket(c, who->user);
    cred_t *e;

    if (b == NULL) {
        return;
    }
    e = cred_find(b, who->user);
    /* another thread may have stored another password or version meanwhile: keep that */
    if (e != NULL && e->version == version
        && CRYPTO_memcmp(e->verifier, who->verifier, MI_CREDCACHE_TAG) == 0
        && now > e->checked_at) {
        e->checked_at = now;
    }
    pthread_mutex_unlock(&b->mutex);
}

void mi_credcache_forget(mi_credcache_t *c, const mi_credcache_who_t *who)
{
    cred_bucket_t *b = cred_bucket(c, who->user);
    cred_t *e;

    if (b == NULL) {
        return;
    }
    e = cred_find(b, who->user);
    if (e != NULL) {
        memset(e, 0, sizeof(*e));
    }
    pthread_mutex_unlock(&b->mutex);
}

/* ------------------------------------------------------------------ failures */

static fail_t *fail_find(fail_bucket_t *b, const unsigned char *key)
{
    int i;

    for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
        if (b->e[i].used && memcmp(b->e[i].key, key, MI_CREDCACHE_TAG) == 0) {
            return &b->e[i];
        }
    }
    return NULL;
}

/* Failures of @f that still count at @now (the window restarts once it has passed and no
 * lock holds). */
static apr_uint32_t live_failures(const mi_credcache_t *c, const fail_t *f, apr_time_t now)
{
    if (f->locked_until > now || now - f->window_start < c->conf.window) {
        return f->failures;
    }
    return 0;
}

/* How much a record is worth keeping, lowest first evicted: records that say nothing any
 * more (the oldest first), then those with few failures, then locked ones, then logins
 * within the window (which let an agent in while a guesser has the user locked; every
 * accepted request of an active agent renews its record) — so a flood of new records from
 * many addresses pushes out neither a lock nor an active agent's success, and old
 * successes do not crowd out the counting. */
static apr_int64_t worth(const mi_credcache_t *c, const fail_t *f, apr_time_t now)
{
    apr_uint32_t failures;

    /* class << 56 | failures << 32 | seconds since the epoch (fit 32 bits until 2106) */
    if (!f->used) {
        return 0;
    }
    if (f->ok_at != 0 && now - f->ok_at < c->conf.window) {
        return ((apr_int64_t)4 << 56) + apr_time_sec(f->ok_at);
    }
    if (f->locked_until > now) {
        return ((apr_int64_t)3 << 56) + apr_time_sec(f->locked_until);
    }
    failures = live_failures(c, f, now);
    if (failures > 0) {
        if (failures > 0xffffff) {
            failures = 0xffffff;
        }
        return ((apr_int64_t)2 << 56) + ((apr_int64_t)failures << 32) + apr_time_sec(f->window_start);
    }
    return ((apr_int64_t)1 << 56) + apr_time_sec(f->ok_at > f->window_start ? f->ok_at : f->window_start);
}

/* The record of @key in @b, made (evicting the least worth) when there is none.  Recent
 * logins may fill at most half the bucket against counting: beyond that the oldest of them
 * goes rather than a record that counts failures or holds a lock (one failure writes up to
 * three records, which must not push each other out). */
static fail_t *fail_get(mi_credcache_t *c, fail_bucket_t *b, const unsigned char *key,
                        apr_time_t now)
{
    fail_t *f = fail_find(b, key), *oldest_ok = NULL;
    apr_int64_t best = 0, ok_best = 0;
    int i, nok = 0;

    if (f != NULL) {
        return f;
    }
    for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
        apr_int64_t w = worth(c, &b->e[i], now);
        if (f == NULL || w < best) {
            f = &b->e[i];
            best = w;
        }
        if ((w >> 56) == 4) {
            nok++;
            if (oldest_ok == NULL || w < ok_best) {
                oldest_ok = &b->e[i];
                ok_best = w;
            }
        }
    }
    if ((best >> 56) >= 2 && nok > MI_CREDCACHE_WAYS / 2) {
        f = oldest_ok;
    }
    memset(f, 0, sizeof(*f));
    memcpy(f->key, key, MI_CREDCACHE_TAG);
    f->window_start = now;
    f->used = 1;
    return f;
}

/* Read a record's state without changing it. */
static void fail_peek(mi_credcache_t *c, const unsigned char *key, apr_time_t now,
                      apr_time_t *plocked_until, apr_time_t *pok_at, int *pfailures)
{
    fail_bucket_t *b = fail_bucket(c, key);
    const fail_t *f;

    *plocked_until = 0;
    *pok_at = 0;
    *pfailures = 0;
    if (b == NULL) {
        return;
    }
    f = fail_find(b, key);
    if (f != NULL) {
        *plocked_until = f->locked_until;
        *pok_at = f->ok_at;
        *pfailures = (int)live_failures(c, f, now);
    }
    pthread_mutex_unlock(&b->mutex);
}

mi_lock_e mi_credcache_locked(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                              apr_time_t *puntil, int *pknown)
{
    apr_time_t until, ok_at;
    int failures;

    *puntil = 0;
    if (pknown != NULL) {
        *pknown = 0;
    }
    fail_peek(c, who->user_address, now, &until, &ok_at, &failures);
    if (until > now) {
        *puntil = until;
        return MI_LOCK_USER_ADDRESS;
    }
    if (ok_at != 0) {
        if (pknown != NULL) {
            *pknown = 1;
        }
        return MI_LOCK_NONE;
    }
    fail_peek(c, who->user, now, &until, &ok_at, &failures);
    if (until > now) {
        *puntil = until;
        return MI_LOCK_USER;
    }
    fail_peek(c, who->address, now, &until, &ok_at, &failures);
    if (until > now) {
        *puntil = until;
        return MI_LOCK_ADDRESS;
    }
    return MI_LOCK_NONE;
}

/* Count one failure in the record of @key; returns 1 when this failure locked it. */
static int fail_count(mi_credcache_t *c, const unsigned char *key, int max, apr_time_t now,
                      apr_time_t *puntil)
{
    fail_bucket_t *b = fail_bucket(c, key);
    int engaged = 0;
    fail_t *f;

    if (b == NULL) {
        return 0;
    }
    f = fail_get(c, b, key, now);
    if (live_failures(c, f, now) == 0) {
        f->window_start = now;
        f->failures = 0;
    }
    f->failures++;
    if (max > 0 && f->failures >= (apr_uint32_t)max && f->locked_until <= now) {
        f->locked_until = now + c->conf.window;
        *puntil = f->locked_until;
        engaged = 1;
    }
    pthread_mutex_unlock(&b->mutex);
    return engaged;
}

mi_lock_e mi_credcache_failed(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                              apr_time_t *puntil)
{
    apr_time_t until[4] = { 0, 0, 0, 0 };
    mi_lock_e res = MI_LOCK_NONE;
    int engaged[4] = { 0, 0, 0, 0 };
    int i;

    engaged[MI_LOCK_ADDRESS] = fail_count(c, who->address, c->conf.max_address, now,
                                          &until[MI_LOCK_ADDRESS]);
    engaged[MI_LOCK_USER] = fail_count(c, who->user, c->conf.max_user, now, &until[MI_LOCK_USER]);
    engaged[MI_LOCK_USER_ADDRESS] = fail_count(c, who->user_address, c->conf.max_user_address, now,
                                               &until[MI_LOCK_USER_ADDRESS]);
    *puntil = 0;
    /* the narrowest lock is the one to report; every engaged one is counted */
    for (i = MI_LOCK_ADDRESS; i >= MI_LOCK_USER_ADDRESS; i--) {
        if (engaged[i]) {
            __atomic_fetch_add(&c->hdr->locks[i], 1, __ATOMIC_RELAXED);
            res = (mi_lock_e)i;
            *puntil = until[i];
        }
    }
    return res;
}

void mi_credcache_succeeded(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                            int verified)
{
    fail_bucket_t *b = fail_bucket(c, who->user_address);
    fail_t *f;

    if (b == NULL) {
        return;
    }
    f = fail_find(b, who->user_address);
    if (!verified && f != NULL && f->ok_at != 0 && now >= f->ok_at
        && now - f->ok_at < c->conf.window / 2) {
        /* renewed recently enough: most requests write nothing */
        pthread_mutex_unlock(&b->mutex);
        return;
    }
    if (f == NULL) {
        f = fail_get(c, b, who->user_address, now);
    }
    if (verified) {
        f->failures = 0;
        f->locked_until = 0;
        f->window_start = now;
    }
    f->ok_at = now;
    pthread_mutex_unlock(&b->mutex);
}

int mi_credcache_failures(mi_credcache_t *c, const mi_credcache_who_t *who, mi_lock_e which,
                          apr_time_t now)
{
    const unsigned char *key = which == MI_LOCK_USER ? who->user
                               : which == MI_LOCK_ADDRESS ? who->address : who->user_address;
    apr_time_t until, ok_at;
    int failures;

    fail_peek(c, key, now, &until, &ok_at, &failures);
    return failures;
}

/* ------------------------------------------------------------------ statistics */

void mi_credcache_count(mi_credcache_t *c, mi_cred_count_e what)
{
    if ((unsigned)what < sizeof(c->hdr->counters) / sizeof(c->hdr->counters[0])) {
        __atomic_fetch_add(&c->hdr->counters[what], 1, __ATOMIC_RELAXED);
    }
}

void mi_credcache_stats(const mi_credcache_t *c, mi_credcache_stats_t *st)
{
    int i;

    st->cached = __atomic_load_n(&c->hdr->counters[MI_CRED_COUNT_CACHED], __ATOMIC_RELAXED);
    st->rechecked = __atomic_load_n(&c->hdr->counters[MI_CRED_COUNT_RECHECKED], __ATOMIC_RELAXED);
    st->verified = __atomic_load_n(&c->hdr->counters[MI_CRED_COUNT_VERIFIED], __ATOMIC_RELAXED);
    st->refused = __atomic_load_n(&c->hdr->counters[MI_CRED_COUNT_REFUSED], __ATOMIC_RELAXED);
    st->locked = __atomic_load_n(&c->hdr->counters[MI_CRED_COUNT_LOCKED], __ATOMIC_RELAXED);
    for (i = 0; i < 4; i++) {
        st->locks[i] = __atomic_load_n(&c->hdr->locks[i], __ATOMIC_RELAXED);
    }
}
