/* XEP-0114 links on libevent; see xlink.h and DESIGN §3 for the why of
 * every odd step here (priming, the two passes, the sentinel, the fd
 * reserve). */
#include "xlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

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
    int tcp_up;     /* TCP connect completed in this attempt */
    int attempts;   /* failed attempts since last online */
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

/* libstrophe's sockopt callback has no user pointer: find the link by its
 * conn among all links of all contexts. */
static struct xlink_ctx *all_ctx[4];

static struct xlink *link_of(xmpp_conn_t *conn)
{
    for (size_t i = 0; i < sizeof(all_ctx) / sizeof(all_ctx[0]); i++)
        for (struct xlink *l = all_ctx[i] ? all_ctx[i]->links : NULL; l; l = l->next)
            if (l->conn == conn)
                return l;
    return NULL;
}

static void strophe_log(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
    (void)ud;
    /* libstrophe's debug output holds whole stanzas (message bodies): only
     * with FERRY_TRACE_XML=1 and log level debug. */
    if (level == XMPP_LEVEL_DEBUG && !getenv("FERRY_TRACE_XML"))
        return;
    log_debug("libstrophe", "%s: %s", area, msg);
}

static void schedule_reconnect(struct xlink *l, const char *why);
static void rearm(struct xlink *l);
static void connect_now(struct xlink *l);

static int reserve_low_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd;
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg; /* the pump after the loop does the work */
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

static void set_io(struct xlink *l, short flags)
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

static void fail_pings(struct xlink *l)
{
    int n = l->n_pings;
    struct ping copy[MAX_PINGS];
    memcpy(copy, l->pings, sizeof(copy));
    l->n_pings = 0;
    l->keepalive_ping = 0;
    for (int i = 0; i < n; i++)
        if (copy[i].cb)
            copy[i].cb(copy[i].arg, 0);
}

static int send_ping(struct xlink *l, unsigned long *id_out)
{
    if (l->phase != PH_ONLINE || l->n_pings >= MAX_PINGS)
        return FERRY_ESTATE;
    char id[48];
    unsigned long id_num = ++l->next_ping;
    snprintf(id, sizeof(id), PING_PREFIX "%lu", id_num);
    xmpp_stanza_t *iq = xmpp_iq_new(l->xc->ctx, "get", id);
    xmpp_stanza_t *ping = xmpp_stanza_new(l->xc->ctx);
    if (!iq || !ping) {
        xmpp_stanza_release(iq);
        xmpp_stanza_release(ping);
        return FERRY_ENOMEM;
    }
    xmpp_stanza_set_name(ping, "ping");
    xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
    xmpp_stanza_add_child(iq, ping);
    xmpp_stanza_release(ping);
    xmpp_stanza_set_to(iq, l->ping_to);
    int rc = xlink_send(l, iq);
    xmpp_stanza_release(iq);
    if (rc == 0)
        *id_out = id_num;
    return rc;
}

int xlink_ping(struct xlink *l, void (*cb)(void *arg, int ok), void *arg)
{
    unsigned long id;
    int rc = send_ping(l, &id);
    if (rc)
        return rc;
    l->pings[l->n_pings++] = (struct ping){id, cb, arg};
    return 0;
}

static void keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct xlink *l = arg;
    if (l->phase != PH_ONLINE)
        return;
    if (l->keepalive_ping) {
        log_warn(l->scope, "xmpp: no answer to a keepalive ping in %d s; dropping the link",
                 l->keepalive);
        xmpp_disconnect(l->conn);
        return;
    }
    unsigned long id;
    if (send_ping(l, &id) == 0) {
        l->pings[l->n_pings++] = (struct ping){id, NULL, NULL};
        l->keepalive_ping = id;
    }
}

/* Consumes answers to our pings; returns 1 when the stanza was one. */
static int handle_pong(struct xlink *l, xmpp_stanza_t *st)
{
    const char *name = xmpp_stanza_get_name(st), *id = xmpp_stanza_get_id(st);
    const char *type = xmpp_stanza_get_type(st);
    if (!name || strcmp(name, "iq") != 0 || !id || !type ||
        (strcmp(type, "result") != 0 && strcmp(type, "error") != 0) ||
        strncmp(id, PING_PREFIX, strlen(PING_PREFIX)) != 0)
        return 0;
    unsigned long num = strtoul(id + strlen(PING_PREFIX), NULL, 10);
    /* The server answers in order: every ping up to this one is answered
     * too (an error answer also proves the stream was processed). */
    int k = 0;
    while (k < l->n_pings && l->pings[k].id <= num)
        k++;
    struct ping done[MAX_PINGS];
    memcpy(done, l->pings, sizeof(struct ping) * (size_t)k);
    memmove(l->pings, l->pings + k, sizeof(struct ping) * (size_t)(l->n_pings - k));
    l->n_pings -= k;
    if (l->keepalive_ping && l->keepalive_ping <= num)
        l->keepalive_ping = 0;
    for (int i = 0; i < k; i++)
        if (done[i].cb)
            done[i].cb(done[i].arg, 1);
    return 1;
}

static int stanza_handler(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
    (void)conn;
    struct xlink *l = arg;
    if (l->phase != PH_ONLINE)
        return 1;
    if (!handle_pong(l, st) && l->cbs.stanza)
        l->cbs.stanza(l->arg, st);
    return 1;
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

static void conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
                         xmpp_stream_error_t *se, void *arg)
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
    set_io(l, 0);
    l->fd = -1;
    if (l->reserve_fd < 0)
        l->reserve_fd = reserve_low_fd();
    event_del(l->ev_keepalive);
    event_del(l->ev_tick);
    int was_online = l->phase == PH_ONLINE;
    l->phase = l->stopping ? PH_STOPPED : PH_IDLE;
    fail_pings(l);
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

static int sockopt_cb(xmpp_conn_t *conn, void *sock)
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
    xmpp_conn_set_sockopt_callback(conn, sockopt_cb);
    return rc == XMPP_EINT ? 0 : FERRY_ESTATE;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    connect_now(arg);
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
    int rc = xmpp_connect_component(l->conn, l->ip, (unsigned short)l->port, conn_handler, l);
    if (rc != 0) {
        l->fd = -1;
        l->phase = PH_IDLE;
        if (l->reserve_fd < 0)
            l->reserve_fd = reserve_low_fd();
        char why[160];
        snprintf(why, sizeof(why), "cannot connect to %s:%d (libstrophe error %d)", l->ip, l->port,
                 rc);
        schedule_reconnect(l, why);
        return;
    }
    rearm(l); /* arm the write event now: connect completion is a write */
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

static void connect_now(struct xlink *l)
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

struct xlink_ctx *xlink_ctx_new(struct event_base *base)
{
    struct xlink_ctx *xc = calloc(1, sizeof(*xc));
    if (!xc)
        return NULL;
    xc->base = base;
    xc->logger.handler = strophe_log;
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
    for (size_t i = 0; i < sizeof(all_ctx) / sizeof(all_ctx[0]); i++)
        if (!all_ctx[i]) {
            all_ctx[i] = xc;
            break;
        }
    return xc;
}

void xlink_ctx_free(struct xlink_ctx *xc)
{
    if (!xc)
        return;
    for (size_t i = 0; i < sizeof(all_ctx) / sizeof(all_ctx[0]); i++)
        if (all_ctx[i] == xc)
            all_ctx[i] = NULL;
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

static void rearm(struct xlink *l)
{
    int connecting = xmpp_conn_is_connecting(l->conn);
    int connected = xmpp_conn_is_connected(l->conn);
    if (connected)
        l->tcp_up = 1;
    if (!(connecting || connected) || l->fd < 0) {
        set_io(l, 0);
        return;
    }
    short want = EV_READ;
    if (connecting || xmpp_conn_send_queue_len(l->conn) > 0)
        want |= EV_WRITE;
    set_io(l, want);
    if (l->phase != PH_ONLINE && !event_pending(l->ev_tick, EV_TIMEOUT, NULL)) {
        struct timeval tv = {0, 100000};
        event_add(l->ev_tick, &tv);
    }
}

void xlink_ctx_pump(struct xlink_ctx *xc)
{
    xmpp_run_once(xc->ctx, 0);
    for (struct xlink *l = xc->links; l; l = l->next) {
        if (l->sent && xmpp_conn_is_connected(l->conn)) {
            /* Zero-length sentinel: keeps send_queue_len above 0 until the
             * partly written tail before it is out (DESIGN §3.3). */
            xmpp_send_raw(l->conn, "", 0);
            l->sent = 0;
        }
    }
    xmpp_run_once(xc->ctx, 0);
    for (struct xlink *l = xc->links; l; l = l->next)
        rearm(l);
}

int xlink_ctx_busy(struct xlink_ctx *xc)
{
    for (struct xlink *l = xc->links; l; l = l->next)
        if (xmpp_conn_is_connecting(l->conn) ||
            (xmpp_conn_is_connected(l->conn) && xmpp_conn_send_queue_len(l->conn) > 0))
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
    l->reserve_fd = reserve_low_fd();
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
    l->ev_retry = event_new(xc->base, -1, 0, retry_cb, l);
    l->ev_keepalive = event_new(xc->base, -1, EV_PERSIST, keepalive_cb, l);
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
    set_io(l, 0);
    if (l->conn) {
        if (xmpp_conn_is_connecting(l->conn) || xmpp_conn_is_connected(l->conn))
            xmpp_disconnect(l->conn);
        xmpp_conn_release(l->conn);
    }
    fail_pings(l); /* lets owners free what they attached to pings */
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
    free(l);
}

void xlink_start(struct xlink *l)
{
    l->stopping = 0;
    if (l->phase == PH_STOPPED)
        l->phase = PH_IDLE;
    connect_now(l);
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

int xlink_send(struct xlink *l, xmpp_stanza_t *st)
{
    if (l->phase != PH_ONLINE || !xmpp_conn_is_connected(l->conn))
        return FERRY_ESTATE;
    if (!xmpp_stanza_get_from(st))
        xmpp_stanza_set_from(st, l->domain);
    xmpp_send(l->conn, st);
    l->sent = 1;
    return 0;
}
