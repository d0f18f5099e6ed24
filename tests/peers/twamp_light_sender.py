#!/usr/bin/env python3
"""twamp_light_sender.py - an independent TWAMP Light Session-Sender (RFC 5357 §4.1.2 and
Appendix I), written from the RFC text with the Python standard library only, to try a
reflector the way other TWAMP Light senders do; with --ssid a STAMP Session-Sender.

Unauthenticated Session-Sender packet (RFC 5357 §4.1.2, the OWAMP-Test layout of RFC 4656
§4.1.2): Sequence Number (4), Timestamp (8, NTP), Error Estimate (2), Packet Padding. The
STAMP one (RFC 8762 §4.2.1 with RFC 8972 §3) has the SSID in the first two octets after the
Error Estimate and zeros to 44 octets. The packets are sent one at a time, each after the
previous reply (or its timeout), so every reply is matched without threads.

Usage: twamp_light_sender.py HOST PORT [--count N] [--sizes L1,L2,...] [--runs R] [--gap S]
       [--random-padding] [--ssid N] [--timeout S]

  --sizes    total UDP payload lengths in octets (at least 14), used in turn; the padding is
             the length less the 14-octet base (default 44: 30 octets of padding)
  --runs     runs one after the other, each from a new socket bound to the same source port
             (the port the first run got), each numbering its packets from 0
  --gap      seconds to wait between two runs (the source port stays unused meanwhile)
  --random-padding  random padding octets instead of zeros
  --ssid     send STAMP packets with this SSID (1-65535; sizes of at least 44 octets)

Prints one JSON object per line: one per reply
  {"run", "seq", "refl_seq", "sent_len", "reply_len", "ttl", "tail_zero", "tail_same"}
("ttl" is the reply's Sender TTL, "tail_zero" whether every octet after the 41-octet
reflector base is zero, "tail_same" whether the octets after the 44th are those sent), then
{"summary": {"sent", "replies", "port"}}. Exit status 0 when it ran, 1 on a socket error.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

NTP_UNIX_OFFSET = 2208988800  # seconds from 1900 to 1970 (RFC 5905)
SENDER_BASE = 14              # RFC 5357 §4.1.2, unauthenticated
REFLECTOR_BASE = 41           # RFC 5357 §4.2.1, unauthenticated
STAMP_BASE = 44               # RFC 8762 §4.2.1: where a STAMP reflector's copy starts
ERROR_ESTIMATE = 0x0001       # S=0 (not synchronised), Scale 0, Multiplier 1 (RFC 4656 §4.1.2)


def ntp_now():
    """The current time as a 64-bit NTP timestamp (32.32)."""
    t = time.time() + NTP_UNIX_OFFSET
    return (int(t) << 32) | int((t % 1) * (1 << 32))


def packet(seq, size, args):
    """A Session-Sender packet of size octets."""
    pad_len = size - SENDER_BASE
    pad = os.urandom(pad_len) if args.random_padding else bytes(pad_len)
    if args.ssid:
        pad = struct.pack("!H", args.ssid) + bytes(STAMP_BASE - SENDER_BASE - 2) + \
            pad[STAMP_BASE - SENDER_BASE:]
    return struct.pack("!IQH", seq, ntp_now(), ERROR_ESTIMATE) + pad


def parse_reply(data):
    """Reflector Sequence Number, Sender Sequence Number and Sender TTL of a reply (None for
    fields the reply is too short to hold)."""
    refl_seq = struct.unpack("!I", data[0:4])[0] if len(data) >= 4 else None
    sender_seq = struct.unpack("!I", data[24:28])[0] if len(data) >= 28 else None
    ttl = data[40] if len(data) > 40 else None
    return refl_seq, sender_seq, ttl


def wait_reply(sock, seq, deadline):
    """The reply whose Sender Sequence Number is seq, or None at the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except socket.timeout:
            return None
        if parse_reply(data)[1] == seq:
            return data


def one_run(args, run, port, family, dest):
    """Send args.count packets from a socket bound to port (0: any); returns the port and the
    number of replies."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    port = sock.getsockname()[1]
    replies = 0
    for seq in range(args.count):
        size = args.sizes[seq % len(args.sizes)]
        pkt = packet(seq, size, args)
        sock.sendto(pkt, dest)
        data = wait_reply(sock, seq, time.monotonic() + args.timeout)
        if data is None:
            continue
        replies += 1
        refl_seq, _, ttl = parse_reply(data)
        print(json.dumps({
            "run": run, "seq": seq, "refl_seq": refl_seq, "sent_len": len(pkt),
            "reply_len": len(data), "ttl": ttl,
            "tail_zero": not any(data[REFLECTOR_BASE:]),
            "tail_same": data[STAMP_BASE:] == pkt[STAMP_BASE:],
        }), flush=True)
    sock.close()
    return port, replies


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--sizes", default="44")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--gap", type=float, default=0.0)
    ap.add_argument("--random-padding", action="store_true")
    ap.add_argument("--ssid", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if min(args.sizes) < (STAMP_BASE if args.ssid else SENDER_BASE):
        ap.error("every size must be at least %d octets" % (STAMP_BASE if args.ssid else SENDER_BASE))
    info = socket.getaddrinfo(args.host, args.port, 0, socket.SOCK_DGRAM)[0]
    family, dest = info[0], info[4]
    port, sent, replies = 0, 0, 0
    try:
        for run in range(args.runs):
            if run > 0:
                time.sleep(args.gap)
            port, got = one_run(args, run, port, family, dest)
            sent += args.count
            replies += got
    except OSError as e:
        print("twamp_light_sender: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps({"summary": {"sent": sent, "replies": replies, "port": port}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
