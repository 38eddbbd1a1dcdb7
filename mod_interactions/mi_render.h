/* mi_render.h — the interaction object of the contract, built from a store snapshot.
 *
 * The store returns interactions as snapshots: the public fields plus a few internal ones
 * (prefixed "_": owner, invitee and workbin owner ids) that say how the caller relates to
 * the interaction.  Rendering adds "uri" and the caller's "capabilities" and drops the
 * internal fields, so REST responses, push messages and workbin content all share one shape.
 */
#ifndef MI_RENDER_H
#define MI_RENDER_H

#include <apr_pools.h>
#include <json-c/json.h>

/** Who is asking. */
typedef struct {
    const char *id;          /* user id */
    int is_agent;
    int is_supervisor;
    int is_admin;
    int is_apiuser;
} mi_caller_t;

/** Fill @c from a store "caller" object {"id":..,"roles":[..]}; returns 0 if malformed. */
int mi_caller_from_json(mi_caller_t *c, json_object *caller);

/** The caller's roles as MI_ROLE_* bits (mi_ops.h). */
unsigned int mi_caller_roles(const mi_caller_t *c);

/** Render @snap for @caller.  @base is the absolute API base ("http://host/api/v2"); when
 *  @state_override is given (push: "Revoked") it replaces the state and empties the
 *  capabilities.  Returns a new reference. */
json_object *mi_render_interaction(json_object *snap, const mi_caller_t *caller,
                                   const char *base, const char *state_override,
                                   apr_pool_t *p);

/** Render every snapshot of the array @snaps into a new array (new reference). */
json_object *mi_render_interactions(json_object *snaps, const mi_caller_t *caller,
                                    const char *base, apr_pool_t *p);

/** The success envelope for a store result @res ({"statusCode":0, "caller":{..}, ...}):
 *  "status":"ok" added, interactions (also a workbin's) rendered for the caller (uri,
 *  capabilities, no internal fields), or only their uris when @uris_only, "caller" dropped,
 *  and a created interaction named by its uri too.  Bound to @p. */
json_object *mi_render_result(json_object *res, const char *base, int uris_only, apr_pool_t *p);

/** The uri of interaction @id: base + "/interactions/" + id (pool string). */
const char *mi_render_uri(const char *base, const char *id, apr_pool_t *p);

/** An array of uris for the snapshots in @snaps (new reference). */
json_object *mi_render_uris(json_object *snaps, const char *base, apr_pool_t *p);

/** The origin interaction uris start with: @scheme ("http" or "https") :// @host, with
 *  :@port unless it is the scheme's default or 0 (an IPv6 literal gets its brackets). */
const char *mi_render_origin(const char *scheme, const char *host, int port, apr_pool_t *p);

/** The origin a trusted proxy names in X-Forwarded-Proto (@proto, may be NULL: @scheme
 *  stays) and X-Forwarded-Host (@host: the first element, a plain host[:port]), or NULL when
 *  @host is missing or anything but a host and port. */
const char *mi_render_forwarded_origin(const char *proto, const char *host, const char *scheme,
                                       apr_pool_t *p);

/** Is @origin http(s)://host[:port], nothing more? */
int mi_render_origin_valid(const char *origin);

#endif
