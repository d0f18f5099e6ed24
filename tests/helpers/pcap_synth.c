/* pcap_synth.c - write a pcap of real OWAMP or TWAMP test packets (open mode, encoded by
 * libprotocol's wire module) through the report module's pcap writer, for the end-to-end
 * test to decode with tshark while the sessions do not export their packets yet.
 *   pcap_synth FILE owamp|twamp COUNT PORT
 * OWAMP: COUNT sender packets 127.0.0.1:40000 -> 127.0.0.1:PORT. TWAMP: COUNT sender packets
 * [::1]:40000 -> [::1]:PORT and their reflections back. Packet i is stamped BASE + i ms. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "wire.h"

#define BASE_NS (1700000000LL * 1000000000LL)

static int put(struct rep_pcap *p, const uint8_t *b, int n, const void *src, const void *dst,
               int64_t ns)
{
    struct rep_pkt k = {b, (size_t)n, src, dst, {ns}, 64, 0};
    return n > 0 ? rep_pcap_write(p, &k) : -1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: pcap_synth FILE owamp|twamp COUNT PORT\n");
        return 2;
    }
    bool tw = strcmp(argv[2], "twamp") == 0;
    int count = atoi(argv[3]);
    uint16_t port = (uint16_t)atoi(argv[4]);
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(40000)}, b4 = a4;
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(40000)}, b6 = a6;
    inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
    b4.sin_addr = a4.sin_addr;
    b4.sin_port = htons(port);
    a6.sin6_addr = in6addr_loopback;
    b6.sin6_addr = in6addr_loopback;
    b6.sin6_port = htons(port);
    const void *src = tw ? (const void *)&a6 : (const void *)&a4;
    const void *dst = tw ? (const void *)&b6 : (const void *)&b4;
    char err[256];
    struct rep_pcap *p = rep_pcap_open(argv[1], err, sizeof(err));
    if (!p) {
        fprintf(stderr, "pcap_synth: %s\n", err);
        return 1;
    }
    uint8_t pad[27] = {0}, buf[256];
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        int64_t t = BASE_NS + i * 1000000LL;
        uint64_t ntp = clk_to_ntp((struct clk_time){t}).raw;
        struct wire_sender_pkt s = {.seq = (uint32_t)i,
                                    .ts = ntp,
                                    .errest = 0x8001,
                                    .pad = pad,
                                    .pad_len = tw ? sizeof(pad) : 0};
        rc = put(p, buf, wire_sender_encode(&s, WIRE_MODE_OPEN, buf, sizeof(buf)), src, dst, t);
        if (tw && rc == 0) {
            struct wire_reflector_pkt r = {.seq = (uint32_t)i,
                                           .ts = ntp + 4295,
                                           .errest = 0x8001,
                                           .recv_ts = ntp + 2147,
                                           .sender_seq = (uint32_t)i,
                                           .sender_ts = ntp,
                                           .sender_errest = 0x8001,
                                           .sender_ttl = 255};
            rc = put(p, buf, wire_reflector_encode(&r, WIRE_MODE_OPEN, buf, sizeof(buf)), dst, src,
                     t + 2000);
        }
    }
    if (rep_pcap_close(p) < 0 || rc != 0) {
        fprintf(stderr, "pcap_synth: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
