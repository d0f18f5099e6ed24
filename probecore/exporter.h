/* exporter.h - ippm_exporter: targets measured continuously on one event loop, their
 * figures on /metrics, one measurement per /probe request, SIGHUP to reload the
 * configuration (targets that stay keep their counters), SIGINT/SIGTERM to stop. */
#ifndef PROBE_EXPORTER_H
#define PROBE_EXPORTER_H

#include <stdbool.h>

#define EXP_DEFAULT_LISTEN ":10862"
#define EXP_DEFAULT_CONFIG "/etc/ippm_exporter.yml"
#define EXP_PROBE_TIMEOUT_DEFAULT_S 10.0 /* without X-Prometheus-Scrape-Timeout-Seconds */

struct exp_opts {
    const char *config_file;
    const char *listen;
};

/* Serve until SIGINT or SIGTERM. The exit status: 0, or 1 when it could not start (the
 * reason is logged). */
int exp_run(const struct exp_opts *o);

/* --config.check: read the configuration (keys, values, key files), print what is wrong or
 * a summary on stdout. 0 valid, 1 not. */
int exp_check(const char *config_file);

#endif
