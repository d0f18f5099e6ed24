/* exporter.c - ippm_exporter's core: the targets' schedule, /metrics, /probe, reloads. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "common.h"
#include "crypto.h"

#include "exporter.h"
#include "pexpo.h"
#include "phttp.h"
#include "plog.h"
#include "presolve.h"
#include "probe.h"

#define EXP_START_SPREAD_MAX_NS 60000000000LL /* first sessions spread over at most this */
/* Timers (packets to send, waits) due within the same millisecond share one wake-up: sends
 * leave up to 1 ms late, which biases no delay (TWAMP takes T1 from the kernel's TX
 * timestamp, OWAMP packets carry the time they left) and saves a wake-up per packet. */
#define EXP_TIMER_SLACK_NS 1000000

struct exporter;

/* A target measured continuously. */
struct exp_target {
    struct exporter *x;
    struct pc_target cfg;
    struct pst_target st;
    struct probe *running;
    unsigned bucket_gen; /* of the buckets the running session started with */
    loop_timer_id timer;
    bool failing; /* the last session failed (logged once until one succeeds) */
};

/* A /probe request waiting for its measurement. */
struct exp_pending {
    struct exporter *x;
    struct ph_req *req;
    struct probe *p;
    enum pex_fmt fmt;
    struct exp_pending *next;
};

struct exporter {
    const struct exp_opts *o;
    struct loop *loop;
    struct pres *res;
    struct sess_scratch *scratch;
    struct ph *http;
    struct pc_config cfg;
    unsigned bucket_gen;
    struct exp_target **t;
    size_t nt;
    struct exp_pending *pending;
    unsigned probes_active;
    uint64_t probes_rejected, reloads_failed;
    bool reload_ok;
    int64_t reload_ns;
};

static struct probe_env env_of(const struct exporter *x)
{
    return (struct probe_env){.loop = x->loop,
                              .res = x->res,
                              .scratch = x->scratch,
                              .buckets_ns = x->cfg.buckets_ns,
                              .nbuckets = x->cfg.nbuckets};
}

/* ---- targets ---- */

static void target_fire(struct loop *loop, loop_timer_id id, void *arg);

static void target_arm(struct exp_target *e, int64_t delay_ns)
{
    e->timer = loop_timer_after(e->x->loop, delay_ns, target_fire, e);
}

static void target_done(struct probe *p, void *arg)
{
    struct exp_target *e = arg;
    struct pst_target fig = *probe_figures(p);
    if (e->bucket_gen != e->x->bucket_gen) {
        pst_reset_histograms(&fig); /* counted in buckets that are gone */
    }
    pst_add(&e->st, &fig);
    if (!probe_ok(p) && !e->failing) {
        plog(PLOG_WARN, "%s (module %s): %s", e->cfg.target, e->cfg.module, probe_error(p));
    } else if (probe_ok(p) && e->failing) {
        plog(PLOG_INFO, "%s (module %s): measuring again", e->cfg.target, e->cfg.module);
    }
    e->failing = !probe_ok(p);
    int64_t took = probe_duration_ns(p);
    probe_destroy(p);
    e->running = NULL;
    target_arm(e, e->cfg.every_ns > took ? e->cfg.every_ns - took : 0);
}

static void target_fire(struct loop *loop, loop_timer_id id, void *arg)
{
    struct exp_target *e = arg;
    struct probe_env env = env_of(e->x);
    (void)loop;
    (void)id;
    e->timer = 0;
    e->bucket_gen = e->x->bucket_gen;
    e->running =
        probe_start(&env, &e->x->cfg.modules[e->cfg.mod], e->cfg.target, 0, target_done, e);
    if (!e->running) {
        plog(PLOG_ERROR, "%s: out of memory", e->cfg.target);
        target_arm(e, e->cfg.every_ns > 1000000000 ? e->cfg.every_ns : 1000000000);
    }
}

/* A random start within the target's period (at most a minute): a thousand targets do not
 * all begin at once. */
static int64_t spread_ns(const struct pc_target *t)
{
    uint64_t r;
    int64_t span = t->every_ns > 1000000000 ? t->every_ns : 1000000000;
    span = span < EXP_START_SPREAD_MAX_NS ? span : EXP_START_SPREAD_MAX_NS;
    cry_random(&r, sizeof(r));
    return (int64_t)(r % (uint64_t)span);
}

static struct exp_target *target_new(struct exporter *x, const struct pc_target *t)
{
    struct exp_target *e = calloc(1, sizeof(*e));
    if (e) {
        e->x = x;
        e->cfg = *t;
        target_arm(e, spread_ns(t));
    }
    return e;
}

static void target_free(struct exp_target *e)
{
    if (e->timer) {
        loop_timer_cancel(e->x->loop, e->timer);
    }
    probe_destroy(e->running);
    free(e);
}

/* The targets of the configuration now in x->cfg, keeping those of old (n) that stay. */
static int targets_adopt(struct exporter *x, struct exp_target **old, size_t n, bool same_buckets)
{
    struct exp_target **t = calloc(x->cfg.ntargets + 1, sizeof(*t));
    if (!t) {
        return -1;
    }
    for (size_t i = 0; i < x->cfg.ntargets; i++) {
        const struct pc_target *c = &x->cfg.targets[i];
        for (size_t j = 0; j < n && !t[i]; j++) {
            if (old[j] && strcmp(old[j]->cfg.target, c->target) == 0 &&
                strcmp(old[j]->cfg.module, c->module) == 0) {
                t[i] = old[j];
                old[j] = NULL;
                t[i]->cfg = *c;
            }
        }
        if (t[i] && !same_buckets) {
            pst_reset_histograms(&t[i]->st);
        }
        if (!t[i] && !(t[i] = target_new(x, c))) {
            plog(PLOG_ERROR, "out of memory for target %s", c->target);
        }
    }
    for (size_t j = 0; j < n; j++) {
        if (old[j]) {
            target_free(old[j]);
        }
    }
    free(old);
    x->t = t;
    x->nt = x->cfg.ntargets;
    return 0;
}

/* ---- configuration ---- */

static int reload(struct exporter *x)
{
    struct pc_config c;
    char err[1024];
    x->reload_ok = false;
    if (pc_load(x->o->config_file, &c, err, sizeof(err)) < 0) {
        plog(PLOG_ERROR, "configuration not loaded: %s", err);
        pc_free(&c);
        x->reloads_failed++;
        return -1;
    }
    bool same = pc_same_buckets(&c, &x->cfg);
    struct exp_target **old = x->t;
    size_t n = x->nt;
    pc_free(&x->cfg);
    x->cfg = c;
    x->bucket_gen += !same;
    x->t = NULL;
    x->nt = 0;
    if (targets_adopt(x, old, n, same) < 0) {
        plog(PLOG_ERROR, "out of memory loading the configuration");
        return -1;
    }
    x->reload_ok = true;
    x->reload_ns = clk_now().ns;
    plog(PLOG_INFO, "configuration %s: %zu modules, %zu targets", x->o->config_file,
         x->cfg.nmodules, x->cfg.ntargets);
    return 0;
}

int exp_check(const char *config_file)
{
    struct pc_config c;
    char err[1024];
    int rc = pc_load(config_file, &c, err, sizeof(err));
    if (rc < 0) {
        printf("%s\n", err);
    } else {
        printf("%s: valid: %zu modules, %zu targets, %zu buckets, max_probes %u\n", config_file,
               c.nmodules, c.ntargets, c.nbuckets, c.max_probes);
    }
    pc_free(&c);
    return rc < 0 ? 1 : 0;
}

/* ---- /metrics ---- */

static void gauge(struct pex_buf *b, enum pex_fmt f, const char *name, const char *help,
                  const char *labels, int64_t ns_or_value, bool seconds)
{
    pex_family(b, f, name, "gauge", help);
    pex_puts(b, name);
    pex_puts(b, labels ? labels : "");
    pex_put(b, " ", 1);
    if (seconds) {
        pex_seconds(b, ns_or_value);
    } else {
        pex_u64(b, (uint64_t)ns_or_value);
    }
    pex_put(b, "\n", 1);
}

static void self_metrics(struct pex_buf *b, enum pex_fmt f, const struct exporter *x)
{
    struct clk_state cs = {0};
    bool have_clock = clk_state_read(&cs) == 0;
    pex_family(b, f, "ippm_exporter_build", "info", "The exporter's version.");
    pex_puts(b, "ippm_exporter_build_info{version=");
    pex_label_value(b, lp_version());
    pex_puts(b, "} 1\n");
    gauge(b, f, "ippm_exporter_targets", "Targets measured continuously.", NULL, (int64_t)x->nt,
          false);
    gauge(b, f, "ippm_exporter_probes_in_flight", "/probe measurements running now.", NULL,
          x->probes_active, false);
    pex_family(b, f, "ippm_exporter_probes_rejected", "counter",
               "/probe requests answered 503: max_probes were running.");
    pex_puts(b, "ippm_exporter_probes_rejected_total ");
    pex_u64(b, x->probes_rejected);
    pex_puts(b, "\n");
    gauge(b, f, "ippm_exporter_config_last_reload_successful",
          "1 when the last (re)load of the configuration succeeded.", NULL, x->reload_ok, false);
    gauge(b, f, "ippm_exporter_config_last_reload_success_timestamp_seconds",
          "When the configuration was last loaded, in seconds since the Unix epoch.", NULL,
          x->reload_ns, true);
    if (have_clock) {
        gauge(b, f, "ippm_clock_synchronized",
              "1 when the kernel says the local clock is synchronised.", NULL, cs.synced, false);
        gauge(b, f, "ippm_clock_estimated_error_seconds",
              "The local clock's estimated error, as the kernel says.", NULL,
              (int64_t)cs.esterror_ns, true);
        gauge(b, f, "ippm_clock_max_error_seconds",
              "The local clock's maximum error, as the kernel says.", NULL, (int64_t)cs.maxerror_ns,
              true);
    }
}

static void serve_metrics(struct exporter *x, struct ph_req *r)
{
    enum pex_fmt f = pex_negotiate(ph_header(r, "Accept"));
    struct pex_buf b = {0};
    struct pex_entry *e = calloc(x->nt + 1, sizeof(*e));
    struct pex_opts o = {.fmt = f, .buckets_ns = x->cfg.buckets_ns, .nbuckets = x->cfg.nbuckets};
    size_t n = 0;
    for (size_t i = 0; e && i < x->nt; i++) {
        if (x->t[i]) {
            e[n++] = (struct pex_entry){x->t[i]->cfg.target, x->t[i]->cfg.module, &x->t[i]->st};
        }
    }
    self_metrics(&b, f, x);
    if (e) {
        pex_targets(&b, &o, e, n);
    }
    pex_end(&b, f);
    free(e);
    if (!e || b.oom) {
        pex_free(&b);
        ph_reply(r, 500, "text/plain; charset=utf-8", strdup("out of memory\n"), 14);
        return;
    }
    ph_reply(r, 200, pex_content_type(f), b.p, b.len);
}

/* ---- /probe ---- */

static void probe_done(struct probe *p, void *arg)
{
    struct exp_pending *q = arg, **pp = &q->x->pending;
    struct exporter *x = q->x;
    struct pex_buf b = {0};
    struct pex_entry e = {.st = probe_figures(p)};
    struct pex_opts o = {
        .fmt = q->fmt, .probe = true, .buckets_ns = x->cfg.buckets_ns, .nbuckets = x->cfg.nbuckets};
    if (!probe_ok(p)) {
        plog(PLOG_INFO, "probe of %s failed: %s", ph_arg(q->req, "target"), probe_error(p));
    }
    pex_family(&b, q->fmt, "probe_success", "gauge", "1 when the measurement succeeded.");
    pex_puts(&b, probe_ok(p) ? "probe_success 1\n" : "probe_success 0\n");
    pex_family(&b, q->fmt, "probe_duration_seconds", "gauge", "How long the measurement took.");
    pex_puts(&b, "probe_duration_seconds ");
    pex_seconds(&b, probe_duration_ns(p));
    pex_puts(&b, "\n");
    pex_targets(&b, &o, &e, 1);
    pex_end(&b, q->fmt);
    if (b.oom) {
        pex_free(&b);
        ph_reply(q->req, 500, "text/plain; charset=utf-8", strdup("out of memory\n"), 14);
    } else {
        ph_reply(q->req, 200, pex_content_type(q->fmt), b.p, b.len);
    }
    while (*pp != q) {
        pp = &(*pp)->next;
    }
    *pp = q->next;
    probe_destroy(p);
    x->probes_active--;
    free(q);
}

static void reply_text(struct ph_req *r, unsigned status, const char *msg)
{
    ph_reply(r, status, "text/plain; charset=utf-8", strdup(msg), strlen(msg));
}

/* How long a probe may take: the scraper's timeout less a margin for the answer. */
static int64_t probe_budget_ns(struct ph_req *r)
{
    const char *h = ph_header(r, "X-Prometheus-Scrape-Timeout-Seconds");
    char *end;
    double s = h ? strtod(h, &end) : 0;
    if (!h || end == h || !(s > 0) || s > 3600) {
        s = EXP_PROBE_TIMEOUT_DEFAULT_S;
    }
    double margin = s / 4 < 0.5 ? s / 4 : 0.5;
    return (int64_t)((s - margin) * 1e9);
}

static void serve_probe(struct exporter *x, struct ph_req *r)
{
    const char *target = ph_arg(r, "target"), *module = ph_arg(r, "module");
    const struct pc_module *m = module ? pc_module_find(&x->cfg, module) : NULL;
    struct probe_env env = env_of(x);
    if (!target || !target[0]) {
        reply_text(r, 400, "target parameter is missing\n");
        return;
    }
    if (!m) {
        reply_text(r, 400, module ? "unknown module\n" : "module parameter is missing\n");
        return;
    }
    if (x->probes_active >= x->cfg.max_probes) {
        x->probes_rejected++;
        reply_text(r, 503, "too many probes running (max_probes)\n");
        return;
    }
    struct exp_pending *q = calloc(1, sizeof(*q));
    if (q) {
        *q = (struct exp_pending){
            .x = x, .req = r, .fmt = pex_negotiate(ph_header(r, "Accept")), .next = x->pending};
        q->p = probe_start(&env, m, target, loop_mono_ns() + probe_budget_ns(r), probe_done, q);
    }
    if (!q || !q->p) {
        free(q);
        reply_text(r, 500, "out of memory\n");
        return;
    }
    x->pending = q;
    x->probes_active++;
    ph_defer(r);
}

static void handler(void *arg, struct ph_req *r)
{
    struct exporter *x = arg;
    const char *path = ph_path(r);
    if (strcmp(path, "/metrics") == 0) {
        serve_metrics(x, r);
    } else if (strcmp(path, "/probe") == 0) {
        serve_probe(x, r);
    } else if (strcmp(path, "/") == 0) {
        static const char page[] =
            "<html><head><title>ippm_exporter</title></head><body><h1>ippm_exporter</h1>"
            "<p>OWAMP, TWAMP, TWAMP Light and STAMP measurements for Prometheus.</p>"
            "<p><a href=\"/metrics\">Metrics</a></p>"
            "<p>Probe: /probe?target=HOST[:PORT]&amp;module=NAME</p></body></html>\n";
        ph_reply(r, 200, "text/html; charset=utf-8", strdup(page), sizeof(page) - 1);
    } else {
        reply_text(r, 404, "not found\n");
    }
}

/* ---- the process ---- */

static void on_signal(struct loop *loop, int signo, void *arg)
{
    if (signo == SIGHUP) {
        reload(arg);
    } else {
        plog(PLOG_INFO, "stopping (signal %d)", signo);
        loop_stop(loop);
    }
}

/* A socket per running session and control connection: room for many. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void shutdown_all(struct exporter *x)
{
    while (x->pending) { /* answer what waits, then stop serving */
        struct exp_pending *q = x->pending;
        x->pending = q->next;
        reply_text(q->req, 503, "exporter stopping\n");
        probe_destroy(q->p);
        free(q);
    }
    if (x->http) {
        loop_run_once(x->loop, 0);
    }
    for (size_t i = 0; i < x->nt; i++) {
        if (x->t[i]) {
            target_free(x->t[i]);
        }
    }
    free(x->t);
    ph_destroy(x->http);
    pc_free(&x->cfg);
    pres_destroy(x->res);
    sess_scratch_destroy(x->scratch);
    loop_destroy(x->loop);
}

/* The loop, the sessions' buffers, the configuration and the HTTP server. 0 or -1 (logged). */
static int start(struct exporter *x)
{
    char err[512];
    if (cry_init() < 0 || !(x->loop = loop_create()) || !(x->scratch = sess_scratch_create()) ||
        !(x->res = pres_create(x->loop))) {
        plog(PLOG_ERROR, "cannot initialise: %s", strerror(errno));
        return -1;
    }
    loop_set_timer_slack(x->loop, EXP_TIMER_SLACK_NS);
    if (reload(x) < 0) {
        return -1;
    }
    if (!(x->http = ph_create(x->loop, x->o->listen, handler, x, err, sizeof(err)))) {
        plog(PLOG_ERROR, "%s", err);
        return -1;
    }
    loop_add_signal(x->loop, SIGHUP, on_signal, x);
    loop_add_signal(x->loop, SIGINT, on_signal, x);
    loop_add_signal(x->loop, SIGTERM, on_signal, x);
    plog(PLOG_INFO, "listening on %s", x->o->listen);
    return 0;
}

int exp_run(const struct exp_opts *o)
{
    struct exporter x = {.o = o};
    int rc = 1;
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    /* A fixed threshold: a long session's large, mostly untouched tables (TX-timestamp
     * rings of up to 32 and 768 KB) stay mmapped and zero-filled by the kernel page by page.
     * glibc's default raises the threshold after such a block is freed and then serves the
     * next from the heap, clearing all of it: about 800 KB resident per running session. */
    mallopt(M_MMAP_THRESHOLD, 16 * 1024);
    if (start(&x) == 0) {
        rc = loop_run(x.loop) < 0 ? 1 : 0;
    }
    if (x.loop) {
        shutdown_all(&x);
    }
    return rc;
}
