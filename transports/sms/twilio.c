/* Twilio Programmable Messaging (sms-providers.md b.1): the send request,
 * the classification of its answer, and the provider descriptor.  Webhook
 * verification and parsing live in twilio_hook.c. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"

/* Shared with twilio_hook.c (declared in both files: no private header). */
const char *sms_twilio_get(const struct sms_cfg *cfg, const char *key);
enum tr_cond sms_twilio_cond(long code, enum tr_cond dflt, const char **what);
int sms_twilio_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_twilio_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen);

#define TWILIO_API "https://api.twilio.com"
#define TWILIO_MAX_MEDIA 10
#define RETRY_AFTER_MAX 3600

/* A config value, NULL when unset or empty. */
const char *sms_twilio_get(const struct sms_cfg *cfg, const char *key)
{
    const char *v = cfg && cfg->get ? cfg->get(cfg, key) : NULL;
    return v && *v ? v : NULL;
}

/* Twilio error codes, both those of the REST answer and the asynchronous
 * ones of status callbacks, with the stanza condition they map to. */
static const struct {
    long code;
    enum tr_cond cond;
    const char *what;
} codes[] = {
    {20003, TR_COND_INTERNAL_SERVER_ERROR, "authentication failed"},
    {20404, TR_COND_INTERNAL_SERVER_ERROR, "account or resource not found"},
    {21211, TR_COND_ITEM_NOT_FOUND, "invalid 'To' number"},
    {21212, TR_COND_BAD_REQUEST, "invalid 'From' number"},
    {21408, TR_COND_FORBIDDEN, "sending to this region is not enabled"},
    {21606, TR_COND_BAD_REQUEST, "the 'From' number cannot send SMS"},
    {21608, TR_COND_FORBIDDEN, "unverified 'To' number (trial account)"},
    {21610, TR_COND_FORBIDDEN, "the recipient unsubscribed (STOP)"},
    {21612, TR_COND_ITEM_NOT_FOUND, "the 'To' number cannot be reached by SMS"},
    {21614, TR_COND_ITEM_NOT_FOUND, "the 'To' number is not a mobile number"},
    {21617, TR_COND_NOT_ACCEPTABLE, "the message is too long"},
    {30001, TR_COND_RESOURCE_CONSTRAINT, "queue overflow"},
    {30003, TR_COND_RECIPIENT_UNAVAILABLE, "unreachable handset"},
    {30004, TR_COND_FORBIDDEN, "message blocked"},
    {30005, TR_COND_ITEM_NOT_FOUND, "unknown destination"},
    {30006, TR_COND_ITEM_NOT_FOUND, "landline or unreachable carrier"},
    {30007, TR_COND_NOT_ACCEPTABLE, "carrier filtering"},
    {30008, TR_COND_RECIPIENT_UNAVAILABLE, "unknown error"},
    {30034, TR_COND_FORBIDDEN, "unregistered US A2P 10DLC number"},
};

enum tr_cond sms_twilio_cond(long code, enum tr_cond dflt, const char **what)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (codes[i].code == code) {
            if (what)
                *what = codes[i].what;
            return codes[i].cond;
        }
    }
    if (what)
        *what = NULL;
    return dflt;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static int fail(struct sms_http_req *out, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct sms_http_req *out, char *err, size_t errlen, const char *fmt, ...)
{
    sms_http_req_clear(out);
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* POST {api_url}/2010-04-01/Accounts/{AccountSid}/Messages.json, form body
 * To, From and/or MessagingServiceSid, Body, MediaUrl*, StatusCallback. */
static int twilio_build_send(const struct sms_cfg *cfg, const struct sms_send_req *req,
                             struct sms_http_req *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *sid = sms_twilio_get(cfg, "account_sid");
    const char *token = sms_twilio_get(cfg, "auth_token");
    const char *mss = sms_twilio_get(cfg, "messaging_service_sid");
    const char *api = sms_twilio_get(cfg, "api_url");
    int has_text = req->text && *req->text;
    int has_from = req->from && *req->from;

    if (!sid || !token)
        return fail(out, err, errlen, "twilio: account_sid and auth_token must be set");
    if (!req->to || !*req->to)
        return fail(out, err, errlen, "twilio: no destination number");
    if (!has_from && !mss)
        return fail(out, err, errlen, "twilio: no sender number and no messaging_service_sid");
    if (!has_text && req->n_media == 0)
        return fail(out, err, errlen, "twilio: nothing to send (no text, no media)");
    if (req->n_media > TWILIO_MAX_MEDIA)
        return fail(out, err, errlen, "twilio: at most %d media URLs per message",
                    TWILIO_MAX_MEDIA);

    size_t alen = strlen(api ? api : TWILIO_API);
    if (!api)
        api = TWILIO_API;
    while (alen > 0 && api[alen - 1] == '/')
        alen--;

    struct sms_buf url = {0}, body = {0};
    sms_buf_add(&url, api, alen);
    sms_buf_adds(&url, "/2010-04-01/Accounts/");
    sms_buf_add_urlenc(&url, sid);
    sms_buf_adds(&url, "/Messages.json");

    sms_buf_add_param(&body, "To", req->to);
    if (has_from)
        sms_buf_add_param(&body, "From", req->from);
    if (mss)
        sms_buf_add_param(&body, "MessagingServiceSid", mss);
    if (has_text)
        sms_buf_add_param(&body, "Body", req->text);
    for (size_t i = 0; i < req->n_media; i++)
        sms_buf_add_param(&body, "MediaUrl", req->media[i]);
    if (req->status_url && *req->status_url)
        sms_buf_add_param(&body, "StatusCallback", req->status_url);

    out->method = strdup("POST");
    out->url = sms_buf_take(&url, NULL);
    out->body = sms_buf_take(&body, &out->body_len);
    out->headers[0] = sms_basic_auth_header(sid, token);
    out->headers[1] = strdup("Content-Type: application/x-www-form-urlencoded");
    out->headers[2] = strdup("Accept: application/json");
    out->n_headers = 3;
    if (!out->method || !out->url || !out->body || !out->headers[0] || !out->headers[1] ||
        !out->headers[2])
        return fail(out, err, errlen, "twilio: out of memory");
    return 0;
}

/* A provider id worth keeping: printable ASCII that fits. */
static void copy_id(char *dst, size_t dstlen, const cJSON *item)
{
    dst[0] = 0;
    if (!cJSON_IsString(item) || !item->valuestring)
        return;
    const char *s = item->valuestring;
    size_t n = strlen(s);
    if (n == 0 || n >= dstlen)
        return;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7F)
            return;
    memcpy(dst, s, n + 1);
}

/* Twilio's error code: a JSON number or a numeric string; -1 if absent. */
static long json_code(const cJSON *item)
{
    if (cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble < 1e9)
        return (long)item->valuedouble;
    if (cJSON_IsString(item) && item->valuestring && *item->valuestring) {
        char *end;
        long v = strtol(item->valuestring, &end, 10);
        if (*end == 0 && v >= 0)
            return v;
    }
    return -1;
}

static void twilio_parse_send(const struct sms_cfg *cfg, int http_status, const char *retry_after,
                              const char *body, size_t body_len, struct sms_send_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof(*res));
    cJSON *j = body && body_len ? cJSON_ParseWithLength(body, body_len) : NULL;
    const cJSON *o = cJSON_IsObject(j) ? j : NULL;

    if (http_status >= 200 && http_status < 300) {
        /* Accepted even if the id cannot be read: never send twice. */
        res->outcome = SMS_ACCEPTED;
        copy_id(res->provider_id, sizeof(res->provider_id),
                cJSON_GetObjectItemCaseSensitive(o, "sid"));
        cJSON_Delete(j);
        return;
    }

    long code = json_code(cJSON_GetObjectItemCaseSensitive(o, "code"));
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
    const char *what = NULL;
    char detail[200];
    enum tr_cond cond = sms_twilio_cond(code, TR_COND_BAD_REQUEST, &what);
    if (cJSON_IsString(msg) && msg->valuestring && *msg->valuestring)
        what = msg->valuestring;
    if (code >= 0)
        snprintf(detail, sizeof(detail), "Twilio error %ld: %s", code, what ? what : "no message");
    else
        snprintf(detail, sizeof(detail), "Twilio answered HTTP %d", http_status);
    cJSON_Delete(j);

    char text[512];
    res->retry_after = sms_retry_after(retry_after, RETRY_AFTER_MAX);
    if (http_status == 0) {
        res->outcome = SMS_TRANSIENT;
        res->cond = TR_COND_REMOTE_SERVER_TIMEOUT;
        snprintf(text, sizeof(text), "no answer from Twilio (timeout or connection failure)");
    } else if (http_status == 429 || code == 20429) {
        res->outcome = SMS_TRANSIENT;
        res->cond = TR_COND_RESOURCE_CONSTRAINT;
        snprintf(text, sizeof(text), "Twilio is throttling the gateway (%s)", detail);
    } else if (http_status >= 500 || http_status == 408) {
        res->outcome = SMS_TRANSIENT;
        res->cond = TR_COND_SERVICE_UNAVAILABLE;
        if (code >= 0)
            snprintf(text, sizeof(text), "Twilio is unavailable (HTTP %d; %s)", http_status,
                     detail);
        else
            snprintf(text, sizeof(text), "Twilio is unavailable (HTTP %d)", http_status);
    } else if (http_status == 401 || http_status == 403 || code == 20003 || code == 20404) {
        res->outcome = SMS_PERMANENT;
        res->cond = TR_COND_INTERNAL_SERVER_ERROR;
        snprintf(text, sizeof(text),
                 "the SMS gateway is misconfigured: Twilio refused its account settings (%s)",
                 detail);
    } else if (http_status >= 400 && http_status < 500) {
        res->outcome = SMS_PERMANENT;
        res->cond = cond;
        snprintf(text, sizeof(text), "%s", detail);
    } else {
        /* 1xx/3xx: a proxy or a wrong api_url, not Twilio. */
        res->outcome = SMS_PERMANENT;
        res->cond = TR_COND_INTERNAL_SERVER_ERROR;
        snprintf(text, sizeof(text),
                 "the SMS gateway is misconfigured: unexpected HTTP %d from the Twilio API URL",
                 http_status);
    }
    sms_clean_text(res->text, sizeof(res->text), text);
}

static const char *const twilio_required[] = {"account_sid", "auth_token", NULL};
static const char *const twilio_optional[] = {"messaging_service_sid", NULL};

const struct sms_provider sms_twilio = {
    .name = "twilio",
    .required_keys = twilio_required,
    .optional_keys = twilio_optional,
    .mms = 1,
    .dlr = 1,
    .build_send = twilio_build_send,
    .parse_send = twilio_parse_send,
    .verify = sms_twilio_verify,
    .parse_webhook = sms_twilio_parse_webhook,
    .ok_status = 200,
    .ok_content_type = "text/xml",
    .ok_body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
};
