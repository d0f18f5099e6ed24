/* test_probe_expo.c - the exporter's figures (pstats) and their exposition (pexpo): buckets
 * filled from libprotocol's statistics with lost packets left out, running totals, numbers,
 * escaping, the text format and OpenMetrics, /probe's names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pexpo.h"
#include "pstats.h"

static const int64_t buckets[] = {10000, 25000, 1000000, 1000000000}; /* 10 us ... 1 s */
#define NB (sizeof(buckets) / sizeof(buckets[0]))

/* One OWAMP session: delays 5 us, 20 us, 3 ms, and one packet lost. */
static void one_session(struct pst_target *t)
{
    const int64_t delay[] = {5000, 20000, 3000000};
    struct met_owrec r[4];
    struct met_ow_stats s;
    struct met_params mp = {.loss_timeout_ns = 1000000000, .npackets = 4};
    memset(r, 0, sizeof(r));
    for (uint32_t i = 0; i < 4; i++) {
        r[i].seq = i;
        r[i].send.ns = 1000000000LL * (i + 1);
        r[i].recv.ns = r[i].send.ns + (i < 3 ? delay[i] : 0);
        r[i].recv_src = CLK_SRC_KERNEL;
        r[i].lost = i == 3;
    }
    assert_int_equal(met_ow_compute(r, 4, &mp, &s), 0);
    memset(t, 0, sizeof(*t));
    pst_from_ow(&t->d[PST_TO], &s, buckets, NB);
    t->sessions_ok = 1;
    t->have_last = t->last_ok = true;
    t->last_end_ns = 1700000000500000000LL;
    met_ow_stats_free(&s);
}

static void test_from_ow(void **state)
{
    (void)state;
    struct pst_target t;
    one_session(&t);
    const struct pst_dirstat *d = &t.d[PST_TO];
    assert_true(d->used && d->counts && d->last_valid);
    assert_int_equal(d->sent, 4);
    assert_int_equal(d->received, 3);
    assert_int_equal(d->lost, 1);
    assert_int_equal(d->bucket[0], 1); /* 5 us */
    assert_int_equal(d->bucket[1], 1); /* 20 us */
    assert_int_equal(d->bucket[2], 0);
    assert_int_equal(d->bucket[3], 1); /* 3 ms */
    assert_int_equal(d->bucket[NB], 0);
    assert_int_equal(d->observed, 3); /* the lost packet is no delay */
    assert_int_equal(d->sum_ns, 3025000);
    assert_int_equal(d->last_min_ns, 5000);
    assert_int_equal(d->last_max_ns, 3000000);
    assert_int_equal(d->stamps[PST_STAMP_RECEIVE][CLK_SRC_KERNEL], 3);
}

static void test_add(void **state)
{
    (void)state;
    struct pst_target total = {0}, s;
    one_session(&s);
    pst_add(&total, &s);
    pst_add(&total, &s);
    assert_int_equal(total.d[PST_TO].sent, 8);
    assert_int_equal(total.d[PST_TO].bucket[0], 2);
    assert_int_equal(total.d[PST_TO].sum_ns, 6050000);
    assert_int_equal(total.sessions_ok, 2);
    assert_false(total.d[PST_FROM].used);
    s.sessions_ok = 0;
    s.sessions_failed = 1;
    s.last_ok = false;
    s.d[PST_TO].last_min_ns = 7;
    pst_add(&total, &s);
    assert_int_equal(total.sessions_failed, 1);
    assert_false(total.last_ok);
    assert_int_equal(total.d[PST_TO].last_min_ns, 7); /* the last session's, not a sum */
    pst_reset_histograms(&total);
    assert_int_equal(total.d[PST_TO].observed, 0);
    assert_int_equal(total.d[PST_TO].bucket[0], 0);
    assert_int_equal(total.d[PST_TO].sent, 12); /* counters stay */
}

static void test_numbers(void **state)
{
    (void)state;
    struct pex_buf b = {0};
    pex_seconds(&b, 0);
    pex_puts(&b, " ");
    pex_seconds(&b, 1500);
    pex_puts(&b, " ");
    pex_seconds(&b, -2000000000);
    pex_puts(&b, " ");
    pex_seconds(&b, 1250000000);
    pex_puts(&b, " ");
    pex_u64(&b, UINT64_MAX);
    pex_puts(&b, " ");
    pex_label_value(&b, "a\\b\"c\nd");
    assert_string_equal(b.p, "0 0.0000015 -2 1.25 18446744073709551615 \"a\\\\b\\\"c\\nd\"");
    pex_free(&b);
}

static void test_negotiate(void **state)
{
    (void)state;
    assert_int_equal(pex_negotiate(NULL), PEX_TEXT);
    assert_int_equal(pex_negotiate("text/plain;version=0.0.4"), PEX_TEXT);
    assert_int_equal(pex_negotiate("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
                     PEX_OPENMETRICS);
    assert_string_equal(pex_content_type(PEX_TEXT), "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(pex_content_type(PEX_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static char *expose(enum pex_fmt f, bool probe)
{
    static struct pst_target t;
    struct pex_buf b = {0};
    struct pex_entry e = {probe ? NULL : "host\"1", probe ? NULL : "m", &t};
    struct pex_opts o = {.fmt = f, .probe = probe, .buckets_ns = buckets, .nbuckets = NB};
    one_session(&t);
    pex_targets(&b, &o, &e, 1);
    pex_end(&b, f);
    assert_false(b.oom);
    return b.p;
}

static void has(const char *text, const char *line)
{
    if (!strstr(text, line)) {
        fail_msg("missing: %s\nin:\n%s", line, text);
    }
}

static void test_text(void **state)
{
    (void)state;
    char *t = expose(PEX_TEXT, false);
    const char *l = "target=\"host\\\"1\",module=\"m\",direction=\"to\"";
    char want[256];
    has(t, "# TYPE ippm_packets_sent_total counter\n");
    snprintf(want, sizeof(want), "ippm_packets_lost_total{%s} 1\n", l);
    has(t, want);
    has(t, "# TYPE ippm_delay_seconds histogram\n");
    snprintf(want, sizeof(want), "ippm_delay_seconds_bucket{%s,le=\"0.00001\"} 1\n", l);
    has(t, want);
    snprintf(want, sizeof(want), "ippm_delay_seconds_bucket{%s,le=\"0.001\"} 2\n", l);
    has(t, want);
    snprintf(want, sizeof(want), "ippm_delay_seconds_bucket{%s,le=\"+Inf\"} 3\n", l);
    has(t, want);
    snprintf(want, sizeof(want), "ippm_delay_seconds_sum{%s} 0.003025\n", l);
    has(t, want);
    snprintf(want, sizeof(want), "ippm_delay_seconds_count{%s} 3\n", l);
    has(t, want);
    snprintf(want, sizeof(want), "ippm_last_delay_seconds{%s,statistic=\"min\"} 0.000005\n", l);
    has(t, want);
    snprintf(want, sizeof(want),
             "ippm_timestamps_total{%s,stamp=\"receive\",source=\"kernel\"} 3\n", l);
    has(t, want);
    has(t, "ippm_sessions_total{target=\"host\\\"1\",module=\"m\",result=\"success\"} 1\n");
    has(t, "ippm_last_session_end_timestamp_seconds{target=\"host\\\"1\",module=\"m\"} "
           "1700000000.5\n");
    assert_null(strstr(t, "# EOF"));
    assert_null(strstr(t, "direction=\"from\"")); /* not measured: no series */
    free(t);
}

static void test_openmetrics(void **state)
{
    (void)state;
    char *t = expose(PEX_OPENMETRICS, false);
    has(t, "# TYPE ippm_packets_sent counter\n");
    has(t, "# HELP ippm_packets_sent ");
    has(t, "ippm_packets_sent_total{target=");
    has(t, ",le=\"1.0\"} 3\n"); /* an integer bound written as a float */
    size_t n = strlen(t);
    assert_true(n > 6 && strcmp(t + n - 6, "# EOF\n") == 0);
    free(t);
}

static void test_probe(void **state)
{
    (void)state;
    char *t = expose(PEX_TEXT, true);
    has(t, "# TYPE ippm_packets_sent gauge\n");
    has(t, "ippm_packets_sent{direction=\"to\"} 4\n");
    has(t, "ippm_delay_seconds_count{direction=\"to\"} 3\n");
    has(t, "ippm_last_session_success 1\n");
    assert_null(strstr(t, "_total"));
    assert_null(strstr(t, "target="));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_ow), cmocka_unit_test(test_add),
        cmocka_unit_test(test_numbers), cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_text),    cmocka_unit_test(test_openmetrics),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
