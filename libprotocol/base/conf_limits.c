/* conf_limits.c - limits file: "limit NAME with k=v,..." classes and "assign" lines. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "conf.h"
#include "conf_priv.h"

/* The limit keys besides "parent" and where each lives in struct conf_class. */
struct lim_desc {
    const char *name;
    unsigned bit;
    bool is_bool;
    size_t off;
};

static const struct lim_desc lim_table[] = {
    {"bandwidth", CONF_LIM_BANDWIDTH, false, offsetof(struct conf_class, bandwidth_bps)},
    {"disk", CONF_LIM_DISK, false, offsetof(struct conf_class, disk_bytes)},
    {"delete_on_fetch", CONF_LIM_DELETE_ON_FETCH, true,
     offsetof(struct conf_class, delete_on_fetch)},
    {"allow_open_mode", CONF_LIM_ALLOW_OPEN_MODE, true,
     offsetof(struct conf_class, allow_open_mode)},
    {"test_sessions", CONF_LIM_TEST_SESSIONS, false, offsetof(struct conf_class, test_sessions)},
};

/* Reference defaults: no integer limit, delete_on_fetch off, allow_open_mode on. */
static void class_defaults(struct conf_class *c, const char *name)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->parent = -1;
    c->allow_open_mode = true;
}

static int grow(void **arr, size_t n, size_t elem)
{
    void *nv = realloc(*arr, (n + 1) * elem);
    if (nv == NULL) {
        return LP_E_NOMEM;
    }
    *arr = nv;
    return 0;
}

static int add_class(struct conf_limits *l, const struct conf_class *c)
{
    if (grow((void **)&l->classes, l->nclasses, sizeof(*c)) < 0) {
        return LP_E_NOMEM;
    }
    l->classes[l->nclasses++] = *c;
    return 0;
}

void conf_limits_free(struct conf_limits *l)
{
    free(l->classes);
    free(l->assigns);
    memset(l, 0, sizeof(*l));
}

int conf_limits_init(struct conf_limits *l)
{
    struct conf_class c;
    memset(l, 0, sizeof(*l));
    class_defaults(&c, "default");
    l->implicit = true;
    return add_class(l, &c);
}

static int find_class_idx(const struct conf_limits *l, const char *name)
{
    for (size_t i = 0; i < l->nclasses; i++) {
        if (strcmp(l->classes[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const struct conf_class *conf_limits_find(const struct conf_limits *l, const char *name)
{
    int i = name ? find_class_idx(l, name) : -1;
    return i < 0 ? NULL : &l->classes[i];
}

const struct conf_class *conf_limits_parent(const struct conf_limits *l,
                                            const struct conf_class *cls)
{
    if (cls == NULL || cls->parent < 0 || (size_t)cls->parent >= l->nclasses) {
        return NULL;
    }
    return &l->classes[cls->parent];
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

static int set_parent(const struct conf_limits *l, struct conf_class *c, const char *v, char *err,
                      size_t errlen)
{
    if (l->nclasses == 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "the first (root) class cannot have a parent");
    }
    if (c->parent >= 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "parent given twice");
    }
    c->parent = find_class_idx(l, v);
    if (c->parent < 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "parent \"%s\" is not defined above", v);
    }
    return 0;
}

/* Store one key=value into c (explicit values only). */
static int set_limit(const struct conf_limits *l, struct conf_class *c, const char *key,
                     const char *v, char *err, size_t errlen)
{
    if (strcasecmp(key, "parent") == 0) {
        return set_parent(l, c, v, err, errlen);
    }
    for (size_t i = 0; i < LP_ARRAY_LEN(lim_table); i++) {
        const struct lim_desc *d = &lim_table[i];
        if (strcasecmp(key, d->name) != 0) {
            continue;
        }
        if (c->set & d->bit) {
            return conf_errf(err, errlen, LP_E_SYNTAX, "%s given twice", d->name);
        }
        c->set |= d->bit;
        if (d->is_bool) {
            bool b = strcasecmp(v, "on") == 0;
            if (!b && strcasecmp(v, "off") != 0) {
                return conf_errf(err, errlen, LP_E_SYNTAX, "%s must be on or off, not \"%s\"",
                                 d->name, v);
            }
            memcpy((char *)c + d->off, &b, sizeof(b));
            return 0;
        }
        uint64_t n;
        if (conf_parse_count(v, &n) < 0) {
            return conf_errf(err, errlen, LP_E_SYNTAX,
                             "%s must be an integer with optional k/m/g suffix, not \"%s\"",
                             d->name, v);
        }
        memcpy((char *)c + d->off, &n, sizeof(n));
        return 0;
    }
    return conf_errf(err, errlen, LP_E_SYNTAX, "unknown limit \"%s\"", key);
}

/* "key=value" (blanks allowed around '='); empty items are skipped. */
static int parse_item(const struct conf_limits *l, struct conf_class *c, char *item, char *err,
                      size_t errlen)
{
    item = trim(item);
    if (*item == '\0') {
        return 0;
    }
    char *eq = strchr(item, '=');
    if (eq == NULL) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "expected key=value, got \"%s\"", item);
    }
    *eq = '\0';
    char *key = trim(item), *val = trim(eq + 1);
    if (*key == '\0' || *val == '\0' || strpbrk(key, " \t") || strpbrk(val, " \t=")) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "expected key=value near \"%s\"", key);
    }
    return set_limit(l, c, key, val, err, errlen);
}

/* Effective values: parent's (or defaults) overlaid with the explicit ones in e. */
static void resolve(const struct conf_limits *l, const struct conf_class *e, struct conf_class *out)
{
    if (e->parent >= 0) {
        *out = l->classes[e->parent];
    } else {
        class_defaults(out, "");
    }
    memcpy(out->name, e->name, sizeof(out->name));
    out->parent = e->parent;
    out->set = e->set;
    for (size_t i = 0; i < LP_ARRAY_LEN(lim_table); i++) {
        const struct lim_desc *d = &lim_table[i];
        if (e->set & d->bit) {
            size_t sz = d->is_bool ? sizeof(bool) : sizeof(uint64_t);
            memcpy((char *)out + d->off, (const char *)e + d->off, sz);
        }
    }
}

static int check_class_name(const struct conf_limits *l, const char *name, char *err, size_t errlen)
{
    if (name == NULL) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "limit needs a class name");
    }
    if (strlen(name) > CONF_CLASS_NAME_MAX || strchr(name, '/') || !strcmp(name, ".") ||
        !strcmp(name, "..")) {
        return conf_errf(err, errlen, LP_E_SYNTAX,
                         "invalid class name \"%s\" (at most %d characters, no '/')", name,
                         CONF_CLASS_NAME_MAX);
    }
    if (find_class_idx(l, name) >= 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "class \"%s\" defined twice", name);
    }
    return 0;
}

/* "NAME with k=v, k=v ..." */
static int parse_limit(struct conf_limits *l, char *rest, char *err, size_t errlen)
{
    char *name = conf_next_token(&rest);
    int rc = check_class_name(l, name, err, errlen);
    if (rc < 0) {
        return rc;
    }
    char *with = conf_next_token(&rest);
    if (with == NULL || strcasecmp(with, "with") != 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "expected \"with\" after class name");
    }
    struct conf_class e, out;
    class_defaults(&e, name);
    char *save = NULL;
    for (char *it = strtok_r(rest, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        rc = parse_item(l, &e, it, err, errlen);
        if (rc < 0) {
            return rc;
        }
    }
    if (l->nclasses > 0 && e.parent < 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX,
                         "class \"%s\" needs a parent (only the first class is the root)", name);
    }
    resolve(l, &e, &out);
    return add_class(l, &out) < 0 ? conf_errf(err, errlen, LP_E_NOMEM, "out of memory") : 0;
}

static bool same_assign(const struct conf_assign *a, const struct conf_assign *b)
{
    if (a->kind != b->kind) {
        return false;
    }
    switch (a->kind) {
    case CONF_ASSIGN_NET:
        return a->net.family == b->net.family && a->net.prefix_len == b->net.prefix_len &&
               memcmp(a->net.addr, b->net.addr, sizeof(a->net.addr)) == 0;
    case CONF_ASSIGN_USER: return strcmp(a->user, b->user) == 0;
    default: return true;
    }
}

/* The identity or prefix argument of "assign net|user". */
static int assign_arg(struct conf_assign *a, const char *arg, const struct conf_keys *keys,
                      char *err, size_t errlen)
{
    if (arg == NULL) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "assign %s needs an argument",
                         a->kind == CONF_ASSIGN_NET ? "net" : "user");
    }
    if (a->kind == CONF_ASSIGN_NET) {
        int rc = addr_cidr_parse(arg, &a->net);
        if (rc == LP_E_VALUE) {
            return conf_errf(err, errlen, LP_E_SYNTAX,
                             "\"%s\": address has bits set beyond the prefix length", arg);
        }
        return rc < 0 ? conf_errf(err, errlen, LP_E_SYNTAX, "invalid subnet \"%s\"", arg) : 0;
    }
    if (strlen(arg) > CONF_IDENTITY_MAX) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "identity longer than %d characters",
                         CONF_IDENTITY_MAX);
    }
    if (keys != NULL && !conf_keys_has(keys, arg)) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "user \"%s\" is not in the pass-phrase file",
                         arg);
    }
    strcpy(a->user, arg);
    return 0;
}

static int parse_assign_kind(const char *kind, struct conf_assign *a, char *err, size_t errlen)
{
    if (kind != NULL && strcasecmp(kind, "default") == 0) {
        a->kind = CONF_ASSIGN_DEFAULT;
    } else if (kind != NULL && strcasecmp(kind, "net") == 0) {
        a->kind = CONF_ASSIGN_NET;
    } else if (kind != NULL && strcasecmp(kind, "user") == 0) {
        a->kind = CONF_ASSIGN_USER;
    } else {
        return conf_errf(err, errlen, LP_E_SYNTAX,
                         "assign needs default, net SUBNET or user IDENTITY");
    }
    return 0;
}

/* "default CLASS" | "net SUBNET CLASS" | "user IDENTITY CLASS" */
static int parse_assign(struct conf_limits *l, char *rest, const struct conf_keys *keys, char *err,
                        size_t errlen)
{
    struct conf_assign a;
    memset(&a, 0, sizeof(a));
    int rc = parse_assign_kind(conf_next_token(&rest), &a, err, errlen);
    if (rc == 0 && a.kind != CONF_ASSIGN_DEFAULT) {
        rc = assign_arg(&a, conf_next_token(&rest), keys, err, errlen);
    }
    if (rc < 0) {
        return rc;
    }
    const char *cls = conf_next_token(&rest);
    int idx = cls ? find_class_idx(l, cls) : -1;
    if (idx < 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "unknown class \"%s\"", cls ? cls : "");
    }
    if (conf_next_token(&rest) != NULL) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "unexpected text after class name");
    }
    for (size_t i = 0; i < l->nassigns; i++) {
        if (same_assign(&l->assigns[i], &a)) {
            return conf_errf(err, errlen, LP_E_SYNTAX, "duplicate assign line");
        }
    }
    a.class_idx = (size_t)idx;
    if (grow((void **)&l->assigns, l->nassigns, sizeof(a)) < 0) {
        return conf_errf(err, errlen, LP_E_NOMEM, "out of memory");
    }
    l->assigns[l->nassigns++] = a;
    if (a.kind == CONF_ASSIGN_DEFAULT) {
        l->default_idx = (size_t)idx;
    }
    return 0;
}

static int limits_line(struct conf_limits *l, char *line, const struct conf_keys *keys, char *err,
                       size_t errlen)
{
    char *rest = line;
    char *word = conf_next_token(&rest);
    if (strcasecmp(word, "limit") == 0) {
        return parse_limit(l, rest, err, errlen);
    }
    if (strcasecmp(word, "assign") == 0) {
        return parse_assign(l, rest, keys, err, errlen);
    }
    return conf_errf(err, errlen, LP_E_SYNTAX, "expected a limit or assign line, got \"%s\"", word);
}

/* A limits line with the keys it looks identities up in. */
struct limits_arg {
    struct conf_limits *l;
    const struct conf_keys *keys;
};

static int limits_line_cb(void *arg, char *line, char *err, size_t errlen)
{
    struct limits_arg *a = arg;
    return limits_line(a->l, line, a->keys, err, errlen);
}

static int limits_stream(struct conf_limits *l, FILE *fp, const char *path,
                         const struct conf_keys *keys, char *err, size_t errlen)
{
    struct limits_arg a = {.l = l, .keys = keys};
    return conf_each_line(fp, path, limits_line_cb, &a, err, errlen);
}

int conf_limits_load_file(struct conf_limits *l, const char *path, const struct conf_keys *keys,
                          char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        return conf_open_failed(err, errlen, path);
    }
    struct conf_limits tmp;
    memset(&tmp, 0, sizeof(tmp));
    int rc = limits_stream(&tmp, fp, path, keys, err, errlen);
    fclose(fp);
    if (rc == 0 && tmp.nclasses == 0) {
        conf_limits_free(&tmp);
        rc = conf_limits_init(&tmp);
        if (rc < 0) {
            conf_errf(err, errlen, rc, "out of memory");
        }
    }
    if (rc < 0) {
        conf_limits_free(&tmp);
        return rc;
    }
    conf_limits_free(l);
    *l = tmp;
    return 0;
}

/* Longest "assign net" prefix holding peer, or -1. */
static int best_net(const struct conf_limits *l, const struct sockaddr *peer)
{
    int best = -1;
    for (size_t i = 0; peer != NULL && i < l->nassigns; i++) {
        const struct conf_assign *a = &l->assigns[i];
        if (a->kind != CONF_ASSIGN_NET || !addr_cidr_match(&a->net, peer)) {
            continue;
        }
        if (best < 0 || a->net.prefix_len > l->assigns[best].net.prefix_len) {
            best = (int)i;
        }
    }
    return best;
}

const struct conf_class *conf_limits_class_for(const struct conf_limits *l,
                                               const struct sockaddr *peer, const char *identity)
{
    if (l->nclasses == 0) {
        return NULL;
    }
    if (identity != NULL && identity[0] != '\0') {
        for (size_t i = 0; i < l->nassigns; i++) {
            const struct conf_assign *a = &l->assigns[i];
            if (a->kind == CONF_ASSIGN_USER && strcmp(a->user, identity) == 0) {
                return &l->classes[a->class_idx];
            }
        }
        const struct conf_class *named = conf_limits_find(l, identity);
        if (named != NULL) {
            return named;
        }
    }
    int net = best_net(l, peer);
    if (net >= 0) {
        return &l->classes[l->assigns[net].class_idx];
    }
    return &l->classes[l->default_idx];
}
