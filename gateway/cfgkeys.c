#include "cfgkeys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int cfgv_line(const config_setting_t *s)
{
    for (; s; s = config_setting_parent(s)) {
        int line = (int)config_setting_source_line(s);
        if (line > 0)
            return line;
    }
    return 0;
}

static int fail(char *err, size_t errlen, const char *file, int line, const char *where,
                const char *key, const char *fmt, const char *arg)
{
    char reason[256];
    snprintf(reason, sizeof(reason), fmt, arg ? arg : "");
    snprintf(err, errlen, "%s:%d: %s%s%s: %s", file, line, where, key ? "." : "", key ? key : "",
             reason);
    return FERRY_ECONFIG;
}

/* libconfig 1.5 parses "port = 4294967297;" as a 32-bit int and silently
 * keeps the low bits.  Read the literal back from the file and compare. */
static int int_literal_matches(const char *file, int line, const char *name, long long value)
{
    FILE *fp = fopen(file, "r");
    if (!fp)
        return 1; /* cannot tell; libconfig read it, so accept */
    char buf[4096];
    int n = 0, ok = 1;
    while (fgets(buf, sizeof(buf), fp)) {
        if (++n < line)
            continue;
        char *p = strstr(buf, name);
        while (p) {
            char *q = p + strlen(name);
            while (*q == ' ' || *q == '\t')
                q++;
            if ((*q == '=' || *q == ':') &&
                (p == buf || !(p[-1] == '_' || isalnum((unsigned char)p[-1])))) {
                q++;
                errno = 0;
                long long lit = strtoll(q, NULL, 0);
                if (errno == ERANGE || lit != value)
                    ok = 0;
                break;
            }
            p = strstr(p + 1, name);
        }
        break;
    }
    fclose(fp);
    return ok;
}

static const struct cfg_key *find_key(const struct cfg_key *keys, const struct cfg_key *keys2,
                                      const char *name)
{
    for (const struct cfg_key *k = keys; k && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    for (const struct cfg_key *k = keys2; k && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static const char *type_name(enum cfg_type t)
{
    switch (t) {
    case CFG_STRING:
        return "a string in double quotes";
    case CFG_INT:
        return "an integer";
    case CFG_BOOL:
        return "true or false";
    case CFG_STRLIST:
        return "a list of strings, e.g. [ \"a\", \"b\" ]";
    case CFG_GROUPLIST:
        return "a list of groups, e.g. ( { key = value; }, { ... } )";
    }
    return "?";
}

static int set_default(struct cfg_value *v)
{
    const struct cfg_key *k = v->key;
    if (!k->def)
        return 0;
    switch (k->type) {
    case CFG_STRING:
        v->str = strdup(k->def);
        return v->str ? 0 : FERRY_ENOMEM;
    case CFG_INT:
        v->num = strtoll(k->def, NULL, 0);
        return 0;
    case CFG_BOOL:
        v->num = strcmp(k->def, "true") == 0;
        return 0;
    case CFG_STRLIST:
    case CFG_GROUPLIST:
        return 0; /* defaults for lists are empty */
    }
    return 0;
}

static int take_value(const config_setting_t *s, const char *file, const char *where,
                      struct cfg_value *v, char *err, size_t errlen)
{
    const struct cfg_key *k = v->key;
    int line = cfgv_line(s), t = config_setting_type(s);
    char range[96];
    switch (k->type) {
    case CFG_STRING: {
        if (t != CONFIG_TYPE_STRING)
            return fail(err, errlen, file, line, where, k->name, "must be %s", type_name(k->type));
        const char *str = config_setting_get_string(s);
        size_t len = strlen(str);
        if ((long long)len < k->min || (k->max > 0 && (long long)len > k->max)) {
            snprintf(range, sizeof(range), "%lld to %lld", k->min, k->max);
            return fail(err, errlen, file, line, where, k->name,
                        k->max > 0 ? "length must be %s characters" : "must not be empty", range);
        }
        free(v->str);
        v->str = strdup(str);
        if (!v->str)
            return FERRY_ENOMEM;
        break;
    }
    case CFG_INT: {
        long long n;
        if (t == CONFIG_TYPE_INT)
            n = config_setting_get_int(s);
        else if (t == CONFIG_TYPE_INT64)
            n = config_setting_get_int64(s);
        else
            return fail(err, errlen, file, line, where, k->name, "must be %s", type_name(k->type));
        if (t == CONFIG_TYPE_INT && !int_literal_matches(file, line, k->name, n))
            return fail(err, errlen, file, line, where, k->name,
                        "number too large for a plain integer%s", "");
        if (n < k->min || n > k->max) {
            snprintf(range, sizeof(range), "%lld..%lld", k->min, k->max);
            return fail(err, errlen, file, line, where, k->name, "must be in the range %s", range);
        }
        v->num = n;
        break;
    }
    case CFG_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            return fail(err, errlen, file, line, where, k->name, "must be %s", type_name(k->type));
        v->num = config_setting_get_bool(s);
        break;
    case CFG_STRLIST: {
        if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
            return fail(err, errlen, file, line, where, k->name, "must be %s", type_name(k->type));
        int n = config_setting_length(s);
        char **list = calloc((size_t)n + 1, sizeof(*list));
        if (!list)
            return FERRY_ENOMEM;
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (config_setting_type(e) != CONFIG_TYPE_STRING || !*config_setting_get_string(e)) {
                for (int j = 0; j < i; j++)
                    free(list[j]);
                free(list);
                return fail(err, errlen, file, cfgv_line(e), where, k->name,
                            "must be %s (no empty strings)", type_name(k->type));
            }
            list[i] = strdup(config_setting_get_string(e));
        }
        v->list = list;
        v->list_len = (size_t)n;
        break;
    }
    case CFG_GROUPLIST: {
        if (t != CONFIG_TYPE_LIST)
            return fail(err, errlen, file, line, where, k->name, "must be %s", type_name(k->type));
        int n = config_setting_length(s);
        struct cfg_values *groups = calloc((size_t)n + 1, sizeof(*groups));
        if (!groups)
            return FERRY_ENOMEM;
        for (int i = 0; i < n; i++) {
            char sub_where[160];
            snprintf(sub_where, sizeof(sub_where), "%s.%s[%d]", where, k->name, i);
            int rc = cfgv_parse(config_setting_get_elem(s, (unsigned)i), file, sub_where, k->sub,
                                NULL, &groups[i], err, errlen);
            if (rc) {
                for (int j = 0; j < i; j++)
                    cfgv_clear(&groups[j]);
                free(groups);
                return rc;
            }
        }
        v->groups = groups;
        v->n_groups = (size_t)n;
        break;
    }
    }
    v->set = 1;
    v->line = line;
    return 0;
}

int cfgv_parse(const config_setting_t *group, const char *file, const char *where,
               const struct cfg_key *keys, const struct cfg_key *keys2, struct cfg_values *out,
               char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    size_t n = 0;
    for (const struct cfg_key *k = keys; k && k->name; k++)
        n++;
    for (const struct cfg_key *k = keys2; k && k->name; k++)
        n++;
    out->v = calloc(n ? n : 1, sizeof(*out->v));
    if (!out->v)
        return FERRY_ENOMEM;
    out->n = n;
    size_t i = 0;
    for (const struct cfg_key *k = keys; k && k->name; k++)
        out->v[i++].key = k;
    for (const struct cfg_key *k = keys2; k && k->name; k++)
        out->v[i++].key = k;
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++)
        rc = set_default(&out->v[i]);

    if (group && rc == 0) {
        if (!config_setting_is_group(group)) {
            rc = fail(err, errlen, file, cfgv_line(group), where, NULL,
                      "must be a group: %s = { key = value; ... };", where);
        }
        int len = rc ? 0 : config_setting_length(group);
        for (int j = 0; j < len && rc == 0; j++) {
            const config_setting_t *s = config_setting_get_elem(group, (unsigned)j);
            const char *name = config_setting_name(s);
            const struct cfg_key *k = name ? find_key(keys, keys2, name) : NULL;
            if (!k) {
                rc = fail(err, errlen, file, cfgv_line(s), where, name, "unknown key%s", "");
                break;
            }
            for (i = 0; i < n; i++)
                if (out->v[i].key == k)
                    rc = take_value(s, file, where, &out->v[i], err, errlen);
        }
    }
    for (i = 0; i < n && rc == 0; i++)
        if (out->v[i].key->required && !out->v[i].set)
            rc = fail(err, errlen, file, group ? cfgv_line(group) : 0, where, out->v[i].key->name,
                      "required key is missing%s", "");
    if (rc)
        cfgv_clear(out);
    return rc;
}

void cfgv_clear(struct cfg_values *vals)
{
    if (!vals)
        return;
    for (size_t i = 0; i < vals->n; i++) {
        free(vals->v[i].str);
        for (size_t j = 0; j < vals->v[i].list_len; j++)
            free(vals->v[i].list[j]);
        free(vals->v[i].list);
        for (size_t j = 0; j < vals->v[i].n_groups; j++)
            cfgv_clear(&vals->v[i].groups[j]);
        free(vals->v[i].groups);
    }
    free(vals->v);
    vals->v = NULL;
    vals->n = 0;
}

int cfgv_copy(const struct cfg_values *src, struct cfg_values *dst)
{
    memset(dst, 0, sizeof(*dst));
    dst->v = calloc(src->n ? src->n : 1, sizeof(*dst->v));
    if (!dst->v)
        return FERRY_ENOMEM;
    dst->n = src->n;
    for (size_t i = 0; i < src->n; i++) {
        const struct cfg_value *s = &src->v[i];
        struct cfg_value *d = &dst->v[i];
        *d = *s;
        d->str = s->str ? strdup(s->str) : NULL;
        d->list = NULL;
        d->list_len = 0;
        if (s->list) {
            d->list = calloc(s->list_len + 1, sizeof(char *));
            if (!d->list) {
                cfgv_clear(dst);
                return FERRY_ENOMEM;
            }
            d->list_len = s->list_len;
            for (size_t j = 0; j < s->list_len; j++)
                d->list[j] = strdup(s->list[j]);
        }
        d->groups = NULL;
        d->n_groups = 0;
        if (s->groups) {
            d->groups = calloc(s->n_groups + 1, sizeof(*d->groups));
            if (!d->groups) {
                cfgv_clear(dst);
                return FERRY_ENOMEM;
            }
            d->n_groups = s->n_groups;
            for (size_t j = 0; j < s->n_groups; j++)
                if (cfgv_copy(&s->groups[j], &d->groups[j]) != 0) {
                    cfgv_clear(dst);
                    return FERRY_ENOMEM;
                }
        }
    }
    return 0;
}

const struct cfg_value *cfgv_get(const struct cfg_values *vals, const char *name)
{
    for (size_t i = 0; vals && i < vals->n; i++)
        if (strcmp(vals->v[i].key->name, name) == 0)
            return &vals->v[i];
    return NULL;
}

const char *cfgv_str(const struct cfg_values *vals, const char *name)
{
    const struct cfg_value *v = cfgv_get(vals, name);
    return v ? v->str : NULL;
}

long long cfgv_int(const struct cfg_values *vals, const char *name)
{
    const struct cfg_value *v = cfgv_get(vals, name);
    return v ? v->num : 0;
}

int cfgv_bool(const struct cfg_values *vals, const char *name)
{
    return cfgv_int(vals, name) != 0;
}
