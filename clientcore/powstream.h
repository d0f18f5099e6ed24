/* powstream.h - powstream: an unending stream of OWAMP sessions to or from one server, back
 * to back on one schedule, each saved as an .owp file with its -M summary (.sum) and named
 * by its first and last scheduled times, as perfSONAR's powstream (which pScheduler's
 * latencybg test runs, reading every completed file with owstats -R). */
#ifndef OWPING_POWSTREAM_H
#define OWPING_POWSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"

#define POW_DEFAULT_COUNT 300
#define POW_DEFAULT_MEAN_NS 100000000LL    /* -i 0.1 */
#define POW_DEFAULT_LOSS_NS 10000000000LL  /* -L 10 */
#define POW_DEFAULT_RETRY_NS 60000000000LL /* -I 60: longest back-off after failures */

/* powstream's command line. */
struct pow_opts {
    struct opts run;    /* what each session asks for: -c -i -L -s -P -D -A -u -k -S -B -4 -6
                         * -t -z -E, and -b -U for the summaries */
    const char *dir;    /* -d: where the files go ("" = the current directory) */
    bool print;         /* -p: print the names of completed files */
    uint32_t nsub;      /* -N: packets per sub-session summary (0: none) */
    bool sub_owp;       /* -n: an .owp file per sub-session too */
    int64_t retry_ns;   /* -I */
    int level;          /* -g: the least severe syslog priority reported, -1 none */
    int facility;       /* -e: syslog facility */
    bool syslog_only;   /* -R: nothing on stderr */
    int verbose;        /* -v */
    const char *target; /* [host]:port */
};

/* Parse argv (owping/pow_opts.c); 0, 1 when --help printed the usage, -1 after printing
 * why. */
int pow_parse(struct pow_opts *p, int argc, char **argv);

/* Stream until SIGTERM or SIGINT (powstream.c). The exit status. */
int pow_run(struct pow_opts *po);

#endif
