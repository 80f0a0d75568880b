/* Validation of one libconfig group against a table of struct cfg_key
 * (declared in transports/transport.h): unknown keys, wrong types,
 * out-of-range numbers and missing required keys are errors naming file,
 * line and key.  Also catches libconfig's silent truncation of integers
 * above 2^31 written without an L suffix (DESIGN §3.6) by re-reading the
 * number from the source line. */
#ifndef FERRY_CFGKEYS_H
#define FERRY_CFGKEYS_H

#include <libconfig.h>
#include <stddef.h>

#include "transport.h"

struct cfg_values;

struct cfg_value {
    const struct cfg_key *key;
    int set;       /* given in the file (otherwise the default, if any) */
    int line;      /* source line when set, else 0 */
    long long num; /* CFG_INT, CFG_BOOL */
    char *str;     /* CFG_STRING; NULL when unset without default */
    char **list;   /* CFG_STRLIST */
    size_t list_len;
    struct cfg_values *groups; /* CFG_GROUPLIST: one set of values per group */
    size_t n_groups;
};

struct cfg_values {
    struct cfg_value *v;
    size_t n;
};

/* Validates `group` (may be NULL: all defaults) against up to two key
 * tables (keys2 may be NULL), each terminated by an entry with name NULL.
 * `where` names the group in messages (e.g. "xmpp", "transports[1]").
 * On error returns FERRY_ECONFIG and writes "FILE:LINE: where.key: reason"
 * into err.  On success *out holds one value per key (caller clears). */
int cfgv_parse(const config_setting_t *group, const char *file, const char *where,
               const struct cfg_key *keys, const struct cfg_key *keys2, struct cfg_values *out,
               char *err, size_t errlen);
void cfgv_clear(struct cfg_values *vals);
/* Deep copy (for handing instance settings to a long-lived instance). */
int cfgv_copy(const struct cfg_values *src, struct cfg_values *dst);

const struct cfg_value *cfgv_get(const struct cfg_values *vals, const char *name);
const char *cfgv_str(const struct cfg_values *vals, const char *name); /* NULL if unset */
long long cfgv_int(const struct cfg_values *vals, const char *name);   /* 0 if unset */
int cfgv_bool(const struct cfg_values *vals, const char *name);

/* Line of a setting, or of its closest ancestor that has one. */
int cfgv_line(const config_setting_t *s);

#endif
