/* mod_interactions_http.c — what every handler of the module shares on the HTTP side: the
 * JSON envelope out (answers and errors, counted for the statistics), the JSON body in, the
 * absolute base of interaction uris, and the filter that turns httpd's own error pages inside
 * an API location into the envelope.
 */
#include <httpd.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mi_json.h"
#include "mi_render.h"
#include "mi_request.h"
#include "mod_interactions.h"
#include "mod_interactions_config.h"
#include "mod_interactions_http.h"
#include "mod_interactions_status.h"

/* ------------------------------------------------------------------ responses */

int mi_ap_http_send_json(request_rec *r, int status, json_object *body)
{
    apr_size_t len;
    const char *text = mi_json_dump_len(body, r->pool, &len);

    mi_ap_status_count(r, status, (int)mi_json_get_int(body, "statusCode", MI_SC_INTERNAL));
    r->status = status;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    /* a browser must never take an answer (user data, subjects) for HTML or script */
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
    return OK;
}

int mi_ap_http_send_error(request_rec *r, const mi_error_t *err)
{
    int http = mi_error_http(err);

    if (http == HTTP_SERVICE_UNAVAILABLE) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_itoa(r->pool, mi_ap_config_srv()->retry_after_s));
    }
    return mi_ap_http_send_json(r, http, mi_envelope_error(r->pool, err));
}

mi_error_t *mi_ap_http_store_error(apr_status_t rv, mi_error_t *err)
{
    if (rv == MI_STORE_UNAVAILABLE) {
        return mi_error_set(err, MI_SC_INTERNAL, HTTP_SERVICE_UNAVAILABLE,
                            "the database is unavailable; retry later");
    }
    return mi_error_set(err, MI_SC_INTERNAL, HTTP_INTERNAL_SERVER_ERROR, "internal error");
}

/* ------------------------------------------------------------------ request body */

static int is_json_type(const char *ct)
{
    apr_size_t n = 16;

    if (ct == NULL || strncasecmp(ct, "application/json", n) != 0) {
        return 0;
    }
    while (ct[n] == ' ' || ct[n] == '\t') n++;
    return ct[n] == '\0' || ct[n] == ';';
}

/* Read the body, at most @max bytes; 413 beyond. */
static int read_body(request_rec *r, apr_size_t max, char **pbuf, apr_size_t *plen,
                     mi_error_t *err)
{
    apr_size_t len = 0, cap = 8192;
    char *buf;
    long n;

    *pbuf = NULL;
    *plen = 0;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST, "the request body cannot be read");
        return 0;
    }
    if (r->remaining > (apr_off_t)max) {
        mi_error_set(err, MI_SC_INVALID, HTTP_REQUEST_ENTITY_TOO_LARGE,
                     apr_psprintf(r->pool, "the request body is larger than %" APR_SIZE_T_FMT
                                  " bytes", max));
        return 0;
    }
    if (!ap_should_client_block(r)) {
        *pbuf = apr_pstrdup(r->pool, "");
        return 1;
    }
    if (r->remaining > 0) {
        cap = (apr_size_t)r->remaining + 1;
    }
    buf = apr_palloc(r->pool, cap);
    for (;;) {
        if (len + 1 >= cap) {
            char *bigger;
            if (cap > max + 1) {
                break;
            }
            bigger = apr_palloc(r->pool, cap * 2);
            memcpy(bigger, buf, len);
            buf = bigger;
            cap *= 2;
        }
        n = ap_get_client_block(r, buf + len, cap - len - 1);
        if (n < 0) {
            mi_error_set(err, MI_SC_INVALID, HTTP_BAD_REQUEST, "the request body cannot be read");
            return 0;
        }
        if (n == 0) {
            break;
        }
        len += (apr_size_t)n;
        if (len > max) {
            break;
        }
    }
    if (len > max) {
        mi_error_set(err, MI_SC_INVALID, HTTP_REQUEST_ENTITY_TOO_LARGE,
                     apr_psprintf(r->pool, "the request body is larger than %" APR_SIZE_T_FMT
                                  " bytes", max));
        return 0;
    }
    buf[len] = '\0';
    *pbuf = buf;
    *plen = len;
    return 1;
}

/* A write must carry a JSON document: 415 for anything else (this also keeps other sites'
 * HTML forms, which cannot send application/json, from posting with a browser's cached
 * credentials), 413 when too large, 400 with the position when malformed. */
int mi_ap_http_read_json(request_rec *r, const mi_limits_t *lim, json_object **pbody,
                      mi_error_t *err)
{
    char *buf;
    apr_size_t len;

    *pbody = NULL;
    if (!is_json_type(apr_table_get(r->headers_in, "Content-Type"))) {
        mi_error_set(err, MI_SC_INVALID, HTTP_UNSUPPORTED_MEDIA_TYPE,
                     "the request body must be application/json");
        return 0;
    }
    return read_body(r, lim->max_body, &buf, &len, err)
           && mi_request_parse_body(pbody, buf, len, lim, r->pool, err);
}

/* ------------------------------------------------------------------ the base of uris */

static int from_trusted_proxy(request_rec *r, const mi_ap_dir_conf_t *dc)
{
    int i;

    if (dc->trusted_proxies == NULL) {
        return 0;
    }
    /* the peer of the TCP connection, which a client cannot choose (unlike the headers) */
    for (i = 0; i < dc->trusted_proxies->nelts; i++) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(dc->trusted_proxies, i, apr_ipsubnet_t *),
                              r->connection->client_addr)) {
            return 1;
        }
    }
    return 0;
}

const char *mi_ap_http_public_base(request_rec *r, const mi_ap_dir_conf_t *dc, const char *path)
{
    const char *origin = dc->public_origin;
    apr_port_t port;

    /* Never the request's Host header: uris end up in push messages that one process
     * renders once for every recipient (mi_push_cache.h), so what a client sends must not
     * choose them, nor multiply them. */
    if (origin == NULL && from_trusted_proxy(r, dc)) {
        origin = mi_render_forwarded_origin(apr_table_get(r->headers_in, "X-Forwarded-Proto"),
                                            apr_table_get(r->headers_in, "X-Forwarded-Host"),
                                            ap_http_scheme(r), r->pool);
    }
    if (origin == NULL) {
        /* ServerName, with its port if it names one, else the port the request came in on */
        port = r->server->port != 0 ? r->server->port
               : r->connection->local_addr != NULL ? r->connection->local_addr->port : 0;
        origin = mi_render_origin(ap_http_scheme(r), r->server->server_hostname, port, r->pool);
    }
    return apr_pstrcat(r->pool, origin, path, NULL);
}

/* ------------------------------------------------------------------ error pages */

#define ERROR_FILTER "INTERACTIONS_ERROR"

static void insert_error_filter(request_rec *r)
{
    const mi_ap_dir_conf_t *dc = mi_ap_config_dir(r);

    /* httpd refuses some requests before it has merged the <Location> sections: an encoded
     * slash or NUL in the path (AH00026), a malformed header.  Such a request still carries
     * the server's defaults, so it would get httpd's HTML page even inside an API location.
     * Walk the locations now (what httpd would have done next) so that it gets the envelope. */
    if ((dc == NULL || dc->contact_center == NULL)
        && r->per_dir_config == r->server->lookup_defaults
        && r->uri != NULL && r->uri[0] == '/') {
        ap_location_walk(r);
        dc = mi_ap_config_dir(r);
    }
    if (dc != NULL && dc->contact_center != NULL) {
        ap_add_output_filter(ERROR_FILTER, NULL, r, r->connection);
        if (r->status == HTTP_INTERNAL_SERVER_ERROR
            && apr_table_get(r->notes, MI_AP_NOTE_DB_DOWN) != NULL) {
            /* the authn provider could not reach the database: say so, and when to retry */
            r->status = HTTP_SERVICE_UNAVAILABLE;
            r->status_line = NULL;
            apr_table_setn(r->err_headers_out, "Retry-After",
                           apr_itoa(r->pool, mi_ap_config_srv()->retry_after_s));
        }
        if (r->status == HTTP_UNAUTHORIZED && apr_table_get(r->notes, MI_AP_NOTE_AUTHN_LOCKED) != NULL) {
            /* too many failed logins: say when trying again can help */
            apr_table_setn(r->err_headers_out, "Retry-After",
                           apr_table_get(r->notes, MI_AP_NOTE_AUTHN_LOCKED));
        }
    }
}

static apr_status_t error_output_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket_brigade *out;
    mi_error_t err;
    const char *text;
    apr_size_t len;
    int eos = 0;

    /* Drop httpd's HTML body; send the envelope once, when the body ends. */
    while (!APR_BRIGADE_EMPTY(bb)) {
        apr_bucket *b = APR_BRIGADE_FIRST(bb);
        if (APR_BUCKET_IS_EOS(b)) {
            eos = 1;
        }
        apr_bucket_delete(b);
    }
    if (!eos) {
        return APR_SUCCESS;
    }
    ap_remove_output_filter(f);
    mi_error_set(&err, mi_status_from_http(r->status), r->status,
                 r->status == HTTP_UNAUTHORIZED
                     && apr_table_get(r->notes, MI_AP_NOTE_AUTHN_LOCKED) != NULL
                     ? "not authenticated: too many failed logins, try again later"
                 : r->status == HTTP_UNAUTHORIZED ? "not authenticated"
                 : r->status == HTTP_SERVICE_UNAVAILABLE ? "the database is unavailable"
                 : ap_get_status_line(r->status) + 4);
    mi_ap_status_count(r, r->status, err.sc);
    text = mi_json_dump_len(mi_envelope_error(r->pool, &err), r->pool, &len);
    ap_set_content_type(r, "application/json");
    /* like every other answer of the API (mi_ap_http_send_json); once */
    apr_table_unset(r->headers_out, "X-Content-Type-Options");
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)len);
    out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_pool_create(text, len, r->pool,
                                                        r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(f->next, out);
}

void mi_ap_http_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(ERROR_FILTER, error_output_filter, NULL, AP_FTYPE_CONTENT_SET);
}
