/* Golden-file tests of the Plivo provider (transports/sms/plivo*.c)
 * against sms-providers.md b.4, c.4 and the known-answer vectors of c.6.
 * Golden files: tests/unit/golden/plivo/ (see README there). */
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

#define PROV sms_plivo
#define PROV_DIR "plivo"
#include "prov_kv.h"

#define AUTH_ID "MA0000000000000000AB"
#define TOKEN "plivo-auth-token-0001"
#define NONCE "12345678901234567890"
#define STATUS_URL "https://gw.example.net/plivo/status?ref=abc"
#define SMS_URL "https://gw.example.net/plivo/sms"
#define KAT_SIG "YZApGGUgIBLqQNi2zAVrXOyveQOnRwAlQtUqH1l+Zrs="
#define KAT_SIG_Q "x39g4skDAEVDU0S7/1UKpWVuXLZesdLgsv5+vs6KkeI="
#define FORM "application/x-www-form-urlencoded"

static const struct kv base_cfg[] = {{"auth_id", AUTH_ID}, {"auth_token", TOKEN}, {NULL, NULL}};
static struct sms_cfg cfg = {cfg_get, (void *)base_cfg};

/* ---- build_send ----------------------------------------------------------- */

static void build_ok(const struct sms_send_req *req, const char *golden_body)
{
    struct sms_http_req r;
    char err[128] = "";
    char *body = golden(golden_body, NULL), *auth = golden("send.auth", NULL);
    assert_int_equal(sms_plivo.build_send(&cfg, req, &r, err, sizeof(err)), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "https://api.plivo.com/v1/Account/" AUTH_ID "/Message/");
    assert_int_equal(r.n_headers, 3);
    assert_string_equal(r.headers[0], auth);
    assert_string_equal(r.headers[1], "Content-Type: application/json");
    assert_string_equal(r.headers[2], "Accept: application/json");
    assert_int_equal(r.body_len, strlen(body));
    assert_string_equal(r.body, body);
    assert_null(strstr(r.body, TOKEN));
    sms_http_req_clear(&r);
    free(body);
    free(auth);
}

static void test_build_sms_status(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Hello",
                               .segments = 1,
                               .ref = "abc",
                               .status_url = STATUS_URL};
    build_ok(&req, "send_sms.json");
}

static void test_build_unicode_no_status(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Grüße \"😀\" €\n",
                               .unicode = 1,
                               .ref = "x"};
    build_ok(&req, "send_unicode.json");
}

static void test_build_mms(void **state)
{
    (void)state;
    const char *media[] = {"https://up.example.org/a/cat.jpg",
                           "https://up.example.org/b/dog.png?x=1&y=2"};
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "",
                               .media = media,
                               .n_media = 2,
                               .ref = "abc",
                               .status_url = STATUS_URL};
    build_ok(&req, "send_mms.json");
    struct sms_send_req req2 = {.from = "+15557654321",
                                .to = "+15551234567",
                                .text = "look",
                                .media = media,
                                .n_media = 1,
                                .ref = "abc"};
    build_ok(&req2, "send_mms_text.json");
}

static void test_build_api_url_and_errors(void **state)
{
    (void)state;
    const struct kv kv[] = {{"auth_id", AUTH_ID},
                            {"auth_token", TOKEN},
                            {"api_url", "http://127.0.0.1:9/"},
                            {NULL, NULL}};
    struct sms_cfg c = {cfg_get, (void *)kv};
    struct sms_send_req req = {.from = "+15557654321", .to = "+15551234567", .text = "x"};
    struct sms_http_req r;
    char err[128] = "";
    assert_int_equal(sms_plivo.build_send(&c, &req, &r, err, sizeof(err)), 0);
    assert_string_equal(r.url, "http://127.0.0.1:9/v1/Account/" AUTH_ID "/Message/");
    sms_http_req_clear(&r);

    const struct kv no_id[] = {{"auth_token", TOKEN}, {NULL, NULL}};
    struct sms_cfg c2 = {cfg_get, (void *)no_id};
    assert_int_equal(sms_plivo.build_send(&c2, &req, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "auth_id"));
    assert_null(r.method);

    struct sms_send_req bulk = {
        .from = "+15557654321", .to = "+15551234567<15550001111", .text = "x"};
    assert_int_equal(sms_plivo.build_send(&cfg, &bulk, &r, err, sizeof(err)), -1);
    struct sms_send_req empty = {.from = "+15557654321", .to = "+15551234567", .text = ""};
    assert_int_equal(sms_plivo.build_send(&cfg, &empty, &r, err, sizeof(err)), -1);
    const char *media[11];
    for (int i = 0; i < 11; i++)
        media[i] = "https://up.example.org/x.jpg";
    struct sms_send_req many = {
        .from = "+15557654321", .to = "+15551234567", .text = "x", .media = media, .n_media = 11};
    assert_int_equal(sms_plivo.build_send(&cfg, &many, &r, err, sizeof(err)), -1);
}

/* ---- parse_send ----------------------------------------------------------- */

static void test_parse_success(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse(202, NULL, "answer_202.json", &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");
    sms_plivo.parse_send(&cfg, 202, NULL, "{\"message_uuid\":[]}", 19, &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "");
    sms_plivo.parse_send(&cfg, 202, NULL, "not json", 8, &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "");
}

static void test_parse_permanent(void **state)
{
    (void)state;
    expect_permanent("answer_400_dst.json", 400, TR_COND_ITEM_NOT_FOUND,
                     "Plivo error (HTTP 400): invalid dst parameter: 1555");
    expect_permanent("answer_400_src.json", 400, TR_COND_BAD_REQUEST, "src parameter");
    expect_permanent("answer_400_stop.json", 400, TR_COND_FORBIDDEN, "opted out");
    expect_permanent("answer_400_obj.json", 400, TR_COND_ITEM_NOT_FOUND, "This field is required");
    expect_permanent("answer_401.json", 401, TR_COND_INTERNAL_SERVER_ERROR, "misconfigured");
    expect_permanent(NULL, 403, TR_COND_INTERNAL_SERVER_ERROR, "HTTP 403");
    struct sms_send_result res;
    parse(401, NULL, "answer_401.json", &res);
    assert_null(strstr(res.text, TOKEN));
}

static void test_parse_transient(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse(429, "12", "answer_429.json", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 12);
    parse(429, "100000", "answer_429.json", &res);
    assert_int_equal(res.retry_after, 3600);
    parse(503, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 0);
    parse(502, "5", NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 5);
    parse(0, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
}

/* ---- verify --------------------------------------------------------------- */

static struct sms_webhook hook(const char *method, const char *url, const char *body,
                               const struct kv *headers)
{
    const char *qm = strchr(url, '?');
    struct sms_webhook w = {.method = method,
                            .url = url,
                            .query = qm ? qm + 1 : "",
                            .content_type = body ? FORM : NULL,
                            .body = body,
                            .body_len = body ? strlen(body) : 0,
                            .now = 1704164645,
                            .header = hdr_get,
                            .ctx = (void *)headers};
    return w;
}

static void test_verify_kat(void **state)
{
    (void)state;
    char *body = golden("hook_inbound.form", NULL);
    const struct kv h[] = {
        {"X-Plivo-Signature-V3", KAT_SIG}, {"X-Plivo-Signature-V3-Nonce", NONCE}, {NULL, NULL}};
    struct sms_webhook w = hook("POST", SMS_URL, body, h);
    assert_int_equal(sms_plivo.verify(&cfg, &w), 0);

    const struct kv hq[] = {
        {"X-Plivo-Signature-V3", KAT_SIG_Q}, {"X-Plivo-Signature-V3-Nonce", NONCE}, {NULL, NULL}};
    w = hook("POST", SMS_URL "?b=2&a=1", body, hq);
    assert_int_equal(sms_plivo.verify(&cfg, &w), 0);
    w = hook("POST", SMS_URL "?b=2&a=2", body, hq); /* tampered query */
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    free(body);
}

static void test_verify_multiple_signatures(void **state)
{
    (void)state;
    char *body = golden("hook_inbound.form", NULL);
    const struct kv h1[] = {{"X-Plivo-Signature-V3", "AAAA," KAT_SIG},
                            {"X-Plivo-Signature-V3-Nonce", NONCE},
                            {NULL, NULL}};
    const struct kv h2[] = {{"X-Plivo-Signature-V3", KAT_SIG ", BBBB"},
                            {"X-Plivo-Signature-V3-Nonce", NONCE},
                            {NULL, NULL}};
    const struct kv h3[] = {{"X-Plivo-Signature-V3", "AAAA,BBBB,"},
                            {"X-Plivo-Signature-V3-Nonce", NONCE},
                            {NULL, NULL}};
    struct sms_webhook w = hook("POST", SMS_URL, body, h1);
    assert_int_equal(sms_plivo.verify(&cfg, &w), 0);
    w = hook("POST", SMS_URL, body, h2);
    assert_int_equal(sms_plivo.verify(&cfg, &w), 0);
    w = hook("POST", SMS_URL, body, h3);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    free(body);
}

static void test_verify_negative(void **state)
{
    (void)state;
    char *body = golden("hook_inbound.form", NULL);
    const struct kv ok[] = {
        {"X-Plivo-Signature-V3", KAT_SIG}, {"X-Plivo-Signature-V3-Nonce", NONCE}, {NULL, NULL}};
    const struct kv no_sig[] = {{"X-Plivo-Signature-V3-Nonce", NONCE}, {NULL, NULL}};
    const struct kv no_nonce[] = {{"X-Plivo-Signature-V3", KAT_SIG}, {NULL, NULL}};
    const struct kv other_nonce[] = {{"X-Plivo-Signature-V3", KAT_SIG},
                                     {"X-Plivo-Signature-V3-Nonce", "12345678901234567891"},
                                     {NULL, NULL}};
    /* V2 alone is not enough: it does not cover the parameters. */
    const struct kv v2_only[] = {
        {"X-Plivo-Signature-V2", KAT_SIG}, {"X-Plivo-Signature-V2-Nonce", NONCE}, {NULL, NULL}};
    char *tampered = strdup(body);
    char *p = strstr(tampered, "Text=Hi");
    assert_non_null(p);
    p[6] = 'o'; /* Hi -> Ho */

    struct sms_webhook w = hook("POST", SMS_URL, tampered, ok);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    w = hook("POST", SMS_URL, body, no_sig);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    w = hook("POST", SMS_URL, body, no_nonce);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    w = hook("POST", SMS_URL, body, other_nonce);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    w = hook("POST", SMS_URL, body, v2_only);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    w = hook("POST", "https://gw.example.net/plivo/smz", body, ok);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    w = hook("PUT", SMS_URL, body, ok);
    assert_int_equal(sms_plivo.verify(&cfg, &w), -1);
    const struct kv other[] = {{"auth_id", AUTH_ID}, {"auth_token", "other"}, {NULL, NULL}};
    struct sms_cfg c = {cfg_get, (void *)other};
    w = hook("POST", SMS_URL, body, ok);
    assert_int_equal(sms_plivo.verify(&c, &w), -1);
    free(tampered);
    free(body);
}

static void verify_python(const char *method, const char *url, const char *body_file,
                          const char *sig_file)
{
    char *body = body_file ? golden(body_file, NULL) : NULL, *sig = golden(sig_file, NULL);
    const struct kv h[] = {
        {"x-plivo-signature-v3", sig}, {"x-plivo-signature-v3-nonce", NONCE}, {NULL, NULL}};
    struct sms_webhook w = hook(method, url, body, h);
    assert_int_equal(sms_plivo.verify(&cfg, &w), 0);
    free(body);
    free(sig);
}

static void test_verify_python_vectors(void **state)
{
    (void)state;
    /* signatures computed by tests/e2e/fakes/fake_plivo.py */
    verify_python("POST", SMS_URL, "hook_inbound_mms.form", "hook_inbound_mms.sig");
    verify_python("POST", STATUS_URL, "hook_status_delivered.form", "hook_status_delivered.sig");
    verify_python("POST", SMS_URL "?ref=abc&z=", NULL, "hook_nobody.sig");
    char *q = golden("hook_inbound_get.query", NULL);
    char url[1024];
    snprintf(url, sizeof(url), SMS_URL "?%s", q);
    verify_python("GET", url, NULL, "hook_inbound_get.sig");
    free(q);
}

/* ---- parse_webhook -------------------------------------------------------- */

static int parse_hook(const char *method, const char *url, const char *body, struct sms_events *ev,
                      char *err, size_t errlen)
{
    struct sms_webhook w = hook(method, url, body, NULL);
    return sms_plivo.parse_webhook(&cfg, &w, ev, err, errlen);
}

static void test_hook_inbound(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    char *body = golden("hook_inbound.form", NULL);
    assert_int_equal(parse_hook("POST", SMS_URL, body, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].from, "15557654321"); /* as given: the transport adds '+' */
    assert_string_equal(ev.ev[0].to, "15551234567");
    assert_string_equal(ev.ev[0].text, "Hi");
    assert_int_equal(ev.ev[0].text_len, 2);
    assert_string_equal(ev.ev[0].msg_id, "11111111-2222-3333-4444-555555555555");
    assert_int_equal(ev.ev[0].n_media, 0);
    sms_events_clear(&ev);
    free(body);

    char *q = golden("hook_inbound_get.query", NULL);
    char url[1024];
    snprintf(url, sizeof(url), SMS_URL "?%s", q);
    assert_int_equal(parse_hook("GET", url, NULL, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].text, "Hi");
    sms_events_clear(&ev);
    free(q);
}

static void test_hook_inbound_mms(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    char *body = golden("hook_inbound_mms.form", NULL);
    assert_int_equal(parse_hook("POST", SMS_URL, body, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].text, "");
    assert_int_equal(ev.ev[0].n_media, 2);
    assert_string_equal(ev.ev[0].media[0],
                        "https://media.plivo.com/Account/" AUTH_ID "/Media/1.jpg");
    assert_string_equal(ev.ev[0].media[1],
                        "https://media.plivo.com/Account/" AUTH_ID "/Media/2.png");
    sms_events_clear(&ev);
    free(body);
}

static void expect_status(const char *file, enum sms_status st, enum tr_cond cond,
                          const char *needle)
{
    struct sms_events ev;
    char err[128];
    char *body = golden(file, NULL);
    assert_int_equal(parse_hook("POST", STATUS_URL, body, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_STATUS);
    assert_string_equal(ev.ev[0].ref, "abc");
    assert_string_equal(ev.ev[0].provider_id, "33333333-2222-3333-4444-555555555555");
    assert_int_equal(ev.ev[0].status, st);
    if (st == SMS_ST_FAILED) {
        assert_int_equal(ev.ev[0].cond, cond);
        assert_non_null(strstr(ev.ev[0].error, needle));
    }
    sms_events_clear(&ev);
    free(body);
}

static void test_hook_status(void **state)
{
    (void)state;
    expect_status("hook_status_queued.form", SMS_ST_PROGRESS, 0, NULL);
    expect_status("hook_status_sent.form", SMS_ST_PROGRESS, 0, NULL);
    expect_status("hook_status_delivered.form", SMS_ST_DELIVERED, 0, NULL);
    expect_status("hook_status_failed.form", SMS_ST_FAILED, TR_COND_ITEM_NOT_FOUND,
                  "Plivo error 50");
    expect_status("hook_status_undelivered.form", SMS_ST_FAILED, TR_COND_RECIPIENT_UNAVAILABLE,
                  "undelivered");
    expect_status("hook_status_rejected.form", SMS_ST_FAILED, TR_COND_FORBIDDEN, "200");

    /* a part of a split message: correlated by its parent */
    struct sms_events ev;
    char err[128];
    char *body = golden("hook_status_part2.form", NULL);
    assert_int_equal(
        parse_hook("POST", "https://gw.example.net/plivo/status", body, &ev, err, sizeof(err)), 0);
    assert_null(ev.ev[0].ref);
    assert_string_equal(ev.ev[0].provider_id, "44444444-0000-0000-0000-000000000001");
    assert_int_equal(ev.ev[0].status, SMS_ST_DELIVERED);
    sms_events_clear(&ev);
    free(body);
}

static void test_hook_malformed(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    static const char *const bad[] = {
        "From=1555&To=1666&Text=%G1&MessageUUID=1", /* bad escape */
        "To=15551234567&Text=hi&MessageUUID=1",     /* no From */
        "From=15557654321&To=15551234567&Text=hi",  /* no MessageUUID */
        "Status=delivered&From=1&To=2",             /* status without id or ref */
        "",                                         /* nothing */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(parse_hook("POST", SMS_URL, bad[i], &ev, err, sizeof(err)), -1);
        assert_true(err[0]);
        assert_int_equal(ev.n, 0);
    }
    assert_int_equal(parse_hook("POST", SMS_URL, "From=1&To=2&Text=%E2%82&MessageUUID=u1&Type=sms",
                                &ev, err, sizeof(err)),
                     0);
    assert_string_equal(ev.ev[0].text, "\xEF\xBF\xBD\xEF\xBF\xBD");
    sms_events_clear(&ev);
}

static void test_ok_answer(void **state)
{
    (void)state;
    assert_string_equal(sms_plivo.name, "plivo");
    assert_int_equal(sms_plivo.ok_status, 200);
    assert_non_null(sms_plivo.ok_content_type);
    assert_string_equal(sms_plivo.ok_body, "");
    assert_true(sms_plivo.mms && sms_plivo.dlr);
    assert_string_equal(sms_plivo.required_keys[0], "auth_id");
    assert_string_equal(sms_plivo.required_keys[1], "auth_token");
    assert_null(sms_plivo.required_keys[2]);
    assert_null(sms_plivo.optional_keys[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_sms_status),
        cmocka_unit_test(test_build_unicode_no_status),
        cmocka_unit_test(test_build_mms),
        cmocka_unit_test(test_build_api_url_and_errors),
        cmocka_unit_test(test_parse_success),
        cmocka_unit_test(test_parse_permanent),
        cmocka_unit_test(test_parse_transient),
        cmocka_unit_test(test_verify_kat),
        cmocka_unit_test(test_verify_multiple_signatures),
        cmocka_unit_test(test_verify_negative),
        cmocka_unit_test(test_verify_python_vectors),
        cmocka_unit_test(test_hook_inbound),
        cmocka_unit_test(test_hook_inbound_mms),
        cmocka_unit_test(test_hook_status),
        cmocka_unit_test(test_hook_malformed),
        cmocka_unit_test(test_ok_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
