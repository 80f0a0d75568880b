/* Shared fixture for provider unit tests that change the configuration
 * between tests (test_prov_vonage.c, test_prov_bandwidth.c): a small
 * mutable key/value table behind an sms_cfg.  cfg_reset() empties it,
 * cfg_set(k, NULL) makes a key read as unset.  Header-only (static), as
 * the Makefile compiles only tests/unit/test_*.c. */
#ifndef FERRY_TESTS_CFG_TABLE_H
#define FERRY_TESTS_CFG_TABLE_H

#include <string.h>

#include "sms/provider.h"

#define CFG_TABLE_MAX 12
static const char *cfg_k[CFG_TABLE_MAX], *cfg_v[CFG_TABLE_MAX];

static const char *cfg_get(const struct sms_cfg *c, const char *key)
{
    (void)c;
    for (int i = 0; i < CFG_TABLE_MAX && cfg_k[i]; i++)
        if (strcmp(cfg_k[i], key) == 0)
            return cfg_v[i];
    return NULL;
}
static const struct sms_cfg cfg = {cfg_get, NULL};

static void cfg_set(const char *k, const char *v)
{
    for (int i = 0; i < CFG_TABLE_MAX; i++) {
        if (!cfg_k[i] || strcmp(cfg_k[i], k) == 0) {
            cfg_k[i] = k;
            cfg_v[i] = v;
            return;
        }
    }
    fail_msg("cfg_table: more than %d keys", CFG_TABLE_MAX);
}

static void cfg_reset(void)
{
    memset(cfg_k, 0, sizeof(cfg_k));
    memset(cfg_v, 0, sizeof(cfg_v));
}

#endif
