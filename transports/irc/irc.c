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

void irc_user_settings(struct irc *t, const char *bare_jid, struct irc_user_settings *out)
{
    memset(out, 0, sizeof(*out));
    char *fields = NULL;
    if (t->core->reg_get(t->ci, bare_jid, &fields) != 0)
        return;
    cJSON *j = cJSON_Parse(fields);
    free(fields);
    const char *keys[] = {"nick", "password", "sasl_user", "sasl_password"};
    char **dst[] = {&out->nick, &out->password, &out->sasl_user, &out->sasl_password};
    for (size_t i = 0; i < 4; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (cJSON_IsString(v) && *v->valuestring)
            *dst[i] = strdup(v->valuestring);
    }
    cJSON_Delete(j);
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
        c->quitting = 1;
        const char *p[] = {"Gateway shutting down"};
        irc_conn_cmd(c, "QUIT", 1, p);
    }
}

/* ---- XMPP side ----------------------------------------------------------- */

static void bare_of(const char *full, char *buf, size_t len)
{
    size_t n = strcspn(full, "/");
    if (n >= len)
        n = len - 1;
    memcpy(buf, full, n);
    buf[n] = 0;
}

static void join_error(struct irc *t, const char *user, const char *room, const char *nick,
                       enum tr_cond cond, const char *text)
{
    struct tr_presence_out p = {
        .user = user, .from_local = room, .from_resource = nick, .error = 1};
    p.err.cond = cond;
    snprintf(p.err.text, sizeof(p.err.text), "%s", text);
    t->core->presence(t->ci, &p);
}

static int has_res(const struct irc_chan *ch, const char *user)
{
    for (size_t i = 0; i < ch->n_res; i++)
        if (strcmp(ch->res[i], user) == 0)
            return 1;
    return 0;
}

static void add_res(struct irc_chan *ch, const char *user)
{
    if (has_res(ch, user))
        return;
    char **r = realloc(ch->res, (ch->n_res + 1) * sizeof(*r));
    if (!r)
        return;
    ch->res = r;
    if ((ch->res[ch->n_res] = strdup(user)))
        ch->n_res++;
}

static void del_res(struct irc_chan *ch, const char *user)
{
    for (size_t i = 0; i < ch->n_res; i++)
        if (strcmp(ch->res[i], user) == 0) {
            free(ch->res[i]);
            ch->res[i] = ch->res[--ch->n_res];
            return;
        }
}

static void room_presence(struct irc *t, const struct tr_presence_in *p, const struct irc_addr *a)
{
    char bare[1024];
    bare_of(p->user, bare, sizeof(bare));
    char *room = irc_addr_local(a, t->fixed_server);
    struct tr_error err = {TR_COND_INTERNAL_SERVER_ERROR, ""};
    struct irc_conn *c = irc_conn_get(t, bare, a->server, 0, NULL, &err);
    struct irc_chan *ch = c ? irc_chan_find(c, a->name) : NULL;
    if (!p->available) {
        if (ch && has_res(ch, p->user)) {
            del_res(ch, p->user);
            struct tr_presence_out self = {.user = p->user,
                                           .from_local = room,
                                           .from_resource = c->nick,
                                           .muc = 1,
                                           .role = TR_ROLE_NONE,
                                           .codes = {110},
                                           .n_codes = 1};
            t->core->presence(t->ci, &self);
            if (ch->n_res == 0) {
                const char *pp[] = {ch->name};
                irc_conn_cmd(c, "PART", 1, pp);
                irc_chan_remove(c, ch);
            }
            int used = 0;
            for (struct irc_chan *o = c->chans; o; o = o->next)
                used |= o->n_res > 0;
            if (!used)
                irc_conn_quit_later(c);
        }
        free(room);
        return;
    }
    const char *nick = p->to_resource;
    if (!nick || !irc_valid_nick(nick)) {
        join_error(t, p->user, room, nick, TR_COND_JID_MALFORMED,
                   "That nickname is not valid on IRC (letters, digits and []\\`_^{|}- only).");
        free(room);
        return;
    }
    if (ch && has_res(ch, p->user)) {
        /* Presence again in a joined room: a nick change, or a status. */
        if (c->state == IC_READY && strcasecmp(nick, c->nick) != 0) {
            const char *pp[] = {nick};
            irc_conn_cmd(c, "NICK", 1, pp);
        }
        free(room);
        return;
    }
    if (!c && !(c = irc_conn_get(t, bare, a->server, 1, nick, &err))) {
        join_error(t, p->user, room, nick, err.cond,
                   err.text[0] ? err.text : "Cannot connect to that server.");
        free(room);
        return;
    }
    evtimer_del(c->ev_grace); /* in use again */
    if (ch) {
        add_res(ch, p->user);
        if (ch->names_done) {
            irc_send_occupants(c, ch, p->user);
            irc_send_self(c, ch, p->user);
        }
    } else if ((ch = irc_chan_add(c, a->name, p->password))) {
        add_res(ch, p->user);
        const char *pp[] = {ch->name, ch->key};
        if (irc_conn_cmd(c, "JOIN", ch->key ? 2 : 1, pp) != 0) {
            join_error(t, p->user, room, nick, TR_COND_RESOURCE_CONSTRAINT,
                       "Too much is waiting to be sent to IRC; try again shortly.");
            irc_chan_remove(c, ch);
        }
    }
    free(room);
}

static void irc_presence(void *state, const struct tr_presence_in *p)
{
    struct irc *t = state;
    struct irc_addr a;
    if (irc_addr_parse(p->to_local, t->fixed_server, "#&", &a) != 0)
        return;
    if (a.kind == IRC_ADDR_CHANNEL && (p->muc || p->to_resource || !p->available))
        room_presence(t, p, &a);
    else if (p->available) {
        /* An IRC user or server contact: shown as available. */
        struct tr_presence_out o = {.user = p->user, .from_local = p->to_local, .available = 1};
        t->core->presence(t->ci, &o);
    }
    irc_addr_clear(&a);
}

static void default_nick(const char *bare, char *nick, size_t len);

static int refuse(struct tr_error *err, enum tr_cond cond, const char *text)
{
    err->cond = cond;
    snprintf(err->text, sizeof(err->text), "%s", text);
    return -1;
}

/* PRIVMSG/NOTICE of a body: split into lines that fit, /me as CTCP ACTION. */
static int send_text(struct irc_conn *c, const char *target, const char *body, struct tr_error *err)
{
    int action = strncmp(body, "/me ", 4) == 0;
    const char *text = action ? body + 4 : body;
    /* ":nick!user@host " as the server will prefix it: nick + 10 + 63 */
    size_t prefix_len = strlen(c->nick) + 1 + 10 + 1 + 63;
    struct irc_chunks ch;
    if (irc_split(text, strlen(text), "PRIVMSG", target, prefix_len, action, &ch) != 0)
        return refuse(err, TR_COND_BAD_REQUEST, "The message cannot be sent to IRC.");
    int rc = 0;
    for (size_t i = 0; i < ch.n && rc == 0; i++) {
        char line[600];
        if (action)
            snprintf(line, sizeof(line),
                     "\x01"
                     "ACTION %s\x01",
                     ch.s[i]);
        else
            snprintf(line, sizeof(line), "%s", ch.s[i]);
        const char *pp[] = {target, line};
        rc = irc_conn_cmd(c, "PRIVMSG", 2, pp);
    }
    irc_chunks_clear(&ch);
    if (rc == -1)
        return refuse(err, TR_COND_RESOURCE_CONSTRAINT,
                      "Too many messages are waiting to go to IRC; this one was not sent.");
    if (rc != 0)
        return refuse(err, TR_COND_BAD_REQUEST, "The message cannot be sent to IRC.");
    return 0;
}

static void remember_query(struct irc_conn *c, const char *nick, const struct tr_msg *msg)
{
    free(c->last_query_nick);
    free(c->last_query_id);
    free(c->last_query_user);
    c->last_query_nick = strdup(nick);
    c->last_query_id = msg->id ? strdup(msg->id) : NULL;
    c->last_query_user = strdup(msg->user);
}

static int irc_send(void *state, const struct tr_msg *msg, struct tr_error *err)
{
    struct irc *t = state;
    struct irc_addr a;
    if (irc_addr_parse(msg->to_local, t->fixed_server, "#&", &a) != 0)
        return refuse(err, TR_COND_ITEM_NOT_FOUND,
                      "Not an IRC address: write #channel%server, nick%server or server.");
    char bare[1024];
    bare_of(msg->user, bare, sizeof(bare));
    int rc = 0;
    struct irc_conn *c = irc_conn_get(t, bare, a.server, 0, NULL, err);
    if (a.kind == IRC_ADDR_CHANNEL) {
        struct irc_chan *ch = c ? irc_chan_find(c, a.name) : NULL;
        if (msg->to_resource && msg->type != TR_MSG_GROUPCHAT) {
            /* A private message through the room: to that nick. */
            if (!c)
                rc = refuse(err, TR_COND_NOT_ACCEPTABLE, "Join the room first.");
            else if ((rc = send_text(c, msg->to_resource, msg->body, err)) == 0)
                remember_query(c, msg->to_resource, msg);
        } else if (!ch || !has_res(ch, msg->user) || !ch->joined) {
            rc = refuse(err, TR_COND_NOT_ACCEPTABLE,
                        "This is an IRC channel: join it as a group chat to talk here.");
        } else if ((rc = send_text(c, ch->name, msg->body, err)) == 0) {
            char *room = irc_addr_local(&a, t->fixed_server);
            if (c->cap_echo) {
                /* Reflected when the server echoes it (echo-message). */
                char **e = realloc(ch->pending_echo, (ch->n_echo + 1) * sizeof(*e));
                if (e) {
                    ch->pending_echo = e;
                    char *tagged = malloc(strlen(msg->body) + (msg->id ? strlen(msg->id) : 0) + 2);
                    if (tagged) {
                        sprintf(tagged, "%s\n%s", msg->id ? msg->id : "", msg->body);
                        ch->pending_echo[ch->n_echo++] = tagged;
                    }
                }
            } else {
                for (size_t i = 0; i < ch->n_res; i++) {
                    struct tr_inbound in = {.user = ch->res[i],
                                            .from_local = room,
                                            .from_resource = c->nick,
                                            .id = msg->id,
                                            .body = msg->body,
                                            .body_len = strlen(msg->body),
                                            .type = TR_MSG_GROUPCHAT};
                    t->core->deliver(t->ci, &in);
                }
            }
            free(room);
        }
    } else if (a.kind == IRC_ADDR_NICK) {
        if (!c) {
            /* A private chat opens the connection with the user's JID name. */
            char nick[32];
            default_nick(bare, nick, sizeof(nick));
            c = irc_conn_get(t, bare, a.server, 1, nick, err);
        }
        if (!c)
            rc = -1;
        else if ((rc = send_text(c, a.name, msg->body, err)) == 0)
            remember_query(c, a.name, msg);
    } else {
        /* The server JID: each line of the body is a raw IRC line. */
        if (!c)
            rc = refuse(err, TR_COND_NOT_ACCEPTABLE,
                        "Not connected to that server: join one of its rooms first.");
        for (const char *p = msg->body; rc == 0 && *p;) {
            size_t n = strcspn(p, "\r\n");
            if (n > 0 && n <= 510) {
                char line[512];
                memcpy(line, p, n);
                line[n] = 0;
                if (irc_conn_send(c, line) != 0)
                    rc = refuse(err, TR_COND_RESOURCE_CONSTRAINT, "Too much is waiting.");
            } else if (n > 510) {
                rc = refuse(err, TR_COND_NOT_ACCEPTABLE, "An IRC line is at most 510 bytes.");
            }
            p += n;
            while (*p == '\r' || *p == '\n')
                p++;
        }
    }
    irc_addr_clear(&a);
    return rc;
}

/* The nick a connection opened without a room join uses: the JID's name. */
static void default_nick(const char *bare, char *nick, size_t len)
{
    size_t n = 0;
    for (const char *p = bare; *p && *p != '@' && n < len - 1; p++)
        if (isalnum((unsigned char)*p) || strchr("[]\\`_^{|}-", *p))
            nick[n++] = *p;
    nick[n] = 0;
    if (!n || isdigit((unsigned char)nick[0]) || nick[0] == '-')
        snprintf(nick, len, "ferry%04x", (unsigned)(random() & 0xffff));
}

static int irc_disco_items(void *state, struct tr_disco *req, const char *user,
                           const char *to_local)
{
    struct irc *t = state;
    struct irc_addr a;
    if (irc_addr_parse(to_local, t->fixed_server, "#&", &a) != 0)
        return -1;
    int rc = -1;
    if (a.kind == IRC_ADDR_SERVER) {
        char bare[1024], nick[32];
        bare_of(user, bare, sizeof(bare));
        default_nick(bare, nick, sizeof(nick));
        struct tr_error err = {TR_COND_INTERNAL_SERVER_ERROR, ""};
        struct irc_conn *c = irc_conn_get(t, bare, a.server, 1, nick, &err);
        struct tr_disco **l = c ? realloc(c->lists, (c->n_lists + 1) * sizeof(*l)) : NULL;
        if (c && l) {
            c->lists = l;
            c->lists[c->n_lists++] = req;
            if (c->n_lists == 1 && irc_conn_send(c, "LIST") != 0) {
                struct tr_error e = {TR_COND_RESOURCE_CONSTRAINT, "Too much is waiting."};
                irc_lists_answer(c, &e);
            }
            if (!c->chans)
                irc_conn_quit_later(c);
            rc = 0;
        } else if (!c) {
            t->core->disco_reply(t->ci, req, NULL, 0, &err);
            rc = 0;
        }
    }
    irc_addr_clear(&a);
    return rc;
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
    .send = irc_send,
    .presence = irc_presence,
    .disco_items = irc_disco_items,
    .config_check = irc_config_check,
};
