/* Text sanitiser: everything that enters a stanza passes through here
 * (DESIGN §3.2).  libstrophe escapes only & < > " ; a C0 control byte or
 * invalid UTF-8 in a stanza makes the server close the whole component
 * stream. */
#ifndef FERRY_UTF8_H
#define FERRY_UTF8_H

#include <stddef.h>

/* Returns a new NUL-terminated string (caller frees) holding `in` (len
 * bytes, may contain NUL bytes) made safe for XML 1.0:
 *   - invalid UTF-8 (bad lead/continuation bytes, truncated sequences,
 *     overlong forms, UTF-16 surrogates D800-DFFF, > U+10FFFF) becomes
 *     U+FFFD, one per maximal invalid subpart;
 *   - C0 controls other than TAB, LF and CR (including NUL) are removed;
 *   - U+FFFE and U+FFFF are removed.
 * If out_len is not NULL it receives the output length.  Returns NULL only
 * when memory runs out. */
char *text_sanitize(const char *in, size_t len, size_t *out_len);

/* Nonzero when s (len bytes) is already acceptable: text_sanitize would
 * return it unchanged. */
int text_is_clean(const char *s, size_t len);

/* Decodes Latin-1 (ISO-8859-1) bytes to a new UTF-8 string, then
 * sanitises it.  Caller frees; NULL only when memory runs out. */
char *text_from_latin1(const char *in, size_t len, size_t *out_len);

#endif
