/* test_session_flows.c - the light reflector's flow table (session_flows.c) with times
 * given by the test: a flow keeps its class, STAMP flows count per SSID, an idle flow is
 * forgotten, a full table reuses its least recently used entry, and the hash chains stay
 * whole through reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "session_int.h"

#define S 1000000000LL /* one second in ns */

static struct light_flow_key key(uint8_t last, uint16_t port)
{
    struct light_flow_key k = {.addr = {127, 0, 0, last}, .family = 4, .port = port};
    return k;
}

static void test_class_kept(void **state)
{
    (void)state;
    struct light_flows *t = lflows_create(16, 30 * S);
    struct light_flow_key a = key(1, 1000), b = key(1, 1001);
    assert_int_equal(lflows_class(t, &a, 0), LIGHT_CLASS_NONE);
    lflows_use(t, &a, LIGHT_CLASS_LIGHT, 0, 0);
    lflows_use(t, &b, LIGHT_CLASS_STAMP, 7, 0);
    assert_int_equal(lflows_class(t, &a, S), LIGHT_CLASS_LIGHT);
    assert_int_equal(lflows_class(t, &b, S), LIGHT_CLASS_STAMP);
    /* IPv6 ::7f00:1 is not 127.0.0.1 */
    struct light_flow_key v6 = a;
    v6.family = 6;
    assert_int_equal(lflows_class(t, &v6, S), LIGHT_CLASS_NONE);
    lflows_destroy(t);
}

/* STAMP: one entry, with its own counters, per SSID of a flow. */
static void test_stamp_per_ssid(void **state)
{
    (void)state;
    struct light_flows *t = lflows_create(16, 30 * S);
    struct light_flow_key a = key(2, 2000);
    struct light_flow *f1 = lflows_use(t, &a, LIGHT_CLASS_STAMP, 1, 0);
    f1->tx = 5;
    struct light_flow *f2 = lflows_use(t, &a, LIGHT_CLASS_STAMP, 2, 0);
    assert_ptr_not_equal(f1, f2);
    assert_int_equal(f2->tx, 0);
    assert_ptr_equal(lflows_use(t, &a, LIGHT_CLASS_STAMP, 1, S), f1);
    assert_int_equal(f1->tx, 5);
    assert_int_equal(lflows_count(t, S), 2);
    lflows_destroy(t);
}

/* A flow idle longer than the idle time is new again: no class, counters from zero. */
static void test_idle_expiry(void **state)
{
    (void)state;
    struct light_flows *t = lflows_create(16, 30 * S);
    struct light_flow_key a = key(3, 3000);
    lflows_use(t, &a, LIGHT_CLASS_STAMP, 9, 0)->tx = 20;
    assert_int_equal(lflows_use(t, &a, LIGHT_CLASS_STAMP, 9, 30 * S)->tx, 20); /* 30 s: kept */
    assert_int_equal(lflows_class(t, &a, 60 * S), LIGHT_CLASS_STAMP);
    assert_int_equal(lflows_class(t, &a, 60 * S + 1), LIGHT_CLASS_NONE);
    assert_int_equal(lflows_count(t, 60 * S + 1), 0);
    struct light_flow *f = lflows_use(t, &a, LIGHT_CLASS_LIGHT, 0, 61 * S);
    assert_int_equal(f->cls, LIGHT_CLASS_LIGHT);
    assert_int_equal(lflows_class(t, &a, 61 * S), LIGHT_CLASS_LIGHT);
    /* idle time 0: never forgotten by time */
    lflows_set_idle(t, 0);
    assert_int_equal(lflows_class(t, &a, 1000000 * S), LIGHT_CLASS_LIGHT);
    lflows_destroy(t);
}

/* Full: the least recently used flow goes, the others (and their chains) stay intact. */
static void test_bound_lru(void **state)
{
    (void)state;
    struct light_flows *t = lflows_create(3, 0);
    struct light_flow_key k[5];
    for (int i = 0; i < 5; i++) {
        k[i] = key(4, (uint16_t)(4000 + i));
    }
    lflows_use(t, &k[0], LIGHT_CLASS_LIGHT, 0, 1);
    lflows_use(t, &k[1], LIGHT_CLASS_LIGHT, 0, 2);
    lflows_use(t, &k[2], LIGHT_CLASS_LIGHT, 0, 3);
    lflows_use(t, &k[0], LIGHT_CLASS_LIGHT, 0, 4); /* k[1] is now the least recent */
    lflows_use(t, &k[3], LIGHT_CLASS_STAMP, 1, 5);
    assert_int_equal(lflows_class(t, &k[1], 6), LIGHT_CLASS_NONE);
    assert_int_equal(lflows_class(t, &k[0], 6), LIGHT_CLASS_LIGHT);
    assert_int_equal(lflows_class(t, &k[2], 6), LIGHT_CLASS_LIGHT);
    assert_int_equal(lflows_class(t, &k[3], 6), LIGHT_CLASS_STAMP);
    lflows_use(t, &k[4], LIGHT_CLASS_LIGHT, 0, 7); /* k[2] goes */
    assert_int_equal(lflows_class(t, &k[2], 8), LIGHT_CLASS_NONE);
    assert_int_equal(lflows_count(t, 8), 3);
    lflows_destroy(t);
}

/* Many sources through a small table: whatever is reused, the flows kept are found. */
static void test_reuse_many(void **state)
{
    (void)state;
    struct light_flows *t = lflows_create(64, 0);
    for (uint32_t i = 0; i < 10000; i++) {
        struct light_flow_key k = key((uint8_t)(i >> 16), (uint16_t)i);
        lflows_use(t, &k, (i & 1) ? LIGHT_CLASS_STAMP : LIGHT_CLASS_LIGHT, 0, i);
    }
    for (uint32_t i = 10000 - 64; i < 10000; i++) {
        struct light_flow_key k = key((uint8_t)(i >> 16), (uint16_t)i);
        assert_int_equal(lflows_class(t, &k, 10000),
                         (i & 1) ? LIGHT_CLASS_STAMP : LIGHT_CLASS_LIGHT);
    }
    struct light_flow_key old = key(0, 10000 - 65);
    assert_int_equal(lflows_class(t, &old, 10000), LIGHT_CLASS_NONE);
    assert_int_equal(lflows_count(t, 10000), 64);
    lflows_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_kept),  cmocka_unit_test(test_stamp_per_ssid),
        cmocka_unit_test(test_idle_expiry), cmocka_unit_test(test_bound_lru),
        cmocka_unit_test(test_reuse_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
