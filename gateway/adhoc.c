#include "adhoc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "router.h"
#include "stanza.h"
#include "store.h"
#include "transport_reg.h"

#define NS_XDATA "jabber:x:data"
#define NODE "configure"

/* Settings live beside registrations, under "<instance>:settings" and the
 * key "<user bare JID> <contact local part>" (a space is in neither). */
static int settings_key(struct instance *in, const char *user, const char *local, char *inst,
                        size_t ilen, char *key, size_t klen)
{
    char *bare = jid_bare(user);
    if (!bare)
        return FERRY_EINVAL;
    int a = snprintf(inst, ilen, "%s:settings", in->name);
    int b = snprintf(key, klen, "%s %s", bare, local);
    free(bare);
    return a > 0 && (size_t)a < ilen && b > 0 && (size_t)b < klen ? 0 : FERRY_ERANGE;
}

int adhoc_settings_get(struct instance *in, const char *user, const char *local, char **fields)
{
    char inst[300], key[2400];
    int rc = settings_key(in, user, local, inst, sizeof(inst), key, sizeof(key));
    return rc ? rc : store_reg_get(in->f->store, inst, key, fields);
}

static const struct tr_reg_field *fields_of(struct instance *in, const char *local)
{
    return in->ops->contact_settings && in->state ? in->ops->contact_settings(in->state, local)
                                                  : NULL;
}

int adhoc_has(struct instance *in, const char *local)
{
    return fields_of(in, local) != NULL;
}

static char *local_of(const struct jid *to)
{
    char *local = NULL;
    return to->local && jid_unescape_local(to->local, &local) == 0 ? local : NULL;
}

void adhoc_items(struct instance *in, xmpp_stanza_t *st, const struct jid *to)
{
    char *local = local_of(to);
    xmpp_stanza_t *r = stz_reply(st);
    xmpp_stanza_t *q = stz_elem(router_xctx(in), "query", "http://jabber.org/protocol/disco#items");
    if (r && q) {
        xmpp_stanza_set_type(r, "result");
        xmpp_stanza_set_attribute(q, "node", NS_COMMANDS);
        if (local && fields_of(in, local)) {
            xmpp_stanza_t *it = stz_elem(router_xctx(in), "item", NULL);
            if (it) {
                stz_set_attr(it, "jid", xmpp_stanza_get_to(st));
                xmpp_stanza_set_attribute(it, "node", NODE);
                xmpp_stanza_set_attribute(it, "name", "Configure (your settings for this)");
                xmpp_stanza_add_child(q, it);
                xmpp_stanza_release(it);
            }
        }
        xmpp_stanza_add_child(r, q);
        router_reply(in, r);
    }
    xmpp_stanza_release(q);
    xmpp_stanza_release(r);
    free(local);
}

/* <command node status sessionid> answer; the caller adds children. */
static xmpp_stanza_t *answer(struct instance *in, xmpp_stanza_t *st, const char *status,
                             xmpp_stanza_t **cmd)
{
    xmpp_stanza_t *r = stz_reply(st);
    xmpp_stanza_t *c = stz_elem(router_xctx(in), "command", NS_COMMANDS);
    if (!r || !c) {
        xmpp_stanza_release(r);
        xmpp_stanza_release(c);
        return NULL;
    }
    xmpp_stanza_set_type(r, "result");
    xmpp_stanza_set_attribute(c, "node", NODE);
    xmpp_stanza_set_attribute(c, "status", status);
    const char *sid = xmpp_stanza_get_attribute(
        xmpp_stanza_get_child_by_name_and_ns(st, "command", NS_COMMANDS), "sessionid");
    char buf[40];
    if (!sid) {
        snprintf(buf, sizeof(buf), "cfg-%08lx", (unsigned long)random());
        sid = buf;
    }
    stz_set_attr(c, "sessionid", sid);
    xmpp_stanza_add_child(r, c);
    xmpp_stanza_release(c);
    *cmd = c;
    return r;
}

static void add_note(struct instance *in, xmpp_stanza_t *cmd, const char *text)
{
    xmpp_stanza_t *n = stz_add_text_child(router_xctx(in), cmd, "note", text, (size_t)-1);
    if (n)
        xmpp_stanza_set_attribute(n, "type", "info");
}

static void send_form(struct instance *in, xmpp_stanza_t *st, const struct tr_reg_field *f,
                      const char *local, const char *user)
{
    xmpp_ctx_t *ctx = router_xctx(in);
    xmpp_stanza_t *cmd = NULL, *r = answer(in, st, "executing", &cmd);
    if (!r)
        return;
    char *stored = NULL;
    cJSON *cur = adhoc_settings_get(in, user, local, &stored) == 0 ? cJSON_Parse(stored) : NULL;
    free(stored);
    xmpp_stanza_t *acts = stz_elem(ctx, "actions", NULL), *done = stz_elem(ctx, "complete", NULL);
    xmpp_stanza_t *x = stz_elem(ctx, "x", NS_XDATA);
    if (acts && done && x) {
        xmpp_stanza_set_attribute(acts, "execute", "complete");
        xmpp_stanza_add_child(acts, done);
        xmpp_stanza_add_child(cmd, acts);
        xmpp_stanza_set_type(x, "form");
        stz_add_text_child(ctx, x, "title", "Your settings", (size_t)-1);
        stz_add_text_child(ctx, x, "instructions",
                           "Empty fields use the gateway's defaults. A password left empty "
                           "keeps the one stored; write a single - to remove it.",
                           (size_t)-1);
        for (; f->var; f++) {
            xmpp_stanza_t *fe = stz_elem(ctx, "field", NULL);
            if (!fe)
                break;
            xmpp_stanza_set_attribute(fe, "var", f->var);
            xmpp_stanza_set_attribute(fe, "type", f->secret ? "text-private" : "text-single");
            stz_set_attr(fe, "label", f->label);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(cur, f->var);
            if (!f->secret && cJSON_IsString(v))
                stz_add_text_child(ctx, fe, "value", v->valuestring, (size_t)-1);
            xmpp_stanza_add_child(x, fe);
            xmpp_stanza_release(fe);
        }
        xmpp_stanza_add_child(cmd, x);
    }
    cJSON_Delete(cur);
    xmpp_stanza_release(x);
    xmpp_stanza_release(done);
    xmpp_stanza_release(acts);
    router_reply(in, r);
    xmpp_stanza_release(r);
}

/* The submitted value of var in form x, or NULL (free with xmpp_free). */
static char *submitted(xmpp_stanza_t *x, const char *var)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c; c = xmpp_stanza_get_next(c)) {
        const char *n = xmpp_stanza_get_name(c), *v = xmpp_stanza_get_attribute(c, "var");
        if (n && v && strcmp(n, "field") == 0 && strcmp(v, var) == 0) {
            xmpp_stanza_t *val = xmpp_stanza_get_child_by_name(c, "value");
            return val ? xmpp_stanza_get_text(val) : NULL;
        }
    }
    return NULL;
}

static void save(struct instance *in, xmpp_stanza_t *st, xmpp_stanza_t *x,
                 const struct tr_reg_field *f, const char *local, const char *user)
{
    char *stored = NULL, inst[300], key[2400];
    cJSON *cur = adhoc_settings_get(in, user, local, &stored) == 0 ? cJSON_Parse(stored) : NULL;
    free(stored);
    cJSON *out = cJSON_CreateObject();
    for (; out && f->var; f++) {
        char *v = submitted(x, f->var);
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(cur, f->var);
        if (v && *v && !(f->secret && strcmp(v, "-") == 0))
            cJSON_AddStringToObject(out, f->var, v);
        else if (f->secret && (!v || !*v) && cJSON_IsString(old))
            cJSON_AddStringToObject(out, f->var, old->valuestring); /* kept */
        if (v)
            xmpp_free(router_xctx(in), v);
    }
    cJSON_Delete(cur);
    char *json = out ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    int rc =
        json ? settings_key(in, user, local, inst, sizeof(inst), key, sizeof(key)) : FERRY_ENOMEM;
    if (rc == 0)
        rc = store_reg_put(in->f->store, inst, key, json);
    free(json);
    if (rc != 0) {
        log_error(in->name, "ad-hoc: could not store settings: %s", ferry_strerror(rc));
        router_reply_error(in, st, TR_COND_INTERNAL_SERVER_ERROR,
                           "The settings could not be stored; try again later.");
        return;
    }
    log_info(in->name, "ad-hoc: settings stored for a user");
    xmpp_stanza_t *cmd = NULL, *r = answer(in, st, "completed", &cmd);
    if (r) {
        add_note(in, cmd,
                 "Saved. They apply to your next connection (leave every room there, "
                 "or wait for a reconnect).");
        router_reply(in, r);
        xmpp_stanza_release(r);
    }
}

void adhoc_execute(struct instance *in, xmpp_stanza_t *st, const struct jid *to)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name_and_ns(st, "command", NS_COMMANDS);
    const char *node = xmpp_stanza_get_attribute(c, "node");
    const char *action = xmpp_stanza_get_attribute(c, "action");
    const char *user = xmpp_stanza_get_from(st);
    char *local = local_of(to);
    const struct tr_reg_field *f = local ? fields_of(in, local) : NULL;
    if (!f || !node || strcmp(node, NODE) != 0) {
        router_reply_error(in, st, TR_COND_ITEM_NOT_FOUND, "No such command here.");
    } else if (action && strcmp(action, "cancel") == 0) {
        xmpp_stanza_t *cmd = NULL, *r = answer(in, st, "canceled", &cmd);
        if (r) {
            router_reply(in, r);
            xmpp_stanza_release(r);
        }
    } else {
        xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(c, "x", NS_XDATA);
        const char *xt = x ? xmpp_stanza_get_type(x) : NULL;
        if (x && xt && strcmp(xt, "submit") == 0)
            save(in, st, x, f, local, user);
        else if (action && strcmp(action, "complete") == 0 && !x)
            router_reply_error(in, st, TR_COND_BAD_REQUEST, "Submit the form to complete.");
        else
            send_form(in, st, f, local, user);
    }
    free(local);
}
