/* light.c - twping --light / --stamp: a Session-Sender without a control connection, toward
 * a TWAMP Light (RFC 5357 Appendix I) or STAMP (RFC 8762) reflector. TWAMP Light is
 * unauthenticated only (no control connection, no keys); STAMP may be authenticated with the
 * -u identity's pass-phrase as the HMAC-SHA-256 key (-A A -u ID -k FILE). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"

#include "client.h"
#include "out.h"

#define LIGHT_START_NS 1000000 /* schedule start 1 ms after the socket is ready (or -z) */

struct light_run {
    struct app *a;
    const struct opts *o;
    char host[256];
    struct sock_addr local, peer;
    uint32_t mode;
    uint8_t key[CONF_PASSPHRASE_MAX];
    int keylen;
    struct wire_slot slots[OPTS_MAX_SLOTS];
    uint32_t padding;
    int64_t loss_ns;
    struct sess *sess;
    int64_t end_mono; /* CLOCK_MONOTONIC end of the wait, fixed at start */
    bool started, sent;
    uint8_t sid[WIRE_SID_LEN];
};

static void on_sent(struct sess *s, void *arg)
{
    (void)s;
    *(bool *)arg = true;
}

/* The reflector's address (UDP), first of the -4/-6 family. 0 or -1 (printed). */
static int resolve(struct light_run *r, const char *target)
{
    char port[32];
    struct addrinfo hints = {.ai_family = r->o->family, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *res = NULL;
    if (addr_split(target, r->host, sizeof(r->host), port, sizeof(port), "862") < 0 ||
        r->host[0] == '\0') {
        fprintf(stderr, "%s: bad target '%s'\n", r->o->prog, target);
        return -1;
    }
    int rc = getaddrinfo(r->host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot resolve %s: %s\n", r->o->prog, r->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&r->peer.ss, res->ai_addr, res->ai_addrlen);
    r->peer.len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Local test address: -S, else the wildcard of the reflector's family. */
static int local_addr(struct light_run *r)
{
    memset(&r->local, 0, sizeof(r->local));
    if (r->o->srcaddr) {
        if (sock_addr_parse(r->o->srcaddr, 0, &r->local) < 0 ||
            r->local.ss.ss_family != r->peer.ss.ss_family) {
            fprintf(stderr, "%s: -S %s is not a numeric address of the reflector's family\n",
                    r->o->prog, r->o->srcaddr);
            return -1;
        }
        return 0;
    }
    /* the address the kernel would pick as source toward the reflector */
    int fd = socket(r->peer.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    r->local.len = sizeof(r->local.ss);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&r->peer.ss, r->peer.len) < 0 ||
        getsockname(fd, (struct sockaddr *)&r->local.ss, &r->local.len) < 0) {
        fprintf(stderr, "%s: no route to %s: %s\n", r->o->prog, r->host, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    close(fd);
    return 0;
}

/* Mode and key: open, or STAMP authenticated with -u/-k and A in -A. */
static int choose_mode(struct light_run *r)
{
    const struct opts *o = r->o;
    bool auth = o->light == OPTS_STAMP && o->identity && (o->modes & WIRE_MODE_AUTH);
    if (auth) {
        r->mode = WIRE_MODE_AUTH;
        r->keylen = ping_passphrase(o, r->key, sizeof(r->key));
        return r->keylen < 0 ? -1 : 0;
    }
    if (!(o->modes & WIRE_MODE_OPEN)) {
        fprintf(stderr, "%s: %s supports only %s\n", o->prog,
                o->light == OPTS_STAMP ? "--stamp" : "--light",
                o->light == OPTS_STAMP ? "open mode, or authenticated with -A A -u ID -k FILE"
                                       : "open mode (no control connection, no keys)");
        return -1;
    }
    r->mode = WIRE_MODE_OPEN;
    return 0;
}

static int create_session(struct light_run *r)
{
    const struct opts *o = r->o;
    struct sock_udp sock;
    struct sess_config cfg;
    if (ping_open_test_socket(o, &r->local, SOCK_F_TX_TSTAMP, &sock) < 0) {
        return -1;
    }
    sock_addr_set_port(&r->local, sock.port);
    cry_random(r->sid, sizeof(r->sid));
    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = SESS_TW_SENDER;
    cfg.fmt = o->light == OPTS_STAMP ? SESS_FMT_STAMP : SESS_FMT_TWAMP;
    cfg.refl_may_copy = true; /* a stateless reflector echoes our numbers */
    cfg.mode = r->mode;
    if (r->mode == WIRE_MODE_AUTH) {
        cfg.stamp_key = r->key;
        cfg.stamp_key_len = (size_t)r->keylen;
    }
    memcpy(cfg.sid, r->sid, WIRE_SID_LEN);
    cry_random(&cfg.ssid, sizeof(cfg.ssid));
    cfg.peer = r->peer;
    cfg.npackets = o->count;
    cfg.padding = r->padding;
    cfg.zero_padding = o->zero_padding;
    cfg.tos = o->dscp >= 0 ? o->dscp << 2 : -1;
    cfg.slots = r->slots;
    cfg.nslots = ping_slots(o, r->slots);
    int64_t delay = o->start_delay_ns > LIGHT_START_NS ? o->start_delay_ns : LIGHT_START_NS;
    cfg.start = clk_to_ntp((struct clk_time){clk_now().ns + delay});
    cfg.spin_ns = ping_spin_ns(r->a);
    if (!(r->sess = sess_create(r->a->loop, &sock, &cfg))) {
        fprintf(stderr, "%s: cannot create the test session\n", o->prog);
        return -1;
    }
    out_watch_session(r->o, r->sess);
    sess_on_sent(r->sess, on_sent, &r->sent);
    if (sess_start(r->sess) < 0) {
        fprintf(stderr, "%s: cannot start the test session\n", o->prog);
        return -1;
    }
    r->started = true;
    /* fixed now, in monotonic time: a wall-clock step during the session cannot shorten it */
    r->end_mono = app_mono_at((struct clk_time){sess_last_send_time(r->sess).ns + r->loss_ns});
    return 0;
}

/* Wait until the last packet left, then until every packet has its reply: at most until the
 * end fixed at start (the loss timeout after the last scheduled packet), and the loss timeout
 * after the actual last one; then -E. Replies already queued are read before anything
 * counts lost. */
static int wait_end(struct light_run *r)
{
    int64_t hard = r->end_mono + PING_CTRL_WAIT_NS;
    int rc = 1;
    out_eta(r->o, (double)(r->end_mono - loop_mono_ns()) / 1e9);
    while (!r->sent && (rc = app_step(r->a, hard)) > 0) {
    }
    if (rc <= 0) {
        if (rc == 0) {
            fprintf(stderr, "%s: the test session did not finish in time\n", r->o->prog);
        }
        return -1;
    }
    int64_t after_last = loop_mono_ns() + r->loss_ns;
    int64_t end = after_last > r->end_mono ? after_last : r->end_mono;
    while (!sess_all_in(r->sess) && (rc = app_step(r->a, end)) > 0) {
    }
    if (rc < 0 || !app_sleep_until(r->a, loop_mono_ns() + r->o->enddelay_ns)) {
        return -1;
    }
    app_drain(r->a);
    return 0;
}

static int run(struct light_run *r, const char *target)
{
    const struct opts *o = r->o;
    r->loss_ns = o->loss_timeout_ns >= 0 ? o->loss_timeout_ns : 2000000000;
    /* TWAMP Light: pad the sender packet to the reflected size, as over TWAMP-Control */
    r->padding =
        o->padding + (o->light == OPTS_LIGHT ? WIRE_REFLECTOR_OPEN_LEN - WIRE_SENDER_OPEN_LEN : 0);
    if (resolve(r, target) < 0 || local_addr(r) < 0 || choose_mode(r) < 0 ||
        create_session(r) < 0 || wait_end(r) < 0) {
        return -1;
    }
    sess_stop(r->sess);
    return 0;
}

/* Report the session (partial unless ok). 0 or -1 (printed). */
static int report(struct light_run *r, bool ok)
{
    struct tw_done t = {.sess = r->sess,
                        .sid = r->sid,
                        .local = &r->local,
                        .peer = &r->peer,
                        .host = r->host,
                        .loss_ns = r->loss_ns,
                        .padding = r->padding,
                        .mode = r->mode,
                        .reflect_octets = -1,
                        .sent_tos = -1};
    return out_tw_session(r->o, &t, ok);
}

int ping_light(struct app *a, const char *target)
{
    struct light_run r;
    memset(&r, 0, sizeof(r));
    r.a = a;
    r.o = a->o;
    ping_rt_setup(a);
    bool ok = run(&r, target) == 0;
    int rc = r.started ? report(&r, ok) : 0;
    if (r.sess) {
        sess_destroy(r.sess);
    }
    cry_wipe(r.key, sizeof(r.key));
    return ok && rc == 0 ? 0 : 1;
}
