/* mi_push_cache.c — see mi_push_cache.h */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <json-c/printbuf.h>

#include "mi_push_bayeux.h"
#include "mi_json.h"
#include "mi_push_cache.h"
#include "mi_tunables.h"

typedef struct variant_t {
    struct variant_t *next;
    char *key;
    char *text;
} variant_t;

typedef struct {
    char key[sizeof(int) + sizeof(long long)];   /* (cc, seq): the index's key */
    int used;
    char *notification;
    long long ref;                 /* referenceId; -1 none */
    char *snapshot;                /* the snapshot's JSON text */
    char *owner, *invitee, *workbin_owner;
    char *ringing;                 /* ring-all: the JSON text of "_ringing" (ids), or NULL */
    int has_workbin;
    variant_t *variants;
    int nvariants;
    apr_size_t bytes;              /* what the row and its messages cost */
} entry_t;

struct mi_push_cache_t {
    apr_thread_mutex_t *mutex;
    apr_hash_t *index;             /* key -> entry_t */
    entry_t *ring;                 /* capacity slots; count of them in use from head on */
    int capacity;
    int head;                      /* the oldest row */
    int count;
    apr_size_t bytes;              /* what the rows in use cost together */
    apr_size_t max_bytes;
    mi_push_cache_stats_t stats;
};

static void make_key(char *key, int cc, long long seq)
{
    memcpy(key, &cc, sizeof(cc));
    memcpy(key + sizeof(cc), &seq, sizeof(seq));
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void clear(entry_t *e)
{
    variant_t *v, *next;

    for (v = e->variants; v != NULL; v = next) {
        next = v->next;
        free(v->key);
        free(v->text);
        free(v);
    }
    free(e->notification);
    free(e->snapshot);
    free(e->owner);
    free(e->invitee);
    free(e->workbin_owner);
    free(e->ringing);
    memset(e, 0, sizeof(*e));
}

static apr_status_t cache_cleanup(void *data)
{
    mi_push_cache_t *c = data;
    int i;

    for (i = 0; i < c->capacity; i++) {
        clear(&c->ring[i]);
    }
    return APR_SUCCESS;
}

apr_status_t mi_push_cache_create(mi_push_cache_t **pc, int capacity, apr_pool_t *p)
{
    mi_push_cache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv;

    *pc = NULL;
    c->capacity = capacity > 0 ? capacity : 1;
    c->max_bytes = MI_PUSH_CACHE_BYTES;
    c->ring = apr_pcalloc(p, sizeof(entry_t) * (apr_size_t)c->capacity);
    c->index = apr_hash_make(p);
    rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    *pc = c;
    return APR_SUCCESS;
}

void mi_push_cache_set_max_bytes(mi_push_cache_t *c, apr_size_t max_bytes)
{
    apr_thread_mutex_lock(c->mutex);
    c->max_bytes = max_bytes > 0 ? max_bytes : MI_PUSH_CACHE_BYTES;
    apr_thread_mutex_unlock(c->mutex);
}

static apr_size_t len0(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

/* Drop the oldest row (the lock is held). */
static void evict_oldest(mi_push_cache_t *c)
{
    entry_t *e = &c->ring[c->head];

    apr_hash_set(c->index, e->key, sizeof(e->key), NULL);
    c->bytes -= e->bytes;
    clear(e);
    c->head = (c->head + 1) % c->capacity;
    c->count--;
    c->stats.evictions++;
}

/* Make room for @need more bytes by dropping the oldest rows, but never @keep (the lock is
 * held).  Returns 0 when the room cannot be made. */
static int make_room(mi_push_cache_t *c, apr_size_t need, const entry_t *keep)
{
    if (need > c->max_bytes) {
        return 0;
    }
    while (c->count > 0 && c->bytes + need > c->max_bytes && &c->ring[c->head] != keep) {
        evict_oldest(c);
    }
    return c->bytes + need <= c->max_bytes;
}

static entry_t *find(mi_push_cache_t *c, int cc, long long seq)
{
    char key[sizeof(int) + sizeof(long long)];

    make_key(key, cc, seq);
    return apr_hash_get(c->index, key, sizeof(key));
}

int mi_push_cache_has(mi_push_cache_t *c, int cc, long long seq)
{
    int found;

    apr_thread_mutex_lock(c->mutex);
    found = find(c, cc, seq) != NULL;
    apr_thread_mutex_unlock(c->mutex);
    return found;
}

int mi_push_cache_put(mi_push_cache_t *c, int cc, long long seq, json_object *event)
{
    json_object *snap = mi_json_get(event, "snapshot");
    json_object *ref = mi_json_get(event, "referenceId");
    const char *text;
    entry_t fresh, *e;

    if (snap == NULL || !json_object_is_type(snap, json_type_object)) {
        return 0;
    }
    /* everything the entry needs, prepared outside the lock */
    memset(&fresh, 0, sizeof(fresh));
    make_key(fresh.key, cc, seq);
    fresh.used = 1;
    text = json_object_to_json_string_ext(snap, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    fresh.snapshot = dup_or_null(text);
    fresh.notification = dup_or_null(mi_json_get_str(event, "notification"));
    fresh.ref = ref != NULL && json_object_is_type(ref, json_type_int) ? json_object_get_int64(ref) : -1;
    fresh.owner = dup_or_null(mi_json_get_str(snap, "_owner"));
    fresh.invitee = dup_or_null(mi_json_get_str(snap, "_invitee"));
    fresh.workbin_owner = dup_or_null(mi_json_get_str(snap, "_workbinOwner"));
    if (mi_json_get(snap, "_ringing") != NULL) {
        fresh.ringing = dup_or_null(json_object_to_json_string_ext(mi_json_get(snap, "_ringing"),
                                                                   JSON_C_TO_STRING_PLAIN));
    }
    fresh.has_workbin = mi_json_get_str(snap, "workbin") != NULL;

    if (fresh.snapshot == NULL) {
        clear(&fresh);
        return 0;
    }
    fresh.bytes = MI_PUSH_CACHE_ENTRY_OVERHEAD + len0(fresh.snapshot)
                  + len0(fresh.notification) + len0(fresh.owner) + len0(fresh.invitee)
                  + len0(fresh.workbin_owner) + len0(fresh.ringing);
    apr_thread_mutex_lock(c->mutex);
    if (find(c, cc, seq) != NULL) {          /* another thread was quicker */
        apr_thread_mutex_unlock(c->mutex);
        clear(&fresh);
        return 1;
    }
    if (c->count == c->capacity) {
        evict_oldest(c);
    }
    if (!make_room(c, fresh.bytes, NULL)) {
        /* larger than the whole cache may be: rendered for each recipient instead */
        c->stats.uncached++;
        apr_thread_mutex_unlock(c->mutex);
        clear(&fresh);
        return 0;
    }
    e = &c->ring[(c->head + c->count) % c->capacity];
    *e = fresh;
    apr_hash_set(c->index, e->key, sizeof(e->key), e);
    c->count++;
    c->bytes += e->bytes;
    c->stats.puts++;
    apr_thread_mutex_unlock(c->mutex);
    return 1;
}

static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Everything a /v2/interactions message depends on besides the row (see mi_render.c):
 * the base of the uri and the caller's relation to the interaction. */
static const char *variant_key(const entry_t *e, const mi_caller_t *caller, const char *base,
                               apr_pool_t *p)
{
    char rel[5];

    rel[0] = caller->is_agent ? 'a' : '-';
    rel[1] = same(caller->id, e->owner) ? 'o' : '-';
    /* ids are UUIDs of one length: one found in the list is one of its elements */
    rel[2] = same(caller->id, e->invitee)
             || (e->ringing != NULL && caller->id != NULL && caller->id[0] != '\0'
                 && strstr(e->ringing, caller->id) != NULL) ? 'i' : '-';
    rel[3] = e->has_workbin && (e->workbin_owner == NULL || same(caller->id, e->workbin_owner))
             ? 'w' : '-';
    rel[4] = '\0';
    return apr_pstrcat(p, rel, base != NULL ? base : "", NULL);
}

/* Render the message of a cached row (the lock is not held). */
static const char *render(const char *snapshot, const char *notification, long long ref,
                          const mi_caller_t *caller, const char *base, apr_pool_t *p)
{
    json_object *snap = NULL, *event, *msg;
    mi_json_error_t jerr;
    const char *text;
    apr_size_t len;

    /* parsed with the allowance the store's results had */
    if (mi_json_parse(&snap, snapshot, strlen(snapshot), MI_PUSH_RESULT_DEPTH_LARGE, p,
                      &jerr) != APR_SUCCESS) {
        return NULL;
    }
    event = mi_json_bind(p, json_object_new_object());
    if (notification != NULL) {
        json_object_object_add(event, "notification", json_object_new_string(notification));
    }
    json_object_object_add(event, "referenceId", ref >= 0 ? json_object_new_int64(ref) : NULL);
    json_object_object_add(event, "snapshot", json_object_get(snap));
    msg = mi_json_bind(p, mi_push_bx_event(MI_PUSH_BX_CH_ALL, event, caller, base, 0, p));
    text = mi_json_dump_len(msg, p, &len);
    return text;
}

const char *mi_push_cache_message(mi_push_cache_t *c, int cc, long long seq,
                                  const mi_caller_t *caller, const char *base, apr_pool_t *p)
{
    const char *key, *snapshot, *notification, *text;
    long long ref;
    variant_t *v;
    entry_t *e;

    apr_thread_mutex_lock(c->mutex);
    e = find(c, cc, seq);
    if (e == NULL) {
        apr_thread_mutex_unlock(c->mutex);
        return NULL;
    }
    key = variant_key(e, caller, base, p);
    for (v = e->variants; v != NULL; v = v->next) {
        if (strcmp(v->key, key) == 0) {
            text = apr_pstrdup(p, v->text);
            c->stats.hits++;
            apr_thread_mutex_unlock(c->mutex);
            return text;
        }
    }
    snapshot = apr_pstrdup(p, e->snapshot);
    notification = e->notification != NULL ? apr_pstrdup(p, e->notification) : NULL;
    ref = e->ref;
    apr_thread_mutex_unlock(c->mutex);

    /* a variant not rendered yet: render it without the lock, then keep it unless another
     * thread was quicker or the row went meanwhile */
    text = render(snapshot, notification, ref, caller, base, p);
    if (text == NULL) {
        return NULL;
    }
    apr_thread_mutex_lock(c->mutex);
    c->stats.renders++;
    e = find(c, cc, seq);
    if (e != NULL) {
        apr_size_t need = MI_PUSH_CACHE_VARIANT_OVERHEAD + len0(key) + len0(text);

        for (v = e->variants; v != NULL && strcmp(v->key, key) != 0; v = v->next) {
        }
        /* Kept only within the bounds: the key holds the location's base, and a row gets
         * no more messages than relations and configured bases make; what is not kept is
         * rendered again for the next recipient, never refused. */
        if (v == NULL && (e->nvariants >= MI_PUSH_CACHE_MAX_VARIANTS || !make_room(c, need, e))) {
            c->stats.uncached++;
        }
        else if (v == NULL && (v = calloc(1, sizeof(*v))) != NULL) {
            v->key = strdup(key);
            v->text = strdup(text);
            if (v->key == NULL || v->text == NULL) {
                free(v->key);
                free(v->text);
                free(v);
            }
            else {
                v->next = e->variants;
                e->variants = v;
                e->nvariants++;
                e->bytes += need;
                c->bytes += need;
            }
        }
    }
    apr_thread_mutex_unlock(c->mutex);
    return text;
}

/* json-c serializer: the text kept as the object's user data, verbatim */
static int raw_to_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
    const char *text = json_object_get_userdata(jso);

    (void)level;
    (void)flags;
    return printbuf_memappend(pb, text, (int)strlen(text));
}

json_object *mi_push_cache_raw(const char *text)
{
    json_object *o = json_object_new_object();

    json_object_set_serializer(o, raw_to_string, (void *)text, NULL);
    return o;
}

void mi_push_cache_stats(mi_push_cache_t *c, mi_push_cache_stats_t *st)
{
    apr_thread_mutex_lock(c->mutex);
    *st = c->stats;
    st->rows = (unsigned long)c->count;
    st->bytes = c->bytes;
    apr_thread_mutex_unlock(c->mutex);
}
