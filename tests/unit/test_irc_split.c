/* Unit tests for splitting message bodies into IRC lines
 * (transports/irc/irc_split.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "irc/irc_line.h"
#include "irc/irc_split.h"
#include "utf8.h"

#define E_ACUTE "\xc3\xa9"          /* é, 2 bytes */
#define GRINNING "\xf0\x9f\x98\x80" /* 😀, 4 bytes */
#define EURO "\xe2\x82\xac"         /* €, 3 bytes */

/* Splits and checks every chunk: non-empty, within the budget, no CR, LF
 * or NUL, and the full relayed line within 512 bytes; irc_build accepts
 * the chunk as text. */
static void split_ok(const char *body, size_t len, const char *target, size_t prefix_len,
                     int action, struct irc_chunks *ch)
{
    long budget = irc_split_budget("PRIVMSG", target, prefix_len, action);
    assert_true(budget >= 4);
    assert_int_equal(irc_split(body, len, "PRIVMSG", target, prefix_len, action, ch), 0);
    for (size_t i = 0; i < ch->n; i++) {
        const char *c = ch->s[i];
        size_t n = strlen(c);
        assert_true(n > 0);
        assert_true(n <= (size_t)budget);
        assert_null(strpbrk(c, "\r\n"));
        char text[IRC_OUT_MAX + 16], line[IRC_OUT_MAX + 1];
        size_t tn = 0;
        if (action) {
            memcpy(text, "\001ACTION ", 8);
            tn = 8;
        }
        memcpy(text + tn, c, n);
        tn += n;
        if (action)
            text[tn++] = '\x01';
        text[tn] = '\0';
        /* the line as relayed: ":prefix PRIVMSG target :text\r\n" */
        assert_true(1 + prefix_len + 1 + 7 + 1 + strlen(target) + 2 + tn + 2 <= IRC_OUT_MAX);
        const char *p[2] = {target, text};
        assert_true(irc_build(line, sizeof(line), "PRIVMSG", 2, p) > 0);
    }
}

/* Concatenation of all chunks. */
static char *joined(const struct irc_chunks *ch, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < ch->n; i++)
        n += strlen(ch->s[i]);
    char *s = malloc(n + 1);
    assert_non_null(s);
    n = 0;
    for (size_t i = 0; i < ch->n; i++) {
        size_t k = strlen(ch->s[i]);
        memcpy(s + n, ch->s[i], k);
        n += k;
    }
    s[n] = '\0';
    *len = n;
    return s;
}

static void test_budget(void **state)
{
    (void)state;
    /* ':' 60 ' PRIVMSG ' '#chan' ' :' CRLF = 79 bytes */
    assert_int_equal(irc_split_budget("PRIVMSG", "#chan", 60, 0), 512 - 79);
    assert_int_equal(irc_split_budget("PRIVMSG", "#chan", 60, 1), 512 - 79 - 9);
    assert_int_equal(irc_split_budget("NOTICE", "#chan", 60, 0), 512 - 78);
    assert_int_equal(irc_split_budget("PRIVMSG", "#c", 492, 0), 4);
    assert_int_equal(irc_split_budget("PRIVMSG", "#c", 493, 0), FERRY_ERANGE);
    assert_int_equal(irc_split_budget("PRIVMSG", "#c", 10000, 0), FERRY_ERANGE);
    assert_int_equal(irc_split_budget("PRIVMSG", "#a b", 10, 0), FERRY_EINVAL);
    assert_int_equal(irc_split_budget("PRIVMSG", "#a\r\n", 10, 0), FERRY_EINVAL);
    assert_int_equal(irc_split_budget("PRIVMSG", ":x", 10, 0), FERRY_EINVAL);
    assert_int_equal(irc_split_budget("PRIVMSG", "", 10, 0), FERRY_EINVAL);
    assert_int_equal(irc_split_budget("PRIV MSG", "#c", 10, 0), FERRY_EINVAL);
    assert_int_equal(irc_split_budget(NULL, "#c", 10, 0), FERRY_EINVAL);

    struct irc_chunks ch = {(char **)1, 7};
    assert_int_equal(irc_split("x", 1, "PRIVMSG", "#a b", 10, 0, &ch), FERRY_EINVAL);
    assert_null(ch.s);
    assert_int_equal(ch.n, 0);
    assert_int_equal(irc_split(NULL, 3, "PRIVMSG", "#c", 10, 0, &ch), FERRY_EINVAL);
    assert_int_equal(irc_split("x", 1, "PRIVMSG", "#c", 600, 0, &ch), FERRY_ERANGE);
    assert_int_equal(irc_split(NULL, 0, "PRIVMSG", "#c", 10, 0, &ch), 0);
    assert_int_equal(ch.n, 0);
    irc_chunks_clear(&ch);
    irc_chunks_clear(NULL);
}

static void test_short_and_multiline(void **state)
{
    (void)state;
    struct irc_chunks ch;

    split_ok("hello world", 11, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 1);
    assert_string_equal(ch.s[0], "hello world");
    irc_chunks_clear(&ch);

    const char body[] = "one\ntwo\r\nthree\rfour\n\n\r\n\r\rfive\n";
    split_ok(body, sizeof(body) - 1, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 5);
    const char *want[] = {"one", "two", "three", "four", "five"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(ch.s[i], want[i]);
    irc_chunks_clear(&ch);

    split_ok("\r\n\n\r", 4, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 0);
    assert_null(ch.s);
    irc_chunks_clear(&ch);

    /* spaces-only lines are text, kept */
    split_ok("a\n  \nb", 6, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 3);
    assert_string_equal(ch.s[1], "  ");
    irc_chunks_clear(&ch);
}

static void test_crlf_injection(void **state)
{
    (void)state;
    struct irc_chunks ch;
    const char body[] = "hi\r\nQUIT :bye";
    char line[IRC_OUT_MAX + 1];

    split_ok(body, sizeof(body) - 1, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 2);
    assert_string_equal(ch.s[0], "hi");
    assert_string_equal(ch.s[1], "QUIT :bye");
    /* each becomes one PRIVMSG whose text is the chunk */
    const char *p[2] = {"#chan", ch.s[1]};
    assert_int_equal(irc_build(line, sizeof(line), "PRIVMSG", 2, p), 26);
    assert_string_equal(line, "PRIVMSG #chan :QUIT :bye\r\n");
    irc_chunks_clear(&ch);
}

static void test_controls(void **state)
{
    (void)state;
    struct irc_chunks ch;
    /* NUL, \x01 (CTCP) and BEL go; TAB and formatting codes stay */
    const char body[] = "a\0b\001c\002d\0034e\007f\tg\x0f\x1d\x1f\x16\x11\x1e\x04";

    split_ok(body, sizeof(body) - 1, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 1);
    assert_string_equal(ch.s[0], "abc\002d\0034ef\tg\x0f\x1d\x1f\x16\x11\x1e\x04");
    irc_chunks_clear(&ch);

    /* a line left empty by stripping is skipped */
    split_ok("\0\x01\n\x01x", 5, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 1);
    assert_string_equal(ch.s[0], "x");
    irc_chunks_clear(&ch);
}

static void test_long_prefix_budget(void **state)
{
    (void)state;
    struct irc_chunks ch;
    char body[1000];
    size_t len;

    memset(body, 'a', sizeof(body));
    long budget = irc_split_budget("PRIVMSG", "#c", 400, 0);
    assert_int_equal(budget, 512 - 400 - 16);
    split_ok(body, sizeof(body), "#c", 400, 0, &ch);
    assert_int_equal(ch.n, (sizeof(body) + (size_t)budget - 1) / (size_t)budget);
    for (size_t i = 0; i + 1 < ch.n; i++)
        assert_int_equal(strlen(ch.s[i]), budget);
    char *j = joined(&ch, &len);
    assert_int_equal(len, sizeof(body));
    assert_memory_equal(j, body, len);
    free(j);
    irc_chunks_clear(&ch);
}

/* n bytes of 'a', then s, then 'b' up to total bytes. */
static char *around(size_t n, const char *s, size_t total)
{
    char *b = malloc(total + 1);
    assert_non_null(b);
    memset(b, 'a', n);
    memcpy(b + n, s, strlen(s));
    memset(b + n + strlen(s), 'b', total - n - strlen(s));
    b[total] = '\0';
    return b;
}

static void test_utf8_boundaries(void **state)
{
    (void)state;
    const char *chars[] = {E_ACUTE, EURO, GRINNING};
    long budget = irc_split_budget("PRIVMSG", "#chan", 60, 0);

    for (size_t c = 0; c < 3; c++) {
        size_t clen = strlen(chars[c]);
        /* the character starts at every offset that makes it straddle or
         * touch the end of the first chunk */
        for (size_t off = (size_t)budget - clen - 1; off <= (size_t)budget; off++) {
            struct irc_chunks ch;
            size_t len;
            char *body = around(off, chars[c], 2 * (size_t)budget);
            split_ok(body, strlen(body), "#chan", 60, 0, &ch);
            for (size_t i = 0; i < ch.n; i++)
                assert_true(text_is_clean(ch.s[i], strlen(ch.s[i]))); /* valid UTF-8 */
            size_t first = strlen(ch.s[0]);
            if (off + clen <= (size_t)budget)
                assert_int_equal(first, budget);
            else
                assert_int_equal(first, off); /* cut before the character */
            char *j = joined(&ch, &len);
            assert_string_equal(j, body);
            free(j);
            free(body);
            irc_chunks_clear(&ch);
        }
    }
}

static void test_space_preference(void **state)
{
    (void)state;
    struct irc_chunks ch;
    long budget = irc_split_budget("PRIVMSG", "#chan", 60, 0); /* 433 */

    /* a space at 80% of the budget ends the first chunk */
    size_t sp = (size_t)budget * 8 / 10;
    char *body = around(sp, " ", 600);
    split_ok(body, 600, "#chan", 60, 0, &ch);
    assert_int_equal(ch.n, 2);
    assert_int_equal(strlen(ch.s[0]), sp + 1);
    assert_int_equal(ch.s[0][sp], ' ');
    assert_int_equal(ch.s[1][0], 'b');
    irc_chunks_clear(&ch);
    free(body);

    /* a space at 50% is too early: a hard cut at the budget */
    sp = (size_t)budget / 2;
    body = around(sp, " ", 600);
    split_ok(body, 600, "#chan", 60, 0, &ch);
    assert_int_equal(strlen(ch.s[0]), budget);
    irc_chunks_clear(&ch);
    free(body);

    /* the last of several spaces wins */
    body = around(10, " ", 600);
    body[(size_t)budget - 5] = ' ';
    body[(size_t)budget - 20] = ' ';
    split_ok(body, 600, "#chan", 60, 0, &ch);
    assert_int_equal(strlen(ch.s[0]), (size_t)budget - 4);
    irc_chunks_clear(&ch);
    free(body);
}

static void test_1500_bytes_rejoin(void **state)
{
    (void)state;
    const char *words[] = {"lorem",  "ipsum", E_ACUTE "t" E_ACUTE, "x",
                           GRINNING, "dolor", EURO "42",           "supercalifragilistic"};
    char body[1600];
    size_t n = 0, k = 0, len;

    while (n < 1500) {
        const char *w = words[k++ % 8];
        memcpy(body + n, w, strlen(w));
        n += strlen(w);
        body[n++] = ' ';
    }
    body[n] = '\0';
    struct irc_chunks ch;
    split_ok(body, n, "#chan", 80, 0, &ch);
    assert_true(ch.n >= 4);
    char *j = joined(&ch, &len);
    assert_int_equal(len, n);
    assert_string_equal(j, body);
    for (size_t i = 0; i < ch.n; i++)
        assert_true(text_is_clean(ch.s[i], strlen(ch.s[i])));
    /* with spaces about, every chunk but the last ends at one */
    for (size_t i = 0; i + 1 < ch.n; i++)
        assert_int_equal(ch.s[i][strlen(ch.s[i]) - 1], ' ');
    free(j);
    irc_chunks_clear(&ch);

    /* the same with action: smaller chunks, same text */
    split_ok(body, n, "#chan", 80, 1, &ch);
    j = joined(&ch, &len);
    assert_string_equal(j, body);
    free(j);
    irc_chunks_clear(&ch);
}

static void test_action_budget(void **state)
{
    (void)state;
    struct irc_chunks ch;
    char body[1000];
    long budget = irc_split_budget("PRIVMSG", "#chan", 60, 1);

    memset(body, 'z', sizeof(body));
    split_ok(body, sizeof(body), "#chan", 60, 1, &ch);
    assert_int_equal(strlen(ch.s[0]), budget);
    assert_int_equal(strlen(ch.s[0]), irc_split_budget("PRIVMSG", "#chan", 60, 0) - 9);
    irc_chunks_clear(&ch);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    struct irc_chunks ch;
    char body[1000];
    size_t len;

    /* continuation bytes only: cut anyway, nothing lost */
    memset(body, 0x80, sizeof(body));
    split_ok(body, sizeof(body), "#chan", 60, 0, &ch);
    char *j = joined(&ch, &len);
    assert_int_equal(len, sizeof(body));
    assert_memory_equal(j, body, len);
    free(j);
    irc_chunks_clear(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_short_and_multiline),
        cmocka_unit_test(test_crlf_injection),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_long_prefix_budget),
        cmocka_unit_test(test_utf8_boundaries),
        cmocka_unit_test(test_space_preference),
        cmocka_unit_test(test_1500_bytes_rejoin),
        cmocka_unit_test(test_action_budget),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
