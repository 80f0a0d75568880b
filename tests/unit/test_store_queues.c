/* Unit tests for the SQLite store (gateway/store.h): the inbound queue and
 * its dedupe keys, the outbound queue, correlations, and callbacks that call
 * back into the store during a walk. */
#include <time.h>

#include "store_fixture.h"

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

/* The composite operations the SMS queue uses to save commits. */
static int corr_want(void *arg, const struct store_corr *c)
{
    *(int *)arg = c->want_receipt + 10 * (c->stanza_id && strcmp(c->stanza_id, "st1") == 0);
    return 0;
}

static void test_outbound_composites(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    int64_t seq = 0;
    assert_int_equal(store_out_push_corr(st, "sms", "a@x/r", "+15557654321", "st1", "hi", NULL, 1,
                                         "ref:o", &seq),
                     FERRY_OK);
    char key[64];
    snprintf(key, sizeof(key), "ref:o%lld", (long long)seq);
    int got = 0;
    assert_int_equal(store_corr_get(st, "sms", key, corr_want, &got), FERRY_OK);
    assert_int_equal(got, 11);
    assert_int_equal(out_count(st, "sms"), 1);
    /* A failed attempt: attempts + 1, due later, still queued. */
    assert_int_equal(store_out_failed_attempt(st, seq, 4000000000LL), FERRY_OK);
    int64_t when = 0;
    assert_int_equal(store_out_next_due(st, "sms", &when), FERRY_OK);
    assert_int_equal(when, 4000000000LL);
    assert_int_equal(store_out_failed_attempt(st, seq + 100, 1), FERRY_ENOTFOUND);
    /* Accepted: row gone, ref kept, provider id added, in one commit. */
    assert_int_equal(
        store_out_finish(st, "sms", seq, NULL, "id:SM1", "a@x/r", "+15557654321", "st1", 1),
        FERRY_OK);
    assert_int_equal(out_count(st, "sms"), 0);
    assert_int_equal(store_corr_get(st, "sms", key, NULL, NULL), FERRY_OK);
    assert_int_equal(store_corr_get(st, "sms", "id:SM1", NULL, NULL), FERRY_OK);
    /* Bounced: row gone and the ref dropped; finishing twice is harmless. */
    assert_int_equal(
        store_out_push_corr(st, "sms", "a@x/r", "+1555", NULL, "x", NULL, 0, "ref:o", &seq),
        FERRY_OK);
    snprintf(key, sizeof(key), "ref:o%lld", (long long)seq);
    assert_int_equal(store_out_finish(st, "sms", seq, key, NULL, NULL, NULL, NULL, 0), FERRY_OK);
    assert_int_equal(store_corr_get(st, "sms", key, NULL, NULL), FERRY_ENOTFOUND);
    assert_int_equal(store_out_finish(st, "sms", seq, key, NULL, NULL, NULL, NULL, 0), FERRY_OK);
    assert_int_equal(
        store_out_push_corr(st, "sms", "a@x/r", "+1555", NULL, "x", NULL, 0, NULL, &seq),
        FERRY_EINVAL);
    store_free(st);
}

static void test_group(void **state)
{
    (void)state;
    struct store *st = open_ok(":memory:");
    assert_int_equal(store_group_commit(st), FERRY_OK); /* none open: nothing to do */
    assert_int_equal(store_in_push(st, "irc", "k0", "<m>0</m>", NULL), FERRY_OK);
    assert_int_equal(store_group_enter(st), 0);
    assert_int_equal(store_group_enter(st), 1); /* already inside */
    store_group_leave(st, 1);
    assert_int_equal(store_in_push(st, "irc", "k1", "<m>1</m>", NULL), FERRY_OK);
    /* A refused operation inside the group undoes only itself. */
    assert_int_equal(store_in_push(st, "irc", "k0", "<m>dup</m>", NULL), FERRY_EEXIST);
    assert_int_equal(store_in_push(st, "irc", NULL, "<m>2</m>", NULL), FERRY_OK);
    int64_t seq = 0;
    assert_int_equal(
        store_out_push_corr(st, "irc", "u@x/r", "+1555", "id", "b", NULL, 1, "ref:o", &seq),
        FERRY_OK);
    store_group_leave(st, 0);
    assert_int_equal(store_group_commit(st), FERRY_OK);
    assert_int_equal(store_group_commit(st), FERRY_OK);
    assert_int_equal(in_count(st, "irc"), 3);
    assert_int_equal(out_count(st, "irc"), 1);
    store_free(st);
}

/* What another connection sees of the file: only committed rows. */
static int64_t committed_inbound(const char *path)
{
    char res[32];
    raw_exec(path, "SELECT count(*) FROM inbound", res, sizeof(res));
    return strtoll(res, NULL, 10);
}

static void test_group_durability(void **state)
{
    char path[300];
    db_path(state, "group", path, sizeof(path));
    struct store *st = open_ok(path);

    /* Inside the group nothing is committed before store_group_commit. */
    int was = store_group_enter(st);
    assert_int_equal(store_in_push(st, "irc", NULL, "<m>1</m>", NULL), FERRY_OK);
    store_group_leave(st, was);
    assert_int_equal(committed_inbound(path), 0);
    assert_int_equal(store_group_commit(st), FERRY_OK);
    assert_int_equal(committed_inbound(path), 1);

    /* A write from outside the group (a webhook about to answer 200) gets
     * a real commit: the group's rows are committed with it, first. */
    was = store_group_enter(st);
    assert_int_equal(store_in_push(st, "irc", NULL, "<m>2</m>", NULL), FERRY_OK);
    store_group_leave(st, was);
    assert_int_equal(store_in_push(st, "sms", "dk", "<m>3</m>", NULL), FERRY_OK);
    assert_int_equal(committed_inbound(path), 3);

    /* An acknowledgement in the group; store_free commits what is open. */
    was = store_group_enter(st);
    assert_int_equal(store_in_ack(st, "irc", INT64_MAX), FERRY_OK);
    store_group_leave(st, was);
    assert_int_equal(committed_inbound(path), 3);
    store_free(st);
    assert_int_equal(committed_inbound(path), 1);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbound),
        cmocka_unit_test(test_dedupe),
        cmocka_unit_test(test_outbound),
        cmocka_unit_test(test_correlation),
        cmocka_unit_test(test_callbacks_reenter),
        cmocka_unit_test(test_outbound_composites),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_group_durability),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
