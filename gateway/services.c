/* Disco, version, ping and presence for a transport domain (the
 * registration and gateway iqs are in register.c). */
#include "adhoc.h"
#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "disco.h"
#include "log.h"
#include "register.h"
#include "router.h"
#include "stanza.h"
#include "transport_reg.h"
#include "xlink.h"

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_VERSION "jabber:iq:version"
#define NS_PING "urn:xmpp:ping"
#define MAX_PRESENT 100000

/* An iq result with an optional <query xmlns=ns/> child returned (owned by
 * the result). */
static xmpp_stanza_t *result_with_query(struct instance *in, xmpp_stanza_t *st, const char *ns,
                                        xmpp_stanza_t **query)
{
    xmpp_stanza_t *r = stz_reply(st);
    if (!r)
        return NULL;
    xmpp_stanza_set_type(r, "result");
    if (ns) {
        xmpp_stanza_t *q = stz_elem(router_xctx(in), "query", ns);
        if (!q) {
            xmpp_stanza_release(r);
            return NULL;
        }
        xmpp_stanza_add_child(r, q);
        xmpp_stanza_release(q);
        *query = q;
    }
    return r;
}

static void add_feature(struct instance *in, xmpp_stanza_t *q, const char *var)
{
    xmpp_stanza_t *f = stz_elem(router_xctx(in), "feature", NULL);
    if (!f)
        return;
    xmpp_stanza_set_attribute(f, "var", var);
    xmpp_stanza_add_child(q, f);
    xmpp_stanza_release(f);
}

static void add_identity(struct instance *in, xmpp_stanza_t *q, const char *cat, const char *type,
                         const char *name)
{
    xmpp_stanza_t *id = stz_elem(router_xctx(in), "identity", NULL);
    if (!id)
        return;
    xmpp_stanza_set_attribute(id, "category", cat);
    xmpp_stanza_set_attribute(id, "type", type);
    if (name)
        stz_set_attr(id, "name", name);
    xmpp_stanza_add_child(q, id);
    xmpp_stanza_release(id);
}

static void disco_info(struct instance *in, xmpp_stanza_t *st, const struct jid *to)
{
    xmpp_stanza_t *q = xmpp_stanza_get_child_by_ns(st, NS_DISCO_INFO);
    if (xmpp_stanza_get_attribute(q, "node")) {
        router_reply_error(in, st, TR_COND_ITEM_NOT_FOUND, "No such node.");
        return;
    }
    xmpp_stanza_t *r = result_with_query(in, st, NS_DISCO_INFO, &q);
    if (!r)
        return;
    unsigned caps = transport_caps(in);
    if (!to->local) {
        add_identity(in, q, "gateway", in->ops->gateway_type, in->description);
        add_feature(in, q, NS_DISCO_INFO);
        add_feature(in, q, NS_DISCO_ITEMS);
        add_feature(in, q, NS_PING);
        add_feature(in, q, NS_VERSION);
        if (caps & TR_CAP_REGISTER)
            add_feature(in, q, "jabber:iq:register");
        if (caps & TR_CAP_GATEWAY)
            add_feature(in, q, "jabber:iq:gateway");
        if (caps & TR_CAP_MUC)
            add_feature(in, q, "http://jabber.org/protocol/muc");
    } else {
        char *local = NULL;
        int room = jid_unescape_local(to->local, &local) == 0 && transport_is_room(in, local);
        if (room) {
            /* A room on the foreign network (an IRC channel). */
            add_identity(in, q, "conference", "text", local);
            add_feature(in, q, NS_DISCO_INFO);
            add_feature(in, q, "http://jabber.org/protocol/muc");
            add_feature(in, q, "muc_nonanonymous");
            add_feature(in, q, "muc_open");
            add_feature(in, q, "muc_unsecured");
        } else {
            /* A contact on the foreign network. */
            add_identity(in, q, "client", in->ops->gateway_type, NULL);
            add_feature(in, q, NS_DISCO_INFO);
            add_feature(in, q, NS_PING);
            if (local && adhoc_has(in, local))
                add_feature(in, q, NS_COMMANDS);
        }
        free(local);
    }
    if (caps & TR_CAP_RECEIPTS)
        add_feature(in, q, "urn:xmpp:receipts");
    router_reply(in, r);
    xmpp_stanza_release(r);
}

static void disco_items(struct instance *in, xmpp_stanza_t *st)
{
    xmpp_stanza_t *q = NULL;
    xmpp_stanza_t *r = result_with_query(in, st, NS_DISCO_ITEMS, &q);
    if (r) {
        router_reply(in, r);
        xmpp_stanza_release(r);
    }
}

static void version(struct instance *in, xmpp_stanza_t *st)
{
    xmpp_stanza_t *q = NULL;
    xmpp_stanza_t *r = result_with_query(in, st, NS_VERSION, &q);
    if (!r)
        return;
    struct utsname u;
    stz_add_text_child(router_xctx(in), q, "name", "Ferry", (size_t)-1);
    stz_add_text_child(router_xctx(in), q, "version", FERRY_VERSION, (size_t)-1);
    stz_add_text_child(router_xctx(in), q, "os", uname(&u) == 0 ? u.sysname : "POSIX", (size_t)-1);
    router_reply(in, r);
    xmpp_stanza_release(r);
}

static void pong(struct instance *in, xmpp_stanza_t *st)
{
    xmpp_stanza_t *r = result_with_query(in, st, NULL, NULL);
    if (r) {
        router_reply(in, r);
        xmpp_stanza_release(r);
    }
}

static xmpp_stanza_t *payload(xmpp_stanza_t *st)
{
    xmpp_stanza_t *c = xmpp_stanza_get_children(st);
    while (c && !xmpp_stanza_is_tag(c))
        c = xmpp_stanza_get_next(c);
    return c;
}

void services_handle_iq(struct instance *in, xmpp_stanza_t *st, const struct jid *to)
{
    const char *type = xmpp_stanza_get_type(st);
    xmpp_stanza_t *p = payload(st);
    const char *ns = p ? xmpp_stanza_get_ns(p) : NULL;
    const char *name = p ? xmpp_stanza_get_name(p) : NULL;
    int get = type && strcmp(type, "get") == 0, set = type && strcmp(type, "set") == 0;
    if (!get && !set) {
        router_reply_error(in, st, TR_COND_BAD_REQUEST, "An iq must be of type get or set.");
        return;
    }
    if (!ns || !name) {
        router_reply_error(in, st, TR_COND_BAD_REQUEST, "The iq has no payload.");
        return;
    }
    if (get && strcmp(ns, NS_DISCO_INFO) == 0)
        disco_info(in, st, to);
    else if (get && strcmp(ns, NS_DISCO_ITEMS) == 0 && to->local &&
             xmpp_stanza_get_attribute(p, "node") &&
             strcmp(xmpp_stanza_get_attribute(p, "node"), NS_COMMANDS) == 0)
        adhoc_items(in, st, to);
    else if (get && strcmp(ns, NS_DISCO_ITEMS) == 0 && to->local)
        disco_items_contact(in, st, to);
    else if (set && strcmp(ns, NS_COMMANDS) == 0 && to->local)
        adhoc_execute(in, st, to);
    else if (get && strcmp(ns, NS_DISCO_ITEMS) == 0)
        disco_items(in, st);
    else if (get && strcmp(ns, NS_PING) == 0)
        pong(in, st);
    else if (get && strcmp(ns, NS_VERSION) == 0 && !to->local)
        version(in, st);
    else if (strcmp(ns, "jabber:iq:register") == 0 && !to->local &&
             (transport_caps(in) & TR_CAP_REGISTER))
        register_handle_iq(in, st, set);
    else if (strcmp(ns, "jabber:iq:gateway") == 0 && !to->local &&
             (transport_caps(in) & TR_CAP_GATEWAY))
        gateway_handle_iq(in, st, set);
    else
        router_reply_error(in, st, TR_COND_SERVICE_UNAVAILABLE, NULL);
}

/* ---- Presence ------------------------------------------------------------ */

void services_presence_simple(struct instance *in, const char *to, const char *from,
                              const char *type)
{
    xmpp_stanza_t *p = xmpp_presence_new(router_xctx(in));
    if (!p)
        return;
    if (type)
        xmpp_stanza_set_type(p, type);
    stz_set_attr(p, "to", to);
    stz_set_attr(p, "from", from);
    router_reply(in, p);
    xmpp_stanza_release(p);
}

void services_presence_simple_to(struct instance *in, const char *to, const char *type)
{
    services_presence_simple(in, to, in->domain, type);
}

/* The gateway contact's own presence: available while the transport is up. */
static void send_gateway_presence(struct instance *in, const char *to)
{
    xmpp_stanza_t *p = xmpp_presence_new(router_xctx(in));
    if (!p)
        return;
    stz_set_attr(p, "to", to);
    xmpp_stanza_set_from(p, in->domain);
    if (!in->transport_up)
        xmpp_stanza_set_type(p, "unavailable");
    if (in->status_text)
        stz_add_text_child(router_xctx(in), p, "status", in->status_text, (size_t)-1);
    router_reply(in, p);
    xmpp_stanza_release(p);
}

static void present_add(struct instance *in, const char *jid)
{
    for (size_t i = 0; i < in->n_present; i++)
        if (strcmp(in->present[i], jid) == 0)
            return;
    if (in->n_present >= MAX_PRESENT)
        return;
    if (in->n_present == in->cap_present) {
        size_t cap = in->cap_present ? in->cap_present * 2 : 16;
        char **n = realloc(in->present, cap * sizeof(*n));
        if (!n)
            return;
        in->present = n;
        in->cap_present = cap;
    }
    char *dup = strdup(jid);
    if (dup)
        in->present[in->n_present++] = dup;
}

static void present_del(struct instance *in, const char *jid)
{
    for (size_t i = 0; i < in->n_present; i++)
        if (strcmp(in->present[i], jid) == 0) {
            free(in->present[i]);
            in->present[i] = in->present[--in->n_present];
            return;
        }
}

/* Availability to a transport JID goes to the transport when it handles
 * presence (IRC rooms); returns 1 when it did. */
static int presence_to_transport(struct instance *in, xmpp_stanza_t *st, const struct jid *to,
                                 const char *type)
{
    if (!to->local || !in->ops->presence || (type && strcmp(type, "unavailable") != 0))
        return 0;
    char *local = NULL;
    if (jid_unescape_local(to->local, &local) != 0)
        return 0;
    xmpp_stanza_t *muc = xmpp_stanza_get_child_by_ns(st, "http://jabber.org/protocol/muc");
    char *password = muc ? stz_child_text(muc, "password") : NULL;
    char *status = stz_child_text(st, "status");
    struct tr_presence_in p = {
        .user = xmpp_stanza_get_from(st),
        .to_local = local,
        .to_resource = to->resource,
        .available = type == NULL,
        .muc = muc != NULL,
        .password = password,
        .status = status,
    };
    transport_presence(in, &p);
    if (password)
        xmpp_free(router_xctx(in), password);
    if (status)
        xmpp_free(router_xctx(in), status);
    free(local);
    return 1;
}

void services_handle_presence(struct instance *in, xmpp_stanza_t *st, const struct jid *to)
{
    const char *type = xmpp_stanza_get_type(st), *from = xmpp_stanza_get_from(st);
    if (presence_to_transport(in, st, to, type))
        return;
    const char *me = xmpp_stanza_get_to(st);
    char *bare_me = jid_join(to->local, to->domain, NULL);
    if (!bare_me)
        return;
    if (type && strcmp(type, "subscribe") == 0) {
        char *bare_from = jid_bare(from);
        if (bare_from) {
            services_presence_simple(in, bare_from, bare_me, "subscribed");
            if (!to->local)
                send_gateway_presence(in, bare_from);
            else
                services_presence_simple(in, bare_from, bare_me, NULL);
            free(bare_from);
        }
    } else if (type && strcmp(type, "unsubscribe") == 0) {
        char *bare_from = jid_bare(from);
        if (bare_from) {
            services_presence_simple(in, bare_from, bare_me, "unsubscribed");
            free(bare_from);
        }
    } else if (type && strcmp(type, "probe") == 0) {
        /* The user's server probes on their behalf at login: remember them
         * so a change of state (or a shutdown) reaches them. */
        if (!to->local) {
            present_add(in, from);
            send_gateway_presence(in, from);
        } else
            services_presence_simple(in, from, bare_me, NULL);
    } else if (!type && !to->local) {
        /* A user came online (or sent us directed presence). */
        present_add(in, from);
        send_gateway_presence(in, from);
    } else if (!type && to->local) {
        services_presence_simple(in, from, bare_me, NULL);
    } else if (type && strcmp(type, "unavailable") == 0 && !to->local) {
        present_del(in, from);
    }
    (void)me;
    free(bare_me);
}

void services_link_online(struct instance *in)
{
    /* The server forgets directed presence across our reconnect; users'
     * clients will re-probe, and subscribed users' presence arrives again.
     * Start from an empty set. */
    for (size_t i = 0; i < in->n_present; i++)
        free(in->present[i]);
    in->n_present = 0;
}

void services_broadcast_state(struct instance *in)
{
    for (size_t i = 0; i < in->n_present; i++)
        send_gateway_presence(in, in->present[i]);
}

void services_shutdown(struct instance *in)
{
    for (size_t i = 0; i < in->n_present; i++) {
        xmpp_stanza_t *p = xmpp_presence_new(router_xctx(in));
        if (!p)
            return;
        xmpp_stanza_set_type(p, "unavailable");
        stz_set_attr(p, "to", in->present[i]);
        xmpp_stanza_set_from(p, in->domain);
        stz_add_text_child(router_xctx(in), p, "status", "Gateway shutting down", (size_t)-1);
        router_reply(in, p);
        xmpp_stanza_release(p);
    }
}

void services_message_to_domain(struct instance *in, xmpp_stanza_t *st)
{
    char *body = stz_child_text(st, "body");
    if (!body)
        return; /* chat states etc. */
    xmpp_free(router_xctx(in), body);
    char text[512];
    snprintf(text, sizeof(text),
             "This is %s, a Ferry gateway. Write to contacts at this domain (for example "
             "someone@%s) instead of to the gateway itself.",
             in->description ? in->description : in->domain, in->domain);
    xmpp_stanza_t *m = stz_message(router_xctx(in), "chat", in->domain, xmpp_stanza_get_from(st),
                                   NULL, text, strlen(text));
    if (m) {
        router_reply(in, m);
        xmpp_stanza_release(m);
    }
}

void services_instance_free(struct instance *in)
{
    for (size_t i = 0; i < in->n_present; i++)
        free(in->present[i]);
    free(in->present);
    in->present = NULL;
    in->n_present = in->cap_present = 0;
    free(in->status_text);
    in->status_text = NULL;
}
