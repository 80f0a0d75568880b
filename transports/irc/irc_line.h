/* IRC line parser and serialiser (DESIGN §2 "IRC protocol: our own").
 * Pure functions: no I/O, no globals, no logging.
 *
 * Parsing follows RFC 1459/2812 and the IRCv3 message-tags specification:
 *
 *   ['@' tags SPACE] [':' prefix SPACE] command *(SPACE middle) [SPACE ':' trailing]
 *
 * Runs of spaces between parts count as one separator (RFC 1459 <SPACE>);
 * spaces before the command and after the last middle parameter are ignored.
 *
 * Errors are negative ferry_err codes (err.h), never -1 as such: callers
 * test "< 0".  FERRY_EINVAL is "malformed", FERRY_ERANGE "too long",
 * FERRY_ENOMEM "out of memory". */
#ifndef FERRY_IRC_LINE_H
#define FERRY_IRC_LINE_H

#include <stddef.h>

/* Longest incoming line, tags included, without the CR LF.  (IRCv3 allows
 * up to 8191 bytes of tags plus 512 for the rest; we cap the whole line,
 * which is far more than any server sends in practice.) */
#define IRC_LINE_MAX 8191
/* RFC 2812: at most 15 parameters. */
#define IRC_MAX_PARAMS 15
/* Tags kept per message; further tags are ignored (the message is not). */
#define IRC_MAX_TAGS 64
/* Longest outgoing line, CR LF included (RFC 1459). */
#define IRC_OUT_MAX 512

struct irc_tag {
    const char *key;   /* as sent, with any '+' client prefix and vendor/ */
    const char *value; /* unescaped; "" when the tag had no value */
};

/* A parsed line.  Every pointer points into buf, which the message owns;
 * irc_msg_clear frees it.  Copying the struct copies the pointers only. */
struct irc_msg {
    struct irc_tag tags[IRC_MAX_TAGS];
    size_t ntags;
    /* Prefix ":nick!user@host", ":nick@host", ":nick" or ":server.name";
     * absent parts are NULL (a server prefix has only nick = the server
     * name, which cannot be told from a bare nick). */
    const char *nick;
    const char *user;
    const char *host;
    const char *command; /* as given: letters (case kept) or 3 digits */
    const char *params[IRC_MAX_PARAMS];
    size_t nparams; /* the trailing parameter, if any, is params[nparams-1] */
    char *buf;      /* owned storage for all of the above */
};

/* Parses one line of len bytes (not NUL-terminated; may end with "\r\n",
 * "\n" or "\r", which are stripped).  On success returns 0 and fills *out,
 * which the caller releases with irc_msg_clear.  On error *out is left
 * zeroed (irc_msg_clear on it is harmless) and the result is:
 *   FERRY_EINVAL  empty line, no command, a command that is neither letters
 *                 nor 3 digits, a NUL byte, a CR or LF before the end,
 *                 an empty prefix or prefix nick, more than 15 parameters,
 *                 tags without a following command;
 *   FERRY_ERANGE  more than IRC_LINE_MAX bytes once the line end is stripped;
 *   FERRY_ENOMEM  allocation failed.
 * Tags: values are unescaped per message-tags ("\:" ';', "\s" space, "\\"
 * backslash, "\r" CR, "\n" LF, a backslash before any other character is
 * dropped, a final lone backslash is dropped), so a value may contain CR or
 * LF: never copy one into an outgoing line.  Empty tags ("@;a") and tags
 * with an empty or invalid key (not [A-Za-z0-9-./] with an optional leading
 * '+') are skipped, as are tags after the 64th. */
int irc_parse(const char *line, size_t len, struct irc_msg *out);

/* Frees the storage and zeroes *m; accepts NULL and zeroed messages. */
void irc_msg_clear(struct irc_msg *m);

/* Value of tag key (exact match), or NULL when absent.  When a key occurs
 * more than once the last value wins (message-tags spec). */
const char *irc_msg_tag(const struct irc_msg *m, const char *key);

/* Writes "COMMAND p1 p2 ... :last\r\n" plus a terminating NUL to out.
 *   command: letters or exactly 3 digits;
 *   params[0..n-2]: non-empty, no space, not starting with ':';
 *   params[n-1]: anything; it gets a ':' when empty, when it contains a
 *   space or when it starts with ':';
 *   n <= IRC_MAX_PARAMS (params may be NULL when n is 0).
 * No CR or LF may appear anywhere (strings are NUL-terminated, so the
 * output never holds a NUL either).  Returns the length written (CR LF
 * included, NUL excluded), or FERRY_EINVAL for a rule broken above,
 * FERRY_ERANGE when the line would exceed IRC_OUT_MAX bytes with its CR LF
 * or does not fit in outlen (which must leave room for the NUL).  On error
 * out holds "" when outlen > 0. */
int irc_build(char *out, size_t outlen, const char *command, size_t n, const char *const *params);

#endif
