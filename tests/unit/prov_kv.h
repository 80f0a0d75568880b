/* Shared fixture of the Twilio and Plivo provider tests: a configuration and
 * webhook headers from constant key/value lists, golden files of the
 * provider, and parse_send helpers.  The includer defines PROV (the
 * provider, e.g. sms_twilio) and PROV_DIR (its golden directory) first,
 * and later the configuration `cfg` (tentatively declared here).
 * Header-only (static), as the Makefile compiles only tests/unit/test_*.c. */
#ifndef FERRY_TESTS_PROV_KV_H
#define FERRY_TESTS_PROV_KV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "golden.h"
#include "sms/provider.h"

struct kv {
    const char *k, *v;
};

static const char *kv_get(const struct kv *kv, const char *key, int nocase)
{
    for (; kv && kv->k; kv++)
        if (nocase ? strcasecmp(kv->k, key) == 0 : strcmp(kv->k, key) == 0)
            return kv->v;
    return NULL;
}

/* sms_cfg.get over the struct kv list in ctx. */
static const char *cfg_get(const struct sms_cfg *c, const char *key)
{
    return kv_get(c->ctx, key, 0);
}

/* sms_webhook.header over the struct kv list in ctx (names ignore case). */
static const char *hdr_get(const struct sms_webhook *w, const char *name)
{
    return kv_get(w->ctx, name, 1);
}

static char *golden(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof(path), PROV_DIR "/%s", name);
    char *s = golden_read(path, len, 0);
    assert_non_null(s);
    return s;
}

static struct sms_cfg cfg; /* defined by the includer */

/* parse_send of the golden answer file (NULL: no body). */
static void parse(int status, const char *retry_after, const char *file,
                  struct sms_send_result *res)
{
    size_t len = 0;
    char *body = file ? golden(file, &len) : NULL;
    PROV.parse_send(&cfg, status, retry_after, body, len, res);
    free(body);
}

static void expect_permanent(const char *file, int status, enum tr_cond cond, const char *needle)
{
    struct sms_send_result res;
    parse(status, NULL, file, &res);
    assert_int_equal(res.outcome, SMS_PERMANENT);
    assert_int_equal(res.cond, cond);
    assert_non_null(strstr(res.text, needle));
}

#endif
