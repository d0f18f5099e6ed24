/* loop.h - the one event loop per process: epoll for file descriptors, a min-heap of timers
 * on CLOCK_MONOTONIC behind one timerfd, and signals delivered through a signalfd.
 * Not thread-safe: one loop belongs to one thread. */
#ifndef LP_LOOP_H
#define LP_LOOP_H

#include <stdint.h>

#include "clock.h"

struct loop;

/* Event bits for loop_add_fd()/loop_mod_fd() and for the callback's events argument.
 * LOOP_ERR is always reported by the kernel (it cannot be masked); a socket with queued TX
 * timestamps on its error queue reports LOOP_ERR. */
enum {
    LOOP_READ = 1u << 0,
    LOOP_WRITE = 1u << 1,
    LOOP_ERR = 1u << 2,
    LOOP_HUP = 1u << 3,
};

/* Timer handle; 0 is never a valid id. */
typedef uint64_t loop_timer_id;

typedef void (*loop_fd_cb)(struct loop *loop, int fd, unsigned events, void *arg);
typedef void (*loop_timer_cb)(struct loop *loop, loop_timer_id id, void *arg);
typedef void (*loop_signal_cb)(struct loop *loop, int signo, void *arg);

/* New loop, or NULL (errno set). */
struct loop *loop_create(void);

/* Free the loop and its timers; closes only its own epoll/timer/signal fds (never the fds
 * registered by callers) and unblocks the signals that loop_add_signal() blocked. */
void loop_destroy(struct loop *loop);

/* Watch fd for events (LOOP_READ | LOOP_WRITE); cb gets the events that fired. The caller
 * keeps ownership of fd and must loop_del_fd() before closing it. 0, LP_E_VALUE if fd is
 * already watched, LP_E_NOMEM or LP_E_IO. */
int loop_add_fd(struct loop *loop, int fd, unsigned events, loop_fd_cb cb, void *arg);

/* Change the events watched on fd. 0, LP_E_NOTFOUND or LP_E_IO. */
int loop_mod_fd(struct loop *loop, int fd, unsigned events);

/* Stop watching fd; safe from inside any callback (pending events for fd are dropped).
 * 0 or LP_E_NOTFOUND. */
int loop_del_fd(struct loop *loop, int fd);

/* Current CLOCK_MONOTONIC time in ns: the time base of every loop timer. */
int64_t loop_mono_ns(void);

/* Run cb once at deadline_mono_ns (CLOCK_MONOTONIC ns, see loop_mono_ns()). Timers with
 * equal deadlines fire in the order they were added. Returns the id, or 0 when out of
 * memory. Timers are monotonic so that clock steps (NTP, PTP) never stretch protocol
 * timeouts; precise send pacing on the wall clock is sock_pacer's job, not the loop's. */
loop_timer_id loop_timer_add(struct loop *loop, int64_t deadline_mono_ns, loop_timer_cb cb,
                             void *arg);

/* Same, delay_ns from now (negative means now). */
loop_timer_id loop_timer_after(struct loop *loop, int64_t delay_ns, loop_timer_cb cb, void *arg);

/* Same, at a CLOCK_REALTIME instant, converted to monotonic once at the call: a later step
 * of the wall clock does not move the timer. */
loop_timer_id loop_timer_at_realtime(struct loop *loop, struct clk_time deadline, loop_timer_cb cb,
                                     void *arg);

/* Let timers run up to slack_ns late so that those due close together share one wake-up:
 * the timerfd is set to the end of the slack_ns slot (on the monotonic clock) that holds the
 * earliest deadline, and every timer due by then runs. 0 (the default): each timer at its
 * deadline. For a process with many independent schedules (ippm_exporter), where a wake-up
 * per timer costs more than the work it does. */
void loop_set_timer_slack(struct loop *loop, int64_t slack_ns);

/* Cancel a pending timer; safe from inside callbacks. 0, or LP_E_NOTFOUND when the id has
 * already fired or been cancelled. */
int loop_timer_cancel(struct loop *loop, loop_timer_id id);

/* Deliver signo through the loop: the signal is blocked for the calling thread (call this
 * before creating other threads) and read from a signalfd; cb runs as an ordinary loop
 * event, so it may do anything. One callback per signal. 0, LP_E_VALUE or LP_E_IO. */
int loop_add_signal(struct loop *loop, int signo, loop_signal_cb cb, void *arg);

/* Wait at most max_wait_ms (-1: until something happens, 0: poll) and dispatch ready fd
 * events, signals and due timers. Returns the number of callbacks run (0 on timeout), or
 * LP_E_IO. */
int loop_run_once(struct loop *loop, int max_wait_ms);

/* Dispatch until loop_stop() is called or nothing is left to wait for (no fds, timers or
 * signals). 0, or LP_E_IO. */
int loop_run(struct loop *loop);

/* Make loop_run() return after the current dispatch round; callable from callbacks. */
void loop_stop(struct loop *loop);

#endif
