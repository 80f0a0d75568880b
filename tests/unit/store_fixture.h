/* Shared fixture for the SQLite store unit tests (test_store*.c): a temp
 * directory per group, helpers to open and tamper with store files, and the
 * collectors that the walk callbacks fill.  Header-only (static inline), as
 * the Makefile compiles only tests/unit/test_*.c. */
#ifndef FERRY_TESTS_STORE_FIXTURE_H
#define FERRY_TESTS_STORE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "store.h"

#define SCHEMA 1 /* the version this build migrates to */

/* ---- Fixture: one temp directory for the whole group ------------------ */

struct fx {
    char dir[256];
};

static inline int group_setup(void **state)
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

static inline int group_teardown(void **state)
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

static inline void db_path(void **state, const char *name, char *buf, size_t len)
{
    struct fx *f = *state;
    snprintf(buf, len, "%s/%s.db", f->dir, name);
}

static inline struct store *open_ok(const char *path)
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
static inline void raw_exec(const char *path, const char *sql, char *res, size_t reslen)
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

static inline int64_t in_count(struct store *st, const char *instance)
{
    int64_t n = -1;
    assert_int_equal(store_in_count(st, instance, &n), 0);
    return n;
}

static inline int64_t out_count(struct store *st, const char *instance)
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

static inline int seen_ret(struct seen *s)
{
    return s->stop_at && s->n == s->stop_at ? s->stop_rc : 0;
}

static inline int reg_cb(void *arg, const char *user, const char *fields)
{
    struct seen *s = arg;
    assert_true(s->n < MAXROWS);
    assert_non_null(fields);
    snprintf(s->text[s->n++], sizeof(s->text[0]), "%s", user);
    return seen_ret(s);
}

static inline int in_cb(void *arg, const struct store_in *m)
{
    struct seen *s = arg;
    assert_true(s->n < MAXROWS);
    assert_non_null(m->instance);
    s->seq[s->n] = m->seq;
    snprintf(s->text[s->n++], sizeof(s->text[0]), "%s", m->xml);
    return seen_ret(s);
}

static inline int out_cb(void *arg, const struct store_out *m)
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

#endif /* FERRY_TESTS_STORE_FIXTURE_H */
