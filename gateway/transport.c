/* The registry of built-in drivers and the only file that calls through
 * struct transport_ops (like OpenSMTPD's table.c). */
#include "transport_reg.h"

#include <stdio.h>
#include <string.h>

#include "core_api.h"
#include "err.h"
#include "ferry.h"

extern const struct transport_ops loopback_transport, sms_transport, irc_transport;

static const struct transport_ops *const drivers[] = {
    &loopback_transport,
    &sms_transport,
    &irc_transport,
    NULL,
};

const struct transport_ops *transport_find(const char *driver)
{
    for (size_t i = 0; driver && drivers[i]; i++)
        if (strcmp(drivers[i]->driver, driver) == 0)
            return drivers[i];
    return NULL;
}

const char *transport_names(void)
{
    static char buf[256];
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; drivers[i] && off < sizeof(buf); i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ", " : "",
                                drivers[i]->driver);
    return buf;
}

int transport_create(struct instance *in, char *err, size_t errlen)
{
    return in->ops->create(&core_api, (struct core_instance *)in, &in->state, err, errlen);
}

void transport_destroy(struct instance *in)
{
    if (in->ops && in->state)
        in->ops->destroy(in->state);
    in->state = NULL;
}

int transport_start(struct instance *in)
{
    return in->ops->start ? in->ops->start(in->state) : 0;
}

void transport_stop(struct instance *in)
{
    if (in->ops->stop && in->state)
        in->ops->stop(in->state);
}

int transport_busy(struct instance *in)
{
    return in->ops->busy && in->state ? in->ops->busy(in->state) : 0;
}

int transport_send(struct instance *in, const struct tr_msg *msg, struct tr_error *err)
{
    if (!in->ops->send) {
        err->cond = TR_COND_SERVICE_UNAVAILABLE;
        snprintf(err->text, sizeof(err->text), "This gateway does not send messages.");
        return -1;
    }
    return in->ops->send(in->state, msg, err);
}

int transport_reg_check(struct instance *in, const char *user, const char *const *vars,
                        char **values, size_t n, struct tr_error *err)
{
    return in->ops->reg_check ? in->ops->reg_check(in->state, user, vars, values, n, err) : 0;
}

void transport_reg_changed(struct instance *in, const char *user, int removed)
{
    if (in->ops->reg_changed)
        in->ops->reg_changed(in->state, user, removed);
}

int transport_gateway_translate(struct instance *in, const char *user, const char *prompt,
                                char **local, struct tr_error *err)
{
    if (!in->ops->gateway_translate) {
        err->cond = TR_COND_SERVICE_UNAVAILABLE;
        return -1;
    }
    return in->ops->gateway_translate(in->state, user, prompt, local, err);
}

void transport_link_state(struct instance *in, int online)
{
    if (in->ops->link_state && in->state)
        in->ops->link_state(in->state, online);
}

void transport_webhook(struct instance *in, const struct tr_webhook_req *req,
                       struct tr_webhook_resp *resp)
{
    if (in->ops->webhook && in->state)
        in->ops->webhook(in->state, req, resp);
}

int transport_config_check(const struct transport_ops *ops, struct instance *tmp, char *err,
                           size_t errlen)
{
    return ops->config_check
               ? ops->config_check(&core_api, (struct core_instance *)tmp, err, errlen)
               : 0;
}

unsigned transport_caps(struct instance *in)
{
    return in->ops->caps_of && in->state ? in->ops->caps_of(in->state) : in->ops->caps;
}

int transport_reg_options(struct instance *in, const char *user, const char *var, char ***opts,
                          size_t *n)
{
    *opts = NULL;
    *n = 0;
    return in->ops->reg_options ? in->ops->reg_options(in->state, user, var, opts, n) : 0;
}

void transport_presence(struct instance *in, const struct tr_presence_in *p)
{
    if (in->ops->presence && in->state)
        in->ops->presence(in->state, p);
}

int transport_disco_items(struct instance *in, struct tr_disco *req, const char *user,
                          const char *to_local)
{
    return in->ops->disco_items && in->state ? in->ops->disco_items(in->state, req, user, to_local)
                                             : -1;
}

int transport_is_room(struct instance *in, const char *to_local)
{
    return in->ops->is_room && in->state ? in->ops->is_room(in->state, to_local) : 0;
}
