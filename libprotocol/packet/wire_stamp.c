/* wire_stamp.c - STAMP base packets (RFC 8762 with the RFC 8972 SSID) and the RFC 8972 TLVs. */
#include <string.h>

#include "wire.h"
#include "wire_int.h"

/* STAMP has an unauthenticated (0) and an authenticated (1) layout only. */
static int stamp_layout(uint32_t mode)
{
    if (mode == WIRE_MODE_OPEN) {
        return 0;
    }
    return mode == WIRE_MODE_AUTH ? 1 : LP_E_MODE;
}

static size_t stamp_base(int layout)
{
    return layout == 1 ? WIRE_STAMP_AUTH_LEN : WIRE_STAMP_OPEN_LEN;
}

/* Checks common to every STAMP encoder: mode, room for base + tail. */
static int stamp_room(int layout, size_t tail, size_t len)
{
    if (layout < 0) {
        return layout;
    }
    if (tail > (size_t)INT32_MAX - WIRE_STAMP_AUTH_LEN) {
        return LP_E_LEN;
    }
    return len < stamp_base(layout) + tail ? LP_E_SHORT : 0;
}

/* Checks common to every STAMP decoder. */
static int stamp_fits(int layout, size_t len)
{
    if (layout < 0) {
        return layout;
    }
    if (len < stamp_base(layout)) {
        return LP_E_SHORT;
    }
    return len > (size_t)INT32_MAX ? LP_E_LEN : 0;
}

/* ------------------------------------------------------------- Session-Sender */

static const struct wire_span SENDER_MBZ[2][2] = {
    {{16, 28}, {0, 0}},
    {{4, 12}, {28, 68}},
};

int wire_stamp_sender_encode(const struct wire_stamp_sender *p, uint32_t mode, uint8_t *buf,
                             size_t len)
{
    int layout = stamp_layout(mode);
    int rc = stamp_room(layout, p->tlvs_len, len);
    size_t base;

    if (rc != 0) {
        return rc;
    }
    base = stamp_base(layout);
    memset(buf, 0, base);
    lp_store32(buf, p->seq);
    lp_store64(buf + (layout == 1 ? 16 : 4), p->ts);
    lp_store16(buf + (layout == 1 ? 24 : 12), p->errest);
    lp_store16(buf + (layout == 1 ? 26 : 14), p->ssid);
    if (layout == 1) {
        memcpy(buf + WIRE_STAMP_AUTH_HMAC_OFF, p->hmac, WIRE_HMAC_LEN);
    }
    wire_put_tail(buf + base, p->tlvs, p->tlvs_len);
    return (int)(base + p->tlvs_len);
}

int wire_stamp_sender_decode(const uint8_t *buf, size_t len, uint32_t mode,
                             struct wire_stamp_sender *p)
{
    int layout = stamp_layout(mode);
    int rc = stamp_fits(layout, len);
    size_t base;

    if (rc != 0) {
        return rc;
    }
    if (!wire_spans_zero(buf, SENDER_MBZ[layout], 2)) {
        return LP_E_MBZ;
    }
    base = stamp_base(layout);
    memset(p, 0, sizeof(*p));
    p->seq = lp_load32(buf);
    p->ts = lp_load64(buf + (layout == 1 ? 16 : 4));
    p->errest = lp_load16(buf + (layout == 1 ? 24 : 12));
    p->ssid = lp_load16(buf + (layout == 1 ? 26 : 14));
    if (layout == 1) {
        memcpy(p->hmac, buf + WIRE_STAMP_AUTH_HMAC_OFF, WIRE_HMAC_LEN);
    }
    p->tlvs = buf + base;
    p->tlvs_len = len - base;
    return (int)len;
}

/* ---------------------------------------------------------- Session-Reflector */

static const struct wire_span REFL_OPEN_MBZ[] = {{38, 2}, {41, 3}};
static const struct wire_span REFL_AUTH_MBZ[] = {{4, 12},  {28, 4}, {40, 8},
                                                 {52, 12}, {74, 6}, {81, 15}};

int wire_stamp_reflector_encode(const struct wire_stamp_reflector *p, uint32_t mode, uint8_t *buf,
                                size_t len)
{
    int layout = stamp_layout(mode);
    int rc = stamp_room(layout, p->tlvs_len, len);
    struct wire_refl_common c = {p->seq,        p->ts,        p->errest,        p->recv_ts,
                                 p->sender_seq, p->sender_ts, p->sender_errest, p->sender_ttl};
    size_t base;

    if (rc != 0) {
        return rc;
    }
    base = stamp_base(layout);
    memset(buf, 0, base);
    wire_refl_put(buf, layout, &c);
    lp_store16(buf + (layout == 1 ? 26 : 14), p->ssid);
    if (layout == 1) {
        memcpy(buf + WIRE_STAMP_AUTH_HMAC_OFF, p->hmac, WIRE_HMAC_LEN);
    }
    wire_put_tail(buf + base, p->tlvs, p->tlvs_len);
    return (int)(base + p->tlvs_len);
}

int wire_stamp_reflector_decode(const uint8_t *buf, size_t len, uint32_t mode,
                                struct wire_stamp_reflector *p)
{
    int layout = stamp_layout(mode);
    int rc = stamp_fits(layout, len);
    struct wire_refl_common c;
    size_t base;
    bool mbz_ok;

    if (rc != 0) {
        return rc;
    }
    mbz_ok = layout == 1 ? wire_spans_zero(buf, REFL_AUTH_MBZ, LP_ARRAY_LEN(REFL_AUTH_MBZ))
                         : wire_spans_zero(buf, REFL_OPEN_MBZ, LP_ARRAY_LEN(REFL_OPEN_MBZ));
    if (!mbz_ok) {
        return LP_E_MBZ;
    }
    base = stamp_base(layout);
    wire_refl_get(buf, layout, &c);
    memset(p, 0, sizeof(*p));
    p->seq = c.seq;
    p->ts = c.ts;
    p->errest = c.errest;
    p->ssid = lp_load16(buf + (layout == 1 ? 26 : 14));
    p->recv_ts = c.recv_ts;
    p->sender_seq = c.sender_seq;
    p->sender_ts = c.sender_ts;
    p->sender_errest = c.sender_errest;
    p->sender_ttl = c.sender_ttl;
    if (layout == 1) {
        memcpy(p->hmac, buf + WIRE_STAMP_AUTH_HMAC_OFF, WIRE_HMAC_LEN);
    }
    p->tlvs = buf + base;
    p->tlvs_len = len - base;
    return (int)len;
}

/* ------------------------------------------------------------------------ TLVs */

void wire_tlv_iter_init(struct wire_tlv_iter *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = len;
    it->off = 0;
}

int wire_tlv_next(struct wire_tlv_iter *it, struct wire_tlv *t)
{
    size_t left = it->len - it->off;
    const uint8_t *p = it->buf + it->off;
    uint16_t vlen;

    if (left == 0) {
        return 0;
    }
    if (left < WIRE_TLV_HDR_LEN) {
        return LP_E_SHORT;
    }
    vlen = lp_load16(p + 2);
    if (vlen > left - WIRE_TLV_HDR_LEN) {
        return LP_E_LEN;
    }
    t->flags = p[0];
    t->type = p[1];
    t->len = vlen;
    t->value = p + WIRE_TLV_HDR_LEN;
    t->off = it->off;
    it->off += WIRE_TLV_HDR_LEN + vlen;
    return 1;
}

/* Value lengths the known types allow (RFC 8972 §4). */
static bool tlv_len_ok(uint8_t type, uint16_t len)
{
    switch (type) {
    case WIRE_TLV_LOCATION:
    case WIRE_TLV_TIMESTAMP_INFO: return len >= 4;
    case WIRE_TLV_COS:
    case WIRE_TLV_ACCESS_REPORT: return len == 4;
    case WIRE_TLV_DIRECT: return len == 12;
    case WIRE_TLV_FOLLOW_UP:
    case WIRE_TLV_HMAC: return len == 16;
    default: return true;
    }
}

int wire_tlv_mark_malformed(uint8_t *buf, size_t len)
{
    struct wire_tlv_iter it;
    struct wire_tlv t;
    int marked = 0, rc;

    wire_tlv_iter_init(&it, buf, len);
    while ((rc = wire_tlv_next(&it, &t)) == 1) {
        if (!tlv_len_ok(t.type, t.len)) {
            buf[t.off] |= WIRE_TLV_F_M;
            marked++;
        }
    }
    if (rc < 0) {
        buf[it.off] |= WIRE_TLV_F_M;
        marked++;
    }
    return marked;
}

/* Write a TLV header for a vlen-octet value; the TLV's total length or LP_E_*. */
static int tlv_hdr(uint8_t flags, uint8_t type, size_t vlen, uint8_t *buf, size_t len)
{
    if (vlen > UINT16_MAX) {
        return LP_E_LEN;
    }
    if (len < WIRE_TLV_HDR_LEN + vlen) {
        return LP_E_SHORT;
    }
    buf[0] = flags;
    buf[1] = type;
    lp_store16(buf + 2, (uint16_t)vlen);
    return (int)(WIRE_TLV_HDR_LEN + vlen);
}

int wire_tlv_encode(uint8_t flags, uint8_t type, const uint8_t *value, size_t vlen, uint8_t *buf,
                    size_t len)
{
    int rc = tlv_hdr(flags, type, vlen, buf, len);

    if (rc > 0) {
        wire_put_tail(buf + WIRE_TLV_HDR_LEN, value, vlen);
    }
    return rc;
}

/* A decoder's check of a TLV handed to it: its type and a length in [min, max]. */
static int tlv_expect(const struct wire_tlv *t, uint8_t type, size_t min, size_t max)
{
    if (t->type != type) {
        return LP_E_VALUE;
    }
    return t->len < min || t->len > max ? LP_E_LEN : 0;
}

int wire_tlv_location_encode(uint8_t flags, const struct wire_tlv_location *l, uint8_t *buf,
                             size_t len)
{
    int rc = tlv_hdr(flags, WIRE_TLV_LOCATION, 4 + l->sub_len, buf, len);

    if (rc > 0) {
        lp_store16(buf + 4, l->dst_port);
        lp_store16(buf + 6, l->src_port);
        wire_put_tail(buf + 8, l->sub, l->sub_len);
    }
    return rc;
}

int wire_tlv_location_decode(const struct wire_tlv *t, struct wire_tlv_location *l)
{
    int rc = tlv_expect(t, WIRE_TLV_LOCATION, 4, UINT16_MAX);

    if (rc != 0) {
        return rc;
    }
    l->dst_port = lp_load16(t->value);
    l->src_port = lp_load16(t->value + 2);
    l->sub = t->value + 4;
    l->sub_len = t->len - 4u;
    return 0;
}

int wire_tlv_tsinfo_encode(uint8_t flags, const struct wire_tlv_tsinfo *ts, uint8_t *buf,
                           size_t len)
{
    int rc = tlv_hdr(flags, WIRE_TLV_TIMESTAMP_INFO, 4 + ts->sub_len, buf, len);

    if (rc > 0) {
        buf[4] = ts->sync_in;
        buf[5] = ts->method_in;
        buf[6] = ts->sync_out;
        buf[7] = ts->method_out;
        wire_put_tail(buf + 8, ts->sub, ts->sub_len);
    }
    return rc;
}

int wire_tlv_tsinfo_decode(const struct wire_tlv *t, struct wire_tlv_tsinfo *ts)
{
    int rc = tlv_expect(t, WIRE_TLV_TIMESTAMP_INFO, 4, UINT16_MAX);

    if (rc != 0) {
        return rc;
    }
    ts->sync_in = t->value[0];
    ts->method_in = t->value[1];
    ts->sync_out = t->value[2];
    ts->method_out = t->value[3];
    ts->sub = t->value + 4;
    ts->sub_len = t->len - 4u;
    return 0;
}

int wire_tlv_cos_encode(uint8_t flags, const struct wire_tlv_cos *c, uint8_t *buf, size_t len)
{
    int rc;

    if (c->dscp1 > 63 || c->dscp2 > 63 || c->ecn > 3 || c->rp > 3) {
        return LP_E_VALUE;
    }
    rc = tlv_hdr(flags, WIRE_TLV_COS, 4, buf, len);
    if (rc > 0) {
        lp_store16(buf + 4, (uint16_t)(c->dscp1 << 10 | c->dscp2 << 4 | c->ecn << 2 | c->rp));
        lp_store16(buf + 6, 0);
    }
    return rc;
}

int wire_tlv_cos_decode(const struct wire_tlv *t, struct wire_tlv_cos *c)
{
    int rc = tlv_expect(t, WIRE_TLV_COS, 4, 4);
    uint16_t v;

    if (rc != 0) {
        return rc;
    }
    v = lp_load16(t->value);
    c->dscp1 = (uint8_t)(v >> 10);
    c->dscp2 = (uint8_t)((v >> 4) & 0x3fu);
    c->ecn = (uint8_t)((v >> 2) & 0x3u);
    c->rp = (uint8_t)(v & 0x3u);
    c->reserved = lp_load16(t->value + 2);
    return 0;
}

int wire_tlv_direct_encode(uint8_t flags, const struct wire_tlv_direct *d, uint8_t *buf, size_t len)
{
    int rc = tlv_hdr(flags, WIRE_TLV_DIRECT, 12, buf, len);

    if (rc > 0) {
        lp_store32(buf + 4, d->s_tx);
        lp_store32(buf + 8, d->r_rx);
        lp_store32(buf + 12, d->r_tx);
    }
    return rc;
}

int wire_tlv_direct_decode(const struct wire_tlv *t, struct wire_tlv_direct *d)
{
    int rc = tlv_expect(t, WIRE_TLV_DIRECT, 12, 12);

    if (rc != 0) {
        return rc;
    }
    d->s_tx = lp_load32(t->value);
    d->r_rx = lp_load32(t->value + 4);
    d->r_tx = lp_load32(t->value + 8);
    return 0;
}

int wire_tlv_hmac_encode(uint8_t flags, const uint8_t hmac[WIRE_HMAC_LEN], uint8_t *buf, size_t len)
{
    return wire_tlv_encode(flags, WIRE_TLV_HMAC, hmac, WIRE_HMAC_LEN, buf, len);
}

int wire_tlv_hmac_decode(const struct wire_tlv *t, uint8_t hmac[WIRE_HMAC_LEN])
{
    int rc = tlv_expect(t, WIRE_TLV_HMAC, WIRE_HMAC_LEN, WIRE_HMAC_LEN);

    if (rc == 0) {
        memcpy(hmac, t->value, WIRE_HMAC_LEN);
    }
    return rc;
}
