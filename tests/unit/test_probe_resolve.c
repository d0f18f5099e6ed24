/* test_probe_resolve.c - the exporter's resolver: answers come from the loop, never from
 * inside pres_start; errors are delivered; an abandoned request is never answered and is
 * freed once the resolver lets go; destroying it with requests in flight is safe. Names
 * from the hosts file only (localhost): no DNS server is asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "presolve.h"

struct answer {
    int calls, rc;
    struct sockaddr_in sin;
};

static void on_answer(void *arg, int rc, const struct addrinfo *res)
{
    struct answer *a = arg;
    a->calls++;
    a->rc = rc;
    if (rc == 0) {
        assert_non_null(res);
        assert_int_equal(res->ai_family, AF_INET);
        memcpy(&a->sin, res->ai_addr, sizeof(a->sin));
    } else {
        assert_null(res);
    }
}

/* Run the loop until r has nothing pending (at most 5 s). */
static void settle(struct loop *loop, struct pres *r)
{
    int64_t end = loop_mono_ns() + 5000000000LL;
    while (pres_pending(r) > 0 && loop_mono_ns() < end) {
        loop_run_once(loop, 10);
    }
    assert_int_equal(pres_pending(r), 0);
}

static void test_answer_from_the_loop(void **st)
{
    (void)st;
    struct loop *loop = loop_create();
    struct pres *r = pres_create(loop);
    struct answer a = {0}, bad = {0};
    assert_non_null(pres_start(r, "localhost", "862", AF_INET, SOCK_DGRAM, on_answer, &a));
    assert_non_null(
        pres_start(r, "localhost", "no-such-service-here", AF_INET, SOCK_DGRAM, on_answer, &bad));
    assert_int_equal(a.calls, 0); /* not from inside pres_start */
    assert_int_equal(pres_pending(r), 2);
    settle(loop, r);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.rc, 0);
    assert_int_equal(ntohs(a.sin.sin_port), 862);
    assert_int_equal(ntohl(a.sin.sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(bad.calls, 1);
    assert_int_not_equal(bad.rc, 0);
    pres_destroy(r);
    loop_destroy(loop);
}

static void test_abandoned(void **st)
{
    (void)st;
    struct loop *loop = loop_create();
    struct pres *r = pres_create(loop);
    struct answer a = {0}, b = {0};
    struct pres_req *q = pres_start(r, "localhost", "861", AF_INET, SOCK_STREAM, on_answer, &a);
    assert_non_null(pres_start(r, "localhost", "862", AF_INET, SOCK_STREAM, on_answer, &b));
    pres_abandon(q);
    pres_abandon(NULL); /* nothing to abandon */
    settle(loop, r);
    assert_int_equal(a.calls, 0);
    assert_int_equal(b.calls, 1);
    pres_destroy(r);
    loop_destroy(loop);
}

static void test_destroy_in_flight(void **st)
{
    (void)st;
    struct loop *loop = loop_create();
    struct pres *r = pres_create(loop);
    struct answer a = {0};
    for (int i = 0; i < 8; i++) {
        assert_non_null(pres_start(r, "localhost", "862", AF_INET, SOCK_DGRAM, on_answer, &a));
    }
    pres_destroy(r); /* before the loop ever ran: nothing is answered */
    pres_destroy(NULL);
    assert_int_equal(a.calls, 0);
    loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_from_the_loop),
        cmocka_unit_test(test_abandoned),
        cmocka_unit_test(test_destroy_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
