/* The connections of a transport by (user, server): a chained hash beside
 * the list, so that each stanza finds its connection in constant time
 * among thousands.  Both parts compare ASCII case-insensitively. */
#include <stdlib.h>
#include <strings.h>

#include "irc.h"

static size_t key_hash(const char *user, const char *server)
{
    /* (user, a 0 byte, server) */
    return irc_hash_fold(irc_hash_fold(IRC_HASH_INIT, user) * 16777619u, server);
}

struct irc_conn *irc_conn_lookup(struct irc *t, const char *user, const char *server)
{
    if (!t->n_buckets)
        return NULL;
    for (struct irc_conn *c = t->buckets[key_hash(user, server) & (t->n_buckets - 1)]; c;
         c = c->hnext)
        if (strcasecmp(c->user, user) == 0 && strcasecmp(c->server, server) == 0)
            return c;
    return NULL;
}

static int rehash(struct irc *t, size_t n)
{
    struct irc_conn **b = calloc(n, sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < t->n_buckets; i++)
        for (struct irc_conn *c = t->buckets[i], *next; c; c = next) {
            next = c->hnext;
            size_t k = key_hash(c->user, c->server) & (n - 1);
            c->hnext = b[k];
            b[k] = c;
        }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
    return 0;
}

int irc_conn_index_add(struct irc *t, struct irc_conn *c)
{
    if (t->n_indexed + 1 > t->n_buckets && rehash(t, t->n_buckets ? t->n_buckets * 2 : 16) != 0)
        return -1;
    size_t k = key_hash(c->user, c->server) & (t->n_buckets - 1);
    c->hnext = t->buckets[k];
    t->buckets[k] = c;
    t->n_indexed++;
    return 0;
}

void irc_conn_index_del(struct irc *t, struct irc_conn *c)
{
    if (!t->n_buckets || !c->user || !c->server)
        return; /* (a connection that failed half-made was never added) */
    for (struct irc_conn **pp = &t->buckets[key_hash(c->user, c->server) & (t->n_buckets - 1)]; *pp;
         pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            t->n_indexed--;
            return;
        }
}

void irc_conn_index_free(struct irc *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->n_buckets = t->n_indexed = 0;
}
