/* pexpo.h - the Prometheus text exposition format (version 0.0.4) and OpenMetrics 1.0.0,
 * written into a growing buffer: HELP and TYPE lines, label values escaped, counters named
 * with _total, histograms as cumulative _bucket{le} with _sum and _count, "# EOF" at the end
 * of OpenMetrics. No C library for these formats ships with Debian, hence this file; promtool
 * and a real Prometheus check its output in the tests. */
#ifndef PROBE_PEXPO_H
#define PROBE_PEXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pstats.h"

enum pex_fmt { PEX_TEXT, PEX_OPENMETRICS };

/* A growing buffer; oom is set (and nothing more written) once an allocation failed. */
struct pex_buf {
    char *p;
    size_t len, cap;
    bool oom;
};

/* How to write: the format; probe: the figures of one /probe session (counters become gauges
 * named without _total, no target and module labels); the histogram buckets. */
struct pex_opts {
    enum pex_fmt fmt;
    bool probe;
    const int64_t *buckets_ns;
    size_t nbuckets;
};

/* One target's figures and the labels that name it (target and module NULL: none). */
struct pex_entry {
    const char *target, *module;
    const struct pst_target *st;
};

/* The format the Accept header asks for (NULL: the text format). */
enum pex_fmt pex_negotiate(const char *accept);

/* Its Content-Type. */
const char *pex_content_type(enum pex_fmt f);

void pex_put(struct pex_buf *b, const char *s, size_t n);
void pex_puts(struct pex_buf *b, const char *s);
void pex_u64(struct pex_buf *b, uint64_t v);

/* ns as decimal seconds (exact, trailing zeros dropped). */
void pex_seconds(struct pex_buf *b, int64_t ns);

/* A label value between double quotes, escaped (backslash, double quote, line feed). */
void pex_label_value(struct pex_buf *b, const char *v);

/* The HELP and TYPE lines of a family. type is "counter", "gauge", "histogram" or "info";
 * name is the family's (without _total; OpenMetrics writes it so, the text format adds
 * _total to a counter's HELP and TYPE names as its samples have it). */
void pex_family(struct pex_buf *b, enum pex_fmt f, const char *name, const char *type,
                const char *help);

/* Every family of the targets' figures. */
void pex_targets(struct pex_buf *b, const struct pex_opts *o, const struct pex_entry *e, size_t n);

/* The end of an exposition: "# EOF" for OpenMetrics. */
void pex_end(struct pex_buf *b, enum pex_fmt f);

void pex_free(struct pex_buf *b);

#endif
