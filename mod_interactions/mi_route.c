/* mi_route.c — see mi_route.h */
#include <string.h>

#include <apr_strings.h>

#include "mi_route.h"

mi_method_e mi_route_method(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        return MI_M_GET;
    }
    if (strcmp(method, "POST") == 0) {
        return MI_M_POST;
    }
    if (strcmp(method, "PUT") == 0) {
        return MI_M_PUT;
    }
    return MI_M_OTHER;
}

/* Split @path into at most @max segments; empty segments (from "//" or a trailing "/")
 * are skipped.  Returns the count, or max + 1 when there are more. */
static int split(char *path, char **seg, int max)
{
    int n = 0;
    char *last = NULL;
    char *tok = apr_strtok(path, "/", &last);

    while (tok != NULL) {
        if (n == max) {
            return max + 1;
        }
        seg[n++] = tok;
        tok = apr_strtok(NULL, "/", &last);
    }
    return n;
}

static void found(mi_route_t *out, mi_route_e route, const char *param, const char *allow,
                  int method_ok)
{
    out->route = route;
    out->param = param;
    out->allow = allow;
    out->method_ok = method_ok;
}

int mi_route_match(mi_route_t *out, const char *method, const char *path, apr_pool_t *p)
{
    char *seg[5];
    char *copy = apr_pstrdup(p, path != NULL ? path : "");
    mi_method_e m = mi_route_method(method);
    int n;

    memset(out, 0, sizeof(*out));
    out->method = m;
    /* The push channel owns its whole subtree: the CometD client appends /handshake,
     * /connect, ... and the protocol dispatches on the message's channel, not the path. */
    if (strncmp(copy, "/notifications", 14) == 0 && (copy[14] == '\0' || copy[14] == '/')) {
        found(out, MI_R_NOTIFICATIONS, NULL, "GET, POST, OPTIONS",
              m == MI_M_GET || m == MI_M_POST || strcmp(method, "OPTIONS") == 0);
        return 1;
    }
    n = split(copy, seg, 4);
    if (n == 1 && strcmp(seg[0], "me") == 0) {
        found(out, MI_R_ME, NULL, "GET, POST", m == MI_M_GET || m == MI_M_POST);
    }
    else if (n == 3 && strcmp(seg[0], "me") == 0 && strcmp(seg[1], "channels") == 0) {
        found(out, MI_R_ME_CHANNEL, seg[2], "POST", m == MI_M_POST);
    }
    else if (n == 1 && strcmp(seg[0], "interactions") == 0) {
        found(out, MI_R_INTERACTIONS, NULL, "GET, POST", m == MI_M_GET || m == MI_M_POST);
    }
    else if (n == 2 && strcmp(seg[0], "interactions") == 0) {
        /* POST: a supervisor or admin moves the interaction (Transfer, PlaceInQueue, ...) */
        found(out, MI_R_INTERACTION, seg[1], "GET, POST, PUT",
              m == MI_M_GET || m == MI_M_POST || m == MI_M_PUT);
    }
    else if (n == 2 && strcmp(seg[0], "me") == 0 && strcmp(seg[1], "interactions") == 0) {
        found(out, MI_R_MY_INTERACTIONS, NULL, "GET, POST", m == MI_M_GET || m == MI_M_POST);
    }
    else if (n == 3 && strcmp(seg[0], "me") == 0 && strcmp(seg[1], "interactions") == 0) {
        found(out, MI_R_MY_INTERACTION, seg[2], "POST", m == MI_M_POST);
    }
    else if (n == 2 && strcmp(seg[0], "me") == 0 && strcmp(seg[1], "workbins") == 0) {
        found(out, MI_R_MY_WORKBINS, NULL, "GET", m == MI_M_GET);
    }
    else if (n == 3 && strcmp(seg[0], "me") == 0 && strcmp(seg[1], "workbins") == 0) {
        found(out, MI_R_MY_WORKBIN, seg[2], "GET", m == MI_M_GET);
    }
    else if (n == 1 && strcmp(seg[0], "agents") == 0) {
        found(out, MI_R_AGENTS, NULL, "GET", m == MI_M_GET);
    }
    else if (n == 4 && strcmp(seg[0], "agents") == 0 && strcmp(seg[2], "channels") == 0) {
        found(out, MI_R_AGENT_CHANNEL, seg[1], "POST", m == MI_M_POST);
        out->param2 = seg[3];
    }
    else if (n == 1 && strcmp(seg[0], "events") == 0) {
        found(out, MI_R_EVENTS, NULL, "GET", m == MI_M_GET);
    }
    else if (n == 1 && strcmp(seg[0], "queues") == 0) {
        found(out, MI_R_QUEUES, NULL, "GET", m == MI_M_GET);
    }
    else if (n == 3 && strcmp(seg[0], "queues") == 0 && strcmp(seg[2], "statistics") == 0) {
        found(out, MI_R_QUEUE_STATISTICS, seg[1], "GET", m == MI_M_GET);
    }
    else {
        return 0;
    }
    return 1;
}

int mi_route_match_any_base(mi_route_t *out, const char **pbase, const char *method,
                            const char *path, apr_pool_t *p)
{
    const char *s;

    *pbase = "";
    if (path == NULL || *path != '/') {
        return mi_route_match(out, method, path, p);
    }
    for (s = path; s != NULL; s = strchr(s + 1, '/')) {
        if (mi_route_match(out, method, s, p)) {
            *pbase = apr_pstrmemdup(p, path, (apr_size_t)(s - path));
            return 1;
        }
    }
    return mi_route_match(out, method, "", p);
}

int mi_route_is_write(const mi_route_t *r)
{
    return r->method == MI_M_POST || r->method == MI_M_PUT;
}
