/* out_prom.c - --prom FILE: the Prometheus text exposition format (version 0.0.4) for
 * node_exporter's textfile collector, written to FILE.tmp and renamed over FILE so the
 * collector never reads half a file. Built from the run documents (out.h): gauges describe
 * the last session of each target and direction; the *_total counters add up the packets of
 * every session this process measured (one run, or all sessions of --continuous). No sample
 * carries a timestamp (the textfile collector refuses them); *_last_run_timestamp_seconds
 * says when the figures were taken.
 *
 * Per-session labels: target (as given), direction ("to"/"from" for OWAMP; "round_trip",
 * "forward", "reverse" for TWAMP), dscp; delay families add quantile ("0" is the minimum, "1"
 * the maximum). Per-run families carry the target only. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "out.h"

enum pkind {
    PK_DELAY,       /* {"min","median","p95","p99","max"} in ns -> quantile samples in seconds */
    PK_PDV,         /* {"p50","p95","p99","max"} in ns */
    PK_SECONDS,     /* ns -> seconds */
    PK_NUMBER,      /* as is */
    PK_BOOL,        /* 0 / 1 */
    PK_COUNTER,     /* running total of an integer */
    PK_RUN_OK,      /* run level: 1 when the run measured */
    PK_RUN_CROSSED, /* run level: thresholds crossed */
    PK_RUN_TIME,    /* run level: end time */
};

/* One source of samples; consecutive entries with the same name are one family. */
struct pfam {
    const char *name, *type, *help;
    enum pkind kind;
    const char *key; /* dotted path in a session summary */
    const char *dir; /* direction label; NULL: the session's */
};

#define H_DELAY "delay of the last session: quantile 0 is the minimum, 1 the maximum"
#define H_SENT "Test packets sent, all sessions of this process."
#define H_LOST "Test packets lost (RFC 7680), all sessions of this process."
#define H_DUPS "Duplicate packets received (RFC 5560), all sessions of this process."
#define H_SYNC "1 when every timestamp of the last session came from a synchronised clock."
#define H_ERR "Largest timestamp error estimate of the last session."
#define H_PDV "Delay variation of the last session (RFC 5481 PDV: percentile minus minimum)."
#define H_LOSS "Fraction of the packets of the last session that were lost (RFC 7680)."
#define H_REORD "Fraction of received packets reordered (RFC 4737) in the last session."
#define H_OK "1 when the last run measured (thresholds aside), 0 when it failed."
#define H_CROSSED "Thresholds crossed in the last run."
#define H_TIME "When the last run ended, in seconds since the Unix epoch."

static const struct pfam ow_fams[] = {
    {"one_way_delay_seconds", "gauge", "One-way " H_DELAY " (RFC 7679).", PK_DELAY,
     "one_way_delay_ns", NULL},
    {"pdv_seconds", "gauge", H_PDV, PK_PDV, "pdv_ns", NULL},
    {"loss_ratio", "gauge", H_LOSS, PK_NUMBER, "loss.ratio", NULL},
    {"reordered_ratio", "gauge", H_REORD, PK_NUMBER, "reordering.ratio", NULL},
    {"clock_synchronized", "gauge", H_SYNC, PK_BOOL, "clock.synchronized", NULL},
    {"clock_max_error_seconds", "gauge", H_ERR, PK_SECONDS, "clock.max_error_ns", NULL},
    {"packets_sent_total", "counter", H_SENT, PK_COUNTER, "loss.sent", NULL},
    {"packets_lost_total", "counter", H_LOST, PK_COUNTER, "loss.lost", NULL},
    {"packets_duplicate_total", "counter", H_DUPS, PK_COUNTER, "duplicates.count", NULL},
    {"run_success", "gauge", H_OK, PK_RUN_OK, NULL, NULL},
    {"thresholds_crossed", "gauge", H_CROSSED, PK_RUN_CROSSED, NULL, NULL},
    {"last_run_timestamp_seconds", "gauge", H_TIME, PK_RUN_TIME, NULL, NULL},
};

static const struct pfam tw_fams[] = {
    {"round_trip_seconds", "gauge", "Round-trip " H_DELAY " (RFC 2681; reflector time excluded).",
     PK_DELAY, "round_trip_delay_ns", "round_trip"},
    {"one_way_delay_seconds", "gauge", "One-way " H_DELAY " (forward: T2-T1, reverse: T4-T3).",
     PK_DELAY, "forward_delay_ns", "forward"},
    {"one_way_delay_seconds", NULL, NULL, PK_DELAY, "reverse_delay_ns", "reverse"},
    {"pdv_seconds", "gauge", H_PDV, PK_PDV, "pdv_ns", "round_trip"},
    {"loss_ratio", "gauge", H_LOSS, PK_NUMBER, "loss.ratio", "round_trip"},
    {"reordered_ratio", "gauge", H_REORD, PK_NUMBER, "reordering.ratio", "round_trip"},
    {"clock_synchronized", "gauge", H_SYNC, PK_BOOL, "clock.synchronized", "round_trip"},
    {"clock_max_error_seconds", "gauge", H_ERR, PK_SECONDS, "clock.max_error_ns.round_trip",
     "round_trip"},
    {"clock_max_error_seconds", NULL, NULL, PK_SECONDS, "clock.max_error_ns.forward", "forward"},
    {"clock_max_error_seconds", NULL, NULL, PK_SECONDS, "clock.max_error_ns.reverse", "reverse"},
    {"packets_sent_total", "counter", H_SENT, PK_COUNTER, "loss.sent", "round_trip"},
    {"packets_lost_total", "counter", H_LOST, PK_COUNTER, "loss.lost", "round_trip"},
    {"packets_duplicate_total", "counter", H_DUPS, PK_COUNTER, "duplicates.send", "forward"},
    {"packets_duplicate_total", NULL, NULL, PK_COUNTER, "duplicates.reflect", "reverse"},
    {"run_success", "gauge", H_OK, PK_RUN_OK, NULL, NULL},
    {"thresholds_crossed", "gauge", H_CROSSED, PK_RUN_CROSSED, NULL, NULL},
    {"last_run_timestamp_seconds", "gauge", H_TIME, PK_RUN_TIME, NULL, NULL},
};

/* A running total: family entry and label set. */
struct pctr {
    size_t fam;
    char *labels;
    uint64_t value;
};

struct out_prom {
    char prefix[16];
    const struct pfam *fams;
    size_t nfams;
    struct json_object **docs; /* latest run document per target */
    size_t ndocs;
    struct pctr *ctrs;
    size_t nctrs;
};

struct out_prom *out_prom_create(const char *prefix)
{
    struct out_prom *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    snprintf(p->prefix, sizeof(p->prefix), "%s", prefix);
    bool tw = strcmp(prefix, "twamp") == 0;
    p->fams = tw ? tw_fams : ow_fams;
    p->nfams = tw ? sizeof(tw_fams) / sizeof(tw_fams[0]) : sizeof(ow_fams) / sizeof(ow_fams[0]);
    return p;
}

void out_prom_destroy(struct out_prom *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->ndocs; i++) {
        json_object_put(p->docs[i]);
    }
    for (size_t i = 0; i < p->nctrs; i++) {
        free(p->ctrs[i].labels);
    }
    free(p->docs);
    free(p->ctrs);
    free(p);
}

/* ---- reading the documents ---- */

static struct json_object *jpath(struct json_object *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        if (!json_object_object_get_ex(o, key, &o)) {
            return NULL;
        }
        path += n + (path[n] == '.');
    }
    return o;
}

static const char *jstr(struct json_object *o, const char *path)
{
    struct json_object *v = jpath(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* Label value escaped as the format requires (backslash, double quote, line feed). */
static void put_escaped(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') {
            fputc('\\', f);
            fputc(*v, f);
        } else if (*v == '\n') {
            fputs("\\n", f);
        } else {
            fputc(*v, f);
        }
    }
}

/* target="...",direction="...",dscp="..." of a session (s NULL: target only). */
static char *labels_of(struct json_object *doc, struct json_object *s, const char *dir)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        return NULL;
    }
    fputs("target=\"", f);
    put_escaped(f, jstr(doc, "target"));
    fputc('"', f);
    if (s) {
        struct json_object *dscp = jpath(s, "dscp");
        fputs(",direction=\"", f);
        put_escaped(f, dir ? dir : jstr(s, "direction"));
        fprintf(f, "\",dscp=\"%s\"", dscp ? json_object_get_string(dscp) : "unknown");
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Sessions that describe a whole session (-N parts are left out: they would repeat series). */
static bool whole(struct json_object *s)
{
    return jpath(s, "subsession") == NULL;
}

/* ---- counters ---- */

static int ctr_add(struct out_prom *p, size_t fam, char *labels, uint64_t v)
{
    for (size_t i = 0; i < p->nctrs; i++) {
        if (p->ctrs[i].fam == fam && strcmp(p->ctrs[i].labels, labels) == 0) {
            p->ctrs[i].value += v;
            free(labels);
            return 0;
        }
    }
    struct pctr *c = realloc(p->ctrs, (p->nctrs + 1) * sizeof(*c));
    if (!c) {
        free(labels);
        return -1;
    }
    p->ctrs = c;
    p->ctrs[p->nctrs++] = (struct pctr){fam, labels, v};
    return 0;
}

static int add_counters(struct out_prom *p, struct json_object *doc)
{
    struct json_object *ss = jpath(doc, "sessions");
    int rc = 0;
    for (size_t i = 0; ss && i < json_object_array_length(ss); i++) {
        struct json_object *s = json_object_array_get_idx(ss, i);
        for (size_t k = 0; k < p->nfams && whole(s); k++) {
            struct json_object *v = jpath(s, p->fams[k].key ? p->fams[k].key : "");
            if (p->fams[k].kind != PK_COUNTER || !v) {
                continue;
            }
            char *labels = labels_of(doc, s, p->fams[k].dir);
            rc |= labels ? ctr_add(p, k, labels, (uint64_t)json_object_get_int64(v)) : -1;
        }
    }
    return rc ? -1 : 0;
}

int out_prom_add(struct out_prom *p, struct json_object *doc)
{
    const char *target = jstr(doc, "target");
    size_t i = 0;
    while (i < p->ndocs && strcmp(jstr(p->docs[i], "target"), target) != 0) {
        i++;
    }
    if (i == p->ndocs) {
        struct json_object **d = realloc(p->docs, (p->ndocs + 1) * sizeof(*d));
        if (!d) {
            return -1;
        }
        p->docs = d;
        p->docs[p->ndocs++] = NULL;
    }
    json_object_put(p->docs[i]);
    p->docs[i] = json_object_get(doc);
    return add_counters(p, doc);
}

/* ---- writing ---- */

/* ns as exact decimal seconds. */
static void put_seconds(FILE *f, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    fprintf(f, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", a / 1000000000u, a % 1000000000u);
}

static void sample_start(FILE *f, const struct out_prom *p, const struct pfam *m,
                         const char *labels)
{
    fprintf(f, "%s_%s{%s", p->prefix, m->name, labels);
}

/* The quantile samples of a {"min", "median", ...} (or PDV) object. */
static void put_quantiles(FILE *f, const struct out_prom *p, const struct pfam *m,
                          const char *labels, struct json_object *v)
{
    static const char *const dkeys[] = {"min", "median", "p95", "p99", "max"};
    static const char *const dq[] = {"0", "0.5", "0.95", "0.99", "1"};
    static const char *const pkeys[] = {"p50", "p95", "p99", "max"};
    bool pdv = m->kind == PK_PDV;
    size_t n = pdv ? 4 : 5;
    for (size_t i = 0; i < n; i++) {
        struct json_object *x = jpath(v, pdv ? pkeys[i] : dkeys[i]);
        if (!x || json_object_is_type(x, json_type_null)) {
            continue;
        }
        sample_start(f, p, m, labels);
        fprintf(f, ",quantile=\"%s\"} ", pdv ? dq[i + 1] : dq[i]);
        put_seconds(f, json_object_get_int64(x));
        fputc('\n', f);
    }
}

static void put_session_sample(FILE *f, const struct out_prom *p, const struct pfam *m,
                               struct json_object *doc, struct json_object *s)
{
    struct json_object *v = jpath(s, m->key);
    char *labels;
    if (!v || json_object_is_type(v, json_type_null) || !(labels = labels_of(doc, s, m->dir))) {
        return;
    }
    if (m->kind == PK_DELAY || m->kind == PK_PDV) {
        put_quantiles(f, p, m, labels, v);
    } else {
        sample_start(f, p, m, labels);
        fputs("} ", f);
        if (m->kind == PK_SECONDS) {
            put_seconds(f, json_object_get_int64(v));
        } else if (m->kind == PK_BOOL) {
            fputc(json_object_get_boolean(v) ? '1' : '0', f);
        } else {
            fprintf(f, "%.9g", json_object_get_double(v));
        }
        fputc('\n', f);
    }
    free(labels);
}

static void put_run_sample(FILE *f, const struct out_prom *p, const struct pfam *m,
                           struct json_object *doc)
{
    char *labels = labels_of(doc, NULL, NULL);
    const char *status = jstr(doc, "status");
    struct json_object *crossed = jpath(doc, "thresholds.crossed");
    if (!labels) {
        return;
    }
    sample_start(f, p, m, labels);
    fputs("} ", f);
    if (m->kind == PK_RUN_OK) {
        fputc(strcmp(status, "ok") == 0 || strcmp(status, "threshold") == 0 ? '1' : '0', f);
    } else if (m->kind == PK_RUN_CROSSED) {
        fprintf(f, "%zu", crossed ? json_object_array_length(crossed) : 0);
    } else {
        put_seconds(f, json_object_get_int64(jpath(doc, "end_time_ns")));
    }
    fputc('\n', f);
    free(labels);
}

/* The samples of fams[k] for every target. */
static void put_entry(FILE *f, const struct out_prom *p, size_t k)
{
    const struct pfam *m = &p->fams[k];
    if (m->kind == PK_COUNTER) {
        for (size_t i = 0; i < p->nctrs; i++) {
            if (p->ctrs[i].fam == k) {
                sample_start(f, p, m, p->ctrs[i].labels);
                fprintf(f, "} %" PRIu64 "\n", p->ctrs[i].value);
            }
        }
        return;
    }
    for (size_t d = 0; d < p->ndocs; d++) {
        struct json_object *ss = jpath(p->docs[d], "sessions");
        if (m->kind >= PK_RUN_OK) {
            put_run_sample(f, p, m, p->docs[d]);
            continue;
        }
        for (size_t i = 0; ss && i < json_object_array_length(ss); i++) {
            struct json_object *s = json_object_array_get_idx(ss, i);
            if (whole(s)) {
                put_session_sample(f, p, m, p->docs[d], s);
            }
        }
    }
}

static void put_all(FILE *f, const struct out_prom *p)
{
    for (size_t k = 0; k < p->nfams; k++) {
        const struct pfam *m = &p->fams[k];
        if (m->help) { /* the first entry of a family */
            fprintf(f, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", p->prefix, m->name, m->help, p->prefix,
                    m->name, m->type);
        }
        put_entry(f, p, k);
    }
}

int out_prom_write(const struct out_prom *p, const char *path, const char *prog)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, tmp, strerror(errno));
        return -1;
    }
    put_all(f, p);
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
