#include "router_invite.h"

#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "log.h"
#include "router.h"
#include "stanza.h"
#include "transport_reg.h"

#define NS_MUC_USER "http://jabber.org/protocol/muc#user"

/* The room passes the invitation on (from the room's bare JID). */
static void forward(struct instance *in, xmpp_stanza_t *st, const char *invitee, const char *reason)
{
    xmpp_ctx_t *ctx = router_xctx(in);
    char *room = jid_bare(xmpp_stanza_get_to(st));
    xmpp_stanza_t *m = stz_message(ctx, NULL, room, invitee, xmpp_stanza_get_id(st), NULL, 0);
    xmpp_stanza_t *x = stz_elem(ctx, "x", NS_MUC_USER), *inv = stz_elem(ctx, "invite", NULL);
    free(room);
    if (m && x && inv) {
        stz_set_attr(inv, "from", xmpp_stanza_get_from(st));
        if (reason)
            stz_add_text_child(ctx, inv, "reason", reason, (size_t)-1);
        xmpp_stanza_add_child(x, inv);
        xmpp_stanza_add_child(m, x);
        router_reply(in, m);
    }
    xmpp_stanza_release(inv);
    xmpp_stanza_release(x);
    xmpp_stanza_release(m);
}

int router_invite(struct instance *in, xmpp_stanza_t *st, const char *room_local)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
    xmpp_stanza_t *inv = x ? xmpp_stanza_get_child_by_name(x, "invite") : NULL;
    if (!inv || !transport_is_room(in, room_local))
        return 0;
    const char *to = xmpp_stanza_get_attribute(inv, "to");
    struct jid j = {0};
    if (!to || jid_parse(to, &j) != 0) {
        router_reply_error(in, st, TR_COND_JID_MALFORMED,
                           "An invitation needs the address of whom it invites.");
        return 1;
    }
    char *reason = stz_child_text(inv, "reason");
    int outside = strcmp(j.domain, in->domain) != 0;
    char *local = NULL;
    if (!outside && (!j.local || jid_unescape_local(j.local, &local) != 0)) {
        router_reply_error(in, st, TR_COND_JID_MALFORMED,
                           "Invite a contact of this gateway (nick%server@...).");
    } else {
        /* The transport checks that the sender is in the room, and sends
         * an invitation to a contact of its own network itself. */
        struct tr_msg m = {
            .id = xmpp_stanza_get_id(st),
            .user = xmpp_stanza_get_from(st),
            .to_local = room_local,
            .body = "",
            .type = TR_MSG_GROUPCHAT,
            .invite_local = outside ? NULL : local,
            .invite_jid = outside ? to : NULL,
        };
        struct tr_error err = {TR_COND_INTERNAL_SERVER_ERROR, ""};
        if (transport_send(in, &m, &err) != 0) {
            log_info(in->name, "invitation refused: %s", stz_cond_name(err.cond));
            router_reply_error(in, st, err.cond, err.text[0] ? err.text : NULL);
        } else if (outside) {
            forward(in, st, to, reason);
        }
    }
    free(local);
    if (reason)
        xmpp_free(router_xctx(in), reason);
    jid_clear(&j);
    return 1;
}
