/* conf.c - owamp-server.conf / twamp-server.conf keys, defaults and the file loader. */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "common.h"
#include "conf_priv.h"

#define PROTO_O 0x1u /* key valid for owampd */
#define PROTO_T 0x2u /* key valid for twampd */
#define PROTO_B (PROTO_O | PROTO_T)

enum key_kind {
    K_ADDR, /* "host:port" string, checked with addr_split */
    K_NAME, /* short name (user, group) */
    K_PATH, /* directory */
    K_U32,  /* decimal seconds or count */
    K_FLAG, /* bool; the bare key means on */
    K_SPECIAL,
};

struct key_desc {
    const char *name;
    unsigned protos;
    enum key_kind kind;
    size_t off;  /* field offset for the generic kinds */
    size_t size; /* field size for strings */
    int (*set)(struct conf *c, const char *v, char *err, size_t errlen);
    bool multi; /* the value may hold several whitespace-separated items */
};

static int set_authmode(struct conf *c, const char *v, char *err, size_t errlen);
static int set_testports(struct conf *c, const char *v, char *err, size_t errlen);
static int set_facility(struct conf *c, const char *v, char *err, size_t errlen);
static int set_loglevel(struct conf *c, const char *v, char *err, size_t errlen);
static int set_diskfudge(struct conf *c, const char *v, char *err, size_t errlen);
static int set_pbkdf2(struct conf *c, const char *v, char *err, size_t errlen);
static int set_enddelay(struct conf *c, const char *v, char *err, size_t errlen);
static int set_third_party(struct conf *c, const char *v, char *err, size_t errlen);
static int set_egressstamp(struct conf *c, const char *v, char *err, size_t errlen);

#define FIELD(f) offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
#define SPECIAL(fn) K_SPECIAL, 0, 0, fn

/* Every key: the reference's owampd/twampd keys, then ours (light, servwait = alias of
 * controltimeout, refwait = alias of testtimeout, allow_third_party,
 * maxcontrolsessionsperaddr, maxsessionduration, lightidletimeout, egressstamp). */
static const struct key_desc key_table[] = {
    {"srcnode", PROTO_B, K_ADDR, FIELD(srcnode), NULL, false},
    {"authmode", PROTO_B, SPECIAL(set_authmode), false},
    {"user", PROTO_B, K_NAME, FIELD(user), NULL, false},
    {"group", PROTO_B, K_NAME, FIELD(group), NULL, false},
    {"vardir", PROTO_B, K_PATH, FIELD(vardir), NULL, false},
    {"datadir", PROTO_B, K_PATH, FIELD(datadir), NULL, false},
    {"testports", PROTO_B, SPECIAL(set_testports), false},
    {"maxcontrolsessions", PROTO_B, K_U32, FIELD(maxcontrolsessions), NULL, false},
    {"facility", PROTO_B, SPECIAL(set_facility), false},
    {"loglevel", PROTO_B, SPECIAL(set_loglevel), false},
    {"loglocation", PROTO_B, K_FLAG, FIELD(loglocation), NULL, false},
    {"verbose", PROTO_B, K_FLAG, FIELD(verbose), NULL, false},
    {"rootfolly", PROTO_B, K_FLAG, FIELD(rootfolly), NULL, false},
    {"diskfudge", PROTO_O, SPECIAL(set_diskfudge), false},
    {"dieby", PROTO_B, K_U32, FIELD(dieby_s), NULL, false},
    {"controltimeout", PROTO_B, K_U32, FIELD(controltimeout_s), NULL, false},
    {"testtimeout", PROTO_T, K_U32, FIELD(testtimeout_s), NULL, false},
    {"pbkdf2_count", PROTO_B, SPECIAL(set_pbkdf2), false},
    {"enddelay", PROTO_B, SPECIAL(set_enddelay), false},
    {"light", PROTO_T, K_ADDR, FIELD(light), NULL, false},
    {"servwait", PROTO_B, K_U32, FIELD(controltimeout_s), NULL, false},
    {"refwait", PROTO_T, K_U32, FIELD(testtimeout_s), NULL, false},
    {"allow_third_party", PROTO_B, SPECIAL(set_third_party), true},
    {"maxcontrolsessionsperaddr", PROTO_B, K_U32, FIELD(maxconn_per_addr), NULL, false},
    {"maxsessionduration", PROTO_B, K_U32, FIELD(maxsession_s), NULL, false},
    {"lightidletimeout", PROTO_T, K_U32, FIELD(lightidle_s), NULL, false},
    {"egressstamp", PROTO_B, SPECIAL(set_egressstamp), false},
};

void conf_defaults(struct conf *c, enum conf_proto proto)
{
    memset(c, 0, sizeof(*c));
    c->proto = proto;
    c->authmode = CONF_MODE_OPEN | CONF_MODE_AUTH | CONF_MODE_ENC;
    if (proto == CONF_PROTO_TWAMP) {
        c->authmode |= CONF_MODE_MIXED;
    }
    c->facility = LOG_DAEMON;
    c->loglevel = CONF_LOG_INFO;
    c->diskfudge = 1.0;
    c->dieby_s = 5;
    c->controltimeout_s = proto == CONF_PROTO_TWAMP ? 900 : 1800;
    c->testtimeout_s = 900;
    c->lightidle_s = 30; /* LIGHT_IDLE_DEFAULT_S of the light reflector */
    c->pbkdf2_count = 2048;
    c->enddelay_ns = 1000000000;
}

static int bad_value(const char *key, const char *v, const char *why, char *err, size_t errlen)
{
    return conf_errf(err, errlen, LP_E_VALUE, "invalid %s \"%s\": %s", key, v, why);
}

static int set_authmode(struct conf *c, const char *v, char *err, size_t errlen)
{
    uint32_t m = 0;
    for (const char *p = v; *p != '\0'; p++) {
        switch (toupper((unsigned char)*p)) {
        case 'O': m |= CONF_MODE_OPEN; break;
        case 'A': m |= CONF_MODE_AUTH; break;
        case 'E': m |= CONF_MODE_ENC; break;
        case 'M':
            if (c->proto != CONF_PROTO_TWAMP) {
                return bad_value("authmode", v, "mixed mode (M) is TWAMP only", err, errlen);
            }
            m |= CONF_MODE_MIXED;
            break;
        default:
            return bad_value("authmode", v, "use the letters O, A, E (and M for TWAMP)", err,
                             errlen);
        }
    }
    if (m == 0) {
        return bad_value("authmode", v, "no mode given", err, errlen);
    }
    c->authmode = m;
    return 0;
}

/* "all", "off" (or nothing: off) or interface names separated by commas. */
static int set_egressstamp(struct conf *c, const char *v, char *err, size_t errlen)
{
    if (!v || !*v || strcasecmp(v, "off") == 0) {
        c->egressstamp[0] = '\0';
        return 0;
    }
    if (strlen(v) >= sizeof(c->egressstamp)) {
        return bad_value("egressstamp", v, "too long", err, errlen);
    }
    if (strcmp(v, "all") != 0) {
        for (const char *p = v; *p != '\0';) {
            size_t n = strcspn(p, ",");
            if (n == 0 || n >= 16 || strcspn(p, "/ \t:") < n) {
                return bad_value("egressstamp", v,
                                 "want all, off or interface names separated by commas", err,
                                 errlen);
            }
            p += n + (p[n] == ',');
        }
    }
    snprintf(c->egressstamp, sizeof(c->egressstamp), "%s", v);
    return 0;
}

/* One port number 0-65535 with optional surrounding blanks; end of the digits in *end. */
static int parse_port(const char *s, uint16_t *out, const char **end)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    const char *p = s;
    unsigned long v = 0;
    while (isdigit((unsigned char)*p) && p - s < 6) {
        v = v * 10 + (unsigned long)(*p++ - '0');
    }
    if (p == s || isdigit((unsigned char)*p) || v > 65535) {
        return LP_E_VALUE;
    }
    while (isspace((unsigned char)*p)) {
        p++;
    }
    *out = (uint16_t)v;
    *end = p;
    return 0;
}

/* "0" (ephemeral), "port" or "low-high" as the reference's parse_ports. */
static int set_testports(struct conf *c, const char *v, char *err, size_t errlen)
{
    uint16_t lo, hi;
    const char *end;
    if (parse_port(v, &lo, &end) < 0) {
        return bad_value("testports", v, "expected 0 or low-high", err, errlen);
    }
    hi = lo;
    if (*end == '-') {
        if (parse_port(end + 1, &hi, &end) < 0) {
            return bad_value("testports", v, "expected 0 or low-high", err, errlen);
        }
        if (lo == 0 || hi < lo) {
            return bad_value("testports", v, "need 0 < low <= high", err, errlen);
        }
    }
    if (*end != '\0') {
        return bad_value("testports", v, "expected 0 or low-high", err, errlen);
    }
    c->testport_lo = lo;
    c->testport_hi = hi;
    return 0;
}

struct named_value {
    const char *name;
    int value;
};

static const struct named_value facilities[] = {
    {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
    {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"kern", LOG_KERN},
    {"lpr", LOG_LPR},       {"mail", LOG_MAIL},         {"news", LOG_NEWS},
    {"syslog", LOG_SYSLOG}, {"user", LOG_USER},         {"uucp", LOG_UUCP},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static const struct named_value loglevels[] = {
    {"none", CONF_LOG_NONE},    {"fatal", CONF_LOG_FATAL}, {"warning", CONF_LOG_WARNING},
    {"warn", CONF_LOG_WARNING}, {"info", CONF_LOG_INFO},   {"debug", CONF_LOG_DEBUG},
    {"all", CONF_LOG_ALL},
};

static int lookup_name(const struct named_value *t, size_t n, const char *v, int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(t[i].name, v) == 0) {
            *out = t[i].value;
            return 0;
        }
    }
    return LP_E_VALUE;
}

int conf_facility_by_name(const char *name)
{
    int v;
    return lookup_name(facilities, LP_ARRAY_LEN(facilities), name, &v) < 0 ? -1 : v;
}

int conf_loglevel_by_name(const char *name)
{
    int v;
    return lookup_name(loglevels, LP_ARRAY_LEN(loglevels), name, &v) < 0 ? -1 : v;
}

static int set_facility(struct conf *c, const char *v, char *err, size_t errlen)
{
    if (lookup_name(facilities, LP_ARRAY_LEN(facilities), v, &c->facility) < 0) {
        return bad_value("facility", v, "unknown syslog facility", err, errlen);
    }
    return 0;
}

static int set_loglevel(struct conf *c, const char *v, char *err, size_t errlen)
{
    int lv;
    if (lookup_name(loglevels, LP_ARRAY_LEN(loglevels), v, &lv) < 0) {
        return bad_value("loglevel", v, "use none, fatal, warning, info, debug or all", err,
                         errlen);
    }
    c->loglevel = (enum conf_loglevel)lv;
    return 0;
}

static int set_diskfudge(struct conf *c, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno != 0 || !(d >= 1.0 && d <= 10.0)) {
        return bad_value("diskfudge", v, "expected a number from 1.0 to 10.0", err, errlen);
    }
    c->diskfudge = d;
    return 0;
}

/* 0 keeps the default count, as in the reference. */
static int set_pbkdf2(struct conf *c, const char *v, char *err, size_t errlen)
{
    uint32_t n;
    if (conf_parse_u32(v, &n) < 0) {
        return bad_value("pbkdf2_count", v, "expected an unsigned integer", err, errlen);
    }
    c->pbkdf2_count = n ? n : 2048;
    return 0;
}

static int set_enddelay(struct conf *c, const char *v, char *err, size_t errlen)
{
    if (conf_parse_seconds_ns(v, &c->enddelay_ns) < 0) {
        return bad_value("enddelay", v, "expected non-negative seconds", err, errlen);
    }
    return 0;
}

/* One allow_third_party item: "addr[/len]" or an identity. */
static int add_third_party(struct conf *c, const char *item, char *err, size_t errlen)
{
    struct conf_peer_rule r;
    memset(&r, 0, sizeof(r));
    if (c->n_third_party >= CONF_THIRD_PARTY_MAX) {
        return conf_errf(err, errlen, LP_E_NOMEM, "allow_third_party: more than %d entries",
                         CONF_THIRD_PARTY_MAX);
    }
    int rc = addr_cidr_parse(item, &r.net);
    if (rc == 0) {
        r.is_net = true;
    } else if (rc == LP_E_VALUE || strchr(item, '/') != NULL) {
        return bad_value("allow_third_party", item, "not a valid prefix (host bits set?)", err,
                         errlen);
    } else if (strlen(item) > CONF_IDENTITY_MAX) {
        return bad_value("allow_third_party", item, "identity longer than 80 characters", err,
                         errlen);
    } else {
        strcpy(r.identity, item);
    }
    c->third_party[c->n_third_party++] = r;
    return 0;
}

/* Items separated by blanks or commas; repeated keys accumulate. */
static int set_third_party(struct conf *c, const char *v, char *err, size_t errlen)
{
    char buf[CONF_PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf)) {
        return bad_value("allow_third_party", "...", "value too long", err, errlen);
    }
    size_t before = c->n_third_party;
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        int rc = add_third_party(c, t, err, errlen);
        if (rc < 0) {
            c->n_third_party = before; /* all or nothing */
            return rc;
        }
    }
    if (c->n_third_party == before) {
        return bad_value("allow_third_party", v, "no prefix or identity given", err, errlen);
    }
    return 0;
}

static int set_string(struct conf *c, const struct key_desc *d, const char *v, char *err,
                      size_t errlen)
{
    char *dst = (char *)c + d->off;
    if (strlen(v) >= d->size) {
        return bad_value(d->name, v, "too long", err, errlen);
    }
    if (d->kind == K_ADDR) {
        char host[CONF_PATH_MAX], port[64];
        if (addr_split(v, host, sizeof(host), port, sizeof(port), NULL) < 0) {
            return bad_value(d->name, v, "expected host, host:port, [v6addr]:port or :port", err,
                             errlen);
        }
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int set_generic(struct conf *c, const struct key_desc *d, const char *v, char *err,
                       size_t errlen)
{
    if (v[0] == '\0' && d->kind != K_FLAG) {
        return conf_errf(err, errlen, LP_E_VALUE, "%s needs a value", d->name);
    }
    switch (d->kind) {
    case K_FLAG: {
        bool b = true;
        if (v[0] != '\0' && conf_parse_bool(v, &b) < 0) {
            return bad_value(d->name, v, "expected on or off (or no value)", err, errlen);
        }
        memcpy((char *)c + d->off, &b, sizeof(b));
        return 0;
    }
    case K_U32: {
        uint32_t n;
        if (conf_parse_u32(v, &n) < 0) {
            return bad_value(d->name, v, "expected an unsigned integer", err, errlen);
        }
        memcpy((char *)c + d->off, &n, sizeof(n));
        return 0;
    }
    case K_SPECIAL: return d->set(c, v, err, errlen);
    default: return set_string(c, d, v, err, errlen);
    }
}

static const struct key_desc *find_key(const char *key)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(key_table); i++) {
        if (strcasecmp(key_table[i].name, key) == 0) {
            return &key_table[i];
        }
    }
    return NULL;
}

int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct key_desc *d = find_key(key);
    unsigned proto = c->proto == CONF_PROTO_TWAMP ? PROTO_T : PROTO_O;
    if (d == NULL) {
        return conf_errf(err, errlen, LP_E_NOTFOUND, "unknown key \"%s\"", key);
    }
    if ((d->protos & proto) == 0) {
        return conf_errf(err, errlen, LP_E_NOTFOUND, "key \"%s\" is not valid for %s", key,
                         c->proto == CONF_PROTO_TWAMP ? "twampd" : "owampd");
    }
    return set_generic(c, d, value ? value : "", err, errlen);
}

/* One "key [value]" line; single-valued keys take exactly one token. */
static int apply_line(void *arg, char *line, char *err, size_t errlen)
{
    struct conf *c = arg;
    char *cursor = line;
    char *key = conf_next_token(&cursor);
    while (isspace((unsigned char)*cursor)) {
        cursor++;
    }
    const struct key_desc *d = find_key(key);
    if (d != NULL && !d->multi && strpbrk(cursor, " \t\r\n\v\f") != NULL) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "%s takes one value, got \"%s\"", key, cursor);
    }
    int rc = conf_set(c, key, cursor, err, errlen);
    return rc < 0 ? LP_E_SYNTAX : 0;
}

int conf_load_file(struct conf *c, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        return conf_open_failed(err, errlen, path);
    }
    int rc = conf_each_line(fp, path, apply_line, c, err, errlen);
    fclose(fp);
    return rc;
}

bool conf_third_party_allowed(const struct conf *c, const struct sockaddr *peer,
                              const char *identity)
{
    for (size_t i = 0; i < c->n_third_party; i++) {
        const struct conf_peer_rule *r = &c->third_party[i];
        if (r->is_net && peer != NULL && addr_cidr_match(&r->net, peer)) {
            return true;
        }
        if (!r->is_net && identity != NULL && strcmp(r->identity, identity) == 0) {
            return true;
        }
    }
    return false;
}

/* "<dir>/<proto>-server<ext>"; LP_E_LEN when it does not fit. */
static int dir_file(char *out, size_t outlen, const char *dir, const char *proto, const char *ext,
                    char *err, size_t errlen)
{
    int n = snprintf(out, outlen, "%s/%s-server%s", dir, proto, ext);
    if (n < 0 || (size_t)n >= outlen) {
        return conf_errf(err, errlen, LP_E_LEN, "%s: configuration path too long", dir);
    }
    return 0;
}

/* Load the three files in order conf, pfs (needed to check "assign user"), limits. */
static int dir_load_files(const char *dir, const char *proto, unsigned flags, struct conf *c,
                          struct conf_keys *keys, struct conf_limits *l, char *err, size_t errlen)
{
    char path[CONF_PATH_MAX + 32];
    int rc = dir_file(path, sizeof(path), dir, proto, ".conf", err, errlen);
    if (rc == 0) {
        rc = conf_load_file(c, path, err, errlen);
    }
    if (rc == LP_E_NOTFOUND && !(flags & CONF_DIR_REQUIRE_CONF)) {
        rc = 0;
    }
    if (rc == 0) {
        rc = dir_file(path, sizeof(path), dir, proto, ".pfs", err, errlen);
    }
    if (rc == 0) {
        rc = conf_keys_load_file(keys, path, err, errlen);
        rc = rc == LP_E_NOTFOUND ? 0 : rc;
    }
    if (rc == 0) {
        rc = dir_file(path, sizeof(path), dir, proto, ".limits", err, errlen);
    }
    if (rc == 0) {
        rc = conf_limits_load_file(l, path, keys, err, errlen);
        rc = rc == LP_E_NOTFOUND ? 0 : rc;
    }
    return rc;
}

int conf_dir_load(const char *dir, const char *proto, unsigned flags, struct conf *c,
                  struct conf_keys *keys, struct conf_limits *l, char *err, size_t errlen)
{
    enum conf_proto p;
    conf_keys_init(keys);
    memset(l, 0, sizeof(*l));
    if (proto != NULL && strcmp(proto, "owamp") == 0) {
        p = CONF_PROTO_OWAMP;
    } else if (proto != NULL && strcmp(proto, "twamp") == 0) {
        p = CONF_PROTO_TWAMP;
    } else {
        return conf_errf(err, errlen, LP_E_VALUE, "protocol must be owamp or twamp");
    }
    conf_defaults(c, p);
    int rc = conf_limits_init(l);
    if (rc < 0) {
        return conf_errf(err, errlen, rc, "out of memory");
    }
    rc = dir_load_files(dir, proto, flags, c, keys, l, err, errlen);
    if (rc < 0) {
        conf_keys_free(keys);
        conf_limits_free(l);
    }
    return rc;
}
