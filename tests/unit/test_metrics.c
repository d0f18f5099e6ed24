/* test_metrics.c - statistics against hand-worked examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "metrics.h"

#define MS 1000000LL
#define US 1000LL
#define BASE_NS (1700000000LL * 1000000000LL)
#define ERR_UNSYNC 0x0001 /* S=0, scale 0, multiplier 1: 2^-32 s */
#define ERR_SYNC 0x8001   /* same error, S=1 */

/* A received one-way record: seq sent at BASE + seq*100 ms, arriving delay_ns later. */
static struct met_owrec ow(uint32_t seq, int64_t delay_ns)
{
    struct met_owrec r = {.seq = seq, .ttl = 255, .recv_src = CLK_SRC_KERNEL};
    r.send.ns = BASE_NS + (int64_t)seq * 100 * MS;
    r.recv.ns = r.send.ns + delay_ns;
    r.send_err = r.recv_err = ERR_UNSYNC;
    return r;
}

static struct met_owrec ow_lost(uint32_t seq)
{
    struct met_owrec r = ow(seq, 0);
    r.recv.ns = 0;
    r.lost = true;
    return r;
}

static void compute_ow(const struct met_owrec *r, size_t n, const struct met_params *p,
                       struct met_ow_stats *s)
{
    assert_int_equal(met_ow_compute(r, n, p, s), 0);
}

/* ---- loss (RFC 7680) ---- */

static void test_loss_flagged(void **state)
{
    (void)state;
    struct met_owrec r[10];
    for (uint32_t i = 0; i < 10; i++) {
        r[i] = (i == 3 || i == 7) ? ow_lost(i) : ow(i, 1 * MS);
    }
    struct met_params p = {0};
    struct met_ow_stats s;
    compute_ow(r, 10, &p, &s);
    assert_int_equal(s.sent, 10);
    assert_int_equal(s.received, 8);
    assert_int_equal(s.lost, 2);
    assert_int_equal(s.dups, 0);
    assert_int_equal(s.delay.total, 10);
    assert_int_equal(s.delay.count, 8);
    met_ow_stats_free(&s);
}

static void test_loss_missing_records_and_timeout(void **state)
{
    (void)state;
    /* seqs 0..5 logged, 6..9 scheduled but never logged; seq 2 arrived after 3 s, beyond
     * the 2 s loss timeout, so RFC 7680 counts it lost too */
    struct met_owrec r[6];
    for (uint32_t i = 0; i < 6; i++) {
        r[i] = ow(i, i == 2 ? 3000 * MS : 1 * MS);
    }
    struct met_params p = {.loss_timeout_ns = 2000 * MS, .npackets = 10};
    struct met_ow_stats s;
    compute_ow(r, 6, &p, &s);
    assert_int_equal(s.sent, 10);
    assert_int_equal(s.received, 5);
    assert_int_equal(s.lost, 5);
    assert_int_equal(met_dist_max(&s.delay), 1 * MS);
    met_ow_stats_free(&s);

    /* without a timeout the late packet counts as received */
    p.loss_timeout_ns = 0;
    compute_ow(r, 6, &p, &s);
    assert_int_equal(s.lost, 4);
    assert_int_equal(met_dist_max(&s.delay), 3000 * MS);
    met_ow_stats_free(&s);
}

static void test_empty(void **state)
{
    (void)state;
    struct met_params p = {0};
    struct met_ow_stats s;
    compute_ow(NULL, 0, &p, &s);
    assert_int_equal(s.sent, 0);
    assert_int_equal(s.lost, 0);
    assert_true(met_dist_min(&s.delay) == MET_NS_UNDEF);
    assert_true(met_dist_median(&s.delay) == MET_NS_UNDEF);
    assert_true(met_dist_jitter(&s.delay) == MET_NS_UNDEF);
    assert_true(s.synced);
    met_ow_stats_free(&s);
}

/* ---- duplicates (RFC 5560) ---- */

static void test_duplicates(void **state)
{
    (void)state;
    /* arrivals: 0, 1, 1', 2, 2', 2'' ; the copies arrive later than the originals */
    struct met_owrec r[] = {ow(0, 1 * MS), ow(1, 2 * MS), ow(1, 9 * MS),
                            ow(2, 3 * MS), ow(2, 8 * MS), ow(2, 7 * MS)};
    struct met_params p = {0};
    struct met_ow_stats s;
    compute_ow(r, 6, &p, &s);
    assert_int_equal(s.sent, 3);
    assert_int_equal(s.received, 3);
    assert_int_equal(s.dups, 3);
    assert_int_equal(s.lost, 0);
    /* delays are those of the first copies: 1, 2, 3 ms */
    assert_int_equal(met_dist_min(&s.delay), 1 * MS);
    assert_int_equal(met_dist_max(&s.delay), 3 * MS);
    assert_int_equal(met_dist_median(&s.delay), 2 * MS);
    /* TTL and sources count each packet once */
    assert_int_equal(s.ttl.count[255], 3);
    assert_int_equal(s.src_count[CLK_SRC_KERNEL], 3);
    met_ow_stats_free(&s);
}

/* ---- reordering (RFC 4737) ---- */

static void reorder_of(const uint32_t *arrival, size_t n, struct met_ow_stats *s)
{
    struct met_owrec r[32];
    for (size_t i = 0; i < n; i++) {
        r[i] = ow(arrival[i], 1 * MS);
    }
    struct met_params p = {0};
    compute_ow(r, n, &p, s);
}

static void test_reorder_late_pair(void **state)
{
    (void)state;
    /* 5 and 6 arrive after 10: both are below NextExp (11), so 2 reordered packets.
     * 5 follows 10, 9, 8, 7 (all larger) and then 4: it is 1-, 2-, 3- and 4-reordered.
     * 6 follows 5 (smaller): it is reordered but not n-reordered for any n. */
    const uint32_t a[] = {1, 2, 3, 4, 7, 8, 9, 10, 5, 6, 11};
    struct met_ow_stats s;
    reorder_of(a, LP_ARRAY_LEN(a), &s);
    assert_int_equal(s.reorder.evaluated, 11);
    assert_int_equal(s.reorder.reordered, 2);
    for (int n = 0; n < 4; n++) {
        assert_int_equal(s.reorder.n_count[n], 1);
    }
    assert_int_equal(s.reorder.n_count[4], 0);
    met_ow_stats_free(&s);
}

static void test_reorder_single_late(void **state)
{
    (void)state;
    /* 2 arrives after 3, 4, 5: 3-reordered (and so 1- and 2-reordered); 6 is in order */
    const uint32_t a[] = {1, 3, 4, 5, 2, 6};
    struct met_ow_stats s;
    reorder_of(a, LP_ARRAY_LEN(a), &s);
    assert_int_equal(s.reorder.reordered, 1);
    assert_int_equal(s.reorder.n_count[0], 1);
    assert_int_equal(s.reorder.n_count[1], 1);
    assert_int_equal(s.reorder.n_count[2], 1);
    assert_int_equal(s.reorder.n_count[3], 0);
    met_ow_stats_free(&s);
}

static void test_reorder_in_order_and_dups(void **state)
{
    (void)state;
    /* in order; a late duplicate of 1 is not evaluated (RFC 4737 considers first copies) */
    const uint32_t a[] = {0, 1, 2, 1, 3};
    struct met_ow_stats s;
    reorder_of(a, LP_ARRAY_LEN(a), &s);
    assert_int_equal(s.dups, 1);
    assert_int_equal(s.reorder.evaluated, 4);
    assert_int_equal(s.reorder.reordered, 0);
    assert_int_equal(s.reorder.n_count[0], 0);
    met_ow_stats_free(&s);
}

static void test_reorder_swaps(void **state)
{
    (void)state;
    /* two adjacent swaps: 0 2 1 4 3 -> 1 and 3 are each 1-reordered, none 2-reordered */
    const uint32_t a[] = {0, 2, 1, 4, 3};
    struct met_ow_stats s;
    reorder_of(a, LP_ARRAY_LEN(a), &s);
    assert_int_equal(s.reorder.reordered, 2);
    assert_int_equal(s.reorder.n_count[0], 2);
    assert_int_equal(s.reorder.n_count[1], 0);
    met_ow_stats_free(&s);
}

/* ---- percentiles, median, jitter ---- */

static struct met_dist dist_of(int64_t *v, size_t count, uint64_t total)
{
    return (struct met_dist){.sorted_ns = v, .count = count, .total = total};
}

static void test_percentiles_odd(void **state)
{
    (void)state;
    int64_t v[] = {10, 20, 30, 40, 50};
    struct met_dist d = dist_of(v, 5, 5);
    assert_int_equal(met_dist_median(&d), 30);
    assert_int_equal(met_dist_percentile(&d, 50.0), 30); /* rank ceil(2.5) = 3 */
    assert_int_equal(met_dist_percentile(&d, 95.0), 50); /* rank ceil(4.75) = 5 */
    assert_int_equal(met_dist_percentile(&d, 0.0), 10);
    assert_int_equal(met_dist_percentile(&d, 20.0), 10); /* rank 1 exactly */
    assert_int_equal(met_dist_percentile(&d, 21.0), 20); /* rank ceil(1.05) = 2 */
    assert_int_equal(met_dist_percentile(&d, 100.0), 50);
    assert_int_equal(met_dist_jitter(&d), 20);
    assert_true(met_dist_percentile(&d, 101.0) == MET_NS_UNDEF);
}

static void test_percentiles_even(void **state)
{
    (void)state;
    int64_t v[] = {10, 20, 30, 40};
    struct met_dist d = dist_of(v, 4, 4);
    assert_int_equal(met_dist_median(&d), 25); /* mean of 20 and 30 */
    assert_int_equal(met_dist_percentile(&d, 50.0), 20);
    assert_int_equal(met_dist_percentile(&d, 95.0), 40);
    assert_int_equal(met_dist_jitter(&d), 20);
    assert_int_equal(met_dist_min(&d), 10);
    assert_int_equal(met_dist_max(&d), 40);
}

static void test_percentiles_with_loss(void **state)
{
    (void)state;
    /* 3 arrivals + 1 lost (infinite delay) */
    int64_t v[] = {10, 20, 30};
    struct met_dist d = dist_of(v, 3, 4);
    assert_int_equal(met_dist_median(&d), 25);
    assert_int_equal(met_dist_percentile(&d, 75.0), 30);
    assert_true(met_dist_percentile(&d, 76.0) == MET_NS_UNDEF);
    assert_true(met_dist_jitter(&d) == MET_NS_UNDEF);
    /* 1 arrival + 2 lost: the middle value is lost */
    struct met_dist e = dist_of(v, 1, 3);
    assert_true(met_dist_median(&e) == MET_NS_UNDEF);
    assert_int_equal(met_dist_min(&e), 10);
    /* even total where the upper middle value is lost */
    struct met_dist g = dist_of(v, 1, 2);
    assert_true(met_dist_median(&g) == MET_NS_UNDEF);
}

static void test_percentile_rounding(void **state)
{
    (void)state;
    static int64_t v[1000];
    for (int i = 0; i < 1000; i++) {
        v[i] = i + 1;
    }
    struct met_dist d = dist_of(v, 1000, 1000);
    assert_int_equal(met_dist_percentile(&d, 99.9), 999);
    assert_int_equal(met_dist_percentile(&d, 99.0), 990);
    assert_int_equal(met_dist_percentile(&d, 0.1), 1);
    assert_int_equal(met_dist_median(&d), 500); /* (500 + 501) / 2 truncated */
}

static void test_compute_sorts_delays(void **state)
{
    (void)state;
    struct met_owrec r[] = {ow(0, 5 * MS), ow(1, 1 * MS), ow(2, 4 * MS), ow(3, 2 * MS),
                            ow(4, 3 * MS)};
    struct met_params p = {0};
    struct met_ow_stats s;
    compute_ow(r, 5, &p, &s);
    assert_int_equal(met_dist_min(&s.delay), 1 * MS);
    assert_int_equal(met_dist_median(&s.delay), 3 * MS);
    assert_int_equal(met_dist_max(&s.delay), 5 * MS);
    assert_int_equal(met_dist_jitter(&s.delay), 2 * MS);
    met_ow_stats_free(&s);
}

/* ---- hops ---- */

static void test_hops(void **state)
{
    (void)state;
    struct met_owrec r[4];
    for (uint32_t i = 0; i < 4; i++) {
        r[i] = ow(i, 1 * MS);
        r[i].ttl = 250;
    }
    struct met_params p = {0};
    struct met_ow_stats s;
    uint8_t lo, hi;
    compute_ow(r, 4, &p, &s);
    assert_int_equal(met_ttl_summary(&s.ttl, &lo, &hi), 1);
    assert_int_equal(lo, 250);
    assert_int_equal(hi, 250);
    met_ow_stats_free(&s);

    r[1].ttl = 251;
    r[2].ttl = 249;
    compute_ow(r, 4, &p, &s);
    assert_int_equal(met_ttl_summary(&s.ttl, &lo, &hi), 3);
    assert_int_equal(lo, 249);
    assert_int_equal(hi, 251);
    met_ow_stats_free(&s);

    struct met_ttl none = {{0}};
    assert_int_equal(met_ttl_summary(&none, &lo, &hi), 0);
    none.count[MET_TTL_UNKNOWN] = 7; /* TTL 0: not reported, no value */
    assert_int_equal(met_ttl_summary(&none, &lo, &hi), 0);
    none.count[64] = 1;
    assert_int_equal(met_ttl_summary(&none, &lo, &hi), 1);
    assert_int_equal(lo, 64);
    assert_int_equal(hi, 64);
}

/* ---- IPDV (RFC 3393) ---- */

static void test_ipdv(void **state)
{
    (void)state;
    /* delays 100, 150, lost, 120, 90 us: pairs (0,1) = +50 us and (3,4) = -30 us */
    struct met_owrec r[] = {ow(0, 100 * US), ow(1, 150 * US), ow_lost(2), ow(3, 120 * US),
                            ow(4, 90 * US)};
    struct met_params p = {0};
    struct met_ow_stats s;
    compute_ow(r, 5, &p, &s);
    assert_int_equal(s.ipdv.pairs, 2);
    assert_int_equal(s.ipdv.min_ns, -30 * US);
    assert_int_equal(s.ipdv.max_ns, 50 * US);
    assert_int_equal(s.ipdv.mean_abs_ns, 40 * US);
    met_ow_stats_free(&s);
}

/* ---- sync, error, sources, first/last ---- */

static void test_sync_and_error(void **state)
{
    (void)state;
    struct met_owrec r[] = {ow(0, 1 * MS), ow(1, 1 * MS)};
    r[0].send_err = ERR_SYNC;
    r[0].recv_err = 0x8102; /* S=1, scale 1, multiplier 2: 4 * 2^-32 s */
    r[1].send_err = r[1].recv_err = ERR_SYNC;
    r[1].recv_src = CLK_SRC_HARDWARE;
    struct met_params p = {0};
    struct met_ow_stats s;
    compute_ow(r, 2, &p, &s);
    assert_true(s.synced);
    assert_int_equal(s.maxerr_ntp, 5);
    assert_int_equal(s.src_count[CLK_SRC_KERNEL], 1);
    assert_int_equal(s.src_count[CLK_SRC_HARDWARE], 1);
    assert_int_equal(s.first_send.ns, BASE_NS);
    assert_int_equal(s.last_send.ns, BASE_NS + 100 * MS);
    met_ow_stats_free(&s);

    r[1].recv_err = ERR_UNSYNC; /* any S=0 makes the session unsynchronised */
    compute_ow(r, 2, &p, &s);
    assert_false(s.synced);
    met_ow_stats_free(&s);
}

static void test_errest_units(void **state)
{
    (void)state;
    assert_int_equal(met_errest_ntp(0x0001), 1);
    assert_int_equal(met_errest_ntp(0x0a03), 3u << 10);
    assert_int_equal(met_errest_ntp(0x3fff), UINT64_MAX); /* 255 * 2^63 does not fit */
    assert_true(met_errest_synced(0x8000));
    assert_false(met_errest_synced(0x7fff));
    assert_int_equal(met_ntp_to_ns(1), 1); /* 0.23 ns rounds up */
    assert_int_equal(met_ntp_to_ns(1ULL << 32), 1000000000);
    assert_int_equal(met_ntp_to_ns(1ULL << 31), 500000000);
}

/* ---- TWAMP ---- */

/* A reply for seq with reflector seq rs: forward/processing/reverse times in us. */
static struct met_twrec tw(uint32_t seq, uint32_t rs, int64_t fwd_us, int64_t proc_us,
                           int64_t rev_us)
{
    struct met_twrec r = {.seq = seq, .refl_seq = rs, .sender_ttl = 255, .refl_ttl = 254};
    r.t1.ns = BASE_NS + (int64_t)seq * 100 * MS;
    r.t2.ns = r.t1.ns + fwd_us * US;
    r.t3.ns = r.t2.ns + proc_us * US;
    r.t4.ns = r.t3.ns + rev_us * US;
    r.t1_err = r.t2_err = r.t3_err = r.t4_err = ERR_UNSYNC;
    r.t1_src = r.t4_src = CLK_SRC_KERNEL;
    r.flags = MET_TW_REFL_SEQ;
    return r;
}

static struct met_twrec tw_lost(uint32_t seq)
{
    struct met_twrec r = tw(seq, 0, 0, 0, 0);
    r.t2.ns = r.t3.ns = r.t4.ns = 0;
    r.flags = MET_TW_LOST;
    return r;
}

static void test_tw_delays(void **state)
{
    (void)state;
    struct met_twrec r[] = {tw(0, 0, 30, 5, 20), tw(1, 1, 40, 10, 30), tw(2, 2, 50, 15, 25)};
    struct met_params p = {0};
    struct met_tw_stats s;
    assert_int_equal(met_tw_compute(r, 3, &p, &s), 0);
    assert_int_equal(s.sent, 3);
    assert_int_equal(s.lost, 0);
    /* round trip excludes processing: 50, 70, 75 us */
    assert_int_equal(met_dist_min(&s.rtt), 50 * US);
    assert_int_equal(met_dist_median(&s.rtt), 70 * US);
    assert_int_equal(met_dist_max(&s.rtt), 75 * US);
    assert_int_equal(met_dist_median(&s.fwd), 40 * US);
    assert_int_equal(met_dist_median(&s.rev), 25 * US);
    assert_int_equal(s.proc_min_ns, 5 * US);
    assert_int_equal(s.proc_max_ns, 15 * US);
    assert_false(s.clocks_offset);
    assert_false(s.synced);
    assert_int_equal(s.maxerr_rtt_ntp, 4);
    assert_int_equal(s.maxerr_fwd_ntp, 2);
    assert_int_equal(s.maxerr_rev_ntp, 2);
    assert_int_equal(s.send_ttl.count[255], 3);
    assert_int_equal(s.reflect_ttl.count[254], 3);
    assert_true(s.dir_known);
    assert_int_equal(s.lost_fwd + s.lost_rev, 0);
    met_tw_stats_free(&s);
}

static void test_tw_direction_split(void **state)
{
    (void)state;
    /* seq 3 never reached the reflector (its counter does not advance); the reply to seq 6
     * (reflector seq 5) was lost on the way back, leaving a gap in reflector seqs */
    struct met_twrec r[] = {tw(0, 0, 30, 5, 20), tw(1, 1, 30, 5, 20), tw(2, 2, 30, 5, 20),
                            tw_lost(3),          tw(4, 3, 30, 5, 20), tw(5, 4, 30, 5, 20),
                            tw_lost(6),          tw(7, 6, 30, 5, 20), tw(8, 7, 30, 5, 20),
                            tw(9, 8, 30, 5, 20)};
    struct met_params p = {0};
    struct met_tw_stats s;
    assert_int_equal(met_tw_compute(r, 10, &p, &s), 0);
    assert_int_equal(s.sent, 10);
    assert_int_equal(s.lost, 2);
    assert_true(s.dir_known);
    assert_int_equal(s.lost_fwd, 1);
    assert_int_equal(s.lost_rev, 1);
    met_tw_stats_free(&s);

    /* a reflector that does not number its replies: no split */
    for (size_t i = 0; i < LP_ARRAY_LEN(r); i++) {
        r[i].flags &= (uint8_t)~MET_TW_REFL_SEQ;
    }
    assert_int_equal(met_tw_compute(r, 10, &p, &s), 0);
    assert_false(s.dir_known);
    assert_int_equal(s.lost, 2);
    met_tw_stats_free(&s);
}

/* TWAMP Light / STAMP: a reflector that may copy our numbers. Replies numbered as we number
 * them could come from a stateless reflector (no split possible) or a counting one that lost
 * nothing on the way out: the split stays unknown; a number of its own proves a counter. */
static void test_tw_direction_copy(void **state)
{
    (void)state;
    struct met_twrec r[] = {tw(0, 0, 30, 5, 20), tw(1, 1, 30, 5, 20), tw_lost(2),
                            tw(3, 3, 30, 5, 20), tw(4, 4, 30, 5, 20)};
    for (size_t i = 0; i < LP_ARRAY_LEN(r); i++) {
        r[i].flags |= r[i].flags & MET_TW_REFL_SEQ ? MET_TW_REFL_COPY : 0;
    }
    struct met_params p = {0};
    struct met_tw_stats s;
    assert_int_equal(met_tw_compute(r, 5, &p, &s), 0);
    assert_int_equal(s.lost, 1);
    assert_false(s.dir_known); /* not "1 lost on the way back" */
    met_tw_stats_free(&s);

    r[3].refl_seq = 2; /* the reflector counted: seq 2 never reached it */
    r[4].refl_seq = 3;
    assert_int_equal(met_tw_compute(r, 5, &p, &s), 0);
    assert_true(s.dir_known);
    assert_int_equal(s.lost_fwd, 1);
    assert_int_equal(s.lost_rev, 0);
    met_tw_stats_free(&s);

    r[2] = tw(2, 2, 30, 5, 20); /* nothing lost: nothing to split, known either way */
    r[2].flags |= MET_TW_REFL_COPY;
    r[3].refl_seq = 3;
    r[4].refl_seq = 4;
    assert_int_equal(met_tw_compute(r, 5, &p, &s), 0);
    assert_true(s.dir_known);
    assert_int_equal(s.lost_fwd + s.lost_rev, 0);
    met_tw_stats_free(&s);
}

static void test_tw_duplicates(void **state)
{
    (void)state;
    /* seq 1 duplicated on the way out: reflected twice (reflector seqs 1 and 2).
     * seq 2's reply (reflector seq 3) duplicated on the way back: same pair twice. */
    struct met_twrec r[] = {tw(0, 0, 30, 5, 20), tw(1, 1, 30, 5, 20), tw(1, 2, 35, 5, 20),
                            tw(2, 3, 30, 5, 20), tw(2, 3, 30, 5, 26)};
    struct met_params p = {0};
    struct met_tw_stats s;
    assert_int_equal(met_tw_compute(r, 5, &p, &s), 0);
    assert_int_equal(s.sent, 3);
    assert_int_equal(s.received, 3);
    assert_int_equal(s.send_dups, 1);
    assert_int_equal(s.reflect_dups, 1);
    /* first copies only: rtt 50, 50, 50 us */
    assert_int_equal(met_dist_max(&s.rtt), 50 * US);
    assert_int_equal(s.lost_rev, 0);
    met_tw_stats_free(&s);
}

static void test_tw_offset_and_timeout(void **state)
{
    (void)state;
    /* reflector clock 1 ms behind: forward delay negative */
    struct met_twrec r[] = {tw(0, 0, -1000, 5, 1100), tw(1, 1, 30, 5, 3000000)};
    struct met_params p = {.loss_timeout_ns = 2000 * MS};
    struct met_tw_stats s;
    assert_int_equal(met_tw_compute(r, 2, &p, &s), 0);
    assert_true(s.clocks_offset);
    assert_int_equal(s.lost, 1); /* seq 1's reply came after 3 s */
    assert_int_equal(met_dist_min(&s.rtt), 100 * US);
    met_tw_stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_flagged),
        cmocka_unit_test(test_loss_missing_records_and_timeout),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_reorder_late_pair),
        cmocka_unit_test(test_reorder_single_late),
        cmocka_unit_test(test_reorder_in_order_and_dups),
        cmocka_unit_test(test_reorder_swaps),
        cmocka_unit_test(test_percentiles_odd),
        cmocka_unit_test(test_percentiles_even),
        cmocka_unit_test(test_percentiles_with_loss),
        cmocka_unit_test(test_percentile_rounding),
        cmocka_unit_test(test_compute_sorts_delays),
        cmocka_unit_test(test_hops),
        cmocka_unit_test(test_ipdv),
        cmocka_unit_test(test_sync_and_error),
        cmocka_unit_test(test_errest_units),
        cmocka_unit_test(test_tw_delays),
        cmocka_unit_test(test_tw_direction_split),
        cmocka_unit_test(test_tw_direction_copy),
        cmocka_unit_test(test_tw_duplicates),
        cmocka_unit_test(test_tw_offset_and_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
