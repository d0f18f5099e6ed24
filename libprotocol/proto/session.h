/* session.h - test sessions on the event loop: OWAMP sender and receiver, TWAMP
 * Session-Sender and Session-Reflector, TWAMP Light / STAMP sender. One struct per session,
 * no process or thread; every packet is stamped just before it leaves and its receive time
 * comes from the kernel (or NIC) when the socket provides it. Senders also collect the
 * kernel's TX timestamp of every packet from the socket's error queue: a TWAMP sender uses it
 * as T1 for the round trip (the written T1 stays in the packet), an OWAMP sender may keep it
 * for its results (keep_tx_times), and senders and TWAMP reflectors measure by it how far
 * the time they write runs ahead of the wire (sess_tx_stats). */
#ifndef LP_SESSION_H
#define LP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "loop.h"
#include "metrics.h"
#include "recstore.h"
#include "sock.h"
#include "wire.h"

enum sess_kind {
    SESS_OW_SENDER,    /* OWAMP-Test sender */
    SESS_OW_RECEIVER,  /* OWAMP-Test receiver: logs struct met_owrec */
    SESS_TW_SENDER,    /* TWAMP Session-Sender (also Light and STAMP): logs struct met_twrec */
    SESS_TW_REFLECTOR, /* TWAMP Session-Reflector of one negotiated session */
};

/* Packet layouts: RFC 4656/5357, or STAMP (RFC 8762) for SESS_TW_SENDER. */
enum sess_fmt { SESS_FMT_TWAMP, SESS_FMT_STAMP };

/* Receive and send buffers shared by all the sessions of one thread (about 1.2 MB): create
 * one per process and pass it to every session and light reflector, so a session itself
 * stays small. A session given none makes its own. */
struct sess_scratch;

struct sess_scratch *sess_scratch_create(void);
void sess_scratch_destroy(struct sess_scratch *x);

struct sess_config {
    enum sess_kind kind;
    struct sess_scratch *scratch; /* shared I/O buffers, or NULL */
    enum sess_fmt fmt;
    uint32_t mode;                       /* WIRE_MODE_OPEN/AUTH/ENC/MIXED plus feature bits */
    const struct cry_session_keys *keys; /* Auth/Enc control keys (test keys are derived) */
    const uint8_t *stamp_key;            /* STAMP authenticated mode HMAC key */
    size_t stamp_key_len;
    uint8_t sid[WIRE_SID_LEN];
    uint16_t ssid;                 /* STAMP Session-Sender Identifier */
    struct sock_addr peer;         /* where packets go (senders, reflector replies) */
    uint32_t npackets;             /* senders: packets to send */
    uint32_t padding;              /* octets after the base packet (senders) */
    bool zero_padding;             /* senders: zeros instead of random padding */
    int tos;                       /* senders: TOS octet (DSCP << 2 | ECN), -1 = default */
    const struct wire_slot *slots; /* senders: the schedule (copied) */
    uint32_t nslots;
    struct clk_ntp start;    /* senders: session start time */
    int64_t spin_ns;         /* senders: busy-wait before each send (0: none) */
    uint32_t max_records;    /* bound on logged records (0: 2 * npackets + 1024) */
    size_t store_mem;        /* records kept in memory, octets (0: RST_MEM_DEFAULT);
                              * later ones go to an unnamed file */
    const char *store_dir;   /* where that file is made (NULL: $TMPDIR or /tmp) */
    uint16_t reflect_octets; /* RFC 6038 octets of padding to reflect (reflector), or
                              * expected back (sender) */
    bool refl_may_copy;      /* TWAMP senders: the reflector may copy our sequence
                              * numbers instead of counting (TWAMP Light, STAMP) */
    int64_t loss_timeout_ns; /* OWAMP receivers: a packet still missing this long after
                              * its scheduled send time is logged lost at once (as the
                              * reference's receiver does), so what is fetched from a
                              * running session counts it; 0: only at sess_ow_finalize */
    bool measure_tx;         /* TWAMP reflectors: take the TX timestamp of every reply, to
                              * measure T3 against the wire (sess_tx_stats); it costs an
                              * error-queue read per batch of replies */
    bool keep_tx_times;      /* OWAMP senders: keep every packet's kernel or NIC TX time
                              * for sess_tx_time (16 octets a packet, in memory up to
                              * store_mem, then in an unnamed file like the records) */
};

struct sess;

/* Why a TWAMP (or STAMP) Session-Sender could not use a reply. */
enum sess_drop {
    SESS_DROP_SHORT,   /* shorter than the fields the metrics need (WIRE_REPLY_MIN_LEN,
                        * authenticated: the whole base) */
    SESS_DROP_HMAC,    /* authenticated or encrypted: the HMAC did not verify */
    SESS_DROP_SESSION, /* STAMP: the SSID of another session */
    SESS_DROP_SEQ,     /* a Sender Sequence Number this session never sent */
    SESS_DROP_LONG,    /* longer than the receive buffer (9216 octets) */
    SESS_DROP_N,
};

/* Counters of what a session saw. */
struct sess_counters {
    uint64_t sent;                    /* packets sent */
    uint64_t received;                /* valid packets received */
    uint64_t malformed;               /* dropped: too short, bad MBZ, wrong source */
    uint64_t bad_hmac;                /* dropped: HMAC did not verify */
    uint64_t overflow;                /* dropped: record store full */
    uint64_t tx_errors;               /* send failures */
    uint64_t reflect_mismatch;        /* TWAMP sender: reflected octets (RFC 6038) that differ */
    uint64_t src_count[4];            /* receive timestamps by enum clk_source */
    uint64_t reply_drop[SESS_DROP_N]; /* TWAMP sender: replies not used, by reason (also
                                       * counted in malformed or bad_hmac) */
    uint64_t reply_no_ttl;            /* TWAMP sender: replies used that hold no Sender TTL */
};

typedef void (*sess_cb)(struct sess *s, void *arg);

/* Create a session on sock (ownership moves to the session, also on failure). Returns
 * NULL on allocation failure or a bad config. */
struct sess *sess_create(struct loop *loop, struct sock_udp *sock, const struct sess_config *cfg);

/* Close the socket, cancel timers, wipe keys, free records. */
void sess_destroy(struct sess *s);

/* Begin: senders schedule their packets from cfg.start, receivers and reflectors accept
 * packets (before this they drop them). 0 or LP_E_*. */
int sess_start(struct sess *s);

/* Receive what waits in the socket now (received in time, not read yet because the loop was
 * busy), before the session is stopped and its records closed. */
void sess_drain(struct sess *s);

/* Stop sending and receiving; records are kept, and so are the TX timestamps queued by
 * now (they are read first). */
void sess_stop(struct sess *s);

/* Stop, and close the socket too (its port goes back to the range; TX timestamps still
 * queued are dropped): for a finished session kept only for its records and counters. */
void sess_release(struct sess *s);

/* Called once when a sender has sent its last packet. */
void sess_on_sent(struct sess *s, sess_cb cb, void *arg);

/* Sender: packets sent so far (the Next Seqno of Stop-Sessions). */
uint32_t sess_next_seqno(const struct sess *s);

/* Sender: scheduled send time of the last packet. */
struct clk_time sess_last_send_time(const struct sess *s);

/* The local UDP port. */
uint16_t sess_port(const struct sess *s);

/* Receiver: log a lost record, with its scheduled send time, for every seq below
 * next_seqno never received nor logged lost already (once, after Stop-Sessions told
 * next_seqno; later calls do nothing). A lost record carries the Error Estimates the
 * reference writes: unsynchronised minimal for the send time, the receiver's clock for the
 * receive time; TTL 255. */
void sess_ow_finalize(struct sess *s, uint32_t next_seqno);

/* Receiver: sequence numbers the sender never sent (Stop-Sessions skip ranges): call
 * before sess_ow_finalize so they are not logged as lost. */
void sess_ow_skip(struct sess *s, const struct wire_skip_range *r, uint32_t n);

/* TWAMP sender: the same for every packet sent whose reply never came (once, after the
 * loss timeout). Records flagged MET_TW_LOST. */
void sess_tw_finalize(struct sess *s);

/* Logged records in arrival order (receiver: met_owrec; TWAMP sender: met_twrec), or NULL
 * for kinds that log none. Read them with rst_get (recstore.h). */
struct rst *sess_records(const struct sess *s);

/* A copy of the counters. */
struct sess_counters sess_counters(const struct sess *s);

/* Send-side timing of a sender or a TWAMP reflector. Lateness is how long after its
 * scheduled time a packet left (a reflector: after the packet it answers arrived), by the
 * kernel's TX timestamp when there is one, else by the timestamp written in the packet;
 * bias is the TX timestamp minus the written one: how long the written time went before
 * the packet reached the wire. Percentiles come from a histogram with 1/16 relative
 * resolution (bounded memory whatever the packet count). */
struct sess_tx_stats {
    uint64_t stamped;       /* packets with a kernel or NIC TX timestamp */
    enum clk_source source; /* of those timestamps (KERNEL or HARDWARE), USER when none */
    int64_t late_p50_ns, late_p99_ns, late_max_ns;
    int64_t bias_p50_ns, bias_p99_ns, bias_max_ns; /* 0 when nothing was stamped */
};

struct sess_tx_stats sess_tx_stats(const struct sess *s);

/* OWAMP sender with keep_tx_times: the kernel or NIC TX time of seq's packet into *out and
 * its source into *src; false when the kernel gave none (or it came out of order). Every
 * timestamp queued by the time the session was stopped is in. */
bool sess_tx_time(struct sess *s, uint32_t seq, struct clk_time *out, enum clk_source *src);

/* ---- packet hook: every test packet a session sends or receives, e.g. for pcap export ---- */

#define SESS_PKT_HOOK 1

/* One test packet as the session sent or received it. */
struct sess_pkt {
    bool sent;           /* sent by this session, else received */
    const uint8_t *data; /* UDP payload as on the wire (sealed) */
    size_t len;
    const struct sock_addr *src, *dst; /* with ports */
    struct clk_time ts;                /* sent: the time written in the packet; received:
                                        * its receive timestamp */
    int ttl, tos;                      /* as received (-1: not reported); -1 when sent */
};

typedef void (*sess_pkt_hook)(void *arg, const struct sess_pkt *p);

/* Call hook for every packet s sends or receives from now on (NULL stops). Received packets
 * are reported before they are checked, so malformed ones appear too. */
void sess_set_packet_hook(struct sess *s, sess_pkt_hook hook, void *arg);

/* SID for a session whose receiver has address octets addr (4 or 16): the last four
 * address octets, the current NTP time and four random octets (RFC 4656 §3.5). */
void sess_make_sid(const uint8_t *addr, size_t addrlen, uint8_t sid[WIRE_SID_LEN]);

/* ---- TWAMP Light / STAMP reflector (RFC 5357 Appendix I, RFC 8762, RFC 8972) ---- */

struct light;

/* Flows (source address and port) a light reflector remembers at most, and how long one may
 * stay idle before it is forgotten (light_set_idle): a flow's rules (TWAMP Light or STAMP)
 * and its STAMP reflector sequence counters start afresh after that. */
#define LIGHT_FLOWS_MAX 4096
#define LIGHT_IDLE_DEFAULT_S 30

/* One STAMP authentication key (from the key file). */
struct light_key {
    const uint8_t *key;
    size_t len;
};

/* Reflect every packet arriving on sock (ownership moves) to its observed source, TWAMP
 * Light packets statelessly, STAMP packets with a sequence counter per flow and SSID (the
 * rule is in session_light.c). keys are tried for authenticated (112-octet base) packets;
 * copied. scratch may be NULL. NULL on failure. */
struct light *light_create(struct loop *loop, struct sock_udp *sock, const struct light_key *keys,
                           size_t nkeys, struct sess_scratch *scratch);
void light_destroy(struct light *l);

/* Replace the STAMP authentication keys (copied; the old ones are wiped). 0 or LP_E_NOMEM. */
int light_set_keys(struct light *l, const struct light_key *keys, size_t nkeys);

/* Forget a flow idle_s seconds after its last packet (0: only when the table is full). */
void light_set_idle(struct light *l, uint32_t idle_s);

/* Flows remembered now (a pass over the table). */
uint32_t light_flow_count(const struct light *l);

struct sess_counters light_counters(const struct light *l);

/* The reflector's socket (to list it for stamping at the egress, say). */
int light_fd(const struct light *l);

/* Whether nothing is left to wait for: an OWAMP receiver has every packet of the schedule, a
 * TWAMP sender has sent them all and has a reply for each. Cheap until as many packets as
 * expected have arrived, then one pass over a bit per packet. */
bool sess_all_in(const struct sess *s);

#endif
