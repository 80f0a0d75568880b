/* Unit tests for E.164 normalisation, validation and masking
 * (transports/sms/e164.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sms/e164.h"

static void ok(const char *in, const char *cc, const char *want)
{
    char out[E164_MAX];
    const char *why = NULL;
    memset(out, 'X', sizeof(out));
    int rc = e164_normalize(in, cc, out, sizeof(out), &why);
    if (rc != 0)
        fail_msg("\"%s\" (cc %s): rejected: %s", in, cc ? cc : "none", why ? why : "?");
    assert_string_equal(out, want);
    assert_true(e164_valid(out));
}

static void bad(const char *in, const char *cc, const char *want_why)
{
    char out[E164_MAX] = "";
    const char *why = NULL;
    int rc = e164_normalize(in, cc, out, sizeof(out), &why);
    if (rc != -1)
        fail_msg("\"%s\" (cc %s): accepted as %s", in ? in : "(null)", cc ? cc : "none", out);
    assert_non_null(why);
    assert_string_equal(why, want_why);
}

static void test_international(void **state)
{
    (void)state;
    ok("+15551234567", NULL, "+15551234567");
    ok("+1 (555) 123-4567", NULL, "+15551234567");
    ok("+44 20 7946 0958", NULL, "+442079460958");
    ok("+49 30/1234-5678", "", "+493012345678");
    ok("+33.1.23.45.67.89", "44", "+33123456789");
    ok("  +15551234567\t\n", NULL, "+15551234567");
    ok("+ 44 20 7946 0958", NULL, "+442079460958");
    /* A "+" form ignores the default country. */
    ok("+442079460958", "1", "+442079460958");
    /* UK style "(0)" after the country code is the trunk prefix: dropped. */
    ok("+44 (0)20 7946 0958", NULL, "+442079460958");
    ok("0044 (0) 20 7946 0958", "49", "+442079460958");
}

static void test_idd_prefixes(void **state)
{
    (void)state;
    ok("0044 20 7946 0958", NULL, "+442079460958");
    ok("0044 20 7946 0958", "44", "+442079460958");
    ok("00 1 555 123 4567", "1", "+15551234567");
    ok("011 44 20 7946 0958", "1", "+442079460958");
    /* 011 is NANP's IDD only; in the UK 011x is a national area code. */
    ok("0118 496 0000", "44", "+441184960000");
    bad("011 44 20 7946 0958", NULL, "no country code and no default country configured");
    bad("000 44 20 7946", "44", "country code cannot start with 0");
    bad("00", "44", "not a phone number");
}

static void test_nanp_local(void **state)
{
    (void)state;
    ok("(555) 123-4567", "1", "+15551234567");
    ok("555-123-4567", "1", "+15551234567");
    ok("555.123.4567", "1", "+15551234567");
    ok("5551234567", "1", "+15551234567");
    ok("1 555 123 4567", "1", "+15551234567");
    ok("1-555-123-4567", "1", "+15551234567");
    ok("5551234567", "+1", "+15551234567"); /* tolerated '+' in the default */
    bad("123-4567", "1", "too few digits for a North American number (need 10)");
    bad("555 123 45678", "1", "not a North American number (need 10 digits)");
    bad("2 555 123 4567", "1", "not a North American number (need 10 digits)");
    bad("155 512 3456", "1", "invalid North American area code");
    bad("1 055 512 3456", "1", "invalid North American area code");
}

static void test_other_countries_local(void **state)
{
    (void)state;
    ok("020 7946 0958", "44", "+442079460958");
    ok("07700 900123", "44", "+447700900123");
    ok("030 12345678", "49", "+493012345678");
    ok("(030) 1234-5678", "49", "+493012345678");
    ok("01 23 45 67 89", "33", "+33123456789");
    /* Without a trunk prefix (Spain has none): the country code is prepended. */
    ok("612 345 678", "34", "+34612345678");
    ok("7700 900123", "44", "+447700900123");
    /* Italy keeps its leading 0. */
    ok("06 1234 5678", "39", "+390612345678");
    ok("347 123 4567", "39", "+393471234567");
    /* Starting with the country code itself: international or national? */
    bad("44 20 7946 0958", "44", "ambiguous: write it with + and the country code");
    bad("020 7946 0958", NULL, "no country code and no default country configured");
    bad("5551234567", "", "no country code and no default country configured");
}

static void test_rejections(void **state)
{
    (void)state;
    bad("", "1", "empty number");
    bad("   ", "1", "empty number");
    bad(NULL, "1", "empty number");
    bad("+", "1", "not a phone number");
    bad("()-", "1", "not a phone number");
    bad("1-800-FLOWERS", "1", "letters are not allowed");
    bad("+1 555 CALL NOW", NULL, "letters are not allowed");
    bad("hello", "1", "letters are not allowed");
    bad("+15551234567 x12", NULL, "extensions are not supported");
    bad("+15551234567 ext. 12", NULL, "extensions are not supported");
    bad("+15551234567 Extension 12", NULL, "extensions are not supported");
    bad("+15551234567;ext=12", NULL, "extensions are not supported");
    bad("555-123-4567,,12", "1", "extensions are not supported");
    bad("555-123-4567#12", "1", "extensions are not supported");
    bad("+1555+1234567", NULL, "not a phone number");
    bad("+1_555_123_4567", NULL, "not a phone number");
    bad("+1\xc2\xa0"
        "5551234567",
        NULL, "not a phone number"); /* no-break space */
    bad("+1\t5551234567", NULL, "not a phone number");
    bad("+05551234567", NULL, "country code cannot start with 0");
    bad("+123456", NULL, "too few digits (min 7)");
    bad("12345", "44", "too short (short codes are not supported)");
    bad("012345", "44", "too short (short codes are not supported)");
    ok("0123456", "44", "+44123456");
    ok("+1234567", NULL, "+1234567");
    bad("+15551234567", "abc", "invalid default country code");
    bad("+15551234567", "0044", "invalid default country code");
    bad("+15551234567", "1234", "invalid default country code");
}

static void test_digit_limits(void **state)
{
    (void)state;
    ok("+123456789012345", NULL, "+123456789012345");
    bad("+1234567890123456", NULL, "too many digits (max 15)");
    ok("00123456789012345", NULL, "+123456789012345");
    bad("001234567890123456", NULL, "too many digits (max 15)");
    /* 13 national digits + "44" = 15; 14 + "44" = 16. */
    ok("01234567890123", "44", "+441234567890123");
    bad("012345678901234", "44", "too many digits (max 15)");
    bad("+1 5551234567 5551234567 5551234567 5551234567 5551234567", NULL,
        "too many digits (max 15)");
    bad("5551234567555123456755512345675551234567", "44", "too many digits (max 15)");
}

static void test_output_buffer(void **state)
{
    (void)state;
    char out[13];
    const char *why = NULL;
    assert_int_equal(e164_normalize("+15551234567", NULL, out, 13, &why), 0);
    assert_string_equal(out, "+15551234567");
    assert_int_equal(e164_normalize("+15551234567", NULL, out, 12, &why), -1);
    assert_string_equal(why, "output buffer too small");
    /* why may be NULL. */
    assert_int_equal(e164_normalize("junk", NULL, out, sizeof(out), NULL), -1);
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(e164_valid("+15551234567"));
    assert_true(e164_valid("+1234567"));
    assert_true(e164_valid("+123456789012345"));
    assert_false(e164_valid("+123456"));
    assert_false(e164_valid("+1234567890123456"));
    assert_false(e164_valid("15551234567"));
    assert_false(e164_valid("+05551234567"));
    assert_false(e164_valid("+1 5551234567"));
    assert_false(e164_valid("+1555123456a"));
    assert_false(e164_valid("+"));
    assert_false(e164_valid(""));
    assert_false(e164_valid(NULL));
}

static void from_provider(const char *raw, const char *cc, const char *want)
{
    char out[E164_MAX] = "";
    int rc = e164_from_provider(raw, cc, out, sizeof(out));
    if (!want) {
        if (rc != -1)
            fail_msg("\"%s\": accepted as %s", raw ? raw : "(null)", out);
        return;
    }
    if (rc != 0)
        fail_msg("\"%s\" (cc %s): rejected", raw, cc ? cc : "none");
    assert_string_equal(out, want);
}

static void test_from_provider(void **state)
{
    (void)state;
    from_provider("15551234567", NULL, "+15551234567"); /* Vonage, Plivo */
    from_provider("15551234567", "44", "+15551234567");
    from_provider("447700900123", "44", "+447700900123");
    from_provider("447700900123", NULL, "+447700900123");
    from_provider("123456789012345", NULL, "+123456789012345");
    from_provider("+15557654321", NULL, "+15557654321"); /* Twilio, Telnyx */
    from_provider("5551234567", "1", "+15551234567");    /* VoIP.ms */
    from_provider("07700900123", "44", "+447700900123");
    from_provider("5551234567", NULL, NULL);
    from_provider("1234567890123456", NULL, NULL);
    from_provider("12345", "1", NULL);  /* short code */
    from_provider("VONAGE", "1", NULL); /* alphanumeric sender */
    from_provider("", "1", NULL);
    from_provider(NULL, "1", NULL);
    char small[8];
    assert_int_equal(e164_from_provider("15551234567", NULL, small, sizeof(small)), -1);
}

static void mask(const char *in, const char *want)
{
    char out[E164_MAX + 4];
    memset(out, 'X', sizeof(out));
    e164_mask(in, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_mask(void **state)
{
    (void)state;
    mask("+15551234567", "+15*******67");
    mask("+442079460958", "+44********58");
    mask("+1234567", "+12***67");
    mask("+123456789012345", "+12***********45");
    mask("15551234567", "(invalid)");
    mask("+1 555", "(invalid)");
    mask(NULL, "(none)");
    char out[6];
    e164_mask("+15551234567", out, sizeof(out));
    assert_string_equal(out, "+15**");
    out[0] = 'Z';
    e164_mask("+15551234567", out, 0);
    assert_int_equal(out[0], 'Z');
    e164_mask("+15551234567", NULL, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_international), cmocka_unit_test(test_idd_prefixes),
        cmocka_unit_test(test_nanp_local),    cmocka_unit_test(test_other_countries_local),
        cmocka_unit_test(test_rejections),    cmocka_unit_test(test_digit_limits),
        cmocka_unit_test(test_output_buffer), cmocka_unit_test(test_valid),
        cmocka_unit_test(test_from_provider), cmocka_unit_test(test_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
