/* metrics_tw.c - two-way (TWAMP) statistics from session-sender records, streamed record by
 * record. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "metrics.h"
#include "metrics_int.h"

/* Reflector seqs of the in-time copies of one seq, beside its window slot: the first copy's
 * and the latest different one. A copy carrying one of them is a reverse-path duplicate,
 * any other a forward-path one (exact while a packet's copies carry at most two reflector
 * seqs). */
struct tw_copies {
    uint32_t first, other;
    bool has_other;
};

struct met_tw_acc {
    struct met_params p;
    struct met_tw_stats s; /* counters so far; the dists are filled by finish */
    struct met_seqs seqs;
    struct tw_copies *copies; /* MET_SEQ_WINDOW, indexed like seqs.ring */
    struct met_dist_acc rtt, fwd, rev;
    struct met_reorder_acc reorder;
    struct met_span span;
    /* direction split: reflector seqs of in-time replies */
    uint64_t *refl_seen; /* MET_SEQ_WINDOW tags, refl_seq + 1 (0: empty) */
    uint64_t refl_distinct;
    uint32_t refl_max;
    bool refl_any;
    bool refl_all;     /* every in-time reply carried a reflector counter */
    bool refl_copy;    /* some reply's counter may be a copy of its seq (MET_TW_REFL_COPY) */
    bool refl_differs; /* some reply's reflector seq differs from its seq: a real counter */
};

struct met_tw_acc *met_tw_acc_create(const struct met_params *p)
{
    struct met_tw_acc *a = calloc(1, sizeof(*a));
    if (!a) {
        return NULL;
    }
    a->copies = calloc(MET_SEQ_WINDOW, sizeof(*a->copies));
    a->refl_seen = calloc(MET_SEQ_WINDOW, sizeof(*a->refl_seen));
    if (met_int_seqs_init(&a->seqs, p->npackets) != 0 || !a->copies || !a->refl_seen) {
        met_tw_acc_destroy(a);
        return NULL;
    }
    a->p = *p;
    a->s.synced = true;
    a->refl_all = true;
    met_int_dist_init(&a->rtt);
    met_int_dist_init(&a->fwd);
    met_int_dist_init(&a->rev);
    met_int_reorder_init(&a->reorder);
    return a;
}

static bool tw_arrived(const struct met_twrec *r, const struct met_params *p)
{
    if ((r->flags & MET_TW_LOST) || r->t4.ns == 0) {
        return false;
    }
    return p->loss_timeout_ns <= 0 || r->t4.ns - r->t1.ns <= p->loss_timeout_ns;
}

static uint64_t sum_err(uint16_t a, uint16_t b)
{
    return met_int_sat_add(met_errest_ntp(a), met_errest_ntp(b));
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
        raise_to(&s->maxerr_rtt_ntp, met_int_sat_add(fwd, rev));
    }
    s->synced = s->synced && sync;
}

/* Note an in-time reply's reflector counter for the direction split. A counter older than
 * the window's memory of counters counts as seen before. */
static void tw_note_refl(struct met_tw_acc *a, const struct met_twrec *r)
{
    if (!(r->flags & MET_TW_REFL_SEQ)) {
        a->refl_all = false;
        return;
    }
    a->refl_copy = a->refl_copy || (r->flags & MET_TW_REFL_COPY);
    a->refl_differs = a->refl_differs || r->refl_seq != r->seq;
    uint64_t *tag = &a->refl_seen[r->refl_seq & (MET_SEQ_WINDOW - 1)];
    if (*tag < (uint64_t)r->refl_seq + 1) {
        *tag = (uint64_t)r->refl_seq + 1;
        a->refl_distinct++;
    }
    if (!a->refl_any || r->refl_seq > a->refl_max) {
        a->refl_max = r->refl_seq;
    }
    a->refl_any = true;
}

/* The first copy of a packet that arrived in time. */
static void tw_first_copy(struct met_tw_acc *a, const struct met_twrec *r)
{
    struct met_tw_stats *s = &a->s;
    int64_t proc = r->t3.ns - r->t2.ns;
    int64_t fwd = r->t2.ns - r->t1.ns, rev = r->t4.ns - r->t3.ns;
    int64_t rtt = (r->t4.ns - r->t1.ns) - proc;
    if (s->received == 0 || proc < s->proc_min_ns) {
        s->proc_min_ns = proc;
    }
    if (s->received == 0 || proc > s->proc_max_ns) {
        s->proc_max_ns = proc;
    }
    s->received++;
    s->clocks_offset = s->clocks_offset || fwd < 0 || rev < 0;
    s->send_ttl.count[r->sender_ttl]++;
    s->reflect_ttl.count[r->refl_ttl]++;
    s->src_count[met_int_src_index(r->t4_src)]++;
    met_int_dist_add(&a->rtt, rtt);
    met_int_dist_add(&a->fwd, fwd);
    met_int_dist_add(&a->rev, rev);
    met_int_reorder_step(&a->reorder, r->seq);
    met_int_seqs_arrive(&a->seqs, r->seq, rtt);
}

/* A further in-time copy: same reflector seq as an earlier copy, or a new one. */
static void tw_dup(struct met_tw_acc *a, struct tw_copies *c, uint32_t refl_seq)
{
    if (refl_seq == c->first || (c->has_other && refl_seq == c->other)) {
        a->s.reflect_dups++;
        return;
    }
    a->s.send_dups++;
    c->other = refl_seq;
    c->has_other = true;
}

static void tw_add_one(struct met_tw_acc *a, const struct met_twrec *r)
{
    enum met_win w = met_int_seqs_place(&a->seqs, r->seq);
    if (w == MET_WIN_OLD) {
        return;
    }
    met_int_span_note(&a->span, r->seq, r->refl_seq, r->t1);
    bool arrived = tw_arrived(r, &a->p);
    tw_quality(&a->s, r, arrived);
    if (!arrived) {
        return;
    }
    tw_note_refl(a, r);
    struct tw_copies *c = &a->copies[r->seq & (MET_SEQ_WINDOW - 1)];
    if (met_int_seqs_slot(&a->seqs, r->seq)->state == MET_SLOT_ARRIVED) {
        tw_dup(a, c, r->refl_seq);
        return;
    }
    *c = (struct tw_copies){.first = r->refl_seq};
    tw_first_copy(a, r);
}

void met_tw_acc_add(struct met_tw_acc *a, const struct met_twrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tw_add_one(a, &r[i]);
    }
}

/* A stateful reflector numbers its replies 0,1,2...: a number missing below the highest one
 * seen is a reply lost on the way back; the remaining losses were lost on the way out
 * (replies lost after the last one that arrived are counted there too). A reflector that may
 * copy the sender's numbers (TWAMP Light, STAMP stateless) proves it counts only when some
 * reply carries another number than its own: until then a loss could have happened either
 * way, and the split stays unknown. */
static void tw_direction(const struct met_tw_acc *a, struct met_tw_stats *s)
{
    if (!a->refl_all || !a->refl_any || (a->refl_copy && !a->refl_differs && s->lost > 0)) {
        return;
    }
    uint64_t missing = (uint64_t)a->refl_max + 1 - a->refl_distinct;
    s->dir_known = true;
    s->lost_rev = missing < s->lost ? missing : s->lost;
    s->lost_fwd = s->lost - s->lost_rev;
}

int met_tw_acc_finish(struct met_tw_acc *a, struct met_tw_stats *out)
{
    *out = a->s;
    out->sent = met_int_seqs_sent(&a->seqs);
    out->lost = out->sent - out->received;
    out->ipdv = met_int_ipdv_done(&a->seqs.ipdv);
    out->reorder = a->reorder.out;
    out->outside_window = a->seqs.outside;
    if (a->span.any) {
        out->first_send = a->span.first;
        out->last_send = a->span.last;
    }
    tw_direction(a, out);
    int rc = met_int_dist_finish(&a->rtt, &out->rtt, out->sent);
    int rc_fwd = met_int_dist_finish(&a->fwd, &out->fwd, out->sent);
    int rc_rev = met_int_dist_finish(&a->rev, &out->rev, out->sent);
    rc = rc ? rc : (rc_fwd ? rc_fwd : rc_rev);
    if (rc != 0) {
        met_tw_stats_free(out);
    }
    return rc;
}

void met_tw_acc_destroy(struct met_tw_acc *a)
{
    if (!a) {
        return;
    }
    met_int_seqs_free(&a->seqs);
    free(a->copies);
    free(a->refl_seen);
    met_int_dist_acc_free(&a->rtt);
    met_int_dist_acc_free(&a->fwd);
    met_int_dist_acc_free(&a->rev);
    free(a);
}

int met_tw_compute(const struct met_twrec *recs, size_t n, const struct met_params *p,
                   struct met_tw_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->synced = true;
    struct met_tw_acc *a = met_tw_acc_create(p);
    if (!a) {
        return LP_E_NOMEM;
    }
    met_tw_acc_add(a, recs, n);
    int rc = met_tw_acc_finish(a, out);
    met_tw_acc_destroy(a);
    return rc;
}

void met_tw_stats_free(struct met_tw_stats *s)
{
    met_int_dist_free(&s->rtt);
    met_int_dist_free(&s->fwd);
    met_int_dist_free(&s->rev);
}
