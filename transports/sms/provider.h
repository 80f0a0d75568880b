/* SMS providers as pure functions over buffers (DESIGN §4).
 *
 * A provider file (twilio.c, vonage.c, telnyx.c, plivo.c, bandwidth.c,
 * kannel.c) exports one `const struct sms_provider`.  It builds the HTTP
 * request for a send, classifies the provider's answer, verifies a webhook's
 * authenticity and parses a webhook into events.  It does no I/O, keeps no
 * state, never logs message bodies or secrets, and allocates only what it
 * returns (freed by the caller through the *_clear functions below).
 *
 * HTTP, retries, E.164 normalisation, segmentation, dedupe, routing and
 * receipts exist once, in the SMS transport (sms*.c). */
#ifndef FERRY_SMS_PROVIDER_H
#define FERRY_SMS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

/* Provider settings: the instance's config keys, already validated;
 * secrets already resolved from "file:" / "env:" forms.  get() returns NULL
 * for an unset key. */
struct sms_cfg {
    const char *(*get)(const struct sms_cfg *cfg, const char *key);
    void *ctx;
};

/* ---- Sending -------------------------------------------------------------- */
struct sms_send_req {
    const char *from;         /* E.164 "+15557654321" (our number) */
    const char *to;           /* E.164 */
    const char *text;         /* UTF-8, may be "" when media is given */
    const char *const *media; /* MMS media URLs, n_media of them */
    size_t n_media;
    int unicode;            /* 1 when the text is not GSM-7 (UCS-2 needed) */
    int segments;           /* parts the transport counted */
    const char *ref;        /* our correlation token (short, URL-safe): echo it
                               where the provider allows (tag, client-ref,
                               status URL query) */
    const char *status_url; /* full public URL for delivery reports, already
                               carrying "?ref=<ref>"; NULL: none wanted */
};

#define SMS_MAX_HEADERS 8
struct sms_http_req {
    char *method;                   /* "POST" / "GET" (malloc'd) */
    char *url;                      /* full URL (malloc'd) */
    char *headers[SMS_MAX_HEADERS]; /* "Name: value" lines (malloc'd), n_headers used */
    size_t n_headers;
    char *body; /* malloc'd, may be NULL */
    size_t body_len;
};
void sms_http_req_clear(struct sms_http_req *r);

enum sms_outcome {
    SMS_ACCEPTED = 0, /* the provider took it: done */
    SMS_TRANSIENT,    /* retry later (429, 5xx, throttled, timeout) */
    SMS_PERMANENT,    /* bounce to the user now */
};
struct sms_send_result {
    enum sms_outcome outcome;
    char provider_id[128]; /* message id for DLR correlation ("" if none) */
    int retry_after;       /* seconds from Retry-After (or the provider's hint), 0: none */
    enum tr_cond cond;     /* SMS_PERMANENT: condition for the bounce */
    char text[256];        /* SMS_PERMANENT: human text, provider code included */
};

/* ---- Webhooks ------------------------------------------------------------- */
struct sms_webhook {
    const char *method;       /* "GET" / "POST" */
    const char *url;          /* the full public URL the provider called:
                                 public_url + path + "?" + query (as received) */
    const char *query;        /* raw query string (no '?'), may be "" */
    const char *content_type; /* may be NULL */
    const char *body;         /* raw body bytes (not NUL-terminated) */
    size_t body_len;
    int64_t now; /* unix seconds, for timestamp freshness */
    /* Request header by name (case-insensitive), NULL when absent. */
    const char *(*header)(const struct sms_webhook *w, const char *name);
    void *ctx;
};

enum sms_event_kind { SMS_EV_INBOUND, SMS_EV_STATUS };
enum sms_status { SMS_ST_DELIVERED, SMS_ST_FAILED, SMS_ST_PROGRESS };
#define SMS_MAX_MEDIA 10

struct sms_event {
    enum sms_event_kind kind;
    /* SMS_EV_INBOUND (all malloc'd; from/to as the provider gave them: the
     * transport normalises to E.164) */
    char *from, *to;
    char *text; /* UTF-8 (decode other encodings first) */
    size_t text_len;
    char *media[SMS_MAX_MEDIA];
    size_t n_media;
    char *msg_id; /* provider message id: the dedupe key */
    /* multipart inbound the transport must reassemble (Vonage concat) */
    char *concat_ref;
    int concat_total, concat_part; /* 0 when not a part */
    /* SMS_EV_STATUS */
    char *ref;         /* our ref when echoed back (tag, client-ref, ?ref=), or NULL */
    char *provider_id; /* provider message id, or NULL */
    enum sms_status status;
    enum tr_cond cond; /* SMS_ST_FAILED: condition for the error stanza */
    char *error;       /* SMS_ST_FAILED: human text with the provider code */
};

#define SMS_MAX_EVENTS 32
struct sms_events {
    struct sms_event ev[SMS_MAX_EVENTS];
    size_t n;
};
void sms_events_clear(struct sms_events *e);

struct sms_provider {
    const char *name; /* config value of `provider` */
    /* Keys this provider needs/accepts (names of the SMS instance's config
     * keys), NULL-terminated. */
    const char *const *required_keys;
    const char *const *optional_keys;
    int mms; /* can send media URLs */
    int dlr; /* reports handset delivery */

    /* Builds the send request.  Returns 0, or -1 with a reason in err
     * (bad settings). */
    int (*build_send)(const struct sms_cfg *cfg, const struct sms_send_req *req,
                      struct sms_http_req *out, char *err, size_t errlen);
    /* Classifies the provider's answer to a send.  http_status 0 means the
     * request failed below HTTP (timeout, refused): transient. */
    void (*parse_send)(const struct sms_cfg *cfg, int http_status, const char *retry_after,
                       const char *body, size_t body_len, struct sms_send_result *res);
    /* 0 when the webhook is authentic, -1 when forged/unsigned/stale. */
    int (*verify)(const struct sms_cfg *cfg, const struct sms_webhook *w);
    /* Parses an authentic webhook into events (none is fine: e.g. "sent").
     * Returns 0, or -1 with a reason in err when the payload is malformed
     * (answered 400). */
    int (*parse_webhook)(const struct sms_cfg *cfg, const struct sms_webhook *w,
                         struct sms_events *out, char *err, size_t errlen);
    /* The exact success answer the provider expects. */
    int ok_status;
    const char *ok_content_type;
    const char *ok_body;
};

extern const struct sms_provider sms_twilio, sms_vonage, sms_telnyx, sms_plivo, sms_bandwidth,
    sms_kannel;

#endif
