#include "core_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ferry.h"
#include "httpc.h"
#include "jid.h"
#include "log.h"
#include "router.h"
#include "services.h"
#include "stanza.h"
#include "store.h"
#include "xlink.h"

#define IN(ci) ((struct instance *)(ci))

static struct event_base *api_base(struct core_instance *ci)
{
    return IN(ci)->f->base;
}

static const char *api_name(struct core_instance *ci)
{
    return IN(ci)->name;
}

static const char *api_domain(struct core_instance *ci)
{
    return IN(ci)->domain;
}

static const char *api_cfg_str(struct core_instance *ci, const char *key)
{
    return cfgv_str(&IN(ci)->vals, key);
}

static long long api_cfg_int(struct core_instance *ci, const char *key)
{
    return cfgv_int(&IN(ci)->vals, key);
}

static int api_cfg_bool(struct core_instance *ci, const char *key)
{
    return cfgv_bool(&IN(ci)->vals, key);
}

static size_t api_cfg_list_len(struct core_instance *ci, const char *key)
{
    const struct cfg_value *v = cfgv_get(&IN(ci)->vals, key);
    return v ? v->list_len : 0;
}

static const char *api_cfg_list_item(struct core_instance *ci, const char *key, size_t i)
{
    const struct cfg_value *v = cfgv_get(&IN(ci)->vals, key);
    return v && i < v->list_len ? v->list[i] : NULL;
}

static int api_deliver(struct core_instance *ci, const struct tr_inbound *msg)
{
    return router_deliver(IN(ci), msg);
}

static int api_bounce(struct core_instance *ci, const char *user, const char *from_local,
                      const char *stanza_id, const struct tr_error *err)
{
    struct instance *in = IN(ci);
    xmpp_ctx_t *ctx = xlink_ctx_xmpp(in->f->xc);
    char *esc = NULL, *from = NULL;
    if (from_local && jid_escape_local(from_local, &esc) != 0)
        return FERRY_EINVAL;
    from = jid_join(esc, in->domain, NULL);
    free(esc);
    if (!from)
        return FERRY_ENOMEM;
    /* Build the message the user sent, then turn it into its error. */
    xmpp_stanza_t *orig = stz_message(ctx, "chat", user, from, stanza_id, NULL, 0);
    free(from);
    if (!orig)
        return FERRY_ENOMEM;
    xmpp_stanza_t *e = stz_error_reply(ctx, orig, err->cond, err->text[0] ? err->text : NULL);
    xmpp_stanza_release(orig);
    if (!e)
        return FERRY_ENOMEM;
    int rc = router_enqueue(in, e, NULL);
    xmpp_stanza_release(e);
    return rc;
}

static int api_receipt(struct core_instance *ci, const char *user, const char *from_local,
                       const char *stanza_id)
{
    struct instance *in = IN(ci);
    xmpp_ctx_t *ctx = xlink_ctx_xmpp(in->f->xc);
    char *esc = NULL;
    if (!user || !stanza_id || (from_local && jid_escape_local(from_local, &esc) != 0))
        return FERRY_EINVAL;
    char *from = jid_join(esc, in->domain, NULL);
    free(esc);
    if (!from)
        return FERRY_ENOMEM;
    char id[48];
    snprintf(id, sizeof(id), "ferry-r%08lx%08lx", (unsigned long)random(), (unsigned long)random());
    xmpp_stanza_t *m = stz_message(ctx, "chat", from, user, id, NULL, 0);
    free(from);
    xmpp_stanza_t *r = stz_elem(ctx, "received", "urn:xmpp:receipts");
    int rc = FERRY_ENOMEM;
    if (m && r) {
        stz_set_attr(r, "id", stanza_id);
        xmpp_stanza_add_child(m, r);
        rc = router_enqueue(in, m, NULL);
    }
    xmpp_stanza_release(r);
    xmpp_stanza_release(m);
    return rc;
}

static int api_http_request(struct core_instance *ci, const struct tr_http_out *req, tr_http_cb cb,
                            void *arg)
{
    return httpc_request(IN(ci)->f->httpc, req, cb, arg);
}

static struct store *api_store(struct core_instance *ci)
{
    return IN(ci)->f->store;
}

static int api_reg_get(struct core_instance *ci, const char *user, char **fields)
{
    struct instance *in = IN(ci);
    char *bare = jid_bare(user);
    if (!bare)
        return FERRY_EINVAL;
    int rc = store_reg_get(in->f->store, in->name, bare, fields);
    free(bare);
    return rc;
}

static void api_set_state(struct core_instance *ci, int up, const char *status)
{
    struct instance *in = IN(ci);
    int changed = in->transport_up != !!up;
    in->transport_up = !!up;
    free(in->status_text);
    in->status_text = status ? strdup(status) : NULL;
    if (changed) {
        log_info(in->name, "transport is %s", up ? "up" : "down");
        services_broadcast_state(in);
    }
}

static void api_log(struct core_instance *ci, int level, const char *fmt, ...)
{
    if (level > (int)log_get_level())
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_msg((enum log_level)level, IN(ci)->name, "%s", buf);
}

const struct core_api core_api = {
    .base = api_base,
    .instance_name = api_name,
    .domain = api_domain,
    .cfg_str = api_cfg_str,
    .cfg_int = api_cfg_int,
    .cfg_bool = api_cfg_bool,
    .cfg_list_len = api_cfg_list_len,
    .cfg_list_item = api_cfg_list_item,
    .deliver = api_deliver,
    .bounce = api_bounce,
    .receipt = api_receipt,
    .http_request = api_http_request,
    .store = api_store,
    .reg_get = api_reg_get,
    .set_state = api_set_state,
    .log = api_log,
};
