/* mod_interactions_directives.h — every directive of the module, once.
 *
 * One row per directive, in the order of docs/configuration.md:
 *
 *   X(name, scope, type, field, default, floor, merge, setter, help)
 *
 *   name     as written in httpd.conf
 *   scope    SRV  server-wide, main server config only: a member of mi_ap_srv_conf_t
 *            DB   a database and its pool: per <VirtualHost>/<Location> like DIR (a member of
 *                 mi_ap_dir_conf_t), numbers 0..100000000 like SRV; each child keeps one pool,
 *                 push listener and maintenance thread per distinct InteractionsDatabase,
 *                 sized by the settings where that database is named (mod_interactions_db.c)
 *            DIR  per <VirtualHost>/<Location>/<Directory>: a member of mi_ap_dir_conf_t
 *   type     INT  an int; SRV and DB take 0..100000000, DIR 1..1000000
 *            LONG a long long (DIR only), 1..1073741824
 *            FLAG On or Off, an int 1 or 0 (SRV only)
 *            STR  a string, which @setter checks and stores
 *            LIST an array (apr_array_header_t *); @setter adds each argument
 *   field    the member it fills (unique over both structs)
 *   default  INT, LONG: a plain number, or a constant of mi_limits.h or mi_tunables.h where
 *            the core needs the number too; FLAG: On or Off; STR, LIST: NULL (what unset
 *            means is said in @help)
 *   floor    INT, LONG: a smaller value is raised to this when it is used (a value the
 *            setter accepts but that cannot work); other types: -
 *   merge    INNER: a value set in an inner context replaces the outer one
 *   setter   STR, LIST: the function that takes the argument (mod_interactions_config.c);
 *            other types: - (a generic setter parses the number)
 *   help     what httpd shows for the directive; " (default N)" is appended from @default
 *
 * mod_interactions_config.[ch] generate everything else from this table: the members of
 * both structs, their "unset" markers, create, merge, defaults and floors, and httpd's
 * command table.  scripts/check-directives compares the table with docs/configuration.md
 * and conf/.  Adding a directive: a row here, its section in docs/configuration.md, a line
 * in conf/ (docs/architecture.md, "Adding a directive").
 */
#ifndef MOD_INTERACTIONS_DIRECTIVES_H
#define MOD_INTERACTIONS_DIRECTIVES_H

#include "mi_limits.h"
#include "mi_tunables.h"

#define MI_DIRECTIVES(X) \
    /* ---------------------------------------------------------- server-wide */ \
    X("InteractionsDatabase", DB, STR, conninfo, NULL, -, INNER, set_database, \
      "libpq connection string of the database of this server, virtual host or location's " \
      "contact center; one pool per distinct string") \
    X("InteractionsDatabasePasswordFile", SRV, STR, password_file, NULL, -, INNER, \
      set_password_file, \
      "file holding the database password, readable by the user httpd starts as only; " \
      "read at start, it overrides a password in the connection string (global)") \
    X("InteractionsPoolMin", DB, INT, pool_min, 1, 0, INNER, -, \
      "connections each child opens at start") \
    X("InteractionsPoolKeep", DB, INT, pool_keep, 4, 0, INNER, -, \
      "idle connections each child keeps") \
    X("InteractionsPoolMax", DB, INT, pool_max, 16, 1, INNER, -, \
      "most connections per child process") \
    X("InteractionsPoolTTL", DB, INT, pool_ttl_s, 60, 0, INNER, -, \
      "seconds an idle connection above the kept ones lives") \
    X("InteractionsPoolAcquireTimeout", DB, INT, acquire_timeout_ms, 2000, 0, INNER, -, \
      "milliseconds a request waits for a free connection before 503") \
    X("InteractionsDBConnectTimeout", DB, INT, connect_timeout_s, 3, 0, INNER, -, \
      "seconds to wait for a new database connection") \
    X("InteractionsStatementTimeout", SRV, INT, statement_timeout_ms, 5000, 0, INNER, -, \
      "statement_timeout of API calls in milliseconds, 0 for the server's") \
    X("InteractionsRetryAfter", SRV, INT, retry_after_s, 2, 0, INNER, -, \
      "Retry-After seconds sent with 503 when the database is unavailable") \
    X("InteractionsMaintenanceInterval", SRV, INT, tick_ms, 500, 10, INNER, -, \
      "milliseconds between maintenance runs: offer timeouts, stuck routing, expired push " \
      "sessions") \
    X("InteractionsPushTimeout", SRV, INT, push_timeout_ms, 25000, 0, INNER, -, \
      "milliseconds a CometD /meta/connect is held when there is nothing to deliver") \
    X("InteractionsPushMaxInterval", SRV, INT, push_max_interval_ms, 10000, 0, INNER, -, \
      "milliseconds after a connect reply before a silent CometD session expires") \
    X("InteractionsPushMaxWaiters", SRV, INT, push_max_waiters, 200, 0, INNER, -, \
      "most held /meta/connect requests per child process, at most its threads less a " \
      "reserve; beyond it clients are told to poll again later") \
    X("InteractionsPushSessionsPerBrowser", SRV, INT, push_sessions_per_browser, 1, 0, INNER, -, \
      "held /meta/connect requests per browser (BAYEUX_BROWSER cookie); 0 for no limit") \
    X("InteractionsPushHeldPerUser", SRV, INT, push_held_per_user, 4, 0, INNER, -, \
      "held /meta/connect requests of one user per child process; beyond it the user is " \
      "told to poll; 0 for no limit") \
    X("InteractionsPushHeldPerContactCenter", SRV, INT, push_held_per_cc, 0, 0, INNER, -, \
      "held /meta/connect requests of one contact center per child process; 0 for no limit") \
    X("InteractionsPushSessionsPerUser", SRV, INT, push_sessions_per_user, 16, 0, INNER, -, \
      "live CometD sessions of one user; further handshakes are refused until one ends; " \
      "0 for no limit") \
    X("InteractionsPushSessionsPerContactCenter", SRV, INT, push_sessions_per_cc, 0, 0, INNER, \
      -, "live CometD sessions of one contact center; 0 for no limit") \
    X("InteractionsPushHandshakesPerMinute", SRV, INT, push_handshakes_per_minute, 30, 0, \
      INNER, -, "CometD handshakes of one user per minute (as many at once); 0 for no limit") \
    X("InteractionsPushJSONP", SRV, FLAG, push_jsonp, On, -, INNER, -, \
      "allow the callback-polling (JSONP) transport") \
    X("InteractionsPushWebSocket", SRV, FLAG, push_websocket, On, -, INNER, -, \
      "offer CometD's websocket transport; Off answers upgrades 400 at once and clients " \
      "use long-polling") \
    X("InteractionsAuthnCacheEntries", SRV, INT, authn_cache_entries, 65536, 0, INNER, -, \
      "users whose verified password the authn provider remembers, all contact centers " \
      "together; 0 for none") \
    X("InteractionsAuthnCacheRecheck", SRV, INT, authn_cache_recheck_s, 5, 0, INNER, -, \
      "seconds a remembered password is trusted before the user's credential version is " \
      "checked again") \
    X("InteractionsAuthnFailureEntries", SRV, INT, authn_failure_entries, 65536, 0, INNER, -, \
      "failed-login records kept (per user, per address, per user and address)") \
    X("InteractionsAuthnFailureWindow", SRV, INT, authn_failure_window_s, 300, 1, INNER, -, \
      "seconds over which failed logins are counted, and how long a lock lasts") \
    X("InteractionsAuthnMaxFailuresUserAddress", SRV, INT, authn_max_failures_user_address, \
      10, 0, INNER, -, \
      "failed logins of one user from one address before that pair is locked; 0 for no " \
      "limit") \
    X("InteractionsAuthnMaxFailuresUser", SRV, INT, authn_max_failures_user, 100, 0, INNER, -, \
      "failed logins of one user before the user is locked except where they logged in " \
      "before; 0 for no limit") \
    X("InteractionsAuthnMaxFailuresAddress", SRV, INT, authn_max_failures_address, 1000, 0, \
      INNER, -, \
      "failed logins from one address before it is locked except for users who logged in " \
      "there before; 0 for no limit") \
    X("InteractionsPushCacheRows", SRV, INT, push_cache_rows, MI_PUSH_CACHE_ROWS, 1, INNER, -, \
      "/v2/interactions changes kept rendered per child process") \
    X("InteractionsPushCacheSize", SRV, INT, push_cache_bytes, MI_PUSH_CACHE_BYTES, 0, INNER, \
      -, "bytes those rendered changes may take per child process") \
    X("InteractionsWebhookAllow", SRV, LIST, webhook_allow, NULL, -, INNER, add_webhook_allow, \
      "hosts webhooks may reach: names, *.domains, addresses, networks (address/bits); " \
      "a name must resolve to a public address unless the address is listed; none when unset") \
    X("InteractionsWebhookAttempts", SRV, INT, webhook_attempts, MI_WEBHOOK_ATTEMPTS, 1, INNER, \
      -, "attempts of a webhook delivery before it is dead") \
    X("InteractionsWebhookTimeout", SRV, INT, webhook_timeout_ms, MI_WEBHOOK_TIMEOUT_MS, 100, \
      INNER, -, "milliseconds one webhook request may take") \
    /* ---------------------------------------------------------- per location */ \
    X("InteractionsContactCenter", DIR, STR, contact_center, NULL, -, INNER, \
      set_contact_center, "the contact center served by this location or virtual host") \
    X("InteractionsBasePath", DIR, STR, base, NULL, -, INNER, set_base_path, \
      "the API base path when it is not the <Location> path (e.g. in a <VirtualHost>)") \
    X("InteractionsAllowOrigin", DIR, LIST, allow_origins, NULL, -, INNER, add_allow_origin, \
      "origins (https://host[:port]) whose pages may use the push channel cross-site " \
      "(JSONP, CORS)") \
    X("InteractionsPublicOrigin", DIR, STR, public_origin, NULL, -, INNER, set_public_origin, \
      "scheme://host[:port] that interaction uris start with (default: the server's " \
      "ServerName, never the request's Host header)") \
    X("InteractionsTrustedProxy", DIR, LIST, trusted_proxies, NULL, -, INNER, \
      add_trusted_proxy, \
      "addresses (a.b.c.d[/bits]) of proxies whose X-Forwarded-Host and X-Forwarded-Proto " \
      "name the origin of interaction uris") \
    X("InteractionsMaxBodySize", DIR, LONG, max_body, MI_DEFAULT_MAX_BODY, 1, INNER, -, \
      "largest request body in bytes") \
    X("InteractionsMaxJSONDepth", DIR, INT, max_depth, MI_DEFAULT_MAX_DEPTH, 1, INNER, -, \
      "deepest JSON nesting accepted") \
    X("InteractionsMaxStringLength", DIR, INT, max_string, MI_DEFAULT_MAX_STRING, 1, INNER, -, \
      "longest string field in characters: subject, addresses, names") \
    X("InteractionsMaxUserDataSize", DIR, LONG, max_user_data, MI_DEFAULT_MAX_USER_DATA, 1, \
      INNER, -, "largest serialized user data of one interaction in bytes") \
    X("InteractionsMaxPageSize", DIR, INT, max_page, MI_DEFAULT_MAX_PAGE, 1, INNER, -, \
      "largest 'limit' of a collection request") \
    X("InteractionsDefaultPageSize", DIR, INT, default_page, MI_DEFAULT_PAGE, 1, INNER, -, \
      "'limit' of a collection request without one") \
    X("InteractionsMaxPageBytes", DIR, LONG, max_page_bytes, MI_DEFAULT_MAX_PAGE_BYTES, 1, \
      INNER, -, \
      "bytes of interactions in one collection page; a page stops early and says where to " \
      "continue") \
    X("InteractionsMaxAgentChannels", DIR, INT, max_channels, MI_DEFAULT_MAX_CHANNELS, 1, \
      INNER, -, "channels (media types) one agent may have; a state for a further one is " \
      "refused")

#endif
