/* plog.h - the exporter's log: one line per message on stderr (the journal takes it from
 * there under systemd) or to syslog, below a chosen level. */
#ifndef PROBE_PLOG_H
#define PROBE_PLOG_H

#include <stdbool.h>

enum plog_level { PLOG_ERROR, PLOG_WARN, PLOG_INFO, PLOG_DEBUG };

/* Where and from which level on (process-wide; stderr and info until called). */
void plog_setup(bool syslog, enum plog_level level, const char *ident);

/* The level called name ("error", "warn", "info", "debug"), or -1. */
int plog_level_of(const char *name);

void plog(enum plog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
