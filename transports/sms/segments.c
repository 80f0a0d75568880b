/* SMS segment counting (see segments.h). */
#include "segments.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Non-ASCII characters of the GSM 03.38 basic table (U+ code points). */
static const uint16_t gsm_basic_high[] = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6,
    0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393,
    0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};

/* Septets for a code point in GSM-7: 1 (basic table), 2 (ESC + extension
 * table) or 0 (not representable). */
static int gsm_cost(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp == '\n' || cp == '\r')
            return 1;
        if (cp == '\f')
            return 2;
        if (cp < 0x20 || cp == 0x7F || cp == '`')
            return 0;
        if (strchr("^{}\\[~]|", (int)cp))
            return 2;
        return 1;
    }
    if (cp == 0x20AC) /* euro sign */
        return 2;
    size_t lo = 0, hi = sizeof(gsm_basic_high) / sizeof(gsm_basic_high[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (gsm_basic_high[mid] == cp)
            return 1;
        if (gsm_basic_high[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Decodes one code point at s[*i] (strict UTF-8).  Returns 0, or -1. */
static int next_cp(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    unsigned c = s[*i];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        *i += 1;
        return 0;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (len - *i - 1 < n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        unsigned b = s[*i + k];
        if ((b & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (b & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *cp = v;
    *i += n + 1;
    return 0;
}

static int cost(uint32_t cp, int unicode)
{
    if (unicode)
        return cp >= 0x10000 ? 2 : 1;
    return gsm_cost(cp);
}

int sms_count_segments(const char *utf8, size_t len, struct sms_segments *out)
{
    struct sms_segments r = {0, 0, 0, SMS_GSM_SINGLE};
    const unsigned char *s = (const unsigned char *)utf8;
    if (!out)
        return -1;
    memset(out, 0, sizeof(*out));
    /* Every byte yields at most 2 units, so this keeps the counts in int. */
    if ((!s && len > 0) || len > (size_t)INT_MAX / 2)
        return -1;

    /* Pass 1: validate, pick the encoding, count units both ways. */
    int septets = 0, utf16 = 0;
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        if (next_cp(s, len, &i, &cp) < 0)
            return -1;
        int c = gsm_cost(cp);
        if (c == 0)
            r.unicode = 1;
        septets += c;
        utf16 += cp >= 0x10000 ? 2 : 1;
    }
    r.units = r.unicode ? utf16 : septets;
    int single = r.unicode ? SMS_UCS2_SINGLE : SMS_GSM_SINGLE;
    int part = r.unicode ? SMS_UCS2_PART : SMS_GSM_PART;
    r.per_part = single;
    if (r.units == 0) {
        r.parts = 0;
    } else if (r.units <= single) {
        r.parts = 1;
    } else {
        /* Pass 2: greedy packing; a character never straddles two parts. */
        r.per_part = part;
        r.parts = 1;
        int used = 0;
        for (size_t i = 0; i < len;) {
            next_cp(s, len, &i, &cp);
            int c = cost(cp, r.unicode);
            if (used + c > part) {
                r.parts++;
                used = 0;
            }
            used += c;
        }
    }
    *out = r;
    return 0;
}
