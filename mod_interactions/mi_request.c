/* mi_request.c — see mi_request.h */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "mi_json.h"
#include "mi_request.h"
#include "mi_validate.h"

int mi_request_parse_body(json_object **pbody, const char *buf, apr_size_t len,
                          const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err)
{
    mi_json_error_t jerr;

    *pbody = NULL;
    if (len > lim->max_body) {
        mi_error_set(err, MI_SC_INVALID, 413,
                     apr_psprintf(p, "the request body is larger than %" APR_SIZE_T_FMT " bytes",
                                  lim->max_body));
        return 0;
    }
    if (mi_json_parse(pbody, buf, len, lim->max_depth, p, &jerr) != APR_SUCCESS) {
        mi_error_set(err, MI_SC_INVALID, 400,
                     apr_psprintf(p, "malformed JSON at line %d, column %d (byte %"
                                  APR_SIZE_T_FMT "): %s", jerr.line, jerr.column, jerr.offset,
                                  jerr.reason));
        return 0;
    }
    return 1;
}

int mi_request_wants_body(const mi_route_t *rt)
{
    return rt->route != MI_R_NOTIFICATIONS && mi_route_is_write(rt);
}

mi_op_e mi_request_route_op(const mi_route_t *rt)
{
    int get = rt->method == MI_M_GET;

    switch (rt->route) {
    case MI_R_ME:              return get ? MI_OP_ME : MI_OP_ME_STATE;
    case MI_R_ME_CHANNEL:      return MI_OP_CHANNEL;
    case MI_R_INTERACTIONS:    return get ? MI_OP_LIST : MI_OP_CREATE;
    case MI_R_INTERACTION:
        return get ? MI_OP_GET : rt->method == MI_M_POST ? MI_OP_SUPERVISE : MI_OP_UPDATE;
    case MI_R_MY_INTERACTIONS: return get ? MI_OP_MY_LIST : MI_OP_GET_WORKBIN_CONTENT;
    case MI_R_MY_WORKBINS:     return MI_OP_WORKBINS;
    case MI_R_MY_WORKBIN:      return MI_OP_WORKBIN;
    case MI_R_AGENTS:          return MI_OP_AGENTS;
    case MI_R_AGENT_CHANNEL:   return MI_OP_AGENT_CHANNEL;
    case MI_R_QUEUES:          return MI_OP_QUEUES;
    case MI_R_QUEUE_STATISTICS: return MI_OP_QUEUE_STATISTICS;
    case MI_R_NOTIFICATIONS:   return MI_OP_NOTIFICATIONS;
    case MI_R_EVENTS:          return MI_OP_EVENTS;
    default:                   return MI_OP_NONE;
    }
}

/* The interaction id of the path: anything that is not an id names nothing, which is
 * answered like an unknown id without a database round trip. */
static int path_id(json_object *args, const char *param, mi_error_t *err)
{
    if (!mi_validate_id(param)) {
        mi_error_set(err, MI_SC_NOT_FOUND, 0, "no such interaction");
        return 0;
    }
    json_object_object_add(args, "id", json_object_new_string(param));
    return 1;
}

/* The user-data limit travels with the arguments: the store checks the merged result. */
static void add_limits(json_object *args, const mi_limits_t *lim)
{
    json_object_object_add(args, "_maxUserData", json_object_new_int64((int64_t)lim->max_user_data));
}

/* So do the channels an agent may have: the store counts them before it adds one. */
static void add_channel_limit(json_object *args, const mi_limits_t *lim)
{
    json_object_object_add(args, "_maxChannels", json_object_new_int(lim->max_channels));
}

/* A page stops at this many bytes of interactions (the store measures them as it builds the
 * page), so one request cannot make the process hold a page of any size. */
static void add_page_bytes(json_object *args, const mi_limits_t *lim)
{
    json_object_object_add(args, "_maxBytes", json_object_new_int64((int64_t)lim->max_page_bytes));
}

/* A user or workbin name of the path: anything no name can be names nothing. */
static int path_name(const char *param, const char *what, mi_error_t *err)
{
    if (param == NULL || !mi_utf8_valid(param, strlen(param))
        || mi_utf8_chars(param, strlen(param)) > MI_MAX_NAME_CHARS) {
        mi_error_set(err, MI_SC_NOT_FOUND, 0, what);
        return 0;
    }
    return 1;
}

/* POST /interactions/{id}: a supervisor moves an interaction with the body an agent would
 * post for it.  Only the moves are offered; the operation is validated exactly as the
 * agent's (its fields and their limits), and counted and stored as "supervise". */
static int supervise(mi_decoded_t *out, json_object **pargs, const mi_route_t *rt,
                     json_object *body, const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err)
{
    mi_op_e op;

    if (!mi_validate_operation(&op, pargs, body, 1, lim, p, err)) {
        return 0;
    }
    if (op != MI_OP_TRANSFER && op != MI_OP_PLACE_IN_QUEUE && op != MI_OP_PLACE_IN_WORKBIN) {
        mi_error_set(err, MI_SC_INVALID, 0,
                     apr_psprintf(p, "'%s' is an agent's operation: POST /interactions/{id} takes "
                                  "Transfer, PlaceInQueue or PlaceInWorkbin", mi_op_name(op)));
        return 0;
    }
    out->op = MI_OP_SUPERVISE;
    if (!path_id(*pargs, rt->param, err)) {
        return 0;
    }
    add_limits(*pargs, lim);
    return 1;
}

int mi_request_decode(mi_decoded_t *out, const mi_route_t *rt, const char *query,
                      json_object *body, const mi_limits_t *lim, apr_pool_t *p,
                      mi_error_t *err)
{
    json_object *args = NULL;
    int ok = 1;

    memset(out, 0, sizeof(*out));
    out->op = mi_request_route_op(rt);
    switch (out->op) {
    case MI_OP_ME:
    case MI_OP_WORKBINS:
    case MI_OP_QUEUES:
        break;
    case MI_OP_QUEUE_STATISTICS:
        /* a name no queue can have names nothing, without a database round trip */
        if (!mi_utf8_valid(rt->param, strlen(rt->param))
            || mi_utf8_chars(rt->param, strlen(rt->param)) > MI_MAX_NAME_CHARS) {
            mi_error_set(err, MI_SC_NOT_FOUND, 0, "no such queue");
            ok = 0;
            break;
        }
        args = mi_json_bind(p, json_object_new_object());
        json_object_object_add(args, "name", json_object_new_string(rt->param));
        break;
    case MI_OP_CHANNEL:
        ok = mi_validate_channel(&args, rt->param, body, lim, p, err);
        if (ok) add_channel_limit(args, lim);
        break;
    case MI_OP_ME_STATE:
        ok = mi_validate_me_state(&args, body, lim, p, err);
        if (ok) add_channel_limit(args, lim);
        break;
    case MI_OP_LIST:
    case MI_OP_MY_LIST:
        ok = mi_validate_list_query(&args, query, lim, p, err);
        out->uris_only = ok && mi_json_get(args, "fields") == NULL;
        break;
    case MI_OP_CREATE:
        ok = mi_validate_create(&args, body, lim, p, err);
        break;
    case MI_OP_EVENTS:
        ok = mi_validate_events_query(&args, query, lim, p, err);
        break;
    case MI_OP_GET:
        args = mi_json_bind(p, json_object_new_object());
        ok = path_id(args, rt->param, err);
        break;
    case MI_OP_UPDATE:
        ok = mi_validate_update(&args, body, lim, p, err) && path_id(args, rt->param, err);
        if (ok) add_limits(args, lim);
        break;
    case MI_OP_AGENTS:
        ok = mi_validate_agents_query(&args, query, lim, p, err);
        break;
    case MI_OP_AGENT_CHANNEL:
        /* the same body as the agent's own POST /me/channels/{media}, for the agent named */
        ok = path_name(rt->param, "no such agent", err)
             && mi_validate_channel(&args, rt->param2, body, lim, p, err);
        if (ok) json_object_object_add(args, "user", json_object_new_string(rt->param));
        break;
    case MI_OP_SUPERVISE:
        ok = supervise(out, &args, rt, body, lim, p, err);
        break;
    case MI_OP_WORKBIN:
        if (!mi_utf8_valid(rt->param, strlen(rt->param))
            || mi_utf8_chars(rt->param, strlen(rt->param)) > MI_MAX_NAME_CHARS) {
            mi_error_set(err, MI_SC_NOT_FOUND, 0, "no such workbin");
            ok = 0;
            break;
        }
        args = mi_json_bind(p, json_object_new_object());
        json_object_object_add(args, "name", json_object_new_string(rt->param));
        break;
    default:
        if (rt->route == MI_R_MY_INTERACTIONS || rt->route == MI_R_MY_INTERACTION) {
            /* an operationName: the body names it (only some may go without an id) */
            mi_op_e op;
            int has_id = rt->route == MI_R_MY_INTERACTION;
            ok = mi_validate_operation(&op, &args, body, has_id, lim, p, err)
                 && (!has_id || path_id(args, rt->param, err));
            if (ok) {
                out->op = op;
                add_limits(args, lim);
            }
            break;
        }
        mi_error_set(err, MI_SC_NOT_FOUND, 0, "no such resource");
        ok = 0;
        break;
    }
    if (!ok) {
        out->args = NULL;
        return 0;
    }
    /* a page stops at a size the store measures as it builds it */
    if (mi_op_is(out->op, MI_OPF_PAGED)) {
        add_page_bytes(args, lim);
    }
    out->args = args;
    return 1;
}

/* ------------------------------------------------------------------ uris of this location */

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A path segment percent-decoded ("+" is itself in a path), or NULL when it holds a bad
 * escape, %00, or decodes to invalid UTF-8. */
static char *segment_decode(const char *s, apr_pool_t *p)
{
    apr_size_t len = strlen(s);
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < len ? hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return mi_utf8_valid(out, (apr_size_t)(o - out)) ? out : NULL;
}

/* The part of uri @u below @base, or NULL when @u is not under it: an absolute uri must
 * start with the whole base (scheme and host compared without case), a path with the
 * base's path; "/queues/..." alone is relative to the base, as GWS's paths are. */
static const char *below_base(const char *u, const char *base)
{
    const char *scheme_end = strstr(base, "://");
    const char *base_path = scheme_end != NULL ? strchr(scheme_end + 3, '/') : NULL;
    apr_size_t origin_len, path_len;

    origin_len = base_path != NULL ? (apr_size_t)(base_path - base) : strlen(base);
    base_path = base_path != NULL ? base_path : "";
    path_len = strlen(base_path);
    if (strstr(u, "://") != NULL) {
        if (strncasecmp(u, base, origin_len) != 0) {
            return NULL;
        }
        u += origin_len;
    }
    else if (*u != '/') {
        return NULL;
    }
    else if (strncmp(u, "/queues/", 8) == 0) {
        return u;
    }
    if (strncmp(u, base_path, path_len) != 0 || u[path_len] != '/') {
        return NULL;
    }
    return u + path_len;
}

int mi_request_resolve(mi_decoded_t *d, const char *base, apr_pool_t *p, mi_error_t *err)
{
    const char *uri = d->args != NULL ? mi_json_get_str(d->args, "_queueUri") : NULL;
    const char *field, *rest;
    char *name;

    if (uri == NULL) {
        return 1;
    }
    /* copies: the members go now, the store never sees them */
    uri = apr_pstrdup(p, uri);
    field = mi_json_get_str(d->args, "_queueUriField");
    field = apr_pstrdup(p, field != NULL ? field : "queueUri");
    json_object_object_del(d->args, "_queueUri");
    json_object_object_del(d->args, "_queueUriField");
    rest = strstr(uri, "://") != NULL || *uri == '/' ? below_base(uri, base != NULL ? base : "")
                                                     : "";
    if (rest == NULL) {
        /* another location's: for all this one knows another contact center's, which
         * must look exactly like a queue that does not exist */
        mi_error_set(err, MI_SC_INVALID, 0, "unknown queue");
        return 0;
    }
    if (strncmp(rest, "/queues/", 8) != 0 || rest[8] == '\0' || strpbrk(rest + 8, "/?#") != NULL) {
        mi_error_set(err, MI_SC_INVALID, 0,
                     apr_psprintf(p, "'%s' must name a queue: {base}/queues/{name}", field));
        return 0;
    }
    name = segment_decode(rest + 8, p);
    if (name == NULL || *name == '\0' || mi_utf8_chars(name, strlen(name)) > MI_MAX_NAME_CHARS) {
        mi_error_set(err, MI_SC_INVALID, 0, apr_psprintf(p, "'%s' does not name a queue", field));
        return 0;
    }
    json_object_object_add(d->args, "queueName", json_object_new_string(name));
    return 1;
}
