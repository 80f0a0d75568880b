/* Vonage (Nexmo) SMS API: webhooks (sheet b.2, signature c.2).
 *
 * Inbound messages and delivery receipts arrive as a GET query, a POST form
 * or a POST JSON object (the dashboard decides).  All three are read into
 * one list of name/value pairs, which both the signature check and the
 * parser work on. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider.h"
#include "sms_util.h"
#include "utf8.h"

#define VONAGE_SIG_WINDOW 300 /* seconds a signed webhook's timestamp may be off */

int sms_vonage_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_vonage_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen);

/* ---- Parameters -------------------------------------------------------------- */

static int is_get(const struct sms_webhook *w)
{
    return w->method && strcasecmp(w->method, "GET") == 0;
}

static int body_is_json(const struct sms_webhook *w)
{
    const char *ct = w->content_type;
    if (ct) {
        while (*ct == ' ')
            ct++;
        if (strncasecmp(ct, "application/json", 16) == 0)
            return 1;
        if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
            return 0;
    }
    /* no or an unexpected content type: look at the body */
    for (size_t i = 0; i < w->body_len; i++) {
        unsigned char c = (unsigned char)w->body[i];
        if (!isspace(c))
            return c == '{';
    }
    return 0;
}

static int form_push(struct sms_form *f, size_t *cap, const char *name, const char *value)
{
    if (f->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct sms_kv *kv = realloc(f->kv, ncap * sizeof(*kv));
        if (!kv)
            return -1;
        f->kv = kv;
        *cap = ncap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -1;
    }
    f->kv[f->n++] = (struct sms_kv){n, v};
    return 0;
}

/* Top-level members of a JSON object as pairs: strings as they are, numbers
 * and booleans as their JSON text; null, objects and arrays are skipped
 * (Vonage sends only strings). */
static int json_params(const char *body, size_t len, struct sms_form *f)
{
    memset(f, 0, sizeof(*f));
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -1;
    }
    size_t cap = 0;
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (!it->string)
            continue;
        char *txt = NULL;
        const char *val = NULL;
        if (cJSON_IsString(it))
            val = it->valuestring ? it->valuestring : "";
        else if (cJSON_IsNumber(it) || cJSON_IsBool(it))
            val = txt = cJSON_PrintUnformatted(it);
        else
            continue;
        if (!val || form_push(f, &cap, it->string, val) < 0)
            rc = -1;
        free(txt);
        if (rc < 0)
            break;
    }
    cJSON_Delete(root);
    if (rc < 0)
        sms_form_clear(f);
    return rc;
}

/* The request's parameters: the query for GET, the body (form or JSON) for
 * POST.  0, or -1 when they cannot be decoded. */
static int vonage_params(const struct sms_webhook *w, struct sms_form *f)
{
    if (is_get(w)) {
        const char *q = w->query ? w->query : "";
        return sms_form_parse(q, strlen(q), f);
    }
    if (!w->body || w->body_len == 0) {
        memset(f, 0, sizeof(*f));
        return 0;
    }
    if (body_is_json(w))
        return json_params(w->body, w->body_len, f);
    return sms_form_parse(w->body, w->body_len, f);
}

/* ---- Signature (c.2) ----------------------------------------------------------- */

/* "&k=v" over the sorted pairs except sig (and `skip` when not NULL), '&'
 * and '=' in values replaced by '_'.  NULL when memory runs out. */
static char *sig_string(const struct sms_form *sorted, const char *skip, size_t *len)
{
    struct sms_buf b = {0};
    for (size_t i = 0; i < sorted->n; i++) {
        const struct sms_kv *kv = &sorted->kv[i];
        if (strcmp(kv->name, "sig") == 0 || (skip && strcmp(kv->name, skip) == 0))
            continue;
        sms_buf_adds(&b, "&");
        sms_buf_adds(&b, kv->name);
        sms_buf_adds(&b, "=");
        for (const char *p = kv->value; *p; p++) {
            char c = (*p == '&' || *p == '=') ? '_' : *p;
            sms_buf_add(&b, &c, 1);
        }
    }
    return sms_buf_take(&b, len);
}

/* 1 when sig (hex, any case) is the signature of the pairs. */
static int sig_matches(const struct sms_form *sorted, const char *skip, const char *method,
                       const char *secret, const char *sig)
{
    size_t len = 0;
    char *s = sig_string(sorted, skip, &len);
    if (!s)
        return 0;
    unsigned char md[64];
    int n = -1;
    if (strcmp(method, "md5hash") == 0) {
        struct sms_buf b = {0};
        sms_buf_add(&b, s, len);
        sms_buf_adds(&b, secret);
        size_t blen = 0;
        char *data = sms_buf_take(&b, &blen);
        if (data)
            n = sms_digest("md5", data, blen, md);
        free(data);
    } else if (strcmp(method, "md5") == 0 || strcmp(method, "sha1") == 0 ||
               strcmp(method, "sha256") == 0 || strcmp(method, "sha512") == 0) {
        n = sms_hmac(method, secret, strlen(secret), s, len, md);
    }
    free(s);
    if (n <= 0)
        return 0;
    char want[129], got[129];
    sms_hex(md, (size_t)n, 0, want);
    size_t glen = strlen(sig);
    if (glen >= sizeof(got))
        return 0;
    for (size_t i = 0; i <= glen; i++)
        got[i] = (char)tolower((unsigned char)sig[i]);
    return sms_ct_equal(want, strlen(want), got, glen);
}

/* Unix seconds from a string of digits; -1 when it is not one. */
static long long parse_ts(const char *s)
{
    if (!s || !*s || strlen(s) > 12)
        return -1;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

int sms_vonage_verify(const struct sms_cfg *cfg, const struct sms_webhook *w)
{
    const char *secret = cfg->get(cfg, "signature_secret");
    if (!secret || !*secret)
        return 0; /* unsigned setup: the transport's other checks apply */
    const char *method = cfg->get(cfg, "signature_method");
    if (!method || !*method)
        method = "md5hash";

    struct sms_form f;
    if (vonage_params(w, &f) < 0)
        return -1;
    int ok = 0;
    const char *sig = sms_form_get(&f, "sig");
    long long ts = parse_ts(sms_form_get(&f, "timestamp"));
    if (sig && *sig && ts >= 0 && ts - w->now <= VONAGE_SIG_WINDOW &&
        w->now - ts <= VONAGE_SIG_WINDOW) {
        sms_form_sort(&f);
        ok = sig_matches(&f, NULL, method, secret, sig);
        /* A GET carries our own `ref` from the callback URL in the same
         * query: Vonage signs only the parameters it adds. */
        if (!ok && is_get(w) && sms_form_get(&f, "ref"))
            ok = sig_matches(&f, "ref", method, secret, sig);
    }
    sms_form_clear(&f);
    return ok ? 0 : -1;
}

/* ---- Parsing --------------------------------------------------------------------- */

struct errinfo {
    int code;
    enum tr_cond cond;
    const char *text;
};

/* DLR err-code (sheet b.2).  Unlisted codes: recipient-unavailable. */
static const struct errinfo dlr_errors[] = {
    {0, TR_COND_RECIPIENT_UNAVAILABLE, "delivered"},
    {1, TR_COND_RECIPIENT_UNAVAILABLE, "unknown"},
    {2, TR_COND_RECIPIENT_UNAVAILABLE, "absent subscriber, temporary"},
    {3, TR_COND_ITEM_NOT_FOUND, "absent subscriber, permanent"},
    {4, TR_COND_FORBIDDEN, "call barred by user"},
    {5, TR_COND_RECIPIENT_UNAVAILABLE, "portability error"},
    {6, TR_COND_NOT_ACCEPTABLE, "anti-spam rejection"},
    {7, TR_COND_RECIPIENT_UNAVAILABLE, "handset busy"},
    {8, TR_COND_RECIPIENT_UNAVAILABLE, "network error"},
    {9, TR_COND_ITEM_NOT_FOUND, "illegal number"},
    {10, TR_COND_NOT_ACCEPTABLE, "illegal message"},
    {11, TR_COND_ITEM_NOT_FOUND, "unroutable"},
    {12, TR_COND_RECIPIENT_UNAVAILABLE, "destination unreachable"},
    {13, TR_COND_FORBIDDEN, "subscriber age restriction"},
    {14, TR_COND_FORBIDDEN, "number blocked by carrier"},
    {15, TR_COND_RECIPIENT_UNAVAILABLE, "prepaid insufficient funds"},
    {16, TR_COND_RESOURCE_CONSTRAINT, "gateway quota exceeded"},
    {99, TR_COND_RECIPIENT_UNAVAILABLE, "general error"},
};

static struct errinfo dlr_error(int code)
{
    for (size_t i = 0; i < sizeof(dlr_errors) / sizeof(dlr_errors[0]); i++)
        if (dlr_errors[i].code == code)
            return dlr_errors[i];
    if (code >= 50 && code <= 54)
        return (struct errinfo){code, TR_COND_NOT_ACCEPTABLE, "content filter or regulation"};
    return (struct errinfo){code, TR_COND_RECIPIENT_UNAVAILABLE, "error"};
}

static struct sms_event *ev_new(struct sms_events *out, enum sms_event_kind kind)
{
    if (out->n >= SMS_MAX_EVENTS)
        return NULL;
    struct sms_event *ev = &out->ev[out->n++];
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    return ev;
}

/* A positive integer of at most 3 digits, or -1. */
static int small_int(const char *s)
{
    long long v = parse_ts(s);
    return v >= 0 && v <= 999 ? (int)v : -1;
}

/* Control characters replaced by spaces (error texts). */
static void strip_controls(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            *p = ' ';
}

static int parse_dlr(const struct sms_webhook *w, const struct sms_form *f, const char *status,
                     struct sms_events *out, char *err, size_t errlen)
{
    const char *id = sms_form_get(f, "messageId");
    if (!id)
        id = sms_form_get(f, "message-id");
    if (!id || !*id) {
        snprintf(err, errlen, "vonage: delivery receipt without messageId");
        return -1;
    }
    struct sms_event *ev = ev_new(out, SMS_EV_STATUS);
    ev->provider_id = strdup(id);
    const char *ref = sms_form_get(f, "client-ref");
    struct sms_form q = {0};
    if (!ref || !*ref) {
        /* fall back to the ?ref= our callback URL carries */
        const char *qs = w->query ? w->query : "";
        if (sms_form_parse(qs, strlen(qs), &q) == 0)
            ref = sms_form_get(&q, "ref");
    }
    int want_ref = ref && *ref;
    if (want_ref)
        ev->ref = strdup(ref);
    sms_form_clear(&q);
    if (!ev->provider_id || (want_ref && !ev->ref))
        goto oom;

    if (strcasecmp(status, "delivered") == 0) {
        ev->status = SMS_ST_DELIVERED;
    } else if (strcasecmp(status, "failed") == 0 || strcasecmp(status, "rejected") == 0 ||
               strcasecmp(status, "expired") == 0) {
        const char *ec = sms_form_get(f, "err-code");
        int code = small_int(ec);
        struct errinfo ei = dlr_error(code < 0 ? 1 : code);
        ev->status = SMS_ST_FAILED;
        ev->cond = code > 0 ? ei.cond : TR_COND_RECIPIENT_UNAVAILABLE;
        struct sms_buf b = {0};
        if (code >= 0)
            sms_buf_addf(&b, "Vonage delivery report: %s (err-code %d: %s)", status, code, ei.text);
        else
            sms_buf_addf(&b, "Vonage delivery report: %s", status);
        ev->error = sms_buf_take(&b, NULL);
        if (!ev->error)
            goto oom;
        strip_controls(ev->error);
    } else {
        /* accepted / buffered / unknown, and anything newer */
        ev->status = SMS_ST_PROGRESS;
    }
    return 0;
oom:
    snprintf(err, errlen, "vonage: out of memory");
    return -1;
}

static int parse_inbound(const struct sms_form *f, struct sms_events *out, char *err, size_t errlen)
{
    const char *from = sms_form_get(f, "msisdn");
    const char *to = sms_form_get(f, "to");
    const char *id = sms_form_get(f, "messageId");
    const char *type = sms_form_get(f, "type");
    const char *text = sms_form_get(f, "text");
    if (!from || !*from || !to || !*to || !id || !*id) {
        snprintf(err, errlen, "vonage: inbound message without msisdn, to or messageId");
        return -1;
    }
    if (type && strcasecmp(type, "binary") == 0)
        return 0; /* binary SMS (data/udh): not text for a chat, no event */
    if (!text)
        text = "";

    int total = 0, part = 0;
    const char *cref = NULL;
    const char *concat = sms_form_get(f, "concat");
    if (concat && strcasecmp(concat, "true") == 0) {
        cref = sms_form_get(f, "concat-ref");
        total = small_int(sms_form_get(f, "concat-total"));
        part = small_int(sms_form_get(f, "concat-part"));
        if (!cref || !*cref || total < 1 || part < 1 || part > total) {
            snprintf(err, errlen, "vonage: bad concat-ref/concat-total/concat-part");
            return -1;
        }
    }

    struct sms_event *ev = ev_new(out, SMS_EV_INBOUND);
    ev->from = strdup(from);
    ev->to = strdup(to);
    ev->msg_id = strdup(id);
    ev->text = text_sanitize(text, strlen(text), &ev->text_len);
    if (cref) {
        ev->concat_ref = strdup(cref);
        ev->concat_total = total;
        ev->concat_part = part;
    }
    if (!ev->from || !ev->to || !ev->msg_id || !ev->text || (cref && !ev->concat_ref)) {
        snprintf(err, errlen, "vonage: out of memory");
        return -1;
    }
    return 0;
}

int sms_vonage_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen)
{
    (void)cfg;
    memset(out, 0, sizeof(*out));
    struct sms_form f;
    if (vonage_params(w, &f) < 0) {
        snprintf(err, errlen, "vonage: undecodable %s parameters", is_get(w) ? "query" : "body");
        return -1;
    }
    int rc = 0;
    const char *status = sms_form_get(&f, "status");
    if (f.n == 0 || (f.n == 1 && sms_form_get(&f, "ref")))
        rc = 0; /* a bare request (URL check): nothing to report */
    else if (status)
        rc = parse_dlr(w, &f, status, out, err, errlen);
    else
        rc = parse_inbound(&f, out, err, errlen);
    sms_form_clear(&f);
    if (rc < 0)
        sms_events_clear(out);
    return rc;
}
