/* Plivo webhooks: X-Plivo-Signature-V3 verification (sms-providers.md c.4)
 * and parsing of inbound messages and status callbacks (b.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "sms_util.h"

/* From plivo.c (declared in both files: no private header). */
const char *sms_plivo_get(const struct sms_cfg *cfg, const char *key);
int sms_plivo_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_plivo_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                            struct sms_events *out, char *err, size_t errlen);

static const char *header(const struct sms_webhook *w, const char *name)
{
    return w->header ? w->header(w, name) : NULL;
}

/* Drops pairs with an empty value (plivo-python reads the query with
 * parse_qs, which skips them), then sorts by name and value. */
static void drop_empty_and_sort(struct sms_form *f)
{
    size_t o = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (*f->kv[i].value) {
            f->kv[o++] = f->kv[i];
        } else {
            free(f->kv[i].name);
            free(f->kv[i].value);
        }
    }
    f->n = o;
    sms_form_sort(f);
}

/* The string V3 signs, without the final "." + nonce (c.4 steps 1-4). */
static char *signed_url(const struct sms_webhook *w, int post)
{
    const char *url = w->url, *qm = strchr(url, '?');
    size_t base_len = qm ? (size_t)(qm - url) : strlen(url);
    const char *q = qm ? qm + 1 : "";
    struct sms_form qf = {0}, pf = {0};
    struct sms_buf b = {0};
    char *res = NULL;

    if (sms_form_parse(q, strlen(q), &qf) != 0)
        return NULL;
    if (post && w->body_len > 0 && sms_form_parse(w->body, w->body_len, &pf) != 0)
        goto done;
    drop_empty_and_sort(&qf);
    sms_form_sort(&pf);

    sms_buf_add(&b, url, base_len);
    if (qf.n > 0 || pf.n > 0)
        sms_buf_adds(&b, "?");
    for (size_t i = 0; i < qf.n; i++)
        sms_buf_addf(&b, "%s%s=%s", i ? "&" : "", qf.kv[i].name, qf.kv[i].value);
    if (qf.n > 0 && pf.n > 0)
        sms_buf_adds(&b, ".");
    for (size_t i = 0; i < pf.n; i++) {
        sms_buf_adds(&b, pf.kv[i].name);
        sms_buf_adds(&b, pf.kv[i].value);
    }
    res = sms_buf_take(&b, NULL);
done:
    sms_buf_free(&b);
    sms_form_clear(&qf);
    sms_form_clear(&pf);
    return res;
}

int sms_plivo_verify(const struct sms_cfg *cfg, const struct sms_webhook *w)
{
    const char *token = sms_plivo_get(cfg, "auth_token");
    const char *sigs = header(w, "X-Plivo-Signature-V3");
    const char *nonce = header(w, "X-Plivo-Signature-V3-Nonce");
    if (!token || !sigs || !*sigs || !nonce || !*nonce || !w->url || !w->method)
        return -1;
    int post = strcmp(w->method, "POST") == 0;
    if (!post && strcmp(w->method, "GET") != 0)
        return -1;

    char *u = signed_url(w, post);
    if (!u)
        return -1;
    struct sms_buf data = {0};
    sms_buf_addf(&data, "%s.%s", u, nonce);
    free(u);
    size_t len = 0;
    char *d = sms_buf_take(&data, &len);
    if (!d)
        return -1;
    unsigned char mac[64];
    int n = sms_hmac("sha256", token, strlen(token), d, len, mac);
    free(d);
    char *want = n > 0 ? sms_base64(mac, (size_t)n) : NULL;
    if (!want)
        return -1;

    /* One signature per active auth token, comma-separated: any may match. */
    int ok = 0;
    size_t wl = strlen(want);
    for (const char *p = sigs; *p;) {
        const char *end = strchr(p, ',');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        while (l > 0 && *s == ' ')
            s++, l--;
        while (l > 0 && s[l - 1] == ' ')
            l--;
        if (sms_ct_equal(want, wl, s, l))
            ok = 1; /* keep going: the time does not depend on which matched */
        p = end ? end + 1 : p + strlen(p);
    }
    free(want);
    return ok ? 0 : -1;
}

/* ---- parsing ------------------------------------------------------------ */

/* Asynchronous delivery error codes (callbacks and MDRs). */
static const struct {
    long code;
    enum tr_cond cond;
    const char *what;
} codes[] = {
    {10, TR_COND_NOT_ACCEPTABLE, "invalid message"},
    {20, TR_COND_RECIPIENT_UNAVAILABLE, "network error"},
    {30, TR_COND_NOT_ACCEPTABLE, "spam detected"},
    {40, TR_COND_BAD_REQUEST, "invalid source number"},
    {50, TR_COND_ITEM_NOT_FOUND, "invalid destination number"},
    {60, TR_COND_NOT_ACCEPTABLE, "loop detected"},
    {70, TR_COND_ITEM_NOT_FOUND, "destination permanently unavailable"},
    {80, TR_COND_RECIPIENT_UNAVAILABLE, "destination temporarily unavailable"},
    {90, TR_COND_ITEM_NOT_FOUND, "no route to destination"},
    {100, TR_COND_FORBIDDEN, "prohibited by carrier"},
    {110, TR_COND_NOT_ACCEPTABLE, "message too long"},
    {200, TR_COND_FORBIDDEN, "the recipient opted out (STOP)"},
    {450, TR_COND_FORBIDDEN, "destination country barred"},
    {900, TR_COND_INTERNAL_SERVER_ERROR, "the gateway's Plivo account is out of credit"},
    {1000, TR_COND_RECIPIENT_UNAVAILABLE, "unknown error"},
};

static int parse_inbound(const struct sms_form *p, struct sms_event *ev, char *err, size_t errlen)
{
    const char *id = sms_form_get(p, "MessageUUID");
    const char *from = sms_form_get(p, "From"), *to = sms_form_get(p, "To");
    const char *text = sms_form_get(p, "Text");
    if (!id || !*id || !from || !*from || !to || !*to) {
        snprintf(err, errlen, "plivo: inbound message without MessageUUID, From or To");
        return -1;
    }
    ev->kind = SMS_EV_INBOUND;
    ev->from = strdup(from);
    ev->to = strdup(to);
    ev->msg_id = strdup(id);
    ev->text = sms_utf8_dup(text ? text : "", &ev->text_len);
    if (!ev->from || !ev->to || !ev->msg_id || !ev->text)
        goto oom;
    /* MMS: Media0, Media1, ... until the first gap. */
    for (int i = 0; i < SMS_MAX_MEDIA; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Media%d", i);
        const char *url = sms_form_get(p, name);
        if (!url || !*url)
            break;
        if (!(ev->media[ev->n_media] = strdup(url)))
            goto oom;
        ev->n_media++;
    }
    return 0;
oom:
    snprintf(err, errlen, "plivo: out of memory");
    return -1;
}

static int parse_status(const struct sms_form *p, const char *status, const char *ref,
                        struct sms_event *ev, char *err, size_t errlen)
{
    /* Parts of a split message carry their own MessageUUID and the one the
     * send answered with in ParentMessageUUID. */
    const char *id = sms_form_get(p, "ParentMessageUUID");
    if (!id || !*id)
        id = sms_form_get(p, "MessageUUID");
    if (id && !*id)
        id = NULL;
    if (!id && !ref) {
        snprintf(err, errlen, "plivo: status callback without MessageUUID");
        return -1;
    }
    ev->kind = SMS_EV_STATUS;
    if ((id && !(ev->provider_id = strdup(id))) || (ref && !(ev->ref = strdup(ref))))
        goto oom;
    if (strcmp(status, "delivered") == 0) {
        ev->status = SMS_ST_DELIVERED;
    } else if (strcmp(status, "failed") == 0 || strcmp(status, "undelivered") == 0 ||
               strcmp(status, "rejected") == 0) {
        const char *ecode = sms_form_get(p, "ErrorCode");
        char *end = NULL, text[256];
        long code = ecode && *ecode ? strtol(ecode, &end, 10) : -1;
        if (end && *end)
            code = -1;
        const char *what = NULL;
        ev->status = SMS_ST_FAILED;
        ev->cond = TR_COND_RECIPIENT_UNAVAILABLE;
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
            if (codes[i].code == code) {
                ev->cond = codes[i].cond;
                what = codes[i].what;
            }
        }
        if (code >= 0)
            sms_textf(text, sizeof(text), "Plivo error %s: %s (message %s)", ecode,
                      what ? what : "delivery failed", status);
        else
            sms_textf(text, sizeof(text), "Plivo reported the message %s", status);
        if (!(ev->error = strdup(text)))
            goto oom;
    } else {
        /* queued, sent, and anything Plivo adds later. */
        ev->status = SMS_ST_PROGRESS;
    }
    return 0;
oom:
    snprintf(err, errlen, "plivo: out of memory");
    return -1;
}

int sms_plivo_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                            struct sms_events *out, char *err, size_t errlen)
{
    (void)cfg;
    memset(out, 0, sizeof(*out));
    struct sms_form p = {0}, query = {0};
    const char *q = w->query ? w->query : "";
    int rc;

    if (sms_form_parse(q, strlen(q), &query) != 0) {
        snprintf(err, errlen, "plivo: bad query string");
        return -1;
    }
    if (w->method && strcmp(w->method, "GET") == 0)
        rc = sms_form_parse(q, strlen(q), &p);
    else
        rc = sms_form_parse(w->body ? w->body : "", w->body_len, &p);
    if (rc != 0) {
        snprintf(err, errlen, "plivo: malformed webhook body");
        goto done;
    }

    const char *status = sms_form_get(&p, "Status");
    out->n = 1; /* sms_events_clear frees what was set on failure too */
    if (status && *status)
        rc = parse_status(&p, status, sms_form_get(&query, "ref"), &out->ev[0], err, errlen);
    else
        rc = parse_inbound(&p, &out->ev[0], err, errlen);
    if (rc != 0)
        sms_events_clear(out);
done:
    sms_form_clear(&p);
    sms_form_clear(&query);
    return rc;
}
