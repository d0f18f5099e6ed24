/* addr.c - "host[:port]" splitting and CIDR prefix parsing/matching. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Copy len octets of src into dst as a string; LP_E_LEN when it does not fit. */
static int copy_part(char *dst, size_t dstlen, const char *src, size_t len)
{
    if (len >= dstlen) {
        return LP_E_LEN;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

/* A port is a decimal number up to 65535 or a service name (letters, digits, '-', '_'). */
static bool port_valid(const char *p, size_t len)
{
    bool digits = true;
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (!isalnum(ch) && ch != '-' && ch != '_') {
            return false;
        }
        digits = digits && isdigit(ch);
    }
    if (!digits) {
        return isalpha((unsigned char)p[0]) != 0;
    }
    return len <= 5 && strtoul(p, NULL, 10) <= 65535;
}

static int set_port(char *port, size_t portlen, const char *src, size_t len, const char *dflt)
{
    if (src == NULL) {
        const char *d = dflt ? dflt : "";
        return copy_part(port, portlen, d, strlen(d));
    }
    if (!port_valid(src, len)) {
        return LP_E_SYNTAX;
    }
    return copy_part(port, portlen, src, len);
}

/* "[v6]" or "[v6]:port". */
static int split_bracketed(const char *in, char *host, size_t hostlen, char *port, size_t portlen,
                           const char *dflt)
{
    const char *close = strchr(in, ']');
    if (close == NULL || close == in + 1 || memchr(in + 1, '[', (size_t)(close - in - 1))) {
        return LP_E_SYNTAX;
    }
    int rc = copy_part(host, hostlen, in + 1, (size_t)(close - in - 1));
    if (rc < 0) {
        return rc;
    }
    if (close[1] == '\0') {
        return set_port(port, portlen, NULL, 0, dflt);
    }
    if (close[1] != ':') {
        return LP_E_SYNTAX;
    }
    return set_port(port, portlen, close + 2, strlen(close + 2), dflt);
}

int addr_split(const char *in, char *host, size_t hostlen, char *port, size_t portlen,
               const char *default_port)
{
    if (in == NULL || in[0] == '\0' || strpbrk(in, " \t\r\n") != NULL) {
        return LP_E_SYNTAX;
    }
    if (in[0] == '[') {
        return split_bracketed(in, host, hostlen, port, portlen, default_port);
    }
    if (strchr(in, ']') != NULL) {
        return LP_E_SYNTAX;
    }
    const char *colon = strchr(in, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        /* two or more colons: a bare IPv6 address without port */
        int rc = copy_part(host, hostlen, in, strlen(in));
        return rc < 0 ? rc : set_port(port, portlen, NULL, 0, default_port);
    }
    size_t hlen = colon ? (size_t)(colon - in) : strlen(in);
    int rc = copy_part(host, hostlen, in, hlen);
    if (rc < 0) {
        return rc;
    }
    if (colon == NULL) {
        return set_port(port, portlen, NULL, 0, default_port);
    }
    return set_port(port, portlen, colon + 1, strlen(colon + 1), default_port);
}

/* Prefix length: decimal, no sign, at most maxbits. */
static int parse_prefix_len(const char *s, unsigned maxbits, unsigned *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3) {
        return LP_E_SYNTAX;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return LP_E_SYNTAX;
        }
    }
    unsigned long v = strtoul(s, NULL, 10);
    if (v > maxbits) {
        return LP_E_SYNTAX;
    }
    *out = (unsigned)v;
    return 0;
}

/* True when every bit after the first prefix_len bits of addr[0..len) is zero. */
static bool host_bits_zero(const uint8_t *addr, size_t len, unsigned prefix_len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned first = (unsigned)i * 8;
        uint8_t mask = 0xff;
        if (first + 8 <= prefix_len) {
            continue;
        }
        if (first < prefix_len) {
            mask = (uint8_t)(0xff >> (prefix_len - first));
        }
        if (addr[i] & mask) {
            return false;
        }
    }
    return true;
}

int addr_cidr_parse(const char *s, struct addr_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (s == NULL || strlen(s) >= sizeof(buf)) {
        return LP_E_SYNTAX;
    }
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    memset(out, 0, sizeof(*out));
    size_t len = 16;
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        len = 4;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
    } else {
        return LP_E_SYNTAX;
    }
    out->prefix_len = (unsigned)len * 8;
    if (slash != NULL) {
        int rc = parse_prefix_len(slash + 1, (unsigned)len * 8, &out->prefix_len);
        if (rc < 0) {
            return rc;
        }
    }
    return host_bits_zero(out->addr, len, out->prefix_len) ? 0 : LP_E_VALUE;
}

size_t addr_sockaddr_octets(const struct sockaddr *sa, uint8_t out[16])
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa == NULL) {
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof(sin));
        memcpy(out, &sin.sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof(sin6));
        if (memcmp(sin6.sin6_addr.s6_addr, v4mapped, sizeof(v4mapped)) == 0) {
            memcpy(out, sin6.sin6_addr.s6_addr + 12, 4);
            return 4;
        }
        memcpy(out, sin6.sin6_addr.s6_addr, 16);
        return 16;
    }
    return 0;
}

bool addr_cidr_match(const struct addr_cidr *c, const struct sockaddr *sa)
{
    uint8_t a[16];
    size_t len = addr_sockaddr_octets(sa, a);
    size_t want = c->family == AF_INET ? 4 : 16;
    if (len == 0 || len != want) {
        return false;
    }
    unsigned full = c->prefix_len / 8, rest = c->prefix_len % 8;
    if (memcmp(a, c->addr, full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == c->addr[full];
}

bool addr_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    uint8_t x[16], y[16];
    size_t n = addr_sockaddr_octets(a, x);
    return n > 0 && n == addr_sockaddr_octets(b, y) && memcmp(x, y, n) == 0;
}
