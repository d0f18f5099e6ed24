/* metrics.h - per-packet records of a test session and the IPPM statistics computed from them:
 * loss (RFC 7680), duplicates (RFC 5560), delay min/median/percentiles/max (RFC 7679/2679),
 * delay variation (P95-P50 as perfSONAR owping prints it, RFC 3393 IPDV), reordering
 * (RFC 4737), hops (255 - TTL), clock sync and error, and for TWAMP the round-trip, forward,
 * reverse and reflector-processing times with loss split by direction.
 *
 * Delays are int64 nanoseconds throughout; nothing here uses floating point on timestamps.
 * Records are given in arrival order (the order the receiver or sender logged them), all at
 * once or in chunks; the statistics are computed in one pass in memory bounded by constants. */
#ifndef LP_METRICS_H
#define LP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

/* A value that is not defined (empty sample, or a rank that falls on lost packets). */
#define MET_NS_UNDEF INT64_MIN

/* Largest n for which n-reordering (RFC 4737 section 5) is counted. */
#define MET_NREORDER_MAX 32

/* Reorder window, in sequence numbers (a power of two). Each seq owns slot seq % window, which
 * remembers the largest seq of its residue class seen so far. A record whose slot already
 * holds a larger seq is older than the window: it is counted in outside_window and otherwise
 * ignored. Everything else is exact: duplicates, first copies, IPDV pairs and sent/lost equal
 * what a whole-sample computation gives, as long as no record arrives a full window of seqs
 * after a later one (16384 packets: 16 s at 1,000 packets/s); an IPDV pair is missed only when
 * one of its packets left the window before the other arrived. TWAMP keeps two reflector
 * seqs per packet: forward versus reverse duplicates are exact while a packet's copies carry
 * at most two reflector seqs, and the reflector seqs behind lost_fwd/lost_rev are remembered
 * in a window of the same size (an older reflector seq counts as seen before). */
#define MET_SEQ_WINDOW 16384u

/* A met_dist keeps its finite values exactly (sorted) while there are at most this many; past
 * that it turns into a log-linear histogram (see struct met_dist). */
#define MET_DIST_EXACT_MAX 65536u

/* One OWAMP packet as the receiver logged it (RFC 4656 section 3.10 data record). A lost
 * packet has lost set (the wire record marks it with an all-zero Receive Timestamp); its send
 * time is then the scheduled send time. The sender of a session may put its own kernel or
 * NIC TX timestamp of the packet in send (send_src says so; send_wire keeps what the packet
 * carried). */
struct met_owrec {
    uint32_t seq;
    struct clk_time send, recv;
    uint64_t send_wire, recv_wire; /* the same as carried by the packet or a data record (NTP,
                                    * or PTP when the Error Estimate says so), kept so that
                                    * records and files repeat them exactly; 0: not known */
    uint16_t send_err, recv_err;   /* raw Error Estimate fields */
    uint8_t ttl;                   /* IP TTL / hop limit seen by the receiver */
    uint8_t recv_src;              /* enum clk_source of recv */
    uint8_t send_src;              /* KERNEL or HARDWARE: send is the sender's TX timestamp
                                    * of the packet; NONE: the time the packet carried */
    bool lost;
};

/* Whether send is the sender's TX timestamp rather than the time the packet carried. */
static inline bool met_owrec_send_is_tx(const struct met_owrec *r)
{
    return r->send_src == CLK_SRC_KERNEL || r->send_src == CLK_SRC_HARDWARE;
}

/* Flags of a TWAMP record. */
enum met_tw_flag {
    MET_TW_LOST = 1,      /* no reply arrived */
    MET_TW_REFL_SEQ = 2,  /* refl_seq is the reflector's own counter (stateful reflector) */
    MET_TW_REFL_COPY = 4, /* ... or may be a copy of seq (a stateless TWAMP Light or STAMP
                           * reflector): taken for a counter only once a reply shows a
                           * refl_seq other than its seq, else loss is not split by direction */
};

/* One TWAMP test packet as the session-sender logged it: T1 sender send, T2 reflector
 * receive, T3 reflector send, T4 sender receive. */
struct met_twrec {
    uint32_t seq;      /* sender sequence number */
    uint32_t refl_seq; /* reflector sequence number from the reply */
    struct clk_time t1, t2, t3, t4;
    uint16_t t1_err, t2_err, t3_err, t4_err; /* raw Error Estimate fields */
    uint8_t sender_ttl;     /* TTL of our packet at the reflector (reply's Sender TTL) */
    uint8_t refl_ttl;       /* TTL of the reply as we received it */
    uint8_t t1_src, t4_src; /* enum clk_source of the local stamps */
    int16_t sender_tos;     /* RFC 7750: DSCP << 2 | ECN of our packet at the reflector, -1 */
    uint8_t flags;          /* enum met_tw_flag */
};

/* Inputs that are not in the records. */
struct met_params {
    int64_t loss_timeout_ns; /* RFC 7680 Tmax: later arrivals count as lost; 0 = no limit */
    uint32_t npackets;       /* packets the session scheduled; seqs below it that have no
                              * record count as sent and lost; 0 = only what the records show */
};

/* Histogram form of a met_dist; private to the library. */
struct met_dist_hist;

/* A delay sample: its finite values, plus how many samples were lost (counted as +infinity
 * for ranks, as RFC 2679 section 5 does).
 *
 * Up to MET_DIST_EXACT_MAX finite values are kept exactly in sorted_ns (hist is NULL). Beyond
 * that they are counted in a log-linear histogram (sorted_ns is NULL): values with |v| < 2^11 ns
 * in 1 ns buckets, larger ones in 2^11 buckets per power of two, negative values mirrored.
 * count, total, min and max stay exact. A rank (percentile, either middle value of a median)
 * read from the histogram is the lowest value of the bucket holding it, clamped into
 * [min, max]: never above the exact value, and below it by at most |exact| / 2048 (relative
 * error under 2^-11, about 0.05%; none below 2048 ns). Hence a median is off by at most
 * max(|lower middle|, |upper middle|) / 2048 + 1 ns and a jitter by less than
 * max(|P95|, |P50|) / 2048. */
struct met_dist {
    int64_t *sorted_ns;         /* ascending, or NULL; owned by the stats that hold this dist */
    size_t count;               /* finite values */
    uint64_t total;             /* samples including lost ones */
    struct met_dist_hist *hist; /* NULL while exact; owned like sorted_ns */
};

/* Cursor over a met_dist in ascending order; see met_dist_iter_init. */
struct met_dist_iter {
    const struct met_dist *d;
    size_t pos; /* private */
};

/* RFC 3393 IPDV between packets with consecutive sequence numbers that both arrived. */
struct met_ipdv {
    uint64_t pairs;
    int64_t min_ns, max_ns; /* MET_NS_UNDEF when pairs == 0 */
    int64_t mean_abs_ns;    /* mean of |IPDV|, truncated */
};

/* RFC 4737 reordering over the first copies of received packets, in arrival order. */
struct met_reorder {
    uint64_t evaluated;                 /* packets considered (unique received) */
    uint64_t reordered;                 /* Type-P-Reordered: seq below the next expected one */
    uint64_t n_count[MET_NREORDER_MAX]; /* [n-1]: packets whose seq is below each of the n
                                         * packets that arrived just before it */
};

/* TTL histogram of received packets. TTL 0 stands for "not reported" (a reply without a
 * Sender TTL, a reflector that leaves it 0, a kernel that did not say): no packet arrives
 * with TTL 0, so count[0] never describes a path. */
#define MET_TTL_UNKNOWN 0
struct met_ttl {
    uint32_t count[256];
};

/* One-way (OWAMP) statistics. */
struct met_ow_stats {
    uint64_t sent;         /* distinct packets (records, plus unlogged seqs below npackets) */
    uint64_t received;     /* distinct packets that arrived within the loss timeout */
    uint64_t lost;         /* sent - received */
    uint64_t dups;         /* extra copies of received packets (RFC 5560) */
    struct met_dist delay; /* one-way delay of the first copy of each packet */
    struct met_ipdv ipdv;
    struct met_reorder reorder;
    struct met_ttl ttl;
    bool synced;           /* every Error Estimate had S set */
    uint64_t maxerr_ntp;   /* largest send+receive error in 2^-32 s (receive only if lost) */
    uint64_t src_count[4]; /* receive stamps by enum clk_source, first copies */
    struct clk_time first_send, last_send; /* send times of the lowest and highest seq */
    uint64_t outside_window;               /* records ignored: seq older than the reorder window */
};

/* Two-way (TWAMP) statistics. */
struct met_tw_stats {
    uint64_t sent, received, lost;
    uint64_t send_dups;    /* forward-path copies: same seq, new reflector seq */
    uint64_t reflect_dups; /* reverse-path copies: same seq and reflector seq */
    bool dir_known;        /* reflector seqs available: lost_fwd/lost_rev are set */
    uint64_t lost_fwd, lost_rev;
    struct met_dist rtt;              /* (T4-T1)-(T3-T2) */
    struct met_dist fwd;              /* T2-T1 */
    struct met_dist rev;              /* T4-T3 */
    int64_t proc_min_ns, proc_max_ns; /* T3-T2 */
    struct met_ipdv ipdv;             /* of the round-trip time */
    struct met_reorder reorder;       /* of replies */
    struct met_ttl send_ttl, reflect_ttl;
    bool synced;
    bool clocks_offset; /* some forward or reverse delay was negative */
    uint64_t maxerr_rtt_ntp, maxerr_fwd_ntp, maxerr_rev_ntp; /* 2^-32 s: 4, T1+T2, T3+T4 */
    uint64_t src_count[4]; /* T4 stamps by enum clk_source, first copies */
    struct clk_time first_send, last_send;
    uint64_t outside_window; /* records ignored: seq older than the reorder window */
};

/* Streaming one-way statistics. Memory is bounded by constants (the reorder window, the
 * exact-value bound and the histogram), whatever the number of records; nothing is allocated
 * per record. Records are fed in arrival order, in as many chunks as convenient. */
struct met_ow_acc;

/* New accumulator for a session with parameters p (copied). NULL when out of memory. */
struct met_ow_acc *met_ow_acc_create(const struct met_params *p);

/* Lower the number of finite values each distribution keeps exactly (0: MET_DIST_EXACT_MAX);
 * for tests and for callers short of memory. Takes effect from the next value added. */
void met_ow_acc_set_exact_max(struct met_ow_acc *a, uint32_t max_values);

/* Feed n records (the caller keeps them), the next ones in arrival order. */
void met_ow_acc_add(struct met_ow_acc *a, const struct met_owrec *r, size_t n);

/* Write the statistics of everything fed so far to out, which is overwritten and afterwards
 * owns allocated memory (free with met_ow_stats_free). Call once, then destroy the
 * accumulator. Returns 0, or LP_E_NOMEM (an allocation failed at any point; out is then
 * freed). */
int met_ow_acc_finish(struct met_ow_acc *a, struct met_ow_stats *out);

/* Release an accumulator; NULL is ignored. */
void met_ow_acc_destroy(struct met_ow_acc *a);

/* The same for two-way records. */
struct met_tw_acc;
struct met_tw_acc *met_tw_acc_create(const struct met_params *p);
void met_tw_acc_add(struct met_tw_acc *a, const struct met_twrec *r, size_t n);
int met_tw_acc_finish(struct met_tw_acc *a, struct met_tw_stats *out);
void met_tw_acc_destroy(struct met_tw_acc *a);

/* One-way statistics of n records in one go (create, add, finish, destroy). out is
 * overwritten and owns allocated memory afterwards (free with met_ow_stats_free). Returns 0
 * or LP_E_NOMEM. */
int met_ow_compute(const struct met_owrec *recs, size_t n, const struct met_params *p,
                   struct met_ow_stats *out);

/* Release what met_ow_compute or met_ow_acc_finish allocated; safe on a zeroed struct. */
void met_ow_stats_free(struct met_ow_stats *s);

/* Two-way statistics in one go; same ownership rules as met_ow_compute. */
int met_tw_compute(const struct met_twrec *recs, size_t n, const struct met_params *p,
                   struct met_tw_stats *out);

/* Release what met_tw_compute or met_tw_acc_finish allocated; safe on a zeroed struct. */
void met_tw_stats_free(struct met_tw_stats *s);

/* Smallest / largest finite value, or MET_NS_UNDEF. */
int64_t met_dist_min(const struct met_dist *d);
int64_t met_dist_max(const struct met_dist *d);

/* RFC 2679 median: the middle value, or the mean of the two middle values for an even total;
 * MET_NS_UNDEF when a middle value is lost or the sample is empty. */
int64_t met_dist_median(const struct met_dist *d);

/* Percentile pct (0..100): the smallest value with at least pct% of the total at or below it
 * (nearest rank); MET_NS_UNDEF when that rank falls on lost packets. */
int64_t met_dist_percentile(const struct met_dist *d, double pct);

/* Delay variation as perfSONAR prints it: P95 - P50; MET_NS_UNDEF if either is undefined. */
int64_t met_dist_jitter(const struct met_dist *d);

/* Start a walk over the finite values of d in ascending order (d must outlive the walk). */
void met_dist_iter_init(struct met_dist_iter *it, const struct met_dist *d);

/* Next (value, how many) pair: each distinct exact value once, or for a histogram each
 * non-empty bucket as its lowest value clamped into [min, max]. false at the end. */
bool met_dist_iter_next(struct met_dist_iter *it, int64_t *value_ns, uint64_t *n);

/* Number of distinct TTL values reported (MET_TTL_UNKNOWN left out), and the smallest and
 * largest (none: min 255, max 0). */
unsigned met_ttl_summary(const struct met_ttl *t, uint8_t *min_ttl, uint8_t *max_ttl);

/* Error of a raw Error Estimate field in units of 2^-32 s (exact, saturating), and its S bit.
 * Errors stay in these units so sums print exactly as the reference prints them. */
uint64_t met_errest_ntp(uint16_t raw);
bool met_errest_synced(uint16_t raw);

/* 2^-32 s units to ns, rounded up (saturating). */
uint64_t met_ntp_to_ns(uint64_t v);

/* A histogram of non-negative ns values, 16 bins per power of two (relative resolution
 * 1/16): fixed size, for figures such as how late packets left. Zero it to start. */
#define MET_HIST_BINS 640
struct met_hist {
    uint32_t bin[MET_HIST_BINS];
    uint64_t n;
    int64_t max;
};

void met_hist_add(struct met_hist *h, int64_t v);

/* The upper bound of the bin holding percentile pct (0..100), at most the largest value;
 * 0 when empty. */
int64_t met_hist_pct(const struct met_hist *h, double pct);

/* One-way delay recv - send in ns (meaningless for lost records). */
int64_t met_owrec_delay_ns(const struct met_owrec *r);

/* The send / receive time of a record as an NTP timestamp: as carried when it was carried in
 * NTP format, else converted (send: the TX timestamp when the record holds one); 0 for none
 * (a lost packet's receive time). */
uint64_t met_owrec_send_ntp(const struct met_owrec *r);
uint64_t met_owrec_recv_ntp(const struct met_owrec *r);

/* The send time the packet itself carried, whatever send holds: as NTP (for files, which
 * keep what was on the wire) and as a time. */
uint64_t met_owrec_packet_ntp(const struct met_owrec *r);
struct clk_time met_owrec_packet_time(const struct met_owrec *r);

#endif
