/* JIDs and XEP-0106 escaping (see jid.h).
 *
 * Character rules applied on top of the header's list, for every part:
 * the text must be valid UTF-8 free of control characters (C0, DEL and the
 * C1 range U+0080..U+009F) and of U+FFFE/U+FFFF, so that a parsed JID can
 * always be put into a stanza as is.  Local and domain parts also reject
 * whitespace, which here means ASCII whitespace plus the Unicode space
 * separators (U+00A0, U+1680, U+2000..U+200A, U+202F, U+205F, U+3000) and
 * the line/paragraph separators U+2028/U+2029. */
#include "jid.h"

#include "err.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum part_kind { PART_LOCAL, PART_DOMAIN, PART_RESOURCE };

/* Decodes one code point from UTF-8 already known to be valid. */
static uint32_t next_cp(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t cp;
    int extra;

    if (p[0] < 0x80) {
        *pp = p + 1;
        return p[0];
    }
    if (p[0] < 0xE0) {
        cp = p[0] & 0x1Fu;
        extra = 1;
    } else if (p[0] < 0xF0) {
        cp = p[0] & 0x0Fu;
        extra = 2;
    } else {
        cp = p[0] & 0x07u;
        extra = 3;
    }
    for (int i = 1; i <= extra; i++)
        cp = (cp << 6) | (p[i] & 0x3Fu);
    *pp = p + 1 + extra;
    return cp;
}

static int is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static int is_space(uint32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* The eight characters RFC 7622 forbids in a local part (space aside). */
static int is_local_special(uint32_t cp)
{
    return cp != 0 && cp < 0x80 && strchr("\"&'/:<>@", (int)cp) != NULL;
}

/* Checks one part of len bytes (len >= 1 already checked by the caller). */
static int check_part(const char *s, size_t len, enum part_kind kind)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;

    if (len > JID_PART_MAX)
        return FERRY_EINVAL;
    /* Rejects invalid UTF-8, C0 controls (NUL included), U+FFFE/U+FFFF;
     * TAB, LF and CR, which it accepts, are controls caught below. */
    if (!text_is_clean(s, len))
        return FERRY_EINVAL;
    while (p < end) {
        uint32_t cp = next_cp(&p);

        if (is_control(cp))
            return FERRY_EINVAL;
        if (kind != PART_RESOURCE && is_space(cp))
            return FERRY_EINVAL;
        if (kind == PART_LOCAL && is_local_special(cp))
            return FERRY_EINVAL;
        if (kind == PART_DOMAIN && cp == '@')
            return FERRY_EINVAL;
    }
    return 0;
}

static char *dup_range(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d != NULL) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

int jid_parse(const char *s, struct jid *out)
{
    const char *slash, *at, *dom;
    size_t n, dom_len;

    if (out == NULL)
        return FERRY_EINVAL;
    memset(out, 0, sizeof *out);
    if (s == NULL || *s == '\0')
        return FERRY_EINVAL;

    /* Resource: everything after the first '/', which may hold '@' and '/'.
     * Local part: what precedes the first '@' before that '/'. */
    n = strlen(s);
    slash = memchr(s, '/', n);
    if (slash == NULL)
        slash = s + n;
    at = memchr(s, '@', (size_t)(slash - s));
    dom = at != NULL ? at + 1 : s;
    dom_len = (size_t)(slash - dom);

    if (at != NULL && (at == s || check_part(s, (size_t)(at - s), PART_LOCAL) < 0))
        return FERRY_EINVAL;
    if (dom_len == 0 || check_part(dom, dom_len, PART_DOMAIN) < 0)
        return FERRY_EINVAL;
    if (*slash == '/' &&
        (slash[1] == '\0' || check_part(slash + 1, strlen(slash + 1), PART_RESOURCE) < 0))
        return FERRY_EINVAL;

    if (at != NULL && (out->local = dup_range(s, (size_t)(at - s))) == NULL)
        goto nomem;
    if ((out->domain = dup_range(dom, dom_len)) == NULL)
        goto nomem;
    for (char *c = out->domain; *c != '\0'; c++) /* ASCII only: UTF-8 stays */
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    if (*slash == '/' && (out->resource = strdup(slash + 1)) == NULL)
        goto nomem;
    return 0;

nomem:
    jid_clear(out);
    return FERRY_ENOMEM;
}

void jid_clear(struct jid *j)
{
    if (j == NULL)
        return;
    free(j->local);
    free(j->domain);
    free(j->resource);
    memset(j, 0, sizeof *j);
}

char *jid_join(const char *local, const char *domain, const char *resource)
{
    size_t ll, dl, rl;
    char *s, *p;

    if (domain == NULL || *domain == '\0')
        return NULL;
    /* An empty local part or resource is treated as absent. */
    ll = local != NULL ? strlen(local) : 0;
    dl = strlen(domain);
    rl = resource != NULL ? strlen(resource) : 0;
    s = malloc(ll + dl + rl + 3);
    if (s == NULL)
        return NULL;
    p = s;
    if (ll > 0) {
        memcpy(p, local, ll);
        p += ll;
        *p++ = '@';
    }
    memcpy(p, domain, dl);
    p += dl;
    if (rl > 0) {
        *p++ = '/';
        memcpy(p, resource, rl);
        p += rl;
    }
    *p = '\0';
    return s;
}

char *jid_bare(const char *full)
{
    struct jid j;
    char *s;

    if (jid_parse(full, &j) < 0)
        return NULL;
    s = jid_join(j.local, j.domain, NULL);
    jid_clear(&j);
    return s;
}

int jid_bare_equal(const char *a, const char *b)
{
    struct jid ja, jb;
    int eq = 0;

    if (jid_parse(a, &ja) < 0)
        return 0;
    if (jid_parse(b, &jb) == 0) {
        /* Domains are lowercased by jid_parse; local parts are compared
         * exactly (no PRECIS case mapping). */
        eq = strcmp(ja.domain, jb.domain) == 0 &&
             (ja.local == NULL ? jb.local == NULL
                               : jb.local != NULL && strcmp(ja.local, jb.local) == 0);
        jid_clear(&jb);
    }
    jid_clear(&ja);
    return eq;
}

/* XEP-0106 table.  Only the lowercase spellings are escape sequences
 * ("\2F" is not one), as listed by the XEP. */
static const struct {
    char c;
    char hex[3];
} ESCAPES[] = {
    {' ', "20"}, {'"', "22"}, {'&', "26"}, {'\'', "27"}, {'/', "2f"},
    {':', "3a"}, {'<', "3c"}, {'>', "3e"}, {'@', "40"},  {'\\', "5c"},
};

#define N_ESCAPES (sizeof ESCAPES / sizeof ESCAPES[0])

/* The character that "\" followed by s[0] s[1] stands for, or 0 when those
 * two characters are not one of the ten sequences. */
static char escape_decodes_to(const char *s)
{
    if (s[0] == '\0' || s[1] == '\0')
        return 0;
    for (size_t i = 0; i < N_ESCAPES; i++)
        if (s[0] == ESCAPES[i].hex[0] && s[1] == ESCAPES[i].hex[1])
            return ESCAPES[i].c;
    return 0;
}

static const char *escape_for(char c)
{
    for (size_t i = 0; i < N_ESCAPES; i++)
        if (ESCAPES[i].c == c)
            return ESCAPES[i].hex;
    return NULL;
}

int jid_escape_local(const char *in, char **out)
{
    size_t n, o = 0;
    char *s;

    if (out == NULL)
        return FERRY_EINVAL;
    *out = NULL;
    if (in == NULL)
        return FERRY_EINVAL;
    n = strlen(in);
    /* Nothing to escape into; a space at either end must not be escaped
     * (XEP-0106 §3.2). */
    if (n == 0 || in[0] == ' ' || in[n - 1] == ' ')
        return FERRY_EINVAL;
    /* Characters with no escape that no local part may hold: invalid
     * UTF-8, controls, whitespace other than the space. */
    if (!text_is_clean(in, n))
        return FERRY_EINVAL;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0';) {
        uint32_t cp = next_cp(&p);

        if (is_control(cp) || (cp != ' ' && is_space(cp)))
            return FERRY_EINVAL;
    }

    if (n > JID_PART_MAX) /* escaping never shortens */
        return FERRY_ERANGE;
    s = malloc(3 * n + 1); /* every byte becomes at most 3 */
    if (s == NULL)
        return FERRY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *hex = escape_for(in[i]);

        /* A backslash is escaped only when the two characters after it
         * would otherwise be read back as an escape sequence:
         * "c:\net" -> "c\3a\net" but "c:\5commas" -> "c\3a\5c5commas". */
        if (hex != NULL && (in[i] != '\\' || escape_decodes_to(in + i + 1) != 0)) {
            s[o++] = '\\';
            s[o++] = hex[0];
            s[o++] = hex[1];
        } else {
            s[o++] = in[i];
        }
    }
    s[o] = '\0';
    if (o > JID_PART_MAX) {
        free(s);
        return FERRY_ERANGE;
    }
    *out = s;
    return 0;
}

int jid_unescape_local(const char *in, char **out)
{
    size_t n, o = 0;
    char *s;

    if (out == NULL)
        return FERRY_EINVAL;
    *out = NULL;
    if (in == NULL)
        return FERRY_EINVAL;
    n = strlen(in);
    if (!text_is_clean(in, n))
        return FERRY_EINVAL;
    s = malloc(n + 1); /* unescaping never lengthens */
    if (s == NULL)
        return FERRY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = in[i] == '\\' ? escape_decodes_to(in + i + 1) : 0;

        if (c != 0) {
            s[o++] = c;
            i += 2;
        } else {
            s[o++] = in[i];
        }
    }
    s[o] = '\0';
    *out = s;
    return 0;
}
