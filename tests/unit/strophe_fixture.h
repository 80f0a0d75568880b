/* A libstrophe context for the stanza tests (test_stanza*.c): set up and
 * torn down once per group.  Header-only, like the other fixtures. */
#ifndef FERRY_TESTS_STROPHE_FIXTURE_H
#define FERRY_TESTS_STROPHE_FIXTURE_H

#include <strophe.h>

static xmpp_ctx_t *ctx;

static int setup(void **state)
{
    (void)state;
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return 0;
}

#endif
