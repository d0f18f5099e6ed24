/* wire_int.h - helpers shared by the wire*.c files only. */
#ifndef LP_WIRE_INT_H
#define LP_WIRE_INT_H

#include <string.h>

#include "wire.h"

/* Round n up to a multiple of the 16-octet block. */
static inline size_t wire_round16(size_t n)
{
    return (n + WIRE_BLOCK_LEN - 1) & ~(size_t)(WIRE_BLOCK_LEN - 1);
}

/* True when the n octets at buf + off are zero. */
static inline bool wire_mbz_ok(const uint8_t *buf, size_t off, size_t n)
{
    return lp_all_zero(buf + off, n);
}

/* A must-be-zero run inside a packet layout. */
struct wire_span {
    uint8_t off;
    uint8_t len;
};

/* True when every span of the list is zero. */
static inline bool wire_spans_zero(const uint8_t *buf, const struct wire_span *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!lp_all_zero(buf + s[i].off, s[i].len)) {
            return false;
        }
    }
    return true;
}

/* Fields the TWAMP and STAMP Session-Reflector packets share, and their placement in the
 * unauthenticated (layout 0) or authenticated (layout 1) layout (wire_test.c). */
struct wire_refl_common {
    uint32_t seq;
    uint64_t ts;
    uint16_t errest;
    uint64_t recv_ts;
    uint32_t sender_seq;
    uint64_t sender_ts;
    uint16_t sender_errest;
    uint8_t sender_ttl;
};

void wire_refl_put(uint8_t *buf, int layout, const struct wire_refl_common *c);
void wire_refl_get(const uint8_t *buf, int layout, struct wire_refl_common *c);

/* Copy len octets of padding/TLVs after a base (src NULL: zeros). */
static inline void wire_put_tail(uint8_t *dst, const uint8_t *src, size_t len)
{
    if (len == 0) {
        return;
    }
    if (src != NULL) {
        memcpy(dst, src, len);
    } else {
        memset(dst, 0, len);
    }
}

#endif
