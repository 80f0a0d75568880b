/* Unit tests for IRC text conversion and CTCP parsing
 * (transports/irc/irc_text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "irc/irc_text.h"
#include "utf8.h"

/* Where a hex escape would swallow the next character, octal is used:
 * "\0034e" is U+0003 then "4e". */

static void check_n(const char *in, size_t len, const char *cs, const char *want)
{
    size_t n = (size_t)-1;
    char *out = irc_text_to_utf8(in, len, cs, &n);
    assert_non_null(out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    assert_true(text_is_clean(out, n));
    free(out);
}
#define CHECK(in, cs, want) check_n(in, sizeof(in) - 1, cs, want)

static void test_valid_utf8_untouched(void **state)
{
    (void)state;
    CHECK("plain text", NULL, "plain text");
    CHECK("h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x82\xac \xe4\xb8\xad", "cp1252",
          "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x82\xac \xe4\xb8\xad");
    CHECK("", NULL, "");
    CHECK("tab\tstays", NULL, "tab\tstays");

    char *out = irc_text_to_utf8(NULL, 5, NULL, NULL); /* out_len may be NULL */
    assert_non_null(out);
    assert_string_equal(out, "");
    free(out);
}

static void test_colour_codes(void **state)
{
    (void)state;
    CHECK("\00304red\x03 normal", NULL, "red normal");
    CHECK("\0034red", NULL, "red");
    CHECK("\00312,04x", NULL, "x");
    CHECK("\0031,2x", NULL, "x");
    CHECK("\00399,99x", NULL, "x");
    CHECK("\x03", NULL, "");
    CHECK("a\x03", NULL, "a");
    CHECK("\x03,x", NULL, ",x");
    CHECK("\x03,12", NULL, ",12"); /* no background without a foreground */
    CHECK("\00312,", NULL, ",");
    CHECK("\00312,x", NULL, ",x");
    CHECK("\003123", NULL, "3"); /* at most 2 digits */
    CHECK("\0031,234", NULL, "4");
    CHECK("score \003035\x03:2", NULL, "score 5:2");
}

static void test_hex_colour(void **state)
{
    (void)state;
    CHECK("\004FF0000red", NULL, "red");
    CHECK("\004ff0000,00FF00x", NULL, "x");
    CHECK("\004FF0000,12", NULL, ",12");
    CHECK("\004ABCDEz", NULL, "ABCDEz"); /* 5 hex digits: just a reset */
    CHECK("\x04", NULL, "");
    CHECK("a\004b", NULL, "ab");
}

static void test_other_formatting(void **state)
{
    (void)state;
    CHECK("\002b\x02 \x1di\x1d \x1fu\x1f \x16r\x16 \x1es\x1e \x11m\x11 \x0f.", NULL,
          "b i u r s m .");
}

static void test_fallback_charsets(void **state)
{
    (void)state;
    CHECK("caf\xe9", NULL, "caf\xc3\xa9");
    CHECK("caf\xe9", "latin1", "caf\xc3\xa9");
    CHECK("caf\xe9", "ISO-8859-1", "caf\xc3\xa9");
    CHECK("caf\xe9", "no-such-charset", "caf\xc3\xa9");
    CHECK("caf\xe9", "utf-8", "caf\xef\xbf\xbd");
    CHECK("\x80", "cp1252", "\xe2\x82\xac");
    CHECK("\x80", "Windows-1252", "\xe2\x82\xac");
    CHECK("\x93quoted\x94 \x85", "cp1252", "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\xa6");
    CHECK("\x81\x9f\xa0\xff", "cp1252", "\xc2\x81\xc5\xb8\xc2\xa0\xc3\xbf");
    CHECK("\x80", "latin1", "\xc2\x80");
    /* one invalid byte makes the whole line fall back */
    CHECK("\xc3\xa9 and \xe9", "latin1", "\xc3\x83\xc2\xa9 and \xc3\xa9");
    /* formatting around Latin-1 text */
    CHECK("\002caf\xe9\x02 \00304r\xf6t", NULL, "caf\xc3\xa9 r\xc3\xb6t");

    assert_true(irc_charset_valid("latin1"));
    assert_true(irc_charset_valid("CP1252"));
    assert_true(irc_charset_valid("utf8"));
    assert_false(irc_charset_valid("koi8-r"));
    assert_false(irc_charset_valid(NULL));
}

static void test_controls_removed(void **state)
{
    (void)state;
    CHECK("a\001b\007c\0d\x1b[0m\x7f", NULL, "abcd[0m\x7f");
    CHECK("\001ACTION waves\x01", NULL, "ACTION waves");

    /* every single byte, in every charset, gives clean text */
    const char *cs[] = {NULL, "cp1252", "utf-8"};
    for (int c = 0; c < 3; c++) {
        for (int b = 0; b < 256; b++) {
            char in[3] = {'x', (char)b, 'y'};
            size_t n;
            char *out = irc_text_to_utf8(in, 3, cs[c], &n);
            assert_non_null(out);
            assert_true(text_is_clean(out, n));
            assert_true(n <= 9);
            free(out);
        }
    }
}

static void ctcp(const char *s, enum irc_ctcp_kind kind, const char *cmd, const char *arg)
{
    const char *c = NULL, *a = NULL;
    size_t cl = 99, al = 99;

    assert_int_equal(irc_ctcp_parse(s, strlen(s), &c, &cl, &a, &al), kind);
    if (kind == IRC_CTCP_NONE) {
        assert_null(c);
        assert_null(a);
        return;
    }
    assert_int_equal(cl, strlen(cmd));
    assert_memory_equal(c, cmd, cl);
    assert_int_equal(al, strlen(arg));
    assert_memory_equal(a, arg, al);
}

static void test_ctcp(void **state)
{
    (void)state;
    ctcp("\001ACTION waves\x01", IRC_CTCP_ACTION, "ACTION", "waves");
    ctcp("\001ACTION waves", IRC_CTCP_ACTION, "ACTION", "waves");
    ctcp("\001ACTION  two  spaces \x01", IRC_CTCP_ACTION, "ACTION", " two  spaces ");
    ctcp("\001ACTION\x01", IRC_CTCP_ACTION, "ACTION", "");
    ctcp("\001action hi", IRC_CTCP_ACTION, "action", "hi");
    ctcp("\x01VERSION\x01", IRC_CTCP_VERSION, "VERSION", "");
    ctcp("\x01VERSION Ferry 1.0\x01", IRC_CTCP_VERSION, "VERSION", "Ferry 1.0");
    ctcp("\x01PING 12345\x01", IRC_CTCP_OTHER, "PING", "12345");
    ctcp("\001ACTIONS x\x01", IRC_CTCP_OTHER, "ACTIONS", "x");
    ctcp("hello", IRC_CTCP_NONE, NULL, NULL);
    ctcp("", IRC_CTCP_NONE, NULL, NULL);
    ctcp("\x01", IRC_CTCP_NONE, NULL, NULL);
    ctcp("\x01\x01", IRC_CTCP_NONE, NULL, NULL);
    ctcp("\x01 x\x01", IRC_CTCP_NONE, NULL, NULL);
    ctcp("\001AB\002C x\x01", IRC_CTCP_NONE, NULL, NULL);
    ctcp("x\x01PING\x01", IRC_CTCP_NONE, NULL, NULL);

    /* outputs may be NULL */
    assert_int_equal(irc_ctcp_parse("\x01VERSION\x01", 9, NULL, NULL, NULL, NULL),
                     IRC_CTCP_VERSION);
    assert_int_equal(irc_ctcp_parse(NULL, 4, NULL, NULL, NULL, NULL), IRC_CTCP_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_utf8_untouched),
        cmocka_unit_test(test_colour_codes),
        cmocka_unit_test(test_hex_colour),
        cmocka_unit_test(test_other_formatting),
        cmocka_unit_test(test_fallback_charsets),
        cmocka_unit_test(test_controls_removed),
        cmocka_unit_test(test_ctcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
