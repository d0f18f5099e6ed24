/* options.c - netsim's command line: durations, percentages, index lists, packet filters,
 * and which direction each impairment applies to. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netsim.h"

enum { MASK_A2B = 1, MASK_B2A = 2, MASK_BOTH = 3 };

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') {
        return -1;
    }
    *out = v;
    return 0;
}

/* "5ms", "100us", "250ns", "1s"; a bare number is milliseconds. */
static int parse_duration(const char *s, int64_t *ns)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"", 1e6}};
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0 && v <= 3600)) {
        return -1;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            *ns = (int64_t)(v * units[i].scale + 0.5);
            return 0;
        }
    }
    return -1;
}

/* "1%", "0.5" (percent; the '%' is optional). */
static int parse_percent(const char *s, double *p)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || (*end && strcmp(end, "%") != 0) || !(v >= 0 && v <= 100)) {
        return -1;
    }
    *p = v / 100.0;
    return 0;
}

/* "3,7,10-12". */
static int parse_list(const char *s, struct netsim_list *l)
{
    char tmp[512], *save = NULL;
    if (strlen(s) >= sizeof tmp) {
        return -1;
    }
    strcpy(tmp, s);
    l->n = 0;
    for (char *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (l->n == NETSIM_RANGES_MAX) {
            return -1;
        }
        struct netsim_range *r = &l->r[l->n++];
        char *dash = strchr(tok, '-');
        if (dash) {
            *dash = '\0';
        }
        if (parse_u64(tok, &r->lo) || parse_u64(dash ? dash + 1 : tok, &r->hi) || r->hi < r->lo) {
            return -1;
        }
    }
    return l->n > 0 ? 0 : -1;
}

bool netsim_list_has(const struct netsim_list *l, uint64_t i)
{
    for (int k = 0; k < l->n; k++) {
        if (i >= l->r[k].lo && i <= l->r[k].hi) {
            return true;
        }
    }
    return false;
}

/* "all", "udp", "tcp", optionally ":PORTS", ":src=PORTS" or ":dst=PORTS"; PORTS is N or N-M. */
static int parse_match(const char *s, struct netsim_match *m)
{
    const char *rest = strchr(s, ':');
    size_t plen = rest ? (size_t)(rest - s) : strlen(s);
    memset(m, 0, sizeof *m);
    if (plen == 3 && strncmp(s, "all", 3) == 0 && !rest) {
        return 0;
    }
    if (plen == 3 && strncmp(s, "udp", 3) == 0) {
        m->proto = 17;
    } else if (plen == 3 && strncmp(s, "tcp", 3) == 0) {
        m->proto = 6;
    } else {
        return -1;
    }
    if (!rest) {
        return 0;
    }
    rest++;
    m->ports = NETSIM_PORT_EITHER;
    if (strncmp(rest, "src=", 4) == 0 || strncmp(rest, "dst=", 4) == 0) {
        m->ports = rest[0] == 's' ? NETSIM_PORT_SRC : NETSIM_PORT_DST;
        rest += 4;
    }
    struct netsim_list l;
    if (parse_list(rest, &l) || l.n != 1 || l.r[0].hi > 65535) {
        return -1;
    }
    m->lo = (uint16_t)l.r[0].lo;
    m->hi = (uint16_t)l.r[0].hi;
    return 0;
}

/* An impairment value may start with "a2b=", "b2a=" or "both="; otherwise --direction decides. */
static const char *split_dir(const char *arg, int dflt, int *mask)
{
    static const struct {
        const char *prefix;
        int mask;
    } p[] = {{"a2b=", MASK_A2B}, {"b2a=", MASK_B2A}, {"both=", MASK_BOTH}};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        if (strncmp(arg, p[i].prefix, strlen(p[i].prefix)) == 0) {
            *mask = p[i].mask;
            return arg + strlen(p[i].prefix);
        }
    }
    *mask = dflt;
    return arg;
}

static int parse_direction(const char *s, int *mask)
{
    if (strcmp(s, "a2b") == 0) {
        *mask = MASK_A2B;
    } else if (strcmp(s, "b2a") == 0) {
        *mask = MASK_B2A;
    } else if (strcmp(s, "both") == 0) {
        *mask = MASK_BOTH;
    } else {
        return -1;
    }
    return 0;
}

enum {
    OPT_NS_A = 256,
    OPT_NS_B,
    OPT_DEV,
    OPT_DELAY,
    OPT_JITTER,
    OPT_KEEP,
    OPT_LOSS,
    OPT_DUP,
    OPT_REORDER,
    OPT_SEED,
    OPT_DROP,
    OPT_DUP_AT,
    OPT_SWAP,
    OPT_MATCH,
    OPT_DIR,
    OPT_STATS,
    OPT_READY,
    OPT_SPIN,
    OPT_HOLD
};

static const struct option long_opts[] = {
    {"ns-a", required_argument, NULL, OPT_NS_A},
    {"ns-b", required_argument, NULL, OPT_NS_B},
    {"dev", required_argument, NULL, OPT_DEV},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"jitter", required_argument, NULL, OPT_JITTER},
    {"keep-order", optional_argument, NULL, OPT_KEEP},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"dup", required_argument, NULL, OPT_DUP},
    {"reorder", required_argument, NULL, OPT_REORDER},
    {"seed", required_argument, NULL, OPT_SEED},
    {"drop", required_argument, NULL, OPT_DROP},
    {"dup-at", required_argument, NULL, OPT_DUP_AT},
    {"swap", required_argument, NULL, OPT_SWAP},
    {"match", required_argument, NULL, OPT_MATCH},
    {"direction", required_argument, NULL, OPT_DIR},
    {"stats", no_argument, NULL, OPT_STATS},
    {"ready-file", required_argument, NULL, OPT_READY},
    {"spin", required_argument, NULL, OPT_SPIN},
    {"hold", required_argument, NULL, OPT_HOLD},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fputs("usage: netsim --ns-a NAME --ns-b NAME [options]\n"
          "Relay packets between the TUN devices of two network namespaces, impaired.\n"
          "  --ns-a NAME, --ns-b NAME  namespaces (/var/run/netns/NAME, or a path with '/')\n"
          "  --dev NAME          TUN device name in both namespaces (default nsim0)\n"
          "  --delay DUR         one-way delay (ns, us, ms, s; bare number = ms)\n"
          "  --jitter DUR        add uniform jitter in [-DUR, +DUR] (delay never below 0)\n"
          "  --keep-order[=DIR]  jitter never reorders packets\n"
          "  --loss P            Bernoulli loss, percent ('1%' or '1')\n"
          "  --dup P             duplicate with probability P percent\n"
          "  --reorder P         swap a packet with the next one, probability P percent\n"
          "  --seed N            PRNG seed (default 1); same seed + same packets = same result\n"
          "  --drop LIST         drop these packets (0-based indexes, '3,7,10-12')\n"
          "  --dup-at LIST       duplicate these packets\n"
          "  --swap LIST         deliver packet i+1 before packet i\n"
          "  --hold DUR          longest wait for the packet to swap with (default 1s)\n"
          "  --match SPEC        packets that loss/dup/reorder/patterns apply to and that are\n"
          "                      counted for indexes: all | udp | tcp [:PORTS|:src=PORTS|\n"
          "                      :dst=PORTS], PORTS = N or N-M (default udp); delay and\n"
          "                      jitter apply to every packet\n"
          "  --direction D       a2b | b2a | both (default): directions that un-prefixed\n"
          "                      impairments apply to; any value may be prefixed 'a2b=',\n"
          "                      'b2a=' or 'both=' instead, e.g. --delay b2a=10ms\n"
          "  --stats             print counters to stderr on exit\n"
          "  --ready-file PATH   write the pid there once both TUNs are attached\n"
          "  --spin DUR          busy-wait this long before each release (default 200us)\n"
          "  -v, --verbose       log every packet to stderr\n"
          "  -h, --help          this text\n"
          "Exits cleanly on SIGTERM, SIGINT or SIGHUP.\n",
          f);
}

static int apply_impairment(struct netsim_profile *pr, int opt, const char *v)
{
    switch (opt) {
    case OPT_DELAY: return parse_duration(v, &pr->delay_ns);
    case OPT_JITTER: return parse_duration(v, &pr->jitter_ns);
    case OPT_KEEP: pr->keep_order = true; return 0;
    case OPT_LOSS: return parse_percent(v, &pr->loss);
    case OPT_DUP: return parse_percent(v, &pr->dup);
    case OPT_REORDER: return parse_percent(v, &pr->reorder);
    case OPT_DROP: return parse_list(v, &pr->drop);
    case OPT_DUP_AT: return parse_list(v, &pr->dup_at);
    default: return parse_list(v, &pr->swap);
    }
}

/* Non-impairment options; returns -1 on a bad value or an unknown option. */
static int apply_general(struct netsim_options *o, int opt, const char *v)
{
    switch (opt) {
    case OPT_NS_A:
    case OPT_NS_B: o->ns[opt == OPT_NS_B] = v; return 0;
    case OPT_DEV: o->dev = v; return strlen(v) < IFNAMSIZ ? 0 : -1;
    case OPT_SEED: return parse_u64(v, &o->seed);
    case OPT_MATCH: return parse_match(v, &o->match);
    case OPT_DIR: return parse_direction(v, &o->dir_mask);
    case OPT_STATS: o->stats = true; return 0;
    case OPT_READY: o->ready_file = v; return 0;
    case OPT_SPIN: return parse_duration(v, &o->spin_ns);
    case OPT_HOLD: return parse_duration(v, &o->hold_ns);
    case 'v': o->verbose = true; return 0;
    default: return -1;
    }
}

static bool is_impairment(int opt)
{
    return opt >= OPT_DELAY && opt <= OPT_SWAP && opt != OPT_SEED;
}

static const char *opt_name(int opt)
{
    for (const struct option *lo = long_opts; lo->name; lo++) {
        if (lo->val == opt) {
            return lo->name;
        }
    }
    return "?";
}

/* One option of the second pass; an impairment goes to each direction its mask selects. */
static int apply_option(struct netsim_options *o, int opt, const char *arg)
{
    const char *v = arg ? arg : "";
    int mask = o->dir_mask, rc = 0;
    if (!is_impairment(opt)) {
        rc = apply_general(o, opt, v);
    } else if (opt == OPT_KEEP && arg) {
        rc = parse_direction(arg, &mask);
    } else {
        v = split_dir(v, o->dir_mask, &mask);
    }
    for (int d = 0; d < 2 && rc == 0 && is_impairment(opt); d++) {
        rc = (mask & (1 << d)) ? apply_impairment(&o->prof[d], opt, v) : 0;
    }
    if (rc) {
        fprintf(stderr, "netsim: bad value '%s' for --%s\n", v, opt_name(opt));
    }
    return rc;
}

/* Two passes: --direction first, since it decides where un-prefixed impairments go. */
int netsim_parse_options(int argc, char **argv, struct netsim_options *o)
{
    int opt;
    memset(o, 0, sizeof *o);
    o->dev = "nsim0";
    o->seed = 1;
    o->dir_mask = MASK_BOTH;
    o->spin_ns = 200000;
    o->hold_ns = 1000000000;
    o->match.proto = 17;
    while ((opt = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 1;
        }
        if (opt == '?' || (opt == OPT_DIR && apply_option(o, OPT_DIR, optarg))) {
            usage(stderr);
            return -1;
        }
    }
    optind = 0;
    while ((opt = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
        if (apply_option(o, opt, optarg)) {
            return -1;
        }
    }
    if (optind != argc || !o->ns[0] || !o->ns[1]) {
        fprintf(stderr, "netsim: --ns-a and --ns-b are required (no other arguments)\n");
        return -1;
    }
    return 0;
}
