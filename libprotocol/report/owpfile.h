/* owpfile.h - OWAMP session files in the reference's .owp format, as written by perfSONAR's
 * owping -T/-F, powstream and owampd, and read by its owstats.
 *
 * Version 3 (written here; all integers big-endian):
 *   0  "OwA\0"            4  version (3)          8  finished (0 error, 1 normal,
 *   12 Next Seqno         16 skip records          2 incomplete)
 *   20 data records       24 offset of the skip records (8 octets)
 *   32 offset of the data records (8 octets)
 *   40 the session's Request-Session message (112 octets, HMAC zero), its schedule slots
 *      (16 octets each) and 16 zero octets
 * then 25-octet data records (Seq Number, Send Error Estimate, Receive Error Estimate, Send
 * Timestamp, Receive Timestamp, TTL: not the Fetch-Session order) and 8-octet skip records
 * (first and last sequence number skipped). A lost packet has a zero Receive Timestamp.
 * Records are in arrival order. A file made from a Fetch-Session puts the skip records first
 * (and, with none, both offsets at the end of the header); a receiver's own file puts them
 * after the data. Versions 2 (24-octet records without TTL) and 0 (records only) are read
 * too, as the reference reads them. */
#ifndef LP_OWPFILE_H
#define LP_OWPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics.h"
#include "recstore.h"
#include "wire.h"

#define OWPF_VERSION 3
#define OWPF_REC_LEN 25    /* version 3 data record */
#define OWPF_REC_V2_LEN 24 /* versions 0 and 2: no TTL */
#define OWPF_SKIP_LEN 8
#define OWPF_FIXED_LEN 40 /* the fixed part before the stored request */

/* The Finished field. */
enum owpf_finished {
    OWPF_ERROR = 0,
    OWPF_NORMAL = 1,
    OWPF_INCOMPLETE = 2,
};

/* What a file's header says. */
struct owpf_header {
    uint32_t version;  /* 3 when writing */
    uint32_t finished; /* enum owpf_finished */
    uint32_t next_seqno;
    uint32_t nskips;
    uint32_t nrecords;
    bool skips_first;              /* writing: the layout of a fetched file (skip records first) */
    struct wire_request req;       /* the stored Request-Session (req.nslots slots) */
    const struct wire_slot *slots; /* writing: req.nslots slots */
};

/* Octets of a version 3 header with nslots slots. */
size_t owpf_header_len(uint32_t nslots);

/* Encode the header of h into buf (owpf_header_len octets), with the offsets of its layout.
 * Octets written or LP_E_* (LP_E_SHORT, or the request's own errors). */
long owpf_header_encode(const struct owpf_header *h, uint8_t *buf, size_t len);

/* One data record in the version 3 layout. */
void owpf_record_encode(const struct wire_record *r, uint8_t out[OWPF_REC_LEN]);

/* A data record of a file of version (0, 2 or 3), of the length that version uses. */
void owpf_record_decode(const uint8_t *buf, uint32_t version, struct wire_record *r);

/* The data record of a logged packet and back (times in NTP format; a lost packet has a
 * zero Receive Timestamp and its scheduled send time). */
struct wire_record owpf_record_of(const struct met_owrec *r);
struct met_owrec owpf_owrec_of(const struct wire_record *w);

/* ---- writing a file: owpf_write_header, the records, then owpf_write_skips. Each returns 0
 * or LP_E_IO (errno kept), LP_E_NOMEM or the encoder's error. ---- */

int owpf_write_header(FILE *f, const struct owpf_header *h);
int owpf_write_record(FILE *f, const struct wire_record *r);
int owpf_write_skips(FILE *f, const struct wire_skip_range *s, uint32_t n);

/* A whole file in the receiver's layout: the header of h (its record count taken from
 * recs), the records of recs (struct met_owrec, in their order), then the skip ranges of h
 * (nskips of skips). 0 or LP_E_*. */
int owpf_write_session(FILE *f, const struct owpf_header *h, struct rst *recs,
                       const struct wire_skip_range *skips);

/* ---- reading ---- */

/* An open file being read: its header, slots and where its records are. */
struct owpf_reader {
    FILE *f;
    struct owpf_header h; /* h.slots points into slots */
    struct wire_slot *slots;
    bool has_request; /* false for version 0: records only */
    size_t rec_len;
    uint64_t data_off, skip_off;
    uint32_t nrecords; /* records to read */
    uint32_t next;     /* the next one */
};

/* Read the header of f (positioned anywhere; f stays owned by the caller). 0, or LP_E_VALUE
 * (not an .owp file: no magic), LP_E_MODE (a version not supported: 1, or a two-way file),
 * LP_E_SHORT (cut short), LP_E_MBZ / LP_E_CMD / LP_E_LEN (a malformed stored request),
 * LP_E_IO, LP_E_NOMEM. Free with owpf_reader_free in every case. */
int owpf_reader_open(FILE *f, struct owpf_reader *rd);

/* The next data record: 1 with *r, 0 after the last, LP_E_IO / LP_E_SHORT on a read error. */
int owpf_reader_next(struct owpf_reader *rd, struct wire_record *r);

void owpf_reader_free(struct owpf_reader *rd);

/* Whether the first octets of a file are the .owp magic. */
bool owpf_is_owp(const uint8_t *buf, size_t len);

#endif
