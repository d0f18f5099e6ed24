/* clock.c - the time type, NTP 32.32 and PTP truncated wire formats, the Error Estimate field
 * and the kernel's clock state. Integer arithmetic only: no double on any path. */
#include "clock.h"

#include <sys/timex.h>
#include <time.h>

#include "common.h"

#define NS_PER_S 1000000000ULL
#define FRAC_HALF (1ULL << 31)
#define ERA_PIVOT 0x80000000ULL /* NTP seconds below this belong to era 1 (RFC 4330 §3) */
#define MULT_MAX 255U
#define SCALE_MAX 63U
#define RES_FALLBACK_NS 1000ULL /* used if clock_getres() fails: 1 µs, a coarse clock */

/* Nanoseconds (< 1 s) to a 32-bit binary fraction, rounded to nearest. Never carries:
 * 999999999 ns maps to 0xfffffffc. */
static uint32_t ns_to_frac(uint64_t ns)
{
    return (uint32_t)(((ns << 32) + NS_PER_S / 2) / NS_PER_S);
}

/* A 32-bit binary fraction to nanoseconds, rounded to nearest (may return exactly 1e9). */
static uint64_t frac_to_ns(uint32_t frac)
{
    return ((uint64_t)frac * NS_PER_S + FRAC_HALF) >> 32;
}

/* Split t into whole seconds (floor) and the nanoseconds within that second. */
static void split_ns(int64_t ns, int64_t *sec, uint64_t *rem)
{
    int64_t s = ns / (int64_t)NS_PER_S;
    int64_t r = ns % (int64_t)NS_PER_S;
    if (r < 0) {
        r += (int64_t)NS_PER_S;
        s--;
    }
    *sec = s;
    *rem = (uint64_t)r;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

struct clk_time clk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (struct clk_time){(int64_t)ts.tv_sec * (int64_t)NS_PER_S + ts.tv_nsec};
}

/* The seconds field is taken modulo 2^32, so times from 2036-02-07 on land in era 1 as
 * RFC 5905 prescribes; nothing overflows for any input. */
struct clk_ntp clk_to_ntp(struct clk_time t)
{
    int64_t sec;
    uint64_t rem;
    split_ns(t.ns, &sec, &rem);
    uint64_t ntp_sec = (uint64_t)sec + CLK_NTP_UNIX_OFFSET;
    return (struct clk_ntp){ntp_sec << 32 | ns_to_frac(rem)};
}

/* Era is inferred as in RFC 4330 §3: seconds with the top bit set are 1968-2036 (era 0),
 * seconds with it clear are 2036-2104 (era 1). So every timestamp OWAMP can carry today and
 * for the next 80 years maps back to the right instant. */
struct clk_time clk_from_ntp(struct clk_ntp n)
{
    uint64_t sec = n.raw >> 32;
    if (sec < ERA_PIVOT) {
        sec += 1ULL << 32;
    }
    int64_t unix_sec = (int64_t)sec - (int64_t)CLK_NTP_UNIX_OFFSET;
    uint64_t ns = frac_to_ns((uint32_t)n.raw);
    return (struct clk_time){unix_sec * (int64_t)NS_PER_S + (int64_t)ns};
}

/* No UTC/TAI offset is applied: the seconds are those of the clock the caller read (pass a
 * CLOCK_TAI reading for a true PTP timescale). Seconds wrap modulo 2^32 (year 2106). */
uint64_t clk_to_ptp(struct clk_time t)
{
    int64_t sec;
    uint64_t rem;
    split_ns(t.ns, &sec, &rem);
    return (uint64_t)sec << 32 | rem;
}

/* A nanoseconds field above 999999999 is invalid on the wire; it is clamped. */
struct clk_time clk_from_ptp(uint64_t ptp)
{
    uint64_t sec = ptp >> 32;
    uint64_t ns = ptp & 0xffffffffULL;
    if (ns >= NS_PER_S) {
        ns = NS_PER_S - 1;
    }
    return (struct clk_time){(int64_t)(sec * NS_PER_S + ns)};
}

/* Negative durations give 0; durations of 2^32 s or more saturate to the largest value. */
uint64_t clk_ns_to_ntp_duration(int64_t ns)
{
    if (ns <= 0) {
        return 0;
    }
    uint64_t sec = (uint64_t)ns / NS_PER_S;
    uint64_t rem = (uint64_t)ns % NS_PER_S;
    if (sec > UINT32_MAX) {
        return UINT64_MAX;
    }
    return sec << 32 | ns_to_frac(rem);
}

int64_t clk_ntp_duration_to_ns(uint64_t d)
{
    return (int64_t)((d >> 32) * NS_PER_S + frac_to_ns((uint32_t)d));
}

uint16_t clk_errest_encode(struct clk_errest e)
{
    return (uint16_t)((e.sync ? 0x8000U : 0U) | (e.ptp ? 0x4000U : 0U) |
                      (unsigned)(e.scale & SCALE_MAX) << 8 | e.mult);
}

struct clk_errest clk_errest_decode(uint16_t v)
{
    return (struct clk_errest){
        .sync = (v & 0x8000U) != 0,
        .ptp = (v & 0x4000U) != 0,
        .scale = (uint8_t)((v >> 8) & SCALE_MAX),
        .mult = (uint8_t)v,
    };
}

bool clk_errest_valid(struct clk_errest e)
{
    return e.mult != 0 && e.scale <= SCALE_MAX;
}

/* Multiplier * 2^(Scale - 32) s in ns, rounded up so the figure never understates the error.
 * An invalid estimate (Multiplier 0) means "error unknown" and yields UINT64_MAX. */
uint64_t clk_errest_ns(struct clk_errest e)
{
    if (!clk_errest_valid(e)) {
        return UINT64_MAX;
    }
    uint64_t v = (uint64_t)e.mult * NS_PER_S; /* < 2^38 */
    if (e.scale >= 32) {
        unsigned k = e.scale - 32U;
        return v > (UINT64_MAX >> k) ? UINT64_MAX : v << k;
    }
    unsigned k = 32U - e.scale;
    return (v + (1ULL << k) - 1) >> k;
}

/* The least multiplier m with m * 2^(scale-32) s >= err_ns, or MULT_MAX + 1 if none fits. */
static uint64_t mult_needed(uint64_t err_ns, unsigned scale)
{
    if (scale <= 32) {
        unsigned k = 32U - scale;
        if (err_ns > ((MULT_MAX * NS_PER_S) >> k)) {
            return MULT_MAX + 1;
        }
        return ((err_ns << k) + NS_PER_S - 1) / NS_PER_S;
    }
    /* ceil(err / (1e9 * 2^k)) == ceil(ceil(err / 1e9) / 2^k), without overflow */
    unsigned k = scale - 32U;
    uint64_t sec = err_ns / NS_PER_S + (err_ns % NS_PER_S != 0);
    return (sec >> k) + ((sec & ((1ULL << k) - 1)) != 0);
}

/* Scanning scales upwards, the first scale whose multiplier fits gives the least value >= err:
 * a coarser grid can only round the same error up further. Multiplier 0 is never produced (an
 * error of 0 encodes as 1 * 2^-32 s). Saturates at the largest estimate (about 17000 years). */
struct clk_errest clk_errest_from_ns(uint64_t err_ns, bool sync)
{
    for (unsigned scale = 0; scale <= SCALE_MAX; scale++) {
        uint64_t m = mult_needed(err_ns, scale);
        if (m <= MULT_MAX) {
            return (struct clk_errest){sync, false, (uint8_t)scale, (uint8_t)(m ? m : 1)};
        }
    }
    return (struct clk_errest){sync, false, SCALE_MAX, MULT_MAX};
}

static uint64_t us_to_ns(long us)
{
    if (us <= 0) {
        return 0;
    }
    return (uint64_t)us > UINT64_MAX / 1000 ? UINT64_MAX : (uint64_t)us * 1000;
}

/* Synchronised means the kernel says so twice: no TIME_ERROR state and STA_UNSYNC clear
 * (ntpd, chronyd and ptp4l/phc2sys clear STA_UNSYNC while they discipline the clock). */
void clk_state_from_kernel(int ret, int status, long esterror_us, long maxerror_us,
                           struct clk_state *st)
{
    st->synced = ret != TIME_ERROR && (status & STA_UNSYNC) == 0;
    st->esterror_ns = us_to_ns(esterror_us);
    st->maxerror_ns = us_to_ns(maxerror_us);
}

int clk_state_read(struct clk_state *st)
{
    struct timex tx = {.modes = 0}; /* read only */
    int ret = ntp_adjtime(&tx);
    if (ret < 0) {
        return LP_E_IO;
    }
    clk_state_from_kernel(ret, tx.status, tx.esterror, tx.maxerror, st);
    st->tai_offset_s = (int32_t)tx.tai;
    return 0;
}

/* Synchronised: the daemon's estimated error plus the clock's resolution (a timestamp cannot be
 * better than one tick), S = 1. Unsynchronised: S = 0 and the kernel's maximum error (which it
 * grows by 500 ppm a second since the last update, up to 16 s), or CLK_UNSYNC_ERROR_NS when it
 * reports none: a host without time sync must not claim sub-nanosecond accuracy. */
struct clk_errest clk_errest_for_state(const struct clk_state *st, uint64_t res_ns)
{
    if (st->synced) {
        return clk_errest_from_ns(sat_add(st->esterror_ns, res_ns), true);
    }
    uint64_t err = st->maxerror_ns > st->esterror_ns ? st->maxerror_ns : st->esterror_ns;
    if (err == 0) {
        err = CLK_UNSYNC_ERROR_NS;
    }
    return clk_errest_from_ns(sat_add(err, res_ns), false);
}

struct clk_errest clk_state_errest(const struct clk_state *st)
{
    struct timespec res;
    uint64_t res_ns = RES_FALLBACK_NS;
    if (clock_getres(CLOCK_REALTIME, &res) == 0) {
        res_ns = (uint64_t)res.tv_sec * NS_PER_S + (uint64_t)res.tv_nsec;
    }
    return clk_errest_for_state(st, res_ns);
}
