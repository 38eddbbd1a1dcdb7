/* mi_route.h — REST path routing, independent of httpd.
 *
 * Paths are relative to the location's base (e.g. "/api/v2") and already percent-decoded
 * by httpd.  A path that names a resource but not with this method is MI_ROUTE_MATCHED with
 * method_ok = 0, so the handler can answer 405 with an Allow header.
 */
#ifndef MI_ROUTE_H
#define MI_ROUTE_H

#include <apr_pools.h>

typedef enum {
    MI_R_NONE = 0,
    MI_R_ME,               /* GET, POST /me */
    MI_R_ME_CHANNEL,       /* POST /me/channels/{media} */
    MI_R_INTERACTIONS,     /* GET, POST /interactions */
    MI_R_INTERACTION,      /* GET, POST, PUT /interactions/{id} */
    MI_R_MY_INTERACTIONS,  /* GET, POST /me/interactions */
    MI_R_MY_INTERACTION,   /* POST /me/interactions/{id} */
    MI_R_MY_WORKBINS,      /* GET  /me/workbins */
    MI_R_MY_WORKBIN,       /* GET  /me/workbins/{name} */
    MI_R_AGENTS,           /* GET  /agents */
    MI_R_AGENT_CHANNEL,    /* POST /agents/{userName}/channels/{media} */
    MI_R_NOTIFICATIONS,    /* POST, GET, OPTIONS /notifications[/...] (Bayeux) */
    MI_R_EVENTS,           /* GET  /events (the event feed) */
    MI_R_QUEUES,           /* GET  /queues */
    MI_R_QUEUE_STATISTICS  /* GET  /queues/{name}/statistics */
} mi_route_e;

typedef enum { MI_M_GET, MI_M_POST, MI_M_PUT, MI_M_OTHER } mi_method_e;

typedef struct {
    mi_route_e route;
    mi_method_e method;
    const char *param;     /* {id}, {media}, {name} or {userName}; NULL when the route has none */
    const char *param2;    /* the second one ({media} of /agents/{userName}/channels/{media}) */
    const char *allow;     /* the Allow header value for this path */
    int method_ok;         /* the path exists and accepts this method */
} mi_route_t;

/** Map an HTTP method name to mi_method_e (HEAD counts as GET). */
mi_method_e mi_route_method(const char *method);

/** Match @path for @method.  Returns 1 when the path names a resource (see method_ok),
 *  0 when it names nothing (404). */
int mi_route_match(mi_route_t *out, const char *method, const char *path, apr_pool_t *p);

/** Match a full request path whose API base is not known (the <Location> that set the
 *  handler holds none of our directives, e.g. the contact center is set on the
 *  <VirtualHost>): the base is the shortest prefix, ending at a '/', after which the rest
 *  names a resource.  *pbase receives it ("" for the root).  Returns as mi_route_match. */
int mi_route_match_any_base(mi_route_t *out, const char **pbase, const char *method,
                            const char *path, apr_pool_t *p);

/** Is @route one that changes state (so needs a JSON body)? */
int mi_route_is_write(const mi_route_t *r);

#endif
