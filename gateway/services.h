/* XMPP services every transport domain offers: XEP-0030 disco, XEP-0092
 * version, XEP-0199 ping, XEP-0077 registration, XEP-0100 gateway, and
 * presence for the gateway contact and transport contacts. */
#ifndef FERRY_SERVICES_H
#define FERRY_SERVICES_H

#include <strophe.h>

#include "ferry.h"
#include "jid.h"

void services_handle_iq(struct instance *in, xmpp_stanza_t *st, const struct jid *to);
void services_handle_presence(struct instance *in, xmpp_stanza_t *st, const struct jid *to);
void services_message_to_domain(struct instance *in, xmpp_stanza_t *st);
/* Sends <presence type=type/> from `from` to `to`. */
void services_presence_simple(struct instance *in, const char *to, const char *from,
                              const char *type);
/* Sends <presence type=type/> from the domain to `to`. */
void services_presence_simple_to(struct instance *in, const char *to, const char *type);
/* The link came online / the transport changed state: tell present users. */
void services_link_online(struct instance *in);
void services_broadcast_state(struct instance *in);
/* Ferry is stopping: the gateway contact goes unavailable for its users. */
void services_shutdown(struct instance *in);
void services_instance_free(struct instance *in);

#endif
