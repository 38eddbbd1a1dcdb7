/* mi_store.c — see mi_store.h */
#include <stdio.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "mi_json.h"
#include "mi_log.h"
#include "mi_store.h"

/* Results nest the request's user data (at most the caller's JSON depth limit) a few levels
 * deep.  json-c allocates and clears a parse stack of the allowed depth for every document,
 * so the allowance follows the limit instead of being generous. */
#define MI_STORE_RESULT_NESTING 8

struct mi_store_t {
    apr_pool_t *pool;
    mi_pgpool_t *pgpool;
    mi_store_conf_t conf;
    apr_thread_mutex_t *mutex;    /* guards cc_ids */
    apr_hash_t *cc_ids;           /* name -> int* */
};

/* Statements prepared on every connection.  The casts pin the parameter types so the
 * server never has to guess, and results come back as text. */
static const struct { const char *name; const char *sql; int nparams; } statements[] = {
    { "mi_api", "SELECT interactions.api($1::int, $2::text, $3::text, $4::jsonb, $5::boolean)::text", 5 },
    { "mi_cc", "SELECT interactions.contact_center_id($1::text)", 1 },
    { "mi_cred", "SELECT interactions.credential($1::int, $2::text)", 2 },
    { "mi_credv", "SELECT interactions.credential_version($1::int, $2::text)::text", 2 },
};
#define N_STATEMENTS (sizeof(statements) / sizeof(statements[0]))

static apr_status_t conn_init(mi_pgconn_t *c, void *baton)
{
    mi_store_t *store = baton;
    size_t i;
    PGresult *res;

    if (store->conf.statement_timeout_ms > 0) {
        char sql[96];
        snprintf(sql, sizeof(sql), "SET statement_timeout = %d", store->conf.statement_timeout_ms);
        res = PQexec(c->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQstatus(c->conn) == CONNECTION_BAD) {
            goto lost;
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00110)
                          "setting statement_timeout failed: %s", PQerrorMessage(c->conn));
            PQclear(res);
            return APR_EGENERAL;
        }
        PQclear(res);
    }
    for (i = 0; i < N_STATEMENTS; i++) {
        res = PQprepare(c->conn, statements[i].name, statements[i].sql, statements[i].nparams,
                        NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQstatus(c->conn) == CONNECTION_BAD) {
            goto lost;
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            /* Most likely the migrations have not been applied to this database. */
            mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00111)
                          "preparing %s failed (are the migrations applied?): %s",
                          statements[i].name, PQerrorMessage(c->conn));
            PQclear(res);
            return APR_EGENERAL;
        }
        PQclear(res);
    }
    return APR_SUCCESS;

lost:
    /* The server ended the connection while it was being set up (it is shutting down, or an
     * administrator terminated the backend): an outage, which the pool reports as such, not
     * a broken schema. */
    PQclear(res);
    return APR_ECONNRESET;
}

apr_status_t mi_store_create(mi_store_t **pstore, const mi_store_conf_t *conf, apr_pool_t *p)
{
    mi_store_t *store = apr_pcalloc(p, sizeof(*store));
    mi_pgpool_conf_t pc = conf->pool;
    apr_status_t rv;

    store->pool = p;
    store->conf = *conf;
    store->cc_ids = apr_hash_make(p);
    rv = apr_thread_mutex_create(&store->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    pc.init = conn_init;
    pc.init_baton = store;
    rv = mi_pgpool_create(&store->pgpool, &pc, p);
    if (rv == APR_SUCCESS) {
        *pstore = store;
    }
    return rv;
}

mi_pgpool_t *mi_store_pool(mi_store_t *store)
{
    return store->pgpool;
}

/* Is this failure the connection's (server gone, network), rather than the statement's? */
static int connection_lost(PGconn *conn, PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    return PQstatus(conn) != CONNECTION_OK
           || (state != NULL && (strncmp(state, "08", 2) == 0       /* connection exception */
                                 || strncmp(state, "57P", 3) == 0)); /* admin/crash shutdown */
}

static int retryable(PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    /* serialization_failure, deadlock_detected: the transaction rolled back as a whole */
    return state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* The innermost function of an error's context, "interactions.api_operation line 139": where
 * it happened, without the SQL text or the values a CONTEXT line may quote.  Empty when the
 * context names no PL/pgSQL function. */
static const char *failed_where(PGresult *res, char *buf, apr_size_t size)
{
    const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
    const char *f = ctx != NULL ? strstr(ctx, "PL/pgSQL function ") : NULL;
    const char *name, *paren, *line;
    unsigned long n;

    buf[0] = '\0';
    if (f == NULL) {
        return buf;
    }
    name = f + strlen("PL/pgSQL function ");
    paren = strchr(name, '(');
    line = paren != NULL ? strstr(paren, ") line ") : NULL;
    if (paren == NULL || line == NULL || paren - name > 128
        || sscanf(line, ") line %lu", &n) != 1) {
        return buf;
    }
    snprintf(buf, size, " in %.*s line %lu", (int)(paren - name), name, n);
    return buf;
}

/* A statement failed inside the database.  The operator's [error] line says which call, the
 * SQLSTATE and the function and line; the server's message, which can quote a client's
 * values, and its context, which can quote SQL, go to the debug level only. */
static void log_failure(const char *stmt, PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    char where[192];

    mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00113)
                  "database call %s failed (SQLSTATE %s)%s", stmt, state ? state : "?",
                  failed_where(res, where, sizeof(where)));
    if (mi_log_is_level(MI_LOG_DEBUG)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_DEBUG, 0, NULL, MI_LOGNO(00120)
                      "database call %s failed: %s", stmt, PQresultErrorMessage(res));
    }
}

/* Prepare @stmt on @c unless that was done before.  The names prepared on a connection are
 * kept in a hash in the connection's pool (mi_pgconn_t.user), so they go with it. */
static apr_status_t ensure_prepared(mi_pgconn_t *c, const mi_store_stmt_t *stmt)
{
    apr_hash_t *done = c->user;
    PGresult *res;
    apr_status_t rv = APR_SUCCESS;

    if (done == NULL) {
        done = apr_hash_make(c->pool);
        c->user = done;
    }
    if (apr_hash_get(done, stmt->name, APR_HASH_KEY_STRING) != NULL) {
        return APR_SUCCESS;
    }
    res = PQprepare(c->conn, stmt->name, stmt->sql, stmt->nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00116)
                      "preparing %s failed (are the migrations applied?): %s", stmt->name,
                      PQerrorMessage(c->conn));
        rv = APR_EGENERAL;
    }
    else {
        apr_hash_set(done, apr_pstrdup(c->pool, stmt->name), APR_HASH_KEY_STRING, "");
    }
    PQclear(res);
    return rv;
}

/* Run a prepared statement returning one text value.  The whole call is one transaction
 * (autocommit), so on any error nothing was changed and a retry is safe.  @stmt names a
 * statement prepared by conn_init, @lazy one prepared on first use, @sql runs unprepared. */
static apr_status_t exec_scalar_ex(mi_store_t *store, const char *stmt,
                                   const mi_store_stmt_t *lazy, const char *sql,
                                   int nparams, const char *const *params, apr_pool_t *p,
                                   const char **pvalue)
{
    mi_pgconn_t *c = NULL;
    PGresult *res = NULL;
    apr_status_t rv;
    int attempt, broken = 0;

    *pvalue = NULL;
    for (attempt = 0; attempt < 3; attempt++) {
        rv = mi_pgpool_acquire(store->pgpool, &c);
        if (rv != APR_SUCCESS) {
            return MI_STORE_UNAVAILABLE;
        }
        if (lazy != NULL) {
            if (ensure_prepared(c, lazy) != APR_SUCCESS) {
                broken = PQstatus(c->conn) != CONNECTION_OK;
                rv = broken ? MI_STORE_UNAVAILABLE : MI_STORE_FAILED;
                goto leave;
            }
            stmt = lazy->name;
        }
        res = stmt != NULL ? PQexecPrepared(c->conn, stmt, nparams, params, NULL, NULL, 0)
                           : PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
                *pvalue = apr_pstrmemdup(p, PQgetvalue(res, 0, 0),
                                         (apr_size_t)PQgetlength(res, 0, 0));
            }
            rv = APR_SUCCESS;
            goto leave;
        }
        if (connection_lost(c->conn, res)) {
            mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL, MI_LOGNO(00112)
                          "database connection lost during %s: %s", stmt ? stmt : "query",
                          PQerrorMessage(c->conn));
            broken = 1;
            rv = MI_STORE_UNAVAILABLE;
            goto leave;
        }
        if (!retryable(res)) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            log_failure(stmt ? stmt : "query", res);
            rv = (state != NULL && strcmp(state, "57014") == 0) ? MI_STORE_UNAVAILABLE
                                                                 : MI_STORE_FAILED;
            goto leave;
        }
        PQclear(res);
        res = NULL;
        mi_pgpool_release(store->pgpool, c, 0);
        c = NULL;
    }
    mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL, MI_LOGNO(00114)
                  "database call %s kept conflicting; giving up", stmt ? stmt : "query");
    return MI_STORE_UNAVAILABLE;

leave:
    PQclear(res);
    mi_pgpool_release(store->pgpool, c, broken);
    return rv;
}

static apr_status_t exec_scalar(mi_store_t *store, const char *stmt, const char *sql,
                                int nparams, const char *const *params, apr_pool_t *p,
                                const char **pvalue)
{
    return exec_scalar_ex(store, stmt, NULL, sql, nparams, params, p, pvalue);
}

apr_status_t mi_store_call(mi_store_t *store, const mi_store_stmt_t *stmt,
                           const char *const *params, apr_pool_t *p, const char **pvalue)
{
    return exec_scalar_ex(store, NULL, stmt, NULL, stmt->nparams, params, p, pvalue);
}

apr_status_t mi_store_scalar(mi_store_t *store, const char *sql, int nparams,
                             const char *const *params, apr_pool_t *p, const char **pvalue)
{
    return exec_scalar(store, NULL, sql, nparams, params, p, pvalue);
}

apr_status_t mi_store_cc_id(mi_store_t *store, const char *name, int *pid)
{
    const char *val = NULL;
    int *cached;
    apr_status_t rv;

    apr_thread_mutex_lock(store->mutex);
    cached = apr_hash_get(store->cc_ids, name, APR_HASH_KEY_STRING);
    apr_thread_mutex_unlock(store->mutex);
    if (cached != NULL) {
        *pid = *cached;
        return APR_SUCCESS;
    }
    {
        apr_pool_t *tmp;
        apr_pool_create(&tmp, NULL);
        rv = exec_scalar(store, "mi_cc", NULL, 1, &name, tmp, &val);
        if (rv == APR_SUCCESS && val == NULL) {
            rv = APR_NOTFOUND;
        }
        if (rv == APR_SUCCESS) {
            int id = atoi(val);
            apr_thread_mutex_lock(store->mutex);
            cached = apr_palloc(store->pool, sizeof(int));
            *cached = id;
            apr_hash_set(store->cc_ids, apr_pstrdup(store->pool, name), APR_HASH_KEY_STRING,
                         cached);
            apr_thread_mutex_unlock(store->mutex);
            *pid = id;
        }
        apr_pool_destroy(tmp);
    }
    return rv;
}

apr_status_t mi_store_api(mi_store_t *store, int cc, const char *login, mi_op_e op,
                          json_object *args, int max_depth, apr_pool_t *p, json_object **presult)
{
    const char *params[5];
    const char *text = NULL;
    mi_json_error_t jerr;
    apr_status_t rv;

    *presult = NULL;
    if (mi_op(op)->entry == NULL) {
        /* no store call (the push channel, "other"): a caller's mistake, never a client's */
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00300)
                      "operation %s has no store call", mi_op_name(op));
        return MI_STORE_FAILED;
    }
    params[0] = apr_itoa(p, cc);
    params[1] = login;
    params[2] = mi_op(op)->entry;
    params[3] = args != NULL ? mi_json_dump(args, p) : "{}";
    /* decided here once, from the table: a read runs read-only and takes no referenceId */
    params[4] = mi_op_is(op, MI_OPF_WRITE) ? "true" : "false";
    rv = exec_scalar(store, "mi_api", NULL, 5, params, p, &text);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (text == NULL
        || mi_json_parse(presult, text, strlen(text), max_depth + MI_STORE_RESULT_NESTING, p, &jerr) != APR_SUCCESS
        || !json_object_is_type(*presult, json_type_object)) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00115)
                      "interactions.api(%s) returned no usable document", mi_op(op)->entry);
        *presult = NULL;
        return MI_STORE_FAILED;
    }
    return APR_SUCCESS;
}

apr_status_t mi_store_credential(mi_store_t *store, int cc, const char *login, apr_pool_t *p,
                                 int *pversion, const char **phash)
{
    const char *params[2], *text = NULL, *sp;
    apr_status_t rv;

    *pversion = -1;
    *phash = NULL;
    params[0] = apr_itoa(p, cc);
    params[1] = login;
    rv = exec_scalar(store, "mi_cred", NULL, 2, params, p, &text);
    if (rv != APR_SUCCESS || text == NULL) {
        return rv;
    }
    /* "<version> <hash>" */
    sp = strchr(text, ' ');
    if (sp == NULL) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_ERR, 0, NULL, MI_LOGNO(00230)
                      "interactions.credential() returned no usable value");
        return MI_STORE_FAILED;
    }
    *pversion = atoi(text);
    *phash = sp + 1;
    return APR_SUCCESS;
}

apr_status_t mi_store_credential_version(mi_store_t *store, int cc, const char *login,
                                         apr_pool_t *p, int *pversion)
{
    const char *params[2], *text = NULL;
    apr_status_t rv;

    *pversion = -1;
    params[0] = apr_itoa(p, cc);
    params[1] = login;
    rv = exec_scalar(store, "mi_credv", NULL, 2, params, p, &text);
    if (rv == APR_SUCCESS && text != NULL) {
        *pversion = atoi(text);
    }
    return rv;
}
