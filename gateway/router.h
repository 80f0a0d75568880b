/* The router: the only place that sees both sides.  XMPP stanzas from a
 * link are checked (access), then answered by the services (stanzas to the
 * domain itself) or turned into transport calls (messages to contacts).
 * Messages coming up from transports go through the durable inbound queue:
 * stored, sent when the link is online, acknowledged by a ping. */
#ifndef FERRY_ROUTER_H
#define FERRY_ROUTER_H

#include <strophe.h>

#include "ferry.h"

/* xlink callbacks for an instance. */
void router_on_stanza(struct instance *in, xmpp_stanza_t *st);
void router_on_online(struct instance *in);
void router_on_offline(struct instance *in);

/* Stores an inbound message for delivery (core_api.deliver). */
int router_deliver(struct instance *in, const struct tr_inbound *msg);
/* Stores an already-built stanza for delivery (bounces, receipts). */
int router_enqueue(struct instance *in, xmpp_stanza_t *st, const char *dedupe_key);
/* Sends an immediate reply (iq answers, errors to the request); not queued:
 * if the link dropped, the requester's server reports the failure. */
void router_reply(struct instance *in, xmpp_stanza_t *st);
/* Replies to `st` with an error (never to an error stanza). */
void router_reply_error(struct instance *in, xmpp_stanza_t *st, enum tr_cond cond,
                        const char *text);
/* The libstrophe context stanzas for this instance are built in. */
xmpp_ctx_t *router_xctx(struct instance *in);
/* Schedules a flush of the inbound queue. */
void router_kick(struct instance *in);

int router_instance_init(struct instance *in);
void router_instance_free(struct instance *in);

#endif
