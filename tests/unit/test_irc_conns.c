/* The connection index (transports/irc/irc_conns.c): lookups by (user,
 * server) ignore ASCII case, survive growth and removals, and never mix
 * two users or two servers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/irc.h"

enum { USERS = 700, SERVERS = 3 };

static void test_index(void **state)
{
    (void)state;
    struct irc t = {0};
    static struct irc_conn conns[USERS * SERVERS];
    static char users[USERS][32], servers[SERVERS][32];
    assert_null(irc_conn_lookup(&t, "a@x", "irc.example"));
    for (int s = 0; s < SERVERS; s++)
        snprintf(servers[s], sizeof(servers[s]), "irc%d.example", s);
    for (int u = 0; u < USERS; u++)
        snprintf(users[u], sizeof(users[u]), "user%d@example.org", u);
    for (int u = 0; u < USERS; u++)
        for (int s = 0; s < SERVERS; s++) {
            struct irc_conn *c = &conns[u * SERVERS + s];
            c->user = users[u];
            c->server = servers[s];
            assert_int_equal(irc_conn_index_add(&t, c), 0);
        }
    assert_int_equal(t.n_indexed, USERS * SERVERS);
    char user[40], server[40];
    for (int u = 0; u < USERS; u++)
        for (int s = 0; s < SERVERS; s++) {
            snprintf(user, sizeof(user), "USER%d@Example.ORG", u);
            snprintf(server, sizeof(server), "IRC%d.example", s);
            assert_ptr_equal(irc_conn_lookup(&t, user, server), &conns[u * SERVERS + s]);
        }
    assert_null(irc_conn_lookup(&t, "user1@example.org", "irc9.example"));
    assert_null(irc_conn_lookup(&t, "user99999@example.org", "irc0.example"));
    /* Remove every user's second server. */
    for (int u = 0; u < USERS; u++)
        irc_conn_index_del(&t, &conns[u * SERVERS + 1]);
    assert_int_equal(t.n_indexed, USERS * (SERVERS - 1));
    for (int u = 0; u < USERS; u++) {
        assert_null(irc_conn_lookup(&t, users[u], servers[1]));
        assert_ptr_equal(irc_conn_lookup(&t, users[u], servers[2]), &conns[u * SERVERS + 2]);
    }
    /* Removing one that is not there changes nothing. */
    irc_conn_index_del(&t, &conns[1]);
    struct irc_conn half = {0}; /* half-made: no user */
    irc_conn_index_del(&t, &half);
    assert_int_equal(t.n_indexed, USERS * (SERVERS - 1));
    irc_conn_index_free(&t);
    assert_null(irc_conn_lookup(&t, users[0], servers[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
