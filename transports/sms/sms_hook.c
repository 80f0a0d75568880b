/* Webhooks from the provider: checked (source address, token, signature)
 * before anything is stored; inbound messages go to the number's owner
 * through the core's durable queue (deduplicated by provider message id)
 * and the provider gets its success answer only after that; delivery
 * reports become XEP-0184 receipts or error messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e164.h"
#include "err.h"
#include "sms.h"
#include "sms_util.h"
#include "store.h"

static const char *hook_header(const struct sms_webhook *w, const char *name)
{
    const struct tr_webhook_req *req = w->ctx;
    return req->header(req, name);
}

static void answer(struct tr_webhook_resp *resp, int status, const char *reason, const char *body)
{
    resp->status = status;
    resp->reason = reason;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = body ? strdup(body) : NULL;
}

static int source_allowed(struct sms *s, const char *ip)
{
    size_t n = s->core->cfg_list_len(s->ci, "allow_ips");
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->core->cfg_list_item(s->ci, "allow_ips", i), ip) == 0)
            return 1;
    return n == 0;
}

static int token_ok(struct sms *s, const char *query)
{
    const char *want = s->pcfg.get(&s->pcfg, "webhook_token");
    if (!want)
        return 1;
    struct sms_form q;
    if (sms_form_parse(query, strlen(query), &q) != 0)
        return 0;
    const char *got = sms_form_get(&q, "token");
    int ok = got && sms_ct_equal(got, strlen(got), want, strlen(want));
    sms_form_clear(&q);
    return ok;
}

/* Keeps a message to a number nobody owns: never dropped, logged, and left
 * in the store under "<instance>!unowned" for the operator. */
static int keep_unowned(struct sms *s, const struct sms_event *ev, const char *from, const char *to)
{
    struct sms_buf b = {0};
    sms_buf_adds(&b, "{\"from\":\"");
    sms_buf_adds(&b, from);
    sms_buf_adds(&b, "\",\"to\":\"");
    sms_buf_adds(&b, to);
    sms_buf_addf(&b, "\",\"received\":%lld,\"text_bytes\":%zu}", (long long)time(NULL),
                 ev->text_len);
    char *meta = sms_buf_take(&b, NULL);
    char inst[160];
    snprintf(inst, sizeof(inst), "%s!unowned", s->name);
    /* The text itself is kept too, as the row's second line. */
    struct sms_buf row = {0};
    sms_buf_adds(&row, meta ? meta : "{}");
    sms_buf_add(&row, "\n", 1);
    sms_buf_add(&row, ev->text ? ev->text : "", ev->text ? ev->text_len : 0);
    char *xml = sms_buf_take(&row, NULL);
    int rc = xml ? store_in_push(s->core->store(s->ci), inst, ev->msg_id, xml, NULL) : FERRY_ENOMEM;
    free(meta);
    free(xml);
    char m1[24], m2[24];
    if (rc == 0)
        s->core->log(s->ci, 1,
                     "message from %s to %s, a number nobody owns, kept in the store "
                     "(instance %s)",
                     sms_mask(from, m1, sizeof(m1)), sms_mask(to, m2, sizeof(m2)), inst);
    return rc == FERRY_EEXIST ? 0 : rc;
}

/* A sender that is not a phone number (short code "12345", alphanumeric
 * "MyBank") is kept as written: the user still gets the message (one-time
 * codes come this way), from a contact that cannot be answered by SMS. */
static int sender_as_given(const char *raw, char *out, size_t len)
{
    size_t n = 0;
    for (const char *p = raw; *p && n + 1 < len; p++)
        if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            *p == '+' || *p == '-' || *p == '.' || *p == '_')
            out[n++] = *p;
    out[n] = 0;
    return n > 0 ? 0 : -1;
}

static int inbound(struct sms *s, const struct sms_event *ev)
{
    char from[40], to[20], m[24];
    if (!ev->to || e164_from_provider(ev->to, s->default_cc, to, sizeof(to)) != 0) {
        s->core->log(s->ci, 1, "inbound message to an unusable number ignored");
        return 0;
    }
    if (!ev->from || (e164_from_provider(ev->from, s->default_cc, from, sizeof(from)) != 0 &&
                      sender_as_given(ev->from, from, sizeof(from)) != 0)) {
        s->core->log(s->ci, 1, "inbound message without a usable sender ignored");
        return 0;
    }
    struct sms_number *nb = sms_number_find(s, to);
    if (!nb || !nb->owner)
        return keep_unowned(s, ev, from, to);
    /* Parts of a long message the provider did not join (Vonage). */
    if (ev->concat_total > 1)
        return sms_concat_part(s, ev, from, nb);
    struct sms_buf body = {0};
    sms_buf_add(&body, ev->text ? ev->text : "", ev->text ? ev->text_len : 0);
    for (size_t i = 0; i < ev->n_media; i++) {
        if (body.len)
            sms_buf_add(&body, "\n", 1);
        sms_buf_adds(&body, ev->media[i]);
    }
    size_t len = 0;
    char *text = sms_buf_take(&body, &len);
    if (!text)
        return FERRY_ENOMEM;
    struct tr_inbound in = {
        .user = nb->owner,
        .from_local = from,
        .body = text,
        .body_len = len,
        .oob_url = ev->n_media ? ev->media[0] : NULL,
        .type = TR_MSG_CHAT,
        .dedupe_key = ev->msg_id,
    };
    int rc = s->core->deliver(s->ci, &in);
    free(text);
    if (rc == FERRY_EEXIST) {
        s->core->log(s->ci, 3, "provider retry of message %s ignored (already stored)",
                     ev->msg_id ? ev->msg_id : "?");
        return 0;
    }
    if (rc == 0)
        s->core->log(s->ci, 2, "message from %s stored for delivery", sms_mask(from, m, sizeof(m)));
    return rc;
}

struct corr_copy {
    char *user, *peer, *stanza_id;
    int want_receipt;
};

static int copy_corr(void *arg, const struct store_corr *c)
{
    struct corr_copy *cc = arg;
    cc->user = strdup(c->user);
    cc->peer = strdup(c->peer);
    cc->stanza_id = c->stanza_id ? strdup(c->stanza_id) : NULL;
    cc->want_receipt = c->want_receipt;
    return 0;
}

static int status_report(struct sms *s, const struct sms_event *ev)
{
    if (ev->status == SMS_ST_PROGRESS)
        return 0;
    struct store *st = s->core->store(s->ci);
    char key[160];
    struct corr_copy cc = {0};
    int rc = FERRY_ENOTFOUND;
    if (ev->ref) {
        snprintf(key, sizeof(key), "ref:%s", ev->ref);
        rc = store_corr_get(st, s->name, key, copy_corr, &cc);
    }
    if (rc == FERRY_ENOTFOUND && ev->provider_id) {
        snprintf(key, sizeof(key), "id:%s", ev->provider_id);
        rc = store_corr_get(st, s->name, key, copy_corr, &cc);
    }
    if (rc == FERRY_ENOTFOUND) {
        s->core->log(s->ci, 3, "delivery report for an unknown or already reported message");
        return 0;
    }
    if (rc != 0)
        return rc;
    if (ev->status == SMS_ST_DELIVERED) {
        if (cc.want_receipt && cc.stanza_id)
            rc = s->core->receipt(s->ci, cc.user, cc.peer, cc.stanza_id);
        s->core->log(s->ci, 3, "delivery report: delivered");
    } else {
        struct tr_error e = {ev->cond, ""};
        snprintf(e.text, sizeof(e.text), "The SMS was not delivered: %s",
                 ev->error ? ev->error : "the provider reported a failure");
        rc = s->core->bounce(s->ci, cc.user, cc.peer, cc.stanza_id, &e);
        s->core->log(s->ci, 2, "delivery report: failed (%s)", ev->error ? ev->error : "?");
    }
    if (rc == 0)
        store_corr_del(st, s->name, key);
    free(cc.user);
    free(cc.peer);
    free(cc.stanza_id);
    return rc;
}

void sms_webhook(void *state, const struct tr_webhook_req *req, struct tr_webhook_resp *resp)
{
    struct sms *s = state;
    if (!source_allowed(s, req->remote_ip)) {
        answer(resp, 403, "Forbidden", "source address not allowed\n");
        return;
    }
    if (!token_ok(s, req->query)) {
        answer(resp, 403, "Forbidden", "missing or wrong token\n");
        return;
    }
    struct sms_buf url = {0};
    sms_buf_adds(&url, s->public_url);
    sms_buf_adds(&url, req->path);
    if (req->query[0]) {
        sms_buf_add(&url, "?", 1);
        sms_buf_adds(&url, req->query);
    }
    char *full = sms_buf_take(&url, NULL);
    struct sms_webhook w = {
        .method = req->method,
        .url = full ? full : "",
        .query = req->query,
        .content_type = req->header(req, "Content-Type"),
        .body = req->body,
        .body_len = req->body_len,
        .now = (int64_t)time(NULL),
        .header = hook_header,
        .ctx = (void *)req,
    };
    struct sms_events evs;
    memset(&evs, 0, sizeof(evs));
    char err[256] = "";
    if (!full) {
        answer(resp, 500, "Internal Server Error", "out of memory\n");
    } else if (s->prov->verify(&s->pcfg, &w) != 0) {
        s->core->log(s->ci, 2, "webhook %s refused: signature check failed", req->path);
        answer(resp, 403, "Forbidden", "signature check failed\n");
    } else if (s->prov->parse_webhook(&s->pcfg, &w, &evs, err, sizeof(err)) != 0) {
        s->core->log(s->ci, 2, "webhook %s refused: %s", req->path, err);
        char body[300];
        snprintf(body, sizeof(body), "%s\n", err);
        answer(resp, 400, "Bad Request", body);
    } else {
        int rc = 0;
        for (size_t i = 0; i < evs.n && rc == 0; i++)
            rc = evs.ev[i].kind == SMS_EV_INBOUND ? inbound(s, &evs.ev[i])
                                                  : status_report(s, &evs.ev[i]);
        if (rc != 0) {
            /* Not stored: the provider must try again. */
            s->core->log(s->ci, 0, "webhook could not be stored: %s", ferry_strerror(rc));
            answer(resp, 500, "Internal Server Error", "could not store; retry later\n");
        } else {
            resp->status = s->prov->ok_status;
            resp->reason = "OK";
            resp->content_type = s->prov->ok_content_type;
            resp->body = s->prov->ok_body ? strdup(s->prov->ok_body) : NULL;
        }
    }
    sms_events_clear(&evs);
    free(full);
}
