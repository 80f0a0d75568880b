/* The store: every durable piece of state behind one small interface, so a
 * PostgreSQL backend can stand in later.  SQLite is the embedded default
 * (WAL mode, schema version in PRAGMA user_version, migrations in code).
 * No SQL outside store*.c.
 *
 * All functions return 0 (FERRY_OK) or a negative enum ferry_err; strings
 * handed out through callbacks are valid only during the callback.  Every
 * write is durable (committed) when the function returns 0. */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Opens (creating if needed) the database at path (":memory:" allowed),
 * enables WAL and foreign keys, sets a busy timeout, and applies pending
 * migrations.  A file left by a crashed process opens cleanly.  A file whose
 * schema version is newer than this build knows is refused (FERRY_ESTATE).
 * On failure writes a human-readable reason (naming the path) into err. */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_free(struct store *st); /* accepts NULL */
/* Durability of each commit.  1 (the default): synchronous=FULL, every
 * commit is on disk when the call returns (survives power loss).  0:
 * synchronous=NORMAL in WAL mode, commits survive a crash or kill -9 of
 * Ferry but the last ones may be lost if the machine itself goes down;
 * several times fewer fsyncs. */
int store_set_full_sync(struct store *st, int full);
int store_schema_version(struct store *st);

/* ---- Registrations: (transport instance, user bare JID) -> fields ------
 * fields is an opaque text blob owned by the transport (JSON by
 * convention). */
int store_reg_put(struct store *st, const char *instance, const char *user, const char *fields);
/* *fields is malloc'd (caller frees); FERRY_ENOTFOUND when absent. */
int store_reg_get(struct store *st, const char *instance, const char *user, char **fields);
int store_reg_del(struct store *st, const char *instance, const char *user); /* ENOTFOUND */
typedef int (*store_reg_cb)(void *arg, const char *user, const char *fields);
/* Calls cb for every registration of instance, ordered by user; a nonzero
 * return from cb stops the walk and is returned. */
int store_reg_each(struct store *st, const char *instance, store_reg_cb cb, void *arg);

/* ---- Inbound queue: stanzas on their way to XMPP users -----------------
 * The core stores a fully serialised stanza before it acknowledges anything
 * to the foreign side, sends it when the instance's XMPP link is online,
 * and deletes it only after the server answered a ping sent behind it. */
struct store_in {
    int64_t seq; /* increasing per database */
    const char *instance;
    const char *xml;
    int64_t created; /* unix seconds */
};
/* dedupe_key may be NULL.  When the (instance, dedupe_key) pair was stored
 * before (even if the message has since been delivered and acked), nothing
 * is stored and FERRY_EEXIST is returned.  The key and the row are written
 * in one transaction.  *seq (if not NULL) receives the new row's seq. */
int store_in_push(struct store *st, const char *instance, const char *dedupe_key, const char *xml,
                  int64_t *seq);
typedef int (*store_in_cb)(void *arg, const struct store_in *msg);
/* Walks queued rows of instance with seq > after_seq in seq order, at most
 * limit rows (limit <= 0: no limit).  A nonzero cb return stops the walk
 * and is returned. */
int store_in_each(struct store *st, const char *instance, int64_t after_seq, int limit,
                  store_in_cb cb, void *arg);
/* Deletes the queued rows of instance with seq <= upto_seq. */
int store_in_ack(struct store *st, const char *instance, int64_t upto_seq);
/* Deletes one queued row of instance (FERRY_ENOTFOUND if absent). */
int store_in_delete(struct store *st, const char *instance, int64_t seq);
/* Number of queued rows of instance (instance NULL: all). */
int store_in_count(struct store *st, const char *instance, int64_t *count);

/* ---- Outbound queue: messages from XMPP users to a foreign network -----
 * Written before any network call; a row leaves only through
 * store_out_done (accepted or failed permanently). */
enum store_out_state { STORE_OUT_QUEUED = 0, STORE_OUT_INFLIGHT = 1 };
struct store_out {
    int64_t seq;
    const char *instance;
    const char *user;      /* sender's full JID (for bounces) */
    const char *peer;      /* transport-side address, e.g. "+15551234567" */
    const char *stanza_id; /* may be NULL */
    const char *body;
    const char *extra; /* transport-specific JSON, may be NULL */
    int state;         /* enum store_out_state */
    int attempts;
    int64_t next_attempt; /* unix seconds */
    int64_t created;
};
int store_out_push(struct store *st, const char *instance, const char *user, const char *peer,
                   const char *stanza_id, const char *body, const char *extra, int64_t *seq);
typedef int (*store_out_cb)(void *arg, const struct store_out *msg);
/* Rows of instance in state QUEUED with next_attempt <= now, in seq order,
 * at most limit (<= 0: no limit). */
int store_out_due(struct store *st, const char *instance, int64_t now, int limit, store_out_cb cb,
                  void *arg);
/* Marks a row INFLIGHT and increments attempts. */
int store_out_begin(struct store *st, int64_t seq);
/* Back to QUEUED with a new next_attempt (after a transient failure). */
int store_out_retry(struct store *st, int64_t seq, int64_t next_attempt);
/* Deletes the row (accepted, or failed permanently and bounced). */
int store_out_done(struct store *st, int64_t seq);
/* After a restart: every INFLIGHT row of instance goes back to QUEUED
 * (next_attempt = now).  *count receives how many (may be NULL). */
int store_out_requeue_inflight(struct store *st, const char *instance, int64_t *count);
int store_out_count(struct store *st, const char *instance, int64_t *count);
/* Earliest next_attempt among QUEUED rows of instance; FERRY_ENOTFOUND if none. */
int store_out_next_due(struct store *st, const char *instance, int64_t *when);

/* ---- Fewer commits per message ---------------------------------------------
 * With synchronous=FULL every commit costs an fsync; these do in one
 * transaction what would otherwise take several.  A sender that uses them
 * tracks rows in flight itself (no INFLIGHT state is written). */

/* store_out_push plus a correlation row keyed "<corr_prefix><seq>" for the
 * new row (user, peer, stanza_id, want_receipt copied). */
int store_out_push_corr(struct store *st, const char *instance, const char *user, const char *peer,
                        const char *stanza_id, const char *body, const char *extra,
                        int want_receipt, const char *corr_prefix, int64_t *seq);
/* Deletes outbound row seq, deletes correlation del_key (may be NULL) and
 * adds correlation put_key (may be NULL) for the same stanza. */
int store_out_finish(struct store *st, const char *instance, int64_t seq, const char *del_key,
                     const char *put_key, const char *user, const char *peer, const char *stanza_id,
                     int want_receipt);
/* A failed attempt: attempts + 1 and a new next_attempt (state QUEUED). */
int store_out_failed_attempt(struct store *st, int64_t seq, int64_t next_attempt);

/* Group commit.  Writes made between store_group_enter and
 * store_group_leave go into one open transaction (each keeps its own
 * all-or-nothing through a savepoint) that store_group_commit makes
 * durable: the daemon commits once per turn of its loop, so the lines read
 * from every IRC socket in that turn and the acknowledgements that came
 * with it cost one fsync.  Only for work that promises nothing to anyone
 * before the commit.  Any store call made outside the group while it is
 * open commits the group first, so a caller that was not in it still gets
 * a durable commit when its call returns.  store_group_enter returns
 * whether the caller was already inside, for store_group_leave; when it
 * cannot begin the transaction, writes simply commit one by one. */
int store_group_enter(struct store *st);
void store_group_leave(struct store *st, int was);
/* Commits the open group (a no-op without one); FERRY_EIO when SQLite had
 * rolled it back after an error. */
int store_group_commit(struct store *st);

/* ---- Correlation: provider message id -> original stanza ----------------
 * Kept so a delivery report minutes later (or after a restart) can be
 * turned into a receipt or an error for the right stanza. */
int store_corr_put(struct store *st, const char *instance, const char *provider_id,
                   const char *user, const char *peer, const char *stanza_id, int want_receipt);
struct store_corr {
    const char *user;
    const char *peer;
    const char *stanza_id;
    int want_receipt;
    int64_t created;
};
typedef int (*store_corr_cb)(void *arg, const struct store_corr *c);
/* Calls cb once with the row; FERRY_ENOTFOUND if absent. */
int store_corr_get(struct store *st, const char *instance, const char *provider_id,
                   store_corr_cb cb, void *arg);
int store_corr_del(struct store *st, const char *instance, const char *provider_id);

/* ---- Housekeeping -------------------------------------------------------
 * Deletes dedupe keys and correlations older than the given unix time. */
int store_prune(struct store *st, int64_t older_than);

#endif
