/* loop.c - epoll event loop with a timer heap, a timerfd and a signalfd.
 *
 * Why a timerfd and not epoll_wait()'s timeout: the timeout is relative and in whole
 * milliseconds, so every wait would be rounded up to the next millisecond and recomputed
 * from a fresh clock read. A CLOCK_MONOTONIC timerfd armed with TFD_TIMER_ABSTIME holds the
 * heap's earliest deadline in nanoseconds, survives EINTR and spurious wake-ups unchanged,
 * and is only re-armed when the earliest deadline changes. epoll_wait()'s own timeout is
 * then used only for loop_run_once()'s max_wait_ms. */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define LOOP_MAX_EVENTS 64
#define LOOP_GEN_MASK 0x7fffffffu     /* generations stay below bit 31 */
#define LOOP_TOKEN_TIMER (1ull << 63) /* epoll data of the timerfd */
#define LOOP_TOKEN_SIGNAL ((1ull << 63) | 1)
#define LOOP_NO_DEADLINE INT64_MAX
#define LOOP_FREE UINT32_MAX

struct fd_slot {
    loop_fd_cb cb;
    void *arg;
    uint32_t gen; /* bumped on add and delete so stale epoll events are recognised */
    bool used;
};

struct timer {
    int64_t deadline; /* CLOCK_MONOTONIC ns */
    uint64_t seq;     /* insertion order, breaks deadline ties */
    loop_timer_cb cb;
    void *arg;
    uint32_t gen;
    uint32_t heap_pos; /* LOOP_FREE when not in the heap; then next_free links the pool */
    uint32_t next_free;
};

struct sig_slot {
    loop_signal_cb cb;
    void *arg;
};

struct loop {
    int epfd;
    int tfd;
    int sfd;
    struct fd_slot *fds; /* indexed by fd */
    size_t fds_cap;
    size_t fds_watched;
    struct timer *timers; /* pool; ids index it */
    uint32_t *heap;       /* pool indices, min-heap on (deadline, seq) */
    uint32_t timers_cap;
    uint32_t heap_len;
    uint32_t free_head;
    uint64_t next_seq;
    int64_t armed;    /* deadline the timerfd holds, LOOP_NO_DEADLINE when disarmed */
    int64_t slack_ns; /* see loop_set_timer_slack */
    sigset_t sigs;
    sigset_t blocked_by_us;
    unsigned nsigs;
    struct sig_slot sig[NSIG];
    bool stop;
};

int64_t loop_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t next_gen(uint32_t gen)
{
    gen = (gen + 1) & LOOP_GEN_MASK;
    return gen == 0 ? 1 : gen;
}

static int epoll_add(int epfd, int fd, uint32_t events, uint64_t token)
{
    struct epoll_event ev = {.events = events, .data.u64 = token};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : LP_E_IO;
}

struct loop *loop_create(void)
{
    struct loop *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return NULL;
    }
    l->sfd = -1;
    l->armed = LOOP_NO_DEADLINE;
    l->free_head = LOOP_FREE;
    sigemptyset(&l->sigs);
    sigemptyset(&l->blocked_by_us);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->epfd < 0 || l->tfd < 0 || epoll_add(l->epfd, l->tfd, EPOLLIN, LOOP_TOKEN_TIMER) != 0) {
        int saved = errno;
        loop_destroy(l);
        errno = saved;
        return NULL;
    }
    return l;
}

/* Consume signals still pending for the signalfd so unblocking them cannot kill us. */
static void drain_signals(int sfd)
{
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    }
}

void loop_destroy(struct loop *loop)
{
    if (loop == NULL) {
        return;
    }
    if (loop->sfd >= 0) {
        drain_signals(loop->sfd);
        pthread_sigmask(SIG_UNBLOCK, &loop->blocked_by_us, NULL);
        close(loop->sfd);
    }
    if (loop->tfd >= 0) {
        close(loop->tfd);
    }
    if (loop->epfd >= 0) {
        close(loop->epfd);
    }
    free(loop->fds);
    free(loop->timers);
    free(loop->heap);
    free(loop);
}

/* ---- file descriptors ---- */

static uint32_t to_epoll(unsigned events)
{
    return ((events & LOOP_READ) ? EPOLLIN : 0u) | ((events & LOOP_WRITE) ? EPOLLOUT : 0u);
}

static unsigned from_epoll(uint32_t ev)
{
    return ((ev & EPOLLIN) ? LOOP_READ : 0u) | ((ev & EPOLLOUT) ? LOOP_WRITE : 0u) |
           ((ev & EPOLLERR) ? LOOP_ERR : 0u) | ((ev & EPOLLHUP) ? LOOP_HUP : 0u);
}

static int grow_fds(struct loop *loop, int fd)
{
    if ((size_t)fd < loop->fds_cap) {
        return 0;
    }
    size_t cap = loop->fds_cap ? loop->fds_cap : 16;
    while (cap <= (size_t)fd) {
        cap *= 2;
    }
    struct fd_slot *n = realloc(loop->fds, cap * sizeof(*n));
    if (n == NULL) {
        return LP_E_NOMEM;
    }
    memset(n + loop->fds_cap, 0, (cap - loop->fds_cap) * sizeof(*n));
    loop->fds = n;
    loop->fds_cap = cap;
    return 0;
}

static struct fd_slot *find_fd(struct loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->fds_cap || !loop->fds[fd].used) {
        return NULL;
    }
    return &loop->fds[fd];
}

int loop_add_fd(struct loop *loop, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
    if (fd < 0 || cb == NULL) {
        return LP_E_VALUE;
    }
    if (grow_fds(loop, fd) != 0) {
        return LP_E_NOMEM;
    }
    struct fd_slot *s = &loop->fds[fd];
    if (s->used) {
        return LP_E_VALUE;
    }
    uint32_t gen = next_gen(s->gen);
    if (epoll_add(loop->epfd, fd, to_epoll(events), (uint64_t)gen << 32 | (uint32_t)fd) != 0) {
        return LP_E_IO;
    }
    *s = (struct fd_slot){.cb = cb, .arg = arg, .gen = gen, .used = true};
    loop->fds_watched++;
    return 0;
}

int loop_mod_fd(struct loop *loop, int fd, unsigned events)
{
    struct fd_slot *s = find_fd(loop, fd);
    if (s == NULL) {
        return LP_E_NOTFOUND;
    }
    struct epoll_event ev = {.events = to_epoll(events),
                             .data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd};
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : LP_E_IO;
}

int loop_del_fd(struct loop *loop, int fd)
{
    struct fd_slot *s = find_fd(loop, fd);
    if (s == NULL) {
        return LP_E_NOTFOUND;
    }
    /* Fails harmlessly if the caller already closed fd (the kernel dropped it then). */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    s->used = false;
    s->gen = next_gen(s->gen);
    loop->fds_watched--;
    return 0;
}

/* ---- timers: a pool of records and a binary min-heap of pool indices ---- */

static bool timer_before(const struct loop *loop, uint32_t a, uint32_t b)
{
    const struct timer *x = &loop->timers[a];
    const struct timer *y = &loop->timers[b];
    return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_set(struct loop *loop, uint32_t pos, uint32_t idx)
{
    loop->heap[pos] = idx;
    loop->timers[idx].heap_pos = pos;
}

static void heap_up(struct loop *loop, uint32_t pos)
{
    uint32_t idx = loop->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!timer_before(loop, idx, loop->heap[parent])) {
            break;
        }
        heap_set(loop, pos, loop->heap[parent]);
        pos = parent;
    }
    heap_set(loop, pos, idx);
}

static void heap_down(struct loop *loop, uint32_t pos)
{
    uint32_t idx = loop->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= loop->heap_len) {
            break;
        }
        if (child + 1 < loop->heap_len &&
            timer_before(loop, loop->heap[child + 1], loop->heap[child])) {
            child++;
        }
        if (!timer_before(loop, loop->heap[child], idx)) {
            break;
        }
        heap_set(loop, pos, loop->heap[child]);
        pos = child;
    }
    heap_set(loop, pos, idx);
}

/* Take the timer at heap position pos out of the heap and return its slot to the pool. */
static void heap_remove(struct loop *loop, uint32_t pos)
{
    uint32_t idx = loop->heap[pos];
    uint32_t last = loop->heap[--loop->heap_len];
    if (pos < loop->heap_len) {
        heap_set(loop, pos, last);
        heap_down(loop, pos);
        heap_up(loop, loop->timers[last].heap_pos);
    }
    struct timer *t = &loop->timers[idx];
    t->heap_pos = LOOP_FREE; /* its id is dead now: the next add bumps gen */
    t->next_free = loop->free_head;
    loop->free_head = idx;
}

static int grow_timers(struct loop *loop)
{
    uint32_t cap = loop->timers_cap ? loop->timers_cap * 2 : 16;
    struct timer *t = realloc(loop->timers, cap * sizeof(*t));
    if (t == NULL) {
        return LP_E_NOMEM;
    }
    loop->timers = t;
    uint32_t *h = realloc(loop->heap, cap * sizeof(*h));
    if (h == NULL) {
        return LP_E_NOMEM;
    }
    loop->heap = h;
    for (uint32_t i = cap; i-- > loop->timers_cap;) {
        t[i] = (struct timer){.heap_pos = LOOP_FREE, .next_free = loop->free_head};
        loop->free_head = i;
    }
    loop->timers_cap = cap;
    return 0;
}

loop_timer_id loop_timer_add(struct loop *loop, int64_t deadline_mono_ns, loop_timer_cb cb,
                             void *arg)
{
    if (cb == NULL || (loop->free_head == LOOP_FREE && grow_timers(loop) != 0)) {
        return 0;
    }
    uint32_t idx = loop->free_head;
    struct timer *t = &loop->timers[idx];
    loop->free_head = t->next_free;
    t->deadline = deadline_mono_ns;
    t->seq = loop->next_seq++;
    t->cb = cb;
    t->arg = arg;
    t->gen = next_gen(t->gen);
    loop->heap[loop->heap_len] = idx;
    heap_up(loop, loop->heap_len++);
    return (uint64_t)t->gen << 32 | idx;
}

loop_timer_id loop_timer_after(struct loop *loop, int64_t delay_ns, loop_timer_cb cb, void *arg)
{
    return loop_timer_add(loop, loop_mono_ns() + (delay_ns > 0 ? delay_ns : 0), cb, arg);
}

loop_timer_id loop_timer_at_realtime(struct loop *loop, struct clk_time deadline, loop_timer_cb cb,
                                     void *arg)
{
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t now_rt = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
    return loop_timer_after(loop, deadline.ns - now_rt, cb, arg);
}

int loop_timer_cancel(struct loop *loop, loop_timer_id id)
{
    uint32_t idx = (uint32_t)id;
    if (idx >= loop->timers_cap) {
        return LP_E_NOTFOUND;
    }
    struct timer *t = &loop->timers[idx];
    if (t->heap_pos == LOOP_FREE || t->gen != (uint32_t)(id >> 32)) {
        return LP_E_NOTFOUND;
    }
    heap_remove(loop, t->heap_pos);
    return 0;
}

/* Run the timers due at now that existed before this pass (a callback re-adding a zero-delay
 * timer cannot starve fd events). Returns the number run. */
static int fire_timers(struct loop *loop, int64_t now)
{
    uint64_t pass_end = loop->next_seq;
    int n = 0;
    while (loop->heap_len > 0) {
        struct timer *t = &loop->timers[loop->heap[0]];
        if (t->deadline > now || t->seq >= pass_end) {
            break;
        }
        loop_timer_cb cb = t->cb;
        void *arg = t->arg;
        loop_timer_id id = (uint64_t)t->gen << 32 | loop->heap[0];
        heap_remove(loop, 0);
        cb(loop, id, arg);
        n++;
    }
    return n;
}

void loop_set_timer_slack(struct loop *loop, int64_t slack_ns)
{
    loop->slack_ns = slack_ns > 0 ? slack_ns : 0;
}

/* Point the timerfd at the earliest deadline (only when it changed). */
static int arm_timerfd(struct loop *loop)
{
    int64_t want = loop->heap_len ? loop->timers[loop->heap[0]].deadline : LOOP_NO_DEADLINE;
    if (want != LOOP_NO_DEADLINE && loop->slack_ns > 0 && want > 0) {
        want = (want + loop->slack_ns - 1) / loop->slack_ns * loop->slack_ns; /* up to a slot */
    }
    if (want == loop->armed) {
        return 0;
    }
    struct itimerspec its = {0};
    if (want != LOOP_NO_DEADLINE) {
        int64_t at = want > 0 ? want : 1; /* all-zero would disarm */
        its.it_value.tv_sec = at / 1000000000;
        its.it_value.tv_nsec = at % 1000000000;
    }
    if (timerfd_settime(loop->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        return LP_E_IO;
    }
    loop->armed = want;
    return 0;
}

/* ---- signals ---- */

int loop_add_signal(struct loop *loop, int signo, loop_signal_cb cb, void *arg)
{
    if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP || cb == NULL ||
        loop->sig[signo].cb != NULL) {
        return LP_E_VALUE;
    }
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, signo);
    if (pthread_sigmask(SIG_BLOCK, &one, &old) != 0) {
        return LP_E_IO;
    }
    if (!sigismember(&old, signo)) {
        sigaddset(&loop->blocked_by_us, signo);
    }
    sigaddset(&loop->sigs, signo);
    int sfd = signalfd(loop->sfd, &loop->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        sigdelset(&loop->sigs, signo);
        return LP_E_IO;
    }
    if (loop->sfd < 0 && epoll_add(loop->epfd, sfd, EPOLLIN, LOOP_TOKEN_SIGNAL) != 0) {
        close(sfd);
        sigdelset(&loop->sigs, signo);
        return LP_E_IO;
    }
    loop->sfd = sfd;
    loop->sig[signo] = (struct sig_slot){.cb = cb, .arg = arg};
    loop->nsigs++;
    return 0;
}

static int dispatch_signals(struct loop *loop)
{
    struct signalfd_siginfo si;
    int n = 0;
    while (read(loop->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo < NSIG && loop->sig[si.ssi_signo].cb != NULL) {
            loop->sig[si.ssi_signo].cb(loop, (int)si.ssi_signo, loop->sig[si.ssi_signo].arg);
            n++;
        }
    }
    return n;
}

/* ---- dispatch ---- */

static int dispatch_event(struct loop *loop, const struct epoll_event *ev)
{
    uint64_t token = ev->data.u64;
    if (token == LOOP_TOKEN_TIMER) {
        uint64_t ticks;
        (void)!read(loop->tfd, &ticks, sizeof(ticks)); /* clears readiness; timers run later */
        return 0;
    }
    if (token == LOOP_TOKEN_SIGNAL) {
        return dispatch_signals(loop);
    }
    int fd = (int)(uint32_t)token;
    struct fd_slot *s = find_fd(loop, fd);
    if (s == NULL || s->gen != (uint32_t)(token >> 32)) {
        return 0; /* deleted (and maybe re-added) by an earlier callback of this round */
    }
    s->cb(loop, fd, from_epoll(ev->events), s->arg);
    return 1;
}

int loop_run_once(struct loop *loop, int max_wait_ms)
{
    if (arm_timerfd(loop) != 0) {
        return LP_E_IO;
    }
    int wait_ms = max_wait_ms;
    if (loop->heap_len > 0 && loop->timers[loop->heap[0]].deadline <= loop_mono_ns()) {
        wait_ms = 0;
    }
    struct epoll_event evs[LOOP_MAX_EVENTS];
    int n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, wait_ms);
    if (n < 0 && errno != EINTR) {
        return LP_E_IO;
    }
    int ran = 0;
    for (int i = 0; i < n; i++) {
        ran += dispatch_event(loop, &evs[i]);
    }
    return ran + fire_timers(loop, loop_mono_ns());
}

int loop_run(struct loop *loop)
{
    loop->stop = false;
    while (!loop->stop && (loop->fds_watched > 0 || loop->heap_len > 0 || loop->nsigs > 0)) {
        int r = loop_run_once(loop, -1);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

void loop_stop(struct loop *loop)
{
    loop->stop = true;
}
