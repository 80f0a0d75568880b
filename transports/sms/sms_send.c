/* A user's message to a phone number: every check that can answer at once
 * (registration, number, length, media, rate limits), then the durable
 * outbound queue.  Nothing here touches the network. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e164.h"
#include "err.h"
#include "segments.h"
#include "sms.h"
#include "store.h"

/* The bare JID of a full one, into buf. */
static const char *bare_of(const char *full, char *buf, size_t len)
{
    size_t n = strcspn(full, "/");
    if (n >= len)
        n = len - 1;
    memcpy(buf, full, n);
    buf[n] = 0;
    return buf;
}

static struct sms_rate *rate_of(struct sms *s, const char *user)
{
    for (size_t i = 0; i < s->n_rates; i++)
        if (strcmp(s->rates[i].user, user) == 0)
            return &s->rates[i];
    if (s->n_rates == s->cap_rates) {
        size_t cap = s->cap_rates ? s->cap_rates * 2 : 16;
        struct sms_rate *r = realloc(s->rates, cap * sizeof(*r));
        if (!r)
            return NULL;
        s->rates = r;
        s->cap_rates = cap;
    }
    struct sms_rate *r = &s->rates[s->n_rates];
    memset(r, 0, sizeof(*r));
    r->user = strdup(user);
    if (!r->user)
        return NULL;
    s->n_rates++;
    return r;
}

/* Fixed windows per user: a minute and a day. */
static int rate_check(struct sms *s, const char *user, struct tr_error *err)
{
    if (!s->rate_minute && !s->rate_day)
        return 0;
    struct sms_rate *r = rate_of(s, user);
    if (!r)
        return 0; /* out of memory: do not refuse a message for it */
    int64_t now = (int64_t)time(NULL);
    if (now - r->minute_start >= 60) {
        r->minute_start = now;
        r->minute_count = 0;
    }
    if (now - r->day_start >= 86400) {
        r->day_start = now;
        r->day_count = 0;
    }
    err->cond = TR_COND_POLICY_VIOLATION;
    if (s->rate_minute && r->minute_count >= s->rate_minute) {
        snprintf(err->text, sizeof(err->text),
                 "Too many SMS: at most %d per minute here. Try again in %d seconds.",
                 s->rate_minute, (int)(60 - (now - r->minute_start)));
        return -1;
    }
    if (s->rate_day && r->day_count >= s->rate_day) {
        snprintf(err->text, sizeof(err->text), "Too many SMS today: at most %d per day here.",
                 s->rate_day);
        return -1;
    }
    r->minute_count++;
    r->day_count++;
    return 0;
}

static int refuse(struct tr_error *err, enum tr_cond cond, const char *text)
{
    err->cond = cond;
    snprintf(err->text, sizeof(err->text), "%s", text);
    return -1;
}

int sms_send(void *state, const struct tr_msg *msg, struct tr_error *err)
{
    struct sms *s = state;
    char bare[1024], to[20], text[256];
    const char *why = NULL;
    bare_of(msg->user, bare, sizeof(bare));
    struct sms_number *from = sms_number_of_user(s, bare);
    if (!from) {
        snprintf(text, sizeof(text),
                 "You have no phone number on %s yet: register with the gateway (your client's "
                 "\"Register\" or service discovery on %s) and choose a number.",
                 s->core->domain(s->ci), s->core->domain(s->ci));
        return refuse(err, TR_COND_REGISTRATION_REQUIRED, text);
    }
    if (e164_normalize(msg->to_local, s->default_cc, to, sizeof(to), &why) != 0) {
        snprintf(text, sizeof(text),
                 "\"%.40s\" is not a phone number: %s. Write it as +<country code><number>.",
                 msg->to_local, why ? why : "unknown form");
        return refuse(err, TR_COND_ITEM_NOT_FOUND, text);
    }
    struct sms_segments seg = {0};
    if (sms_count_segments(msg->body, strlen(msg->body), &seg) != 0)
        return refuse(err, TR_COND_BAD_REQUEST, "The message is not valid UTF-8 text.");
    if (seg.parts > s->max_segments) {
        snprintf(text, sizeof(text),
                 "This message would be sent as %d SMS (%s); the limit here is %d. Send it in "
                 "shorter pieces.",
                 seg.parts, seg.unicode ? "Unicode, 67 characters each" : "153 characters each",
                 s->max_segments);
        return refuse(err, TR_COND_NOT_ACCEPTABLE, text);
    }
    if (msg->oob_url && !s->prov->mms)
        return refuse(err, TR_COND_NOT_ACCEPTABLE,
                      "This gateway's provider cannot send pictures or files (MMS); send text.");
    if (rate_check(s, bare, err) != 0)
        return -1;

    cJSON *extra = cJSON_CreateObject();
    if (extra) {
        cJSON_AddStringToObject(extra, "from", from->number);
        cJSON_AddBoolToObject(extra, "receipt", msg->want_receipt);
        cJSON_AddBoolToObject(extra, "unicode", seg.unicode);
        cJSON_AddNumberToObject(extra, "segments", seg.parts);
        if (msg->oob_url)
            cJSON_AddStringToObject(extra, "media", msg->oob_url);
    }
    char *extra_json = extra ? cJSON_PrintUnformatted(extra) : NULL;
    cJSON_Delete(extra);
    if (!extra_json)
        return refuse(err, TR_COND_RESOURCE_CONSTRAINT, "The gateway is out of memory.");
    int64_t seq = 0;
    /* The row and its "ref:o<seq>" correlation in one commit: a delivery
     * report can be matched even if it beats the provider's answer. */
    int rc = store_out_push_corr(s->core->store(s->ci), s->name, msg->user, to, msg->id, msg->body,
                                 extra_json, msg->want_receipt, "ref:o", &seq);
    free(extra_json);
    if (rc != 0)
        return refuse(err, TR_COND_INTERNAL_SERVER_ERROR,
                      "The gateway could not store the message; nothing was sent.");
    char m[24];
    s->core->log(s->ci, 3, "queued message %lld to %s (%d part%s)", (long long)seq,
                 sms_mask(to, m, sizeof(m)), seg.parts, seg.parts == 1 ? "" : "s");
    sms_queue_kick(s);
    return 0;
}

int sms_gateway_translate(void *state, const char *user, const char *prompt, char **local,
                          struct tr_error *err)
{
    (void)user;
    struct sms *s = state;
    char num[20], text[256];
    const char *why = NULL;
    if (e164_normalize(prompt, s->default_cc, num, sizeof(num), &why) != 0) {
        snprintf(text, sizeof(text), "Not a phone number: %s.", why ? why : "unknown form");
        return refuse(err, TR_COND_NOT_ACCEPTABLE, text);
    }
    *local = strdup(num);
    return *local ? 0 : refuse(err, TR_COND_RESOURCE_CONSTRAINT, "Out of memory.");
}
