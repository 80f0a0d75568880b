/* JIDs (RFC 7622, simplified: no stringprep beyond ASCII lowercasing of the
 * domain) and XEP-0106 JID escaping. */
#ifndef FERRY_JID_H
#define FERRY_JID_H

#include <stddef.h>

#define JID_PART_MAX 1023 /* bytes per part, RFC 7622 */

struct jid {
    char *local;    /* NULL when absent */
    char *domain;   /* never NULL after a successful parse; lowercased ASCII */
    char *resource; /* NULL when absent */
};

/* Parses "local@domain/resource" into freshly allocated parts.  The local
 * part is what precedes the first '@' that comes before the first '/'.
 * Errors (FERRY_EINVAL): empty string, empty local part before '@', empty
 * domain, empty resource after '/', a part over JID_PART_MAX bytes, a local
 * part containing any of  " & ' / : < > @  or whitespace/controls, a domain
 * with whitespace, controls or '@', invalid UTF-8.  On error *out is left
 * zeroed.  FERRY_ENOMEM if allocation fails. */
int jid_parse(const char *s, struct jid *out);

/* Frees the parts and zeroes the struct; accepts NULL. */
void jid_clear(struct jid *j);

/* New string "local@domain" or "domain" (caller frees); NULL on bad JID
 * or no memory. */
char *jid_bare(const char *full);

/* New string "local@domain" from parts; local may be NULL.  Caller frees. */
char *jid_join(const char *local, const char *domain, const char *resource);

/* Nonzero when the bare JIDs of a and b are equal (domain case-insensitive). */
int jid_bare_equal(const char *a, const char *b);

/* XEP-0106: escape an arbitrary string (e.g. an IRC nick or "a@b") into a
 * JID local part: space " & ' / : < > @ and backslash-sequences that would
 * decode are escaped as \20 \22 \26 \27 \2f \3a \3c \3e \40 \5c.  A leading
 * or trailing space cannot be escaped and is an error (FERRY_EINVAL).
 * Returns a new string in *out (caller frees) or a negative ferry_err. */
int jid_escape_local(const char *in, char **out);

/* XEP-0106 unescape: every \XX sequence of the ten above becomes its
 * character; any other backslash is kept literally.  Returns a new string
 * in *out or a negative ferry_err. */
int jid_unescape_local(const char *in, char **out);

#endif
