/* mi_status.h — the contract's statusCodes, their HTTP statuses, and the response envelope.
 *
 * Every response body carries statusCode.  Success: {"statusCode":0,"status":"ok",...}.
 * Failure: {"statusCode":N,"statusMessage":T,"status":"error","errorDescription":T}; both
 * spellings of the message are present so clients of either GWS generation keep working.
 */
#ifndef MI_STATUS_H
#define MI_STATUS_H

#include <apr_pools.h>
#include <json-c/json.h>

typedef enum {
    MI_SC_OK = 0,
    MI_SC_MISSING = 1,        /* required parameter missing */
    MI_SC_STATE = 2,          /* not valid in the interaction's current state */
    MI_SC_FORBIDDEN = 3,      /* operation forbidden */
    MI_SC_INTERNAL = 4,       /* internal error; database unavailable */
    MI_SC_PERMISSION = 5,     /* not this user's resource / role */
    MI_SC_NOT_FOUND = 6,      /* unknown, or another contact center's */
    MI_SC_INVALID = 10,       /* input validation error */
    MI_SC_READ_ONLY = 11,     /* attempt to change a read-only property */
    MI_SC_EXISTS = 18,        /* resource already exists */
    MI_SC_UNAUTHENTICATED = 20
} mi_sc_e;

/** A failure on its way to the client: statusCode, HTTP status and text. */
typedef struct {
    int sc;
    int http;              /* 0: derive from sc */
    const char *message;
} mi_error_t;

/** The HTTP status the contract assigns to @sc (400 for unknown codes). */
int mi_status_http(int sc);

/** The statusCode for an HTTP error status that httpd chose itself (401 from
 *  authentication, 413 from LimitRequestBody, ...): the contract's meaning of it. */
int mi_status_from_http(int http);

/** A short default text for @sc. */
const char *mi_status_text(int sc);

/** Fill @err; returns @err for chaining. */
mi_error_t *mi_error_set(mi_error_t *err, int sc, int http, const char *message);

/** {"statusCode":0,"status":"ok"} bound to @p, ready for more members. */
json_object *mi_envelope_ok(apr_pool_t *p);

/** The failure envelope for @err, bound to @p. */
json_object *mi_envelope_error(apr_pool_t *p, const mi_error_t *err);

/** The HTTP status to send for @err. */
int mi_error_http(const mi_error_t *err);

#endif
