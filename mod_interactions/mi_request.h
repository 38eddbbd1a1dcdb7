/* mi_request.h — a routed REST request decoded into the store call that answers it.
 *
 * Everything the handler decides before asking the database lives here, in the core, so
 * the glue only reads the body from httpd and the fuzzer runs exactly the handler's
 * decoding: which store operation, with which validated arguments, counted under which
 * name, and whether a collection answers with uris or objects.
 */
#ifndef MI_REQUEST_H
#define MI_REQUEST_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_limits.h"
#include "mi_route.h"
#include "mi_status.h"

typedef struct {
    const char *store_op;    /* the operation of interactions.api(): "me", "list", ... */
    const char *stat_op;     /* the name the statistics count it under ("Accept", "list", ...) */
    json_object *args;       /* validated arguments (bound to the pool); NULL for none */
    int uris_only;           /* a collection answered with uris (no fields=*) */
} mi_decoded_t;

/** Parse a request body of @len bytes read from the client: 413 beyond the size limit,
 *  400 with line and column when it is not one strict JSON document within the depth
 *  limit.  *pbody is bound to @p. */
int mi_request_parse_body(json_object **pbody, const char *buf, apr_size_t len,
                          const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err);

/** Does @rt take a JSON request body (POST and PUT of the REST API)? */
int mi_request_wants_body(const mi_route_t *rt);

/** The statistics name of a routed request, known before it is decoded. */
const char *mi_request_stat_name(const mi_route_t *rt);

/** Decode a routed REST request (not the push channel).  @query is the raw query string,
 *  @body the parsed JSON body when the route wants one.  Returns 1 and fills @out, or 0
 *  and fills @err. */
int mi_request_decode(mi_decoded_t *out, const mi_route_t *rt, const char *query,
                      json_object *body, const mi_limits_t *lim, apr_pool_t *p,
                      mi_error_t *err);

#endif
