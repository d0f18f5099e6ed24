/* pstats.h - what ippm_exporter knows of a target: per direction, counters of packets
 * (sent, received, lost, duplicated, reordered, discarded by reason), timestamp sources, a
 * histogram of delays over fixed buckets, and the last session's delay statistics and clock
 * state. One session's figures come from the streaming statistics of libprotocol
 * (met_ow_stats / met_tw_stats) into the same struct, which then adds to a target's running
 * totals. Lost packets are counted as lost, never observed as delays. */
#ifndef PROBE_PSTATS_H
#define PROBE_PSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "pconf.h"

/* Directions: TWAMP forward, reverse and round trip; OWAMP to and from the target. */
enum pst_dir { PST_FORWARD, PST_REVERSE, PST_ROUND_TRIP, PST_TO, PST_FROM, PST_NDIR };

/* Why a packet that arrived was not used. */
enum pst_reason {
    PST_DISC_SHORT,     /* shorter than the fields needed */
    PST_DISC_HMAC,      /* authenticated or encrypted: the HMAC did not verify */
    PST_DISC_SESSION,   /* STAMP: the SSID of another session */
    PST_DISC_SEQ,       /* a sequence number never sent */
    PST_DISC_LONG,      /* longer than the receive buffer */
    PST_DISC_MALFORMED, /* receiver: bad length, MBZ field or source */
    PST_DISC_FULL,      /* the session's record store was full */
    PST_NDISC,
};

/* Which timestamp: one written by a sender, one taken at reception. */
enum pst_stamp { PST_STAMP_SEND, PST_STAMP_RECEIVE, PST_NSTAMP };

struct pst_dirstat {
    bool used;   /* the direction was measured at least once */
    bool counts; /* packet counts are known (TWAMP forward/reverse need the reflector's) */
    uint64_t sent, received, lost, duplicated, reordered;
    uint64_t discarded[PST_NDISC];
    uint64_t stamps[PST_NSTAMP][4];      /* by enum clk_source */
    uint64_t bucket[PC_MAX_BUCKETS + 1]; /* observations per bucket (not cumulative); the
                                          * last is above every bound (+Inf) */
    uint64_t observed;                   /* delays observed */
    int64_t sum_ns;                      /* their sum */
    /* the last session */
    bool last_valid;
    int64_t last_min_ns, last_median_ns, last_p99_ns, last_max_ns; /* MET_NS_UNDEF: none */
    bool last_synced;
    uint64_t last_error_ns; /* largest error estimate of its timestamps */
};

struct pst_target {
    struct pst_dirstat d[PST_NDIR];
    uint64_t sessions_ok, sessions_failed;
    bool last_ok;
    bool have_last;           /* a session has ended */
    int64_t last_end_ns;      /* when, Unix ns */
    int64_t last_duration_ns; /* how long it took */
};

/* Name of a direction, reason, stamp kind and clock source as they appear in labels. */
const char *pst_dir_name(enum pst_dir d);
const char *pst_reason_name(enum pst_reason r);
const char *pst_stamp_name(enum pst_stamp s);
const char *pst_source_name(unsigned src);

/* The figures of one session of one direction (OWAMP), from its statistics, with buckets
 * (nb ascending upper bounds in ns). */
void pst_from_ow(struct pst_dirstat *d, const struct met_ow_stats *s, const int64_t *buckets,
                 size_t nb);

/* The figures of one TWAMP session: forward, reverse and round trip in d[PST_FORWARD...]. */
void pst_from_tw(struct pst_target *t, const struct met_tw_stats *s, const int64_t *buckets,
                 size_t nb);

/* Add one session's figures (session) to a target's totals; the last-session figures
 * replace the target's for the directions the session measured. */
void pst_add(struct pst_target *total, const struct pst_target *session);

/* Forget every histogram (the buckets changed). */
void pst_reset_histograms(struct pst_target *t);

#endif
