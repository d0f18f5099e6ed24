/* test_wire.c - wire control messages: byte vectors from ../shared/interop (open-mode pcaps,
 * whose bytes the decoded.txt files explain, and the authenticated Server-Greeting and
 * Set-Up-Response rebuilt from owamp-auth.decoded.txt), struct round trips, Type-P and Modes.
 * Malformed inputs and framing are in test_wire_bad.c, test packets in test_wire_pkt.c. */
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
#include "wire_testutil.h"

/* ------------------------------------------------------------------ vectors */

static void test_greeting_vectors(void **state)
{
    uint8_t buf[WIRE_GREETING_LEN], out[WIRE_GREETING_LEN];
    struct wire_greeting g;

    (void)state;
    unhex(OW_GREETING, buf, sizeof(buf));
    assert_int_equal(wire_greeting_decode(buf, sizeof(buf), &g), WIRE_GREETING_LEN);
    assert_int_equal(g.modes, WIRE_MODE_OPEN | WIRE_MODE_AUTH | WIRE_MODE_ENC);
    assert_int_equal(g.count, 2048);
    assert_hex_equal(g.challenge, "e78f9b4ab057069271fc254e010227f8");
    assert_hex_equal(g.salt, "1a8941179bf5491b5077011704c27488");
    assert_int_equal(wire_greeting_encode(&g, out, sizeof(out)), WIRE_GREETING_LEN);
    assert_memory_equal(out, buf, sizeof(buf));

    /* owamp-auth, rebuilt from its decoded values in the RFC 4656 §3.1 order. */
    unhex("000000000000000000000000"
          "00000007" AUTH_CHALLENGE AUTH_SALT "00000800"
          "000000000000000000000000",
          buf, sizeof(buf));
    assert_int_equal(wire_greeting_decode(buf, sizeof(buf), &g), WIRE_GREETING_LEN);
    assert_int_equal(g.modes, 7);
    assert_int_equal(g.count, 2048);
    assert_hex_equal(g.challenge, AUTH_CHALLENGE);
    assert_hex_equal(g.salt, AUTH_SALT);
    assert_int_equal(wire_greeting_encode(&g, out, sizeof(out)), WIRE_GREETING_LEN);
    assert_memory_equal(out, buf, sizeof(buf));

    /* Unused is not MBZ; a Count below 1024 with authenticated modes offered is refused. */
    buf[0] = 0xff;
    assert_int_equal(wire_greeting_decode(buf, sizeof(buf), &g), WIRE_GREETING_LEN);
    buf[50] = 0x03; /* Count 1024 -> 0x0300 = 768 */
    buf[51] = 0x00;
    assert_int_equal(wire_greeting_decode(buf, sizeof(buf), &g), LP_E_VALUE);
    buf[15] = WIRE_MODE_OPEN; /* open only: Count unused */
    assert_int_equal(wire_greeting_decode(buf, sizeof(buf), &g), WIRE_GREETING_LEN);
}

static void test_setup_vectors(void **state)
{
    uint8_t buf[WIRE_SETUP_LEN] = {0}, out[WIRE_SETUP_LEN], keyid[WIRE_KEYID_LEN] = "alice";
    struct wire_setup s;

    (void)state;
    /* owamp-auth: Mode=2 KeyID='alice' Token=... Client-IV=... */
    buf[3] = 2;
    memcpy(buf + 4, "alice", 5);
    unhex(AUTH_TOKEN, buf + 84, WIRE_TOKEN_LEN);
    unhex(AUTH_CLIENT_IV, buf + 148, WIRE_IV_LEN);
    assert_int_equal(wire_setup_decode(buf, sizeof(buf), WIRE_OWAMP, &s), WIRE_SETUP_LEN);
    assert_int_equal(s.mode, WIRE_MODE_AUTH);
    assert_memory_equal(s.keyid, keyid, WIRE_KEYID_LEN);
    assert_hex_equal(s.token, AUTH_TOKEN);
    assert_hex_equal(s.client_iv, AUTH_CLIENT_IV);
    assert_int_equal(wire_setup_encode(&s, WIRE_OWAMP, out, sizeof(out)), WIRE_SETUP_LEN);
    assert_memory_equal(out, buf, sizeof(buf));

    /* twamp-mixed: Mode=8 is TWAMP only. */
    buf[3] = WIRE_MODE_MIXED;
    assert_int_equal(wire_setup_decode(buf, sizeof(buf), WIRE_TWAMP, &s), WIRE_SETUP_LEN);
    assert_int_equal(wire_setup_decode(buf, sizeof(buf), WIRE_OWAMP, &s), LP_E_MODE);
    assert_int_equal(wire_setup_encode(&s, WIRE_OWAMP, out, sizeof(out)), LP_E_MODE);
}

static void test_server_start_vectors(void **state)
{
    uint8_t buf[WIRE_SERVER_START_LEN], out[WIRE_SERVER_START_LEN];
    struct wire_server_start s;

    (void)state;
    unhex(OW_SERVER_START, buf, sizeof(buf));
    assert_int_equal(wire_server_start_decode(buf, sizeof(buf), &s), WIRE_SERVER_START_LEN);
    assert_int_equal(s.accept, WIRE_ACCEPT_OK);
    /* owamp-open.decoded.txt: Start-Time (uptime) = 4004746899.801762 */
    assert_int_equal(ntp_sec(s.start_time.raw), 4004746899u);
    assert_int_equal(ntp_usec(s.start_time.raw), 801762);
    assert_int_equal(wire_server_start_encode(&s, out, sizeof(out)), WIRE_SERVER_START_LEN);
    assert_memory_equal(out, buf, sizeof(buf));

    /* owamp-auth-wrongkey: Accept=1, everything else zero. */
    memset(buf, 0, sizeof(buf));
    buf[15] = 1;
    assert_int_equal(wire_server_start_decode(buf, sizeof(buf), &s), WIRE_SERVER_START_LEN);
    assert_int_equal(s.accept, WIRE_ACCEPT_FAILURE);
    assert_int_equal(s.start_time.raw, 0);
}

static void test_request_vectors(void **state)
{
    uint8_t st[432], buf[WIRE_REQUEST_LEN], out[WIRE_REQUEST_LEN + 32];
    uint8_t v4[WIRE_ADDR_LEN] = {127, 0, 0, 1}, v6[WIRE_ADDR_LEN] = {[15] = 1};
    struct wire_slot slot[1];
    struct wire_slots sl = {.n = 1, .slot = slot};
    struct wire_request r;

    (void)state;
    unhex(OW_CLIENT_STREAM, st, sizeof(st));
    /* owamp-open.decoded.txt: IPVN=4 Conf-Sender=0 Conf-Receiver=1 Slots=1 Packets=10
     * Sender=127.0.0.1:9867 Receiver=127.0.0.1:0 SID=0 Padding=0 Start=4004746912.098069
     * Timeout=2.000125000 s Type-P=0x00000000; slots: fixed 0.1 s */
    assert_int_equal(wire_request_decode(st, sizeof(st), WIRE_OWAMP, &r), WIRE_REQUEST_LEN);
    assert_int_equal(r.ipvn, 4);
    assert_int_equal(r.conf_sender, 0);
    assert_int_equal(r.conf_receiver, 1);
    assert_int_equal(r.nslots, 1);
    assert_int_equal(r.npackets, 10);
    assert_int_equal(r.sender_port, 9867);
    assert_int_equal(r.receiver_port, 0);
    assert_memory_equal(r.sender_addr, v4, WIRE_ADDR_LEN);
    assert_memory_equal(r.receiver_addr, v4, WIRE_ADDR_LEN);
    assert_int_equal(r.padding_len, 0);
    assert_int_equal(ntp_sec(r.start_time.raw), 4004746912u);
    assert_int_equal(ntp_usec(r.start_time.raw), 98069);
    assert_int_equal(r.timeout >> 32, 2);
    assert_int_equal(ntp_usec(r.timeout), 125);
    assert_int_equal(r.typep, 0);
    assert_int_equal(wire_request_encode(&r, WIRE_OWAMP, out, sizeof(out)), WIRE_REQUEST_LEN);
    assert_memory_equal(out, st, WIRE_REQUEST_LEN);
    assert_int_equal(wire_slots_decode(st + 112, 32, &sl), 32);
    assert_int_equal(slot[0].type, WIRE_SLOT_FIXED);
    assert_int_equal(slot[0].param, 0x19999999u); /* 0.1 s in 32.32 */
    assert_int_equal(wire_slots_encode(&sl, out, sizeof(out)), 32);
    assert_memory_equal(out, st + 112, 32);

    /* The second request: Conf-Sender=1, Receiver=127.0.0.1:8873, SID chosen by the client. */
    assert_int_equal(wire_request_decode(st + 144, 112, WIRE_OWAMP, &r), WIRE_REQUEST_LEN);
    assert_int_equal(r.conf_sender, 1);
    assert_int_equal(r.conf_receiver, 0);
    assert_int_equal(r.receiver_port, 8873);
    assert_hex_equal(r.sid, "7f000001eeb3969f2490a350de383373");

    /* owamp-open-ipv6: Sender=::1:0 Receiver=::1:9216 */
    unhex(OW6_REQUEST, buf, sizeof(buf));
    assert_int_equal(wire_request_decode(buf, sizeof(buf), WIRE_OWAMP, &r), WIRE_REQUEST_LEN);
    assert_int_equal(r.ipvn, 6);
    assert_int_equal(r.receiver_port, 9216);
    assert_memory_equal(r.sender_addr, v6, WIRE_ADDR_LEN);
    assert_memory_equal(r.receiver_addr, v6, WIRE_ADDR_LEN);
    assert_hex_equal(r.sid, "00000001eeb396d2eb352a847ee4d003");
    assert_int_equal(wire_request_encode(&r, WIRE_OWAMP, out, sizeof(out)), WIRE_REQUEST_LEN);
    assert_memory_equal(out, buf, sizeof(buf));
    assert_int_equal(wire_request_decode(buf, sizeof(buf), WIRE_TWAMP, &r), LP_E_CMD);

    /* twamp-open: Conf 0/0, Slots=0 Packets=0 Sender=127.0.0.1:9617 Receiver=127.0.0.1:9617
     * Padding=27 Timeout=2.003859 s */
    unhex(TW_REQUEST, buf, sizeof(buf));
    assert_int_equal(wire_request_decode(buf, sizeof(buf), WIRE_TWAMP, &r), WIRE_REQUEST_LEN);
    assert_int_equal(r.ipvn, 4);
    assert_int_equal(r.nslots, 0);
    assert_int_equal(r.npackets, 0);
    assert_int_equal(r.sender_port, 9617);
    assert_int_equal(r.receiver_port, 9617);
    assert_int_equal(r.padding_len, 27);
    assert_int_equal(r.timeout >> 32, 2);
    assert_int_equal(ntp_usec(r.timeout), 3859);
    assert_int_equal(r.octets_reflected, 0);
    assert_int_equal(r.pad_reflected, 0);
    assert_int_equal(wire_request_encode(&r, WIRE_TWAMP, out, sizeof(out)), WIRE_REQUEST_LEN);
    assert_memory_equal(out, buf, sizeof(buf));
    assert_int_equal(wire_request_decode(buf, sizeof(buf), WIRE_OWAMP, &r), LP_E_CMD);

    /* twamp-open-ipv6: Sender=::1:9556 */
    unhex(TW6_REQUEST, buf, sizeof(buf));
    assert_int_equal(wire_request_decode(buf, sizeof(buf), WIRE_TWAMP, &r), WIRE_REQUEST_LEN);
    assert_int_equal(r.ipvn, 6);
    assert_int_equal(r.sender_port, 9556);
    assert_memory_equal(r.receiver_addr, v6, WIRE_ADDR_LEN);
    assert_int_equal(wire_request_encode(&r, WIRE_TWAMP, out, sizeof(out)), WIRE_REQUEST_LEN);
    assert_memory_equal(out, buf, sizeof(buf));
}

static void test_accept_vectors(void **state)
{
    uint8_t buf[WIRE_ACCEPT_SESSION_LEN], out[WIRE_ACCEPT_SESSION_LEN];
    struct wire_accept_session a;

    (void)state;
    unhex(OW_ACCEPT, buf, sizeof(buf)); /* Accept=0 Port=18740 SID=7f000001eeb3969f... */
    assert_int_equal(wire_accept_session_decode(buf, sizeof(buf), WIRE_OWAMP, &a),
                     WIRE_ACCEPT_SESSION_LEN);
    assert_int_equal(a.accept, 0);
    assert_int_equal(a.port, 18740);
    assert_hex_equal(a.sid, "7f000001eeb3969f24438088de1292d3");
    assert_int_equal(wire_accept_session_encode(&a, WIRE_OWAMP, out, sizeof(out)),
                     WIRE_ACCEPT_SESSION_LEN);
    assert_memory_equal(out, buf, sizeof(buf));

    unhex(TW_ACCEPT, buf, sizeof(buf)); /* Accept=0 Port=18811 */
    assert_int_equal(wire_accept_session_decode(buf, sizeof(buf), WIRE_TWAMP, &a),
                     WIRE_ACCEPT_SESSION_LEN);
    assert_int_equal(a.port, 18811);
    assert_hex_equal(a.sid, "7f000001eeb3977453632c1fd4c87b15");
    assert_int_equal(a.reflected_octets, 0);
    assert_int_equal(a.server_octets, 0);
    assert_int_equal(wire_accept_session_encode(&a, WIRE_TWAMP, out, sizeof(out)),
                     WIRE_ACCEPT_SESSION_LEN);
    assert_memory_equal(out, buf, sizeof(buf));
}

static void test_start_stop_vectors(void **state)
{
    uint8_t st[432], out[64], zero[32] = {0};
    struct wire_session_desc d[2] = {{.skip = NULL}}; /* no room for skip ranges */
    struct wire_stop_sessions s = {.desc = d, .descs_cap = 2};
    struct wire_start_sessions ss;
    struct wire_start_ack sa;

    (void)state;
    unhex(OW_CLIENT_STREAM, st, sizeof(st));
    assert_int_equal(wire_start_sessions_decode(st + 288, 32, &ss), 32);
    assert_int_equal(wire_start_sessions_encode(&ss, out, sizeof(out)), 32);
    assert_memory_equal(out, st + 288, 32);
    assert_int_equal(wire_start_ack_decode(zero, sizeof(zero), &sa), 32); /* Accept=0 */
    assert_int_equal(sa.accept, 0);

    /* Stop-Sessions: Accept=0 Num-Sessions=1 [SID=7f000001eeb3969f... Next-Seqno=10
     * Skip-Ranges=0], 64 octets on the wire. */
    assert_int_equal(wire_stop_sessions_decode(st + 320, 64, WIRE_OWAMP, &s), 64);
    assert_int_equal(s.accept, 0);
    assert_int_equal(s.nsessions, 1);
    assert_hex_equal(d[0].sid, "7f000001eeb3969f24438088de1292d3");
    assert_int_equal(d[0].next_seqno, 10);
    assert_int_equal(d[0].nskips, 0);
    assert_int_equal(wire_stop_sessions_encode(&s, WIRE_OWAMP, out, sizeof(out)), 64);
    assert_memory_equal(out, st + 320, 64);

    /* twamp-open Stop-Sessions: 32 octets, Num-Sessions=1, no descriptions. */
    unhex("03000000000000010000000000000000"
          "00000000000000000000000000000000",
          out, 32);
    assert_int_equal(wire_stop_sessions_decode(out, 32, WIRE_TWAMP, &s), WIRE_TW_STOP_LEN);
    assert_int_equal(s.nsessions, 1);
}

static void test_fetch_vectors(void **state)
{
    uint8_t st[432], data[432], ack[WIRE_FETCH_ACK_LEN], out[432];
    struct wire_fetch_session f;
    struct wire_fetch_ack fa;
    struct wire_request r;
    struct wire_slot slot[1];
    struct wire_slots sl = {.n = 1, .slot = slot};
    struct wire_skip_section sk = {.n = 0};
    struct wire_record rec[10];
    struct wire_records_section rs = {.n = 10, .rec = rec};
    size_t off = 0;

    (void)state;
    unhex(OW_CLIENT_STREAM, st, sizeof(st));
    /* Fetch-Session: Begin-Seq=0 End-Seq=4294967295 SID=7f000001eeb3969f... */
    assert_int_equal(wire_fetch_session_decode(st + 384, 48, &f), WIRE_FETCH_SESSION_LEN);
    assert_int_equal(f.begin_seq, 0);
    assert_int_equal(f.end_seq, 0xffffffffu);
    assert_hex_equal(f.sid, "7f000001eeb3969f24438088de1292d3");
    assert_int_equal(wire_fetch_session_encode(&f, out, sizeof(out)), WIRE_FETCH_SESSION_LEN);
    assert_memory_equal(out, st + 384, 48);

    /* Fetch-Ack: Accept=0 Finished=1 Next-Seqno=10 Num-Skip-Ranges=0 Num-Records=10 */
    unhex(OW_FETCH_ACK, ack, sizeof(ack));
    assert_int_equal(wire_fetch_ack_decode(ack, sizeof(ack), &fa), WIRE_FETCH_ACK_LEN);
    assert_int_equal(fa.accept, 0);
    assert_int_equal(fa.finished, 1);
    assert_int_equal(fa.next_seqno, 10);
    assert_int_equal(fa.nskips, 0);
    assert_int_equal(fa.nrecords, 10);
    assert_int_equal(wire_fetch_ack_encode(&fa, out, sizeof(out)), WIRE_FETCH_ACK_LEN);
    assert_memory_equal(out, ack, sizeof(ack));

    /* The sections: the stored request carries the server-chosen port 18740 and SID. */
    unhex(OW_FETCH_DATA, data, sizeof(data));
    assert_int_equal(wire_request_decode(data, sizeof(data), WIRE_OWAMP, &r), 112);
    assert_int_equal(r.receiver_port, 18740);
    assert_hex_equal(r.sid, "7f000001eeb3969f24438088de1292d3");
    assert_int_equal(wire_slots_decode(data + 112, sizeof(data) - 112, &sl), 32);
    assert_int_equal(wire_fetch_skips_len(fa.nskips), 16);
    assert_int_equal(wire_skip_section_decode(data + 144, 16, &sk), 16);
    assert_int_equal(wire_fetch_records_len(fa.nrecords), 272);
    assert_int_equal(wire_records_section_decode(data + 160, 272, &rs), 272);
    /* rec seq=0 send=4004746912.198175 recv=4004746912.198237, errest mult=1, ttl=255 */
    assert_int_equal(rec[0].seq, 0);
    assert_int_equal(rec[0].send_errest, 0x0001);
    assert_int_equal(rec[0].recv_errest, 0x0001);
    assert_int_equal(ntp_sec(rec[0].send_ts), 4004746912u);
    assert_int_equal(ntp_usec(rec[0].send_ts), 198175);
    assert_int_equal(ntp_usec(rec[0].recv_ts), 198237);
    assert_int_equal(rec[0].ttl, 255);
    /* rec seq=9 send=4004746913.098171 recv=4004746913.098253 */
    assert_int_equal(rec[9].seq, 9);
    assert_int_equal(ntp_sec(rec[9].send_ts), 4004746913u);
    assert_int_equal(ntp_usec(rec[9].send_ts), 98171);
    assert_int_equal(ntp_usec(rec[9].recv_ts), 98253);

    off += (size_t)wire_request_encode(&r, WIRE_OWAMP, out, sizeof(out));
    off += (size_t)wire_slots_encode(&sl, out + off, sizeof(out) - off);
    off += (size_t)wire_skip_section_encode(&sk, out + off, sizeof(out) - off);
    off += (size_t)wire_records_section_encode(&rs, out + off, sizeof(out) - off);
    assert_int_equal(off, sizeof(data));
    assert_memory_equal(out, data, sizeof(data));
}

/* --------------------------------------------------------------- round trips */

static void test_roundtrip_setup(void **state)
{
    struct wire_greeting g, g2;
    struct wire_setup s, s2;
    struct wire_server_start ss, ss2;
    uint8_t buf[WIRE_SETUP_LEN], again[WIRE_SETUP_LEN];

    (void)state;
    memset(&g, 0, sizeof(g));
    memset(&g2, 0, sizeof(g2));
    g.modes = 0x1f;
    fill(g.challenge, sizeof(g.challenge), 1);
    fill(g.salt, sizeof(g.salt), 2);
    g.count = 1u << 20;
    assert_int_equal(wire_greeting_encode(&g, buf, sizeof(buf)), WIRE_GREETING_LEN);
    assert_int_equal(wire_greeting_decode(buf, WIRE_GREETING_LEN, &g2), WIRE_GREETING_LEN);
    assert_memory_equal(&g, &g2, sizeof(g));

    memset(&s2, 0, sizeof(s2));
    s.mode = WIRE_MODE_AUTH | WIRE_MODE_INDIV_CTRL | WIRE_MODE_REFLECT_OCTETS;
    fill(s.keyid, sizeof(s.keyid), 3);
    fill(s.token, sizeof(s.token), 4);
    fill(s.client_iv, sizeof(s.client_iv), 5);
    assert_int_equal(wire_setup_encode(&s, WIRE_TWAMP, buf, sizeof(buf)), WIRE_SETUP_LEN);
    assert_int_equal(wire_setup_decode(buf, sizeof(buf), WIRE_TWAMP, &s2), WIRE_SETUP_LEN);
    assert_memory_equal(&s, &s2, sizeof(s));
    assert_int_equal(wire_setup_encode(&s2, WIRE_TWAMP, again, sizeof(again)), WIRE_SETUP_LEN);
    assert_memory_equal(again, buf, sizeof(buf));

    memset(&ss, 0, sizeof(ss));
    memset(&ss2, 0, sizeof(ss2));
    ss.accept = WIRE_ACCEPT_TEMP_LIMIT;
    fill(ss.server_iv, sizeof(ss.server_iv), 6);
    ss.start_time.raw = 0x0123456789abcdefull;
    assert_int_equal(wire_server_start_encode(&ss, buf, sizeof(buf)), WIRE_SERVER_START_LEN);
    assert_int_equal(wire_server_start_decode(buf, WIRE_SERVER_START_LEN, &ss2),
                     WIRE_SERVER_START_LEN);
    assert_memory_equal(&ss, &ss2, sizeof(ss));
}

static void test_roundtrip_session(void **state)
{
    struct wire_request r, r2;
    struct wire_slot slot[3] = {
        {WIRE_SLOT_EXP, 0x1999999au}, {WIRE_SLOT_FIXED, 1ull << 32}, {WIRE_SLOT_EXP, 5}};
    struct wire_slot slot2[3];
    struct wire_slots sl = {.n = 3, .slot = slot}, sl2 = {.n = 3, .slot = slot2};
    struct wire_accept_session a, a2;
    uint8_t buf[WIRE_REQUEST_LEN + 64], again[WIRE_REQUEST_LEN + 64];

    (void)state;
    for (int proto = WIRE_OWAMP; proto <= WIRE_TWAMP; proto++) {
        make_request(&r, (enum wire_proto)proto);
        memset(&r2, 0xee, sizeof(r2));
        assert_int_equal(wire_request_encode(&r, (enum wire_proto)proto, buf, sizeof(buf)), 112);
        assert_int_equal(wire_request_decode(buf, 112, (enum wire_proto)proto, &r2), 112);
        assert_memory_equal(&r, &r2, sizeof(r));
        assert_int_equal(wire_request_encode(&r2, (enum wire_proto)proto, again, sizeof(again)),
                         112);
        assert_memory_equal(again, buf, 112);

        memset(&a, 0, sizeof(a));
        memset(&a2, 0xee, sizeof(a2));
        a.accept = WIRE_ACCEPT_UNSUPPORTED;
        a.port = 18811;
        fill(a.sid, WIRE_SID_LEN, 9);
        a.reflected_octets = proto == WIRE_TWAMP ? 2 : 0;
        a.server_octets = proto == WIRE_TWAMP ? 0xabcd : 0;
        fill(a.hmac, WIRE_HMAC_LEN, 10);
        assert_int_equal(wire_accept_session_encode(&a, (enum wire_proto)proto, buf, 48), 48);
        assert_int_equal(wire_accept_session_decode(buf, 48, (enum wire_proto)proto, &a2), 48);
        assert_memory_equal(&a, &a2, sizeof(a));
    }
    assert_int_equal(wire_slots_len(3), 64);
    fill(sl.hmac, WIRE_HMAC_LEN, 11);
    assert_int_equal(wire_slots_encode(&sl, buf, sizeof(buf)), 64);
    assert_int_equal(wire_slots_decode(buf, 64, &sl2), 64);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(slot2[i].type, slot[i].type);
        assert_int_equal(slot2[i].param, slot[i].param);
    }
    assert_memory_equal(sl.hmac, sl2.hmac, WIRE_HMAC_LEN);
}

/* An OWAMP Stop-Sessions with two descriptions of 1 and 2 skip ranges (32 + 48 octets). */
static void test_roundtrip_stop(void **state)
{
    uint8_t buf[128], again[128];
    struct wire_session_desc d[2], d2[2];
    struct wire_skip_range r0[1], r1[2];
    struct wire_stop_sessions s2 = {.desc = d2, .descs_cap = 2};

    (void)state;
    assert_int_equal(wire_session_desc_len(1), 32);
    assert_int_equal(wire_session_desc_len(2), 48);
    assert_int_equal(make_stop(buf, sizeof(buf), d), 16 + 32 + 48 + 16);
    memset(d2, 0, sizeof(d2));
    d2[0].skip = r0;
    d2[0].skips_cap = 1;
    d2[1].skip = r1;
    d2[1].skips_cap = 2;
    assert_int_equal(wire_stop_sessions_decode(buf, sizeof(buf), WIRE_OWAMP, &s2), 112);
    assert_int_equal(s2.nsessions, 2);
    for (int i = 0; i < 2; i++) {
        assert_memory_equal(d2[i].sid, d[i].sid, WIRE_SID_LEN);
        assert_int_equal(d2[i].next_seqno, d[i].next_seqno);
        assert_int_equal(d2[i].nskips, d[i].nskips);
        assert_memory_equal(d2[i].skip, d[i].skip, d[i].nskips * sizeof(*d[i].skip));
    }
    fill(again, WIRE_HMAC_LEN, 0x33);
    assert_memory_equal(s2.hmac, again, WIRE_HMAC_LEN);
    assert_int_equal(wire_stop_sessions_encode(&s2, WIRE_OWAMP, again, sizeof(again)), 112);
    assert_memory_equal(again, buf, 112);

    /* Too small a caller array is reported, not overrun. */
    s2.descs_cap = 1;
    assert_int_equal(wire_stop_sessions_decode(buf, sizeof(buf), WIRE_OWAMP, &s2), LP_E_NOMEM);
    s2.descs_cap = 2;
    d2[1].skips_cap = 1;
    assert_int_equal(wire_stop_sessions_decode(buf, sizeof(buf), WIRE_OWAMP, &s2), LP_E_NOMEM);
    s2.desc = NULL; /* validate only */
    assert_int_equal(wire_stop_sessions_decode(buf, sizeof(buf), WIRE_OWAMP, &s2), 112);
}

static void test_roundtrip_nsessions_fetch(void **state)
{
    uint8_t sids[3 * WIRE_SID_LEN], buf[128], again[128];
    struct wire_nsessions m, m2;
    struct wire_fetch_session f = {5, 99, {0}, {0}}, f2;
    struct wire_fetch_ack fa, fa2;
    struct wire_skip_range sk2[3];
    struct wire_skip_section s = {.n = 3, .cskip = stop_skips}, s2 = {.n = 3, .skip = sk2};
    struct wire_record rec[3], rec2[3];
    struct wire_records_section rs = {.n = 3, .crec = rec}, rs2 = {.n = 3, .rec = rec2};

    (void)state;
    fill(sids, sizeof(sids), 0x44);
    for (uint8_t cmd = WIRE_CMD_START_N_SESSIONS; cmd <= WIRE_CMD_STOP_N_ACK; cmd++) {
        memset(&m, 0, sizeof(m));
        m.cmd = cmd;
        m.accept = cmd == WIRE_CMD_START_N_SESSIONS ? 0 : WIRE_ACCEPT_OK + 1;
        m.nsessions = 3;
        m.sids = sids;
        fill(m.hmac, WIRE_HMAC_LEN, cmd);
        assert_int_equal(wire_nsessions_len(3), 80);
        assert_int_equal(wire_nsessions_encode(&m, buf, sizeof(buf)), 80);
        assert_int_equal(wire_nsessions_decode(buf, sizeof(buf), &m2), 80);
        assert_int_equal(m2.cmd, cmd);
        assert_int_equal(m2.accept, m.accept);
        assert_int_equal(m2.nsessions, 3);
        assert_ptr_equal(m2.sids, buf + 16);
        assert_memory_equal(m2.sids, sids, sizeof(sids));
        assert_memory_equal(m2.hmac, m.hmac, WIRE_HMAC_LEN);
    }

    fill(f.sid, WIRE_SID_LEN, 0x55);
    assert_int_equal(wire_fetch_session_encode(&f, buf, sizeof(buf)), 48);
    assert_int_equal(wire_fetch_session_decode(buf, 48, &f2), 48);
    assert_memory_equal(&f, &f2, sizeof(f));
    memset(&fa, 0, sizeof(fa));
    memset(&fa2, 0, sizeof(fa2));
    fa.finished = 1;
    fa.next_seqno = 77;
    fa.nskips = 2;
    fa.nrecords = 3;
    assert_int_equal(wire_fetch_ack_encode(&fa, buf, sizeof(buf)), 32);
    assert_int_equal(wire_fetch_ack_decode(buf, 32, &fa2), 32);
    assert_memory_equal(&fa, &fa2, sizeof(fa));

    assert_int_equal(wire_fetch_skips_len(3), 48);
    assert_int_equal(wire_skip_section_encode(&s, buf, sizeof(buf)), 48);
    assert_int_equal(wire_skip_section_decode(buf, 48, &s2), 48);
    assert_memory_equal(sk2, stop_skips, sizeof(sk2));
    assert_int_equal(wire_skip_section_encode(&s2, again, sizeof(again)), 48);
    assert_memory_equal(again, buf, 48);

    memset(rec, 0, sizeof(rec));
    memset(rec2, 0, sizeof(rec2));
    for (uint32_t i = 0; i < 3; i++) {
        rec[i] = (struct wire_record){i,
                                      0x8001,
                                      0x4002,
                                      0xeeb396a000000000ull + i,
                                      0xeeb396a100000000ull + i,
                                      (uint8_t)(250 + i)};
    }
    assert_int_equal(wire_fetch_records_len(3), 96);
    assert_int_equal(wire_records_section_encode(&rs, buf, sizeof(buf)), 96);
    assert_int_equal(wire_records_section_decode(buf, 96, &rs2), 96);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rec2[i].seq, rec[i].seq);
        assert_int_equal(rec2[i].send_errest, rec[i].send_errest);
        assert_int_equal(rec2[i].recv_errest, rec[i].recv_errest);
        assert_int_equal(rec2[i].send_ts, rec[i].send_ts);
        assert_int_equal(rec2[i].recv_ts, rec[i].recv_ts);
        assert_int_equal(rec2[i].ttl, rec[i].ttl);
    }
    /* Streaming: records one by one, then the padded tail. */
    assert_int_equal(wire_record_decode(buf + 50, 25, &rec2[0]), 25);
    assert_int_equal(rec2[0].seq, 2);
    assert_int_equal(wire_records_tail_decode(buf + 75, 21, 3, rs2.hmac), 21);
}

/* ------------------------------------------------------------ Type-P and modes */

static void test_typep_and_modes(void **state)
{
    struct wire_typep tp;

    (void)state;
    /* RFC 4656 §3.5: 00 then the 6-bit DSCP, rest zero; 01 then the 16-bit PHB ID. */
    assert_int_equal(wire_typep_dscp(46), 0x2e000000u);
    assert_int_equal(wire_typep_parse(0x2e000000u, &tp), 0);
    assert_int_equal(tp.format, 0);
    assert_int_equal(tp.dscp, 46);
    assert_int_equal(wire_typep_parse(0x2e000001u, &tp), LP_E_MBZ);
    assert_int_equal(wire_typep_parse(0x40000000u | (0xb800u << 14), &tp), 0);
    assert_int_equal(tp.format, 1);
    assert_int_equal(tp.phb_id, 0xb800);
    assert_int_equal(wire_typep_parse(0x40000001u, &tp), LP_E_MBZ);
    assert_int_equal(wire_typep_parse(0x80000000u, &tp), LP_E_VALUE);
    assert_int_equal(wire_typep_parse(0xc0000000u, &tp), LP_E_VALUE);

    /* IANA TWAMP-Modes: bits 0-9 are 1, 2, 4, 8, 16, 32, 64, 128, 256, 512. */
    assert_int_equal(WIRE_MODE_MIXED, 8);
    assert_int_equal(WIRE_MODE_INDIV_CTRL, 16);
    assert_int_equal(WIRE_MODE_REFLECT_OCTETS, 32);
    assert_int_equal(WIRE_MODE_SYMMETRIC, 64);
    assert_int_equal(WIRE_MODE_IKEV2, 128);
    assert_int_equal(WIRE_MODE_DSCP_ECN, 256);
    assert_int_equal(WIRE_MODE_PTP, 512);
    assert_int_equal(wire_mode_check(WIRE_MODE_OPEN, WIRE_OWAMP), 0);
    assert_int_equal(wire_mode_check(WIRE_MODE_ENC, WIRE_OWAMP), 0);
    assert_int_equal(wire_mode_check(WIRE_MODE_MIXED, WIRE_OWAMP), LP_E_MODE);
    assert_int_equal(
        wire_mode_check(WIRE_MODE_MIXED | WIRE_MODE_DSCP_ECN | WIRE_MODE_PTP, WIRE_TWAMP), 0);
    assert_int_equal(wire_mode_check(WIRE_MODE_INDIV_CTRL, WIRE_TWAMP), LP_E_MODE);
    assert_int_equal(wire_mode_check(WIRE_MODE_OPEN | 0x400, WIRE_TWAMP), LP_E_MODE);
    assert_int_equal(wire_mode_check(WIRE_MODE_AUTH | WIRE_MODE_ENC, WIRE_TWAMP), LP_E_MODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_vectors),
        cmocka_unit_test(test_setup_vectors),
        cmocka_unit_test(test_server_start_vectors),
        cmocka_unit_test(test_request_vectors),
        cmocka_unit_test(test_accept_vectors),
        cmocka_unit_test(test_start_stop_vectors),
        cmocka_unit_test(test_fetch_vectors),
        cmocka_unit_test(test_roundtrip_setup),
        cmocka_unit_test(test_roundtrip_session),
        cmocka_unit_test(test_roundtrip_stop),
        cmocka_unit_test(test_roundtrip_nsessions_fetch),
        cmocka_unit_test(test_typep_and_modes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
