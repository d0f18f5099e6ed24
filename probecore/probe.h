/* probe.h - one measurement of one target with one module, run asynchronously on the
 * process's event loop, so that one exporter interleaves any number of them: TWAMP and
 * OWAMP over their control connection (the ctrl state machine driven by loop events, as the
 * daemons do), TWAMP Light and STAMP as a plain test session. OWAMP measures toward the
 * target (its records come back with Fetch-Session after Stop-Sessions) and from it (a local
 * receiver). The result is one session's figures (pstats.h). */
#ifndef PROBE_PROBE_H
#define PROBE_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "pconf.h"
#include "pstats.h"
#include "session.h"

struct probe;
struct pres;

/* What every measurement shares: the loop, the sessions' I/O buffers, the buckets. */
struct probe_env {
    struct loop *loop;
    struct pres *res; /* resolves names off the loop; NULL: getaddrinfo, which blocks */
    struct sess_scratch *scratch;
    const int64_t *buckets_ns; /* copied by probe_start */
    size_t nbuckets;
};

/* Called once when the measurement has ended (from a loop timer: the callee may destroy p). */
typedef void (*probe_done_fn)(struct probe *p, void *arg);

/* Start measuring target (HOST[:PORT]; the protocol's port by default) with module m
 * (copied). It ends by itself, at the latest at deadline_mono (CLOCK_MONOTONIC ns; 0: a
 * bound from the module's schedule), and then calls done. NULL only when out of memory. */
struct probe *probe_start(const struct probe_env *env, const struct pc_module *m,
                          const char *target, int64_t deadline_mono, probe_done_fn done, void *arg);

/* Once done: the session's figures (sessions_ok or sessions_failed is 1), whether it
 * measured, why not ("" when it did), how long it took. */
const struct pst_target *probe_figures(const struct probe *p);
bool probe_ok(const struct probe *p);
const char *probe_error(const struct probe *p);
int64_t probe_duration_ns(const struct probe *p);

/* Stop (if running) and free. */
void probe_destroy(struct probe *p);

/* How long a session of m takes at most, by its schedule, with the loss timeout and a
 * margin for the control exchanges: the bound used when no deadline is given. */
int64_t probe_bound_ns(const struct pc_module *m);

#endif
