/* mi_secret.c — see mi_secret.h */
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_user.h>

#include "mi_secret.h"

typedef struct {
    char *buf;
    apr_size_t len;
} wipe_t;

/* Overwrite the secret when its pool goes (a restart clears the configuration pool): freed
 * pool memory is reused, and a copy of the password should not linger in it.  Written
 * through a volatile pointer so that the compiler keeps the stores. */
static apr_status_t wipe(void *data)
{
    wipe_t *w = data;
    volatile char *v = w->buf;
    apr_size_t i;

    for (i = 0; i < w->len; i++) {
        v[i] = '\0';
    }
    return APR_SUCCESS;
}

/* The permission bits of @prot as the octal mode an operator knows (0640). */
static unsigned int unix_mode(apr_fileperms_t prot)
{
    return (unsigned int)((((prot >> 8) & 7) << 6) | (((prot >> 4) & 7) << 3) | (prot & 7));
}

static const char *user_name(apr_uid_t uid, apr_pool_t *p)
{
    char *name = NULL;

    if (apr_uid_name_get(&name, uid, p) == APR_SUCCESS && name != NULL) {
        return name;
    }
    return apr_psprintf(p, "uid %lu", (unsigned long)uid);
}

apr_status_t mi_secret_read_file(const char **psecret, const char **perr, const char *path,
                                 apr_uid_t owner, apr_pool_t *p)
{
    const apr_fileperms_t others = APR_GREAD | APR_GWRITE | APR_GEXECUTE
                                   | APR_WREAD | APR_WWRITE | APR_WEXECUTE;
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t n = 0, len;
    wipe_t *w;
    char errbuf[120];
    char *buf;
    apr_status_t rv;

    *psecret = NULL;
    *perr = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot open it: %s (the file is read by httpd's parent "
                             "process, before it gives up its privileges)",
                             apr_strerror(rv, errbuf, sizeof(errbuf)));
        goto done;
    }
    /* the checks look at the file that was opened, not at the path again */
    rv = apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_USER | APR_FINFO_PROT | APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        *perr = apr_psprintf(p, "cannot inspect it: %s", apr_strerror(rv, errbuf, sizeof(errbuf)));
        goto done;
    }
    rv = APR_EINVAL;
    if (fi.filetype != APR_REG) {
        *perr = "it is not a regular file";
        goto done;
    }
    if (apr_uid_compare(fi.user, owner) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "it is owned by %s, not by %s, the user httpd starts as "
                             "(chown %s %s)", user_name(fi.user, p), user_name(owner, p),
                             user_name(owner, p), path);
        goto done;
    }
    if ((fi.protection & others) != 0) {
        *perr = apr_psprintf(p, "its group or other users may access it (mode %04o); only its "
                             "owner may (chmod 600 %s)", unix_mode(fi.protection), path);
        goto done;
    }
    if (fi.size <= 0 || fi.size > MI_SECRET_MAX) {
        *perr = apr_psprintf(p, "it must hold the password on one line, at most %d bytes",
                             MI_SECRET_MAX);
        goto done;
    }
    len = (apr_size_t)fi.size;
    buf = apr_palloc(p, len + 1);
    w = apr_palloc(p, sizeof(*w));
    w->buf = buf;
    w->len = len + 1;
    apr_pool_cleanup_register(p, w, wipe, apr_pool_cleanup_null);
    rv = apr_file_read_full(f, buf, len, &n);
    if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && n > 0)) {
        *perr = apr_psprintf(p, "cannot read it: %s", apr_strerror(rv, errbuf, sizeof(errbuf)));
        goto done;
    }
    buf[n] = '\0';
    /* one trailing line end is what editors and "echo" leave; anything else is refused
     * rather than guessed at, since a stray byte would make a wrong password */
    if (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '\r') {
            buf[--n] = '\0';
        }
    }
    rv = APR_EINVAL;
    if (n == 0) {
        *perr = "it is empty";
        goto done;
    }
    if (strlen(buf) != n || strpbrk(buf, "\r\n") != NULL) {
        *perr = "it must hold the password on one line (no line breaks, no NUL bytes)";
        goto done;
    }
    *psecret = buf;
    rv = APR_SUCCESS;
done:
    if (f != NULL) {
        apr_file_close(f);
    }
    return rv;
}
