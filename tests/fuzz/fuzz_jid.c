/* libFuzzer target for JIDs: parse arbitrary bytes (cut at the first NUL)
 * and check that a successful parse is self-consistent, then escape and
 * unescape the same bytes and check the round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parse(const char *s)
{
    struct jid j, k;

    if (jid_parse(s, &j) != 0) {
        if (j.local != NULL || j.domain != NULL || j.resource != NULL)
            abort(); /* an error must leave the struct zeroed */
        if (jid_bare(s) != NULL)
            abort();
        return;
    }
    if (j.domain == NULL || j.domain[0] == '\0' || strlen(j.domain) > JID_PART_MAX)
        abort();
    if (!text_is_clean(j.domain, strlen(j.domain)))
        abort();
    for (const char *c = j.domain; *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
            abort();

    /* Joining the parts back gives a JID that parses to the same parts. */
    char *full = jid_join(j.local, j.domain, j.resource);
    if (full == NULL || jid_parse(full, &k) != 0)
        abort();
    if (strcmp(j.domain, k.domain) != 0 || (j.local == NULL) != (k.local == NULL) ||
        (j.local != NULL && strcmp(j.local, k.local) != 0) ||
        (j.resource == NULL) != (k.resource == NULL) ||
        (j.resource != NULL && strcmp(j.resource, k.resource) != 0))
        abort();
    if (!jid_bare_equal(s, full))
        abort();

    char *bare = jid_bare(s);
    if (bare == NULL || !jid_bare_equal(bare, s))
        abort();
    free(bare);
    free(full);
    jid_clear(&k);
    jid_clear(&j);
}

static void check_escape(const char *s)
{
    char *e = NULL, *u = NULL;
    struct jid j;

    if (jid_escape_local(s, &e) != 0) {
        if (e != NULL)
            abort();
        return;
    }
    /* The escaped form is a valid local part and unescapes to the input. */
    char *full = jid_join(e, "example.org", NULL);
    if (full == NULL || jid_parse(full, &j) != 0 || strcmp(j.local, e) != 0)
        abort();
    jid_clear(&j);
    free(full);
    if (jid_unescape_local(e, &u) != 0 || strcmp(u, s) != 0)
        abort();
    free(u);
    free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char *u = NULL;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_parse(s);
    check_escape(s);
    /* Unescaping anything valid never lengthens it. */
    if (jid_unescape_local(s, &u) == 0 && strlen(u) > strlen(s))
        abort();
    free(u);
    free(s);
    return 0;
}
