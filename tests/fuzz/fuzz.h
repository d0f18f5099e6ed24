/* fuzz.h - helpers shared by the fuzz harnesses (tests/fuzz/fuzz_*.c): a reader that takes
 * fields off the fuzz input, a deterministic random source (so every input replays the
 * same way), and FUZZ_CHECK for invariants whose failure is a bug. Header-only. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: report and abort (the fuzzer records a crash). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Fields taken from the front of the input; past the end every read gives zeros. */
struct fz {
    const uint8_t *p;
    size_t left;
};

static inline uint8_t fz_u8(struct fz *f)
{
    if (f->left == 0) {
        return 0;
    }
    f->left--;
    return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
    uint16_t hi = fz_u8(f);
    return (uint16_t)(hi << 8 | fz_u8(f));
}

static inline uint32_t fz_u32(struct fz *f)
{
    uint32_t hi = fz_u16(f);
    return hi << 16 | fz_u16(f);
}

/* Up to n octets as a view (fewer at the end of the input). */
static inline const uint8_t *fz_take(struct fz *f, size_t n, size_t *got)
{
    const uint8_t *p = f->p;
    *got = n < f->left ? n : f->left;
    f->p += *got;
    f->left -= *got;
    return p;
}

/* ---- deterministic randombytes for libsodium (a fixed-seed xorshift; NOT for real use) */

static uint64_t fz_rng_state = 0x9e3779b97f4a7c15ull;

static inline uint32_t fz_rng_random(void)
{
    uint64_t x = fz_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    fz_rng_state = x;
    return (uint32_t)(x >> 32);
}

static inline void fz_rng_buf(void *const buf, const size_t size)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < size; i++) {
        p[i] = (uint8_t)fz_rng_random();
    }
}

static inline const char *fz_rng_name(void)
{
    return "fuzz-xorshift";
}

static struct randombytes_implementation fz_rng_impl = {
    .implementation_name = fz_rng_name,
    .random = fz_rng_random,
    .buf = fz_rng_buf,
};

/* Once per process: the deterministic random source, then libsodium. */
static inline void fz_crypto_init(void)
{
    static int done;
    if (!done) {
        randombytes_set_implementation(&fz_rng_impl);
        if (cry_init() < 0) {
            abort();
        }
        done = 1;
    }
}

/* Per input: restart the random sequence so the input replays identically. */
static inline void fz_rng_reset(void)
{
    fz_rng_state = 0x9e3779b97f4a7c15ull;
}

#endif
