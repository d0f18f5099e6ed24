/* report.h - session results as text for people (perfSONAR owping/twping layout), the
 * reference's machine summary (-M) and raw records (-R), JSON summaries and JSON Lines
 * per-packet records. Every writer takes an open FILE * (the caller owns it) and returns 0,
 * LP_E_IO when the stream reports an error, or LP_E_NOMEM. */
#ifndef LP_REPORT_H
#define LP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "metrics.h"

/* What a report says about the session besides the statistics. Strings may be NULL
 * (printed as "***", as the reference does when a name cannot be resolved). */
struct rep_session {
    uint8_t sid[16];
    const char *from_host, *from_addr, *from_port; /* sender */
    const char *to_host, *to_addr, *to_port;       /* receiver / reflector */
    uint32_t type_p;            /* Type-P descriptor of the request (DSCP in bits 24-29) */
    int64_t loss_timeout_ns;    /* as requested */
    uint32_t padding;           /* packet padding octets */
    uint32_t npackets;          /* packets in the session; 0 = use the count sent */
    bool finished;              /* session ended normally */
    struct clk_time start, end; /* first/last scheduled send; ns 0 = the stats' send times */
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

/* Human summary of a one-way session, in owping's layout plus a timestamp-source line. */
int rep_ow_summary(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_ow_stats *st);

/* Human summary of a two-way session, in twping's layout plus direction-split loss (when
 * known) and a timestamp-source line. */
int rep_tw_summary(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_tw_stats *st);

/* owping -M: the reference's SUMMARY 3.00 key/value block, delays in seconds. */
int rep_ow_machine(FILE *f, const struct rep_session *s, const struct rep_opts *o,
                   const struct met_ow_stats *st);

/* twping -M: the two-way variant (_FWD/_BCK/_PROC keys, no reordering block). */
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

#endif
