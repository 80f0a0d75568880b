/* Vonage (Nexmo) SMS API: sending (sheet b.2).
 *
 * POST {api_url}/sms/json, form-encoded, credentials as api_key/api_secret
 * fields.  The answer is always HTTP 200 with one `messages[]` entry per
 * part; the outcome lives in each entry's `status`.  Webhooks (verify,
 * parse) are in vonage_hook.c. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"

#define VONAGE_DEFAULT_API "https://rest.nexmo.com"

/* vonage_hook.c */
int sms_vonage_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_vonage_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen);

static const char *const required_keys[] = {"api_key", "api_secret", NULL};
static const char *const optional_keys[] = {"signature_secret", "signature_method", NULL};

/* Vonage wants numbers as digits without the leading '+'. */
static const char *no_plus(const char *num)
{
    return num[0] == '+' ? num + 1 : num;
}

static int vonage_build_send(const struct sms_cfg *cfg, const struct sms_send_req *req,
                             struct sms_http_req *out, char *err, size_t errlen)
{
    const char *key = cfg->get(cfg, "api_key");
    const char *secret = cfg->get(cfg, "api_secret");
    const char *base = cfg->get(cfg, "api_url");
    memset(out, 0, sizeof(*out));
    if (!key || !*key || !secret || !*secret) {
        snprintf(err, errlen, "vonage: api_key and api_secret are required");
        return -1;
    }
    if (!req->from || !req->to || !req->text) {
        snprintf(err, errlen, "vonage: from, to and text are required");
        return -1;
    }
    if (!base || !*base)
        base = VONAGE_DEFAULT_API;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;

    /* The SMS API has no MMS (mms = 0): media URLs the transport still
     * passes are appended to the text, one per line, so nothing is lost. */
    struct sms_buf text = {0};
    sms_buf_adds(&text, req->text);
    for (size_t i = 0; i < req->n_media; i++) {
        if (!req->media[i] || !*req->media[i])
            continue;
        if (text.len)
            sms_buf_adds(&text, "\n");
        sms_buf_adds(&text, req->media[i]);
    }
    char *t = sms_buf_take(&text, NULL);

    struct sms_buf url = {0}, body = {0};
    sms_buf_add(&url, base, blen);
    sms_buf_adds(&url, "/sms/json");
    sms_buf_add_param(&body, "api_key", key);
    sms_buf_add_param(&body, "api_secret", secret);
    sms_buf_add_param(&body, "from", no_plus(req->from));
    sms_buf_add_param(&body, "to", no_plus(req->to));
    sms_buf_add_param(&body, "text", t ? t : "");
    if (req->unicode)
        sms_buf_add_param(&body, "type", "unicode");
    if (req->ref && *req->ref)
        sms_buf_add_param(&body, "client-ref", req->ref);
    if (req->status_url && *req->status_url) {
        sms_buf_add_param(&body, "status-report-req", "1");
        sms_buf_add_param(&body, "callback", req->status_url);
    }
    free(t);
    out->method = strdup("POST");
    out->url = sms_buf_take(&url, NULL);
    out->headers[out->n_headers++] = strdup("Content-Type: application/x-www-form-urlencoded");
    out->headers[out->n_headers++] = strdup("Accept: application/json");
    out->body = sms_buf_take(&body, &out->body_len);
    if (!t || !out->method || !out->url || !out->headers[0] || !out->headers[1] || !out->body) {
        sms_http_req_clear(out);
        snprintf(err, errlen, "vonage: out of memory");
        return -1;
    }
    return 0;
}

/* ---- Answer classification ------------------------------------------------ */

enum vclass { V_OK, V_TRANSIENT, V_PERMANENT };
struct vstatus {
    int code;
    enum vclass cls;
    enum tr_cond cond;
    int misconfig; /* the gateway's own settings/account are at fault */
};

/* Sheet b.2 status codes. */
static const struct vstatus vstatus_map[] = {
    {0, V_OK, TR_COND_UNDEFINED, 0},
    {1, V_TRANSIENT, TR_COND_RESOURCE_CONSTRAINT, 0},    /* throttled */
    {2, V_PERMANENT, TR_COND_BAD_REQUEST, 0},            /* missing params */
    {3, V_PERMANENT, TR_COND_BAD_REQUEST, 0},            /* invalid params */
    {4, V_PERMANENT, TR_COND_INTERNAL_SERVER_ERROR, 1},  /* invalid credentials */
    {5, V_TRANSIENT, TR_COND_INTERNAL_SERVER_ERROR, 0},  /* internal error */
    {6, V_PERMANENT, TR_COND_ITEM_NOT_FOUND, 0},         /* invalid message/prefix */
    {7, V_PERMANENT, TR_COND_FORBIDDEN, 0},              /* number barred */
    {8, V_PERMANENT, TR_COND_INTERNAL_SERVER_ERROR, 1},  /* partner account barred */
    {9, V_PERMANENT, TR_COND_RESOURCE_CONSTRAINT, 0},    /* quota/credit */
    {10, V_TRANSIENT, TR_COND_RESOURCE_CONSTRAINT, 0},   /* too many binds */
    {11, V_PERMANENT, TR_COND_INTERNAL_SERVER_ERROR, 1}, /* account not enabled for HTTP */
    {12, V_PERMANENT, TR_COND_NOT_ACCEPTABLE, 0},        /* message too long */
    {14, V_PERMANENT, TR_COND_INTERNAL_SERVER_ERROR, 1}, /* invalid signature */
    {15, V_PERMANENT, TR_COND_BAD_REQUEST, 0},           /* invalid sender address */
    {22, V_PERMANENT, TR_COND_BAD_REQUEST, 0},           /* invalid network code */
    {23, V_PERMANENT, TR_COND_INTERNAL_SERVER_ERROR, 1}, /* invalid callback URL */
    {29, V_PERMANENT, TR_COND_FORBIDDEN, 0},             /* non-whitelisted destination */
    {32, V_PERMANENT, TR_COND_INTERNAL_SERVER_ERROR, 1}, /* signature and secret disallowed */
    {33, V_PERMANENT, TR_COND_FORBIDDEN, 0},             /* number de-activated */
};

static const struct vstatus *vstatus_find(int code)
{
    for (size_t i = 0; i < sizeof(vstatus_map) / sizeof(vstatus_map[0]); i++)
        if (vstatus_map[i].code == code)
            return &vstatus_map[i];
    return NULL;
}

/* A JSON string (or number) member as text in buf; NULL when absent. */
static const char *jstr(const cJSON *obj, const char *name, char *buf, size_t n)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsString(it) && it->valuestring)
        return it->valuestring;
    if (cJSON_IsNumber(it)) {
        snprintf(buf, n, "%.0f", it->valuedouble);
        return buf;
    }
    return NULL;
}

/* Parses a status code made only of digits; -1 otherwise. */
static int status_code(const char *s)
{
    if (!s || !*s || strlen(s) > 6)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return atoi(s);
}

static void vonage_parse_send(const struct sms_cfg *cfg, int http_status, const char *retry_after,
                              const char *body, size_t body_len, struct sms_send_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof(*res));
    res->cond = TR_COND_UNDEFINED;
    if (http_status == 0 || http_status == 429 || http_status >= 500) {
        res->outcome = SMS_TRANSIENT;
        res->retry_after = sms_retry_after(retry_after, 3600);
        return;
    }
    if (http_status == 401 || http_status == 403) {
        res->outcome = SMS_PERMANENT;
        res->cond = TR_COND_INTERNAL_SERVER_ERROR;
        sms_textf(res->text, sizeof(res->text),
                  "SMS gateway misconfigured: Vonage refused its credentials (HTTP %d)",
                  http_status);
        return;
    }
    if (http_status < 200 || http_status >= 300) {
        res->outcome = SMS_PERMANENT;
        res->cond = TR_COND_BAD_REQUEST;
        sms_textf(res->text, sizeof(res->text), "Vonage rejected the message (HTTP %d)",
                  http_status);
        return;
    }

    /* 2xx: Vonage answers 200 even for errors; the parts' statuses decide.
     * An unreadable 200 is taken as accepted (never send twice). */
    res->outcome = SMS_ACCEPTED;
    cJSON *root = body ? cJSON_ParseWithLength(body, body_len) : NULL;
    const cJSON *msgs = root ? cJSON_GetObjectItemCaseSensitive(root, "messages") : NULL;
    int nparts = cJSON_IsArray(msgs) ? cJSON_GetArraySize(msgs) : 0;
    int part = 0;
    if (!cJSON_IsArray(msgs))
        msgs = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        part++;
        char nb[32], sb[32];
        const char *st = jstr(m, "status", sb, sizeof(sb));
        int code = status_code(st);
        if (!st || code == 0) { /* no status at all: a 200 is taken as accepted */
            const char *id = jstr(m, "message-id", nb, sizeof(nb));
            if (part == 1 && id)
                snprintf(res->provider_id, sizeof(res->provider_id), "%s", id);
            continue;
        }
        /* The first part that was not accepted decides the outcome. */
        const struct vstatus *vs = vstatus_find(code);
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(m, "error-text");
        const char *etext = cJSON_IsString(et) && et->valuestring ? et->valuestring : "";
        char partinfo[48] = "";
        if (nparts > 1)
            snprintf(partinfo, sizeof(partinfo), " (part %d of %d)", part, nparts);
        res->provider_id[0] = 0;
        if (vs && vs->cls == V_TRANSIENT) {
            res->outcome = SMS_TRANSIENT;
            res->retry_after = sms_retry_after(retry_after, 3600);
            res->cond = vs->cond;
            sms_textf(res->text, sizeof(res->text), "Vonage status %d: %s%s", code, etext,
                      partinfo);
            break;
        }
        res->outcome = SMS_PERMANENT;
        res->cond = vs ? vs->cond : TR_COND_UNDEFINED;
        if (vs && vs->misconfig)
            sms_textf(res->text, sizeof(res->text),
                      "SMS gateway misconfigured: Vonage status %d: %s%s", code, etext, partinfo);
        else if (code == 9)
            sms_textf(res->text, sizeof(res->text),
                      "The SMS gateway's account is out of credit (Vonage status 9: %s)%s", etext,
                      partinfo);
        else
            sms_textf(res->text, sizeof(res->text), "Vonage status %s: %s%s", st ? st : "(none)",
                      etext, partinfo);
        break;
    }
    cJSON_Delete(root);
}

const struct sms_provider sms_vonage = {
    .name = "vonage",
    .required_keys = required_keys,
    .optional_keys = optional_keys,
    .mms = 0,
    .dlr = 1,
    .build_send = vonage_build_send,
    .parse_send = vonage_parse_send,
    .verify = sms_vonage_verify,
    .parse_webhook = sms_vonage_parse_webhook,
    .ok_status = 200,
    .ok_content_type = "text/plain",
    .ok_body = "",
};
