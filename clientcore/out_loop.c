/* out_loop.c - --continuous / --sessions N (like perfSONAR's powstream): back-to-back
 * sessions of -c packets to one target on one event loop, each reported on its own (to
 * stdout, JSON Lines with --json, or one file per session in --out-dir DIR, written to a
 * hidden temporary name and renamed when complete). Nothing accumulates across sessions
 * except the --prom counters (a few integers per direction), so memory stays bounded. A
 * session that fails (server down or restarting, network) is reported like any other and
 * the next one starts after a back-off that doubles from 1 s (or --retry-max if smaller) up
 * to --retry-max; a success resets it. SIGINT/SIGTERM end the loop after reporting the
 * session in progress. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "out.h"

#define LOOP_BACKOFF_MIN_NS 1000000000LL

/* A session's report file in --out-dir: stdout goes to tmp until it is renamed to path. */
struct session_file {
    char path[4096], tmp[4096];
    FILE *f;
    int saved_fd; /* the real stdout while redirected, or -1 */
};

static void file_begin(const struct opts *o, struct session_file *sf, long seq)
{
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    snprintf(sf->path, sizeof(sf->path), "%s/%s-%s.%03ldZ-%06ld.%s", o->out_dir, o->prog, stamp,
             ts.tv_nsec / 1000000, seq, o->json ? "json" : "txt");
    snprintf(sf->tmp, sizeof(sf->tmp), "%s/.%s-%06ld.tmp", o->out_dir, o->prog, seq);
    sf->saved_fd = -1;
    if (!(sf->f = fopen(sf->tmp, "w"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, sf->tmp, strerror(errno));
        return;
    }
    fflush(stdout);
    sf->saved_fd = dup(1);
    if (sf->saved_fd < 0 || dup2(fileno(sf->f), 1) < 0) {
        fprintf(stderr, "%s: cannot redirect the report: %s\n", o->prog, strerror(errno));
    }
}

/* Restore stdout and publish the file; false when it could not be written. */
static bool file_end(const struct opts *o, struct session_file *sf)
{
    bool ok = sf->f != NULL;
    fflush(stdout);
    if (sf->saved_fd >= 0) {
        dup2(sf->saved_fd, 1);
        close(sf->saved_fd);
    }
    if (sf->f) {
        ok = fclose(sf->f) == 0 && rename(sf->tmp, sf->path) == 0;
        if (!ok) {
            fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, sf->path, strerror(errno));
            unlink(sf->tmp);
        }
    }
    return ok;
}

static int one_session(struct out_ctx *x, struct app *a, long seq)
{
    const struct opts *o = x->o;
    struct session_file sf = {.saved_fd = -1};
    struct json_object *doc = NULL;
    if (o->out_dir) {
        file_begin(o, &sf, seq);
    }
    int rc = out_measure(x, a, o->targets[0], seq, &doc);
    if (o->out_dir && !file_end(o, &sf)) {
        rc = OPTS_EXIT_FAILED;
    }
    if (x->prom && doc) {
        out_prom_add(x->prom, doc);
        out_prom_write(x->prom, o->prom, o->prog);
    }
    json_object_put(doc);
    return rc;
}

int out_continuous(struct out_ctx *x)
{
    const struct opts *o = x->o;
    struct app a;
    int worst = OPTS_EXIT_OK;
    int64_t first = o->retry_max_ns < LOOP_BACKOFF_MIN_NS ? o->retry_max_ns : LOOP_BACKOFF_MIN_NS;
    int64_t backoff = first;
    if (o->out_dir && mkdir(o->out_dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", o->prog, o->out_dir, strerror(errno));
        return OPTS_EXIT_FAILED;
    }
    if (out_app_open(&a, o) < 0) {
        return OPTS_EXIT_FAILED;
    }
    for (long seq = 0; (o->sessions == 0 || seq < (long)o->sessions) && !a.interrupted; seq++) {
        int rc = one_session(x, &a, seq);
        if (a.interrupted) {
            break; /* the way a continuous run ends: not a failure */
        }
        worst = out_worst(worst, rc);
        bool more = o->sessions == 0 || seq + 1 < (long)o->sessions;
        if (rc != OPTS_EXIT_FAILED || !more) {
            backoff = first;
            continue;
        }
        fprintf(stderr, "%s: session %ld failed; next attempt in %.1f s\n", o->prog, seq,
                (double)backoff / 1e9);
        app_sleep_until(&a, loop_mono_ns() + backoff);
        backoff = backoff * 2 > o->retry_max_ns ? o->retry_max_ns : backoff * 2;
    }
    out_app_close(&a);
    return worst;
}
