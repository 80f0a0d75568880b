/* Stanza helpers for the core: building messages, errors and replies with
 * every piece of text passed through the sanitiser, and mapping neutral
 * error conditions to RFC 6120 ones.  Core only (libstrophe types). */
#ifndef FERRY_STANZA_H
#define FERRY_STANZA_H

#include <stddef.h>
#include <strophe.h>

#include "transport.h"

/* New <name xmlns=ns/> element, or NULL. */
xmpp_stanza_t *stz_elem(xmpp_ctx_t *ctx, const char *name, const char *ns);
/* Appends <name>text</name> (text sanitised; len may be (size_t)-1 for
 * strlen) to parent.  Returns the child (owned by parent) or NULL. */
xmpp_stanza_t *stz_add_text_child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                                  const char *text, size_t len);
/* Sets an attribute after sanitising the value. */
int stz_set_attr(xmpp_stanza_t *st, const char *name, const char *value);

/* The RFC 6120 condition element name, and its error type attribute. */
const char *stz_cond_name(enum tr_cond cond);
const char *stz_cond_type(enum tr_cond cond);

/* An error reply to `st` (from/to swapped, same id, original children
 * kept for messages), with condition and human text.  Caller releases. */
xmpp_stanza_t *stz_error_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *st, enum tr_cond cond,
                               const char *text);

/* A new message stanza; body is raw bytes (sanitised here), may be NULL. */
xmpp_stanza_t *stz_message(xmpp_ctx_t *ctx, const char *type, const char *from, const char *to,
                           const char *id, const char *body, size_t body_len);

/* xmpp_stanza_reply (to = st's from), from = st's to.  Caller releases. */
xmpp_stanza_t *stz_reply(xmpp_stanza_t *st);

/* The text of child <name/> of st (malloc'd by libstrophe; free with
 * xmpp_free), or NULL. */
char *stz_child_text(xmpp_stanza_t *st, const char *name);

/* Serialises to a malloc'd string (free with free()), or NULL. */
char *stz_to_string(xmpp_ctx_t *ctx, xmpp_stanza_t *st);

#endif
