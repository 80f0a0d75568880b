/* Messages serialised straight to XML text, without building a libstrophe
 * tree first: the path every message from a transport takes. */
#ifndef FERRY_STANZA_XML_H
#define FERRY_STANZA_XML_H

#include <stddef.h>

struct stz_msg {
    const char *type; /* chat, groupchat, normal */
    const char *from, *to, *id;
    const char *body; /* raw bytes (sanitised here), may be NULL */
    size_t body_len;
    const char *subject;    /* NUL-terminated, sanitised here; may be NULL */
    const char *oob_url;    /* jabber:x:oob; may be NULL */
    const char *origin_id;  /* XEP-0359 <origin-id/>; may be NULL */
    const char *invite_jid; /* XEP-0249 <x xmlns='jabber:x:conference' jid=.../>; may be NULL */
};

/* A malloc'd NUL-terminated <message/> (length in *len when not NULL);
 * every attribute and text is sanitised (utf8.h) and escaped.  NULL only
 * when memory runs out. */
char *stz_message_xml(const struct stz_msg *m, size_t *len);

#endif
