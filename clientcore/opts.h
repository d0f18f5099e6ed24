/* opts.h - owping/twping command line. */
#ifndef OWPING_OPTS_H
#define OWPING_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#define OPTS_MAX_SLOTS 64
#define OPTS_MAX_PCT 16
#define OPTS_MAX_TARGETS 64
#define OPTS_MAX_PARALLEL 64

/* Exit status: all fine, a threshold crossed, a measurement failed (the worst wins). */
enum { OPTS_EXIT_OK = 0, OPTS_EXIT_THRESHOLD = 1, OPTS_EXIT_FAILED = 2 };

struct out_ctx;

enum opts_proto { OPTS_OWAMP, OPTS_TWAMP };

/* The program, chosen by the name it runs under (one binary). */
enum opts_prog { OPTS_OWPING, OPTS_TWPING, OPTS_OWSTATS, OPTS_POWSTREAM };
enum opts_light { OPTS_FULL, OPTS_LIGHT, OPTS_STAMP };

/* One schedule slot from -i: mean or fixed interval in ns. */
struct opts_slot {
    bool exponential;
    int64_t interval_ns;
};

struct opts {
    enum opts_prog kind;
    enum opts_proto proto;
    enum opts_light light;
    const char *prog;
    /* test */
    uint32_t count;
    struct opts_slot slots[OPTS_MAX_SLOTS];
    unsigned nslots;
    int64_t loss_timeout_ns;   /* -L; <0 = default (2 s + RTT; -L 0 or less asks for it) */
    int64_t enddelay_ns;       /* -E */
    int64_t start_delay_ns;    /* -z; <0 = automatic */
    uint32_t padding;          /* -s */
    uint16_t port_lo, port_hi; /* -P */
    int dscp;                  /* -D; -1 = unset */
    bool to, from;             /* -t/-T, -f/-F */
    const char *to_file, *from_file;
    bool zero_padding;   /* --zero-padding */
    bool zero_addresses; /* twping -Z, --zero-addresses: NAT traversal (RFC 5357 §3.5) */
    /* connection */
    uint32_t modes;       /* -A, as WIRE mode bits */
    const char *identity; /* -u */
    const char *keyfile;  /* -k */
    const char *srcaddr;  /* -S */
    const char *bind_dev; /* -B */
    int family;           /* 0, AF_INET (-4) or AF_INET6 (-6) */
    /* output */
    double pct[OPTS_MAX_PCT]; /* -a */
    unsigned npct;
    char units;               /* -n: n u m s */
    int64_t bucket_ns;        /* -b: -M histogram bin width (0: 0.0001 s) */
    bool machine;             /* -M */
    bool print_files;         /* -p: summaries into files named START_END, names printed */
    const char *files_dir;    /* -d: where -p puts them (NULL: the current directory) */
    bool raw;                 /* -R */
    bool quiet;               /* -Q */
    int verbose;              /* -v[N] */
    uint32_t verbose_max;     /* -vN: per-packet lines of the first N records (0: all) */
    bool utc;                 /* -U: Unix times in -M and in the -v lines */
    uint32_t subsession;      /* -N */
    bool json;                /* --json: one JSON document per target run */
    const char *json_packets; /* --json-packets FILE: per-packet JSON Lines */
    const char *csv;          /* --csv FILE: per-packet CSV */
    const char *prom;         /* --prom FILE: Prometheus textfile (atomic) */
    const char *pcap;         /* --pcap FILE: test packets, nanosecond pcap */
    const char *read_file;    /* --read FILE: report a saved records file, no test
                               * (owstats: the files are the targets) */
    unsigned parallel;        /* --parallel N: targets measured at once (default 4) */
    /* thresholds (exit status 1 when crossed) */
    double max_loss_pct; /* --max-loss PCT, <0 = none */
    double max_delay_ms; /* --max-delay MS, <0 = none */
    double delay_pct;    /* --delay-percentile P (default 50) */
    /* repeated sessions */
    bool continuous;      /* --continuous: back-to-back sessions */
    uint32_t sessions;    /* --sessions N: stop after N (0 = forever) */
    const char *out_dir;  /* --out-dir DIR: one file per session */
    int64_t retry_max_ns; /* --retry-max S: longest back-off after a failure */
    bool check;           /* --check: diagnose clock, server, path and timestamps */
    struct out_ctx *out;  /* where results go (set by main, not an option) */
    /* precision and protocol extensions */
    bool rt;            /* --rt: real-time scheduling when permitted, no busy-wait */
    bool individual;    /* --individual: RFC 5938 Start-N/Stop-N-Sessions */
    int reflect_octets; /* --reflect-octets N: RFC 6038, -1 = off */
    bool dscp_ecn;      /* --dscp-ecn: RFC 7750 DSCP and ECN monitoring */
    bool ptp;           /* --ptp: RFC 8186 PTPv2 timestamps */
    /* targets */
    const char *targets[OPTS_MAX_TARGETS];
    unsigned ntargets;
};

/* Parse argv into o for the program argv[0] names (owping, twping, owstats; powstream has
 * its own, powstream.h); on error prints a message naming the option and returns -1; returns
 * 1 when --help or -h printed the usage (exit 0). */
int opts_parse(struct opts *o, int argc, char **argv);

/* The program argv[0] names. */
enum opts_prog opts_prog_of(const char *argv0);

/* Parse a -i schedule list ("0.1e,0f,1"); returns 0 or -1. */
int opts_parse_schedule(struct opts *o, const char *s);

/* Parse a duration in seconds ("0.01", "2") into ns; returns 0 or -1. */
int opts_parse_seconds(const char *s, int64_t *ns);

/* Parse a loss timeout (-L): seconds, where 0 or less asks for the default (the reference's
 * meaning); *ns is then -1. 0 or -1 on a malformed value. */
int opts_parse_loss_timeout(const char *s, int64_t *ns);

/* Parse a DSCP given as a number or a name (EF, AF41, CS1...); returns 0..63 or -1. */
int opts_parse_dscp(const char *s);

#endif
