/* The parsed, validated, immutable configuration.  A reload parses a new
 * one and swaps it in; the old one is freed when nothing uses it. */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include <stddef.h>

#include "cfgkeys.h"

struct transport_ops;

struct inst_config {
    const struct transport_ops *ops;
    char *driver, *domain, *name, *description;
    char *secret;           /* from the instance, or xmpp.secret / secret_file */
    struct cfg_values vals; /* driver-specific keys (and the common ones) */
    int line;
};

struct config {
    char *path;
    /* xmpp */
    char *xmpp_host;
    int xmpp_port;
    int keepalive;     /* seconds */
    int reconnect_min; /* seconds */
    int reconnect_max; /* seconds */
    int socket_sndbuf; /* bytes, 0: system default */
    /* store */
    char *store_path;
    int store_full_sync; /* store.sync = "full" (1) or "normal" (0) */
    /* log */
    int log_level; /* enum log_level */
    /* http */
    int http_enabled;
    char *http_address;
    int http_port;
    /* access */
    int access_open;
    char **allow_domains; /* lowercased */
    size_t n_allow;
    /* transports */
    struct inst_config *inst;
    size_t n_inst;
};

/* Parses and validates path.  On failure returns FERRY_ECONFIG (or
 * FERRY_ENOMEM) and writes "FILE:LINE: key: reason" into err. */
int config_load(const char *path, struct config **out, char *err, size_t errlen);
void config_free(struct config *cfg); /* accepts NULL */

/* Nonzero when a user with this bare JID may use the gateway. */
int config_user_allowed(const struct config *cfg, const char *user_jid);

#endif
