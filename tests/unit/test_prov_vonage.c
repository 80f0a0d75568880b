/* Golden tests for the Vonage SMS API provider (transports/sms/vonage*.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "golden.h"
#include "sms/provider.h"
#include "sms/sms_util.h"
#include "cfg_table.h"

/* ---- fixtures ------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    cfg_reset();
    cfg_set("api_key", "abcd1234");
    cfg_set("api_secret", "s3cr3t-api");
    return 0;
}

static int setup_signed(void **state)
{
    setup(state);
    cfg_set("signature_secret", "sigsecret123");
    return 0;
}

static const char *no_header(const struct sms_webhook *w, const char *name)
{
    (void)w;
    (void)name;
    return NULL;
}

#define KAV_TS 1704164645
#define STATUS_URL "https://gw.example.net/sms/vonage1/status?ref=r8Kq2xZ"

/* A webhook over a golden file: "*.query" files go in the query of a GET,
 * "*.form" and "*.json" in the body of a POST. */
struct hook {
    struct sms_webhook w;
    char *data;
    char url[1024];
};

static void hook_load(struct hook *h, const char *file, const char *extra_query, int64_t now)
{
    size_t len = 0;
    char path[256];
    snprintf(path, sizeof(path), "vonage/%s", file);
    h->data = golden_read(path, &len, 0);
    assert_non_null(h->data);
    memset(&h->w, 0, sizeof(h->w));
    h->w.header = no_header;
    h->w.now = now;
    if (strstr(file, ".query")) {
        h->w.method = "GET";
        h->w.query = h->data;
        h->w.body = "";
    } else {
        h->w.method = "POST";
        h->w.query = extra_query ? extra_query : "";
        h->w.content_type =
            strstr(file, ".json") ? "application/json" : "application/x-www-form-urlencoded";
        h->w.body = h->data;
        h->w.body_len = len;
    }
    snprintf(h->url, sizeof(h->url), "https://gw.example.net/sms/vonage1/hook%s%s",
             *h->w.query ? "?" : "", h->w.query);
    h->w.url = h->url;
}

static void hook_free(struct hook *h)
{
    free(h->data);
}

static int verify_file(const char *file, int64_t now)
{
    struct hook h;
    hook_load(&h, file, NULL, now);
    int rc = sms_vonage.verify(&cfg, &h.w);
    hook_free(&h);
    return rc;
}

static int parse_file(const char *file, const char *extra_query, struct sms_events *ev)
{
    struct hook h;
    char err[256] = "";
    hook_load(&h, file, extra_query, KAV_TS);
    int rc = sms_vonage.parse_webhook(&cfg, &h.w, ev, err, sizeof(err));
    if (rc < 0)
        assert_true(err[0] != 0);
    hook_free(&h);
    return rc;
}

/* ---- build_send ------------------------------------------------------------------ */

static void check_send(const struct sms_send_req *req, const char *golden_file,
                       const char *want_url)
{
    struct sms_http_req out;
    char err[128] = "";
    assert_int_equal(sms_vonage.build_send(&cfg, req, &out, err, sizeof(err)), 0);
    char *want = golden_read(golden_file, NULL, 0);
    assert_non_null(want);
    assert_string_equal(out.method, "POST");
    assert_string_equal(out.url, want_url);
    assert_int_equal(out.body_len, strlen(want));
    assert_string_equal(out.body, want);
    int ct = 0;
    for (size_t i = 0; i < out.n_headers; i++)
        ct |= strcmp(out.headers[i], "Content-Type: application/x-www-form-urlencoded") == 0;
    assert_true(ct);
    assert_null(strstr(out.url, "s3cr3t")); /* the secret only in its form field */
    free(want);
    sms_http_req_clear(&out);
}

static void test_build_gsm(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Hello world & more",
                               .segments = 1,
                               .ref = "r8Kq2xZ",
                               .status_url = STATUS_URL};
    check_send(&req, "vonage/send_gsm.body", "https://rest.nexmo.com/sms/json");
    req.status_url = NULL;
    check_send(&req, "vonage/send_gsm_nostatus.body", "https://rest.nexmo.com/sms/json");
}

static void test_build_unicode_api_url(void **state)
{
    (void)state;
    cfg_set("api_url", "http://127.0.0.1:8099/");
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Grüße 😀 привет",
                               .unicode = 1,
                               .segments = 1,
                               .ref = "r8Kq2xZ",
                               .status_url = STATUS_URL};
    check_send(&req, "vonage/send_unicode.body", "http://127.0.0.1:8099/sms/json");
}

static void test_build_media_as_text(void **state)
{
    (void)state;
    const char *media[] = {"https://up.example.net/a.jpg", "https://up.example.net/b.png"};
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "look",
                               .media = media,
                               .n_media = 2,
                               .ref = "r8Kq2xZ"};
    check_send(&req, "vonage/send_media.body", "https://rest.nexmo.com/sms/json");
}

static void test_build_missing_key(void **state)
{
    (void)state;
    cfg_set("api_secret", NULL);
    struct sms_send_req req = {.from = "+15557654321", .to = "+15551234567", .text = "x"};
    struct sms_http_req out;
    char err[128] = "";
    assert_int_equal(sms_vonage.build_send(&cfg, &req, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "api_secret"));
}

/* ---- parse_send -------------------------------------------------------------------- */

static void parse_send_file(int http, const char *retry_after, const char *file,
                            struct sms_send_result *res)
{
    size_t len = 0;
    char *body = NULL;
    if (file) {
        char path[256];
        snprintf(path, sizeof(path), "vonage/%s", file);
        body = golden_read(path, &len, 0);
        assert_non_null(body);
    }
    sms_vonage.parse_send(&cfg, http, retry_after, body, len, res);
    free(body);
}

static void expect_permanent(const char *file, enum tr_cond cond, const char *needle)
{
    struct sms_send_result res;
    parse_send_file(200, NULL, file, &res);
    assert_int_equal(res.outcome, SMS_PERMANENT);
    assert_int_equal(res.cond, cond);
    assert_non_null(strstr(res.text, needle));
    assert_string_equal(res.provider_id, "");
    for (const char *p = res.text; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7F);
}

static void test_send_accepted(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse_send_file(200, NULL, "resp_ok.json", &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "0A0000001234ABCD");
    parse_send_file(200, NULL, "resp_multi.json", &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "0A0000001234ABC1"); /* the first part's id */
}

static void test_send_malformed_200_is_accepted(void **state)
{
    (void)state;
    struct sms_send_result res;
    const char *junk = "<html>oops</html>";
    sms_vonage.parse_send(&cfg, 200, NULL, junk, strlen(junk), &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "");
}

static void test_send_transient(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse_send_file(200, "7", "resp_throttled.json", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 7);
    parse_send_file(200, NULL, "resp_internal.json", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    parse_send_file(200, NULL, "resp_partial.json", &res); /* part 2 throttled */
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_string_equal(res.provider_id, "");
    parse_send_file(429, "99999", NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 3600);
    parse_send_file(503, "12", NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 12);
    parse_send_file(0, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 0);
}

static void test_send_permanent(void **state)
{
    (void)state;
    expect_permanent("resp_missing.json", TR_COND_BAD_REQUEST, "status 2: Missing to param");
    expect_permanent("resp_invalid.json", TR_COND_BAD_REQUEST, "status 3");
    expect_permanent("resp_badcreds.json", TR_COND_INTERNAL_SERVER_ERROR, "misconfigured");
    expect_permanent("resp_unroutable.json", TR_COND_ITEM_NOT_FOUND, "status 6");
    expect_permanent("resp_barred.json", TR_COND_FORBIDDEN, "Number barred");
    expect_permanent("resp_quota.json", TR_COND_RESOURCE_CONSTRAINT, "status 9");
    expect_permanent("resp_toolong.json", TR_COND_NOT_ACCEPTABLE, "status 12");
    expect_permanent("resp_whitelist.json", TR_COND_FORBIDDEN, "status 29");
    expect_permanent("resp_deactivated.json", TR_COND_FORBIDDEN, "status 33");
    expect_permanent("resp_unknown.json", TR_COND_UNDEFINED, "status 77: Something new");

    struct sms_send_result res;
    parse_send_file(401, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_PERMANENT);
    assert_int_equal(res.cond, TR_COND_INTERNAL_SERVER_ERROR);
    assert_non_null(strstr(res.text, "misconfigured"));
    assert_null(strstr(res.text, "s3cr3t"));
}

/* ---- verify -------------------------------------------------------------------------- */

static void test_verify_unsigned_config_accepts(void **state)
{
    (void)state;
    assert_int_equal(verify_file("inbound.json", 0), 0);
    assert_int_equal(verify_file("inbound_kav_nosig.form", 0), 0);
}

static void test_verify_kav(void **state)
{
    (void)state;
    /* md5hash (the default) */
    assert_int_equal(verify_file("inbound_kav_md5hash.form", KAV_TS + 10), 0);
    assert_int_equal(verify_file("inbound_kav_md5hash.json", KAV_TS - 10), 0);
    /* HMAC-SHA256, upper-case hex in sig */
    cfg_set("signature_method", "sha256");
    assert_int_equal(verify_file("inbound_kav_sha256.form", KAV_TS), 0);
    assert_int_equal(verify_file("inbound_kav_md5hash.form", KAV_TS), -1); /* other method */
    /* HMAC-MD5 over a GET query */
    cfg_set("signature_method", "md5");
    assert_int_equal(verify_file("inbound_kav_hmacmd5.query", KAV_TS), 0);
}

static void test_verify_rejects(void **state)
{
    (void)state;
    assert_int_equal(verify_file("inbound_kav_tampered.form", KAV_TS), -1);
    assert_int_equal(verify_file("inbound_kav_nosig.form", KAV_TS), -1);
    assert_int_equal(verify_file("inbound.json", KAV_TS), -1); /* no sig, no timestamp */
    /* freshness: 300 s either way */
    assert_int_equal(verify_file("inbound_kav_md5hash.form", KAV_TS + 300), 0);
    assert_int_equal(verify_file("inbound_kav_md5hash.form", KAV_TS + 301), -1);
    assert_int_equal(verify_file("inbound_kav_md5hash.form", KAV_TS - 301), -1);
    cfg_set("signature_method", "sha3");
    assert_int_equal(verify_file("inbound_kav_md5hash.form", KAV_TS), -1);
}

static void test_verify_signed_get_dlr_with_ref(void **state)
{
    (void)state;
    cfg_set("signature_method", "sha256");
    /* the callback URL's own ?ref= is in the query but not in the signature */
    assert_int_equal(verify_file("dlr_signed_get.query", KAV_TS + 5), 0);
    struct hook h;
    hook_load(&h, "dlr_signed_get.query", NULL, KAV_TS + 5);
    char *s = strstr(h.data, "status=delivered");
    assert_non_null(s);
    memcpy(s, "status=failed&xx", 16); /* tamper a signed field */
    assert_int_equal(sms_vonage.verify(&cfg, &h.w), -1);
    hook_free(&h);
}

/* ---- parse_webhook --------------------------------------------------------------------- */

static void test_parse_inbound(void **state)
{
    (void)state;
    struct sms_events ev;
    assert_int_equal(parse_file("inbound_kav_md5hash.form", NULL, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].from, "15557654321");
    assert_string_equal(ev.ev[0].to, "15551234567");
    assert_string_equal(ev.ev[0].text, "Hi & bye=ok");
    assert_int_equal(ev.ev[0].text_len, strlen("Hi & bye=ok"));
    assert_string_equal(ev.ev[0].msg_id, "0A0000001234ABCD");
    assert_int_equal(ev.ev[0].concat_total, 0);
    assert_null(ev.ev[0].concat_ref);
    sms_events_clear(&ev);

    assert_int_equal(parse_file("inbound.json", NULL, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].text, "hi");
    sms_events_clear(&ev);

    assert_int_equal(parse_file("inbound_unicode.query", NULL, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].text, "Grüße 😀");
    assert_string_equal(ev.ev[0].msg_id, "0B00000000000001");
    sms_events_clear(&ev);
}

static void test_parse_inbound_concat(void **state)
{
    (void)state;
    struct sms_events ev;
    assert_int_equal(parse_file("inbound_concat2.form", NULL, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].concat_ref, "108");
    assert_int_equal(ev.ev[0].concat_total, 3);
    assert_int_equal(ev.ev[0].concat_part, 2);
    assert_string_equal(ev.ev[0].text, "second part");
    sms_events_clear(&ev);
    assert_int_equal(parse_file("inbound_concat_bad.form", NULL, &ev), -1);
    assert_int_equal(ev.n, 0);
}

static void test_parse_inbound_odd(void **state)
{
    (void)state;
    struct sms_events ev;
    assert_int_equal(parse_file("inbound_binary.form", NULL, &ev), 0);
    assert_int_equal(ev.n, 0);
    assert_int_equal(parse_file("inbound_noid.form", NULL, &ev), -1);

    /* invalid UTF-8 becomes U+FFFD; never a crash */
    char err[128];
    const char *body = "msisdn=1555&to=1666&messageId=X1&text=a%FFb";
    struct sms_webhook w = {.method = "POST",
                            .url = "https://gw/x",
                            .query = "",
                            .content_type = "application/x-www-form-urlencoded",
                            .body = body,
                            .body_len = strlen(body),
                            .header = no_header};
    assert_int_equal(sms_vonage.parse_webhook(&cfg, &w, &ev, err, sizeof(err)), 0);
    assert_string_equal(ev.ev[0].text, "a\xEF\xBF\xBD"
                                       "b");
    sms_events_clear(&ev);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    struct sms_events ev;
    char err[128];
    struct sms_webhook w = {.method = "POST",
                            .url = "https://gw/x",
                            .query = "",
                            .content_type = "application/json",
                            .header = no_header};
    const char *bodies[] = {"{\"msisdn\":", "[1,2]", "msisdn=1&text=%ZZ"};
    for (size_t i = 0; i < 3; i++) {
        w.body = bodies[i];
        w.body_len = strlen(bodies[i]);
        w.content_type = i == 2 ? "application/x-www-form-urlencoded" : "application/json";
        err[0] = 0;
        assert_int_equal(sms_vonage.parse_webhook(&cfg, &w, &ev, err, sizeof(err)), -1);
        assert_true(err[0] != 0);
        assert_int_equal(ev.n, 0);
    }
    /* an empty POST (URL check) is fine and says nothing */
    w.body = "";
    w.body_len = 0;
    assert_int_equal(sms_vonage.parse_webhook(&cfg, &w, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 0);
}

static void check_dlr(const char *file, const char *query, enum sms_status st, enum tr_cond cond,
                      const char *err_needle)
{
    struct sms_events ev;
    assert_int_equal(parse_file(file, query, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_STATUS);
    assert_int_equal(ev.ev[0].status, st);
    assert_string_equal(ev.ev[0].provider_id, "0A0000001234ABCD");
    assert_string_equal(ev.ev[0].ref, "r8Kq2xZ");
    if (st == SMS_ST_FAILED) {
        assert_int_equal(ev.ev[0].cond, cond);
        assert_non_null(ev.ev[0].error);
        assert_non_null(strstr(ev.ev[0].error, err_needle));
    }
    sms_events_clear(&ev);
}

static void test_parse_dlr(void **state)
{
    (void)state;
    check_dlr("dlr_delivered.form", "ref=r8Kq2xZ", SMS_ST_DELIVERED, 0, NULL);
    check_dlr("dlr_delivered.form", NULL, SMS_ST_DELIVERED, 0, NULL); /* client-ref */
    check_dlr("dlr_noclientref.form", "ref=r8Kq2xZ", SMS_ST_DELIVERED, 0, NULL);
    check_dlr("dlr_failed.json", NULL, SMS_ST_FAILED, TR_COND_NOT_ACCEPTABLE, "err-code 6");
    check_dlr("dlr_rejected.form", NULL, SMS_ST_FAILED, TR_COND_FORBIDDEN, "err-code 4");
    /* no client-ref: the ref comes from the callback URL's query */
    check_dlr("dlr_expired.query", NULL, SMS_ST_FAILED, TR_COND_RECIPIENT_UNAVAILABLE,
              "expired (err-code 2");
    check_dlr("dlr_buffered.form", NULL, SMS_ST_PROGRESS, 0, NULL);
    check_dlr("dlr_accepted.json", NULL, SMS_ST_PROGRESS, 0, NULL);
    check_dlr("dlr_signed_get.query", NULL, SMS_ST_DELIVERED, 0, NULL);

    struct sms_events ev;
    assert_int_equal(parse_file("dlr_noid.form", NULL, &ev), -1);
    assert_int_equal(ev.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_build_gsm, setup),
        cmocka_unit_test_setup(test_build_unicode_api_url, setup),
        cmocka_unit_test_setup(test_build_media_as_text, setup),
        cmocka_unit_test_setup(test_build_missing_key, setup),
        cmocka_unit_test_setup(test_send_accepted, setup),
        cmocka_unit_test_setup(test_send_malformed_200_is_accepted, setup),
        cmocka_unit_test_setup(test_send_transient, setup),
        cmocka_unit_test_setup(test_send_permanent, setup),
        cmocka_unit_test_setup(test_verify_unsigned_config_accepts, setup),
        cmocka_unit_test_setup(test_verify_kav, setup_signed),
        cmocka_unit_test_setup(test_verify_rejects, setup_signed),
        cmocka_unit_test_setup(test_verify_signed_get_dlr_with_ref, setup_signed),
        cmocka_unit_test_setup(test_parse_inbound, setup),
        cmocka_unit_test_setup(test_parse_inbound_concat, setup),
        cmocka_unit_test_setup(test_parse_inbound_odd, setup),
        cmocka_unit_test_setup(test_parse_malformed, setup),
        cmocka_unit_test_setup(test_parse_dlr, setup),
    };
    return cmocka_run_group_tests_name("prov_vonage", tests, NULL, NULL);
}
