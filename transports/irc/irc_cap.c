/* IRC registration-level lines: PING, CAP LS 302 negotiation, SASL
 * PLAIN and EXTERNAL (DESIGN §2). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc.h"
#include "irc_line.h"

/* Registration-level lines, handled here before irc_event sees the rest:
 * returns 1 when consumed. */
int irc_conn_registration(struct irc_conn *c, const struct irc_msg *m)
{
    const char *cmd = m->command;
    if (strcasecmp(cmd, "PING") == 0) {
        const char *p[] = {m->nparams ? m->params[0] : "ferry"};
        irc_cmd_now(c, "PONG", 1, p);
        return 1;
    }
    if (strcasecmp(cmd, "CAP") == 0 && m->nparams >= 2) {
        const char *sub = m->params[1];
        const char *list = m->params[m->nparams - 1];
        if (strcasecmp(sub, "LS") == 0) {
            if (m->nparams >= 4 && strcmp(m->params[2], "*") == 0)
                return 1; /* more LS lines follow; we ask from the last one */
            static const char *const wanted[] = {"multi-prefix", "server-time", "echo-message",
                                                 "away-notify",  "cap-notify",  NULL};
            char req[256] = "";
            size_t off = 0;
            for (size_t i = 0; wanted[i]; i++)
                if (strstr(list, wanted[i]))
                    off += (size_t)snprintf(req + off, sizeof(req) - off, "%s%s", off ? " " : "",
                                            wanted[i]);
            int want_sasl = (c->sasl_user || c->srv->sasl_external) && strstr(list, "sasl");
            if (want_sasl)
                off += (size_t)snprintf(req + off, sizeof(req) - off, "%ssasl", off ? " " : "");
            if (off) {
                const char *p[] = {"REQ", req};
                irc_cmd_now(c, "CAP", 2, p);
            } else {
                irc_write_now(c, "CAP END");
            }
            if ((c->sasl_user || c->srv->sasl_external) && !strstr(list, "sasl"))
                irc_log(c->t, 1, "%s offers no SASL; continuing without it", c->server);
        } else if (strcasecmp(sub, "ACK") == 0) {
            c->cap_echo |= strstr(list, "echo-message") != NULL;
            c->cap_multi_prefix |= strstr(list, "multi-prefix") != NULL;
            if (strstr(list, "sasl")) {
                const char *p[] = {c->srv->sasl_external ? "EXTERNAL" : "PLAIN"};
                irc_cmd_now(c, "AUTHENTICATE", 1, p);
            } else if (c->state == IC_REGISTERING) {
                irc_write_now(c, "CAP END");
            }
        } else if (strcasecmp(sub, "NAK") == 0 && c->state == IC_REGISTERING) {
            irc_write_now(c, "CAP END");
        }
        return 1;
    }
    if (strcasecmp(cmd, "AUTHENTICATE") == 0 && m->nparams && strcmp(m->params[0], "+") == 0) {
        if (c->srv->sasl_external) {
            irc_write_now(c, "AUTHENTICATE +");
            return 1;
        }
        const char *u = c->sasl_user, *pw = c->sasl_password ? c->sasl_password : "";
        size_t ul = strlen(u), pl = strlen(pw), n = ul * 2 + pl + 2;
        unsigned char *raw = malloc(n);
        char *b64 = malloc(4 * ((n + 2) / 3) + 1);
        if (raw && b64) {
            memcpy(raw, u, ul);
            raw[ul] = 0;
            memcpy(raw + ul + 1, u, ul);
            raw[2 * ul + 1] = 0;
            memcpy(raw + 2 * ul + 2, pw, pl);
            EVP_EncodeBlock((unsigned char *)b64, raw, (int)n);
            const char *p[] = {b64};
            irc_cmd_now(c, "AUTHENTICATE", 1, p); /* payloads over 400 bytes: not supported */
            OPENSSL_cleanse(raw, n);
        }
        free(raw);
        free(b64);
        return 1;
    }
    if (strcmp(cmd, "903") == 0) {
        c->cap_sasl_done = 1;
        irc_write_now(c, "CAP END");
        return 1;
    }
    return 0;
}
