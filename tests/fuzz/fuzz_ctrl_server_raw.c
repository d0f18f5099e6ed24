/* fuzz_ctrl_server_raw.c - libFuzzer harness for the control state machine in the server
 * role, fed raw octets from the very start (Set-Up-Response included), as a hostile client
 * would send them.
 *
 * Input: octet 0: bit 0 the protocol (TWAMP when set), bit 1 the policy answer to the
 * Set-Up-Response (refused when set), bits 2-7 the size of the pieces the stream is fed in
 * (0: all at once). The rest is the client's stream. The server answers every event as the
 * daemons do. An authenticated Set-Up-Response cannot carry a valid Token here, so past
 * set-up this covers open mode. */
#include "fuzz.h"
#include "fuzz_ctrl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_crypto_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t sel = fz_u8(&f);
    enum wire_proto proto = sel & 1 ? WIRE_TWAMP : WIRE_OWAMP;
    struct fz_srv st = {.proto = proto, .allowed = !(sel & 2)};

    if (size > 1u << 16) {
        return 0;
    }
    fz_crypto_init();
    fz_rng_reset();
    struct ctrl *srv = ctrl_create(proto, CTRL_SERVER, fz_offered(proto), FZ_COUNT);
    FUZZ_CHECK(srv != NULL);
    fz_drain(srv);
    fz_srv_feed(srv, &st, f.p, f.left, sel >> 2);
    ctrl_destroy(srv);
    return 0;
}
