/* The registry of built-in transport drivers, and the named wrappers that
 * are the only callers of struct transport_ops (gateway/transport.c). */
#ifndef FERRY_TRANSPORT_REG_H
#define FERRY_TRANSPORT_REG_H

#include <stddef.h>

#include "transport.h"

/* The driver registered under name, or NULL. */
const struct transport_ops *transport_find(const char *driver);
/* Comma-separated list of driver names (static buffer), for messages. */
const char *transport_names(void);

struct instance;

int transport_create(struct instance *in, char *err, size_t errlen);
void transport_destroy(struct instance *in);
int transport_start(struct instance *in);
void transport_stop(struct instance *in);
/* ops->busy: still sending goodbyes after stop. */
int transport_busy(struct instance *in);
int transport_send(struct instance *in, const struct tr_msg *msg, struct tr_error *err);
int transport_reg_check(struct instance *in, const char *user, const char *const *vars,
                        char **values, size_t n, struct tr_error *err);
void transport_reg_changed(struct instance *in, const char *user, int removed);
int transport_gateway_translate(struct instance *in, const char *user, const char *prompt,
                                char **local, struct tr_error *err);
void transport_link_state(struct instance *in, int online);
void transport_presence(struct instance *in, const struct tr_presence_in *p);
int transport_disco_items(struct instance *in, struct tr_disco *req, const char *user,
                          const char *to_local);
unsigned transport_caps(struct instance *in);
int transport_is_room(struct instance *in, const char *to_local);
/* Options for a registration field; see transport_ops.reg_options. */
int transport_reg_options(struct instance *in, const char *user, const char *var, char ***opts,
                          size_t *n);
void transport_webhook(struct instance *in, const struct tr_webhook_req *req,
                       struct tr_webhook_resp *resp);
int transport_config_check(const struct transport_ops *ops, struct instance *tmp, char *err,
                           size_t errlen);

#endif
