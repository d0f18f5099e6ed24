/* client.c - what OWAMP and TWAMP runs share: the loop helpers, connection set-up with mode
 * choice and authentication, pass-phrases, test sockets and schedules. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <bsd/readpassphrase.h>

#include "addr.h"
#include "conf.h"
#include "sched.h"

#include "client.h"

/* Whether a signal stops the loop now. */
static bool app_stopped(const struct app *a)
{
    return a->interrupted && !a->grace;
}

int app_step(struct app *a, int64_t deadline_mono)
{
    if (app_stopped(a)) {
        return -1;
    }
    int64_t left = deadline_mono - loop_mono_ns();
    if (left <= 0) {
        return 0;
    }
    int64_t ms = (left + 999999) / 1000000;
    if (loop_run_once(a->loop, ms > 1000 ? 1000 : (int)ms) < 0) {
        fprintf(stderr, "%s: event loop failure: %s\n", a->o->prog, strerror(errno));
        return -1;
    }
    return app_stopped(a) ? -1 : 1;
}

bool app_sleep_until(struct app *a, int64_t deadline_mono)
{
    int rc;
    while ((rc = app_step(a, deadline_mono)) > 0) {
    }
    return rc == 0;
}

void app_drain(struct app *a)
{
    loop_run_once(a->loop, 0);
}

int64_t app_mono_at(struct clk_time t)
{
    return loop_mono_ns() + (t.ns - clk_now().ns);
}

void ping_addr_str(const struct sock_addr *a, char host[PING_ADDR_STRLEN],
                   char port[PING_PORT_STRLEN])
{
    if (getnameinfo((const struct sockaddr *)&a->ss, a->len, host, PING_ADDR_STRLEN, NULL, 0,
                    NI_NUMERICHOST) != 0) {
        snprintf(host, PING_ADDR_STRLEN, "***");
    }
    snprintf(port, PING_PORT_STRLEN, "%u", (unsigned)sock_addr_port(a));
}

const char *ping_accept_str(uint8_t accept)
{
    switch (accept) {
    case WIRE_ACCEPT_OK: return "accepted";
    case WIRE_ACCEPT_FAILURE: return "failure, reason unspecified";
    case WIRE_ACCEPT_INTERNAL: return "internal error";
    case WIRE_ACCEPT_UNSUPPORTED: return "some aspect of the request is not supported";
    case WIRE_ACCEPT_PERM_LIMIT:
        return "cannot perform the request due to permanent resource limitations";
    case WIRE_ACCEPT_TEMP_LIMIT:
        return "cannot perform the request due to temporary resource limitations";
    default: return "reserved Accept value";
    }
}

static int pass_from_file(const struct opts *o, uint8_t *out, size_t cap)
{
    struct conf_keys keys;
    char err[256] = "";
    conf_keys_init(&keys);
    int rc = conf_keys_load_file(&keys, o->keyfile, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "%s: cannot read key file %s: %s\n", o->prog, o->keyfile,
                err[0] ? err : lp_strerror(rc));
        return -1;
    }
    rc = conf_keys_lookup(&keys, o->identity, out, cap);
    conf_keys_free(&keys);
    if (rc < 0) {
        fprintf(stderr, "%s: identity '%s' is not in %s\n", o->prog, o->identity, o->keyfile);
        return -1;
    }
    return rc;
}

int ping_passphrase(const struct opts *o, uint8_t *out, size_t cap)
{
    if (!o->identity) {
        fprintf(stderr, "%s: this mode needs an identity (-u)\n", o->prog);
        return -1;
    }
    if (o->keyfile) {
        return pass_from_file(o, out, cap);
    }
    char prompt[128];
    sigset_t sigs, old;
    snprintf(prompt, sizeof(prompt), "Enter passphrase for identity '%s': ", o->identity);
    /* the loop blocks SIGINT/SIGTERM; let ^C at the prompt work as usual */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &sigs, &old);
    char *p = readpassphrase(prompt, (char *)out, cap, RPP_REQUIRE_TTY);
    int err = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!p) {
        fprintf(stderr, "%s: no pass-phrase: give -k FILE or run on a terminal (%s)\n", o->prog,
                strerror(err));
        return -1;
    }
    return (int)strlen((const char *)out);
}

int ping_open_test_socket(const struct opts *o, const struct sock_addr *local, unsigned flags,
                          struct sock_udp *out)
{
    if (sock_open_udp(local->ss.ss_family, local, o->port_lo, o->port_hi, flags, out) < 0) {
        fprintf(stderr, "%s: cannot open a test socket: %s\n", o->prog,
                errno == EADDRINUSE ? "no free port in the -P range" : strerror(errno));
        return -1;
    }
    if (o->bind_dev && setsockopt(out->fd, SOL_SOCKET, SO_BINDTODEVICE, o->bind_dev,
                                  (socklen_t)strlen(o->bind_dev) + 1) < 0) {
        fprintf(stderr, "%s: cannot bind to device %s: %s\n", o->prog, o->bind_dev,
                strerror(errno));
        sock_close_udp(out);
        return -1;
    }
    sock_hw_auto(out, local, o->bind_dev, flags, NULL); /* as the daemons do */
    if (o->verbose && out->ts.note[0]) {
        fprintf(stderr, "%s: test timestamps: %s\n", o->prog, out->ts.note);
    }
    return 0;
}

struct clk_ntp ping_start_time(const struct opts *o, int64_t rtt_ns)
{
    int64_t delay = 3 * rtt_ns + PING_START_SLACK_NS;
    delay = o->start_delay_ns > delay ? o->start_delay_ns : delay;
    return clk_to_ntp((struct clk_time){clk_now().ns + delay});
}

uint32_t ping_slots(const struct opts *o, struct wire_slot *slots)
{
    for (unsigned i = 0; i < o->nslots; i++) {
        slots[i].type = o->slots[i].exponential ? WIRE_SLOT_EXP : WIRE_SLOT_FIXED;
        slots[i].param = clk_ns_to_ntp_duration(o->slots[i].interval_ns);
    }
    return o->nslots;
}

struct clk_time ping_last_send(const struct wire_slot *slots, uint32_t nslots,
                               const uint8_t sid[WIRE_SID_LEN], uint32_t npackets,
                               struct clk_ntp start)
{
    uint64_t first, last;
    if (sched_span(slots, nslots, sid, npackets, &first, &last) < 0) {
        return clk_from_ntp(start);
    }
    return sched_send_time(start, last);
}

/* TWAMP feature bits (Mode of the Set-Up-Response) and how the refusal names them. */
static const struct {
    uint32_t bit;
    const char *name;
} ping_features[] = {
    {WIRE_MODE_INDIV_CTRL, "individual session control (RFC 5938)"},
    {WIRE_MODE_REFLECT_OCTETS, "reflect octets (RFC 6038)"},
    {WIRE_MODE_DSCP_ECN, "DSCP and ECN monitoring (RFC 7750)"},
    {WIRE_MODE_PTP, "PTP timestamps (RFC 8186)"},
};

/* The feature bits the options ask for (TWAMP over TWAMP-Control only). */
static uint32_t wanted_features(const struct opts *o)
{
    if (o->proto != OPTS_TWAMP || o->light != OPTS_FULL) {
        return 0;
    }
    return (o->individual ? WIRE_MODE_INDIV_CTRL : 0u) |
           (o->reflect_octets >= 0 ? WIRE_MODE_REFLECT_OCTETS : 0u) |
           (o->dscp_ecn ? WIRE_MODE_DSCP_ECN : 0u) | (o->ptp ? WIRE_MODE_PTP : 0u);
}

/* 0 when the greeting offers every feature in want, else -1 naming the first one missing. */
static int check_features(const struct opts *o, uint32_t offered, uint32_t want)
{
    for (size_t i = 0; i < sizeof(ping_features) / sizeof(ping_features[0]); i++) {
        if ((want & ping_features[i].bit) && !(offered & ping_features[i].bit)) {
            fprintf(stderr, "%s: server does not offer %s\n", o->prog, ping_features[i].name);
            return -1;
        }
    }
    return 0;
}

/* Choose the mode and authenticate; the Server-Start decides. 0 or -1 (printed). */
static int authenticate(struct app *a, struct conn *c, const struct wire_greeting *g,
                        uint32_t *mode)
{
    const struct opts *o = a->o;
    uint32_t want = o->identity ? o->modes : (o->modes & WIRE_MODE_OPEN);
    uint32_t features = wanted_features(o);
    uint8_t pass[CONF_PASSPHRASE_MAX];
    int passlen = 0;
    struct ctrl_event ev;
    if (check_features(o, g->modes, features) < 0) {
        return -1;
    }
    if (!(*mode = ctrl_choose_mode(g->modes, want))) {
        fprintf(stderr, "%s: no common mode with server (server offers%s%s%s%s%s)\n", o->prog,
                g->modes & WIRE_MODE_OPEN ? " open" : "",
                g->modes & WIRE_MODE_AUTH ? " authenticated" : "",
                g->modes & WIRE_MODE_ENC ? " encrypted" : "",
                g->modes & WIRE_MODE_MIXED ? " mixed" : "",
                g->modes & WIRE_MODE_SECURITY ? "" : " nothing");
        return -1;
    }
    if (*mode != WIRE_MODE_OPEN && (passlen = ping_passphrase(o, pass, sizeof(pass))) < 0) {
        return -1;
    }
    bool open = *mode == WIRE_MODE_OPEN;
    *mode |= features;
    int rc = ctrl_client_setup(c->ctrl, *mode, open ? NULL : o->identity, pass, (size_t)passlen);
    cry_wipe(pass, sizeof(pass));
    if (rc < 0) {
        fprintf(stderr, "%s: cannot set up the connection: %s\n", o->prog, lp_strerror(rc));
        return -1;
    }
    if (conn_flush(c) < 0) {
        return -1;
    }
    /* a server may close at once instead of sending Server-Start with Accept 1 */
    rc = c->eof ? -1 : conn_poll_event(c, loop_mono_ns() + PING_CTRL_WAIT_NS, &ev);
    if (rc == 0) {
        fprintf(stderr, "%s: timed out waiting for Server-Start from the server\n", o->prog);
        return -1;
    }
    if ((rc < 0 && !c->eof) || (rc > 0 && ev.type != CTRL_EV_SERVER_START)) {
        if (rc > 0) {
            fprintf(stderr, "%s: protocol error while waiting for Server-Start\n", o->prog);
        }
        return -1;
    }
    if (rc < 0 || ev.u.server_start.accept != WIRE_ACCEPT_OK) {
        fprintf(stderr,
                "%s: server denied access (wrong identity or pass-phrase, or mode refused)\n",
                o->prog);
        return -1;
    }
    return 0;
}

int ping_setup(struct app *a, struct conn *c, const char *target, enum wire_proto proto, char *host,
               size_t hostlen, uint32_t *mode)
{
    char port[32];
    struct ctrl_event ev;
    int rc =
        addr_split(target, host, hostlen, port, sizeof(port), proto == WIRE_OWAMP ? "861" : "862");
    if (rc < 0 || host[0] == '\0') {
        fprintf(stderr, "%s: bad target '%s'\n", a->o->prog, target);
        return -1;
    }
    if (conn_open(c, a, host, port, proto, &ev) < 0) {
        return -1;
    }
    return authenticate(a, c, &ev.u.greeting, mode);
}

void ping_rt_setup(struct app *a)
{
    const struct sched_param sp = {.sched_priority = 10};
    if (!a->o->rt || a->rt_tried) {
        return;
    }
    a->rt_tried = true;
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
        fprintf(stderr,
                "%s: --rt: real-time scheduling not permitted (%s): using normal scheduling\n",
                a->o->prog, strerror(errno));
        return;
    }
    a->rt = true;
    mlockall(MCL_CURRENT | MCL_FUTURE); /* best effort: page faults only cost precision */
}

int64_t ping_spin_ns(const struct app *a)
{
    /* a SCHED_FIFO thread that spins can starve the machine: never both */
    return a->rt ? 0 : PING_SPIN_NS;
}
