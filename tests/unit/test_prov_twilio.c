/* Golden-file tests of the Twilio provider (transports/sms/twilio*.c)
 * against sms-providers.md b.1, c.1 and the known-answer vectors of c.6.
 * Golden files: tests/unit/golden/twilio/ (see README there). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms/provider.h"
#include "sms/sms_util.h"

#define PROV sms_twilio
#define PROV_DIR "twilio"
#include "prov_kv.h"

#define SID "AC00000000000000000000000000000001"
#define TOKEN "test-auth-token-0001"
#define STATUS_URL "https://gw.example.net/tw/status?ref=abc"

static const struct kv base_cfg[] = {{"account_sid", SID}, {"auth_token", TOKEN}, {NULL, NULL}};
static struct sms_cfg cfg = {cfg_get, (void *)base_cfg};

/* ---- build_send ----------------------------------------------------------- */

static void check_request(const struct sms_http_req *r, const char *golden_body)
{
    char *body = golden(golden_body, NULL);
    char *auth = golden("send.auth", NULL);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->url, "https://api.twilio.com/2010-04-01/Accounts/" SID "/Messages.json");
    assert_int_equal(r->n_headers, 3);
    assert_string_equal(r->headers[0], auth);
    assert_string_equal(r->headers[1], "Content-Type: application/x-www-form-urlencoded");
    assert_string_equal(r->headers[2], "Accept: application/json");
    assert_int_equal(r->body_len, strlen(body));
    assert_string_equal(r->body, body);
    assert_null(strstr(r->body, TOKEN)); /* the secret only in the auth header */
    free(body);
    free(auth);
}

static void test_build_gsm_status(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Hello there",
                               .segments = 1,
                               .ref = "abc",
                               .status_url = STATUS_URL};
    struct sms_http_req r;
    char err[128] = "";
    assert_int_equal(sms_twilio.build_send(&cfg, &req, &r, err, sizeof(err)), 0);
    check_request(&r, "send_gsm.form");
    sms_http_req_clear(&r);
}

static void test_build_unicode_no_status(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Grüße 😀 €",
                               .unicode = 1,
                               .segments = 1,
                               .ref = "x"};
    struct sms_http_req r;
    char err[128] = "";
    assert_int_equal(sms_twilio.build_send(&cfg, &req, &r, err, sizeof(err)), 0);
    check_request(&r, "send_unicode.form");
    assert_null(strstr(r.body, "StatusCallback"));
    sms_http_req_clear(&r);
}

static void test_build_media(void **state)
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
    struct sms_http_req r;
    char err[128] = "";
    assert_int_equal(sms_twilio.build_send(&cfg, &req, &r, err, sizeof(err)), 0);
    check_request(&r, "send_media.form");
    sms_http_req_clear(&r);
}

static void test_build_messaging_service_and_api_url(void **state)
{
    (void)state;
    const struct kv kv[] = {{"account_sid", SID},
                            {"auth_token", TOKEN},
                            {"messaging_service_sid", "MG00000000000000000000000000000009"},
                            {"api_url", "http://127.0.0.1:8089//"},
                            {NULL, NULL}};
    struct sms_cfg c = {cfg_get, (void *)kv};
    struct sms_send_req req = {.from = "+15557654321", .to = "+15551234567", .text = "Hi & bye=ok"};
    struct sms_http_req r;
    char err[128] = "";
    char *body = golden("send_mss.form", NULL);
    assert_int_equal(sms_twilio.build_send(&c, &req, &r, err, sizeof(err)), 0);
    assert_string_equal(r.url, "http://127.0.0.1:8089/2010-04-01/Accounts/" SID "/Messages.json");
    assert_string_equal(r.body, body);
    free(body);
    sms_http_req_clear(&r);
}

static void test_build_errors(void **state)
{
    (void)state;
    const struct kv no_token[] = {{"account_sid", SID}, {NULL, NULL}};
    struct sms_cfg c = {cfg_get, (void *)no_token};
    const char *media[11];
    for (int i = 0; i < 11; i++)
        media[i] = "https://up.example.org/x.jpg";
    struct sms_send_req ok = {.from = "+15557654321", .to = "+15551234567", .text = "x"};
    struct sms_send_req empty = {.from = "+15557654321", .to = "+15551234567", .text = ""};
    struct sms_send_req many = {
        .from = "+15557654321", .to = "+15551234567", .text = "x", .media = media, .n_media = 11};
    struct sms_send_req nofrom = {.from = "", .to = "+15551234567", .text = "x"};
    struct sms_http_req r;
    char err[128];

    err[0] = 0;
    assert_int_equal(sms_twilio.build_send(&c, &ok, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "auth_token"));
    assert_null(r.method);
    err[0] = 0;
    assert_int_equal(sms_twilio.build_send(&cfg, &empty, &r, err, sizeof(err)), -1);
    assert_true(err[0]);
    err[0] = 0;
    assert_int_equal(sms_twilio.build_send(&cfg, &many, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "10"));
    err[0] = 0;
    assert_int_equal(sms_twilio.build_send(&cfg, &nofrom, &r, err, sizeof(err)), -1);
    assert_true(err[0]);
}

/* ---- parse_send ----------------------------------------------------------- */

static void test_parse_success(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse(201, NULL, "answer_201.json", &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "SM0123456789abcdef0123456789abcdef");
    /* 2xx but no readable id: still accepted, never sent twice. */
    sms_twilio.parse_send(&cfg, 201, NULL, "<html>", 6, &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "");
    sms_twilio.parse_send(&cfg, 200, NULL, "{\"sid\":12}", 10, &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "");
}

static void test_parse_permanent(void **state)
{
    (void)state;
    expect_permanent("answer_21211.json", 400, TR_COND_ITEM_NOT_FOUND,
                     "Twilio error 21211: The 'To' number +1555 is not a valid phone number.");
    expect_permanent("answer_21610.json", 400, TR_COND_FORBIDDEN, "21610");
    expect_permanent("answer_21617.json", 400, TR_COND_NOT_ACCEPTABLE, "21617");
    expect_permanent("answer_21408.json", 400, TR_COND_FORBIDDEN, "21408");
    expect_permanent("answer_21602.json", 400, TR_COND_BAD_REQUEST, "21602");
    expect_permanent("answer_503.html", 404, TR_COND_BAD_REQUEST, "HTTP 404");
}

static void test_parse_auth_failure(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse(401, NULL, "answer_20003.json", &res);
    assert_int_equal(res.outcome, SMS_PERMANENT);
    assert_int_equal(res.cond, TR_COND_INTERNAL_SERVER_ERROR);
    assert_non_null(strstr(res.text, "misconfigured"));
    assert_non_null(strstr(res.text, "20003"));
    assert_null(strstr(res.text, TOKEN));
    sms_twilio.parse_send(&cfg, 403, NULL, "", 0, &res);
    assert_int_equal(res.cond, TR_COND_INTERNAL_SERVER_ERROR);
}

static void test_parse_control_chars(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse(400, NULL, "answer_ctrl.json", &res);
    assert_int_equal(res.outcome, SMS_PERMANENT);
    for (const char *p = res.text; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7F);
    assert_non_null(strstr(res.text, "bad number"));
}

static void test_parse_transient(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse(429, "7", "answer_20429.json", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 7);
    parse(429, "99999", "answer_20429.json", &res);
    assert_int_equal(res.retry_after, 3600);
    parse(429, NULL, "answer_20429.json", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 0);
    parse(503, "30", "answer_503.html", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 30);
    parse(500, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    parse(0, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 0);
}

/* ---- verify --------------------------------------------------------------- */

static struct sms_webhook hook(const char *method, const char *url, const char *ctype,
                               const char *body, const struct kv *headers)
{
    const char *qm = strchr(url, '?');
    struct sms_webhook w = {.method = method,
                            .url = url,
                            .query = qm ? qm + 1 : "",
                            .content_type = ctype,
                            .body = body,
                            .body_len = body ? strlen(body) : 0,
                            .now = 1704164645,
                            .header = hdr_get,
                            .ctx = (void *)headers};
    return w;
}

#define FORM "application/x-www-form-urlencoded"
#define KAT_SIG "eJrsKwHFnpR0By42yNP/MfCzaBc="

static void test_verify_kat_form(void **state)
{
    (void)state;
    char *body = golden("hook_inbound.form", NULL);
    const struct kv h[] = {{"X-Twilio-Signature", KAT_SIG}, {NULL, NULL}};
    struct sms_webhook w =
        hook("POST", "https://gw.example.net/twilio/sms?tenant=7", FORM, body, h);
    assert_int_equal(sms_twilio.verify(&cfg, &w), 0);
    /* the same URL with the default port (Twilio's validator tries both) */
    w.url = "https://gw.example.net:443/twilio/sms?tenant=7";
    assert_int_equal(sms_twilio.verify(&cfg, &w), 0);
    w.url = "https://gw.example.net:8443/twilio/sms?tenant=7";
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    /* a tampered query parameter */
    w.url = "https://gw.example.net/twilio/sms?tenant=8";
    w.query = "tenant=8";
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    free(body);
}

static void test_verify_negative(void **state)
{
    (void)state;
    char *body = golden("hook_inbound.form", NULL);
    const struct kv h[] = {{"X-Twilio-Signature", KAT_SIG}, {NULL, NULL}};
    const struct kv none[] = {{NULL, NULL}};
    const struct kv bad[] = {{"X-Twilio-Signature", "eJrsKwHFnpR0By42yNP/MfCzaBd="}, {NULL, NULL}};
    const char *url = "https://gw.example.net/twilio/sms?tenant=7";

    /* tampered body: Body=Hi+there -> Hi+there! */
    char *tampered = malloc(strlen(body) + 8);
    strcpy(tampered, body);
    char *p = strstr(tampered, "Hi+there");
    assert_non_null(p);
    memmove(p + 9, p + 8, strlen(p + 8) + 1);
    p[8] = '!';
    struct sms_webhook w = hook("POST", url, FORM, tampered, h);
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    /* an added parameter */
    char *added = malloc(strlen(body) + 16);
    sprintf(added, "%s&Extra=1", body);
    w = hook("POST", url, FORM, added, h);
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    /* missing header, wrong signature, wrong token */
    w = hook("POST", url, FORM, body, none);
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    w = hook("POST", url, FORM, body, bad);
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    const struct kv other[] = {{"account_sid", SID}, {"auth_token", "other-token"}, {NULL, NULL}};
    struct sms_cfg c = {cfg_get, (void *)other};
    w = hook("POST", url, FORM, body, h);
    assert_int_equal(sms_twilio.verify(&c, &w), -1);
    free(added);
    free(tampered);
    free(body);
}

static void test_verify_json(void **state)
{
    (void)state;
    char *body = golden("hook_status.json", NULL);
    const struct kv h[] = {{"X-Twilio-Signature", "oZJTTxffbrtdrAslxv3MJNKUifY="}, {NULL, NULL}};
    const char *url = "https://gw.example.net/twilio/status?bodySHA256="
                      "c2a49ec3252aa01ed7bfceee3c3ae192ce3a8d483b78b62381a3f1649b15ba99";
    struct sms_webhook w = hook("POST", url, "application/json", body, h);
    assert_int_equal(sms_twilio.verify(&cfg, &w), 0);
    body[strlen(body) - 3] = 'X'; /* "delivered" -> "deliverXd" */
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    free(body);
}

static void test_verify_python_vectors(void **state)
{
    (void)state;
    /* signatures computed by tests/e2e/fakes/fake_twilio.py */
    char *body = golden("hook_inbound_mms.form", NULL), *sig = golden("hook_inbound_mms.sig", NULL);
    const struct kv h1[] = {{"x-twilio-signature", sig}, {NULL, NULL}};
    struct sms_webhook w = hook("POST", "https://gw.example.net/twilio/sms", FORM, body, h1);
    assert_int_equal(sms_twilio.verify(&cfg, &w), 0);
    free(body);
    free(sig);

    char *q = golden("hook_inbound_get.query", NULL);
    sig = golden("hook_inbound_get.sig", NULL);
    char url[1024];
    snprintf(url, sizeof(url), "https://gw.example.net/twilio/sms?%s", q);
    const struct kv h2[] = {{"X-Twilio-Signature", sig}, {NULL, NULL}};
    w = hook("GET", url, NULL, NULL, h2);
    assert_int_equal(sms_twilio.verify(&cfg, &w), 0);
    free(q);
    free(sig);

    body = golden("hook_status_delivered.form", NULL);
    sig = golden("hook_status_delivered.sig", NULL);
    const struct kv h3[] = {{"X-Twilio-Signature", sig}, {NULL, NULL}};
    w = hook("POST", STATUS_URL, FORM, body, h3);
    assert_int_equal(sms_twilio.verify(&cfg, &w), 0);
    w = hook("POST", "https://gw.example.net/tw/status?ref=abd", FORM, body, h3);
    assert_int_equal(sms_twilio.verify(&cfg, &w), -1);
    free(body);
    free(sig);
}

/* ---- parse_webhook -------------------------------------------------------- */

static int parse_hook(const char *method, const char *url, const char *ctype, const char *body,
                      struct sms_events *ev, char *err, size_t errlen)
{
    struct sms_webhook w = hook(method, url, ctype, body, NULL);
    return sms_twilio.parse_webhook(&cfg, &w, ev, err, errlen);
}

static void test_hook_inbound(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    char *body = golden("hook_inbound.form", NULL);
    assert_int_equal(parse_hook("POST", "https://gw.example.net/twilio/sms?tenant=7", FORM, body,
                                &ev, err, sizeof(err)),
                     0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].from, "+15557654321");
    assert_string_equal(ev.ev[0].to, "+15551234567");
    assert_string_equal(ev.ev[0].text, "Hi there");
    assert_int_equal(ev.ev[0].text_len, 8);
    assert_string_equal(ev.ev[0].msg_id, "SM00000000000000000000000000000001");
    assert_int_equal(ev.ev[0].n_media, 0);
    sms_events_clear(&ev);
    free(body);

    char *q = golden("hook_inbound_get.query", NULL);
    char url[1024];
    snprintf(url, sizeof(url), "https://gw.example.net/twilio/sms?%s", q);
    assert_int_equal(parse_hook("GET", url, NULL, NULL, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].text, "Hi there");
    sms_events_clear(&ev);
    free(q);
}

static void test_hook_inbound_mms(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    char *body = golden("hook_inbound_mms.form", NULL);
    assert_int_equal(
        parse_hook("POST", "https://gw.example.net/twilio/sms", FORM, body, &ev, err, sizeof(err)),
        0);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].text, "look");
    assert_string_equal(ev.ev[0].msg_id, "MM00000000000000000000000000000002");
    assert_int_equal(ev.ev[0].n_media, 2);
    assert_string_equal(ev.ev[0].media[1], "https://api.twilio.com/2010-04-01/Accounts/" SID
                                           "/Messages/MM00000000000000000000000000000002/Media/"
                                           "ME00000000000000000000000000000002");
    sms_events_clear(&ev);
    free(body);
}

static void expect_status(const char *file, enum sms_status st, enum tr_cond cond,
                          const char *needle)
{
    struct sms_events ev;
    char err[128];
    char *body = golden(file, NULL);
    assert_int_equal(parse_hook("POST", STATUS_URL, FORM, body, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_STATUS);
    assert_string_equal(ev.ev[0].ref, "abc");
    assert_string_equal(ev.ev[0].provider_id, "SM00000000000000000000000000000003");
    assert_int_equal(ev.ev[0].status, st);
    if (st == SMS_ST_FAILED) {
        assert_int_equal(ev.ev[0].cond, cond);
        assert_non_null(ev.ev[0].error);
        assert_non_null(strstr(ev.ev[0].error, needle));
    }
    sms_events_clear(&ev);
    free(body);
}

static void test_hook_status(void **state)
{
    (void)state;
    expect_status("hook_status_sent.form", SMS_ST_PROGRESS, 0, NULL);
    expect_status("hook_status_read.form", SMS_ST_PROGRESS, 0, NULL);
    expect_status("hook_status_delivered.form", SMS_ST_DELIVERED, 0, NULL);
    expect_status("hook_status_undelivered.form", SMS_ST_FAILED, TR_COND_RECIPIENT_UNAVAILABLE,
                  "Twilio error 30003");
    expect_status("hook_status_failed.form", SMS_ST_FAILED, TR_COND_NOT_ACCEPTABLE, "30007");
    expect_status("hook_status_undelivered_nocode.form", SMS_ST_FAILED,
                  TR_COND_RECIPIENT_UNAVAILABLE, "undelivered");

    /* the JSON-bodied form, no ref in the URL */
    struct sms_events ev;
    char err[128];
    char *body = golden("hook_status.json", NULL);
    assert_int_equal(parse_hook("POST", "https://gw.example.net/twilio/status?bodySHA256=x",
                                "application/json", body, &ev, err, sizeof(err)),
                     0);
    assert_int_equal(ev.ev[0].kind, SMS_EV_STATUS);
    assert_int_equal(ev.ev[0].status, SMS_ST_DELIVERED);
    assert_null(ev.ev[0].ref);
    assert_string_equal(ev.ev[0].provider_id, "SM00000000000000000000000000000001");
    sms_events_clear(&ev);
    free(body);
}

static void test_hook_malformed(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    const char *u = "https://gw.example.net/twilio/sms";
    static const char *const bad[] = {
        "MessageSid=SM1&From=%2B1555&To=%2B1666&Body=%ZZ",     /* bad escape */
        "MessageSid=SM1&To=%2B15551234567&Body=hi",            /* no From */
        "From=%2B15557654321&To=%2B15551234567&Body=hi",       /* no MessageSid */
        "MessageStatus=delivered&AccountSid=AC1",              /* status without sid */
        "MessageSid=SM1&From=%2B1&To=%2B2&Body=x&NumMedia=two" /* bad NumMedia */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(parse_hook("POST", u, FORM, bad[i], &ev, err, sizeof(err)), -1);
        assert_true(err[0]);
        assert_int_equal(ev.n, 0);
    }
    assert_int_equal(
        parse_hook("POST", u, "application/json", "{\"MessageSid\":", &ev, err, sizeof(err)), -1);
    assert_int_equal(parse_hook("POST", u, "application/json", "[1,2]", &ev, err, sizeof(err)), -1);
    /* invalid UTF-8 is repaired, never passed on */
    assert_int_equal(parse_hook("POST", u, FORM,
                                "MessageSid=SM1&From=%2B15557654321&To=%2B15551234567&Body=a%FFb"
                                "%C3&NumMedia=0",
                                &ev, err, sizeof(err)),
                     0);
    assert_string_equal(ev.ev[0].text, "a\xEF\xBF\xBD"
                                       "b\xEF\xBF\xBD");
    sms_events_clear(&ev);
}

static void test_ok_answer(void **state)
{
    (void)state;
    assert_string_equal(sms_twilio.name, "twilio");
    assert_int_equal(sms_twilio.ok_status, 200);
    assert_string_equal(sms_twilio.ok_content_type, "text/xml");
    assert_string_equal(sms_twilio.ok_body,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>");
    assert_true(sms_twilio.mms && sms_twilio.dlr);
    assert_string_equal(sms_twilio.required_keys[0], "account_sid");
    assert_string_equal(sms_twilio.required_keys[1], "auth_token");
    assert_null(sms_twilio.required_keys[2]);
    assert_string_equal(sms_twilio.optional_keys[0], "messaging_service_sid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_gsm_status),
        cmocka_unit_test(test_build_unicode_no_status),
        cmocka_unit_test(test_build_media),
        cmocka_unit_test(test_build_messaging_service_and_api_url),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_parse_success),
        cmocka_unit_test(test_parse_permanent),
        cmocka_unit_test(test_parse_auth_failure),
        cmocka_unit_test(test_parse_control_chars),
        cmocka_unit_test(test_parse_transient),
        cmocka_unit_test(test_verify_kat_form),
        cmocka_unit_test(test_verify_negative),
        cmocka_unit_test(test_verify_json),
        cmocka_unit_test(test_verify_python_vectors),
        cmocka_unit_test(test_hook_inbound),
        cmocka_unit_test(test_hook_inbound_mms),
        cmocka_unit_test(test_hook_status),
        cmocka_unit_test(test_hook_malformed),
        cmocka_unit_test(test_ok_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
