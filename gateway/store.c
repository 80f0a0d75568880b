/* The SQLite store: opening, schema migrations, the statement cache, shared
 * helpers and housekeeping.  The per-concern functions live in
 * store_reg.c (registrations), store_in.c (inbound queue and dedupe keys)
 * and store_out.c (outbound queue and correlation).
 *
 * Durability: WAL journal with synchronous=FULL, so every commit is
 * fsync'ed to the WAL before the function returns; a crash or power loss
 * after a 0 return loses nothing, and WAL recovery on the next open
 * replays it.  Single-statement writes run in autocommit; writes that
 * touch several rows or tables run in one BEGIN IMMEDIATE transaction. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

/* Ordered schema migrations: step i takes user_version i to i + 1.  Append
 * new steps at the end; never edit a released step. */
static const char *const migrations[] = {
    /* 0 -> 1: initial schema */
    "CREATE TABLE registrations ("
    " instance TEXT NOT NULL,"
    " user TEXT NOT NULL,"
    " fields TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (instance, user)) WITHOUT ROWID;"

    "CREATE TABLE inbound ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " instance TEXT NOT NULL,"
    " xml TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX inbound_instance_seq ON inbound (instance, seq);"

    /* Independent of inbound: a key outlives its message, so a provider
     * retry after delivery is still recognised (until store_prune). */
    "CREATE TABLE dedupe ("
    " instance TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (instance, key)) WITHOUT ROWID;"
    "CREATE INDEX dedupe_created ON dedupe (created);"

    "CREATE TABLE outbound ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " instance TEXT NOT NULL,"
    " user TEXT NOT NULL,"
    " peer TEXT NOT NULL,"
    " stanza_id TEXT,"
    " body TEXT NOT NULL,"
    " extra TEXT,"
    " state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX outbound_due ON outbound (instance, state, next_attempt);"

    "CREATE TABLE correlation ("
    " instance TEXT NOT NULL,"
    " provider_id TEXT NOT NULL,"
    " user TEXT NOT NULL,"
    " peer TEXT NOT NULL,"
    " stanza_id TEXT,"
    " want_receipt INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (instance, provider_id)) WITHOUT ROWID;"
    "CREATE INDEX correlation_created ON correlation (created);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql[SQ_COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT op",
    [SQ_RELEASE] = "RELEASE op",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO op",
    [SQ_VERSION] = "PRAGMA user_version",

    [SQ_REG_PUT] = "INSERT INTO registrations (instance, user, fields, created)"
                   " VALUES (?1, ?2, ?3, ?4)"
                   " ON CONFLICT (instance, user) DO UPDATE SET fields = excluded.fields",
    [SQ_REG_GET] = "SELECT fields FROM registrations WHERE instance = ?1 AND user = ?2",
    [SQ_REG_DEL] = "DELETE FROM registrations WHERE instance = ?1 AND user = ?2",
    [SQ_REG_FIRST] = "SELECT user, fields FROM registrations WHERE instance = ?1"
                     " ORDER BY user LIMIT ?2",
    [SQ_REG_NEXT] = "SELECT user, fields FROM registrations WHERE instance = ?1 AND user > ?2"
                    " ORDER BY user LIMIT ?3",

    [SQ_DEDUPE_ADD] = "INSERT INTO dedupe (instance, key, created) VALUES (?1, ?2, ?3)",
    [SQ_IN_PUSH] = "INSERT INTO inbound (instance, xml, created) VALUES (?1, ?2, ?3)",
    [SQ_IN_EACH] = "SELECT seq, xml, created FROM inbound WHERE instance = ?1 AND seq > ?2"
                   " ORDER BY seq LIMIT ?3",
    [SQ_IN_ACK] = "DELETE FROM inbound WHERE instance = ?1 AND seq <= ?2",
    [SQ_IN_DEL] = "DELETE FROM inbound WHERE instance = ?1 AND seq = ?2",
    [SQ_IN_COUNT] = "SELECT count(*) FROM inbound WHERE instance = ?1",
    [SQ_IN_COUNT_ALL] = "SELECT count(*) FROM inbound",

    [SQ_OUT_PUSH] = "INSERT INTO outbound (instance, user, peer, stanza_id, body, extra,"
                    " state, attempts, next_attempt, created)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, ?7, ?7)",
    [SQ_OUT_DUE] = "SELECT seq, user, peer, stanza_id, body, extra, state, attempts,"
                   " next_attempt, created FROM outbound"
                   " WHERE instance = ?1 AND state = 0 AND next_attempt <= ?2 AND seq > ?3"
                   " ORDER BY seq LIMIT ?4",
    [SQ_OUT_BEGIN] = "UPDATE outbound SET state = 1, attempts = attempts + 1"
                     " WHERE seq = ?1 AND state = 0",
    [SQ_OUT_STATE] = "SELECT state FROM outbound WHERE seq = ?1",
    [SQ_OUT_RETRY] = "UPDATE outbound SET state = 0, next_attempt = ?2 WHERE seq = ?1",
    [SQ_OUT_FAILED] = "UPDATE outbound SET state = 0, attempts = attempts + 1, next_attempt = ?2"
                      " WHERE seq = ?1",
    [SQ_OUT_DONE] = "DELETE FROM outbound WHERE seq = ?1",
    [SQ_OUT_REQUEUE] = "UPDATE outbound SET state = 0, next_attempt = ?2"
                       " WHERE instance = ?1 AND state = 1",
    [SQ_OUT_COUNT] = "SELECT count(*) FROM outbound WHERE instance = ?1",
    [SQ_OUT_COUNT_ALL] = "SELECT count(*) FROM outbound",
    [SQ_OUT_NEXT_DUE] = "SELECT min(next_attempt) FROM outbound WHERE instance = ?1 AND state = 0",

    [SQ_CORR_PUT] = "INSERT OR REPLACE INTO correlation (instance, provider_id, user, peer,"
                    " stanza_id, want_receipt, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_CORR_GET] = "SELECT user, peer, stanza_id, want_receipt, created FROM correlation"
                    " WHERE instance = ?1 AND provider_id = ?2",
    [SQ_CORR_DEL] = "DELETE FROM correlation WHERE instance = ?1 AND provider_id = ?2",
    [SQ_PRUNE_DEDUPE] = "DELETE FROM dedupe WHERE created < ?1",
    [SQ_PRUNE_CORR] = "DELETE FROM correlation WHERE created < ?1",
};

/* ---- Shared helpers ---------------------------------------------------- */

int64_t store_now(void)
{
    return (int64_t)time(NULL);
}

int store_sqlerr(struct store *st, int rc, const char *what)
{
    log_error("store", "%s: %s", what, sqlite3_errmsg(st->db));
    return (rc & 0xff) == SQLITE_NOMEM ? FERRY_ENOMEM : FERRY_EIO;
}

static void stmt_clear(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static void group_flush(struct store *st);
static void group_open(struct store *st);

int store_bind(struct store *st, enum store_sid id, sqlite3_stmt **out, const char *fmt, ...)
{
    sqlite3_stmt *s = st->stmt[id];
    va_list ap;
    int rc = SQLITE_OK;

    if (st->joined && !st->group && !st->group_failed && id != SQ_BEGIN)
        group_open(st); /* the group's transaction begins with its first statement */
    else
        group_flush(st);

    va_start(ap, fmt);
    for (int i = 1; rc == SQLITE_OK && fmt[i - 1]; i++) {
        switch (fmt[i - 1]) {
        case 's': {
            const char *v = va_arg(ap, const char *);
            rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
            break;
        }
        case 'I':
            rc = sqlite3_bind_int64(s, i, (sqlite3_int64)va_arg(ap, int64_t));
            break;
        case 'i':
            rc = sqlite3_bind_int(s, i, va_arg(ap, int));
            break;
        default:
            rc = SQLITE_MISUSE;
        }
    }
    va_end(ap);
    if (rc != SQLITE_OK) {
        log_error("store", "binding parameters: %s", sqlite3_errstr(rc));
        stmt_clear(s);
        return (rc & 0xff) == SQLITE_NOMEM ? FERRY_ENOMEM : FERRY_EIO;
    }
    *out = s;
    return FERRY_OK;
}

int store_run(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    int ret = FERRY_OK;
    if (rc != SQLITE_DONE) {
        int ext = sqlite3_extended_errcode(st->db);
        if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
            ret = FERRY_EEXIST;
        else
            ret = store_sqlerr(st, rc, what);
    }
    stmt_clear(s);
    return ret;
}

void store_rows_free(struct store_rows *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->n * (size_t)r->ncols; k++)
        free(r->cells[k].s);
    free(r->cells);
    memset(r, 0, sizeof(*r));
}

/* Appends the current row of s to r. */
static int rows_add(struct store_rows *r, sqlite3_stmt *s)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        void *p = realloc(r->cells, cap * (size_t)r->ncols * sizeof(*r->cells));
        if (!p)
            return FERRY_ENOMEM;
        r->cells = p;
        r->cap = cap;
    }
    struct store_cell *c = &r->cells[r->n * (size_t)r->ncols];
    memset(c, 0, (size_t)r->ncols * sizeof(*c));
    r->n++; /* counted now so that store_rows_free frees a partial row */
    for (int k = 0; k < r->ncols; k++) {
        int type = sqlite3_column_type(s, k);
        c[k].i = sqlite3_column_int64(s, k);
        c[k].null = type == SQLITE_NULL;
        if (type != SQLITE_TEXT && type != SQLITE_BLOB)
            continue;
        const unsigned char *t = sqlite3_column_text(s, k);
        size_t len = (size_t)sqlite3_column_bytes(s, k);
        if (!t || !(c[k].s = malloc(len + 1)))
            return FERRY_ENOMEM;
        memcpy(c[k].s, t, len);
        c[k].s[len] = '\0';
    }
    return FERRY_OK;
}

int store_fetch(struct store *st, sqlite3_stmt *s, const char *what, struct store_rows *rows)
{
    int rc, ret = FERRY_OK;

    memset(rows, 0, sizeof(*rows));
    rows->ncols = sqlite3_column_count(s);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((ret = rows_add(rows, s)) != FERRY_OK) {
            log_error("store", "%s: out of memory", what);
            break;
        }
    }
    if (ret == FERRY_OK && rc != SQLITE_DONE)
        ret = store_sqlerr(st, rc, what);
    stmt_clear(s);
    if (ret != FERRY_OK)
        store_rows_free(rows);
    return ret;
}

static int run_plain(struct store *st, enum store_sid id, const char *what)
{
    sqlite3_stmt *s;
    int rc = store_bind(st, id, &s, "");
    return rc ? rc : store_run(st, s, what);
}

/* A write outside the group while its transaction is open: make the
 * group durable first, so that this write's own commit is a real one. */
static void group_flush(struct store *st)
{
    if (st->group && !st->joined && store_group_commit(st) != FERRY_OK)
        log_error("store", "a group of writes could not be committed");
}

/* Inside the group, a transaction is a savepoint of the group's one. */
int store_tx_begin(struct store *st, const char *what)
{
    if (st->joined) {
        if (!st->group && !st->group_failed)
            group_open(st);
        if (st->group)
            return run_plain(st, SQ_SAVEPOINT, what);
    }
    return run_plain(st, SQ_BEGIN, what); /* (store_bind commits an open group first) */
}

void store_tx_rollback(struct store *st, const char *what)
{
    /* Some errors (full disk, I/O, no memory) roll back on their own. */
    if (sqlite3_get_autocommit(st->db))
        return;
    if (st->group && st->joined) {
        run_plain(st, SQ_ROLLBACK_TO, what);
        run_plain(st, SQ_RELEASE, what);
        return;
    }
    run_plain(st, SQ_ROLLBACK, what);
}

int store_tx_commit(struct store *st, const char *what)
{
    int rc = run_plain(st, st->group && st->joined ? SQ_RELEASE : SQ_COMMIT, what);
    if (rc != FERRY_OK)
        store_tx_rollback(st, what);
    return rc;
}

/* ---- Opening ----------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Runs a statement returning at most one row; the first column goes to
 * *ival and (if res) to res as text. */
static int exec1(sqlite3 *db, const char *sql, int *ival, char *res, size_t reslen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if (ival)
            *ival = sqlite3_column_int(s, 0);
        if (res) {
            const unsigned char *t = sqlite3_column_text(s, 0);
            snprintf(res, reslen, "%s", t ? (const char *)t : "");
        }
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A version newer than this build (or negative) is refused: the schema may
 * hold data this code would misread or destroy. */
static int version_known(int v, const char *path, char *err, size_t errlen)
{
    if (v >= 0 && v <= SCHEMA_VERSION)
        return 1;
    set_err(err, errlen,
            "%s: database schema version %d is newer than this Ferry supports (%d); refusing to "
            "open it (upgrade Ferry or use another database file)",
            path, v, SCHEMA_VERSION);
    return 0;
}

/* Applies pending migrations, each in its own transaction that also bumps
 * user_version.  The version is re-read under the write lock, so two
 * processes opening a fresh file at once do not both migrate. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    for (;;) {
        int v = 0, rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = exec1(db, "PRAGMA user_version", &v, NULL, 0);
        if (rc != SQLITE_OK) {
            set_err(err, errlen, "%s: cannot read the schema version: %s", path,
                    sqlite3_errmsg(db));
            break;
        }
        if (!version_known(v, path, err, errlen)) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return FERRY_ESTATE;
        }
        if (v == SCHEMA_VERSION) {
            if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
                return FERRY_OK;
            set_err(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
            break;
        }
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
        rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, bump, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            set_err(err, errlen, "%s: migration to schema version %d failed: %s", path, v + 1,
                    sqlite3_errmsg(db));
            break;
        }
        log_info("store", "%s: schema migrated to version %d", path, v + 1);
    }
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return FERRY_EIO;
}

/* Connection settings: WAL (except in memory, where SQLite reports
 * "memory"), fsync on every commit, foreign keys, busy wait. */
static int configure(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    char mode[16] = "";
    int rc;

    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    /* Fails on a file that is not a database, before anything is written. */
    int v = 0;
    if ((rc = exec1(db, "PRAGMA user_version", &v, NULL, 0)) != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot read the database: %s", path, sqlite3_errmsg(db));
        return (rc & 0xff) == SQLITE_NOMEM ? FERRY_ENOMEM : FERRY_EIO;
    }
    if (!version_known(v, path, err, errlen))
        return FERRY_ESTATE;
    rc = exec1(db, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode));
    int in_memory =
        sqlite3_db_filename(db, "main") == NULL || sqlite3_db_filename(db, "main")[0] == '\0';
    if (rc == SQLITE_OK && strcmp(mode, "wal") != 0 && !in_memory) {
        set_err(err, errlen, "%s: cannot enable WAL journal mode (got \"%s\")", path, mode);
        return FERRY_EIO;
    }
    if (rc == SQLITE_OK)
        rc = exec1(db, "PRAGMA synchronous = FULL", NULL, NULL, 0);
    if (rc == SQLITE_OK)
        rc = exec1(db, "PRAGMA foreign_keys = ON", NULL, NULL, 0);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot configure the database: %s", path, sqlite3_errmsg(db));
        return FERRY_EIO;
    }
    return FERRY_OK;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (!out)
        return FERRY_EINVAL;
    *out = NULL;
    if (!path || !*path) {
        set_err(err, errlen, "store: no database path given");
        return FERRY_EINVAL;
    }
    /* Create the file ourselves so it is private (it holds messages and
     * phone numbers); SQLite gives its -wal and -shm files the same mode. */
    if (strcmp(path, ":memory:") != 0) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            set_err(err, errlen, "%s: %s", path, strerror(errno));
            return FERRY_EIO;
        }
        close(fd);
    }
    struct store *st = calloc(1, sizeof(*st));
    if (!st) {
        set_err(err, errlen, "%s: out of memory", path);
        return FERRY_ENOMEM;
    }
    int ret = FERRY_OK;
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot open database: %s", path,
                st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        ret = (rc & 0xff) == SQLITE_NOMEM ? FERRY_ENOMEM : FERRY_EIO;
        goto fail;
    }
    if ((ret = configure(st->db, path, err, errlen)) != FERRY_OK)
        goto fail;
    if ((ret = migrate(st->db, path, err, errlen)) != FERRY_OK)
        goto fail;
    for (int i = 0; i < SQ_COUNT; i++) {
        rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                                NULL);
        if (rc != SQLITE_OK) {
            set_err(err, errlen, "%s: preparing statement %d failed: %s", path, i,
                    sqlite3_errmsg(st->db));
            ret = (rc & 0xff) == SQLITE_NOMEM ? FERRY_ENOMEM : FERRY_EIO;
            goto fail;
        }
    }
    *out = st;
    return FERRY_OK;
fail:
    store_free(st);
    return ret;
}

void store_free(struct store *st)
{
    if (!st)
        return;
    if (store_group_commit(st) != FERRY_OK)
        log_error("store", "the last group of writes could not be committed");
    for (int i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db && sqlite3_close(st->db) != SQLITE_OK)
        log_error("store", "closing the database: %s", sqlite3_errmsg(st->db));
    free(st);
}

static void group_open(struct store *st)
{
    /* On failure each write commits on its own. */
    if (run_plain(st, SQ_BEGIN, "group begin") == FERRY_OK)
        st->group = 1;
    else
        st->group_failed = 1; /* not again before the turn's commit */
}

int store_group_enter(struct store *st)
{
    if (!st)
        return 0;
    int was = st->joined;
    st->joined = 1;
    return was;
}

void store_group_leave(struct store *st, int was)
{
    if (st)
        st->joined = was;
}

int store_group_commit(struct store *st)
{
    if (st)
        st->group_failed = 0;
    if (!st || !st->group)
        return FERRY_OK;
    st->group = 0;
    int joined = st->joined;
    st->joined = 0;
    int rc = sqlite3_get_autocommit(st->db) ? FERRY_EIO /* SQLite rolled it back after an error */
                                            : store_tx_commit(st, "group commit");
    st->joined = joined;
    return rc;
}

int store_set_full_sync(struct store *st, int full)
{
    if (!st)
        return FERRY_EINVAL;
    return sqlite3_exec(st->db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                        NULL, NULL, NULL) == SQLITE_OK
               ? FERRY_OK
               : FERRY_EIO;
}

int store_schema_version(struct store *st)
{
    struct store_rows r;
    sqlite3_stmt *s;
    int rc;

    if (!st)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_VERSION, &s, "")) != FERRY_OK ||
        (rc = store_fetch(st, s, "reading the schema version", &r)) != FERRY_OK)
        return rc;
    int v = r.n == 1 ? (int)store_cell(&r, 0, 0)->i : FERRY_EIO;
    store_rows_free(&r);
    return v;
}

/* ---- Housekeeping ------------------------------------------------------ */

int store_prune(struct store *st, int64_t older_than)
{
    sqlite3_stmt *s;
    int rc;

    if (!st)
        return FERRY_EINVAL;
    if ((rc = store_tx_begin(st, "prune")) != FERRY_OK)
        return rc;
    if ((rc = store_bind(st, SQ_PRUNE_DEDUPE, &s, "I", older_than)) == FERRY_OK &&
        (rc = store_run(st, s, "pruning dedupe keys")) == FERRY_OK &&
        (rc = store_bind(st, SQ_PRUNE_CORR, &s, "I", older_than)) == FERRY_OK &&
        (rc = store_run(st, s, "pruning correlations")) == FERRY_OK)
        return store_tx_commit(st, "prune");
    store_tx_rollback(st, "prune");
    return rc;
}
