/* mi_log.h — logging for the pure core.
 *
 * The core never includes httpd headers, so it logs through a callback that the glue
 * installs at post_config (ap_log_error underneath).  Unit tests install nothing and the
 * messages are dropped, or install a capturing printer to assert on them.
 *
 * Every message that can reach an operator's log carries a unique id, MI_LOGNO(n) -> "MI00n: ",
 * so tests and operators can match messages exactly (ids are listed in docs/log-messages.md).
 */
#ifndef MI_LOG_H
#define MI_LOG_H

#include <apr_errno.h>
#include <apr_pools.h>

/* Same order and values as httpd's APLOG_* levels, so the glue passes them through. */
typedef enum {
    MI_LOG_EMERG = 0, MI_LOG_ALERT, MI_LOG_CRIT, MI_LOG_ERR, MI_LOG_WARNING,
    MI_LOG_NOTICE, MI_LOG_INFO, MI_LOG_DEBUG, MI_LOG_TRACE1
} mi_log_level_e;

#define MI_LOGNO(n) "MI" #n ": "
#define MI_LOG_MARK __FILE__, __LINE__

typedef int  mi_log_is_level_cb(void *baton, mi_log_level_e level);
typedef void mi_log_print_cb(void *baton, const char *file, int line, mi_log_level_e level,
                             apr_status_t rv, const char *msg);

/** Install the printer; NULL callbacks silence the core (the default). */
void mi_log_set(mi_log_is_level_cb *is_level, mi_log_print_cb *print, void *baton);

/** Is @level enabled?  Lets callers skip building expensive messages. */
int mi_log_is_level(mi_log_level_e level);

/** printf-style logging; @p may be NULL (a stack buffer is used, messages are truncated at 2 KiB). */
void mi_log_perror(const char *file, int line, mi_log_level_e level, apr_status_t rv,
                   apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
