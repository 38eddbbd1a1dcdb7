/* fuzz_request.c — libFuzzer target for the REST request decoder of the pure core.
 *
 * The input is an HTTP-like request:
 *
 *     METHOD SP PATH[?QUERY] LF
 *     BODY
 *
 * (no LF: no body; a CR before the LF is dropped).  PATH is relative to the location's base
 * and already percent-decoded, as the handler gets it from httpd.  The target runs what
 * mod_interactions_rest.c does with a request before it asks the database — the same core
 * functions, not a copy:
 *
 *   mi_route_match (or mi_route_match_any_base); the UTF-8 check of the path parameter;
 *   for writes mi_request_parse_body (size and depth limits, strict JSON); then
 *   mi_request_decode (mi_validate_list_query / _create / _operation / _update / _channel,
 *   path ids, workbin names); then mi_request_resolve against a fixed base (GWS queue uris);
 *
 * and checks what must hold for every input, whatever the verdict:
 *
 *   - a refusal has a known statusCode and a message, and leaves no arguments behind;
 *   - the error envelope the client gets is strict, valid JSON (mi_json_parse accepts it);
 *   - accepted arguments serialize to strict JSON too, carry no NUL characters, respect the
 *     string and user-data limits, and hold an id/token only when it is well-formed;
 *   - nothing leaks (LeakSanitizer) and nothing reads out of bounds (ASan) or hits undefined
 *     behaviour (UBSan).
 *
 * Every input is decoded twice: with the default limits and PATH below a known base, and
 * with tight limits (so the limit paths are reached by small inputs) and PATH as a full path
 * whose API base the handler must find (mi_route_match_any_base).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>

#include "harness.h"
#include "mi_json.h"
#include "mi_limits.h"
#include "mi_request.h"
#include "mi_route.h"
#include "mi_status.h"
#include "mi_validate.h"

const char fuzz_target[] = "fuzz_request";

apr_status_t fuzz_setup(apr_pool_t *root)
{
    (void)root;
    return APR_SUCCESS;
}

static int known_sc(int sc)
{
    switch (sc) {
    case MI_SC_MISSING: case MI_SC_STATE: case MI_SC_FORBIDDEN: case MI_SC_INTERNAL:
    case MI_SC_PERMISSION: case MI_SC_NOT_FOUND: case MI_SC_INVALID: case MI_SC_READ_ONLY:
    case MI_SC_EXISTS: case MI_SC_UNAUTHENTICATED:
        return 1;
    default:
        return 0;
    }
}

static void check_refusal(int ok, json_object *args, const mi_error_t *err, apr_pool_t *p)
{
    CHECK(!ok);
    CHECK(args == NULL);
    CHECK(known_sc(err->sc));
    CHECK(err->message != NULL && err->message[0] != '\0');
    fuzz_check_strict_json(mi_envelope_error(p, err), p);
}

static apr_size_t chars_of(json_object *obj, const char *key)
{
    const char *s = mi_json_get_str(obj, key);

    return s != NULL ? mi_utf8_chars(s, strlen(s)) : 0;
}

/* What every set of accepted arguments must look like on its way to SQL. */
static void check_args(json_object *args, const mi_limits_t *lim, apr_pool_t *p)
{
    json_object *ud;
    size_t i, n;

    CHECK(args != NULL && json_object_is_type(args, json_type_object));
    CHECK(!mi_json_has_nul(args));
    fuzz_check_strict_json(args, p);
    CHECK(chars_of(args, "subject") <= lim->max_string);
    CHECK(chars_of(args, "from") <= lim->max_string);
    CHECK(chars_of(args, "queueName") <= MI_MAX_NAME_CHARS);
    CHECK(chars_of(args, "workbin") <= MI_MAX_NAME_CHARS);
    CHECK(chars_of(args, "user") <= MI_MAX_NAME_CHARS);
    CHECK(chars_of(args, "externalId") <= MI_MAX_NAME_CHARS);
    if (mi_json_get(args, "mediaType") != NULL) {
        CHECK(mi_validate_token(mi_json_get_str(args, "mediaType")));
    }
    if (mi_json_get(args, "media") != NULL) {
        CHECK(mi_validate_token(mi_json_get_str(args, "media")));
    }
    if ((ud = mi_json_get(args, "userData")) != NULL) {
        apr_size_t size;
        CHECK(json_object_is_type(ud, json_type_object));
        mi_json_dump_len(ud, p, &size);
        CHECK(size + mi_json_number_growth(ud) <= lim->max_user_data);
        json_object_object_foreach(ud, k, v) {
            apr_size_t kc = mi_utf8_chars(k, strlen(k));
            (void)v;
            CHECK(kc >= 1 && kc <= MI_MAX_KEY_CHARS);
        }
    }
    for (i = 0; i < 2; i++) {
        json_object *list = mi_json_get(args, i == 0 ? "to" : "cc");
        if (list == NULL) continue;
        CHECK(json_object_is_type(list, json_type_array));
        n = json_object_array_length(list);
        CHECK(n <= MI_MAX_ADDRESSES);
        while (n-- > 0) {
            json_object *e = json_object_array_get_idx(list, n);
            CHECK(json_object_is_type(e, json_type_string));
            CHECK(json_object_get_string_len(e) > 0);
        }
    }
}

/* The handler routes a path below a known base (the <Location> that holds our directives)
 * with mi_route_match, and a full path whose base it must find (contact center set on the
 * <VirtualHost>) with mi_route_match_any_base. */
static int match(mi_route_t *out, const char *method, const char *path, int any_base,
                 apr_pool_t *p)
{
    const char *base = NULL;
    mi_route_t again;
    apr_size_t n;

    if (!any_base) {
        return mi_route_match(out, method, path, p);
    }
    if (!mi_route_match_any_base(out, &base, method, path, p)) {
        return 0;
    }
    /* the base is a prefix of the path, ending where a resource path starts */
    CHECK(base != NULL);
    n = strlen(base);
    CHECK(strncmp(path, base, n) == 0);
    CHECK(path[n] == '/' || path[n] == '\0');
    CHECK(mi_route_match(&again, method, path + n, p));
    CHECK(again.route == out->route && again.method_ok == out->method_ok);
    CHECK((again.param == NULL) == (out->param == NULL));
    CHECK(again.param == NULL || strcmp(again.param, out->param) == 0);
    return 1;
}

static void decode(const char *method, const char *path, const char *query, const char *body,
                   apr_size_t blen, const mi_limits_t *lim, int any_base, apr_pool_t *p)
{
    mi_route_t route;
    mi_error_t err = { 0, 0, NULL };
    json_object *json = NULL;
    mi_decoded_t d;
    int ok;

    if (!match(&route, method, path, any_base, p)) {
        return;   /* 404 */
    }
    CHECK(route.route != MI_R_NONE);
    CHECK(route.allow != NULL);
    if (route.param != NULL) {
        CHECK(route.param[0] != '\0' && strchr(route.param, '/') == NULL);
    }
    if (!route.method_ok || route.route == MI_R_NOTIFICATIONS) {
        return;   /* 405 with Allow; the push channel has its own target (fuzz_bayeux) */
    }
    if (route.param != NULL && !mi_utf8_valid(route.param, strlen(route.param))) {
        return;   /* 404 */
    }
    /* exactly the handler's steps: mi_request_parse_body for writes, then mi_request_decode */
    if (mi_request_wants_body(&route)) {
        ok = mi_request_parse_body(&json, body, blen, lim, p, &err);
        if (!ok) {
            CHECK(json == NULL);
            check_refusal(ok, NULL, &err, p);
            return;
        }
        CHECK(json != NULL);
        CHECK(mi_utf8_valid(body, blen));
        /* no NUL anywhere in what is accepted: "Complete\u0000x" must not pass for Complete */
        CHECK(!mi_json_has_nul(json));
    }
    ok = mi_request_decode(&d, &route, query, json, lim, p, &err);
    if (!ok) {
        check_refusal(ok, d.args, &err, p);
        return;
    }
    CHECK(d.op > MI_OP_NONE && d.op < MI_OP__COUNT && mi_op(d.op)->entry != NULL);
    ok = mi_request_resolve(&d, "http://cc.example:8080/api/v2", p, &err);
    if (!ok) {
        CHECK(err.sc == MI_SC_INVALID && err.message != NULL);
        CHECK(mi_utf8_valid(err.message, strlen(err.message)));
        return;
    }
    /* a queue uri reaches the store only as the name it resolved to */
    CHECK(mi_json_get(d.args, "_queueUri") == NULL
          && mi_json_get(d.args, "_queueUriField") == NULL);
    if (mi_op_is(d.op, MI_OPF_NAMED)) {
        /* the GWS fields accepted and ignored go no further than validation */
        int i, n;
        const mi_gws_field_t *g = mi_validate_gws_fields(&n);
        for (i = 0; i < n; i++) {
            CHECK(g[i].used || mi_json_get(d.args, g[i].name) == NULL);
        }
    }
    if (d.args != NULL) {
        check_args(d.args, lim, p);
    }
    if (d.op == MI_OP_LIST || d.op == MI_OP_MY_LIST) {
        long long limit = mi_json_get_int(d.args, "limit", -1);
        CHECK(limit >= 1 && limit <= lim->max_page);
        CHECK(mi_json_get_int(d.args, "offset", -1) >= 0);
    }
    if (mi_json_get(d.args, "id") != NULL) {
        CHECK(mi_validate_id(mi_json_get_str(d.args, "id")));
    }
    if (d.op == MI_OP_ME_STATE && mi_json_get(d.args, "channels") != NULL) {
        /* a session names no more channels than an agent may have, each a media token */
        json_object *chs = mi_json_get(d.args, "channels");
        size_t i, n = json_object_array_length(chs);
        CHECK(n >= 1 && n <= (size_t)lim->max_channels);
        for (i = 0; i < n; i++) {
            CHECK(mi_validate_token(json_object_get_string(json_object_array_get_idx(chs, i))));
        }
    }
    if (mi_op_is(d.op, MI_OPF_NAMED)) {
        mi_op_e op = mi_op_parse(mi_json_get_str(d.args, "operationName"));
        CHECK(op > MI_OP_NONE && op < MI_OP__COUNT);
        CHECK(op == d.op);
        CHECK(route.route == MI_R_MY_INTERACTION || mi_op_is(op, MI_OPF_NO_ID));
    }
}

int fuzz_one(const uint8_t *data, size_t size, apr_pool_t *p)
{
    static const mi_limits_t defaults = {
        MI_DEFAULT_MAX_BODY, MI_DEFAULT_MAX_DEPTH, MI_DEFAULT_MAX_STRING,
        MI_DEFAULT_MAX_USER_DATA, MI_DEFAULT_MAX_PAGE, MI_DEFAULT_PAGE, MI_DEFAULT_MAX_PAGE_BYTES,
        MI_DEFAULT_MAX_CHANNELS
    };
    static const mi_limits_t tight = { 256, 4, 20, 64, 50, 10, 1024, 2 };
    const char *in = (const char *)data, *nl, *sp, *qm;
    apr_size_t llen, blen;
    char *method, *path, *query = NULL, *body;

    nl = memchr(in, '\n', size);
    llen = nl != NULL ? (apr_size_t)(nl - in) : size;
    /* httpd never hands a module a request line with NUL bytes */
    if (memchr(in, '\0', llen) != NULL) {
        return -1;
    }
    if (llen > 0 && in[llen - 1] == '\r') {
        llen--;
    }
    sp = memchr(in, ' ', llen);
    if (sp == NULL) {
        return -1;
    }
    method = apr_pstrmemdup(p, in, (apr_size_t)(sp - in));
    path = apr_pstrmemdup(p, sp + 1, llen - (apr_size_t)(sp + 1 - in));
    if ((qm = strchr(path, '?')) != NULL) {
        query = (char *)qm + 1;
        path[qm - path] = '\0';
    }
    /* the handler reads the body into a NUL-terminated pool buffer */
    blen = nl != NULL ? size - (apr_size_t)(nl + 1 - in) : 0;
    body = apr_pstrmemdup(p, nl != NULL ? nl + 1 : "", blen);

    decode(method, path, query, body, blen, &defaults, 0, p);
    if (path[0] == '/') {   /* httpd's r->uri, a full path, starts with '/' */
        decode(method, path, query, body, blen, &tight, 1, p);
    }
    return 0;
}
