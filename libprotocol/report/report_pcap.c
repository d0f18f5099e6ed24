/* report_pcap.c - test packets into a pcap file (libpcap, nanosecond timestamps, link type
 * RAW so IPv4 and IPv6 share one file). Sockets give us UDP payloads only, so each packet
 * gets a synthesized IPv4 or IPv6 header and a UDP header with correct lengths and
 * checksums; the TTL and TOS are those reported for the packet when known. */
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "report.h"

#define PCAP_UDP_MAX 65507 /* largest UDP payload in an IPv4 datagram */
#define PCAP_SNAPLEN 65535
#define IP4_HDR 20
#define IP6_HDR 40
#define UDP_HDR 8

struct rep_pcap {
    pcap_t *dead;
    pcap_dumper_t *dump;
    uint64_t count;
    uint8_t frame[IP6_HDR + UDP_HDR + PCAP_UDP_MAX];
};

struct rep_pcap *rep_pcap_open(const char *path, char *errbuf, size_t errlen)
{
    struct rep_pcap *p = calloc(1, sizeof(*p));
    if (!p) {
        if (errbuf) {
            snprintf(errbuf, errlen, "out of memory");
        }
        return NULL;
    }
    p->dead =
        pcap_open_dead_with_tstamp_precision(DLT_RAW, PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
    if (p->dead) {
        p->dump = pcap_dump_open(p->dead, path);
    }
    if (!p->dump) {
        if (errbuf) {
            snprintf(errbuf, errlen, "%s",
                     p->dead ? pcap_geterr(p->dead) : "pcap_open_dead failed");
        }
        rep_pcap_close(p);
        return NULL;
    }
    return p;
}

/* Internet checksum accumulation (RFC 1071) over len octets. */
static uint32_t sum16(uint32_t acc, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        acc += (uint32_t)b[i] << 8 | b[i + 1];
    }
    if (len & 1) {
        acc += (uint32_t)b[len - 1] << 8;
    }
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16) {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    return (uint16_t)~acc;
}

/* Addresses as octets and ports from src/dst (same family). Returns 4, 16 or 0. */
static size_t endpoints(const struct rep_pkt *k, uint8_t sa[16], uint8_t da[16], uint16_t *sp,
                        uint16_t *dp)
{
    if (!k->src || !k->dst || k->src->sa_family != k->dst->sa_family) {
        return 0;
    }
    if (k->src->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)k->src, *d = (const void *)k->dst;
        memcpy(sa, &s->sin_addr, 4);
        memcpy(da, &d->sin_addr, 4);
        *sp = ntohs(s->sin_port);
        *dp = ntohs(d->sin_port);
        return 4;
    }
    if (k->src->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)k->src, *d = (const void *)k->dst;
        memcpy(sa, &s->sin6_addr, 16);
        memcpy(da, &d->sin6_addr, 16);
        *sp = ntohs(s->sin6_port);
        *dp = ntohs(d->sin6_port);
        return 16;
    }
    return 0;
}

/* The IP header for an alen-octet address family carrying ulen octets of UDP. */
static size_t ip_header(uint8_t *h, size_t alen, const uint8_t *sa, const uint8_t *da, size_t ulen,
                        const struct rep_pkt *k)
{
    uint8_t ttl = (uint8_t)(k->ttl >= 0 ? k->ttl : 255), tos = (uint8_t)(k->tos >= 0 ? k->tos : 0);
    if (alen == 4) {
        memset(h, 0, IP4_HDR);
        h[0] = 0x45;
        h[1] = tos;
        lp_store16(h + 2, (uint16_t)(IP4_HDR + ulen));
        lp_store16(h + 6, 0x4000); /* DF */
        h[8] = ttl;
        h[9] = IPPROTO_UDP;
        memcpy(h + 12, sa, 4);
        memcpy(h + 16, da, 4);
        lp_store16(h + 10, fold(sum16(0, h, IP4_HDR)));
        return IP4_HDR;
    }
    lp_store32(h, 6u << 28 | (uint32_t)tos << 20);
    lp_store16(h + 4, (uint16_t)ulen);
    h[6] = IPPROTO_UDP;
    h[7] = ttl;
    memcpy(h + 8, sa, 16);
    memcpy(h + 24, da, 16);
    return IP6_HDR;
}

int rep_pcap_append_raw(struct rep_pcap *p, const uint8_t *frame, size_t len, struct clk_time ts)
{
    if (len > sizeof(p->frame)) {
        return LP_E_VALUE;
    }
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    h.ts.tv_sec = (time_t)(ts.ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)(ts.ns % 1000000000); /* ns: nanosecond precision file */
    pcap_dump((u_char *)p->dump, &h, frame);
    p->count++;
    return 0;
}

int rep_pcap_write(struct rep_pcap *p, const struct rep_pkt *k)
{
    uint8_t sa[16], da[16];
    uint16_t sp, dp;
    size_t alen = endpoints(k, sa, da, &sp, &dp);
    if (!alen || (!k->data && k->len)) {
        return LP_E_VALUE;
    }
    size_t plen = k->len > PCAP_UDP_MAX ? PCAP_UDP_MAX : k->len, ulen = UDP_HDR + plen;
    size_t hl = ip_header(p->frame, alen, sa, da, ulen, k);
    uint8_t *u = p->frame + hl;
    lp_store16(u, sp);
    lp_store16(u + 2, dp);
    lp_store16(u + 4, (uint16_t)ulen);
    lp_store16(u + 6, 0);
    if (plen) {
        memcpy(u + UDP_HDR, k->data, plen);
    }
    /* pseudo-header: addresses, protocol, UDP length (same sum for IPv4 and IPv6) */
    uint32_t acc = sum16(sum16(0, sa, alen), da, alen) + IPPROTO_UDP + (uint32_t)ulen;
    uint16_t ck = fold(sum16(acc, u, ulen));
    lp_store16(u + 6, ck ? ck : 0xFFFF);
    return rep_pcap_append_raw(p, p->frame, hl + ulen, k->ts);
}

uint64_t rep_pcap_count(const struct rep_pcap *p)
{
    return p->count;
}

int rep_pcap_close(struct rep_pcap *p)
{
    int rc = 0;
    if (!p) {
        return 0;
    }
    if (p->dump) {
        FILE *f = pcap_dump_file(p->dump);
        if (pcap_dump_flush(p->dump) != 0 || ferror(f)) {
            rc = LP_E_IO;
        }
        pcap_dump_close(p->dump);
    }
    if (p->dead) {
        pcap_close(p->dead);
    }
    free(p);
    return rc;
}
