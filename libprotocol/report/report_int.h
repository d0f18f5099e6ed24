/* report_int.h - helpers shared by the report writers; not part of the public interface. */
#ifndef LP_REPORT_INT_H
#define LP_REPORT_INT_H

#include <stdio.h>

#include "report.h"

/* Default -M bucket width: the reference's 0.0001 s. */
#define REP_BUCKET_DEFAULT_NS 100000

/* The string, or "***" when NULL. */
const char *rep_int_str(const char *s);

/* SID as 32 lowercase hex digits plus NUL. */
void rep_int_sid_hex(const uint8_t sid[16], char out[33]);

/* The session's start/end if given, else the fallback (the stats' send times). */
struct clk_time rep_int_pick(struct clk_time given, struct clk_time fallback);

/* 0, or LP_E_IO if the stream has an error. */
int rep_int_status(FILE *f);

/* Error Estimate in seconds, computed from the raw field exactly as the reference prints it. */
double rep_int_errest_s(uint16_t raw);

/* How each reason for an unused reply is named in the human summary, -M and JSON. */
struct rep_unused_name {
    const char *human, *machine, *json;
};
extern const struct rep_unused_name REP_UNUSED_NAMES[REP_UNUSED_N];

/* Replies t could not use, all reasons. */
uint64_t rep_int_unused_total(const struct rep_tx *t);

#endif
