/* egress.h - send times written at the host's egress (tc, eBPF): owampd's test packets and
 * twampd's replies get the time they pass the traffic-control egress hook of their
 * interface, just before the driver, instead of the time read before the send system call
 * (whose path through the kernel, 2-10 us, then stays out of the measurement). Only for
 * unauthenticated test packets (the timestamp of the other modes is under their HMAC) in
 * NTP format; the time the daemon wrote stays in a packet the program does not reach.
 *
 * The program (daemon/bpf/egress_stamp.c) is built into the daemon. egress_open attaches it
 * while the daemon still has its privileges, as a direct-action filter of a clsact qdisc on
 * each interface named (one that is not there yet is created), under a handle of the
 * daemon's own (from its kind and listening address): a restart replaces the filter the
 * last run left, and closing removes it when it is still ours and the daemon still may (the
 * clsact qdisc stays). Sockets are
 * listed and unlisted later, without privileges, through the program's map. */
#ifndef LP_EGRESS_H
#define LP_EGRESS_H

#include <stddef.h>
#include <stdint.h>

struct egress;

/* What the program did for one socket. */
struct egress_counts {
    uint64_t stamped; /* packets that left with the egress time */
    uint64_t refused; /* packets that kept the daemon's time (the clocks disagreed) */
};

/* Attach to the interfaces of spec: "all" (every interface there is now) or names separated
 * by commas. handle tells one daemon's filter from another's (not 0). Returns NULL with
 * the reason in msg when nothing could be attached; otherwise msg lists where it is (and
 * where it could not be). */
struct egress *egress_open(const char *spec, uint32_t handle, char *msg, size_t msglen);

/* Stamp the packets socket fd sends from now on; its cookie (for egress_remove) in *cookie.
 * 0, or -1 (map full, no socket cookie) and the packets keep the daemon's time. */
int egress_add(struct egress *e, int fd, uint64_t *cookie);

/* Stop stamping for that socket; what was done for it into *out (may be NULL). */
void egress_remove(struct egress *e, uint64_t cookie, struct egress_counts *out);

/* Detach from every interface where the filter is still this one's, and free (NULL is
 * fine). Detaching takes CAP_NET_ADMIN, which a daemon that dropped its privileges no longer
 * has: msg (may be NULL) then names the interfaces whose filter stays, with the reason and
 * the tc command that removes it. A
 * filter left behind is harmless (no socket of its map exists any more) and the next start
 * of the same daemon replaces it. */
void egress_close(struct egress *e, char *msg, size_t msglen);

#endif
