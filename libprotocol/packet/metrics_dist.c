/* metrics_dist.c - delay distributions: exact sorted values up to a bound, a log-linear
 * histogram beyond it, and ranks (median, percentiles) and walks over either form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "metrics.h"
#include "metrics_int.h"

/* Buckets per page: page 0 holds magnitudes 0..2^11-1 one by one, page p >= 1 holds
 * [2^(p+10), 2^(p+11)) in 2^11 buckets of 2^(p-1). */
#define SUB_BITS 11
#define SUB (1u << SUB_BITS)
#define PAGES (64 - SUB_BITS + 1)
#define SIDE_BUCKETS ((size_t)PAGES * SUB)

enum { SIDE_POS, SIDE_NEG };

struct met_dist_hist {
    int64_t min_ns, max_ns;
    uint64_t *page[2][PAGES]; /* [SIDE_NEG] by magnitude; pages allocated on first use */
};

/* ---- bucket arithmetic ---- */

static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static unsigned top_bit(uint64_t m)
{
    unsigned k = 0;
    while (m >>= 1) {
        k++;
    }
    return k;
}

static void bucket_of(uint64_t m, unsigned *page, unsigned *sub)
{
    if (m < SUB) {
        *page = 0;
        *sub = (unsigned)m;
        return;
    }
    unsigned k = top_bit(m);
    *page = k - SUB_BITS + 1;
    *sub = (unsigned)(m >> (k - SUB_BITS)) - SUB;
}

/* Smallest value in a bucket, as a signed value. */
static int64_t bucket_low(int side, unsigned page, unsigned sub)
{
    uint64_t lo = page == 0 ? sub : ((uint64_t)SUB + sub) << (page - 1);
    if (side == SIDE_POS) {
        return (int64_t)lo;
    }
    uint64_t hi = lo + (page == 0 ? 0 : ((uint64_t)1 << (page - 1)) - 1);
    return hi >= (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)hi;
}

/* Ascending position pos (0 .. 2 * SIDE_BUCKETS) to side, page and bucket. */
static void bucket_at(size_t pos, int *side, unsigned *page, unsigned *sub)
{
    if (pos < SIDE_BUCKETS) {
        size_t r = SIDE_BUCKETS - 1 - pos; /* negative side: falling magnitude */
        *side = SIDE_NEG;
        *page = (unsigned)(r / SUB);
        *sub = (unsigned)(r % SUB);
        return;
    }
    *side = SIDE_POS;
    *page = (unsigned)((pos - SIDE_BUCKETS) / SUB);
    *sub = (unsigned)((pos - SIDE_BUCKETS) % SUB);
}

/* ---- histogram ---- */

static void hist_free(struct met_dist_hist *h)
{
    if (!h) {
        return;
    }
    for (int side = 0; side < 2; side++) {
        for (unsigned p = 0; p < PAGES; p++) {
            free(h->page[side][p]);
        }
    }
    free(h);
}

static int hist_add(struct met_dist_hist *h, uint64_t count_before, int64_t v)
{
    unsigned page, sub;
    int side = v < 0 ? SIDE_NEG : SIDE_POS;
    bucket_of(magnitude(v), &page, &sub);
    uint64_t **pg = &h->page[side][page];
    if (!*pg && !(*pg = calloc(SUB, sizeof(**pg)))) {
        return LP_E_NOMEM;
    }
    (*pg)[sub]++;
    if (count_before == 0 || v < h->min_ns) {
        h->min_ns = v;
    }
    if (count_before == 0 || v > h->max_ns) {
        h->max_ns = v;
    }
    return 0;
}

/* Move the exact values into a new histogram. */
static int dist_to_hist(struct met_dist_acc *a)
{
    a->hist = calloc(1, sizeof(*a->hist));
    if (!a->hist) {
        return LP_E_NOMEM;
    }
    for (size_t i = 0; i < a->nvals; i++) {
        if (hist_add(a->hist, i, a->vals[i]) != 0) {
            return LP_E_NOMEM;
        }
    }
    free(a->vals);
    a->vals = NULL;
    a->nvals = a->cap = 0;
    return 0;
}

/* ---- builder ---- */

void met_int_dist_init(struct met_dist_acc *a)
{
    memset(a, 0, sizeof(*a));
    a->exact_max = MET_DIST_EXACT_MAX;
}

void met_int_dist_set_exact_max(struct met_dist_acc *a, uint32_t max_values)
{
    a->exact_max = max_values ? max_values : MET_DIST_EXACT_MAX;
}

static int dist_push(struct met_dist_acc *a, int64_t v)
{
    if (a->nvals == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        cap = cap < a->exact_max ? cap : a->exact_max;
        int64_t *p = realloc(a->vals, cap * sizeof(*p));
        if (!p) {
            return LP_E_NOMEM;
        }
        a->vals = p;
        a->cap = cap;
    }
    a->vals[a->nvals++] = v;
    return 0;
}

void met_int_dist_add(struct met_dist_acc *a, int64_t v)
{
    if (a->err) {
        return;
    }
    int rc;
    if (!a->hist && a->nvals < a->exact_max) {
        rc = dist_push(a, v);
    } else {
        rc = a->hist ? 0 : dist_to_hist(a);
        rc = rc ? rc : hist_add(a->hist, a->count, v);
    }
    if (rc) {
        a->err = rc;
        return;
    }
    a->count++;
}

static int ns_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : (a > b);
}

int met_int_dist_finish(struct met_dist_acc *a, struct met_dist *d, uint64_t total)
{
    memset(d, 0, sizeof(*d));
    if (a->err) {
        return a->err;
    }
    if (a->nvals > 1) {
        qsort(a->vals, a->nvals, sizeof(*a->vals), ns_cmp);
    }
    d->sorted_ns = a->vals;
    d->hist = a->hist;
    d->count = (size_t)a->count;
    d->total = total;
    a->vals = NULL;
    a->hist = NULL;
    return 0;
}

void met_int_dist_acc_free(struct met_dist_acc *a)
{
    free(a->vals);
    hist_free(a->hist);
    a->vals = NULL;
    a->hist = NULL;
}

void met_int_dist_free(struct met_dist *d)
{
    free(d->sorted_ns);
    hist_free(d->hist);
    d->sorted_ns = NULL;
    d->hist = NULL;
    d->count = 0;
}

/* ---- walking ---- */

void met_dist_iter_init(struct met_dist_iter *it, const struct met_dist *d)
{
    it->d = d;
    it->pos = 0;
}

static bool iter_exact(struct met_dist_iter *it, int64_t *value_ns, uint64_t *n)
{
    const struct met_dist *d = it->d;
    if (it->pos >= d->count) {
        return false;
    }
    size_t end = it->pos + 1;
    while (end < d->count && d->sorted_ns[end] == d->sorted_ns[it->pos]) {
        end++;
    }
    *value_ns = d->sorted_ns[it->pos];
    *n = end - it->pos;
    it->pos = end;
    return true;
}

static bool iter_hist(struct met_dist_iter *it, int64_t *value_ns, uint64_t *n)
{
    const struct met_dist_hist *h = it->d->hist;
    while (it->pos < 2 * SIDE_BUCKETS) {
        int side;
        unsigned page, sub;
        bucket_at(it->pos, &side, &page, &sub);
        const uint64_t *pg = h->page[side][page];
        if (!pg) {
            it->pos += SUB - (it->pos % SUB); /* skip the rest of an absent page */
            continue;
        }
        it->pos++;
        if (pg[sub]) {
            int64_t v = bucket_low(side, page, sub);
            *value_ns = v < h->min_ns ? h->min_ns : (v > h->max_ns ? h->max_ns : v);
            *n = pg[sub];
            return true;
        }
    }
    return false;
}

bool met_dist_iter_next(struct met_dist_iter *it, int64_t *value_ns, uint64_t *n)
{
    return it->d->hist ? iter_hist(it, value_ns, n) : iter_exact(it, value_ns, n);
}

/* ---- ranks ---- */

int64_t met_dist_min(const struct met_dist *d)
{
    if (!d->count) {
        return MET_NS_UNDEF;
    }
    return d->hist ? d->hist->min_ns : d->sorted_ns[0];
}

int64_t met_dist_max(const struct met_dist *d)
{
    if (!d->count) {
        return MET_NS_UNDEF;
    }
    return d->hist ? d->hist->max_ns : d->sorted_ns[d->count - 1];
}

/* Value of 1-based rank k, or MET_NS_UNDEF when the rank lies among lost samples. */
static int64_t dist_rank(const struct met_dist *d, uint64_t k)
{
    if (k == 0 || k > d->count) {
        return MET_NS_UNDEF;
    }
    if (!d->hist) {
        return d->sorted_ns[k - 1];
    }
    struct met_dist_iter it;
    int64_t v = MET_NS_UNDEF;
    uint64_t n, below = 0;
    met_dist_iter_init(&it, d);
    while (below < k && met_dist_iter_next(&it, &v, &n)) {
        below += n;
    }
    return v;
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

/* ---- met_hist ---- */

static unsigned hist_index(int64_t v)
{
    if (v < 16) {
        return v < 0 ? 0 : (unsigned)v;
    }
    unsigned msb = 63u - (unsigned)__builtin_clzll((unsigned long long)v);
    unsigned idx = (msb - 3) * 16 + (unsigned)((v >> (msb - 4)) & 15);
    return idx < MET_HIST_BINS ? idx : MET_HIST_BINS - 1;
}

/* Upper bound of a bin's values. */
static int64_t hist_value(unsigned idx)
{
    if (idx < 16) {
        return idx;
    }
    unsigned msb = idx / 16 + 3;
    int64_t lo = (int64_t)(16 + idx % 16) << (msb - 4);
    return lo + ((int64_t)1 << (msb - 4)) - 1;
}

void met_hist_add(struct met_hist *h, int64_t v)
{
    h->bin[hist_index(v)]++;
    h->n++;
    if (v > h->max) {
        h->max = v;
    }
}

int64_t met_hist_pct(const struct met_hist *h, double pct)
{
    uint64_t rank = (uint64_t)((double)h->n * pct / 100.0 + 0.999999);
    uint64_t seen = 0;
    for (unsigned i = 0; i < MET_HIST_BINS && h->n; i++) {
        seen += h->bin[i];
        if (seen >= rank) {
            return hist_value(i) < h->max ? hist_value(i) : h->max;
        }
    }
    return 0;
}
