/* Shared fixture for the Telnyx provider unit tests (test_prov_telnyx.c:
 * descriptor, build_send, parse_send; test_prov_telnyx_hook.c: verify,
 * parse_webhook): a key/value sms_cfg with the KAV public key and the API
 * key, and the golden file reader.  Header-only (static inline), as the
 * Makefile compiles only tests/unit/test_*.c.  Golden files:
 * tests/unit/golden/telnyx/. */
#ifndef FERRY_TESTS_TELNYX_FIXTURE_H
#define FERRY_TESTS_TELNYX_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms/provider.h"
#include "sms/sms_util.h"

#include "golden.h"

#define API_KEY "KEY01234_secret_api_key_DO_NOT_LEAK"

/* ---- fixtures --------------------------------------------------------------- */

struct kvcfg {
    struct sms_cfg c;
    const char *kv[16]; /* name, value, ..., NULL */
};

static inline const char *kv_get(const struct sms_cfg *cfg, const char *key)
{
    const struct kvcfg *k = (const struct kvcfg *)cfg;
    for (size_t i = 0; k->kv[i]; i += 2)
        if (strcmp(k->kv[i], key) == 0)
            return k->kv[i + 1];
    return NULL;
}

static inline char *g(const char *name, size_t *len)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "telnyx/%s", name);
    char *s = golden_read(rel, len, 0);
    if (!s)
        fail_msg("golden file %s missing", rel);
    return s;
}

/* A config with the KAV public key, the API key and optionally more pairs. */
static inline struct kvcfg *cfg_new(const char *k1, const char *v1, const char *k2, const char *v2)
{
    static struct kvcfg c;
    static char pk[64];
    char *p = g("kav_public_key.txt", NULL);
    snprintf(pk, sizeof(pk), "%s", p);
    free(p);
    memset(&c, 0, sizeof(c));
    c.c.get = kv_get;
    size_t n = 0;
    c.kv[n++] = "api_key", c.kv[n++] = API_KEY;
    c.kv[n++] = "public_key", c.kv[n++] = pk;
    if (k1)
        c.kv[n++] = k1, c.kv[n++] = v1;
    if (k2)
        c.kv[n++] = k2, c.kv[n++] = v2;
    return &c;
}

#endif
