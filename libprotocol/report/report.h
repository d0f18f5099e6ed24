/* report.h - session results as text for people (perfSONAR owping/twping layout), the
 * reference's machine summary (-M) and raw records (-R), JSON summaries and JSON Lines
 * per-packet records. Every writer takes an open FILE * (the caller owns it) and returns 0,
 * LP_E_IO when the stream reports an error, or LP_E_NOMEM. */
#ifndef LP_REPORT_H
#define LP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "clock.h"
#include "metrics.h"
#include "recstore.h"

/* Why a TWAMP or STAMP Session-Sender could not use a reply. */
enum rep_unused {
    REP_UNUSED_SHORT,   /* shorter than the fields the metrics need */
    REP_UNUSED_HMAC,    /* HMAC did not verify */
    REP_UNUSED_SESSION, /* STAMP: another session's SSID */
    REP_UNUSED_SEQ,     /* a sequence number that was never sent */
    REP_UNUSED_LONG,    /* longer than the receive buffer */
    REP_UNUSED_N,
};

/* What the sender of a session measured itself (owping's "to" session, twping's): how late
 * packets left (kernel or NIC TX timestamps against the schedule), which send times the
 * one-way delays or the round trips (T1) used, the results of the TWAMP extensions, and the
 * replies it could not use. */
struct rep_tx {
    uint64_t sent;          /* packets sent */
    uint64_t stamped;       /* of those, with a kernel or NIC TX timestamp */
    enum clk_source source; /* of the TX timestamps (CLK_SRC_USER when none) */
    int64_t late_p50_ns, late_p99_ns, late_max_ns; /* left the host after the schedule */
    int64_t bias_p50_ns, bias_p99_ns; /* TX timestamp minus the one written in the packet */
    bool two_way;                     /* TWAMP sender: the counts below are of T1 */
    bool one_way;                     /* OWAMP sender: ... of the send times of its results */
    uint64_t time_tx, time_packet;    /* packets (round trips) whose send time (T1) is the TX
                                       * timestamp / the time written in the packet */
    int reflect_octets;               /* RFC 6038 octets asked for, -1 when not negotiated */
    uint64_t reflect_mismatch;        /* replies whose reflected octets differ */
    int sent_tos, seen_tos;           /* RFC 7750 DSCP << 2 | ECN sent / most often seen by
                                       * the reflector; sent_tos -1 when not negotiated,
                                       * seen_tos -1 when no reply reported one */
    uint64_t seen_count, seen_total;  /* replies reporting seen_tos / reporting any value */
    uint64_t unused[REP_UNUSED_N];    /* two-way: replies received but not used, by reason */
    uint64_t no_ttl;                  /* two-way: replies used that hold no Sender TTL */
};

/* What a report says about the session besides the statistics. Strings may be NULL
 * (printed as "***", as the reference does when a name cannot be resolved). */
struct rep_session {
    uint8_t sid[16];
    const char *from_host, *from_addr, *from_port; /* sender */
    const char *to_host, *to_addr, *to_port;       /* receiver / reflector */
    uint32_t type_p;             /* Type-P descriptor of the request (DSCP in bits 24-29) */
    int64_t loss_timeout_ns;     /* as requested */
    uint32_t padding;            /* packet padding octets */
    uint32_t npackets;           /* packets in the session; 0 = use the count sent */
    bool finished;               /* session ended normally */
    struct clk_time start, end;  /* first/last scheduled send; ns 0 = the stats' send times */
    uint64_t start_ntp, end_ntp; /* the same in NTP format as a file holds them (-M prints
                                  * these when not 0) */
    uint64_t loss_timeout_ntp;   /* the loss timeout as requested on the wire, 0: from ns */
    const char *direction;       /* "to" / "from" the server (OWAMP, seen from the client),
                                  * "round_trip" (TWAMP), or NULL: not said */
    const struct rep_tx *tx;     /* what the sender measured, NULL: not ours (JSON "send") */
};

/* Output choices, mirroring owping's -n, -b, -a and -U. A zeroed struct gives defaults. */
struct rep_opts {
    char units;              /* 'n', 'u', 'm' or 's' for the text summary; 0 = 'm' */
    int64_t bucket_width_ns; /* -M histogram bin width; 0 = 100 us (the reference's default) */
    const double *pct;       /* extra delay percentiles to list (0..100) */
    size_t npct;
    bool unix_times;  /* -M: add UNIX_START_TIME / UNIX_END_TIME */
    bool json_pretty; /* JSON summary spread over several lines */
};

/* Human summary of a one-way session, in owping's layout plus a timestamp-source line. In
 * both summaries the lines of an empty sample (nothing arrived in time: delays, jitter,
 * percentiles, processing time, timestamp sources) are left out rather than full of "nan";
 * a rank that falls on lost packets still prints "nan", as the reference does. */
int rep_ow_summary(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_ow_stats *st);

/* Human summary of a two-way session, in twping's layout plus the replies that could not be
 * used (when s->tx has any), direction-split loss (when known) and a timestamp-source line. */
int rep_tw_summary(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_tw_stats *st);

/* owping -M: the reference's SUMMARY 3.00 key/value block, delays in seconds. */
int rep_ow_machine(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_ow_stats *st);

/* twping -M: the two-way variant (_FWD/_BCK/_PROC keys, no reordering block), then, when
 * s->tx says replies could not be used or held no Sender TTL, UNUSED_REPLIES with one
 * UNUSED_<reason> line per reason seen, and REPLIES_NO_TTL. */
int rep_tw_machine(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_tw_stats *st);

/* owping -R: "SEQ STIME SS SERR RTIME RS RERR TTL" per record, times as NTP 64-bit integers,
 * errors in seconds, RTIME 0 for lost packets. */
int rep_ow_raw(FILE *f, const struct met_owrec *r, size_t n);

/* twping -R: "SSEQ STIME SS SERR SRTIME SRS SRERR STTL RSEQ RSTIME RSS RSERR RTIME RS RERR
 * RTTL" per record. */
int rep_tw_raw(FILE *f, const struct met_twrec *r, size_t n);

/* JSON summary object of a session followed by a newline (keys: see report_json.c). */
int rep_ow_json(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                const struct met_ow_stats *st);
int rep_tw_json(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                const struct met_tw_stats *st);

/* JSON Lines: one object per record. */
int rep_ow_jsonl(FILE *f, const struct met_owrec *r, size_t n);
int rep_tw_jsonl(FILE *f, const struct met_twrec *r, size_t n);

/* ---- additions: objects for callers that build larger documents, tagged records ---- */

struct json_object;

/* The JSON summary object that rep_ow_json/rep_tw_json print; the caller owns it
 * (json_object_put). NULL when out of memory. */
struct json_object *rep_ow_json_object(const struct rep_session *s, const struct rep_opts *o,
                                       const struct met_ow_stats *st);
struct json_object *rep_tw_json_object(const struct rep_session *s, const struct rep_opts *o,
                                       const struct met_tw_stats *st);

/* A JSON number for v printed with 9 significant digits (ratios, percentages). */
struct json_object *rep_json_double(double v);

/* JSON Lines like rep_*_jsonl, each object also carrying "sid" and "direction" of s (NULL:
 * same as rep_*_jsonl). */
int rep_ow_jsonl_tagged(FILE *f, const struct rep_session *s, const struct met_owrec *r, size_t n);
int rep_tw_jsonl_tagged(FILE *f, const struct rep_session *s, const struct met_twrec *r, size_t n);

/* ---- CSV per-packet records (report_csv.c): numbers and fixed words only, so no field
 * needs quoting; an undefined value (lost packet) is an empty field ---- */

/* The header line of the OWAMP / TWAMP record columns. */
int rep_ow_csv_header(FILE *f);
int rep_tw_csv_header(FILE *f);

/* One line per record: sid and direction of s (empty when s or a field is NULL), then the
 * record (columns as in the JSON Lines records). */
int rep_ow_csv(FILE *f, const struct rep_session *s, const struct met_owrec *r, size_t n);
int rep_tw_csv(FILE *f, const struct rep_session *s, const struct met_twrec *r, size_t n);

/* ---- saved records (report_saved.c): the -T/-F files. A header of "#KEY<TAB>VALUE" lines
 * describing the session (what -M needs beyond the records), then the -R lines. Files of
 * bare -R lines (no header) read back too, with unknown fields left empty. ---- */

/* Write the header describing s (and mp, the statistics' parameters), then the records. */
int rep_saved_write_ow(FILE *f, const struct rep_session *s, const struct met_params *mp,
                       const struct met_owrec *r, size_t n);
int rep_saved_write_tw(FILE *f, const struct rep_session *s, const struct met_params *mp,
                       const struct met_twrec *r, size_t n);

/* The same in pieces, for records read run by run: the header of a file of n records
 * (refl_seq: what rep_saved_refl_seq found), then rep_ow_raw/rep_tw_raw on each run. */
void rep_saved_header(FILE *f, bool two_way, const struct rep_session *s,
                      const struct met_params *mp, uint64_t n, int refl_seq);

/* Whether the first reply among r[0..n) carries a reflector counter: *known starts at 0 and
 * is set by the first run holding a reply (1 a counter, 2 a counter or a copy of our
 * numbers, -1 none); later runs leave it alone. */
bool rep_saved_refl_seq(const struct met_twrec *r, size_t n, int *known);

#define REP_SAVED_STR 256

/* A session read back from a saved file; rs's strings point into this struct (do not copy
 * it), the records are owned (rep_saved_free). */
struct rep_saved {
    bool two_way;
    struct rep_session rs;
    struct met_params mp;
    struct rst *recs; /* met_twrec when two_way, else met_owrec; NULL when none */
    uint64_t n;       /* records read */
    unsigned line;    /* on a syntax error: the line that failed (1-based) */
    char from_host[REP_SAVED_STR], from_addr[REP_SAVED_STR], from_port[REP_SAVED_STR];
    char to_host[REP_SAVED_STR], to_addr[REP_SAVED_STR], to_port[REP_SAVED_STR];
    char direction[32];
};

/* Read a saved file: an .owp session file (owpfile.h; owping -T/-F, powstream, the
 * reference's tools), or a records file of twping -F (and of older owping versions): two_way
 * selects the -R layout when the file has no header saying it. An .owp file that cannot be
 * read answers its owpf_reader_open error (LP_E_VALUE never: that means not .owp).
 * 0, LP_E_SYNTAX (out->line tells where), LP_E_SHORT (cut short or empty: out->line = lines
 * read, 0 for no records and no count; out->n = records read), LP_E_NOMEM or LP_E_IO. out
 * is always safe to free. */
int rep_saved_read(FILE *f, bool two_way, struct rep_saved *out);

/* Free the records of a rep_saved (safe on a zeroed or failed one). */
void rep_saved_free(struct rep_saved *s);

/* Raw Error Estimate field whose error and S bit are as the -R format prints them (error in
 * seconds): the inverse of the -R SERR/RERR columns. Multiplier 0 (invalid, as printed for
 * 0) when no estimate matches. */
uint16_t rep_errest_from_seconds(double err_s, bool sync);

/* ---- pcap export (report_pcap.c): test packets with synthesized IPv4/IPv6 and UDP headers,
 * nanosecond timestamps, link type RAW (IPv4 and IPv6 in one file) ---- */

/* One test packet as it left or arrived. */
struct rep_pkt {
    const uint8_t *data; /* UDP payload, as on the wire */
    size_t len;
    const struct sockaddr *src, *dst; /* IPv4 or IPv6 of the same family, with ports */
    struct clk_time ts;
    int ttl; /* IPv4 TTL / IPv6 hop limit; -1: 255 */
    int tos; /* TOS / Traffic Class octet; -1: 0 */
};

struct rep_pcap;

/* Create path (truncating) as a nanosecond pcap file. NULL with errbuf filled (may be
 * NULL) on failure. */
struct rep_pcap *rep_pcap_open(const char *path, char *errbuf, size_t errlen);

/* Append one packet; payloads longer than 65507 octets are truncated. 0, LP_E_VALUE (bad
 * addresses) or LP_E_IO. */
int rep_pcap_write(struct rep_pcap *p, const struct rep_pkt *pkt);

/* Append a packet already framed by rep_pcap_write (an IP datagram), e.g. read back from
 * another file written here. 0 or LP_E_VALUE (too long). */
int rep_pcap_append_raw(struct rep_pcap *p, const uint8_t *frame, size_t len, struct clk_time ts);

/* Packets written so far. */
uint64_t rep_pcap_count(const struct rep_pcap *p);

/* Flush and close; 0 or LP_E_IO when a write failed at any point. NULL is allowed. */
int rep_pcap_close(struct rep_pcap *p);

#endif
