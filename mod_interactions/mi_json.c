/* mi_json.c — see mi_json.h */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>

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

apr_size_t mi_utf8_check(const char *str, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        apr_size_t n, k;
        unsigned int cp;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return i;
        if (i + n >= len) return i;   /* truncated sequence */
        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates and values above U+10FFFF */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return i;
        }
        i += n + 1;
    }
    return len;
}

/* Does the integer buf[0..n) (digits, optional leading '-') fit json-c's int64 / uint64?
 * Beyond, json-c would silently clamp it to INT64_MIN or UINT64_MAX. */
static int integer_in_range(const char *buf, apr_size_t n)
{
    static const char max_pos[] = "18446744073709551615";   /* UINT64_MAX */
    static const char max_neg[] = "9223372036854775808";    /* -INT64_MIN */
    const char *lim = max_pos;
    apr_size_t lim_len;

    if (n > 0 && buf[0] == '-') {
        buf++;
        n--;
        lim = max_neg;
    }
    while (n > 1 && buf[0] == '0') {   /* not JSON anyway; json-c refuses it in strict mode */
        buf++;
        n--;
    }
    lim_len = strlen(lim);
    return n < lim_len || (n == lim_len && memcmp(buf, lim, n) <= 0);
}

/* Is s[0..n) a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?  json-c's strict
 * mode also takes 1., 1.e5, 00 and -01, which PostgreSQL's jsonb then refuses. */
static int number_grammar(const char *s, apr_size_t n)
{
    apr_size_t i = 0, d;

    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') {
        i++;
    }
    else {
        for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++, d++)
            ;
        if (d == 0) return 0;
    }
    if (i < n && s[i] == '.') {
        for (i++, d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++, d++)
            ;
        if (d == 0) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++, d++)
            ;
        if (d == 0) return 0;
    }
    return i == n;
}

/* PostgreSQL's numeric (which jsonb stores numbers in) keeps at most this many digits after
 * the decimal point; json-c would take more, and the database call would fail. */
#define MI_JSON_MAX_DSCALE 16383

/* The shape of the number literal s[0..n): how many characters PostgreSQL's jsonb writes for
 * it (it never uses an exponent: 1.5e300 comes back as 301 digits), how many digits after
 * the point it keeps, and whether it is within the range of a double (finite, and not a
 * non-zero literal that underflows to 0).  Returns 0 when s is not a JSON number. */
static int number_shape(const char *s, apr_size_t n, apr_size_t *pwritten, apr_size_t *pdscale,
                        int *pin_range)
{
    apr_size_t i = 0, int_digits = 0, frac_digits = 0, lead_zeros = 0, written;
    long long exp10 = 0, point;
    int neg = 0, exp_neg = 0, nonzero = 0, counting_zeros = 1;
    char small[64], *copy;
    double v;

    if (i < n && s[i] == '-') { neg = 1; i++; }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        if (s[i] != '0') { nonzero = 1; counting_zeros = 0; }
        else if (counting_zeros) { lead_zeros++; }
    }
    if (int_digits == 0) return 0;
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++) {
            if (s[i] != '0') { nonzero = 1; counting_zeros = 0; }
            else if (counting_zeros) { lead_zeros++; }
        }
        if (frac_digits == 0) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        apr_size_t digits = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) { exp_neg = s[i] == '-'; i++; }
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (exp10 < 1000000000LL) exp10 = exp10 * 10 + (s[i] - '0');
        }
        if (digits == 0) return 0;
        if (exp_neg) exp10 = -exp10;
    }
    if (i != n) return 0;
    /* the value is 0.DIGITS x 10^point, DIGITS without the leading zeros */
    point = (long long)int_digits + exp10 - (long long)lead_zeros;
    *pdscale = (long long)frac_digits - exp10 > 0 ? (apr_size_t)((long long)frac_digits - exp10) : 0;
    written = (apr_size_t)neg + (nonzero && point > 1 ? (apr_size_t)point : 1);
    if (*pdscale > 0) written += 1 + *pdscale;
    *pwritten = written;
    if (n < sizeof(small)) {
        memcpy(small, s, n);
        small[n] = '\0';
        copy = small;
    }
    else if ((copy = malloc(n + 1)) != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    else {
        return 0;
    }
    v = strtod(copy, NULL);
    if (copy != small) free(copy);
    *pin_range = v - v == 0.0 && (v != 0.0 || !nonzero);   /* finite; no underflow to 0 */
    return 1;
}

apr_size_t mi_json_number_growth(json_object *j)
{
    apr_size_t growth = 0, written, dscale, i, n;
    int in_range;
    const char *text;

    switch (json_object_get_type(j)) {
    case json_type_double:
        text = json_object_get_string(j);
        n = text != NULL ? strlen(text) : 0;
        if (n > 0 && number_shape(text, n, &written, &dscale, &in_range) && written > n) {
            growth = written - n;
        }
        return growth;
    case json_type_array:
        n = json_object_array_length(j);
        for (i = 0; i < n; i++) {
            growth += mi_json_number_growth(json_object_array_get_idx(j, i));
        }
        return growth;
    case json_type_object: {
        json_object_object_foreach(j, k, v) {
            (void)k;
            growth += mi_json_number_growth(v);
        }
        return growth;
    }
    default:
        return 0;
    }
}

/* Where the integer literals beyond 64 bits of a document end (allocated when there is one). */
typedef struct {
    apr_size_t *at;
    apr_size_t n, cap;
    apr_pool_t *p;
} bigints_t;

static void bigints_push(bigints_t *b, apr_size_t at)
{
    if (b->n == b->cap) {
        apr_size_t cap = b->cap > 0 ? b->cap * 2 : 8;
        apr_size_t *bigger = apr_palloc(b->p, cap * sizeof(*bigger));
        if (b->n > 0) {
            memcpy(bigger, b->at, b->n * sizeof(*bigger));
        }
        b->at = bigger;
        b->cap = cap;
    }
    b->at[b->n++] = at;
}

/* The value of the four hex digits at s[0..4), or -1 when they are not hex digits. */
static long hex4(const char *s)
{
    long v = 0;
    int k;

    for (k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

/* What json-c's strict mode lets through, refused here: outside strings JSON has only
 * punctuation, numbers and the words true, false and null (json-c takes single-quoted
 * strings, NaN and Infinity); inside strings it has no raw control characters (json-c takes
 * them) and here no "\u0000" either: json-c cuts a member name there ({"a\u0000b":1}
 * silently became {"a":1}) and C compares a value only up to it ("Complete\u0000x" read as
 * Complete), and PostgreSQL's text and jsonb cannot hold it anyway; a "\u" escape of half a
 * UTF-16 surrogate pair, which json-c silently turns into U+FFFD, is refused too, so that what
 * is accepted is what is stored.  A number must follow JSON's grammar (json-c takes 1. and
 * 00) and fit a double and PostgreSQL's numeric.  Integers beyond 64 bits, which json-c would
 * clamp to 18446744073709551615 or -9223372036854775808, are noted in @bigints (the offset
 * where each ends) so that the caller reads them as doubles instead.  *pnames counts the
 * member names, which the caller compares with the members json-c kept: json-c keeps the
 * last of duplicate names without a word. */
static int lexically_strict(const char *buf, apr_size_t len, bigints_t *bigints,
                            apr_size_t *pnames, mi_json_error_t *err)
{
    apr_size_t i = 0;

    *pnames = 0;
    while (i < len) {
        char c = buf[i];
        if (c == '"') {
            apr_size_t start = i, j;
            int nul = 0;
            for (i++; i < len && buf[i] != '"'; i++) {
                if ((unsigned char)buf[i] < 0x20) {
                    locate(err, buf, i, "a control character in a string must be escaped");
                    return 0;
                }
                if (buf[i] != '\\') {
                    continue;
                }
                if (len - i > 5 && buf[i + 1] == 'u') {
                    long cp = hex4(buf + i + 2);
                    if (cp == 0) {
                        nul = 1;
                    }
                    else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        /* a low half that no high half came before */
                        locate(err, buf, i, "unpaired UTF-16 surrogate in a \\u escape");
                        return 0;
                    }
                    else if (cp >= 0xD800 && cp <= 0xDBFF) {
                        long lo = len - i > 11 && buf[i + 6] == '\\' && buf[i + 7] == 'u'
                                  ? hex4(buf + i + 8) : -1;
                        if (lo < 0xDC00 || lo > 0xDFFF) {
                            locate(err, buf, i, "unpaired UTF-16 surrogate in a \\u escape");
                            return 0;
                        }
                        i += 6;   /* the pair's low half */
                    }
                    if (cp >= 0) {
                        i += 4;   /* the hex digits; json-c reports malformed ones */
                    }
                }
                i++;
            }
            i++;
            for (j = i; j < len && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r'
                                    || buf[j] == '\n'); j++)
                ;
            if (j < len && buf[j] == ':') {
                (*pnames)++;
                if (nul) {
                    locate(err, buf, start, "a member name must not contain \\u0000");
                    return 0;
                }
            }
            else if (nul) {
                locate(err, buf, start, "a string must not contain \\u0000");
                return 0;
            }
        }
        else if (c == '\'') {
            locate(err, buf, i, "single-quoted strings are not JSON");
            return 0;
        }
        else if (c == '-' || (c >= '0' && c <= '9')) {
            apr_size_t start = i;
            int integer = 1;
            for (i++; i < len && ((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.'
                                  || buf[i] == 'e' || buf[i] == 'E' || buf[i] == '+'
                                  || buf[i] == '-'); i++) {
                if (buf[i] < '0' || buf[i] > '9') {
                    integer = 0;
                }
            }
            if (!number_grammar(buf + start, i - start)) {
                locate(err, buf, start, "malformed number");
                return 0;
            }
            if (!integer || !integer_in_range(buf + start, i - start)) {
                apr_size_t written, dscale;
                int in_range;
                /* what PostgreSQL cannot store, and what is beyond a double (1e400, 1e-400,
                 * a 400-digit integer), is refused */
                if (number_shape(buf + start, i - start, &written, &dscale, &in_range)
                    && (!in_range || dscale > MI_JSON_MAX_DSCALE)) {
                    locate(err, buf, start, "number out of range");
                    return 0;
                }
                if (integer) {
                    bigints_push(bigints, i);
                }
            }
        }
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            apr_size_t start = i, n;
            while (i < len && ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z'))) {
                i++;
            }
            n = i - start;
            if (!((n == 4 && memcmp(buf + start, "true", 4) == 0)
                  || (n == 5 && memcmp(buf + start, "false", 5) == 0)
                  || (n == 4 && memcmp(buf + start, "null", 4) == 0))) {
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

/* An integer literal beyond 64 bits gets "e0" appended before json-c sees it, so json-c reads
 * it as a double (json_object_new_double_s, which keeps the literal's text for dumping) instead
 * of clamping it.  This copies @buf with the insertions. */
#define MI_BIGINT_MARK "e0"
#define MI_BIGINT_MARK_LEN 2

static char *mark_bigints(const char *buf, apr_size_t len, const bigints_t *bigints,
                          apr_size_t *plen, apr_pool_t *p)
{
    apr_size_t n = bigints->n, from = 0, to = 0, k;
    char *out = apr_palloc(p, len + n * MI_BIGINT_MARK_LEN);

    for (k = 0; k < n; k++) {
        apr_size_t at = bigints->at[k];
        memcpy(out + to, buf + from, at - from);
        to += at - from;
        memcpy(out + to, MI_BIGINT_MARK, MI_BIGINT_MARK_LEN);
        to += MI_BIGINT_MARK_LEN;
        from = at;
    }
    memcpy(out + to, buf + from, len - from);
    *plen = to + len - from;
    return out;
}

/* The offset in the original document of offset @pos of the marked copy. */
static apr_size_t unmark_offset(apr_size_t pos, const bigints_t *bigints)
{
    apr_size_t k, shift = 0;

    for (k = 0; k < bigints->n; k++) {
        apr_size_t at = bigints->at[k] + shift;
        if (pos < at) {
            break;
        }
        if (pos < at + MI_BIGINT_MARK_LEN) {
            return at - shift;
        }
        shift += MI_BIGINT_MARK_LEN;
    }
    return pos - shift;
}

/* Give the doubles read from marked integers their own text back: dumping
 * 100000000000000000000 gives 100000000000000000000, not 100000000000000000000e0.  A client's
 * own "81e0" stays as it is: without the exponent it would read back as an integer. */
static void unmark_doubles(json_object *j)
{
    size_t i, n;

    switch (json_object_get_type(j)) {
    case json_type_double: {
        const char *text = json_object_get_userdata(j);
        apr_size_t tl = text != NULL ? strlen(text) : 0;
        if (tl > MI_BIGINT_MARK_LEN
            && memcmp(text + tl - MI_BIGINT_MARK_LEN, MI_BIGINT_MARK, MI_BIGINT_MARK_LEN) == 0
            && strspn(text + (text[0] == '-'), "0123456789") == tl - MI_BIGINT_MARK_LEN - (text[0] == '-')
            && !integer_in_range(text, tl - MI_BIGINT_MARK_LEN)) {
            char *plain = strdup(text);
            if (plain != NULL) {
                plain[tl - MI_BIGINT_MARK_LEN] = '\0';
                json_object_set_serializer(j, json_object_userdata_to_json_string, plain,
                                           json_object_free_userdata);
            }
        }
        return;
    }
    case json_type_array:
        n = json_object_array_length(j);
        for (i = 0; i < n; i++) {
            unmark_doubles(json_object_array_get_idx(j, i));
        }
        return;
    case json_type_object: {
        json_object_object_foreach(j, k, v) {
            (void)k;
            unmark_doubles(v);
        }
        return;
    }
    default:
        return;
    }
}

/* The members of every object in @j. */
static apr_size_t count_members(json_object *j)
{
    apr_size_t n = 0, i, len;

    switch (json_object_get_type(j)) {
    case json_type_array:
        len = json_object_array_length(j);
        for (i = 0; i < len; i++) {
            n += count_members(json_object_array_get_idx(j, i));
        }
        return n;
    case json_type_object: {
        json_object_object_foreach(j, k, v) {
            (void)k;
            n += 1 + count_members(v);
        }
        return n;
    }
    default:
        return 0;
    }
}

/* The string literal lit[0..n) (quotes included) decoded by json-c; NULL if it is not one. */
static json_object *decode_string(const char *lit, apr_size_t n)
{
    json_tokener *tok = json_tokener_new();
    json_object *j = NULL;

    if (tok != NULL && n <= (apr_size_t)INT32_MAX) {
        j = json_tokener_parse_ex(tok, lit, (int)n);
        if (j != NULL && !json_object_is_type(j, json_type_string)) {
            json_object_put(j);
            j = NULL;
        }
    }
    if (tok != NULL) {
        json_tokener_free(tok);
    }
    return j;
}

/* The offset of the first member name of @buf (a document json-c accepted) that repeats an
 * earlier name of the same object, compared as decoded strings ("a" and "\u0061" are one
 * name).  Only called once a duplicate is known to exist, to say where. */
static apr_size_t find_duplicate(const char *buf, apr_size_t len, apr_pool_t *p)
{
    apr_array_header_t *stack = apr_array_make(p, 16, sizeof(apr_hash_t *));
    apr_size_t i = 0, found = 0;

    while (i < len) {
        char c = buf[i];
        if (c == '{' || c == '[') {
            /* arrays get no set: their strings are never names */
            APR_ARRAY_PUSH(stack, apr_hash_t *) = c == '{' ? apr_hash_make(p) : NULL;
            i++;
        }
        else if (c == '}' || c == ']') {
            if (stack->nelts > 0) {
                apr_array_pop(stack);
            }
            i++;
        }
        else if (c == '"') {
            apr_size_t start = i, j;
            apr_hash_t *names = stack->nelts > 0
                                ? APR_ARRAY_IDX(stack, stack->nelts - 1, apr_hash_t *) : NULL;
            for (i++; i < len && buf[i] != '"'; i++) {
                if (buf[i] == '\\') {
                    i++;
                }
            }
            i++;
            for (j = i; j < len && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r'
                                    || buf[j] == '\n'); j++)
                ;
            if (names != NULL && j < len && buf[j] == ':' && i <= len) {
                json_object *name = decode_string(buf + start, i - start);
                const char *s = name != NULL ? json_object_get_string(name) : NULL;
                apr_ssize_t n = name != NULL ? json_object_get_string_len(name) : 0;
                int dup = s != NULL && apr_hash_get(names, s, n) != NULL;
                if (s != NULL && !dup) {
                    apr_hash_set(names, apr_pstrmemdup(p, s, (apr_size_t)n), n, "");
                }
                json_object_put(name);
                if (dup) {
                    found = start;
                    break;
                }
            }
        }
        else {
            i++;
        }
    }
    return found;
}

apr_status_t mi_json_parse(json_object **pj, const char *buf, apr_size_t len, int max_depth,
                           apr_pool_t *p, mi_json_error_t *err)
{
    json_tokener *tok;
    json_object *j = NULL;
    enum json_tokener_error jerr;
    apr_size_t end, tlen = len, names = 0;
    bigints_t bigints = { NULL, 0, 0, NULL };
    const char *text = buf;   /* what json-c reads: @buf, or a copy with big integers marked */
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
    /* json-c's JSON_TOKENER_VALIDATE_UTF8 lets overlong forms, UTF-16 surrogates and code
     * points above U+10FFFF through; PostgreSQL would refuse them later (a 500, not a 400) */
    if ((end = mi_utf8_check(buf, len)) < len) {
        locate(err, buf, end, "invalid UTF-8");
        return APR_EINVAL;
    }
    bigints.p = p;
    if (!lexically_strict(buf, len, &bigints, &names, err)) {
        return APR_EINVAL;
    }
    if (bigints.n > 0) {
        text = mark_bigints(buf, len, &bigints, &tlen, p);
        if (tlen > (apr_size_t)INT32_MAX) {
            locate(err, buf, 0, "document too large");
            return APR_EINVAL;
        }
    }
    /* json-c counts the outermost container as level 1: a limit of N allows N levels */
    tok = json_tokener_new_ex(max_depth);
    if (tok == NULL) {
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(p, tok, tokener_cleanup, apr_pool_cleanup_null);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

    j = json_tokener_parse_ex(tok, text, (int)tlen);
    jerr = json_tokener_get_error(tok);
    end = unmark_offset(json_tokener_get_parse_end(tok), &bigints);
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
    if (count_members(j) != names) {
        /* json-c kept one of two members of the same name: which one a client meant cannot
         * be known, so neither is taken */
        apr_pool_t *tmp;
        if (apr_pool_create(&tmp, p) != APR_SUCCESS) {
            locate(err, buf, 0, "duplicate member name");
            goto leave;
        }
        locate(err, buf, find_duplicate(buf, len, tmp), "duplicate member name");
        apr_pool_destroy(tmp);
        goto leave;
    }
    if (bigints.n > 0) {
        unmark_doubles(j);
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

int mi_json_has_nul(json_object *j)
{
    size_t i, n;

    switch (json_object_get_type(j)) {
    case json_type_string:
        return mi_json_string_has_nul(j);
    case json_type_array:
        n = json_object_array_length(j);
        for (i = 0; i < n; i++) {
            if (mi_json_has_nul(json_object_array_get_idx(j, i))) return 1;
        }
        return 0;
    case json_type_object: {
        /* keys cannot hold one: mi_json_parse refuses such documents */
        json_object_object_foreach(j, k, v) {
            (void)k;
            if (mi_json_has_nul(v)) return 1;
        }
        return 0;
    }
    default:
        return 0;
    }
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
