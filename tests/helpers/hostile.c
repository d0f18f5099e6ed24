/* hostile.c - a raw OWAMP/TWAMP-Control client for the hostile-input tests: it does a real
 * handshake (open, authenticated, encrypted or mixed mode) with libprotocol's wire and crypto
 * modules, then sends one crafted message (truncated, oversized counts, bad MBZ, unknown
 * command, wrong HMAC, replayed, stalled...) and reports what the daemon did.
 *
 *   hostile -p owamp|twamp -a HOST:PORT [-m O|A|E|M] [-M MODE] [-s] [-e] [-u ID -k PFS]
 *           [-w SECONDS] [-o SECONDS] [-L MS] CASE[:ARG]
 *
 * Output: "local ADDR:PORT" (the address the daemon logs for us), then one line "result
 * WORD...", where the words are, in order: "setup-refused N" (Server-Start Accept N),
 * "setup-ok", "accept N" (Accept-Session), "start-ack N", "n-ack N" (Start-N/Stop-N-Ack),
 * "reply N" (N other octets), "closed" (the daemon closed the connection), "open" (still
 * open after the wait), "late:Nms" (the reply before it took N > -L ms). An identity
 * missing from PFS gets a random pass-phrase. Exit 0 unless the helper itself failed (2).
 * Run without arguments for the list of cases. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "crypto.h"
#include "wire.h"

#define MAX_SLOTS 2048u /* slots this helper can send in one request */
#define MAX_MSG (WIRE_REQUEST_LEN + MAX_SLOTS * WIRE_SLOT_LEN + WIRE_HMAC_LEN)

struct hc {
    int fd;
    enum wire_proto proto;
    uint32_t mode;
    const char *identity;
    uint8_t pass[256];
    size_t passlen;
    int wait_ms;       /* bound on every wait for a reply or a close */
    int settle_ms;     /* after a reply: how long to watch for a close */
    int late_ms;       /* replies slower than this add "late:Nms" (0: no check) */
    bool daemon_sends; /* OWAMP requests: Conf-Sender 1 (the daemon sends) */
    bool exp_slots;    /* OWAMP requests: exponential slots instead of fixed */
    bool secure;
    struct cry_session_keys keys;
    struct cry_stream tx, rx;
    char result[512];
};

/* Append a word to the result line. */
static void say(struct hc *h, const char *word)
{
    size_t n = strlen(h->result);
    snprintf(h->result + n, sizeof(h->result) - n, "%s%s", n ? " " : "", word);
}

/* Append "word value". */
static void say_num(struct hc *h, const char *word, unsigned long v)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s %lu", word, v);
    say(h, buf);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read exactly n octets within timeout_ms: n, 0 when the peer closed, -1 on timeout. */
static long recv_all(struct hc *h, uint8_t *buf, size_t n, int timeout_ms)
{
    size_t got = 0;
    int64_t end = now_ms() + timeout_ms;
    while (got < n) {
        struct pollfd p = {.fd = h->fd, .events = POLLIN};
        int left = (int)(end - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            return -1;
        }
        ssize_t r = recv(h->fd, buf + got, n - got, 0);
        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
            return 0;
        }
        got += r > 0 ? (size_t)r : 0;
    }
    return (long)n;
}

static int send_all(struct hc *h, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(h->fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -1; /* the daemon is gone: what it did is read afterwards */
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Wait up to wait_ms for the daemon to close; octets it sends meanwhile are reported as
 * "reply N". */
static void await_close(struct hc *h, int wait_ms)
{
    uint8_t buf[4096];
    size_t extra = 0;
    int64_t end = now_ms() + wait_ms;
    const char *state = "open";
    for (;;) {
        struct pollfd p = {.fd = h->fd, .events = POLLIN};
        int left = (int)(end - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            break;
        }
        ssize_t r = recv(h->fd, buf, sizeof(buf), 0);
        if (r <= 0) {
            state = "closed";
            break;
        }
        extra += (size_t)r;
    }
    if (extra) {
        say_num(h, "reply", extra);
    }
    say(h, state);
}

/* ------------------------------------------------------------------ set-up */

/* A Set-Up-Response for the greeting g in h->mode (token and IV when secure). */
static int build_setup(struct hc *h, const struct wire_greeting *g, uint8_t out[WIRE_SETUP_LEN])
{
    struct wire_setup s = {.mode = h->mode};
    h->secure = (h->mode & WIRE_MODE_SECURITY) != WIRE_MODE_OPEN;
    if (h->secure) {
        uint8_t k[CRY_KEY_LEN];
        snprintf((char *)s.keyid, sizeof(s.keyid), "%s", h->identity ? h->identity : "");
        if (cry_kdf(h->pass, h->passlen, g->salt, sizeof(g->salt), g->count, k) < 0) {
            return -1;
        }
        cry_session_keys_generate(&h->keys);
        cry_token_encrypt(k, g->challenge, &h->keys, s.token);
        cry_wipe(k, sizeof(k));
        cry_random(s.client_iv, sizeof(s.client_iv));
    }
    /* encode a valid mode, then put the requested one (possibly invalid) in place */
    uint32_t mode = s.mode;
    s.mode = WIRE_MODE_OPEN;
    if (wire_setup_encode(&s, h->proto, out, WIRE_SETUP_LEN) < 0) {
        return -1;
    }
    lp_store32(out, mode);
    cry_stream_init(&h->tx, &h->keys, s.client_iv, h->secure);
    return 0;
}

/* Read the greeting and send the first cut octets of the Set-Up-Response. */
static int send_setup(struct hc *h, size_t cut)
{
    uint8_t buf[WIRE_SETUP_LEN];
    struct wire_greeting g;
    if (recv_all(h, buf, WIRE_GREETING_LEN, 5000) != WIRE_GREETING_LEN ||
        wire_greeting_decode(buf, WIRE_GREETING_LEN, &g) < 0 || build_setup(h, &g, buf) < 0) {
        fprintf(stderr, "hostile: no usable Server-Greeting\n");
        return -1;
    }
    return send_all(h, buf, cut < WIRE_SETUP_LEN ? cut : WIRE_SETUP_LEN);
}

/* Read Server-Start: its Accept (0: the streams are running), or -1 when closed. */
static int read_server_start(struct hc *h)
{
    uint8_t ss[WIRE_SERVER_START_LEN];
    if (recv_all(h, ss, sizeof(ss), 5000) != (long)sizeof(ss)) {
        return -1;
    }
    if (ss[15] == WIRE_ACCEPT_OK) {
        cry_stream_init(&h->rx, &h->keys, ss + 16, h->secure);
        cry_stream_recv(&h->rx, ss + 32, CRY_BLOCK_LEN);
    }
    return ss[15];
}

/* Full handshake; 0 when accepted, else the result says why. */
static int handshake(struct hc *h)
{
    if (send_setup(h, WIRE_SETUP_LEN) < 0) {
        return -1;
    }
    int accept = read_server_start(h);
    if (accept != 0) {
        if (accept > 0) {
            say_num(h, "setup-refused", (unsigned)accept);
        }
        await_close(h, h->wait_ms);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- messages */

/* Seal a message (its last block is the HMAC) in place. */
static void seal(struct hc *h, uint8_t *msg, size_t len)
{
    cry_stream_seal_msg(&h->tx, msg, len);
}

/* A valid Request-Session for a session starting in 10 s between 127.0.0.1 and 127.0.0.1
 * (OWAMP: 10 packets, nslots <= MAX_SLOTS slots of 10 ms), then at most one field patched at
 * plaintext offset off (width octets of value), sealed into buf (MAX_MSG octets). Returns
 * its length. */
static size_t build_request(struct hc *h, uint32_t nslots, long off, int width, uint32_t value,
                            uint8_t *buf)
{
    static struct wire_slot sl[MAX_SLOTS];
    bool ow = h->proto == WIRE_OWAMP;
    struct wire_request r = {.ipvn = 4,
                             .sender_port = 9,
                             .receiver_port = 9,
                             .timeout = clk_ns_to_ntp_duration(2000000000)};
    r.start_time = clk_to_ntp((struct clk_time){clk_now().ns + 10000000000LL});
    r.nslots = ow ? nslots : 0;
    r.npackets = ow ? 10 : 0;
    r.conf_receiver = ow && !h->daemon_sends;
    r.conf_sender = ow && h->daemon_sends;
    const uint8_t lo[4] = {127, 0, 0, 1};
    memcpy(r.sender_addr, lo, 4);
    memcpy(r.receiver_addr, lo, 4);
    wire_request_encode(&r, h->proto, buf, WIRE_REQUEST_LEN);
    size_t len = WIRE_REQUEST_LEN;
    if (ow) {
        for (uint32_t i = 0; i < nslots; i++) {
            sl[i] = (struct wire_slot){h->exp_slots ? WIRE_SLOT_EXP : WIRE_SLOT_FIXED,
                                       clk_ns_to_ntp_duration(10000000)};
        }
        struct wire_slots s = {.n = nslots, .slot = sl};
        len += (size_t)wire_slots_encode(&s, buf + len, wire_slots_len(nslots));
    }
    for (int i = 0; off >= 0 && i < width; i++) {
        buf[off + i] = (uint8_t)(value >> (8 * (width - 1 - i)));
    }
    seal(h, buf, WIRE_REQUEST_LEN);
    if (len > WIRE_REQUEST_LEN) {
        seal(h, buf + WIRE_REQUEST_LEN, len - WIRE_REQUEST_LEN);
    }
    return len;
}

/* Read one reply of len octets whose Accept is at accept_off; report it as "word N". */
static int read_reply(struct hc *h, size_t len, size_t accept_off, const char *word)
{
    uint8_t buf[2048];
    int64_t t0 = now_ms();
    long n = len <= sizeof(buf) ? recv_all(h, buf, len, h->wait_ms) : -1;
    int64_t ms = now_ms() - t0;
    fprintf(stderr, "hostile: %s after %lld ms\n", word, (long long)ms);
    if (n <= 0) {
        say(h, n == 0 ? "closed" : "open");
        return -1;
    }
    if (cry_stream_open_msg(&h->rx, buf, len) < 0) {
        say(h, "reply-bad-hmac");
        return -1;
    }
    say_num(h, word, buf[accept_off]);
    if (h->late_ms > 0 && ms > h->late_ms) {
        char late[48];
        snprintf(late, sizeof(late), "late:%lldms", (long long)ms);
        say(h, late);
    }
    return buf[accept_off];
}

/* A 32-octet (or longer) command message with cmd, count at count_off, sealed. */
static size_t build_cmd(struct hc *h, uint8_t cmd, long count_off, uint32_t count, size_t len,
                        uint8_t *buf)
{
    memset(buf, 0, len);
    buf[0] = cmd;
    if (count_off >= 0) {
        lp_store32(buf + count_off, count);
    }
    seal(h, buf, len);
    return len;
}

/* ------------------------------------------------------------------- cases */

/* setup-cut:N: N octets of the Set-Up-Response, then half-close. */
static int case_setup_cut(struct hc *h, long arg)
{
    if (send_setup(h, (size_t)arg) < 0) {
        return -1;
    }
    shutdown(h->fd, SHUT_WR);
    await_close(h, h->wait_ms);
    return 0;
}

/* setup-stall:N: N octets of the Set-Up-Response, then silence. */
static int case_setup_stall(struct hc *h, long arg)
{
    if (send_setup(h, (size_t)arg) < 0) {
        return -1;
    }
    await_close(h, h->wait_ms);
    return 0;
}

/* setup: plain handshake (mode, identity and pass-phrase from the options). */
static int case_setup(struct hc *h, long arg)
{
    (void)arg;
    if (handshake(h) == 0) {
        say(h, "setup-ok");
        await_close(h, h->settle_ms);
    }
    return 0;
}

/* after-close: a refused set-up, then a request-sized burst anyway. */
static int case_after_close(struct hc *h, long arg)
{
    uint8_t junk[WIRE_REQUEST_LEN + 32];
    (void)arg;
    if (send_setup(h, WIRE_SETUP_LEN) < 0) {
        return -1;
    }
    int accept = read_server_start(h);
    if (accept >= 0) {
        say_num(h, accept ? "setup-refused" : "setup-ok", (unsigned)accept);
    }
    memset(junk, 0, sizeof(junk));
    junk[0] = h->proto == WIRE_OWAMP ? WIRE_CMD_REQUEST_SESSION : WIRE_CMD_REQUEST_TW_SESSION;
    send_all(h, junk, sizeof(junk));
    await_close(h, h->wait_ms);
    return 0;
}

/* req-cut:N: the first N octets of a sealed Request-Session, then half-close. req-stall:N
 * the same without the half-close. */
static int req_partial(struct hc *h, long arg, bool half_close)
{
    uint8_t buf[MAX_MSG];
    if (handshake(h) < 0) {
        return 0;
    }
    size_t len = build_request(h, 1, -1, 0, 0, buf);
    send_all(h, buf, (size_t)arg < len ? (size_t)arg : len);
    if (half_close) {
        shutdown(h->fd, SHUT_WR);
    }
    await_close(h, h->wait_ms);
    return 0;
}

static int case_req_cut(struct hc *h, long arg)
{
    return req_partial(h, arg, true);
}

static int case_req_stall(struct hc *h, long arg)
{
    return req_partial(h, arg, false);
}

/* req:N: N valid Request-Sessions in a row, each answer reported. */
static int case_req(struct hc *h, long arg)
{
    uint8_t buf[MAX_MSG];
    if (handshake(h) < 0) {
        return 0;
    }
    for (long i = 0; i < (arg > 0 ? arg : 1); i++) {
        send_all(h, buf, build_request(h, 1, -1, 0, 0, buf));
        if (read_reply(h, WIRE_ACCEPT_SESSION_LEN, 0, "accept") < 0) {
            return 0;
        }
    }
    await_close(h, h->settle_ms);
    return 0;
}

/* req-set:OFF:WIDTH:VALUE (parsed by the caller into off/width/value): one request with a
 * patched field, sealed with a valid HMAC. */
static int req_patched(struct hc *h, long off, int width, uint32_t value, uint32_t nslots)
{
    uint8_t buf[MAX_MSG];
    if (handshake(h) < 0) {
        return 0;
    }
    send_all(h, buf, build_request(h, nslots, off, width, value, buf));
    if (read_reply(h, WIRE_ACCEPT_SESSION_LEN, 0, "accept") >= 0) {
        await_close(h, h->settle_ms);
    }
    return 0;
}

/* req-slots:N: an OWAMP request really carrying N slots. */
static int case_req_slots(struct hc *h, long arg)
{
    if (arg < 1 || arg > (long)MAX_SLOTS) {
        fprintf(stderr, "hostile: req-slots takes 1 to %u\n", MAX_SLOTS);
        return -1;
    }
    return req_patched(h, -1, 0, 0, (uint32_t)arg);
}

/* bad-hmac: a request whose HMAC block has one bit flipped on the wire. */
static int case_bad_hmac(struct hc *h, long arg)
{
    uint8_t buf[MAX_MSG];
    (void)arg;
    if (handshake(h) < 0) {
        return 0;
    }
    build_request(h, 1, -1, 0, 0, buf);
    buf[WIRE_REQUEST_HMAC_OFF + 5] ^= 0x10;
    send_all(h, buf, h->proto == WIRE_OWAMP ? WIRE_REQUEST_LEN + 32 : WIRE_REQUEST_LEN);
    await_close(h, h->wait_ms);
    return 0;
}

/* replay: a valid request, answered; then the very same ciphertext again. */
static int case_replay(struct hc *h, long arg)
{
    uint8_t buf[MAX_MSG];
    (void)arg;
    if (handshake(h) < 0) {
        return 0;
    }
    size_t len = build_request(h, 1, -1, 0, 0, buf);
    send_all(h, buf, len);
    if (read_reply(h, WIRE_ACCEPT_SESSION_LEN, 0, "accept") < 0) {
        return 0;
    }
    send_all(h, buf, len);
    await_close(h, h->wait_ms);
    return 0;
}

/* cmd:N: a 32-octet message with command number N (MBZ zero, HMAC valid). */
static int case_cmd(struct hc *h, long arg)
{
    uint8_t buf[32];
    if (handshake(h) < 0) {
        return 0;
    }
    send_all(h, buf, build_cmd(h, (uint8_t)arg, -1, 0, sizeof(buf), buf));
    await_close(h, h->wait_ms);
    return 0;
}

/* start-mbz:N: Start-Sessions with MBZ octet N (1-15) set to 0xff. */
static int case_start_mbz(struct hc *h, long arg)
{
    uint8_t buf[32];
    if (handshake(h) < 0) {
        return 0;
    }
    memset(buf, 0, sizeof(buf));
    buf[0] = WIRE_CMD_START_SESSIONS;
    buf[arg > 0 && arg < 16 ? arg : 1] = 0xff;
    seal(h, buf, sizeof(buf));
    send_all(h, buf, sizeof(buf));
    if (read_reply(h, WIRE_START_ACK_LEN, 0, "start-ack") >= 0) {
        await_close(h, h->settle_ms);
    }
    return 0;
}

/* stop-count:N: Stop-Sessions (32 octets) claiming N session descriptions. */
static int case_stop_count(struct hc *h, long arg)
{
    uint8_t buf[32];
    if (handshake(h) < 0) {
        return 0;
    }
    send_all(h, buf, build_cmd(h, WIRE_CMD_STOP_SESSIONS, 4, (uint32_t)arg, sizeof(buf), buf));
    await_close(h, h->wait_ms);
    return 0;
}

/* startn:N: Start-N-Sessions claiming N SIDs; the SIDs (random) are sent when N <= 4096,
 * else only the 32-octet header and HMAC. */
static int case_startn(struct hc *h, long arg)
{
    static uint8_t buf[16 + 4096 * WIRE_SID_LEN + WIRE_HMAC_LEN];
    uint32_t n = (uint32_t)arg;
    size_t len = n <= 4096 ? wire_nsessions_len(n) : 32;
    if (handshake(h) < 0) {
        return 0;
    }
    memset(buf, 0, len);
    buf[0] = WIRE_CMD_START_N_SESSIONS;
    lp_store32(buf + 12, n);
    if (len > 32) {
        cry_random(buf + 16, len - 32);
    }
    seal(h, buf, len);
    send_all(h, buf, len);
    if (n <= 64) {
        if (read_reply(h, wire_nsessions_len(n), 1, "n-ack") >= 0) {
            await_close(h, h->settle_ms);
        }
        return 0;
    }
    await_close(h, h->wait_ms);
    return 0;
}

/* Read one sealed message (or section) of len octets into buf (MAX_MSG); -1 when it did not
 * come whole or its HMAC is wrong (said in the result). */
static int read_msg(struct hc *h, uint8_t *buf, size_t len, const char *what)
{
    long n = len <= MAX_MSG ? recv_all(h, buf, len, h->wait_ms) : -1;
    if (n != (long)len) {
        say(h, what);
        say(h, n == 0 ? "closed" : "open");
        return -1;
    }
    if (cry_stream_open_msg(&h->rx, buf, len) < 0) {
        say(h, what);
        say(h, "reply-bad-hmac");
        return -1;
    }
    return 0;
}

/* One OWAMP round on the connection, as powstream runs them: Request-Session (the daemon
 * receives), Start-Sessions, Stop-Sessions, the daemon's Stop-Sessions, Fetch-Session and its
 * whole reply. 0, or -1 with the failing step said. */
static int one_round(struct hc *h)
{
    static uint8_t buf[MAX_MSG];
    struct wire_accept_session acc = {.accept = WIRE_ACCEPT_FAILURE};
    struct wire_fetch_ack fa = {.accept = WIRE_ACCEPT_FAILURE};
    send_all(h, buf, build_request(h, 1, -1, 0, 0, buf));
    if (read_msg(h, buf, WIRE_ACCEPT_SESSION_LEN, "accept") < 0) {
        return -1;
    }
    if (wire_accept_session_decode(buf, WIRE_ACCEPT_SESSION_LEN, h->proto, &acc) < 0 ||
        acc.accept != WIRE_ACCEPT_OK) {
        say_num(h, "accept", acc.accept);
        return -1;
    }
    send_all(h, buf, build_cmd(h, WIRE_CMD_START_SESSIONS, -1, 0, 32, buf));
    if (read_msg(h, buf, WIRE_START_ACK_LEN, "start-ack") < 0) {
        return -1;
    }
    if (buf[0] != WIRE_ACCEPT_OK) {
        say_num(h, "start-ack", buf[0]);
        return -1;
    }
    send_all(h, buf, build_cmd(h, WIRE_CMD_STOP_SESSIONS, 4, 0, 32, buf));
    if (read_msg(h, buf, 32, "stop") < 0 || buf[0] != WIRE_CMD_STOP_SESSIONS) {
        return -1;
    }
    struct wire_fetch_session f = {.begin_seq = 0, .end_seq = 0xFFFFFFFFu};
    memcpy(f.sid, acc.sid, WIRE_SID_LEN);
    wire_fetch_session_encode(&f, buf, WIRE_FETCH_SESSION_LEN);
    seal(h, buf, WIRE_FETCH_SESSION_LEN);
    send_all(h, buf, WIRE_FETCH_SESSION_LEN);
    if (read_msg(h, buf, WIRE_FETCH_ACK_LEN, "fetch-ack") < 0) {
        return -1;
    }
    if (wire_fetch_ack_decode(buf, WIRE_FETCH_ACK_LEN, &fa) < 0 || fa.accept != WIRE_ACCEPT_OK) {
        say_num(h, "fetch-ack", fa.accept);
        return -1;
    }
    if (read_msg(h, buf, WIRE_REQUEST_LEN, "fetch-request") < 0 ||
        read_msg(h, buf, wire_slots_len(1), "fetch-slots") < 0 ||
        read_msg(h, buf, wire_fetch_skips_len(fa.nskips), "fetch-skips") < 0 ||
        read_msg(h, buf, wire_fetch_records_len(fa.nrecords), "fetch-records") < 0) {
        return -1;
    }
    return 0;
}

/* rounds:N: N rounds on one connection; "rounds N" when all went through. */
static int case_rounds(struct hc *h, long arg)
{
    if (handshake(h) < 0) {
        return 0;
    }
    long i = 0;
    while (i < arg && one_round(h) == 0) {
        i++;
    }
    say_num(h, "rounds", (unsigned long)i);
    return 0;
}

struct hcase {
    const char *name;
    int (*run)(struct hc *h, long arg);
    const char *help;
};

static const struct hcase cases[] = {
    {"setup-cut", case_setup_cut, "N: N octets of Set-Up-Response, half-close"},
    {"setup-stall", case_setup_stall, "N: N octets of Set-Up-Response, then wait"},
    {"setup", case_setup, "a plain handshake (-m, -u, -k; -M forces the Mode word)"},
    {"after-close", case_after_close, "refused set-up (use -u unknown), then more octets"},
    {"req", case_req, "N: N valid Request-Sessions"},
    {"req-cut", case_req_cut, "N: first N octets of a Request-Session, half-close"},
    {"req-stall", case_req_stall, "N: first N octets of a Request-Session, then wait"},
    {"req-slots", case_req_slots, "N: OWAMP request carrying N slots"},
    {"req-set", NULL, "OFF:WIDTH:VALUE: request with a patched plaintext field"},
    {"bad-hmac", case_bad_hmac, "request with one HMAC bit flipped"},
    {"replay", case_replay, "valid request, then its ciphertext again"},
    {"cmd", case_cmd, "N: 32-octet message with command number N"},
    {"start-mbz", case_start_mbz, "N: Start-Sessions with MBZ octet N set"},
    {"stop-count", case_stop_count, "N: Stop-Sessions claiming N sessions"},
    {"startn", case_startn, "N: Start-N-Sessions claiming N SIDs"},
    {"rounds", case_rounds, "N: N rounds of request, start, stop, fetch on one connection"},
};

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
    fprintf(stderr, "usage: hostile -p owamp|twamp -a HOST:PORT [-m O|A|E|M] [-M HEX] "
                    "[-s] [-e] [-u ID -k PFS] [-w SECONDS] [-o SECONDS] [-L MS] CASE[:ARG]\n"
                    "  -s: OWAMP requests ask the daemon to send (default: to receive)\n"
                    "  -e: exponential schedule slots (default: fixed 10 ms)\n"
                    "  -w: longest wait for a reply or a close (default 3 s)\n"
                    "  -o: after a reply, how long to watch for a close (default 0.3 s)\n"
                    "  -L: replies slower than MS add the word \"late:Nms\"\ncases:\n");
    for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++) {
        fprintf(stderr, "  %-12s %s\n", cases[i].name, cases[i].help);
    }
    exit(2);
}

static int connect_to(struct hc *h, const char *target)
{
    char host[256], port[32];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (addr_split(target, host, sizeof(host), port, sizeof(port), "861") < 0 ||
        getaddrinfo(host, port, &hints, &res) != 0) {
        return -1;
    }
    h->fd = socket(res->ai_family, SOCK_STREAM, 0);
    int rc = h->fd < 0 ? -1 : connect(h->fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char lhost[64] = "?", lport[16] = "?";
    if (rc == 0 && getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0) {
        getnameinfo((struct sockaddr *)&ss, sl, lhost, sizeof(lhost), lport, sizeof(lport),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        printf("local %s:%s\n", lhost, lport);
        fflush(stdout);
    }
    return rc;
}

/* Identity's pass-phrase from the file, or a random one when it is not there. */
static void load_pass(struct hc *h, const char *pfs)
{
    struct conf_keys k;
    char err[256];
    int n = -1;
    conf_keys_init(&k);
    if (pfs && h->identity && conf_keys_load_file(&k, pfs, err, sizeof(err)) == 0) {
        n = conf_keys_lookup(&k, h->identity, h->pass, sizeof(h->pass));
    }
    conf_keys_free(&k);
    if (n < 0) {
        cry_random(h->pass, 16);
        n = 16;
    }
    h->passlen = (size_t)n;
}

static uint32_t mode_of(const char *m)
{
    switch (m[0]) {
    case 'A': return WIRE_MODE_AUTH;
    case 'E': return WIRE_MODE_ENC;
    case 'M': return WIRE_MODE_MIXED;
    default: return WIRE_MODE_OPEN;
    }
}

/* Run the named case; req-set takes three numbers. */
static int run_case(struct hc *h, const char *spec)
{
    char name[32];
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    snprintf(name, sizeof(name), "%.*s", (int)nl, spec);
    if (strcmp(name, "req-set") == 0) {
        unsigned long off = 0, width = 0;
        long value = 0;
        if (!colon || sscanf(colon + 1, "%lu:%lu:%li", &off, &width, &value) != 3 || width < 1 ||
            width > 4 || off + width > WIRE_REQUEST_HMAC_OFF) {
            usage();
        }
        return req_patched(h, (long)off, (int)width, (uint32_t)value, 1);
    }
    for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++) {
        if (cases[i].run && strcmp(cases[i].name, name) == 0) {
            return cases[i].run(h, colon ? strtol(colon + 1, NULL, 0) : 0);
        }
    }
    usage();
}

int main(int argc, char **argv)
{
    static struct hc h;
    const char *target = NULL, *pfs = NULL, *mode_word = NULL;
    int c;
    h.proto = WIRE_OWAMP;
    h.mode = WIRE_MODE_OPEN;
    h.wait_ms = 3000;
    h.settle_ms = 300;
    while ((c = getopt(argc, argv, "a:ek:L:m:M:o:p:su:w:")) != -1) {
        switch (c) {
        case 'a': target = optarg; break;
        case 'e': h.exp_slots = true; break;
        case 'k': pfs = optarg; break;
        case 'L': h.late_ms = atoi(optarg); break;
        case 'm': h.mode = mode_of(optarg); break;
        case 'M': mode_word = optarg; break;
        case 'o': h.settle_ms = (int)(atof(optarg) * 1000); break;
        case 'p': h.proto = strcmp(optarg, "twamp") == 0 ? WIRE_TWAMP : WIRE_OWAMP; break;
        case 's': h.daemon_sends = true; break;
        case 'u': h.identity = optarg; break;
        case 'w': h.wait_ms = (int)(atof(optarg) * 1000); break;
        default: usage();
        }
    }
    if (!target || optind != argc - 1 || cry_init() < 0) {
        usage();
    }
    load_pass(&h, pfs);
    if (connect_to(&h, target) < 0) {
        fprintf(stderr, "hostile: cannot connect to %s: %s\n", target, strerror(errno));
        return 2;
    }
    if (mode_word) {
        h.mode = (uint32_t)strtoul(mode_word, NULL, 0);
    }
    int rc = run_case(&h, argv[optind]);
    printf("result %s\n", h.result[0] ? h.result : "nothing");
    close(h.fd);
    cry_wipe(&h, sizeof(h));
    return rc < 0 ? 2 : 0;
}
