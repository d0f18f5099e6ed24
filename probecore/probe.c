/* probe.c - a measurement's life cycle: start, TWAMP Light / STAMP sessions, the waits
 * after the last packet, the results, the end. The control connections are probe_ctrl.c. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "sched.h"

#include "probe_int.h"

/* ---- the end ---- */

static void call_done(struct loop *loop, loop_timer_id id, void *arg)
{
    struct probe *p = arg;
    (void)loop;
    (void)id;
    p->t_done = 0;
    p->done(p, p->arg);
}

static void cancel(struct probe *p, loop_timer_id *t)
{
    if (*t) {
        loop_timer_cancel(p->env.loop, *t);
        *t = 0;
    }
}

static void drop_sessions(struct probe *p)
{
    sess_destroy(p->tw);
    sess_destroy(p->to);
    sess_destroy(p->from);
    p->tw = p->to = p->from = NULL;
    met_ow_acc_destroy(p->fetch_acc);
    p->fetch_acc = NULL;
    if (p->pend.fd >= 0) {
        sock_close_udp(&p->pend);
    }
}

void pr_finish(struct probe *p, bool ok, const char *fmt, ...)
{
    va_list ap;
    if (p->st == PR_DONE) {
        return;
    }
    p->st = PR_DONE;
    p->ok = ok;
    pres_abandon(p->resolving);
    p->resolving = NULL;
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(p->why, sizeof(p->why), fmt, ap);
        va_end(ap);
    }
    pr_ctrl_close(p);
    drop_sessions(p);
    cancel(p, &p->t_deadline);
    cancel(p, &p->t_poll);
    p->fig.sessions_ok = ok;
    p->fig.sessions_failed = !ok;
    p->fig.have_last = true;
    p->fig.last_ok = ok;
    p->fig.last_end_ns = clk_now().ns;
    p->fig.last_duration_ns = loop_mono_ns() - p->t0_mono;
    p->t_done = loop_timer_after(p->env.loop, 0, call_done, p);
}

/* ---- results ---- */

/* The TWAMP (or Light, STAMP) sender's records and counters into the figures. */
void pr_tw_results(struct probe *p)
{
    struct sess_counters cnt = sess_counters(p->tw);
    struct met_params mp = {.loss_timeout_ns = p->loss_ns, .npackets = sess_next_seqno(p->tw)};
    struct met_tw_acc *acc = met_tw_acc_create(&mp);
    struct met_tw_stats s;
    uint64_t t1[4] = {0};
    const void *run;
    size_t n;
    sess_stop(p->tw);
    sess_tw_finalize(p->tw);
    struct rst *st = sess_records(p->tw);
    for (uint64_t i = 0; acc && st && (n = rst_get(st, i, &run, NULL)) > 0; i += n) {
        for (const struct met_twrec *r = run, *end = r + n; r < end; r++) {
            t1[r->t1_src & 3] += !(r->flags & MET_TW_LOST);
        }
        met_tw_acc_add(acc, run, n);
    }
    if (!acc || met_tw_acc_finish(acc, &s) < 0) {
        met_tw_acc_destroy(acc);
        pr_finish(p, false, "out of memory computing the statistics");
        return;
    }
    met_tw_acc_destroy(acc);
    pst_from_tw(&p->fig, &s, p->buckets, p->env.nbuckets);
    met_tw_stats_free(&s);
    struct pst_dirstat *rt = &p->fig.d[PST_ROUND_TRIP];
    memcpy(rt->stamps[PST_STAMP_SEND], t1, sizeof(t1));
    for (int r = 0; r < SESS_DROP_N; r++) { /* enum sess_drop and pst_reason agree */
        rt->discarded[r] = cnt.reply_drop[r];
    }
    rt->discarded[PST_DISC_FULL] = cnt.overflow;
}

/* OWAMP: figures of records fed to acc (destroyed). 0 or -1 (finished). */
static int ow_figures(struct probe *p, struct met_ow_acc *acc, enum pst_dir d)
{
    struct met_ow_stats s;
    if (!acc || met_ow_acc_finish(acc, &s) < 0) {
        met_ow_acc_destroy(acc);
        pr_finish(p, false, "out of memory computing the statistics");
        return -1;
    }
    met_ow_acc_destroy(acc);
    pst_from_ow(&p->fig.d[d], &s, p->buckets, p->env.nbuckets);
    met_ow_stats_free(&s);
    return 0;
}

void pr_from_results(struct probe *p)
{
    uint32_t next = p->from_described ? p->from_next : p->m.count;
    struct met_params mp = {.loss_timeout_ns = p->loss_ns, .npackets = next};
    struct met_ow_acc *acc = met_ow_acc_create(&mp);
    const void *run;
    size_t n;
    sess_stop(p->from);
    sess_ow_finalize(p->from, next);
    struct rst *st = sess_records(p->from);
    for (uint64_t i = 0; acc && st && (n = rst_get(st, i, &run, NULL)) > 0; i += n) {
        met_ow_acc_add(acc, run, n);
    }
    struct sess_counters cnt = sess_counters(p->from);
    if (ow_figures(p, acc, PST_FROM) == 0) {
        struct pst_dirstat *d = &p->fig.d[PST_FROM];
        d->discarded[PST_DISC_MALFORMED] = cnt.malformed;
        d->discarded[PST_DISC_HMAC] = cnt.bad_hmac;
        d->discarded[PST_DISC_FULL] = cnt.overflow;
    }
}

void pr_to_results(struct probe *p)
{
    struct met_ow_acc *acc = p->fetch_acc;
    p->fetch_acc = NULL;
    ow_figures(p, acc, PST_TO);
}

/* ---- waiting for the end of the sessions ---- */

static bool peer_done(const struct probe *p)
{
    return p->peer_stopped && p->peer_accept == WIRE_ACCEPT_OK && (!p->to || p->to_sent) &&
           (!p->from_described || p->from_next >= p->m.count);
}

/* Whether everything is accounted for: every reply, every packet, or the waits are over. */
static bool sessions_over(const struct probe *p)
{
    int64_t now = loop_mono_ns();
    if (p->tw) {
        return p->tw_sent && (sess_all_in(p->tw) || now >= p->end_mono);
    }
    bool to_done = !p->to || (p->to_sent && (peer_done(p) || now >= p->end_mono));
    bool from_done = !p->from || sess_all_in(p->from) || now >= p->from_end_mono;
    return to_done && from_done;
}

/* The next instant a wait ends by the clock. */
static int64_t next_end(const struct probe *p)
{
    int64_t e = INT64_MAX;
    if ((p->tw && p->tw_sent) || (p->to && p->to_sent && !peer_done(p))) {
        e = p->end_mono;
    }
    if (p->from && !sess_all_in(p->from) && p->from_end_mono < e) {
        e = p->from_end_mono;
    }
    return e;
}

static void over(struct probe *p)
{
    cancel(p, &p->t_poll);
    if (p->ctrl) {
        pr_ctrl_sessions_over(p);
        return;
    }
    pr_tw_results(p);
    pr_finish(p, true, NULL);
}

static void poll_cb(struct loop *loop, loop_timer_id id, void *arg);

/* Look again soon: 1 ms after the last send, then twice as long each time, never past the
 * end of a wait. Replies on loopback arrive within the first look. */
static void poll_arm(struct probe *p)
{
    int64_t now = loop_mono_ns(), at = now + p->poll_step_ns, e = next_end(p);
    cancel(p, &p->t_poll);
    p->poll_step_ns *= 2;
    at = at < e ? at : e;
    p->t_poll = loop_timer_add(p->env.loop, at > now ? at : now, poll_cb, p);
}

static void poll_cb(struct loop *loop, loop_timer_id id, void *arg)
{
    struct probe *p = arg;
    (void)loop;
    (void)id;
    p->t_poll = 0;
    if (p->st != PR_RUNNING) {
        return;
    }
    if (sessions_over(p)) {
        over(p);
    } else {
        poll_arm(p);
    }
}

int pr_peer_stopped(struct probe *p)
{
    if (!peer_done(p)) {
        return -1;
    }
    poll_cb(p->env.loop, 0, p);
    return 0;
}

static void on_sent(struct sess *s, void *arg)
{
    struct probe *p = arg;
    int64_t after_last = loop_mono_ns() + p->loss_ns;
    (void)s;
    if (p->tw) {
        p->tw_sent = true;
    } else {
        p->to_sent = true;
    }
    p->end_mono = after_last > p->end_mono ? after_last : p->end_mono;
    p->poll_step_ns = PR_POLL_FIRST_NS;
    poll_arm(p);
}

static int64_t mono_at(struct clk_time t)
{
    return loop_mono_ns() + (t.ns - clk_now().ns);
}

/* Scheduled time of the last packet of a session with sid. */
static struct clk_time last_send(const struct probe *p, const uint8_t *sid)
{
    uint64_t first, last;
    if (sched_span(p->m.slots, p->m.nslots, sid, p->m.count, &first, &last) < 0) {
        return clk_from_ntp(p->start);
    }
    return sched_send_time(p->start, last);
}

void pr_running(struct probe *p)
{
    p->st = PR_RUNNING;
    p->poll_step_ns = PR_POLL_FIRST_NS;
    if (p->tw) {
        p->end_mono = mono_at((struct clk_time){sess_last_send_time(p->tw).ns + p->loss_ns});
        sess_on_sent(p->tw, on_sent, p);
    }
    if (p->to) {
        p->end_mono = mono_at((struct clk_time){sess_last_send_time(p->to).ns + p->loss_ns});
        sess_on_sent(p->to, on_sent, p);
    }
    if (p->from) {
        p->from_end_mono = mono_at((struct clk_time){last_send(p, p->sid_from).ns + p->loss_ns});
        if (!p->to) { /* nothing of ours to wait for: look when the server's schedule ends */
            p->t_poll = loop_timer_add(p->env.loop, p->from_end_mono - p->loss_ns, poll_cb, p);
        }
    }
}

/* ---- sessions ---- */

void pr_sess_config(const struct probe *p, struct sess_config *cfg, enum sess_kind kind)
{
    size_t store = (size_t)(p->m.count + 16) * sizeof(struct met_twrec);
    memset(cfg, 0, sizeof(*cfg));
    cfg->kind = kind;
    cfg->scratch = p->env.scratch;
    cfg->mode = p->mode & WIRE_MODE_SECURITY;
    cfg->keys = p->ctrl ? ctrl_keys(p->ctrl) : NULL;
    cfg->npackets = p->m.count;
    cfg->tos = p->m.dscp >= 0 ? p->m.dscp << 2 : -1;
    cfg->slots = p->m.slots;
    cfg->nslots = p->m.nslots;
    cfg->start = p->start;
    cfg->store_mem = store < RST_MEM_DEFAULT ? store : RST_MEM_DEFAULT;
    cfg->loss_timeout_ns = kind == SESS_OW_RECEIVER ? p->loss_ns : 0;
}

int pr_open_socket(struct probe *p, const struct sock_addr *local, struct sock_udp *out)
{
    if (sock_open_udp(local->ss.ss_family, local, p->m.port_lo, p->m.port_hi, 0, out) < 0) {
        pr_finish(p, false, "cannot open a test socket: %s",
                  errno == EADDRINUSE ? "no free port in test_ports" : strerror(errno));
        return -1;
    }
    return 0;
}

/* The resolver's answer into cl_peer. 0 or -1 (finished). */
static int take_address(struct probe *p, int rc, const struct addrinfo *res)
{
    if (rc != 0) {
        pr_finish(p, false, "cannot resolve %s: %s", p->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&p->cl_peer.ss, res->ai_addr, res->ai_addrlen);
    p->cl_peer.len = res->ai_addrlen;
    return 0;
}

static void on_resolved(void *arg, int rc, const struct addrinfo *res)
{
    struct probe *p = arg;
    p->resolving = NULL;
    if (take_address(p, rc, res) == 0) {
        p->resolved(p);
    }
}

int pr_resolve(struct probe *p, int socktype, int (*next)(struct probe *p))
{
    struct addrinfo hints = {.ai_family = p->m.family,
                             .ai_socktype = socktype,
                             .ai_flags = p->env.res ? AI_NUMERICHOST : 0};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(p->host, p->port, &hints, &res);
    if (rc == EAI_NONAME && p->env.res) { /* a name: to the resolver */
        p->resolved = next;
        p->resolving =
            pres_start(p->env.res, p->host, p->port, p->m.family, socktype, on_resolved, p);
        if (!p->resolving) {
            pr_finish(p, false, "cannot resolve %s: the resolver takes no more requests", p->host);
            return -1;
        }
        return 0;
    }
    rc = take_address(p, rc, res);
    if (res) {
        freeaddrinfo(res);
    }
    return rc < 0 ? -1 : next(p);
}

/* The reflector's address is known: ours, the module's source, else the route's. */
static int light_addresses(struct probe *p, struct sock_addr *local)
{
    int rc;
    memset(local, 0, sizeof(*local));
    if (p->m.source[0]) {
        return sock_addr_parse(p->m.source, 0, local) < 0 ||
                       local->ss.ss_family != p->cl_peer.ss.ss_family
                   ? (pr_finish(p, false, "source %s is not of the target's family", p->m.source),
                      -1)
                   : 0;
    }
    int fd = socket(p->cl_peer.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    local->len = sizeof(local->ss);
    rc = fd < 0 || connect(fd, (const struct sockaddr *)&p->cl_peer.ss, p->cl_peer.len) < 0 ||
                 getsockname(fd, (struct sockaddr *)&local->ss, &local->len) < 0
             ? -1
             : 0;
    if (rc < 0) {
        pr_finish(p, false, "no route to %s: %s", p->host, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/* TWAMP Light or STAMP: a Session-Sender without a control connection. */
static int light_resolved(struct probe *p)
{
    struct sock_addr local;
    struct sock_udp sock;
    struct sess_config cfg;
    p->loss_ns = p->m.loss_timeout_ns > 0 ? p->m.loss_timeout_ns : PR_LOSS_DEFAULT_NS;
    if (light_addresses(p, &local) < 0 || pr_open_socket(p, &local, &sock) < 0) {
        return -1;
    }
    p->mode = p->m.proto == PC_STAMP && p->m.passlen >= 0 && (p->m.modes & WIRE_MODE_AUTH)
                  ? WIRE_MODE_AUTH
                  : WIRE_MODE_OPEN;
    p->start = clk_to_ntp((struct clk_time){clk_now().ns + PR_START_NS});
    pr_sess_config(p, &cfg, SESS_TW_SENDER);
    cfg.fmt = p->m.proto == PC_STAMP ? SESS_FMT_STAMP : SESS_FMT_TWAMP;
    cfg.refl_may_copy = true;
    if (p->mode == WIRE_MODE_AUTH) {
        cfg.stamp_key = p->m.pass;
        cfg.stamp_key_len = (size_t)p->m.passlen;
    }
    cry_random(p->sid_tw, sizeof(p->sid_tw));
    memcpy(cfg.sid, p->sid_tw, WIRE_SID_LEN);
    cry_random(&cfg.ssid, sizeof(cfg.ssid));
    cfg.peer = p->cl_peer;
    /* TWAMP Light: the sender packet padded to the reflected size, as over TWAMP-Control */
    cfg.padding = p->m.padding +
                  (p->m.proto == PC_LIGHT ? WIRE_REFLECTOR_OPEN_LEN - WIRE_SENDER_OPEN_LEN : 0);
    if (!(p->tw = sess_create(p->env.loop, &sock, &cfg)) || sess_start(p->tw) < 0) {
        pr_finish(p, false, "cannot start the test session");
        return -1;
    }
    pr_running(p);
    return 0;
}

/* ---- life cycle ---- */

static void deadline_cb(struct loop *loop, loop_timer_id id, void *arg)
{
    struct probe *p = arg;
    (void)loop;
    (void)id;
    p->t_deadline = 0;
    pr_finish(p, false, "timed out");
}

int64_t probe_bound_ns(const struct pc_module *m)
{
    uint64_t slots_ns = 0;
    for (uint32_t i = 0; i < m->nslots; i++) {
        slots_ns += (uint64_t)((m->slots[i].param * 1000000000.0) / 4294967296.0);
    }
    double span_ns = (double)slots_ns / m->nslots * m->count;
    int64_t loss = m->loss_timeout_ns > 0 ? m->loss_timeout_ns : PR_LOSS_DEFAULT_NS;
    return (int64_t)(2 * span_ns) + loss + 30000000000LL;
}

struct probe *probe_start(const struct probe_env *env, const struct pc_module *m,
                          const char *target, int64_t deadline_mono, probe_done_fn done, void *arg)
{
    struct probe *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->env = *env;
    p->env.nbuckets = env->nbuckets < PC_MAX_BUCKETS ? env->nbuckets : PC_MAX_BUCKETS;
    memcpy(p->buckets, env->buckets_ns, p->env.nbuckets * sizeof(p->buckets[0]));
    p->env.buckets_ns = p->buckets;
    p->m = *m;
    p->done = done;
    p->arg = arg;
    p->fd = -1;
    p->pend.fd = -1;
    p->st = PR_CONNECTING;
    p->t0_mono = loop_mono_ns();
    snprintf(p->target, sizeof(p->target), "%s", target);
    const char *defport = m->proto == PC_OWAMP ? "861" : "862";
    if (addr_split(target, p->host, sizeof(p->host), p->port, sizeof(p->port), defport) < 0 ||
        !p->host[0]) {
        pr_finish(p, false, "bad target '%s'", target);
        return p;
    }
    p->t_deadline = loop_timer_add(
        env->loop, deadline_mono ? deadline_mono : p->t0_mono + probe_bound_ns(m), deadline_cb, p);
    if (m->proto == PC_LIGHT || m->proto == PC_STAMP) {
        pr_resolve(p, SOCK_DGRAM, light_resolved);
    } else {
        pr_resolve(p, SOCK_STREAM, pr_ctrl_begin);
    }
    return p;
}

const struct pst_target *probe_figures(const struct probe *p)
{
    return &p->fig;
}

bool probe_ok(const struct probe *p)
{
    return p->ok;
}

const char *probe_error(const struct probe *p)
{
    return p->why;
}

int64_t probe_duration_ns(const struct probe *p)
{
    return p->fig.last_duration_ns;
}

void probe_destroy(struct probe *p)
{
    if (!p) {
        return;
    }
    pr_finish(p, false, "stopped");
    cancel(p, &p->t_done);
    cry_wipe(p->m.pass, sizeof(p->m.pass));
    free(p);
}
