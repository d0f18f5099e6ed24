/* sock.c - UDP test sockets: open and bind, timestamp set-up, the one cmsg parser, TX
 * timestamps from the error queue, batched I/O and send pacing. NIC hardware set-up is in
 * sock_hw.c. */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/errqueue.h>

#include "common.h"

#define NS_PER_S 1000000000LL

static int set_int(int fd, int level, int name, int val)
{
    return setsockopt(fd, level, name, &val, sizeof(val)) == 0 ? 0 : LP_E_IO;
}

/* ---- addresses ---- */

int sock_addr_parse(const char *text, uint16_t port, struct sock_addr *out)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_DGRAM,
        .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
    };
    struct addrinfo *res = NULL;
    char serv[8];
    snprintf(serv, sizeof(serv), "%u", (unsigned)port);
    if (text == NULL || getaddrinfo(text, serv, &hints, &res) != 0) {
        return LP_E_SYNTAX;
    }
    memset(out, 0, sizeof(*out));
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

uint16_t sock_addr_port(const struct sock_addr *a)
{
    if (a->ss.ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    }
    if (a->ss.ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    }
    return 0;
}

void sock_addr_set_port(struct sock_addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET) {
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    } else if (a->ss.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
    }
}

static int addr_wildcard(int family, struct sock_addr *a)
{
    memset(a, 0, sizeof(*a));
    a->ss.ss_family = (sa_family_t)family;
    if (family == AF_INET) {
        ((struct sockaddr_in *)&a->ss)->sin_addr.s_addr = htonl(INADDR_ANY);
        a->len = sizeof(struct sockaddr_in);
    } else if (family == AF_INET6) {
        ((struct sockaddr_in6 *)&a->ss)->sin6_addr = in6addr_any;
        a->len = sizeof(struct sockaddr_in6);
    } else {
        return LP_E_VALUE;
    }
    return 0;
}

/* ---- opening ---- */

/* TTL/hop limit 255 on send, as the reference implementation does, so the far end can count
 * hops as 255 minus the TTL it sees; ask for TTL, TOS and destination on receive. */
static int setup_v4(int fd)
{
    int r = set_int(fd, IPPROTO_IP, IP_TTL, 255);
    r = r ? r : set_int(fd, IPPROTO_IP, IP_RECVTTL, 1);
    r = r ? r : set_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
    return r ? r : set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
}

static int setup_v6(int fd)
{
    int r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    r = r ? r : set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
    r = r ? r : set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
    r = r ? r : set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
    return r ? r : set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
}

/* Room for bursts at high packet rates: ask for SOCK_BUF_BYTES each way, beyond the sysctl
 * limits when privileged (SO_*BUFFORCE), else as much as they allow. Best effort. */
static void set_buffers(int fd)
{
    int want = SOCK_BUF_BYTES;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
    }
}

/* Bind to the first port of lo..hi that is free. */
static int bind_range(int fd, struct sock_addr *a, uint16_t lo, uint16_t hi)
{
    for (uint32_t port = lo; port <= hi; port++) {
        sock_addr_set_port(a, (uint16_t)port);
        if (bind(fd, (struct sockaddr *)&a->ss, a->len) == 0) {
            return 0;
        }
        if (errno != EADDRINUSE) {
            return LP_E_IO;
        }
    }
    errno = EADDRINUSE;
    return LP_E_IO;
}

static uint16_t local_port(int fd)
{
    struct sock_addr a = {.len = sizeof(a.ss)};
    if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) != 0) {
        return 0;
    }
    return sock_addr_port(&a);
}

int sock_open_udp(int family, const struct sock_addr *bind_addr, uint16_t port_lo, uint16_t port_hi,
                  unsigned flags, struct sock_udp *out)
{
    struct sock_addr a;
    if (bind_addr != NULL) {
        a = *bind_addr;
        family = a.ss.ss_family;
    } else if (addr_wildcard(family, &a) != 0) {
        return LP_E_VALUE;
    }
    if ((family != AF_INET && family != AF_INET6) || port_hi < port_lo || a.len == 0) {
        return LP_E_VALUE;
    }
    int type = SOCK_DGRAM | SOCK_CLOEXEC | ((flags & SOCK_F_BLOCKING) ? 0 : SOCK_NONBLOCK);
    int fd = socket(family, type, 0);
    if (fd < 0) {
        return LP_E_IO;
    }
    struct sock_tstamp ts;
    int r = family == AF_INET ? setup_v4(fd) : setup_v6(fd);
    set_buffers(fd);
    if (r == 0) {
        sock_tstamp_enable(fd, flags, 0, &ts); /* before bind: stamp the very first packet */
        r = bind_range(fd, &a, port_lo, port_hi);
    }
    if (r != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return r;
    }
    *out = (struct sock_udp){.fd = fd, .family = family, .port = local_port(fd), .ts = ts};
    return 0;
}

void sock_close_udp(struct sock_udp *s)
{
    if (s->fd >= 0) {
        close(s->fd);
    }
    s->fd = -1;
}

/* ---- timestamp set-up ---- */

/* OPT_TSONLY loops back only the timestamp, not the payload (cheap on SO_RCVBUF, works with
 * net.core.tstamp_allow_data=0). OPT_CMSG is left out on purpose: the kernel documents that
 * TSONLY disables it, so it would only suggest an IP_PKTINFO that never comes. */
unsigned sock_tstamp_enable(int fd, unsigned flags, unsigned hw_sof, struct sock_tstamp *out)
{
    const unsigned rx = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    const unsigned tx =
        (flags & SOCK_F_TX_TSTAMP)
            ? SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY
            : 0;
    unsigned tries[3] = {rx | tx | hw_sof, rx | tx, rx | (tx & ~SOF_TIMESTAMPING_OPT_TSONLY)};
    *out = (struct sock_tstamp){.rx = CLK_SRC_USER, .tx = CLK_SRC_NONE, .phc_index = -1};
    int first_err = 0;
    for (size_t i = 0; i < LP_ARRAY_LEN(tries); i++) {
        if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, (int)tries[i]) == 0) {
            out->rx = CLK_SRC_KERNEL;
            out->tx = tx ? CLK_SRC_KERNEL : CLK_SRC_NONE;
            if (i > 0) {
                snprintf(out->note, sizeof(out->note),
                         "SO_TIMESTAMPING %#x refused (%s), using %#x", tries[0],
                         strerror(first_err), tries[i]);
            }
            return tries[i];
        }
        first_err = first_err ? first_err : errno;
    }
    if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) == 0) {
        out->rx = CLK_SRC_KERNEL;
        snprintf(out->note, sizeof(out->note),
                 "SO_TIMESTAMPING refused (%s): SO_TIMESTAMPNS receive stamps, no TX stamps",
                 strerror(first_err));
        return 0;
    }
    snprintf(out->note, sizeof(out->note), "no kernel timestamps (%s): user clock",
             strerror(first_err));
    return 0;
}

int sock_set_tos(int fd, int family, uint8_t tos)
{
    if (family == AF_INET6) {
        return set_int(fd, IPPROTO_IPV6, IPV6_TCLASS, tos);
    }
    return set_int(fd, IPPROTO_IP, IP_TOS, tos);
}

/* ---- the cmsg parser ---- */

/* Everything one pass over the cmsgs found; times in ns, 0 = absent. */
struct cmsg_facts {
    struct sock_rxinfo rx;
    int64_t sw_ns; /* SCM_TIMESTAMPING ts[0] */
    int64_t hw_ns; /* SCM_TIMESTAMPING ts[2] */
    int64_t ns_ns; /* SO_TIMESTAMPNS */
    bool have_ee;
    struct sock_extended_err ee;
};

/* Payload layouts, read with memcpy (cmsg data need not be aligned for us). */
struct ts_old {
    long sec;
    long nsec;
};

struct ts_new {
    int64_t sec;
    int64_t nsec;
};

/* A timespec as ns, or 0 (absent) when out of range: a garbage or hostile cmsg must not
 * overflow. */
static int64_t ts_ns(int64_t sec, int64_t nsec)
{
    if (sec < 0 || sec >= INT64_MAX / NS_PER_S || nsec < 0 || nsec >= NS_PER_S) {
        return 0;
    }
    return sec * NS_PER_S + nsec;
}

static int64_t ts_old_at(const uint8_t *p, size_t i)
{
    struct ts_old t;
    memcpy(&t, p + i * sizeof(t), sizeof(t));
    return ts_ns((int64_t)t.sec, (int64_t)t.nsec);
}

static int64_t ts_new_at(const uint8_t *p, size_t i)
{
    struct ts_new t;
    memcpy(&t, p + i * sizeof(t), sizeof(t));
    return ts_ns(t.sec, t.nsec);
}

static void sol_socket_cmsg(int type, const uint8_t *p, size_t len, struct cmsg_facts *f)
{
    if (type == SO_TIMESTAMPING_OLD && len >= 3 * sizeof(struct ts_old)) {
        f->sw_ns = ts_old_at(p, 0);
        f->hw_ns = ts_old_at(p, 2);
    } else if (type == SO_TIMESTAMPING_NEW && len >= 3 * sizeof(struct ts_new)) {
        f->sw_ns = ts_new_at(p, 0);
        f->hw_ns = ts_new_at(p, 2);
    } else if (type == SO_TIMESTAMPNS_OLD && len >= sizeof(struct ts_old)) {
        f->ns_ns = ts_old_at(p, 0);
    } else if (type == SO_TIMESTAMPNS_NEW && len >= sizeof(struct ts_new)) {
        f->ns_ns = ts_new_at(p, 0);
    }
}

/* An int-sized octet value (TTL, hop limit, traffic class); -1 if out of range. */
static int octet_int(const uint8_t *p, size_t len)
{
    int v;
    if (len < sizeof(v)) {
        return -1;
    }
    memcpy(&v, p, sizeof(v));
    return v >= 0 && v <= 255 ? v : -1;
}

static void ip_cmsg(int type, const uint8_t *p, size_t len, struct cmsg_facts *f)
{
    if (type == IP_TTL) {
        f->rx.ttl = octet_int(p, len);
    } else if (type == IP_TOS && len >= 1) {
        f->rx.tos = p[0]; /* the kernel sends IP_TOS as one octet */
    } else if (type == IP_PKTINFO && len >= sizeof(struct in_pktinfo)) {
        struct in_pktinfo pi;
        memcpy(&pi, p, sizeof(pi));
        struct sockaddr_in *sin = (struct sockaddr_in *)&f->rx.dst.ss;
        sin->sin_family = AF_INET;
        sin->sin_addr = pi.ipi_addr;
        f->rx.dst.len = sizeof(*sin);
        f->rx.ifindex = pi.ipi_ifindex;
    } else if (type == IP_RECVERR && len >= sizeof(struct sock_extended_err)) {
        memcpy(&f->ee, p, sizeof(f->ee));
        f->have_ee = true;
    }
}

static void ipv6_cmsg(int type, const uint8_t *p, size_t len, struct cmsg_facts *f)
{
    if (type == IPV6_HOPLIMIT) {
        f->rx.ttl = octet_int(p, len);
    } else if (type == IPV6_TCLASS) {
        f->rx.tos = octet_int(p, len);
    } else if (type == IPV6_PKTINFO && len >= sizeof(struct in6_pktinfo)) {
        struct in6_pktinfo pi;
        memcpy(&pi, p, sizeof(pi));
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&f->rx.dst.ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = pi.ipi6_addr;
        f->rx.dst.len = sizeof(*sin6);
        f->rx.ifindex = (int)pi.ipi6_ifindex;
    } else if (type == IPV6_RECVERR && len >= sizeof(struct sock_extended_err)) {
        memcpy(&f->ee, p, sizeof(f->ee));
        f->have_ee = true;
    }
}

/* Walk msg_control by hand, checking every length against the buffer (CMSG_FIRSTHDR does
 * not check the first header's cmsg_len). Stops at the first inconsistent header. */
static void walk_cmsgs(const struct msghdr *msg, struct cmsg_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->rx.ttl = -1;
    f->rx.tos = -1;
    const uint8_t *base = msg->msg_control;
    size_t total = base != NULL ? msg->msg_controllen : 0;
    size_t off = 0;
    while (total - off >= sizeof(struct cmsghdr)) {
        struct cmsghdr h;
        memcpy(&h, base + off, sizeof(h));
        if (h.cmsg_len < CMSG_LEN(0) || h.cmsg_len > total - off) {
            break;
        }
        const uint8_t *data = base + off + CMSG_LEN(0);
        size_t len = h.cmsg_len - CMSG_LEN(0);
        if (h.cmsg_level == SOL_SOCKET) {
            sol_socket_cmsg(h.cmsg_type, data, len, f);
        } else if (h.cmsg_level == IPPROTO_IP) {
            ip_cmsg(h.cmsg_type, data, len, f);
        } else if (h.cmsg_level == IPPROTO_IPV6) {
            ipv6_cmsg(h.cmsg_type, data, len, f);
        }
        if (CMSG_ALIGN(h.cmsg_len) >= total - off) {
            break;
        }
        off += CMSG_ALIGN(h.cmsg_len);
    }
}

void sock_parse_cmsgs(const struct msghdr *msg, struct sock_rxinfo *info)
{
    struct cmsg_facts f;
    walk_cmsgs(msg, &f);
    *info = f.rx;
    info->sw_ts.ns = f.sw_ns != 0 ? f.sw_ns : f.ns_ns;
    if (f.hw_ns != 0) {
        info->ts.ns = f.hw_ns;
        info->src = CLK_SRC_HARDWARE;
    } else if (info->sw_ts.ns != 0) {
        info->ts = info->sw_ts;
        info->src = CLK_SRC_KERNEL;
    } else {
        info->src = CLK_SRC_NONE;
    }
}

bool sock_parse_tx_cmsgs(const struct msghdr *msg, struct sock_txts *out)
{
    struct cmsg_facts f;
    walk_cmsgs(msg, &f);
    if (!f.have_ee || f.ee.ee_errno != ENOMSG || f.ee.ee_origin != SO_EE_ORIGIN_TIMESTAMPING ||
        f.ee.ee_info != SCM_TSTAMP_SND) {
        return false;
    }
    if (f.hw_ns != 0) {
        *out = (struct sock_txts){.id = f.ee.ee_data, .ts = {f.hw_ns}, .src = CLK_SRC_HARDWARE};
    } else if (f.sw_ns != 0) {
        *out = (struct sock_txts){.id = f.ee.ee_data, .ts = {f.sw_ns}, .src = CLK_SRC_KERNEL};
    } else {
        return false;
    }
    return true;
}

/* Ancillary space per error-queue entry: SCM_TIMESTAMPING and IP(V6)_RECVERR with its
 * offender address fit in 128 octets. */
#define ERRQ_CMSG_SPACE 256

/* Room for one recvmmsg(MSG_ERRQUEUE) of up to SOCK_BATCH_MAX entries. */
struct errq_batch {
    struct mmsghdr msgs[SOCK_BATCH_MAX];
    struct iovec iov;
    uint8_t data[64]; /* empty with OPT_TSONLY; otherwise the payload, truncated (shared) */
    union {
        size_t align; /* the alignment CMSG_ALIGN assumes */
        uint8_t buf[ERRQ_CMSG_SPACE];
    } ctl[SOCK_BATCH_MAX];
};

/* Read up to SOCK_BATCH_MAX error-queue entries with one recvmmsg, passing each TX
 * timestamp to cb and counting them in *stamps. Returns the entries read (0: queue empty)
 * or LP_E_IO. */
static int errq_read_batch(int fd, struct errq_batch *b, sock_txts_cb cb, void *arg, int *stamps)
{
    b->iov = (struct iovec){.iov_base = b->data, .iov_len = sizeof(b->data)};
    for (unsigned i = 0; i < SOCK_BATCH_MAX; i++) {
        b->msgs[i].msg_len = 0;
        b->msgs[i].msg_hdr = (struct msghdr){.msg_iov = &b->iov,
                                             .msg_iovlen = 1,
                                             .msg_control = b->ctl[i].buf,
                                             .msg_controllen = sizeof(b->ctl[i].buf)};
    }
    int r;
    do {
        r = recvmmsg(fd, b->msgs, SOCK_BATCH_MAX, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : LP_E_IO;
    }
    for (int i = 0; i < r; i++) {
        struct sock_txts ts;
        if (sock_parse_tx_cmsgs(&b->msgs[i].msg_hdr, &ts)) {
            cb(arg, &ts);
            (*stamps)++;
        }
    }
    return r;
}

int sock_read_tx_timestamps(int fd, sock_txts_cb cb, void *arg)
{
    struct errq_batch b;
    int stamps = 0;
    for (;;) {
        int r = errq_read_batch(fd, &b, cb, arg, &stamps);
        if (r < 0) {
            return LP_E_IO;
        }
        if (r < SOCK_BATCH_MAX) {
            return stamps; /* a short batch: drained, no empty call needed to find out */
        }
    }
}

/* ---- batched I/O ---- */

int sock_recv_batch(int fd, struct sock_rxbuf *bufs, unsigned n)
{
    struct mmsghdr msgs[SOCK_BATCH_MAX];
    struct iovec iovs[SOCK_BATCH_MAX];
    n = n < SOCK_BATCH_MAX ? n : SOCK_BATCH_MAX;
    for (unsigned i = 0; i < n; i++) {
        iovs[i] = (struct iovec){.iov_base = bufs[i].data, .iov_len = bufs[i].cap};
        msgs[i].msg_len = 0;
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &bufs[i].peer.ss,
            .msg_namelen = sizeof(bufs[i].peer.ss),
            .msg_iov = &iovs[i],
            .msg_iovlen = 1,
            .msg_control = bufs[i].ctl.buf,
            .msg_controllen = sizeof(bufs[i].ctl.buf),
        };
    }
    int r;
    do {
        r = n ? recvmmsg(fd, msgs, n, MSG_WAITFORONE, NULL) : 0;
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : LP_E_IO;
    }
    struct clk_time now = clk_now(); /* the fallback stamp, as close to the call as can be */
    for (int i = 0; i < r; i++) {
        struct sock_rxbuf *b = &bufs[i];
        b->len = msgs[i].msg_len;
        b->truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        b->peer.len = msgs[i].msg_hdr.msg_namelen;
        sock_parse_cmsgs(&msgs[i].msg_hdr, &b->info);
        if (b->info.src == CLK_SRC_NONE) {
            b->info.ts = now;
            b->info.src = CLK_SRC_USER;
        }
    }
    return r;
}

union tos_ctl {
    size_t align; /* the alignment CMSG_ALIGN assumes */
    uint8_t buf[CMSG_SPACE(sizeof(int))];
};

static int socket_family(int fd)
{
    int family = AF_INET;
    socklen_t len = sizeof(family);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len);
    return family;
}

/* Attach a per-packet IP_TOS / IPV6_TCLASS to msg. */
static void add_tos(struct msghdr *msg, union tos_ctl *ctl, int family, int tos)
{
    memset(ctl, 0, sizeof(*ctl));
    msg->msg_control = ctl->buf;
    msg->msg_controllen = sizeof(ctl->buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(msg);
    c->cmsg_level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    c->cmsg_type = family == AF_INET6 ? IPV6_TCLASS : IP_TOS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &tos, sizeof(tos));
}

int sock_send_batch(int fd, const struct sock_txbuf *bufs, unsigned n)
{
    struct mmsghdr msgs[SOCK_BATCH_MAX];
    struct iovec iovs[SOCK_BATCH_MAX];
    union tos_ctl ctl[SOCK_BATCH_MAX];
    int family = 0;
    n = n < SOCK_BATCH_MAX ? n : SOCK_BATCH_MAX;
    for (unsigned i = 0; i < n; i++) {
        const struct sock_txbuf *b = &bufs[i];
        /* sendmmsg takes non-const buffers it does not write: the const goes through an
         * integer, as the interface leaves no other way */
        iovs[i] = (struct iovec){.iov_base = (void *)(uintptr_t)b->data, .iov_len = b->len};
        msgs[i].msg_len = 0;
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = b->dst ? (void *)(uintptr_t)&b->dst->ss : NULL,
            .msg_namelen = b->dst ? b->dst->len : 0,
            .msg_iov = &iovs[i],
            .msg_iovlen = 1,
        };
        if (b->tos >= 0 && b->tos <= 255) {
            if (family == 0) {
                family = b->dst ? b->dst->ss.ss_family : socket_family(fd);
            }
            add_tos(&msgs[i].msg_hdr, &ctl[i], family, b->tos);
        }
    }
    int r;
    do {
        r = n ? sendmmsg(fd, msgs, n, 0) : 0;
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : LP_E_IO;
    }
    return r;
}

#define SOCK_MSG_PROBE 0x10 /* MSG_PROBE of linux/socket.h: not in the C library's headers */

int sock_warm(int fd, const struct sock_txbuf *b)
{
    const struct sockaddr *to = b->dst ? (const struct sockaddr *)&b->dst->ss : NULL;
    ssize_t r = sendto(fd, b->data, b->len, SOCK_MSG_PROBE, to, b->dst ? b->dst->len : 0);
    return r < 0 ? LP_E_IO : 0;
}

int sock_send_to(int fd, const void *data, size_t len, const struct sock_addr *dst)
{
    ssize_t r;
    do {
        r = sendto(fd, data, len, 0, dst ? (const struct sockaddr *)&dst->ss : NULL,
                   dst ? dst->len : 0);
    } while (r < 0 && errno == EINTR);
    return r == (ssize_t)len ? 0 : LP_E_IO;
}

/* ---- pacing ---- */

void sock_pacer_init(struct sock_pacer *p, int64_t spin_ns)
{
    /* Best effort: without it the sleep may end up to 50 us late, which the spin absorbs
     * only partly. */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    p->spin_ns = spin_ns > 0 ? spin_ns : SOCK_PACER_SPIN_NS;
}

struct clk_time sock_pacer_sleep_until(const struct sock_pacer *p, struct clk_time deadline)
{
    int64_t wake = deadline.ns - p->spin_ns;
    struct clk_time now = clk_now();
    if (now.ns < wake) {
        struct timespec ts = {.tv_sec = wake / NS_PER_S, .tv_nsec = wake % NS_PER_S};
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        now = clk_now();
    }
    while (now.ns < deadline.ns) {
        now = clk_now();
    }
    return now;
}
