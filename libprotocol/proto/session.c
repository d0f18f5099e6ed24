/* session.c - OWAMP and TWAMP test sessions on the event loop (see session.h). */
#include "session_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "sched.h"

#define SESS_TX_RING 1024         /* sends awaiting their TX timestamp */
#define SESS_BUDGET_NS 2000000   /* longest a sender keeps the loop in one callback */
#define SESS_DRAIN_NS 20000      /* a TWAMP sender waiting this long reads replies */
#define SESS_BIAS_RING (1u << 16) /* TWAMP: per-seq TX bias until the reply comes */
#define SESS_HIST_BINS 640
/* Most packets a sender stamps, builds and sends with one sendmmsg. Eight take the cost per
 * packet from about 12 us (sendto and one error-queue recvmsg each) to about 2.4 us on the
 * 2-core VM, 64 only to 1.7 us; but a packet waits in the batch for the ones before it,
 * and the kernel may reschedule between datagrams, which the stamp-to-wire bias shows. */
#define SESS_BATCH_MAX 8
_Static_assert(SESS_BATCH_MAX <= SOCK_BATCH_MAX, "a batch is built in the scratch's send slots");

/* Non-negative ns values, 16 sub-bins per power of two. */
struct sess_hist {
    uint32_t bin[SESS_HIST_BINS];
    uint64_t n;
    int64_t max;
};

/* A packet sent, waiting for its TX timestamp (OPT_ID counts successful sends). */
struct sess_txslot {
    uint32_t id, seq;
    int64_t t1_ns, sched_ns;
    bool used;
};

struct sess_bias {
    uint32_t seq;
    int32_t bias_ns;
    bool used;
};

struct sess {
    struct sess_config cfg;
    struct loop *loop;
    struct sock_udp sock;
    bool started, stopped;
    bool ptp; /* RFC 8186: timestamps in PTPv2 truncated format */
    enum cry_test_mode cmode;
    struct cry_test_keys tkeys;
    uint32_t layout_mode; /* WIRE_MODE_OPEN or WIRE_MODE_AUTH: which packet layout */
    struct sess_counters cnt;
    /* sender */
    struct wire_slot *slots;
    struct sched *sched;
    struct sock_pacer pacer;
    uint32_t next_seq;
    struct clk_time next_time;
    loop_timer_id timer;
    sess_cb on_sent;
    void *on_sent_arg;
    uint8_t *pad;
    bool tx_stamps;
    struct sess_txslot *txq;
    struct sess_bias *bias_ring;
    struct sess_hist late_user, late_kernel, bias;
    uint64_t stamped;
    enum clk_source tx_src;
    uint32_t unread; /* sent since the sender last drained the error queue itself */
    /* records */
    struct rst *recs; /* receivers: met_owrec, TWAMP senders: met_twrec */
    uint8_t *seen; /* receivers and TWAMP senders: one bit per seq below npackets */
    bool finalized;
    uint32_t lost_seq;        /* OWAMP receiver: the next packet whose loss timeout is due */
    struct clk_time lost_time; /* ... and its scheduled send time */
    uint32_t refl_seq;
    struct sess_scratch *x;
    bool own_scratch;
    sess_pkt_hook pkt_hook; /* see sess_set_packet_hook */
    void *pkt_arg;
    struct sock_addr local; /* the socket's address, for the hook */
};

uint16_t sess_errest_get(struct sess_errest *e, struct clk_time now)
{
    if (e->raw == 0 || now.ns - e->checked_ns > 1000000000LL || now.ns < e->checked_ns) {
        struct clk_state st = {0};
        if (clk_state_read(&st) < 0) {
            st.synced = false;
        }
        e->raw = clk_errest_encode(clk_state_errest(&st));
        e->tai_ns = (int64_t)st.tai_offset_s * 1000000000LL;
        e->checked_ns = now.ns;
    }
    return e->raw;
}

struct sess_scratch *sess_scratch_create(void)
{
    struct sess_scratch *x = calloc(1, sizeof(*x));
    if (!x) {
        return NULL;
    }
    for (unsigned i = 0; i < SOCK_BATCH_MAX; i++) {
        x->rx[i].data = x->rxmem[i];
        x->rx[i].cap = SESS_PKT_MAX;
    }
    return x;
}

void sess_scratch_destroy(struct sess_scratch *x)
{
    free(x);
}

void sess_send_replies(int fd, struct sess_scratch *x, unsigned n, struct sess_counters *cnt)
{
    unsigned done = 0;
    while (done < n) {
        int k = sock_send_batch(fd, x->tx + done, n - done);
        if (k <= 0) {
            break;
        }
        done += (unsigned)k;
    }
    cnt->sent += done;
    cnt->tx_errors += n - done;
}

struct clk_time sess_wire_time(uint64_t ts, uint16_t errest, int64_t tai_ns)
{
    if (errest & WIRE_ERREST_Z) {
        return (struct clk_time){clk_from_ptp(ts).ns - tai_ns};
    }
    return clk_from_ntp((struct clk_ntp){ts});
}

uint64_t sess_wire_stamp(struct clk_time t, bool ptp, const struct sess_errest *e, uint16_t *errest)
{
    if (!ptp) {
        *errest &= (uint16_t)~WIRE_ERREST_Z;
        return clk_to_ntp(t).raw;
    }
    *errest |= WIRE_ERREST_Z;
    return clk_to_ptp((struct clk_time){t.ns + e->tai_ns});
}

bool sess_same_host(const struct sock_addr *a, const struct sock_addr *b)
{
    return addr_same_host((const struct sockaddr *)&a->ss, (const struct sockaddr *)&b->ss);
}

void sess_make_sid(const uint8_t *addr, size_t addrlen, uint8_t sid[WIRE_SID_LEN])
{
    memset(sid, 0, WIRE_SID_LEN);
    if (addrlen >= 4) {
        memcpy(sid, addr + addrlen - 4, 4);
    }
    lp_store64(sid + 4, clk_to_ntp(clk_now()).raw);
    cry_random(sid + 12, 4);
}

/* ------------------------------------------------------------------ records */

/* Log one record (the session's record type); false when the bound or the store refused it. */
static bool rec_log(struct sess *s, const void *rec)
{
    if (rst_count(s->recs) >= s->cfg.max_records || rst_append(s->recs, rec) < 0) {
        s->cnt.overflow++;
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ send timing */

static unsigned hist_index(int64_t v)
{
    if (v < 16) {
        return v < 0 ? 0 : (unsigned)v;
    }
    unsigned msb = 63u - (unsigned)__builtin_clzll((unsigned long long)v);
    unsigned idx = (msb - 3) * 16 + (unsigned)((v >> (msb - 4)) & 15);
    return idx < SESS_HIST_BINS ? idx : SESS_HIST_BINS - 1;
}

/* Upper bound of a bin's values. */
static int64_t hist_value(unsigned idx)
{
    if (idx < 16) {
        return idx;
    }
    unsigned msb = idx / 16 + 3;
    int64_t lo = (int64_t)(16 + idx % 16) << (msb - 4);
    return lo + ((int64_t)1 << (msb - 4)) - 1;
}

static void hist_add(struct sess_hist *h, int64_t v)
{
    h->bin[hist_index(v)]++;
    h->n++;
    if (v > h->max) {
        h->max = v;
    }
}

static int64_t hist_pct(const struct sess_hist *h, double pct)
{
    uint64_t rank = (uint64_t)((double)h->n * pct / 100.0 + 0.999999);
    uint64_t seen = 0;
    for (unsigned i = 0; i < SESS_HIST_BINS && h->n; i++) {
        seen += h->bin[i];
        if (seen >= rank) {
            return hist_value(i) < h->max ? hist_value(i) : h->max;
        }
    }
    return 0;
}

/* A TX timestamp from the error queue: match it to its send. */
static void on_tx_stamp(void *arg, const struct sock_txts *ts)
{
    struct sess *s = arg;
    struct sess_txslot *q = &s->txq[ts->id % SESS_TX_RING];
    if (!q->used || q->id != ts->id) {
        return;
    }
    q->used = false;
    int64_t bias = ts->ts.ns - q->t1_ns;
    hist_add(&s->bias, bias);
    hist_add(&s->late_kernel, ts->ts.ns - q->sched_ns);
    s->stamped++;
    s->tx_src = ts->src;
    if (s->bias_ring) {
        struct sess_bias *b = &s->bias_ring[q->seq % SESS_BIAS_RING];
        *b = (struct sess_bias){.seq = q->seq, .used = true,
                                .bias_ns = bias > INT32_MAX ? INT32_MAX : (int32_t)bias};
    }
}

/* Remember a successful send (seq, scheduled at sched_ns, written time t1_ns) until its TX
 * timestamp comes back; call before counting it in cnt.sent. */
static void note_send(struct sess *s, uint32_t seq, int64_t sched_ns, int64_t t1_ns)
{
    hist_add(&s->late_user, t1_ns - sched_ns);
    if (s->tx_stamps) {
        uint32_t id = (uint32_t)s->cnt.sent;
        s->txq[id % SESS_TX_RING] = (struct sess_txslot){
            .id = id, .seq = seq, .t1_ns = t1_ns, .sched_ns = sched_ns, .used = true};
    }
}

/* TWAMP: the kernel TX time of seq's packet, when known. */
static bool kernel_t1(const struct sess *s, uint32_t seq, int64_t written_ns, struct clk_time *out)
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
    const struct sess_hist *late = s->stamped ? &s->late_kernel : &s->late_user;
    struct sess_tx_stats t = {.stamped = s->stamped,
                              .source = s->stamped ? s->tx_src : CLK_SRC_USER,
                              .late_p50_ns = hist_pct(late, 50), .late_p99_ns = hist_pct(late, 99),
                              .late_max_ns = late->max};
    if (s->stamped) {
        t.bias_p50_ns = hist_pct(&s->bias, 50);
        t.bias_p99_ns = hist_pct(&s->bias, 99);
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
        sock_read_tx_timestamps(s->sock.fd, on_tx_stamp, s);
    }
}

static void send_due(struct loop *loop, loop_timer_id id, void *arg);

static void arm_sender(struct sess *s)
{
    struct clk_time at = {s->next_time.ns - s->cfg.spin_ns};
    s->timer = loop_timer_at_realtime(s->loop, at, send_due, s);
}

static void on_readable(struct loop *loop, int fd, unsigned events, void *arg);
static struct sched *sched_probe(const struct sess *s);
static int start_loss_timer(struct sess *s);

/* Wait for the next send time: sleep to within the spin margin, then spin; a TWAMP sender
 * reads the replies that arrive meanwhile, so none is lost while it is busy sending. */
static struct clk_time wait_next(struct sess *s)
{
    struct clk_time now = clk_now();
    while (now.ns < s->next_time.ns) {
        if (s->cfg.kind == SESS_TW_SENDER && s->next_time.ns - now.ns > SESS_DRAIN_NS) {
            on_readable(s->loop, s->sock.fd, LOOP_ERR | LOOP_READ, s); /* TX stamps first */
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
            arm_sender(s);
            return;
        }
        struct clk_time now = wait_next(s);
        send_batch(s, now);
        if (now.ns > end) {
            arm_sender(s);
            return;
        }
    }
    if (!s->stopped && s->on_sent) {
        s->on_sent(s, s->on_sent_arg);
    }
}

static int sender_init(struct sess *s)
{
    if (!(s->sched = sched_probe(s))) {
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
    struct met_owrec r = {.seq = p.seq, .send = sess_wire_time(p.ts, p.errest, s->x->errest.tai_ns),
                          .send_wire = p.ts,
                          .recv = b->info.ts, .send_err = p.errest,
                          .recv_err = sess_errest_get(&s->x->errest, b->info.ts),
                          .ttl = (uint8_t)(b->info.ttl >= 0 ? b->info.ttl : 255),
                          .recv_src = (uint8_t)b->info.src};
    if (!rec_log(s, &r)) {
        return;
    }
    s->seen[p.seq / 8] |= (uint8_t)(1u << (p.seq % 8));
    s->cnt.received++;
    s->cnt.src_count[b->info.src & 3]++;
}

/* Build the reply to one TWAMP-Test packet of the negotiated session into x->tx[slot]. */
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
    size_t base = s->layout_mode == WIRE_MODE_AUTH ? WIRE_REFLECTOR_AUTH_LEN : WIRE_REFLECTOR_OPEN_LEN;
    size_t len = b->len > base ? b->len : base;
    size_t padlen = len - base;
    uint8_t *pad = s->x->work;
    memset(pad, 0, padlen);
    size_t refl = s->cfg.reflect_octets < p.pad_len ? s->cfg.reflect_octets : p.pad_len;
    memcpy(pad, p.pad, refl < padlen ? refl : padlen);
    uint16_t rerr = sess_errest_get(&s->x->errest, b->info.ts);
    struct wire_reflector_pkt r = {
        .seq = s->refl_seq, .recv_ts = sess_wire_stamp(b->info.ts, s->ptp, &s->x->errest, &rerr),
        .sender_seq = p.seq, .sender_ts = p.ts, .sender_errest = p.errest,
        .sender_ttl = (uint8_t)(b->info.ttl >= 0 ? b->info.ttl : 255),
        .sender_dscp_ecn = (uint8_t)(b->info.tos >= 0 ? b->info.tos : 0), .pad = pad,
        .pad_len = padlen};
    struct clk_time t3 = clk_now();
    r.errest = sess_errest_get(&s->x->errest, t3);
    r.ts = sess_wire_stamp(t3, s->ptp, &s->x->errest, &r.errest);
    uint32_t mode = s->layout_mode | (s->cfg.mode & WIRE_MODE_DSCP_ECN);
    uint8_t *out = s->x->txmem[slot];
    int n = wire_reflector_encode(&r, mode, out, SESS_PKT_MAX);
    if (n <= 0 || cry_test_seal(&s->tkeys, s->cmode, CRY_PKT_REFLECTOR, out, (size_t)n) < 0) {
        s->cnt.tx_errors++;
        return false;
    }
    s->x->tx[slot] = (struct sock_txbuf){.data = out, .len = (size_t)n, .dst = &b->peer, .tos = -1};
    s->refl_seq++;
    return true;
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
                              .refl_ttl = (uint8_t)(b->info.ttl >= 0 ? b->info.ttl : 0),
                              .t4_src = (uint8_t)b->info.src,
                              .sender_tos = (int16_t)(w->has_dscp_ecn ? r->sender_dscp_ecn : -1),
                              .flags = MET_TW_REFL_SEQ | (s->cfg.refl_may_copy ? MET_TW_REFL_COPY : 0)};
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
    bool kernel = kernel_t1(s, t.seq, written, &t.t1);
    if (!kernel && s->tx_stamps) {
        sock_read_tx_timestamps(s->sock.fd, on_tx_stamp, s); /* its stamp may be queued */
        kernel = kernel_t1(s, t.seq, written, &t.t1);
    }
    t.t1_src = (uint8_t)(kernel ? s->tx_src : CLK_SRC_USER);
    if (!rec_log(s, &t)) {
        return;
    }
    s->cnt.reply_no_ttl += !w.has_ttl;
    s->seen[t.seq / 8] |= (uint8_t)(1u << (t.seq % 8));
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
    struct sess_pkt p = {.sent = false, .data = b->data, .len = b->len, .src = &b->peer,
                         .dst = &dst, .ts = b->info.ts, .ttl = b->info.ttl, .tos = b->info.tos};
    s->pkt_hook(s->pkt_arg, &p);
}

static void on_readable(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct sess *s = arg;
    (void)loop;
    if (events & LOOP_ERR) {
        sock_read_tx_timestamps(fd, on_tx_stamp, s);
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
            bool from_peer = s->cfg.kind == SESS_TW_SENDER || sess_same_host(&b->peer, &s->cfg.peer);
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
        sess_send_replies(fd, s->x, replies, &s->cnt);
        if (n < SOCK_BATCH_MAX) {
            return; /* drained: no empty recvmmsg to find that out */
        }
    }
}

/* ------------------------------------------------------------------ lifecycle */

static int setup_crypto(struct sess *s)
{
    uint32_t sec = s->cfg.mode & WIRE_MODE_SECURITY;
    s->cmode = CRY_TEST_OPEN;
    s->layout_mode = WIRE_MODE_OPEN;
    if (s->cfg.fmt == SESS_FMT_STAMP) {
        if (sec == WIRE_MODE_AUTH) {
            if (!s->cfg.stamp_key) {
                return LP_E_AUTH;
            }
            s->layout_mode = WIRE_MODE_AUTH;
        }
        return 0;
    }
    if (sec == WIRE_MODE_AUTH || sec == WIRE_MODE_ENC) {
        if (!s->cfg.keys) {
            return LP_E_AUTH;
        }
        cry_test_keys_derive(s->cfg.keys, s->cfg.sid, &s->tkeys);
        s->cmode = sec == WIRE_MODE_AUTH ? CRY_TEST_AUTH : CRY_TEST_ENC;
        s->layout_mode = WIRE_MODE_AUTH;
    }
    return 0;
}

static int sess_init(struct sess *s)
{
    s->ptp = (s->cfg.mode & WIRE_MODE_PTP) != 0;
    int rc = setup_crypto(s);
    if (rc < 0) {
        return rc;
    }
    if (s->cfg.max_records == 0) {
        s->cfg.max_records = 2 * s->cfg.npackets + 1024;
    }
    size_t base = s->cfg.fmt == SESS_FMT_STAMP ? WIRE_STAMP_AUTH_LEN : WIRE_REFLECTOR_AUTH_LEN;
    if (s->cfg.padding > SESS_PKT_MAX - base) {
        return LP_E_LEN;
    }
    if (s->cfg.kind == SESS_OW_SENDER || s->cfg.kind == SESS_TW_SENDER) {
        if ((rc = sender_init(s)) < 0) {
            return rc;
        }
    }
    bool logs = s->cfg.kind == SESS_OW_RECEIVER || s->cfg.kind == SESS_TW_SENDER;
    if (logs && !(s->seen = calloc(s->cfg.npackets / 8 + 1, 1))) {
        return LP_E_NOMEM;
    }
    size_t elem = s->cfg.kind == SESS_OW_RECEIVER ? sizeof(struct met_owrec) : sizeof(struct met_twrec);
    if (logs && !(s->recs = rst_create(elem, s->cfg.store_mem, s->cfg.store_dir))) {
        return LP_E_NOMEM;
    }
    s->x = s->cfg.scratch;
    if (!s->x) {
        if (!(s->x = sess_scratch_create())) {
            return LP_E_NOMEM;
        }
        s->own_scratch = true;
    }
    /* an OWAMP sender only listens to its error queue (TX timestamps) */
    unsigned events = s->cfg.kind == SESS_OW_SENDER ? 0 : LOOP_READ;
    return loop_add_fd(s->loop, s->sock.fd, events, on_readable, s);
}

struct sess *sess_create(struct loop *loop, struct sock_udp *sock, const struct sess_config *cfg)
{
    struct sess *s = calloc(1, sizeof(*s));
    if (!s) {
        sock_close_udp(sock);
        return NULL;
    }
    s->cfg = *cfg;
    s->loop = loop;
    s->sock = *sock;
    sock->fd = -1;
    if (cfg->nslots > 0) {
        s->slots = calloc(cfg->nslots, sizeof(*s->slots));
        if (s->slots) {
            memcpy(s->slots, cfg->slots, cfg->nslots * sizeof(*s->slots));
        }
        s->cfg.slots = s->slots;
    }
    if ((cfg->nslots > 0 && !s->slots) || sess_init(s) < 0) {
        sess_destroy(s);
        return NULL;
    }
    return s;
}

void sess_destroy(struct sess *s)
{
    if (!s) {
        return;
    }
    if (s->timer) {
        loop_timer_cancel(s->loop, s->timer);
    }
    if (s->sock.fd >= 0) {
        loop_del_fd(s->loop, s->sock.fd);
        sock_close_udp(&s->sock);
    }
    cry_test_keys_wipe(&s->tkeys);
    sched_destroy(s->sched);
    if (s->own_scratch) {
        sess_scratch_destroy(s->x);
    }
    free(s->slots);
    free(s->pad);
    free(s->txq);
    free(s->bias_ring);
    rst_destroy(s->recs);
    free(s->seen);
    free(s);
}

int sess_start(struct sess *s)
{
    if (s->started) {
        return LP_E_STATE;
    }
    s->started = true;
    if (s->cfg.kind == SESS_OW_SENDER || s->cfg.kind == SESS_TW_SENDER) {
        if (s->cfg.npackets == 0) {
            if (s->on_sent) {
                s->on_sent(s, s->on_sent_arg);
            }
            return 0;
        }
        s->next_time = sched_send_time(s->cfg.start, sched_next_offset(s->sched));
        arm_sender(s);
        return s->timer ? 0 : LP_E_NOMEM;
    }
    return s->cfg.kind == SESS_OW_RECEIVER ? start_loss_timer(s) : 0;
}

void sess_stop(struct sess *s)
{
    s->stopped = true;
    if (s->timer) {
        loop_timer_cancel(s->loop, s->timer);
        s->timer = 0;
    }
}

void sess_release(struct sess *s)
{
    sess_stop(s);
    if (s->sock.fd >= 0) {
        loop_del_fd(s->loop, s->sock.fd);
        sock_close_udp(&s->sock);
    }
}

void sess_set_packet_hook(struct sess *s, sess_pkt_hook hook, void *arg)
{
    s->local.len = sizeof(s->local.ss);
    if (hook && getsockname(s->sock.fd, (struct sockaddr *)&s->local.ss, &s->local.len) < 0) {
        s->local.len = 0;
        return; /* no address to show: no hook */
    }
    s->pkt_hook = hook;
    s->pkt_arg = arg;
}

void sess_on_sent(struct sess *s, sess_cb cb, void *arg)
{
    s->on_sent = cb;
    s->on_sent_arg = arg;
}

uint32_t sess_next_seqno(const struct sess *s)
{
    return s->next_seq;
}

struct clk_time sess_last_send_time(const struct sess *s)
{
    uint64_t first, last; /* computed on demand: daemons never ask */
    if (s->cfg.nslots == 0 ||
        sched_span(s->cfg.slots, s->cfg.nslots, s->cfg.sid, s->cfg.npackets, &first, &last) < 0) {
        return (struct clk_time){0};
    }
    return sched_send_time(s->cfg.start, last);
}

uint16_t sess_port(const struct sess *s)
{
    return s->sock.port;
}

const struct sock_tstamp *sess_tstamp(const struct sess *s)
{
    return &s->sock.ts;
}

/* A generator of the session's scheduled send times, or NULL without a schedule. */
static struct sched *sched_probe(const struct sess *s)
{
    struct sched *g = NULL;
    if (s->cfg.nslots == 0 || sched_create_wire(s->cfg.slots, s->cfg.nslots, s->cfg.sid, &g) < 0) {
        return NULL;
    }
    return g;
}

#define SESS_ERREST_UNKNOWN 0x0001 /* unsynchronised, 2^-32 s: a send time never seen */

/* Log seq q, scheduled at sent, as lost (once: it is marked seen). */
static void log_one_lost(struct sess *s, uint32_t q, struct clk_time sent)
{
    s->seen[q / 8] |= (uint8_t)(1u << (q % 8));
    if (s->cfg.kind == SESS_OW_RECEIVER) {
        struct met_owrec ow = {.seq = q, .send = sent, .lost = true, .ttl = 255,
                               .send_err = SESS_ERREST_UNKNOWN,
                               .recv_err = sess_errest_get(&s->x->errest, clk_now())};
        rec_log(s, &ow);
    } else {
        struct met_twrec tw = {.seq = q, .t1 = sent, .sender_tos = -1, .flags = MET_TW_LOST};
        rec_log(s, &tw);
    }
}

/* Log a record for every seq below end that never arrived, with its scheduled send time. */
static void log_lost(struct sess *s, uint32_t end)
{
    struct sched *g = sched_probe(s);
    for (uint32_t q = 0; q < end; q++) {
        struct clk_time sent = g ? sched_send_time(s->cfg.start, sched_next_offset(g))
                                 : (struct clk_time){0};
        if (!(s->seen[q / 8] & (1u << (q % 8)))) {
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
        if (!(s->seen[s->lost_seq / 8] & (1u << (s->lost_seq % 8)))) {
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
static int start_loss_timer(struct sess *s)
{
    if (s->cfg.loss_timeout_ns <= 0 || s->cfg.npackets == 0 || !(s->sched = sched_probe(s))) {
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
            s->seen[q / 8] |= (uint8_t)(1u << (q % 8));
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

struct rst *sess_records(const struct sess *s)
{
    return s->recs;
}

struct sess_counters sess_counters(const struct sess *s)
{
    return s->cnt;
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
        if (!(s->seen[q / 8] & (1u << (q % 8)))) {
            return false;
        }
    }
    return true;
}
