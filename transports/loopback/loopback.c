/* The loopback (echo) transport: the reference example for new drivers
 * and the transport the core's tests use.  A message to
 * anything@echo.example.org comes back from that JID with the same body.
 *
 * Test aids (the core's tests drive the inbound path through this driver):
 *   - a body "hex:48 02 ff" is echoed as those raw bytes, so tests can feed
 *     control characters and invalid UTF-8 as a foreign network would;
 *   - a body "big:N" is answered with N bytes of text (N <= 1 MiB), for
 *     large-stanza tests;
 *   - echo_delay_ms = N answers N ms later, from a timer, so a reply can
 *     be produced while the XMPP link is down (the durable inbound queue);
 *   - test_hold_fds = N opens N extra file descriptors each time the XMPP
 *     link goes down, as IRC and HTTP sockets opened during an outage would
 *     (exercises the low-fd reserve of DESIGN §3.3). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <fcntl.h>
#include <unistd.h>

#include "transport.h"

#define BIG_MAX (1024 * 1024)

struct delayed; /* an echo waiting for its timer (echo_delay_ms) */

struct loopback {
    const struct core_api *core;
    struct core_instance *ci;
    int *held; /* test_hold_fds */
    size_t n_held;
    struct delayed *pending;
};

struct delayed {
    struct delayed *next;
    struct loopback *lb;
    struct event *ev;
    char *user, *from_local, *body, *oob_url;
    size_t body_len;
    enum tr_msg_type type;
};

static const struct cfg_key loopback_keys[] = {
    {"prefix", CFG_STRING, 0, 0, 64, "", "text put before every echoed body"},
    {"echo_delay_ms", CFG_INT, 0, 0, 600000, "0", "answer this many milliseconds later"},
    {"test_hold_fds", CFG_INT, 0, 0, 10000, "0", "test aid: fds opened at each link outage"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct tr_reg_field loopback_fields[] = {
    {"nick", "Nickname", 0, 0},
    {NULL, NULL, 0, 0},
};

static int lb_create(const struct core_api *core, struct core_instance *ci, void **state, char *err,
                     size_t errlen)
{
    struct loopback *lb = calloc(1, sizeof(*lb));
    if (!lb) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    lb->core = core;
    lb->ci = ci;
    *state = lb;
    return 0;
}

static void delayed_free(struct delayed *d)
{
    if (d->ev)
        event_free(d->ev);
    free(d->user);
    free(d->from_local);
    free(d->body);
    free(d->oob_url);
    free(d);
}

static void lb_destroy(void *state)
{
    struct loopback *lb = state;
    if (!lb)
        return;
    /* Echoes still waiting were never acknowledged to anyone: dropping them
     * is what a real network's unsent replies would be. */
    while (lb->pending) {
        struct delayed *d = lb->pending;
        lb->pending = d->next;
        delayed_free(d);
    }
    for (size_t i = 0; i < lb->n_held; i++)
        close(lb->held[i]);
    free(lb->held);
    free(lb);
}

static void lb_link_state(void *state, int online)
{
    struct loopback *lb = state;
    long long n = lb->core->cfg_int(lb->ci, "test_hold_fds");
    if (online || n <= 0)
        return;
    int *held = realloc(lb->held, (lb->n_held + (size_t)n) * sizeof(int));
    if (!held)
        return;
    lb->held = held;
    for (long long i = 0; i < n; i++) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        lb->held[lb->n_held++] = fd;
    }
    lb->core->log(lb->ci, 2, "test_hold_fds: now holding %zu descriptors", lb->n_held);
}

static int lb_start(void *state)
{
    struct loopback *lb = state;
    lb->core->set_state(lb->ci, 1, "Echo service");
    return 0;
}

/* "hex:48 02 ff" -> raw bytes; returns length or -1. */
static long decode_hex(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        if (isspace((unsigned char)*s)) {
            s++;
            continue;
        }
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || n >= cap)
            return -1;
        char pair[3] = {s[0], s[1], 0};
        out[n++] = (char)strtol(pair, NULL, 16);
        s += 2;
    }
    return (long)n;
}

static void delayed_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct delayed *d = arg;
    struct loopback *lb = d->lb;
    struct tr_inbound in = {
        .user = d->user,
        .from_local = d->from_local,
        .body = d->body,
        .body_len = d->body_len,
        .oob_url = d->oob_url,
        .type = d->type,
    };
    if (lb->core->deliver(lb->ci, &in) != 0)
        lb->core->log(lb->ci, 0, "delayed echo could not be stored");
    for (struct delayed **pp = &lb->pending; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    delayed_free(d);
}

/* Queues an echo for later; returns 0 or -1 (out of memory). */
static int delay_echo(struct loopback *lb, const struct tr_inbound *in, long long ms)
{
    struct delayed *d = calloc(1, sizeof(*d));
    if (!d)
        return -1;
    d->lb = lb;
    d->type = in->type;
    d->body_len = in->body_len;
    d->user = strdup(in->user);
    d->from_local = strdup(in->from_local);
    d->body = malloc(in->body_len + 1);
    d->oob_url = in->oob_url ? strdup(in->oob_url) : NULL;
    d->ev = evtimer_new(lb->core->base(lb->ci), delayed_fire, d);
    /* A common timeout keeps equal delays in FIFO order (plain timers with
     * the same deadline may fire in any order): echoes stay in order. */
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    const struct timeval *common = event_base_init_common_timeout(lb->core->base(lb->ci), &tv);
    if (!d->user || !d->from_local || !d->body || (in->oob_url && !d->oob_url) || !d->ev ||
        !common || evtimer_add(d->ev, common) != 0) {
        delayed_free(d);
        return -1;
    }
    memcpy(d->body, in->body, in->body_len);
    d->next = lb->pending;
    lb->pending = d;
    return 0;
}

static int lb_send(void *state, const struct tr_msg *msg, struct tr_error *err)
{
    struct loopback *lb = state;
    const char *prefix = lb->core->cfg_str(lb->ci, "prefix");
    size_t plen = prefix ? strlen(prefix) : 0;
    size_t blen = strlen(msg->body);
    long big = strncmp(msg->body, "big:", 4) == 0 ? strtol(msg->body + 4, NULL, 10) : -1;
    if (big > BIG_MAX) {
        err->cond = TR_COND_NOT_ACCEPTABLE;
        snprintf(err->text, sizeof(err->text), "big: at most %d bytes.", BIG_MAX);
        return -1;
    }
    if (big > 0)
        blen = (size_t)big;
    char *text = malloc(plen + blen + 1);
    if (!text) {
        err->cond = TR_COND_RESOURCE_CONSTRAINT;
        snprintf(err->text, sizeof(err->text), "The gateway is out of memory.");
        return -1;
    }
    memcpy(text, prefix ? prefix : "", plen);
    long len;
    if (big > 0) {
        for (long i = 0; i < big; i++)
            text[plen + (size_t)i] = (char)('a' + i % 26);
        len = (long)plen + big;
    } else if (strncmp(msg->body, "hex:", 4) == 0) {
        len = decode_hex(msg->body + 4, text + plen, blen);
        if (len < 0) {
            free(text);
            err->cond = TR_COND_BAD_REQUEST;
            snprintf(err->text, sizeof(err->text), "hex: wants pairs of hex digits.");
            return -1;
        }
        len += (long)plen;
    } else {
        memcpy(text + plen, msg->body, blen);
        len = (long)(plen + blen);
    }
    struct tr_inbound in = {
        .user = msg->user,
        .from_local = msg->to_local,
        .body = text,
        .body_len = (size_t)len,
        .oob_url = msg->oob_url,
        .type = msg->type,
    };
    long long delay = lb->core->cfg_int(lb->ci, "echo_delay_ms");
    int rc = delay > 0 ? delay_echo(lb, &in, delay) : lb->core->deliver(lb->ci, &in);
    free(text);
    if (rc != 0) {
        err->cond = TR_COND_INTERNAL_SERVER_ERROR;
        snprintf(err->text, sizeof(err->text), "The gateway could not store the message.");
        return -1;
    }
    return 0;
}

static int lb_translate(void *state, const char *user, const char *prompt, char **local,
                        struct tr_error *err)
{
    (void)state, (void)user;
    /* Any non-empty name without surrounding spaces is a valid contact. */
    size_t len = strlen(prompt);
    if (len == 0 || isspace((unsigned char)prompt[0]) || isspace((unsigned char)prompt[len - 1])) {
        err->cond = TR_COND_NOT_ACCEPTABLE;
        snprintf(err->text, sizeof(err->text), "Names may not start or end with a space.");
        return -1;
    }
    *local = strdup(prompt);
    return *local ? 0 : -1;
}

const struct transport_ops loopback_transport = {
    .driver = "loopback",
    .gateway_type = "loopback",
    .description = "Echo gateway",
    .caps = TR_CAP_REGISTER | TR_CAP_GATEWAY,
    .keys = loopback_keys,
    .reg_fields = loopback_fields,
    .reg_instructions = "Optionally choose a nickname. The echo gateway needs no account.",
    .create = lb_create,
    .destroy = lb_destroy,
    .start = lb_start,
    .send = lb_send,
    .gateway_desc = "Enter any name to get an echo contact for it.",
    .gateway_prompt = "Name",
    .gateway_translate = lb_translate,
    .link_state = lb_link_state,
};
