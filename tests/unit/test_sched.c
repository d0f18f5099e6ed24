/* test_sched.c - RFC 4656 schedules: Appendix B vectors, fixed and mixed slot cycles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "common.h"
#include "sched.h"

#define ONE_S (1ULL << 32) /* 1 s as an NTP duration */

static void hex16(const char *hex, uint8_t out[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static struct sched *make(const struct sched_slot *slots, size_t n, const char *sid_hex)
{
    uint8_t sid[16];
    hex16(sid_hex, sid);
    struct sched *s = NULL;
    assert_int_equal(sched_create(slots, n, sid, &s), 0);
    assert_non_null(s);
    return s;
}

/* RFC 4656 Appendix B: for each SID, the sum of the first 1,000,000 exponential deviates
 * (mean 1, 32.32 fixed point). With one exponential slot of mean 1 s the schedule's cumulative
 * offset is exactly that sum (multiplying by 1.0 is exact in 32.32). */
static void test_appendix_b(void **state)
{
    (void)state;
    static const struct {
        const char *sid;
        uint64_t sum;
    } vec[] = {
        {"2872979303ab47eeac028dab3829dab2", 0x000f4479bd317381ULL},
        {"0102030405060708090a0b0c0d0e0f00", 0x000f433686466a62ULL},
        {"deadbeefdeadbeefdeadbeefdeadbeef", 0x000f416c8884d2d3ULL},
        {"feed0feed1feed2feed3feed4feed5ab", 0x000f3f0b4b416ec8ULL},
    };
    const struct sched_slot slot = {SCHED_SLOT_EXP, ONE_S};
    for (size_t v = 0; v < LP_ARRAY_LEN(vec); v++) {
        struct sched *s = make(&slot, 1, vec[v].sid);
        uint64_t off = 0;
        for (int i = 0; i < 1000000; i++) {
            off = sched_next_offset(s);
        }
        assert_int_equal(sched_count(s), 1000000);
        assert_int_equal(off, vec[v].sum);
        sched_destroy(s);
    }
}

/* Raw deviates through sched_exp_deviate add up to the same first vector. */
static void test_appendix_b_deviates(void **state)
{
    (void)state;
    const struct sched_slot slot = {SCHED_SLOT_FIXED, 0};
    struct sched *s = make(&slot, 1, "2872979303ab47eeac028dab3829dab2");
    uint64_t sum = 0;
    for (int i = 0; i < 1000000; i++) {
        sum += sched_exp_deviate(s);
    }
    assert_int_equal(sum, 0x000f4479bd317381ULL);
    sched_destroy(s);
}

static void test_periodic(void **state)
{
    (void)state;
    const struct sched_slot slot = {SCHED_SLOT_FIXED, clk_ns_to_ntp_duration(100000000)};
    struct sched *s = make(&slot, 1, "00000000000000000000000000000000");
    for (uint64_t k = 1; k <= 1000; k++) {
        uint64_t off = sched_next_offset(s);
        assert_int_equal(off, k * 0x1999999AULL);
        int64_t ns = clk_ntp_duration_to_ns(off);
        assert_true(ns >= (int64_t)k * 100000000 && ns <= (int64_t)k * 100000000 + 1000);
    }
    sched_destroy(s);
}

/* owamp-open.pcap: Start Time 0xeeb396a0191b0ccc and one fixed slot 0x19999999 (from the
 * Request-Session in clear); every test packet's timestamp lies just after its scheduled time
 * (the first packet goes at start + one slot, not at start). */
static void test_interop_schedule(void **state)
{
    (void)state;
    static const uint64_t sent[10] = {
        0xeeb396a032bb98c7ULL, 0xeeb396a04c5479d4ULL, 0xeeb396a065ed17c5ULL, 0xeeb396a07f8a19c9ULL,
        0xeeb396a099209edbULL, 0xeeb396a0b2bb44e5ULL, 0xeeb396a0cc53c148ULL, 0xeeb396a0e5ef416bULL,
        0xeeb396a0ff89613dULL, 0xeeb396a11921bc12ULL,
    };
    const struct clk_ntp start = {0xeeb396a0191b0cccULL};
    const struct sched_slot slot = {SCHED_SLOT_FIXED, 0x19999999ULL};
    struct sched *s = make(&slot, 1, "7f000001eeb3969f24438088de1292d3");
    for (int i = 0; i < 10; i++) {
        struct clk_time due = sched_send_time(start, sched_next_offset(s));
        int64_t late = clk_from_ntp((struct clk_ntp){sent[i]}).ns - due.ns;
        assert_true(late >= 0 && late < 1000000);
    }
    sched_destroy(s);
}

/* Slots cycle in order; fixed slots consume no random numbers, so the exponential slots of a
 * mixed schedule see the same deviates as an all-exponential schedule with the same SID, and
 * a mean of 0.5 s halves each deviate exactly (truncating 32.32 product). */
static void test_mixed_cycle(void **state)
{
    (void)state;
    const char *sid = "0102030405060708090a0b0c0d0e0f00";
    const struct sched_slot mixed[] = {
        {SCHED_SLOT_FIXED, ONE_S},
        {SCHED_SLOT_EXP, ONE_S},
        {SCHED_SLOT_FIXED, ONE_S / 4},
        {SCHED_SLOT_EXP, ONE_S / 2},
    };
    const struct sched_slot exp1 = {SCHED_SLOT_EXP, ONE_S};
    struct sched *m = make(mixed, LP_ARRAY_LEN(mixed), sid);
    struct sched *ref = make(&exp1, 1, sid);
    uint64_t prev = 0, ref_prev = 0;
    for (int i = 0; i < 400; i++) {
        uint64_t off = sched_next_offset(m);
        uint64_t delta = off - prev;
        prev = off;
        uint64_t dev = 0;
        if (mixed[i % 4].type == SCHED_SLOT_EXP) {
            uint64_t r = sched_next_offset(ref);
            dev = r - ref_prev;
            ref_prev = r;
        }
        switch (i % 4) {
        case 0: assert_int_equal(delta, ONE_S); break;
        case 1: assert_int_equal(delta, dev); break;
        case 2: assert_int_equal(delta, ONE_S / 4); break;
        default: assert_int_equal(delta, dev >> 1); break;
        }
    }
    assert_int_equal(sched_count(m), 400);
    sched_destroy(m);
    sched_destroy(ref);
}

static void test_reset_and_sid(void **state)
{
    (void)state;
    const struct sched_slot slot = {SCHED_SLOT_EXP, ONE_S / 10};
    struct sched *a = make(&slot, 1, "deadbeefdeadbeefdeadbeefdeadbeef");
    struct sched *b = make(&slot, 1, "deadbeefdeadbeefdeadbeefdeadbeee");
    uint64_t first[50];
    int differ = 0;
    for (int i = 0; i < 50; i++) {
        first[i] = sched_next_offset(a);
        differ += first[i] != sched_next_offset(b);
        assert_true(i == 0 || first[i] >= first[i - 1]);
    }
    assert_true(differ > 45);
    sched_reset(a);
    assert_int_equal(sched_count(a), 0);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(sched_next_offset(a), first[i]);
    }
    sched_destroy(a);
    sched_destroy(b);
}

static void test_invalid(void **state)
{
    (void)state;
    uint8_t sid[16] = {0};
    struct sched *s = NULL;
    const struct sched_slot bad[] = {{SCHED_SLOT_FIXED, 1}, {2, 1}};
    assert_int_equal(sched_create(bad, 0, sid, &s), LP_E_LEN);
    assert_int_equal(sched_create(bad, 2, sid, &s), LP_E_VALUE);
    assert_null(s);
    assert_int_equal(sched_create(bad, 1, sid, &s), 0);
    sched_destroy(s);
    sched_destroy(NULL);
}

/* The cumulative offset saturates instead of wrapping. */
static void test_saturation(void **state)
{
    (void)state;
    const struct sched_slot slot = {SCHED_SLOT_FIXED, UINT64_MAX / 2 + 1};
    struct sched *s = make(&slot, 1, "00000000000000000000000000000000");
    assert_int_equal(sched_next_offset(s), UINT64_MAX / 2 + 1);
    assert_int_equal(sched_next_offset(s), UINT64_MAX);
    assert_int_equal(sched_next_offset(s), UINT64_MAX);
    sched_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_b),  cmocka_unit_test(test_appendix_b_deviates),
        cmocka_unit_test(test_periodic),    cmocka_unit_test(test_interop_schedule),
        cmocka_unit_test(test_mixed_cycle), cmocka_unit_test(test_reset_and_sid),
        cmocka_unit_test(test_invalid),     cmocka_unit_test(test_saturation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
