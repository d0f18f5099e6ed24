/* twampd - TWAMP server (RFC 5357 and extensions) with an optional TWAMP Light / STAMP
 * reflector. Everything is in libprotocol's daemon core. */
#include "server.h"

int main(int argc, char **argv)
{
    return srv_main(argc, argv, &srv_twamp_ops);
}
