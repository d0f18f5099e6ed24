#!/usr/bin/env python3
"""twamp_controller.py - an independent full-TWAMP Control-Client and Session-Sender in
unauthenticated (open) mode (RFC 5357 §3 and §4, message layouts of RFC 4656 §3), written
from the RFC text with the Python standard library only, able to behave like controllers
found in the field: zero Sender/Receiver Addresses, and test packets sent to a port of its
own choosing instead of the one Accept-Session gave.

Control exchange: Server-Greeting (64) -> Set-Up-Response (164, Mode 1 = open) ->
Server-Start (48) -> Request-TW-Session (112, command 5) -> Accept-Session (48) ->
Start-Sessions (32, command 2) -> Start-Ack (32) -> test packets -> Stop-Sessions (32,
command 3). In open mode the HMAC fields are zero and nothing is encrypted (RFC 4656 §3.1).

Usage: twamp_controller.py HOST PORT [--count N] [--zero-addresses] [--test-port P]
       [--timeout S]

  --zero-addresses  Sender Address and Receiver Address all zero (RFC 4656 §3.5: the
                    addresses of the control connection)
  --test-port P     send the test packets to HOST port P whatever Accept-Session said
                    (default: the port it said)

Prints one JSON object: {"accept", "port", "start_ack", "sent", "replies", "refl_seqs"}
("accept" is Accept-Session's Accept field; the rest are absent when it is not 0). Exit
status 0 when the session ran, 3 when the server refused it (Server-Start or Accept-Session),
1 on a protocol or socket error.
"""
import argparse
import ipaddress
import json
import socket
import struct
import sys
import time

NTP_UNIX_OFFSET = 2208988800  # seconds from 1900 to 1970 (RFC 5905)
MODE_OPEN = 1                 # RFC 4656 §3.1 Modes bit 0: unauthenticated
CMD_START_SESSIONS = 2
CMD_STOP_SESSIONS = 3
CMD_REQUEST_TW_SESSION = 5    # RFC 5357 §3.5
SENDER_BASE = 14              # RFC 5357 §4.1.2, unauthenticated
REFLECTOR_BASE = 41           # RFC 5357 §4.2.1: padding makes the sender packet this long
ERROR_ESTIMATE = 0x0001
HMAC_ZERO = bytes(16)


class Refused(Exception):
    pass


def ntp_now():
    t = time.time() + NTP_UNIX_OFFSET
    return (int(t) << 32) | int((t % 1) * (1 << 32))


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise OSError("control connection closed after %d of %d octets" % (len(buf), n))
        buf += chunk
    return buf


def greet(conn):
    """Server-Greeting in, Set-Up-Response out, Server-Start in (RFC 4656 §3.1)."""
    greeting = recv_exact(conn, 64)
    modes = struct.unpack("!I", greeting[12:16])[0]
    if not modes & MODE_OPEN:
        raise Refused("server does not offer open mode (Modes %#x)" % modes)
    conn.sendall(struct.pack("!I", MODE_OPEN) + bytes(80 + 64 + 16))
    start = recv_exact(conn, 48)
    if start[15] != 0:
        raise Refused("Server-Start Accept %d" % start[15])


def address_field(ip, zero):
    """A 16-octet address field: IPv4 in the first 4 octets, the rest zero."""
    if zero:
        return bytes(16)
    packed = ipaddress.ip_address(ip).packed
    return packed + bytes(16 - len(packed))


def request(conn, ipvn, sender, receiver, test_port):
    """Request-TW-Session (RFC 5357 §3.5): no slots, no packet count (both unused in TWAMP),
    the Receiver Port set to our own as common clients do, padding that makes our packets as
    long as the reflector's, start now, 1 s Timeout, Type-P 0."""
    msg = struct.pack("!BBBBIIHH", CMD_REQUEST_TW_SESSION, ipvn & 0x0F, 0, 0, 0, 0,
                      test_port, test_port)
    msg += sender + receiver + bytes(16)  # SID: zero, the server assigns it
    msg += struct.pack("!IQQI", REFLECTOR_BASE - SENDER_BASE, ntp_now(), 1 << 32, 0)
    msg += bytes(8) + HMAC_ZERO
    assert len(msg) == 112
    conn.sendall(msg)
    acc = recv_exact(conn, 48)
    return acc[0], struct.unpack("!H", acc[2:4])[0]


def start(conn):
    conn.sendall(bytes([CMD_START_SESSIONS]) + bytes(15) + HMAC_ZERO)
    return recv_exact(conn, 32)[0]


def stop(conn):
    conn.sendall(struct.pack("!BBHI", CMD_STOP_SESSIONS, 0, 0, 1) + bytes(8) + HMAC_ZERO)


def measure(udp, dest, count, timeout):
    """Send count packets one at a time, each after its reply or timeout; the Reflector
    Sequence Numbers of the replies."""
    refl = []
    for seq in range(count):
        pkt = struct.pack("!IQH", seq, ntp_now(), ERROR_ESTIMATE)
        udp.sendto(pkt + bytes(REFLECTOR_BASE - SENDER_BASE), dest)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            udp.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                data = udp.recv(65535)
            except socket.timeout:
                break
            if len(data) >= 28 and struct.unpack("!I", data[24:28])[0] == seq:
                refl.append(struct.unpack("!I", data[0:4])[0])
                break
    return refl


def run(args):
    out = {}
    conn = socket.create_connection((args.host, args.port), timeout=5)
    local_ip, server_ip = conn.getsockname()[0], conn.getpeername()[0]
    family = conn.family
    greet(conn)
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((local_ip, 0))
    my_port = udp.getsockname()[1]
    ipvn = 6 if family == socket.AF_INET6 else 4
    out["accept"], out["port"] = request(conn, ipvn, address_field(local_ip, args.zero_addresses),
                                         address_field(server_ip, args.zero_addresses), my_port)
    if out["accept"] != 0:
        print(json.dumps(out))
        raise Refused("Accept-Session Accept %d" % out["accept"])
    out["start_ack"] = start(conn)
    dest_port = args.test_port if args.test_port else out["port"]
    refl = measure(udp, (server_ip, dest_port), args.count, args.timeout)
    stop(conn)
    conn.close()
    out.update(sent=args.count, replies=len(refl), refl_seqs=refl, test_port=dest_port)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--zero-addresses", action="store_true")
    ap.add_argument("--test-port", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()
    try:
        run(args)
    except Refused as e:
        print("twamp_controller: refused: %s" % e, file=sys.stderr)
        return 3
    except OSError as e:
        print("twamp_controller: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
