/* ferry: command line.  Runs in the foreground, logging to stderr. */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ferry.h"
#include "log.h"

#define DEFAULT_CONFIG "/etc/ferry/ferry.conf"

static void usage(FILE *out)
{
    fprintf(out, "Usage: ferry [-c FILE] [-n]\n"
                 "Ferry " FERRY_VERSION ": an XMPP gateway (XEP-0114 component) to SMS and IRC.\n"
                 "\n"
                 "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -n, --check        check the configuration and exit (0 when it is valid)\n"
                 "  -V, --version      print the version and exit\n"
                 "  -h, --help         print this help and exit\n"
                 "\n"
                 "Ferry runs in the foreground and logs to stderr.  Signals: SIGTERM/SIGINT shut\n"
                 "down cleanly, SIGHUP reloads the configuration.  See conf/ferry.conf.example.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'n'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = DEFAULT_CONFIG;
    int check = 0, c;
    while ((c = getopt_long(argc, argv, "c:nVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'n':
            check = 1;
            break;
        case 'V':
            printf("ferry " FERRY_VERSION "\n");
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ferry: unexpected argument: %s\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (check) {
        char err[1024];
        struct config *cfg = NULL;
        if (config_load(path, &cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "ferry: %s\n", err);
            return 1;
        }
        config_free(cfg);
        printf("%s: configuration OK\n", path);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct ferry f;
    int rc = ferry_start(&f, path);
    if (rc == 0)
        ferry_run(&f);
    int code = rc == 0 ? f.exit_code : 1;
    /* Freeing the signal events restores the default handlers: a second
     * SIGTERM/SIGINT during teardown must not turn a clean exit into a
     * death by signal. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    ferry_stop(&f);
    curl_global_cleanup();
    log_info(NULL, "exited");
    return code;
}
