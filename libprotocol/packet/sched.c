/* sched.c - RFC 4656 send schedules: cyclic slots, and the exponential deviates of §5 /
 * Appendix A (Knuth's algorithm S fed by AES-128 in counter mode keyed with the SID). */
#include "sched.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "crypto.h"
#include "wire.h"

/* Q[k] = ln2/1! + ln2^2/2! + ... + ln2^k/k!, times 2^32, rounded to nearest; Q[11] would round
 * to 2^32 and is held at 2^32 - 1 (every U is below it). Q[1] is ln 2. */
static const uint32_t exp_q[] = {
    0,          0xB17217F8, 0xEEF193F7, 0xFD271862, 0xFF9D6DD0, 0xFFF4CFD0,
    0xFFFEE819, 0xFFFFE7FF, 0xFFFFFE2B, 0xFFFFFFE0, 0xFFFFFFFE, 0xFFFFFFFF,
};
#define EXP_LN2 exp_q[1]
#define EXP_KMAX (LP_ARRAY_LEN(exp_q) - 1)

struct sched {
    struct cry_aes_ecb aes; /* key = SID */
    uint64_t counter;       /* uniforms drawn so far; the AES input is this as 128-bit BE */
    uint8_t block[16];      /* AES(counter rounded down to a multiple of 4) */
    uint64_t count;         /* packets scheduled so far */
    uint64_t offset;        /* cumulative offset of the last packet */
    size_t nslots;
    struct sched_slot slots[];
};

/* 32.32 fixed-point product as RFC 4656 §5.2 defines it: bits 32..95 of the 128-bit product
 * (truncated, modulo 2^64). Written with 32-bit halves so it needs no 128-bit type. */
static uint64_t fix_mul(uint64_t a, uint64_t b)
{
    uint64_t ah = a >> 32, al = a & 0xffffffffULL;
    uint64_t bh = b >> 32, bl = b & 0xffffffffULL;
    return (ah * bh << 32) + ah * bl + al * bh + (al * bl >> 32);
}

/* Next 32-bit uniform binary fraction: one AES block per four draws, the counter (128-bit,
 * network order, starting at 0) counting draws, and draw c taking octets 4*(c mod 4) ... of
 * the block encrypted when c mod 4 was 0. */
static uint32_t unif_next(struct sched *s)
{
    unsigned quarter = (unsigned)(s->counter & 3);
    if (quarter == 0) {
        uint8_t in[16] = {0};
        lp_store64(in + 8, s->counter);
        cry_aes_ecb_block(&s->aes, in, s->block);
    }
    s->counter++;
    return lp_load32(s->block + 4 * quarter);
}

/* S1: count the leading one bits j of u and shift them off together with the first zero.
 * With no zero at all, j = 32 and the fraction left is 0. */
static uint32_t shift_leading_ones(uint32_t u, uint32_t *j)
{
    uint32_t n = 0;
    while (n < 32 && (u & 0x80000000U) != 0) {
        u <<= 1;
        n++;
    }
    *j = n;
    return n < 32 ? u << 1 : 0;
}

uint64_t sched_exp_deviate(struct sched *s)
{
    uint32_t j;
    uint32_t u = shift_leading_ones(unif_next(s), &j);
    uint64_t jj = (uint64_t)j << 32;
    if (u < EXP_LN2) { /* S2: immediate acceptance, j*ln2 + U */
        return fix_mul(jj, EXP_LN2) + u;
    }
    size_t k = 2; /* S3: least k >= 2 with U < Q[k], then the minimum of k uniforms */
    while (k < EXP_KMAX && u >= exp_q[k]) {
        k++;
    }
    uint32_t v = unif_next(s);
    for (size_t i = 2; i <= k; i++) {
        uint32_t w = unif_next(s);
        if (w < v) {
            v = w;
        }
    }
    return fix_mul(jj + v, EXP_LN2); /* S4: (j + V) * ln2 */
}

static uint64_t slot_delay(struct sched *s, const struct sched_slot *slot)
{
    if (slot->type == SCHED_SLOT_FIXED) {
        return slot->value;
    }
    return fix_mul(sched_exp_deviate(s), slot->value);
}

uint64_t sched_next_offset(struct sched *s)
{
    const struct sched_slot *slot = &s->slots[s->count % s->nslots];
    uint64_t d = slot_delay(s, slot);
    s->offset = s->offset > UINT64_MAX - d ? UINT64_MAX : s->offset + d;
    s->count++;
    return s->offset;
}

uint64_t sched_count(const struct sched *s)
{
    return s->count;
}

void sched_reset(struct sched *s)
{
    s->counter = 0;
    s->count = 0;
    s->offset = 0;
}

int sched_create(const struct sched_slot *slots, size_t nslots, const uint8_t sid[SCHED_SID_LEN],
                 struct sched **out)
{
    if (nslots == 0 || nslots > (SIZE_MAX - sizeof(struct sched)) / sizeof(*slots)) {
        return LP_E_LEN;
    }
    for (size_t i = 0; i < nslots; i++) {
        if (slots[i].type != SCHED_SLOT_EXP && slots[i].type != SCHED_SLOT_FIXED) {
            return LP_E_VALUE;
        }
    }
    struct sched *s = calloc(1, sizeof(*s) + nslots * sizeof(*slots));
    if (s == NULL) {
        return LP_E_NOMEM;
    }
    cry_aes_ecb_init(&s->aes, sid);
    s->nslots = nslots;
    memcpy(s->slots, slots, nslots * sizeof(*slots));
    *out = s;
    return 0;
}

void sched_destroy(struct sched *s)
{
    if (s != NULL) {
        cry_wipe(s, sizeof(*s));
        free(s);
    }
}

struct clk_time sched_send_time(struct clk_ntp start, uint64_t offset)
{
    return clk_from_ntp((struct clk_ntp){start.raw + offset});
}

int sched_create_wire(const struct wire_slot *slots, size_t nslots,
                      const uint8_t sid[SCHED_SID_LEN], struct sched **out)
{
    struct sched_slot *ss = calloc(nslots ? nslots : 1, sizeof(*ss));
    if (!ss) {
        return LP_E_NOMEM;
    }
    for (size_t i = 0; i < nslots; i++) {
        ss[i] = (struct sched_slot){.type = slots[i].type, .value = slots[i].param};
    }
    int rc = sched_create(ss, nslots, sid, out);
    free(ss);
    return rc;
}

int sched_span(const struct wire_slot *slots, size_t nslots, const uint8_t sid[SCHED_SID_LEN],
               uint32_t npackets, uint64_t *first, uint64_t *last)
{
    struct sched *g;
    int rc = sched_create_wire(slots, nslots, sid, &g);
    if (rc < 0) {
        return rc;
    }
    *first = *last = npackets ? sched_next_offset(g) : 0;
    for (uint32_t i = 1; i < npackets; i++) {
        *last = sched_next_offset(g);
    }
    sched_destroy(g);
    return 0;
}
