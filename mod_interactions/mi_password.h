/* mi_password.h — password checks for the authn provider.
 *
 * Users' passwords are stored as bcrypt hashes (pgcrypto's crypt(pw, gen_salt('bf', 10))).
 * Verifying one costs tens of milliseconds of CPU by design, so the provider does it only
 * when its credential cache (mi_credcache.h) has nothing for the password presented.
 */
#ifndef MI_PASSWORD_H
#define MI_PASSWORD_H

/* bcrypt reads the first 72 bytes of a password and ignores the rest: longer passwords are
 * refused when they are set (interactions.new_password_hash) and never match here. */
#define MI_PASSWORD_MAX_BYTES 72

/** Does @password match the crypt(3)-style @hash ($2a$/$2b$/$2y$ bcrypt, or any scheme
 *  libcrypt knows)?  Constant-time comparison; NULL or malformed hashes and passwords over
 *  MI_PASSWORD_MAX_BYTES never match. */
int mi_password_verify(const char *password, const char *hash);

/** A bcrypt hash of the cost the provisioning functions use (10) whose password nobody
 *  knows.  The provider checks the password of an unknown or disabled user against it, so
 *  that a wrong password costs the same whether the user exists or not. */
const char *mi_password_dummy_hash(void);

#endif
