/* The SMS transport (private to transports/sms/sms*.c).
 *
 *   sms.c        instance life cycle, settings, numbers and registration
 *   sms_send.c   a user's message: checks, limits, into the outbound queue
 *   sms_queue.c  the outbound queue: provider requests, retries, bounces
 *   sms_hook.c   webhooks: authenticity, inbound messages, delivery reports
 *   sms_concat.c multipart inbound messages (Vonage concat) joined durably
 *
 * Providers (twilio.c, ...) are pure functions behind provider.h. */
#ifndef FERRY_SMS_H
#define FERRY_SMS_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"
#include "transport.h"

struct event;

struct sms_number {
    char number[20]; /* E.164 */
    char *owner;     /* bare JID, or NULL while free */
    int fixed;       /* assigned in the config (not by registration) */
};

struct sms_rate {
    char *user;
    int64_t minute_start, day_start;
    int minute_count, day_count;
};

struct sms_secret {
    const char *key;
    char *value;
};

struct sms {
    const struct core_api *core;
    struct core_instance *ci;
    const char *name;
    const struct sms_provider *prov;
    struct sms_cfg pcfg;
    struct sms_secret secrets[24]; /* resolved provider settings */
    size_t n_secrets;

    char *public_url; /* no trailing slash */
    const char *default_cc;
    int max_segments, rate_minute, rate_day, retry_limit, max_inflight, receipts;
    long timeout_ms;

    struct sms_number *numbers;
    size_t n_numbers;
    struct sms_rate *rates;
    size_t n_rates, cap_rates;

    struct event *ev_kick, *ev_timer;
    int inflight;
    struct sms_pending *pending; /* requests under way (freed at destroy) */
    int stopping;
};

/* sms.c */
struct sms_number *sms_number_of_user(struct sms *s, const char *bare_jid);
struct sms_number *sms_number_find(struct sms *s, const char *e164);
/* Log-safe form of a number. */
const char *sms_mask(const char *e164, char *buf, size_t len);

/* sms_send.c */
int sms_send(void *state, const struct tr_msg *msg, struct tr_error *err);
int sms_gateway_translate(void *state, const char *user, const char *prompt, char **local,
                          struct tr_error *err);

/* sms_queue.c */
void sms_queue_start(struct sms *s);
void sms_queue_kick(struct sms *s);
void sms_queue_free(struct sms *s);

/* sms_concat.c: a part of a multipart inbound message (stored; the joined
 * message is delivered when the last part is in).  0 or a ferry_err. */
int sms_concat_part(struct sms *s, const struct sms_event *ev, const char *from,
                    const struct sms_number *nb);

/* sms_hook.c */
void sms_webhook(void *state, const struct tr_webhook_req *req, struct tr_webhook_resp *resp);

#endif
