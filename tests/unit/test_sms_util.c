/* Unit tests for the SMS provider helpers (transports/sms/sms_util.c),
 * including the known-answer signature vectors of the reference sheet
 * (shared/reference/sms-providers.md §c.6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sms/sms_util.h"

static void test_buf(void **state)
{
    (void)state;
    struct sms_buf b = {0};
    size_t len = 99;
    char *s = sms_buf_take(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);

    sms_buf_adds(&b, "abc");
    sms_buf_addf(&b, "-%d-%s", 42, "x");
    for (int i = 0; i < 100; i++)
        sms_buf_add(&b, "0123456789", 10);
    assert_false(b.failed);
    s = sms_buf_take(&b, &len);
    assert_non_null(s);
    assert_int_equal(len, 8 + 1000);
    assert_memory_equal(s, "abc-42-x0123", 12);
    assert_int_equal(strlen(s), len);
    free(s);
    assert_null(b.s);
    sms_buf_free(&b);
}

static void test_urlenc(void **state)
{
    (void)state;
    struct sms_buf b = {0};
    sms_buf_add_urlenc(&b, "a b&c=d/+%\xC3\xA9~._-AZaz09");
    char *s = sms_buf_take(&b, NULL);
    assert_string_equal(s, "a%20b%26c%3Dd%2F%2B%25%C3%A9~._-AZaz09");
    free(s);

    sms_buf_add_param(&b, "To", "+15551234567");
    sms_buf_add_param(&b, "Body", "Hi & bye=ok");
    sms_buf_add_param(&b, "Empty", NULL);
    s = sms_buf_take(&b, NULL);
    assert_string_equal(s, "To=%2B15551234567&Body=Hi%20%26%20bye%3Dok&Empty=");
    free(s);
}

static void test_urldecode(void **state)
{
    (void)state;
    size_t n;
    char *s = sms_urldecode("a+b%20c%2b%2F", 13, 1, &n);
    assert_string_equal(s, "a b c+/");
    assert_int_equal(n, 7);
    free(s);
    s = sms_urldecode("a+b", 3, 0, NULL);
    assert_string_equal(s, "a+b");
    free(s);
    s = sms_urldecode("%41%42xyz", 7, 1, &n); /* only len bytes */
    assert_string_equal(s, "ABx");
    free(s);
    assert_null(sms_urldecode("%", 1, 1, NULL));
    assert_null(sms_urldecode("ab%4", 4, 1, NULL));
    assert_null(sms_urldecode("%4g", 3, 1, NULL));
    assert_null(sms_urldecode("%%41", 4, 1, NULL));
    assert_null(sms_urldecode("%414", 2, 1, NULL)); /* cut by len */
}

/* The pairs of f as "name=value&..." (decoded), to compare in one go. */
static void assert_form(const struct sms_form *f, const char *want)
{
    struct sms_buf b = {0};
    for (size_t i = 0; i < f->n; i++)
        sms_buf_addf(&b, "%s%s=%s", i ? "&" : "", f->kv[i].name, f->kv[i].value);
    char *s = sms_buf_take(&b, NULL);
    assert_string_equal(s, want);
    free(s);
}

static void test_form_parse(void **state)
{
    (void)state;
    const char *body = "b=x+y&a=1&c=%41%42%c3%a9&a=0&empty=&novalue&&=v&plus=%2B1";
    struct sms_form f;
    assert_int_equal(sms_form_parse(body, strlen(body), &f), 0);
    assert_form(&f, "b=x y&a=1&c=AB\xC3\xA9&a=0&empty=&novalue=&=v&plus=+1");
    assert_string_equal(sms_form_get(&f, "a"), "1"); /* first of a repeated name */
    assert_string_equal(sms_form_get(&f, ""), "v");
    assert_null(sms_form_get(&f, "missing"));

    sms_form_sort(&f);
    assert_form(&f, "=v&a=0&a=1&b=x y&c=AB\xC3\xA9&empty=&novalue=&plus=+1");
    sms_form_clear(&f);
    assert_int_equal(f.n, 0);
    assert_null(f.kv);
    sms_form_clear(&f); /* twice is fine */

    assert_int_equal(sms_form_parse("", 0, &f), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(sms_form_parse("a=1&b=2", 3, &f), 0); /* only len bytes */
    assert_form(&f, "a=1");
    sms_form_clear(&f);

    /* Sort in byte order: uppercase before lowercase, prefixes first, then values. */
    const char *many = "b=2&B=1&ab=1&a=3&a=10&a=2";
    assert_int_equal(sms_form_parse(many, strlen(many), &f), 0);
    sms_form_sort(&f);
    assert_form(&f, "B=1&a=10&a=2&a=3&ab=1&b=2");
    sms_form_clear(&f);

    const char *bad[] = {"a=%", "a=1&b=%4", "a=%zz", "%G1=x", "a=1&b=2&c=%2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sms_form_parse(bad[i], strlen(bad[i]), &f), -1);
        assert_int_equal(f.n, 0);
        assert_null(f.kv);
    }
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 §10: the prefixes of "foobar". */
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *enc = sms_base64("foobar", i);
        assert_string_equal(enc, want[i]);
        free(enc);
        unsigned char *dec = NULL;
        size_t n = 99;
        assert_int_equal(sms_unbase64(want[i], &dec, &n), 0);
        assert_int_equal(n, i);
        assert_memory_equal(dec, "foobar", n);
        free(dec);
    }

    /* 7 is odd, so any 256 consecutive bytes hold every byte value. */
    unsigned char data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(255 - i * 7);
    for (size_t len = 0; len <= sizeof(data); len++) {
        char *enc = sms_base64(data, len);
        assert_non_null(enc);
        assert_int_equal(strlen(enc), 4 * ((len + 2) / 3));
        if (len == sizeof(data)) {
            assert_non_null(strchr(enc, '+'));
            assert_non_null(strchr(enc, '/'));
        }
        unsigned char *dec = NULL;
        size_t n = 0;
        assert_int_equal(sms_unbase64(enc, &dec, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(dec, data, len);
        free(dec);
        free(enc);
    }
}

static void test_unbase64_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "Zg",   "Zg=",  "Zm9vY",          "Z===",     "====",
        "Zg=a", "Z=g=", "=Zm9",           "Zm9v!A==", "Zm9v\n",
        "Zm 9", " Zm9", "Zm9 ",           "Zg==Zg==", "Zm9vYg==\r\n\r\n",
        "Zm9-", "Zm9_", "Zm9v\xC3\xA9==",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *dec = NULL;
        size_t n = 0;
        if (sms_unbase64(bad[i], &dec, &n) != -1)
            fail_msg("accepted bad base64 #%zu \"%s\" (%zu bytes)", i, bad[i], n);
        assert_null(dec);
    }
}

static void digest_hex(const char *alg, const char *data, const char *want)
{
    unsigned char dig[64];
    char hex[129];
    int n = sms_digest(alg, data, strlen(data), dig);
    assert_int_equal((size_t)n * 2, strlen(want));
    sms_hex(dig, (size_t)n, 0, hex);
    assert_string_equal(hex, want);
}

static void hmac_b64(const char *alg, const char *key, const char *data, const char *want)
{
    unsigned char mac[64];
    int n = sms_hmac(alg, key, strlen(key), data, strlen(data), mac);
    assert_true(n > 0);
    char *b64 = sms_base64(mac, (size_t)n);
    assert_string_equal(b64, want);
    free(b64);
}

static void hmac_hex(const char *alg, const char *key, const char *data, const char *want)
{
    unsigned char mac[64];
    char hex[129];
    int n = sms_hmac(alg, key, strlen(key), data, strlen(data), mac);
    assert_true(n > 0);
    sms_hex(mac, (size_t)n, 1, hex);
    assert_string_equal(hex, want);
}

static void test_twilio_vectors(void **state)
{
    (void)state;
    /* Form webhook: build the signed string from the POST body. */
    const char *body = "To=%2B15551234567&From=%2B15557654321&Body=Hi+there&"
                       "AccountSid=AC00000000000000000000000000000001&"
                       "MessageSid=SM00000000000000000000000000000001&NumMedia=0";
    struct sms_form f;
    assert_int_equal(sms_form_parse(body, strlen(body), &f), 0);
    sms_form_sort(&f);
    struct sms_buf s = {0};
    sms_buf_adds(&s, "https://gw.example.net/twilio/sms?tenant=7");
    for (size_t i = 0; i < f.n; i++) {
        sms_buf_adds(&s, f.kv[i].name);
        sms_buf_adds(&s, f.kv[i].value);
    }
    sms_form_clear(&f);
    char *str = sms_buf_take(&s, NULL);
    assert_string_equal(str, "https://gw.example.net/twilio/sms?tenant=7"
                             "AccountSidAC00000000000000000000000000000001BodyHi there"
                             "From+15557654321MessageSidSM00000000000000000000000000000001"
                             "NumMedia0To+15551234567");
    hmac_b64("sha1", "test-auth-token-0001", str, "eJrsKwHFnpR0By42yNP/MfCzaBc=");
    free(str);

    /* JSON webhook: bodySHA256 in the URL, the URL alone is signed. */
    const char *json =
        "{\"MessageSid\":\"SM00000000000000000000000000000001\",\"MessageStatus\":\"delivered\"}";
    digest_hex("sha256", json, "c2a49ec3252aa01ed7bfceee3c3ae192ce3a8d483b78b62381a3f1649b15ba99");
    hmac_b64("sha1", "test-auth-token-0001",
             "https://gw.example.net/twilio/status?bodySHA256="
             "c2a49ec3252aa01ed7bfceee3c3ae192ce3a8d483b78b62381a3f1649b15ba99",
             "oZJTTxffbrtdrAslxv3MJNKUifY=");
}

#define VONAGE_STRING                                                                              \
    "&api-key=abcd1234&keyword=HI&message-timestamp=2024-01-02 03:04:05"                           \
    "&messageId=0A0000001234ABCD&msisdn=15557654321&nonce=6d2b4f0e-1c1a-4f1e-9a59-0c7a5e1e2b3c"    \
    "&text=Hi _ bye_ok&timestamp=1704164645&to=15551234567&type=text"

static void test_vonage_vectors(void **state)
{
    (void)state;
    unsigned char dig[64];
    digest_hex("md5", VONAGE_STRING "sigsecret123", "681e224fd3e3261a5c2489add0497f3a");
    hmac_hex("sha256", "sigsecret123", VONAGE_STRING,
             "283ABF59D93A7DECA2BBE41B8304B2875813B70B3E6716BAFF8A01FB647DFDB0");
    hmac_hex("md5", "sigsecret123", VONAGE_STRING, "FE84E16AC28E1535D04955891BDF31B6");

    unsigned char mac[64];
    assert_int_equal(sms_hmac("sha512", "k", 1, "d", 1, mac), 64);
    assert_int_equal(sms_hmac("sha1", "k", 1, "d", 1, mac), 20);
    assert_int_equal(sms_hmac("sha384", "k", 1, "d", 1, mac), -1);
    /* Empty key and data (a well-known HMAC-SHA256 value). */
    hmac_hex("sha256", "", "", "B613679A0814D9EC772F95D778C35FC5FF1697C493715653C6C712144292C5AD");
    assert_int_equal(sms_digest("crc32", "d", 1, dig), -1);
}

/* POST params (sorted name+value) and "." + nonce. */
#define PLIVO_TAIL                                                                                 \
    "From15557654321MessageUUID11111111-2222-3333-4444-555555555555TextHiTo15551234567Typesms"     \
    ".12345678901234567890"

static void test_plivo_vectors(void **state)
{
    (void)state;
    hmac_b64("sha256", "plivo-auth-token-0001", "https://gw.example.net/plivo/sms?" PLIVO_TAIL,
             "YZApGGUgIBLqQNi2zAVrXOyveQOnRwAlQtUqH1l+Zrs=");
    hmac_b64("sha256", "plivo-auth-token-0001",
             "https://gw.example.net/plivo/sms?a=1&b=2." PLIVO_TAIL,
             "x39g4skDAEVDU0S7/1UKpWVuXLZesdLgsv5+vs6KkeI=");
}

static const char telnyx_body[] = "{\"data\":{\"event_type\":\"message.received\",\"id\":\"evt-1\","
                                  "\"payload\":{\"text\":\"hi\"}}}";
static const char telnyx_pub[] = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
static const char telnyx_sig[] =
    "nx2uFwVwPyeJ6OpINTyFdY1JD7w2yJVYTRSZmfIepGCcCec2PvJcpoyYjc2+J7ciswcmODdkPr37JqEVw0QyAw==";

static void test_telnyx_vector(void **state)
{
    (void)state;
    unsigned char *pub = NULL, *sig = NULL;
    size_t pub_len = 0, sig_len = 0;
    assert_int_equal(sms_unbase64(telnyx_pub, &pub, &pub_len), 0);
    assert_int_equal(pub_len, 32);
    assert_int_equal(sms_unbase64(telnyx_sig, &sig, &sig_len), 0);
    assert_int_equal(sig_len, 64);

    struct sms_buf m = {0};
    sms_buf_adds(&m, "1700000000|");
    sms_buf_adds(&m, telnyx_body);
    size_t len = 0;
    char *msg = sms_buf_take(&m, &len);
    assert_int_equal(sms_ed25519_verify(pub, pub_len, sig, sig_len, msg, len), 0);

    /* One byte of the body changed ("hi" -> "hj"). */
    char *hi = strstr(msg, "\"hi\"");
    assert_non_null(hi);
    hi[2] = 'j';
    assert_int_equal(sms_ed25519_verify(pub, pub_len, sig, sig_len, msg, len), -1);
    hi[2] = 'i';
    /* Another timestamp, a flipped signature bit, wrong lengths. */
    msg[9] = '1';
    assert_int_equal(sms_ed25519_verify(pub, pub_len, sig, sig_len, msg, len), -1);
    msg[9] = '0';
    assert_int_equal(sms_ed25519_verify(pub, pub_len, sig, sig_len, msg, len), 0);
    sig[10] ^= 1;
    assert_int_equal(sms_ed25519_verify(pub, pub_len, sig, sig_len, msg, len), -1);
    sig[10] ^= 1;
    assert_int_equal(sms_ed25519_verify(pub, 31, sig, sig_len, msg, len), -1);
    assert_int_equal(sms_ed25519_verify(pub, pub_len, sig, 63, msg, len), -1);
    assert_int_equal(sms_ed25519_verify(pub, pub_len, sig, sig_len, msg, len - 1), -1);
    free(msg);
    free(pub);
    free(sig);
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(sms_ct_equal("abc", 3, "abc", 3));
    assert_false(sms_ct_equal("abc", 3, "abd", 3));
    assert_false(sms_ct_equal("abc", 3, "abcd", 4));
    assert_false(sms_ct_equal("abc", 3, "ab", 2));
    assert_true(sms_ct_equal("", 0, "", 0));
    assert_true(sms_ct_equal("a\0b", 3, "a\0b", 3));
    assert_false(sms_ct_equal("a\0b", 3, "a\0c", 3));
}

static void basic_auth(const char *user, const char *pass, const char *want)
{
    char *h = sms_basic_auth_header(user, pass);
    assert_string_equal(h, want);
    free(h);
}

static void test_basic_auth(void **state)
{
    (void)state;
    basic_auth("user", "pass", "Authorization: Basic dXNlcjpwYXNz");
    /* RFC 7617 */
    basic_auth("Aladdin", "open sesame", "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    basic_auth("user", NULL, "Authorization: Basic dXNlcjo=");
    basic_auth(NULL, NULL, "Authorization: Basic Og==");
}

static void test_retry_after(void **state)
{
    (void)state;
    assert_int_equal(sms_retry_after("5", 3600), 5);
    assert_int_equal(sms_retry_after("0", 3600), 0);
    assert_int_equal(sms_retry_after(" 120", 60), 60);
    assert_int_equal(sms_retry_after("120", 3600), 120);
    assert_int_equal(sms_retry_after("3600", 3600), 3600);
    assert_int_equal(sms_retry_after("99999999999999999999999", 300), 300);
    assert_int_equal(sms_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 3600), 0);
    assert_int_equal(sms_retry_after(NULL, 3600), 0);
    assert_int_equal(sms_retry_after("", 3600), 0);
    assert_int_equal(sms_retry_after("-5", 3600), 0);
    assert_int_equal(sms_retry_after("abc", 3600), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_urlenc),
        cmocka_unit_test(test_urldecode),
        cmocka_unit_test(test_form_parse),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_unbase64_rejects),
        cmocka_unit_test(test_twilio_vectors),
        cmocka_unit_test(test_vonage_vectors),
        cmocka_unit_test(test_plivo_vectors),
        cmocka_unit_test(test_telnyx_vector),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_retry_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
