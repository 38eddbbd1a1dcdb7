/* mod_interactions_webhook.h — the webhook worker thread of each child process. */
#ifndef MOD_INTERACTIONS_WEBHOOK_H
#define MOD_INTERACTIONS_WEBHOOK_H

#include <httpd.h>

#include "mod_interactions.h"

/** Start this child's webhook thread (one process of the server delivers: mi_webhook.h). */
apr_status_t mi_ap_webhook_start(mi_ap_process_t *proc, server_rec *s, apr_pool_t *pchild);

/** Ask the webhook thread to stop soon (graceful stop). */
void mi_ap_webhook_wake_for_stop(mi_ap_process_t *proc);

#endif
