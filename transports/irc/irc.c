/* IRC transport: the instance, its settings, and the XMPP side: room joins
 * and leaves (presence), messages to rooms, to IRC users and to the server
 * JID (raw lines).  See irc.h for the map of the other files. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc.h"
#include "irc_addr.h"
#include "irc_line.h"
#include "irc_split.h"

static const struct cfg_key server_keys[] = {
    {"name", CFG_STRING, 1, 1, 255, NULL, "server name as used in JIDs"},
    {"host", CFG_STRING, 0, 1, 255, NULL, "address to connect to (default: name)"},
    {"port", CFG_INT, 0, 0, 65535, "0", "port (0: 6697, or 6667 with plaintext)"},
    {"plaintext", CFG_BOOL, 0, 0, 0, "false", "no TLS at all (explicit opt-in)"},
    {"insecure", CFG_BOOL, 0, 0, 0, "false", "TLS without certificate checks"},
    {"ca_file", CFG_STRING, 0, 1, 4096, NULL, "CA certificates to trust (default: the system's)"},
    {"pin", CFG_STRING, 0, 1, 128, NULL, "SHA-256 fingerprint the certificate must have"},
    {"cert_file", CFG_STRING, 0, 1, 4096, NULL, "client certificate (SASL EXTERNAL, CertFP)"},
    {"key_file", CFG_STRING, 0, 1, 4096, NULL, "its private key"},
    {"password", CFG_STRING, 0, 1, 256, NULL, "server password (PASS)"},
    {"sasl_user", CFG_STRING, 0, 1, 128, NULL, "SASL PLAIN account"},
    {"sasl_password", CFG_STRING, 0, 1, 256, NULL, "SASL PLAIN password"},
    {"sasl_external", CFG_BOOL, 0, 0, 0, "false", "SASL EXTERNAL with cert_file"},
    {"encoding", CFG_STRING, 0, 1, 16, "latin1", "for text that is not UTF-8: latin1|cp1252"},
    {"after_connect", CFG_STRLIST, 0, 0, 0, NULL, "raw lines sent after registration"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct cfg_key irc_keys[] = {
    {"servers", CFG_GROUPLIST, 1, 0, 0, NULL, "IRC servers users may reach", server_keys},
    {"fixed_server", CFG_STRING, 0, 1, 255, NULL, "single-network mode: #chan@domain"},
    {"realname", CFG_STRING, 0, 1, 128, "Ferry user", "IRC real name"},
    {"flood_burst", CFG_INT, 0, 1, 1000, "10", "lines sent at once before throttling"},
    {"flood_interval_ms", CFG_INT, 0, 10, 60000, "1000", "then one line per this long"},
    {"queue_max", CFG_INT, 0, 1, 100000, "200", "lines waiting per connection"},
    {"quit_grace", CFG_INT, 0, 0, 86400, "30", "seconds before QUIT when unused (0: never)"},
    {"hold_ms", CFG_INT, 0, 0, 10000, "1000",
     "ms a message from IRC may wait unconfirmed by the XMPP server before it is stored "
     "(0: store every message first)"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void irc_log(struct irc *t, int level, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    t->core->log(t->ci, level, "%s", buf);
}

struct irc_server *irc_server_find(struct irc *t, const char *name)
{
    for (size_t i = 0; i < t->n_servers; i++)
        if (strcasecmp(t->servers[i].name, name) == 0)
            return &t->servers[i];
    return NULL;
}

static const struct tr_reg_field irc_fields[] = {
    {"nick", "IRC nickname (used on every server)", 0, 0},
    {"password", "Server password (PASS)", 0, 1},
    {"sasl_user", "SASL account", 0, 0},
    {"sasl_password", "SASL password", 0, 1},
    {NULL, NULL, 0, 0},
};

/* The same four settings for one server, through the server JID's
 * "configure" command (core->settings_get). */
static const struct tr_reg_field server_settings[] = {
    {"nick", "IRC nickname on this server", 0, 0},
    {"password", "Server password (PASS)", 0, 1},
    {"sasl_user", "SASL account", 0, 0},
    {"sasl_password", "SASL password", 0, 1},
    {NULL, NULL, 0, 0},
};

static const struct tr_reg_field *irc_contact_settings(void *state, const char *to_local)
{
    struct irc *t = state;
    struct irc_addr a;
    if (irc_addr_parse(to_local, t->fixed_server, "#&", &a) != 0)
        return NULL;
    int server = a.kind == IRC_ADDR_SERVER && irc_server_find(t, a.server);
    irc_addr_clear(&a);
    return server ? server_settings : NULL;
}

/* Overlays the JSON settings text on out (a set value replaces). */
static void overlay(char *fields, struct irc_user_settings *out)
{
    cJSON *j = cJSON_Parse(fields);
    free(fields);
    const char *keys[] = {"nick", "password", "sasl_user", "sasl_password"};
    char **dst[] = {&out->nick, &out->password, &out->sasl_user, &out->sasl_password};
    for (size_t i = 0; i < 4; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (cJSON_IsString(v) && *v->valuestring) {
            free(*dst[i]);
            *dst[i] = strdup(v->valuestring);
        }
    }
    cJSON_Delete(j);
}

void irc_user_settings(struct irc *t, const char *bare_jid, const char *server,
                       struct irc_user_settings *out)
{
    memset(out, 0, sizeof(*out));
    char *fields = NULL;
    if (t->core->reg_get(t->ci, bare_jid, &fields) == 0)
        overlay(fields, out);
    struct irc_addr a = {IRC_ADDR_SERVER, NULL, (char *)server};
    char *local = irc_addr_local(&a, t->fixed_server);
    if (local && t->core->settings_get(t->ci, bare_jid, local, &fields) == 0) {
        /* Per server over per user; a SASL account comes with its own
         * password (never the other level's). */
        struct irc_user_settings s = {0};
        overlay(fields, &s);
        if (s.sasl_user) {
            free(out->sasl_user);
            free(out->sasl_password);
            out->sasl_user = s.sasl_user;
            out->sasl_password = s.sasl_password;
            s.sasl_user = s.sasl_password = NULL;
        }
        char **from[] = {&s.nick, &s.password, &s.sasl_password};
        char **to[] = {&out->nick, &out->password, &out->sasl_password};
        for (size_t i = 0; i < 3; i++)
            if (*from[i]) {
                free(*to[i]);
                *to[i] = *from[i];
            }
        free(s.sasl_user);
    }
    free(local);
}

static int irc_reg_check(void *state, const char *user, const char *const *vars, char **values,
                         size_t n, struct tr_error *err)
{
    (void)state, (void)user;
    const char *nick = NULL, *su = NULL, *sp = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!values[i] || !*values[i])
            continue;
        if (strcmp(vars[i], "nick") == 0)
            nick = values[i];
        else if (strcmp(vars[i], "sasl_user") == 0)
            su = values[i];
        else if (strcmp(vars[i], "sasl_password") == 0)
            sp = values[i];
    }
    err->cond = TR_COND_NOT_ACCEPTABLE;
    if (nick && !irc_valid_nick(nick)) {
        snprintf(err->text, sizeof(err->text),
                 "\"%.40s\" is not a valid IRC nickname (letters, digits and []\\`_^{|}-).", nick);
        return -1;
    }
    if (!su != !sp) {
        snprintf(err->text, sizeof(err->text), "Give both the SASL account and its password.");
        return -1;
    }
    return 0;
}

static int irc_config_check(const struct core_api *core, struct core_instance *ci, char *err,
                            size_t errlen)
{
    size_t n = core->cfg_groups(ci, "servers");
    if (n == 0) {
        snprintf(err, errlen, "servers: list at least one IRC server");
        return -1;
    }
    const char *fixed = core->cfg_str(ci, "fixed_server");
    int fixed_listed = !fixed;
    for (size_t i = 0; i < n; i++)
        fixed_listed |=
            fixed && strcasecmp(fixed, core->cfg_group_str(ci, "servers", i, "name")) == 0;
    if (!fixed_listed) {
        snprintf(err, errlen, "fixed_server: \"%s\" is not the name of one of the servers", fixed);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        long long plain = core->cfg_group_int(ci, "servers", i, "plaintext");
        long long insecure = core->cfg_group_int(ci, "servers", i, "insecure");
        const char *cert = core->cfg_group_str(ci, "servers", i, "cert_file");
        const char *key = core->cfg_group_str(ci, "servers", i, "key_file");
        const char *enc = core->cfg_group_str(ci, "servers", i, "encoding");
        const char *why = NULL;
        if (plain && insecure)
            why = "insecure: set plaintext or insecure, not both";
        else if (!cert != !key)
            why = "cert_file and key_file go together";
        else if (core->cfg_group_int(ci, "servers", i, "sasl_external") && (!cert || plain))
            why = "sasl_external needs TLS and cert_file";
        else if (!core->cfg_group_str(ci, "servers", i, "sasl_user") !=
                 !core->cfg_group_str(ci, "servers", i, "sasl_password"))
            why = "sasl_user and sasl_password go together";
        else if (strcmp(enc, "latin1") != 0 && strcmp(enc, "cp1252") != 0)
            why = "encoding: latin1 or cp1252";
        if (why) {
            snprintf(err, errlen, "servers[%zu].%s", i, why);
            return -1;
        }
    }
    return 0;
}

static SSL_CTX *make_ssl(struct irc *t, struct irc_server *s, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (!s->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = s->ca_file ? SSL_CTX_load_verify_locations(ctx, s->ca_file, NULL)
                            : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            snprintf(err, errlen, "servers %s: cannot load CA file %s", s->name,
                     s->ca_file ? s->ca_file : "(system)");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (s->cert_file && (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1 ||
                         SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) != 1)) {
        snprintf(err, errlen, "servers %s: cannot load the client certificate %s", s->name,
                 s->cert_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    (void)t;
    return ctx;
}

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void irc_destroy(void *state);

static int irc_create(const struct core_api *core, struct core_instance *ci, void **state,
                      char *err, size_t errlen)
{
    struct irc *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    t->core = core;
    t->ci = ci;
    t->name = core->instance_name(ci);
    t->fixed_server = core->cfg_str(ci, "fixed_server");
    t->realname = core->cfg_str(ci, "realname");
    t->flood_burst = (int)core->cfg_int(ci, "flood_burst");
    t->flood_interval_ms = (int)core->cfg_int(ci, "flood_interval_ms");
    t->queue_max = (int)core->cfg_int(ci, "queue_max");
    t->quit_grace = (int)core->cfg_int(ci, "quit_grace");
    t->hold_ms = (int)core->cfg_int(ci, "hold_ms");
    size_t n = core->cfg_groups(ci, "servers");
    t->servers = calloc(n ? n : 1, sizeof(*t->servers));
    if (!t->servers) {
        irc_destroy(t);
        return -1;
    }
    for (size_t i = 0; i < n; i++, t->n_servers++) {
        struct irc_server *s = &t->servers[i];
#define G(k) core->cfg_group_str(ci, "servers", i, k)
        s->name = dup_opt(G("name"));
        for (char *p = s->name; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        s->host = dup_opt(G("host"));
        s->tls = !core->cfg_group_int(ci, "servers", i, "plaintext");
        s->insecure = (int)core->cfg_group_int(ci, "servers", i, "insecure");
        s->port = (int)core->cfg_group_int(ci, "servers", i, "port");
        if (!s->port)
            s->port = s->tls ? 6697 : 6667;
        s->ca_file = dup_opt(G("ca_file"));
        s->pin = dup_opt(G("pin"));
        s->cert_file = dup_opt(G("cert_file"));
        s->key_file = dup_opt(G("key_file"));
        s->password = dup_opt(G("password"));
        s->sasl_user = dup_opt(G("sasl_user"));
        s->sasl_password = dup_opt(G("sasl_password"));
        s->sasl_external = (int)core->cfg_group_int(ci, "servers", i, "sasl_external");
        s->encoding = dup_opt(G("encoding"));
#undef G
        s->n_after = core->cfg_group_list_len(ci, "servers", i, "after_connect");
        s->after_connect = calloc(s->n_after + 1, sizeof(char *));
        for (size_t j = 0; s->after_connect && j < s->n_after; j++)
            s->after_connect[j] =
                dup_opt(core->cfg_group_list_item(ci, "servers", i, "after_connect", j));
        if (s->tls && !(s->ssl = make_ssl(t, s, err, errlen))) {
            t->n_servers++;
            irc_destroy(t);
            return -1;
        }
    }
    *state = t;
    return 0;
}

static void irc_destroy(void *state)
{
    struct irc *t = state;
    if (!t)
        return;
    while (t->conns)
        irc_conn_free(t->conns);
    irc_conn_index_free(t);
    for (size_t i = 0; i < t->n_servers; i++) {
        struct irc_server *s = &t->servers[i];
        free(s->name);
        free(s->host);
        free(s->ca_file);
        free(s->pin);
        free(s->cert_file);
        free(s->key_file);
        free(s->password);
        free(s->sasl_user);
        free(s->sasl_password);
        free(s->encoding);
        for (size_t j = 0; s->after_connect && j < s->n_after; j++)
            free(s->after_connect[j]);
        free(s->after_connect);
        if (s->ssl)
            SSL_CTX_free(s->ssl);
    }
    free(t->servers);
    free(t);
}

static int irc_start(void *state)
{
    struct irc *t = state;
    t->core->set_state(t->ci, 1, "IRC gateway");
    return 0;
}

static void irc_stop(void *state)
{
    struct irc *t = state;
    for (struct irc_conn *c = t->conns; c; c = c->next) {
        irc_conn_quit_now(c, "Gateway shutting down");
        c->quitting = 1; /* (also when not registered: no reconnect from now on) */
        event_del(c->ev_retry);
    }
}

static int irc_busy(void *state)
{
    struct irc *t = state;
    for (struct irc_conn *c = t->conns; c; c = c->next)
        if (c->draining && c->bev)
            return 1; /* a QUIT still draining */
    return 0;
}

/* ---- XMPP side ----------------------------------------------------------- */

static int irc_is_room(void *state, const char *to_local)
{
    struct irc *t = state;
    struct irc_addr a;
    if (irc_addr_parse(to_local, t->fixed_server, "#&", &a) != 0)
        return 0;
    int room = a.kind == IRC_ADDR_CHANNEL;
    irc_addr_clear(&a);
    return room;
}

const struct transport_ops irc_transport = {
    .driver = "irc",
    .gateway_type = "irc",
    .description = "IRC gateway",
    .caps = TR_CAP_MUC | TR_CAP_REGISTER,
    .reg_fields = irc_fields,
    .reg_instructions = "Optional settings for your IRC connections through this gateway. "
                        "They apply to every server and take effect the next time a "
                        "connection opens.",
    .reg_check = irc_reg_check,
    .keys = irc_keys,
    .create = irc_create,
    .destroy = irc_destroy,
    .start = irc_start,
    .stop = irc_stop,
    .busy = irc_busy,
    .send = irc_xmpp_send,
    .presence = irc_xmpp_presence,
    .disco_items = irc_xmpp_disco_items,
    .is_room = irc_is_room,
    .contact_settings = irc_contact_settings,
    .config_check = irc_config_check,
};
