/* The transport adapter interface (DESIGN §4).
 *
 * Ops go down, callbacks come up: a transport driver is a `const struct
 * transport_ops` of function pointers; the core hands each instance a
 * `const struct core_api` of functions it may call.  Only
 * gateway/transport.c calls through transport_ops; everything else uses the
 * named wrappers declared in gateway/transport_reg.h.
 *
 * Transports never include libstrophe headers and never call each other.
 * All text handed to the core may be raw bytes from the foreign network:
 * the core sanitises everything that enters a stanza.  Everything is called
 * from the one event-loop thread. */
#ifndef FERRY_TRANSPORT_H
#define FERRY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evdns_base;
struct core_instance; /* the core's handle for one transport instance */

/* ---- Configuration keys ------------------------------------------------
 * A driver lists the keys its instances accept beyond the common ones
 * (driver, domain, name, secret, secret_file, description).  The core
 * validates types, ranges, required keys and unknown keys, and reports
 * errors with file and line. */
enum cfg_type { CFG_STRING, CFG_INT, CFG_BOOL, CFG_STRLIST, CFG_GROUPLIST };

struct cfg_key {
    const char *name;
    enum cfg_type type;
    int required;
    long long min, max; /* CFG_INT: inclusive range; CFG_STRING: length range (max 0: none) */
    const char *def;    /* default as text ("10", "true", "abc"); NULL: none */
    const char *help;   /* one line, for documentation */
    const struct cfg_key *sub; /* CFG_GROUPLIST: the keys of each group */
};

/* ---- Stanza error conditions a transport may report --------------------
 * Neutral names; the stanza layer maps them to RFC 6120 conditions. */
enum tr_cond {
    TR_COND_BAD_REQUEST,
    TR_COND_NOT_ACCEPTABLE,
    TR_COND_POLICY_VIOLATION,
    TR_COND_REGISTRATION_REQUIRED,
    TR_COND_FORBIDDEN,
    TR_COND_NOT_AUTHORIZED,
    TR_COND_ITEM_NOT_FOUND,
    TR_COND_JID_MALFORMED,
    TR_COND_CONFLICT,
    TR_COND_NOT_ALLOWED,
    TR_COND_SERVICE_UNAVAILABLE,
    TR_COND_RECIPIENT_UNAVAILABLE,
    TR_COND_RESOURCE_CONSTRAINT,
    TR_COND_REMOTE_SERVER_TIMEOUT,
    TR_COND_INTERNAL_SERVER_ERROR,
    TR_COND_UNDEFINED,
};

struct tr_error {
    enum tr_cond cond;
    char text[256]; /* human text for the user; no secrets */
};

enum tr_msg_type { TR_MSG_CHAT = 0, TR_MSG_GROUPCHAT, TR_MSG_NORMAL };

/* A message from an XMPP user to the foreign network.  Only messages with
 * a body or an OOB URL reach a transport; chat states, receipts and markers
 * never do.  All strings are valid only during the call. */
struct tr_msg {
    const char *id;          /* stanza id, may be NULL */
    const char *user;        /* sender's full JID */
    const char *to_local;    /* XEP-0106-unescaped local part of the destination */
    const char *to_resource; /* may be NULL */
    const char *body;        /* valid UTF-8, never NULL (may be "" when oob_url or
                                subject is set) */
    const char *oob_url;     /* XEP-0066 URL, may be NULL */
    enum tr_msg_type type;
    int want_receipt;         /* XEP-0184 request present */
    const char *subject;      /* a groupchat message's new room subject ("" clears it;
                                 body is "" then), or NULL; only for a room */
    const char *origin_id;    /* XEP-0359 <origin-id/>, may be NULL (a room reflects it) */
    const char *invite_local; /* a mediated invitation (XEP-0045 §7.8.2) to the room
                                 to_local: the invitee, a contact of this gateway (raw
                                 local part); body is "" then.  Only for rooms. */
    const char *invite_jid;   /* the same for an invitee elsewhere: the transport only
                                 checks that user is in the room and returns 0; the core
                                 then sends the room's invitation */
};

/* Presence from an XMPP user to a transport JID (joins and leaves of
 * rooms, a user going offline).  Subscriptions and probes are the core's. */
struct tr_presence_in {
    const char *user;        /* full JID */
    const char *to_local;    /* unescaped local part ("#chan%server", "nick%server") */
    const char *to_resource; /* the nick for a room join, or NULL */
    int available;           /* 1 available, 0 unavailable */
    int muc;                 /* carries <x xmlns='http://jabber.org/protocol/muc'/> (a join) */
    const char *password;    /* MUC password (channel key), or NULL */
    const char *status;      /* presence status text, or NULL */
};

/* Presence from a transport JID to an XMPP user (room occupants, errors). */
enum tr_role { TR_ROLE_NONE = 0, TR_ROLE_VISITOR, TR_ROLE_PARTICIPANT, TR_ROLE_MODERATOR };
enum tr_affiliation {
    TR_AFF_NONE = 0,
    TR_AFF_MEMBER,
    TR_AFF_ADMIN,
    TR_AFF_OWNER,
    TR_AFF_OUTCAST,
};
struct tr_presence_out {
    const char *user;          /* full JID it goes to */
    const char *from_local;    /* raw local part (the core escapes it) */
    const char *from_resource; /* occupant nick, or NULL */
    int available;
    const char *status; /* status text (e.g. a quit or kick reason), or NULL */
    int muc;            /* add <x xmlns='http://jabber.org/protocol/muc#user'> */
    enum tr_role role;
    enum tr_affiliation affiliation;
    const char *new_nick;   /* status 303: the occupant's new nick */
    const char *real_jid;   /* item jid=, or NULL */
    const char *real_local; /* item jid=real_local@domain (raw local part, escaped by the
                               core) when real_jid is NULL: an occupant's 1:1 address */
    int codes[6];           /* MUC status codes (110 self, 303 nick change, 307 kicked...) */
    size_t n_codes;
    int error; /* a type='error' presence (a failed join) with err */
    struct tr_error err;
};

/* A message from the foreign network to an XMPP user. */
struct tr_inbound {
    const char *user;          /* local user's bare or full JID */
    const char *from_local;    /* raw (unescaped) sender local part; NULL: the domain */
    const char *from_resource; /* may be NULL */
    const char *id;            /* stanza id to use, may be NULL */
    const char *body;          /* raw bytes, sanitised by the core */
    size_t body_len;
    const char *oob_url; /* may be NULL */
    enum tr_msg_type type;
    const char *dedupe_key;  /* provider message id etc., may be NULL */
    const char *subject;     /* a room subject (groupchat), or NULL */
    int direct;              /* not stored: sent at once when the link is online, else
                                queued as usual (e.g. a room's reflection of the message
                                its sender just wrote: the sender is online) */
    const char *origin_id;   /* XEP-0359 origin-id to carry (a room's reflection of
                                the sender's message), or NULL */
    const char *invite_room; /* raw local part of a room of this gateway: the message is
                                a XEP-0249 invitation to it (the body says it in words
                                for clients without XEP-0249), or NULL */
    int hold_ms;             /* > 0: when nothing stored waits and the link is up, sent
                                at once and kept only in memory until the XMPP server
                                confirms it, written to the store if it has not within
                                hold_ms (or the link drops).  Only for sources that
                                acknowledge nothing (IRC); ignored with a dedupe_key */
};

/* XEP-0077 registration fields a transport asks for. */
struct tr_reg_field {
    const char *var;   /* form field var, e.g. "nick" */
    const char *label; /* shown to the user */
    int required;
    int secret; /* text-private: never echoed back in the form */
};

/* ---- HTTP ----------------------------------------------------------------
 * Outgoing requests run on the loop through one shared libcurl multi
 * handle (connection reuse, timeouts); the callback fires exactly once,
 * later, from the loop. */
struct tr_http_out {
    const char *method; /* "GET", "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, n_headers of them */
    size_t n_headers;
    const char *body; /* may be NULL */
    size_t body_len;
    long timeout_ms; /* whole request; 0: 30 s */
};
struct tr_http_result {
    int status;        /* HTTP status, 0 when the request failed below HTTP */
    const char *error; /* why it failed when status == 0 */
    const char *body;  /* NUL-terminated (capped at 1 MiB) */
    size_t body_len;
    const char *retry_after; /* Retry-After header value (or, without it, the seconds from
                                x-ratelimit-reset), NULL when neither */
};
typedef void (*tr_http_cb)(void *arg, const struct tr_http_result *res);

/* A webhook request for this instance: the core routes every request under
 * /<prefix>/<instance name>[/...] to the transport's webhook op. */
struct tr_webhook_req {
    const char *method;
    const char *path;  /* full path, e.g. "/sms/twilio/status" */
    const char *query; /* raw query string, "" when none */
    const char *remote_ip;
    const char *body; /* raw bytes */
    size_t body_len;
    /* Request header by name (case-insensitive), NULL when absent. */
    const char *(*header)(const struct tr_webhook_req *r, const char *name);
    void *ctx;
};
struct tr_webhook_resp {
    int status;
    const char *reason;       /* static text, e.g. "OK" */
    const char *content_type; /* static */
    char *body;               /* malloc'd or NULL; the core frees it */
};

/* A disco#items request on a transport JID answered later (e.g. after an
 * IRC LIST): the core keeps the request, the transport hands back all the
 * items once and the core pages them (XEP-0059). */
struct tr_disco;
struct tr_disco_item {
    const char *local; /* raw local part of the item's JID */
    const char *name;  /* human name, may be NULL */
};

/* ---- What the core offers an instance ---------------------------------- */
struct core_api {
    /* The loop; transports add their own events (timers, sockets) to it. */
    struct event_base *(*base)(struct core_instance *ci);
    const char *(*instance_name)(struct core_instance *ci);
    const char *(*domain)(struct core_instance *ci);

    /* Instance configuration (already validated against the driver's keys;
     * defaults applied).  Strings are owned by the core and stay valid
     * until the instance is destroyed. */
    const char *(*cfg_str)(struct core_instance *ci, const char *key);
    long long (*cfg_int)(struct core_instance *ci, const char *key);
    int (*cfg_bool)(struct core_instance *ci, const char *key);
    /* CFG_STRLIST: number of items, and item i. */
    size_t (*cfg_list_len)(struct core_instance *ci, const char *key);
    const char *(*cfg_list_item)(struct core_instance *ci, const char *key, size_t i);
    /* CFG_GROUPLIST: number of groups, and key `sub` of group i (NULL/0
     * when unset and without default). */
    size_t (*cfg_groups)(struct core_instance *ci, const char *key);
    const char *(*cfg_group_str)(struct core_instance *ci, const char *key, size_t i,
                                 const char *sub);
    long long (*cfg_group_int)(struct core_instance *ci, const char *key, size_t i,
                               const char *sub);
    size_t (*cfg_group_list_len)(struct core_instance *ci, const char *key, size_t i,
                                 const char *sub);
    const char *(*cfg_group_list_item)(struct core_instance *ci, const char *key, size_t i,
                                       const char *sub, size_t j);

    /* Hands a message up to the user.  The core stores it durably before
     * returning 0; it is then delivered (in order, surviving link outages
     * and restarts).  Returns FERRY_EEXIST when dedupe_key was seen before
     * (nothing stored; treat as success towards the foreign side), or
     * another negative ferry_err (then nothing was stored). */
    int (*deliver)(struct core_instance *ci, const struct tr_inbound *msg);

    /* Sends a type='error' message to `user` from `from_local`@domain that
     * echoes `stanza_id` (a bounce).  Stored durably like deliver(). */
    int (*bounce)(struct core_instance *ci, const char *user, const char *from_local,
                  const char *stanza_id, const struct tr_error *err);

    /* A XEP-0184 receipt: <message><received id=stanza_id/></message> from
     * from_local@domain to user, stored and delivered like deliver(). */
    int (*receipt)(struct core_instance *ci, const char *user, const char *from_local,
                   const char *stanza_id);

    /* Starts an HTTP request; cb fires once from the loop.  Returns 0, or a
     * negative ferry_err (then cb never fires). */
    int (*http_request)(struct core_instance *ci, const struct tr_http_out *req, tr_http_cb cb,
                        void *arg);

    /* The store (gateway/store.h), for the transport's own queues and
     * correlation rows, always under instance_name(ci). */
    struct store *(*store)(struct core_instance *ci);

    /* Sends a presence to a user now (not queued: presence is state, and a
     * client re-joins after a link outage).  0 or a negative ferry_err. */
    int (*presence)(struct core_instance *ci, const struct tr_presence_out *p);

    /* Answers a pending disco#items request (see transport_ops.disco_items)
     * with n items, or with an error when err is not NULL; frees req. */
    void (*disco_reply)(struct core_instance *ci, struct tr_disco *req,
                        const struct tr_disco_item *items, size_t n, const struct tr_error *err);

    /* The loop's asynchronous DNS resolver (struct evdns_base *). */
    struct evdns_base *(*dns)(struct core_instance *ci);

    /* Registration data the core stores for (instance, user bare JID):
     * returns a malloc'd JSON object text in *fields, or FERRY_ENOTFOUND. */
    int (*reg_get)(struct core_instance *ci, const char *user, char **fields);
    /* What the user set through the "configure" ad-hoc command of a contact
     * (ops->contact_settings): JSON object text in *fields (malloc'd), or
     * FERRY_ENOTFOUND. */
    int (*settings_get)(struct core_instance *ci, const char *user, const char *to_local,
                        char **fields);

    /* The transport's own health: up (1) or down (0), with a short status
     * text shown on the gateway contact's presence (may be NULL).  The
     * gateway contact shows as unavailable while the transport is down. */
    void (*set_state)(struct core_instance *ci, int up, const char *status);

    /* Logging with the instance name as scope. */
    void (*log)(struct core_instance *ci, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
};

/* ---- What a driver implements ------------------------------------------ */
enum tr_caps {
    TR_CAP_REGISTER = 1 << 0, /* XEP-0077 registration served with reg_fields */
    TR_CAP_GATEWAY = 1 << 1,  /* XEP-0100 jabber:iq:gateway (prompt -> JID) */
    TR_CAP_RECEIPTS = 1 << 2, /* XEP-0184 delivery receipts */
    TR_CAP_MUC = 1 << 3,      /* XEP-0045 rooms */
};

struct transport_ops {
    const char *driver;         /* name in the config, e.g. "loopback" */
    const char *gateway_type;   /* disco identity type: "sms", "irc", ... */
    const char *description;    /* default disco identity name */
    unsigned caps;              /* enum tr_caps */
    const struct cfg_key *keys; /* extra config keys, terminated by {NULL} */

    /* Registration form (TR_CAP_REGISTER): fields terminated by {NULL} and
     * instructions. */
    const struct tr_reg_field *reg_fields;
    const char *reg_instructions;
    /* Optional: the choices for a field (rendered as a list-single form
     * field), e.g. the free phone numbers.  *opts is a malloc'd array of n
     * malloc'd strings.  Returns 0 (n may be 0: a free-text field). */
    int (*reg_options)(void *state, const char *user, const char *var, char ***opts, size_t *n);
    /* Optional: capabilities that depend on the instance's settings
     * (e.g. receipts only with delivery reports); overrides caps. */
    unsigned (*caps_of)(void *state);

    /* Creates an instance; *state is the driver's.  Returns 0 or a negative
     * ferry_err with a reason in err.  Must not do network I/O. */
    int (*create)(const struct core_api *core, struct core_instance *ci, void **state, char *err,
                  size_t errlen);
    void (*destroy)(void *state); /* accepts NULL */
    /* Starts network activity; the XMPP link may not be online yet. */
    int (*start)(void *state);
    /* Stops network activity (shutdown); pending work stays in the store. */
    void (*stop)(void *state);
    /* Optional: nonzero while the transport still has goodbyes on the wire
     * after stop (QUITs draining); the daemon keeps running its loop for
     * them, within its shutdown grace period. */
    int (*busy)(void *state);

    /* A user's message.  Returns 0 when the transport accepted it (it then
     * owns completion: done, stored for retry, or bounced later through
     * core->bounce), or -1 with *err filled: the core bounces at once. */
    int (*send)(void *state, const struct tr_msg *msg, struct tr_error *err);

    /* Optional.  Validates and normalises registration values before the
     * core stores them: vars[i]/values[i] for n fields (values[i] may be
     * NULL when not given).  To store a normalised form, replace values[i]
     * with a new malloc'd string after free()ing the old one.  Return 0 to
     * accept or -1 with *err filled. */
    int (*reg_check)(void *state, const char *user, const char *const *vars, char **values,
                     size_t n, struct tr_error *err);
    /* Optional.  Told after a registration was stored (removed == 0) or
     * removed (removed == 1). */
    void (*reg_changed)(void *state, const char *user, int removed);

    /* Optional (TR_CAP_GATEWAY): XEP-0100 description, prompt label, and
     * translation of a user's prompt ("(555) 123-4567") to a local part
     * (unescaped; the core escapes it).  *local is malloc'd. */
    const char *gateway_desc;
    const char *gateway_prompt;
    int (*gateway_translate)(void *state, const char *user, const char *prompt, char **local,
                             struct tr_error *err);

    /* Optional.  Presence from a user to a transport JID (room joins and
     * leaves, going offline).  Without it the core answers such presence
     * itself (contacts show as available). */
    void (*presence)(void *state, const struct tr_presence_in *p);

    /* Optional.  disco#items on a transport JID: return 0 and answer later
     * through core->disco_reply(req, ...) exactly once, or -1 for an empty
     * answer now (req is then not used). */
    int (*disco_items)(void *state, struct tr_disco *req, const char *user, const char *to_local);

    /* Optional.  Nonzero when the (unescaped) local part names a room
     * (disco#info then shows a conference identity and the MUC feature). */
    int (*is_room)(void *state, const char *to_local);
    /* Optional: the settings a user can set for the contact to_local (raw
     * local part) with a XEP-0050 "configure" command, NULL-terminated, or
     * NULL when the contact has none.  Read back with core->settings_get. */
    const struct tr_reg_field *(*contact_settings)(void *state, const char *to_local);

    /* Optional.  The instance's XMPP link went online (1) or offline (0). */
    void (*link_state)(void *state, int online);

    /* Optional.  Checks settings beyond types and ranges (at load and with
     * `ferry -n`; only the cfg_* functions of core may be used, ci is not a
     * running instance).  Returns 0, or -1 with "key: reason" in err. */
    int (*config_check)(const struct core_api *core, struct core_instance *ci, char *err,
                        size_t errlen);

    /* Optional.  Requests under /<webhook_prefix>/<instance name>. */
    const char *webhook_prefix;
    void (*webhook)(void *state, const struct tr_webhook_req *req, struct tr_webhook_resp *resp);
};

#endif
