/* out_check.c - --check: a doctor for one target, in plain words, one line per question:
 * is the local clock synchronised and how well; does the control port answer and with which
 * modes; do test packets get through (a 10-packet session each way the options ask for);
 * which timestamps the test sockets get, and whether the outgoing interface could stamp in
 * hardware. Each line says ok, warning or FAILED; the exit status is 0 when all are ok, 1
 * with a warning, 2 with a failure. */
#include <ifaddrs.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "addr.h"

#include "out.h"

static const char *const verdict[] = {"ok", "warning", "FAILED"};

static void say(const char *what, int level, const char *text)
{
    printf("%-11s %-8s %s\n", what, verdict[level], text);
    fflush(stdout);
}

/* The last line a step wrote on stderr (captured), or fallback. */
static const char *last_message(struct json_object *msgs, const char *fallback)
{
    size_t n = json_object_array_length(msgs);
    return n ? json_object_get_string(json_object_array_get_idx(msgs, n - 1)) : fallback;
}

static int check_clock(void)
{
    struct clk_state st;
    char text[256];
    if (clk_state_read(&st) < 0) {
        say("clock:", 1, "cannot read the kernel clock state (ntp_adjtime)");
        return 1;
    }
    if (!st.synced) {
        say("clock:", 1,
            "NOT synchronised (no NTP/PTP discipline): one-way delays are marked unsync; round "
            "trips are still right");
        return 1;
    }
    snprintf(text, sizeof(text), "synchronised, estimated error %.3f ms, maximum error %.3f ms",
             (double)st.esterror_ns / 1e6, (double)st.maxerror_ns / 1e6);
    say("clock:", 0, text);
    return 0;
}

static void modes_text(uint32_t m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s%s", m & WIRE_MODE_OPEN ? " open" : "",
             m & WIRE_MODE_AUTH ? " authenticated" : "", m & WIRE_MODE_ENC ? " encrypted" : "",
             m & WIRE_MODE_MIXED ? " mixed" : "");
}

static int check_control(const struct opts *o, struct app *a)
{
    char host[256], port[32], text[512], modes[64];
    struct conn c;
    struct ctrl_event ev;
    struct out_capture cap;
    struct json_object *msgs = json_object_new_array();
    enum wire_proto proto = o->proto == OPTS_TWAMP ? WIRE_TWAMP : WIRE_OWAMP;
    if (o->light != OPTS_FULL) {
        say("control:", 0, "none needed (--light / --stamp: no control connection)");
        json_object_put(msgs);
        return 0;
    }
    if (addr_split(o->targets[0], host, sizeof(host), port, sizeof(port),
                   proto == WIRE_OWAMP ? "861" : "862") < 0) {
        say("control:", 2, "bad target");
        json_object_put(msgs);
        return 2;
    }
    out_capture_begin(&cap, 2);
    int rc = conn_open(&c, a, host, port, proto, &ev);
    cap.keep = true; /* the reason goes into the line below */
    out_capture_end(&cap, 2, msgs);
    if (rc < 0) {
        snprintf(text, sizeof(text), "%s:%s does not answer: %s", host, port,
                 last_message(msgs, "no Server-Greeting"));
    } else {
        modes_text(ev.u.greeting.modes, modes, sizeof(modes));
        snprintf(text, sizeof(text), "%s:%s answered in %.3f ms; modes offered:%s", host, port,
                 (double)c.rtt_ns / 1e6, modes[0] ? modes : " none");
    }
    conn_close(&c, loop_mono_ns() + 1000000000);
    say("control:", rc < 0 ? 2 : 0, text);
    json_object_put(msgs);
    return rc < 0 ? 2 : 0;
}

/* "10 packets to: 10 arrived (10 kernel stamps)" for each session of the test. */
static int test_text(struct json_object *sessions, char *buf, size_t cap)
{
    int level = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_object_array_length(sessions) && used < cap; i++) {
        struct json_object *s = json_object_array_get_idx(sessions, i), *v;
        int64_t sent = 0, lost = 0, k = 0, hw = 0, user = 0;
        const char *dir =
            json_object_object_get_ex(s, "direction", &v) ? json_object_get_string(v) : "";
        struct json_object *loss = json_object_object_get(s, "loss");
        struct json_object *src = json_object_object_get(s, "timestamp_sources");
        sent = json_object_get_int64(json_object_object_get(loss, "sent"));
        lost = json_object_get_int64(json_object_object_get(loss, "lost"));
        k = json_object_get_int64(json_object_object_get(src, "kernel"));
        hw = json_object_get_int64(json_object_object_get(src, "hardware"));
        user = json_object_get_int64(json_object_object_get(src, "user"));
        level = lost ? (lost == sent ? 2 : (level > 1 ? level : 1)) : level;
        used += (size_t)snprintf(buf + used, cap - used, "%s%s: %lld of %lld arrived",
                                 i ? "; " : "", dir, (long long)(sent - lost), (long long)sent);
        if (k + hw + user && used < cap) {
            used += (size_t)snprintf(buf + used, cap - used,
                                     " (receive stamps: %lld kernel, "
                                     "%lld hardware, %lld user)",
                                     (long long)k, (long long)hw, (long long)user);
        }
    }
    return level;
}

static int check_test(const struct opts *o, struct app *a)
{
    struct opts t = *o;
    struct out_ctx x;
    struct out_capture cap;
    struct json_object *msgs = json_object_new_array();
    char text[768];
    memset(&x, 0, sizeof(x));
    x.o = &t;
    t.out = &x;
    t.count = 10;
    t.nslots = 1;
    t.slots[0] = (struct opts_slot){.exponential = false, .interval_ns = 10000000};
    t.loss_timeout_ns = t.loss_timeout_ns >= 0 ? t.loss_timeout_ns : 1000000000;
    t.quiet = true;
    t.json = t.machine = t.raw = false;
    t.verbose = 0;
    t.subsession = 0;
    t.to_file = t.from_file = NULL;
    t.max_loss_pct = t.max_delay_ms = -1;
    a->o = &t;
    out_run_begin(&x);
    out_capture_begin(&cap, 2);
    int rc = o->light != OPTS_FULL    ? ping_light(a, o->targets[0])
             : o->proto == OPTS_TWAMP ? ping_twamp(a, o->targets[0])
                                      : ping_owamp(a, o->targets[0]);
    cap.keep = true;
    out_capture_end(&cap, 2, msgs);
    a->o = o;
    int level = test_text(x.sessions, text, sizeof(text));
    if (rc != 0 || json_object_array_length(x.sessions) == 0) {
        snprintf(text, sizeof(text), "a 10-packet session failed: %s",
                 last_message(msgs, "no result"));
        level = 2;
    }
    say("test:", level, text);
    json_object_put(x.sessions);
    json_object_put(x.crossed);
    json_object_put(msgs);
    return level;
}

/* The local address the kernel would use toward the target (-S when given). */
static int route_local(const struct opts *o, struct sock_addr *local)
{
    char host[256], port[32];
    struct addrinfo hints = {.ai_family = o->family, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    memset(local, 0, sizeof(*local));
    if (o->srcaddr) {
        return sock_addr_parse(o->srcaddr, 0, local) < 0 ? -1 : 0;
    }
    if (addr_split(o->targets[0], host, sizeof(host), port, sizeof(port), "862") < 0 ||
        getaddrinfo(host, port, &hints, &res) != 0) {
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    local->len = sizeof(local->ss);
    int rc = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
                     getsockname(fd, (struct sockaddr *)&local->ss, &local->len) == 0
                 ? 0
                 : -1;
    if (fd >= 0) {
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

/* Name of the interface holding local's address ("" when none matches). */
static void iface_of(const struct sock_addr *local, char *name, size_t cap)
{
    struct ifaddrs *ifs = NULL;
    uint8_t want[16], have[16];
    size_t n = addr_sockaddr_octets((const struct sockaddr *)&local->ss, want);
    name[0] = '\0';
    if (n == 0 || getifaddrs(&ifs) < 0) {
        return;
    }
    for (struct ifaddrs *i = ifs; i && !name[0]; i = i->ifa_next) {
        if (i->ifa_addr && addr_sockaddr_octets(i->ifa_addr, have) == n && !memcmp(want, have, n)) {
            snprintf(name, cap, "%s", i->ifa_name);
        }
    }
    freeifaddrs(ifs);
}

static const char *src_word(enum clk_source s)
{
    return s == CLK_SRC_HARDWARE ? "hardware"
           : s == CLK_SRC_KERNEL ? "kernel"
           : s == CLK_SRC_USER   ? "user clock"
                                 : "none";
}

static int check_timestamps(const struct opts *o)
{
    struct sock_addr local;
    struct sock_udp u;
    struct sock_hw_caps caps;
    char ifname[64] = "", text[640], hw[256];
    if (route_local(o, &local) < 0 ||
        sock_open_udp(local.ss.ss_family, &local, 0, 0, SOCK_F_TX_TSTAMP, &u) < 0) {
        say("timestamps:", 1, "cannot open a test socket toward the target to find out");
        return 1;
    }
    sock_hw_auto(&u, &local, o->bind_dev, SOCK_F_TX_TSTAMP, NULL); /* as the tests do */
    iface_of(&local, ifname, sizeof(ifname));
    if (o->bind_dev) {
        snprintf(ifname, sizeof(ifname), "%s", o->bind_dev);
    }
    if (u.ts.rx == CLK_SRC_HARDWARE || u.ts.tx == CLK_SRC_HARDWARE) {
        snprintf(hw, sizeof(hw), "interface %s stamps in hardware (PHC /dev/ptp%d)", ifname,
                 u.ts.phc_index);
    } else if (!ifname[0]) {
        snprintf(hw, sizeof(hw), "outgoing interface not found");
    } else if (sock_hw_probe(NULL, ifname, &caps) == 0 &&
               (caps.so_timestamping &
                (SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_TX_HARDWARE)) &&
               caps.phc_index >= 0) {
        snprintf(hw, sizeof(hw), "interface %s could stamp in hardware (PHC /dev/ptp%d)", ifname,
                 caps.phc_index);
    } else {
        snprintf(hw, sizeof(hw), "interface %s: no hardware timestamping", ifname);
    }
    int level = u.ts.rx == CLK_SRC_USER ? 1 : 0;
    snprintf(text, sizeof(text), "receive: %s, transmit: %s; %s%s%s", src_word(u.ts.rx),
             src_word(u.ts.tx), hw, u.ts.note[0] ? "; " : "", u.ts.note);
    sock_close_udp(&u);
    say("timestamps:", level, text);
    return level;
}

int out_check(const struct opts *o)
{
    struct app a;
    if (out_app_open(&a, o) < 0) {
        return OPTS_EXIT_FAILED;
    }
    printf("%s --check %s\n", o->prog, o->targets[0]);
    int worst = check_clock();
    int ctl = check_control(o, &a);
    worst = out_worst(worst, ctl);
    if (ctl < 2 && !a.interrupted) {
        worst = out_worst(worst, check_test(o, &a));
    } else {
        say("test:", 2, "not run (no control connection)");
    }
    worst = out_worst(worst, check_timestamps(o));
    say("result:", worst,
        worst == 0   ? "ready to measure"
        : worst == 1 ? "measurements will work, with the warnings above"
                     : "measurements will fail: see above");
    out_app_close(&a);
    return worst;
}
