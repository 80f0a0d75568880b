/* Bandwidth Messaging v2: callbacks (sheet b.5, authentication c.5).
 *
 * Callbacks are a JSON array of events, authenticated only by HTTP Basic
 * with the application's callback credentials.  One sms_event per
 * message-received / message-delivered / message-failed element;
 * message-sending and unknown types are skipped. */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider.h"
#include "sms_util.h"
#include "utf8.h"

int sms_bandwidth_verify(const struct sms_cfg *cfg, const struct sms_webhook *w);
int sms_bandwidth_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                                struct sms_events *out, char *err, size_t errlen);

/* ---- Authentication ------------------------------------------------------------ */

int sms_bandwidth_verify(const struct sms_cfg *cfg, const struct sms_webhook *w)
{
    const char *user = cfg->get(cfg, "callback_user");
    const char *pass = cfg->get(cfg, "callback_password");
    const char *h = w->header ? w->header(w, "Authorization") : NULL;
    if (!user || !*user || !pass || !h)
        return -1;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
        return -1;
    h += 5;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strcspn(h, " \t\r\n");
    for (const char *p = h + n; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            return -1;
    if (n == 0 || n > 4096)
        return -1;
    char *tok = strndup(h, n);
    unsigned char *got = NULL;
    size_t glen = 0;
    int rc = tok ? sms_unbase64(tok, &got, &glen) : -1;
    free(tok);
    if (rc < 0)
        return -1;

    struct sms_buf want = {0};
    sms_buf_addf(&want, "%s:%s", user, pass);
    size_t wlen = 0;
    char *ws = sms_buf_take(&want, &wlen);
    int ok = ws && sms_ct_equal(ws, wlen, got, glen);
    if (ws) {
        OPENSSL_cleanse(ws, wlen);
        free(ws);
    }
    OPENSSL_cleanse(got, glen);
    free(got);
    return ok ? 0 : -1;
}

/* ---- Parsing --------------------------------------------------------------------- */

struct errinfo {
    int lo, hi;
    enum tr_cond cond;
};

/* message-failed errorCode (sheet b.5).  Unlisted: recipient-unavailable. */
static const struct errinfo bw_errors[] = {
    {4301, 4301, TR_COND_BAD_REQUEST},           /* malformed encoding */
    {4302, 4302, TR_COND_BAD_REQUEST},           /* malformed from */
    {4303, 4303, TR_COND_ITEM_NOT_FOUND},        /* malformed to */
    {4350, 4350, TR_COND_ITEM_NOT_FOUND},        /* malformed for destination */
    {4360, 4360, TR_COND_RECIPIENT_UNAVAILABLE}, /* expired */
    {4403, 4404, TR_COND_FORBIDDEN},             /* forbidden from/to */
    {4405, 4405, TR_COND_FORBIDDEN},             /* unallocated from */
    {4406, 4406, TR_COND_ITEM_NOT_FOUND},        /* unallocated to */
    {4410, 4410, TR_COND_BAD_REQUEST},           /* media unavailable */
    {4411, 4411, TR_COND_NOT_ACCEPTABLE},        /* media too large */
    {4432, 4432, TR_COND_FORBIDDEN},             /* country forbidden */
    {4435, 4435, TR_COND_NOT_ACCEPTABLE},        /* too many recipients */
    {4470, 4470, TR_COND_NOT_ACCEPTABLE},        /* spam */
    {4481, 4482, TR_COND_FORBIDDEN},             /* blacklisted */
    {4700, 4700, TR_COND_NOT_ACCEPTABLE},        /* invalid service type */
    {4701, 4702, TR_COND_RECIPIENT_UNAVAILABLE}, /* destination/subscriber unavailable */
    {4720, 4721, TR_COND_ITEM_NOT_FOUND},        /* invalid destination, deactivated */
    {4730, 4730, TR_COND_ITEM_NOT_FOUND},        /* no route */
    {4750, 4750, TR_COND_NOT_ACCEPTABLE},        /* carrier rejected */
    {4770, 4770, TR_COND_NOT_ACCEPTABLE},        /* carrier spam */
    {4773, 4773, TR_COND_FORBIDDEN},             /* inactive 10DLC campaign */
    {4775, 4775, TR_COND_FORBIDDEN},             /* user opted out */
    {4780, 4785, TR_COND_RESOURCE_CONSTRAINT},   /* volumetric violations */
    {4795, 4795, TR_COND_FORBIDDEN},             /* toll-free number not verified */
};

static enum tr_cond bw_cond(int code)
{
    for (size_t i = 0; i < sizeof(bw_errors) / sizeof(bw_errors[0]); i++)
        if (code >= bw_errors[i].lo && code <= bw_errors[i].hi)
            return bw_errors[i].cond;
    return TR_COND_RECIPIENT_UNAVAILABLE; /* 5xxx carrier/server, 9999, unknown */
}

static const char *jstring(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : NULL;
}

/* errorCode as an integer (number or digit string), -1 when absent. */
static int jcode(const cJSON *obj)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "errorCode");
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 100000)
        return (int)it->valuedouble;
    if (cJSON_IsString(it) && it->valuestring && *it->valuestring &&
        strspn(it->valuestring, "0123456789") == strlen(it->valuestring) &&
        strlen(it->valuestring) <= 5)
        return atoi(it->valuestring);
    return -1;
}

static char *dupstr(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static int parse_received(const cJSON *el, const cJSON *msg, struct sms_event *ev, char *err,
                          size_t errlen, int *oom)
{
    const char *id = jstring(msg, "id");
    const char *from = jstring(msg, "from");
    const char *owner = jstring(msg, "owner");
    const cJSON *tos = cJSON_GetObjectItemCaseSensitive(msg, "to");
    if (!owner)
        owner = jstring(el, "to");
    if (!owner && cJSON_IsArray(tos) && cJSON_IsString(cJSON_GetArrayItem(tos, 0)))
        owner = cJSON_GetArrayItem(tos, 0)->valuestring;
    if (!id || !*id || !from || !*from || !owner || !*owner) {
        snprintf(err, errlen, "bandwidth: message-received without message id, from or owner");
        return -1;
    }
    ev->kind = SMS_EV_INBOUND;
    ev->from = dupstr(from, oom);
    ev->to = dupstr(owner, oom);
    /* A group message we own several numbers of comes once per owned
     * number with the same id: the owner makes each one its own key. */
    if (cJSON_IsArray(tos) && cJSON_GetArraySize(tos) > 1) {
        struct sms_buf b = {0};
        sms_buf_addf(&b, "%s/%s", id, owner);
        ev->msg_id = sms_buf_take(&b, NULL);
        if (!ev->msg_id)
            *oom = 1;
    } else {
        ev->msg_id = dupstr(id, oom);
    }
    const char *text = jstring(msg, "text");
    if (!text)
        text = "";
    ev->text = text_sanitize(text, strlen(text), &ev->text_len);
    if (!ev->text)
        *oom = 1;
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(msg, "media");
    if (!cJSON_IsArray(media))
        media = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, media)
    {
        if (ev->n_media >= SMS_MAX_MEDIA)
            break;
        if (cJSON_IsString(m) && m->valuestring && *m->valuestring)
            if ((ev->media[ev->n_media] = dupstr(m->valuestring, oom)))
                ev->n_media++;
    }
    return 0;
}

static void parse_status(const cJSON *el, const cJSON *msg, int failed, struct sms_event *ev,
                         int *oom)
{
    ev->kind = SMS_EV_STATUS;
    ev->provider_id = dupstr(jstring(msg, "id"), oom);
    const char *tag = jstring(msg, "tag");
    if (tag && *tag)
        ev->ref = dupstr(tag, oom);
    if (!failed) {
        ev->status = SMS_ST_DELIVERED;
        return;
    }
    int code = jcode(el);
    if (code < 0)
        code = jcode(msg);
    const char *desc = jstring(el, "description");
    if (code == 9902) {
        /* delivery receipt expired: the handset may well have it */
        ev->status = SMS_ST_PROGRESS;
        return;
    }
    ev->status = SMS_ST_FAILED;
    ev->cond = code < 0 ? TR_COND_RECIPIENT_UNAVAILABLE : bw_cond(code);
    struct sms_buf b = {0};
    if (code >= 0)
        sms_buf_addf(&b, "Bandwidth error %d: %s", code, desc ? desc : "message failed");
    else
        sms_buf_addf(&b, "Bandwidth: %s", desc ? desc : "message failed");
    ev->error = sms_buf_take(&b, NULL);
    if (!ev->error) {
        *oom = 1;
        return;
    }
    for (unsigned char *p = (unsigned char *)ev->error; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            *p = ' ';
}

/* One array element.  0 (event added or skipped), -1 malformed. */
static int parse_element(const cJSON *el, struct sms_events *out, char *err, size_t errlen,
                         int *oom)
{
    const char *type = cJSON_IsObject(el) ? jstring(el, "type") : NULL;
    if (!type) {
        snprintf(err, errlen, "bandwidth: callback element without a type");
        return -1;
    }
    int received = strcmp(type, "message-received") == 0;
    int delivered = strcmp(type, "message-delivered") == 0;
    int failed = strcmp(type, "message-failed") == 0;
    if (!received && !delivered && !failed)
        return 0; /* message-sending, and types we do not know */
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(el, "message");
    if (!cJSON_IsObject(msg)) {
        snprintf(err, errlen, "bandwidth: %s without a message object", type);
        return -1;
    }
    if (!received && !jstring(msg, "id")) {
        snprintf(err, errlen, "bandwidth: %s without message id", type);
        return -1;
    }
    if (out->n >= SMS_MAX_EVENTS) {
        snprintf(err, errlen, "bandwidth: more than %d events in one callback", SMS_MAX_EVENTS);
        return -1;
    }
    struct sms_event *ev = &out->ev[out->n++];
    memset(ev, 0, sizeof(*ev));
    if (received)
        return parse_received(el, msg, ev, err, errlen, oom);
    parse_status(el, msg, failed, ev, oom);
    return 0;
}

int sms_bandwidth_parse_webhook(const struct sms_cfg *cfg, const struct sms_webhook *w,
                                struct sms_events *out, char *err, size_t errlen)
{
    (void)cfg;
    memset(out, 0, sizeof(*out));
    cJSON *root = w->body && w->body_len ? cJSON_ParseWithLength(w->body, w->body_len) : NULL;
    if (!cJSON_IsArray(root) && !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "bandwidth: callback body is not a JSON array");
        return -1;
    }
    int rc = 0, oom = 0;
    if (cJSON_IsObject(root)) { /* tolerated: a lone event */
        rc = parse_element(root, out, err, errlen, &oom);
    } else {
        const cJSON *el;
        cJSON_ArrayForEach(el, root)
        {
            if ((rc = parse_element(el, out, err, errlen, &oom)) < 0 || oom)
                break;
        }
    }
    cJSON_Delete(root);
    if (rc == 0 && oom) {
        snprintf(err, errlen, "bandwidth: out of memory");
        rc = -1;
    }
    if (rc < 0)
        sms_events_clear(out);
    return rc;
}
