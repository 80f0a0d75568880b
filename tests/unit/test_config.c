/* Config validation: good files, every kind of bad file, and the exact
 * file:line: key in each message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"

static char dir[] = "/tmp/ferry-test-config-XXXXXX";
static char path[256];
static char err[1024];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/ferry.conf", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void write_file(const char *p, const char *text)
{
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

#define GOOD_TRANSPORTS                                                                            \
    "transports = ( { driver = \"loopback\"; domain = \"echo.example.org\"; } );\n"

/* Loads text; on expected failure checks that err contains each needle. */
static struct config *load(const char *text)
{
    write_file(path, text);
    struct config *cfg = NULL;
    err[0] = 0;
    int rc = config_load(path, &cfg, err, sizeof(err));
    if (rc) {
        assert_null(cfg);
        assert_int_equal(rc, FERRY_ECONFIG);
    }
    return cfg;
}

static void expect_error(const char *text, int line, const char *key, const char *reason)
{
    struct config *cfg = load(text);
    if (cfg) {
        config_free(cfg);
        fail_msg("config was accepted, expected an error at line %d about %s", line, key);
    }
    char where[300];
    snprintf(where, sizeof(where), "%s:%d: ", path, line);
    if (strncmp(err, where, strlen(where)) != 0)
        fail_msg("expected \"%s...\", got \"%s\"", where, err);
    if (key && !strstr(err, key))
        fail_msg("expected key %s in \"%s\"", key, err);
    if (reason && !strstr(err, reason))
        fail_msg("expected \"%s\" in \"%s\"", reason, err);
}

static void test_minimal_defaults(void **state)
{
    (void)state;
    struct config *cfg = load("xmpp = { secret = \"s\"; };\n" GOOD_TRANSPORTS);
    assert_non_null(cfg);
    assert_string_equal(cfg->xmpp_host, "127.0.0.1");
    assert_int_equal(cfg->xmpp_port, 5347);
    assert_int_equal(cfg->keepalive, 60);
    assert_int_equal(cfg->reconnect_min, 1);
    assert_int_equal(cfg->reconnect_max, 60);
    assert_string_equal(cfg->store_path, "/var/lib/ferry/ferry.db");
    assert_int_equal(cfg->http_enabled, 1);
    assert_int_equal(cfg->http_port, 8080);
    assert_int_equal(cfg->n_inst, 1);
    assert_string_equal(cfg->inst[0].name, "echo.example.org");
    assert_string_equal(cfg->inst[0].secret, "s");
    assert_string_equal(cfg->inst[0].description, "Echo gateway");
    /* default access: the parent domain of the transport domain */
    assert_true(config_user_allowed(cfg, "alice@example.org/phone"));
    assert_false(config_user_allowed(cfg, "mallory@evil.example"));
    config_free(cfg);
}

static void test_example_file_parses(void **state)
{
    (void)state;
    const char *p = "conf/ferry.conf.example";
    if (access(p, R_OK) != 0)
        p = "../conf/ferry.conf.example";
    FILE *in = fopen(p, "r");
    assert_non_null(in);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf) - 1, in);
    fclose(in);
    buf[n] = 0;
    struct config *cfg = load(buf);
    if (!cfg)
        fail_msg("example did not parse: %s", err);
    assert_string_equal(cfg->inst[0].driver, "loopback");
    config_free(cfg);
}

static void test_full_settings(void **state)
{
    (void)state;
    char secret_file[300];
    snprintf(secret_file, sizeof(secret_file), "%s/secret", dir);
    write_file(secret_file, "from-file\nignored\n");
    char text[2048];
    snprintf(text, sizeof(text),
             "xmpp = { host = \"::1\"; port = 5348; secret_file = \"%s\"; keepalive = 30;\n"
             "  reconnect_min = 2; reconnect_max = 8; };\n"
             "store = { path = \":memory:\"; };\n"
             "log = { level = \"debug\"; };\n"
             "http = { enabled = false; address = \"0.0.0.0\"; port = 9000; };\n"
             "access = { allow_domains = [ \"Example.ORG\", \"example.net\" ]; };\n"
             "transports = (\n"
             "  { driver = \"loopback\"; domain = \"ECHO.example.org\"; name = \"e1\"; prefix = "
             "\"> \"; },\n"
             "  { driver = \"loopback\"; domain = \"echo2.example.org\"; secret = \"own\";\n"
             "    description = \"Second\"; }\n"
             ");\n",
             secret_file);
    struct config *cfg = load(text);
    if (!cfg)
        fail_msg("%s", err);
    assert_int_equal(cfg->xmpp_port, 5348);
    assert_int_equal(cfg->log_level, 3);
    assert_int_equal(cfg->http_enabled, 0);
    assert_string_equal(cfg->inst[0].secret, "from-file");
    assert_string_equal(cfg->inst[0].domain, "echo.example.org");
    assert_string_equal(cfg->inst[0].name, "e1");
    assert_string_equal(cfgv_str(&cfg->inst[0].vals, "prefix"), "> ");
    assert_string_equal(cfg->inst[1].secret, "own");
    assert_string_equal(cfg->inst[1].description, "Second");
    assert_true(config_user_allowed(cfg, "a@example.org"));
    assert_true(config_user_allowed(cfg, "a@EXAMPLE.net/x"));
    assert_false(config_user_allowed(cfg, "a@example.com"));
    config_free(cfg);
}

static void test_open_access(void **state)
{
    (void)state;
    struct config *cfg =
        load("xmpp = { secret = \"s\"; };\naccess = { open = true; };\n" GOOD_TRANSPORTS);
    assert_non_null(cfg);
    assert_true(config_user_allowed(cfg, "anyone@anywhere.example"));
    config_free(cfg);
}

static void test_syntax_error(void **state)
{
    (void)state;
    expect_error("xmpp = { secret = \"s\"; };\n\nlog = { level = ; };\n" GOOD_TRANSPORTS, 3, NULL,
                 "syntax error");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("xmpp = {\n  secret = \"s\";\n  bogus = 1;\n};\n" GOOD_TRANSPORTS, 3, "xmpp.bogus",
                 "unknown key");
    expect_error("xmpp = { secret = \"s\"; };\nextra = 1;\n" GOOD_TRANSPORTS, 2, "extra",
                 "unknown setting");
    expect_error("xmpp = { secret = \"s\"; };\ntransports = (\n { driver = \"loopback\";\n"
                 "   domain = \"e.example.org\";\n   colour = \"red\"; } );\n",
                 5, "transports[0].colour", "unknown key");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("xmpp = { secret = \"s\";\n port = \"5347\"; };\n" GOOD_TRANSPORTS, 2, "xmpp.port",
                 "must be an integer");
    expect_error("xmpp = { secret = \"s\"; };\nhttp = { enabled = 1; };\n" GOOD_TRANSPORTS, 2,
                 "http.enabled", "true or false");
    expect_error("xmpp = { secret = 5; };\n" GOOD_TRANSPORTS, 1, "xmpp.secret", "string");
    expect_error(
        "xmpp = { secret = \"s\"; };\naccess = { allow_domains = [ 1, 2 ]; };\n" GOOD_TRANSPORTS, 2,
        "access.allow_domains", "list of strings");
    expect_error("xmpp = \"x\";\n" GOOD_TRANSPORTS, 1, "xmpp", "must be a group");
}

static void test_ranges(void **state)
{
    (void)state;
    expect_error("xmpp = { secret = \"s\";\n port = 70000; };\n" GOOD_TRANSPORTS, 2, "xmpp.port",
                 "1..65535");
    expect_error("xmpp = { secret = \"s\";\n port = 0; };\n" GOOD_TRANSPORTS, 2, "xmpp.port",
                 "range");
    expect_error("xmpp = { secret = \"s\";\n keepalive = 1; };\n" GOOD_TRANSPORTS, 2,
                 "xmpp.keepalive", "5..3600");
    /* 2^32 + 5347: libconfig 1.5 silently keeps 5347 without the L suffix */
    expect_error("xmpp = { secret = \"s\";\n port = 4294972643; };\n" GOOD_TRANSPORTS, 2,
                 "xmpp.port", "too large");
    expect_error("xmpp = { secret = \"s\";\n port = 4294972643L; };\n" GOOD_TRANSPORTS, 2,
                 "xmpp.port", "range");
    expect_error(
        "xmpp = { secret = \"s\";\n reconnect_min = 30; reconnect_max = 10; };\n" GOOD_TRANSPORTS,
        2, "xmpp.reconnect_min", "must not exceed");
    expect_error("xmpp = { secret = \"\"; };\n" GOOD_TRANSPORTS, 1, "xmpp.secret", "");
    expect_error("xmpp = { secret = \"s\"; };\nlog = {\n level = \"loud\"; };\n" GOOD_TRANSPORTS, 3,
                 "log.level", "not one of");
}

static void test_transports(void **state)
{
    (void)state;
    expect_error("xmpp = { secret = \"s\"; };\n", 0, "transports", "at least one");
    expect_error("xmpp = { secret = \"s\"; };\ntransports = ();\n", 2, "transports",
                 "at least one");
    expect_error(
        "xmpp = { secret = \"s\"; };\ntransports = (\n { domain = \"a.example.org\"; } );\n", 3,
        "transports[0].driver", "required");
    expect_error("xmpp = { secret = \"s\"; };\ntransports = (\n { driver = \"carrier-pigeon\";\n"
                 "   domain = \"a.example.org\"; } );\n",
                 3, "transports[0].driver", "unknown driver");
    expect_error("xmpp = { secret = \"s\"; };\ntransports = (\n { driver = \"loopback\"; } );\n", 3,
                 "transports[0].domain", "required");
    expect_error("xmpp = { secret = \"s\"; };\ntransports = (\n { driver = \"loopback\";\n"
                 "   domain = \"not a domain\"; } );\n",
                 4, "transports[0].domain", "not a domain");
    expect_error("xmpp = { secret = \"s\"; };\ntransports = (\n"
                 " { driver = \"loopback\"; domain = \"a.example.org\"; },\n"
                 " { driver = \"loopback\"; domain = \"A.example.org\"; } );\n",
                 4, "transports[1].domain", "already used");
    expect_error("transports = (\n { driver = \"loopback\"; domain = \"a.example.org\"; } );\n", 2,
                 "transports[0].secret", "no component secret");
}

static void test_secrets(void **state)
{
    (void)state;
    expect_error(
        "xmpp = { secret = \"s\";\n secret_file = \"/nonexistent/x\"; };\n" GOOD_TRANSPORTS, 2,
        "xmpp.secret_file", "not both");
    expect_error("xmpp = {\n secret_file = \"/nonexistent/ferry-secret\"; };\n" GOOD_TRANSPORTS, 2,
                 "xmpp.secret_file", "cannot read");
    char empty[300], text[600];
    snprintf(empty, sizeof(empty), "%s/empty", dir);
    write_file(empty, "\n");
    snprintf(text, sizeof(text), "xmpp = {\n secret_file = \"%s\"; };\n" GOOD_TRANSPORTS, empty);
    expect_error(text, 2, "xmpp.secret_file", "first line");
}

static void test_group_lists(void **state)
{
    (void)state;
    struct config *cfg = load("xmpp = { secret = \"s\"; };\n"
                              "transports = ( { driver = \"irc\"; domain = \"irc.example.org\";\n"
                              "  servers = (\n"
                              "    { name = \"irc.libera.chat\"; },\n"
                              "    { name = \"127.0.0.1\"; port = 6667; plaintext = true;\n"
                              "      after_connect = [ \"PRIVMSG NickServ :IDENTIFY x\" ]; }\n"
                              "  ); } );\n");
    if (!cfg)
        fail_msg("%s", err);
    const struct cfg_value *v = cfgv_get(&cfg->inst[0].vals, "servers");
    assert_non_null(v);
    assert_int_equal(v->n_groups, 2);
    assert_string_equal(cfgv_str(&v->groups[0], "name"), "irc.libera.chat");
    assert_int_equal(cfgv_int(&v->groups[0], "port"), 0);
    assert_int_equal(cfgv_int(&v->groups[1], "port"), 6667);
    assert_true(cfgv_bool(&v->groups[1], "plaintext"));
    assert_int_equal(cfgv_get(&v->groups[1], "after_connect")->list_len, 1);
    struct cfg_values copy;
    assert_int_equal(cfgv_copy(&cfg->inst[0].vals, &copy), 0);
    assert_string_equal(cfgv_str(&cfgv_get(&copy, "servers")->groups[1], "name"), "127.0.0.1");
    cfgv_clear(&copy);
    config_free(cfg);

    expect_error("xmpp = { secret = \"s\"; };\n"
                 "transports = ( { driver = \"irc\"; domain = \"irc.example.org\";\n"
                 "  servers = (\n"
                 "    { name = \"a.example\"; },\n"
                 "    { name = \"b.example\";\n"
                 "      colour = 1; }\n"
                 "  ); } );\n",
                 6, "transports[0].servers[1].colour", "unknown key");
    expect_error("xmpp = { secret = \"s\"; };\n"
                 "transports = ( { driver = \"irc\"; domain = \"irc.example.org\";\n"
                 "  servers = ( { port = 6667; } ); } );\n",
                 3, "transports[0].servers[0].name", "required");
    expect_error("xmpp = { secret = \"s\"; };\n"
                 "transports = ( { driver = \"irc\"; domain = \"irc.example.org\";\n"
                 "  servers = [ \"irc.libera.chat\" ]; } );\n",
                 3, "transports[0].servers", "list of groups");
    expect_error("xmpp = { secret = \"s\"; };\n"
                 "transports = ( { driver = \"irc\"; domain = \"irc.example.org\";\n"
                 "  servers = ( { name = \"x.example\"; plaintext = true; insecure = true; } );"
                 " } );\n",
                 2, "servers[0].insecure", "not both");
}

static void test_missing_file(void **state)
{
    (void)state;
    struct config *cfg = NULL;
    assert_int_equal(config_load("/nonexistent/ferry.conf", &cfg, err, sizeof(err)), FERRY_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent/ferry.conf: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults), cmocka_unit_test(test_example_file_parses),
        cmocka_unit_test(test_full_settings),    cmocka_unit_test(test_open_access),
        cmocka_unit_test(test_syntax_error),     cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),      cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_transports),       cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_missing_file),     cmocka_unit_test(test_group_lists),
    };
    return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
