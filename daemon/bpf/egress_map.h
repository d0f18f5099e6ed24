/* egress_map.h - what the egress stamping program (egress_stamp.c) and its loader
 * (daemon/egress.c) share: the maps' values and the limits. */
#ifndef LP_EGRESS_MAP_H
#define LP_EGRESS_MAP_H

#include <linux/types.h>

#define EGRESS_MAX_SOCKS 16384         /* sockets stamped at once */
#define EGRESS_STAMP_OFFSET 4          /* the timestamp's offset in the UDP payload */
#define EGRESS_MAX_AHEAD_NS 100000000u /* at most this much after the daemon's own time */

/* Per socket, keyed by its cookie (SO_COOKIE). */
struct egress_sock {
    __u64 stamped; /* packets whose timestamp the program wrote */
    __u64 refused; /* packets left with the daemon's time (out of EGRESS_MAX_AHEAD_NS) */
    __u16 port;    /* the socket's local port, network order: the UDP source port of its own
                    * datagrams (a tunnel's outer datagram still owned by it has another) */
    __u16 pad[3];
};

/* The one entry of `conf`. */
struct egress_conf {
    __u64 tai_offset_ns; /* CLOCK_TAI - CLOCK_REALTIME, whole seconds */
};

#endif
