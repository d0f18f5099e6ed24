/* presolve.h - name resolution that does not stop the event loop: a name that is not an
 * address goes to glibc's getaddrinfo_a (its own threads, the system's resolver and
 * nsswitch), and a timer of the loop picks up the answers. One slow or silent DNS server
 * then delays the targets named through it, not every measurement and every scrape. */
#ifndef PROBE_PRESOLVE_H
#define PROBE_PRESOLVE_H

#include <netdb.h>

#include "loop.h"

struct pres;
struct pres_req;

/* The answer: rc 0 and the first address in res, or a getaddrinfo error (gai_strerror). */
typedef void (*pres_fn)(void *arg, int rc, const struct addrinfo *res);

/* A resolver whose answers are delivered on loop. NULL when out of memory. */
struct pres *pres_create(struct loop *loop);

/* Abandon what is pending and free. Requests still inside the resolver are waited for a
 * short while; after that their memory is left to it. */
void pres_destroy(struct pres *r);

/* Resolve host and port (service) for family and socktype; fn is called once, from the
 * loop, never from inside this call. NULL when the request cannot be made (fn is not
 * called). */
struct pres_req *pres_start(struct pres *r, const char *host, const char *port, int family,
                            int socktype, pres_fn fn, void *arg);

/* Do not call the request's fn (its memory is freed once the resolver lets go of it). */
void pres_abandon(struct pres_req *q);

/* Requests started and not yet answered or freed (for tests and statistics). */
unsigned pres_pending(const struct pres *r);

#endif
