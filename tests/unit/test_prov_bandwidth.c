/* Golden tests for the Bandwidth Messaging v2 provider (transports/sms/bandwidth*.c). */
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
    cfg_set("account_id", "9900001");
    cfg_set("username", "api-user");
    cfg_set("password", "api-pass-0001");
    cfg_set("application_id", "93de2206-9669-4e07-948d-329f4b722ee2");
    cfg_set("callback_user", "bwcb");
    cfg_set("callback_password", "cb-pass-0001");
    return 0;
}

/* The Authorization header the webhook carries (NULL: none). */
static const char *auth_value;

static const char *get_header(const struct sms_webhook *w, const char *name)
{
    (void)w;
    return strcasecmp(name, "Authorization") == 0 ? auth_value : NULL;
}

#define REF "r8Kq2xZ"
#define STATUS_URL "https://gw.example.net/sms/bw1/status?ref=" REF

struct hook {
    struct sms_webhook w;
    char *data;
};

static void hook_load(struct hook *h, const char *file)
{
    size_t len = 0;
    char path[256];
    snprintf(path, sizeof(path), "bandwidth/%s", file);
    h->data = golden_read(path, &len, 0);
    assert_non_null(h->data);
    memset(&h->w, 0, sizeof(h->w));
    h->w.method = "POST";
    h->w.url = "https://gw.example.net/sms/bw1/callback";
    h->w.query = "";
    h->w.content_type = "application/json; charset=utf-8";
    h->w.body = h->data;
    h->w.body_len = len;
    h->w.now = 1704164645;
    h->w.header = get_header;
}

static int parse_file(const char *file, struct sms_events *ev)
{
    struct hook h;
    char err[256] = "";
    hook_load(&h, file);
    int rc = sms_bandwidth.parse_webhook(&cfg, &h.w, ev, err, sizeof(err));
    if (rc < 0)
        assert_true(err[0] != 0);
    free(h.data);
    return rc;
}

/* ---- build_send ------------------------------------------------------------------ */

static void check_send(const struct sms_send_req *req, const char *golden_file,
                       const char *want_url)
{
    struct sms_http_req out;
    char err[128] = "";
    assert_int_equal(sms_bandwidth.build_send(&cfg, req, &out, err, sizeof(err)), 0);
    char *want = golden_read(golden_file, NULL, 0);
    char *auth = golden_read("bandwidth/auth_header.txt", NULL, 0);
    assert_non_null(want);
    assert_non_null(auth);
    assert_string_equal(out.method, "POST");
    assert_string_equal(out.url, want_url);
    assert_int_equal(out.body_len, strlen(want));
    assert_string_equal(out.body, want);
    int ct = 0, au = 0;
    for (size_t i = 0; i < out.n_headers; i++) {
        ct |= strcmp(out.headers[i], "Content-Type: application/json; charset=utf-8") == 0;
        /* "api-user:api-pass-0001" */
        au |= strcmp(out.headers[i], "Authorization: Basic YXBpLXVzZXI6YXBpLXBhc3MtMDAwMQ==") == 0;
    }
    assert_true(ct);
    assert_true(au);
    assert_null(strstr(out.body, "api-pass"));
    assert_null(strstr(out.url, "api-pass"));
    free(want);
    free(auth);
    sms_http_req_clear(&out);
}

#define API "https://messaging.bandwidth.com/api/v2/users/9900001/messages"

static void test_build_sms(void **state)
{
    (void)state;
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Hello \"world\" / more",
                               .segments = 1,
                               .ref = REF,
                               .status_url = STATUS_URL};
    check_send(&req, "bandwidth/send_sms.json", API);
    req.status_url = NULL; /* no per-message callback URL in v2: same body */
    check_send(&req, "bandwidth/send_sms.json", API);
}

static void test_build_unicode_api_url(void **state)
{
    (void)state;
    cfg_set("api_url", "http://127.0.0.1:8098/");
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "Grüße 😀 привет",
                               .unicode = 1,
                               .ref = REF};
    check_send(&req, "bandwidth/send_unicode.json",
               "http://127.0.0.1:8098/api/v2/users/9900001/messages");
}

static void test_build_mms(void **state)
{
    (void)state;
    const char *media[] = {"https://up.example.net/a.jpg", "https://up.example.net/b.png"};
    struct sms_send_req req = {.from = "+15557654321",
                               .to = "+15551234567",
                               .text = "look",
                               .media = media,
                               .n_media = 2,
                               .ref = REF,
                               .status_url = STATUS_URL};
    check_send(&req, "bandwidth/send_mms.json", API);
    req.text = "";
    req.n_media = 1;
    check_send(&req, "bandwidth/send_mms_notext.json", API);
}

static void test_build_missing_key(void **state)
{
    (void)state;
    cfg_set("application_id", NULL);
    struct sms_send_req req = {.from = "+15557654321", .to = "+15551234567", .text = "x"};
    struct sms_http_req out;
    char err[128] = "";
    assert_int_equal(sms_bandwidth.build_send(&cfg, &req, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "application_id"));
}

/* ---- parse_send -------------------------------------------------------------------- */

static void parse_send_file(int http, const char *retry_after, const char *file,
                            struct sms_send_result *res)
{
    size_t len = 0;
    char *body = NULL;
    if (file) {
        char path[256];
        snprintf(path, sizeof(path), "bandwidth/%s", file);
        body = golden_read(path, &len, 0);
        assert_non_null(body);
    }
    sms_bandwidth.parse_send(&cfg, http, retry_after, body, len, res);
    free(body);
}

static void expect_permanent(int http, const char *file, enum tr_cond cond, const char *needle)
{
    struct sms_send_result res;
    parse_send_file(http, NULL, file, &res);
    assert_int_equal(res.outcome, SMS_PERMANENT);
    assert_int_equal(res.cond, cond);
    assert_non_null(strstr(res.text, needle));
    for (const char *p = res.text; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7F);
    assert_null(strstr(res.text, "api-pass"));
}

static void test_send_accepted(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse_send_file(202, NULL, "resp_202.json", &res);
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "1589228074636lm4k2je7j7jklbn2");
    parse_send_file(202, NULL, NULL, &res); /* empty 202: accepted, no id */
    assert_int_equal(res.outcome, SMS_ACCEPTED);
    assert_string_equal(res.provider_id, "");
}

static void test_send_transient(void **state)
{
    (void)state;
    struct sms_send_result res;
    parse_send_file(429, "30", "resp_429.json", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 30);
    parse_send_file(429, "Wed, 21 Oct 2015 07:28:00 GMT", "resp_429.json", &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    assert_int_equal(res.retry_after, 0);
    parse_send_file(503, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
    parse_send_file(0, NULL, NULL, &res);
    assert_int_equal(res.outcome, SMS_TRANSIENT);
}

static void test_send_permanent(void **state)
{
    (void)state;
    expect_permanent(400, "resp_400_to.json", TR_COND_ITEM_NOT_FOUND, "(to: '+1555' must");
    expect_permanent(400, "resp_400_text.json", TR_COND_NOT_ACCEPTABLE, "request-validation");
    expect_permanent(400, "resp_400_plain.json", TR_COND_BAD_REQUEST, "HTTP 400");
    expect_permanent(401, "resp_401.json", TR_COND_INTERNAL_SERVER_ERROR, "misconfigured");
    expect_permanent(403, "resp_403.json", TR_COND_INTERNAL_SERVER_ERROR, "forbidden");
    expect_permanent(415, "resp_415.json", TR_COND_INTERNAL_SERVER_ERROR,
                     "unsupported-content-type");
    expect_permanent(400, NULL, TR_COND_BAD_REQUEST, "HTTP 400");
}

/* ---- verify -------------------------------------------------------------------------- */

static int verify_with(const char *auth)
{
    struct hook h;
    hook_load(&h, "cb_delivered.json");
    auth_value = auth;
    int rc = sms_bandwidth.verify(&cfg, &h.w);
    auth_value = NULL;
    free(h.data);
    return rc;
}

static void test_verify(void **state)
{
    (void)state;
    char *good = golden_read("bandwidth/auth_header.txt", NULL, 0);
    char *wrong = golden_read("bandwidth/auth_header_wrong.txt", NULL, 0);
    assert_non_null(good);
    assert_non_null(wrong);
    assert_int_equal(verify_with(good), 0);
    assert_int_equal(verify_with("basic   YndjYjpjYi1wYXNzLTAwMDE=  "), 0); /* scheme case */
    assert_int_equal(verify_with(wrong), -1);
    assert_int_equal(verify_with(NULL), -1);
    assert_int_equal(verify_with(""), -1);
    assert_int_equal(verify_with("Bearer YndjYjpjYi1wYXNzLTAwMDE="), -1);
    assert_int_equal(verify_with("Basic YndjYjpjYi1wYXNzLTAwMDE= x"), -1);
    assert_int_equal(verify_with("Basic !!!!"), -1);
    assert_int_equal(verify_with("BasicYndjYjpjYi1wYXNzLTAwMDE="), -1);
    /* "bwcb:cb-pass-000" (a prefix of the password) */
    assert_int_equal(verify_with("Basic YndjYjpjYi1wYXNzLTAwMA=="), -1);
    cfg_set("callback_password", NULL); /* no credentials configured: nothing is authentic */
    assert_int_equal(verify_with(good), -1);
    free(good);
    free(wrong);
}

/* ---- parse_webhook --------------------------------------------------------------------- */

static void test_parse_received(void **state)
{
    (void)state;
    struct sms_events ev;
    assert_int_equal(parse_file("cb_received.json", &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_INBOUND);
    assert_string_equal(ev.ev[0].from, "+15557654321");
    assert_string_equal(ev.ev[0].to, "+15551234567");
    assert_string_equal(ev.ev[0].text, "Grüße 😀");
    assert_string_equal(ev.ev[0].msg_id, "14762070468292kw2fuqty55yp2b3");
    assert_int_equal(ev.ev[0].n_media, 0);
    sms_events_clear(&ev);
}

static void test_parse_received_group_media(void **state)
{
    (void)state;
    struct sms_events ev;
    assert_int_equal(parse_file("cb_received_group.json", &ev), 0);
    assert_int_equal(ev.n, 2); /* one per owned number */
    const char *owners[] = {"+15551234567", "+15550001111"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(ev.ev[i].kind, SMS_EV_INBOUND);
        assert_string_equal(ev.ev[i].to, owners[i]);
        assert_string_equal(ev.ev[i].text, "hi all");
        assert_int_equal(ev.ev[i].n_media, 1);
        assert_non_null(strstr(ev.ev[i].media[0], "/media/14762070468292kw2fuqty55yp2b2/0/"));
    }
    /* distinct dedupe keys for the two owned numbers */
    assert_string_equal(ev.ev[0].msg_id, "14762070468292kw2fuqty55yp2b2/+15551234567");
    assert_string_equal(ev.ev[1].msg_id, "14762070468292kw2fuqty55yp2b2/+15550001111");
    sms_events_clear(&ev);
}

static void check_status(const char *file, enum sms_status st, enum tr_cond cond,
                         const char *needle)
{
    struct sms_events ev;
    assert_int_equal(parse_file(file, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].kind, SMS_EV_STATUS);
    assert_int_equal(ev.ev[0].status, st);
    assert_string_equal(ev.ev[0].provider_id, "1589228074636lm4k2je7j7jklbn2");
    assert_string_equal(ev.ev[0].ref, REF);
    if (st == SMS_ST_FAILED) {
        assert_int_equal(ev.ev[0].cond, cond);
        assert_non_null(strstr(ev.ev[0].error, needle));
    }
    sms_events_clear(&ev);
}

static void test_parse_status(void **state)
{
    (void)state;
    check_status("cb_delivered.json", SMS_ST_DELIVERED, 0, NULL);
    check_status("cb_failed.json", SMS_ST_FAILED, TR_COND_ITEM_NOT_FOUND,
                 "Bandwidth error 4720: invalid-destination-address");
    check_status("cb_failed_optout.json", SMS_ST_FAILED, TR_COND_FORBIDDEN, "4775");
    check_status("cb_failed_5xxx.json", SMS_ST_FAILED, TR_COND_RECIPIENT_UNAVAILABLE, "5600");
    check_status("cb_failed_9902.json", SMS_ST_PROGRESS, 0, NULL);

    struct sms_events ev;
    assert_int_equal(parse_file("cb_sending.json", &ev), 0); /* ignored */
    assert_int_equal(ev.n, 0);
}

static void test_parse_batch(void **state)
{
    (void)state;
    struct sms_events ev;
    assert_int_equal(parse_file("cb_batch.json", &ev), 0);
    assert_int_equal(ev.n, 3); /* sending and the unknown type are skipped */
    assert_int_equal(ev.ev[0].kind, SMS_EV_STATUS);
    assert_int_equal(ev.ev[0].status, SMS_ST_DELIVERED);
    assert_int_equal(ev.ev[1].kind, SMS_EV_INBOUND);
    assert_int_equal(ev.ev[2].kind, SMS_EV_STATUS);
    assert_int_equal(ev.ev[2].status, SMS_ST_FAILED);
    assert_int_equal(ev.ev[2].cond, TR_COND_NOT_ACCEPTABLE); /* "4470" as a string */
    assert_non_null(strstr(ev.ev[2].error, "4470"));
    sms_events_clear(&ev);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    struct sms_events ev;
    assert_int_equal(parse_file("cb_noid.json", &ev), -1);
    assert_int_equal(ev.n, 0);
    assert_int_equal(parse_file("cb_notype.json", &ev), -1);
    assert_int_equal(ev.n, 0);

    char err[128];
    struct sms_webhook w = {.method = "POST",
                            .url = "https://gw/x",
                            .query = "",
                            .content_type = "application/json",
                            .header = get_header};
    const char *bodies[] = {"",
                            "[{\"type\":",
                            "\"x\"",
                            "[1]",
                            "[{\"type\":\"message-received\",\"message\":{\"id\":\"a\"}}]",
                            "[{\"type\":\"message-failed\",\"message\":[]}]"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        w.body = bodies[i];
        w.body_len = strlen(bodies[i]);
        err[0] = 0;
        assert_int_equal(sms_bandwidth.parse_webhook(&cfg, &w, &ev, err, sizeof(err)), -1);
        assert_true(err[0] != 0);
        assert_int_equal(ev.n, 0);
    }
    /* an empty array is fine */
    w.body = "[]";
    w.body_len = 2;
    assert_int_equal(sms_bandwidth.parse_webhook(&cfg, &w, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 0);
    /* invalid UTF-8 in text is replaced, not fatal */
    const char *bad = "[{\"type\":\"message-received\",\"message\":{\"id\":\"m1\",\"from\":\"+1\","
                      "\"owner\":\"+2\",\"text\":\"a\xFF"
                      "b\"}}]";
    w.body = bad;
    w.body_len = strlen(bad);
    assert_int_equal(sms_bandwidth.parse_webhook(&cfg, &w, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].text, "a\xEF\xBF\xBD"
                                       "b");
    sms_events_clear(&ev);
}

static void test_parse_too_many(void **state)
{
    (void)state;
    struct sms_buf b = {0};
    sms_buf_adds(&b, "[");
    for (int i = 0; i < SMS_MAX_EVENTS + 1; i++)
        sms_buf_addf(&b, "%s{\"type\":\"message-delivered\",\"message\":{\"id\":\"m%d\"}}",
                     i ? "," : "", i);
    sms_buf_adds(&b, "]");
    size_t len = 0;
    char *body = sms_buf_take(&b, &len);
    assert_non_null(body);
    struct sms_webhook w = {.method = "POST",
                            .url = "https://gw/x",
                            .query = "",
                            .content_type = "application/json",
                            .body = body,
                            .body_len = len,
                            .header = get_header};
    struct sms_events ev;
    char err[128] = "";
    assert_int_equal(sms_bandwidth.parse_webhook(&cfg, &w, &ev, err, sizeof(err)), -1);
    assert_int_equal(ev.n, 0);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_build_sms, setup),
        cmocka_unit_test_setup(test_build_unicode_api_url, setup),
        cmocka_unit_test_setup(test_build_mms, setup),
        cmocka_unit_test_setup(test_build_missing_key, setup),
        cmocka_unit_test_setup(test_send_accepted, setup),
        cmocka_unit_test_setup(test_send_transient, setup),
        cmocka_unit_test_setup(test_send_permanent, setup),
        cmocka_unit_test_setup(test_verify, setup),
        cmocka_unit_test_setup(test_parse_received, setup),
        cmocka_unit_test_setup(test_parse_received_group_media, setup),
        cmocka_unit_test_setup(test_parse_status, setup),
        cmocka_unit_test_setup(test_parse_batch, setup),
        cmocka_unit_test_setup(test_parse_malformed, setup),
        cmocka_unit_test_setup(test_parse_too_many, setup),
    };
    return cmocka_run_group_tests_name("prov_bandwidth", tests, NULL, NULL);
}
