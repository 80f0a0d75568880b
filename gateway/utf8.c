/* Text sanitiser (see utf8.h and DESIGN §3.2).
 *
 * Decoding follows the Unicode table of well-formed UTF-8 byte sequences
 * (Unicode §3.9, Table 3-7):
 *
 *   U+0000..U+007F     00..7F
 *   U+0080..U+07FF     C2..DF  80..BF
 *   U+0800..U+0FFF     E0      A0..BF  80..BF
 *   U+1000..U+CFFF     E1..EC  80..BF  80..BF
 *   U+D000..U+D7FF     ED      80..9F  80..BF
 *   U+E000..U+FFFF     EE..EF  80..BF  80..BF
 *   U+10000..U+3FFFF   F0      90..BF  80..BF  80..BF
 *   U+40000..U+FFFFF   F1..F3  80..BF  80..BF  80..BF
 *   U+100000..U+10FFFF F4      80..8F  80..BF  80..BF
 *
 * Restricting the second byte this way rejects overlong forms (C0, C1,
 * E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above
 * U+10FFFF (F4 90..BF, F5..FF) at the earliest byte that proves the
 * sequence bad.  An invalid sequence is replaced following the "maximal
 * subpart" practice: the longest prefix of a well-formed sequence (at least
 * one byte) becomes a single U+FFFD and decoding resumes right after it.  So
 * "E1 80 41" gives U+FFFD 'A', while "E0 80 80" gives three U+FFFD (E0 80 is
 * not the prefix of any well-formed sequence).
 */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BAD_CP UINT32_MAX /* decode_one: the bytes consumed are invalid */

static const char REPLACEMENT[3] = {'\xEF', '\xBF', '\xBD'}; /* U+FFFD */

/* Decodes one code point, or one maximal invalid subpart, from p[0..n-1]
 * (n >= 1).  Returns the number of bytes consumed (>= 1) and stores the code
 * point, or BAD_CP, in *cp. */
static size_t decode_one(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char b = p[0];
    size_t need;      /* total length of the sequence that b starts */
    unsigned char lo; /* allowed range of the second byte */
    unsigned char hi = 0xBF;
    uint32_t v;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
        lo = 0x80;
        v = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        lo = b == 0xE0 ? 0xA0 : 0x80; /* E0 80..9F would be overlong */
        hi = b == 0xED ? 0x9F : 0xBF; /* ED A0..BF would be a surrogate */
        v = b & 0x0Fu;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        lo = b == 0xF0 ? 0x90 : 0x80; /* F0 80..8F would be overlong */
        hi = b == 0xF4 ? 0x8F : 0xBF; /* F4 90.. would exceed U+10FFFF */
        v = b & 0x07u;
    } else {
        /* 80..BF: stray continuation; C0, C1: always overlong;
         * F5..FF: never valid. */
        *cp = BAD_CP;
        return 1;
    }

    for (size_t i = 1; i < need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            /* Truncated or broken: bytes 0..i-1 form one maximal subpart. */
            *cp = BAD_CP;
            return i;
        }
        v = (v << 6) | (p[i] & 0x3Fu);
        lo = 0x80; /* only the second byte has a narrowed range */
        hi = 0xBF;
    }
    *cp = v;
    return need;
}

/* Whether a decoded code point is dropped from the output. */
static int is_removed(uint32_t cp)
{
    if (cp < 0x20)
        return cp != '\t' && cp != '\n' && cp != '\r';
    return cp == 0xFFFE || cp == 0xFFFF;
}

int text_is_clean(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL)
        return len == 0;
    while (i < len) {
        uint32_t cp;

        if (p[i] >= 0x20 && p[i] < 0x80) { /* printable ASCII fast path */
            i++;
            continue;
        }
        i += decode_one(p + i, len - i, &cp);
        if (cp == BAD_CP || is_removed(cp))
            return 0;
    }
    return 1;
}

/* Output buffer that grows by doubling.  Invariant kept by text_sanitize:
 * cap - len > bytes of input still to process, so copying input through
 * unchanged (or dropping it) never needs a check.  It starts at input
 * length + 1; only a U+FFFD standing for a 1- or 2-byte invalid subpart
 * makes the output longer than the input, and only then is the buffer
 * grown. */
struct outbuf {
    char *p;
    size_t len;
    size_t cap;
};

/* Makes room for `extra` more bytes plus the final NUL. */
static int outbuf_reserve(struct outbuf *o, size_t extra)
{
    size_t cap = o->cap;

    if (extra < cap - o->len) /* cap > len always */
        return 0;
    while (extra >= cap - o->len) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *np = realloc(o->p, cap);
    if (np == NULL)
        return -1;
    o->p = np;
    o->cap = cap;
    return 0;
}

char *text_sanitize(const char *in, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in;
    struct outbuf o = {NULL, 0, 0};
    size_t i = 0;

    if (out_len != NULL)
        *out_len = 0;
    if (in == NULL)
        len = 0;
    if (len == SIZE_MAX)
        return NULL;
    o.cap = len + 1;
    o.p = malloc(o.cap);
    if (o.p == NULL)
        return NULL;

    while (i < len) {
        size_t start = i;
        uint32_t cp;

        /* Copy a run of printable ASCII in one go. */
        while (i < len && p[i] >= 0x20 && p[i] < 0x80)
            i++;
        if (i > start) {
            memcpy(o.p + o.len, p + start, i - start);
            o.len += i - start;
            continue;
        }

        size_t n = decode_one(p + i, len - i, &cp);
        if (cp == BAD_CP) {
            /* Room for U+FFFD and, to keep the invariant, the rest. */
            if (outbuf_reserve(&o, sizeof REPLACEMENT + (len - i - n)) < 0) {
                free(o.p);
                return NULL;
            }
            memcpy(o.p + o.len, REPLACEMENT, sizeof REPLACEMENT);
            o.len += sizeof REPLACEMENT;
        } else if (!is_removed(cp)) {
            memcpy(o.p + o.len, p + i, n);
            o.len += n;
        }
        i += n;
    }
    o.p[o.len] = '\0';
    if (out_len != NULL)
        *out_len = o.len;
    return o.p;
}

char *text_from_latin1(const char *in, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in;
    char *out;
    size_t o = 0;

    if (out_len != NULL)
        *out_len = 0;
    if (in == NULL)
        len = 0;
    if (len > (SIZE_MAX - 1) / 2)
        return NULL;
    out = malloc(2 * len + 1); /* each byte becomes at most 2 UTF-8 bytes */
    if (out == NULL)
        return NULL;

    /* Every Latin-1 byte is the code point of the same value, so the
     * result is always valid UTF-8 without U+FFFE/U+FFFF: sanitising
     * reduces to dropping the C0 controls.  0x80..0x9F map to the C1
     * controls U+0080..U+009F, which XML 1.0 allows, and are kept. */
    for (size_t i = 0; i < len; i++) {
        unsigned char b = p[i];

        if (b < 0x80) {
            if (!is_removed(b))
                out[o++] = (char)b;
        } else {
            out[o++] = (char)(0xC0 | (b >> 6));
            out[o++] = (char)(0x80 | (b & 0x3F));
        }
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return out;
}
