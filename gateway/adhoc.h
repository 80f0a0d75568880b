/* XEP-0050 ad-hoc commands on contact JIDs: one "configure" command per
 * contact a transport offers settings for (ops->contact_settings, e.g. an
 * IRC server JID: the user's nick and credentials on that server).  The
 * values are stored per (user, contact) and read by the transport through
 * core_api.settings_get. */
#ifndef FERRY_ADHOC_H
#define FERRY_ADHOC_H

#include <strophe.h>

#include "ferry.h"
#include "jid.h"

#define NS_COMMANDS "http://jabber.org/protocol/commands"

/* Nonzero when the contact (raw local part) has commands. */
int adhoc_has(struct instance *in, const char *local);
/* disco#items with node=NS_COMMANDS on a contact JID. */
void adhoc_items(struct instance *in, xmpp_stanza_t *st, const struct jid *to);
/* An iq set with <command xmlns=NS_COMMANDS/> to a contact JID. */
void adhoc_execute(struct instance *in, xmpp_stanza_t *st, const struct jid *to);
/* Stored settings of user (bare or full JID) for the contact local:
 * malloc'd JSON object text, or FERRY_ENOTFOUND. */
int adhoc_settings_get(struct instance *in, const char *user, const char *local, char **fields);

#endif
