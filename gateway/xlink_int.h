/* Private to the xlink*.c files: the link and context structs and the
 * functions they share.  See xlink.h for the contract. */
#ifndef FERRY_XLINK_INT_H
#define FERRY_XLINK_INT_H

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "xlink.h"

#define PING_PREFIX "ferry-ping-"
#define MAX_PINGS 64

enum link_phase { PH_IDLE, PH_RESOLVING, PH_CONNECTING, PH_ONLINE, PH_STOPPED };

struct ping {
    unsigned long id;
    void (*cb)(void *arg, int ok);
    void *arg;
};

struct xlink {
    struct xlink_ctx *xc;
    struct xlink *next;
    xmpp_conn_t *conn;
    char *scope, *domain, *host, *secret, *ping_to;
    int port, keepalive, rmin, rmax, sndbuf;
    struct xlink_cbs cbs;
    void *arg;

    enum link_phase phase;
    int fd;         /* socket captured by the sockopt callback, or -1 */
    int reserve_fd; /* low fd held for the next connect */
    short ev_flags; /* flags ev_io is registered with, 0 when not */
    int sent;       /* stanzas sent since the last sentinel */
    char *out;      /* stanzas of this turn, handed to libstrophe as one write */
    size_t out_len, out_cap;
    int got_read; /* the socket was readable in this wakeup */
    int tcp_up;   /* TCP connect completed in this attempt */
    int attempts; /* failed attempts since last online */
    int stopping;
    char ip[INET6_ADDRSTRLEN];
    struct event *ev_io, *ev_tick, *ev_retry, *ev_keepalive;
    struct evdns_getaddrinfo_request *dns;

    unsigned long next_ping;
    struct ping pings[MAX_PINGS];
    int n_pings;
    unsigned long keepalive_ping; /* id of the outstanding keepalive ping, 0 if none */
};

struct xlink_ctx {
    struct event_base *base;
    struct evdns_base *dns;
    xmpp_ctx_t *ctx;
    xmpp_log_t logger;
    struct xlink *links;
};

/* xlink_conn.c: connecting, reconnecting, the conn and sockopt callbacks. */
void xlink_registry_add(struct xlink_ctx *xc);
void xlink_registry_remove(struct xlink_ctx *xc);
int xlink_reserve_low_fd(void);
void xlink_connect_now(struct xlink *l);
void xlink_conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error, xmpp_stream_error_t *se,
                        void *arg);
int xlink_sockopt_cb(xmpp_conn_t *conn, void *sock);
void xlink_retry_cb(evutil_socket_t fd, short what, void *arg);

/* Hands what xlink_send buffered to libstrophe (one queue entry, so one
 * write to the socket for the whole turn); xlink.c. */
void xlink_flush_out(struct xlink *l);

/* xlink_ping.c: XEP-0199 pings, keepalive, answers. */
void xlink_fail_pings(struct xlink *l);
void xlink_keepalive_cb(evutil_socket_t fd, short what, void *arg);
int xlink_handle_pong(struct xlink *l, xmpp_stanza_t *st);

/* xlink.c: event arming. */
void xlink_set_io(struct xlink *l, short flags);
void xlink_rearm(struct xlink *l);

#endif
