/* mi_store.h — the store: every database call the module makes, over mi_pgpool.
 *
 * All SQL lives in PostgreSQL functions (sql/functions); this layer only calls them through
 * statements prepared once per connection, so each API request is one round trip and one
 * transaction.  Results come back as JSON documents.  Errors never carry SQL text to the
 * client: they are logged here with their SQLSTATE and mapped to a status.
 */
#ifndef MI_STORE_H
#define MI_STORE_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_ops.h"
#include "mi_pgpool.h"

typedef struct mi_store_t mi_store_t;

typedef struct {
    mi_pgpool_conf_t pool;
    int statement_timeout_ms;   /* per connection; 0 leaves the server's setting */
} mi_store_conf_t;

/* Results besides APR_SUCCESS:
 *   MI_STORE_UNAVAILABLE  the database cannot be reached or no connection freed up in time
 *   MI_STORE_FAILED       the call failed inside the database (logged; an internal error)
 *   APR_NOTFOUND          the named contact center does not exist */
#define MI_STORE_UNAVAILABLE APR_ECONNREFUSED
#define MI_STORE_FAILED      APR_EGENERAL

apr_status_t mi_store_create(mi_store_t **pstore, const mi_store_conf_t *conf, apr_pool_t *p);

/** The pool underneath (for statistics and the listener's direct connection). */
mi_pgpool_t *mi_store_pool(mi_store_t *store);

/** The id of contact center @name (cached for the life of the process: ids never change). */
apr_status_t mi_store_cc_id(mi_store_t *store, const char *name, int *pid);

/** Call interactions.api(cc, login, entry, args, write) for operation @op (mi_ops.h: its
 *  entry, and whether it may write; a read runs in a read-only transaction): one
 *  transaction.  *presult is the returned document, bound to @p: {"statusCode":0,...} or
 *  {"statusCode":N,"statusMessage":..}.  @max_depth is the nesting the request was allowed
 *  (the result holds its user data). */
apr_status_t mi_store_api(mi_store_t *store, int cc, const char *login, mi_op_e op,
                          json_object *args, int max_depth, apr_pool_t *p, json_object **presult);

/** What the authn provider checks a password against: the bcrypt hash of @login in @cc and
 *  the user's credential_version, read together.  *phash is NULL (and *pversion -1) when
 *  there is no such user, the user is disabled or has no password. */
apr_status_t mi_store_credential(mi_store_t *store, int cc, const char *login, apr_pool_t *p,
                                 int *pversion, const char **phash);

/** The credential_version of @login in @cc, or -1 when there is no such user, the user is
 *  disabled or has no password: the cheap re-validation of a cached credential. */
apr_status_t mi_store_credential_version(mi_store_t *store, int cc, const char *login,
                                         apr_pool_t *p, int *pversion);

/** A statement of another core file's store layer (e.g. mi_push_store.c), prepared on each
 *  connection the first time it is used there.  @name must be unique among all statements;
 *  @sql must be a constant that calls one SQL function and returns one text value. */
typedef struct {
    const char *name;
    const char *sql;
    int nparams;
} mi_store_stmt_t;

/** Run @stmt with text parameters (NULL for SQL NULL) on a pooled connection: one round
 *  trip, retried on serialization failures like mi_store_api().  *pvalue is the first column
 *  of the first row (NULL for no row or SQL NULL), copied into @p. */
apr_status_t mi_store_call(mi_store_t *store, const mi_store_stmt_t *stmt,
                           const char *const *params, apr_pool_t *p, const char **pvalue);

/** Run @sql with text parameters on a pooled connection and return the first column of the
 *  first row as text (NULL for no row or SQL NULL).  For the few calls that are not API
 *  operations (maintenance, push); @sql must be a constant. */
apr_status_t mi_store_scalar(mi_store_t *store, const char *sql, int nparams,
                             const char *const *params, apr_pool_t *p, const char **pvalue);

#endif
