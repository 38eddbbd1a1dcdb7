/* mi_ops.c — see mi_ops.h */
#include <string.h>

#include "mi_ops.h"

static const mi_op_t ops[MI_OP__COUNT] = {
#define MI_OP_ROW(id, name, entry, flags, roles) { name, entry, flags, roles },
    MI_OPS(MI_OP_ROW)
#undef MI_OP_ROW
};

/* capabilities are a bit mask of operations (mi_caps.h) */
_Static_assert(MI_OP__COUNT <= 64, "a capability mask (mi_caps_t, 64 bits) must hold every operation");

const mi_op_t *mi_op(mi_op_e op)
{
    return ((int)op >= 0 && op < MI_OP__COUNT) ? &ops[op] : &ops[MI_OP_NONE];
}

const char *mi_op_name(mi_op_e op)
{
    return ((int)op >= 0 && op < MI_OP__COUNT) ? ops[op].name : NULL;
}

static const struct {
    const char *name;
    mi_op_e op;
} aliases[] = {
#define MI_OP_ALIAS_ROW(alias, id) { alias, MI_OP_##id },
    MI_OP_ALIASES(MI_OP_ALIAS_ROW)
#undef MI_OP_ALIAS_ROW
};

mi_op_e mi_op_parse(const char *name)
{
    size_t j;
    int i;

    for (i = 0; name != NULL && i < MI_OP__COUNT; i++) {
        if ((ops[i].flags & MI_OPF_NAMED) && strcmp(name, ops[i].name) == 0) {
            return (mi_op_e)i;
        }
    }
    for (j = 0; name != NULL && j < sizeof(aliases) / sizeof(aliases[0]); j++) {
        if (strcmp(name, aliases[j].name) == 0) {
            return aliases[j].op;
        }
    }
    return MI_OP_NONE;
}

int mi_op_is(mi_op_e op, unsigned int flag)
{
    return (mi_op(op)->flags & flag) == flag;
}

int mi_op_permits(mi_op_e op, unsigned int roles)
{
    unsigned int need = mi_op(op)->roles;

    return need == MI_ROLE_ANYONE || (need & roles) != 0;
}

unsigned int mi_role_bit(const char *name)
{
    static const struct { const char *name; unsigned int bit; } roles[] = {
        { "agent", MI_ROLE_AGENT }, { "supervisor", MI_ROLE_SUPERVISOR },
        { "admin", MI_ROLE_ADMIN }, { "apiuser", MI_ROLE_APIUSER },
    };
    size_t i;

    for (i = 0; name != NULL && i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(name, roles[i].name) == 0) {
            return roles[i].bit;
        }
    }
    return 0;
}
