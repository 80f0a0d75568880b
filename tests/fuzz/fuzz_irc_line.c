/* libFuzzer target for the IRC protocol helpers (transports/irc/irc_*.c).
 * The same bytes are fed to:
 *  - irc_parse: on success the message is well formed (valid command, at
 *    most 15 parameters, middle parameters without spaces) and rebuilds
 *    with irc_build unless too long; the rebuilt line has no CR, LF or NUL
 *    before its final CR LF, fits 512 bytes and parses back the same;
 *  - irc_build, with the bytes cut at NULs into a command and parameters:
 *    whatever it accepts has the same properties;
 *  - irc_text_to_utf8 in each charset: always clean text;
 *  - irc_split: chunks without CR, LF or NUL, within the budget;
 *  - irc_ctcp_parse: results inside the input;
 *  - irc_addr_parse: what parses rebuilds to a local part that parses the
 *    same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "irc/irc_addr.h"
#include "irc/irc_line.h"
#include "irc/irc_split.h"
#include "irc/irc_text.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A built line: ends with CR LF, no CR, LF or NUL before, <= 512 bytes, and
 * parses back to command and params. */
static void check_built(const char *out, int n, const char *command, size_t np,
                        const char *const *params)
{
    size_t len = (size_t)n;
    if (len < 3 || len > IRC_OUT_MAX || strlen(out) != len || memcmp(out + len - 2, "\r\n", 2))
        abort();
    if (memchr(out, '\r', len - 2) || memchr(out, '\n', len - 2))
        abort();
    struct irc_msg m;
    if (irc_parse(out, len, &m) != 0 || strcmp(m.command, command) != 0 || m.nparams != np)
        abort();
    for (size_t i = 0; i < np; i++)
        if (strcmp(m.params[i], params[i]) != 0)
            abort();
    if (m.nick != NULL || m.ntags != 0)
        abort();
    irc_msg_clear(&m);
}

static void fuzz_parse(const char *in, size_t size)
{
    struct irc_msg m;
    char out[IRC_OUT_MAX + 1];
    int rc = irc_parse(in, size, &m);

    if (rc != 0) {
        if ((rc != FERRY_EINVAL && rc != FERRY_ERANGE) || m.buf != NULL || m.command != NULL)
            abort();
        return;
    }
    if (m.command == NULL || m.command[0] == '\0' || m.nparams > IRC_MAX_PARAMS ||
        m.ntags > IRC_MAX_TAGS)
        abort();
    for (size_t i = 0; i < m.nparams; i++) {
        const char *p = m.params[i];
        if (strpbrk(p, "\r\n") != NULL)
            abort();
        if (i + 1 < m.nparams && (p[0] == '\0' || p[0] == ':' || strchr(p, ' ') != NULL))
            abort();
    }
    for (size_t i = 0; i < m.ntags; i++)
        if (m.tags[i].key[0] == '\0' || irc_msg_tag(&m, m.tags[i].key) == NULL)
            abort();
    if ((m.nick != NULL && m.nick[0] == '\0') || (m.user != NULL && m.user[0] == '\0') ||
        (m.host != NULL && m.host[0] == '\0'))
        abort();

    int n = irc_build(out, sizeof(out), m.command, m.nparams, m.params);
    if (n > 0)
        check_built(out, n, m.command, m.nparams, m.params);
    else if (n != FERRY_ERANGE) /* a parsed message is always well formed */
        abort();
    irc_msg_clear(&m);
}

/* Cuts the bytes at NULs: the first piece is the command, the rest params. */
static void fuzz_build(const char *in, size_t size)
{
    char *copy = malloc(size + 1);
    const char *pieces[IRC_MAX_PARAMS + 2];
    size_t np = 0;
    char out[IRC_OUT_MAX + 1];

    if (copy == NULL)
        return;
    memcpy(copy, in, size);
    copy[size] = '\0';
    for (size_t i = 0; i <= size && np < IRC_MAX_PARAMS + 2;) {
        pieces[np++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    int n = irc_build(out, sizeof(out), pieces[0], np - 1, pieces + 1);
    if (n > 0)
        check_built(out, n, pieces[0], np - 1, pieces + 1);
    else if (n != FERRY_EINVAL && n != FERRY_ERANGE)
        abort();
    else if (out[0] != '\0')
        abort();
    free(copy);
}

static void fuzz_text(const char *in, size_t size)
{
    const char *charsets[] = {NULL, "cp1252", "utf-8"};
    for (size_t c = 0; c < 3; c++) {
        size_t n = 0;
        char *out = irc_text_to_utf8(in, size, charsets[c], &n);
        if (out == NULL || out[n] != '\0' || strlen(out) != n || n > 3 * size ||
            !text_is_clean(out, n))
            abort();
        free(out);
    }

    const char *cmd = NULL, *arg = NULL;
    size_t cl = 0, al = 0;
    if (irc_ctcp_parse(in, size, &cmd, &cl, &arg, &al) != IRC_CTCP_NONE) {
        if (cmd != in + 1 || cl == 0 || arg < cmd + cl || arg + al > in + size)
            abort();
    }
}

static void fuzz_split(const char *in, size_t size)
{
    struct irc_chunks ch;
    size_t prefix = size % 128;
    int action = (int)(size & 1);
    long budget = irc_split_budget("PRIVMSG", "#chan", prefix, action);
    size_t total = 0;
    char out[IRC_OUT_MAX + 1];

    if (budget < 4 || irc_split(in, size, "PRIVMSG", "#chan", prefix, action, &ch) != 0)
        abort();
    for (size_t i = 0; i < ch.n; i++) {
        size_t n = strlen(ch.s[i]);
        if (n == 0 || n > (size_t)budget || strpbrk(ch.s[i], "\r\n\x01") != NULL)
            abort();
        total += n;
        const char *p[2] = {"#chan", ch.s[i]};
        if (irc_build(out, sizeof(out), "PRIVMSG", 2, p) <= 0)
            abort();
    }
    if (total > size)
        abort();
    irc_chunks_clear(&ch);
}

static void fuzz_addr(const char *in, size_t size)
{
    char local[256];
    size_t n = size < sizeof(local) - 1 ? size : sizeof(local) - 1;
    memcpy(local, in, n);
    local[n] = '\0';

    const char *fixed[] = {NULL, "irc.example.org"};
    for (size_t f = 0; f < 2; f++) {
        struct irc_addr a, b;
        if (irc_addr_parse(local, fixed[f], NULL, &a) != 0) {
            if (a.name != NULL || a.server != NULL)
                abort();
            continue;
        }
        char *back = irc_addr_local(&a, fixed[f]);
        if (back == NULL || irc_addr_parse(back, fixed[f], NULL, &b) != 0 || a.kind != b.kind ||
            strcmp(a.server, b.server) != 0 || (a.name == NULL) != (b.name == NULL) ||
            (a.name != NULL && strcmp(a.name, b.name) != 0))
            abort();
        free(back);
        irc_addr_clear(&a);
        irc_addr_clear(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;

    fuzz_parse(in, size);
    fuzz_build(in, size);
    fuzz_text(in, size);
    fuzz_split(in, size);
    fuzz_addr(in, size);
    return 0;
}
