/* common.h - error codes and big-endian load/store helpers shared by every module. */
#ifndef LP_COMMON_H
#define LP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One error convention for the whole library: 0 on success, a negative LP_E* on failure. */
enum lp_err {
    LP_OK = 0,
    LP_E_SHORT = -1,     /* buffer shorter than the message needs */
    LP_E_MBZ = -2,       /* a must-be-zero field is not zero */
    LP_E_CMD = -3,       /* unknown or unexpected command number */
    LP_E_MODE = -4,      /* unsupported or unoffered mode */
    LP_E_LEN = -5,       /* inconsistent length or count field */
    LP_E_VALUE = -6,     /* a field holds a value the RFC does not allow */
    LP_E_HMAC = -7,      /* HMAC does not verify */
    LP_E_AUTH = -8,      /* authentication failed (token, identity, key) */
    LP_E_NOMEM = -9,     /* allocation failed or a configured bound was hit */
    LP_E_STATE = -10,    /* message not valid in the current protocol state */
    LP_E_CRYPTO = -11,   /* crypto back end failure */
    LP_E_IO = -12,       /* system call failed (errno is kept by the caller) */
    LP_E_NOTFOUND = -13, /* no such key, session or entry */
    LP_E_SYNTAX = -14,   /* config or option syntax error */
    LP_E_REFUSED = -15,  /* peer refused (Accept != 0) */
    LP_E_TIMEOUT = -16,  /* a protocol timer expired */
};

/* The toolkit's version ("1.0.0", from the VERSION file), for --version and the JSON
 * documents. */
const char *lp_version(void);

/* Short English text for an lp_err value (static storage). */
const char *lp_strerror(int err);

static inline uint16_t lp_load16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t lp_load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t lp_load64(const uint8_t *p)
{
    return (uint64_t)lp_load32(p) << 32 | lp_load32(p + 4);
}

static inline void lp_store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void lp_store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void lp_store64(uint8_t *p, uint64_t v)
{
    lp_store32(p, (uint32_t)(v >> 32));
    lp_store32(p + 4, (uint32_t)v);
}

/* True when all len octets at p are zero. */
static inline bool lp_all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

#define LP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
