/* Twilio webhooks: X-Twilio-Signature verification (sms-providers.md c.1)
 * and parsing of inbound messages and status callbacks (b.1). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider.h"
#include "sms_util.h"

/* From twilio.c (declared in both files: no private header). */
const char *sms_twilio_get(const struct sms_cfg *cfg, const char *key);
enum tr_cond sms_twilio_cond(long code, enum tr_cond dflt, const char **what);
int sms_twilio_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_twilio_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen);

static const char *header(const struct sms_webhook *w, const char *name)
{
    return w->header ? w->header(w, name) : NULL;
}

static int is_json(const struct sms_webhook *w)
{
    return w->content_type && strncasecmp(w->content_type, "application/json", 16) == 0;
}

/* The URL with the scheme's default port added when it has none, or
 * removed when it has it; NULL when neither applies (c.1 step 4). */
static char *port_variant(const char *url)
{
    const char *dflt, *host;
    if (strncasecmp(url, "https://", 8) == 0)
        dflt = "443", host = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        dflt = "80", host = url + 7;
    else
        return NULL;
    const char *end = host + strcspn(host, "/?#");
    const char *at = memchr(host, '@', (size_t)(end - host));
    if (at)
        host = at + 1;
    const char *colon = NULL;
    for (const char *p = host; p < end; p++) {
        if (*p == ']')
            colon = NULL;
        else if (*p == ':')
            colon = p;
    }
    struct sms_buf b = {0};
    if (colon) {
        if ((size_t)(end - colon - 1) != strlen(dflt) || strncmp(colon + 1, dflt, strlen(dflt)))
            return NULL;
        sms_buf_add(&b, url, (size_t)(colon - url));
    } else {
        sms_buf_add(&b, url, (size_t)(end - url));
        sms_buf_addf(&b, ":%s", dflt);
    }
    sms_buf_adds(&b, end);
    return sms_buf_take(&b, NULL);
}

/* base64(HMAC-SHA1(token, url + sorted name/value pairs)) == sig */
static int signature_ok(const char *token, const char *url, const struct sms_form *params,
                        const char *sig)
{
    struct sms_buf s = {0};
    sms_buf_adds(&s, url);
    for (size_t i = 0; params && i < params->n; i++) {
        sms_buf_adds(&s, params->kv[i].name);
        sms_buf_adds(&s, params->kv[i].value);
    }
    size_t len = 0;
    char *data = sms_buf_take(&s, &len);
    if (!data)
        return 0;
    unsigned char mac[64];
    int n = sms_hmac("sha1", token, strlen(token), data, len, mac);
    free(data);
    if (n <= 0)
        return 0;
    char *b64 = sms_base64(mac, (size_t)n);
    if (!b64)
        return 0;
    int ok = sms_ct_equal(b64, strlen(b64), sig, strlen(sig));
    free(b64);
    return ok;
}

/* hex SHA-256 of the raw body == the bodySHA256 query value (any case). */
static int body_hash_ok(const struct sms_webhook *w, const char *want)
{
    unsigned char d[64];
    char hex[129], lower[65];
    int n = sms_digest("sha256", w->body ? w->body : "", w->body_len, d);
    size_t wl = strlen(want);
    if (n != 32 || wl != 64)
        return 0;
    sms_hex(d, 32, 0, hex);
    for (size_t i = 0; i < wl; i++)
        lower[i] = (want[i] >= 'A' && want[i] <= 'F') ? (char)(want[i] + 32) : want[i];
    lower[wl] = 0;
    return sms_ct_equal(hex, 64, lower, wl);
}

int sms_twilio_verify(const struct sms_cfg *cfg, const struct sms_webhook *w)
{
    const char *token = sms_twilio_get(cfg, "auth_token");
    const char *sig = header(w, "X-Twilio-Signature");
    if (!token || !sig || !*sig || !w->url || !w->method)
        return -1;

    struct sms_form query = {0}, params = {0};
    const char *q = w->query ? w->query : "";
    if (sms_form_parse(q, strlen(q), &query) != 0)
        return -1;
    const char *body_sha = sms_form_get(&query, "bodySHA256");
    int ok = 0;
    if (body_sha) {
        /* JSON body: the hash covers the body, the signature the URL alone. */
        if (!body_hash_ok(w, body_sha))
            goto done;
    } else if (strcmp(w->method, "POST") == 0 && w->body_len > 0) {
        if (sms_form_parse(w->body, w->body_len, &params) != 0)
            goto done;
        sms_form_sort(&params);
    }
    ok = signature_ok(token, w->url, &params, sig);
    if (!ok) {
        char *alt = port_variant(w->url);
        if (alt)
            ok = signature_ok(token, alt, &params, sig);
        free(alt);
    }
done:
    sms_form_clear(&query);
    sms_form_clear(&params);
    return ok ? 0 : -1;
}

/* ---- parsing ------------------------------------------------------------ */

/* The top-level string and number members of a JSON object, as a form. */
static int json_form(const char *body, size_t len, struct sms_form *f)
{
    memset(f, 0, sizeof(*f));
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -1;
    }
    size_t cap = (size_t)cJSON_GetArraySize(j);
    f->kv = calloc(cap ? cap : 1, sizeof(*f->kv));
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        if (!f->kv || !it->string)
            break;
        char *v = NULL;
        if (cJSON_IsString(it))
            v = strdup(it->valuestring);
        else if (cJSON_IsNumber(it))
            v = cJSON_PrintUnformatted(it);
        else
            continue;
        char *k = strdup(it->string);
        if (!k || !v) {
            free(k);
            free(v);
            break;
        }
        f->kv[f->n++] = (struct sms_kv){k, v};
    }
    int ok = f->kv && it == NULL;
    cJSON_Delete(j);
    if (!ok) {
        sms_form_clear(f);
        return -1;
    }
    return 0;
}

static const char *first(const struct sms_form *f, const char *a, const char *b, const char *c)
{
    const char *v = sms_form_get(f, a);
    if ((!v || !*v) && b)
        v = sms_form_get(f, b);
    if ((!v || !*v) && c)
        v = sms_form_get(f, c);
    return v && *v ? v : NULL;
}

static int parse_inbound(const struct sms_form *p, struct sms_event *ev, char *err, size_t errlen)
{
    const char *sid = first(p, "MessageSid", "SmsMessageSid", "SmsSid");
    const char *from = sms_form_get(p, "From"), *to = sms_form_get(p, "To");
    const char *body = sms_form_get(p, "Body"), *num = sms_form_get(p, "NumMedia");
    if (!sid || !from || !*from || !to || !*to) {
        snprintf(err, errlen, "twilio: inbound message without MessageSid, From or To");
        return -1;
    }
    long n_media = SMS_MAX_MEDIA;
    if (num) {
        char *end;
        n_media = strtol(num, &end, 10);
        if (*end || n_media < 0) {
            snprintf(err, errlen, "twilio: bad NumMedia");
            return -1;
        }
    }
    ev->kind = SMS_EV_INBOUND;
    ev->from = strdup(from);
    ev->to = strdup(to);
    ev->msg_id = strdup(sid);
    ev->text = sms_utf8_dup(body ? body : "", &ev->text_len);
    if (!ev->from || !ev->to || !ev->msg_id || !ev->text)
        goto oom;
    for (long i = 0; i < n_media && i < SMS_MAX_MEDIA; i++) {
        char name[32];
        snprintf(name, sizeof(name), "MediaUrl%ld", i);
        const char *url = sms_form_get(p, name);
        if (!url || !*url) {
            if (!num)
                break; /* no count given: MediaUrl0.. until the first gap */
            continue;
        }
        if (!(ev->media[ev->n_media] = strdup(url)))
            goto oom;
        ev->n_media++;
    }
    return 0;
oom:
    snprintf(err, errlen, "twilio: out of memory");
    return -1;
}

static int parse_status(const struct sms_form *p, const char *status, const char *ref,
                        struct sms_event *ev, char *err, size_t errlen)
{
    const char *sid = first(p, "MessageSid", "SmsSid", NULL);
    if (!sid && !ref) {
        snprintf(err, errlen, "twilio: status callback without MessageSid");
        return -1;
    }
    ev->kind = SMS_EV_STATUS;
    if ((sid && !(ev->provider_id = strdup(sid))) || (ref && !(ev->ref = strdup(ref))))
        goto oom;
    if (strcmp(status, "delivered") == 0) {
        ev->status = SMS_ST_DELIVERED;
    } else if (strcmp(status, "undelivered") == 0 || strcmp(status, "failed") == 0 ||
               strcmp(status, "canceled") == 0) {
        const char *ecode = sms_form_get(p, "ErrorCode");
        char *end = NULL, text[256];
        long code = ecode && *ecode ? strtol(ecode, &end, 10) : -1;
        if (end && *end)
            code = -1;
        const char *what = NULL;
        ev->status = SMS_ST_FAILED;
        ev->cond = sms_twilio_cond(code, TR_COND_RECIPIENT_UNAVAILABLE, &what);
        if (code >= 0)
            sms_textf(text, sizeof(text), "Twilio error %ld: %s (message %s)", code,
                      what ? what : "delivery failed", status);
        else
            sms_textf(text, sizeof(text), "Twilio reported the message %s", status);
        if (!(ev->error = strdup(text)))
            goto oom;
    } else {
        /* queued, accepted, scheduled, sending, sent, receiving, read,
         * partially_delivered, and statuses Twilio adds later: nothing to
         * tell the user. */
        ev->status = SMS_ST_PROGRESS;
    }
    return 0;
oom:
    snprintf(err, errlen, "twilio: out of memory");
    return -1;
}

int sms_twilio_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                             struct sms_events *out, char *err, size_t errlen)
{
    (void)cfg;
    memset(out, 0, sizeof(*out));
    struct sms_form p = {0}, query = {0};
    const char *q = w->query ? w->query : "";
    int rc = -1;

    if (sms_form_parse(q, strlen(q), &query) != 0) {
        snprintf(err, errlen, "twilio: bad query string");
        return -1;
    }
    if (w->method && strcmp(w->method, "GET") == 0)
        rc = sms_form_parse(q, strlen(q), &p);
    else if (is_json(w))
        rc = json_form(w->body ? w->body : "", w->body_len, &p);
    else
        rc = sms_form_parse(w->body ? w->body : "", w->body_len, &p);
    if (rc != 0) {
        snprintf(err, errlen, "twilio: malformed webhook body");
        goto done;
    }

    const char *status = first(&p, "MessageStatus", "SmsStatus", NULL);
    struct sms_event *ev = &out->ev[0];
    out->n = 1; /* sms_events_clear frees what was set on failure too */
    if (!status || strcmp(status, "received") == 0)
        rc = parse_inbound(&p, ev, err, errlen);
    else
        rc = parse_status(&p, status, sms_form_get(&query, "ref"), ev, err, errlen);
    if (rc != 0)
        sms_events_clear(out);
done:
    sms_form_clear(&p);
    sms_form_clear(&query);
    return rc;
}
