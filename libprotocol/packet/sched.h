/* sched.h - OWAMP/TWAMP send schedules (RFC 4656 §3.5 and §5): a list of slots used
 * cyclically, each a fixed delay or an exponentially distributed one whose pseudo-random
 * deviates come from AES-128 keyed with the SID, so sender and receiver compute the same
 * send times. All arithmetic is the RFC's 32.32 fixed point; no floating point. */
#ifndef LP_SCHED_H
#define LP_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define SCHED_SID_LEN 16

/* Slot Type values on the wire (RFC 4656 §3.5). */
enum sched_slot_type {
    SCHED_SLOT_EXP = 0,   /* exponential delay; value is the mean */
    SCHED_SLOT_FIXED = 1, /* fixed delay; value is the delay */
};

/* One schedule slot: type plus an NTP 32.32 duration (see clk_ns_to_ntp_duration). */
struct sched_slot {
    uint8_t type;
    uint64_t value;
};

/* A session's schedule generator (opaque). */
struct sched;

/* Create a schedule over a copy of slots[0..nslots-1], keyed by sid. 0 with *out set, or
 * LP_E_LEN (no slots), LP_E_VALUE (unknown slot type), LP_E_NOMEM. */
int sched_create(const struct sched_slot *slots, size_t nslots, const uint8_t sid[SCHED_SID_LEN],
                 struct sched **out);

struct wire_slot;

/* The same from the slots of a Request-Session (wire.h). */
int sched_create_wire(const struct wire_slot *slots, size_t nslots,
                      const uint8_t sid[SCHED_SID_LEN], struct sched **out);

/* Send offsets of the first and the last of npackets packets (NTP 32.32 durations from the
 * start time) of the schedule of slots and sid. 0, or sched_create's error. */
int sched_span(const struct wire_slot *slots, size_t nslots, const uint8_t sid[SCHED_SID_LEN],
               uint32_t npackets, uint64_t *first, uint64_t *last);

/* Free a schedule (NULL is fine). */
void sched_destroy(struct sched *s);

/* Advance to the next packet and return its send offset from the session start time, as an
 * NTP 32.32 duration: packet n is sent at start + delay(0) + ... + delay(n). Saturates. */
uint64_t sched_next_offset(struct sched *s);

/* Number of offsets returned so far (the sequence number of the next packet). */
uint64_t sched_count(const struct sched *s);

/* Rewind to packet 0 (same slots and SID): the same offsets come out again. */
void sched_reset(struct sched *s);

/* One exponential deviate of mean 1 in 32.32 fixed point (RFC 4656 §5 algorithm S), drawn
 * from s's random stream; sched_next_offset uses this for exponential slots. */
uint64_t sched_exp_deviate(struct sched *s);

/* The absolute send time of a packet: start (the Request-Session Start Time) plus an offset,
 * added in NTP format and converted once. */
struct clk_time sched_send_time(struct clk_ntp start, uint64_t offset);

#endif
