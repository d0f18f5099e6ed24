/* fuzz_wire_ctrl.c - libFuzzer harness for the control-message decoders of wire.h.
 *
 * Input: octet 0 picks the decoder (and bit 7 the protocol, TWAMP when set), octet 1 sizes
 * the caller's arrays where a decoder needs one; the rest is the message. Every message
 * that decodes is encoded again and must give back the same octets (apart from the
 * Server-Greeting's ignored Unused field): a decoder that accepts what its encoder cannot
 * write, or loses a field, is a bug. WIRE_MSG_* kinds go through wire_ctrl_msg_len first,
 * as the control reader does, and a complete message is then handed to its decoder. */
#include "fuzz.h"
#include "wire.h"

#define MAX_ARR 80
#define BUF_MAX (WIRE_REQUEST_LEN + WIRE_MAX_SLOTS * WIRE_SLOT_LEN + 4096)

/* Scratch shared by the decoders (one input at a time). */
static struct wire_slot slot_arr[MAX_ARR];
static struct wire_skip_range skip_arr[MAX_ARR];
static struct wire_session_desc desc_arr[MAX_ARR];
static struct wire_record rec_arr[MAX_ARR];
static uint8_t re[1u << 20];

/* The re-encoding of a decoded message must equal the input's first n octets. */
static void same(const uint8_t *in, int n, int n2, size_t ignore_len)
{
    FUZZ_CHECK(n2 == n);
    FUZZ_CHECK(memcmp(in + ignore_len, re + ignore_len, (size_t)n - ignore_len) == 0);
}

static void do_greeting(const uint8_t *b, size_t len)
{
    struct wire_greeting g;
    int n = wire_greeting_decode(b, len, &g);
    if (n > 0) {
        same(b, n, wire_greeting_encode(&g, re, sizeof(re)), 12);
    }
}

static void do_setup(const uint8_t *b, size_t len, enum wire_proto proto)
{
    struct wire_setup s;
    int n = wire_setup_decode(b, len, proto, &s);
    if (n > 0) {
        same(b, n, wire_setup_encode(&s, proto, re, sizeof(re)), 0);
    }
}

static void do_server_start(const uint8_t *b, size_t len)
{
    struct wire_server_start s;
    int n = wire_server_start_decode(b, len, &s);
    if (n > 0) {
        same(b, n, wire_server_start_encode(&s, re, sizeof(re)), 0);
    }
}

/* Request-Session / Request-TW-Session, and for OWAMP the slots after it. */
static void do_request(const uint8_t *b, size_t len, enum wire_proto proto)
{
    struct wire_request r;
    int n = wire_request_decode(b, len, proto, &r);
    if (n <= 0) {
        return;
    }
    same(b, n, wire_request_encode(&r, proto, re, sizeof(re)), 0);
    if (proto == WIRE_OWAMP && r.nslots <= MAX_ARR) {
        struct wire_slots s = {.n = r.nslots, .slot = slot_arr};
        int m = wire_slots_decode(b + n, len - (size_t)n, &s);
        if (m > 0) {
            FUZZ_CHECK((size_t)m == wire_slots_len(r.nslots));
            same(b + n, m, wire_slots_encode(&s, re, sizeof(re)), 0);
        }
    }
}

static void do_slots(const uint8_t *b, size_t len, uint8_t arg)
{
    struct wire_slots s = {.n = arg % MAX_ARR, .slot = arg & 0x80 ? NULL : slot_arr};
    int n = wire_slots_decode(b, len, &s);
    if (n > 0 && s.slot) {
        same(b, n, wire_slots_encode(&s, re, sizeof(re)), 0);
    }
}

static void do_accept(const uint8_t *b, size_t len, enum wire_proto proto)
{
    struct wire_accept_session a;
    int n = wire_accept_session_decode(b, len, proto, &a);
    if (n > 0) {
        same(b, n, wire_accept_session_encode(&a, proto, re, sizeof(re)), 0);
    }
}

static void do_start(const uint8_t *b, size_t len)
{
    struct wire_start_sessions s;
    int n = wire_start_sessions_decode(b, len, &s);
    if (n > 0) {
        same(b, n, wire_start_sessions_encode(&s, re, sizeof(re)), 0);
    }
}

static void do_start_ack(const uint8_t *b, size_t len)
{
    struct wire_start_ack a;
    int n = wire_start_ack_decode(b, len, &a);
    if (n > 0) {
        same(b, n, wire_start_ack_encode(&a, re, sizeof(re)), 0);
    }
}

static void do_desc(const uint8_t *b, size_t len, uint8_t arg)
{
    struct wire_session_desc d = {.skip = arg & 0x80 ? NULL : skip_arr, .skips_cap = arg % MAX_ARR};
    int n = wire_session_desc_decode(b, len, &d);
    if (n > 0 && d.skip) {
        FUZZ_CHECK(d.nskips <= d.skips_cap);
        same(b, n, wire_session_desc_encode(&d, re, sizeof(re)), 0);
    }
}

/* Stop-Sessions: descriptions share skip_arr, MAX_ARR / 8 ranges each. */
static void do_stop(const uint8_t *b, size_t len, enum wire_proto proto, uint8_t arg)
{
    struct wire_stop_sessions s = {.desc = arg & 0x80 ? NULL : desc_arr, .descs_cap = arg % 9};
    for (unsigned i = 0; i < 8; i++) {
        desc_arr[i] = (struct wire_session_desc){.skip = skip_arr + i * (MAX_ARR / 8),
                                                 .skips_cap = MAX_ARR / 8};
    }
    int n = wire_stop_sessions_decode(b, len, proto, &s);
    if (n > 0 && (s.desc || proto == WIRE_TWAMP)) {
        FUZZ_CHECK(proto == WIRE_TWAMP || s.nsessions <= s.descs_cap);
        same(b, n, wire_stop_sessions_encode(&s, proto, re, sizeof(re)), 0);
    }
}

static void do_nsessions(const uint8_t *b, size_t len)
{
    struct wire_nsessions m;
    int n = wire_nsessions_decode(b, len, &m);
    if (n > 0) {
        FUZZ_CHECK((size_t)n == wire_nsessions_len(m.nsessions) && (size_t)n <= len);
        same(b, n, wire_nsessions_encode(&m, re, sizeof(re)), 0);
    }
}

static void do_fetch(const uint8_t *b, size_t len)
{
    struct wire_fetch_session f;
    int n = wire_fetch_session_decode(b, len, &f);
    if (n > 0) {
        same(b, n, wire_fetch_session_encode(&f, re, sizeof(re)), 0);
    }
}

static void do_fetch_ack(const uint8_t *b, size_t len)
{
    struct wire_fetch_ack a;
    int n = wire_fetch_ack_decode(b, len, &a);
    if (n > 0) {
        same(b, n, wire_fetch_ack_encode(&a, re, sizeof(re)), 0);
    }
}

static void do_skip_section(const uint8_t *b, size_t len, uint8_t arg)
{
    struct wire_skip_section s = {.n = arg % MAX_ARR, .skip = arg & 0x80 ? NULL : skip_arr};
    int n = wire_skip_section_decode(b, len, &s);
    if (n > 0 && s.skip) {
        FUZZ_CHECK((size_t)n == wire_fetch_skips_len(s.n));
        same(b, n, wire_skip_section_encode(&s, re, sizeof(re)), 0);
    }
}

static void do_record(const uint8_t *b, size_t len)
{
    struct wire_record r;
    int n = wire_record_decode(b, len, &r);
    if (n > 0) {
        same(b, n, wire_record_encode(&r, re, sizeof(re)), 0);
    }
}

/* A record section, whole and streamed (records one by one, then the tail). */
static void do_records(const uint8_t *b, size_t len, uint8_t arg)
{
    struct wire_records_section s = {.n = arg % MAX_ARR, .rec = arg & 0x80 ? NULL : rec_arr};
    int n = wire_records_section_decode(b, len, &s);
    if (n > 0 && s.rec) {
        FUZZ_CHECK((size_t)n == wire_fetch_records_len(s.n));
        same(b, n, wire_records_section_encode(&s, re, sizeof(re)), 0);
    }
    size_t off = (size_t)s.n * WIRE_RECORD_LEN;
    if (len >= off) {
        uint8_t hmac[WIRE_HMAC_LEN];
        int t = wire_records_tail_decode(b + off, len - off, s.n, hmac);
        FUZZ_CHECK(n <= 0 || (t > 0 && off + (size_t)t == (size_t)n));
    }
}

/* The decoder of a complete message of this kind, as the control reader picks it. */
static void decode_kind(const uint8_t *b, size_t len, enum wire_proto proto, enum wire_msg kind)
{
    switch (kind) {
    case WIRE_MSG_GREETING: do_greeting(b, len); break;
    case WIRE_MSG_SETUP: do_setup(b, len, proto); break;
    case WIRE_MSG_SERVER_START: do_server_start(b, len); break;
    case WIRE_MSG_ACCEPT_SESSION: do_accept(b, len, proto); break;
    case WIRE_MSG_START_ACK: do_start_ack(b, len); break;
    case WIRE_MSG_FETCH_ACK: do_fetch_ack(b, len); break;
    case WIRE_MSG_COMMAND:
        switch (b[0]) {
        case WIRE_CMD_REQUEST_SESSION:
        case WIRE_CMD_REQUEST_TW_SESSION: do_request(b, len, proto); break;
        case WIRE_CMD_START_SESSIONS: do_start(b, len); break;
        case WIRE_CMD_STOP_SESSIONS: do_stop(b, len, proto, 8); break;
        case WIRE_CMD_FETCH_SESSION: do_fetch(b, len); break;
        default: do_nsessions(b, len); break;
        }
        break;
    }
}

/* Frame the head of the buffer the way ctrl does, growing "have" as a reader would. */
static void do_frame(const uint8_t *b, size_t len, enum wire_proto proto, uint8_t arg)
{
    enum wire_msg kind = (enum wire_msg)(arg % 8);
    size_t have = 0;
    for (;;) { /* ends: every round asks for more octets than the last */
        bool known = false;
        long n = wire_ctrl_msg_len(b, have, proto, kind, &known);
        if (n <= 0) {
            FUZZ_CHECK(n < 0);
            return;
        }
        if (known) {
            FUZZ_CHECK(kind <= WIRE_MSG_SETUP || (n % WIRE_BLOCK_LEN) == 0);
            if ((size_t)n <= len) {
                decode_kind(b, (size_t)n, proto, kind);
            }
            return;
        }
        FUZZ_CHECK((size_t)n > have);
        if ((size_t)n > len) {
            return;
        }
        have = (size_t)n;
    }
}

static void do_misc(const uint8_t *b, size_t len)
{
    struct fz f = {b, len};
    uint32_t v = fz_u32(&f);
    struct wire_typep tp;
    if (wire_typep_parse(v, &tp) == 0 && tp.format == 0) {
        FUZZ_CHECK(wire_typep_dscp(tp.dscp) == v);
    }
    (void)wire_mode_check(v, WIRE_OWAMP);
    (void)wire_mode_check(v, WIRE_TWAMP);
    int layout = wire_test_layout(v);
    FUZZ_CHECK(layout == 0 || layout == 1 || layout == LP_E_MODE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > BUF_MAX) {
        return 0;
    }
    enum wire_proto proto = data[0] & 0x80 ? WIRE_TWAMP : WIRE_OWAMP;
    uint8_t arg = data[1];
    const uint8_t *b = data + 2;
    size_t len = size - 2;
    switch (data[0] & 0x7f) {
    case 0: do_greeting(b, len); break;
    case 1: do_setup(b, len, proto); break;
    case 2: do_server_start(b, len); break;
    case 3: do_request(b, len, proto); break;
    case 4: do_slots(b, len, arg); break;
    case 5: do_accept(b, len, proto); break;
    case 6: do_start(b, len); break;
    case 7: do_start_ack(b, len); break;
    case 8: do_desc(b, len, arg); break;
    case 9: do_stop(b, len, proto, arg); break;
    case 10: do_nsessions(b, len); break;
    case 11: do_fetch(b, len); break;
    case 12: do_fetch_ack(b, len); break;
    case 13: do_skip_section(b, len, arg); break;
    case 14: do_record(b, len); break;
    case 15: do_records(b, len, arg); break;
    case 16: do_misc(b, len); break;
    default: do_frame(b, len, proto, arg); break;
    }
    return 0;
}
