/* out_read.c - owstats FILE... and --read FILE: report a saved session as if it had just
 * run: the same summary, -M, -R, --json, per-packet files, --prom and thresholds, with no
 * test. The files are .owp session files (owping -T/-F, powstream, the reference's tools),
 * twping -F records files, or bare -R lines. */
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

static int report(struct out_ctx *x, struct rep_saved *sv, const char *path)
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
    json_object_object_add(doc, "source_file", json_object_new_string(path));
    if (o->json && out_print_doc(doc) < 0) {
        rc = OPTS_EXIT_FAILED;
    }
    if (x->prom) {
        out_prom_add(x->prom, doc);
    }
    json_object_put(doc);
    return rc;
}

/* Why a file could not be read, on stderr. */
static void explain(const struct opts *o, const char *path, int rc, const struct rep_saved *sv)
{
    if (rc == LP_E_SYNTAX) {
        fprintf(stderr, "%s: %s:%u: not a records line\n", o->prog, path, sv->line);
    } else if (rc == LP_E_SHORT && sv->line == 0) {
        fprintf(stderr, "%s: %s: no records (empty file)\n", o->prog, path);
    } else if (rc == LP_E_SHORT) {
        fprintf(stderr, "%s: %s: truncated: %" PRIu64 " records, the header announces more\n",
                o->prog, path, sv->n);
    } else if (rc == LP_E_MODE) {
        fprintf(stderr, "%s: %s: a session file version this program does not read\n", o->prog,
                path);
    } else if (rc == LP_E_MBZ || rc == LP_E_CMD || rc == LP_E_LEN || rc == LP_E_VALUE) {
        fprintf(stderr, "%s: %s: not a valid .owp session file (%s)\n", o->prog, path,
                lp_strerror(rc));
    } else {
        fprintf(stderr, "%s: cannot read %s: %s\n", o->prog, path,
                rc == LP_E_IO ? strerror(errno) : lp_strerror(rc));
    }
}

/* One file. */
static int read_one(struct out_ctx *x, const char *path)
{
    const struct opts *o = x->o;
    struct rep_saved sv;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", o->prog, path, strerror(errno));
        return OPTS_EXIT_FAILED;
    }
    int rc = rep_saved_read(f, o->proto == OPTS_TWAMP, &sv);
    fclose(f);
    if (rc < 0) {
        explain(o, path, rc, &sv);
        rep_saved_free(&sv);
        return OPTS_EXIT_FAILED;
    }
    rc = report(x, &sv, path);
    rep_saved_free(&sv);
    return rc;
}

int out_read(struct out_ctx *x)
{
    const struct opts *o = x->o;
    if (o->kind != OPTS_OWSTATS) {
        return read_one(x, o->read_file);
    }
    int worst = OPTS_EXIT_OK;
    for (unsigned i = 0; i < o->ntargets; i++) {
        worst = out_worst(worst, read_one(x, o->targets[i]));
    }
    return worst;
}
