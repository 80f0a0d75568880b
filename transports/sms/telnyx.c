/* Telnyx Messaging v2 provider: sending (reference sheet b.3) and webhook
 * verification (c.3).  Webhook parsing is in telnyx_hook.c.
 *
 * Send: POST {api_url|https://api.telnyx.com}/v2/messages with
 * "Authorization: Bearer <api_key>" and a JSON body
 *   {from, to, text, media_urls?, messaging_profile_id?, webhook_url?}
 * where webhook_url is the transport's status URL (it already carries
 * "?ref=<ref>", so message.sent / message.finalized come back to a URL
 * that names our message).  200 + data.id: accepted.  Errors are
 * {"errors":[{code,title,detail,source:{pointer}}]}.
 *
 * Verify: Ed25519 (public_key = base64 of the raw 32-byte key) over
 * "<telnyx-timestamp>|<raw body>", signature in telnyx-signature-ed25519
 * (base64 of 64 bytes), |now - timestamp| <= 300 s. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"

#define TELNYX_DEFAULT_API "https://api.telnyx.com"
#define TELNYX_MAX_SKEW 300
#define TELNYX_MAX_RETRY_AFTER 3600

/* Shared with telnyx_hook.c (no private header: one provider, two files). */
int sms_telnyx_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen);
int sms_telnyx_code_cond(const char *code, enum tr_cond *cond);
void sms_telnyx_textf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *sms_telnyx_error_code(const cJSON *e, char *buf, size_t buflen);
char *sms_telnyx_u8dup(const char *s, size_t *out_len);
int sms_telnyx_describe(const cJSON *e, char *out, size_t outlen);

static const char *const telnyx_required[] = {"api_key", "public_key", NULL};
static const char *const telnyx_optional[] = {"messaging_profile_id", NULL};

static const char *telnyx_cfg(const struct sms_cfg *cfg, const char *key)
{
    const char *v = cfg && cfg->get ? cfg->get(cfg, key) : NULL;
    return v && *v ? v : NULL;
}

/* ---- Text helpers (also used by telnyx_hook.c) ----------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left): > 0; 0 when the
 * bytes are invalid; -1 when they are a valid but truncated prefix. */
static int telnyx_u8len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    int len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
            return 0;
    }
    return len;
}

/* printf into out, then make it one line of valid UTF-8: control
 * characters become spaces, invalid bytes '?', a sequence cut by the
 * truncation is dropped. */
void sms_telnyx_textf(char *out, size_t outlen, const char *fmt, ...)
{
    if (!outlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    size_t n = strlen(out);
    for (size_t i = 0; i < n;) {
        unsigned char *p = (unsigned char *)out + i;
        int l = telnyx_u8len(p, n - i);
        if (l < 0) {
            out[i] = 0;
            break;
        }
        if (l == 0 || *p < 0x20 || *p == 0x7f) {
            *p = l == 0 ? '?' : ' ';
            l = 1;
        }
        i += (size_t)l;
    }
}

/* Copy of s with every invalid UTF-8 byte replaced by U+FFFD (inbound
 * text must be UTF-8; the transport sanitises controls).  NULL: no memory. */
char *sms_telnyx_u8dup(const char *s, size_t *out_len)
{
    size_t n = strlen(s);
    struct sms_buf b = {0};
    sms_buf_add(&b, "", 0);
    for (size_t i = 0; i < n;) {
        int l = telnyx_u8len((const unsigned char *)s + i, n - i);
        if (l > 0) {
            sms_buf_add(&b, s + i, (size_t)l);
            i += (size_t)l;
        } else {
            sms_buf_add(&b, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
    return sms_buf_take(&b, out_len);
}

/* errors[i].code as a string (Telnyx sends strings; numbers accepted). */
const char *sms_telnyx_error_code(const cJSON *e, char *buf, size_t buflen)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    if (cJSON_IsString(c) && c->valuestring)
        return c->valuestring;
    if (cJSON_IsNumber(c)) {
        snprintf(buf, buflen, "%.0f", c->valuedouble);
        return buf;
    }
    return NULL;
}

/* Condition for a Telnyx error code (request-time and message.finalized
 * codes of sheet b.3).  Returns 0, or -1 when the code is not known. */
int sms_telnyx_code_cond(const char *code, enum tr_cond *cond)
{
    static const struct {
        const char *code;
        enum tr_cond cond;
    } map[] = {
        {"40310", TR_COND_ITEM_NOT_FOUND},        /* invalid 'to' address */
        {"10016", TR_COND_BAD_REQUEST},           /* must be +E.164 */
        {"40305", TR_COND_BAD_REQUEST},           /* invalid 'from' address */
        {"40300", TR_COND_FORBIDDEN},             /* recipient opted out (STOP) */
        {"10009", TR_COND_INTERNAL_SERVER_ERROR}, /* authentication failed */
        {"10011", TR_COND_RESOURCE_CONSTRAINT},   /* too many requests */
        {"40001", TR_COND_ITEM_NOT_FOUND},        /* not routable / landline */
        {"40002", TR_COND_NOT_ACCEPTABLE},        /* blocked as spam (temporary) */
        {"40003", TR_COND_NOT_ACCEPTABLE},        /* blocked as spam (permanent) */
        {"40004", TR_COND_FORBIDDEN},             /* rejected by destination */
        {"40005", TR_COND_RECIPIENT_UNAVAILABLE}, /* expired */
        {"40006", TR_COND_RECIPIENT_UNAVAILABLE}, /* recipient unavailable */
        {"40008", TR_COND_RECIPIENT_UNAVAILABLE}, /* undeliverable */
        {"40009", TR_COND_NOT_ACCEPTABLE},        /* invalid message body */
        {"40011", TR_COND_RESOURCE_CONSTRAINT},   /* rate limit */
    };
    if (!code)
        return -1;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].code, code) == 0) {
            *cond = map[i].cond;
            return 0;
        }
    }
    return -1;
}

/* ---- Send --------------------------------------------------------------- */

static int telnyx_header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int telnyx_add_str(cJSON *o, const char *name, const char *value)
{
    return cJSON_AddStringToObject(o, name, value) != NULL;
}

static char *telnyx_send_body(const struct sms_cfg *cfg, const struct sms_send_req *req,
                              size_t *len)
{
    const char *profile = telnyx_cfg(cfg, "messaging_profile_id");
    cJSON *o = cJSON_CreateObject();
    int ok = o && telnyx_add_str(o, "from", req->from) && telnyx_add_str(o, "to", req->to);
    /* An MMS with no caption carries no "text" (Telnyx wants text or media_urls). */
    const char *text = req->text ? req->text : "";
    if (ok && (*text || !req->n_media))
        ok = telnyx_add_str(o, "text", text);
    if (ok && req->n_media) {
        cJSON *arr = cJSON_AddArrayToObject(o, "media_urls");
        ok = arr != NULL;
        for (size_t i = 0; ok && i < req->n_media; i++) {
            cJSON *s = cJSON_CreateString(req->media[i]);
            ok = s && cJSON_AddItemToArray(arr, s);
            if (!ok)
                cJSON_Delete(s);
        }
    }
    if (ok && profile)
        ok = telnyx_add_str(o, "messaging_profile_id", profile);
    if (ok && req->status_url)
        ok = telnyx_add_str(o, "webhook_url", req->status_url);
    char *printed = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    char *body = printed ? strdup(printed) : NULL;
    cJSON_free(printed);
    if (body)
        *len = strlen(body);
    return body;
}

static int telnyx_build_send(const struct sms_cfg *cfg, const struct sms_send_req *req,
                             struct sms_http_req *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *key = telnyx_cfg(cfg, "api_key");
    const char *base = telnyx_cfg(cfg, "api_url");
    if (!key || !telnyx_header_safe(key)) {
        snprintf(err, errlen, "api_key: %s", key ? "contains control characters" : "not set");
        return -1;
    }
    if (!req || !req->from || !req->to || (req->n_media && !req->media)) {
        snprintf(err, errlen, "telnyx: incomplete send request");
        return -1;
    }
    for (size_t i = 0; i < req->n_media; i++) {
        if (!req->media[i]) {
            snprintf(err, errlen, "telnyx: missing media URL");
            return -1;
        }
    }
    if (!base)
        base = TELNYX_DEFAULT_API;
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;

    struct sms_buf url = {0}, auth = {0};
    sms_buf_add(&url, base, blen);
    sms_buf_adds(&url, "/v2/messages");
    sms_buf_addf(&auth, "Authorization: Bearer %s", key);
    out->method = strdup("POST");
    out->url = sms_buf_take(&url, NULL);
    out->headers[0] = sms_buf_take(&auth, NULL);
    out->headers[1] = strdup("Content-Type: application/json");
    out->headers[2] = strdup("Accept: application/json");
    out->n_headers = 3;
    out->body = telnyx_send_body(cfg, req, &out->body_len);
    if (!out->method || !out->url || !out->headers[0] || !out->headers[1] || !out->headers[2] ||
        !out->body) {
        sms_http_req_clear(out);
        snprintf(err, errlen, "telnyx: out of memory");
        return -1;
    }
    return 0;
}

static const cJSON *telnyx_first_error(const cJSON *root)
{
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "errors");
    const cJSON *e = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
    return cJSON_IsObject(e) ? e : NULL;
}

static const char *telnyx_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* An error object as "40310 Invalid 'to' address: The 'to' address ...".
 * Returns 0, or -1 (out empty) when it has no code, title or detail. */
int sms_telnyx_describe(const cJSON *e, char *out, size_t outlen)
{
    char nbuf[32];
    const char *code = sms_telnyx_error_code(e, nbuf, sizeof(nbuf));
    const char *title = telnyx_str(e, "title");
    const char *detail = telnyx_str(e, "detail");
    if (detail && title && strcmp(detail, title) == 0)
        detail = NULL;
    if (!code && !title && !detail) {
        if (outlen)
            out[0] = 0;
        return -1;
    }
    snprintf(out, outlen, "%s%s%s%s%s", code ? code : "", code && (title || detail) ? " " : "",
             title ? title : "", title && detail ? ": " : "", detail ? detail : "");
    return 0;
}

static void telnyx_parse_send(const struct sms_cfg *cfg, int http_status, const char *retry_after,
                              const char *body, size_t body_len, struct sms_send_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof(*res));
    res->cond = TR_COND_UNDEFINED;
    res->retry_after = sms_retry_after(retry_after, TELNYX_MAX_RETRY_AFTER);
    if (http_status == 0) {
        res->outcome = SMS_TRANSIENT;
        sms_telnyx_textf(res->text, sizeof(res->text), "Telnyx did not answer");
        return;
    }
    cJSON *root = body && body_len ? cJSON_ParseWithLength(body, body_len) : NULL;
    if (http_status >= 200 && http_status < 300) {
        /* Accepted, even when the id cannot be read: never send twice. */
        res->outcome = SMS_ACCEPTED;
        res->retry_after = 0;
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        const char *id = telnyx_str(data, "id");
        size_t n = id ? strlen(id) : 0;
        int ok = n > 0 && n < sizeof(res->provider_id);
        for (size_t i = 0; ok && i < n; i++)
            ok = id[i] > 0x20 && id[i] < 0x7f;
        if (ok)
            memcpy(res->provider_id, id, n + 1);
        cJSON_Delete(root);
        return;
    }

    const cJSON *e = telnyx_first_error(root);
    char nbuf[32], what[320];
    const char *code = e ? sms_telnyx_error_code(e, nbuf, sizeof(nbuf)) : NULL;
    enum tr_cond cond = TR_COND_BAD_REQUEST;
    int known = sms_telnyx_code_cond(code, &cond) == 0;
    if (!e || sms_telnyx_describe(e, what, sizeof(what)) < 0)
        snprintf(what, sizeof(what), "HTTP %d", http_status);

    if (http_status == 429 || http_status == 408 || http_status >= 500 || http_status < 400 ||
        (known && cond == TR_COND_RESOURCE_CONSTRAINT)) {
        res->outcome = SMS_TRANSIENT;
        sms_telnyx_textf(res->text, sizeof(res->text), "Telnyx: %s", what);
        cJSON_Delete(root);
        return;
    }
    res->outcome = SMS_PERMANENT;
    res->retry_after = 0;
    if (!known) {
        /* Unknown code: classify by HTTP status.  401/403/404 without a
         * known code mean our key, account or api_url is wrong. */
        if (http_status == 401 || http_status == 403 || http_status == 404 || http_status == 405)
            cond = TR_COND_INTERNAL_SERVER_ERROR;
        else if (http_status == 413)
            cond = TR_COND_NOT_ACCEPTABLE;
        else
            cond = TR_COND_BAD_REQUEST;
    }
    res->cond = cond;
    if (cond == TR_COND_INTERNAL_SERVER_ERROR)
        sms_telnyx_textf(res->text, sizeof(res->text),
                         "SMS gateway misconfigured: Telnyx refused the request (%s)", what);
    else
        sms_telnyx_textf(res->text, sizeof(res->text), "Telnyx error %s", what);
    cJSON_Delete(root);
}

/* ---- Webhook authentication (c.3) ------------------------------------------ */

static int telnyx_parse_ts(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 15)
            return -1;
        v = v * 10 + (s[n] - '0');
    }
    if (!n)
        return -1;
    *out = v;
    return 0;
}

static int telnyx_verify(const struct sms_cfg *cfg, const struct sms_webhook *w)
{
    const char *pk64 = telnyx_cfg(cfg, "public_key");
    const char *sig64 = w->header ? w->header(w, "telnyx-signature-ed25519") : NULL;
    const char *ts = w->header ? w->header(w, "telnyx-timestamp") : NULL;
    int64_t t;
    if (!pk64 || !sig64 || !ts || telnyx_parse_ts(ts, &t) < 0)
        return -1;
    if (w->now - t > TELNYX_MAX_SKEW || t - w->now > TELNYX_MAX_SKEW)
        return -1;

    unsigned char *pk = NULL, *sig = NULL;
    size_t pk_len = 0, sig_len = 0;
    int rc = -1;
    if (sms_unbase64(pk64, &pk, &pk_len) == 0 && sms_unbase64(sig64, &sig, &sig_len) == 0 &&
        pk_len == 32 && sig_len == 64) {
        /* The exact bytes signed: header timestamp, '|', raw body. */
        struct sms_buf msg = {0};
        sms_buf_adds(&msg, ts);
        sms_buf_add(&msg, "|", 1);
        if (w->body_len)
            sms_buf_add(&msg, w->body, w->body_len);
        size_t mlen = 0;
        char *m = sms_buf_take(&msg, &mlen);
        if (m)
            rc = sms_ed25519_verify(pk, pk_len, sig, sig_len, m, mlen);
        free(m);
    }
    free(pk);
    free(sig);
    return rc;
}

const struct sms_provider sms_telnyx = {
    .name = "telnyx",
    .required_keys = telnyx_required,
    .optional_keys = telnyx_optional,
    .mms = 1,
    .dlr = 1,
    .build_send = telnyx_build_send,
    .parse_send = telnyx_parse_send,
    .verify = telnyx_verify,
    .parse_webhook = sms_telnyx_parse_webhook,
    /* Telnyx only needs a 2xx, quickly; the body is ignored. */
    .ok_status = 200,
    .ok_content_type = "text/plain",
    .ok_body = "",
};
