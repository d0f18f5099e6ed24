/* owamp.c - one owping run: request the session toward the server (we send, it receives)
 * and the one from it (it sends, we receive), start both, wait until both directions are
 * accounted for (see ow_wait), exchange Stop-Sessions, fetch the server's records, report.
 * When the run is cut short (SIGINT, the server stopping the sessions early or going away),
 * what was measured so far is still collected, within a bound, and reported as partial. The
 * phases are in owamp.h, for powstream. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "owpfile.h"
#include "sched.h"

#include "client.h"
#include "out.h"
#include "owamp.h"

static void on_sent(struct sess *s, void *arg)
{
    (void)s;
    *(bool *)arg = true;
}

static bool to_sent(void *arg)
{
    return ((const struct ow_run *)arg)->to.sent;
}

/* Request fields both directions share. */
static void request_common(const struct ow_run *r, struct wire_request *q)
{
    memset(q, 0, sizeof(*q));
    q->ipvn = r->c.peer.ss.ss_family == AF_INET6 ? 6 : 4;
    q->nslots = r->nslots;
    q->npackets = r->o->count;
    q->padding_len = r->o->padding;
    q->start_time = r->start;
    q->timeout = clk_ns_to_ntp_duration(r->loss_ns);
    q->typep = r->typep;
}

/* The Sender and Receiver Address of a request: zero with --zero-addresses (NAT traversal:
 * the server then uses the control connection's, RFC 4656 §3.5). */
static void request_addrs(const struct ow_run *r, const struct sock_addr *sender,
                          const struct sock_addr *receiver, uint8_t *sender_addr,
                          uint8_t *receiver_addr)
{
    if (!r->o->zero_addresses) {
        addr_sockaddr_octets((const struct sockaddr *)&sender->ss, sender_addr);
        addr_sockaddr_octets((const struct sockaddr *)&receiver->ss, receiver_addr);
    }
}

/* Session configuration both directions share. */
static void config_common(const struct ow_run *r, const struct ow_dir *d, struct sess_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = r->mode;
    cfg->keys = ctrl_keys(r->c.ctrl);
    memcpy(cfg->sid, d->sid, WIRE_SID_LEN);
    cfg->peer = d->peer;
    cfg->npackets = r->o->count;
    cfg->padding = r->o->padding;
    cfg->tos = r->o->dscp >= 0 ? r->o->dscp << 2 : -1;
    cfg->slots = r->slots;
    cfg->nslots = r->nslots;
    cfg->start = r->start;
}

/* Send a request and wait for its Accept-Session. 0 or -1 (printed). */
static int request(struct ow_run *r, const struct wire_request *q, struct wire_accept_session *acc,
                   const char *dir)
{
    struct ctrl_event ev;
    int rc = ctrl_send_request(r->c.ctrl, q, r->slots);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot request the session %s: %s\n", r->o->prog, dir,
                lp_strerror(rc));
        return -1;
    }
    if (conn_flush(&r->c) < 0 ||
        conn_expect(&r->c, CTRL_EV_ACCEPT_SESSION, loop_mono_ns() + PING_CTRL_WAIT_NS, &ev,
                    "Accept-Session") < 0) {
        return -1;
    }
    *acc = ev.u.accept;
    if (acc->accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "%s: session %s refused: %s (Accept=%u)\n", r->o->prog, dir,
                ping_accept_str(acc->accept), acc->accept);
        return -1;
    }
    return 0;
}

/* Open a test socket on the control connection's local address (flags: SOCK_F_TX_TSTAMP
 * for the one we send on). */
static int open_dir_socket(struct ow_run *r, struct ow_dir *d, unsigned flags,
                           struct sock_udp *sock)
{
    if (ping_open_test_socket(r->o, &r->c.local, flags, sock) < 0) {
        return -1;
    }
    d->local = r->c.local;
    sock_addr_set_port(&d->local, sock->port);
    d->peer = r->c.peer;
    return 0;
}

static int create_sess(struct ow_run *r, struct ow_dir *d, struct sock_udp *sock,
                       enum sess_kind kind)
{
    struct sess_config cfg;
    config_common(r, d, &cfg);
    cfg.kind = kind;
    cfg.spin_ns = kind == SESS_OW_SENDER ? ping_spin_ns(r->a) : 0;
    cfg.keep_tx_times = kind == SESS_OW_SENDER; /* the send times of our results */
    cfg.loss_timeout_ns = kind == SESS_OW_RECEIVER ? r->loss_ns : 0;
    if (!(d->sess = sess_create(r->a->loop, sock, &cfg))) {
        fprintf(stderr, "%s: cannot create the test session\n", r->o->prog);
        return -1;
    }
    out_watch_session(r->o, d->sess);
    if (kind == SESS_OW_SENDER) {
        sess_on_sent(d->sess, on_sent, &d->sent);
    }
    return 0;
}

/* The session toward the server: we send, the server receives and picks the SID. */
static int request_to(struct ow_run *r)
{
    struct ow_dir *d = &r->to;
    struct sock_udp sock;
    struct wire_request q;
    struct wire_accept_session acc;
    if (open_dir_socket(r, d, SOCK_F_TX_TSTAMP, &sock) < 0) {
        return -1;
    }
    request_common(r, &q);
    q.conf_receiver = 1;
    q.sender_port = sock.port;
    request_addrs(r, &d->local, &d->peer, q.sender_addr, q.receiver_addr);
    if (request(r, &q, &acc, "toward the server") < 0) {
        sock_close_udp(&sock);
        return -1;
    }
    memcpy(d->sid, acc.sid, WIRE_SID_LEN);
    memcpy(r->fetch.sid, acc.sid, WIRE_SID_LEN);
    sock_addr_set_port(&d->peer, acc.port);
    if (create_sess(r, d, &sock, SESS_OW_SENDER) < 0) {
        return -1;
    }
    r->fetch.sender = d->sess;
    return 0;
}

/* The session from the server: it sends, we receive and pick the SID. */
static int request_from(struct ow_run *r)
{
    struct ow_dir *d = &r->from;
    struct sock_udp sock;
    struct wire_request q;
    struct wire_accept_session acc;
    uint8_t octets[16];
    if (open_dir_socket(r, d, 0, &sock) < 0) {
        return -1;
    }
    size_t n = addr_sockaddr_octets((const struct sockaddr *)&d->local.ss, octets);
    sess_make_sid(octets, n, d->sid);
    request_common(r, &q);
    q.conf_sender = 1;
    q.receiver_port = sock.port;
    request_addrs(r, &d->peer, &d->local, q.sender_addr, q.receiver_addr);
    memcpy(q.sid, d->sid, WIRE_SID_LEN);
    if (request(r, &q, &acc, "from the server") < 0) {
        sock_close_udp(&sock);
        return -1;
    }
    sock_addr_set_port(&d->peer, acc.port);
    d->req = q; /* as the file will say it: both ends filled in */
    d->req.sender_port = acc.port;
    addr_sockaddr_octets((const struct sockaddr *)&d->peer.ss, d->req.sender_addr);
    addr_sockaddr_octets((const struct sockaddr *)&d->local.ss, d->req.receiver_addr);
    d->last = ping_last_send(r->slots, r->nslots, d->sid, r->o->count, r->start);
    return create_sess(r, d, &sock, SESS_OW_RECEIVER);
}

/* Start-Sessions: the receiver listens first, the sender starts once the server agreed. The
 * end of the wait is fixed now, in monotonic time, so a wall-clock step during the sessions
 * cannot shorten it. */
static int start_sessions(struct ow_run *r)
{
    struct ctrl_event ev;
    if (r->from.sess && sess_start(r->from.sess) < 0) {
        fprintf(stderr, "%s: cannot start the receiving session\n", r->o->prog);
        return -1;
    }
    r->from.started = r->from.sess != NULL;
    int rc = ctrl_send_start(r->c.ctrl);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot send Start-Sessions: %s\n", r->o->prog, lp_strerror(rc));
        return -1;
    }
    if (conn_flush(&r->c) < 0) {
        return -1;
    }
    if (conn_expect(&r->c, CTRL_EV_START_ACK, loop_mono_ns() + PING_CTRL_WAIT_NS, &ev,
                    "Start-Ack") < 0) {
        return -1;
    }
    if (ev.u.start_ack.accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "%s: server did not start the sessions: %s\n", r->o->prog,
                ping_accept_str(ev.u.start_ack.accept));
        return -1;
    }
    r->acked = true;
    if (r->to.sess) {
        if (sess_start(r->to.sess) < 0) {
            fprintf(stderr, "%s: cannot start the sending session\n", r->o->prog);
            return -1;
        }
        r->to.started = true;
        r->to.last = sess_last_send_time(r->to.sess);
    }
    int64_t wait = r->loss_ns + r->o->enddelay_ns;
    r->to_end = r->to.sess ? app_mono_at((struct clk_time){r->to.last.ns + wait}) : 0;
    r->from_end = r->from.sess ? app_mono_at((struct clk_time){r->from.last.ns + wait}) : 0;
    r->end_mono = r->to_end > r->from_end ? r->to_end : r->from_end;
    return 0;
}

/* Close our receiving session with n as the Next Seqno (once). */
static void finalize_dir(struct ow_dir *d, uint32_t n)
{
    if (d->sess && !d->finalized) {
        sess_ow_finalize(d->sess, n);
        d->finalized = true;
        d->covered = n;
    }
}

/* The server's Stop-Sessions: its Accept and the Next Seqno of the session it sends us. */
static void peer_stop(struct ow_run *r, const struct wire_stop_sessions *st)
{
    r->peer_stopped = true;
    r->peer_accept = st->accept;
    for (uint32_t i = 0; i < st->nsessions && r->from.sess; i++) {
        if (memcmp(st->desc[i].sid, r->from.sid, WIRE_SID_LEN) == 0 || st->nsessions == 1) {
            r->from_described = true;
            r->from_next = st->desc[i].next_seqno;
            break;
        }
    }
}

/* Stop our receiving session, closed with the server's Next Seqno when it gave one. */
static void close_from(struct ow_run *r)
{
    if (r->from.sess) {
        sess_stop(r->from.sess);
        if (r->from_described) {
            finalize_dir(&r->from, r->from_next);
        }
    }
}

/* Whether the server's Stop-Sessions ends the sessions normally: a server stops them once
 * its receiving sessions have every packet (RFC 4656 §3.8 lets either side send it first),
 * after we sent all ours and it sent all it was asked for. */
static bool peer_done(const struct ow_run *r)
{
    return r->peer_stopped && r->peer_accept == WIRE_ACCEPT_OK && (!r->to.sess || r->to.sent) &&
           (!r->from_described || r->from_next >= r->o->count);
}

/* The packets toward the server are accounted for: the server said so, or our wait is over.
 * Our own Stop-Sessions may not come sooner: a receiver drops the packets sent less than the
 * loss timeout before a Stop-Sessions it gets (RFC 4656 §3.8, as the reference does). */
static bool to_done(const struct ow_run *r)
{
    return !r->to.sess || peer_done(r) || loop_mono_ns() >= r->to_end;
}

/* The packets from the server are accounted for: all of them arrived, or our wait is over. */
static bool from_done(const struct ow_run *r)
{
    return !r->from.sess || sess_all_in(r->from.sess) || loop_mono_ns() >= r->from_end;
}

static bool all_done(void *arg)
{
    return to_done(arg) && from_done(arg);
}

/* Run the loop until deadline_mono (or done(r)), watching the control connection: the server
 * may stop the sessions, normally (0: the caller goes on waiting for the packets from it) or
 * early, or go away. 0, or -1 (printed unless interrupted). */
static int watch(struct ow_run *r, int64_t deadline_mono, conn_done_fn done)
{
    struct ctrl_event ev;
    int rc = conn_watch_event(&r->c, deadline_mono, done, r, &ev);
    if (rc > 0 && ev.type == CTRL_EV_STOP) {
        peer_stop(r, &ev.u.stop);
        if (peer_done(r)) {
            return 0;
        }
        close_from(r);
        r->cut_short = true;
        fprintf(stderr, "%s: the server stopped the sessions early%s%s\n", r->o->prog,
                ev.u.stop.accept ? ": " : "",
                ev.u.stop.accept ? ping_accept_str(ev.u.stop.accept) : "");
        return -1;
    }
    if (rc > 0) {
        fprintf(stderr, "%s: protocol error: the server sent a message during the sessions\n",
                r->o->prog);
        return -1;
    }
    if (rc < 0 && r->c.eof) {
        fprintf(stderr, "%s: the server closed the control connection during the sessions\n",
                r->o->prog);
    }
    return rc;
}

/* The next time a direction still waited for is over by the clock. */
static int64_t next_end(const struct ow_run *r)
{
    int64_t until = to_done(r) ? INT64_MAX : r->to_end;
    return !from_done(r) && r->from_end < until ? r->from_end : until;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Wait for our last packet to leave, then until both directions are accounted for (to_done,
 * from_done): each waits at most the loss timeout plus -E after its last scheduled packet,
 * ours also after its actual last one (a slow host, a wall clock stepped back). Packets
 * already queued on our socket are read before anything counts lost. Stops at until_mono
 * too: 1 all accounted for, 0 until_mono came first (call again), -1 failed (printed). */
int ow_wait_until(struct ow_run *r, int64_t until_mono)
{
    if (!r->waiting) {
        r->waiting = true;
        out_eta(r->o, (double)(r->end_mono - loop_mono_ns()) / 1e9);
    }
    if (r->to.sess && !r->to_waited) {
        int64_t limit = r->end_mono + PING_CTRL_WAIT_NS;
        if (watch(r, min64(limit, until_mono), to_sent) < 0) {
            return -1;
        }
        if (!r->to.sent && loop_mono_ns() < limit) {
            return 0;
        }
        if (!r->to.sent) {
            fprintf(stderr, "%s: the sending session did not finish in time\n", r->o->prog);
            r->cut_short = true;
            return -1;
        }
        int64_t after_last = loop_mono_ns() + r->loss_ns + r->o->enddelay_ns;
        r->to_end = after_last > r->to_end ? after_last : r->to_end;
        r->to_waited = true;
    }
    while (!all_done(r)) {
        if (loop_mono_ns() >= until_mono) {
            return 0;
        }
        if (watch(r, min64(next_end(r), until_mono), all_done) < 0) {
            return -1;
        }
    }
    app_drain(r->a);
    return 1;
}

int ow_wait(struct ow_run *r)
{
    int rc;
    while ((rc = ow_wait_until(r, INT64_MAX)) == 0) {
    }
    return rc < 0 ? -1 : 0;
}

/* Our Stop-Sessions, describing what we sent. 0 or -1 (printed). */
static int send_stop(struct ow_run *r)
{
    struct wire_session_desc desc = {0};
    struct wire_stop_sessions st = {.accept = WIRE_ACCEPT_OK, .nsessions = 0, .desc = &desc};
    if (r->to.sess) {
        sess_stop(r->to.sess);
        memcpy(desc.sid, r->to.sid, WIRE_SID_LEN);
        desc.next_seqno = sess_next_seqno(r->to.sess);
        st.nsessions = 1;
    }
    int rc = ctrl_send_stop(r->c.ctrl, &st);
    r->stopped = rc == 0;
    if (rc < 0) {
        fprintf(stderr, "%s: cannot send Stop-Sessions: %s\n", r->o->prog, lp_strerror(rc));
        return -1;
    }
    return conn_flush(&r->c);
}

/* Our Stop-Sessions, then the server's (what it sent) unless it came already: wait for it
 * before fetching, a late one could not be told from a Fetch-Ack. 0 or -1 (printed). */
static int stop_sessions(struct ow_run *r, int64_t deadline_mono)
{
    struct ctrl_event ev;
    if (!r->stopped && send_stop(r) < 0) {
        return -1;
    }
    if (!r->peer_stopped) {
        /* the server answers with no description when it sent nothing */
        if (conn_expect(&r->c, CTRL_EV_STOP, deadline_mono, &ev, "Stop-Sessions") < 0) {
            return -1;
        }
        peer_stop(r, &ev.u.stop);
    }
    close_from(r);
    return 0;
}

void ow_init(struct ow_run *r, struct app *a, const struct opts *o)
{
    memset(r, 0, sizeof(*r));
    r->a = a;
    r->o = o;
    r->c.fd = -1;
    r->salvage_ns = PING_SALVAGE_NS;
    r->fetch = (struct ow_fetch){.c = &r->c,
                                 .end = UINT32_MAX,
                                 .recs = &r->recs,
                                 .owp_path = o->to_file,
                                 .owp_suffix = ".tmp"};
}

int ow_begin(struct ow_run *r, const char *target, const struct clk_ntp *start)
{
    const struct opts *o = r->o;
    if (ping_setup(r->a, &r->c, target, WIRE_OWAMP, r->host, sizeof(r->host), &r->mode) < 0) {
        return -1;
    }
    r->loss_ns = o->loss_timeout_ns >= 0 ? o->loss_timeout_ns : 2000000000 + r->c.rtt_ns;
    r->start = ping_start_time(o, r->c.rtt_ns);
    r->start = start && start->raw > r->start.raw ? *start : r->start;
    r->nslots = ping_slots(o, r->slots);
    r->typep = o->dscp >= 0 ? wire_typep_dscp((uint8_t)o->dscp) : 0;
    if ((o->to && request_to(r) < 0) || (o->from && request_from(r) < 0)) {
        return -1;
    }
    return start_sessions(r);
}

int ow_finish(struct ow_run *r)
{
    if (stop_sessions(r, loop_mono_ns() + PING_CTRL_WAIT_NS + r->loss_ns) < 0) {
        return -1;
    }
    if (r->peer_accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "%s: server reports the sessions failed: %s\n", r->o->prog,
                ping_accept_str(r->peer_accept));
        r->cut_short = true;
        return -1;
    }
    finalize_dir(&r->from, r->o->count); /* the server's Stop-Sessions did not describe it */
    return r->to.sess ? ow_fetch_run(&r->fetch, INT64_MAX) : 0;
}

/* Finalize our receiving session when no Stop-Sessions of the server did: the gaps below the
 * highest sequence number logged (received, or lost by its loss timeout) are losses, nothing
 * is known beyond it. */
static void finalize_from_records(struct ow_run *r)
{
    struct rst *st = sess_records(r->from.sess);
    uint32_t next = 0;
    const void *run;
    size_t n;
    for (uint64_t i = 0; (n = rst_get(st, i, &run, NULL)) > 0; i += n) {
        for (const struct met_owrec *x = run, *end = x + n; x < end; x++) {
            next = x->seq >= next ? x->seq + 1 : next;
        }
    }
    sess_stop(r->from.sess);
    finalize_dir(&r->from, next);
}

/* The run was cut short (interrupted, stopped early by the server, a sender late): while
 * the control connection works, stop the sessions and fetch what the server received,
 * within r->salvage_ns; a second SIGINT gives up at once. */
void ow_salvage(struct ow_run *r)
{
    if (r->acked && (r->cut_short || r->a->interrupted) && conn_alive(&r->c)) {
        int64_t limit = loop_mono_ns() + r->salvage_ns;
        r->a->grace = r->a->interrupted;
        if (stop_sessions(r, limit) == 0 && r->to.sess && !r->fetch.done && !r->fetch.refused) {
            ow_fetch_run(&r->fetch, limit);
        }
        r->a->grace = false;
    }
    if (r->from.sess && r->from.started) {
        finalize_from_records(r);
    }
}

int ow_save_from(struct ow_run *r, const char *path, const char *tmp_suffix, bool ok,
                 struct rst *recs)
{
    struct ow_dir *d = &r->from;
    struct save_file sf;
    struct owpf_header h = {.finished = ok || r->from_described ? OWPF_NORMAL : OWPF_INCOMPLETE,
                            .next_seqno = d->covered,
                            .req = d->req,
                            .slots = r->slots};
    h.req.nslots = r->nslots;
    if (!save_open(&sf, path, tmp_suffix, r->o->prog)) {
        return -1;
    }
    if (owpf_write_session(sf.f, &h, recs ? recs : sess_records(d->sess), NULL) < 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", r->o->prog, path, strerror(errno));
        save_abort(&sf);
        return -1;
    }
    return save_commit(&sf, r->o->prog);
}

void ow_describe(struct ow_run *r, bool to, bool ok, struct out_sess *s, struct rep_tx *tx)
{
    const struct ow_dir *d = to ? &r->to : &r->from;
    memset(s, 0, sizeof(*s));
    s->prog = r->o->prog;
    memcpy(s->rs.sid, d->sid, WIRE_SID_LEN);
    if (to) {
        out_set_ends(s, &d->local, NULL, &d->peer, r->host);
        s->recs = r->recs;
    } else {
        out_set_ends(s, &d->peer, r->host, &d->local, NULL);
        s->recs = sess_records(d->sess);
    }
    s->rs.type_p = r->typep;
    s->rs.loss_timeout_ns = r->loss_ns;
    s->rs.padding = r->o->padding;
    s->rs.finished = ok;
    s->mp.loss_timeout_ns = r->loss_ns;
    /* partial: the packets sent before the stop (as told in Stop-Sessions); the server's
     * Next Seqno also bounds a complete session from it: what it never sent is not lost */
    s->mp.npackets = ok ? r->o->count : to ? sess_next_seqno(d->sess) : d->covered;
    if (ok && !to && d->finalized && d->covered < r->o->count) {
        s->mp.npackets = d->covered;
    }
    s->rs.npackets = s->mp.npackets;
    uint64_t first, last; /* first and last scheduled send, as the reference reports them */
    if (sched_span(r->slots, r->nslots, d->sid, r->o->count, &first, &last) == 0) {
        s->rs.start_ntp = r->start.raw + first;
        s->rs.end_ntp = r->start.raw + last;
        s->rs.start = clk_from_ntp((struct clk_ntp){s->rs.start_ntp});
        s->rs.end = clk_from_ntp((struct clk_ntp){s->rs.end_ntp});
    }
    if (to) { /* we sent this one: how precisely, and which send times the results use */
        ping_tx_collect(d->sess, NULL, r->mode, -1, -1, tx);
        tx->one_way = true;
        tx->time_tx = r->fetch.send_tx;
        tx->time_packet = r->fetch.send_packet;
        s->rs.tx = tx;
    }
}

/* Report one direction; ok: the session ran as scheduled. 0 or -1 when the report could not
 * be written in full (printed). */
static int report_dir(struct ow_run *r, bool to, bool ok)
{
    struct out_sess s;
    struct rep_tx tx;
    const struct ow_dir *d = to ? &r->to : &r->from;
    ow_describe(r, to, ok, &s, &tx);
    if (ok && !to && d->finalized && d->covered < r->o->count) {
        fprintf(stderr,
                "%s: the server sent %" PRIu32 " of the %" PRIu32
                " packets before the session ended\n",
                r->o->prog, d->covered, r->o->count);
    }
    if (!ok) {
        fprintf(stderr, "%s: partial results for the session %s the server\n", r->o->prog,
                to ? "toward" : "from");
    }
    int rc = out_report(r->o, &s);
    if (to) {
        ping_tx_print(r->o, &tx);
    }
    return rc;
}

/* Report what there is: the to-session once fetched, the from-session once it received
 * something (saved to -F first). 0 or -1 when a report could not be written. */
static int report_all(struct ow_run *r, bool ok)
{
    int rc = 0;
    if (r->to.sess && r->fetch.done) {
        rc |= report_dir(r, true, ok);
    } else if (r->to.started) {
        fprintf(stderr, "%s: no results for the session toward the server (not fetched)\n",
                r->o->prog);
    }
    if (r->from.sess && r->from.started && (ok || r->from.covered > 0)) {
        if (r->o->from_file) {
            rc |= ow_save_from(r, r->o->from_file, ".tmp", ok, NULL);
        }
        rc |= report_dir(r, false, ok);
    }
    return rc;
}

void ow_end(struct ow_run *r, bool ok)
{
    if (!ok && (r->to.started || r->from.started) && !r->stopped && conn_alive(&r->c)) {
        struct wire_stop_sessions st = {.accept = WIRE_ACCEPT_FAILURE, .nsessions = 0};
        ctrl_send_stop(r->c.ctrl, &st); /* let the server stop early; errors do not matter */
    }
    conn_close(&r->c, loop_mono_ns() + (r->a->interrupted ? 0 : 1000000000));
    if (r->to.sess) {
        sess_destroy(r->to.sess);
    }
    if (r->from.sess) {
        sess_destroy(r->from.sess);
    }
    ow_fetch_abort(&r->fetch);
    rst_destroy(r->recs);
    memset(r, 0, sizeof(*r));
    r->c.fd = -1;
}

int ping_owamp(struct app *a, const char *target)
{
    struct ow_run r;
    ow_init(&r, a, a->o);
    ping_rt_setup(a);
    bool ok = ow_begin(&r, target, NULL) == 0 && ow_wait(&r) == 0 && ow_finish(&r) == 0;
    if (!ok) {
        ow_salvage(&r);
    }
    int rc = report_all(&r, ok) | (r.fetch.owp_failed ? -1 : 0);
    ow_end(&r, ok);
    return ok && rc == 0 ? 0 : 1;
}
