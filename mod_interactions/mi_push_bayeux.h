/* mi_push_bayeux.h — Bayeux 1.0 messages: parsing a request batch, building replies and advice,
 * authorizing subscriptions, and the push messages themselves.  Pure functions; the engine
 * that uses them is mi_push.c.
 *
 * What clients rely on (docs/push.md has the details): every reply to a /meta message echoes
 * the request's "id" (CometD stops polling without it) and carries "successful"; a reply to
 * an unknown clientId is "402::Unknown client" with advice {reconnect:"handshake",interval:0}
 * (without the advice CometD retries the dead session forever); subscribe replies echo
 * "subscription" exactly as sent.
 */
#ifndef MI_PUSH_BAYEUX_H
#define MI_PUSH_BAYEUX_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mi_ops.h"
#include "mi_render.h"

/* The channels this server delivers on. */
#define MI_PUSH_BX_CH_ME  "/v2/me/interactions"
#define MI_PUSH_BX_CH_ALL "/v2/interactions"

/* Subscription bits. */
#define MI_PUSH_ME  1u
#define MI_PUSH_ALL 2u
/* Channel states (CONTRACT 8.2): the user's own, and every agent's for supervisors/admins. */
#define MI_PUSH_BX_CH_MY_CHANNELS "/v2/me/channels"
#define MI_PUSH_BX_CH_AGENTS      "/v2/agents"
#define MI_PUSH_MYCH   4u
#define MI_PUSH_AGENTS 8u
/* The channels that carry the contact center's news (supervisors and admins only). */
#define MI_PUSH_CC_WIDE (MI_PUSH_ALL | MI_PUSH_AGENTS)

/* Every channel a session may subscribe to, one row each: its name, its subscription bit and
 * the roles that may have it (MI_ROLE_ANYONE: every user).  Subscribing and unsubscribing,
 * the wildcards below /v2/me/, the channels a session row records and the rights checked
 * on every delivery all read this table: a new channel is a row (and its bit). */
#define MI_PUSH_BX_CHANNELS(X) \
    X(MI_PUSH_BX_CH_ME,  MI_PUSH_ME,  MI_ROLE_ANYONE) \
    X(MI_PUSH_BX_CH_ALL, MI_PUSH_ALL, MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN) \
    X(MI_PUSH_BX_CH_MY_CHANNELS, MI_PUSH_MYCH, MI_ROLE_ANYONE) \
    X(MI_PUSH_BX_CH_AGENTS, MI_PUSH_AGENTS, MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN)

/* The only wildcards a client may subscribe are this root followed by "*" or "**": GWS
 * clients follow them (CONTRACT 8.1), and they mean every channel below it that the user
 * may have. */
#define MI_PUSH_BX_WILDCARD_ROOT "/v2/me/"

typedef struct {
    const char *name;
    unsigned bit;
    unsigned roles;        /* MI_ROLE_*: any of them may subscribe (MI_ROLE_ANYONE: anyone) */
} mi_push_bx_channel_t;

/** The rows of MI_PUSH_BX_CHANNELS (*pn of them). */
const mi_push_bx_channel_t *mi_push_bx_channels(int *pn);

/** The bits of the channels that @pattern names: a channel of the table, or a wildcard
 *  (a last segment "*": the channels one segment below, "**": any depth below).  No
 *  rights. */
unsigned mi_push_bx_channel_bits(const char *pattern);

/** The bits of every channel @caller may have now (rights read for this very call). */
unsigned mi_push_bx_allowed(const mi_caller_t *caller);

/** Set a push message's type: "messageType" (GWS 8.5.2) and "messageTypeName" (the GWS
 *  8.5.0 name of the same member), so clients of either find it. */
void mi_push_bx_set_message_type(json_object *data, const char *type);

typedef enum {
    MI_PUSH_BX_HANDSHAKE,
    MI_PUSH_BX_CONNECT,
    MI_PUSH_BX_DISCONNECT,
    MI_PUSH_BX_SUBSCRIBE,
    MI_PUSH_BX_UNSUBSCRIBE,
    MI_PUSH_BX_META_OTHER,     /* any other /meta/ channel */
    MI_PUSH_BX_PUBLISH         /* a message to any other channel: clients may not publish */
} mi_push_bx_type_e;

typedef struct {
    json_object *json;     /* the message, borrowed from the parsed batch */
    mi_push_bx_type_e type;
    const char *channel;
    const char *client_id; /* NULL when absent or not a string */
} mi_push_bx_msg_t;

/** Split a parsed request body into messages: an array of message objects or one object,
 *  each with a string "channel".  Returns the number of messages, or 0 with *perr set when
 *  the body is not a Bayeux batch. */
int mi_push_bx_parse(json_object *doc, apr_pool_t *p, mi_push_bx_msg_t **pmsgs, const char **perr);

/** The reply to @m: {"id" (when the request had one),"channel","successful"} plus
 *  "clientId" when @client_id is given.  A new reference. */
json_object *mi_push_bx_reply(const mi_push_bx_msg_t *m, int successful, const char *client_id);

/** Make @reply unsuccessful with @error ("code:args:text"). */
void mi_push_bx_set_error(json_object *reply, const char *error);

/** Set the reply's advice.  @interval or @timeout < 0 leaves them out. */
void mi_push_bx_set_advice(json_object *reply, const char *reconnect, long long interval,
                           long long timeout, int multiple_clients);

/** The reply to a message naming an unknown, expired or someone else's clientId: 402 and
 *  advice to handshake again at once.  A new reference. */
json_object *mi_push_bx_unknown_client(const mi_push_bx_msg_t *m);

/** Is @m an acceptable handshake: version 1.x and long-polling or callback-polling among
 *  its supportedConnectionTypes?  *perr: the Bayeux error when not. */
int mi_push_bx_handshake_ok(const mi_push_bx_msg_t *m, const char **perr);

/** mi_push_bx_handshake_ok() for a server that offers the websocket transport too (when
 *  @websocket): a handshake listing only "websocket" is acceptable then. */
int mi_push_bx_handshake_ok_ws(const mi_push_bx_msg_t *m, int websocket, const char **perr);

/** Does the handshake ask for the ack extension (ext.ack true, or {"enabled":true})? */
int mi_push_bx_wants_ack(const mi_push_bx_msg_t *m);

/** A connect's ext.ack (the last batch id the client received), or -1. */
long long mi_push_bx_connect_ack(const mi_push_bx_msg_t *m);

/** A connect's advice.timeout in ms, or -1 when it has none. */
long long mi_push_bx_connect_timeout(const mi_push_bx_msg_t *m);

/** The channels named by a (un)subscribe's "subscription" (a string or an array of
 *  strings); returns how many, 0 when it is missing or malformed. */
int mi_push_bx_subscriptions(const mi_push_bx_msg_t *m, apr_pool_t *p, const char ***pchannels);

typedef enum {
    MI_PUSH_BX_SUB_CHANNELS,    /* channels of the table: *pbits */
    MI_PUSH_BX_SUB_SERVICE,     /* /service/...: acknowledged, nothing recorded */
    MI_PUSH_BX_SUB_DENIED       /* *perr says why */
} mi_push_bx_sub_e;

/** May @caller subscribe to @channel, and to which channels (*pbits)?  A channel of the
 *  table for the roles of its row (/v2/me/interactions: anyone, an agent's own news and
 *  harmless for others; /v2/interactions: supervisors and admins); MI_PUSH_BX_WILDCARD_ROOT
 *  with "*" or "**": every channel below it that @caller may have; meta channels, other
 *  wildcards and anything else: denied (403), malformed names 405. */
mi_push_bx_sub_e mi_push_bx_authorize(const char *channel, const mi_caller_t *caller, apr_pool_t *p,
                                      unsigned *pbits, const char **perr);

/** May @caller follow /v2/interactions (the whole contact center)?  Asked at subscribe time
 *  and again, with the roles read then, on every delivery. */
int mi_push_bx_may_follow_all(const mi_caller_t *caller);

/** The push message of a ChannelState history row on @channel: {"messageType" and
 *  "messageTypeName":"ChannelStateChangeMessage","referenceId"?,"channels":[{"channel",
 *  "userState"}]}, and on /v2/agents also "user":{"id","userName"}.  @event is {"referenceId","snapshot"} as the
 *  store returns it.  A new reference. */
json_object *mi_push_bx_channel_event(const char *channel, json_object *event);

/** Is @channel a well-formed Bayeux channel name (wildcards only as the last segment)? */
int mi_push_bx_channel_valid(const char *channel);

/* The longest JSONP callback name. */
#define MI_PUSH_BX_JSONP_MAX 64

/** Is @name a safe JSONP callback: an underscore, then one or more letters, digits and
 *  underscores, at most MI_PUSH_BX_JSONP_MAX bytes, and not a member every object has
 *  (__proto__...)?  No dots: a dotted name can reach any object of the page that loads the
 *  script. */
int mi_push_bx_jsonp_valid(const char *name);

/** The origin (scheme://host[:port]) of the page a request came from: @origin when given,
 *  else the start of @referer; NULL when neither names one. */
const char *mi_push_bx_page_origin(const char *origin, const char *referer, apr_pool_t *p);

/** May a JSONP request be answered?  A browser attaches cached credentials to a
 *  <script src> from any site and runs the answer in that site's page, so only pages of
 *  @own_origin or of an origin in @allowed[0..n) may.  @sec_fetch_site is the browser's own
 *  verdict (same-origin and none pass; cross-site and same-site need an allowed page
 *  origin); without it, a page origin (@origin, else @referer) must be ours or allowed; a
 *  request naming no page at all is refused (it could be any site's page). */
int mi_push_bx_jsonp_allowed(const char *sec_fetch_site, const char *origin, const char *referer,
                             const char *own_origin, const char *const *allowed, int n,
                             apr_pool_t *p);

/** The value of cookie @name in a Cookie header, or NULL. */
const char *mi_push_bx_cookie(const char *header, const char *name, apr_pool_t *p);

/** Is @value a browser id this server would have issued (16-64 letters and digits)? */
int mi_push_bx_browser_valid(const char *value);

/** 128 random bits as 32 lowercase hex digits (clientIds and browser ids). */
apr_status_t mi_push_bx_random_id(apr_pool_t *p, const char **pid);

/** The push message for one history event, rendered for @caller: on @channel,
 *  {"messageType","messageTypeName","notificationType","referenceId"?, "interaction" | "workbin"}.  @event is
 *  {"notification","referenceId","snapshot",...} as the store returns it; @revoked renders
 *  the interaction with state "Revoked" and no capabilities.  A new reference. */
json_object *mi_push_bx_event(const char *channel, json_object *event, const mi_caller_t *caller,
                              const char *base, int revoked, apr_pool_t *p);

#endif
