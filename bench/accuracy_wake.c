/* accuracy_wake.c - how late this machine wakes a thread at an absolute deadline: the floor
 * under every sender's lateness and every reflector's turnaround. For bench/accuracy.sh.
 *
 *   accuracy_wake sleep|timerfd PERIOD_NS COUNT
 *
 * sleep: clock_nanosleep(TIMER_ABSTIME), as the pacer does; timerfd: an absolute timerfd
 * waited for with epoll_wait, as the event loop does. Timer slack is set to 1 ns first, as the
 * tools do. Prints "p50_ns p99_ns max_ns" of (wake-up time - deadline). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct timespec ts_of(int64_t ns)
{
    return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Wait until deadline with an absolute timerfd and epoll; 0 or -1. */
static int wait_timerfd(int ep, int tfd, int64_t deadline)
{
    struct itimerspec its = {.it_value = ts_of(deadline)};
    struct epoll_event ev;
    uint64_t ticks;
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        return -1;
    }
    while (epoll_wait(ep, &ev, 1, -1) != 1) {
    }
    return read(tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "sleep") != 0 && strcmp(argv[1], "timerfd") != 0)) {
        fprintf(stderr, "usage: accuracy_wake sleep|timerfd PERIOD_NS COUNT\n");
        return 2;
    }
    int use_fd = strcmp(argv[1], "timerfd") == 0;
    int64_t period = atoll(argv[2]);
    long n = atol(argv[3]);
    int64_t *late = calloc(n > 0 ? (size_t)n : 1, sizeof(*late));
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    if (!late || n <= 0 || period <= 0 || tfd < 0 || ep < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0) {
        fprintf(stderr, "accuracy_wake: set-up failed\n");
        return 1;
    }
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    int64_t deadline = now_ns();
    for (long i = 0; i < n; i++) {
        deadline += period;
        if (use_fd) {
            if (wait_timerfd(ep, tfd, deadline) != 0) {
                return 1;
            }
        } else {
            struct timespec ts = ts_of(deadline);
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
            }
        }
        late[i] = now_ns() - deadline;
    }
    qsort(late, (size_t)n, sizeof(*late), cmp_i64);
    printf("%lld %lld %lld\n", (long long)late[(n - 1) / 2],
           (long long)late[(n * 99 + 99) / 100 - 1], (long long)late[n - 1]);
    free(late);
    return 0;
}
