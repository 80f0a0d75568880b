/* Webhooks: HTTP requests under /<driver prefix>/<instance name> handed to
 * the instance's transport (e.g. SMS providers' inbound messages and
 * delivery reports). */
#ifndef FERRY_WEBHOOK_H
#define FERRY_WEBHOOK_H

#include "ferry.h"

/* Registers the instance's prefix route when its driver has a webhook op. */
int webhook_register(struct instance *in);

#endif
