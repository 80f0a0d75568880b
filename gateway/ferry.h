/* The daemon's context: one struct ferry passed down explicitly, and one
 * struct instance per configured transport instance. */
#ifndef FERRY_FERRY_H
#define FERRY_FERRY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "transport.h"

struct event_base;
struct event;
struct store;
struct xlink_ctx;
struct xlink;
struct http;
struct httpc;

/* One transport instance = one component domain = one XMPP link.  This is
 * the struct core_instance that transports hold (opaque to them). */
struct instance {
    struct ferry *f;
    const struct transport_ops *ops;
    void *state; /* the driver's */
    char *name, *domain, *description;
    struct cfg_values vals; /* instance settings (own copy) */
    struct xlink *link;

    /* Inbound queue flushing (router.c). */
    int64_t sent_upto;   /* highest seq sent on the current link session */
    int64_t acked_upto;  /* highest seq the server confirmed */
    int64_t pinged_upto; /* highest seq a ping has been sent behind */
    int queue_idle;      /* nothing stored is waiting: new stanzas go out at once */
    struct event *ev_flush;
    /* Sent but only in memory until confirmed (router_hold.c). */
    struct held *held, *held_tail;
    size_t n_held;
    uint64_t held_last;   /* sequence of the last message held */
    uint64_t held_pinged; /* the last one a ping has been sent behind */
    struct event *ev_hold;

    /* Services (services.c): users whose presence the gateway receives. */
    char **present;
    size_t n_present, cap_present;
    int transport_up;  /* set by the transport through core_api.set_state */
    char *status_text; /* presence status shown with the gateway contact */
};

struct ferry {
    struct event_base *base;
    struct config *cfg; /* current configuration (immutable; replaced on reload) */
    const char *config_path;
    struct store *store;
    struct xlink_ctx *xc;
    struct http *http;
    struct httpc *httpc; /* outgoing HTTP (libcurl multi) */
    struct instance *inst;
    size_t n_inst;
    struct event *ev_term, *ev_int, *ev_hup, *ev_exit, *ev_prune;
    int running;
    int exit_code;
};

/* daemon.c */
int ferry_start(struct ferry *f, const char *config_path);
void ferry_run(struct ferry *f);
void ferry_stop(struct ferry *f); /* frees everything started */
int ferry_reload(struct ferry *f);
/* Nonzero when every instance's link is online. */
int ferry_all_online(const struct ferry *f);

#endif
