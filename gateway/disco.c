#include "disco.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "stanza.h"
#include "transport_reg.h"

#define NS_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_RSM "http://jabber.org/protocol/rsm"
#define PAGE_DEFAULT 100
#define PAGE_MAX 500

struct tr_disco {
    struct instance *in;
    xmpp_stanza_t *req; /* a copy of the request */
};

static void answer_empty(struct instance *in, xmpp_stanza_t *st)
{
    xmpp_stanza_t *r = stz_reply(st);
    xmpp_stanza_t *q = stz_elem(router_xctx(in), "query", NS_ITEMS);
    if (r && q) {
        xmpp_stanza_set_type(r, "result");
        xmpp_stanza_add_child(r, q);
        router_reply(in, r);
    }
    xmpp_stanza_release(q);
    xmpp_stanza_release(r);
}

void disco_items_contact(struct instance *in, xmpp_stanza_t *st, const struct jid *to)
{
    char *local = NULL;
    struct tr_disco *d = calloc(1, sizeof(*d));
    if (!d || jid_unescape_local(to->local, &local) != 0 || !(d->req = xmpp_stanza_copy(st))) {
        free(d);
        free(local);
        answer_empty(in, st);
        return;
    }
    d->in = in;
    if (transport_disco_items(in, d, xmpp_stanza_get_from(st), local) != 0) {
        xmpp_stanza_release(d->req);
        free(d);
        answer_empty(in, st);
    }
    free(local);
}

static long rsm_int(xmpp_stanza_t *set, const char *name, long def)
{
    char *t = set ? stz_child_text(set, name) : NULL;
    long v = t ? strtol(t, NULL, 10) : def;
    if (t)
        xmpp_free(xmpp_stanza_get_context(set), t);
    return v;
}

void disco_reply(struct core_instance *ci, struct tr_disco *d, const struct tr_disco_item *items,
                 size_t n, const struct tr_error *err)
{
    (void)ci;
    struct instance *in = d->in;
    xmpp_ctx_t *ctx = router_xctx(in);
    if (err) {
        router_reply_error(in, d->req, err->cond, err->text[0] ? err->text : NULL);
        goto out;
    }
    xmpp_stanza_t *q = xmpp_stanza_get_child_by_ns(d->req, NS_ITEMS);
    xmpp_stanza_t *set = q ? xmpp_stanza_get_child_by_ns(q, NS_RSM) : NULL;
    long max = rsm_int(set, "max", PAGE_DEFAULT);
    if (max < 0 || max > PAGE_MAX)
        max = PAGE_MAX;
    size_t start = 0;
    char *after = set ? stz_child_text(set, "after") : NULL;
    if (after) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(items[i].local, after) == 0)
                start = i + 1;
        xmpp_free(ctx, after);
    }
    size_t end = start + (size_t)max < n ? start + (size_t)max : n;
    xmpp_stanza_t *r = stz_reply(d->req);
    xmpp_stanza_t *rq = stz_elem(ctx, "query", NS_ITEMS);
    if (!r || !rq) {
        xmpp_stanza_release(r);
        xmpp_stanza_release(rq);
        goto out;
    }
    xmpp_stanza_set_type(r, "result");
    xmpp_stanza_add_child(r, rq);
    for (size_t i = start; i < end; i++) {
        char *esc = NULL, *jid = NULL;
        xmpp_stanza_t *it = stz_elem(ctx, "item", NULL);
        if (it && jid_escape_local(items[i].local, &esc) == 0 &&
            (jid = jid_join(esc, in->domain, NULL))) {
            stz_set_attr(it, "jid", jid);
            if (items[i].name)
                stz_set_attr(it, "name", items[i].name);
            xmpp_stanza_add_child(rq, it);
        }
        free(esc);
        free(jid);
        xmpp_stanza_release(it);
    }
    /* The set element: always when paging could matter, so clients know
     * the count and can ask for the next page with <after/>. */
    if (set || n > (size_t)max) {
        xmpp_stanza_t *rs = stz_elem(ctx, "set", NS_RSM);
        if (rs) {
            if (end > start) {
                xmpp_stanza_t *first =
                    stz_add_text_child(ctx, rs, "first", items[start].local, (size_t)-1);
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", start);
                if (first)
                    xmpp_stanza_set_attribute(first, "index", idx);
                stz_add_text_child(ctx, rs, "last", items[end - 1].local, (size_t)-1);
            }
            char cnt[24];
            snprintf(cnt, sizeof(cnt), "%zu", n);
            stz_add_text_child(ctx, rs, "count", cnt, (size_t)-1);
            xmpp_stanza_add_child(rq, rs);
            xmpp_stanza_release(rs);
        }
    }
    router_reply(in, r);
    xmpp_stanza_release(rq);
    xmpp_stanza_release(r);
out:
    xmpp_stanza_release(d->req);
    free(d);
}
