/* XEP-0045 §7.8.2 mediated invitations a user sends through a room of a
 * transport.  Internal to the router. */
#ifndef FERRY_ROUTER_INVITE_H
#define FERRY_ROUTER_INVITE_H

#include <strophe.h>

#include "ferry.h"

/* When st (a message to room_local@domain, a room) holds
 * <x xmlns='http://jabber.org/protocol/muc#user'><invite to=.../></x>:
 * an invitee on this gateway (an IRC nick) goes to the transport as
 * tr_msg.invite_local; any other JID gets the invitation from the room as
 * a MUC service sends it.  Errors are answered.  Returns 1 when st was an
 * invitation (handled), 0 otherwise. */
int router_invite(struct instance *in, xmpp_stanza_t *st, const char *room_local);

#endif
