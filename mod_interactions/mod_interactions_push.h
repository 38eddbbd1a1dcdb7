/* mod_interactions_push.h — the push channel's HTTP side and its per-child machinery. */
#ifndef MOD_INTERACTIONS_PUSH_H
#define MOD_INTERACTIONS_PUSH_H

#include <httpd.h>

#include "mi_limits.h"
#include "mod_interactions.h"
#include "mod_interactions_config.h"

/** The CometD/Bayeux endpoint {base}/notifications[/...]: the caller is authenticated and
 *  @cc resolved; @base is the absolute API base. */
int mi_ap_push_handler(request_rec *r, int cc, const char *base, const mi_ap_dir_conf_t *dc,
                       const mi_limits_t *lim);

/** May a page of @origin (an Origin header) use the push channel with the browser's
 *  credentials: is it this site (scheme and Host of @r) or listed in InteractionsAllowOrigin? */
int mi_ap_push_origin_allowed(request_rec *r, const mi_ap_dir_conf_t *dc, const char *origin);

/** If @r is a JSONP request of the push channel, drop its query (which holds a clientId)
 *  from what the access log and server-status show. */
void mi_ap_push_hide_query(request_rec *r);

/** child_init: the waiter registry, the Bayeux server and the listener thread of this child
 *  (stopped by a pre-cleanup of @pchild). */
void mi_ap_push_child_init(apr_pool_t *pchild, server_rec *s, mi_ap_process_t *proc);

/** child_stopping: answer every held connect now. */
void mi_ap_push_child_stopping(apr_pool_t *pchild, int graceful);

#endif
