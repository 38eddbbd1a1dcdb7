/* mod_interactions_rest.h — the handler of "SetHandler interactions": the REST API, and the
 * push channel's requests handed to mod_interactions_push.c. */
#ifndef MOD_INTERACTIONS_REST_H
#define MOD_INTERACTIONS_REST_H

#include <httpd.h>

/* SetHandler name */
#define MI_AP_HANDLER "interactions"

/** The handler hook. */
int mi_ap_rest_handler(request_rec *r);

#endif
