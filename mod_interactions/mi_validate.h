/* mi_validate.h — turns a decoded request (route, query, JSON body) into the argument
 * object that the store passes to SQL, or into a statusCode error.  Nothing reaches the
 * database that this file has not checked: types, required fields, unknown fields, string
 * lengths, user-data keys and size, enumerations.
 */
#ifndef MI_VALIDATE_H
#define MI_VALIDATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "mi_limits.h"
#include "mi_ops.h"
#include "mi_route.h"
#include "mi_status.h"

/** Decode an application/x-www-form-urlencoded string into @t (later keys do not replace
 *  earlier ones; apr_table_get returns the first).  Returns 0 on malformed escapes. */
int mi_form_parse(apr_table_t *t, const char *qs, apr_pool_t *p);

/** Is @s[0..len) well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF)? */
int mi_utf8_valid(const char *s, apr_size_t len);

/** Number of UTF-8 characters in @s[0..len) (the input is valid UTF-8). */
apr_size_t mi_utf8_chars(const char *s, apr_size_t len);

/** Validate the query of GET /interactions and GET /me/interactions into @pargs:
 *  {"fields":"*"|absent,"state":..,"queue":..,"limit":n,"offset":n}. */
int mi_validate_list_query(json_object **pargs, const char *query, const mi_limits_t *lim,
                           apr_pool_t *p, mi_error_t *err);

/** GET /agents: the query's filters media=, state= (a channel state of CONTRACT 8.2), queue=
 *  and paging limit=/offset=, as arguments for the store. */
int mi_validate_agents_query(json_object **pargs, const char *query, const mi_limits_t *lim,
                             apr_pool_t *p, mi_error_t *err);

/** Validate a POST /interactions body into create arguments. */
/** GET /events: after (a cursor, 0 or more; 0 when absent), limit (1 to the page maximum;
 *  the default page size when absent), wait (seconds to hold the request when there is
 *  nothing, 0 to MI_EVENTS_MAX_WAIT_S; 0 when absent); nothing else. */
int mi_validate_events_query(json_object **pargs, const char *query, const mi_limits_t *lim,
                             apr_pool_t *p, mi_error_t *err);

int mi_validate_create(json_object **pargs, json_object *body, const mi_limits_t *lim,
                       apr_pool_t *p, mi_error_t *err);

/** A field GWS clients send in an operation body that is not this server's own for it. */
typedef struct {
    mi_op_e op;             /* the operation (MI_OP_NONE: every operationName) */
    const char *name;
    json_type type;         /* the JSON type GWS gives it */
    int used;               /* 1: the operation uses it; 0: accepted and ignored */
} mi_gws_field_t;

/** The GWS fields accepted beside the operations' own (*pn of them). */
const mi_gws_field_t *mi_validate_gws_fields(int *pn);

/** Validate an operation body for POST /me/interactions[/{id}].  @has_id tells whether an
 *  interaction id is in the path (only GetWorkbinContent works without one).  On success
 *  *pop is the operation and *pargs its arguments. */
int mi_validate_operation(mi_op_e *pop, json_object **pargs, json_object *body, int has_id,
                          const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err);

/** Validate a PUT /interactions/{id} body. */
int mi_validate_update(json_object **pargs, json_object *body, const mi_limits_t *lim,
                       apr_pool_t *p, mi_error_t *err);

/** Validate POST /me/channels/{media}: the media token and
 *  {"operationName":"Ready"|"NotReady"|"AfterCallWork","reason"?} (a reason only with
 *  NotReady; whether the contact center has it is the store's to say). */
int mi_validate_channel(json_object **pargs, const char *media, json_object *body,
                        const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err);

/** Validate POST /me: {"operationName":"StartContactCenterSession","channels":[media..]}
 *  (1 to lim->max_channels media tokens), EndContactCenterSession, DoNotDisturbOn or
 *  DoNotDisturbOff (no other field). */
int mi_validate_me_state(json_object **pargs, json_object *body, const mi_limits_t *lim,
                         apr_pool_t *p, mi_error_t *err);

/** Is @s a well-formed id (the canonical 36-character UUID text)?  Anything else is
 *  answered like an unknown id, without a database round trip. */
int mi_validate_id(const char *s);

/** Is @s a name token usable for a media type: [A-Za-z0-9_.-]{1,64}? */
int mi_validate_token(const char *s);

#endif
