/* server.c - the daemon core shared by owampd and twampd (see server.h). */
#include "server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"

#define SRV_READ_CHUNK 4096
#define SRV_TICK_NS 1000000000LL

void srv_log(const struct srv *s, int prio, const char *fmt, ...)
{
    va_list ap;
    if (prio == LOG_DEBUG && !s->conf.verbose) {
        return;
    }
    va_start(ap, fmt);
    if (s->foreground) {
        fprintf(stderr, "%s: ", s->ops->name);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    } else {
        vsyslog(prio, fmt, ap);
    }
    va_end(ap);
}

/* ------------------------------------------------------------ sessions */

/* Whether the first n octets of an address field are all zero. */
static bool addr_is_zero(const uint8_t *addr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (addr[i]) {
            return false;
        }
    }
    return true;
}

void srv_req_peer(const struct srv_conn *c, const struct wire_request *r, const uint8_t *addr,
                  uint16_t port, struct sock_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (addr_is_zero(addr, r->ipvn == 6 ? 16 : 4) &&
        c->peer.ss.ss_family == (r->ipvn == 6 ? AF_INET6 : AF_INET)) {
        *out = c->peer; /* RFC 4656/5357 §3.5: zero means the control connection's */
        sock_addr_set_port(out, port);
    } else if (r->ipvn == 6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        memcpy(&a->sin6_addr, addr, 16);
        out->len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&out->ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        memcpy(&a->sin_addr, addr, 4);
        out->len = sizeof(*a);
    }
}

int srv_open_test_socket(struct srv_conn *c, unsigned flags, struct sock_udp *out)
{
    const struct conf *cf = &c->srv->conf;
    int rc = sock_open_udp(c->local.ss.ss_family, &c->local, cf->testport_lo, cf->testport_hi,
                           flags, out);
    if (rc < 0) {
        srv_log(c->srv, LOG_WARNING, "session of %s refused: no test socket in ports %u-%u: %s",
                c->peer_text, cf->testport_lo, cf->testport_hi, strerror(errno));
        return rc;
    }
    sock_hw_auto(out, &c->local, NULL, flags, NULL);
    if (out->ts.note[0] && strcmp(out->ts.note, c->srv->ts_note) != 0) {
        /* the timestamp source changed (first socket, NIC set up or gone): say it once */
        snprintf(c->srv->ts_note, sizeof(c->srv->ts_note), "%s", out->ts.note);
        srv_log(c->srv, LOG_INFO, "test timestamps: %s", out->ts.note);
    }
    return rc;
}

void srv_local_sid(const struct srv_conn *c, uint8_t sid[WIRE_SID_LEN])
{
    uint8_t local[16];
    size_t n = addr_sockaddr_octets((const struct sockaddr *)&c->local.ss, local);
    sess_make_sid(local, n, sid);
}

struct srv_session *srv_open_session(struct srv_conn *c, const struct wire_request *r,
                                     const struct wire_slot *slots, const struct sess_config *cfg,
                                     struct wire_accept_session *a)
{
    struct sock_udp u;
    if (a->accept != WIRE_ACCEPT_OK) {
        return NULL;
    }
    /* a socket that sends test packets whose stamps are measured asks for NIC TX stamping */
    bool tx = cfg->kind == SESS_OW_SENDER || cfg->measure_tx;
    if (srv_open_test_socket(c, tx ? SOCK_F_TX_TSTAMP : 0, &u) < 0) {
        a->accept = WIRE_ACCEPT_TEMP_LIMIT;
        return NULL;
    }
    int fd = u.fd;
    struct sess *s = sess_create(c->srv->loop, &u, cfg);
    struct srv_session *ss = s ? srv_add(c, s, cfg->sid, r, slots) : NULL;
    if (!ss) {
        a->accept = WIRE_ACCEPT_INTERNAL;
        return NULL;
    }
    /* the egress writes the send time of unauthenticated packets in NTP format (egress.h) */
    bool sends = cfg->kind == SESS_OW_SENDER || cfg->kind == SESS_TW_REFLECTOR;
    bool open = (cfg->mode & (WIRE_MODE_OPEN | WIRE_MODE_MIXED)) != 0;
    if (c->srv->egress && sends && open && !(cfg->mode & WIRE_MODE_PTP)) {
        egress_add(c->srv->egress, fd, &ss->egress_cookie);
    }
    a->port = sess_port(s);
    memcpy(a->sid, cfg->sid, WIRE_SID_LEN);
    return ss;
}

struct srv_session *srv_find(struct srv_conn *c, const uint8_t *sid)
{
    for (unsigned i = 0; i < c->nsess; i++) {
        if (memcmp(c->sess[i].sid, sid, WIRE_SID_LEN) == 0) {
            return &c->sess[i];
        }
    }
    return NULL;
}

struct srv_session *srv_find_any(struct srv *s, const uint8_t *sid, struct srv_conn **owner)
{
    for (struct srv_conn *c = s->conns; c; c = c->next) {
        struct srv_session *ss = srv_find(c, sid);
        if (ss) {
            *owner = c;
            return ss;
        }
    }
    return NULL;
}

/* Sessions of the connection not stopped yet. */
static unsigned srv_active(const struct srv_conn *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->nsess; i++) {
        n += !c->sess[i].stopped;
    }
    return n;
}

/* A full session table: drop one finished session whose records the client has fetched
 * (not one being fetched now). A client that runs round after round on one connection, as
 * powstream does, keeps going; what it has not fetched is kept. */
static bool make_room(struct srv_conn *c)
{
    for (unsigned i = 0; i < c->nsess; i++) {
        struct srv_session *ss = &c->sess[i];
        if (ss->stopped && ss->fetched && (!c->fetch.st || c->fetch.st != sess_records(ss->s))) {
            srv_remove(c, ss);
            return true;
        }
    }
    return false;
}

struct srv_session *srv_add(struct srv_conn *c, struct sess *s, const uint8_t *sid,
                            const struct wire_request *r, const struct wire_slot *slots)
{
    if (c->nsess == c->capsess) {
        unsigned cap = c->capsess ? 2 * c->capsess : 4;
        struct srv_session *p = c->nsess < SRV_MAX_SESS ? realloc(c->sess, cap * sizeof(*p)) : NULL;
        if (!p) {
            sess_destroy(s);
            return NULL;
        }
        c->sess = p;
        c->capsess = cap;
    }
    struct srv_session *ss = &c->sess[c->nsess];
    memset(ss, 0, sizeof(*ss));
    ss->req = *r;
    if (!slots) {
        ss->req.nslots = 0; /* TWAMP: the field is carried but means nothing */
    } else if (r->nslots > 0) {
        ss->slots = calloc(r->nslots, sizeof(*ss->slots));
        if (!ss->slots) {
            sess_destroy(s);
            return NULL;
        }
        memcpy(ss->slots, slots, r->nslots * sizeof(*slots));
    }
    ss->s = s;
    memcpy(ss->sid, sid, WIRE_SID_LEN);
    memcpy(ss->req.sid, sid, WIRE_SID_LEN);
    c->nsess++;
    return ss;
}

static double us_of(int64_t ns)
{
    return (double)ns / 1e3;
}

/* Verbose: how close to the wire a session that sent (OWAMP sending, TWAMP reflecting) wrote
 * its timestamps: each against the kernel's (or NIC's) TX timestamp of its packet; or, when
 * the egress wrote them (egress.h), how many it wrote. */
static void log_stamps(const struct srv_conn *c, const struct srv_session *ss,
                       const struct egress_counts *eg)
{
    struct sess_counters n = sess_counters(ss->s);
    struct sess_tx_stats t = sess_tx_stats(ss->s);
    bool reflect = ss->req.conf_receiver != 1 && ss->req.conf_sender != 1;
    if (!c->srv->conf.verbose || n.sent == 0 || ss->req.conf_receiver == 1) {
        return;
    }
    if (ss->egress_cookie != 0) {
        /* and what the egress took out: the time read before the send against the wire */
        char before[160] = "";
        if (t.stamped > 0) {
            snprintf(before, sizeof(before),
                     "; the time read before the send ran p50/p99/max %.1f/%.1f/%.1f us ahead "
                     "of the %s TX timestamp",
                     us_of(t.bias_p50_ns), us_of(t.bias_p99_ns), us_of(t.bias_max_ns),
                     t.source == CLK_SRC_HARDWARE ? "hardware" : "kernel");
        }
        char refused[96] = "";
        if (eg->refused > 0) {
            snprintf(refused, sizeof(refused),
                     " (%" PRIu64 " not written: the egress clock disagreed)", eg->refused);
        }
        srv_log(c->srv, LOG_DEBUG,
                "test session of %s: %" PRIu64 " packets %s; send time written at the egress "
                "in %" PRIu64 ", kept from before the send in %" PRIu64 "%s%s",
                c->peer_text, n.sent, reflect ? "reflected" : "sent", eg->stamped,
                n.sent > eg->stamped ? n.sent - eg->stamped : 0, refused, before);
        return;
    }
    if (t.stamped == 0) {
        srv_log(c->srv, LOG_DEBUG, "test session of %s: %" PRIu64 " packets %s, no TX timestamps",
                c->peer_text, n.sent, reflect ? "reflected" : "sent");
        return;
    }
    srv_log(c->srv, LOG_DEBUG,
            "test session of %s: %" PRIu64 " packets %s; stamp-to-wire p50/p99/max "
            "%.1f/%.1f/%.1f us, %s p50/p99/max %.1f/%.1f/%.1f us (%s TX timestamps on %" PRIu64 ")",
            c->peer_text, n.sent, reflect ? "reflected" : "sent", us_of(t.bias_p50_ns),
            us_of(t.bias_p99_ns), us_of(t.bias_max_ns), reflect ? "receive-to-wire" : "lateness",
            us_of(t.late_p50_ns), us_of(t.late_p99_ns), us_of(t.late_max_ns),
            t.source == CLK_SRC_HARDWARE ? "hardware" : "kernel", t.stamped);
}

/* A session's end: its egress listing goes, its figures are logged, it is freed. */
static void end_session(struct srv_conn *c, struct srv_session *ss)
{
    struct egress_counts eg = {0};
    if (ss->egress_cookie != 0) {
        egress_remove(c->srv->egress, ss->egress_cookie, &eg);
    }
    log_stamps(c, ss, &eg);
    sess_destroy(ss->s);
    free(ss->slots);
    free(ss->skips);
}

void srv_remove(struct srv_conn *c, struct srv_session *ss)
{
    end_session(c, ss);
    *ss = c->sess[--c->nsess];
}

void srv_drop_sessions(struct srv_conn *c)
{
    for (unsigned i = 0; i < c->nsess; i++) {
        end_session(c, &c->sess[i]);
    }
    c->nsess = 0;
}

struct sess_scratch *srv_scratch(struct srv *s)
{
    if (!s->scratch) {
        s->scratch = sess_scratch_create();
    }
    return s->scratch;
}

void srv_sess_config(struct srv_conn *c, const struct wire_request *r, struct sess_config *cfg)
{
    struct wire_typep tp = {0};
    memset(cfg, 0, sizeof(*cfg));
    cfg->scratch = srv_scratch(c->srv);
    cfg->mode = ctrl_mode(c->ctrl);
    cfg->keys = ctrl_keys(c->ctrl);
    cfg->npackets = r->npackets;
    cfg->padding = r->padding_len;
    cfg->start = r->start_time;
    cfg->spin_ns = SRV_SPIN_NS;
    cfg->tos = -1;
    if (wire_typep_parse(r->typep, &tp) == 0 && tp.format == 0 && tp.dscp) {
        cfg->tos = tp.dscp << 2;
    }
}

/* A limit of the class and every ancestor (0 = none at that level) holds v. */
static bool within(const struct srv_conn *c, uint64_t v, size_t field)
{
    const struct conf_class *k = &c->cls;
    for (int depth = 0; k && depth < 32; depth++) {
        uint64_t lim;
        memcpy(&lim, (const char *)k + field, sizeof(lim));
        if (lim && v > lim) {
            return false;
        }
        k = conf_limits_parent(&c->srv->limits, k);
    }
    return true;
}

/* Octets of records the connection's receiving sessions hold, plus npackets more (the
 * reference's "disk": here a record store, the first 64 KiB of each in memory, the rest in
 * datadir): one stored record per packet. */
static uint64_t record_octets(const struct srv_conn *c, uint32_t npackets)
{
    uint64_t n = npackets;
    for (unsigned i = 0; i < c->nsess; i++) {
        if (c->sess[i].req.conf_receiver == 1) {
            n += c->sess[i].req.npackets;
        }
    }
    return n * sizeof(struct met_owrec);
}

uint8_t srv_check_request(struct srv_conn *c, const struct wire_request *r,
                          const struct sock_addr *ep, uint64_t bandwidth_bps, int64_t duration_ns)
{
    struct srv *s = c->srv;
    const char *why = NULL;
    uint8_t accept = WIRE_ACCEPT_OK;
    const char *id = c->authenticated ? c->identity : NULL;
    if ((r->ipvn == 6) != (c->peer.ss.ss_family == AF_INET6)) {
        why = "address family differs from the control connection",
        accept = WIRE_ACCEPT_UNSUPPORTED;
    } else if (!addr_same_host((const struct sockaddr *)&ep->ss,
                               (const struct sockaddr *)&c->peer.ss) &&
               !conf_third_party_allowed(&s->conf, (const struct sockaddr *)&c->peer.ss, id)) {
        why = "test endpoint is not the control peer (third party)", accept = WIRE_ACCEPT_FAILURE;
    } else if (c->cls.test_sessions && srv_active(c) >= c->cls.test_sessions) {
        why = "too many test sessions for its limit class", accept = WIRE_ACCEPT_PERM_LIMIT;
    } else if (c->nsess >= SRV_MAX_SESS && !make_room(c)) {
        why = "too many test sessions on one connection", accept = WIRE_ACCEPT_PERM_LIMIT;
    } else if (r->npackets > SRV_MAX_PACKETS) {
        why = "too many packets", accept = WIRE_ACCEPT_PERM_LIMIT;
    } else if (s->conf.maxsession_s && duration_ns > (int64_t)s->conf.maxsession_s * 1000000000LL) {
        why = "session longer than maxsessionduration", accept = WIRE_ACCEPT_PERM_LIMIT;
    } else if (r->padding_len > SRV_MAX_PADDING) {
        why = "padding larger than a jumbo frame", accept = WIRE_ACCEPT_UNSUPPORTED;
    } else if (!within(c, bandwidth_bps, offsetof(struct conf_class, bandwidth_bps))) {
        why = "bandwidth above its limit class", accept = WIRE_ACCEPT_PERM_LIMIT;
    } else if (s->ops->proto == WIRE_OWAMP && r->conf_receiver == 1 &&
               !within(c, record_octets(c, r->npackets), offsetof(struct conf_class, disk_bytes))) {
        why = "records above the disk limit of its class", accept = WIRE_ACCEPT_PERM_LIMIT;
    }
    if (why) {
        srv_log(s, LOG_WARNING, "refused session from %s%s%s: %s", c->peer_text, id ? " as " : "",
                id ? id : "", why);
    }
    return accept;
}

/* --------------------------------------------------------- connections */

static void conn_close(struct srv_conn *c)
{
    struct srv *s = c->srv;
    struct srv_conn **pp = &s->conns;
    while (*pp && *pp != c) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = c->next;
    }
    s->nconns--;
    if (c->tick) {
        loop_timer_cancel(s->loop, c->tick);
    }
    if (c->end_check) {
        loop_timer_cancel(s->loop, c->end_check);
    }
    if (c->fetch_wait.timer) {
        loop_timer_cancel(s->loop, c->fetch_wait.timer);
    }
    rst_destroy(c->fetch.st); /* the reference a streamed reply held */
    srv_drop_sessions(c);
    free(c->sess);
    loop_del_fd(s->loop, c->fd);
    close(c->fd);
    ctrl_destroy(c->ctrl);
    srv_log(s, LOG_DEBUG, "closed control connection from %s", c->peer_text);
    free(c);
}

/* Write what the control channel has queued; 0, or -1 when the connection is gone. */
static int conn_flush(struct srv_conn *c)
{
    const uint8_t *p;
    size_t n;
    if (ctrl_write_fd(c->ctrl, c->fd) < 0) {
        return -1;
    }
    ctrl_output(c->ctrl, &p, &n);
    if (n == 0 && ctrl_fetch_pending(c->ctrl)) {
        ctrl_fetch_refill(c->ctrl); /* the source had nothing ready: its next share */
        ctrl_output(c->ctrl, &p, &n);
    }
    /* a pending Fetch reply keeps write interest: the loop comes back once the other
     * connections and sessions have had their turn */
    bool want = n > 0 || ctrl_fetch_pending(c->ctrl);
    if (want != c->want_write) {
        loop_mod_fd(c->srv->loop, c->fd, LOOP_READ | (want ? LOOP_WRITE : 0));
        c->want_write = want;
    }
    if (n == 0 && ctrl_closed(c->ctrl)) {
        return -1;
    }
    return 0;
}

static int handle_setup(struct srv_conn *c, const struct ctrl_event *ev)
{
    struct srv *s = c->srv;
    uint32_t sec = ev->u.setup.mode & WIRE_MODE_SECURITY;
    const char *id = sec == WIRE_MODE_OPEN ? NULL : ev->u.setup.identity;
    const struct conf_class *cls =
        conf_limits_class_for(&s->limits, (const struct sockaddr *)&c->peer.ss, id);
    if (cls) {
        c->cls = *cls;
    }
    bool allowed = (sec & s->conf.authmode) && (sec != WIRE_MODE_OPEN || c->cls.allow_open_mode);
    uint8_t pass[CONF_PASSPHRASE_MAX];
    int plen = id ? conf_keys_lookup(&s->keys, id, pass, sizeof(pass)) : 0;
    int rc = ctrl_server_start(c->ctrl, plen >= 0 && id ? pass : NULL, plen > 0 ? (size_t)plen : 0,
                               allowed, s->start_time);
    cry_wipe(pass, sizeof(pass));
    if (rc < 0) {
        const char *why = !allowed || rc == LP_E_MODE ? "mode not allowed"
                          : plen < 0                  ? "unknown identity"
                                                      : "authentication failed";
        srv_log(s, LOG_WARNING, "denied %s%s%s: %s", c->peer_text, id ? " identity " : "",
                id ? id : "", why);
        return 0; /* the Server-Start with Accept 1 goes out, then the connection closes */
    }
    if (id) {
        c->authenticated = true;
        snprintf(c->identity, sizeof(c->identity), "%s", id);
    }
    srv_log(s, LOG_DEBUG, "connection from %s%s%s mode %u", c->peer_text, id ? " as " : "",
            id ? id : "", (unsigned)ctrl_mode(c->ctrl));
    return 0;
}

static int handle_event(struct srv_conn *c, const struct ctrl_event *ev)
{
    const struct srv_ops *ops = c->srv->ops;
    switch (ev->type) {
    case CTRL_EV_SETUP: return handle_setup(c, ev);
    case CTRL_EV_REQUEST: return ops->request(c, ev);
    case CTRL_EV_START: c->started = true; return ops->start(c);
    case CTRL_EV_STOP: return ops->stop(c, ev);
    case CTRL_EV_FETCH: return ops->fetch ? ops->fetch(c, ev) : LP_E_CMD;
    case CTRL_EV_NSESSIONS: return ops->nsessions ? ops->nsessions(c, ev) : LP_E_CMD;
    default: return LP_E_CMD;
    }
}

/* Once a streamed Fetch reply is all queued: release the records, delete_on_fetch. */
static void fetch_done(struct srv_conn *c)
{
    struct srv_conn *owner;
    if (!c->fetch.st || ctrl_fetch_pending(c->ctrl)) {
        return;
    }
    struct srv_session *ss = c->fetch.remove ? srv_find_any(c->srv, c->fetch.sid, &owner) : NULL;
    rst_destroy(c->fetch.st);
    c->fetch = (struct srv_fetch){0};
    if (ss) {
        srv_remove(owner, ss); /* limits: delete_on_fetch */
    }
}

/* Whether the connection's input waits: a Fetch reply is streamed, or a Fetch-Session waits
 * for its session to end (what follows is handled once it is answered). */
static bool conn_busy(const struct srv_conn *c)
{
    return ctrl_fetch_pending(c->ctrl) || c->fetch_wait.active;
}

/* Handle the events of the input received so far; none while the connection is busy
 * (they wait in the input). 0 or LP_E_*. */
static int conn_events(struct srv_conn *c)
{
    struct ctrl_event ev;
    int rc = 0;
    /* a refused set-up closes the channel: stop parsing, let the answer drain */
    while (rc == 0 && !ctrl_closed(c->ctrl) && !conn_busy(c) &&
           (rc = ctrl_next(c->ctrl, &ev)) == 1) {
        rc = handle_event(c, &ev);
        fetch_done(c); /* a reply that went out whole at once */
    }
    return rc < 0 ? rc : 0;
}

/* Write what is queued; once a streamed Fetch reply is all out, finish it and handle the
 * messages that waited behind it. 0, or -1 when the connection is to be closed. */
static int conn_progress(struct srv_conn *c)
{
    int rc = conn_flush(c);
    if (rc == 0 && c->fetch.st && !ctrl_fetch_pending(c->ctrl)) {
        fetch_done(c);
        rc = conn_events(c) < 0 ? -1 : conn_flush(c); /* the events that waited */
    }
    return rc;
}

/* Read what arrived, run the protocol, write the answers. */
static void conn_io(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct srv_conn *c = arg;
    (void)loop;
    if (events & (LOOP_READ | LOOP_HUP | LOOP_ERR)) {
        uint8_t buf[SRV_READ_CHUNK];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            conn_close(c);
            return;
        }
        if (n > 0) {
            c->last_ctrl_ns = loop_mono_ns();
            int rc = ctrl_input(c->ctrl, buf, (size_t)n);
            rc = rc < 0 ? rc : conn_events(c);
            if (rc < 0) {
                srv_log(c->srv, LOG_WARNING, "closing control connection from %s: %s", c->peer_text,
                        lp_strerror(rc));
                conn_close(c);
                return;
            }
        }
    }
    if (conn_progress(c) < 0) {
        conn_close(c);
    }
}

void srv_conn_resume(struct srv_conn *c, int rc)
{
    rc = rc < 0 ? rc : conn_events(c);
    if (rc < 0) {
        srv_log(c->srv, LOG_WARNING, "closing control connection from %s: %s", c->peer_text,
                lp_strerror(rc));
    }
    if (rc < 0 || conn_progress(c) < 0) {
        conn_close(c);
    }
}

/* REFWAIT (RFC 5357 §4.2): stop a started reflector session that has received nothing
 * for testtimeout seconds. */
static void check_refwait(struct srv_conn *c, int64_t now)
{
    int64_t refwait = (int64_t)c->srv->conf.testtimeout_s * 1000000000LL;
    if (c->srv->ops->proto != WIRE_TWAMP || refwait <= 0 || !c->started) {
        return;
    }
    for (unsigned i = 0; i < c->nsess; i++) {
        struct srv_session *ss = &c->sess[i];
        uint64_t rx = sess_counters(ss->s).received;
        if (ss->seen_ns == 0 || rx != ss->seen_rx) {
            ss->seen_rx = rx;
            ss->seen_ns = now;
        } else if (!ss->stopped && now - ss->seen_ns > refwait) {
            sess_stop(ss->s);
            ss->stopped = true;
            srv_log(c->srv, LOG_INFO, "test session of %s idle for %u s (REFWAIT): stopped",
                    c->peer_text, (unsigned)c->srv->conf.testtimeout_s);
        }
    }
}

/* Once a second: SERVWAIT on the control channel, REFWAIT on started sessions. */
static void conn_tick(struct loop *loop, loop_timer_id id, void *arg)
{
    struct srv_conn *c = arg;
    const struct conf *cf = &c->srv->conf;
    int64_t now = loop_mono_ns();
    (void)id;
    c->tick = 0;
    int64_t idle = now - c->last_ctrl_ns;
    int64_t servwait = (int64_t)cf->controltimeout_s * 1000000000LL;
    if (servwait > 0 && idle > servwait && (!c->started || c->nsess == 0)) {
        srv_log(c->srv, LOG_INFO, "control connection from %s idle for %u s: closed", c->peer_text,
                (unsigned)cf->controltimeout_s);
        conn_close(c);
        return;
    }
    check_refwait(c, now);
    c->tick = loop_timer_add(loop, now + SRV_TICK_NS, conn_tick, c);
}

static void set_peer_text(struct srv_conn *c)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (getnameinfo((struct sockaddr *)&c->peer.ss, c->peer.len, host, sizeof(host), NULL, 0,
                    NI_NUMERICHOST) != 0) {
        strcpy(host, "?");
    }
    snprintf(c->peer_text, sizeof(c->peer_text),
             c->peer.ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
             sock_addr_port(&c->peer));
}

/* A v4-mapped address from the dual-stack listener, as the plain IPv4 address it is: test
 * sockets (IPV6_V6ONLY) can only bind to that, and logs read better. */
static void unmap_v4(struct sock_addr *a)
{
    struct sockaddr_in6 s6;
    memcpy(&s6, &a->ss, sizeof(s6));
    if (a->ss.ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
        return;
    }
    struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = s6.sin6_port};
    memcpy(&s4.sin_addr, &s6.sin6_addr.s6_addr[12], sizeof(s4.sin_addr));
    memset(&a->ss, 0, sizeof(a->ss));
    memcpy(&a->ss, &s4, sizeof(s4));
    a->len = sizeof(s4);
}

/* Whether the peer of c has closed its end with nothing left unread: its end of file may
 * still wait in the loop's queue behind the connection being accepted. */
static bool conn_peer_gone(const struct srv_conn *c)
{
    uint8_t b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Open control connections from the address of peer. Those whose peer has gone already are
 * closed first, so a client that just disconnected (a readiness probe, the previous run of a
 * cron job) does not hold a slot of maxcontrolsessionsperaddr for one more loop round. */
static unsigned conns_from(struct srv *s, const struct sock_addr *peer)
{
    struct sock_addr p = *peer;
    unsigned n = 0;
    unmap_v4(&p);
    for (struct srv_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (!addr_same_host((const struct sockaddr *)&c->peer.ss, (const struct sockaddr *)&p.ss)) {
            continue;
        }
        if (conn_peer_gone(c)) {
            conn_close(c);
        } else {
            n++;
        }
    }
    return n;
}

/* Out of descriptors: stop watching the listener for a while instead of waking up for a
 * connection we cannot take (logged once per episode). */
static void resume_accepting(struct loop *loop, loop_timer_id id, void *arg)
{
    struct srv *s = arg;
    (void)id;
    for (int i = 0; i < s->nlisten; i++) {
        loop_mod_fd(loop, s->listen_fd[i], LOOP_READ);
    }
    s->accept_paused = false;
}

static void pause_accepting(struct srv *s, int lfd)
{
    (void)lfd;
    if (s->accept_paused) {
        return;
    }
    srv_log(s, LOG_WARNING, "cannot accept control connections (%s): pausing for 100 ms",
            strerror(errno));
    for (int i = 0; i < s->nlisten; i++) {
        loop_mod_fd(s->loop, s->listen_fd[i], 0);
    }
    s->accept_paused = true;
    loop_timer_after(s->loop, 100000000, resume_accepting, s);
}

void srv_on_accept(struct loop *loop, int lfd, unsigned events, void *arg)
{
    struct srv *s = arg;
    (void)events;
    for (int i = 0; i < 64; i++) {
        struct sock_addr peer = {.len = sizeof(peer.ss)};
        int fd = accept4(lfd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                pause_accepting(s, lfd);
            }
            return;
        }
        if (s->conf.maxcontrolsessions && s->nconns >= s->conf.maxcontrolsessions) {
            srv_log(s, LOG_WARNING, "refused control connection: %u already open", s->nconns);
            close(fd);
            continue;
        }
        if (s->conf.maxconn_per_addr && conns_from(s, &peer) >= s->conf.maxconn_per_addr) {
            srv_log(s, LOG_WARNING, "refused control connection: %u already open from that address",
                    s->conf.maxconn_per_addr);
            close(fd);
            continue;
        }
        struct srv_conn *c = calloc(1, sizeof(*c));
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        uint32_t offered = (s->conf.authmode & WIRE_MODE_SECURITY) | s->ops->features;
        if (c) {
            c->ctrl = ctrl_create(s->ops->proto, CTRL_SERVER, offered, s->conf.pbkdf2_count);
            c->local.len = sizeof(c->local.ss);
            getsockname(fd, (struct sockaddr *)&c->local.ss, &c->local.len);
            unmap_v4(&c->local);
        }
        if (!c || !c->ctrl || loop_add_fd(loop, fd, LOOP_READ | LOOP_WRITE, conn_io, c) < 0) {
            if (c) {
                ctrl_destroy(c->ctrl);
            }
            free(c);
            close(fd);
            continue;
        }
        c->srv = s;
        c->fd = fd;
        c->peer = peer;
        unmap_v4(&c->peer);
        c->want_write = true;
        c->last_ctrl_ns = loop_mono_ns();
        set_peer_text(c);
        c->next = s->conns;
        s->conns = c;
        s->nconns++;
        c->tick = loop_timer_add(loop, c->last_ctrl_ns + SRV_TICK_NS, conn_tick, c);
        srv_log(s, LOG_DEBUG, "control connection from %s", c->peer_text);
    }
}

void srv_close_all(struct srv *s)
{
    while (s->conns) {
        conn_close(s->conns);
    }
}
