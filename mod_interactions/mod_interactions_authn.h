/* mod_interactions_authn.h — "AuthBasicProvider interactions". */
#ifndef MOD_INTERACTIONS_AUTHN_H
#define MOD_INTERACTIONS_AUTHN_H

#include <apr_pools.h>

/** Register the provider (and the post_config hook that makes its shared cache). */
void mi_ap_authn_register(apr_pool_t *p);

/** The credential cache's counters in the Prometheus text format ("" before it exists). */
const char *mi_ap_authn_prometheus(apr_pool_t *p);

#endif
