/* test_sock.c - the cmsg parser on synthetic buffers, the hardware probe/fallback decision
 * driven by fake ETHTOOL/SIOCSHWTSTAMP answers, and real loopback traffic (127.0.0.1, ::1):
 * kernel RX stamps, TTL 255, TOS/DSCP/ECN, TX stamps with OPT_ID, batched receive, pacing.
 * This machine has no PHC: hardware paths are covered with fakes only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/errqueue.h>

#include "clock.h"
#include "common.h"
#include "sock.h"

#define MS 1000000LL
#define SEC 1000000000LL

/* ---- synthetic cmsg buffers ---- */

struct cbuf {
    union {
        size_t align; /* the alignment CMSG_ALIGN assumes */
        uint8_t b[1024];
    } u;
    size_t len;
};

/* Append one well-formed cmsg, laid out with the libc CMSG_* macros. */
static void cadd(struct cbuf *c, int level, int type, const void *data, size_t len)
{
    struct cmsghdr *h = (struct cmsghdr *)(c->u.b + c->len);
    h->cmsg_level = level;
    h->cmsg_type = type;
    h->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(h), data, len);
    c->len += CMSG_SPACE(len);
}

static struct msghdr cmsg_msg(struct cbuf *c)
{
    return (struct msghdr){.msg_control = c->u.b, .msg_controllen = c->len};
}

static void parse(struct cbuf *c, struct sock_rxinfo *ri)
{
    struct msghdr m = cmsg_msg(c);
    sock_parse_cmsgs(&m, ri);
}

static bool parse_tx(struct cbuf *c, struct sock_txts *tx)
{
    struct msghdr m = cmsg_msg(c);
    return sock_parse_tx_cmsgs(&m, tx);
}

static void cadd_int(struct cbuf *c, int level, int type, int v)
{
    cadd(c, level, type, &v, sizeof(v));
}

static void cadd_tstamping(struct cbuf *c, struct timespec sw, struct timespec hw)
{
    struct scm_timestamping t;
    memset(&t, 0, sizeof(t));
    t.ts[0] = sw;
    t.ts[2] = hw;
    cadd(c, SOL_SOCKET, SO_TIMESTAMPING, &t, sizeof(t));
}

static const struct timespec NO_TS = {0, 0};
static const struct timespec SW = {1700000000, 123456789};
static const struct timespec HW = {1700000000, 123400000};
static const int64_t SW_NS = 1700000000123456789LL;
static const int64_t HW_NS = 1700000000123400000LL;

static void test_parse_software_timestamp(void **state)
{
    (void)state;
    struct cbuf c = {0};
    cadd_tstamping(&c, SW, NO_TS);
    struct sock_rxinfo ri;
    parse(&c, &ri);
    assert_int_equal(ri.src, CLK_SRC_KERNEL);
    assert_int_equal(ri.ts.ns, SW_NS);
    assert_int_equal(ri.sw_ts.ns, SW_NS);
    assert_int_equal(ri.ttl, -1);
    assert_int_equal(ri.tos, -1);
    assert_int_equal(ri.dst.len, 0);
    assert_int_equal(ri.ifindex, 0);
}

static void test_parse_hardware_timestamp(void **state)
{
    (void)state;
    struct cbuf c = {0};
    cadd_tstamping(&c, SW, HW);
    struct sock_rxinfo ri;
    parse(&c, &ri);
    assert_int_equal(ri.src, CLK_SRC_HARDWARE);
    assert_int_equal(ri.ts.ns, HW_NS);
    assert_int_equal(ri.sw_ts.ns, SW_NS);

    /* Hardware only (no RX_SOFTWARE). */
    struct cbuf c2 = {0};
    cadd_tstamping(&c2, NO_TS, HW);
    parse(&c2, &ri);
    assert_int_equal(ri.src, CLK_SRC_HARDWARE);
    assert_int_equal(ri.ts.ns, HW_NS);
    assert_int_equal(ri.sw_ts.ns, 0);
}

static void test_parse_timestamping_new(void **state)
{
    (void)state;
    struct scm_timestamping64 t;
    memset(&t, 0, sizeof(t));
    t.ts[0].tv_sec = SW.tv_sec;
    t.ts[0].tv_nsec = SW.tv_nsec;
    struct cbuf c = {0};
    cadd(&c, SOL_SOCKET, SO_TIMESTAMPING_NEW, &t, sizeof(t));
    struct sock_rxinfo ri;
    parse(&c, &ri);
    assert_int_equal(ri.src, CLK_SRC_KERNEL);
    assert_int_equal(ri.ts.ns, SW_NS);
}

static void test_parse_timestampns(void **state)
{
    (void)state;
    struct cbuf c = {0};
    cadd(&c, SOL_SOCKET, SCM_TIMESTAMPNS, &SW, sizeof(SW));
    struct sock_rxinfo ri;
    parse(&c, &ri);
    assert_int_equal(ri.src, CLK_SRC_KERNEL);
    assert_int_equal(ri.ts.ns, SW_NS);
}

static void test_parse_ipv4_info(void **state)
{
    (void)state;
    struct cbuf c = {0};
    cadd_int(&c, IPPROTO_IP, IP_TTL, 64);
    uint8_t tos = 0xb9; /* DSCP EF (46) and ECN ECT(1): the kernel sends one octet */
    cadd(&c, IPPROTO_IP, IP_TOS, &tos, 1);
    struct in_pktinfo pi = {.ipi_ifindex = 3};
    inet_pton(AF_INET, "192.0.2.7", &pi.ipi_addr);
    inet_pton(AF_INET, "192.0.2.99", &pi.ipi_spec_dst);
    cadd(&c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
    struct sock_rxinfo ri;
    parse(&c, &ri);
    assert_int_equal(ri.ttl, 64);
    assert_int_equal(ri.tos, 0xb9);
    assert_int_equal(ri.tos >> 2, 46);
    assert_int_equal(ri.ifindex, 3);
    assert_int_equal(ri.dst.ss.ss_family, AF_INET);
    assert_int_equal(ri.dst.len, sizeof(struct sockaddr_in));
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ri.dst.ss)->sin_addr, text, sizeof(text));
    assert_string_equal(text, "192.0.2.7"); /* the header destination, not spec_dst */
    assert_int_equal(ri.src, CLK_SRC_NONE);
}

static void test_parse_ipv6_info(void **state)
{
    (void)state;
    struct cbuf c = {0};
    cadd_int(&c, IPPROTO_IPV6, IPV6_HOPLIMIT, 255);
    cadd_int(&c, IPPROTO_IPV6, IPV6_TCLASS, 0x2a); /* DSCP AF11 (10), ECT(0) */
    struct in6_pktinfo pi = {.ipi6_ifindex = 5};
    inet_pton(AF_INET6, "2001:db8::1", &pi.ipi6_addr);
    cadd(&c, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
    cadd_tstamping(&c, SW, NO_TS);
    struct sock_rxinfo ri;
    parse(&c, &ri);
    assert_int_equal(ri.ttl, 255);
    assert_int_equal(ri.tos, 0x2a);
    assert_int_equal(ri.ifindex, 5);
    assert_int_equal(ri.dst.ss.ss_family, AF_INET6);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ri.dst.ss)->sin6_addr, text, sizeof(text));
    assert_string_equal(text, "2001:db8::1");
    assert_int_equal(ri.src, CLK_SRC_KERNEL);
}

static void test_parse_garbage_is_ignored(void **state)
{
    (void)state;
    struct sock_rxinfo ri;
    struct msghdr m;

    /* No control data at all, and a NULL pointer with a length. */
    m = (struct msghdr){0};
    sock_parse_cmsgs(&m, &ri);
    assert_int_equal(ri.src, CLK_SRC_NONE);
    assert_int_equal(ri.ttl, -1);
    m = (struct msghdr){.msg_control = NULL, .msg_controllen = 100};
    sock_parse_cmsgs(&m, &ri);
    assert_int_equal(ri.src, CLK_SRC_NONE);

    /* A valid TTL, then a header claiming more than the buffer holds: TTL kept, rest dropped. */
    struct cbuf c = {0};
    cadd_int(&c, IPPROTO_IP, IP_TTL, 17);
    struct cmsghdr *h = (struct cmsghdr *)(c.u.b + c.len);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SO_TIMESTAMPING;
    h->cmsg_len = 4096;
    c.len += sizeof(*h) + 8;
    parse(&c, &ri);
    assert_int_equal(ri.ttl, 17);
    assert_int_equal(ri.src, CLK_SRC_NONE);

    /* A complete timestamp whose header claims 8 bytes more than the control length. */
    struct cbuf o = {0};
    cadd_tstamping(&o, SW, NO_TS);
    ((struct cmsghdr *)o.u.b)->cmsg_len += 8;
    m = cmsg_msg(&o);
    m.msg_controllen = CMSG_LEN(sizeof(struct scm_timestamping));
    sock_parse_cmsgs(&m, &ri);
    assert_int_equal(ri.src, CLK_SRC_NONE);

    /* cmsg_len of zero must not loop forever. */
    struct cbuf z = {0};
    z.len = 64;
    parse(&z, &ri);
    assert_int_equal(ri.ttl, -1);

    /* Control length shorter than one header. */
    struct cbuf s = {0};
    cadd_int(&s, IPPROTO_IP, IP_TTL, 9);
    m = cmsg_msg(&s);
    m.msg_controllen = 4;
    sock_parse_cmsgs(&m, &ri);
    assert_int_equal(ri.ttl, -1);

    /* Short payloads, out-of-range values, unknown cmsgs; then a good TOS is still read. */
    struct cbuf g = {0};
    uint8_t short_ts[16] = {1};
    cadd(&g, SOL_SOCKET, SO_TIMESTAMPING, short_ts, sizeof(short_ts));
    cadd(&g, SOL_SOCKET, SCM_TIMESTAMPNS, short_ts, 4);
    cadd_int(&g, IPPROTO_IP, IP_TTL, 300);
    uint8_t two[2] = {1, 2};
    cadd(&g, IPPROTO_IP, IP_PKTINFO, two, sizeof(two));
    cadd(&g, IPPROTO_IPV6, IPV6_PKTINFO, two, sizeof(two));
    cadd(&g, IPPROTO_IPV6, IPV6_HOPLIMIT, two, sizeof(two));
    cadd_int(&g, 12345, 678, 42);
    uint8_t tos = 0x04;
    cadd(&g, IPPROTO_IP, IP_TOS, &tos, 1);
    parse(&g, &ri);
    assert_int_equal(ri.src, CLK_SRC_NONE);
    assert_int_equal(ri.ttl, -1);
    assert_int_equal(ri.dst.len, 0);
    assert_int_equal(ri.ifindex, 0);
    assert_int_equal(ri.tos, 0x04);
}

/* ---- TX (error queue) messages ---- */

static void cadd_ee(struct cbuf *c, int level, int type, uint32_t err, uint8_t origin,
                    uint32_t info, uint32_t data)
{
    struct sock_extended_err ee = {
        .ee_errno = err, .ee_origin = origin, .ee_info = info, .ee_data = data};
    cadd(c, level, type, &ee, sizeof(ee));
}

static void test_parse_tx_timestamps(void **state)
{
    (void)state;
    struct sock_txts tx;

    struct cbuf c = {0};
    cadd_tstamping(&c, SW, NO_TS);
    cadd_ee(&c, IPPROTO_IP, IP_RECVERR, ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND, 7);
    assert_true(parse_tx(&c, &tx));
    assert_int_equal(tx.id, 7);
    assert_int_equal(tx.ts.ns, SW_NS);
    assert_int_equal(tx.src, CLK_SRC_KERNEL);

    struct cbuf h = {0};
    cadd_ee(&h, IPPROTO_IPV6, IPV6_RECVERR, ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND,
            0xffffffffu);
    cadd_tstamping(&h, NO_TS, HW);
    assert_true(parse_tx(&h, &tx));
    assert_int_equal(tx.id, 0xffffffffu);
    assert_int_equal(tx.ts.ns, HW_NS);
    assert_int_equal(tx.src, CLK_SRC_HARDWARE);

    /* Not send timestamps: an ICMP error, a SCHED stamp, a stamp without its error record,
     * an error record without a stamp. */
    struct cbuf i = {0};
    cadd_ee(&i, IPPROTO_IP, IP_RECVERR, ECONNREFUSED, SO_EE_ORIGIN_ICMP, 0, 0);
    cadd_tstamping(&i, SW, NO_TS);
    assert_false(parse_tx(&i, &tx));
    struct cbuf s = {0};
    cadd_ee(&s, IPPROTO_IP, IP_RECVERR, ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SCHED, 1);
    cadd_tstamping(&s, SW, NO_TS);
    assert_false(parse_tx(&s, &tx));
    struct cbuf n = {0};
    cadd_tstamping(&n, SW, NO_TS);
    assert_false(parse_tx(&n, &tx));
    struct cbuf e = {0};
    cadd_ee(&e, IPPROTO_IP, IP_RECVERR, ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND, 1);
    assert_false(parse_tx(&e, &tx));
}

/* ---- hardware: fake ETHTOOL and SIOC[GS]HWTSTAMP answers ---- */

struct fake_nic {
    int ethtool_err; /* -errno or 0 */
    struct ethtool_ts_info info;
    struct hwtstamp_config current;
    int set_err;
    int set_calls;
    struct hwtstamp_config asked;
    bool downgrade; /* the driver applies less than asked */
};

static int fake_ts_info(void *ctx, const char *ifname, struct ethtool_ts_info *info)
{
    struct fake_nic *f = ctx;
    assert_string_equal(ifname, "fake0");
    assert_int_equal(info->cmd, ETHTOOL_GET_TS_INFO);
    if (f->ethtool_err != 0) {
        return f->ethtool_err;
    }
    *info = f->info;
    return 0;
}

static int fake_hwtstamp(void *ctx, const char *ifname, bool set, struct hwtstamp_config *cfg)
{
    struct fake_nic *f = ctx;
    (void)ifname;
    if (!set) {
        *cfg = f->current;
        return 0;
    }
    f->set_calls++;
    f->asked = *cfg;
    if (f->set_err != 0) {
        return f->set_err;
    }
    if (f->downgrade) {
        cfg->tx_type = HWTSTAMP_TX_OFF;
        cfg->rx_filter = HWTSTAMP_FILTER_NONE;
    }
    f->current = *cfg;
    return 0;
}

#define SOF_SW                                                                                     \
    (SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE)
#define SOF_HW                                                                                     \
    (SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE)

/* A NIC like those with a PHC at /dev/ptp2 that can stamp every packet. */
static struct fake_nic full_nic(void)
{
    struct fake_nic f = {0};
    f.info.so_timestamping = SOF_SW | SOF_HW;
    f.info.phc_index = 2;
    f.info.tx_types = 1u << HWTSTAMP_TX_OFF | 1u << HWTSTAMP_TX_ON;
    f.info.rx_filters = 1u << HWTSTAMP_FILTER_NONE | 1u << HWTSTAMP_FILTER_ALL;
    return f;
}

static struct sock_hw_ops fake_ops(struct fake_nic *f)
{
    return (struct sock_hw_ops){.get_ts_info = fake_ts_info, .hwtstamp = fake_hwtstamp, .ctx = f};
}

static void test_hw_probe_fake(void **state)
{
    (void)state;
    struct fake_nic f = full_nic();
    struct sock_hw_ops ops = fake_ops(&f);
    struct sock_hw_caps caps;
    assert_int_equal(sock_hw_probe(&ops, "fake0", &caps), 0);
    assert_int_equal(caps.so_timestamping, SOF_SW | SOF_HW);
    assert_int_equal(caps.phc_index, 2);
    assert_int_equal(caps.rx_filters, f.info.rx_filters);
    assert_int_equal(caps.tx_types, f.info.tx_types);

    f.ethtool_err = -EOPNOTSUPP;
    assert_int_equal(sock_hw_probe(&ops, "fake0", &caps), LP_E_IO);
    assert_int_equal(errno, EOPNOTSUPP);
    assert_int_equal(sock_hw_probe(&ops, "an-interface-name-too-long", &caps), LP_E_VALUE);
    assert_int_equal(sock_hw_probe(&ops, "", &caps), LP_E_VALUE);
}

static void test_hw_choose(void **state)
{
    (void)state;
    struct fake_nic f = full_nic();
    struct sock_hw_caps caps = {f.info.so_timestamping, f.info.phc_index, f.info.tx_types,
                                f.info.rx_filters};
    struct hwtstamp_config off = {0};
    struct sock_hw_plan p;

    assert_true(sock_hw_choose(&caps, &off, &p));
    assert_int_equal(p.cfg.tx_type, HWTSTAMP_TX_ON);
    assert_int_equal(p.cfg.rx_filter, HWTSTAMP_FILTER_ALL);
    assert_int_equal(p.rx, CLK_SRC_HARDWARE);
    assert_int_equal(p.tx, CLK_SRC_HARDWARE);

    /* PTP-only RX filters: TX stays hardware, RX falls back to kernel stamps. */
    caps.rx_filters = 1u << HWTSTAMP_FILTER_NONE | 1u << HWTSTAMP_FILTER_PTP_V2_EVENT;
    assert_true(sock_hw_choose(&caps, &off, &p));
    assert_int_equal(p.cfg.rx_filter, HWTSTAMP_FILTER_PTP_V2_EVENT);
    assert_int_equal(p.rx, CLK_SRC_KERNEL);
    assert_int_equal(p.tx, CLK_SRC_HARDWARE);

    /* A filter and a one-step mode that ptp4l set are kept. */
    struct hwtstamp_config ptp4l = {0, HWTSTAMP_TX_ONESTEP_SYNC, HWTSTAMP_FILTER_PTP_V2_L2_EVENT};
    assert_true(sock_hw_choose(&caps, &ptp4l, &p));
    assert_int_equal(p.cfg.tx_type, HWTSTAMP_TX_ONESTEP_SYNC);
    assert_int_equal(p.cfg.rx_filter, HWTSTAMP_FILTER_PTP_V2_L2_EVENT);

    /* Software-only (like loopback) and hardware without a PHC: nothing to gain. */
    struct sock_hw_caps sw = {SOF_SW, -1, 0, 0};
    assert_false(sock_hw_choose(&sw, &off, &p));
    caps.phc_index = -1;
    assert_false(sock_hw_choose(&caps, &off, &p));
}

static int so_timestamping_flags(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &v, &len), 0);
    return v;
}

static void open_lo4(struct sock_udp *s, unsigned flags)
{
    struct sock_addr a;
    assert_int_equal(sock_addr_parse("127.0.0.1", 0, &a), 0);
    assert_int_equal(sock_open_udp(AF_INET, &a, 0, 0, flags, s), 0);
}

static void test_hw_enable_fake_success(void **state)
{
    (void)state;
    struct fake_nic f = full_nic();
    struct sock_hw_ops ops = fake_ops(&f);
    struct sock_udp s;
    open_lo4(&s, SOCK_F_TX_TSTAMP);
    sock_hw_enable(s.fd, "fake0", SOCK_F_TX_TSTAMP, &ops, &s.ts);
    assert_int_equal(f.set_calls, 1);
    assert_int_equal(f.asked.tx_type, HWTSTAMP_TX_ON);
    assert_int_equal(f.asked.rx_filter, HWTSTAMP_FILTER_ALL);
    assert_int_equal(s.ts.rx, CLK_SRC_HARDWARE);
    assert_int_equal(s.ts.tx, CLK_SRC_HARDWARE);
    assert_int_equal(s.ts.phc_index, 2);
    assert_string_equal(s.ts.note, "");
    int fl = so_timestamping_flags(s.fd);
    assert_int_equal(fl & (int)SOF_HW, (int)SOF_HW);
    assert_true(fl & SOF_TIMESTAMPING_RX_SOFTWARE); /* per-packet fallback stays possible */

    /* Already configured by someone else: no second SIOCSHWTSTAMP. */
    sock_hw_enable(s.fd, "fake0", SOCK_F_TX_TSTAMP, &ops, &s.ts);
    assert_int_equal(f.set_calls, 1);
    assert_int_equal(s.ts.rx, CLK_SRC_HARDWARE);
    sock_close_udp(&s);
    assert_int_equal(s.fd, -1);
}

static void test_hw_enable_fake_fallbacks(void **state)
{
    (void)state;
    struct sock_udp s;
    open_lo4(&s, SOCK_F_TX_TSTAMP);

    struct fake_nic f = full_nic();
    struct sock_hw_ops ops = fake_ops(&f);
    f.set_err = -EPERM; /* no CAP_NET_ADMIN */
    sock_hw_enable(s.fd, "fake0", SOCK_F_TX_TSTAMP, &ops, &s.ts);
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_int_equal(s.ts.tx, CLK_SRC_KERNEL);
    assert_int_equal(s.ts.phc_index, -1);
    assert_non_null(strstr(s.ts.note, "SIOCSHWTSTAMP"));
    assert_int_equal(so_timestamping_flags(s.fd) & (int)SOF_HW, 0);

    f = full_nic();
    f.ethtool_err = -EOPNOTSUPP;
    sock_hw_enable(s.fd, "fake0", SOCK_F_TX_TSTAMP, &ops, &s.ts);
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_non_null(strstr(s.ts.note, "ETHTOOL"));
    assert_int_equal(f.set_calls, 0);

    f = full_nic();
    f.downgrade = true;
    sock_hw_enable(s.fd, "fake0", SOCK_F_TX_TSTAMP, &ops, &s.ts);
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_non_null(strstr(s.ts.note, "driver applied"));

    f = full_nic();
    f.info.phc_index = -1;
    sock_hw_enable(s.fd, "fake0", SOCK_F_TX_TSTAMP, &ops, &s.ts);
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_int_equal(f.set_calls, 0);
    assert_non_null(strstr(s.ts.note, "no PHC"));

    /* PTP-only filters: hardware TX, kernel RX, and a note saying so. */
    f = full_nic();
    f.info.rx_filters = 1u << HWTSTAMP_FILTER_PTP_V2_EVENT;
    sock_hw_enable(s.fd, "fake0", SOCK_F_TX_TSTAMP, &ops, &s.ts);
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_int_equal(s.ts.tx, CLK_SRC_HARDWARE);
    assert_non_null(strstr(s.ts.note, "RX"));
    sock_close_udp(&s);
}

/* The clients' path (owping -B DEV, and the daemons' without a device): sock_hw_auto on a
 * named device probes it as the daemons do; a sending socket gets NIC TX stamps too, a
 * receiving one RX stamps only; a loopback device is left with kernel stamps unprobed. */
static void test_hw_auto_device(void **state)
{
    (void)state;
    struct sock_addr lo4;
    assert_int_equal(sock_addr_parse("127.0.0.1", 0, &lo4), 0);
    struct fake_nic f = full_nic();
    struct sock_hw_ops ops = fake_ops(&f);
    struct sock_udp s;
    open_lo4(&s, SOCK_F_TX_TSTAMP);
    sock_hw_auto(&s, &lo4, "fake0", SOCK_F_TX_TSTAMP, &ops);
    assert_int_equal(s.ts.rx, CLK_SRC_HARDWARE);
    assert_int_equal(s.ts.tx, CLK_SRC_HARDWARE);
    assert_int_equal(s.ts.phc_index, 2);
    assert_int_equal(so_timestamping_flags(s.fd) & (int)SOF_HW, (int)SOF_HW);
    sock_close_udp(&s);

    f = full_nic();
    open_lo4(&s, 0);
    sock_hw_auto(&s, &lo4, "fake0", 0, &ops);
    assert_int_equal(s.ts.rx, CLK_SRC_HARDWARE);
    assert_int_equal(s.ts.tx, CLK_SRC_NONE);
    assert_int_equal(so_timestamping_flags(s.fd) & SOF_TIMESTAMPING_TX_HARDWARE, 0);
    sock_close_udp(&s);

    f = full_nic();
    f.ethtool_err = -EOPNOTSUPP; /* a NIC without timestamping: kernel stamps, said why */
    open_lo4(&s, SOCK_F_TX_TSTAMP);
    sock_hw_auto(&s, &lo4, "fake0", SOCK_F_TX_TSTAMP, &ops);
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_int_equal(s.ts.tx, CLK_SRC_KERNEL);
    assert_non_null(strstr(s.ts.note, "fake0"));
    sock_close_udp(&s);

    f = full_nic();
    open_lo4(&s, SOCK_F_TX_TSTAMP);
    sock_hw_auto(&s, &lo4, "lo", SOCK_F_TX_TSTAMP, &ops); /* fake_ts_info would fail on "lo" */
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_int_equal(s.ts.tx, CLK_SRC_KERNEL);
    assert_string_equal(s.ts.note, "");
    sock_close_udp(&s);
}

/* The real kernel: loopback has no PHC, so the automatic fallback must engage. */
static void test_hw_real_loopback(void **state)
{
    (void)state;
    struct sock_hw_caps caps;
    if (sock_hw_probe(NULL, "lo", &caps) != 0) {
        skip(); /* ETHTOOL_GET_TS_INFO unavailable here */
    }
    assert_int_equal(caps.phc_index, -1);
    assert_int_equal(caps.so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE, 0);
    struct sock_udp s;
    open_lo4(&s, 0);
    sock_hw_enable(s.fd, "lo", 0, NULL, &s.ts);
    assert_int_equal(s.ts.rx, CLK_SRC_KERNEL);
    assert_int_equal(s.ts.tx, CLK_SRC_NONE);
    assert_non_null(strstr(s.ts.note, "lo"));
    sock_close_udp(&s);
}

static void test_phc_offset(void **state)
{
    (void)state;
    /* sys0 phc0 sys1 phc1 sys2: brackets of 100 and 40 ns; the tighter one wins:
     * 1650 - (1100 + 1140) / 2 = 530. */
    const int64_t ts[] = {1000, 1600, 1100, 1650, 1140};
    int64_t off = 0, delay = 0;
    assert_int_equal(sock_hw_offset_from_samples(ts, 2, &off, &delay), 0);
    assert_int_equal(off, 530);
    assert_int_equal(delay, 40);
    const int64_t backwards[] = {2000, 5, 1000};
    assert_int_equal(sock_hw_offset_from_samples(backwards, 1, &off, &delay), LP_E_VALUE);
    assert_int_equal(sock_hw_offset_from_samples(ts, 0, &off, &delay), LP_E_VALUE);
    assert_int_equal(sock_hw_phc_offset(-1, &off, &delay), LP_E_VALUE);
    assert_int_equal(sock_hw_phc_offset(99, &off, &delay), LP_E_IO); /* no /dev/ptp99 */
}

/* ---- addresses and opening ---- */

static void test_addr_parse(void **state)
{
    (void)state;
    struct sock_addr a;
    assert_int_equal(sock_addr_parse("192.0.2.1", 861, &a), 0);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(sock_addr_port(&a), 861);
    assert_int_equal(sock_addr_parse("2001:db8::1", 862, &a), 0);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    assert_int_equal(sock_addr_port(&a), 862);
    assert_int_equal(sock_addr_parse("host.example", 1, &a), LP_E_SYNTAX);
    assert_int_equal(sock_addr_parse("300.1.1.1", 1, &a), LP_E_SYNTAX);
    assert_int_equal(sock_addr_parse(NULL, 1, &a), LP_E_SYNTAX);
}

static void test_open_port_range(void **state)
{
    (void)state;
    struct sock_addr lo;
    assert_int_equal(sock_addr_parse("127.0.0.1", 0, &lo), 0);
    struct sock_udp a, b, c;
    assert_int_equal(sock_open_udp(AF_INET, &lo, 0, 0, 0, &a), 0);
    assert_int_not_equal(a.port, 0);
    assert_int_equal(a.family, AF_INET);
    uint16_t q = a.port;
    /* The only port of the range is taken. */
    errno = 0;
    assert_int_equal(sock_open_udp(AF_INET, &lo, q, q, 0, &b), LP_E_IO);
    assert_int_equal(errno, EADDRINUSE);
    /* The first free one after it is chosen. */
    uint16_t lo_p = q < 65530 ? q : (uint16_t)(q - 5);
    assert_int_equal(sock_open_udp(AF_INET, &lo, lo_p, (uint16_t)(lo_p + 5), 0, &c), 0);
    assert_int_not_equal(c.port, q);
    assert_true(c.port >= lo_p && c.port <= lo_p + 5);
    assert_int_equal(sock_open_udp(AF_UNIX, NULL, 0, 0, 0, &b), LP_E_VALUE);
    assert_int_equal(sock_open_udp(AF_INET, NULL, 10, 9, 0, &b), LP_E_VALUE);
    sock_close_udp(&a);
    sock_close_udp(&c);
}

/* ---- real loopback traffic ---- */

static bool wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, timeout_ms) == 1;
}

struct tx_log {
    struct sock_txts ts[16];
    int n;
};

static void on_txts(void *arg, const struct sock_txts *ts)
{
    struct tx_log *log = arg;
    if (log->n < 16) {
        log->ts[log->n++] = *ts;
    }
}

/* Collect up to want TX stamps within a generous deadline. */
static void collect_tx(int fd, struct tx_log *log, int want)
{
    for (int i = 0; i < 100 && log->n < want; i++) {
        wait_fd(fd, 0, 10); /* POLLERR is reported without asking */
        assert_true(sock_read_tx_timestamps(fd, on_txts, log) >= 0);
    }
}

/* Send n packets rx<-tx with TOS tos; check kernel RX stamps, TTL, TOS, destination, the
 * batch receive, and TX stamps with consecutive OPT_ID counters starting at first_id. */
static void loopback_round(const char *host, int family, uint8_t tos)
{
    struct sock_addr a;
    assert_int_equal(sock_addr_parse(host, 0, &a), 0);
    struct sock_udp rx, tx;
    if (sock_open_udp(family, &a, 0, 0, 0, &rx) != 0) {
        skip(); /* no such loopback address here */
    }
    assert_int_equal(sock_open_udp(family, &a, 0, 0, SOCK_F_TX_TSTAMP, &tx), 0);
    assert_int_equal(rx.ts.rx, CLK_SRC_KERNEL);
    assert_int_equal(tx.ts.tx, CLK_SRC_KERNEL);
    assert_int_equal(sock_set_tos(tx.fd, family, tos), 0);
    struct sock_addr dst;
    assert_int_equal(sock_addr_parse(host, rx.port, &dst), 0);

    enum { N = 3 };
    struct clk_time before = clk_now();
    for (int i = 0; i < N; i++) {
        uint8_t payload[32] = {(uint8_t)i, 0xab};
        assert_int_equal(sock_send_to(tx.fd, payload, sizeof(payload), &dst), 0);
    }
    assert_true(wait_fd(rx.fd, POLLIN, 2000));
    uint8_t data[N + 1][64];
    struct sock_rxbuf bufs[N + 1];
    for (int i = 0; i <= N; i++) {
        bufs[i] = (struct sock_rxbuf){.data = data[i], .cap = sizeof(data[i])};
    }
    int got = 0;
    for (int tries = 0; tries < 100 && got < N; tries++) {
        int r = sock_recv_batch(rx.fd, bufs + got, N + 1 - got);
        assert_true(r >= 0);
        got += r;
        if (got < N) {
            wait_fd(rx.fd, POLLIN, 20);
        }
    }
    struct clk_time after = clk_now();
    assert_int_equal(got, N);
    unsigned lo_index = if_nametoindex("lo");
    for (int i = 0; i < N; i++) {
        const struct sock_rxbuf *b = &bufs[i];
        assert_int_equal(b->len, 32);
        assert_false(b->truncated);
        assert_int_equal(b->data[0], i);
        assert_int_equal(b->data[1], 0xab);
        assert_int_equal(sock_addr_port(&b->peer), tx.port);
        assert_int_equal(b->info.src, CLK_SRC_KERNEL);
        assert_true(b->info.ts.ns >= before.ns && b->info.ts.ns <= after.ns);
        assert_true(after.ns - b->info.ts.ns < 2 * SEC);
        assert_int_equal(b->info.ttl, 255);
        assert_int_equal(b->info.tos, tos);
        assert_int_equal(b->info.dst.ss.ss_family, family);
        assert_int_equal(b->info.ifindex, (int)lo_index);
    }

    struct tx_log log = {0};
    collect_tx(tx.fd, &log, N);
    assert_int_equal(log.n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(log.ts[i].id, (uint32_t)i); /* OPT_ID counts datagrams from 0 */
        assert_int_equal(log.ts[i].src, CLK_SRC_KERNEL);
        assert_true(log.ts[i].ts.ns >= before.ns);
        assert_true(log.ts[i].ts.ns <= bufs[i].info.ts.ns); /* left before it arrived */
    }
    /* The counter continues with later sends. */
    assert_int_equal(sock_send_to(tx.fd, "z", 1, &dst), 0);
    struct tx_log more = {0};
    collect_tx(tx.fd, &more, 1);
    assert_int_equal(more.n, 1);
    assert_int_equal(more.ts[0].id, N);
    assert_int_equal(sock_read_tx_timestamps(tx.fd, on_txts, &more), 0); /* queue empty */
    sock_close_udp(&rx);
    sock_close_udp(&tx);
}

static void test_loopback_ipv4(void **state)
{
    (void)state;
    loopback_round("127.0.0.1", AF_INET, 0xba); /* DSCP EF, ECN ECT(0) */
}

static void test_loopback_ipv6(void **state)
{
    (void)state;
    loopback_round("::1", AF_INET6, 0x29); /* DSCP AF11, ECN ECT(1) */
}

static void test_ipv6_is_v6only(void **state)
{
    (void)state;
    struct sock_udp s;
    assert_int_equal(sock_open_udp(AF_INET6, NULL, 0, 0, 0, &s), 0);
    int v = 0;
    socklen_t len = sizeof(v);
    assert_int_equal(getsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
    assert_int_equal(v, 1);
    int hops = 0;
    len = sizeof(hops);
    assert_int_equal(getsockopt(s.fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, &len), 0);
    assert_int_equal(hops, 255);
    sock_close_udp(&s);
}

/* sendmmsg with per-packet TOS, then all of them read back by one recvmmsg. */
static void test_batch_send_recv_per_packet_tos(void **state)
{
    (void)state;
    struct sock_udp rx, tx;
    open_lo4(&rx, 0);
    open_lo4(&tx, 0);
    struct sock_addr dst;
    assert_int_equal(sock_addr_parse("127.0.0.1", rx.port, &dst), 0);
    const int tos[] = {-1, 0x28, 0x48, -1, 0xb8};
    enum { N = 5 };
    struct sock_txbuf out[N];
    uint8_t payload[N][8];
    for (int i = 0; i < N; i++) {
        memset(payload[i], i, sizeof(payload[i]));
        out[i] = (struct sock_txbuf){payload[i], (size_t)(4 + i), &dst, tos[i]};
    }
    assert_int_equal(sock_send_batch(tx.fd, out, N), N);
    assert_true(wait_fd(rx.fd, POLLIN, 2000));
    usleep(20000); /* let all five reach the queue (loopback delivers at once anyway) */
    uint8_t data[8][16];
    struct sock_rxbuf bufs[8];
    for (int i = 0; i < 8; i++) {
        bufs[i] = (struct sock_rxbuf){.data = data[i], .cap = 6}; /* short on purpose */
    }
    assert_int_equal(sock_recv_batch(rx.fd, bufs, 8), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(bufs[i].info.tos, tos[i] < 0 ? 0 : tos[i]);
        assert_int_equal(bufs[i].len, 4 + i < 6 ? 4 + i : 6);
        assert_int_equal(bufs[i].truncated, 4 + i > 6);
        assert_int_equal(bufs[i].data[0], i);
    }
    assert_int_equal(sock_recv_batch(rx.fd, bufs, 8), 0); /* empty, non-blocking */
    sock_close_udp(&rx);
    sock_close_udp(&tx);
}

/* TX timestamps as the batched error-queue reader hands them over. */
struct tx_seen {
    int n;
    uint32_t next_id; /* the OPT_ID expected next */
    int64_t last_ns;
    bool in_order;
};

static void on_txts_seen(void *arg, const struct sock_txts *ts)
{
    struct tx_seen *t = arg;
    t->in_order =
        t->in_order && ts->id == t->next_id && ts->ts.ns >= t->last_ns && ts->src == CLK_SRC_KERNEL;
    t->next_id = ts->id + 1;
    t->last_ns = ts->ts.ns;
    t->n++;
}

/* Send count datagrams with sendmmsg batches, then read their TX timestamps with a single
 * sock_read_tx_timestamps(): it goes on while recvmmsg fills a whole batch, so it gets all
 * of them, in send order, whether or not count is a multiple of SOCK_BATCH_MAX. */
static void errqueue_round(int count)
{
    struct sock_udp rx, tx;
    open_lo4(&rx, 0);
    open_lo4(&tx, SOCK_F_TX_TSTAMP);
    struct sock_addr dst;
    assert_int_equal(sock_addr_parse("127.0.0.1", rx.port, &dst), 0);
    struct sock_txbuf out[SOCK_BATCH_MAX];
    uint8_t payload[16] = {0x5a};
    for (int i = 0; i < SOCK_BATCH_MAX; i++) {
        out[i] = (struct sock_txbuf){payload, sizeof(payload), &dst, -1};
    }
    for (int sent = 0; sent < count;) {
        int k = count - sent < SOCK_BATCH_MAX ? count - sent : SOCK_BATCH_MAX;
        assert_int_equal(sock_send_batch(tx.fd, out, (unsigned)k), k);
        sent += k;
    }
    assert_true(wait_fd(tx.fd, 0, 2000));
    usleep(20000); /* loopback stamps them inside sendmmsg; leave time all the same */
    struct tx_seen seen = {.in_order = true};
    assert_int_equal(sock_read_tx_timestamps(tx.fd, on_txts_seen, &seen), count);
    assert_int_equal(seen.n, count);
    assert_true(seen.in_order);
    assert_int_equal(seen.next_id, (uint32_t)count); /* OPT_ID 0 .. count - 1 */
    assert_int_equal(sock_read_tx_timestamps(tx.fd, on_txts_seen, &seen), 0); /* drained */
    sock_close_udp(&rx);
    sock_close_udp(&tx);
}

static void test_errqueue_batches(void **state)
{
    (void)state;
    errqueue_round(1);
    errqueue_round(2 * SOCK_BATCH_MAX + 5); /* two full batches and a short one */
    errqueue_round(3 * SOCK_BATCH_MAX);     /* full batches only: ends on an empty read */
}

/* Warming the send path sends nothing and takes no TX timestamp id: after a warm-up before
 * each of three sends, the receiver has three datagrams and the stamps are ids 0, 1, 2. */
static void test_warm_sends_nothing(void **state)
{
    (void)state;
    struct sock_udp rx, tx;
    open_lo4(&rx, 0);
    open_lo4(&tx, SOCK_F_TX_TSTAMP);
    struct sock_addr dst;
    assert_int_equal(sock_addr_parse("127.0.0.1", rx.port, &dst), 0);
    uint8_t payload[16] = {0x5a};
    struct sock_txbuf out = {payload, sizeof(payload), &dst, -1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sock_warm(tx.fd, &out), 0);
        assert_int_equal(sock_send_batch(tx.fd, &out, 1), 1);
    }
    assert_true(wait_fd(rx.fd, POLLIN, 2000));
    usleep(20000);
    uint8_t mem[4][64];
    struct sock_rxbuf in[4];
    for (int i = 0; i < 4; i++) {
        in[i] = (struct sock_rxbuf){.data = mem[i], .cap = sizeof(mem[i])};
    }
    assert_int_equal(sock_recv_batch(rx.fd, in, 4), 3);
    struct tx_seen seen = {.in_order = true};
    assert_int_equal(sock_read_tx_timestamps(tx.fd, on_txts_seen, &seen), 3);
    assert_true(seen.in_order);
    assert_int_equal(seen.next_id, 3);
    sock_close_udp(&rx);
    sock_close_udp(&tx);
}

/* With kernel stamping switched off, packets are stamped from the user clock. */
static void test_user_clock_fallback(void **state)
{
    (void)state;
    struct sock_udp rx, tx;
    open_lo4(&rx, 0);
    open_lo4(&tx, 0);
    int off = 0;
    assert_int_equal(setsockopt(rx.fd, SOL_SOCKET, SO_TIMESTAMPING, &off, sizeof(off)), 0);
    struct sock_addr dst;
    assert_int_equal(sock_addr_parse("127.0.0.1", rx.port, &dst), 0);
    struct clk_time before = clk_now();
    assert_int_equal(sock_send_to(tx.fd, "abc", 3, &dst), 0);
    assert_true(wait_fd(rx.fd, POLLIN, 2000));
    uint8_t data[16];
    struct sock_rxbuf b = {.data = data, .cap = sizeof(data)};
    assert_int_equal(sock_recv_batch(rx.fd, &b, 1), 1);
    struct clk_time after = clk_now();
    assert_int_equal(b.info.src, CLK_SRC_USER);
    assert_true(b.info.ts.ns >= before.ns && b.info.ts.ns <= after.ns);
    assert_int_equal(b.info.ttl, 255); /* the other cmsgs still come */
    sock_close_udp(&rx);
    sock_close_udp(&tx);
}

/* ---- pacing ---- */

static void test_pacer(void **state)
{
    (void)state;
    struct sock_pacer p;
    sock_pacer_init(&p, 0);
    assert_int_equal(p.spin_ns, SOCK_PACER_SPIN_NS);
    for (int i = 0; i < 3; i++) {
        struct clk_time deadline = {clk_now().ns + 20 * MS};
        struct clk_time woke = sock_pacer_sleep_until(&p, deadline);
        assert_true(woke.ns >= deadline.ns);
        assert_true(woke.ns - deadline.ns < 500 * MS); /* generous: loaded machines */
        assert_true(clk_now().ns >= woke.ns);
    }
    struct clk_time past = {clk_now().ns - SEC};
    struct clk_time t0 = clk_now();
    struct clk_time woke = sock_pacer_sleep_until(&p, past);
    assert_true(woke.ns >= t0.ns && woke.ns - t0.ns < 500 * MS);
}

/* The kernel turns receive stamping on for the whole system asynchronously (a deferred
 * static-key switch) when the first socket asks for it, and off again when the last one
 * closes; packets in between arrive unstamped and rightly fall back to the user clock. A
 * daemon keeps its sockets open, so hold one open for the whole run, and wait until a
 * packet to it comes back kernel-stamped before the loopback tests start. */
static struct sock_udp warm;

static int warm_up(void **state)
{
    (void)state;
    struct sock_addr a;
    if (sock_addr_parse("127.0.0.1", 0, &a) != 0 ||
        sock_open_udp(AF_INET, &a, 0, 0, 0, &warm) != 0 ||
        sock_addr_parse("127.0.0.1", warm.port, &a) != 0) {
        return -1;
    }
    for (int i = 0; i < 200; i++) {
        uint8_t data[8];
        struct sock_rxbuf b = {.data = data, .cap = sizeof(data)};
        if (sock_send_to(warm.fd, "w", 1, &a) != 0 || !wait_fd(warm.fd, POLLIN, 1000) ||
            sock_recv_batch(warm.fd, &b, 1) != 1) {
            return -1;
        }
        if (b.info.src == CLK_SRC_KERNEL) {
            return 0;
        }
        usleep(10000);
    }
    return -1;
}

static int cool_down(void **state)
{
    (void)state;
    sock_close_udp(&warm);
    return 0;
}

/* The interface of a local address: loopback for 127.0.0.1, none for an address no
 * interface holds; a socket on loopback keeps kernel stamps. */
static void test_hw_ifname_for(void **state)
{
    (void)state;
    struct sock_addr a;
    char name[IF_NAMESIZE];
    bool lo = false;
    assert_int_equal(sock_addr_parse("127.0.0.1", 0, &a), 0);
    assert_int_equal(sock_hw_ifname_for(&a, name, sizeof(name), &lo), 0);
    assert_true(lo);
    assert_int_equal(sock_addr_parse("192.0.2.123", 0, &a), 0);
    assert_int_equal(sock_hw_ifname_for(&a, name, sizeof(name), &lo), LP_E_NOTFOUND);
    struct sock_udp u;
    assert_int_equal(sock_addr_parse("127.0.0.1", 0, &a), 0);
    assert_int_equal(sock_open_udp(AF_INET, &a, 0, 0, 0, &u), 0);
    enum clk_source before = u.ts.rx;
    sock_hw_auto(&u, &a, NULL, 0, NULL);
    assert_int_equal(u.ts.rx, before);
    assert_int_not_equal(u.ts.rx, CLK_SRC_HARDWARE);
    sock_close_udp(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hw_ifname_for),
        cmocka_unit_test(test_parse_software_timestamp),
        cmocka_unit_test(test_parse_hardware_timestamp),
        cmocka_unit_test(test_parse_timestamping_new),
        cmocka_unit_test(test_parse_timestampns),
        cmocka_unit_test(test_parse_ipv4_info),
        cmocka_unit_test(test_parse_ipv6_info),
        cmocka_unit_test(test_parse_garbage_is_ignored),
        cmocka_unit_test(test_parse_tx_timestamps),
        cmocka_unit_test(test_hw_probe_fake),
        cmocka_unit_test(test_hw_choose),
        cmocka_unit_test(test_hw_enable_fake_success),
        cmocka_unit_test(test_hw_enable_fake_fallbacks),
        cmocka_unit_test(test_hw_auto_device),
        cmocka_unit_test(test_warm_sends_nothing),
        cmocka_unit_test(test_hw_real_loopback),
        cmocka_unit_test(test_phc_offset),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_open_port_range),
        cmocka_unit_test(test_loopback_ipv4),
        cmocka_unit_test(test_loopback_ipv6),
        cmocka_unit_test(test_ipv6_is_v6only),
        cmocka_unit_test(test_batch_send_recv_per_packet_tos),
        cmocka_unit_test(test_errqueue_batches),
        cmocka_unit_test(test_user_clock_fallback),
        cmocka_unit_test(test_pacer),
    };
    return cmocka_run_group_tests(tests, warm_up, cool_down);
}
