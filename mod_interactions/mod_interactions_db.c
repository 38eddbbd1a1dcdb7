/* mod_interactions_db.c — see mod_interactions_db.h */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "mi_pgpool.h"
#include "mi_tunables.h"
#include "mod_interactions.h"
#include "mod_interactions_config.h"
#include "mod_interactions_db.h"

/* Made by the parent at each start in pconf; the children inherit it. */
static mi_ap_db_t *dbs;
static int ndbs;
/* This child's state per database (child_init). */
static mi_ap_process_t *procs[MI_MAX_DATABASES];

typedef struct {
    apr_pool_t *p;
    apr_hash_t *cc_db;            /* contact center -> (int *) database index */
    apr_hash_t *cc_where;         /* contact center -> where it was named */
    const char *err;
} walk_t;

static apr_status_t dbs_gone(void *data)
{
    (void)data;
    dbs = NULL;
    ndbs = 0;
    return APR_SUCCESS;
}

/* The database of @dc (merged for one place of the configuration), added when it is new. */
static int database_of(walk_t *w, const mi_ap_dir_conf_t *dc)
{
    int i;

    for (i = 0; i < ndbs; i++) {
        if ((dbs[i].conninfo == NULL && dc->conninfo == NULL)
            || (dbs[i].conninfo != NULL && dc->conninfo != NULL
                && strcmp(dbs[i].conninfo, dc->conninfo) == 0)) {
            return i;
        }
    }
    if (ndbs == MI_MAX_DATABASES) {
        w->err = apr_psprintf(w->p, "more than %d distinct InteractionsDatabase strings: a child "
                              "keeps a pool, a push listener and a maintenance thread for each",
                              MI_MAX_DATABASES);
        return -1;
    }
    dbs[ndbs].index = ndbs;
    dbs[ndbs].conninfo = dc->conninfo;
    dbs[ndbs].label = mi_pgpool_label(dc->conninfo, w->p);
    mi_ap_config_database(dc, &dbs[ndbs].settings);
    return ndbs++;
}

/* One place of the configuration: its contact center (if any) lives in its database. */
static void visit(walk_t *w, const mi_ap_dir_conf_t *dc, const char *where)
{
    int *prev, db;

    if (w->err != NULL || (dc->contact_center == NULL && dc->conninfo == NULL)) {
        return;
    }
    db = database_of(w, dc);
    if (db < 0 || dc->contact_center == NULL) {
        return;
    }
    prev = apr_hash_get(w->cc_db, dc->contact_center, APR_HASH_KEY_STRING);
    if (prev == NULL) {
        prev = apr_palloc(w->p, sizeof(*prev));
        *prev = db;
        apr_hash_set(w->cc_db, dc->contact_center, APR_HASH_KEY_STRING, prev);
        apr_hash_set(w->cc_where, dc->contact_center, APR_HASH_KEY_STRING, where);
    }
    else if (*prev != db) {
        /* its rows are in one database: served from the other, its users would see another
         * (or an empty) contact center depending on the address they use */
        w->err = apr_psprintf(w->p, "InteractionsContactCenter %s is mapped to two databases: "
                              "%s (%s) and %s (%s); a contact center lives in one database, so "
                              "every place that serves it must name the same InteractionsDatabase",
                              dc->contact_center, dbs[*prev].label,
                              (const char *)apr_hash_get(w->cc_where, dc->contact_center,
                                                         APR_HASH_KEY_STRING),
                              dbs[db].label, where);
    }
}

/* The sections (<Location>, <Directory>) of server @s, each merged over @base. */
static void visit_sections(walk_t *w, server_rec *s, apr_array_header_t *secs,
                           const mi_ap_dir_conf_t *base, const char *kind, const char *host)
{
    int i;

    if (secs == NULL) {
        return;
    }
    for (i = 0; i < secs->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(secs, i, ap_conf_vector_t *);
        const mi_ap_dir_conf_t *dc = ap_get_module_config(v, &interactions_module);
        const core_dir_config *cd = ap_get_core_module_config(v);

        if (dc == NULL) {
            continue;
        }
        visit(w, mi_ap_config_merge_dir(w->p, (void *)base, (void *)dc),
              apr_psprintf(w->p, "<%s %s> of %s", kind, cd != NULL && cd->d != NULL ? cd->d : "?",
                           host));
    }
    (void)s;
}

const char *mi_ap_db_configure(server_rec *s, apr_pool_t *pconf)
{
    const mi_ap_dir_conf_t *main_dc = ap_get_module_config(s->lookup_defaults,
                                                           &interactions_module);
    walk_t w;
    server_rec *v;

    memset(&w, 0, sizeof(w));
    w.p = pconf;
    w.cc_db = apr_hash_make(pconf);
    w.cc_where = apr_hash_make(pconf);
    dbs = apr_pcalloc(pconf, sizeof(*dbs) * MI_MAX_DATABASES);
    ndbs = 0;
    apr_pool_cleanup_register(pconf, NULL, dbs_gone, apr_pool_cleanup_null);
    for (v = s; v != NULL && w.err == NULL; v = v->next) {
        const mi_ap_dir_conf_t *dc = ap_get_module_config(v->lookup_defaults,
                                                          &interactions_module);
        core_server_config *core = ap_get_core_module_config(v->module_config);
        const char *host = v == s ? "the main server"
                           : apr_psprintf(pconf, "<VirtualHost> %s:%u (%s line %u)",
                                          v->server_hostname != NULL ? v->server_hostname : "?",
                                          v->port, v->defn_name != NULL ? v->defn_name : "?",
                                          v->defn_line_number);

        /* a virtual host inherits what the main server sets */
        if (v != s) {
            dc = mi_ap_config_merge_dir(pconf, (void *)main_dc, (void *)dc);
        }
        visit(&w, dc, host);
        visit_sections(&w, v, core->sec_url, dc, "Location", host);
        visit_sections(&w, v, core->sec_dir, dc, "Directory", host);
    }
    return w.err;
}

int mi_ap_db_count(void)
{
    return ndbs;
}

const mi_ap_db_t *mi_ap_db_at(int i)
{
    return i >= 0 && i < ndbs ? &dbs[i] : NULL;
}

void mi_ap_db_set_proc(int i, mi_ap_process_t *proc)
{
    if (i >= 0 && i < MI_MAX_DATABASES) {
        procs[i] = proc;
    }
}

mi_ap_process_t *mi_ap_db_proc_at(int i)
{
    return i >= 0 && i < ndbs ? procs[i] : NULL;
}

int mi_ap_db_index(request_rec *r)
{
    const mi_ap_dir_conf_t *dc = mi_ap_config_dir(r);
    int i;

    for (i = 0; dc != NULL && i < ndbs; i++) {
        if ((dbs[i].conninfo == NULL && dc->conninfo == NULL)
            || (dbs[i].conninfo != NULL && dc->conninfo != NULL
                && strcmp(dbs[i].conninfo, dc->conninfo) == 0)) {
            return i;
        }
    }
    return -1;
}

mi_ap_process_t *mi_ap_db_proc(request_rec *r)
{
    return mi_ap_db_proc_at(mi_ap_db_index(r));
}
