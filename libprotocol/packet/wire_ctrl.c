/* wire_ctrl.c - OWAMP/TWAMP-Control connection set-up, session requests, Accept-Session,
 * Start-Sessions/Start-Ack and the RFC 5938 SID-list messages. */
#include <string.h>

#include "wire.h"
#include "wire_int.h"

/* Feature bits a client may add to its security mode. */
#define OWAMP_FEATURES (WIRE_MODE_IKEV2)
#define TWAMP_FEATURES                                                                             \
    (WIRE_MODE_INDIV_CTRL | WIRE_MODE_REFLECT_OCTETS | WIRE_MODE_SYMMETRIC | WIRE_MODE_IKEV2 |     \
     WIRE_MODE_DSCP_ECN | WIRE_MODE_PTP)

int wire_mode_check(uint32_t mode, enum wire_proto proto)
{
    uint32_t sec = mode & WIRE_MODE_SECURITY;
    uint32_t features = proto == WIRE_TWAMP ? TWAMP_FEATURES : OWAMP_FEATURES;

    if (sec == 0 || (sec & (sec - 1)) != 0) {
        return LP_E_MODE;
    }
    if (proto != WIRE_TWAMP && sec == WIRE_MODE_MIXED) {
        return LP_E_MODE;
    }
    if ((mode & ~(WIRE_MODE_SECURITY | features)) != 0) {
        return LP_E_MODE;
    }
    return 0;
}

uint32_t wire_typep_dscp(uint8_t dscp)
{
    return (uint32_t)(dscp & 0x3fu) << 24;
}

int wire_typep_parse(uint32_t typep, struct wire_typep *out)
{
    memset(out, 0, sizeof(*out));
    out->format = (uint8_t)(typep >> 30);
    switch (out->format) {
    case 0:
        out->dscp = (uint8_t)((typep >> 24) & 0x3fu);
        return (typep & 0x00ffffffu) != 0 ? LP_E_MBZ : 0;
    case 1: out->phb_id = (uint16_t)(typep >> 14); return (typep & 0x3fffu) != 0 ? LP_E_MBZ : 0;
    default: return LP_E_VALUE;
    }
}

/* ------------------------------------------------------------ connection set-up */

int wire_greeting_encode(const struct wire_greeting *g, uint8_t *buf, size_t len)
{
    if (len < WIRE_GREETING_LEN) {
        return LP_E_SHORT;
    }
    memset(buf, 0, WIRE_GREETING_LEN);
    lp_store32(buf + 12, g->modes);
    memcpy(buf + 16, g->challenge, WIRE_CHALLENGE_LEN);
    memcpy(buf + 32, g->salt, WIRE_SALT_LEN);
    lp_store32(buf + 48, g->count);
    return WIRE_GREETING_LEN;
}

int wire_greeting_decode(const uint8_t *buf, size_t len, struct wire_greeting *g)
{
    if (len < WIRE_GREETING_LEN) {
        return LP_E_SHORT;
    }
    if (!wire_mbz_ok(buf, 52, 12)) {
        return LP_E_MBZ;
    }
    g->modes = lp_load32(buf + 12);
    memcpy(g->challenge, buf + 16, WIRE_CHALLENGE_LEN);
    memcpy(g->salt, buf + 32, WIRE_SALT_LEN);
    g->count = lp_load32(buf + 48);
    if ((g->modes & (WIRE_MODE_AUTH | WIRE_MODE_ENC | WIRE_MODE_MIXED)) != 0 && g->count < 1024) {
        return LP_E_VALUE;
    }
    return WIRE_GREETING_LEN;
}

int wire_setup_encode(const struct wire_setup *s, enum wire_proto proto, uint8_t *buf, size_t len)
{
    if (len < WIRE_SETUP_LEN) {
        return LP_E_SHORT;
    }
    if (wire_mode_check(s->mode, proto) != 0) {
        return LP_E_MODE;
    }
    lp_store32(buf, s->mode);
    memcpy(buf + 4, s->keyid, WIRE_KEYID_LEN);
    memcpy(buf + 84, s->token, WIRE_TOKEN_LEN);
    memcpy(buf + 148, s->client_iv, WIRE_IV_LEN);
    return WIRE_SETUP_LEN;
}

int wire_setup_decode(const uint8_t *buf, size_t len, enum wire_proto proto, struct wire_setup *s)
{
    if (len < WIRE_SETUP_LEN) {
        return LP_E_SHORT;
    }
    s->mode = lp_load32(buf);
    if (wire_mode_check(s->mode, proto) != 0) {
        return LP_E_MODE;
    }
    memcpy(s->keyid, buf + 4, WIRE_KEYID_LEN);
    memcpy(s->token, buf + 84, WIRE_TOKEN_LEN);
    memcpy(s->client_iv, buf + 148, WIRE_IV_LEN);
    return WIRE_SETUP_LEN;
}

int wire_server_start_encode(const struct wire_server_start *s, uint8_t *buf, size_t len)
{
    if (len < WIRE_SERVER_START_LEN) {
        return LP_E_SHORT;
    }
    memset(buf, 0, WIRE_SERVER_START_LEN);
    buf[15] = s->accept;
    memcpy(buf + 16, s->server_iv, WIRE_IV_LEN);
    lp_store64(buf + 32, s->start_time.raw);
    return WIRE_SERVER_START_LEN;
}

int wire_server_start_decode_clear(const uint8_t *buf, size_t len, struct wire_server_start *s)
{
    if (len < WIRE_SERVER_START_SEALED_OFF) {
        return LP_E_SHORT;
    }
    memset(s, 0, sizeof(*s));
    s->accept = buf[15]; /* set even when the MBZ octets are not: a refusal stays one */
    memcpy(s->server_iv, buf + 16, WIRE_IV_LEN);
    return wire_mbz_ok(buf, 0, 15) ? WIRE_SERVER_START_SEALED_OFF : LP_E_MBZ;
}

int wire_server_start_decode(const uint8_t *buf, size_t len, struct wire_server_start *s)
{
    if (len < WIRE_SERVER_START_LEN) {
        return LP_E_SHORT;
    }
    int rc = wire_server_start_decode_clear(buf, len, s);
    if (rc < 0) {
        return rc;
    }
    if (!wire_mbz_ok(buf, 40, 8)) {
        return LP_E_MBZ;
    }
    s->start_time.raw = lp_load64(buf + WIRE_SERVER_START_SEALED_OFF);
    return WIRE_SERVER_START_LEN;
}

/* ------------------------------------------------------------- session requests */

static uint8_t request_cmd(enum wire_proto proto)
{
    return proto == WIRE_TWAMP ? WIRE_CMD_REQUEST_TW_SESSION : WIRE_CMD_REQUEST_SESSION;
}

/* Value checks shared by encode and decode (the MBZ ones are the decoder's). */
static int request_check(const struct wire_request *r, enum wire_proto proto)
{
    if (r->ipvn != 4 && r->ipvn != 6) {
        return LP_E_VALUE;
    }
    if (proto == WIRE_OWAMP) {
        if (r->conf_sender > 1 || r->conf_receiver > 1) {
            return LP_E_VALUE;
        }
        if (r->nslots > WIRE_MAX_SLOTS) {
            return LP_E_LEN;
        }
    }
    return 0;
}

/* An address field: 16 octets, of which IPv4 uses the first 4 and the rest are MBZ. */
static void put_addr(uint8_t *dst, const uint8_t *addr, uint8_t ipvn)
{
    memset(dst, 0, WIRE_ADDR_LEN);
    memcpy(dst, addr, ipvn == 4 ? 4 : WIRE_ADDR_LEN);
}

int wire_request_encode(const struct wire_request *r, enum wire_proto proto, uint8_t *buf,
                        size_t len)
{
    int rc = request_check(r, proto);

    if (rc != 0) {
        return rc;
    }
    if (len < WIRE_REQUEST_LEN) {
        return LP_E_SHORT;
    }
    memset(buf, 0, WIRE_REQUEST_LEN);
    buf[0] = request_cmd(proto);
    buf[1] = r->ipvn;
    buf[2] = r->conf_sender;
    buf[3] = r->conf_receiver;
    lp_store32(buf + 4, r->nslots);
    lp_store32(buf + 8, r->npackets);
    lp_store16(buf + 12, r->sender_port);
    lp_store16(buf + 14, r->receiver_port);
    put_addr(buf + 16, r->sender_addr, r->ipvn);
    put_addr(buf + 32, r->receiver_addr, r->ipvn);
    memcpy(buf + 48, r->sid, WIRE_SID_LEN);
    lp_store32(buf + 64, r->padding_len);
    lp_store64(buf + 68, r->start_time.raw);
    lp_store64(buf + 76, r->timeout);
    lp_store32(buf + 84, r->typep);
    if (proto == WIRE_TWAMP) {
        lp_store16(buf + 88, r->octets_reflected);
        lp_store16(buf + 90, r->pad_reflected);
    }
    memcpy(buf + WIRE_REQUEST_HMAC_OFF, r->hmac, WIRE_HMAC_LEN);
    return WIRE_REQUEST_LEN;
}

/* The must-be-zero parts of a Request-Session. */
static int request_mbz(const uint8_t *buf, enum wire_proto proto)
{
    struct wire_typep tp;
    size_t tail = (buf[1] & 0x0fu) == 4 ? 12 : 0;

    if ((buf[1] & 0xf0u) != 0) {
        return LP_E_MBZ;
    }
    if (!wire_mbz_ok(buf, 20, tail) || !wire_mbz_ok(buf, 36, tail)) {
        return LP_E_MBZ;
    }
    if (!wire_mbz_ok(buf, proto == WIRE_TWAMP ? 92 : 88, proto == WIRE_TWAMP ? 4 : 8)) {
        return LP_E_MBZ;
    }
    /* Formats 2 and 3 are left for the server to refuse as "not supported". */
    if (wire_typep_parse(lp_load32(buf + 84), &tp) == LP_E_MBZ) {
        return LP_E_MBZ;
    }
    return 0;
}

int wire_request_decode(const uint8_t *buf, size_t len, enum wire_proto proto,
                        struct wire_request *r)
{
    int rc;

    if (len < WIRE_REQUEST_LEN) {
        return LP_E_SHORT;
    }
    if (buf[0] != request_cmd(proto)) {
        return LP_E_CMD;
    }
    rc = request_mbz(buf, proto);
    if (rc != 0) {
        return rc;
    }
    memset(r, 0, sizeof(*r));
    r->ipvn = buf[1];
    r->conf_sender = buf[2];
    r->conf_receiver = buf[3];
    r->nslots = lp_load32(buf + 4);
    r->npackets = lp_load32(buf + 8);
    r->sender_port = lp_load16(buf + 12);
    r->receiver_port = lp_load16(buf + 14);
    memcpy(r->sender_addr, buf + 16, WIRE_ADDR_LEN);
    memcpy(r->receiver_addr, buf + 32, WIRE_ADDR_LEN);
    memcpy(r->sid, buf + 48, WIRE_SID_LEN);
    r->padding_len = lp_load32(buf + 64);
    r->start_time.raw = lp_load64(buf + 68);
    r->timeout = lp_load64(buf + 76);
    r->typep = lp_load32(buf + 84);
    if (proto == WIRE_TWAMP) {
        r->octets_reflected = lp_load16(buf + 88);
        r->pad_reflected = lp_load16(buf + 90);
    }
    memcpy(r->hmac, buf + WIRE_REQUEST_HMAC_OFF, WIRE_HMAC_LEN);
    rc = request_check(r, proto);
    return rc != 0 ? rc : WIRE_REQUEST_LEN;
}

size_t wire_slots_len(uint32_t n)
{
    return (size_t)n * WIRE_SLOT_LEN + WIRE_HMAC_LEN;
}

int wire_slots_encode(const struct wire_slots *s, uint8_t *buf, size_t len)
{
    size_t need;

    if (s->n > WIRE_MAX_SLOTS) {
        return LP_E_LEN;
    }
    need = wire_slots_len(s->n);
    if (len < need) {
        return LP_E_SHORT;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        uint8_t *p = buf + (size_t)i * WIRE_SLOT_LEN;

        if (s->cslot[i].type > WIRE_SLOT_FIXED) {
            return LP_E_VALUE;
        }
        memset(p, 0, 8);
        p[0] = s->cslot[i].type;
        lp_store64(p + 8, s->cslot[i].param);
    }
    memcpy(buf + need - WIRE_HMAC_LEN, s->hmac, WIRE_HMAC_LEN);
    return (int)need;
}

int wire_slots_decode(const uint8_t *buf, size_t len, struct wire_slots *s)
{
    size_t need;

    if (s->n > WIRE_MAX_SLOTS) {
        return LP_E_LEN;
    }
    need = wire_slots_len(s->n);
    if (len < need) {
        return LP_E_SHORT;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        const uint8_t *p = buf + (size_t)i * WIRE_SLOT_LEN;

        if (!wire_mbz_ok(p, 1, 7)) {
            return LP_E_MBZ;
        }
        if (p[0] > WIRE_SLOT_FIXED) {
            return LP_E_VALUE;
        }
        if (s->slot != NULL) {
            s->slot[i].type = p[0];
            s->slot[i].param = lp_load64(p + 8);
        }
    }
    memcpy(s->hmac, buf + need - WIRE_HMAC_LEN, WIRE_HMAC_LEN);
    return (int)need;
}

int wire_accept_session_encode(const struct wire_accept_session *a, enum wire_proto proto,
                               uint8_t *buf, size_t len)
{
    if (len < WIRE_ACCEPT_SESSION_LEN) {
        return LP_E_SHORT;
    }
    memset(buf, 0, WIRE_ACCEPT_SESSION_LEN);
    buf[0] = a->accept;
    lp_store16(buf + 2, a->port);
    memcpy(buf + 4, a->sid, WIRE_SID_LEN);
    if (proto == WIRE_TWAMP) {
        lp_store16(buf + 20, a->reflected_octets);
        lp_store16(buf + 22, a->server_octets);
    }
    memcpy(buf + 32, a->hmac, WIRE_HMAC_LEN);
    return WIRE_ACCEPT_SESSION_LEN;
}

int wire_accept_session_decode(const uint8_t *buf, size_t len, enum wire_proto proto,
                               struct wire_accept_session *a)
{
    size_t mbz_off = proto == WIRE_TWAMP ? 24 : 20;

    if (len < WIRE_ACCEPT_SESSION_LEN) {
        return LP_E_SHORT;
    }
    if (buf[1] != 0 || !wire_mbz_ok(buf, mbz_off, 32 - mbz_off)) {
        return LP_E_MBZ;
    }
    memset(a, 0, sizeof(*a));
    a->accept = buf[0];
    a->port = lp_load16(buf + 2);
    memcpy(a->sid, buf + 4, WIRE_SID_LEN);
    if (proto == WIRE_TWAMP) {
        a->reflected_octets = lp_load16(buf + 20);
        a->server_octets = lp_load16(buf + 22);
    }
    memcpy(a->hmac, buf + 32, WIRE_HMAC_LEN);
    return WIRE_ACCEPT_SESSION_LEN;
}

/* ------------------------------------------------------ Start-Sessions, Start-Ack */

/* The 32-octet "one octet, MBZ 15, HMAC" shape of Start-Sessions and Start-Ack. */
static int put_short_msg(uint8_t first, const uint8_t *hmac, uint8_t *buf, size_t len)
{
    if (len < 32) {
        return LP_E_SHORT;
    }
    memset(buf, 0, 16);
    buf[0] = first;
    memcpy(buf + 16, hmac, WIRE_HMAC_LEN);
    return 32;
}

static int get_short_msg(const uint8_t *buf, size_t len, uint8_t *hmac)
{
    if (len < 32) {
        return LP_E_SHORT;
    }
    if (!wire_mbz_ok(buf, 1, 15)) {
        return LP_E_MBZ;
    }
    memcpy(hmac, buf + 16, WIRE_HMAC_LEN);
    return 32;
}

int wire_start_sessions_encode(const struct wire_start_sessions *s, uint8_t *buf, size_t len)
{
    return put_short_msg(WIRE_CMD_START_SESSIONS, s->hmac, buf, len);
}

int wire_start_sessions_decode(const uint8_t *buf, size_t len, struct wire_start_sessions *s)
{
    if (len >= 1 && buf[0] != WIRE_CMD_START_SESSIONS) {
        return LP_E_CMD;
    }
    return get_short_msg(buf, len, s->hmac);
}

int wire_start_ack_encode(const struct wire_start_ack *a, uint8_t *buf, size_t len)
{
    return put_short_msg(a->accept, a->hmac, buf, len);
}

int wire_start_ack_decode(const uint8_t *buf, size_t len, struct wire_start_ack *a)
{
    int rc = get_short_msg(buf, len, a->hmac);

    if (rc > 0) {
        a->accept = buf[0];
    }
    return rc;
}

/* ------------------------------------------------------------ RFC 5938 SID lists */

size_t wire_nsessions_len(uint32_t n)
{
    return 16 + (size_t)n * WIRE_SID_LEN + WIRE_HMAC_LEN;
}

static bool nsessions_cmd_ok(uint8_t cmd)
{
    return cmd >= WIRE_CMD_START_N_SESSIONS && cmd <= WIRE_CMD_STOP_N_ACK;
}

int wire_nsessions_encode(const struct wire_nsessions *m, uint8_t *buf, size_t len)
{
    size_t need;

    if (!nsessions_cmd_ok(m->cmd)) {
        return LP_E_CMD;
    }
    if (m->cmd == WIRE_CMD_START_N_SESSIONS && m->accept != 0) {
        return LP_E_VALUE;
    }
    if (m->nsessions > WIRE_MAX_SESSIONS) {
        return LP_E_LEN;
    }
    need = wire_nsessions_len(m->nsessions);
    if (len < need) {
        return LP_E_SHORT;
    }
    memset(buf, 0, 16);
    buf[0] = m->cmd;
    buf[1] = m->accept;
    lp_store32(buf + 12, m->nsessions);
    if (m->nsessions > 0) {
        memcpy(buf + 16, m->sids, (size_t)m->nsessions * WIRE_SID_LEN);
    }
    memcpy(buf + need - WIRE_HMAC_LEN, m->hmac, WIRE_HMAC_LEN);
    return (int)need;
}

int wire_nsessions_decode(const uint8_t *buf, size_t len, struct wire_nsessions *m)
{
    size_t need;
    uint32_t n;

    if (len < 16) {
        return LP_E_SHORT;
    }
    if (!nsessions_cmd_ok(buf[0])) {
        return LP_E_CMD;
    }
    if ((buf[0] == WIRE_CMD_START_N_SESSIONS && buf[1] != 0) || !wire_mbz_ok(buf, 2, 10)) {
        return LP_E_MBZ;
    }
    n = lp_load32(buf + 12);
    if (n > WIRE_MAX_SESSIONS) {
        return LP_E_LEN;
    }
    need = wire_nsessions_len(n);
    if (len < need) {
        return LP_E_SHORT;
    }
    m->cmd = buf[0];
    m->accept = buf[1];
    m->nsessions = n;
    m->sids = buf + 16;
    memcpy(m->hmac, buf + need - WIRE_HMAC_LEN, WIRE_HMAC_LEN);
    return (int)need;
}
