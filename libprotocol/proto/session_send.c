/* session_send.c - the sending role of a test session: paced by the schedule, each packet
 * stamped, built, protected and sent (several due at once go out with one sendmmsg), and the
 * kernel's (or the NIC's) TX timestamp of each matched to its send from the error queue. */
#include "session_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/* A TX timestamp from the error queue: match it to its send. */
void sess_on_tx_stamp(void *arg, const struct sock_txts *ts)
{
    struct sess *s = arg;
    struct sess_txslot *q = &s->txq[ts->id % SESS_TX_RING];
    if (!q->used || q->id != ts->id) {
        return;
    }
    q->used = false;
    int64_t bias = ts->ts.ns - q->t1_ns;
    met_hist_add(&s->bias, bias);
    met_hist_add(&s->late_kernel, ts->ts.ns - q->sched_ns);
    s->stamped++;
    s->tx_src = ts->src;
    if (s->bias_ring) {
        struct sess_bias *b = &s->bias_ring[q->seq % SESS_BIAS_RING];
        *b = (struct sess_bias){
            .seq = q->seq, .used = true, .bias_ns = bias > INT32_MAX ? INT32_MAX : (int32_t)bias};
    }
}

/* Remember a successful send (seq, scheduled at sched_ns, written time t1_ns) until its TX
 * timestamp comes back; call before counting it in cnt.sent. */
static void note_send(struct sess *s, uint32_t seq, int64_t sched_ns, int64_t t1_ns)
{
    met_hist_add(&s->late_user, t1_ns - sched_ns);
    if (s->tx_stamps) {
        uint32_t id = (uint32_t)s->cnt.sent;
        s->txq[id % SESS_TX_RING] = (struct sess_txslot){
            .id = id, .seq = seq, .t1_ns = t1_ns, .sched_ns = sched_ns, .used = true};
    }
}

/* TWAMP: the kernel TX time of seq's packet, when known. */
bool sess_kernel_t1(const struct sess *s, uint32_t seq, int64_t written_ns, struct clk_time *out)
{
    const struct sess_bias *b = s->bias_ring ? &s->bias_ring[seq % SESS_BIAS_RING] : NULL;
    if (!b || !b->used || b->seq != seq) {
        return false;
    }
    out->ns = written_ns + b->bias_ns;
    return true;
}

struct sess_tx_stats sess_tx_stats(const struct sess *s)
{
    const struct met_hist *late = s->stamped ? &s->late_kernel : &s->late_user;
    struct sess_tx_stats t = {.stamped = s->stamped,
                              .source = s->stamped ? s->tx_src : CLK_SRC_USER,
                              .late_p50_ns = met_hist_pct(late, 50),
                              .late_p99_ns = met_hist_pct(late, 99),
                              .late_max_ns = late->max};
    if (s->stamped) {
        t.bias_p50_ns = met_hist_pct(&s->bias, 50);
        t.bias_p99_ns = met_hist_pct(&s->bias, 99);
        t.bias_max_ns = s->bias.max;
    }
    return t;
}
/* ------------------------------------------------------------------- sender */

/* Move to the next packet of the schedule. */
static void advance(struct sess *s)
{
    s->next_seq++;
    s->next_time = sched_send_time(s->cfg.start, sched_next_offset(s->sched));
}

/* One packet of a batch being sent. */
struct sess_out {
    uint32_t seq;
    int64_t sched_ns;   /* its scheduled send time */
    struct clk_time t1; /* the time written in it */
    int len;            /* encoded length, -1 when it could not be built */
};

/* Encode and protect packet seq, stamped t, into buf. Its length, or -1. */
static int build_packet(struct sess *s, uint8_t *buf, uint32_t seq, struct clk_time t)
{
    uint16_t err = sess_errest_get(&s->x->errest, t);
    uint64_t ts = sess_wire_stamp(t, s->ptp, &s->x->errest, &err);
    int n;
    if (s->cfg.fmt == SESS_FMT_STAMP) {
        struct wire_stamp_sender p = {.seq = seq,
                                      .ts = ts,
                                      .errest = err,
                                      .ssid = s->cfg.ssid,
                                      .tlvs = s->pad,
                                      .tlvs_len = s->cfg.padding};
        n = wire_stamp_sender_encode(&p, s->layout_mode, buf, SESS_PKT_MAX);
        if (n > 0 && s->layout_mode == WIRE_MODE_AUTH) {
            cry_stamp_hmac(s->cfg.stamp_key, s->cfg.stamp_key_len, buf, WIRE_STAMP_AUTH_HMAC_OFF,
                           buf + WIRE_STAMP_AUTH_HMAC_OFF);
        }
    } else {
        struct wire_sender_pkt p = {
            .seq = seq, .ts = ts, .errest = err, .pad = s->pad, .pad_len = s->cfg.padding};
        n = wire_sender_encode(&p, s->layout_mode, buf, SESS_PKT_MAX);
        if (n > 0 && cry_test_seal(&s->tkeys, s->cmode, CRY_PKT_SENDER, buf, (size_t)n) < 0) {
            n = -1;
        }
    }
    return n > 0 ? n : -1;
}

/* Take the packets due at now off the schedule: the next one (wait_next made it due) and
 * every following one whose send time has passed as well, at most SESS_BATCH_MAX. None
 * whose time is still to come: a packet may leave late, never early. */
static unsigned take_due(struct sess *s, struct clk_time now, struct sess_out *out)
{
    unsigned n = 0;
    do {
        out[n++] = (struct sess_out){.seq = s->next_seq, .sched_ns = s->next_time.ns};
        advance(s);
    } while (n < SESS_BATCH_MAX && s->next_seq < s->cfg.npackets && s->next_time.ns <= now.ns);
    return n;
}

/* Stamp and build the batch into the scratch's send slots, each packet with the clock read
 * just before it is encoded: the batch leaves right after, so what is written is the time
 * the packet was stamped, and its kernel TX timestamp tells when it really left. */
static void build_batch(struct sess *s, struct sess_out *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        out[i].t1 = clk_now();
        out[i].len = build_packet(s, s->x->txmem[i], out[i].seq, out[i].t1);
        s->x->tx[i] = (struct sock_txbuf){.data = s->x->txmem[i],
                                          .len = out[i].len > 0 ? (size_t)out[i].len : 0,
                                          .dst = &s->cfg.peer,
                                          .tos = -1};
    }
}

/* A packet of the batch left: keep it for its TX timestamp, count it, show it to the hook. */
static void note_sent(struct sess *s, const struct sess_out *o, const struct sock_txbuf *b)
{
    note_send(s, o->seq, o->sched_ns, o->t1.ns);
    s->cnt.sent++;
    s->unread++;
    if (s->pkt_hook) {
        struct sess_pkt p = {.sent = true,
                             .data = b->data,
                             .len = b->len,
                             .src = &s->local,
                             .dst = &s->cfg.peer,
                             .ts = o->t1,
                             .ttl = -1,
                             .tos = -1};
        s->pkt_hook(s->pkt_arg, &p);
    }
}

/* How many packets from i on were built, without a gap. */
static unsigned built_run(const struct sess_out *out, unsigned i, unsigned n)
{
    unsigned k = i;
    while (k < n && out[k].len > 0) {
        k++;
    }
    return k - i;
}

/* Send the built batch in seq order with as few sendmmsg as the socket allows. A packet
 * that could not be built or that the kernel refuses (buffer full, error) is a send error
 * and the ones after it still go, as each would alone. */
static void transmit(struct sess *s, const struct sess_out *out, unsigned n)
{
    const struct sock_txbuf *tx = s->x->tx;
    unsigned i = 0;
    while (i < n) {
        unsigned run = built_run(out, i, n);
        int k = run > 0 ? sock_send_batch(s->sock.fd, tx + i, run) : 0;
        if (k <= 0) {
            s->cnt.tx_errors++;
            i++;
            continue;
        }
        for (unsigned j = i; j < i + (unsigned)k; j++) {
            note_sent(s, &out[j], &tx[j]);
        }
        i += (unsigned)k;
    }
}

/* Send the packets due at now, stamped and built just before they leave with one sendmmsg.
 * After each SOCK_BATCH_MAX packets sent, read the TX timestamps queued by then: one
 * recvmmsg for many of them, and the sends awaiting theirs (SESS_TX_RING) do not pile up
 * while the sender keeps the loop. */
static void send_batch(struct sess *s, struct clk_time now)
{
    struct sess_out out[SESS_BATCH_MAX];
    unsigned n = take_due(s, now, out);
    build_batch(s, out, n);
    transmit(s, out, n);
    if (s->tx_stamps && s->unread >= SOCK_BATCH_MAX) {
        s->unread = 0;
        sock_read_tx_timestamps(s->sock.fd, sess_on_tx_stamp, s);
    }
}

static void send_due(struct loop *loop, loop_timer_id id, void *arg);

void sess_arm_sender(struct sess *s)
{
    struct clk_time at = {s->next_time.ns - s->cfg.spin_ns};
    s->timer = loop_timer_at_realtime(s->loop, at, send_due, s);
}

/* Wait for the next send time: sleep to within the spin margin, then spin; a TWAMP sender
 * reads the replies that arrive meanwhile, so none is lost while it is busy sending. */
static struct clk_time wait_next(struct sess *s)
{
    struct clk_time now = clk_now();
    while (now.ns < s->next_time.ns) {
        if (s->cfg.kind == SESS_TW_SENDER && s->next_time.ns - now.ns > SESS_DRAIN_NS) {
            sess_on_readable(s->loop, s->sock.fd, LOOP_ERR | LOOP_READ, s); /* TX stamps first */
        } else if (s->next_time.ns - now.ns > s->cfg.spin_ns) {
            return sock_pacer_sleep_until(&s->pacer, s->next_time);
        }
        now = clk_now();
    }
    return now;
}

/* Timer: send the packets now due. While the next one is closer than the spin margin stay
 * here, but give the loop back after SESS_BUDGET_NS so other sessions and the control
 * connections are served. */
static void send_due(struct loop *loop, loop_timer_id id, void *arg)
{
    struct sess *s = arg;
    (void)loop;
    (void)id;
    s->timer = 0;
    int64_t end = clk_now().ns + SESS_BUDGET_NS;
    while (!s->stopped && s->next_seq < s->cfg.npackets) {
        if (s->next_time.ns - clk_now().ns > s->cfg.spin_ns + SESS_DRAIN_NS) {
            sess_arm_sender(s);
            return;
        }
        struct clk_time now = wait_next(s);
        send_batch(s, now);
        if (now.ns > end) {
            sess_arm_sender(s);
            return;
        }
    }
    if (!s->stopped && s->on_sent) {
        s->on_sent(s, s->on_sent_arg);
    }
}

int sess_sender_init(struct sess *s)
{
    if (!(s->sched = sess_sched_probe(s))) {
        return LP_E_VALUE; /* no slots, a bad slot type, or out of memory */
    }
    s->pad = calloc(1, s->cfg.padding + 1);
    if (!s->pad) {
        return LP_E_NOMEM;
    }
    if (!s->cfg.zero_padding) {
        cry_random(s->pad, s->cfg.padding);
    }
    sock_pacer_init(&s->pacer, s->cfg.spin_ns > 0 ? s->cfg.spin_ns : 1);
    struct sock_tstamp ts;
    unsigned hw = s->sock.ts.rx == CLK_SRC_HARDWARE
                      ? SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE |
                            SOF_TIMESTAMPING_TX_HARDWARE
                      : 0; /* keep NIC stamping that sock_hw_auto turned on */
    sock_tstamp_enable(s->sock.fd, SOCK_F_TX_TSTAMP, hw, &ts);
    if (ts.tx != CLK_SRC_NONE && (s->txq = calloc(SESS_TX_RING, sizeof(*s->txq)))) {
        s->tx_stamps = true;
        if (s->cfg.kind == SESS_TW_SENDER) {
            s->bias_ring = calloc(SESS_BIAS_RING, sizeof(*s->bias_ring));
        }
    }
    if (s->cfg.tos >= 0) {
        sock_set_tos(s->sock.fd, s->sock.family, (uint8_t)s->cfg.tos);
    }
    return 0;
}
