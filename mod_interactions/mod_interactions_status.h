/* mod_interactions_status.h — the operations view: counters in shared memory, a section of
 * server-status and the Prometheus endpoint ("SetHandler interactions-metrics"). */
#ifndef MOD_INTERACTIONS_STATUS_H
#define MOD_INTERACTIONS_STATUS_H

#include <httpd.h>

#include "mi_ops.h"
#include "mi_pgpool.h"
#include "mod_interactions.h"

/** post_config: the shared memory of the counters (not in the dry run). */
apr_status_t mi_ap_status_post_config(apr_pool_t *pconf, server_rec *s);

/** child_init: this child claims its slot. */
void mi_ap_status_child_init(apr_pool_t *pchild, server_rec *s);

/** The operation this request is counted under (MI_OP_NONE until set). */
void mi_ap_status_op(request_rec *r, mi_op_e op);

/** Count a response of this request: its HTTP status and statusCode. */
void mi_ap_status_count(request_rec *r, int status, int sc);

/** A push WebSocket connection opened (@open 1) or closed (-1); text frames received (@in)
 *  and sent (@out). */
void mi_ap_status_ws(int open, apr_uint64_t in, apr_uint64_t out);

/** Publish this child's figures (pools, push channel; each database's and their sums) and
 *  a maintenance run of @proc's database (if @ran) to the statistics. */
void mi_ap_status_publish(mi_ap_process_t *proc, int ran, int changes);

/** The metrics handler and the server-status section. */
void mi_ap_status_register_hooks(apr_pool_t *p);

#endif
