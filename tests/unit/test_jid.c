/* Unit tests for JID parsing and XEP-0106 escaping (gateway/jid.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jid.h"

/* Where a hex escape would swallow the letter after it, octal is used:
 * "a\001b" is a, U+0001, b. */

/* Parses s and checks each part; NULL means the part must be absent. */
static void check_parse(const char *s, const char *local, const char *domain, const char *resource)
{
    struct jid j;

    assert_int_equal(jid_parse(s, &j), 0);
    if (local == NULL)
        assert_null(j.local);
    else
        assert_string_equal(j.local, local);
    assert_string_equal(j.domain, domain);
    if (resource == NULL)
        assert_null(j.resource);
    else
        assert_string_equal(j.resource, resource);
    jid_clear(&j);
    assert_null(j.domain);
}

/* Parse must fail with FERRY_EINVAL and leave *out zeroed, even when it
 * held garbage before. */
static void check_bad(const char *s)
{
    struct jid j;

    memset(&j, 0xA5, sizeof j);
    assert_int_equal(jid_parse(s, &j), FERRY_EINVAL);
    assert_null(j.local);
    assert_null(j.domain);
    assert_null(j.resource);
}

static void test_parse_forms(void **state)
{
    (void)state;
    check_parse("user@example.org/res", "user", "example.org", "res");
    check_parse("user@example.org", "user", "example.org", NULL);
    check_parse("example.org", NULL, "example.org", NULL);
    check_parse("example.org/res", NULL, "example.org", "res");
    check_parse("a@b", "a", "b", NULL);
    check_parse("[::1]", NULL, "[::1]", NULL);
    check_parse("u@h/Home Laptop", "u", "h", "Home Laptop"); /* resources may hold spaces */
    check_parse("d\\27artagnan@x.org", "d\\27artagnan", "x.org", NULL); /* kept escaped */
    check_parse("élève@école.fr/☃", "élève", "école.fr", "☃");
}

/* The local part ends at the first '@' before the first '/'. */
static void test_parse_resource_with_at_and_slash(void **state)
{
    (void)state;
    check_parse("u@example.org/a@b/c", "u", "example.org", "a@b/c");
    check_parse("u@example.org//", "u", "example.org", "/");
    check_parse("example.org/x@y", NULL, "example.org", "x@y");
    check_parse("a/b@c", NULL, "a", "b@c");
    check_parse("u@example.org/@", "u", "example.org", "@");
}

static void test_parse_case(void **state)
{
    (void)state;
    /* domain lowercased (ASCII only); local part and resource untouched */
    check_parse("User@EXAMPLE.Org/Res", "User", "example.org", "Res");
    check_parse("ÉCOLE.FR", NULL, "École.fr", NULL); /* non-ASCII É kept as is */
}

static void test_parse_irc(void **state)
{
    (void)state;
    check_parse("#chan%irc.libera.chat@irc.example.org/nick", "#chan%irc.libera.chat",
                "irc.example.org", "nick");
    check_parse("nick%irc.libera.chat@irc.example.org", "nick%irc.libera.chat", "irc.example.org",
                NULL);
    check_parse("irc.libera.chat@irc.example.org", "irc.libera.chat", "irc.example.org", NULL);
    check_parse("#c++%irc.libera.chat@irc.example.org/[away]|nick^", "#c++%irc.libera.chat",
                "irc.example.org", "[away]|nick^");
    check_parse("+15551234567@sms.example.org", "+15551234567", "sms.example.org", NULL);
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct jid j;
    assert_int_equal(jid_parse(NULL, &j), FERRY_EINVAL);
    assert_int_equal(jid_parse("a@b", NULL), FERRY_EINVAL);
    check_bad("");
    check_bad("@example.org"); /* empty local part */
    check_bad("@");
    check_bad("user@"); /* empty domain */
    check_bad("user@/res");
    check_bad("/res");
    check_bad("example.org/"); /* empty resource */
    check_bad("user@example.org/");
    check_bad("a@b@example.org"); /* '@' in the domain */
    /* each forbidden local-part character */
    check_bad("a\"b@x");
    check_bad("a&b@x");
    check_bad("a'b@x");
    check_bad("a:b@x");
    check_bad("a<b@x");
    check_bad("a>b@x");
    check_bad("a b@x");
    check_bad("a\tb@x");
    check_bad("a\nb@x");
    check_bad("a\001b@x");
    check_bad("a\177b@x");
    check_bad("a\xC2\205b@x");     /* C1 control U+0085 */
    check_bad("a\xC2\240b@x");     /* U+00A0 no-break space */
    check_bad("a\xE3\x80\200b@x"); /* U+3000 ideographic space */
    /* domain: whitespace and controls */
    check_bad("a@exa mple.org");
    check_bad("a@example.org ");
    check_bad(" example.org");
    check_bad("a@exa\tmple.org");
    check_bad("a@exa\x1Bmple.org");
    check_bad("a@exa\xE2\x80\xA8mple.org"); /* U+2028 */
    /* resource: controls (not in the header's list; see jid.c) */
    check_bad("a@x/r\x02");
    check_bad("a@x/r\n");
    check_bad("a@x/\xEF\xBF\xBF"); /* U+FFFF */
    /* invalid UTF-8 in each part */
    check_bad("a\xC3@x");
    check_bad("a@x\xFF");
    check_bad("a@x/\xC0\x80");
    check_bad("a@x/\xED\xA0\x80"); /* surrogate */
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_parse_length_limits(void **state)
{
    (void)state;
    char buf[3 * JID_PART_MAX + 64];
    char *ok = repeat('a', JID_PART_MAX);
    char *over = repeat('a', JID_PART_MAX + 1);

    snprintf(buf, sizeof buf, "%s@x/r", ok);
    check_parse(buf, ok, "x", "r");
    snprintf(buf, sizeof buf, "%s@x/r", over);
    check_bad(buf);
    snprintf(buf, sizeof buf, "u@%s/r", ok);
    check_parse(buf, "u", ok, "r");
    snprintf(buf, sizeof buf, "u@%s/r", over);
    check_bad(buf);
    snprintf(buf, sizeof buf, "u@x/%s", ok);
    check_parse(buf, "u", "x", ok);
    snprintf(buf, sizeof buf, "u@x/%s", over);
    check_bad(buf);
    snprintf(buf, sizeof buf, "%s@%s/%s", ok, ok, ok); /* each part at its limit */
    check_parse(buf, ok, ok, ok);

    /* the limit counts bytes: 512 x U+00E9 is 1024 bytes */
    size_t n = 0;
    n += (size_t)snprintf(buf, sizeof buf, "u@x/");
    for (int i = 0; i < 512; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\xC3\xA9");
    check_bad(buf);
    free(ok);
    free(over);
}

static void test_clear(void **state)
{
    (void)state;
    struct jid j;
    jid_clear(NULL);
    assert_int_equal(jid_parse("a@b/c", &j), 0);
    jid_clear(&j);
    jid_clear(&j); /* zeroed, so a second clear is harmless */
    assert_null(j.local);
    assert_null(j.resource);
}

static void check_bare(const char *full, const char *want)
{
    char *b = jid_bare(full);
    if (want == NULL) {
        assert_null(b);
        return;
    }
    assert_non_null(b);
    assert_string_equal(b, want);
    free(b);
}

static void test_bare(void **state)
{
    (void)state;
    check_bare("user@example.org/res", "user@example.org");
    check_bare("user@example.org", "user@example.org");
    check_bare("User@EXAMPLE.org/x/y", "User@example.org");
    check_bare("example.org/res", "example.org");
    check_bare("Example.Org", "example.org");
    check_bare("#chan%irc.libera.chat@irc.example.org/nick",
               "#chan%irc.libera.chat@irc.example.org");
    check_bare("", NULL);
    check_bare(NULL, NULL);
    check_bare("@x", NULL);
    check_bare("a@x/", NULL);
}

static void check_join(const char *l, const char *d, const char *r, const char *want)
{
    char *s = jid_join(l, d, r);
    if (want == NULL) {
        assert_null(s);
        return;
    }
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_join(void **state)
{
    (void)state;
    check_join("user", "example.org", NULL, "user@example.org");
    check_join(NULL, "example.org", NULL, "example.org");
    check_join("user", "example.org", "res", "user@example.org/res");
    check_join(NULL, "example.org", "res", "example.org/res");
    check_join("", "example.org", "", "example.org"); /* empty = absent */
    check_join("#chan%irc.libera.chat", "irc.example.org", "nick",
               "#chan%irc.libera.chat@irc.example.org/nick");
    check_join("user", NULL, NULL, NULL);
    check_join("user", "", "res", NULL);
}

static void test_bare_equal(void **state)
{
    (void)state;
    assert_true(jid_bare_equal("u@example.org", "u@example.org"));
    assert_true(jid_bare_equal("u@example.org/a", "u@example.org/b"));
    assert_true(jid_bare_equal("u@EXAMPLE.org", "u@example.ORG/x"));
    assert_true(jid_bare_equal("example.org/a", "Example.org"));
    assert_false(jid_bare_equal("U@example.org", "u@example.org")); /* local: exact */
    assert_false(jid_bare_equal("u@example.org", "example.org"));
    assert_false(jid_bare_equal("example.org", "u@example.org"));
    assert_false(jid_bare_equal("u@example.org", "u@example.net"));
    assert_false(jid_bare_equal("u@example.org", "v@example.org"));
    assert_false(jid_bare_equal("@bad", "@bad"));
    assert_false(jid_bare_equal(NULL, "u@example.org"));
    assert_false(jid_bare_equal("u@example.org", NULL));
    assert_false(jid_bare_equal(NULL, NULL));
}

static void check_escape(const char *raw, const char *escaped)
{
    char *e = NULL, *u = NULL;
    assert_int_equal(jid_escape_local(raw, &e), 0);
    assert_non_null(e);
    assert_string_equal(e, escaped);
    assert_int_equal(jid_unescape_local(e, &u), 0);
    assert_string_equal(u, raw);

    /* the escaped form is always a valid local part */
    char *full = jid_join(e, "example.com", NULL);
    struct jid j;
    assert_non_null(full);
    assert_int_equal(jid_parse(full, &j), 0);
    assert_string_equal(j.local, e);
    jid_clear(&j);
    free(full);
    free(e);
    free(u);
}

/* The examples table of XEP-0106 (§5). */
static void test_escape_xep_examples(void **state)
{
    (void)state;
    check_escape("space cadet", "space\\20cadet");
    check_escape("call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22");
    check_escape("at&t guy", "at\\26t\\20guy");
    check_escape("d'artagnan", "d\\27artagnan");
    check_escape("/.fanboy", "\\2f.fanboy");
    check_escape("::foo::", "\\3a\\3afoo\\3a\\3a");
    check_escape("<foo>", "\\3cfoo\\3e");
    check_escape("user@host", "user\\40host");
    check_escape("c:\\net", "c\\3a\\net");
    check_escape("c:\\\\net", "c\\3a\\\\net");
    check_escape("c:\\cool stuff", "c\\3a\\cool\\20stuff");
    check_escape("c:\\5commas", "c\\3a\\5c5commas");
}

static void test_escape_backslash_rule(void **state)
{
    (void)state;
    check_escape("\\", "\\");         /* alone */
    check_escape("a\\", "a\\");       /* at the end */
    check_escape("a\\4", "a\\4");     /* one hex digit only */
    check_escape("a\\41", "a\\41");   /* a hex pair, but not one of the ten */
    check_escape("a\\2F", "a\\2F");   /* uppercase is not an escape sequence */
    check_escape("a\\40", "a\\5c40"); /* would decode to '@' */
    check_escape("a\\5c", "a\\5c5c");
    check_escape("\\\\27", "\\\\5c27"); /* only the second backslash */
    check_escape("\\@", "\\\\40");      /* backslash before an escaped char */
    check_escape("\\3and\\2is\\5cool", "\\5c3and\\2is\\5c5cool");
}

static void test_escape_unchanged(void **state)
{
    (void)state;
    /* IRC nicks and channels need no escaping */
    check_escape("#chan%irc.libera.chat", "#chan%irc.libera.chat");
    check_escape("[nick]|away^_`{}", "[nick]|away^_`{}");
    check_escape("+15551234567", "+15551234567");
    check_escape("\xC3\xA9t\xC3\xA9 \xF0\x9F\x8E\x89", "\xC3\xA9t\xC3\xA9\\20\xF0\x9F\x8E\x89");
    check_escape("a b", "a\\20b");
}

static void test_escape_errors(void **state)
{
    (void)state;
    char *e = (char *)1;
    assert_int_equal(jid_escape_local(" lead", &e), FERRY_EINVAL);
    assert_null(e);
    assert_int_equal(jid_escape_local("trail ", &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local(" ", &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local("", &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local(NULL, &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local("a", NULL), FERRY_EINVAL);
    /* characters no local part can hold, escaped or not */
    assert_int_equal(jid_escape_local("a\tb", &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local("a\002b", &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local("a\x7F", &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local("a\xC2\240b", &e), FERRY_EINVAL);
    assert_int_equal(jid_escape_local("a\xC3", &e), FERRY_EINVAL);
    assert_null(e);
}

static void test_escape_length(void **state)
{
    (void)state;
    char *e = NULL;
    char *s = repeat('a', JID_PART_MAX);
    assert_int_equal(jid_escape_local(s, &e), 0);
    assert_int_equal(strlen(e), JID_PART_MAX);
    free(e);
    free(s);
    s = repeat('a', JID_PART_MAX + 1);
    assert_int_equal(jid_escape_local(s, &e), FERRY_ERANGE);
    assert_null(e);
    free(s);
    s = repeat('@', JID_PART_MAX / 3); /* 341 x "\40" = 1023 bytes */
    assert_int_equal(jid_escape_local(s, &e), 0);
    assert_int_equal(strlen(e), JID_PART_MAX);
    free(e);
    free(s);
    s = repeat('@', JID_PART_MAX / 3 + 1);
    assert_int_equal(jid_escape_local(s, &e), FERRY_ERANGE);
    assert_null(e);
    free(s);
}

static void check_unescape(const char *in, const char *want)
{
    char *u = NULL;
    assert_int_equal(jid_unescape_local(in, &u), 0);
    assert_string_equal(u, want);
    free(u);
}

static void test_unescape(void **state)
{
    (void)state;
    check_unescape("", "");
    check_unescape("plain", "plain");
    check_unescape("\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c", " \"&'/:<>@\\");
    check_unescape("\\2F\\3A", "\\2F\\3A"); /* uppercase: literal */
    check_unescape("\\41\\zz\\", "\\41\\zz\\");
    check_unescape("a\\4", "a\\4");
    check_unescape("\\5c5c", "\\5c"); /* decoded once, not again */
    check_unescape("\\\\40", "\\@");
    check_unescape("c\\3a\\cool\\20stuff", "c:\\cool stuff");
    check_unescape("\\20lead", " lead");
    char *u = (char *)1;
    assert_int_equal(jid_unescape_local(NULL, &u), FERRY_EINVAL);
    assert_null(u);
    assert_int_equal(jid_unescape_local("a", NULL), FERRY_EINVAL);
    assert_int_equal(jid_unescape_local("a\xFF", &u), FERRY_EINVAL);
    assert_null(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_resource_with_at_and_slash),
        cmocka_unit_test(test_parse_case),
        cmocka_unit_test(test_parse_irc),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_length_limits),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_bare),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_bare_equal),
        cmocka_unit_test(test_escape_xep_examples),
        cmocka_unit_test(test_escape_backslash_rule),
        cmocka_unit_test(test_escape_unchanged),
        cmocka_unit_test(test_escape_errors),
        cmocka_unit_test(test_escape_length),
        cmocka_unit_test(test_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
