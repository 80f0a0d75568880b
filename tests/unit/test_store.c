/* Unit tests for the SQLite store (gateway/store.h): opening, migrations,
 * reopening, bad files, registrations and pruning.  The queues are in
 * test_store_queues.c, crash safety in test_store_crash.c. */
#include <sys/stat.h>
#include <time.h>

#include "store_fixture.h"

/* ---- Opening and versions ---------------------------------------------- */

static void test_open_memory(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    assert_int_equal(store_schema_version(st), SCHEMA);
    store_free(st);
    store_free(NULL);
    /* err may be NULL */
    st = NULL;
    assert_int_equal(store_open(":memory:", &st, NULL, 0), 0);
    store_free(st);
}

static void test_null_args(void **state)
{
    (void)state;
    struct store *st = (struct store *)1;
    char err[128], *f = (char *)1;
    int64_t n;
    assert_int_equal(store_open(NULL, &st, err, sizeof(err)), FERRY_EINVAL);
    assert_null(st);
    assert_int_equal(store_open("", &st, err, sizeof(err)), FERRY_EINVAL);
    assert_int_equal(store_open(":memory:", NULL, err, sizeof(err)), FERRY_EINVAL);

    assert_int_equal(store_schema_version(NULL), FERRY_EINVAL);
    assert_int_equal(store_reg_put(NULL, "a", "u", "{}"), FERRY_EINVAL);
    st = open_ok(":memory:");
    assert_int_equal(store_reg_put(st, "a", NULL, "{}"), FERRY_EINVAL);
    assert_int_equal(store_reg_put(st, "a", "u", NULL), FERRY_EINVAL);
    assert_int_equal(store_reg_get(st, NULL, "u", &f), FERRY_EINVAL);
    assert_null(f);
    assert_int_equal(store_reg_get(st, "a", "u", NULL), FERRY_EINVAL);
    assert_int_equal(store_reg_del(st, "a", NULL), FERRY_EINVAL);
    assert_int_equal(store_reg_each(st, "a", NULL, NULL), FERRY_EINVAL);
    assert_int_equal(store_in_push(st, NULL, NULL, "<m/>", NULL), FERRY_EINVAL);
    assert_int_equal(store_in_push(st, "a", "k", NULL, NULL), FERRY_EINVAL);
    assert_int_equal(store_in_each(st, NULL, 0, 0, in_cb, NULL), FERRY_EINVAL);
    assert_int_equal(store_in_ack(NULL, "a", 1), FERRY_EINVAL);
    assert_int_equal(store_in_count(st, "a", NULL), FERRY_EINVAL);
    assert_int_equal(store_out_push(st, "a", "u", "p", NULL, NULL, NULL, NULL), FERRY_EINVAL);
    assert_int_equal(store_out_push(st, "a", "u", NULL, NULL, "b", NULL, NULL), FERRY_EINVAL);
    assert_int_equal(store_out_due(st, "a", 0, 0, NULL, NULL), FERRY_EINVAL);
    assert_int_equal(store_out_begin(NULL, 1), FERRY_EINVAL);
    assert_int_equal(store_out_retry(NULL, 1, 1), FERRY_EINVAL);
    assert_int_equal(store_out_done(NULL, 1), FERRY_EINVAL);
    assert_int_equal(store_out_requeue_inflight(st, NULL, &n), FERRY_EINVAL);
    assert_int_equal(store_out_count(NULL, "a", &n), FERRY_EINVAL);
    assert_int_equal(store_out_next_due(st, "a", NULL), FERRY_EINVAL);
    assert_int_equal(store_corr_put(st, "a", NULL, "u", "p", "s", 1), FERRY_EINVAL);
    assert_int_equal(store_corr_get(st, "a", NULL, NULL, NULL), FERRY_EINVAL);
    assert_int_equal(store_corr_del(st, NULL, "p"), FERRY_EINVAL);
    assert_int_equal(store_prune(NULL, 0), FERRY_EINVAL);
    store_free(st);
}

static void test_open_file(void **state)
{
    char path[512], res[64];
    struct stat sb;
    db_path(state, "open", path, sizeof(path));
    struct store *st = open_ok(path);
    assert_int_equal(store_schema_version(st), SCHEMA);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* private: holds messages */
    store_free(st);

    raw_exec(path, "PRAGMA journal_mode", res, sizeof(res));
    assert_string_equal(res, "wal");
    raw_exec(path, "PRAGMA user_version", res, sizeof(res));
    assert_int_equal(atoi(res), SCHEMA);
    raw_exec(path,
             "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
             " ('registrations', 'inbound', 'dedupe', 'outbound', 'correlation')",
             res, sizeof(res));
    assert_string_equal(res, "5");
    /* A second open of a migrated file changes nothing. */
    st = open_ok(path);
    assert_int_equal(store_schema_version(st), SCHEMA);
    store_free(st);
}

static void test_reopen_keeps_data(void **state)
{
    char path[512], *f = NULL;
    int64_t seq1 = 0, seq2 = 0, oseq = 0;
    db_path(state, "reopen", path, sizeof(path));
    struct store *st = open_ok(path);
    assert_int_equal(store_reg_put(st, "sms", "alice@example.org", "{\"n\":1}"), 0);
    assert_int_equal(store_in_push(st, "sms", "pid-1", "<message/>", &seq1), 0);
    assert_int_equal(store_out_push(st, "sms", "a@x/r", "+15551234567", "s1", "hi", NULL, &oseq),
                     0);
    assert_int_equal(store_corr_put(st, "sms", "prov-1", "a@x/r", "+15551234567", "s1", 1), 0);
    assert_int_equal(store_in_ack(st, "sms", seq1), 0);
    store_free(st);

    st = open_ok(path);
    assert_int_equal(store_schema_version(st), SCHEMA);
    assert_int_equal(store_reg_get(st, "sms", "alice@example.org", &f), 0);
    assert_string_equal(f, "{\"n\":1}");
    free(f);
    assert_int_equal(out_count(st, "sms"), 1);
    assert_int_equal(store_corr_get(st, "sms", "prov-1", NULL, NULL), 0);
    assert_int_equal(store_in_push(st, "sms", "pid-1", "<message/>", NULL), FERRY_EEXIST);
    /* AUTOINCREMENT: an acked seq is never handed out again, even after a
     * reopen with an empty queue. */
    assert_int_equal(in_count(st, "sms"), 0);
    assert_int_equal(store_in_push(st, "sms", NULL, "<message/>", &seq2), 0);
    assert_true(seq2 > seq1);
    store_free(st);
}

static void test_newer_version_refused(void **state)
{
    char path[512], err[512], sql[64];
    struct store *st = (struct store *)1;
    db_path(state, "newer", path, sizeof(path));
    store_free(open_ok(path));
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA + 1);
    raw_exec(path, sql, NULL, 0);
    assert_int_equal(store_open(path, &st, err, sizeof(err)), FERRY_ESTATE);
    assert_null(st);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "newer"));

    /* A fresh file stamped by some future version, without our tables. */
    db_path(state, "future", path, sizeof(path));
    raw_exec(path, "PRAGMA user_version = 99", NULL, 0);
    assert_int_equal(store_open(path, &st, err, sizeof(err)), FERRY_ESTATE);
    assert_non_null(strstr(err, path));
}

static void test_bad_files(void **state)
{
    char path[512], err[512];
    struct store *st = NULL;
    struct stat sb;

    db_path(state, "garbage", path, sizeof(path));
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 64; i++)
        fputs("this is not an SQLite database, just some text\n", fp);
    fclose(fp);
    assert_int_equal(stat(path, &sb), 0);
    off_t size = sb.st_size;
    assert_int_equal(store_open(path, &st, err, sizeof(err)), FERRY_EIO);
    assert_null(st);
    assert_non_null(strstr(err, path));
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, size); /* left untouched */

    db_path(state, "no-such-dir/x", path, sizeof(path));
    assert_int_equal(store_open(path, &st, err, sizeof(err)), FERRY_EIO);
    assert_null(st);
    assert_non_null(strstr(err, path));
}

/* ---- Registrations ----------------------------------------------------- */

static void test_registrations(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    struct seen *s = calloc(1, sizeof(*s));
    char *f = NULL;
    assert_non_null(s);

    assert_int_equal(store_reg_put(st, "sms", "carol@x", "{\"c\":1}"), 0);
    assert_int_equal(store_reg_put(st, "sms", "alice@x", "{\"a\":1}"), 0);
    assert_int_equal(store_reg_put(st, "sms", "bob@x", ""), 0);
    assert_int_equal(store_reg_put(st, "irc", "alice@x", "{\"irc\":1}"), 0);

    assert_int_equal(store_reg_get(st, "sms", "alice@x", &f), 0);
    assert_string_equal(f, "{\"a\":1}");
    free(f);
    assert_int_equal(store_reg_get(st, "sms", "bob@x", &f), 0);
    assert_string_equal(f, "");
    free(f);
    assert_int_equal(store_reg_get(st, "irc", "alice@x", &f), 0);
    assert_string_equal(f, "{\"irc\":1}");
    free(f);
    f = (char *)1;
    assert_int_equal(store_reg_get(st, "sms", "dave@x", &f), FERRY_ENOTFOUND);
    assert_null(f);

    /* Overwrite. */
    assert_int_equal(store_reg_put(st, "sms", "alice@x", "{\"a\":2}"), 0);
    assert_int_equal(store_reg_get(st, "sms", "alice@x", &f), 0);
    assert_string_equal(f, "{\"a\":2}");
    free(f);

    /* Ordered by user, per instance. */
    assert_int_equal(store_reg_each(st, "sms", reg_cb, s), 0);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->text[0], "alice@x");
    assert_string_equal(s->text[1], "bob@x");
    assert_string_equal(s->text[2], "carol@x");
    memset(s, 0, sizeof(*s));
    s->stop_at = 2;
    s->stop_rc = 42;
    assert_int_equal(store_reg_each(st, "sms", reg_cb, s), 42);
    assert_int_equal(s->n, 2);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_reg_each(st, "none", reg_cb, s), 0);
    assert_int_equal(s->n, 0);

    /* Delete. */
    assert_int_equal(store_reg_del(st, "sms", "alice@x"), 0);
    assert_int_equal(store_reg_del(st, "sms", "alice@x"), FERRY_ENOTFOUND);
    assert_int_equal(store_reg_get(st, "sms", "alice@x", &f), FERRY_ENOTFOUND);
    assert_int_equal(store_reg_get(st, "irc", "alice@x", &f), 0);
    free(f);

    /* More rows than one batch: every user once, in order. */
    char user[32];
    for (int i = 199; i >= 0; i--) {
        snprintf(user, sizeof(user), "u%03d@x", i);
        assert_int_equal(store_reg_put(st, "big", user, "{}"), 0);
    }
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_reg_each(st, "big", reg_cb, s), 0);
    assert_int_equal(s->n, 200);
    for (int i = 0; i < 200; i++) {
        snprintf(user, sizeof(user), "u%03d@x", i);
        assert_string_equal(s->text[i], user);
    }
    memset(s, 0, sizeof(*s));
    s->stop_at = 130;
    s->stop_rc = -3;
    assert_int_equal(store_reg_each(st, "big", reg_cb, s), -3);
    assert_int_equal(s->n, 130);
    free(s);
    store_free(st);
}

static void test_prune(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    char *f = NULL;
    int64_t now = time(NULL);

    assert_int_equal(store_in_push(st, "sms", "k1", "<m/>", NULL), 0);
    assert_int_equal(store_corr_put(st, "sms", "p1", "u@x/r", "+15550000001", "s", 1), 0);
    assert_int_equal(store_reg_put(st, "sms", "u@x", "{}"), 0);
    assert_int_equal(store_out_push(st, "sms", "u@x/r", "+15550000001", "s", "b", NULL, NULL), 0);

    /* Young entries survive. */
    assert_int_equal(store_prune(st, now - 3600), 0);
    assert_int_equal(store_in_push(st, "sms", "k1", "<m/>", NULL), FERRY_EEXIST);
    assert_int_equal(store_corr_get(st, "sms", "p1", NULL, NULL), 0);

    /* Old ones go: keys and correlations only, never queued messages or
     * registrations. */
    assert_int_equal(store_prune(st, now + 3600), 0);
    assert_int_equal(store_corr_get(st, "sms", "p1", NULL, NULL), FERRY_ENOTFOUND);
    assert_int_equal(in_count(st, "sms"), 1);
    assert_int_equal(out_count(st, "sms"), 1);
    assert_int_equal(store_reg_get(st, "sms", "u@x", &f), 0);
    free(f);
    assert_int_equal(store_in_push(st, "sms", "k1", "<m/>", NULL), 0);
    assert_int_equal(in_count(st, "sms"), 2);
    store_free(st);
}

static void test_two_handles(void **state)
{
    char path[512];
    db_path(state, "shared", path, sizeof(path));
    struct store *a = open_ok(path), *b = open_ok(path);
    assert_int_equal(store_in_push(a, "sms", "k", "<m/>", NULL), 0);
    assert_int_equal(in_count(b, "sms"), 1);
    assert_int_equal(store_in_push(b, "sms", "k", "<m/>", NULL), FERRY_EEXIST);
    store_free(a);
    store_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_memory),
        cmocka_unit_test(test_null_args),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_reopen_keeps_data),
        cmocka_unit_test(test_newer_version_refused),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_registrations),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_two_handles),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
