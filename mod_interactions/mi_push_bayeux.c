/* mi_push_bayeux.c — see mi_push_bayeux.h */
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_general.h>

#include "mi_push_bayeux.h"
#include "mi_tunables.h"
#include "mi_json.h"

/* ------------------------------------------------------------------ parsing */

static mi_push_bx_type_e classify(const char *channel)
{
    if (strncmp(channel, "/meta/", 6) != 0) {
        return MI_PUSH_BX_PUBLISH;
    }
    if (strcmp(channel, "/meta/handshake") == 0) return MI_PUSH_BX_HANDSHAKE;
    if (strcmp(channel, "/meta/connect") == 0) return MI_PUSH_BX_CONNECT;
    if (strcmp(channel, "/meta/disconnect") == 0) return MI_PUSH_BX_DISCONNECT;
    if (strcmp(channel, "/meta/subscribe") == 0) return MI_PUSH_BX_SUBSCRIBE;
    if (strcmp(channel, "/meta/unsubscribe") == 0) return MI_PUSH_BX_UNSUBSCRIBE;
    return MI_PUSH_BX_META_OTHER;
}

static int one(json_object *o, mi_push_bx_msg_t *m, const char **perr)
{
    if (!json_object_is_type(o, json_type_object)) {
        *perr = "every Bayeux message must be a JSON object";
        return 0;
    }
    m->json = o;
    m->channel = mi_json_get_str(o, "channel");
    if (m->channel == NULL || m->channel[0] != '/') {
        *perr = "every Bayeux message needs a channel";
        return 0;
    }
    m->type = classify(m->channel);
    m->client_id = mi_json_get_str(o, "clientId");
    return 1;
}

int mi_push_bx_parse(json_object *doc, apr_pool_t *p, mi_push_bx_msg_t **pmsgs, const char **perr)
{
    mi_push_bx_msg_t *msgs;
    size_t i, n;

    *pmsgs = NULL;
    *perr = NULL;
    if (doc != NULL && json_object_is_type(doc, json_type_object)) {
        msgs = apr_pcalloc(p, sizeof(*msgs));
        if (!one(doc, msgs, perr)) {
            return 0;
        }
        *pmsgs = msgs;
        return 1;
    }
    if (doc == NULL || !json_object_is_type(doc, json_type_array)) {
        *perr = "a Bayeux request is a JSON array of messages";
        return 0;
    }
    n = json_object_array_length(doc);
    if (n == 0) {
        *perr = "a Bayeux request needs at least one message";
        return 0;
    }
    if (n > MI_PUSH_MAX_MESSAGES) {
        *perr = apr_psprintf(p, "too many messages in one request (at most %d)",
                             MI_PUSH_MAX_MESSAGES);
        return 0;
    }
    msgs = apr_pcalloc(p, n * sizeof(*msgs));
    for (i = 0; i < n; i++) {
        if (!one(json_object_array_get_idx(doc, i), &msgs[i], perr)) {
            return 0;
        }
    }
    *pmsgs = msgs;
    return (int)n;
}

/* ------------------------------------------------------------------ replies */

json_object *mi_push_bx_reply(const mi_push_bx_msg_t *m, int successful, const char *client_id)
{
    json_object *r = json_object_new_object();
    json_object *id = mi_json_get(m->json, "id");

    /* echoed verbatim: CometD sends strings, others numbers */
    if (id != NULL) {
        json_object_object_add(r, "id", json_object_get(id));
    }
    json_object_object_add(r, "channel", json_object_new_string(m->channel));
    json_object_object_add(r, "successful", json_object_new_boolean(successful));
    if (client_id != NULL) {
        json_object_object_add(r, "clientId", json_object_new_string(client_id));
    }
    return r;
}

void mi_push_bx_set_error(json_object *reply, const char *error)
{
    json_object_object_add(reply, "successful", json_object_new_boolean(0));
    json_object_object_add(reply, "error", json_object_new_string(error));
}

void mi_push_bx_set_advice(json_object *reply, const char *reconnect, long long interval,
                           long long timeout, int multiple_clients)
{
    json_object *a = json_object_new_object();

    json_object_object_add(a, "reconnect", json_object_new_string(reconnect));
    if (interval >= 0) {
        json_object_object_add(a, "interval", json_object_new_int64(interval));
    }
    if (timeout >= 0) {
        json_object_object_add(a, "timeout", json_object_new_int64(timeout));
    }
    if (multiple_clients) {
        json_object_object_add(a, "multiple-clients", json_object_new_boolean(1));
    }
    json_object_object_add(reply, "advice", a);
}

json_object *mi_push_bx_unknown_client(const mi_push_bx_msg_t *m)
{
    json_object *r = mi_push_bx_reply(m, 0, NULL);

    mi_push_bx_set_error(r, "402::Unknown client");
    mi_push_bx_set_advice(r, "handshake", 0, -1, 0);
    return r;
}

/* ------------------------------------------------------------------ handshake and connect */

int mi_push_bx_handshake_ok(const mi_push_bx_msg_t *m, const char **perr)
{
    return mi_push_bx_handshake_ok_ws(m, 0, perr);
}

int mi_push_bx_handshake_ok_ws(const mi_push_bx_msg_t *m, int websocket, const char **perr)
{
    const char *version = mi_json_get_str(m->json, "version");
    json_object *types = mi_json_get(m->json, "supportedConnectionTypes");
    size_t i, n;

    if (version == NULL || strncmp(version, "1.", 2) != 0) {
        *perr = "400::version 1.0 is required";
        return 0;
    }
    if (types != NULL && json_object_is_type(types, json_type_array)) {
        n = json_object_array_length(types);
        for (i = 0; i < n; i++) {
            const char *t = json_object_get_string(json_object_array_get_idx(types, i));
            if (t != NULL && (strcmp(t, "long-polling") == 0 || strcmp(t, "callback-polling") == 0
                              || (websocket && strcmp(t, "websocket") == 0))) {
                return 1;
            }
        }
    }
    *perr = websocket ? "301:websocket,long-polling,callback-polling:Connection types not supported"
                      : "301:long-polling,callback-polling:Connection types not supported";
    return 0;
}

int mi_push_bx_wants_ack(const mi_push_bx_msg_t *m)
{
    json_object *ack = mi_json_get(mi_json_get(m->json, "ext"), "ack");

    if (ack == NULL) {
        return 0;
    }
    if (json_object_is_type(ack, json_type_boolean)) {
        return json_object_get_boolean(ack);
    }
    if (json_object_is_type(ack, json_type_object)) {
        json_object *en = mi_json_get(ack, "enabled");
        return en != NULL && json_object_is_type(en, json_type_boolean) && json_object_get_boolean(en);
    }
    return 0;
}

long long mi_push_bx_connect_ack(const mi_push_bx_msg_t *m)
{
    long long v = mi_json_get_int(mi_json_get(m->json, "ext"), "ack", -1);

    return v < 0 ? -1 : v;
}

long long mi_push_bx_connect_timeout(const mi_push_bx_msg_t *m)
{
    json_object *t = mi_json_get(mi_json_get(m->json, "advice"), "timeout");

    if (t == NULL || !(json_object_is_type(t, json_type_int) || json_object_is_type(t, json_type_double))) {
        return -1;
    }
    return json_object_get_int64(t) < 0 ? 0 : json_object_get_int64(t);
}

/* ------------------------------------------------------------------ subscriptions */

int mi_push_bx_subscriptions(const mi_push_bx_msg_t *m, apr_pool_t *p, const char ***pchannels)
{
    json_object *s = mi_json_get(m->json, "subscription");
    const char **out;
    size_t i, n;

    *pchannels = NULL;
    if (s == NULL) {
        return 0;
    }
    if (json_object_is_type(s, json_type_string)) {
        out = apr_palloc(p, sizeof(*out));
        out[0] = json_object_get_string(s);
        *pchannels = out;
        return 1;
    }
    if (!json_object_is_type(s, json_type_array)) {
        return 0;
    }
    n = json_object_array_length(s);
    if (n == 0 || n > MI_PUSH_MAX_SUBSCRIPTIONS) {
        return 0;
    }
    out = apr_palloc(p, n * sizeof(*out));
    for (i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(s, i);
        if (!json_object_is_type(c, json_type_string)) {
            return 0;
        }
        out[i] = json_object_get_string(c);
    }
    *pchannels = out;
    return (int)n;
}

/* Bayeux channel names: "/" separated segments of letters, digits and - _ ! ~ ( ) $ @ . ,
 * with "*" or "**" allowed only as the whole last segment. */
int mi_push_bx_channel_valid(const char *channel)
{
    const char *s = channel, *seg;
    apr_size_t len = channel != NULL ? strlen(channel) : 0;

    if (len < 2 || len > 255 || channel[0] != '/') {
        return 0;
    }
    while (*s == '/') {
        seg = ++s;
        while (*s != '\0' && *s != '/') {
            if (!apr_isalnum(*s) && strchr("-_!~()$@.*", *s) == NULL) {
                return 0;
            }
            s++;
        }
        if (s == seg) {
            return 0;                       /* empty segment */
        }
        if (memchr(seg, '*', (apr_size_t)(s - seg)) != NULL) {
            if (*s != '\0') {
                return 0;                   /* wildcard before the end */
            }
            if (!((s - seg == 1) || (s - seg == 2 && seg[0] == '*' && seg[1] == '*'))) {
                return 0;                   /* "a*" is no wildcard */
            }
        }
    }
    return *s == '\0';
}

int mi_push_bx_may_follow_all(const mi_caller_t *caller)
{
    return caller->is_supervisor || caller->is_admin;
}

static const mi_push_bx_channel_t channels[] = {
#define MI_PUSH_BX_CHANNEL_ROW(name, bit, roles) { name, bit, roles },
    MI_PUSH_BX_CHANNELS(MI_PUSH_BX_CHANNEL_ROW)
#undef MI_PUSH_BX_CHANNEL_ROW
};
#define NCHANNELS ((int)(sizeof(channels) / sizeof(channels[0])))

const mi_push_bx_channel_t *mi_push_bx_channels(int *pn)
{
    *pn = NCHANNELS;
    return channels;
}

/* Does the wildcard or channel @pattern name @channel (Bayeux: "*" one segment, "**" any)? */
static int channel_matches(const char *pattern, const char *channel)
{
    apr_size_t n = strlen(pattern);

    if (n >= 3 && strcmp(pattern + n - 3, "/**") == 0) {
        return strncmp(channel, pattern, n - 2) == 0 && channel[n - 2] != '\0';
    }
    if (n >= 2 && strcmp(pattern + n - 2, "/*") == 0) {
        return strncmp(channel, pattern, n - 1) == 0 && channel[n - 1] != '\0'
               && strchr(channel + n - 1, '/') == NULL;
    }
    return strcmp(pattern, channel) == 0;
}

unsigned mi_push_bx_channel_bits(const char *pattern)
{
    unsigned bits = 0;
    int i;

    for (i = 0; pattern != NULL && i < NCHANNELS; i++) {
        if (channel_matches(pattern, channels[i].name)) {
            bits |= channels[i].bit;
        }
    }
    return bits;
}

unsigned mi_push_bx_allowed(const mi_caller_t *caller)
{
    unsigned bits = 0, roles = mi_caller_roles(caller);
    int i;

    for (i = 0; i < NCHANNELS; i++) {
        if (channels[i].roles == MI_ROLE_ANYONE || (channels[i].roles & roles) != 0) {
            bits |= channels[i].bit;
        }
    }
    return bits;
}

/* "a, b, c": the channels of the table, for refusals. */
static const char *channel_list(apr_pool_t *p)
{
    const char *out = NULL;
    int i;

    for (i = 0; i < NCHANNELS; i++) {
        out = out == NULL ? channels[i].name : apr_pstrcat(p, out, ", ", channels[i].name, NULL);
    }
    return out;
}

mi_push_bx_sub_e mi_push_bx_authorize(const char *channel, const mi_caller_t *caller, apr_pool_t *p,
                                      unsigned *pbits, const char **perr)
{
    unsigned named;

    *perr = NULL;
    *pbits = 0;
    if (!mi_push_bx_channel_valid(channel)) {
        *perr = apr_psprintf(p, "405:%s:Invalid channel", channel);
        return MI_PUSH_BX_SUB_DENIED;
    }
    if (strcmp(channel, "/meta") == 0 || strncmp(channel, "/meta/", 6) == 0) {
        *perr = apr_psprintf(p, "403:%s:Meta channels are the protocol's own", channel);
        return MI_PUSH_BX_SUB_DENIED;
    }
    if (strncmp(channel, "/service/", 9) == 0) {
        return MI_PUSH_BX_SUB_SERVICE;
    }
    named = mi_push_bx_channel_bits(channel);
    if (strchr(channel, '*') != NULL) {
        /* a wildcard: only below /v2/me/, and it means what of it the user may have */
        if (strncmp(channel, MI_PUSH_BX_WILDCARD_ROOT, sizeof(MI_PUSH_BX_WILDCARD_ROOT) - 1) != 0
            || strchr(channel + sizeof(MI_PUSH_BX_WILDCARD_ROOT) - 1, '/') != NULL
            || (named & mi_push_bx_allowed(caller)) == 0) {
            *perr = apr_psprintf(p,
                                 "403:%s:Subscription denied (wildcards: " MI_PUSH_BX_WILDCARD_ROOT
                                 "* and " MI_PUSH_BX_WILDCARD_ROOT "**)",
                                 channel);
            return MI_PUSH_BX_SUB_DENIED;
        }
        *pbits = named & mi_push_bx_allowed(caller);
        return MI_PUSH_BX_SUB_CHANNELS;
    }
    if (named == 0) {
        *perr = apr_psprintf(p, "403:%s:Subscription denied (channels: %s)", channel,
                             channel_list(p));
        return MI_PUSH_BX_SUB_DENIED;
    }
    if ((named & mi_push_bx_allowed(caller)) == 0) {
        *perr = apr_psprintf(p, "403:%s:Only supervisors and admins may subscribe", channel);
        return MI_PUSH_BX_SUB_DENIED;
    }
    *pbits = named;
    return MI_PUSH_BX_SUB_CHANNELS;
}

/* ------------------------------------------------------------------ transport details */

/* Object.prototype's legacy members: a page can call them by a bare name too. */
static const char *const prototype_members[] = {
    "__proto__", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
    NULL
};

int mi_push_bx_jsonp_valid(const char *name)
{
    const char *s;
    int i;

    /* The name is called with the reply in the page that loaded the script, so it must not
     * reach anything but a function the client defined itself: one identifier, no dots
     * (document.write, opener.location...), and a leading underscore, which no browser's
     * built-in global has (CometD names its callbacks _cometd_jsonp_N, Faye __jsonpN__). */
    if (name == NULL || name[0] != '_' || strlen(name) < 2 || strlen(name) > MI_PUSH_BX_JSONP_MAX) {
        return 0;
    }
    for (s = name; *s != '\0'; s++) {
        if (!apr_isalnum(*s) && *s != '_') {
            return 0;
        }
    }
    for (i = 0; prototype_members[i] != NULL; i++) {
        if (strcmp(name, prototype_members[i]) == 0) {
            return 0;
        }
    }
    return 1;
}

const char *mi_push_bx_page_origin(const char *origin, const char *referer, apr_pool_t *p)
{
    const char *s, *end;

    if (origin != NULL && *origin != '\0') {
        return origin;
    }
    if (referer == NULL || (s = strstr(referer, "://")) == NULL) {
        return NULL;
    }
    end = strchr(s + 3, '/');
    return end != NULL ? apr_pstrmemdup(p, referer, (apr_size_t)(end - referer)) : referer;
}

static int origin_in(const char *page, const char *const *allowed, int n)
{
    int i;

    for (i = 0; page != NULL && i < n; i++) {
        if (strcasecmp(allowed[i], page) == 0) {
            return 1;
        }
    }
    return 0;
}

int mi_push_bx_jsonp_allowed(const char *sec_fetch_site, const char *origin, const char *referer,
                             const char *own_origin, const char *const *allowed, int n,
                             apr_pool_t *p)
{
    const char *page = mi_push_bx_page_origin(origin, referer, p);

    if (sec_fetch_site != NULL) {
        if (strcasecmp(sec_fetch_site, "same-origin") == 0 || strcasecmp(sec_fetch_site, "none") == 0) {
            return 1;
        }
        /* cross-site or same-site: another origin's page */
        return origin_in(page, allowed, n);
    }
    if (page == NULL) {
        /* Nothing says where the script tag is: a browser without Sec-Fetch-Site whose page
         * withholds its Referer (Referrer-Policy no-referrer, or an https page loading http)
         * looks exactly like this, so nothing may be assumed.  Programs that are not
         * browsers use long-polling, which needs no JSONP. */
        return 0;
    }
    return (own_origin != NULL && strcasecmp(page, own_origin) == 0) || origin_in(page, allowed, n);
}

const char *mi_push_bx_cookie(const char *header, const char *name, apr_pool_t *p)
{
    apr_size_t nlen = strlen(name);
    const char *s = header, *end;

    while (s != NULL && *s != '\0') {
        while (*s == ' ' || *s == '\t' || *s == ';') {
            s++;
        }
        end = strchr(s, ';');
        if (strncmp(s, name, nlen) == 0 && s[nlen] == '=') {
            s += nlen + 1;
            return end != NULL ? apr_pstrmemdup(p, s, (apr_size_t)(end - s)) : apr_pstrdup(p, s);
        }
        s = end;
    }
    return NULL;
}

int mi_push_bx_browser_valid(const char *value)
{
    apr_size_t n = 0;

    if (value == NULL) {
        return 0;
    }
    for (; value[n] != '\0'; n++) {
        if (!apr_isalnum(value[n])) {
            return 0;
        }
    }
    return n >= 16 && n <= 64;
}

apr_status_t mi_push_bx_random_id(apr_pool_t *p, const char **pid)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    char *id;
    apr_status_t rv;
    int i;

    *pid = NULL;
    rv = apr_generate_random_bytes(raw, sizeof(raw));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    id = apr_palloc(p, 2 * sizeof(raw) + 1);
    for (i = 0; i < (int)sizeof(raw); i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[2 * sizeof(raw)] = '\0';
    *pid = id;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ push messages */

void mi_push_bx_set_message_type(json_object *data, const char *type)
{
    json_object_object_add(data, "messageType", json_object_new_string(type));
    json_object_object_add(data, "messageTypeName", json_object_new_string(type));
}

json_object *mi_push_bx_event(const char *channel, json_object *event, const mi_caller_t *caller,
                              const char *base, int revoked, apr_pool_t *p)
{
    json_object *msg = json_object_new_object();
    json_object *data = json_object_new_object();
    json_object *snap = mi_json_get(event, "snapshot");
    json_object *ref = mi_json_get(event, "referenceId");
    const char *notification = mi_json_get_str(event, "notification");

    if (notification == NULL) {
        notification = "StatusChange";
    }
    if (strcmp(notification, "WorkbinContent") == 0) {
        json_object *wb = json_object_new_object();
        mi_push_bx_set_message_type(data, "WorkbinContentMessage");
        json_object_object_add(data, "notificationType", json_object_new_string(notification));
        if (ref != NULL && !json_object_is_type(ref, json_type_null)) {
            json_object_object_add(data, "referenceId", json_object_get(ref));
        }
        if (snap != NULL && json_object_is_type(snap, json_type_object)) {
            json_object_object_foreach(snap, key, val) {
                if (strcmp(key, "interactions") == 0) {
                    json_object_object_add(wb, key, mi_render_interactions(val, caller, base, p));
                }
                else {
                    json_object_object_add(wb, key, json_object_get(val));
                }
            }
        }
        json_object_object_add(data, "workbin", wb);
    }
    else {
        mi_push_bx_set_message_type(data, "InteractionStateMessage");
        json_object_object_add(data, "notificationType", json_object_new_string(notification));
        if (ref != NULL && !json_object_is_type(ref, json_type_null)) {
            json_object_object_add(data, "referenceId", json_object_get(ref));
        }
        json_object_object_add(data, "interaction",
                               mi_render_interaction(snap, caller, base,
                                                     revoked ? "Revoked" : NULL, p));
    }
    json_object_object_add(msg, "channel", json_object_new_string(channel));
    json_object_object_add(msg, "data", data);
    return msg;
}

json_object *mi_push_bx_channel_event(const char *channel, json_object *event)
{
    json_object *msg = json_object_new_object();
    json_object *data = json_object_new_object();
    json_object *snap = mi_json_get(event, "snapshot");
    json_object *ref = mi_json_get(event, "referenceId");
    json_object *v;

    mi_push_bx_set_message_type(data, "ChannelStateChangeMessage");
    if (ref != NULL && !json_object_is_type(ref, json_type_null)) {
        json_object_object_add(data, "referenceId", json_object_get(ref));
    }
    /* the row's snapshot is the message (CONTRACT 8.2); its cause and previous state are
     * for the DBA's history, not the desktop */
    v = snap != NULL ? mi_json_get(snap, "channels") : NULL;
    json_object_object_add(data, "channels", v != NULL && json_object_is_type(v, json_type_array)
                                             ? json_object_get(v) : json_object_new_array());
    if (strcmp(channel, MI_PUSH_BX_CH_AGENTS) == 0 && snap != NULL
        && (v = mi_json_get(snap, "user")) != NULL) {
        json_object_object_add(data, "user", json_object_get(v));
    }
    json_object_object_add(msg, "channel", json_object_new_string(channel));
    json_object_object_add(msg, "data", data);
    return msg;
}
