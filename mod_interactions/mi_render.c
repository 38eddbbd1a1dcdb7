/* mi_render.c — see mi_render.h */
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "mi_caps.h"
#include "mi_json.h"
#include "mi_render.h"
#include "mi_status.h"

int mi_caller_from_json(mi_caller_t *c, json_object *caller)
{
    json_object *roles = mi_json_get(caller, "roles");
    size_t i, n;

    memset(c, 0, sizeof(*c));
    c->id = mi_json_get_str(caller, "id");
    if (c->id == NULL || roles == NULL || !json_object_is_type(roles, json_type_array)) {
        return 0;
    }
    n = json_object_array_length(roles);
    for (i = 0; i < n; i++) {
        unsigned int bit = mi_role_bit(json_object_get_string(json_object_array_get_idx(roles, i)));
        c->is_agent |= bit == MI_ROLE_AGENT;
        c->is_supervisor |= bit == MI_ROLE_SUPERVISOR;
        c->is_admin |= bit == MI_ROLE_ADMIN;
        c->is_apiuser |= bit == MI_ROLE_APIUSER;
    }
    return 1;
}

unsigned int mi_caller_roles(const mi_caller_t *c)
{
    return (c->is_agent ? MI_ROLE_AGENT : 0u) | (c->is_supervisor ? MI_ROLE_SUPERVISOR : 0u)
           | (c->is_admin ? MI_ROLE_ADMIN : 0u) | (c->is_apiuser ? MI_ROLE_APIUSER : 0u);
}

const char *mi_render_uri(const char *base, const char *id, apr_pool_t *p)
{
    return apr_pstrcat(p, base, "/interactions/", id, NULL);
}

static int same_id(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Is the caller one of the agents a ring-all offer rings for besides its invitee
 * ("_ringing": ids)?  They may answer it as the invitee may. */
static int ringing(const char *id, json_object *snap)
{
    json_object *a = mi_json_get(snap, "_ringing");
    size_t i, n;

    if (id == NULL || a == NULL || !json_object_is_type(a, json_type_array)) {
        return 0;
    }
    n = json_object_array_length(a);
    for (i = 0; i < n; i++) {
        if (same_id(id, json_object_get_string(json_object_array_get_idx(a, i)))) {
            return 1;
        }
    }
    return 0;
}

static void copy(json_object *to, json_object *from, const char *key)
{
    json_object *v = NULL;

    if (json_object_object_get_ex(from, key, &v)) {
        json_object_object_add(to, key, json_object_get(v));
    }
}

json_object *mi_render_interaction(json_object *snap, const mi_caller_t *caller,
                                   const char *base, const char *state_override,
                                   apr_pool_t *p)
{
    static const char *const head[] = { "id", NULL };
    static const char *const tail[] = {
        "queue", "workbin", "assignedTo", "parentId", "userData", "subject", "from", "to",
        "receivedDate", "updatedDate", "priority", "cc", "body", NULL
    };
    json_object *o = json_object_new_object();
    const char *id = mi_json_get_str(snap, "id");
    const char *const *k;
    mi_caps_ctx_t ctx;

    for (k = head; *k != NULL; k++) {
        copy(o, snap, *k);
    }
    json_object_object_add(o, "uri", json_object_new_string(mi_render_uri(base, id ? id : "", p)));
    copy(o, snap, "mediaType");
    memset(&ctx, 0, sizeof(ctx));
    if (state_override != NULL) {
        json_object_object_add(o, "state", json_object_new_string(state_override));
        json_object_object_add(o, "capabilities", json_object_new_array());
    }
    else {
        copy(o, snap, "state");
        ctx.state = mi_json_get_str(snap, "state");
        ctx.media = mi_json_get_str(snap, "mediaType");
        ctx.roles = mi_caller_roles(caller);
        ctx.is_invitee = same_id(caller->id, mi_json_get_str(snap, "_invitee"))
                         || ringing(caller->id, snap);
        ctx.is_owner = same_id(caller->id, mi_json_get_str(snap, "_owner"));
        ctx.may_use_workbin = mi_json_get_str(snap, "workbin") != NULL
                              && (mi_json_get_str(snap, "_workbinOwner") == NULL
                                  || same_id(caller->id, mi_json_get_str(snap, "_workbinOwner")));
        json_object_object_add(o, "capabilities", mi_caps_json(&ctx));
    }
    for (k = tail; *k != NULL; k++) {
        copy(o, snap, *k);
    }
    /* waiting work nobody has the skills for says so (the store sends "_unservable" only
     * then); shown to whoever may read it, so every recipient's message stays the same */
    if (json_object_get_boolean(mi_json_get(snap, "_unservable"))) {
        json_object_object_add(o, "unservable", json_object_new_boolean(1));
    }
    return o;
}

json_object *mi_render_interactions(json_object *snaps, const mi_caller_t *caller,
                                    const char *base, apr_pool_t *p)
{
    json_object *a = json_object_new_array();
    size_t i, n = snaps != NULL ? json_object_array_length(snaps) : 0;

    for (i = 0; i < n; i++) {
        json_object_array_add(a, mi_render_interaction(json_object_array_get_idx(snaps, i),
                                                       caller, base, NULL, p));
    }
    return a;
}

json_object *mi_render_uris(json_object *snaps, const char *base, apr_pool_t *p)
{
    json_object *a = json_object_new_array();
    size_t i, n = snaps != NULL ? json_object_array_length(snaps) : 0;

    for (i = 0; i < n; i++) {
        const char *id = mi_json_get_str(json_object_array_get_idx(snaps, i), "id");
        json_object_array_add(a, json_object_new_string(mi_render_uri(base, id ? id : "", p)));
    }
    return a;
}

json_object *mi_render_result(json_object *res, const char *base, int uris_only, apr_pool_t *p)
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

/* ------------------------------------------------------------------ the origin of uris */

/* A host as a uri may carry it: a DNS name or IPv4 address (letters, digits, '-', '.'),
 * or an IPv6 literal in brackets; then an optional :port of 1 to 65535. */
static int host_port_valid(const char *s, apr_size_t n)
{
    apr_size_t i = 0, host_end;
    long port = 0;

    if (n == 0 || n > 262) {
        return 0;
    }
    if (s[0] == '[') {
        for (i = 1; i < n && s[i] != ']'; i++) {
            if (!apr_isxdigit(s[i]) && s[i] != ':' && s[i] != '.') return 0;
        }
        if (i >= n || i == 1) return 0;
        host_end = ++i;
    }
    else {
        for (; i < n && s[i] != ':'; i++) {
            if (!apr_isalnum(s[i]) && s[i] != '-' && s[i] != '.') return 0;
        }
        if (i == 0 || i > 253) return 0;
        host_end = i;
    }
    if (host_end == n) {
        return 1;
    }
    if (s[host_end] != ':' || host_end + 1 == n || n - host_end - 1 > 5) {
        return 0;
    }
    for (i = host_end + 1; i < n; i++) {
        if (!apr_isdigit(s[i])) return 0;
        port = port * 10 + (s[i] - '0');
    }
    return port >= 1 && port <= 65535;
}

int mi_render_origin_valid(const char *origin)
{
    const char *rest;

    if (origin == NULL) {
        return 0;
    }
    if (strncmp(origin, "https://", 8) == 0) {
        rest = origin + 8;
    }
    else if (strncmp(origin, "http://", 7) == 0) {
        rest = origin + 7;
    }
    else {
        return 0;
    }
    return host_port_valid(rest, strlen(rest));
}

const char *mi_render_origin(const char *scheme, const char *host, int port, apr_pool_t *p)
{
    int https = scheme != NULL && strcmp(scheme, "https") == 0;
    const char *h = host != NULL && *host != '\0' ? host : "localhost";

    if (strchr(h, ':') != NULL && h[0] != '[') {
        h = apr_pstrcat(p, "[", h, "]", NULL);     /* an IPv6 literal */
    }
    if (port <= 0 || port == (https ? 443 : 80)) {
        return apr_pstrcat(p, https ? "https" : "http", "://", h, NULL);
    }
    return apr_psprintf(p, "%s://%s:%d", https ? "https" : "http", h, port);
}

/* The first element of a comma-separated header value, without surrounding blanks. */
static const char *first_element(const char *v, apr_size_t *plen)
{
    const char *end;

    while (*v == ' ' || *v == '\t') v++;
    end = strchr(v, ',');
    if (end == NULL) end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
    *plen = (apr_size_t)(end - v);
    return v;
}

const char *mi_render_forwarded_origin(const char *proto, const char *host, const char *scheme,
                                       apr_pool_t *p)
{
    const char *h, *pr;
    apr_size_t hn, pn;

    if (host == NULL) {
        return NULL;
    }
    h = first_element(host, &hn);
    if (!host_port_valid(h, hn)) {
        return NULL;
    }
    if (proto != NULL) {
        pr = first_element(proto, &pn);
        if (pn == 5 && strncasecmp(pr, "https", 5) == 0) {
            scheme = "https";
        }
        else if (pn == 4 && strncasecmp(pr, "http", 4) == 0) {
            scheme = "http";
        }
    }
    return apr_pstrcat(p, scheme != NULL && strcmp(scheme, "https") == 0 ? "https" : "http",
                       "://", apr_pstrmemdup(p, h, hn), NULL);
}
