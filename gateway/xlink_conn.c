/* Connecting and reconnecting a link: DNS, the fd reserve and FD_SETSIZE
 * guard, priming, libstrophe's conn and sockopt callbacks, backoff. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "xlink_int.h"

/* libstrophe's sockopt callback has no user pointer: find the link by its
 * conn among all links of all contexts. */
static struct xlink_ctx *all_ctx[4];

void xlink_registry_add(struct xlink_ctx *xc)
{
    for (size_t i = 0; i < sizeof(all_ctx) / sizeof(all_ctx[0]); i++)
        if (!all_ctx[i]) {
            all_ctx[i] = xc;
            return;
        }
}

void xlink_registry_remove(struct xlink_ctx *xc)
{
    for (size_t i = 0; i < sizeof(all_ctx) / sizeof(all_ctx[0]); i++)
        if (all_ctx[i] == xc)
            all_ctx[i] = NULL;
}

static void schedule_reconnect(struct xlink *l, const char *why);

static struct xlink *link_of(xmpp_conn_t *conn)
{
    for (size_t i = 0; i < sizeof(all_ctx) / sizeof(all_ctx[0]); i++)
        for (struct xlink *l = all_ctx[i] ? all_ctx[i]->links : NULL; l; l = l->next)
            if (l->conn == conn)
                return l;
    return NULL;
}

int xlink_reserve_low_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd;
}

static const char *stream_error_name(xmpp_error_type_t t)
{
    switch (t) {
    case XMPP_SE_NOT_AUTHORIZED:
        return "not-authorized";
    case XMPP_SE_CONFLICT:
        return "conflict";
    case XMPP_SE_HOST_UNKNOWN:
        return "host-unknown";
    case XMPP_SE_SYSTEM_SHUTDOWN:
        return "system-shutdown";
    case XMPP_SE_XML_NOT_WELL_FORMED:
        return "xml-not-well-formed";
    case XMPP_SE_POLICY_VIOLATION:
        return "policy-violation";
    case XMPP_SE_CONN_TIMEOUT:
        return "connection-timeout";
    case XMPP_SE_INVALID_FROM:
        return "invalid-from";
    case XMPP_SE_IMPROPER_ADDR:
        return "improper-addressing";
    default:
        return "stream error";
    }
}

void xlink_conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error, xmpp_stream_error_t *se,
                        void *arg)
{
    (void)conn;
    struct xlink *l = arg;
    if (ev == XMPP_CONN_CONNECT) {
        l->phase = PH_ONLINE;
        l->attempts = 0;
        log_info(l->scope, "xmpp: online as %s (server %s:%d)", l->domain, l->host, l->port);
        struct timeval tv = {l->keepalive, 0};
        event_add(l->ev_keepalive, &tv);
        if (l->cbs.online)
            l->cbs.online(l->arg);
        return;
    }
    if (ev != XMPP_CONN_DISCONNECT && ev != XMPP_CONN_FAIL)
        return;
    /* The socket is closed already: drop its events before anything can
     * reuse the fd number, then take a low fd back for the next connect. */
    xlink_set_io(l, 0);
    l->fd = -1;
    l->out_len = 0; /* like libstrophe's queue: gone with the stream */
    if (l->reserve_fd < 0)
        l->reserve_fd = xlink_reserve_low_fd();
    event_del(l->ev_keepalive);
    event_del(l->ev_tick);
    int was_online = l->phase == PH_ONLINE;
    l->phase = l->stopping ? PH_STOPPED : PH_IDLE;
    xlink_fail_pings(l);
    if (was_online && l->cbs.offline)
        l->cbs.offline(l->arg);
    if (l->stopping) {
        log_info(l->scope, "xmpp: link closed");
        return;
    }
    char why[256];
    if (se) {
        const char *name = stream_error_name(se->type);
        if (se->type == XMPP_SE_NOT_AUTHORIZED)
            snprintf(why, sizeof(why),
                     "the server rejected the component secret for %s (not-authorized); check "
                     "the secret in Ferry's config and the server's component declaration",
                     l->domain);
        else if (se->type == XMPP_SE_CONFLICT)
            snprintf(why, sizeof(why), "another component is already connected as %s (conflict)",
                     l->domain);
        else if (se->type == XMPP_SE_HOST_UNKNOWN)
            snprintf(why, sizeof(why),
                     "the server does not know the component %s (host-unknown); declare it in "
                     "the server's config",
                     l->domain);
        else
            snprintf(why, sizeof(why), "the server closed the stream (%s%s%s)", name,
                     se->text ? ": " : "", se->text ? se->text : "");
    } else if (was_online) {
        snprintf(why, sizeof(why), "link to %s:%d lost (%s)", l->ip, l->port,
                 error == 104 || error == 0 ? "closed by the server" : strerror(error));
    } else if (!l->tcp_up) {
        snprintf(why, sizeof(why), "cannot connect to %s:%d (connection refused or unreachable)",
                 l->ip, l->port);
    } else {
        snprintf(why, sizeof(why),
                 "the server closed the connection during the handshake for %s (is the "
                 "component declared with this secret?)",
                 l->domain);
    }
    schedule_reconnect(l, why);
}

int xlink_sockopt_cb(xmpp_conn_t *conn, void *sock)
{
    struct xlink *l = link_of(conn);
    int fd = *(int *)sock;
    /* select() inside libstrophe aborts on fd >= FD_SETSIZE: fail this
     * connect cleanly instead; it is retried with backoff. */
    if (!l || fd >= FD_SETSIZE) {
        if (l)
            log_warn(l->scope, "xmpp: socket got fd %d >= %d; retrying later", fd, FD_SETSIZE);
        return -1;
    }
    l->fd = fd;
    /* libstrophe makes one send() per stanza: without TCP_NODELAY, Nagle
     * holds every second small stanza until the server's delayed ACK
     * (measured: a ping answered 40 ms late). */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        log_warn(l->scope, "xmpp: cannot set TCP_NODELAY: %s", strerror(errno));
    if (l->sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &l->sndbuf, sizeof(l->sndbuf)) != 0)
        log_warn(l->scope, "xmpp: cannot set SO_SNDBUF to %d: %s", l->sndbuf, strerror(errno));
    return xmpp_sockopt_cb_keepalive(conn, sock);
}

static int prime_sockopt_cb(xmpp_conn_t *conn, void *sock)
{
    (void)conn, (void)sock;
    return -1;
}

static void prime_handler(xmpp_conn_t *c, xmpp_conn_event_t e, int err, xmpp_stream_error_t *se,
                          void *a)
{
    (void)c, (void)e, (void)err, (void)se, (void)a;
}

int xlink_prime(xmpp_conn_t *conn)
{
    xmpp_conn_set_sockopt_callback(conn, prime_sockopt_cb);
    int rc = xmpp_connect_client(conn, "127.0.0.1", 1, prime_handler, NULL);
    xmpp_conn_set_sockopt_callback(conn, xlink_sockopt_cb);
    return rc == XMPP_EINT ? 0 : FERRY_ESTATE;
}

void xlink_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    xlink_connect_now(arg);
}

static void schedule_reconnect(struct xlink *l, const char *why)
{
    if (l->stopping)
        return;
    long min_ms = (long)l->rmin * 1000, max_ms = (long)l->rmax * 1000, base_ms = min_ms;
    for (int i = 0; i < l->attempts && base_ms < max_ms; i++)
        base_ms *= 2;
    /* Jitter upwards (never below reconnect_min); at the cap, downwards by
     * up to a quarter, so many gateways do not retry in lockstep. */
    long delay_ms = base_ms + (long)((unsigned long)random() % (unsigned long)(base_ms / 2 + 1));
    if (delay_ms > max_ms) {
        delay_ms = max_ms - (long)((unsigned long)random() % (unsigned long)(max_ms / 4 + 1));
        if (delay_ms < min_ms)
            delay_ms = min_ms;
    }
    l->attempts++;
    log_warn(l->scope, "xmpp: %s; retrying in %.1f s", why, delay_ms / 1000.0);
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    event_add(l->ev_retry, &tv);
}

static void start_connect(struct xlink *l)
{
    l->tcp_up = 0;
    l->fd = -1;
    if (l->reserve_fd >= 0) {
        close(l->reserve_fd);
        l->reserve_fd = -1;
    }
    l->phase = PH_CONNECTING;
    int rc = xmpp_connect_component(l->conn, l->ip, (unsigned short)l->port, xlink_conn_handler, l);
    if (rc != 0) {
        l->fd = -1;
        l->phase = PH_IDLE;
        if (l->reserve_fd < 0)
            l->reserve_fd = xlink_reserve_low_fd();
        char why[160];
        snprintf(why, sizeof(why), "cannot connect to %s:%d (libstrophe error %d)", l->ip, l->port,
                 rc);
        schedule_reconnect(l, why);
        return;
    }
    xlink_rearm(l); /* arm the write event now: connect completion is a write */
}

static void dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    struct xlink *l = arg;
    l->dns = NULL;
    if (result == EVUTIL_EAI_CANCEL)
        return;
    if (result != 0 || !res) {
        char why[300];
        snprintf(why, sizeof(why), "cannot resolve %s: %s", l->host, evutil_gai_strerror(result));
        l->phase = PH_IDLE;
        schedule_reconnect(l, why);
        return;
    }
    const void *addr = res->ai_family == AF_INET6
                           ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
                           : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
    evutil_inet_ntop(res->ai_family, addr, l->ip, sizeof(l->ip));
    evutil_freeaddrinfo(res);
    start_connect(l);
}

void xlink_connect_now(struct xlink *l)
{
    if (l->stopping || l->phase != PH_IDLE)
        return;
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, l->host, &a4) == 1 || inet_pton(AF_INET6, l->host, &a6) == 1) {
        snprintf(l->ip, sizeof(l->ip), "%s", l->host);
        start_connect(l);
        return;
    }
    struct evutil_addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    l->phase = PH_RESOLVING;
    l->dns = evdns_getaddrinfo(l->xc->dns, l->host, NULL, &hints, dns_cb, l);
}
