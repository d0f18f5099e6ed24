/* wire_stop.c - Stop-Sessions (OWAMP with session descriptions, TWAMP without),
 * Fetch-Session, Fetch-Ack and the skip-range and data-record sections that follow it. */
#include <string.h>

#include "wire.h"
#include "wire_int.h"

#define STOP_HDR_LEN 16
#define DESC_HDR_LEN 24
#define SKIP_LEN 8

/* ------------------------------------------------------------- skip ranges */

/* Write n ranges at p after the same checks get_skips makes. */
static int put_skips(uint8_t *p, const struct wire_skip_range *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (r[i].first > r[i].last || (i > 0 && r[i].first < r[i - 1].last)) {
            return LP_E_VALUE;
        }
        lp_store32(p + (size_t)i * SKIP_LEN, r[i].first);
        lp_store32(p + (size_t)i * SKIP_LEN + 4, r[i].last);
    }
    return 0;
}

/* Validate n ranges at p (each first <= last, in ascending order: a range may not start
 * before the previous one ends, as perfSONAR owamp checks) and store them in out (NULL:
 * validate only). */
static int get_skips(const uint8_t *p, uint32_t n, struct wire_skip_range *out)
{
    uint32_t prev_last = 0;

    for (uint32_t i = 0; i < n; i++) {
        struct wire_skip_range r = {lp_load32(p + (size_t)i * SKIP_LEN),
                                    lp_load32(p + (size_t)i * SKIP_LEN + 4)};

        if (r.first > r.last || (i > 0 && r.first < prev_last)) {
            return LP_E_VALUE;
        }
        prev_last = r.last;
        if (out != NULL) {
            out[i] = r;
        }
    }
    return 0;
}

/* -------------------------------------------------------- session descriptions */

size_t wire_session_desc_len(uint32_t nskips)
{
    return wire_round16(DESC_HDR_LEN + (size_t)nskips * SKIP_LEN);
}

int wire_session_desc_encode(const struct wire_session_desc *d, uint8_t *buf, size_t len)
{
    size_t need;
    int rc;

    if (d->nskips > WIRE_MAX_SKIP_RANGES) {
        return LP_E_LEN;
    }
    need = wire_session_desc_len(d->nskips);
    if (len < need) {
        return LP_E_SHORT;
    }
    memset(buf, 0, need);
    memcpy(buf, d->sid, WIRE_SID_LEN);
    lp_store32(buf + 16, d->next_seqno);
    lp_store32(buf + 20, d->nskips);
    rc = put_skips(buf + DESC_HDR_LEN, d->skip, d->nskips);
    return rc != 0 ? rc : (int)need;
}

int wire_session_desc_decode(const uint8_t *buf, size_t len, struct wire_session_desc *d)
{
    size_t need, used;
    uint32_t n;
    int rc;

    if (len < DESC_HDR_LEN) {
        return LP_E_SHORT;
    }
    n = lp_load32(buf + 20);
    if (n > WIRE_MAX_SKIP_RANGES) {
        return LP_E_LEN;
    }
    need = wire_session_desc_len(n);
    if (len < need) {
        return LP_E_SHORT;
    }
    used = DESC_HDR_LEN + (size_t)n * SKIP_LEN;
    if (!wire_mbz_ok(buf, used, need - used)) {
        return LP_E_MBZ;
    }
    if (d->skip != NULL && n > d->skips_cap) {
        return LP_E_NOMEM;
    }
    rc = get_skips(buf + DESC_HDR_LEN, n, d->skip);
    if (rc != 0) {
        return rc;
    }
    memcpy(d->sid, buf, WIRE_SID_LEN);
    d->next_seqno = lp_load32(buf + 16);
    d->nskips = n;
    return (int)need;
}

/* --------------------------------------------------------------- Stop-Sessions */

int wire_stop_sessions_encode(const struct wire_stop_sessions *s, enum wire_proto proto,
                              uint8_t *buf, size_t len)
{
    size_t off = STOP_HDR_LEN;

    if (s->nsessions > WIRE_MAX_SESSIONS) {
        return LP_E_LEN;
    }
    if (len < STOP_HDR_LEN) {
        return LP_E_SHORT;
    }
    memset(buf, 0, STOP_HDR_LEN);
    buf[0] = WIRE_CMD_STOP_SESSIONS;
    buf[1] = s->accept;
    lp_store32(buf + 4, s->nsessions);
    for (uint32_t i = 0; proto == WIRE_OWAMP && i < s->nsessions; i++) {
        int rc = wire_session_desc_encode(&s->desc[i], buf + off, len - off);

        if (rc < 0) {
            return rc;
        }
        off += (size_t)rc;
    }
    if (len - off < WIRE_HMAC_LEN) {
        return LP_E_SHORT;
    }
    memcpy(buf + off, s->hmac, WIRE_HMAC_LEN);
    return (int)(off + WIRE_HMAC_LEN);
}

/* Decode the descriptions that start at off; returns the offset after them or LP_E_*. */
static long stop_descs(const uint8_t *buf, size_t len, size_t off, struct wire_stop_sessions *s)
{
    if (s->desc != NULL && s->nsessions > s->descs_cap) {
        return LP_E_NOMEM;
    }
    for (uint32_t i = 0; i < s->nsessions; i++) {
        struct wire_session_desc scratch = {0};
        struct wire_session_desc *d = s->desc != NULL ? &s->desc[i] : &scratch;
        int rc = wire_session_desc_decode(buf + off, len - off, d);

        if (rc < 0) {
            return rc;
        }
        off += (size_t)rc;
    }
    return (long)off;
}

int wire_stop_sessions_decode(const uint8_t *buf, size_t len, enum wire_proto proto,
                              struct wire_stop_sessions *s)
{
    long off = STOP_HDR_LEN;

    if (len < STOP_HDR_LEN) {
        return LP_E_SHORT;
    }
    if (buf[0] != WIRE_CMD_STOP_SESSIONS) {
        return LP_E_CMD;
    }
    if (!wire_mbz_ok(buf, 2, 2) || !wire_mbz_ok(buf, 8, 8)) {
        return LP_E_MBZ;
    }
    s->accept = buf[1];
    s->nsessions = lp_load32(buf + 4);
    if (s->nsessions > WIRE_MAX_SESSIONS) {
        return LP_E_LEN;
    }
    if (proto == WIRE_OWAMP) {
        off = stop_descs(buf, len, STOP_HDR_LEN, s);
        if (off < 0) {
            return (int)off;
        }
    }
    if (len - (size_t)off < WIRE_HMAC_LEN) {
        return LP_E_SHORT;
    }
    memcpy(s->hmac, buf + off, WIRE_HMAC_LEN);
    return (int)(off + WIRE_HMAC_LEN);
}

/* -------------------------------------------------------- Fetch-Session, Fetch-Ack */

int wire_fetch_session_encode(const struct wire_fetch_session *f, uint8_t *buf, size_t len)
{
    if (len < WIRE_FETCH_SESSION_LEN) {
        return LP_E_SHORT;
    }
    memset(buf, 0, 8);
    buf[0] = WIRE_CMD_FETCH_SESSION;
    lp_store32(buf + 8, f->begin_seq);
    lp_store32(buf + 12, f->end_seq);
    memcpy(buf + 16, f->sid, WIRE_SID_LEN);
    memcpy(buf + 32, f->hmac, WIRE_HMAC_LEN);
    return WIRE_FETCH_SESSION_LEN;
}

int wire_fetch_session_decode(const uint8_t *buf, size_t len, struct wire_fetch_session *f)
{
    if (len < WIRE_FETCH_SESSION_LEN) {
        return LP_E_SHORT;
    }
    if (buf[0] != WIRE_CMD_FETCH_SESSION) {
        return LP_E_CMD;
    }
    if (!wire_mbz_ok(buf, 1, 7)) {
        return LP_E_MBZ;
    }
    f->begin_seq = lp_load32(buf + 8);
    f->end_seq = lp_load32(buf + 12);
    memcpy(f->sid, buf + 16, WIRE_SID_LEN);
    memcpy(f->hmac, buf + 32, WIRE_HMAC_LEN);
    return WIRE_FETCH_SESSION_LEN;
}

int wire_fetch_ack_encode(const struct wire_fetch_ack *a, uint8_t *buf, size_t len)
{
    if (len < WIRE_FETCH_ACK_LEN) {
        return LP_E_SHORT;
    }
    buf[0] = a->accept;
    buf[1] = a->finished;
    buf[2] = 0;
    buf[3] = 0;
    lp_store32(buf + 4, a->next_seqno);
    lp_store32(buf + 8, a->nskips);
    lp_store32(buf + 12, a->nrecords);
    memcpy(buf + 16, a->hmac, WIRE_HMAC_LEN);
    return WIRE_FETCH_ACK_LEN;
}

int wire_fetch_ack_decode(const uint8_t *buf, size_t len, struct wire_fetch_ack *a)
{
    if (len < WIRE_FETCH_ACK_LEN) {
        return LP_E_SHORT;
    }
    if (!wire_mbz_ok(buf, 2, 2)) {
        return LP_E_MBZ;
    }
    a->accept = buf[0];
    a->finished = buf[1];
    a->next_seqno = lp_load32(buf + 4);
    a->nskips = lp_load32(buf + 8);
    a->nrecords = lp_load32(buf + 12);
    memcpy(a->hmac, buf + 16, WIRE_HMAC_LEN);
    return WIRE_FETCH_ACK_LEN;
}

/* ------------------------------------------------------------- Fetch sections */

size_t wire_fetch_skips_len(uint32_t n)
{
    return wire_round16((size_t)n * SKIP_LEN) + WIRE_HMAC_LEN;
}

size_t wire_fetch_records_len(uint32_t n)
{
    return wire_round16((size_t)n * WIRE_RECORD_LEN) + WIRE_HMAC_LEN;
}

int wire_skip_section_encode(const struct wire_skip_section *s, uint8_t *buf, size_t len)
{
    size_t need;

    if (s->n > WIRE_MAX_SKIP_RANGES) {
        return LP_E_LEN;
    }
    need = wire_fetch_skips_len(s->n);
    if (len < need) {
        return LP_E_SHORT;
    }
    memset(buf, 0, need - WIRE_HMAC_LEN);
    if (put_skips(buf, s->cskip, s->n) != 0) {
        return LP_E_VALUE;
    }
    memcpy(buf + need - WIRE_HMAC_LEN, s->hmac, WIRE_HMAC_LEN);
    return (int)need;
}

int wire_skip_section_decode(const uint8_t *buf, size_t len, struct wire_skip_section *s)
{
    size_t need, used = (size_t)s->n * SKIP_LEN;
    int rc;

    if (s->n > WIRE_MAX_SKIP_RANGES) {
        return LP_E_LEN;
    }
    need = wire_fetch_skips_len(s->n);
    if (len < need) {
        return LP_E_SHORT;
    }
    if (!wire_mbz_ok(buf, used, need - WIRE_HMAC_LEN - used)) {
        return LP_E_MBZ;
    }
    rc = get_skips(buf, s->n, s->skip);
    if (rc != 0) {
        return rc;
    }
    memcpy(s->hmac, buf + need - WIRE_HMAC_LEN, WIRE_HMAC_LEN);
    return (int)need;
}

int wire_record_encode(const struct wire_record *r, uint8_t *buf, size_t len)
{
    if (len < WIRE_RECORD_LEN) {
        return LP_E_SHORT;
    }
    lp_store32(buf, r->seq);
    lp_store16(buf + 4, r->send_errest);
    lp_store16(buf + 6, r->recv_errest);
    lp_store64(buf + 8, r->send_ts);
    lp_store64(buf + 16, r->recv_ts);
    buf[24] = r->ttl;
    return WIRE_RECORD_LEN;
}

int wire_record_decode(const uint8_t *buf, size_t len, struct wire_record *r)
{
    if (len < WIRE_RECORD_LEN) {
        return LP_E_SHORT;
    }
    r->seq = lp_load32(buf);
    r->send_errest = lp_load16(buf + 4);
    r->recv_errest = lp_load16(buf + 6);
    r->send_ts = lp_load64(buf + 8);
    r->recv_ts = lp_load64(buf + 16);
    r->ttl = buf[24];
    return WIRE_RECORD_LEN;
}

/* Octets of zero padding after n records. */
static size_t records_pad(uint32_t n)
{
    size_t used = (size_t)n * WIRE_RECORD_LEN;

    return wire_round16(used) - used;
}

int wire_records_tail_decode(const uint8_t *buf, size_t len, uint32_t n,
                             uint8_t hmac[WIRE_HMAC_LEN])
{
    size_t pad = records_pad(n);

    if (len < pad + WIRE_HMAC_LEN) {
        return LP_E_SHORT;
    }
    if (!wire_mbz_ok(buf, 0, pad)) {
        return LP_E_MBZ;
    }
    memcpy(hmac, buf + pad, WIRE_HMAC_LEN);
    return (int)(pad + WIRE_HMAC_LEN);
}

int wire_records_section_encode(const struct wire_records_section *s, uint8_t *buf, size_t len)
{
    size_t need = wire_fetch_records_len(s->n), off = 0;

    if (need > (size_t)INT32_MAX) {
        return LP_E_LEN;
    }
    if (len < need) {
        return LP_E_SHORT;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        off += (size_t)wire_record_encode(&s->crec[i], buf + off, len - off);
    }
    memset(buf + off, 0, records_pad(s->n));
    memcpy(buf + need - WIRE_HMAC_LEN, s->hmac, WIRE_HMAC_LEN);
    return (int)need;
}

int wire_records_section_decode(const uint8_t *buf, size_t len, struct wire_records_section *s)
{
    size_t need = wire_fetch_records_len(s->n), used = (size_t)s->n * WIRE_RECORD_LEN;

    if (need > (size_t)INT32_MAX) {
        return LP_E_LEN;
    }
    if (len < need) {
        return LP_E_SHORT;
    }
    if (wire_records_tail_decode(buf + used, len - used, s->n, s->hmac) < 0) {
        return LP_E_MBZ;
    }
    for (uint32_t i = 0; s->rec != NULL && i < s->n; i++) {
        wire_record_decode(buf + (size_t)i * WIRE_RECORD_LEN, WIRE_RECORD_LEN, &s->rec[i]);
    }
    return (int)need;
}
