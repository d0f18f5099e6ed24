/* out.h - how results leave owping/twping, besides the per-session printing of output.c:
 * the run document (one JSON object per target run), per-packet files (CSV, JSON Lines,
 * pcap), thresholds and exit status, the Prometheus textfile, several targets at once,
 * back-to-back sessions, reports of saved records (--read) and --check.
 *
 * The run document, printed by --json on one line ("version": 2):
 *   version      2 (the layout of this document)
 *   tool_version the toolkit's version ("1.0.0")
 *   tool         "owping" | "twping"
 *   mode         "owamp" | "twamp" | "twamp-light" | "stamp"
 *   target       the target as given (--read: the remote host of the saved session)
 *   source_file  --read only: the file read
 *   sequence     --continuous only: 0, 1, 2... per session
 *   status       "ok" | "threshold" (a threshold was crossed) | "failed" | "interrupted"
 *   exit_code    0 | 1 | 2, as the process exit status would be for this run alone
 *   start_time_ns, end_time_ns   wall-clock time the run began and ended
 *   thresholds   {"max_loss_pct", "max_delay_ms" (null when not set), "delay_percentile",
 *                 "crossed": [{"direction", "metric": "loss_pct" | "delay_ms", "value",
 *                 "limit"}]}
 *   messages     what the run wrote on stderr, one string per line
 *   sessions     the session summaries (keys: libprotocol/report_json.c), in the order
 *                the sessions were reported (owping: "to" then "from")
 */
#ifndef OWPING_OUT_H
#define OWPING_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "client.h"

#define OUT_DOC_VERSION 2

struct json_object;
struct out_prom;

/* The output state of one process (or of one child measuring one target). */
struct out_ctx {
    const struct opts *o;
    FILE *csv, *jsonl;            /* --csv, --json-packets writers, or NULL */
    struct rep_pcap *pcap;        /* --pcap writer, or NULL */
    bool file_error;              /* a per-packet write failed (reported once) */
    struct json_object *sessions; /* summaries of the run in progress */
    struct json_object *crossed;  /* threshold crossings of the run in progress */
    struct out_prom *prom;        /* --prom collector (only in the process that writes it) */
};

/* Open the per-packet files of o (names with suffix appended when not NULL; CSV header
 * when csv_header) and the --prom collector when with_prom. 0 or -1 (printed). */
int out_ctx_open(struct out_ctx *x, const struct opts *o, const char *suffix, bool csv_header,
                 bool with_prom);

/* Close the files; 0, or -1 when a write had failed (printed). */
int out_ctx_close(struct out_ctx *x);

/* Forget the sessions of the previous run. */
void out_run_begin(struct out_ctx *x);

/* The run document of the run just ended (caller owns it). */
struct json_object *out_run_doc(struct out_ctx *x, const char *target, int exit_code,
                                bool interrupted, int64_t start_ns, struct json_object *messages);

/* Note a threshold crossing of the run in progress (value NULL: undefined; taken over). */
void out_note_crossing(struct out_ctx *x, const char *direction, const char *metric,
                       struct json_object *value, double limit);

/* Print doc on one line to stdout. 0 or -1. */
int out_print_doc(struct json_object *doc);

/* Exit status of a run: failed (2) beats threshold (1) beats ok (0). */
int out_worst(int a, int b);

/* Output of fd 1 or 2 captured into a temporary file (e.g. the run document's messages),
 * replayed to the real fd when the capture ends unless keep is set. */
struct out_capture {
    int saved_fd; /* -1: not capturing */
    FILE *tmp;
    bool keep; /* set after begin: do not replay the text (the caller shows it) */
};

/* Start capturing fd (1 or 2) into a temporary file; cap->saved_fd stays -1 on failure
 * (output then goes where it went). */
void out_capture_begin(struct out_capture *cap, int fd);

/* Stop capturing: the text goes to the original fd (unless cap->keep) and, when lines is
 * not NULL, into it as one string per line. */
void out_capture_end(struct out_capture *cap, int fd, struct json_object *lines);

/* ---- one target, in this process (out_run.c) ---- */

/* Create the loop with SIGINT/SIGTERM handling. 0 or -1 (printed). */
int out_app_open(struct app *a, const struct opts *o);
void out_app_close(struct app *a);

/* Measure target once on a's loop; the run document goes to *doc (owned by the caller, or
 * NULL) and stdout (--json). Returns the exit status of the run. */
int out_measure(struct out_ctx *x, struct app *a, const char *target, long sequence,
                struct json_object **doc);

/* Everything main does after parsing the options; returns the exit status. */
int out_main(struct opts *o);

/* ---- the modes (one file each) ---- */

/* Several targets, each in a child process, at most o->parallel at once; reports in
 * argument order (out_parallel.c). */
int out_parallel(struct out_ctx *x);

/* --continuous / --sessions N (out_loop.c). */
int out_continuous(struct out_ctx *x);

/* --read FILE, or the files of owstats (out_read.c). */
int out_read(struct out_ctx *x);

/* --check (out_check.c). */
int out_check(const struct opts *o);

/* ---- Prometheus textfile (out_prom.c) ---- */

/* A collector for metrics prefixed prefix ("owamp" or "twamp"). NULL when out of memory. */
struct out_prom *out_prom_create(const char *prefix);

/* Take a run document (a reference is kept; a newer one for the same target replaces it)
 * and add its packet counts to the running totals. 0 or -1. */
int out_prom_add(struct out_prom *p, struct json_object *doc);

/* Write the exposition to path.tmp, then rename it to path. 0 or -1 (printed). */
int out_prom_write(const struct out_prom *p, const char *path, const char *prog);

void out_prom_destroy(struct out_prom *p);

/* ---- pcap (out_pcap.c) ---- */

/* Watch the packets of s for --pcap (call right after sess_create; a no-op without --pcap
 * or without the session packet hook). */
void out_watch_session(const struct opts *o, struct sess *s);

/* Whether this build can see the test packets (session.h has the packet hook). */
bool out_pcap_supported(void);

#endif
