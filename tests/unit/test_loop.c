/* test_loop.c - the event loop: fd callbacks, timer order and cancellation, signals through
 * the signalfd, run_once time-outs and loop_stop. Only generous wall-clock bounds are used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "common.h"
#include "loop.h"

#define MS 1000000LL

/* ---- fd callbacks ---- */

struct fd_seen {
    int calls;
    int last_fd;
    unsigned last_events;
};

static void on_fd(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    struct fd_seen *s = arg;
    s->calls++;
    s->last_fd = fd;
    s->last_events = events;
    if (events & LOOP_READ) {
        char c;
        assert_int_equal(read(fd, &c, 1), 1);
    }
}

static void test_fd_read_write(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    assert_non_null(l);
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fd_seen rd = {0}, wr = {0};
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &rd), 0);
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &rd), LP_E_VALUE);

    assert_int_equal(loop_run_once(l, 0), 0); /* nothing to read yet */
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(rd.calls, 1);
    assert_int_equal(rd.last_fd, p[0]);
    assert_true(rd.last_events & LOOP_READ);
    assert_int_equal(loop_run_once(l, 0), 0); /* byte consumed */

    /* An empty pipe is writable at once; after mod to READ it no longer fires. */
    assert_int_equal(loop_add_fd(l, p[1], LOOP_WRITE, on_fd, &wr), 0);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(wr.calls, 1);
    assert_true(wr.last_events & LOOP_WRITE);
    assert_int_equal(loop_mod_fd(l, p[1], LOOP_READ), 0);
    assert_int_equal(loop_run_once(l, 0), 0);

    assert_int_equal(loop_del_fd(l, p[1]), 0);
    assert_int_equal(loop_del_fd(l, p[1]), LP_E_NOTFOUND);
    assert_int_equal(loop_mod_fd(l, p[1], LOOP_READ), LP_E_NOTFOUND);
    assert_int_equal(write(p[1], "y", 1), 1);
    assert_int_equal(loop_del_fd(l, p[0]), 0);
    assert_int_equal(loop_run_once(l, 0), 0); /* deleted: readable but not reported */
    assert_int_equal(rd.calls, 1);
    close(p[0]);
    close(p[1]);
    loop_destroy(l);
}

/* Two readable pipes; whichever callback runs first deletes the other, whose event is
 * already in the same epoll batch: it must not be dispatched. */
struct pair {
    int fds[2];
    int calls;
};

static void on_pair(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    struct pair *p = arg;
    p->calls++;
    loop_del_fd(loop, fd == p->fds[0] ? p->fds[1] : p->fds[0]);
    loop_del_fd(loop, fd);
}

static void test_delete_inside_callback(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    int a[2], b[2];
    assert_int_equal(pipe(a), 0);
    assert_int_equal(pipe(b), 0);
    struct pair pr = {.fds = {a[0], b[0]}};
    assert_int_equal(loop_add_fd(l, a[0], LOOP_READ, on_pair, &pr), 0);
    assert_int_equal(loop_add_fd(l, b[0], LOOP_READ, on_pair, &pr), 0);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    usleep(1000);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(pr.calls, 1);
    assert_int_equal(loop_run_once(l, 0), 0);
    assert_int_equal(loop_run(l), 0); /* nothing left to wait for: returns at once */
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    loop_destroy(l);
}

/* The first callback deletes and closes the other pipe; a new pipe then reuses its fd
 * number and is registered with a new callback. The old event still in this round's batch
 * must not reach the new registration (its pipe is empty). */
struct reuse {
    int a_rd;
    int b_rd, b_wr;
    int new_rd, new_wr;
    int first_calls;
    struct fd_seen fresh;
};

static void on_fresh(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    struct fd_seen *s = arg;
    s->calls++;
    s->last_events = events;
}

static void on_first(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    struct reuse *r = arg;
    r->first_calls++;
    int other = fd == r->a_rd ? r->b_rd : r->a_rd;
    loop_del_fd(loop, fd);
    loop_del_fd(loop, other);
    close(other);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(p[0], other); /* lowest free fd: the number is reused */
    r->new_rd = p[0];
    r->new_wr = p[1];
    assert_int_equal(loop_add_fd(loop, p[0], LOOP_READ, on_fresh, &r->fresh), 0);
}

static void test_fd_reuse_in_same_round(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    int a[2], b[2];
    assert_int_equal(pipe(a), 0);
    assert_int_equal(pipe(b), 0);
    struct reuse r = {.a_rd = a[0], .b_rd = b[0], .b_wr = b[1]};
    assert_int_equal(loop_add_fd(l, a[0], LOOP_READ, on_first, &r), 0);
    assert_int_equal(loop_add_fd(l, b[0], LOOP_READ, on_first, &r), 0);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(r.first_calls, 1);
    assert_int_equal(r.fresh.calls, 0);
    assert_int_equal(loop_run_once(l, 0), 0); /* the new pipe is empty */
    assert_int_equal(write(r.new_wr, "y", 1), 1);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(r.fresh.calls, 1);
    loop_del_fd(l, r.new_rd);
    int survivor = r.new_rd == a[0] ? b[0] : a[0];
    close(survivor);
    close(r.new_rd);
    close(r.new_wr);
    close(a[1]);
    close(b[1]);
    loop_destroy(l);
}

/* ---- timers ---- */

struct fired {
    int order[256];
    int n;
};

struct tmark {
    struct fired *log;
    int tag;
    int64_t deadline;
};

static void on_timer(struct loop *loop, loop_timer_id id, void *arg)
{
    (void)loop;
    (void)id;
    struct tmark *m = arg;
    assert_true(loop_mono_ns() >= m->deadline); /* never early */
    m->log->order[m->log->n++] = m->tag;
}

static void test_timers_fire_in_order(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    struct fired log = {0};
    int64_t t0 = loop_mono_ns();
    /* Added out of order; 2 and 3 share a deadline and must keep insertion order. */
    struct tmark m[] = {{&log, 4, t0 + 30 * MS},
                        {&log, 1, t0 + 10 * MS},
                        {&log, 2, t0 + 20 * MS},
                        {&log, 3, t0 + 20 * MS},
                        {&log, 0, t0 - 5 * MS}};
    for (size_t i = 0; i < LP_ARRAY_LEN(m); i++) {
        assert_int_not_equal(loop_timer_add(l, m[i].deadline, on_timer, &m[i]), 0);
    }
    assert_int_equal(loop_run(l), 0); /* returns once the last timer has fired */
    assert_int_equal(log.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(log.order[i], i);
    }
    assert_true(loop_mono_ns() - t0 >= 30 * MS);
    loop_destroy(l);
}

/* With a slack, timers due in the same slot share one wake-up, at the slot's end: never
 * early, at most a slot late. */
static void test_timer_slack(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    struct fired log = {0};
    const int64_t slack = 50 * MS;
    loop_set_timer_slack(l, slack);
    int64_t end = (loop_mono_ns() + 10 * MS + slack - 1) / slack * slack; /* a slot's end */
    struct tmark m[] = {{&log, 0, end - 2 * MS}, {&log, 1, end - 1 * MS}};
    for (size_t i = 0; i < LP_ARRAY_LEN(m); i++) {
        assert_int_not_equal(loop_timer_add(l, m[i].deadline, on_timer, &m[i]), 0);
    }
    int n = 0;
    while (n == 0) {
        n = loop_run_once(l, 1000);
    }
    assert_int_equal(n, 2); /* both in one round */
    assert_int_equal(log.n, 2);
    assert_true(loop_mono_ns() >= end);
    loop_destroy(l);
}

static void test_timer_cancel(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    struct fired log = {0};
    int64_t t0 = loop_mono_ns();
    struct tmark m[] = {{&log, 1, t0 + 5 * MS}, {&log, 2, t0 + 10 * MS}, {&log, 3, t0 + 15 * MS}};
    loop_timer_id ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = loop_timer_add(l, m[i].deadline, on_timer, &m[i]);
    }
    assert_int_equal(loop_timer_cancel(l, ids[1]), 0);
    assert_int_equal(loop_timer_cancel(l, ids[1]), LP_E_NOTFOUND);
    assert_int_equal(loop_timer_cancel(l, 0), LP_E_NOTFOUND);
    assert_int_equal(loop_timer_cancel(l, (loop_timer_id)1 << 40 | 9999), LP_E_NOTFOUND);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.order[0], 1);
    assert_int_equal(log.order[1], 3);
    assert_int_equal(loop_timer_cancel(l, ids[0]), LP_E_NOTFOUND); /* already fired */
    /* A recycled slot gets a new id: the stale id must not cancel the new timer. */
    struct tmark again = {&log, 9, loop_mono_ns()};
    loop_timer_id fresh = loop_timer_after(l, 0, on_timer, &again);
    assert_int_not_equal(fresh, ids[0]);
    assert_int_not_equal(fresh, ids[2]);
    assert_int_equal(loop_timer_cancel(l, ids[0]), LP_E_NOTFOUND);
    assert_int_equal(loop_timer_cancel(l, ids[2]), LP_E_NOTFOUND);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(log.order[2], 9);
    loop_destroy(l);
}

/* A callback cancelling a later timer. */
struct canceller {
    loop_timer_id victim;
    int result;
};

static void on_cancel(struct loop *loop, loop_timer_id id, void *arg)
{
    (void)id;
    struct canceller *c = arg;
    c->result = loop_timer_cancel(loop, c->victim);
}

static void test_cancel_from_callback(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    struct fired log = {0};
    int64_t t0 = loop_mono_ns();
    struct tmark victim = {&log, 1, t0 + 2 * MS};
    struct canceller c = {.result = 99};
    assert_int_not_equal(loop_timer_add(l, t0 + 1 * MS, on_cancel, &c), 0);
    c.victim = loop_timer_add(l, victim.deadline, on_timer, &victim);
    usleep(5000); /* both are due in the same pass */
    assert_int_equal(loop_run_once(l, 0), 1);
    assert_int_equal(c.result, 0);
    assert_int_equal(log.n, 0);
    loop_destroy(l);
}

/* Many timers with pseudo-random deadlines and cancellations: the heap must hand them out
 * in (deadline, insertion) order. */
struct heap_rec {
    int64_t deadline;
    int idx;
    int *last_idx;
    int64_t *last_deadline;
    int *count;
};

static void on_heap(struct loop *loop, loop_timer_id id, void *arg)
{
    (void)loop;
    (void)id;
    struct heap_rec *r = arg;
    assert_true(r->deadline > *r->last_deadline ||
                (r->deadline == *r->last_deadline && r->idx > *r->last_idx));
    *r->last_deadline = r->deadline;
    *r->last_idx = r->idx;
    (*r->count)++;
}

static void test_timer_heap_stress(void **state)
{
    (void)state;
    enum { N = 300 };
    static struct heap_rec recs[N];
    loop_timer_id ids[N];
    struct loop *l = loop_create();
    int last_idx = -1, count = 0;
    int64_t last_deadline = INT64_MIN;
    int64_t t0 = loop_mono_ns();
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        /* deadlines on a coarse 1 ms grid so that ties happen */
        recs[i] = (struct heap_rec){t0 + (int64_t)((x >> 16) % 20) * MS, i, &last_idx,
                                    &last_deadline, &count};
        ids[i] = loop_timer_add(l, recs[i].deadline, on_heap, &recs[i]);
    }
    int cancelled = 0;
    for (int i = 0; i < N; i += 3) {
        assert_int_equal(loop_timer_cancel(l, ids[i]), 0);
        cancelled++;
    }
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(count, N - cancelled);
    loop_destroy(l);
}

/* A timer that re-arms itself with zero delay must not starve fd events. */
struct rearm {
    int runs;
};

static void on_rearm(struct loop *loop, loop_timer_id id, void *arg)
{
    (void)id;
    struct rearm *r = arg;
    r->runs++;
    if (r->runs < 1000) { /* bounded, so a broken loop fails instead of hanging */
        loop_timer_add(loop, 0, on_rearm, r); /* a deadline long past */
    }
}

static void test_zero_delay_no_starvation(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fd_seen rd = {0};
    struct rearm r = {0};
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &rd), 0);
    loop_timer_add(l, 0, on_rearm, &r);
    assert_int_equal(write(p[1], "x", 1), 1);
    for (int i = 0; i < 3 && rd.calls == 0; i++) {
        assert_true(loop_run_once(l, -1) >= 1);
    }
    assert_int_equal(rd.calls, 1);
    assert_true(r.runs >= 1 && r.runs <= 3); /* one run per pass, not an endless pass */
    loop_del_fd(l, p[0]);
    close(p[0]);
    close(p[1]);
    loop_destroy(l);
}

static void test_timer_at_realtime(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    struct fired log = {0};
    struct tmark m = {&log, 7, 0};
    struct clk_time deadline = {clk_now().ns + 20 * MS};
    m.deadline = loop_mono_ns(); /* the mono bound is checked loosely below instead */
    assert_int_not_equal(loop_timer_at_realtime(l, deadline, on_timer, &m), 0);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(log.n, 1);
    assert_true(clk_now().ns >= deadline.ns - 1 * MS); /* allow for a tiny clock slew */
    loop_destroy(l);
}

/* ---- run_once and loop_stop ---- */

static void test_run_once_timeout(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    int64_t t0 = loop_mono_ns();
    assert_int_equal(loop_run_once(l, 50), 0);
    int64_t waited = loop_mono_ns() - t0;
    assert_true(waited >= 45 * MS);
    assert_true(waited < 5000 * MS);

    /* A timer earlier than max_wait_ms ends the wait and is counted. */
    struct fired log = {0};
    struct tmark m = {&log, 1, loop_mono_ns() + 20 * MS};
    loop_timer_add(l, m.deadline, on_timer, &m);
    t0 = loop_mono_ns();
    int ran = 0;
    while (ran == 0 && loop_mono_ns() - t0 < 5000 * MS) {
        ran = loop_run_once(l, 10000);
    }
    assert_int_equal(ran, 1);
    assert_int_equal(log.n, 1);
    assert_true(loop_mono_ns() - t0 < 5000 * MS);
    loop_destroy(l);
}

static void on_stop(struct loop *loop, loop_timer_id id, void *arg)
{
    (void)id;
    (*(int *)arg)++;
    loop_stop(loop);
}

static void test_loop_stop(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    struct fired log = {0};
    int stops = 0;
    struct tmark far = {&log, 1, loop_mono_ns() + 60000 * MS};
    loop_timer_id far_id = loop_timer_add(l, far.deadline, on_timer, &far);
    loop_timer_after(l, 5 * MS, on_stop, &stops);
    int64_t t0 = loop_mono_ns();
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(stops, 1);
    assert_int_equal(log.n, 0);
    assert_true(loop_mono_ns() - t0 < 30000 * MS);
    assert_int_equal(loop_timer_cancel(l, far_id), 0); /* still pending */
    loop_destroy(l);
}

/* ---- signals ---- */

struct sig_seen {
    int calls;
    int signo;
};

static void on_signal(struct loop *loop, int signo, void *arg)
{
    (void)loop;
    struct sig_seen *s = arg;
    s->calls++;
    s->signo = signo;
}

static void test_signal_via_signalfd(void **state)
{
    (void)state;
    struct loop *l = loop_create();
    struct sig_seen seen = {0};
    assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, &seen), 0);
    assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, &seen), LP_E_VALUE);
    assert_int_equal(loop_add_signal(l, SIGKILL, on_signal, &seen), LP_E_VALUE);
    assert_int_equal(loop_add_signal(l, 0, on_signal, &seen), LP_E_VALUE);

    assert_int_equal(raise(SIGUSR1), 0); /* blocked: stays pending until the loop reads it */
    int ran = 0;
    for (int i = 0; i < 10 && ran == 0; i++) {
        ran = loop_run_once(l, 1000);
    }
    assert_int_equal(ran, 1);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.signo, SIGUSR1);
    assert_int_equal(loop_run_once(l, 0), 0);

    /* A second raise before destroy is drained, so unblocking cannot kill the test. */
    assert_int_equal(raise(SIGUSR1), 0);
    loop_destroy(l);
    sigset_t cur;
    assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    assert_false(sigismember(&cur, SIGUSR1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_read_write),
        cmocka_unit_test(test_delete_inside_callback),
        cmocka_unit_test(test_fd_reuse_in_same_round),
        cmocka_unit_test(test_timers_fire_in_order),
        cmocka_unit_test(test_timer_slack),
        cmocka_unit_test(test_timer_cancel),
        cmocka_unit_test(test_cancel_from_callback),
        cmocka_unit_test(test_timer_heap_stress),
        cmocka_unit_test(test_zero_delay_no_starvation),
        cmocka_unit_test(test_timer_at_realtime),
        cmocka_unit_test(test_run_once_timeout),
        cmocka_unit_test(test_loop_stop),
        cmocka_unit_test(test_signal_via_signalfd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
