/* One IRC connection per (user, server): TCP or TLS on a bufferevent, DNS
 * through evdns, registration (CAP LS 302, SASL PLAIN/EXTERNAL, PASS,
 * NICK/USER), a token bucket for everything the user sends, PING keepalive,
 * and reconnect with backoff (rooms are rejoined by irc_event.c). */
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "irc.h"
#include "irc_line.h"
#include "store.h"

#define PING_EVERY_S 90
#define DEAD_AFTER_S 240
#define RETRY_MAX_S 60

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a line now, bypassing flood control (registration, PONG). */
void irc_write_now(struct irc_conn *c, const char *line)
{
    if (!c->bev)
        return;
    bufferevent_write(c->bev, line, strlen(line));
    bufferevent_write(c->bev, "\r\n", 2);
}

void irc_cmd_now(struct irc_conn *c, const char *command, size_t n, const char *const *params)
{
    char line[IRC_OUT_MAX + 1];
    if (irc_build(line, sizeof(line), command, n, params) > 0 && c->bev)
        bufferevent_write(c->bev, line, strlen(line));
}

/* Writes the oldest line flood control holds. */
static void write_queued(struct irc_conn *c)
{
    char *line = c->queue[c->qhead];
    c->qhead = (c->qhead + 1) % c->qcap;
    c->qlen--;
    irc_write_now(c, line);
    free(line);
}

static void flush_queue(struct irc_conn *c)
{
    if (c->state != IC_READY || !c->bev)
        return;
    int64_t now = now_ms();
    double burst = c->t->flood_burst;
    c->tokens += (double)(now - c->refill_ms) / c->t->flood_interval_ms;
    if (c->tokens > burst)
        c->tokens = burst;
    c->refill_ms = now;
    while (c->qlen && c->tokens >= 1.0) {
        write_queued(c);
        c->tokens -= 1.0;
    }
    if (c->qlen) {
        long wait = (long)((1.0 - c->tokens) * c->t->flood_interval_ms) + 1;
        struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
        evtimer_add(c->ev_flood, &tv);
    }
}

static void flood_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    flush_queue(arg);
}

int irc_conn_send(struct irc_conn *c, const char *line)
{
    if (c->qlen >= (size_t)c->t->queue_max)
        return -1;
    if (c->qlen == c->qcap) {
        size_t cap = c->qcap ? c->qcap * 2 : 16;
        char **q = malloc(cap * sizeof(*q));
        if (!q)
            return -1;
        for (size_t i = 0; i < c->qlen; i++)
            q[i] = c->queue[(c->qhead + i) % c->qcap];
        free(c->queue);
        c->queue = q;
        c->qhead = 0;
        c->qcap = cap;
    }
    char *dup = strdup(line);
    if (!dup)
        return -1;
    size_t len = strlen(dup);
    while (len && (dup[len - 1] == '\n' || dup[len - 1] == '\r'))
        dup[--len] = 0;
    c->queue[(c->qhead + c->qlen) % c->qcap] = dup;
    c->qlen++;
    flush_queue(c);
    return 0;
}

int irc_conn_cmd(struct irc_conn *c, const char *command, size_t n, const char *const *params)
{
    char line[IRC_OUT_MAX + 1];
    if (irc_build(line, sizeof(line), command, n, params) <= 0)
        return -2; /* CR/LF/NUL or too long: never sent */
    return irc_conn_send(c, line);
}

/* ---- Channels --------------------------------------------------------------- */

static int name_eq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

struct irc_chan *irc_chan_find(struct irc_conn *c, const char *name)
{
    for (struct irc_chan *ch = c->chans; ch; ch = ch->next)
        if (name_eq(ch->name, name))
            return ch;
    return NULL;
}

struct irc_chan *irc_chan_add(struct irc_conn *c, const char *name, const char *key)
{
    struct irc_chan *ch = calloc(1, sizeof(*ch));
    if (!ch || !(ch->name = irc_lower_dup(name))) {
        free(ch);
        return NULL;
    }
    ch->key = key ? strdup(key) : NULL;
    ch->next = c->chans;
    c->chans = ch;
    return ch;
}

void irc_chan_free(struct irc_chan *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n_res; i++)
        free(ch->res[i]);
    free(ch->res);
    irc_members_clear(ch);
    for (size_t i = 0; i < ch->n_echo; i++)
        free(ch->pending_echo[i]);
    free(ch->pending_echo);
    free(ch->topic);
    free(ch->key);
    free(ch->name);
    free(ch);
}

void irc_chan_remove(struct irc_conn *c, struct irc_chan *ch)
{
    for (struct irc_chan **pp = &c->chans; *pp; pp = &(*pp)->next)
        if (*pp == ch) {
            *pp = ch->next;
            break;
        }
    irc_chan_free(ch);
}

int irc_is_channel(const struct irc_conn *c, const char *name)
{
    return name && *name && strchr(c->chantypes, name[0]) != NULL;
}

/* ---- Connecting --------------------------------------------------------------- */

static void conn_close(struct irc_conn *c, const char *reason, int retry);
static void read_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

static void schedule_retry(struct irc_conn *c)
{
    int delay = 1;
    for (int i = 0; i < c->attempts && delay < RETRY_MAX_S; i++)
        delay *= 2;
    if (delay > RETRY_MAX_S)
        delay = RETRY_MAX_S;
    c->attempts++;
    struct timeval tv = {delay, (long)(random() % 500000)};
    evtimer_add(c->ev_retry, &tv);
}

static void start(struct irc_conn *c)
{
    struct irc *t = c->t;
    struct event_base *base = t->core->base(t->ci);
    const char *host = c->srv->host ? c->srv->host : c->srv->name;
    if (c->srv->tls) {
        SSL *ssl = SSL_new(c->srv->ssl);
        if (!ssl) {
            conn_close(c, "cannot set up TLS", 1);
            return;
        }
        SSL_set_tlsext_host_name(ssl, host);
        if (!c->srv->insecure) {
            X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
            if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1)
                SSL_set1_host(ssl, host);
        }
        c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                BEV_OPT_CLOSE_ON_FREE);
    } else {
        c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!c->bev) {
        conn_close(c, "out of memory", 1);
        return;
    }
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->state = IC_CONNECTING;
    irc_log(t, 3, "connecting to %s:%d (%s)", host, c->srv->port, c->srv->tls ? "TLS" : "plain");
    if (bufferevent_socket_connect_hostname(c->bev, t->core->dns(t->ci), AF_UNSPEC, host,
                                            c->srv->port) != 0)
        conn_close(c, "cannot connect", 1);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    start(arg);
}

/* The certificate's SHA-256 fingerprint must equal the configured pin
 * (hex, colons allowed). */
static int pin_ok(struct irc_conn *c)
{
    if (!c->srv->pin)
        return 1;
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int ok = 0;
    if (cert && X509_digest(cert, EVP_sha256(), md, &n) == 1) {
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        for (unsigned i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        char want[2 * EVP_MAX_MD_SIZE + 1];
        size_t w = 0;
        for (const char *p = c->srv->pin; *p && w < sizeof(want) - 1; p++)
            if (*p != ':')
                want[w++] = (char)tolower((unsigned char)*p);
        want[w] = 0;
        ok = strcmp(hex, want) == 0;
    }
    X509_free(cert);
    return ok;
}

static void registration(struct irc_conn *c)
{
    c->state = IC_REGISTERING;
    c->last_rx_ms = now_ms();
    irc_write_now(c, "CAP LS 302");
    if (c->pass) {
        const char *p[] = {c->pass};
        irc_cmd_now(c, "PASS", 1, p);
    }
    const char *nick[] = {c->nick};
    irc_cmd_now(c, "NICK", 1, nick);
    char user[64];
    snprintf(user, sizeof(user), "%.9s", c->nick);
    for (char *p = user; *p; p++)
        if (!isalnum((unsigned char)*p))
            *p = 'x';
    const char *u[] = {user, "0", "*", c->t->realname};
    irc_cmd_now(c, "USER", 4, u);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct irc_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (c->srv->tls && !pin_ok(c)) {
            conn_close(c, "the server's certificate does not match the configured pin", 0);
            return;
        }
        registration(c);
        return;
    }
    char reason[256];
    if (what & BEV_EVENT_ERROR) {
        unsigned long e = c->srv->tls ? bufferevent_get_openssl_error(c->bev) : 0;
        int dns = bufferevent_socket_get_dns_error(c->bev);
        if (e)
            snprintf(reason, sizeof(reason), "TLS failed: %s",
                     ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "handshake error");
        else if (dns)
            snprintf(reason, sizeof(reason), "cannot resolve the server: %s",
                     evutil_gai_strerror(dns));
        else
            snprintf(reason, sizeof(reason), "%s",
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    } else {
        snprintf(reason, sizeof(reason), "the server closed the connection");
    }
    conn_close(c, reason, 1);
}

/* Over-long lines are dropped (and logged) without stalling the reader. */
static void read_lines(struct bufferevent *bev, struct irc_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t len = 0;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
        if (!line) {
            if (evbuffer_get_length(in) > IRC_LINE_MAX + 2) {
                irc_log(c->t, 1, "dropping an over-long line from %s", c->server);
                evbuffer_drain(in, evbuffer_get_length(in));
                c->skipping = 1;
            }
            return;
        }
        c->last_rx_ms = now_ms();
        int skip = c->skipping;
        c->skipping = 0;
        struct irc_msg m;
        if (!skip && len <= IRC_LINE_MAX && irc_parse(line, len, &m) == 0) {
            if (!irc_conn_registration(c, &m))
                irc_event(c, &m);
            irc_msg_clear(&m);
        } else if (!skip && len > IRC_LINE_MAX) {
            irc_log(c->t, 1, "dropping an over-long line from %s", c->server);
        }
        free(line);
        if (!c->bev) /* closed by the event */
            return;
    }
}

/* What the lines of a read store joins the group the daemon commits once
 * per turn of its loop: IRC acknowledges nothing, so nothing is promised
 * before that commit. */
static void read_cb(struct bufferevent *bev, void *arg)
{
    struct irc_conn *c = arg;
    struct store *st = c->t->core->store(c->t->ci);
    int was = store_group_enter(st);
    read_lines(bev, c);
    store_group_leave(st, was);
}

static void ping_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct irc_conn *c = arg;
    if (!c->bev)
        return;
    int64_t idle = (now_ms() - c->last_rx_ms) / 1000;
    if (idle >= DEAD_AFTER_S) {
        conn_close(c, "no answer from the server", 1);
        return;
    }
    if (idle >= PING_EVERY_S) {
        const char *p[] = {"ferry"};
        irc_cmd_now(c, "PING", 1, p);
    }
}

static void drained_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    irc_conn_free(arg); /* the QUIT is out */
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct irc_conn *c = arg;
    if (c->quitting) {
        irc_conn_free(c); /* the QUIT did not drain in time */
        return;
    }
    for (struct irc_chan *ch = c->chans; ch; ch = ch->next)
        if (ch->n_res)
            return; /* someone came back */
    if (!c->bev || c->state != IC_READY) {
        c->quitting = 1;
        irc_conn_free(c);
        return;
    }
    irc_conn_quit_now(c, "Leaving");
}

void irc_conn_quit_now(struct irc_conn *c, const char *text)
{
    if (c->quitting || !c->bev || c->state != IC_READY)
        return; /* (the rest is closed when the transport is freed) */
    c->quitting = 1;
    c->draining = 1;
    /* What the user sent and flood control still holds goes first: it was
     * accepted, and the connection is ending anyway. */
    while (c->qlen)
        write_queued(c);
    /* Socket bufferevents write later: free once QUIT has left (or after
     * two seconds), so the server sees a QUIT and not a dropped link. */
    const char *p[] = {text};
    irc_cmd_now(c, "QUIT", 1, p);
    bufferevent_setcb(c->bev, NULL, drained_cb, event_cb, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    struct timeval tv = {2, 0};
    evtimer_add(c->ev_grace, &tv);
}

void irc_conn_quit_later(struct irc_conn *c)
{
    if (c->t->quit_grace <= 0)
        return; /* kept as a bouncer */
    struct timeval tv = {c->t->quit_grace, 0};
    evtimer_add(c->ev_grace, &tv);
}

void irc_conn_close(struct irc_conn *c, const char *reason, int retry)
{
    conn_close(c, reason, retry);
}

static void conn_close(struct irc_conn *c, const char *reason, int retry)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    int wanted = 0;
    for (struct irc_chan *ch = c->chans; ch; ch = ch->next)
        wanted |= ch->n_res > 0;
    /* Never registered: the joins fail with the reason (the user may try
     * again); after a drop the rooms are kept and the link comes back. */
    int will_retry = retry && wanted && !c->quitting && c->was_ready;
    c->state = IC_IDLE;
    irc_log(c->t, 2, "connection to %s closed: %s%s", c->server, reason,
            will_retry ? "; reconnecting" : "");
    irc_event_down(c, reason, will_retry);
    if (will_retry) {
        schedule_retry(c);
    } else {
        /* Freed from the loop, never from under a caller (this may run in
         * the connection's own read callback). */
        struct timeval now = {0, 0};
        evtimer_add(c->ev_grace, &now);
    }
}

struct irc_conn *irc_conn_get(struct irc *t, const char *user, const char *server, int create,
                              const char *nick, struct tr_error *err)
{
    struct irc_conn *found = irc_conn_lookup(t, user, server);
    if (found || !create)
        return found;
    struct irc_server *srv = irc_server_find(t, server);
    if (!srv) {
        err->cond = TR_COND_NOT_ALLOWED;
        snprintf(err->text, sizeof(err->text),
                 "This gateway does not connect to %s; ask its operator.", server);
        return NULL;
    }
    struct irc_conn *c = calloc(1, sizeof(*c));
    struct event_base *base = t->core->base(t->ci);
    if (!c)
        return NULL;
    c->t = t;
    c->srv = srv;
    c->user = strdup(user);
    c->server = strdup(server);
    /* The user's own settings (XEP-0077) win over the server's; a
     * registered nickname wins over the nick of the first join. */
    struct irc_user_settings us;
    irc_user_settings(t, user, server, &us);
    c->nick = strdup(us.nick ? us.nick : nick);
    c->pass = us.password ? us.password : (srv->password ? strdup(srv->password) : NULL);
    c->sasl_user = us.sasl_user ? us.sasl_user : (srv->sasl_user ? strdup(srv->sasl_user) : NULL);
    c->sasl_password =
        us.sasl_user ? us.sasl_password : (srv->sasl_password ? strdup(srv->sasl_password) : NULL);
    if (!us.sasl_user)
        free(us.sasl_password);
    free(us.nick);
    snprintf(c->chantypes, sizeof(c->chantypes), "#&");
    c->tokens = t->flood_burst;
    c->refill_ms = now_ms();
    c->ev_flood = evtimer_new(base, flood_cb, c);
    c->ev_retry = evtimer_new(base, retry_cb, c);
    c->ev_ping = event_new(base, -1, EV_PERSIST, ping_cb, c);
    c->ev_grace = evtimer_new(base, grace_cb, c);
    if (!c->user || !c->server || !c->nick || !c->ev_flood || !c->ev_retry || !c->ev_ping ||
        !c->ev_grace || irc_conn_index_add(t, c) != 0) {
        irc_conn_free(c);
        return NULL;
    }
    struct timeval tv = {30, 0};
    event_add(c->ev_ping, &tv);
    c->next = t->conns;
    t->conns = c;
    start(c);
    return c;
}

void irc_conn_free(struct irc_conn *c)
{
    if (!c)
        return;
    struct irc *t = c->t;
    for (struct irc_conn **pp = &t->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    irc_conn_index_del(t, c);
    if (c->bev) {
        bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);
        bufferevent_free(c->bev);
    }
    if (c->ev_flood)
        event_free(c->ev_flood);
    if (c->ev_retry)
        event_free(c->ev_retry);
    if (c->ev_ping)
        event_free(c->ev_ping);
    if (c->ev_grace)
        event_free(c->ev_grace);
    for (size_t i = 0; i < c->qlen; i++)
        free(c->queue[(c->qhead + i) % c->qcap]);
    free(c->queue);
    while (c->chans) {
        struct irc_chan *ch = c->chans;
        c->chans = ch->next;
        irc_chan_free(ch);
    }
    if (c->n_lists) {
        struct tr_error e = {TR_COND_SERVICE_UNAVAILABLE, "The IRC connection was closed."};
        irc_lists_answer(c, &e);
    }
    free(c->pass);
    free(c->sasl_user);
    if (c->sasl_password)
        OPENSSL_cleanse(c->sasl_password, strlen(c->sasl_password));
    free(c->sasl_password);
    free(c->last_query_nick);
    free(c->last_query_id);
    free(c->last_query_user);
    free(c->user);
    free(c->server);
    free(c->nick);
    free(c);
}
