/* Telnyx Messaging v2 provider (transports/sms/telnyx*.c) against golden
 * files from the reference sheet (b.3) and the known-answer Ed25519 vector
 * (c.6).  Golden files: tests/unit/golden/telnyx/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms/provider.h"
#include "sms/sms_util.h"

#include "golden.h"

#define API_KEY "KEY01234_secret_api_key_DO_NOT_LEAK"
#define PROFILE "4000eba1-a0c0-4563-9925-b25e842a7cb6"
#define STATUS_URL "https://gw.example.net/sms/telnyx/status?ref=r-7f3a"

/* ---- fixtures --------------------------------------------------------------- */

struct kvcfg {
    struct sms_cfg c;
    const char *kv[16]; /* name, value, ..., NULL */
};

static const char *kv_get(const struct sms_cfg *cfg, const char *key)
{
    const struct kvcfg *k = (const struct kvcfg *)cfg;
    for (size_t i = 0; k->kv[i]; i += 2)
        if (strcmp(k->kv[i], key) == 0)
            return k->kv[i + 1];
    return NULL;
}

static char *g(const char *name, size_t *len)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "telnyx/%s", name);
    char *s = golden_read(rel, len, 0);
    if (!s)
        fail_msg("golden file %s missing", rel);
    return s;
}

/* A config with the KAV public key, the API key and optionally more pairs. */
static struct kvcfg *cfg_new(const char *k1, const char *v1, const char *k2, const char *v2)
{
    static struct kvcfg c;
    static char pk[64];
    char *p = g("kav_public_key.txt", NULL);
    snprintf(pk, sizeof(pk), "%s", p);
    free(p);
    memset(&c, 0, sizeof(c));
    c.c.get = kv_get;
    size_t n = 0;
    c.kv[n++] = "api_key", c.kv[n++] = API_KEY;
    c.kv[n++] = "public_key", c.kv[n++] = pk;
    if (k1)
        c.kv[n++] = k1, c.kv[n++] = v1;
    if (k2)
        c.kv[n++] = k2, c.kv[n++] = v2;
    return &c;
}

struct hook {
    struct sms_webhook w;
    const char *hname[4], *hval[4];
    size_t nh;
    char *body;
};

static const char *hook_header(const struct sms_webhook *w, const char *name)
{
    const struct hook *h = w->ctx;
    for (size_t i = 0; i < h->nh; i++)
        if (strcasecmp(h->hname[i], name) == 0)
            return h->hval[i];
    return NULL;
}

/* A webhook whose body is the golden file `file` (or literal text when
 * file starts with '{' or is ""). */
static void hook_init(struct hook *h, const char *file, const char *query)
{
    memset(h, 0, sizeof(*h));
    size_t len = 0;
    if (!file[0] || file[0] == '{' || file[0] == '[' || file[0] == '!') {
        h->body = strdup(file);
        len = strlen(file);
    } else {
        h->body = g(file, &len);
    }
    h->w.method = "POST";
    h->w.query = query ? query : "";
    h->w.url = "https://gw.example.net/sms/telnyx";
    h->w.content_type = "application/json";
    h->w.body = h->body;
    h->w.body_len = len;
    h->w.now = 1700000000;
    h->w.header = hook_header;
    h->w.ctx = h;
}

static void hook_add(struct hook *h, const char *name, const char *value)
{
    h->hname[h->nh] = name;
    h->hval[h->nh++] = value;
}

/* ---- descriptor --------------------------------------------------------------- */

static void test_descriptor(void **state)
{
    (void)state;
    assert_string_equal(sms_telnyx.name, "telnyx");
    assert_string_equal(sms_telnyx.required_keys[0], "api_key");
    assert_string_equal(sms_telnyx.required_keys[1], "public_key");
    assert_null(sms_telnyx.required_keys[2]);
    assert_string_equal(sms_telnyx.optional_keys[0], "messaging_profile_id");
    assert_null(sms_telnyx.optional_keys[1]);
    assert_true(sms_telnyx.mms);
    assert_true(sms_telnyx.dlr);
    assert_int_equal(sms_telnyx.ok_status, 200);
    assert_non_null(sms_telnyx.ok_content_type);
    assert_string_equal(sms_telnyx.ok_body, "");
}

/* ---- build_send ------------------------------------------------------------- */

static void check_send(const struct sms_cfg *cfg, const struct sms_send_req *req,
                       const char *want_url, const char *golden)
{
    struct sms_http_req r;
    char err[128] = "";
    assert_int_equal(sms_telnyx.build_send(cfg, req, &r, err, sizeof(err)), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, want_url);
    assert_int_equal(r.n_headers, 3);
    assert_string_equal(r.headers[0], "Authorization: Bearer " API_KEY);
    assert_string_equal(r.headers[1], "Content-Type: application/json");
    assert_string_equal(r.headers[2], "Accept: application/json");
    size_t len;
    char *want = g(golden, &len);
    assert_int_equal(r.body_len, len);
    assert_string_equal(r.body, want);
    assert_null(strstr(r.body, API_KEY)); /* the secret only in the header */
    assert_null(strstr(r.url, API_KEY));
    free(want);
    sms_http_req_clear(&r);
}

static void test_send_gsm(void **state)
{
    (void)state;
    struct sms_send_req req = {
        .from = "+15557654321", .to = "+15551234567", .text = "Hello", .segments = 1, .ref = "r-1"};
    check_send(&cfg_new(NULL, NULL, NULL, NULL)->c, &req, "https://api.telnyx.com/v2/messages",
               "send_gsm.json");
}

static void test_send_unicode(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Grüße, 日本 😀 \"q\"\n",
                               .unicode = 1,
                               .segments = 1,
                               .ref = "r-2"};
    check_send(&cfg_new(NULL, NULL, NULL, NULL)->c, &req, "https://api.telnyx.com/v2/messages",
               "send_unicode.json");
}

static void test_send_status_profile_api_url(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Hello",
                               .segments = 1,
                               .ref = "r-7f3a",
                               .status_url = STATUS_URL};
    struct kvcfg *c = cfg_new("messaging_profile_id", PROFILE, "api_url", "http://127.0.0.1:8099/");
    check_send(&c->c, &req, "http://127.0.0.1:8099/v2/messages", "send_status.json");
}

static void test_send_media(void **state)
{
    (void)state;
    const char *media[] = {"https://up.example.net/a/cat.jpg", "https://up.example.net/b/dog.png"};
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "",
                               .media = media,
                               .n_media = 2,
                               .ref = "r-mms1",
                               .status_url = "https://gw.example.net/sms/telnyx/status?ref=r-mms1"};
    struct kvcfg *c = cfg_new("messaging_profile_id", "", "api_url", "http://127.0.0.1:8099");
    check_send(&c->c, &req, "http://127.0.0.1:8099/v2/messages", "send_media.json");

    struct sms_send_req req2 = {.from = "+15557654321",
                                .to = "+15551234567",
                                .text = "look",
                                .media = media,
                                .n_media = 1,
                                .ref = "r-mms2"};
    check_send(&cfg_new(NULL, NULL, NULL, NULL)->c, &req2, "https://api.telnyx.com/v2/messages",
               "send_media_caption.json");
}

static void test_send_bad_settings(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321", .to = "+15551234567", .text = "Hello"};
    struct sms_http_req r;
    char err[128];
    struct kvcfg *c = cfg_new(NULL, NULL, NULL, NULL);
    c->kv[1] = "";
    assert_int_equal(sms_telnyx.build_send(&c->c, &req, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "api_key"));
    c = cfg_new(NULL, NULL, NULL, NULL);
    c->kv[1] = "abc\r\nX-Evil: 1";
    assert_int_equal(sms_telnyx.build_send(&c->c, &req, &r, err, sizeof(err)), -1);
    assert_null(strstr(err, "abc"));
    c = cfg_new(NULL, NULL, NULL, NULL);
    req.to = NULL;
    assert_int_equal(sms_telnyx.build_send(&c->c, &req, &r, err, sizeof(err)), -1);
    const char *media[] = {NULL};
    struct sms_send_req req2 = {
        .from = "+15557654321", .to = "+15551234567", .text = "", .media = media, .n_media = 1};
    assert_int_equal(sms_telnyx.build_send(&c->c, &req2, &r, err, sizeof(err)), -1);
}

/* ---- parse_send ------------------------------------------------------------- */

static void parse(int status, const char *retry_after, const char *golden,
                  struct sms_send_result *res)
{
    size_t len = 0;
    char *body = golden ? g(golden, &len) : NULL;
    memset(res, 0x5a, sizeof(*res)); /* the parser must set every field */
    sms_telnyx.parse_send(&cfg_new(NULL, NULL, NULL, NULL)->c, status, retry_after, body, len, res);
    free(body);
}

static void assert_clean_text(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        assert_true(*p >= 0x20 && *p != 0x7f);
    assert_null(strstr(t, API_KEY));
}

static void test_parse_send_ok(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse(200, NULL, "answer_ok.json", &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "40385f64-5717-4562-b3fc-2c963f66afa6");
    assert_int_equal(res.retry_after, 0);

    /* A 2xx whose body cannot be read is still accepted (never send twice). */
    const char *bad[] = {"", "{", "{\"data\":{\"id\":42}}", "{\"data\":[]}", "[1]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&res, 0x5a, sizeof(res));
        sms_telnyx.parse_send(NULL, 200, NULL, bad[i], strlen(bad[i]), &res);
        assert_int_equal(res.outcome, SMS_ACCEPTED);
        assert_string_equal(res.provider_id, "");
    }
    char big[400];
    int n = snprintf(big, sizeof(big), "{\"data\":{\"id\":\"%0200d\"}}", 7);
    sms_telnyx.parse_send(NULL, 200, NULL, big, (size_t)n, &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, ""); /* too long to be an id of ours */
    sms_telnyx.parse_send(NULL, 200, NULL, NULL, 0, &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
}

static void check_perm(int status, const char *golden, enum tr_cond cond, const char *needle1,
                       const char *needle2)
{
    struct sms_send_result res;
    parse(status, NULL, golden, &res);
    assert_int_equal(res.outcome, SMS_PERMANENT);
    assert_int_equal(res.cond, cond);
    assert_int_equal(res.retry_after, 0);
    assert_string_equal(res.provider_id, "");
    assert_clean_text(res.text);
    if (!strstr(res.text, needle1) || (needle2 && !strstr(res.text, needle2)))
        fail_msg("text \"%s\" lacks \"%s\" / \"%s\"", res.text, needle1, needle2 ? needle2 : "");
}

static void test_parse_send_permanent(void **state)
{
    (void)state;
    check_perm(400, "err_40310.json", TR_COND_ITEM_NOT_FOUND, "40310", "Invalid 'to' address");
    check_perm(400, "err_10016.json", TR_COND_BAD_REQUEST, "10016", "E.164");
    check_perm(422, "err_40305.json", TR_COND_BAD_REQUEST, "40305", "'from'");
    check_perm(400, "err_40300.json", TR_COND_FORBIDDEN, "40300", "STOP");
    check_perm(403, "err_40300.json", TR_COND_FORBIDDEN, "40300", NULL);
    check_perm(401, "err_10009.json", TR_COND_INTERNAL_SERVER_ERROR, "misconfigured", "10009");
    check_perm(400, "err_40002.json", TR_COND_NOT_ACCEPTABLE, "40002", "spam by the carrier");
    check_perm(400, "err_unknown.json", TR_COND_BAD_REQUEST, "10015", "Bad Request");
    /* Unknown codes: by HTTP status. */
    check_perm(403, "err_unknown.json", TR_COND_INTERNAL_SERVER_ERROR, "misconfigured", NULL);
    check_perm(404, "err_html.txt", TR_COND_INTERNAL_SERVER_ERROR, "misconfigured", "HTTP 404");
    check_perm(401, NULL, TR_COND_INTERNAL_SERVER_ERROR, "misconfigured", "HTTP 401");
    check_perm(413, "err_html.txt", TR_COND_NOT_ACCEPTABLE, "HTTP 413", NULL);
    check_perm(400, "err_html.txt", TR_COND_BAD_REQUEST, "HTTP 400", NULL);
}

static void check_transient(int status, const char *retry_after, const char *golden, int want)
{
    struct sms_send_result res;
    parse(status, retry_after, golden, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, want);
    assert_string_equal(res.provider_id, "");
    assert_clean_text(res.text);
}

static void test_parse_send_transient(void **state)
{
    (void)state;
    check_transient(429, "7", "err_10011.json", 7);
    check_transient(429, "99999", "err_10011.json", 3600);
    check_transient(429, NULL, "err_10011.json", 0);
    check_transient(429, "Wed, 21 Oct 2015 07:28:00 GMT", NULL, 0);
    check_transient(400, NULL, "err_10011.json", 0); /* the code says throttled */
    check_transient(503, NULL, "err_html.txt", 0);
    check_transient(503, "30", "err_html.txt", 30);
    check_transient(500, NULL, NULL, 0);
    check_transient(408, NULL, NULL, 0);
    check_transient(0, NULL, NULL, 0);

    struct sms_send_result res;
    parse(429, "5", "err_10011.json", &res);
    assert_non_null(strstr(res.text, "10011"));
}

/* ---- verify (c.3, c.6) ------------------------------------------------------- */

struct kav {
    char *body, *ts, *sig;
};

static void kav_hook(struct hook *h, struct kav *k)
{
    k->ts = g("kav_timestamp.txt", NULL);
    k->sig = g("kav_signature.txt", NULL);
    hook_init(h, "kav_body.json", "");
    h->w.now = strtoll(k->ts, NULL, 10);
    hook_add(h, "Telnyx-Signature-Ed25519", k->sig);
    hook_add(h, "Telnyx-Timestamp", k->ts);
}

static void kav_free(struct hook *h, struct kav *k)
{
    free(k->ts);
    free(k->sig);
    free(h->body);
}

static void test_verify_kav(void **state)
{
    (void)state;
    struct kvcfg *c = cfg_new(NULL, NULL, NULL, NULL);
    struct hook h;
    struct kav k;
    kav_hook(&h, &k);
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), 0);
    /* Inside the 300 s window on both sides, outside just after. */
    h.w.now = 1700000000 + 300;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), 0);
    h.w.now = 1700000000 - 300;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), 0);
    h.w.now = 1700000000 + 301;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.w.now = 1700000000 - 301;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.w.now = 1700000000;

    /* Tampered body: one byte, one byte less, one byte more. */
    h.body[strlen(h.body) - 5] ^= 1;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.body[strlen(h.body) - 5] ^= 1;
    h.w.body_len--;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.w.body_len++;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), 0);

    /* The timestamp is signed: a different (fresh) one fails. */
    h.hval[1] = "1700000001";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.hval[1] = "1700000000 ";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.hval[1] = "";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.hval[1] = k.ts;

    /* Signature: flipped, truncated, not base64. */
    char sig[128];
    snprintf(sig, sizeof(sig), "%s", k.sig);
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    h.hval[0] = sig;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.hval[0] = "nx2uFwVwPyeJ6OpINTyFdY1JD7w2yJVYTRSZmfIepGA=";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.hval[0] = "not base64!";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.hval[0] = k.sig;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), 0);

    /* Wrong or bad public key. */
    c->kv[3] = "B6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    c->kv[3] = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJV";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    c->kv[3] = "";
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    kav_free(&h, &k);
}

static void test_verify_missing_headers(void **state)
{
    (void)state;
    struct kvcfg *c = cfg_new(NULL, NULL, NULL, NULL);
    struct hook h;
    struct kav k;
    kav_hook(&h, &k);
    h.nh = 1; /* signature only */
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.hname[0] = "telnyx-timestamp";
    h.hval[0] = k.ts; /* timestamp only */
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    h.nh = 0;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    kav_free(&h, &k);
}

/* A whole inbound webhook signed by the fake (tests/e2e/fakes/fake_telnyx.py,
 * deterministic key), UTF-8 raw in the body. */
static void test_verify_signed_inbound(void **state)
{
    (void)state;
    struct kvcfg *c = cfg_new(NULL, NULL, NULL, NULL);
    struct hook h;
    char *ts = g("hook_inbound.ts", NULL), *sig = g("hook_inbound.sig", NULL);
    hook_init(&h, "hook_inbound.json", "");
    hook_add(&h, "telnyx-signature-ed25519", sig);
    hook_add(&h, "telnyx-timestamp", ts);
    h.w.now = strtoll(ts, NULL, 10) + 12;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), 0);
    h.w.now += 300;
    assert_int_equal(sms_telnyx.verify(&c->c, &h.w), -1);
    free(ts);
    free(sig);
    free(h.body);
}

/* ---- parse_webhook ----------------------------------------------------------- */

static int parse_hook(const char *file, const char *query, struct sms_events *ev, char *err,
                      size_t errlen)
{
    struct hook h;
    hook_init(&h, file, query);
    memset(ev, 0, sizeof(*ev));
    int rc = sms_telnyx.parse_webhook(&cfg_new(NULL, NULL, NULL, NULL)->c, &h.w, ev, err, errlen);
    free(h.body);
    return rc;
}

static void test_hook_inbound(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    assert_int_equal(parse_hook("hook_inbound.json", "", &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 1);
    struct sms_event *e = &ev.ev[0];
    assert_int_equal(e->kind, SMS_EV_INBOUND);
    assert_string_equal(e->from, "+15557654321");
    assert_string_equal(e->to, "+15551234567");
    assert_string_equal(e->text, "hi ünïcode 😀");
    assert_int_equal(e->text_len, strlen("hi ünïcode 😀"));
    /* The message id, not the event id (bf6307bd-...). */
    assert_string_equal(e->msg_id, "7ee4241c-f127-47e5-9c34-3aac291f8058");
    assert_int_equal(e->n_media, 0);
    assert_null(e->ref);
    sms_events_clear(&ev);
}

static void test_hook_inbound_mms(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    assert_int_equal(parse_hook("hook_inbound_mms.json", "", &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 1);
    struct sms_event *e = &ev.ev[0];
    assert_int_equal(e->kind, SMS_EV_INBOUND);
    assert_string_equal(e->text, "");
    assert_int_equal(e->text_len, 0);
    assert_string_equal(e->msg_id, "a3c4a2b8-5f7e-4f0f-9a0b-7d7b3c1e2f00");
    assert_int_equal(e->n_media, 2); /* the SMIL part is skipped */
    assert_string_equal(e->media[0], "https://media.telnyx.example/abc/cat.jpg");
    assert_string_equal(e->media[1], "https://media.telnyx.example/abc/clip.mp4");
    sms_events_clear(&ev);
}

static void test_hook_inbound_edge(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    /* Invalid UTF-8 becomes U+FFFD; null text is ""; data.id when no payload.id. */
    assert_int_equal(parse_hook("{\"data\":{\"id\":\"evt-9\",\"event_type\":\"message.received\","
                                "\"payload\":{\"from\":{\"phone_number\":\"+15557654321\"},"
                                "\"to\":[{\"phone_number\":\"+15551234567\"}],"
                                "\"text\":\"a\xff\xc3(b\xe2\x82\"}}}",
                                "", &ev, err, sizeof(err)),
                     0);
    assert_string_equal(ev.ev[0].text, "a\xEF\xBF\xBD\xEF\xBF\xBD(b\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_int_equal(ev.ev[0].text_len, strlen(ev.ev[0].text));
    assert_string_equal(ev.ev[0].msg_id, "evt-9");
    sms_events_clear(&ev);
    assert_int_equal(parse_hook("{\"data\":{\"event_type\":\"message.received\",\"payload\":{"
                                "\"id\":\"m1\",\"from\":{\"phone_number\":\"TELNYX\"},"
                                "\"to\":[{\"phone_number\":\"+15551234567\"}],\"text\":null}}}",
                                "", &ev, err, sizeof(err)),
                     0);
    assert_string_equal(ev.ev[0].text, "");
    assert_string_equal(ev.ev[0].from, "TELNYX");
    sms_events_clear(&ev);

    /* More media than SMS_MAX_MEDIA: the first ones are kept. */
    char body[4096];
    int n = snprintf(body, sizeof(body),
                     "{\"data\":{\"event_type\":\"message.received\",\"payload\":{\"id\":\"m2\","
                     "\"from\":{\"phone_number\":\"+15557654321\"},"
                     "\"to\":[{\"phone_number\":\"+15551234567\"}],\"media\":[");
    for (int i = 0; i < SMS_MAX_MEDIA + 3; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s{\"url\":\"https://m/%d\"}",
                      i ? "," : "", i);
    snprintf(body + n, sizeof(body) - (size_t)n, "]}}}");
    assert_int_equal(parse_hook(body, "", &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.ev[0].n_media, SMS_MAX_MEDIA);
    assert_string_equal(ev.ev[0].media[SMS_MAX_MEDIA - 1], "https://m/9");
    sms_events_clear(&ev);
}

static struct sms_event *status_hook(const char *file, const char *query, struct sms_events *ev)
{
    char err[128] = "";
    if (parse_hook(file, query, ev, err, sizeof(err)) != 0)
        fail_msg("%s: %s", file, err);
    assert_int_equal(ev->n, 1);
    assert_int_equal(ev->ev[0].kind, SMS_EV_STATUS);
    assert_string_equal(ev->ev[0].provider_id, "40385f64-5717-4562-b3fc-2c963f66afa6");
    return &ev->ev[0];
}

static void test_hook_status(void **state)
{
    (void)state;
    struct sms_events ev;
    struct sms_event *e = status_hook("hook_sent.json", "ref=r-7f3a", &ev);
    assert_int_equal(e->status, SMS_ST_PROGRESS);
    assert_string_equal(e->ref, "r-7f3a");
    sms_events_clear(&ev);

    e = status_hook("hook_delivered.json", "tenant=2&ref=q%2D1", &ev);
    assert_int_equal(e->status, SMS_ST_DELIVERED);
    assert_string_equal(e->ref, "q-1"); /* the URL Telnyx called wins */
    assert_null(e->error);
    sms_events_clear(&ev);

    e = status_hook("hook_delivered.json", "", &ev); /* else payload.webhook_url */
    assert_int_equal(e->status, SMS_ST_DELIVERED);
    assert_string_equal(e->ref, "r-7f3a");
    sms_events_clear(&ev);

    e = status_hook("hook_unconfirmed.json", "ref=r-7f3a", &ev);
    assert_int_equal(e->status, SMS_ST_PROGRESS);
    assert_null(e->error);
    sms_events_clear(&ev);

    e = status_hook("hook_delivery_failed.json", "ref=r-7f3a", &ev);
    assert_int_equal(e->status, SMS_ST_FAILED);
    assert_int_equal(e->cond, TR_COND_RECIPIENT_UNAVAILABLE);
    assert_non_null(strstr(e->error, "40008"));
    assert_non_null(strstr(e->error, "Undeliverable"));
    assert_string_equal(e->ref, "r-7f3a");
    sms_events_clear(&ev);

    e = status_hook("hook_sending_failed.json", "ref=r-7f3a", &ev);
    assert_int_equal(e->status, SMS_ST_FAILED);
    assert_int_equal(e->cond, TR_COND_FORBIDDEN);
    assert_non_null(strstr(e->error, "40300"));
    assert_non_null(strstr(e->error, "sending_failed"));
    sms_events_clear(&ev);

    e = status_hook("hook_failed_noerr.json", "ref=r-7f3a", &ev);
    assert_int_equal(e->status, SMS_ST_FAILED);
    assert_int_equal(e->cond, TR_COND_RECIPIENT_UNAVAILABLE);
    assert_string_equal(e->error, "Telnyx delivery_failed");
    sms_events_clear(&ev);
}

static void test_hook_ignored(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    assert_int_equal(parse_hook("hook_other.json", "ref=r-7f3a", &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 0);
}

static void test_hook_malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "!not json",
        "{\"data\":",
        "[1,2]",
        "{}",
        "{\"data\":[]}",
        "{\"data\":{\"payload\":{}}}",
        "{\"data\":{\"event_type\":42,\"payload\":{}}}",
        "{\"data\":{\"event_type\":\"message.received\"}}",
        "{\"data\":{\"event_type\":\"message.received\",\"payload\":\"x\"}}",
        "{\"data\":{\"event_type\":\"message.received\",\"payload\":{\"id\":\"m\","
        "\"to\":[{\"phone_number\":\"+15551234567\"}]}}}",
        "{\"data\":{\"event_type\":\"message.received\",\"payload\":{\"id\":\"m\","
        "\"from\":{\"phone_number\":\"+15557654321\"},\"to\":[]}}}",
        "{\"data\":{\"event_type\":\"message.received\",\"payload\":{\"id\":\"m\","
        "\"from\":{\"phone_number\":\"+1\"},\"to\":[{\"phone_number\":\"+2\"}],\"text\":5}}}",
        "{\"data\":{\"event_type\":\"message.received\",\"payload\":{\"id\":\"m\","
        "\"from\":{\"phone_number\":\"+1\"},\"to\":[{\"phone_number\":\"+2\"}],\"media\":{}}}}",
        "{\"data\":{\"event_type\":\"message.received\",\"payload\":{"
        "\"from\":{\"phone_number\":\"+1\"},\"to\":[{\"phone_number\":\"+2\"}]}}}",
        "{\"data\":{\"event_type\":\"message.finalized\",\"payload\":{\"id\":\"p\","
        "\"to\":[{\"phone_number\":\"+2\"}]}}}",
        "{\"data\":{\"event_type\":\"message.finalized\",\"payload\":{"
        "\"to\":[{\"status\":\"delivered\"}]}}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sms_events ev;
        char err[128] = "";
        if (parse_hook(bad[i], "", &ev, err, sizeof(err)) != -1)
            fail_msg("accepted malformed #%zu: %s", i, bad[i]);
        assert_int_equal(ev.n, 0);
        assert_true(err[0] != 0);
    }
    /* The KAV body is authentic but has no from/to: malformed, not a crash. */
    struct sms_events ev;
    char err[128] = "";
    assert_int_equal(parse_hook("kav_body.json", "", &ev, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "from"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_send_gsm),
        cmocka_unit_test(test_send_unicode),
        cmocka_unit_test(test_send_status_profile_api_url),
        cmocka_unit_test(test_send_media),
        cmocka_unit_test(test_send_bad_settings),
        cmocka_unit_test(test_parse_send_ok),
        cmocka_unit_test(test_parse_send_permanent),
        cmocka_unit_test(test_parse_send_transient),
        cmocka_unit_test(test_verify_kav),
        cmocka_unit_test(test_verify_missing_headers),
        cmocka_unit_test(test_verify_signed_inbound),
        cmocka_unit_test(test_hook_inbound),
        cmocka_unit_test(test_hook_inbound_mms),
        cmocka_unit_test(test_hook_inbound_edge),
        cmocka_unit_test(test_hook_status),
        cmocka_unit_test(test_hook_ignored),
        cmocka_unit_test(test_hook_malformed),
    };
    return cmocka_run_group_tests_name("prov_telnyx", tests, NULL, NULL);
}
