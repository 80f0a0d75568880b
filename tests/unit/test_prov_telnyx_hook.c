/* Telnyx Messaging v2 provider (transports/sms/telnyx*.c): webhook
 * verification against the known-answer Ed25519 vector (c.6) and
 * parse_webhook against golden files from the reference sheet (b.3).
 * Descriptor and sending: test_prov_telnyx.c.  Golden files:
 * tests/unit/golden/telnyx/. */
#include "telnyx_fixture.h"

/* ---- webhook fixture ---------------------------------------------------------- */

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
    return cmocka_run_group_tests_name("prov_telnyx_hook", tests, NULL, NULL);
}
