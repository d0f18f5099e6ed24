/* phttp.c - libmicrohttpd on our loop: MHD_USE_EPOLL without an internal thread, its epoll
 * descriptor watched by the loop, MHD_run when it is readable and when MHD's own timeout
 * comes; /probe requests suspended and resumed. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "addr.h"

#include "phttp.h"

#define PH_CONN_LIMIT 256
#define PH_CONN_TIMEOUT_S 30

struct ph {
    struct loop *loop;
    struct MHD_Daemon *d;
    int epfd, lfd;
    loop_timer_id timer;
    ph_handler handler;
    void *arg;
};

struct ph_req {
    struct ph *h;
    struct MHD_Connection *c;
    const char *path;
    bool dispatched, deferred;
    struct MHD_Response *resp;
    unsigned status;
};

static void run(struct ph *h);

static void on_timer(struct loop *loop, loop_timer_id id, void *arg)
{
    struct ph *h = arg;
    (void)loop;
    (void)id;
    h->timer = 0;
    run(h);
}

/* MHD's work, then its next timeout on our loop. */
static void run(struct ph *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    MHD_run(h->d);
    if (h->timer) {
        loop_timer_cancel(h->loop, h->timer);
        h->timer = 0;
    }
    if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
        int64_t ns = ms > 3600000 ? 3600000000000LL : (int64_t)ms * 1000000;
        h->timer = loop_timer_after(h->loop, ns, on_timer, h);
    }
}

static void on_epoll(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    run(arg);
}

static enum MHD_Result queue(struct ph_req *r)
{
    enum MHD_Result rc = MHD_queue_response(r->c, r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    return rc;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    struct ph *h = cls;
    struct ph_req *r = *con_cls;
    (void)version;
    (void)upload;
    if (!r) {
        if (!(r = calloc(1, sizeof(*r)))) {
            return MHD_NO;
        }
        *r = (struct ph_req){.h = h, .c = c, .path = url};
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* a body is not expected: ignored */
        return MHD_YES;
    }
    if (r->resp) {
        return queue(r);
    }
    if (r->dispatched) {
        return MHD_YES;
    }
    r->dispatched = true;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        ph_reply(r, 405, "text/plain; charset=utf-8", strdup("method not allowed\n"), 19);
    } else {
        h->handler(h->arg, r);
    }
    if (r->resp) {
        return queue(r);
    }
    if (r->deferred) {
        MHD_suspend_connection(c);
    }
    return MHD_YES;
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ph_req *r = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (r) {
        if (r->resp) {
            MHD_destroy_response(r->resp);
        }
        free(r);
        *con_cls = NULL;
    }
}

const char *ph_path(const struct ph_req *r)
{
    return r->path;
}

const char *ph_arg(const struct ph_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *ph_header(const struct ph_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

void ph_defer(struct ph_req *r)
{
    r->deferred = true;
}

static void resume_cb(struct loop *loop, loop_timer_id id, void *arg)
{
    (void)loop;
    (void)id;
    run(arg);
}

void ph_reply(struct ph_req *r, unsigned status, const char *content_type, char *body, size_t len)
{
    r->resp =
        MHD_create_response_from_buffer(body ? len : 0, body ? body : (void *)"",
                                        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r->resp) {
        free(body);
        r->resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        status = 500;
    }
    if (r->resp && content_type) {
        MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    }
    r->status = status;
    if (r->deferred) {
        r->deferred = false;
        MHD_resume_connection(r->c);
        loop_timer_after(r->h->loop, 0, resume_cb, r->h); /* MHD_run outside the caller */
    }
}

/* A listening socket for "[ADDR]:PORT". -1 with err set. */
static int listen_on(const char *spec, char *err, size_t errlen)
{
    char host[256], port[32];
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *res = NULL;
    int one = 1, zero = 0, fd = -1;
    if (addr_split(spec, host, sizeof(host), port, sizeof(port), NULL) < 0 || !port[0]) {
        snprintf(err, errlen, "bad listen address '%s' (want [ADDR]:PORT)", spec);
        return -1;
    }
    if (!host[0]) {
        hints.ai_family = AF_INET6; /* every address: one dual-stack socket */
    }
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (res->ai_family == AF_INET6 && !host[0]) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        }
    }
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

struct ph *ph_create(struct loop *loop, const char *listen, ph_handler handler, void *arg,
                     char *err, size_t errlen)
{
    struct ph *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *h = (struct ph){.loop = loop, .handler = handler, .arg = arg, .epfd = -1};
    if ((h->lfd = listen_on(listen, err, errlen)) < 0) {
        free(h);
        return NULL;
    }
    h->d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, access_cb, h,
        MHD_OPTION_LISTEN_SOCKET, h->lfd, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)PH_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)PH_CONN_TIMEOUT_S, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info || loop_add_fd(loop, info->epoll_fd, LOOP_READ, on_epoll, h) < 0) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", listen);
        if (h->d) {
            MHD_stop_daemon(h->d);
        } else {
            close(h->lfd);
        }
        free(h);
        return NULL;
    }
    h->epfd = info->epoll_fd;
    run(h);
    return h;
}

void ph_destroy(struct ph *h)
{
    if (!h) {
        return;
    }
    loop_del_fd(h->loop, h->epfd);
    if (h->timer) {
        loop_timer_cancel(h->loop, h->timer);
    }
    MHD_stop_daemon(h->d); /* closes the listening socket too */
    free(h);
}
