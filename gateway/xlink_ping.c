/* XEP-0199 pings on a link: the keepalive, and the pings the router puts
 * behind a batch of stored stanzas (answered in order by the server). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "xlink_int.h"

void xlink_fail_pings(struct xlink *l)
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

void xlink_keepalive_cb(evutil_socket_t fd, short what, void *arg)
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
int xlink_handle_pong(struct xlink *l, xmpp_stanza_t *st)
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
