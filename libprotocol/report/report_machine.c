/* report_machine.c - perfSONAR's machine-readable outputs: the -M summary ("SUMMARY 3.00"
 * key<TAB>value lines, delays in seconds) and the -R raw records. Key names, their order and
 * the number formats follow owping/twping 5.x, so existing scripts keep working; the
 * MEDIAN/PDV values are exact instead of histogram bins. */
#include <inttypes.h>
#include <stdio.h>

#include "common.h"
#include "report.h"
#include "report_int.h"

/* ---- small formatters ---- */

static double ns_to_s(int64_t ns)
{
    return (double)ns / 1e9;
}

static double ntp_to_s(uint64_t v)
{
    return (double)v / 4294967296.0;
}

/* Time as the 64-bit NTP integer (the reference's OWP_TSTAMPFMT), 0 stays 0. */
static uint64_t ntp_of(struct clk_time t)
{
    return t.ns ? clk_to_ntp(t).raw : 0;
}

/* "KEY<TAB>%g" of a delay, skipped when undefined (as the reference skips them). */
static void put_sec(FILE *f, const char *key, const char *suffix, int64_t ns)
{
    if (ns != MET_NS_UNDEF) {
        fprintf(f, "%s%s\t%g\n", key, suffix, ns_to_s(ns));
    }
}

/* Bin of a delay: ceil(d/w) for d >= 0, floor(d/w) below 0 (away from zero, as the reference). */
static int64_t bucket_of(int64_t d, int64_t w)
{
    int64_t q = d / w;
    if (d % w != 0) {
        q += d > 0 ? 1 : -1;
    }
    return q;
}

/* One distribution's walk, one (value, count) pair ahead. */
struct bucket_cursor {
    struct met_dist_iter it;
    bool more;
    int64_t v;
    uint64_t n;
};

static void cursor_step(struct bucket_cursor *c)
{
    c->more = met_dist_iter_next(&c->it, &c->v, &c->n);
}

/* <BUCKETS>: for each bin in ascending order, the count of each distribution in it. A value
 * that stands for a histogram bucket (see struct met_dist) is binned with all of its count. */
static void put_buckets(FILE *f, const struct met_dist *const *d, size_t nd, int64_t w)
{
    struct bucket_cursor c[3];
    for (size_t i = 0; i < nd; i++) {
        met_dist_iter_init(&c[i].it, d[i]);
        cursor_step(&c[i]);
    }
    fprintf(f, "<BUCKETS>\n");
    for (;;) {
        bool any = false;
        int64_t b = 0;
        for (size_t i = 0; i < nd; i++) {
            if (c[i].more) {
                int64_t bi = bucket_of(c[i].v, w);
                b = !any || bi < b ? bi : b;
                any = true;
            }
        }
        if (!any) {
            break;
        }
        fprintf(f, "\t%" PRId64, b);
        for (size_t i = 0; i < nd; i++) {
            uint64_t n = 0;
            for (; c[i].more && bucket_of(c[i].v, w) == b; cursor_step(&c[i])) {
                n += c[i].n;
            }
            fprintf(f, "\t%" PRIu64, n);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "</BUCKETS>\n");
}

static int64_t width_of(const struct rep_opts *o)
{
    return o && o->bucket_width_ns > 0 ? o->bucket_width_ns : REP_BUCKET_DEFAULT_NS;
}

/* The lines both variants share, SUMMARY to SESSION_FINISHED. */
static void put_session(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                        struct clk_time first, struct clk_time last, uint64_t sent)
{
    char sid[33];
    struct clk_time t0 = rep_int_pick(s->start, first), t1 = rep_int_pick(s->end, last);
    uint64_t count = s->npackets ? s->npackets : sent;
    rep_int_sid_hex(s->sid, sid);
    fprintf(f, "SUMMARY\t%.2f\nSID\t%s\n", 3.0, sid);
    fprintf(f, "FROM_HOST\t%s\nFROM_ADDR\t%s\nFROM_PORT\t%s\n", rep_int_str(s->from_host),
            rep_int_str(s->from_addr), rep_int_str(s->from_port));
    fprintf(f, "TO_HOST\t%s\nTO_ADDR\t%s\nTO_PORT\t%s\n", rep_int_str(s->to_host),
            rep_int_str(s->to_addr), rep_int_str(s->to_port));
    fprintf(f, "START_TIME\t%020" PRIu64 "\nEND_TIME\t%020" PRIu64 "\n",
            s->start_ntp ? s->start_ntp : ntp_of(t0), s->end_ntp ? s->end_ntp : ntp_of(t1));
    if (o && o->unix_times) {
        fprintf(f, "UNIX_START_TIME\t%f\nUNIX_END_TIME\t%f\n", ns_to_s(t0.ns), ns_to_s(t1.ns));
    }
    if (!(s->type_p & ~UINT32_C(0x3F000000))) {
        fprintf(f, "DSCP\t0x%2.2x\n", (unsigned)(s->type_p >> 24));
    }
    fprintf(f, "LOSS_TIMEOUT\t%" PRIu64 "\n",
            s->loss_timeout_ntp ? s->loss_timeout_ntp : clk_ns_to_ntp_duration(s->loss_timeout_ns));
    fprintf(f, "PACKET_PADDING\t%u\nSESSION_PACKET_COUNT\t%" PRIu64 "\n", s->padding, count);
    fprintf(f, "SAMPLE_PACKET_COUNT\t%" PRIu64 "\nBUCKET_WIDTH\t%g\n", count, ns_to_s(width_of(o)));
    fprintf(f, "SESSION_FINISHED\t%d\n", s->finished ? 1 : 0);
}

/* MINTTL<sfx>/MAXTTL<sfx>; returns the number of distinct TTLs. */
static unsigned put_ttl_range(FILE *f, const char *sfx, const struct met_ttl *t)
{
    uint8_t lo, hi;
    unsigned n = met_ttl_summary(t, &lo, &hi);
    fprintf(f, "MINTTL%s\t%u\nMAXTTL%s\t%u\n", sfx, lo, sfx, hi);
    return n;
}

/* ---- -M ---- */

int rep_ow_machine(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_ow_stats *st)
{
    put_session(f, s, o, st->first_send, st->last_send, st->sent);
    fprintf(f, "SENT\t%" PRIu64 "\nSYNC\t%d\nMAXERR\t%g\n", st->sent, st->synced ? 1 : 0,
            ntp_to_s(st->maxerr_ntp));
    fprintf(f, "DUPS\t%" PRIu64 "\nLOST\t%" PRIu64 "\n", st->dups, st->lost);
    put_sec(f, "MIN", "", met_dist_min(&st->delay));
    put_sec(f, "MEDIAN", "", met_dist_median(&st->delay));
    put_sec(f, "MAX", "", met_dist_max(&st->delay));
    put_sec(f, "PDV", "", met_dist_jitter(&st->delay));
    if (st->sent > st->lost) {
        const struct met_dist *d[] = {&st->delay};
        put_buckets(f, d, 1, width_of(o));
    }
    if (put_ttl_range(f, "", &st->ttl) > 0) {
        fprintf(f, "<TTLBUCKETS>\n");
        for (unsigned i = MET_TTL_UNKNOWN + 1; i < 256; i++) {
            if (st->ttl.count[i]) {
                fprintf(f, "\t%u\t%lu\n", i, (unsigned long)st->ttl.count[i]);
            }
        }
        fprintf(f, "</TTLBUCKETS>\n");
    }
    fprintf(f, "\n<NREORDERING>\n");
    unsigned j = 0;
    for (; j < MET_NREORDER_MAX && st->reorder.n_count[j]; j++) {
        fprintf(f, "\t%u\t%" PRIu64 "\n", j + 1, st->reorder.n_count[j]);
    }
    if (j == 0 || j >= MET_NREORDER_MAX) {
        fprintf(f, "\t%u\t0\n", j + 1);
    }
    fprintf(f, "</NREORDERING>\n");
    return rep_int_status(f);
}

static void put_tw_delays(FILE *f, const struct met_tw_stats *st)
{
    int64_t pmin = st->received ? st->proc_min_ns : MET_NS_UNDEF;
    int64_t pmax = st->received ? st->proc_max_ns : MET_NS_UNDEF;
    put_sec(f, "MIN", "", met_dist_min(&st->rtt));
    put_sec(f, "MIN", "_FWD", met_dist_min(&st->fwd));
    put_sec(f, "MIN", "_BCK", met_dist_min(&st->rev));
    put_sec(f, "MIN", "_PROC", pmin);
    put_sec(f, "MEDIAN", "", met_dist_median(&st->rtt));
    put_sec(f, "MEDIAN", "_FWD", met_dist_median(&st->fwd));
    put_sec(f, "MEDIAN", "_BCK", met_dist_median(&st->rev));
    put_sec(f, "MAX", "", met_dist_max(&st->rtt));
    put_sec(f, "MAX", "_FWD", met_dist_max(&st->fwd));
    put_sec(f, "MAX", "_BCK", met_dist_max(&st->rev));
    put_sec(f, "MAX", "_PROC", pmax);
    put_sec(f, "PDV", "", met_dist_jitter(&st->rtt));
    put_sec(f, "PDV", "_FWD", met_dist_jitter(&st->fwd));
    put_sec(f, "PDV", "_BCK", met_dist_jitter(&st->rev));
}

/* Replies the sender could not use, and those without a Sender TTL (lines only when any). */
static void put_unused(FILE *f, const struct rep_tx *t)
{
    uint64_t total = t ? rep_int_unused_total(t) : 0;
    if (total > 0) {
        fprintf(f, "UNUSED_REPLIES\t%" PRIu64 "\n", total);
    }
    for (int i = 0; total > 0 && i < REP_UNUSED_N; i++) {
        if (t->unused[i]) {
            fprintf(f, "%s\t%" PRIu64 "\n", REP_UNUSED_NAMES[i].machine, t->unused[i]);
        }
    }
    if (t && t->no_ttl) {
        fprintf(f, "REPLIES_NO_TTL\t%" PRIu64 "\n", t->no_ttl);
    }
}

int rep_tw_machine(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_tw_stats *st)
{
    put_session(f, s, o, st->first_send, st->last_send, st->sent);
    fprintf(f, "SENT\t%" PRIu64 "\nSYNC\t%d\nMAXERR\t%g\n", st->sent, st->synced ? 1 : 0,
            ntp_to_s(st->maxerr_rtt_ntp));
    fprintf(f, "MAXERR_FWD\t%g\nMAXERR_BCK\t%g\n", ntp_to_s(st->maxerr_fwd_ntp),
            ntp_to_s(st->maxerr_rev_ntp));
    fprintf(f, "DUPS_FWD\t%" PRIu64 "\nDUPS_BCK\t%" PRIu64 "\nLOST\t%" PRIu64 "\n", st->send_dups,
            st->reflect_dups, st->lost);
    put_tw_delays(f, st);
    if (st->sent > st->lost) {
        const struct met_dist *d[] = {&st->rtt, &st->fwd, &st->rev};
        put_buckets(f, d, 3, width_of(o));
    }
    unsigned n = put_ttl_range(f, "_FWD", &st->send_ttl);
    n += put_ttl_range(f, "_BCK", &st->reflect_ttl);
    if (n > 0) {
        fprintf(f, "<TTLBUCKETS>\n");
        for (unsigned i = MET_TTL_UNKNOWN + 1; i < 256; i++) {
            unsigned long a = st->send_ttl.count[i], b = st->reflect_ttl.count[i];
            if (a || b) {
                fprintf(f, "\t%u\t%lu\t%lu\n", i, a, b);
            }
        }
        fprintf(f, "</TTLBUCKETS>\n");
    }
    put_unused(f, s->tx);
    fprintf(f, "\n");
    return rep_int_status(f);
}

/* ---- -R ---- */

int rep_ow_raw(FILE *f, const struct met_owrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%lu %020" PRIu64 " %u %g %020" PRIu64 " %u %g %u\n", (unsigned long)r[i].seq,
                met_owrec_send_ntp(&r[i]), (unsigned)met_errest_synced(r[i].send_err),
                rep_int_errest_s(r[i].send_err), met_owrec_recv_ntp(&r[i]),
                (unsigned)met_errest_synced(r[i].recv_err), rep_int_errest_s(r[i].recv_err),
                (unsigned)r[i].ttl);
    }
    return rep_int_status(f);
}

/* One "SEQ TIME S ERR TIME S ERR TTL" half of a two-way raw line. */
static void put_tw_half(FILE *f, uint32_t seq, struct clk_time a, uint16_t ea, struct clk_time b,
                        uint16_t eb, uint8_t ttl)
{
    fprintf(f, "%lu %020" PRIu64 " %u %g %020" PRIu64 " %u %g %u", (unsigned long)seq, ntp_of(a),
            (unsigned)met_errest_synced(ea), rep_int_errest_s(ea), ntp_of(b),
            (unsigned)met_errest_synced(eb), rep_int_errest_s(eb), (unsigned)ttl);
}

int rep_tw_raw(FILE *f, const struct met_twrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct met_twrec *x = &r[i];
        bool lost = (x->flags & MET_TW_LOST) || x->t4.ns == 0;
        struct clk_time zero = {0};
        put_tw_half(f, x->seq, x->t1, x->t1_err, lost ? zero : x->t2, x->t2_err, x->sender_ttl);
        fputc(' ', f);
        put_tw_half(f, x->refl_seq, lost ? zero : x->t3, x->t3_err, lost ? zero : x->t4, x->t4_err,
                    x->refl_ttl);
        fputc('\n', f);
    }
    return rep_int_status(f);
}
