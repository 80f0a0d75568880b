#include "stanza_xml.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Escaped: & < > always, and both quotes inside attribute values. */
static void put_escaped(struct sbuf *b, const char *s, size_t n, int attr)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = NULL;
        switch (s[i]) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = attr ? "&quot;" : NULL;
            break;
        case '\'':
            e = attr ? "&apos;" : NULL;
            break;
        }
        if (!e)
            continue;
        put(b, s + run, i - run);
        puts_(b, e);
        run = i + 1;
    }
    put(b, s + run, n - run);
}

/* Sanitised (only copied when it must change), then escaped. */
static void put_text(struct sbuf *b, const char *s, size_t n, int attr)
{
    if (text_is_clean(s, n)) {
        put_escaped(b, s, n, attr);
        return;
    }
    size_t clean_len = 0;
    char *clean = text_sanitize(s, n, &clean_len);
    if (!clean) {
        b->oom = 1;
        return;
    }
    put_escaped(b, clean, clean_len, attr);
    free(clean);
}

static void put_attr(struct sbuf *b, const char *name, const char *value)
{
    if (!value)
        return;
    put(b, " ", 1);
    puts_(b, name);
    put(b, "='", 2);
    put_text(b, value, strlen(value), 1);
    put(b, "'", 1);
}

static void put_elem(struct sbuf *b, const char *name, const char *text, size_t n)
{
    put(b, "<", 1);
    puts_(b, name);
    put(b, ">", 1);
    put_text(b, text, n, 0);
    put(b, "</", 2);
    puts_(b, name);
    put(b, ">", 1);
}

char *stz_message_xml(const struct stz_msg *m, size_t *len)
{
    struct sbuf b = {0};
    puts_(&b, "<message");
    put_attr(&b, "type", m->type);
    put_attr(&b, "from", m->from);
    put_attr(&b, "to", m->to);
    put_attr(&b, "id", m->id);
    put(&b, ">", 1);
    if (m->body)
        put_elem(&b, "body", m->body, m->body_len);
    if (m->subject)
        put_elem(&b, "subject", m->subject, strlen(m->subject));
    if (m->oob_url) {
        puts_(&b, "<x xmlns='jabber:x:oob'>");
        put_elem(&b, "url", m->oob_url, strlen(m->oob_url));
        puts_(&b, "</x>");
    }
    if (m->invite_jid) {
        puts_(&b, "<x xmlns='jabber:x:conference'");
        put_attr(&b, "jid", m->invite_jid);
        puts_(&b, "/>");
    }
    if (m->origin_id) {
        puts_(&b, "<origin-id xmlns='urn:xmpp:sid:0'");
        put_attr(&b, "id", m->origin_id);
        puts_(&b, "/>");
    }
    puts_(&b, "</message>");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}
