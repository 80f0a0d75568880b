/* Messages serialised without a libstrophe tree (gateway/stanza_xml.c):
 * what comes out must parse back (libstrophe's own parser) to exactly what
 * went in, sanitised, for any text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "stanza_xml.h"
#include "strophe_fixture.h"

static xmpp_stanza_t *parse(const struct stz_msg *m)
{
    size_t len = 0;
    char *xml = stz_message_xml(m, &len);
    assert_non_null(xml);
    assert_int_equal(len, strlen(xml));
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
    if (!st)
        fail_msg("does not parse: %s", xml);
    free(xml);
    return st;
}

static void assert_child_text(xmpp_stanza_t *st, const char *name, const char *want)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(st, name);
    assert_non_null(c);
    char *t = xmpp_stanza_get_text(c);
    assert_string_equal(t ? t : "", want);
    xmpp_free(ctx, t);
}

static void test_plain_message(void **state)
{
    (void)state;
    struct stz_msg m = {
        "groupchat", "#c%irc.example@irc.localhost/Nick", "u@localhost/r", "id1", "hello", 5, NULL,
        NULL};
    xmpp_stanza_t *st = parse(&m);
    assert_string_equal(xmpp_stanza_get_name(st), "message");
    assert_string_equal(xmpp_stanza_get_type(st), "groupchat");
    assert_string_equal(xmpp_stanza_get_from(st), m.from);
    assert_string_equal(xmpp_stanza_get_to(st), m.to);
    assert_string_equal(xmpp_stanza_get_id(st), "id1");
    assert_child_text(st, "body", "hello");
    assert_null(xmpp_stanza_get_child_by_name(st, "subject"));
    xmpp_stanza_release(st);
}

static void test_escaping(void **state)
{
    (void)state;
    const char *body = "a < b && c > d \"quoted\" 'single' </body><x/>";
    struct stz_msg m = {"chat", "o'k\"&<>@x", "u@localhost",       "i'd\"<&>",
                        body,   strlen(body), "<topic> & 'stuff'", "https://e.example/a?b=1&c=<2>"};
    xmpp_stanza_t *st = parse(&m);
    assert_string_equal(xmpp_stanza_get_from(st), "o'k\"&<>@x");
    assert_string_equal(xmpp_stanza_get_id(st), "i'd\"<&>");
    assert_child_text(st, "body", body);
    assert_child_text(st, "subject", "<topic> & 'stuff'");
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(st, "x", "jabber:x:oob");
    assert_non_null(x);
    assert_child_text(x, "url", "https://e.example/a?b=1&c=<2>");
    xmpp_stanza_release(st);
}

static void test_origin_id(void **state)
{
    (void)state;
    struct stz_msg m = {.type = "groupchat",
                        .from = "r@x/me",
                        .to = "u@localhost/r",
                        .id = "a",
                        .body = "b",
                        .body_len = 1,
                        .origin_id = "o'<1>"};
    xmpp_stanza_t *st = parse(&m);
    xmpp_stanza_t *o = xmpp_stanza_get_child_by_name_and_ns(st, "origin-id", "urn:xmpp:sid:0");
    assert_non_null(o);
    assert_string_equal(xmpp_stanza_get_attribute(o, "id"), "o'<1>");
    xmpp_stanza_release(st);
}

static void test_invitation(void **state)
{
    (void)state;
    struct stz_msg m = {.type = "normal",
                        .from = "ivo%irc@irc.localhost",
                        .to = "u@localhost",
                        .body = "ivo invites you",
                        .body_len = 15,
                        .invite_jid = "#a&b%irc@irc.localhost"};
    xmpp_stanza_t *st = parse(&m);
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(st, "x", "jabber:x:conference");
    assert_non_null(x);
    assert_string_equal(xmpp_stanza_get_attribute(x, "jid"), "#a&b%irc@irc.localhost");
    xmpp_stanza_release(st);
}

static void test_sanitised(void **state)
{
    (void)state;
    /* Colour byte, NUL inside the body, invalid UTF-8, U+FFFE. */
    const char body[] = "a\x02"
                        "b\0c\xff"
                        "d\xef\xbf\xbe"
                        "e";
    struct stz_msg m = {"chat", "a\x01@x",        "u@localhost", NULL,
                        body,   sizeof(body) - 1, "t\x03",       NULL};
    xmpp_stanza_t *st = parse(&m);
    assert_string_equal(xmpp_stanza_get_from(st), "a@x");
    assert_null(xmpp_stanza_get_id(st));
    assert_child_text(st, "body",
                      "abc\xef\xbf\xbd"
                      "de");
    assert_child_text(st, "subject", "t");
    xmpp_stanza_release(st);
}

static void test_empty_and_absent(void **state)
{
    (void)state;
    struct stz_msg m = {"groupchat", "r@x", "u@localhost", "s", NULL, 0, "", NULL};
    xmpp_stanza_t *st = parse(&m);
    assert_null(xmpp_stanza_get_child_by_name(st, "body"));
    assert_child_text(st, "subject", ""); /* an empty subject clears the topic */
    xmpp_stanza_release(st);
}

static void test_long_body(void **state)
{
    (void)state;
    size_t n = 100000;
    char *body = malloc(n + 1);
    assert_non_null(body);
    for (size_t i = 0; i < n; i++)
        body[i] = "a&<>'\"b"[i % 7];
    body[n] = '\0';
    struct stz_msg m = {"chat", "r@x", "u@localhost", "l", body, n, NULL, NULL};
    xmpp_stanza_t *st = parse(&m);
    assert_child_text(st, "body", body);
    xmpp_stanza_release(st);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_message), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_origin_id),     cmocka_unit_test(test_invitation),
        cmocka_unit_test(test_sanitised),     cmocka_unit_test(test_empty_and_absent),
        cmocka_unit_test(test_long_body),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
