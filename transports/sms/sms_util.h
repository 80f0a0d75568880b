/* Small helpers shared by the SMS providers: a growable buffer, URL and
 * form encoding, form parsing, base64, hashes and HMACs, Ed25519
 * verification, constant-time comparison.  No I/O, no global state. */
#ifndef FERRY_SMS_UTIL_H
#define FERRY_SMS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Growable NUL-terminated buffer.  On allocation failure `failed` is set
 * and further appends are ignored; check it once at the end. */
struct sms_buf {
    char *s;
    size_t len, cap;
    int failed;
};
void sms_buf_add(struct sms_buf *b, const char *data, size_t len);
void sms_buf_adds(struct sms_buf *b, const char *str);
void sms_buf_addf(struct sms_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends str percent-encoded (RFC 3986: everything but A-Z a-z 0-9 - . _ ~). */
void sms_buf_add_urlenc(struct sms_buf *b, const char *str);
/* Appends "&name=value" (no '&' when the buffer is empty), both encoded. */
void sms_buf_add_param(struct sms_buf *b, const char *name, const char *value);
/* Takes the string out (caller frees); NULL if anything failed. */
char *sms_buf_take(struct sms_buf *b, size_t *len);
void sms_buf_free(struct sms_buf *b);

/* application/x-www-form-urlencoded (also query strings): '+' is a space,
 * %XX decoded.  Pairs keep their order; names may repeat. */
struct sms_kv {
    char *name, *value;
};
struct sms_form {
    struct sms_kv *kv;
    size_t n;
};
/* Returns 0, or -1 on bad encoding / no memory (out left empty). */
int sms_form_parse(const char *s, size_t len, struct sms_form *out);
/* First value of name, or NULL. */
const char *sms_form_get(const struct sms_form *f, const char *name);
void sms_form_clear(struct sms_form *f);
/* Sorts pairs by name, then value (byte order), in place. */
void sms_form_sort(struct sms_form *f);

/* Percent-decodes s (len bytes) into a new string; '+' becomes a space
 * when plus_is_space.  NULL on bad encoding or no memory. */
char *sms_urldecode(const char *s, size_t len, int plus_is_space, size_t *out_len);

/* Base64 (standard alphabet, padded).  Encode returns a new string;
 * decode returns 0 and a new buffer, or -1. */
char *sms_base64(const void *data, size_t len);
int sms_unbase64(const char *s, unsigned char **out, size_t *out_len);

/* Digests and HMACs.  alg: "md5", "sha1", "sha256", "sha512".  out must
 * hold 64 bytes; returns the digest length, or -1. */
int sms_digest(const char *alg, const void *data, size_t len, unsigned char *out);
int sms_hmac(const char *alg, const void *key, size_t key_len, const void *data, size_t len,
             unsigned char *out);
/* Lowercase (upper = 0) or uppercase hex of bytes into out (2*len+1). */
void sms_hex(const unsigned char *data, size_t len, int upper, char *out);

/* Constant-time equality of two byte strings (lengths may differ). */
int sms_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Verifies an Ed25519 signature (raw 32-byte public key, 64-byte sig).
 * Returns 0 when valid, -1 otherwise. */
int sms_ed25519_verify(const unsigned char *pub, size_t pub_len, const unsigned char *sig,
                       size_t sig_len, const void *msg, size_t msg_len);

/* "Authorization: Basic base64(user:pass)" as a new string. */
char *sms_basic_auth_header(const char *user, const char *pass);

/* Copies src into dst (dstlen bytes) for a human text: control characters
 * become spaces, invalid UTF-8 bytes '?', the cut never splits a
 * character. */
void sms_clean_text(char *dst, size_t dstlen, const char *src);
/* printf into dst as sms_clean_text would copy it (for error texts). */
void sms_textf(char *dst, size_t dstlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A copy of s as valid UTF-8, each invalid byte replaced by U+FFFD; the
 * length goes to *out_len.  NULL when memory runs out. */
char *sms_utf8_dup(const char *s, size_t *out_len);

/* Parses an HTTP Retry-After value (delta-seconds; an HTTP date is taken
 * as 0 = "unknown").  Returns seconds >= 0, clamped to max. */
int sms_retry_after(const char *value, int max);

#endif
