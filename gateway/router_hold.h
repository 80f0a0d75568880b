/* Messages a transport lets wait in memory for the server's confirmation
 * (tr_inbound.hold_ms): sent at once and written to the store only when the
 * XMPP server has not confirmed them within hold_ms, when the link drops,
 * when a message that must be stored comes behind them (order), or at
 * shutdown.  For sources that acknowledge nothing (IRC): what they gain is
 * no store write at all in the usual case; what a crash can lose is what
 * the server had not yet confirmed, at most hold_ms old.  Internal to the
 * router. */
#ifndef FERRY_ROUTER_HOLD_H
#define FERRY_ROUTER_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "ferry.h"

/* Held at most at once per instance; beyond it messages are stored. */
#define HOLD_MAX 4096

/* Sends xml (len bytes, from set) now and holds it; 0, or a negative
 * ferry_err when it was not sent (nothing held: store it instead). */
int hold_send(struct instance *in, const char *xml, size_t len, int hold_ms);
/* The server confirmed every held message up to mseq: forget them. */
void hold_ack(struct instance *in, uint64_t mseq);
/* Writes every held message to the store in order, oldest first. */
void hold_spill(struct instance *in);
int hold_init(struct instance *in);
void hold_free(struct instance *in); /* spills what is left */

#endif
