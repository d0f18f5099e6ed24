/* phttp.h - the exporter's HTTP server: libmicrohttpd run inside the process's event loop
 * (its epoll descriptor is one of the loop's, MHD_run on its events and its timeouts; no
 * thread of its own). A request is answered at once or later: a handler that cannot answer
 * yet defers it (the connection is suspended) and answers when its measurement ends. */
#ifndef PROBE_PHTTP_H
#define PROBE_PHTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

struct ph;
struct ph_req;

/* Called once per request (GET or HEAD); must call ph_reply or ph_defer before returning. */
typedef void (*ph_handler)(void *arg, struct ph_req *r);

/* Listen on "[ADDR]:PORT" (no ADDR: every address, IPv6 and IPv4) and serve on loop. NULL
 * with a message in err. */
struct ph *ph_create(struct loop *loop, const char *listen, ph_handler h, void *arg, char *err,
                     size_t errlen);

/* Stop serving (deferred requests must have been answered). */
void ph_destroy(struct ph *h);

/* The request's path, a query argument, a header (NULL when absent). */
const char *ph_path(const struct ph_req *r);
const char *ph_arg(const struct ph_req *r, const char *name);
const char *ph_header(const struct ph_req *r, const char *name);

/* Answer with status and body (malloc'ed; ownership moves, also on failure; NULL: empty). */
void ph_reply(struct ph_req *r, unsigned status, const char *content_type, char *body, size_t len);

/* Answer later with ph_reply (the request stays valid until then). */
void ph_defer(struct ph_req *r);

#endif
