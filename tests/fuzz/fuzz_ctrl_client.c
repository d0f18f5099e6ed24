/* fuzz_ctrl_client.c - libFuzzer harness for the control state machine in the client role:
 * fuzz octets are the server's stream after a valid Server-Greeting.
 *
 * Input: octet 0 picks the protocol (bit 0: TWAMP) and the mode (bits 1-2: open,
 * authenticated, encrypted, mixed). Open mode: the harness sends a valid greeting and the
 * client answers it; everything after (Server-Start included) comes from the input.
 * Other modes: a real server ctrl completes the handshake with the fixed key, and server
 * messages from the input are sealed with the server's stream so the fuzzer gets past the
 * HMAC checks. The rest of the input is a series of operations: a chunk of server stream
 * (fz_chunk), or a client request (Request-Session, Start-Sessions, Fetch-Session,
 * Stop-Sessions, Start-N/Stop-N) so that the replies the client waits for are parsed. */
#include "fuzz.h"
#include "fuzz_ctrl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_crypto_init();
    return 0;
}

static uint8_t chunk[FZ_CHUNK_MAX];

/* Open mode: a greeting offering every mode, answered with open mode. */
static int open_setup(struct ctrl *cli, enum wire_proto proto)
{
    struct wire_greeting g = {.modes = fz_offered(proto), .count = FZ_COUNT};
    uint8_t buf[WIRE_GREETING_LEN];
    struct ctrl_event ev;
    memset(g.challenge, 0x11, sizeof(g.challenge));
    memset(g.salt, 0x22, sizeof(g.salt));
    wire_greeting_encode(&g, buf, sizeof(buf));
    if (ctrl_input(cli, buf, sizeof(buf)) < 0 || ctrl_next(cli, &ev) != 1 ||
        ev.type != CTRL_EV_GREETING) {
        return -1;
    }
    return ctrl_client_setup(cli, WIRE_MODE_OPEN, NULL, NULL, 0);
}

/* Secure modes: a real handshake, then the server's stream continues past Server-Start
 * (whose last block the server's first HMAC covers). */
static int secure_setup(struct ctrl *cli, enum wire_proto proto, uint32_t mode,
                        struct cry_stream *server_tx)
{
    uint8_t client_iv[WIRE_IV_LEN], server_iv[WIRE_IV_LEN], last[WIRE_BLOCK_LEN] = {0};
    struct ctrl *srv = ctrl_create(proto, CTRL_SERVER, fz_offered(proto), FZ_COUNT);
    int rc = srv ? fz_handshake(srv, cli, mode, client_iv, server_iv) : -1;
    if (rc == 0) {
        cry_stream_init(server_tx, ctrl_keys(srv), server_iv, true);
        lp_store64(last, FZ_START_TIME);
        cry_stream_send(server_tx, last, sizeof(last));
    }
    ctrl_destroy(srv);
    return rc;
}

/* A client request built from the input. */
static void client_op(struct ctrl *cli, enum wire_proto proto, uint8_t op, struct fz *f)
{
    uint8_t sids[4 * WIRE_SID_LEN];
    struct wire_slot slots[3] = {
        {WIRE_SLOT_FIXED, 1ull << 29}, {WIRE_SLOT_EXP, 1ull << 30}, {WIRE_SLOT_FIXED, 1}};
    switch (op) {
    case 3: {
        uint8_t b = fz_u8(f);
        struct wire_request r = {.ipvn = b & 1 ? 6 : 4,
                                 .conf_sender = b >> 1 & 1,
                                 .conf_receiver = !(b >> 1 & 1),
                                 .nslots = b >> 2 & 3,
                                 .npackets = 10,
                                 .sender_port = 9000,
                                 .padding_len = b >> 4};
        ctrl_send_request(cli, &r, slots);
        break;
    }
    case 4: ctrl_send_start(cli); break;
    case 5: {
        struct wire_fetch_session fs = {.begin_seq = fz_u8(f), .end_seq = 0xffffffffu};
        ctrl_send_fetch(cli, &fs);
        break;
    }
    case 6: {
        struct wire_skip_range skip[1] = {{2, 3}};
        struct wire_session_desc d = {.next_seqno = 10, .nskips = 1, .skip = skip};
        struct wire_stop_sessions s = {.nsessions = 1, .desc = &d};
        ctrl_send_stop(cli, &s);
        break;
    }
    default: {
        uint8_t b = fz_u8(f);
        memset(sids, b, sizeof(sids));
        if (proto == WIRE_TWAMP) {
            uint8_t cmd = b & 1 ? WIRE_CMD_STOP_N_SESSIONS : WIRE_CMD_START_N_SESSIONS;
            ctrl_send_nsessions(cli, cmd, 0, sids, (b >> 1) % 5);
        }
        break;
    }
    }
}

/* Every event the client can parse now. 0 while the connection lives. */
static int client_events(struct ctrl *cli)
{
    struct ctrl_event ev;
    int rc;
    while ((rc = ctrl_next(cli, &ev)) == 1) {
#ifdef FZ_TRACE
        fprintf(stderr, "client event %d\n", (int)ev.type);
#endif
        FUZZ_CHECK(ev.type != CTRL_EV_NONE && ev.type != CTRL_EV_SETUP &&
                   ev.type != CTRL_EV_REQUEST && ev.type != CTRL_EV_START &&
                   ev.type != CTRL_EV_FETCH);
    }
    fz_drain(cli);
#ifdef FZ_TRACE
    if (rc < 0) {
        fprintf(stderr, "client error %d\n", rc);
    }
#endif
    return rc < 0 ? rc : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t sel = fz_u8(&f);
    enum wire_proto proto = sel & 1 ? WIRE_TWAMP : WIRE_OWAMP;
    uint32_t mode = fz_mode(proto, sel >> 1);
    struct cry_stream server_tx;

    if (size > 1u << 16) {
        return 0;
    }
    fz_crypto_init();
    fz_rng_reset();
    struct ctrl *cli = ctrl_create(proto, CTRL_CLIENT, 0, 0);
    FUZZ_CHECK(cli != NULL);
    if (mode == WIRE_MODE_OPEN) {
        FUZZ_CHECK(open_setup(cli, proto) == 0);
        cry_stream_init(&server_tx, NULL, NULL, false);
    } else {
        FUZZ_CHECK(secure_setup(cli, proto, mode, &server_tx) == 0);
    }
    fz_drain(cli);
    while (f.left > 0) {
        uint8_t op = fz_u8(&f) % 8;
        int rc = 0;
        if (op < 3) {
            size_t split, len = fz_chunk(&f, &server_tx, chunk, &split);
            for (size_t off = 0; rc == 0 && off < len; off += split ? split : len) {
                size_t n = split && split < len - off ? split : len - off;
                rc = ctrl_input(cli, chunk + off, n);
                rc = rc < 0 ? rc : client_events(cli);
            }
        } else {
            client_op(cli, proto, op, &f);
            rc = client_events(cli);
        }
        if (rc < 0) {
            break;
        }
    }
    cry_stream_wipe(&server_tx);
    ctrl_destroy(cli);
    return 0;
}
