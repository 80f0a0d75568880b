/* XEP-0114 links on libevent; see xlink.h and DESIGN §3 for the why of
 * every odd step (priming, the two passes, the sentinel, the fd reserve).
 * This file: the context, link objects, event arming and the loop pump;
 * xlink_conn.c connects, xlink_ping.c pings. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "err.h"
#include "log.h"
#include "xlink_int.h"

static void strophe_log(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
    (void)ud;
    /* libstrophe's debug output holds whole stanzas (message bodies): only
     * with FERRY_TRACE_XML=1 and log level debug. */
    if (level == XMPP_LEVEL_DEBUG && !getenv("FERRY_TRACE_XML"))
        return;
    log_debug("libstrophe", "%s: %s", area, msg);
}

/* libstrophe formats every line it logs, "SENT: <all that was written>"
 * included, before it calls the handler; and every line of it goes to our
 * debug level.  So it gets the handler only while we log at debug level. */
static void sync_logger(struct xlink_ctx *xc)
{
    xc->logger.handler = log_get_level() >= LOG_DEBUG ? strophe_log : NULL;
}

/* Above this, the send buffer is freed after use rather than kept. */
#define OUT_KEEP (256 * 1024)

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct xlink *l = arg;
    if (what & EV_READ)
        l->got_read = 1; /* the pump after the loop does the work */
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

void xlink_set_io(struct xlink *l, short flags)
{
    if (flags == l->ev_flags)
        return;
    if (l->ev_flags)
        event_del(l->ev_io);
    l->ev_flags = 0;
    if (!flags || l->fd < 0)
        return;
    event_assign(l->ev_io, l->xc->base, l->fd, flags | EV_PERSIST, io_cb, l);
    if (event_add(l->ev_io, NULL) == 0)
        l->ev_flags = flags;
}

static int stanza_handler(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
    (void)conn;
    struct xlink *l = arg;
    if (l->phase != PH_ONLINE)
        return 1;
    if (!xlink_handle_pong(l, st) && l->cbs.stanza)
        l->cbs.stanza(l->arg, st);
    return 1;
}

struct xlink_ctx *xlink_ctx_new(struct event_base *base)
{
    struct xlink_ctx *xc = calloc(1, sizeof(*xc));
    if (!xc)
        return NULL;
    xc->base = base;
    sync_logger(xc);
    xc->logger.userdata = xc;
    xmpp_initialize();
    xc->ctx = xmpp_ctx_new(NULL, &xc->logger);
    xc->dns =
        evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!xc->dns) /* no resolv.conf: still usable with IP literals and /etc/hosts */
        xc->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (xc->dns)
        evdns_base_load_hosts(xc->dns, NULL);
    if (!xc->ctx || !xc->dns) {
        xlink_ctx_free(xc);
        return NULL;
    }
    xlink_registry_add(xc);
    return xc;
}

void xlink_ctx_free(struct xlink_ctx *xc)
{
    if (!xc)
        return;
    xlink_registry_remove(xc);
    if (xc->dns)
        evdns_base_free(xc->dns, 0);
    if (xc->ctx)
        xmpp_ctx_free(xc->ctx);
    xmpp_shutdown();
    free(xc);
}

xmpp_ctx_t *xlink_ctx_xmpp(struct xlink_ctx *xc)
{
    return xc->ctx;
}

struct evdns_base *xlink_ctx_dns(struct xlink_ctx *xc)
{
    return xc->dns;
}

void xlink_rearm(struct xlink *l)
{
    int connecting = xmpp_conn_is_connecting(l->conn);
    int connected = xmpp_conn_is_connected(l->conn);
    if (connected)
        l->tcp_up = 1;
    if (!(connecting || connected) || l->fd < 0) {
        xlink_set_io(l, 0);
        return;
    }
    short want = EV_READ;
    if (connecting || xmpp_conn_send_queue_len(l->conn) > 0)
        want |= EV_WRITE;
    xlink_set_io(l, want);
    if (l->phase != PH_ONLINE && !event_pending(l->ev_tick, EV_TIMEOUT, NULL)) {
        struct timeval tv = {0, 100000};
        event_add(l->ev_tick, &tv);
    }
}

void xlink_flush_out(struct xlink *l)
{
    if (!l->out_len)
        return;
    if (xmpp_conn_is_connected(l->conn)) {
        xmpp_send_raw(l->conn, l->out, l->out_len);
        l->sent = 1;
    }
    l->out_len = 0;
    if (l->out_cap > OUT_KEEP) { /* after a burst, give the memory back */
        free(l->out);
        l->out = NULL;
        l->out_cap = 0;
    }
}

void xlink_ctx_pump(struct xlink_ctx *xc)
{
    sync_logger(xc); /* (the level changes on SIGHUP) */
    for (struct xlink *l = xc->links; l; l = l->next)
        xlink_flush_out(l);
    xmpp_run_once(xc->ctx, 0);
    for (struct xlink *l = xc->links; l; l = l->next) {
        xlink_flush_out(l); /* what the stanza handlers answered */
        if (l->sent && xmpp_conn_is_connected(l->conn)) {
            /* Zero-length sentinel: keeps send_queue_len above 0 until the
             * partly written tail before it is out (DESIGN §3.3). */
            xmpp_send_raw(l->conn, "", 0);
            l->sent = 0;
        }
    }
    xmpp_run_once(xc->ctx, 0);
    for (struct xlink *l = xc->links; l; l = l->next) {
        /* (libstrophe's own select() may also have read data that came
         * after our wakeup, so not only when the read event fired.) */
        if (l->fd >= 0 && (l->got_read || l->phase == PH_ONLINE)) {
            /* ACK what we just read at once.  A server with Nagle on (the
             * Prosody default) holds its next stanza until our ACK of its
             * previous one; with nothing of ours to piggyback on, the
             * delayed ACK cost 40 ms per round trip.  Not sticky, so it is
             * set after each read. */
            int one = 1;
            setsockopt(l->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        }
        l->got_read = 0;
        xlink_flush_out(l);
        xlink_rearm(l);
    }
}

int xlink_ctx_busy(struct xlink_ctx *xc)
{
    for (struct xlink *l = xc->links; l; l = l->next)
        if (xmpp_conn_is_connecting(l->conn) ||
            (xmpp_conn_is_connected(l->conn) &&
             (l->out_len > 0 || xmpp_conn_send_queue_len(l->conn) > 0)))
            return 1;
    return 0;
}

static char *parent_domain(const char *domain)
{
    const char *dot = strchr(domain, '.');
    return strdup(dot && dot[1] ? dot + 1 : domain);
}

struct xlink *xlink_new(struct xlink_ctx *xc, const struct xlink_params *p,
                        const struct xlink_cbs *cbs, void *arg)
{
    struct xlink *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->xc = xc;
    l->fd = -1;
    l->reserve_fd = xlink_reserve_low_fd();
    l->scope = strdup(p->scope);
    l->domain = strdup(p->domain);
    l->host = strdup(p->host);
    l->secret = strdup(p->secret);
    l->ping_to = parent_domain(p->domain);
    l->port = p->port;
    l->keepalive = p->keepalive;
    l->rmin = p->reconnect_min;
    l->rmax = p->reconnect_max;
    l->sndbuf = p->sndbuf;
    l->cbs = *cbs;
    l->arg = arg;
    l->conn = xmpp_conn_new(xc->ctx);
    l->ev_io = event_new(xc->base, -1, 0, io_cb, l);
    l->ev_tick = event_new(xc->base, -1, 0, tick_cb, l);
    l->ev_retry = event_new(xc->base, -1, 0, xlink_retry_cb, l);
    l->ev_keepalive = event_new(xc->base, -1, EV_PERSIST, xlink_keepalive_cb, l);
    l->next = xc->links;
    xc->links = l;
    if (!l->scope || !l->domain || !l->host || !l->secret || !l->ping_to || !l->conn || !l->ev_io ||
        !l->ev_tick || !l->ev_retry || !l->ev_keepalive) {
        xlink_free(l);
        return NULL;
    }
    xmpp_conn_set_jid(l->conn, l->domain);
    xmpp_conn_set_pass(l->conn, l->secret);
    if (xlink_prime(l->conn) != 0) {
        log_error(l->scope, "xmpp: libstrophe priming failed (DESIGN §3.1); refusing to run");
        xlink_free(l);
        return NULL;
    }
    xmpp_handler_add(l->conn, stanza_handler, NULL, NULL, NULL, l);
    return l;
}

void xlink_free(struct xlink *l)
{
    if (!l)
        return;
    l->stopping = 1;
    for (struct xlink **pp = &l->xc->links; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    if (l->dns)
        evdns_getaddrinfo_cancel(l->dns);
    xlink_set_io(l, 0);
    if (l->conn) {
        if (xmpp_conn_is_connecting(l->conn) || xmpp_conn_is_connected(l->conn))
            xmpp_disconnect(l->conn);
        xmpp_conn_release(l->conn);
    }
    xlink_fail_pings(l); /* lets owners free what they attached to pings */
    if (l->ev_io)
        event_free(l->ev_io);
    if (l->ev_tick)
        event_free(l->ev_tick);
    if (l->ev_retry)
        event_free(l->ev_retry);
    if (l->ev_keepalive)
        event_free(l->ev_keepalive);
    if (l->reserve_fd >= 0)
        close(l->reserve_fd);
    if (l->secret)
        memset(l->secret, 0, strlen(l->secret));
    free(l->scope);
    free(l->domain);
    free(l->host);
    free(l->secret);
    free(l->ping_to);
    free(l->out);
    free(l);
}

void xlink_start(struct xlink *l)
{
    l->stopping = 0;
    if (l->phase == PH_STOPPED)
        l->phase = PH_IDLE;
    xlink_connect_now(l);
}

void xlink_stop(struct xlink *l)
{
    l->stopping = 1;
    event_del(l->ev_retry);
    event_del(l->ev_keepalive);
    if (l->dns) {
        evdns_getaddrinfo_cancel(l->dns);
        l->dns = NULL;
    }
    xlink_flush_out(l);
    if (xmpp_conn_is_connecting(l->conn) || xmpp_conn_is_connected(l->conn))
        xmpp_disconnect(l->conn);
    else
        l->phase = PH_STOPPED;
}

void xlink_update(struct xlink *l, int keepalive, int reconnect_min, int reconnect_max)
{
    l->rmin = reconnect_min;
    l->rmax = reconnect_max;
    if (keepalive != l->keepalive) {
        l->keepalive = keepalive;
        if (l->phase == PH_ONLINE) {
            struct timeval tv = {keepalive, 0};
            event_del(l->ev_keepalive);
            event_add(l->ev_keepalive, &tv);
        }
    }
}

int xlink_is_online(const struct xlink *l)
{
    return l && l->phase == PH_ONLINE;
}

int xlink_is_closed(const struct xlink *l)
{
    return !l || l->phase == PH_STOPPED || (l->stopping && l->phase == PH_IDLE);
}

const char *xlink_domain(const struct xlink *l)
{
    return l->domain;
}

int xlink_send_raw(struct xlink *l, const char *xml, size_t len)
{
    if (l->phase != PH_ONLINE || !xmpp_conn_is_connected(l->conn))
        return FERRY_ESTATE;
    /* Kept NUL-terminated: libstrophe's xmpp_send_raw reads the data as
     * a string too (strlen), not only len bytes. */
    if (l->out_len + len + 1 > l->out_cap) {
        size_t cap = l->out_cap ? l->out_cap : 4096;
        while (cap < l->out_len + len + 1)
            cap *= 2;
        char *p = realloc(l->out, cap);
        if (!p)
            return FERRY_ENOMEM;
        l->out = p;
        l->out_cap = cap;
    }
    memcpy(l->out + l->out_len, xml, len);
    l->out_len += len;
    l->out[l->out_len] = '\0';
    return 0;
}

int xlink_send(struct xlink *l, xmpp_stanza_t *st)
{
    if (l->phase != PH_ONLINE || !xmpp_conn_is_connected(l->conn))
        return FERRY_ESTATE;
    if (!xmpp_stanza_get_from(st))
        xmpp_stanza_set_from(st, l->domain);
    char *buf = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(st, &buf, &len) != 0)
        return FERRY_ENOMEM;
    int rc = xlink_send_raw(l, buf, len);
    xmpp_free(l->xc->ctx, buf);
    return rc;
}
