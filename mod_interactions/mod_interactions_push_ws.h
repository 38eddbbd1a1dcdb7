/* mod_interactions_push_ws.h — CometD's websocket transport: the push channel over one WebSocket
 * connection per client. */
#ifndef MOD_INTERACTIONS_PUSH_WS_H
#define MOD_INTERACTIONS_PUSH_WS_H

#include <httpd.h>

#include "mi_limits.h"
#include "mod_interactions_config.h"

/** Is @r a WebSocket upgrade request (Upgrade: websocket)? */
int mi_ap_push_ws_is_upgrade(request_rec *r);

/** Answer the upgrade @r of the push channel at {base}/notifications (the caller is
 *  authenticated and @cc resolved; @base is the absolute API base for uris): refuse it with
 *  the JSON envelope, or switch protocols and serve Bayeux messages on the connection until
 *  it closes.  Returns the handler's status. */
int mi_ap_push_ws_handler(request_rec *r, int cc, const char *base, const mi_ap_dir_conf_t *dc,
                     const mi_limits_t *lim);

#endif
