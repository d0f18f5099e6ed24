/* conf_keys.c - pass-phrase store: "identity<blank>hex-pass-phrase" lines (.pfs, -k). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "conf.h"
#include "conf_priv.h"
#include "crypto.h"

void conf_keys_init(struct conf_keys *k)
{
    k->v = NULL;
    k->n = 0;
}

void conf_keys_free(struct conf_keys *k)
{
    for (size_t i = 0; i < k->n; i++) {
        cry_wipe(k->v[i].pf, k->v[i].pf_len);
        free(k->v[i].pf);
    }
    if (k->v != NULL) {
        cry_wipe(k->v, k->n * sizeof(*k->v));
    }
    free(k->v);
    conf_keys_init(k);
}

static const struct conf_key *find(const struct conf_keys *k, const char *identity)
{
    for (size_t i = 0; identity != NULL && i < k->n; i++) {
        if (strcmp(k->v[i].identity, identity) == 0) {
            return &k->v[i];
        }
    }
    return NULL;
}

bool conf_keys_has(const struct conf_keys *k, const char *identity)
{
    return find(k, identity) != NULL;
}

int conf_keys_lookup(const struct conf_keys *k, const char *identity, uint8_t *out, size_t outlen)
{
    const struct conf_key *e = find(k, identity);
    if (e == NULL) {
        return LP_E_NOTFOUND;
    }
    if (e->pf_len > outlen) {
        return LP_E_LEN;
    }
    memcpy(out, e->pf, e->pf_len);
    return (int)e->pf_len;
}

static char *skip_blank(char *p)
{
    while (*p != '\0' && isspace((unsigned char)*p)) {
        p++;
    }
    return p;
}

static char *skip_word(char *p)
{
    while (*p != '\0' && !isspace((unsigned char)*p)) {
        p++;
    }
    return p;
}

/* Decode the hex token [hex, hex+len) into a new malloc'd buffer. */
static int decode_hex(const char *hex, size_t len, struct conf_key *e, char *err, size_t errlen)
{
    if (len == 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "missing pass-phrase after identity");
    }
    if (len % 2 != 0) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "odd number of hex digits in pass-phrase");
    }
    if (len / 2 > CONF_PASSPHRASE_MAX) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "pass-phrase longer than %d octets",
                         CONF_PASSPHRASE_MAX);
    }
    e->pf = malloc(len / 2);
    if (e->pf == NULL) {
        return conf_errf(err, errlen, LP_E_NOMEM, "out of memory");
    }
    size_t got = 0;
    if (cry_hex_decode(hex, len, e->pf, len / 2, &got) < 0) {
        free(e->pf);
        e->pf = NULL;
        return conf_errf(err, errlen, LP_E_SYNTAX, "pass-phrase is not hexadecimal");
    }
    e->pf_len = got;
    return 0;
}

/* Parse one non-comment line into e. */
static int parse_entry(char *line, struct conf_key *e, char *err, size_t errlen)
{
    char *id = skip_blank(line);
    char *id_end = skip_word(id);
    size_t id_len = (size_t)(id_end - id);
    if (id_len > CONF_IDENTITY_MAX) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "identity longer than %d characters",
                         CONF_IDENTITY_MAX);
    }
    memcpy(e->identity, id, id_len);
    e->identity[id_len] = '\0';
    char *hex = skip_blank(id_end);
    char *hex_end = skip_word(hex);
    char *rest = skip_blank(hex_end);
    if (*rest != '\0' && *rest != '#') {
        return conf_errf(err, errlen, LP_E_SYNTAX, "unexpected text after the pass-phrase");
    }
    return decode_hex(hex, (size_t)(hex_end - hex), e, err, errlen);
}

static int add_entry(struct conf_keys *k, const struct conf_key *e, char *err, size_t errlen)
{
    if (find(k, e->identity) != NULL) {
        return conf_errf(err, errlen, LP_E_SYNTAX, "identity \"%s\" listed twice", e->identity);
    }
    struct conf_key *nv = realloc(k->v, (k->n + 1) * sizeof(*nv));
    if (nv == NULL) {
        return conf_errf(err, errlen, LP_E_NOMEM, "out of memory");
    }
    k->v = nv;
    k->v[k->n++] = *e;
    return 0;
}

/* Handle one physical line (newline already removed). */
static int keys_line(struct conf_keys *k, char *line, char *err, size_t errlen)
{
    char *p = skip_blank(line);
    if (*p == '\0' || *p == '#') {
        return 0;
    }
    struct conf_key e;
    memset(&e, 0, sizeof(e));
    int rc = parse_entry(p, &e, err, errlen);
    if (rc == 0) {
        rc = add_entry(k, &e, err, errlen);
    }
    if (rc < 0 && e.pf != NULL) {
        cry_wipe(e.pf, e.pf_len);
        free(e.pf);
    }
    return rc;
}

static int keys_stream(struct conf_keys *k, FILE *fp, const char *path, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&buf, &cap, fp)) >= 0) {
        lineno++;
        if ((size_t)n != strlen(buf)) {
            rc = conf_errf(err, errlen, LP_E_SYNTAX, "NUL character in line");
        } else {
            buf[strcspn(buf, "\r\n")] = '\0';
            rc = keys_line(k, buf, err, errlen);
        }
        if (rc < 0) {
            conf_err_at(err, errlen, rc, path, lineno);
        }
    }
    if (rc == 0 && ferror(fp)) {
        rc = conf_errf(err, errlen, LP_E_IO, "%s: read error", path);
    }
    if (buf != NULL) {
        cry_wipe(buf, cap);
        free(buf);
    }
    return rc;
}

int conf_keys_load_file(struct conf_keys *k, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        int rc = conf_open_failed(err, errlen, path);
        conf_keys_free(k);
        return rc;
    }
    char iobuf[BUFSIZ]; /* our own stdio buffer, so the hex secrets can be wiped */
    setvbuf(fp, iobuf, _IOFBF, sizeof(iobuf));
    int rc = keys_stream(k, fp, path, err, errlen);
    fclose(fp);
    cry_wipe(iobuf, sizeof(iobuf));
    if (rc < 0) {
        conf_keys_free(k);
    }
    return rc;
}
