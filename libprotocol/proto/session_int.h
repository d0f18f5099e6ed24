/* session_int.h - helpers shared by session.c and session_light.c (not installed). */
#ifndef LP_SESSION_INT_H
#define LP_SESSION_INT_H

#include "session.h"

/* Error Estimate of this host's clock, refreshed at most once a second. */
struct sess_errest {
    uint16_t raw;
    int64_t checked_ns;
    int64_t tai_ns; /* TAI - UTC, for PTP timestamps (RFC 8186) */
};

/* The current Error Estimate field, re-reading the kernel clock state when now is more
 * than a second after the last read. */
uint16_t sess_errest_get(struct sess_errest *e, struct clk_time now);

#define SESS_PKT_MAX 9216 /* largest test packet handled (jumbo frame) */

/* I/O buffers and the clock's Error Estimate, shared by the sessions of one thread (see
 * session.h): one ntp_adjtime a second per process, not per session. */
struct sess_scratch {
    struct sess_errest errest;
    struct sock_rxbuf rx[SOCK_BATCH_MAX];
    struct sock_txbuf tx[SOCK_BATCH_MAX];
    uint8_t rxmem[SOCK_BATCH_MAX][SESS_PKT_MAX];
    uint8_t txmem[SOCK_BATCH_MAX][SESS_PKT_MAX];
    uint8_t work[SESS_PKT_MAX]; /* padding or TLVs being built */
};

/* Send the first n replies of x->tx; counts what could not be sent. */
void sess_send_replies(int fd, struct sess_scratch *x, unsigned n, struct sess_counters *cnt);

/* Decode a wire timestamp using the Z bit of its Error Estimate: NTP, or PTPv2 truncated
 * (TAI) converted back to UTC with tai_ns. */
struct clk_time sess_wire_time(uint64_t ts, uint16_t errest, int64_t tai_ns);

/* Encode t in NTP format, or in PTP format (TAI) when ptp; sets the Z bit of *errest. */
uint64_t sess_wire_stamp(struct clk_time t, bool ptp, const struct sess_errest *e, uint16_t *errest);

/* True when a and b hold the same IP address (ports ignored). */
bool sess_same_host(const struct sock_addr *a, const struct sock_addr *b);

/* ---- the light reflector's flows (session_flows.c) ---- */

/* Which rules a flow's packets get (see session_light.c). */
enum light_class {
    LIGHT_CLASS_NONE,  /* not seen, or idle too long */
    LIGHT_CLASS_LIGHT, /* TWAMP Light: stateless */
    LIGHT_CLASS_STAMP, /* STAMP: stateful, one entry per SSID */
};

/* The source of a flow. */
struct light_flow_key {
    uint8_t addr[16]; /* IPv4 in the first 4 octets */
    uint8_t family;   /* 4 or 6 */
    uint16_t port;
};

/* One flow (STAMP: one SSID of a flow). */
struct light_flow {
    struct light_flow_key key;
    uint8_t cls; /* enum light_class */
    uint16_t ssid;
    uint32_t rx, tx;              /* STAMP packets received / reflected */
    int64_t last_ns;              /* CLOCK_MONOTONIC time of its last packet */
    uint32_t hnext, older, newer; /* private: hash chain and recency list */
};

/* A table of at most max flows that forgets a flow idle_ns after its last packet (0:
 * never) and, when full, the least recently used one. NULL when out of memory. */
struct light_flows;
struct light_flows *lflows_create(uint32_t max, int64_t idle_ns);
void lflows_destroy(struct light_flows *t);
void lflows_set_idle(struct light_flows *t, int64_t idle_ns);

/* The class of the source k's live entries, LIGHT_CLASS_NONE when it has none. */
enum light_class lflows_class(struct light_flows *t, const struct light_flow_key *k,
                              int64_t now_ns);

/* The live entry of k (for STAMP, of k and ssid), marked used at now_ns; a new one of class
 * cls with zero counters when there is none. Never NULL. */
struct light_flow *lflows_use(struct light_flows *t, const struct light_flow_key *k,
                              enum light_class cls, uint16_t ssid, int64_t now_ns);

/* Live entries at now_ns (one pass over the table: for tests and statistics). */
uint32_t lflows_count(const struct light_flows *t, int64_t now_ns);

#endif
