/* plog.c - log lines to stderr or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "plog.h"

static struct {
    bool syslog;
    enum plog_level level;
    const char *ident;
} cfg = {false, PLOG_INFO, "ippm_exporter"};

static const char *const names[] = {"error", "warn", "info", "debug"};

void plog_setup(bool use_syslog, enum plog_level level, const char *ident)
{
    cfg.syslog = use_syslog;
    cfg.level = level;
    cfg.ident = ident;
    if (use_syslog) {
        openlog(ident, LOG_PID, LOG_DAEMON);
    }
}

int plog_level_of(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

void plog(enum plog_level level, const char *fmt, ...)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char msg[1024];
    va_list ap;
    if (level > cfg.level) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cfg.syslog) {
        syslog(prio[level], "%s", msg);
    } else {
        fprintf(stderr, "%s: %s: %s\n", cfg.ident, names[level], msg);
    }
}
