/* pstats.c - a target's figures: one session's from its statistics, and running totals. */
#include <string.h>

#include "pstats.h"

const char *pst_dir_name(enum pst_dir d)
{
    static const char *const n[] = {"forward", "reverse", "round_trip", "to", "from"};
    return n[d];
}

const char *pst_reason_name(enum pst_reason r)
{
    static const char *const n[] = {"too_short", "bad_hmac",  "other_session", "unknown_sequence",
                                    "too_long",  "malformed", "store_full"};
    return n[r];
}

const char *pst_stamp_name(enum pst_stamp s)
{
    return s == PST_STAMP_SEND ? "send" : "receive";
}

const char *pst_source_name(unsigned src)
{
    static const char *const n[] = {"none", "hardware", "kernel", "user"};
    return src < 4 ? n[src] : "none";
}

/* Observe every finite value of dist in the histogram, and keep its order statistics. */
static void observe(struct pst_dirstat *d, const struct met_dist *dist, const int64_t *buckets,
                    size_t nb)
{
    struct met_dist_iter it;
    int64_t v;
    uint64_t n;
    size_t b = 0;
    met_dist_iter_init(&it, dist);
    while (met_dist_iter_next(&it, &v, &n)) { /* ascending: the bucket only moves up */
        while (b < nb && v > buckets[b]) {
            b++;
        }
        d->bucket[b] += n;
        d->observed += n;
        d->sum_ns += v * (int64_t)n;
    }
    d->used = true;
    d->last_valid = dist->count > 0;
    d->last_min_ns = met_dist_min(dist);
    d->last_median_ns = met_dist_median(dist);
    d->last_p99_ns = met_dist_percentile(dist, 99);
    d->last_max_ns = met_dist_max(dist);
}

void pst_from_ow(struct pst_dirstat *d, const struct met_ow_stats *s, const int64_t *buckets,
                 size_t nb)
{
    memset(d, 0, sizeof(*d));
    observe(d, &s->delay, buckets, nb);
    d->counts = true;
    d->sent = s->sent;
    d->received = s->received;
    d->lost = s->lost;
    d->duplicated = s->dups;
    d->reordered = s->reorder.reordered;
    memcpy(d->stamps[PST_STAMP_RECEIVE], s->src_count, sizeof(s->src_count));
    d->last_synced = s->synced;
    d->last_error_ns = met_ntp_to_ns(s->maxerr_ntp);
}

void pst_from_tw(struct pst_target *t, const struct met_tw_stats *s, const int64_t *buckets,
                 size_t nb)
{
    struct pst_dirstat *fwd = &t->d[PST_FORWARD], *rev = &t->d[PST_REVERSE],
                       *rt = &t->d[PST_ROUND_TRIP];
    memset(fwd, 0, sizeof(*fwd) * 3);
    observe(rt, &s->rtt, buckets, nb);
    observe(fwd, &s->fwd, buckets, nb);
    observe(rev, &s->rev, buckets, nb);
    rt->counts = true;
    rt->sent = s->sent;
    rt->received = s->received;
    rt->lost = s->lost;
    rt->duplicated = s->send_dups + s->reflect_dups;
    rt->reordered = s->reorder.reordered;
    memcpy(rt->stamps[PST_STAMP_RECEIVE], s->src_count, sizeof(s->src_count));
    fwd->duplicated = s->send_dups;
    rev->duplicated = s->reflect_dups;
    if (s->dir_known) { /* the reflector counts: loss by direction */
        fwd->counts = rev->counts = true;
        fwd->sent = s->sent;
        fwd->lost = s->lost_fwd;
        fwd->received = s->sent - s->lost_fwd;
        rev->sent = fwd->received;
        rev->lost = s->lost_rev;
        rev->received = rev->sent - s->lost_rev;
    }
    rt->last_synced = fwd->last_synced = rev->last_synced = s->synced;
    rt->last_error_ns = met_ntp_to_ns(s->maxerr_rtt_ntp);
    fwd->last_error_ns = met_ntp_to_ns(s->maxerr_fwd_ntp);
    rev->last_error_ns = met_ntp_to_ns(s->maxerr_rev_ntp);
}

static void add_dir(struct pst_dirstat *a, const struct pst_dirstat *s)
{
    a->used = true;
    a->counts |= s->counts;
    a->sent += s->sent;
    a->received += s->received;
    a->lost += s->lost;
    a->duplicated += s->duplicated;
    a->reordered += s->reordered;
    for (int r = 0; r < PST_NDISC; r++) {
        a->discarded[r] += s->discarded[r];
    }
    for (int k = 0; k < PST_NSTAMP; k++) {
        for (int c = 0; c < 4; c++) {
            a->stamps[k][c] += s->stamps[k][c];
        }
    }
    for (size_t b = 0; b <= PC_MAX_BUCKETS; b++) {
        a->bucket[b] += s->bucket[b];
    }
    a->observed += s->observed;
    a->sum_ns += s->sum_ns;
    a->last_valid = s->last_valid;
    a->last_min_ns = s->last_min_ns;
    a->last_median_ns = s->last_median_ns;
    a->last_p99_ns = s->last_p99_ns;
    a->last_max_ns = s->last_max_ns;
    a->last_synced = s->last_synced;
    a->last_error_ns = s->last_error_ns;
}

void pst_add(struct pst_target *total, const struct pst_target *session)
{
    for (int d = 0; d < PST_NDIR; d++) {
        if (session->d[d].used) {
            add_dir(&total->d[d], &session->d[d]);
        }
    }
    total->sessions_ok += session->sessions_ok;
    total->sessions_failed += session->sessions_failed;
    total->have_last |= session->have_last;
    total->last_ok = session->last_ok;
    total->last_end_ns = session->last_end_ns;
    total->last_duration_ns = session->last_duration_ns;
}

void pst_reset_histograms(struct pst_target *t)
{
    for (int d = 0; d < PST_NDIR; d++) {
        memset(t->d[d].bucket, 0, sizeof(t->d[d].bucket));
        t->d[d].observed = 0;
        t->d[d].sum_ns = 0;
    }
}
