/* The IRC side: lines from the server become XMPP presence and messages
 * (XEP-0045 rooms for channels, 1:1 chats for private messages, the server
 * JID for the rest).  Room events go to every resource of the user that
 * joined the room. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc.h"
#include "irc_addr.h"
#include "irc_line.h"
#include "irc_text.h"

void irc_event_down(struct irc_conn *c, const char *reason, int will_retry)
{
    char text[400];
    if (c->n_lists) {
        struct tr_error e = {TR_COND_REMOTE_SERVER_TIMEOUT, ""};
        snprintf(e.text, sizeof(e.text), "Connection to %s lost: %s.", c->server, reason);
        irc_lists_answer(c, &e);
    }
    if (!c->was_ready) {
        snprintf(text, sizeof(text), "Cannot connect to %s: %s.", c->server, reason);
        irc_fail_all_joins(c, TR_COND_REMOTE_SERVER_TIMEOUT, text);
        return;
    }
    for (struct irc_chan *ch = c->chans; ch; ch = ch->next) {
        if (!ch->joined) {
            continue;
        }
        snprintf(text, sizeof(text), "Connection to %s lost (%s)%s", c->server, reason,
                 will_retry ? "; reconnecting…" : ".");
        irc_room_status(c, ch, text);
        ch->joined = 0;
    }
    if (!will_retry) {
        /* Nothing will bring the rooms back: tell the resources. */
        snprintf(text, sizeof(text), "Connection to %s failed: %s", c->server, reason);
        for (struct irc_chan *ch = c->chans; ch; ch = ch->next) {
            char *room = irc_room_of(c, ch->name);
            for (size_t i = 0; room && i < ch->n_res; i++) {
                struct tr_presence_out p = {.user = ch->res[i],
                                            .from_local = room,
                                            .from_resource = c->nick,
                                            .muc = 1,
                                            .status = text,
                                            .codes = {110, 333},
                                            .n_codes = 2};
                c->t->core->presence(c->t->ci, &p);
            }
            free(room);
        }
    }
}

#define LIST_MAX 1000

static const char *text_of(struct irc_conn *c, const char *raw, char **buf);

void irc_lists_answer(struct irc_conn *c, const struct tr_error *err)
{
    for (size_t i = 0; i < c->n_lists; i++)
        c->t->core->disco_reply(c->t->ci, c->lists[i], c->litems, c->n_litems, err);
    free(c->lists);
    c->lists = NULL;
    c->n_lists = 0;
    for (size_t i = 0; i < c->n_litems; i++) {
        free((char *)c->litems[i].local);
        free((char *)c->litems[i].name);
    }
    free(c->litems);
    c->litems = NULL;
    c->n_litems = 0;
}

/* 322 me #chan users :topic */
static void on_list(struct irc_conn *c, const struct irc_msg *m)
{
    if (m->nparams < 3 || c->n_litems >= LIST_MAX)
        return;
    struct tr_disco_item *it = realloc(c->litems, (c->n_litems + 1) * sizeof(*it));
    if (!it)
        return;
    c->litems = it;
    char *clean = NULL, name[400];
    const char *topic = m->nparams > 3 ? text_of(c, m->params[3], &clean) : "";
    snprintf(name, sizeof(name), "%s (%s)%s%s", m->params[1], m->params[2], *topic ? ": " : "",
             topic);
    free(clean);
    char *local = irc_room_of(c, m->params[1]);
    if (!local)
        return;
    c->litems[c->n_litems].local = local;
    c->litems[c->n_litems].name = strdup(name);
    c->n_litems++;
}

void irc_event_registered(struct irc_conn *c)
{
    c->state = IC_READY;
    c->attempts = 0;
    for (size_t i = 0; i < c->srv->n_after; i++)
        irc_conn_send(c, c->srv->after_connect[i]);
    int rejoin = c->was_ready;
    c->was_ready = 1;
    if (rejoin)
        for (struct irc_chan *ch = c->chans; ch; ch = ch->next) {
            const char *pp[] = {ch->name, ch->key};
            irc_conn_cmd(c, "JOIN", ch->key ? 2 : 1, pp);
        }
    irc_conn_send(c, "PING :flush"); /* also starts the queue */
}

static const char *text_of(struct irc_conn *c, const char *raw, char **buf)
{
    *buf = irc_text_to_utf8(raw, strlen(raw), c->srv->encoding, NULL);
    return *buf ? *buf : "";
}

static void on_privmsg(struct irc_conn *c, const struct irc_msg *m, int notice)
{
    struct irc *t = c->t;
    if (m->nparams < 2)
        return;
    const char *target = m->params[0], *raw = m->params[1];
    const char *from = m->nick ? m->nick : c->server;
    const char *cmd, *arg;
    size_t cmd_len, arg_len;
    enum irc_ctcp_kind k = irc_ctcp_parse(raw, strlen(raw), &cmd, &cmd_len, &arg, &arg_len);
    char *ctcp = NULL, *clean = NULL;
    const char *text;
    if (k == IRC_CTCP_VERSION && !notice) {
        const char *pp[] = {from, "\x01VERSION Ferry " FERRY_VERSION " (XMPP gateway)\x01"};
        irc_conn_cmd(c, "NOTICE", 2, pp);
        return;
    }
    if (k == IRC_CTCP_ACTION) {
        ctcp = malloc(arg_len + 5);
        if (!ctcp)
            return;
        memcpy(ctcp, "/me ", 4);
        memcpy(ctcp + 4, arg, arg_len);
        ctcp[arg_len + 4] = 0;
        text = text_of(c, ctcp, &clean);
    } else if (k != IRC_CTCP_NONE) {
        return; /* other CTCP requests are not shown */
    } else {
        text = text_of(c, raw, &clean);
    }
    if (irc_is_channel(c, target)) {
        struct irc_chan *ch = irc_chan_find(c, target);
        char *room = ch ? irc_room_of(c, ch->name) : NULL;
        if (ch && room && m->nick && strcasecmp(m->nick, c->nick) == 0) {
            /* echo-message: our own line; reflect the original once. */
            if (ch->n_echo) {
                char *tagged = ch->pending_echo[0];
                memmove(ch->pending_echo, ch->pending_echo + 1, (ch->n_echo - 1) * sizeof(char *));
                ch->n_echo--;
                /* "id\norigin-id\nbody" (irc_xmpp.c) */
                char *nl = strchr(tagged, '\n');
                char *nl2 = nl ? strchr(nl + 1, '\n') : NULL;
                const char *id = nl && nl != tagged ? tagged : NULL;
                const char *origin = nl2 && nl2 != nl + 1 ? nl + 1 : NULL;
                if (nl)
                    *nl = 0;
                if (nl2)
                    *nl2 = 0;
                const char *body = nl2 ? nl2 + 1 : text;
                for (size_t i = 0; i < ch->n_res; i++) {
                    /* The sender's own message: sent at once, not stored. */
                    struct tr_inbound in = {.user = ch->res[i],
                                            .from_local = room,
                                            .from_resource = c->nick,
                                            .id = id,
                                            .origin_id = origin,
                                            .body = body,
                                            .body_len = strlen(body),
                                            .type = TR_MSG_GROUPCHAT,
                                            .direct = 1};
                    t->core->deliver(t->ci, &in);
                }
                free(tagged);
            }
        } else if (ch && room) {
            for (size_t i = 0; i < ch->n_res; i++)
                irc_deliver(c, ch->res[i], room, from, TR_MSG_GROUPCHAT, text, NULL, NULL);
        }
        free(room);
    } else if (!m->user && !m->host && m->nick && strchr(m->nick, '.')) {
        /* A server notice: from the server JID. */
        irc_deliver(c, c->user, c->server, NULL, TR_MSG_CHAT, text, NULL, NULL);
    } else if (m->nick && strcasecmp(m->nick, c->nick) != 0) {
        char *local = irc_nick_local(c, from);
        if (local)
            irc_deliver(c, c->user, local, NULL, TR_MSG_CHAT, text, NULL, NULL);
        free(local);
    }
    free(clean);
    free(ctcp);
}

/* ":nick!u@h INVITE me #chan": a XEP-0249 invitation from that nick's 1:1
 * address, with the room's JID; the body says it for other clients. */
static void on_invite(struct irc_conn *c, const struct irc_msg *m)
{
    char *chan = irc_lower_dup(m->params[1]);
    char *room = chan && irc_is_channel(c, chan) ? irc_room_of(c, chan) : NULL;
    char *from = room ? irc_nick_local(c, m->nick) : NULL;
    if (from) {
        char text[600];
        snprintf(text, sizeof(text), "%s invites you to %s on %s.", m->nick, m->params[1],
                 c->server);
        struct tr_inbound in = {.user = c->user,
                                .from_local = from,
                                .body = text,
                                .body_len = strlen(text),
                                .type = TR_MSG_NORMAL,
                                .invite_room = room,
                                .hold_ms = c->t->hold_ms};
        if (c->t->core->deliver(c->t->ci, &in) != 0)
            irc_log(c->t, 0, "could not store an invitation from IRC for delivery");
    }
    free(from);
    free(room);
    free(chan);
}

static void on_names(struct irc_conn *c, const struct irc_msg *m)
{
    /* 353 me = #chan :@op +voice nick */
    if (m->nparams < 4)
        return;
    struct irc_chan *ch = irc_chan_find(c, m->params[2]);
    if (!ch)
        return;
    char *list = strdup(m->params[3]);
    for (char *tok = list ? strtok(list, " ") : NULL; tok; tok = strtok(NULL, " ")) {
        char prefix = 0;
        while (*tok && strchr("~&@%+", *tok)) {
            if (!prefix)
                prefix = *tok; /* multi-prefix: the first is the highest */
            tok++;
        }
        if (*tok)
            irc_member_add(ch, tok, prefix);
    }
    free(list);
}

static void on_end_of_names(struct irc_conn *c, const struct irc_msg *m)
{
    struct irc_chan *ch = m->nparams >= 2 ? irc_chan_find(c, m->params[1]) : NULL;
    if (!ch)
        return;
    if (!ch->names_done) {
        ch->names_done = 1;
        for (size_t i = 0; i < ch->n_res; i++) {
            irc_send_occupants(c, ch, ch->res[i]);
            irc_send_self(c, ch, ch->res[i]);
        }
    }
}

static void on_join(struct irc_conn *c, const struct irc_msg *m)
{
    if (!m->nick || m->nparams < 1)
        return;
    struct irc_chan *ch = irc_chan_find(c, m->params[0]);
    if (!ch)
        return;
    if (strcasecmp(m->nick, c->nick) == 0) {
        int again = ch->names_done;
        ch->joined = 1;
        irc_member_add(ch, c->nick, 0);
        if (again)
            irc_room_status(c, ch, "Reconnected and rejoined.");
        return;
    }
    irc_member_add(ch, m->nick, 0);
    if (ch->names_done)
        irc_occupant(c, ch, m->nick, 0, 1, NULL, NULL, 0, NULL, NULL);
}

static void gone(struct irc_conn *c, struct irc_chan *ch, const char *nick, const char *reason,
                 int kicked)
{
    int self = strcasecmp(nick, c->nick) == 0;
    int codes[2];
    size_t n = 0;
    if (kicked)
        codes[n++] = 307;
    if (self)
        codes[n++] = 110;
    irc_occupant(c, ch, nick, 0, 0, reason, codes, n, NULL, NULL);
    if (!self) {
        irc_member_del(ch, nick);
        return;
    }
    irc_chan_remove(c, ch);
    for (struct irc_chan *o = c->chans; o; o = o->next)
        if (o->n_res)
            return;
    irc_conn_quit_later(c); /* kicked out of the last room */
}

static void on_nick(struct irc_conn *c, const struct irc_msg *m)
{
    if (!m->nick || m->nparams < 1)
        return;
    const char *old = m->nick, *nw = m->params[0];
    int self = strcasecmp(old, c->nick) == 0;
    for (struct irc_chan *ch = c->chans; ch; ch = ch->next) {
        struct irc_member *mem = irc_member_find(ch, old);
        if (!mem)
            continue;
        char prefix = mem->prefix;
        int codes[2] = {303, 110};
        irc_occupant(c, ch, old, prefix, 0, NULL, codes, self ? 2 : 1, nw, NULL);
        irc_member_del(ch, old);
        irc_member_add(ch, nw, prefix);
        int codes2[1] = {110};
        irc_occupant(c, ch, nw, prefix, 1, NULL, codes2, self ? 1 : 0, NULL, NULL);
    }
    if (self) {
        free(c->nick);
        c->nick = strdup(nw);
    }
}

static void on_mode(struct irc_conn *c, const struct irc_msg *m)
{
    if (m->nparams < 3)
        return;
    struct irc_chan *ch = irc_chan_find(c, m->params[0]);
    if (!ch)
        return;
    int add = 1;
    size_t arg = 2;
    for (const char *p = m->params[1]; *p; p++) {
        if (*p == '+' || *p == '-') {
            add = *p == '+';
            continue;
        }
        if (!strchr("ovhqakbeIlj", *p))
            continue;
        if (!strchr("ovhqa", *p)) {
            if (strchr("kbeIj", *p) || (add && *p == 'l'))
                arg++; /* modes with an argument we do not map */
            continue;
        }
        if (arg >= m->nparams)
            break;
        struct irc_member *mem = irc_member_find(ch, m->params[arg++]);
        if (!mem)
            continue;
        char sym = *p == 'o' ? '@' : *p == 'v' ? '+' : *p == 'h' ? '%' : *p == 'q' ? '~' : '&';
        mem->prefix = add ? sym : 0;
        irc_occupant(c, ch, mem->nick, mem->prefix, 1, NULL, NULL, 0, NULL, NULL);
    }
}

/* Join errors, by numeric. */
static int join_error(struct irc_conn *c, const struct irc_msg *m)
{
    static const struct {
        const char *num;
        enum tr_cond cond;
    } map[] = {
        {"471", TR_COND_SERVICE_UNAVAILABLE}, {"473", TR_COND_REGISTRATION_REQUIRED},
        {"474", TR_COND_FORBIDDEN},           {"475", TR_COND_NOT_AUTHORIZED},
        {"403", TR_COND_ITEM_NOT_FOUND},      {"405", TR_COND_RESOURCE_CONSTRAINT},
        {"476", TR_COND_JID_MALFORMED},       {"477", TR_COND_REGISTRATION_REQUIRED},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(m->command, map[i].num) != 0 || m->nparams < 2)
            continue;
        struct irc_chan *ch = irc_chan_find(c, m->params[1]);
        if (!ch || ch->joined)
            return 1;
        char text[300];
        char *clean = NULL;
        snprintf(text, sizeof(text), "%s: %s", m->params[1],
                 text_of(c, m->params[m->nparams - 1], &clean));
        free(clean);
        irc_join_failed(c, ch, map[i].cond, text);
        return 1;
    }
    return 0;
}

void irc_event(struct irc_conn *c, const struct irc_msg *m)
{
    const char *cmd = m->command;
    struct irc *t = c->t;
    if (strcmp(cmd, "001") == 0) {
        if (m->nparams && strcasecmp(m->params[0], c->nick) != 0) {
            free(c->nick);
            c->nick = strdup(m->params[0]);
        }
        irc_event_registered(c);
    } else if (strcmp(cmd, "005") == 0) {
        for (size_t i = 1; i + 1 < m->nparams; i++)
            if (strncmp(m->params[i], "CHANTYPES=", 10) == 0)
                snprintf(c->chantypes, sizeof(c->chantypes), "%s", m->params[i] + 10);
    } else if (strcmp(cmd, "433") == 0 && c->state != IC_READY) {
        char text[200];
        snprintf(text, sizeof(text), "The nickname %s is already in use on %s.", c->nick,
                 c->server);
        irc_fail_all_joins(c, TR_COND_CONFLICT, text);
        if (c->last_query_user) {
            /* A private message opened this connection: its error. */
            struct tr_error e = {TR_COND_CONFLICT, ""};
            snprintf(e.text, sizeof(e.text), "%s", text);
            char *local = irc_nick_local(c, c->last_query_nick);
            if (local)
                t->core->bounce(t->ci, c->last_query_user, local, c->last_query_id, &e);
            free(local);
        }
        irc_conn_close(c, "nickname in use", 0); /* freed later, from the loop */
    } else if (strcmp(cmd, "433") == 0) {
        for (struct irc_chan *ch = c->chans; ch; ch = ch->next)
            irc_room_status(c, ch, "That nickname is already in use.");
    } else if (strcmp(cmd, "904") == 0 || strcmp(cmd, "905") == 0 || strcmp(cmd, "902") == 0 ||
               strcmp(cmd, "908") == 0) {
        char text[300], *clean = NULL;
        snprintf(text, sizeof(text), "SASL authentication with %s failed: %s", c->server,
                 m->nparams ? text_of(c, m->params[m->nparams - 1], &clean) : "");
        free(clean);
        irc_log(t, 1, "SASL authentication with %s failed", c->server);
        irc_fail_all_joins(c, TR_COND_NOT_AUTHORIZED, text);
        irc_conn_close(c, "SASL authentication failed", 0); /* freed later */
    } else if (strcmp(cmd, "322") == 0) {
        on_list(c, m);
    } else if (strcmp(cmd, "323") == 0) {
        irc_lists_answer(c, NULL);
    } else if (strcmp(cmd, "321") == 0) {
        /* list start */
    } else if (strcmp(cmd, "353") == 0) {
        on_names(c, m);
    } else if (strcmp(cmd, "366") == 0) {
        on_end_of_names(c, m);
    } else if (strcmp(cmd, "332") == 0 && m->nparams >= 3) {
        struct irc_chan *ch = irc_chan_find(c, m->params[1]);
        char *clean = NULL;
        if (ch) {
            free(ch->topic);
            ch->topic = strdup(text_of(c, m->params[2], &clean));
        }
        free(clean);
    } else if (strcasecmp(cmd, "TOPIC") == 0 && m->nparams >= 2) {
        struct irc_chan *ch = irc_chan_find(c, m->params[0]);
        char *clean = NULL, *room = ch ? irc_room_of(c, ch->name) : NULL;
        const char *topic = text_of(c, m->params[1], &clean);
        if (ch && room) {
            free(ch->topic);
            ch->topic = strdup(topic);
            for (size_t i = 0; i < ch->n_res; i++)
                irc_deliver(c, ch->res[i], room, m->nick, TR_MSG_GROUPCHAT, NULL, topic, NULL);
        }
        free(room);
        free(clean);
    } else if (strcasecmp(cmd, "INVITE") == 0 && m->nick && m->nparams >= 2 &&
               strcasecmp(m->params[0], c->nick) == 0) {
        on_invite(c, m);
    } else if (strcasecmp(cmd, "PRIVMSG") == 0) {
        on_privmsg(c, m, 0);
    } else if (strcasecmp(cmd, "NOTICE") == 0) {
        on_privmsg(c, m, 1);
    } else if (strcasecmp(cmd, "JOIN") == 0) {
        on_join(c, m);
    } else if (strcasecmp(cmd, "PART") == 0 && m->nick && m->nparams >= 1) {
        struct irc_chan *ch = irc_chan_find(c, m->params[0]);
        char *clean = NULL;
        if (ch && ch->names_done)
            gone(c, ch, m->nick, m->nparams > 1 ? text_of(c, m->params[1], &clean) : NULL, 0);
        free(clean);
    } else if (strcasecmp(cmd, "KICK") == 0 && m->nparams >= 2) {
        struct irc_chan *ch = irc_chan_find(c, m->params[0]);
        char *clean = NULL;
        if (ch)
            gone(c, ch, m->params[1], m->nparams > 2 ? text_of(c, m->params[2], &clean) : NULL, 1);
        free(clean);
    } else if (strcasecmp(cmd, "QUIT") == 0 && m->nick) {
        char *clean = NULL;
        const char *why = m->nparams ? text_of(c, m->params[0], &clean) : NULL;
        for (struct irc_chan *ch = c->chans, *next; ch; ch = next) {
            next = ch->next;
            if (irc_member_find(ch, m->nick) && strcasecmp(m->nick, c->nick) != 0)
                gone(c, ch, m->nick, why, 0);
        }
        free(clean);
    } else if (strcasecmp(cmd, "NICK") == 0) {
        on_nick(c, m);
    } else if (strcasecmp(cmd, "MODE") == 0) {
        on_mode(c, m);
    } else if (join_error(c, m)) {
        /* handled */
    } else if ((strcmp(cmd, "401") == 0 || strcmp(cmd, "404") == 0) && m->nparams >= 2 &&
               c->last_query_nick && strcasecmp(m->params[1], c->last_query_nick) == 0) {
        struct tr_error e = {TR_COND_ITEM_NOT_FOUND, ""};
        char *clean = NULL;
        snprintf(e.text, sizeof(e.text), "%s: %s", m->params[1],
                 text_of(c, m->params[m->nparams - 1], &clean));
        free(clean);
        char *local = irc_nick_local(c, m->params[1]);
        if (local)
            t->core->bounce(t->ci, c->last_query_user, local, c->last_query_id, &e);
        free(local);
    } else if (strcmp(cmd, "482") == 0 && m->nparams >= 2 && irc_chan_find(c, m->params[1])) {
        /* Not a channel operator (a topic we tried to set): said in the room. */
        char text[600], *clean = NULL;
        snprintf(text, sizeof(text), "%s", text_of(c, m->params[m->nparams - 1], &clean));
        free(clean);
        irc_room_status(c, irc_chan_find(c, m->params[1]), text);
    } else if (strcasecmp(cmd, "ERROR") == 0) {
        irc_log(t, 2, "%s says: closing link", c->server);
    } else if (cmd[0] >= '4' && cmd[0] <= '5' && strlen(cmd) == 3) {
        /* Other errors: shown from the server JID. */
        char text[600], *clean = NULL;
        snprintf(text, sizeof(text), "%s %s", cmd,
                 m->nparams > 1 ? text_of(c, m->params[m->nparams - 1], &clean) : "");
        free(clean);
        irc_deliver(c, c->user, c->server, NULL, TR_MSG_CHAT, text, NULL, NULL);
    }
}
