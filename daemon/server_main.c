/* server_main.c - daemon start-up: options and configuration, listening sockets, the light
 * reflector, privileges, pid file, signals, then the loop. */
#include "server_int.h"

#include <bsd/libutil.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addr.h"

enum { OPT_LIGHT = 256, OPT_EGRESS };

/* One command-line setting, applied after the configuration files. */
struct cli_set {
    const char *key;
    const char *value;
};

static void usage(const struct srv_ops *ops, FILE *f)
{
    fprintf(f,
            "usage: %s [options]\n\n"
            "%s server (%s), default port %s.\n\n"
            "  -a MODES        modes offered: A(uthenticated) E(ncrypted) O(pen)%s\n"
            "  -c DIR          configuration directory (%s-server.conf, .limits, .pfs)\n"
            "  -d DIR          data directory\n"
            "  -e FACILITY     syslog facility (default daemon)\n"
            "  -f              allow running as root without -U\n"
            "  -G GROUP        group to run as\n"
            "  -n              check the configuration, limits and key files, then exit\n"
            "  -P LO-HI        UDP port range for test sessions (0 = any)\n"
            "  -R DIR          directory of the pid file\n"
            "  -S ADDR[:PORT]  address to listen on ([v6]:port for IPv6)\n"
            "  -U USER         user to run as\n"
            "  -v              verbose logging\n"
            "  -Z              stay in the foreground, log to stderr\n",
            ops->name, ops->proto == WIRE_OWAMP ? "OWAMP (RFC 4656)" : "TWAMP (RFC 5357)",
            ops->name, ops->default_port, ops->proto == WIRE_TWAMP ? " M(ixed)" : "",
            ops->conf_name);
    if (ops->proto == WIRE_TWAMP) {
        fprintf(f, "      --light [ADDR:]PORT  also run a TWAMP Light / STAMP reflector\n");
    }
    fprintf(f, "      --egress-stamp IFACES  write send times at the egress of these interfaces\n"
               "                  (all, or names separated by commas; eBPF, needs root)\n");
    fprintf(f, "  -V, --version   print the version and exit\n"
               "  -h, --help      this help\n");
}

static const char *opt_key(int c)
{
    switch (c) {
    case 'a': return "authmode";
    case 'd': return "datadir";
    case 'e': return "facility";
    case 'f': return "rootfolly";
    case 'G': return "group";
    case 'P': return "testports";
    case 'R': return "vardir";
    case 'S': return "srcnode";
    case 'U': return "user";
    case 'v': return "verbose";
    case OPT_LIGHT: return "light";
    case OPT_EGRESS: return "egressstamp";
    default: return NULL;
    }
}

/* Parse argv; returns 0, 1 (help shown) or -1. */
static int parse_args(struct srv *s, int argc, char **argv, struct cli_set *set, int *nset)
{
    static const struct option lo[] = {
        {"light", required_argument, NULL, OPT_LIGHT},
        {"egress-stamp", required_argument, NULL, OPT_EGRESS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "a:c:d:e:fG:hnP:R:S:U:vVZ", lo, NULL)) != -1) {
        const char *key = opt_key(c);
        if (key) {
            set[(*nset)++] = (struct cli_set){key, optarg ? optarg : ""};
        } else if (c == 'c') {
            snprintf(s->confdir, sizeof(s->confdir), "%s", optarg);
        } else if (c == 'n') {
            s->check_only = true;
        } else if (c == 'Z') {
            s->foreground = true;
        } else if (c == 'h') {
            usage(s->ops, stdout);
            return 1;
        } else if (c == 'V') {
            printf("%s (owamp-tools) %s\n", s->ops->name, lp_version());
            return 1;
        } else {
            usage(s->ops, stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", s->ops->name, argv[optind]);
        return -1;
    }
    return 0;
}

static int load_config(struct srv *s, const struct cli_set *set, int nset)
{
    char err[512];
    const char *dir = s->confdir[0] ? s->confdir : ".";
    unsigned flags = s->confdir[0] ? CONF_DIR_REQUIRE_CONF : 0;
    if (conf_dir_load(dir, s->ops->conf_name, flags, &s->conf, &s->keys, &s->limits, err,
                      sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", s->ops->name, err);
        return -1;
    }
    for (int i = 0; i < nset; i++) {
        if (conf_set(&s->conf, set[i].key, set[i].value, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: option for %s: %s\n", s->ops->name, set[i].key, err);
            return -1;
        }
    }
    return 0;
}

/* Bind and listen on host:port; IPv6 wildcard accepts IPv4 too. Returns fd or -1. */
static int listen_on(struct srv *s, const char *host, const char *port, int family)
{
    struct addrinfo hints = {
        .ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        srv_log(s, LOG_ERR, "cannot resolve %s:%s: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (a->ai_family == AF_INET6 && !host[0]) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        }
        if (fd >= 0 && (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 128) < 0)) {
            srv_log(s, LOG_ERR, "cannot listen on %s:%s: %s", host[0] ? host : "*", port,
                    strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int open_listeners(struct srv *s)
{
    char host[CONF_PATH_MAX], port[64];
    if (addr_split(s->conf.srcnode, host, sizeof(host), port, sizeof(port), s->ops->default_port) <
        0) {
        srv_log(s, LOG_ERR, "bad listen address '%s'", s->conf.srcnode);
        return -1;
    }
    int fd = listen_on(s, host, port, host[0] ? AF_UNSPEC : AF_INET6);
    if (fd < 0 && !host[0]) {
        fd = listen_on(s, host, port, AF_INET);
    }
    if (fd < 0) {
        return -1;
    }
    s->listen_fd[s->nlisten++] = fd;
    srv_log(s, LOG_INFO, "listening on %s:%s", host[0] ? host : "*", port);
    return loop_add_fd(s->loop, fd, LOOP_READ, srv_on_accept, s);
}

/* The light reflectors' replies are stamped at the egress while no key is loaded: with a
 * key a reply may be an authenticated STAMP packet, whose timestamp is under its HMAC. */
static void light_egress(struct srv *s)
{
    for (int i = 0; i < s->nlight; i++) {
        if (s->keys.n > 0 && s->light_cookie[i] != 0) {
            struct egress_counts n;
            egress_remove(s->egress, s->light_cookie[i], &n);
            s->light_stamped[i] += n.stamped;
            s->light_cookie[i] = 0;
        } else if (s->keys.n == 0 && s->light_cookie[i] == 0 && s->egress) {
            egress_add(s->egress, light_fd(s->light[i]), &s->light_cookie[i]);
        }
    }
}

/* Verbose, at the end: how many replies of light reflector i left with the egress time. */
static void log_light(struct srv *s, int i)
{
    struct egress_counts n = {0};
    if (s->light_cookie[i] != 0) {
        egress_remove(s->egress, s->light_cookie[i], &n);
    }
    if (s->egress && s->conf.verbose) {
        srv_log(s, LOG_DEBUG,
                "light reflector %d: %" PRIu64
                " replies; send time written at the egress in %" PRIu64,
                i + 1, light_counters(s->light[i]).sent, s->light_stamped[i] + n.stamped);
    }
}

/* The STAMP reflectors authenticate with every pass-phrase of the key file. */
static int set_light_keys(struct srv *s)
{
    struct light_key keys[64];
    size_t n = 0;
    for (size_t i = 0; i < s->keys.n && n < LP_ARRAY_LEN(keys); i++) {
        keys[n++] = (struct light_key){s->keys.v[i].pf, s->keys.v[i].pf_len};
    }
    for (int i = 0; i < s->nlight; i++) {
        if (light_set_keys(s->light[i], keys, n) < 0) {
            return -1;
        }
    }
    light_egress(s);
    return 0;
}

/* One reflector on host (numeric, "" = wildcard of family) and port. */
static int add_light(struct srv *s, const char *host, uint16_t port, int family)
{
    struct sock_addr a;
    struct sock_udp u;
    if ((host[0] && sock_addr_parse(host, port, &a) < 0) ||
        sock_open_udp(family, host[0] ? &a : NULL, port, port, 0, &u) < 0) {
        srv_log(s, LOG_ERR, "cannot open light reflector on %s port %u: %s", host[0] ? host : "*",
                port, strerror(errno));
        return -1;
    }
    if (!(s->light[s->nlight] = light_create(s->loop, &u, NULL, 0, srv_scratch(s)))) {
        return -1;
    }
    light_set_idle(s->light[s->nlight], s->conf.lightidle_s);
    s->nlight++;
    srv_log(s, LOG_INFO, "TWAMP Light / STAMP reflector on %s port %u",
            host[0] ? host : (family == AF_INET6 ? "[::]" : "0.0.0.0"), port);
    return 0;
}

/* --light [ADDR:]PORT: a bare port (or an empty address) reflects on IPv4 and IPv6. */
static int open_light(struct srv *s)
{
    char host[CONF_PATH_MAX], port[64], spec[CONF_PATH_MAX + 2];
    if (!s->conf.light[0]) {
        return 0;
    }
    const char *l = s->conf.light;
    snprintf(spec, sizeof(spec), "%s%s", l[strspn(l, "0123456789")] ? "" : ":", l);
    if (addr_split(spec, host, sizeof(host), port, sizeof(port), "862") < 0 ||
        port[strspn(port, "0123456789")] != '\0' || atoi(port) < 1 || atoi(port) > 65535) {
        srv_log(s, LOG_ERR, "bad light reflector address '%s' (want [ADDR:]PORT)", l);
        return -1;
    }
    uint16_t p = (uint16_t)atoi(port);
    int rc = 0;
    if (host[0]) {
        rc = add_light(s, host, p, strchr(host, ':') ? AF_INET6 : AF_INET);
    } else {
        rc = add_light(s, "", p, AF_INET);
        if (rc == 0 && add_light(s, "", p, AF_INET6) < 0) {
            srv_log(s, LOG_WARNING, "no IPv6 light reflector: IPv4 only");
        }
    }
    return rc < 0 ? rc : set_light_keys(s);
}

/* Who the daemon becomes once its sockets are bound; decided before anything is opened. */
struct run_as {
    bool change; /* started as root with -U: switch to uid/gid */
    uid_t uid;
    gid_t gid;
};

/* As root, -U is required unless rootfolly (-f); when not root, -U/-G are not used. 0 or -1. */
static int resolve_run_as(struct srv *s, struct run_as *ra)
{
    *ra = (struct run_as){0};
    if (geteuid() != 0) {
        return 0;
    }
    if (!s->conf.user[0]) {
        if (s->conf.rootfolly) {
            return 0;
        }
        srv_log(s, LOG_ERR, "refusing to run as root: give -U user (or -f to insist)");
        return -1;
    }
    struct passwd *pw = getpwnam(s->conf.user);
    struct group *gr = s->conf.group[0] ? getgrnam(s->conf.group) : NULL;
    if (!pw || (s->conf.group[0] && !gr)) {
        srv_log(s, LOG_ERR, "unknown user or group '%s' '%s'", s->conf.user, s->conf.group);
        return -1;
    }
    *ra = (struct run_as){true, pw->pw_uid, gr ? gr->gr_gid : pw->pw_gid};
    return 0;
}

/* Empty the capability bounding set (needs CAP_SETPCAP, so only as root). */
static int drop_bounding_set(void)
{
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Clear the permitted, effective and inheritable sets, and with them the ambient set (e.g.
 * systemd's AmbientCapabilities=CAP_NET_BIND_SERVICE, needed only to bind the control
 * port); then no exec can give privileges back. */
static int drop_capabilities(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) < 0) {
        return -1;
    }
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* After binding: become ra's user and group, then keep no capability at all. Test sockets
 * are opened later, so testports must be >= 1024. */
static int drop_privileges(struct srv *s, const struct run_as *ra)
{
    if (ra->change &&
        (drop_bounding_set() < 0 || setgroups(1, &ra->gid) < 0 ||
         setresgid(ra->gid, ra->gid, ra->gid) < 0 || setresuid(ra->uid, ra->uid, ra->uid) < 0)) {
        srv_log(s, LOG_ERR, "cannot drop privileges: %s", strerror(errno));
        return -1;
    }
    if (geteuid() != 0 && drop_capabilities() < 0) {
        srv_log(s, LOG_ERR, "cannot drop capabilities: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void on_stop(struct loop *loop, int signo, void *arg)
{
    struct srv *s = arg;
    srv_log(s, LOG_INFO, "signal %d: shutting down", signo);
    loop_stop(loop);
}

/* SIGHUP: reload keys and limits; running sessions keep going. */
static void on_reload(struct loop *loop, int signo, void *arg)
{
    struct srv *s = arg;
    struct conf c;
    struct conf_keys k;
    struct conf_limits l;
    char err[512];
    (void)loop;
    (void)signo;
    const char *dir = s->confdir[0] ? s->confdir : ".";
    if (conf_dir_load(dir, s->ops->conf_name, 0, &c, &k, &l, err, sizeof(err)) < 0) {
        srv_log(s, LOG_ERR, "reload failed, keeping the old keys and limits: %s", err);
        conf_keys_free(&k);
        conf_limits_free(&l);
        return;
    }
    conf_keys_free(&s->keys);
    conf_limits_free(&s->limits);
    s->keys = k;
    s->limits = l;
    set_light_keys(s);
    srv_log(s, LOG_INFO, "reloaded keys and limits");
}

/* egressstamp: the program attached while privileged; a start that asked for it and cannot
 * have it fails, rather than measure less precisely than the operator was told. */
static int open_egress(struct srv *s)
{
    char msg[512];
    if (!s->conf.egressstamp[0]) {
        return 0;
    }
    /* The filter's handle: "ow" or "tw", then 16 bits of the listening address, so that a
     * restart of the same daemon replaces what it left and another one adds its own. */
    uint32_t h = 2166136261u;
    for (const char *p = s->conf.srcnode; *p; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    uint32_t handle =
        (s->ops->proto == WIRE_OWAMP ? 0x6f770000u : 0x74770000u) | ((h ^ (h >> 16)) & 0xffffu);
    if (!(s->egress = egress_open(s->conf.egressstamp, handle, msg, sizeof(msg)))) {
        srv_log(s, LOG_ERR, "egressstamp %s: %s", s->conf.egressstamp, msg);
        return -1;
    }
    srv_log(s, LOG_INFO, "send times of unauthenticated test packets written at the egress %s",
            msg);
    light_egress(s);
    return 0;
}

/* Detach the egress program; say where it had to stay (privileges dropped). */
static void close_egress(struct srv *s)
{
    char left[512];
    if (!s->egress) {
        return;
    }
    egress_close(s->egress, left, sizeof(left));
    s->egress = NULL;
    if (left[0]) {
        srv_log(s, LOG_INFO, "egress filter left on %s (harmless, replaced at the next start)",
                left);
    }
}

static int write_pidfile(struct srv *s, struct pidfh **pfh)
{
    char path[CONF_PATH_MAX + 32];
    pid_t other;
    snprintf(path, sizeof(path), "%s/%s.pid", s->conf.vardir[0] ? s->conf.vardir : ".",
             s->ops->name);
    *pfh = pidfile_open(path, 0644, &other);
    if (!*pfh) {
        if (errno == EEXIST) {
            srv_log(s, LOG_ERR, "already running as pid %d (%s)", (int)other, path);
        } else {
            srv_log(s, LOG_ERR, "cannot create pid file %s: %s", path, strerror(errno));
        }
        return -1;
    }
    return 0;
}

/* The pid file is claimed first, so a second instance stops there with a clear message
 * before it touches any port; sockets are bound while privileged; privileges go; only then
 * does the daemon detach, so every start-up error gives a non-zero exit status. */
static int serve(struct srv *s)
{
    struct pidfh *pfh = NULL;
    struct run_as ra;
    if (resolve_run_as(s, &ra) < 0 || write_pidfile(s, &pfh) < 0) {
        return 1;
    }
    if (open_listeners(s) < 0 || open_light(s) < 0 || open_egress(s) < 0 ||
        drop_privileges(s, &ra) < 0) {
        close_egress(s);
        pidfile_remove(pfh);
        return 1;
    }
    if (!s->foreground && daemon(0, 0) < 0) {
        srv_log(s, LOG_ERR, "cannot detach: %s", strerror(errno));
        pidfile_remove(pfh);
        return 1;
    }
    pidfile_write(pfh);
    loop_add_signal(s->loop, SIGTERM, on_stop, s);
    loop_add_signal(s->loop, SIGINT, on_stop, s);
    loop_add_signal(s->loop, SIGHUP, on_reload, s);
    signal(SIGPIPE, SIG_IGN);
    struct clk_state st;
    if (clk_state_read(&st) == 0 && !st.synced) {
        srv_log(
            s, LOG_WARNING,
            "system clock is not synchronised (NTP/PTP): one-way results will be marked unsync");
    }
    int rc = loop_run(s->loop);
    srv_close_all(s);
    for (int i = 0; i < s->nlight; i++) {
        log_light(s, i);
        light_destroy(s->light[i]);
    }
    close_egress(s);
    pidfile_remove(pfh);
    return rc < 0 ? 1 : 0;
}

int srv_main(int argc, char **argv, const struct srv_ops *ops)
{
    static struct srv s;
    struct cli_set set[64];
    int nset = 0;
    s.ops = ops;
    int rc = parse_args(&s, argc, argv, set, &nset);
    if (rc != 0) {
        return rc > 0 ? 0 : 1;
    }
    if (cry_init() < 0 || load_config(&s, set, nset) < 0) {
        return 1;
    }
    if (s.check_only) {
        printf("%s: configuration OK (%zu keys, %zu limit classes)\n", ops->name, s.keys.n,
               s.limits.nclasses);
        return 0;
    }
    if (!s.foreground) {
        openlog(ops->name, LOG_PID | LOG_PERROR, s.conf.facility); /* stderr too, until detached */
    }
    s.start_time = clk_to_ntp(clk_now());
    s.loop = loop_create();
    if (!s.loop) {
        return 1;
    }
    rc = serve(&s);
    loop_destroy(s.loop);
    sess_scratch_destroy(s.scratch);
    conf_keys_free(&s.keys);
    conf_limits_free(&s.limits);
    return rc;
}
