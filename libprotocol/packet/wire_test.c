/* wire_test.c - OWAMP-Test and TWAMP-Test packets (RFC 4656 §4.1.2, RFC 5357 §4.2.1,
 * RFC 7750) in their unauthenticated and authenticated/encrypted layouts. */
#include <string.h>

#include "wire.h"
#include "wire_int.h"

int wire_test_layout(uint32_t mode)
{
    uint32_t sec = mode & WIRE_MODE_SECURITY;

    if (sec == 0 || (sec & (sec - 1)) != 0) {
        return LP_E_MODE;
    }
    return sec == WIRE_MODE_AUTH || sec == WIRE_MODE_ENC ? 1 : 0;
}

int wire_test_set_ts(uint8_t *buf, size_t len, uint32_t mode, uint64_t ts, uint16_t errest)
{
    int layout = wire_test_layout(mode);
    size_t at = layout == 1 ? 16 : 4;

    if (layout < 0) {
        return layout;
    }
    if (len < at + 10) {
        return LP_E_SHORT;
    }
    lp_store64(buf + at, ts);
    lp_store16(buf + at + 8, errest);
    return 0;
}

/* Total length of base plus tail, or LP_E_LEN when it would not fit an int. */
static long packet_len(size_t base, size_t tail)
{
    return tail > (size_t)INT32_MAX - base ? LP_E_LEN : (long)(base + tail);
}

/* ---------------------------------------------------------------- sender packets */

static const struct wire_span SENDER_AUTH_MBZ[] = {{4, 12}, {26, 6}};

int wire_sender_encode(const struct wire_sender_pkt *p, uint32_t mode, uint8_t *buf, size_t len)
{
    int layout = wire_test_layout(mode);
    size_t base = layout == 1 ? WIRE_SENDER_AUTH_LEN : WIRE_SENDER_OPEN_LEN;
    long total = packet_len(base, p->pad_len);

    if (layout < 0) {
        return layout;
    }
    if (total < 0) {
        return (int)total;
    }
    if (len < (size_t)total) {
        return LP_E_SHORT;
    }
    memset(buf, 0, base);
    lp_store32(buf, p->seq);
    lp_store64(buf + (layout == 1 ? 16 : 4), p->ts);
    lp_store16(buf + (layout == 1 ? 24 : 12), p->errest);
    if (layout == 1) {
        memcpy(buf + WIRE_SENDER_AUTH_HMAC_OFF, p->hmac, WIRE_HMAC_LEN);
    }
    wire_put_tail(buf + base, p->pad, p->pad_len);
    return (int)total;
}

int wire_sender_decode(const uint8_t *buf, size_t len, uint32_t mode, struct wire_sender_pkt *p)
{
    int layout = wire_test_layout(mode);
    size_t base = layout == 1 ? WIRE_SENDER_AUTH_LEN : WIRE_SENDER_OPEN_LEN;

    if (layout < 0) {
        return layout;
    }
    if (len < base) {
        return LP_E_SHORT;
    }
    if (len > (size_t)INT32_MAX) {
        return LP_E_LEN;
    }
    if (layout == 1 && !wire_spans_zero(buf, SENDER_AUTH_MBZ, LP_ARRAY_LEN(SENDER_AUTH_MBZ))) {
        return LP_E_MBZ;
    }
    memset(p->hmac, 0, WIRE_HMAC_LEN);
    p->seq = lp_load32(buf);
    p->ts = lp_load64(buf + (layout == 1 ? 16 : 4));
    p->errest = lp_load16(buf + (layout == 1 ? 24 : 12));
    if (layout == 1) {
        memcpy(p->hmac, buf + WIRE_SENDER_AUTH_HMAC_OFF, WIRE_HMAC_LEN);
    }
    p->pad = buf + base;
    p->pad_len = len - base;
    return (int)len;
}

/* ------------------------------------------------------------ reflector packets */

/* Where the shared reflector fields sit, per layout. */
struct refl_pos {
    uint8_t ts, errest, recv_ts, sender_seq, sender_ts, sender_errest, ttl;
};

static const struct refl_pos REFL_POS[2] = {
    {4, 12, 16, 24, 28, 36, 40},
    {16, 24, 32, 48, 64, 72, 80},
};

void wire_refl_put(uint8_t *buf, int layout, const struct wire_refl_common *c)
{
    const struct refl_pos *at = &REFL_POS[layout];

    lp_store32(buf, c->seq);
    lp_store64(buf + at->ts, c->ts);
    lp_store16(buf + at->errest, c->errest);
    lp_store64(buf + at->recv_ts, c->recv_ts);
    lp_store32(buf + at->sender_seq, c->sender_seq);
    lp_store64(buf + at->sender_ts, c->sender_ts);
    lp_store16(buf + at->sender_errest, c->sender_errest);
    buf[at->ttl] = c->sender_ttl;
}

void wire_refl_get(const uint8_t *buf, int layout, struct wire_refl_common *c)
{
    const struct refl_pos *at = &REFL_POS[layout];

    c->seq = lp_load32(buf);
    c->ts = lp_load64(buf + at->ts);
    c->errest = lp_load16(buf + at->errest);
    c->recv_ts = lp_load64(buf + at->recv_ts);
    c->sender_seq = lp_load32(buf + at->sender_seq);
    c->sender_ts = lp_load64(buf + at->sender_ts);
    c->sender_errest = lp_load16(buf + at->sender_errest);
    c->sender_ttl = buf[at->ttl];
}

/* MBZ runs of the TWAMP reflector layouts; the last authenticated run loses its first
 * octet to Sender DSCP and ECN under RFC 7750. */
static const struct wire_span REFL_OPEN_MBZ[] = {{14, 2}, {38, 2}};
static const struct wire_span REFL_AUTH_MBZ[] = {{4, 12},  {26, 6}, {40, 8},
                                                 {52, 12}, {74, 6}, {81, 15}};
static const struct wire_span REFL_AUTH_ECN_MBZ[] = {{4, 12},  {26, 6}, {40, 8},
                                                     {52, 12}, {74, 6}, {82, 14}};

static bool refl_mbz_ok(const uint8_t *buf, int layout, bool ecn)
{
    if (layout == 0) {
        return wire_spans_zero(buf, REFL_OPEN_MBZ, LP_ARRAY_LEN(REFL_OPEN_MBZ));
    }
    if (ecn) {
        return wire_spans_zero(buf, REFL_AUTH_ECN_MBZ, LP_ARRAY_LEN(REFL_AUTH_ECN_MBZ));
    }
    return wire_spans_zero(buf, REFL_AUTH_MBZ, LP_ARRAY_LEN(REFL_AUTH_MBZ));
}

/* Base length of a TWAMP reflector packet. */
static size_t refl_base(int layout, bool ecn)
{
    if (layout == 1) {
        return WIRE_REFLECTOR_AUTH_LEN;
    }
    return WIRE_REFLECTOR_OPEN_LEN + (ecn ? 1 : 0);
}

int wire_reflector_encode(const struct wire_reflector_pkt *p, uint32_t mode, uint8_t *buf,
                          size_t len)
{
    int layout = wire_test_layout(mode);
    bool ecn = (mode & WIRE_MODE_DSCP_ECN) != 0;
    size_t base = refl_base(layout, ecn);
    long total = packet_len(base, p->pad_len);
    struct wire_refl_common c = {p->seq,        p->ts,        p->errest,        p->recv_ts,
                                 p->sender_seq, p->sender_ts, p->sender_errest, p->sender_ttl};

    if (layout < 0) {
        return layout;
    }
    if (total < 0) {
        return (int)total;
    }
    if (len < (size_t)total) {
        return LP_E_SHORT;
    }
    memset(buf, 0, base);
    wire_refl_put(buf, layout, &c);
    if (ecn) {
        buf[REFL_POS[layout].ttl + 1] = p->sender_dscp_ecn;
    }
    if (layout == 1) {
        memcpy(buf + WIRE_REFLECTOR_AUTH_HMAC_OFF, p->hmac, WIRE_HMAC_LEN);
    }
    wire_put_tail(buf + base, p->pad, p->pad_len);
    return (int)total;
}

/* The shared fields into p; everything else of p zero. */
static void refl_fields(const struct wire_refl_common *c, struct wire_reflector_pkt *p)
{
    memset(p, 0, sizeof(*p));
    p->seq = c->seq;
    p->ts = c->ts;
    p->errest = c->errest;
    p->recv_ts = c->recv_ts;
    p->sender_seq = c->sender_seq;
    p->sender_ts = c->sender_ts;
    p->sender_errest = c->sender_errest;
    p->sender_ttl = c->sender_ttl;
}

int wire_reflector_decode(const uint8_t *buf, size_t len, uint32_t mode,
                          struct wire_reflector_pkt *p)
{
    int layout = wire_test_layout(mode);
    bool ecn = (mode & WIRE_MODE_DSCP_ECN) != 0;
    size_t base = refl_base(layout, ecn);
    struct wire_refl_common c;

    if (layout < 0) {
        return layout;
    }
    if (len < base) {
        return LP_E_SHORT;
    }
    if (len > (size_t)INT32_MAX) {
        return LP_E_LEN;
    }
    if (!refl_mbz_ok(buf, layout, ecn)) {
        return LP_E_MBZ;
    }
    wire_refl_get(buf, layout, &c);
    refl_fields(&c, p);
    p->sender_dscp_ecn = ecn ? buf[REFL_POS[layout].ttl + 1] : 0;
    if (layout == 1) {
        memcpy(p->hmac, buf + WIRE_REFLECTOR_AUTH_HMAC_OFF, WIRE_HMAC_LEN);
    }
    p->pad = buf + base;
    p->pad_len = len - base;
    return (int)len;
}

/* ------------------------------------------------------ replies, read liberally */

/* Base length of a reply layout. */
static size_t reply_base(int layout, bool stamp, bool ecn)
{
    if (stamp) {
        return layout == 1 ? WIRE_STAMP_AUTH_LEN : WIRE_STAMP_OPEN_LEN;
    }
    return refl_base(layout, ecn);
}

int wire_reply_decode(const uint8_t *buf, size_t len, uint32_t mode, bool stamp,
                      struct wire_reply *out)
{
    int layout = wire_test_layout(mode);
    bool ecn = !stamp && (mode & WIRE_MODE_DSCP_ECN) != 0;
    uint8_t head[WIRE_STAMP_OPEN_LEN] = {0}; /* a short reply, zero-extended */
    struct wire_refl_common c;

    if (layout < 0) {
        return layout;
    }
    size_t base = reply_base(layout, stamp, ecn), ttl_at = REFL_POS[layout].ttl;
    if (len < (layout == 1 ? base : WIRE_REPLY_MIN_LEN)) {
        return LP_E_SHORT;
    }
    if (len > (size_t)INT32_MAX) {
        return LP_E_LEN;
    }
    const uint8_t *p = buf;
    if (len < base) {
        memcpy(head, buf, len);
        p = head;
    }
    wire_refl_get(p, layout, &c);
    memset(out, 0, sizeof(*out));
    refl_fields(&c, &out->r);
    out->ssid = lp_load16(p + (layout == 1 ? 26 : 14));
    out->has_ttl = len > ttl_at;
    out->has_dscp_ecn = ecn && len > ttl_at + 1;
    out->r.sender_dscp_ecn = out->has_dscp_ecn ? p[ttl_at + 1] : 0;
    if (layout == 1) {
        memcpy(out->r.hmac, buf + WIRE_REFLECTOR_AUTH_HMAC_OFF, WIRE_HMAC_LEN);
    }
    out->r.pad = buf + (len > base ? base : len);
    out->r.pad_len = len > base ? len - base : 0;
    return (int)len;
}
