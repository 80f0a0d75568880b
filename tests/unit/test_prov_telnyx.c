/* Telnyx Messaging v2 provider (transports/sms/telnyx*.c): the descriptor,
 * build_send and parse_send against golden files from the reference sheet
 * (b.3).  verify and parse_webhook: test_prov_telnyx_hook.c.  Golden files:
 * tests/unit/golden/telnyx/. */
#include "telnyx_fixture.h"

#define PROFILE "4000eba1-a0c0-4563-9925-b25e842a7cb6"
#define STATUS_URL "https://gw.example.net/sms/telnyx/status?ref=r-7f3a"

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
    };
    return cmocka_run_group_tests_name("prov_telnyx", tests, NULL, NULL);
}
