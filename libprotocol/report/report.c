/* report.c - the human summary in perfSONAR owping/twping's layout, and helpers shared by the
 * other writers. Medians and percentiles are exact (see metrics.h), not histogram bins. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "report.h"
#include "report_int.h"

/* ---- shared helpers ---- */

const char *rep_int_str(const char *s)
{
    return s ? s : "***";
}

void rep_int_sid_hex(const uint8_t sid[16], char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[sid[i] >> 4];
        out[2 * i + 1] = hex[sid[i] & 15];
    }
    out[32] = '\0';
}

struct clk_time rep_int_pick(struct clk_time given, struct clk_time fallback)
{
    return given.ns ? given : fallback;
}

int rep_int_status(FILE *f)
{
    return ferror(f) ? LP_E_IO : 0;
}

double rep_int_errest_s(uint16_t raw)
{
    struct clk_errest e = clk_errest_decode(raw);
    return ldexp((double)e.mult, (int)e.scale - 32);
}

const struct rep_unused_name REP_UNUSED_NAMES[REP_UNUSED_N] = {
    [REP_UNUSED_SHORT] = {"too short", "UNUSED_SHORT", "too_short"},
    [REP_UNUSED_HMAC] = {"bad HMAC", "UNUSED_HMAC", "bad_hmac"},
    [REP_UNUSED_SESSION] = {"another session", "UNUSED_SESSION", "other_session"},
    [REP_UNUSED_SEQ] = {"unknown sequence number", "UNUSED_SEQ", "unknown_seq"},
    [REP_UNUSED_LONG] = {"too long", "UNUSED_LONG", "too_long"},
};

uint64_t rep_int_unused_total(const struct rep_tx *t)
{
    uint64_t n = 0;
    for (int i = 0; i < REP_UNUSED_N; i++) {
        n += t->unused[i];
    }
    return n;
}

/* ---- units and number formatting ---- */

struct unit {
    double per_ns; /* factor from ns */
    const char *abbr;
};

static struct unit unit_of(const struct rep_opts *o)
{
    switch (o ? o->units : 'm') {
    case 'n': return (struct unit){1.0, "ns"};
    case 'u': return (struct unit){1e-3, "us"};
    case 's': return (struct unit){1e-9, "s"};
    default: return (struct unit){1e-6, "ms"};
    }
}

/* "%.3g" of a delay in the unit, or "nan" when undefined. */
static const char *fmt_delay(char buf[32], int64_t ns, struct unit u)
{
    if (ns == MET_NS_UNDEF) {
        return "nan";
    }
    snprintf(buf, 32, "%.3g", (double)ns * u.per_ns);
    return buf;
}

/* Local time "YYYY-MM-DDTHH:MM:SS.mmm" (milliseconds rounded), as owping prints it. */
static void fmt_time(char buf[64], struct clk_time t)
{
    int64_t sec = t.ns / 1000000000, ms = (t.ns % 1000000000 + 500000) / 1000000;
    if (t.ns <= 0) { /* unknown (no records) */
        snprintf(buf, 64, "XXX");
        return;
    }
    if (ms == 1000) {
        sec++;
        ms = 0;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    char day[48];
    if (!localtime_r(&tt, &tm) || !strftime(day, sizeof(day), "%FT%T", &tm)) {
        snprintf(buf, 64, "XXX");
        return;
    }
    snprintf(buf, 64, "%s.%03d", day, (int)ms);
}

/* ---- summary pieces ---- */

static void put_header(FILE *f, const char *prog, const struct rep_session *s,
                       struct clk_time first, struct clk_time last)
{
    char sid[33], t0[64], t1[64];
    rep_int_sid_hex(s->sid, sid);
    fmt_time(t0, rep_int_pick(s->start, first));
    fmt_time(t1, rep_int_pick(s->end, last));
    fprintf(f, "\n--- %s statistics from [%s]:%s to [%s]:%s ---\n", prog, rep_int_str(s->from_host),
            rep_int_str(s->from_port), rep_int_str(s->to_host), rep_int_str(s->to_port));
    fprintf(f, "SID:\t%s\nfirst:\t%s\nlast:\t%s\n", sid, t0, t1);
    if (!s->finished) { /* cut short: the figures cover only part of the session */
        fprintf(f, "session not finished: partial results\n");
    }
}

static double loss_pct(uint64_t sent, uint64_t lost)
{
    return sent ? 100.0 * (double)lost / (double)sent : 0.0;
}

/* Lines about an empty sample (nothing arrived in time) are left out: they would hold
 * nothing but "nan". A value whose rank falls among lost packets (RFC 2679 §5 counts them as
 * infinite) is still printed "nan" within its line, as the reference does. */
static bool empty(const struct met_dist *d)
{
    return d->count == 0;
}

/* "<desc> min/median/max = a/b/c ms, (err=e ms)" or "..., (unsync)". */
static void put_delay(FILE *f, const char *desc, const struct met_dist *d, bool show_err,
                      uint64_t err_ntp, struct unit u)
{
    char a[32], b[32], c[32];
    if (empty(d)) {
        return;
    }
    fprintf(f, "%s min/median/max = %s/%s/%s %s, ", desc, fmt_delay(a, met_dist_min(d), u),
            fmt_delay(b, met_dist_median(d), u), fmt_delay(c, met_dist_max(d), u), u.abbr);
    if (show_err) {
        fprintf(f, "(err=%.3g %s)\n", ldexp((double)err_ntp, -32) * 1e9 * u.per_ns, u.abbr);
    } else {
        fprintf(f, "(unsync)\n");
    }
}

static void put_jitter(FILE *f, const char *desc, const struct met_dist *d, struct unit u)
{
    char a[32];
    if (empty(d)) {
        return;
    }
    fprintf(f, "%s jitter = %s %s (P95-P50)\n", desc, fmt_delay(a, met_dist_jitter(d), u), u.abbr);
}

static void put_percentiles(FILE *f, const struct rep_opts *o, const struct met_dist *d,
                            struct unit u)
{
    char a[32];
    if (!o || o->npct == 0 || empty(d)) {
        return;
    }
    fprintf(f, "Percentiles:\n");
    for (size_t i = 0; i < o->npct; i++) {
        fprintf(f, "\t%.1f: %s %s\n", o->pct[i], fmt_delay(a, met_dist_percentile(d, o->pct[i]), u),
                u.abbr);
    }
}

static void put_hops(FILE *f, const char *prefix, const struct met_ttl *t)
{
    uint8_t lo, hi;
    unsigned n = met_ttl_summary(t, &lo, &hi);
    if (n == 0) {
        fprintf(f, "%sTTL not reported\n", prefix);
    } else if (n == 1) {
        fprintf(f, "%shops = %d (consistently)\n", prefix, 255 - lo);
    } else {
        fprintf(f, "%shops takes %u values; min hops = %d, max hops = %d\n", prefix, n, 255 - hi,
                255 - lo);
    }
}

/* "n-reordering = x%" for each n that occurred, then where it stops. */
static void put_reordering(FILE *f, const struct met_reorder *r)
{
    unsigned i = 0;
    for (; i < MET_NREORDER_MAX && r->n_count[i]; i++) {
        fprintf(f, "%u-reordering = %f%%\n", i + 1,
                100.0 * (double)r->n_count[i] / (double)r->evaluated);
    }
    if (i == 0) {
        fprintf(f, "no reordering\n");
    } else if (i < MET_NREORDER_MAX) {
        fprintf(f, "no %u-reordering\n", i + 1);
    } else {
        fprintf(f, "%d-reordering not handled\n", MET_NREORDER_MAX + 1);
    }
}

static void put_sources(FILE *f, const uint64_t c[4], uint64_t received)
{
    if (received == 0) {
        return; /* nothing was stamped */
    }
    if (c[CLK_SRC_KERNEL] + c[CLK_SRC_HARDWARE] + c[CLK_SRC_USER] == 0) {
        /* records fetched from a remote receiver do not say how they were stamped */
        fprintf(f, "timestamps: source not reported by the receiver\n");
        return;
    }
    fprintf(f, "timestamps: %" PRIu64 " kernel, %" PRIu64 " hardware, %" PRIu64 " user\n",
            c[CLK_SRC_KERNEL], c[CLK_SRC_HARDWARE], c[CLK_SRC_USER]);
}

/* "N replies not used: n1 reason1, n2 reason2" when the sender could not use some. */
static void put_unused(FILE *f, const struct rep_tx *t)
{
    uint64_t total = t ? rep_int_unused_total(t) : 0;
    const char *sep = " ";
    if (total == 0) {
        return;
    }
    fprintf(f, "%" PRIu64 " replies not used:", total);
    for (int i = 0; i < REP_UNUSED_N; i++) {
        if (t->unused[i]) {
            fprintf(f, "%s%" PRIu64 " %s", sep, t->unused[i], REP_UNUSED_NAMES[i].human);
            sep = ", ";
        }
    }
    fprintf(f, "\n");
}

/* ---- the two summaries ---- */

int rep_ow_summary(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_ow_stats *st)
{
    struct unit u = unit_of(o);
    put_header(f, "owping", s, st->first_send, st->last_send);
    fprintf(f, "%" PRIu64 " sent, %" PRIu64 " lost (%.3f%%), %" PRIu64 " duplicates\n", st->sent,
            st->lost, loss_pct(st->sent, st->lost), st->dups);
    put_delay(f, "one-way delay", &st->delay, st->synced, st->maxerr_ntp, u);
    put_jitter(f, "one-way", &st->delay, u);
    put_percentiles(f, o, &st->delay, u);
    put_hops(f, "", &st->ttl);
    put_reordering(f, &st->reorder);
    put_sources(f, st->src_count, st->received);
    fprintf(f, "\n");
    return rep_int_status(f);
}

/* The round-trip time is a difference of two intervals each read on one clock, so it is
 * meaningful (and shown with its error) even when the two clocks are not synchronised. */
int rep_tw_summary(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_tw_stats *st)
{
    struct unit u = unit_of(o);
    char a[32], b[32];
    if (st->clocks_offset) {
        fprintf(f, "\nDirectional delays may be inaccurate due to out of sync clocks!\n");
    }
    put_header(f, "twping", s, st->first_send, st->last_send);
    fprintf(f,
            "%" PRIu64 " sent, %" PRIu64 " lost (%.3f%%), %" PRIu64 " send duplicates, %" PRIu64
            " reflect duplicates\n",
            st->sent, st->lost, loss_pct(st->sent, st->lost), st->send_dups, st->reflect_dups);
    put_unused(f, s->tx);
    put_delay(f, "round-trip time", &st->rtt, true, st->maxerr_rtt_ntp, u);
    put_delay(f, "send time", &st->fwd, st->synced, st->maxerr_fwd_ntp, u);
    put_delay(f, "reflect time", &st->rev, st->synced, st->maxerr_rev_ntp, u);
    if (st->received) {
        fprintf(f, "reflector processing time min/max = %s/%s %s\n",
                fmt_delay(a, st->proc_min_ns, u), fmt_delay(b, st->proc_max_ns, u), u.abbr);
    }
    put_jitter(f, "two-way", &st->rtt, u);
    put_jitter(f, "send", &st->fwd, u);
    put_jitter(f, "reflect", &st->rev, u);
    put_percentiles(f, o, &st->rtt, u);
    put_hops(f, "send ", &st->send_ttl);
    put_hops(f, "reflect ", &st->reflect_ttl);
    if (st->dir_known && st->lost) {
        fprintf(f, "lost by direction: %" PRIu64 " forward, %" PRIu64 " reverse\n", st->lost_fwd,
                st->lost_rev);
    }
    put_sources(f, st->src_count, st->received);
    fprintf(f, "\n");
    return rep_int_status(f);
}
