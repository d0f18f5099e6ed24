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

/* Receive-buffer ring shared by the readers: SOCK_BATCH_MAX slots of len octets. */
struct sess_rxring {
    struct sock_rxbuf slot[SOCK_BATCH_MAX];
    uint8_t *mem;
};

int sess_rxring_init(struct sess_rxring *r, size_t len);
void sess_rxring_free(struct sess_rxring *r);

/* Decode a wire timestamp using the Z bit of its Error Estimate: NTP, or PTPv2 truncated
 * (TAI) converted back to UTC with tai_ns. */
struct clk_time sess_wire_time(uint64_t ts, uint16_t errest, int64_t tai_ns);

/* Encode t in NTP format, or in PTP format (TAI) when ptp; sets the Z bit of *errest. */
uint64_t sess_wire_stamp(struct clk_time t, bool ptp, const struct sess_errest *e, uint16_t *errest);

/* True when a and b hold the same IP address (ports ignored). */
bool sess_same_host(const struct sock_addr *a, const struct sock_addr *b);

#endif
