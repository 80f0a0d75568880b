/* Unit tests for SMS segment counting (transports/sms/segments.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sms/segments.h"

#define EURO "\xE2\x82\xAC"     /* U+20AC, GSM extension table */
#define GRIN "\xF0\x9F\x98\x80" /* U+1F600, outside the BMP */
#define ALPHA "\xCE\xB1"        /* U+03B1 greek small alpha: not GSM */
#define RSQUO "\xE2\x80\x99"    /* U+2019 right single quote: not GSM */

/* Builds a string from pieces: repeat(n, s) appended in order. */
struct text {
    char *s;
    size_t len;
};

static void add(struct text *t, int n, const char *piece)
{
    size_t pl = strlen(piece);
    t->s = realloc(t->s, t->len + (size_t)n * pl + 1);
    assert_non_null(t->s);
    for (int i = 0; i < n; i++) {
        memcpy(t->s + t->len, piece, pl);
        t->len += pl;
    }
    t->s[t->len] = 0;
}

static void check(const struct text *t, int unicode, int units, int parts, int per_part)
{
    struct sms_segments seg;
    assert_int_equal(sms_count_segments(t->s, t->len, &seg), 0);
    assert_int_equal(seg.unicode, unicode);
    assert_int_equal(seg.units, units);
    assert_int_equal(seg.parts, parts);
    assert_int_equal(seg.per_part, per_part);
}

static void check_str(const char *s, int unicode, int units, int parts)
{
    struct text t = {NULL, 0};
    add(&t, 1, s);
    check(&t, unicode, units, parts, unicode ? 70 : 160);
    free(t.s);
}

/* n copies of piece. */
static void check_rep(int n, const char *piece, int unicode, int units, int parts, int per_part)
{
    struct text t = {NULL, 0};
    add(&t, n, piece);
    check(&t, unicode, units, parts, per_part);
    free(t.s);
}

static void test_empty(void **state)
{
    (void)state;
    struct sms_segments seg = {9, 9, 9, 9};
    assert_int_equal(sms_count_segments("", 0, &seg), 0);
    assert_int_equal(seg.parts, 0);
    assert_int_equal(seg.units, 0);
    assert_int_equal(seg.unicode, 0);
    assert_int_equal(seg.per_part, 160);
    assert_int_equal(sms_count_segments(NULL, 0, &seg), 0);
    assert_int_equal(seg.parts, 0);
    assert_int_equal(sms_count_segments(NULL, 1, &seg), -1);
}

static void test_gsm_boundaries(void **state)
{
    (void)state;
    check_rep(1, "a", 0, 1, 1, 160);
    check_rep(160, "a", 0, 160, 1, 160);
    check_rep(161, "a", 0, 161, 2, 153);
    check_rep(306, "a", 0, 306, 2, 153);
    check_rep(307, "a", 0, 307, 3, 153);
    check_rep(459, "a", 0, 459, 3, 153);
    check_rep(460, "a", 0, 460, 4, 153);
}

static void test_gsm_extension(void **state)
{
    (void)state;
    check_str(EURO, 0, 2, 1);
    check_str("^{}\\[~]|\f", 0, 18, 1);
    check_rep(80, EURO, 0, 160, 1, 160);
    check_rep(81, EURO, 0, 162, 2, 153);
    /* 153 euros: 306 septets, but a part holds only 76 of them (152). */
    check_rep(153, EURO, 0, 306, 3, 153);
    check_rep(152, EURO, 0, 304, 2, 153);
}

static void test_euro_straddles_boundary(void **state)
{
    (void)state;
    /* 152 'a' + euro + 7 'a': 161 septets.  Naively 2 parts; the euro
     * cannot start at septet 153 of part 1, so it moves to part 2. */
    struct text t = {NULL, 0};
    add(&t, 152, "a");
    add(&t, 1, EURO);
    add(&t, 7, "a");
    check(&t, 0, 161, 2, 153);
    free(t.s);

    /* 152 'a' + euro + 152 'a' = 306 septets = naive 2 parts, but part 1
     * ends after 152 septets and part 2 holds euro + 151 'a'. */
    t = (struct text){NULL, 0};
    add(&t, 152, "a");
    add(&t, 1, EURO);
    add(&t, 152, "a");
    check(&t, 0, 306, 3, 153);
    free(t.s);

    /* 151 'a' + euro fits part 1 exactly: 306 septets stay in 2 parts. */
    t = (struct text){NULL, 0};
    add(&t, 151, "a");
    add(&t, 1, EURO);
    add(&t, 153, "a");
    check(&t, 0, 306, 2, 153);
    free(t.s);

    /* A single SMS is never split: 158 'a' + euro = 160 septets = 1 part. */
    t = (struct text){NULL, 0};
    add(&t, 158, "a");
    add(&t, 1, EURO);
    check(&t, 0, 160, 1, 160);
    free(t.s);
}

static void test_gsm_basic_specials(void **state)
{
    (void)state;
    check_str("@\xC2\xA3$\xC2\xA5\xC3\xA8\xC3\xA9\xC3\xB9\xC3\xAC\xC3\xB2", 0, 9, 1);
    check_str("\xC3\x87", 0, 1, 1); /* C cedilla, basic 0x09 */
    check_str("\xCE\x94\xCE\xA6\xCE\x93\xCE\x9B\xCE\xA9\xCE\xA0\xCE\xA8\xCE\xA3\xCE\x98\xCE\x9E", 0,
              10, 1); /* capital Greek letters of the basic table */
    check_str("\xC3\x86\xC3\xA6\xC3\x9F\xC3\x89\xC2\xA4\xC2\xA1\xC3\x84\xC3\x96\xC3\x91\xC3\x9C"
              "\xC2\xA7\xC2\xBF\xC3\xA4\xC3\xB6\xC3\xB1\xC3\xBC\xC3\xA0\xC3\x98\xC3\xB8\xC3\x85"
              "\xC3\xA5",
              0, 21, 1);
    check_str("line one\nline two\r\n", 0, 19, 1);
    check_str(" !\"#%&'()*+,-./0123456789:;<=>?_", 0, 32, 1);
    check_str("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 0, 52, 1);
}

static void test_forcing_ucs2(void **state)
{
    (void)state;
    check_str("a\tb", 1, 3, 1);         /* TAB */
    check_str("`", 1, 1, 1);            /* backtick */
    check_str("\xC3\xA7", 1, 1, 1);     /* small c cedilla */
    check_str(RSQUO, 1, 1, 1);          /* smart quote */
    check_str(ALPHA, 1, 1, 1);          /* small Greek */
    check_str("\xE2\x80\xA6", 1, 1, 1); /* ellipsis */
    check_str("caf\xC3\xA9 " GRIN, 1, 7, 1);
    check_str(GRIN, 1, 2, 1);
    /* In UCS-2 the euro and the extension characters cost 1 unit. */
    check_str(EURO "^{" GRIN, 1, 5, 1);
    /* One non-GSM character switches the whole message. */
    struct text t = {NULL, 0};
    add(&t, 100, "a");
    add(&t, 1, "\xC3\xA7");
    check(&t, 1, 101, 2, 67);
    free(t.s);
}

static void test_ucs2_boundaries(void **state)
{
    (void)state;
    check_rep(70, ALPHA, 1, 70, 1, 70);
    check_rep(71, ALPHA, 1, 71, 2, 67);
    check_rep(134, ALPHA, 1, 134, 2, 67);
    check_rep(135, ALPHA, 1, 135, 3, 67);
    check_rep(201, ALPHA, 1, 201, 3, 67);
    check_rep(202, ALPHA, 1, 202, 4, 67);
    check_rep(35, GRIN, 1, 70, 1, 70);
    check_rep(36, GRIN, 1, 72, 2, 67);
    /* 67 emoji = 134 units, but a part holds 33 of them (66 units). */
    check_rep(67, GRIN, 1, 134, 3, 67);
}

static void test_ucs2_surrogate_straddles(void **state)
{
    (void)state;
    /* "x" * 70 + grin = 72 units = 2 parts. */
    struct text t = {NULL, 0};
    add(&t, 69, "x");
    add(&t, 1, "\xC3\xA7");
    add(&t, 1, GRIN);
    check(&t, 1, 72, 2, 67);
    free(t.s);
    t = (struct text){NULL, 0};
    add(&t, 70, "x");
    add(&t, 1, GRIN);
    check(&t, 1, 72, 2, 67);
    free(t.s);

    /* 66 units + emoji + 66 units = 134 units: naive 2 parts; the pair
     * cannot start at unit 67, so 3. */
    t = (struct text){NULL, 0};
    add(&t, 66, ALPHA);
    add(&t, 1, GRIN);
    add(&t, 66, ALPHA);
    check(&t, 1, 134, 3, 67);
    free(t.s);

    /* 65 + emoji ends part 1 exactly: 134 units in 2 parts. */
    t = (struct text){NULL, 0};
    add(&t, 65, ALPHA);
    add(&t, 1, GRIN);
    add(&t, 67, ALPHA);
    check(&t, 1, 134, 2, 67);
    free(t.s);
}

static void invalid(const char *s, size_t len)
{
    struct sms_segments seg = {1, 1, 1, 1};
    assert_int_equal(sms_count_segments(s, len, &seg), -1);
    assert_int_equal(seg.parts, 0);
    assert_int_equal(seg.units, 0);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    invalid("\x80", 1);             /* lone continuation */
    invalid("abc\xC3", 4);          /* truncated 2-byte */
    invalid("\xE2\x82", 2);         /* truncated 3-byte */
    invalid("\xF0\x9F\x98", 3);     /* truncated 4-byte */
    invalid("\xC3(", 2);            /* bad continuation */
    invalid("\xC0\xAF", 2);         /* overlong '/' */
    invalid("\xE0\x80\xAF", 3);     /* overlong */
    invalid("\xF0\x80\x80\xAF", 4); /* overlong */
    invalid("\xED\xA0\x80", 3);     /* UTF-16 surrogate */
    invalid("\xED\xBF\xBF", 3);     /* UTF-16 surrogate */
    invalid("\xF4\x90\x80\x80", 4); /* above U+10FFFF */
    invalid("\xF5\x80\x80\x80", 4); /* F5 lead byte */
    invalid("\xFF", 1);
    invalid("ok" EURO "\xFE", 6);
    /* The counted length is what counts: a cut sequence is invalid even
     * when the rest of the bytes follow in memory. */
    invalid(EURO, 2);
    struct sms_segments seg;
    assert_int_equal(sms_count_segments(EURO, 3, &seg), 0);
    assert_int_equal(sms_count_segments("\xF4\x8F\xBF\xBF", 4, &seg), 0); /* U+10FFFF */
    assert_int_equal(seg.unicode, 1);
    assert_int_equal(seg.units, 2);
}

static void test_nul_is_a_character(void **state)
{
    (void)state;
    struct sms_segments seg;
    assert_int_equal(sms_count_segments("a\0b", 3, &seg), 0);
    assert_int_equal(seg.unicode, 1); /* U+0000 is not GSM '@' */
    assert_int_equal(seg.units, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_gsm_boundaries),
        cmocka_unit_test(test_gsm_extension),
        cmocka_unit_test(test_euro_straddles_boundary),
        cmocka_unit_test(test_gsm_basic_specials),
        cmocka_unit_test(test_forcing_ucs2),
        cmocka_unit_test(test_ucs2_boundaries),
        cmocka_unit_test(test_ucs2_surrogate_straddles),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_nul_is_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
