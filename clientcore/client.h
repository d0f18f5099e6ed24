/* client.h - owping/twping internals shared by the files of owping/: the process context,
 * the control connection (conn.c), the runs over a control connection (client.c, owamp.c,
 * twamp.c), TWAMP Light / STAMP without control (light.c), reporting (output.c) and the
 * sender's own figures: send timing and the TWAMP extensions' results (txreport.c). */
#ifndef OWPING_CLIENT_H
#define OWPING_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl.h"
#include "loop.h"
#include "metrics.h"
#include "report.h"
#include "session.h"
#include "sock.h"

#include "opts.h"

#define PING_CTRL_WAIT_NS 10000000000LL /* bound on every wait for a control reply */
#define PING_CONNECT_WAIT_NS 10000000000LL
#define PING_SPIN_NS                                                                               \
    80000 /* senders sleep to 80 us before a send, then spin (not under --rt):                     \
           * more than a VM's typical wake-up latency */
/* after SIGINT or a failure: bound on stopping the sessions and fetching what the server has */
#define PING_SALVAGE_NS 1000000000LL
/* start delay beyond three control round trips: the two hosts' own work on the requests and
 * Start-Sessions (2-5 ms on a busy 2-core VM); -z asks for more */
#define PING_START_SLACK_NS 10000000
#define PING_ADDR_STRLEN 64
#define PING_PORT_STRLEN 8

/* The whole process: options, the one loop, and whether SIGINT/SIGTERM arrived. */
struct app {
    const struct opts *o;
    struct loop *loop;
    bool interrupted;
    bool grace;    /* interrupted, but the loop still runs (bounded) to collect partial results;
                    * a second signal ends it */
    bool rt_tried; /* --rt: real-time scheduling was tried (once per process) */
    bool rt;       /* real-time scheduling is in effect: senders must not busy-wait */
};

/* Run the loop once, waiting at most until deadline_mono (CLOCK_MONOTONIC ns). Returns 1 while
 * time is left, 0 once the deadline has passed, -1 when interrupted (outside a grace period)
 * or the loop failed. */
int app_step(struct app *a, int64_t deadline_mono);

/* Run the loop until deadline_mono; false when interrupted first. */
bool app_sleep_until(struct app *a, int64_t deadline_mono);

/* One loop round that does not wait: take in the test packets already queued on the
 * sockets, so none is counted lost only because it was not read yet. */
void app_drain(struct app *a);

/* CLOCK_MONOTONIC instant matching the wall-clock instant t. */
int64_t app_mono_at(struct clk_time t);

/* The control connection: a non-blocking TCP socket driving a struct ctrl on the loop. */
struct conn {
    struct app *app;
    int fd;
    bool registered; /* fd is on the loop */
    unsigned events; /* fd events seen since the last wait */
    bool eof;        /* the server closed the connection */
    struct ctrl *ctrl;
    struct sock_addr local, peer; /* control socket addresses */
    int64_t rtt_ns;               /* connect() to Server-Greeting */
};

/* Resolve host:port (family from -4/-6), connect (bound to -S, on -B), start the ctrl state
 * machine of proto and wait for the Server-Greeting into ev. 0 or -1 with a message printed. */
int conn_open(struct conn *c, struct app *a, const char *host, const char *port,
              enum wire_proto proto, struct ctrl_event *greeting);

/* Send what the ctrl queued; the rest goes out from the loop. 0 or -1 (message printed). */
int conn_flush(struct conn *c);

/* Next control event if one arrives before deadline_mono: 1 with ev, 0 when the deadline
 * passed, -1 on a protocol or I/O error (printed), interruption, or when the server closed
 * the connection (c->eof; not printed). */
int conn_poll_event(struct conn *c, int64_t deadline_mono, struct ctrl_event *ev);

/* A condition a wait ends on (checked after every loop round). */
typedef bool (*conn_done_fn)(void *arg);

/* While the test sessions run: like conn_poll_event, but also returns 0 as soon as
 * done(arg) holds (done NULL: never). Reads the connection meanwhile, so that the server
 * closing it is seen at once (-1 with c->eof, not printed). */
int conn_watch_event(struct conn *c, int64_t deadline_mono, conn_done_fn done, void *arg,
                     struct ctrl_event *ev);

/* Whether the control connection can still carry messages. */
bool conn_alive(const struct conn *c);

/* Wait (until deadline_mono) for the next control event. 1 with ev, or -1 after printing why
 * (timeout, connection closed, protocol error, interrupted). */
int conn_wait_event(struct conn *c, int64_t deadline_mono, struct ctrl_event *ev);

/* Wait for an event of one type; anything else is a protocol error. 1 or -1 (printed). */
int conn_expect(struct conn *c, enum ctrl_ev type, int64_t deadline_mono, struct ctrl_event *ev,
                const char *what);

/* Give queued output up to deadline_mono to leave, then close and free everything. */
void conn_close(struct conn *c, int64_t deadline_mono);

/* Numeric host and port strings of an address. */
void ping_addr_str(const struct sock_addr *a, char host[PING_ADDR_STRLEN],
                   char port[PING_PORT_STRLEN]);

/* Pass-phrase of -u identity: from the -k file, else asked on the terminal. Returns its
 * length or -1 with a message printed. */
int ping_passphrase(const struct opts *o, uint8_t *out, size_t cap);

/* Open a UDP test socket on the family/address of local (port ignored), -P range, -B
 * device, with the best timestamps there are, probed as the daemons do (sock_hw_auto): NIC
 * hardware stamps on the -B device or the interface holding local, else kernel ones; flags
 * SOCK_F_TX_TSTAMP for a socket that sends. With -v the reason for a fallback is printed.
 * 0 or -1 (printed). */
int ping_open_test_socket(const struct opts *o, const struct sock_addr *local, unsigned flags,
                          struct sock_udp *out);

/* Start time of sessions requested now over a control connection with round-trip time rtt_ns:
 * three round trips (the requests and Start-Sessions still to come) plus PING_START_SLACK_NS,
 * or -z when longer. */
struct clk_ntp ping_start_time(const struct opts *o, int64_t rtt_ns);

/* Schedule slots of -i in wire form; returns the count. */
uint32_t ping_slots(const struct opts *o, struct wire_slot *slots);

/* Wall-clock time of the last packet of a schedule (slots, sid, npackets from start). */
struct clk_time ping_last_send(const struct wire_slot *slots, uint32_t nslots,
                               const uint8_t sid[WIRE_SID_LEN], uint32_t npackets,
                               struct clk_ntp start);

/* Text for a non-zero Accept value. */
const char *ping_accept_str(uint8_t accept);

/* One test against a target: OWAMP (owamp.c), TWAMP (twamp.c), Light/STAMP (light.c).
 * 0 when every session ran, 1 otherwise (the reason is printed). */
int ping_owamp(struct app *a, const char *target);
int ping_twamp(struct app *a, const char *target);
int ping_light(struct app *a, const char *target);

/* Connect and authenticate (shared by OWAMP and TWAMP): fills c and *mode (the security
 * mode plus the TWAMP feature bits the options ask for, when the server offers them all).
 * 0 or -1 (printed). */
int ping_setup(struct app *a, struct conn *c, const char *target, enum wire_proto proto, char *host,
               size_t hostlen, uint32_t *mode);

/* --rt: once per process, try SCHED_FIFO (and lock memory); a->rt tells whether it is in
 * effect. Prints one warning line when not permitted. Nothing without --rt. */
void ping_rt_setup(struct app *a);

/* The busy-wait margin a sender gets: none under real-time scheduling. */
int64_t ping_spin_ns(const struct app *a);

/* ---- txreport.c: what the client itself knows about a sending session (struct rep_tx,
 * report.h: printed here in the human summary, by report_json.c in JSON) ---- */

/* Fill t from a sending session s (tw: its records when it is a TWAMP sender, else NULL). */
void ping_tx_collect(const struct sess *s, struct rst *tw, uint32_t mode, int reflect_octets,
                     int sent_tos, struct rep_tx *t);

/* The human-summary lines of t (nothing for -M, -Q, --json). */
void ping_tx_print(const struct opts *o, const struct rep_tx *t);

/* ---- output.c ---- */

/* A two-way session our sender ran (TWAMP over TWAMP-Control, TWAMP Light, STAMP), to be
 * reported: the session and what the report says about it. */
struct tw_done {
    struct sess *sess;
    const uint8_t *sid;
    const struct sock_addr *local, *peer;
    const char *host; /* the target as given */
    uint32_t typep;   /* Type-P descriptor requested (0: none) */
    int64_t loss_ns;
    uint32_t padding;
    uint32_t mode;      /* the negotiated Mode (feature bits) */
    int reflect_octets; /* RFC 6038 octets asked for, -1 when not negotiated */
    int sent_tos;       /* RFC 7750: our TOS octet, -1 when not negotiated */
};

/* Stop the session, log a lost record for every reply that never came and report it
 * (partial unless ok: what was sent so far) with the sender's own figures, when it holds any
 * record. 0, or -1 when the report could not be written in full (printed). */
int out_tw_session(const struct opts *o, const struct tw_done *t, bool ok);

/* One finished (or partial) session to report. */
struct out_sess {
    const char *prog;
    bool two_way; /* TWAMP records (tw) rather than OWAMP ones (ow) */
    struct rep_session rs;
    char from_addr[PING_ADDR_STRLEN], from_port[PING_PORT_STRLEN];
    char to_addr[PING_ADDR_STRLEN], to_port[PING_PORT_STRLEN];
    struct rst *recs; /* met_twrec when two_way, else met_owrec; NULL: none */
    struct met_params mp;
    const char *save_file; /* -T/-F: raw records also go there */
};

/* Fill the address part of s: from (sender) and to (receiver) with the host names to print
 * (NULL: the numeric address). */
void out_set_ends(struct out_sess *s, const struct sock_addr *from, const char *from_host,
                  const struct sock_addr *to, const char *to_host);

/* Print s as the options ask (summary, -M, -R, --json, -v). 0 or -1 when anything could not
 * be written, a -T/-F file included (printed; the rest is still reported). */
int out_report(const struct opts *o, const struct out_sess *s);

/* The -M summary of the one-way session s into f (powstream's .sum files): of the records
 * with a seq in [first, first + count) renumbered from 0, or of all when count is 0. 0, or
 * -1 when the statistics could not be computed or f reports an error. */
int out_machine_file(FILE *f, const struct opts *o, const struct out_sess *s, uint32_t first,
                     uint32_t count);

/* "Approximately N seconds until results available" in the human mode. */
void out_eta(const struct opts *o, double seconds);

#endif
