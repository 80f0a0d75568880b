/* Channel members: a hash set per channel (open addressing, linear
 * probing), so that a JOIN, PART or NICK in a channel of a thousand costs
 * the same as in a channel of ten.  Nicks compare ASCII case-insensitively,
 * as everywhere else in the transport. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc.h"

size_t irc_hash_fold(size_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ (size_t)tolower(*p)) * 16777619u;
    return h;
}

static size_t nick_hash(const char *nick)
{
    return irc_hash_fold(IRC_HASH_INIT, nick);
}

/* The slot holding nick, or the empty slot where it would go. */
static size_t slot_of(const struct irc_members *s, const char *nick)
{
    size_t mask = s->cap - 1, i = nick_hash(nick) & mask;
    while (s->slot[i] && strcasecmp(s->slot[i]->nick, nick) != 0)
        i = (i + 1) & mask;
    return i;
}

struct irc_member *irc_member_find(struct irc_chan *ch, const char *nick)
{
    const struct irc_members *s = &ch->members;
    return s->cap ? s->slot[slot_of(s, nick)] : NULL;
}

static int grow(struct irc_members *s)
{
    size_t cap = s->cap ? s->cap * 2 : 8;
    struct irc_members n = {calloc(cap, sizeof(*n.slot)), cap, s->n};
    if (!n.slot)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i])
            n.slot[slot_of(&n, s->slot[i]->nick)] = s->slot[i];
    free(s->slot);
    *s = n;
    return 0;
}

struct irc_member *irc_member_add(struct irc_chan *ch, const char *nick, char prefix)
{
    struct irc_members *s = &ch->members;
    struct irc_member *m = irc_member_find(ch, nick);
    if (m) {
        m->prefix = prefix;
        return m;
    }
    if ((s->n + 1) * 4 > s->cap * 3 && grow(s) != 0) /* load at most 3/4 */
        return NULL;
    size_t len = strlen(nick);
    if (!(m = malloc(sizeof(*m) + len + 1)))
        return NULL;
    m->prefix = prefix;
    memcpy(m->nick, nick, len + 1);
    s->slot[slot_of(s, nick)] = m;
    s->n++;
    return m;
}

void irc_member_del(struct irc_chan *ch, const char *nick)
{
    struct irc_members *s = &ch->members;
    if (!s->cap)
        return;
    size_t mask = s->cap - 1, i = slot_of(s, nick);
    if (!s->slot[i])
        return;
    free(s->slot[i]);
    s->slot[i] = NULL;
    s->n--;
    /* Backward shift: move up every entry of the run after the hole that
     * may sit in it, so that lookups never stop early at the hole. */
    for (size_t j = (i + 1) & mask; s->slot[j]; j = (j + 1) & mask) {
        size_t home = nick_hash(s->slot[j]->nick) & mask;
        /* j's entry may move to i when home is not cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            s->slot[i] = s->slot[j];
            s->slot[j] = NULL;
            i = j;
        }
    }
}

struct irc_member *irc_member_next(struct irc_chan *ch, size_t *it)
{
    const struct irc_members *s = &ch->members;
    while (*it < s->cap) {
        struct irc_member *m = s->slot[(*it)++];
        if (m)
            return m;
    }
    return NULL;
}

void irc_members_clear(struct irc_chan *ch)
{
    struct irc_members *s = &ch->members;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    memset(s, 0, sizeof(*s));
}
