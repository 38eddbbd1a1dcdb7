/* mi_password.c — see mi_password.h */
#include <crypt.h>
#include <string.h>

#include <apr_md5.h>
#include <apr_sha1.h>
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
    char out[APR_SHA1PW_IDLEN + 40];

    /* {SHA}: one SHA-1, checked in microseconds on every cache hit.  The cache lives only
     * in httpd's shared memory; whoever can read that can read the requests' passwords in
     * flight too, so a slow salted hash there ($apr1$: 1000 MD5 rounds, ~0.3 ms per request)
     * would cost every request without protecting anything. */
    apr_sha1_base64(password, (int)strlen(password), out);
    return apr_pstrdup(p, out);
}
