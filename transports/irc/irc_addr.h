/* biboumi-compatible IRC addressing (DESIGN §1, irc-gateways.md §2.2) and
 * IRC name validation.  Pure functions, no I/O.
 *
 *   irc.libera.chat@gw          server (a message to it is a raw IRC line)
 *   #chan%irc.libera.chat@gw    channel (a MUC; occupants are .../nick)
 *   nick%irc.libera.chat@gw     user (1:1 query)
 *   %irc.libera.chat@gw/Nick    biboumi's "empty channel": a query with a
 *                               nick that is not valid in a JID local part
 *
 * With fixed_server set, '%' has no meaning: "#chan@gw", "nick@gw", and
 * "#channel%hello@gw" is the channel literally named "#channel%hello".
 *
 * Case: JID parts are lowercased with plain ASCII lowercasing, as biboumi
 * does (and as JID local parts are compared), so Toto, toto and TOTO are
 * one address.  IRC's own rfc1459 case mapping ({}|^ lowercase of []\~) is
 * irc_casefold, for comparing names as the IRC server does; it is not
 * applied to JIDs, where "[a]" and "{a}" stay different strings (the
 * server still treats them as one nick). */
#ifndef FERRY_IRC_ADDR_H
#define FERRY_IRC_ADDR_H

#include <stddef.h>

/* Default channel prefixes until the server's ISUPPORT CHANTYPES is known. */
#define IRC_DEFAULT_CHANTYPES "#&"
#define IRC_NICK_MAX 30
#define IRC_CHANNEL_MAX 50
#define IRC_KEY_MAX 23
#define IRC_SERVER_MAX 253

enum irc_addr_kind {
    IRC_ADDR_SERVER,  /* server set, name NULL */
    IRC_ADDR_CHANNEL, /* name starts with one of chantypes */
    IRC_ADDR_NICK,    /* any other name */
    IRC_ADDR_EMPTY,   /* "%server": name NULL; the nick is in the resource */
};

struct irc_addr {
    enum irc_addr_kind kind;
    char *name;   /* channel or nick, ASCII-lowercased; NULL for SERVER/EMPTY */
    char *server; /* ASCII-lowercased host name or IP literal; never NULL */
};

/* Parses a JID local part that the core has already XEP-0106-unescaped.
 * fixed_server: NULL or "" for multi-server mode.  chantypes: channel
 * prefixes, NULL for IRC_DEFAULT_CHANTYPES ("" means the server has no
 * channels).  Without fixed_server the local part is split at the first
 * '%'; no '%' means a server.  Returns 0 and fills *out (release with
 * irc_addr_clear), or FERRY_EINVAL (out zeroed) for: NULL or empty local
 * part, an empty server after '%', a server that is not a host name, IPv4
 * or IPv6 literal ("[v6]" or bare), a name that fails irc_valid_channel or
 * irc_valid_nick, an invalid fixed_server; FERRY_ENOMEM. */
int irc_addr_parse(const char *local, const char *fixed_server, const char *chantypes,
                   struct irc_addr *out);

/* Builds the unescaped JID local part back, ASCII-lowercased (caller
 * frees): "#chan%server", "nick%server", "server", "%server"; with
 * fixed_server just the name.  Returns NULL when memory runs out, when a
 * needed part is NULL, or for a SERVER or EMPTY address in fixed_server
 * mode (those are the gateway's own JID there). */
char *irc_addr_local(const struct irc_addr *a, const char *fixed_server);

/* Frees the parts and zeroes *a; accepts NULL. */
void irc_addr_clear(struct irc_addr *a);

/* Nonzero for a host name (labels of letters, digits, '-' and '_'
 * separated by single dots, no empty label), a dotted IPv4 address, or an
 * IPv6 literal with or without brackets; 1..IRC_SERVER_MAX bytes. */
int irc_valid_server(const char *s);

/* Nonzero for an RFC 2812 nick: letters, digits and []\`_^{|}- , not
 * starting with a digit or '-', 1..IRC_NICK_MAX bytes (RFC 2812 says 9;
 * ngircd and most networks allow 30 or more). */
int irc_valid_nick(const char *s);

/* Nonzero for a channel name: first byte one of chantypes (NULL for the
 * default), 2..IRC_CHANNEL_MAX bytes, no space, comma, BEL or other
 * control (bytes < 0x20 and 0x7F).  ':' and non-ASCII bytes are allowed,
 * as most servers allow them. */
int irc_valid_channel(const char *s, const char *chantypes);

/* Nonzero for a channel key (+k): 1..IRC_KEY_MAX bytes, no space, comma or
 * control (bytes < 0x20 and 0x7F). */
int irc_valid_key(const char *s);

/* Lowercases s in place with the rfc1459 case mapping: A-Z to a-z and
 * []\~ to {}|^.  Accepts NULL. */
void irc_casefold(char *s);

#endif
