/* test_session.c - test sessions over loopback on one event loop: OWAMP sender to receiver
 * and TWAMP sender to reflector in open, authenticated and encrypted modes; STAMP and TWAMP
 * Light senders against the light reflector (rules per flow), with TLVs and STAMP
 * authentication; bad HMACs are never logged as received. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "session.h"
#include "session_int.h" /* sess_tx_note and sess_on_tx_stamp, for synthetic TX stamps */

#define N 20

struct env {
    struct loop *loop;
    struct cry_session_keys keys;
    bool sent;
};

/* A session's records as one array: a test session's few records are all in the store's
 * memory part, which comes back as a single run. */
static size_t all_records(const struct sess *s, const void **out)
{
    struct rst *st = sess_records(s);
    *out = NULL;
    uint64_t n = rst_count(st);
    if (n > 0) {
        assert_int_equal(rst_get(st, 0, out, NULL), n);
    }
    return (size_t)n;
}

static size_t ow_records(const struct sess *s, const struct met_owrec **out)
{
    const void *p;
    size_t n = all_records(s, &p);
    *out = p;
    return n;
}

static size_t tw_records(const struct sess *s, const struct met_twrec **out)
{
    const void *p;
    size_t n = all_records(s, &p);
    *out = p;
    return n;
}

static void on_sent(struct sess *s, void *arg)
{
    (void)s;
    ((struct env *)arg)->sent = true;
}

static void open_sock(int family, struct sock_udp *u)
{
    assert_int_equal(sock_open_udp(family, NULL, 0, 0, 0, u), 0);
}

static void loopback(int family, uint16_t port, struct sock_addr *a)
{
    assert_int_equal(sock_addr_parse(family == AF_INET6 ? "::1" : "127.0.0.1", port, a), 0);
}

/* Run the loop until the sender is done and a little more for the last replies. */
static void run(struct env *e)
{
    for (int i = 0; i < 2000 && !e->sent; i++) {
        loop_run_once(e->loop, 10);
    }
    assert_true(e->sent);
    for (int i = 0; i < 20; i++) {
        loop_run_once(e->loop, 5);
    }
}

static const struct wire_slot fixed_1ms = {WIRE_SLOT_FIXED, 0x418937}; /* ~1 ms */

static void sender_config(struct sess_config *c, enum sess_kind kind, uint32_t mode,
                          const struct env *e, uint16_t port, int family)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->mode = mode;
    c->keys = &e->keys;
    c->npackets = N;
    c->slots = &fixed_1ms;
    c->nslots = 1;
    c->start = clk_to_ntp((struct clk_time){clk_now().ns + 5000000});
    c->spin_ns = 20000;
    c->tos = -1;
    memset(c->sid, 0x5a, sizeof(c->sid));
    loopback(family, port, &c->peer);
}

static void owamp_pair(uint32_t mode, int family)
{
    struct env e = {.loop = loop_create()};
    cry_session_keys_generate(&e.keys);
    struct sock_udp ru, su;
    open_sock(family, &ru);
    open_sock(family, &su);
    struct sess_config rc, sc;
    sender_config(&sc, SESS_OW_SENDER, mode, &e, ru.port, family);
    sc.padding = 17;
    sc.keep_tx_times = true;
    rc = sc;
    rc.kind = SESS_OW_RECEIVER;
    loopback(family, su.port, &rc.peer);
    struct sess *r = sess_create(e.loop, &ru, &rc);
    struct sess *s = sess_create(e.loop, &su, &sc);
    assert_non_null(r);
    assert_non_null(s);
    sess_on_sent(s, on_sent, &e);
    assert_int_equal(sess_start(r), 0);
    assert_int_equal(sess_start(s), 0);
    run(&e);
    assert_int_equal(sess_next_seqno(s), N);
    const struct met_owrec *rec;
    size_t n = ow_records(r, &rec);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++) {
        assert_false(rec[i].lost);
        assert_int_equal(rec[i].ttl, 255);
        assert_true(rec[i].recv.ns >= rec[i].send.ns);
        assert_true(rec[i].recv.ns - rec[i].send.ns < 1000000000LL);
    }
    struct sess_counters c = sess_counters(r);
    assert_int_equal(c.received, N);
    assert_int_equal(c.bad_hmac, 0);
    struct sess_tx_stats tx = sess_tx_stats(s);
    assert_int_equal(tx.stamped, N); /* every packet's kernel TX timestamp came back */
    assert_int_equal(tx.source, CLK_SRC_KERNEL);
    assert_true(tx.bias_p50_ns >= 0 && tx.bias_p50_ns <= tx.bias_p99_ns);
    assert_true(tx.bias_p99_ns <= tx.bias_max_ns);
    assert_true(tx.late_p50_ns >= 0 && tx.late_p50_ns <= tx.late_max_ns);
    /* kept by seq: each packet's TX time, at or after the time written in it (as the
     * receiver decoded it, to the ns) and before it arrived */
    for (size_t i = 0; i < n; i++) {
        struct clk_time t;
        enum clk_source src = CLK_SRC_NONE;
        assert_true(sess_tx_time(s, rec[i].seq, &t, &src));
        assert_int_equal(src, CLK_SRC_KERNEL);
        assert_true(t.ns + 1 >= rec[i].send.ns && t.ns <= rec[i].recv.ns);
    }
    struct clk_time none;
    enum clk_source nsrc;
    assert_false(sess_tx_time(s, N, &none, &nsrc));
    sess_ow_finalize(r, N);
    assert_int_equal(ow_records(r, &rec), N);
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(e.loop);
}

/* A receiver whose loop was busy: what waits in its socket is read by sess_drain before the
 * session closes, not logged lost. And packets never sent are logged lost as their loss
 * timeout passes, before any finalize. */
static void test_owamp_drain_and_losses(void **st)
{
    (void)st;
    struct env e = {.loop = loop_create()};
    struct loop *rloop = loop_create(); /* the receiver's: not run until the end */
    cry_session_keys_generate(&e.keys);
    struct sock_udp ru, su;
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    struct sess_config rc, sc;
    sender_config(&sc, SESS_OW_SENDER, WIRE_MODE_OPEN, &e, ru.port, AF_INET);
    rc = sc;
    rc.kind = SESS_OW_RECEIVER;
    rc.npackets = N + 5;          /* five more than will ever come */
    rc.loss_timeout_ns = 1000000; /* 1 ms */
    loopback(AF_INET, su.port, &rc.peer);
    struct sess *r = sess_create(rloop, &ru, &rc);
    struct sess *s = sess_create(e.loop, &su, &sc);
    assert_non_null(r);
    assert_non_null(s);
    sess_on_sent(s, on_sent, &e);
    assert_int_equal(sess_start(r), 0);
    assert_int_equal(sess_start(s), 0);
    run(&e);
    const struct met_owrec *rec;
    assert_int_equal(ow_records(r, &rec), 0); /* all still in the socket */
    sess_drain(r);
    size_t n = ow_records(r, &rec);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++) {
        assert_false(rec[i].lost);
    }
    /* the five missing ones: their loss timeouts have passed, the timer logs them */
    for (int i = 0; i < 100 && ow_records(r, &rec) < N + 5; i++) {
        loop_run_once(rloop, 5);
    }
    n = ow_records(r, &rec);
    assert_int_equal(n, N + 5);
    for (size_t i = N; i < n; i++) {
        assert_true(rec[i].lost);
        assert_int_equal(rec[i].seq, i);
        assert_int_equal(rec[i].ttl, 255);
        assert_int_equal(rec[i].send_err & 0xff, 1); /* the reference's minimal estimate */
        assert_true(rec[i].send.ns > 0);             /* its scheduled send time */
    }
    sess_ow_finalize(r, N + 5); /* nothing left to log */
    assert_int_equal(ow_records(r, &rec), N + 5);
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(rloop);
    loop_destroy(e.loop);
}

static void test_owamp_open(void **st)
{
    (void)st;
    owamp_pair(WIRE_MODE_OPEN, AF_INET);
    owamp_pair(WIRE_MODE_OPEN, AF_INET6);
}

static void test_owamp_auth_enc(void **st)
{
    (void)st;
    owamp_pair(WIRE_MODE_AUTH, AF_INET);
    owamp_pair(WIRE_MODE_ENC, AF_INET6);
}

/* A receiver whose keys differ from the sender's logs nothing, and counts bad HMACs. */
static void test_owamp_wrong_keys(void **st)
{
    (void)st;
    struct env e = {.loop = loop_create()};
    cry_session_keys_generate(&e.keys);
    struct cry_session_keys other;
    cry_session_keys_generate(&other);
    struct sock_udp ru, su;
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    struct sess_config rc, sc;
    sender_config(&sc, SESS_OW_SENDER, WIRE_MODE_AUTH, &e, ru.port, AF_INET);
    rc = sc;
    rc.kind = SESS_OW_RECEIVER;
    rc.keys = &other;
    loopback(AF_INET, su.port, &rc.peer);
    struct sess *r = sess_create(e.loop, &ru, &rc);
    struct sess *s = sess_create(e.loop, &su, &sc);
    sess_on_sent(s, on_sent, &e);
    sess_start(r);
    sess_start(s);
    run(&e);
    const struct met_owrec *rec;
    assert_int_equal(ow_records(r, &rec), 0);
    assert_int_equal(sess_counters(r).bad_hmac, N);
    struct wire_skip_range skip = {3, 5}; /* never sent: not lost */
    sess_ow_skip(r, &skip, 1);
    sess_ow_finalize(r, N);
    assert_int_equal(ow_records(r, &rec), N - 3);
    for (int i = 0; i < N - 3; i++) {
        assert_true(rec[i].seq < 3 || rec[i].seq > 5);
    }
    sess_destroy(r);
    /* the same receiver without skip ranges: every packet lost */
    open_sock(AF_INET, &ru);
    r = sess_create(e.loop, &ru, &rc);
    sess_start(r);
    sess_ow_finalize(r, N);
    assert_int_equal(ow_records(r, &rec), N);
    assert_true(rec[0].lost && rec[N - 1].lost);
    /* lost records carry their scheduled send times: start + (seq + 1) * ~1 ms */
    struct clk_time start = clk_from_ntp(sc.start);
    for (int i = 0; i < N; i++) {
        int64_t off = rec[i].send.ns - start.ns;
        assert_true(off > (int64_t)i * 1000000 && off < (int64_t)(i + 2) * 1000000);
    }
    sess_ow_finalize(r, N); /* once only */
    assert_int_equal(ow_records(r, &rec), N);
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(e.loop);
}

static void twamp_pair(uint32_t mode)
{
    struct env e = {.loop = loop_create()};
    cry_session_keys_generate(&e.keys);
    struct sock_udp ru, su;
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    struct sess_config rc, sc;
    sender_config(&sc, SESS_TW_SENDER, mode, &e, ru.port, AF_INET);
    sc.padding = (mode & (WIRE_MODE_AUTH | WIRE_MODE_ENC)) ? 64 : 27;
    rc = sc;
    rc.kind = SESS_TW_REFLECTOR;
    rc.measure_tx = true;
    loopback(AF_INET, su.port, &rc.peer);
    struct sess *r = sess_create(e.loop, &ru, &rc);
    struct sess *s = sess_create(e.loop, &su, &sc);
    sess_on_sent(s, on_sent, &e);
    sess_start(r);
    sess_start(s);
    run(&e);
    const struct met_twrec *rec;
    size_t n = tw_records(s, &rec);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rec[i].seq, i);
        assert_int_equal(rec[i].refl_seq, i);
        assert_true(rec[i].t1.ns <= rec[i].t2.ns);
        assert_true(rec[i].t2.ns <= rec[i].t3.ns);
        assert_true(rec[i].t3.ns <= rec[i].t4.ns);
        assert_int_equal(rec[i].sender_ttl, 255);
        assert_true(rec[i].flags & MET_TW_REFL_SEQ);
        assert_int_equal(rec[i].t1_src, CLK_SRC_KERNEL); /* T1 is the kernel TX time */
        bool ptp = (mode & WIRE_MODE_PTP) != 0;
        assert_int_equal((rec[i].t2_err & WIRE_ERREST_Z) != 0, ptp);
        assert_int_equal((rec[i].t1_err & WIRE_ERREST_Z) != 0, ptp);
    }
    assert_int_equal(sess_counters(r).sent, N);
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(e.loop);
}

/* RFC 6038 and RFC 7750: the reflector returns our first padding octets and reports the
 * DSCP/ECN our packets arrived with. */
static void test_twamp_extensions(void **st)
{
    (void)st;
    struct env e = {.loop = loop_create()};
    struct sock_udp ru, su;
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    struct sess_config rc, sc;
    uint32_t mode = WIRE_MODE_OPEN | WIRE_MODE_REFLECT_OCTETS | WIRE_MODE_DSCP_ECN;
    sender_config(&sc, SESS_TW_SENDER, mode, &e, ru.port, AF_INET);
    sc.padding = 40;
    sc.reflect_octets = 8;
    sc.tos = 46 << 2 | 1; /* EF, ECT(1) */
    rc = sc;
    rc.kind = SESS_TW_REFLECTOR;
    rc.measure_tx = true;
    loopback(AF_INET, su.port, &rc.peer);
    struct sess *r = sess_create(e.loop, &ru, &rc);
    struct sess *s = sess_create(e.loop, &su, &sc);
    sess_on_sent(s, on_sent, &e);
    sess_start(r);
    sess_start(s);
    run(&e);
    const struct met_twrec *rec;
    assert_int_equal(tw_records(s, &rec), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(rec[i].sender_tos, 46 << 2 | 1);
    }
    assert_int_equal(sess_counters(s).reflect_mismatch, 0);
    sess_destroy(s);
    sess_destroy(r);
    /* a reflector that does not return the octets is caught */
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    sender_config(&sc, SESS_TW_SENDER, mode, &e, ru.port, AF_INET);
    sc.padding = 40;
    sc.reflect_octets = 8;
    rc = sc;
    rc.kind = SESS_TW_REFLECTOR;
    rc.reflect_octets = 0;
    loopback(AF_INET, su.port, &rc.peer);
    e.sent = false;
    r = sess_create(e.loop, &ru, &rc);
    s = sess_create(e.loop, &su, &sc);
    sess_on_sent(s, on_sent, &e);
    sess_start(r);
    sess_start(s);
    run(&e);
    assert_int_equal(sess_counters(s).reflect_mismatch, N);
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(e.loop);
}

/* Replies that never come are logged as lost, with their scheduled send times. */
static void test_twamp_lost(void **st)
{
    (void)st;
    struct env e = {.loop = loop_create()};
    struct sock_udp ru, su;
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    struct sess_config rc, sc;
    sender_config(&sc, SESS_TW_SENDER, WIRE_MODE_OPEN, &e, ru.port, AF_INET);
    rc = sc;
    rc.kind = SESS_TW_REFLECTOR;
    loopback(AF_INET, su.port, &rc.peer);
    struct sess *r = sess_create(e.loop, &ru, &rc); /* never started: drops everything */
    struct sess *s = sess_create(e.loop, &su, &sc);
    sess_on_sent(s, on_sent, &e);
    sess_start(s);
    run(&e);
    const struct met_twrec *rec;
    assert_int_equal(tw_records(s, &rec), 0);
    sess_tw_finalize(s);
    assert_int_equal(tw_records(s, &rec), N);
    struct clk_time start = clk_from_ntp(sc.start);
    for (int i = 0; i < N; i++) {
        assert_int_equal(rec[i].seq, i);
        assert_true(rec[i].flags & MET_TW_LOST);
        int64_t off = rec[i].t1.ns - start.ns;
        assert_true(off > (int64_t)i * 1000000 && off < (int64_t)(i + 2) * 1000000);
    }
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(e.loop);
}

static void test_twamp_modes(void **st)
{
    (void)st;
    twamp_pair(WIRE_MODE_OPEN);
    twamp_pair(WIRE_MODE_AUTH);
    twamp_pair(WIRE_MODE_ENC);
    twamp_pair(WIRE_MODE_MIXED);
    twamp_pair(WIRE_MODE_OPEN | WIRE_MODE_PTP); /* RFC 8186 timestamps, same ordering */
}

/* ---- a sender far behind its schedule: many packets due at once ---- */

#define NDUE 256 /* several sendmmsg batches and several error-queue batches */

static const struct wire_slot fixed_1us = {WIRE_SLOT_FIXED, 0x10c7}; /* ~1 us */

/* What the packet hook saw leave, decoded (opened with the test keys first). */
struct sent_log {
    struct cry_test_keys keys;
    enum cry_test_mode cmode;
    uint32_t layout;
    uint32_t seq[NDUE];
    uint64_t wire_ts[NDUE];
    struct clk_time ts[NDUE];
    size_t n;
};

static void log_sent(void *arg, const struct sess_pkt *p)
{
    struct sent_log *l = arg;
    assert_true(p->sent);
    assert_true(l->n < NDUE);
    uint8_t buf[256];
    assert_true(p->len <= sizeof(buf));
    memcpy(buf, p->data, p->len);
    assert_int_equal(cry_test_open(&l->keys, l->cmode, CRY_PKT_SENDER, buf, p->len), 0);
    struct wire_sender_pkt w;
    assert_true(wire_sender_decode(buf, p->len, l->layout, &w) >= 0);
    l->seq[l->n] = w.seq;
    l->wire_ts[l->n] = w.ts;
    l->ts[l->n++] = p->ts;
}

/* A schedule that started 20 ms ago: every packet is late when the sender starts. */
static void late_config(struct sess_config *c, enum sess_kind kind, uint32_t mode,
                        const struct env *e, uint16_t port)
{
    sender_config(c, kind, mode, e, port, AF_INET);
    c->npackets = NDUE;
    c->slots = &fixed_1us;
    c->start = clk_to_ntp((struct clk_time){clk_now().ns - 20000000});
}

/* All packets due at once still go out, in seq order, with written timestamps that never go
 * back (the hook reports those same times), and each gets its kernel TX timestamp and its
 * lateness entry; the receiver accepts them all in authenticated and encrypted modes too. */
static void owamp_all_due(uint32_t mode)
{
    struct env e = {.loop = loop_create()};
    cry_session_keys_generate(&e.keys);
    struct sock_udp ru, su;
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    struct sess_config rc, sc;
    late_config(&sc, SESS_OW_SENDER, mode, &e, ru.port);
    rc = sc;
    rc.kind = SESS_OW_RECEIVER;
    loopback(AF_INET, su.port, &rc.peer);
    struct sess *r = sess_create(e.loop, &ru, &rc);
    struct sess *s = sess_create(e.loop, &su, &sc);
    assert_non_null(r);
    assert_non_null(s);
    static struct sent_log log;
    memset(&log, 0, sizeof(log));
    log.cmode = mode == WIRE_MODE_OPEN   ? CRY_TEST_OPEN
                : mode == WIRE_MODE_AUTH ? CRY_TEST_AUTH
                                         : CRY_TEST_ENC;
    log.layout = mode == WIRE_MODE_OPEN ? WIRE_MODE_OPEN : WIRE_MODE_AUTH;
    cry_test_keys_derive(&e.keys, sc.sid, &log.keys);
    sess_set_packet_hook(s, log_sent, &log);
    sess_on_sent(s, on_sent, &e);
    assert_int_equal(sess_start(r), 0);
    assert_int_equal(sess_start(s), 0);
    run(&e);

    assert_int_equal(sess_next_seqno(s), NDUE);
    struct sess_counters c = sess_counters(s);
    assert_int_equal(c.sent, NDUE);
    assert_int_equal(c.tx_errors, 0);
    assert_int_equal(log.n, NDUE);
    for (size_t i = 0; i < NDUE; i++) {
        assert_int_equal(log.seq[i], i);
        /* the hook reports the time written in the packet */
        assert_int_equal(log.wire_ts[i], clk_to_ntp(log.ts[i]).raw);
        assert_true(i == 0 || log.ts[i].ns >= log.ts[i - 1].ns);
    }
    struct sess_tx_stats tx = sess_tx_stats(s);
    assert_int_equal(tx.stamped, NDUE);
    assert_int_equal(tx.source, CLK_SRC_KERNEL);
    assert_true(tx.late_p50_ns >= 19000000); /* all of them late by the 20 ms */
    assert_true(tx.bias_p50_ns >= 0 && tx.bias_p99_ns <= tx.bias_max_ns);

    const struct met_owrec *rec;
    assert_int_equal(ow_records(r, &rec), NDUE);
    assert_int_equal(sess_counters(r).bad_hmac, 0);
    for (size_t i = 0; i < NDUE; i++) {
        assert_int_equal(rec[i].seq, i); /* loopback keeps the order they were sent in */
        assert_true(llabs(rec[i].send.ns - log.ts[i].ns) <= 1);
    }
    cry_test_keys_wipe(&log.keys);
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(e.loop);
}

static void test_owamp_all_due(void **st)
{
    (void)st;
    owamp_all_due(WIRE_MODE_OPEN);
    owamp_all_due(WIRE_MODE_AUTH);
    owamp_all_due(WIRE_MODE_ENC);
}

/* A TWAMP sender that is late: every round trip still takes the kernel TX time as T1. The
 * reflector, measuring its own TX timestamps, has one for every reply, each at or after
 * the T3 written in it. */
static void test_twamp_all_due(void **st)
{
    (void)st;
    struct env e = {.loop = loop_create()};
    cry_session_keys_generate(&e.keys);
    struct sock_udp ru, su;
    open_sock(AF_INET, &ru);
    open_sock(AF_INET, &su);
    struct sess_config rc, sc;
    late_config(&sc, SESS_TW_SENDER, WIRE_MODE_ENC, &e, ru.port);
    rc = sc;
    rc.kind = SESS_TW_REFLECTOR;
    rc.measure_tx = true;
    loopback(AF_INET, su.port, &rc.peer);
    struct sess *r = sess_create(e.loop, &ru, &rc);
    struct sess *s = sess_create(e.loop, &su, &sc);
    sess_on_sent(s, on_sent, &e);
    sess_start(r);
    sess_start(s);
    run(&e);
    const struct met_twrec *rec;
    assert_int_equal(tw_records(s, &rec), NDUE);
    for (size_t i = 0; i < NDUE; i++) {
        assert_int_equal(rec[i].seq, i);
        assert_int_equal(rec[i].t1_src, CLK_SRC_KERNEL);
        assert_true(rec[i].t1.ns <= rec[i].t2.ns);
    }
    assert_int_equal(sess_tx_stats(s).stamped, NDUE);
    assert_int_equal(sess_counters(r).sent, NDUE);
    struct sess_tx_stats rtx = sess_tx_stats(r);
    assert_int_equal(rtx.stamped, NDUE);
    assert_int_equal(rtx.source, CLK_SRC_KERNEL);
    assert_true(rtx.bias_p50_ns >= 0 && rtx.bias_p50_ns <= rtx.bias_max_ns);
    assert_true(rtx.late_p50_ns >= 0); /* receive to wire */
    sess_destroy(s);
    sess_destroy(r);
    loop_destroy(e.loop);
}

/* ---- TX timestamps fed by hand: what the error queue would deliver ---- */

/* Note the send of seq (the id the kernel would give it) and, unless src is NONE, deliver
 * its TX stamp at written + 500 ns from src. */
static void fake_send(struct sess *s, uint32_t seq, int64_t written, enum clk_source src)
{
    struct sock_txts ts = {.id = (uint32_t)s->cnt.sent, .ts = {written + 500}, .src = src};
    sess_tx_note(s, seq, written, written);
    s->cnt.sent++;
    if (src != CLK_SRC_NONE) {
        sess_on_tx_stamp(s, &ts);
    }
}

/* Each packet keeps the source of its own TX stamp (a NIC may stamp most packets and leave
 * some to the kernel); a packet whose stamp never came, or came after a later one's, has
 * none and its results use the time it carried. */
static void test_tx_times_per_packet(void **st)
{
    (void)st;
    struct env e = {.loop = loop_create()};
    struct sock_udp u;
    open_sock(AF_INET, &u);
    struct sess_config c;
    sender_config(&c, SESS_OW_SENDER, WIRE_MODE_OPEN, &e, 9, AF_INET);
    c.keep_tx_times = true;
    struct sess *s = sess_create(e.loop, &u, &c);
    assert_non_null(s);
    const int64_t t0 = 1700000000LL * 1000000000LL;
    fake_send(s, 0, t0, CLK_SRC_HARDWARE);
    fake_send(s, 1, t0 + 1000, CLK_SRC_NONE); /* its stamp never comes */
    fake_send(s, 2, t0 + 2000, CLK_SRC_KERNEL);
    struct sock_txts late = {.id = 1, .ts = {t0 + 1500}, .src = CLK_SRC_KERNEL};
    sess_on_tx_stamp(s, &late); /* after seq 2's: cannot be placed */
    struct clk_time t;
    enum clk_source src;
    assert_true(sess_tx_time(s, 0, &t, &src));
    assert_int_equal(t.ns, t0 + 500);
    assert_int_equal(src, CLK_SRC_HARDWARE);
    assert_false(sess_tx_time(s, 1, &t, &src));
    assert_true(sess_tx_time(s, 2, &t, &src));
    assert_int_equal(t.ns, t0 + 2500);
    assert_int_equal(src, CLK_SRC_KERNEL);
    assert_false(sess_tx_time(s, 3, &t, &src));
    struct sess_tx_stats tx = sess_tx_stats(s);
    assert_int_equal(tx.stamped, 3);
    assert_int_equal(tx.bias_p50_ns, 500);
    sess_destroy(s);

    /* A TWAMP sender's T1: the TX time and its source, per packet. */
    open_sock(AF_INET, &u);
    sender_config(&c, SESS_TW_SENDER, WIRE_MODE_OPEN, &e, 9, AF_INET);
    s = sess_create(e.loop, &u, &c);
    assert_non_null(s);
    fake_send(s, 0, t0, CLK_SRC_HARDWARE);
    fake_send(s, 1, t0 + 1000, CLK_SRC_KERNEL);
    assert_true(sess_kernel_t1(s, 0, t0, &t, &src));
    assert_int_equal(t.ns, t0 + 500);
    assert_int_equal(src, CLK_SRC_HARDWARE);
    assert_true(sess_kernel_t1(s, 1, t0 + 1000, &t, &src));
    assert_int_equal(src, CLK_SRC_KERNEL);
    assert_false(sess_kernel_t1(s, 2, t0 + 2000, &t, &src));
    sess_destroy(s);
    loop_destroy(e.loop);
}

/* The rings of sends awaiting their TX stamp and of TWAMP T1s are sized to the session's
 * packet count (up to their caps): a short session, as an exporter runs by the thousand,
 * carries small ones, and still no two of its packets share an entry even when no stamp
 * comes back before the last send. */
static void test_tx_rings_sized(void **st)
{
    (void)st;
    static const uint32_t counts[] = {1, 100, 5000};
    struct env e = {.loop = loop_create()};
    const int64_t t0 = 1700000000LL * 1000000000LL;
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        struct sock_udp u;
        open_sock(AF_INET, &u);
        struct sess_config c;
        sender_config(&c, SESS_TW_SENDER, WIRE_MODE_OPEN, &e, 9, AF_INET);
        c.npackets = counts[k];
        struct sess *s = sess_create(e.loop, &u, &c);
        assert_non_null(s);
        assert_true(s->tx_stamps);
        assert_true(s->bias_len >= counts[k] && s->bias_len <= SESS_BIAS_RING);
        assert_true(s->bias_len < 2 * counts[k] || s->bias_len == 16);
        uint32_t want_q = counts[k] < SESS_TX_RING ? counts[k] : SESS_TX_RING;
        assert_true(s->txq_len >= want_q && s->txq_len <= SESS_TX_RING);
        /* all sent, then every stamp the queue can still match (the last txq_len sends) */
        uint32_t first = counts[k] > s->txq_len ? counts[k] - s->txq_len : 0;
        for (uint32_t seq = 0; seq < counts[k]; seq++) {
            sess_tx_note(s, seq, t0 + seq * 1000LL, t0 + seq * 1000LL);
            s->cnt.sent++;
        }
        for (uint32_t seq = first; seq < counts[k]; seq++) {
            struct sock_txts ts = {
                .id = seq, .ts = {t0 + seq * 1000LL + 700}, .src = CLK_SRC_KERNEL};
            sess_on_tx_stamp(s, &ts);
        }
        for (uint32_t seq = first; seq < counts[k]; seq++) {
            struct clk_time t;
            enum clk_source src;
            assert_true(sess_kernel_t1(s, seq, t0 + seq * 1000LL, &t, &src));
            assert_int_equal(t.ns, t0 + seq * 1000LL + 700);
        }
        assert_int_equal(sess_tx_stats(s).stamped, counts[k] - first);
        sess_destroy(s);
    }
    loop_destroy(e.loop);
}

static const uint8_t KEY[] = "stamp key";

/* A STAMP or TWAMP Light sender against the light reflector. */
static struct sess *light_run(struct env *e, enum sess_fmt fmt, uint32_t mode, uint32_t padding,
                              struct light **lp)
{
    struct sock_udp lu, su;
    open_sock(AF_INET, &lu);
    open_sock(AF_INET, &su);
    struct light_key k = {KEY, sizeof(KEY) - 1};
    *lp = light_create(e->loop, &lu, &k, 1, NULL);
    assert_non_null(*lp);
    struct sess_config sc;
    sender_config(&sc, SESS_TW_SENDER, mode, e, lu.port, AF_INET);
    sc.fmt = fmt;
    sc.stamp_key = KEY;
    sc.stamp_key_len = sizeof(KEY) - 1;
    sc.padding = padding;
    sc.zero_padding = true;
    struct sess *s = sess_create(e->loop, &su, &sc);
    assert_non_null(s);
    sess_on_sent(s, on_sent, e);
    sess_start(s);
    run(e);
    return s;
}

static void test_stamp_open_and_auth(void **st)
{
    (void)st;
    for (int auth = 0; auth < 2; auth++) {
        struct env e = {.loop = loop_create()};
        struct light *l;
        struct sess *s =
            light_run(&e, SESS_FMT_STAMP, auth ? WIRE_MODE_AUTH : WIRE_MODE_OPEN, 0, &l);
        const struct met_twrec *rec;
        assert_int_equal(tw_records(s, &rec), N);
        for (int i = 0; i < N; i++) {
            assert_int_equal(rec[i].seq, i);
            assert_int_equal(rec[i].refl_seq, i); /* stateful: the flow's own counter */
            assert_true(rec[i].t2.ns <= rec[i].t3.ns);
        }
        struct sess_counters c = light_counters(l);
        assert_int_equal(c.received, N);
        assert_int_equal(c.malformed, 0);
        sess_destroy(s);
        light_destroy(l);
        loop_destroy(e.loop);
    }
}

static void test_twamp_light(void **st)
{
    (void)st;
    struct env e = {.loop = loop_create()};
    struct light *l;
    struct sess *s = light_run(&e, SESS_FMT_TWAMP, WIRE_MODE_OPEN, 27, &l);
    const struct met_twrec *rec;
    assert_int_equal(tw_records(s, &rec), N);
    assert_int_equal(light_counters(l).sent, N);
    sess_destroy(s);
    light_destroy(l);
    loop_destroy(e.loop);
}

/* Raw STAMP packets with TLVs against the reflector: known TLVs answered, unknown flagged U,
 * a TLV overrunning the packet flagged M, a bad STAMP HMAC answered as open (never as
 * authenticated). */
static void test_stamp_tlvs(void **st)
{
    (void)st;
    struct loop *loop = loop_create();
    struct sock_udp lu, cu;
    open_sock(AF_INET, &lu);
    assert_int_equal(sock_open_udp(AF_INET, NULL, 0, 0, SOCK_F_BLOCKING, &cu), 0);
    struct light_key k = {KEY, sizeof(KEY) - 1};
    struct light *l = light_create(loop, &lu, &k, 1, NULL);
    struct sock_addr dst;
    loopback(AF_INET, lu.port, &dst);

    uint8_t pkt[256] = {0};
    struct wire_stamp_sender p = {
        .seq = 7, .ts = clk_to_ntp(clk_now()).raw, .errest = 1, .ssid = 9};
    size_t off = WIRE_STAMP_OPEN_LEN;
    int n;
    n = wire_tlv_encode(0, WIRE_TLV_PADDING, NULL, 8, pkt + off, sizeof(pkt) - off);
    off += (size_t)n;
    struct wire_tlv_cos cos = {.dscp1 = 46};
    n = wire_tlv_cos_encode(WIRE_TLV_F_U, &cos, pkt + off, sizeof(pkt) - off);
    off += (size_t)n;
    uint8_t direct[12] = {0, 0, 0, 5};
    n = wire_tlv_encode(0, WIRE_TLV_DIRECT, direct, 12, pkt + off, sizeof(pkt) - off);
    off += (size_t)n;
    n = wire_tlv_encode(0, 200, (const uint8_t *)"abcd", 4, pkt + off, sizeof(pkt) - off);
    off += (size_t)n;
    size_t unknown_off = off - 8;
    p.tlvs = pkt + WIRE_STAMP_OPEN_LEN;
    p.tlvs_len = off - WIRE_STAMP_OPEN_LEN;
    uint8_t buf[256];
    n = wire_stamp_sender_encode(&p, WIRE_MODE_OPEN, buf, sizeof(buf));
    assert_int_equal(n, (int)off);
    assert_int_equal(sock_send_to(cu.fd, buf, off, &dst), 0);
    for (int i = 0; i < 20; i++) {
        loop_run_once(loop, 5);
    }
    uint8_t reply[512];
    ssize_t got = recv(cu.fd, reply, sizeof(reply), MSG_DONTWAIT);
    assert_int_equal(got, (ssize_t)off);
    struct wire_stamp_reflector r;
    assert_true(wire_stamp_reflector_decode(reply, (size_t)got, WIRE_MODE_OPEN, &r) >= 0);
    assert_int_equal(r.sender_seq, 7);
    assert_int_equal(r.ssid, 9);
    struct wire_tlv_iter it;
    struct wire_tlv t;
    wire_tlv_iter_init(&it, r.tlvs, r.tlvs_len);
    int seen = 0;
    while (wire_tlv_next(&it, &t) == 1) {
        seen++;
        if (t.type == WIRE_TLV_COS) {
            struct wire_tlv_cos c;
            assert_int_equal(wire_tlv_cos_decode(&t, &c), 0);
            assert_int_equal(c.dscp1, 46);
            assert_int_equal(c.dscp2, 0); /* received with DSCP 0 */
            assert_false(t.flags & WIRE_TLV_F_U);
        } else if (t.type == WIRE_TLV_DIRECT) {
            struct wire_tlv_direct d;
            assert_int_equal(wire_tlv_direct_decode(&t, &d), 0);
            assert_int_equal(d.s_tx, 5);
            assert_int_equal(d.r_rx, 1);
            assert_int_equal(d.r_tx, 1);
        } else if (t.type == 200) {
            assert_true(t.flags & WIRE_TLV_F_U);
            assert_int_equal(t.off + WIRE_STAMP_OPEN_LEN, unknown_off);
        } else {
            assert_int_equal(t.type, WIRE_TLV_PADDING);
            assert_int_equal(t.flags, 0);
        }
    }
    assert_int_equal(seen, 4);

    /* a TLV whose Length overruns the packet is flagged malformed */
    lp_store16(buf + WIRE_STAMP_OPEN_LEN + 2, 200);
    assert_int_equal(sock_send_to(cu.fd, buf, off, &dst), 0);
    for (int i = 0; i < 20; i++) {
        loop_run_once(loop, 5);
    }
    got = recv(cu.fd, reply, sizeof(reply), MSG_DONTWAIT);
    assert_int_equal(got, (ssize_t)off);
    assert_true(reply[WIRE_STAMP_OPEN_LEN] & WIRE_TLV_F_M);

    /* authenticated, with Location, Timestamp Information and an HMAC TLV */
    memset(pkt, 0, sizeof(pkt));
    off = WIRE_STAMP_AUTH_LEN;
    struct wire_tlv_location loc = {0};
    n = wire_tlv_location_encode(WIRE_TLV_F_U, &loc, pkt + off, sizeof(pkt) - off);
    off += (size_t)n;
    struct wire_tlv_tsinfo tsi = {0};
    n = wire_tlv_tsinfo_encode(WIRE_TLV_F_U, &tsi, pkt + off, sizeof(pkt) - off);
    off += (size_t)n;
    uint8_t zero16[16] = {0};
    n = wire_tlv_hmac_encode(0, zero16, pkt + off, sizeof(pkt) - off);
    off += (size_t)n;
    struct wire_stamp_sender ap = {.seq = 9,
                                   .errest = 1,
                                   .ssid = 3,
                                   .tlvs = pkt + WIRE_STAMP_AUTH_LEN,
                                   .tlvs_len = off - WIRE_STAMP_AUTH_LEN};
    n = wire_stamp_sender_encode(&ap, WIRE_MODE_AUTH, buf, sizeof(buf));
    assert_int_equal(n, (int)off);
    cry_stamp_hmac(KEY, sizeof(KEY) - 1, buf, WIRE_STAMP_AUTH_HMAC_OFF,
                   buf + WIRE_STAMP_AUTH_HMAC_OFF);
    assert_int_equal(sock_send_to(cu.fd, buf, off, &dst), 0);
    for (int i = 0; i < 20; i++) {
        loop_run_once(loop, 5);
    }
    got = recv(cu.fd, reply, sizeof(reply), MSG_DONTWAIT);
    assert_int_equal(got, (ssize_t)off);
    assert_int_equal(cry_stamp_verify(KEY, sizeof(KEY) - 1, reply, WIRE_STAMP_AUTH_HMAC_OFF,
                                      reply + WIRE_STAMP_AUTH_HMAC_OFF),
                     0);
    struct wire_stamp_reflector ar;
    assert_true(wire_stamp_reflector_decode(reply, (size_t)got, WIRE_MODE_AUTH, &ar) >= 0);
    assert_int_equal(ar.sender_seq, 9);
    wire_tlv_iter_init(&it, ar.tlvs, ar.tlvs_len);
    seen = 0;
    while (wire_tlv_next(&it, &t) == 1) {
        seen++;
        assert_false(t.flags & (WIRE_TLV_F_U | WIRE_TLV_F_M)); /* all understood */
        if (t.type == WIRE_TLV_LOCATION) {
            struct wire_tlv_location tl;
            assert_int_equal(wire_tlv_location_decode(&t, &tl), 0);
            assert_int_equal(tl.dst_port, lu.port);
            assert_int_equal(tl.src_port, cu.port);
        } else if (t.type == WIRE_TLV_TIMESTAMP_INFO) {
            struct wire_tlv_tsinfo ti;
            assert_int_equal(wire_tlv_tsinfo_decode(&t, &ti), 0);
            assert_true(ti.sync_in != 0 && ti.method_in != 0); /* filled in */
        } else {
            assert_int_equal(t.type, WIRE_TLV_HMAC);
            uint8_t mac[16];
            cry_stamp_hmac(KEY, sizeof(KEY) - 1, ar.tlvs, t.off, mac);
            assert_memory_equal(t.value, mac, 16); /* over the TLVs before it */
        }
    }
    assert_int_equal(seen, 3);

    /* authenticated packet with a wrong HMAC: never answered as authenticated. In this
     * STAMP flow it is no valid STAMP packet (octets 16-43 are not zero): dropped */
    memset(buf, 0, sizeof(buf));
    struct wire_stamp_sender a = {.seq = 1, .errest = 1};
    n = wire_stamp_sender_encode(&a, WIRE_MODE_AUTH, buf, sizeof(buf));
    cry_stamp_hmac((const uint8_t *)"other", 5, buf, WIRE_STAMP_AUTH_HMAC_OFF,
                   buf + WIRE_STAMP_AUTH_HMAC_OFF);
    uint64_t malformed = light_counters(l).malformed;
    assert_int_equal(sock_send_to(cu.fd, buf, (size_t)n, &dst), 0);
    for (int i = 0; i < 20; i++) {
        loop_run_once(loop, 5);
    }
    assert_int_equal(recv(cu.fd, reply, sizeof(reply), MSG_DONTWAIT), -1);
    assert_int_equal(light_counters(l).malformed, malformed + 1);
    /* as the first packet of a flow of its own it is a TWAMP Light packet, and answered so */
    struct sock_udp cu2;
    assert_int_equal(sock_open_udp(AF_INET, NULL, 0, 0, SOCK_F_BLOCKING, &cu2), 0);
    assert_int_equal(sock_send_to(cu2.fd, buf, (size_t)n, &dst), 0);
    for (int i = 0; i < 20; i++) {
        loop_run_once(loop, 5);
    }
    got = recv(cu2.fd, reply, sizeof(reply), MSG_DONTWAIT);
    assert_int_equal(got, n);
    assert_int_not_equal(cry_stamp_verify(KEY, sizeof(KEY) - 1, reply, WIRE_STAMP_AUTH_HMAC_OFF,
                                          reply + WIRE_STAMP_AUTH_HMAC_OFF),
                         0);
    sock_close_udp(&cu2);
    sock_close_udp(&cu);
    light_destroy(l);
    loop_destroy(loop);
}

/* Send len octets of pkt from a new socket to the reflector at dst, twice; the reflector
 * sequence numbers of the two replies (the second one's length in *len). */
static void ask_twice(struct loop *loop, const uint8_t *pkt, size_t *len,
                      const struct sock_addr *dst, uint32_t refl[2], uint8_t *reply)
{
    struct sock_udp cu;
    assert_int_equal(sock_open_udp(AF_INET, NULL, 0, 0, SOCK_F_BLOCKING, &cu), 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sock_send_to(cu.fd, pkt, *len, dst), 0);
        for (int i = 0; i < 20; i++) {
            loop_run_once(loop, 5);
        }
        ssize_t got = recv(cu.fd, reply, 512, MSG_DONTWAIT);
        assert_true(got >= WIRE_STAMP_OPEN_LEN);
        refl[k] = lp_load32(reply);
        if (k == 1) {
            *len = (size_t)got;
        }
    }
    sock_close_udp(&cu);
}

/* The rules a flow gets from its first packet: zero padding of 44 octets and more is TWAMP
 * Light (the sender's sequence numbers, the padding back as zeros); SSID 0 followed by a
 * TLV is STAMP (the reflector's own counter, the TLV answered). */
static void test_light_classes(void **st)
{
    (void)st;
    struct loop *loop = loop_create();
    struct sock_udp lu;
    open_sock(AF_INET, &lu);
    struct light *l = light_create(loop, &lu, NULL, 0, NULL);
    struct sock_addr dst;
    loopback(AF_INET, lu.port, &dst);
    uint8_t pkt[128] = {0}, reply[512];
    uint32_t refl[2];
    lp_store32(pkt, 7);
    size_t len = 60;
    ask_twice(loop, pkt, &len, &dst, refl, reply);
    assert_int_equal(refl[0], 7);
    assert_int_equal(refl[1], 7);
    assert_int_equal(len, 60);
    assert_true(lp_all_zero(reply + WIRE_REFLECTOR_OPEN_LEN, 60 - WIRE_REFLECTOR_OPEN_LEN));

    assert_int_equal(
        wire_tlv_encode(WIRE_TLV_F_U, WIRE_TLV_PADDING, NULL, 8, pkt + WIRE_STAMP_OPEN_LEN, 64),
        12);
    len = WIRE_STAMP_OPEN_LEN + 12;
    ask_twice(loop, pkt, &len, &dst, refl, reply);
    assert_int_equal(refl[0], 0);
    assert_int_equal(refl[1], 1);
    assert_int_equal(reply[WIRE_STAMP_OPEN_LEN], 0); /* U cleared: understood */
    assert_int_equal(reply[WIRE_STAMP_OPEN_LEN + 1], WIRE_TLV_PADDING);
    assert_int_equal(light_flow_count(l), 2);
    light_destroy(l);
    loop_destroy(loop);
}

int main(void)
{
    assert_int_equal(cry_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owamp_open),          cmocka_unit_test(test_owamp_auth_enc),
        cmocka_unit_test(test_owamp_wrong_keys),    cmocka_unit_test(test_twamp_modes),
        cmocka_unit_test(test_twamp_extensions),    cmocka_unit_test(test_twamp_lost),
        cmocka_unit_test(test_stamp_open_and_auth), cmocka_unit_test(test_twamp_light),
        cmocka_unit_test(test_stamp_tlvs),          cmocka_unit_test(test_light_classes),
        cmocka_unit_test(test_owamp_all_due),       cmocka_unit_test(test_owamp_drain_and_losses),
        cmocka_unit_test(test_twamp_all_due),       cmocka_unit_test(test_tx_times_per_packet),
        cmocka_unit_test(test_tx_rings_sized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
