/* mi_log.c — see mi_log.h */
#include <stdarg.h>
#include <stdio.h>

#include "mi_log.h"

static mi_log_is_level_cb *log_is_level;
static mi_log_print_cb *log_print;
static void *log_baton;

void mi_log_set(mi_log_is_level_cb *is_level, mi_log_print_cb *print, void *baton)
{
    log_is_level = is_level;
    log_print = print;
    log_baton = baton;
}

int mi_log_is_level(mi_log_level_e level)
{
    return log_print != NULL && (log_is_level == NULL || log_is_level(log_baton, level));
}

void mi_log_perror(const char *file, int line, mi_log_level_e level, apr_status_t rv,
                   apr_pool_t *p, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    (void)p;
    if (!mi_log_is_level(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_print(log_baton, file, line, level, rv, buf);
}
