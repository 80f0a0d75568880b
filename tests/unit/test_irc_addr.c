/* Unit tests for biboumi-compatible IRC addressing and name validation
 * (transports/irc/irc_addr.c).  Local parts are given as the core passes
 * them: already XEP-0106-unescaped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "irc/irc_addr.h"

#define SRV "irc.example.com"

/* Parses, checks the parts, and that irc_addr_local gives back want_local. */
static void ok(const char *local, const char *fixed, const char *chantypes, enum irc_addr_kind kind,
               const char *name, const char *server, const char *want_local)
{
    struct irc_addr a;
    assert_int_equal(irc_addr_parse(local, fixed, chantypes, &a), 0);
    assert_int_equal(a.kind, kind);
    if (name == NULL)
        assert_null(a.name);
    else
        assert_string_equal(a.name, name);
    assert_string_equal(a.server, server);
    char *back = irc_addr_local(&a, fixed);
    if (want_local == NULL) {
        assert_null(back);
    } else {
        assert_non_null(back);
        assert_string_equal(back, want_local);
    }
    free(back);
    irc_addr_clear(&a);
    assert_null(a.server);
}

static void bad(const char *local, const char *fixed, const char *chantypes)
{
    struct irc_addr a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(irc_addr_parse(local, fixed, chantypes, &a), FERRY_EINVAL);
    assert_null(a.name);
    assert_null(a.server);
    irc_addr_clear(&a);
}

/* The rows of irc-gateways.md §2.2, local part only (the resource is the
 * caller's business). */
static void test_table_rows(void **state)
{
    (void)state;
    /* gateway: no local part at all */
    bad("", NULL, NULL);
    bad(NULL, NULL, NULL);
    /* IRC server */
    ok(SRV, NULL, NULL, IRC_ADDR_SERVER, NULL, SRV, SRV);
    /* channel, and a user through a room (#chan%server/Nick) */
    ok("#chan%" SRV, NULL, NULL, IRC_ADDR_CHANNEL, "#chan", SRV, "#chan%" SRV);
    ok("&local%" SRV, NULL, NULL, IRC_ADDR_CHANNEL, "&local", SRV, "&local%" SRV);
    /* IRC user, and a participant "real JID" (nick%server/~user@host) */
    ok("nick%" SRV, NULL, NULL, IRC_ADDR_NICK, "nick", SRV, "nick%" SRV);
    /* nick with JID-invalid characters: the "empty channel" %server/Weird@Nick */
    ok("%" SRV, NULL, NULL, IRC_ADDR_EMPTY, NULL, SRV, "%" SRV);
    /* #b\40byfoot, unescaped by the core */
    ok("#b@byfoot%" SRV, NULL, NULL, IRC_ADDR_CHANNEL, "#b@byfoot", SRV, "#b@byfoot%" SRV);
}

static void test_case_and_split(void **state)
{
    (void)state;
    /* toto, Toto and TOTO reach the same user; the server is lowercased */
    ok("Toto%IRC.Example.COM", NULL, NULL, IRC_ADDR_NICK, "toto", SRV, "toto%" SRV);
    ok("TOTO%" SRV, NULL, NULL, IRC_ADDR_NICK, "toto", SRV, "toto%" SRV);
    ok("#Chan%" SRV, NULL, NULL, IRC_ADDR_CHANNEL, "#chan", SRV, "#chan%" SRV);
    /* ASCII lowercasing only: [ stays [ (irc_casefold is for IRC's view) */
    ok("[Bot]%" SRV, NULL, NULL, IRC_ADDR_NICK, "[bot]", SRV, "[bot]%" SRV);
    /* split at the first '%': the rest must be a server */
    bad("#a%b%" SRV, NULL, NULL);
    bad("nick%", NULL, NULL);
    bad("%", NULL, NULL);
    bad("#chan", NULL, NULL); /* no '%': a server, and not a valid one */
}

static void test_chantypes(void **state)
{
    (void)state;
    ok("!abc%" SRV, NULL, "#&!+", IRC_ADDR_CHANNEL, "!abc", SRV, "!abc%" SRV);
    ok("+abc%" SRV, NULL, "#+", IRC_ADDR_CHANNEL, "+abc", SRV, "+abc%" SRV);
    bad("!abc%" SRV, NULL, NULL); /* default "#&": a nick, and invalid */
    bad("#abc%" SRV, NULL, "");   /* no channel types: an invalid nick */
    bad("&abc%" SRV, NULL, "#");  /* "&" is not a channel type here */
}

static void test_fixed_server(void **state)
{
    (void)state;
    const char *fx = "IRC.Example.com";
    ok("#chan", fx, NULL, IRC_ADDR_CHANNEL, "#chan", SRV, "#chan");
    ok("Nick", fx, NULL, IRC_ADDR_NICK, "nick", SRV, "nick");
    /* '%' has no meaning: the channel literally named #channel%hello */
    ok("#channel%hello", fx, NULL, IRC_ADDR_CHANNEL, "#channel%hello", SRV, "#channel%hello");
    bad("nick%foo", fx, NULL);
    bad(SRV, fx, NULL); /* not a server address there: an invalid nick */
    bad("%" SRV, fx, NULL);
    bad("", fx, NULL);
    bad("#chan", "bad server!", NULL);
    /* "" is multi-server mode */
    ok("#chan%" SRV, "", NULL, IRC_ADDR_CHANNEL, "#chan", SRV, "#chan%" SRV);

    /* SERVER and EMPTY addresses have no local part in fixed mode */
    struct irc_addr a = {IRC_ADDR_SERVER, NULL, (char *)SRV};
    assert_null(irc_addr_local(&a, fx));
    a.kind = IRC_ADDR_EMPTY;
    assert_null(irc_addr_local(&a, fx));
}

static void test_addr_local_built_by_hand(void **state)
{
    (void)state;
    struct irc_addr a = {IRC_ADDR_NICK, (char *)"Toto[away]", (char *)"Irc.Example.com"};
    char *s = irc_addr_local(&a, NULL);
    assert_string_equal(s, "toto[away]%" SRV);
    free(s);
    s = irc_addr_local(&a, "irc.example.com");
    assert_string_equal(s, "toto[away]");
    free(s);
    a.name = NULL;
    assert_null(irc_addr_local(&a, NULL));
    a.kind = IRC_ADDR_SERVER;
    a.server = NULL;
    assert_null(irc_addr_local(&a, NULL));
    assert_null(irc_addr_local(NULL, NULL));
    irc_addr_clear(NULL);
}

static void test_servers(void **state)
{
    (void)state;
    const char *good[] = {"localhost",         "irc.libera.chat", "127.0.0.1",
                          "[2001:db8::1]",     "2001:db8::1",     "[::1]",
                          "irc_internal.lan",  "a-b.c0",          "x",
                          "[::ffff:192.0.2.1]"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(irc_valid_server(good[i]));
    ok("#c%[2001:DB8::1]", NULL, NULL, IRC_ADDR_CHANNEL, "#c", "[2001:db8::1]", "#c%[2001:db8::1]");
    ok("::1", NULL, NULL, IRC_ADDR_SERVER, NULL, "::1", "::1");

    const char *badsrv[] = {"",       "a..b", ".a",   "a.",        "-a.b",    "a-.b",
                            "a b",    "a/b",  "[::1", "::1]",      "[zz::1]", "1:2",
                            "[]",     "a@b",  "a,b",  "host:6667", "é.fr",    "[fe80::1%25x]",
                            "a\001b", NULL};
    for (size_t i = 0; i < sizeof(badsrv) / sizeof(badsrv[0]); i++)
        assert_false(irc_valid_server(badsrv[i]));

    char label[80];
    memset(label, 'a', 63);
    strcpy(label + 63, ".com");
    assert_true(irc_valid_server(label));
    memset(label, 'a', 64);
    strcpy(label + 64, ".com");
    assert_false(irc_valid_server(label));
    char longname[300];
    for (size_t i = 0; i < 254; i++)
        longname[i] = i % 2 ? '.' : 'a';
    longname[253] = '\0';
    assert_true(irc_valid_server(longname));
    longname[253] = 'a';
    longname[254] = '\0';
    assert_false(irc_valid_server(longname));
}

static void test_valid_nick(void **state)
{
    (void)state;
    const char *good[] = {
        "a", "[a]", "`_^{|}-\\", "a1", "Z-9", "_", "abcdefghijklmnopqrstuvwxyz0123"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(irc_valid_nick(good[i]));
    const char *no[] = {"",    "1a", "-a",  "a b",      "a.b",   "a@b",
                        "a!b", "#a", "a,b", "\xc3\xa9", "a\x01", "abcdefghijklmnopqrstuvwxyz01234",
                        NULL};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(irc_valid_nick(no[i]));
    bad("1nick%" SRV, NULL, NULL);
    bad("-nick%" SRV, NULL, NULL);
    bad("ni ck%" SRV, NULL, NULL);
}

static void test_valid_channel(void **state)
{
    (void)state;
    char ch[60];
    assert_true(irc_valid_channel("#a", NULL));
    assert_true(irc_valid_channel("&a", NULL));
    assert_true(irc_valid_channel("#a:b", NULL));
    assert_true(irc_valid_channel("#\xc3\xa9t\xc3\xa9", NULL));
    assert_true(irc_valid_channel("#a%b", "#"));
    assert_true(irc_valid_channel("!a", "!"));
    assert_false(irc_valid_channel("!a", NULL));
    assert_false(irc_valid_channel("#", NULL));
    assert_false(irc_valid_channel("", NULL));
    assert_false(irc_valid_channel(NULL, NULL));
    assert_false(irc_valid_channel("#a b", NULL));
    assert_false(irc_valid_channel("#a,b", NULL));
    assert_false(irc_valid_channel("#a\x07", NULL));
    assert_false(irc_valid_channel("#a\x7f", NULL));
    assert_false(irc_valid_channel("#a\tb", NULL));
    ch[0] = '#';
    memset(ch + 1, 'c', 49);
    ch[50] = '\0';
    assert_true(irc_valid_channel(ch, NULL));
    ch[50] = 'c';
    ch[51] = '\0';
    assert_false(irc_valid_channel(ch, NULL));
    bad("#%" SRV, NULL, NULL);
    bad("#a b%" SRV, NULL, NULL);
    bad("#a,b%" SRV, NULL, NULL);
    bad("#a\x07%" SRV, NULL, NULL);
}

static void test_valid_key(void **state)
{
    (void)state;
    assert_true(irc_valid_key("secret"));
    assert_true(irc_valid_key("k:e@y!"));
    assert_true(irc_valid_key("12345678901234567890123"));
    assert_false(irc_valid_key("123456789012345678901234"));
    assert_false(irc_valid_key(""));
    assert_false(irc_valid_key(NULL));
    assert_false(irc_valid_key("a b"));
    assert_false(irc_valid_key("a,b"));
    assert_false(irc_valid_key("a\x01"));
    assert_false(irc_valid_key("a\r\n"));
}

static void test_casefold(void **state)
{
    (void)state;
    char s[] = "ABC[]\\~{}|^xyz-`_09";
    irc_casefold(s);
    assert_string_equal(s, "abc{}|^{}|^xyz-`_09");
    irc_casefold(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_rows),
        cmocka_unit_test(test_case_and_split),
        cmocka_unit_test(test_chantypes),
        cmocka_unit_test(test_fixed_server),
        cmocka_unit_test(test_addr_local_built_by_hand),
        cmocka_unit_test(test_servers),
        cmocka_unit_test(test_valid_nick),
        cmocka_unit_test(test_valid_channel),
        cmocka_unit_test(test_valid_key),
        cmocka_unit_test(test_casefold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
