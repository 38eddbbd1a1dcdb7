/* mi_password.c — see mi_password.h */
#include <crypt.h>
#include <string.h>

#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "mi_password.h"

int mi_password_verify(const char *password, const char *hash)
{
    struct crypt_data data;
    const char *out;
    size_t i, n;
    unsigned char diff = 0;

    if (password == NULL || hash == NULL || hash[0] != '$') {
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

const char *mi_password_cache_hash(const char *password, apr_pool_t *p)
{
    static const char alphabet[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char rnd[8];
    char salt[9];
    char out[120];
    int i;

    if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
        return NULL;
    }
    for (i = 0; i < 8; i++) {
        salt[i] = alphabet[rnd[i] & 63];
    }
    salt[8] = '\0';
    if (apr_md5_encode(password, salt, out, sizeof(out)) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrdup(p, out);
}
