/* Outgoing HTTP on the loop: one libcurl multi handle driven by libevent
 * (curl_multi_socket_action), shared by every transport, with connection
 * reuse.  Nothing here blocks: DNS uses libcurl's threaded resolver. */
#ifndef FERRY_HTTPC_H
#define FERRY_HTTPC_H

#include "transport.h"

struct event_base;
struct httpc;

struct httpc *httpc_new(struct event_base *base);
/* Cancels what is still running WITHOUT calling the callbacks (shutdown:
 * owners are going away; durable work is requeued from the store at the
 * next start).  Accepts NULL. */
void httpc_free(struct httpc *h);
/* Starts a request; cb fires exactly once, later, from the loop.  Returns
 * 0 or a negative ferry_err (then cb never fires). */
int httpc_request(struct httpc *h, const struct tr_http_out *req, tr_http_cb cb, void *arg);
/* Requests still running. */
int httpc_pending(const struct httpc *h);

#endif
