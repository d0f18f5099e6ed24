/* report_csv.c - per-packet records as CSV (RFC 4180 lines, a header first). Every field is
 * a number, a SID in hex or a fixed word, so none needs quoting; undefined values (the
 * receive side of a lost packet) are empty fields. Columns match the JSON Lines records. */
#include <inttypes.h>
#include <stdio.h>

#include "common.h"
#include "report.h"
#include "report_int.h"

static const char *src_word(uint8_t s)
{
    switch (s) {
    case CLK_SRC_HARDWARE: return "hardware";
    case CLK_SRC_KERNEL: return "kernel";
    case CLK_SRC_USER: return "user";
    default: return "none";
    }
}

/* "sid,direction," of s (empty fields without it). */
static void put_tag(FILE *f, const struct rep_session *s)
{
    char sid[33] = "";
    if (s) {
        rep_int_sid_hex(s->sid, sid);
    }
    fprintf(f, "%s,%s,", sid, s && s->direction ? s->direction : "");
}

/* ",<v>" or "," when the value is undefined. */
static void put_opt(FILE *f, bool defined, int64_t v)
{
    if (defined) {
        fprintf(f, ",%" PRId64, v);
    } else {
        fputc(',', f);
    }
}

int rep_ow_csv_header(FILE *f)
{
    fputs("sid,direction,seq,send_ns,recv_ns,delay_ns,lost,send_err_ns,recv_err_ns,send_sync,"
          "recv_sync,ttl,recv_source,send_packet_ns,send_source\n",
          f);
    return rep_int_status(f);
}

int rep_tw_csv_header(FILE *f)
{
    fputs("sid,direction,seq,reflector_seq,t1_ns,t2_ns,t3_ns,t4_ns,round_trip_ns,forward_ns,"
          "reverse_ns,lost,sender_ttl,reflector_ttl,t1_source,t4_source\n",
          f);
    return rep_int_status(f);
}

int rep_ow_csv(FILE *f, const struct rep_session *s, const struct met_owrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct met_owrec *x = &r[i];
        bool got = !(x->lost || x->recv.ns == 0);
        put_tag(f, s);
        fprintf(f, "%" PRIu32 ",%" PRId64, x->seq, x->send.ns);
        put_opt(f, got, x->recv.ns);
        put_opt(f, got, met_owrec_delay_ns(x));
        fprintf(f, ",%d,%" PRIu64 ",%" PRIu64 ",%d,%d,%u,%s,%" PRId64 ",%s\n", got ? 0 : 1,
                met_ntp_to_ns(met_errest_ntp(x->send_err)),
                met_ntp_to_ns(met_errest_ntp(x->recv_err)), met_errest_synced(x->send_err),
                met_errest_synced(x->recv_err), (unsigned)x->ttl, src_word(x->recv_src),
                met_owrec_packet_time(x).ns,
                met_owrec_send_is_tx(x) ? src_word(x->send_src) : "packet");
    }
    return rep_int_status(f);
}

int rep_tw_csv(FILE *f, const struct rep_session *s, const struct met_twrec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct met_twrec *x = &r[i];
        bool got = !((x->flags & MET_TW_LOST) || x->t4.ns == 0);
        put_tag(f, s);
        fprintf(f, "%" PRIu32, x->seq);
        put_opt(f, got, x->refl_seq);
        fprintf(f, ",%" PRId64, x->t1.ns);
        put_opt(f, got, x->t2.ns);
        put_opt(f, got, x->t3.ns);
        put_opt(f, got, x->t4.ns);
        put_opt(f, got, (x->t4.ns - x->t1.ns) - (x->t3.ns - x->t2.ns));
        put_opt(f, got, x->t2.ns - x->t1.ns);
        put_opt(f, got, x->t4.ns - x->t3.ns);
        fprintf(f, ",%d", got ? 0 : 1);
        put_opt(f, got && x->sender_ttl != MET_TTL_UNKNOWN, x->sender_ttl);
        put_opt(f, got && x->refl_ttl != MET_TTL_UNKNOWN, x->refl_ttl);
        fprintf(f, ",%s,%s\n", src_word(x->t1_src), got ? src_word(x->t4_src) : "");
    }
    return rep_int_status(f);
}
