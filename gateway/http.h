/* The HTTP listener (evhttp): /healthz, and later the SMS webhooks. */
#ifndef FERRY_HTTP_H
#define FERRY_HTTP_H

#include <stddef.h>

struct event_base;
struct evhttp_request;
struct http;

typedef void (*http_handler)(struct evhttp_request *req, void *arg);

/* Binds address:port.  On failure returns a negative ferry_err and a
 * reason in err. */
int http_start(struct event_base *base, const char *address, int port, struct http **out, char *err,
               size_t errlen);
void http_free(struct http *h); /* accepts NULL */
/* Routes an exact path to cb.  Returns 0 or a negative ferry_err. */
int http_route(struct http *h, const char *path, http_handler cb, void *arg);
/* Routes every request whose path is `prefix` or starts with `prefix/`
 * (checked before the exact routes' 404) to cb. */
int http_route_prefix(struct http *h, const char *prefix, http_handler cb, void *arg);
/* Sends a reply with a body and content type. */
void http_reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                const char *body);

#endif
