/* test_recstore.c - the bounded record store: memory part, file part, runs, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "recstore.h"

/* A 24-octet record whose content follows from its index. */
struct rec {
    uint64_t idx;
    uint64_t sq;
    uint32_t tag;
    uint32_t pad;
};

static struct rec make(uint64_t i)
{
    return (struct rec){.idx = i, .sq = i * i, .tag = (uint32_t)(i ^ 0xa5a5a5a5u)};
}

/* Walk the whole store and check every record is there, in order. */
static void check_all(struct rst *st, uint64_t n)
{
    uint64_t i = 0;
    const void *p;
    size_t k;
    while ((k = rst_get(st, i, &p, NULL)) > 0) {
        for (size_t j = 0; j < k; j++) {
            struct rec r, want = make(i + j);
            memcpy(&r, (const uint8_t *)p + j * sizeof(r), sizeof(r));
            assert_memory_equal(&r, &want, sizeof(r));
        }
        i += k;
    }
    assert_int_equal(i, n);
    assert_int_equal(rst_count(st), n);
}

static void test_memory_only(void **state)
{
    (void)state;
    struct rst *st = rst_create(sizeof(struct rec), 1 << 20, NULL);
    assert_non_null(st);
    const void *p;
    assert_int_equal(rst_get(st, 0, &p, NULL), 0);
    for (uint64_t i = 0; i < 1000; i++) {
        struct rec r = make(i);
        assert_int_equal(rst_append(st, &r), 0);
    }
    check_all(st, 1000);
    assert_int_equal(rst_file_count(st), 0);
    assert_int_equal(rst_get(st, 1000, &p, NULL), 0);
    rst_destroy(st);
}

/* Past the budget records go to the file; memory stays bounded; everything reads back,
 * also from the middle and out of order. */
static void test_spill(void **state)
{
    (void)state;
    const uint64_t n = 200000; /* 4.8 MB of records against a 64 KiB budget */
    struct rst *st = rst_create(sizeof(struct rec), 65536, NULL);
    assert_non_null(st);
    size_t peak = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct rec r = make(i);
        assert_int_equal(rst_append(st, &r), 0);
        size_t m = rst_mem_bytes(st);
        peak = m > peak ? m : peak;
    }
    assert_true(rst_file_count(st) > 0);
    assert_true(rst_file_count(st) < n);
    check_all(st, n);
    assert_true(rst_mem_bytes(st) <= 65536 + 2 * RST_CHUNK_BYTES);
    assert_true(peak <= 65536 + 2 * RST_CHUNK_BYTES);
    /* random access: a run starts exactly at the index asked */
    const uint64_t probes[] = {n - 1, 5, 65536 / sizeof(struct rec), 123457, 0, n / 2};
    for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
        const void *p;
        size_t got = rst_get(st, probes[k], &p, NULL);
        assert_true(got >= 1);
        struct rec r, want = make(probes[k]);
        memcpy(&r, p, sizeof(r));
        assert_memory_equal(&r, &want, sizeof(r));
    }
    rst_destroy(st);
}

/* The spill file lives in the directory given and has no name there. */
static void test_dir_unnamed(void **state)
{
    (void)state;
    char dir[] = "/tmp/rst-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct rst *st = rst_create(sizeof(struct rec), sizeof(struct rec), dir);
    assert_non_null(st);
    for (uint64_t i = 0; i < 10000; i++) {
        struct rec r = make(i);
        assert_int_equal(rst_append(st, &r), 0);
    }
    assert_true(rst_file_count(st) > 0);
    check_all(st, 10000);
    assert_int_equal(rmdir(dir), 0); /* empty: the file had no name */
    rst_destroy(st);
}

/* A directory that does not exist: the record that needs the file is refused with
 * LP_E_IO and the ones before it stay readable. */
static void test_no_dir(void **state)
{
    (void)state;
    struct rst *st = rst_create(sizeof(struct rec), sizeof(struct rec) * 4, "/nonexistent/rst");
    assert_non_null(st);
    uint64_t ok = 0;
    int rc = 0;
    for (uint64_t i = 0; i < 10000 && rc == 0; i++) {
        struct rec r = make(i);
        if ((rc = rst_append(st, &r)) == 0) {
            ok++;
        }
    }
    assert_int_equal(rc, LP_E_IO);
    assert_int_equal(rst_count(st), ok);
    check_all(st, ok);
    rst_destroy(st);
}

static void test_bad_args(void **state)
{
    (void)state;
    assert_null(rst_create(0, 0, NULL));
    assert_null(rst_create(RST_CHUNK_BYTES + 1, 0, NULL));
    rst_destroy(NULL);
    struct rst *st = rst_create(8, 1, NULL); /* budget below one record: still one */
    assert_non_null(st);
    uint64_t v = 42;
    assert_int_equal(rst_append(st, &v), 0);
    const void *p;
    assert_int_equal(rst_get(st, 0, &p, NULL), 1);
    assert_memory_equal(p, &v, 8);
    rst_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_only), cmocka_unit_test(test_spill),
        cmocka_unit_test(test_dir_unnamed), cmocka_unit_test(test_no_dir),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
