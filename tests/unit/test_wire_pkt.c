/* test_wire_pkt.c - wire test packets: OWAMP/TWAMP sender and reflector packets in both
 * layouts (bytes from the ../shared/interop pcaps, authenticated ones with the decrypted
 * first block the decoded.txt files give), RFC 7750, STAMP base packets and RFC 8972 TLVs
 * (vectors written field by field from the RFC figures), malformed inputs, and replies as a
 * Session-Sender reads them (liberally). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "wire.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;

    assert_int_equal(strlen(s) % 2, 0);
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static uint32_t ntp_usec(uint64_t raw)
{
    return (uint32_t)(((raw & 0xffffffffu) * 1000000u + 0x80000000u) >> 32);
}

/* owamp-open.pcap, 18736 -> 8873: seq=0 ts=4004746912.198164 err mult=1, no padding. */
static const char OW_OPEN_PKT[] = "00000000eeb396a032bae03b0001";

/* owamp-auth.pcap, 18723 -> 8818, seq=0: its first block (AES-ECB) replaced by the
 * plaintext the dump gives (seq 0, MBZ); ts=4004746934.369697; HMAC@32. */
static const char OW_AUTH_PKT[] = "00000000000000000000000000000000"
                                  "eeb396b65ea4766c0001000000000000"
                                  "90c0d7384b48968745b9a06395c80c0e";

/* twamp-open.pcap: sender 9617 -> 18811 (27 octets of random padding) and its reflection. */
static const char TW_OPEN_SENDER[] = "00000000eeb397756fee6fb40001"
                                     "e519fe8fbd31fb90adad592183fb95da5b50681458c53992984e4e";
static const char TW_OPEN_REFL[] = "00000000eeb397756ff38c5400010000eeb397756ff2d3c7"
                                   "00000000eeb397756fee6fb400010000ff";

/* twamp-auth.pcap, seq 0 sender (64 octets of padding) and reflector, first block
 * decrypted as above. */
static const char TW_AUTH_SENDER[] =
    "00000000000000000000000000000000"
    "eeb3977aeec0e7bc0001000000000000"
    "5474f30716dbfbbe1d80423052acd8c3"
    "e3bb109c0cf76bb7e1a7dd2ccfca1d046ad070dbdb2528d3858f45ee74810028"
    "9534a54c9708bff3bb91443d8a653eb7c1bb9e3ba1a9fee12b4fc3acc46f191f";
static const char TW_AUTH_REFL[] = "00000000000000000000000000000000"
                                   "eeb3977aeec508b30001000000000000"
                                   "eeb3977aeec3c9ee0000000000000000"
                                   "00000000000000000000000000000000"
                                   "eeb3977aeec0e7bc0001000000000000"
                                   "ff000000000000000000000000000000"
                                   "5474f30716dbfbbe1d80423052acd8c3";

/* ----------------------------------------------------- OWAMP/TWAMP vectors */

static void test_sender_vectors(void **state)
{
    uint8_t buf[128], out[128];
    struct wire_sender_pkt p;
    size_t n;

    (void)state;
    n = unhex(OW_OPEN_PKT, buf, sizeof(buf));
    assert_int_equal(wire_sender_decode(buf, n, WIRE_MODE_OPEN, &p), 14);
    assert_int_equal(p.seq, 0);
    assert_int_equal(p.ts >> 32, 4004746912u);
    assert_int_equal(ntp_usec(p.ts), 198164);
    assert_int_equal(p.errest, 0x0001); /* S=0 Z=0 scale=0 mult=1 */
    assert_int_equal(p.pad_len, 0);
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_OPEN, out, sizeof(out)), 14);
    assert_memory_equal(out, buf, n);

    n = unhex(OW_AUTH_PKT, buf, sizeof(buf));
    assert_int_equal(wire_sender_decode(buf, n, WIRE_MODE_AUTH, &p), 48);
    assert_int_equal(p.seq, 0);
    assert_int_equal(p.ts >> 32, 4004746934u);
    assert_int_equal(ntp_usec(p.ts), 369697);
    assert_int_equal(p.errest, 1);
    assert_int_equal(p.hmac[0], 0x90);
    assert_int_equal(p.hmac[15], 0x0e);
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_AUTH, out, sizeof(out)), 48);
    assert_memory_equal(out, buf, n);

    /* TWAMP sender, open: 14 + 27 padding, reproduced from the view. */
    n = unhex(TW_OPEN_SENDER, buf, sizeof(buf));
    assert_int_equal(wire_sender_decode(buf, n, WIRE_MODE_OPEN, &p), 41);
    assert_int_equal(ntp_usec(p.ts), 437232);
    assert_int_equal(p.pad_len, 27);
    assert_ptr_equal(p.pad, buf + 14);
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_OPEN, out, sizeof(out)), 41);
    assert_memory_equal(out, buf, n);
    /* Mixed mode (RFC 5618) uses the open layout. */
    assert_int_equal(wire_sender_decode(buf, n, WIRE_MODE_MIXED, &p), 41);

    /* TWAMP sender, authenticated: 48 + 64 so that it matches the 112-octet reflection. */
    n = unhex(TW_AUTH_SENDER, buf, sizeof(buf));
    assert_int_equal(wire_sender_decode(buf, n, WIRE_MODE_ENC, &p), 112);
    assert_int_equal(ntp_usec(p.ts), 932631);
    assert_int_equal(p.pad_len, 64);
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_ENC, out, sizeof(out)), 112);
    assert_memory_equal(out, buf, n);
}

static void test_reflector_vectors(void **state)
{
    uint8_t buf[128], out[128];
    struct wire_reflector_pkt p;
    size_t n;

    (void)state;
    /* twamp-open: ts=...437310 recv=...437299 sender-seq=0 sender-ts=...437232 ttl=255 */
    n = unhex(TW_OPEN_REFL, buf, sizeof(buf));
    assert_int_equal(wire_reflector_decode(buf, n, WIRE_MODE_OPEN, &p), 41);
    assert_int_equal(p.seq, 0);
    assert_int_equal(p.ts >> 32, 4004747125u);
    assert_int_equal(ntp_usec(p.ts), 437310);
    assert_int_equal(p.errest, 1);
    assert_int_equal(ntp_usec(p.recv_ts), 437299);
    assert_int_equal(p.sender_seq, 0);
    assert_int_equal(ntp_usec(p.sender_ts), 437232);
    assert_int_equal(p.sender_errest, 1);
    assert_int_equal(p.sender_ttl, 255);
    assert_int_equal(p.pad_len, 0);
    assert_int_equal(wire_reflector_encode(&p, WIRE_MODE_OPEN, out, sizeof(out)), 41);
    assert_memory_equal(out, buf, n);

    /* twamp-auth: ts=...932694 recv=...932675 sender-ts=...932631, HMAC@96, mbz-ok */
    n = unhex(TW_AUTH_REFL, buf, sizeof(buf));
    assert_int_equal(wire_reflector_decode(buf, n, WIRE_MODE_AUTH, &p), 112);
    assert_int_equal(ntp_usec(p.ts), 932694);
    assert_int_equal(ntp_usec(p.recv_ts), 932675);
    assert_int_equal(p.sender_seq, 0);
    assert_int_equal(ntp_usec(p.sender_ts), 932631);
    assert_int_equal(p.sender_ttl, 255);
    assert_int_equal(p.hmac[0], 0x54);
    assert_int_equal(p.hmac[15], 0xc3);
    assert_int_equal(wire_reflector_encode(&p, WIRE_MODE_AUTH, out, sizeof(out)), 112);
    assert_memory_equal(out, buf, n);
}

static void test_reflector_dscp_ecn(void **state)
{
    uint8_t buf[128], pad[5] = {1, 2, 3, 4, 5};
    struct wire_reflector_pkt p = {.seq = 9,
                                   .sender_ttl = 64,
                                   .sender_dscp_ecn = 46 << 2 | 1,
                                   .pad = pad,
                                   .pad_len = sizeof(pad)},
                              q;
    uint32_t open = WIRE_MODE_OPEN | WIRE_MODE_DSCP_ECN, auth = WIRE_MODE_AUTH | WIRE_MODE_DSCP_ECN;

    (void)state;
    /* RFC 7750: the octet after Sender TTL. */
    assert_int_equal(wire_reflector_encode(&p, open, buf, sizeof(buf)), 42 + 5);
    assert_int_equal(buf[40], 64);
    assert_int_equal(buf[41], 46 << 2 | 1);
    assert_int_equal(wire_reflector_decode(buf, 47, open, &q), 47);
    assert_int_equal(q.sender_dscp_ecn, 46 << 2 | 1);
    assert_int_equal(q.pad_len, 5);
    assert_memory_equal(q.pad, pad, 5);
    /* Without the mode the octet is padding. */
    assert_int_equal(wire_reflector_decode(buf, 47, WIRE_MODE_OPEN, &q), 47);
    assert_int_equal(q.sender_dscp_ecn, 0);
    assert_int_equal(q.pad_len, 6);

    assert_int_equal(wire_reflector_encode(&p, auth, buf, sizeof(buf)), 112 + 5);
    assert_int_equal(buf[80], 64);
    assert_int_equal(buf[81], 46 << 2 | 1);
    assert_int_equal(wire_reflector_decode(buf, 117, auth, &q), 117);
    assert_int_equal(q.sender_dscp_ecn, 46 << 2 | 1);
    /* ... and in the authenticated layout it is MBZ. */
    assert_int_equal(wire_reflector_decode(buf, 117, WIRE_MODE_AUTH, &q), LP_E_MBZ);
}

/* ----------------------------------------------------------------- STAMP */

/* RFC 8762 §4.2.1 / RFC 8972 §3: Seq 7, Timestamp, Error Estimate S=1 mult=1, SSID 0xbeef,
 * MBZ 28, then an Extra Padding TLV of 4 (U set, as a Session-Sender sends it). */
static const char STAMP_SENDER_OPEN[] = "00000007"
                                        "eeb3977aeec0e7bc"
                                        "8001"
                                        "beef"
                                        "00000000000000000000000000000000000000000000000000000000"
                                        "8001000400000000";

/* RFC 8762 §4.3.1 with the SSID: Seq 3, Timestamp, Error Estimate, SSID, Receive Timestamp,
 * Sender Seq 7, Sender Timestamp, Sender Error Estimate, MBZ 2, Sender TTL 255, MBZ 3. */
static const char STAMP_REFL_OPEN[] = "00000003"
                                      "eeb3977aeec508b3"
                                      "0001"
                                      "beef"
                                      "eeb3977aeec3c9ee"
                                      "00000007"
                                      "eeb3977aeec0e7bc"
                                      "8001"
                                      "0000"
                                      "ff"
                                      "000000";

static void test_stamp_vectors(void **state)
{
    uint8_t buf[160], out[160];
    struct wire_stamp_sender s;
    struct wire_stamp_reflector r;
    size_t n;

    (void)state;
    n = unhex(STAMP_SENDER_OPEN, buf, sizeof(buf));
    assert_int_equal(n, 44 + 8);
    assert_int_equal(wire_stamp_sender_decode(buf, n, WIRE_MODE_OPEN, &s), 52);
    assert_int_equal(s.seq, 7);
    assert_int_equal(s.ts, 0xeeb3977aeec0e7bcull);
    assert_int_equal(s.errest, WIRE_ERREST_S | 1);
    assert_int_equal(s.ssid, 0xbeef);
    assert_int_equal(s.tlvs_len, 8);
    assert_ptr_equal(s.tlvs, buf + 44);
    assert_int_equal(wire_stamp_sender_encode(&s, WIRE_MODE_OPEN, out, sizeof(out)), 52);
    assert_memory_equal(out, buf, n);

    n = unhex(STAMP_REFL_OPEN, buf, sizeof(buf));
    assert_int_equal(n, 44);
    assert_int_equal(wire_stamp_reflector_decode(buf, n, WIRE_MODE_OPEN, &r), 44);
    assert_int_equal(r.seq, 3);
    assert_int_equal(r.ssid, 0xbeef);
    assert_int_equal(r.recv_ts, 0xeeb3977aeec3c9eeull);
    assert_int_equal(r.sender_seq, 7);
    assert_int_equal(r.sender_ts, 0xeeb3977aeec0e7bcull);
    assert_int_equal(r.sender_errest, 0x8001);
    assert_int_equal(r.sender_ttl, 255);
    assert_int_equal(r.tlvs_len, 0);
    assert_int_equal(wire_stamp_reflector_encode(&r, WIRE_MODE_OPEN, out, sizeof(out)), 44);
    assert_memory_equal(out, buf, n);

    /* Authenticated (RFC 8762 §4.2.2, §4.3.2): 112 octets, SSID at 26, HMAC at 96. */
    memset(&s, 0, sizeof(s));
    s.seq = 1;
    s.ts = 0x1122334455667788ull;
    s.errest = 0x0102;
    s.ssid = 0x0a0b;
    memset(s.hmac, 0xa5, WIRE_HMAC_LEN);
    assert_int_equal(wire_stamp_sender_encode(&s, WIRE_MODE_AUTH, buf, sizeof(buf)), 112);
    assert_int_equal(lp_load32(buf), 1);
    assert_true(lp_all_zero(buf + 4, 12));
    assert_int_equal(lp_load64(buf + 16), 0x1122334455667788ull);
    assert_int_equal(lp_load16(buf + 24), 0x0102);
    assert_int_equal(lp_load16(buf + 26), 0x0a0b);
    assert_true(lp_all_zero(buf + 28, 68));
    assert_int_equal(buf[WIRE_STAMP_AUTH_HMAC_OFF], 0xa5);
    assert_int_equal(wire_stamp_sender_decode(buf, 112, WIRE_MODE_AUTH, &s), 112);
    assert_int_equal(s.ssid, 0x0a0b);

    memset(&r, 0, sizeof(r));
    r.seq = 2;
    r.ssid = 0x0c0d;
    r.recv_ts = 5;
    r.sender_seq = 1;
    r.sender_ts = 0x1122334455667788ull;
    r.sender_errest = 0x0102;
    r.sender_ttl = 254;
    assert_int_equal(wire_stamp_reflector_encode(&r, WIRE_MODE_AUTH, buf, sizeof(buf)), 112);
    assert_int_equal(lp_load16(buf + 26), 0x0c0d);
    assert_int_equal(lp_load64(buf + 32), 5);
    assert_int_equal(lp_load32(buf + 48), 1);
    assert_int_equal(lp_load64(buf + 64), 0x1122334455667788ull);
    assert_int_equal(lp_load16(buf + 72), 0x0102);
    assert_int_equal(buf[80], 254);
    assert_int_equal(wire_stamp_reflector_decode(buf, 112, WIRE_MODE_AUTH, &r), 112);
    assert_int_equal(r.sender_ttl, 254);
    assert_int_equal(r.ssid, 0x0c0d);

    /* STAMP has no encrypted or mixed mode. */
    assert_int_equal(wire_stamp_sender_decode(buf, 112, WIRE_MODE_ENC, &s), LP_E_MODE);
    assert_int_equal(wire_stamp_reflector_encode(&r, WIRE_MODE_MIXED, out, sizeof(out)), LP_E_MODE);
}

/* ------------------------------------------------------------------- TLVs */

/* RFC 8972 §4: Class of Service DSCP1=46 DSCP2=0 ECN=2 RP=1; Direct Measurement 1, 2, 3;
 * Timestamp Information 1, 2, 3, 4; Location ports 862 and 8760; HMAC of 0x5a. */
static const char TLV_AREA[] = "80040004b8090000"
                               "0005000c000000010000000200000003"
                               "0003000401020304"
                               "00020004035e2238"
                               "000800105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

static void test_tlv_vectors(void **state)
{
    uint8_t area[96], out[96], hmac[WIRE_HMAC_LEN];
    size_t n = unhex(TLV_AREA, area, sizeof(area)), off = 0;
    struct wire_tlv_iter it;
    struct wire_tlv t;
    struct wire_tlv_cos cos;
    struct wire_tlv_direct dm;
    struct wire_tlv_tsinfo ts;
    struct wire_tlv_location loc;

    (void)state;
    wire_tlv_iter_init(&it, area, n);
    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(t.flags, WIRE_TLV_F_U);
    assert_int_equal(wire_tlv_cos_decode(&t, &cos), 0);
    assert_int_equal(cos.dscp1, 46);
    assert_int_equal(cos.dscp2, 0);
    assert_int_equal(cos.ecn, 2);
    assert_int_equal(cos.rp, 1);
    off += (size_t)wire_tlv_cos_encode(t.flags, &cos, out + off, sizeof(out) - off);

    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(wire_tlv_direct_decode(&t, &dm), 0);
    assert_int_equal(dm.s_tx, 1);
    assert_int_equal(dm.r_rx, 2);
    assert_int_equal(dm.r_tx, 3);
    off += (size_t)wire_tlv_direct_encode(t.flags, &dm, out + off, sizeof(out) - off);

    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(wire_tlv_tsinfo_decode(&t, &ts), 0);
    assert_int_equal(ts.sync_in, 1);
    assert_int_equal(ts.method_in, 2);
    assert_int_equal(ts.sync_out, 3);
    assert_int_equal(ts.method_out, 4);
    assert_int_equal(ts.sub_len, 0);
    off += (size_t)wire_tlv_tsinfo_encode(t.flags, &ts, out + off, sizeof(out) - off);

    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(wire_tlv_location_decode(&t, &loc), 0);
    assert_int_equal(loc.dst_port, 862);
    assert_int_equal(loc.src_port, 8760);
    off += (size_t)wire_tlv_location_encode(t.flags, &loc, out + off, sizeof(out) - off);

    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(t.off, 40);
    assert_int_equal(wire_tlv_hmac_decode(&t, hmac), 0);
    assert_int_equal(hmac[15], 0x5a);
    off += (size_t)wire_tlv_hmac_encode(t.flags, hmac, out + off, sizeof(out) - off);

    assert_int_equal(wire_tlv_next(&it, &t), 0);
    assert_int_equal(off, n);
    assert_memory_equal(out, area, n);
    assert_int_equal(wire_tlv_mark_malformed(area, n), 0);

    /* Type-specific decoders refuse other types and impossible lengths. */
    wire_tlv_iter_init(&it, area, n);
    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(wire_tlv_direct_decode(&t, &dm), LP_E_VALUE);
    t.len = 3;
    assert_int_equal(wire_tlv_cos_decode(&t, &cos), LP_E_LEN);

    /* Extra Padding, and a Location TLV carrying a sub-TLV walked with the same iterator. */
    assert_int_equal(wire_tlv_encode(0, WIRE_TLV_PADDING, NULL, 3, out, sizeof(out)), 7);
    assert_memory_equal(out, "\x00\x01\x00\x03\x00\x00\x00", 7);
    loc.sub = (const uint8_t *)"\x00\x03\x00\x04\x7f\x00\x00\x01";
    loc.sub_len = 8;
    assert_int_equal(wire_tlv_location_encode(0, &loc, out, sizeof(out)), 16);
    wire_tlv_iter_init(&it, out, 16);
    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(wire_tlv_location_decode(&t, &loc), 0);
    wire_tlv_iter_init(&it, loc.sub, loc.sub_len);
    assert_int_equal(wire_tlv_next(&it, &t), 1);
    assert_int_equal(t.type, 3);
    assert_int_equal(t.len, 4);
    assert_int_equal(wire_tlv_next(&it, &t), 0);
}

static void test_tlv_malformed(void **state)
{
    uint8_t area[64];
    size_t n = unhex(TLV_AREA, area, sizeof(area));
    struct wire_tlv_iter it;
    struct wire_tlv t;
    uint8_t *copy;

    (void)state;
    /* Every cut inside the area fails cleanly at the cut TLV, reading only the copy. */
    for (size_t cut = 1; cut < n; cut++) {
        bool boundary = cut == 8 || cut == 24 || cut == 32 || cut == 40;
        int rc;

        copy = malloc(cut);
        memcpy(copy, area, cut);
        wire_tlv_iter_init(&it, copy, cut);
        while ((rc = wire_tlv_next(&it, &t)) == 1) {
            assert_true(t.off + WIRE_TLV_HDR_LEN + t.len <= cut);
        }
        assert_int_equal(rc, boundary ? 0 : (cut - it.off < 4 ? LP_E_SHORT : LP_E_LEN));
        assert_int_equal(wire_tlv_mark_malformed(copy, cut), boundary ? 0 : 1);
        if (!boundary) {
            assert_true((copy[it.off] & WIRE_TLV_F_M) != 0);
        }
        free(copy);
    }

    /* A Length overrunning the packet: M set on that TLV, the ones before untouched. */
    lp_store16(area + 26, 200);
    assert_int_equal(wire_tlv_mark_malformed(area, n), 1);
    assert_int_equal(area[0], WIRE_TLV_F_U);
    assert_int_equal(area[24], WIRE_TLV_F_M);
    lp_store16(area + 26, 4);
    area[24] = 0;

    /* Known types with impossible lengths are marked and the walk goes on: CoS of 2,
     * Extra Padding of 0 (fine), HMAC of 15, Location of 2, Timestamp Information of 0. */
    n = unhex("00040002abcd"
              "00010000"
              "0008000f5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
              "00020002abcd"
              "00030000",
              area, sizeof(area));
    assert_int_equal(wire_tlv_mark_malformed(area, n), 4);
    assert_int_equal(area[0], WIRE_TLV_F_M);
    assert_int_equal(area[6], 0);
    assert_int_equal(area[10], WIRE_TLV_F_M);
    assert_int_equal(area[29], WIRE_TLV_F_M);
    assert_int_equal(area[35], WIRE_TLV_F_M);

    /* Encoders refuse values that do not fit. */
    assert_int_equal(wire_tlv_encode(0, WIRE_TLV_PADDING, NULL, 70000, area, sizeof(area)),
                     LP_E_LEN);
    assert_int_equal(wire_tlv_encode(0, WIRE_TLV_PADDING, NULL, 61, area, sizeof(area)),
                     LP_E_SHORT);
    assert_int_equal(wire_tlv_cos_encode(0, &(struct wire_tlv_cos){.dscp1 = 64}, area, 64),
                     LP_E_VALUE);
}

/* ------------------------------------------------------------ malformed packets */

typedef int (*pkt_decode_fn)(const uint8_t *buf, size_t len, uint32_t mode);

static int d_sender(const uint8_t *b, size_t n, uint32_t mode)
{
    struct wire_sender_pkt p;
    return wire_sender_decode(b, n, mode, &p);
}

static int d_reflector(const uint8_t *b, size_t n, uint32_t mode)
{
    struct wire_reflector_pkt p;
    return wire_reflector_decode(b, n, mode, &p);
}

static int d_stamp_sender(const uint8_t *b, size_t n, uint32_t mode)
{
    struct wire_stamp_sender p;
    return wire_stamp_sender_decode(b, n, mode, &p);
}

static int d_stamp_reflector(const uint8_t *b, size_t n, uint32_t mode)
{
    struct wire_stamp_reflector p;
    return wire_stamp_reflector_decode(b, n, mode, &p);
}

/* Each layout: decoder, mode, base length and its MBZ runs (length 0 ends the list). */
static const struct {
    const char *name;
    pkt_decode_fn dec;
    uint32_t mode;
    size_t base;
    uint8_t mbz[7][2];
} LAYOUTS[] = {
    {"sender-open", d_sender, WIRE_MODE_OPEN, 14, {{0, 0}}},
    {"sender-auth", d_sender, WIRE_MODE_AUTH, 48, {{4, 12}, {26, 6}}},
    {"reflector-open", d_reflector, WIRE_MODE_OPEN, 41, {{14, 2}, {38, 2}}},
    {"reflector-enc",
     d_reflector,
     WIRE_MODE_ENC,
     112,
     {{4, 12}, {26, 6}, {40, 8}, {52, 12}, {74, 6}, {81, 15}}},
    {"stamp-sender-open", d_stamp_sender, WIRE_MODE_OPEN, 44, {{16, 28}}},
    {"stamp-sender-auth", d_stamp_sender, WIRE_MODE_AUTH, 112, {{4, 12}, {28, 68}}},
    {"stamp-reflector-open", d_stamp_reflector, WIRE_MODE_OPEN, 44, {{38, 2}, {41, 3}}},
    {"stamp-reflector-auth",
     d_stamp_reflector,
     WIRE_MODE_AUTH,
     112,
     {{4, 12}, {28, 4}, {40, 8}, {52, 12}, {74, 6}, {81, 15}}},
};

static void test_packet_malformed(void **state)
{
    uint8_t buf[112];

    (void)state;
    for (size_t i = 0; i < LP_ARRAY_LEN(LAYOUTS); i++) {
        size_t base = LAYOUTS[i].base;

        print_message("# %s\n", LAYOUTS[i].name);
        memset(buf, 0xff, sizeof(buf));
        for (size_t m = 0; m < 7 && LAYOUTS[i].mbz[m][1] > 0; m++) {
            memset(buf + LAYOUTS[i].mbz[m][0], 0, LAYOUTS[i].mbz[m][1]);
        }
        /* Everything but the MBZ runs set: decodes; each MBZ octet alone breaks it. */
        assert_int_equal(LAYOUTS[i].dec(buf, base, LAYOUTS[i].mode), (int)base);
        for (size_t m = 0; m < 7 && LAYOUTS[i].mbz[m][1] > 0; m++) {
            for (size_t o = LAYOUTS[i].mbz[m][0]; o < LAYOUTS[i].mbz[m][0] + LAYOUTS[i].mbz[m][1];
                 o++) {
                buf[o] = 0x10;
                assert_int_equal(LAYOUTS[i].dec(buf, base, LAYOUTS[i].mode), LP_E_MBZ);
                buf[o] = 0;
            }
        }
        for (size_t n = 0; n < base; n++) {
            uint8_t *copy = malloc(n + 1);

            memcpy(copy, buf, n);
            assert_int_equal(LAYOUTS[i].dec(copy, n, LAYOUTS[i].mode), LP_E_SHORT);
            free(copy);
        }
        /* No security mode, or two of them. */
        assert_int_equal(LAYOUTS[i].dec(buf, base, 0), LP_E_MODE);
        assert_int_equal(LAYOUTS[i].dec(buf, base, WIRE_MODE_OPEN | WIRE_MODE_AUTH), LP_E_MODE);
    }
}

static void test_packet_encode_limits(void **state)
{
    uint8_t buf[64];
    struct wire_sender_pkt p = {.seq = 1, .pad = NULL, .pad_len = 10};

    (void)state;
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_OPEN, buf, sizeof(buf)), 24);
    assert_true(lp_all_zero(buf + 14, 10)); /* NULL padding is zeros */
    assert_int_equal(buf[24], 0xff);
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_OPEN, buf, 23), LP_E_SHORT);
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_AUTH, buf, 57), LP_E_SHORT);
    assert_int_equal(wire_sender_encode(&p, 0x10, buf, sizeof(buf)), LP_E_MODE);
    assert_int_equal(wire_test_layout(WIRE_MODE_MIXED | WIRE_MODE_DSCP_ECN), 0);
    assert_int_equal(wire_test_layout(WIRE_MODE_ENC | WIRE_MODE_SYMMETRIC), 1);
    p.pad_len = (size_t)1 << 40;
    assert_int_equal(wire_sender_encode(&p, WIRE_MODE_OPEN, buf, sizeof(buf)), LP_E_LEN);
}

/* A Session-Sender reads replies liberally: the capture's reply, the same cut to 38 octets
 * (no Sender TTL) and to 37 (too short), MBZ octets not zero (a STAMP reflector's SSID),
 * the RFC 7750 octet only when present, STAMP's SSID and TLVs, and authenticated replies
 * only whole. */
static void test_reply_liberal(void **state)
{
    uint8_t buf[128];
    struct wire_reply w;
    size_t n;

    (void)state;
    n = unhex(TW_OPEN_REFL, buf, sizeof(buf));
    assert_int_equal(wire_reply_decode(buf, n, WIRE_MODE_OPEN, false, &w), 41);
    assert_true(w.has_ttl);
    assert_int_equal(w.r.sender_ttl, 255);
    assert_int_equal(ntp_usec(w.r.sender_ts), 437232);
    assert_false(w.has_dscp_ecn);
    assert_int_equal(wire_reply_decode(buf, n, WIRE_MODE_OPEN | WIRE_MODE_DSCP_ECN, false, &w), 41);
    assert_true(w.has_ttl);
    assert_false(w.has_dscp_ecn); /* 41 octets: no room for it */

    assert_int_equal(wire_reply_decode(buf, WIRE_REPLY_MIN_LEN, WIRE_MODE_OPEN, false, &w), 38);
    assert_false(w.has_ttl);
    assert_int_equal(w.r.sender_ttl, 0);
    assert_int_equal(ntp_usec(w.r.recv_ts), 437299);
    assert_int_equal(w.r.sender_errest, 1);
    assert_int_equal(w.r.pad_len, 0);
    assert_int_equal(wire_reply_decode(buf, WIRE_REPLY_MIN_LEN - 1, WIRE_MODE_OPEN, false, &w),
                     LP_E_SHORT);

    buf[14] = 0x12; /* MBZ in RFC 5357, the SSID of a STAMP reflector */
    buf[15] = 0x34;
    assert_int_equal(wire_reflector_decode(buf, n, WIRE_MODE_OPEN, &(struct wire_reflector_pkt){0}),
                     LP_E_MBZ);
    assert_int_equal(wire_reply_decode(buf, n, WIRE_MODE_OPEN, false, &w), 41);
    assert_int_equal(wire_reply_decode(buf, n, WIRE_MODE_OPEN, true, &w), 41); /* STAMP */
    assert_int_equal(w.ssid, 0x1234);
    assert_true(w.has_ttl);

    struct wire_stamp_reflector sr = {.seq = 3, .ssid = 77, .sender_seq = 2, .sender_ttl = 60};
    uint8_t tlv[8] = {0, WIRE_TLV_PADDING, 0, 4};
    sr.tlvs = tlv;
    sr.tlvs_len = sizeof(tlv);
    assert_int_equal(wire_stamp_reflector_encode(&sr, WIRE_MODE_OPEN, buf, sizeof(buf)), 52);
    assert_int_equal(wire_reply_decode(buf, 52, WIRE_MODE_OPEN, true, &w), 52);
    assert_int_equal(w.ssid, 77);
    assert_int_equal(w.r.seq, 3);
    assert_int_equal(w.r.sender_seq, 2);
    assert_int_equal(w.r.sender_ttl, 60);
    assert_int_equal(w.r.pad_len, 8);
    assert_memory_equal(w.r.pad, tlv, 8);

    n = unhex(TW_AUTH_REFL, buf, sizeof(buf));
    assert_int_equal(wire_reply_decode(buf, n, WIRE_MODE_AUTH, false, &w), 112);
    assert_int_equal(w.r.hmac[0], 0x54);
    assert_int_equal(wire_reply_decode(buf, n - 1, WIRE_MODE_AUTH, false, &w), LP_E_SHORT);
    assert_int_equal(wire_reply_decode(buf, n, WIRE_MODE_AUTH | WIRE_MODE_OPEN, false, &w),
                     LP_E_MODE);
}

/* got: n octets encoded with a zero Timestamp and Error Estimate; stamped with ts and err
 * they must be want, the m octets encoded with them. */
static void assert_stamped(uint8_t *got, int n, const uint8_t *want, int m, uint32_t mode,
                           uint64_t ts, uint16_t err)
{
    assert_true(n > 0);
    assert_int_equal(n, m);
    assert_int_equal(wire_test_set_ts(got, (size_t)n, mode, ts, err), 0);
    assert_memory_equal(got, want, (size_t)n);
}

/* Stamping an encoded packet last gives the octets of encoding it with that stamp, in every
 * layout: OWAMP/TWAMP sender and reflector, STAMP sender and reflector, open and
 * authenticated. */
static void test_set_ts(void **state)
{
    const uint64_t ts = 0x0123456789abcdefULL;
    const uint16_t err = 0x8001;
    const uint32_t modes[] = {WIRE_MODE_OPEN, WIRE_MODE_AUTH};
    uint8_t want[128], got[128];
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        uint32_t m = modes[i];
        struct wire_sender_pkt s0 = {.seq = 7}, s1 = s0;
        struct wire_reflector_pkt r0 = {.seq = 8, .recv_ts = 5}, r1 = r0;
        struct wire_stamp_sender ss0 = {.seq = 9, .ssid = 3}, ss1 = ss0;
        struct wire_stamp_reflector sr0 = {.seq = 10, .ssid = 3}, sr1 = sr0;
        s1.ts = r1.ts = ss1.ts = sr1.ts = ts;
        s1.errest = r1.errest = ss1.errest = sr1.errest = err;
        assert_stamped(got, wire_sender_encode(&s0, m, got, sizeof(got)), want,
                       wire_sender_encode(&s1, m, want, sizeof(want)), m, ts, err);
        assert_stamped(got, wire_reflector_encode(&r0, m, got, sizeof(got)), want,
                       wire_reflector_encode(&r1, m, want, sizeof(want)), m, ts, err);
        assert_stamped(got, wire_stamp_sender_encode(&ss0, m, got, sizeof(got)), want,
                       wire_stamp_sender_encode(&ss1, m, want, sizeof(want)), m, ts, err);
        assert_stamped(got, wire_stamp_reflector_encode(&sr0, m, got, sizeof(got)), want,
                       wire_stamp_reflector_encode(&sr1, m, want, sizeof(want)), m, ts, err);
    }
    assert_int_equal(wire_test_set_ts(got, 13, WIRE_MODE_OPEN, ts, err), LP_E_SHORT);
    assert_int_equal(wire_test_set_ts(got, 25, WIRE_MODE_AUTH, ts, err), LP_E_SHORT);
    assert_int_equal(wire_test_set_ts(got, 48, WIRE_MODE_OPEN | WIRE_MODE_AUTH, ts, err),
                     LP_E_MODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender_vectors),     cmocka_unit_test(test_reflector_vectors),
        cmocka_unit_test(test_reflector_dscp_ecn), cmocka_unit_test(test_stamp_vectors),
        cmocka_unit_test(test_tlv_vectors),        cmocka_unit_test(test_tlv_malformed),
        cmocka_unit_test(test_packet_malformed),   cmocka_unit_test(test_packet_encode_limits),
        cmocka_unit_test(test_reply_liberal),      cmocka_unit_test(test_set_ts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
