/* clock.h - the one time type, NTP and PTP wire formats, the Error Estimate field and the
 * kernel's clock state. */
#ifndef LP_CLOCK_H
#define LP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* A point in time: nanoseconds since the Unix epoch (CLOCK_REALTIME). Wrapped in a struct so
 * it cannot be mixed up with plain integers or durations. */
struct clk_time {
    int64_t ns;
};

/* 64-bit NTP timestamp as on the wire: 32 bits seconds since 1900, 32 bits fraction. */
struct clk_ntp {
    uint64_t raw;
};

/* Where a timestamp came from, best first. */
enum clk_source {
    CLK_SRC_NONE = 0,
    CLK_SRC_HARDWARE = 1, /* NIC clock (PHC) */
    CLK_SRC_KERNEL = 2,   /* kernel software timestamp (SO_TIMESTAMPING) */
    CLK_SRC_USER = 3,     /* clock_gettime() in user space */
};

/* Decoded OWAMP/TWAMP Error Estimate (RFC 4656 §4.1.2): S bit, Z bit (RFC 8186: 1 = PTP
 * truncated timestamp format), 6-bit Scale and 8-bit Multiplier; error = Multiplier * 2^(-32)
 * * 2^Scale seconds. */
struct clk_errest {
    bool sync;
    bool ptp;
    uint8_t scale;
    uint8_t mult;
};

/* Seconds between the NTP era-0 epoch (1900) and the Unix epoch (1970). */
#define CLK_NTP_UNIX_OFFSET 2208988800ULL

/* Current CLOCK_REALTIME. */
struct clk_time clk_now(void);

/* Conversions between the time type and the 64-bit NTP format; rounding to nearest. */
struct clk_ntp clk_to_ntp(struct clk_time t);
struct clk_time clk_from_ntp(struct clk_ntp n);

/* RFC 8186 PTPv2 truncated format: 32-bit seconds since 1970, 32-bit nanoseconds. */
uint64_t clk_to_ptp(struct clk_time t);
struct clk_time clk_from_ptp(uint64_t ptp);

/* Durations in NTP 32.32 fixed point (Timeout and schedule parameters) to and from ns. */
uint64_t clk_ns_to_ntp_duration(int64_t ns);
int64_t clk_ntp_duration_to_ns(uint64_t d);

/* Error Estimate field, 16 bits on the wire. */
uint16_t clk_errest_encode(struct clk_errest e);
struct clk_errest clk_errest_decode(uint16_t v);

/* The estimate's error in nanoseconds (saturating). */
uint64_t clk_errest_ns(struct clk_errest e);

/* The smallest estimate that covers err_ns (never below the true error); sync as given. */
struct clk_errest clk_errest_from_ns(uint64_t err_ns, bool sync);

/* The kernel's view of its clock, from ntp_adjtime(): synchronised or not, and the
 * estimated/maximum error. */
struct clk_state {
    bool synced;
    uint64_t esterror_ns;
    uint64_t maxerror_ns;
    int32_t tai_offset_s; /* TAI - UTC as the kernel knows it (0 when unset) */
};

/* Read the kernel clock state; returns 0 or LP_E_IO. */
int clk_state_read(struct clk_state *st);

/* Error Estimate to put in packets for this clock state (err = esterror plus resolution). */
struct clk_errest clk_state_errest(const struct clk_state *st);

/* --- Additions by the clock module (new declarations only) --- */

/* Error used for an unsynchronised clock whose kernel maxerror is unknown (0): 16 s, the cap
 * Linux puts on maxerror (NTP_PHASE_LIMIT). */
#define CLK_UNSYNC_ERROR_NS 16000000000ULL

/* False when the estimate is unusable: RFC 4656 forbids Multiplier 0. clk_errest_ns() treats
 * such an estimate as an unbounded error (UINT64_MAX). */
bool clk_errest_valid(struct clk_errest e);

/* Fill st from what ntp_adjtime() returned: its return value, timex.status and the
 * esterror/maxerror fields (always microseconds, whatever STA_NANO says). Pure; for tests. */
void clk_state_from_kernel(int ret, int status, long esterror_us, long maxerror_us,
                           struct clk_state *st);

/* clk_state_errest() with an explicit clock resolution instead of clock_getres(). Pure. */
struct clk_errest clk_errest_for_state(const struct clk_state *st, uint64_t res_ns);

#endif
