/* SMS transport: instance life cycle, settings, numbers and registration.
 * See sms.h for the map of the other files. */
#include "sms.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e164.h"
#include "store.h"

static const struct sms_provider *const providers[] = {
    &sms_twilio, &sms_vonage, &sms_telnyx, &sms_plivo, &sms_bandwidth, &sms_kannel, NULL,
};

static const struct cfg_key sms_keys[] = {
    {"provider", CFG_STRING, 1, 1, 32, NULL,
     "twilio | vonage | telnyx | plivo | bandwidth | kannel"},
    {"public_url", CFG_STRING, 1, 8, 512, NULL, "external base URL of Ferry's HTTP listener"},
    {"numbers", CFG_STRLIST, 1, 0, 0, NULL, "\"+15551230001\" (pool) or \"+1555...=user@host\""},
    {"default_country", CFG_STRING, 0, 0, 3, "", "calling code for local numbers, e.g. \"1\""},
    {"api_url", CFG_STRING, 0, 8, 512, NULL, "provider API base URL (default: the real one)"},
    {"max_segments", CFG_INT, 0, 1, 255, "10", "longest message, in SMS parts"},
    {"rate_per_minute", CFG_INT, 0, 0, 100000, "20", "messages per user per minute (0: no limit)"},
    {"rate_per_day", CFG_INT, 0, 0, 10000000, "500", "messages per user per day (0: no limit)"},
    {"retry_limit", CFG_INT, 0, 1, 100, "10", "attempts before a transient failure bounces"},
    {"request_timeout", CFG_INT, 0, 1, 300, "30", "seconds per provider request"},
    {"max_inflight", CFG_INT, 0, 1, 1000, "50", "provider requests under way at once"},
    {"receipts", CFG_BOOL, 0, 0, 0, "true", "ask for delivery reports (XEP-0184 receipts)"},
    {"allow_ips", CFG_STRLIST, 0, 0, 0, NULL, "webhook source addresses allowed (empty: any)"},
    {"webhook_token", CFG_STRING, 0, 16, 256, NULL, "secret expected as ?token= on webhooks"},
    /* provider credentials; "file:/path" and "env:NAME" read them from there */
    {"account_sid", CFG_STRING, 0, 1, 128, NULL, "twilio"},
    {"auth_token", CFG_STRING, 0, 1, 512, NULL, "twilio, plivo"},
    {"messaging_service_sid", CFG_STRING, 0, 1, 128, NULL, "twilio"},
    {"auth_id", CFG_STRING, 0, 1, 128, NULL, "plivo"},
    {"api_key", CFG_STRING, 0, 1, 512, NULL, "vonage, telnyx"},
    {"api_secret", CFG_STRING, 0, 1, 512, NULL, "vonage"},
    {"signature_secret", CFG_STRING, 0, 1, 512, NULL, "vonage"},
    {"signature_method", CFG_STRING, 0, 1, 16, NULL, "vonage: md5hash|md5|sha1|sha256|sha512"},
    {"public_key", CFG_STRING, 0, 1, 128, NULL, "telnyx (base64 Ed25519)"},
    {"messaging_profile_id", CFG_STRING, 0, 1, 128, NULL, "telnyx"},
    {"account_id", CFG_STRING, 0, 1, 128, NULL, "bandwidth"},
    {"application_id", CFG_STRING, 0, 1, 128, NULL, "bandwidth"},
    {"username", CFG_STRING, 0, 1, 256, NULL, "bandwidth, kannel"},
    {"password", CFG_STRING, 0, 1, 512, NULL, "bandwidth, kannel"},
    {"callback_user", CFG_STRING, 0, 1, 256, NULL, "bandwidth"},
    {"callback_password", CFG_STRING, 0, 1, 512, NULL, "bandwidth"},
    {"smsc", CFG_STRING, 0, 1, 64, NULL, "kannel: smsc-id to route through"},
    /* KEY_file: read KEY from the first line of that file instead */
    {"auth_token_file", CFG_STRING, 0, 1, 4096, NULL, "file holding auth_token"},
    {"api_key_file", CFG_STRING, 0, 1, 4096, NULL, "file holding api_key"},
    {"api_secret_file", CFG_STRING, 0, 1, 4096, NULL, "file holding api_secret"},
    {"signature_secret_file", CFG_STRING, 0, 1, 4096, NULL, "file holding signature_secret"},
    {"password_file", CFG_STRING, 0, 1, 4096, NULL, "file holding password"},
    {"callback_password_file", CFG_STRING, 0, 1, 4096, NULL, "file holding callback_password"},
    {"webhook_token_file", CFG_STRING, 0, 1, 4096, NULL, "file holding webhook_token"},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* "KEY_file" for KEY into buf. */
static const char *file_key(const char *key, char *buf, size_t len)
{
    snprintf(buf, len, "%s_file", key);
    return buf;
}

/* KEY is given, directly or as KEY_file. */
static int has_key(const struct core_api *core, struct core_instance *ci, const char *key)
{
    char fk[64];
    return core->cfg_str(ci, key) || core->cfg_str(ci, file_key(key, fk, sizeof(fk)));
}

static const struct tr_reg_field sms_fields[] = {
    {"number", "Phone number", 1, 0},
    {NULL, NULL, 0, 0},
};

static const struct sms_provider *provider_named(const char *name)
{
    for (size_t i = 0; name && providers[i]; i++)
        if (strcmp(providers[i]->name, name) == 0)
            return providers[i];
    return NULL;
}

static int listed(const char *const *keys, const char *key)
{
    for (size_t i = 0; keys && keys[i]; i++)
        if (strcmp(keys[i], key) == 0)
            return 1;
    return 0;
}

/* "+15551230001" or "+15551230001=alice@example.org". */
static int parse_number_item(const char *item, char *num, size_t numlen, const char **owner)
{
    const char *eq = strchr(item, '=');
    size_t n = eq ? (size_t)(eq - item) : strlen(item);
    if (n >= numlen)
        return -1;
    memcpy(num, item, n);
    num[n] = 0;
    if (!e164_valid(num))
        return -1;
    *owner = eq ? eq + 1 : NULL;
    return (eq && (!eq[1] || !strchr(eq + 1, '@'))) ? -1 : 0;
}

static int sms_config_check(const struct core_api *core, struct core_instance *ci, char *err,
                            size_t errlen)
{
    const char *pname = core->cfg_str(ci, "provider");
    const struct sms_provider *p = provider_named(pname);
    if (!p) {
        snprintf(err, errlen,
                 "provider: unknown provider \"%s\" (twilio, vonage, telnyx, plivo, bandwidth, "
                 "kannel)",
                 pname);
        return -1;
    }
    for (size_t i = 0; p->required_keys && p->required_keys[i]; i++)
        if (!has_key(core, ci, p->required_keys[i])) {
            snprintf(err, errlen, "%s: required for provider %s", p->required_keys[i], p->name);
            return -1;
        }
    /* Credentials of another provider are a mistake worth reporting. */
    const struct cfg_key *k = sms_keys;
    while (strcmp(k->name, "account_sid") != 0) /* the provider keys start here */
        k++;
    for (; k->name; k++) {
        if (!core->cfg_str(ci, k->name))
            continue;
        char base[64];
        snprintf(base, sizeof(base), "%s", k->name);
        size_t bl = strlen(base);
        int is_file = bl > 5 && strcmp(base + bl - 5, "_file") == 0;
        if (is_file) {
            base[bl - 5] = 0;
            if (core->cfg_str(ci, base)) {
                snprintf(err, errlen, "%s: set %s or %s, not both", k->name, base, k->name);
                return -1;
            }
            if (strcmp(base, "webhook_token") == 0)
                continue; /* a common key */
        }
        if (!listed(p->required_keys, base) && !listed(p->optional_keys, base)) {
            snprintf(err, errlen, "%s: not a setting of provider %s", k->name, p->name);
            return -1;
        }
    }
    size_t n = core->cfg_list_len(ci, "numbers");
    if (n == 0) {
        snprintf(err, errlen, "numbers: list at least one phone number the instance owns");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char num[20];
        const char *owner;
        const char *item = core->cfg_list_item(ci, "numbers", i);
        if (parse_number_item(item, num, sizeof(num), &owner) != 0) {
            snprintf(err, errlen,
                     "numbers: \"%s\" is not \"+<E.164 number>\" or \"+<number>=user@domain\"",
                     item);
            return -1;
        }
    }
    const char *url = core->cfg_str(ci, "public_url");
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "public_url: must start with http:// or https://");
        return -1;
    }
    const char *cc = core->cfg_str(ci, "default_country");
    if (cc && *cc && (strspn(cc, "0123456789") != strlen(cc) || cc[0] == '0')) {
        snprintf(err, errlen, "default_country: a calling code like \"1\" or \"44\"");
        return -1;
    }
    if (strcmp(p->name, "kannel") == 0 && !has_key(core, ci, "webhook_token")) {
        snprintf(err, errlen,
                 "webhook_token: required for kannel (Kannel does not sign "
                 "its requests)");
        return -1;
    }
    return 0;
}

/* ---- Provider settings, with secrets read from file: or env: ----------- */

static const char *pcfg_get(const struct sms_cfg *cfg, const char *key)
{
    const struct sms *s = cfg->ctx;
    for (size_t i = 0; i < s->n_secrets; i++)
        if (strcmp(s->secrets[i].key, key) == 0)
            return s->secrets[i].value;
    return s->core->cfg_str(s->ci, key);
}

static char *resolve(const char *key, const char *value, char *err, size_t errlen)
{
    if (strncmp(value, "env:", 4) == 0) {
        const char *v = getenv(value + 4);
        if (!v || !*v) {
            snprintf(err, errlen, "%s: environment variable %s is not set", key, value + 4);
            return NULL;
        }
        return strdup(v);
    }
    if (strncmp(value, "file:", 5) == 0) {
        FILE *fp = fopen(value + 5, "r");
        if (!fp) {
            snprintf(err, errlen, "%s: cannot read %s: %s", key, value + 5, strerror(errno));
            return NULL;
        }
        char buf[1024];
        size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
        buf[n] = 0;
        buf[strcspn(buf, "\r\n")] = 0;
        if (!*buf) {
            snprintf(err, errlen, "%s: %s is empty", key, value + 5);
            return NULL;
        }
        return strdup(buf);
    }
    return NULL; /* plain value: read through cfg_str */
}

static int load_secrets(struct sms *s, char *err, size_t errlen)
{
    for (const struct cfg_key *k = sms_keys; k->name; k++) {
        const char *v = k->type == CFG_STRING ? s->core->cfg_str(s->ci, k->name) : NULL;
        size_t nl = strlen(k->name);
        const char *key = k->name;
        char base[64], path[4200];
        if (v && nl > 5 && strcmp(k->name + nl - 5, "_file") == 0) {
            /* KEY_file = "/path": the value of KEY */
            snprintf(base, sizeof(base), "%.*s", (int)(nl - 5), k->name);
            snprintf(path, sizeof(path), "file:%s", v);
            key = NULL;
            for (const struct cfg_key *b = sms_keys; b->name && !key; b++)
                if (strcmp(b->name, base) == 0)
                    key = b->name; /* a static string for secrets[].key */
            v = path;
        }
        if (!v || !key || (strncmp(v, "env:", 4) && strncmp(v, "file:", 5)))
            continue;
        err[0] = 0;
        char *r = resolve(key, v, err, errlen);
        if (!r)
            return -1;
        if (s->n_secrets == sizeof(s->secrets) / sizeof(s->secrets[0])) {
            free(r);
            return -1;
        }
        s->secrets[s->n_secrets++] = (struct sms_secret){key, r};
    }
    return 0;
}

/* ---- Numbers --------------------------------------------------------------- */

struct sms_number *sms_number_find(struct sms *s, const char *e164)
{
    for (size_t i = 0; i < s->n_numbers; i++)
        if (strcmp(s->numbers[i].number, e164) == 0)
            return &s->numbers[i];
    return NULL;
}

struct sms_number *sms_number_of_user(struct sms *s, const char *bare)
{
    for (size_t i = 0; i < s->n_numbers; i++)
        if (s->numbers[i].owner && strcasecmp(s->numbers[i].owner, bare) == 0)
            return &s->numbers[i];
    return NULL;
}

const char *sms_mask(const char *e164, char *buf, size_t len)
{
    e164_mask(e164, buf, len);
    return buf;
}

static int load_registration(void *arg, const char *user, const char *fields)
{
    struct sms *s = arg;
    cJSON *j = cJSON_Parse(fields);
    const cJSON *num = j ? cJSON_GetObjectItemCaseSensitive(j, "number") : NULL;
    struct sms_number *n = cJSON_IsString(num) ? sms_number_find(s, num->valuestring) : NULL;
    char m[24];
    if (!n)
        s->core->log(s->ci, 1,
                     "registration of a user names %s, which this instance no longer "
                     "owns; ignored",
                     cJSON_IsString(num) ? sms_mask(num->valuestring, m, sizeof(m)) : "nothing");
    else if (n->owner && strcasecmp(n->owner, user) != 0)
        s->core->log(s->ci, 1,
                     "number %s is assigned in the config and registered by another "
                     "user; the config wins",
                     sms_mask(n->number, m, sizeof(m)));
    else if (!n->owner)
        n->owner = strdup(user);
    cJSON_Delete(j);
    return 0;
}

/* ---- Registration hooks ------------------------------------------------------ */

static int sms_reg_check(void *state, const char *user, const char *const *vars, char **values,
                         size_t n, struct tr_error *err)
{
    struct sms *s = state;
    const char *want = NULL;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(vars[i], "number") == 0) {
            want = values[i];
            at = i;
        }
    char num[20];
    const char *why = NULL;
    err->cond = TR_COND_NOT_ACCEPTABLE;
    if (!want || e164_normalize(want, s->default_cc, num, sizeof(num), &why) != 0) {
        snprintf(err->text, sizeof(err->text), "That is not a phone number (%s).",
                 why ? why : "empty");
        return -1;
    }
    struct sms_number *nb = sms_number_find(s, num);
    if (!nb) {
        snprintf(err->text, sizeof(err->text), "%s is not one of this gateway's numbers.", num);
        err->cond = TR_COND_ITEM_NOT_FOUND;
        return -1;
    }
    if (nb->owner && strcasecmp(nb->owner, user) != 0) {
        snprintf(err->text, sizeof(err->text), "%s is taken; choose a free number.", num);
        err->cond = TR_COND_CONFLICT;
        return -1;
    }
    struct sms_number *mine = sms_number_of_user(s, user);
    if (mine && mine != nb && mine->fixed) {
        snprintf(err->text, sizeof(err->text),
                 "Your number %s is assigned by the operator and cannot be changed here.",
                 mine->number);
        err->cond = TR_COND_NOT_ALLOWED;
        return -1;
    }
    char *norm = strdup(num); /* store the E.164 form, not what was typed */
    if (!norm)
        return -1;
    free(values[at]);
    values[at] = norm;
    return 0;
}

static void sms_reg_changed(void *state, const char *user, int removed)
{
    struct sms *s = state;
    struct sms_number *mine = sms_number_of_user(s, user);
    if (mine && !mine->fixed) {
        free(mine->owner);
        mine->owner = NULL;
    }
    if (removed)
        return;
    char *fields = NULL;
    if (s->core->reg_get(s->ci, user, &fields) == 0) {
        load_registration(s, user, fields);
        free(fields);
    }
}

static int sms_reg_options(void *state, const char *user, const char *var, char ***opts, size_t *n)
{
    struct sms *s = state;
    *opts = NULL;
    *n = 0;
    if (strcmp(var, "number") != 0)
        return 0;
    char **list = calloc(s->n_numbers + 1, sizeof(char *));
    if (!list)
        return -1;
    for (size_t i = 0; i < s->n_numbers; i++)
        if (!s->numbers[i].owner || strcasecmp(s->numbers[i].owner, user) == 0)
            list[(*n)++] = strdup(s->numbers[i].number);
    *opts = list;
    return 0;
}

/* ---- Life cycle -------------------------------------------------------------- */

static void sms_destroy(void *state);

static int sms_create(const struct core_api *core, struct core_instance *ci, void **state,
                      char *err, size_t errlen)
{
    struct sms *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->core = core;
    s->ci = ci;
    s->name = core->instance_name(ci);
    s->prov = provider_named(core->cfg_str(ci, "provider"));
    s->pcfg.get = pcfg_get;
    s->pcfg.ctx = s;
    s->public_url = strdup(core->cfg_str(ci, "public_url"));
    if (s->public_url && *s->public_url && s->public_url[strlen(s->public_url) - 1] == '/')
        s->public_url[strlen(s->public_url) - 1] = 0;
    s->default_cc = core->cfg_str(ci, "default_country");
    s->max_segments = (int)core->cfg_int(ci, "max_segments");
    s->rate_minute = (int)core->cfg_int(ci, "rate_per_minute");
    s->rate_day = (int)core->cfg_int(ci, "rate_per_day");
    s->retry_limit = (int)core->cfg_int(ci, "retry_limit");
    s->max_inflight = (int)core->cfg_int(ci, "max_inflight");
    s->timeout_ms = core->cfg_int(ci, "request_timeout") * 1000L;
    s->receipts = core->cfg_bool(ci, "receipts") && s->prov && s->prov->dlr;
    size_t n = core->cfg_list_len(ci, "numbers");
    s->numbers = calloc(n ? n : 1, sizeof(*s->numbers));
    if (!s->prov || !s->numbers || load_secrets(s, err, errlen) != 0) {
        sms_destroy(s);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *owner = NULL;
        struct sms_number *nb = &s->numbers[s->n_numbers];
        if (parse_number_item(core->cfg_list_item(ci, "numbers", i), nb->number, sizeof(nb->number),
                              &owner) != 0)
            continue;
        if (sms_number_find(s, nb->number) != NULL) {
            nb->number[0] = 0;
            continue; /* listed twice */
        }
        nb->fixed = owner != NULL;
        nb->owner = owner ? strdup(owner) : NULL;
        s->n_numbers++;
    }
    *state = s;
    return 0;
}

static void sms_destroy(void *state)
{
    struct sms *s = state;
    if (!s)
        return;
    sms_queue_free(s);
    free(s->public_url);
    for (size_t i = 0; i < s->n_numbers; i++)
        free(s->numbers[i].owner);
    free(s->numbers);
    for (size_t i = 0; i < s->n_rates; i++)
        free(s->rates[i].user);
    free(s->rates);
    for (size_t i = 0; i < s->n_secrets; i++) {
        memset(s->secrets[i].value, 0, strlen(s->secrets[i].value));
        free(s->secrets[i].value);
    }
    free(s);
}

static int sms_start(void *state)
{
    struct sms *s = state;
    int rc = store_reg_each(s->core->store(s->ci), s->name, load_registration, s);
    if (rc)
        return rc;
    size_t owned = 0;
    for (size_t i = 0; i < s->n_numbers; i++)
        owned += s->numbers[i].owner != NULL;
    s->core->log(s->ci, 2, "provider %s, %zu numbers (%zu assigned), receipts %s", s->prov->name,
                 s->n_numbers, owned, s->receipts ? "on" : "off");
    sms_queue_start(s);
    s->core->set_state(s->ci, 1, "SMS gateway");
    return 0;
}

static void sms_stop(void *state)
{
    struct sms *s = state;
    s->stopping = 1;
}

static unsigned sms_caps(void *state)
{
    struct sms *s = state;
    return TR_CAP_REGISTER | TR_CAP_GATEWAY | (s->receipts ? TR_CAP_RECEIPTS : 0);
}

const struct transport_ops sms_transport = {
    .driver = "sms",
    .gateway_type = "sms",
    .description = "SMS gateway",
    .caps = TR_CAP_REGISTER | TR_CAP_GATEWAY,
    .caps_of = sms_caps,
    .keys = sms_keys,
    .reg_fields = sms_fields,
    .reg_instructions = "Choose one of the gateway's free phone numbers. Messages to "
                        "+<number>@this-gateway then go out as SMS from it, and replies come "
                        "back to you.",
    .reg_options = sms_reg_options,
    .create = sms_create,
    .destroy = sms_destroy,
    .start = sms_start,
    .stop = sms_stop,
    .send = sms_send,
    .reg_check = sms_reg_check,
    .reg_changed = sms_reg_changed,
    .gateway_desc = "Enter a phone number, with its country code (+44 20 7946 0958) or as "
                    "dialled locally.",
    .gateway_prompt = "Phone number",
    .gateway_translate = sms_gateway_translate,
    .config_check = sms_config_check,
    .webhook_prefix = "sms",
    .webhook = sms_webhook,
};
