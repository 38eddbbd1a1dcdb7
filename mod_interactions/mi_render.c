/* mi_render.c — see mi_render.h */
#include <string.h>

#include <apr_strings.h>

#include "mi_caps.h"
#include "mi_json.h"
#include "mi_render.h"

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
        const char *r = json_object_get_string(json_object_array_get_idx(roles, i));
        if (r == NULL) continue;
        if (strcmp(r, "agent") == 0) c->is_agent = 1;
        else if (strcmp(r, "supervisor") == 0) c->is_supervisor = 1;
        else if (strcmp(r, "admin") == 0) c->is_admin = 1;
        else if (strcmp(r, "apiuser") == 0) c->is_apiuser = 1;
    }
    return 1;
}

const char *mi_render_uri(const char *base, const char *id, apr_pool_t *p)
{
    return apr_pstrcat(p, base, "/interactions/", id, NULL);
}

static int same_id(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
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
        ctx.is_agent = caller->is_agent;
        ctx.is_invitee = same_id(caller->id, mi_json_get_str(snap, "_invitee"));
        ctx.is_owner = same_id(caller->id, mi_json_get_str(snap, "_owner"));
        ctx.may_use_workbin = mi_json_get_str(snap, "workbin") != NULL
                              && (mi_json_get_str(snap, "_workbinOwner") == NULL
                                  || same_id(caller->id, mi_json_get_str(snap, "_workbinOwner")));
        json_object_object_add(o, "capabilities", mi_caps_json(&ctx));
    }
    for (k = tail; *k != NULL; k++) {
        copy(o, snap, *k);
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
