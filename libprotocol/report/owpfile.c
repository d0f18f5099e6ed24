/* owpfile.c - .owp session files (see owpfile.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "owpfile.h"

static const uint8_t owpf_magic[4] = {'O', 'w', 'A', '\0'};

#define OWPF_TWOWAY 0x80u    /* version bit of the reference's two-way files */
#define OWPF_V2_FIXED_LEN 20 /* version 2: magic, version, header length, finished */

bool owpf_is_owp(const uint8_t *buf, size_t len)
{
    return len >= sizeof(owpf_magic) && memcmp(buf, owpf_magic, sizeof(owpf_magic)) == 0;
}

size_t owpf_header_len(uint32_t nslots)
{
    return OWPF_FIXED_LEN + WIRE_REQUEST_LEN + wire_slots_len(nslots);
}

long owpf_header_encode(const struct owpf_header *h, uint8_t *buf, size_t len)
{
    size_t hlen = owpf_header_len(h->req.nslots);
    if (len < hlen) {
        return LP_E_SHORT;
    }
    uint64_t skip_off = hlen, data_off = hlen;
    if (h->skips_first) {
        data_off += (uint64_t)h->nskips * OWPF_SKIP_LEN;
    } else {
        skip_off += (uint64_t)h->nrecords * OWPF_REC_LEN;
    }
    struct wire_request req = h->req;
    memset(req.hmac, 0, sizeof(req.hmac));
    struct wire_slots sl = {.n = req.nslots, .cslot = h->slots};
    int rc = wire_request_encode(&req, WIRE_OWAMP, buf + OWPF_FIXED_LEN, WIRE_REQUEST_LEN);
    if (rc >= 0) {
        rc = wire_slots_encode(&sl, buf + OWPF_FIXED_LEN + WIRE_REQUEST_LEN,
                               wire_slots_len(req.nslots));
    }
    if (rc < 0) {
        return rc;
    }
    memcpy(buf, owpf_magic, sizeof(owpf_magic));
    lp_store32(buf + 4, OWPF_VERSION);
    lp_store32(buf + 8, h->finished);
    lp_store32(buf + 12, h->next_seqno);
    lp_store32(buf + 16, h->nskips);
    lp_store32(buf + 20, h->nrecords);
    lp_store64(buf + 24, skip_off);
    lp_store64(buf + 32, data_off);
    return (long)hlen;
}

void owpf_record_encode(const struct wire_record *r, uint8_t out[OWPF_REC_LEN])
{
    lp_store32(out, r->seq);
    lp_store16(out + 4, r->send_errest);
    lp_store16(out + 6, r->recv_errest);
    lp_store64(out + 8, r->send_ts);
    lp_store64(out + 16, r->recv_ts);
    out[24] = r->ttl;
}

void owpf_record_decode(const uint8_t *buf, uint32_t version, struct wire_record *r)
{
    if (version == OWPF_VERSION) {
        *r = (struct wire_record){.seq = lp_load32(buf),
                                  .send_errest = lp_load16(buf + 4),
                                  .recv_errest = lp_load16(buf + 6),
                                  .send_ts = lp_load64(buf + 8),
                                  .recv_ts = lp_load64(buf + 16),
                                  .ttl = buf[24]};
    } else { /* versions 0 and 2: no TTL, reported as unknown (255) as the reference does */
        *r = (struct wire_record){.seq = lp_load32(buf),
                                  .send_ts = lp_load64(buf + 4),
                                  .send_errest = lp_load16(buf + 12),
                                  .recv_ts = lp_load64(buf + 14),
                                  .recv_errest = lp_load16(buf + 22),
                                  .ttl = 255};
    }
}

struct wire_record owpf_record_of(const struct met_owrec *r)
{
    return (struct wire_record){.seq = r->seq,
                                .send_errest = r->send_err,
                                .recv_errest = r->recv_err,
                                .send_ts = met_owrec_packet_ntp(r), /* what was on the wire */
                                .recv_ts = met_owrec_recv_ntp(r),
                                .ttl = r->ttl};
}

struct met_owrec owpf_owrec_of(const struct wire_record *w)
{
    struct clk_errest se = clk_errest_decode(w->send_errest),
                      re = clk_errest_decode(w->recv_errest);
    struct met_owrec m = {.seq = w->seq,
                          .send_err = w->send_errest,
                          .recv_err = w->recv_errest,
                          .send_wire = w->send_ts,
                          .recv_wire = w->recv_ts,
                          .ttl = w->ttl,
                          .recv_src = CLK_SRC_NONE,
                          .lost = w->recv_ts == 0};
    if (w->send_ts) {
        m.send = se.ptp ? clk_from_ptp(w->send_ts) : clk_from_ntp((struct clk_ntp){w->send_ts});
    }
    if (w->recv_ts) {
        m.recv = re.ptp ? clk_from_ptp(w->recv_ts) : clk_from_ntp((struct clk_ntp){w->recv_ts});
    }
    return m;
}

/* ---- writing ---- */

static int put(FILE *f, const void *p, size_t n)
{
    return n == 0 || fwrite(p, n, 1, f) == 1 ? 0 : LP_E_IO;
}

int owpf_write_header(FILE *f, const struct owpf_header *h)
{
    size_t n = owpf_header_len(h->req.nslots);
    uint8_t *buf = calloc(1, n);
    if (!buf) {
        return LP_E_NOMEM;
    }
    long rc = owpf_header_encode(h, buf, n);
    rc = rc < 0 ? rc : put(f, buf, n);
    free(buf);
    return (int)rc;
}

int owpf_write_record(FILE *f, const struct wire_record *r)
{
    uint8_t b[OWPF_REC_LEN];
    owpf_record_encode(r, b);
    return put(f, b, sizeof(b));
}

int owpf_write_skips(FILE *f, const struct wire_skip_range *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b[OWPF_SKIP_LEN];
        lp_store32(b, s[i].first);
        lp_store32(b + 4, s[i].last);
        if (put(f, b, sizeof(b)) < 0) {
            return LP_E_IO;
        }
    }
    return 0;
}

int owpf_write_session(FILE *f, const struct owpf_header *h, struct rst *recs,
                       const struct wire_skip_range *skips)
{
    struct owpf_header hh = *h;
    uint64_t n = recs ? rst_count(recs) : 0;
    if (n > UINT32_MAX) {
        return LP_E_LEN;
    }
    hh.nrecords = (uint32_t)n;
    hh.skips_first = false;
    int rc = owpf_write_header(f, &hh), err = 0;
    const void *run;
    size_t m;
    for (uint64_t i = 0; rc == 0 && n && (m = rst_get(recs, i, &run, &err)) > 0; i += m) {
        for (const struct met_owrec *r = run, *e = r + m; rc == 0 && r < e; r++) {
            struct wire_record w = owpf_record_of(r);
            rc = owpf_write_record(f, &w);
        }
    }
    rc = rc < 0 ? rc : err < 0 ? err : 0;
    return rc < 0 ? rc : owpf_write_skips(f, skips, hh.nskips);
}

/* ---- reading ---- */

/* n octets at off into buf: 0, LP_E_SHORT (the file ends first) or LP_E_IO. */
static int get_at(FILE *f, uint64_t off, void *buf, size_t n)
{
    if (off > (uint64_t)INT64_MAX || fseeko(f, (off_t)off, SEEK_SET) != 0) {
        return LP_E_IO;
    }
    if (n && fread(buf, n, 1, f) != 1) {
        return ferror(f) ? LP_E_IO : LP_E_SHORT;
    }
    return 0;
}

/* The stored request at off and its slots (version 2 and 3 headers). */
static int read_request(struct owpf_reader *rd, uint64_t off)
{
    uint8_t buf[WIRE_REQUEST_LEN];
    int rc = get_at(rd->f, off, buf, sizeof(buf));
    if (rc < 0 || (rc = wire_request_decode(buf, sizeof(buf), WIRE_OWAMP, &rd->h.req)) < 0) {
        return rc;
    }
    uint32_t n = rd->h.req.nslots;
    size_t len = wire_slots_len(n);
    uint8_t *sb = malloc(len);
    rd->slots = calloc(n ? n : 1, sizeof(*rd->slots));
    if (!sb || !rd->slots) {
        free(sb);
        return LP_E_NOMEM;
    }
    struct wire_slots sl = {.n = n, .slot = rd->slots};
    rc = fread(sb, len, 1, rd->f) == 1 ? wire_slots_decode(sb, len, &sl) : LP_E_SHORT;
    free(sb);
    rd->h.slots = rd->slots;
    rd->has_request = rc >= 0;
    return rc < 0 ? rc : 0;
}

/* Version 3: the fixed header, the request, and where the records end. */
static int open_v3(struct owpf_reader *rd, const uint8_t *fixed, uint64_t size)
{
    rd->h.finished = lp_load32(fixed + 8);
    rd->h.next_seqno = lp_load32(fixed + 12);
    rd->h.nskips = lp_load32(fixed + 16);
    rd->h.nrecords = lp_load32(fixed + 20);
    rd->skip_off = lp_load64(fixed + 24);
    rd->data_off = lp_load64(fixed + 32);
    rd->rec_len = OWPF_REC_LEN;
    int rc = read_request(rd, OWPF_FIXED_LEN);
    if (rc < 0) {
        return rc;
    }
    /* the records end where the skip records begin when those follow them, else at the end
     * of the file; a finished file's count holds, an unfinished one has what is there */
    uint64_t end = rd->skip_off > rd->data_off ? rd->skip_off : size;
    if (rd->data_off > end) {
        return LP_E_LEN;
    }
    uint64_t avail = (end - rd->data_off) / rd->rec_len;
    if (rd->h.finished != OWPF_NORMAL) {
        rd->nrecords = avail > UINT32_MAX ? UINT32_MAX : (uint32_t)avail;
    } else if (rd->h.nrecords > avail) {
        return LP_E_SHORT;
    } else {
        rd->nrecords = rd->h.nrecords;
    }
    uint64_t skips_end = rd->skip_off + (uint64_t)rd->h.nskips * OWPF_SKIP_LEN;
    return rd->h.nskips && skips_end > size ? LP_E_SHORT : 0;
}

/* Versions 0 and 2: a header length, then 24-octet records to the end of the file. */
static int open_v2(struct owpf_reader *rd, const uint8_t *fixed, uint64_t size)
{
    rd->data_off = lp_load64(fixed + 8);
    rd->rec_len = OWPF_REC_V2_LEN;
    if (rd->data_off > size || rd->data_off < 16) {
        return LP_E_LEN;
    }
    uint64_t avail = (size - rd->data_off) / rd->rec_len;
    rd->nrecords = avail > UINT32_MAX ? UINT32_MAX : (uint32_t)avail;
    rd->h.nrecords = rd->nrecords;
    if (rd->h.version == 0) {
        return 0;
    }
    uint8_t b[4];
    int rc = get_at(rd->f, 16, b, sizeof(b));
    rd->h.finished = rc == 0 ? lp_load32(b) : OWPF_ERROR;
    return rc < 0 ? rc : read_request(rd, OWPF_V2_FIXED_LEN);
}

int owpf_reader_open(FILE *f, struct owpf_reader *rd)
{
    uint8_t fixed[OWPF_FIXED_LEN];
    struct stat st;
    memset(rd, 0, sizeof(*rd));
    rd->f = f;
    if (fstat(fileno(f), &st) < 0) {
        return LP_E_IO;
    }
    int rc = get_at(f, 0, fixed, 16);
    if (rc < 0) {
        return rc == LP_E_SHORT && st.st_size >= 4 && owpf_is_owp(fixed, 4) ? LP_E_SHORT
                                                                            : LP_E_VALUE;
    }
    if (!owpf_is_owp(fixed, sizeof(fixed))) {
        return LP_E_VALUE;
    }
    rd->h.version = lp_load32(fixed + 4);
    if (rd->h.version == 0 || rd->h.version == 2) {
        return open_v2(rd, fixed, (uint64_t)st.st_size);
    }
    if (rd->h.version != OWPF_VERSION) {
        return LP_E_MODE; /* 1 was never readable; 0x83 is a two-way file */
    }
    if ((rc = get_at(f, 0, fixed, sizeof(fixed))) < 0) {
        return rc;
    }
    return open_v3(rd, fixed, (uint64_t)st.st_size);
}

int owpf_reader_next(struct owpf_reader *rd, struct wire_record *r)
{
    uint8_t b[OWPF_REC_LEN];
    if (rd->next >= rd->nrecords) {
        return 0;
    }
    int rc = rd->next == 0 ? get_at(rd->f, rd->data_off, b, rd->rec_len)
                           : (fread(b, rd->rec_len, 1, rd->f) == 1 ? 0 : LP_E_SHORT);
    if (rc < 0) {
        return ferror(rd->f) ? LP_E_IO : rc;
    }
    rd->next++;
    owpf_record_decode(b, rd->h.version, r);
    return 1;
}

void owpf_reader_free(struct owpf_reader *rd)
{
    free(rd->slots);
    rd->slots = NULL;
    rd->h.slots = NULL;
}
