/* ctrl_msgs.c - the messages of an established control connection: queueing them sealed,
 * and parsing them (with HMAC checks) into events. */
#include "ctrl_int.h"

#include <string.h>

/* Seal the len octets just encoded at the end of the output, or take them back on error. */
static int finish(struct ctrl *c, int rc, size_t len)
{
    if (rc < 0) {
        c->out_len -= len;
        return rc;
    }
    return ctrl_seal_tail(c, len);
}

static bool active(const struct ctrl *c)
{
    return c->state == ST_ACTIVE;
}

int ctrl_send_request(struct ctrl *c, const struct wire_request *r, const struct wire_slot *slots)
{
    if (!active(c) || c->role != CTRL_CLIENT) {
        return LP_E_STATE;
    }
    uint8_t *p = ctrl_out_append(c, WIRE_REQUEST_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc = finish(c, wire_request_encode(r, c->proto, p, WIRE_REQUEST_LEN), WIRE_REQUEST_LEN);
    if (rc == 0 && c->proto == WIRE_OWAMP) {
        size_t n = wire_slots_len(r->nslots);
        struct wire_slots s = {.n = r->nslots, .cslot = slots};
        if (!(p = ctrl_out_append(c, n))) {
            return LP_E_NOMEM;
        }
        rc = finish(c, wire_slots_encode(&s, p, n), n);
    }
    return rc < 0 ? rc : ctrl_expect(c, WIRE_MSG_ACCEPT_SESSION);
}

int ctrl_send_accept(struct ctrl *c, const struct wire_accept_session *a)
{
    uint8_t *p = ctrl_out_append(c, WIRE_ACCEPT_SESSION_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    return finish(c, wire_accept_session_encode(a, c->proto, p, WIRE_ACCEPT_SESSION_LEN),
                  WIRE_ACCEPT_SESSION_LEN);
}

int ctrl_send_start(struct ctrl *c)
{
    struct wire_start_sessions s = {{0}};
    uint8_t *p = ctrl_out_append(c, WIRE_START_SESSIONS_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc = finish(c, wire_start_sessions_encode(&s, p, WIRE_START_SESSIONS_LEN),
                    WIRE_START_SESSIONS_LEN);
    return rc < 0 ? rc : ctrl_expect(c, WIRE_MSG_START_ACK);
}

int ctrl_send_start_ack(struct ctrl *c, uint8_t accept)
{
    struct wire_start_ack a = {.accept = accept};
    uint8_t *p = ctrl_out_append(c, WIRE_START_ACK_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    return finish(c, wire_start_ack_encode(&a, p, WIRE_START_ACK_LEN), WIRE_START_ACK_LEN);
}

/* Octets of a Stop-Sessions message. */
static size_t stop_len(const struct ctrl *c, const struct wire_stop_sessions *s)
{
    if (c->proto == WIRE_TWAMP) {
        return WIRE_TW_STOP_LEN;
    }
    size_t n = 16 + WIRE_HMAC_LEN;
    for (uint32_t i = 0; i < s->nsessions; i++) {
        n += wire_session_desc_len(s->desc[i].nskips);
    }
    return n;
}

int ctrl_send_stop(struct ctrl *c, const struct wire_stop_sessions *s)
{
    size_t n = stop_len(c, s);
    uint8_t *p = ctrl_out_append(c, n);
    if (!p) {
        return LP_E_NOMEM;
    }
    return finish(c, wire_stop_sessions_encode(s, c->proto, p, n), n);
}

int ctrl_send_fetch(struct ctrl *c, const struct wire_fetch_session *f)
{
    uint8_t *p = ctrl_out_append(c, WIRE_FETCH_SESSION_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc =
        finish(c, wire_fetch_session_encode(f, p, WIRE_FETCH_SESSION_LEN), WIRE_FETCH_SESSION_LEN);
    return rc < 0 ? rc : ctrl_expect(c, WIRE_MSG_FETCH_ACK);
}

int ctrl_send_nsessions(struct ctrl *c, uint8_t cmd, uint8_t accept, const uint8_t *sids,
                        uint32_t n)
{
    struct wire_nsessions m = {.cmd = cmd, .accept = accept, .nsessions = n, .sids = sids};
    size_t len = wire_nsessions_len(n);
    uint8_t *p = ctrl_out_append(c, len);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc = finish(c, wire_nsessions_encode(&m, p, len), len);
    bool request = cmd == WIRE_CMD_START_N_SESSIONS || cmd == WIRE_CMD_STOP_N_SESSIONS;
    return rc < 0 || !request ? rc : ctrl_expect(c, WIRE_MSG_COMMAND);
}

/* The stored request and the skip ranges that follow an accepted Fetch-Ack. */
static int send_fetch_head(struct ctrl *c, const struct wire_fetch_ack *a,
                           const struct wire_request *req, const struct wire_slot *slots,
                           const struct wire_skip_range *skips)
{
    uint8_t *p = ctrl_out_append(c, WIRE_REQUEST_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc = finish(c, wire_request_encode(req, c->proto, p, WIRE_REQUEST_LEN), WIRE_REQUEST_LEN);
    size_t n = wire_slots_len(req->nslots);
    struct wire_slots s = {.n = req->nslots, .cslot = slots};
    if (rc < 0 || !(p = ctrl_out_append(c, n))) {
        return rc < 0 ? rc : LP_E_NOMEM;
    }
    if ((rc = finish(c, wire_slots_encode(&s, p, n), n)) < 0) {
        return rc;
    }
    struct wire_skip_section sk = {.n = a->nskips, .cskip = skips};
    n = wire_fetch_skips_len(a->nskips);
    if (!(p = ctrl_out_append(c, n)) ||
        (rc = finish(c, wire_skip_section_encode(&sk, p, n), n)) < 0) {
        return p ? rc : LP_E_NOMEM;
    }
    return 0;
}

/* The three sections that follow an accepted Fetch-Ack, the records given whole. */
static int send_fetch_body(struct ctrl *c, const struct wire_fetch_ack *a,
                           const struct wire_request *req, const struct wire_slot *slots,
                           const struct wire_skip_range *skips, const struct wire_record *rec)
{
    int rc = send_fetch_head(c, a, req, slots, skips);
    if (rc < 0) {
        return rc;
    }
    uint8_t *p;
    size_t n;
    struct wire_records_section rs = {.n = a->nrecords, .crec = rec};
    n = wire_fetch_records_len(a->nrecords);
    if (!(p = ctrl_out_append(c, n))) {
        return LP_E_NOMEM;
    }
    return finish(c, wire_records_section_encode(&rs, p, n), n);
}

int ctrl_send_fetch_reply(struct ctrl *c, const struct wire_fetch_ack *a,
                          const struct wire_request *req, const struct wire_slot *slots,
                          const struct wire_skip_range *skips, const struct wire_record *rec)
{
    uint8_t *p = ctrl_out_append(c, WIRE_FETCH_ACK_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc = finish(c, wire_fetch_ack_encode(a, p, WIRE_FETCH_ACK_LEN), WIRE_FETCH_ACK_LEN);
    if (rc < 0 || a->accept != WIRE_ACCEPT_OK) {
        return rc;
    }
    return send_fetch_body(c, a, req, slots, skips, rec);
}

/* ------------------------------------------------------------------- parsing */

static int parse_request(struct ctrl *c, long n, struct ctrl_event *ev)
{
    int rc = ctrl_verify_part(c, 0, WIRE_REQUEST_LEN);
    if (rc == 0) {
        rc = wire_request_decode(c->in, WIRE_REQUEST_LEN, c->proto, &ev->u.request.req);
    }
    if (rc < 0) {
        return rc;
    }
    if (c->proto == WIRE_OWAMP) {
        uint32_t nslots = ev->u.request.req.nslots;
        if (nslots > CTRL_MAX_SLOTS) {
            return LP_E_LEN;
        }
        if (!ctrl_reserve_slots(c, nslots)) {
            return LP_E_NOMEM;
        }
        struct wire_slots s = {.n = nslots, .slot = c->slots};
        rc = ctrl_verify_part(c, WIRE_REQUEST_LEN, (size_t)n - WIRE_REQUEST_LEN);
        if (rc == 0) {
            rc = wire_slots_decode(c->in + WIRE_REQUEST_LEN, (size_t)n - WIRE_REQUEST_LEN, &s);
        }
        ev->u.request.slots = c->slots;
    }
    ev->type = CTRL_EV_REQUEST;
    return rc < 0 ? rc : 1;
}

static int parse_stop(struct ctrl *c, long n, struct ctrl_event *ev)
{
    const uint32_t per = CTRL_MAX_SKIPS / CTRL_MAX_DESCS;
    struct ctrl_scratch *x = ctrl_scratch(c);
    if (!x) {
        return LP_E_NOMEM;
    }
    for (uint32_t i = 0; i < CTRL_MAX_DESCS; i++) {
        x->descs[i].skip = x->skips + i * per;
        x->descs[i].skips_cap = per;
    }
    struct wire_stop_sessions *s = &ev->u.stop;
    s->desc = x->descs;
    s->descs_cap = CTRL_MAX_DESCS;
    int rc = ctrl_verify_part(c, 0, (size_t)n);
    if (rc == 0) {
        rc = wire_stop_sessions_decode(c->in, (size_t)n, c->proto, s);
    }
    ev->type = CTRL_EV_STOP;
    return rc < 0 ? rc : 1;
}

static int parse_nsessions(struct ctrl *c, long n, struct ctrl_event *ev)
{
    int rc = ctrl_verify_part(c, 0, (size_t)n);
    if (rc == 0) {
        rc = wire_nsessions_decode(c->in, (size_t)n, &ev->u.nsessions);
    }
    if (rc < 0) {
        return rc;
    }
    struct ctrl_scratch *x = ctrl_scratch(c);
    if (ev->u.nsessions.nsessions > CTRL_MAX_DESCS) {
        return LP_E_LEN;
    }
    if (!x) {
        return LP_E_NOMEM;
    }
    memcpy(x->sids, ev->u.nsessions.sids, (size_t)ev->u.nsessions.nsessions * WIRE_SID_LEN);
    ev->u.nsessions.sids = x->sids;
    ev->type = CTRL_EV_NSESSIONS;
    return 1;
}

/* A message that starts with a command number. */
static int parse_command(struct ctrl *c, long n, struct ctrl_event *ev)
{
    bool server = c->role == CTRL_SERVER;
    int rc;
    switch (c->in[0]) {
    case WIRE_CMD_REQUEST_SESSION:
    case WIRE_CMD_REQUEST_TW_SESSION: return server ? parse_request(c, n, ev) : LP_E_CMD;
    case WIRE_CMD_START_SESSIONS:
        if (!server) {
            return LP_E_CMD;
        }
        rc = ctrl_verify_part(c, 0, (size_t)n);
        if (rc == 0) {
            struct wire_start_sessions st;
            rc = wire_start_sessions_decode(c->in, (size_t)n, &st);
        }
        ev->type = CTRL_EV_START;
        return rc < 0 ? rc : 1;
    case WIRE_CMD_STOP_SESSIONS: return parse_stop(c, n, ev);
    case WIRE_CMD_FETCH_SESSION:
        if (!server) {
            return LP_E_CMD;
        }
        rc = ctrl_verify_part(c, 0, (size_t)n);
        if (rc == 0) {
            rc = wire_fetch_session_decode(c->in, (size_t)n, &ev->u.fetch);
        }
        ev->type = CTRL_EV_FETCH;
        return rc < 0 ? rc : 1;
    case WIRE_CMD_START_N_SESSIONS:
    case WIRE_CMD_STOP_N_SESSIONS: return server ? parse_nsessions(c, n, ev) : LP_E_CMD;
    case WIRE_CMD_START_N_ACK:
    case WIRE_CMD_STOP_N_ACK:
        if (server) {
            return LP_E_CMD;
        }
        if (c->nexpect && c->expect[0] == WIRE_MSG_COMMAND) {
            memmove(c->expect, c->expect + 1, --c->nexpect * sizeof(c->expect[0]));
        }
        return parse_nsessions(c, n, ev);
    default: return LP_E_CMD;
    }
}

/* A reply that starts with an Accept field (client side). */
static int parse_reply(struct ctrl *c, enum wire_msg kind, long n, struct ctrl_event *ev)
{
    int rc = ctrl_verify_part(c, 0, (size_t)n);
    if (rc < 0) {
        return rc;
    }
    memmove(c->expect, c->expect + 1, --c->nexpect * sizeof(c->expect[0]));
    switch (kind) {
    case WIRE_MSG_ACCEPT_SESSION:
        ev->type = CTRL_EV_ACCEPT_SESSION;
        rc = wire_accept_session_decode(c->in, (size_t)n, c->proto, &ev->u.accept);
        break;
    case WIRE_MSG_START_ACK:
        ev->type = CTRL_EV_START_ACK;
        rc = wire_start_ack_decode(c->in, (size_t)n, &ev->u.start_ack);
        break;
    default:
        ev->type = CTRL_EV_FETCH_ACK;
        rc = wire_fetch_ack_decode(c->in, (size_t)n, &ev->u.fetch_ack);
        if (rc >= 0 && ev->u.fetch_ack.accept == WIRE_ACCEPT_OK) {
            c->fetch_skips = ev->u.fetch_ack.nskips;
            c->fetch_left = c->fetch_total = ev->u.fetch_ack.nrecords;
            c->state = ST_FETCH_REQ;
        }
        break;
    }
    return rc < 0 ? rc : 1;
}

/* The stored request and skip ranges after a Fetch-Ack: one CTRL_EV_FETCH_HEAD event once
 * both are in and verified (1), 0 while they are not, or LP_E_*. */
static int parse_fetch_head(struct ctrl *c, struct ctrl_event *ev)
{
    long n;
    int rc;
    if (c->state == ST_FETCH_REQ) {
        if ((n = ctrl_complete_len(c, WIRE_MSG_COMMAND)) <= 0) {
            return (int)n;
        }
        if (c->in[0] != WIRE_CMD_REQUEST_SESSION) {
            return LP_E_CMD;
        }
        struct ctrl_event tmp;
        if ((rc = parse_request(c, n, &tmp)) < 0) {
            return rc;
        }
        c->fetch_req = tmp.u.request.req; /* its slots stay in c->slots */
        ctrl_consume(c, (size_t)n);
        c->state = ST_FETCH_SKIPS;
    }
    size_t len = wire_fetch_skips_len(c->fetch_skips);
    struct ctrl_scratch *x = c->fetch_skips ? ctrl_scratch(c) : NULL;
    if (len > CTRL_IN_MAX || c->fetch_skips > CTRL_MAX_SKIPS) {
        return LP_E_LEN;
    }
    if (c->in_plain < len) {
        return 0;
    }
    if (c->fetch_skips && !x) {
        return LP_E_NOMEM;
    }
    struct wire_skip_section s = {.n = c->fetch_skips, .skip = x ? x->skips : NULL};
    if ((rc = ctrl_verify_part(c, 0, len)) < 0 ||
        (rc = wire_skip_section_decode(c->in, len, &s)) < 0) {
        return rc;
    }
    ctrl_consume(c, len);
    c->state = ST_FETCH_RECORDS;
    ev->type = CTRL_EV_FETCH_HEAD;
    ev->u.fetch_head.req = c->fetch_req;
    ev->u.fetch_head.slots = c->slots;
    ev->u.fetch_head.skips = s.skip;
    ev->u.fetch_head.nskips = s.n;
    return 1;
}

/* One fetched record, or the end of the record section. */
static int parse_fetch_record(struct ctrl *c, struct ctrl_event *ev)
{
    if (c->fetch_left > 0) {
        if (c->in_plain < WIRE_RECORD_LEN) {
            return 0;
        }
        cry_stream_mac_update(&c->rx, c->in, WIRE_RECORD_LEN);
        int rc = wire_record_decode(c->in, WIRE_RECORD_LEN, &ev->u.record);
        ctrl_consume(c, WIRE_RECORD_LEN);
        c->fetch_left--;
        ev->type = CTRL_EV_FETCH_RECORD;
        return rc < 0 ? rc : 1;
    }
    size_t tail = wire_fetch_records_len(c->fetch_total) - (size_t)c->fetch_total * WIRE_RECORD_LEN;
    if (c->in_plain < tail) {
        return 0;
    }
    uint8_t hmac[WIRE_HMAC_LEN];
    int rc = wire_records_tail_decode(c->in, tail, c->fetch_total, hmac);
    if (rc >= 0) {
        rc = ctrl_verify_part(c, 0, tail);
    }
    ctrl_consume(c, tail);
    c->state = ST_ACTIVE;
    ev->type = CTRL_EV_FETCH_DONE;
    return rc < 0 ? rc : 1;
}

int ctrl_next_active(struct ctrl *c, struct ctrl_event *ev)
{
    int rc;
    if (c->state == ST_FETCH_REQ || c->state == ST_FETCH_SKIPS) {
        return parse_fetch_head(c, ev);
    }
    if (c->state == ST_FETCH_RECORDS) {
        return parse_fetch_record(c, ev);
    }
    enum wire_msg kind = WIRE_MSG_COMMAND;
    if (c->role == CTRL_CLIENT && c->nexpect > 0) {
        kind = c->expect[0];
    }
    long n = ctrl_complete_len(c, kind);
    if (n <= 0) {
        return (int)n;
    }
    rc = kind == WIRE_MSG_COMMAND ? parse_command(c, n, ev) : parse_reply(c, kind, n, ev);
    if (rc > 0) {
        ctrl_consume(c, (size_t)n);
    }
    return rc;
}

/* ------------------------------------------------------- streamed Fetch reply */

/* Seal the plaintext [out_len - unsealed, out_len) up to its last whole block. */
static void seal_blocks(struct ctrl *c)
{
    size_t whole = c->out_unsealed - c->out_unsealed % CRY_BLOCK_LEN;
    uint8_t *p = c->out + c->out_len - c->out_unsealed;
    cry_stream_mac_update(&c->tx, p, whole);
    cry_stream_encrypt(&c->tx, p, whole);
    c->out_unsealed -= whole;
}

/* The end of the records section: zeros to the block boundary, then the HMAC block. */
static int finish_records(struct ctrl *c)
{
    size_t pad = (CRY_BLOCK_LEN - c->out_unsealed % CRY_BLOCK_LEN) % CRY_BLOCK_LEN;
    if (!ctrl_out_append(c, pad)) {
        return LP_E_NOMEM;
    }
    c->out_unsealed += pad;
    seal_blocks(c);
    uint8_t *mac = ctrl_out_append(c, WIRE_HMAC_LEN);
    if (!mac) {
        return LP_E_NOMEM;
    }
    cry_stream_mac_final(&c->tx, mac);
    cry_stream_encrypt(&c->tx, mac, WIRE_HMAC_LEN);
    c->src_fn = NULL;
    return 0;
}

/* One refill; the caller has set c->refilling. */
static int refill(struct ctrl *c)
{
    struct wire_record rec[CTRL_FETCH_BATCH];
    while (c->src_fn && c->out_len < CTRL_FETCH_LOW) {
        uint32_t want = c->src_left < CTRL_FETCH_BATCH ? c->src_left : CTRL_FETCH_BATCH;
        long k = want ? c->src_fn(c->src_arg, rec, want) : 0;
        if (k < 0 || k > (long)want) {
            return LP_E_IO; /* the records announced cannot be produced */
        }
        if (want && k == 0) {
            return 0; /* none ready: asked again later */
        }
        uint8_t *p = ctrl_out_append(c, (size_t)k * WIRE_RECORD_LEN);
        if (!p) {
            return LP_E_NOMEM;
        }
        for (long i = 0; i < k; i++) {
            wire_record_encode(&rec[i], p + i * WIRE_RECORD_LEN, WIRE_RECORD_LEN);
        }
        c->out_unsealed += (size_t)k * WIRE_RECORD_LEN;
        c->src_left -= (uint32_t)k;
        seal_blocks(c);
        if (c->src_left == 0) {
            return finish_records(c);
        }
    }
    return 0;
}

int ctrl_fetch_refill(struct ctrl *c)
{
    c->refilling = true;
    int rc = refill(c);
    c->refilling = false;
    if (rc < 0) {
        c->src_fn = NULL;
        c->state = ST_CLOSED; /* the reply cannot be completed */
    }
    return rc;
}

int ctrl_send_fetch_stream(struct ctrl *c, const struct wire_fetch_ack *a,
                           const struct wire_request *req, const struct wire_slot *slots,
                           const struct wire_skip_range *skips, ctrl_record_fn fn, void *arg)
{
    if (a->accept != WIRE_ACCEPT_OK || c->src_fn) {
        return LP_E_STATE;
    }
    uint8_t *p = ctrl_out_append(c, WIRE_FETCH_ACK_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc = finish(c, wire_fetch_ack_encode(a, p, WIRE_FETCH_ACK_LEN), WIRE_FETCH_ACK_LEN);
    if (rc < 0 || (rc = send_fetch_head(c, a, req, slots, skips)) < 0) {
        return rc;
    }
    c->src_fn = fn;
    c->src_arg = arg;
    c->src_left = a->nrecords;
    c->out_unsealed = 0;
    return ctrl_fetch_refill(c);
}

bool ctrl_fetch_pending(const struct ctrl *c)
{
    return c->src_fn != NULL;
}
