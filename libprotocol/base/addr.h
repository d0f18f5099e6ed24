/* addr.h - address strings: "host[:port]" splitting for getaddrinfo, and CIDR prefixes. */
#ifndef LP_ADDR_H
#define LP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 prefix; addr holds 4 or 16 octets (network order), host bits zero. */
struct addr_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix_len;
};

/* Split "host", "host:port", ":port", "[v6]", "[v6]:port" or a bare IPv6 address into host
 * ("" = wildcard) and port strings for getaddrinfo. A missing port becomes default_port
 * ("" when default_port is NULL). Ports are numbers 0-65535 or service names. Returns 0,
 * LP_E_SYNTAX for malformed input or LP_E_LEN when host or port does not fit. */
int addr_split(const char *in, char *host, size_t hostlen, char *port, size_t portlen,
               const char *default_port);

/* Parse a numeric "addr" or "addr/len" (IPv4 or IPv6; no name lookup). A missing length
 * means a host prefix. Returns 0, LP_E_SYNTAX (not an address, bad length) or LP_E_VALUE
 * (bits set beyond the prefix, e.g. 192.168.1.1/24). */
int addr_cidr_parse(const char *s, struct addr_cidr *out);

/* True when sa (AF_INET or AF_INET6) lies inside c; IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) match IPv4 prefixes. */
bool addr_cidr_match(const struct addr_cidr *c, const struct sockaddr *sa);

/* Raw address octets of sa (IPv4-mapped IPv6 reduced to IPv4): returns the length (4 or 16)
 * written to out, or 0 for other families. */
size_t addr_sockaddr_octets(const struct sockaddr *sa, uint8_t out[16]);

/* True when a and b hold the same IP address (ports ignored; IPv4-mapped IPv6 equals
 * IPv4). */
bool addr_same_host(const struct sockaddr *a, const struct sockaddr *b);

#endif
