/* mi_webhook.c — see mi_webhook.h
 *
 * Top to bottom: the statements (the election's look-up runs on the store's pooled
 * connections; the rest on the worker's own connection, which holds the server's advisory
 * lock, so its SQL is here beside the loop that runs it), the worker's connection, one
 * delivery over HTTP, a round (claim, post, result), and the thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "mi_config.h"
#include "mi_json.h"
#include "mi_log.h"
#include "mi_tunables.h"
#include "mi_webhook.h"

/* ------------------------------------------------------------------ the statements */

/* Is the server's worker lock free?  Taken and given back at once on a pooled connection. */
#define FREE_SQL                                                                                   \
    "SELECT CASE WHEN pg_try_advisory_lock(hashtext('interactions-webhooks'), $1::int) "           \
    "THEN pg_advisory_unlock(hashtext('interactions-webhooks'), $1::int) ELSE false END"
/* Become the worker: the lock is held as long as the worker's connection lives. */
#define TAKE_SQL  "SELECT pg_try_advisory_lock(hashtext('interactions-webhooks'), $1::int)"
/* $1 deliveries, $2 events per delivery, $3 lease in ms */
#define CLAIM_SQL "SELECT interactions.webhook_claim($1::int, $2::int, $3::int)"
/* $1 cc, $2 delivery, $3 attempt, $4 status, $5 error, $6 attempts, $7 backoff, $8 its cap */
#define RESULT_SQL                                                                                 \
    "SELECT interactions.webhook_result($1::int, $2::bigint, $3::int, $4::int, $5::text, "         \
    "$6::int, $7::int, $8::int)"

struct mi_webhook_t {
    mi_webhook_conf_t conf;
    apr_pool_t *pool;      /* the thread's own (made and destroyed by it) */
    apr_pool_t *conn_pool; /* lives as long as the worker's connection */
    PGconn *conn;          /* non-NULL while this process is the server's worker */
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex; /* guards stop; the thread sleeps on cond under it */
    apr_thread_cond_t *cond;
    volatile int stop;
    int failing; /* the database failed us (said once, until it works) */
};

static apr_status_t global_cleanup(void *data)
{
    (void)data;
    curl_global_cleanup();
    return APR_SUCCESS;
}

apr_status_t mi_webhook_global_init(apr_pool_t *p)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(p, NULL, global_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

int mi_webhook_is_worker(mi_webhook_t *w)
{
    return w->conn != NULL;
}

/* One value of a statement on the worker's connection, into @p; NULL result: failure. */
static const char *worker_scalar(mi_webhook_t *w, const char *sql, int n, const char *const *params,
                                 apr_pool_t *p)
{
    PGresult *res = PQexecParams(w->conn, sql, n, NULL, params, NULL, NULL, 0);
    const char *v = NULL;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        v = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    }
    else if (!w->failing) {
        mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL,
                      MI_LOGNO(00801) "webhook worker: the database failed: %s; webhooks wait "
                                      "until it answers",
                      PQerrorMessage(w->conn));
        w->failing = 1;
    }
    PQclear(res);
    return v;
}

/* ------------------------------------------------------------------ the worker's connection */

static apr_status_t conn_cleanup(void *data)
{
    mi_webhook_t *w = data;

    if (w->conn != NULL) {
        PQfinish(w->conn); /* the lock goes with the session */
        w->conn = NULL;
    }
    return APR_SUCCESS;
}

static void drop_connection(mi_webhook_t *w)
{
    if (w->conn_pool != NULL) {
        apr_pool_destroy(w->conn_pool);
        w->conn_pool = NULL;
    }
}

/* Become the server's worker if nobody is: a pooled look-up first, so that the processes
 * that are not the worker hold no connection of their own. */
static void try_to_become_worker(mi_webhook_t *w, apr_pool_t *tmp)
{
    const char *key = apr_itoa(tmp, w->conf.server_key);
    const char *val = NULL, *err = NULL;
    char sql[64];
    PGconn *conn;

    if (mi_store_scalar(w->conf.store, FREE_SQL, 1, &key, tmp, &val) != APR_SUCCESS || val == NULL
        || strcmp(val, "t") != 0) {
        return;
    }
    if (mi_pgpool_connect_direct(mi_store_pool(w->conf.store), &conn, &err, tmp) != APR_SUCCESS) {
        return;
    }
    apr_pool_create(&w->conn_pool, w->pool);
    w->conn = conn;
    apr_pool_cleanup_register(w->conn_pool, w, conn_cleanup, apr_pool_cleanup_null);
    snprintf(sql, sizeof(sql), "SET statement_timeout = %d", MI_WEBHOOK_STATEMENT_TIMEOUT_MS);
    PQclear(PQexec(w->conn, sql));
    val = worker_scalar(w, TAKE_SQL, 1, &key, tmp);
    if (val == NULL || strcmp(val, "t") != 0) {
        drop_connection(w); /* another process got there first */
        return;
    }
    mi_log_perror(MI_LOG_MARK, MI_LOG_INFO, 0, NULL,
                  MI_LOGNO(
                      00800) "webhook worker: this process delivers the webhooks of this server");
}

/* ------------------------------------------------------------------ one delivery */

typedef struct {
    mi_webhook_t *w;
    int cc;
    const char *id; /* the delivery */
    const char *webhook;
    int attempt;
    const char *url;
    const char *body;
    const char *signature;
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    char errbuf[CURL_ERROR_SIZE];
    long status;       /* HTTP status; 0 when none came */
    const char *error; /* why it failed; NULL when delivered */
} delivery_t;

static apr_status_t delivery_cleanup(void *data)
{
    delivery_t *d = data;

    if (d->easy != NULL) {
        curl_easy_cleanup(d->easy);
    }
    curl_slist_free_all(d->headers);
    curl_slist_free_all(d->resolve);
    return APR_SUCCESS;
}

/* The answer's body is not kept: the status says everything. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* Set up @d's request, or say why it is not made (d->error). */
static void prepare(delivery_t *d, apr_pool_t *p)
{
    mi_webhook_target_t t;
    const char *why = NULL;

    if (mi_webhook_allow_check(d->w->conf.allow, d->url, &t, &why, p) != APR_SUCCESS) {
        d->error = apr_pstrcat(p, "not requested: ", why, NULL);
        return;
    }
    d->easy = curl_easy_init();
    if (d->easy == NULL) {
        d->error = "not requested: libcurl could not make a handle";
        return;
    }
    apr_pool_cleanup_register(p, d, delivery_cleanup, apr_pool_cleanup_null);
    d->resolve = curl_slist_append(NULL, t.resolve);
    d->headers = curl_slist_append(d->headers, "Content-Type: application/json");
    d->headers = curl_slist_append(d->headers, "Expect:");
    d->headers = curl_slist_append(d->headers,
                                   apr_pstrcat(p, "X-Interactions-Webhook: ", d->webhook, NULL));
    d->headers = curl_slist_append(d->headers,
                                   apr_pstrcat(p, "X-Interactions-Delivery: ", d->id, NULL));
    d->headers = curl_slist_append(d->headers,
                                   apr_psprintf(p, "X-Interactions-Attempt: %d", d->attempt));
    d->headers = curl_slist_append(d->headers, apr_pstrcat(p, "X-Interactions-Signature: ",
                                                           d->signature, NULL));
    curl_easy_setopt(d->easy, CURLOPT_URL, d->url);
    /* the address that was checked, and no other: a second look-up could answer otherwise */
    curl_easy_setopt(d->easy, CURLOPT_RESOLVE, d->resolve);
    curl_easy_setopt(d->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(d->easy, CURLOPT_FOLLOWLOCATION, 0L);
    /* no proxy from the environment: it would reach what the allowlist did not check */
    curl_easy_setopt(d->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(d->body));
    curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
    curl_easy_setopt(d->easy, CURLOPT_USERAGENT, "mod_interactions/" PACKAGE_VERSION);
    curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, (long)d->w->conf.timeout_ms);
    curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(d->w->conf.timeout_ms < 5000 ? d->w->conf.timeout_ms : 5000));
    curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d);
}

/* What came back for @d once its transfer is done. */
static void finish(delivery_t *d, CURLcode code, apr_pool_t *p)
{
    curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &d->status);
    if (code != CURLE_OK) {
        d->error = apr_pstrdup(p, d->errbuf[0] ? d->errbuf : curl_easy_strerror(code));
        d->status = 0;
    }
    else if (d->status >= 300 && d->status < 400) {
        d->error = apr_psprintf(p, "HTTP %ld: redirects are not followed", d->status);
    }
    else if (d->status < 200 || d->status > 299) {
        d->error = apr_psprintf(p, "HTTP %ld", d->status);
    }
}

/* ------------------------------------------------------------------ a round */

/* Parse the claim's answer into deliveries. */
static apr_array_header_t *parse_claim(mi_webhook_t *w, const char *text, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, MI_WEBHOOK_CLAIM, sizeof(delivery_t *));
    json_object *doc = json_tokener_parse(text), *list, *item, *v;
    size_t i;

    if (doc == NULL) {
        return out;
    }
    mi_json_bind(p, doc);
    if (!json_object_object_get_ex(doc, "deliveries", &list)
        || !json_object_is_type(list, json_type_array)) {
        return out;
    }
    for (i = 0; i < json_object_array_length(list); i++) {
        delivery_t *d = apr_pcalloc(p, sizeof(*d));

        item = json_object_array_get_idx(list, i);
        d->w = w;
        d->cc = json_object_object_get_ex(item, "cc", &v) ? json_object_get_int(v) : 0;
        d->id = json_object_object_get_ex(item, "id", &v)
                    ? apr_pstrdup(p, json_object_get_string(v))
                    : "";
        d->webhook = json_object_object_get_ex(item, "webhookId", &v)
                         ? apr_pstrdup(p, json_object_get_string(v))
                         : "";
        d->attempt = json_object_object_get_ex(item, "attempt", &v) ? json_object_get_int(v) : 0;
        d->url = json_object_object_get_ex(item, "url", &v)
                     ? apr_pstrdup(p, json_object_get_string(v))
                     : "";
        d->body = json_object_object_get_ex(item, "body", &v)
                      ? apr_pstrdup(p, json_object_get_string(v))
                      : "";
        d->signature = json_object_object_get_ex(item, "signature", &v)
                           ? apr_pstrdup(p, json_object_get_string(v))
                           : "";
        APR_ARRAY_PUSH(out, delivery_t *) = d;
    }
    return out;
}

/* POST every prepared delivery at once; returns when all are done or the thread stops. */
static void post_all(mi_webhook_t *w, apr_array_header_t *ds, apr_pool_t *p)
{
    CURLM *multi = curl_multi_init();
    CURLMsg *msg;
    int i, running = 0, left;

    if (multi == NULL) {
        for (i = 0; i < ds->nelts; i++) {
            delivery_t *d = APR_ARRAY_IDX(ds, i, delivery_t *);
            if (d->error == NULL) {
                d->error = "not requested: libcurl could not make a multi handle";
            }
        }
        return;
    }
    for (i = 0; i < ds->nelts; i++) {
        delivery_t *d = APR_ARRAY_IDX(ds, i, delivery_t *);
        if (d->easy != NULL && d->error == NULL) {
            curl_multi_add_handle(multi, d->easy);
        }
    }
    do {
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            break;
        }
        if (running > 0) {
            curl_multi_poll(multi, NULL, 0, 200, NULL);
        }
    } while (running > 0 && !w->stop);
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        void *priv = NULL;

        if (msg->msg == CURLMSG_DONE
            && curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) == CURLE_OK
            && priv != NULL) {
            finish(priv, msg->data.result, p);
        }
    }
    for (i = 0; i < ds->nelts; i++) {
        delivery_t *d = APR_ARRAY_IDX(ds, i, delivery_t *);
        if (d->easy != NULL) {
            curl_multi_remove_handle(multi, d->easy);
            if (d->error == NULL && d->status == 0) {
                d->error = "not finished: the worker stopped"; /* its lease brings it back */
            }
        }
    }
    curl_multi_cleanup(multi);
}

/* One round; returns how many deliveries it handled, -1 when the database failed. */
static int round_once(mi_webhook_t *w, apr_pool_t *p)
{
    const char *params[8];
    const char *val;
    apr_array_header_t *ds;
    int i;

    params[0] = apr_itoa(p, MI_WEBHOOK_CLAIM);
    params[1] = apr_itoa(p, MI_WEBHOOK_BATCH);
    params[2] = apr_itoa(p, w->conf.timeout_ms + MI_WEBHOOK_LEASE_MARGIN_MS);
    val = worker_scalar(w, CLAIM_SQL, 3, params, p);
    if (val == NULL) {
        return -1;
    }
    ds = parse_claim(w, val, p);
    for (i = 0; i < ds->nelts; i++) {
        prepare(APR_ARRAY_IDX(ds, i, delivery_t *), p);
    }
    post_all(w, ds, p);
    for (i = 0; i < ds->nelts; i++) {
        delivery_t *d = APR_ARRAY_IDX(ds, i, delivery_t *);

        if (w->stop && d->status == 0 && d->easy != NULL) {
            continue; /* not answered: leave it to its lease */
        }
        params[0] = apr_itoa(p, d->cc);
        params[1] = d->id;
        params[2] = apr_itoa(p, d->attempt);
        params[3] = apr_ltoa(p, d->error == NULL ? d->status : (d->status > 0 ? d->status : 0));
        params[4] = d->error;
        params[5] = apr_itoa(p, w->conf.attempts);
        params[6] = apr_itoa(p, MI_WEBHOOK_BACKOFF_MS);
        params[7] = apr_itoa(p, MI_WEBHOOK_BACKOFF_MAX_MS);
        val = worker_scalar(w, RESULT_SQL, 8, params, p);
        if (val == NULL) {
            return -1;
        }
        if (strcmp(val, "dead") == 0) {
            mi_log_perror(MI_LOG_MARK, MI_LOG_WARNING, 0, NULL,
                          MI_LOGNO(00802) "webhook %s (contact center %d): delivery %s failed %d "
                                          "times and is "
                                          "dead (interactions.webhook_deliveries); the last: %s",
                          d->webhook, d->cc, d->id, d->attempt, d->error ? d->error : "?");
        }
    }
    return ds->nelts;
}

/* ------------------------------------------------------------------ the thread */

/* Sleep @ms unless stopped meanwhile; returns whether to go on. */
static int rest(mi_webhook_t *w, int ms)
{
    int go_on;

    apr_thread_mutex_lock(w->mutex);
    if (!w->stop) {
        apr_thread_cond_timedwait(w->cond, w->mutex, apr_time_from_msec(ms));
    }
    go_on = !w->stop;
    apr_thread_mutex_unlock(w->mutex);
    return go_on;
}

static void *APR_THREAD_FUNC webhook_main(apr_thread_t *thread, void *data)
{
    mi_webhook_t *w = data;
    apr_pool_t *tmp;
    int n;

    /* pools of this thread alone, with an allocator of their own */
    apr_pool_create(&w->pool, NULL);
    apr_pool_create(&tmp, w->pool);
    /* the processes of a server start together: not all of them look at once */
    if (!rest(w, (int)(apr_time_now() % MI_WEBHOOK_ELECT_MS))) {
        goto leave;
    }
    while (!w->stop) {
        if (w->conn == NULL) {
            try_to_become_worker(w, tmp);
            apr_pool_clear(tmp);
            if (w->conn == NULL) {
                rest(w, MI_WEBHOOK_ELECT_MS);
                continue;
            }
        }
        do {
            n = round_once(w, tmp);
            apr_pool_clear(tmp);
            if (n >= 0) {
                w->failing = 0;
            }
        } while (n > 0 && !w->stop);
        if (n < 0) {
            /* the connection, and with it the lock, are in doubt: start over */
            drop_connection(w);
            rest(w, MI_WEBHOOK_ELECT_MS);
            continue;
        }
        rest(w, MI_WEBHOOK_POLL_MS);
    }

leave:
    drop_connection(w);
    apr_pool_destroy(w->pool); /* tmp with it */
    (void)thread;
    return NULL;
}

void mi_webhook_shutdown(mi_webhook_t *w)
{
    apr_thread_mutex_lock(w->mutex);
    w->stop = 1;
    apr_thread_cond_broadcast(w->cond);
    apr_thread_mutex_unlock(w->mutex);
}

/* A pre-cleanup of the pool the thread was started with: the thread is gone before the
 * pool (and the store it uses) are destroyed. */
static apr_status_t webhook_stop(void *data)
{
    mi_webhook_t *w = data;
    apr_status_t trv;

    mi_webhook_shutdown(w);
    apr_thread_join(&trv, w->thread);
    return APR_SUCCESS;
}

apr_status_t mi_webhook_create(mi_webhook_t **pw, const mi_webhook_conf_t *conf, apr_pool_t *p)
{
    mi_webhook_t *w = apr_pcalloc(p, sizeof(*w));
    apr_threadattr_t *attr;
    apr_status_t rv;

    *pw = NULL;
    w->conf = *conf;
    if ((rv = apr_thread_mutex_create(&w->mutex, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&w->cond, p)) != APR_SUCCESS
        || (rv = apr_threadattr_create(&attr, p)) != APR_SUCCESS) {
        goto leave;
    }
    apr_threadattr_stacksize_set(attr, MI_WEBHOOK_STACK_SIZE);
    rv = apr_thread_create(&w->thread, attr, webhook_main, w, p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    apr_pool_pre_cleanup_register(p, w, webhook_stop);
    *pw = w;

leave:
    return rv;
}
