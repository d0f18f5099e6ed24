/* sock_hw.c - NIC hardware timestamps: capabilities (ETHTOOL_GET_TS_INFO), device set-up
 * (SIOCSHWTSTAMP), the SO_TIMESTAMPING hardware bits, and the PHC-to-system offset.
 *
 * Hardware stamps are in the PHC's timescale. This module does not translate them: phc2sys
 * must keep CLOCK_REALTIME and the PHC together (either direction, handling the UTC/TAI
 * offset), and sock_hw_phc_offset() measures the residual for reports. Whenever hardware
 * cannot be used the socket falls back to kernel software stamps, then the user clock, and
 * the reason is put in sock_tstamp.note for the caller to log. */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/ptp_clock.h>
#include <linux/sockios.h>

#include "addr.h"
#include "common.h"

#define NS_PER_S 1000000000LL

/* ---- the real kernel calls ---- */

static int ifreq_ioctl(const char *ifname, unsigned long req, void *data)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    ifr.ifr_data = data;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    }
    if (fd < 0) {
        return -errno;
    }
    int r = ioctl(fd, req, &ifr) == 0 ? 0 : -errno;
    close(fd);
    return r;
}

static int kernel_get_ts_info(void *ctx, const char *ifname, struct ethtool_ts_info *info)
{
    (void)ctx;
    info->cmd = ETHTOOL_GET_TS_INFO;
    return ifreq_ioctl(ifname, SIOCETHTOOL, info);
}

static int kernel_hwtstamp(void *ctx, const char *ifname, bool set, struct hwtstamp_config *cfg)
{
    (void)ctx;
    return ifreq_ioctl(ifname, set ? SIOCSHWTSTAMP : SIOCGHWTSTAMP, cfg);
}

static const struct sock_hw_ops kernel_ops = {
    .get_ts_info = kernel_get_ts_info,
    .hwtstamp = kernel_hwtstamp,
};

/* ---- probe and plan ---- */

int sock_hw_probe(const struct sock_hw_ops *ops, const char *ifname, struct sock_hw_caps *caps)
{
    if (ifname == NULL || ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ) {
        return LP_E_VALUE;
    }
    ops = ops != NULL ? ops : &kernel_ops;
    struct ethtool_ts_info info;
    memset(&info, 0, sizeof(info));
    info.cmd = ETHTOOL_GET_TS_INFO;
    int r = ops->get_ts_info(ops->ctx, ifname, &info);
    if (r != 0) {
        errno = -r;
        return LP_E_IO;
    }
    *caps = (struct sock_hw_caps){
        .so_timestamping = info.so_timestamping,
        .phc_index = info.phc_index,
        .tx_types = info.tx_types,
        .rx_filters = info.rx_filters,
    };
    return 0;
}

/* The RX filter to use when ALL is not available: keep one already set (ptp4l may own it),
 * else a PTP event filter the NIC has, else none. */
static int fallback_filter(const struct sock_hw_caps *caps, const struct hwtstamp_config *cur)
{
    static const int ptp_filters[] = {HWTSTAMP_FILTER_PTP_V2_EVENT, HWTSTAMP_FILTER_PTP_V2_L4_EVENT,
                                      HWTSTAMP_FILTER_PTP_V1_L4_EVENT};
    if (cur->rx_filter != HWTSTAMP_FILTER_NONE) {
        return cur->rx_filter;
    }
    for (size_t i = 0; i < LP_ARRAY_LEN(ptp_filters); i++) {
        if (caps->rx_filters & (1u << ptp_filters[i])) {
            return ptp_filters[i];
        }
    }
    return HWTSTAMP_FILTER_NONE;
}

bool sock_hw_choose(const struct sock_hw_caps *caps, const struct hwtstamp_config *current,
                    struct sock_hw_plan *plan)
{
    uint32_t sof = caps->so_timestamping;
    bool raw = (sof & SOF_TIMESTAMPING_RAW_HARDWARE) != 0 && caps->phc_index >= 0;
    bool tx_hw =
        raw && (sof & SOF_TIMESTAMPING_TX_HARDWARE) && (caps->tx_types & (1u << HWTSTAMP_TX_ON));
    bool rx_hw = raw && (sof & SOF_TIMESTAMPING_RX_HARDWARE) &&
                 (caps->rx_filters & (1u << HWTSTAMP_FILTER_ALL));
    plan->cfg.flags = 0;
    /* A one-step PTP mode already set also stamps our packets; never downgrade it. */
    plan->cfg.tx_type = current->tx_type != HWTSTAMP_TX_OFF ? current->tx_type
                        : tx_hw                             ? HWTSTAMP_TX_ON
                                                            : HWTSTAMP_TX_OFF;
    plan->cfg.rx_filter = rx_hw ? HWTSTAMP_FILTER_ALL : fallback_filter(caps, current);
    plan->tx = tx_hw ? CLK_SRC_HARDWARE : CLK_SRC_KERNEL;
    plan->rx = rx_hw ? CLK_SRC_HARDWARE : CLK_SRC_KERNEL;
    return tx_hw || rx_hw;
}

/* Probe, plan and configure the device. false with the reason in why when hardware is out;
 * otherwise plan holds what the driver actually applied. */
static bool hw_configure(const struct sock_hw_ops *ops, const char *ifname,
                         struct sock_hw_caps *caps, struct sock_hw_plan *plan, char *why,
                         size_t why_len)
{
    if (sock_hw_probe(ops, ifname, caps) != 0) {
        snprintf(why, why_len, "ETHTOOL_GET_TS_INFO: %s", strerror(errno));
        return false;
    }
    struct hwtstamp_config cur = {0};
    if (ops->hwtstamp(ops->ctx, ifname, false, &cur) != 0) {
        cur = (struct hwtstamp_config){0}; /* SIOCGHWTSTAMP is optional for drivers */
    }
    if (!sock_hw_choose(caps, &cur, plan)) {
        snprintf(why, why_len, "no PHC or no hardware TX/RX stamping (caps %#x)",
                 caps->so_timestamping);
        return false;
    }
    if (plan->cfg.tx_type != cur.tx_type || plan->cfg.rx_filter != cur.rx_filter) {
        int r = ops->hwtstamp(ops->ctx, ifname, true, &plan->cfg);
        if (r != 0) {
            snprintf(why, why_len, "SIOCSHWTSTAMP: %s", strerror(-r));
            return false;
        }
    }
    /* The driver writes back what it applied, possibly more permissive than asked. */
    plan->rx = plan->cfg.rx_filter == HWTSTAMP_FILTER_ALL ? CLK_SRC_HARDWARE : CLK_SRC_KERNEL;
    plan->tx = plan->cfg.tx_type != HWTSTAMP_TX_OFF && plan->tx == CLK_SRC_HARDWARE
                   ? CLK_SRC_HARDWARE
                   : CLK_SRC_KERNEL;
    if (plan->rx != CLK_SRC_HARDWARE && plan->tx != CLK_SRC_HARDWARE) {
        snprintf(why, why_len, "driver applied tx_type %d rx_filter %d", plan->cfg.tx_type,
                 plan->cfg.rx_filter);
        return false;
    }
    return true;
}

/* Append "; text" to the NUL-terminated note of size bytes, truncating. */
static void note_append(char *note, size_t size, const char *text)
{
    size_t used = strlen(note);
    if (text[0] == '\0' || used + 3 >= size) {
        return;
    }
    memcpy(note + used, "; ", 2);
    used += 2;
    size_t n = strnlen(text, size - used - 1);
    memcpy(note + used, text, n);
    note[used + n] = '\0';
}

void sock_hw_enable(int fd, const char *ifname, unsigned flags, const struct sock_hw_ops *ops,
                    struct sock_tstamp *out)
{
    ops = ops != NULL ? ops : &kernel_ops;
    struct sock_hw_caps caps;
    struct sock_hw_plan plan;
    char why[128];
    if (!hw_configure(ops, ifname, &caps, &plan, why, sizeof(why))) {
        sock_tstamp_enable(fd, flags, 0, out);
        char sw_note[sizeof(out->note)];
        memcpy(sw_note, out->note, sizeof(sw_note));
        snprintf(out->note, sizeof(out->note), "no hardware stamps on %s (%s)", ifname, why);
        note_append(out->note, sizeof(out->note), sw_note);
        return;
    }
    bool want_tx = (flags & SOCK_F_TX_TSTAMP) && plan.tx == CLK_SRC_HARDWARE;
    unsigned hw_sof = SOF_TIMESTAMPING_RAW_HARDWARE |
                      (plan.rx == CLK_SRC_HARDWARE ? SOF_TIMESTAMPING_RX_HARDWARE : 0u) |
                      (want_tx ? SOF_TIMESTAMPING_TX_HARDWARE : 0u);
    unsigned got = sock_tstamp_enable(fd, flags, hw_sof, out);
    if ((got & hw_sof) != hw_sof) {
        return; /* the note says SO_TIMESTAMPING refused the hardware bits */
    }
    out->phc_index = caps.phc_index;
    out->rx = plan.rx;
    if (want_tx) {
        out->tx = CLK_SRC_HARDWARE;
    }
    if (plan.rx != CLK_SRC_HARDWARE) {
        snprintf(out->note, sizeof(out->note),
                 "%s: RX filter ALL unsupported (using %d): RX stamps are kernel software", ifname,
                 plan.cfg.rx_filter);
    } else if ((flags & SOCK_F_TX_TSTAMP) && !want_tx) {
        snprintf(out->note, sizeof(out->note),
                 "%s: no hardware TX stamping: TX stamps are kernel software", ifname);
    }
}

int sock_hw_ifname_for(const struct sock_addr *local, char *ifname, size_t len, bool *loopback)
{
    struct ifaddrs *list;
    int rc = LP_E_NOTFOUND;
    if (getifaddrs(&list) < 0) {
        return LP_E_IO;
    }
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (i->ifa_addr && addr_same_host(i->ifa_addr, (const struct sockaddr *)&local->ss) &&
            strlen(i->ifa_name) < len) {
            strcpy(ifname, i->ifa_name);
            *loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
            rc = 0;
            break;
        }
    }
    freeifaddrs(list);
    return rc;
}

/* Whether dev names a loopback interface (false when there is none of that name: the
 * probe then says what it finds). */
static bool dev_is_loopback(const char *dev)
{
    struct ifaddrs *list;
    bool lo = false;
    if (getifaddrs(&list) < 0) {
        return false;
    }
    for (struct ifaddrs *i = list; i && !lo; i = i->ifa_next) {
        lo = strcmp(i->ifa_name, dev) == 0 && (i->ifa_flags & IFF_LOOPBACK);
    }
    freeifaddrs(list);
    return lo;
}

void sock_hw_auto(struct sock_udp *s, const struct sock_addr *local, const char *dev,
                  unsigned flags, const struct sock_hw_ops *ops)
{
    char ifname[IF_NAMESIZE];
    bool loopback = false;
    if (dev) {
        snprintf(ifname, sizeof(ifname), "%s", dev);
        loopback = dev_is_loopback(dev);
    } else if (sock_hw_ifname_for(local, ifname, sizeof(ifname), &loopback) < 0) {
        snprintf(s->ts.note, sizeof(s->ts.note),
                 "no interface holds the local address: kernel software stamps");
        return;
    }
    if (loopback) {
        return; /* no NIC on loopback: kernel stamps are the best there is */
    }
    sock_hw_enable(s->fd, ifname, flags, ops, &s->ts);
}

/* ---- PHC offset ---- */

int sock_hw_offset_from_samples(const int64_t *ts, unsigned n, int64_t *offset_ns,
                                int64_t *delay_ns)
{
    bool found = false;
    int64_t best = 0;
    for (unsigned i = 0; i < n; i++) {
        int64_t sys0 = ts[2 * i], phc = ts[2 * i + 1], sys1 = ts[2 * i + 2];
        int64_t d = sys1 - sys0;
        if (d < 0 || (found && d >= best)) {
            continue;
        }
        best = d;
        *offset_ns = phc - (sys0 + d / 2);
        found = true;
    }
    if (!found) {
        return LP_E_VALUE;
    }
    *delay_ns = best;
    return 0;
}

int sock_hw_phc_offset(int phc_index, int64_t *offset_ns, int64_t *delay_ns)
{
    if (phc_index < 0) {
        return LP_E_VALUE;
    }
    char path[32];
    snprintf(path, sizeof(path), "/dev/ptp%d", phc_index);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return LP_E_IO;
    }
    struct ptp_sys_offset req;
    memset(&req, 0, sizeof(req));
    req.n_samples = 9;
    int r = ioctl(fd, PTP_SYS_OFFSET, &req);
    int saved = errno;
    close(fd);
    if (r != 0) {
        errno = saved;
        return LP_E_IO;
    }
    int64_t t[2 * PTP_MAX_SAMPLES + 1];
    for (unsigned i = 0; i < 2 * req.n_samples + 1; i++) {
        t[i] = (int64_t)req.ts[i].sec * NS_PER_S + req.ts[i].nsec;
    }
    return sock_hw_offset_from_samples(t, req.n_samples, offset_ns, delay_ns);
}
