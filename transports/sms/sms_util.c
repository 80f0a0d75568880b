#include "sms_util.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

static void grow(struct sms_buf *b, size_t need)
{
    if (b->failed || b->len + need + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = 1;
        return;
    }
    b->s = s;
    b->cap = cap;
}

void sms_buf_add(struct sms_buf *b, const char *data, size_t len)
{
    grow(b, len);
    if (b->failed)
        return;
    memcpy(b->s + b->len, data, len);
    b->len += len;
    b->s[b->len] = 0;
}

void sms_buf_adds(struct sms_buf *b, const char *str)
{
    sms_buf_add(b, str, strlen(str));
}

void sms_buf_addf(struct sms_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    grow(b, (size_t)n);
    if (b->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sms_buf_add_urlenc(struct sms_buf *b, const char *str)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            sms_buf_add(b, (const char *)p, 1);
        } else {
            char enc[3] = {'%', hexd[*p >> 4], hexd[*p & 15]};
            sms_buf_add(b, enc, 3);
        }
    }
}

void sms_buf_add_param(struct sms_buf *b, const char *name, const char *value)
{
    if (b->len)
        sms_buf_add(b, "&", 1);
    sms_buf_add_urlenc(b, name);
    sms_buf_add(b, "=", 1);
    sms_buf_add_urlenc(b, value ? value : "");
}

char *sms_buf_take(struct sms_buf *b, size_t *len)
{
    if (b->failed) {
        sms_buf_free(b);
        return NULL;
    }
    if (!b->s)
        sms_buf_add(b, "", 0);
    char *s = b->s;
    if (len)
        *len = b->len;
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void sms_buf_free(struct sms_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *sms_urldecode(const char *s, size_t len, int plus_is_space, size_t *out_len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int h, l;
            if (i + 2 >= len || (h = hexval((unsigned char)s[i + 1])) < 0 ||
                (l = hexval((unsigned char)s[i + 2])) < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    if (out_len)
        *out_len = o;
    return out;
}

int sms_form_parse(const char *s, size_t len, struct sms_form *out)
{
    memset(out, 0, sizeof(*out));
    size_t cap = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(s + i, '=', j - i);
            size_t nlen = eq ? (size_t)(eq - (s + i)) : j - i;
            if (out->n == cap) {
                cap = cap ? cap * 2 : 16;
                struct sms_kv *kv = realloc(out->kv, cap * sizeof(*kv));
                if (!kv)
                    goto fail;
                out->kv = kv;
            }
            char *name = sms_urldecode(s + i, nlen, 1, NULL);
            char *value = eq ? sms_urldecode(eq + 1, j - i - nlen - 1, 1, NULL) : strdup("");
            if (!name || !value) {
                free(name);
                free(value);
                goto fail;
            }
            out->kv[out->n++] = (struct sms_kv){name, value};
        }
        i = j + 1;
    }
    return 0;
fail:
    sms_form_clear(out);
    return -1;
}

const char *sms_form_get(const struct sms_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->kv[i].name, name) == 0)
            return f->kv[i].value;
    return NULL;
}

void sms_form_clear(struct sms_form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->kv[i].name);
        free(f->kv[i].value);
    }
    free(f->kv);
    memset(f, 0, sizeof(*f));
}

static int kv_cmp(const void *a, const void *b)
{
    const struct sms_kv *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

void sms_form_sort(struct sms_form *f)
{
    if (f->n > 1)
        qsort(f->kv, f->n, sizeof(*f->kv), kv_cmp);
}

char *sms_base64(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

int sms_unbase64(const char *s, unsigned char **out, size_t *out_len)
{
    size_t len = strlen(s);
    if (len % 4 != 0)
        return -1;
    /* EVP_DecodeBlock reads '=' anywhere as a zero digit and trims
     * whitespace: allow only the alphabet, then at most two '=' at the end. */
    size_t pad = 0;
    if (len >= 1 && s[len - 1] == '=')
        pad++;
    if (len >= 2 && s[len - 2] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -1;
    }
    unsigned char *buf = malloc(len / 4 * 3 + 1);
    if (!buf)
        return -1;
    int n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
    if (n < 0) {
        free(buf);
        return -1;
    }
    /* EVP_DecodeBlock counts padding as zero bytes: take them off. */
    n -= (int)pad;
    *out = buf;
    *out_len = (size_t)n;
    return 0;
}

static const EVP_MD *md_of(const char *alg)
{
    if (strcmp(alg, "md5") == 0)
        return EVP_md5();
    if (strcmp(alg, "sha1") == 0)
        return EVP_sha1();
    if (strcmp(alg, "sha256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "sha512") == 0)
        return EVP_sha512();
    return NULL;
}

int sms_digest(const char *alg, const void *data, size_t len, unsigned char *out)
{
    const EVP_MD *md = md_of(alg);
    unsigned int n = 0;
    if (!md || EVP_Digest(data, len, out, &n, md, NULL) != 1)
        return -1;
    return (int)n;
}

int sms_hmac(const char *alg, const void *key, size_t key_len, const void *data, size_t len,
             unsigned char *out)
{
    const EVP_MD *md = md_of(alg);
    unsigned int n = 0;
    if (!md || !HMAC(md, key, (int)key_len, data, len, out, &n))
        return -1;
    return (int)n;
}

void sms_hex(const unsigned char *data, size_t len, int upper, char *out)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = 0;
}

int sms_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return 0;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

int sms_ed25519_verify(const unsigned char *pub, size_t pub_len, const unsigned char *sig,
                       size_t sig_len, const void *msg, size_t msg_len)
{
    if (pub_len != 32 || sig_len != 64)
        return -1;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, pub_len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

char *sms_basic_auth_header(const char *user, const char *pass)
{
    struct sms_buf raw = {0}, hdr = {0};
    sms_buf_addf(&raw, "%s:%s", user ? user : "", pass ? pass : "");
    size_t len = 0;
    char *r = sms_buf_take(&raw, &len);
    char *b64 = r ? sms_base64(r, len) : NULL;
    if (r) {
        OPENSSL_cleanse(r, len);
        free(r);
    }
    if (!b64)
        return NULL;
    sms_buf_addf(&hdr, "Authorization: Basic %s", b64);
    free(b64);
    return sms_buf_take(&hdr, NULL);
}

int sms_retry_after(const char *value, int max)
{
    if (!value)
        return 0;
    while (*value == ' ')
        value++;
    if (!isdigit((unsigned char)*value))
        return 0;
    long v = strtol(value, NULL, 10);
    if (v < 0)
        return 0;
    return v > max ? max : (int)v;
}

static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0], cp, min;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Copies src into dst for a human text: control characters become spaces,
 * invalid UTF-8 bytes '?', and the cut never splits a character. */
void sms_clean_text(char *dst, size_t dstlen, const char *src)
{
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    size_t n = strlen((const char *)p), o = 0;
    if (!dstlen)
        return;
    while (*p) {
        size_t l = utf8_len(p, n);
        if (o + (l ? l : 1) >= dstlen)
            break;
        if (l == 1 && (*p < 0x20 || *p == 0x7F))
            dst[o++] = ' ';
        else if (l == 0)
            dst[o++] = '?';
        else
            memcpy(dst + o, p, l), o += l;
        p += l ? l : 1;
        n -= l ? l : 1;
    }
    dst[o] = 0;
}

/* A copy of s as valid UTF-8: each invalid byte becomes U+FFFD. */
char *sms_utf8_dup(const char *s, size_t *out_len)
{
    size_t n = strlen(s), o = 0;
    char *out = malloc(3 * n + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (n > 0) {
        size_t l = utf8_len(p, n);
        if (l)
            memcpy(out + o, p, l), o += l;
        else
            memcpy(out + o, "\xEF\xBF\xBD", 3), o += 3, l = 1;
        p += l;
        n -= l;
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

void sms_textf(char *dst, size_t dstlen, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    sms_clean_text(dst, dstlen, tmp);
}

void sms_http_req_clear(struct sms_http_req *r)
{
    free(r->method);
    free(r->url);
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->headers[i]);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

void sms_events_clear(struct sms_events *e)
{
    for (size_t i = 0; i < e->n; i++) {
        struct sms_event *ev = &e->ev[i];
        free(ev->from);
        free(ev->to);
        free(ev->text);
        for (size_t m = 0; m < ev->n_media; m++)
            free(ev->media[m]);
        free(ev->msg_id);
        free(ev->concat_ref);
        free(ev->ref);
        free(ev->provider_id);
        free(ev->error);
    }
    memset(e, 0, sizeof(*e));
}
