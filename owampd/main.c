/* owampd - OWAMP server (RFC 4656). Everything is in libprotocol's daemon core. */
#include "server.h"

int main(int argc, char **argv)
{
    return srv_main(argc, argv, &srv_owamp_ops);
}
