/* out_parallel.c - several targets in one invocation. The run code drives one loop until its
 * target is done, so targets run concurrently as child processes (at most --parallel at
 * once), each measuring one target exactly as a single-target run would. A child's stdout,
 * stderr and run document go to temporary files and its per-packet records to FILE.partN
 * files; the parent shows each target's output in argument order as soon as it and the
 * targets before it are done, appends the per-packet parts to the real files, and feeds
 * the run documents to --prom. SIGINT/SIGTERM are passed on to the children, whose partial
 * reports are still shown; targets not started yet are reported as interrupted. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <pcap/pcap.h>

#include "out.h"

struct job {
    pid_t pid;
    FILE *out, *err, *doc; /* the child's stdout, stderr and run document */
    int status;            /* its exit status */
    bool running, done, interrupted;
    char suffix[48]; /* of its per-packet part files */
};

/* ---- the child ---- */

static int child_main(const struct opts *parent, unsigned i, struct job *j)
{
    struct opts o = *parent;
    struct out_ctx x;
    struct app a;
    struct json_object *doc = NULL;
    int rc = OPTS_EXIT_FAILED;
    if (out_ctx_open(&x, &o, j->suffix, false, false) == 0 && out_app_open(&a, &o) == 0) {
        o.out = &x;
        rc = out_measure(&x, &a, o.targets[i], -1, &doc);
        out_app_close(&a);
    }
    if (doc) {
        fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN), j->doc);
        json_object_put(doc);
    }
    if (out_ctx_close(&x) < 0 || fflush(j->doc) != 0) {
        rc = OPTS_EXIT_FAILED;
    }
    fflush(stdout);
    fflush(stderr);
    return rc;
}

static bool start(const struct out_ctx *x, struct job *j, unsigned i, const sigset_t *old)
{
    snprintf(j->suffix, sizeof(j->suffix), ".part%u.%ld", i, (long)getpid());
    j->out = tmpfile();
    j->err = tmpfile();
    j->doc = tmpfile();
    if (!j->out || !j->err || !j->doc) {
        fprintf(stderr, "%s: cannot create a temporary file: %s\n", x->o->prog, strerror(errno));
        return false;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, old, NULL);
        dup2(fileno(j->out), 1);
        dup2(fileno(j->err), 2);
        _exit(child_main(x->o, i, j));
    }
    if (pid < 0) {
        fprintf(stderr, "%s: cannot start a process: %s\n", x->o->prog, strerror(errno));
        return false;
    }
    j->pid = pid;
    j->running = true;
    return true;
}

/* ---- showing a finished target ---- */

static void copy(FILE *from, FILE *to)
{
    char buf[8192];
    size_t n;
    if (!from) {
        return;
    }
    rewind(from);
    while ((n = fread(buf, 1, sizeof(buf), from)) > 0) {
        fwrite(buf, 1, n, to);
    }
    fflush(to);
}

/* Append the part file name+suffix to f (a FILE) and remove it. */
static void append_part(FILE *f, const char *name, const char *suffix)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", name, suffix);
    FILE *part = fopen(path, "r");
    if (part) {
        copy(part, f);
        fclose(part);
    }
    unlink(path);
}

/* The packets of the pcap part into the writer, then remove the part. */
static void append_pcap(struct rep_pcap *w, const char *name, const char *suffix)
{
    char path[4096], err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    snprintf(path, sizeof(path), "%s%s", name, suffix);
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    while (p && pcap_next_ex(p, &h, &data) == 1) {
        rep_pcap_append_raw(w, data, h->caplen,
                            (struct clk_time){(int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec});
    }
    if (p) {
        pcap_close(p);
    }
    unlink(path);
}

static void close_tmp(FILE *f)
{
    if (f) {
        fclose(f);
    }
}

/* A document for a target whose child left none (crashed, or never started). */
static struct json_object *stand_in(struct out_ctx *x, unsigned i, struct job *j)
{
    struct json_object *msgs = json_object_new_array();
    out_run_begin(x);
    if (!j->interrupted) {
        json_object_array_add(msgs, json_object_new_string("the measuring process failed"));
    }
    return out_run_doc(x, x->o->targets[i], OPTS_EXIT_FAILED, j->interrupted, clk_now().ns, msgs);
}

static int show(struct out_ctx *x, unsigned i, struct job *j)
{
    const struct opts *o = x->o;
    struct json_object *doc = NULL;
    copy(j->out, stdout);
    copy(j->err, stderr);
    if (x->csv) {
        append_part(x->csv, o->csv, j->suffix);
    }
    if (x->jsonl) {
        append_part(x->jsonl, o->json_packets, j->suffix);
    }
    if (x->pcap) {
        append_pcap(x->pcap, o->pcap, j->suffix);
    }
    if (j->doc) {
        char *text = NULL;
        size_t cap = 0;
        rewind(j->doc);
        if (getdelim(&text, &cap, '\0', j->doc) > 0) {
            doc = json_tokener_parse(text);
        }
        free(text);
    }
    if (!doc) {
        doc = stand_in(x, i, j);
        if (o->json) {
            out_print_doc(doc);
        }
    }
    if (x->prom) {
        out_prom_add(x->prom, doc);
    }
    json_object_put(doc);
    close_tmp(j->out);
    close_tmp(j->err);
    close_tmp(j->doc);
    return j->status;
}

/* ---- the parent's loop ---- */

static void reap(struct job *jobs, unsigned n, unsigned *running)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            if (jobs[i].running && jobs[i].pid == pid) {
                jobs[i].running = false;
                jobs[i].done = true;
                jobs[i].status = WIFEXITED(st) ? WEXITSTATUS(st) : OPTS_EXIT_FAILED;
                (*running)--;
            }
        }
    }
}

static void forward(struct job *jobs, unsigned n, int sig)
{
    for (unsigned i = 0; i < n; i++) {
        if (jobs[i].running) {
            kill(jobs[i].pid, sig);
        }
    }
}

int out_parallel(struct out_ctx *x)
{
    const struct opts *o = x->o;
    unsigned n = o->ntargets, next = 0, shown = 0, running = 0;
    struct job *jobs = calloc(n, sizeof(*jobs));
    sigset_t set, old;
    bool stop = false;
    int worst = OPTS_EXIT_OK;
    if (!jobs) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        return OPTS_EXIT_FAILED;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);
    while (shown < n) {
        for (; next < n && (stop || running < o->parallel); next++) {
            if (!stop && start(x, &jobs[next], next, &old)) {
                running++;
            } else {
                jobs[next].done = true;
                jobs[next].interrupted = stop;
                jobs[next].status = OPTS_EXIT_FAILED;
            }
        }
        for (; shown < n && jobs[shown].done; shown++) {
            worst = out_worst(worst, show(x, shown, &jobs[shown]));
        }
        if (shown < n && running > 0) {
            int sig = sigwaitinfo(&set, NULL);
            if (sig == SIGINT || sig == SIGTERM) {
                stop = true;
                forward(jobs, n, sig);
            }
            reap(jobs, n, &running);
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(jobs);
    return worst;
}
