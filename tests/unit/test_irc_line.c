/* Unit tests for the IRC line parser and serialiser
 * (transports/irc/irc_line.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "irc/irc_line.h"

#define PARSE(s, m) irc_parse(s, sizeof(s) - 1, m)

/* Parsing must fail with want and leave *m zeroed. */
static void check_bad_n(const char *s, size_t n, int want)
{
    struct irc_msg m;
    memset(&m, 0x5a, sizeof(m));
    assert_int_equal(irc_parse(s, n, &m), want);
    assert_null(m.buf);
    assert_null(m.command);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(m.ntags, 0);
    irc_msg_clear(&m);
}
#define BAD(s) check_bad_n(s, sizeof(s) - 1, FERRY_EINVAL)

static void check_prefix(const struct irc_msg *m, const char *nick, const char *user,
                         const char *host)
{
    const char *got[3] = {m->nick, m->user, m->host}, *want[3] = {nick, user, host};
    for (int i = 0; i < 3; i++) {
        if (want[i] == NULL)
            assert_null(got[i]);
        else
            assert_string_equal(got[i], want[i]);
    }
}

static void test_parse_basic(void **state)
{
    (void)state;
    struct irc_msg m;

    assert_int_equal(PARSE("PING :irc.example.net\r\n", &m), 0);
    assert_string_equal(m.command, "PING");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "irc.example.net");
    check_prefix(&m, NULL, NULL, NULL);
    assert_int_equal(m.ntags, 0);
    irc_msg_clear(&m);
    assert_null(m.buf);
    irc_msg_clear(&m); /* twice is harmless */
    irc_msg_clear(NULL);

    /* "\n" alone, a lone "\r", or nothing at the end */
    const char *ends[] = {"QUIT\n", "QUIT\r", "QUIT"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(irc_parse(ends[i], strlen(ends[i]), &m), 0);
        assert_string_equal(m.command, "QUIT");
        assert_int_equal(m.nparams, 0);
        irc_msg_clear(&m);
    }
    /* the command is kept as given */
    assert_int_equal(PARSE("privmsg #a b", &m), 0);
    assert_string_equal(m.command, "privmsg");
    irc_msg_clear(&m);
}

static void test_parse_prefix(void **state)
{
    (void)state;
    struct irc_msg m;

    assert_int_equal(PARSE(":nick!~user@host.example PRIVMSG #chan :hello world\r\n", &m), 0);
    check_prefix(&m, "nick", "~user", "host.example");
    assert_string_equal(m.command, "PRIVMSG");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0], "#chan");
    assert_string_equal(m.params[1], "hello world");
    irc_msg_clear(&m);

    assert_int_equal(PARSE(":irc.example.net 001 me :Welcome to IRC", &m), 0);
    check_prefix(&m, "irc.example.net", NULL, NULL);
    assert_string_equal(m.command, "001");
    assert_string_equal(m.params[1], "Welcome to IRC");
    irc_msg_clear(&m);

    assert_int_equal(PARSE(":nick@host JOIN #a", &m), 0);
    check_prefix(&m, "nick", NULL, "host");
    irc_msg_clear(&m);

    assert_int_equal(PARSE(":nick!user JOIN #a", &m), 0);
    check_prefix(&m, "nick", "user", NULL);
    irc_msg_clear(&m);

    /* a '!' after the '@' belongs to the host; empty parts are NULL */
    assert_int_equal(PARSE(":n@h!x NICK y", &m), 0);
    check_prefix(&m, "n", NULL, "h!x");
    irc_msg_clear(&m);
    assert_int_equal(PARSE(":n!@ NICK y", &m), 0);
    check_prefix(&m, "n", NULL, NULL);
    irc_msg_clear(&m);

    /* IPv6 host with colons */
    assert_int_equal(PARSE(":a!b@2001:db8::1 QUIT :Ping timeout", &m), 0);
    check_prefix(&m, "a", "b", "2001:db8::1");
    assert_string_equal(m.params[0], "Ping timeout");
    irc_msg_clear(&m);
}

static void test_parse_params(void **state)
{
    (void)state;
    struct irc_msg m;

    /* trailing with spaces and colons, a middle with a colon inside */
    assert_int_equal(PARSE("PRIVMSG #c :a :b  c:: ", &m), 0);
    assert_string_equal(m.params[1], "a :b  c:: ");
    irc_msg_clear(&m);
    assert_int_equal(PARSE("MODE #c +b a:b!*@*", &m), 0);
    assert_int_equal(m.nparams, 3);
    assert_string_equal(m.params[2], "a:b!*@*");
    irc_msg_clear(&m);

    /* empty trailing, and "::" (a trailing that starts with ':') */
    assert_int_equal(PARSE("PRIVMSG #c :", &m), 0);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[1], "");
    irc_msg_clear(&m);
    assert_int_equal(PARSE("PRIVMSG #c ::-)", &m), 0);
    assert_string_equal(m.params[1], ":-)");
    irc_msg_clear(&m);

    /* runs of spaces are one separator; trailing spaces are ignored */
    assert_int_equal(PARSE("  :p   CMD   a    b   ", &m), 0);
    assert_string_equal(m.nick, "p");
    assert_string_equal(m.command, "CMD");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0], "a");
    assert_string_equal(m.params[1], "b");
    irc_msg_clear(&m);
}

static void test_parse_15_params(void **state)
{
    (void)state;
    struct irc_msg m;

    assert_int_equal(PARSE("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", &m), 0);
    assert_int_equal(m.nparams, 15);
    assert_string_equal(m.params[14], "15");
    irc_msg_clear(&m);
    assert_int_equal(PARSE("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 and more", &m), 0);
    assert_int_equal(m.nparams, 15);
    assert_string_equal(m.params[14], "15 and more");
    irc_msg_clear(&m);
    BAD("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
    BAD("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 :16");
}

static void test_parse_numerics_and_commands(void **state)
{
    (void)state;
    struct irc_msg m;

    assert_int_equal(PARSE(":s 433 * ferry :Nickname is already in use", &m), 0);
    assert_string_equal(m.command, "433");
    assert_int_equal(m.nparams, 3);
    irc_msg_clear(&m);
    BAD(":s 1234 x");
    BAD(":s 01 x");
    BAD("A1 x");
    BAD("PRIV-MSG x");
    BAD("\xc3\xa9t\xc3\xa9 x");
}

static void test_parse_tags(void **state)
{
    (void)state;
    struct irc_msg m;

    assert_int_equal(
        PARSE("@time=2024-01-02T03:04:05.678Z;+draft/reply=a\\sb\\:c\\\\d\\re\\nf;flag;"
              "example.com/x=\\q\\ :n!u@h PRIVMSG #c :hi",
              &m),
        0);
    assert_int_equal(m.ntags, 4);
    assert_string_equal(irc_msg_tag(&m, "time"), "2024-01-02T03:04:05.678Z");
    assert_string_equal(irc_msg_tag(&m, "+draft/reply"), "a b;c\\d\re\nf");
    assert_string_equal(irc_msg_tag(&m, "flag"), "");
    /* unknown escape: the backslash is dropped; a final lone one too */
    assert_string_equal(irc_msg_tag(&m, "example.com/x"), "q");
    assert_null(irc_msg_tag(&m, "Time"));
    assert_null(irc_msg_tag(&m, "missing"));
    assert_null(irc_msg_tag(NULL, "time"));
    check_prefix(&m, "n", "u", "h");
    assert_string_equal(m.params[1], "hi");
    irc_msg_clear(&m);

    /* duplicates: the last wins; empty and invalid keys are skipped */
    assert_int_equal(PARSE("@a=1;;=x;b_c=2;a=3;+=4 PING", &m), 0);
    assert_int_equal(m.ntags, 2);
    assert_string_equal(irc_msg_tag(&m, "a"), "3");
    assert_string_equal(m.command, "PING");
    irc_msg_clear(&m);

    /* tags only, or tags and a prefix, are not messages */
    BAD("@a=b");
    BAD("@a=b :prefix");
    BAD("@a=b  ");
}

static void test_parse_many_tags(void **state)
{
    (void)state;
    char line[2048];
    size_t n = 0;
    struct irc_msg m;

    line[n++] = '@';
    for (int i = 0; i < 70; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%sk%d=%d", i ? ";" : "", i, i);
    n += (size_t)snprintf(line + n, sizeof(line) - n, " PRIVMSG #c :still here");
    assert_int_equal(irc_parse(line, n, &m), 0);
    assert_int_equal(m.ntags, IRC_MAX_TAGS);
    assert_string_equal(irc_msg_tag(&m, "k63"), "63");
    assert_null(irc_msg_tag(&m, "k64"));
    assert_string_equal(m.params[1], "still here");
    irc_msg_clear(&m);
}

static void test_parse_length(void **state)
{
    (void)state;
    char *line = malloc(IRC_LINE_MAX + 3);
    struct irc_msg m;

    assert_non_null(line);
    memcpy(line, "PRIVMSG #c :", 12);
    memset(line + 12, 'x', IRC_LINE_MAX + 1 - 12);
    memcpy(line + IRC_LINE_MAX, "\r\n", 2);
    /* 8191 bytes, with or without CR LF */
    assert_int_equal(irc_parse(line, IRC_LINE_MAX, &m), 0);
    assert_int_equal(strlen(m.params[1]), IRC_LINE_MAX - 12);
    irc_msg_clear(&m);
    assert_int_equal(irc_parse(line, IRC_LINE_MAX + 2, &m), 0);
    irc_msg_clear(&m);
    /* 8192 bytes */
    line[IRC_LINE_MAX] = 'x';
    check_bad_n(line, IRC_LINE_MAX + 1, FERRY_ERANGE);
    line[IRC_LINE_MAX + 1] = '\r';
    line[IRC_LINE_MAX + 2] = '\n';
    check_bad_n(line, IRC_LINE_MAX + 3, FERRY_ERANGE);
    free(line);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    BAD("");
    BAD("\r\n");
    BAD("\n");
    BAD("   ");
    BAD(":prefix");
    BAD(":prefix ");
    BAD(": PING");
    BAD(":!u@h PING");
    BAD("PRIVMSG #c :a\0b");
    BAD("\0PING");
    BAD("PRIVMSG #c :a\rb");
    BAD("PRIVMSG #c :a\nQUIT");
    BAD("PING\r\n\r\n");
    check_bad_n(NULL, 4, FERRY_EINVAL);
}

static void build_ok(const char *cmd, size_t n, const char *const *p, const char *want)
{
    char out[IRC_OUT_MAX + 1];
    int rc = irc_build(out, sizeof(out), cmd, n, p);
    assert_int_equal(rc, (int)strlen(want));
    assert_string_equal(out, want);

    /* and it parses back to the same command and parameters */
    struct irc_msg m;
    assert_int_equal(irc_parse(out, (size_t)rc, &m), 0);
    assert_string_equal(m.command, cmd);
    assert_int_equal(m.nparams, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(m.params[i], p[i]);
    irc_msg_clear(&m);
}

static void build_bad(const char *cmd, size_t n, const char *const *p, int want)
{
    char out[IRC_OUT_MAX + 1];
    memset(out, 'X', sizeof(out));
    assert_int_equal(irc_build(out, sizeof(out), cmd, n, p), want);
    assert_string_equal(out, "");
}

static void test_build_colon_rules(void **state)
{
    (void)state;
    build_ok("PRIVMSG", 2, (const char *[]){"#chan", "hello world"},
             "PRIVMSG #chan :hello world\r\n");
    build_ok("PRIVMSG", 2, (const char *[]){"#chan", "hi"}, "PRIVMSG #chan hi\r\n");
    build_ok("PRIVMSG", 2, (const char *[]){"#chan", ""}, "PRIVMSG #chan :\r\n");
    build_ok("PRIVMSG", 2, (const char *[]){"#chan", ":-)"}, "PRIVMSG #chan ::-)\r\n");
    build_ok("PRIVMSG", 2, (const char *[]){"#chan", "a:b"}, "PRIVMSG #chan a:b\r\n");
    build_ok("QUIT", 0, NULL, "QUIT\r\n");
    build_ok("001", 1, (const char *[]){"x"}, "001 x\r\n");
    build_ok("PRIVMSG", 2, (const char *[]){"nick", "\001ACTION waves\x01"},
             "PRIVMSG nick :\001ACTION waves\x01\r\n");
    build_ok("CMD", 15,
             (const char *[]){"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
                              "14", "15 16"},
             "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16\r\n");

    build_bad("JOIN", 2, (const char *[]){"#a b", "key"}, FERRY_EINVAL);
    build_bad("JOIN", 2, (const char *[]){"", "key"}, FERRY_EINVAL);
    build_bad("JOIN", 2, (const char *[]){":a", "key"}, FERRY_EINVAL);
    build_bad("JOIN", 1, (const char *[]){NULL}, FERRY_EINVAL);
    build_bad("JOIN", 1, NULL, FERRY_EINVAL);
    build_bad("", 0, NULL, FERRY_EINVAL);
    build_bad("PRIV MSG", 0, NULL, FERRY_EINVAL);
    build_bad("12", 0, NULL, FERRY_EINVAL);
    build_bad(NULL, 0, NULL, FERRY_EINVAL);
    build_bad("CMD", 16,
              (const char *[]){"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
                               "14", "15", "16"},
              FERRY_EINVAL);
}

static void test_build_injection(void **state)
{
    (void)state;
    build_bad("PRIVMSG", 2, (const char *[]){"#chan", "hi\r\nQUIT :bye"}, FERRY_EINVAL);
    build_bad("PRIVMSG", 2, (const char *[]){"#chan", "hi\rQUIT"}, FERRY_EINVAL);
    build_bad("PRIVMSG", 2, (const char *[]){"#chan", "hi\nQUIT"}, FERRY_EINVAL);
    build_bad("PRIVMSG", 2, (const char *[]){"#chan", "trailing\r"}, FERRY_EINVAL);
    build_bad("PRIVMSG", 2, (const char *[]){"#c\r\nQUIT", "x"}, FERRY_EINVAL);
    build_bad("PRIVMSG", 2, (const char *[]){"#c\n", "x"}, FERRY_EINVAL);
    build_bad("PRIVMSG\r\nQUIT", 1, (const char *[]){"x"}, FERRY_EINVAL);
    build_bad("QUIT\n", 0, NULL, FERRY_EINVAL);
}

static void test_build_length(void **state)
{
    (void)state;
    char text[IRC_OUT_MAX + 1], out[IRC_OUT_MAX + 16];
    /* "PRIVMSG #c :" is 12 bytes, CR LF 2: 498 bytes of text fill 512 */
    memset(text, 'a', sizeof(text));
    text[0] = ' ';
    text[498] = '\0';
    const char *p[2] = {"#c", text};
    int rc = irc_build(out, sizeof(out), "PRIVMSG", 2, p);
    assert_int_equal(rc, IRC_OUT_MAX);
    assert_memory_equal(out + IRC_OUT_MAX - 2, "\r\n", 3);

    text[498] = 'a';
    text[499] = '\0';
    memset(out, 'X', sizeof(out));
    assert_int_equal(irc_build(out, sizeof(out), "PRIVMSG", 2, p), FERRY_ERANGE);
    assert_string_equal(out, "");

    /* outlen must hold the line and its NUL */
    text[498] = '\0';
    assert_int_equal(irc_build(out, IRC_OUT_MAX, "PRIVMSG", 2, p), FERRY_ERANGE);
    assert_int_equal(irc_build(out, IRC_OUT_MAX + 1, "PRIVMSG", 2, p), IRC_OUT_MAX);
    assert_int_equal(irc_build(out, 0, "PING", 0, NULL), FERRY_ERANGE);
    assert_int_equal(irc_build(out, 7, "PING", 0, NULL), 6);
    assert_int_equal(irc_build(out, 6, "PING", 0, NULL), FERRY_ERANGE);
    assert_int_equal(irc_build(NULL, 10, "PING", 0, NULL), FERRY_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_prefix),
        cmocka_unit_test(test_parse_params),
        cmocka_unit_test(test_parse_15_params),
        cmocka_unit_test(test_parse_numerics_and_commands),
        cmocka_unit_test(test_parse_tags),
        cmocka_unit_test(test_parse_many_tags),
        cmocka_unit_test(test_parse_length),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_build_colon_rules),
        cmocka_unit_test(test_build_injection),
        cmocka_unit_test(test_build_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
