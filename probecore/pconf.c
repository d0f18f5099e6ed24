/* pconf.c - ippm_exporter's YAML configuration (libyaml's document API): the top level,
 * modules and targets, each key one line of a table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <yaml.h>

#include "crypto.h"
#include "optval.h"
#include "sock.h"

#include "pconf.h"

/* Where the walk is: the document, the file's name and the error buffer. */
struct pctx {
    yaml_document_t *doc;
    const char *name;
    char *err;
    size_t errlen;
};

/* Record "name:line: message" (the first error wins) and return -1. */
static int fail(struct pctx *x, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct pctx *x, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (x->err[0] == '\0') {
        snprintf(x->err, x->errlen, "%s:%lu: %s", x->name,
                 n ? (unsigned long)n->start_mark.line + 1 : 0UL, msg);
    }
    return -1;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct pctx *x, int i)
{
    return yaml_document_get_node(x->doc, i);
}

/* ---- values ---- */

int pc_parse_duration(const char *s, int64_t *ns)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"", 1}};
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double sec = v * units[i].scale;
            if (!(sec <= 1e6)) {
                return -1;
            }
            *ns = (int64_t)(sec * 1e9 + 0.5);
            return 0;
        }
    }
    return -1;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || s[0] == '-' || v < lo || v > hi) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= cap) {
        return -1;
    }
    memcpy(dst, v, n + 1);
    return 0;
}

/* ---- module keys ---- */

static const char *const proto_names[] = {"owamp", "twamp", "twamp-light", "stamp"};

static int set_protocol(struct pc_module *m, const char *v)
{
    for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
        if (strcmp(v, proto_names[i]) == 0) {
            m->proto = (enum pc_proto)i;
            return 0;
        }
    }
    return -1;
}

static int set_count(struct pc_module *m, const char *v)
{
    return parse_u32(v, 1, 1000000, &m->count);
}

static int set_interval(struct pc_module *m, const char *v)
{
    char buf[512];
    if (copy_str(buf, sizeof(buf), v) < 0) {
        return -1;
    }
    m->nslots = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        bool exp;
        int64_t ns;
        if (m->nslots == PC_MAX_SLOTS || optval_slot(tok, &exp, &ns) < 0) {
            return -1;
        }
        m->slots[m->nslots].type = exp ? WIRE_SLOT_EXP : WIRE_SLOT_FIXED;
        m->slots[m->nslots++].param = clk_ns_to_ntp_duration(ns);
    }
    return m->nslots > 0 ? 0 : -1;
}

static int set_loss_timeout(struct pc_module *m, const char *v)
{
    return pc_parse_duration(v, &m->loss_timeout_ns) < 0 || m->loss_timeout_ns == 0 ? -1 : 0;
}

static int set_mode(struct pc_module *m, const char *v)
{
    return optval_modes(v, true, &m->modes);
}

static int set_identity(struct pc_module *m, const char *v)
{
    return copy_str(m->identity, sizeof(m->identity), v);
}

static int set_keyfile(struct pc_module *m, const char *v)
{
    return copy_str(m->keyfile, sizeof(m->keyfile), v);
}

static int set_dscp(struct pc_module *m, const char *v)
{
    return (m->dscp = optval_dscp(v)) < 0 ? -1 : 0;
}

static int set_padding(struct pc_module *m, const char *v)
{
    return parse_u32(v, 0, 65000, &m->padding);
}

static int set_source(struct pc_module *m, const char *v)
{
    struct sock_addr a;
    return sock_addr_parse(v, 0, &a) < 0 ? -1 : copy_str(m->source, sizeof(m->source), v);
}

static int set_ip_version(struct pc_module *m, const char *v)
{
    m->family = strcmp(v, "4") == 0 ? AF_INET : strcmp(v, "6") == 0 ? AF_INET6 : -1;
    return m->family < 0 ? -1 : 0;
}

static int set_direction(struct pc_module *m, const char *v)
{
    m->to = strcmp(v, "both") == 0 || strcmp(v, "to") == 0;
    m->from = strcmp(v, "both") == 0 || strcmp(v, "from") == 0;
    return m->to || m->from ? 0 : -1;
}

static int set_test_ports(struct pc_module *m, const char *v)
{
    unsigned a, b;
    char tail;
    if (sscanf(v, "%u-%u%c", &a, &b, &tail) != 2 || a == 0 || a > b || b > 65535) {
        return -1;
    }
    m->port_lo = (uint16_t)a;
    m->port_hi = (uint16_t)b;
    return 0;
}

/* One line per key: its name, its setter and what a good value looks like. */
static const struct mkey {
    const char *name;
    int (*set)(struct pc_module *m, const char *v);
    const char *want;
} mkeys[] = {
    {"protocol", set_protocol, "owamp, twamp, twamp-light or stamp"},
    {"count", set_count, "packets per session, 1 to 1000000"},
    {"interval", set_interval, "a schedule such as 0.1e, 0.01f or 0.1e,0f"},
    {"schedule", set_interval, "a schedule such as 0.1e, 0.01f or 0.1e,0f"},
    {"loss_timeout", set_loss_timeout, "a duration such as 2s"},
    {"mode", set_mode, "security modes such as O, A, AEO"},
    {"auth", set_mode, "security modes such as O, A, AEO"},
    {"identity", set_identity, "an identity of at most 80 characters"},
    {"keyfile", set_keyfile, "the path of a pass-phrase file"},
    {"dscp", set_dscp, "a DSCP number (0-63) or name (EF, AF41...)"},
    {"padding", set_padding, "octets, 0 to 65000"},
    {"source", set_source, "a numeric IPv4 or IPv6 address"},
    {"ip_version", set_ip_version, "4 or 6"},
    {"direction", set_direction, "both, to or from"},
    {"test_ports", set_test_ports, "a port range LO-HI"},
};

static void module_defaults(struct pc_module *m, const char *name)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->count = 100;
    m->nslots = 1;
    m->slots[0] =
        (struct wire_slot){.type = WIRE_SLOT_EXP, .param = clk_ns_to_ntp_duration(100000000)};
    m->loss_timeout_ns = -1;
    m->modes = WIRE_MODE_OPEN;
    m->passlen = -1;
    m->dscp = -1;
    m->to = m->from = true;
}

/* The pass-phrase of the module's identity from its key file. */
static int load_pass(struct pctx *x, const yaml_node_t *n, struct pc_module *m)
{
    struct conf_keys keys;
    char err[256] = "";
    conf_keys_init(&keys);
    int rc = conf_keys_load_file(&keys, m->keyfile, err, sizeof(err));
    if (rc < 0) {
        return fail(x, n, "module %s: cannot read key file %s: %s", m->name, m->keyfile,
                    err[0] ? err : lp_strerror(rc));
    }
    m->passlen = conf_keys_lookup(&keys, m->identity, m->pass, sizeof(m->pass));
    conf_keys_free(&keys);
    return m->passlen < 0 ? fail(x, n, "module %s: identity '%s' is not in %s", m->name,
                                 m->identity, m->keyfile)
                          : 0;
}

/* What the keys say together. */
static int module_check(struct pctx *x, const yaml_node_t *n, struct pc_module *m, bool has_proto)
{
    const uint32_t secure = WIRE_MODE_AUTH | WIRE_MODE_ENC | WIRE_MODE_MIXED;
    if (!has_proto) {
        return fail(x, n, "module %s: protocol is required", m->name);
    }
    if (m->proto == PC_LIGHT && m->modes != WIRE_MODE_OPEN) {
        return fail(x, n, "module %s: twamp-light has open mode only", m->name);
    }
    if (m->proto == PC_STAMP && (m->modes & ~(uint32_t)(WIRE_MODE_OPEN | WIRE_MODE_AUTH))) {
        return fail(x, n, "module %s: stamp has open (O) or authenticated (A) mode only", m->name);
    }
    if (m->proto == PC_OWAMP && (m->modes & WIRE_MODE_MIXED)) {
        return fail(x, n, "module %s: owamp has no mixed mode (M)", m->name);
    }
    if (m->proto != PC_OWAMP && !(m->to && m->from)) {
        return fail(x, n, "module %s: direction is for owamp only", m->name);
    }
    if (!(m->modes & secure)) {
        return 0;
    }
    if (!m->identity[0] || !m->keyfile[0]) { /* as the clients: without -u, open mode only */
        return m->modes & WIRE_MODE_OPEN
                   ? 0
                   : fail(x, n, "module %s: modes other than O need identity and keyfile", m->name);
    }
    return load_pass(x, n, m);
}

static int parse_module(struct pctx *x, const char *name, yaml_node_t *n, struct pc_module *m)
{
    bool has_proto = false;
    module_defaults(m, name);
    if (n->type != YAML_MAPPING_NODE) {
        return fail(x, n, "module %s: expected a mapping of keys", name);
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(x, p->key), *v = node(x, p->value);
        const char *key = scalar(k), *val = scalar(v);
        size_t i = 0;
        while (key && i < sizeof(mkeys) / sizeof(mkeys[0]) && strcmp(key, mkeys[i].name) != 0) {
            i++;
        }
        if (!key || i == sizeof(mkeys) / sizeof(mkeys[0])) {
            return fail(x, k, "module %s: unknown key '%s'", name, key ? key : "?");
        }
        if (!val || mkeys[i].set(m, val) < 0) {
            return fail(x, v, "module %s: bad %s '%s': expected %s", name, key, val ? val : "?",
                        mkeys[i].want);
        }
        has_proto |= mkeys[i].set == set_protocol;
    }
    return module_check(x, n, m, has_proto);
}

/* ---- the file ---- */

static int parse_modules(struct pctx *x, yaml_node_t *n, struct pc_config *c)
{
    if (n->type != YAML_MAPPING_NODE) {
        return fail(x, n, "modules: expected a mapping of module names");
    }
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (!(c->modules = calloc(cnt + 1, sizeof(*c->modules)))) {
        return fail(x, n, "out of memory");
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(x, p->key);
        const char *name = scalar(k);
        if (!name || !name[0] || strlen(name) >= PC_NAME_MAX) {
            return fail(x, k, "modules: a module name is a string of 1 to %d characters",
                        PC_NAME_MAX - 1);
        }
        if (pc_module_find(c, name)) {
            return fail(x, k, "modules: module %s is defined twice", name);
        }
        if (parse_module(x, name, node(x, p->value), &c->modules[c->nmodules]) < 0) {
            return -1;
        }
        c->nmodules++;
    }
    return 0;
}

static int parse_target(struct pctx *x, yaml_node_t *n, struct pc_config *c, struct pc_target *t)
{
    const char *val, *key;
    t->every_ns = 60000000000LL;
    if (n->type != YAML_MAPPING_NODE) {
        return fail(x, n, "targets: each entry is a mapping (target, module, every)");
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(x, p->key), *v = node(x, p->value);
        key = scalar(k), val = scalar(v);
        int rc =
            !key ? -2
            : !val
                ? (strcmp(key, "target") && strcmp(key, "module") && strcmp(key, "every") ? -2 : -1)
            : strcmp(key, "target") == 0 ? copy_str(t->target, sizeof(t->target), val)
            : strcmp(key, "module") == 0 ? copy_str(t->module, sizeof(t->module), val)
            : strcmp(key, "every") == 0  ? pc_parse_duration(val, &t->every_ns)
                                         : -2;
        if (rc == -2) {
            return fail(x, k, "targets: unknown key '%s'", key ? key : "?");
        }
        if (rc < 0) {
            return fail(x, v, "targets: bad %s '%s'", key, val ? val : "?");
        }
    }
    if (!t->target[0] || !t->module[0]) {
        return fail(x, n, "targets: target and module are required");
    }
    const struct pc_module *m = pc_module_find(c, t->module);
    if (!m) {
        return fail(x, n, "targets: no module called %s", t->module);
    }
    t->mod = (size_t)(m - c->modules);
    for (const struct pc_target *o = c->targets; o < t; o++) {
        if (strcmp(o->target, t->target) == 0 && strcmp(o->module, t->module) == 0) {
            return fail(x, n, "targets: %s with module %s is listed twice", t->target, t->module);
        }
    }
    return 0;
}

static int parse_targets(struct pctx *x, yaml_node_t *n, struct pc_config *c)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        return fail(x, n, "targets: expected a list");
    }
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt > PC_TARGETS_MAX) {
        return fail(x, n, "targets: at most %d", PC_TARGETS_MAX);
    }
    if (!(c->targets = calloc(cnt + 1, sizeof(*c->targets)))) {
        return fail(x, n, "out of memory");
    }
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        if (parse_target(x, node(x, *i), c, &c->targets[c->ntargets]) < 0) {
            return -1;
        }
        c->ntargets++;
    }
    return 0;
}

static int parse_buckets(struct pctx *x, yaml_node_t *n, struct pc_config *c)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        return fail(x, n, "buckets: expected a list of durations");
    }
    c->nbuckets = 0;
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        yaml_node_t *v = node(x, *i);
        int64_t ns;
        if (c->nbuckets == PC_MAX_BUCKETS) {
            return fail(x, v, "buckets: at most %d", PC_MAX_BUCKETS);
        }
        if (!scalar(v) || pc_parse_duration(scalar(v), &ns) < 0 || ns <= 0 ||
            (c->nbuckets > 0 && ns <= c->buckets_ns[c->nbuckets - 1])) {
            return fail(x, v, "buckets: '%s' is not a duration above the one before",
                        scalar(v) ? scalar(v) : "?");
        }
        c->buckets_ns[c->nbuckets++] = ns;
    }
    return c->nbuckets > 0 ? 0 : fail(x, n, "buckets: the list is empty");
}

static int parse_max_probes(struct pctx *x, yaml_node_t *n, struct pc_config *c)
{
    uint32_t v;
    if (!scalar(n) || parse_u32(scalar(n), 1, 10000, &v) < 0) {
        return fail(x, n, "max_probes: expected a number from 1 to 10000");
    }
    c->max_probes = v;
    return 0;
}

static void config_defaults(struct pc_config *c)
{
    static const int64_t def_us[] = {10,     25,      50,      100,     250,     500,    1000,
                                     2500,   5000,    10000,   25000,   50000,   100000, 250000,
                                     500000, 1000000, 2500000, 5000000, 10000000};
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < sizeof(def_us) / sizeof(def_us[0]); i++) {
        c->buckets_ns[c->nbuckets++] = def_us[i] * 1000;
    }
    c->max_probes = PC_MAX_PROBES_DEFAULT;
}

static int parse_root(struct pctx *x, yaml_node_t *root, struct pc_config *c)
{
    static const struct {
        const char *name;
        int (*parse)(struct pctx *x, yaml_node_t *n, struct pc_config *c);
    } keys[] = {{"modules", parse_modules},
                {"targets", parse_targets},
                {"buckets", parse_buckets},
                {"max_probes", parse_max_probes}};
    bool seen[4] = {false};
    if (!root) {
        return 0; /* an empty file: no modules, no targets */
    }
    if (root->type != YAML_MAPPING_NODE) {
        return fail(x, root, "expected a mapping (modules, targets, buckets, max_probes)");
    }
    /* modules first: the targets refer to them */
    for (size_t k = 0; k < 4; k++) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            const char *key = scalar(node(x, p->key));
            size_t i = 0;
            while (key && i < 4 && strcmp(key, keys[i].name) != 0) {
                i++;
            }
            if (!key || i == 4) {
                return fail(x, node(x, p->key), "unknown key '%s'", key ? key : "?");
            }
            if (i != k) {
                continue;
            }
            if (seen[i]) {
                return fail(x, node(x, p->key), "%s is given twice", key);
            }
            seen[i] = true;
            if (keys[i].parse(x, node(x, p->value), c) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

int pc_load_string(const char *text, const char *name, struct pc_config *out, char *err,
                   size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct pctx x = {.doc = &doc, .name = name, .err = err, .errlen = errlen};
    config_defaults(out);
    err[0] = '\0';
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: %s", name, (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML error");
        yaml_parser_delete(&parser);
        return -1;
    }
    int rc = parse_root(&x, yaml_document_get_root_node(&doc), out);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int pc_load(const char *path, struct pc_config *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, got;
    memset(out, 0, sizeof(*out));
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        char *nb = len + got < (64u << 20) ? realloc(buf, len + got + 1) : NULL;
        if (!nb) {
            free(buf);
            fclose(f);
            snprintf(err, errlen, "%s: too large or out of memory", path);
            return -1;
        }
        buf = nb;
        memcpy(buf + len, chunk, got);
        len += got;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    if (!buf) {
        buf = calloc(1, 1);
    } else {
        buf[len] = '\0';
    }
    int rc = buf ? pc_load_string(buf, path, out, err, errlen) : -1;
    free(buf);
    return rc;
}

void pc_free(struct pc_config *c)
{
    for (size_t i = 0; c->modules && i < c->nmodules + 1; i++) {
        cry_wipe(c->modules[i].pass, sizeof(c->modules[i].pass));
    }
    free(c->modules);
    free(c->targets);
    memset(c, 0, sizeof(*c));
}

const struct pc_module *pc_module_find(const struct pc_config *c, const char *name)
{
    for (size_t i = 0; i < c->nmodules; i++) {
        if (strcmp(c->modules[i].name, name) == 0) {
            return &c->modules[i];
        }
    }
    return NULL;
}

bool pc_same_buckets(const struct pc_config *a, const struct pc_config *b)
{
    return a->nbuckets == b->nbuckets &&
           memcmp(a->buckets_ns, b->buckets_ns, a->nbuckets * sizeof(a->buckets_ns[0])) == 0;
}
