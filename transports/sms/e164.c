/* E.164 normalisation, validation and masking (see e164.h). */
#include "e164.h"

#include <string.h>
#include <strings.h>

#define E164_MIN_DIGITS 7
#define E164_MAX_DIGITS 15
/* National significant number of a local form, without the trunk 0. */
#define E164_MIN_NATIONAL 6
/* Digits kept while scanning; more than this is "too many" anyway. */
#define SCAN_MAX 40

struct scan {
    char d[SCAN_MAX + 1];
    size_t n;      /* digits kept in d */
    int plus;      /* written with a leading '+' */
    int overflow;  /* more than SCAN_MAX digits */
    long zero_idx; /* index in d of the 0 of a "(0)", or -1 */
};

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_sep(int c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* "x12", "ext. 12", "extension 12", ";ext=12", ",12", "#12" after a number. */
static int is_extension(const char *s, size_t len)
{
    if (s[0] == ';' || s[0] == ',' || s[0] == '#')
        return 1;
    size_t i;
    if (len >= 9 && strncasecmp(s, "extension", 9) == 0)
        i = 9;
    else if (len >= 3 && strncasecmp(s, "ext", 3) == 0)
        i = 3;
    else if (lower(s[0]) == 'x')
        i = 1;
    else
        return 0;
    while (i < len && (s[i] == '.' || s[i] == ':' || s[i] == ' '))
        i++;
    return i < len && is_digit((unsigned char)s[i]);
}

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

/* Collects the digits of s[0..len-1]; returns NULL or the reason for rejecting. */
static const char *scan_number(const char *s, size_t len, struct scan *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->zero_idx = -1;
    size_t i = 0;
    if (len > 0 && s[0] == '+') {
        sc->plus = 1;
        i = 1;
    }
    for (; i < len; i++) {
        int c = (unsigned char)s[i];
        if (is_digit(c)) {
            if (sc->n < SCAN_MAX)
                sc->d[sc->n++] = (char)c;
            else
                sc->overflow = 1;
        } else if (c == '(' && i + 2 < len && s[i + 1] == '0' && s[i + 2] == ')' &&
                   sc->zero_idx < 0 && sc->n > 0 && sc->n < SCAN_MAX) {
            /* "+44 (0)20 ...": remember where the 0 is, decided later. */
            sc->zero_idx = (long)sc->n;
            sc->d[sc->n++] = '0';
            i += 2;
        } else if (is_sep(c)) {
            continue;
        } else if (sc->n > 0 && is_extension(s + i, len - i)) {
            return "extensions are not supported";
        } else if (is_alpha(c)) {
            return "letters are not allowed";
        } else {
            return "not a phone number";
        }
    }
    if (sc->n == 0)
        return "not a phone number";
    sc->d[sc->n] = 0;
    return NULL;
}

/* Checks default_cc: NULL/"" gives cc[0] = 0; otherwise 1-3 digits, the
 * first not 0, with an optional '+'.  Returns 0, or -1 when malformed. */
static int parse_cc(const char *default_cc, char cc[4])
{
    cc[0] = 0;
    if (!default_cc || !*default_cc)
        return 0;
    if (*default_cc == '+')
        default_cc++;
    size_t n = strlen(default_cc);
    if (n < 1 || n > 3 || default_cc[0] == '0')
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)default_cc[i]))
            return -1;
    memcpy(cc, default_cc, n + 1);
    return 0;
}

static int is_italian_plan(const char *cc)
{
    return strcmp(cc, "39") == 0 || strcmp(cc, "378") == 0 || strcmp(cc, "379") == 0;
}

/* Builds the international digits (no '+') into res from a scanned local
 * or international number.  Returns NULL or the reason for rejecting. */
static const char *resolve(struct scan *sc, const char *cc, char *res, size_t reslen)
{
    const char *d = sc->d;
    size_t skip = 0;
    int intl = sc->plus;
    if (!intl && sc->n >= 2 && d[0] == '0' && d[1] == '0') {
        skip = 2;
        intl = 1;
    } else if (!intl && strcmp(cc, "1") == 0 && sc->n >= 3 && memcmp(d, "011", 3) == 0) {
        skip = 3;
        intl = 1;
    }
    if (intl) {
        /* Drop the "(0)" trunk marker when it follows a country code. */
        if (sc->zero_idx > (long)skip) {
            memmove(sc->d + sc->zero_idx, sc->d + sc->zero_idx + 1, sc->n - (size_t)sc->zero_idx);
            sc->n--;
        }
        d = sc->d + skip;
        size_t n = sc->n - skip;
        if (n == 0)
            return "not a phone number";
        if (d[0] == '0')
            return "country code cannot start with 0";
        if (n + 1 > reslen)
            return "too many digits (max 15)";
        memcpy(res, d, n + 1);
        return NULL;
    }
    if (!cc[0])
        return "no country code and no default country configured";
    if (sc->n > E164_MAX_DIGITS)
        return "too many digits (max 15)";
    if (strcmp(cc, "1") == 0) {
        if (sc->n == 11 && d[0] == '1')
            d++;
        else if (sc->n != 10)
            return sc->n < 10 ? "too few digits for a North American number (need 10)"
                              : "not a North American number (need 10 digits)";
        if (d[0] == '0' || d[0] == '1')
            return "invalid North American area code";
    } else if (d[0] == '0') {
        if (!is_italian_plan(cc))
            d++; /* trunk prefix */
    } else if (strncmp(d, cc, strlen(cc)) == 0) {
        return "ambiguous: write it with + and the country code";
    }
    if (strlen(d) < E164_MIN_NATIONAL)
        return "too short (short codes are not supported)";
    if (strlen(cc) + strlen(d) + 1 > reslen)
        return "too many digits (max 15)";
    strcpy(res, cc);
    strcat(res, d);
    return NULL;
}

int e164_normalize(const char *input, const char *default_cc, char *out, size_t outlen,
                   const char **why)
{
    char cc[4];
    if (parse_cc(default_cc, cc) < 0)
        return fail(why, "invalid default country code");
    if (!input)
        return fail(why, "empty number");
    size_t len = strlen(input);
    while (len > 0 && is_space((unsigned char)*input)) {
        input++;
        len--;
    }
    while (len > 0 && is_space((unsigned char)input[len - 1]))
        len--;
    if (len == 0)
        return fail(why, "empty number");

    struct scan sc;
    const char *reason = scan_number(input, len, &sc);
    if (reason)
        return fail(why, reason);
    if (sc.overflow)
        return fail(why, "too many digits (max 15)");

    char res[SCAN_MAX + 8];
    reason = resolve(&sc, cc, res, sizeof(res));
    if (reason)
        return fail(why, reason);
    size_t n = strlen(res);
    if (n > E164_MAX_DIGITS)
        return fail(why, "too many digits (max 15)");
    if (n < E164_MIN_DIGITS)
        return fail(why, "too few digits (min 7)");
    if (!out || n + 2 > outlen)
        return fail(why, "output buffer too small");
    out[0] = '+';
    memcpy(out + 1, res, n + 1);
    return 0;
}

int e164_from_provider(const char *raw, const char *default_cc, char *out, size_t outlen)
{
    if (!raw)
        return -1;
    size_t n = strlen(raw);
    size_t digits = strspn(raw, "0123456789");
    if (digits == n && n >= 11 && n <= E164_MAX_DIGITS && raw[0] != '0') {
        if (!out || n + 2 > outlen)
            return -1;
        out[0] = '+';
        memcpy(out + 1, raw, n + 1);
        return 0;
    }
    /* 10 digits with default_cc "1" and everything else: as a user would
     * write it. */
    return e164_normalize(raw, default_cc, out, outlen, NULL);
}

int e164_valid(const char *s)
{
    if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (!is_digit((unsigned char)*p))
            return 0;
    return n >= E164_MIN_DIGITS && n <= E164_MAX_DIGITS;
}

void e164_mask(const char *e164, char *out, size_t outlen)
{
    char buf[E164_MAX];
    if (!e164) {
        strcpy(buf, "(none)");
    } else if (!e164_valid(e164)) {
        strcpy(buf, "(invalid)");
    } else {
        size_t n = strlen(e164); /* '+' and 7..15 digits */
        for (size_t i = 0; i < n; i++)
            buf[i] = (i <= 2 || i >= n - 2) ? e164[i] : '*';
        buf[n] = 0;
    }
    if (!out || outlen == 0)
        return;
    size_t n = strlen(buf);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, buf, n);
    out[n] = 0;
}
