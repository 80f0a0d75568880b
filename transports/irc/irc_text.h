/* Incoming IRC text to clean UTF-8 for a stanza, and CTCP framing
 * (DESIGN §3.2, irc-gateways.md row 40 and §7 item 7).  Pure functions. */
#ifndef FERRY_IRC_TEXT_H
#define FERRY_IRC_TEXT_H

#include <stddef.h>

/* Nonzero when name is a fallback charset irc_text_to_utf8 knows
 * (case-insensitive): "latin1", "iso-8859-1", "iso8859-1", "cp1252",
 * "windows-1252", "utf-8", "utf8".  For validating configuration. */
int irc_charset_valid(const char *name);

/* Converts IRC text (len bytes, may contain any byte) to a new
 * NUL-terminated string fit for a stanza (caller frees):
 *  1. valid UTF-8 is kept as it is; otherwise the bytes are decoded with
 *     fallback: "latin1" (ISO-8859-1, the default when fallback is NULL or
 *     unknown), "cp1252" (Windows-1252: 0x80-0x9F map to the typographic
 *     characters, the five unassigned bytes to U+0081 etc. as WHATWG does),
 *     or "utf-8" (invalid sequences become U+FFFD);
 *  2. mIRC formatting is removed: \x02 bold, \x03 colour with an optional
 *     1-2 digit foreground and, only after a foreground, an optional ","
 *     plus 1-2 digit background (a comma not followed by a digit stays as
 *     text, as does one after a bare \x03), \x04 hex colour with an
 *     optional RRGGBB and, after it, an optional ",RRGGBB", \x0f reset,
 *     \x11 monospace, \x16 reverse, \x1d italic, \x1e strikethrough, \x1f
 *     underline;
 *  3. text_sanitize() (utf8.h) removes the other C0 controls (NUL, \x01,
 *     BEL...) and U+FFFE/U+FFFF; the result satisfies text_is_clean().
 * The output is at most 3 * len bytes.  *out_len (if not NULL) gets its
 * length.  Returns NULL only when memory runs out. */
char *irc_text_to_utf8(const char *in, size_t len, const char *fallback, size_t *out_len);

enum irc_ctcp_kind {
    IRC_CTCP_NONE = 0, /* not a CTCP message: plain text */
    IRC_CTCP_ACTION,   /* "/me": arg is the action text */
    IRC_CTCP_VERSION,  /* a version request (PRIVMSG) or reply (NOTICE) */
    IRC_CTCP_OTHER,    /* PING, TIME, DCC, ...: see cmd */
};

/* Recognises "\x01CMD args\x01" (the closing \x01 is optional; many
 * clients omit it) in text[0..len-1].  CMD is 1 or more bytes up to the
 * first space or \x01, none of them a control or space; the argument is
 * everything after that single space up to a final \x01 (or the end), so
 * nothing is lost; it may be empty.  Returns the kind (the command is
 * compared case-insensitively) and points *cmd and *arg into text; outputs may
 * be NULL.  Returns IRC_CTCP_NONE (outputs untouched) when text does not
 * start with \x01 or the command is empty or invalid. */
enum irc_ctcp_kind irc_ctcp_parse(const char *text, size_t len, const char **cmd, size_t *cmd_len,
                                  const char **arg, size_t *arg_len);

#endif
