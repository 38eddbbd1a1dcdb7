/* mi_request.c — see mi_request.h */
#include <string.h>

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

const char *mi_request_stat_name(const mi_route_t *rt)
{
    int get = rt->method == MI_M_GET;

    switch (rt->route) {
    case MI_R_ME:              return "me";
    case MI_R_ME_CHANNEL:      return "channel";
    case MI_R_INTERACTIONS:    return get ? "list" : "create";
    case MI_R_INTERACTION:     return get ? "get" : "update";
    case MI_R_MY_INTERACTIONS: return get ? "my_list" : "GetWorkbinContent";
    case MI_R_MY_INTERACTION:  return "other";   /* named by its operationName once decoded */
    case MI_R_MY_WORKBINS:     return "workbins";
    case MI_R_MY_WORKBIN:      return "workbin";
    case MI_R_NOTIFICATIONS:   return "notifications";
    default:                   return "other";
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

/* A page stops at this many bytes of interactions (the store measures them as it builds the
 * page), so one request cannot make the process hold a page of any size. */
static void add_page_bytes(json_object *args, const mi_limits_t *lim)
{
    json_object_object_add(args, "_maxBytes", json_object_new_int64((int64_t)lim->max_page_bytes));
}

int mi_request_decode(mi_decoded_t *out, const mi_route_t *rt, const char *query,
                      json_object *body, const mi_limits_t *lim, apr_pool_t *p,
                      mi_error_t *err)
{
    int get = rt->method == MI_M_GET;
    json_object *args = NULL;
    mi_op_e op;
    int ok = 1;

    memset(out, 0, sizeof(*out));
    out->stat_op = mi_request_stat_name(rt);
    switch (rt->route) {
    case MI_R_ME:
        out->store_op = "me";
        break;
    case MI_R_ME_CHANNEL:
        out->store_op = "channel";
        ok = mi_validate_channel(&args, rt->param, body, lim, p, err);
        break;
    case MI_R_INTERACTIONS:
    case MI_R_MY_INTERACTIONS:
        if (get) {
            out->store_op = rt->route == MI_R_INTERACTIONS ? "list" : "my_list";
            ok = mi_validate_list_query(&args, query, lim, p, err);
            out->uris_only = ok && mi_json_get(args, "fields") == NULL;
            if (ok) add_page_bytes(args, lim);
        }
        else if (rt->route == MI_R_INTERACTIONS) {
            out->store_op = "create";
            ok = mi_validate_create(&args, body, lim, p, err);
        }
        else {
            out->store_op = "operation";
            ok = mi_validate_operation(&op, &args, body, 0, lim, p, err);
            if (ok) {
                add_limits(args, lim);
                add_page_bytes(args, lim);   /* GetWorkbinContent: its content is a page */
            }
        }
        break;
    case MI_R_INTERACTION:
        if (get) {
            out->store_op = "get";
            args = mi_json_bind(p, json_object_new_object());
            ok = path_id(args, rt->param, err);
        }
        else {
            out->store_op = "update";
            ok = mi_validate_update(&args, body, lim, p, err) && path_id(args, rt->param, err);
            if (ok) add_limits(args, lim);
        }
        break;
    case MI_R_MY_INTERACTION:
        out->store_op = "operation";
        ok = mi_validate_operation(&op, &args, body, 1, lim, p, err)
             && path_id(args, rt->param, err);
        if (ok) {
            out->stat_op = mi_op_name(op);
            add_limits(args, lim);
            if (op == MI_OP_GET_WORKBIN_CONTENT) {
                add_page_bytes(args, lim);
            }
        }
        break;
    case MI_R_MY_WORKBINS:
        out->store_op = "workbins";
        break;
    case MI_R_MY_WORKBIN:
        out->store_op = "workbin";
        if (!mi_utf8_valid(rt->param, strlen(rt->param))
            || mi_utf8_chars(rt->param, strlen(rt->param)) > MI_MAX_NAME_CHARS) {
            mi_error_set(err, MI_SC_NOT_FOUND, 0, "no such workbin");
            ok = 0;
            break;
        }
        args = mi_json_bind(p, json_object_new_object());
        json_object_object_add(args, "name", json_object_new_string(rt->param));
        add_page_bytes(args, lim);
        break;
    default:
        mi_error_set(err, MI_SC_NOT_FOUND, 0, "no such resource");
        ok = 0;
        break;
    }
    if (!ok) {
        out->args = NULL;
        return 0;
    }
    out->args = args;
    return 1;
}
