/* The store: inbound queue (stanzas on their way to XMPP users) and the
 * dedupe keys that recognise provider retries.  Keys live in their own
 * table, so acknowledging a message does not forget its key; store_prune
 * ages them out. */
#include "store_int.h"

#include "err.h"

int store_in_push(struct store *st, const char *instance, const char *dedupe_key, const char *xml,
                  int64_t *seq)
{
    sqlite3_stmt *s;
    int64_t now = store_now();
    int rc;

    if (!st || !instance || !xml)
        return FERRY_EINVAL;
    if (!dedupe_key) { /* one statement: atomic without a transaction of its own */
        if ((rc = store_bind(st, SQ_IN_PUSH, &s, "ssI", instance, xml, now)) == FERRY_OK &&
            (rc = store_run(st, s, "queueing an inbound message")) == FERRY_OK && seq)
            *seq = sqlite3_last_insert_rowid(st->db);
        return rc;
    }
    if ((rc = store_tx_begin(st, "inbound push")) != FERRY_OK)
        return rc;
    if (dedupe_key) {
        rc = store_bind(st, SQ_DEDUPE_ADD, &s, "ssI", instance, dedupe_key, now);
        if (rc == FERRY_OK)
            rc = store_run(st, s, "storing a dedupe key");
    }
    if (rc == FERRY_OK)
        rc = store_bind(st, SQ_IN_PUSH, &s, "ssI", instance, xml, now);
    if (rc == FERRY_OK)
        rc = store_run(st, s, "queueing an inbound message");
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if (rc == FERRY_OK)
        rc = store_tx_commit(st, "inbound push");
    else
        store_tx_rollback(st, "inbound push");
    if (rc == FERRY_OK && seq)
        *seq = id;
    return rc;
}

int store_in_each(struct store *st, const char *instance, int64_t after_seq, int limit,
                  store_in_cb cb, void *arg)
{
    int64_t cursor = after_seq;
    int left = limit, rc = FERRY_OK;

    if (!st || !instance || !cb)
        return FERRY_EINVAL;
    for (;;) {
        int batch = limit <= 0 || left > STORE_BATCH ? STORE_BATCH : left;
        struct store_rows r;
        sqlite3_stmt *s;

        if (batch == 0)
            break;
        if ((rc = store_bind(st, SQ_IN_EACH, &s, "sIi", instance, cursor, batch)) != 0 ||
            (rc = store_fetch(st, s, "listing inbound messages", &r)) != 0)
            break;
        for (size_t i = 0; i < r.n && rc == 0; i++) {
            struct store_in m = {
                .seq = store_cell(&r, i, 0)->i,
                .instance = instance,
                .xml = store_cell(&r, i, 1)->s,
                .created = store_cell(&r, i, 2)->i,
            };
            cursor = m.seq;
            rc = cb(arg, &m);
        }
        size_t n = r.n;
        store_rows_free(&r);
        if (rc != 0 || n < (size_t)batch)
            break;
        if (limit > 0)
            left -= batch;
    }
    return rc;
}

int store_in_ack(struct store *st, const char *instance, int64_t upto_seq)
{
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_IN_ACK, &s, "sI", instance, upto_seq)) != 0)
        return rc;
    return store_run(st, s, "acknowledging inbound messages");
}

int store_in_count(struct store *st, const char *instance, int64_t *count)
{
    struct store_rows r;
    sqlite3_stmt *s;
    int rc;

    if (!st || !count)
        return FERRY_EINVAL;
    if (instance)
        rc = store_bind(st, SQ_IN_COUNT, &s, "s", instance);
    else
        rc = store_bind(st, SQ_IN_COUNT_ALL, &s, "");
    if (rc != FERRY_OK || (rc = store_fetch(st, s, "counting inbound messages", &r)) != 0)
        return rc;
    *count = r.n ? store_cell(&r, 0, 0)->i : 0;
    store_rows_free(&r);
    return FERRY_OK;
}

int store_in_delete(struct store *st, const char *instance, int64_t seq)
{
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_IN_DEL, &s, "sI", instance, seq)) != 0 ||
        (rc = store_run(st, s, "deleting an inbound message")) != 0)
        return rc;
    return sqlite3_changes(st->db) > 0 ? FERRY_OK : FERRY_ENOTFOUND;
}
