/* mod_interactions_private.h — what the glue files share. */
#ifndef MOD_INTERACTIONS_PRIVATE_H
#define MOD_INTERACTIONS_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <util_filter.h>
#include <json-c/json.h>

#include "mi_limits.h"
#include "mi_log.h"
#include "mi_status.h"
#include "mi_store.h"
#include "mod_interactions_config.h"

extern module AP_MODULE_DECLARE_DATA interactions_module;
#ifndef MI_MODULE_MAIN   /* mod_interactions.c declares the module itself */
APLOG_USE_MODULE(interactions);
#endif

/* SetHandler names */
#define MI_HANDLER "interactions"

/* r->notes key naming the operation of a request, for the statistics */
#define MI_NOTE_OP "interactions-op"

/* r->notes key set when a request failed because the database was unavailable */
#define MI_NOTE_DB_DOWN "interactions-db-unavailable"

/* r->notes key set when the authn provider refused a login without a check (too many
 * failures); its value is the number of seconds until the lock ends */
#define MI_NOTE_AUTHN_LOCKED "interactions-authn-locked"

struct mi_push_waiters_t;
struct mi_push_t;
struct mi_push_listener_t;

/** Per child process state, built in child_init (never in the post_config dry run). */
typedef struct mi_process_t mi_process_t;
struct mi_process_t {
    apr_pool_t *pool;
    mi_store_t *store;
    struct mi_maint_t *maint;        /* the maintenance thread */
    struct mi_push_waiters_t *waiters;   /* held /meta/connect requests */
    struct mi_push_t *push;          /* the Bayeux server */
    struct mi_push_listener_t *listener; /* follows the history stream; NULL when it failed */
    struct mi_webhook_t *webhook;    /* the webhook worker thread; NULL when it failed */
    /* Called (from any thread) after this process changed interactions outside an API
     * request, e.g. when offers expired; the push channel sets it to wake its listener. */
    void (*on_change)(mi_process_t *proc);
};

/** This child's state; NULL before child_init or when it failed. */
extern mi_process_t *mi_proc;

/* mod_interactions_rest.c */
int mi_rest_handler(request_rec *r);

/** Send @body with HTTP @status as the JSON response; returns OK (or DONE for HEAD). */
int mi_send_json(request_rec *r, int status, json_object *body);

/** Send the error envelope for @err; 503 adds Retry-After. */
int mi_send_error(request_rec *r, const mi_error_t *err);

/** The error for a failed store call (503 + statusCode 4 when the database is unavailable). */
mi_error_t *mi_store_error(request_rec *r, apr_status_t rv, mi_error_t *err);

/** Read a JSON request body: 415 unless application/json, 413 beyond the limit, 400 when
 *  malformed. */
int mi_read_json_body(request_rec *r, const mi_limits_t *lim, json_object **pbody,
                      mi_error_t *err);

/* mod_interactions_push.c */
/** The CometD/Bayeux endpoint {base}/notifications[/...]: the caller is authenticated and
 *  @cc resolved; @base is the absolute API base. */
int mi_push_handler(request_rec *r, int cc, const char *base, const mi_dir_conf_t *dc,
                    const mi_limits_t *lim);

/** If @r is a JSONP request of the push channel, drop its query (which holds a clientId)
 *  from what the access log and server-status show. */
void mi_push_hide_query(request_rec *r);

/** A REST operation @op succeeded: if it changed data, wake the push channel. */
void mi_push_after_write(const char *op);

/** child_init: the waiter registry, the Bayeux server and the listener thread of this child
 *  (stopped by a pre-cleanup of @pchild). */
void mi_push_child_init(apr_pool_t *pchild, server_rec *s, mi_process_t *proc);

/** child_stopping: answer every held connect now. */
void mi_push_child_stopping(apr_pool_t *pchild, int graceful);

/* mod_interactions_maint.c */
/** Start this child's maintenance thread (offer timeouts, stuck routing, session expiry). */
apr_status_t mi_maint_start(mi_process_t *proc, server_rec *s, apr_pool_t *pchild);
/** Ask the maintenance thread to stop soon (graceful stop). */
void mi_maint_wake_for_stop(mi_process_t *proc);

/* mod_interactions_webhook.c */
/** Start this child's webhook thread (one process of the server delivers: mi_webhook.h). */
apr_status_t mi_webhook_start(mi_process_t *proc, server_rec *s, apr_pool_t *pchild);
/** Ask the webhook thread to stop soon (graceful stop). */
void mi_webhook_wake_for_stop(mi_process_t *proc);

/* mod_interactions_status.c */
struct mi_stats_slot_t;
apr_status_t mi_status_post_config(apr_pool_t *pconf, server_rec *s);
void mi_status_child_init(apr_pool_t *pchild, server_rec *s);
/** Count a response of this request: its HTTP status and statusCode. */
void mi_status_count(request_rec *r, int status, int sc);
/** Publish this child's pool figures and a maintenance run (if @ran) to the statistics. */
void mi_status_publish_pool(mi_pgpool_t *pool, int ran, int changes);
void mi_status_register_hooks(apr_pool_t *p);

/* mod_interactions_authn.c */
void mi_authn_register(apr_pool_t *p);
/** The credential cache's counters in the Prometheus text format ("" before it exists). */
const char *mi_authn_prometheus(apr_pool_t *p);

/* mod_interactions.c */
/** The absolute base of interaction uris for the API at @path: InteractionsPublicOrigin, or
 *  what a trusted proxy names in X-Forwarded-Host/-Proto, or the server's own name and port;
 *  never the request's Host header. */
const char *mi_public_base(request_rec *r, const mi_dir_conf_t *dc, const char *path);

/** Turn httpd's own error pages (401 from authentication, 413 from LimitRequestBody, ...)
 *  inside an interactions location into the JSON envelope. */
void mi_insert_error_filter(request_rec *r);
apr_status_t mi_error_output_filter(ap_filter_t *f, apr_bucket_brigade *bb);

#endif
