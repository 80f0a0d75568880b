/* IRC addressing and name validation (see irc_addr.h). */
#include "irc_addr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define LABEL_MAX 63
#define IPV6_TEXT_MAX 45 /* INET6_ADDRSTRLEN - 1 */

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ctl(int c)
{
    return c < 0x20 || c == 0x7F;
}

/* New string holding s[0..n-1] ASCII-lowercased; NULL without memory. */
static char *lower_dup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        d[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    d[n] = '\0';
    return d;
}

static int valid_ipv6(const char *s, size_t n)
{
    char tmp[IPV6_TEXT_MAX + 1];
    unsigned char addr[16];

    if (n == 0 || n > IPV6_TEXT_MAX)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, addr) == 1;
}

static int valid_hostname(const char *s)
{
    size_t label = 0;

    for (const char *p = s;; p++) {
        int c = (unsigned char)*p;
        if (c == '.' || c == '\0') {
            /* no empty label, no '-' at either end of one */
            if (label == 0 || p[-1] == '-' || p[-(long)label] == '-')
                return 0;
            if (c == '\0')
                return 1;
            label = 0;
            continue;
        }
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
            return 0;
        if (++label > LABEL_MAX)
            return 0;
    }
}

int irc_valid_server(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > IRC_SERVER_MAX)
        return 0;
    if (s[0] == '[')
        return n >= 2 && s[n - 1] == ']' && valid_ipv6(s + 1, n - 2);
    if (strchr(s, ':') != NULL)
        return valid_ipv6(s, n);
    return valid_hostname(s); /* dotted IPv4 addresses pass as host names */
}

static int is_special(int c)
{
    return c != '\0' && strchr("[]\\`_^{|}", c) != NULL;
}

int irc_valid_nick(const char *s)
{
    if (s == NULL || s[0] == '\0' || is_digit((unsigned char)s[0]) || s[0] == '-')
        return 0;
    size_t n = 0;
    for (const char *p = s; *p != '\0'; p++, n++) {
        int c = (unsigned char)*p;
        if (n >= IRC_NICK_MAX || !(is_alpha(c) || is_digit(c) || is_special(c) || c == '-'))
            return 0;
    }
    return 1;
}

int irc_valid_channel(const char *s, const char *chantypes)
{
    if (chantypes == NULL)
        chantypes = IRC_DEFAULT_CHANTYPES;
    if (s == NULL || s[0] == '\0' || strchr(chantypes, s[0]) == NULL)
        return 0;
    size_t n = strlen(s);
    if (n < 2 || n > IRC_CHANNEL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == ' ' || c == ',' || is_ctl(c)) /* BEL (\x07) is a control */
            return 0;
    }
    return 1;
}

int irc_valid_key(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > IRC_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == ' ' || c == ',' || is_ctl(c))
            return 0;
    }
    return 1;
}

void irc_casefold(char *s)
{
    if (s == NULL)
        return;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            *s = (char)(c - 'A' + 'a');
        else if (c == '[')
            *s = '{';
        else if (c == ']')
            *s = '}';
        else if (c == '\\')
            *s = '|';
        else if (c == '~')
            *s = '^';
    }
}

int irc_addr_parse(const char *local, const char *fixed_server, const char *chantypes,
                   struct irc_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (local == NULL || local[0] == '\0')
        return FERRY_EINVAL;
    if (chantypes == NULL)
        chantypes = IRC_DEFAULT_CHANTYPES;

    const char *name = NULL, *server;
    size_t name_len = 0, server_len;
    if (fixed_server != NULL && fixed_server[0] != '\0') {
        name = local; /* '%' is part of the name */
        name_len = strlen(local);
        server = fixed_server;
        server_len = strlen(fixed_server);
    } else {
        const char *pct = strchr(local, '%');
        if (pct == NULL) {
            server = local;
            server_len = strlen(local);
        } else {
            name = local;
            name_len = (size_t)(pct - local);
            server = pct + 1;
            server_len = strlen(server);
        }
    }

    out->server = lower_dup(server, server_len);
    if (out->server == NULL)
        goto nomem;
    if (!irc_valid_server(out->server))
        goto bad;
    if (name == NULL) {
        out->kind = IRC_ADDR_SERVER;
        return 0;
    }
    if (name_len == 0) {
        out->kind = IRC_ADDR_EMPTY;
        return 0;
    }
    out->name = lower_dup(name, name_len);
    if (out->name == NULL)
        goto nomem;
    if (strchr(chantypes, out->name[0]) != NULL) {
        out->kind = IRC_ADDR_CHANNEL;
        if (!irc_valid_channel(out->name, chantypes))
            goto bad;
    } else {
        out->kind = IRC_ADDR_NICK;
        if (!irc_valid_nick(out->name))
            goto bad;
    }
    return 0;

bad:
    irc_addr_clear(out);
    return FERRY_EINVAL;
nomem:
    irc_addr_clear(out);
    return FERRY_ENOMEM;
}

/* New lowercased "a%b" (b may be NULL for just a). */
static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = b != NULL ? strlen(b) : 0;
    char *s = malloc(na + nb + 2);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < na; i++)
        s[i] = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] - 'A' + 'a') : a[i];
    s[na] = '\0';
    if (b != NULL) {
        s[na] = '%';
        for (size_t i = 0; i <= nb; i++)
            s[na + 1 + i] = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] - 'A' + 'a') : b[i];
    }
    return s;
}

char *irc_addr_local(const struct irc_addr *a, const char *fixed_server)
{
    int fixed = fixed_server != NULL && fixed_server[0] != '\0';

    if (a == NULL)
        return NULL;
    switch (a->kind) {
    case IRC_ADDR_SERVER:
        return fixed || a->server == NULL ? NULL : join(a->server, NULL);
    case IRC_ADDR_EMPTY:
        return fixed || a->server == NULL ? NULL : join("", a->server);
    case IRC_ADDR_CHANNEL:
    case IRC_ADDR_NICK:
        if (a->name == NULL)
            return NULL;
        if (fixed)
            return join(a->name, NULL);
        return a->server == NULL ? NULL : join(a->name, a->server);
    }
    return NULL;
}

void irc_addr_clear(struct irc_addr *a)
{
    if (a == NULL)
        return;
    free(a->name);
    free(a->server);
    memset(a, 0, sizeof(*a));
}
