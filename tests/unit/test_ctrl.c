/* test_ctrl.c - client and server control state machines talking to each other through
 * byte buffers, in every mode; tampering and wrong pass-phrases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctrl.h"

static const uint8_t PASS[] = "correct horse battery staple";
#define PASSLEN (sizeof(PASS) - 1)

struct pair {
    struct ctrl *cli, *srv;
};

/* Move every pending octet from a to b. */
static void pump_one(struct ctrl *a, struct ctrl *b)
{
    const uint8_t *p;
    size_t n;
    ctrl_output(a, &p, &n);
    if (n > 0) {
        assert_int_equal(ctrl_input(b, p, n), 0);
        ctrl_output_done(a, n);
    }
}

static void pump(struct pair *pr)
{
    pump_one(pr->cli, pr->srv);
    pump_one(pr->srv, pr->cli);
}

/* Next event of c after pumping; asserts its type. */
static void expect_ev(struct pair *pr, struct ctrl *c, enum ctrl_ev type, struct ctrl_event *ev)
{
    pump(pr);
    assert_int_equal(ctrl_next(c, ev), 1);
    assert_int_equal(ev->type, type);
}

/* Handshake in mode; returns the server's Accept result. */
static int handshake(struct pair *pr, enum wire_proto proto, uint32_t mode, const uint8_t *srvpass)
{
    struct ctrl_event ev;
    uint32_t offered = WIRE_MODE_OPEN | WIRE_MODE_AUTH | WIRE_MODE_ENC |
                       (proto == WIRE_TWAMP ? WIRE_MODE_MIXED : 0);
    pr->srv = ctrl_create(proto, CTRL_SERVER, offered, 1024);
    pr->cli = ctrl_create(proto, CTRL_CLIENT, 0, 0);
    assert_non_null(pr->srv);
    assert_non_null(pr->cli);
    expect_ev(pr, pr->cli, CTRL_EV_GREETING, &ev);
    assert_int_equal(ev.u.greeting.modes, offered);
    assert_int_equal(ctrl_choose_mode(ev.u.greeting.modes, mode | WIRE_MODE_OPEN), mode);
    assert_int_equal(ctrl_client_setup(pr->cli, mode, "alice", PASS, PASSLEN), 0);
    expect_ev(pr, pr->srv, CTRL_EV_SETUP, &ev);
    assert_int_equal(ev.u.setup.mode, mode);
    if (mode != WIRE_MODE_OPEN) {
        assert_string_equal(ev.u.setup.identity, "alice");
    }
    struct clk_ntp t0 = {0xeeb39600ull << 32};
    int rc =
        ctrl_server_start(pr->srv, srvpass, srvpass ? strlen((const char *)srvpass) : 0, true, t0);
    expect_ev(pr, pr->cli, CTRL_EV_SERVER_START, &ev);
    assert_int_equal(ev.u.server_start.accept, rc == 0 ? 0 : 1);
    if (rc == 0) {
        assert_int_equal(ev.u.server_start.start_time.raw, t0.raw);
    }
    return rc;
}

static void done(struct pair *pr)
{
    ctrl_destroy(pr->cli);
    ctrl_destroy(pr->srv);
}

static void owamp_session(uint32_t mode)
{
    struct pair pr;
    struct ctrl_event ev;
    assert_int_equal(handshake(&pr, WIRE_OWAMP, mode, PASS), 0);
    if (mode != WIRE_MODE_OPEN) {
        assert_memory_equal(ctrl_keys(pr.cli), ctrl_keys(pr.srv), sizeof(struct cry_session_keys));
    }
    struct wire_slot slots[2] = {{WIRE_SLOT_EXP, 0x19999999}, {WIRE_SLOT_FIXED, 1ull << 32}};
    struct wire_request r = {.ipvn = 4,
                             .conf_receiver = 1,
                             .nslots = 2,
                             .npackets = 10,
                             .sender_port = 9000,
                             .timeout = 2ull << 32};
    r.sender_addr[0] = 127, r.sender_addr[3] = 1;
    r.receiver_addr[0] = 127, r.receiver_addr[3] = 1;
    assert_int_equal(ctrl_send_request(pr.cli, &r, slots), 0);
    expect_ev(&pr, pr.srv, CTRL_EV_REQUEST, &ev);
    assert_int_equal(ev.u.request.req.npackets, 10);
    assert_int_equal(ev.u.request.req.nslots, 2);
    assert_int_equal(ev.u.request.slots[1].type, WIRE_SLOT_FIXED);
    assert_int_equal(ev.u.request.slots[0].param, 0x19999999);

    struct wire_accept_session a = {.accept = 0, .port = 18700};
    memset(a.sid, 0xab, sizeof(a.sid));
    assert_int_equal(ctrl_send_accept(pr.srv, &a), 0);
    expect_ev(&pr, pr.cli, CTRL_EV_ACCEPT_SESSION, &ev);
    assert_int_equal(ev.u.accept.port, 18700);
    assert_memory_equal(ev.u.accept.sid, a.sid, 16);

    assert_int_equal(ctrl_send_start(pr.cli), 0);
    expect_ev(&pr, pr.srv, CTRL_EV_START, &ev);
    assert_int_equal(ctrl_send_start_ack(pr.srv, 0), 0);
    expect_ev(&pr, pr.cli, CTRL_EV_START_ACK, &ev);

    struct wire_skip_range skip = {3, 4};
    struct wire_session_desc d = {.next_seqno = 10, .nskips = 1, .skip = &skip};
    memcpy(d.sid, a.sid, 16);
    struct wire_stop_sessions st = {.nsessions = 1, .desc = &d};
    assert_int_equal(ctrl_send_stop(pr.cli, &st), 0);
    expect_ev(&pr, pr.srv, CTRL_EV_STOP, &ev);
    assert_int_equal(ev.u.stop.nsessions, 1);
    assert_int_equal(ev.u.stop.desc[0].next_seqno, 10);
    assert_int_equal(ev.u.stop.desc[0].nskips, 1);
    assert_int_equal(ev.u.stop.desc[0].skip[0].last, 4);

    struct wire_fetch_session f = {.begin_seq = 0, .end_seq = 0xffffffff};
    memcpy(f.sid, a.sid, 16);
    assert_int_equal(ctrl_send_fetch(pr.cli, &f), 0);
    expect_ev(&pr, pr.srv, CTRL_EV_FETCH, &ev);
    assert_int_equal(ev.u.fetch.end_seq, 0xffffffff);

    struct wire_record rec[7];
    for (int i = 0; i < 7; i++) {
        rec[i] = (struct wire_record){.seq = (uint32_t)i,
                                      .send_errest = 1,
                                      .recv_errest = 1,
                                      .send_ts = 1000 + (uint64_t)i,
                                      .recv_ts = 2000 + (uint64_t)i,
                                      .ttl = 255};
    }
    struct wire_fetch_ack fa = {
        .accept = 0, .finished = 1, .next_seqno = 10, .nskips = 1, .nrecords = 7};
    memcpy(r.sid, a.sid, 16);
    assert_int_equal(ctrl_send_fetch_reply(pr.srv, &fa, &r, slots, &skip, rec), 0);
    expect_ev(&pr, pr.cli, CTRL_EV_FETCH_ACK, &ev);
    assert_int_equal(ev.u.fetch_ack.nrecords, 7);
    expect_ev(&pr, pr.cli, CTRL_EV_FETCH_HEAD, &ev); /* the stored request, the skip range */
    assert_memory_equal(ev.u.fetch_head.req.sid, a.sid, 16);
    assert_int_equal(ev.u.fetch_head.req.npackets, r.npackets);
    assert_int_equal(ev.u.fetch_head.req.nslots, r.nslots);
    assert_int_equal(ev.u.fetch_head.slots[0].param, slots[0].param);
    assert_int_equal(ev.u.fetch_head.nskips, 1);
    assert_int_equal(ev.u.fetch_head.skips[0].first, skip.first);
    assert_int_equal(ev.u.fetch_head.skips[0].last, skip.last);
    for (int i = 0; i < 7; i++) {
        expect_ev(&pr, pr.cli, CTRL_EV_FETCH_RECORD, &ev);
        assert_int_equal(ev.u.record.seq, i);
        assert_int_equal(ev.u.record.recv_ts, 2000 + i);
    }
    expect_ev(&pr, pr.cli, CTRL_EV_FETCH_DONE, &ev);
    assert_int_equal(ctrl_next(pr.cli, &ev), 0);
    done(&pr);
}

/* ---- a Fetch reply streamed from a record source ---- */

#define STREAM_N 10000 /* 250,000 octets of records: several refills */

struct src {
    uint32_t next, calls, fail_at;
};

/* Records seq 0, 1, ...; every third call has none ready; -1 once fail_at is reached. */
static long stream_src(void *arg, struct wire_record *out, size_t max)
{
    struct src *s = arg;
    if (++s->calls % 3 == 0) {
        return 0;
    }
    if (s->fail_at && s->next >= s->fail_at) {
        return -1;
    }
    size_t k = 0;
    for (; k < max && s->next < STREAM_N; k++, s->next++) {
        out[k] = (struct wire_record){.seq = s->next,
                                      .send_errest = 1,
                                      .recv_errest = 2,
                                      .send_ts = 1000 + (uint64_t)s->next,
                                      .recv_ts = 5000 + 3 * (uint64_t)s->next,
                                      .ttl = 64};
    }
    return (long)k;
}

/* Move up to chunk octets from the server to the client, asking for more records when the
 * server's output is empty as a daemon does. */
static void trickle(struct pair *pr, size_t chunk)
{
    const uint8_t *p;
    size_t n;
    ctrl_output(pr->srv, &p, &n);
    if (n == 0 && ctrl_fetch_pending(pr->srv)) {
        ctrl_fetch_refill(pr->srv);
        ctrl_output(pr->srv, &p, &n);
    }
    n = n < chunk ? n : chunk;
    if (n > 0) {
        assert_int_equal(ctrl_input(pr->cli, p, n), 0);
        ctrl_output_done(pr->srv, n);
    }
}

/* Set up mode, ask for a fetch, answer with a stream from src; the request it describes. */
static void stream_begin(struct pair *pr, uint32_t mode, struct src *src)
{
    struct ctrl_event ev;
    assert_int_equal(handshake(pr, WIRE_OWAMP, mode, PASS), 0);
    static const struct wire_slot slots[1] = {{WIRE_SLOT_EXP, 0x19999999}};
    struct wire_request r = {
        .ipvn = 4, .conf_receiver = 1, .nslots = 1, .npackets = STREAM_N, .timeout = 2ull << 32};
    struct wire_fetch_session f = {.begin_seq = 0, .end_seq = 0xffffffff};
    memset(f.sid, 0x5a, sizeof(f.sid));
    memcpy(r.sid, f.sid, sizeof(r.sid));
    assert_int_equal(ctrl_send_fetch(pr->cli, &f), 0);
    expect_ev(pr, pr->srv, CTRL_EV_FETCH, &ev);
    struct wire_fetch_ack fa = {
        .accept = 0, .finished = 1, .next_seqno = STREAM_N, .nrecords = STREAM_N};
    assert_int_equal(ctrl_send_fetch_stream(pr->srv, &fa, &r, slots, NULL, stream_src, src), 0);
    assert_true(ctrl_fetch_pending(pr->srv));
    /* nothing may cut into the reply */
    struct wire_stop_sessions st = {.accept = 0, .nsessions = 0};
    assert_true(ctrl_send_stop(pr->srv, &st) < 0);
}

/* The streamed reply reads back record by record, HMACs verified, in every mode, however
 * the octets are cut. */
static void stream_mode(uint32_t mode)
{
    struct pair pr;
    struct ctrl_event ev;
    struct src src = {0};
    stream_begin(&pr, mode, &src);
    uint32_t got = 0;
    bool ack = false, finished = false;
    for (int guard = 0; guard < 100000 && !finished; guard++) {
        trickle(&pr, 1000 + (size_t)guard % 37); /* never on a block boundary for long */
        int rc;
        while ((rc = ctrl_next(pr.cli, &ev)) == 1) {
            if (ev.type == CTRL_EV_FETCH_ACK) {
                assert_int_equal(ev.u.fetch_ack.nrecords, STREAM_N);
                ack = true;
            } else if (ev.type == CTRL_EV_FETCH_HEAD) {
                assert_true(ack && got == 0);
            } else if (ev.type == CTRL_EV_FETCH_RECORD) {
                assert_int_equal(ev.u.record.seq, got);
                assert_int_equal(ev.u.record.recv_ts, 5000 + 3 * (uint64_t)got);
                assert_int_equal(ev.u.record.ttl, 64);
                got++;
            } else {
                assert_int_equal(ev.type, CTRL_EV_FETCH_DONE);
                finished = true;
            }
        }
        assert_int_equal(rc, 0);
    }
    assert_true(ack && finished);
    assert_int_equal(got, STREAM_N);
    assert_false(ctrl_fetch_pending(pr.srv));
    /* the stream keeps its place: the next message still verifies */
    struct wire_stop_sessions st = {.accept = 0, .nsessions = 0};
    assert_int_equal(ctrl_send_stop(pr.srv, &st), 0);
    expect_ev(&pr, pr.cli, CTRL_EV_STOP, &ev);
    done(&pr);
}

static void test_fetch_stream(void **state)
{
    (void)state;
    stream_mode(WIRE_MODE_OPEN);
    stream_mode(WIRE_MODE_AUTH);
    stream_mode(WIRE_MODE_ENC);
}

/* A source that cannot produce the records announced closes the channel. */
static void test_fetch_stream_fails(void **state)
{
    (void)state;
    struct pair pr;
    struct src src = {.fail_at = 3000};
    stream_begin(&pr, WIRE_MODE_ENC, &src);
    struct ctrl_event ev;
    uint32_t got = 0;
    for (int guard = 0; guard < 10000 && !ctrl_closed(pr.srv); guard++) {
        trickle(&pr, 4096);
        while (ctrl_next(pr.cli, &ev) == 1) {
            assert_int_not_equal(ev.type, CTRL_EV_FETCH_DONE);
            got += ev.type == CTRL_EV_FETCH_RECORD;
        }
    }
    assert_true(got <= src.fail_at); /* what was produced, and never the end of the reply */
    assert_true(ctrl_closed(pr.srv));
    assert_false(ctrl_fetch_pending(pr.srv));
    done(&pr);
}

static void test_owamp_open(void **state)
{
    (void)state;
    owamp_session(WIRE_MODE_OPEN);
}

static void test_owamp_auth(void **state)
{
    (void)state;
    owamp_session(WIRE_MODE_AUTH);
}

static void test_owamp_enc(void **state)
{
    (void)state;
    owamp_session(WIRE_MODE_ENC);
}

static void twamp_session(uint32_t mode)
{
    struct pair pr;
    struct ctrl_event ev;
    assert_int_equal(handshake(&pr, WIRE_TWAMP, mode, PASS), 0);
    struct wire_request r = {.ipvn = 4,
                             .sender_port = 9000,
                             .receiver_port = 9000,
                             .padding_len = 27,
                             .timeout = 2ull << 32,
                             .octets_reflected = 0};
    assert_int_equal(ctrl_send_request(pr.cli, &r, NULL), 0);
    expect_ev(&pr, pr.srv, CTRL_EV_REQUEST, &ev);
    assert_int_equal(ev.u.request.req.padding_len, 27);
    struct wire_accept_session a = {.port = 18800, .sid = {1, 2, 3}};
    assert_int_equal(ctrl_send_accept(pr.srv, &a), 0);
    expect_ev(&pr, pr.cli, CTRL_EV_ACCEPT_SESSION, &ev);
    assert_int_equal(ev.u.accept.port, 18800);
    assert_int_equal(ctrl_send_nsessions(pr.cli, WIRE_CMD_START_N_SESSIONS, 0, a.sid, 1), 0);
    expect_ev(&pr, pr.srv, CTRL_EV_NSESSIONS, &ev);
    assert_int_equal(ev.u.nsessions.cmd, WIRE_CMD_START_N_SESSIONS);
    assert_memory_equal(ev.u.nsessions.sids, a.sid, 16);
    assert_int_equal(ctrl_send_nsessions(pr.srv, WIRE_CMD_START_N_ACK, 0, a.sid, 1), 0);
    expect_ev(&pr, pr.cli, CTRL_EV_NSESSIONS, &ev);
    assert_int_equal(ev.u.nsessions.cmd, WIRE_CMD_START_N_ACK);
    struct wire_stop_sessions st = {.nsessions = 1};
    assert_int_equal(ctrl_send_stop(pr.cli, &st), 0);
    expect_ev(&pr, pr.srv, CTRL_EV_STOP, &ev);
    assert_int_equal(ev.u.stop.nsessions, 1);
    done(&pr);
}

static void test_twamp_modes(void **state)
{
    (void)state;
    twamp_session(WIRE_MODE_OPEN);
    twamp_session(WIRE_MODE_AUTH);
    twamp_session(WIRE_MODE_ENC);
    twamp_session(WIRE_MODE_MIXED);
}

static void test_wrong_pass(void **state)
{
    (void)state;
    struct pair pr;
    struct ctrl_event ev;
    assert_int_equal(
        handshake(&pr, WIRE_OWAMP, WIRE_MODE_AUTH, (const uint8_t *)"wrong passphrase"), LP_E_AUTH);
    assert_true(ctrl_closed(pr.cli));
    assert_true(ctrl_closed(pr.srv));
    assert_int_equal(ctrl_next(pr.srv, &ev), LP_E_STATE);
    done(&pr);
}

static void test_unknown_identity(void **state)
{
    (void)state;
    struct pair pr;
    assert_int_equal(handshake(&pr, WIRE_OWAMP, WIRE_MODE_ENC, NULL), LP_E_AUTH);
    done(&pr);
}

/* A flipped bit anywhere in an encrypted Start-Sessions must fail its HMAC. */
static void test_tamper(void **state)
{
    (void)state;
    for (size_t bit = 0; bit < 32 * 8; bit += 7) {
        struct pair pr;
        struct ctrl_event ev;
        assert_int_equal(handshake(&pr, WIRE_OWAMP, WIRE_MODE_AUTH, PASS), 0);
        assert_int_equal(ctrl_send_start(pr.cli), 0);
        const uint8_t *p;
        size_t n;
        ctrl_output(pr.cli, &p, &n);
        assert_int_equal(n, 32);
        uint8_t buf[32];
        memcpy(buf, p, 32);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ctrl_output_done(pr.cli, n);
        assert_int_equal(ctrl_input(pr.srv, buf, 32), 0);
        int rc = ctrl_next(pr.srv, &ev);
        /* garbage may decrypt to a longer command: the server then waits for more octets,
         * and the HMAC fails once that message is complete */
        uint8_t zeros[16] = {0};
        for (int more = 0; rc == 0 && more < 4096; more++) {
            assert_int_equal(ctrl_input(pr.srv, zeros, sizeof(zeros)), 0);
            rc = ctrl_next(pr.srv, &ev);
        }
        assert_true(rc == LP_E_HMAC || rc == LP_E_CMD || rc == LP_E_MBZ || rc == LP_E_LEN ||
                    rc == LP_E_VALUE);
        assert_true(ctrl_closed(pr.srv));
        done(&pr);
    }
}

/* Messages cut into single octets arrive whole. */
static void test_byte_at_a_time(void **state)
{
    (void)state;
    struct pair pr;
    struct ctrl_event ev;
    assert_int_equal(handshake(&pr, WIRE_TWAMP, WIRE_MODE_ENC, PASS), 0);
    struct wire_request r = {.ipvn = 4, .sender_port = 1, .receiver_port = 2, .timeout = 1};
    assert_int_equal(ctrl_send_request(pr.cli, &r, NULL), 0);
    const uint8_t *p;
    size_t n;
    ctrl_output(pr.cli, &p, &n);
    uint8_t buf[256];
    memcpy(buf, p, n);
    ctrl_output_done(pr.cli, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ctrl_next(pr.srv, &ev), 0);
        assert_int_equal(ctrl_input(pr.srv, buf + i, 1), 0);
    }
    assert_int_equal(ctrl_next(pr.srv, &ev), 1);
    assert_int_equal(ev.type, CTRL_EV_REQUEST);
    assert_int_equal(ev.u.request.req.receiver_port, 2);
    done(&pr);
}

/* A mode the server did not offer is refused with Accept 1. */
static void test_mode_not_offered(void **state)
{
    (void)state;
    struct ctrl_event ev;
    struct pair pr = {ctrl_create(WIRE_OWAMP, CTRL_CLIENT, 0, 0),
                      ctrl_create(WIRE_OWAMP, CTRL_SERVER, WIRE_MODE_AUTH, 1024)};
    expect_ev(&pr, pr.cli, CTRL_EV_GREETING, &ev);
    assert_int_equal(ctrl_choose_mode(ev.u.greeting.modes, WIRE_MODE_OPEN), 0);
    assert_int_equal(ctrl_client_setup(pr.cli, WIRE_MODE_OPEN, NULL, NULL, 0), LP_E_MODE);
    done(&pr);
}

/* A hostile peer cannot make the input grow without bound. */
static void test_input_bound(void **state)
{
    (void)state;
    struct ctrl *srv = ctrl_create(WIRE_OWAMP, CTRL_SERVER, WIRE_MODE_OPEN, 1024);
    uint8_t junk[4096] = {0};
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++) {
        rc = ctrl_input(srv, junk, sizeof(junk));
    }
    assert_int_equal(rc, LP_E_NOMEM);
    ctrl_destroy(srv);
}

int main(void)
{
    assert_int_equal(cry_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owamp_open),       cmocka_unit_test(test_owamp_auth),
        cmocka_unit_test(test_owamp_enc),        cmocka_unit_test(test_twamp_modes),
        cmocka_unit_test(test_wrong_pass),       cmocka_unit_test(test_unknown_identity),
        cmocka_unit_test(test_tamper),           cmocka_unit_test(test_byte_at_a_time),
        cmocka_unit_test(test_mode_not_offered), cmocka_unit_test(test_input_bound),
        cmocka_unit_test(test_fetch_stream),     cmocka_unit_test(test_fetch_stream_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
