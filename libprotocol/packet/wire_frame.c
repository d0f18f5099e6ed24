/* wire_frame.c - how long is the control message at the head of a buffer
 * (wire_ctrl_msg_len). Lengths of OWAMP Request-Session and of the RFC 5938 messages come
 * from a count in their first block; OWAMP Stop-Sessions is walked description by
 * description, one block at a time. */
#include "wire.h"
#include "wire_int.h"

#define STOP_HDR_LEN 16

/* Result helpers: a complete length, or "need this much to learn more". */
static long known_len(size_t n, bool *known)
{
    *known = true;
    return (long)n;
}

static long need_more(size_t n, bool *known)
{
    *known = false;
    return (long)n;
}

/* OWAMP Stop-Sessions: header, then per description a SID block and a block holding Next
 * Seqno and the skip-range count, from which its padded length follows. */
static long ow_stop_len(const uint8_t *buf, size_t have, bool *known)
{
    size_t off = STOP_HDR_LEN;
    uint32_t nsessions;

    if (have < STOP_HDR_LEN) {
        return need_more(STOP_HDR_LEN, known);
    }
    nsessions = lp_load32(buf + 4);
    if (nsessions > WIRE_MAX_SESSIONS) {
        return LP_E_LEN;
    }
    for (uint32_t i = 0; i < nsessions; i++) {
        uint32_t nskips;

        if (have < off + 32) {
            return need_more(off + 32, known);
        }
        nskips = lp_load32(buf + off + 20);
        if (nskips > WIRE_MAX_SKIP_RANGES) {
            return LP_E_LEN;
        }
        off += wire_session_desc_len(nskips);
    }
    return known_len(off + WIRE_HMAC_LEN, known);
}

/* A message whose count sits in its first block at count_off: fixed octets plus elem
 * octets per counted item. */
static long counted_len(const uint8_t *buf, size_t have, size_t count_off, uint32_t max,
                        size_t fixed, size_t elem, bool *known)
{
    uint32_t n;

    if (have < count_off + 4) {
        return need_more(WIRE_BLOCK_LEN, known);
    }
    n = lp_load32(buf + count_off);
    if (n > max) {
        return LP_E_LEN;
    }
    return known_len(fixed + (size_t)n * elem, known);
}

static long owamp_cmd_len(const uint8_t *buf, size_t have, bool *known)
{
    switch (buf[0]) {
    case WIRE_CMD_REQUEST_SESSION:
        return counted_len(buf, have, 4, WIRE_MAX_SLOTS, WIRE_REQUEST_LEN + WIRE_HMAC_LEN,
                           WIRE_SLOT_LEN, known);
    case WIRE_CMD_START_SESSIONS: return known_len(WIRE_START_SESSIONS_LEN, known);
    case WIRE_CMD_STOP_SESSIONS: return ow_stop_len(buf, have, known);
    case WIRE_CMD_FETCH_SESSION: return known_len(WIRE_FETCH_SESSION_LEN, known);
    default: return LP_E_CMD;
    }
}

static long twamp_cmd_len(const uint8_t *buf, size_t have, bool *known)
{
    switch (buf[0]) {
    case WIRE_CMD_START_SESSIONS: return known_len(WIRE_START_SESSIONS_LEN, known);
    case WIRE_CMD_STOP_SESSIONS: return known_len(WIRE_TW_STOP_LEN, known);
    case WIRE_CMD_REQUEST_TW_SESSION: return known_len(WIRE_REQUEST_LEN, known);
    case WIRE_CMD_START_N_SESSIONS:
    case WIRE_CMD_START_N_ACK:
    case WIRE_CMD_STOP_N_SESSIONS:
    case WIRE_CMD_STOP_N_ACK:
        return counted_len(buf, have, 12, WIRE_MAX_SESSIONS, 16 + WIRE_HMAC_LEN, WIRE_SID_LEN,
                           known);
    default: return LP_E_CMD;
    }
}

static long fixed_len(enum wire_msg kind)
{
    switch (kind) {
    case WIRE_MSG_GREETING: return WIRE_GREETING_LEN;
    case WIRE_MSG_SETUP: return WIRE_SETUP_LEN;
    case WIRE_MSG_SERVER_START: return WIRE_SERVER_START_LEN;
    case WIRE_MSG_ACCEPT_SESSION: return WIRE_ACCEPT_SESSION_LEN;
    case WIRE_MSG_START_ACK: return WIRE_START_ACK_LEN;
    case WIRE_MSG_FETCH_ACK: return WIRE_FETCH_ACK_LEN;
    default: return LP_E_VALUE;
    }
}

long wire_ctrl_msg_len(const uint8_t *buf, size_t have, enum wire_proto proto, enum wire_msg kind,
                       bool *known)
{
    *known = false;
    if (kind != WIRE_MSG_COMMAND) {
        long n = fixed_len(kind);

        return n < 0 ? n : known_len((size_t)n, known);
    }
    if (have < 1) {
        return need_more(WIRE_BLOCK_LEN, known);
    }
    if (proto == WIRE_OWAMP) {
        return owamp_cmd_len(buf, have, known);
    }
    if (proto == WIRE_TWAMP) {
        return twamp_cmd_len(buf, have, known);
    }
    return LP_E_VALUE;
}
