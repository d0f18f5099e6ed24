/* sock.h - UDP test sockets: timestamping set-up (NIC hardware, kernel software, user clock,
 * best first, with automatic fallback), the one control-message (cmsg) parser, TX timestamps
 * from the error queue, batched receive/send, DSCP/ECN and TTL, and send pacing.
 *
 * Hardware timestamps are in the NIC's PTP hardware clock (PHC) timescale. They are only
 * comparable with CLOCK_REALTIME when phc2sys keeps the two together (system clock disciplined
 * to the PHC, or the PHC to the system clock, with the UTC/TAI offset handled by phc2sys);
 * sock_hw_phc_offset() measures what is left so it can be reported. */
#ifndef LP_SOCK_H
#define LP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <linux/ethtool.h>
#include <linux/net_tstamp.h>

#include "clock.h"

/* A socket address with its length (IPv4 or IPv6). */
struct sock_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Numeric IPv4 or IPv6 literal (IPv6 may carry %scope) and a port into out.
 * 0 or LP_E_SYNTAX. */
int sock_addr_parse(const char *text, uint16_t port, struct sock_addr *out);

/* The port of an IPv4/IPv6 address (host order); 0 for other families. */
uint16_t sock_addr_port(const struct sock_addr *a);

/* Set the port of an IPv4 or IPv6 address (others are left alone). */
void sock_addr_set_port(struct sock_addr *a, uint16_t port);

/* Flags for sock_open_udp() and the timestamp set-up. */
enum {
    SOCK_F_TX_TSTAMP = 1u << 0, /* loop TX timestamps to the error queue; the owner MUST drain
                                 * it with sock_read_tx_timestamps() (it is charged to the
                                 * receive buffer and keeps the fd reporting LOOP_ERR) */
    SOCK_F_BLOCKING = 1u << 1,  /* leave the socket blocking (default O_NONBLOCK, for the loop) */
};

/* What timestamping a socket ended up with. */
struct sock_tstamp {
    enum clk_source rx; /* best receive source enabled (per packet it may still fall back) */
    enum clk_source tx; /* TX timestamps on the error queue; CLK_SRC_NONE when not asked/none */
    int phc_index;      /* /dev/ptpN of the NIC when hardware is on, else -1 */
    char note[192];     /* why something fell back ("" when all went as asked); the caller
                         * logs it once */
};

/* Receive and send buffer size asked for on test sockets. */
#define SOCK_BUF_BYTES (4 << 20)

/* An open UDP test socket. */
struct sock_udp {
    int fd;
    int family;    /* AF_INET or AF_INET6 (IPv6 sockets are v6-only) */
    uint16_t port; /* bound local port */
    struct sock_tstamp ts;
};

/* Open a UDP socket of family (AF_INET/AF_INET6; taken from bind_addr when given; NULL binds
 * the wildcard), bound to the first free port in port_lo..port_hi (0..0: kernel's choice),
 * with TTL/hop limit 255 on send, TTL/TOS/destination reported on receive, SOCK_BUF_BYTES
 * of socket buffer each way (best effort), and the best
 * software timestamping (SO_TIMESTAMPING, else SO_TIMESTAMPNS, else user clock). The port
 * of bind_addr is ignored. 0; LP_E_VALUE; LP_E_IO (errno kept, EADDRINUSE when the range is
 * full). */
int sock_open_udp(int family, const struct sock_addr *bind_addr, uint16_t port_lo, uint16_t port_hi,
                  unsigned flags, struct sock_udp *out);

/* Close the socket (fd becomes -1). */
void sock_close_udp(struct sock_udp *s);

/* Enable timestamping on fd: SO_TIMESTAMPING (software RX; software TX with OPT_ID and
 * OPT_TSONLY when SOCK_F_TX_TSTAMP) plus hw_sof (SOF_TIMESTAMPING_* hardware bits, 0 for
 * none), else SO_TIMESTAMPNS, else nothing (user clock). Cannot fail: the outcome and the
 * reason for any fallback go to *out (rx/tx say KERNEL, USER or NONE; sock_hw_enable()
 * raises them to HARDWARE). Returns the SO_TIMESTAMPING flags in force (0 after a
 * fallback to SO_TIMESTAMPNS or the user clock). */
unsigned sock_tstamp_enable(int fd, unsigned flags, unsigned hw_sof, struct sock_tstamp *out);

/* Set the TOS / Traffic Class octet (DSCP << 2 | ECN) of outgoing packets. 0 or LP_E_IO. */
int sock_set_tos(int fd, int family, uint8_t tos);

/* ---- receive side: the one cmsg parser ---- */

/* What the kernel told us about one received packet. */
struct sock_rxinfo {
    struct clk_time ts;    /* receive time: CLOCK_REALTIME, or PHC time for HARDWARE */
    enum clk_source src;   /* HARDWARE (SCM_TIMESTAMPING ts[2]), KERNEL (ts[0] or
                            * SO_TIMESTAMPNS), USER (read after recvmmsg) or NONE */
    struct clk_time sw_ts; /* the kernel software time as well, when given (else 0) */
    int ttl;               /* IPv4 TTL / IPv6 hop limit, -1 if not reported */
    int tos;               /* IPv4 TOS / IPv6 Traffic Class octet, -1 if not reported */
    struct sock_addr dst;  /* local destination address (port 0); len 0 if not reported */
    int ifindex;           /* receiving interface, 0 if not reported */
};

/* Parse every cmsg of a received message into *info (fields not present are reset to
 * their "absent" values). Truncated or unknown cmsgs are skipped; never reads outside
 * msg_control..msg_controllen. ts[2] is only ever filled when hardware reporting was enabled
 * on the socket (sock_hw_enable), so a non-zero ts[2] is taken as the hardware time. */
void sock_parse_cmsgs(const struct msghdr *msg, struct sock_rxinfo *info);

/* One TX timestamp from the error queue. */
struct sock_txts {
    uint32_t id;         /* SOF_TIMESTAMPING_OPT_ID: the socket's count of datagrams sent
                          * before this one (0 for the first since enabling; wraps) */
    struct clk_time ts;  /* when the packet left (driver or NIC) */
    enum clk_source src; /* HARDWARE or KERNEL */
};

/* Parse an error-queue message; true when it is a send timestamp (SCM_TSTAMP_SND). */
bool sock_parse_tx_cmsgs(const struct msghdr *msg, struct sock_txts *out);

typedef void (*sock_txts_cb)(void *arg, const struct sock_txts *ts);

/* Drain fd's error queue (never blocks) with recvmmsg(MSG_ERRQUEUE), SOCK_BATCH_MAX entries
 * a call, calling cb for each TX timestamp in queue order; other queued errors are dropped.
 * Returns the number of timestamps delivered, or LP_E_IO. */
int sock_read_tx_timestamps(int fd, sock_txts_cb cb, void *arg);

/* ---- batched I/O ---- */

#define SOCK_BATCH_MAX 64
#define SOCK_CMSG_SPACE 512

/* One receive slot: the caller sets data/cap; sock_recv_batch() fills the rest. */
struct sock_rxbuf {
    uint8_t *data;
    size_t cap;
    size_t len;            /* datagram length received (at most cap) */
    bool truncated;        /* the datagram was longer than cap */
    struct sock_addr peer; /* sender address */
    struct sock_rxinfo info;
    union {
        size_t align; /* cmsg buffers need size_t alignment (CMSG_ALIGN) */
        uint8_t buf[SOCK_CMSG_SPACE];
    } ctl; /* ancillary data space of this slot (internal) */
};

/* Receive up to n (at most SOCK_BATCH_MAX) datagrams with one recvmmsg(); waits only for the
 * first on a blocking socket. Packets the kernel did not stamp get the user clock read right
 * after recvmmsg() returned (CLK_SRC_USER). That also happens for a few milliseconds after
 * the first timestamping socket of the system opens: Linux switches receive stamping on
 * asynchronously. Returns the count (0 when none is queued on a non-blocking socket) or
 * LP_E_IO. */
int sock_recv_batch(int fd, struct sock_rxbuf *bufs, unsigned n);

/* One datagram to send. */
struct sock_txbuf {
    const uint8_t *data;
    size_t len;
    const struct sock_addr *dst; /* NULL on a connected socket */
    int tos;                     /* TOS/Traffic Class for this packet, -1 for the socket's */
};

/* Send up to n (at most SOCK_BATCH_MAX) datagrams with one sendmmsg(). Returns how many were
 * sent (0 when the socket buffer is full), or LP_E_IO. */
int sock_send_batch(int fd, const struct sock_txbuf *bufs, unsigned n);

/* Walk the kernel's send path for b without sending it (MSG_PROBE): after a sender has
 * been idle its route, socket and protocol code are cold, and the next send leaves later
 * and less steadily after its timestamp was read (on the 2-core VM, clock read to kernel
 * TX timestamp, bench/send_floor: p99 9-13 us without, 7-8 us with). Nothing is sent, and
 * the socket's count of datagrams for TX timestamps (OPT_ID) does not move. 0 or LP_E_IO. */
int sock_warm(int fd, const struct sock_txbuf *b);

/* Send one datagram. 0, or LP_E_IO (errno kept; EAGAIN when the buffer is full). */
int sock_send_to(int fd, const void *data, size_t len, const struct sock_addr *dst);

/* ---- pacing for senders ---- */

#define SOCK_PACER_SPIN_NS 50000 /* default busy-wait before a deadline */

struct sock_pacer {
    int64_t spin_ns;
};

/* Prepare pacing in the calling thread: timer slack 1 ns (prctl PR_SET_TIMERSLACK) and the
 * spin margin (spin_ns <= 0: SOCK_PACER_SPIN_NS). */
void sock_pacer_init(struct sock_pacer *p, int64_t spin_ns);

/* Sleep with clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME) until spin_ns before deadline,
 * then spin on the clock. Returns the first clock reading at or after the deadline (the
 * current time at once if the deadline has passed). */
struct clk_time sock_pacer_sleep_until(const struct sock_pacer *p, struct clk_time deadline);

/* ---- hardware timestamps (sock_hw.c) ---- */

/* What a NIC can do, from ETHTOOL_GET_TS_INFO. */
struct sock_hw_caps {
    uint32_t so_timestamping; /* SOF_TIMESTAMPING_* the driver supports */
    int phc_index;            /* /dev/ptpN, -1 when the NIC has no PHC */
    uint32_t tx_types;        /* bit (1 << HWTSTAMP_TX_*) per supported TX mode */
    uint32_t rx_filters;      /* bit (1 << HWTSTAMP_FILTER_*) per supported RX filter */
};

/* The kernel calls sock_hw uses, behind pointers so tests can feed fake answers. Each
 * returns 0 or -errno. ops == NULL everywhere means the real ioctls. */
struct sock_hw_ops {
    int (*get_ts_info)(void *ctx, const char *ifname, struct ethtool_ts_info *info);
    int (*hwtstamp)(void *ctx, const char *ifname, bool set, struct hwtstamp_config *cfg);
    void *ctx;
};

/* Query ifname's timestamping abilities (SIOCETHTOOL / ETHTOOL_GET_TS_INFO).
 * 0, LP_E_VALUE (bad name) or LP_E_IO (errno kept). */
int sock_hw_probe(const struct sock_hw_ops *ops, const char *ifname, struct sock_hw_caps *caps);

/* A hardware configuration decided from the caps and the device's current config. */
struct sock_hw_plan {
    struct hwtstamp_config cfg; /* what to ask SIOCSHWTSTAMP for */
    enum clk_source rx;         /* HARDWARE when the filter stamps every packet, else KERNEL */
    enum clk_source tx;         /* HARDWARE when TX stamping can be on, else KERNEL */
};

/* Choose TX_ON if supported and RX filter ALL if supported; otherwise keep a PTP filter
 * already set (ptp4l may rely on it) or pick a PTP one, so TX can still be hardware while
 * RX falls back to kernel software stamps. Pure function. false when no hardware helps. */
bool sock_hw_choose(const struct sock_hw_caps *caps, const struct hwtstamp_config *current,
                    struct sock_hw_plan *plan);

/* Enable NIC timestamps for fd on ifname (needs CAP_NET_ADMIN: call before dropping
 * privileges): probe, SIOCSHWTSTAMP per sock_hw_choose(), then SO_TIMESTAMPING with
 * RX/TX/RAW_HARDWARE on top of the software bits. Any failure falls back to kernel software
 * (then user clock) timestamps, explained in out->note. Always leaves fd usable. */
void sock_hw_enable(int fd, const char *ifname, unsigned flags, const struct sock_hw_ops *ops,
                    struct sock_tstamp *out);

/* The interface holding address local (port ignored), and whether it is a loopback one.
 * 0, LP_E_NOTFOUND or LP_E_IO. */
int sock_hw_ifname_for(const struct sock_addr *local, char *ifname, size_t len, bool *loopback);

/* Best timestamps for a test socket bound to local (flags: SOCK_F_TX_TSTAMP for a socket
 * that sends): NIC hardware through sock_hw_enable on dev, the device the socket is bound
 * to, or (dev NULL) on the interface holding local, the one of the route to the peer (an
 * unprivileged process gets them when the NIC is already set up, e.g. by ptp4l, or when it
 * holds CAP_NET_ADMIN); else kernel software stamps. s->ts says which, with the reason in
 * s->ts.note. Loopback stays software. ops as for sock_hw_enable (NULL: the kernel). Used
 * by the daemons and the clients alike. */
void sock_hw_auto(struct sock_udp *s, const struct sock_addr *local, const char *dev,
                  unsigned flags, const struct sock_hw_ops *ops);

/* Measure PHC minus CLOCK_REALTIME for /dev/ptp<phc_index> with PTP_SYS_OFFSET (for
 * reporting how well phc2sys keeps them together). 0 or LP_E_IO. */
int sock_hw_phc_offset(int phc_index, int64_t *offset_ns, int64_t *delay_ns);

/* From PTP_SYS_OFFSET samples laid out sys0, phc0, sys1, phc1, ..., sys_n (2n+1 times in
 * ns), take the sample with the shortest sys bracket: offset = phc - bracket midpoint.
 * 0, or LP_E_VALUE when n is 0 or no bracket is non-negative. */
int sock_hw_offset_from_samples(const int64_t *ts, unsigned n, int64_t *offset_ns,
                                int64_t *delay_ns);

#endif
