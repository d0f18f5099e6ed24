/* test_wire_bad.c - wire control messages: a table of malformed inputs (every message
 * truncated at every length, every MBZ octet set, bad commands, modes, counts and values)
 * and control-stream framing (wire_ctrl_msg_len) over the ../shared/interop streams. */
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

/* ----------------------------------------------------------- malformed inputs */

typedef int (*decode_fn)(const uint8_t *buf, size_t len);

static int d_greeting(const uint8_t *b, size_t n)
{
    struct wire_greeting x;
    return wire_greeting_decode(b, n, &x);
}

static int d_setup(const uint8_t *b, size_t n)
{
    struct wire_setup x;
    return wire_setup_decode(b, n, WIRE_OWAMP, &x);
}

static int d_server_start(const uint8_t *b, size_t n)
{
    struct wire_server_start x;
    return wire_server_start_decode(b, n, &x);
}

static int d_req_ow(const uint8_t *b, size_t n)
{
    struct wire_request x;
    return wire_request_decode(b, n, WIRE_OWAMP, &x);
}

static int d_req_tw(const uint8_t *b, size_t n)
{
    struct wire_request x;
    return wire_request_decode(b, n, WIRE_TWAMP, &x);
}

static int d_slots3(const uint8_t *b, size_t n)
{
    struct wire_slots x = {.n = 3};
    return wire_slots_decode(b, n, &x);
}

static int d_accept_ow(const uint8_t *b, size_t n)
{
    struct wire_accept_session x;
    return wire_accept_session_decode(b, n, WIRE_OWAMP, &x);
}

static int d_accept_tw(const uint8_t *b, size_t n)
{
    struct wire_accept_session x;
    return wire_accept_session_decode(b, n, WIRE_TWAMP, &x);
}

static int d_start(const uint8_t *b, size_t n)
{
    struct wire_start_sessions x;
    return wire_start_sessions_decode(b, n, &x);
}

static int d_start_ack(const uint8_t *b, size_t n)
{
    struct wire_start_ack x;
    return wire_start_ack_decode(b, n, &x);
}

static int d_stop_ow(const uint8_t *b, size_t n)
{
    struct wire_stop_sessions x = {.desc = NULL};
    return wire_stop_sessions_decode(b, n, WIRE_OWAMP, &x);
}

static int d_stop_tw(const uint8_t *b, size_t n)
{
    struct wire_stop_sessions x = {.desc = NULL};
    return wire_stop_sessions_decode(b, n, WIRE_TWAMP, &x);
}

static int d_nsessions(const uint8_t *b, size_t n)
{
    struct wire_nsessions x;
    return wire_nsessions_decode(b, n, &x);
}

static int d_fetch(const uint8_t *b, size_t n)
{
    struct wire_fetch_session x;
    return wire_fetch_session_decode(b, n, &x);
}

static int d_fetch_ack(const uint8_t *b, size_t n)
{
    struct wire_fetch_ack x;
    return wire_fetch_ack_decode(b, n, &x);
}

static int d_skips3(const uint8_t *b, size_t n)
{
    struct wire_skip_section x = {.n = 3};
    return wire_skip_section_decode(b, n, &x);
}

static int d_records3(const uint8_t *b, size_t n)
{
    struct wire_records_section x = {.n = 3};
    return wire_records_section_decode(b, n, &x);
}

struct span {
    size_t off, len;
};

/* A valid message, its decoder and its MBZ octets (offset 0, length 0 ends the list). */
struct bad_case {
    const char *name;
    uint8_t buf[176];
    size_t len;
    decode_fn dec;
    struct span mbz[5];
};

/* Fill the table with valid encodings of every message; returns the number of cases. */
static size_t make_cases(struct bad_case *c)
{
    struct wire_greeting g = {.modes = 7, .count = 2048};
    struct wire_setup su = {.mode = WIRE_MODE_ENC};
    struct wire_server_start ss = {.accept = 0};
    struct wire_request rq;
    struct wire_slot sl3[3] = {{0, 1}, {1, 2}, {0, 3}};
    struct wire_slots sl = {.n = 3, .slot = sl3};
    struct wire_accept_session as = {.port = 1};
    struct wire_start_sessions st = {{0}};
    struct wire_start_ack sa = {.accept = 0};
    struct wire_stop_sessions tws = {.nsessions = 1};
    struct wire_session_desc d[2] = {{.skip = NULL}};
    uint8_t sids[2 * WIRE_SID_LEN] = {1};
    struct wire_nsessions sn = {.cmd = WIRE_CMD_START_N_SESSIONS, .nsessions = 2, .sids = sids};
    struct wire_nsessions sna = {
        .cmd = WIRE_CMD_STOP_N_ACK, .accept = 1, .nsessions = 1, .sids = sids};
    struct wire_fetch_session fs = {0, 10, {0}, {0}};
    struct wire_fetch_ack fa = {.accept = 0, .nrecords = 3};
    struct wire_skip_section sk = {.n = 3, .cskip = stop_skips};
    struct wire_record rec[3] = {{0, 1, 1, 2, 3, 255}, {1, 1, 1, 2, 3, 255}, {2, 1, 1, 2, 3, 255}};
    struct wire_records_section rs = {.n = 3, .crec = rec};
    size_t n = 0;

#define CASE(nm, fn, expr, ...)                                                                    \
    do {                                                                                           \
        c[n] = (struct bad_case){.name = nm, .dec = fn, .mbz = {__VA_ARGS__}};                     \
        int len_ = (expr);                                                                         \
        assert_true(len_ > 0);                                                                     \
        c[n].len = (size_t)len_;                                                                   \
        n++;                                                                                       \
    } while (0)

    CASE("greeting", d_greeting, wire_greeting_encode(&g, c[n].buf, 176), {52, 12});
    CASE("setup", d_setup, wire_setup_encode(&su, WIRE_OWAMP, c[n].buf, 176), {0, 0});
    CASE("server-start", d_server_start, wire_server_start_encode(&ss, c[n].buf, 176), {0, 15},
         {40, 8});
    make_request(&rq, WIRE_TWAMP); /* IPv4 */
    rq.conf_sender = 1;
    rq.nslots = 3;
    CASE("request-ow", d_req_ow, wire_request_encode(&rq, WIRE_OWAMP, c[n].buf, 176), {20, 12},
         {36, 12}, {88, 8});
    make_request(&rq, WIRE_TWAMP);
    CASE("request-tw", d_req_tw, wire_request_encode(&rq, WIRE_TWAMP, c[n].buf, 176), {20, 12},
         {36, 12}, {92, 4});
    CASE("slots", d_slots3, wire_slots_encode(&sl, c[n].buf, 176), {1, 7}, {17, 7}, {33, 7});
    CASE("accept-ow", d_accept_ow, wire_accept_session_encode(&as, WIRE_OWAMP, c[n].buf, 176),
         {1, 1}, {20, 12});
    CASE("accept-tw", d_accept_tw, wire_accept_session_encode(&as, WIRE_TWAMP, c[n].buf, 176),
         {1, 1}, {24, 8});
    CASE("start", d_start, wire_start_sessions_encode(&st, c[n].buf, 176), {1, 15});
    CASE("start-ack", d_start_ack, wire_start_ack_encode(&sa, c[n].buf, 176), {1, 15});
    CASE("stop-ow", d_stop_ow, make_stop(c[n].buf, 176, d), {2, 2}, {8, 8}, {88, 8});
    CASE("stop-tw", d_stop_tw, wire_stop_sessions_encode(&tws, WIRE_TWAMP, c[n].buf, 176), {2, 2},
         {8, 8});
    CASE("start-n", d_nsessions, wire_nsessions_encode(&sn, c[n].buf, 176), {1, 1}, {2, 10});
    CASE("stop-n-ack", d_nsessions, wire_nsessions_encode(&sna, c[n].buf, 176), {2, 10});
    CASE("fetch", d_fetch, wire_fetch_session_encode(&fs, c[n].buf, 176), {1, 7});
    CASE("fetch-ack", d_fetch_ack, wire_fetch_ack_encode(&fa, c[n].buf, 176), {2, 2});
    CASE("skips", d_skips3, wire_skip_section_encode(&sk, c[n].buf, 176), {24, 8});
    CASE("records", d_records3, wire_records_section_encode(&rs, c[n].buf, 176), {75, 5});
#undef CASE
    return n;
}

/* Every message decodes whole, fails LP_E_SHORT at every shorter length, and LP_E_MBZ with
 * any single must-be-zero octet set. */
static void test_malformed_table(void **state)
{
    static struct bad_case cases[24];
    size_t ncases = make_cases(cases);

    (void)state;
    for (size_t i = 0; i < ncases; i++) {
        struct bad_case *c = &cases[i];

        print_message("# %s (%zu octets)\n", c->name, c->len);
        assert_int_equal(c->dec(c->buf, c->len), (int)c->len);
        for (size_t n = 0; n < c->len; n++) {
            uint8_t *copy = malloc(n + 1); /* exact-size buffer: no read past n */

            memcpy(copy, c->buf, n);
            assert_int_equal(c->dec(copy, n), LP_E_SHORT);
            free(copy);
        }
        for (size_t s = 0; s < 5 && c->mbz[s].len > 0; s++) {
            for (size_t o = c->mbz[s].off; o < c->mbz[s].off + c->mbz[s].len; o++) {
                assert_int_equal(c->buf[o], 0);
                c->buf[o] = 0x01;
                assert_int_equal(c->dec(c->buf, c->len), LP_E_MBZ);
                c->buf[o] = 0x80;
                assert_int_equal(c->dec(c->buf, c->len), LP_E_MBZ);
                c->buf[o] = 0;
            }
        }
    }
}

static void test_bad_fields(void **state)
{
    static struct bad_case c[24];
    uint8_t buf[176];
    struct wire_request rq;
    struct wire_setup su = {.mode = WIRE_MODE_OPEN};
    struct wire_slot bad_slot = {2, 0};
    struct wire_slots sl = {.n = 1, .slot = &bad_slot};
    struct wire_skip_range backwards = {5, 4};
    struct wire_skip_section sk = {.n = 1, .cskip = &backwards};
    struct wire_nsessions sn = {.cmd = WIRE_CMD_START_N_SESSIONS, .accept = 1};

    (void)state;
    make_cases(c);
    /* Request: MBZ nibble before IPVN, bad IPVN, Conf values, Type-P MBZ, slot count. */
    c[3].buf[1] = 0x14;
    assert_int_equal(d_req_ow(c[3].buf, c[3].len), LP_E_MBZ);
    c[3].buf[1] = 5;
    assert_int_equal(d_req_ow(c[3].buf, c[3].len), LP_E_VALUE);
    c[3].buf[1] = 4;
    c[3].buf[2] = 2;
    assert_int_equal(d_req_ow(c[3].buf, c[3].len), LP_E_VALUE);
    c[3].buf[2] = 1;
    c[3].buf[87] = 1; /* Type-P DSCP format: low 24 bits MBZ */
    assert_int_equal(d_req_ow(c[3].buf, c[3].len), LP_E_MBZ);
    c[3].buf[87] = 0;
    c[3].buf[84] = 0x80; /* format 2: decoded, left to the server to refuse */
    assert_int_equal(d_req_ow(c[3].buf, c[3].len), 112);
    lp_store32(c[3].buf + 4, WIRE_MAX_SLOTS + 1);
    assert_int_equal(d_req_ow(c[3].buf, c[3].len), LP_E_LEN);
    make_request(&rq, WIRE_OWAMP);
    rq.nslots = WIRE_MAX_SLOTS + 1;
    assert_int_equal(wire_request_encode(&rq, WIRE_OWAMP, buf, sizeof(buf)), LP_E_LEN);
    rq.nslots = 1;
    rq.ipvn = 0;
    assert_int_equal(wire_request_encode(&rq, WIRE_OWAMP, buf, sizeof(buf)), LP_E_VALUE);

    /* Unknown or misplaced command numbers. */
    c[3].buf[0] = WIRE_CMD_REQUEST_TW_SESSION;
    assert_int_equal(d_req_ow(c[3].buf, c[3].len), LP_E_CMD);
    c[8].buf[0] = WIRE_CMD_STOP_SESSIONS;
    assert_int_equal(d_start(c[8].buf, c[8].len), LP_E_CMD);
    c[10].buf[0] = WIRE_CMD_START_SESSIONS;
    assert_int_equal(d_stop_ow(c[10].buf, c[10].len), LP_E_CMD);
    c[14].buf[0] = WIRE_CMD_REQUEST_SESSION;
    assert_int_equal(d_fetch(c[14].buf, c[14].len), LP_E_CMD);
    c[12].buf[0] = WIRE_CMD_EXPERIMENTATION;
    assert_int_equal(d_nsessions(c[12].buf, c[12].len), LP_E_CMD);
    c[12].buf[0] = 11;
    assert_int_equal(d_nsessions(c[12].buf, c[12].len), LP_E_CMD);

    /* Modes. */
    lp_store32(c[1].buf, 0);
    assert_int_equal(d_setup(c[1].buf, c[1].len), LP_E_MODE);
    lp_store32(c[1].buf, WIRE_MODE_OPEN | WIRE_MODE_AUTH);
    assert_int_equal(d_setup(c[1].buf, c[1].len), LP_E_MODE);
    lp_store32(c[1].buf, WIRE_MODE_AUTH | WIRE_MODE_INDIV_CTRL); /* a TWAMP feature */
    assert_int_equal(d_setup(c[1].buf, c[1].len), LP_E_MODE);
    lp_store32(c[1].buf, WIRE_MODE_AUTH | WIRE_MODE_IKEV2);
    assert_int_equal(d_setup(c[1].buf, c[1].len), WIRE_SETUP_LEN);
    su.mode = 0x400;
    assert_int_equal(wire_setup_encode(&su, WIRE_TWAMP, buf, sizeof(buf)), LP_E_MODE);

    /* Counts beyond the bounds or the buffer. */
    lp_store32(c[10].buf + 4, WIRE_MAX_SESSIONS + 1);
    c[10].buf[0] = WIRE_CMD_STOP_SESSIONS;
    assert_int_equal(d_stop_ow(c[10].buf, c[10].len), LP_E_LEN);
    lp_store32(c[10].buf + 4, 2);
    lp_store32(c[10].buf + 16 + 20, WIRE_MAX_SKIP_RANGES + 1);
    assert_int_equal(d_stop_ow(c[10].buf, c[10].len), LP_E_LEN);
    lp_store32(c[10].buf + 16 + 20, 3); /* the second description now ends past the HMAC */
    assert_int_equal(d_stop_ow(c[10].buf, c[10].len), LP_E_SHORT);
    lp_store32(c[11].buf + 4, WIRE_MAX_SESSIONS + 1);
    assert_int_equal(d_stop_tw(c[11].buf, c[11].len), LP_E_LEN);
    lp_store32(c[13].buf + 12, WIRE_MAX_SESSIONS + 1);
    assert_int_equal(d_nsessions(c[13].buf, c[13].len), LP_E_LEN);
    lp_store32(c[13].buf + 12, 2); /* claims 2 SIDs, carries 1 */
    assert_int_equal(d_nsessions(c[13].buf, c[13].len), LP_E_SHORT);
    sl.n = WIRE_MAX_SLOTS + 1;
    assert_int_equal(wire_slots_decode(buf, sizeof(buf), &sl), LP_E_LEN);

    /* Values: slot type, skip range order, Start-N-Sessions has no Accept. */
    sl.n = 1;
    assert_int_equal(wire_slots_encode(&sl, buf, sizeof(buf)), LP_E_VALUE);
    c[5].buf[16] = 2;
    assert_int_equal(d_slots3(c[5].buf, c[5].len), LP_E_VALUE);
    assert_int_equal(wire_skip_section_encode(&sk, buf, sizeof(buf)), LP_E_VALUE);
    lp_store32(c[16].buf + 8, 1); /* second range starts before the first ends */
    assert_int_equal(d_skips3(c[16].buf, c[16].len), LP_E_VALUE);
    lp_store32(c[16].buf + 8, 7);
    assert_int_equal(d_skips3(c[16].buf, c[16].len), 48);
    lp_store32(c[16].buf, 100); /* first > last */
    assert_int_equal(d_skips3(c[16].buf, c[16].len), LP_E_VALUE);
    assert_int_equal(wire_nsessions_encode(&sn, buf, sizeof(buf)), LP_E_VALUE);
    sn.cmd = 6;
    sn.accept = 0;
    assert_int_equal(wire_nsessions_encode(&sn, buf, sizeof(buf)), LP_E_CMD);
}

/* ------------------------------------------------------------------- framing */

/* Feed a stream 16 octets at a time, as a block decryptor would; returns message lengths. */
static size_t split_stream(const uint8_t *st, size_t len, enum wire_proto proto, long *out)
{
    size_t off = 0, nmsg = 0;

    while (off < len) {
        size_t have = 0;
        bool known = false;
        long n = 0;

        while (!known || (size_t)n > have) {
            n = wire_ctrl_msg_len(st + off, have, proto, WIRE_MSG_COMMAND, &known);
            assert_true(n > 0);
            assert_int_equal(n % 16, 0);
            if ((size_t)n > have) {
                have += 16;
            }
        }
        out[nmsg++] = n;
        off += (size_t)n;
    }
    assert_int_equal(off, len);
    return nmsg;
}

static void test_framing_streams(void **state)
{
    uint8_t st[432], data[432], tw[WIRE_REQUEST_LEN + 64] = {0};
    long lens[8];
    bool known;

    (void)state;
    /* owamp-open, client -> server: two Request-Sessions of 112 + 32, Start-Sessions,
     * Stop-Sessions of 64, Fetch-Session. */
    unhex(OW_CLIENT_STREAM, st, sizeof(st));
    assert_int_equal(split_stream(st, sizeof(st), WIRE_OWAMP, lens), 5);
    assert_int_equal(lens[0], 144);
    assert_int_equal(lens[1], 144);
    assert_int_equal(lens[2], 32);
    assert_int_equal(lens[3], 64);
    assert_int_equal(lens[4], 48);
    /* One block of a Request-Session tells its whole length. */
    assert_int_equal(wire_ctrl_msg_len(st, 16, WIRE_OWAMP, WIRE_MSG_COMMAND, &known), 144);
    assert_true(known);
    assert_int_equal(wire_ctrl_msg_len(st, 0, WIRE_OWAMP, WIRE_MSG_COMMAND, &known), 16);
    assert_false(known);

    /* The stored request after a Fetch-Ack, then the sized sections. */
    unhex(OW_FETCH_DATA, data, sizeof(data));
    assert_int_equal(wire_ctrl_msg_len(data, 16, WIRE_OWAMP, WIRE_MSG_COMMAND, &known), 144);

    /* twamp-open, client -> server: Request-TW-Session, Start-Sessions, Stop-Sessions. */
    unhex(TW_REQUEST, tw, 112);
    tw[112] = WIRE_CMD_START_SESSIONS;
    tw[144] = WIRE_CMD_STOP_SESSIONS;
    tw[151] = 1;
    assert_int_equal(split_stream(tw, sizeof(tw), WIRE_TWAMP, lens), 3);
    assert_int_equal(lens[0], 112);
    assert_int_equal(lens[1], 32);
    assert_int_equal(lens[2], 32);
}

static void test_framing_progressive(void **state)
{
    uint8_t buf[176];
    struct wire_session_desc d[2] = {{.skip = NULL}};
    uint8_t sids[3 * WIRE_SID_LEN] = {0};
    struct wire_nsessions sn = {.cmd = WIRE_CMD_STOP_N_SESSIONS, .nsessions = 3, .sids = sids};
    static const long stop_steps[][3] = {/* have, n, known */
                                         {0, 16, 0},  {16, 48, 0},  {32, 48, 0},
                                         {48, 80, 0}, {80, 112, 1}, {112, 112, 1}};
    bool known;

    (void)state;
    /* OWAMP Stop-Sessions, descriptions of 1 and 2 skip ranges: walked block by block. */
    assert_int_equal(make_stop(buf, sizeof(buf), d), 112);
    for (size_t i = 0; i < LP_ARRAY_LEN(stop_steps); i++) {
        long n =
            wire_ctrl_msg_len(buf, (size_t)stop_steps[i][0], WIRE_OWAMP, WIRE_MSG_COMMAND, &known);

        assert_int_equal(n, stop_steps[i][1]);
        assert_int_equal(known, stop_steps[i][2] != 0);
    }
    lp_store32(buf + 4, 0); /* no descriptions: header + HMAC */
    assert_int_equal(wire_ctrl_msg_len(buf, 16, WIRE_OWAMP, WIRE_MSG_COMMAND, &known), 32);
    assert_true(known);
    lp_store32(buf + 4, WIRE_MAX_SESSIONS + 1);
    assert_int_equal(wire_ctrl_msg_len(buf, 16, WIRE_OWAMP, WIRE_MSG_COMMAND, &known), LP_E_LEN);
    lp_store32(buf + 4, 2);
    lp_store32(buf + 36, WIRE_MAX_SKIP_RANGES + 1);
    assert_int_equal(wire_ctrl_msg_len(buf, 48, WIRE_OWAMP, WIRE_MSG_COMMAND, &known), LP_E_LEN);

    /* RFC 5938 messages: the count in the first block sizes them. */
    assert_int_equal(wire_nsessions_encode(&sn, buf, sizeof(buf)), 80);
    assert_int_equal(wire_ctrl_msg_len(buf, 0, WIRE_TWAMP, WIRE_MSG_COMMAND, &known), 16);
    assert_false(known);
    assert_int_equal(wire_ctrl_msg_len(buf, 16, WIRE_TWAMP, WIRE_MSG_COMMAND, &known), 80);
    assert_true(known);
    lp_store32(buf + 12, WIRE_MAX_SESSIONS + 1);
    assert_int_equal(wire_ctrl_msg_len(buf, 16, WIRE_TWAMP, WIRE_MSG_COMMAND, &known), LP_E_LEN);

    /* Over-long OWAMP schedules. */
    buf[0] = WIRE_CMD_REQUEST_SESSION;
    lp_store32(buf + 4, WIRE_MAX_SLOTS + 1);
    assert_int_equal(wire_ctrl_msg_len(buf, 16, WIRE_OWAMP, WIRE_MSG_COMMAND, &known), LP_E_LEN);
}

static void test_framing_kinds(void **state)
{
    static const struct {
        enum wire_msg kind;
        long len;
    } fixed[] = {{WIRE_MSG_GREETING, 64},     {WIRE_MSG_SETUP, 164},
                 {WIRE_MSG_SERVER_START, 48}, {WIRE_MSG_ACCEPT_SESSION, 48},
                 {WIRE_MSG_START_ACK, 32},    {WIRE_MSG_FETCH_ACK, 32}};
    static const struct {
        enum wire_proto proto;
        uint8_t cmd;
        long len;
    } cmds[] = {
        {WIRE_OWAMP, 0, LP_E_CMD},   {WIRE_OWAMP, 2, 32},       {WIRE_OWAMP, 4, 48},
        {WIRE_OWAMP, 5, LP_E_CMD},   {WIRE_OWAMP, 7, LP_E_CMD}, {WIRE_TWAMP, 1, LP_E_CMD},
        {WIRE_TWAMP, 2, 32},         {WIRE_TWAMP, 3, 32},       {WIRE_TWAMP, 4, LP_E_CMD},
        {WIRE_TWAMP, 5, 112},        {WIRE_TWAMP, 6, LP_E_CMD}, {WIRE_TWAMP, 11, LP_E_CMD},
        {WIRE_TWAMP, 255, LP_E_CMD},
    };
    uint8_t blk[16] = {0};
    bool known;

    (void)state;
    for (size_t i = 0; i < LP_ARRAY_LEN(fixed); i++) {
        known = false;
        assert_int_equal(wire_ctrl_msg_len(NULL, 0, WIRE_OWAMP, fixed[i].kind, &known),
                         fixed[i].len);
        assert_true(known);
    }
    assert_int_equal(wire_ctrl_msg_len(blk, 16, WIRE_OWAMP, (enum wire_msg)99, &known), LP_E_VALUE);
    for (size_t i = 0; i < LP_ARRAY_LEN(cmds); i++) {
        blk[0] = cmds[i].cmd;
        assert_int_equal(wire_ctrl_msg_len(blk, 16, cmds[i].proto, WIRE_MSG_COMMAND, &known),
                         cmds[i].len);
    }
    /* The Fetch sections. */
    assert_int_equal(wire_fetch_skips_len(0), 16);
    assert_int_equal(wire_fetch_skips_len(1), 32);
    assert_int_equal(wire_fetch_skips_len(2), 32);
    assert_int_equal(wire_fetch_records_len(10), 272); /* owamp-open: 250 -> 256 + 16 */
    assert_int_equal(wire_fetch_records_len(0), 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_table), cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_framing_streams), cmocka_unit_test(test_framing_progressive),
        cmocka_unit_test(test_framing_kinds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
