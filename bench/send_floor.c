/* send_floor.c - the floor under every timestamp written into a packet on this machine: how
 * long the kernel takes from a clock read just before a send to its own TX timestamp of
 * that datagram, with nothing of ours in between. For bench/noise.sh.
 *
 *   send_floor plain|warm PERIOD_NS COUNT
 *
 * Sends COUNT datagrams of 14 octets to a socket on 127.0.0.1, PERIOD_NS apart (sleeping to
 * 10 us before each send, then spinning, as owampd does); warm first walks the send path
 * with sock_warm (MSG_PROBE), as the senders do after an idle spell. Prints
 * "min_ns p50_ns p99_ns max_ns" of (kernel TX timestamp - clock read). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sock.h"

#define SPIN_NS 10000

struct last_tx {
    int64_t ns;
};

static void on_tx(void *arg, const struct sock_txts *ts)
{
    ((struct last_tx *)arg)->ns = ts->ts.ns;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sleep to SPIN_NS before deadline, then spin to it. */
static void wait_until(int64_t deadline)
{
    int64_t wake = deadline - SPIN_NS;
    struct timespec ts = {.tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
    while (clk_now().ns < deadline) {
    }
}

/* One send: the gap from the clock read to its TX timestamp, or -1 when none came. */
static int64_t one_gap(int fd, const struct sock_txbuf *b, int warm)
{
    struct last_tx tx = {0};
    if (warm) {
        sock_warm(fd, b);
    }
    int64_t t = clk_now().ns;
    if (sock_send_batch(fd, b, 1) != 1) {
        return -1;
    }
    for (int tries = 0; tries < 1000 && tx.ns == 0; tries++) {
        sock_read_tx_timestamps(fd, on_tx, &tx); /* loopback stamps inside the send */
    }
    return tx.ns ? tx.ns - t : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "warm") != 0)) {
        fprintf(stderr, "usage: send_floor plain|warm PERIOD_NS COUNT\n");
        return 2;
    }
    int warm = strcmp(argv[1], "warm") == 0;
    int64_t period = atoll(argv[2]);
    long n = atol(argv[3]);
    struct sock_addr lo;
    struct sock_udp rx, tx;
    int64_t *gap = calloc(n > 0 ? (size_t)n : 1, sizeof(*gap));
    if (!gap || n <= 0 || period <= 0 || sock_addr_parse("127.0.0.1", 0, &lo) < 0 ||
        sock_open_udp(AF_INET, &lo, 0, 0, 0, &rx) < 0 ||
        sock_open_udp(AF_INET, &lo, 0, 0, SOCK_F_TX_TSTAMP, &tx) < 0) {
        fprintf(stderr, "send_floor: set-up failed\n");
        return 1;
    }
    struct sock_pacer pacer;
    sock_pacer_init(&pacer, SPIN_NS); /* timer slack 1 ns, as the senders */
    sock_addr_set_port(&lo, rx.port);
    uint8_t payload[14] = {0};
    struct sock_txbuf b = {payload, sizeof(payload), &lo, -1};
    uint8_t sink[64];
    struct sock_rxbuf in = {.data = sink, .cap = sizeof(sink)};
    long got = 0;
    int64_t deadline = clk_now().ns;
    for (long i = 0; i < n; i++) {
        deadline += period;
        wait_until(deadline);
        int64_t g = one_gap(tx.fd, &b, warm);
        if (g >= 0) {
            gap[got++] = g;
        }
        while (sock_recv_batch(rx.fd, &in, 1) > 0) {
        }
    }
    if (got == 0) {
        fprintf(stderr, "send_floor: no TX timestamps\n");
        return 1;
    }
    qsort(gap, (size_t)got, sizeof(*gap), cmp_i64);
    long p99 = (long)((double)got * 0.99 + 0.999999) - 1;
    printf("%lld %lld %lld %lld\n", (long long)gap[0], (long long)gap[got / 2],
           (long long)gap[p99 < 0 ? 0 : p99], (long long)gap[got - 1]);
    sock_close_udp(&rx);
    sock_close_udp(&tx);
    free(gap);
    return 0;
}
