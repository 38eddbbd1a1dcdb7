/* mod_interactions_maint.h — the maintenance thread of each child process. */
#ifndef MOD_INTERACTIONS_MAINT_H
#define MOD_INTERACTIONS_MAINT_H

#include <httpd.h>

#include "mod_interactions.h"

/** Start this child's maintenance thread (offer timeouts, stuck routing, session expiry). */
apr_status_t mi_ap_maint_start(mi_ap_process_t *proc, server_rec *s, apr_pool_t *pchild);

/** Ask the maintenance thread to stop soon (graceful stop). */
void mi_ap_maint_wake_for_stop(mi_ap_process_t *proc);

#endif
