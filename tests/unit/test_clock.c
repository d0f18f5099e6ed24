/* test_clock.c - NTP/PTP conversions, durations, Error Estimate and kernel clock state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "common.h"

#define NS 1000000000LL
#define UNIX_2036 2085978496LL /* 2036-02-07T06:28:16Z, NTP era 0 ends */

/* Deterministic 64-bit generator for property tests (splitmix64). */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Unix seconds of a UTC calendar time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm);
}

static void test_epochs(void **state)
{
    (void)state;
    assert_int_equal(clk_to_ntp((struct clk_time){0}).raw, 2208988800ULL << 32);
    assert_int_equal(clk_from_ntp((struct clk_ntp){2208988800ULL << 32}).ns, 0);
    /* 2036-02-07T06:28:16Z is NTP seconds 0 of era 1 */
    assert_int_equal(clk_to_ntp((struct clk_time){UNIX_2036 * NS}).raw, 0);
    assert_int_equal(clk_from_ntp((struct clk_ntp){0}).ns, UNIX_2036 * NS);
    /* the NTP prime epoch itself wraps to 0 as well, without overflow */
    assert_int_equal(clk_to_ntp((struct clk_time){-2208988800LL * NS}).raw, 0);
}

/* Test packets of owamp-open.pcap: the 8 timestamp octets of the UDP payload (offset 4), and
 * the instant owamp-open.decoded.txt prints for them (ISO µs, NTP seconds). The sender writes
 * microsecond clock readings, so each raw value is a whole number of µs to within 2^-32 s. */
static const struct {
    uint64_t raw;
    uint64_t ntp_sec;
    int hms[3];
    int us;
} interop_ts[] = {
    {0xeeb396a032bae03bULL, 4004746912ULL, {5, 41, 52}, 198164},
    {0xeeb396a032bb98c7ULL, 4004746912ULL, {5, 41, 52}, 198175},
    {0xeeb396a065ed17c5ULL, 4004746912ULL, {5, 41, 52}, 398149},
    {0xeeb396a0ff8b2639ULL, 4004746912ULL, {5, 41, 52}, 998217},
    {0xeeb396a11921bc12ULL, 4004746913ULL, {5, 41, 53}, 98171},
    {0xeeb396a119237047ULL, 4004746913ULL, {5, 41, 53}, 98197},
};

static void test_interop_timestamps(void **state)
{
    (void)state;
    for (size_t i = 0; i < LP_ARRAY_LEN(interop_ts); i++) {
        int64_t sec =
            utc(2026, 11, 27, interop_ts[i].hms[0], interop_ts[i].hms[1], interop_ts[i].hms[2]);
        int64_t ns = sec * NS + interop_ts[i].us * 1000LL;
        assert_int_equal(interop_ts[i].raw >> 32, interop_ts[i].ntp_sec);
        assert_int_equal(clk_from_ntp((struct clk_ntp){interop_ts[i].raw}).ns, ns);
        /* the reference truncates µs to a fraction, we round: at most one unit apart */
        uint64_t ours = clk_to_ntp((struct clk_time){ns}).raw;
        assert_true(ours - interop_ts[i].raw <= 1);
    }
    /* decoded dumps: Start=2026-11-27T05:42:14.269553 (4004746934.269553185) */
    int64_t start = utc(2026, 11, 27, 5, 42, 14) * NS + 269553000LL;
    assert_int_equal(clk_to_ntp((struct clk_time){start}).raw >> 32, 4004746934ULL);
    /* ... Start-Time (uptime) = 2026-11-27T05:41:39.801762 (4004746899.801762104) */
    start = utc(2026, 11, 27, 5, 41, 39) * NS + 801762000LL;
    assert_int_equal(clk_to_ntp((struct clk_time){start}).raw >> 32, 4004746899ULL);
}

/* Hand-computed sub-nanosecond cases: 1 ns = 4.294967296 fraction units. */
static void test_sub_ns_rounding(void **state)
{
    (void)state;
    const uint64_t base = 3900000000ULL << 32;
    const int64_t base_ns = (3900000000LL - 2208988800LL) * NS;
    assert_int_equal(clk_to_ntp((struct clk_time){base_ns + 1}).raw, base | 4);
    assert_int_equal(clk_to_ntp((struct clk_time){base_ns + 500000000}).raw, base | 0x80000000);
    assert_int_equal(clk_to_ntp((struct clk_time){base_ns + 999999999}).raw, base | 0xfffffffc);
    assert_int_equal(clk_from_ntp((struct clk_ntp){base | 2}).ns, base_ns);     /* 0.47 ns */
    assert_int_equal(clk_from_ntp((struct clk_ntp){base | 3}).ns, base_ns + 1); /* 0.70 ns */
    assert_int_equal(clk_from_ntp((struct clk_ntp){base | 0x80000000}).ns, base_ns + 500000000);
    /* 0.99999999977 s rounds up into the next second */
    assert_int_equal(clk_from_ntp((struct clk_ntp){base | 0xffffffff}).ns, base_ns + NS);
}

/* Over 1970..2035: ns -> NTP -> ns is exact, and each direction rounds to nearest. */
static void test_ntp_round_trip_range(void **state)
{
    (void)state;
    uint64_t rng = 1;
    const uint64_t span = (uint64_t)utc(2036, 1, 1, 0, 0, 0) * NS;
    for (int i = 0; i < 200000; i++) {
        int64_t ns = (int64_t)(rng_next(&rng) % span);
        struct clk_ntp n = clk_to_ntp((struct clk_time){ns});
        assert_int_equal(clk_from_ntp(n).ns, ns);
        assert_int_equal(n.raw >> 32, (uint64_t)(ns / NS) + 2208988800ULL);
        uint64_t frac_scaled = (n.raw & 0xffffffffULL) * (uint64_t)NS;
        uint64_t ns_scaled = (uint64_t)(ns % NS) << 32;
        uint64_t diff = frac_scaled > ns_scaled ? frac_scaled - ns_scaled : ns_scaled - frac_scaled;
        assert_true(diff <= (uint64_t)NS / 2); /* half a fraction unit */
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t raw = (rng_next(&rng) | (1ULL << 63)); /* era 0 from 1968 on */
        int64_t ns = clk_from_ntp((struct clk_ntp){raw}).ns;
        int64_t sec = ns / NS + 2208988800LL;
        uint64_t sub = (uint64_t)(ns - (ns / NS) * NS);
        if (ns < 0) {
            continue; /* 1968-1969: checked through the round trip above only */
        }
        /* |sub * 2^32 - frac * 1e9| <= 2^31 (half a nanosecond), allowing the carry case */
        uint64_t a = sub << 32;
        uint64_t b = (raw & 0xffffffffULL) * (uint64_t)NS;
        if ((uint64_t)sec == (raw >> 32) + 1) {
            a += (uint64_t)NS << 32; /* cannot overflow: only when b is near 2^32 * 1e9 */
        } else {
            assert_int_equal((uint64_t)sec, raw >> 32);
        }
        uint64_t diff = a > b ? a - b : b - a;
        assert_true(diff <= 1ULL << 31);
        /* back to NTP: within 3 fraction units (1 ns is 4.3 units) */
        uint64_t back = clk_to_ntp((struct clk_time){ns}).raw;
        uint64_t d2 = back > raw ? back - raw : raw - back;
        assert_true(d2 <= 3);
    }
}

static void test_ntp_era1(void **state)
{
    (void)state;
    int64_t t2040 = utc(2040, 1, 1, 0, 0, 0) * NS + 123456789;
    struct clk_ntp n = clk_to_ntp((struct clk_time){t2040});
    assert_int_equal(n.raw >> 32,
                     (uint64_t)utc(2040, 1, 1, 0, 0, 0) + 2208988800ULL - (1ULL << 32));
    assert_int_equal(clk_from_ntp(n).ns, t2040);
    int64_t t2100 = utc(2100, 6, 1, 12, 0, 0) * NS + 1;
    assert_int_equal(clk_from_ntp(clk_to_ntp((struct clk_time){t2100})).ns, t2100);
    int64_t t1968 = utc(1968, 6, 1, 0, 0, 0) * NS + 7;
    assert_int_equal(clk_from_ntp(clk_to_ntp((struct clk_time){t1968})).ns, t1968);
}

static void test_ptp(void **state)
{
    (void)state;
    assert_int_equal(clk_to_ptp((struct clk_time){1500000000}), 1ULL << 32 | 500000000);
    int64_t t = utc(2026, 11, 27, 5, 41, 52) * NS + 198175123;
    uint64_t p = clk_to_ptp((struct clk_time){t});
    assert_int_equal(p >> 32, (uint64_t)utc(2026, 11, 27, 5, 41, 52));
    assert_int_equal(p & 0xffffffffULL, 198175123);
    assert_int_equal(clk_from_ptp(p).ns, t);
    /* nanoseconds field out of range is clamped, not carried */
    assert_int_equal(clk_from_ptp(7ULL << 32 | 1000000005ULL).ns, 7 * NS + 999999999);
    /* seconds are unsigned: beyond 2038 still positive */
    assert_int_equal(clk_from_ptp(0xfffffffeULL << 32).ns, (int64_t)0xfffffffeLL * NS);
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(clk_ns_to_ntp_duration(100000000), 0x1999999AULL); /* 0.1 s */
    assert_int_equal(clk_ntp_duration_to_ns(0x19999999ULL), 100000000); /* owamp's 0.1 s slot */
    assert_int_equal(clk_ns_to_ntp_duration(NS), 1ULL << 32);
    assert_int_equal(clk_ntp_duration_to_ns(0x0000000200083127ULL), 2000125000); /* Timeout */
    assert_int_equal(clk_ns_to_ntp_duration(0), 0);
    assert_int_equal(clk_ns_to_ntp_duration(-5), 0);
    assert_int_equal(clk_ns_to_ntp_duration(INT64_MAX), UINT64_MAX);
    assert_int_equal(clk_ntp_duration_to_ns(UINT64_MAX), 4294967296LL * NS);
    uint64_t rng = 7;
    for (int i = 0; i < 100000; i++) {
        int64_t ns = (int64_t)(rng_next(&rng) % (4294967295ULL * (uint64_t)NS));
        assert_int_equal(clk_ntp_duration_to_ns(clk_ns_to_ntp_duration(ns)), ns);
    }
}

static void test_errest_wire(void **state)
{
    (void)state;
    struct clk_errest e = clk_errest_decode(0x0001); /* every interop test packet */
    assert_false(e.sync);
    assert_false(e.ptp);
    assert_int_equal(e.scale, 0);
    assert_int_equal(e.mult, 1);
    assert_int_equal(clk_errest_ns(e), 1); /* 2^-32 s = 0.23 ns, rounded up */
    e = clk_errest_decode(0xC000 | 5 << 8 | 7);
    assert_true(e.sync && e.ptp);
    assert_int_equal(e.scale, 5);
    assert_int_equal(e.mult, 7);
    assert_int_equal(clk_errest_encode((struct clk_errest){true, false, 63, 255}), 0xBFFF);
    for (uint32_t v = 0; v <= 0xffff; v++) {
        assert_int_equal(clk_errest_encode(clk_errest_decode((uint16_t)v)), v);
    }
}

static void test_errest_ns(void **state)
{
    (void)state;
    assert_int_equal(clk_errest_ns((struct clk_errest){false, false, 32, 1}), NS);
    assert_int_equal(clk_errest_ns((struct clk_errest){false, false, 0, 255}), 60); /* 59.4 */
    assert_int_equal(clk_errest_ns((struct clk_errest){false, false, 22, 1}), 976563);
    assert_int_equal(clk_errest_ns((struct clk_errest){false, false, 40, 3}), 768 * NS);
    assert_int_equal(clk_errest_ns((struct clk_errest){false, false, 63, 255}), UINT64_MAX);
    /* Multiplier 0 is invalid (RFC 4656): unknown error */
    assert_false(clk_errest_valid((struct clk_errest){true, false, 10, 0}));
    assert_int_equal(clk_errest_ns((struct clk_errest){true, false, 10, 0}), UINT64_MAX);
}

/* 128-bit helpers for the exact oracle: value(scale, mult) * 1e9 vs err_ns * 2^32. */
struct u128 {
    uint64_t hi, lo;
};

static struct u128 shl(uint64_t v, unsigned n)
{
    if (n == 0) {
        return (struct u128){0, v};
    }
    if (n >= 64) {
        return (struct u128){v << (n - 64), 0};
    }
    return (struct u128){v >> (64 - n), v << n};
}

static int cmp(struct u128 a, struct u128 b)
{
    if (a.hi != b.hi) {
        return a.hi < b.hi ? -1 : 1;
    }
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

/* mult * 2^scale * 1e9 (the estimate in units of 2^-32 ns); never overflows 128 bits. */
static struct u128 est_scaled(unsigned scale, unsigned mult)
{
    return shl((uint64_t)mult * (uint64_t)NS, scale);
}

/* Brute force over all 64 x 255 encodings: from_ns(x) must be the least value >= x, and the
 * largest value below it must be < x. */
static void check_minimal(uint64_t x)
{
    struct clk_errest e = clk_errest_from_ns(x, true);
    assert_true(e.sync);
    assert_true(clk_errest_valid(e));
    struct u128 want = shl(x, 32);
    struct u128 got = est_scaled(e.scale, e.mult);
    assert_true(cmp(got, want) >= 0);
    assert_true(clk_errest_ns(e) >= x);
    for (unsigned s = 0; s <= 63; s++) {
        for (unsigned m = 1; m <= 255; m++) {
            struct u128 v = est_scaled(s, m);
            if (cmp(v, got) < 0) {
                assert_true(cmp(v, want) < 0);
            }
        }
    }
}

static void test_errest_from_ns(void **state)
{
    (void)state;
    for (uint64_t x = 0; x <= 1200; x++) {
        check_minimal(x); /* sub-microsecond, every value */
    }
    uint64_t rng = 3;
    for (unsigned bits = 10; bits <= 64; bits++) {
        for (int i = 0; i < 20; i++) {
            uint64_t x = rng_next(&rng) >> (64 - bits);
            check_minimal(x);
            check_minimal(x + 1);
        }
        uint64_t p = bits == 64 ? UINT64_MAX : 1ULL << bits;
        check_minimal(p - 1);
        check_minimal(p);
    }
    check_minimal(1000); /* 1 us */
    check_minimal(NS);   /* 1 s */
    check_minimal(NS + 1);
    check_minimal(16 * NS); /* the unsync cap */
    assert_false(clk_errest_from_ns(5, false).sync);
    struct clk_errest z = clk_errest_from_ns(0, false);
    assert_int_equal(clk_errest_encode(z), 0x0001);
}

static void test_state_from_kernel(void **state)
{
    (void)state;
    struct clk_state st;
    clk_state_from_kernel(TIME_OK, STA_PLL | STA_NANO, 12, 345, &st);
    assert_true(st.synced);
    assert_int_equal(st.esterror_ns, 12000); /* µs even with STA_NANO */
    assert_int_equal(st.maxerror_ns, 345000);
    clk_state_from_kernel(TIME_ERROR, STA_UNSYNC, 0, 16000000, &st);
    assert_false(st.synced);
    assert_int_equal(st.maxerror_ns, 16000000000ULL);
    clk_state_from_kernel(TIME_OK, STA_UNSYNC, 1, 1, &st);
    assert_false(st.synced);
    clk_state_from_kernel(TIME_ERROR, 0, 1, 1, &st);
    assert_false(st.synced);
    clk_state_from_kernel(TIME_OK, 0, -4, -4, &st);
    assert_int_equal(st.esterror_ns, 0);
    assert_int_equal(st.maxerror_ns, 0);
}

static void test_state_errest(void **state)
{
    (void)state;
    struct clk_state st = {.synced = true, .esterror_ns = 10000, .maxerror_ns = 500000};
    struct clk_errest e = clk_errest_for_state(&st, 1);
    assert_true(e.sync);
    assert_true(clk_errest_ns(e) >= 10001);
    assert_true(clk_errest_ns(e) <= 10001 + 10001 / 100); /* 8-bit multiplier: < 1% above */
    st.esterror_ns = 200000;                              /* tracks the estimate: not a constant */
    struct clk_errest e2 = clk_errest_for_state(&st, 1);
    assert_true(clk_errest_ns(e2) >= 200001);
    assert_int_not_equal(clk_errest_encode(e), clk_errest_encode(e2));
    st.esterror_ns = 0; /* resolution still counts */
    assert_true(clk_errest_ns(clk_errest_for_state(&st, 4000)) >= 4000);

    st = (struct clk_state){.synced = false, .esterror_ns = 0, .maxerror_ns = 3000000};
    e = clk_errest_for_state(&st, 1);
    assert_false(e.sync);
    assert_true(clk_errest_ns(e) >= 3000001);
    st.maxerror_ns = 0;
    e = clk_errest_for_state(&st, 1);
    assert_false(e.sync);
    assert_true(clk_errest_ns(e) >= CLK_UNSYNC_ERROR_NS);
}

/* The live kernel state: must read, and the packet estimate must agree with it. */
static void test_state_live(void **state)
{
    (void)state;
    struct clk_state st;
    int r = clk_state_read(&st);
    if (r == LP_E_IO) {
        skip(); /* ntp_adjtime() denied (seccomp) */
    }
    assert_int_equal(r, 0);
    struct clk_errest e = clk_state_errest(&st);
    assert_int_equal(e.sync, st.synced);
    assert_true(clk_errest_valid(e));
    assert_true(clk_errest_ns(e) >= (st.synced ? st.esterror_ns : st.maxerror_ns));
    assert_true(clk_errest_ns(e) >= 1);
}

static void test_now(void **state)
{
    (void)state;
    time_t before = time(NULL);
    struct clk_time t = clk_now();
    time_t after = time(NULL);
    assert_true(t.ns / NS >= (int64_t)before - 1);
    assert_true(t.ns / NS <= (int64_t)after + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_interop_timestamps),
        cmocka_unit_test(test_sub_ns_rounding),
        cmocka_unit_test(test_ntp_round_trip_range),
        cmocka_unit_test(test_ntp_era1),
        cmocka_unit_test(test_ptp),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_errest_wire),
        cmocka_unit_test(test_errest_ns),
        cmocka_unit_test(test_errest_from_ns),
        cmocka_unit_test(test_state_from_kernel),
        cmocka_unit_test(test_state_errest),
        cmocka_unit_test(test_state_live),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
