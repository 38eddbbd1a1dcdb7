/* mod_interactions_authn.c — "AuthBasicProvider interactions".
 *
 * Checks a Basic-auth password against the bcrypt hash stored for the user in the contact
 * center of the request's location.  A bcrypt check costs tens of milliseconds of CPU on
 * purpose and Basic auth sends the password with every request, so the provider keeps its
 * own cache of verified credentials in shared memory (mi_credcache.h; one for all children,
 * made by the parent at start): a request whose password was verified recently costs two
 * HMACs, and after InteractionsAuthnCacheRecheck seconds one cheap query of the user's
 * credential_version instead of a bcrypt check.  Any other password gets the full check,
 * so a new password works at once; a changed password, role or disablement moves the
 * version and the old entry is dropped.  mod_authn_socache is not needed (and, if still
 * configured in front, never gets an entry from this provider, so it cannot serve stale
 * credentials).
 *
 * Unknown and disabled users get the same bcrypt check (against a stand-in hash of the same
 * cost), so a wrong password takes as long whether the user exists or not.  Failed checks
 * are counted per (user, address), per user and per address; beyond the thresholds
 * attempts are refused at once, without a check and without holding the thread (see
 * mi_credcache.h for who is still let in).
 */
#include <httpd.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_provider.h>
#include <http_core.h>
#include <http_request.h>
#include <mod_auth.h>

#include "mi_credcache.h"
#include "mi_password.h"
#include "mi_validate.h"
#include "mod_interactions.h"
#include "mod_interactions_authn.h"
#include "mod_interactions_config.h"
#include "mod_interactions_db.h"
#include "mod_interactions_http.h"

#define MI_AUTHN_PROVIDER "interactions"

/* Made by the parent in post_config, before it forks: every child uses the same memory and
 * the same secret.  A restart makes a new one (new secret, empty). */
static mi_credcache_t *credcache;

static const char *lock_names[] = { "", "user and address", "user", "address" };

/* Refuse without a check: the lock says until when, the error filter tells the client. */
static authn_status refuse_locked(request_rec *r, apr_time_t until, apr_time_t now)
{
    apr_time_t secs = apr_time_sec(until - now) + 1;

    mi_credcache_count(credcache, MI_CRED_COUNT_LOCKED);
    apr_table_setn(r->notes, MI_AP_NOTE_AUTHN_LOCKED, apr_ltoa(r->pool, (long)secs));
    return AUTH_DENIED;
}

static void log_lock(request_rec *r, mi_lock_e lock, const char *user, apr_time_t until,
                     apr_time_t now)
{
    const mi_ap_srv_conf_t *sc = mi_ap_config_srv();
    int max = lock == MI_LOCK_USER_ADDRESS ? sc->authn_max_failures_user_address
              : lock == MI_LOCK_USER ? sc->authn_max_failures_user : sc->authn_max_failures_address;

    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, MI_LOGNO(00211)
                  "%d failed logins of %s (user \"%s\", address %s) within %d s: its attempts are "
                  "refused without a check for %" APR_TIME_T_FMT " s",
                  max, lock_names[lock], user, r->useragent_ip, sc->authn_failure_window_s,
                  apr_time_sec(until - now));
}

/* The full check: the hash and version from the database, bcrypt, and what the cache and
 * the failure counts learn from it. */
static authn_status full_check(request_rec *r, mi_ap_process_t *proc, int cc, const char *user, const char *password,
                               const mi_credcache_who_t *who, apr_time_t now)
{
    const char *hash = NULL;
    apr_time_t until = 0;
    mi_lock_e engaged;
    int version = -1;
    apr_status_t rv;

    rv = mi_store_credential(proc->store, cc, user, r->pool, &version, &hash);
    if (rv != APR_SUCCESS) {
        apr_table_setn(r->notes, MI_AP_NOTE_DB_DOWN, "1");
        return AUTH_GENERAL_ERROR;
    }
    /* unknown, disabled and password-less users cost the same as a wrong password */
    if (mi_password_verify(password, hash != NULL ? hash : mi_password_dummy_hash())
        && hash != NULL) {
        mi_credcache_store(credcache, who, version, now);
        mi_credcache_succeeded(credcache, who, now, 1);
        mi_credcache_count(credcache, MI_CRED_COUNT_VERIFIED);
        return AUTH_GRANTED;
    }
    mi_credcache_count(credcache, MI_CRED_COUNT_REFUSED);
    engaged = mi_credcache_failed(credcache, who, now, &until);
    if (engaged != MI_LOCK_NONE) {
        log_lock(r, engaged, user, until, now);
    }
    /* not found lets a following provider try: users without a password in the database
     * may be another module's */
    return hash == NULL ? AUTH_USER_NOT_FOUND : AUTH_DENIED;
}

static authn_status check_password(request_rec *r, const char *user, const char *password)
{
    const mi_ap_dir_conf_t *dc = mi_ap_config_dir(r);
    mi_ap_process_t *proc = mi_ap_db_proc(r);   /* the location's database */
    mi_credcache_who_t who;
    apr_time_t now, until = 0;
    mi_lock_e lock;
    apr_status_t rv;
    int cc, cached_version = 0, version = -1;

    if (dc->contact_center == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MI_LOGNO(00201)
                      "AuthBasicProvider " MI_AUTHN_PROVIDER " needs InteractionsContactCenter "
                      "in the same location");
        return AUTH_GENERAL_ERROR;
    }
    /* Names the database could not store are nobody's. */
    if (*user == '\0' || strlen(user) > 255 || !mi_utf8_valid(user, strlen(user))) {
        return AUTH_USER_NOT_FOUND;
    }
    if (proc == NULL || credcache == NULL) {
        apr_table_setn(r->notes, MI_AP_NOTE_DB_DOWN, "1");
        return AUTH_GENERAL_ERROR;
    }
    rv = mi_store_cc_id(proc->store, dc->contact_center, &cc);
    if (rv == APR_NOTFOUND) {
        return AUTH_USER_NOT_FOUND;
    }
    if (rv != APR_SUCCESS) {
        apr_table_setn(r->notes, MI_AP_NOTE_DB_DOWN, "1");
        return AUTH_GENERAL_ERROR;
    }
    now = apr_time_now();
    /* contact center ids are per database: the database is part of the key */
    mi_credcache_who_in(credcache, (unsigned)proc->db, cc, user, password, r->useragent_ip, &who);
    lock = mi_credcache_locked(credcache, &who, now, &until, NULL);
    if (lock != MI_LOCK_NONE) {
        /* nothing about the password may show while locked, not even a cheap cache hit */
        return refuse_locked(r, until, now);
    }
    switch (mi_credcache_lookup(credcache, &who, now, &cached_version)) {
    case MI_CRED_FRESH:
        mi_credcache_count(credcache, MI_CRED_COUNT_CACHED);
        break;
    case MI_CRED_RECHECK:
        rv = mi_store_credential_version(proc->store, cc, user, r->pool, &version);
        if (rv == MI_STORE_UNAVAILABLE) {
            /* Accounts change only in the database: while it cannot be reached, nothing can
             * have changed that it could tell, and the API answers 503 by itself. */
            mi_credcache_count(credcache, MI_CRED_COUNT_CACHED);
            break;
        }
        if (rv != APR_SUCCESS) {
            /* the query itself failed (logged by the store): never trust an entry that
             * cannot be confirmed, or a disablement would not reach it */
            return AUTH_GENERAL_ERROR;
        }
        if (version != cached_version) {
            mi_credcache_forget(credcache, &who);
            return full_check(r, proc, cc, user, password, &who, now);
        }
        mi_credcache_confirm(credcache, &who, version, now);
        mi_credcache_count(credcache, MI_CRED_COUNT_RECHECKED);
        break;
    default:
        return full_check(r, proc, cc, user, password, &who, now);
    }
    /* this address knows the user (renewed now and then, so an active agent's record stays) */
    mi_credcache_succeeded(credcache, &who, now, 0);
    return AUTH_GRANTED;
}

static const authn_provider provider = {
    &check_password,
    NULL,       /* no Digest: the users table holds bcrypt hashes, not H(user:realm:pw) */
};

static apr_status_t credcache_gone(void *data)
{
    (void)data;
    credcache = NULL;
    return APR_SUCCESS;
}

/* The parent makes the shared memory once per start (not in the dry run); the children
 * inherit it. */
static int authn_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s)
{
    const mi_ap_srv_conf_t *sc = mi_ap_config_srv();
    mi_credcache_conf_t conf;
    apr_shm_t *shm = NULL;
    apr_size_t size;
    apr_status_t rv;

    (void)plog;
    (void)ptemp;
    /* the dry run of the first start, told apart by the state rather than by a mark left
     * in the process: a restart that loads the module for the first time is no dry run */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    memset(&conf, 0, sizeof(conf));
    conf.entries = sc->authn_cache_entries;
    conf.failure_entries = sc->authn_failure_entries;
    conf.recheck = apr_time_from_sec(sc->authn_cache_recheck_s);
    conf.window = apr_time_from_sec(sc->authn_failure_window_s);
    conf.max_user_address = sc->authn_max_failures_user_address;
    conf.max_user = sc->authn_max_failures_user;
    conf.max_address = sc->authn_max_failures_address;
    size = mi_credcache_size(&conf);
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv == APR_SUCCESS) {
        rv = mi_credcache_create(&credcache, apr_shm_baseaddr_get(shm), size, &conf, pconf);
    }
    if (rv != APR_SUCCESS) {
        /* without it every request would pay a bcrypt check and guessing would be unbraked */
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00210)
                     "no shared memory (%" APR_SIZE_T_FMT " bytes) for the credential cache; "
                     "lower InteractionsAuthnCacheEntries / InteractionsAuthnFailureEntries", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, credcache_gone, apr_pool_cleanup_null);
    return OK;
}

const char *mi_ap_authn_prometheus(apr_pool_t *p)
{
    mi_credcache_stats_t st;

    if (credcache == NULL) {
        return "";
    }
    mi_credcache_stats(credcache, &st);
    return apr_psprintf(p,
        "# HELP interactions_authn_checks_total Passwords checked by the authn provider, by how: "
        "cached (no database, no bcrypt), rechecked (credential version asked), verified and "
        "refused (bcrypt), locked (refused without a check).\n"
        "# TYPE interactions_authn_checks_total counter\n"
        "interactions_authn_checks_total{result=\"cached\"} %" APR_UINT64_T_FMT "\n"
        "interactions_authn_checks_total{result=\"rechecked\"} %" APR_UINT64_T_FMT "\n"
        "interactions_authn_checks_total{result=\"verified\"} %" APR_UINT64_T_FMT "\n"
        "interactions_authn_checks_total{result=\"refused\"} %" APR_UINT64_T_FMT "\n"
        "interactions_authn_checks_total{result=\"locked\"} %" APR_UINT64_T_FMT "\n"
        "# HELP interactions_authn_locks_total Failed-login locks engaged, by what is locked.\n"
        "# TYPE interactions_authn_locks_total counter\n"
        "interactions_authn_locks_total{scope=\"user_address\"} %" APR_UINT64_T_FMT "\n"
        "interactions_authn_locks_total{scope=\"user\"} %" APR_UINT64_T_FMT "\n"
        "interactions_authn_locks_total{scope=\"address\"} %" APR_UINT64_T_FMT "\n",
        st.cached, st.rechecked, st.verified, st.refused, st.locked,
        st.locks[MI_LOCK_USER_ADDRESS], st.locks[MI_LOCK_USER], st.locks[MI_LOCK_ADDRESS]);
}

void mi_ap_authn_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, MI_AUTHN_PROVIDER,
                              AUTHN_PROVIDER_VERSION, &provider, AP_AUTH_INTERNAL_PER_CONF);
    /* after mi_post_config, which gives the settings their defaults */
    ap_hook_post_config(authn_post_config, NULL, NULL, APR_HOOK_LAST);
}
