/* session_int.h - what the files of a test session share (session.c, session_send.c,
 * session_recv.c) and the helpers session_light.c uses too (not installed). */
#ifndef LP_SESSION_INT_H
#define LP_SESSION_INT_H

#include "session.h"

/* Error Estimate of this host's clock, refreshed at most once a second. */
struct sess_errest {
    uint16_t raw;
    int64_t checked_ns;
    int64_t tai_ns; /* TAI - UTC, for PTP timestamps (RFC 8186) */
};

/* The current Error Estimate field, re-reading the kernel clock state when now is more
 * than a second after the last read. */
uint16_t sess_errest_get(struct sess_errest *e, struct clk_time now);

#define SESS_PKT_MAX 9216 /* largest test packet handled (jumbo frame) */

/* A reply a reflector has built (everything but its send Timestamp, not yet sealed), until
 * it is stamped and sent. */
struct sess_reply {
    int64_t recv_ns; /* receive time of the packet it answers (T2) */
    uint32_t mode;   /* its layout, for wire_test_set_ts */
    uint16_t errest; /* the Error Estimate to write with the Timestamp */
    int key;         /* light reflector: the STAMP key to seal it with, -1 none */
};

/* I/O buffers and the clock's Error Estimate, shared by the sessions of one thread (see
 * session.h): one ntp_adjtime a second per process, not per session. */
struct sess_scratch {
    struct sess_errest errest;
    struct sock_rxbuf rx[SOCK_BATCH_MAX];
    struct sock_txbuf tx[SOCK_BATCH_MAX];
    struct sess_reply reply[SOCK_BATCH_MAX]; /* what reflectors built into tx */
    uint8_t rxmem[SOCK_BATCH_MAX][SESS_PKT_MAX];
    uint8_t txmem[SOCK_BATCH_MAX][SESS_PKT_MAX];
    uint8_t work[SESS_PKT_MAX]; /* padding or TLVs being built */
};

/* How a sender or reflector finishes the packets it built into x->tx: stamp writes the
 * clock, read at that moment, into packet slot and seals it, returning the time written
 * (ns 0: it cannot be sent; it is dropped); sent (may be NULL) hears of each packet the
 * kernel took, with that time, before it is counted in cnt->sent. */
struct sess_stamper {
    struct clk_time (*stamp)(void *arg, unsigned slot);
    void (*sent)(void *arg, unsigned slot, struct clk_time t);
    void *arg;
    int64_t *last_tx_ns; /* the socket's last send (see SESS_WARM_NS), updated here */
};

/* A socket that has sent nothing for this long has its send path walked (sock_warm) before
 * the next timestamp is read. At 20,000 packets/s and more it never is. */
#define SESS_WARM_NS 50000

/* Packets a sender or reflector that is behind sends with one system call; it is behind
 * when it has half as many or more to send at once. */
#define SESS_RUN_BEHIND 8

/* Stamp, seal and send the first n packets built in x->tx, in order, each stamped right
 * before the system call that sends it. While the sender or reflector keeps up (fewer than
 * SESS_RUN_BEHIND / 2 to send), each packet has a call of its own: no other packet's send
 * stands between its written timestamp and the wire (in one sendmmsg the last of 64
 * loopback replies left about 100 us after its stamp). When it is behind (packets come
 * faster than a call each lets it keep up with) it sends runs of SESS_RUN_BEHIND, which
 * cost fewer calls a packet, so that it catches up; a stamp then ages by the sends of the
 * run before it. A socket idle since before now_ns - SESS_WARM_NS is warmed first. Counts
 * what could not be sent in cnt->tx_errors. */
void sess_send_built(int fd, struct sess_scratch *x, unsigned n, int64_t now_ns,
                     struct sess_counters *cnt, const struct sess_stamper *st);

/* Decode a wire timestamp using the Z bit of its Error Estimate: NTP, or PTPv2 truncated
 * (TAI) converted back to UTC with tai_ns. */
struct clk_time sess_wire_time(uint64_t ts, uint16_t errest, int64_t tai_ns);

/* Encode t in NTP format, or in PTP format (TAI) when ptp; sets the Z bit of *errest. */
uint64_t sess_wire_stamp(struct clk_time t, bool ptp, const struct sess_errest *e,
                         uint16_t *errest);

/* True when a and b hold the same IP address (ports ignored). */
bool sess_same_host(const struct sock_addr *a, const struct sock_addr *b);

/* ---- the light reflector's flows (session_flows.c) ---- */

/* Which rules a flow's packets get (see session_light.c). */
enum light_class {
    LIGHT_CLASS_NONE,  /* not seen, or idle too long */
    LIGHT_CLASS_LIGHT, /* TWAMP Light: stateless */
    LIGHT_CLASS_STAMP, /* STAMP: stateful, one entry per SSID */
};

/* The source of a flow. */
struct light_flow_key {
    uint8_t addr[16]; /* IPv4 in the first 4 octets */
    uint8_t family;   /* 4 or 6 */
    uint16_t port;
};

/* One flow (STAMP: one SSID of a flow). */
struct light_flow {
    struct light_flow_key key;
    uint8_t cls; /* enum light_class */
    uint16_t ssid;
    uint32_t rx, tx;              /* STAMP packets received / reflected */
    int64_t last_ns;              /* CLOCK_MONOTONIC time of its last packet */
    uint32_t hnext, older, newer; /* private: hash chain and recency list */
};

/* A table of at most max flows that forgets a flow idle_ns after its last packet (0:
 * never) and, when full, the least recently used one. NULL when out of memory. */
struct light_flows;
struct light_flows *lflows_create(uint32_t max, int64_t idle_ns);
void lflows_destroy(struct light_flows *t);
void lflows_set_idle(struct light_flows *t, int64_t idle_ns);

/* The class of the source k's live entries, LIGHT_CLASS_NONE when it has none. */
enum light_class lflows_class(struct light_flows *t, const struct light_flow_key *k,
                              int64_t now_ns);

/* The live entry of k (for STAMP, of k and ssid), marked used at now_ns; a new one of class
 * cls with zero counters when there is none. Never NULL. */
struct light_flow *lflows_use(struct light_flows *t, const struct light_flow_key *k,
                              enum light_class cls, uint16_t ssid, int64_t now_ns);

/* Live entries at now_ns (one pass over the table: for tests and statistics). */
uint32_t lflows_count(const struct light_flows *t, int64_t now_ns);

/* ---- one test session (session.c, session_send.c, session_recv.c) ---- */

#define SESS_TX_RING 1024         /* sender's sends awaiting their TX timestamp (at most) */
#define SESS_TX_RING_REFL 128     /* a reflector's (it reads them after each batch) */
#define SESS_BUDGET_NS 2000000    /* longest a sender keeps the loop in one callback */
#define SESS_DRAIN_NS 20000       /* a TWAMP sender waiting this long reads replies */
#define SESS_BIAS_RING (1u << 16) /* TWAMP: per-seq TX bias until the reply comes (at most) */
/* Most packets a sender takes off the schedule at once, when it runs late: built together,
 * then stamped and sent (sess_send_built: one system call each unless it is behind); their
 * TX timestamps are read 64 at a time. */
#define SESS_BATCH_MAX 8
_Static_assert(SESS_BATCH_MAX <= SOCK_BATCH_MAX, "a batch is built in the scratch's send slots");

/* A packet sent, waiting for its TX timestamp (OPT_ID counts successful sends): its seq,
 * the time written in it (t1_ns) and when it was due (sched_ns; a reflector: the receive
 * time of the packet it answers). */
struct sess_txslot {
    uint32_t id, seq;
    int64_t t1_ns, sched_ns;
    bool used;
};

/* TWAMP sender: the TX timestamp of seq, as its offset from the written T1, and its
 * source, until the reply comes. */
struct sess_bias {
    uint32_t seq;
    int32_t bias_ns;
    uint8_t src; /* enum clk_source */
    bool used;
};

/* OWAMP sender keeping its TX times (sess_config.keep_tx_times): the TX time of one seq
 * (ns 0: none), one per seq in order in a record store (session_tx.c). */
struct sess_txtime {
    int64_t ns;
    uint8_t src; /* enum clk_source */
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
    uint32_t txq_len;
    struct sess_bias *bias_ring;
    uint32_t bias_len;    /* entries of bias_ring: a power of two */
    struct rst *tx_times; /* OWAMP sender: struct sess_txtime by seq, or NULL */
    struct met_hist late_user, late_kernel, bias;
    uint64_t stamped;
    enum clk_source tx_src;
    uint32_t unread;    /* sent since the sender last drained the error queue itself */
    int64_t last_tx_ns; /* when the socket last sent (the time written): SESS_WARM_NS */
    /* records */
    struct rst *recs; /* receivers: met_owrec, TWAMP senders: met_twrec */
    uint8_t *seen;    /* receivers and TWAMP senders: one bit per seq below npackets */
    bool finalized;
    uint32_t lost_seq;         /* OWAMP receiver: the next packet whose loss timeout is due */
    struct clk_time lost_time; /* ... and its scheduled send time */
    uint32_t refl_seq;
    struct sess_scratch *x;
    bool own_scratch;
    sess_pkt_hook pkt_hook; /* see sess_set_packet_hook */
    void *pkt_arg;
    struct sock_addr local; /* the socket's address, for the hook */
};

/* Whether seq q arrived (or was logged lost), and marking it so. */
static inline bool sess_seen(const struct sess *s, uint32_t q)
{
    return s->seen[q / 8] & (1u << (q % 8));
}

static inline void sess_mark_seen(struct sess *s, uint32_t q)
{
    s->seen[q / 8] |= (uint8_t)(1u << (q % 8));
}

/* The TTL octet of a received packet (-1: the kernel did not say) or unknown. */
static inline uint8_t sess_ttl_octet(int ttl, uint8_t unknown)
{
    return ttl >= 0 ? (uint8_t)ttl : unknown;
}

/* Log one record (the session's record type); false when the bound or the store refused it. */
bool sess_rec_log(struct sess *s, const void *rec);

/* A generator of the session's scheduled send times, or NULL without a schedule. */
struct sched *sess_sched_probe(const struct sess *s);

/* session_send.c: set up a sender (schedule, padding, TX timestamps, TOS); arm the timer of
 * its next packet. */
int sess_sender_init(struct sess *s);
void sess_arm_sender(struct sess *s);

/* session_tx.c: TX timestamps of senders and reflectors. Turn them on (keeping NIC stamps
 * the socket has) and make room to match them; 0 or LP_E_NOMEM (none to be had is no
 * error: the session goes without). Note a packet the kernel took (seq, due at sched_ns,
 * t1_ns written in it) before it is counted in cnt.sent. Take one TX timestamp from the
 * error queue (sock_read_tx_timestamps callback). The TX time of seq's packet of a TWAMP
 * sender (written_ns: the T1 written in it), when known. */
int sess_tx_init(struct sess *s);
void sess_tx_note(struct sess *s, uint32_t seq, int64_t sched_ns, int64_t t1_ns);
void sess_on_tx_stamp(void *arg, const struct sock_txts *ts);
bool sess_kernel_t1(const struct sess *s, uint32_t seq, int64_t written_ns, struct clk_time *out,
                    enum clk_source *src);

/* session_recv.c: the socket is readable (or has TX timestamps queued: LOOP_ERR); an OWAMP
 * receiver starts logging packets lost as their loss timeouts pass. */
void sess_on_readable(struct loop *loop, int fd, unsigned events, void *arg);
int sess_start_loss_timer(struct sess *s);

#endif
