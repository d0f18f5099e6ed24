/* netsim.h - what netsim's option parser hands to the relay (see netsim.c and README.md). */
#ifndef NETSIM_H
#define NETSIM_H

#include <stdbool.h>
#include <stdint.h>

#define NETSIM_RANGES_MAX 64

enum { NETSIM_A2B = 0, NETSIM_B2A = 1 }; /* direction d reads side d, writes side 1 - d */
enum { NETSIM_PORT_ANY, NETSIM_PORT_EITHER, NETSIM_PORT_SRC, NETSIM_PORT_DST };

struct netsim_range {
    uint64_t lo, hi;
};

/* Packet indexes (0-based, counted over the matching packets of one direction). */
struct netsim_list {
    int n;
    struct netsim_range r[NETSIM_RANGES_MAX];
};

/* The impairment of one direction. */
struct netsim_profile {
    int64_t delay_ns, jitter_ns;
    bool keep_order;
    double loss, dup, reorder; /* probabilities, 0..1 */
    struct netsim_list drop, dup_at, swap;
};

/* The packets that loss, duplication, reordering and the index patterns apply to. */
struct netsim_match {
    int proto; /* 0 = every packet, else the IP protocol number (17 UDP, 6 TCP) */
    int ports; /* NETSIM_PORT_* */
    uint16_t lo, hi;
};

struct netsim_options {
    const char *ns[2], *dev, *ready_file;
    uint64_t seed;
    int dir_mask; /* bit d set: un-prefixed impairments apply to direction d */
    bool stats, verbose;
    int64_t spin_ns; /* busy-wait before each release */
    int64_t hold_ns; /* longest wait for a swap partner */
    struct netsim_match match;
    struct netsim_profile prof[2]; /* indexed by NETSIM_A2B / NETSIM_B2A */
};

/* Parse the command line; 0 to run, 1 after --help (printed), -1 on an error (reported). */
int netsim_parse_options(int argc, char **argv, struct netsim_options *o);

/* Whether index i is in the list. */
bool netsim_list_has(const struct netsim_list *l, uint64_t i);

#endif
