/* metrics_int.h - helpers shared by metrics.c (one-way) and metrics_tw.c (two-way); not part
 * of the library's public interface. */
#ifndef LP_METRICS_INT_H
#define LP_METRICS_INT_H

#include "metrics.h"

/* Sort key: records grouped by sequence number, then by sub (TWAMP: reflector seq), then by
 * arrival index. */
struct met_key {
    uint32_t seq;
    uint32_t sub;
    uint32_t idx;
};

/* Sort n keys in place. */
void met_int_sort_keys(struct met_key *k, size_t n);

/* Take ownership of vals[0..count) (malloc'ed), sort them and fill d. */
void met_int_dist_take(struct met_dist *d, int64_t *vals, size_t count, uint64_t total);

/* RFC 4737 reordering over seqs in arrival order (first copies only). */
void met_int_reorder(struct met_reorder *r, const uint32_t *arrival, size_t n);

/* Running IPDV over distinct seqs visited in ascending order. */
struct met_ipdv_acc {
    struct met_ipdv out;
    uint64_t sum_abs;
    bool have_prev;
    uint32_t prev_seq;
    int64_t prev_delay_ns;
};

void met_int_ipdv_init(struct met_ipdv_acc *a);
void met_int_ipdv_step(struct met_ipdv_acc *a, uint32_t seq, bool received, int64_t delay_ns);
struct met_ipdv met_int_ipdv_done(const struct met_ipdv_acc *a);

/* Packets sent when the records show `distinct` seqs of which `below` are < npackets. */
uint64_t met_int_sent(uint64_t distinct, uint64_t below, uint32_t npackets);

#endif
