/* IRC text to clean UTF-8, and CTCP framing (see irc_text.h). */
#include "irc_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

enum charset { CS_LATIN1, CS_CP1252, CS_UTF8 };

static const char *const LATIN1_NAMES[] = {"latin1", "iso-8859-1", "iso8859-1", NULL};
static const char *const CP1252_NAMES[] = {"cp1252", "windows-1252", NULL};
static const char *const UTF8_NAMES[] = {"utf-8", "utf8", NULL};

/* Windows-1252 0x80-0x9F (WHATWG encoding standard); the unassigned 81, 8D,
 * 8F, 90 and 9D map to the C1 code point of the same value. */
static const uint16_t CP1252_C1[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static int in_list(const char *name, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcasecmp(name, *list) == 0)
            return 1;
    return 0;
}

int irc_charset_valid(const char *name)
{
    return name != NULL && (in_list(name, LATIN1_NAMES) || in_list(name, CP1252_NAMES) ||
                            in_list(name, UTF8_NAMES));
}

static enum charset charset_of(const char *name)
{
    if (name != NULL && in_list(name, CP1252_NAMES))
        return CS_CP1252;
    if (name != NULL && in_list(name, UTF8_NAMES))
        return CS_UTF8;
    return CS_LATIN1;
}

/* Length of the well-formed UTF-8 sequence at p[0..n-1] (n >= 1), or 0 when
 * it is invalid; then *bad gets the length of the maximal invalid subpart
 * (>= 1).  Second-byte ranges exclude overlongs, surrogates and code
 * points above U+10FFFF (Unicode Table 3-7). */
static size_t utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
    unsigned char b = p[0], lo = 0x80, hi = 0xBF;
    size_t need;

    *bad = 1;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        lo = b == 0xE0 ? 0xA0 : 0x80;
        hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        lo = b == 0xF0 ? 0x90 : 0x80;
        hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need;
}

static int utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0, bad;

    while (i < n) {
        size_t k = utf8_seq(p + i, n - i, &bad);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

static size_t put_cp(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Decodes invalid UTF-8 with the fallback charset into out (room for
 * 3 * n bytes); returns the length written.  Controls are kept: the
 * formatting codes are removed afterwards. */
static size_t decode(const unsigned char *p, size_t n, enum charset cs, char *out)
{
    size_t w = 0, i = 0, bad;

    while (i < n) {
        unsigned char b = p[i];
        if (cs == CS_UTF8) {
            size_t k = utf8_seq(p + i, n - i, &bad);
            if (k > 0) {
                memcpy(out + w, p + i, k);
                w += k;
                i += k;
            } else {
                w += put_cp(out + w, 0xFFFD); /* one per maximal subpart */
                i += bad;
            }
            continue;
        }
        if (cs == CS_CP1252 && b >= 0x80 && b <= 0x9F)
            w += put_cp(out + w, CP1252_C1[b - 0x80]);
        else
            w += put_cp(out + w, b);
        i++;
    }
    return w;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_hex6(const char *s, size_t n)
{
    if (n < 6)
        return 0;
    for (size_t i = 0; i < 6; i++) {
        int c = (unsigned char)s[i];
        if (!is_digit(c) && !((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
            return 0;
    }
    return 1;
}

/* Removes mIRC formatting from s[0..n-1] in place; returns the new length. */
static size_t strip_formatting(char *s, size_t n)
{
    size_t r = 0, w = 0;

    while (r < n) {
        unsigned char c = (unsigned char)s[r++];
        switch (c) {
        case 0x02: /* bold */
        case 0x0f: /* reset */
        case 0x11: /* monospace */
        case 0x16: /* reverse */
        case 0x1d: /* italic */
        case 0x1e: /* strikethrough */
        case 0x1f: /* underline */
            break;
        case 0x03: /* colour: [fg[fg]][,bg[bg]] with bg only after fg */
            if (r < n && is_digit(s[r])) {
                r++;
                if (r < n && is_digit(s[r]))
                    r++;
                if (r + 1 < n && s[r] == ',' && is_digit(s[r + 1])) {
                    r += 2;
                    if (r < n && is_digit(s[r]))
                        r++;
                }
            }
            break;
        case 0x04: /* hex colour: [RRGGBB[,RRGGBB]] */
            if (is_hex6(s + r, n - r)) {
                r += 6;
                if (r < n && s[r] == ',' && is_hex6(s + r + 1, n - r - 1))
                    r += 7;
            }
            break;
        default:
            s[w++] = (char)c;
            break;
        }
    }
    return w;
}

char *irc_text_to_utf8(const char *in, size_t len, const char *fallback, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in;

    if (in == NULL)
        len = 0;
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *buf = malloc(3 * len + 1);
    if (buf == NULL)
        return NULL;
    size_t n;
    if (utf8_valid(p, len)) {
        if (len > 0)
            memcpy(buf, in, len);
        n = len;
    } else {
        n = decode(p, len, charset_of(fallback), buf);
    }
    n = strip_formatting(buf, n);
    char *res = text_sanitize(buf, n, out_len);
    free(buf);
    return res;
}

/* ASCII case-insensitive comparison of s[0..n-1] with the word w. */
static int word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

enum irc_ctcp_kind irc_ctcp_parse(const char *text, size_t len, const char **cmd, size_t *cmd_len,
                                  const char **arg, size_t *arg_len)
{
    if (text == NULL || len < 2 || text[0] != '\x01')
        return IRC_CTCP_NONE;
    size_t end = text[len - 1] == '\x01' ? len - 1 : len;
    size_t i = 1;
    while (i < end && text[i] != ' ') {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c >= 0x7F)
            return IRC_CTCP_NONE;
        i++;
    }
    size_t clen = i - 1;
    if (clen == 0)
        return IRC_CTCP_NONE;
    if (i < end)
        i++; /* the space after the command */
    if (cmd != NULL)
        *cmd = text + 1;
    if (cmd_len != NULL)
        *cmd_len = clen;
    if (arg != NULL)
        *arg = text + i;
    if (arg_len != NULL)
        *arg_len = end - i;
    if (word_is(text + 1, clen, "ACTION"))
        return IRC_CTCP_ACTION;
    if (word_is(text + 1, clen, "VERSION"))
        return IRC_CTCP_VERSION;
    return IRC_CTCP_OTHER;
}
