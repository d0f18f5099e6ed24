/* probe_ctrl.c - a measurement over OWAMP-Control or TWAMP-Control, driven by loop events:
 * connect, greeting, mode and authentication, Request-Session (TWAMP: one; OWAMP: toward the
 * target and from it), Start-Sessions, the sessions (probe.c), Stop-Sessions, and for OWAMP
 * the server's Stop-Sessions and Fetch-Session of the session toward it. Each step answers
 * the event that ends the previous one; nothing here waits. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "owpfile.h"

#include "probe_int.h"

#define PR_READ_CHUNK 2048 /* small enough that ctrl's bounded input never overflows */

static void interest(struct probe *p)
{
    const uint8_t *buf;
    size_t n;
    ctrl_output(p->ctrl, &buf, &n);
    loop_mod_fd(p->env.loop, p->fd, LOOP_READ | (n > 0 ? LOOP_WRITE : 0u));
}

/* Send what the ctrl queued (the rest when the socket is writable). 0 or -1 (finished). */
static int flush(struct probe *p)
{
    if (ctrl_write_fd(p->ctrl, p->fd) < 0) {
        pr_finish(p, false, "control connection: %s", strerror(errno));
        return -1;
    }
    interest(p);
    return 0;
}

void pr_ctrl_close(struct probe *p)
{
    if (p->fd >= 0) {
        if (p->ctrl) {
            ctrl_write_fd(p->ctrl, p->fd); /* a last Stop-Sessions, best effort */
        }
        loop_del_fd(p->env.loop, p->fd);
        close(p->fd);
        p->fd = -1;
    }
    ctrl_destroy(p->ctrl);
    p->ctrl = NULL;
}

/* ---- requests ---- */

/* Fields every request shares. */
static void request_common(const struct probe *p, struct wire_request *q)
{
    memset(q, 0, sizeof(*q));
    q->ipvn = p->cl_peer.ss.ss_family == AF_INET6 ? 6 : 4;
    q->npackets = p->m.count;
    q->start_time = p->start;
    q->timeout = clk_ns_to_ntp_duration(p->loss_ns);
    q->typep = p->m.dscp >= 0 ? wire_typep_dscp((uint8_t)p->m.dscp) : 0;
}

static void addrs(const struct sock_addr *sender, const struct sock_addr *receiver,
                  struct wire_request *q)
{
    addr_sockaddr_octets((const struct sockaddr *)&sender->ss, q->sender_addr);
    addr_sockaddr_octets((const struct sockaddr *)&receiver->ss, q->receiver_addr);
}

/* A test socket on the control connection's address, pending until its Accept-Session. */
static int test_socket(struct probe *p)
{
    if (pr_open_socket(p, &p->cl_local, &p->pend) < 0) {
        return -1;
    }
    p->pend_local = p->cl_local;
    sock_addr_set_port(&p->pend_local, p->pend.port);
    return 0;
}

static int send_request(struct probe *p, const struct wire_request *q, bool slots,
                        enum pr_state next)
{
    if (ctrl_send_request(p->ctrl, q, slots ? p->m.slots : NULL) < 0) {
        pr_finish(p, false, "cannot queue Request-Session");
        return -1;
    }
    p->st = next;
    return flush(p);
}

static int request_tw(struct probe *p)
{
    struct wire_request q;
    if (test_socket(p) < 0) {
        return -1;
    }
    request_common(p, &q);
    q.sender_port = q.receiver_port = p->pend.port;
    addrs(&p->pend_local, &p->cl_peer, &q);
    q.padding_len =
        (wire_test_layout(p->mode) == 1 ? WIRE_REFLECTOR_AUTH_LEN - WIRE_SENDER_AUTH_LEN
                                        : WIRE_REFLECTOR_OPEN_LEN - WIRE_SENDER_OPEN_LEN) +
        p->m.padding;
    return send_request(p, &q, false, PR_ACCEPT_TW);
}

static int request_to(struct probe *p)
{
    struct wire_request q;
    if (test_socket(p) < 0) {
        return -1;
    }
    request_common(p, &q);
    q.conf_receiver = 1;
    q.nslots = p->m.nslots;
    q.padding_len = p->m.padding;
    q.sender_port = p->pend.port;
    addrs(&p->pend_local, &p->cl_peer, &q);
    return send_request(p, &q, true, PR_ACCEPT_TO);
}

static int request_from(struct probe *p)
{
    struct wire_request q;
    uint8_t octets[16];
    if (test_socket(p) < 0) {
        return -1;
    }
    size_t n = addr_sockaddr_octets((const struct sockaddr *)&p->pend_local.ss, octets);
    sess_make_sid(octets, n, p->sid_from);
    request_common(p, &q);
    q.conf_sender = 1;
    q.nslots = p->m.nslots;
    q.padding_len = p->m.padding;
    q.receiver_port = p->pend.port;
    addrs(&p->cl_peer, &p->pend_local, &q);
    memcpy(q.sid, p->sid_from, WIRE_SID_LEN);
    return send_request(p, &q, true, PR_ACCEPT_FROM);
}

/* The first request after Server-Start. */
static void request_first(struct probe *p)
{
    p->loss_ns = p->m.loss_timeout_ns > 0 ? p->m.loss_timeout_ns : PR_LOSS_DEFAULT_NS + p->rtt_ns;
    p->start = clk_to_ntp((struct clk_time){clk_now().ns + 3 * p->rtt_ns + PR_START_SLACK_NS});
    if (p->m.proto == PC_TWAMP) {
        request_tw(p);
    } else if (p->m.to) {
        request_to(p);
    } else {
        request_from(p);
    }
}

static void send_start(struct probe *p)
{
    if (ctrl_send_start(p->ctrl) < 0) {
        pr_finish(p, false, "cannot queue Start-Sessions");
        return;
    }
    p->st = PR_START_ACK;
    flush(p);
}

/* Accept-Session: the session is created on the pending socket, the next request or
 * Start-Sessions follows. */
static void on_accept(struct probe *p, const struct wire_accept_session *a)
{
    struct sess_config cfg;
    enum sess_kind kind = p->st == PR_ACCEPT_TW   ? SESS_TW_SENDER
                          : p->st == PR_ACCEPT_TO ? SESS_OW_SENDER
                                                  : SESS_OW_RECEIVER;
    if (a->accept != WIRE_ACCEPT_OK) {
        pr_finish(p, false, "session refused (Accept=%u)", a->accept);
        return;
    }
    uint8_t *sid = kind == SESS_TW_SENDER ? p->sid_tw : kind == SESS_OW_SENDER ? p->sid_to : NULL;
    if (sid) {
        memcpy(sid, a->sid, WIRE_SID_LEN);
    }
    pr_sess_config(p, &cfg, kind);
    memcpy(cfg.sid, sid ? sid : p->sid_from, WIRE_SID_LEN);
    cfg.peer = p->cl_peer;
    sock_addr_set_port(&cfg.peer, a->port);
    if (kind == SESS_TW_SENDER) {
        cfg.fmt = SESS_FMT_TWAMP;
        cfg.padding =
            (wire_test_layout(p->mode) == 1 ? WIRE_REFLECTOR_AUTH_LEN - WIRE_SENDER_AUTH_LEN
                                            : WIRE_REFLECTOR_OPEN_LEN - WIRE_SENDER_OPEN_LEN) +
            p->m.padding;
    } else {
        cfg.padding = p->m.padding;
    }
    struct sess *s = sess_create(p->env.loop, &p->pend, &cfg); /* takes the socket */
    p->pend.fd = -1;
    *(kind == SESS_TW_SENDER ? &p->tw : kind == SESS_OW_SENDER ? &p->to : &p->from) = s;
    if (!s || (kind == SESS_OW_RECEIVER && sess_start(s) < 0)) {
        pr_finish(p, false, "cannot create the test session");
        return;
    }
    if (kind == SESS_OW_SENDER && p->m.from) {
        request_from(p);
    } else {
        send_start(p);
    }
}

static void on_start_ack(struct probe *p, const struct wire_start_ack *a)
{
    if (a->accept != WIRE_ACCEPT_OK) {
        pr_finish(p, false, "server did not start the sessions (Accept=%u)", a->accept);
        return;
    }
    if ((p->tw && sess_start(p->tw) < 0) || (p->to && sess_start(p->to) < 0)) {
        pr_finish(p, false, "cannot start the test session");
        return;
    }
    pr_running(p);
}

/* ---- the end of the sessions ---- */

/* OWAMP, once both Stop-Sessions are through: the session from the target is complete, the
 * one toward it is fetched. */
static void after_stop(struct probe *p)
{
    struct wire_fetch_session f = {.begin_seq = 0, .end_seq = 0xFFFFFFFFu};
    if (p->peer_accept != WIRE_ACCEPT_OK) {
        pr_finish(p, false, "server reports the sessions failed (Accept=%u)", p->peer_accept);
        return;
    }
    if (p->from) {
        pr_from_results(p);
        if (p->st == PR_DONE) {
            return;
        }
    }
    if (!p->to) {
        pr_finish(p, true, NULL);
        return;
    }
    struct met_params mp = {.loss_timeout_ns = p->loss_ns, .npackets = sess_next_seqno(p->to)};
    memcpy(f.sid, p->sid_to, WIRE_SID_LEN);
    if (!(p->fetch_acc = met_ow_acc_create(&mp)) || ctrl_send_fetch(p->ctrl, &f) < 0) {
        pr_finish(p, false, "cannot queue Fetch-Session");
        return;
    }
    sess_release(p->to);
    p->st = PR_FETCH;
    flush(p);
}

void pr_ctrl_sessions_over(struct probe *p)
{
    struct wire_session_desc d = {0};
    struct wire_stop_sessions st = {.accept = WIRE_ACCEPT_OK, .desc = &d};
    if (p->tw) { /* TWAMP: Stop-Sessions, then the results are ours */
        st.nsessions = 1;
        st.desc = NULL;
        pr_tw_results(p);
        if (p->st != PR_DONE && ctrl_send_stop(p->ctrl, &st) == 0) {
            flush(p);
        }
        pr_finish(p, true, NULL);
        return;
    }
    if (p->to) {
        sess_stop(p->to);
        memcpy(d.sid, p->sid_to, WIRE_SID_LEN);
        d.next_seqno = sess_next_seqno(p->to);
        st.nsessions = 1;
    }
    if (ctrl_send_stop(p->ctrl, &st) < 0) {
        pr_finish(p, false, "cannot queue Stop-Sessions");
        return;
    }
    p->st = PR_STOPPING;
    if (flush(p) == 0 && p->peer_stopped) {
        after_stop(p);
    }
}

/* The server's Stop-Sessions: its Accept and the Next Seqno of the session it sent us. */
static void on_stop(struct probe *p, const struct wire_stop_sessions *st)
{
    p->peer_stopped = true;
    p->peer_accept = st->accept;
    for (uint32_t i = 0; i < st->nsessions && i < st->descs_cap && p->from; i++) {
        if (memcmp(st->desc[i].sid, p->sid_from, WIRE_SID_LEN) == 0 || st->nsessions == 1) {
            p->from_described = true;
            p->from_next = st->desc[i].next_seqno;
            break;
        }
    }
    if (p->st == PR_STOPPING) {
        after_stop(p);
    } else if (p->st != PR_RUNNING || p->tw || pr_peer_stopped(p) < 0) {
        pr_finish(p, false, "the server stopped the sessions early (Accept=%u)", st->accept);
    }
}

static void on_record(struct probe *p, const struct wire_record *w)
{
    struct met_owrec m = owpf_owrec_of(w);
    met_ow_acc_add(p->fetch_acc, &m, 1);
}

/* ---- events ---- */

static void on_greeting(struct probe *p, const struct wire_greeting *g)
{
    bool secure = p->m.passlen >= 0;
    uint32_t want = secure ? p->m.modes : (p->m.modes & WIRE_MODE_OPEN);
    p->rtt_ns = loop_mono_ns() - p->t_connect;
    if (!(p->mode = ctrl_choose_mode(g->modes, want))) {
        pr_finish(p, false, "no security mode in common with the server (offers 0x%x)",
                  (unsigned)g->modes);
        return;
    }
    bool open = p->mode == WIRE_MODE_OPEN;
    if (ctrl_client_setup(p->ctrl, p->mode, open ? NULL : p->m.identity, open ? NULL : p->m.pass,
                          open ? 0 : (size_t)p->m.passlen) < 0) {
        pr_finish(p, false, "cannot set up the control connection");
        return;
    }
    p->st = PR_SERVER_START;
    flush(p);
}

static void on_event(struct probe *p, const struct ctrl_event *ev)
{
    switch (ev->type) {
    case CTRL_EV_GREETING: on_greeting(p, &ev->u.greeting); break;
    case CTRL_EV_SERVER_START:
        if (ev->u.server_start.accept != WIRE_ACCEPT_OK) {
            pr_finish(p, false, "server denied access (identity, pass-phrase or mode)");
        } else {
            request_first(p);
        }
        break;
    case CTRL_EV_ACCEPT_SESSION: on_accept(p, &ev->u.accept); break;
    case CTRL_EV_START_ACK: on_start_ack(p, &ev->u.start_ack); break;
    case CTRL_EV_STOP: on_stop(p, &ev->u.stop); break;
    case CTRL_EV_FETCH_ACK:
        if (ev->u.fetch_ack.accept != WIRE_ACCEPT_OK) {
            pr_finish(p, false, "server refused Fetch-Session (Accept=%u)", ev->u.fetch_ack.accept);
        }
        break;
    case CTRL_EV_FETCH_HEAD: break;
    case CTRL_EV_FETCH_RECORD: on_record(p, &ev->u.record); break;
    case CTRL_EV_FETCH_DONE:
        pr_to_results(p);
        pr_finish(p, true, NULL);
        break;
    default: pr_finish(p, false, "unexpected control message"); break;
    }
}

/* 0 once connected, -1 when finished. */
static int connected(struct probe *p)
{
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        pr_finish(p, false, "cannot connect to %s port %s: %s", p->host, p->port, strerror(err));
        return -1;
    }
    p->cl_local.len = sizeof(p->cl_local.ss);
    getsockname(p->fd, (struct sockaddr *)&p->cl_local.ss, &p->cl_local.len);
    p->st = PR_GREETING;
    return 0;
}

static void on_ctl(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct probe *p = arg;
    uint8_t buf[PR_READ_CHUNK];
    ssize_t r;
    (void)loop;
    if (p->st == PR_CONNECTING && connected(p) < 0) {
        return;
    }
    while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
        struct ctrl_event ev;
        int rc = ctrl_input(p->ctrl, buf, (size_t)r);
        while (rc == 0 && (rc = ctrl_next(p->ctrl, &ev)) == 1) {
            on_event(p, &ev);
            if (p->st == PR_DONE) {
                return;
            }
            rc = 0;
        }
        if (rc < 0) {
            pr_finish(p, false, "bad control message: %s", lp_strerror(rc));
            return;
        }
    }
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (events & LOOP_HUP)) {
        pr_finish(p, false, "the server closed the control connection");
        return;
    }
    flush(p);
}

int pr_ctrl_begin(struct probe *p)
{
    int one = 1;
    enum wire_proto proto = p->m.proto == PC_OWAMP ? WIRE_OWAMP : WIRE_TWAMP;
    p->fd = socket(p->cl_peer.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0 || !(p->ctrl = ctrl_create(proto, CTRL_CLIENT, 0, 0))) {
        pr_finish(p, false, "cannot open the control connection: %s", strerror(errno));
        return -1;
    }
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sock_addr src;
    if (p->m.source[0] && (sock_addr_parse(p->m.source, 0, &src) < 0 ||
                           bind(p->fd, (const struct sockaddr *)&src.ss, src.len) < 0)) {
        pr_finish(p, false, "cannot bind to %s: %s", p->m.source, strerror(errno));
        return -1;
    }
    p->t_connect = loop_mono_ns();
    if ((connect(p->fd, (const struct sockaddr *)&p->cl_peer.ss, p->cl_peer.len) < 0 &&
         errno != EINPROGRESS) ||
        loop_add_fd(p->env.loop, p->fd, LOOP_WRITE | LOOP_READ, on_ctl, p) < 0) {
        int err = errno;
        close(p->fd);
        p->fd = -1;
        pr_finish(p, false, "cannot connect to %s port %s: %s", p->host, p->port, strerror(err));
        return -1;
    }
    return 0;
}
