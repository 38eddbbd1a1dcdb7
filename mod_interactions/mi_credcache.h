/* mi_credcache.h — verified credentials and failed logins, shared by httpd's children.
 *
 * A bcrypt check costs tens of milliseconds of CPU on purpose, and HTTP Basic sends the
 * password with every request (a desktop's push connects included), so the authn provider
 * remembers which password it verified for whom.  It must not remember anything an intruder
 * with a copy of the memory could use: every key and every value is an HMAC-SHA256 under a
 * secret drawn when the server starts (never the password, never a plain hash of it), so
 * the table is useless after a restart and to anyone without the secret.
 *
 *   credential entry  key   HMAC(cc, login)               one entry per user
 *                     value HMAC(cc, login, password)     the password verified last
 *                           credential_version            of the user when it was verified
 *                           checked_at                    last confirmed by the database
 *
 * An entry is trusted for `recheck` after it was last confirmed; then the provider asks the
 * database for the user's credential_version (one cheap query, no bcrypt) and keeps the entry
 * only if it is unchanged.  Any password other than the remembered one gets the full bcrypt
 * check, so a new password works at once and the cache can never refuse what the database
 * would accept; a changed password, a role change or a disablement moves the version and the
 * old password stops working within `recheck`.
 *
 * Failed logins are counted over a window in three records: per (user, client address), per
 * user, and per client address (an IPv6 address counts by its /64, which one client usually
 * holds whole).  Beyond a threshold the record is locked until `window` after the failure
 * that crossed it, and attempts are refused without any password check:
 *
 *   - (user, address) locked: every attempt of that user from that address, even with the
 *     right password (otherwise a cheap cache hit would confirm a guess);
 *   - user or address locked: attempts from an address where this user has not logged in
 *     successfully since the records were made.  A guesser spread over many addresses, or
 *     one address trying many users, thereby stops costing bcrypt checks and learning
 *     anything, while an agent whose desktop has logged in from its address before keeps
 *     working.  Records of logins within the window (renewed by every accepted request of
 *     an active user) are the last to be evicted.
 *
 * Memory: two tables of fixed size in one block (anonymous shared memory created by the
 * parent before it forks), in buckets of MI_CREDCACHE_WAYS entries, each bucket under its
 * own process-shared robust mutex (a child that dies holding one does not block the others;
 * the bucket's credential entries are then dropped).  A full bucket evicts its least
 * recently confirmed credential, or its least informative failure record.
 */
#ifndef MI_CREDCACHE_H
#define MI_CREDCACHE_H

#include <apr_pools.h>
#include <apr_time.h>

#define MI_CREDCACHE_WAYS 8
#define MI_CREDCACHE_TAG 16

typedef struct mi_credcache_t mi_credcache_t;

typedef struct {
    int entries;                  /* credential entries (rounded up to whole buckets); 0: no cache */
    int failure_entries;          /* failure records (rounded up likewise); 0: nothing counted */
    apr_interval_time_t recheck;  /* a confirmed entry is trusted this long */
    apr_interval_time_t window;   /* failures are counted over this long; a lock lasts this long */
    int max_user_address;         /* failures of one user from one address; 0: no limit */
    int max_user;                 /* failures of one user from all addresses; 0: no limit */
    int max_address;              /* failures from one address for all users; 0: no limit */
} mi_credcache_conf_t;

/** Bytes of shared memory a cache of @conf needs. */
apr_size_t mi_credcache_size(const mi_credcache_conf_t *conf);

/** Format @size bytes at @mem (at least mi_credcache_size(), 8-byte aligned) as an empty
 *  cache with a fresh random secret, and return its handle, allocated in @p.  Called once,
 *  by the process that creates the memory; processes forked afterwards use the same handle
 *  (the secret lives in the handle, outside the shared block). */
apr_status_t mi_credcache_create(mi_credcache_t **pc, void *mem, apr_size_t size,
                                 const mi_credcache_conf_t *conf, apr_pool_t *p);

/** Who is asking, as the cache knows them: HMAC tags of the presented credential, computed
 *  once per request. */
typedef struct {
    unsigned char user[MI_CREDCACHE_TAG];       /* (cc, login) */
    unsigned char verifier[MI_CREDCACHE_TAG];   /* (cc, login, password) */
    unsigned char address[MI_CREDCACHE_TAG];    /* the client address (IPv6: its /64) */
    unsigned char user_address[MI_CREDCACHE_TAG];
} mi_credcache_who_t;

/** mi_credcache_who() for a contact center of database @db (its index in the
 *  configuration): contact center ids are numbered by each database, so the same id in two
 *  databases names two tenants, whose users must never share an entry. */
void mi_credcache_who_in(const mi_credcache_t *c, unsigned db, int cc, const char *login,
                         const char *password, const char *addr, mi_credcache_who_t *who);

/** Fill @who for @login of contact center @cc presenting @password from client address
 *  @addr (text, IPv4 or IPv6; NULL or unparseable: taken as it is). */
void mi_credcache_who(const mi_credcache_t *c, int cc, const char *login, const char *password,
                      const char *addr, mi_credcache_who_t *who);

typedef enum {
    MI_CRED_MISS = 0,   /* nothing for this password: check it (bcrypt) */
    MI_CRED_FRESH,      /* verified and confirmed within `recheck`: accept */
    MI_CRED_RECHECK     /* verified against *pversion: accept if that is still the user's */
} mi_cred_e;

/** What the cache knows about @who's password at @now; *pversion is the credential_version
 *  it was verified against (for MI_CRED_RECHECK and MI_CRED_FRESH). */
mi_cred_e mi_credcache_lookup(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                              int *pversion);

/** @who's password was verified (bcrypt) against the user's credential_version @version. */
void mi_credcache_store(mi_credcache_t *c, const mi_credcache_who_t *who, int version,
                        apr_time_t now);

/** The database still has @version for @who's user: trust the entry for another `recheck`
 *  (if it is still the one for this password and version). */
void mi_credcache_confirm(mi_credcache_t *c, const mi_credcache_who_t *who, int version,
                          apr_time_t now);

/** Drop what the cache holds for @who's user (the version moved, the user is disabled). */
void mi_credcache_forget(mi_credcache_t *c, const mi_credcache_who_t *who);

typedef enum {
    MI_LOCK_NONE = 0,
    MI_LOCK_USER_ADDRESS,   /* too many failures of this user from this address */
    MI_LOCK_USER,           /* too many failures of this user */
    MI_LOCK_ADDRESS         /* too many failures from this address */
} mi_lock_e;

/** Is @who refused without a check at @now?  *puntil: when the lock ends.  *pknown (may be
 *  NULL): this user has logged in from this address before (the user and address locks do
 *  not apply then). */
mi_lock_e mi_credcache_locked(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                              apr_time_t *puntil, int *pknown);

/** Count a failed check of @who at @now.  Returns the lock this failure engaged, if it
 *  engaged one (to be logged once), with *puntil its end; MI_LOCK_NONE otherwise. */
mi_lock_e mi_credcache_failed(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                              apr_time_t *puntil);

/** @who logged in from this address: remember it (called for every accepted request; it
 *  writes only when the record is older than half the window).  @verified: the password was
 *  just checked in full (bcrypt), which also forgets this user's failures from this address.
 *  A password accepted from the cache forgets nothing: otherwise a desktop repeating its
 *  remembered password would keep resetting the count of a guesser sharing its address. */
void mi_credcache_succeeded(mi_credcache_t *c, const mi_credcache_who_t *who, apr_time_t now,
                            int verified);

/** Counters since the cache was created (all processes together). */
typedef struct {
    apr_uint64_t cached;        /* accepted from the cache without asking the database */
    apr_uint64_t rechecked;     /* accepted after the database confirmed the version */
    apr_uint64_t verified;      /* bcrypt checks that succeeded */
    apr_uint64_t refused;       /* bcrypt checks that failed (unknown users included) */
    apr_uint64_t locked;        /* attempts refused by a lock, without a check */
    apr_uint64_t locks[4];      /* locks engaged, by mi_lock_e (index 0 unused) */
} mi_credcache_stats_t;

/** The kinds of outcome a provider reports with mi_credcache_count(). */
typedef enum {
    MI_CRED_COUNT_CACHED,
    MI_CRED_COUNT_RECHECKED,
    MI_CRED_COUNT_VERIFIED,
    MI_CRED_COUNT_REFUSED,
    MI_CRED_COUNT_LOCKED
} mi_cred_count_e;

void mi_credcache_count(mi_credcache_t *c, mi_cred_count_e what);
void mi_credcache_stats(const mi_credcache_t *c, mi_credcache_stats_t *st);

/** The failures counted in @who's record of kind @which (MI_LOCK_USER_ADDRESS, MI_LOCK_USER
 *  or MI_LOCK_ADDRESS) within the current window; 0 when there is none. */
int mi_credcache_failures(mi_credcache_t *c, const mi_credcache_who_t *who, mi_lock_e which,
                          apr_time_t now);

#endif
