/* pcap_flow.h - read one interop capture: Ethernet, IPv4/IPv6, the TCP control connection
 * reassembled per direction (in-order, retransmitted octets dropped, a gap is an error) and
 * every UDP datagram. Header-only helper for test_interop.c. */
#ifndef TEST_PCAP_FLOW_H
#define TEST_PCAP_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "common.h"

/* One direction of the TCP connection. */
struct flow_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    uint32_t next_seq;
    bool started;
    size_t segments; /* segments that carried new octets */
};

/* One UDP datagram (a test packet). */
struct udp_rec {
    uint16_t sport;
    uint16_t dport;
    uint8_t ttl;
    uint8_t tos;
    size_t len;
    uint8_t data[256];
};

struct capture {
    bool ipv6;
    uint16_t srv_port; /* destination port of the SYN */
    uint16_t cli_port;
    struct flow_buf c2s;
    struct flow_buf s2c;
    struct udp_rec *udp;
    size_t n_udp;
    size_t n_frames;
    size_t n_tcp;
    char err[160];
};

/* Layer-4 view of one frame. */
struct l4 {
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;
    const uint8_t *p;
    size_t len;
};

static int flow_fail(struct capture *c, const char *what, size_t frame)
{
    snprintf(c->err, sizeof(c->err), "frame %zu: %.120s", frame, what);
    return -1;
}

static int flow_append(struct flow_buf *f, const uint8_t *p, size_t n)
{
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4096;
        while (cap < f->len + n) {
            cap *= 2;
        }
        uint8_t *d = realloc(f->data, cap);
        if (d == NULL) {
            return -1;
        }
        f->data = d;
        f->cap = cap;
    }
    memcpy(f->data + f->len, p, n);
    f->len += n;
    return 0;
}

/* Ethernet + IPv4/IPv6 down to the transport header. 0, or -1 for anything else. */
static int flow_l3(const uint8_t *p, size_t len, struct l4 *out, bool *v6)
{
    if (len < 14) {
        return -1;
    }
    uint16_t et = lp_load16(p + 12);
    p += 14;
    len -= 14;
    if (et == 0x0800 && len >= 20 && p[0] >> 4 == 4) {
        size_t ihl = (size_t)(p[0] & 15) * 4, tot = lp_load16(p + 2);
        if (ihl < 20 || tot < ihl || tot > len) {
            return -1;
        }
        *out = (struct l4){p[9], p[8], p[1], p + ihl, tot - ihl};
        *v6 = false;
        return 0;
    }
    if (et == 0x86dd && len >= 40 && p[0] >> 4 == 6) {
        size_t plen = lp_load16(p + 4);
        if (40 + plen > len) {
            return -1;
        }
        uint8_t tc = (uint8_t)((p[0] & 15) << 4 | p[1] >> 4);
        *out = (struct l4){p[6], p[7], tc, p + 40, plen};
        *v6 = true;
        return 0;
    }
    return -1;
}

static int flow_tcp(struct capture *c, const struct l4 *l, size_t frame)
{
    if (l->len < 20) {
        return flow_fail(c, "short TCP header", frame);
    }
    uint16_t sport = lp_load16(l->p), dport = lp_load16(l->p + 2);
    uint32_t seq = lp_load32(l->p + 4);
    size_t off = (size_t)(l->p[12] >> 4) * 4;
    uint8_t flags = l->p[13];
    bool syn = flags & 0x02, ack = flags & 0x10;

    if (off < 20 || off > l->len) {
        return flow_fail(c, "bad TCP data offset", frame);
    }
    c->n_tcp++;
    if (syn && !ack) {
        c->srv_port = dport;
        c->cli_port = sport;
        c->c2s = (struct flow_buf){.next_seq = seq + 1, .started = true};
        return 0;
    }
    bool up = sport == c->cli_port && dport == c->srv_port;
    if (!up && !(sport == c->srv_port && dport == c->cli_port)) {
        return flow_fail(c, "TCP segment of another connection", frame);
    }
    struct flow_buf *f = up ? &c->c2s : &c->s2c;
    if (syn) {
        *f = (struct flow_buf){.next_seq = seq + 1, .started = true};
        return 0;
    }
    if (!f->started) {
        return flow_fail(c, "TCP data before the handshake", frame);
    }
    const uint8_t *data = l->p + off;
    size_t n = l->len - off;
    uint32_t skip = f->next_seq - seq; /* octets already seen (retransmission) */
    if (n == 0 || (int32_t)skip >= (int32_t)n) {
        return 0;
    }
    if ((int32_t)skip < 0) {
        return flow_fail(c, "TCP gap (missing or out-of-order segment)", frame);
    }
    if (flow_append(f, data + skip, n - skip) < 0) {
        return flow_fail(c, "out of memory", frame);
    }
    f->next_seq += (uint32_t)(n - skip);
    f->segments++;
    return 0;
}

static int flow_udp(struct capture *c, const struct l4 *l, size_t frame)
{
    if (l->len < 8 || lp_load16(l->p + 4) != l->len) {
        return flow_fail(c, "bad UDP length", frame);
    }
    size_t n = l->len - 8;
    if (n > sizeof(c->udp[0].data)) {
        return flow_fail(c, "UDP payload too large for this test", frame);
    }
    struct udp_rec *u = realloc(c->udp, (c->n_udp + 1) * sizeof(*u));
    if (u == NULL) {
        return flow_fail(c, "out of memory", frame);
    }
    c->udp = u;
    u = &c->udp[c->n_udp++];
    u->sport = lp_load16(l->p);
    u->dport = lp_load16(l->p + 2);
    u->ttl = l->ttl;
    u->tos = l->tos;
    u->len = n;
    memcpy(u->data, l->p + 8, n);
    return 0;
}

/* Load path into c (zeroed first). 0, or -1 with c->err set. */
static int capture_load(const char *path, struct capture *c)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *pkt;
    int rc = 0, r = 0;

    memset(c, 0, sizeof(*c));
    pcap_t *pc = pcap_open_offline(path, ebuf);
    if (pc == NULL) {
        snprintf(c->err, sizeof(c->err), "%.150s", ebuf);
        return -1;
    }
    if (pcap_datalink(pc) != DLT_EN10MB) {
        pcap_close(pc);
        return flow_fail(c, "link type is not Ethernet", 0);
    }
    while (rc == 0 && (r = pcap_next_ex(pc, &h, &pkt)) == 1) {
        struct l4 l;
        c->n_frames++;
        if (h->caplen != h->len || flow_l3(pkt, h->caplen, &l, &c->ipv6) < 0) {
            rc = flow_fail(c, "truncated or non-IP frame", c->n_frames);
        } else if (l.proto == 6) {
            rc = flow_tcp(c, &l, c->n_frames);
        } else if (l.proto == 17) {
            rc = flow_udp(c, &l, c->n_frames);
        } else {
            rc = flow_fail(c, "neither TCP nor UDP", c->n_frames);
        }
    }
    if (rc == 0 && r == -1) {
        rc = flow_fail(c, pcap_geterr(pc), c->n_frames);
    }
    pcap_close(pc);
    return rc;
}

static void capture_free(struct capture *c)
{
    free(c->c2s.data);
    free(c->s2c.data);
    free(c->udp);
    memset(c, 0, sizeof(*c));
}

#endif
