/* wire.h - encode/decode of every OWAMP (RFC 4656), TWAMP (RFC 5357, 5618, 5938, 6038, 7750)
 * and STAMP (RFC 8762, 8972) message and test-packet layout. Pure functions: no I/O, no
 * crypto, no allocation, no global state.
 *
 * Conventions. x_encode(const struct x *, buf, len) returns the octets written or a negative
 * LP_E_*; x_decode(buf, len, ..., struct x *) returns the octets consumed (a buffer longer
 * than the message is fine) or a negative LP_E_* naming the first defect: LP_E_SHORT
 * (truncated), LP_E_MBZ (a must-be-zero field is not zero), LP_E_CMD (wrong command number),
 * LP_E_MODE (mode not allowed), LP_E_LEN (count beyond a bound or inconsistent with the
 * buffer), LP_E_VALUE (a field value the RFC does not allow), LP_E_NOMEM (a caller's array
 * is too small for what the message carries). Encoders write MBZ fields as
 * zero and HMAC fields as given (zero in open mode); decoders copy HMAC fields out and never
 * check them (the crypto module does, on the plaintext). Timestamps stay raw: NTP 32.32, or
 * PTPv2 truncated when the Error Estimate has the Z bit (RFC 8186); Error Estimates stay
 * uint16_t (clock.h converts both).
 *
 * Control messages are seen here as plaintext; after Server-Start the stream is made of
 * 16-octet blocks and each message (each part, for OWAMP Request-Session) ends with an HMAC
 * block. wire_ctrl_msg_len tells a reader how many octets the message at the head of its
 * buffer needs. */
#ifndef LP_WIRE_H
#define LP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "common.h"

#define WIRE_BLOCK_LEN 16
#define WIRE_HMAC_LEN 16
#define WIRE_SID_LEN 16
#define WIRE_ADDR_LEN 16 /* an IPv4 address uses the first 4 octets, the rest MBZ */
#define WIRE_KEYID_LEN 80
#define WIRE_TOKEN_LEN 64
#define WIRE_IV_LEN 16
#define WIRE_CHALLENGE_LEN 16
#define WIRE_SALT_LEN 16

/* Sanity bounds on counts read from the wire (LP_E_LEN beyond them). */
#define WIRE_MAX_SLOTS 65536u       /* schedule slots in one Request-Session */
#define WIRE_MAX_SESSIONS 1024u     /* sessions in Stop-Sessions and the RFC 5938 SID lists */
#define WIRE_MAX_SKIP_RANGES 65536u /* skip ranges in one session description */

enum wire_proto {
    WIRE_OWAMP = 1,
    WIRE_TWAMP = 2,
};

/* Command numbers (IANA OWAMP-/TWAMP-Control Command Numbers). */
enum wire_cmd {
    WIRE_CMD_REQUEST_SESSION = 1, /* OWAMP; "Forbidden" in TWAMP */
    WIRE_CMD_START_SESSIONS = 2,
    WIRE_CMD_STOP_SESSIONS = 3,
    WIRE_CMD_FETCH_SESSION = 4,      /* OWAMP; reserved in TWAMP */
    WIRE_CMD_REQUEST_TW_SESSION = 5, /* TWAMP */
    WIRE_CMD_EXPERIMENTATION = 6,    /* TWAMP, format undefined: rejected */
    WIRE_CMD_START_N_SESSIONS = 7,   /* RFC 5938 */
    WIRE_CMD_START_N_ACK = 8,
    WIRE_CMD_STOP_N_SESSIONS = 9,
    WIRE_CMD_STOP_N_ACK = 10,
};

/* Accept field values (RFC 4656 §3.3). Other values are reserved; decoders keep them and
 * the control layer must treat any non-zero value as a refusal. */
enum wire_accept {
    WIRE_ACCEPT_OK = 0,
    WIRE_ACCEPT_FAILURE = 1,
    WIRE_ACCEPT_INTERNAL = 2,
    WIRE_ACCEPT_UNSUPPORTED = 3,
    WIRE_ACCEPT_PERM_LIMIT = 4,
    WIRE_ACCEPT_TEMP_LIMIT = 5,
};

/* Modes bits (IANA TWAMP-Modes; OWAMP-Modes shares bits 0-2 and 7). */
#define WIRE_MODE_OPEN 0x001u           /* unauthenticated */
#define WIRE_MODE_AUTH 0x002u           /* authenticated */
#define WIRE_MODE_ENC 0x004u            /* encrypted */
#define WIRE_MODE_MIXED 0x008u          /* RFC 5618: encrypted control, open test (TWAMP) */
#define WIRE_MODE_INDIV_CTRL 0x010u     /* RFC 5938 individual session control */
#define WIRE_MODE_REFLECT_OCTETS 0x020u /* RFC 6038 */
#define WIRE_MODE_SYMMETRIC 0x040u      /* RFC 6038 symmetrical size sender packets */
#define WIRE_MODE_IKEV2 0x080u          /* RFC 7717 IKEv2-derived shared key */
#define WIRE_MODE_DSCP_ECN 0x100u       /* RFC 7750 DSCP and ECN monitoring */
#define WIRE_MODE_PTP 0x200u            /* RFC 8186 PTPv2 timestamp capability */
#define WIRE_MODE_SECURITY (WIRE_MODE_OPEN | WIRE_MODE_AUTH | WIRE_MODE_ENC | WIRE_MODE_MIXED)

/* Check a Mode chosen by a client (Set-Up-Response): exactly one security mode (Mixed only
 * for TWAMP) plus feature bits known for proto. 0 or LP_E_MODE. */
int wire_mode_check(uint32_t mode, enum wire_proto proto);

/* Error Estimate bits (RFC 4656 §4.1.2, RFC 8186). */
#define WIRE_ERREST_S 0x8000u /* clock synchronised */
#define WIRE_ERREST_Z 0x4000u /* timestamp is PTPv2 truncated, not NTP */

/* Type-P Descriptor (RFC 4656 §3.5): format 0 = 00|DSCP(6)|MBZ(24), format 1 =
 * 01|PHB ID(16)|MBZ(14); formats 2 and 3 are undefined. */
struct wire_typep {
    uint8_t format;
    uint8_t dscp;
    uint16_t phb_id;
};

/* Type-P Descriptor asking for a DSCP (format 0). */
uint32_t wire_typep_dscp(uint8_t dscp);

/* Split a Type-P Descriptor. 0, LP_E_MBZ, or LP_E_VALUE (format 2 or 3: answer "not
 * supported"). */
int wire_typep_parse(uint32_t typep, struct wire_typep *out);

/* ---------------------------------------------------------------- control framing */

/* What a reader expects at the head of its control-stream buffer. Messages that start with
 * a command number (every client message, Stop-Sessions from an OWAMP server, Start-N-Ack
 * and Stop-N-Ack) are WIRE_MSG_COMMAND; replies that start with an Accept field need their
 * own kind. The sections after a Fetch-Ack are sized by wire_fetch_skips_len and
 * wire_fetch_records_len (the stored Request-Session is a WIRE_MSG_COMMAND). */
enum wire_msg {
    WIRE_MSG_GREETING = 1,   /* Server-Greeting, 64 */
    WIRE_MSG_SETUP,          /* Set-Up-Response, 164 (in clear, not block aligned) */
    WIRE_MSG_SERVER_START,   /* Server-Start, 48 */
    WIRE_MSG_COMMAND,        /* length from the command number and counts */
    WIRE_MSG_ACCEPT_SESSION, /* Accept-Session, 48 */
    WIRE_MSG_START_ACK,      /* Start-Ack, 32 */
    WIRE_MSG_FETCH_ACK,      /* Fetch-Ack, 32 */
};

/* Length of the message at the head of buf, of which have octets are there. Returns n > 0:
 * if *known, n is the whole message length (complete when have >= n); otherwise the length
 * is still unknown and n > have octets are needed before calling again. Every n after
 * Server-Start is a multiple of 16, and each message's HMAC block is its last one, plus the
 * block at WIRE_REQUEST_HMAC_OFF of an OWAMP Request-Session. Negative LP_E_CMD (unknown or
 * forbidden command), LP_E_LEN (count beyond bounds) or LP_E_VALUE (bad kind). */
long wire_ctrl_msg_len(const uint8_t *buf, size_t have, enum wire_proto proto, enum wire_msg kind,
                       bool *known);

/* ------------------------------------------------------------- connection set-up */

#define WIRE_GREETING_LEN 64
#define WIRE_SETUP_LEN 164
#define WIRE_SERVER_START_LEN 48

/* Server-Greeting (RFC 4656 §3.1): Unused 12 (ignored), Modes, Challenge, Salt, Count
 * (at least 1024 when Modes offers Auth, Enc or Mixed: LP_E_VALUE), MBZ 12. */
struct wire_greeting {
    uint32_t modes;
    uint8_t challenge[WIRE_CHALLENGE_LEN];
    uint8_t salt[WIRE_SALT_LEN];
    uint32_t count;
};

int wire_greeting_encode(const struct wire_greeting *g, uint8_t *buf, size_t len);
int wire_greeting_decode(const uint8_t *buf, size_t len, struct wire_greeting *g);

/* Set-Up-Response: Mode (checked by wire_mode_check), KeyID 80, Token 64, Client-IV 16. */
struct wire_setup {
    uint32_t mode;
    uint8_t keyid[WIRE_KEYID_LEN];
    uint8_t token[WIRE_TOKEN_LEN];
    uint8_t client_iv[WIRE_IV_LEN];
};

int wire_setup_encode(const struct wire_setup *s, enum wire_proto proto, uint8_t *buf, size_t len);
int wire_setup_decode(const uint8_t *buf, size_t len, enum wire_proto proto, struct wire_setup *s);

/* Server-Start: MBZ 15, Accept, Server-IV 16, Start-Time (server uptime) 8, MBZ 8. */
struct wire_server_start {
    uint8_t accept;
    uint8_t server_iv[WIRE_IV_LEN];
    struct clk_ntp start_time;
};

int wire_server_start_encode(const struct wire_server_start *s, uint8_t *buf, size_t len);
int wire_server_start_decode(const uint8_t *buf, size_t len, struct wire_server_start *s);

/* The last block of Server-Start (Start-Time, MBZ) travels encrypted in the authenticated and
 * encrypted modes, with the Server-IV of the clear part before it (RFC 4656 §3.1): decode the
 * clear part (MBZ, Accept, Server-IV) to decrypt it, then the whole message. */
#define WIRE_SERVER_START_SEALED_OFF 32
int wire_server_start_decode_clear(const uint8_t *buf, size_t len, struct wire_server_start *s);

/* -------------------------------------------------------------- session requests */

#define WIRE_REQUEST_LEN 112
#define WIRE_REQUEST_HMAC_OFF 96
#define WIRE_SLOT_LEN 16

/* Request-Session (OWAMP, command 1, RFC 4656 §3.5) and Request-TW-Session (TWAMP,
 * command 5, RFC 5357 §3.5), 112 octets. The OWAMP one is followed by nslots schedule slots
 * and an HMAC block (struct wire_slots). TWAMP replaces 4 of the 8 MBZ octets after Type-P
 * with the RFC 6038 fields; in OWAMP they are MBZ. TWAMP's Conf-Sender, Conf-Receiver,
 * slot and packet counts (sent as 0) are carried unchecked. */
struct wire_request {
    uint8_t ipvn;          /* 4 or 6 */
    uint8_t conf_sender;   /* OWAMP: 0 or 1 */
    uint8_t conf_receiver; /* OWAMP: 0 or 1 */
    uint32_t nslots;       /* OWAMP: at most WIRE_MAX_SLOTS */
    uint32_t npackets;
    uint16_t sender_port;
    uint16_t receiver_port;
    uint8_t sender_addr[WIRE_ADDR_LEN];
    uint8_t receiver_addr[WIRE_ADDR_LEN];
    uint8_t sid[WIRE_SID_LEN];
    uint32_t padding_len;
    struct clk_ntp start_time;
    uint64_t timeout;            /* NTP 32.32 duration */
    uint32_t typep;              /* Type-P Descriptor */
    uint16_t octets_reflected;   /* TWAMP, RFC 6038 "Octets to be reflected" */
    uint16_t pad_reflected;      /* TWAMP, RFC 6038 "Length of padding to reflect" */
    uint8_t hmac[WIRE_HMAC_LEN]; /* at WIRE_REQUEST_HMAC_OFF */
};

int wire_request_encode(const struct wire_request *r, enum wire_proto proto, uint8_t *buf,
                        size_t len);
int wire_request_decode(const uint8_t *buf, size_t len, enum wire_proto proto,
                        struct wire_request *r);

/* Schedule slot types (RFC 4656 §3.5). */
enum wire_slot_type {
    WIRE_SLOT_EXP = 0,
    WIRE_SLOT_FIXED = 1,
};

/* One slot: type, MBZ 7, parameter (NTP 32.32 duration). */
struct wire_slot {
    uint8_t type;
    uint64_t param;
};

/* The slots that follow an OWAMP Request-Session: n * 16 octets plus an HMAC block. The
 * caller sets n (the request's nslots) and the array of n: cslot to encode from, slot to
 * decode into (NULL on decode to only validate). */
struct wire_slots {
    uint32_t n;
    union {
        struct wire_slot *slot;
        const struct wire_slot *cslot;
    };
    uint8_t hmac[WIRE_HMAC_LEN];
};

/* Octets of the slots part for n slots. */
size_t wire_slots_len(uint32_t n);

int wire_slots_encode(const struct wire_slots *s, uint8_t *buf, size_t len);
int wire_slots_decode(const uint8_t *buf, size_t len, struct wire_slots *s);

#define WIRE_ACCEPT_SESSION_LEN 48

/* Accept-Session: Accept, MBZ, Port, SID, then (TWAMP, RFC 6038) Reflected octets and
 * Server octets, MBZ to 32 (OWAMP: MBZ 12), HMAC. */
struct wire_accept_session {
    uint8_t accept;
    uint16_t port;
    uint8_t sid[WIRE_SID_LEN];
    uint16_t reflected_octets; /* TWAMP only */
    uint16_t server_octets;    /* TWAMP only */
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_accept_session_encode(const struct wire_accept_session *a, enum wire_proto proto,
                               uint8_t *buf, size_t len);
int wire_accept_session_decode(const uint8_t *buf, size_t len, enum wire_proto proto,
                               struct wire_accept_session *a);

/* ------------------------------------------------------- starting and stopping */

#define WIRE_START_SESSIONS_LEN 32
#define WIRE_START_ACK_LEN 32
#define WIRE_TW_STOP_LEN 32

/* Start-Sessions: command 2, MBZ 15, HMAC. */
struct wire_start_sessions {
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_start_sessions_encode(const struct wire_start_sessions *s, uint8_t *buf, size_t len);
int wire_start_sessions_decode(const uint8_t *buf, size_t len, struct wire_start_sessions *s);

/* Start-Ack: Accept, MBZ 15, HMAC. */
struct wire_start_ack {
    uint8_t accept;
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_start_ack_encode(const struct wire_start_ack *a, uint8_t *buf, size_t len);
int wire_start_ack_decode(const uint8_t *buf, size_t len, struct wire_start_ack *a);

/* A range of sequence numbers the sender never sent. In a list, each has first <= last and
 * starts no earlier than the previous one ends (LP_E_VALUE otherwise). */
struct wire_skip_range {
    uint32_t first;
    uint32_t last;
};

/* An OWAMP Stop-Sessions session description: SID, Next Seqno, Number of Skip Ranges, the
 * ranges, zero padding to a 16-octet boundary (as perfSONAR owamp writes it). skip is a
 * caller-owned array: encode reads nskips entries; decode stores up to skips_cap entries
 * (LP_E_NOMEM beyond; skip NULL only validates). */
struct wire_session_desc {
    uint8_t sid[WIRE_SID_LEN];
    uint32_t next_seqno;
    uint32_t nskips;
    struct wire_skip_range *skip;
    uint32_t skips_cap;
};

/* Octets of one padded description with nskips ranges. */
size_t wire_session_desc_len(uint32_t nskips);

int wire_session_desc_encode(const struct wire_session_desc *d, uint8_t *buf, size_t len);
int wire_session_desc_decode(const uint8_t *buf, size_t len, struct wire_session_desc *d);

/* Stop-Sessions (command 3): Accept, MBZ 2, Number of Sessions, MBZ 8, then in OWAMP
 * nsessions session descriptions, then HMAC. TWAMP's form is 32 octets without descriptions
 * (desc ignored). desc is caller-owned: encode reads nsessions entries; decode fills up to
 * descs_cap (LP_E_NOMEM beyond; NULL only validates). */
struct wire_stop_sessions {
    uint8_t accept;
    uint32_t nsessions;
    struct wire_session_desc *desc;
    uint32_t descs_cap;
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_stop_sessions_encode(const struct wire_stop_sessions *s, enum wire_proto proto,
                              uint8_t *buf, size_t len);
int wire_stop_sessions_decode(const uint8_t *buf, size_t len, enum wire_proto proto,
                              struct wire_stop_sessions *s);

/* RFC 5938 SID-list messages: Start-N-Sessions (7, no Accept: MBZ), Start-N-Ack (8),
 * Stop-N-Sessions (9), Stop-N-Ack (10). Layout: command, Accept, MBZ 10, Number of
 * Sessions, nsessions SIDs of 16 octets, HMAC. sids points to nsessions * 16 octets: the
 * caller's on encode, a view into buf on decode. */
struct wire_nsessions {
    uint8_t cmd;
    uint8_t accept;
    uint32_t nsessions;
    const uint8_t *sids;
    uint8_t hmac[WIRE_HMAC_LEN];
};

/* Octets of an RFC 5938 message listing n SIDs. */
size_t wire_nsessions_len(uint32_t n);

int wire_nsessions_encode(const struct wire_nsessions *m, uint8_t *buf, size_t len);
int wire_nsessions_decode(const uint8_t *buf, size_t len, struct wire_nsessions *m);

/* ----------------------------------------------------------- fetching (OWAMP) */

#define WIRE_FETCH_SESSION_LEN 48
#define WIRE_FETCH_ACK_LEN 32
#define WIRE_RECORD_LEN 25

/* Fetch-Session: command 4, MBZ 7, Begin Seq, End Seq, SID, HMAC. */
struct wire_fetch_session {
    uint32_t begin_seq;
    uint32_t end_seq;
    uint8_t sid[WIRE_SID_LEN];
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_fetch_session_encode(const struct wire_fetch_session *f, uint8_t *buf, size_t len);
int wire_fetch_session_decode(const uint8_t *buf, size_t len, struct wire_fetch_session *f);

/* Fetch-Ack: Accept, Finished, MBZ 2, Next Seqno, Number of Skip Ranges, Number of
 * Records, HMAC. When Accept is 0 it is followed by the stored Request-Session with its
 * slots, the skip-range section and the data-record section, each closed by an HMAC. */
struct wire_fetch_ack {
    uint8_t accept;
    uint8_t finished;
    uint32_t next_seqno;
    uint32_t nskips;
    uint32_t nrecords;
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_fetch_ack_encode(const struct wire_fetch_ack *a, uint8_t *buf, size_t len);
int wire_fetch_ack_decode(const uint8_t *buf, size_t len, struct wire_fetch_ack *a);

/* Octets of the skip-range section (n * 8 zero-padded to 16, plus HMAC) and of the
 * data-record section (n * 25 zero-padded to 16, plus HMAC). */
size_t wire_fetch_skips_len(uint32_t n);
size_t wire_fetch_records_len(uint32_t n);

/* Skip-range section: n ranges, encoded from cskip or decoded into skip (caller-owned; NULL
 * on decode only validates). */
struct wire_skip_section {
    uint32_t n;
    union {
        struct wire_skip_range *skip;
        const struct wire_skip_range *cskip;
    };
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_skip_section_encode(const struct wire_skip_section *s, uint8_t *buf, size_t len);
int wire_skip_section_decode(const uint8_t *buf, size_t len, struct wire_skip_section *s);

/* A data record as Fetch returns it (RFC 4656 §3.9): Seq Number, Send Error Estimate,
 * Receive Error Estimate, Send Timestamp, Receive Timestamp, TTL (25 octets, unaligned). */
struct wire_record {
    uint32_t seq;
    uint16_t send_errest;
    uint16_t recv_errest;
    uint64_t send_ts;
    uint64_t recv_ts;
    uint8_t ttl;
};

int wire_record_encode(const struct wire_record *r, uint8_t *buf, size_t len);
int wire_record_decode(const uint8_t *buf, size_t len, struct wire_record *r);

/* Data-record section: n records, encoded from crec or decoded into rec (caller-owned; NULL
 * on decode only validates the padding). Large fetches can instead be streamed with
 * wire_record_decode and wire_records_tail_decode. */
struct wire_records_section {
    uint32_t n;
    union {
        struct wire_record *rec;
        const struct wire_record *crec;
    };
    uint8_t hmac[WIRE_HMAC_LEN];
};

int wire_records_section_encode(const struct wire_records_section *s, uint8_t *buf, size_t len);
int wire_records_section_decode(const uint8_t *buf, size_t len, struct wire_records_section *s);

/* The end of a data-record section holding n records: buf points just after the last
 * record; checks the zero padding and copies the HMAC. Octets consumed or LP_E_*. */
int wire_records_tail_decode(const uint8_t *buf, size_t len, uint32_t n,
                             uint8_t hmac[WIRE_HMAC_LEN]);

/* ------------------------------------------------------- OWAMP/TWAMP test packets */

/* Base lengths (packets may carry padding after them) and the HMAC offset in the
 * authenticated and encrypted layouts. OWAMP packets and TWAMP Session-Sender packets share
 * one layout. The RFC 7750 reflector adds one octet in the unauthenticated layout. */
#define WIRE_SENDER_OPEN_LEN 14
#define WIRE_SENDER_AUTH_LEN 48
#define WIRE_SENDER_AUTH_HMAC_OFF 32
#define WIRE_REFLECTOR_OPEN_LEN 41
#define WIRE_REFLECTOR_AUTH_LEN 112
#define WIRE_REFLECTOR_AUTH_HMAC_OFF 96

/* Layout a test mode uses: 0 unauthenticated (Open, Mixed), 1 authenticated (Auth, Enc), or
 * LP_E_MODE unless mode holds exactly one security bit. */
int wire_test_layout(uint32_t mode);

/* Every test packet layout, OWAMP/TWAMP sender and reflector and STAMP (below), carries its
 * own send Timestamp and Error Estimate at the same offsets: octets 4 and 12 unauthenticated,
 * 16 and 24 authenticated. Write them into a packet encoded before (and not yet sealed): a
 * sender or reflector builds the packet first and stamps it last, just before it leaves.
 * 0, LP_E_MODE, or LP_E_SHORT when len cannot hold the fields. */
int wire_test_set_ts(uint8_t *buf, size_t len, uint32_t mode, uint64_t ts, uint16_t errest);

/* OWAMP-Test packet / TWAMP Session-Sender packet (RFC 4656 §4.1.2). Unauthenticated: Seq,
 * Timestamp, Error Estimate, padding. Authenticated/encrypted: Seq, MBZ 12, Timestamp,
 * Error Estimate, MBZ 6, HMAC, padding. pad: on encode the octets to copy after the base
 * (NULL: zeros), on decode a view of what follows the base. */
struct wire_sender_pkt {
    uint32_t seq;
    uint64_t ts;
    uint16_t errest;
    uint8_t hmac[WIRE_HMAC_LEN]; /* authenticated layout only */
    const uint8_t *pad;
    size_t pad_len;
};

int wire_sender_encode(const struct wire_sender_pkt *p, uint32_t mode, uint8_t *buf, size_t len);
int wire_sender_decode(const uint8_t *buf, size_t len, uint32_t mode, struct wire_sender_pkt *p);

/* TWAMP Session-Reflector packet (RFC 5357 §4.2.1). Unauthenticated (41): Seq, Timestamp,
 * Error Estimate, MBZ 2, Receive Timestamp, Sender Seq, Sender Timestamp, Sender Error
 * Estimate, MBZ 2, Sender TTL, padding. Authenticated (112): MBZ blocks after Seq (12),
 * Error Estimate (6), Receive Timestamp (8), Sender Seq (12), Sender Error Estimate (6) and
 * Sender TTL (15), HMAC at 96. With WIRE_MODE_DSCP_ECN in mode (RFC 7750) the octet after
 * Sender TTL is Sender DSCP and ECN (unauthenticated: base 42). */
struct wire_reflector_pkt {
    uint32_t seq;
    uint64_t ts;
    uint16_t errest;
    uint64_t recv_ts;
    uint32_t sender_seq;
    uint64_t sender_ts;
    uint16_t sender_errest;
    uint8_t sender_ttl;
    uint8_t sender_dscp_ecn; /* RFC 7750: DSCP << 2 | ECN */
    uint8_t hmac[WIRE_HMAC_LEN];
    const uint8_t *pad;
    size_t pad_len;
};

int wire_reflector_encode(const struct wire_reflector_pkt *p, uint32_t mode, uint8_t *buf,
                          size_t len);
int wire_reflector_decode(const uint8_t *buf, size_t len, uint32_t mode,
                          struct wire_reflector_pkt *p);

/* Octets a Session-Sender needs of an unauthenticated reply, TWAMP or STAMP: every field up
 * to the Sender Error Estimate. RFC 5357's 41 add MBZ and the Sender TTL. */
#define WIRE_REPLY_MIN_LEN 38

/* A Session-Reflector packet as its Session-Sender reads it (TWAMP, RFC 5357 §4.2.1, or
 * STAMP, RFC 8762 §4.3 when stamp), liberal in what it accepts: must-be-zero fields are not
 * checked (a STAMP reflector answering a TWAMP Light sender returns octets 14-15 as its SSID,
 * RFC 8762 §4.6), and an unauthenticated reply may end anywhere from WIRE_REPLY_MIN_LEN
 * octets on, without its Sender TTL (or RFC 7750 octet). Authenticated layouts need their
 * whole base (the HMAC is in it). */
struct wire_reply {
    struct wire_reflector_pkt r; /* absent fields 0; pad: what follows the base (STAMP TLVs) */
    uint16_t ssid;               /* STAMP SSID (TWAMP layouts: the MBZ octets there) */
    bool has_ttl;                /* the reply holds its Sender TTL */
    bool has_dscp_ecn;           /* with WIRE_MODE_DSCP_ECN (TWAMP): it holds that octet */
};

/* Returns len, LP_E_SHORT, LP_E_LEN or LP_E_MODE. */
int wire_reply_decode(const uint8_t *buf, size_t len, uint32_t mode, bool stamp,
                      struct wire_reply *out);

/* ------------------------------------------------------------------------ STAMP */

/* STAMP base packets (RFC 8762 §4.2, §4.3 with the RFC 8972 SSID). mode is WIRE_MODE_OPEN
 * or WIRE_MODE_AUTH. Session-Sender unauthenticated (44): Seq, Timestamp, Error Estimate,
 * SSID, MBZ 28. Authenticated (112): Seq, MBZ 12, Timestamp, Error Estimate, SSID, MBZ 68,
 * HMAC at 96. tlvs is what follows the base (TLVs or padding): the caller's octets on
 * encode (NULL: zeros), a view on decode. */
#define WIRE_STAMP_OPEN_LEN 44
#define WIRE_STAMP_AUTH_LEN 112
#define WIRE_STAMP_AUTH_HMAC_OFF 96
#define WIRE_STAMP_OPEN_SSID_OFF 14 /* unauthenticated Session-Sender: SSID, */
#define WIRE_STAMP_OPEN_MBZ_OFF 16  /* then MBZ up to WIRE_STAMP_OPEN_LEN */

struct wire_stamp_sender {
    uint32_t seq;
    uint64_t ts;
    uint16_t errest;
    uint16_t ssid;
    uint8_t hmac[WIRE_HMAC_LEN];
    const uint8_t *tlvs;
    size_t tlvs_len;
};

int wire_stamp_sender_encode(const struct wire_stamp_sender *p, uint32_t mode, uint8_t *buf,
                             size_t len);
int wire_stamp_sender_decode(const uint8_t *buf, size_t len, uint32_t mode,
                             struct wire_stamp_sender *p);

/* Session-Reflector: the TWAMP reflector layout with the SSID in place of the MBZ after the
 * Error Estimate (unauthenticated: octets 14-15; authenticated: 26-27) and, unauthenticated,
 * MBZ 3 after Sender TTL (base 44). */
struct wire_stamp_reflector {
    uint32_t seq;
    uint64_t ts;
    uint16_t errest;
    uint16_t ssid;
    uint64_t recv_ts;
    uint32_t sender_seq;
    uint64_t sender_ts;
    uint16_t sender_errest;
    uint8_t sender_ttl;
    uint8_t hmac[WIRE_HMAC_LEN];
    const uint8_t *tlvs;
    size_t tlvs_len;
};

int wire_stamp_reflector_encode(const struct wire_stamp_reflector *p, uint32_t mode, uint8_t *buf,
                                size_t len);
int wire_stamp_reflector_decode(const uint8_t *buf, size_t len, uint32_t mode,
                                struct wire_stamp_reflector *p);

/* RFC 8972 TLVs: Flags (U, M, I, 5 reserved bits kept as received), Type, Length (of the
 * value), value. A Session-Sender sends U set and M, I clear; the Session-Reflector clears U
 * on the types it understands and sets M or I where they apply. */
#define WIRE_TLV_HDR_LEN 4
#define WIRE_TLV_F_U 0x80u /* unrecognized type */
#define WIRE_TLV_F_M 0x40u /* malformed */
#define WIRE_TLV_F_I 0x20u /* integrity check failed */

/* STAMP TLV Types (IANA). */
enum wire_tlv_type {
    WIRE_TLV_PADDING = 1,
    WIRE_TLV_LOCATION = 2,
    WIRE_TLV_TIMESTAMP_INFO = 3,
    WIRE_TLV_COS = 4,
    WIRE_TLV_DIRECT = 5,
    WIRE_TLV_ACCESS_REPORT = 6,
    WIRE_TLV_FOLLOW_UP = 7,
    WIRE_TLV_HMAC = 8,
};

/* One TLV seen by the iterator: value views the buffer; off is where its header starts. */
struct wire_tlv {
    uint8_t flags;
    uint8_t type;
    uint16_t len;
    const uint8_t *value;
    size_t off;
};

/* Walks a TLV area (or the sub-TLVs of a Location or Timestamp Information TLV). */
struct wire_tlv_iter {
    const uint8_t *buf;
    size_t len;
    size_t off;
};

/* Start walking len octets at buf. */
void wire_tlv_iter_init(struct wire_tlv_iter *it, const uint8_t *buf, size_t len);

/* Next TLV: 1 with *t filled, 0 at the end, or LP_E_SHORT (fewer than 4 octets left) /
 * LP_E_LEN (Length overruns the area) with it->off at the bad TLV. Never reads past len. */
int wire_tlv_next(struct wire_tlv_iter *it, struct wire_tlv *t);

/* Reflector side (RFC 8972 §4): set the M flag of every malformed TLV of the area: a known
 * type with an impossible Length (marked, walking goes on), or a TLV whose header or value
 * overruns the area (marked if its Flags octet exists, walking stops). Returns the number of
 * TLVs marked. */
int wire_tlv_mark_malformed(uint8_t *buf, size_t len);

/* Write a TLV header plus vlen value octets (value NULL: zeros, e.g. Extra Padding).
 * Octets written or LP_E_SHORT / LP_E_LEN (vlen > 65535). */
int wire_tlv_encode(uint8_t flags, uint8_t type, const uint8_t *value, size_t vlen, uint8_t *buf,
                    size_t len);

/* Location TLV (2): Destination Port, Source Port, then sub-TLVs (walk them with
 * wire_tlv_iter_init(value, len)). Decoders take a TLV from wire_tlv_next and return 0,
 * LP_E_VALUE (other type) or LP_E_LEN (Length impossible for the type). */
struct wire_tlv_location {
    uint16_t dst_port;
    uint16_t src_port;
    const uint8_t *sub;
    size_t sub_len;
};

int wire_tlv_location_encode(uint8_t flags, const struct wire_tlv_location *l, uint8_t *buf,
                             size_t len);
int wire_tlv_location_decode(const struct wire_tlv *t, struct wire_tlv_location *l);

/* Timestamp Information TLV (3): Sync Src In, Timestamp In, Sync Src Out, Timestamp Out,
 * optional sub-TLVs. */
struct wire_tlv_tsinfo {
    uint8_t sync_in;
    uint8_t method_in;
    uint8_t sync_out;
    uint8_t method_out;
    const uint8_t *sub;
    size_t sub_len;
};

int wire_tlv_tsinfo_encode(uint8_t flags, const struct wire_tlv_tsinfo *ts, uint8_t *buf,
                           size_t len);
int wire_tlv_tsinfo_decode(const struct wire_tlv *t, struct wire_tlv_tsinfo *ts);

/* Class of Service TLV (4), value 4 octets: DSCP1 (6 bits), DSCP2 (6), ECN (2), RP (2),
 * Reserved (16, zero on encode, kept as received on decode). */
struct wire_tlv_cos {
    uint8_t dscp1;
    uint8_t dscp2;
    uint8_t ecn;
    uint8_t rp;
    uint16_t reserved;
};

int wire_tlv_cos_encode(uint8_t flags, const struct wire_tlv_cos *c, uint8_t *buf, size_t len);
int wire_tlv_cos_decode(const struct wire_tlv *t, struct wire_tlv_cos *c);

/* Direct Measurement TLV (5), value 12 octets: S-TxC, R-RxC, R-TxC counters. */
struct wire_tlv_direct {
    uint32_t s_tx;
    uint32_t r_rx;
    uint32_t r_tx;
};

int wire_tlv_direct_encode(uint8_t flags, const struct wire_tlv_direct *d, uint8_t *buf,
                           size_t len);
int wire_tlv_direct_decode(const struct wire_tlv *t, struct wire_tlv_direct *d);

/* HMAC TLV (8), value 16 octets (the crypto module computes it). */
int wire_tlv_hmac_encode(uint8_t flags, const uint8_t hmac[WIRE_HMAC_LEN], uint8_t *buf,
                         size_t len);
int wire_tlv_hmac_decode(const struct wire_tlv *t, uint8_t hmac[WIRE_HMAC_LEN]);

#endif
