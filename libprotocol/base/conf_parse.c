/* conf_parse.c - line reader, error formatting and value parsers for the conf module. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "conf_priv.h"
#include "crypto.h"

int conf_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int conf_open_failed(char *err, size_t errlen, const char *path)
{
    if (errno == ENOENT) {
        return conf_errf(err, errlen, LP_E_NOTFOUND, "%s: No such file or directory", path);
    }
    return conf_errf(err, errlen, LP_E_IO, "%s: %s", path, strerror(errno));
}

int conf_err_at(char *err, size_t errlen, int rc, const char *path, unsigned line)
{
    if (err != NULL && errlen > 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", err);
        snprintf(err, errlen, "%s:%u: %s", path, line, msg);
    }
    return rc;
}

void conf_reader_init(struct conf_reader *r, FILE *fp, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->fp = fp;
    r->path = path;
}

void conf_reader_done(struct conf_reader *r)
{
    if (r->buf != NULL) {
        cry_wipe(r->buf, r->cap);
        free(r->buf);
    }
    r->buf = NULL;
    r->cap = 0;
}

/* Read one physical line, without its "\n" or "\r\n", into *out (malloc'd by getline).
 * Returns its length, -1 at end of file, LP_E_SYNTAX for an embedded NUL. */
static long read_physical(struct conf_reader *r, char **out, size_t *outcap)
{
    ssize_t n = getline(out, outcap, r->fp);
    if (n < 0) {
        return -1;
    }
    r->line++;
    if ((size_t)n != strlen(*out)) {
        return LP_E_SYNTAX;
    }
    if (n > 0 && (*out)[n - 1] == '\n') {
        (*out)[--n] = '\0';
    }
    if (n > 0 && (*out)[n - 1] == '\r') {
        (*out)[--n] = '\0';
    }
    return (long)n;
}

/* Append len octets of s to the logical line buffer. */
static int append(struct conf_reader *r, size_t *used, const char *s, size_t len)
{
    if (*used + len + 1 > r->cap) {
        size_t cap = (*used + len + 1) * 2;
        char *nb = malloc(cap);
        if (nb == NULL) {
            return LP_E_NOMEM;
        }
        if (r->buf != NULL) {
            memcpy(nb, r->buf, *used);
            cry_wipe(r->buf, r->cap);
            free(r->buf);
        }
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + *used, s, len);
    *used += len;
    r->buf[*used] = '\0';
    return 0;
}

/* Cut a trailing comment ('#' at the start or after whitespace) and surrounding blanks;
 * returns the first non-blank character. */
static char *trim_line(char *s)
{
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            break;
        }
    }
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

static bool is_comment_or_blank(const char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    return *s == '\0' || *s == '#';
}

/* Gather one logical line (physical lines joined by "\\<newline>") into r->buf. Returns
 * 1, 0 at EOF, or an error with err set. */
static int gather(struct conf_reader *r, char **phys, size_t *physcap, unsigned *lineno, char *err,
                  size_t errlen)
{
    size_t used = 0;
    bool more = true;
    bool any = false;
    while (more) {
        long n = read_physical(r, phys, physcap);
        if (n == LP_E_SYNTAX) {
            return conf_errf(err, errlen, LP_E_SYNTAX, "%s:%u: NUL character in line", r->path,
                             r->line);
        }
        if (n < 0) {
            return any ? 1 : 0;
        }
        if (!any && is_comment_or_blank(*phys)) {
            continue;
        }
        if (!any) {
            *lineno = r->line;
            any = true;
        }
        more = n > 0 && (*phys)[n - 1] == '\\';
        int rc = append(r, &used, *phys, more ? (size_t)n - 1 : (size_t)n);
        if (rc < 0) {
            return conf_errf(err, errlen, rc, "%s:%u: out of memory", r->path, r->line);
        }
    }
    return 1;
}

int conf_reader_next(struct conf_reader *r, char **line, unsigned *lineno, char *err, size_t errlen)
{
    char *phys = NULL;
    size_t physcap = 0;
    int rc;
    for (;;) {
        rc = gather(r, &phys, &physcap, lineno, err, errlen);
        if (rc <= 0) {
            break;
        }
        char *s = trim_line(r->buf);
        if (*s == '\0') {
            continue;
        }
        if (strchr(s, '\\') != NULL) {
            rc = conf_errf(err, errlen, LP_E_SYNTAX,
                           "%s:%u: '\\' is only allowed right before the end of a line", r->path,
                           *lineno);
            break;
        }
        *line = s;
        break;
    }
    if (phys != NULL) {
        cry_wipe(phys, physcap);
        free(phys);
    }
    return rc;
}

char *conf_next_token(char **cursor)
{
    char *p = *cursor;
    while (*p != '\0' && isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '\0') {
        *cursor = p;
        return NULL;
    }
    char *start = p;
    while (*p != '\0' && !isspace((unsigned char)*p)) {
        p++;
    }
    if (*p != '\0') {
        *p++ = '\0';
    }
    *cursor = p;
    return start;
}

/* Digits only, at least one; value and end in *v / *end; LP_E_VALUE on overflow. */
static int parse_digits_u64(const char *s, uint64_t *v, const char **end)
{
    uint64_t acc = 0;
    const char *p = s;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (acc > (UINT64_MAX - d) / 10) {
            return LP_E_VALUE;
        }
        acc = acc * 10 + d;
        p++;
    }
    if (p == s) {
        return LP_E_VALUE;
    }
    *v = acc;
    *end = p;
    return 0;
}

int conf_parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    const char *end;
    if (s == NULL || parse_digits_u64(s, &v, &end) < 0 || *end != '\0' || v > UINT32_MAX) {
        return LP_E_VALUE;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Multiplier for a decimal suffix letter, 0 when the letter is not one. */
static uint64_t suffix_mult(char c)
{
    static const char letters[] = "kmgtpe";
    const char *p = strchr(letters, tolower((unsigned char)c));
    uint64_t m = 1;
    if (c == '\0' || p == NULL) {
        return 0;
    }
    for (const char *q = letters; q <= p; q++) {
        m *= 1000;
    }
    return m;
}

int conf_parse_count(const char *s, uint64_t *out)
{
    uint64_t v, mult = 1;
    const char *end;
    if (s == NULL || parse_digits_u64(s, &v, &end) < 0) {
        return LP_E_VALUE;
    }
    if (*end != '\0') {
        mult = suffix_mult(*end);
        if (mult == 0 || end[1] != '\0') {
            return LP_E_VALUE;
        }
    }
    if (v != 0 && mult > UINT64_MAX / v) {
        return LP_E_VALUE;
    }
    *out = v * mult;
    return 0;
}

int conf_parse_seconds_ns(const char *s, int64_t *out)
{
    uint64_t sec, frac = 0;
    const char *end;
    if (s == NULL || parse_digits_u64(s, &sec, &end) < 0 || sec > 9000000000ULL) {
        return LP_E_VALUE;
    }
    if (*end == '.') {
        const char *f = end + 1;
        if (parse_digits_u64(f, &frac, &end) < 0 || end - f > 9) {
            return LP_E_VALUE;
        }
        for (long i = end - f; i < 9; i++) {
            frac *= 10;
        }
    }
    if (*end != '\0') {
        return LP_E_VALUE;
    }
    *out = (int64_t)(sec * 1000000000ULL + frac);
    return 0;
}

int conf_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"on", "yes", "true", "1"};
    static const char *no[] = {"off", "no", "false", "0"};
    for (size_t i = 0; s != NULL && i < LP_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return LP_E_VALUE;
}

int conf_each_line(FILE *fp, const char *path, conf_line_fn fn, void *arg, char *err, size_t errlen)
{
    struct conf_reader r;
    conf_reader_init(&r, fp, path);
    char *line;
    unsigned lineno = 0;
    int rc;
    while ((rc = conf_reader_next(&r, &line, &lineno, err, errlen)) > 0) {
        rc = fn(arg, line, err, errlen);
        if (rc < 0) {
            conf_err_at(err, errlen, rc, path, lineno);
            break;
        }
    }
    if (rc == 0 && ferror(fp)) {
        rc = conf_errf(err, errlen, LP_E_IO, "%s: read error", path);
    }
    conf_reader_done(&r);
    return rc;
}
