/* E.164 phone numbers (DESIGN §1, reference sheet §d.3): normalising what
 * users type and what providers send to "+<digits>", strict validation,
 * and a masked form for logs.  Pure functions, no allocation, no state.
 *
 * Canonical form: '+', then 7 to 15 digits, the first one 1-9.  (E.164
 * allows down to 2 digits, but nothing shorter than 7 is a real subscriber
 * number; short codes are not E.164 and are rejected.) */
#ifndef FERRY_SMS_E164_H
#define FERRY_SMS_E164_H

#include <stddef.h>

/* "+" + 15 digits + NUL. */
#define E164_MAX 17

/* Normalises a number as a user writes it.  default_cc is the country code
 * for local forms, digits only ("1", "44"; an optional leading '+' is
 * tolerated), or NULL / "" for none.
 *
 * Accepted:
 *   - international: "+44 20 7946 0958", "0044 20 7946 0958" (00 prefix),
 *     "011 44 20 7946 0958" only when default_cc is "1" (NANP IDD); a UK
 *     style "(0)" after the country code ("+44 (0)20 ...") is dropped;
 *   - default_cc "1": 10 digits (area code 2-9) or 11 digits starting 1;
 *   - other default_cc: a national number with its trunk 0 ("020 7946 0958"
 *     -> +442079460958; Italy, San Marino and the Vatican keep the 0), or
 *     without one when it does not itself start with the country code
 *     (which would be ambiguous).
 * Separators: space, '-', '.', '(', ')', '/'.  Letters (vanity numbers),
 * extensions, other characters, more than 15 or fewer than 7 digits are
 * rejected.
 *
 * Returns 0 and writes the canonical form into out (outlen >= E164_MAX is
 * always enough), or -1 and sets *why (when why is not NULL) to a short
 * static human-readable reason. */
int e164_normalize(const char *input, const char *default_cc, char *out, size_t outlen,
                   const char **why);

/* A number from a provider's API or webhook: "+15551234567" or digits
 * without '+' ("15551234567", Vonage/Plivo) which are taken as international
 * when 11-15 digits long (and not starting with 0); 10 digits with
 * default_cc "1" become +1...; anything else goes through e164_normalize.
 * Returns 0, or -1 (alphanumeric sender IDs, short codes, ...). */
int e164_from_provider(const char *raw, const char *default_cc, char *out, size_t outlen);

/* 1 when s is exactly ^\+[1-9][0-9]{6,14}$, else 0 (NULL gives 0). */
int e164_valid(const char *s);

/* Log-safe form: '+', the first 2 digits, '*' for the middle digits, the
 * last 2 digits: "+15551234567" -> "+15*******67".  Input that is not valid
 * E.164 gives "(invalid)", NULL gives "(none)"; the result is truncated to
 * outlen (always NUL-terminated when outlen > 0). */
void e164_mask(const char *e164, char *out, size_t outlen);

#endif
