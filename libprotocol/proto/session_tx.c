/* session_tx.c - the TX timestamps of a session's sends (senders and TWAMP reflectors):
 * turned on with the socket's NIC stamping kept, matched to their sends from the error queue
 * by the kernel's count of datagrams sent (OPT_ID), and used three ways: the stamp-to-wire
 * statistics (how far the time written in a packet runs ahead of the wire), a TWAMP sender's
 * T1 (a ring by seq until the reply comes) and an OWAMP sender's send times (every seq's TX
 * time in a record store, for the results fetched after the session). */
#include "session_int.h"

#include <stdlib.h>

/* Turn TX timestamps on unless the socket's owner did (sock_hw_auto with SOCK_F_TX_TSTAMP:
 * NIC TX stamps when the NIC has them); NIC receive stamping already on is kept. */
static enum clk_source enable_tx(struct sess *s)
{
    struct sock_tstamp ts;
    if (s->sock.ts.tx != CLK_SRC_NONE) {
        return s->sock.ts.tx;
    }
    unsigned hw = s->sock.ts.rx == CLK_SRC_HARDWARE
                      ? SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE |
                            SOF_TIMESTAMPING_TX_HARDWARE
                      : 0;
    sock_tstamp_enable(s->sock.fd, SOCK_F_TX_TSTAMP, hw, &ts);
    s->sock.ts.tx = ts.tx;
    return ts.tx;
}

/* A ring's length: a power of two from 16 up to cap, enough for want entries (a sender's
 * packet count: a short session, as an exporter runs by the thousand, needs no full ring). */
static uint32_t ring_len(uint64_t want, uint32_t cap)
{
    uint32_t n = 16;
    while (n < want && n < cap) {
        n <<= 1;
    }
    return n;
}

int sess_tx_init(struct sess *s)
{
    if (enable_tx(s) == CLK_SRC_NONE) {
        return 0; /* no TX timestamps on this host: lateness by the written times only */
    }
    s->txq_len = s->cfg.kind == SESS_TW_REFLECTOR ? SESS_TX_RING_REFL
                                                  : ring_len(s->cfg.npackets, SESS_TX_RING);
    if (!(s->txq = calloc(s->txq_len, sizeof(*s->txq)))) {
        return LP_E_NOMEM;
    }
    if (s->cfg.kind == SESS_TW_SENDER) {
        s->bias_len = ring_len(s->cfg.npackets, SESS_BIAS_RING);
        if (!(s->bias_ring = calloc(s->bias_len, sizeof(*s->bias_ring)))) {
            return LP_E_NOMEM;
        }
    }
    if (s->cfg.kind == SESS_OW_SENDER && s->cfg.keep_tx_times &&
        !(s->tx_times =
              rst_create(sizeof(struct sess_txtime), s->cfg.store_mem, s->cfg.store_dir))) {
        return LP_E_NOMEM;
    }
    s->tx_stamps = true;
    return 0;
}

void sess_tx_note(struct sess *s, uint32_t seq, int64_t sched_ns, int64_t t1_ns)
{
    met_hist_add(&s->late_user, t1_ns - sched_ns);
    if (s->tx_stamps) {
        uint32_t id = (uint32_t)s->cnt.sent;
        s->txq[id % s->txq_len] = (struct sess_txslot){
            .id = id, .seq = seq, .t1_ns = t1_ns, .sched_ns = sched_ns, .used = true};
    }
}

/* OWAMP sender: seq's TX time into the store, which holds one entry per seq in order (the
 * seqs whose stamps never came get an empty one). A stamp that comes out of order cannot be
 * placed and is dropped: that packet's results use its written time. */
static void keep_tx_time(struct sess *s, uint32_t seq, const struct sock_txts *ts)
{
    static const struct sess_txtime none = {0};
    uint64_t next = rst_count(s->tx_times);
    while (next < seq && rst_append(s->tx_times, &none) == 0) {
        next++;
    }
    if (next == seq) {
        struct sess_txtime t = {.ns = ts->ts.ns, .src = (uint8_t)ts->src};
        rst_append(s->tx_times, &t);
    }
}

/* TWAMP sender: seq's TX time as its offset from the written T1, until the reply comes
 * (INT32_MAX: too far off to be kept). */
static void keep_bias(struct sess *s, uint32_t seq, int64_t bias, enum clk_source src)
{
    struct sess_bias *b = &s->bias_ring[seq % s->bias_len];
    *b = (struct sess_bias){.seq = seq,
                            .used = true,
                            .src = (uint8_t)src,
                            .bias_ns =
                                bias > INT32_MAX || bias < INT32_MIN ? INT32_MAX : (int32_t)bias};
}

void sess_on_tx_stamp(void *arg, const struct sock_txts *ts)
{
    struct sess *s = arg;
    struct sess_txslot *q = s->txq ? &s->txq[ts->id % s->txq_len] : NULL;
    if (!q || !q->used || q->id != ts->id) {
        return;
    }
    q->used = false;
    int64_t bias = ts->ts.ns - q->t1_ns;
    met_hist_add(&s->bias, bias);
    met_hist_add(&s->late_kernel, ts->ts.ns - q->sched_ns);
    s->stamped++;
    s->tx_src = ts->src;
    if (s->bias_ring) {
        keep_bias(s, q->seq, bias, ts->src);
    }
    if (s->tx_times) {
        keep_tx_time(s, q->seq, ts);
    }
}

bool sess_kernel_t1(const struct sess *s, uint32_t seq, int64_t written_ns, struct clk_time *out,
                    enum clk_source *src)
{
    const struct sess_bias *b = s->bias_ring ? &s->bias_ring[seq % s->bias_len] : NULL;
    if (!b || !b->used || b->seq != seq || b->bias_ns == INT32_MAX) {
        return false;
    }
    out->ns = written_ns + b->bias_ns;
    *src = (enum clk_source)b->src;
    return true;
}

bool sess_tx_time(struct sess *s, uint32_t seq, struct clk_time *out, enum clk_source *src)
{
    const void *p;
    if (!s->tx_times || rst_get(s->tx_times, seq, &p, NULL) == 0) {
        return false;
    }
    const struct sess_txtime *t = p;
    if (t->ns == 0) {
        return false;
    }
    out->ns = t->ns;
    *src = (enum clk_source)t->src;
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
