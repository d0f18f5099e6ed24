/* concurrency.c - many simultaneous test sessions against one daemon, from one process on
 * one libprotocol event loop: N control connections (open mode), one test session each,
 * all running at the same time, then Stop-Sessions (and Fetch-Session for OWAMP toward the
 * server). Prints key=value figures: failed sessions and why, packets sent and lost, and
 * the daemon's RSS and CPU time (from /proc/PID with -P).
 *
 *   concurrency -m twamp|owamp-t|owamp-f -d 127.0.0.1:PORT -n SESSIONS [-c COUNT]
 *               [-i INTERVAL_S] [-P DAEMON_PID] [-W MAX_CONNECTING] [-M START_MARGIN_S]
 *
 * twamp: we send, the daemon reflects. owamp-t: we send, the daemon receives (records come
 * back with Fetch-Session). owamp-f: the daemon sends, we receive. All sessions are set up
 * first (at most W connections in their handshake at once), then started together; their
 * schedules start at the same instant plus a stagger of i * INTERVAL / N so the daemon sees
 * a smooth N / INTERVAL packets/s. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "ctrl.h"
#include "loop.h"
#include "session.h"

#define CC_LOSS_NS 1000000000LL   /* loss timeout after the last packet */
#define CC_PHASE_NS 30000000000LL /* bound on set-up and on stop/fetch */

enum cc_mode { CC_TWAMP, CC_OW_TO, CC_OW_FROM };

enum cc_state {
    CS_IDLE,
    CS_CONNECTING,
    CS_GREETING,
    CS_SERVER_START,
    CS_ACCEPT,
    CS_READY,
    CS_START_ACK,
    CS_RUNNING,
    CS_STOPPING,
    CS_FETCH,
    CS_DONE,
    CS_FAILED,
};

static const char *const state_names[] = {
    "idle",      "connecting", "greeting", "server-start", "accept-session", "ready",
    "start-ack", "running",    "stopping", "fetch",        "done",           "failed",
};

struct cc;

struct csess {
    struct cc *cc;
    unsigned idx;
    enum cc_state state;
    enum cc_state failed_in; /* where a failed session stopped */
    bool peer_stopped;       /* owamp-t: owampd stopped first, once it had every packet */
    const char *why;         /* and why */
    int fd;
    struct ctrl *ctrl;
    struct sess *sess;
    struct sock_udp udp; /* until the session owns it */
    uint16_t udp_port;
    uint8_t sid[WIRE_SID_LEN];
    struct clk_ntp start;
    uint32_t received; /* replies (twamp), records received (owamp) */
    uint32_t sent;
};

struct cc {
    enum cc_mode mode;
    struct sock_addr server;
    unsigned n, max_connecting;
    uint32_t count;
    int64_t interval_ns, margin_ns;
    int daemon_pid;
    struct loop *loop;
    struct sess_scratch *scratch; /* I/O buffers shared by our sessions, as in the daemons */
    struct csess *s;
    unsigned next_open;
    struct clk_time t0; /* common schedule start */
};

static void fail(struct csess *c, const char *why)
{
    if (c->state != CS_FAILED && c->state != CS_DONE) {
        c->failed_in = c->state;
        c->why = why;
        c->state = CS_FAILED;
    }
}

/* Sessions whose state is in [lo, hi]. */
static unsigned count_states(const struct cc *cc, enum cc_state lo, enum cc_state hi)
{
    unsigned n = 0;
    for (unsigned i = 0; i < cc->next_open; i++) {
        n += cc->s[i].state >= lo && cc->s[i].state <= hi;
    }
    return n;
}

static void close_ctl(struct csess *c)
{
    if (c->fd >= 0) {
        loop_del_fd(c->cc->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
}

static void flush(struct csess *c)
{
    const uint8_t *p;
    size_t n;
    ctrl_output(c->ctrl, &p, &n);
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fail(c, "send on the control connection");
            }
            break;
        }
        ctrl_output_done(c->ctrl, (size_t)w);
        ctrl_output(c->ctrl, &p, &n);
    }
    loop_mod_fd(c->cc->loop, c->fd, LOOP_READ | (n > 0 ? LOOP_WRITE : 0));
}

/* ------------------------------------------------------------------ set-up */

static void send_request(struct csess *c)
{
    struct cc *cc = c->cc;
    struct sock_addr local = cc->server;
    struct wire_request q = {.ipvn = 4, .npackets = cc->count};
    struct wire_slot slot = {.type = WIRE_SLOT_FIXED,
                             .param = clk_ns_to_ntp_duration(cc->interval_ns)};
    if (sock_open_udp(AF_INET, &local, 0, 0, 0, &c->udp) < 0) {
        fail(c, "cannot open a UDP test socket");
        return;
    }
    c->udp_port = c->udp.port;
    c->start = clk_to_ntp((struct clk_time){cc->t0.ns + (int64_t)c->idx * cc->interval_ns / cc->n});
    q.start_time = c->start;
    q.timeout = clk_ns_to_ntp_duration(CC_LOSS_NS);
    addr_sockaddr_octets((const struct sockaddr *)&local.ss, q.sender_addr);
    memcpy(q.receiver_addr, q.sender_addr, 4);
    if (cc->mode == CC_TWAMP) {
        q.sender_port = q.receiver_port = c->udp_port;
        q.padding_len = WIRE_REFLECTOR_OPEN_LEN - WIRE_SENDER_OPEN_LEN;
    } else if (cc->mode == CC_OW_TO) {
        q.conf_receiver = 1, q.nslots = 1, q.sender_port = c->udp_port;
    } else {
        q.conf_sender = 1, q.nslots = 1, q.receiver_port = c->udp_port;
        sess_make_sid(q.receiver_addr, 4, c->sid);
        memcpy(q.sid, c->sid, WIRE_SID_LEN);
    }
    if (ctrl_send_request(c->ctrl, &q, cc->mode == CC_TWAMP ? NULL : &slot) < 0) {
        fail(c, "cannot queue Request-Session");
        return;
    }
    c->state = CS_ACCEPT;
}

static void create_session(struct csess *c, const struct wire_accept_session *a)
{
    struct cc *cc = c->cc;
    struct wire_slot slot = {.type = WIRE_SLOT_FIXED,
                             .param = clk_ns_to_ntp_duration(cc->interval_ns)};
    struct sess_config cfg = {.mode = WIRE_MODE_OPEN,
                              .npackets = cc->count,
                              .slots = &slot,
                              .nslots = 1,
                              .start = c->start,
                              .tos = -1,
                              .peer = cc->server,
                              .scratch = cc->scratch};
    if (a->accept != WIRE_ACCEPT_OK) {
        sock_close_udp(&c->udp);
        fail(c, "session refused (Accept-Session)");
        return;
    }
    if (cc->mode != CC_OW_FROM) {
        memcpy(c->sid, a->sid, WIRE_SID_LEN);
    }
    memcpy(cfg.sid, c->sid, WIRE_SID_LEN);
    ((struct sockaddr_in *)&cfg.peer.ss)->sin_port = htons(a->port);
    cfg.kind = cc->mode == CC_TWAMP   ? SESS_TW_SENDER
               : cc->mode == CC_OW_TO ? SESS_OW_SENDER
                                      : SESS_OW_RECEIVER;
    cfg.padding = cc->mode == CC_TWAMP ? WIRE_REFLECTOR_OPEN_LEN - WIRE_SENDER_OPEN_LEN : 0;
    c->sess = sess_create(cc->loop, &c->udp, &cfg);
    if (!c->sess || (cc->mode == CC_OW_FROM && sess_start(c->sess) < 0)) {
        fail(c, "cannot create the test session");
        return;
    }
    c->state = CS_READY;
}

/* ------------------------------------------------------------------ results */

static void count_tw(struct csess *c)
{
    struct rst *st = sess_records(c->sess);
    uint8_t *seen = calloc(c->cc->count / 8 + 1, 1);
    const void *run;
    size_t n;
    for (uint64_t i = 0; seen && (n = rst_get(st, i, &run, NULL)) > 0; i += n) {
        for (const struct met_twrec *r = run, *end = r + n; r < end; r++) {
            if (r->seq < c->cc->count && !(seen[r->seq / 8] & (1u << (r->seq % 8)))) {
                seen[r->seq / 8] |= (uint8_t)(1u << (r->seq % 8));
                c->received++;
            }
        }
    }
    free(seen);
}

static void finish(struct csess *c)
{
    c->state = CS_DONE;
    close_ctl(c);
}

/* owamp-f: count what we received; owamp-t: fetch what the daemon received. */
static void on_server_stop(struct csess *c, const struct wire_stop_sessions *st)
{
    if (c->cc->mode == CC_OW_FROM) {
        c->received = (uint32_t)rst_count(sess_records(c->sess));
        c->sent = st->nsessions > 0 && st->descs_cap > 0 ? st->desc[0].next_seqno : c->cc->count;
        finish(c);
        return;
    }
    struct wire_fetch_session f = {.begin_seq = 0, .end_seq = 0xFFFFFFFFu};
    memcpy(f.sid, c->sid, WIRE_SID_LEN);
    if (ctrl_send_fetch(c->ctrl, &f) < 0) {
        fail(c, "cannot queue Fetch-Session");
        return;
    }
    c->state = CS_FETCH;
}

static void on_event(struct csess *c, const struct ctrl_event *ev)
{
    switch (ev->type) {
    case CTRL_EV_GREETING:
        if (ctrl_client_setup(c->ctrl, WIRE_MODE_OPEN, NULL, NULL, 0) < 0) {
            fail(c, "cannot queue Set-Up-Response");
        }
        c->state = c->state == CS_FAILED ? CS_FAILED : CS_SERVER_START;
        break;
    case CTRL_EV_SERVER_START:
        if (ev->u.server_start.accept != WIRE_ACCEPT_OK) {
            fail(c, "server refused the mode (Server-Start)");
        } else {
            send_request(c);
        }
        break;
    case CTRL_EV_ACCEPT_SESSION: create_session(c, &ev->u.accept); break;
    case CTRL_EV_START_ACK:
        if (c->state != CS_START_ACK || ev->u.start_ack.accept != WIRE_ACCEPT_OK ||
            (c->cc->mode != CC_OW_FROM && sess_start(c->sess) < 0)) {
            fail(c, "Start-Ack refused or session start failed");
        } else {
            c->state = CS_RUNNING;
        }
        break;
    case CTRL_EV_STOP: /* owamp: the daemon answers our Stop-Sessions with its own, or sends
                        * it first when it receives and has every packet */
        if (c->state == CS_STOPPING) {
            on_server_stop(c, &ev->u.stop);
        } else if (c->state == CS_RUNNING) {
            c->peer_stopped = true;
        }
        break;
    case CTRL_EV_FETCH_ACK:
        if (ev->u.fetch_ack.accept != WIRE_ACCEPT_OK) {
            fail(c, "Fetch-Ack refused");
        }
        break;
    case CTRL_EV_FETCH_HEAD: break; /* the stored request and skip ranges: not needed here */
    case CTRL_EV_FETCH_RECORD:
        c->received += ev->u.record.recv_ts != 0 && ev->u.record.seq < c->cc->count;
        break;
    case CTRL_EV_FETCH_DONE: finish(c); break;
    default: fail(c, "unexpected control message"); break;
    }
}

static void on_ctl(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct csess *c = arg;
    (void)loop;
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            fail(c, "connect failed");
            close_ctl(c);
            return;
        }
        c->state = CS_GREETING;
    }
    uint8_t buf[4096];
    ssize_t r;
    while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
        struct ctrl_event ev;
        int rc = ctrl_input(c->ctrl, buf, (size_t)r);
        while (rc == 0 && c->state != CS_FAILED && c->state != CS_DONE &&
               (rc = ctrl_next(c->ctrl, &ev)) == 1) {
            on_event(c, &ev);
            rc = 0;
        }
        if (rc < 0) {
            fail(c, "bad control message");
        }
        if (c->state == CS_FAILED || c->state == CS_DONE) {
            close_ctl(c);
            return;
        }
    }
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (events & LOOP_HUP)) {
        fail(c, "control connection closed");
        close_ctl(c);
        return;
    }
    flush(c);
}

static void open_conn(struct csess *c)
{
    struct cc *cc = c->cc;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->ctrl = ctrl_create(cc->mode == CC_TWAMP ? WIRE_TWAMP : WIRE_OWAMP, CTRL_CLIENT, 0, 0);
    c->state = CS_CONNECTING;
    if (c->fd < 0 || !c->ctrl ||
        (connect(c->fd, (const struct sockaddr *)&cc->server.ss, cc->server.len) < 0 &&
         errno != EINPROGRESS) ||
        loop_add_fd(cc->loop, c->fd, LOOP_WRITE, on_ctl, c) < 0) {
        if (c->fd >= 0) {
            close(c->fd);
            c->fd = -1;
        }
        fail(c, "cannot open the control connection");
    }
}

/* ------------------------------------------------------------------ stop */

static void stop_one(struct csess *c)
{
    struct wire_session_desc d = {0};
    struct wire_stop_sessions st = {.accept = WIRE_ACCEPT_OK, .desc = &d};
    if (c->state != CS_RUNNING) {
        fail(c, "not running at stop time");
        close_ctl(c);
        return;
    }
    sess_stop(c->sess);
    if (c->cc->mode != CC_OW_FROM) {
        c->sent = sess_next_seqno(c->sess);
        st.nsessions = 1;
        memcpy(d.sid, c->sid, WIRE_SID_LEN);
        d.next_seqno = c->sent;
    }
    c->state = CS_STOPPING;
    if (ctrl_send_stop(c->ctrl, &st) < 0) {
        fail(c, "cannot queue Stop-Sessions");
    } else if (c->cc->mode == CC_TWAMP) {
        count_tw(c);
        flush(c);
        finish(c);
        return;
    }
    if (c->state == CS_STOPPING && c->peer_stopped) {
        struct wire_stop_sessions none = {.accept = WIRE_ACCEPT_OK};
        on_server_stop(c, &none); /* its Stop-Sessions came already */
    }
    if (c->state == CS_FAILED) {
        close_ctl(c);
    } else {
        flush(c);
    }
}

/* ------------------------------------------------------------------ /proc */

static long proc_status_kb(int pid, const char *key)
{
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = atol(line + klen + 1);
        }
    }
    if (f) {
        fclose(f);
    }
    return v;
}

/* utime + stime of pid in seconds, -1 when unknown. */
static double proc_cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    unsigned long ut = 0, st = 0;
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may contain spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
        return -1;
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------------ phases */

static int64_t now_ns(void)
{
    return clk_now().ns;
}

static void run_until(struct cc *cc, int64_t until_ns, enum cc_state lo, enum cc_state hi)
{
    while (now_ns() < until_ns && count_states(cc, lo, hi) > 0) {
        loop_run_once(cc->loop, 10);
    }
}

/* Open every connection (at most max_connecting in their handshake at once) and wait until
 * each has its session accepted or has failed. */
static void setup_all(struct cc *cc)
{
    int64_t deadline = now_ns() + CC_PHASE_NS;
    while (now_ns() < deadline) {
        while (cc->next_open < cc->n &&
               count_states(cc, CS_CONNECTING, CS_ACCEPT) < cc->max_connecting) {
            open_conn(&cc->s[cc->next_open++]);
        }
        if (cc->next_open == cc->n && count_states(cc, CS_CONNECTING, CS_ACCEPT) == 0) {
            return;
        }
        loop_run_once(cc->loop, 10);
    }
    for (unsigned i = 0; i < cc->n; i++) {
        if (cc->s[i].state < CS_READY) {
            fail(&cc->s[i], "set-up timed out");
            close_ctl(&cc->s[i]);
        }
    }
}

static void start_all(struct cc *cc)
{
    for (unsigned i = 0; i < cc->n; i++) {
        struct csess *c = &cc->s[i];
        if (c->state != CS_READY) {
            continue;
        }
        if (ctrl_send_start(c->ctrl) < 0) {
            fail(c, "cannot queue Start-Sessions");
            close_ctl(c);
            continue;
        }
        c->state = CS_START_ACK;
        flush(c);
    }
}

struct cc_figures {
    double setup_s, cpu0, cpu1;
    long rss_idle, rss_active, hwm, rss_after;
};

static void run(struct cc *cc, struct cc_figures *fig)
{
    int64_t t_begin = now_ns();
    fig->rss_idle = proc_status_kb(cc->daemon_pid, "VmRSS");
    cc->t0 = (struct clk_time){t_begin + cc->margin_ns};
    setup_all(cc);
    fig->setup_s = (double)(now_ns() - t_begin) / 1e9;
    if (now_ns() > cc->t0.ns) {
        fprintf(stderr, "concurrency: set-up took longer than the start margin (-M)\n");
    }
    start_all(cc);
    fig->cpu0 = proc_cpu_s(cc->daemon_pid);
    int64_t span = (int64_t)cc->count * cc->interval_ns;
    /* every schedule is running half-way through */
    run_until(cc, cc->t0.ns + span / 2, CS_IDLE, CS_DONE);
    fig->rss_active = proc_status_kb(cc->daemon_pid, "VmRSS");
    run_until(cc, cc->t0.ns + span + CC_LOSS_NS, CS_IDLE, CS_DONE);
    for (unsigned i = 0; i < cc->n; i++) {
        if (cc->s[i].state != CS_FAILED && cc->s[i].state != CS_DONE) {
            stop_one(&cc->s[i]);
        }
    }
    run_until(cc, now_ns() + CC_PHASE_NS, CS_STOPPING, CS_FETCH);
    for (unsigned i = 0; i < cc->n; i++) {
        fail(&cc->s[i], "stop/fetch timed out"); /* no-op for sessions already done */
        close_ctl(&cc->s[i]);
    }
    fig->cpu1 = proc_cpu_s(cc->daemon_pid);
    fig->hwm = proc_status_kb(cc->daemon_pid, "VmHWM");
    usleep(200000);
    fig->rss_after = proc_status_kb(cc->daemon_pid, "VmRSS");
}

static const char *mode_name(enum cc_mode m)
{
    return m == CC_TWAMP ? "twamp" : m == CC_OW_TO ? "owamp-t" : "owamp-f";
}

/* One stderr line per distinct (state, reason) of the failed sessions. */
static void report_failures(const struct cc *cc)
{
    for (unsigned i = 0; i < cc->n; i++) {
        const struct csess *c = &cc->s[i];
        unsigned same = 0, first = i;
        if (c->state != CS_FAILED) {
            continue;
        }
        for (unsigned j = 0; j < cc->n; j++) {
            const struct csess *d = &cc->s[j];
            if (d->state == CS_FAILED && d->failed_in == c->failed_in && d->why == c->why) {
                first = same++ == 0 ? j : first;
            }
        }
        if (first == i) {
            fprintf(stderr, "concurrency: %u sessions failed in %s: %s\n", same,
                    state_names[c->failed_in], c->why);
        }
    }
}

static void report(const struct cc *cc, const struct cc_figures *fig)
{
    unsigned ok = 0, failed = 0, by_state[CS_FAILED + 1] = {0};
    uint64_t sent = 0, received = 0;
    for (unsigned i = 0; i < cc->n; i++) {
        const struct csess *c = &cc->s[i];
        if (c->state == CS_DONE) {
            ok++;
            sent += c->sent;
            received += c->received < c->sent ? c->received : c->sent;
        } else {
            failed++;
            by_state[c->failed_in]++;
        }
    }
    report_failures(cc);
    printf("mode=%s sessions=%u ok=%u failed=%u", mode_name(cc->mode), cc->n, ok, failed);
    for (int s = 0; s <= CS_FAILED; s++) {
        if (by_state[s]) {
            printf(" failed_in_%s=%u", state_names[s], by_state[s]);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf(" setup_s=%.2f sent=%llu lost=%llu loss_pct=%.4f daemon_rss_idle_kb=%ld "
           "daemon_rss_active_kb=%ld daemon_hwm_kb=%ld daemon_rss_after_kb=%ld daemon_cpu_s=%.2f "
           "per_session_kb=%.1f client_maxrss_kb=%ld client_cpu_s=%.2f\n",
           fig->setup_s, (unsigned long long)sent, (unsigned long long)(sent - received),
           sent ? 100.0 * (double)(sent - received) / (double)sent : 0.0, fig->rss_idle,
           fig->rss_active, fig->hwm, fig->rss_after,
           fig->cpu0 >= 0 && fig->cpu1 >= 0 ? fig->cpu1 - fig->cpu0 : -1.0,
           ok ? (double)(fig->rss_active - fig->rss_idle) / ok : 0.0, ru.ru_maxrss,
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

static int parse_args(int argc, char **argv, struct cc *cc)
{
    const char *mode = "twamp", *dst = NULL;
    char host[64], port[16];
    double interval = 0.1, margin = 3;
    int c;
    while ((c = getopt(argc, argv, "m:d:n:c:i:P:W:M:")) != -1) {
        switch (c) {
        case 'm': mode = optarg; break;
        case 'd': dst = optarg; break;
        case 'n': cc->n = (unsigned)atoi(optarg); break;
        case 'c': cc->count = (uint32_t)atoi(optarg); break;
        case 'i': interval = atof(optarg); break;
        case 'P': cc->daemon_pid = atoi(optarg); break;
        case 'W': cc->max_connecting = (unsigned)atoi(optarg); break;
        case 'M': margin = atof(optarg); break;
        default: return -1;
        }
    }
    cc->mode = !strcmp(mode, "owamp-t")   ? CC_OW_TO
               : !strcmp(mode, "owamp-f") ? CC_OW_FROM
                                          : CC_TWAMP;
    cc->interval_ns = (int64_t)(interval * 1e9);
    cc->margin_ns = (int64_t)(margin * 1e9);
    if (!dst || addr_split(dst, host, sizeof(host), port, sizeof(port), "862") < 0 ||
        sock_addr_parse(host, (uint16_t)atoi(port), &cc->server) < 0 ||
        cc->server.ss.ss_family != AF_INET || cc->n == 0 || cc->n > 100000 || cc->count == 0 ||
        cc->interval_ns <= 0 || cc->max_connecting == 0 ||
        (strcmp(mode, "twamp") && strcmp(mode, "owamp-t") && strcmp(mode, "owamp-f"))) {
        return -1;
    }
    return 0;
}

/* Room for two descriptors per session plus a margin. */
static void raise_fd_limit(unsigned n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * n + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    struct cc cc = {.count = 50, .max_connecting = 64};
    struct cc_figures fig = {0};
    if (parse_args(argc, argv, &cc) < 0) {
        fprintf(stderr, "usage: concurrency -m twamp|owamp-t|owamp-f -d 127.0.0.1:PORT -n SESSIONS "
                        "[-c COUNT] [-i INTERVAL_S] [-P DAEMON_PID] [-W MAX_CONNECTING] "
                        "[-M START_MARGIN_S]\n");
        return 2;
    }
    raise_fd_limit(cc.n);
    cc.s = calloc(cc.n, sizeof(*cc.s));
    if (!cc.s || cry_init() < 0 || !(cc.loop = loop_create()) ||
        !(cc.scratch = sess_scratch_create())) {
        fprintf(stderr, "concurrency: initialisation failed\n");
        return 1;
    }
    for (unsigned i = 0; i < cc.n; i++) {
        cc.s[i] = (struct csess){.cc = &cc, .idx = i, .fd = -1, .udp = {.fd = -1}};
    }
    run(&cc, &fig);
    report(&cc, &fig);
    for (unsigned i = 0; i < cc.n; i++) {
        sess_destroy(cc.s[i].sess);
        ctrl_destroy(cc.s[i].ctrl);
    }
    sess_scratch_destroy(cc.scratch);
    loop_destroy(cc.loop);
    free(cc.s);
    return 0;
}
