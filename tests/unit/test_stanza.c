/* Stanza building (everything sanitised, error conditions) and the
 * libstrophe priming regression check (DESIGN §3.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "stanza.h"
#include "xlink.h"
#include "strophe_fixture.h"

static void test_prime_returns_eint(void **state)
{
    (void)state;
    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    xmpp_conn_set_jid(conn, "echo.example.org");
    /* libstrophe 0.12.2 answers XMPP_EINT (-3) and allocates sm_state;
     * any other answer means the workaround no longer applies. */
    assert_int_equal(xlink_prime(conn), 0);
    assert_false(xmpp_conn_is_connected(conn));
    assert_false(xmpp_conn_is_connecting(conn));
    xmpp_conn_release(conn);
}

static void test_prime_without_jid_fails(void **state)
{
    (void)state;
    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    /* Without a JID libstrophe returns XMPP_EINVOP before allocating
     * anything: the check must refuse it. */
    assert_int_equal(xlink_prime(conn), FERRY_ESTATE);
    xmpp_conn_release(conn);
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
            return 1;
    return 0;
}

static void test_message_sanitised(void **state)
{
    (void)state;
    const char raw[] = "He\x02l\0lo \xff <b>&amp;\x1b";
    xmpp_stanza_t *m = stz_message(ctx, "chat", "x@echo.example.org", "a@example.org/r", "id1", raw,
                                   sizeof(raw) - 1);
    assert_non_null(m);
    char *xml = stz_to_string(ctx, m);
    assert_non_null(xml);
    assert_false(has_control(xml));
    assert_non_null(strstr(xml, "<body>Hello \xef\xbf\xbd &lt;b&gt;&amp;amp;</body>"));
    assert_non_null(strstr(xml, "from=\"x@echo.example.org\""));
    free(xml);
    xmpp_stanza_release(m);
}

static void test_attribute_sanitised(void **state)
{
    (void)state;
    xmpp_stanza_t *e = stz_elem(ctx, "identity", NULL);
    stz_set_attr(e, "name", "bad\x01name\xc3");
    char *xml = stz_to_string(ctx, e);
    assert_non_null(strstr(xml, "name=\"badname\xef\xbf\xbd\""));
    free(xml);
    xmpp_stanza_release(e);
}

static void test_error_reply(void **state)
{
    (void)state;
    xmpp_stanza_t *m =
        stz_message(ctx, "chat", "a@example.org/r", "+1555@sms.example.org", "m7", "hi", 2);
    xmpp_stanza_t *e = stz_error_reply(ctx, m, TR_COND_POLICY_VIOLATION, "Too many\x07 messages.");
    char *xml = stz_to_string(ctx, e);
    assert_non_null(strstr(xml, "type=\"error\""));
    assert_non_null(strstr(xml, "id=\"m7\""));
    assert_non_null(strstr(xml, "to=\"a@example.org/r\""));
    assert_non_null(strstr(xml, "from=\"+1555@sms.example.org\""));
    assert_non_null(strstr(xml, "<body>hi</body>"));
    assert_non_null(strstr(xml, "<error type=\"wait\"><policy-violation "
                                "xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"));
    assert_non_null(strstr(xml, ">Too many messages.</text>"));
    free(xml);
    xmpp_stanza_release(e);
    xmpp_stanza_release(m);
}

static void test_conditions(void **state)
{
    (void)state;
    assert_string_equal(stz_cond_name(TR_COND_FORBIDDEN), "forbidden");
    assert_string_equal(stz_cond_type(TR_COND_FORBIDDEN), "auth");
    assert_string_equal(stz_cond_name(TR_COND_REGISTRATION_REQUIRED), "registration-required");
    assert_string_equal(stz_cond_name(TR_COND_SERVICE_UNAVAILABLE), "service-unavailable");
    assert_string_equal(stz_cond_type(TR_COND_SERVICE_UNAVAILABLE), "cancel");
    assert_string_equal(stz_cond_name(TR_COND_RESOURCE_CONSTRAINT), "resource-constraint");
    assert_string_equal(stz_cond_name((enum tr_cond)999), "undefined-condition");
}

static void test_reply_comes_from_the_jid_asked(void **state)
{
    (void)state;
    xmpp_stanza_t *iq = xmpp_iq_new(ctx, "get", "q1");
    xmpp_stanza_set_from(iq, "u@localhost/r");
    xmpp_stanza_set_to(iq, "irc.example@irc.localhost");
    xmpp_stanza_t *r = stz_reply(iq);
    assert_non_null(r);
    assert_string_equal(xmpp_stanza_get_to(r), "u@localhost/r");
    assert_string_equal(xmpp_stanza_get_from(r), "irc.example@irc.localhost");
    assert_string_equal(xmpp_stanza_get_id(r), "q1");
    xmpp_stanza_release(r);
    xmpp_stanza_release(iq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prime_returns_eint),
        cmocka_unit_test(test_reply_comes_from_the_jid_asked),
        cmocka_unit_test(test_prime_without_jid_fails),
        cmocka_unit_test(test_message_sanitised),
        cmocka_unit_test(test_attribute_sanitised),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_conditions),
    };
    return cmocka_run_group_tests_name("stanza", tests, setup, teardown);
}
