/* mod_interactions_http.h — the HTTP side every handler of the module shares: the JSON
 * envelope out, the JSON body in, the base of interaction uris, and httpd's own error pages
 * turned into the envelope. */
#ifndef MOD_INTERACTIONS_HTTP_H
#define MOD_INTERACTIONS_HTTP_H

#include <httpd.h>
#include <json-c/json.h>

#include "mi_limits.h"
#include "mi_status.h"
#include "mod_interactions_config.h"

/* r->notes key set when a request failed because the database was unavailable (the authn
 * provider sets it; the error filter answers 503 with Retry-After) */
#define MI_AP_NOTE_DB_DOWN "interactions-db-unavailable"

/* r->notes key set when the authn provider refused a login without a check (too many
 * failures); its value is the number of seconds until the lock ends */
#define MI_AP_NOTE_AUTHN_LOCKED "interactions-authn-locked"

/** Send @body with HTTP @status as the JSON response, counted for the statistics; returns
 *  OK (or DONE for HEAD). */
int mi_ap_http_send_json(request_rec *r, int status, json_object *body);

/** Send the error envelope for @err; 503 adds Retry-After. */
int mi_ap_http_send_error(request_rec *r, const mi_error_t *err);

/** The error for a failed store call (503 + statusCode 4 when the database is unavailable). */
mi_error_t *mi_ap_http_store_error(apr_status_t rv, mi_error_t *err);

/** Read a JSON request body: 415 unless application/json, 413 beyond the limit, 400 when
 *  malformed. */
int mi_ap_http_read_json(request_rec *r, const mi_limits_t *lim, json_object **pbody,
                         mi_error_t *err);

/** The absolute base of interaction uris for the API at @path: InteractionsPublicOrigin, or
 *  what a trusted proxy names in X-Forwarded-Host/-Proto, or the server's own name and port;
 *  never the request's Host header. */
const char *mi_ap_http_public_base(request_rec *r, const mi_ap_dir_conf_t *dc, const char *path);

/** Register the filter that turns httpd's own error pages (401 from authentication, 413 from
 *  LimitRequestBody, ...) inside an interactions location into the JSON envelope. */
void mi_ap_http_register_hooks(apr_pool_t *p);

#endif
