/* session_int.h - helpers shared by session.c and session_light.c (not installed). */
#ifndef LP_SESSION_INT_H
#define LP_SESSION_INT_H

#include "session.h"

/* Error Estimate of this host's clock, refreshed at most once a second. */
struct sess_errest {
    uint16_t raw;
    int64_t checked_ns;
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

/* Decode a wire timestamp using the Z bit of its Error Estimate. */
struct clk_time sess_wire_time(uint64_t ts, uint16_t errest);

/* True when a and b hold the same IP address (ports ignored). */
bool sess_same_host(const struct sock_addr *a, const struct sock_addr *b);

#endif
