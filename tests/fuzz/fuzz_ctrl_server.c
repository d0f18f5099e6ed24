/* fuzz_ctrl_server.c - libFuzzer harness for the control state machine in the server role,
 * past a legitimate handshake.
 *
 * Input: octet 0 picks the protocol (bit 0: TWAMP) and the mode (bits 1-2: open,
 * authenticated, encrypted, mixed; OWAMP takes encrypted for mixed). A real client ctrl
 * then completes the handshake with the server using the fixed key, and the rest of the
 * input is a series of chunks (fz_chunk in fuzz_ctrl.h): client messages that the harness
 * seals with the client's stream (HMAC and AES-CBC as a client would), so that the fuzzer
 * reaches the message parsers behind the HMAC check. The server answers every event
 * (Accept-Session, Start-Ack, its own Stop-Sessions, Fetch replies, Start-N/Stop-N Acks). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t sel = fz_u8(&f);
    enum wire_proto proto = sel & 1 ? WIRE_TWAMP : WIRE_OWAMP;
    uint32_t mode = fz_mode(proto, sel >> 1);
    uint8_t client_iv[WIRE_IV_LEN], server_iv[WIRE_IV_LEN];
    struct fz_srv st = {.proto = proto, .allowed = true};
    struct cry_stream client_tx;

    if (size > 1u << 16) {
        return 0;
    }
    fz_crypto_init();
    fz_rng_reset();
    struct ctrl *srv = ctrl_create(proto, CTRL_SERVER, fz_offered(proto), FZ_COUNT);
    struct ctrl *cli = ctrl_create(proto, CTRL_CLIENT, 0, 0);
    FUZZ_CHECK(srv && cli);
    FUZZ_CHECK(fz_handshake(srv, cli, mode, client_iv, server_iv) == 0);
    bool secure = ctrl_keys(cli) != NULL;
    cry_stream_init(&client_tx, ctrl_keys(cli), client_iv, secure);

    size_t len, split;
    while ((len = fz_chunk(&f, &client_tx, chunk, &split)) > 0) {
        if (fz_srv_feed(srv, &st, chunk, len, split) < 0) {
            break;
        }
    }
    cry_stream_wipe(&client_tx);
    ctrl_destroy(cli);
    ctrl_destroy(srv);
    return 0;
}
