/* mod_interactions_rest.c — the REST handler: HTTP in, core calls, HTTP out.
 *
 * Everything that can be decided without httpd lives in the core (routing, validation,
 * rendering); this file reads the request, asks the store, and writes the answer.  Every
 * answer, success or failure, is the JSON envelope.
 */
#include <httpd.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mi_json.h"
#include "mi_render.h"
#include "mi_request.h"
#include "mi_route.h"
#include "mi_validate.h"
#include "mod_interactions_config.h"
#include "mod_interactions_private.h"

/* ------------------------------------------------------------------ responses */

int mi_send_json(request_rec *r, int status, json_object *body)
{
    apr_size_t len;
    const char *text = mi_json_dump_len(body, r->pool, &len);

    mi_status_count(r, status, (int)mi_json_get_int(body, "statusCode", MI_SC_INTERNAL));
    r->status = status;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    /* a browser must never take an answer (user data, subjects) for HTML or script */
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
    return OK;
}

int mi_send_error(request_rec *r, const mi_error_t *err)
{
    int http = mi_error_http(err);

    if (http == HTTP_SERVICE_UNAVAILABLE) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_itoa(r->pool, mi_srv_conf()->retry_after_s));
    }
    return mi_send_json(r, http, mi_envelope_error(r->pool, err));
}

mi_error_t *mi_store_error(request_rec *r, apr_status_t rv, mi_error_t *err)
{
    (void)r;
    if (rv == MI_STORE_UNAVAILABLE) {
        return mi_error_set(err, MI_SC_INTERNAL, HTTP_SERVICE_UNAVAILABLE,
                            "the database is unavailable; retry later");
    }
    return mi_error_set(err, MI_SC_INTERNAL, HTTP_INTERNAL_SERVER_ERROR, "internal error");
}

/* ------------------------------------------------------------------ request body */

static int is_json_type(const char *ct)
{
    apr_size_t n = 16;

    if (ct == NULL || strncasecmp(ct, "application/json", n) != 0) {
        return 0;
    }
    while (ct[n] == ' ' || ct[n] == '\t') n++;
    return ct[n] == '\0' || ct[n] == ';';
}

/* Read the body, at most @max bytes; 413 beyond. */
static int read_body(request_rec *r, apr_size_t max, char **pbuf, apr_size_t *plen,
                     mi_error_t *err)
{
    apr_size_t len = 0, cap = 8192;
    char *buf;
    long n;

    *pbuf = NULL;
    *plen = 0;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST, "the request body cannot be read");
        return 0;
    }
    if (r->remaining > (apr_off_t)max) {
        mi_error_set(err, MI_SC_INVALID, HTTP_REQUEST_ENTITY_TOO_LARGE,
                     apr_psprintf(r->pool, "the request body is larger than %" APR_SIZE_T_FMT
                                  " bytes", max));
        return 0;
    }
    if (!ap_should_client_block(r)) {
        *pbuf = apr_pstrdup(r->pool, "");
        return 1;
    }
    if (r->remaining > 0) {
        cap = (apr_size_t)r->remaining + 1;
    }
    buf = apr_palloc(r->pool, cap);
    for (;;) {
        if (len + 1 >= cap) {
            char *bigger;
            if (cap > max + 1) {
                break;
            }
            bigger = apr_palloc(r->pool, cap * 2);
            memcpy(bigger, buf, len);
            buf = bigger;
            cap *= 2;
        }
        n = ap_get_client_block(r, buf + len, cap - len - 1);
        if (n < 0) {
            mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST, "the request body cannot be read");
            return 0;
        }
        if (n == 0) {
            break;
        }
        len += (apr_size_t)n;
        if (len > max) {
            break;
        }
    }
    if (len > max) {
        mi_error_set(err, MI_SC_INVALID, HTTP_REQUEST_ENTITY_TOO_LARGE,
                     apr_psprintf(r->pool, "the request body is larger than %" APR_SIZE_T_FMT
                                  " bytes", max));
        return 0;
    }
    buf[len] = '\0';
    *pbuf = buf;
    *plen = len;
    return 1;
}

/* A write must carry a JSON document: 415 for anything else (this also keeps other sites'
 * HTML forms, which cannot send application/json, from posting with a browser's cached
 * credentials), 413 when too large, 400 with the position when malformed. */
static int read_json(request_rec *r, const mi_limits_t *lim, json_object **pbody,
                     mi_error_t *err)
{
    char *buf;
    apr_size_t len;

    *pbody = NULL;
    if (!is_json_type(apr_table_get(r->headers_in, "Content-Type"))) {
        mi_error_set(err, MI_SC_INVALID, HTTP_UNSUPPORTED_MEDIA_TYPE,
                     "the request body must be application/json");
        return 0;
    }
    return read_body(r, lim->max_body, &buf, &len, err)
           && mi_request_parse_body(pbody, buf, len, lim, r->pool, err);
}

/* ------------------------------------------------------------------ results */

/* Turn a store result into the response: interactions get their uri and this caller's
 * capabilities, internal fields go, and the envelope's "status" is added. */
static json_object *render_result(json_object *res, const char *base, int uris_only,
                                  apr_pool_t *p)
{
    json_object *out = mi_envelope_ok(p);
    mi_caller_t caller;

    mi_caller_from_json(&caller, mi_json_get(res, "caller"));
    json_object_object_foreach(res, key, val) {
        if (strcmp(key, "statusCode") == 0 || strcmp(key, "caller") == 0) {
            continue;
        }
        if (strcmp(key, "interaction") == 0 && json_object_is_type(val, json_type_object)) {
            json_object_object_add(out, key, mi_render_interaction(val, &caller, base, NULL, p));
        }
        else if (strcmp(key, "interactions") == 0 && json_object_is_type(val, json_type_array)) {
            if (uris_only) {
                json_object_object_add(out, "uris", mi_render_uris(val, base, p));
            }
            else {
                json_object_object_add(out, key, mi_render_interactions(val, &caller, base, p));
            }
        }
        else if (strcmp(key, "workbin") == 0 && json_object_is_type(val, json_type_object)) {
            json_object *wb = json_object_new_object();
            json_object_object_foreach(val, wk, wv) {
                if (strcmp(wk, "interactions") == 0) {
                    json_object_object_add(wb, wk, mi_render_interactions(wv, &caller, base, p));
                }
                else {
                    json_object_object_add(wb, wk, json_object_get(wv));
                }
            }
            json_object_object_add(out, key, wb);
        }
        else {
            json_object_object_add(out, key, json_object_get(val));
        }
    }
    /* a created interaction is named by its uri too */
    if (mi_json_get_str(res, "id") != NULL && mi_json_get(res, "uri") == NULL) {
        json_object_object_add(out, "uri", json_object_new_string(
            mi_render_uri(base, mi_json_get_str(res, "id"), p)));
    }
    return out;
}

/* ------------------------------------------------------------------ the handler */

typedef struct {
    request_rec *r;
    const mi_dir_conf_t *dc;
    mi_limits_t lim;
    mi_route_t route;
    const char *base;      /* absolute API base for uris */
    int cc;
} mi_req_t;

/* One API call: store, then either the error envelope or the rendered result. */
static int call(mi_req_t *q, mi_op_e op, json_object *args, int uris_only)
{
    request_rec *r = q->r;
    json_object *res = NULL;
    mi_error_t err;
    apr_status_t rv;
    int sc;

    rv = mi_store_api(mi_proc->store, q->cc, r->user, op, args, q->lim.max_depth, r->pool, &res);
    if (rv != APR_SUCCESS) {
        return mi_send_error(r, mi_store_error(r, rv, &err));
    }
    sc = (int)mi_json_get_int(res, "statusCode", MI_SC_INTERNAL);
    if (sc != MI_SC_OK) {
        mi_error_set(&err, sc, 0, mi_json_get_str(res, "statusMessage"));
        return mi_send_error(r, &err);
    }
    if (mi_op_is(op, MI_OPF_WRITE) && mi_proc->on_change != NULL) {
        /* a write: the push channel looks for news now rather than on its next tick */
        mi_proc->on_change(mi_proc);
    }
    return mi_send_json(r, HTTP_OK, render_result(res, q->base, uris_only, r->pool));
}

/* Read what the route needs, let the core decode it, and make the store call. */
static int dispatch(mi_req_t *q)
{
    json_object *body = NULL;
    mi_decoded_t d;
    mi_error_t err;

    mi_status_op(q->r, mi_request_route_op(&q->route));
    if (q->route.route == MI_R_NOTIFICATIONS) {
        return mi_push_handler(q->r, q->cc, q->base, q->dc, &q->lim);
    }
    if ((mi_request_wants_body(&q->route) && !read_json(q->r, &q->lim, &body, &err))
        || !mi_request_decode(&d, &q->route, q->r->args, body, &q->lim, q->r->pool, &err)) {
        return mi_send_error(q->r, &err);
    }
    mi_status_op(q->r, d.op);
    return call(q, d.op, d.args, d.uris_only);
}

int mi_rest_handler(request_rec *r)
{
    mi_req_t q;
    mi_error_t err;
    const char *rel, *base;
    apr_size_t blen;
    apr_status_t rv;
    int found;

    if (r->handler == NULL || strcmp(r->handler, MI_HANDLER) != 0) {
        return DECLINED;
    }
    memset(&q, 0, sizeof(q));
    q.r = r;
    q.dc = mi_dir_conf(r);
    if (q.dc->contact_center == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MI_LOGNO(00301)
                      "SetHandler " MI_HANDLER " without InteractionsContactCenter");
        return mi_send_error(r, mi_error_set(&err, MI_SC_INTERNAL, HTTP_INTERNAL_SERVER_ERROR,
                                             "this location serves no contact center"));
    }
    mi_dir_limits(q.dc, &q.lim);

    /* The path below the location: /api/v2/interactions/x -> /interactions/x.  httpd hands
     * a module the <Location> path only when one of its directives is inside that section;
     * otherwise (contact center set on the <VirtualHost>) the base is found from the path. */
    if (q.dc->base != NULL) {
        rel = r->uri;
        blen = strlen(q.dc->base);
        if (blen > 0 && strncmp(rel, q.dc->base, blen) == 0 && (rel[blen] == '/' || rel[blen] == '\0')) {
            rel += blen;
        }
        base = q.dc->base;
        found = mi_route_match(&q.route, r->method, rel, r->pool);
    }
    else {
        found = mi_route_match_any_base(&q.route, &base, r->method, r->uri, r->pool);
    }
    q.base = mi_public_base(r, q.dc, base);
    if (!found) {
        return mi_send_error(r, mi_error_set(&err, MI_SC_NOT_FOUND, 0, "no such resource"));
    }
    if (!q.route.method_ok) {
        apr_table_setn(r->headers_out, "Allow", q.route.allow);
        return mi_send_error(r, mi_error_set(&err, MI_SC_FORBIDDEN, HTTP_METHOD_NOT_ALLOWED,
                                             apr_psprintf(r->pool, "%s is not allowed here; "
                                                          "use %s", r->method, q.route.allow)));
    }
    if (r->user == NULL || *r->user == '\0' || strlen(r->user) > 255
        || !mi_utf8_valid(r->user, strlen(r->user))) {
        return mi_send_error(r, mi_error_set(&err, MI_SC_UNAUTHENTICATED, 0, "not authenticated"));
    }
    if (q.route.param != NULL && !mi_utf8_valid(q.route.param, strlen(q.route.param))) {
        return mi_send_error(r, mi_error_set(&err, MI_SC_NOT_FOUND, 0, "no such resource"));
    }
    if (mi_proc == NULL) {
        return mi_send_error(r, mi_store_error(r, MI_STORE_UNAVAILABLE, &err));
    }
    rv = mi_store_cc_id(mi_proc->store, q.dc->contact_center, &q.cc);
    if (rv == APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MI_LOGNO(00302)
                      "contact center '%s' is not provisioned in the database",
                      q.dc->contact_center);
        return mi_send_error(r, mi_error_set(&err, MI_SC_INTERNAL, HTTP_INTERNAL_SERVER_ERROR,
                                             "this contact center is not provisioned"));
    }
    if (rv != APR_SUCCESS) {
        return mi_send_error(r, mi_store_error(r, rv, &err));
    }
    return dispatch(&q);
}

int mi_read_json_body(request_rec *r, const mi_limits_t *lim, json_object **pbody,
                      mi_error_t *err)
{
    return read_json(r, lim, pbody, err);
}
