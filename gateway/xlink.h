/* The XEP-0114 component links, driven by libstrophe inside the libevent
 * loop (DESIGN §3).  One xlink_ctx per process (one xmpp_ctx_t), one xlink
 * per component domain.  Each link reconnects by itself with exponential
 * backoff and jitter, keeps itself alive with XEP-0199 pings, and reports
 * online/offline and every received stanza to its owner.
 *
 * Only the core includes this header (transports never see libstrophe). */
#ifndef FERRY_XLINK_H
#define FERRY_XLINK_H

#include <strophe.h>

struct event_base;
struct xlink_ctx;
struct xlink;

struct xlink_params {
    const char *scope;  /* log scope (instance name) */
    const char *domain; /* component JID */
    const char *host;   /* server address: IP literal or name (resolved with evdns) */
    int port;
    const char *secret;
    int keepalive;     /* seconds between pings; a ping unanswered for as long drops the link */
    int reconnect_min; /* seconds */
    int reconnect_max; /* seconds */
    int sndbuf;        /* SO_SNDBUF for the socket, 0: system default */
};

struct xlink_cbs {
    void (*online)(void *arg);
    void (*offline)(void *arg);
    /* Every stanza received, except answers to the link's own pings. */
    void (*stanza)(void *arg, xmpp_stanza_t *stanza);
};

struct xlink_ctx *xlink_ctx_new(struct event_base *base);
void xlink_ctx_free(struct xlink_ctx *xc); /* links must be freed first */
xmpp_ctx_t *xlink_ctx_xmpp(struct xlink_ctx *xc);
/* The asynchronous resolver the links use (shared with transports). */
struct evdns_base *xlink_ctx_dns(struct xlink_ctx *xc);
/* Call after every event_base_loop(EVLOOP_ONCE): runs libstrophe's two
 * passes, queues the write sentinel, re-arms each link's events. */
void xlink_ctx_pump(struct xlink_ctx *xc);
/* Nonzero while any link still has unwritten data or is closing. */
int xlink_ctx_busy(struct xlink_ctx *xc);

/* Strings in p are copied.  Returns NULL on allocation failure. */
struct xlink *xlink_new(struct xlink_ctx *xc, const struct xlink_params *p,
                        const struct xlink_cbs *cbs, void *arg);
void xlink_free(struct xlink *l); /* accepts NULL; disconnects abruptly */
/* Starts connecting (and reconnecting after any loss). */
void xlink_start(struct xlink *l);
/* Closes the stream gracefully and stops reconnecting. */
void xlink_stop(struct xlink *l);
/* Applies new keepalive/backoff settings (reload); the link stays up. */
void xlink_update(struct xlink *l, int keepalive, int reconnect_min, int reconnect_max);
int xlink_is_online(const struct xlink *l);
/* Nonzero once a stopped link has finished closing (or never connected). */
int xlink_is_closed(const struct xlink *l);
const char *xlink_domain(const struct xlink *l);

/* Sends a stanza (sets from=domain when absent).  The caller keeps its
 * reference.  Returns 0, or FERRY_ESTATE when the link is not online
 * (nothing sent). */
int xlink_send(struct xlink *l, xmpp_stanza_t *stanza);
/* The same for a stanza already serialised (with its from set). */
int xlink_send_raw(struct xlink *l, const char *xml, size_t len);

/* Sends an XEP-0199 ping behind everything sent so far; cb(arg, 1) fires
 * when the server answers (the server processed everything before it),
 * cb(arg, 0) if the link drops first.  Returns 0 or FERRY_ESTATE. */
int xlink_ping(struct xlink *l, void (*cb)(void *arg, int ok), void *arg);

/* DESIGN §3.1: allocates libstrophe's sm_state on a component conn (which
 * must have its JID set) through a client connect that fails at once.
 * Returns 0 when libstrophe answered exactly XMPP_EINT, else FERRY_ESTATE. */
int xlink_prime(xmpp_conn_t *conn);

#endif
