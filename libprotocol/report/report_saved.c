/* report_saved.c - records files written by owping -T/-F and twping -F, read back for later
 * reports (owping/twping --read, like the reference's owstats). A file is a header of
 * "#KEY<TAB>VALUE" lines describing the session, then the -R lines of report_machine.c.
 * The header counts the records (#RECORDS), so a file cut short (a full disk, a copy
 * interrupted) is refused rather than read as a session with fewer packets: the reader
 * returns LP_E_SHORT, with out->line the number of lines read (0: no records and no count:
 * an empty file) and out->n the records read.
 * The -R columns print Error Estimates as seconds; since an estimate is an 8-bit multiplier
 * times a power of two, the printed six digits identify it exactly, so statistics computed
 * from a file read back equal those of the live session. Receive timestamp sources are not
 * in the -R format: records read back say CLK_SRC_NONE. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "common.h"
#include "owpfile.h"
#include "report.h"
#include "report_int.h"
#include "sched.h"

#define SAVED_MAGIC "owamp-tools-records"
#define SAVED_LINE_MAX 1024

uint16_t rep_errest_from_seconds(double err_s, bool sync)
{
    struct clk_errest e = {.sync = sync};
    if (!(err_s > 0) || !isfinite(err_s)) {
        return clk_errest_encode(e);
    }
    for (unsigned scale = 0; scale < 64; scale++) {
        long long m = llround(ldexp(err_s, 32 - (int)scale));
        if (m >= 1 && m <= 255 && fabs(ldexp((double)m, (int)scale - 32) - err_s) <= err_s * 1e-5) {
            e.scale = (uint8_t)scale;
            e.mult = (uint8_t)m;
            break;
        }
    }
    return clk_errest_encode(e);
}

/* ---- writing ---- */

/* "#KEY<TAB>VALUE" with tabs and line breaks in the value replaced; nothing when NULL. */
static void put_str(FILE *f, const char *key, const char *v)
{
    if (!v) {
        return;
    }
    fprintf(f, "#%s\t", key);
    for (; *v; v++) {
        fputc(*v == '\t' || *v == '\n' || *v == '\r' ? ' ' : *v, f);
    }
    fputc('\n', f);
}

static void put_header(FILE *f, bool two_way, const struct rep_session *s,
                       const struct met_params *mp, uint64_t n)
{
    char sid[33];
    rep_int_sid_hex(s->sid, sid);
    fprintf(f, "#%s\t1\n#KIND\t%s\n#SID\t%s\n", SAVED_MAGIC, two_way ? "twamp" : "owamp", sid);
    put_str(f, "DIRECTION", s->direction);
    put_str(f, "FROM_HOST", s->from_host);
    put_str(f, "FROM_ADDR", s->from_addr);
    put_str(f, "FROM_PORT", s->from_port);
    put_str(f, "TO_HOST", s->to_host);
    put_str(f, "TO_ADDR", s->to_addr);
    put_str(f, "TO_PORT", s->to_port);
    fprintf(f, "#TYPE_P\t%" PRIu32 "\n#PADDING\t%" PRIu32 "\n#PACKETS\t%" PRIu32 "\n", s->type_p,
            s->padding, s->npackets);
    fprintf(f, "#FINISHED\t%d\n#START_NS\t%" PRId64 "\n#END_NS\t%" PRId64 "\n", s->finished ? 1 : 0,
            s->start.ns, s->end.ns);
    fprintf(f, "#LOSS_TIMEOUT_NS\t%" PRId64 "\n#SAMPLE_PACKETS\t%" PRIu32 "\n", s->loss_timeout_ns,
            mp->npackets);
    fprintf(f, "#RECORDS\t%" PRIu64 "\n", n);
}

void rep_saved_header(FILE *f, bool two_way, const struct rep_session *s,
                      const struct met_params *mp, uint64_t n, int refl_seq)
{
    put_header(f, two_way, s, mp, n);
    if (two_way) {
        fprintf(f, "#REFL_SEQ\t%d\n", refl_seq > 0 ? refl_seq : 0);
    }
}

bool rep_saved_refl_seq(const struct met_twrec *r, size_t n, int *known)
{
    for (size_t i = 0; i < n && !*known; i++) {
        if (!(r[i].flags & MET_TW_LOST)) {
            *known = !(r[i].flags & MET_TW_REFL_SEQ) ? -1 : (r[i].flags & MET_TW_REFL_COPY) ? 2 : 1;
        }
    }
    return *known > 0;
}

int rep_saved_write_ow(FILE *f, const struct rep_session *s, const struct met_params *mp,
                       const struct met_owrec *r, size_t n)
{
    rep_saved_header(f, false, s, mp, n, false);
    return rep_ow_raw(f, r, n);
}

int rep_saved_write_tw(FILE *f, const struct rep_session *s, const struct met_params *mp,
                       const struct met_twrec *r, size_t n)
{
    int known = 0;
    rep_saved_refl_seq(r, n, &known);
    rep_saved_header(f, true, s, mp, n, known);
    return rep_tw_raw(f, r, n);
}

/* ---- reading ---- */

/* What the header says about the lines that follow. */
struct saved_rd {
    bool ours;          /* the magic line: written here, every line ends with a line break */
    uint8_t refl_flags; /* TWAMP: MET_TW_REFL_SEQ (and _COPY) of the replies */
    int64_t records;    /* records announced, -1 when not said (older writers, bare -R) */
};

static bool parse_i64(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno) {
        return false;
    }
    *out = x;
    return true;
}

static bool parse_u32(const char *v, uint32_t *out)
{
    int64_t x;
    if (!parse_i64(v, &x) || x < 0 || x > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)x;
    return true;
}

static bool parse_sid(const char *v, uint8_t sid[16])
{
    if (strlen(v) != 32) {
        return false;
    }
    for (int i = 0; i < 16; i++) {
        unsigned b;
        if (sscanf(v + 2 * i, "%2x", &b) != 1) {
            return false;
        }
        sid[i] = (uint8_t)b;
    }
    return true;
}

/* Copy v into buf and point *field at it. */
static bool set_str(char *buf, size_t cap, const char **field, const char *v)
{
    snprintf(buf, cap, "%s", v);
    *field = buf;
    return true;
}

/* Apply one header line (without the '#'); unknown keys are ignored (newer writers). */
static bool header_line(struct rep_saved *o, char *line, struct saved_rd *rd)
{
    char *v = strchr(line, '\t');
    int64_t x = 0;
    if (!v) {
        return true; /* a plain comment */
    }
    *v++ = '\0';
    struct rep_session *s = &o->rs;
    if (strcmp(line, "KIND") == 0) {
        o->two_way = strcmp(v, "twamp") == 0;
        return o->two_way || strcmp(v, "owamp") == 0;
    }
    if (strcmp(line, "SID") == 0) {
        return parse_sid(v, s->sid);
    }
    if (strcmp(line, "DIRECTION") == 0) {
        return set_str(o->direction, sizeof(o->direction), &s->direction, v);
    }
    if (strcmp(line, "FROM_HOST") == 0) {
        return set_str(o->from_host, REP_SAVED_STR, &s->from_host, v);
    }
    if (strcmp(line, "FROM_ADDR") == 0) {
        return set_str(o->from_addr, REP_SAVED_STR, &s->from_addr, v);
    }
    if (strcmp(line, "FROM_PORT") == 0) {
        return set_str(o->from_port, REP_SAVED_STR, &s->from_port, v);
    }
    if (strcmp(line, "TO_HOST") == 0) {
        return set_str(o->to_host, REP_SAVED_STR, &s->to_host, v);
    }
    if (strcmp(line, "TO_ADDR") == 0) {
        return set_str(o->to_addr, REP_SAVED_STR, &s->to_addr, v);
    }
    if (strcmp(line, "TO_PORT") == 0) {
        return set_str(o->to_port, REP_SAVED_STR, &s->to_port, v);
    }
    if (strcmp(line, "TYPE_P") == 0) {
        return parse_u32(v, &s->type_p);
    }
    if (strcmp(line, "PADDING") == 0) {
        return parse_u32(v, &s->padding);
    }
    if (strcmp(line, "PACKETS") == 0) {
        return parse_u32(v, &s->npackets);
    }
    if (strcmp(line, "SAMPLE_PACKETS") == 0) {
        return parse_u32(v, &o->mp.npackets);
    }
    if (strcmp(line, "REFL_SEQ") == 0) {
        rd->refl_flags = strcmp(v, "1") == 0   ? MET_TW_REFL_SEQ
                         : strcmp(v, "2") == 0 ? MET_TW_REFL_SEQ | MET_TW_REFL_COPY
                                               : 0;
        return true;
    }
    bool ok = parse_i64(v, &x);
    if (strcmp(line, SAVED_MAGIC) == 0) {
        rd->ours = true;
    } else if (strcmp(line, "RECORDS") == 0) {
        rd->records = x;
        ok = ok && x >= 0;
    } else if (strcmp(line, "FINISHED") == 0) {
        s->finished = ok && x != 0;
    } else if (strcmp(line, "START_NS") == 0) {
        s->start.ns = x;
    } else if (strcmp(line, "END_NS") == 0) {
        s->end.ns = x;
    } else if (strcmp(line, "LOSS_TIMEOUT_NS") == 0) {
        s->loss_timeout_ns = o->mp.loss_timeout_ns = x;
    }
    return ok;
}

/* One "SEQ TIME S ERR TIME S ERR TTL" group of a -R line. */
struct raw_half {
    unsigned long seq;
    uint64_t a, b;
    unsigned sa, sb, ttl;
    double ea, eb;
};

static bool parse_half(const char **p, struct raw_half *h)
{
    int used = 0;
    if (sscanf(*p, " %lu %" SCNu64 " %u %lf %" SCNu64 " %u %lf %u%n", &h->seq, &h->a, &h->sa,
               &h->ea, &h->b, &h->sb, &h->eb, &h->ttl, &used) != 8 ||
        h->seq > UINT32_MAX || h->sa > 1 || h->sb > 1 || h->ttl > 255) {
        return false;
    }
    *p += used;
    return true;
}

static struct clk_time time_of(uint64_t ntp)
{
    return ntp ? clk_from_ntp((struct clk_ntp){ntp}) : (struct clk_time){0};
}

/* Store one record read; false when the store refused it. */
static bool keep(struct rep_saved *o, const void *rec)
{
    if (!o->recs &&
        !(o->recs = rst_create(o->two_way ? sizeof(struct met_twrec) : sizeof(struct met_owrec), 0,
                               NULL))) {
        return false;
    }
    if (rst_append(o->recs, rec) < 0) {
        return false;
    }
    o->n++;
    return true;
}

/* Parse one record line into *ow or *tw (as o->two_way says). */
static bool record_line(const struct rep_saved *o, const char *line, uint8_t refl_flags,
                        struct met_owrec *ow, struct met_twrec *tw)
{
    struct raw_half h, r;
    const char *p = line;
    if (!parse_half(&p, &h)) {
        return false;
    }
    if (!o->two_way) {
        *ow = (struct met_owrec){.seq = (uint32_t)h.seq,
                                 .send = time_of(h.a),
                                 .recv = time_of(h.b),
                                 .send_wire = h.a,
                                 .recv_wire = h.b,
                                 .send_err = rep_errest_from_seconds(h.ea, h.sa),
                                 .recv_err = rep_errest_from_seconds(h.eb, h.sb),
                                 .ttl = (uint8_t)h.ttl,
                                 .recv_src = CLK_SRC_NONE,
                                 .lost = h.b == 0};
        return *p == '\0';
    }
    if (!parse_half(&p, &r) || *p != '\0') {
        return false;
    }
    bool lost = r.b == 0;
    *tw = (struct met_twrec){.seq = (uint32_t)h.seq,
                             .refl_seq = (uint32_t)r.seq,
                             .t1 = time_of(h.a),
                             .t2 = time_of(h.b),
                             .t3 = time_of(r.a),
                             .t4 = time_of(r.b),
                             .t1_err = rep_errest_from_seconds(h.ea, h.sa),
                             .t2_err = rep_errest_from_seconds(h.eb, h.sb),
                             .t3_err = rep_errest_from_seconds(r.ea, r.sa),
                             .t4_err = rep_errest_from_seconds(r.eb, r.sb),
                             .sender_ttl = (uint8_t)h.ttl,
                             .refl_ttl = (uint8_t)r.ttl,
                             .t1_src = CLK_SRC_NONE,
                             .t4_src = CLK_SRC_NONE,
                             .sender_tos = -1,
                             .flags = lost ? MET_TW_LOST : refl_flags};
    return true;
}

/* Strip the line break: 1 done, 0 the last line has none (cut short?), -1 the line did not
 * fit. */
static int chomp(char *line)
{
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') {
        return n < SAVED_LINE_MAX - 1 ? 0 : -1;
    }
    line[--n] = '\0';
    if (n && line[n - 1] == '\r') {
        line[n - 1] = '\0';
    }
    return 1;
}

/* One line: header, blank or record. 0, LP_E_SYNTAX or LP_E_NOMEM. */
static int read_line(struct rep_saved *o, char *line, struct saved_rd *rd)
{
    if (line[0] == '#') {
        /* headers come first */
        return o->n == 0 && header_line(o, line + 1, rd) ? 0 : LP_E_SYNTAX;
    }
    if (strspn(line, " \t") == strlen(line)) {
        return 0;
    }
    if (rd->records >= 0 && o->n >= (uint64_t)rd->records) {
        return LP_E_SYNTAX; /* more records than announced */
    }
    struct met_owrec ow;
    struct met_twrec tw;
    if (!record_line(o, line, rd->refl_flags, &ow, &tw)) {
        return LP_E_SYNTAX;
    }
    return keep(o, o->two_way ? (const void *)&tw : (const void *)&ow) ? 0 : LP_E_NOMEM;
}

/* ---- .owp session files ---- */

/* Numeric text of a request's address field and port. */
static void describe_end(uint8_t ipvn, const uint8_t *addr, uint16_t port, char *host,
                         char *portbuf)
{
    if (!inet_ntop(ipvn == 6 ? AF_INET6 : AF_INET, addr, host, REP_SAVED_STR)) {
        snprintf(host, REP_SAVED_STR, "***");
    }
    snprintf(portbuf, REP_SAVED_STR, "%u", (unsigned)port);
}

/* The scheduled send times of the first and last packet, in NTP format as the reference
 * prints them (START_TIME, END_TIME). */
static void scheduled_span(const struct owpf_header *h, struct rep_session *s)
{
    uint64_t first, last;
    if (h->req.npackets > 0 &&
        sched_span(h->slots, h->req.nslots, h->req.sid, h->req.npackets, &first, &last) == 0) {
        s->start_ntp = h->req.start_time.raw + first;
        s->end_ntp = h->req.start_time.raw + last;
        s->start = clk_from_ntp((struct clk_ntp){s->start_ntp});
        s->end = clk_from_ntp((struct clk_ntp){s->end_ntp});
    }
}

/* What the stored request of an .owp file says about the session. */
static void describe_owp(struct rep_saved *o, const struct owpf_reader *rd)
{
    const struct wire_request *q = &rd->h.req;
    struct rep_session *s = &o->rs;
    describe_end(q->ipvn, q->sender_addr, q->sender_port, o->from_addr, o->from_port);
    describe_end(q->ipvn, q->receiver_addr, q->receiver_port, o->to_addr, o->to_port);
    s->from_host = s->from_addr = o->from_addr;
    s->from_port = o->from_port;
    s->to_host = s->to_addr = o->to_addr;
    s->to_port = o->to_port;
    memcpy(s->sid, q->sid, sizeof(s->sid));
    s->type_p = q->typep;
    s->padding = q->padding_len;
    s->npackets = q->npackets;
    s->finished = rd->h.finished == OWPF_NORMAL;
    /* the server's part in the request: it received (a test toward it) or sent */
    s->direction = q->conf_receiver ? "to" : q->conf_sender ? "from" : NULL;
    if (s->direction) {
        snprintf(o->direction, sizeof(o->direction), "%s", s->direction);
        s->direction = o->direction;
    }
    s->loss_timeout_ntp = q->timeout;
    s->loss_timeout_ns = o->mp.loss_timeout_ns = clk_ntp_duration_to_ns(q->timeout);
    scheduled_span(&rd->h, s);
}

/* An .owp file: its session and records. Statistics count what the records show (a file
 * fetched from a running session, or with skip ranges, names no more packets than that). */
static int read_owp(FILE *f, struct rep_saved *o)
{
    struct owpf_reader rd;
    struct wire_record w;
    int rc = owpf_reader_open(f, &rd);
    if (rc == 0 && rd.has_request) {
        describe_owp(o, &rd);
    }
    while (rc == 0 && (rc = owpf_reader_next(&rd, &w)) == 1) {
        struct met_owrec m = owpf_owrec_of(&w);
        rc = keep(o, &m) ? 0 : LP_E_NOMEM;
    }
    owpf_reader_free(&rd);
    if (rc == LP_E_SHORT) {
        o->line = 1; /* cut short, not empty */
    }
    return rc < 0 ? rc : 0;
}

/* Whether f starts with the .owp magic (f is rewound). */
static bool starts_owp(FILE *f)
{
    uint8_t b[4];
    size_t n = fread(b, 1, sizeof(b), f);
    rewind(f);
    return owpf_is_owp(b, n);
}

int rep_saved_read(FILE *f, bool two_way, struct rep_saved *o)
{
    char line[SAVED_LINE_MAX];
    struct saved_rd rd = {.records = -1};
    bool cut = false;
    memset(o, 0, sizeof(*o));
    if (starts_owp(f)) {
        return read_owp(f, o);
    }
    o->two_way = two_way;
    while (fgets(line, sizeof(line), f)) {
        o->line++;
        int c = chomp(line);
        if (c < 0) {
            return LP_E_SYNTAX;
        }
        cut = c == 0;
        int rc = read_line(o, line, &rd);
        if (rc < 0) {
            return rc;
        }
    }
    if (ferror(f)) {
        return LP_E_IO;
    }
    if (o->n == 0 && rd.records < 0) {
        o->line = 0; /* nothing at all: an empty file, or one cut before its first record */
        return LP_E_SHORT;
    }
    /* short of the records announced, or our file without its last line break */
    if ((rd.records >= 0 && o->n < (uint64_t)rd.records) || (cut && rd.ours)) {
        return LP_E_SHORT;
    }
    o->line = 0;
    return 0;
}

void rep_saved_free(struct rep_saved *s)
{
    rst_destroy(s->recs);
    s->recs = NULL;
    s->n = 0;
}
