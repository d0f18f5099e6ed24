/* metrics_int.h - pieces shared by metrics.c (one-way), metrics_tw.c (two-way) and
 * metrics_dist.c (distributions); not part of the library's public interface. */
#ifndef LP_METRICS_INT_H
#define LP_METRICS_INT_H

#include "metrics.h"

_Static_assert((MET_SEQ_WINDOW & (MET_SEQ_WINDOW - 1)) == 0, "window must be a power of two");

/* ---- distribution builder (metrics_dist.c) ---- */

/* Collects finite values: exactly up to exact_max of them, then in a histogram. */
struct met_dist_acc {
    int64_t *vals; /* exact values, unsorted, while hist is NULL */
    size_t nvals, cap;
    size_t exact_max;
    struct met_dist_hist *hist;
    uint64_t count;
    int err; /* LP_E_NOMEM once an allocation failed */
};

void met_int_dist_init(struct met_dist_acc *a);

/* Bound on exact values; 0 means MET_DIST_EXACT_MAX. */
void met_int_dist_set_exact_max(struct met_dist_acc *a, uint32_t max_values);

void met_int_dist_add(struct met_dist_acc *a, int64_t v);

/* Move the values into d (sorting them, or handing over the histogram). Returns a.err. */
int met_int_dist_finish(struct met_dist_acc *a, struct met_dist *d, uint64_t total);

/* Release what the builder still owns. */
void met_int_dist_acc_free(struct met_dist_acc *a);

/* Release what d owns and leave it empty. */
void met_int_dist_free(struct met_dist *d);

/* ---- sequence window (metrics.c) ---- */

/* One slot of the window: the latest seq of its residue class and whether it arrived. */
enum met_slot_state { MET_SLOT_EMPTY, MET_SLOT_SEEN, MET_SLOT_ARRIVED };

struct met_slot {
    uint32_t seq;
    uint8_t state;    /* enum met_slot_state */
    int64_t delay_ns; /* of the first copy, once arrived (for IPDV) */
};

/* Where a record falls: a seq not seen before, one already in its slot, or one older than
 * the window. */
enum met_win { MET_WIN_NEW, MET_WIN_KNOWN, MET_WIN_OLD };

/* RFC 3393 IPDV between consecutive seqs, accumulated pair by pair in any order. */
struct met_ipdv_acc {
    struct met_ipdv out;
    uint64_t sum_abs;
};

/* Per-seq bookkeeping both session types share: the window, sent/distinct counts, IPDV. */
struct met_seqs {
    struct met_slot *ring; /* MET_SEQ_WINDOW slots */
    uint64_t distinct, below, outside;
    uint32_t npackets;
    struct met_ipdv_acc ipdv;
};

/* Allocate the window; LP_E_NOMEM on failure. */
int met_int_seqs_init(struct met_seqs *q, uint32_t npackets);
void met_int_seqs_free(struct met_seqs *q);

/* Place a record's seq in the window, counting new seqs and old records. */
enum met_win met_int_seqs_place(struct met_seqs *q, uint32_t seq);

/* The slot of a seq that met_int_seqs_place did not call old. */
struct met_slot *met_int_seqs_slot(struct met_seqs *q, uint32_t seq);

/* The first copy of seq arrived with delay_ns: mark it and pair it with seq - 1 and seq + 1. */
void met_int_seqs_arrive(struct met_seqs *q, uint32_t seq, int64_t delay_ns);

/* Packets sent: distinct seqs seen, plus unlogged ones below npackets. */
uint64_t met_int_seqs_sent(const struct met_seqs *q);

struct met_ipdv met_int_ipdv_done(const struct met_ipdv_acc *a);

/* ---- reordering (metrics.c) ---- */

/* RFC 4737 over first copies in arrival order: the next expected seq and the latest
 * MET_NREORDER_MAX seqs. */
struct met_reorder_acc {
    struct met_reorder out;
    uint64_t next_exp;
    uint32_t last[MET_NREORDER_MAX]; /* ring; the newest is at (head - 1) */
    unsigned head;
};

void met_int_reorder_init(struct met_reorder_acc *a);
void met_int_reorder_step(struct met_reorder_acc *a, uint32_t seq);

/* ---- small helpers (metrics.c) ---- */

uint64_t met_int_sat_add(uint64_t a, uint64_t b);

/* Index into src_count[] of a raw enum clk_source (unknown ones count as CLK_SRC_NONE). */
unsigned met_int_src_index(uint8_t src);

/* Sequence span: the record that gives first_send (lowest seq, then lowest sub, earliest) and
 * the one that gives last_send (highest seq, then highest sub, latest). sub is the TWAMP
 * reflector seq, 0 for OWAMP. */
struct met_span {
    bool any;
    uint32_t lo_seq, lo_sub, hi_seq, hi_sub;
    struct clk_time first, last;
};

void met_int_span_note(struct met_span *s, uint32_t seq, uint32_t sub, struct clk_time t);

#endif
