#include "stanza.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

xmpp_stanza_t *stz_elem(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *e = xmpp_stanza_new(ctx);
    if (!e)
        return NULL;
    xmpp_stanza_set_name(e, name);
    if (ns)
        xmpp_stanza_set_ns(e, ns);
    return e;
}

xmpp_stanza_t *stz_add_text_child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                                  const char *text, size_t len)
{
    if (len == (size_t)-1)
        len = strlen(text);
    size_t clean_len;
    char *clean = text_sanitize(text, len, &clean_len);
    xmpp_stanza_t *child = stz_elem(ctx, name, NULL);
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);
    if (!clean || !child || !t) {
        free(clean);
        xmpp_stanza_release(child);
        xmpp_stanza_release(t);
        return NULL;
    }
    xmpp_stanza_set_text_with_size(t, clean, clean_len);
    free(clean);
    xmpp_stanza_add_child(child, t);
    xmpp_stanza_release(t);
    xmpp_stanza_add_child(parent, child);
    xmpp_stanza_release(child);
    return child;
}

int stz_set_attr(xmpp_stanza_t *st, const char *name, const char *value)
{
    if (!value)
        return xmpp_stanza_del_attribute(st, name);
    size_t len = strlen(value);
    if (text_is_clean(value, len))
        return xmpp_stanza_set_attribute(st, name, value);
    char *clean = text_sanitize(value, len, NULL);
    if (!clean)
        return XMPP_EMEM;
    int rc = xmpp_stanza_set_attribute(st, name, clean);
    free(clean);
    return rc;
}

static const struct {
    const char *name, *type;
} conds[] = {
    [TR_COND_BAD_REQUEST] = {"bad-request", "modify"},
    [TR_COND_NOT_ACCEPTABLE] = {"not-acceptable", "modify"},
    [TR_COND_POLICY_VIOLATION] = {"policy-violation", "wait"},
    [TR_COND_REGISTRATION_REQUIRED] = {"registration-required", "auth"},
    [TR_COND_FORBIDDEN] = {"forbidden", "auth"},
    [TR_COND_NOT_AUTHORIZED] = {"not-authorized", "auth"},
    [TR_COND_ITEM_NOT_FOUND] = {"item-not-found", "cancel"},
    [TR_COND_JID_MALFORMED] = {"jid-malformed", "modify"},
    [TR_COND_CONFLICT] = {"conflict", "cancel"},
    [TR_COND_NOT_ALLOWED] = {"not-allowed", "cancel"},
    [TR_COND_SERVICE_UNAVAILABLE] = {"service-unavailable", "cancel"},
    [TR_COND_RECIPIENT_UNAVAILABLE] = {"recipient-unavailable", "wait"},
    [TR_COND_RESOURCE_CONSTRAINT] = {"resource-constraint", "wait"},
    [TR_COND_REMOTE_SERVER_TIMEOUT] = {"remote-server-timeout", "wait"},
    [TR_COND_INTERNAL_SERVER_ERROR] = {"internal-server-error", "cancel"},
    [TR_COND_UNDEFINED] = {"undefined-condition", "cancel"},
};

const char *stz_cond_name(enum tr_cond cond)
{
    return (unsigned)cond <= TR_COND_UNDEFINED ? conds[cond].name : "undefined-condition";
}

const char *stz_cond_type(enum tr_cond cond)
{
    return (unsigned)cond <= TR_COND_UNDEFINED ? conds[cond].type : "cancel";
}

static xmpp_stanza_t *error_elem(xmpp_ctx_t *ctx, enum tr_cond cond, const char *text)
{
    xmpp_stanza_t *err = stz_elem(ctx, "error", NULL);
    xmpp_stanza_t *c = stz_elem(ctx, stz_cond_name(cond), "urn:ietf:params:xml:ns:xmpp-stanzas");
    if (!err || !c) {
        xmpp_stanza_release(err);
        xmpp_stanza_release(c);
        return NULL;
    }
    xmpp_stanza_set_type(err, stz_cond_type(cond));
    xmpp_stanza_add_child(err, c);
    xmpp_stanza_release(c);
    if (text && *text) {
        xmpp_stanza_t *t = stz_add_text_child(ctx, err, "text", text, (size_t)-1);
        if (t) {
            xmpp_stanza_set_ns(t, "urn:ietf:params:xml:ns:xmpp-stanzas");
            xmpp_stanza_set_attribute(t, "xml:lang", "en");
        }
    }
    return err;
}

xmpp_stanza_t *stz_error_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *st, enum tr_cond cond,
                               const char *text)
{
    xmpp_stanza_t *r = stz_elem(ctx, xmpp_stanza_get_name(st), NULL);
    if (!r)
        return NULL;
    xmpp_stanza_set_type(r, "error");
    if (xmpp_stanza_get_id(st))
        xmpp_stanza_set_id(r, xmpp_stanza_get_id(st));
    if (xmpp_stanza_get_from(st))
        xmpp_stanza_set_to(r, xmpp_stanza_get_from(st));
    if (xmpp_stanza_get_to(st))
        xmpp_stanza_set_from(r, xmpp_stanza_get_to(st));
    /* Echo the request's payload for iqs (the first child) and message
     * bodies so the user's client can show what failed. */
    const char *name = xmpp_stanza_get_name(st);
    if (name && strcmp(name, "message") == 0) {
        xmpp_stanza_t *body = xmpp_stanza_get_child_by_name(st, "body");
        if (body) {
            xmpp_stanza_t *copy = xmpp_stanza_copy(body);
            if (copy) {
                xmpp_stanza_add_child(r, copy);
                xmpp_stanza_release(copy);
            }
        }
    } else if (name && strcmp(name, "iq") == 0) {
        xmpp_stanza_t *payload = xmpp_stanza_get_children(st);
        while (payload && !xmpp_stanza_is_tag(payload))
            payload = xmpp_stanza_get_next(payload);
        if (payload) {
            xmpp_stanza_t *copy = xmpp_stanza_copy(payload);
            if (copy) {
                xmpp_stanza_add_child(r, copy);
                xmpp_stanza_release(copy);
            }
        }
    }
    xmpp_stanza_t *err = error_elem(ctx, cond, text);
    if (err) {
        xmpp_stanza_add_child(r, err);
        xmpp_stanza_release(err);
    }
    return r;
}

xmpp_stanza_t *stz_message(xmpp_ctx_t *ctx, const char *type, const char *from, const char *to,
                           const char *id, const char *body, size_t body_len)
{
    xmpp_stanza_t *m = stz_elem(ctx, "message", NULL);
    if (!m)
        return NULL;
    if (type)
        xmpp_stanza_set_type(m, type);
    if (from)
        stz_set_attr(m, "from", from);
    if (to)
        stz_set_attr(m, "to", to);
    if (id)
        stz_set_attr(m, "id", id);
    if (body && !stz_add_text_child(ctx, m, "body", body, body_len)) {
        xmpp_stanza_release(m);
        return NULL;
    }
    return m;
}

xmpp_stanza_t *stz_reply(xmpp_stanza_t *st)
{
    xmpp_stanza_t *r = xmpp_stanza_reply(st);
    const char *to = xmpp_stanza_get_to(st);
    /* libstrophe's reply has no from: without one the link would send it
     * from the component's domain, not from the contact or room asked. */
    if (r && to)
        stz_set_attr(r, "from", to);
    return r;
}

char *stz_child_text(xmpp_stanza_t *st, const char *name)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(st, name);
    return c ? xmpp_stanza_get_text(c) : NULL;
}

char *stz_to_string(xmpp_ctx_t *ctx, xmpp_stanza_t *st)
{
    char *buf = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(st, &buf, &len) != 0)
        return NULL;
    /* libstrophe's buffer belongs to its allocator (malloc by default);
     * copy to keep ownership rules simple. */
    char *out = malloc(len + 1);
    if (out) {
        memcpy(out, buf, len);
        out[len] = 0;
    }
    xmpp_free(ctx, buf);
    return out;
}
