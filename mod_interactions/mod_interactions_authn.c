/* mod_interactions_authn.c — "AuthBasicProvider interactions".
 *
 * Checks a Basic-auth password against the bcrypt hash stored for the user in the contact
 * center of the request's location.  A bcrypt check costs milliseconds of CPU on purpose,
 * so the sample configuration puts mod_authn_socache in front ("AuthBasicProvider socache
 * interactions" + "AuthnCacheProvideFor interactions"); on success this provider hands the
 * cache a cheap salted hash of the verified password, never the bcrypt hash, so a cache hit
 * costs microseconds.
 */
#include <apr_optional.h>
#include <httpd.h>
#include <apr_strings.h>
#include <ap_provider.h>
#include <http_request.h>
#include <mod_auth.h>

#include "mi_password.h"
#include "mi_validate.h"
#include "mod_interactions_config.h"
#include "mod_interactions_private.h"

#define MI_AUTHN_PROVIDER "interactions"

static APR_OPTIONAL_FN_TYPE(ap_authn_cache_store) *authn_cache_store;

static authn_status check_password(request_rec *r, const char *user, const char *password)
{
    const mi_dir_conf_t *dc = mi_dir_conf(r);
    const char *hash = NULL;
    apr_status_t rv;
    int cc;

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
    if (mi_proc == NULL) {
        apr_table_setn(r->notes, MI_NOTE_DB_DOWN, "1");
        return AUTH_GENERAL_ERROR;
    }
    rv = mi_store_cc_id(mi_proc->store, dc->contact_center, &cc);
    if (rv == APR_NOTFOUND) {
        return AUTH_USER_NOT_FOUND;
    }
    if (rv == APR_SUCCESS) {
        rv = mi_store_password_hash(mi_proc->store, cc, user, r->pool, &hash);
    }
    if (rv != APR_SUCCESS) {
        apr_table_setn(r->notes, MI_NOTE_DB_DOWN, "1");
        return AUTH_GENERAL_ERROR;
    }
    if (hash == NULL) {
        return AUTH_USER_NOT_FOUND;
    }
    if (!mi_password_verify(password, hash)) {
        return AUTH_DENIED;
    }
    if (authn_cache_store != NULL) {
        const char *cheap = mi_password_cache_hash(password, r->pool);
        if (cheap != NULL) {
            authn_cache_store(r, MI_AUTHN_PROVIDER, user, NULL, cheap);
        }
    }
    return AUTH_GRANTED;
}

static const authn_provider provider = {
    &check_password,
    NULL,       /* no Digest: the users table holds bcrypt hashes, not H(user:realm:pw) */
};

static void optional_fn_retrieve(void)
{
    authn_cache_store = APR_RETRIEVE_OPTIONAL_FN(ap_authn_cache_store);
}

void mi_authn_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, MI_AUTHN_PROVIDER,
                              AUTHN_PROVIDER_VERSION, &provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_optional_fn_retrieve(optional_fn_retrieve, NULL, NULL, APR_HOOK_MIDDLE);
}
