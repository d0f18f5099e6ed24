/* metrics.c - one-way statistics and the helpers both session types share. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "metrics.h"
#include "metrics_int.h"

/* ---- small helpers ---- */

uint64_t met_errest_ntp(uint16_t raw)
{
    struct clk_errest e = clk_errest_decode(raw);
    uint64_t m = e.mult;
    if (e.scale >= 64 || m > (UINT64_MAX >> e.scale)) {
        return UINT64_MAX;
    }
    return m << e.scale;
}

uint64_t met_ntp_to_ns(uint64_t v)
{
    uint64_t sec = v >> 32;
    uint64_t frac = v & 0xffffffffu;
    if (sec >= UINT64_MAX / 1000000000u) {
        return UINT64_MAX;
    }
    return sec * 1000000000u + ((frac * 1000000000u + 0xffffffffu) >> 32);
}

bool met_errest_synced(uint16_t raw)
{
    return clk_errest_decode(raw).sync;
}

int64_t met_owrec_delay_ns(const struct met_owrec *r)
{
    return r->recv.ns - r->send.ns;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int key_cmp(const void *pa, const void *pb)
{
    const struct met_key *a = pa, *b = pb;
    if (a->seq != b->seq) {
        return a->seq < b->seq ? -1 : 1;
    }
    if (a->sub != b->sub) {
        return a->sub < b->sub ? -1 : 1;
    }
    return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

void met_int_sort_keys(struct met_key *k, size_t n)
{
    qsort(k, n, sizeof(*k), key_cmp);
}

static int ns_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : (a > b);
}

void met_int_dist_take(struct met_dist *d, int64_t *vals, size_t count, uint64_t total)
{
    qsort(vals, count, sizeof(*vals), ns_cmp);
    d->sorted_ns = vals;
    d->count = count;
    d->total = total;
}

uint64_t met_int_sent(uint64_t distinct, uint64_t below, uint32_t npackets)
{
    return below < npackets ? distinct + (npackets - below) : distinct;
}

/* ---- distributions ---- */

int64_t met_dist_min(const struct met_dist *d)
{
    return d->count ? d->sorted_ns[0] : MET_NS_UNDEF;
}

int64_t met_dist_max(const struct met_dist *d)
{
    return d->count ? d->sorted_ns[d->count - 1] : MET_NS_UNDEF;
}

/* Value of 1-based rank k, or MET_NS_UNDEF when the rank lies among lost samples. */
static int64_t dist_rank(const struct met_dist *d, uint64_t k)
{
    if (k == 0 || k > d->count) {
        return MET_NS_UNDEF;
    }
    return d->sorted_ns[k - 1];
}

int64_t met_dist_median(const struct met_dist *d)
{
    if (d->total == 0) {
        return MET_NS_UNDEF;
    }
    if (d->total % 2) {
        return dist_rank(d, (d->total + 1) / 2);
    }
    int64_t lo = dist_rank(d, d->total / 2);
    int64_t hi = dist_rank(d, d->total / 2 + 1);
    if (lo == MET_NS_UNDEF || hi == MET_NS_UNDEF) {
        return MET_NS_UNDEF;
    }
    return lo + (hi - lo) / 2;
}

int64_t met_dist_percentile(const struct met_dist *d, double pct)
{
    if (d->total == 0 || !(pct >= 0.0) || pct > 100.0) {
        return MET_NS_UNDEF;
    }
    /* the tolerance keeps e.g. 99.9% of 1000 at rank 999 despite binary rounding */
    double x = ceil(pct * (double)d->total / 100.0 - 1e-9);
    uint64_t k = x < 1.0 ? 1 : (uint64_t)x;
    return dist_rank(d, k);
}

int64_t met_dist_jitter(const struct met_dist *d)
{
    int64_t p95 = met_dist_percentile(d, 95.0);
    int64_t p50 = met_dist_percentile(d, 50.0);
    if (p95 == MET_NS_UNDEF || p50 == MET_NS_UNDEF) {
        return MET_NS_UNDEF;
    }
    return p95 - p50;
}

unsigned met_ttl_summary(const struct met_ttl *t, uint8_t *min_ttl, uint8_t *max_ttl)
{
    unsigned n = 0;
    *min_ttl = 255;
    *max_ttl = 0;
    for (unsigned i = 0; i < 256; i++) {
        if (!t->count[i]) {
            continue;
        }
        n++;
        if (i < *min_ttl) {
            *min_ttl = (uint8_t)i;
        }
        if (i > *max_ttl) {
            *max_ttl = (uint8_t)i;
        }
    }
    return n;
}

/* ---- reordering (RFC 4737 sections 3 and 5) ---- */

void met_int_reorder(struct met_reorder *r, const uint32_t *arrival, size_t n)
{
    uint64_t next_exp = 0;
    memset(r, 0, sizeof(*r));
    r->evaluated = n;
    for (size_t j = 0; j < n; j++) {
        if (arrival[j] < next_exp) {
            r->reordered++;
        } else {
            next_exp = (uint64_t)arrival[j] + 1;
        }
        for (size_t k = 1; k <= MET_NREORDER_MAX && k <= j; k++) {
            if (arrival[j] >= arrival[j - k]) {
                break;
            }
            r->n_count[k - 1]++;
        }
    }
}

/* ---- IPDV (RFC 3393, consecutive sequence numbers) ---- */

void met_int_ipdv_init(struct met_ipdv_acc *a)
{
    memset(a, 0, sizeof(*a));
    a->out.min_ns = MET_NS_UNDEF;
    a->out.max_ns = MET_NS_UNDEF;
}

void met_int_ipdv_step(struct met_ipdv_acc *a, uint32_t seq, bool received, int64_t delay_ns)
{
    if (received && a->have_prev && a->prev_seq + 1 == seq) {
        int64_t v = delay_ns - a->prev_delay_ns;
        if (a->out.pairs == 0 || v < a->out.min_ns) {
            a->out.min_ns = v;
        }
        if (a->out.pairs == 0 || v > a->out.max_ns) {
            a->out.max_ns = v;
        }
        a->out.pairs++;
        a->sum_abs = sat_add(a->sum_abs, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    }
    a->have_prev = received;
    a->prev_seq = seq;
    a->prev_delay_ns = delay_ns;
}

struct met_ipdv met_int_ipdv_done(const struct met_ipdv_acc *a)
{
    struct met_ipdv r = a->out;
    r.mean_abs_ns = r.pairs ? (int64_t)(a->sum_abs / r.pairs) : 0;
    return r;
}

/* ---- one-way ---- */

/* Working state of one met_ow_compute call. */
struct ow_work {
    const struct met_owrec *recs;
    const struct met_params *p;
    struct met_ow_stats *s;
    int64_t *delays; /* first-copy delays, n slots */
    uint8_t *first;  /* first[i]: record i is a packet's first copy */
    struct met_ipdv_acc ipdv;
    uint64_t distinct, below;
};

static bool ow_arrived(const struct met_owrec *r, const struct met_params *p)
{
    if (r->lost || r->recv.ns == 0) {
        return false;
    }
    return p->loss_timeout_ns <= 0 || met_owrec_delay_ns(r) <= p->loss_timeout_ns;
}

/* Sync and error of one record; a lost one only has its receive estimate. */
static void ow_quality(struct met_ow_stats *s, const struct met_owrec *r, bool arrived)
{
    uint64_t err = met_errest_ntp(r->recv_err);
    bool sync = met_errest_synced(r->recv_err);
    if (arrived) {
        err = sat_add(err, met_errest_ntp(r->send_err));
        sync = sync && met_errest_synced(r->send_err);
    }
    s->synced = s->synced && sync;
    if (err > s->maxerr_ntp) {
        s->maxerr_ntp = err;
    }
}

/* The records of one sequence number: keys[a..b). */
static void ow_group(struct ow_work *w, const struct met_key *keys, size_t a, size_t b)
{
    const struct met_owrec *firstcopy = NULL;
    uint64_t copies = 0;
    for (size_t i = a; i < b; i++) {
        const struct met_owrec *r = &w->recs[keys[i].idx];
        bool arrived = ow_arrived(r, w->p);
        ow_quality(w->s, r, arrived);
        if (!arrived) {
            continue;
        }
        if (!firstcopy) {
            firstcopy = r;
            w->first[keys[i].idx] = 1;
        }
        copies++;
    }
    w->distinct++;
    if (w->p->npackets && keys[a].seq < w->p->npackets) {
        w->below++;
    }
    int64_t d = firstcopy ? met_owrec_delay_ns(firstcopy) : 0;
    met_int_ipdv_step(&w->ipdv, keys[a].seq, firstcopy != NULL, d);
    if (!firstcopy) {
        return;
    }
    struct met_ow_stats *s = w->s;
    s->dups += copies - 1;
    w->delays[s->received++] = d;
    s->ttl.count[firstcopy->ttl]++;
    s->src_count[firstcopy->recv_src < 4 ? firstcopy->recv_src : CLK_SRC_NONE]++;
}

static void ow_walk(struct ow_work *w, const struct met_key *keys, size_t n)
{
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && keys[b].seq == keys[a].seq) {
            b++;
        }
        ow_group(w, keys, a, b);
        a = b;
    }
    if (n) {
        w->s->first_send = w->recs[keys[0].idx].send;
        w->s->last_send = w->recs[keys[n - 1].idx].send;
    }
}

/* Reordering over first copies in arrival order; reuses the key array as scratch. */
/* Reordering over first copies in arrival order. */
static int ow_reorder(struct ow_work *w, size_t n)
{
    uint32_t *arrival = malloc((n ? n : 1) * sizeof(*arrival));
    if (!arrival) {
        return LP_E_NOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (w->first[i]) {
            arrival[m++] = w->recs[i].seq;
        }
    }
    met_int_reorder(&w->s->reorder, arrival, m);
    free(arrival);
    return 0;
}

int met_ow_compute(const struct met_owrec *recs, size_t n, const struct met_params *p,
                   struct met_ow_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->synced = true;
    if (n > UINT32_MAX) {
        return LP_E_LEN;
    }
    struct ow_work w = {.recs = recs, .p = p, .s = out};
    struct met_key *keys = malloc((n ? n : 1) * sizeof(*keys));
    w.delays = malloc((n ? n : 1) * sizeof(*w.delays));
    w.first = calloc(n ? n : 1, 1);
    if (!keys || !w.delays || !w.first) {
        free(keys);
        free(w.delays);
        free(w.first);
        return LP_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i] = (struct met_key){.seq = recs[i].seq, .idx = (uint32_t)i};
    }
    met_int_sort_keys(keys, n);
    met_int_ipdv_init(&w.ipdv);
    ow_walk(&w, keys, n);
    out->ipdv = met_int_ipdv_done(&w.ipdv);
    out->sent = met_int_sent(w.distinct, w.below, p->npackets);
    out->lost = out->sent - out->received;
    met_int_dist_take(&out->delay, w.delays, out->received, out->sent);
    free(keys);
    int rc = ow_reorder(&w, n);
    free(w.first);
    if (rc != 0) {
        met_ow_stats_free(out);
    }
    return rc;
}

void met_ow_stats_free(struct met_ow_stats *s)
{
    free(s->delay.sorted_ns);
    s->delay.sorted_ns = NULL;
    s->delay.count = 0;
}
