/* The IRC transport (private to transports/irc/irc*.c).
 *
 *   irc.c        instance, settings, XMPP side: room joins and leaves,
 *                messages to rooms, users and servers
 *   irc_conn.c   one connection per (user, server): TCP/TLS on a libevent
 *                bufferevent, registration (CAP, SASL), flood control,
 *                keepalive, reconnect with rejoin
 *   irc_cap.c    registration: CAP negotiation and SASL
 *   irc_event.c  IRC side: lines from the server turned into XMPP
 *   irc_room.c   XEP-0045 presence and messages of the rooms
 *   irc_members.c  channel members (a hash set per channel)
 *   irc_conns.c  connections by (user, server)
 *   irc_xmpp.c   (XMPP side, from irc.c:) joins, leaves, messages, LIST
 *   irc_line.c, irc_split.c, irc_text.c, irc_addr.c: pure protocol helpers
 *
 * IRC is spoken by our own code (DESIGN §2: not libircclient). */
#ifndef FERRY_IRC_H
#define FERRY_IRC_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

struct event;
struct bufferevent;
struct ssl_ctx_st;
struct irc_msg;

struct irc_server {
    char *name; /* as in JIDs ("irc.libera.chat", "127.0.0.1") */
    char *host; /* where to connect (default: name) */
    int port;
    int tls;      /* 1 unless plaintext = true */
    int insecure; /* TLS without certificate checks (explicit opt-in) */
    char *ca_file, *pin, *cert_file, *key_file;
    char *password; /* PASS */
    char *sasl_user, *sasl_password;
    int sasl_external;
    char *encoding; /* fallback for text that is not UTF-8 */
    char **after_connect;
    size_t n_after;
    struct ssl_ctx_st *ssl;
};

struct irc_member {
    char prefix; /* '@' op, '%' halfop, '+' voice, 0 none */
    char nick[];
};

/* A channel's members, a hash set (irc_members.c). */
struct irc_members {
    struct irc_member **slot; /* cap slots (a power of 2), NULL when free */
    size_t cap, n;
};

/* A channel of a connection, joined by one or more of the user's
 * resources. */
struct irc_chan {
    struct irc_chan *next;
    char *name; /* as the user wrote it (lowercased) */
    char *key;
    int joined;     /* the server confirmed our JOIN */
    int names_done; /* end of NAMES seen: occupants sent */
    char **res;     /* user resources in the room (full JIDs) */
    size_t n_res;
    struct irc_members members;
    char *topic;
    char **pending_echo; /* our own messages awaiting echo-message */
    size_t n_echo;
};

enum irc_state { IC_IDLE, IC_CONNECTING, IC_REGISTERING, IC_READY };

struct irc_conn {
    struct irc_conn *next;
    struct irc_conn *hnext; /* in t->buckets (irc_conns.c) */
    struct irc *t;
    char *user; /* bare JID */
    struct irc_server *srv;
    char *server; /* JID server part */
    char *nick;   /* current nick */
    struct bufferevent *bev;
    enum irc_state state;
    int cap_echo, cap_sasl_done, cap_multi_prefix;
    int was_ready; /* registered before: a reconnect rejoins */
    char chantypes[16];
    /* flood control: a token bucket and a bounded queue */
    double tokens;
    int64_t refill_ms;
    char **queue;
    size_t qhead, qlen, qcap;
    struct event *ev_flood, *ev_retry, *ev_ping, *ev_grace;
    int attempts;
    int64_t last_rx_ms;
    struct irc_chan *chans;
    char **query_res; /* resources that wrote private messages (for errors) */
    int quitting;
    int draining; /* QUIT written; freed once it has left (irc_conn_quit_now) */
    int skipping; /* dropping the rest of an over-long line */
    /* credentials for this connection (the user's, else the server's) */
    char *pass, *sasl_user, *sasl_password;
    /* disco#items requests waiting for LIST, and what LIST returned */
    struct tr_disco **lists;
    size_t n_lists;
    struct tr_disco_item *litems;
    size_t n_litems;
    /* the last private message, for an error numeric about it */
    char *last_query_nick, *last_query_id, *last_query_user;
};

struct irc {
    const struct core_api *core;
    struct core_instance *ci;
    const char *name;
    const char *fixed_server;
    const char *realname;
    int flood_burst;
    int flood_interval_ms;
    int queue_max;
    int quit_grace;
    int hold_ms; /* tr_inbound.hold_ms of every message from IRC */
    struct irc_server *servers;
    size_t n_servers;
    struct irc_conn *conns;
    struct irc_conn **buckets; /* conns by (user, server): irc_conns.c */
    size_t n_buckets, n_indexed;
};

/* irc.c */
struct irc_server *irc_server_find(struct irc *t, const char *name);
/* A user's registered settings (all malloc'd, NULL when unset). */
struct irc_user_settings {
    char *nick, *password, *sasl_user, *sasl_password;
};
/* Registration (per user) overlaid with the server JID's "configure"
 * settings (per user and server). */
void irc_user_settings(struct irc *t, const char *bare_jid, const char *server,
                       struct irc_user_settings *out);
void irc_log(struct irc *t, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* irc_xmpp.c: the transport ops of the XMPP side */
void irc_xmpp_presence(void *state, const struct tr_presence_in *p);
int irc_xmpp_send(void *state, const struct tr_msg *msg, struct tr_error *err);
int irc_xmpp_disco_items(void *state, struct tr_disco *req, const char *user, const char *to_local);

/* irc_cap.c: PING, CAP and SASL during registration; 1 when consumed. */
int irc_conn_registration(struct irc_conn *c, const struct irc_msg *m);

/* irc_conn.c */
/* Writes now, bypassing flood control (registration, PONG, QUIT). */
void irc_write_now(struct irc_conn *c, const char *line);
void irc_cmd_now(struct irc_conn *c, const char *command, size_t n, const char *const *params);
struct irc_conn *irc_conn_get(struct irc *t, const char *user, const char *server, int create,
                              const char *nick, struct tr_error *err);
/* Queues a line (without CRLF) for sending under flood control; 0, or -1
 * when the queue is full. */
int irc_conn_send(struct irc_conn *c, const char *line);
/* Builds and queues COMMAND params... (CR/LF/NUL refused). */
int irc_conn_cmd(struct irc_conn *c, const char *command, size_t n, const char *const *params);
void irc_conn_quit_later(struct irc_conn *c);
/* Sends what flood control holds, then QUIT :text; the connection is freed
 * once that has left (or after two seconds).  Only when registered. */
void irc_conn_quit_now(struct irc_conn *c, const char *text);
/* Closes the connection (reason for the users); reconnects if retry and a
 * room still wants it. */
void irc_conn_close(struct irc_conn *c, const char *reason, int retry);
void irc_conn_free(struct irc_conn *c);
struct irc_chan *irc_chan_find(struct irc_conn *c, const char *name);
struct irc_chan *irc_chan_add(struct irc_conn *c, const char *name, const char *key);
void irc_chan_free(struct irc_chan *ch);
void irc_chan_remove(struct irc_conn *c, struct irc_chan *ch);
int irc_is_channel(const struct irc_conn *c, const char *name);

/* irc_room.c: members and room presence */
char *irc_room_of(struct irc_conn *c, const char *chan); /* the room's JID local part */
/* irc_conns.c: connections by (user bare JID, server), case-insensitive */
struct irc_conn *irc_conn_lookup(struct irc *t, const char *user, const char *server);
int irc_conn_index_add(struct irc *t, struct irc_conn *c); /* -1: out of memory */
void irc_conn_index_del(struct irc *t, struct irc_conn *c);
void irc_conn_index_free(struct irc *t);

/* A copy of s with ASCII capitals lowered (JID parts are lowercase, as in
 * biboumi); NULL when out of memory. */
char *irc_lower_dup(const char *s);
/* The 1:1 chat JID local part of an IRC nick on c's server ("nick%server",
 * or "nick" with fixed_server); malloc'd, NULL when out of memory. */
char *irc_nick_local(struct irc_conn *c, const char *nick);

/* irc_members.c: the members of a channel */
/* FNV-1a of s with ASCII case folded, continuing from h (start with
 * IRC_HASH_INIT): the hash of both the member set and the connection
 * index. */
#define IRC_HASH_INIT ((size_t)2166136261u)
size_t irc_hash_fold(size_t h, const char *s);
struct irc_member *irc_member_find(struct irc_chan *ch, const char *nick);
/* Adds nick, or sets the prefix of the member already there; NULL when
 * memory runs out. */
struct irc_member *irc_member_add(struct irc_chan *ch, const char *nick, char prefix);
void irc_member_del(struct irc_chan *ch, const char *nick);
/* Walks the members: *it starts at 0; NULL at the end.  No changes to the
 * set during a walk. */
struct irc_member *irc_member_next(struct irc_chan *ch, size_t *it);
void irc_members_clear(struct irc_chan *ch);
/* Occupant presence of nick to resource res (all when NULL). */
void irc_occupant(struct irc_conn *c, struct irc_chan *ch, const char *nick, char prefix,
                  int available, const char *status, const int *codes, size_t n_codes,
                  const char *new_nick, const char *res);
void irc_deliver(struct irc_conn *c, const char *user, const char *from_local, const char *from_res,
                 enum tr_msg_type type, const char *text, const char *subject, const char *id);
/* A failed join: error presence to every waiting resource; the room goes. */
void irc_join_failed(struct irc_conn *c, struct irc_chan *ch, enum tr_cond cond, const char *text);
void irc_fail_all_joins(struct irc_conn *c, enum tr_cond cond, const char *text);

/* irc_event.c */
void irc_event(struct irc_conn *c, const struct irc_msg *m);
/* Connection lost or failed (reason for the users), or back. */
void irc_event_down(struct irc_conn *c, const char *reason, int will_retry);
void irc_event_registered(struct irc_conn *c);
/* Answers the pending disco#items requests (with an error when err). */
void irc_lists_answer(struct irc_conn *c, const struct tr_error *err);
/* Presence helpers used by both sides. */
void irc_send_self(struct irc_conn *c, struct irc_chan *ch, const char *resource);
void irc_send_occupants(struct irc_conn *c, struct irc_chan *ch, const char *resource);
void irc_room_status(struct irc_conn *c, struct irc_chan *ch, const char *text);

#endif
