/* server_tw.c - TWAMP-specific daemon operations: reflector sessions, Start/Stop-Sessions
 * and the RFC 5938 Start-N/Stop-N messages. */
#include "server_int.h"

#include <string.h>

static int tw_request(struct srv_conn *c, const struct ctrl_event *ev)
{
    const struct wire_request *r = &ev->u.request.req;
    struct sock_addr peer; /* replies go where each test packet came from (NAT) */
    srv_req_peer(c, r, r->sender_addr, r->sender_port, &peer);
    struct wire_accept_session a = {.accept = srv_check_request(c, r, &peer, 0, 0)};
    struct sess_config cfg;
    srv_sess_config(c, r, &cfg);
    cfg.kind = SESS_TW_REFLECTOR;
    cfg.measure_tx = c->srv->conf.verbose; /* logged when the session ends */
    cfg.npackets = 0;
    srv_local_sid(c, cfg.sid);
    cfg.peer = peer;
    if (cfg.mode & WIRE_MODE_REFLECT_OCTETS) {
        /* RFC 6038: reflect "Length of padding to reflect" octets of the sender's padding;
         * "Octets to be reflected" are echoed in Accept-Session */
        cfg.reflect_octets = r->pad_reflected;
        a.reflected_octets = r->octets_reflected;
    }
    srv_open_session(c, r, NULL, &cfg, &a);
    return ctrl_send_accept(c->ctrl, &a);
}

static int tw_start(struct srv_conn *c)
{
    uint8_t accept = WIRE_ACCEPT_OK;
    for (unsigned i = 0; i < c->nsess; i++) {
        if (!c->sess[i].stopped && sess_start(c->sess[i].s) < 0) {
            accept = WIRE_ACCEPT_INTERNAL;
        }
    }
    return ctrl_send_start_ack(c->ctrl, accept);
}

/* TWAMP Stop-Sessions ends every session of the connection. */
static int tw_stop(struct srv_conn *c, const struct ctrl_event *ev)
{
    (void)ev;
    srv_drop_sessions(c);
    return 0;
}

/* Start-N-Sessions / Stop-N-Sessions: act on the listed SIDs, acknowledge the same list. */
static int tw_nsessions(struct srv_conn *c, const struct ctrl_event *ev)
{
    const struct wire_nsessions *m = &ev->u.nsessions;
    bool start = m->cmd == WIRE_CMD_START_N_SESSIONS;
    uint8_t accept = WIRE_ACCEPT_OK;
    for (uint32_t i = 0; i < m->nsessions; i++) {
        struct srv_session *ss = srv_find(c, m->sids + i * WIRE_SID_LEN);
        if (!ss) {
            accept = WIRE_ACCEPT_FAILURE;
        } else if (start) {
            c->started = true;
            if (sess_start(ss->s) < 0) {
                accept = WIRE_ACCEPT_FAILURE;
            }
        } else {
            sess_stop(ss->s);
            ss->stopped = true;
        }
    }
    if (accept != WIRE_ACCEPT_OK) {
        srv_log(c->srv, LOG_WARNING, "%s-N-Sessions from %s names an unknown session",
                start ? "Start" : "Stop", c->peer_text);
    }
    uint8_t ack = start ? WIRE_CMD_START_N_ACK : WIRE_CMD_STOP_N_ACK;
    return ctrl_send_nsessions(c->ctrl, ack, accept, m->sids, m->nsessions);
}

const struct srv_ops srv_twamp_ops = {
    .proto = WIRE_TWAMP,
    .name = "twampd",
    .conf_name = "twamp",
    .default_port = "862",
    .features = WIRE_MODE_INDIV_CTRL | WIRE_MODE_REFLECT_OCTETS | WIRE_MODE_SYMMETRIC |
                WIRE_MODE_DSCP_ECN | WIRE_MODE_PTP,
    .request = tw_request,
    .start = tw_start,
    .stop = tw_stop,
    .nsessions = tw_nsessions,
};
