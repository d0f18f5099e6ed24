/* fuzz_wire_pkt.c - libFuzzer harness for the test-packet decoders of wire.h: OWAMP/TWAMP
 * sender and reflector packets in every layout, STAMP sender and reflector packets, replies
 * as a Session-Sender reads them (wire_reply_decode), and the RFC 8972 TLV walk (iterator,
 * per-type decoders, sub-TLVs, wire_tlv_mark_malformed).
 *
 * Input: octet 0 picks the decoder, octets 1-4 the mode (any 32-bit value: the decoders
 * must refuse the impossible ones); the rest is the packet. A packet that decodes is encoded
 * again and must give back the same octets; the TLVs that follow a STAMP packet are walked
 * as a reflector would. */
#include "fuzz.h"
#include "wire.h"

static uint8_t re[65536 + 256];

static void same(const uint8_t *in, int n, int n2)
{
    FUZZ_CHECK(n2 == n);
    FUZZ_CHECK(memcmp(in, re, (size_t)n) == 0);
}

static void do_sender(const uint8_t *b, size_t len, uint32_t mode)
{
    struct wire_sender_pkt p;
    int n = wire_sender_decode(b, len, mode, &p);
    if (n > 0) {
        FUZZ_CHECK((size_t)n == len && p.pad + p.pad_len == b + len);
        same(b, n, wire_sender_encode(&p, mode, re, sizeof(re)));
    }
}

static void do_reflector(const uint8_t *b, size_t len, uint32_t mode)
{
    struct wire_reflector_pkt p;
    int n = wire_reflector_decode(b, len, mode, &p);
    if (n > 0) {
        FUZZ_CHECK((size_t)n == len && p.pad + p.pad_len == b + len);
        same(b, n, wire_reflector_encode(&p, mode, re, sizeof(re)));
    }
}

static void walk_tlvs(const uint8_t *b, size_t len, int depth);

/* The re-encoding of a typed TLV must give back its octets (COS: Reserved is written 0). */
static void same_tlv(const struct wire_tlv *t, int n, size_t reserved_off)
{
    uint8_t orig[WIRE_TLV_HDR_LEN + 65535];
    size_t len = WIRE_TLV_HDR_LEN + t->len;
    memcpy(orig, t->value - WIRE_TLV_HDR_LEN, len);
    if (reserved_off) {
        memset(orig + reserved_off, 0, 2);
    }
    same(orig, n, (int)len);
}

/* The per-type decoder of one TLV; Location and Timestamp Information carry sub-TLVs. */
static void decode_tlv(const struct wire_tlv *t, int depth)
{
    struct wire_tlv_location loc;
    struct wire_tlv_tsinfo ts;
    struct wire_tlv_cos cos;
    struct wire_tlv_direct dir;
    uint8_t hmac[WIRE_HMAC_LEN];

    if (wire_tlv_location_decode(t, &loc) == 0) {
        FUZZ_CHECK(t->type == WIRE_TLV_LOCATION);
        same_tlv(t, wire_tlv_location_encode(t->flags, &loc, re, sizeof(re)), 0);
        walk_tlvs(loc.sub, loc.sub_len, depth + 1);
    }
    if (wire_tlv_tsinfo_decode(t, &ts) == 0) {
        FUZZ_CHECK(t->type == WIRE_TLV_TIMESTAMP_INFO);
        same_tlv(t, wire_tlv_tsinfo_encode(t->flags, &ts, re, sizeof(re)), 0);
        walk_tlvs(ts.sub, ts.sub_len, depth + 1);
    }
    if (wire_tlv_cos_decode(t, &cos) == 0) {
        FUZZ_CHECK(t->type == WIRE_TLV_COS && cos.dscp1 < 64 && cos.dscp2 < 64 && cos.ecn < 4);
        same_tlv(t, wire_tlv_cos_encode(t->flags, &cos, re, sizeof(re)), WIRE_TLV_HDR_LEN + 2);
    }
    if (wire_tlv_direct_decode(t, &dir) == 0) {
        FUZZ_CHECK(t->type == WIRE_TLV_DIRECT);
        same_tlv(t, wire_tlv_direct_encode(t->flags, &dir, re, sizeof(re)), 0);
    }
    if (wire_tlv_hmac_decode(t, hmac) == 0) {
        FUZZ_CHECK(t->type == WIRE_TLV_HMAC);
        same_tlv(t, wire_tlv_hmac_encode(t->flags, hmac, re, sizeof(re)), 0);
    }
}

/* Walk a TLV area: every TLV lies inside it, offsets grow, and each re-encodes the same. */
static void walk_tlvs(const uint8_t *b, size_t len, int depth)
{
    struct wire_tlv_iter it;
    struct wire_tlv t;
    size_t prev_end = 0;
    int rc;

    if (depth > 4) {
        return;
    }
    wire_tlv_iter_init(&it, b, len);
    while ((rc = wire_tlv_next(&it, &t)) == 1) {
        FUZZ_CHECK(t.off >= prev_end && t.off + WIRE_TLV_HDR_LEN + t.len <= len);
        FUZZ_CHECK(t.value == b + t.off + WIRE_TLV_HDR_LEN);
        prev_end = t.off + WIRE_TLV_HDR_LEN + t.len;
        int n = wire_tlv_encode(t.flags, t.type, t.value, t.len, re, sizeof(re));
        same(b + t.off, n, WIRE_TLV_HDR_LEN + t.len);
        decode_tlv(&t, depth);
    }
    FUZZ_CHECK(rc == 0 || rc == LP_E_SHORT || rc == LP_E_LEN);
}

/* Reflector marking: only M flags may change, and only in TLV header octets. */
static void mark_tlvs(const uint8_t *b, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, b, len);
    int marked = wire_tlv_mark_malformed(copy, len);
    int changed = 0;
    FUZZ_CHECK(marked >= 0);
    for (size_t i = 0; i < len; i++) {
        FUZZ_CHECK((copy[i] & ~WIRE_TLV_F_M) == (b[i] & ~WIRE_TLV_F_M));
        changed += copy[i] != b[i];
    }
    FUZZ_CHECK(changed <= marked);
    /* Marking again changes nothing. */
    uint8_t *again = malloc(len ? len : 1);
    FUZZ_CHECK(again != NULL);
    memcpy(again, copy, len);
    wire_tlv_mark_malformed(again, len);
    FUZZ_CHECK(memcmp(again, copy, len) == 0);
    free(again);
    free(copy);
}

static void do_stamp_sender(const uint8_t *b, size_t len, uint32_t mode)
{
    struct wire_stamp_sender p;
    int n = wire_stamp_sender_decode(b, len, mode, &p);
    if (n > 0) {
        FUZZ_CHECK((size_t)n == len && p.tlvs + p.tlvs_len == b + len);
        same(b, n, wire_stamp_sender_encode(&p, mode, re, sizeof(re)));
        walk_tlvs(p.tlvs, p.tlvs_len, 0);
        mark_tlvs(p.tlvs, p.tlvs_len);
    }
}

static void do_stamp_reflector(const uint8_t *b, size_t len, uint32_t mode)
{
    struct wire_stamp_reflector p;
    int n = wire_stamp_reflector_decode(b, len, mode, &p);
    if (n > 0) {
        FUZZ_CHECK((size_t)n == len && p.tlvs + p.tlvs_len == b + len);
        same(b, n, wire_stamp_reflector_encode(&p, mode, re, sizeof(re)));
        walk_tlvs(p.tlvs, p.tlvs_len, 0);
    }
}

/* The liberal reply reader stays inside the packet and, on what the strict decoder takes,
 * reads the same fields. */
static void do_reply(const uint8_t *b, size_t len, uint32_t mode, bool stamp)
{
    struct wire_reply w;
    struct wire_reflector_pkt p;
    int n = wire_reply_decode(b, len, mode, stamp, &w);
    if (n <= 0) {
        return;
    }
    FUZZ_CHECK((size_t)n == len && w.r.pad + w.r.pad_len == b + len);
    if (!stamp && wire_reflector_decode(b, len, mode, &p) > 0) {
        FUZZ_CHECK(w.has_ttl && p.seq == w.r.seq && p.sender_seq == w.r.sender_seq &&
                   p.sender_ts == w.r.sender_ts && p.sender_ttl == w.r.sender_ttl);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t sel = fz_u8(&f);
    uint32_t mode = fz_u32(&f);
    if (size < 5 || size > 65536) {
        return 0;
    }
    /* Mostly one of the real modes, sometimes any 32-bit value. */
    if (!(sel & 0x80)) {
        mode = (1u << (mode % 4)) | (mode & WIRE_MODE_DSCP_ECN);
    }
    const uint8_t *b = f.p;
    size_t len = f.left;
    switch (sel & 7) {
    case 0: do_sender(b, len, mode); break;
    case 1: do_reflector(b, len, mode); break;
    case 2: do_stamp_sender(b, len, mode & 3); break;
    case 3: do_stamp_reflector(b, len, mode & 3); break;
    case 4: do_stamp_sender(b, len, mode); break;
    case 5: do_stamp_reflector(b, len, mode); break;
    case 6: do_reply(b, len, mode, (sel & 8) != 0); break;
    default:
        walk_tlvs(b, len, 0);
        mark_tlvs(b, len);
        break;
    }
    return 0;
}
