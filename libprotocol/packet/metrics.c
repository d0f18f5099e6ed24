/* metrics.c - one-way statistics, streamed record by record, and the per-seq bookkeeping
 * (window, IPDV, reordering) both session types share. */
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

/* A timestamp as NTP: the carried value when it is in NTP format, else t converted. */
static uint64_t ntp_stamp(uint64_t wire, uint16_t errest, struct clk_time t)
{
    if (wire && !clk_errest_decode(errest).ptp) {
        return wire;
    }
    return t.ns ? clk_to_ntp(t).raw : 0;
}

uint64_t met_owrec_send_ntp(const struct met_owrec *r)
{
    return met_owrec_send_is_tx(r) ? clk_to_ntp(r->send).raw
                                   : ntp_stamp(r->send_wire, r->send_err, r->send);
}

uint64_t met_owrec_packet_ntp(const struct met_owrec *r)
{
    return ntp_stamp(r->send_wire, r->send_err, met_owrec_packet_time(r));
}

struct clk_time met_owrec_packet_time(const struct met_owrec *r)
{
    if (!met_owrec_send_is_tx(r) || !r->send_wire || clk_errest_decode(r->send_err).ptp) {
        return r->send; /* a PTP time needs the TAI offset: OWAMP never carries one */
    }
    return clk_from_ntp((struct clk_ntp){r->send_wire});
}

uint64_t met_owrec_recv_ntp(const struct met_owrec *r)
{
    return r->lost ? 0 : ntp_stamp(r->recv_wire, r->recv_err, r->recv);
}

static uint64_t magnitude_of(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

uint64_t met_int_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

unsigned met_int_src_index(uint8_t src)
{
    return src < 4 ? src : CLK_SRC_NONE;
}

void met_int_span_note(struct met_span *s, uint32_t seq, uint32_t sub, struct clk_time t)
{
    if (!s->any || seq < s->lo_seq || (seq == s->lo_seq && sub < s->lo_sub)) {
        s->lo_seq = seq;
        s->lo_sub = sub;
        s->first = t;
    }
    if (!s->any || seq > s->hi_seq || (seq == s->hi_seq && sub >= s->hi_sub)) {
        s->hi_seq = seq;
        s->hi_sub = sub;
        s->last = t;
    }
    s->any = true;
}

unsigned met_ttl_summary(const struct met_ttl *t, uint8_t *min_ttl, uint8_t *max_ttl)
{
    unsigned n = 0;
    *min_ttl = 255;
    *max_ttl = 0;
    for (unsigned i = MET_TTL_UNKNOWN + 1; i < 256; i++) {
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

void met_int_reorder_init(struct met_reorder_acc *a)
{
    memset(a, 0, sizeof(*a));
}

void met_int_reorder_step(struct met_reorder_acc *a, uint32_t seq)
{
    struct met_reorder *r = &a->out;
    if (seq < a->next_exp) {
        r->reordered++;
    } else {
        a->next_exp = (uint64_t)seq + 1;
    }
    uint64_t earlier = r->evaluated < MET_NREORDER_MAX ? r->evaluated : MET_NREORDER_MAX;
    for (unsigned k = 1; k <= earlier; k++) {
        if (seq >= a->last[(a->head + MET_NREORDER_MAX - k) % MET_NREORDER_MAX]) {
            break;
        }
        r->n_count[k - 1]++;
    }
    a->last[a->head] = seq;
    a->head = (a->head + 1) % MET_NREORDER_MAX;
    r->evaluated++;
}

/* ---- sequence window and IPDV (RFC 3393, consecutive sequence numbers) ---- */

int met_int_seqs_init(struct met_seqs *q, uint32_t npackets)
{
    memset(q, 0, sizeof(*q));
    q->npackets = npackets;
    q->ipdv.out.min_ns = MET_NS_UNDEF;
    q->ipdv.out.max_ns = MET_NS_UNDEF;
    q->ring = calloc(MET_SEQ_WINDOW, sizeof(*q->ring));
    return q->ring ? 0 : LP_E_NOMEM;
}

void met_int_seqs_free(struct met_seqs *q)
{
    free(q->ring);
    q->ring = NULL;
}

struct met_slot *met_int_seqs_slot(struct met_seqs *q, uint32_t seq)
{
    return &q->ring[seq & (MET_SEQ_WINDOW - 1)];
}

enum met_win met_int_seqs_place(struct met_seqs *q, uint32_t seq)
{
    struct met_slot *s = met_int_seqs_slot(q, seq);
    if (s->state != MET_SLOT_EMPTY && s->seq >= seq) {
        q->outside += s->seq > seq;
        return s->seq == seq ? MET_WIN_KNOWN : MET_WIN_OLD;
    }
    *s = (struct met_slot){.seq = seq, .state = MET_SLOT_SEEN};
    q->distinct++;
    q->below += q->npackets && seq < q->npackets;
    return MET_WIN_NEW;
}

/* Count one IPDV value v: the delay of seq + 1 minus the delay of seq. */
static void ipdv_pair(struct met_ipdv_acc *a, int64_t v)
{
    struct met_ipdv *o = &a->out;
    if (o->pairs == 0 || v < o->min_ns) {
        o->min_ns = v;
    }
    if (o->pairs == 0 || v > o->max_ns) {
        o->max_ns = v;
    }
    o->pairs++;
    a->sum_abs = met_int_sat_add(a->sum_abs, magnitude_of(v));
}

/* The slot of seq if seq arrived and is still in the window, else NULL. */
static const struct met_slot *arrived_slot(struct met_seqs *q, uint32_t seq)
{
    const struct met_slot *s = met_int_seqs_slot(q, seq);
    return s->state == MET_SLOT_ARRIVED && s->seq == seq ? s : NULL;
}

void met_int_seqs_arrive(struct met_seqs *q, uint32_t seq, int64_t delay_ns)
{
    struct met_slot *s = met_int_seqs_slot(q, seq);
    s->state = MET_SLOT_ARRIVED;
    s->delay_ns = delay_ns;
    const struct met_slot *prev = seq > 0 ? arrived_slot(q, seq - 1) : NULL;
    const struct met_slot *next = seq < UINT32_MAX ? arrived_slot(q, seq + 1) : NULL;
    if (prev) {
        ipdv_pair(&q->ipdv, delay_ns - prev->delay_ns);
    }
    if (next) {
        ipdv_pair(&q->ipdv, next->delay_ns - delay_ns);
    }
}

uint64_t met_int_seqs_sent(const struct met_seqs *q)
{
    return q->below < q->npackets ? q->distinct + (q->npackets - q->below) : q->distinct;
}

struct met_ipdv met_int_ipdv_done(const struct met_ipdv_acc *a)
{
    struct met_ipdv r = a->out;
    r.mean_abs_ns = r.pairs ? (int64_t)(a->sum_abs / r.pairs) : 0;
    return r;
}

/* ---- one-way ---- */

struct met_ow_acc {
    struct met_params p;
    struct met_ow_stats s; /* counters so far; the delay dist is filled by finish */
    struct met_seqs seqs;
    struct met_dist_acc delay;
    struct met_reorder_acc reorder;
    struct met_span span;
};

struct met_ow_acc *met_ow_acc_create(const struct met_params *p)
{
    struct met_ow_acc *a = calloc(1, sizeof(*a));
    if (!a) {
        return NULL;
    }
    if (met_int_seqs_init(&a->seqs, p->npackets) != 0) {
        free(a);
        return NULL;
    }
    a->p = *p;
    a->s.synced = true;
    met_int_dist_init(&a->delay);
    met_int_reorder_init(&a->reorder);
    return a;
}

void met_ow_acc_set_exact_max(struct met_ow_acc *a, uint32_t max_values)
{
    met_int_dist_set_exact_max(&a->delay, max_values);
}

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
        err = met_int_sat_add(err, met_errest_ntp(r->send_err));
        sync = sync && met_errest_synced(r->send_err);
    }
    s->synced = s->synced && sync;
    if (err > s->maxerr_ntp) {
        s->maxerr_ntp = err;
    }
}

/* The first copy of a packet that arrived in time. */
static void ow_first_copy(struct met_ow_acc *a, const struct met_owrec *r)
{
    int64_t d = met_owrec_delay_ns(r);
    a->s.received++;
    a->s.ttl.count[r->ttl]++;
    a->s.src_count[met_int_src_index(r->recv_src)]++;
    met_int_dist_add(&a->delay, d);
    met_int_reorder_step(&a->reorder, r->seq);
    met_int_seqs_arrive(&a->seqs, r->seq, d);
}

static void ow_add_one(struct met_ow_acc *a, const struct met_owrec *r)
{
    if (met_int_seqs_place(&a->seqs, r->seq) == MET_WIN_OLD) {
        return;
    }
    met_int_span_note(&a->span, r->seq, 0, r->send);
    bool arrived = ow_arrived(r, &a->p);
    ow_quality(&a->s, r, arrived);
    if (!arrived) {
        return;
    }
    if (met_int_seqs_slot(&a->seqs, r->seq)->state == MET_SLOT_ARRIVED) {
        a->s.dups++;
        return;
    }
    ow_first_copy(a, r);
}

void met_ow_acc_add(struct met_ow_acc *a, const struct met_owrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ow_add_one(a, &r[i]);
    }
}

int met_ow_acc_finish(struct met_ow_acc *a, struct met_ow_stats *out)
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
    int rc = met_int_dist_finish(&a->delay, &out->delay, out->sent);
    if (rc != 0) {
        met_ow_stats_free(out);
    }
    return rc;
}

void met_ow_acc_destroy(struct met_ow_acc *a)
{
    if (!a) {
        return;
    }
    met_int_seqs_free(&a->seqs);
    met_int_dist_acc_free(&a->delay);
    free(a);
}

int met_ow_compute(const struct met_owrec *recs, size_t n, const struct met_params *p,
                   struct met_ow_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->synced = true;
    struct met_ow_acc *a = met_ow_acc_create(p);
    if (!a) {
        return LP_E_NOMEM;
    }
    met_ow_acc_add(a, recs, n);
    int rc = met_ow_acc_finish(a, out);
    met_ow_acc_destroy(a);
    return rc;
}

void met_ow_stats_free(struct met_ow_stats *s)
{
    met_int_dist_free(&s->delay);
}
