/* IRC transport, XMPP side: room joins and leaves (presence), messages to
 * rooms, IRC users and the server JID (raw lines), and the channel list
 * (disco#items through LIST). */
#include <ctype.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc.h"
#include "irc_addr.h"
#include "irc_line.h"
#include "irc_split.h"

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
void irc_xmpp_presence(void *state, const struct tr_presence_in *p)
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
    /* "/notice text" sends a NOTICE (IRC's no-auto-reply message) */
    int notice = !action && strncmp(body, "/notice ", 8) == 0;
    const char *text = action ? body + 4 : notice ? body + 8 : body;
    const char *cmd = notice ? "NOTICE" : "PRIVMSG";
    /* ":nick!user@host " as the server will prefix it: nick + 10 + 63 */
    size_t prefix_len = strlen(c->nick) + 1 + 10 + 1 + 63;
    struct irc_chunks ch;
    if (irc_split(text, strlen(text), cmd, target, prefix_len, action, &ch) != 0)
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
        rc = irc_conn_cmd(c, cmd, 2, pp);
    }
    irc_chunks_clear(&ch);
    if (rc == -1)
        return refuse(err, TR_COND_RESOURCE_CONSTRAINT,
                      "Too many messages are waiting to go to IRC; this one was not sent.");
    if (rc != 0)
        return refuse(err, TR_COND_BAD_REQUEST, "The message cannot be sent to IRC.");
    return 0;
}
/* A mediated invitation to an IRC user: INVITE nick #chan (the server
 * answers with an error numeric, shown from the server JID, when it
 * refuses). */
static int invite(struct irc_conn *c, struct irc_chan *ch, const char *server, const char *invitee,
                  struct tr_error *err)
{
    struct irc_addr who;
    if (irc_addr_parse(invitee, c->t->fixed_server, "#&", &who) != 0)
        return refuse(err, TR_COND_JID_MALFORMED, "Invite an IRC user: nick%server@...");
    int ok = who.kind == IRC_ADDR_NICK && strcasecmp(who.server, server) == 0;
    int rc = 0;
    if (!ok) {
        rc = refuse(err, TR_COND_NOT_ACCEPTABLE,
                    "Only a user of the room's IRC server (nick%server@...) can be invited "
                    "through IRC.");
    } else {
        const char *pp[] = {who.name, ch->name};
        int r = irc_conn_cmd(c, "INVITE", 2, pp);
        if (r == -1)
            rc = refuse(err, TR_COND_RESOURCE_CONSTRAINT,
                        "Too many messages are waiting to go to IRC; the invitation was not "
                        "sent.");
        else if (r != 0)
            rc = refuse(err, TR_COND_JID_MALFORMED, "That is not a valid IRC nick.");
    }
    irc_addr_clear(&who);
    return rc;
}
static int set_topic(struct irc_conn *c, struct irc_chan *ch, const char *topic,
                     struct tr_error *err)
{
    const char *pp[] = {ch->name, topic};
    int rc = irc_conn_cmd(c, "TOPIC", 2, pp);
    if (rc == -1)
        return refuse(err, TR_COND_RESOURCE_CONSTRAINT,
                      "Too many messages are waiting to go to IRC; the subject was not set.");
    if (rc != 0)
        return refuse(err, TR_COND_BAD_REQUEST,
                      "An IRC topic is one line of at most about 400 bytes; this subject "
                      "cannot be set.");
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
int irc_xmpp_send(void *state, const struct tr_msg *msg, struct tr_error *err)
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
        } else if (msg->invite_jid) {
            rc = 0; /* a member may invite: the core sends the room's invitation */
        } else if (msg->invite_local) {
            rc = invite(c, ch, a.server, msg->invite_local, err);
        } else if (msg->subject) {
            /* The server announces the new topic to everyone (the room's
             * subject then changes for every resource), or says why not. */
            rc = set_topic(c, ch, msg->subject, err);
        } else if ((rc = send_text(c, ch->name, msg->body, err)) == 0) {
            char *room = irc_addr_local(&a, t->fixed_server);
            if (c->cap_echo) {
                /* Reflected when the server echoes it (echo-message). */
                char **e = realloc(ch->pending_echo, (ch->n_echo + 1) * sizeof(*e));
                if (e) {
                    ch->pending_echo = e;
                    /* "id\norigin-id\nbody"; an id with a LF in it
                     * (&#10;) is left out rather than split wrongly. */
                    const char *id = msg->id && !strchr(msg->id, '\n') ? msg->id : "";
                    const char *oid =
                        msg->origin_id && !strchr(msg->origin_id, '\n') ? msg->origin_id : "";
                    size_t n = strlen(msg->body) + strlen(id) + strlen(oid) + 3;
                    char *tagged = malloc(n);
                    if (tagged) {
                        snprintf(tagged, n, "%s\n%s\n%s", id, oid, msg->body);
                        ch->pending_echo[ch->n_echo++] = tagged;
                    }
                }
            } else {
                for (size_t i = 0; i < ch->n_res; i++) {
                    struct tr_inbound in = {.user = ch->res[i],
                                            .from_local = room,
                                            .from_resource = c->nick,
                                            .id = msg->id,
                                            .origin_id = msg->origin_id,
                                            .body = msg->body,
                                            .body_len = strlen(msg->body),
                                            .type = TR_MSG_GROUPCHAT,
                                            .direct = 1};
                    t->core->deliver(t->ci, &in);
                }
            }
            free(room);
        }
    } else if (a.kind == IRC_ADDR_NICK || (a.kind == IRC_ADDR_EMPTY && msg->to_resource)) {
        /* nick%server, or biboumi's %server/Nick for nicks a JID cannot hold */
        const char *target = a.kind == IRC_ADDR_NICK ? a.name : msg->to_resource;
        if (!c) {
            /* A private chat opens the connection with the user's JID name. */
            char nick[32];
            default_nick(bare, nick, sizeof(nick));
            c = irc_conn_get(t, bare, a.server, 1, nick, err);
        }
        if (!c)
            rc = -1;
        else if ((rc = send_text(c, target, msg->body, err)) == 0)
            remember_query(c, target, msg);
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
int irc_xmpp_disco_items(void *state, struct tr_disco *req, const char *user, const char *to_local)
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
