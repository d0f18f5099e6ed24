/* report_json.c - JSON summaries (one object per session) and JSON Lines per-packet records,
 * built with json-c. Times are integers in ns since the Unix epoch, durations integers in ns;
 * a value that is undefined (empty sample, rank among lost packets) is null.
 *
 * Summary object, "version": 1 (keys are only ever added, never renamed):
 *   version               1
 *   kind                  "owamp" | "twamp"
 *   direction             "to" | "from" (OWAMP, seen from the client) | "round_trip";
 *                         absent when the caller did not say
 *   sid                   32 hex digits
 *   from, to              {"host", "addr", "port"} strings
 *   start_time_ns, end_time_ns     first and last scheduled/sent packet
 *   loss_timeout_ns       RFC 7680 Tmax used
 *   dscp                  DSCP of the test packets (null: Type-P other than a DSCP)
 *   padding_octets, packets_scheduled, finished   as requested / whether it ended normally
 *   loss                  {"sent", "lost", "ratio"} (RFC 7680); twamp adds "forward" and
 *                         "reverse" (null unless the reflector numbers its replies)
 *   duplicates            owamp {"count"}; twamp {"send", "reflect"} (RFC 5560)
 *   owamp: one_way_delay_ns            {"min", "median", "p95", "p99", "max"} (RFC 7679)
 *   twamp: round_trip_delay_ns, forward_delay_ns, reverse_delay_ns   same keys (RFC 2681,
 *          RFC 5357: round trip excludes the reflector's processing time);
 *          reflector_processing_ns {"min", "max"}
 *   percentiles_ns        [{"percentile": p, "value": ns}] for the requested extra levels,
 *                         of the one-way (owamp) or round-trip (twamp) delay
 *   jitter_p95_p50_ns     owamp: ns; twamp: {"round_trip", "forward", "reverse"}
 *   pdv_ns                {"p50", "p95", "p99", "max"}: RFC 5481 packet delay variation,
 *                         the delay percentile minus the minimum delay (of the one-way or
 *                         round-trip delay)
 *   ipdv_ns               {"pairs", "min", "max", "mean_abs"} (RFC 3393 / RFC 5481 IPDV,
 *                         consecutive seqs; of the round-trip time for twamp)
 *   reordering            {"evaluated", "reordered", "ratio", "n_reordering": [count for
 *                         n = 1, 2, ... up to the last n that occurred]} (RFC 4737)
 *   owamp: hops; twamp: send_hops, reflect_hops   {"distinct", "min", "max"} (255 - TTL)
 *   clock                 {"synchronized", "max_error_ns"}; twamp max_error_ns is
 *                         {"round_trip", "forward", "reverse"}, and "offset_detected" is
 *                         true when a one-way delay came out negative
 *   timestamp_sources     {"hardware", "kernel", "user", "none"} receive stamps
 *   send                  only for a session this host sent (absent otherwise):
 *                         {"packets", "tx_timestamped", "tx_timestamp_source" ("kernel" |
 *                         "hardware" | "user" when none), "lateness_ns" {"p50", "p99", "max"}
 *                         (left the host after the scheduled time), "stamp_to_wire_bias_ns"
 *                         {"p50", "p99"} (TX timestamp minus the packet's; null when nothing
 *                         was TX-stamped), owamp: "send_time" {"tx_timestamp", "packet"}
 *                         (packets received whose one-way delay used our TX timestamp / the
 *                         time in the packet), twamp: "round_trip_t1" {"tx_timestamp",
 *                         "packet"} (replies whose round trip used each T1), "reflect_octets"
 *                         null or {"octets", "mismatches"} (RFC 6038), "dscp_ecn" null or {"sent":
 *                         {"dscp", "ecn"}, "seen": {"dscp", "ecn"} or null, "seen_replies",
 *                         "reporting_replies", "dscp_changed"} (RFC 7750), "unused_replies"
 *                         {"total", "too_short", "bad_hmac", "other_session", "unknown_seq",
 *                         "too_long"} (replies received that could not be used),
 *                         "replies_without_sender_ttl"}
 *
 * Per-packet lines:
 *   owamp {"seq", "send_ns", "recv_ns", "delay_ns", "lost", "send_err_ns", "recv_err_ns",
 *          "send_sync", "recv_sync", "ttl", "recv_source", "send_packet_ns", "send_source"}:
 *          send_ns is the send time the delay uses: the sender's own TX timestamp of the
 *          packet when it has one (send_source "kernel" or "hardware"), else the time in the
 *          packet (send_source "packet"); send_packet_ns is always the time in the packet
 *   twamp {"seq", "reflector_seq", "t1_ns", "t2_ns", "t3_ns", "t4_ns", "round_trip_ns",
 *          "forward_ns", "reverse_ns", "lost", "sender_ttl", "reflector_ttl", "t1_source",
 *          "t4_source"}
 *   the tagged variants start each object with "sid" and "direction" of the session
 * recv_ns/t2..t4 and the delays are null for lost packets; sender_ttl and reflector_ttl are
 * null too when not reported (a reply without Sender TTL, or one left 0). */
#include <json-c/json.h>
#include <stdio.h>

#include "common.h"
#include "report.h"
#include "report_int.h"

#define REP_JSON_VERSION 1

typedef struct json_object jobj;

static jobj *j_ns(int64_t ns)
{
    return ns == MET_NS_UNDEF ? NULL : json_object_new_int64(ns);
}

jobj *rep_json_double(double v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%.9g", v);
    return json_object_new_double_s(v, buf);
}

static jobj *j_u64(uint64_t v)
{
    return json_object_new_uint64(v);
}

static void put(jobj *o, const char *key, jobj *v)
{
    json_object_object_add(o, key, v);
}

static const char *src_name(uint8_t s)
{
    switch (s) {
    case CLK_SRC_HARDWARE: return "hardware";
    case CLK_SRC_KERNEL: return "kernel";
    case CLK_SRC_USER: return "user";
    default: return "none";
    }
}

/* Print o plus a newline, then release it. */
static int emit(FILE *f, jobj *o, bool pretty)
{
    int flags =
        JSON_C_TO_STRING_NOSLASHESCAPE |
        (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
    const char *s = o ? json_object_to_json_string_ext(o, flags) : NULL;
    int rc = s ? 0 : LP_E_NOMEM;
    if (s) {
        fputs(s, f);
        fputc('\n', f);
        rc = rep_int_status(f);
    }
    json_object_put(o);
    return rc;
}

/* ---- summary pieces ---- */

static jobj *j_endpoint(const char *host, const char *addr, const char *port)
{
    jobj *o = json_object_new_object();
    put(o, "host", host ? json_object_new_string(host) : NULL);
    put(o, "addr", addr ? json_object_new_string(addr) : NULL);
    put(o, "port", port ? json_object_new_string(port) : NULL);
    return o;
}

static jobj *j_delay(const struct met_dist *d)
{
    jobj *o = json_object_new_object();
    put(o, "min", j_ns(met_dist_min(d)));
    put(o, "median", j_ns(met_dist_median(d)));
    put(o, "p95", j_ns(met_dist_percentile(d, 95.0)));
    put(o, "p99", j_ns(met_dist_percentile(d, 99.0)));
    put(o, "max", j_ns(met_dist_max(d)));
    return o;
}

static jobj *j_percentiles(const struct rep_opts *o, const struct met_dist *d)
{
    jobj *a = json_object_new_array();
    for (size_t i = 0; o && i < o->npct; i++) {
        jobj *e = json_object_new_object();
        put(e, "percentile", rep_json_double(o->pct[i]));
        put(e, "value", j_ns(met_dist_percentile(d, o->pct[i])));
        json_object_array_add(a, e);
    }
    return a;
}

/* RFC 5481 PDV: percentile minus the minimum delay. */
static jobj *j_pdv_at(const struct met_dist *d, int64_t v)
{
    int64_t lo = met_dist_min(d);
    return v == MET_NS_UNDEF || lo == MET_NS_UNDEF ? NULL : json_object_new_int64(v - lo);
}

static jobj *j_pdv(const struct met_dist *d)
{
    jobj *o = json_object_new_object();
    put(o, "p50", j_pdv_at(d, met_dist_percentile(d, 50.0)));
    put(o, "p95", j_pdv_at(d, met_dist_percentile(d, 95.0)));
    put(o, "p99", j_pdv_at(d, met_dist_percentile(d, 99.0)));
    put(o, "max", j_pdv_at(d, met_dist_max(d)));
    return o;
}

static jobj *j_ipdv(const struct met_ipdv *v)
{
    jobj *o = json_object_new_object();
    put(o, "pairs", j_u64(v->pairs));
    put(o, "min", j_ns(v->min_ns));
    put(o, "max", j_ns(v->max_ns));
    put(o, "mean_abs", v->pairs ? json_object_new_int64(v->mean_abs_ns) : NULL);
    return o;
}

static jobj *j_reorder(const struct met_reorder *r)
{
    jobj *o = json_object_new_object(), *a = json_object_new_array();
    put(o, "evaluated", j_u64(r->evaluated));
    put(o, "reordered", j_u64(r->reordered));
    put(o, "ratio",
        rep_json_double(r->evaluated ? (double)r->reordered / (double)r->evaluated : 0.0));
    for (unsigned i = 0; i < MET_NREORDER_MAX && r->n_count[i]; i++) {
        json_object_array_add(a, j_u64(r->n_count[i]));
    }
    put(o, "n_reordering", a);
    return o;
}

static jobj *j_hops(const struct met_ttl *t)
{
    uint8_t lo, hi;
    unsigned n = met_ttl_summary(t, &lo, &hi);
    jobj *o = json_object_new_object();
    put(o, "distinct", json_object_new_int((int)n));
    put(o, "min", n ? json_object_new_int(255 - hi) : NULL);
    put(o, "max", n ? json_object_new_int(255 - lo) : NULL);
    return o;
}

static jobj *j_sources(const uint64_t c[4])
{
    jobj *o = json_object_new_object();
    put(o, "hardware", j_u64(c[CLK_SRC_HARDWARE]));
    put(o, "kernel", j_u64(c[CLK_SRC_KERNEL]));
    put(o, "user", j_u64(c[CLK_SRC_USER]));
    put(o, "none", j_u64(c[CLK_SRC_NONE]));
    return o;
}

static jobj *j_loss(uint64_t sent, uint64_t lost)
{
    jobj *o = json_object_new_object();
    put(o, "sent", j_u64(sent));
    put(o, "lost", j_u64(lost));
    put(o, "ratio", rep_json_double(sent ? (double)lost / (double)sent : 0.0));
    return o;
}

static jobj *j_tos(int tos)
{
    jobj *o = json_object_new_object();
    put(o, "dscp", json_object_new_int(tos >> 2));
    put(o, "ecn", json_object_new_int(tos & 3));
    return o;
}

/* RFC 6038 and RFC 7750 results of a TWAMP sender. */
static void j_tx_ext(jobj *o, const struct rep_tx *t)
{
    jobj *refl = NULL, *de = NULL;
    if (t->reflect_octets >= 0) {
        refl = json_object_new_object();
        put(refl, "octets", json_object_new_int(t->reflect_octets));
        put(refl, "mismatches", j_u64(t->reflect_mismatch));
    }
    if (t->sent_tos >= 0) {
        de = json_object_new_object();
        put(de, "sent", j_tos(t->sent_tos));
        put(de, "seen", t->seen_tos >= 0 ? j_tos(t->seen_tos) : NULL);
        put(de, "seen_replies", j_u64(t->seen_count));
        put(de, "reporting_replies", j_u64(t->seen_total));
        put(de, "dscp_changed",
            json_object_new_boolean(t->seen_tos >= 0 && (t->seen_tos >> 2) != (t->sent_tos >> 2)));
    }
    put(o, "reflect_octets", refl);
    put(o, "dscp_ecn", de);
}

/* Replies received but not used, by reason, and those used without a Sender TTL. */
static void j_tx_unused(jobj *o, const struct rep_tx *t)
{
    jobj *u = json_object_new_object();
    put(u, "total", j_u64(rep_int_unused_total(t)));
    for (int i = 0; i < REP_UNUSED_N; i++) {
        put(u, REP_UNUSED_NAMES[i].json, j_u64(t->unused[i]));
    }
    put(o, "unused_replies", u);
    put(o, "replies_without_sender_ttl", j_u64(t->no_ttl));
}

/* "send": what the sender measured itself. */
static jobj *j_tx(const struct rep_tx *t)
{
    jobj *o = json_object_new_object(), *late = json_object_new_object(), *bias = NULL;
    put(o, "packets", j_u64(t->sent));
    put(o, "tx_timestamped", j_u64(t->stamped));
    put(o, "tx_timestamp_source", json_object_new_string(src_name((uint8_t)t->source)));
    put(late, "p50", json_object_new_int64(t->late_p50_ns));
    put(late, "p99", json_object_new_int64(t->late_p99_ns));
    put(late, "max", json_object_new_int64(t->late_max_ns));
    put(o, "lateness_ns", late);
    if (t->stamped) {
        bias = json_object_new_object();
        put(bias, "p50", json_object_new_int64(t->bias_p50_ns));
        put(bias, "p99", json_object_new_int64(t->bias_p99_ns));
    }
    put(o, "stamp_to_wire_bias_ns", bias);
    if (t->two_way || t->one_way) {
        jobj *used = json_object_new_object();
        put(used, "tx_timestamp", j_u64(t->time_tx));
        put(used, "packet", j_u64(t->time_packet));
        put(o, t->two_way ? "round_trip_t1" : "send_time", used);
    }
    if (t->two_way) {
        j_tx_ext(o, t);
        j_tx_unused(o, t);
    }
    return o;
}

/* Keys both kinds start with. */
static jobj *j_session(const char *kind, const struct rep_session *s, struct clk_time first,
                       struct clk_time last)
{
    char sid[33];
    jobj *o = json_object_new_object();
    rep_int_sid_hex(s->sid, sid);
    put(o, "version", json_object_new_int(REP_JSON_VERSION));
    put(o, "kind", json_object_new_string(kind));
    if (s->direction) {
        put(o, "direction", json_object_new_string(s->direction));
    }
    put(o, "sid", json_object_new_string(sid));
    put(o, "from", j_endpoint(s->from_host, s->from_addr, s->from_port));
    put(o, "to", j_endpoint(s->to_host, s->to_addr, s->to_port));
    put(o, "start_time_ns", json_object_new_int64(rep_int_pick(s->start, first).ns));
    put(o, "end_time_ns", json_object_new_int64(rep_int_pick(s->end, last).ns));
    put(o, "loss_timeout_ns", json_object_new_int64(s->loss_timeout_ns));
    put(o, "dscp",
        s->type_p & ~UINT32_C(0x3F000000) ? NULL : json_object_new_int((int)(s->type_p >> 24)));
    put(o, "padding_octets", j_u64(s->padding));
    put(o, "packets_scheduled", j_u64(s->npackets));
    put(o, "finished", json_object_new_boolean(s->finished));
    return o;
}

/* ---- summaries ---- */

jobj *rep_ow_json_object(const struct rep_session *s, const struct rep_opts *o,
                         const struct met_ow_stats *st)
{
    jobj *r = j_session("owamp", s, st->first_send, st->last_send);
    jobj *dup = json_object_new_object(), *clk = json_object_new_object();
    put(r, "loss", j_loss(st->sent, st->lost));
    put(dup, "count", j_u64(st->dups));
    put(r, "duplicates", dup);
    put(r, "one_way_delay_ns", j_delay(&st->delay));
    put(r, "percentiles_ns", j_percentiles(o, &st->delay));
    put(r, "jitter_p95_p50_ns", j_ns(met_dist_jitter(&st->delay)));
    put(r, "pdv_ns", j_pdv(&st->delay));
    put(r, "ipdv_ns", j_ipdv(&st->ipdv));
    put(r, "reordering", j_reorder(&st->reorder));
    put(r, "hops", j_hops(&st->ttl));
    put(clk, "synchronized", json_object_new_boolean(st->synced));
    put(clk, "max_error_ns", j_u64(met_ntp_to_ns(st->maxerr_ntp)));
    put(r, "clock", clk);
    put(r, "timestamp_sources", j_sources(st->src_count));
    if (s->tx) {
        put(r, "send", j_tx(s->tx));
    }
    return r;
}

int rep_ow_json(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                const struct met_ow_stats *st)
{
    return emit(f, rep_ow_json_object(s, o, st), o && o->json_pretty);
}

static jobj *j_tw_loss(const struct met_tw_stats *st)
{
    jobj *o = j_loss(st->sent, st->lost);
    put(o, "forward", st->dir_known ? j_u64(st->lost_fwd) : NULL);
    put(o, "reverse", st->dir_known ? j_u64(st->lost_rev) : NULL);
    return o;
}

static jobj *j_tw_clock(const struct met_tw_stats *st)
{
    jobj *o = json_object_new_object(), *e = json_object_new_object();
    put(o, "synchronized", json_object_new_boolean(st->synced));
    put(e, "round_trip", j_u64(met_ntp_to_ns(st->maxerr_rtt_ntp)));
    put(e, "forward", j_u64(met_ntp_to_ns(st->maxerr_fwd_ntp)));
    put(e, "reverse", j_u64(met_ntp_to_ns(st->maxerr_rev_ntp)));
    put(o, "max_error_ns", e);
    put(o, "offset_detected", json_object_new_boolean(st->clocks_offset));
    return o;
}

jobj *rep_tw_json_object(const struct rep_session *s, const struct rep_opts *o,
                         const struct met_tw_stats *st)
{
    jobj *r = j_session("twamp", s, st->first_send, st->last_send);
    jobj *dup = json_object_new_object(), *proc = json_object_new_object();
    jobj *jit = json_object_new_object();
    put(r, "loss", j_tw_loss(st));
    put(dup, "send", j_u64(st->send_dups));
    put(dup, "reflect", j_u64(st->reflect_dups));
    put(r, "duplicates", dup);
    put(r, "round_trip_delay_ns", j_delay(&st->rtt));
    put(r, "forward_delay_ns", j_delay(&st->fwd));
    put(r, "reverse_delay_ns", j_delay(&st->rev));
    put(proc, "min", st->received ? json_object_new_int64(st->proc_min_ns) : NULL);
    put(proc, "max", st->received ? json_object_new_int64(st->proc_max_ns) : NULL);
    put(r, "reflector_processing_ns", proc);
    put(r, "percentiles_ns", j_percentiles(o, &st->rtt));
    put(jit, "round_trip", j_ns(met_dist_jitter(&st->rtt)));
    put(jit, "forward", j_ns(met_dist_jitter(&st->fwd)));
    put(jit, "reverse", j_ns(met_dist_jitter(&st->rev)));
    put(r, "jitter_p95_p50_ns", jit);
    put(r, "pdv_ns", j_pdv(&st->rtt));
    put(r, "ipdv_ns", j_ipdv(&st->ipdv));
    put(r, "reordering", j_reorder(&st->reorder));
    put(r, "send_hops", j_hops(&st->send_ttl));
    put(r, "reflect_hops", j_hops(&st->reflect_ttl));
    put(r, "clock", j_tw_clock(st));
    put(r, "timestamp_sources", j_sources(st->src_count));
    if (s->tx) {
        put(r, "send", j_tx(s->tx));
    }
    return r;
}

int rep_tw_json(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                const struct met_tw_stats *st)
{
    return emit(f, rep_tw_json_object(s, o, st), o && o->json_pretty);
}

/* ---- per-packet lines ---- */

/* A record object, starting with the session's sid and direction when s is given. */
static jobj *j_rec_start(const struct rep_session *s)
{
    jobj *o = json_object_new_object();
    char sid[33];
    if (s) {
        rep_int_sid_hex(s->sid, sid);
        put(o, "sid", json_object_new_string(sid));
        put(o, "direction", s->direction ? json_object_new_string(s->direction) : NULL);
    }
    return o;
}

static jobj *j_owrec(const struct rep_session *s, const struct met_owrec *x)
{
    bool lost = x->lost || x->recv.ns == 0;
    jobj *o = j_rec_start(s);
    put(o, "seq", j_u64(x->seq));
    put(o, "send_ns", json_object_new_int64(x->send.ns));
    put(o, "recv_ns", lost ? NULL : json_object_new_int64(x->recv.ns));
    put(o, "delay_ns", lost ? NULL : json_object_new_int64(met_owrec_delay_ns(x)));
    put(o, "lost", json_object_new_boolean(lost));
    put(o, "send_err_ns", j_u64(met_ntp_to_ns(met_errest_ntp(x->send_err))));
    put(o, "recv_err_ns", j_u64(met_ntp_to_ns(met_errest_ntp(x->recv_err))));
    put(o, "send_sync", json_object_new_boolean(met_errest_synced(x->send_err)));
    put(o, "recv_sync", json_object_new_boolean(met_errest_synced(x->recv_err)));
    put(o, "ttl", json_object_new_int(x->ttl));
    put(o, "recv_source", json_object_new_string(src_name(x->recv_src)));
    put(o, "send_packet_ns", json_object_new_int64(met_owrec_packet_time(x).ns));
    put(o, "send_source",
        json_object_new_string(met_owrec_send_is_tx(x) ? src_name(x->send_src) : "packet"));
    return o;
}

int rep_ow_jsonl_tagged(FILE *f, const struct rep_session *s, const struct met_owrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = emit(f, j_owrec(s, &r[i]), false);
        if (rc != 0) {
            return rc;
        }
    }
    return rep_int_status(f);
}

int rep_ow_jsonl(FILE *f, const struct met_owrec *r, size_t n)
{
    return rep_ow_jsonl_tagged(f, NULL, r, n);
}

/* A TWAMP record's TTL, null when lost or not reported. */
static jobj *j_ttl(bool got, uint8_t ttl)
{
    return got && ttl != MET_TTL_UNKNOWN ? json_object_new_int(ttl) : NULL;
}

static jobj *j_twrec(const struct rep_session *s, const struct met_twrec *x)
{
    bool lost = (x->flags & MET_TW_LOST) || x->t4.ns == 0;
    int64_t proc = x->t3.ns - x->t2.ns;
    jobj *o = j_rec_start(s);
    put(o, "seq", j_u64(x->seq));
    put(o, "reflector_seq", lost ? NULL : j_u64(x->refl_seq));
    put(o, "t1_ns", json_object_new_int64(x->t1.ns));
    put(o, "t2_ns", lost ? NULL : json_object_new_int64(x->t2.ns));
    put(o, "t3_ns", lost ? NULL : json_object_new_int64(x->t3.ns));
    put(o, "t4_ns", lost ? NULL : json_object_new_int64(x->t4.ns));
    put(o, "round_trip_ns", lost ? NULL : json_object_new_int64(x->t4.ns - x->t1.ns - proc));
    put(o, "forward_ns", lost ? NULL : json_object_new_int64(x->t2.ns - x->t1.ns));
    put(o, "reverse_ns", lost ? NULL : json_object_new_int64(x->t4.ns - x->t3.ns));
    put(o, "lost", json_object_new_boolean(lost));
    put(o, "sender_ttl", j_ttl(!lost, x->sender_ttl));
    put(o, "reflector_ttl", j_ttl(!lost, x->refl_ttl));
    put(o, "t1_source", json_object_new_string(src_name(x->t1_src)));
    put(o, "t4_source", lost ? NULL : json_object_new_string(src_name(x->t4_src)));
    return o;
}

int rep_tw_jsonl_tagged(FILE *f, const struct rep_session *s, const struct met_twrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = emit(f, j_twrec(s, &r[i]), false);
        if (rc != 0) {
            return rc;
        }
    }
    return rep_int_status(f);
}

int rep_tw_jsonl(FILE *f, const struct met_twrec *r, size_t n)
{
    return rep_tw_jsonl_tagged(f, NULL, r, n);
}
