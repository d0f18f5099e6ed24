/* presolve.c - getaddrinfo_a without notification: the pending requests sit in a list, and
 * while there are any a timer of the loop looks at them every PRES_POLL_NS. No signal, no
 * thread of ours, no descriptor a late notification could write to after it was closed.
 * No gai_cancel either: glibc's leaves a request taken back before it began "in progress"
 * for ever and loses its wait list; an abandoned request runs to its end and is dropped. */
#include "presolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRES_POLL_NS 2000000LL   /* how often the pending requests are looked at */
#define PRES_WAIT_NS 1000000000L /* pres_destroy: longest wait for requests in progress */

struct pres_req {
    struct gaicb cb; /* first: the resolver holds &cb until the request is finished */
    struct addrinfo hints;
    char host[256], port[32];
    pres_fn fn; /* NULL: abandoned */
    void *arg;
    struct pres_req *next;
};

struct pres {
    struct loop *loop;
    loop_timer_id timer;
    struct pres_req *head;
    unsigned n;
};

struct pres *pres_create(struct loop *loop)
{
    struct pres *r = calloc(1, sizeof(*r));
    if (r) {
        r->loop = loop;
    }
    return r;
}

/* Take q out of the list, free it and its answer. */
static void drop(struct pres *r, struct pres_req *q)
{
    for (struct pres_req **pp = &r->head; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    r->n--;
    if (q->cb.ar_result) {
        freeaddrinfo(q->cb.ar_result);
    }
    free(q);
}

/* The first finished request of the list, or NULL. */
static struct pres_req *finished(const struct pres *r)
{
    for (struct pres_req *q = r->head; q; q = q->next) {
        if (gai_error(&q->cb) != EAI_INPROGRESS) {
            return q;
        }
    }
    return NULL;
}

static void poll_cb(struct loop *loop, loop_timer_id id, void *arg);

static void arm(struct pres *r)
{
    if (!r->timer && r->head) {
        r->timer = loop_timer_after(r->loop, PRES_POLL_NS, poll_cb, r);
    }
}

/* Deliver every finished request, one at a time: a callback may start or abandon others. */
static void poll_cb(struct loop *loop, loop_timer_id id, void *arg)
{
    struct pres *r = arg;
    struct pres_req *q;
    (void)loop;
    (void)id;
    r->timer = 0;
    while ((q = finished(r))) {
        pres_fn fn = q->fn;
        int rc = gai_error(&q->cb);
        q->fn = NULL;
        if (fn) {
            fn(q->arg, rc, rc == 0 ? q->cb.ar_result : NULL);
        }
        drop(r, q);
    }
    arm(r);
}

struct pres_req *pres_start(struct pres *r, const char *host, const char *port, int family,
                            int socktype, pres_fn fn, void *arg)
{
    struct pres_req *q = calloc(1, sizeof(*q));
    if (!q || snprintf(q->host, sizeof(q->host), "%s", host) >= (int)sizeof(q->host) ||
        snprintf(q->port, sizeof(q->port), "%s", port) >= (int)sizeof(q->port)) {
        free(q);
        return NULL;
    }
    q->hints = (struct addrinfo){.ai_family = family, .ai_socktype = socktype};
    q->cb = (struct gaicb){.ar_name = q->host, .ar_service = q->port, .ar_request = &q->hints};
    q->fn = fn;
    q->arg = arg;
    struct gaicb *list[1] = {&q->cb};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
        free(q);
        return NULL;
    }
    q->next = r->head;
    r->head = q;
    r->n++;
    arm(r);
    return q;
}

void pres_abandon(struct pres_req *q)
{
    if (q) {
        q->fn = NULL; /* dropped once the resolver is done with it */
    }
}

unsigned pres_pending(const struct pres *r)
{
    return r->n;
}

void pres_destroy(struct pres *r)
{
    if (!r) {
        return;
    }
    if (r->timer) {
        loop_timer_cancel(r->loop, r->timer);
    }
    for (struct pres_req *q = r->head; q; q = q->next) {
        pres_abandon(q);
    }
    const struct timespec step = {0, PRES_WAIT_NS / 20};
    for (int i = 0; i < 20 && r->head; i++) {
        struct pres_req *q;
        while ((q = finished(r))) {
            drop(r, q);
        }
        if (r->head) {
            const struct gaicb *list[1] = {&r->head->cb};
            gai_suspend(list, 1, &step);
        }
    }
    free(r); /* requests still in the resolver keep their memory: it may write to it */
}
