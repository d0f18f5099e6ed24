/* conn.c - the client's control connection: resolve, connect, move octets between the TCP
 * socket and the ctrl state machine, and wait for control events with bounded waits. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"

#define CONN_READ_CHUNK 2048 /* small enough that ctrl's bounded input never overflows */

static const char *prog(const struct conn *c)
{
    return c->app->o->prog;
}

/* Watch the events we need now: writable while connecting or while output is pending,
 * readable only while somebody waits for input. */
static void conn_interest(struct conn *c, bool want_read, bool connecting)
{
    const uint8_t *p;
    size_t n = 0;
    if (c->fd < 0) {
        return;
    }
    if (c->ctrl) {
        ctrl_output(c->ctrl, &p, &n);
    }
    unsigned ev = (want_read ? LOOP_READ : 0u) | (connecting || n > 0 ? LOOP_WRITE : 0u);
    if (c->registered) {
        loop_mod_fd(c->app->loop, c->fd, ev);
    }
}

static int send_pending(struct conn *c)
{
    return ctrl_write_fd(c->ctrl, c->fd);
}

static void on_fd(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    c->events |= events;
    if ((events & (LOOP_ERR | LOOP_HUP)) && c->ctrl) {
        /* reported even when not asked for: stop watching, readers find EOF or the error */
        loop_del_fd(loop, c->fd);
        c->registered = false;
        return;
    }
    if ((events & LOOP_WRITE) && c->ctrl) {
        send_pending(c);
        conn_interest(c, false, false);
    }
}

int conn_flush(struct conn *c)
{
    if (send_pending(c) < 0) {
        fprintf(stderr, "%s: control connection: %s\n", prog(c), strerror(errno));
        return -1;
    }
    conn_interest(c, false, false);
    return 0;
}

/* Read what is there into ctrl: 1 some octets, 0 nothing yet, -1 error (printed). */
static int read_some(struct conn *c)
{
    uint8_t buf[CONN_READ_CHUNK];
    ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
    if (r == 0) {
        c->eof = true;
        return 0;
    }
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return 0;
        }
        fprintf(stderr, "%s: control connection: %s\n", prog(c), strerror(errno));
        return -1;
    }
    if (ctrl_input(c->ctrl, buf, (size_t)r) < 0) {
        fprintf(stderr, "%s: control connection: server sent an oversized message\n", prog(c));
        return -1;
    }
    return 1;
}

static const char *ev_name(enum ctrl_ev t)
{
    switch (t) {
    case CTRL_EV_GREETING: return "Server-Greeting";
    case CTRL_EV_SERVER_START: return "Server-Start";
    case CTRL_EV_ACCEPT_SESSION: return "Accept-Session";
    case CTRL_EV_START_ACK: return "Start-Ack";
    case CTRL_EV_STOP: return "Stop-Sessions";
    case CTRL_EV_FETCH_ACK: return "Fetch-Ack";
    case CTRL_EV_FETCH_HEAD: return "stored request";
    case CTRL_EV_FETCH_RECORD: return "data record";
    case CTRL_EV_FETCH_DONE: return "end of records";
    case CTRL_EV_NSESSIONS: return "Start-N/Stop-N message";
    default: return "message";
    }
}

/* conn_poll_event, returning 0 also once done(arg) holds (done NULL: never). */
static int poll_event(struct conn *c, int64_t deadline_mono, conn_done_fn done, void *arg,
                      struct ctrl_event *ev)
{
    for (;;) {
        int rc = ctrl_next(c->ctrl, ev);
        if (rc > 0) {
            return 1;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: control connection: %s\n", prog(c), lp_strerror(rc));
            return -1;
        }
        if ((rc = read_some(c)) > 0) {
            continue;
        }
        if (rc < 0 || c->eof) {
            return -1;
        }
        if (done && done(arg)) {
            return 0;
        }
        conn_interest(c, true, false);
        rc = app_step(c->app, deadline_mono);
        conn_interest(c, false, false);
        if (rc <= 0) {
            return rc;
        }
    }
}

int conn_poll_event(struct conn *c, int64_t deadline_mono, struct ctrl_event *ev)
{
    return poll_event(c, deadline_mono, NULL, NULL, ev);
}

int conn_watch_event(struct conn *c, int64_t deadline_mono, conn_done_fn done, void *arg,
                     struct ctrl_event *ev)
{
    return poll_event(c, deadline_mono, done, arg, ev);
}

bool conn_alive(const struct conn *c)
{
    return c->ctrl && c->fd >= 0 && !c->eof;
}

/* The one line saying why no event came (nothing when interrupted or already printed). */
static void explain(const struct conn *c, int rc, const char *what)
{
    if (rc == 0) {
        fprintf(stderr, "%s: timed out waiting for %s from the server\n", prog(c), what);
    } else if (c->eof) {
        fprintf(stderr, "%s: the server closed the control connection (waiting for %s)\n", prog(c),
                what);
    }
}

int conn_wait_event(struct conn *c, int64_t deadline_mono, struct ctrl_event *ev)
{
    int rc = conn_poll_event(c, deadline_mono, ev);
    if (rc <= 0) {
        explain(c, rc, "a reply");
    }
    return rc > 0 ? 1 : -1;
}

int conn_expect(struct conn *c, enum ctrl_ev type, int64_t deadline_mono, struct ctrl_event *ev,
                const char *what)
{
    int rc = conn_poll_event(c, deadline_mono, ev);
    if (rc <= 0) {
        explain(c, rc, what);
        return -1;
    }
    if (ev->type != type) {
        fprintf(stderr, "%s: protocol error: %s while waiting for %s\n", prog(c), ev_name(ev->type),
                what);
        return -1;
    }
    return 1;
}

static int bind_device(int fd, const char *dev)
{
    if (!dev) {
        return 0;
    }
    return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1);
}

/* Bind fd to the -B device and the -S address (any port) when given. 0; 1 when -S is of
 * another family; -2 when binding failed (printed). */
static int bind_source(struct conn *c, int fd, int family)
{
    const struct opts *o = c->app->o;
    struct sock_addr src;
    if (bind_device(fd, o->bind_dev) < 0) {
        fprintf(stderr, "%s: cannot bind to device %s: %s\n", prog(c), o->bind_dev,
                strerror(errno));
        return -2;
    }
    if (!o->srcaddr) {
        return 0;
    }
    if (sock_addr_parse(o->srcaddr, 0, &src) < 0) {
        fprintf(stderr, "%s: -S %s is not a numeric address\n", prog(c), o->srcaddr);
        return -2;
    }
    if (src.ss.ss_family != family) {
        return 1; /* not usable for this family: try the next address */
    }
    if (bind(fd, (struct sockaddr *)&src.ss, src.len) < 0) {
        fprintf(stderr, "%s: cannot bind to %s: %s\n", prog(c), o->srcaddr, strerror(errno));
        return -2;
    }
    return 0;
}

/* Connect to one resolved address within the connect bound. 0; -1 with errno set (try the
 * next address); -2 when -S/-B cannot be used (printed). */
static int try_connect(struct conn *c, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1, err = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = bind_source(c, fd, ai->ai_family);
    if (rc == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        rc = -1;
    }
    if (rc == 0 && loop_add_fd(c->app->loop, fd, LOOP_WRITE, on_fd, c) < 0) {
        rc = -1;
    }
    if (rc != 0) {
        err = rc > 0 ? EAFNOSUPPORT : errno;
        close(fd);
        errno = err;
        return rc == -2 ? -2 : -1;
    }
    c->fd = fd;
    c->events = 0;
    c->registered = true;
    int64_t deadline = loop_mono_ns() + PING_CONNECT_WAIT_NS;
    while (!(c->events & (LOOP_WRITE | LOOP_ERR | LOOP_HUP)) &&
           (rc = app_step(c->app, deadline)) > 0) {
    }
    socklen_t len = sizeof(err);
    if (!(c->events & (LOOP_WRITE | LOOP_ERR | LOOP_HUP))) {
        err = rc == 0 ? ETIMEDOUT : EINTR;
    } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err != 0) {
        if (c->registered) {
            loop_del_fd(c->app->loop, fd);
        }
        c->registered = false;
        close(fd);
        c->fd = -1;
        errno = err;
        return -1;
    }
    memcpy(&c->peer.ss, ai->ai_addr, ai->ai_addrlen);
    c->peer.len = ai->ai_addrlen;
    c->local.len = sizeof(c->local.ss);
    getsockname(fd, (struct sockaddr *)&c->local.ss, &c->local.len);
    return 0;
}

/* Resolve and connect to the first address that answers. 0 or -1 (printed). */
static int connect_any(struct conn *c, const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = c->app->o->family, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot resolve %s: %s\n", prog(c), host, gai_strerror(rc));
        return -1;
    }
    int err = EADDRNOTAVAIL;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int r = try_connect(c, ai);
        if (r == 0 || r == -2) {
            freeaddrinfo(res);
            return r == 0 ? 0 : -1;
        }
        err = errno;
        if (c->app->interrupted) {
            break;
        }
    }
    freeaddrinfo(res);
    fprintf(stderr, "%s: cannot connect to %s port %s: %s\n", prog(c), host, port, strerror(err));
    return -1;
}

int conn_open(struct conn *c, struct app *a, const char *host, const char *port,
              enum wire_proto proto, struct ctrl_event *greeting)
{
    memset(c, 0, sizeof(*c));
    c->app = a;
    c->fd = -1;
    int64_t t0 = loop_mono_ns();
    if (connect_any(c, host, port) < 0) {
        return -1;
    }
    if (!(c->ctrl = ctrl_create(proto, CTRL_CLIENT, 0, 0))) {
        fprintf(stderr, "%s: out of memory\n", prog(c));
        return -1;
    }
    conn_interest(c, false, false);
    if (conn_expect(c, CTRL_EV_GREETING, loop_mono_ns() + PING_CTRL_WAIT_NS, greeting,
                    "Server-Greeting") < 0) {
        return -1;
    }
    c->rtt_ns = loop_mono_ns() - t0;
    return 0;
}

void conn_close(struct conn *c, int64_t deadline_mono)
{
    const uint8_t *p;
    size_t n = 0;
    if (c->ctrl && c->fd >= 0) {
        send_pending(c);
        ctrl_output(c->ctrl, &p, &n);
        while (n > 0 && c->registered && app_step(c->app, deadline_mono) > 0) {
            ctrl_output(c->ctrl, &p, &n);
        }
    }
    if (c->registered) {
        loop_del_fd(c->app->loop, c->fd);
        c->registered = false;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    ctrl_destroy(c->ctrl);
    c->ctrl = NULL;
}
