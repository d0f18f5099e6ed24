/* conf.h - daemon configuration, limits (policy classes) and pass-phrase store, in the
 * syntax of perfSONAR owampd/twampd's owamp-server.conf, .limits and .pfs files. */
#ifndef LP_CONF_H
#define LP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

/* Mode bits as on the wire (RFC 4656 / RFC 5618). */
#define CONF_MODE_OPEN 0x1u
#define CONF_MODE_AUTH 0x2u
#define CONF_MODE_ENC 0x4u
#define CONF_MODE_MIXED 0x8u

#define CONF_PATH_MAX 1024     /* paths and address strings, with the NUL */
#define CONF_NAME_MAX 64       /* user and group names */
#define CONF_IDENTITY_MAX 80   /* KeyID / pass-phrase identity, as the reference */
#define CONF_CLASS_NAME_MAX 64 /* limit class names */
#define CONF_PASSPHRASE_MAX 1024
#define CONF_THIRD_PARTY_MAX 64

enum conf_proto { CONF_PROTO_OWAMP, CONF_PROTO_TWAMP };

/* Reporting threshold ("loglevel"): messages at or above it are logged. */
enum conf_loglevel {
    CONF_LOG_NONE,
    CONF_LOG_FATAL,
    CONF_LOG_WARNING,
    CONF_LOG_INFO,
    CONF_LOG_DEBUG,
    CONF_LOG_ALL,
};

/* A syslog facility by name ("daemon", "local0", ...), or -1. */
int conf_facility_by_name(const char *name);

/* A reporting threshold by name (none, fatal, warning or warn, info, debug, all; any case),
 * or -1. */
int conf_loglevel_by_name(const char *name);

/* One allow_third_party entry: a prefix or an authenticated identity. */
struct conf_peer_rule {
    bool is_net;
    struct addr_cidr net;
    char identity[CONF_IDENTITY_MAX + 1];
};

/* Daemon settings (owamp-server.conf / twamp-server.conf, command line). */
struct conf {
    enum conf_proto proto;
    char srcnode[CONF_PATH_MAX];  /* listen "host:port" for addr_split; "" = any, default port */
    uint32_t authmode;            /* CONF_MODE_* offered; default O|A|E (TWAMP: |M) */
    char user[CONF_NAME_MAX + 1]; /* run as (name or -uid); "" = unset */
    char group[CONF_NAME_MAX + 1];
    char vardir[CONF_PATH_MAX];  /* pid/info files; "" = current directory */
    char datadir[CONF_PATH_MAX]; /* OWAMP session files; "" = current directory */
    uint16_t testport_lo;        /* test port range; 0-0 = ephemeral */
    uint16_t testport_hi;
    uint32_t maxcontrolsessions; /* 0 = unlimited */
    uint32_t maxconn_per_addr;   /* control connections from one address; 0 = unlimited */
    uint32_t maxsession_s;       /* longest test session accepted (schedule); 0 = unlimited */
    int facility;                /* syslog LOG_* facility, default LOG_DAEMON */
    enum conf_loglevel loglevel; /* default CONF_LOG_INFO */
    bool loglocation;            /* add source file:line to log messages */
    bool verbose;
    bool rootfolly;                  /* allow running as root (-f) */
    double diskfudge;                /* OWAMP: hard disk limit factor, 1.0-10.0 */
    uint32_t dieby_s;                /* grace before killing workers on exit; default 5 */
    uint32_t controltimeout_s;       /* SERVWAIT; default 1800 (OWAMP), 900 (TWAMP) */
    uint32_t testtimeout_s;          /* TWAMP REFWAIT; default 900 */
    uint32_t pbkdf2_count;           /* KDF iterations in Server-Greeting; default 2048 */
    int64_t enddelay_ns;             /* wait before Stop-Sessions; default 1 s */
    char light[CONF_PATH_MAX];       /* TWAMP Light/STAMP reflector "host:port"; "" = off */
    uint32_t lightidle_s;            /* light reflector: a flow idle this long is forgotten;
                                      * default 30 (LIGHT_IDLE_DEFAULT_S), 0 = only when full */
    char egressstamp[CONF_PATH_MAX]; /* interfaces whose egress writes the send time into
                                      * unauthenticated test packets: "all", names separated
                                      * by commas, or "" (off) */
    struct conf_peer_rule third_party[CONF_THIRD_PARTY_MAX];
    size_t n_third_party; /* peers allowed to name other test endpoints */
};

/* Defaults of the reference daemon for proto. */
void conf_defaults(struct conf *c, enum conf_proto proto);

/* Set one key as written in the file (case-insensitive name; value NULL or "" for flags,
 * which also take on/off). Lets command line options share the validation. Returns 0,
 * LP_E_NOTFOUND (unknown key or not valid for c->proto), LP_E_VALUE or LP_E_NOMEM, with a
 * message in err. */
int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errlen);

/* Apply every "key [value]" line of path on top of c. Returns 0, LP_E_NOTFOUND when the
 * file does not exist, LP_E_IO, or LP_E_SYNTAX with err = "path:line: message". */
int conf_load_file(struct conf *c, const char *path, char *err, size_t errlen);

/* True when peer (control connection address) or identity (NULL in open mode) may request
 * test sessions whose endpoints are not the control peer itself. */
bool conf_third_party_allowed(const struct conf *c, const struct sockaddr *peer,
                              const char *identity);

/* ---- pass-phrase store (.pfs; also the client's -k file) ---- */

struct conf_key {
    char identity[CONF_IDENTITY_MAX + 1];
    uint8_t *pf; /* pass-phrase octets, wiped on free */
    size_t pf_len;
};

struct conf_keys {
    struct conf_key *v;
    size_t n;
};

/* Empty store. */
void conf_keys_init(struct conf_keys *k);

/* Add every "identity hex-pass-phrase" line of path. Returns 0, LP_E_NOTFOUND (no file),
 * LP_E_IO, LP_E_NOMEM, or LP_E_SYNTAX with err = "path:line: message"; on error the store
 * is emptied. */
int conf_keys_load_file(struct conf_keys *k, const char *path, char *err, size_t errlen);

/* Copy identity's pass-phrase into out: returns its length, LP_E_NOTFOUND, or LP_E_LEN
 * when outlen is too small. */
int conf_keys_lookup(const struct conf_keys *k, const char *identity, uint8_t *out, size_t outlen);

/* True when identity is in the store. */
bool conf_keys_has(const struct conf_keys *k, const char *identity);

/* Wipe (sodium_memzero) and free every pass-phrase; leaves an empty store. */
void conf_keys_free(struct conf_keys *k);

/* ---- limits (.limits) ---- */

/* Bits of conf_class.set: limits written on the class's own line. */
#define CONF_LIM_BANDWIDTH 0x01u
#define CONF_LIM_DISK 0x02u
#define CONF_LIM_DELETE_ON_FETCH 0x04u
#define CONF_LIM_ALLOW_OPEN_MODE 0x08u
#define CONF_LIM_TEST_SESSIONS 0x10u

/* A limit class with its effective values (unset ones inherited from the parent, else the
 * reference defaults). Integer limits of 0 mean "no limit at this level": a session must
 * also fit every ancestor (conf_limits_parent). */
struct conf_class {
    char name[CONF_CLASS_NAME_MAX + 1];
    int parent;             /* index into conf_limits.classes; -1 for the root */
    uint64_t bandwidth_bps; /* bits per second */
    uint64_t disk_bytes;
    uint64_t test_sessions; /* per control connection */
    bool delete_on_fetch;   /* default off */
    bool allow_open_mode;   /* default on */
    unsigned set;           /* CONF_LIM_* given explicitly */
};

enum conf_assign_kind { CONF_ASSIGN_DEFAULT, CONF_ASSIGN_NET, CONF_ASSIGN_USER };

struct conf_assign {
    enum conf_assign_kind kind;
    struct addr_cidr net;             /* CONF_ASSIGN_NET */
    char user[CONF_IDENTITY_MAX + 1]; /* CONF_ASSIGN_USER */
    size_t class_idx;
};

struct conf_limits {
    struct conf_class *classes; /* classes[0] is the root */
    size_t nclasses;
    struct conf_assign *assigns;
    size_t nassigns;
    size_t default_idx; /* "assign default", else the root */
    bool implicit;      /* only the built-in unlimited "default" class */
};

/* Limits of a daemon without a limits file: one unlimited class "default", open mode
 * allowed. Returns 0 or LP_E_NOMEM. */
int conf_limits_init(struct conf_limits *l);

/* Replace l (initialised) with the classes and assignments of path; a file without
 * "limit" lines gives the built-in "default" class. keys, when not NULL, must hold every
 * "assign user" identity (as the reference requires). Returns 0, LP_E_NOTFOUND (no file),
 * LP_E_IO, LP_E_NOMEM, or LP_E_SYNTAX with err = "path:line: message"; on error l is
 * unchanged. */
int conf_limits_load_file(struct conf_limits *l, const char *path, const struct conf_keys *keys,
                          char *err, size_t errlen);

/* The class for a connection: "assign user" for identity (NULL in open mode), else a class
 * named like identity, else the longest "assign net" prefix holding peer (may be NULL),
 * else the default. NULL only after conf_limits_free. */
const struct conf_class *conf_limits_class_for(const struct conf_limits *l,
                                               const struct sockaddr *peer, const char *identity);

/* Parent of cls, NULL for the root. */
const struct conf_class *conf_limits_parent(const struct conf_limits *l,
                                            const struct conf_class *cls);

/* Class by exact name, or NULL. */
const struct conf_class *conf_limits_find(const struct conf_limits *l, const char *name);

/* Free everything; l is left empty. */
void conf_limits_free(struct conf_limits *l);

/* ---- configuration directory ---- */

#define CONF_DIR_REQUIRE_CONF 0x1u /* missing <proto>-server.conf is an error (owampd -c) */

/* Read <dir>/<proto>-server.conf, .pfs and .limits (proto "owamp" or "twamp"); a missing
 * file means defaults (the .conf only without CONF_DIR_REQUIRE_CONF). c, keys and l are
 * initialised here; on error keys and l are left empty (freeing them is still safe).
 * Returns 0, LP_E_VALUE (bad proto), or the first file's error with err =
 * "path[:line]: message". */
int conf_dir_load(const char *dir, const char *proto, unsigned flags, struct conf *c,
                  struct conf_keys *keys, struct conf_limits *l, char *err, size_t errlen);

#endif
