/* pexpo.c - Prometheus text and OpenMetrics exposition of the targets' figures. Written for
 * speed (a thousand targets are about 100,000 lines): no stdio, labels built once per
 * target and direction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pexpo.h"

#define LABELS_MAX 1024

enum pex_fmt pex_negotiate(const char *accept)
{
    return accept && strstr(accept, "application/openmetrics-text") ? PEX_OPENMETRICS : PEX_TEXT;
}

const char *pex_content_type(enum pex_fmt f)
{
    return f == PEX_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                : "text/plain; version=0.0.4; charset=utf-8";
}

static bool grow(struct pex_buf *b, size_t n)
{
    if (b->oom) {
        return false;
    }
    if (b->len + n + 1 <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + n + 1) {
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void pex_put(struct pex_buf *b, const char *s, size_t n)
{
    if (grow(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
    }
}

void pex_puts(struct pex_buf *b, const char *s)
{
    pex_put(b, s, strlen(s));
}

void pex_u64(struct pex_buf *b, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    pex_put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void pex_seconds(struct pex_buf *b, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char frac[10];
    int n = 9;
    if (ns < 0) {
        pex_put(b, "-", 1);
    }
    pex_u64(b, a / 1000000000u);
    uint64_t f = a % 1000000000u;
    if (f == 0) {
        return;
    }
    for (int i = 8; i >= 0; i--, f /= 10) {
        frac[i + 1] = (char)('0' + f % 10);
    }
    frac[0] = '.';
    while (frac[n] == '0') {
        n--;
    }
    pex_put(b, frac, (size_t)n + 1);
}

void pex_label_value(struct pex_buf *b, const char *v)
{
    pex_put(b, "\"", 1);
    for (const char *s = v; *s; s++) {
        size_t run = strcspn(s, "\\\"\n");
        pex_put(b, s, run);
        s += run;
        if (!*s) {
            break;
        }
        pex_puts(b, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n");
    }
    pex_put(b, "\"", 1);
}

void pex_family(struct pex_buf *b, enum pex_fmt f, const char *name, const char *type,
                const char *help)
{
    bool counter = strcmp(type, "counter") == 0;
    const char *suffix = f == PEX_TEXT && counter ? "_total" : "";
    if (f == PEX_TEXT && strcmp(type, "info") == 0) {
        type = "gauge";
        suffix = "_info";
    }
    for (int line = 0; line < 2; line++) {
        pex_puts(b, line == 0 ? "# HELP " : "# TYPE ");
        pex_puts(b, name);
        pex_puts(b, suffix);
        pex_put(b, " ", 1);
        pex_puts(b, line == 0 ? help : type);
        pex_put(b, "\n", 1);
    }
}

void pex_end(struct pex_buf *b, enum pex_fmt f)
{
    if (f == PEX_OPENMETRICS) {
        pex_puts(b, "# EOF\n");
    }
}

void pex_free(struct pex_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- the targets' families ---- */

/* What a family shows of a direction. */
enum pfield {
    PF_SENT,
    PF_RECEIVED,
    PF_LOST,
    PF_DUPLICATED,
    PF_REORDERED,
    PF_DISCARDED,
    PF_STAMPS,
    PF_DELAY,
    PF_LAST_DELAY,
    PF_LAST_SYNC,
    PF_LAST_ERROR,
};

struct pfam {
    const char *name; /* after "ippm_"; counters without _total */
    const char *type;
    const char *help;
    enum pfield field;
};

static const struct pfam dir_fams[] = {
    {"packets_sent", "counter", "Test packets sent.", PF_SENT},
    {"packets_received", "counter", "Test packets that arrived within the loss timeout.",
     PF_RECEIVED},
    {"packets_lost", "counter",
     "Test packets lost (RFC 7680: not arrived within the loss timeout).", PF_LOST},
    {"packets_duplicated", "counter", "Extra copies of test packets received (RFC 5560).",
     PF_DUPLICATED},
    {"packets_reordered", "counter", "Test packets received out of order (RFC 4737).",
     PF_REORDERED},
    {"packets_discarded", "counter", "Packets received but not used, by reason.", PF_DISCARDED},
    {"timestamps", "counter",
     "Timestamps of received packets by clock source (send: the sender's).", PF_STAMPS},
    {"delay_seconds", "histogram",
     "Delay of each packet that arrived (one-way, or round trip without the reflector's time).",
     PF_DELAY},
    {"last_delay_seconds", "gauge", "Delay statistics of the last session.", PF_LAST_DELAY},
    {"last_clock_synchronized", "gauge",
     "1 when every timestamp of the last session came from a synchronised clock.", PF_LAST_SYNC},
    {"last_clock_error_seconds", "gauge",
     "Largest timestamp error estimate of the last session (both ends for one-way).",
     PF_LAST_ERROR},
};

/* The sample name: ippm_ + name + suffix (a counter's _total unless in a probe). */
static void sample_name(struct pex_buf *b, const char *name, const char *suffix)
{
    pex_put(b, "ippm_", 5);
    pex_puts(b, name);
    pex_puts(b, suffix);
}

/* name{labels[,extra]} */
static void sample_start(struct pex_buf *b, const char *name, const char *suffix,
                         const char *labels, const char *extra)
{
    sample_name(b, name, suffix);
    if (!labels[0] && !extra) {
        pex_put(b, " ", 1);
        return;
    }
    pex_put(b, "{", 1);
    pex_puts(b, labels);
    if (extra) {
        pex_puts(b, labels[0] ? "," : "");
        pex_puts(b, extra);
    }
    pex_put(b, "} ", 2);
}

static const char *count_suffix(const struct pex_opts *o, const struct pfam *m)
{
    return strcmp(m->type, "counter") == 0 && !o->probe ? "_total" : "";
}

static void u64_sample(struct pex_buf *b, const struct pex_opts *o, const struct pfam *m,
                       const char *labels, const char *extra, uint64_t v)
{
    sample_start(b, m->name, count_suffix(o, m), labels, extra);
    pex_u64(b, v);
    pex_put(b, "\n", 1);
}

static void histogram(struct pex_buf *b, const struct pex_opts *o, const char *labels,
                      const struct pst_dirstat *d, char (*le)[32])
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= o->nbuckets; i++) {
        cum += d->bucket[i];
        sample_start(b, "delay_seconds", "_bucket", labels, le[i]);
        pex_u64(b, cum);
        pex_put(b, "\n", 1);
    }
    sample_start(b, "delay_seconds", "_sum", labels, NULL);
    pex_seconds(b, d->sum_ns);
    pex_put(b, "\n", 1);
    sample_start(b, "delay_seconds", "_count", labels, NULL);
    pex_u64(b, d->observed);
    pex_put(b, "\n", 1);
}

static void last_delay(struct pex_buf *b, const char *labels, const struct pst_dirstat *d)
{
    const char *stat[] = {"statistic=\"min\"", "statistic=\"median\"", "statistic=\"p99\"",
                          "statistic=\"max\""};
    int64_t v[] = {d->last_min_ns, d->last_median_ns, d->last_p99_ns, d->last_max_ns};
    for (int i = 0; i < 4 && d->last_valid; i++) {
        if (v[i] != MET_NS_UNDEF) {
            sample_start(b, "last_delay_seconds", "", labels, stat[i]);
            pex_seconds(b, v[i]);
            pex_put(b, "\n", 1);
        }
    }
}

static void stamps(struct pex_buf *b, const struct pex_opts *o, const struct pfam *m,
                   const char *labels, const struct pst_dirstat *d)
{
    char extra[64];
    for (int k = 0; k < PST_NSTAMP; k++) {
        for (unsigned c = 0; c < 4; c++) {
            if (d->stamps[k][c]) {
                snprintf(extra, sizeof(extra), "stamp=\"%s\",source=\"%s\"",
                         pst_stamp_name((enum pst_stamp)k), pst_source_name(c));
                u64_sample(b, o, m, labels, extra, d->stamps[k][c]);
            }
        }
    }
}

/* The samples of family m for one direction. */
static void dir_samples(struct pex_buf *b, const struct pex_opts *o, const struct pfam *m,
                        const char *labels, const struct pst_dirstat *d, char (*le)[32])
{
    const uint64_t counts[] = {d->sent, d->received, d->lost, d->duplicated, d->reordered};
    char extra[64];
    switch (m->field) {
    case PF_SENT:
    case PF_RECEIVED:
    case PF_LOST:
        if (d->counts) {
            u64_sample(b, o, m, labels, NULL, counts[m->field]);
        }
        break;
    case PF_DUPLICATED:
    case PF_REORDERED: u64_sample(b, o, m, labels, NULL, counts[m->field]); break;
    case PF_DISCARDED:
        for (int r = 0; r < PST_NDISC; r++) {
            if (d->discarded[r]) {
                snprintf(extra, sizeof(extra), "reason=\"%s\"",
                         pst_reason_name((enum pst_reason)r));
                u64_sample(b, o, m, labels, extra, d->discarded[r]);
            }
        }
        break;
    case PF_STAMPS: stamps(b, o, m, labels, d); break;
    case PF_DELAY: histogram(b, o, labels, d, le); break;
    case PF_LAST_DELAY: last_delay(b, labels, d); break;
    case PF_LAST_SYNC:
        if (d->last_valid) {
            sample_start(b, m->name, "", labels, NULL);
            pex_puts(b, d->last_synced ? "1\n" : "0\n");
        }
        break;
    case PF_LAST_ERROR:
        if (d->last_valid) {
            sample_start(b, m->name, "", labels, NULL);
            pex_seconds(b, (int64_t)(d->last_error_ns > INT64_MAX ? INT64_MAX : d->last_error_ns));
            pex_put(b, "\n", 1);
        }
        break;
    }
}

/* target="...",module="...",direction="..." into out (no target/module for a probe). */
static void make_labels(struct pex_buf *out, const struct pex_entry *e, const char *dir)
{
    out->len = 0;
    if (e->target) {
        pex_puts(out, "target=");
        pex_label_value(out, e->target);
        pex_puts(out, ",module=");
        pex_label_value(out, e->module);
        if (dir) {
            pex_put(out, ",", 1);
        }
    }
    if (dir) {
        pex_puts(out, "direction=\"");
        pex_puts(out, dir);
        pex_put(out, "\"", 1);
    }
    if (!out->p) {
        pex_put(out, "", 0);
    }
}

/* The le label of every bucket, once per exposition. */
static void bucket_labels(const struct pex_opts *o, char (*le)[32])
{
    for (size_t i = 0; i < o->nbuckets; i++) {
        struct pex_buf v = {0};
        pex_seconds(&v, o->buckets_ns[i]);
        snprintf(le[i], 32, "le=\"%s%s\"", v.p ? v.p : "0",
                 o->fmt == PEX_OPENMETRICS && v.p && !strchr(v.p, '.') ? ".0" : "");
        pex_free(&v);
    }
    snprintf(le[o->nbuckets], 32, "le=\"+Inf\"");
}

/* Per-target families (sessions, last session). */
static void target_fams(struct pex_buf *b, const struct pex_opts *o, const struct pex_entry *e,
                        size_t n, struct pex_buf *labels)
{
    if (!o->probe) {
        pex_family(b, o->fmt, "ippm_sessions", "counter", "Measurement sessions, by result.");
        for (size_t i = 0; i < n; i++) {
            make_labels(labels, &e[i], NULL);
            sample_start(b, "sessions", "_total", labels->p, "result=\"success\"");
            pex_u64(b, e[i].st->sessions_ok);
            pex_put(b, "\n", 1);
            sample_start(b, "sessions", "_total", labels->p, "result=\"failure\"");
            pex_u64(b, e[i].st->sessions_failed);
            pex_put(b, "\n", 1);
        }
    }
    pex_family(b, o->fmt, "ippm_last_session_success", "gauge",
               "1 when the last session measured, 0 when it failed.");
    for (size_t i = 0; i < n; i++) {
        if (e[i].st->have_last) {
            make_labels(labels, &e[i], NULL);
            sample_start(b, "last_session_success", "", labels->p, NULL);
            pex_puts(b, e[i].st->last_ok ? "1\n" : "0\n");
        }
    }
    pex_family(b, o->fmt, "ippm_last_session_end_timestamp_seconds", "gauge",
               "When the last session ended, in seconds since the Unix epoch.");
    for (size_t i = 0; i < n; i++) {
        if (e[i].st->have_last) {
            make_labels(labels, &e[i], NULL);
            sample_start(b, "last_session_end_timestamp_seconds", "", labels->p, NULL);
            pex_seconds(b, e[i].st->last_end_ns);
            pex_put(b, "\n", 1);
        }
    }
}

void pex_targets(struct pex_buf *b, const struct pex_opts *o, const struct pex_entry *e, size_t n)
{
    char le[PC_MAX_BUCKETS + 1][32];
    struct pex_buf labels = {0};
    bucket_labels(o, le);
    target_fams(b, o, e, n, &labels);
    for (size_t k = 0; k < sizeof(dir_fams) / sizeof(dir_fams[0]); k++) {
        const struct pfam *m = &dir_fams[k];
        char full[64];
        bool counter = strcmp(m->type, "counter") == 0;
        snprintf(full, sizeof(full), "ippm_%s", m->name);
        pex_family(b, o->fmt, full, counter && o->probe ? "gauge" : m->type, m->help);
        for (size_t i = 0; i < n; i++) {
            for (int d = 0; d < PST_NDIR; d++) {
                if (e[i].st->d[d].used) {
                    make_labels(&labels, &e[i], pst_dir_name((enum pst_dir)d));
                    dir_samples(b, o, m, labels.p, &e[i].st->d[d], le);
                }
            }
        }
    }
    pex_free(&labels);
}
