/* mi_caps.c — see mi_caps.h */
#include <string.h>

#include "mi_caps.h"

#define BIT(op) (UINT64_C(1) << (op))

/* The contract's state table (section 5) from the caller's side. */
static mi_caps_t by_state(const mi_caps_ctx_t *c)
{
    const char *s = c->state;

    if (s == NULL) {
        return 0;
    }
    if (strcmp(s, "Invited") == 0 && c->is_invitee) {
        return BIT(MI_OP_ACCEPT) | BIT(MI_OP_REJECT);
    }
    if (strcmp(s, "Processing") == 0 && c->is_owner) {
        mi_caps_t m = BIT(MI_OP_COMPLETE) | BIT(MI_OP_PLACE_IN_QUEUE)
                         | BIT(MI_OP_PLACE_IN_WORKBIN) | BIT(MI_OP_TRANSFER)
                         | BIT(MI_OP_ATTACH_USER_DATA) | BIT(MI_OP_UPDATE_USER_DATA)
                         | BIT(MI_OP_DELETE_USER_DATA);
        if (c->media != NULL && strcmp(c->media, "email") == 0) {
            m |= BIT(MI_OP_REPLY) | BIT(MI_OP_REPLY_ALL);
        }
        return m;
    }
    if (strcmp(s, "InWorkbin") == 0 && c->may_use_workbin) {
        return BIT(MI_OP_PULL);
    }
    if (strcmp(s, "Composing") == 0 && c->is_owner) {
        return BIT(MI_OP_CANCEL) | BIT(MI_OP_SEND) | BIT(MI_OP_ATTACH_USER_DATA)
               | BIT(MI_OP_UPDATE_USER_DATA) | BIT(MI_OP_DELETE_USER_DATA);
    }
    return 0;
}

mi_caps_t mi_caps_mask(const mi_caps_ctx_t *c)
{
    mi_caps_t m = by_state(c);
    int op;

    /* ... of what the table of operations lets the caller's roles call */
    for (op = 0; op < MI_OP__COUNT; op++) {
        if ((m & BIT(op)) && !mi_op_permits((mi_op_e)op, c->roles)) {
            m &= ~BIT(op);
        }
    }
    return m;
}

json_object *mi_caps_json(const mi_caps_ctx_t *ctx)
{
    mi_caps_t m = mi_caps_mask(ctx);
    json_object *a = json_object_new_array();
    int op;

    for (op = 0; op < MI_OP__COUNT; op++) {
        if (m & BIT(op)) {
            json_object_array_add(a, json_object_new_string(mi_op_name((mi_op_e)op)));
        }
    }
    return a;
}
