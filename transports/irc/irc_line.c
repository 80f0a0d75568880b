/* IRC line parser and serialiser (see irc_line.h).
 *
 * The parser copies the line once into a buffer owned by the message and
 * cuts it in place: separators become NULs and tag values are unescaped
 * where they stand (unescaping never lengthens a value). */
#include "irc_line.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

static int is_letter(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Letters only, or exactly three digits (a numeric reply). */
static int valid_command(const char *s)
{
    size_t n = strlen(s);

    if (n == 3 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]))
        return 1;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_letter((unsigned char)s[i]))
            return 0;
    return 1;
}

/* message-tags: key = ['+'] [vendor '/'] name; we accept the characters
 * of host names and key names without checking the structure further. */
static int valid_tag_key(const char *k)
{
    if (*k == '+')
        k++;
    if (*k == '\0')
        return 0;
    for (; *k != '\0'; k++) {
        int c = (unsigned char)*k;
        if (!is_letter(c) && !is_digit(c) && c != '-' && c != '.' && c != '/')
            return 0;
    }
    return 1;
}

/* Unescapes a tag value in place (see irc_line.h for the rules). */
static void unescape_value(char *s)
{
    const char *r = s;
    char *w = s;

    while (*r != '\0') {
        char c = *r++;
        if (c != '\\') {
            *w++ = c;
            continue;
        }
        c = *r;
        if (c == '\0')
            break; /* a final lone backslash is dropped */
        r++;
        switch (c) {
        case ':':
            *w++ = ';';
            break;
        case 's':
            *w++ = ' ';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 'n':
            *w++ = '\n';
            break;
        default: /* "\\" gives '\'; any other escaped character is itself */
            *w++ = c;
            break;
        }
    }
    *w = '\0';
}

/* Splits the tag section s (without the '@', NUL-terminated) into m->tags. */
static void parse_tags(char *s, struct irc_msg *m)
{
    char *p = s;

    while (p != NULL) {
        char *next = strchr(p, ';');
        if (next != NULL)
            *next++ = '\0';
        const char *value = "";
        char *eq = strchr(p, '=');
        if (eq != NULL) {
            *eq = '\0';
            unescape_value(eq + 1);
            value = eq + 1;
        }
        if (valid_tag_key(p) && m->ntags < IRC_MAX_TAGS) {
            m->tags[m->ntags].key = p;
            m->tags[m->ntags].value = value;
            m->ntags++;
        }
        p = next;
    }
}

/* Splits "nick!user@host" (NUL-terminated, without the ':').  Returns 0, or
 * -1 when the nick part is empty. */
static int split_prefix(char *s, struct irc_msg *m)
{
    char *at = strchr(s, '@');
    char *bang = strchr(s, '!');

    if (bang != NULL && at != NULL && bang > at)
        bang = NULL; /* a '!' after the '@' belongs to the host */
    if (at != NULL) {
        *at = '\0';
        if (at[1] != '\0')
            m->host = at + 1;
    }
    if (bang != NULL) {
        *bang = '\0';
        if (bang[1] != '\0')
            m->user = bang + 1;
    }
    if (*s == '\0')
        return -1;
    m->nick = s;
    return 0;
}

static char *skip_spaces(char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* Ends the word at p with a NUL; returns where the next part starts. */
static char *cut_word(char *p)
{
    char *sp = strchr(p, ' ');
    if (sp == NULL)
        return p + strlen(p);
    *sp = '\0';
    return sp + 1;
}

int irc_parse(const char *line, size_t len, struct irc_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (line == NULL)
        return FERRY_EINVAL;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return FERRY_EINVAL;
    if (len > IRC_LINE_MAX)
        return FERRY_ERANGE;
    if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL ||
        memchr(line, '\n', len) != NULL)
        return FERRY_EINVAL;

    char *buf = malloc(len + 1);
    if (buf == NULL)
        return FERRY_ENOMEM;
    memcpy(buf, line, len);
    buf[len] = '\0';
    out->buf = buf;

    char *p = buf;
    if (*p == '@') {
        char *end = strchr(p, ' ');
        if (end == NULL)
            goto bad; /* tags and nothing else */
        *end = '\0';
        parse_tags(p + 1, out);
        p = end + 1;
    }
    p = skip_spaces(p);
    if (*p == ':') {
        char *end = strchr(p, ' ');
        if (end == NULL)
            goto bad; /* a prefix and no command */
        *end = '\0';
        if (split_prefix(p + 1, out) < 0)
            goto bad;
        p = skip_spaces(end + 1);
    }
    if (*p == '\0')
        goto bad;
    out->command = p;
    p = cut_word(p);
    if (!valid_command(out->command))
        goto bad;

    for (;;) {
        p = skip_spaces(p);
        if (*p == '\0')
            break;
        if (out->nparams == IRC_MAX_PARAMS)
            goto bad;
        if (*p == ':') {
            out->params[out->nparams++] = p + 1; /* trailing: the rest */
            break;
        }
        out->params[out->nparams++] = p;
        p = cut_word(p);
    }
    return 0;

bad:
    irc_msg_clear(out);
    return FERRY_EINVAL;
}

void irc_msg_clear(struct irc_msg *m)
{
    if (m == NULL)
        return;
    free(m->buf);
    memset(m, 0, sizeof(*m));
}

const char *irc_msg_tag(const struct irc_msg *m, const char *key)
{
    if (m == NULL || key == NULL)
        return NULL;
    for (size_t i = m->ntags; i > 0; i--)
        if (strcmp(m->tags[i - 1].key, key) == 0)
            return m->tags[i - 1].value;
    return NULL;
}

/* Bounded output: appends set `over` instead of writing past cap. */
struct outbuf {
    char *s;
    size_t cap; /* bytes usable, NUL excluded */
    size_t len;
    int over;
};

static void put(struct outbuf *b, const char *s, size_t n)
{
    if (b->over || n > b->cap - b->len) {
        b->over = 1;
        return;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
}

static void puts_(struct outbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

int irc_build(char *out, size_t outlen, const char *command, size_t n, const char *const *params)
{
    if (out != NULL && outlen > 0)
        out[0] = '\0';
    if (out == NULL || command == NULL || !valid_command(command) || n > IRC_MAX_PARAMS ||
        (n > 0 && params == NULL))
        return FERRY_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const char *p = params[i];
        if (p == NULL || strpbrk(p, "\r\n") != NULL)
            return FERRY_EINVAL;
        if (i + 1 < n && (p[0] == '\0' || p[0] == ':' || strchr(p, ' ') != NULL))
            return FERRY_EINVAL;
    }
    if (outlen == 0)
        return FERRY_ERANGE;

    struct outbuf b = {out, outlen - 1, 0, 0};
    if (b.cap > IRC_OUT_MAX)
        b.cap = IRC_OUT_MAX;
    puts_(&b, command);
    for (size_t i = 0; i < n; i++) {
        const char *p = params[i];
        put(&b, " ", 1);
        if (i + 1 == n && (p[0] == '\0' || p[0] == ':' || strchr(p, ' ') != NULL))
            put(&b, ":", 1);
        puts_(&b, p);
    }
    put(&b, "\r\n", 2);
    if (b.over) {
        out[0] = '\0';
        return FERRY_ERANGE;
    }
    out[b.len] = '\0';
    return (int)b.len;
}
