/* output.c - what owping/twping print for a session: the human summary (default), the
 * reference's machine summary (-M), raw records (-R, also to -T/-F files), JSON (--json) and
 * per-packet delays (-v), with summaries every -N packets. Statistics come from metrics, formatting
 * from report. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

void out_set_ends(struct out_sess *s, const struct sock_addr *from, const char *from_host,
                  const struct sock_addr *to, const char *to_host)
{
    ping_addr_str(from, s->from_addr, s->from_port);
    ping_addr_str(to, s->to_addr, s->to_port);
    s->rs.from_host = from_host ? from_host : s->from_addr;
    s->rs.from_addr = s->from_addr;
    s->rs.from_port = s->from_port;
    s->rs.to_host = to_host ? to_host : s->to_addr;
    s->rs.to_addr = s->to_addr;
    s->rs.to_port = s->to_port;
}

void out_eta(const struct opts *o, double seconds)
{
    if (o->quiet || o->machine || o->json || seconds < 0) {
        return;
    }
    printf("Approximately %.1f seconds until results available\n", seconds);
    fflush(stdout);
}

static double ms_of(int64_t ns)
{
    return (double)ns / 1e6;
}

static void verbose_ow(const struct met_owrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r[i].lost) {
            printf("seq_no=%" PRIu32 " *LOST*\n", r[i].seq);
        } else {
            printf("seq_no=%" PRIu32 " delay=%.3f ms ttl=%u\n", r[i].seq,
                   ms_of(met_owrec_delay_ns(&r[i])), r[i].ttl);
        }
    }
}

static void verbose_tw(const struct met_twrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r[i].flags & MET_TW_LOST) {
            printf("seq_no=%" PRIu32 " *LOST*\n", r[i].seq);
            continue;
        }
        int64_t rtt = (r[i].t4.ns - r[i].t1.ns) - (r[i].t3.ns - r[i].t2.ns);
        printf("seq_no=%" PRIu32 " rtt=%.3f ms send=%.3f ms reflect=%.3f ms\n", r[i].seq,
               ms_of(rtt), ms_of(r[i].t2.ns - r[i].t1.ns), ms_of(r[i].t4.ns - r[i].t3.ns));
    }
}

/* -T/-F: the raw records of the session into a file. */
static int save_records(const struct opts *o, const struct out_sess *s)
{
    FILE *f = fopen(s->save_file, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, s->save_file, strerror(errno));
        return -1;
    }
    int rc = s->two_way ? rep_tw_raw(f, s->tw, s->n) : rep_ow_raw(f, s->ow, s->n);
    if (fclose(f) != 0 || rc < 0) {
        fprintf(stderr, "%s: cannot write %s\n", o->prog, s->save_file);
        return -1;
    }
    return 0;
}

/* The summary block of records r[0..n) as the options ask (JSON, -M or human). */
static int summary_ow(const struct opts *o, const struct out_sess *s, const struct met_owrec *r,
                      size_t n, const struct met_params *mp, const struct rep_opts *ro)
{
    struct met_ow_stats st;
    memset(&st, 0, sizeof(st));
    if (met_ow_compute(r, n, mp, &st) < 0) {
        fprintf(stderr, "%s: cannot compute the statistics\n", o->prog);
        return -1;
    }
    int rc = 0;
    if (o->json) {
        rc = rep_ow_json(stdout, &s->rs, ro, &st);
    } else if (o->machine) {
        rc = rep_ow_machine(stdout, &s->rs, ro, &st);
    } else if (!o->quiet) {
        rc = rep_ow_summary(stdout, &s->rs, ro, &st);
    }
    met_ow_stats_free(&st);
    return rc;
}

static int summary_tw(const struct opts *o, const struct out_sess *s, const struct met_twrec *r,
                      size_t n, const struct met_params *mp, const struct rep_opts *ro)
{
    struct met_tw_stats st;
    memset(&st, 0, sizeof(st));
    if (met_tw_compute(r, n, mp, &st) < 0) {
        fprintf(stderr, "%s: cannot compute the statistics\n", o->prog);
        return -1;
    }
    int rc = 0;
    if (o->json) {
        rc = rep_tw_json(stdout, &s->rs, ro, &st);
    } else if (o->machine) {
        rc = rep_tw_machine(stdout, &s->rs, ro, &st);
    } else if (!o->quiet) {
        rc = rep_tw_summary(stdout, &s->rs, ro, &st);
    }
    met_tw_stats_free(&st);
    return rc;
}

/* -N: a summary of each run of N sequence numbers (records renumbered from 0), before the
 * summary of the whole session. */
static int subsessions_ow(const struct opts *o, const struct out_sess *s, const struct rep_opts *ro)
{
    struct met_owrec *sub = malloc((s->n + 1) * sizeof(*sub));
    int rc = sub ? 0 : -1;
    for (uint32_t first = 0; rc == 0 && first < s->mp.npackets; first += o->subsession) {
        uint32_t left = s->mp.npackets - first;
        struct met_params mp = {s->mp.loss_timeout_ns, left < o->subsession ? left : o->subsession};
        struct out_sess part = *s;
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (s->ow[i].seq >= first && s->ow[i].seq - first < mp.npackets) {
                sub[k] = s->ow[i];
                sub[k++].seq -= first;
            }
        }
        part.rs.npackets = mp.npackets;
        rc = summary_ow(o, &part, sub, k, &mp, ro);
    }
    free(sub);
    return rc;
}

static int subsessions_tw(const struct opts *o, const struct out_sess *s, const struct rep_opts *ro)
{
    struct met_twrec *sub = malloc((s->n + 1) * sizeof(*sub));
    int rc = sub ? 0 : -1;
    for (uint32_t first = 0; rc == 0 && first < s->mp.npackets; first += o->subsession) {
        uint32_t left = s->mp.npackets - first;
        struct met_params mp = {s->mp.loss_timeout_ns, left < o->subsession ? left : o->subsession};
        struct out_sess part = *s;
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (s->tw[i].seq >= first && s->tw[i].seq - first < mp.npackets) {
                sub[k] = s->tw[i];
                sub[k++].seq -= first;
            }
        }
        part.rs.npackets = mp.npackets;
        rc = summary_tw(o, &part, sub, k, &mp, ro);
    }
    free(sub);
    return rc;
}

int out_report(const struct opts *o, const struct out_sess *s)
{
    struct rep_opts ro = {
        .units = o->units,
        .pct = o->pct,
        .npct = o->npct,
        .unix_times = o->utc,
    };
    int rc = s->save_file ? save_records(o, s) : 0;
    bool split = o->subsession > 0 && s->mp.npackets > o->subsession;
    if (s->two_way) {
        if (o->verbose) {
            verbose_tw(s->tw, s->n);
        }
        rc |= o->raw ? rep_tw_raw(stdout, s->tw, s->n) : 0;
        rc |= split ? subsessions_tw(o, s, &ro) : 0;
        rc |= summary_tw(o, s, s->tw, s->n, &s->mp, &ro);
    } else {
        if (o->verbose) {
            verbose_ow(s->ow, s->n);
        }
        rc |= o->raw ? rep_ow_raw(stdout, s->ow, s->n) : 0;
        rc |= split ? subsessions_ow(o, s, &ro) : 0;
        rc |= summary_ow(o, s, s->ow, s->n, &s->mp, &ro);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the report: %s\n", o->prog, strerror(errno));
        return -1;
    }
    return rc ? -1 : 0;
}
