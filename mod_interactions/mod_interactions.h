/* mod_interactions.h — the module record and what every glue file shares: this child's
 * state.  Each glue file has its own header for what it offers the others
 * (mod_interactions_http.h, _rest.h, _push.h, _status.h, _authn.h, _maint.h, _webhook.h,
 * _config.h).
 */
#ifndef MOD_INTERACTIONS_H
#define MOD_INTERACTIONS_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "mi_log.h"
#include "mi_store.h"

extern module AP_MODULE_DECLARE_DATA interactions_module;
#ifndef MI_AP_MODULE_MAIN   /* mod_interactions.c declares the module itself */
APLOG_USE_MODULE(interactions);
#endif

struct mi_maint_t;
struct mi_push_waiters_t;
struct mi_push_t;
struct mi_push_listener_t;
struct mi_webhook_t;

/** Per child process state of one database, built in child_init (never in the post_config
 *  dry run): one for each distinct InteractionsDatabase (mod_interactions_db.h). */
typedef struct mi_ap_process_t mi_ap_process_t;
struct mi_ap_process_t {
    apr_pool_t *pool;
    mi_store_t *store;
    struct mi_maint_t *maint;        /* the maintenance thread */
    struct mi_push_waiters_t *waiters;   /* held /meta/connect requests */
    struct mi_push_t *push;          /* the Bayeux server */
    struct mi_push_listener_t *listener; /* follows the history stream; NULL when it failed */
    struct mi_webhook_t *webhook;    /* the webhook worker thread; NULL when it failed */
    /* Called (from any thread) after this process changed interactions: a REST write, or
     * background work such as expired offers; the push channel sets it to wake its
     * listener. */
    void (*on_change)(mi_ap_process_t *proc);
    int db;                          /* the database's index (mod_interactions_db.h) */
    const char *db_label;            /* and its name for logs and statistics */
};

/** This child's state of the first database listed (the main server's when it names one);
 *  NULL before child_init or when it failed.  A request uses its own location's database:
 *  mi_ap_db_proc(r) (mod_interactions_db.h). */
extern mi_ap_process_t *mi_ap_proc;

#endif
