/* mod_interactions_config.h — directives, their defaults and the merged configuration.
 *
 * Server-wide settings (database, pool, push timings) live in the main server's config and
 * may only appear at global scope: one pool per child process serves every contact center.
 * Per-location settings (contact center, request limits) follow the usual <Location> /
 * <VirtualHost> merging.  Unset fields hold MI_AP_UNSET and fall back to the static defaults.
 */
#ifndef MOD_INTERACTIONS_CONFIG_H
#define MOD_INTERACTIONS_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "mi_limits.h"

#define MI_AP_UNSET (-1)

typedef struct {
    const char *conninfo;
    int pool_min;
    int pool_keep;
    int pool_max;
    int pool_ttl_s;
    int acquire_timeout_ms;
    int connect_timeout_s;
    int statement_timeout_ms;
    int retry_after_s;
    int tick_ms;                 /* maintenance: offer timeouts, stuck routing, session expiry */
    int push_timeout_ms;         /* how long /meta/connect is held */
    int push_max_interval_ms;    /* a session without a connect for this long expires */
    int push_max_waiters;        /* held polls per child process (at most what its threads allow) */
    int push_sessions_per_browser;
    int push_jsonp;              /* callback-polling allowed */
    /* the authn provider's shared credential cache and failed-login counts (mi_credcache.h) */
    int authn_cache_entries;
    int authn_cache_recheck_s;   /* a verified credential is trusted this long, then rechecked */
    int authn_failure_entries;
    int authn_failure_window_s;  /* failures count this long; a lock lasts this long */
    int authn_max_failures_user_address;
    int authn_max_failures_user;
    int authn_max_failures_address;
    const char *password_file;   /* the database password, readable by root only */
    const char *db_password;     /* its content, read by the parent at (re)start */
    int push_cache_rows;         /* /v2/interactions rows kept rendered per child */
    int push_cache_bytes;        /* what they may cost per child, with their messages */
    int push_held_per_user;      /* held polls of one user per child process; 0 no cap */
    int push_held_per_cc;        /* held polls of one contact center per child process; 0 no cap */
    int push_sessions_per_user;  /* live Bayeux sessions of one user (the database's count) */
    int push_sessions_per_cc;    /* live Bayeux sessions of one contact center; 0 no cap */
    int push_handshakes_per_minute;  /* handshakes of one user per minute; 0 no limit */
} mi_ap_srv_conf_t;

typedef struct {
    const char *contact_center;
    const char *base;            /* the <Location> path; "" for a whole virtual host */
    apr_array_header_t *allow_origins;  /* origins allowed for cross-site JSONP */
    long long max_body;
    int max_depth;
    int max_string;
    long long max_user_data;
    int max_page;
    int default_page;
    long long max_page_bytes;
    const char *public_origin;   /* scheme://host[:port] of interaction uris, or NULL */
    apr_array_header_t *trusted_proxies;  /* apr_ipsubnet_t *: may set X-Forwarded-Host/-Proto */
} mi_ap_dir_conf_t;

extern const command_rec mi_ap_config_cmds[];

void *mi_ap_config_create_srv(apr_pool_t *p, server_rec *s);
void *mi_ap_config_merge_srv(apr_pool_t *p, void *base, void *add);
void *mi_ap_config_create_dir(apr_pool_t *p, char *dir);
void *mi_ap_config_merge_dir(apr_pool_t *p, void *base, void *add);

/** Apply defaults to the main server's settings in place (post_config). */
void mi_ap_config_finalize(server_rec *s);

/** Read the database password file, if one is named, into the main server's settings
 *  (check_config: httpd's parent, before it drops privileges).  On failure returns the
 *  reason for the operator. */
const char *mi_ap_config_read_password(server_rec *s, apr_pool_t *pconf);

/** The server-wide settings, defaults applied. */
const mi_ap_srv_conf_t *mi_ap_config_srv(void);

/** The request's per-directory settings. */
const mi_ap_dir_conf_t *mi_ap_config_dir(request_rec *r);

/** How many connects a child process with @threads worker threads may hold: its threads
 *  less those kept for other requests (0 for a single thread: prefork). */
int mi_ap_config_push_room(int threads);

/** The request limits in effect for @dc, defaults applied. */
void mi_ap_config_limits(const mi_ap_dir_conf_t *dc, mi_limits_t *lim);

#endif
