/* IRC rooms: the XEP-0045 presence and messages that show a channel and
 * its members to the user's resources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc.h"
#include "irc_addr.h"
#include "irc_line.h"

/* The room's JID local part for channel name on this connection. */
char *irc_room_of(struct irc_conn *c, const char *chan)
{
    struct irc_addr a = {IRC_ADDR_CHANNEL, (char *)chan, c->server};
    return irc_addr_local(&a, c->t->fixed_server);
}
char *irc_lower_dup(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; p && *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return d;
}

char *irc_nick_local(struct irc_conn *c, const char *nick)
{
    struct irc_addr a = {IRC_ADDR_NICK, NULL, c->server};
    char *lower = irc_lower_dup(nick);
    a.name = lower;
    char *l = lower ? irc_addr_local(&a, c->t->fixed_server) : NULL;
    free(lower);
    return l;
}
static enum tr_role role_of(char prefix)
{
    return prefix == '@' || prefix == '~' || prefix == '&' || prefix == '%' ? TR_ROLE_MODERATOR
                                                                            : TR_ROLE_PARTICIPANT;
}
static enum tr_affiliation aff_of(char prefix)
{
    return prefix == '~'                    ? TR_AFF_OWNER
           : prefix == '@' || prefix == '&' ? TR_AFF_ADMIN
                                            : TR_AFF_NONE;
}
/* Occupant presence of nick to one resource (or all when res is NULL). */
void irc_occupant(struct irc_conn *c, struct irc_chan *ch, const char *nick, char prefix,
                  int available, const char *status, const int *codes, size_t n_codes,
                  const char *new_nick, const char *res)
{
    char *room = irc_room_of(c, ch->name);
    /* The room is non-anonymous (its disco#info says so): each occupant's
     * item carries a real JID, the user's own for self, else the IRC
     * nick's 1:1 address on this gateway (clients open private chats
     * with it; some crashed without one). */
    int self = strcasecmp(nick, c->nick) == 0; /* (110: also the new nick of a rename) */
    for (size_t k = 0; k < n_codes; k++)
        self |= codes[k] == 110;
    char *real = self ? NULL : irc_nick_local(c, nick);
    for (size_t i = 0; room && i < ch->n_res; i++) {
        if (res && strcmp(res, ch->res[i]) != 0)
            continue;
        struct tr_presence_out p = {
            .real_jid = self ? ch->res[i] : NULL,
            .real_local = real,
            .user = ch->res[i],
            .from_local = room,
            .from_resource = nick,
            .available = available,
            .status = status,
            .muc = 1,
            /* A nick change (303) keeps the role (XEP-0045 §7.6): only a
             * real departure is role none. */
            .role = available || new_nick ? role_of(prefix) : TR_ROLE_NONE,
            .affiliation = aff_of(prefix),
            .new_nick = new_nick,
        };
        for (size_t k = 0; k < n_codes && k < 6; k++)
            p.codes[p.n_codes++] = codes[k];
        c->t->core->presence(c->t->ci, &p);
    }
    free(real);
    free(room);
}
void irc_send_occupants(struct irc_conn *c, struct irc_chan *ch, const char *resource)
{
    size_t it = 0;
    for (struct irc_member *m; (m = irc_member_next(ch, &it));)
        if (strcasecmp(m->nick, c->nick) != 0)
            irc_occupant(c, ch, m->nick, m->prefix, 1, NULL, NULL, 0, NULL, resource);
}
void irc_deliver(struct irc_conn *c, const char *user, const char *from_local, const char *from_res,
                 enum tr_msg_type type, const char *text, const char *subject, const char *id)
{
    struct tr_inbound in = {.user = user,
                            .from_local = from_local,
                            .from_resource = from_res,
                            .id = id,
                            .body = text,
                            .body_len = text ? strlen(text) : 0,
                            .type = type,
                            .subject = subject,
                            .hold_ms = c->t->hold_ms};
    if (c->t->core->deliver(c->t->ci, &in) != 0)
        irc_log(c->t, 0, "could not store a message from IRC for delivery");
}
void irc_send_self(struct irc_conn *c, struct irc_chan *ch, const char *resource)
{
    struct irc_member *me = irc_member_find(ch, c->nick);
    int codes[] = {110};
    irc_occupant(c, ch, c->nick, me ? me->prefix : 0, 1, NULL, codes, 1, NULL, resource);
    char *room = irc_room_of(c, ch->name);
    /* The subject ends the join (XEP-0045 §7.2.15); history is not replayed. */
    if (room)
        irc_deliver(c, resource, room, NULL, TR_MSG_GROUPCHAT, NULL, ch->topic ? ch->topic : "",
                    NULL);
    free(room);
}
void irc_room_status(struct irc_conn *c, struct irc_chan *ch, const char *text)
{
    char *room = irc_room_of(c, ch->name);
    for (size_t i = 0; room && i < ch->n_res; i++)
        irc_deliver(c, ch->res[i], room, NULL, TR_MSG_GROUPCHAT, text, NULL, NULL);
    free(room);
}
/* A failed join: an error presence to every resource waiting, room gone. */
void irc_join_failed(struct irc_conn *c, struct irc_chan *ch, enum tr_cond cond, const char *text)
{
    char *room = irc_room_of(c, ch->name);
    for (size_t i = 0; room && i < ch->n_res; i++) {
        struct tr_presence_out p = {
            .user = ch->res[i], .from_local = room, .from_resource = c->nick, .error = 1};
        p.err.cond = cond;
        snprintf(p.err.text, sizeof(p.err.text), "%s", text);
        c->t->core->presence(c->t->ci, &p);
    }
    free(room);
    irc_chan_remove(c, ch);
}
void irc_fail_all_joins(struct irc_conn *c, enum tr_cond cond, const char *text)
{
    while (c->chans)
        irc_join_failed(c, c->chans, cond, text);
}
