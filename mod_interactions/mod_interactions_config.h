/* mod_interactions_config.h — the merged configuration, generated from the directive table
 * (mod_interactions_directives.h).
 *
 * Server-wide settings (push timings, authentication caches) live in the main server's config
 * and may only appear at global scope.  Per-location settings (contact center, request
 * limits, and the database with its pool's sizes) follow the usual <Location> /
 * <VirtualHost> merging; a child keeps one pool per distinct database (mod_interactions_db.c).  Unset fields hold MI_AP_UNSET (NULL for strings and lists) until the
 * table's defaults are applied: mi_ap_config_finalize() for the server-wide ones,
 * mi_ap_config_limits() for the request limits.
 */
#ifndef MOD_INTERACTIONS_CONFIG_H
#define MOD_INTERACTIONS_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "mi_limits.h"
#include "mod_interactions_directives.h"

#define MI_AP_UNSET (-1)

/* The members of the two structs, generated from the directive table: a row's type gives
 * the member's C type, its scope the struct (MI_ONLY_<struct>_<scope> keeps or drops it). */
#define MI_CTYPE_INT  int
#define MI_CTYPE_LONG long long
#define MI_CTYPE_FLAG int
#define MI_CTYPE_STR  const char *
#define MI_CTYPE_LIST apr_array_header_t *
#define MI_ONLY_SRV_SRV(x) x
#define MI_ONLY_SRV_DIR(x)
#define MI_ONLY_DIR_SRV(x)
#define MI_ONLY_DIR_DIR(x) x
/* a database's settings (scope DB) are per location, in the per-directory struct */
#define MI_ONLY_SRV_DB(x)
#define MI_ONLY_DIR_DB(x) x
#define MI_SRV_MEMBER(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_SRV_##scope(MI_CTYPE_##type field;)
#define MI_DIR_MEMBER(name, scope, type, field, def, floor, merge, setter, help) \
    MI_ONLY_DIR_##scope(MI_CTYPE_##type field;)

typedef struct {
    MI_DIRECTIVES(MI_SRV_MEMBER)
    /* not a directive: the content of InteractionsDatabasePasswordFile, read by the parent
     * at (re)start (mi_ap_config_read_password()) */
    const char *db_password;
} mi_ap_srv_conf_t;

typedef struct {
    MI_DIRECTIVES(MI_DIR_MEMBER)
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

/** The database settings (scope DB) of @dc with the table's defaults and floors applied, and
 *  the pool's sizes made consistent (min <= keep <= max), in @out. */
void mi_ap_config_database(const mi_ap_dir_conf_t *dc, mi_ap_dir_conf_t *out);

/** The request limits in effect for @dc, defaults applied. */
void mi_ap_config_limits(const mi_ap_dir_conf_t *dc, mi_limits_t *lim);

#endif
