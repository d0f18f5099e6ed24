/* test_interop.c - the interoperability proof. Every capture of perfSONAR owamp 5.2.3 in
 * ../shared/interop is read back: the TCP control connection is reassembled, every control
 * message decoded with the wire module, the control stream decrypted and EVERY control and
 * test-packet HMAC verified with the crypto module, starting only from the identity and
 * pass-phrase given in the README. Fields are checked against the README table and the
 * .decoded.txt dumps (the expected counts below are taken from those files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <unistd.h>

#include "clock.h"
#include "common.h"
#include "crypto.h"
#include "pcap_flow.h"
#include "wire.h"

#define PASS_RIGHT "correct horse battery staple"
#define PASS_WRONG "wrong passphrase"
#define NPACKETS 10 /* -c 10 */

/* What the README table and the decoded dumps say about one capture. */
struct expect {
    const char *name;
    enum wire_proto proto;
    uint32_t mode;  /* Set-Up-Response Mode */
    uint32_t modes; /* Server-Greeting Modes */
    bool ipv6;
    uint16_t srv_port, cli_port;
    size_t frames, tcp_frames, udp_frames;
    size_t c2s_bytes, s2c_bytes;
    uint16_t srv_test[2], cli_test[2]; /* sorted; 0 = none */
    size_t udp_len;
    int ctrl_hmacs; /* "HMAC OK" on control lines */
    int ctrl_zero;  /* "HMAC=zero" (open mode) */
    int test_hmacs; /* "HMAC@n OK" */
    const char *pass;
    uint8_t accept; /* Server-Start Accept */
};

/* clang-format off */
static const struct expect expects[] = {
    /* name, proto, mode, modes, ipv6, control ports, frames (all, TCP, UDP), control octets
     * (c->s, s->c), server and client test ports, UDP payload, HMAC counts (control, zero,
     * test), pass-phrase, Server-Start Accept */
    {"owamp-open", WIRE_OWAMP, WIRE_MODE_OPEN, 0x7, false, 18610, 47476, 61, 41, 20, 596, 768,
     {18736, 18740}, {8873, 9867}, 14, 0, 16, 0, NULL, 0},
    {"owamp-auth", WIRE_OWAMP, WIRE_MODE_AUTH, 0x7, false, 18610, 46992, 61, 41, 20, 596, 768,
     {18720, 18723}, {8818, 9502}, 48, 16, 0, 20, PASS_RIGHT, 0},
    {"owamp-enc", WIRE_OWAMP, WIRE_MODE_ENC, 0x7, false, 18610, 58622, 60, 40, 20, 596, 768,
     {18701, 18714}, {8789, 9895}, 48, 16, 0, 20, PASS_RIGHT, 0},
    {"owamp-open-ipv6", WIRE_OWAMP, WIRE_MODE_OPEN, 0x7, true, 18611, 58896, 62, 42, 20, 596, 768,
     {18752, 18766}, {8920, 9216}, 14, 0, 16, 0, NULL, 0},
    {"owamp-auth-wrongkey", WIRE_OWAMP, WIRE_MODE_AUTH, 0x7, false, 18610, 40246, 11, 11, 0,
     164, 112, {0, 0}, {0, 0}, 0, 0, 0, 0, PASS_WRONG, 1},
    {"twamp-open", WIRE_TWAMP, WIRE_MODE_OPEN, 0xf, false, 18620, 44570, 37, 17, 20, 340, 192,
     {18811, 0}, {9617, 0}, 41, 0, 5, 0, NULL, 0},
    {"twamp-auth", WIRE_TWAMP, WIRE_MODE_AUTH, 0xf, false, 18620, 52276, 37, 17, 20, 340, 192,
     {18842, 0}, {9433, 0}, 112, 5, 0, 20, PASS_RIGHT, 0},
    {"twamp-enc", WIRE_TWAMP, WIRE_MODE_ENC, 0xf, false, 18620, 41980, 37, 17, 20, 340, 192,
     {18803, 0}, {9100, 0}, 112, 5, 0, 20, PASS_RIGHT, 0},
    {"twamp-mixed", WIRE_TWAMP, WIRE_MODE_MIXED, 0xf, false, 18620, 41990, 37, 17, 20, 340, 192,
     {18811, 0}, {9544, 0}, 41, 5, 0, 0, PASS_RIGHT, 0},
    {"twamp-open-ipv6", WIRE_TWAMP, WIRE_MODE_OPEN, 0xf, true, 18621, 37054, 37, 17, 20, 340, 192,
     {18850, 0}, {9556, 0}, 41, 0, 5, 0, NULL, 0},
};
/* clang-format on */

/* One direction of the control connection being read. */
struct dir {
    const struct flow_buf *f;
    size_t off;
    struct cry_stream cs;
    uint8_t msg[1024]; /* plaintext of the current message */
    size_t have;
};

/* A test session as negotiated on the control connection. */
struct sess {
    uint8_t sid[WIRE_SID_LEN];
    uint16_t srv_port, cli_port;
    bool srv_sends; /* OWAMP Conf-Sender=1 */
    bool fetched;   /* its records came back in a Fetch-Ack */
    struct cry_test_keys tk;
    uint32_t next[2]; /* next expected seq: [0] sender packets, [1] reflector packets */
    uint64_t ts[NPACKETS];
};

struct run {
    const struct expect *e;
    struct capture cap;
    bool secure; /* control encrypted (A, E, M) */
    enum cry_test_mode tmode;
    struct cry_session_keys keys;
    struct dir up, down;
    struct wire_request req[4];
    size_t nreq;
    struct sess sess[4];
    size_t nsess;
    uint8_t cmds[16]; /* client commands in order */
    size_t ncmds;
    struct wire_record rec[NPACKETS];
    size_t nrec;
    uint8_t fetched_sid[WIRE_SID_LEN];
    uint8_t client_stop[64]; /* checked once the sessions are known */
    size_t client_stop_len;
    int ctrl_hmacs, ctrl_zero, test_hmacs;
};

/* ------------------------------------------------------------ finding the files */

static bool has_readme(const char *dir)
{
    char p[PATH_MAX];

    if (snprintf(p, sizeof(p), "%s/README.md", dir) >= (int)sizeof(p)) {
        return false;
    }
    return access(p, R_OK) == 0;
}

/* $SHARED (the shared root or its interop folder), else ../shared/interop from the repo
 * root (the working directory of make check), else relative to this binary. */
static const char *interop_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("SHARED");
    char exe[PATH_MAX];
    ssize_t n;

    if (env != NULL && *env != '\0') {
        snprintf(dir, sizeof(dir), "%s/interop", env);
        if (has_readme(dir)) {
            return dir;
        }
        snprintf(dir, sizeof(dir), "%s", env);
        if (has_readme(dir)) {
            return dir;
        }
    }
    snprintf(dir, sizeof(dir), "../shared/interop");
    if (has_readme(dir)) {
        return dir;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(dir, sizeof(dir), "%s/../../../shared/interop", dirname(exe));
        if (has_readme(dir)) {
            return dir;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ control-stream reader */

/* Take n octets sent in clear. */
static const uint8_t *dir_clear(struct dir *d, size_t n)
{
    assert_true(d->off + n <= d->f->len);
    d->off += n;
    return d->f->data + d->off - n;
}

/* Decrypt (and MAC) the current message's blocks up to octet upto. */
static void dir_take(struct dir *d, size_t upto)
{
    assert_true(upto <= sizeof(d->msg) && upto % CRY_BLOCK_LEN == 0);
    if (upto <= d->have) {
        return;
    }
    memcpy(d->msg + d->have, dir_clear(d, upto - d->have), upto - d->have);
    assert_int_equal(cry_stream_recv(&d->cs, d->msg + d->have, upto - d->have), 0);
    d->have = upto;
}

/* The next block is an HMAC field: decrypt it and verify it (or, open mode, check zeros). */
static void dir_hmac(struct run *r, struct dir *d)
{
    uint8_t *mac = d->msg + d->have;

    assert_true(d->have + CRY_MAC_LEN <= sizeof(d->msg));
    memcpy(mac, dir_clear(d, CRY_MAC_LEN), CRY_MAC_LEN);
    assert_int_equal(cry_stream_decrypt(&d->cs, mac, CRY_MAC_LEN), 0);
    if (r->secure) {
        assert_int_equal(cry_stream_mac_verify(&d->cs, mac), 0);
        r->ctrl_hmacs++;
    } else {
        assert_true(lp_all_zero(mac, CRY_MAC_LEN));
        r->ctrl_zero++;
    }
    d->have += CRY_MAC_LEN;
}

/* Read a message of known length whose HMAC blocks sit at hmac_off[] (the last one closes
 * it). Returns its length; the plaintext is in d->msg. */
static size_t dir_parts(struct run *r, struct dir *d, size_t len, const size_t *hmac_off,
                        size_t nhmac)
{
    for (size_t i = 0; i < nhmac; i++) {
        dir_take(d, hmac_off[i]);
        dir_hmac(r, d);
    }
    assert_int_equal(d->have, len);
    return len;
}

/* Read one message of the given kind, its length found with wire_ctrl_msg_len. */
static size_t dir_msg(struct run *r, struct dir *d, enum wire_msg kind)
{
    bool known = false;
    long n;

    d->have = 0;
    for (;;) {
        n = wire_ctrl_msg_len(d->msg, d->have, r->e->proto, kind, &known);
        assert_true(n > 0);
        if (known) {
            break;
        }
        dir_take(d, (size_t)n);
    }
    size_t len = (size_t)n, offs[2] = {len - CRY_MAC_LEN, 0}, nh = 1;
    if (r->e->proto == WIRE_OWAMP && kind == WIRE_MSG_COMMAND &&
        d->msg[0] == WIRE_CMD_REQUEST_SESSION) {
        offs[0] = WIRE_REQUEST_HMAC_OFF;
        offs[1] = len - CRY_MAC_LEN;
        nh = 2;
    }
    return dir_parts(r, d, len, offs, nh);
}

/* A Fetch-Ack section of known length closed by one HMAC. */
static size_t dir_section(struct run *r, struct dir *d, size_t len)
{
    size_t off = len - CRY_MAC_LEN;

    d->have = 0;
    return dir_parts(r, d, len, &off, 1);
}

/* ------------------------------------------------------------ connection set-up */

static void check_greeting_and_setup(struct run *r, struct wire_greeting *g, struct wire_setup *s)
{
    const struct expect *e = r->e;

    assert_int_equal(
        wire_greeting_decode(dir_clear(&r->down, WIRE_GREETING_LEN), WIRE_GREETING_LEN, g),
        WIRE_GREETING_LEN);
    assert_int_equal(g->modes, e->modes);
    assert_int_equal(g->count, 2048);
    assert_int_equal(
        wire_setup_decode(dir_clear(&r->up, WIRE_SETUP_LEN), WIRE_SETUP_LEN, e->proto, s),
        WIRE_SETUP_LEN);
    assert_int_equal(s->mode, e->mode);
    if (!r->secure) {
        assert_true(lp_all_zero(s->keyid, sizeof(s->keyid)));
        assert_true(lp_all_zero(s->token, sizeof(s->token)));
        assert_true(lp_all_zero(s->client_iv, sizeof(s->client_iv)));
        return;
    }
    assert_memory_equal(s->keyid, "alice", 6); /* NUL-padded to 80 */
    assert_true(lp_all_zero(s->keyid + 5, sizeof(s->keyid) - 5));
}

/* Client view: K from the pass-phrase it used; the Token must echo the Challenge. Server
 * view: K from alice's real pass-phrase must open the Token unless the key was wrong. */
static void recover_keys(struct run *r, const struct wire_greeting *g, const struct wire_setup *s)
{
    uint8_t k[CRY_KEY_LEN], echo[CRY_CHALLENGE_LEN];
    struct cry_session_keys srv;
    int want = r->e->accept == 0 ? 0 : LP_E_AUTH;

    assert_int_equal(cry_kdf((const uint8_t *)r->e->pass, strlen(r->e->pass), g->salt,
                             sizeof(g->salt), g->count, k),
                     0);
    cry_token_decrypt(k, s->token, echo, &r->keys);
    assert_memory_equal(echo, g->challenge, CRY_CHALLENGE_LEN);
    assert_int_equal(cry_kdf((const uint8_t *)PASS_RIGHT, strlen(PASS_RIGHT), g->salt,
                             sizeof(g->salt), g->count, k),
                     0);
    assert_int_equal(cry_token_open(k, s->token, g->challenge, &srv), want);
    if (want == 0) {
        assert_memory_equal(&srv, &r->keys, sizeof(srv));
    }
    cry_wipe(k, sizeof(k));
}

/* Server-Start: 32 octets in clear, then Start-Time + MBZ, the first block of the server's
 * stream (MAC'd into the first Accept-Session) unless the server refused. */
static void check_server_start(struct run *r, const struct wire_setup *s)
{
    struct wire_server_start ss;
    uint8_t buf[WIRE_SERVER_START_LEN];

    memcpy(buf, dir_clear(&r->down, 32), 32);
    assert_int_equal(buf[15], r->e->accept);
    if (r->e->accept != 0) {
        memcpy(buf + 32, dir_clear(&r->down, 16), 16);
        assert_true(lp_all_zero(buf + 16, 32)); /* Server-IV and the rest zero, in clear */
    } else {
        cry_stream_init(&r->down.cs, &r->keys, buf + 16, r->secure);
        cry_stream_init(&r->up.cs, &r->keys, s->client_iv, r->secure);
        memcpy(buf + 32, dir_clear(&r->down, 16), 16);
        assert_int_equal(cry_stream_recv(&r->down.cs, buf + 32, 16), 0);
    }
    assert_int_equal(wire_server_start_decode(buf, sizeof(buf), &ss), WIRE_SERVER_START_LEN);
    assert_int_equal(ss.accept, r->e->accept);
    if (!r->secure || r->e->accept != 0) {
        assert_true(lp_all_zero(ss.server_iv, sizeof(ss.server_iv)));
    }
    /* Start-Time is the daemon's start (2026-11-27), or 0 when refused. */
    uint32_t secs = (uint32_t)(ss.start_time.raw >> 32);
    assert_true(r->e->accept != 0 ? secs == 0 : secs > 4004740000u && secs < 4004750000u);
}

/* ------------------------------------------------------------ client -> server */

static struct sess *sess_by_sid(struct run *r, const uint8_t *sid)
{
    for (size_t i = 0; i < r->nsess; i++) {
        if (memcmp(r->sess[i].sid, sid, WIRE_SID_LEN) == 0) {
            return &r->sess[i];
        }
    }
    fail_msg("%s: unknown SID", r->e->name);
    return NULL;
}

/* The session the client sent (its records are fetched and its Stop-Sessions describes it). */
static struct sess *client_sent_session(struct run *r)
{
    for (size_t i = 0; i < r->nsess; i++) {
        if (!r->sess[i].srv_sends) {
            return &r->sess[i];
        }
    }
    fail_msg("%s: no client-sent session", r->e->name);
    return NULL;
}

/* A Request-Session as the client sent it, or (stored) as the server returns it with a
 * Fetch-Ack, SID and port filled in. */
static void check_request(struct run *r, const uint8_t *msg, size_t len, struct wire_request *q,
                          bool stored)
{
    bool v6 = r->e->ipv6;

    assert_int_equal(wire_request_decode(msg, len, r->e->proto, q), WIRE_REQUEST_LEN);
    assert_int_equal(q->ipvn, v6 ? 6 : 4);
    assert_int_equal(q->typep, 0);
    int64_t timeout_ns = clk_ntp_duration_to_ns(q->timeout); /* loss timeout, about 2 s */
    assert_true(timeout_ns >= 2000000000 && timeout_ns < 2010000000);
    if (r->e->proto == WIRE_TWAMP) {
        assert_int_equal(q->padding_len, r->e->mode & (WIRE_MODE_AUTH | WIRE_MODE_ENC) ? 64 : 27);
        assert_true(lp_all_zero(q->sid, WIRE_SID_LEN));
        assert_int_equal(q->receiver_port, q->sender_port); /* README quirk */
        return;
    }
    struct wire_slot slot = {0};
    struct wire_slots slots = {.n = 1, .slot = &slot};
    assert_int_equal(q->nslots, 1);
    assert_int_equal(q->npackets, NPACKETS);
    assert_int_equal(q->padding_len, 0);
    assert_int_equal(q->conf_sender + q->conf_receiver, 1);
    assert_int_equal(wire_slots_decode(msg + WIRE_REQUEST_LEN, len - WIRE_REQUEST_LEN, &slots),
                     (int)wire_slots_len(1));
    assert_int_equal(slot.type, WIRE_SLOT_FIXED);
    assert_true(llabs(clk_ntp_duration_to_ns(slot.param) - 100000000) <= 1); /* -i 0.1f */
    if (q->conf_receiver && !stored) { /* client sends: the server picks port and SID */
        assert_true(lp_all_zero(q->sid, WIRE_SID_LEN));
        assert_int_equal(q->receiver_port, 0);
    }
}

static void check_stop(struct run *r, const uint8_t *msg, size_t len, bool from_client)
{
    struct wire_skip_range skip[4];
    struct wire_session_desc desc = {.skip = skip, .skips_cap = 4};
    struct wire_stop_sessions st = {.desc = &desc, .descs_cap = 1};

    assert_int_equal(wire_stop_sessions_decode(msg, len, r->e->proto, &st), (int)len);
    assert_int_equal(st.accept, 0);
    assert_int_equal(st.nsessions, 1);
    if (r->e->proto == WIRE_TWAMP) {
        return;
    }
    /* Each OWAMP peer describes the session it sent. */
    struct sess *s = sess_by_sid(r, desc.sid);
    assert_int_equal(s->srv_sends, !from_client);
    assert_int_equal(desc.next_seqno, NPACKETS);
    assert_int_equal(desc.nskips, 0);
}

static void walk_client(struct run *r)
{
    struct dir *d = &r->up;

    while (d->off < d->f->len) {
        size_t len = dir_msg(r, d, WIRE_MSG_COMMAND);
        uint8_t cmd = d->msg[0];
        struct wire_start_sessions start;
        struct wire_fetch_session fs;

        assert_true(r->ncmds < LP_ARRAY_LEN(r->cmds));
        r->cmds[r->ncmds++] = cmd;
        switch (cmd) {
        case WIRE_CMD_REQUEST_SESSION:
        case WIRE_CMD_REQUEST_TW_SESSION:
            assert_true(r->nreq < LP_ARRAY_LEN(r->req));
            check_request(r, d->msg, len, &r->req[r->nreq++], false);
            break;
        case WIRE_CMD_START_SESSIONS:
            assert_int_equal(wire_start_sessions_decode(d->msg, len, &start), (int)len);
            break;
        case WIRE_CMD_STOP_SESSIONS:
            assert_true(len <= sizeof(r->client_stop));
            memcpy(r->client_stop, d->msg, len);
            r->client_stop_len = len;
            break;
        case WIRE_CMD_FETCH_SESSION:
            assert_int_equal(wire_fetch_session_decode(d->msg, len, &fs), (int)len);
            assert_int_equal(fs.begin_seq, 0);
            assert_int_equal(fs.end_seq, 0xffffffffu);
            memcpy(r->fetched_sid, fs.sid, WIRE_SID_LEN);
            break;
        default: fail_msg("%s: unexpected client command %u", r->e->name, cmd);
        }
    }
}

/* ------------------------------------------------------------ server -> client */

static void read_accept(struct run *r, const struct wire_request *q)
{
    struct wire_accept_session a;
    size_t len = dir_msg(r, &r->down, WIRE_MSG_ACCEPT_SESSION);
    struct sess *s;

    assert_true(r->nsess < LP_ARRAY_LEN(r->sess));
    s = &r->sess[r->nsess++];

    assert_int_equal(wire_accept_session_decode(r->down.msg, len, r->e->proto, &a), (int)len);
    assert_int_equal(a.accept, 0);
    memcpy(s->sid, a.sid, WIRE_SID_LEN);
    s->srv_port = a.port;
    s->srv_sends = r->e->proto == WIRE_OWAMP && q->conf_sender;
    s->cli_port = s->srv_sends ? q->receiver_port : q->sender_port;
    if (s->srv_sends) {
        assert_memory_equal(a.sid, q->sid, WIRE_SID_LEN); /* the client chose it */
    }
    /* SID = receiver address (last 4 octets for IPv6) | NTP time | 4 random octets. */
    assert_int_equal(lp_load32(a.sid), r->e->ipv6 ? 1 : 0x7f000001);
    if (r->tmode != CRY_TEST_OPEN) {
        cry_test_keys_derive(&r->keys, s->sid, &s->tk);
    }
}

static void read_fetch(struct run *r)
{
    struct wire_fetch_ack fa;
    struct wire_request q;
    struct wire_skip_section sk = {0};
    struct wire_records_section rs = {.rec = r->rec};
    size_t len = dir_msg(r, &r->down, WIRE_MSG_FETCH_ACK);

    assert_int_equal(wire_fetch_ack_decode(r->down.msg, len, &fa), (int)len);
    assert_int_equal(fa.accept, 0);
    assert_int_equal(fa.finished, 1);
    assert_int_equal(fa.next_seqno, NPACKETS);
    assert_int_equal(fa.nskips, 0);
    assert_int_equal(fa.nrecords, NPACKETS);
    /* The stored Request-Session and its slots, HMACs recomputed by the server. */
    len = dir_msg(r, &r->down, WIRE_MSG_COMMAND);
    assert_int_equal(r->down.msg[0], WIRE_CMD_REQUEST_SESSION);
    check_request(r, r->down.msg, len, &q, true);
    assert_memory_equal(q.sid, r->fetched_sid, WIRE_SID_LEN);
    len = dir_section(r, &r->down, wire_fetch_skips_len(fa.nskips));
    sk.n = fa.nskips;
    assert_int_equal(wire_skip_section_decode(r->down.msg, len, &sk), (int)len);
    len = dir_section(r, &r->down, wire_fetch_records_len(fa.nrecords));
    rs.n = fa.nrecords;
    assert_int_equal(wire_records_section_decode(r->down.msg, len, &rs), (int)len);
    r->nrec = fa.nrecords;
    for (uint32_t i = 0; i < fa.nrecords; i++) {
        assert_int_equal(r->rec[i].seq, i);
        assert_int_equal(r->rec[i].ttl, 255);
        assert_int_equal(r->rec[i].send_errest, 1);
        assert_true(r->rec[i].recv_ts >= r->rec[i].send_ts);
    }
    sess_by_sid(r, r->fetched_sid)->fetched = true;
}

/* The server's messages answer the client's commands in order; an OWAMP server also sends
 * its own Stop-Sessions once the sessions end. */
static void walk_server(struct run *r)
{
    size_t nreq = 0, len;
    struct wire_start_ack sa;

    for (size_t i = 0; i < r->ncmds; i++) {
        switch (r->cmds[i]) {
        case WIRE_CMD_REQUEST_SESSION:
        case WIRE_CMD_REQUEST_TW_SESSION: read_accept(r, &r->req[nreq++]); break;
        case WIRE_CMD_START_SESSIONS:
            len = dir_msg(r, &r->down, WIRE_MSG_START_ACK);
            assert_int_equal(wire_start_ack_decode(r->down.msg, len, &sa), (int)len);
            assert_int_equal(sa.accept, 0);
            break;
        case WIRE_CMD_STOP_SESSIONS:
            if (r->e->proto == WIRE_OWAMP) {
                len = dir_msg(r, &r->down, WIRE_MSG_COMMAND);
                assert_int_equal(r->down.msg[0], WIRE_CMD_STOP_SESSIONS);
                check_stop(r, r->down.msg, len, false);
            }
            break;
        case WIRE_CMD_FETCH_SESSION: read_fetch(r); break;
        }
    }
    assert_int_equal(r->down.off, r->down.f->len); /* nothing left undecoded */
}

/* ------------------------------------------------------------ test packets */

static enum cry_test_mode test_mode_of(uint32_t mode)
{
    if (mode & WIRE_MODE_AUTH) {
        return CRY_TEST_AUTH;
    }
    return mode & WIRE_MODE_ENC ? CRY_TEST_ENC : CRY_TEST_OPEN; /* Mixed: open test */
}

/* The session and packet kind of a datagram, from the ports negotiated on the control
 * connection. */
static struct sess *classify(struct run *r, const struct udp_rec *u, enum cry_pkt_kind *kind)
{
    for (size_t i = 0; i < r->nsess; i++) {
        struct sess *s = &r->sess[i];
        bool c2s = u->sport == s->cli_port && u->dport == s->srv_port;
        bool s2c = u->sport == s->srv_port && u->dport == s->cli_port;

        if (r->e->proto == WIRE_OWAMP ? (c2s && !s->srv_sends) || (s2c && s->srv_sends)
                                      : c2s || s2c) {
            *kind = r->e->proto == WIRE_TWAMP && s2c ? CRY_PKT_REFLECTOR : CRY_PKT_SENDER;
            return s;
        }
    }
    fail_msg("%s: datagram %u -> %u belongs to no session", r->e->name, u->sport, u->dport);
    return NULL;
}

static void check_sender_pkt(struct run *r, struct sess *s, const uint8_t *pkt, size_t len)
{
    struct wire_sender_pkt p;
    size_t base = wire_test_layout(r->e->mode) ? WIRE_SENDER_AUTH_LEN : WIRE_SENDER_OPEN_LEN;

    assert_true(wire_sender_decode(pkt, len, r->e->mode, &p) >= 0);
    assert_int_equal(p.seq, s->next[0]); /* decrypted sequence numbers run 0, 1, 2, ... */
    assert_true(p.seq < NPACKETS);
    assert_int_equal(p.errest, 1);
    assert_int_equal(p.pad_len, len - base);
    s->ts[p.seq] = p.ts;
    s->next[0]++;
}

static void check_reflector_pkt(struct run *r, struct sess *s, const uint8_t *pkt, size_t len)
{
    struct wire_reflector_pkt p;

    assert_true(wire_reflector_decode(pkt, len, r->e->mode, &p) >= 0);
    assert_int_equal(p.seq, s->next[1]);
    assert_true(p.seq < s->next[0]); /* reflected after it was sent */
    assert_int_equal(p.sender_seq, p.seq);
    assert_true(p.sender_ts == s->ts[p.seq]);
    assert_int_equal(p.sender_errest, 1);
    assert_int_equal(p.sender_ttl, 255);
    assert_int_equal(p.errest, 1);
    assert_true(p.recv_ts >= p.sender_ts && p.ts >= p.recv_ts);
    s->next[1]++;
}

static void check_udp(struct run *r, const struct udp_rec *u)
{
    enum cry_pkt_kind kind = CRY_PKT_SENDER;
    struct sess *s = classify(r, u, &kind);
    uint8_t pkt[sizeof(u->data)];

    assert_int_equal(u->len, r->e->udp_len);
    assert_int_equal(u->ttl, 255);
    assert_int_equal(u->tos, 0);
    memcpy(pkt, u->data, u->len);
    if (r->tmode != CRY_TEST_OPEN) {
        assert_int_equal(cry_test_open(&s->tk, r->tmode, kind, pkt, u->len), 0);
        r->test_hmacs++;
    }
    if (kind == CRY_PKT_SENDER) {
        check_sender_pkt(r, s, pkt, u->len);
    } else {
        check_reflector_pkt(r, s, pkt, u->len);
    }
}

static int cmp_port(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Every session got all its packets; ports match the README; fetched records match what
 * went over the wire. */
static void check_sessions(struct run *r)
{
    uint16_t srv[2] = {0}, cli[2] = {0};
    size_t n = r->nsess;

    assert_int_equal(n, r->e->proto == WIRE_OWAMP ? 2 : 1);
    for (size_t i = 0; i < n; i++) {
        struct sess *s = &r->sess[i];

        srv[i] = s->srv_port;
        cli[i] = s->cli_port;
        assert_int_equal(s->next[0], NPACKETS);
        assert_int_equal(s->next[1], r->e->proto == WIRE_TWAMP ? NPACKETS : 0);
        if (s->fetched) {
            assert_int_equal(r->nrec, NPACKETS);
            for (size_t k = 0; k < r->nrec; k++) {
                assert_true(r->rec[k].send_ts == s->ts[k]);
            }
        }
    }
    qsort(srv, n, sizeof(srv[0]), cmp_port);
    qsort(cli, n, sizeof(cli[0]), cmp_port);
    assert_memory_equal(srv, r->e->srv_test, sizeof(srv));
    assert_memory_equal(cli, r->e->cli_test, sizeof(cli));
    if (r->e->proto == WIRE_OWAMP) { /* the client fetched what it sent */
        assert_true(client_sent_session(r)->fetched);
    }
}

/* ------------------------------------------------------------ one capture */

static void check_capture_shape(struct run *r)
{
    const struct expect *e = r->e;
    const struct capture *c = &r->cap;

    assert_int_equal(c->n_frames, e->frames);
    assert_int_equal(c->n_tcp, e->tcp_frames);
    assert_int_equal(c->n_udp, e->udp_frames);
    assert_int_equal(c->ipv6, e->ipv6);
    assert_int_equal(c->srv_port, e->srv_port);
    assert_int_equal(c->cli_port, e->cli_port);
    assert_int_equal(c->c2s.len, e->c2s_bytes);
    assert_int_equal(c->s2c.len, e->s2c_bytes);
}

static void run_capture(struct run *r)
{
    struct wire_greeting g;
    struct wire_setup s;

    r->up.f = &r->cap.c2s;
    r->down.f = &r->cap.s2c;
    check_greeting_and_setup(r, &g, &s);
    if (r->secure) {
        recover_keys(r, &g, &s);
    }
    check_server_start(r, &s);
    if (r->e->accept != 0) { /* refused: nothing follows */
        assert_int_equal(r->up.off, r->up.f->len);
        assert_int_equal(r->down.off, r->down.f->len);
        return;
    }
    walk_client(r);
    walk_server(r);
    if (r->e->proto == WIRE_OWAMP) {
        assert_true(r->client_stop_len > 0);
        check_stop(r, r->client_stop, r->client_stop_len, true);
        assert_memory_equal(r->fetched_sid, client_sent_session(r)->sid, WIRE_SID_LEN);
    }
    for (size_t i = 0; i < r->cap.n_udp; i++) {
        check_udp(r, &r->cap.udp[i]);
    }
    check_sessions(r);
}

static void test_capture(void **state)
{
    const struct expect *e = *state;
    const char *dir = interop_dir();
    char path[PATH_MAX];
    struct run *r = calloc(1, sizeof(*r));

    if (dir == NULL) {
        fail_msg("interop captures not found (set SHARED or run from the repo root)");
    }
    assert_non_null(r);
    r->e = e;
    r->secure = e->mode != WIRE_MODE_OPEN;
    r->tmode = test_mode_of(e->mode);
    assert_true(snprintf(path, sizeof(path), "%s/%s.pcap", dir, e->name) < (int)sizeof(path));
    if (capture_load(path, &r->cap) < 0) {
        fail_msg("%s: %s", path, r->cap.err);
    }
    check_capture_shape(r);
    run_capture(r);
    /* Exact counts, from the .decoded.txt files: any HMAC that did not verify failed above,
     * and any that was skipped shows here. */
    assert_int_equal(r->ctrl_hmacs, e->ctrl_hmacs);
    assert_int_equal(r->ctrl_zero, e->ctrl_zero);
    assert_int_equal(r->test_hmacs, e->test_hmacs);
    print_message("# %s: %d control HMACs verified, %d zero (open), %d test-packet HMACs "
                  "verified, %zu datagrams decoded\n",
                  e->name, r->ctrl_hmacs, r->ctrl_zero, r->test_hmacs, r->cap.n_udp);
    for (size_t i = 0; i < r->nsess; i++) {
        cry_test_keys_wipe(&r->sess[i].tk);
    }
    cry_stream_wipe(&r->up.cs);
    cry_stream_wipe(&r->down.cs);
    capture_free(&r->cap);
    free(r);
}

/* Every capture in the folder has an entry above, so none is silently left out. */
static void test_every_capture_listed(void **state)
{
    const char *dir = interop_dir();
    struct dirent *de;
    size_t seen = 0;

    (void)state;
    if (dir == NULL) {
        fail_msg("interop captures not found (set SHARED or run from the repo root)");
    }
    DIR *d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        bool listed = false;

        if (n < 5 || strcmp(de->d_name + n - 5, ".pcap") != 0) {
            continue;
        }
        for (size_t i = 0; i < LP_ARRAY_LEN(expects); i++) {
            listed |= strlen(expects[i].name) == n - 5 &&
                      strncmp(expects[i].name, de->d_name, n - 5) == 0;
        }
        if (!listed) {
            closedir(d);
            fail_msg("%s/%s has no expectations in test_interop.c", dir, de->d_name);
        }
        seen++;
    }
    closedir(d);
    assert_int_equal(seen, LP_ARRAY_LEN(expects));
}

int main(void)
{
    struct CMUnitTest tests[LP_ARRAY_LEN(expects) + 1];

    if (cry_init() < 0) {
        return 1;
    }
    tests[0] =
        (struct CMUnitTest){.name = "every_capture_listed", .test_func = test_every_capture_listed};
    for (size_t i = 0; i < LP_ARRAY_LEN(expects); i++) {
        tests[i + 1] = (struct CMUnitTest){.name = expects[i].name,
                                           .test_func = test_capture,
                                           .initial_state = (void *)(uintptr_t)&expects[i]};
    }
    return _cmocka_run_group_tests("interop", tests, LP_ARRAY_LEN(tests), NULL, NULL);
}
