/* session_send.c - the sending role of a test session: paced by the schedule, each packet
 * built first, then stamped, protected and sent with a system call of its own while the
 * sender keeps up (so that the time written in it is read as late as the user space can;
 * see sess_send_built), its kernel (or NIC) TX timestamp matched to it from the error queue
 * (session_tx.c). */
#include "session_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

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
    uint16_t errest;    /* the Error Estimate it carries */
    struct clk_time t1; /* the time written in it */
    int len;            /* encoded length, -1 when it could not be built */
};

/* Encode packet seq into buf, all but its Timestamp (stamp_packet writes it), with errest
 * as its Error Estimate. Its length, or -1. */
static int build_packet(struct sess *s, uint8_t *buf, uint32_t seq, uint16_t errest)
{
    int n;
    if (s->cfg.fmt == SESS_FMT_STAMP) {
        struct wire_stamp_sender p = {.seq = seq,
                                      .errest = errest,
                                      .ssid = s->cfg.ssid,
                                      .tlvs = s->pad,
                                      .tlvs_len = s->cfg.padding};
        n = wire_stamp_sender_encode(&p, s->layout_mode, buf, SESS_PKT_MAX);
    } else {
        struct wire_sender_pkt p = {
            .seq = seq, .errest = errest, .pad = s->pad, .pad_len = s->cfg.padding};
        n = wire_sender_encode(&p, s->layout_mode, buf, SESS_PKT_MAX);
    }
    return n > 0 ? n : -1;
}

/* The last step before a built packet is sent: read the clock, write it in, protect the
 * packet (HMAC, encryption). The time written, or ns 0 when the packet cannot be sealed. */
static struct clk_time stamp_packet(struct sess *s, struct sess_out *o, uint8_t *buf)
{
    struct clk_time t = clk_now();
    uint64_t ts = sess_wire_stamp(t, s->ptp, &s->x->errest, &o->errest);
    wire_test_set_ts(buf, (size_t)o->len, s->layout_mode, ts, o->errest);
    if (s->cfg.fmt == SESS_FMT_STAMP) {
        if (s->layout_mode == WIRE_MODE_AUTH) {
            cry_stamp_hmac(s->cfg.stamp_key, s->cfg.stamp_key_len, buf, WIRE_STAMP_AUTH_HMAC_OFF,
                           buf + WIRE_STAMP_AUTH_HMAC_OFF);
        }
    } else if (cry_test_seal(&s->tkeys, s->cmode, CRY_PKT_SENDER, buf, (size_t)o->len) < 0) {
        return (struct clk_time){0};
    }
    return t;
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

/* Build the batch into the scratch's send slots, everything but the timestamps. */
static void build_batch(struct sess *s, struct clk_time now, struct sess_out *out, unsigned n)
{
    uint16_t err = sess_errest_get(&s->x->errest, now); /* may read the kernel: not later */
    for (unsigned i = 0; i < n; i++) {
        out[i].errest = err;
        out[i].len = build_packet(s, s->x->txmem[i], out[i].seq, err);
        s->x->tx[i] = (struct sock_txbuf){.data = s->x->txmem[i],
                                          .len = out[i].len > 0 ? (size_t)out[i].len : 0,
                                          .dst = &s->cfg.peer,
                                          .tos = -1};
    }
}

/* The batch being sent, for the stamper's callbacks. */
struct sess_batch {
    struct sess *s;
    struct sess_out *out;
};

/* Stamp and seal packet i of the batch (sess_send_built): ns 0 when it was not built. */
static struct clk_time batch_stamp(void *arg, unsigned i)
{
    struct sess_batch *b = arg;
    struct sess_out *o = &b->out[i];
    o->t1 = o->len > 0 ? stamp_packet(b->s, o, b->s->x->txmem[i]) : (struct clk_time){0};
    return o->t1;
}

/* Packet i of the batch left: keep it for its TX timestamp, show it to the hook. */
static void batch_sent(void *arg, unsigned i, struct clk_time t1)
{
    struct sess_batch *b = arg;
    struct sess *s = b->s;
    const struct sess_out *o = &b->out[i];
    sess_tx_note(s, o->seq, o->sched_ns, t1.ns);
    s->unread++;
    if (s->pkt_hook) {
        struct sess_pkt p = {.sent = true,
                             .data = s->x->tx[i].data,
                             .len = s->x->tx[i].len,
                             .src = &s->local,
                             .dst = &s->cfg.peer,
                             .ts = t1,
                             .ttl = -1,
                             .tos = -1};
        s->pkt_hook(s->pkt_arg, &p);
    }
}

/* Send the built batch in seq order, each packet stamped and sealed right before its own
 * system call, or, when the sender is several packets behind its schedule, with one call
 * (sess_send_built). A packet that could not be built or sealed, or that the kernel
 * refuses (buffer full, error), is a send error; the ones after it still go. */
static void transmit(struct sess *s, struct clk_time now, struct sess_out *out, unsigned n)
{
    struct sess_batch b = {s, out};
    const struct sess_stamper st = {batch_stamp, batch_sent, &b, &s->last_tx_ns};
    sess_send_built(s->sock.fd, s->x, n, now.ns, &s->cnt, &st);
}

/* Send the packets due at now: built together, then stamped and sent (transmit). After
 * each SOCK_BATCH_MAX packets sent, read the TX timestamps queued by then: one recvmmsg
 * for many of them, and the sends awaiting theirs (SESS_TX_RING) do not pile up while the
 * sender keeps the loop. */
static void send_batch(struct sess *s, struct clk_time now)
{
    struct sess_out out[SESS_BATCH_MAX];
    unsigned n = take_due(s, now, out);
    build_batch(s, now, out, n);
    transmit(s, now, out, n);
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
        if (now.ns > end && s->next_seq < s->cfg.npackets) { /* the last: on_sent now */
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
    int rc = sess_tx_init(s);
    if (rc < 0) {
        return rc;
    }
    if (s->cfg.tos >= 0) {
        sock_set_tos(s->sock.fd, s->sock.family, (uint8_t)s->cfg.tos);
    }
    return 0;
}
