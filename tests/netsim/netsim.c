/* netsim.c - an impaired "wire" between two network namespaces, for tests.
 *
 * The kernel here has no netem qdisc, so the tests put a TUN device in each of two namespaces
 * and this relay copies packets between them: what namespace A sends into its TUN comes out of
 * B's TUN after the configured delay, jitter, loss, duplication and reordering (and back).
 * Arrival times come from the kernel: an AF_PACKET socket on each TUN with SO_TIMESTAMPNS sees
 * every outgoing packet stamped in dev_queue_xmit_nit, just before it enters the TUN queue.
 * Packets wait in a min-heap; the loop sleeps on an absolute timerfd until shortly before the
 * head is due, then spins, so the relay itself adds only microseconds. See README.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sched.h> /* CLONE_NEWNET; <sched.h> is shadowed by -Ilibprotocol */
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "netsim.h"

#define PKT_MAX 65536
#define TAP_RING 64
#define HEAP_MAX 100000
#define STAMP_MAX_AGE_NS 1000000000LL

enum { SIDE_A = 0, SIDE_B = 1, TAG_SIGNAL = 2, TAG_TIMER = 3 }; /* epoll tags */

struct counters {
    uint64_t rx, matched, tx, drop_pattern, lost, dup, swapped, reordered, hold_timeout;
    uint64_t overflow, write_err, ts_kernel, ts_user;
    int64_t late_sum, late_max, wait_sum, wait_max;
};

struct pkt {
    int64_t due_ns; /* CLOCK_MONOTONIC */
    uint64_t seq;   /* tie-break: equal due times leave in arrival order */
    int dir;
    bool dup;
    size_t len;
    uint8_t data[];
};

struct tap_frame {
    uint64_t hash;
    size_t len;
    int64_t real_ns;
};

/* One namespace's end of the wire: its TUN and the packet socket that stamps it. */
struct side {
    int tun_fd, tap_fd;
    struct tap_frame ring[TAP_RING]; /* stamped frames not yet matched to a TUN read */
    int ring_head, ring_n;
};

struct dir_state {
    struct netsim_profile prof;
    uint64_t rng_decide, rng_jitter;
    uint64_t n_match;
    int64_t last_due;
    struct pkt *held; /* waiting to be swapped with the next delivered matching packet */
    int64_t held_at;
    struct counters c;
};

struct relay {
    struct side side[2];
    struct dir_state dir[2];
    struct netsim_match match;
    struct pkt **heap;
    size_t heap_n, heap_cap;
    uint64_t seq;
    int ep, timer_fd, sig_fd;
    int64_t spin_ns, hold_ns;
    bool verbose, running, failed, warned_user_ts;
    uint8_t buf[PKT_MAX], tap_buf[PKT_MAX];
};

static const char *const dir_name[2] = {"a2b", "b2a"};

/* ---------- time and randomness ---------- */

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* splitmix64: small, fast and good enough to make seeded test impairments reproducible. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* ---------- packet inspection ---------- */

/* Find the transport header: sets *proto and returns its offset, or -1 when it is not in this
 * packet (a non-first fragment, a truncated header) while *proto is still set when known. */
static long l4_offset(const uint8_t *p, size_t len, int *proto)
{
    *proto = -1;
    if (len >= 20 && p[0] >> 4 == 4) {
        size_t ihl = (size_t)(p[0] & 15) * 4;
        *proto = p[9];
        bool later_fragment = (((p[6] << 8) | p[7]) & 0x1fff) != 0;
        return (ihl < 20 || ihl > len || later_fragment) ? -1 : (long)ihl;
    }
    if (len < 40 || p[0] >> 4 != 6) {
        return -1;
    }
    int nh = p[6];
    size_t off = 40;
    for (int i = 0; i < 8 && off + 8 <= len; i++) {
        if (nh == 44) { /* fragment header */
            if ((((p[off + 2] << 8) | p[off + 3]) & 0xfff8) != 0) {
                *proto = p[off];
                return -1;
            }
            nh = p[off];
            off += 8;
        } else if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
            size_t ext = nh == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
            nh = p[off];
            off += ext;
        } else {
            break;
        }
    }
    *proto = nh;
    return off <= len ? (long)off : -1;
}

static bool port_in(uint16_t port, const struct netsim_match *m)
{
    return port >= m->lo && port <= m->hi;
}

static bool packet_matches(const struct netsim_match *m, const uint8_t *p, size_t len)
{
    int proto;
    long off = l4_offset(p, len, &proto);
    if (m->proto == 0) {
        return true;
    }
    if (proto != m->proto) {
        return false;
    }
    if (m->ports == NETSIM_PORT_ANY) {
        return true;
    }
    if (off < 0 || (size_t)off + 4 > len) {
        return false;
    }
    uint16_t sport = (uint16_t)((p[off] << 8) | p[off + 1]);
    uint16_t dport = (uint16_t)((p[off + 2] << 8) | p[off + 3]);
    return (m->ports != NETSIM_PORT_DST && port_in(sport, m)) ||
           (m->ports != NETSIM_PORT_SRC && port_in(dport, m));
}

/* ---------- kernel arrival timestamps ---------- */

/* Read every stamped outgoing frame the packet socket holds into the side's ring. */
static void tap_drain(struct relay *r, struct side *s)
{
    for (int i = 0; i < 1024; i++) {
        char cbuf[256];
        struct sockaddr_ll sll;
        struct iovec iov = {r->tap_buf, sizeof r->tap_buf};
        struct msghdr mh = {.msg_name = &sll,
                            .msg_namelen = sizeof sll,
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(s->tap_fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            return;
        }
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        while (c && !(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)) {
            c = CMSG_NXTHDR(&mh, c);
        }
        if (!c || sll.sll_pkttype != PACKET_OUTGOING || (mh.msg_flags & MSG_TRUNC)) {
            continue;
        }
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        if (s->ring_n == TAP_RING) {
            s->ring_head = (s->ring_head + 1) % TAP_RING;
            s->ring_n--;
        }
        struct tap_frame *f = &s->ring[(s->ring_head + s->ring_n++) % TAP_RING];
        f->hash = fnv1a(r->tap_buf, (size_t)n);
        f->len = (size_t)n;
        f->real_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
}

/* The kernel's stamp of this packet; older unmatched frames (dropped by the TUN queue) go. */
static bool tap_lookup(struct relay *r, struct side *s, const uint8_t *p, size_t len,
                       int64_t *real_ns)
{
    if (s->tap_fd < 0) {
        return false;
    }
    tap_drain(r, s);
    uint64_t h = fnv1a(p, len);
    for (int k = 0; k < s->ring_n; k++) {
        const struct tap_frame *f = &s->ring[(s->ring_head + k) % TAP_RING];
        if (f->len == len && f->hash == h) {
            *real_ns = f->real_ns;
            s->ring_head = (s->ring_head + k + 1) % TAP_RING;
            s->ring_n -= k + 1;
            return true;
        }
    }
    return false;
}

/* Arrival time of a packet just read, on CLOCK_MONOTONIC; kernel stamp when there is one. */
static int64_t arrival_time(struct relay *r, int side, const uint8_t *p, size_t len)
{
    struct counters *c = &r->dir[side].c;
    /* realtime first: a pause between the two reads can then only make a packet late */
    int64_t real = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC), stamp;
    if (tap_lookup(r, &r->side[side], p, len, &stamp) && real >= stamp &&
        real - stamp < STAMP_MAX_AGE_NS) {
        int64_t wait = real - stamp;
        c->ts_kernel++;
        c->wait_sum += wait;
        c->wait_max = wait > c->wait_max ? wait : c->wait_max;
        return mono - wait;
    }
    c->ts_user++;
    if (!r->warned_user_ts) {
        fprintf(stderr, "netsim: no kernel timestamp for a packet; using the clock after read\n");
        r->warned_user_ts = true;
    }
    return mono;
}

/* ---------- the release heap ---------- */

static bool pkt_before(const struct pkt *x, const struct pkt *y)
{
    return x->due_ns < y->due_ns || (x->due_ns == y->due_ns && x->seq < y->seq);
}

static void heap_swap(struct pkt **h, size_t i, size_t j)
{
    struct pkt *t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static bool heap_push(struct relay *r, struct pkt *p)
{
    if (r->heap_n == r->heap_cap) {
        size_t cap = r->heap_cap ? r->heap_cap * 2 : 1024;
        struct pkt **h = cap <= HEAP_MAX ? realloc(r->heap, cap * sizeof *h) : NULL;
        if (!h) {
            return false;
        }
        r->heap = h;
        r->heap_cap = cap;
    }
    p->seq = r->seq++;
    size_t i = r->heap_n++;
    r->heap[i] = p;
    while (i > 0 && pkt_before(r->heap[i], r->heap[(i - 1) / 2])) {
        heap_swap(r->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return true;
}

static struct pkt *heap_pop(struct relay *r)
{
    struct pkt **h = r->heap, *top = h[0];
    h[0] = h[--r->heap_n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < r->heap_n && pkt_before(h[l], h[m])) {
            m = l;
        }
        if (l + 1 < r->heap_n && pkt_before(h[l + 1], h[m])) {
            m = l + 1;
        }
        if (m == i) {
            break;
        }
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

static struct pkt *pkt_new(int dir, const uint8_t *data, size_t len)
{
    struct pkt *p = malloc(sizeof *p + len);
    if (p) {
        memset(p, 0, sizeof *p);
        p->dir = dir;
        p->len = len;
        memcpy(p->data, data, len);
    }
    return p;
}

/* Queue a packet (and its duplicate) for release at p->due_ns; takes ownership. */
static void schedule(struct relay *r, struct pkt *p)
{
    struct counters *c = &r->dir[p->dir].c;
    struct pkt *copy = p->dup ? pkt_new(p->dir, p->data, p->len) : NULL;
    if (copy) {
        copy->due_ns = p->due_ns;
    }
    if (!heap_push(r, p)) {
        c->overflow++;
        free(p);
    }
    if (copy && !heap_push(r, copy)) {
        c->overflow++;
        free(copy);
    }
}

/* Write every packet that is due; record how late each write started. */
static void release_due(struct relay *r)
{
    while (r->heap_n > 0 && r->heap[0]->due_ns <= clock_ns(CLOCK_MONOTONIC)) {
        struct pkt *p = heap_pop(r);
        struct counters *c = &r->dir[p->dir].c;
        int64_t late = clock_ns(CLOCK_MONOTONIC) - p->due_ns;
        ssize_t n = write(r->side[1 - p->dir].tun_fd, p->data, p->len);
        if (n == (ssize_t)p->len) {
            c->tx++;
            c->late_sum += late;
            c->late_max = late > c->late_max ? late : c->late_max;
            if (r->verbose) {
                fprintf(stderr, "netsim: %s out len=%zu late=%" PRId64 "ns\n", dir_name[p->dir],
                        p->len, late);
            }
        } else {
            c->write_err++;
        }
        free(p);
    }
}

/* ---------- impairment ---------- */

struct verdict {
    bool drop, pattern, dup, hold;
    int64_t due_ns;
};

/* Decide a packet's fate. Randomness comes from two per-direction streams: one for jitter
 * (every packet), one for loss/dup/reorder (three draws per matching packet, always), so the
 * outcome for the n-th matching packet depends only on the seed and n. */
static struct verdict decide(struct dir_state *ds, bool matched, int64_t arrival_ns)
{
    const struct netsim_profile *pr = &ds->prof;
    struct verdict v = {0};
    double j = rng_unit(&ds->rng_jitter) * 2.0 - 1.0;
    v.due_ns = arrival_ns + pr->delay_ns + (int64_t)(j * (double)pr->jitter_ns);
    v.due_ns = v.due_ns < arrival_ns ? arrival_ns : v.due_ns;
    if (pr->keep_order && v.due_ns < ds->last_due) {
        v.due_ns = ds->last_due;
    }
    if (!matched) {
        return v;
    }
    uint64_t n = ds->n_match++;
    double u_loss = rng_unit(&ds->rng_decide), u_dup = rng_unit(&ds->rng_decide);
    double u_reorder = rng_unit(&ds->rng_decide);
    v.pattern = netsim_list_has(&pr->drop, n);
    v.drop = v.pattern || u_loss < pr->loss;
    v.dup = netsim_list_has(&pr->dup_at, n) || u_dup < pr->dup;
    v.hold = netsim_list_has(&pr->swap, n) || u_reorder < pr->reorder;
    return v;
}

static void count_verdict(struct counters *c, const struct verdict *v, bool matched)
{
    c->rx++;
    c->matched += matched;
    c->drop_pattern += v->pattern;
    c->lost += v->drop && !v->pattern;
    c->dup += !v->drop && v->dup;
}

static void log_packet(int dir, uint64_t idx, size_t len, const struct verdict *v, bool matched)
{
    const char *fate = v->pattern ? " drop(pattern)" : "";
    if (v->drop && !v->pattern) {
        fate = " lost";
    }
    fprintf(stderr, "netsim: %s %s%" PRIu64 " len=%zu%s%s%s%s\n", dir_name[dir],
            matched ? "#" : "-", matched ? idx : 0, len, fate, v->dup ? " dup" : "",
            v->hold ? " hold" : "", matched ? "" : " (not matched)");
}

/* One packet read from side `dir`'s TUN: stamp, decide, then drop, hold or schedule it. */
static void handle_packet(struct relay *r, int dir, const uint8_t *data, size_t len)
{
    struct dir_state *ds = &r->dir[dir];
    int64_t arrival = arrival_time(r, dir, data, len);
    bool matched = packet_matches(&r->match, data, len);
    uint64_t idx = ds->n_match;
    struct verdict v = decide(ds, matched, arrival);
    count_verdict(&ds->c, &v, matched);
    if (r->verbose) {
        log_packet(dir, idx, len, &v, matched);
    }
    struct pkt *p = v.drop ? NULL : pkt_new(dir, data, len);
    if (!p) {
        return;
    }
    p->due_ns = v.due_ns;
    p->dup = v.dup;
    ds->last_due = v.due_ns > ds->last_due ? v.due_ns : ds->last_due;
    if (matched && ds->held) {
        struct pkt *h = ds->held;
        ds->held = NULL;
        h->due_ns = h->due_ns > p->due_ns ? h->due_ns : p->due_ns;
        schedule(r, p);
        schedule(r, h);
    } else if (v.hold) {
        ds->held = p;
        ds->held_at = clock_ns(CLOCK_MONOTONIC);
        ds->c.swapped += netsim_list_has(&ds->prof.swap, idx);
        ds->c.reordered += !netsim_list_has(&ds->prof.swap, idx);
    } else {
        schedule(r, p);
    }
}

/* A held packet whose successor never came leaves after hold_ns. */
static void expire_holds(struct relay *r, int64_t now)
{
    for (int d = 0; d < 2; d++) {
        struct dir_state *ds = &r->dir[d];
        if (ds->held && now - ds->held_at >= r->hold_ns) {
            ds->c.hold_timeout++;
            schedule(r, ds->held);
            ds->held = NULL;
        }
    }
}

/* ---------- namespaces and devices ---------- */

static int set_netns(int fd)
{
    return (int)syscall(SYS_setns, fd, CLONE_NEWNET);
}

static int enter_netns(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, strchr(name, '/') ? "%s" : "/var/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "netsim: open %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = set_netns(fd);
    if (rc < 0) {
        fprintf(stderr, "netsim: setns %s: %s\n", path, strerror(errno));
    }
    close(fd);
    return rc;
}

/* Packet socket that sees only this device's outgoing frames, kernel-stamped. */
static int tap_open(unsigned ifindex)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
    int on = 1, rcvbuf = 1 << 20;
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0 ||
        bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        fprintf(stderr, "netsim: packet socket: %s (falling back to user timestamps)\n",
                strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* Attach to (or create) TUN `dev` inside namespace `ns`; the fds keep their namespace. */
static int side_open(struct side *s, const char *ns, const char *dev, int home_fd)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
    s->tun_fd = s->tap_fd = -1;
    if (enter_netns(ns) < 0) {
        return -1;
    }
    bool existed = if_nametoindex(dev) != 0;
    s->tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (s->tun_fd < 0 || ioctl(s->tun_fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "netsim: tun %s in %s: %s\n", dev, ns, strerror(errno));
    } else {
        if (!existed) {
            fprintf(stderr, "netsim: created %s in %s (not configured)\n", dev, ns);
        }
        s->tap_fd = tap_open(if_nametoindex(dev));
    }
    if (set_netns(home_fd) < 0) {
        fprintf(stderr, "netsim: setns back: %s\n", strerror(errno));
        return -1;
    }
    return s->tun_fd >= 0 ? 0 : -1;
}

/* ---------- the loop ---------- */

static int epoll_add(int ep, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int loop_open(struct relay *r)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    r->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (r->sig_fd < 0 || r->timer_fd < 0 || r->ep < 0 || epoll_add(r->ep, r->sig_fd, TAG_SIGNAL) ||
        epoll_add(r->ep, r->timer_fd, TAG_TIMER) || epoll_add(r->ep, r->side[0].tun_fd, SIDE_A) ||
        epoll_add(r->ep, r->side[1].tun_fd, SIDE_B)) {
        fprintf(stderr, "netsim: event loop set-up: %s\n", strerror(errno));
        return -1;
    }
    prctl(PR_SET_TIMERSLACK, 1UL); /* timer wake-ups as exact as the kernel allows */
    return 0;
}

static void read_side(struct relay *r, int side)
{
    for (int i = 0; i < 256; i++) {
        ssize_t n = read(r->side[side].tun_fd, r->buf, sizeof r->buf);
        if (n > 0) {
            handle_packet(r, side, r->buf, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n == 0 || errno != EAGAIN) {
                fprintf(stderr, "netsim: tun read: %s\n", n ? strerror(errno) : "EOF");
                r->running = false;
                r->failed = true;
            }
            return;
        }
    }
}

/* Handle what is ready; timeout_ms as for epoll_wait. */
static void poll_once(struct relay *r, int timeout_ms)
{
    struct epoll_event ev[8];
    int n = epoll_wait(r->ep, ev, 8, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t tag = ev[i].data.u32;
        if (tag <= SIDE_B) {
            read_side(r, (int)tag);
        } else if (tag == TAG_TIMER) {
            uint64_t ticks;
            ssize_t rc = read(r->timer_fd, &ticks, sizeof ticks);
            (void)rc;
        } else {
            struct signalfd_siginfo si;
            if (read(r->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
                r->running = false;
            }
        }
    }
}

static int64_t next_deadline(const struct relay *r)
{
    int64_t next = r->heap_n ? r->heap[0]->due_ns : INT64_MAX;
    for (int d = 0; d < 2; d++) {
        if (r->dir[d].held && r->dir[d].held_at + r->hold_ns < next) {
            next = r->dir[d].held_at + r->hold_ns;
        }
    }
    return next;
}

static void arm_timer(struct relay *r, int64_t at_ns)
{
    struct itimerspec its = {0};
    if (at_ns != INT64_MAX) {
        at_ns = at_ns > 0 ? at_ns : 1;
        its.it_value.tv_sec = at_ns / 1000000000LL;
        its.it_value.tv_nsec = at_ns % 1000000000LL;
    }
    timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Sleep on the timer until spin_ns before the next deadline, then poll without blocking
 * until it passes; packets keep being read (and kernel-stamped) all the while. */
static void relay_run(struct relay *r)
{
    r->running = true;
    while (r->running) {
        release_due(r);
        expire_holds(r, clock_ns(CLOCK_MONOTONIC));
        int64_t next = next_deadline(r);
        if (next != INT64_MAX && next - clock_ns(CLOCK_MONOTONIC) <= r->spin_ns) {
            poll_once(r, 0);
            continue;
        }
        arm_timer(r, next == INT64_MAX ? INT64_MAX : next - r->spin_ns);
        poll_once(r, -1);
    }
}

static void print_stats(const struct relay *r)
{
    for (int d = 0; d < 2; d++) {
        const struct counters *c = &r->dir[d].c;
        uint64_t nk = c->ts_kernel ? c->ts_kernel : 1, nt = c->tx ? c->tx : 1;
        fprintf(stderr,
                "netsim: stats %s rx=%" PRIu64 " matched=%" PRIu64 " tx=%" PRIu64
                " drop_pattern=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64 " swapped=%" PRIu64
                " reordered=%" PRIu64 " hold_timeout=%" PRIu64 " overflow=%" PRIu64
                " write_err=%" PRIu64 " ts_kernel=%" PRIu64 " ts_user=%" PRIu64
                " wait_avg_ns=%" PRId64 " wait_max_ns=%" PRId64 " late_avg_ns=%" PRId64
                " late_max_ns=%" PRId64 "\n",
                dir_name[d], c->rx, c->matched, c->tx, c->drop_pattern, c->lost, c->dup, c->swapped,
                c->reordered, c->hold_timeout, c->overflow, c->write_err, c->ts_kernel, c->ts_user,
                c->wait_sum / (int64_t)nk, c->wait_max, c->late_sum / (int64_t)nt, c->late_max);
    }
}

static int write_ready(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "netsim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f);
}

static void relay_init(struct relay *r, const struct netsim_options *o)
{
    for (int d = 0; d < 2; d++) {
        uint64_t s = o->seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(d + 1));
        r->dir[d].prof = o->prof[d];
        r->dir[d].rng_decide = rng_next(&s);
        r->dir[d].rng_jitter = rng_next(&s);
        r->side[d].tun_fd = r->side[d].tap_fd = -1;
    }
    r->match = o->match;
    r->spin_ns = o->spin_ns;
    r->hold_ns = o->hold_ns;
    r->verbose = o->verbose;
    r->ep = r->timer_fd = r->sig_fd = -1;
}

static void relay_close(struct relay *r)
{
    int fds[] = {r->ep,
                 r->timer_fd,
                 r->sig_fd,
                 r->side[0].tun_fd,
                 r->side[0].tap_fd,
                 r->side[1].tun_fd,
                 r->side[1].tap_fd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    while (r->heap_n > 0) {
        free(heap_pop(r));
    }
    free(r->heap);
    free(r->dir[0].held);
    free(r->dir[1].held);
}

static int relay_main(const struct netsim_options *o)
{
    struct relay *r = calloc(1, sizeof *r);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), rc = 1;
    if (!r || home < 0) {
        fprintf(stderr, "netsim: start-up: %s\n", strerror(errno));
        free(r);
        return 1;
    }
    relay_init(r, o);
    if (side_open(&r->side[0], o->ns[0], o->dev, home) == 0 &&
        side_open(&r->side[1], o->ns[1], o->dev, home) == 0 && loop_open(r) == 0 &&
        (!o->ready_file || write_ready(o->ready_file) == 0)) {
        fprintf(stderr, "netsim: ready (%s <-> %s via %s)\n", o->ns[0], o->ns[1], o->dev);
        relay_run(r);
        rc = r->failed ? 1 : 0;
    }
    if (o->stats) {
        print_stats(r);
    }
    relay_close(r);
    close(home);
    free(r);
    return rc;
}

int main(int argc, char **argv)
{
    struct netsim_options o;
    int rc = netsim_parse_options(argc, argv, &o);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    return relay_main(&o);
}
