/* loadgen.c - a fixed-rate UDP load generator for reflectors: sends 44-octet test packets
 * with sendmmsg() at RATE packets/s for SECONDS, counts the replies with recvmmsg(), and
 * prints one line of key=value figures (bench/reflector.sh reads it).
 *
 *   loadgen -m echo|stamp|twamp -d ADDR:PORT -r RATE [-t SECONDS] [-w DRAIN_MS]
 *
 *   echo   ADDR:PORT is bench/raw_reflector; packets are STAMP Session-Sender packets
 *          (RFC 8762, unauthenticated) and the replies are their echoes
 *   stamp  ADDR:PORT is a TWAMP Light / STAMP reflector (twampd --light): same packets,
 *          the replies are STAMP Session-Reflector packets
 *   twamp  ADDR:PORT is a twampd control port: one open-mode TWAMP-Control session
 *          (Request-TW-Session, Start-Sessions) is set up first, then TWAMP-Test sender
 *          packets padded to 44 octets go to the accepted port; Stop-Sessions at the end
 *
 * Output: mode rate sent received lost loss_pct achieved_pps (send rate reached: when it is
 * below the target the generator, not the reflector, was the limit) rtt_p50_us rtt_p99_us
 * (user-clock round trip, send stamp to recvmmsg return) refl_drops own_drops (datagrams the
 * kernel dropped at the reflector's and at our socket, from /proc/net/udp). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "common.h"
#include "crypto.h"
#include "ctrl.h"
#include "wire.h"

#define LG_BATCH 32
#define LG_PKT_LEN 44 /* the unauthenticated STAMP packet; TWAMP-Test is padded to it */
#define LG_RX_MAX 2048
#define LG_MAX_SECONDS 60.0
#define LG_CTRL_WAIT_S 5
#define LG_QUANTUM_NS 20000

enum lg_mode { LG_ECHO, LG_STAMP, LG_TWAMP };

struct lg {
    enum lg_mode mode;
    struct sockaddr_in ctl_addr; /* -d: reflector (echo, stamp) or control port (twamp) */
    struct sockaddr_in dst;      /* where the test packets go */
    double rate, seconds;
    int drain_ms;
    int fd;
    uint16_t ssid;
    uint32_t total, sent, received, dups;
    uint8_t *seen;
    uint32_t *rtt_ns; /* one round trip per reply */
    double send_secs; /* first to last send */
};

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int parse_addr(const char *text, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof(host)) {
        return -1;
    }
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &out->sin_addr) == 1 && out->sin_port ? 0 : -1;
}

/* Kernel drop counter of the local UDP sockets bound to port (/proc/net/udp: "sl local rem st
 * tx:rx tr:when retrnsmt uid timeout inode ref pointer drops"). */
static unsigned long udp_drops(uint16_t port)
{
    FILE *f = fopen("/proc/net/udp", "r");
    char line[512];
    unsigned long total = 0;
    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        unsigned lport = 0;
        unsigned long drops = 0;
        if (sscanf(line, " %*s %*x:%x %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &lport,
                   &drops) == 2 &&
            lport == port) {
            total += drops;
        }
    }
    fclose(f);
    return total;
}

/* ---------------------------------------------------------------- control (twamp mode) */

struct bctl {
    int fd;
    struct ctrl *c;
};

static int bctl_flush(struct bctl *b)
{
    const uint8_t *p;
    size_t n;
    ctrl_output(b->c, &p, &n);
    while (n > 0) {
        ssize_t w = send(b->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return -1;
        }
        ctrl_output_done(b->c, (size_t)w);
        ctrl_output(b->c, &p, &n);
    }
    return 0;
}

/* Block until the next control event, which must be of type. 0 or -1 (printed). */
static int bctl_expect(struct bctl *b, enum ctrl_ev type, struct ctrl_event *ev)
{
    for (;;) {
        int rc = ctrl_next(b->c, ev);
        if (rc > 0) {
            if (ev->type == type) {
                return 0;
            }
            fprintf(stderr, "loadgen: unexpected control event %d (wanted %d)\n", ev->type, type);
            return -1;
        }
        uint8_t buf[2048];
        ssize_t r = rc < 0 ? -1 : recv(b->fd, buf, sizeof(buf), 0);
        if (r <= 0 || ctrl_input(b->c, buf, (size_t)r) < 0) {
            fprintf(stderr, "loadgen: control connection failed (%s)\n",
                    rc < 0   ? lp_strerror(rc)
                    : r == 0 ? "closed"
                             : strerror(errno));
            return -1;
        }
    }
}

static int bctl_connect(struct bctl *b, const struct sockaddr_in *to)
{
    struct timeval tv = {.tv_sec = LG_CTRL_WAIT_S};
    struct ctrl_event ev;
    b->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    b->c = ctrl_create(WIRE_TWAMP, CTRL_CLIENT, 0, 0);
    if (b->fd < 0 || !b->c) {
        return -1;
    }
    setsockopt(b->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(b->fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
        fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
        return -1;
    }
    if (bctl_expect(b, CTRL_EV_GREETING, &ev) < 0 ||
        ctrl_client_setup(b->c, WIRE_MODE_OPEN, NULL, NULL, 0) < 0 || bctl_flush(b) < 0 ||
        bctl_expect(b, CTRL_EV_SERVER_START, &ev) < 0) {
        return -1;
    }
    if (ev.u.server_start.accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "loadgen: server refused open mode\n");
        return -1;
    }
    return 0;
}

/* Request-TW-Session from our test port, Start-Sessions; sets lg->dst. 0 or -1. */
static int twamp_begin(struct lg *lg, struct bctl *b, uint16_t our_port)
{
    struct wire_request q = {.ipvn = 4,
                             .sender_port = our_port,
                             .receiver_port = our_port,
                             .padding_len = LG_PKT_LEN - WIRE_SENDER_OPEN_LEN};
    struct ctrl_event ev;
    if (bctl_connect(b, &lg->ctl_addr) < 0) {
        return -1;
    }
    memcpy(q.sender_addr, &lg->ctl_addr.sin_addr, 4);
    memcpy(q.receiver_addr, &lg->ctl_addr.sin_addr, 4);
    q.start_time = clk_to_ntp((struct clk_time){clk_now().ns + 10000000});
    q.timeout = clk_ns_to_ntp_duration(1000000000);
    if (ctrl_send_request(b->c, &q, NULL) < 0 || bctl_flush(b) < 0 ||
        bctl_expect(b, CTRL_EV_ACCEPT_SESSION, &ev) < 0) {
        return -1;
    }
    if (ev.u.accept.accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "loadgen: session refused (Accept=%u)\n", ev.u.accept.accept);
        return -1;
    }
    lg->dst = lg->ctl_addr;
    lg->dst.sin_port = htons(ev.u.accept.port);
    if (ctrl_send_start(b->c) < 0 || bctl_flush(b) < 0 ||
        bctl_expect(b, CTRL_EV_START_ACK, &ev) < 0) {
        return -1;
    }
    return ev.u.start_ack.accept == WIRE_ACCEPT_OK ? 0 : -1;
}

static void twamp_end(struct bctl *b)
{
    struct wire_stop_sessions st = {.accept = WIRE_ACCEPT_OK, .nsessions = 1};
    if (b->c && ctrl_send_stop(b->c, &st) == 0) {
        bctl_flush(b);
    }
    if (b->fd >= 0) {
        close(b->fd);
    }
    ctrl_destroy(b->c);
}

/* ------------------------------------------------------------------------ test packets */

static int encode_packet(const struct lg *lg, uint32_t seq, uint64_t ts, uint8_t *buf)
{
    if (lg->mode == LG_TWAMP) {
        static const uint8_t zeros[LG_PKT_LEN];
        struct wire_sender_pkt p = {.seq = seq,
                                    .ts = ts,
                                    .errest = 1,
                                    .pad = zeros,
                                    .pad_len = LG_PKT_LEN - WIRE_SENDER_OPEN_LEN};
        return wire_sender_encode(&p, WIRE_MODE_OPEN, buf, LG_PKT_LEN);
    }
    struct wire_stamp_sender p = {.seq = seq, .ts = ts, .errest = 1, .ssid = lg->ssid};
    return wire_stamp_sender_encode(&p, WIRE_MODE_OPEN, buf, LG_PKT_LEN);
}

/* Send every packet due by now (at most the whole run). */
static void send_due(struct lg *lg, int64_t t0)
{
    static uint8_t bufs[LG_BATCH][LG_PKT_LEN];
    struct iovec iov[LG_BATCH];
    struct mmsghdr msgs[LG_BATCH];
    int64_t now = mono_ns();
    double due_f = now <= t0 ? 0 : (double)(now - t0) * lg->rate / 1e9 + 1;
    uint32_t due = due_f > lg->total ? lg->total : (uint32_t)due_f;
    while (lg->sent < due) {
        unsigned n = due - lg->sent > LG_BATCH ? LG_BATCH : due - lg->sent;
        uint64_t ts = clk_to_ntp(clk_now()).raw;
        for (unsigned i = 0; i < n; i++) {
            encode_packet(lg, lg->sent + i, ts, bufs[i]);
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = LG_PKT_LEN};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &lg->dst,
                                              .msg_namelen = sizeof(lg->dst),
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1};
        }
        int k = sendmmsg(lg->fd, msgs, n, 0);
        if (k <= 0) {
            return; /* our own send buffer is full: try again on the next round */
        }
        lg->sent += (uint32_t)k;
    }
}

/* Sender sequence number and send stamp of a reply; false if it is not one of ours. */
static bool parse_reply(const struct lg *lg, const uint8_t *b, size_t len, uint32_t *seq,
                        uint64_t *ts)
{
    if (lg->mode == LG_ECHO) {
        if (len != LG_PKT_LEN || lp_load16(b + 14) != lg->ssid) {
            return false;
        }
        *seq = lp_load32(b), *ts = lp_load64(b + 4);
        return true;
    }
    if (lg->mode == LG_STAMP) {
        struct wire_stamp_reflector r;
        if (wire_stamp_reflector_decode(b, len, WIRE_MODE_OPEN, &r) < 0 || r.ssid != lg->ssid) {
            return false;
        }
        *seq = r.sender_seq, *ts = r.sender_ts;
        return true;
    }
    struct wire_reflector_pkt r;
    if (wire_reflector_decode(b, len, WIRE_MODE_OPEN, &r) < 0) {
        return false;
    }
    *seq = r.sender_seq, *ts = r.sender_ts;
    return true;
}

/* Take every reply queued now. */
static void recv_all(struct lg *lg)
{
    static uint8_t bufs[LG_BATCH][LG_RX_MAX];
    struct iovec iov[LG_BATCH];
    struct mmsghdr msgs[LG_BATCH];
    for (;;) {
        for (int i = 0; i < LG_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = LG_RX_MAX};
            msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(lg->fd, msgs, LG_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            return;
        }
        int64_t now = clk_now().ns;
        for (int i = 0; i < n; i++) {
            uint32_t seq;
            uint64_t ts;
            if (!parse_reply(lg, bufs[i], msgs[i].msg_len, &seq, &ts) || seq >= lg->sent) {
                continue;
            }
            if (lg->seen[seq / 8] & (1u << (seq % 8))) {
                lg->dups++;
                continue;
            }
            lg->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
            int64_t rtt = now - clk_from_ntp((struct clk_ntp){ts}).ns;
            lg->rtt_ns[lg->received++] = rtt < 0            ? 0
                                         : rtt > UINT32_MAX ? UINT32_MAX
                                                            : (uint32_t)rtt;
        }
    }
}

/* Pace the whole run, then drain replies for drain_ms. */
static void run(struct lg *lg)
{
    int64_t t0 = mono_ns() + 1000000, t_last = t0;
    int64_t step_ns = (int64_t)(1e9 / lg->rate);
    /* wake up for a few packets at a time at high rates (at most LG_QUANTUM_NS late) */
    uint32_t quantum = (uint32_t)(lg->rate * LG_QUANTUM_NS / 1e9);
    quantum = quantum < 1 ? 1 : quantum;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    for (;;) {
        int64_t now = mono_ns();
        if (lg->sent < lg->total) {
            send_due(lg, t0);
            t_last = mono_ns();
        } else if (now > t_last + (int64_t)lg->drain_ms * 1000000) {
            break;
        }
        recv_all(lg);
        int64_t next =
            lg->sent < lg->total ? t0 + (int64_t)(lg->sent + quantum - 1) * step_ns : now + 1000000;
        int64_t wait = next - mono_ns();
        if (wait > 0) {
            struct pollfd p = {.fd = lg->fd, .events = POLLIN};
            struct timespec ts = {.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
            ppoll(&p, 1, &ts, NULL);
        }
    }
    lg->send_secs = (double)(t_last - t0) / 1e9;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_us(uint32_t *v, uint32_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    size_t i = (size_t)(p * (n - 1));
    return v[i] / 1000.0;
}

static int open_test_socket(struct lg *lg, uint16_t *port)
{
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr = lg->ctl_addr.sin_addr};
    socklen_t len = sizeof(me);
    int big = 8 << 20;
    lg->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (lg->fd < 0 || bind(lg->fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
        getsockname(lg->fd, (struct sockaddr *)&me, &len) < 0) {
        fprintf(stderr, "loadgen: socket: %s\n", strerror(errno));
        return -1;
    }
    /* large buffers on our side so that drops happen at the reflector, not here */
    setsockopt(lg->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    setsockopt(lg->fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
    *port = ntohs(me.sin_port);
    return 0;
}

static const char *mode_name(enum lg_mode m)
{
    return m == LG_ECHO ? "echo" : m == LG_STAMP ? "stamp" : "twamp";
}

static void report(struct lg *lg, unsigned long refl_drops, unsigned long own_drops)
{
    uint32_t lost = lg->sent - lg->received;
    qsort(lg->rtt_ns, lg->received, sizeof(*lg->rtt_ns), cmp_u32);
    printf("mode=%s rate=%.0f sent=%u received=%u lost=%u loss_pct=%.4f achieved_pps=%.0f "
           "rtt_p50_us=%.1f rtt_p99_us=%.1f dups=%u refl_drops=%lu own_drops=%lu\n",
           mode_name(lg->mode), lg->rate, lg->sent, lg->received, lost,
           lg->sent ? 100.0 * lost / lg->sent : 0.0,
           lg->send_secs > 0 ? (lg->sent - 1) / lg->send_secs : 0.0,
           pct_us(lg->rtt_ns, lg->received, 0.5), pct_us(lg->rtt_ns, lg->received, 0.99), lg->dups,
           refl_drops, own_drops);
}

static int parse_args(int argc, char **argv, struct lg *lg)
{
    int c;
    const char *dst = NULL, *mode = "stamp";
    while ((c = getopt(argc, argv, "m:d:r:t:w:")) != -1) {
        switch (c) {
        case 'm': mode = optarg; break;
        case 'd': dst = optarg; break;
        case 'r': lg->rate = atof(optarg); break;
        case 't': lg->seconds = atof(optarg); break;
        case 'w': lg->drain_ms = atoi(optarg); break;
        default: return -1;
        }
    }
    lg->mode = !strcmp(mode, "echo") ? LG_ECHO : !strcmp(mode, "twamp") ? LG_TWAMP : LG_STAMP;
    if ((strcmp(mode, "echo") && strcmp(mode, "stamp") && strcmp(mode, "twamp")) || !dst ||
        parse_addr(dst, &lg->ctl_addr) < 0 || lg->rate < 1 || lg->seconds <= 0 ||
        lg->seconds > LG_MAX_SECONDS || lg->rate * lg->seconds > 1e8) {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct lg lg = {.seconds = 2, .drain_ms = 300, .fd = -1};
    struct bctl b = {.fd = -1};
    uint16_t port;
    if (parse_args(argc, argv, &lg) < 0) {
        fprintf(stderr, "usage: loadgen -m echo|stamp|twamp -d ADDR:PORT -r RATE [-t SECONDS "
                        "(<= 60)] [-w DRAIN_MS]\n");
        return 2;
    }
    lg.total = (uint32_t)(lg.rate * lg.seconds);
    lg.seen = calloc(lg.total / 8 + 1, 1);
    lg.rtt_ns = calloc(lg.total + 1, sizeof(*lg.rtt_ns));
    if (cry_init() < 0 || !lg.seen || !lg.rtt_ns || open_test_socket(&lg, &port) < 0) {
        return 1;
    }
    cry_random(&lg.ssid, sizeof(lg.ssid));
    lg.dst = lg.ctl_addr;
    if (lg.mode == LG_TWAMP && twamp_begin(&lg, &b, port) < 0) {
        twamp_end(&b);
        return 1;
    }
    uint16_t refl_port = ntohs(lg.dst.sin_port);
    unsigned long refl0 = udp_drops(refl_port), own0 = udp_drops(port);
    run(&lg);
    unsigned long refl1 = udp_drops(refl_port), own1 = udp_drops(port);
    if (lg.mode == LG_TWAMP) {
        twamp_end(&b);
    }
    report(&lg, refl1 - refl0, own1 - own0);
    close(lg.fd);
    free(lg.seen);
    free(lg.rtt_ns);
    return 0;
}
