/* mi_limits.h — the request limits, configured by directives and enforced by the core. */
#ifndef MI_LIMITS_H
#define MI_LIMITS_H

#include <apr.h>

typedef struct {
    apr_size_t max_body;       /* bytes of a request body (413 beyond) */
    int max_depth;             /* levels of JSON nesting */
    apr_size_t max_string;     /* characters of a string field (subject, names, addresses...) */
    apr_size_t max_user_data;  /* bytes of an interaction's serialized user data */
    int max_page;              /* largest `limit` of a collection GET */
    int default_page;          /* `limit` when none is given */
    apr_size_t max_page_bytes; /* bytes of the interactions of one collection page */
    int max_channels;          /* channels (media types) one agent may have */
} mi_limits_t;

/* The defaults of the directives that set them (mod_interactions_directives.h names these
 * constants).  Plain literals: the directive table shows them in its help strings. */
#define MI_DEFAULT_MAX_BODY       65536      /* 64 KiB */
#define MI_DEFAULT_MAX_DEPTH      32
#define MI_DEFAULT_MAX_STRING     1024
#define MI_DEFAULT_MAX_USER_DATA  32768      /* 32 KiB */
#define MI_DEFAULT_MAX_PAGE       500
#define MI_DEFAULT_PAGE           100
#define MI_DEFAULT_MAX_PAGE_BYTES 1048576    /* 1 MiB */
#define MI_DEFAULT_MAX_CHANNELS   16

/* Fixed by the contract, not configurable. */
#define MI_MAX_KEY_CHARS          255
#define MI_MAX_NAME_CHARS         255
#define MI_MAX_ADDRESSES          100
#define MI_MAX_URI_CHARS          2048       /* a resource uri in a body (queueUri) */
/* The longest a GET /events may be held for news (wait=, in seconds; CONTRACT 8.5). */
#define MI_EVENTS_MAX_WAIT_S      30

#endif
