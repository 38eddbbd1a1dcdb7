/* mod_interactions_db.h — the databases an httpd serves: one per distinct InteractionsDatabase
 * (per <VirtualHost> or <Location>), each with its own pool, push channel and maintenance
 * thread in every child.
 *
 * At every start the parent walks the configuration (the main server, each virtual host and
 * each <Location>/<Directory> section inside them) and lists the distinct databases in the
 * order it meets them: the main server's first.  A contact center named in two places that
 * resolve to two databases is refused there, before httpd serves anything.  Each child then
 * builds one mi_ap_process_t per database (mod_interactions.c), and a request reaches the one
 * of its location's database (mi_ap_db_proc()).
 */
#ifndef MOD_INTERACTIONS_DB_H
#define MOD_INTERACTIONS_DB_H

#include <httpd.h>

#include "mod_interactions.h"
#include "mod_interactions_config.h"

typedef struct {
    int index;                    /* its place in the list: statistics slot, cache key part */
    const char *label;            /* dbname@host:port (mi_pgpool_label()): never the password */
    const char *conninfo;         /* as configured; NULL: libpq's defaults */
    mi_ap_dir_conf_t settings;    /* the pool's sizes where it is first named, defaults applied */
} mi_ap_db_t;

/** List the databases of the configuration rooted at @s (check_config, every start and
 *  restart).  On a conflict, or more than MI_MAX_DATABASES, returns the reason. */
const char *mi_ap_db_configure(server_rec *s, apr_pool_t *pconf);

/** The databases listed at start: how many, and each. */
int mi_ap_db_count(void);
const mi_ap_db_t *mi_ap_db_at(int i);

/** This child's state for database @i (child_init sets it); NULL if it failed. */
void mi_ap_db_set_proc(int i, mi_ap_process_t *proc);
mi_ap_process_t *mi_ap_db_proc_at(int i);

/** The index of the database of @r's location, or -1 when none was listed at start. */
int mi_ap_db_index(request_rec *r);

/** This child's state for the database of @r's location; NULL when it has none (not
 *  started, or the location's database was not seen at start). */
mi_ap_process_t *mi_ap_db_proc(request_rec *r);

#endif
