/* mi_caps.h — which operations a caller may perform on an interaction now.
 *
 * This is the contract's state table seen from one caller.  The SQL operation functions
 * enforce the same table (they are the authority and decide races); the integration tests
 * check that every capability listed here succeeds and every other operation is refused.
 */
#ifndef MI_CAPS_H
#define MI_CAPS_H

#include <stdint.h>

#include <json-c/json.h>

#include "mi_ops.h"

typedef struct {
    const char *state;       /* the interaction's state */
    const char *media;       /* its media type */
    unsigned int roles;      /* the caller's roles (MI_ROLE_* of mi_ops.h) */
    int is_invitee;          /* it is offered (Invited) to the caller */
    int is_owner;            /* the caller owns it (Processing / Composing) */
    int may_use_workbin;     /* it sits in a workbin the caller may use */
} mi_caps_ctx_t;

/** A set of operations: bit (1 << op) for each mi_op_e (64 bits: room to grow). */
typedef uint64_t mi_caps_t;

/** Bit (1 << op) is set for each operation allowed now: an operationName (mi_ops.h) for
 *  the caller's roles, in the interaction's state, given how the caller relates to it. */
mi_caps_t mi_caps_mask(const mi_caps_ctx_t *ctx);

/** The same as a JSON array of operation names, in contract order (a new reference). */
json_object *mi_caps_json(const mi_caps_ctx_t *ctx);

#endif
