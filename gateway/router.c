#include "router.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jid.h"
#include "log.h"
#include "router_hold.h"
#include "router_invite.h"
#include "services.h"
#include "stanza.h"
#include "stanza_xml.h"
#include "store.h"
#include "transport_reg.h"
#include "xlink.h"

#define FLUSH_BATCH 200

xmpp_ctx_t *router_xctx(struct instance *in)
{
    return xlink_ctx_xmpp(in->f->xc);
}

void router_reply(struct instance *in, xmpp_stanza_t *st)
{
    if (xlink_send(in->link, st) != 0)
        log_debug(in->name, "reply dropped: link offline");
}

void router_reply_error(struct instance *in, xmpp_stanza_t *st, enum tr_cond cond, const char *text)
{
    const char *type = xmpp_stanza_get_type(st);
    if (type && strcmp(type, "error") == 0)
        return; /* never answer an error with an error */
    xmpp_stanza_t *r = stz_error_reply(router_xctx(in), st, cond, text);
    if (r) {
        router_reply(in, r);
        xmpp_stanza_release(r);
    }
}

/* ---- Outbound: a user's message to a contact ---------------------------- */

static void handle_message(struct instance *in, xmpp_stanza_t *st, const struct jid *to)
{
    const char *type = xmpp_stanza_get_type(st);
    if (type && strcmp(type, "error") == 0) {
        log_debug(in->name, "error message from a user's server ignored");
        return;
    }
    if (!to->local) {
        services_message_to_domain(in, st);
        return;
    }
    char *body = stz_child_text(st, "body");
    char *oob = NULL, *subject = NULL;
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_ns(st, "jabber:x:oob");
    if (x)
        oob = stz_child_text(x, "url");
    char *local = NULL;
    if (jid_unescape_local(to->local, &local) != 0) {
        router_reply_error(in, st, TR_COND_JID_MALFORMED,
                           "The address is not a valid escaped JID.");
        goto out;
    }
    if (router_invite(in, st, local))
        goto out;
    /* A room's subject (XEP-0045 §8.1; empty clears it): only to a room,
     * only in a groupchat message, and only without a body (with one it is
     * a message that has a subject line, not a subject change). */
    xmpp_stanza_t *subj = xmpp_stanza_get_child_by_name(st, "subject");
    int has_subject = subj && (!body || !*body) && type && strcmp(type, "groupchat") == 0 &&
                      transport_is_room(in, local);
    if (has_subject)
        subject = xmpp_stanza_get_text(subj); /* NULL for <subject/> */
    /* Chat states, receipts, markers, empty bodies: never a transport
     * message (users of other gateways were billed for typing
     * notifications). */
    int empty = (!body || !*body) && (!oob || !*oob) && !has_subject;
    if (empty) {
        log_debug(in->name, "message without body not forwarded");
        goto out;
    }
    xmpp_stanza_t *origin = xmpp_stanza_get_child_by_name_and_ns(st, "origin-id", "urn:xmpp:sid:0");
    struct tr_msg m = {
        .id = xmpp_stanza_get_id(st),
        .user = xmpp_stanza_get_from(st),
        .to_local = local,
        .to_resource = to->resource,
        .body = body ? body : "",
        .oob_url = oob,
        .type = type && strcmp(type, "groupchat") == 0 ? TR_MSG_GROUPCHAT
                : type && strcmp(type, "normal") == 0  ? TR_MSG_NORMAL
                                                       : TR_MSG_CHAT,
        .want_receipt =
            xmpp_stanza_get_child_by_name_and_ns(st, "request", "urn:xmpp:receipts") != NULL,
        .subject = has_subject ? (subject ? subject : "") : NULL,
        .origin_id = origin ? xmpp_stanza_get_attribute(origin, "id") : NULL,
    };
    struct tr_error err = {TR_COND_INTERNAL_SERVER_ERROR, ""};
    if (transport_send(in, &m, &err) != 0) {
        log_info(in->name, "message refused: %s", stz_cond_name(err.cond));
        router_reply_error(in, st, err.cond, err.text[0] ? err.text : NULL);
    }
out:
    free(local);
    if (body)
        xmpp_free(router_xctx(in), body);
    if (oob)
        xmpp_free(router_xctx(in), oob);
    if (subject)
        xmpp_free(router_xctx(in), subject);
}

void router_on_stanza(struct instance *in, xmpp_stanza_t *st)
{
    const char *name = xmpp_stanza_get_name(st);
    const char *from = xmpp_stanza_get_from(st), *to = xmpp_stanza_get_to(st);
    const char *type = xmpp_stanza_get_type(st);
    if (!name || !from || !to)
        return;
    int is_iq = strcmp(name, "iq") == 0;
    if (is_iq && type && (strcmp(type, "result") == 0 || strcmp(type, "error") == 0))
        return; /* answers to requests we did not make */
    struct jid tj;
    if (jid_parse(to, &tj) != 0) {
        router_reply_error(in, st, TR_COND_JID_MALFORMED, "Malformed destination address.");
        return;
    }
    if (type && strcmp(type, "error") == 0) {
        jid_clear(&tj);
        return;
    }
    if (!config_user_allowed(in->f->cfg, from)) {
        char text[300];
        snprintf(text, sizeof(text),
                 "This gateway is not open to users of your server; ask the operator of %s.",
                 in->domain);
        log_info(in->name, "stanza from a domain not allowed by access rules refused");
        if (strcmp(name, "presence") == 0) {
            if (type && strcmp(type, "subscribe") == 0)
                services_presence_simple(in, from, to, "unsubscribed");
        } else {
            router_reply_error(in, st, TR_COND_FORBIDDEN, text);
        }
        jid_clear(&tj);
        return;
    }
    if (is_iq)
        services_handle_iq(in, st, &tj);
    else if (strcmp(name, "message") == 0)
        handle_message(in, st, &tj);
    else if (strcmp(name, "presence") == 0)
        services_handle_presence(in, st, &tj);
    jid_clear(&tj);
}

/* ---- Inbound: durable queue towards XMPP users --------------------------- */

struct flush_ack {
    struct instance *in;
    int64_t upto;       /* stored rows */
    uint64_t held_upto; /* held messages (router_hold.c) */
};

static void flush_acked(void *arg, int ok)
{
    struct flush_ack *a = arg;
    struct instance *in = a->in;
    if (ok)
        hold_ack(in, a->held_upto);
    if (ok && a->upto > in->acked_upto) {
        /* In the loop's group commit: should the deletion be lost in a
         * crash, the messages are sent once more, never lost. */
        int was = store_group_enter(in->f->store);
        if (store_in_ack(in->f->store, in->name, a->upto) == 0)
            in->acked_upto = a->upto;
        else
            log_error(in->name, "could not remove delivered messages from the store");
        store_group_leave(in->f->store, was);
    }
    free(a);
}

struct flush_walk {
    struct instance *in;
    int sent, failed;
};

static int flush_one(void *arg, const struct store_in *row)
{
    struct flush_walk *w = arg;
    struct instance *in = w->in;
    /* Parsed only to check it: a corrupt row would make the server close
     * the stream.  What goes out is the stored text itself. */
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(router_xctx(in), row->xml);
    if (!st) {
        /* Stored by us, so this is corruption: skip it, but keep it logged. */
        log_error(in->name, "stored message %lld cannot be parsed; skipped", (long long)row->seq);
    } else {
        xmpp_stanza_release(st);
        if (xlink_send_raw(in->link, row->xml, strlen(row->xml)) != 0) {
            w->failed = 1;
            return 1;
        }
    }
    in->sent_upto = row->seq;
    w->sent++;
    return 0;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct instance *in = arg;
    if (!xlink_is_online(in->link))
        return;
    struct flush_walk w = {in, 0, 0};
    /* Idle: everything stored went out from router_enqueue; only the ping
     * behind it is due, no need to read the queue back.  (Reading joins
     * the group commit: sending promises nothing.) */
    int rc = 0;
    if (!in->queue_idle) {
        int was = store_group_enter(in->f->store);
        rc = store_in_each(in->f->store, in->name, in->sent_upto, FLUSH_BATCH, flush_one, &w);
        store_group_leave(in->f->store, was);
    }
    if (rc < 0 && !w.failed)
        log_error(in->name, "reading the inbound queue failed: %s", ferry_strerror(rc));
    if (w.sent > 0)
        log_debug(in->name, "sent %d queued stanzas", w.sent);
    /* Everything stored is out (also what router_enqueue sent at once):
     * one ping behind it acknowledges the lot. */
    in->queue_idle = rc == 0 && !w.failed && w.sent < FLUSH_BATCH;
    if (in->sent_upto > in->pinged_upto || in->held_last > in->held_pinged) {
        struct flush_ack *a = malloc(sizeof(*a));
        if (a) {
            *a = (struct flush_ack){in, in->sent_upto, in->held_last};
            if (xlink_ping(in->link, flush_acked, a) != 0) {
                free(a); /* the link dropped; everything is resent on reconnect */
            } else {
                in->pinged_upto = in->sent_upto;
                in->held_pinged = in->held_last;
            }
        }
    }
    if (w.sent == FLUSH_BATCH)
        event_active(in->ev_flush, EV_TIMEOUT, 0);
}

void router_kick(struct instance *in)
{
    if (in->ev_flush && xlink_is_online(in->link))
        event_active(in->ev_flush, EV_TIMEOUT, 0);
}

/* Stores xml (a serialised stanza with its from set; the caller keeps it)
 * and sends it at once when nothing older waits. */
static int enqueue_xml(struct instance *in, const char *xml, size_t len, const char *dedupe_key)
{
    if (in->held) /* they were sent first: they are stored first */
        hold_spill(in);
    int64_t seq = 0;
    int rc = store_in_push(in->f->store, in->name, dedupe_key, xml, &seq);
    if (rc != 0)
        return rc;
    /* Stored.  When nothing older waits to be sent, send this stanza now
     * rather than re-reading and re-parsing it in the flush; it stays in
     * the store until the ping behind it is answered, as usual. */
    if (in->queue_idle && xlink_is_online(in->link) && xlink_send_raw(in->link, xml, len) == 0)
        in->sent_upto = seq;
    else
        in->queue_idle = 0;
    router_kick(in);
    return 0;
}

int router_enqueue(struct instance *in, xmpp_stanza_t *st, const char *dedupe_key)
{
    if (!xmpp_stanza_get_from(st))
        xmpp_stanza_set_from(st, in->domain);
    char *xml = stz_to_string(router_xctx(in), st);
    if (!xml)
        return FERRY_ENOMEM;
    int rc = enqueue_xml(in, xml, strlen(xml), dedupe_key);
    free(xml);
    return rc;
}

int router_deliver(struct instance *in, const struct tr_inbound *msg)
{
    if (!msg || !msg->user || (!msg->body && !msg->oob_url && !msg->subject))
        return FERRY_EINVAL;
    char *from = NULL;
    if (msg->from_local) {
        char *esc = NULL;
        int rc = jid_escape_local(msg->from_local, &esc);
        if (rc)
            return rc;
        from = jid_join(esc, in->domain, msg->from_resource);
        free(esc);
    } else {
        from = jid_join(NULL, in->domain, msg->from_resource);
    }
    if (!from)
        return FERRY_ENOMEM;
    char *invite = NULL;
    if (msg->invite_room) {
        char *esc = NULL;
        if (jid_escape_local(msg->invite_room, &esc) == 0)
            invite = jid_join(esc, in->domain, NULL);
        free(esc);
        if (!invite) {
            free(from);
            return FERRY_ENOMEM;
        }
    }
    char idbuf[40];
    if (!msg->id)
        snprintf(idbuf, sizeof(idbuf), "ferry-%08lx%08lx", (unsigned long)random(),
                 (unsigned long)random());
    static const char *const types[] = {"chat", "groupchat", "normal"};
    struct stz_msg m = {
        .type = types[msg->type],
        .from = from,
        .to = msg->user,
        .id = msg->id ? msg->id : idbuf,
        .body = msg->body,
        .body_len = msg->body ? msg->body_len : 0,
        .subject = msg->subject,
        .oob_url = msg->oob_url,
        .origin_id = msg->origin_id,
        .invite_jid = invite,
    };
    size_t len = 0;
    char *xml = stz_message_xml(&m, &len);
    free(from);
    free(invite);
    if (!xml)
        return FERRY_ENOMEM;
    int online = xlink_is_online(in->link);
    int rc = FERRY_ESTATE;
    if (msg->direct && online) {
        rc = xlink_send_raw(in->link, xml, len); /* not stored: see tr_inbound.direct */
    } else if (msg->hold_ms > 0 && !msg->dedupe_key && in->queue_idle && online) {
        /* Sent now and held in memory until the server confirms it
         * (router_hold.h); stored as usual if that fails. */
        rc = hold_send(in, xml, len, msg->hold_ms);
        if (rc == 0)
            router_kick(in);
    }
    if (rc != 0)
        rc = enqueue_xml(in, xml, len, msg->dedupe_key);
    free(xml);
    return rc;
}

void router_on_online(struct instance *in)
{
    /* Everything not confirmed by the server is sent again, in order. */
    in->sent_upto = in->acked_upto;
    in->pinged_upto = in->acked_upto;
    in->queue_idle = 0; /* until a flush has found nothing left */
    int64_t n = 0;
    if (store_in_count(in->f->store, in->name, &n) == 0 && n > 0)
        log_info(in->name, "delivering %lld queued messages", (long long)n);
    event_active(in->ev_flush, EV_TIMEOUT, 0);
    services_link_online(in);
    transport_link_state(in, 1);
}

void router_on_offline(struct instance *in)
{
    hold_spill(in); /* (offline now: sent again after reconnect) */
    in->sent_upto = in->acked_upto;
    in->pinged_upto = in->acked_upto;
    in->queue_idle = 0;
    transport_link_state(in, 0);
}

int router_instance_init(struct instance *in)
{
    in->ev_flush = event_new(in->f->base, -1, 0, flush_cb, in);
    return in->ev_flush ? hold_init(in) : FERRY_ENOMEM;
}

void router_instance_free(struct instance *in)
{
    hold_free(in);
    if (in->ev_flush)
        event_free(in->ev_flush);
    in->ev_flush = NULL;
}
