/* common.c - error strings. */
#include "common.h"

const char *lp_strerror(int err)
{
    switch (err) {
    case LP_OK: return "success";
    case LP_E_SHORT: return "message too short";
    case LP_E_MBZ: return "must-be-zero field not zero";
    case LP_E_CMD: return "unknown or unexpected command";
    case LP_E_MODE: return "unsupported mode";
    case LP_E_LEN: return "bad length or count";
    case LP_E_VALUE: return "field value not allowed";
    case LP_E_HMAC: return "HMAC does not verify";
    case LP_E_AUTH: return "authentication failed";
    case LP_E_NOMEM: return "out of memory or limit reached";
    case LP_E_STATE: return "message not valid in this state";
    case LP_E_CRYPTO: return "crypto failure";
    case LP_E_IO: return "I/O error";
    case LP_E_NOTFOUND: return "not found";
    case LP_E_SYNTAX: return "syntax error";
    case LP_E_REFUSED: return "refused by peer";
    case LP_E_TIMEOUT: return "timed out";
    default: return "unknown error";
    }
}

#ifndef OWAMP_TOOLS_VERSION
#define OWAMP_TOOLS_VERSION "unknown"
#endif

const char *lp_version(void)
{
    return OWAMP_TOOLS_VERSION;
}
