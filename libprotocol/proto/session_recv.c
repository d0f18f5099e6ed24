/* session_recv.c - the receiving roles of a test session: the OWAMP receiver (records, and
 * a packet logged lost as soon as its loss timeout has passed), the TWAMP reflector (a reply
 * to every packet of the session), the TWAMP / STAMP sender's replies; and when every packet
 * is accounted for. */
#include "session_int.h"

#include <stdlib.h>
#include <string.h>

#include "sched.h"

/* ----------------------------------------------------------------- receivers */

static void log_ow(struct sess *s, const struct sock_rxbuf *b)
{
    struct wire_sender_pkt p;
    if (cry_test_open(&s->tkeys, s->cmode, CRY_PKT_SENDER, b->data, b->len) < 0) {
        s->cnt.bad_hmac++;
        return;
    }
    if (wire_sender_decode(b->data, b->len, s->layout_mode, &p) < 0 || p.seq >= s->cfg.npackets) {
        s->cnt.malformed++;
        return;
    }
    struct met_owrec r = {.seq = p.seq,
                          .send = sess_wire_time(p.ts, p.errest, s->x->errest.tai_ns),
                          .send_wire = p.ts,
                          .recv = b->info.ts,
                          .send_err = p.errest,
                          .recv_err = sess_errest_get(&s->x->errest, b->info.ts),
                          .ttl = sess_ttl_octet(b->info.ttl, 255),
                          .recv_src = (uint8_t)b->info.src};
    if (!sess_rec_log(s, &r)) {
        return;
    }
    sess_mark_seen(s, p.seq);
    s->cnt.received++;
    s->cnt.src_count[b->info.src & 3]++;
}

/* Build the reply to one TWAMP-Test packet of the negotiated session into x->tx[slot], all
 * but its Timestamp (T3): refl_stamp writes that, and seals the reply, just before it is
 * sent. */
static bool reflect(struct sess *s, struct sock_rxbuf *b, unsigned slot)
{
    struct wire_sender_pkt p;
    if (cry_test_open(&s->tkeys, s->cmode, CRY_PKT_SENDER, b->data, b->len) < 0) {
        s->cnt.bad_hmac++;
        return false;
    }
    if (wire_sender_decode(b->data, b->len, s->layout_mode, &p) < 0) {
        s->cnt.malformed++;
        return false;
    }
    s->cnt.received++;
    s->cnt.src_count[b->info.src & 3]++;
    size_t base =
        s->layout_mode == WIRE_MODE_AUTH ? WIRE_REFLECTOR_AUTH_LEN : WIRE_REFLECTOR_OPEN_LEN;
    size_t len = b->len > base ? b->len : base;
    size_t padlen = len - base;
    uint8_t *pad = s->x->work;
    memset(pad, 0, padlen);
    size_t refl = s->cfg.reflect_octets < p.pad_len ? s->cfg.reflect_octets : p.pad_len;
    memcpy(pad, p.pad, refl < padlen ? refl : padlen);
    uint16_t err = sess_errest_get(&s->x->errest, b->info.ts);
    struct wire_reflector_pkt r = {.seq = s->refl_seq,
                                   .recv_ts =
                                       sess_wire_stamp(b->info.ts, s->ptp, &s->x->errest, &err),
                                   .sender_seq = p.seq,
                                   .sender_ts = p.ts,
                                   .sender_errest = p.errest,
                                   .sender_ttl = sess_ttl_octet(b->info.ttl, 255),
                                   .sender_dscp_ecn = (uint8_t)(b->info.tos >= 0 ? b->info.tos : 0),
                                   .pad = pad,
                                   .pad_len = padlen};
    uint32_t mode = s->layout_mode | (s->cfg.mode & WIRE_MODE_DSCP_ECN);
    uint8_t *out = s->x->txmem[slot];
    int n = wire_reflector_encode(&r, mode, out, SESS_PKT_MAX);
    if (n <= 0) {
        s->cnt.tx_errors++;
        return false;
    }
    s->x->tx[slot] = (struct sock_txbuf){.data = out, .len = (size_t)n, .dst = &b->peer, .tos = -1};
    s->x->reply[slot] = (struct sess_reply){
        .recv_ns = b->info.ts.ns, .mode = s->layout_mode, .errest = err, .key = -1};
    s->refl_seq++;
    return true;
}

/* A built reply's last step: T3 read now, written in, the reply sealed. */
static struct clk_time refl_stamp(void *arg, unsigned slot)
{
    struct sess *s = arg;
    struct sess_reply *r = &s->x->reply[slot];
    uint8_t *out = s->x->txmem[slot];
    size_t len = s->x->tx[slot].len;
    struct clk_time t3 = clk_now();
    uint64_t ts = sess_wire_stamp(t3, s->ptp, &s->x->errest, &r->errest);
    wire_test_set_ts(out, len, r->mode, ts, r->errest);
    if (cry_test_seal(&s->tkeys, s->cmode, CRY_PKT_REFLECTOR, out, len) < 0) {
        return (struct clk_time){0};
    }
    return t3;
}

/* A reply left: kept for its TX timestamp (T3 against the wire, T2 to the wire). */
static void refl_sent(void *arg, unsigned slot, struct clk_time t3)
{
    struct sess *s = arg;
    sess_tx_note(s, 0, s->x->reply[slot].recv_ns, t3.ns);
}

/* RFC 6038: the reflector returns the first reflect_octets octets of our padding. */
static void check_reflected(struct sess *s, const struct wire_reflector_pkt *r)
{
    size_t n = s->cfg.reflect_octets;
    if (n == 0) {
        return;
    }
    if (n > s->cfg.padding) {
        n = s->cfg.padding;
    }
    if (r->pad_len < n || memcmp(r->pad, s->pad, n) != 0) {
        s->cnt.reflect_mismatch++;
    }
}

/* Whether a reply's HMAC verifies (nothing to verify in open and mixed modes); an encrypted
 * TWAMP reply is decrypted in place. */
static bool reply_hmac_ok(struct sess *s, const struct sock_rxbuf *b)
{
    if (s->cfg.fmt == SESS_FMT_TWAMP) {
        return cry_test_open(&s->tkeys, s->cmode, CRY_PKT_REFLECTOR, b->data, b->len) >= 0;
    }
    return s->layout_mode != WIRE_MODE_AUTH ||
           cry_stamp_verify(s->cfg.stamp_key, s->cfg.stamp_key_len, b->data,
                            WIRE_STAMP_AUTH_HMAC_OFF, b->data + WIRE_STAMP_AUTH_HMAC_OFF) == 0;
}

/* Check a reply to our TWAMP or STAMP packets and read it into *w, liberally (see
 * wire_reply_decode): SESS_DROP_N when it can be measured, else why not. */
static enum sess_drop reply_read(struct sess *s, const struct sock_rxbuf *b, struct wire_reply *w)
{
    bool stamp = s->cfg.fmt == SESS_FMT_STAMP;
    size_t auth_base = stamp ? WIRE_STAMP_AUTH_LEN : WIRE_REFLECTOR_AUTH_LEN;
    uint32_t mode = s->layout_mode | (stamp ? 0 : s->cfg.mode & WIRE_MODE_DSCP_ECN);
    if (b->truncated) {
        return SESS_DROP_LONG;
    }
    if (s->layout_mode == WIRE_MODE_AUTH && b->len < auth_base) {
        return SESS_DROP_SHORT;
    }
    if (!reply_hmac_ok(s, b)) {
        return SESS_DROP_HMAC;
    }
    if (wire_reply_decode(b->data, b->len, mode, stamp, w) < 0) {
        return SESS_DROP_SHORT;
    }
    if (stamp && w->ssid != s->cfg.ssid && w->ssid != 0) { /* 0: a TWAMP Light reflector */
        return SESS_DROP_SESSION;
    }
    return w->r.sender_seq < s->cfg.npackets ? SESS_DROP_N : SESS_DROP_SEQ;
}

/* The record of a reply read by reply_read (T1 as written in our packet). */
static struct met_twrec reply_record(struct sess *s, const struct sock_rxbuf *b,
                                     const struct wire_reply *w)
{
    const struct wire_reflector_pkt *r = &w->r;
    int64_t tai = s->x->errest.tai_ns;
    return (struct met_twrec){.seq = r->sender_seq,
                              .refl_seq = r->seq,
                              .t1 = sess_wire_time(r->sender_ts, r->sender_errest, tai),
                              .t2 = sess_wire_time(r->recv_ts, r->errest, tai),
                              .t3 = sess_wire_time(r->ts, r->errest, tai),
                              .t4 = b->info.ts,
                              .t1_err = r->sender_errest,
                              .t2_err = r->errest,
                              .t3_err = r->errest,
                              .t4_err = sess_errest_get(&s->x->errest, b->info.ts),
                              .sender_ttl = w->has_ttl ? r->sender_ttl : 0, /* 0: not reported */
                              .refl_ttl = sess_ttl_octet(b->info.ttl, 0),
                              .t4_src = (uint8_t)b->info.src,
                              .sender_tos = (int16_t)(w->has_dscp_ecn ? r->sender_dscp_ecn : -1),
                              .flags =
                                  MET_TW_REFL_SEQ | (s->cfg.refl_may_copy ? MET_TW_REFL_COPY : 0)};
}

/* A reply to our TWAMP (or STAMP) sender: logged, or counted with the reason it is not. */
static void log_tw(struct sess *s, const struct sock_rxbuf *b)
{
    struct wire_reply w;
    enum sess_drop why = reply_read(s, b, &w);
    if (why != SESS_DROP_N) {
        s->cnt.reply_drop[why]++;
        *(why == SESS_DROP_HMAC ? &s->cnt.bad_hmac : &s->cnt.malformed) += 1;
        return;
    }
    struct met_twrec t = reply_record(s, b, &w);
    if (s->cfg.fmt == SESS_FMT_TWAMP) {
        check_reflected(s, &w.r);
    }
    int64_t written = t.t1.ns;
    enum clk_source src = CLK_SRC_USER;
    bool kernel = sess_kernel_t1(s, t.seq, written, &t.t1, &src);
    if (!kernel && s->tx_stamps) {
        sock_read_tx_timestamps(s->sock.fd, sess_on_tx_stamp, s); /* its stamp may be queued */
        kernel = sess_kernel_t1(s, t.seq, written, &t.t1, &src);
    }
    t.t1_src = (uint8_t)(kernel ? src : CLK_SRC_USER);
    if (!sess_rec_log(s, &t)) {
        return;
    }
    s->cnt.reply_no_ttl += !w.has_ttl;
    sess_mark_seen(s, t.seq);
    s->cnt.received++;
    s->cnt.src_count[b->info.src & 3]++;
}

/* Show a received packet to the hook: to our address (the one it was sent to when the
 * kernel said) from its source. */
static void hook_received(struct sess *s, const struct sock_rxbuf *b)
{
    struct sock_addr dst = s->local;
    if (b->info.dst.len > 0 && b->info.dst.ss.ss_family == s->local.ss.ss_family) {
        dst = b->info.dst;
        sock_addr_set_port(&dst, sock_addr_port(&s->local));
    }
    struct sess_pkt p = {.sent = false,
                         .data = b->data,
                         .len = b->len,
                         .src = &b->peer,
                         .dst = &dst,
                         .ts = b->info.ts,
                         .ttl = b->info.ttl,
                         .tos = b->info.tos};
    s->pkt_hook(s->pkt_arg, &p);
}

void sess_on_readable(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct sess *s = arg;
    (void)loop;
    if (events & LOOP_ERR) {
        sock_read_tx_timestamps(fd, sess_on_tx_stamp, s);
    }
    if (!(events & LOOP_READ)) {
        return;
    }
    for (int round = 0; round < 16; round++) {
        int n = sock_recv_batch(fd, s->x->rx, SOCK_BATCH_MAX);
        if (n <= 0) {
            return;
        }
        unsigned replies = 0;
        for (int i = 0; i < n; i++) {
            struct sock_rxbuf *b = &s->x->rx[i];
            if (s->pkt_hook && s->started && !b->truncated) {
                hook_received(s, b);
            }
            bool from_peer =
                s->cfg.kind == SESS_TW_SENDER || sess_same_host(&b->peer, &s->cfg.peer);
            bool checked_later = s->cfg.kind == SESS_TW_SENDER; /* log_tw says why */
            if (!s->started || s->stopped || (b->truncated && !checked_later) || !from_peer) {
                s->cnt.malformed++;
                continue;
            }
            switch (s->cfg.kind) {
            case SESS_OW_RECEIVER: log_ow(s, b); break;
            case SESS_TW_REFLECTOR: replies += reflect(s, b, replies); break;
            case SESS_TW_SENDER: log_tw(s, b); break;
            default: s->cnt.malformed++; break;
            }
        }
        if (replies > 0) {
            const struct sess_stamper st = {refl_stamp, refl_sent, s, &s->last_tx_ns};
            sess_send_built(fd, s->x, replies, s->x->reply[0].recv_ns, &s->cnt, &st);
        }
        if (replies > 0 && s->tx_stamps) {
            sock_read_tx_timestamps(fd, sess_on_tx_stamp, s); /* queued as they were sent */
        }
        if (n < SOCK_BATCH_MAX) {
            return; /* drained: no empty recvmmsg to find that out */
        }
    }
}
#define SESS_ERREST_UNKNOWN 0x0001 /* unsynchronised, 2^-32 s: a send time never seen */

/* Log seq q, scheduled at sent, as lost (once: it is marked seen). */
static void log_one_lost(struct sess *s, uint32_t q, struct clk_time sent)
{
    sess_mark_seen(s, q);
    if (s->cfg.kind == SESS_OW_RECEIVER) {
        struct met_owrec ow = {.seq = q,
                               .send = sent,
                               .lost = true,
                               .ttl = 255,
                               .send_err = SESS_ERREST_UNKNOWN,
                               .recv_err = sess_errest_get(&s->x->errest, clk_now())};
        sess_rec_log(s, &ow);
    } else {
        struct met_twrec tw = {.seq = q, .t1 = sent, .sender_tos = -1, .flags = MET_TW_LOST};
        sess_rec_log(s, &tw);
    }
}

/* Log a record for every seq below end that never arrived, with its scheduled send time. */
static void log_lost(struct sess *s, uint32_t end)
{
    struct sched *g = sess_sched_probe(s);
    for (uint32_t q = 0; q < end; q++) {
        struct clk_time sent =
            g ? sched_send_time(s->cfg.start, sched_next_offset(g)) : (struct clk_time){0};
        if (!sess_seen(s, q)) {
            log_one_lost(s, q, sent);
        }
    }
    sched_destroy(g);
}

/* OWAMP receiver timer: log as lost every packet whose loss timeout, counted from its
 * scheduled send time, has passed without it; then wait for the next one's. */
static void declare_lost(struct loop *loop, loop_timer_id id, void *arg)
{
    struct sess *s = arg;
    (void)loop;
    (void)id;
    s->timer = 0;
    int64_t now = clk_now().ns;
    while (s->lost_seq < s->cfg.npackets && s->lost_time.ns + s->cfg.loss_timeout_ns <= now) {
        if (!sess_seen(s, s->lost_seq)) {
            log_one_lost(s, s->lost_seq, s->lost_time);
        }
        s->lost_seq++;
        s->lost_time = sched_send_time(s->cfg.start, sched_next_offset(s->sched));
    }
    if (s->lost_seq < s->cfg.npackets && !s->stopped) {
        struct clk_time at = {s->lost_time.ns + s->cfg.loss_timeout_ns};
        s->timer = loop_timer_at_realtime(s->loop, at, declare_lost, s);
    }
}

/* Start declaring losses as they time out (receivers with a loss timeout and a schedule). */
int sess_start_loss_timer(struct sess *s)
{
    if (s->cfg.loss_timeout_ns <= 0 || s->cfg.npackets == 0 || !(s->sched = sess_sched_probe(s))) {
        return 0;
    }
    s->lost_time = sched_send_time(s->cfg.start, sched_next_offset(s->sched));
    struct clk_time at = {s->lost_time.ns + s->cfg.loss_timeout_ns};
    s->timer = loop_timer_at_realtime(s->loop, at, declare_lost, s);
    return s->timer ? 0 : LP_E_NOMEM;
}

void sess_ow_finalize(struct sess *s, uint32_t next_seqno)
{
    if (s->cfg.kind == SESS_OW_RECEIVER && !s->finalized) {
        s->finalized = true;
        log_lost(s, next_seqno < s->cfg.npackets ? next_seqno : s->cfg.npackets);
    }
}

void sess_ow_skip(struct sess *s, const struct wire_skip_range *r, uint32_t n)
{
    if (s->cfg.kind != SESS_OW_RECEIVER || s->finalized) {
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t last = r[i].last < s->cfg.npackets ? r[i].last : s->cfg.npackets - 1;
        for (uint32_t q = r[i].first; q <= last && s->cfg.npackets > 0; q++) {
            sess_mark_seen(s, q);
        }
    }
}

void sess_tw_finalize(struct sess *s)
{
    if (s->cfg.kind == SESS_TW_SENDER && !s->finalized) {
        s->finalized = true;
        log_lost(s, s->next_seq);
    }
}

/* ------------------------------------------------------ everything accounted for */

bool sess_all_in(const struct sess *s)
{
    bool tw = s->cfg.kind == SESS_TW_SENDER;
    if ((!tw && s->cfg.kind != SESS_OW_RECEIVER) || !s->seen) {
        return false;
    }
    uint32_t n = tw ? s->next_seq : s->cfg.npackets;
    if ((tw && n < s->cfg.npackets) || s->cnt.received < n) {
        return false; /* cheap: most calls end here */
    }
    for (uint32_t i = 0; i < n / 8; i++) {
        if (s->seen[i] != 0xff) {
            return false;
        }
    }
    for (uint32_t q = n / 8 * 8; q < n; q++) {
        if (!sess_seen(s, q)) {
            return false;
        }
    }
    return true;
}
