/* Private to the SQLite store (store*.c): the struct, the cached statements
 * and the helpers the per-concern files share.  Nothing outside store*.c
 * includes this header. */
#ifndef FERRY_STORE_INT_H
#define FERRY_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Walks fetch at most this many rows per query, copy them out, reset the
 * statement and only then run the callbacks: memory stays bounded and a
 * callback may call any store function but store_free (even the same walk,
 * and writes, since no transaction is open during callbacks).  The next
 * batch resumes after the last key seen, so a row changed by a callback is
 * not visited twice; rows added behind the cursor during a walk may be. */
#define STORE_BATCH 64

/* Every statement the store runs, prepared once in store_open. */
enum store_sid {
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_SAVEPOINT,
    SQ_RELEASE,
    SQ_ROLLBACK_TO,
    SQ_VERSION,
    SQ_REG_PUT,
    SQ_REG_GET,
    SQ_REG_DEL,
    SQ_REG_FIRST,
    SQ_REG_NEXT,
    SQ_DEDUPE_ADD,
    SQ_IN_PUSH,
    SQ_IN_EACH,
    SQ_IN_ACK,
    SQ_IN_DEL,
    SQ_IN_COUNT,
    SQ_IN_COUNT_ALL,
    SQ_OUT_PUSH,
    SQ_OUT_DUE,
    SQ_OUT_BEGIN,
    SQ_OUT_STATE,
    SQ_OUT_RETRY,
    SQ_OUT_FAILED,
    SQ_OUT_DONE,
    SQ_OUT_REQUEUE,
    SQ_OUT_COUNT,
    SQ_OUT_COUNT_ALL,
    SQ_OUT_NEXT_DUE,
    SQ_CORR_PUT,
    SQ_CORR_GET,
    SQ_CORR_DEL,
    SQ_PRUNE_DEDUPE,
    SQ_PRUNE_CORR,
    SQ_COUNT
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_COUNT];
    int group;        /* a group transaction is open (store_group_enter) */
    int joined;       /* inside store_group_enter/leave: transactions become savepoints */
    int group_failed; /* BEGIN of the group failed: no group until the next commit */
};

/* A copied result set: n rows of ncols cells.  A cell holds the integer
 * value of its column and, for TEXT/BLOB columns, a malloc'd NUL-terminated
 * copy (NULL for SQL NULL and for INTEGER columns); null tells SQL NULL. */
struct store_cell {
    int64_t i;
    char *s;
    int null;
};
struct store_rows {
    size_t n, cap;
    int ncols;
    struct store_cell *cells;
};

static inline const struct store_cell *store_cell(const struct store_rows *r, size_t row, int col)
{
    return &r->cells[row * (size_t)r->ncols + (size_t)col];
}
void store_rows_free(struct store_rows *r);

/* Binds the arguments described by fmt to the cached statement id, from
 * parameter 1: 's' const char * (NULL binds SQL NULL), 'I' int64_t, 'i' int.
 * Strings are bound without copying: they must outlive the step. */
int store_bind(struct store *st, enum store_sid id, sqlite3_stmt **out, const char *fmt, ...);
/* Steps s to completion, resets it and maps the result (what names the
 * operation in the log).  A UNIQUE/PRIMARY KEY violation is FERRY_EEXIST
 * and is not logged. */
int store_run(struct store *st, sqlite3_stmt *s, const char *what);
/* Steps s to completion copying every row into *rows (zeroed first), then
 * resets s.  On failure *rows is empty. */
int store_fetch(struct store *st, sqlite3_stmt *s, const char *what, struct store_rows *rows);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  store_tx_commit rolls back when
 * the commit fails; store_tx_rollback is safe when SQLite already rolled
 * back on its own. */
int store_tx_begin(struct store *st, const char *what);
int store_tx_commit(struct store *st, const char *what);
void store_tx_rollback(struct store *st, const char *what);

/* Logs the connection's last error for operation what and maps rc. */
int store_sqlerr(struct store *st, int rc, const char *what);

/* Unix seconds now. */
int64_t store_now(void);

#endif
