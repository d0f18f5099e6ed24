#!/usr/bin/env python3
"""twamp_light_responder.py - an independent TWAMP Light Session-Reflector (RFC 5357 §4.2.1
and Appendix I), written from the RFC text with the Python standard library only, that can
answer the way some deployed reflectors do: replies cut short, Sender TTL left at 0.

Unauthenticated Session-Reflector packet (RFC 5357 §4.2.1): Sequence Number (4, the
reflector's own counter), Timestamp (8), Error Estimate (2), MBZ (2), Receive Timestamp (8),
Sender Sequence Number (4), Sender Timestamp (8), Sender Error Estimate (2), MBZ (2), Sender
TTL (1), Packet Padding. The reply is as long as the packet received (at least 41 octets),
then cut to --reply-len when given.

Usage: twamp_light_responder.py --port-file FILE [--bind ADDR] [--reply-len N] [--ttl-zero]
       [--lifetime S]

  --port-file  where the UDP port it listens on is written (atomically) once it is ready
  --reply-len  send only the first N octets of each reply (38: every field up to the Sender
               Error Estimate, no Sender TTL)
  --ttl-zero   leave Sender TTL at 0 instead of the TTL the packet arrived with
  --lifetime   exit after this many seconds (default 120), so it never outlives a test
"""
import argparse
import os
import socket
import struct
import sys
import time

NTP_UNIX_OFFSET = 2208988800  # seconds from 1900 to 1970 (RFC 5905)
SENDER_BASE = 14              # RFC 5357 §4.1.2, unauthenticated
REFLECTOR_BASE = 41           # RFC 5357 §4.2.1, unauthenticated
ERROR_ESTIMATE = 0x0001       # S=0, Scale 0, Multiplier 1 (RFC 4656 §4.1.2)
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)  # Linux values when Python lacks them
IP_TTL = getattr(socket, "IP_TTL", 2)
IPV6_RECVHOPLIMIT = getattr(socket, "IPV6_RECVHOPLIMIT", 51)
IPV6_HOPLIMIT = getattr(socket, "IPV6_HOPLIMIT", 52)


def ntp_of(t):
    """Unix time t as a 64-bit NTP timestamp (32.32)."""
    t += NTP_UNIX_OFFSET
    return (int(t) << 32) | int((t % 1) * (1 << 32))


def arrival_ttl(ancdata):
    """The IP TTL / hop limit the packet arrived with, 0 when the kernel did not say."""
    for level, kind, data in ancdata:
        if (level, kind) in ((socket.IPPROTO_IP, IP_TTL), (socket.IPPROTO_IPV6, IPV6_HOPLIMIT)):
            return struct.unpack("i", data[:4])[0] & 0xFF
    return 0


def reply(count, pkt, t2, ttl):
    """The Session-Reflector packet answering pkt, received at t2 (NTP)."""
    seq, ts, err = struct.unpack("!IQH", pkt[:SENDER_BASE])
    head = struct.pack("!IQHHQIQHHB", count, ntp_of(time.time()), ERROR_ESTIMATE, 0, t2,
                       seq, ts, err, 0, ttl)
    return head + bytes(max(len(pkt), REFLECTOR_BASE) - REFLECTOR_BASE)


def open_socket(bind):
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    s.bind((bind, 0))
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--reply-len", type=int, default=0)
    ap.add_argument("--ttl-zero", action="store_true")
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()
    s = open_socket(args.bind)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    end = time.monotonic() + args.lifetime
    count = 0
    while time.monotonic() < end:
        s.settimeout(max(end - time.monotonic(), 0.01))
        try:
            pkt, anc, _, peer = s.recvmsg(65535, socket.CMSG_SPACE(4))
        except socket.timeout:
            break
        t2 = ntp_of(time.time())
        if len(pkt) < SENDER_BASE:
            continue
        ttl = 0 if args.ttl_zero else arrival_ttl(anc)
        r = reply(count, pkt, t2, ttl)
        s.sendto(r[:args.reply_len] if args.reply_len else r, peer)
        count += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
