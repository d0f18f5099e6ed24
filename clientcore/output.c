/* output.c - what owping/twping do with a finished session: the human summary (default),
 * the reference's machine summary (-M), raw records (-R, and to -T/-F files with a header
 * for --read), per-packet delays (-v), summaries every -N packets, the JSON summary kept for
 * the run document (out.h), per-packet CSV / JSON Lines records, and the thresholds.
 * Statistics come from metrics, formatting from report. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "out.h"
#include "savefile.h"

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
    /* the end given by name is the target: OWAMP "to" it or "from" it */
    s->rs.direction = to_host && !from_host ? "to" : from_host && !to_host ? "from" : NULL;
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

/* The next run of a session's records: n >= 1 records at *p, or 0 at the end (also when
 * the store could not be read back: it->err is then set). */
struct run_it {
    struct rst *st;
    uint64_t i;
    int err;
};

static size_t next_run(struct run_it *it, const void **p)
{
    size_t n = it->st && !it->err ? rst_get(it->st, it->i, p, &it->err) : 0;
    it->i += n;
    return n;
}

/* -v lines printed so far of a session, against -vN. */
struct verbose_it {
    const struct opts *o;
    uint64_t printed;
};

static bool verbose_more(struct verbose_it *v)
{
    return v->o->verbose_max == 0 || v->printed++ < v->o->verbose_max;
}

/* -U: a time as Unix seconds, after the line's delays. */
static void unix_time(const struct verbose_it *v, const char *name, struct clk_time t)
{
    if (v->o->utc) {
        printf(" %s=%.6f", name, (double)t.ns / 1e9);
    }
}

static void verbose_ow(struct verbose_it *v, const struct met_owrec *r, size_t n)
{
    for (size_t i = 0; i < n && verbose_more(v); i++) {
        if (r[i].lost) {
            printf("seq_no=%" PRIu32 " *LOST*\n", r[i].seq);
            continue;
        }
        printf("seq_no=%" PRIu32 " delay=%.3f ms ttl=%u", r[i].seq,
               ms_of(met_owrec_delay_ns(&r[i])), r[i].ttl);
        unix_time(v, "sent", r[i].send);
        unix_time(v, "recv", r[i].recv);
        putchar('\n');
    }
}

static void verbose_tw(struct verbose_it *v, const struct met_twrec *r, size_t n)
{
    for (size_t i = 0; i < n && verbose_more(v); i++) {
        if (r[i].flags & MET_TW_LOST) {
            printf("seq_no=%" PRIu32 " *LOST*\n", r[i].seq);
            continue;
        }
        int64_t rtt = (r[i].t4.ns - r[i].t1.ns) - (r[i].t3.ns - r[i].t2.ns);
        printf("seq_no=%" PRIu32 " rtt=%.3f ms send=%.3f ms reflect=%.3f ms", r[i].seq, ms_of(rtt),
               ms_of(r[i].t2.ns - r[i].t1.ns), ms_of(r[i].t4.ns - r[i].t3.ns));
        unix_time(v, "sent", r[i].t1);
        unix_time(v, "recv", r[i].t2);
        unix_time(v, "reflected", r[i].t3);
        unix_time(v, "recv", r[i].t4);
        putchar('\n');
    }
}

/* Write the header and records of s to f; 0 or an errno value. */
static int write_saved(FILE *f, const struct out_sess *s, const struct rep_session *rs)
{
    errno = 0;
    int known = 0, rc = 0;
    const void *p;
    size_t n;
    struct run_it it = {.st = s->recs};
    while (s->two_way && (n = next_run(&it, &p)) > 0 && !known) {
        rep_saved_refl_seq(p, n, &known);
    }
    rep_saved_header(f, s->two_way, rs, &s->mp, s->recs ? rst_count(s->recs) : 0, known);
    for (it = (struct run_it){.st = s->recs}; (n = next_run(&it, &p)) > 0;) {
        rc |= s->two_way ? rep_tw_raw(f, p, n) : rep_ow_raw(f, p, n);
    }
    if (rc < 0 || it.err || fflush(f) != 0 || ferror(f)) {
        return errno ? errno : EIO;
    }
    return 0;
}

/* twping -F: the session's description and raw records into a file (read back by --read),
 * put in place once complete. */
static int save_records(const struct opts *o, const struct out_sess *s,
                        const struct rep_session *rs)
{
    struct save_file sf;
    if (!save_open(&sf, s->save_file, ".tmp", o->prog)) {
        return -1;
    }
    int err = write_saved(sf.f, s, rs);
    if (err) {
        fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, s->save_file, strerror(err));
        save_abort(&sf);
        return -1;
    }
    return save_commit(&sf, o->prog);
}

/* --max-loss / --max-delay on one whole session: each crossing is noted in the run's list and
 * said on stderr. */
static void check_thresholds(const struct opts *o, const char *dir, uint64_t sent, uint64_t lost,
                             const struct met_dist *d)
{
    struct out_ctx *x = o->out;
    dir = dir ? dir : "";
    if (o->max_loss_pct >= 0 && sent > 0 && 100.0 * (double)lost / (double)sent > o->max_loss_pct) {
        double pct = 100.0 * (double)lost / (double)sent;
        fprintf(stderr, "%s: threshold crossed (%s): loss %.3f%% > %g%%\n", o->prog, dir, pct,
                o->max_loss_pct);
        out_note_crossing(x, dir, "loss_pct", rep_json_double(pct), o->max_loss_pct);
    }
    if (o->max_delay_ms >= 0) {
        int64_t v = met_dist_percentile(d, o->delay_pct);
        if (v == MET_NS_UNDEF || (double)v / 1e6 > o->max_delay_ms) {
            char val[32] = "undefined (lost packets)";
            if (v != MET_NS_UNDEF) {
                snprintf(val, sizeof(val), "%.3f ms", (double)v / 1e6);
            }
            fprintf(stderr, "%s: threshold crossed (%s): P%g delay %s > %g ms\n", o->prog, dir,
                    o->delay_pct, val, o->max_delay_ms);
            out_note_crossing(x, dir, "delay_ms",
                              v == MET_NS_UNDEF ? NULL : rep_json_double((double)v / 1e6),
                              o->max_delay_ms);
        }
    }
}

/* Keep the JSON summary j for the run document (tagged when it covers part of the session). */
static void keep_summary(const struct opts *o, struct json_object *j, long part)
{
    if (!j) {
        return;
    }
    if (part >= 0) {
        json_object_object_add(j, "subsession", json_object_new_int64(part));
    }
    if (o->out && o->out->sessions) {
        json_object_array_add(o->out->sessions, j);
    } else {
        json_object_put(j);
    }
}

/* The summary of statistics st (freed here): kept as JSON, printed as -M or human text unless
 * --json; part is the -N subsession number, or -1 for the whole session (thresholds apply). */
/* Where a summary goes: stdout, or with -p a file DIR/START_END.sum (-M) or .txt named by
 * the NTP times of the first and last packet (as the reference names them), put in place
 * once written and then named on stdout (summary_done). NULL when there is nothing to print
 * (--json, -Q) or the file cannot be made (said). */
static FILE *summary_begin(const struct opts *o, const struct rep_session *rs,
                           struct clk_time first, struct clk_time last, struct save_file *sf)
{
    char path[4096];
    sf->f = NULL;
    if (o->json || (o->quiet && !o->machine)) {
        return NULL;
    }
    if (!o->print_files) {
        return stdout;
    }
    struct clk_time t0 = rs->start.ns ? rs->start : first, t1 = rs->end.ns ? rs->end : last;
    uint64_t a = rs->start_ntp ? rs->start_ntp : clk_to_ntp(t0).raw;
    uint64_t b = rs->end_ntp ? rs->end_ntp : clk_to_ntp(t1).raw;
    snprintf(path, sizeof(path), "%s%s%020" PRIu64 "_%020" PRIu64 ".%s",
             o->files_dir ? o->files_dir : "", o->files_dir ? "/" : "", a, b,
             o->machine ? "sum" : "txt");
    return save_open(sf, path, ".i", o->prog);
}

/* After writing a summary (rc of the writer): a -p file put in place and named. */
static int summary_done(const struct opts *o, struct save_file *sf, int rc)
{
    if (!sf->f) {
        return rc;
    }
    if (rc < 0) {
        save_abort(sf);
        return rc;
    }
    if (save_commit(sf, o->prog) < 0) {
        return -1;
    }
    printf("%s\n", sf->path);
    return 0;
}

static int summary_ow(const struct opts *o, const struct rep_session *rs, struct met_ow_stats *st,
                      const struct rep_opts *ro, long part)
{
    struct save_file sf;
    int rc = 0;
    keep_summary(o, rep_ow_json_object(rs, ro, st), part);
    FILE *f = summary_begin(o, rs, st->first_send, st->last_send, &sf);
    if (f) {
        rc = o->machine ? rep_ow_machine(f, rs, ro, st) : rep_ow_summary(f, rs, ro, st);
    }
    rc = summary_done(o, &sf, rc);
    if (part < 0) {
        check_thresholds(o, rs->direction, st->sent, st->lost, &st->delay);
    }
    met_ow_stats_free(st);
    return rc;
}

static int summary_tw(const struct opts *o, const struct rep_session *rs, struct met_tw_stats *st,
                      const struct rep_opts *ro, long part)
{
    struct save_file sf;
    int rc = 0;
    keep_summary(o, rep_tw_json_object(rs, ro, st), part);
    FILE *f = summary_begin(o, rs, st->first_send, st->last_send, &sf);
    if (f) {
        rc = o->machine ? rep_tw_machine(f, rs, ro, st) : rep_tw_summary(f, rs, ro, st);
    }
    rc = summary_done(o, &sf, rc);
    if (part < 0) {
        check_thresholds(o, rs->direction, st->sent, st->lost, &st->rtt);
    }
    met_tw_stats_free(st);
    return rc;
}

/* Statistics of the records of s whose seq lies in [first, first + mp->npackets), renumbered
 * from first: one accumulator per part, up to OUT_PARTS_PER_PASS parts per pass over the
 * records, so memory stays bounded whatever -N and the session length. */
#define OUT_PARTS_PER_PASS 8

struct part_acc {
    struct met_ow_acc *ow;
    struct met_tw_acc *tw;
};

/* The packets of the session cut into -N parts: those scheduled, or for a session that
 * counts only what its records show (a saved file) those of its request. */
static uint32_t part_span(const struct out_sess *s)
{
    return s->mp.npackets ? s->mp.npackets : s->rs.npackets;
}

/* Feed the records of one run to the parts [p0, p0 + np) of width w. */
static void feed_parts(const struct out_sess *s, struct part_acc *acc, uint32_t p0, uint32_t np,
                       uint32_t w, const void *run, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t seq = s->two_way ? ((const struct met_twrec *)run)[i].seq
                                  : ((const struct met_owrec *)run)[i].seq;
        uint32_t part = seq / w;
        if (seq >= part_span(s) || part < p0 || part - p0 >= np) {
            continue;
        }
        if (s->two_way) {
            struct met_twrec r = ((const struct met_twrec *)run)[i];
            r.seq -= part * w;
            met_tw_acc_add(acc[part - p0].tw, &r, 1);
        } else {
            struct met_owrec r = ((const struct met_owrec *)run)[i];
            r.seq -= part * w;
            met_ow_acc_add(acc[part - p0].ow, &r, 1);
        }
    }
}

/* Finish part k (numbered from 0) and print its summary; frees the accumulator. */
static int finish_part(const struct opts *o, const struct out_sess *s, const struct rep_session *rs,
                       const struct rep_opts *ro, struct part_acc *a, uint32_t k, uint32_t w)
{
    struct rep_session part = *rs;
    uint32_t left = part_span(s) - k * w;
    part.npackets = left < w ? left : w;
    part.start = part.end = (struct clk_time){0}; /* the part's own span, from its records */
    part.start_ntp = part.end_ntp = 0;
    int rc;
    if (s->two_way) {
        struct met_tw_stats st;
        rc = met_tw_acc_finish(a->tw, &st) < 0 ? -1 : summary_tw(o, &part, &st, ro, (long)k);
        met_tw_acc_destroy(a->tw);
    } else {
        struct met_ow_stats st;
        rc = met_ow_acc_finish(a->ow, &st) < 0 ? -1 : summary_ow(o, &part, &st, ro, (long)k);
        met_ow_acc_destroy(a->ow);
    }
    *a = (struct part_acc){0};
    return rc;
}

/* -N: a summary of each run of N sequence numbers (records renumbered from 0), before the
 * summary of the whole session. */
static int subsessions(const struct opts *o, const struct out_sess *s, const struct rep_session *rs,
                       const struct rep_opts *ro)
{
    uint32_t w = o->subsession, nparts = (uint32_t)(((uint64_t)part_span(s) + w - 1) / w);
    struct part_acc acc[OUT_PARTS_PER_PASS];
    int rc = 0;
    for (uint32_t p0 = 0; rc == 0 && p0 < nparts; p0 += OUT_PARTS_PER_PASS) {
        uint32_t np = nparts - p0 < OUT_PARTS_PER_PASS ? nparts - p0 : OUT_PARTS_PER_PASS;
        memset(acc, 0, sizeof(acc));
        for (uint32_t k = 0; k < np; k++) {
            uint32_t left = part_span(s) - (p0 + k) * w;
            /* a part of a session that counts what its records show does the same */
            struct met_params mp = {s->mp.loss_timeout_ns,
                                    s->mp.npackets ? (left < w ? left : w) : 0};
            bool made = s->two_way ? (acc[k].tw = met_tw_acc_create(&mp)) != NULL
                                   : (acc[k].ow = met_ow_acc_create(&mp)) != NULL;
            rc = made ? rc : -1;
        }
        const void *p;
        size_t n;
        struct run_it it = {.st = s->recs};
        while (rc == 0 && (n = next_run(&it, &p)) > 0) {
            feed_parts(s, acc, p0, np, w, p, n);
        }
        for (uint32_t k = 0; k < np; k++) {
            if (rc == 0 && !it.err) {
                rc = finish_part(o, s, rs, ro, &acc[k], p0 + k, w);
            } else {
                met_tw_acc_destroy(acc[k].tw);
                met_ow_acc_destroy(acc[k].ow);
            }
        }
        rc = it.err ? -1 : rc;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: cannot compute the statistics\n", o->prog);
    }
    return rc;
}

/* The whole session: -v and -R lines and its statistics in one pass over the records, then
 * the -N summaries (split), then its summary. */
static int whole(const struct opts *o, const struct out_sess *s, const struct rep_session *rs,
                 const struct rep_opts *ro, bool split)
{
    struct met_ow_acc *ow = s->two_way ? NULL : met_ow_acc_create(&s->mp);
    struct met_tw_acc *tw = s->two_way ? met_tw_acc_create(&s->mp) : NULL;
    struct met_ow_stats ost;
    struct met_tw_stats tst;
    struct run_it it = {.st = s->recs};
    struct verbose_it v = {.o = o};
    const void *p;
    size_t n;
    int rc = 0;
    while ((ow || tw) && (n = next_run(&it, &p)) > 0) {
        if (o->verbose) {
            s->two_way ? verbose_tw(&v, p, n) : verbose_ow(&v, p, n);
        }
        rc |= o->raw ? (s->two_way ? rep_tw_raw(stdout, p, n) : rep_ow_raw(stdout, p, n)) : 0;
        s->two_way ? met_tw_acc_add(tw, p, n) : met_ow_acc_add(ow, p, n);
    }
    rc |= split ? subsessions(o, s, rs, ro) : 0;
    bool stats =
        !it.err && (ow ? met_ow_acc_finish(ow, &ost) == 0 : tw && met_tw_acc_finish(tw, &tst) == 0);
    if (!stats) {
        fprintf(stderr, "%s: cannot compute the statistics\n", o->prog);
        rc = -1;
    } else {
        rc |= s->two_way ? summary_tw(o, rs, &tst, ro, -1) : summary_ow(o, rs, &ost, ro, -1);
    }
    met_ow_acc_destroy(ow);
    met_tw_acc_destroy(tw);
    return rc;
}

/* --csv / --json-packets: the session's records; a failure is said once per process. */
static void packet_files(const struct opts *o, const struct out_sess *s,
                         const struct rep_session *rs)
{
    struct out_ctx *x = o->out;
    int rc = 0;
    if (!x) {
        return;
    }
    const void *p;
    size_t n;
    struct run_it it = {.st = s->recs};
    while ((x->csv || x->jsonl) && (n = next_run(&it, &p)) > 0) {
        if (x->csv) {
            rc |= s->two_way ? rep_tw_csv(x->csv, rs, p, n) : rep_ow_csv(x->csv, rs, p, n);
        }
        if (x->jsonl) {
            rc |= s->two_way ? rep_tw_jsonl_tagged(x->jsonl, rs, p, n)
                             : rep_ow_jsonl_tagged(x->jsonl, rs, p, n);
        }
    }
    if ((rc || it.err) && !x->file_error) {
        fprintf(stderr, "%s: cannot write the per-packet records\n", o->prog);
        x->file_error = true;
    }
}

static struct rep_opts rep_opts_of(const struct opts *o)
{
    return (struct rep_opts){
        .units = o->units,
        .pct = o->pct,
        .npct = o->npct,
        .unix_times = o->utc,
        .bucket_width_ns = o->bucket_ns,
    };
}

int out_machine_file(FILE *f, const struct opts *o, const struct out_sess *s, uint32_t first,
                     uint32_t count)
{
    struct rep_opts ro = rep_opts_of(o);
    struct met_params mp = s->mp;
    struct met_ow_stats st;
    struct run_it it = {.st = s->recs};
    const void *p;
    size_t n;
    mp.npackets = count ? 0 : mp.npackets; /* a part: what its records show */
    struct met_ow_acc *acc = met_ow_acc_create(&mp);
    while (acc && (n = next_run(&it, &p)) > 0) {
        for (const struct met_owrec *r = p, *e = r + n; r < e; r++) {
            struct met_owrec x = *r;
            if (count == 0 || (x.seq >= first && x.seq - first < count)) {
                x.seq -= count ? first : 0;
                met_ow_acc_add(acc, &x, 1);
            }
        }
    }
    int rc = !acc || it.err || met_ow_acc_finish(acc, &st) < 0 ? -1 : 0;
    met_ow_acc_destroy(acc);
    if (rc == 0) {
        rc = rep_ow_machine(f, &s->rs, &ro, &st) < 0 ? -1 : 0;
        met_ow_stats_free(&st);
    }
    return rc;
}

int out_report(const struct opts *o, const struct out_sess *s)
{
    struct rep_opts ro = rep_opts_of(o);
    struct rep_session rs = s->rs;
    if (s->two_way) {
        rs.direction = "round_trip";
    }
    int rc = s->save_file ? save_records(o, s, &rs) : 0;
    bool split = o->subsession > 0 && part_span(s) > o->subsession;
    packet_files(o, s, &rs);
    rc |= whole(o, s, &rs, &ro, split);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the report: %s\n", o->prog, strerror(errno));
        return -1;
    }
    return rc ? -1 : 0;
}

int out_tw_session(const struct opts *o, const struct tw_done *t, bool ok)
{
    struct out_sess s;
    struct rep_tx tx;
    memset(&s, 0, sizeof(s));
    s.prog = o->prog;
    s.two_way = true;
    memcpy(s.rs.sid, t->sid, WIRE_SID_LEN);
    out_set_ends(&s, t->local, NULL, t->peer, t->host);
    sess_stop(t->sess);
    sess_tw_finalize(t->sess); /* replies that never came become lost records */
    s.recs = sess_records(t->sess);
    if (!ok && rst_count(s.recs) == 0) {
        return 0;
    }
    s.save_file = o->to_file;
    s.rs.type_p = t->typep;
    s.rs.loss_timeout_ns = t->loss_ns;
    s.rs.padding = t->padding;
    s.rs.npackets = ok ? o->count : sess_next_seqno(t->sess); /* partial: those sent */
    s.rs.finished = ok;
    s.mp.loss_timeout_ns = t->loss_ns;
    s.mp.npackets = s.rs.npackets;
    if (!ok) {
        fprintf(stderr, "%s: partial results\n", o->prog);
    }
    ping_tx_collect(t->sess, s.recs, t->mode, t->reflect_octets, t->sent_tos, &tx);
    s.rs.tx = &tx;
    int rc = out_report(o, &s);
    ping_tx_print(o, &tx);
    return rc;
}
