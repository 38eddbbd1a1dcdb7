/* mi_json.h — json-c bound to APR pools, and a bounded, reportable parser.
 *
 * Ownership rules (json-c): objects from json_object_new_*() and the tokener start with one
 * reference; adding a child to a parent transfers that reference; json_object_object_get_ex()
 * returns a borrowed pointer.  mi_json_bind() hands the one reference of a root object to a
 * pool, so the tree lives exactly as long as the pool.  Strings produced by
 * json_object_to_json_string_ext() belong to the object; mi_json_dump() copies them into the
 * pool.
 */
#ifndef MI_JSON_H
#define MI_JSON_H

#include <apr_pools.h>
#include <json-c/json.h>

/** Where and why a document was rejected. */
typedef struct {
    apr_size_t offset;   /* byte offset at which parsing stopped */
    int line;            /* 1-based */
    int column;          /* 1-based, in bytes */
    const char *reason;  /* static text, e.g. "unexpected character" */
} mi_json_error_t;

/** Offset of the first byte of the first ill-formed UTF-8 sequence in @s[0..len) (overlong
 *  forms, surrogates and values above U+10FFFF are ill-formed), or @len when there is none. */
apr_size_t mi_utf8_check(const char *s, apr_size_t len);

/** Give the (single) reference of @j to @p; returns @j.  NULL is passed through. */
json_object *mi_json_bind(apr_pool_t *p, json_object *j);

/** Parse exactly one JSON value from @buf[0..len) with strict syntax, UTF-8 validation and
 *  at most @max_depth levels of nesting.  Where json-c would take or change data silently
 *  this refuses "\u0000" in any string or member name, raw control characters inside
 *  strings, "\u" escapes of unpaired UTF-16 surrogates and duplicate member names in one
 *  object, and reads integers beyond 64 bits as doubles that dump to the same digits
 *  (PostgreSQL's jsonb writes 1e20 as 100000000000000000000).  Numbers must be within the
 *  range of a double (no 1e400, no non-zero 1e-400) and have at most 16383 digits after the
 *  point (PostgreSQL's numeric); beyond: "number out of range".  On success *pj is bound to
 *  @p.  Returns APR_SUCCESS or APR_EINVAL (with @err filled in). */
apr_status_t mi_json_parse(json_object **pj, const char *buf, apr_size_t len, int max_depth,
                           apr_pool_t *p, mi_json_error_t *err);

/** Serialize compactly into a string owned by @p. */
const char *mi_json_dump(json_object *j, apr_pool_t *p);

/** Serialize compactly, returning the length too. */
const char *mi_json_dump_len(json_object *j, apr_pool_t *p, apr_size_t *plen);

/** Borrowed member of an object, or NULL when absent or @obj is not an object. */
json_object *mi_json_get(json_object *obj, const char *key);

/** String member or NULL (absent, null or not a string). */
const char *mi_json_get_str(json_object *obj, const char *key);

/** Integer member or @def (absent or not an integer). */
long long mi_json_get_int(json_object *obj, const char *key, long long def);

/** Does a string value contain a NUL byte?  (Valid JSON via "\u0000", but unusable in C.) */
int mi_json_string_has_nul(json_object *str);

/** How many bytes the numbers of @j grow when written without an exponent, as PostgreSQL's
 *  jsonb writes them back (1.5e300 is 5 bytes in a request, 301 in the database). */
apr_size_t mi_json_number_growth(json_object *j);

/** Does any string value anywhere in @j contain a NUL byte? */
int mi_json_has_nul(json_object *j);

/** Number of bytes of the longest string (key or value) anywhere in @j. */
apr_size_t mi_json_longest_string(json_object *j);

#endif
