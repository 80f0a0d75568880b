/* Daemon lifecycle: start-up, the loop, reload on SIGHUP, clean shutdown on
 * SIGTERM/SIGINT. */
#include "ferry.h"

#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "httpc.h"
#include "log.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "transport_reg.h"
#include "webhook.h"
#include "xlink.h"

#define SHUTDOWN_GRACE_MS 1500
/* Dedupe keys and delivery-report correlations are kept this long: far
 * beyond any provider's webhook retry window or DLR delay. */
#define PRUNE_AFTER_S (14 * 24 * 3600)
#define PRUNE_EVERY_S 3600

static void inst_online(void *arg)
{
    router_on_online(arg);
}

static void inst_offline(void *arg)
{
    router_on_offline(arg);
}

static void inst_stanza(void *arg, xmpp_stanza_t *st)
{
    router_on_stanza(arg, st);
}

int ferry_all_online(const struct ferry *f)
{
    for (size_t i = 0; i < f->n_inst; i++)
        if (!xlink_is_online(f->inst[i].link))
            return 0;
    return f->n_inst > 0;
}

static void healthz(struct evhttp_request *req, void *arg)
{
    struct ferry *f = arg;
    char body[4096];
    int ok = ferry_all_online(f);
    size_t off =
        (size_t)snprintf(body, sizeof(body), "{\"status\":\"%s\",\"version\":\"%s\",\"links\":[",
                         ok ? "online" : "offline", FERRY_VERSION);
    for (size_t i = 0; i < f->n_inst && off < sizeof(body) - 200; i++)
        off += (size_t)snprintf(body + off, sizeof(body) - off,
                                "%s{\"instance\":\"%s\",\"domain\":\"%s\",\"online\":%s}",
                                i ? "," : "", f->inst[i].name, f->inst[i].domain,
                                xlink_is_online(f->inst[i].link) ? "true" : "false");
    snprintf(body + off, sizeof(body) - off, "]}\n");
    http_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "application/json", body);
}

static void begin_shutdown(struct ferry *f, const char *why)
{
    if (f->ev_exit && event_pending(f->ev_exit, EV_TIMEOUT, NULL))
        return; /* already shutting down */
    log_info(NULL, "%s: shutting down", why);
    for (size_t i = 0; i < f->n_inst; i++) {
        transport_stop(&f->inst[i]);
        services_shutdown(&f->inst[i]);
        xlink_stop(f->inst[i].link);
    }
    struct timeval tv = {SHUTDOWN_GRACE_MS / 1000, (SHUTDOWN_GRACE_MS % 1000) * 1000};
    event_add(f->ev_exit, &tv);
    f->exit_code = 0;
}

static void exit_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct ferry *f = arg;
    log_warn(NULL, "links did not close in time; exiting anyway");
    f->running = 0;
}

static void prune_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct ferry *f = arg;
    if (store_prune(f->store, (int64_t)time(NULL) - PRUNE_AFTER_S) != 0)
        log_warn(NULL, "store: pruning old dedupe keys failed");
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct ferry *f = arg;
    if (sig == SIGHUP)
        ferry_reload(f);
    else
        begin_shutdown(f, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

int ferry_reload(struct ferry *f)
{
    char err[1024];
    struct config *nc = NULL;
    int rc = config_load(f->config_path, &nc, err, sizeof(err));
    if (rc) {
        log_error(NULL, "reload failed, keeping the running configuration: %s", err);
        return rc;
    }
    struct config *old = f->cfg;
    /* Settings that need a restart keep their running values; say so. */
    int restart = strcmp(old->xmpp_host, nc->xmpp_host) || old->xmpp_port != nc->xmpp_port ||
                  strcmp(old->store_path, nc->store_path) ||
                  old->http_enabled != nc->http_enabled || old->http_port != nc->http_port ||
                  strcmp(old->http_address, nc->http_address) || old->n_inst != nc->n_inst;
    for (size_t i = 0; !restart && i < nc->n_inst; i++)
        restart = strcmp(old->inst[i].domain, nc->inst[i].domain) ||
                  strcmp(old->inst[i].driver, nc->inst[i].driver) ||
                  strcmp(old->inst[i].secret, nc->inst[i].secret) ||
                  strcmp(old->inst[i].name, nc->inst[i].name);
    if (restart)
        log_warn(NULL, "reload: changes to the XMPP server, store, HTTP listener or the list of "
                       "transports take effect only after a restart");
    log_set_level((enum log_level)nc->log_level);
    for (size_t i = 0; i < f->n_inst; i++)
        xlink_update(f->inst[i].link, nc->keepalive, nc->reconnect_min, nc->reconnect_max);
    f->cfg = nc;
    config_free(old);
    log_info(NULL, "configuration reloaded from %s (log level %s)", f->config_path,
             log_level_name(log_get_level()));
    log_debug(NULL, "debug logging is on");
    return 0;
}

static int init_instance(struct ferry *f, struct instance *in, const struct inst_config *ic)
{
    char err[512] = "";
    in->f = f;
    in->ops = ic->ops;
    in->name = strdup(ic->name);
    in->domain = strdup(ic->domain);
    in->description = ic->description ? strdup(ic->description) : NULL;
    if (!in->name || !in->domain || cfgv_copy(&ic->vals, &in->vals) != 0 ||
        router_instance_init(in) != 0)
        return FERRY_ENOMEM;
    if (transport_create(in, err, sizeof(err)) != 0) {
        log_error(ic->name, "cannot start the %s transport: %s", ic->driver, err);
        return FERRY_ECONFIG;
    }
    struct xlink_params p = {
        .scope = in->name,
        .domain = in->domain,
        .host = f->cfg->xmpp_host,
        .port = f->cfg->xmpp_port,
        .secret = ic->secret,
        .keepalive = f->cfg->keepalive,
        .reconnect_min = f->cfg->reconnect_min,
        .reconnect_max = f->cfg->reconnect_max,
        .sndbuf = f->cfg->socket_sndbuf,
    };
    struct xlink_cbs cbs = {inst_online, inst_offline, inst_stanza};
    in->link = xlink_new(f->xc, &p, &cbs, in);
    if (!in->link)
        return FERRY_ENOMEM;
    return webhook_register(in);
}

static void free_instance(struct instance *in)
{
    xlink_free(in->link);
    in->link = NULL;
    transport_destroy(in);
    router_instance_free(in);
    services_instance_free(in);
    cfgv_clear(&in->vals);
    free(in->name);
    free(in->domain);
    free(in->description);
}

int ferry_start(struct ferry *f, const char *config_path)
{
    char err[1024];
    memset(f, 0, sizeof(*f));
    f->config_path = config_path;
    int rc = config_load(config_path, &f->cfg, err, sizeof(err));
    if (rc) {
        log_error(NULL, "%s", err);
        return rc;
    }
    log_set_level((enum log_level)f->cfg->log_level);
    signal(SIGPIPE, SIG_IGN); /* libstrophe sends without MSG_NOSIGNAL */
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());

    if ((rc = store_open(f->cfg->store_path, &f->store, err, sizeof(err)))) {
        log_error(NULL, "store: %s", err);
        return rc;
    }
    if (!f->cfg->store_full_sync && store_set_full_sync(f->store, 0) != 0)
        log_warn(NULL, "store: could not switch to synchronous=NORMAL");
    f->base = event_base_new();
    if (!f->base)
        return FERRY_ENOMEM;
    f->ev_term = evsignal_new(f->base, SIGTERM, signal_cb, f);
    f->ev_int = evsignal_new(f->base, SIGINT, signal_cb, f);
    f->ev_hup = evsignal_new(f->base, SIGHUP, signal_cb, f);
    f->ev_exit = evtimer_new(f->base, exit_cb, f);
    f->ev_prune = event_new(f->base, -1, EV_PERSIST, prune_cb, f);
    if (!f->ev_term || !f->ev_int || !f->ev_hup || !f->ev_exit || !f->ev_prune)
        return FERRY_ENOMEM;
    struct timeval prune_tv = {PRUNE_EVERY_S, 0};
    event_add(f->ev_prune, &prune_tv);
    prune_cb(-1, 0, f);
    /* The signal events also keep the base from ever running empty. */
    event_add(f->ev_term, NULL);
    event_add(f->ev_int, NULL);
    event_add(f->ev_hup, NULL);
    f->xc = xlink_ctx_new(f->base);
    if (!f->xc)
        return FERRY_ENOMEM;
    if (f->cfg->http_enabled) {
        rc = http_start(f->base, f->cfg->http_address, f->cfg->http_port, &f->http, err,
                        sizeof(err));
        if (rc) {
            log_error(NULL, "http: %s (set http.address/http.port, or http.enabled = false)", err);
            return rc;
        }
        http_route(f->http, "/healthz", healthz, f);
        log_info(NULL, "http: listening on %s:%d", f->cfg->http_address, f->cfg->http_port);
    }
    f->httpc = httpc_new(f->base);
    if (!f->httpc)
        return FERRY_ENOMEM;
    f->inst = calloc(f->cfg->n_inst, sizeof(*f->inst));
    if (!f->inst)
        return FERRY_ENOMEM;
    for (size_t i = 0; i < f->cfg->n_inst; i++, f->n_inst++)
        if ((rc = init_instance(f, &f->inst[i], &f->cfg->inst[i]))) {
            f->n_inst++;
            return rc;
        }
    for (size_t i = 0; i < f->n_inst; i++) {
        struct instance *in = &f->inst[i];
        if ((rc = transport_start(in))) {
            log_error(in->name, "transport failed to start: %s", ferry_strerror(rc));
            return rc;
        }
        xlink_start(in->link);
    }
    log_info(NULL, "Ferry %s started with %zu transport%s", FERRY_VERSION, f->n_inst,
             f->n_inst == 1 ? "" : "s");
    f->running = 1;
    return 0;
}

static int all_closed(struct ferry *f)
{
    for (size_t i = 0; i < f->n_inst; i++)
        if (!xlink_is_closed(f->inst[i].link) || transport_busy(&f->inst[i]))
            return 0;
    return 1;
}

void ferry_run(struct ferry *f)
{
    int stopping = 0;
    while (f->running) {
        event_base_loop(f->base, EVLOOP_ONCE);
        xlink_ctx_pump(f->xc);
        /* One commit for what this turn stored in the group (IRC lines,
         * acknowledgements); never left open while the loop waits. */
        if (store_group_commit(f->store) != FERRY_OK)
            log_error(NULL, "store: messages read from IRC in this turn could not be stored");
        if (!stopping && event_pending(f->ev_exit, EV_TIMEOUT, NULL))
            stopping = 1;
        if (stopping && all_closed(f))
            f->running = 0;
    }
}

void ferry_stop(struct ferry *f)
{
    /* Outgoing requests first: their callbacks must not reach transports
     * that are being destroyed (transports free their own request state). */
    httpc_free(f->httpc);
    f->httpc = NULL;
    for (size_t i = 0; i < f->n_inst; i++)
        free_instance(&f->inst[i]);
    free(f->inst);
    f->inst = NULL;
    f->n_inst = 0;
    http_free(f->http);
    xlink_ctx_free(f->xc);
    if (f->ev_term)
        event_free(f->ev_term);
    if (f->ev_int)
        event_free(f->ev_int);
    if (f->ev_hup)
        event_free(f->ev_hup);
    if (f->ev_exit)
        event_free(f->ev_exit);
    if (f->ev_prune)
        event_free(f->ev_prune);
    if (f->base)
        event_base_free(f->base);
    store_free(f->store);
    config_free(f->cfg);
    memset(f, 0, sizeof(*f));
}
