/* disco#items on transport JIDs answered by the transport, later (IRC
 * LIST), paged by the core with XEP-0059 result set management. */
#ifndef FERRY_DISCO_H
#define FERRY_DISCO_H

#include <strophe.h>

#include "ferry.h"
#include "jid.h"

/* Asks the transport; answers empty at once when it has nothing to say. */
void disco_items_contact(struct instance *in, xmpp_stanza_t *st, const struct jid *to);
/* core_api.disco_reply */
void disco_reply(struct core_instance *ci, struct tr_disco *req, const struct tr_disco_item *items,
                 size_t n, const struct tr_error *err);

#endif
