/* Kannel (self-hosted): MT through smsbox's /cgi-bin/sendsms (GET, every
 * parameter URL-encoded: a raw '+' would become a space), MO through the
 * sms-service get-url, delivery reports through dlr-url.  Facts from
 * shared/reference/kannel.md: sendsms returns no message id, so reports are
 * correlated by our own ref in dlr-url; Kannel does not sign anything, so
 * the transport's webhook_token and allow_ips authenticate webhooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"
#include "utf8.h"

/* 1 delivered, 2 failed, 8 SMSC accepted, 16 SMSC rejected (never 4: a
 * "buffered" entry stays in Kannel's DLR storage forever). */
#define DLR_MASK "27"

static const char *const required[] = {"api_url", "username", "password", NULL};
static const char *const optional[] = {"smsc", NULL};

static int kannel_build(const struct sms_cfg *cfg, const struct sms_send_req *req,
                        struct sms_http_req *out, char *err, size_t errlen)
{
    const char *base = cfg->get(cfg, "api_url");
    if (!base) {
        snprintf(err, errlen, "api_url (the smsbox sendsms address) is not set");
        return -1;
    }
    if (req->n_media) {
        snprintf(err, errlen, "Kannel cannot send media");
        return -1;
    }
    struct sms_buf q = {0};
    sms_buf_add_param(&q, "username", cfg->get(cfg, "username"));
    sms_buf_add_param(&q, "password", cfg->get(cfg, "password"));
    sms_buf_add_param(&q, "from", req->from);
    sms_buf_add_param(&q, "to", req->to);
    sms_buf_add_param(&q, "text", req->text);
    sms_buf_add_param(&q, "charset", "UTF-8");
    /* Kannel never picks UCS-2 itself: non-GSM text in coding 0 becomes '?'. */
    sms_buf_add_param(&q, "coding", req->unicode ? "2" : "0");
    if (cfg->get(cfg, "smsc"))
        sms_buf_add_param(&q, "smsc", cfg->get(cfg, "smsc"));
    if (req->status_url) {
        struct sms_buf dlr = {0};
        sms_buf_adds(&dlr, req->status_url);
        sms_buf_adds(&dlr, "&event=dlr&type=%d&fid=%F&reply=%A");
        char *d = sms_buf_take(&dlr, NULL);
        sms_buf_add_param(&q, "dlr-mask", DLR_MASK);
        sms_buf_add_param(&q, "dlr-url", d ? d : "");
        free(d);
    }
    char *query = sms_buf_take(&q, NULL);
    struct sms_buf url = {0};
    size_t blen = strlen(base);
    sms_buf_add(&url, base, blen && base[blen - 1] == '/' ? blen - 1 : blen);
    sms_buf_adds(&url, "/cgi-bin/sendsms?");
    sms_buf_adds(&url, query ? query : "");
    free(query);
    out->method = strdup("GET");
    out->url = sms_buf_take(&url, NULL);
    if (!out->method || !out->url) {
        sms_http_req_clear(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void kannel_parse_send(const struct sms_cfg *cfg, int status, const char *retry_after,
                              const char *body, size_t len, struct sms_send_result *res)
{
    (void)cfg, (void)len;
    memset(res, 0, sizeof(*res));
    res->retry_after = sms_retry_after(retry_after, 3600);
    char text[120];
    snprintf(text, sizeof(text), "%s", body ? body : "");
    text[strcspn(text, "\r\n")] = 0;
    if (status == 202 || status == 200) {
        /* "0: Accepted for delivery" or "3: Queued for later delivery" */
        res->outcome = SMS_ACCEPTED;
        return;
    }
    if (status == 0 || status >= 500 || status == 429) {
        res->outcome = SMS_TRANSIENT;
        snprintf(res->text, sizeof(res->text), "Kannel: %s", status ? text : "no answer");
        return;
    }
    res->outcome = SMS_PERMANENT;
    if (status == 403 || status == 404) {
        res->cond = TR_COND_INTERNAL_SERVER_ERROR;
        snprintf(res->text, sizeof(res->text),
                 "The SMS gateway is misconfigured (Kannel answered %d); the operator has been "
                 "told.",
                 status);
    } else if (strstr(text, "white- and/or black-lists") || strstr(text, "receiver")) {
        res->cond = TR_COND_ITEM_NOT_FOUND;
        snprintf(res->text, sizeof(res->text), "Kannel refused the number: %s", text);
    } else {
        res->cond = TR_COND_BAD_REQUEST;
        snprintf(res->text, sizeof(res->text), "Kannel refused the message: %s", text);
    }
}

static int kannel_verify(const struct sms_cfg *cfg, const struct sms_webhook *w)
{
    (void)cfg, (void)w;
    return 0; /* no signature: the transport checks webhook_token and allow_ips */
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* "%p" may be "0015557654321": international prefix 00 -> '+'. */
static char *number_of(const char *raw)
{
    if (!raw)
        return NULL;
    if (raw[0] == '0' && raw[1] == '0') {
        char *n = malloc(strlen(raw));
        if (n) {
            n[0] = '+';
            strcpy(n + 1, raw + 2);
        }
        return n;
    }
    return strdup(raw);
}

/* The MO text as UTF-8: UTF-16BE (mo-recode off) is converted, anything
 * else that is not UTF-8 (8-bit data) is read as Latin-1. */
static char *mo_text(const char *text, size_t len, const char *charset, size_t *out_len)
{
    if (charset && strcmp(charset, "UTF-16BE") == 0) {
        struct sms_buf b = {0};
        for (size_t i = 0; i + 1 < len; i += 2) {
            unsigned cp = ((unsigned char)text[i] << 8) | (unsigned char)text[i + 1];
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < len) {
                unsigned lo = ((unsigned char)text[i + 2] << 8) | (unsigned char)text[i + 3];
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
            char u[4];
            size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (n == 1)
                u[0] = (char)cp;
            else if (n == 2)
                u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F));
            else if (n == 3)
                u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
                u[2] = (char)(0x80 | (cp & 0x3F));
            else
                u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
            sms_buf_add(&b, u, n);
        }
        return sms_buf_take(&b, out_len);
    }
    if (text_is_clean(text, len)) {
        char *t = malloc(len + 1);
        if (t) {
            memcpy(t, text, len);
            t[len] = 0;
            *out_len = len;
        }
        return t;
    }
    return text_from_latin1(text, len, out_len);
}

static int kannel_parse_hook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen)
{
    (void)cfg;
    struct sms_form q;
    if (sms_form_parse(w->query, strlen(w->query), &q) != 0) {
        snprintf(err, errlen, "malformed query string");
        return -1;
    }
    const char *event = sms_form_get(&q, "event");
    int rc = 0;
    struct sms_event *ev = &out->ev[0];
    if (event && strcmp(event, "mo") == 0) {
        /* get-url: everything in the query; post-url: the text is the body
         * and the numbers come in X-Kannel-* headers. */
        int post = strcmp(w->method, "POST") == 0;
        const char *from = post ? w->header(w, "X-Kannel-From") : sms_form_get(&q, "from");
        const char *to = post ? w->header(w, "X-Kannel-To") : sms_form_get(&q, "to");
        const char *text = post ? w->body : sms_form_get(&q, "text");
        size_t tlen = post ? w->body_len : (text ? strlen(text) : 0);
        const char *charset = sms_form_get(&q, "charset");
        if (!from || !to || !text) {
            snprintf(err, errlen, "an MO needs from, to and text");
            rc = -1;
        } else {
            ev->kind = SMS_EV_INBOUND;
            ev->from = number_of(from);
            ev->to = number_of(to);
            ev->text = mo_text(text, tlen, charset, &ev->text_len);
            ev->msg_id = dup_or_null(sms_form_get(&q, "id"));
            out->n = 1;
        }
    } else if (event && strcmp(event, "dlr") == 0) {
        const char *type = sms_form_get(&q, "type");
        int t = type ? atoi(type) : 0;
        ev->kind = SMS_EV_STATUS;
        ev->ref = dup_or_null(sms_form_get(&q, "ref"));
        ev->status = t == 1                ? SMS_ST_DELIVERED
                     : (t == 2 || t == 16) ? SMS_ST_FAILED
                                           : SMS_ST_PROGRESS;
        if (ev->status == SMS_ST_FAILED) {
            const char *reply = sms_form_get(&q, "reply");
            char e[200];
            snprintf(e, sizeof(e), "%s (Kannel report type %d%s%s)",
                     t == 16 ? "the SMS centre rejected it" : "the phone was not reached", t,
                     reply && *reply ? ": " : "", reply ? reply : "");
            ev->error = strdup(e);
            ev->cond = t == 16 ? TR_COND_NOT_ACCEPTABLE : TR_COND_RECIPIENT_UNAVAILABLE;
        }
        out->n = 1;
    } else {
        snprintf(err, errlen, "unknown event (expected event=mo or event=dlr)");
        rc = -1;
    }
    sms_form_clear(&q);
    return rc;
}

const struct sms_provider sms_kannel = {
    .name = "kannel",
    .required_keys = required,
    .optional_keys = optional,
    .mms = 0,
    .dlr = 1,
    .build_send = kannel_build,
    .parse_send = kannel_parse_send,
    .verify = kannel_verify,
    .parse_webhook = kannel_parse_hook,
    /* only 200 and 202 count as success for smsbox (204 is retried) */
    .ok_status = 200,
    .ok_content_type = "text/plain; charset=utf-8",
    .ok_body = "",
};
