/* mi_push_cache.h — the messages of /v2/interactions, rendered once per process.
 *
 * Every change of a contact center goes to every session following /v2/interactions, and a
 * message there differs between recipients only in the interaction's uri (the location's
 * base) and its capabilities (whether the recipient is an agent, owns it, is invited to it,
 * may use its workbin).  So the database sends such events without the interaction
 * (push_connect's "lean" events: seq, notification, referenceId), the first session of a
 * process to deliver one fetches the snapshot once (push_snapshots) and every session renders
 * from here: a copy of finished text instead of a parse, a render and a serialization per
 * recipient.
 *
 * An entry is one history row (contact center, seq); it keeps the snapshot's text and the
 * messages rendered from it so far, one per variant (base and the caller's relation to the
 * interaction).  The cache is bounded three ways: a number of rows, a number of messages per
 * row, and bytes in all; the oldest rows go first, and a message that would not fit is
 * rendered for its recipient without being kept.  Nothing a client chooses can make it grow
 * past them (the base comes from the configuration, not from request headers: see
 * mi_ap_http_public_base()).  Thread-safe; nothing returned points into the cache.
 */
#ifndef MI_PUSH_CACHE_H
#define MI_PUSH_CACHE_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_render.h"

typedef struct mi_push_cache_t mi_push_cache_t;

/** A cache of at most @capacity history rows (at least 1). */
apr_status_t mi_push_cache_create(mi_push_cache_t **pc, int capacity, apr_pool_t *p);

/** Is row (@cc, @seq) cached? */
int mi_push_cache_has(mi_push_cache_t *c, int cc, long long seq);

/** At most @max_bytes (0: the default, 16 MiB) of rows and messages are kept, counted with
 *  their overhead; the oldest rows go first.  Set once after creation. */
void mi_push_cache_set_max_bytes(mi_push_cache_t *c, apr_size_t max_bytes);

/** Cache row (@cc, @seq) from @event {"notification","referenceId","snapshot"} (the
 *  snapshot an object).  Returns 0 when @event lacks a usable snapshot or the row alone is
 *  larger than the cache may be (the caller renders it itself then). */
int mi_push_cache_put(mi_push_cache_t *c, int cc, long long seq, json_object *event);

/** The /v2/interactions message of row (@cc, @seq) for @caller at @base, as JSON text
 *  allocated in @p; NULL when the row is not cached. */
const char *mi_push_cache_message(mi_push_cache_t *c, int cc, long long seq,
                                  const mi_caller_t *caller, const char *base, apr_pool_t *p);

/** A JSON value that serializes as @text verbatim (already valid JSON), for putting cached
 *  messages into a reply; owned by the caller like any new json_object. */
json_object *mi_push_cache_raw(const char *text);

typedef struct {
    unsigned long hits;        /* messages answered from a rendered variant */
    unsigned long renders;     /* variants rendered */
    unsigned long puts;        /* rows cached */
    unsigned long evictions;   /* rows dropped for newer ones */
    unsigned long uncached;    /* rows or messages not kept: beyond a bound */
    unsigned long rows;        /* rows kept now */
    apr_size_t bytes;          /* what they cost now, with their messages */
} mi_push_cache_stats_t;

void mi_push_cache_stats(mi_push_cache_t *c, mi_push_cache_stats_t *st);

#endif
