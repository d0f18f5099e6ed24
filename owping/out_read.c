/* out_read.c - --read FILE: report a records file saved by owping -T/-F or twping -F (or
 * bare -R lines) as if the session had just run: the same summary, -M, --json, per-packet
 * files, --prom and thresholds, with no test (like the reference's owstats). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "out.h"

/* The remote end of the saved session: the host the test ran against. */
static const char *remote_of(const struct rep_saved *sv)
{
    const struct rep_session *s = &sv->rs;
    if (s->direction && strcmp(s->direction, "from") == 0) {
        return s->from_host ? s->from_host : s->from_addr;
    }
    return s->to_host ? s->to_host : s->to_addr;
}

static int report(struct out_ctx *x, struct rep_saved *sv)
{
    const struct opts *o = x->o;
    struct out_sess s;
    struct out_capture cap = {.saved_fd = -1};
    struct json_object *msgs = json_object_new_array();
    memset(&s, 0, sizeof(s));
    s.prog = o->prog;
    s.two_way = sv->two_way;
    s.rs = sv->rs;
    s.recs = sv->recs;
    s.mp = sv->mp;
    if (o->json) {
        out_capture_begin(&cap, 2);
    }
    out_run_begin(x);
    int64_t t0 = clk_now().ns;
    int rc = out_report(o, &s) < 0 ? OPTS_EXIT_FAILED : OPTS_EXIT_OK;
    if (rc == OPTS_EXIT_OK && json_object_array_length(x->crossed) > 0) {
        rc = OPTS_EXIT_THRESHOLD;
    }
    out_capture_end(&cap, 2, msgs);
    struct json_object *doc = out_run_doc(x, remote_of(sv), rc, false, t0, msgs);
    json_object_object_add(doc, "source_file", json_object_new_string(o->read_file));
    if (o->json && out_print_doc(doc) < 0) {
        rc = OPTS_EXIT_FAILED;
    }
    if (x->prom) {
        out_prom_add(x->prom, doc);
    }
    json_object_put(doc);
    return rc;
}

int out_read(struct out_ctx *x)
{
    const struct opts *o = x->o;
    struct rep_saved sv;
    FILE *f = fopen(o->read_file, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", o->prog, o->read_file, strerror(errno));
        return OPTS_EXIT_FAILED;
    }
    int rc = rep_saved_read(f, o->proto == OPTS_TWAMP, &sv);
    fclose(f);
    if (rc < 0) {
        if (rc == LP_E_SYNTAX) {
            fprintf(stderr, "%s: %s:%u: not a records line\n", o->prog, o->read_file, sv.line);
        } else if (rc == LP_E_SHORT && sv.line == 0) {
            fprintf(stderr, "%s: %s: no records (empty file)\n", o->prog, o->read_file);
        } else if (rc == LP_E_SHORT) {
            fprintf(stderr, "%s: %s: truncated: %" PRIu64 " records, the header announces more\n", o->prog,
                    o->read_file, sv.n);
        } else {
            fprintf(stderr, "%s: cannot read %s: %s\n", o->prog, o->read_file, lp_strerror(rc));
        }
        rep_saved_free(&sv);
        return OPTS_EXIT_FAILED;
    }
    rc = report(x, &sv);
    rep_saved_free(&sv);
    return rc;
}
