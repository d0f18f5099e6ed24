/* raw_reflector.c - the machine's own UDP reflection limit: echo every datagram to its source
 * with one recvmmsg() and one sendmmsg() per batch, no parsing, no timestamps. This is the
 * yardstick the TWAMP reflectors are compared with (bench/reflector.sh).
 *
 *   raw_reflector [-a ADDR] -p PORT [-b RCVBUF] [-t SECONDS]
 *
 * Runs until SIGINT/SIGTERM or SECONDS (default 900, a safety bound), then prints
 * "raw_reflector: received N reflected M". Socket buffers are the kernel defaults unless -b
 * is given, like the daemons'. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RR_BATCH 64
#define RR_PKT_MAX 2048

static volatile sig_atomic_t stop_flag;

static void on_signal(int signo)
{
    (void)signo;
    stop_flag = 1;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int open_socket(const char *addr, int port, int rcvbuf)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "raw_reflector: bad address %s\n", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (rcvbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    }
    /* wake up now and then to notice the time bound and signals */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        fprintf(stderr, "raw_reflector: bind %s:%d: %s\n", addr, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Receive a batch (blocking for the first datagram) and send it straight back. */
static void reflect_loop(int fd, double deadline, unsigned long long *rx, unsigned long long *tx)
{
    static uint8_t bufs[RR_BATCH][RR_PKT_MAX];
    struct sockaddr_storage peers[RR_BATCH];
    struct iovec iov[RR_BATCH];
    struct mmsghdr msgs[RR_BATCH];
    while (!stop_flag && mono_s() < deadline) {
        for (int i = 0; i < RR_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = RR_PKT_MAX};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i],
                                              .msg_namelen = sizeof(peers[i]),
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, msgs, RR_BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) {
            continue;
        }
        *rx += (unsigned long long)n;
        for (int i = 0; i < n; i++) {
            iov[i].iov_len = msgs[i].msg_len;
        }
        int done = 0;
        while (done < n) {
            int k = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
            if (k <= 0) {
                break; /* buffer full or error: the rest is lost, as a loaded reflector would */
            }
            done += k;
        }
        *tx += (unsigned long long)done;
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1";
    int port = 0, rcvbuf = 0, c;
    double seconds = 900;
    while ((c = getopt(argc, argv, "a:p:b:t:")) != -1) {
        switch (c) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'b': rcvbuf = atoi(optarg); break;
        case 't': seconds = atof(optarg); break;
        default:
            fprintf(stderr, "usage: raw_reflector [-a ADDR] -p PORT [-b RCVBUF] [-t SECONDS]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "raw_reflector: -p PORT is required\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int fd = open_socket(addr, port, rcvbuf);
    if (fd < 0) {
        return 1;
    }
    unsigned long long rx = 0, tx = 0;
    reflect_loop(fd, mono_s() + seconds, &rx, &tx);
    printf("raw_reflector: received %llu reflected %llu\n", rx, tx);
    close(fd);
    return 0;
}
