/* mi_secret.h — reading the database password from a file only its owner can read.
 *
 * The module's database password must not sit in a file that the httpd user or other local
 * users can read (httpd.conf is world-readable on most systems).  httpd's parent process,
 * which runs as root before it drops privileges, reads the password from such a file at
 * start and on every restart; the children it forks inherit the value in memory and never
 * open the file (they could not: they run as the httpd user).
 */
#ifndef MI_SECRET_H
#define MI_SECRET_H

#include <apr_file_info.h>
#include <apr_pools.h>

/** Largest password file accepted, in bytes (the password and its line end). */
#define MI_SECRET_MAX 1024

/**
 * Read the secret held by the file @path into @psecret (allocated in @p, wiped when @p is
 * cleared or destroyed).  The file must be a regular file owned by @owner that grants no
 * access to its group or to others (like 0600 or 0400), and hold the password on one line:
 * at least one byte, no NUL, no line break but an optional trailing "\n" or "\r\n", at most
 * MI_SECRET_MAX bytes in all.
 * On failure @perr says why in words for the operator (it never quotes the file's content)
 * and @psecret is NULL.
 */
apr_status_t mi_secret_read_file(const char **psecret, const char **perr, const char *path,
                                 apr_uid_t owner, apr_pool_t *p);

#endif
