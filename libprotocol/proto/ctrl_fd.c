/* ctrl_fd.c - the one place a control connection's queued octets meet a socket: written to a
 * non-blocking stream socket until it takes no more (ctrl itself never does I/O). */
#include <errno.h>
#include <sys/socket.h>

#include "ctrl.h"

int ctrl_write_fd(struct ctrl *c, int fd)
{
    const uint8_t *p;
    size_t n;
    ctrl_output(c, &p, &n);
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        }
        ctrl_output_done(c, (size_t)w); /* a streamed Fetch reply may refill here */
        ctrl_output(c, &p, &n);
    }
    return 0;
}
