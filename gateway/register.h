/* XEP-0077 in-band registration and XEP-0100 jabber:iq:gateway, served by
 * the core with the fields and hooks a transport declares. */
#ifndef FERRY_REGISTER_H
#define FERRY_REGISTER_H

#include <strophe.h>

#include "ferry.h"

void register_handle_iq(struct instance *in, xmpp_stanza_t *st, int set);
void gateway_handle_iq(struct instance *in, xmpp_stanza_t *st, int set);

#endif
