/* main.c - ippm_exporter: OWAMP, TWAMP, TWAMP Light and STAMP measurements for Prometheus. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#include "exporter.h"
#include "plog.h"

static void usage(FILE *f)
{
    fputs("usage: ippm_exporter [options]\n"
          "Measures targets continuously (OWAMP, TWAMP, TWAMP Light, STAMP) and serves the\n"
          "figures to Prometheus on /metrics; /probe?target=HOST[:PORT]&module=NAME runs one\n"
          "measurement now.\n"
          "  --web.listen-address [ADDR]:PORT  where to serve HTTP (default " EXP_DEFAULT_LISTEN
          ")\n"
          "  --config.file FILE     the configuration (default " EXP_DEFAULT_CONFIG ")\n"
          "  --config.check         validate the configuration and exit (0 valid, 1 not)\n"
          "  --log.level LEVEL      error, warn, info (default) or debug\n"
          "  --log.syslog           log to syslog instead of stderr\n"
          "  --version              print the version and exit\n"
          "  -h, --help             this help\n"
          "SIGHUP reloads the configuration; SIGINT and SIGTERM stop.\n",
          f);
}

int main(int argc, char **argv)
{
    enum { O_LISTEN = 256, O_CONFIG, O_CHECK, O_LEVEL, O_SYSLOG, O_VERSION };
    static const struct option longs[] = {
        {"web.listen-address", required_argument, NULL, O_LISTEN},
        {"config.file", required_argument, NULL, O_CONFIG},
        {"config.check", no_argument, NULL, O_CHECK},
        {"log.level", required_argument, NULL, O_LEVEL},
        {"log.syslog", no_argument, NULL, O_SYSLOG},
        {"version", no_argument, NULL, O_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct exp_opts o = {.config_file = EXP_DEFAULT_CONFIG, .listen = EXP_DEFAULT_LISTEN};
    bool check = false, use_syslog = false;
    int level = PLOG_INFO, c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case O_LISTEN: o.listen = optarg; break;
        case O_CONFIG: o.config_file = optarg; break;
        case O_CHECK: check = true; break;
        case O_LEVEL:
            if ((level = plog_level_of(optarg)) < 0) {
                fprintf(stderr, "ippm_exporter: bad --log.level '%s'\n", optarg);
                return 2;
            }
            break;
        case O_SYSLOG: use_syslog = true; break;
        case O_VERSION: printf("ippm_exporter %s\n", lp_version()); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ippm_exporter: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (check) {
        return exp_check(o.config_file);
    }
    plog_setup(use_syslog, (enum plog_level)level, "ippm_exporter");
    return exp_run(&o);
}
