/* The outbound queue: rows written by sms_send() leave the store only when
 * the provider accepted them or they failed permanently (then the user gets
 * an error message echoing the original id).  Transient failures are retried
 * with backoff (Retry-After honoured) up to retry_limit attempts.
 *
 * Commits per message (each an fsync with store.sync = full): the push
 * (row + "ref:" correlation) and the finish (row deleted + "id:"
 * correlation).  Rows in flight are tracked here, in memory; after a crash
 * they are simply due again (duplicates bounded to what was in flight). */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "sms.h"
#include "sms_util.h"
#include "store.h"

#define MAX_BACKOFF_S 300

struct sms_pending {
    struct sms_pending *prev, *next;
    struct sms *s;
    int64_t seq;
    int attempts;
    int want_receipt; /* the user's message asked for XEP-0184 */
    char *user, *peer, *stanza_id;
    char ref[32];
};

static void pending_free(struct sms_pending *p)
{
    free(p->user);
    free(p->peer);
    free(p->stanza_id);
    free(p);
}

static void unlink_pending(struct sms *s, struct sms_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        s->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    s->inflight--;
}

static void bounce(struct sms *s, const char *user, const char *peer, const char *stanza_id,
                   enum tr_cond cond, const char *text)
{
    struct tr_error e = {cond, ""};
    snprintf(e.text, sizeof(e.text), "%s", text);
    if (s->core->bounce(s->ci, user, peer, stanza_id, &e) != 0)
        s->core->log(s->ci, 0, "could not store the error message for a failed SMS");
}

static void schedule(struct sms *s)
{
    int64_t when = 0;
    if (s->stopping || store_out_next_due(s->core->store(s->ci), s->name, &when) != 0)
        return;
    int64_t delay = when - (int64_t)time(NULL);
    /* Rows in flight count as due in the store; their answers kick the
     * queue, so only look again in a second rather than spin. */
    if (delay <= 0 && s->inflight > 0)
        delay = 1;
    struct timeval tv = {delay > 0 ? (time_t)delay : 0, delay > 0 ? 0 : 1000};
    evtimer_add(s->ev_timer, &tv);
}

static void finish_dropped(struct sms *s, int64_t seq)
{
    char key[64];
    snprintf(key, sizeof(key), "ref:o%lld", (long long)seq);
    store_out_finish(s->core->store(s->ci), s->name, seq, key, NULL, NULL, NULL, NULL, 0);
}

static void on_response(void *arg, const struct tr_http_result *res)
{
    struct sms_pending *p = arg;
    struct sms *s = p->s;
    struct store *st = s->core->store(s->ci);
    unlink_pending(s, p);
    struct sms_send_result r;
    memset(&r, 0, sizeof(r));
    s->prov->parse_send(&s->pcfg, res->status, res->retry_after, res->body, res->body_len, &r);
    char m[24];
    sms_mask(p->peer, m, sizeof(m));
    char key[160], idkey[160];
    snprintf(key, sizeof(key), "ref:%s", p->ref);
    if (r.outcome == SMS_ACCEPTED) {
        /* The ref: row was written with the message (a report may come
         * before this answer); the provider's id is known only now. */
        snprintf(idkey, sizeof(idkey), "id:%s", r.provider_id);
        store_out_finish(st, s->name, p->seq, NULL, r.provider_id[0] ? idkey : NULL, p->user,
                         p->peer, p->stanza_id, p->want_receipt);
        s->core->log(s->ci, 2, "message %lld to %s accepted by %s (attempt %d)", (long long)p->seq,
                     m, s->prov->name, p->attempts);
    } else if (r.outcome == SMS_PERMANENT) {
        s->core->log(s->ci, 2, "message %lld to %s refused by %s: %s", (long long)p->seq, m,
                     s->prov->name, r.text);
        bounce(s, p->user, p->peer, p->stanza_id, r.cond,
               r.text[0] ? r.text : "The SMS provider refused the message.");
        store_out_finish(st, s->name, p->seq, key, NULL, NULL, NULL, NULL, 0);
    } else if (p->attempts >= s->retry_limit) {
        char text[512];
        snprintf(text, sizeof(text),
                 "The SMS provider did not take the message after %d attempts (last answer: %s).",
                 p->attempts,
                 res->status ? (r.text[0] ? r.text : "temporary failure")
                             : (res->error ? res->error : "no answer"));
        s->core->log(s->ci, 1, "message %lld to %s given up after %d attempts", (long long)p->seq,
                     m, p->attempts);
        bounce(s, p->user, p->peer, p->stanza_id, TR_COND_REMOTE_SERVER_TIMEOUT, text);
        store_out_finish(st, s->name, p->seq, key, NULL, NULL, NULL, NULL, 0);
    } else {
        int backoff = 1;
        for (int i = 1; i < p->attempts && backoff < MAX_BACKOFF_S; i++)
            backoff *= 2;
        if (backoff > MAX_BACKOFF_S)
            backoff = MAX_BACKOFF_S;
        backoff += (int)((unsigned long)random() % (unsigned long)(backoff / 2 + 1));
        int delay = r.retry_after > 0 ? r.retry_after : backoff;
        s->core->log(s->ci, 2, "message %lld to %s: temporary failure (%s); retry in %d s",
                     (long long)p->seq, m,
                     res->status ? (r.text[0] ? r.text : "provider busy")
                                 : (res->error ? res->error : "no answer"),
                     delay);
        store_out_failed_attempt(st, p->seq, (int64_t)time(NULL) + delay);
    }
    pending_free(p);
    sms_queue_kick(s);
}

/* Builds and starts the request for one due row. */
static int start_one(void *arg, const struct store_out *row)
{
    struct sms *s = arg;
    struct store *st = s->core->store(s->ci);
    for (struct sms_pending *q = s->pending; q; q = q->next)
        if (q->seq == row->seq)
            return 0; /* in flight already */
    if (s->inflight >= s->max_inflight)
        return 1; /* full: stop the walk */
    struct sms_pending *p = calloc(1, sizeof(*p));
    cJSON *extra = row->extra ? cJSON_Parse(row->extra) : NULL;
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(extra, "from");
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(extra, "media");
    const cJSON *uni = cJSON_GetObjectItemCaseSensitive(extra, "unicode");
    const cJSON *segs = cJSON_GetObjectItemCaseSensitive(extra, "segments");
    struct sms_http_req hr = {0};
    struct sms_buf status_url = {0};
    char err[256] = "";
    int ok = p && cJSON_IsString(from);
    if (ok) {
        p->s = s;
        p->seq = row->seq;
        p->attempts = row->attempts + 1;
        p->want_receipt = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(extra, "receipt"));
        p->user = strdup(row->user);
        p->peer = strdup(row->peer);
        p->stanza_id = row->stanza_id ? strdup(row->stanza_id) : NULL;
        snprintf(p->ref, sizeof(p->ref), "o%lld", (long long)row->seq);
        ok = p->user && p->peer && (!row->stanza_id || p->stanza_id);
    }
    if (ok && s->receipts) {
        sms_buf_addf(&status_url, "%s/sms/%s/status?ref=%s", s->public_url, s->name, p->ref);
        const char *token = s->pcfg.get(&s->pcfg, "webhook_token");
        if (token) {
            sms_buf_adds(&status_url, "&token=");
            sms_buf_add_urlenc(&status_url, token);
        }
    }
    const char *media_list[1] = {cJSON_IsString(media) ? media->valuestring : NULL};
    struct sms_send_req req = {
        .from = ok ? from->valuestring : NULL,
        .to = row->peer,
        /* Clients put a shared file's URL in the body too: send the media
         * alone rather than the URL as text beside it. */
        .text = media_list[0] && strcmp(row->body, media_list[0]) == 0 ? "" : row->body,
        .media = media_list,
        .n_media = media_list[0] ? 1 : 0,
        .unicode = cJSON_IsTrue(uni),
        .segments = cJSON_IsNumber(segs) ? segs->valueint : 1,
        .ref = p ? p->ref : "",
        .status_url = status_url.s,
    };
    if (ok && s->prov->build_send(&s->pcfg, &req, &hr, err, sizeof(err)) != 0) {
        s->core->log(s->ci, 0, "cannot build the %s request: %s", s->prov->name, err);
        bounce(s, row->user, row->peer, row->stanza_id, TR_COND_INTERNAL_SERVER_ERROR,
               "The SMS gateway is misconfigured; the operator has been told.");
        finish_dropped(s, row->seq);
        ok = 0;
    } else if (ok) {
        struct tr_http_out out = {
            .method = hr.method,
            .url = hr.url,
            .headers = (const char *const *)hr.headers,
            .n_headers = hr.n_headers,
            .body = hr.body,
            .body_len = hr.body_len,
            .timeout_ms = s->timeout_ms,
        };
        if (s->core->http_request(s->ci, &out, on_response, p) == 0) {
            p->next = s->pending;
            if (s->pending)
                s->pending->prev = p;
            s->pending = p;
            s->inflight++;
            p = NULL; /* owned by the request now */
        } else {
            store_out_retry(st, row->seq, (int64_t)time(NULL) + 5);
        }
    } else {
        s->core->log(s->ci, 0, "stored message %lld is unreadable; dropped with an error",
                     (long long)row->seq);
        bounce(s, row->user, row->peer, row->stanza_id, TR_COND_INTERNAL_SERVER_ERROR,
               "The gateway lost track of this message; please send it again.");
        finish_dropped(s, row->seq);
    }
    sms_http_req_clear(&hr);
    sms_buf_free(&status_url);
    cJSON_Delete(extra);
    if (p)
        pending_free(p);
    return 0;
}

static void dispatch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct sms *s = arg;
    if (s->stopping)
        return;
    int room = s->max_inflight - s->inflight;
    /* Rows in flight are still due in the store: ask for enough to skip them. */
    if (room > 0)
        store_out_due(s->core->store(s->ci), s->name, (int64_t)time(NULL),
                      s->max_inflight + s->inflight, start_one, s);
    schedule(s);
}

void sms_queue_kick(struct sms *s)
{
    if (s->ev_kick)
        event_active(s->ev_kick, EV_TIMEOUT, 0);
}

void sms_queue_start(struct sms *s)
{
    struct event_base *base = s->core->base(s->ci);
    s->ev_kick = event_new(base, -1, 0, dispatch, s);
    s->ev_timer = evtimer_new(base, dispatch, s);
    int64_t n = 0;
    if (store_out_requeue_inflight(s->core->store(s->ci), s->name, &n) == 0 && n > 0)
        s->core->log(s->ci, 1,
                     "%lld message%s were being sent when Ferry last stopped; sending again "
                     "(the provider may deliver them twice)",
                     (long long)n, n == 1 ? "" : "s");
    int64_t queued = 0;
    if (store_out_count(s->core->store(s->ci), s->name, &queued) == 0 && queued > 0)
        s->core->log(s->ci, 2, "%lld queued message%s to send", (long long)queued,
                     queued == 1 ? "" : "s");
    sms_queue_kick(s);
}

void sms_queue_free(struct sms *s)
{
    if (s->ev_kick)
        event_free(s->ev_kick);
    if (s->ev_timer)
        event_free(s->ev_timer);
    s->ev_kick = s->ev_timer = NULL;
    while (s->pending) {
        struct sms_pending *p = s->pending;
        s->pending = p->next;
        pending_free(p);
    }
}
