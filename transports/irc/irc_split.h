/* Splitting a message body into IRC PRIVMSG/NOTICE texts that fit the
 * 512-byte line limit once the server has prepended our prefix
 * (irc-gateways.md row 29, §7 item 6).  Pure functions, no I/O. */
#ifndef FERRY_IRC_SPLIT_H
#define FERRY_IRC_SPLIT_H

#include <stddef.h>

/* The texts, in order; each is NUL-terminated and owned by the struct. */
struct irc_chunks {
    char **s;
    size_t n;
};

/* Splits body (len bytes, UTF-8 expected) for "COMMAND target :text".
 *
 * Each line of the body (separators "\r\n", "\n" and "\r") becomes one or
 * more chunks such that
 *   ":" prefix " " command " " target " :" chunk "\r\n"
 * is at most 512 bytes, prefix being prefix_len bytes (the "nick!user@host"
 * the server prepends when relaying; pass a conservative estimate).  When
 * action is nonzero the budget also keeps room for "\x01ACTION " and "\x01",
 * which the caller adds around each chunk (the chunks themselves stay plain
 * text).
 *
 * A chunk is cut only at a UTF-8 character boundary (a byte that is not
 * 10xxxxxx; invalid bytes count as one-byte characters), and at the last
 * space when that space falls in the last 30% of the budget: the space then
 * ends the chunk, so nothing is lost.  Concatenating the chunks of a line
 * gives the line back.  Empty lines are skipped.
 *
 * Bytes removed: NUL, and the C0 controls that are neither TAB nor IRC
 * formatting codes (\x02 bold, \x03 colour, \x04 hex colour, \x0f reset,
 * \x11 monospace, \x16 reverse, \x1d italic, \x1e strike, \x1f underline),
 * which are kept.  In particular \x01 is removed, so body text can never
 * start a CTCP; CR and LF only ever separate lines, so body text can never
 * become an IRC command.  A line left empty by this is skipped.
 *
 * Returns 0 and fills *out (release with irc_chunks_clear; n may be 0), or
 *   FERRY_EINVAL  command not letters, target empty or holding a space, CR,
 *                 LF or starting with ':', body NULL with len > 0;
 *   FERRY_ERANGE  fewer than 4 bytes of budget left for text;
 *   FERRY_ENOMEM.
 * On error *out is zeroed. */
int irc_split(const char *body, size_t len, const char *command, const char *target,
              size_t prefix_len, int action, struct irc_chunks *out);

/* Bytes of text a chunk may hold for these arguments, or a negative
 * ferry_err (as irc_split).  Exposed for callers and tests. */
long irc_split_budget(const char *command, const char *target, size_t prefix_len, int action);

/* Frees every chunk and zeroes *c; accepts NULL. */
void irc_chunks_clear(struct irc_chunks *c);

#endif
