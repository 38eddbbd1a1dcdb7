/* mi_request.h — a routed REST request decoded into the store call that answers it.
 *
 * Everything the handler decides before asking the database lives here, in the core, so
 * the glue only reads the body from httpd and the fuzzer runs exactly the handler's
 * decoding: which operation (mi_ops.h: its store call, and the statistics slot it is counted
 * in), with which validated arguments, and whether a collection answers with uris or
 * objects.
 */
#ifndef MI_REQUEST_H
#define MI_REQUEST_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_limits.h"
#include "mi_ops.h"
#include "mi_route.h"
#include "mi_status.h"

typedef struct {
    mi_op_e op;              /* the operation (mi_ops.h): the store call and the statistics */
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

/** The operation of a routed request as far as the route tells, before it is decoded
 *  (MI_OP_NONE for POST /me/interactions/{id}, named by its body). */
mi_op_e mi_request_route_op(const mi_route_t *rt);

/** Decode a routed REST request (not the push channel).  @query is the raw query string,
 *  @body the parsed JSON body when the route wants one.  Returns 1 and fills @out, or 0
 *  and fills @err. */
int mi_request_decode(mi_decoded_t *out, const mi_route_t *rt, const char *query,
                      json_object *body, const mi_limits_t *lim, apr_pool_t *p,
                      mi_error_t *err);

/** Resolve what needs the location's absolute API base @base ("http://host:port/api/v2", as
 *  the server writes its uris): a queue named by uri (GWS "queueUri", or a Transfer's
 *  "targetPath" /queues/{name}) becomes "queueName".  The uri must be {base}/queues/{name},
 *  {base path}/queues/{name} or /queues/{name} (relative to the base, as GWS paths are); one
 *  of another location or contact center is answered like an unknown queue (statusCode 10).
 *  Returns 1, or 0 and fills @err. */
int mi_request_resolve(mi_decoded_t *d, const char *base, apr_pool_t *p, mi_error_t *err);

#endif
