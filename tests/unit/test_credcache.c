/* test_credcache.c — the shared credential cache and the failed-login counts. */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_thread_proc.h>
#include <openssl/evp.h>

#include "mi_credcache.h"
#include "unit.h"

#define SEC(n) apr_time_from_sec(n)
#define T0 (SEC(1700000000))

static mi_credcache_conf_t conf_of(int entries, int failure_entries)
{
    mi_credcache_conf_t conf;

    memset(&conf, 0, sizeof(conf));
    conf.entries = entries;
    conf.failure_entries = failure_entries;
    conf.recheck = SEC(5);
    conf.window = SEC(300);
    return conf;
}

static mi_credcache_t *make(const mi_credcache_conf_t *conf, void **pmem)
{
    apr_size_t size = mi_credcache_size(conf);
    void *mem = apr_palloc(tp, size);
    mi_credcache_t *c = NULL;

    CU_ASSERT_EQUAL_FATAL(mi_credcache_create(&c, mem, size, conf, tp), APR_SUCCESS);
    if (pmem != NULL) {
        *pmem = mem;
    }
    return c;
}

static mi_credcache_who_t who(mi_credcache_t *c, int cc, const char *login, const char *pw,
                              const char *addr)
{
    mi_credcache_who_t w;

    mi_credcache_who(c, cc, login, pw, addr, &w);
    return w;
}

static void remembers_the_verified_password_only(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c = make(&conf, NULL);
    mi_credcache_who_t a = who(c, 1, "agent1", "secret", "10.0.0.1");
    mi_credcache_who_t w;
    int v = -1;

    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0, &v), MI_CRED_MISS);
    mi_credcache_store(c, &a, 3, T0);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(1), &v), MI_CRED_FRESH);
    CU_ASSERT_EQUAL(v, 3);
    /* the same user from elsewhere: the entry is the user's, not the address's */
    w = who(c, 1, "agent1", "secret", "10.9.9.9");
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &w, T0 + SEC(1), &v), MI_CRED_FRESH);
    w = who(c, 1, "agent1", "Secret", "10.0.0.1");
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &w, T0 + SEC(1), &v), MI_CRED_MISS);
    w = who(c, 1, "agent1", "", "10.0.0.1");
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &w, T0 + SEC(1), &v), MI_CRED_MISS);
    w = who(c, 1, "agent2", "secret", "10.0.0.1");
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &w, T0 + SEC(1), &v), MI_CRED_MISS);
    /* the same login in another contact center is another user */
    w = who(c, 2, "agent1", "secret", "10.0.0.1");
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &w, T0 + SEC(1), &v), MI_CRED_MISS);
    /* login and password never run together */
    w = who(c, 1, "agent1s", "ecret", "10.0.0.1");
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &w, T0 + SEC(1), &v), MI_CRED_MISS);
}

/* Contact center ids are per database: the same id and login in two databases are two
 * users, whose passwords never pass for each other. */
static void the_same_contact_center_id_in_two_databases_is_two_tenants(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c = make(&conf, NULL);
    mi_credcache_who_t a, b, zero;
    int v = -1;

    mi_credcache_who_in(c, 0, 5, "agent1", "secret", "10.0.0.1", &a);
    mi_credcache_who_in(c, 1, 5, "agent1", "secret", "10.0.0.1", &b);
    mi_credcache_store(c, &a, 3, T0);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(1), &v), MI_CRED_FRESH);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &b, T0 + SEC(1), &v), MI_CRED_MISS);
    CU_ASSERT_NOT_EQUAL(memcmp(a.user, b.user, sizeof(a.user)), 0);
    /* database 0 is what mi_credcache_who() means */
    zero = who(c, 5, "agent1", "secret", "10.0.0.1");
    CU_ASSERT_EQUAL(memcmp(a.user, zero.user, sizeof(a.user)), 0);
    CU_ASSERT_EQUAL(memcmp(a.verifier, zero.verifier, sizeof(a.verifier)), 0);
}

static void rechecks_the_version_after_the_interval(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c = make(&conf, NULL);
    mi_credcache_who_t a = who(c, 1, "agent1", "secret", "10.0.0.1");
    int v = 0;

    mi_credcache_store(c, &a, 7, T0);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(5) - 1, &v), MI_CRED_FRESH);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(5), &v), MI_CRED_RECHECK);
    CU_ASSERT_EQUAL(v, 7);
    /* a clock that went back makes it due, not fresh for longer */
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 - SEC(1), &v), MI_CRED_RECHECK);
    /* confirming another version changes nothing */
    mi_credcache_confirm(c, &a, 8, T0 + SEC(6));
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(6), &v), MI_CRED_RECHECK);
    mi_credcache_confirm(c, &a, 7, T0 + SEC(6));
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(10), &v), MI_CRED_FRESH);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(11), &v), MI_CRED_RECHECK);
    mi_credcache_forget(c, &a);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0 + SEC(11), &v), MI_CRED_MISS);
}

static void a_new_password_replaces_the_old(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c = make(&conf, NULL);
    mi_credcache_who_t old = who(c, 1, "agent1", "old", "10.0.0.1");
    mi_credcache_who_t new = who(c, 1, "agent1", "new", "10.0.0.1");
    int v = 0;

    mi_credcache_store(c, &old, 1, T0);
    mi_credcache_store(c, &new, 2, T0 + SEC(1));
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &old, T0 + SEC(1), &v), MI_CRED_MISS);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &new, T0 + SEC(1), &v), MI_CRED_FRESH);
    CU_ASSERT_EQUAL(v, 2);
    /* confirming the old one does not bring it back */
    mi_credcache_confirm(c, &old, 1, T0 + SEC(2));
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &old, T0 + SEC(2), &v), MI_CRED_MISS);
}

/* Neither the password, nor the login, nor a plain hash of the password is in the shared
 * memory; and two starts (two secrets) make different tags of the same credential. */
static void the_memory_holds_no_password_or_plain_hash(void)
{
    static const char pw[] = "correct horse battery staple";
    mi_credcache_conf_t conf = conf_of(64, 64);
    apr_size_t size = mi_credcache_size(&conf);
    void *mem;
    mi_credcache_t *c = make(&conf, &mem), *c2 = make(&conf, NULL);
    mi_credcache_who_t a = who(c, 1, "frederick", pw, "10.0.0.1");
    mi_credcache_who_t a2 = who(c2, 1, "frederick", pw, "10.0.0.1");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const EVP_MD *mds[3];
    int i;

    mds[0] = EVP_sha1();
    mds[1] = EVP_sha256();
    mds[2] = EVP_md5();
    mi_credcache_store(c, &a, 1, T0);
    mi_credcache_succeeded(c, &a, T0, 1);
    mi_credcache_failed(c, &a, T0, &(apr_time_t){ 0 });
    CU_ASSERT_PTR_NULL(memmem(mem, size, pw, strlen(pw)));
    CU_ASSERT_PTR_NULL(memmem(mem, size, "frederick", 9));
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(EVP_Digest(pw, strlen(pw), md, &mdlen, mds[i], NULL), 1);
        CU_ASSERT_PTR_NULL(memmem(mem, size, md, 8));
    }
    CU_ASSERT_NOT_EQUAL(memcmp(a.user, a2.user, sizeof(a.user)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.verifier, a2.verifier, sizeof(a.verifier)), 0);
}

static void ipv6_clients_count_by_their_64(void)
{
    mi_credcache_conf_t conf = conf_of(8, 8);
    mi_credcache_t *c = make(&conf, NULL);
    mi_credcache_who_t a = who(c, 1, "u", "p", "2001:db8:1:2::1");
    mi_credcache_who_t b = who(c, 1, "u", "p", "2001:db8:1:2:ffff:1:2:3");
    mi_credcache_who_t d = who(c, 1, "u", "p", "2001:db8:1:3::1");
    mi_credcache_who_t v4 = who(c, 1, "u", "p", "192.0.2.7");
    mi_credcache_who_t mapped = who(c, 1, "u", "p", "::ffff:192.0.2.7");

    CU_ASSERT_EQUAL(memcmp(a.address, b.address, MI_CREDCACHE_TAG), 0);
    CU_ASSERT_EQUAL(memcmp(a.user_address, b.user_address, MI_CREDCACHE_TAG), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.address, d.address, MI_CREDCACHE_TAG), 0);
    CU_ASSERT_EQUAL(memcmp(v4.address, mapped.address, MI_CREDCACHE_TAG), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(v4.address, a.address, MI_CREDCACHE_TAG), 0);
}

/* One bucket: the entry confirmed longest ago goes first. */
static void a_full_cache_evicts_the_least_recently_confirmed(void)
{
    mi_credcache_conf_t conf = conf_of(MI_CREDCACHE_WAYS, 8);
    mi_credcache_t *c = make(&conf, NULL);
    mi_credcache_who_t u[MI_CREDCACHE_WAYS + 1];
    char login[16];
    int i, v = 0;

    for (i = 0; i <= MI_CREDCACHE_WAYS; i++) {
        snprintf(login, sizeof(login), "user%d", i);
        u[i] = who(c, 1, login, "pw", "10.0.0.1");
    }
    for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
        mi_credcache_store(c, &u[i], 1, T0 + SEC(i));
    }
    mi_credcache_confirm(c, &u[0], 1, T0 + SEC(100));
    mi_credcache_store(c, &u[MI_CREDCACHE_WAYS], 1, T0 + SEC(101));
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &u[0], T0 + SEC(101), &v), MI_CRED_FRESH);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &u[1], T0 + SEC(101), &v), MI_CRED_MISS);
    for (i = 2; i <= MI_CREDCACHE_WAYS; i++) {
        CU_ASSERT_NOT_EQUAL(mi_credcache_lookup(c, &u[i], T0 + SEC(101), &v), MI_CRED_MISS);
    }
}

static void a_user_is_locked_at_one_address(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c;
    mi_credcache_who_t a, b, right;
    apr_time_t until = 0;
    int known = -1;

    conf.max_user_address = 3;
    c = make(&conf, NULL);
    a = who(c, 1, "agent1", "guess", "10.0.0.1");
    b = who(c, 1, "agent1", "guess", "10.0.0.2");
    right = who(c, 1, "agent1", "secret", "10.0.0.1");
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0, &until), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0 + SEC(1), &until), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &a, T0 + SEC(1), &until, &known), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0 + SEC(2), &until), MI_LOCK_USER_ADDRESS);
    CU_ASSERT_EQUAL(until, T0 + SEC(2) + SEC(300));
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &a, MI_LOCK_USER_ADDRESS, T0 + SEC(2)), 3);
    /* the lock does not depend on the password presented, and holds for the window */
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &right, T0 + SEC(3), &until, &known), MI_LOCK_USER_ADDRESS);
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &right, T0 + SEC(301), &until, NULL), MI_LOCK_USER_ADDRESS);
    CU_ASSERT_EQUAL(known, 0);
    /* another address is not locked */
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &b, T0 + SEC(3), &until, NULL), MI_LOCK_NONE);
    /* after it, the failures are forgotten */
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &right, T0 + SEC(302), &until, NULL), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &a, MI_LOCK_USER_ADDRESS, T0 + SEC(302)), 0);
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0 + SEC(303), &until), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &a, MI_LOCK_USER_ADDRESS, T0 + SEC(303)), 1);
    /* a password accepted from the cache forgets nothing, but marks the address known */
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0 + SEC(304), &until), MI_LOCK_NONE);
    mi_credcache_succeeded(c, &right, T0 + SEC(304), 0);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &a, MI_LOCK_USER_ADDRESS, T0 + SEC(304)), 2);
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &a, T0 + SEC(304), &until, &known), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(known, 1);
    /* a password checked in full forgets this address's failures */
    mi_credcache_succeeded(c, &right, T0 + SEC(305), 1);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &a, MI_LOCK_USER_ADDRESS, T0 + SEC(305)), 0);
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0 + SEC(306), &until), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0 + SEC(307), &until), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &a, T0 + SEC(307), &until, &known), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(known, 1);
}

static void failures_outside_the_window_are_forgotten(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c;
    mi_credcache_who_t a;
    apr_time_t until = 0;

    conf.max_user_address = 3;
    c = make(&conf, NULL);
    a = who(c, 1, "agent1", "guess", "10.0.0.1");
    mi_credcache_failed(c, &a, T0, &until);
    mi_credcache_failed(c, &a, T0 + SEC(1), &until);
    CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0 + SEC(300), &until), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &a, MI_LOCK_USER_ADDRESS, T0 + SEC(300)), 1);
}

/* Guesses at one user from many addresses lock the user, but not where they logged in. */
static void a_user_is_locked_except_where_they_logged_in(void)
{
    mi_credcache_conf_t conf = conf_of(64, 256);
    mi_credcache_t *c;
    mi_credcache_who_t home, g;
    apr_time_t until = 0;
    char addr[32];
    int i, known = 0;

    conf.max_user_address = 10;
    conf.max_user = 4;
    c = make(&conf, NULL);
    home = who(c, 1, "agent1", "secret", "10.0.0.1");
    mi_credcache_succeeded(c, &home, T0, 1);
    for (i = 0; i < 4; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
        g = who(c, 1, "agent1", "guess", addr);
        CU_ASSERT_EQUAL(mi_credcache_failed(c, &g, T0 + SEC(1), &until), i == 3 ? MI_LOCK_USER : MI_LOCK_NONE);
    }
    g = who(c, 1, "agent1", "secret", "198.51.100.1");
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &g, T0 + SEC(2), &until, &known), MI_LOCK_USER);
    CU_ASSERT_EQUAL(until, T0 + SEC(1) + SEC(300));
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &home, T0 + SEC(2), &until, &known), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(known, 1);
    /* other users are not locked */
    g = who(c, 1, "agent2", "secret", "198.51.100.1");
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &g, T0 + SEC(2), &until, NULL), MI_LOCK_NONE);
}

/* Guesses at many users from one address lock the address, except for users who logged in
 * from there. */
static void an_address_is_locked_except_for_who_logged_in_there(void)
{
    mi_credcache_conf_t conf = conf_of(64, 256);
    mi_credcache_t *c;
    mi_credcache_who_t agent, g;
    apr_time_t until = 0;
    char login[32];
    int i;

    conf.max_address = 5;
    c = make(&conf, NULL);
    agent = who(c, 1, "agent1", "secret", "10.0.0.1");
    mi_credcache_succeeded(c, &agent, T0, 1);
    for (i = 0; i < 5; i++) {
        snprintf(login, sizeof(login), "victim%d", i);
        g = who(c, 1, login, "guess", "10.0.0.1");
        CU_ASSERT_EQUAL(mi_credcache_failed(c, &g, T0 + SEC(1), &until), i == 4 ? MI_LOCK_ADDRESS : MI_LOCK_NONE);
    }
    g = who(c, 1, "agent2", "secret", "10.0.0.1");
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &g, T0 + SEC(2), &until, NULL), MI_LOCK_ADDRESS);
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &agent, T0 + SEC(2), &until, NULL), MI_LOCK_NONE);
    g = who(c, 1, "agent2", "secret", "10.0.0.2");
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &g, T0 + SEC(2), &until, NULL), MI_LOCK_NONE);
}

/* One bucket of failure records: a flood of one-failure records from new users and addresses
 * pushes out neither a lock nor a successful login. */
static void a_flood_of_new_records_keeps_locks_and_successes(void)
{
    mi_credcache_conf_t conf = conf_of(8, MI_CREDCACHE_WAYS);
    mi_credcache_t *c;
    mi_credcache_who_t locked, agent, g;
    apr_time_t until = 0;
    char login[32], addr[32];
    int i, known = 0;

    conf.max_user_address = 3;
    c = make(&conf, NULL);
    locked = who(c, 1, "target", "guess", "10.0.0.1");
    agent = who(c, 1, "agent", "secret", "10.0.0.2");
    mi_credcache_succeeded(c, &agent, T0, 1);
    for (i = 0; i < 3; i++) {
        mi_credcache_failed(c, &locked, T0, &until);
    }
    for (i = 0; i < 500; i++) {
        snprintf(login, sizeof(login), "u%d", i);
        snprintf(addr, sizeof(addr), "203.0.%d.%d", i / 250, i % 250);
        g = who(c, 1, login, "x", addr);
        mi_credcache_failed(c, &g, T0 + SEC(1), &until);
    }
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &locked, T0 + SEC(2), &until, NULL), MI_LOCK_USER_ADDRESS);
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &agent, T0 + SEC(2), &until, &known), MI_LOCK_NONE);
    CU_ASSERT_EQUAL(known, 1);
}

/* One bucket full of logins: a guesser is still counted and locked, and half the logins stay
 * known; logins older than the window give way first. */
static void logins_do_not_crowd_out_the_counting(void)
{
    mi_credcache_conf_t conf = conf_of(8, MI_CREDCACHE_WAYS);
    mi_credcache_t *c;
    mi_credcache_who_t ok[MI_CREDCACHE_WAYS], g;
    apr_time_t until = 0, t;
    char login[32];
    int i, round, known, still;

    conf.max_user_address = 3;
    c = make(&conf, NULL);
    for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
        snprintf(login, sizeof(login), "agent%d", i);
        ok[i] = who(c, 1, login, "secret", "10.0.0.1");
    }
    for (round = 0; round < 2; round++) {
        /* round 0: the logins are recent; round 1: older than the window */
        t = T0 + SEC(1000 * round);
        for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
            mi_credcache_succeeded(c, &ok[i], T0, 1);
        }
        if (round == 1) {
            t += SEC(400);
        }
        snprintf(login, sizeof(login), "victim%d", round);
        g = who(c, 1, login, "guess", "192.0.2.1");
        for (i = 1; i <= 3; i++) {
            CU_ASSERT_EQUAL(mi_credcache_failed(c, &g, t, &until), i == 3 ? MI_LOCK_USER_ADDRESS : MI_LOCK_NONE);
        }
        CU_ASSERT_EQUAL(mi_credcache_locked(c, &g, t + SEC(1), &until, NULL), MI_LOCK_USER_ADDRESS);
        still = 0;
        for (i = 0; i < MI_CREDCACHE_WAYS; i++) {
            known = 0;
            mi_credcache_locked(c, &ok[i], t + SEC(1), &until, &known);
            still += known;
        }
        CU_ASSERT(still >= MI_CREDCACHE_WAYS / 2);
    }
}

/* A request accepted from the cache renews the login record only now and then. */
static void an_active_login_is_renewed(void)
{
    mi_credcache_conf_t conf = conf_of(8, MI_CREDCACHE_WAYS);
    mi_credcache_t *c;
    mi_credcache_who_t agent, g;
    apr_time_t until = 0;
    char login[32];
    int i, known = 0;

    conf.max_user_address = 100;
    c = make(&conf, NULL);
    agent = who(c, 1, "agent", "secret", "10.0.0.1");
    mi_credcache_succeeded(c, &agent, T0, 1);
    /* the agent keeps working for twice the window; a flood of failures meanwhile */
    for (i = 0; i < 600; i++) {
        mi_credcache_succeeded(c, &agent, T0 + SEC(i), 0);
        snprintf(login, sizeof(login), "u%d", i);
        g = who(c, 1, login, "x", "203.0.113.9");
        mi_credcache_failed(c, &g, T0 + SEC(i), &until);
    }
    mi_credcache_locked(c, &agent, T0 + SEC(600), &until, &known);
    CU_ASSERT_EQUAL(known, 1);
}

static void nothing_is_held_in_an_empty_configuration(void)
{
    mi_credcache_conf_t conf = conf_of(0, 0);
    mi_credcache_t *c;
    mi_credcache_who_t a;
    apr_time_t until = 0;
    int v = 0, i;

    conf.max_user_address = 1;
    c = make(&conf, NULL);
    a = who(c, 1, "agent1", "secret", "10.0.0.1");
    mi_credcache_store(c, &a, 1, T0);
    CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0, &v), MI_CRED_MISS);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(mi_credcache_failed(c, &a, T0, &until), MI_LOCK_NONE);
    }
    CU_ASSERT_EQUAL(mi_credcache_locked(c, &a, T0, &until, NULL), MI_LOCK_NONE);
}

/* ------------------------------------------------------------------ concurrency */

#define THREADS 8
#define ROUNDS 500

typedef struct {
    mi_credcache_t *c;
    int id;
    int wrong;        /* lookups that did not find this thread's own entry fresh */
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    mi_credcache_who_t mine, shared;
    apr_time_t until;
    char login[16];
    int i, v;

    snprintf(login, sizeof(login), "worker%d", w->id);
    mi_credcache_who(w->c, 1, login, "pw", "10.0.0.1", &mine);
    mi_credcache_who(w->c, 1, "everyone", "guess", "10.0.0.9", &shared);
    for (i = 0; i < ROUNDS; i++) {
        mi_credcache_store(w->c, &mine, i, T0);
        if (mi_credcache_lookup(w->c, &mine, T0, &v) != MI_CRED_FRESH || v != i) {
            w->wrong++;
        }
        mi_credcache_failed(w->c, &shared, T0, &until);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void threads_count_every_failure(void)
{
    mi_credcache_conf_t conf = conf_of(1024, 64);
    mi_credcache_t *c = make(&conf, NULL);
    apr_thread_t *t[THREADS];
    worker_t w[THREADS];
    mi_credcache_who_t shared;
    apr_status_t rv;
    int i;

    for (i = 0; i < THREADS; i++) {
        w[i].c = c;
        w[i].id = i;
        w[i].wrong = 0;
        CU_ASSERT_EQUAL_FATAL(apr_thread_create(&t[i], NULL, worker, &w[i], tp), APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        apr_thread_join(&rv, t[i]);
        CU_ASSERT_EQUAL(w[i].wrong, 0);
    }
    mi_credcache_who(c, 1, "everyone", "guess", "10.0.0.9", &shared);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &shared, MI_LOCK_USER_ADDRESS, T0), THREADS * ROUNDS);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &shared, MI_LOCK_USER, T0), THREADS * ROUNDS);
    CU_ASSERT_EQUAL(mi_credcache_failures(c, &shared, MI_LOCK_ADDRESS, T0), THREADS * ROUNDS);
}

/* httpd's children share the memory; one killed in the middle of an update must not leave
 * the others waiting for a bucket forever. */
static void a_killed_process_does_not_block_the_others(void)
{
    mi_credcache_conf_t conf = conf_of(8, 8);     /* one bucket each: every call meets */
    apr_size_t size = mi_credcache_size(&conf);
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    mi_credcache_t *c = NULL;
    mi_credcache_who_t a;
    apr_time_t until;
    int round, v, status;

    CU_ASSERT_NOT_EQUAL_FATAL(mem, MAP_FAILED);
    CU_ASSERT_EQUAL_FATAL(mi_credcache_create(&c, mem, size, &conf, tp), APR_SUCCESS);
    mi_credcache_who(c, 1, "agent1", "pw", "10.0.0.1", &a);
    for (round = 0; round < 20; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) {
                mi_credcache_store(c, &a, 1, T0);
                mi_credcache_failed(c, &a, T0, &until);
            }
        }
        CU_ASSERT_FATAL(pid > 0);
        usleep(2000 + (useconds_t)(round * 500));
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        /* the test fails by the alarm if a bucket stays locked */
        alarm(20);
        mi_credcache_store(c, &a, 2, T0);
        CU_ASSERT_EQUAL(mi_credcache_lookup(c, &a, T0, &v), MI_CRED_FRESH);
        mi_credcache_failed(c, &a, T0, &until);
        CU_ASSERT(mi_credcache_failures(c, &a, MI_LOCK_USER_ADDRESS, T0) >= 1);
        alarm(0);
    }
    munmap(mem, size);
}

static void counters_add_up(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c;
    mi_credcache_who_t a;
    mi_credcache_stats_t st;
    apr_time_t until;

    conf.max_user_address = 1;
    c = make(&conf, NULL);
    a = who(c, 1, "agent1", "x", "10.0.0.1");
    mi_credcache_count(c, MI_CRED_COUNT_CACHED);
    mi_credcache_count(c, MI_CRED_COUNT_CACHED);
    mi_credcache_count(c, MI_CRED_COUNT_VERIFIED);
    mi_credcache_count(c, MI_CRED_COUNT_LOCKED);
    mi_credcache_failed(c, &a, T0, &until);
    mi_credcache_stats(c, &st);
    CU_ASSERT_EQUAL(st.cached, 2);
    CU_ASSERT_EQUAL(st.verified, 1);
    CU_ASSERT_EQUAL(st.rechecked, 0);
    CU_ASSERT_EQUAL(st.locked, 1);
    CU_ASSERT_EQUAL(st.locks[MI_LOCK_USER_ADDRESS], 1);
    CU_ASSERT_EQUAL(st.locks[MI_LOCK_USER], 0);
}

static void refuses_memory_too_small(void)
{
    mi_credcache_conf_t conf = conf_of(64, 64);
    mi_credcache_t *c = NULL;
    void *mem = apr_palloc(tp, mi_credcache_size(&conf));

    CU_ASSERT_EQUAL(mi_credcache_create(&c, mem, mi_credcache_size(&conf) - 1, &conf, tp), APR_EINVAL);
    CU_ASSERT_PTR_NULL(c);
}

void add_credcache_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(remembers_the_verified_password_only),
        UNIT_TEST(the_same_contact_center_id_in_two_databases_is_two_tenants),
        UNIT_TEST(rechecks_the_version_after_the_interval),
        UNIT_TEST(a_new_password_replaces_the_old),
        UNIT_TEST(the_memory_holds_no_password_or_plain_hash),
        UNIT_TEST(ipv6_clients_count_by_their_64),
        UNIT_TEST(a_full_cache_evicts_the_least_recently_confirmed),
        UNIT_TEST(a_user_is_locked_at_one_address),
        UNIT_TEST(failures_outside_the_window_are_forgotten),
        UNIT_TEST(a_user_is_locked_except_where_they_logged_in),
        UNIT_TEST(an_address_is_locked_except_for_who_logged_in_there),
        UNIT_TEST(a_flood_of_new_records_keeps_locks_and_successes),
        UNIT_TEST(logins_do_not_crowd_out_the_counting),
        UNIT_TEST(an_active_login_is_renewed),
        UNIT_TEST(nothing_is_held_in_an_empty_configuration),
        UNIT_TEST(threads_count_every_failure),
        UNIT_TEST(a_killed_process_does_not_block_the_others),
        UNIT_TEST(counters_add_up),
        UNIT_TEST(refuses_memory_too_small),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("credcache", tests);
}
