/* wire_testutil.h - helpers and ../shared/interop byte vectors shared by the wire tests
 * (test_wire.c, test_wire_bad.c); included after cmocka.h. */
#ifndef WIRE_TESTUTIL_H
#define WIRE_TESTUTIL_H

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "wire.h"

/* Hex (no separators) into out; returns the octet count. */
static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
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

/* owamp-open.pcap: Server-Greeting. */
static const char OW_GREETING[] =
    "00000000000000000000000000000007e78f9b4ab057069271fc254e010227f8"
    "1a8941179bf5491b5077011704c2748800000800000000000000000000000000";

/* owamp-open.pcap: Server-Start. */
static const char OW_SERVER_START[] =
    "0000000000000000000000000000000000000000000000000000000000000000"
    "eeb39693cd4046410000000000000000";

/* owamp-open.pcap: first Accept-Session. */
static const char OW_ACCEPT[] = "000049347f000001eeb3969f24438088de1292d3000000000000000000000000"
                                "00000000000000000000000000000000";

/* owamp-open.pcap: Fetch-Ack. */
static const char OW_FETCH_ACK[] =
    "000100000000000a000000000000000a00000000000000000000000000000000";

/* owamp-open.pcap: what follows the Fetch-Ack: stored Request-Session (112) and its
 * slot part (32), empty skip-range section (16), 10 data records padded to 256 plus HMAC. */
static const char OW_FETCH_DATA[] =
    "01040001000000010000000a268b49347f000001000000000000000000000000"
    "7f0000010000000000000000000000007f000001eeb3969f24438088de1292d3"
    "00000000eeb396a0191b0ccc0000000200083127000000000000000000000000"
    "0000000000000000000000000000000001000000000000000000000019999999"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000010001eeb396a032bb98c7eeb396a032bfa8f7ff00000001000100"
    "01eeb396a04c5479d4eeb396a04c5857afff0000000200010001eeb396a065ed"
    "17c5eeb396a065ef73c0ff0000000300010001eeb396a07f8a19c9eeb396a07f"
    "8cda6eff0000000400010001eeb396a099209edbeeb396a099248d7eff000000"
    "0500010001eeb396a0b2bb44e5eeb396a0b2be48a5ff0000000600010001eeb3"
    "96a0cc53c148eeb396a0cc578e5cff0000000700010001eeb396a0e5ef416bee"
    "b396a0e5f383f0ff0000000800010001eeb396a0ff89613deeb396a0ff8d92fb"
    "ff0000000900010001eeb396a11921bc12eeb396a119271bcdff000000000000"
    "00000000000000000000000000000000";

/* owamp-open.pcap: client -> server after Set-Up-Response: Request-Session + slot part (at
 * 0 and 144), Start-Sessions (288), Stop-Sessions (320), Fetch-Session (384); 432 octets. */
static const char OW_CLIENT_STREAM[] =
    "01040001000000010000000a268b00007f000001000000000000000000000000"
    "7f00000100000000000000000000000000000000000000000000000000000000"
    "00000000eeb396a0191b0ccc0000000200083127000000000000000000000000"
    "0000000000000000000000000000000001000000000000000000000019999999"
    "0000000000000000000000000000000001040100000000010000000a000022a9"
    "7f0000010000000000000000000000007f000001000000000000000000000000"
    "7f000001eeb3969f2490a350de38337300000000eeb396a0191b0ccc00000002"
    "0008312700000000000000000000000000000000000000000000000000000000"
    "0100000000000000000000001999999900000000000000000000000000000000"
    "0200000000000000000000000000000000000000000000000000000000000000"
    "030000000000000100000000000000007f000001eeb3969f24438088de1292d3"
    "0000000a00000000000000000000000000000000000000000000000000000000"
    "040000000000000000000000ffffffff7f000001eeb3969f24438088de1292d3"
    "00000000000000000000000000000000";

/* owamp-open-ipv6.pcap: second Request-Session (server -> client session). */
static const char OW6_REQUEST[] = "01060100000000010000000a0000240000000000000000000000000000000001"
                                  "0000000000000000000000000000000100000001eeb396d2eb352a847ee4d003"
                                  "00000000eeb396d3dfdf7e7e00000002000b0292000000000000000000000000"
                                  "00000000000000000000000000000000";

/* twamp-open.pcap: Request-TW-Session. */
static const char TW_REQUEST[] = "050400000000000000000000259125917f000001000000000000000000000000"
                                 "7f00000100000000000000000000000000000000000000000000000000000000"
                                 "0000001beeb3977556501e260000000200fce747000000000000000000000000"
                                 "00000000000000000000000000000000";

/* twamp-open.pcap: Accept-Session. */
static const char TW_ACCEPT[] = "0000497b7f000001eeb3977453632c1fd4c87b15000000000000000000000000"
                                "00000000000000000000000000000000";

/* twamp-open-ipv6.pcap: Request-TW-Session. */
static const char TW6_REQUEST[] = "0506000000000000000000002554255400000000000000000000000000000001"
                                  "0000000000000000000000000000000100000000000000000000000000000000"
                                  "0000001beeb3978b4bc2eba200000002000dd3fe000000000000000000000000"
                                  "00000000000000000000000000000000";

/* Values printed in owamp-auth.decoded.txt. */
#define AUTH_CHALLENGE "9ff5f0adbcd84d3d1ad11a6e5f4fceff"
#define AUTH_SALT "d03b223966c4ee501f17f31ff27ecb97"
#define AUTH_TOKEN                                                                                 \
    "7ef7eacb1ba2e7e1608db9eff95237a036c145658be1821b2b98a834fced14954a970a8585eb8b0bf6e5f4b8"     \
    "8af1cf91c05c39abb96224f068077922862ae9b5"
#define AUTH_CLIENT_IV "531b359bd8786b242e63112c426dbc45"

/* Seconds and rounded microseconds of an NTP timestamp, as the decoded.txt files print. */
static inline uint32_t ntp_sec(uint64_t raw)
{
    return (uint32_t)(raw >> 32);
}

static inline uint32_t ntp_usec(uint64_t raw)
{
    return (uint32_t)(((raw & 0xffffffffu) * 1000000u + 0x80000000u) >> 32);
}

static inline void assert_hex_equal(const uint8_t *got, const char *want_hex)
{
    uint8_t want[64];
    size_t n = unhex(want_hex, want, sizeof(want));

    assert_memory_equal(got, want, n);
}

/* Deterministic filler: seed, seed + 7, seed + 14, ... */
static inline void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + 7 * i);
    }
}

/* A Request-Session / Request-TW-Session with every field set (IPv4 for TWAMP). */
static inline void make_request(struct wire_request *r, enum wire_proto proto)
{
    memset(r, 0, sizeof(*r));
    r->ipvn = proto == WIRE_OWAMP ? 6 : 4;
    r->conf_sender = proto == WIRE_OWAMP ? 1 : 0;
    r->nslots = proto == WIRE_OWAMP ? 3 : 0;
    r->npackets = proto == WIRE_OWAMP ? 1000 : 0;
    r->sender_port = 8760;
    r->receiver_port = 862;
    fill(r->sender_addr, proto == WIRE_OWAMP ? 16 : 4, 0x20);
    fill(r->receiver_addr, proto == WIRE_OWAMP ? 16 : 4, 0x40);
    fill(r->sid, WIRE_SID_LEN, 0x60);
    r->padding_len = 1400;
    r->start_time.raw = 0xeeb396a0191b0cccull;
    r->timeout = 0x0000000200083127ull;
    r->typep = wire_typep_dscp(46);
    if (proto == WIRE_TWAMP) {
        r->octets_reflected = 2;
        r->pad_reflected = 10;
    }
    fill(r->hmac, WIRE_HMAC_LEN, 0x80);
}

/* An OWAMP Stop-Sessions with two descriptions of 1 and 2 skip ranges (32 + 48 octets). */
static struct wire_skip_range stop_skips[3] = {{3, 4}, {7, 7}, {9, 12}};

static inline int make_stop(uint8_t *buf, size_t len, struct wire_session_desc d[2])
{
    struct wire_stop_sessions s = {.accept = 0, .nsessions = 2, .desc = d};

    memset(d, 0, 2 * sizeof(*d));
    fill(d[0].sid, WIRE_SID_LEN, 0x11);
    d[0].next_seqno = 10;
    d[0].nskips = 1;
    d[0].skip = stop_skips;
    fill(d[1].sid, WIRE_SID_LEN, 0x22);
    d[1].next_seqno = 100;
    d[1].nskips = 2;
    d[1].skip = stop_skips + 1;
    fill(s.hmac, WIRE_HMAC_LEN, 0x33);
    return wire_stop_sessions_encode(&s, WIRE_OWAMP, buf, len);
}

#endif
