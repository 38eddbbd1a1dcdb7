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

/* ------------------------------------------------------------------ the event feed */

int mi_validate_events_query(json_object **pargs, const char *query, const mi_limits_t *lim,
                             apr_pool_t *p, mi_error_t *err)
{
    apr_table_t *t = apr_table_make(p, 4);
    json_object *args = mi_json_bind(p, json_object_new_object());
    const apr_array_header_t *all;
    const char *v;
    char *end;
    long long after = 0;
    long n;
    int i;

    *pargs = NULL;
    if (!mi_form_parse(t, query, p)) {
        return fail(err, MI_SC_INVALID, p, "malformed query string");
    }
    all = apr_table_elts(t);
    for (i = 0; i < all->nelts; i++) {
        const char *k = APR_ARRAY_IDX(all, i, apr_table_entry_t).key;
        if (strcmp(k, "after") != 0 && strcmp(k, "limit") != 0 && strcmp(k, "wait") != 0) {
            return fail(err, MI_SC_INVALID, p, "unknown parameter '%s' (after, limit, wait)", k);
        }
    }
    if ((v = apr_table_get(t, "after")) != NULL) {
        /* a seq: digits only, at most 18 of them (always within a bigint) */
        if (*v == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18) {
            return fail(err, MI_SC_INVALID, p, "'after' must be a non-negative integer (the seq of an event)");
        }
        after = strtoll(v, &end, 10);
    }
    json_object_object_add(args, "after", json_object_new_int64(after));
    n = lim->default_page;
    if ((v = apr_table_get(t, "limit")) != NULL && !parse_count(v, 1, lim->max_page, &n)) {
        return fail(err, MI_SC_INVALID, p, "'limit' must be an integer from 1 to %d",
                    lim->max_page);
    }
    json_object_object_add(args, "limit", json_object_new_int((int)n));
    n = 0;
    if ((v = apr_table_get(t, "wait")) != NULL && !parse_count(v, 0, MI_EVENTS_MAX_WAIT_S, &n)) {
        return fail(err, MI_SC_INVALID, p, "'wait' must be an integer from 0 to %d (seconds)",
                    MI_EVENTS_MAX_WAIT_S);
    }
    json_object_object_add(args, "wait", json_object_new_int((int)n));
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

/* The fields GWS clients send in operation bodies besides this server's own: GWS 8.5.x
 * operation pages and the Genesys sample clients (docs/api.md lists them with their sources;
 * tests/unit/test_validate.c holds that list and this one in step).  A field of its operation
 * (MI_OP_NONE: of every operationName) is accepted: those marked used are read by the
 * operation's case in mi_validate_operation(); the others only have their type checked and
 * go no further.  A field that is neither the operation's own nor here is still refused
 * (statusCode 10): a typo must not pass silently. */
static const mi_gws_field_t gws_fields[] = {
    /* any operation: GWS desktops send a reason or a disposition code with their actions
     * (iOS sample: SetDisposition {disposition, dispositionKey}; UCS StopInteraction: Reason) */
    { MI_OP_NONE,             "reason",           json_type_string,  0 },
    { MI_OP_NONE,             "disposition",      json_type_string,  0 },
    { MI_OP_NONE,             "dispositionKey",   json_type_string,  0 },
    /* EmailComplete: last-agent routing in the contact profile (no contact profiles here) */
    { MI_OP_COMPLETE,         "saveLAR",          json_type_boolean, 0 },
    /* the queue by uri (EmailReply, WorkitemCreate): {base}/queues/{name} of this location */
    { MI_OP_COMPLETE,         "queueUri",         json_type_string,  1 },
    { MI_OP_PLACE_IN_QUEUE,   "queueUri",         json_type_string,  1 },
    /* WorkbinAddInteractionToWorkbin */
    { MI_OP_PLACE_IN_WORKBIN, "saveLAR",          json_type_boolean, 0 },
    /* WorkbinPullInteractionFromWorkbin: a chat nickname */
    { MI_OP_PULL,             "nickname",         json_type_string,  0 },
    /* EmailTransfer, FacebookPMTransfer: the target as a path, /users/{id} or /queues/{name} */
    { MI_OP_TRANSFER,         "queueUri",         json_type_string,  1 },
    { MI_OP_TRANSFER,         "targetPath",       json_type_string,  1 },
    /* EmailReply, EmailReplyAll: the draft's queue, body and user data are used; how GWS
     * would quote the original is not (the draft starts from this server's rules) */
    { MI_OP_REPLY,            "queueName",        json_type_string,  1 },
    { MI_OP_REPLY,            "queueUri",         json_type_string,  1 },
    { MI_OP_REPLY,            "body",             json_type_string,  1 },
    { MI_OP_REPLY,            "userData",         json_type_object,  1 },
    { MI_OP_REPLY,            "bodyAsPlainText",  json_type_string,  0 },
    { MI_OP_REPLY,            "mime",             json_type_string,  0 },
    { MI_OP_REPLY,            "subjectPrefix",    json_type_string,  0 },
    { MI_OP_REPLY,            "replyToStartLine", json_type_string,  0 },
    { MI_OP_REPLY,            "quoteOriginal",    json_type_boolean, 0 },
    { MI_OP_REPLY,            "indentCharacter",  json_type_string,  0 },
    { MI_OP_REPLY_ALL,        "queueName",        json_type_string,  1 },
    { MI_OP_REPLY_ALL,        "queueUri",         json_type_string,  1 },
    { MI_OP_REPLY_ALL,        "body",             json_type_string,  1 },
    { MI_OP_REPLY_ALL,        "userData",         json_type_object,  1 },
    { MI_OP_REPLY_ALL,        "bodyAsPlainText",  json_type_string,  0 },
    { MI_OP_REPLY_ALL,        "mime",             json_type_string,  0 },
    { MI_OP_REPLY_ALL,        "subjectPrefix",    json_type_string,  0 },
    { MI_OP_REPLY_ALL,        "replyToStartLine", json_type_string,  0 },
    { MI_OP_REPLY_ALL,        "quoteOriginal",    json_type_boolean, 0 },
    { MI_OP_REPLY_ALL,        "indentCharacter",  json_type_string,  0 },
};

const mi_gws_field_t *mi_validate_gws_fields(int *pn)
{
    *pn = (int)(sizeof(gws_fields) / sizeof(gws_fields[0]));
    return gws_fields;
}

/* The GWS field @key of operation @op, or NULL. */
static const mi_gws_field_t *gws_field(mi_op_e op, const char *key)
{
    size_t i;

    for (i = 0; i < sizeof(gws_fields) / sizeof(gws_fields[0]); i++) {
        if ((gws_fields[i].op == op || gws_fields[i].op == MI_OP_NONE)
            && strcmp(gws_fields[i].name, key) == 0) {
            return &gws_fields[i];
        }
    }
    return NULL;
}

/* only_fields() for operation @op: its own @allowed, and the GWS fields of @op with the
 * type GWS gives them. */
static int only_op_fields(json_object *body, mi_op_e op, const char *const *allowed, apr_pool_t *p,
                          mi_error_t *err)
{
    json_object_object_foreach(body, key, val) {
        const char *const *a;
        const mi_gws_field_t *g;

        for (a = allowed; *a != NULL && strcmp(*a, key) != 0; a++)
            ;
        if (*a != NULL) {
            continue;
        }
        g = gws_field(op, key);
        if (g == NULL) {
            return fail(err, MI_SC_INVALID, p, "unknown field '%s'", clip(key, 64, p));
        }
        if (val != NULL && !json_object_is_type(val, g->type)) {
            return fail(err, MI_SC_INVALID, p, "'%s' must be %s", g->name,
                        g->type == json_type_boolean ? "true or false"
                        : g->type == json_type_object ? "an object" : "a string");
        }
    }
    return 1;
}

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

/* A uri that names a resource: a non-empty string without NUL, at most MI_MAX_URI_CHARS. */
static int uri_string(json_object *v, const char *key, apr_pool_t *p, mi_error_t *err)
{
    if (!json_object_is_type(v, json_type_string) || mi_json_string_has_nul(v)
        || json_object_get_string_len(v) == 0) {
        return fail(err, MI_SC_INVALID, p, "'%s' must be a non-empty string", key);
    }
    if (mi_utf8_chars(json_object_get_string(v), (apr_size_t)json_object_get_string_len(v))
        > MI_MAX_URI_CHARS) {
        return fail(err, MI_SC_INVALID, p, "'%s' is longer than %d characters", key,
                    MI_MAX_URI_CHARS);
    }
    return 1;
}

/* The queue an operation names: "queueName", or GWS's "queueUri" (kept as "_queueUri" with
 * the field's name in "_queueUriField" until mi_request_resolve() turns it into a name of
 * this location).  Not both. */
static int take_queue(json_object *args, json_object *body, int required, apr_pool_t *p,
                      mi_error_t *err)
{
    json_object *uri = mi_json_get(body, "queueUri");

    if (uri != NULL && mi_json_get(body, "queueName") != NULL) {
        return fail(err, MI_SC_INVALID, p, "give either 'queueName' or 'queueUri', not both");
    }
    if (uri == NULL) {
        if (!take_string(args, body, "queueName", required, MI_MAX_NAME_CHARS, p, err)) {
            return 0;
        }
        if ((uri = mi_json_get(args, "queueName")) != NULL
            && json_object_get_string_len(uri) == 0) {
            return fail(err, MI_SC_INVALID, p, "'queueName' must not be empty");
        }
        return 1;
    }
    if (!uri_string(uri, "queueUri", p, err)) {
        return 0;
    }
    json_object_object_add(args, "_queueUri", json_object_get(uri));
    json_object_object_add(args, "_queueUriField", json_object_new_string("queueUri"));
    return 1;
}

/* GWS's "targetPath" of Transfer, relative to the API base: "/users/{id or userName}" is the
 * target user (as userUri), "/queues/{name}" the target queue (as queueUri). */
static int take_target_path(json_object *args, json_object *body, apr_pool_t *p, mi_error_t *err)
{
    json_object *v = mi_json_get(body, "targetPath");
    const char *s, *name;

    if (v == NULL) {
        return 1;
    }
    if (!uri_string(v, "targetPath", p, err)) {
        return 0;
    }
    if (mi_json_get(args, "user") != NULL || mi_json_get(args, "queueName") != NULL
        || mi_json_get(args, "_queueUri") != NULL) {
        return fail(err, MI_SC_INVALID, p, "give one target: a user, a queue or a targetPath");
    }
    s = json_object_get_string(v);
    if (strncmp(s, "/queues/", 8) == 0) {
        json_object_object_add(args, "_queueUri", json_object_get(v));
        json_object_object_add(args, "_queueUriField", json_object_new_string("targetPath"));
        return 1;
    }
    name = s + 7;
    if (strncmp(s, "/users/", 7) != 0 || *name == '\0' || strchr(name, '/') != NULL) {
        return fail(err, MI_SC_INVALID, p, "'targetPath' must be /users/{id} or /queues/{name}");
    }
    if (mi_utf8_chars(name, strlen(name)) > MI_MAX_NAME_CHARS) {
        return fail(err, MI_SC_INVALID, p, "'targetPath' is too long");
    }
    json_object_object_add(args, "user", json_object_new_string(name));
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
        ok = only_op_fields(body, op, f_queue, p, err) && take_queue(args, body, 0, p, err);
        break;
    case MI_OP_PLACE_IN_QUEUE:
        ok = only_op_fields(body, op, f_queue, p, err) && take_queue(args, body, 1, p, err);
        break;
    case MI_OP_PLACE_IN_WORKBIN:
    case MI_OP_GET_WORKBIN_CONTENT:
        ok = only_op_fields(body, op, f_workbin, p, err)
             && take_string(args, body, "workbin", 1, MI_MAX_NAME_CHARS, p, err);
        break;
    case MI_OP_TRANSFER:
        ok = only_op_fields(body, op, f_transfer, p, err)
             && take_target_user(args, body, p, err)
             && take_queue(args, body, 0, p, err);
        if (ok && mi_json_get(args, "user") != NULL
            && (mi_json_get(args, "queueName") != NULL || mi_json_get(args, "_queueUri") != NULL)) {
            ok = fail(err, MI_SC_INVALID, p, "give a user or a queue, not both");
        }
        ok = ok && take_target_path(args, body, p, err);
        if (ok && mi_json_get(args, "user") == NULL && mi_json_get(args, "queueName") == NULL
            && mi_json_get(args, "_queueUri") == NULL) {
            ok = fail(err, MI_SC_MISSING, p, "'userId' or 'queueName' is required");
        }
        break;
    case MI_OP_ATTACH_USER_DATA:
    case MI_OP_UPDATE_USER_DATA:
        ok = only_op_fields(body, op, f_userdata, p, err)
             && take_user_data(args, body, 1, lim, p, err);
        break;
    case MI_OP_DELETE_USER_DATA:
        ok = only_op_fields(body, op, f_delete, p, err) && take_keys(args, body, p, err);
        break;
    case MI_OP_REPLY:
    case MI_OP_REPLY_ALL:
        /* GWS's Reply: the draft's queue (else the original's), first body and user data */
        ok = only_op_fields(body, op, f_none, p, err) && take_queue(args, body, 0, p, err)
             && take_string(args, body, "body", 0, 0, p, err)
             && take_user_data(args, body, 0, lim, p, err);
        break;
    default:
        ok = only_op_fields(body, op, f_none, p, err);
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
