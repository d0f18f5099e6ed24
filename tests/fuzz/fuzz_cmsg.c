/* fuzz_cmsg.c - libFuzzer harness for the one cmsg parser (sock_parse_cmsgs and
 * sock_parse_tx_cmsgs): the input is the control buffer of a received message, as the
 * kernel would have filled msg_control (aligned like the receive path's buffers). */
#include "fuzz.h"
#include "sock.h"

#include <netinet/in.h>

#define CTL_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static union {
        size_t align;
        uint8_t buf[CTL_MAX];
    } ctl;
    struct msghdr msg = {0};
    struct sock_rxinfo info;
    struct sock_txts tx;

    if (size > CTL_MAX) {
        return 0;
    }
    /* Exact size on the heap so a read past msg_controllen is caught; aligned copy too. */
    uint8_t *exact = malloc(size ? size : 1);
    FUZZ_CHECK(exact != NULL);
    memcpy(exact, data, size);
    memcpy(ctl.buf, data, size);
    msg.msg_control = size ? ctl.buf : NULL;
    msg.msg_controllen = size;
    sock_parse_cmsgs(&msg, &info);
    FUZZ_CHECK(info.ttl >= -1 && info.ttl <= 255 && info.tos >= -1 && info.tos <= 255);
    FUZZ_CHECK(info.dst.len == 0 || info.dst.len == sizeof(struct sockaddr_in) ||
               info.dst.len == sizeof(struct sockaddr_in6));
    if (sock_parse_tx_cmsgs(&msg, &tx)) {
        FUZZ_CHECK(tx.src == CLK_SRC_HARDWARE || tx.src == CLK_SRC_KERNEL);
    }
    /* The same bytes unaligned by the malloc'd copy when its address happens to be so. */
    msg.msg_control = exact;
    sock_parse_cmsgs(&msg, &info);
    sock_parse_tx_cmsgs(&msg, &tx);
    free(exact);
    return 0;
}
