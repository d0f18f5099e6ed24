/* probe_int.h - the state of a measurement, shared by probe.c (life cycle, test sessions,
 * results) and probe_ctrl.c (the OWAMP / TWAMP control connection). */
#ifndef PROBE_PROBE_INT_H
#define PROBE_PROBE_INT_H

#include "ctrl.h"
#include "presolve.h"
#include "probe.h"

#define PR_START_NS 1000000LL      /* light: schedule start after the socket is ready */
#define PR_START_SLACK_NS 10000000 /* control: start three round trips plus this from now */
#define PR_POLL_FIRST_NS 1000000LL /* first look for the last replies after the last send */
#define PR_LOSS_DEFAULT_NS 2000000000LL

enum pr_state {
    PR_CONNECTING,
    PR_GREETING,
    PR_SERVER_START,
    PR_ACCEPT_TO,   /* OWAMP: Accept-Session of the session toward the target */
    PR_ACCEPT_FROM, /* OWAMP: ... of the session from it */
    PR_ACCEPT_TW,   /* TWAMP: Accept-Session */
    PR_START_ACK,
    PR_RUNNING,
    PR_STOPPING, /* OWAMP: our Stop-Sessions sent, waiting for the server's */
    PR_FETCH,    /* OWAMP: Fetch-Session sent, records coming */
    PR_DONE,
};

struct probe {
    struct probe_env env;
    int64_t buckets[PC_MAX_BUCKETS];
    struct pc_module m;
    char target[PC_TARGET_MAX];
    char host[PC_TARGET_MAX], port[16];
    probe_done_fn done;
    void *arg;
    enum pr_state st;
    struct pres_req *resolving;       /* the target's name being resolved */
    int (*resolved)(struct probe *p); /* ... and what follows (see pr_resolve) */
    bool ok;
    char why[192];
    int64_t t0_mono, t0_real;
    loop_timer_id t_deadline, t_poll, t_done;
    int64_t poll_step_ns;
    /* control connection */
    int fd;
    struct ctrl *ctrl;
    int64_t t_connect;
    int64_t rtt_ns;
    uint32_t mode;
    struct sock_addr cl_local, cl_peer;
    /* test sessions */
    struct sess *tw, *to, *from;
    struct sock_udp pend; /* a test socket waiting for its Accept-Session (fd -1: none) */
    struct sock_addr pend_local;
    bool tw_sent, to_sent;
    uint8_t sid_tw[WIRE_SID_LEN], sid_to[WIRE_SID_LEN], sid_from[WIRE_SID_LEN];
    struct clk_ntp start;
    int64_t loss_ns;
    int64_t end_mono;      /* TWAMP / light, OWAMP to: end of the wait after the last packet */
    int64_t from_end_mono; /* OWAMP from */
    bool peer_stopped;
    uint8_t peer_accept;
    bool from_described;
    uint32_t from_next;
    struct met_ow_acc *fetch_acc;
    struct pst_target fig;
};

/* End the measurement: ok, or failed with why (printf format). Idempotent. */
void pr_finish(struct probe *p, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The target's address of socktype (SOCK_STREAM, SOCK_DGRAM) into cl_peer, then next: at
 * once for an address (or without a resolver in the environment), from the loop once the
 * resolver has answered for a name. 0 (next's result, or waiting) or -1 (finished). */
int pr_resolve(struct probe *p, int socktype, int (*next)(struct probe *p));

/* The control connection of the module's protocol to host:port (probe_ctrl.c), once the
 * name is resolved. 0 or -1 (finished). */
int pr_ctrl_begin(struct probe *p);

/* Close the control connection (after sending what is queued, best effort). */
void pr_ctrl_close(struct probe *p);

/* The test sessions are over by time or by count: stop them and go on to the results
 * (TWAMP: Stop-Sessions; OWAMP: Stop-Sessions, the server's, Fetch-Session). */
void pr_ctrl_sessions_over(struct probe *p);

/* probe.c, for probe_ctrl.c: a session configuration for the module; open a test socket
 * on local's address; the sessions started (arm the waits); the results of the TWAMP session
 * and of the OWAMP session from the target; the to-session's figures from fetch_acc. */
void pr_sess_config(const struct probe *p, struct sess_config *cfg, enum sess_kind kind);
int pr_open_socket(struct probe *p, const struct sock_addr *local, struct sock_udp *out);
void pr_running(struct probe *p);
void pr_tw_results(struct probe *p);
void pr_from_results(struct probe *p);
void pr_to_results(struct probe *p);

/* The server's Stop-Sessions came while the sessions ran: 0 when it ends them normally (the
 * waits go on for what is still to come), -1 when it cut them short. */
int pr_peer_stopped(struct probe *p);

#endif
