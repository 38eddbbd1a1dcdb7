/* mi_status.c — see mi_status.h */
#include "mi_json.h"
#include "mi_status.h"

int mi_status_http(int sc)
{
    switch (sc) {
    case MI_SC_OK:              return 200;
    case MI_SC_MISSING:         return 400;
    case MI_SC_STATE:           return 409;
    case MI_SC_FORBIDDEN:       return 403;
    case MI_SC_INTERNAL:        return 500;
    case MI_SC_PERMISSION:      return 403;
    case MI_SC_NOT_FOUND:       return 404;
    case MI_SC_INVALID:         return 400;
    case MI_SC_READ_ONLY:       return 400;
    case MI_SC_EXISTS:          return 409;
    case MI_SC_UNAUTHENTICATED: return 401;
    default:                    return 400;
    }
}

int mi_status_from_http(int http)
{
    switch (http) {
    case 401: return MI_SC_UNAUTHENTICATED;
    case 403: return MI_SC_PERMISSION;
    case 404: return MI_SC_NOT_FOUND;
    case 405: return MI_SC_FORBIDDEN;
    case 400:
    case 413:
    case 415: return MI_SC_INVALID;
    default:  return http >= 500 ? MI_SC_INTERNAL : MI_SC_INVALID;
    }
}

const char *mi_status_text(int sc)
{
    switch (sc) {
    case MI_SC_OK:              return "ok";
    case MI_SC_MISSING:         return "a required parameter is missing";
    case MI_SC_STATE:           return "not valid in the interaction's current state";
    case MI_SC_FORBIDDEN:       return "operation forbidden";
    case MI_SC_INTERNAL:        return "internal error";
    case MI_SC_PERMISSION:      return "no permission for this operation or resource";
    case MI_SC_NOT_FOUND:       return "resource not found";
    case MI_SC_INVALID:         return "input validation error";
    case MI_SC_READ_ONLY:       return "attempt to change a read-only property";
    case MI_SC_EXISTS:          return "resource already exists";
    case MI_SC_UNAUTHENTICATED: return "not authenticated";
    default:                    return "error";
    }
}

mi_error_t *mi_error_set(mi_error_t *err, int sc, int http, const char *message)
{
    err->sc = sc;
    err->http = http;
    err->message = message != NULL ? message : mi_status_text(sc);
    return err;
}

int mi_error_http(const mi_error_t *err)
{
    return err->http > 0 ? err->http : mi_status_http(err->sc);
}

json_object *mi_envelope_ok(apr_pool_t *p)
{
    json_object *o = mi_json_bind(p, json_object_new_object());

    json_object_object_add(o, "statusCode", json_object_new_int(0));
    json_object_object_add(o, "status", json_object_new_string("ok"));
    return o;
}

json_object *mi_envelope_error(apr_pool_t *p, const mi_error_t *err)
{
    json_object *o = mi_json_bind(p, json_object_new_object());
    const char *text = err->message != NULL ? err->message : mi_status_text(err->sc);

    json_object_object_add(o, "statusCode", json_object_new_int(err->sc));
    json_object_object_add(o, "statusMessage", json_object_new_string(text));
    json_object_object_add(o, "status", json_object_new_string("error"));
    json_object_object_add(o, "errorDescription", json_object_new_string(text));
    return o;
}
