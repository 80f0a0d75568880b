#include "register.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jid.h"
#include "log.h"
#include "router.h"
#include "services.h"
#include "stanza.h"
#include "store.h"
#include "transport_reg.h"
#include "utf8.h"
#include "xlink.h"

#define NS_REGISTER "jabber:iq:register"
#define NS_XDATA "jabber:x:data"
#define MAX_FIELDS 32

/* Field names XEP-0077 defines as plain child elements. */
static const char *const legacy_names[] = {
    "username", "nick", "password", "name", "first", "last", "email", "address", "city",
    "state",    "zip",  "phone",    "url",  "date",  "misc", "text",  "key",     NULL};

static int is_legacy(const char *var)
{
    for (int i = 0; legacy_names[i]; i++)
        if (strcmp(legacy_names[i], var) == 0)
            return 1;
    return 0;
}

static void add_field(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const struct tr_reg_field *f,
                      const char *value, char **opts, size_t n_opts)
{
    xmpp_stanza_t *fe = stz_elem(ctx, "field", NULL);
    if (!fe)
        return;
    xmpp_stanza_set_attribute(fe, "var", f->var);
    xmpp_stanza_set_attribute(fe, "type",
                              n_opts      ? "list-single"
                              : f->secret ? "text-private"
                                          : "text-single");
    for (size_t i = 0; i < n_opts; i++) {
        xmpp_stanza_t *o = stz_elem(ctx, "option", NULL);
        if (!o)
            break;
        stz_set_attr(o, "label", opts[i]);
        stz_add_text_child(ctx, o, "value", opts[i], (size_t)-1);
        xmpp_stanza_add_child(fe, o);
        xmpp_stanza_release(o);
    }
    stz_set_attr(fe, "label", f->label);
    if (f->required) {
        xmpp_stanza_t *req = stz_elem(ctx, "required", NULL);
        if (req) {
            xmpp_stanza_add_child(fe, req);
            xmpp_stanza_release(req);
        }
    }
    if (value)
        stz_add_text_child(ctx, fe, "value", value, (size_t)-1);
    xmpp_stanza_add_child(x, fe);
    xmpp_stanza_release(fe);
}

/* The options a transport offers per field (freed by options_free). */
struct field_options {
    char **opts[MAX_FIELDS];
    size_t n[MAX_FIELDS];
};

static void options_free(struct field_options *fo)
{
    for (size_t i = 0; i < MAX_FIELDS; i++) {
        for (size_t j = 0; j < fo->n[i]; j++)
            free(fo->opts[i][j]);
        free(fo->opts[i]);
    }
}

static void register_get(struct instance *in, xmpp_stanza_t *st, const char *user)
{
    xmpp_ctx_t *ctx = router_xctx(in);
    char *fields = NULL;
    int rc = store_reg_get(in->f->store, in->name, user, &fields);
    if (rc != 0 && rc != FERRY_ENOTFOUND) {
        router_reply_error(in, st, TR_COND_INTERNAL_SERVER_ERROR, "The gateway's store failed.");
        return;
    }
    cJSON *cur = fields ? cJSON_Parse(fields) : NULL;
    free(fields);
    /* Choices (e.g. free numbers) also go into the instructions, for
     * clients that show only the legacy fields. */
    struct field_options fo = {0};
    char instr[2048];
    size_t off = (size_t)snprintf(instr, sizeof(instr), "%s",
                                  in->ops->reg_instructions ? in->ops->reg_instructions
                                                            : "Fill in the form to register.");
    size_t nf = 0;
    for (const struct tr_reg_field *f = in->ops->reg_fields; f && f->var && nf < MAX_FIELDS;
         f++, nf++) {
        transport_reg_options(in, user, f->var, &fo.opts[nf], &fo.n[nf]);
        for (size_t i = 0; i < fo.n[nf] && off < sizeof(instr) - 1; i++)
            off += (size_t)snprintf(instr + off, sizeof(instr) - off, "%s%s",
                                    i ? ", " : "\nChoices: ", fo.opts[nf][i]);
    }
    xmpp_stanza_t *r = stz_reply(st);
    xmpp_stanza_t *q = stz_elem(ctx, "query", NS_REGISTER);
    xmpp_stanza_t *x = stz_elem(ctx, "x", NS_XDATA);
    if (!r || !q || !x)
        goto out;
    xmpp_stanza_set_type(r, "result");
    xmpp_stanza_add_child(r, q);
    stz_add_text_child(ctx, q, "instructions", instr, (size_t)-1);
    if (cur) {
        xmpp_stanza_t *reg = stz_elem(ctx, "registered", NULL);
        if (reg) {
            xmpp_stanza_add_child(q, reg);
            xmpp_stanza_release(reg);
        }
    }
    xmpp_stanza_set_type(x, "form");
    stz_add_text_child(ctx, x, "title", in->description ? in->description : in->domain, (size_t)-1);
    stz_add_text_child(ctx, x, "instructions", instr, (size_t)-1);
    xmpp_stanza_t *ft = stz_elem(ctx, "field", NULL);
    if (ft) {
        xmpp_stanza_set_attribute(ft, "var", "FORM_TYPE");
        xmpp_stanza_set_attribute(ft, "type", "hidden");
        stz_add_text_child(ctx, ft, "value", NS_REGISTER, (size_t)-1);
        xmpp_stanza_add_child(x, ft);
        xmpp_stanza_release(ft);
    }
    nf = 0;
    for (const struct tr_reg_field *f = in->ops->reg_fields; f && f->var && nf < MAX_FIELDS;
         f++, nf++) {
        const cJSON *v = cur ? cJSON_GetObjectItemCaseSensitive(cur, f->var) : NULL;
        const char *value = (!f->secret && cJSON_IsString(v)) ? v->valuestring : NULL;
        if (is_legacy(f->var))
            stz_add_text_child(ctx, q, f->var, value ? value : "", (size_t)-1);
        add_field(ctx, x, f, value, fo.opts[nf], fo.n[nf]);
    }
    xmpp_stanza_add_child(q, x);
    router_reply(in, r);
out:
    options_free(&fo);
    cJSON_Delete(cur);
    xmpp_stanza_release(x);
    xmpp_stanza_release(q);
    xmpp_stanza_release(r);
}

/* Value of var from a submitted data form or a legacy child element; a
 * malloc'd string (libstrophe allocator) or NULL. */
static char *submitted(xmpp_stanza_t *q, const char *var)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_ns(q, NS_XDATA);
    if (x) {
        for (xmpp_stanza_t *f = xmpp_stanza_get_children(x); f; f = xmpp_stanza_get_next(f)) {
            const char *n = xmpp_stanza_get_name(f);
            const char *v = xmpp_stanza_get_attribute(f, "var");
            if (n && v && strcmp(n, "field") == 0 && strcmp(v, var) == 0)
                return stz_child_text(f, "value");
        }
        return NULL;
    }
    return stz_child_text(q, var);
}

static void register_set(struct instance *in, xmpp_stanza_t *st, xmpp_stanza_t *q, const char *user,
                         const char *full)
{
    xmpp_ctx_t *ctx = router_xctx(in);
    if (xmpp_stanza_get_child_by_name(q, "remove")) {
        int rc = store_reg_del(in->f->store, in->name, user);
        if (rc == FERRY_ENOTFOUND) {
            router_reply_error(in, st, TR_COND_REGISTRATION_REQUIRED, "You are not registered.");
            return;
        }
        if (rc != 0) {
            router_reply_error(in, st, TR_COND_INTERNAL_SERVER_ERROR,
                               "The gateway's store failed.");
            return;
        }
        log_info(in->name, "registration removed");
        transport_reg_changed(in, user, 1);
        xmpp_stanza_t *r = stz_reply(st);
        if (r) {
            xmpp_stanza_set_type(r, "result");
            router_reply(in, r);
            xmpp_stanza_release(r);
        }
        services_presence_simple_to(in, user, "unsubscribed");
        return;
    }
    const char *vars[MAX_FIELDS];
    char *vals[MAX_FIELDS];
    size_t n = 0;
    char missing[200] = "";
    for (const struct tr_reg_field *f = in->ops->reg_fields; f && f->var && n < MAX_FIELDS; f++) {
        /* Own copies (plain malloc): the transport may replace them. */
        char *sv = submitted(q, f->var);
        char *v = sv && text_is_clean(sv, strlen(sv)) ? strdup(sv) : NULL;
        if (sv)
            xmpp_free(ctx, sv);
        if ((!v || !*v) && f->required && !*missing)
            snprintf(missing, sizeof(missing), "The field \"%s\" is required.", f->label);
        vars[n] = f->var;
        vals[n++] = v;
    }
    struct tr_error err = {TR_COND_NOT_ACCEPTABLE, ""};
    int ok = !*missing;
    if (!ok)
        router_reply_error(in, st, TR_COND_NOT_ACCEPTABLE, missing);
    else if (transport_reg_check(in, user, vars, vals, n, &err) != 0) {
        ok = 0;
        router_reply_error(in, st, err.cond, err.text[0] ? err.text : NULL);
    }
    if (ok) {
        cJSON *obj = cJSON_CreateObject();
        for (size_t i = 0; obj && i < n; i++)
            if (vals[i])
                cJSON_AddStringToObject(obj, vars[i], vals[i]);
        char *json = obj ? cJSON_PrintUnformatted(obj) : NULL;
        cJSON_Delete(obj);
        int rc = json ? store_reg_put(in->f->store, in->name, user, json) : FERRY_ENOMEM;
        free(json);
        if (rc != 0) {
            router_reply_error(in, st, TR_COND_INTERNAL_SERVER_ERROR,
                               "The gateway's store failed.");
        } else {
            log_info(in->name, "registration stored");
            xmpp_stanza_t *r = stz_reply(st);
            if (r) {
                xmpp_stanza_set_type(r, "result");
                router_reply(in, r);
                xmpp_stanza_release(r);
            }
            transport_reg_changed(in, user, 0);
            /* XEP-0100 §4.1.1: the gateway asks to see the user's presence. */
            services_presence_simple_to(in, user, "subscribe");
        }
    }
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    (void)full;
}

void register_handle_iq(struct instance *in, xmpp_stanza_t *st, int set)
{
    const char *from = xmpp_stanza_get_from(st);
    char *user = jid_bare(from);
    if (!user) {
        router_reply_error(in, st, TR_COND_JID_MALFORMED, "Malformed sender address.");
        return;
    }
    if (set)
        register_set(in, st, xmpp_stanza_get_child_by_ns(st, NS_REGISTER), user, from);
    else
        register_get(in, st, user);
    free(user);
}

void gateway_handle_iq(struct instance *in, xmpp_stanza_t *st, int set)
{
    xmpp_ctx_t *ctx = router_xctx(in);
    xmpp_stanza_t *r = stz_reply(st);
    xmpp_stanza_t *q = stz_elem(ctx, "query", "jabber:iq:gateway");
    char *prompt = NULL, *local = NULL, *esc = NULL, *jid = NULL, *user = NULL;
    if (!r || !q)
        goto out;
    xmpp_stanza_set_type(r, "result");
    xmpp_stanza_add_child(r, q);
    if (!set) {
        stz_add_text_child(ctx, q, "desc",
                           in->ops->gateway_desc ? in->ops->gateway_desc
                                                 : "Enter the address of the contact.",
                           (size_t)-1);
        stz_add_text_child(ctx, q, "prompt",
                           in->ops->gateway_prompt ? in->ops->gateway_prompt : "Address",
                           (size_t)-1);
        router_reply(in, r);
        goto out;
    }
    prompt = stz_child_text(xmpp_stanza_get_child_by_ns(st, "jabber:iq:gateway"), "prompt");
    if (!prompt || !*prompt) {
        router_reply_error(in, st, TR_COND_BAD_REQUEST, "Send the address in a <prompt/> element.");
        goto out;
    }
    struct tr_error err = {TR_COND_NOT_ACCEPTABLE, ""};
    user = jid_bare(xmpp_stanza_get_from(st));
    if (transport_gateway_translate(in, user, prompt, &local, &err) != 0) {
        router_reply_error(in, st, err.cond,
                           err.text[0] ? err.text : "That address is not valid here.");
        goto out;
    }
    if (jid_escape_local(local, &esc) != 0 || !(jid = jid_join(esc, in->domain, NULL))) {
        router_reply_error(in, st, TR_COND_NOT_ACCEPTABLE,
                           "That address cannot be written as a JID.");
        goto out;
    }
    stz_add_text_child(ctx, q, "jid", jid, (size_t)-1);
    stz_add_text_child(ctx, q, "prompt", jid, (size_t)-1); /* pre-XEP-0100-1.0 clients */
    router_reply(in, r);
out:
    if (prompt)
        xmpp_free(ctx, prompt);
    free(local);
    free(esc);
    free(jid);
    free(user);
    xmpp_stanza_release(q);
    xmpp_stanza_release(r);
}
