#include "core_api.h"

#include "adhoc.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disco.h"
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

static const struct cfg_values *group_of(struct core_instance *ci, const char *key, size_t i)
{
    const struct cfg_value *v = cfgv_get(&IN(ci)->vals, key);
    return v && i < v->n_groups ? &v->groups[i] : NULL;
}

static size_t api_cfg_groups(struct core_instance *ci, const char *key)
{
    const struct cfg_value *v = cfgv_get(&IN(ci)->vals, key);
    return v ? v->n_groups : 0;
}

static const char *api_cfg_group_str(struct core_instance *ci, const char *key, size_t i,
                                     const char *sub)
{
    const struct cfg_values *g = group_of(ci, key, i);
    return g ? cfgv_str(g, sub) : NULL;
}

static long long api_cfg_group_int(struct core_instance *ci, const char *key, size_t i,
                                   const char *sub)
{
    const struct cfg_values *g = group_of(ci, key, i);
    return g ? cfgv_int(g, sub) : 0;
}

static size_t api_cfg_group_list_len(struct core_instance *ci, const char *key, size_t i,
                                     const char *sub)
{
    const struct cfg_values *g = group_of(ci, key, i);
    const struct cfg_value *v = g ? cfgv_get(g, sub) : NULL;
    return v ? v->list_len : 0;
}

static const char *api_cfg_group_list_item(struct core_instance *ci, const char *key, size_t i,
                                           const char *sub, size_t j)
{
    const struct cfg_values *g = group_of(ci, key, i);
    const struct cfg_value *v = g ? cfgv_get(g, sub) : NULL;
    return v && j < v->list_len ? v->list[j] : NULL;
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

static const char *const role_names[] = {"none", "visitor", "participant", "moderator"};
static const char *const aff_names[] = {"none", "member", "admin", "owner", "outcast"};

static int api_presence(struct core_instance *ci, const struct tr_presence_out *p)
{
    struct instance *in = IN(ci);
    xmpp_ctx_t *ctx = xlink_ctx_xmpp(in->f->xc);
    char *esc = NULL;
    if (!p->user || (p->from_local && jid_escape_local(p->from_local, &esc) != 0))
        return FERRY_EINVAL;
    char *from = jid_join(esc, in->domain, p->from_resource);
    free(esc);
    xmpp_stanza_t *pr = xmpp_presence_new(ctx);
    if (!from || !pr) {
        free(from);
        xmpp_stanza_release(pr);
        return FERRY_ENOMEM;
    }
    stz_set_attr(pr, "from", from);
    stz_set_attr(pr, "to", p->user);
    free(from);
    if (p->error) {
        xmpp_stanza_t *x = stz_elem(ctx, "x", "http://jabber.org/protocol/muc");
        if (x) {
            xmpp_stanza_add_child(pr, x);
            xmpp_stanza_release(x);
        }
        xmpp_stanza_t *e = stz_error_reply(ctx, pr, p->err.cond, p->err.text);
        xmpp_stanza_release(pr);
        if (!e)
            return FERRY_ENOMEM;
        /* stz_error_reply swapped from/to: swap back. */
        const char *to = xmpp_stanza_get_from(e), *fr = xmpp_stanza_get_to(e);
        char *t = to ? strdup(to) : NULL, *f = fr ? strdup(fr) : NULL;
        stz_set_attr(e, "to", t);
        stz_set_attr(e, "from", f);
        free(t);
        free(f);
        router_reply(in, e);
        xmpp_stanza_release(e);
        return 0;
    }
    if (!p->available)
        xmpp_stanza_set_type(pr, "unavailable");
    if (p->status)
        stz_add_text_child(ctx, pr, "status", p->status, (size_t)-1);
    if (p->muc) {
        xmpp_stanza_t *x = stz_elem(ctx, "x", "http://jabber.org/protocol/muc#user");
        xmpp_stanza_t *item = stz_elem(ctx, "item", NULL);
        if (!x || !item) {
            xmpp_stanza_release(x);
            xmpp_stanza_release(item);
            xmpp_stanza_release(pr);
            return FERRY_ENOMEM;
        }
        xmpp_stanza_set_attribute(
            item, "affiliation",
            aff_names[(unsigned)p->affiliation <= TR_AFF_OUTCAST ? p->affiliation : 0]);
        xmpp_stanza_set_attribute(item, "role",
                                  role_names[(unsigned)p->role <= TR_ROLE_MODERATOR ? p->role : 0]);
        if (p->new_nick)
            stz_set_attr(item, "nick", p->new_nick);
        if (p->real_jid) {
            stz_set_attr(item, "jid", p->real_jid);
        } else if (p->real_local) {
            char *e = NULL, *jid = NULL;
            if (jid_escape_local(p->real_local, &e) == 0 && (jid = jid_join(e, in->domain, NULL)))
                stz_set_attr(item, "jid", jid);
            free(e);
            free(jid);
        }
        xmpp_stanza_add_child(x, item);
        xmpp_stanza_release(item);
        for (size_t i = 0; i < p->n_codes && i < 6; i++) {
            xmpp_stanza_t *st = stz_elem(ctx, "status", NULL);
            if (!st)
                break;
            char code[16];
            snprintf(code, sizeof(code), "%d", p->codes[i]);
            xmpp_stanza_set_attribute(st, "code", code);
            xmpp_stanza_add_child(x, st);
            xmpp_stanza_release(st);
        }
        xmpp_stanza_add_child(pr, x);
        xmpp_stanza_release(x);
    }
    router_reply(in, pr);
    xmpp_stanza_release(pr);
    return 0;
}

static struct evdns_base *api_dns(struct core_instance *ci)
{
    return xlink_ctx_dns(IN(ci)->f->xc);
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

static int api_settings_get(struct core_instance *ci, const char *user, const char *to_local,
                            char **fields)
{
    return adhoc_settings_get(IN(ci), user, to_local, fields);
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
    .cfg_groups = api_cfg_groups,
    .cfg_group_str = api_cfg_group_str,
    .cfg_group_int = api_cfg_group_int,
    .cfg_group_list_len = api_cfg_group_list_len,
    .cfg_group_list_item = api_cfg_group_list_item,
    .deliver = api_deliver,
    .bounce = api_bounce,
    .receipt = api_receipt,
    .http_request = api_http_request,
    .store = api_store,
    .presence = api_presence,
    .dns = api_dns,
    .disco_reply = disco_reply,
    .reg_get = api_reg_get,
    .settings_get = api_settings_get,
    .set_state = api_set_state,
    .log = api_log,
};
