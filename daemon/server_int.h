/* server_int.h - state shared by server.c, server_ow.c and server_tw.c (not installed). */
#ifndef LP_SERVER_INT_H
#define LP_SERVER_INT_H

#include <syslog.h>

#include "conf.h"
#include "egress.h"
#include "server.h"
#include "session.h"

#define SRV_MAX_SESS 64 /* test sessions per control connection */
#define SRV_MAX_PACKETS (1u << 24)
#define SRV_MAX_PADDING 9000u
#define SRV_SPIN_NS 10000         /* daemon senders busy-wait at most 10 us per packet */
#define SRV_END_RETRY_NS 10000000 /* early Stop-Sessions held back by a Fetch reply: retry */
#define SRV_FETCH_SCAN 65536      /* records a streamed Fetch reply looks at per loop round */
#define SRV_STORE_MEM                                                                              \
    65536 /* a receiving session keeps this much of its records in memory,                         \
           * the rest in an unnamed file in datadir (or $TMPDIR) */
/* Fetch-Session of the whole of a session still running: answered when it ends, polled
 * this often, refused after this long (the reference retries for 1+2+4+8+16 s) */
#define SRV_FETCH_POLL_NS 100000000LL
#define SRV_FETCH_WAIT_NS 31000000000LL

struct srv;

/* One test session of a control connection. */
struct srv_session {
    struct sess *s;
    uint8_t sid[WIRE_SID_LEN];
    struct wire_request req; /* as requested (SID filled in), for Fetch-Session */
    struct wire_slot *slots;
    uint32_t next_seqno;           /* receiver: from the peer's Stop-Sessions */
    struct wire_skip_range *skips; /* receiver: ranges the peer never sent */
    uint32_t nskips;
    bool started; /* by a Start-Sessions (a connection may run several rounds) */
    bool stopped;
    bool fetched;           /* stopped and fetched once: may make room for new sessions */
    uint64_t seen_rx;       /* packets received at the last tick (REFWAIT) */
    int64_t seen_ns;        /* when that count last changed */
    uint64_t egress_cookie; /* its socket, stamped at the egress (egress_add), or 0 */
};

/* A Fetch-Session waiting for its session to end (see SRV_FETCH_WAIT_NS); the messages
 * after it wait in the input meanwhile. */
struct srv_fetch_wait {
    bool active;
    struct wire_fetch_session req;
    int64_t deadline_ns; /* CLOCK_MONOTONIC */
    loop_timer_id timer;
};

/* Where a streamed Fetch reply is in a session's records (st: one reference held, so the
 * session may end meanwhile): the next record to look at and the sequence numbers asked
 * for; the session is removed once the reply is out when remove is set (delete_on_fetch). */
struct srv_fetch {
    struct rst *st;
    uint64_t next;
    uint32_t begin, end;
    bool remove;
    uint8_t sid[WIRE_SID_LEN];
};

struct srv_conn {
    struct srv *srv;
    int fd;
    struct sock_addr peer, local;
    char peer_text[64];
    struct ctrl *ctrl;
    bool authenticated;
    char identity[WIRE_KEYID_LEN + 1];
    struct conf_class cls;
    struct srv_session *sess; /* grows as sessions are requested */
    unsigned nsess, capsess;
    bool started;
    bool want_write;
    int64_t last_ctrl_ns, last_test_ns;
    loop_timer_id tick;
    loop_timer_id end_check;          /* OWAMP: see whether every packet is in (server_ow.c) */
    bool stop_sent;                   /* OWAMP: our Stop-Sessions went out */
    struct srv_fetch fetch;           /* the Fetch reply being streamed (OWAMP) */
    struct srv_fetch_wait fetch_wait; /* a Fetch-Session waiting for its session (OWAMP) */
    struct srv_conn *next;
};

struct srv {
    const struct srv_ops *ops;
    struct conf conf;
    struct conf_keys keys;
    struct conf_limits limits;
    char confdir[CONF_PATH_MAX];
    struct loop *loop;
    int listen_fd[2];
    int nlisten;
    struct light *light[2]; /* TWAMP Light / STAMP reflectors (IPv4, IPv6) */
    int nlight;
    struct sess_scratch *scratch; /* I/O buffers shared by every test session: srv_scratch */
    struct egress *egress;        /* send times written at the egress ("egressstamp"), or NULL */
    uint64_t light_cookie[2];     /* the light reflectors' sockets listed there, or 0 */
    uint64_t light_stamped[2];    /* their replies written at the egress while unlisted */
    struct srv_conn *conns;
    unsigned nconns;
    struct clk_ntp start_time;
    bool foreground;
    bool check_only;
    bool accept_paused; /* out of descriptors: listeners unwatched for a moment */
    char ts_note[192];  /* last timestamping note logged */
};

/* Log one line: stderr in the foreground, syslog otherwise. */
void srv_log(const struct srv *s, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Accept value for a request whose test endpoint on the client's side is ep (srv_req_peer),
 * bandwidth and schedule duration (0 when unknown): 0, or the refusal (third party, limits),
 * logged once. The daemon's own address field is not looked at: a client behind NAT or a
 * port forward saw another address for us, and our test socket is bound to the address the
 * control connection came in on. */
uint8_t srv_check_request(struct srv_conn *c, const struct wire_request *r,
                          const struct sock_addr *ep, uint64_t bandwidth_bps, int64_t duration_ns);

/* The test endpoint on the client's side of a request: addr (a Sender or Receiver Address
 * field) and port, or the control peer's address with port when the field is zero (RFC 4656
 * and RFC 5357 §3.5: zero means the control connection's addresses). */
void srv_req_peer(const struct srv_conn *c, const struct wire_request *r, const uint8_t *addr,
                  uint16_t port, struct sock_addr *out);

/* Open a test socket on the daemon's local control address within the configured test
 * ports, with the best timestamps the interface has (flags: SOCK_F_TX_TSTAMP for a socket
 * that sends test packets, so that NIC TX stamping is asked for too). 0 or LP_E_*. */
int srv_open_test_socket(struct srv_conn *c, unsigned flags, struct sock_udp *out);

/* A SID for a session this daemon receives or reflects: from the local control address. */
void srv_local_sid(const struct srv_conn *c, uint8_t sid[WIRE_SID_LEN]);

/* Accept a request that passed its checks (a->accept 0): a test socket, the session of cfg
 * on it, kept by the connection, its port and SID into a. The session, or NULL with the
 * refusal in a (also when a->accept was a refusal already). Accept-Session is the caller's. */
struct srv_session *srv_open_session(struct srv_conn *c, const struct wire_request *r,
                                     const struct wire_slot *slots, const struct sess_config *cfg,
                                     struct wire_accept_session *a);

/* The test sessions' shared I/O buffers, made on first use (an idle daemon does not carry
 * them); NULL when out of memory, and a session then makes its own. */
struct sess_scratch *srv_scratch(struct srv *s);

/* The connection's session with this SID, or NULL. */
struct srv_session *srv_find(struct srv_conn *c, const uint8_t *sid);

/* The session with this SID on any connection of the daemon (its connection in *owner), or
 * NULL. */
struct srv_session *srv_find_any(struct srv *s, const uint8_t *sid, struct srv_conn **owner);

/* Go on with a connection whose input waited (a Fetch-Session answered late): flush, handle
 * the messages that arrived meanwhile; rc < 0 (the answer failed) closes it instead. */
void srv_conn_resume(struct srv_conn *c, int rc);

/* Add a session (takes s); returns the slot or NULL when full. */
struct srv_session *srv_add(struct srv_conn *c, struct sess *s, const uint8_t *sid,
                            const struct wire_request *r, const struct wire_slot *slots);

/* Drop one test session (the last one takes its slot). */
void srv_remove(struct srv_conn *c, struct srv_session *ss);

/* Drop every test session of the connection. */
void srv_drop_sessions(struct srv_conn *c);

/* Common session settings from a request. */
void srv_sess_config(struct srv_conn *c, const struct wire_request *r, struct sess_config *cfg);

/* Listening socket callback: accept control connections. */
void srv_on_accept(struct loop *loop, int lfd, unsigned events, void *arg);

/* Close every connection (shutdown). */
void srv_close_all(struct srv *s);

#endif
