/* mi_password.h — password checks for the authn provider.
 *
 * Users' passwords are stored as bcrypt hashes (pgcrypto's crypt(pw, gen_salt('bf'))).
 * Verifying one costs milliseconds of CPU by design, so the module does it only when the
 * httpd credential cache (mod_authn_socache) misses, and hands that cache a cheap hash
 * ({SHA}) of the verified password instead of the bcrypt hash.
 */
#ifndef MI_PASSWORD_H
#define MI_PASSWORD_H

#include <apr_pools.h>

/** Does @password match the crypt(3)-style @hash ($2a$/$2b$/$2y$ bcrypt, or any scheme
 *  libcrypt knows)?  Constant-time comparison; NULL or malformed hashes never match. */
int mi_password_verify(const char *password, const char *hash);

/** A cheap-to-verify hash of @password for the credential cache ({SHA}...), accepted by
 *  apr_password_validate().  NULL on failure. */
const char *mi_password_cache_hash(const char *password, apr_pool_t *p);

#endif
