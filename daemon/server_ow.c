/* server_ow.c - OWAMP-specific daemon operations: receiving and sending sessions, the
 * server's own Stop-Sessions, Fetch-Session. */
#include "server_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "owpfile.h"

/* Mean interval of the schedule in ns (for the bandwidth check). */
static int64_t mean_interval_ns(const struct wire_slot *slots, uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += slots[i].param;
    }
    return n ? clk_ntp_duration_to_ns(sum / n) : 0;
}

static uint64_t request_bps(const struct wire_request *r, const struct wire_slot *slots)
{
    int64_t iv = mean_interval_ns(slots, r->nslots);
    uint64_t bits = (uint64_t)(WIRE_SENDER_AUTH_LEN + r->padding_len + 48) * 8;
    return iv > 0 ? bits * 1000000000ull / (uint64_t)iv : UINT64_MAX;
}

/* The request as a Fetch-Session returns it (and the reference's session files hold it):
 * both ends as the test runs, our port and address included, zero addresses filled in. */
static void store_ends(const struct srv_conn *c, struct srv_session *ss,
                       const struct sock_addr *peer, bool receive)
{
    struct wire_request *q = &ss->req;
    const struct sock_addr *sender = receive ? peer : &c->local;
    const struct sock_addr *receiver = receive ? &c->local : peer;
    memset(q->sender_addr, 0, sizeof(q->sender_addr));
    memset(q->receiver_addr, 0, sizeof(q->receiver_addr));
    addr_sockaddr_octets((const struct sockaddr *)&sender->ss, q->sender_addr);
    addr_sockaddr_octets((const struct sockaddr *)&receiver->ss, q->receiver_addr);
    q->sender_port = receive ? sock_addr_port(peer) : sess_port(ss->s);
    q->receiver_port = receive ? sess_port(ss->s) : sock_addr_port(peer);
}

static int ow_request(struct srv_conn *c, const struct ctrl_event *ev)
{
    const struct wire_request *r = &ev->u.request.req;
    const struct wire_slot *slots = ev->u.request.slots;
    struct wire_accept_session a = {.accept = WIRE_ACCEPT_OK};
    bool receive = r->conf_receiver == 1;
    struct sock_addr peer; /* the client's test endpoint: the sender when we receive */
    srv_req_peer(c, r, receive ? r->sender_addr : r->receiver_addr,
                 receive ? r->sender_port : r->receiver_port, &peer);
    if (r->conf_sender == r->conf_receiver || r->nslots == 0) {
        a.accept = WIRE_ACCEPT_UNSUPPORTED;
    } else {
        int64_t duration = mean_interval_ns(slots, r->nslots) * (int64_t)r->npackets;
        a.accept = srv_check_request(c, r, &peer, request_bps(r, slots), duration);
    }
    struct sock_udp u;
    if (a.accept == WIRE_ACCEPT_OK &&
        srv_open_test_socket(c, receive ? 0 : SOCK_F_TX_TSTAMP, &u) < 0) {
        a.accept = WIRE_ACCEPT_TEMP_LIMIT;
    }
    if (a.accept == WIRE_ACCEPT_OK) {
        struct sess_config cfg;
        srv_sess_config(c, r, &cfg);
        cfg.kind = receive ? SESS_OW_RECEIVER : SESS_OW_SENDER;
        cfg.slots = slots;
        cfg.nslots = r->nslots;
        cfg.peer = peer;
        if (receive) {
            uint8_t local[16];
            size_t n = addr_sockaddr_octets((const struct sockaddr *)&c->local.ss, local);
            sess_make_sid(local, n, cfg.sid);
            cfg.store_mem = SRV_STORE_MEM;
            cfg.loss_timeout_ns = clk_ntp_duration_to_ns(r->timeout);
            cfg.store_dir = c->srv->conf.datadir[0] ? c->srv->conf.datadir : NULL;
        } else {
            memcpy(cfg.sid, r->sid, WIRE_SID_LEN);
        }
        struct sess *s = sess_create(c->srv->loop, &u, &cfg);
        struct srv_session *ss = s ? srv_add(c, s, cfg.sid, r, slots) : NULL;
        if (!ss) {
            a.accept = WIRE_ACCEPT_INTERNAL;
        } else {
            a.port = sess_port(s);
            memcpy(a.sid, cfg.sid, WIRE_SID_LEN);
            store_ends(c, ss, &peer, receive);
        }
    }
    return ctrl_send_accept(c->ctrl, &a);
}

/* Our own Stop-Sessions (RFC 4656 §3.8: either side may send it first) ends a test in which
 * we only receive as soon as every packet is in, instead of when the client's wait of the
 * loss timeout runs out. Not when we also send: the client drops the packets we sent less
 * than the loss timeout before our Stop-Sessions reaches it (as the reference does), and only
 * it knows when it has them all. Every packet that arrives asks for a look at the end of
 * that loop round. */

/* Every session of the connection receives and has every packet of its schedule. */
static bool all_received(const struct srv_conn *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->nsess; i++) {
        const struct srv_session *ss = &c->sess[i];
        if (ss->stopped) {
            continue; /* an earlier round */
        }
        if (ss->req.conf_receiver != 1 || !sess_all_in(ss->s)) {
            return false;
        }
        n++;
    }
    return n > 0;
}

static void end_check(struct loop *loop, loop_timer_id id, void *arg)
{
    struct srv_conn *c = arg;
    struct wire_stop_sessions mine = {.accept = WIRE_ACCEPT_OK, .nsessions = 0};
    (void)id;
    c->end_check = 0;
    if (c->stop_sent || !all_received(c)) {
        return;
    }
    if (ctrl_fetch_pending(c->ctrl)) { /* nothing may cut into a Fetch reply: later */
        c->end_check = loop_timer_after(loop, SRV_END_RETRY_NS, end_check, c);
        return;
    }
    if (ctrl_send_stop(c->ctrl, &mine) < 0) {
        return;
    }
    c->stop_sent = true;
    if (!c->want_write) { /* conn_io writes it once the socket takes it */
        loop_mod_fd(loop, c->fd, LOOP_READ | LOOP_WRITE);
        c->want_write = true;
    }
}

static void on_arrival(void *arg, const struct sess_pkt *p)
{
    struct srv_conn *c = arg;
    (void)p;
    if (!c->end_check && !c->stop_sent) {
        c->end_check = loop_timer_after(c->srv->loop, 0, end_check, c);
    }
}

static int ow_start(struct srv_conn *c)
{
    uint8_t accept = WIRE_ACCEPT_OK;
    bool receive_only = true;
    c->stop_sent = false; /* a connection may run several rounds of sessions */
    for (unsigned i = 0; i < c->nsess; i++) {
        struct srv_session *ss = &c->sess[i];
        if (ss->started || ss->stopped) {
            continue; /* an earlier round */
        }
        if (sess_start(ss->s) < 0) {
            accept = WIRE_ACCEPT_INTERNAL;
        }
        ss->started = true;
        receive_only = receive_only && ss->req.conf_receiver == 1;
    }
    for (unsigned i = 0; i < c->nsess && receive_only && accept == WIRE_ACCEPT_OK; i++) {
        if (!c->sess[i].stopped) {
            sess_set_packet_hook(c->sess[i].s, on_arrival, c);
        }
    }
    return ctrl_send_start_ack(c->ctrl, accept);
}

/* The peer's Stop-Sessions: close our receivers with its Next Seqno, then stop our senders
 * and answer with our own Stop-Sessions telling how far they got (with no description when
 * we sent nothing: the reference client waits for it either way), unless ours went first. */
static int ow_stop(struct srv_conn *c, const struct ctrl_event *ev)
{
    const struct wire_stop_sessions *st = &ev->u.stop;
    for (uint32_t i = 0; i < st->nsessions && i < st->descs_cap; i++) {
        struct srv_session *ss = srv_find(c, st->desc[i].sid);
        if (ss && !ss->stopped) {
            const struct wire_session_desc *d = &st->desc[i];
            ss->next_seqno = d->next_seqno;
            if (d->nskips > 0 && (ss->skips = calloc(d->nskips, sizeof(*ss->skips)))) {
                memcpy(ss->skips, d->skip, d->nskips * sizeof(*ss->skips));
                ss->nskips = d->nskips;
                sess_ow_skip(ss->s, ss->skips, ss->nskips);
            }
            sess_ow_finalize(ss->s, ss->next_seqno);
            sess_release(ss->s);
            ss->stopped = true;
        }
    }
    struct wire_session_desc d[SRV_MAX_SESS];
    struct wire_stop_sessions mine = {.accept = WIRE_ACCEPT_OK, .desc = d};
    for (unsigned i = 0; i < c->nsess; i++) {
        struct srv_session *ss = &c->sess[i];
        if (ss->req.conf_receiver == 1 && ss->started && !ss->stopped) {
            sess_release(ss->s); /* not described by the peer: stopped all the same */
            ss->stopped = true;
        }
        if (ss->req.conf_sender != 1 || ss->stopped) {
            continue;
        }
        sess_release(ss->s);
        ss->stopped = true;
        d[mine.nsessions] = (struct wire_session_desc){.next_seqno = sess_next_seqno(ss->s)};
        memcpy(d[mine.nsessions++].sid, ss->sid, WIRE_SID_LEN);
    }
    if (c->stop_sent) {
        return 0;
    }
    c->stop_sent = true;
    return ctrl_send_stop(c->ctrl, &mine);
}

/* The next records of a streamed Fetch reply (ctrl_record_fn): at most SRV_FETCH_SCAN
 * records looked at per call, so a narrow range in a long session does not hold the loop. */
static long fetch_records(void *arg, struct wire_record *out, size_t max)
{
    struct srv_fetch *f = arg;
    size_t k = 0, m, scanned = 0;
    const void *run;
    while (k < max && scanned < SRV_FETCH_SCAN && (m = rst_get(f->st, f->next, &run, NULL)) > 0) {
        const struct met_owrec *r = run;
        size_t j = 0;
        for (; j < m && k < max && scanned < SRV_FETCH_SCAN; j++, scanned++) {
            if (r[j].seq >= f->begin && r[j].seq <= f->end) {
                out[k++] = owpf_record_of(&r[j]);
            }
        }
        f->next += j;
    }
    return k > 0 || scanned > 0 ? (long)k : -1;
}

/* What a Fetch-Session is served from: the records of a session with a seq in [begin, end],
 * end clipped for a running session. */
struct fetch_plan {
    uint32_t begin, end;
    int64_t nrecords; /* -1: the store could not be read */
};

/* Count the records of st in the plan's range. A running session (not finished) serves
 * nothing beyond its highest received seq, as the reference does: the lost records logged
 * after the last arrival are not returned until more arrives or the session ends. Every
 * record has a seq below npackets, so the usual whole-session fetch needs no pass. */
static void plan_fetch(struct rst *st, bool finished, uint32_t npackets, struct fetch_plan *p)
{
    int err = 0;
    size_t m;
    const void *run;
    if (finished && p->begin == 0 && (npackets == 0 || p->end >= npackets - 1)) {
        p->nrecords = (int64_t)rst_count(st);
        return;
    }
    if (!finished) {
        int64_t top = -1; /* highest seq that arrived */
        for (uint64_t i = 0; (m = rst_get(st, i, &run, &err)) > 0; i += m) {
            for (const struct met_owrec *r = run, *e = r + m; r < e; r++) {
                top = !r->lost && r->seq > top ? r->seq : top;
            }
        }
        p->end = top < 0 ? 0 : (int64_t)p->end > top ? (uint32_t)top : p->end;
        if (top < 0) {
            p->nrecords = err ? -1 : 0;
            return;
        }
    }
    p->nrecords = 0;
    for (uint64_t i = 0; !err && (m = rst_get(st, i, &run, &err)) > 0; i += m) {
        for (const struct met_owrec *r = run, *e = r + m; r < e; r++) {
            p->nrecords += r->seq >= p->begin && r->seq <= p->end;
        }
    }
    p->nrecords = err ? -1 : p->nrecords;
}

/* Answer a Fetch-Session with a refusal (Accept 1 for an unknown session, 2 when the
 * records cannot be read, as the reference answers). */
static int fetch_refuse(struct srv_conn *c, uint8_t accept)
{
    struct wire_fetch_ack ack = {.accept = accept};
    return ctrl_send_fetch_reply(c->ctrl, &ack, NULL, NULL, NULL, NULL);
}

static void fetch_wait_tick(struct loop *loop, loop_timer_id id, void *arg);

/* A request for the whole of a session still running: answered once it ends (polled every
 * SRV_FETCH_POLL_NS), refused after SRV_FETCH_WAIT_NS, as the reference does. 1 while it
 * waits, 0 when the wait is over (refused: answered). */
static int fetch_wait(struct srv_conn *c, const struct wire_fetch_session *f)
{
    struct srv_fetch_wait *w = &c->fetch_wait;
    int64_t now = loop_mono_ns();
    if (!w->active) {
        *w = (struct srv_fetch_wait){
            .active = true, .req = *f, .deadline_ns = now + SRV_FETCH_WAIT_NS};
        srv_log(c->srv, LOG_DEBUG, "fetch from %s: waiting for the end of the session",
                c->peer_text);
    } else if (now >= w->deadline_ns) {
        w->active = false;
        srv_log(c->srv, LOG_WARNING, "fetch from %s: the whole of a session still running",
                c->peer_text);
        return 0;
    }
    w->timer = loop_timer_add(c->srv->loop, now + SRV_FETCH_POLL_NS, fetch_wait_tick, c);
    return 1;
}

/* Log once that some records of a session never made it to its store. */
static void note_overflow(struct srv_conn *c, const struct srv_session *ss)
{
    uint64_t refused = sess_counters(ss->s).overflow;
    if (refused > 0) {
        const char *dir =
            c->srv->conf.datadir[0] ? c->srv->conf.datadir : "the temporary directory";
        srv_log(c->srv, LOG_WARNING,
                "session of %s: %" PRIu64 " records could not be stored in %s (missing, full "
                "or not writable?)",
                c->peer_text, refused, dir);
    }
}

/* Fetch-Session from any connection of the daemon (as the reference serves it: powstream
 * fetches on a second connection while the session runs): the stored request, then the
 * records in [begin, end], streamed as the connection drains. A finished session answers
 * Finished 1 with its Next Seqno and skip ranges; a running one Finished 2 (the reference's
 * "incomplete") with what has arrived so far. 0 or LP_E_*. */
static int serve_fetch(struct srv_conn *c, const struct wire_fetch_session *f)
{
    struct srv_conn *owner;
    struct srv_session *ss = srv_find_any(c->srv, f->sid, &owner);
    bool whole = f->begin_seq == 0 && f->end_seq == UINT32_MAX;
    if (ss && ss->req.conf_receiver == 1 && whole && !ss->stopped) {
        return fetch_wait(c, f) ? 0 : fetch_refuse(c, WIRE_ACCEPT_FAILURE);
    }
    c->fetch_wait.active = false; /* answered now */
    if (!ss || ss->req.conf_receiver != 1) {
        srv_log(c->srv, LOG_WARNING, "fetch from %s: no such receiving session", c->peer_text);
        return fetch_refuse(c, WIRE_ACCEPT_FAILURE);
    }
    note_overflow(c, ss);
    struct rst *st = sess_records(ss->s);
    struct fetch_plan p = {.begin = f->begin_seq, .end = f->end_seq};
    plan_fetch(st, ss->stopped, ss->req.npackets, &p);
    if (p.nrecords < 0 || p.nrecords > UINT32_MAX) {
        srv_log(c->srv, LOG_ERR, "fetch from %s: cannot read the records back", c->peer_text);
        return fetch_refuse(c, WIRE_ACCEPT_INTERNAL);
    }
    struct wire_fetch_ack ack = {.accept = WIRE_ACCEPT_OK,
                                 .finished = ss->stopped ? 1 : 2,
                                 .next_seqno = ss->stopped ? ss->next_seqno : 0,
                                 .nskips = ss->stopped ? ss->nskips : 0,
                                 .nrecords = (uint32_t)p.nrecords};
    /* delete_on_fetch (of the class that made the session) after a whole finished one */
    c->fetch = (struct srv_fetch){.st = rst_retain(st),
                                  .begin = p.begin,
                                  .end = p.end,
                                  .remove = whole && owner->cls.delete_on_fetch};
    ss->fetched = ss->fetched || whole;
    memcpy(c->fetch.sid, ss->sid, WIRE_SID_LEN);
    return ctrl_send_fetch_stream(c->ctrl, &ack, &ss->req, ss->slots, ss->skips, fetch_records,
                                  &c->fetch);
}

static void fetch_wait_tick(struct loop *loop, loop_timer_id id, void *arg)
{
    struct srv_conn *c = arg;
    (void)loop;
    (void)id;
    c->fetch_wait.timer = 0;
    int rc = serve_fetch(c, &c->fetch_wait.req);
    if (rc < 0 || !c->fetch_wait.active) {
        c->fetch_wait.active = false;
        srv_conn_resume(c, rc); /* the answer, then the messages that waited behind it */
    }
}

static int ow_fetch(struct srv_conn *c, const struct ctrl_event *ev)
{
    return serve_fetch(c, &ev->u.fetch);
}

const struct srv_ops srv_owamp_ops = {
    .proto = WIRE_OWAMP,
    .name = "owampd",
    .conf_name = "owamp",
    .default_port = "861",
    .features = 0,
    .request = ow_request,
    .start = ow_start,
    .stop = ow_stop,
    .fetch = ow_fetch,
};
