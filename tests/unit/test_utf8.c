/* Unit tests for the text sanitiser (gateway/utf8.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define FFFD "\xEF\xBF\xBD"

/* Where a hex escape would swallow the letter after it, octal is used:
 * "\002bold" is U+0002 then "bold". */

/* Sanitises in[0..in_len-1] and checks the result is exactly want[0..want_len-1],
 * NUL-terminated, clean, a fixed point of the sanitiser, and that
 * text_is_clean(in) agrees with "output equals input". */
static void check_n(const char *in, size_t in_len, const char *want, size_t want_len)
{
    size_t out_len = (size_t)-1;
    char *out = text_sanitize(in, in_len, &out_len);

    assert_non_null(out);
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[out_len], '\0');
    assert_true(text_is_clean(out, out_len));

    int same = in_len == want_len && memcmp(in, want, want_len) == 0;
    assert_int_equal(text_is_clean(in, in_len) != 0, same);

    size_t again_len;
    char *again = text_sanitize(out, out_len, &again_len);
    assert_non_null(again);
    assert_int_equal(again_len, out_len);
    assert_memory_equal(again, out, out_len);
    free(again);
    free(out);
}

/* For string literals: the lengths exclude the terminating NUL only. */
#define CHECK(in, want) check_n(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void test_empty_and_null(void **state)
{
    (void)state;
    size_t n = 99;
    char *out = text_sanitize(NULL, 0, &n);
    assert_non_null(out);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    free(out);
    out = text_sanitize("", 0, NULL); /* out_len may be NULL */
    assert_non_null(out);
    assert_string_equal(out, "");
    free(out);
    assert_true(text_is_clean("", 0));
    assert_true(text_is_clean(NULL, 0));
    CHECK("", "");
}

static void test_ascii_unchanged(void **state)
{
    (void)state;
    CHECK("hello, world", "hello, world");
    CHECK("<a href=\"x\">&amp;</a>", "<a href=\"x\">&amp;</a>");
    CHECK("tab\there\nnew line\r\n", "tab\there\nnew line\r\n");
    CHECK("del \x7F kept", "del \x7F kept"); /* U+007F is allowed by XML 1.0 */
}

/* Every C0 control byte, alone and between letters. */
static void test_each_c0_control(void **state)
{
    (void)state;
    for (int b = 0x00; b <= 0x1F; b++) {
        char in[3] = {'a', (char)b, 'z'};
        int kept = b == 0x09 || b == 0x0A || b == 0x0D;
        if (kept) {
            check_n(in, 3, in, 3);
            check_n(in + 1, 1, in + 1, 1);
        } else {
            check_n(in, 3, "az", 2);
            check_n(in + 1, 1, "", 0);
        }
    }
}

static void test_nul_bytes_removed(void **state)
{
    (void)state;
    CHECK("a\0b\0\0c", "abc");
    CHECK("\0", "");
    CHECK("\0\0\0", "");
}

static void test_irc_formatting(void **state)
{
    (void)state;
    /* bold, colour, italics, underline, reverse, reset */
    CHECK("\002bold\x02 text", "bold text");
    CHECK("\00304,01red\x03 \x1Du\x1F\x16r\x0F!", "04,01red ur!");
    CHECK("caf\xC3\xA9 \002ol\xC3\xA9\x02", "caf\xC3\xA9 ol\xC3\xA9");
}

static void test_lone_continuation(void **state)
{
    (void)state;
    CHECK("\x80", FFFD);
    CHECK("\xBF", FFFD);
    CHECK("a\200b", "a" FFFD "b");
    CHECK("\x80\x80\x80", FFFD FFFD FFFD); /* one per byte */
    /* a valid 2-byte sequence followed by an extra continuation */
    CHECK("\xC3\xA9\xA9", "\xC3\xA9" FFFD);
}

static void test_truncated_sequences(void **state)
{
    (void)state;
    /* 2-byte lead without its continuation */
    CHECK("a\xC3", "a" FFFD);
    CHECK("\303a", FFFD "a");
    CHECK("\xC3\xC3\xA9", FFFD "\xC3\xA9");
    /* 3-byte: one or two bytes present, at the end and mid-string */
    CHECK("\xE2", FFFD);
    CHECK("\xE2\x82", FFFD);
    CHECK("x\xE2\x82", "x" FFFD);
    CHECK("\xE2\x82z", FFFD "z");
    CHECK("\xE2z", FFFD "z");
    CHECK("\xE2\x82\xE2\x82\xAC", FFFD "\xE2\x82\xAC");
    /* 4-byte: one to three bytes present */
    CHECK("\xF0", FFFD);
    CHECK("\xF0\x9F", FFFD);
    CHECK("\xF0\x9F\x98", FFFD);
    CHECK("\xF0\x9F\x98!", FFFD "!");
    CHECK("\xF0\x9F!", FFFD "!");
    CHECK("\xF0\x9F\x98\xF0\x9F\x98\x80", FFFD "\xF0\x9F\x98\x80");
    CHECK("\xF3\x80\x80", FFFD);
}

static void test_overlong(void **state)
{
    (void)state;
    /* C0 and C1 can only start overlong forms: each byte is its own subpart */
    CHECK("\xC0\x80", FFFD FFFD);
    CHECK("\xC0\xAF", FFFD FFFD);
    CHECK("\xC1\xBF", FFFD FFFD);
    /* E0 80..9F and F0 80..8F are not prefixes of anything valid */
    CHECK("\xE0\x80\x80", FFFD FFFD FFFD);
    CHECK("\xE0\x9F\xBF", FFFD FFFD FFFD);
    CHECK("\xF0\x80\x80\x80", FFFD FFFD FFFD FFFD);
    CHECK("\xF0\x8F\xBF\xBF", FFFD FFFD FFFD FFFD);
    /* the smallest valid forms of each length are kept */
    CHECK("\xC2\x80", "\xC2\x80");
    CHECK("\xE0\xA0\x80", "\xE0\xA0\x80");
    CHECK("\xF0\x90\x80\x80", "\xF0\x90\x80\x80");
}

static void test_surrogates(void **state)
{
    (void)state;
    CHECK("\xED\xA0\x80", FFFD FFFD FFFD);                            /* U+D800 */
    CHECK("\xED\xBF\xBF", FFFD FFFD FFFD);                            /* U+DFFF */
    CHECK("\xED\xA0\xBD\xED\xB8\x80", FFFD FFFD FFFD FFFD FFFD FFFD); /* CESU-8 pair */
    CHECK("\xED\x9F\xBF", "\xED\x9F\xBF");                            /* U+D7FF */
    CHECK("\xEE\x80\x80", "\xEE\x80\x80");                            /* U+E000 */
    CHECK("\xED\x9F", FFFD); /* truncated, not a surrogate */
}

static void test_above_max(void **state)
{
    (void)state;
    CHECK("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"); /* U+10FFFF */
    CHECK("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);
    CHECK("\xF4\xBF\xBF\xBF", FFFD FFFD FFFD FFFD);
    CHECK("\xF4\x8F\xBF", FFFD);
}

static void test_f5_to_ff(void **state)
{
    (void)state;
    for (int b = 0xF5; b <= 0xFF; b++) {
        char one[1] = {(char)b};
        char seq[4] = {(char)b, '\x80', '\x80', '\x80'};
        check_n(one, 1, FFFD, 3);
        check_n(seq, 4, FFFD FFFD FFFD FFFD, 12);
    }
}

/* The worked example of Unicode §3.9 (U+FFFD substitution of maximal
 * subparts). */
static void test_unicode_example(void **state)
{
    (void)state;
    CHECK("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
          "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
}

static void test_noncharacters(void **state)
{
    (void)state;
    CHECK("\xEF\xBF\xBE", ""); /* U+FFFE */
    CHECK("\xEF\xBF\xBF", ""); /* U+FFFF */
    CHECK("a\xEF\xBF\276b\xEF\xBF\277c", "abc");
    CHECK(FFFD, FFFD);                             /* U+FFFD itself is fine */
    CHECK("\xEF\xBF\xBC", "\xEF\xBF\xBC");         /* U+FFFC */
    CHECK("\xEF\xB7\x90", "\xEF\xB7\x90");         /* U+FDD0: allowed by XML 1.0 */
    CHECK("\xF0\x9F\xBF\xBE", "\xF0\x9F\xBF\xBE"); /* U+1FFFE likewise */
    CHECK("\xEF\xBF", FFFD);                       /* truncated U+FFFF is invalid */
}

static void test_valid_multilingual(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "Grüße, François",    /* German, French */
        "Жучка",              /* Russian */
        "ελληνικά",           /* Greek */
        "עברית",              /* Hebrew */
        "العربية",            /* Arabic */
        "日本語",             /* Japanese */
        "한국어",             /* Korean */
        "👍🏽",           /* thumbs up + tone */
        "🇫🇷",                 /* flag: two RIs */
        "👨‍👩‍👧", /* ZWJ */
        "𝄞 𠀋",               /* U+1D11E, U+2000B */
        "\xC2\x85 \xC2\x9F",  /* C1 controls: kept */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t n = strlen(texts[i]);
        assert_true(text_is_clean(texts[i], n));
        check_n(texts[i], n, texts[i], n);
    }
}

static void test_is_clean(void **state)
{
    (void)state;
    assert_true(text_is_clean("abc", 3));
    assert_false(text_is_clean("abc", 4)); /* includes the NUL */
    assert_false(text_is_clean("\x02", 1));
    assert_false(text_is_clean("\xC3", 1));
    assert_true(text_is_clean("\xC3\xA9", 2));
    assert_false(text_is_clean("\xC3\xA9", 1)); /* length is honoured */
    assert_false(text_is_clean("\xEF\xBF\xBE", 3));
    assert_false(text_is_clean("\xED\xA0\x80", 3));
}

/* Long inputs: growth of the output buffer, and long ASCII runs after the
 * output has already outgrown the input. */
static void test_long_inputs(void **state)
{
    (void)state;
    enum { N = 10000 };
    char *in = malloc(3 * N);
    char *want = malloc(9 * N);
    size_t wl = 0;
    assert_non_null(in);
    assert_non_null(want);

    memset(in, 0x80, N); /* every byte becomes 3 */
    for (size_t i = 0; i < N; i++)
        memcpy(want + 3 * i, FFFD, 3);
    check_n(in, N, want, 3 * N);

    /* invalid bytes interleaved with growing ASCII runs */
    size_t il = 0;
    for (size_t run = 1; il + run + 1 < 3 * N; run *= 2) {
        in[il++] = '\xFF';
        memcpy(want + wl, FFFD, 3);
        wl += 3;
        memset(in + il, 'q', run);
        memset(want + wl, 'q', run);
        il += run;
        wl += run;
    }
    check_n(in, il, want, wl);

    /* controls everywhere shrink the output */
    for (size_t i = 0; i < N; i++)
        in[i] = (i % 2) ? 'x' : '\x01';
    memset(want, 'x', N / 2);
    check_n(in, N, want, N / 2);
    free(in);
    free(want);
}

static void test_latin1(void **state)
{
    (void)state;
    size_t n = 99;
    char *s = text_from_latin1("caf\xE9", 4, &n);
    assert_non_null(s);
    assert_string_equal(s, "caf\xC3\xA9");
    assert_int_equal(n, 5);
    free(s);

    s = text_from_latin1("\xA3 \xB1 \xFF\xC0", 6, NULL);
    assert_non_null(s);
    assert_string_equal(s, "£ ± ÿÀ");
    free(s);

    s = text_from_latin1(NULL, 0, &n);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(n, 0);
    free(s);
}

/* Every byte value: C0 controls except TAB/LF/CR removed, 0x80..0x9F kept
 * as the C1 controls U+0080..U+009F, everything else mapped to its code
 * point. */
static void test_latin1_every_byte(void **state)
{
    (void)state;
    for (int b = 0; b <= 0xFF; b++) {
        char in[1] = {(char)b};
        size_t n;
        char *s = text_from_latin1(in, 1, &n);
        assert_non_null(s);
        if (b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D) {
            assert_int_equal(n, 0);
        } else if (b < 0x80) {
            assert_int_equal(n, 1);
            assert_int_equal((unsigned char)s[0], b);
        } else {
            assert_int_equal(n, 2);
            assert_int_equal((unsigned char)s[0], 0xC0 | (b >> 6));
            assert_int_equal((unsigned char)s[1], 0x80 | (b & 0x3F));
        }
        assert_int_equal(s[n], '\0');
        assert_true(text_is_clean(s, n));
        free(s);
    }
    char c1[3] = {'\x80', '\x85', '\x9F'};
    size_t n;
    char *s = text_from_latin1(c1, 3, &n);
    assert_non_null(s);
    assert_int_equal(n, 6);
    assert_memory_equal(s, "\xC2\x80\xC2\x85\xC2\x9F", 6);
    free(s);
    s = text_from_latin1("a\0b\002c\td", 7, &n);
    assert_non_null(s);
    assert_string_equal(s, "abc\td");
    assert_int_equal(n, 5);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_ascii_unchanged),
        cmocka_unit_test(test_each_c0_control),
        cmocka_unit_test(test_nul_bytes_removed),
        cmocka_unit_test(test_irc_formatting),
        cmocka_unit_test(test_lone_continuation),
        cmocka_unit_test(test_truncated_sequences),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_surrogates),
        cmocka_unit_test(test_above_max),
        cmocka_unit_test(test_f5_to_ff),
        cmocka_unit_test(test_unicode_example),
        cmocka_unit_test(test_noncharacters),
        cmocka_unit_test(test_valid_multilingual),
        cmocka_unit_test(test_is_clean),
        cmocka_unit_test(test_long_inputs),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_latin1_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
