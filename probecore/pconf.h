/* pconf.h - ippm_exporter's configuration: modules (how to measure: protocol, schedule,
 * security, DSCP, padding, source) and targets (what to measure continuously, how often),
 * read from a YAML file (libyaml) in the style of blackbox_exporter. Every key is checked;
 * an unknown key or a bad value is an error naming the file and line. */
#ifndef PROBE_PCONF_H
#define PROBE_PCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "wire.h"

#define PC_MAX_SLOTS 64
#define PC_MAX_BUCKETS 64
#define PC_NAME_MAX 64
#define PC_TARGET_MAX 256
#define PC_PATH_MAX 1024
#define PC_MAX_PROBES_DEFAULT 8
#define PC_TARGETS_MAX 100000

enum pc_proto { PC_OWAMP, PC_TWAMP, PC_LIGHT, PC_STAMP };

/* How to measure. Copied whole into each measurement, so a reload never changes one that
 * runs. */
struct pc_module {
    char name[PC_NAME_MAX];
    enum pc_proto proto;
    uint32_t count;                       /* packets per session (each direction) */
    struct wire_slot slots[PC_MAX_SLOTS]; /* the schedule, as in Request-Session */
    uint32_t nslots;
    int64_t loss_timeout_ns; /* how long a packet is waited for; -1: 2 s (+ control RTT) */
    uint32_t modes;          /* WIRE_MODE_* security modes allowed (O, A, E, M) */
    char identity[WIRE_KEYID_LEN + 1];
    char keyfile[PC_PATH_MAX];
    uint8_t pass[CONF_PASSPHRASE_MAX]; /* the identity's pass-phrase, read at load */
    int passlen;                       /* -1: none */
    int dscp;                          /* -1: unset */
    uint32_t padding;                  /* octets beyond the base packet */
    char source[64];                   /* numeric local address, "" for the route's */
    int family;                        /* 0 (any), AF_INET or AF_INET6 */
    bool to, from;                     /* OWAMP directions */
    uint16_t port_lo, port_hi;         /* local UDP test ports (0: any) */
};

/* What to measure continuously. */
struct pc_target {
    char target[PC_TARGET_MAX]; /* HOST[:PORT] as written */
    char module[PC_NAME_MAX];
    size_t mod;       /* index in modules */
    int64_t every_ns; /* a session starts at most this often (0: back to back) */
};

struct pc_config {
    struct pc_module *modules;
    size_t nmodules;
    struct pc_target *targets;
    size_t ntargets;
    int64_t buckets_ns[PC_MAX_BUCKETS]; /* histogram upper bounds, ascending (+Inf implied) */
    size_t nbuckets;
    unsigned max_probes; /* /probe requests running at once */
};

/* Read path into out (zeroed first; free with pc_free also on error). 0, or -1 with a
 * message "path:line: ..." in err. */
int pc_load(const char *path, struct pc_config *out, char *err, size_t errlen);

/* The same from a string (name is used in messages); for tests. */
int pc_load_string(const char *text, const char *name, struct pc_config *out, char *err,
                   size_t errlen);

/* Free what pc_load allocated, wiping the pass-phrases. */
void pc_free(struct pc_config *c);

/* The module called name, or NULL. */
const struct pc_module *pc_module_find(const struct pc_config *c, const char *name);

/* A duration: a number of seconds, or a number with a unit (us, ms, s, m, h), e.g. "10s",
 * "0.5", "250ms". 0 or -1. */
int pc_parse_duration(const char *s, int64_t *ns);

/* Whether two configurations have the same histogram buckets. */
bool pc_same_buckets(const struct pc_config *a, const struct pc_config *b);

#endif
