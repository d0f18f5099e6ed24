/* twamp.c - one twping run over TWAMP-Control: Request-TW-Session, Start-Sessions (or RFC 5938
 * Start-N-Sessions), send the schedule, wait until every packet has its reply (at most the
 * loss timeout after the last one), Stop-Sessions (or Stop-N-Sessions), report. The server
 * says nothing from Start-Ack to Stop-Sessions: if it closes the connection (or sends
 * anything) meanwhile, the run fails and what was measured so far is reported as partial.
 * The negotiated Mode carries the extensions: RFC 6038 reflected octets, RFC 7750 DSCP/ECN
 * reports and RFC 8186 PTP timestamps are handled by the test session, this file asks for
 * them and reports them. */
#include <stdio.h>
#include <string.h>

#include "addr.h"

#include "client.h"
#include "out.h"

struct tw_run {
    struct app *a;
    const struct opts *o;
    struct conn c;
    char host[256];
    uint32_t mode;
    int64_t loss_ns;
    struct clk_ntp start;
    struct wire_slot slots[OPTS_MAX_SLOTS];
    uint32_t nslots;
    uint32_t typep;
    uint32_t padding; /* Padding Length: the sender packet as long as the reflected one */
    uint16_t reflect; /* RFC 6038 padding octets to reflect (0: none) */
    struct sess *sess;
    int64_t end_mono; /* CLOCK_MONOTONIC end of the wait, fixed at Start */
    bool started, sent;
    uint8_t sid[WIRE_SID_LEN];
    struct sock_addr local, peer;
};

static void on_sent(struct sess *s, void *arg)
{
    (void)s;
    *(bool *)arg = true;
}

static bool all_sent(void *arg)
{
    return ((const struct tw_run *)arg)->sent;
}

static bool all_replied(void *arg)
{
    return sess_all_in(((const struct tw_run *)arg)->sess);
}

/* Request-TW-Session as the reference writes it: the receiver gets our own port number (the
 * server answers with its own). 0 or -1 (printed). */
static int request(struct tw_run *r, uint16_t port, struct wire_accept_session *acc)
{
    struct wire_request q;
    struct ctrl_event ev;
    memset(&q, 0, sizeof(q));
    q.ipvn = r->c.peer.ss.ss_family == AF_INET6 ? 6 : 4;
    q.sender_port = port;
    q.receiver_port = port;
    if (!r->o->zero_addresses) { /* -Z: zero, the server uses the control connection's */
        addr_sockaddr_octets((const struct sockaddr *)&r->local.ss, q.sender_addr);
        addr_sockaddr_octets((const struct sockaddr *)&r->peer.ss, q.receiver_addr);
    }
    q.padding_len = r->padding;
    q.start_time = r->start;
    q.timeout = clk_ns_to_ntp_duration(r->loss_ns);
    q.typep = r->typep;
    /* RFC 6038 names the padding octets to reflect in Length of padding to reflect; twampd
     * (and some others) read Octets to be reflected: the same count in both works for all */
    q.octets_reflected = r->reflect;
    q.pad_reflected = r->reflect;
    int rc = ctrl_send_request(r->c.ctrl, &q, NULL);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot request the session: %s\n", r->o->prog, lp_strerror(rc));
        return -1;
    }
    if (conn_flush(&r->c) < 0 ||
        conn_expect(&r->c, CTRL_EV_ACCEPT_SESSION, loop_mono_ns() + PING_CTRL_WAIT_NS, &ev,
                    "Accept-Session") < 0) {
        return -1;
    }
    *acc = ev.u.accept;
    if (acc->accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "%s: session refused: %s (Accept=%u)\n", r->o->prog,
                ping_accept_str(acc->accept), acc->accept);
        return -1;
    }
    if (acc->reflected_octets != r->reflect) {
        fprintf(stderr, "%s: server answered %u for the octets to reflect (asked %u)\n", r->o->prog,
                acc->reflected_octets, r->reflect);
    }
    return 0;
}

static int create_session(struct tw_run *r)
{
    struct sock_udp sock;
    struct wire_accept_session acc;
    struct sess_config cfg;
    if (ping_open_test_socket(r->o, &r->c.local, SOCK_F_TX_TSTAMP, &sock) < 0) {
        return -1;
    }
    r->local = r->c.local;
    sock_addr_set_port(&r->local, sock.port);
    r->peer = r->c.peer;
    if (request(r, sock.port, &acc) < 0) {
        sock_close_udp(&sock);
        return -1;
    }
    memcpy(r->sid, acc.sid, WIRE_SID_LEN);
    sock_addr_set_port(&r->peer, acc.port);
    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = SESS_TW_SENDER;
    cfg.fmt = SESS_FMT_TWAMP;
    cfg.mode = r->mode;
    cfg.keys = ctrl_keys(r->c.ctrl);
    memcpy(cfg.sid, r->sid, WIRE_SID_LEN);
    cfg.peer = r->peer;
    cfg.npackets = r->o->count;
    cfg.padding = r->padding;
    cfg.zero_padding = r->o->zero_padding;
    cfg.tos = r->o->dscp >= 0 ? r->o->dscp << 2 : -1;
    cfg.slots = r->slots;
    cfg.nslots = r->nslots;
    cfg.start = r->start;
    cfg.spin_ns = ping_spin_ns(r->a);
    cfg.reflect_octets = r->reflect;
    if (!(r->sess = sess_create(r->a->loop, &sock, &cfg))) {
        fprintf(stderr, "%s: cannot create the test session\n", r->o->prog);
        return -1;
    }
    out_watch_session(r->o, r->sess);
    sess_on_sent(r->sess, on_sent, &r->sent);
    return 0;
}

/* RFC 5938: send cmd listing our session and wait for its acknowledgement ack. The Accept
 * of the acknowledgement, or -1 (printed). */
static int nsessions(struct tw_run *r, uint8_t cmd, uint8_t ack, const char *what,
                     const char *ack_what)
{
    struct ctrl_event ev;
    int64_t deadline = loop_mono_ns() + PING_CTRL_WAIT_NS;
    int rc = ctrl_send_nsessions(r->c.ctrl, cmd, 0, r->sid, 1);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot send %s: %s\n", r->o->prog, what, lp_strerror(rc));
        return -1;
    }
    if (conn_flush(&r->c) < 0 ||
        conn_expect(&r->c, CTRL_EV_NSESSIONS, deadline, &ev, ack_what) < 0) {
        return -1;
    }
    if (ev.u.nsessions.cmd != ack) {
        fprintf(stderr, "%s: protocol error: command %u while waiting for %s\n", r->o->prog,
                ev.u.nsessions.cmd, ack_what);
        return -1;
    }
    return ev.u.nsessions.accept;
}

/* Start-Sessions and its Start-Ack: the Accept, or -1 (printed). */
static int start_all(struct tw_run *r)
{
    struct ctrl_event ev;
    int rc = ctrl_send_start(r->c.ctrl);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot send Start-Sessions: %s\n", r->o->prog, lp_strerror(rc));
        return -1;
    }
    if (conn_flush(&r->c) < 0 ||
        conn_expect(&r->c, CTRL_EV_START_ACK, loop_mono_ns() + PING_CTRL_WAIT_NS, &ev,
                    "Start-Ack") < 0) {
        return -1;
    }
    return ev.u.start_ack.accept;
}

static int start_session(struct tw_run *r)
{
    int accept = r->o->individual ? nsessions(r, WIRE_CMD_START_N_SESSIONS, WIRE_CMD_START_N_ACK,
                                              "Start-N-Sessions", "Start-N-Ack")
                                  : start_all(r);
    if (accept < 0) {
        return -1;
    }
    if (accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "%s: server did not start the session: %s\n", r->o->prog,
                ping_accept_str((uint8_t)accept));
        return -1;
    }
    if (sess_start(r->sess) < 0) {
        fprintf(stderr, "%s: cannot start the test session\n", r->o->prog);
        return -1;
    }
    r->started = true;
    /* fixed now, in monotonic time: a wall-clock step during the session cannot shorten it */
    r->end_mono = app_mono_at((struct clk_time){sess_last_send_time(r->sess).ns + r->loss_ns});
    return 0;
}

/* Run the loop until deadline_mono (or done(r)), watching the control connection. 0, or -1
 * (printed unless interrupted). */
static int watch(struct tw_run *r, int64_t deadline_mono, conn_done_fn done)
{
    struct ctrl_event ev;
    int rc = conn_watch_event(&r->c, deadline_mono, done, r, &ev);
    if (rc > 0) {
        fprintf(stderr, "%s: unexpected message on the control connection during the session\n",
                r->o->prog);
        return -1;
    }
    if (rc < 0 && r->c.eof) {
        fprintf(stderr, "%s: the server closed the control connection during the session\n",
                r->o->prog);
    }
    return rc;
}

/* Wait until the last packet left, then until every packet has its reply: at most until the
 * end fixed at Start (the loss timeout after the last scheduled packet), and the loss timeout
 * after the actual last one; then -E. Replies already queued are read before anything
 * counts lost. */
static int wait_end(struct tw_run *r)
{
    out_eta(r->o, (double)(r->end_mono - loop_mono_ns()) / 1e9);
    if (watch(r, r->end_mono + PING_CTRL_WAIT_NS, all_sent) < 0) {
        return -1;
    }
    if (!r->sent) {
        fprintf(stderr, "%s: the test session did not finish in time\n", r->o->prog);
        return -1;
    }
    int64_t after_last = loop_mono_ns() + r->loss_ns;
    if (watch(r, after_last > r->end_mono ? after_last : r->end_mono, all_replied) < 0 ||
        (r->o->enddelay_ns > 0 && watch(r, loop_mono_ns() + r->o->enddelay_ns, NULL) < 0)) {
        return -1;
    }
    app_drain(r->a);
    return 0;
}

static int stop_session(struct tw_run *r)
{
    struct wire_stop_sessions st = {.accept = 0, .nsessions = 1};
    sess_stop(r->sess);
    if (r->o->individual) {
        int accept = nsessions(r, WIRE_CMD_STOP_N_SESSIONS, WIRE_CMD_STOP_N_ACK, "Stop-N-Sessions",
                               "Stop-N-Ack");
        if (accept > 0) { /* the results are ours: say so, keep them */
            fprintf(stderr, "%s: server reports the session did not stop cleanly: %s\n", r->o->prog,
                    ping_accept_str((uint8_t)accept));
        }
        return accept < 0 ? -1 : 0;
    }
    int rc = ctrl_send_stop(r->c.ctrl, &st);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot send Stop-Sessions: %s\n", r->o->prog, lp_strerror(rc));
        return -1;
    }
    return conn_flush(&r->c);
}

static int run(struct tw_run *r, const char *target)
{
    const struct opts *o = r->o;
    if (ping_setup(r->a, &r->c, target, WIRE_TWAMP, r->host, sizeof(r->host), &r->mode) < 0) {
        return -1;
    }
    r->loss_ns = o->loss_timeout_ns >= 0 ? o->loss_timeout_ns : 2000000000 + r->c.rtt_ns;
    r->start = ping_start_time(o, r->c.rtt_ns);
    r->nslots = ping_slots(o, r->slots);
    r->typep = o->dscp >= 0 ? wire_typep_dscp((uint8_t)o->dscp) : 0;
    /* the reflector's reply is as long as our packet: its padding (where RFC 6038 octets
     * come back) is ours less the difference of the base lengths */
    r->reflect = (r->mode & WIRE_MODE_REFLECT_OCTETS) ? (uint16_t)o->reflect_octets : 0;
    r->padding = (wire_test_layout(r->mode) == 1 ? WIRE_REFLECTOR_AUTH_LEN - WIRE_SENDER_AUTH_LEN
                                                 : WIRE_REFLECTOR_OPEN_LEN - WIRE_SENDER_OPEN_LEN) +
                 (o->padding > r->reflect ? o->padding : r->reflect);
    if (create_session(r) < 0 || start_session(r) < 0 || wait_end(r) < 0) {
        return -1;
    }
    return stop_session(r);
}

/* Report the session (partial unless ok). 0 or -1 (printed). */
static int report(struct tw_run *r, bool ok)
{
    struct tw_done t = {.sess = r->sess,
                        .sid = r->sid,
                        .local = &r->local,
                        .peer = &r->peer,
                        .host = r->host,
                        .typep = r->typep,
                        .loss_ns = r->loss_ns,
                        .padding = r->padding,
                        .mode = r->mode,
                        .reflect_octets = r->reflect,
                        .sent_tos = r->o->dscp >= 0 ? r->o->dscp << 2 : 0};
    return out_tw_session(r->o, &t, ok);
}

int ping_twamp(struct app *a, const char *target)
{
    struct tw_run r;
    memset(&r, 0, sizeof(r));
    r.a = a;
    r.o = a->o;
    ping_rt_setup(a);
    bool ok = run(&r, target) == 0;
    int rc = r.started ? report(&r, ok) : 0;
    if (!ok && r.started && conn_alive(&r.c)) {
        struct wire_stop_sessions st = {.accept = WIRE_ACCEPT_FAILURE, .nsessions = 1};
        ctrl_send_stop(r.c.ctrl, &st); /* let the server stop early; errors do not matter */
    }
    conn_close(&r.c, loop_mono_ns() + (a->interrupted ? 0 : 1000000000));
    if (r.sess) {
        sess_destroy(r.sess);
    }
    return ok && rc == 0 ? 0 : 1;
}
