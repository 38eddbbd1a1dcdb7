/* mod_interactions_rest.c — the REST handler: HTTP in, core calls, HTTP out.
 *
 * Everything that can be decided without httpd lives in the core (routing, decoding into an
 * operation of mi_ops.h, rendering); this file routes the request, asks the store, and writes
 * the answer through mod_interactions_http.c.  Every answer, success or failure, is the JSON
 * envelope.  The push channel's paths go to mod_interactions_push.c.
 */
#include <httpd.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mi_events.h"
#include "mi_json.h"
#include "mi_render.h"
#include "mi_request.h"
#include "mi_route.h"
#include "mi_validate.h"
#include "mod_interactions.h"
#include "mod_interactions_config.h"
#include "mod_interactions_db.h"
#include "mod_interactions_http.h"
#include "mod_interactions_push.h"
#include "mod_interactions_rest.h"
#include "mod_interactions_status.h"

/* ------------------------------------------------------------------ the handler */

typedef struct {
    request_rec *r;
    const mi_ap_dir_conf_t *dc;
    mi_limits_t lim;
    mi_route_t route;
    const char *base;      /* absolute API base for uris */
    int cc;
    mi_ap_process_t *proc; /* this child's state of the location's database */
} mi_req_t;

/* Answer with the error envelope for statusCode @sc (@http 0: the contract's status). */
static int refuse(request_rec *r, int sc, int http, const char *message)
{
    mi_error_t err;

    return mi_ap_http_send_error(r, mi_error_set(&err, sc, http, message));
}

/* One API call: store, then either the error envelope or the rendered result. */
static int call(mi_req_t *q, mi_op_e op, json_object *args, int uris_only)
{
    request_rec *r = q->r;
    json_object *res = NULL;
    mi_error_t err;
    apr_status_t rv;
    int sc;

    if (op == MI_OP_EVENTS) {
        /* the event feed may be held for news, like a push connect (mi_events.h) */
        mi_events_req_t ev;

        ev.store = q->proc->store;
        ev.waiters = q->proc->waiters;
        ev.cc = q->cc;
        ev.login = r->user;
        ev.args = args;
        ev.max_depth = q->lim.max_depth;
        rv = mi_events_get(&ev, r->pool, &res);
    }
    else {
        rv = mi_store_api(q->proc->store, q->cc, r->user, op, args, q->lim.max_depth, r->pool, &res);
    }
    if (rv != APR_SUCCESS) {
        return mi_ap_http_send_error(r, mi_ap_http_store_error(rv, &err));
    }
    sc = (int)mi_json_get_int(res, "statusCode", MI_SC_INTERNAL);
    if (sc != MI_SC_OK) {
        mi_error_set(&err, sc, 0, mi_json_get_str(res, "statusMessage"));
        return mi_ap_http_send_error(r, &err);
    }
    if (mi_op_is(op, MI_OPF_WRITE) && q->proc->on_change != NULL) {
        /* a write: the push channel looks for news now rather than on its next tick */
        q->proc->on_change(q->proc);
    }
    return mi_ap_http_send_json(r, HTTP_OK, mi_render_result(res, q->base, uris_only, r->pool));
}

/* Read what the route needs, let the core decode it, and make the store call. */
static int dispatch(mi_req_t *q)
{
    json_object *body = NULL;
    mi_decoded_t d;
    mi_error_t err;

    mi_ap_status_op(q->r, mi_request_route_op(&q->route));
    if (q->route.route == MI_R_NOTIFICATIONS) {
        return mi_ap_push_handler(q->r, q->cc, q->base, q->dc, &q->lim);
    }
    if ((mi_request_wants_body(&q->route) && !mi_ap_http_read_json(q->r, &q->lim, &body, &err))
        || !mi_request_decode(&d, &q->route, q->r->args, body, &q->lim, q->r->pool, &err)
        || !mi_request_resolve(&d, q->base, q->r->pool, &err)) {
        return mi_ap_http_send_error(q->r, &err);
    }
    mi_ap_status_op(q->r, d.op);
    return call(q, d.op, d.args, d.uris_only);
}

int mi_ap_rest_handler(request_rec *r)
{
    mi_req_t q;
    mi_error_t err;
    const char *rel, *base;
    apr_size_t blen;
    apr_status_t rv;
    int found;

    if (r->handler == NULL || strcmp(r->handler, MI_AP_HANDLER) != 0) {
        return DECLINED;
    }
    memset(&q, 0, sizeof(q));
    q.r = r;
    q.dc = mi_ap_config_dir(r);
    if (q.dc->contact_center == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MI_LOGNO(00301)
                      "SetHandler " MI_AP_HANDLER " without InteractionsContactCenter");
        return refuse(r, MI_SC_INTERNAL, HTTP_INTERNAL_SERVER_ERROR,
                      "this location serves no contact center");
    }
    mi_ap_config_limits(q.dc, &q.lim);

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
    q.base = mi_ap_http_public_base(r, q.dc, base);
    if (!found) {
        return refuse(r, MI_SC_NOT_FOUND, 0, "no such resource");
    }
    if (!q.route.method_ok) {
        apr_table_setn(r->headers_out, "Allow", q.route.allow);
        return refuse(r, MI_SC_FORBIDDEN, HTTP_METHOD_NOT_ALLOWED,
                      apr_psprintf(r->pool, "%s is not allowed here; use %s", r->method,
                                   q.route.allow));
    }
    if (r->user == NULL || *r->user == '\0' || strlen(r->user) > 255
        || !mi_utf8_valid(r->user, strlen(r->user))) {
        return refuse(r, MI_SC_UNAUTHENTICATED, 0, "not authenticated");
    }
    if (q.route.param != NULL && !mi_utf8_valid(q.route.param, strlen(q.route.param))) {
        return refuse(r, MI_SC_NOT_FOUND, 0, "no such resource");
    }
    q.proc = mi_ap_db_proc(r);
    if (q.proc == NULL) {
        return mi_ap_http_send_error(r, mi_ap_http_store_error(MI_STORE_UNAVAILABLE, &err));
    }
    rv = mi_store_cc_id(q.proc->store, q.dc->contact_center, &q.cc);
    if (rv == APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MI_LOGNO(00302)
                      "contact center '%s' is not provisioned in the database",
                      q.dc->contact_center);
        return refuse(r, MI_SC_INTERNAL, HTTP_INTERNAL_SERVER_ERROR,
                      "this contact center is not provisioned");
    }
    if (rv != APR_SUCCESS) {
        return mi_ap_http_send_error(r, mi_ap_http_store_error(rv, &err));
    }
    return dispatch(&q);
}
