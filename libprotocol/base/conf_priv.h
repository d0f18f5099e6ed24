/* conf_priv.h - helpers shared by conf.c, conf_limits.c and conf_keys.c (not public API). */
#ifndef LP_CONF_PRIV_H
#define LP_CONF_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Logical-line reader for .conf and .limits files: '#' comment lines and blank lines are
 * skipped, "\\<newline>" joins lines, a '#' after whitespace starts a trailing comment,
 * leading/trailing whitespace is removed. Line numbers count physical lines from 1. */
struct conf_reader {
    FILE *fp;
    const char *path;
    unsigned line; /* physical lines consumed so far */
    char *buf;     /* the current logical line */
    size_t cap;
};

/* Start reading fp (path is only used in messages). */
void conf_reader_init(struct conf_reader *r, FILE *fp, const char *path);

/* Next logical line into *line (points into r->buf) and the number of its first physical
 * line into *lineno. Returns 1, 0 at end of file, or a negative LP_E_* with err set to
 * "path:line: message". */
int conf_reader_next(struct conf_reader *r, char **line, unsigned *lineno, char *err,
                     size_t errlen);

/* Wipe and free the reader's buffer (the file is not closed). */
void conf_reader_done(struct conf_reader *r);

/* One logical line of a file: 0, or a negative LP_E_* with err set (the caller adds
 * "path:line: " in front). */
typedef int (*conf_line_fn)(void *arg, char *line, char *err, size_t errlen);

/* Every logical line of fp to fn, stopping at the first error (reported as "path:line:
 * message"). 0 or LP_E_*; fp is not closed. */
int conf_each_line(FILE *fp, const char *path, conf_line_fn fn, void *arg, char *err,
                   size_t errlen);

/* printf into err (when err is not NULL) and return rc. */
int conf_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* path could not be opened (errno says why): "path: reason" into err; returns LP_E_NOTFOUND
 * for a missing file (common for the optional ones: no message catalogue is read for it),
 * else LP_E_IO. */
int conf_open_failed(char *err, size_t errlen, const char *path);

/* Prefix err (already holding a message) with "path:line: "; returns rc. */
int conf_err_at(char *err, size_t errlen, int rc, const char *path, unsigned line);

/* Split off the next whitespace-separated token of *cursor (NUL-terminating it in place);
 * NULL when none is left. */
char *conf_next_token(char **cursor);

/* Decimal unsigned 32-bit number, digits only. Returns 0 or LP_E_VALUE. */
int conf_parse_u32(const char *s, uint32_t *out);

/* Decimal unsigned count with an optional one-letter decimal multiplier k, m, g, t, p or e
 * (any case; k = 1000), as the reference's limits file accepts. Returns 0 or LP_E_VALUE
 * (also on overflow). */
int conf_parse_count(const char *s, uint64_t *out);

/* Non-negative decimal seconds ("1", "0.25") to nanoseconds, at most 9 fraction digits.
 * Returns 0 or LP_E_VALUE. */
int conf_parse_seconds_ns(const char *s, int64_t *out);

/* Boolean: on/off, yes/no, true/false, 1/0 (any case). Returns 0 or LP_E_VALUE. */
int conf_parse_bool(const char *s, bool *out);

#endif
