/* mod_interactions_webhook.c — starts and stops this child's webhook worker thread
 * (mi_webhook.c, which holds the loop, its statements and the election).
 *
 * The glue gives it the allowlist (InteractionsWebhookAllow), the attempts and timeout, and
 * the key of this httpd server: the host name and the pid of httpd's parent, which all the
 * children of one server share and no other server has, so that each server elects one
 * worker among its children.
 */
#include <unistd.h>

#include <apr_hash.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_log.h>

#include "mi_webhook.h"
#include "mod_interactions_config.h"
#include "mod_interactions.h"
#include "mod_interactions_webhook.h"

/* This server's key: one worker per key. */
static int server_key(apr_pool_t *p)
{
    char host[APRMAXHOSTLEN + 1] = "";
    const char *id;
    apr_ssize_t len;

    if (apr_gethostname(host, sizeof(host), p) != APR_SUCCESS) {
        host[0] = '\0';
    }
    id = apr_psprintf(p, "%s:%ld", host, (long)getppid());
    len = (apr_ssize_t)strlen(id);
    return (int)apr_hashfunc_default(id, &len);
}

apr_status_t mi_ap_webhook_start(mi_ap_process_t *proc, server_rec *s, apr_pool_t *pchild)
{
    const mi_ap_srv_conf_t *sc = mi_ap_config_srv();
    mi_webhook_allow_t *allow = mi_webhook_allow_create(pchild);
    mi_webhook_conf_t conf;
    apr_status_t rv;
    int i;

    if (sc->webhook_allow != NULL) {
        for (i = 0; i < sc->webhook_allow->nelts; i++) {
            /* checked when the directive was read */
            (void)mi_webhook_allow_add(allow, APR_ARRAY_IDX(sc->webhook_allow, i, const char *));
        }
    }
    rv = mi_webhook_global_init(pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     MI_LOGNO(
                         00803) "libcurl could not be set up: this child delivers no webhooks");
        return rv;
    }
    conf.store = proc->store;
    conf.allow = allow;
    conf.server_key = server_key(pchild);
    conf.attempts = sc->webhook_attempts;
    conf.timeout_ms = sc->webhook_timeout_ms;
    /* the thread is stopped and joined by a pre-cleanup of pchild */
    rv = mi_webhook_create(&proc->webhook, &conf, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     MI_LOGNO(
                         00804) "cannot start the webhook thread: this child delivers no webhooks");
    }
    return rv;
}

void mi_ap_webhook_wake_for_stop(mi_ap_process_t *proc)
{
    if (proc->webhook != NULL) {
        mi_webhook_shutdown(proc->webhook);
    }
}
