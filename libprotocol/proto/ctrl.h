/* ctrl.h - the OWAMP/TWAMP-Control connection, client and server roles, as a state machine
 * without sockets: feed it the octets that arrived (ctrl_input), take the octets to send
 * (ctrl_output/ctrl_output_done), and pull the protocol events (ctrl_next). Message
 * encoding lives in wire, encryption and HMACs in crypto; policy belongs to the caller. */
#ifndef LP_CTRL_H
#define LP_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "wire.h"

#define CTRL_MAX_SLOTS 1024u      /* schedule slots we accept in one request */
#define CTRL_MAX_DESCS 64u        /* session descriptions in one Stop-Sessions */
#define CTRL_MAX_SKIPS 4096u      /* skip ranges over all descriptions of a Stop-Sessions */
#define CTRL_MAX_COUNT (1u << 20) /* KDF Count a client accepts from a server */
#define CTRL_MAX_PASS 1024u       /* pass-phrase octets */

enum ctrl_role { CTRL_CLIENT, CTRL_SERVER };

enum ctrl_ev {
    CTRL_EV_NONE = 0,       /* nothing complete yet */
    CTRL_EV_GREETING,       /* client: Server-Greeting in ev.greeting */
    CTRL_EV_SETUP,          /* server: Set-Up-Response; answer with ctrl_server_start */
    CTRL_EV_SERVER_START,   /* client: Server-Start in ev.server_start */
    CTRL_EV_REQUEST,        /* server: Request-Session / Request-TW-Session */
    CTRL_EV_ACCEPT_SESSION, /* client: Accept-Session */
    CTRL_EV_START,          /* server: Start-Sessions */
    CTRL_EV_START_ACK,      /* client: Start-Ack */
    CTRL_EV_STOP,           /* either: Stop-Sessions (OWAMP descriptions in ev.stop) */
    CTRL_EV_FETCH,          /* server: Fetch-Session */
    CTRL_EV_FETCH_ACK,      /* client: Fetch-Ack; records follow when accepted */
    CTRL_EV_FETCH_HEAD,     /* client: the fetched session's stored request and skip ranges */
    CTRL_EV_FETCH_RECORD,   /* client: one data record of the fetched session */
    CTRL_EV_FETCH_DONE,     /* client: the record section ended and its HMAC verified */
    CTRL_EV_NSESSIONS,      /* RFC 5938 Start-N/Stop-N (server) or their Acks (client) */
};

struct ctrl_event {
    enum ctrl_ev type;
    union {
        struct wire_greeting greeting;
        struct {
            uint32_t mode;
            char identity[WIRE_KEYID_LEN + 1];
        } setup;
        struct wire_server_start server_start;
        struct {
            struct wire_request req;
            const struct wire_slot *slots; /* req.nslots entries, valid until next call */
        } request;
        struct wire_accept_session accept;
        struct wire_start_ack start_ack;
        struct wire_stop_sessions stop; /* desc valid until the next ctrl_next */
        struct wire_fetch_session fetch;
        struct wire_fetch_ack fetch_ack;
        struct {
            struct wire_request req;
            const struct wire_slot *slots;       /* req.nslots; valid until the next call */
            const struct wire_skip_range *skips; /* nskips; valid until the next call */
            uint32_t nskips;
        } fetch_head;
        struct wire_record record;
        struct wire_nsessions nsessions; /* sids copied, valid until the next ctrl_next */
    } u;
};

struct ctrl;

/* New connection state for proto in role; NULL on allocation failure. A server queues its
 * Server-Greeting at once, offering modes with KDF count. */
struct ctrl *ctrl_create(enum wire_proto proto, enum ctrl_role role, uint32_t modes,
                         uint32_t count);

/* Free the state, wiping every key. */
void ctrl_destroy(struct ctrl *c);

/* Octets that arrived from the peer. 0, or LP_E_NOMEM when more than a bounded message is
 * pending (the peer is hostile: close). */
int ctrl_input(struct ctrl *c, const uint8_t *buf, size_t len);

/* The octets waiting to be sent (pointer valid until the next call on c). */
void ctrl_output(const struct ctrl *c, const uint8_t **buf, size_t *len);

/* Mark n octets of the output as sent. */
void ctrl_output_done(struct ctrl *c, size_t n);

/* Parse the next complete message: 1 with ev filled, 0 when more input is needed, or a
 * negative LP_E_* (bad message, HMAC failure...): the connection must be closed. */
int ctrl_next(struct ctrl *c, struct ctrl_event *ev);

/* Chosen mode (one security bit plus feature bits), 0 before set-up. */
uint32_t ctrl_mode(const struct ctrl *c);

/* True once set-up has failed or a fatal error happened. */
bool ctrl_closed(const struct ctrl *c);

/* Session keys of an authenticated/encrypted connection (for test-packet keys), or NULL. */
const struct cry_session_keys *ctrl_keys(const struct ctrl *c);

/* Server: answer the Set-Up-Response. pass is the identity's pass-phrase (NULL: unknown
 * identity or refused by policy); start_time is the daemon's start time. Verifies the
 * Token, queues Server-Start with Accept 0 or 1. 0 when accepted, else LP_E_AUTH or
 * LP_E_MODE (and the connection is closed after the output drains). */
int ctrl_server_start(struct ctrl *c, const uint8_t *pass, size_t passlen, bool allowed,
                      struct clk_ntp start_time);

/* Client: answer the Server-Greeting with mode (from ev.greeting.modes) and, for
 * authenticated modes, identity and pass-phrase. 0 or LP_E_*. */
int ctrl_client_setup(struct ctrl *c, uint32_t mode, const char *identity, const uint8_t *pass,
                      size_t passlen);

/* The strongest security mode both sides allow (Encrypted, Authenticated, Mixed, Open), or
 * 0 when they share none. */
uint32_t ctrl_choose_mode(uint32_t server_modes, uint32_t client_modes);

/* Queue messages. Each returns 0 or a negative LP_E_* (encoding failure, wrong state). */
int ctrl_send_request(struct ctrl *c, const struct wire_request *r, const struct wire_slot *slots);
int ctrl_send_accept(struct ctrl *c, const struct wire_accept_session *a);
int ctrl_send_start(struct ctrl *c);
int ctrl_send_start_ack(struct ctrl *c, uint8_t accept);
int ctrl_send_stop(struct ctrl *c, const struct wire_stop_sessions *s);
int ctrl_send_fetch(struct ctrl *c, const struct wire_fetch_session *f);
int ctrl_send_nsessions(struct ctrl *c, uint8_t cmd, uint8_t accept, const uint8_t *sids,
                        uint32_t n);

/* Server: answer a Fetch-Session. When a->accept is 0, req/slots is the stored request,
 * skips the skip ranges and rec the a->nrecords records. */
int ctrl_send_fetch_reply(struct ctrl *c, const struct wire_fetch_ack *a,
                          const struct wire_request *req, const struct wire_slot *slots,
                          const struct wire_skip_range *skips, const struct wire_record *rec);

/* A source of records for a streamed Fetch reply: up to max records into out, in order;
 * returns how many, 0 when it has none ready yet (it was given a bounded amount of work:
 * ctrl_fetch_refill asks again), or -1 when it has none left or cannot read them. */
typedef long (*ctrl_record_fn)(void *arg, struct wire_record *out, size_t max);

/* Server: an accepted Fetch reply whose records (a->nrecords of them, which fn must produce)
 * are pulled from fn as the output drains (ctrl_output_done), so only about 64 KiB of them is
 * queued at a time whatever the session's length. Until ctrl_fetch_pending says false,
 * queue nothing else on c; arg must stay valid. 0 or LP_E_*. */
int ctrl_send_fetch_stream(struct ctrl *c, const struct wire_fetch_ack *a,
                           const struct wire_request *req, const struct wire_slot *slots,
                           const struct wire_skip_range *skips, ctrl_record_fn fn, void *arg);

/* Whether records of a streamed Fetch reply are still to be queued. */
bool ctrl_fetch_pending(const struct ctrl *c);

/* Pull more records into the output while it holds less than about 64 KiB (done by
 * ctrl_output_done too): for a caller whose output is empty but whose reply is pending,
 * e.g. because the source had nothing ready. 0, or LP_E_* (the channel is then closed). */
int ctrl_fetch_refill(struct ctrl *c);

/* For a caller that owns the socket: write the queued output to the non-blocking stream
 * socket fd until it is all sent or the socket takes no more. 0, or -1 with errno set on a
 * send error (ctrl_fd.c). */
int ctrl_write_fd(struct ctrl *c, int fd);

#endif
