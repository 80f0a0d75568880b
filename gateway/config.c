#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jid.h"
#include "log.h"
#include "ferry.h"
#include "transport_reg.h"

static const struct cfg_key xmpp_keys[] = {
    {"host", CFG_STRING, 0, 1, 255, "127.0.0.1", "XMPP server address"},
    {"port", CFG_INT, 0, 1, 65535, "5347", "component port"},
    {"secret", CFG_STRING, 0, 1, 1024, NULL, "component secret"},
    {"secret_file", CFG_STRING, 0, 1, 4096, NULL, "file holding the component secret"},
    {"keepalive", CFG_INT, 0, 5, 3600, "60", "seconds between keepalive pings"},
    {"reconnect_min", CFG_INT, 0, 1, 3600, "1", "first reconnect delay, seconds"},
    {"reconnect_max", CFG_INT, 0, 1, 3600, "60", "largest reconnect delay, seconds"},
    {"socket_sndbuf", CFG_INT, 0, 0, 16777216, "0", "SO_SNDBUF bytes, 0: system default"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct cfg_key store_keys[] = {
    {"path", CFG_STRING, 0, 1, 4096, "/var/lib/ferry/ferry.db", "SQLite database file"},
    {"sync", CFG_STRING, 0, 1, 16, "full", "full | normal: commit durability"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct cfg_key log_keys[] = {
    {"level", CFG_STRING, 0, 1, 16, "info", "error | warn | info | debug"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct cfg_key http_keys[] = {
    {"enabled", CFG_BOOL, 0, 0, 0, "true", "run the HTTP listener"},
    {"address", CFG_STRING, 0, 1, 255, "127.0.0.1", "listen address"},
    {"port", CFG_INT, 0, 1, 65535, "8080", "listen port"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct cfg_key access_keys[] = {
    {"open", CFG_BOOL, 0, 0, 0, "false", "anyone may use the gateway"},
    {"allow_domains", CFG_STRLIST, 0, 0, 0, NULL, "user domains allowed"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct cfg_key inst_common_keys[] = {
    {"driver", CFG_STRING, 1, 1, 64, NULL, "transport driver"},
    {"domain", CFG_STRING, 1, 1, 1023, NULL, "component domain"},
    {"name", CFG_STRING, 0, 1, 64, NULL, "instance name"},
    {"secret", CFG_STRING, 0, 1, 1024, NULL, "component secret for this domain"},
    {"secret_file", CFG_STRING, 0, 1, 4096, NULL, "file holding that secret"},
    {"description", CFG_STRING, 0, 1, 256, NULL, "disco identity name"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const char *const top_groups[] = {"xmpp",   "store",      "log", "http",
                                         "access", "transports", NULL};

static int read_secret_file(const char *path, const char *file, int line, const char *where,
                            char **out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "%s:%d: %s.secret_file: cannot read %s: %s", file, line, where, path,
                 strerror(errno));
        return FERRY_ECONFIG;
    }
    char buf[1100];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    if (!*buf || strlen(buf) > 1024) {
        snprintf(err, errlen, "%s:%d: %s.secret_file: %s must hold the secret on its first line",
                 file, line, where, path);
        return FERRY_ECONFIG;
    }
    *out = strdup(buf);
    return *out ? 0 : FERRY_ENOMEM;
}

/* secret or secret_file from vals (either may be set, not both). */
static int take_secret(const struct cfg_values *vals, const char *file, const char *where,
                       char **out, char *err, size_t errlen)
{
    const struct cfg_value *s = cfgv_get(vals, "secret"), *f = cfgv_get(vals, "secret_file");
    if (s->set && f->set) {
        snprintf(err, errlen, "%s:%d: %s.secret_file: set either secret or secret_file, not both",
                 file, f->line, where);
        return FERRY_ECONFIG;
    }
    if (f->set)
        return read_secret_file(f->str, file, f->line, where, out, err, errlen);
    if (s->set) {
        *out = strdup(s->str);
        return *out ? 0 : FERRY_ENOMEM;
    }
    *out = NULL;
    return 0;
}

static int dup_str(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return (src && !*dst) ? FERRY_ENOMEM : 0;
}

static int valid_domain(const char *d)
{
    struct jid j;
    if (jid_parse(d, &j) != 0)
        return 0;
    int ok = !j.local && !j.resource && strchr(d, '.') != NULL;
    jid_clear(&j);
    return ok;
}

static void lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static int load_instance(struct config *cfg, const config_setting_t *s, size_t idx,
                         const char *xmpp_secret, char *err, size_t errlen)
{
    const char *file = cfg->path;
    struct inst_config *ic = &cfg->inst[idx];
    char where[48];
    snprintf(where, sizeof(where), "transports[%zu]", idx);
    ic->line = cfgv_line(s);
    if (!config_setting_is_group(s)) {
        snprintf(err, errlen, "%s:%d: %s: each transport must be a group { driver = ...; }", file,
                 ic->line, where);
        return FERRY_ECONFIG;
    }
    const char *driver = NULL;
    if (!config_setting_lookup_string(s, "driver", &driver)) {
        snprintf(err, errlen, "%s:%d: %s.driver: required key is missing (one of: %s)", file,
                 ic->line, where, transport_names());
        return FERRY_ECONFIG;
    }
    ic->ops = transport_find(driver);
    if (!ic->ops) {
        snprintf(err, errlen, "%s:%d: %s.driver: unknown driver \"%s\" (known: %s)", file,
                 cfgv_line(config_setting_get_member(s, "driver")), where, driver,
                 transport_names());
        return FERRY_ECONFIG;
    }
    int rc = cfgv_parse(s, file, where, inst_common_keys, ic->ops->keys, &ic->vals, err, errlen);
    if (rc)
        return rc;
    if ((rc = dup_str(&ic->driver, driver)) ||
        (rc = dup_str(&ic->domain, cfgv_str(&ic->vals, "domain"))))
        return rc;
    lower(ic->domain);
    if (!valid_domain(ic->domain)) {
        snprintf(err, errlen, "%s:%d: %s.domain: \"%s\" is not a domain name like sms.example.org",
                 file, cfgv_get(&ic->vals, "domain")->line, where, ic->domain);
        return FERRY_ECONFIG;
    }
    const char *name = cfgv_str(&ic->vals, "name");
    if ((rc = dup_str(&ic->name, name ? name : ic->domain)))
        return rc;
    const char *desc = cfgv_str(&ic->vals, "description");
    if ((rc = dup_str(&ic->description, desc ? desc : ic->ops->description)))
        return rc;
    if ((rc = take_secret(&ic->vals, file, where, &ic->secret, err, errlen)))
        return rc;
    if (!ic->secret) {
        if (!xmpp_secret) {
            snprintf(err, errlen,
                     "%s:%d: %s.secret: no component secret: set xmpp.secret, xmpp.secret_file "
                     "or this transport's secret",
                     file, ic->line, where);
            return FERRY_ECONFIG;
        }
        if ((rc = dup_str(&ic->secret, xmpp_secret)))
            return rc;
    }
    if (ic->ops->config_check) {
        struct instance tmp = {0};
        tmp.vals = ic->vals;
        tmp.name = ic->name;
        tmp.domain = ic->domain;
        char why[400] = "";
        if (transport_config_check(ic->ops, &tmp, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s:%d: %s.%s", file, ic->line, where, why);
            return FERRY_ECONFIG;
        }
    }
    for (size_t j = 0; j < idx; j++) {
        const char *what = NULL;
        if (strcmp(cfg->inst[j].domain, ic->domain) == 0)
            what = "domain";
        else if (strcmp(cfg->inst[j].name, ic->name) == 0)
            what = "name";
        if (what) {
            snprintf(err, errlen, "%s:%d: %s.%s: \"%s\" is already used by transports[%zu]", file,
                     ic->line, where, what, strcmp(what, "domain") ? ic->name : ic->domain, j);
            return FERRY_ECONFIG;
        }
    }
    return 0;
}

static int load_core(struct config *cfg, config_t *lc, char **xmpp_secret, char *err, size_t errlen)
{
    const char *file = cfg->path;
    config_setting_t *root = config_root_setting(lc);
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        int known = 0;
        for (int j = 0; top_groups[j]; j++)
            known |= strcmp(config_setting_name(s), top_groups[j]) == 0;
        if (!known) {
            snprintf(err, errlen,
                     "%s:%d: %s: unknown setting (expected xmpp, store, log, http, access, "
                     "transports)",
                     file, cfgv_line(s), config_setting_name(s));
            return FERRY_ECONFIG;
        }
    }
    struct cfg_values v;
    int rc = cfgv_parse(config_lookup(lc, "xmpp"), file, "xmpp", xmpp_keys, NULL, &v, err, errlen);
    if (rc)
        return rc;
    rc = dup_str(&cfg->xmpp_host, cfgv_str(&v, "host"));
    cfg->xmpp_port = (int)cfgv_int(&v, "port");
    cfg->keepalive = (int)cfgv_int(&v, "keepalive");
    cfg->reconnect_min = (int)cfgv_int(&v, "reconnect_min");
    cfg->reconnect_max = (int)cfgv_int(&v, "reconnect_max");
    cfg->socket_sndbuf = (int)cfgv_int(&v, "socket_sndbuf");
    if (!rc && cfg->reconnect_min > cfg->reconnect_max) {
        snprintf(err, errlen, "%s:%d: xmpp.reconnect_min: must not exceed reconnect_max (%d)", file,
                 cfgv_get(&v, "reconnect_min")->line, cfg->reconnect_max);
        rc = FERRY_ECONFIG;
    }
    if (!rc)
        rc = take_secret(&v, file, "xmpp", xmpp_secret, err, errlen);
    cfgv_clear(&v);
    if (rc)
        return rc;

    if ((rc = cfgv_parse(config_lookup(lc, "store"), file, "store", store_keys, NULL, &v, err,
                         errlen)))
        return rc;
    rc = dup_str(&cfg->store_path, cfgv_str(&v, "path"));
    const char *sync = cfgv_str(&v, "sync");
    cfg->store_full_sync = strcmp(sync, "full") == 0;
    if (!rc && !cfg->store_full_sync && strcmp(sync, "normal") != 0) {
        snprintf(err, errlen, "%s:%d: store.sync: \"%s\" is not full or normal", file,
                 cfgv_get(&v, "sync")->line, sync);
        rc = FERRY_ECONFIG;
    }
    cfgv_clear(&v);
    if (rc)
        return rc;

    if ((rc = cfgv_parse(config_lookup(lc, "log"), file, "log", log_keys, NULL, &v, err, errlen)))
        return rc;
    cfg->log_level = log_level_parse(cfgv_str(&v, "level"));
    if (cfg->log_level < 0) {
        snprintf(err, errlen, "%s:%d: log.level: \"%s\" is not one of error, warn, info, debug",
                 file, cfgv_get(&v, "level")->line, cfgv_str(&v, "level"));
        rc = FERRY_ECONFIG;
    }
    cfgv_clear(&v);
    if (rc)
        return rc;

    if ((rc =
             cfgv_parse(config_lookup(lc, "http"), file, "http", http_keys, NULL, &v, err, errlen)))
        return rc;
    cfg->http_enabled = cfgv_bool(&v, "enabled");
    cfg->http_port = (int)cfgv_int(&v, "port");
    rc = dup_str(&cfg->http_address, cfgv_str(&v, "address"));
    cfgv_clear(&v);
    if (rc)
        return rc;

    if ((rc = cfgv_parse(config_lookup(lc, "access"), file, "access", access_keys, NULL, &v, err,
                         errlen)))
        return rc;
    cfg->access_open = cfgv_bool(&v, "open");
    const struct cfg_value *ad = cfgv_get(&v, "allow_domains");
    if (ad->list_len) {
        cfg->allow_domains = ad->list; /* take ownership */
        cfg->n_allow = ad->list_len;
        ad = NULL;
        for (size_t i = 0; i < v.n; i++)
            if (strcmp(v.v[i].key->name, "allow_domains") == 0) {
                v.v[i].list = NULL;
                v.v[i].list_len = 0;
            }
        for (size_t i = 0; i < cfg->n_allow; i++)
            lower(cfg->allow_domains[i]);
    }
    cfgv_clear(&v);
    return 0;
}

/* Without access.allow_domains: the parent domain of every transport
 * domain (sms.example.org -> example.org). */
static int default_allow(struct config *cfg)
{
    if (cfg->n_allow || cfg->access_open)
        return 0;
    cfg->allow_domains = calloc(cfg->n_inst + 1, sizeof(char *));
    if (!cfg->allow_domains)
        return FERRY_ENOMEM;
    for (size_t i = 0; i < cfg->n_inst; i++) {
        const char *dot = strchr(cfg->inst[i].domain, '.');
        const char *parent = dot && dot[1] ? dot + 1 : cfg->inst[i].domain;
        int dup = 0;
        for (size_t j = 0; j < cfg->n_allow; j++)
            dup |= strcmp(cfg->allow_domains[j], parent) == 0;
        if (!dup && !(cfg->allow_domains[cfg->n_allow++] = strdup(parent)))
            return FERRY_ENOMEM;
    }
    return 0;
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
    *out = NULL;
    struct config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !(cfg->path = strdup(path))) {
        free(cfg);
        return FERRY_ENOMEM;
    }
    config_t lc;
    config_init(&lc);
    int rc = 0;
    char *xmpp_secret = NULL;
    FILE *probe = fopen(path, "r");
    if (!probe) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        rc = FERRY_ECONFIG;
        goto out;
    }
    fclose(probe);
    if (!config_read_file(&lc, path)) {
        snprintf(err, errlen, "%s:%d: %s", config_error_file(&lc) ? config_error_file(&lc) : path,
                 config_error_line(&lc), config_error_text(&lc));
        rc = FERRY_ECONFIG;
        goto out;
    }
    if ((rc = load_core(cfg, &lc, &xmpp_secret, err, errlen)))
        goto out;
    config_setting_t *tl = config_lookup(&lc, "transports");
    if (!tl || config_setting_length(tl) == 0) {
        snprintf(err, errlen, "%s:%d: transports: at least one transport is required", path,
                 tl ? cfgv_line(tl) : 0);
        rc = FERRY_ECONFIG;
        goto out;
    }
    if (!config_setting_is_list(tl) && !config_setting_is_array(tl)) {
        snprintf(err, errlen, "%s:%d: transports: must be a list: transports = ( { ... } );", path,
                 cfgv_line(tl));
        rc = FERRY_ECONFIG;
        goto out;
    }
    size_t n = (size_t)config_setting_length(tl);
    cfg->inst = calloc(n, sizeof(*cfg->inst));
    if (!cfg->inst) {
        rc = FERRY_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++, cfg->n_inst++)
        rc = load_instance(cfg, config_setting_get_elem(tl, (unsigned)i), i, xmpp_secret, err,
                           errlen);
    if (!rc)
        rc = default_allow(cfg);
out:
    if (rc == FERRY_ENOMEM)
        snprintf(err, errlen, "%s: out of memory", path);
    free(xmpp_secret);
    config_destroy(&lc);
    if (rc) {
        config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_inst; i++) {
        struct inst_config *ic = &cfg->inst[i];
        free(ic->driver);
        free(ic->domain);
        free(ic->name);
        free(ic->description);
        if (ic->secret)
            memset(ic->secret, 0, strlen(ic->secret));
        free(ic->secret);
        cfgv_clear(&ic->vals);
    }
    free(cfg->inst);
    for (size_t i = 0; i < cfg->n_allow; i++)
        free(cfg->allow_domains[i]);
    free(cfg->allow_domains);
    free(cfg->path);
    free(cfg->xmpp_host);
    free(cfg->store_path);
    free(cfg->http_address);
    free(cfg);
}

int config_user_allowed(const struct config *cfg, const char *user_jid)
{
    if (cfg->access_open)
        return 1;
    struct jid j;
    if (jid_parse(user_jid, &j) != 0)
        return 0;
    int ok = 0;
    for (size_t i = 0; i < cfg->n_allow && !ok; i++)
        ok = strcmp(cfg->allow_domains[i], j.domain) == 0;
    jid_clear(&j);
    return ok;
}
