/* mi_json.c — see mi_json.h */
#include <string.h>

#include <apr_strings.h>

#include "mi_json.h"

static apr_status_t json_cleanup(void *data)
{
    json_object_put((json_object *)data);
    return APR_SUCCESS;
}

json_object *mi_json_bind(apr_pool_t *p, json_object *j)
{
    if (j != NULL) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

static apr_status_t tokener_cleanup(void *data)
{
    json_tokener_free((json_tokener *)data);
    return APR_SUCCESS;
}

static void locate(mi_json_error_t *err, const char *buf, apr_size_t offset, const char *reason)
{
    apr_size_t i;

    err->offset = offset;
    err->line = 1;
    err->column = 1;
    err->reason = reason;
    for (i = 0; i < offset; i++) {
        if (buf[i] == '\n') {
            err->line++;
            err->column = 1;
        }
        else {
            err->column++;
        }
    }
}

/* Outside strings JSON has only punctuation, numbers and the words true, false and null. */
static int lexically_strict(const char *buf, apr_size_t len, mi_json_error_t *err)
{
    apr_size_t i = 0;

    while (i < len) {
        char c = buf[i];
        if (c == '"') {
            for (i++; i < len && buf[i] != '"'; i++) {
                if (buf[i] == '\\') {
                    i++;
                }
            }
            i++;
        }
        else if (c == '\'') {
            locate(err, buf, i, "single-quoted strings are not JSON");
            return 0;
        }
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            apr_size_t start = i, n;
            while (i < len && ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z'))) {
                i++;
            }
            n = i - start;
            if (!((n == 4 && memcmp(buf + start, "true", 4) == 0)
                  || (n == 5 && memcmp(buf + start, "false", 5) == 0)
                  || (n == 4 && memcmp(buf + start, "null", 4) == 0)
                  || (n == 1 && (buf[start] == 'e' || buf[start] == 'E') && start > 0
                      && ((buf[start - 1] >= '0' && buf[start - 1] <= '9') || buf[start - 1] == '.')))) {
                locate(err, buf, start, "unexpected word (only true, false and null)");
                return 0;
            }
        }
        else {
            i++;
        }
    }
    return 1;
}

apr_status_t mi_json_parse(json_object **pj, const char *buf, apr_size_t len, int max_depth,
                           apr_pool_t *p, mi_json_error_t *err)
{
    json_tokener *tok;
    json_object *j = NULL;
    enum json_tokener_error jerr;
    apr_size_t end;
    apr_status_t rv = APR_EINVAL;

    *pj = NULL;
    if (len == 0) {
        locate(err, buf, 0, "empty document");
        return APR_EINVAL;
    }
    if (len > (apr_size_t)INT32_MAX) {
        locate(err, buf, 0, "document too large");
        return APR_EINVAL;
    }
    /* json-c's strict mode still takes single-quoted strings, NaN and Infinity */
    if (!lexically_strict(buf, len, err)) {
        return APR_EINVAL;
    }
    /* json-c counts the outermost container as level 1: a limit of N allows N levels */
    tok = json_tokener_new_ex(max_depth);
    if (tok == NULL) {
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(p, tok, tokener_cleanup, apr_pool_cleanup_null);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

    j = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* a bare number ends only when something follows it */
        j = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    if (jerr == json_tokener_continue) {
        locate(err, buf, len, "unexpected end of document");
        goto leave;
    }
    if (jerr != json_tokener_success || j == NULL) {
        locate(err, buf, end < len ? end : len - 1,
               jerr == json_tokener_error_depth ? "nesting too deep"
               : jerr == json_tokener_error_parse_utf8_string ? "invalid UTF-8"
               : json_tokener_error_desc(jerr));
        goto leave;
    }
    for (; end < len; end++) {
        if (buf[end] != ' ' && buf[end] != '\t' && buf[end] != '\r' && buf[end] != '\n') {
            locate(err, buf, end, "unexpected data after the JSON value");
            goto leave;
        }
    }
    *pj = mi_json_bind(p, j);
    j = NULL;
    rv = APR_SUCCESS;

leave:
    if (j != NULL) {
        json_object_put(j);
    }
    apr_pool_cleanup_run(p, tok, tokener_cleanup);
    return rv;
}

const char *mi_json_dump_len(json_object *j, apr_pool_t *p, apr_size_t *plen)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(j, JSON_C_TO_STRING_PLAIN
                                                      | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (plen != NULL) {
        *plen = len;
    }
    return apr_pstrmemdup(p, s, len);
}

const char *mi_json_dump(json_object *j, apr_pool_t *p)
{
    return mi_json_dump_len(j, p, NULL);
}

json_object *mi_json_get(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (obj != NULL && json_object_is_type(obj, json_type_object)
        && json_object_object_get_ex(obj, key, &v)) {
        return v;
    }
    return NULL;
}

const char *mi_json_get_str(json_object *obj, const char *key)
{
    json_object *v = mi_json_get(obj, key);

    return (v != NULL && json_object_is_type(v, json_type_string)) ? json_object_get_string(v)
                                                                   : NULL;
}

long long mi_json_get_int(json_object *obj, const char *key, long long def)
{
    json_object *v = mi_json_get(obj, key);

    return (v != NULL && json_object_is_type(v, json_type_int)) ? (long long)json_object_get_int64(v)
                                                                : def;
}

int mi_json_string_has_nul(json_object *str)
{
    const char *s = json_object_get_string(str);
    int len = json_object_get_string_len(str);

    return s != NULL && memchr(s, '\0', (size_t)len) != NULL;
}

apr_size_t mi_json_longest_string(json_object *j)
{
    apr_size_t longest = 0, l;
    size_t i, n;

    switch (json_object_get_type(j)) {
    case json_type_string:
        return (apr_size_t)json_object_get_string_len(j);
    case json_type_array:
        n = json_object_array_length(j);
        for (i = 0; i < n; i++) {
            l = mi_json_longest_string(json_object_array_get_idx(j, i));
            longest = l > longest ? l : longest;
        }
        return longest;
    case json_type_object: {
        json_object_object_foreach(j, key, val) {
            l = strlen(key);
            longest = l > longest ? l : longest;
            l = mi_json_longest_string(val);
            longest = l > longest ? l : longest;
        }
        return longest;
    }
    default:
        return 0;
    }
}
