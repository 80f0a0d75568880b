/* Held inbound messages: see router_hold.h. */
#include "router_hold.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "router.h"
#include "store.h"
#include "xlink.h"

struct held {
    struct held *next;
    uint64_t mseq;
    int64_t deadline_ms;
    size_t len;
    char xml[];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void arm(struct instance *in)
{
    if (!in->held) {
        event_del(in->ev_hold);
        return;
    }
    int64_t left = in->held->deadline_ms - mono_ms();
    if (left < 0)
        left = 0;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
    event_add(in->ev_hold, &tv);
}

int hold_send(struct instance *in, const char *xml, size_t len, int hold_ms)
{
    if (in->n_held >= HOLD_MAX)
        return FERRY_ETEMP;
    struct held *h = malloc(sizeof(*h) + len + 1);
    if (!h)
        return FERRY_ENOMEM;
    int rc = xlink_send_raw(in->link, xml, len);
    if (rc != 0) {
        free(h);
        return rc;
    }
    memcpy(h->xml, xml, len);
    h->xml[len] = '\0';
    h->len = len;
    h->next = NULL;
    h->mseq = ++in->held_last;
    h->deadline_ms = mono_ms() + hold_ms;
    if (in->held_tail)
        in->held_tail->next = h;
    else
        in->held = h;
    in->held_tail = h;
    if (in->n_held++ == 0)
        arm(in);
    return 0;
}

static void drop_head(struct instance *in)
{
    struct held *h = in->held;
    in->held = h->next;
    if (!in->held)
        in->held_tail = NULL;
    in->n_held--;
    free(h);
}

void hold_ack(struct instance *in, uint64_t mseq)
{
    int had = in->held != NULL;
    while (in->held && in->held->mseq <= mseq)
        drop_head(in);
    if (had)
        arm(in);
}

/* Stores held messages oldest first: all of them, or (expired_only) those
 * past their deadline.  They leave memory only once stored for good: when
 * this commits the rows itself, after the commit; inside the loop's group
 * (the caller's turn commits) at once.  What the store refuses stays held
 * (logged) and is tried again a second later. */
static void spill(struct instance *in, int expired_only)
{
    /* Online with nothing stored waiting: they are out on this link
     * already, and a ping behind the rows acknowledges them.  Otherwise
     * (offline, at shutdown) they are sent again after reconnect. */
    int sent = xlink_is_online(in->link) && in->queue_idle;
    int64_t now = mono_ms(), last = 0;
    int n = 0;
    int was = store_group_enter(in->f->store); /* one commit for the lot */
    struct held *h = in->held;
    for (; h && (!expired_only || h->deadline_ms <= now); h = h->next, n++) {
        int rc = store_in_push(in->f->store, in->name, NULL, h->xml, &last);
        if (rc != 0) {
            log_error(in->name, "could not store %zu unconfirmed messages: %s", in->n_held,
                      ferry_strerror(rc));
            break;
        }
    }
    store_group_leave(in->f->store, was);
    if (!was && n > 0 && store_group_commit(in->f->store) != 0) {
        log_error(in->name, "could not store %d unconfirmed messages", n);
        n = 0; /* rolled back: they stay held */
    }
    if (n > 0 && sent && last > in->sent_upto)
        in->sent_upto = last; /* out on this link already: a ping acknowledges them */
    for (int k = 0; k < n; k++)
        drop_head(in);
    if (in->held && in->held->deadline_ms <= now)
        in->held->deadline_ms = now + 1000; /* what failed: again in a second */
    if (n > 0) {
        log_debug(in->name, "%d messages not yet confirmed by the server written to the store", n);
        router_kick(in); /* a ping behind the stored rows */
    }
    arm(in);
}

void hold_spill(struct instance *in)
{
    spill(in, 0);
}

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct instance *in = arg;
    spill(in, 1);
}

int hold_init(struct instance *in)
{
    in->ev_hold = event_new(in->f->base, -1, 0, hold_cb, in);
    return in->ev_hold ? 0 : FERRY_ENOMEM;
}

void hold_free(struct instance *in)
{
    if (in->held && in->f->store)
        spill(in, 0);
    while (in->held)
        drop_head(in);
    if (in->ev_hold)
        event_free(in->ev_hold);
    in->ev_hold = NULL;
}
