/* mi_validate.c — see mi_validate.h */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "mi_json.h"
#include "mi_validate.h"

/* ------------------------------------------------------------------ small helpers */

static int fail(mi_error_t *err, int sc, apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(mi_error_t *err, int sc, apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mi_error_set(err, sc, 0, apr_pvsprintf(p, fmt, ap));
    va_end(ap);
    return 0;
}

apr_size_t mi_utf8_chars(const char *s, apr_size_t len)
{
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

int mi_utf8_valid(const char *s, apr_size_t len)
{
    return mi_utf8_check(s, len) == len;
}

/* @s (valid UTF-8) cut to at most @max characters for an error message.  "%.64s" would cut
 * bytes, and half a character makes the whole response invalid UTF-8. */
static const char *clip(const char *s, apr_size_t max, apr_pool_t *p)
{
    apr_size_t i, n = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == max) {
            return apr_pstrcat(p, apr_pstrmemdup(p, s, i), "...", NULL);
        }
    }
    return s;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *form_decode(const char *s, apr_size_t len, apr_pool_t *p, int *ok)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        }
        else if (s[i] == '%') {
            int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                *ok = 0;
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    if (!mi_utf8_valid(out, (apr_size_t)(o - out))) {
        *ok = 0;
        return NULL;
    }
    return out;
}

int mi_form_parse(apr_table_t *t, const char *qs, apr_pool_t *p)
{
    int ok = 1;

    while (qs != NULL && *qs != '\0') {
        const char *amp = strchr(qs, '&');
        apr_size_t len = amp != NULL ? (apr_size_t)(amp - qs) : strlen(qs);
        const char *eq = memchr(qs, '=', len);
        char *key, *val;

        if (len > 0) {
            if (eq != NULL) {
                key = form_decode(qs, (apr_size_t)(eq - qs), p, &ok);
                val = ok ? form_decode(eq + 1, len - (apr_size_t)(eq - qs) - 1, p, &ok) : NULL;
            }
            else {
                key = form_decode(qs, len, p, &ok);
                val = apr_pstrdup(p, "");
            }
            if (!ok) {
                return 0;
            }
            apr_table_add(t, key, val);
        }
        qs = amp != NULL ? amp + 1 : NULL;
    }
    return 1;
}

int mi_validate_token(const char *s)
{
    apr_size_t n = 0;

    for (; s != NULL && *s != '\0'; s++, n++) {
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') {
            return 0;
        }
    }
    return n >= 1 && n <= 64;
}

int mi_validate_id(const char *s)
{
    int i;

    if (s == NULL || strlen(s) != 36) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        }
        else if (hexval(s[i]) < 0) {
            return 0;
        }
    }
    return 1;
}

/* A string member: absent is fine unless @required; null counts as absent.  Checks type,
 * NUL bytes, emptiness and length in characters, and copies the value into @args. */
static int take_string(json_object *args, json_object *body, const char *key, int required,
                       apr_size_t max_chars, apr_pool_t *p, mi_error_t *err)
{
    json_object *v = mi_json_get(body, key);
    apr_size_t len;

    if (v == NULL) {
        return required ? fail(err, MI_SC_MISSING, p, "'%s' is required", key) : 1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        return fail(err, MI_SC_INVALID, p, "'%s' must be a string", key);
    }
    len = (apr_size_t)json_object_get_string_len(v);
    if (mi_json_string_has_nul(v)) {
        return fail(err, MI_SC_INVALID, p, "'%s' must not contain NUL characters", key);
    }
    if (len == 0 && required) {
        return fail(err, MI_SC_INVALID, p, "'%s' must not be empty", key);
    }
    if (max_chars > 0 && mi_utf8_chars(json_object_get_string(v), len) > max_chars) {
        return fail(err, MI_SC_INVALID, p, "'%s' is longer than %" APR_SIZE_T_FMT " characters",
                    key, max_chars);
    }
    json_object_object_add(args, key, json_object_get(v));
    return 1;
}

/* An address list: a string or an array of strings. */
static int take_addresses(json_object *args, json_object *body, const char *key,
                          const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err)
{
    json_object *v = mi_json_get(body, key), *list;
    size_t i, n;

    if (v == NULL) {
        return 1;
    }
    if (json_object_is_type(v, json_type_string)) {
        list = json_object_new_array();
        json_object_array_add(list, json_object_get(v));
    }
    else if (json_object_is_type(v, json_type_array)) {
        list = json_object_get(v);
    }
    else {
        return fail(err, MI_SC_INVALID, p, "'%s' must be an array of strings", key);
    }
    json_object_object_add(args, key, list);
    n = json_object_array_length(list);
    if (n > MI_MAX_ADDRESSES) {
        return fail(err, MI_SC_INVALID, p, "'%s' has more than %d entries", key, MI_MAX_ADDRESSES);
    }
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i);
        if (!json_object_is_type(e, json_type_string) || mi_json_string_has_nul(e)
            || json_object_get_string_len(e) == 0) {
            return fail(err, MI_SC_INVALID, p, "'%s' must be an array of non-empty strings", key);
        }
        if (mi_utf8_chars(json_object_get_string(e), (apr_size_t)json_object_get_string_len(e))
            > lim->max_string) {
            return fail(err, MI_SC_INVALID, p, "an entry of '%s' is longer than %"
                        APR_SIZE_T_FMT " characters", key, lim->max_string);
        }
    }
    return 1;
}

/* User data: an object whose keys have 1..255 characters, whose serialized size fits the
 * limit, and which carries no NUL characters (PostgreSQL text and jsonb cannot). */
static int check_user_data(json_object *ud, const char *what, int allow_empty,
                           const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err)
{
    apr_size_t size = 0;

    if (!json_object_is_type(ud, json_type_object)) {
        return fail(err, MI_SC_INVALID, p, "'%s' must be an object", what);
    }
    if (!allow_empty && json_object_object_length(ud) == 0) {
        return fail(err, MI_SC_INVALID, p, "'%s' must not be empty", what);
    }
    {
        json_object_object_foreach(ud, key, val) {
            apr_size_t kc = mi_utf8_chars(key, strlen(key));
            (void)val;
            if (kc < 1 || kc > MI_MAX_KEY_CHARS) {
                return fail(err, MI_SC_INVALID, p, "user data keys must have 1 to %d characters",
                            MI_MAX_KEY_CHARS);
            }
        }
    }
    if (mi_json_has_nul(ud)) {
        return fail(err, MI_SC_INVALID, p, "'%s' must not contain NUL characters", what);
    }
    /* counted as the database will hold it: jsonb writes 1e300 out in full */
    mi_json_dump_len(ud, p, &size);
    size += mi_json_number_growth(ud);
    if (size > lim->max_user_data) {
        return fail(err, MI_SC_INVALID, p, "'%s' is larger than %" APR_SIZE_T_FMT " bytes",
                    what, lim->max_user_data);
    }
    return 1;
}

static int take_user_data(json_object *args, json_object *body, int required,
                          const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err)
{
    json_object *v = mi_json_get(body, "userData");

    if (v == NULL) {
        return required ? fail(err, MI_SC_MISSING, p, "'userData' is required") : 1;
    }
    if (!check_user_data(v, "userData", !required, lim, p, err)) {
        return 0;
    }
    json_object_object_add(args, "userData", json_object_get(v));
    return 1;
}

/* Reject members not in @allowed (NULL-terminated): clients cannot set what they were not
 * offered (OWASP API3, mass assignment). */
static int only_fields(json_object *body, const char *const *allowed, apr_pool_t *p,
                       mi_error_t *err)
{
    json_object_object_foreach(body, key, val) {
        const char *const *a;
        (void)val;
        for (a = allowed; *a != NULL && strcmp(*a, key) != 0; a++)
            ;
        if (*a == NULL) {
            return fail(err, MI_SC_INVALID, p, "unknown field '%s'", clip(key, 64, p));
        }
    }
    return 1;
}

static int need_object(json_object *body, apr_pool_t *p, mi_error_t *err)
{
    if (body == NULL || !json_object_is_type(body, json_type_object)) {
        return fail(err, MI_SC_INVALID, p, "the request body must be a JSON object");
    }
    return 1;
}

/* ------------------------------------------------------------------ list query */

static int parse_count(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0' || !isdigit((unsigned char)*s) || strlen(s) > 10) {
        return 0;
    }
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

static int is_state(const char *s)
{
    static const char *const states[] = {
        "Queued", "Invited", "Processing", "InWorkbin", "Composing",
        "Completed", "Canceled", "Sent", NULL
    };
    const char *const *st;

    for (st = states; *st != NULL; st++) {
        if (strcmp(*st, s) == 0) return 1;
    }
    return 0;
}

int mi_validate_list_query(json_object **pargs, const char *query, const mi_limits_t *lim,
                           apr_pool_t *p, mi_error_t *err)
{
    apr_table_t *t = apr_table_make(p, 8);
    json_object *args = mi_json_bind(p, json_object_new_object());
    const char *v;
    long n;

    *pargs = NULL;
    if (!mi_form_parse(t, query, p)) {
        return fail(err, MI_SC_INVALID, p, "malformed query string");
    }
    if ((v = apr_table_get(t, "fields")) != NULL) {
        if (strcmp(v, "*") != 0) {
            return fail(err, MI_SC_INVALID, p, "'fields' supports only '*'");
        }
        json_object_object_add(args, "fields", json_object_new_string("*"));
    }
    if ((v = apr_table_get(t, "state")) != NULL) {
        if (!is_state(v)) {
            return fail(err, MI_SC_INVALID, p, "'state' is not a known state");
        }
        json_object_object_add(args, "state", json_object_new_string(v));
    }
    if ((v = apr_table_get(t, "queue")) != NULL) {
        if (*v == '\0' || mi_utf8_chars(v, strlen(v)) > MI_MAX_NAME_CHARS) {
            return fail(err, MI_SC_INVALID, p, "'queue' must have 1 to %d characters",
                        MI_MAX_NAME_CHARS);
        }
        json_object_object_add(args, "queue", json_object_new_string(v));
    }
    if ((v = apr_table_get(t, "workbin")) != NULL) {
        /* a workbin's content is bounded like a page; this pages through all of it */
        if (*v == '\0' || mi_utf8_chars(v, strlen(v)) > MI_MAX_NAME_CHARS) {
            return fail(err, MI_SC_INVALID, p, "'workbin' must have 1 to %d characters",
                        MI_MAX_NAME_CHARS);
        }
        json_object_object_add(args, "workbin", json_object_new_string(v));
    }
    n = lim->default_page;
    if ((v = apr_table_get(t, "limit")) != NULL && !parse_count(v, 1, lim->max_page, &n)) {
        return fail(err, MI_SC_INVALID, p, "'limit' must be an integer from 1 to %d",
                    lim->max_page);
    }
    json_object_object_add(args, "limit", json_object_new_int((int)n));
    n = 0;
    if ((v = apr_table_get(t, "offset")) != NULL && !parse_count(v, 0, 1000000000L, &n)) {
        return fail(err, MI_SC_INVALID, p, "'offset' must be a non-negative integer");
    }
    json_object_object_add(args, "offset", json_object_new_int((int)n));
    *pargs = args;
    return 1;
}

/* ------------------------------------------------------------------ GET /agents */

int mi_validate_agents_query(json_object **pargs, const char *query, const mi_limits_t *lim,
                             apr_pool_t *p, mi_error_t *err)
{
    static const char *const states[] = { "Ready", "NotReady", "AfterCallWork", "DoNotDisturb",
                                          "LoggedOut", NULL };
    static const char *const known[] = { "media", "state", "queue", "limit", "offset", NULL };
    apr_table_t *t = apr_table_make(p, 8);
    json_object *args = mi_json_bind(p, json_object_new_object());
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    const char *const *k;
    const char *v;
    long n;
    int i;

    *pargs = NULL;
    if (!mi_form_parse(t, query, p)) {
        return fail(err, MI_SC_INVALID, p, "malformed query string");
    }
    /* a filter misspelt would answer every agent: refuse what is not a filter */
    arr = apr_table_elts(t);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        for (k = known; *k != NULL && strcmp(*k, e[i].key) != 0; k++)
            ;
        if (*k == NULL) {
            return fail(err, MI_SC_INVALID, p, "unknown query parameter '%s' (media, state, "
                        "queue, limit, offset)", clip(e[i].key, 64, p));
        }
    }
    if ((v = apr_table_get(t, "media")) != NULL) {
        if (!mi_validate_token(v)) {
            return fail(err, MI_SC_INVALID, p, "'media' must be 1 to 64 letters, digits, '_', "
                        "'-' or '.'");
        }
        json_object_object_add(args, "media", json_object_new_string(v));
    }
    if ((v = apr_table_get(t, "state")) != NULL) {
        for (k = states; *k != NULL && strcmp(*k, v) != 0; k++)
            ;
        if (*k == NULL) {
            return fail(err, MI_SC_INVALID, p, "'state' must be Ready, NotReady, AfterCallWork, "
                        "DoNotDisturb or LoggedOut");
        }
        json_object_object_add(args, "state", json_object_new_string(v));
    }
    if ((v = apr_table_get(t, "queue")) != NULL) {
        if (*v == '\0' || !mi_utf8_valid(v, strlen(v))
            || mi_utf8_chars(v, strlen(v)) > MI_MAX_NAME_CHARS) {
            return fail(err, MI_SC_INVALID, p, "'queue' must have 1 to %d characters",
                        MI_MAX_NAME_CHARS);
        }
        json_object_object_add(args, "queue", json_object_new_string(v));
    }
    n = lim->default_page;
    if ((v = apr_table_get(t, "limit")) != NULL && !parse_count(v, 1, lim->max_page, &n)) {
        return fail(err, MI_SC_INVALID, p, "'limit' must be an integer from 1 to %d",
                    lim->max_page);
    }
    json_object_object_add(args, "limit", json_object_new_int((int)n));
    n = 0;
    if ((v = apr_table_get(t, "offset")) != NULL && !parse_count(v, 0, 1000000000L, &n)) {
        return fail(err, MI_SC_INVALID, p, "'offset' must be a non-negative integer");
    }
    json_object_object_add(args, "offset", json_object_new_int((int)n));
    *pargs = args;
    return 1;
}

/* ------------------------------------------------------------------ create */

int mi_validate_create(json_object **pargs, json_object *body, const mi_limits_t *lim,
                       apr_pool_t *p, mi_error_t *err)
{
    static const char *const fields[] = {
        "mediaType", "queueName", "userData", "subject", "from", "to", "cc", "body",
        "priority", "externalId", NULL
    };
    json_object *args = mi_json_bind(p, json_object_new_object()), *v;

    *pargs = NULL;
    if (!need_object(body, p, err) || !only_fields(body, fields, p, err)
        || !take_string(args, body, "mediaType", 1, 64, p, err)
        || !take_string(args, body, "queueName", 1, MI_MAX_NAME_CHARS, p, err)
        || !take_user_data(args, body, 0, lim, p, err)
        || !take_string(args, body, "subject", 0, lim->max_string, p, err)
        || !take_string(args, body, "from", 0, lim->max_string, p, err)
        || !take_addresses(args, body, "to", lim, p, err)
        || !take_addresses(args, body, "cc", lim, p, err)
        || !take_string(args, body, "body", 0, 0, p, err)
        || !take_string(args, body, "externalId", 0, MI_MAX_NAME_CHARS, p, err)) {
        return 0;
    }
    if (!mi_validate_token(mi_json_get_str(args, "mediaType"))) {
        return fail(err, MI_SC_INVALID, p,
                    "'mediaType' must be 1 to 64 letters, digits, '_', '-' or '.'");
    }
    if ((v = mi_json_get(body, "externalId")) != NULL && json_object_get_string_len(v) == 0) {
        return fail(err, MI_SC_INVALID, p, "'externalId' must not be empty");
    }
    if ((v = mi_json_get(body, "priority")) != NULL) {
        int64_t prio;
        if (!json_object_is_type(v, json_type_int)) {
            return fail(err, MI_SC_INVALID, p, "'priority' must be an integer");
        }
        prio = json_object_get_int64(v);
        if (prio < -1000000 || prio > 1000000) {
            return fail(err, MI_SC_INVALID, p, "'priority' must be between -1000000 and 1000000");
        }
        json_object_object_add(args, "priority", json_object_new_int((int)prio));
    }
    *pargs = args;
    return 1;
}

/* ------------------------------------------------------------------ operations */

/* The user named by userId (id or userName), or by the last path segment of userUri or
 * targetUri ("…/users/{id}"). */
static int take_target_user(json_object *args, json_object *body, apr_pool_t *p,
                            mi_error_t *err)
{
    static const char *const keys[] = { "userId", "userUri", "targetUri" };
    int i, found = 0;

    for (i = 0; i < 3; i++) {
        json_object *v = mi_json_get(body, keys[i]);
        const char *s, *slash;
        if (v == NULL) {
            continue;
        }
        if (!json_object_is_type(v, json_type_string) || mi_json_string_has_nul(v)
            || json_object_get_string_len(v) == 0) {
            return fail(err, MI_SC_INVALID, p, "'%s' must be a non-empty string", keys[i]);
        }
        if (found++) {
            return fail(err, MI_SC_INVALID, p, "give only one of userId, userUri, targetUri");
        }
        s = json_object_get_string(v);
        if (i > 0) {
            slash = strrchr(s, '/');
            s = slash != NULL ? slash + 1 : s;
            if (*s == '\0') {
                return fail(err, MI_SC_INVALID, p, "'%s' does not name a user", keys[i]);
            }
        }
        if (mi_utf8_chars(s, strlen(s)) > MI_MAX_NAME_CHARS) {
            return fail(err, MI_SC_INVALID, p, "'%s' is too long", keys[i]);
        }
        json_object_object_add(args, "user", json_object_new_string(s));
    }
    return 1;
}

static int take_keys(json_object *args, json_object *body, apr_pool_t *p, mi_error_t *err)
{
    json_object *keys = mi_json_get(body, "keys"), *ud = mi_json_get(body, "userData"), *out;
    size_t i, n;

    if (keys != NULL && ud != NULL) {
        return fail(err, MI_SC_INVALID, p, "give either 'keys' or 'userData', not both");
    }
    if (keys == NULL && ud == NULL) {
        return fail(err, MI_SC_MISSING, p, "'keys' is required");
    }
    out = json_object_new_array();
    json_object_object_add(args, "keys", out);
    if (ud != NULL) {
        if (!json_object_is_type(ud, json_type_object) || json_object_object_length(ud) == 0) {
            return fail(err, MI_SC_INVALID, p, "'userData' must be a non-empty object");
        }
        json_object_object_foreach(ud, key, val) {
            (void)val;
            json_object_array_add(out, json_object_new_string(key));
        }
    }
    else {
        if (!json_object_is_type(keys, json_type_array) || json_object_array_length(keys) == 0) {
            return fail(err, MI_SC_INVALID, p, "'keys' must be a non-empty array of strings");
        }
        n = json_object_array_length(keys);
        for (i = 0; i < n; i++) {
            json_object_array_add(out, json_object_get(json_object_array_get_idx(keys, i)));
        }
    }
    n = json_object_array_length(out);
    for (i = 0; i < n; i++) {
        json_object *k = json_object_array_get_idx(out, i);
        apr_size_t kc;
        if (!json_object_is_type(k, json_type_string) || mi_json_string_has_nul(k)) {
            return fail(err, MI_SC_INVALID, p, "'keys' must be an array of strings");
        }
        kc = mi_utf8_chars(json_object_get_string(k), (apr_size_t)json_object_get_string_len(k));
        if (kc < 1 || kc > MI_MAX_KEY_CHARS) {
            return fail(err, MI_SC_INVALID, p, "user data keys must have 1 to %d characters",
                        MI_MAX_KEY_CHARS);
        }
    }
    return 1;
}

int mi_validate_operation(mi_op_e *pop, json_object **pargs, json_object *body, int has_id,
                          const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err)
{
    static const char *const f_none[] = { "operationName", NULL };
    static const char *const f_queue[] = { "operationName", "queueName", NULL };
    static const char *const f_workbin[] = { "operationName", "workbin", NULL };
    static const char *const f_transfer[] = {
        "operationName", "userId", "userUri", "targetUri", "queueName", NULL
    };
    static const char *const f_userdata[] = { "operationName", "userData", NULL };
    static const char *const f_delete[] = { "operationName", "keys", "userData", NULL };
    json_object *args = mi_json_bind(p, json_object_new_object()), *v;
    const char *name;
    mi_op_e op;
    int ok;

    *pop = MI_OP_NONE;
    *pargs = NULL;
    if (!need_object(body, p, err)) {
        return 0;
    }
    v = mi_json_get(body, "operationName");
    if (v == NULL) {
        return fail(err, MI_SC_MISSING, p, "'operationName' is required");
    }
    if (!json_object_is_type(v, json_type_string)) {
        return fail(err, MI_SC_INVALID, p, "'operationName' must be a string");
    }
    if (mi_json_string_has_nul(v)) {
        /* compared as a C string, "Complete\0x" would pass for Complete */
        return fail(err, MI_SC_INVALID, p, "'operationName' must not contain NUL characters");
    }
    name = json_object_get_string(v);
    op = mi_op_parse(name);
    if (op == MI_OP_NONE) {
        return fail(err, MI_SC_INVALID, p, "unknown operation '%s'", clip(name, 64, p));
    }
    if (!has_id && !mi_op_is(op, MI_OPF_NO_ID)) {
        return fail(err, MI_SC_MISSING, p, "'%s' needs an interaction id in the path", name);
    }
    switch (op) {
    case MI_OP_COMPLETE:
        ok = only_fields(body, f_queue, p, err)
             && take_string(args, body, "queueName", 0, MI_MAX_NAME_CHARS, p, err);
        if (ok && (v = mi_json_get(args, "queueName")) != NULL
            && json_object_get_string_len(v) == 0) {
            ok = fail(err, MI_SC_INVALID, p, "'queueName' must not be empty");
        }
        break;
    case MI_OP_PLACE_IN_QUEUE:
        ok = only_fields(body, f_queue, p, err)
             && take_string(args, body, "queueName", 1, MI_MAX_NAME_CHARS, p, err);
        break;
    case MI_OP_PLACE_IN_WORKBIN:
    case MI_OP_GET_WORKBIN_CONTENT:
        ok = only_fields(body, f_workbin, p, err)
             && take_string(args, body, "workbin", 1, MI_MAX_NAME_CHARS, p, err);
        break;
    case MI_OP_TRANSFER:
        ok = only_fields(body, f_transfer, p, err)
             && take_target_user(args, body, p, err)
             && take_string(args, body, "queueName", 0, MI_MAX_NAME_CHARS, p, err);
        if (ok && mi_json_get(args, "user") != NULL && mi_json_get(args, "queueName") != NULL) {
            ok = fail(err, MI_SC_INVALID, p, "give a user or a queueName, not both");
        }
        else if (ok && mi_json_get(args, "user") == NULL && mi_json_get(args, "queueName") == NULL) {
            ok = fail(err, MI_SC_MISSING, p, "'userId' or 'queueName' is required");
        }
        else if (ok && (v = mi_json_get(args, "queueName")) != NULL
                 && json_object_get_string_len(v) == 0) {
            ok = fail(err, MI_SC_INVALID, p, "'queueName' must not be empty");
        }
        break;
    case MI_OP_ATTACH_USER_DATA:
    case MI_OP_UPDATE_USER_DATA:
        ok = only_fields(body, f_userdata, p, err) && take_user_data(args, body, 1, lim, p, err);
        break;
    case MI_OP_DELETE_USER_DATA:
        ok = only_fields(body, f_delete, p, err) && take_keys(args, body, p, err);
        break;
    default:
        ok = only_fields(body, f_none, p, err);
        break;
    }
    if (!ok) {
        return 0;
    }
    json_object_object_add(args, "operationName", json_object_new_string(mi_op_name(op)));
    *pop = op;
    *pargs = args;
    return 1;
}

/* ------------------------------------------------------------------ PUT /interactions/{id} */

int mi_validate_update(json_object **pargs, json_object *body, const mi_limits_t *lim,
                       apr_pool_t *p, mi_error_t *err)
{
    static const char *const read_only[] = {
        "id", "uri", "mediaType", "state", "capabilities", "queue", "workbin", "assignedTo",
        "parentId", "from", "receivedDate", "updatedDate", "priority", "externalId", NULL
    };
    static const char *const writable[] = { "userData", "subject", "to", "cc", "body", NULL };
    json_object *args = mi_json_bind(p, json_object_new_object());
    const char *const *f;

    *pargs = NULL;
    if (!need_object(body, p, err)) {
        return 0;
    }
    for (f = read_only; *f != NULL; f++) {
        if (mi_json_get(body, *f) != NULL) {
            mi_error_set(err, MI_SC_READ_ONLY, 0,
                         apr_psprintf(p, "'%s' is a read-only property", *f));
            return 0;
        }
    }
    if (!only_fields(body, writable, p, err)) {
        return 0;
    }
    if (json_object_object_length(body) == 0) {
        return fail(err, MI_SC_MISSING, p, "nothing to update");
    }
    if (!take_user_data(args, body, 0, lim, p, err)
        || !take_string(args, body, "subject", 0, lim->max_string, p, err)
        || !take_addresses(args, body, "to", lim, p, err)
        || !take_addresses(args, body, "cc", lim, p, err)
        || !take_string(args, body, "body", 0, 0, p, err)) {
        return 0;
    }
    *pargs = args;
    return 1;
}

/* ------------------------------------------------------------------ channels */

int mi_validate_channel(json_object **pargs, const char *media, json_object *body,
                        const mi_limits_t *lim, apr_pool_t *p, mi_error_t *err)
{
    static const char *const fields[] = { "operationName", "reason", NULL };
    json_object *args = mi_json_bind(p, json_object_new_object());
    const char *name;

    (void)lim;
    *pargs = NULL;
    if (!mi_validate_token(media)) {
        return fail(err, MI_SC_INVALID, p, "the media type must be 1 to 64 letters, digits, "
                    "'_', '-' or '.'");
    }
    if (!need_object(body, p, err) || !only_fields(body, fields, p, err)
        || !take_string(args, body, "operationName", 1, 64, p, err)
        || !take_string(args, body, "reason", 0, MI_MAX_NAME_CHARS, p, err)) {
        return 0;
    }
    name = mi_json_get_str(args, "operationName");
    if (strcmp(name, "Ready") != 0 && strcmp(name, "NotReady") != 0
        && strcmp(name, "AfterCallWork") != 0) {
        return fail(err, MI_SC_INVALID, p,
                    "unknown operation '%s' (Ready, NotReady or AfterCallWork)", name);
    }
    if (mi_json_get(args, "reason") != NULL) {
        /* the store knows the contact center's reasons; here only that it is one's form */
        if (strcmp(name, "NotReady") != 0) {
            return fail(err, MI_SC_INVALID, p, "only NotReady takes a reason");
        }
        if (json_object_get_string_len(mi_json_get(args, "reason")) == 0) {
            return fail(err, MI_SC_INVALID, p, "'reason' must not be empty");
        }
    }
    json_object_object_add(args, "media", json_object_new_string(media));
    *pargs = args;
    return 1;
}

/* ------------------------------------------------------------------ POST /me */

int mi_validate_me_state(json_object **pargs, json_object *body, const mi_limits_t *lim,
                         apr_pool_t *p, mi_error_t *err)
{
    static const char *const f_none[] = { "operationName", NULL };
    static const char *const f_start[] = { "operationName", "channels", NULL };
    static const char *const names[] = { "StartContactCenterSession", "EndContactCenterSession",
                                         "DoNotDisturbOn", "DoNotDisturbOff", NULL };
    json_object *args = mi_json_bind(p, json_object_new_object()), *v, *list;
    const char *const *n;
    const char *name;
    size_t i, len;

    *pargs = NULL;
    if (!need_object(body, p, err) || !take_string(args, body, "operationName", 1, 64, p, err)) {
        return 0;
    }
    name = mi_json_get_str(args, "operationName");
    for (n = names; *n != NULL && strcmp(*n, name) != 0; n++)
        ;
    if (*n == NULL) {
        return fail(err, MI_SC_INVALID, p,
                    "unknown operation '%s' (StartContactCenterSession, "
                    "EndContactCenterSession, DoNotDisturbOn or DoNotDisturbOff)",
                    clip(name, 64, p));
    }
    if (strcmp(name, "StartContactCenterSession") != 0) {
        if (!only_fields(body, f_none, p, err)) {
            return 0;
        }
        *pargs = args;
        return 1;
    }
    if (!only_fields(body, f_start, p, err)) {
        return 0;
    }
    v = mi_json_get(body, "channels");
    if (v == NULL) {
        return fail(err, MI_SC_MISSING, p, "'channels' is required");
    }
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
        return fail(err, MI_SC_INVALID, p, "'channels' must be a non-empty array of media types");
    }
    len = json_object_array_length(v);
    if (len > (size_t)lim->max_channels) {
        return fail(err, MI_SC_INVALID, p, "'channels' names more than %d channels",
                    lim->max_channels);
    }
    list = json_object_new_array();
    json_object_object_add(args, "channels", list);
    for (i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string) || mi_json_string_has_nul(e)
            || !mi_validate_token(json_object_get_string(e))) {
            return fail(err, MI_SC_INVALID, p,
                        "each of 'channels' must be a media type: 1 to 64 "
                        "letters, digits, '_', '-' or '.'");
        }
        json_object_array_add(list, json_object_get(e));
    }
    *pargs = args;
    return 1;
}
