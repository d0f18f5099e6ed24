/* pow_opts.c - powstream's command line, with the reference's options and meanings. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>

#include "common.h"
#include "conf.h"

#include "powstream.h"

static void usage(const char *prog, FILE *f)
{
    fprintf(f, "usage: %s [options] [host]:port\n\n", prog);
    fputs("Run OWAMP sessions to or from an OWAMP server back to back, on one schedule, and\n"
          "save each as START_END.owp (read it with owstats) with its -M summary in\n"
          "START_END.sum; START and END are NTP timestamps of the session's start and of its\n"
          "last packet.\n\n"
          "Sessions:\n"
          "  -c COUNT     packets per session (default 300)\n"
          "  -i SECONDS   mean interval of the exponential schedule (default 0.1)\n"
          "  -L SECONDS   loss timeout (default 10; 0 or less: the default)\n"
          "  -s OCTETS    padding per packet (default 0)\n"
          "  -t           send to the server (default: the server sends, we receive)\n"
          "  -z SECONDS   extra delay before the first session\n"
          "  -E SECONDS   extra wait after the loss timeout of a session's last packet\n"
          "  -P LO-HI     local test port range (default 0: any)\n"
          "  -D DSCP      DSCP of the test packets (number or name)\n"
          "Connection:\n"
          "  -A MODES     acceptable modes: A(uth) E(nc) O(pen) (default AEO)\n"
          "  -u ID        identity for the authenticated and encrypted modes\n"
          "  -k FILE      pass-phrase file (identity<TAB>hex)\n"
          "  -S ADDR      local address\n"
          "  -B DEV       bind the test sockets to this interface\n"
          "  -4, -6       IPv4 or IPv6 only\n"
          "  -I SECONDS   longest wait between attempts after failures (default 60)\n"
          "Output:\n"
          "  -d DIR       directory of the files (default: the current one)\n"
          "  -p           print the name of each file once it is complete\n"
          "  -N COUNT     also a summary (.sum) every COUNT packets (must divide -c)\n"
          "  -n           with -N, an .owp file of each of those parts too\n"
          "  -b SECONDS   histogram bin width of the summaries (default 0.0001)\n"
          "  -U           UNIX times in the summaries too\n"
          "Logging (syslog, and stderr unless -R):\n"
          "  -e FACILITY  syslog facility (default user)\n"
          "  -g LEVEL     none, fatal, warning, info (default), debug or all\n"
          "  -R           syslog only, nothing on stderr\n"
          "  -v           more detail\n"
          "  -V, --version  print the version and exit\n"
          "  -h, --help   this help\n"
          "Exit status: 0 after SIGTERM or SIGINT (the session in progress is saved, marked\n"
          "unfinished), 1 on a bad command line or when the directory is locked by another\n"
          "powstream.\n",
          f);
}

/* -g: the least severe syslog priority reported (-1: none), -2 for an unknown name. */
static int parse_level(const char *s)
{
    static const int prio[] = {
        [CONF_LOG_NONE] = -1,       [CONF_LOG_FATAL] = LOG_ERR,   [CONF_LOG_WARNING] = LOG_WARNING,
        [CONF_LOG_INFO] = LOG_INFO, [CONF_LOG_DEBUG] = LOG_DEBUG, [CONF_LOG_ALL] = LOG_DEBUG};
    int lv = conf_loglevel_by_name(s);
    return lv < 0 ? -2 : prio[lv];
}

/* A decimal count from min to max. */
static int parse_count(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || s[0] == '-' || v < min || v > max) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_modes(const char *s, uint32_t *modes)
{
    *modes = 0;
    for (; *s; s++) {
        int c = toupper((unsigned char)*s);
        *modes |= c == 'O' ? 1u : c == 'A' ? 2u : c == 'E' ? 4u : 0x100u;
    }
    return *modes && !(*modes & 0x100u) ? 0 : -1;
}

static int bad(const char *prog, int c, const char *arg)
{
    fprintf(stderr, "%s: invalid value for -%c: '%s'\n", prog, c, arg ? arg : "");
    return -1;
}

static void defaults(struct pow_opts *p, const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    memset(p, 0, sizeof(*p));
    struct opts *o = &p->run;
    o->prog = base ? base + 1 : argv0;
    o->kind = OPTS_POWSTREAM;
    o->proto = OPTS_OWAMP;
    o->count = POW_DEFAULT_COUNT;
    o->nslots = 1;
    o->slots[0] = (struct opts_slot){.exponential = true, .interval_ns = POW_DEFAULT_MEAN_NS};
    o->loss_timeout_ns = POW_DEFAULT_LOSS_NS;
    o->enddelay_ns = 20000000;
    o->start_delay_ns = -1;
    o->dscp = -1;
    o->units = 'm';
    o->modes = 1 | 2 | 4;
    o->reflect_octets = -1;
    o->from = true;
    o->quiet = true;
    o->max_loss_pct = -1;
    o->max_delay_ms = -1;
    o->delay_pct = 50;
    p->dir = "";
    p->retry_ns = POW_DEFAULT_RETRY_NS;
    p->level = LOG_INFO;
    p->facility = LOG_USER;
}

/* The options of a session (struct opts). 0, or -1 after printing why; 1 when not one. */
static int apply_session(struct opts *o, int c, const char *arg)
{
    int64_t ns;
    switch (c) {
    case 'c': return parse_count(arg, 1, UINT32_MAX, &o->count) < 0 ? bad(o->prog, c, arg) : 0;
    case 'i': return opts_parse_schedule(o, arg) < 0 ? bad(o->prog, c, arg) : 0;
    case 'L':
        if (opts_parse_loss_timeout(arg, &ns) < 0) {
            return bad(o->prog, c, arg);
        }
        o->loss_timeout_ns = ns < 0 ? POW_DEFAULT_LOSS_NS : ns;
        return 0;
    case 'E': return opts_parse_seconds(arg, &o->enddelay_ns) < 0 ? bad(o->prog, c, arg) : 0;
    case 'z': return opts_parse_seconds(arg, &o->start_delay_ns) < 0 ? bad(o->prog, c, arg) : 0;
    case 's': return parse_count(arg, 0, 65000, &o->padding) < 0 ? bad(o->prog, c, arg) : 0;
    case 't':
        o->to = true;
        o->from = false;
        return 0;
    case 'D': o->dscp = opts_parse_dscp(arg); return o->dscp < 0 ? bad(o->prog, c, arg) : 0;
    case 'A': return parse_modes(arg, &o->modes) < 0 ? bad(o->prog, c, arg) : 0;
    case 'u': o->identity = arg; return strlen(arg) > 80 ? bad(o->prog, c, arg) : 0;
    case 'k': o->keyfile = arg; return 0;
    case 'S': o->srcaddr = arg; return 0;
    case 'B': o->bind_dev = arg; return 0;
    case '4': o->family = AF_INET; return 0;
    case '6': o->family = AF_INET6; return 0;
    case 'b':
        return opts_parse_seconds(arg, &o->bucket_ns) < 0 || o->bucket_ns <= 0
                   ? bad(o->prog, c, arg)
                   : 0;
    case 'U': o->utc = true; return 0;
    default: return 1;
    }
}

static int apply(struct pow_opts *p, int c, const char *arg)
{
    const char *prog = p->run.prog;
    int rc = apply_session(&p->run, c, arg);
    if (rc <= 0) {
        return rc;
    }
    switch (c) {
    case 'P': {
        unsigned lo, hi;
        char tail;
        if (strcmp(arg, "0") == 0) {
            p->run.port_lo = p->run.port_hi = 0;
            return 0;
        }
        if (sscanf(arg, "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || lo > hi || hi > 65535) {
            return bad(prog, c, arg);
        }
        p->run.port_lo = (uint16_t)lo;
        p->run.port_hi = (uint16_t)hi;
        return 0;
    }
    case 'I': return opts_parse_seconds(arg, &p->retry_ns) < 0 ? bad(prog, c, arg) : 0;
    case 'd': p->dir = arg; return 0;
    case 'p': p->print = true; return 0;
    case 'N': return parse_count(arg, 1, UINT32_MAX, &p->nsub) < 0 ? bad(prog, c, arg) : 0;
    case 'n': p->sub_owp = true; return 0;
    case 'g': return (p->level = parse_level(arg)) < -1 ? bad(prog, c, arg) : 0;
    case 'e': return (p->facility = conf_facility_by_name(arg)) < 0 ? bad(prog, c, arg) : 0;
    case 'R': p->syslog_only = true; return 0;
    case 'v': p->verbose++; return 0;
    case 'h': usage(prog, stdout); return 1;
    case 'V': printf("%s (owamp-tools) %s\n", prog, lp_version()); return 1;
    default: usage(prog, stderr); return -1;
    }
}

static int check(const struct pow_opts *p)
{
    const char *prog = p->run.prog;
    if (!p->target) {
        fprintf(stderr, "%s: no server given (try --help)\n", prog);
        return -1;
    }
    if (p->nsub && p->run.count % p->nsub != 0) {
        fprintf(stderr, "%s: -N %u must divide -c %u\n", prog, p->nsub, p->run.count);
        return -1;
    }
    if (p->sub_owp && !p->nsub) {
        fprintf(stderr, "%s: -n needs -N\n", prog);
        return -1;
    }
    if ((p->run.modes & ~1u) && !p->run.identity && !(p->run.modes & 1)) {
        fprintf(stderr, "%s: modes A/E need an identity (-u)\n", prog);
        return -1;
    }
    return 0;
}

int pow_parse(struct pow_opts *p, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    int c, rc;
    defaults(p, argv[0]);
    optind = 1;
    while ((c = getopt_long(argc, argv, "+46A:b:B:c:d:D:e:E:g:hi:I:k:L:nN:pP:Rs:S:tu:UvVz:",
                            longopts, NULL)) != -1) {
        if ((rc = apply(p, c, optarg)) != 0) {
            return rc;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr,
                "%s: a test address apart from the server's is not supported: give one "
                "[host]:port\n",
                p->run.prog);
        return -1;
    }
    p->target = optind < argc ? argv[optind] : NULL;
    if (p->target) {
        p->run.targets[0] = p->target;
        p->run.ntargets = 1;
    }
    return check(p);
}
