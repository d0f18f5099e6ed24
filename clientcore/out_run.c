/* out_run.c - the output state of a process (per-packet files, the run in progress), the run
 * document, stderr capture, one target measured in this process, and main's flow after
 * option parsing: --check, --read, --continuous, several targets, or one. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crypto.h"

#include "out.h"

int out_worst(int a, int b)
{
    return a > b ? a : b;
}

/* ---- files and the run in progress ---- */

static FILE *open_named(const struct opts *o, const char *name, const char *suffix, char *path,
                        size_t cap)
{
    snprintf(path, cap, "%s%s", name, suffix ? suffix : "");
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, path, strerror(errno));
    }
    return f;
}

int out_ctx_open(struct out_ctx *x, const struct opts *o, const char *suffix, bool csv_header,
                 bool with_prom)
{
    char path[4096], err[256] = "";
    memset(x, 0, sizeof(*x));
    x->o = o;
    if (o->csv && !(x->csv = open_named(o, o->csv, suffix, path, sizeof(path)))) {
        return -1;
    }
    if (x->csv && csv_header) {
        o->proto == OPTS_TWAMP ? rep_tw_csv_header(x->csv) : rep_ow_csv_header(x->csv);
    }
    if (o->json_packets &&
        !(x->jsonl = open_named(o, o->json_packets, suffix, path, sizeof(path)))) {
        return -1;
    }
    if (o->pcap) {
        snprintf(path, sizeof(path), "%s%s", o->pcap, suffix ? suffix : "");
        if (!(x->pcap = rep_pcap_open(path, err, sizeof(err)))) {
            fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, path, err);
            return -1;
        }
    }
    if (with_prom && !(x->prom = out_prom_create(o->proto == OPTS_TWAMP ? "twamp" : "owamp"))) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        return -1;
    }
    return 0;
}

static int close_file(const struct opts *o, FILE *f, const char *name)
{
    if (f && fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, name, strerror(errno));
        return -1;
    }
    return 0;
}

int out_ctx_close(struct out_ctx *x)
{
    int rc = close_file(x->o, x->csv, x->o->csv) | close_file(x->o, x->jsonl, x->o->json_packets);
    if (x->pcap && rep_pcap_close(x->pcap) < 0) {
        fprintf(stderr, "%s: cannot write %s\n", x->o->prog, x->o->pcap);
        rc = -1;
    }
    out_prom_destroy(x->prom);
    json_object_put(x->sessions);
    json_object_put(x->crossed);
    memset(x, 0, sizeof(*x));
    return rc ? -1 : 0;
}

void out_run_begin(struct out_ctx *x)
{
    json_object_put(x->sessions);
    json_object_put(x->crossed);
    x->sessions = json_object_new_array();
    x->crossed = json_object_new_array();
}

void out_note_crossing(struct out_ctx *x, const char *direction, const char *metric,
                       struct json_object *value, double limit)
{
    if (!x || !x->crossed) {
        json_object_put(value);
        return;
    }
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "direction", json_object_new_string(direction));
    json_object_object_add(c, "metric", json_object_new_string(metric));
    json_object_object_add(c, "value", value);
    json_object_object_add(c, "limit", rep_json_double(limit));
    json_object_array_add(x->crossed, c);
}

/* ---- the run document ---- */

static const char *mode_name(const struct opts *o)
{
    if (o->proto == OPTS_OWAMP) {
        return "owamp";
    }
    return o->light == OPTS_LIGHT ? "twamp-light" : o->light == OPTS_STAMP ? "stamp" : "twamp";
}

static const char *status_name(int exit_code, bool interrupted)
{
    if (interrupted) {
        return "interrupted";
    }
    return exit_code == OPTS_EXIT_OK          ? "ok"
           : exit_code == OPTS_EXIT_THRESHOLD ? "threshold"
                                              : "failed";
}

static struct json_object *j_limit(double v)
{
    return v >= 0 ? rep_json_double(v) : NULL;
}

static struct json_object *thresholds(const struct out_ctx *x)
{
    struct json_object *t = json_object_new_object();
    json_object_object_add(t, "max_loss_pct", j_limit(x->o->max_loss_pct));
    json_object_object_add(t, "max_delay_ms", j_limit(x->o->max_delay_ms));
    json_object_object_add(t, "delay_percentile", rep_json_double(x->o->delay_pct));
    json_object_object_add(t, "crossed",
                           x->crossed ? json_object_get(x->crossed) : json_object_new_array());
    return t;
}

struct json_object *out_run_doc(struct out_ctx *x, const char *target, int exit_code,
                                bool interrupted, int64_t start_ns, struct json_object *messages)
{
    const struct opts *o = x->o;
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "version", json_object_new_int(OUT_DOC_VERSION));
    json_object_object_add(d, "tool_version", json_object_new_string(lp_version()));
    json_object_object_add(d, "tool",
                           json_object_new_string(o->proto == OPTS_TWAMP ? "twping" : "owping"));
    json_object_object_add(d, "mode", json_object_new_string(mode_name(o)));
    json_object_object_add(d, "target", target ? json_object_new_string(target) : NULL);
    json_object_object_add(d, "status",
                           json_object_new_string(status_name(exit_code, interrupted)));
    json_object_object_add(d, "exit_code", json_object_new_int(exit_code));
    json_object_object_add(d, "start_time_ns", json_object_new_int64(start_ns));
    json_object_object_add(d, "end_time_ns", json_object_new_int64(clk_now().ns));
    json_object_object_add(d, "thresholds", thresholds(x));
    json_object_object_add(d, "messages", messages ? messages : json_object_new_array());
    json_object_object_add(d, "sessions",
                           x->sessions ? json_object_get(x->sessions) : json_object_new_array());
    return d;
}

int out_print_doc(struct json_object *doc)
{
    const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!s || puts(s) == EOF || fflush(stdout) != 0) {
        return -1;
    }
    return 0;
}

/* ---- capturing stdout / stderr ---- */

void out_capture_begin(struct out_capture *cap, int fd)
{
    cap->saved_fd = -1;
    cap->keep = false;
    if (!(cap->tmp = tmpfile())) {
        return;
    }
    fflush(fd == 1 ? stdout : stderr);
    cap->saved_fd = dup(fd);
    if (cap->saved_fd < 0 || dup2(fileno(cap->tmp), fd) < 0) {
        if (cap->saved_fd >= 0) {
            close(cap->saved_fd);
        }
        cap->saved_fd = -1;
        fclose(cap->tmp);
        cap->tmp = NULL;
    }
}

void out_capture_end(struct out_capture *cap, int fd, struct json_object *lines)
{
    FILE *out = fd == 1 ? stdout : stderr;
    char *line = NULL;
    size_t cap_len = 0;
    ssize_t n;
    if (cap->saved_fd < 0) {
        return;
    }
    fflush(out);
    dup2(cap->saved_fd, fd);
    close(cap->saved_fd);
    cap->saved_fd = -1;
    rewind(cap->tmp);
    while ((n = getline(&line, &cap_len, cap->tmp)) > 0) {
        if (!cap->keep) {
            fputs(line, out);
        }
        if (lines) {
            json_object_array_add(
                lines, json_object_new_string_len(line, (int)(n - (line[n - 1] == '\n'))));
        }
    }
    free(line);
    fflush(out);
    fclose(cap->tmp);
    cap->tmp = NULL;
}

/* ---- one target in this process ---- */

static void on_signal(struct loop *loop, int signo, void *arg)
{
    struct app *a = arg;
    (void)loop;
    (void)signo;
    a->grace = false; /* a second signal ends the collection of partial results */
    a->interrupted = true;
}

int out_app_open(struct app *a, const struct opts *o)
{
    memset(a, 0, sizeof(*a));
    a->o = o;
    if (!(a->loop = loop_create())) {
        fprintf(stderr, "%s: cannot create the event loop\n", o->prog);
        return -1;
    }
    if (loop_add_signal(a->loop, SIGINT, on_signal, a) < 0 ||
        loop_add_signal(a->loop, SIGTERM, on_signal, a) < 0) {
        fprintf(stderr, "%s: cannot set up signal handling\n", o->prog);
        out_app_close(a);
        return -1;
    }
    return 0;
}

void out_app_close(struct app *a)
{
    if (a->loop) {
        loop_destroy(a->loop);
    }
    a->loop = NULL;
}

static int run_target(struct app *a, const char *target)
{
    const struct opts *o = a->o;
    if (o->light != OPTS_FULL) {
        return ping_light(a, target);
    }
    return o->proto == OPTS_TWAMP ? ping_twamp(a, target) : ping_owamp(a, target);
}

int out_measure(struct out_ctx *x, struct app *a, const char *target, long sequence,
                struct json_object **doc)
{
    const struct opts *o = x->o;
    struct out_capture cap = {.saved_fd = -1};
    struct json_object *msgs = json_object_new_array();
    if (o->json) {
        out_capture_begin(&cap, 2); /* the messages go into the document too */
    }
    out_run_begin(x);
    int64_t t0 = clk_now().ns;
    int rc = run_target(a, target) != 0 || a->interrupted ? OPTS_EXIT_FAILED : OPTS_EXIT_OK;
    if (rc == OPTS_EXIT_OK && json_object_array_length(x->crossed) > 0) {
        rc = OPTS_EXIT_THRESHOLD;
    }
    out_capture_end(&cap, 2, msgs);
    struct json_object *d = out_run_doc(x, target, rc, a->interrupted, t0, msgs);
    if (sequence >= 0) {
        json_object_object_add(d, "sequence", json_object_new_int64(sequence));
    }
    if (o->json && out_print_doc(d) < 0) {
        fprintf(stderr, "%s: cannot write the report: %s\n", o->prog, strerror(errno));
        rc = OPTS_EXIT_FAILED;
    }
    if (doc) {
        *doc = d;
    } else {
        json_object_put(d);
    }
    return rc;
}

/* ---- main's flow ---- */

/* One line, once per run, when the local clock is not synchronised. */
static void clock_notice(const struct opts *o)
{
    struct clk_state st;
    if (clk_state_read(&st) == 0 && !st.synced) {
        fprintf(stderr,
                "%s: local clock is not synchronised (NTP): one-way delays are marked unsync\n",
                o->prog);
    }
}

static int single(struct out_ctx *x)
{
    struct app a;
    struct json_object *doc = NULL;
    if (out_app_open(&a, x->o) < 0) {
        return OPTS_EXIT_FAILED;
    }
    int rc = out_measure(x, &a, x->o->targets[0], -1, &doc);
    if (x->prom && doc) {
        out_prom_add(x->prom, doc);
    }
    json_object_put(doc);
    out_app_close(&a);
    return rc;
}

int out_main(struct opts *o)
{
    struct out_ctx x;
    if (cry_init() < 0) {
        fprintf(stderr, "%s: cannot initialise the crypto library\n", o->prog);
        return OPTS_EXIT_FAILED;
    }
    signal(SIGPIPE, SIG_IGN);
    if (o->check) {
        return out_check(o);
    }
    if (out_ctx_open(&x, o, NULL, true, o->prom != NULL) < 0) {
        out_ctx_close(&x);
        return OPTS_EXIT_FAILED;
    }
    o->out = &x;
    bool reading = o->read_file || o->kind == OPTS_OWSTATS;
    if (!reading) {
        clock_notice(o);
    }
    if (o->pcap && !reading && !out_pcap_supported()) {
        fprintf(stderr, "%s: --pcap: this build cannot see the test packets; %s stays empty\n",
                o->prog, o->pcap);
    }
    int rc = reading           ? out_read(&x)
             : o->continuous   ? out_continuous(&x)
             : o->ntargets > 1 ? out_parallel(&x)
                               : single(&x);
    if (x.prom && out_prom_write(x.prom, o->prom, o->prog) < 0) {
        rc = OPTS_EXIT_FAILED;
    }
    if (out_ctx_close(&x) < 0) {
        rc = OPTS_EXIT_FAILED;
    }
    o->out = NULL;
    return rc;
}
