/* opts.c - owping/twping command line, compatible with the reference's options. */
#include "opts.h"
#include "common.h"
#include "optval.h"

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum {
    OPT_JSON = 256,
    OPT_LIGHT,
    OPT_STAMP,
    OPT_RT,
    OPT_INDIVIDUAL,
    OPT_REFLECT_OCTETS,
    OPT_DSCP_ECN,
    OPT_PTP,
    OPT_JSON_PACKETS,
    OPT_CSV,
    OPT_PROM,
    OPT_PCAP,
    OPT_READ,
    OPT_PARALLEL,
    OPT_MAX_LOSS,
    OPT_MAX_DELAY,
    OPT_DELAY_PCT,
    OPT_CONTINUOUS,
    OPT_SESSIONS,
    OPT_OUT_DIR,
    OPT_RETRY_MAX,
    OPT_CHECK,
    OPT_ZERO_PADDING,
    OPT_ZERO_ADDRESSES,
};

static const struct option long_opts[] = {
    {"count", required_argument, NULL, 'c'},
    {"interval", required_argument, NULL, 'i'},
    {"loss-timeout", required_argument, NULL, 'L'},
    {"end-delay", required_argument, NULL, 'E'},
    {"start-delay", required_argument, NULL, 'z'},
    {"padding", required_argument, NULL, 's'},
    {"ports", required_argument, NULL, 'P'},
    {"dscp", required_argument, NULL, 'D'},
    {"auth-mode", required_argument, NULL, 'A'},
    {"user", required_argument, NULL, 'u'},
    {"keyfile", required_argument, NULL, 'k'},
    {"source", required_argument, NULL, 'S'},
    {"interface", required_argument, NULL, 'B'},
    {"percentile", required_argument, NULL, 'a'},
    {"units", required_argument, NULL, 'n'},
    {"machine", no_argument, NULL, 'M'},
    {"raw", no_argument, NULL, 'R'},
    {"quiet", no_argument, NULL, 'Q'},
    {"verbose", optional_argument, NULL, 'v'},
    {"json", no_argument, NULL, OPT_JSON},
    {"light", no_argument, NULL, OPT_LIGHT},
    {"stamp", no_argument, NULL, OPT_STAMP},
    {"rt", no_argument, NULL, OPT_RT},
    {"individual", no_argument, NULL, OPT_INDIVIDUAL},
    {"reflect-octets", required_argument, NULL, OPT_REFLECT_OCTETS},
    {"dscp-ecn", no_argument, NULL, OPT_DSCP_ECN},
    {"ptp", no_argument, NULL, OPT_PTP},
    {"json-packets", required_argument, NULL, OPT_JSON_PACKETS},
    {"csv", required_argument, NULL, OPT_CSV},
    {"prom", required_argument, NULL, OPT_PROM},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"read", required_argument, NULL, OPT_READ},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"max-loss", required_argument, NULL, OPT_MAX_LOSS},
    {"max-delay", required_argument, NULL, OPT_MAX_DELAY},
    {"delay-percentile", required_argument, NULL, OPT_DELAY_PCT},
    {"continuous", no_argument, NULL, OPT_CONTINUOUS},
    {"sessions", required_argument, NULL, OPT_SESSIONS},
    {"out-dir", required_argument, NULL, OPT_OUT_DIR},
    {"retry-max", required_argument, NULL, OPT_RETRY_MAX},
    {"check", no_argument, NULL, OPT_CHECK},
    {"zero-padding", no_argument, NULL, OPT_ZERO_PADDING},
    {"zero-addresses", no_argument, NULL, OPT_ZERO_ADDRESSES},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void usage(const struct opts *o, FILE *f)
{
    bool tw = o->proto == OPTS_TWAMP;
    fprintf(f,
            "usage: %s [options] host[:port] [host[:port] ...]\n"
            "       %s --read FILE [output options]\n"
            "       %s --check host[:port]\n\n",
            o->prog, o->prog, o->prog);
    fprintf(f, "Run a %s test against %s (default port %s).\n\n",
            tw ? "two-way (TWAMP)" : "one-way (OWAMP)", tw ? "twampd" : "owampd",
            tw ? "862" : "861");
    fputs("Test:\n"
          "  -c, --count N          packets per session (default 100)\n"
          "  -i, --interval LIST    schedule: comma list of <sec>e (exponential) or <sec>f\n"
          "                         (fixed), cycled (default 0.1e)\n"
          "  -L, --loss-timeout S   seconds before a packet counts as lost (default, also for\n"
          "                         0 or less: 2 + the round trip of the control handshake)\n",
          f);
    fprintf(f,
            "  -E, --end-delay S      extra wait before Stop-Sessions once %s\n"
            "                         (default %s)\n",
            tw ? "every reply is in" : "the loss timeout passed", tw ? "0" : "0.02");
    fputs("  -z, --start-delay S    delay before the session starts (default: 3 RTT + 10 ms)\n"
          "  -s, --padding N        octets of padding per packet (default 0)\n"
          "  -P, --ports LO-HI      local test port range (default 0: any)\n"
          "  -D, --dscp DSCP        DSCP of test packets (number or name: EF, AF41, CS1...)\n",
          f);
    if (tw) {
        fputs(
            "  -Z, --zero-addresses   NAT traversal: send the request with zero test addresses;\n"
            "                         the server then uses those of the control connection\n"
            "      --zero-padding     fill padding with zeros (default random)\n"
            "  -F FILE                save the records to FILE (read back with --read)\n"
            "      --light            TWAMP Light: no control connection (RFC 5357 App. I)\n"
            "      --stamp            STAMP (RFC 8762) session-sender, no control connection\n"
            "      --individual       start/stop with Start-N/Stop-N-Sessions (RFC 5938)\n"
            "      --reflect-octets N ask the reflector to return N octets of padding (RFC 6038)\n"
            "      --dscp-ecn         ask the reflector to report DSCP and ECN (RFC 7750)\n"
            "      --ptp              PTPv2 timestamps in test packets (RFC 8186)\n",
            f);
    } else {
        fputs(
            "  -t / -T FILE           test toward the host only [save the session to FILE]\n"
            "  -f / -F FILE           test from the host only [save the session to FILE]\n"
            "                         (.owp session files, read back with owstats or --read)\n"
            "      --zero-addresses   NAT traversal: send the requests with zero test addresses;\n"
            "                         the server then uses those of the control connection\n",
            f);
    }
    fputs("Connection:\n"
          "  -A, --auth-mode MODES  acceptable modes, strongest first: A(uth) E(nc) O(pen)",
          f);
    fputs(tw ? " M(ixed)\n" : "\n", f);
    fputs("  -u, --user ID          identity for authenticated/encrypted modes\n"
          "  -k, --keyfile FILE     pass-phrase file (identity<TAB>hex); prompted if absent\n"
          "  -S, --source ADDR      local address for control and test sockets\n"
          "  -B, --interface DEV    bind test sockets to this interface\n"
          "  -4, -6                 use IPv4 / IPv6 only\n"
          "      --rt               real-time scheduling when permitted (no busy-wait)\n"
          "Output:\n"
          "  -a, --percentile LIST  extra delay percentiles to report (comma list)\n"
          "  -b WIDTH               -M histogram bin width in seconds (default 0.0001;\n"
          "                         percentiles are exact, not read from the bins)\n"
          "  -n, --units u|m|s|n    units for the human summary\n"
          "  -M, --machine          machine-readable summary (reference format)\n"
          "  -p                     each summary into a file START_END.sum (-M) or .txt,\n"
          "                         printing its name (START, END: NTP timestamps)\n"
          "  -d DIR                 where -p puts them (default: the current directory)\n"
          "  -R, --raw              raw per-packet records (reference format)\n"
          "  -Q, --quiet            no summary\n"
          "  -v[N], --verbose[=N]   per-packet delays (of the first N records)\n"
          "  -U                     Unix times in -M and in the -v lines\n"
          "  -N N                   summaries every N packets\n"
          "      --json             one JSON document per target run on one line:\n"
          "                         {version, tool, mode, target, status, exit_code,\n"
          "                         thresholds, messages, sessions: [summaries]}\n"
          "      --json-packets FILE  per-packet records as JSON Lines\n"
          "      --csv FILE         per-packet records as CSV with a header line\n"
          "      --prom FILE        Prometheus textfile (node_exporter), replaced atomically\n"
          "      --pcap FILE        the test packets with their timestamps (pcap, ns)\n"
          "      --read FILE        no test: report the records saved in FILE\n"
          "Several targets:\n"
          "      --parallel N       targets measured at once (default 4); reports come in\n"
          "                         argument order\n"
          "Thresholds (exit status 1 when crossed):\n"
          "      --max-loss PCT     loss above PCT percent in a session\n",
          f);
    fprintf(f,
            "      --max-delay MS     %s delay percentile above MS milliseconds\n"
            "      --delay-percentile P  the percentile --max-delay looks at (default 50)\n",
            tw ? "round-trip" : "one-way");
    fputs("Repeated sessions:\n"
          "      --continuous       back-to-back sessions until interrupted; a failed\n"
          "                         session is reported and retried after a back-off\n"
          "      --sessions N       stop after N sessions (implies --continuous)\n"
          "      --out-dir DIR      each session's report in its own file in DIR\n"
          "      --retry-max S      longest back-off after failures (default 60)\n"
          "Diagnosis:\n"
          "      --check            clock sync, control port, a 10-packet test, timestamps\n"
          "  -V, --version          print the version and exit\n"
          "  -h, --help             this help\n"
          "Exit status: 0 all went well, 1 a threshold was crossed, 2 a measurement failed\n"
          "(or bad usage); the highest applies.\n",
          f);
}

int opts_parse_seconds(const char *s, int64_t *ns)
{
    return optval_seconds(s, ns);
}

int opts_parse_loss_timeout(const char *s, int64_t *ns)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v)) {
        return -1;
    }
    if (v <= 0) {
        *ns = -1;
        return 0;
    }
    return opts_parse_seconds(s, ns);
}

int opts_parse_schedule(struct opts *o, const char *s)
{
    char buf[512];
    if (strlen(s) >= sizeof(buf)) {
        return -1;
    }
    strcpy(buf, s);
    o->nslots = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (o->nslots == OPTS_MAX_SLOTS) {
            return -1;
        }
        struct opts_slot *sl = &o->slots[o->nslots++];
        if (optval_slot(tok, &sl->exponential, &sl->interval_ns) < 0) {
            return -1;
        }
    }
    return o->nslots > 0 ? 0 : -1;
}

int opts_parse_dscp(const char *s)
{
    return optval_dscp(s);
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || v > UINT32_MAX || s[0] == '-') {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
    unsigned a, b;
    char tail;
    if (strcmp(s, "0") == 0) {
        *lo = *hi = 0;
        return 0;
    }
    if (sscanf(s, "%u-%u%c", &a, &b, &tail) != 2 || a == 0 || a > b || b > 65535) {
        return -1;
    }
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return 0;
}

static int parse_modes(const char *s, bool twamp, uint32_t *modes)
{
    return optval_modes(s, twamp, modes);
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_pcts(struct opts *o, const char *s)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf)) {
        return -1;
    }
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *end;
        double v = strtod(tok, &end);
        if (end == tok || *end || v < 0 || v > 100 || o->npct == OPTS_MAX_PCT) {
            return -1;
        }
        o->pct[o->npct++] = v;
    }
    return 0;
}

enum opts_prog opts_prog_of(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    return strstr(base, "twping")      ? OPTS_TWPING
           : strstr(base, "owstats")   ? OPTS_OWSTATS
           : strstr(base, "powstream") ? OPTS_POWSTREAM
                                       : OPTS_OWPING;
}

static void defaults(struct opts *o, const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    memset(o, 0, sizeof(*o));
    o->prog = base ? base + 1 : argv0;
    o->kind = opts_prog_of(argv0);
    o->proto = o->kind == OPTS_TWPING ? OPTS_TWAMP : OPTS_OWAMP;
    o->count = 100;
    o->nslots = 1;
    o->slots[0].exponential = true;
    o->slots[0].interval_ns = 100000000;
    o->loss_timeout_ns = -1;
    /* owping: room for a server clock behind ours, which drops the packets sent less than the
     * loss timeout before our Stop-Sessions (reference: 1 s); twping: an extra wait, none */
    o->enddelay_ns = o->proto == OPTS_TWAMP ? 0 : 20000000;
    o->start_delay_ns = -1;
    o->dscp = -1;
    o->units = 'm';
    o->modes = 1 | 2 | 4 | (o->proto == OPTS_TWAMP ? 8 : 0);
    o->reflect_octets = -1;
    o->parallel = 4;
    o->max_loss_pct = -1;
    o->max_delay_ms = -1;
    o->delay_pct = 50;
    o->retry_max_ns = 60000000000LL;
}

static int twamp_only(const struct opts *o, const char *name)
{
    if (o->proto == OPTS_TWAMP) {
        return 0;
    }
    fprintf(stderr, "%s: %s is a twping option\n", o->prog, name);
    return -1;
}

static int bad(const struct opts *o, int c, const char *arg)
{
    fprintf(stderr, "%s: invalid value for -%c: '%s'\n", o->prog, c, arg ? arg : "");
    return -1;
}

static int bad_long(const struct opts *o, const char *name, const char *arg)
{
    fprintf(stderr, "%s: invalid value for %s: '%s'\n", o->prog, name, arg ? arg : "");
    return -1;
}

static int apply_output(struct opts *o, int c, const char *arg);

/* Apply one parsed option; returns 0, 1 (help printed) or -1. */
static int apply(struct opts *o, int c, const char *arg)
{
    int64_t ns;
    switch (c) {
    case 'c': return parse_u32(arg, &o->count) < 0 || o->count == 0 ? bad(o, c, arg) : 0;
    case 'i': return opts_parse_schedule(o, arg) < 0 ? bad(o, c, arg) : 0;
    case 'L': return opts_parse_loss_timeout(arg, &o->loss_timeout_ns) < 0 ? bad(o, c, arg) : 0;
    case 'E':
        if (opts_parse_seconds(arg, &ns) < 0)
            return bad(o, c, arg);
        o->enddelay_ns = ns;
        return 0;
    case 'z':
        if (opts_parse_seconds(arg, &ns) < 0)
            return bad(o, c, arg);
        o->start_delay_ns = ns;
        return 0;
    case 's': return parse_u32(arg, &o->padding) < 0 || o->padding > 65000 ? bad(o, c, arg) : 0;
    case 'P': return parse_ports(arg, &o->port_lo, &o->port_hi) < 0 ? bad(o, c, arg) : 0;
    case 'D': o->dscp = opts_parse_dscp(arg); return o->dscp < 0 ? bad(o, c, arg) : 0;
    case 't': o->to = true; return 0;
    case 'T':
        o->to = true;
        o->to_file = arg;
        return 0;
    case 'f': o->from = true; return 0;
    case 'F':
        if (o->proto == OPTS_TWAMP) {
            o->to_file = arg; /* twping -F: save the session's records */
        } else {
            o->from = true;
            o->from_file = arg;
        }
        return 0;
    case 'Z': o->zero_addresses = true; return 0;
    case 'A': return parse_modes(arg, o->proto == OPTS_TWAMP, &o->modes) < 0 ? bad(o, c, arg) : 0;
    case 'u': o->identity = arg; return strlen(arg) > 80 ? bad(o, c, arg) : 0;
    case 'k': o->keyfile = arg; return 0;
    case 'S': o->srcaddr = arg; return 0;
    case 'B': o->bind_dev = arg; return 0;
    case '4': o->family = AF_INET; return 0;
    case '6': o->family = AF_INET6; return 0;
    case 'a': return parse_pcts(o, arg) < 0 ? bad(o, c, arg) : 0;
    case 'b':
        return opts_parse_seconds(arg, &o->bucket_ns) < 0 || o->bucket_ns <= 0 ? bad(o, c, arg) : 0;
    case 'n':
        if (strlen(arg) != 1 || !strchr("nums", arg[0])) {
            return bad(o, c, arg);
        }
        o->units = arg[0];
        return 0;
    case 'M': o->machine = true; return 0;
    case 'p': o->print_files = true; return 0;
    case 'd': o->files_dir = arg; return 0;
    case 'R':
        o->raw = true;
        o->quiet = true;
        return 0;
    case 'Q': o->quiet = true; return 0;
    case 'v': o->verbose++; return arg && parse_u32(arg, &o->verbose_max) < 0 ? bad(o, c, arg) : 0;
    case 'U': o->utc = true; return 0;
    case 'N': return parse_u32(arg, &o->subsession) < 0 ? bad(o, c, arg) : 0;
    case OPT_JSON: o->json = true; return 0;
    case OPT_LIGHT:
        o->light = OPTS_LIGHT;
        return o->proto == OPTS_TWAMP ? 0 : bad(o, 'l', "--light");
    case OPT_STAMP:
        o->light = OPTS_STAMP;
        return o->proto == OPTS_TWAMP ? 0 : bad(o, 's', "--stamp");
    case OPT_RT: o->rt = true; return 0;
    case OPT_INDIVIDUAL: o->individual = true; return twamp_only(o, "--individual");
    case OPT_REFLECT_OCTETS: {
        uint32_t v;
        if (parse_u32(arg, &v) < 0 || v > 65535) {
            return bad(o, 'r', arg);
        }
        o->reflect_octets = (int)v;
        return twamp_only(o, "--reflect-octets");
    }
    case OPT_DSCP_ECN: o->dscp_ecn = true; return twamp_only(o, "--dscp-ecn");
    case OPT_PTP: o->ptp = true; return twamp_only(o, "--ptp");
    default: return apply_output(o, c, arg);
    }
}

/* The output, threshold and repetition options. */
static int apply_output(struct opts *o, int c, const char *arg)
{
    uint32_t v;
    switch (c) {
    case OPT_JSON_PACKETS: o->json_packets = arg; return 0;
    case OPT_CSV: o->csv = arg; return 0;
    case OPT_PROM: o->prom = arg; return 0;
    case OPT_PCAP: o->pcap = arg; return 0;
    case OPT_READ: o->read_file = arg; return 0;
    case OPT_PARALLEL:
        if (parse_u32(arg, &v) < 0 || v == 0 || v > OPTS_MAX_PARALLEL) {
            return bad_long(o, "--parallel", arg);
        }
        o->parallel = v;
        return 0;
    case OPT_MAX_LOSS:
        return parse_double(arg, 0, 100, &o->max_loss_pct) < 0 ? bad_long(o, "--max-loss", arg) : 0;
    case OPT_MAX_DELAY:
        return parse_double(arg, 0, 1e9, &o->max_delay_ms) < 0 ? bad_long(o, "--max-delay", arg)
                                                               : 0;
    case OPT_DELAY_PCT:
        return parse_double(arg, 0, 100, &o->delay_pct) < 0 ? bad_long(o, "--delay-percentile", arg)
                                                            : 0;
    case OPT_CONTINUOUS: o->continuous = true; return 0;
    case OPT_SESSIONS:
        if (parse_u32(arg, &o->sessions) < 0 || o->sessions == 0) {
            return bad_long(o, "--sessions", arg);
        }
        o->continuous = true;
        return 0;
    case OPT_OUT_DIR: o->out_dir = arg; return 0;
    case OPT_RETRY_MAX:
        return opts_parse_seconds(arg, &o->retry_max_ns) < 0 ? bad_long(o, "--retry-max", arg) : 0;
    case OPT_CHECK: o->check = true; return 0;
    case OPT_ZERO_PADDING: o->zero_padding = true; return twamp_only(o, "--zero-padding");
    case OPT_ZERO_ADDRESSES: o->zero_addresses = true; return 0;
    case 'h': usage(o, stdout); return 1;
    case 'V': printf("%s (owamp-tools) %s\n", o->prog, lp_version()); return 1;
    default: usage(o, stderr); return -1;
    }
}

/* owstats: the output options only. */
static const struct option owstats_long_opts[] = {
    {"percentile", required_argument, NULL, 'a'},
    {"units", required_argument, NULL, 'n'},
    {"machine", no_argument, NULL, 'M'},
    {"raw", no_argument, NULL, 'R'},
    {"quiet", no_argument, NULL, 'Q'},
    {"verbose", optional_argument, NULL, 'v'},
    {"json", no_argument, NULL, OPT_JSON},
    {"json-packets", required_argument, NULL, OPT_JSON_PACKETS},
    {"csv", required_argument, NULL, OPT_CSV},
    {"prom", required_argument, NULL, OPT_PROM},
    {"max-loss", required_argument, NULL, OPT_MAX_LOSS},
    {"max-delay", required_argument, NULL, OPT_MAX_DELAY},
    {"delay-percentile", required_argument, NULL, OPT_DELAY_PCT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void usage_owstats(const struct opts *o, FILE *f)
{
    fprintf(f, "usage: %s [options] FILE [FILE ...]\n\n", o->prog);
    fputs("Report OWAMP sessions saved in .owp files (owping -T/-F, powstream, or the\n"
          "reference's tools), each as owping reports a session it has just run.\n\n"
          "  -R, --raw              raw records: SEQ STIME SS SERR RTIME RS RERR TTL\n"
          "  -M, --machine          machine-readable summary (reference format)\n"
          "  -p                     each summary into a file START_END.sum (-M) or .txt,\n"
          "                         printing its name (START, END: NTP timestamps)\n"
          "  -d DIR                 where -p puts them (default: the current directory)\n"
          "  -Q, --quiet            no summary\n"
          "  -v[N], --verbose[=N]   per-packet delays (of the first N records)\n"
          "  -a, --percentile LIST  extra delay percentiles to report (comma list)\n"
          "  -b WIDTH               -M histogram bin width in seconds (default 0.0001)\n"
          "  -n, --units u|m|s|n    units for the human summary\n"
          "  -N N                   summaries every N packets\n"
          "  -U                     Unix times in -M and in the -v lines\n"
          "      --json             one JSON document per file\n"
          "      --json-packets FILE  per-packet records as JSON Lines\n"
          "      --csv FILE         per-packet records as CSV\n"
          "      --prom FILE        Prometheus textfile\n"
          "      --max-loss PCT, --max-delay MS, --delay-percentile P\n"
          "                         thresholds (exit status 1 when crossed)\n"
          "  -V, --version          print the version and exit\n"
          "  -h, --help             this help\n"
          "Exit status: 0 all files reported, 1 a threshold was crossed, 2 a file could not be\n"
          "read.\n",
          f);
}

/* owstats: output options, then one or more files. */
static int parse_owstats(struct opts *o, int argc, char **argv)
{
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+a:b:d:hMn:N:pQRUv::V", owstats_long_opts, NULL)) != -1) {
        if (c == 'h' || c == '?') {
            usage_owstats(o, c == 'h' ? stdout : stderr);
            return c == 'h' ? 1 : -1;
        }
        if ((rc = apply(o, c, optarg)) != 0) {
            return rc;
        }
    }
    for (int i = optind; i < argc && o->ntargets < OPTS_MAX_TARGETS; i++) {
        o->targets[o->ntargets++] = argv[i];
    }
    if (optind + (int)o->ntargets < argc) {
        fprintf(stderr, "%s: too many files (max %d)\n", o->prog, OPTS_MAX_TARGETS);
        return -1;
    }
    if (o->ntargets == 0) {
        fprintf(stderr, "%s: no file given (try --help)\n", o->prog);
        return -1;
    }
    return 0;
}

static int usage_error(const struct opts *o, const char *msg)
{
    fprintf(stderr, "%s: %s (try --help)\n", o->prog, msg);
    return -1;
}

/* Options that only make sense together or alone. */
static int check_combination(const struct opts *o)
{
    if (o->read_file) {
        return o->ntargets ? usage_error(o, "--read takes no target host") : 0;
    }
    if (o->ntargets == 0) {
        return usage_error(o, "no target host given");
    }
    if ((o->continuous || o->check) && o->ntargets > 1) {
        return usage_error(o,
                           o->check ? "--check takes one target" : "--continuous takes one target");
    }
    if (o->out_dir && !o->continuous) {
        return usage_error(o, "--out-dir needs --continuous or --sessions");
    }
    if (o->zero_addresses && o->light != OPTS_FULL) {
        return usage_error(o, "-Z (zero test addresses) needs a control connection, which "
                              "--light and --stamp do not have (zero padding: --zero-padding)");
    }
    return 0;
}

int opts_parse(struct opts *o, int argc, char **argv)
{
    defaults(o, argv[0]);
    if (o->kind == OPTS_OWSTATS) {
        return parse_owstats(o, argc, argv);
    }
    const char *shortopts = o->proto == OPTS_TWAMP
                                ? "+46a:A:b:B:c:d:D:E:F:hi:k:L:MN:n:pP:QRs:S:u:Uv::Vz:Z"
                                : "+46a:A:b:B:c:d:D:E:fF:hi:k:L:MN:n:pP:QRs:S:tT:u:Uv::Vz:";
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, long_opts, NULL)) != -1) {
        if ((rc = apply(o, c, optarg)) != 0) {
            return rc;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o->ntargets == OPTS_MAX_TARGETS) {
            fprintf(stderr, "%s: too many targets (max %d)\n", o->prog, OPTS_MAX_TARGETS);
            return -1;
        }
        o->targets[o->ntargets++] = argv[i];
    }
    if (check_combination(o) < 0) {
        return -1;
    }
    if (!o->to && !o->from) {
        o->to = o->from = true;
    }
    if ((o->modes & ~1u) && !o->identity && o->light == OPTS_FULL && !(o->modes & 1)) {
        fprintf(stderr, "%s: modes %s need an identity (-u)\n", o->prog, "A/E/M");
        return -1;
    }
    return 0;
}
