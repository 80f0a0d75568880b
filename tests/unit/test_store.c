/* Unit tests for the SQLite store (gateway/store.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "store.h"

#define SCHEMA 1 /* the version this build migrates to */

/* ---- Fixture: one temp directory for the whole group ------------------ */

struct fx {
    char dir[256];
};

static int group_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/ferry-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    struct fx *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void db_path(void **state, const char *name, char *buf, size_t len)
{
    struct fx *f = *state;
    snprintf(buf, len, "%s/%s.db", f->dir, name);
}

static struct store *open_ok(const char *path)
{
    struct store *st = NULL;
    char err[256];
    int rc = store_open(path, &st, err, sizeof(err));
    if (rc != 0)
        fail_msg("store_open(%s): %s (%s)", path, ferry_strerror(rc), err);
    assert_non_null(st);
    return st;
}

/* Runs one SQL statement on a raw connection (to tamper with a file). */
static void raw_exec(const char *path, const char *sql, char *res, size_t reslen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    int rc = sqlite3_step(s);
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    if (res)
        snprintf(res, reslen, "%s",
                 rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : "");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int64_t in_count(struct store *st, const char *instance)
{
    int64_t n = -1;
    assert_int_equal(store_in_count(st, instance, &n), 0);
    return n;
}

static int64_t out_count(struct store *st, const char *instance)
{
    int64_t n = -1;
    assert_int_equal(store_out_count(st, instance, &n), 0);
    return n;
}

/* ---- Collectors -------------------------------------------------------- */

#define MAXROWS 512

struct seen {
    int n;
    int stop_at; /* return stop_rc on this call (1-based); 0: never */
    int stop_rc;
    int64_t seq[MAXROWS];
    char text[MAXROWS][64];
    struct store_out out[MAXROWS]; /* pointers only valid during the walk */
    int attempts[MAXROWS];
    int state[MAXROWS];
    int64_t next_attempt[MAXROWS];
    int has_stanza_id[MAXROWS];
    int has_extra[MAXROWS];
};

static int seen_ret(struct seen *s)
{
    return s->stop_at && s->n == s->stop_at ? s->stop_rc : 0;
}

static int reg_cb(void *arg, const char *user, const char *fields)
{
    struct seen *s = arg;
    assert_true(s->n < MAXROWS);
    assert_non_null(fields);
    snprintf(s->text[s->n++], sizeof(s->text[0]), "%s", user);
    return seen_ret(s);
}

static int in_cb(void *arg, const struct store_in *m)
{
    struct seen *s = arg;
    assert_true(s->n < MAXROWS);
    assert_non_null(m->instance);
    s->seq[s->n] = m->seq;
    snprintf(s->text[s->n++], sizeof(s->text[0]), "%s", m->xml);
    return seen_ret(s);
}

static int out_cb(void *arg, const struct store_out *m)
{
    struct seen *s = arg;
    assert_true(s->n < MAXROWS);
    s->seq[s->n] = m->seq;
    s->attempts[s->n] = m->attempts;
    s->state[s->n] = m->state;
    s->next_attempt[s->n] = m->next_attempt;
    s->has_stanza_id[s->n] = m->stanza_id != NULL;
    s->has_extra[s->n] = m->extra != NULL;
    snprintf(s->text[s->n++], sizeof(s->text[0]), "%s|%s|%s", m->user, m->peer, m->body);
    return seen_ret(s);
}

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

/* ---- Inbound queue ----------------------------------------------------- */

static void test_inbound(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    struct seen *s = calloc(1, sizeof(*s));
    int64_t a1, a2, a3, b1, b2;
    assert_non_null(s);

    assert_int_equal(store_in_push(st, "a", NULL, "<a1/>", &a1), 0);
    assert_int_equal(store_in_push(st, "b", NULL, "<b1/>", &b1), 0);
    assert_int_equal(store_in_push(st, "a", NULL, "<a2/>", &a2), 0);
    assert_int_equal(store_in_push(st, "b", NULL, "<b2/>", &b2), 0);
    assert_int_equal(store_in_push(st, "a", NULL, "<a3/>", NULL), 0);
    assert_int_equal(store_in_push(st, "a", NULL, "<a4/>", &a3), 0);
    assert_true(a1 < b1 && b1 < a2 && a2 < b2 && b2 < a3);
    assert_int_equal(in_count(st, "a"), 4);
    assert_int_equal(in_count(st, "b"), 2);
    assert_int_equal(in_count(st, NULL), 6);
    assert_int_equal(in_count(st, "c"), 0);

    assert_int_equal(store_in_each(st, "a", 0, 0, in_cb, s), 0);
    assert_int_equal(s->n, 4);
    assert_string_equal(s->text[0], "<a1/>");
    assert_string_equal(s->text[1], "<a2/>");
    assert_string_equal(s->text[2], "<a3/>");
    assert_string_equal(s->text[3], "<a4/>");
    assert_true(s->seq[0] == a1 && s->seq[1] == a2 && s->seq[3] == a3);

    memset(s, 0, sizeof(*s));
    assert_int_equal(store_in_each(st, "a", a1, 2, in_cb, s), 0);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->text[0], "<a2/>");
    assert_string_equal(s->text[1], "<a3/>");

    memset(s, 0, sizeof(*s));
    s->stop_at = 1;
    s->stop_rc = 9;
    assert_int_equal(store_in_each(st, "b", 0, 0, in_cb, s), 9);
    assert_int_equal(s->n, 1);

    /* Ack per instance. */
    assert_int_equal(store_in_ack(st, "a", a2), 0);
    assert_int_equal(in_count(st, "a"), 2);
    assert_int_equal(in_count(st, "b"), 2);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_in_each(st, "a", 0, 0, in_cb, s), 0);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->text[0], "<a3/>");
    assert_int_equal(store_in_ack(st, "a", a2), 0); /* nothing left to ack: fine */
    assert_int_equal(store_in_ack(st, "a", INT64_MAX), 0);
    assert_int_equal(in_count(st, "a"), 0);
    assert_int_equal(in_count(st, "b"), 2);

    /* created is unix time. */
    memset(s, 0, sizeof(*s));
    int64_t seq;
    assert_int_equal(store_in_push(st, "c", NULL, "<c/>", &seq), 0);
    assert_true(seq > a3);

    /* Several batches: every row once, in order, honouring limit. */
    char xml[32];
    for (int i = 0; i < 150; i++) {
        snprintf(xml, sizeof(xml), "<m n='%d'/>", i);
        assert_int_equal(store_in_push(st, "big", NULL, xml, NULL), 0);
    }
    int limits[] = {0, -1, 64, 65, 100, 128, 150, 500, 1};
    int want[] = {150, 150, 64, 65, 100, 128, 150, 150, 1};
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        memset(s, 0, sizeof(*s));
        assert_int_equal(store_in_each(st, "big", 0, limits[k], in_cb, s), 0);
        assert_int_equal(s->n, want[k]);
        for (int i = 0; i < s->n; i++) {
            snprintf(xml, sizeof(xml), "<m n='%d'/>", i);
            assert_string_equal(s->text[i], xml);
            assert_true(i == 0 || s->seq[i] > s->seq[i - 1]);
        }
    }
    memset(s, 0, sizeof(*s));
    s->stop_at = 100;
    s->stop_rc = 1;
    assert_int_equal(store_in_each(st, "big", 0, 0, in_cb, s), 1);
    assert_int_equal(s->n, 100);
    int64_t mid = s->seq[99];
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_in_each(st, "big", mid, 0, in_cb, s), 0);
    assert_int_equal(s->n, 50);
    assert_string_equal(s->text[0], "<m n='100'/>");

    free(s);
    store_free(st);
}

static void test_dedupe(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    int64_t seq = -1, seq2 = -1;

    assert_int_equal(store_in_push(st, "sms", "prov-42", "<m1/>", &seq), 0);
    assert_true(seq > 0);
    /* A provider retry: nothing stored, seq untouched. */
    assert_int_equal(store_in_push(st, "sms", "prov-42", "<m1/>", &seq2), FERRY_EEXIST);
    assert_int_equal(seq2, -1);
    assert_int_equal(in_count(st, "sms"), 1);
    /* Keys are per instance. */
    assert_int_equal(store_in_push(st, "sms2", "prov-42", "<m1/>", NULL), 0);
    /* Delivered and acked, then retried: still recognised. */
    assert_int_equal(store_in_ack(st, "sms", seq), 0);
    assert_int_equal(in_count(st, "sms"), 0);
    assert_int_equal(store_in_push(st, "sms", "prov-42", "<m1/>", NULL), FERRY_EEXIST);
    assert_int_equal(in_count(st, "sms"), 0);
    /* No key: never deduplicated. */
    assert_int_equal(store_in_push(st, "sms", NULL, "<m2/>", NULL), 0);
    assert_int_equal(store_in_push(st, "sms", NULL, "<m2/>", NULL), 0);
    assert_int_equal(in_count(st, "sms"), 2);
    store_free(st);
}

/* ---- Outbound queue ---------------------------------------------------- */

static void test_outbound(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    struct seen *s = calloc(1, sizeof(*s));
    int64_t m1, m2, m3, n, when, t0 = time(NULL);
    assert_non_null(s);

    assert_int_equal(store_out_next_due(st, "a", &when), FERRY_ENOTFOUND);
    assert_int_equal(
        store_out_push(st, "a", "u@x/r", "+15550000001", "id1", "one", "{\"x\":1}", &m1), 0);
    assert_int_equal(store_out_push(st, "a", "u@x/r", "+15550000002", NULL, "two", NULL, &m2), 0);
    assert_int_equal(store_out_push(st, "b", "v@x/r", "#c%irc.net", "id3", "three", NULL, &m3), 0);
    int64_t t1 = time(NULL);
    assert_true(m1 < m2 && m2 < m3);
    assert_int_equal(out_count(st, "a"), 2);
    assert_int_equal(out_count(st, "b"), 1);
    assert_int_equal(out_count(st, NULL), 3);

    /* Due now: both rows of a, fields intact. */
    assert_int_equal(store_out_due(st, "a", t1, 0, out_cb, s), 0);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->seq[0], m1);
    assert_string_equal(s->text[0], "u@x/r|+15550000001|one");
    assert_true(s->has_stanza_id[0] && s->has_extra[0]);
    assert_false(s->has_stanza_id[1] || s->has_extra[1]);
    assert_int_equal(s->state[0], STORE_OUT_QUEUED);
    assert_int_equal(s->attempts[0], 0);
    assert_true(s->next_attempt[0] >= t0 && s->next_attempt[0] <= t1);
    assert_int_equal(store_out_next_due(st, "a", &when), 0);
    assert_true(when >= t0 && when <= t1);
    /* Not yet due before its time. */
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_out_due(st, "a", t0 - 1, 0, out_cb, s), 0);
    assert_int_equal(s->n, 0);

    /* Begin: in flight, no longer due; never twice. */
    assert_int_equal(store_out_begin(st, m1), 0);
    assert_int_equal(store_out_begin(st, m1), FERRY_ESTATE);
    assert_int_equal(store_out_begin(st, 999999), FERRY_ENOTFOUND);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_out_due(st, "a", t1, 0, out_cb, s), 0);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->seq[0], m2);

    /* Transient failure: retry later. */
    assert_int_equal(store_out_retry(st, m1, t1 + 100), 0);
    assert_int_equal(store_out_retry(st, 999999, t1), FERRY_ENOTFOUND);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_out_due(st, "a", t1, 0, out_cb, s), 0);
    assert_int_equal(s->n, 1);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_out_due(st, "a", t1 + 100, 0, out_cb, s), 0);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->seq[0], m1);
    assert_int_equal(s->attempts[0], 1);
    assert_int_equal(s->state[0], STORE_OUT_QUEUED);
    assert_int_equal(s->next_attempt[0], t1 + 100);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_out_due(st, "a", t1 + 100, 1, out_cb, s), 0);
    assert_int_equal(s->n, 1);
    memset(s, 0, sizeof(*s));
    s->stop_at = 1;
    s->stop_rc = 5;
    assert_int_equal(store_out_due(st, "a", t1 + 100, 0, out_cb, s), 5);

    /* next_due: the earliest QUEUED row only. */
    assert_int_equal(store_out_next_due(st, "a", &when), 0);
    assert_true(when <= t1);
    assert_int_equal(store_out_begin(st, m2), 0);
    assert_int_equal(store_out_next_due(st, "a", &when), 0);
    assert_int_equal(when, t1 + 100);
    assert_int_equal(store_out_begin(st, m1), 0);
    assert_int_equal(store_out_next_due(st, "a", &when), FERRY_ENOTFOUND);

    /* After a restart: in-flight rows of the instance are queued again. */
    assert_int_equal(store_out_begin(st, m3), 0);
    assert_int_equal(store_out_requeue_inflight(st, "a", &n), 0);
    assert_int_equal(n, 2);
    int64_t t2 = time(NULL);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_out_due(st, "a", t2, 0, out_cb, s), 0);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->attempts[0], 2);
    assert_int_equal(s->attempts[1], 1);
    assert_true(s->next_attempt[0] >= t1 && s->next_attempt[0] <= t2);
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_out_due(st, "b", t2 + 1000, 0, out_cb, s), 0);
    assert_int_equal(s->n, 0); /* b's row is still in flight */
    assert_int_equal(store_out_requeue_inflight(st, "a", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_out_requeue_inflight(st, "b", NULL), 0);

    /* Done: gone. */
    assert_int_equal(store_out_done(st, m1), 0);
    assert_int_equal(store_out_done(st, m1), FERRY_ENOTFOUND);
    assert_int_equal(store_out_begin(st, m1), FERRY_ENOTFOUND);
    assert_int_equal(out_count(st, "a"), 1);
    assert_int_equal(out_count(st, NULL), 2);
    free(s);
    store_free(st);
}

/* ---- Correlation and pruning ------------------------------------------- */

struct corr_want {
    const char *stanza_id;
    int want_receipt;
    int calls;
    int ret;
};

static int corr_cb(void *arg, const struct store_corr *c)
{
    struct corr_want *w = arg;
    w->calls++;
    assert_string_equal(c->user, "u@x/r");
    assert_string_equal(c->peer, "+15550000001");
    if (w->stanza_id)
        assert_string_equal(c->stanza_id, w->stanza_id);
    else
        assert_null(c->stanza_id);
    assert_int_equal(c->want_receipt, w->want_receipt);
    assert_true(c->created > 0);
    return w->ret;
}

static void test_correlation(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    struct corr_want w = {"sid-1", 1, 0, 0};

    assert_int_equal(store_corr_put(st, "sms", "p1", "u@x/r", "+15550000001", "sid-1", 7), 0);
    assert_int_equal(store_corr_get(st, "sms", "p1", corr_cb, &w), 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(store_corr_get(st, "sms", "p2", corr_cb, &w), FERRY_ENOTFOUND);
    assert_int_equal(store_corr_get(st, "sms2", "p1", corr_cb, &w), FERRY_ENOTFOUND);
    assert_int_equal(w.calls, 1);
    w.ret = 17;
    assert_int_equal(store_corr_get(st, "sms", "p1", corr_cb, &w), 17);
    assert_int_equal(store_corr_get(st, "sms", "p1", NULL, NULL), 0);

    /* The same provider id again replaces the row. */
    assert_int_equal(store_corr_put(st, "sms", "p1", "u@x/r", "+15550000001", NULL, 0), 0);
    struct corr_want w2 = {NULL, 0, 0, 0};
    assert_int_equal(store_corr_get(st, "sms", "p1", corr_cb, &w2), 0);
    assert_int_equal(w2.calls, 1);

    assert_int_equal(store_corr_del(st, "sms", "p1"), 0);
    assert_int_equal(store_corr_del(st, "sms", "p1"), FERRY_ENOTFOUND);
    assert_int_equal(store_corr_get(st, "sms", "p1", NULL, NULL), FERRY_ENOTFOUND);
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

/* ---- Callbacks that call back into the store --------------------------- */

struct reenter {
    struct store *st;
    int n, nested;
};

static int count_in_cb(void *arg, const struct store_in *m)
{
    (void)m;
    ((struct reenter *)arg)->nested++;
    return 0;
}

static int ack_in_cb(void *arg, const struct store_in *m)
{
    struct reenter *r = arg;
    r->n++;
    assert_int_equal(store_in_ack(r->st, m->instance, m->seq), 0);
    if (r->n == 1) {
        /* A nested walk of the same statement, and a push. */
        assert_int_equal(store_in_each(r->st, m->instance, m->seq, 0, count_in_cb, r), 0);
        assert_int_equal(store_in_push(r->st, "other", "key", "<o/>", NULL), 0);
    }
    return 0;
}

static int count_out_cb(void *arg, const struct store_out *m)
{
    (void)m;
    ((struct reenter *)arg)->nested++;
    return 0;
}

static int begin_out_cb(void *arg, const struct store_out *m)
{
    struct reenter *r = arg;
    int64_t c;
    r->n++;
    assert_int_equal(store_out_begin(r->st, m->seq), 0);
    if (r->n == 1) {
        assert_int_equal(store_out_due(r->st, m->instance, INT64_MAX, 0, count_out_cb, r), 0);
        assert_int_equal(store_out_push(r->st, "other", "u", "p", NULL, "b", NULL, NULL), 0);
        assert_int_equal(store_out_count(r->st, m->instance, &c), 0);
    }
    return 0;
}

static int del_reg_cb(void *arg, const char *user, const char *fields)
{
    struct reenter *r = arg;
    (void)fields;
    r->n++;
    assert_int_equal(store_reg_del(r->st, "sms", user), 0);
    assert_int_equal(store_reg_put(r->st, "irc", user, "{}"), 0);
    return 0;
}

static int del_corr_cb(void *arg, const struct store_corr *c)
{
    struct reenter *r = arg;
    r->n++;
    assert_string_equal(c->user, "u");
    assert_int_equal(store_corr_del(r->st, "sms", "p1"), 0);
    assert_string_equal(c->user, "u"); /* still valid during the callback */
    return 0;
}

static void test_callbacks_reenter(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    struct reenter r = {st, 0, 0};
    char user[32];
    int64_t n;

    /* 150 rows: the walk spans several batches while its callback acks. */
    for (int i = 0; i < 150; i++)
        assert_int_equal(store_in_push(st, "sms", NULL, "<m/>", NULL), 0);
    assert_int_equal(store_in_each(st, "sms", 0, 0, ack_in_cb, &r), 0);
    assert_int_equal(r.n, 150);
    assert_int_equal(r.nested, 149);
    assert_int_equal(in_count(st, "sms"), 0);
    assert_int_equal(in_count(st, "other"), 1);

    r.n = r.nested = 0;
    for (int i = 0; i < 150; i++)
        assert_int_equal(store_out_push(st, "sms", "u", "p", NULL, "b", NULL, NULL), 0);
    assert_int_equal(store_out_due(st, "sms", INT64_MAX, 0, begin_out_cb, &r), 0);
    assert_int_equal(r.n, 150); /* each once, even though begin changes its state */
    assert_int_equal(r.nested, 149);
    assert_int_equal(store_out_requeue_inflight(st, "sms", &n), 0);
    assert_int_equal(n, 150);
    assert_int_equal(out_count(st, "other"), 1);

    r.n = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(user, sizeof(user), "u%03d@x", i);
        assert_int_equal(store_reg_put(st, "sms", user, "{}"), 0);
    }
    assert_int_equal(store_reg_each(st, "sms", del_reg_cb, &r), 0);
    assert_int_equal(r.n, 100);
    struct seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(store_reg_each(st, "sms", reg_cb, s), 0);
    assert_int_equal(s->n, 0);
    assert_int_equal(store_reg_each(st, "irc", reg_cb, s), 0);
    assert_int_equal(s->n, 100);
    free(s);

    r.n = 0;
    assert_int_equal(store_corr_put(st, "sms", "p1", "u", "p", "s", 1), 0);
    assert_int_equal(store_corr_get(st, "sms", "p1", del_corr_cb, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(store_corr_get(st, "sms", "p1", NULL, NULL), FERRY_ENOTFOUND);
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

/* ---- Crash safety ------------------------------------------------------ */

#define CRASH_N 200

static void test_crash_exit_without_close(void **state)
{
    char path[512], wal[600];
    db_path(state, "crash-exit", path, sizeof(path));
    snprintf(wal, sizeof(wal), "%s-wal", path);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *st = NULL;
        char key[32];
        if (store_open(path, &st, NULL, 0) != 0)
            _exit(2);
        for (int i = 0; i < CRASH_N; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            if (store_in_push(st, "sms", key, "<m/>", NULL) != 0 ||
                store_out_push(st, "sms", "u@x/r", "+15550000001", NULL, "b", NULL, NULL) != 0)
                _exit(3);
        }
        _exit(0); /* no store_free: the WAL is left behind */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(access(wal, F_OK), 0);

    struct store *st = open_ok(path);
    assert_int_equal(in_count(st, "sms"), CRASH_N);
    assert_int_equal(out_count(st, "sms"), CRASH_N);
    assert_int_equal(store_in_push(st, "sms", "k0", "<m/>", NULL), FERRY_EEXIST);
    assert_int_equal(store_in_push(st, "sms", "k199", "<m/>", NULL), FERRY_EEXIST);
    store_free(st);
}

static void test_crash_sigkill(void **state)
{
    char path[512];
    int fds[2];
    db_path(state, "crash-kill", path, sizeof(path));
    assert_int_equal(pipe(fds), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *st = NULL;
        char key[32];
        int64_t seq;
        close(fds[0]);
        if (store_open(path, &st, NULL, 0) != 0)
            _exit(2);
        /* Report every accepted push; get killed somewhere in the loop. */
        for (int i = 0; i < 100000; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            if (store_in_push(st, "sms", key, "<m/>", &seq) != 0)
                _exit(3);
            if (write(fds[1], &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
                _exit(4);
        }
        pause();
        _exit(5);
    }
    close(fds[1]);
    int64_t *acked = calloc(100000, sizeof(*acked));
    size_t nacked = 0;
    assert_non_null(acked);
    while (nacked < CRASH_N &&
           read(fds[0], &acked[nacked], sizeof(acked[0])) == (ssize_t)sizeof(acked[0]))
        nacked++;
    assert_int_equal(nacked, CRASH_N);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    while (nacked < 100000 &&
           read(fds[0], &acked[nacked], sizeof(acked[0])) == (ssize_t)sizeof(acked[0]))
        nacked++;
    close(fds[0]);

    /* Every acknowledged row is there, in order; at most one more (committed
     * but not yet reported) and each row came with its dedupe key. */
    struct store *st = open_ok(path);
    int64_t count = in_count(st, "sms");
    assert_true(count >= (int64_t)nacked && count <= (int64_t)nacked + 1);
    struct seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < nacked; i += MAXROWS) {
        memset(s, 0, sizeof(*s));
        int64_t after = i ? acked[i - 1] : 0;
        assert_int_equal(store_in_each(st, "sms", after, MAXROWS, in_cb, s), 0);
        for (int k = 0; k < s->n && i + (size_t)k < nacked; k++)
            assert_int_equal(s->seq[k], acked[i + (size_t)k]);
    }
    char key[32];
    for (int64_t i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "k%lld", (long long)i);
        assert_int_equal(store_in_push(st, "sms", key, "<m/>", NULL), FERRY_EEXIST);
    }
    snprintf(key, sizeof(key), "k%lld", (long long)count);
    assert_int_equal(store_in_push(st, "sms", key, "<m/>", NULL), 0);
    free(s);
    free(acked);
    store_free(st);
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
        cmocka_unit_test(test_inbound),
        cmocka_unit_test(test_dedupe),
        cmocka_unit_test(test_outbound),
        cmocka_unit_test(test_correlation),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_callbacks_reenter),
        cmocka_unit_test(test_two_handles),
        cmocka_unit_test(test_crash_exit_without_close),
        cmocka_unit_test(test_crash_sigkill),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
