/* The store: registrations, (transport instance, user bare JID) -> fields.
 * An overwrite keeps the row's original creation time. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

int store_reg_put(struct store *st, const char *instance, const char *user, const char *fields)
{
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance || !user || !fields)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_REG_PUT, &s, "sssI", instance, user, fields, store_now())) != 0)
        return rc;
    return store_run(st, s, "storing a registration");
}

int store_reg_get(struct store *st, const char *instance, const char *user, char **fields)
{
    struct store_rows r;
    sqlite3_stmt *s;
    int rc;

    if (fields)
        *fields = NULL;
    if (!st || !instance || !user || !fields)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_REG_GET, &s, "ss", instance, user)) != 0 ||
        (rc = store_fetch(st, s, "reading a registration", &r)) != 0)
        return rc;
    if (r.n == 0) {
        store_rows_free(&r);
        return FERRY_ENOTFOUND;
    }
    /* Take the copy over instead of duplicating it. */
    struct store_cell *c = &r.cells[0];
    *fields = c->s ? c->s : strdup("");
    c->s = NULL;
    store_rows_free(&r);
    return *fields ? FERRY_OK : FERRY_ENOMEM;
}

int store_reg_del(struct store *st, const char *instance, const char *user)
{
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance || !user)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_REG_DEL, &s, "ss", instance, user)) != 0 ||
        (rc = store_run(st, s, "deleting a registration")) != 0)
        return rc;
    return sqlite3_changes(st->db) > 0 ? FERRY_OK : FERRY_ENOTFOUND;
}

int store_reg_each(struct store *st, const char *instance, store_reg_cb cb, void *arg)
{
    char *last = NULL; /* cursor: the last user seen */
    int rc;

    if (!st || !instance || !cb)
        return FERRY_EINVAL;
    for (;;) {
        struct store_rows r;
        sqlite3_stmt *s;

        if (last)
            rc = store_bind(st, SQ_REG_NEXT, &s, "ssi", instance, last, STORE_BATCH);
        else
            rc = store_bind(st, SQ_REG_FIRST, &s, "si", instance, STORE_BATCH);
        if (rc == FERRY_OK)
            rc = store_fetch(st, s, "listing registrations", &r);
        if (rc != FERRY_OK)
            break;
        for (size_t i = 0; i < r.n && rc == 0; i++)
            rc = cb(arg, store_cell(&r, i, 0)->s, store_cell(&r, i, 1)->s);
        size_t n = r.n;
        if (rc == 0 && n > 0) {
            free(last);
            last = r.cells[(n - 1) * (size_t)r.ncols].s;
            r.cells[(n - 1) * (size_t)r.ncols].s = NULL;
        }
        store_rows_free(&r);
        if (rc != 0 || n < STORE_BATCH)
            break;
    }
    free(last);
    return rc;
}
