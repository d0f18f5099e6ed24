/* test_metrics_stream.c - the streaming accumulators: chunking, the reorder window, IPDV and
 * reordering across out-of-order arrivals, and the histogram form of a distribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "metrics.h"

#define MS 1000000LL
#define US 1000LL
#define BASE_NS (1700000000LL * 1000000000LL)

/* ---- record makers and a repeatable generator ---- */

static uint64_t rng_state;

static uint32_t rng(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static struct met_owrec ow(uint32_t seq, int64_t delay_ns)
{
    struct met_owrec r = {.seq = seq, .ttl = 255, .recv_src = CLK_SRC_KERNEL};
    r.send.ns = BASE_NS + (int64_t)seq * 10 * MS;
    r.recv.ns = r.send.ns + delay_ns;
    r.send_err = r.recv_err = 0x8001;
    return r;
}

static struct met_twrec tw(uint32_t seq, uint32_t rs, int64_t fwd_ns, int64_t rev_ns)
{
    struct met_twrec r = {.seq = seq, .refl_seq = rs, .sender_ttl = 255, .refl_ttl = 254};
    r.t1.ns = BASE_NS + (int64_t)seq * 10 * MS;
    r.t2.ns = r.t1.ns + fwd_ns;
    r.t3.ns = r.t2.ns + 5 * US;
    r.t4.ns = r.t3.ns + rev_ns;
    r.t1_err = r.t2_err = r.t3_err = r.t4_err = 0x8001;
    r.t4_src = CLK_SRC_KERNEL;
    r.flags = MET_TW_REFL_SEQ;
    return r;
}

/* n one-way records of a session with loss, late copies and local reordering. */
static void make_ow(struct met_owrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t seq = (uint32_t)i - rng(4);
        r[i] = ow(seq > i ? 0 : seq, (int64_t)rng(5000) * US - 2 * MS);
        r[i].ttl = (uint8_t)(250 + rng(3));
        r[i].lost = rng(20) == 0;
    }
}

/* n two-way records: reordering, forward duplicates (new reflector seq) and reverse ones. */
static void make_tw(struct met_twrec *r, size_t n)
{
    uint32_t refl = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t seq = (uint32_t)i - rng(4);
        bool reverse_dup = i > 0 && rng(10) == 0;
        r[i] = tw(seq > i ? 0 : seq, reverse_dup ? r[i - 1].refl_seq : refl++,
                  (int64_t)rng(4000) * US - MS, (int64_t)rng(3000) * US);
        if (reverse_dup) {
            r[i].seq = r[i - 1].seq;
        }
        if (rng(25) == 0) {
            r[i].flags = MET_TW_LOST;
            r[i].t4.ns = 0;
        }
    }
}

/* ---- comparing results ---- */

static void assert_dist_equal(const struct met_dist *a, const struct met_dist *b)
{
    struct met_dist_iter ia, ib;
    int64_t va, vb;
    uint64_t na, nb;
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->hist == NULL, b->hist == NULL);
    met_dist_iter_init(&ia, a);
    met_dist_iter_init(&ib, b);
    bool more;
    do {
        more = met_dist_iter_next(&ia, &va, &na);
        assert_int_equal(more, met_dist_iter_next(&ib, &vb, &nb));
        if (more) {
            assert_int_equal(va, vb);
            assert_int_equal(na, nb);
        }
    } while (more);
}

static void assert_common_equal(const struct met_ipdv *ia, const struct met_ipdv *ib,
                                const struct met_reorder *ra, const struct met_reorder *rb)
{
    assert_memory_equal(ia, ib, sizeof(*ia));
    assert_memory_equal(ra, rb, sizeof(*ra));
}

static void assert_ow_equal(const struct met_ow_stats *a, const struct met_ow_stats *b)
{
    assert_int_equal(a->sent, b->sent);
    assert_int_equal(a->received, b->received);
    assert_int_equal(a->lost, b->lost);
    assert_int_equal(a->dups, b->dups);
    assert_int_equal(a->outside_window, b->outside_window);
    assert_int_equal(a->synced, b->synced);
    assert_int_equal(a->maxerr_ntp, b->maxerr_ntp);
    assert_memory_equal(a->src_count, b->src_count, sizeof(a->src_count));
    assert_memory_equal(&a->ttl, &b->ttl, sizeof(a->ttl));
    assert_int_equal(a->first_send.ns, b->first_send.ns);
    assert_int_equal(a->last_send.ns, b->last_send.ns);
    assert_common_equal(&a->ipdv, &b->ipdv, &a->reorder, &b->reorder);
    assert_dist_equal(&a->delay, &b->delay);
}

static void assert_tw_equal(const struct met_tw_stats *a, const struct met_tw_stats *b)
{
    assert_int_equal(a->sent, b->sent);
    assert_int_equal(a->received, b->received);
    assert_int_equal(a->lost, b->lost);
    assert_int_equal(a->send_dups, b->send_dups);
    assert_int_equal(a->reflect_dups, b->reflect_dups);
    assert_int_equal(a->dir_known, b->dir_known);
    assert_int_equal(a->lost_fwd, b->lost_fwd);
    assert_int_equal(a->lost_rev, b->lost_rev);
    assert_int_equal(a->proc_min_ns, b->proc_min_ns);
    assert_int_equal(a->proc_max_ns, b->proc_max_ns);
    assert_int_equal(a->clocks_offset, b->clocks_offset);
    assert_int_equal(a->outside_window, b->outside_window);
    assert_int_equal(a->maxerr_rtt_ntp, b->maxerr_rtt_ntp);
    assert_int_equal(a->first_send.ns, b->first_send.ns);
    assert_int_equal(a->last_send.ns, b->last_send.ns);
    assert_memory_equal(&a->send_ttl, &b->send_ttl, sizeof(a->send_ttl));
    assert_memory_equal(&a->reflect_ttl, &b->reflect_ttl, sizeof(a->reflect_ttl));
    assert_common_equal(&a->ipdv, &b->ipdv, &a->reorder, &b->reorder);
    assert_dist_equal(&a->rtt, &b->rtt);
    assert_dist_equal(&a->fwd, &b->fwd);
    assert_dist_equal(&a->rev, &b->rev);
}

/* ---- chunking ---- */

/* Feed r in chunks of random size (some empty); exact_max 0 keeps the default. */
static void ow_chunked(const struct met_owrec *r, size_t n, uint32_t exact_max,
                       struct met_ow_stats *out)
{
    struct met_params p = {.loss_timeout_ns = 2 * MS, .npackets = (uint32_t)n + 10};
    struct met_ow_acc *a = met_ow_acc_create(&p);
    assert_non_null(a);
    met_ow_acc_set_exact_max(a, exact_max);
    for (size_t i = 0; i < n;) {
        size_t k = rng(97);
        k = k < n - i ? k : n - i;
        met_ow_acc_add(a, r + i, k);
        i += k;
    }
    assert_int_equal(met_ow_acc_finish(a, out), 0);
    met_ow_acc_destroy(a);
}

static void test_ow_chunks_equal_one_call(void **state)
{
    (void)state;
    enum { N = 5000 };
    static struct met_owrec r[N];
    rng_state = 1;
    make_ow(r, N);
    struct met_params p = {.loss_timeout_ns = 2 * MS, .npackets = N + 10};
    struct met_ow_stats whole, parts;
    assert_int_equal(met_ow_compute(r, N, &p, &whole), 0);
    assert_true(whole.dups > 0 && whole.reorder.reordered > 0 && whole.ipdv.pairs > 0);
    assert_true(whole.lost > 10);
    ow_chunked(r, N, 0, &parts);
    assert_ow_equal(&whole, &parts);
    met_ow_stats_free(&parts);
    met_ow_stats_free(&whole);

    /* the histogram form does not depend on chunking either */
    ow_chunked(r, N, 100, &whole);
    ow_chunked(r, N, 100, &parts);
    assert_non_null(whole.delay.hist);
    assert_ow_equal(&whole, &parts);
    met_ow_stats_free(&parts);
    met_ow_stats_free(&whole);
}

static void test_tw_chunks_equal_one_call(void **state)
{
    (void)state;
    enum { N = 5000 };
    static struct met_twrec r[N];
    rng_state = 2;
    make_tw(r, N);
    struct met_params p = {.loss_timeout_ns = 5 * MS};
    struct met_tw_stats whole, parts;
    assert_int_equal(met_tw_compute(r, N, &p, &whole), 0);
    assert_true(whole.reflect_dups > 0 && whole.reorder.reordered > 0 && whole.dir_known);
    assert_true(whole.clocks_offset && whole.lost > 0);
    struct met_tw_acc *a = met_tw_acc_create(&p);
    assert_non_null(a);
    for (size_t i = 0; i < N; i += 333) {
        met_tw_acc_add(a, r + i, N - i < 333 ? N - i : 333);
    }
    met_tw_acc_add(a, NULL, 0);
    assert_int_equal(met_tw_acc_finish(a, &parts), 0);
    met_tw_acc_destroy(a);
    assert_tw_equal(&whole, &parts);
    met_tw_stats_free(&parts);
    met_tw_stats_free(&whole);
}

/* ---- the reorder window ---- */

static void test_ow_window(void **state)
{
    (void)state;
    const uint32_t w = MET_SEQ_WINDOW;
    /* 0..9 except 7; then w + 3 and w + 7 take the slots of 3 and 7; a late copy of 3 and
     * the first record of 7 are then older than the window; a copy of 2 still counts */
    struct met_owrec r[] = {ow(0, MS),     ow(1, MS),     ow(2, MS),     ow(3, MS),
                            ow(4, MS),     ow(5, MS),     ow(6, MS),     ow(8, MS),
                            ow(9, MS),     ow(w + 3, MS), ow(w + 7, MS), ow(3, 2 * MS),
                            ow(7, 2 * MS), ow(2, 3 * MS)};
    struct met_params p = {0};
    struct met_ow_stats s;
    assert_int_equal(met_ow_compute(r, LP_ARRAY_LEN(r), &p, &s), 0);
    assert_int_equal(s.outside_window, 2);
    assert_int_equal(s.sent, 11);
    assert_int_equal(s.received, 11);
    assert_int_equal(s.dups, 1);
    assert_int_equal(s.delay.count, 11);
    assert_int_equal(met_dist_max(&s.delay), MS); /* the ignored copies were slower */
    assert_int_equal(s.reorder.evaluated, 11);
    met_ow_stats_free(&s);
}

static void test_tw_window(void **state)
{
    (void)state;
    const uint32_t w = MET_SEQ_WINDOW;
    struct met_twrec r[] = {tw(0, 0, 30 * US, 20 * US), tw(1, 1, 30 * US, 20 * US),
                            tw(w + 1, 2, 30 * US, 20 * US), tw(1, 1, 30 * US, 20 * US),
                            tw(0, 0, 30 * US, 20 * US)};
    struct met_params p = {0};
    struct met_tw_stats s;
    assert_int_equal(met_tw_compute(r, LP_ARRAY_LEN(r), &p, &s), 0);
    assert_int_equal(s.outside_window, 1);
    assert_int_equal(s.sent, 3);
    assert_int_equal(s.received, 3);
    assert_int_equal(s.reflect_dups, 1); /* 0's second copy; 1's was ignored */
    assert_int_equal(s.send_dups, 0);
    assert_int_equal(s.last_send.ns, r[2].t1.ns);
    met_tw_stats_free(&s);
}

static void test_tw_dups_interleaved(void **state)
{
    (void)state;
    /* seq 1 reflected twice (reflector seqs 1 and 2), each reply duplicated on the way back,
     * arriving interleaved: one forward-path and two reverse-path duplicates */
    struct met_twrec r[] = {tw(0, 0, 30 * US, 20 * US), tw(1, 1, 30 * US, 20 * US),
                            tw(1, 2, 31 * US, 20 * US), tw(1, 1, 30 * US, 22 * US),
                            tw(1, 2, 31 * US, 23 * US), tw(2, 3, 30 * US, 20 * US)};
    struct met_params p = {0};
    struct met_tw_stats s;
    assert_int_equal(met_tw_compute(r, LP_ARRAY_LEN(r), &p, &s), 0);
    assert_int_equal(s.received, 3);
    assert_int_equal(s.send_dups, 1);
    assert_int_equal(s.reflect_dups, 2);
    assert_int_equal(s.lost_fwd + s.lost_rev, 0);
    met_tw_stats_free(&s);
}

/* ---- IPDV and reordering with out-of-order arrival ---- */

static void test_ipdv_out_of_order(void **state)
{
    (void)state;
    /* delays by seq: 0:100 1:150 2:lost 3:120 4:90 5:200 us, arriving 4 1 3 0 2 5, plus a
     * late copy of 1 that must not pair again. Pairs: (0,1) +50, (3,4) -30, (4,5) +110. */
    struct met_owrec r[] = {ow(4, 90 * US), ow(1, 150 * US), ow(3, 120 * US), ow(0, 100 * US),
                            ow(2, 0),       ow(5, 200 * US), ow(1, 10 * US)};
    r[4].lost = true;
    r[4].recv.ns = 0;
    struct met_params p = {0};
    struct met_ow_stats s;
    struct met_ow_acc *a = met_ow_acc_create(&p);
    assert_non_null(a);
    for (size_t i = 0; i < LP_ARRAY_LEN(r); i++) {
        met_ow_acc_add(a, &r[i], 1);
    }
    assert_int_equal(met_ow_acc_finish(a, &s), 0);
    met_ow_acc_destroy(a);
    assert_int_equal(s.ipdv.pairs, 3);
    assert_int_equal(s.ipdv.min_ns, -30 * US);
    assert_int_equal(s.ipdv.max_ns, 110 * US);
    assert_int_equal(s.ipdv.mean_abs_ns, 190 * US / 3);
    assert_int_equal(s.dups, 1);
    met_ow_stats_free(&s);
}

static void reorder_of(const uint32_t *arrival, size_t n, struct met_reorder *out)
{
    struct met_params p = {0};
    struct met_ow_stats s;
    struct met_ow_acc *a = met_ow_acc_create(&p);
    assert_non_null(a);
    for (size_t i = 0; i < n; i++) {
        struct met_owrec r = ow(arrival[i], MS);
        met_ow_acc_add(a, &r, 1);
    }
    assert_int_equal(met_ow_acc_finish(a, &s), 0);
    met_ow_acc_destroy(a);
    *out = s.reorder;
    met_ow_stats_free(&s);
}

static void test_reorder_hand_made(void **state)
{
    (void)state;
    /* 1 and 2 arrive after 3, 4 after 5: three reordered; 1 and 4 follow a larger seq */
    const uint32_t a[] = {0, 3, 1, 2, 5, 4};
    struct met_reorder r;
    reorder_of(a, LP_ARRAY_LEN(a), &r);
    assert_int_equal(r.evaluated, 6);
    assert_int_equal(r.reordered, 3);
    assert_int_equal(r.n_count[0], 2);
    assert_int_equal(r.n_count[1], 0);
}

static void test_reorder_beyond_history(void **state)
{
    (void)state;
    /* 10..49 then 0..9: 0 is below each of the 32 packets before it (the history ring has
     * wrapped), 1..9 follow a smaller seq */
    uint32_t a[50];
    for (uint32_t i = 0; i < 40; i++) {
        a[i] = 10 + i;
    }
    for (uint32_t i = 0; i < 10; i++) {
        a[40 + i] = i;
    }
    struct met_reorder r;
    reorder_of(a, LP_ARRAY_LEN(a), &r);
    assert_int_equal(r.reordered, 10);
    for (int k = 0; k < MET_NREORDER_MAX; k++) {
        assert_int_equal(r.n_count[k], 1);
    }
}

/* ---- distributions: exact bound and histogram ---- */

/* Delays of first copies: v[i] for seq i, some lost. */
static void dist_of_delays(const int64_t *v, size_t n, uint32_t exact_max, struct met_ow_stats *s)
{
    struct met_params p = {0};
    struct met_ow_acc *a = met_ow_acc_create(&p);
    assert_non_null(a);
    met_ow_acc_set_exact_max(a, exact_max);
    for (size_t i = 0; i < n; i++) {
        struct met_owrec r = ow((uint32_t)i, v[i]);
        r.lost = i % 50 == 7;
        met_ow_acc_add(a, &r, 1);
    }
    assert_int_equal(met_ow_acc_finish(a, s), 0);
    met_ow_acc_destroy(a);
}

static uint64_t mag(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* A rank read from the histogram: never above the exact one, below by less than 2^-11. */
static void assert_rank_close(int64_t approx, int64_t exact)
{
    if (exact == MET_NS_UNDEF) {
        assert_true(approx == MET_NS_UNDEF);
        return;
    }
    assert_true(approx <= exact);
    assert_true((uint64_t)(exact - approx) <= mag(exact) >> 11);
}

/* A walk is strictly ascending, inside [min, max], starts at min and counts every value. */
static void assert_walk_sane(const struct met_dist *d)
{
    struct met_dist_iter it;
    int64_t v, prev = 0;
    uint64_t n, sum = 0;
    met_dist_iter_init(&it, d);
    while (met_dist_iter_next(&it, &v, &n)) {
        assert_true(sum == 0 ? v == met_dist_min(d) : v > prev);
        assert_true(v <= met_dist_max(d));
        assert_true(n > 0);
        sum += n;
        prev = v;
    }
    assert_int_equal(sum, d->count);
}

static void test_hist_error_bound(void **state)
{
    (void)state;
    enum { N = 4000 };
    static int64_t v[N];
    rng_state = 3;
    for (size_t i = 0; i < N; i++) {
        int64_t m = (int64_t)rng(1u << 20) >> rng(16); /* 2^20 .. 1, log-spread */
        m <<= rng(14);                                 /* up to ~2^33 ns */
        v[i] = rng(3) == 0 ? -m : m;
    }
    struct met_ow_stats ex, hi;
    dist_of_delays(v, N, 0, &ex);
    dist_of_delays(v, N, 16, &hi);
    assert_null(ex.delay.hist);
    assert_non_null(hi.delay.hist);
    assert_null(hi.delay.sorted_ns);
    assert_int_equal(hi.delay.count, ex.delay.count);
    assert_int_equal(hi.delay.total, ex.delay.total);
    assert_true(ex.delay.total > ex.delay.count);
    assert_int_equal(met_dist_min(&hi.delay), met_dist_min(&ex.delay));
    assert_int_equal(met_dist_max(&hi.delay), met_dist_max(&ex.delay));
    assert_true(met_dist_min(&ex.delay) < -(1LL << 30) && met_dist_max(&ex.delay) > 1LL << 30);
    for (double pct = 0.0; pct <= 100.0; pct += 0.25) {
        assert_rank_close(met_dist_percentile(&hi.delay, pct), met_dist_percentile(&ex.delay, pct));
    }
    /* rank 1 is the minimum exactly, since bucket values are clamped into [min, max] */
    assert_int_equal(met_dist_percentile(&hi.delay, 0.0), met_dist_min(&ex.delay));
    assert_walk_sane(&hi.delay);
    /* even total: the median averages ranks N/2 and N/2 + 1 */
    int64_t lo = ex.delay.sorted_ns[N / 2 - 1], up = ex.delay.sorted_ns[N / 2];
    uint64_t bound = (mag(lo) > mag(up) ? mag(lo) : mag(up)) >> 11;
    int64_t dm = met_dist_median(&hi.delay) - met_dist_median(&ex.delay);
    assert_true(mag(dm) <= bound + 1);
    met_ow_stats_free(&hi);
    met_ow_stats_free(&ex);
}

static void test_hist_small_values_exact(void **state)
{
    (void)state;
    /* below 2^11 ns the buckets are 1 ns wide: the histogram gives the exact ranks */
    int64_t v[301];
    for (size_t i = 0; i < LP_ARRAY_LEN(v); i++) {
        v[i] = (int64_t)((i * 37) % 4000) - 2000;
    }
    struct met_ow_stats ex, hi;
    dist_of_delays(v, LP_ARRAY_LEN(v), 0, &ex);
    dist_of_delays(v, LP_ARRAY_LEN(v), 8, &hi);
    assert_non_null(hi.delay.hist);
    for (double pct = 0.0; pct <= 100.0; pct += 1.0) {
        assert_int_equal(met_dist_percentile(&hi.delay, pct), met_dist_percentile(&ex.delay, pct));
    }
    assert_int_equal(met_dist_jitter(&hi.delay), met_dist_jitter(&ex.delay));
    met_ow_stats_free(&hi);
    met_ow_stats_free(&ex);
}

static void test_exact_bound_edge(void **state)
{
    (void)state;
    int64_t v[17];
    for (size_t i = 0; i < 17; i++) {
        v[i] = (int64_t)(17 - i) * MS;
    }
    struct met_params p = {0};
    struct met_ow_stats s;
    struct met_ow_acc *a = met_ow_acc_create(&p);
    assert_non_null(a);
    met_ow_acc_set_exact_max(a, 16);
    for (uint32_t i = 0; i < 16; i++) {
        struct met_owrec r = ow(i, v[i]);
        met_ow_acc_add(a, &r, 1);
    }
    assert_int_equal(met_ow_acc_finish(a, &s), 0);
    met_ow_acc_destroy(a);
    assert_null(s.delay.hist); /* 16 values: still exact */
    assert_int_equal(met_dist_min(&s.delay), 2 * MS);
    met_ow_stats_free(&s);

    dist_of_delays(v, 17, 16, &s); /* 17 (one lost): still exact */
    assert_null(s.delay.hist);
    met_ow_stats_free(&s);
    v[7] = 5 * MS;
    struct met_owrec r[17];
    for (uint32_t i = 0; i < 17; i++) {
        r[i] = ow(i, v[i]);
    }
    a = met_ow_acc_create(&p);
    assert_non_null(a);
    met_ow_acc_set_exact_max(a, 16);
    met_ow_acc_add(a, r, 17);
    assert_int_equal(met_ow_acc_finish(a, &s), 0);
    met_ow_acc_destroy(a);
    assert_non_null(s.delay.hist); /* 17 values: histogram */
    assert_int_equal(s.delay.count, 17);
    assert_int_equal(met_dist_min(&s.delay), 1 * MS);
    assert_int_equal(met_dist_max(&s.delay), 17 * MS);
    met_ow_stats_free(&s);
}

/* ---- walking a distribution ---- */

struct walk_log {
    int64_t v[8];
    uint64_t n[8];
    size_t len;
};

/* The (value, count) pairs of d in the order met_dist_iter_next gives them. */
static void walk(const struct met_dist *d, struct walk_log *w)
{
    struct met_dist_iter it;
    int64_t v;
    uint64_t n;
    w->len = 0;
    met_dist_iter_init(&it, d);
    while (met_dist_iter_next(&it, &v, &n)) {
        if (w->len < 8) {
            w->v[w->len] = v;
            w->n[w->len] = n;
        }
        w->len++;
    }
}

static void test_walk(void **state)
{
    (void)state;
    int64_t v[] = {-5, 10, 10, 10, 20};
    struct met_dist d = {.sorted_ns = v, .count = 5, .total = 6};
    struct walk_log w;
    walk(&d, &w);
    assert_int_equal(w.len, 3);
    assert_int_equal(w.v[0], -5);
    assert_int_equal(w.n[0], 1);
    assert_int_equal(w.v[1], 10);
    assert_int_equal(w.n[1], 3);
    assert_int_equal(w.v[2], 20);

    /* histogram: same pairs for small values; a large value stands for its bucket */
    int64_t big[] = {20, -5, 10, 10, 10, (1LL << 40) + 12345};
    struct met_ow_stats s;
    dist_of_delays(big, LP_ARRAY_LEN(big), 2, &s);
    walk(&s.delay, &w);
    assert_int_equal(w.len, 4);
    assert_int_equal(w.v[0], -5);
    assert_int_equal(w.n[1], 3);
    assert_int_equal(w.v[2], 20);
    assert_int_equal(w.v[3], 1LL << 40); /* the bucket's lower edge */
    assert_int_equal(met_dist_max(&s.delay), (1LL << 40) + 12345);
    met_ow_stats_free(&s);
}

static void test_many_records_stay_bounded(void **state)
{
    (void)state;
    /* a million packets fed in chunks of 1000; the delays go to the histogram */
    enum { CHUNK = 1000, CHUNKS = 1000 };
    static struct met_owrec r[CHUNK];
    struct met_params p = {.npackets = CHUNK * CHUNKS};
    struct met_ow_acc *a = met_ow_acc_create(&p);
    assert_non_null(a);
    for (uint32_t c = 0; c < CHUNKS; c++) {
        for (uint32_t i = 0; i < CHUNK; i++) {
            r[i] = ow(c * CHUNK + i, MS + (int64_t)((i * 7919u) % 1000) * US);
        }
        r[c % CHUNK].lost = true;
        met_ow_acc_add(a, r, CHUNK);
    }
    struct met_ow_stats s;
    assert_int_equal(met_ow_acc_finish(a, &s), 0);
    met_ow_acc_destroy(a);
    assert_int_equal(s.sent, CHUNK * CHUNKS);
    assert_int_equal(s.lost, CHUNKS);
    assert_int_equal(s.outside_window, 0);
    assert_non_null(s.delay.hist);
    assert_int_equal(met_dist_min(&s.delay), MS);
    assert_int_equal(met_dist_max(&s.delay), MS + 999 * US);
    assert_rank_close(met_dist_median(&s.delay), MS + 500 * US); /* 999 copies of each */
    met_ow_stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ow_chunks_equal_one_call),
        cmocka_unit_test(test_tw_chunks_equal_one_call),
        cmocka_unit_test(test_ow_window),
        cmocka_unit_test(test_tw_window),
        cmocka_unit_test(test_tw_dups_interleaved),
        cmocka_unit_test(test_ipdv_out_of_order),
        cmocka_unit_test(test_reorder_hand_made),
        cmocka_unit_test(test_reorder_beyond_history),
        cmocka_unit_test(test_hist_error_bound),
        cmocka_unit_test(test_hist_small_values_exact),
        cmocka_unit_test(test_exact_bound_edge),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_many_records_stay_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
