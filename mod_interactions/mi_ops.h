/* mi_ops.h — the operations of the API, in one table.
 *
 * Every call a client can make is one row: the REST calls, named by their route and method
 * ("list" is GET /interactions; "supervise" is POST /interactions/{id}, a supervisor's
 * Transfer, PlaceInQueue or PlaceInWorkbin of anyone's interaction), and the agent
 * operations of POST /me/interactions[/{id}],
 * named by the contract's operationName ("Accept").  Everything else derives from the row:
 * the enum below and the statistics slot (its index), which names validation accepts
 * (MI_OPF_NAMED), what the store asks of interactions.api() (the entry, and whether the
 * transaction may write: reads run read-only and take no referenceId), whether the push
 * channel has news to look for afterwards (MI_OPF_WRITE), which calls carry the page bound
 * (MI_OPF_PAGED), and which roles the operation is for (capabilities offer it only to
 * them; the SQL function of the entry enforces them).
 *
 * The SQL side maps each entry to its function (sql/functions/030_api.sql, and the
 * operationNames of "operation" in 040_operations.sql); tests/unit/test_ops.c holds the two
 * in step.  Adding an operation: docs/architecture.md.
 */
#ifndef MI_OPS_H
#define MI_OPS_H

/* Roles of the contract (section 4); MI_ROLE_ANYONE: any user of the contact center. */
#define MI_ROLE_ANYONE     0u
#define MI_ROLE_AGENT      (1u << 0)
#define MI_ROLE_SUPERVISOR (1u << 1)
#define MI_ROLE_ADMIN      (1u << 2)
#define MI_ROLE_APIUSER    (1u << 3)
#define MI_ROLES_ALL       (MI_ROLE_AGENT | MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN | MI_ROLE_APIUSER)

/* Flags of an operation */
#define MI_OPF_WRITE  (1u << 0)   /* may change data: read-write transaction, a referenceId,
                                     and the push channel looks for news afterwards */
#define MI_OPF_NAMED  (1u << 1)   /* an operationName of POST /me/interactions[/{id}] */
#define MI_OPF_NO_ID  (1u << 2)   /* ... that may also be posted without an interaction id */
#define MI_OPF_PAGED  (1u << 3)   /* answers a page of interactions: carries the byte bound */

/* The table.  Columns: enum suffix, name (the statistics label; for MI_OPF_NAMED the
 * operationName), the op argument of interactions.api() (NULL: no store call), flags,
 * roles.  The first row is what a request is counted under before (or without) being
 * decoded; the named operations stay together, in contract order (capabilities list them
 * in this order). */
#define MI_OPS(X) \
    X(NONE,                "other",             NULL,        0,                     MI_ROLE_ANYONE) \
    X(ME,                  "me",                "me",        0,                     MI_ROLE_ANYONE) \
    X(CHANNEL,             "channel",           "channel",   MI_OPF_WRITE,          MI_ROLE_AGENT) \
    X(ME_STATE,            "me_state",          "me_state",  MI_OPF_WRITE,          MI_ROLE_AGENT) \
    X(LIST,                "list",              "list",      MI_OPF_PAGED,          MI_ROLES_ALL) \
    X(CREATE,              "create",            "create",    MI_OPF_WRITE,          MI_ROLE_ADMIN | MI_ROLE_APIUSER) \
    X(GET,                 "get",               "get",       0,                     MI_ROLES_ALL) \
    X(UPDATE,              "update",            "update",    MI_OPF_WRITE,          MI_ROLE_AGENT | MI_ROLE_ADMIN) \
    X(MY_LIST,             "my_list",           "my_list",   MI_OPF_PAGED,          MI_ROLE_AGENT) \
    X(WORKBINS,            "workbins",          "workbins",  0,                     MI_ROLE_AGENT) \
    X(WORKBIN,             "workbin",           "workbin",   MI_OPF_PAGED,          MI_ROLE_AGENT) \
    X(AGENTS,              "agents",            "agents",    0,                     MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN) \
    X(AGENT_CHANNEL,       "agent_channel",     "agent_channel", MI_OPF_WRITE,      MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN) \
    X(SUPERVISE,           "supervise",         "supervise", MI_OPF_WRITE,          MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN) \
    X(QUEUES,              "queues",            "queues",    0,                     MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN) \
    X(QUEUE_STATISTICS,    "queue_statistics",  "queue_statistics", 0,              MI_ROLE_SUPERVISOR | MI_ROLE_ADMIN) \
    X(ACCEPT,              "Accept",            "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(REJECT,              "Reject",            "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(COMPLETE,            "Complete",          "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(PLACE_IN_QUEUE,      "PlaceInQueue",      "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(PLACE_IN_WORKBIN,    "PlaceInWorkbin",    "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(PULL,                "Pull",              "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(GET_WORKBIN_CONTENT, "GetWorkbinContent", "operation", \
      MI_OPF_WRITE | MI_OPF_NAMED | MI_OPF_NO_ID | MI_OPF_PAGED, MI_ROLE_AGENT) \
    X(TRANSFER,            "Transfer",          "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(ATTACH_USER_DATA,    "AttachUserData",    "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(UPDATE_USER_DATA,    "UpdateUserData",    "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(DELETE_USER_DATA,    "DeleteUserData",    "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(REPLY,               "Reply",             "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(REPLY_ALL,           "ReplyAll",          "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(CANCEL,              "Cancel",            "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(SEND,                "Send",              "operation", MI_OPF_WRITE | MI_OPF_NAMED, MI_ROLE_AGENT) \
    X(NOTIFICATIONS,       "notifications",     NULL,        0,                     MI_ROLE_ANYONE) \
    X(EVENTS,              "events",            "events",    MI_OPF_PAGED,          MI_ROLE_ADMIN | MI_ROLE_APIUSER)

/* Other names clients send for an operation of the table: operationName, the row it means.
 * Validation passes the row's own name on, so statistics, capabilities and SQL know only
 * that one.  SingleStepTransfer is the seed's (GWS 8.5.1 chat and e-mail pages) name of
 * Transfer, which Genesys samples and desktops send. */
#define MI_OP_ALIASES(X) \
    X("SingleStepTransfer", TRANSFER)

typedef enum {
#define MI_OP_ENUM(id, name, entry, flags, roles) MI_OP_##id,
    MI_OPS(MI_OP_ENUM)
#undef MI_OP_ENUM
    MI_OP__COUNT
} mi_op_e;

typedef struct {
    const char *name;
    const char *entry;       /* the op argument of interactions.api(); NULL: none */
    unsigned int flags;      /* MI_OPF_* */
    unsigned int roles;      /* MI_ROLE_*: any of them may call it (MI_ROLE_ANYONE: anyone) */
} mi_op_t;

/** The row of @op; that of MI_OP_NONE for anything out of range. */
const mi_op_t *mi_op(mi_op_e op);

/** The name of @op ("me", "Accept", ...; "other" for MI_OP_NONE), or NULL out of range. */
const char *mi_op_name(mi_op_e op);

/** The operation with operationName @name (case-sensitive, as in the contract; only
 *  MI_OPF_NAMED rows, or a name of MI_OP_ALIASES), or MI_OP_NONE. */
mi_op_e mi_op_parse(const char *name);

/** Does @op have flag @flag? */
int mi_op_is(mi_op_e op, unsigned int flag);

/** May a caller with @roles (MI_ROLE_* bits) call @op? */
int mi_op_permits(mi_op_e op, unsigned int roles);

/** The MI_ROLE_* bit of a role name ("agent", ...), 0 for anything else. */
unsigned int mi_role_bit(const char *name);

#endif
