/* powstream.c - the stream (see powstream.h). Sessions of -c packets follow each other on
 * one schedule: each starts at the scheduled time of the previous one's last packet, and is
 * set up (its own control connection, requested and started) while the previous one runs,
 * as the reference does. A finished session is saved as START_END.owp (with -t fetched from
 * the server into the file as the server returns it; otherwise this host's receiver
 * records) and START_END.sum (its -M summary), each written as NAME.i and renamed when
 * complete, then named on stdout with -p. With -N every N packets also get a .sum (and with
 * -n an .owp) once their loss timeout has passed; with -t their records are fetched on a
 * second control connection while the session runs. After a failure the next attempt waits
 * 1, 2, 4 ... seconds, at most -I. SIGTERM and SIGINT save the session in progress (marked
 * unfinished) and end the program within half a second, as pScheduler expects; SIGHUP saves
 * it and starts over with new connections. Messages go to syslog and, unless -R, to stderr;
 * those of the OWAMP engine come through a pipe on stderr and are logged as warnings. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "crypto.h"
#include "owpfile.h"
#include "sched.h"

#include "owamp.h"
#include "powstream.h"

#define POW_SALVAGE_NS 300000000LL /* stop and fetch at exit: pScheduler kills after 0.5 s */
#define POW_SUB_FETCH_NS 10000000000LL
#define POW_LOCK ".powlock"
#define POW_PATH_MAX 4096

struct pow;

/* One session of the stream. */
struct pow_sess {
    struct ow_run r;
    bool active;          /* requested and started */
    struct clk_ntp start; /* its start time */
    uint64_t end_ntp;     /* the scheduled time of its last packet */
    struct sched *gen;    /* its schedule, walked forward for the -N parts */
    uint32_t gen_count;   /* packets the walk has passed */
    uint64_t gen_off;     /* offset of the last of them */
    uint32_t nsub_done;   /* -N parts saved */
    uint64_t sub_start;   /* START of the next part */
    struct conn fc;       /* -t -N: the connection the parts are fetched on */
    bool fc_open;
    char owp[POW_PATH_MAX];
};

struct pow {
    struct pow_opts *po;
    const struct opts *o;
    struct app a;
    bool quit, hup; /* SIGTERM/SIGINT, SIGHUP arrived */
    int err_fd;     /* the real stderr */
    int pipe_rd;    /* what the engine writes on stderr */
    char line[1024];
    size_t linelen;
    unsigned failures; /* attempts in a row that failed */
};

/* ---- logging ---- */

static void pow_vlog(struct pow *p, int prio, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void pow_vlog(struct pow *p, int prio, const char *fmt, va_list ap)
{
    char msg[1024];
    if (prio > p->po->level) {
        return;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    syslog(prio, "%s", msg);
    if (!p->po->syslog_only) {
        dprintf(p->err_fd, "%s[%d]: %s\n", p->o->prog, (int)getpid(), msg);
    }
}

static void pow_log(struct pow *p, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void pow_log(struct pow *p, int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pow_vlog(p, prio, fmt, ap);
    va_end(ap);
}

/* A line the engine wrote on stderr ("powstream: ..."): logged as a warning. */
static void engine_line(struct pow *p, char *line)
{
    size_t n = strlen(p->o->prog);
    if (strncmp(line, p->o->prog, n) == 0 && strncmp(line + n, ": ", 2) == 0) {
        line += n + 2;
    }
    if (*line) {
        pow_log(p, LOG_WARNING, "%s", line);
    }
}

/* Read what the engine wrote; complete lines are logged. */
static void drain_engine(struct pow *p)
{
    ssize_t n;
    while ((n = read(p->pipe_rd, p->line + p->linelen, sizeof(p->line) - 1 - p->linelen)) > 0) {
        p->linelen += (size_t)n;
        p->line[p->linelen] = '\0';
        char *s = p->line, *nl;
        while ((nl = strchr(s, '\n'))) {
            *nl = '\0';
            engine_line(p, s);
            s = nl + 1;
        }
        p->linelen = strlen(s);
        memmove(p->line, s, p->linelen + 1);
        if (p->linelen == sizeof(p->line) - 1) { /* a line too long: as it is */
            engine_line(p, p->line);
            p->linelen = 0;
        }
    }
}

static void on_engine(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    drain_engine(arg);
}

/* syslog, and stderr through a pipe the loop reads (never blocking: a line that does not
 * fit is lost rather than the program stopped). 0 or -1. */
static int logging_open(struct pow *p)
{
    int fds[2];
    openlog(p->o->prog, LOG_PID, p->po->facility);
    p->err_fd = dup(2);
    if (p->err_fd < 0 || pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0 || dup2(fds[1], 2) < 0) {
        fprintf(stderr, "%s: cannot set up logging: %s\n", p->o->prog, strerror(errno));
        return -1;
    }
    close(fds[1]);
    p->pipe_rd = fds[0];
    return loop_add_fd(p->a.loop, p->pipe_rd, LOOP_READ, on_engine, p) < 0 ? -1 : 0;
}

static void logging_close(struct pow *p)
{
    fflush(stderr);
    drain_engine(p);
    if (p->linelen) {
        engine_line(p, p->line);
    }
    dup2(p->err_fd, 2);
    closelog();
}

/* ---- signals, lock ---- */

static void on_signal(struct loop *loop, int signo, void *arg)
{
    struct pow *p = arg;
    (void)loop;
    p->a.grace = false;
    p->a.interrupted = true; /* every wait ends; the session in progress is saved */
    if (signo == SIGHUP) {
        p->hup = true;
    } else {
        p->quit = true;
    }
}

/* The directory's lock, held while the program runs: one powstream per directory. */
static int lock_dir(struct pow *p)
{
    char path[POW_PATH_MAX];
    const char *dir = p->po->dir[0] ? p->po->dir : ".";
    if (p->po->dir[0] && mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", p->o->prog, dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, POW_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0) {
        fprintf(stderr, "%s: cannot lock %s: %s\n", p->o->prog, path,
                errno == EAGAIN || errno == EACCES ? "another powstream uses this directory"
                                                   : strerror(errno));
        return -1;
    }
    return 0; /* kept open (and locked) until the process ends */
}

/* ---- one session ---- */

static bool sending(const struct pow *p)
{
    return p->o->to;
}

static const struct ow_dir *dir_of(const struct pow *p, const struct pow_sess *s)
{
    return sending(p) ? &s->r.to : &s->r.from;
}

/* The scheduled send time (NTP) of packet seq, from the start. */
static uint64_t sched_time(const struct pow *p, const struct pow_sess *s, uint32_t seq)
{
    uint64_t first, last;
    const struct ow_dir *d = dir_of(p, s);
    if (sched_span(s->r.slots, s->r.nslots, d->sid, seq + 1, &first, &last) < 0) {
        last = 0;
    }
    return s->start.raw + last;
}

/* The same for the -N parts, walking the schedule forward: seq never goes back between
 * calls. */
static uint64_t sched_at(struct pow_sess *s, uint32_t seq)
{
    while (s->gen && s->gen_count <= seq) {
        s->gen_off = sched_next_offset(s->gen);
        s->gen_count++;
    }
    return s->start.raw + s->gen_off;
}

/* "DIR/START_END.EXT". */
static void file_name(const struct pow *p, char *out, uint64_t start, uint64_t end, const char *ext)
{
    snprintf(out, POW_PATH_MAX, "%s%s%020" PRIu64 "_%020" PRIu64 ".%s", p->po->dir,
             p->po->dir[0] ? "/" : "", start, end, ext);
}

/* Request and start a session at *start (NULL, or too soon for the round trips still to
 * come: as soon as possible). 0 or -1 (said). */
static int sess_begin(struct pow *p, struct pow_sess *s, const struct clk_ntp *start)
{
    memset(s, 0, sizeof(*s));
    ow_init(&s->r, &p->a, p->o);
    s->r.salvage_ns = POW_SALVAGE_NS;
    s->r.fetch.owp_suffix = ".i";
    s->fc.fd = -1;
    if (ow_begin(&s->r, p->po->target, start) < 0) {
        ow_end(&s->r, false);
        return -1;
    }
    s->active = true;
    s->start = s->r.start;
    if (start && s->start.raw != start->raw) {
        pow_log(p, LOG_WARNING, "a gap in the stream: the session starts %.3f s late",
                (double)(s->start.raw - start->raw) / 4294967296.0);
    }
    const struct ow_dir *d = dir_of(p, s);
    if (sched_create_wire(s->r.slots, s->r.nslots, d->sid, &s->gen) < 0) {
        s->gen = NULL;
    }
    s->end_ntp = sched_time(p, s, p->o->count - 1);
    s->sub_start = s->start.raw;
    file_name(p, s->owp, s->start.raw, s->end_ntp, "owp");
    s->r.fetch.owp_path = sending(p) ? s->owp : NULL;
    pow_log(p, LOG_DEBUG, "session %s requested", s->owp);
    return 0;
}

/* A file named once complete, with -p. */
static void announce(const struct pow *p, const char *owp, const char *sum)
{
    if (p->po->print) {
        printf("%s\n%s\n", owp, sum);
        fflush(stdout);
    }
}

/* Write the -M summary of records [first, first + count) of s (count 0: all) to sum. */
static int write_sum(struct pow *p, const struct out_sess *s, const char *sum, uint32_t first,
                     uint32_t count)
{
    struct save_file sf;
    if (!save_open(&sf, sum, ".i", p->o->prog)) {
        return -1;
    }
    if (out_machine_file(sf.f, p->o, s, first, count) < 0) {
        pow_log(p, LOG_WARNING, "cannot write %s: %s", sum, strerror(errno));
        save_abort(&sf);
        return -1;
    }
    return save_commit(&sf, p->o->prog);
}

/* -N with -t: fetch part k on the second connection (opened when first needed). The
 * records, or NULL (said). */
static struct rst *fetch_part(struct pow *p, struct pow_sess *s, uint32_t k, const char *owp)
{
    char host[256];
    uint32_t mode;
    struct rst *recs = NULL;
    if (!s->fc_open &&
        ping_setup(&p->a, &s->fc, p->po->target, WIRE_OWAMP, host, sizeof(host), &mode) < 0) {
        conn_close(&s->fc, 0);
        return NULL;
    }
    s->fc_open = true;
    struct ow_fetch f = {.c = &s->fc,
                         .begin = k * p->po->nsub,
                         .end = (k + 1) * p->po->nsub - 1,
                         .recs = &recs,
                         .owp_path = owp,
                         .owp_suffix = ".i",
                         .sender = s->r.to.sess};
    memcpy(f.sid, s->r.to.sid, WIRE_SID_LEN);
    if (ow_fetch_run(&f, loop_mono_ns() + POW_SUB_FETCH_NS) < 0 || f.owp_failed) {
        pow_log(p, LOG_WARNING, "could not fetch packets %" PRIu32 "-%" PRIu32 " of %s", f.begin,
                f.end, s->owp);
        ow_fetch_abort(&f);
        conn_close(&s->fc, 0);
        s->fc_open = false; /* a new connection next time */
        if (f.owp_failed || !f.done) {
            rst_destroy(recs);
            return NULL;
        }
    }
    return recs;
}

/* Records of src with a seq in [first, first + count), copied (receive mode, -n). */
static struct rst *part_of(struct rst *src, uint32_t first, uint32_t count)
{
    struct rst *dst = rst_create(sizeof(struct met_owrec), 0, NULL);
    const void *run;
    size_t n;
    for (uint64_t i = 0; dst && (n = rst_get(src, i, &run, NULL)) > 0; i += n) {
        for (const struct met_owrec *r = run, *e = r + n; r < e; r++) {
            if (r->seq >= first && r->seq - first < count && rst_append(dst, r) < 0) {
                rst_destroy(dst);
                return NULL;
            }
        }
    }
    return dst;
}

/* -N: save part k (its loss timeout has passed): .sum, and .owp with -n. */
static void save_part(struct pow *p, struct pow_sess *s, uint32_t k)
{
    uint32_t n = p->po->nsub, first = k * n;
    char owp[POW_PATH_MAX], sum[POW_PATH_MAX];
    struct out_sess os;
    struct rep_tx tx;
    uint64_t end = sched_at(s, first + n - 1);
    file_name(p, owp, s->sub_start, end, "owp");
    file_name(p, sum, s->sub_start, end, "sum");
    struct rst *recs = NULL;
    if (sending(p)) {
        recs = fetch_part(p, s, k, p->po->sub_owp ? owp : NULL);
    } else if (p->po->sub_owp && (recs = part_of(sess_records(s->r.from.sess), first, n))) {
        ow_save_from(&s->r, owp, ".i", true, recs);
    }
    ow_describe(&s->r, sending(p), true, &os, &tx);
    os.recs = recs ? recs : sending(p) ? NULL : sess_records(s->r.from.sess);
    os.rs.npackets = n;
    os.rs.start_ntp = s->sub_start;
    os.rs.end_ntp = end;
    s->sub_start = end;
    if ((!sending(p) || recs) && write_sum(p, &os, sum, first, n) == 0) {
        if (p->po->sub_owp) {
            announce(p, owp, sum);
        } else if (p->po->print) {
            printf("%s\n", sum);
            fflush(stdout);
        }
    }
    rst_destroy(recs);
}

/* Wait for the session's end, saving the -N parts as their loss timeouts pass. 0 or -1. */
static int wait_session(struct pow *p, struct pow_sess *s)
{
    uint32_t nsubs = p->po->nsub ? p->o->count / p->po->nsub : 0;
    int64_t io_ns =
        p->o->slots[0].interval_ns > 1000000000 ? p->o->slots[0].interval_ns : 1000000000;
    while (s->nsub_done < nsubs) {
        uint64_t last = sched_at(s, (s->nsub_done + 1) * p->po->nsub - 1);
        struct clk_time t = clk_from_ntp((struct clk_ntp){last});
        t.ns += s->r.loss_ns + io_ns + 2000000000LL; /* as the reference waits for a part */
        if (ow_wait_until(&s->r, app_mono_at(t)) < 0) {
            return -1;
        }
        save_part(p, s, s->nsub_done++);
    }
    return ow_wait(&s->r);
}

/* How far a session cut short got: packets [0, n) sent or accounted for. */
static uint32_t covered(const struct pow *p, const struct pow_sess *s)
{
    return sending(p) ? sess_next_seqno(s->r.to.sess) : s->r.from.covered;
}

/* A session cut short is named by what it covers (before its file is begun). */
static void name_partial(struct pow *p, struct pow_sess *s)
{
    uint32_t n = covered(p, s);
    s->end_ntp = n ? sched_time(p, s, n - 1) : s->start.raw;
    file_name(p, s->owp, s->start.raw, s->end_ntp, "owp");
}

/* Save a session that ended (ok) or was cut short: .owp, then .sum, then their names. */
static void save_session(struct pow *p, struct pow_sess *s, bool ok)
{
    char sum[POW_PATH_MAX];
    struct out_sess os;
    struct rep_tx tx;
    if (!ok && covered(p, s) == 0) {
        pow_log(p, LOG_INFO, "session %s: no data, nothing saved", s->owp);
        return;
    }
    bool saved = sending(p) ? s->r.fetch.done && !s->r.fetch.owp_failed
                            : ow_save_from(&s->r, s->owp, ".i", ok, NULL) == 0;
    if (!saved) {
        pow_log(p, LOG_WARNING, "session %s not saved", s->owp);
        return;
    }
    file_name(p, sum, s->start.raw, s->end_ntp, "sum");
    ow_describe(&s->r, sending(p), ok, &os, &tx);
    os.rs.end_ntp = s->end_ntp;
    if (write_sum(p, &os, sum, 0, 0) == 0) {
        announce(p, s->owp, sum);
    }
    pow_log(p, LOG_DEBUG, "session %s saved%s", s->owp, ok ? "" : " (cut short)");
}

static void sess_close(struct pow_sess *s, bool ok)
{
    if (s->fc_open) {
        conn_close(&s->fc, 0);
    }
    sched_destroy(s->gen);
    s->gen = NULL;
    if (s->active) {
        ow_end(&s->r, ok);
    }
    s->active = false;
}

/* Run a started session to its end and save it. */
static void run_session(struct pow *p, struct pow_sess *s)
{
    bool ok = wait_session(p, s) == 0 && ow_finish(&s->r) == 0;
    if (!ok) {
        if (sending(p) && !s->r.fetch.sent) {
            name_partial(p, s); /* the fetch writes it under that name */
        }
        ow_salvage(&s->r); /* stops, fetches (-t) or finalizes what arrived */
        if (!sending(p)) {
            name_partial(p, s);
        }
    }
    save_session(p, s, ok);
    sess_close(s, ok);
}

/* ---- the stream ---- */

/* Before an attempt after failures: 1, 2, 4 ... s, at most -I. false when interrupted. */
static bool back_off(struct pow *p)
{
    if (p->failures == 0) {
        return true;
    }
    int64_t d = (int64_t)1000000000 << (p->failures > 30 ? 30 : p->failures - 1);
    d = d > p->po->retry_ns ? p->po->retry_ns : d;
    pow_log(p, LOG_INFO, "next attempt in %.1f s", (double)d / 1e9);
    return app_sleep_until(&p->a, loop_mono_ns() + d);
}

static void stream(struct pow *p)
{
    struct pow_sess ss[2];
    int cur = 0;
    memset(ss, 0, sizeof(ss));
    while (!p->quit) {
        struct pow_sess *c = &ss[cur], *n = &ss[cur ^ 1];
        if (!c->active && (!back_off(p) || sess_begin(p, c, NULL) < 0)) {
            p->failures += !p->a.interrupted;
        } else if (c->active) {
            p->failures = 0;
            struct clk_ntp next = {c->end_ntp};
            if (!n->active && !p->a.interrupted && sess_begin(p, n, &next) < 0) {
                p->failures += !p->a.interrupted;
            }
            run_session(p, c);
            cur ^= 1;
        }
        if (p->hup) {
            sess_close(&ss[cur], false);
            pow_log(p, LOG_INFO, "SIGHUP: starting over with new connections");
            p->hup = p->a.interrupted = false;
            p->failures = 0;
        }
    }
    sess_close(&ss[0], false);
    sess_close(&ss[1], false);
}

int pow_run(struct pow_opts *po)
{
    struct pow p;
    memset(&p, 0, sizeof(p));
    p.po = po;
    p.o = &po->run;
    p.pipe_rd = -1;
    signal(SIGPIPE, SIG_IGN);
    if (cry_init() < 0 || lock_dir(&p) < 0 || !(p.a.loop = loop_create())) {
        return 1;
    }
    p.a.o = p.o;
    if (loop_add_signal(p.a.loop, SIGINT, on_signal, &p) < 0 ||
        loop_add_signal(p.a.loop, SIGTERM, on_signal, &p) < 0 ||
        loop_add_signal(p.a.loop, SIGHUP, on_signal, &p) < 0 || logging_open(&p) < 0) {
        return 1;
    }
    stream(&p);
    pow_log(&p, LOG_INFO, "SIGTERM/SIGINT: exiting");
    logging_close(&p);
    loop_destroy(p.a.loop);
    return 0;
}
