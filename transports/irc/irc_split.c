/* Message body to IRC texts (see irc_split.h). */
#include "irc_split.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "irc_line.h"

/* "\x01ACTION " before the text and "\x01" after it. */
#define ACTION_OVERHEAD 9
/* Room for at least one UTF-8 character per chunk. */
#define MIN_BUDGET 4

static int is_letter(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Bytes kept in a line: printable, TAB, and IRC formatting codes. */
static int keep_byte(unsigned char c)
{
    if (c >= 0x20 || c == '\t')
        return 1;
    switch (c) {
    case 0x02: /* bold */
    case 0x03: /* colour */
    case 0x04: /* hex colour */
    case 0x0f: /* reset */
    case 0x11: /* monospace */
    case 0x16: /* reverse */
    case 0x1d: /* italic */
    case 0x1e: /* strikethrough */
    case 0x1f: /* underline */
        return 1;
    default:
        return 0;
    }
}

static int is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

long irc_split_budget(const char *command, const char *target, size_t prefix_len, int action)
{
    if (command == NULL || target == NULL || command[0] == '\0' || target[0] == '\0' ||
        target[0] == ':' || strpbrk(target, " \r\n") != NULL)
        return FERRY_EINVAL;
    for (const char *c = command; *c != '\0'; c++)
        if (!is_letter((unsigned char)*c))
            return FERRY_EINVAL;

    size_t clen = strlen(command), tlen = strlen(target);
    if (clen > IRC_OUT_MAX || tlen > IRC_OUT_MAX || prefix_len > IRC_OUT_MAX)
        return FERRY_ERANGE;
    /* ':' prefix ' ' command ' ' target ' :' text '\r\n' */
    size_t fixed = 1 + prefix_len + 1 + clen + 1 + tlen + 2 + 2;
    if (action)
        fixed += ACTION_OVERHEAD;
    if (fixed + MIN_BUDGET > IRC_OUT_MAX)
        return FERRY_ERANGE;
    return (long)(IRC_OUT_MAX - fixed);
}

static int push(struct irc_chunks *out, size_t *cap, const char *s, size_t n)
{
    if (out->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **ns = realloc(out->s, ncap * sizeof(*ns));
        if (ns == NULL)
            return FERRY_ENOMEM;
        out->s = ns;
        *cap = ncap;
    }
    char *c = malloc(n + 1);
    if (c == NULL)
        return FERRY_ENOMEM;
    memcpy(c, s, n);
    c[n] = '\0';
    out->s[out->n++] = c;
    return 0;
}

/* Length of the next chunk of a line longer than budget (>= MIN_BUDGET). */
static size_t chunk_len(const char *line, size_t budget)
{
    size_t cut = budget;

    /* line[cut] starts the next chunk: step back over at most 3
     * continuation bytes (a character has at most 4 bytes).  A longer run
     * is invalid UTF-8 and is cut where it stands. */
    for (int i = 0; i < 3 && cut > 1 && is_continuation((unsigned char)line[cut]); i++)
        cut--;
    if (is_continuation((unsigned char)line[cut]))
        cut = budget;

    /* Prefer the last space if the chunk keeps at least 70% of the budget;
     * the space stays at the end of this chunk. */
    for (size_t sp = cut; sp > 0; sp--) {
        if (line[sp - 1] == ' ') {
            if (sp * 10 >= budget * 7)
                cut = sp;
            break;
        }
    }
    return cut;
}

static int emit_line(const char *line, size_t n, size_t budget, struct irc_chunks *out, size_t *cap)
{
    size_t pos = 0;

    while (pos < n) {
        size_t take = n - pos;
        if (take > budget)
            take = chunk_len(line + pos, budget);
        int rc = push(out, cap, line + pos, take);
        if (rc < 0)
            return rc;
        pos += take;
    }
    return 0;
}

int irc_split(const char *body, size_t len, const char *command, const char *target,
              size_t prefix_len, int action, struct irc_chunks *out)
{
    memset(out, 0, sizeof(*out));
    long budget = irc_split_budget(command, target, prefix_len, action);
    if (budget < 0)
        return (int)budget;
    if (body == NULL && len > 0)
        return FERRY_EINVAL;
    if (len == 0)
        return 0;

    char *line = malloc(len);
    if (line == NULL)
        return FERRY_ENOMEM;
    size_t cap = 0, i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        size_t n = 0;
        for (; i < len && body[i] != '\r' && body[i] != '\n'; i++)
            if (keep_byte((unsigned char)body[i]))
                line[n++] = body[i];
        if (i < len) /* one separator: "\r\n", "\r" or "\n" */
            i += body[i] == '\r' && i + 1 < len && body[i + 1] == '\n' ? 2 : 1;
        rc = emit_line(line, n, (size_t)budget, out, &cap);
    }
    free(line);
    if (rc < 0)
        irc_chunks_clear(out);
    return rc;
}

void irc_chunks_clear(struct irc_chunks *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->s[i]);
    free(c->s);
    c->s = NULL;
    c->n = 0;
}
