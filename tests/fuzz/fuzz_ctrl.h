/* fuzz_ctrl.h - shared by the control state-machine harnesses: a server that answers every
 * event the way the daemons do (so the reply encoders run on decoded input), the
 * authenticated handshake between a real client and server ctrl with a fixed key, and the
 * "chunk" reader that turns fuzz octets into messages sealed with a peer's stream.
 * Header-only; include after fuzz.h. */
#ifndef FUZZ_CTRL_H
#define FUZZ_CTRL_H

#include "ctrl.h"

#define FZ_PASS "correct horse battery staple"
#define FZ_PASSLEN (sizeof(FZ_PASS) - 1)
#define FZ_COUNT 1024u /* the smallest KDF count allowed: keeps each run cheap */
#define FZ_START_TIME 0xeeb3969f24438088ull
#define FZ_CHUNK_MAX (WIRE_REQUEST_LEN + CTRL_MAX_SLOTS * WIRE_SLOT_LEN + 4096)

/* What the fuzzed server remembers between events. */
struct fz_srv {
    enum wire_proto proto;
    bool allowed; /* policy answer to Set-Up-Response */
    bool have_req;
    struct wire_request req;
    struct wire_slot slots[CTRL_MAX_SLOTS];
};

/* Discard whatever c queued (a real peer would send it). */
static inline void fz_drain(struct ctrl *c)
{
    const uint8_t *p;
    size_t n;
    ctrl_output(c, &p, &n);
    ctrl_output_done(c, n);
}

/* Move c's queued output into peer's input. 0 or a negative LP_E_*. */
static inline int fz_pass_output(struct ctrl *c, struct ctrl *peer)
{
    const uint8_t *p;
    size_t n;
    ctrl_output(c, &p, &n);
    int rc = ctrl_input(peer, p, n);
    ctrl_output_done(c, n);
    return rc;
}

/* Fetch-Session: the stored request (OWAMP) with a few skip ranges and records. */
static inline void fz_srv_fetch(struct ctrl *s, struct fz_srv *st,
                                const struct wire_fetch_session *f)
{
    static const struct wire_skip_range skips[2] = {{1, 2}, {5, 9}};
    struct wire_record rec[8];
    struct wire_fetch_ack a = {.accept = WIRE_ACCEPT_FAILURE};
    if (!st->have_req || st->proto != WIRE_OWAMP || st->req.nslots > CTRL_MAX_SLOTS) {
        FUZZ_CHECK(ctrl_send_fetch_reply(s, &a, NULL, NULL, NULL, NULL) == 0);
        return;
    }
    uint32_t n = f->end_seq >= f->begin_seq ? f->end_seq - f->begin_seq : 0;
    a = (struct wire_fetch_ack){.accept = WIRE_ACCEPT_OK,
                                .finished = 1,
                                .next_seqno = f->end_seq,
                                .nskips = f->begin_seq & 1 ? 2 : 0,
                                .nrecords = n < 8 ? n : 8};
    for (uint32_t i = 0; i < a.nrecords; i++) {
        rec[i] = (struct wire_record){
            .seq = f->begin_seq + i, .send_ts = i, .recv_ts = i + 1, .ttl = 255};
    }
    FUZZ_CHECK(ctrl_send_fetch_reply(s, &a, &st->req, st->slots, skips, rec) == 0);
}

/* Answer one server event as owampd/twampd would. Returns what a daemon would act on:
 * 0, or a negative LP_E_* that closes the connection. */
static inline int fz_srv_answer(struct ctrl *s, struct fz_srv *st, const struct ctrl_event *ev)
{
    struct clk_ntp start = {FZ_START_TIME};
#ifdef FZ_TRACE /* -DFZ_TRACE: show what a seed reaches */
    fprintf(stderr, "server event %d\n", (int)ev->type);
#endif
    switch (ev->type) {
    case CTRL_EV_SETUP:
        return ctrl_server_start(s, (const uint8_t *)FZ_PASS, FZ_PASSLEN, st->allowed, start);
    case CTRL_EV_REQUEST: {
        const struct wire_request *r = &ev->u.request.req;
        struct wire_accept_session a = {.accept = r->nslots & 1 ? WIRE_ACCEPT_OK
                                                                : WIRE_ACCEPT_UNSUPPORTED,
                                        .port = 18700,
                                        .reflected_octets = r->octets_reflected};
        memcpy(a.sid, r->sid, WIRE_SID_LEN);
        st->req = *r;
        if (ev->u.request.slots && r->nslots <= CTRL_MAX_SLOTS) {
            memcpy(st->slots, ev->u.request.slots, r->nslots * sizeof(st->slots[0]));
        }
        st->have_req = true;
        FUZZ_CHECK(ctrl_send_accept(s, &a) == 0);
        return 0;
    }
    case CTRL_EV_START: FUZZ_CHECK(ctrl_send_start_ack(s, WIRE_ACCEPT_OK) == 0); return 0;
    case CTRL_EV_STOP:
        /* OWAMP: echo the client's descriptions in our own Stop-Sessions. */
        if (st->proto == WIRE_OWAMP) {
            FUZZ_CHECK(ctrl_send_stop(s, &ev->u.stop) == 0);
        }
        return 0;
    case CTRL_EV_FETCH: fz_srv_fetch(s, st, &ev->u.fetch); return 0;
    case CTRL_EV_NSESSIONS: {
        const struct wire_nsessions *m = &ev->u.nsessions;
        uint8_t ack =
            m->cmd == WIRE_CMD_START_N_SESSIONS ? WIRE_CMD_START_N_ACK : WIRE_CMD_STOP_N_ACK;
        FUZZ_CHECK(ctrl_send_nsessions(s, ack, WIRE_ACCEPT_OK, m->sids, m->nsessions) == 0);
        return 0;
    }
    default: FUZZ_CHECK(!"server got a client-side event"); return 0;
    }
}

/* Feed len octets to the server in pieces of split octets (0: all at once), answering every
 * event. 0 while the connection lives, negative once it must close. */
static inline int fz_srv_feed(struct ctrl *s, struct fz_srv *st, const uint8_t *p, size_t len,
                              size_t split)
{
    size_t off = 0;
    do {
        size_t n = split && split < len - off ? split : len - off;
        struct ctrl_event ev;
        int rc = ctrl_input(s, p + off, n);
        off += n;
        while (rc == 0 && (rc = ctrl_next(s, &ev)) == 1) {
            rc = fz_srv_answer(s, st, &ev);
            fz_drain(s);
        }
        if (rc < 0) {
            FUZZ_CHECK(rc == LP_E_NOMEM || ctrl_closed(s));
            return rc;
        }
    } while (off < len);
    return 0;
}

/* The security mode a selector picks for proto: open, authenticated, encrypted, mixed. */
static inline uint32_t fz_mode(enum wire_proto proto, unsigned sel)
{
    static const uint32_t modes[4] = {WIRE_MODE_OPEN, WIRE_MODE_AUTH, WIRE_MODE_ENC,
                                      WIRE_MODE_MIXED};
    uint32_t m = modes[sel % 4];
    return proto == WIRE_OWAMP && m == WIRE_MODE_MIXED ? WIRE_MODE_ENC : m;
}

static inline uint32_t fz_offered(enum wire_proto proto)
{
    return WIRE_MODE_OPEN | WIRE_MODE_AUTH | WIRE_MODE_ENC |
           (proto == WIRE_TWAMP ? WIRE_MODE_MIXED : 0u);
}

/* A legitimate handshake between a fresh server and client in mode (identity "alice",
 * FZ_PASS). On return both are active; *client_iv and *server_iv are the IVs each side
 * sent. 0, or -1 when the library refused a legitimate handshake (a bug). */
static inline int fz_handshake(struct ctrl *srv, struct ctrl *cli, uint32_t mode,
                               uint8_t client_iv[WIRE_IV_LEN], uint8_t server_iv[WIRE_IV_LEN])
{
    struct ctrl_event ev;
    struct clk_ntp start = {FZ_START_TIME};
    const uint8_t *p;
    size_t n;
    if (fz_pass_output(srv, cli) < 0 || ctrl_next(cli, &ev) != 1 || ev.type != CTRL_EV_GREETING ||
        ctrl_client_setup(cli, mode, "alice", (const uint8_t *)FZ_PASS, FZ_PASSLEN) < 0) {
        return -1;
    }
    ctrl_output(cli, &p, &n);
    if (n != WIRE_SETUP_LEN) {
        return -1;
    }
    memcpy(client_iv, p + 148, WIRE_IV_LEN);
    if (fz_pass_output(cli, srv) < 0 || ctrl_next(srv, &ev) != 1 || ev.type != CTRL_EV_SETUP ||
        ctrl_server_start(srv, (const uint8_t *)FZ_PASS, FZ_PASSLEN, true, start) < 0) {
        return -1;
    }
    ctrl_output(srv, &p, &n);
    if (n != WIRE_SERVER_START_LEN) {
        return -1;
    }
    memcpy(server_iv, p + 16, WIRE_IV_LEN);
    if (fz_pass_output(srv, cli) < 0 || ctrl_next(cli, &ev) != 1 ||
        ev.type != CTRL_EV_SERVER_START || ev.u.server_start.accept != WIRE_ACCEPT_OK) {
        return -1;
    }
    return 0;
}

/* One chunk of fuzz input as a message on a peer's stream: header octet h, then
 * (h & 0x3f) + 1 blocks of plaintext ((h & 0x3f) == 0x3f: a 16-bit block count follows),
 * zero-filled past the end of the input. h >> 6: 0 or 1 sealed (HMAC written into the last
 * block, then encrypted), 2 encrypted without a MAC (the receiver must reject it), 3 as 0
 * but sent in 1-octet pieces. Returns the message length (0 at the end of input) and the
 * piece size in *split. */
static inline size_t fz_chunk(struct fz *f, struct cry_stream *peer_tx, uint8_t *buf, size_t *split)
{
    if (f->left == 0) {
        return 0;
    }
    uint8_t h = fz_u8(f);
    size_t blocks = (h & 0x3fu) + 1u;
    if (blocks == 0x40) {
        blocks = fz_u16(f) % (FZ_CHUNK_MAX / WIRE_BLOCK_LEN) + 1u;
    }
    size_t len = blocks * WIRE_BLOCK_LEN, got;
    const uint8_t *p = fz_take(f, len, &got);
    memcpy(buf, p, got);
    memset(buf + got, 0, len - got);
    if (h >> 6 == 2) {
        cry_stream_encrypt(peer_tx, buf, len);
    } else {
        cry_stream_seal_msg(peer_tx, buf, len);
    }
    *split = h >> 6 == 3 ? 1 : 0;
    return len;
}

#endif
