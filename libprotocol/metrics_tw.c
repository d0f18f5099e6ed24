/* metrics_tw.c - two-way (TWAMP) statistics from session-sender records. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "metrics.h"
#include "metrics_int.h"

/* Working state of one met_tw_compute call. */
struct tw_work {
    const struct met_twrec *recs;
    const struct met_params *p;
    struct met_tw_stats *s;
    int64_t *rtt, *fwd, *rev; /* first-copy delays, n slots each */
    uint32_t *refl;           /* reflector seqs of in-time replies */
    size_t nrefl;
    bool refl_all; /* every in-time reply carried a reflector counter */
    uint8_t *first;
    struct met_ipdv_acc ipdv;
    uint64_t distinct, below;
};

static bool tw_arrived(const struct met_twrec *r, const struct met_params *p)
{
    if ((r->flags & MET_TW_LOST) || r->t4.ns == 0) {
        return false;
    }
    return p->loss_timeout_ns <= 0 || r->t4.ns - r->t1.ns <= p->loss_timeout_ns;
}

static uint64_t sum_err(uint16_t a, uint16_t b)
{
    uint64_t x = met_errest_ntp(a), y = met_errest_ntp(b);
    return x > UINT64_MAX - y ? UINT64_MAX : x + y;
}

static void raise_to(uint64_t *m, uint64_t v)
{
    if (v > *m) {
        *m = v;
    }
}

/* Sync and error of one reply; a lost packet only has its T1 estimate. */
static void tw_quality(struct met_tw_stats *s, const struct met_twrec *r, bool arrived)
{
    bool sync = met_errest_synced(r->t1_err);
    if (arrived) {
        sync = sync && met_errest_synced(r->t2_err) && met_errest_synced(r->t3_err) &&
               met_errest_synced(r->t4_err);
        uint64_t fwd = sum_err(r->t1_err, r->t2_err), rev = sum_err(r->t3_err, r->t4_err);
        raise_to(&s->maxerr_fwd_ntp, fwd);
        raise_to(&s->maxerr_rev_ntp, rev);
        raise_to(&s->maxerr_rtt_ntp, fwd > UINT64_MAX - rev ? UINT64_MAX : fwd + rev);
    }
    s->synced = s->synced && sync;
}

static void tw_delays(struct tw_work *w, const struct met_twrec *r)
{
    struct met_tw_stats *s = w->s;
    int64_t proc = r->t3.ns - r->t2.ns;
    int64_t fwd = r->t2.ns - r->t1.ns, rev = r->t4.ns - r->t3.ns;
    size_t i = s->received++;
    w->rtt[i] = (r->t4.ns - r->t1.ns) - proc;
    w->fwd[i] = fwd;
    w->rev[i] = rev;
    if (i == 0 || proc < s->proc_min_ns) {
        s->proc_min_ns = proc;
    }
    if (i == 0 || proc > s->proc_max_ns) {
        s->proc_max_ns = proc;
    }
    if (fwd < 0 || rev < 0) {
        s->clocks_offset = true;
    }
    s->send_ttl.count[r->sender_ttl]++;
    s->reflect_ttl.count[r->refl_ttl]++;
    s->src_count[r->t4_src < 4 ? r->t4_src : CLK_SRC_NONE]++;
}

/* Note an in-time reply's reflector counter for the direction split. */
static void tw_note_refl(struct tw_work *w, const struct met_twrec *r)
{
    if (r->flags & MET_TW_REFL_SEQ) {
        w->refl[w->nrefl++] = r->refl_seq;
    } else {
        w->refl_all = false;
    }
}

/* The records of one sequence number: keys[a..b), sorted by reflector seq then arrival. */
static void tw_group(struct tw_work *w, const struct met_key *keys, size_t a, size_t b)
{
    const struct met_twrec *firstcopy = NULL;
    uint32_t first_idx = 0, last_refl = 0;
    uint64_t copies = 0, distinct_refl = 0;
    for (size_t i = a; i < b; i++) {
        const struct met_twrec *r = &w->recs[keys[i].idx];
        bool arrived = tw_arrived(r, w->p);
        tw_quality(w->s, r, arrived);
        if (!arrived) {
            continue;
        }
        if (copies == 0 || r->refl_seq != last_refl) {
            distinct_refl++;
        }
        last_refl = r->refl_seq;
        if (!firstcopy || keys[i].idx < first_idx) {
            firstcopy = r;
            first_idx = keys[i].idx;
        }
        copies++;
        tw_note_refl(w, r);
    }
    w->distinct++;
    if (w->p->npackets && keys[a].seq < w->p->npackets) {
        w->below++;
    }
    int64_t rtt = 0;
    if (firstcopy) {
        w->first[first_idx] = 1;
        w->s->send_dups += distinct_refl - 1;
        w->s->reflect_dups += copies - distinct_refl;
        tw_delays(w, firstcopy);
        rtt = w->rtt[w->s->received - 1];
    }
    met_int_ipdv_step(&w->ipdv, keys[a].seq, firstcopy != NULL, rtt);
}

static void tw_walk(struct tw_work *w, const struct met_key *keys, size_t n)
{
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && keys[b].seq == keys[a].seq) {
            b++;
        }
        tw_group(w, keys, a, b);
        a = b;
    }
    if (n) {
        w->s->first_send = w->recs[keys[0].idx].t1;
        w->s->last_send = w->recs[keys[n - 1].idx].t1;
    }
}

static int u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : (a > b);
}

/* A stateful reflector numbers its replies 0,1,2...: a number missing below the highest one
 * seen is a reply lost on the way back; the remaining losses were lost on the way out
 * (replies lost after the last one that arrived are counted there too). */
static void tw_direction(struct tw_work *w)
{
    struct met_tw_stats *s = w->s;
    if (!w->refl_all || w->nrefl == 0) {
        return;
    }
    qsort(w->refl, w->nrefl, sizeof(*w->refl), u32_cmp);
    uint64_t distinct = 1;
    for (size_t i = 1; i < w->nrefl; i++) {
        distinct += w->refl[i] != w->refl[i - 1];
    }
    uint64_t missing = (uint64_t)w->refl[w->nrefl - 1] + 1 - distinct;
    s->dir_known = true;
    s->lost_rev = missing < s->lost ? missing : s->lost;
    s->lost_fwd = s->lost - s->lost_rev;
}

/* Reordering over first copies in arrival order. */
static int tw_reorder(struct tw_work *w, size_t n)
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

static void tw_work_free(struct tw_work *w)
{
    free(w->rtt);
    free(w->fwd);
    free(w->rev);
    free(w->refl);
    free(w->first);
}

static int tw_work_alloc(struct tw_work *w, size_t n)
{
    size_t m = n ? n : 1;
    w->rtt = malloc(m * sizeof(int64_t));
    w->fwd = malloc(m * sizeof(int64_t));
    w->rev = malloc(m * sizeof(int64_t));
    w->refl = malloc(m * sizeof(uint32_t));
    w->first = calloc(m, 1);
    if (!w->rtt || !w->fwd || !w->rev || !w->refl || !w->first) {
        tw_work_free(w);
        return LP_E_NOMEM;
    }
    return 0;
}

int met_tw_compute(const struct met_twrec *recs, size_t n, const struct met_params *p,
                   struct met_tw_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->synced = true;
    if (n > UINT32_MAX) {
        return LP_E_LEN;
    }
    struct tw_work w = {.recs = recs, .p = p, .s = out, .refl_all = true};
    struct met_key *keys = malloc((n ? n : 1) * sizeof(*keys));
    if (!keys || tw_work_alloc(&w, n) != 0) {
        free(keys);
        return LP_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i] = (struct met_key){.seq = recs[i].seq, .sub = recs[i].refl_seq, .idx = (uint32_t)i};
    }
    met_int_sort_keys(keys, n);
    met_int_ipdv_init(&w.ipdv);
    tw_walk(&w, keys, n);
    out->ipdv = met_int_ipdv_done(&w.ipdv);
    out->sent = met_int_sent(w.distinct, w.below, p->npackets);
    out->lost = out->sent - out->received;
    tw_direction(&w);
    free(keys);
    int rc = tw_reorder(&w, n);
    met_int_dist_take(&out->rtt, w.rtt, out->received, out->sent);
    met_int_dist_take(&out->fwd, w.fwd, out->received, out->sent);
    met_int_dist_take(&out->rev, w.rev, out->received, out->sent);
    w.rtt = w.fwd = w.rev = NULL;
    tw_work_free(&w);
    if (rc != 0) {
        met_tw_stats_free(out);
    }
    return rc;
}

void met_tw_stats_free(struct met_tw_stats *s)
{
    struct met_dist *d[] = {&s->rtt, &s->fwd, &s->rev};
    for (size_t i = 0; i < LP_ARRAY_LEN(d); i++) {
        free(d[i]->sorted_ns);
        d[i]->sorted_ns = NULL;
        d[i]->count = 0;
    }
}
