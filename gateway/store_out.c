/* The store: outbound queue (messages from XMPP users to a foreign
 * network) and the correlation of provider message ids with the stanzas
 * they carried.
 *
 * Row life cycle: store_out_push -> QUEUED (next_attempt = now);
 * store_out_begin -> INFLIGHT (attempts + 1; only from QUEUED, so a row is
 * never sent twice at once: FERRY_ESTATE otherwise); store_out_retry ->
 * QUEUED later; store_out_done deletes it.  store_out_requeue_inflight
 * turns rows a crash left INFLIGHT back into QUEUED. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

int store_out_push(struct store *st, const char *instance, const char *user, const char *peer,
                   const char *stanza_id, const char *body, const char *extra, int64_t *seq)
{
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance || !user || !peer || !body)
        return FERRY_EINVAL;
    rc = store_bind(st, SQ_OUT_PUSH, &s, "ssssssI", instance, user, peer, stanza_id, body, extra,
                    store_now());
    if (rc != FERRY_OK || (rc = store_run(st, s, "queueing an outbound message")) != 0)
        return rc;
    if (seq)
        *seq = sqlite3_last_insert_rowid(st->db);
    return FERRY_OK;
}

int store_out_due(struct store *st, const char *instance, int64_t now, int limit, store_out_cb cb,
                  void *arg)
{
    int64_t cursor = 0;
    int left = limit, rc = FERRY_OK;

    if (!st || !instance || !cb)
        return FERRY_EINVAL;
    for (;;) {
        int batch = limit <= 0 || left > STORE_BATCH ? STORE_BATCH : left;
        struct store_rows r;
        sqlite3_stmt *s;

        if (batch == 0)
            break;
        if ((rc = store_bind(st, SQ_OUT_DUE, &s, "sIIi", instance, now, cursor, batch)) != 0 ||
            (rc = store_fetch(st, s, "listing due outbound messages", &r)) != 0)
            break;
        for (size_t i = 0; i < r.n && rc == 0; i++) {
            struct store_out m = {
                .seq = store_cell(&r, i, 0)->i,
                .instance = instance,
                .user = store_cell(&r, i, 1)->s,
                .peer = store_cell(&r, i, 2)->s,
                .stanza_id = store_cell(&r, i, 3)->s,
                .body = store_cell(&r, i, 4)->s,
                .extra = store_cell(&r, i, 5)->s,
                .state = (int)store_cell(&r, i, 6)->i,
                .attempts = (int)store_cell(&r, i, 7)->i,
                .next_attempt = store_cell(&r, i, 8)->i,
                .created = store_cell(&r, i, 9)->i,
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

int store_out_begin(struct store *st, int64_t seq)
{
    struct store_rows r;
    sqlite3_stmt *s;
    int rc;

    if (!st)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_OUT_BEGIN, &s, "I", seq)) != 0 ||
        (rc = store_run(st, s, "starting an outbound attempt")) != 0)
        return rc;
    if (sqlite3_changes(st->db) > 0)
        return FERRY_OK;
    /* Nothing changed: tell a missing row from one already in flight. */
    if ((rc = store_bind(st, SQ_OUT_STATE, &s, "I", seq)) != 0 ||
        (rc = store_fetch(st, s, "reading an outbound state", &r)) != 0)
        return rc;
    rc = r.n ? FERRY_ESTATE : FERRY_ENOTFOUND;
    store_rows_free(&r);
    return rc;
}

int store_out_retry(struct store *st, int64_t seq, int64_t next_attempt)
{
    sqlite3_stmt *s;
    int rc;

    if (!st)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_OUT_RETRY, &s, "II", seq, next_attempt)) != 0 ||
        (rc = store_run(st, s, "rescheduling an outbound message")) != 0)
        return rc;
    return sqlite3_changes(st->db) > 0 ? FERRY_OK : FERRY_ENOTFOUND;
}

int store_out_done(struct store *st, int64_t seq)
{
    sqlite3_stmt *s;
    int rc;

    if (!st)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_OUT_DONE, &s, "I", seq)) != 0 ||
        (rc = store_run(st, s, "removing an outbound message")) != 0)
        return rc;
    return sqlite3_changes(st->db) > 0 ? FERRY_OK : FERRY_ENOTFOUND;
}

int store_out_requeue_inflight(struct store *st, const char *instance, int64_t *count)
{
    sqlite3_stmt *s;
    int rc;

    if (count)
        *count = 0;
    if (!st || !instance)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_OUT_REQUEUE, &s, "sI", instance, store_now())) != 0 ||
        (rc = store_run(st, s, "requeueing in-flight messages")) != 0)
        return rc;
    if (count)
        *count = sqlite3_changes(st->db);
    return FERRY_OK;
}

/* Runs a one-row, one-column query; *isnull tells SQL NULL. */
static int query_int(struct store *st, sqlite3_stmt *s, const char *what, int64_t *v, int *isnull)
{
    struct store_rows r;
    int rc = store_fetch(st, s, what, &r);
    if (rc != FERRY_OK)
        return rc;
    *isnull = r.n == 0 || store_cell(&r, 0, 0)->null;
    *v = r.n ? store_cell(&r, 0, 0)->i : 0;
    store_rows_free(&r);
    return FERRY_OK;
}

int store_out_count(struct store *st, const char *instance, int64_t *count)
{
    sqlite3_stmt *s;
    int rc, isnull;

    if (!st || !count)
        return FERRY_EINVAL;
    if (instance)
        rc = store_bind(st, SQ_OUT_COUNT, &s, "s", instance);
    else
        rc = store_bind(st, SQ_OUT_COUNT_ALL, &s, "");
    return rc ? rc : query_int(st, s, "counting outbound messages", count, &isnull);
}

int store_out_next_due(struct store *st, const char *instance, int64_t *when)
{
    sqlite3_stmt *s;
    int64_t v;
    int rc, isnull;

    if (!st || !instance || !when)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_OUT_NEXT_DUE, &s, "s", instance)) != 0 ||
        (rc = query_int(st, s, "finding the next due message", &v, &isnull)) != 0)
        return rc;
    if (isnull)
        return FERRY_ENOTFOUND;
    *when = v;
    return FERRY_OK;
}

/* ---- Correlation ------------------------------------------------------- */

/* An existing (instance, provider_id) row is replaced. */
int store_corr_put(struct store *st, const char *instance, const char *provider_id,
                   const char *user, const char *peer, const char *stanza_id, int want_receipt)
{
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance || !provider_id || !user || !peer)
        return FERRY_EINVAL;
    rc = store_bind(st, SQ_CORR_PUT, &s, "sssssiI", instance, provider_id, user, peer, stanza_id,
                    want_receipt ? 1 : 0, store_now());
    return rc ? rc : store_run(st, s, "storing a correlation");
}

/* cb may be NULL to test for presence. */
int store_corr_get(struct store *st, const char *instance, const char *provider_id,
                   store_corr_cb cb, void *arg)
{
    struct store_rows r;
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance || !provider_id)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_CORR_GET, &s, "ss", instance, provider_id)) != 0 ||
        (rc = store_fetch(st, s, "reading a correlation", &r)) != 0)
        return rc;
    if (r.n == 0) {
        rc = FERRY_ENOTFOUND;
    } else if (cb) {
        struct store_corr c = {
            .user = store_cell(&r, 0, 0)->s,
            .peer = store_cell(&r, 0, 1)->s,
            .stanza_id = store_cell(&r, 0, 2)->s,
            .want_receipt = (int)store_cell(&r, 0, 3)->i,
            .created = store_cell(&r, 0, 4)->i,
        };
        rc = cb(arg, &c);
    }
    store_rows_free(&r);
    return rc;
}

int store_corr_del(struct store *st, const char *instance, const char *provider_id)
{
    sqlite3_stmt *s;
    int rc;

    if (!st || !instance || !provider_id)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_CORR_DEL, &s, "ss", instance, provider_id)) != 0 ||
        (rc = store_run(st, s, "deleting a correlation")) != 0)
        return rc;
    return sqlite3_changes(st->db) > 0 ? FERRY_OK : FERRY_ENOTFOUND;
}

int store_out_push_corr(struct store *st, const char *instance, const char *user, const char *peer,
                        const char *stanza_id, const char *body, const char *extra,
                        int want_receipt, const char *corr_prefix, int64_t *seq)
{
    int64_t n = 0;
    char key[96];
    int rc;

    if (!st || !corr_prefix || strlen(corr_prefix) > 64)
        return FERRY_EINVAL;
    if ((rc = store_tx_begin(st, "outbound push")) != FERRY_OK)
        return rc;
    rc = store_out_push(st, instance, user, peer, stanza_id, body, extra, &n);
    if (rc == FERRY_OK) {
        snprintf(key, sizeof(key), "%s%lld", corr_prefix, (long long)n);
        rc = store_corr_put(st, instance, key, user, peer, stanza_id, want_receipt);
    }
    if (rc == FERRY_OK)
        rc = store_tx_commit(st, "outbound push");
    else
        store_tx_rollback(st, "outbound push");
    if (rc == FERRY_OK && seq)
        *seq = n;
    return rc;
}

int store_out_finish(struct store *st, const char *instance, int64_t seq, const char *del_key,
                     const char *put_key, const char *user, const char *peer, const char *stanza_id,
                     int want_receipt)
{
    int rc;

    if (!st || !instance)
        return FERRY_EINVAL;
    if ((rc = store_tx_begin(st, "outbound finish")) != FERRY_OK)
        return rc;
    rc = store_out_done(st, seq);
    if (rc == FERRY_ENOTFOUND)
        rc = FERRY_OK; /* finishing twice is harmless */
    if (rc == FERRY_OK && del_key) {
        rc = store_corr_del(st, instance, del_key);
        if (rc == FERRY_ENOTFOUND)
            rc = FERRY_OK;
    }
    if (rc == FERRY_OK && put_key)
        rc = store_corr_put(st, instance, put_key, user, peer, stanza_id, want_receipt);
    if (rc == FERRY_OK)
        rc = store_tx_commit(st, "outbound finish");
    else
        store_tx_rollback(st, "outbound finish");
    return rc;
}

int store_out_failed_attempt(struct store *st, int64_t seq, int64_t next_attempt)
{
    sqlite3_stmt *s;
    int rc;

    if (!st)
        return FERRY_EINVAL;
    if ((rc = store_bind(st, SQ_OUT_FAILED, &s, "II", seq, next_attempt)) != 0 ||
        (rc = store_run(st, s, "recording a failed attempt")) != 0)
        return rc;
    return sqlite3_changes(st->db) > 0 ? FERRY_OK : FERRY_ENOTFOUND;
}
