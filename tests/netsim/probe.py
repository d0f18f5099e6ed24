#!/usr/bin/env python3
"""probe.py - tiny UDP/TCP endpoints for netsim tests, run inside a namespace.

  sink ADDR PORT --ready F        print the sequence numbers received, in arrival order
  send ADDR PORT --count N        send datagrams "seq 0" .. "seq N-1"
  echo ADDR PORT --ready F        echo --count UDP datagrams back
  rtt ADDR PORT --count N         round trips to an echo: prints "sent recv min_ms med_ms max_ms"
  tcp-echo ADDR PORT --ready F    accept one TCP connection and echo it
  tcp-check ADDR PORT             connect, send, expect the echo: prints "ok"
Servers stop after --max seconds; a sink also stops --idle seconds after its last packet.
"""
import argparse
import socket
import statistics
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def bound(args, kind):
    s = socket.socket(family(args.addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.addr, args.port))
    if kind == socket.SOCK_STREAM:
        s.listen(1)
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("ready\n")
    return s


def sink(args):
    s = bound(args, socket.SOCK_DGRAM)
    end = time.monotonic() + args.max
    seqs, last = [], None
    while True:
        now = time.monotonic()
        limit = end if last is None else min(end, last + args.idle)
        if now >= limit:
            break
        s.settimeout(limit - now)
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        last = time.monotonic()
        seqs.append(data.split()[1].decode())
    print(" ".join(seqs))


def send(args):
    s = socket.socket(family(args.addr), socket.SOCK_DGRAM)
    for i in range(args.count):
        s.sendto(b"seq %d" % i, (args.addr, args.port))
        time.sleep(args.interval)


def echo(args):
    s = bound(args, socket.SOCK_DGRAM)
    end = time.monotonic() + args.max
    for _ in range(args.count):
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            break
        s.sendto(data, peer)
        if time.monotonic() >= end:
            break


def rtt(args):
    s = socket.socket(family(args.addr), socket.SOCK_DGRAM)
    s.connect((args.addr, args.port))
    s.settimeout(1.0)
    rtts = []
    for i in range(args.count):
        msg = b"seq %d" % i
        t0 = time.perf_counter_ns()
        s.send(msg)
        try:
            while s.recv(2048) != msg:
                pass
            rtts.append((time.perf_counter_ns() - t0) / 1e6)
        except socket.timeout:
            pass
        time.sleep(args.interval)
    if not rtts:
        print("%d 0 0 0 0" % args.count)
        return
    print("%d %d %.3f %.3f %.3f" % (args.count, len(rtts), min(rtts), statistics.median(rtts), max(rtts)))


def tcp_echo(args):
    s = bound(args, socket.SOCK_STREAM)
    s.settimeout(args.max)
    try:
        conn, _ = s.accept()
    except socket.timeout:
        return
    conn.settimeout(args.max)
    with conn:
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.sendall(data)


def tcp_check(args):
    msg = b"hello through netsim\n" * 50
    with socket.create_connection((args.addr, args.port), timeout=3) as s:
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    print("ok" if got == msg else "mismatch")


def main():
    modes = {"sink": sink, "send": send, "echo": echo, "rtt": rtt,
             "tcp-echo": tcp_echo, "tcp-check": tcp_check}
    p = argparse.ArgumentParser(description="netsim test endpoints")
    p.add_argument("mode", choices=sorted(modes))
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=10, help="datagrams to send or echo")
    p.add_argument("--interval", type=float, default=0.002)
    p.add_argument("--ready")
    p.add_argument("--idle", type=float, default=0.5)
    p.add_argument("--max", type=float, default=5.0)
    args = p.parse_args()
    modes[args.mode](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
