/* Plivo Messaging (sms-providers.md b.4): the send request, the
 * classification of its answer, and the provider descriptor.  Webhook
 * verification and parsing live in plivo_hook.c. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"

/* Shared with plivo_hook.c (declared in both files: no private header). */
const char *sms_plivo_get(const struct sms_cfg *cfg, const char *key);
int sms_plivo_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_plivo_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                            struct sms_events *out, char *err, size_t errlen);

#define PLIVO_API "https://api.plivo.com"
#define PLIVO_MAX_MEDIA 10
#define RETRY_AFTER_MAX 3600

const char *sms_plivo_get(const struct sms_cfg *cfg, const char *key)
{
    const char *v = cfg && cfg->get ? cfg->get(cfg, key) : NULL;
    return v && *v ? v : NULL;
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

/* Plivo's convention for src/dst: digits without the '+'. */
static const char *no_plus(const char *num)
{
    return num[0] == '+' ? num + 1 : num;
}

/* POST {api_url}/v1/Account/{auth_id}/Message/, JSON body src, dst, text,
 * type+media_urls (MMS), url+method (status callback). */
static int plivo_build_send(const struct sms_cfg *cfg, const struct sms_send_req *req,
                            struct sms_http_req *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *id = sms_plivo_get(cfg, "auth_id");
    const char *token = sms_plivo_get(cfg, "auth_token");
    const char *api = sms_plivo_get(cfg, "api_url");
    int has_text = req->text && *req->text;

    if (!id || !token)
        return fail(out, err, errlen, "plivo: auth_id and auth_token must be set");
    if (!req->from || !*req->from)
        return fail(out, err, errlen, "plivo: no sender number");
    /* '<' joins several destinations (bulk): never let one slip in. */
    if (!req->to || !*no_plus(req->to) || strchr(req->to, '<'))
        return fail(out, err, errlen, "plivo: bad destination number");
    if (!has_text && req->n_media == 0)
        return fail(out, err, errlen, "plivo: nothing to send (no text, no media)");
    if (req->n_media > PLIVO_MAX_MEDIA)
        return fail(out, err, errlen, "plivo: at most %d media URLs per message", PLIVO_MAX_MEDIA);

    size_t alen = strlen(api ? api : PLIVO_API);
    if (!api)
        api = PLIVO_API;
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    struct sms_buf url = {0};
    sms_buf_add(&url, api, alen);
    sms_buf_adds(&url, "/v1/Account/");
    sms_buf_add_urlenc(&url, id);
    sms_buf_adds(&url, "/Message/");

    cJSON *j = cJSON_CreateObject();
    int ok = j && cJSON_AddStringToObject(j, "src", no_plus(req->from)) &&
             cJSON_AddStringToObject(j, "dst", no_plus(req->to));
    if (ok && has_text)
        ok = cJSON_AddStringToObject(j, "text", req->text) != NULL;
    if (ok && req->n_media > 0) {
        ok = cJSON_AddStringToObject(j, "type", "mms") != NULL;
        cJSON *arr = ok ? cJSON_AddArrayToObject(j, "media_urls") : NULL;
        ok = arr != NULL;
        for (size_t i = 0; ok && i < req->n_media; i++) {
            cJSON *s = cJSON_CreateString(req->media[i]);
            ok = s && cJSON_AddItemToArray(arr, s);
            if (!ok)
                cJSON_Delete(s);
        }
    }
    if (ok && req->status_url && *req->status_url)
        ok = cJSON_AddStringToObject(j, "url", req->status_url) &&
             cJSON_AddStringToObject(j, "method", "POST");

    out->method = strdup("POST");
    out->url = sms_buf_take(&url, NULL);
    out->body = ok ? cJSON_PrintUnformatted(j) : NULL;
    out->body_len = out->body ? strlen(out->body) : 0;
    cJSON_Delete(j);
    out->headers[0] = sms_basic_auth_header(id, token);
    out->headers[1] = strdup("Content-Type: application/json");
    out->headers[2] = strdup("Accept: application/json");
    out->n_headers = 3;
    if (!out->method || !out->url || !out->body || !out->headers[0] || !out->headers[1] ||
        !out->headers[2])
        return fail(out, err, errlen, "plivo: out of memory");
    return 0;
}

static int has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* Plivo's synchronous errors carry no code, only a text: classify it. */
static enum tr_cond error_cond(const char *msg, int *misconfigured)
{
    char low[256];
    size_t i = 0;
    for (; msg[i] && i < sizeof(low) - 1; i++)
        low[i] = (char)tolower((unsigned char)msg[i]);
    low[i] = 0;
    *misconfigured = 0;
    if (has(low, "credential") || has(low, "authenticat") || has(low, "unauthori") ||
        has(low, "insufficient") || has(low, "credit") || has(low, "balance")) {
        *misconfigured = 1;
        return TR_COND_INTERNAL_SERVER_ERROR;
    }
    if (has(low, "stop") || has(low, "opted") || has(low, "opt-out") || has(low, "opt out") ||
        has(low, "unsubscrib") || has(low, "block") || has(low, "barred") ||
        has(low, "blacklist") || has(low, "permission") || has(low, "prohibit") ||
        has(low, "not permitted"))
        return TR_COND_FORBIDDEN;
    if (has(low, "spam") || has(low, "filter"))
        return TR_COND_NOT_ACCEPTABLE;
    if (has(low, "dst") || has(low, "destination"))
        return TR_COND_ITEM_NOT_FOUND;
    if (has(low, "too long") || has(low, "exceed") || has(low, "length"))
        return TR_COND_NOT_ACCEPTABLE;
    return TR_COND_BAD_REQUEST;
}

static void plivo_parse_send(const struct sms_cfg *cfg, int http_status, const char *retry_after,
                             const char *body, size_t body_len, struct sms_send_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof(*res));
    cJSON *j = body && body_len ? cJSON_ParseWithLength(body, body_len) : NULL;
    const cJSON *o = cJSON_IsObject(j) ? j : NULL;

    if (http_status >= 200 && http_status < 300) {
        /* Accepted even if the id cannot be read: never send twice. */
        res->outcome = SMS_ACCEPTED;
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "message_uuid");
        const cJSON *id = cJSON_IsArray(ids) ? cJSON_GetArrayItem(ids, 0) : ids;
        if (cJSON_IsString(id) && id->valuestring) {
            const char *s = id->valuestring;
            size_t n = strlen(s), k = 0;
            while (k < n && s[k] > 0x20 && s[k] < 0x7F)
                k++;
            if (n > 0 && k == n && n < sizeof(res->provider_id))
                memcpy(res->provider_id, s, n + 1);
        }
        cJSON_Delete(j);
        return;
    }

    /* {"api_id":"…","error":"…"}; the error may also be an object. */
    char msg[200] = "", text[512];
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (cJSON_IsString(e) && e->valuestring) {
        snprintf(msg, sizeof(msg), "%s", e->valuestring);
    } else if (e) {
        char *s = cJSON_PrintUnformatted(e);
        if (s)
            snprintf(msg, sizeof(msg), "%s", s);
        free(s);
    }
    cJSON_Delete(j);
    int misconfigured = 0;
    enum tr_cond cond = error_cond(msg, &misconfigured);

    res->retry_after = sms_retry_after(retry_after, RETRY_AFTER_MAX);
    if (http_status == 0) {
        res->outcome = SMS_TRANSIENT;
        res->cond = TR_COND_REMOTE_SERVER_TIMEOUT;
        snprintf(text, sizeof(text), "no answer from Plivo (timeout or connection failure)");
    } else if (http_status == 429) {
        res->outcome = SMS_TRANSIENT;
        res->cond = TR_COND_RESOURCE_CONSTRAINT;
        snprintf(text, sizeof(text), "Plivo is throttling the gateway (HTTP 429: %s)", msg);
    } else if (http_status >= 500 || http_status == 408) {
        res->outcome = SMS_TRANSIENT;
        res->cond = TR_COND_SERVICE_UNAVAILABLE;
        snprintf(text, sizeof(text), "Plivo is unavailable (HTTP %d: %s)", http_status, msg);
    } else if (http_status == 401 || http_status == 403 || http_status == 404 || misconfigured) {
        res->outcome = SMS_PERMANENT;
        res->cond = TR_COND_INTERNAL_SERVER_ERROR;
        snprintf(text, sizeof(text),
                 "the SMS gateway is misconfigured: Plivo refused its account settings "
                 "(Plivo error, HTTP %d: %s)",
                 http_status, *msg ? msg : "no message");
    } else if (http_status >= 400 && http_status < 500) {
        res->outcome = SMS_PERMANENT;
        res->cond = cond;
        snprintf(text, sizeof(text), "Plivo error (HTTP %d): %s", http_status,
                 *msg ? msg : "no message");
    } else {
        res->outcome = SMS_PERMANENT;
        res->cond = TR_COND_INTERNAL_SERVER_ERROR;
        snprintf(text, sizeof(text),
                 "the SMS gateway is misconfigured: unexpected HTTP %d from the Plivo API URL",
                 http_status);
    }
    sms_clean_text(res->text, sizeof(res->text), text);
}

static const char *const plivo_required[] = {"auth_id", "auth_token", NULL};
static const char *const plivo_optional[] = {NULL};

const struct sms_provider sms_plivo = {
    .name = "plivo",
    .required_keys = plivo_required,
    .optional_keys = plivo_optional,
    .mms = 1,
    .dlr = 1,
    .build_send = plivo_build_send,
    .parse_send = plivo_parse_send,
    .verify = sms_plivo_verify,
    .parse_webhook = sms_plivo_parse_webhook,
    .ok_status = 200,
    .ok_content_type = "text/plain",
    .ok_body = "",
};
