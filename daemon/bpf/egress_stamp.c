/* egress_stamp.c - eBPF program (tc egress, built with clang -target bpf) that writes the
 * send time into OWAMP and TWAMP test packets as they leave the host, in place of the time
 * the daemon wrote before its send system call (see daemon/egress.h). It touches only the
 * packets of the sockets the daemon lists in `socks` by socket cookie (unique for the life
 * of the kernel, never reused), so a socket of another program on the same port, or a
 * filter left behind by a daemon that was killed, never has a packet changed; and of those
 * only the datagrams whose UDP source port is the socket's own (not, say, the outer
 * datagram of a tunnel that still counts the socket as its owner).
 *
 * The packet: IPv4 (first fragment or whole) or IPv6 with UDP as the next header; the
 * timestamp is the 8 octets at UDP payload offset 4 in NTP format (the unauthenticated
 * OWAMP and TWAMP test packets, TWAMP Light and STAMP). The link-layer header's length is
 * the skb's length less the IP packet's (0 on TUN devices, 14 on Ethernet and loopback).
 * The time is CLOCK_TAI less the TAI offset the daemon stores, that is CLOCK_REALTIME; a
 * time that would be earlier than the one already in the packet, or more than
 * EGRESS_MAX_AHEAD_NS later, is not written (the offset changed under us, say): the packet
 * keeps the daemon's own. The UDP checksum is updated when it is already computed. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "egress_map.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, EGRESS_MAX_SOCKS);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, __u64);
    __type(value, struct egress_sock);
} socks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct egress_conf);
} conf SEC(".maps");

#define NTP_UNIX_OFFSET 2208988800ULL
#define NS_PER_S 1000000000ULL

/* Offset of the UDP header from skb->data, or 0 when the packet is not one to stamp. */
static __always_inline __u32 udp_offset(struct __sk_buff *skb)
{
    __u8 ip[40];
    __u32 iplen, hlen;
    if (bpf_skb_load_bytes_relative(skb, 0, ip, 20, BPF_HDR_START_NET) < 0) {
        return 0;
    }
    if (skb->protocol == bpf_htons(ETH_P_IP) && (ip[0] >> 4) == 4) {
        hlen = (ip[0] & 15u) * 4u;
        iplen = ((__u32)ip[2] << 8) | ip[3];
        /* UDP, and not a later fragment (fragment offset 0) */
        if (ip[9] != IPPROTO_UDP || hlen < 20 || (((ip[6] & 0x1fu) << 8) | ip[7]) != 0) {
            return 0;
        }
    } else if (skb->protocol == bpf_htons(ETH_P_IPV6) && (ip[0] >> 4) == 6) {
        hlen = 40;
        iplen = 40u + (((__u32)ip[4] << 8) | ip[5]);
        if (ip[6] != IPPROTO_UDP) {
            return 0;
        }
    } else {
        return 0;
    }
    if (iplen > skb->len || skb->len - iplen > 64) {
        return 0;
    }
    return skb->len - iplen + hlen;
}

SEC("tc")
int egress_stamp(struct __sk_buff *skb)
{
    /* every packet of the interface comes here: the socket first, the rest only for ours */
    __u64 cookie = bpf_get_socket_cookie(skb);
    struct egress_sock *s = cookie ? bpf_map_lookup_elem(&socks, &cookie) : NULL;
    if (!s) {
        return TC_ACT_UNSPEC;
    }
    __u32 zero = 0;
    struct egress_conf *c = bpf_map_lookup_elem(&conf, &zero);
    if (!c) {
        return TC_ACT_UNSPEC;
    }
    __u32 udp = udp_offset(skb);
    __u32 at = udp + 8 + EGRESS_STAMP_OFFSET;
    __u32 old[2];
    __u16 sport;
    if (udp == 0 || at + 8 > skb->len || bpf_skb_load_bytes(skb, udp, &sport, 2) < 0 ||
        sport != s->port || bpf_skb_load_bytes(skb, at, old, 8) < 0) {
        return TC_ACT_UNSPEC;
    }
    __u64 now = bpf_ktime_get_tai_ns() - c->tai_offset_ns;
    __u64 was_s = bpf_ntohl(old[0]), was_f = bpf_ntohl(old[1]);
    __u64 was = (was_s - NTP_UNIX_OFFSET) * NS_PER_S + ((was_f * NS_PER_S) >> 32);
    if (was_s < NTP_UNIX_OFFSET || now < was || now - was > EGRESS_MAX_AHEAD_NS) {
        __sync_fetch_and_add(&s->refused, 1);
        return TC_ACT_UNSPEC;
    }
    __u64 sec = now / NS_PER_S + NTP_UNIX_OFFSET;
    __u64 frac = ((now % NS_PER_S) << 32) / NS_PER_S;
    __u32 stamp[2] = {bpf_htonl((__u32)sec), bpf_htonl((__u32)frac)};
    if (bpf_skb_store_bytes(skb, at, stamp, 8, BPF_F_RECOMPUTE_CSUM) < 0) {
        return TC_ACT_UNSPEC;
    }
    bpf_l4_csum_replace(skb, udp + 6, old[0], stamp[0], BPF_F_MARK_MANGLED_0 | 4);
    bpf_l4_csum_replace(skb, udp + 6, old[1], stamp[1], BPF_F_MARK_MANGLED_0 | 4);
    __sync_fetch_and_add(&s->stamped, 1);
    return TC_ACT_UNSPEC; /* on to the next filter, if any */
}

char LICENSE[] SEC("license") = "Apache-2.0";
