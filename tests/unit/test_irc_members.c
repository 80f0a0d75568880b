/* The channel member set (transports/irc/irc_members.c): lookups are
 * case-insensitive, deletions keep every other member findable (the
 * backward shift of linear probing), and a walk sees each member once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/irc.h"

static size_t walk_count(struct irc_chan *ch)
{
    size_t it = 0, n = 0;
    while (irc_member_next(ch, &it))
        n++;
    return n;
}

static void test_add_find_prefix(void **state)
{
    (void)state;
    struct irc_chan ch = {0};
    assert_null(irc_member_find(&ch, "nobody"));
    assert_int_equal(walk_count(&ch), 0);
    irc_member_del(&ch, "nobody"); /* empty set: nothing happens */
    assert_non_null(irc_member_add(&ch, "Alice", '@'));
    assert_non_null(irc_member_add(&ch, "bob", 0));
    struct irc_member *m = irc_member_find(&ch, "ALICE");
    assert_non_null(m);
    assert_string_equal(m->nick, "Alice");
    assert_int_equal(m->prefix, '@');
    /* Adding again only changes the prefix. */
    assert_ptr_equal(irc_member_add(&ch, "alice", '+'), m);
    assert_int_equal(m->prefix, '+');
    assert_int_equal(ch.members.n, 2);
    assert_int_equal(walk_count(&ch), 2);
    irc_member_del(&ch, "BOB");
    assert_null(irc_member_find(&ch, "bob"));
    assert_int_equal(walk_count(&ch), 1);
    irc_members_clear(&ch);
    assert_int_equal(ch.members.n, 0);
    assert_null(irc_member_find(&ch, "alice"));
}

static void test_many_with_deletions(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct irc_chan ch = {0};
    char nick[32];
    for (int i = 0; i < N; i++) {
        snprintf(nick, sizeof(nick), "User%d", i);
        assert_non_null(irc_member_add(&ch, nick, i % 3 ? 0 : '@'));
    }
    assert_int_equal(ch.members.n, N);
    assert_int_equal(walk_count(&ch), N);
    assert_true(ch.members.n * 4 <= ch.members.cap * 3);
    /* Delete every third one, in an order unrelated to insertion. */
    for (int k = 0; k < N; k++) {
        int i = (k * 7919) % N;
        if (i % 3 == 1) {
            snprintf(nick, sizeof(nick), "USER%d", i);
            irc_member_del(&ch, nick);
        }
    }
    for (int i = 0; i < N; i++) {
        snprintf(nick, sizeof(nick), "user%d", i);
        struct irc_member *m = irc_member_find(&ch, nick);
        if (i % 3 == 1) {
            assert_null(m);
        } else {
            assert_non_null(m);
            assert_int_equal(m->prefix, i % 3 ? 0 : '@');
        }
    }
    assert_int_equal(walk_count(&ch), N - N / 3);
    /* Back in again: found, counted once. */
    for (int i = 1; i < N; i += 3) {
        snprintf(nick, sizeof(nick), "user%d", i);
        assert_non_null(irc_member_add(&ch, nick, '+'));
    }
    assert_int_equal(ch.members.n, N);
    assert_int_equal(walk_count(&ch), N);
    irc_members_clear(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_prefix),
        cmocka_unit_test(test_many_with_deletions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
