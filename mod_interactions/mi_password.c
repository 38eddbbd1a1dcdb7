/* mi_password.c — see mi_password.h */
#include <crypt.h>
#include <string.h>

#include "mi_password.h"

/* crypt() of 32 random bytes (base64) with gen_salt('bf', 10), the random input thrown
 * away.  Same scheme and cost as interactions.new_password_hash(), so checking a password
 * against it takes as long as against a real user's hash. */
#define DUMMY_HASH "$2a$10$xVCDPrhqDoALxAbjiS6onu26HTahShqnf6hGaK0WE0HgeCBJNkXOS"

int mi_password_verify(const char *password, const char *hash)
{
    struct crypt_data data;
    const char *out;
    size_t i, n;
    unsigned char diff = 0;

    if (password == NULL || hash == NULL || hash[0] != '$'
        || strlen(password) > MI_PASSWORD_MAX_BYTES) {
        return 0;
    }
    memset(&data, 0, sizeof(data));
    out = crypt_rn(password, hash, &data, (int)sizeof(data));
    if (out == NULL || out[0] == '*') {
        return 0;
    }
    n = strlen(hash);
    if (strlen(out) != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        diff |= (unsigned char)(out[i] ^ hash[i]);
    }
    return diff == 0;
}

const char *mi_password_dummy_hash(void)
{
    return DUMMY_HASH;
}
