#include "webhook.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "log.h"
#include "transport_reg.h"

struct hook_ctx {
    struct evhttp_request *req;
};

static const char *req_header(const struct tr_webhook_req *r, const char *name)
{
    const struct hook_ctx *c = r->ctx;
    return evhttp_find_header(evhttp_request_get_input_headers(c->req), name);
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    default:
        return "OTHER";
    }
}

static void handle(struct evhttp_request *req, void *arg)
{
    struct instance *in = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct evbuffer *input = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(input);
    const char *body = len ? (const char *)evbuffer_pullup(input, -1) : "";
    char *peer = NULL;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &port);
    struct hook_ctx ctx = {req};
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    struct tr_webhook_req wr = {
        .method = method_name(evhttp_request_get_command(req)),
        .path = uri && evhttp_uri_get_path(uri) ? evhttp_uri_get_path(uri) : "/",
        .query = query ? query : "",
        .remote_ip = peer ? peer : "",
        .body = body,
        .body_len = len,
        .header = req_header,
        .ctx = &ctx,
    };
    struct tr_webhook_resp resp = {500, "Internal Server Error", "text/plain; charset=utf-8", NULL};
    transport_webhook(in, &wr, &resp);
    http_reply(req, resp.status, resp.reason ? resp.reason : "OK",
               resp.content_type ? resp.content_type : "text/plain; charset=utf-8",
               resp.body ? resp.body : "");
    if (resp.status >= 400)
        log_info(in->name, "webhook %s %s answered %d", wr.method, wr.path, resp.status);
    else
        log_debug(in->name, "webhook %s %s answered %d", wr.method, wr.path, resp.status);
    free(resp.body);
}

int webhook_register(struct instance *in)
{
    if (!in->ops->webhook || !in->ops->webhook_prefix || !in->f->http)
        return 0;
    char prefix[256];
    snprintf(prefix, sizeof(prefix), "/%s/%s", in->ops->webhook_prefix, in->name);
    int rc = http_route_prefix(in->f->http, prefix, handle, in);
    if (rc == 0)
        log_info(in->name, "webhooks at %s", prefix);
    return rc;
}
