/* Bandwidth Messaging v2: sending (sheet b.5).
 *
 * POST {api_url}/api/v2/users/{account_id}/messages with HTTP Basic auth and
 * a JSON body; 202 + `id` when accepted, 4xx/5xx `{type, description}`
 * otherwise.  Callbacks (verify, parse) are in bandwidth_hook.c. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"

#define BANDWIDTH_DEFAULT_API "https://messaging.bandwidth.com"

/* bandwidth_hook.c */
int sms_bandwidth_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_bandwidth_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                                struct sms_events *out, char *err, size_t errlen);

static const char *const required_keys[] = {
    "account_id",    "username",          "password", "application_id",
    "callback_user", "callback_password", NULL};
static const char *const optional_keys[] = {NULL};

static int bandwidth_build_send(const struct sms_cfg *cfg, const struct sms_send_req *req,
                                struct sms_http_req *out, char *err, size_t errlen)
{
    const char *account = cfg->get(cfg, "account_id");
    const char *user = cfg->get(cfg, "username");
    const char *pass = cfg->get(cfg, "password");
    const char *app = cfg->get(cfg, "application_id");
    const char *base = cfg->get(cfg, "api_url");
    memset(out, 0, sizeof(*out));
    if (!account || !*account || !user || !*user || !pass || !app || !*app) {
        snprintf(err, errlen,
                 "bandwidth: account_id, username, password and application_id are required");
        return -1;
    }
    if (!req->from || !req->to || (!req->text && req->n_media == 0)) {
        snprintf(err, errlen, "bandwidth: from, to and text or media are required");
        return -1;
    }
    if (!base || !*base)
        base = BANDWIDTH_DEFAULT_API;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;

    struct sms_buf url = {0};
    sms_buf_add(&url, base, blen);
    sms_buf_adds(&url, "/api/v2/users/");
    sms_buf_add_urlenc(&url, account);
    sms_buf_adds(&url, "/messages");

    /* Field order as in the sheet's example; `to` is an array of one (more
     * would make a group MMS). */
    cJSON *root = cJSON_CreateObject();
    cJSON *to = cJSON_CreateArray();
    int ok = root && to && cJSON_AddStringToObject(root, "applicationId", app) &&
             cJSON_AddItemToArray(to, cJSON_CreateString(req->to));
    if (ok && cJSON_AddItemToObject(root, "to", to))
        to = NULL; /* owned by root now */
    else
        ok = 0;
    cJSON_Delete(to);
    ok = ok && cJSON_AddStringToObject(root, "from", req->from);
    if (ok && req->text && (*req->text || req->n_media == 0))
        ok = cJSON_AddStringToObject(root, "text", req->text) != NULL;
    if (ok && req->n_media > 0) {
        cJSON *media = cJSON_AddArrayToObject(root, "media");
        ok = media != NULL;
        for (size_t i = 0; ok && i < req->n_media; i++)
            if (req->media[i] && *req->media[i])
                ok = cJSON_AddItemToArray(media, cJSON_CreateString(req->media[i]));
    }
    if (ok && req->ref && *req->ref)
        ok = cJSON_AddStringToObject(root, "tag", req->ref) != NULL;
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);

    out->method = strdup("POST");
    out->url = sms_buf_take(&url, NULL);
    out->headers[out->n_headers++] = sms_basic_auth_header(user, pass);
    out->headers[out->n_headers++] = strdup("Content-Type: application/json; charset=utf-8");
    out->headers[out->n_headers++] = strdup("Accept: application/json");
    out->body = json;
    out->body_len = json ? strlen(json) : 0;
    if (!out->method || !out->url || !out->headers[0] || !out->headers[1] || !out->headers[2] ||
        !out->body) {
        sms_http_req_clear(out);
        snprintf(err, errlen, "bandwidth: out of memory");
        return -1;
    }
    return 0;
}

/* ---- Answer classification ------------------------------------------------ */

static const char *jstring(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : NULL;
}

static void bandwidth_parse_send(const struct sms_cfg *cfg, int http_status,
                                 const char *retry_after, const char *body, size_t body_len,
                                 struct sms_send_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof(*res));
    res->cond = TR_COND_UNDEFINED;
    if (http_status == 0 || http_status == 429 || http_status >= 500) {
        /* 429 max-message-queue-size-exceeded: the account queue is full */
        res->outcome = SMS_TRANSIENT;
        res->retry_after = sms_retry_after(retry_after, 3600);
        return;
    }
    cJSON *root = body && body_len ? cJSON_ParseWithLength(body, body_len) : NULL;
    if (http_status >= 200 && http_status < 300) {
        /* 202 + id; an unreadable 2xx is still accepted (never send twice) */
        res->outcome = SMS_ACCEPTED;
        const char *id = jstring(root, "id");
        if (id)
            snprintf(res->provider_id, sizeof(res->provider_id), "%s", id);
        cJSON_Delete(root);
        return;
    }

    res->outcome = SMS_PERMANENT;
    const char *type = jstring(root, "type");
    const char *desc = jstring(root, "description");
    /* the first field error names the culprit ("to", "from", "text", ...) */
    const char *field = NULL, *fdesc = NULL;
    const cJSON *fe = cJSON_GetObjectItemCaseSensitive(root, "fieldErrors");
    const cJSON *first = cJSON_IsArray(fe) ? cJSON_GetArrayItem(fe, 0) : NULL;
    if (cJSON_IsObject(first)) {
        field = jstring(first, "fieldName");
        fdesc = jstring(first, "description");
    }
    char detail[160] = "";
    if (field)
        snprintf(detail, sizeof(detail), " (%s: %s)", field, fdesc ? fdesc : "invalid");

    const char *misconfig = "";
    if (http_status == 401 || http_status == 403 || http_status == 404 || http_status == 415 ||
        (field && strcmp(field, "applicationId") == 0)) {
        /* credentials, account/application or our own request format */
        res->cond = TR_COND_INTERNAL_SERVER_ERROR;
        misconfig = "SMS gateway misconfigured: ";
    } else if (field && strcmp(field, "to") == 0) {
        res->cond = TR_COND_ITEM_NOT_FOUND;
    } else if (field && (strcmp(field, "text") == 0 || strcmp(field, "media") == 0)) {
        res->cond = TR_COND_NOT_ACCEPTABLE;
    } else {
        res->cond = TR_COND_BAD_REQUEST;
    }
    sms_textf(res->text, sizeof(res->text), "%sBandwidth HTTP %d %s: %s%s", misconfig, http_status,
              type ? type : "error", desc ? desc : "request rejected", detail);
    cJSON_Delete(root);
}

const struct sms_provider sms_bandwidth = {
    .name = "bandwidth",
    .required_keys = required_keys,
    .optional_keys = optional_keys,
    .mms = 1,
    .dlr = 1,
    .build_send = bandwidth_build_send,
    .parse_send = bandwidth_parse_send,
    .verify = sms_bandwidth_verify,
    .parse_webhook = sms_bandwidth_parse_webhook,
    .ok_status = 200,
    .ok_content_type = "text/plain",
    .ok_body = "",
};
