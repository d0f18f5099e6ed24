/* test_addr.c - "host[:port]" splitting and CIDR prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "common.h"

static struct sockaddr_storage sa_of(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
        sin6->sin6_family = AF_INET6;
    }
    return ss;
}

/* A sockaddr for ip, valid until eight more calls. */
static const struct sockaddr *SA(const char *ip)
{
    static struct sockaddr_storage ring[8];
    static unsigned next;
    struct sockaddr_storage *s = &ring[next++ % 8];
    *s = sa_of(ip);
    return (const struct sockaddr *)s;
}

/* ---------- addr ---------- */

static void split_ok(const char *in, const char *dflt, const char *host, const char *port)
{
    char h[128], p[32];
    int rc = addr_split(in, h, sizeof(h), p, sizeof(p), dflt);
    if (rc != 0) {
        print_error("addr_split(\"%s\") = %d\n", in, rc);
        fail();
    }
    assert_string_equal(h, host);
    assert_string_equal(p, port);
}

static void test_addr_split(void **state)
{
    (void)state;
    split_ok("example.net", "861", "example.net", "861");
    split_ok("127.0.0.1:18610", "861", "127.0.0.1", "18610");
    split_ok("[::1]:18611", "861", "::1", "18611");
    split_ok("[::1]", "862", "::1", "862");
    split_ok("::1", "862", "::1", "862");
    split_ok("2001:db8::5", NULL, "2001:db8::5", "");
    split_ok("[fe80::1%eth0]:861", NULL, "fe80::1%eth0", "861");
    split_ok(":8765", "861", "", "8765");
    split_ok("localhost:owamp-control", NULL, "localhost", "owamp-control");
    split_ok("host:0", NULL, "host", "0");
    split_ok("host:65535", NULL, "host", "65535");

    const char *bad[] = {"",      "[::1", "[::1]x",   "[::1]:", "host:",   "h:70000", "h:12ab",
                         "a b:1", "[]:1", "h:1:2:3]", "x]:1",   "[a[b]:1", "host:-1", "h:\t"};
    char h[64], p[16];
    for (size_t i = 0; i < LP_ARRAY_LEN(bad); i++) {
        if (addr_split(bad[i], h, sizeof(h), p, sizeof(p), "1") != LP_E_SYNTAX) {
            print_error("addr_split accepted \"%s\"\n", bad[i]);
            fail();
        }
    }
    assert_int_equal(addr_split(NULL, h, sizeof(h), p, sizeof(p), "1"), LP_E_SYNTAX);
    assert_int_equal(addr_split("abcdef:1", h, 6, p, sizeof(p), NULL), LP_E_LEN);
    assert_int_equal(addr_split("abcde:1", h, 6, p, sizeof(p), NULL), 0);
    assert_int_equal(addr_split("h:12345", h, sizeof(h), p, 5, NULL), LP_E_LEN);
    assert_int_equal(addr_split("h", h, sizeof(h), p, 3, "861"), LP_E_LEN);
}

static void test_addr_cidr_parse(void **state)
{
    (void)state;
    struct addr_cidr c;
    assert_int_equal(addr_cidr_parse("192.168.1.0/24", &c), 0);
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix_len, 24);
    assert_memory_equal(c.addr, ((uint8_t[]){192, 168, 1, 0}), 4);
    assert_int_equal(addr_cidr_parse("10.0.0.1", &c), 0);
    assert_int_equal(c.prefix_len, 32);
    assert_int_equal(addr_cidr_parse("::1/128", &c), 0);
    assert_int_equal(c.family, AF_INET6);
    assert_int_equal(c.prefix_len, 128);
    assert_int_equal(addr_cidr_parse("2001:db8::", &c), 0);
    assert_int_equal(c.prefix_len, 128);
    assert_int_equal(addr_cidr_parse("2001:db8::/32", &c), 0);
    assert_int_equal(addr_cidr_parse("0.0.0.0/0", &c), 0);
    assert_int_equal(addr_cidr_parse("::/0", &c), 0);
    assert_int_equal(addr_cidr_parse("1.2.2.0/23", &c), 0);
    assert_int_equal(addr_cidr_parse("::/127", &c), 0);
    /* bits set beyond the prefix, as the reference rejects */
    assert_int_equal(addr_cidr_parse("192.168.1.1/24", &c), LP_E_VALUE);
    assert_int_equal(addr_cidr_parse("1.2.3.0/23", &c), LP_E_VALUE);
    assert_int_equal(addr_cidr_parse("2001:db8::1/32", &c), LP_E_VALUE);
    assert_int_equal(addr_cidr_parse("::1/127", &c), LP_E_VALUE);
    const char *bad[] = {"1.2.3.4/33", "::/129",    "x",           "1.2.3.4/",
                         "1.2.3.4/-1", "1.2.3/8",   "1.2.3.4/8/8", "1.2.3.4/ 8",
                         "[::1]/128",  "localhost", "1.2.3.4/0008"};
    for (size_t i = 0; i < LP_ARRAY_LEN(bad); i++) {
        if (addr_cidr_parse(bad[i], &c) != LP_E_SYNTAX) {
            print_error("addr_cidr_parse accepted \"%s\"\n", bad[i]);
            fail();
        }
    }
}

static void test_addr_cidr_match(void **state)
{
    (void)state;
    struct addr_cidr c;
    assert_int_equal(addr_cidr_parse("1.2.2.0/23", &c), 0);
    assert_true(addr_cidr_match(&c, SA("1.2.2.0")));
    assert_true(addr_cidr_match(&c, SA("1.2.3.255")));
    assert_false(addr_cidr_match(&c, SA("1.2.4.0")));
    assert_false(addr_cidr_match(&c, SA("1.2.1.255")));
    assert_true(addr_cidr_match(&c, SA("::ffff:1.2.3.4"))); /* v4-mapped */
    assert_false(addr_cidr_match(&c, SA("::1.2.3.4")));     /* v4-compatible is IPv6 */
    assert_false(addr_cidr_match(&c, NULL));
    assert_int_equal(addr_cidr_parse("2001:db8:8000::/33", &c), 0);
    assert_true(addr_cidr_match(&c, SA("2001:db8:ffff::1")));
    assert_false(addr_cidr_match(&c, SA("2001:db8:7fff::1")));
    assert_false(addr_cidr_match(&c, SA("1.2.3.4")));
    assert_int_equal(addr_cidr_parse("0.0.0.0/0", &c), 0);
    assert_true(addr_cidr_match(&c, SA("203.0.113.9")));
    assert_false(addr_cidr_match(&c, SA("2001:db8::1")));
    assert_int_equal(addr_cidr_parse("::/0", &c), 0);
    assert_true(addr_cidr_match(&c, SA("2001:db8::1")));
    assert_int_equal(addr_cidr_parse("127.0.0.1", &c), 0);
    assert_true(addr_cidr_match(&c, SA("127.0.0.1")));
    assert_false(addr_cidr_match(&c, SA("127.0.0.2")));
}

static void test_addr_same_host(void **state)
{
    (void)state;
    assert_true(addr_same_host(SA("127.0.0.1"), SA("127.0.0.1")));
    assert_false(addr_same_host(SA("127.0.0.1"), SA("127.0.0.2")));
    assert_true(addr_same_host(SA("::ffff:192.0.2.1"), SA("192.0.2.1")));
    assert_true(addr_same_host(SA("2001:db8::1"), SA("2001:db8::1")));
    assert_false(addr_same_host(SA("2001:db8::1"), SA("2001:db8::2")));
    assert_false(addr_same_host(SA("::1"), SA("127.0.0.1")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_split),
        cmocka_unit_test(test_addr_cidr_parse),
        cmocka_unit_test(test_addr_cidr_match),
        cmocka_unit_test(test_addr_same_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
