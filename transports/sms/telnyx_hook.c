/* Telnyx Messaging v2 webhooks (reference sheet b.3): the event envelope
 * {"data":{"id","event_type","payload":{...}},"meta":{"attempt",...}}.
 *
 *   message.received   inbound: payload.from.phone_number,
 *                      payload.to[0].phone_number, payload.text,
 *                      payload.media[].url; msg_id = payload.id.
 *   message.sent       SMS_ST_PROGRESS.
 *   message.finalized  payload.to[0].status: delivered -> SMS_ST_DELIVERED;
 *                      sending_failed / delivery_failed -> SMS_ST_FAILED
 *                      (payload.errors[0] gives code and condition);
 *                      delivery_unconfirmed or anything else -> PROGRESS.
 *   other event types  no events (answered 2xx, so Telnyx stops).
 * Status events: provider_id = payload.id; ref = the `ref` parameter of
 * the URL Telnyx called (the webhook_url we sent carried it), else of
 * payload.webhook_url.
 *
 * Which id dedupes: Telnyx retries an undelivered event (meta.attempt 2, 3,
 * then the failover URL) with the same body, so the same data.id (the
 * EVENT id) and the same payload.id (the MESSAGE id).  Each inbound message
 * produces exactly one message.received event, so payload.id dedupes
 * provider retries as well as data.id does, and it is the message's
 * identity (what Telnyx's logs, message lookups and MDRs show).  We
 * therefore give payload.id as msg_id; data.id is used only when a payload
 * carries no id.  For status events the transport keys on provider_id
 * (payload.id) + status, which a retried event repeats identically. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"

/* From telnyx.c. */
int sms_telnyx_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen);
int sms_telnyx_code_cond(const char *code, enum tr_cond *cond);
void sms_telnyx_textf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *sms_telnyx_error_code(const cJSON *e, char *buf, size_t buflen);
char *sms_telnyx_u8dup(const char *s, size_t *out_len);
int sms_telnyx_describe(const cJSON *e, char *out, size_t outlen);

static const cJSON *hk_get(const cJSON *o, const char *name)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
}

static const char *hk_str(const cJSON *o, const char *name)
{
    const cJSON *v = hk_get(o, name);
    return cJSON_IsString(v) && v->valuestring && *v->valuestring ? v->valuestring : NULL;
}

/* First element of the array o[name] when it is an object. */
static const cJSON *hk_first(const cJSON *o, const char *name)
{
    const cJSON *a = hk_get(o, name);
    const cJSON *e = cJSON_IsArray(a) ? cJSON_GetArrayItem(a, 0) : NULL;
    return cJSON_IsObject(e) ? e : NULL;
}

/* The `ref` parameter of a query string (len bytes), malloc'd, or NULL. */
static char *hk_ref_from_query(const char *q, size_t len)
{
    struct sms_form f;
    if (!q || !len || sms_form_parse(q, len, &f) < 0)
        return NULL;
    const char *ref = sms_form_get(&f, "ref");
    char *r = ref && *ref ? strdup(ref) : NULL;
    sms_form_clear(&f);
    return r;
}

static char *hk_ref_from_url(const char *url)
{
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q)
        return NULL;
    q++;
    return hk_ref_from_query(q, strcspn(q, "#"));
}

static int hk_fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "telnyx: %s", why);
    return -1;
}

static int hk_inbound(const cJSON *data, const cJSON *payload, struct sms_event *ev, char *err,
                      size_t errlen)
{
    const char *from = hk_str(hk_get(payload, "from"), "phone_number");
    const char *to = hk_str(hk_first(payload, "to"), "phone_number");
    const char *id = hk_str(payload, "id");
    if (!id)
        id = hk_str(data, "id");
    if (!from || !to)
        return hk_fail(err, errlen, "message.received without from/to phone_number");
    if (!id)
        return hk_fail(err, errlen, "message.received without a message id");
    const cJSON *text = hk_get(payload, "text");
    if (text && !cJSON_IsString(text) && !cJSON_IsNull(text))
        return hk_fail(err, errlen, "message.received text is not a string");
    const cJSON *media = hk_get(payload, "media");
    if (media && !cJSON_IsArray(media) && !cJSON_IsNull(media))
        return hk_fail(err, errlen, "message.received media is not an array");

    ev->kind = SMS_EV_INBOUND;
    ev->from = strdup(from);
    ev->to = strdup(to);
    ev->msg_id = strdup(id);
    ev->text = sms_telnyx_u8dup(cJSON_IsString(text) && text->valuestring ? text->valuestring : "",
                                &ev->text_len);
    if (!ev->from || !ev->to || !ev->msg_id || !ev->text)
        return hk_fail(err, errlen, "out of memory");
    const cJSON *m, *list = cJSON_IsArray(media) ? media : NULL;
    cJSON_ArrayForEach(m, list)
    {
        const char *url = hk_str(m, "url");
        const char *ct = hk_str(m, "content_type");
        /* The SMIL presentation part of an MMS is not content. */
        if (!url || (ct && strcmp(ct, "application/smil") == 0))
            continue;
        if (ev->n_media == SMS_MAX_MEDIA)
            break;
        if (!(ev->media[ev->n_media] = strdup(url)))
            return hk_fail(err, errlen, "out of memory");
        ev->n_media++;
    }
    return 0;
}

static int hk_status(const struct sms_webhook *w, const char *event_type, const cJSON *payload,
                     struct sms_event *ev, char *err, size_t errlen)
{
    const char *id = hk_str(payload, "id");
    ev->kind = SMS_EV_STATUS;
    ev->status = SMS_ST_PROGRESS;
    ev->ref = hk_ref_from_query(w->query, w->query ? strlen(w->query) : 0);
    if (!ev->ref)
        ev->ref = hk_ref_from_url(hk_str(payload, "webhook_url"));
    if (id && !(ev->provider_id = strdup(id)))
        return hk_fail(err, errlen, "out of memory");
    if (!ev->ref && !ev->provider_id)
        return hk_fail(err, errlen, "status event without a message id or ref");
    if (strcmp(event_type, "message.finalized") != 0)
        return 0; /* message.sent: handed to the carrier */

    const char *st = hk_str(hk_first(payload, "to"), "status");
    if (!st)
        return hk_fail(err, errlen, "message.finalized without to[0].status");
    if (strcmp(st, "delivered") == 0) {
        ev->status = SMS_ST_DELIVERED;
        return 0;
    }
    if (strcmp(st, "sending_failed") != 0 && strcmp(st, "delivery_failed") != 0)
        return 0; /* delivery_unconfirmed: no receipt, no error */

    ev->status = SMS_ST_FAILED;
    ev->cond = TR_COND_RECIPIENT_UNAVAILABLE;
    const cJSON *e = hk_first(payload, "errors");
    char nbuf[32], what[320], text[256];
    enum tr_cond cond;
    if (e && sms_telnyx_code_cond(sms_telnyx_error_code(e, nbuf, sizeof(nbuf)), &cond) == 0 &&
        cond != TR_COND_INTERNAL_SERVER_ERROR)
        ev->cond = cond;
    if (e && sms_telnyx_describe(e, what, sizeof(what)) == 0)
        sms_telnyx_textf(text, sizeof(text), "Telnyx %s: %s", st, what);
    else
        sms_telnyx_textf(text, sizeof(text), "Telnyx %s", st);
    if (!(ev->error = strdup(text)))
        return hk_fail(err, errlen, "out of memory");
    return 0;
}

int sms_telnyx_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen)
{
    (void)cfg;
    memset(out, 0, sizeof(*out));
    cJSON *root = w->body && w->body_len ? cJSON_ParseWithLength(w->body, w->body_len) : NULL;
    const cJSON *data = hk_get(root, "data");
    const char *event_type = hk_str(data, "event_type");
    const cJSON *payload = hk_get(data, "payload");
    int rc = 0;
    if (!cJSON_IsObject(root))
        rc = hk_fail(err, errlen, "body is not a JSON object");
    else if (!cJSON_IsObject(data) || !event_type)
        rc = hk_fail(err, errlen, "no data.event_type");
    else if (!cJSON_IsObject(payload))
        rc = hk_fail(err, errlen, "no data.payload object");
    else if (strcmp(event_type, "message.received") == 0) {
        out->n = 1;
        rc = hk_inbound(data, payload, &out->ev[0], err, errlen);
    } else if (strcmp(event_type, "message.sent") == 0 ||
               strcmp(event_type, "message.finalized") == 0) {
        out->n = 1;
        rc = hk_status(w, event_type, payload, &out->ev[0], err, errlen);
    }
    cJSON_Delete(root);
    if (rc < 0)
        sms_events_clear(out);
    return rc;
}
