/* ctrl_int.h - state shared by the control-connection files (not installed). */
#ifndef LP_CTRL_INT_H
#define LP_CTRL_INT_H

#include "ctrl.h"

#define CTRL_IN_MAX (WIRE_REQUEST_LEN + CTRL_MAX_SLOTS * WIRE_SLOT_LEN + 4096)
#define CTRL_OUT_MAX (64u << 20)   /* bound on queued output (a large fetch) */
#define CTRL_FETCH_LOW (64u << 10) /* a streamed Fetch reply is refilled below this */
#define CTRL_FETCH_BATCH 256u      /* records pulled from the source at a time */
#define CTRL_EXPECT_MAX 64

enum ctrl_state {
    ST_WAIT_GREETING,     /* client */
    ST_WAIT_SETUP_APP,    /* client: greeting seen, ctrl_client_setup not yet called */
    ST_WAIT_SERVER_START, /* client */
    ST_WAIT_SETUP,        /* server: waiting for Set-Up-Response */
    ST_WAIT_START_APP,    /* server: Set-Up-Response seen, ctrl_server_start not yet called */
    ST_ACTIVE,
    ST_FETCH_REQ, /* client: stored Request-Session after a Fetch-Ack */
    ST_FETCH_SLOTS,
    ST_FETCH_SKIPS,
    ST_FETCH_RECORDS,
    ST_CLOSED,
};

struct ctrl {
    enum wire_proto proto;
    enum ctrl_role role;
    enum ctrl_state state;
    uint32_t offered; /* server: modes offered */
    uint32_t mode;    /* chosen */
    uint32_t count;
    uint8_t challenge[WIRE_CHALLENGE_LEN];
    uint8_t salt[WIRE_SALT_LEN];
    struct wire_setup setup; /* server: the received Set-Up-Response */
    bool secure;
    struct cry_session_keys keys;
    struct cry_stream tx, rx;
    bool rx_ready; /* rx stream initialised: decrypt arriving blocks */
    /* input: [0, plain) decrypted or clear, [plain, len) still raw */
    uint8_t *in;
    size_t in_len, in_plain, in_cap;
    /* output; its last out_unsealed octets are plaintext not yet sealed (a streamed Fetch
     * reply between whole blocks) and are not handed out */
    uint8_t *out;
    size_t out_len, out_cap, out_unsealed;
    /* server: the records of a streamed Fetch reply still to come */
    ctrl_record_fn src_fn; /* while set, nothing else may be queued */
    void *src_arg;
    uint32_t src_left;
    bool refilling;
    /* client: replies expected, in order */
    enum wire_msg expect[CTRL_EXPECT_MAX];
    unsigned nexpect;
    /* fetch streaming (client) */
    uint32_t fetch_slots, fetch_skips, fetch_left, fetch_total;
    struct wire_request fetch_req; /* client: the stored request of the fetch in progress */
    struct ctrl_scratch *x;        /* allocated when a message first needs it */
    struct wire_slot *slots;       /* sized by the largest request seen */
    uint32_t cap_slots;
};

/* Storage for session descriptions and SIDs (Stop-Sessions, RFC 5938 lists): about 35 KB,
 * so a connection that never stops sessions does not carry it. */
struct ctrl_scratch {
    struct wire_session_desc descs[CTRL_MAX_DESCS];
    struct wire_skip_range skips[CTRL_MAX_SKIPS];
    uint8_t sids[CTRL_MAX_DESCS * WIRE_SID_LEN];
};

/* Space for n zeroed octets at the end of the output; NULL when the bound is hit, or while
 * a streamed Fetch reply is pending (a message must not cut into it). */
uint8_t *ctrl_out_append(struct ctrl *c, size_t n);

/* Drop n consumed octets from the head of the input. */
void ctrl_consume(struct ctrl *c, size_t n);

/* Length of the message of this kind at the head if complete and decrypted, 0 if more is
 * needed, or LP_E_*. */
long ctrl_complete_len(struct ctrl *c, enum wire_msg kind);

/* Verify the HMAC closing [off, off + len) of the plaintext head. 0 or LP_E_HMAC. */
int ctrl_verify_part(struct ctrl *c, size_t off, size_t len);

/* Seal (HMAC + encrypt) the last len octets of the output, which end with an HMAC block. */
int ctrl_seal_tail(struct ctrl *c, size_t len);

/* The scratch storage, allocated on first use; NULL when out of memory. */
struct ctrl_scratch *ctrl_scratch(struct ctrl *c);

/* Room for n schedule slots in c->slots; false when out of memory. */
bool ctrl_reserve_slots(struct ctrl *c, uint32_t n);

/* Parse the next message in the active state (ctrl_msgs.c). */
int ctrl_next_active(struct ctrl *c, struct ctrl_event *ev);

/* Client: remember that a reply of this kind is due. */
int ctrl_expect(struct ctrl *c, enum wire_msg kind);

#endif
