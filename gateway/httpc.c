#include "httpc.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"

#define BODY_CAP (1024 * 1024)
#define DEFAULT_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MS 10000L

struct xfer {
    struct httpc *h;
    struct xfer *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t body_len, body_cap;
    int truncated;
    char retry_after[64];
    int has_retry_after;
    char reset[64]; /* x-ratelimit-reset, the fallback (Telnyx) */
    int has_reset;
    char errbuf[CURL_ERROR_SIZE];
    tr_http_cb cb;
    void *arg;
};

struct sock {
    struct event *ev;
};

struct httpc {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct xfer *xfers;
    int pending;
};

static void reset_as_retry_after(struct xfer *x);

static void check_done(struct httpc *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        CURLcode rc = msg->data.result;
        curl_multi_remove_handle(h->multi, x->easy);
        if (x->prev)
            x->prev->next = x->next;
        else
            h->xfers = x->next;
        if (x->next)
            x->next->prev = x->prev;
        h->pending--;
        reset_as_retry_after(x);
        struct tr_http_result res = {
            .status = rc == CURLE_OK ? (int)status : 0,
            .error = rc == CURLE_OK ? NULL : (x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc)),
            .body = x->body ? x->body : "",
            .body_len = x->body_len,
            .retry_after = x->has_retry_after ? x->retry_after : NULL,
        };
        x->cb(x->arg, &res);
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->headers);
        free(x->body);
        free(x);
    }
}

static void sock_cb_ev(evutil_socket_t fd, short what, void *arg)
{
    struct httpc *h = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(h->multi, fd, flags, &running);
    check_done(h);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct httpc *h = arg;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct httpc *h = userp;
    struct sock *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            event_free(sk->ev);
            free(sk);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    short flags =
        EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!sk) {
        sk = calloc(1, sizeof(*sk));
        if (!sk)
            return -1;
        curl_multi_assign(h->multi, s, sk);
    } else {
        event_free(sk->ev);
    }
    sk->ev = event_new(h->base, s, flags, sock_cb_ev, h);
    if (!sk->ev || event_add(sk->ev, NULL) != 0)
        return -1;
    return 0;
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct httpc *h = userp;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
    return 0;
}

static size_t write_fn(char *data, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    size_t len = size * n;
    if (x->body_len + len > BODY_CAP) {
        x->truncated = 1;
        len = BODY_CAP - x->body_len;
    }
    if (x->body_len + len + 1 > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 1024;
        while (cap < x->body_len + len + 1)
            cap *= 2;
        char *b = realloc(x->body, cap);
        if (!b)
            return 0; /* aborts the transfer */
        x->body = b;
        x->body_cap = cap;
    }
    memcpy(x->body + x->body_len, data, len);
    x->body_len += len;
    x->body[x->body_len] = 0;
    return size * n;
}

/* Copies the value of header `name` (lowercase, with ':') if data is it. */
static int header_value(const char *data, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    if (len <= nlen || strncasecmp(data, name, nlen) != 0)
        return 0;
    size_t vlen = len - nlen;
    const char *v = data + nlen;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen >= outlen)
        vlen = outlen - 1;
    memcpy(out, v, vlen);
    out[vlen] = 0;
    return 1;
}

static size_t header_fn(char *data, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    size_t len = size * n;
    if (header_value(data, len, "retry-after:", x->retry_after, sizeof(x->retry_after)))
        x->has_retry_after = 1;
    else if (header_value(data, len, "x-ratelimit-reset:", x->reset, sizeof(x->reset)))
        x->has_reset = 1;
    return len;
}

/* Without Retry-After, x-ratelimit-reset stands in: seconds until the
 * window resets, or (some APIs) the unix time it resets at. */
static void reset_as_retry_after(struct xfer *x)
{
    if (x->has_retry_after || !x->has_reset)
        return;
    long long v = strtoll(x->reset, NULL, 10);
    if (v > 1000000000LL)
        v -= (long long)time(NULL);
    if (v < 0)
        v = 0;
    snprintf(x->retry_after, sizeof(x->retry_after), "%lld", v);
    x->has_retry_after = 1;
}

struct httpc *httpc_new(struct event_base *base)
{
    struct httpc *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->base = base;
    h->multi = curl_multi_init();
    h->timer = evtimer_new(base, timer_cb, h);
    if (!h->multi || !h->timer) {
        httpc_free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
    return h;
}

void httpc_free(struct httpc *h)
{
    if (!h)
        return;
    while (h->xfers) {
        struct xfer *x = h->xfers;
        h->xfers = x->next;
        curl_multi_remove_handle(h->multi, x->easy);
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->headers);
        free(x->body);
        free(x);
    }
    if (h->multi)
        curl_multi_cleanup(h->multi); /* removes sockets through socket_fn */
    if (h->timer)
        event_free(h->timer);
    free(h);
}

int httpc_pending(const struct httpc *h)
{
    return h ? h->pending : 0;
}

int httpc_request(struct httpc *h, const struct tr_http_out *req, tr_http_cb cb, void *arg)
{
    struct xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return FERRY_ENOMEM;
    x->h = h;
    x->cb = cb;
    x->arg = arg;
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(x);
        return FERRY_ENOMEM;
    }
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "Ferry/" FERRY_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_fn);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_fn);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    const char *method = req->method ? req->method : "GET";
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (req->body) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
            curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
        }
    }
    /* No "Expect: 100-continue" round trip for larger bodies. */
    x->headers = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; i < req->n_headers && x->headers; i++)
        x->headers = curl_slist_append(x->headers, req->headers[i]);
    if (!x->headers) {
        curl_easy_cleanup(e);
        free(x);
        return FERRY_ENOMEM;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        curl_slist_free_all(x->headers);
        curl_easy_cleanup(e);
        free(x);
        return FERRY_EIO;
    }
    x->next = h->xfers;
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    h->pending++;
    return 0;
}
