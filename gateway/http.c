#include "http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"

#define HTTP_MAX_BODY (1024 * 1024)
#define HTTP_MAX_HEADERS (32 * 1024)
#define HTTP_TIMEOUT 30

#define MAX_PREFIXES 64

struct prefix_route {
    char *prefix;
    http_handler cb;
    void *arg;
};

struct http {
    struct evhttp *ev;
    struct prefix_route prefixes[MAX_PREFIXES];
    size_t n_prefixes;
};

/* Requests no exact route took: prefix routes, else 404. */
static void fallback(struct evhttp_request *req, void *arg)
{
    struct http *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    for (size_t i = 0; path && i < h->n_prefixes; i++) {
        size_t n = strlen(h->prefixes[i].prefix);
        if (strncmp(path, h->prefixes[i].prefix, n) == 0 && (path[n] == 0 || path[n] == '/')) {
            h->prefixes[i].cb(req, h->prefixes[i].arg);
            return;
        }
    }
    http_reply(req, 404, "Not Found", "text/plain; charset=utf-8", "no such path\n");
}

int http_route_prefix(struct http *h, const char *prefix, http_handler cb, void *arg)
{
    if (h->n_prefixes == MAX_PREFIXES)
        return FERRY_ERANGE;
    char *p = strdup(prefix);
    if (!p)
        return FERRY_ENOMEM;
    h->prefixes[h->n_prefixes++] = (struct prefix_route){p, cb, arg};
    return 0;
}

int http_start(struct event_base *base, const char *address, int port, struct http **out, char *err,
               size_t errlen)
{
    struct http *h = calloc(1, sizeof(*h));
    if (!h)
        return FERRY_ENOMEM;
    h->ev = evhttp_new(base);
    if (!h->ev) {
        free(h);
        return FERRY_ENOMEM;
    }
    evhttp_set_max_body_size(h->ev, HTTP_MAX_BODY);
    evhttp_set_max_headers_size(h->ev, HTTP_MAX_HEADERS);
    evhttp_set_timeout(h->ev, HTTP_TIMEOUT);
    evhttp_set_allowed_methods(h->ev, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(h->ev, fallback, h);
    if (evhttp_bind_socket(h->ev, address, (unsigned short)port) != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", address, port, strerror(errno));
        http_free(h);
        return FERRY_EIO;
    }
    *out = h;
    return 0;
}

void http_free(struct http *h)
{
    if (!h)
        return;
    if (h->ev)
        evhttp_free(h->ev);
    for (size_t i = 0; i < h->n_prefixes; i++)
        free(h->prefixes[i].prefix);
    free(h);
}

int http_route(struct http *h, const char *path, http_handler cb, void *arg)
{
    int rc = evhttp_set_cb(h->ev, path, cb, arg);
    return rc == 0 ? 0 : rc == -1 ? FERRY_EEXIST : FERRY_ENOMEM;
}

void http_reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (b && body)
        evbuffer_add(b, body, strlen(body));
    struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
    evhttp_add_header(hdr, "Content-Type", ctype);
    evhttp_add_header(hdr, "Cache-Control", "no-store");
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}
