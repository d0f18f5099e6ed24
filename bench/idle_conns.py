#!/usr/bin/env python3
"""Hold many idle OWAMP/TWAMP-Control connections open against one daemon (for bench/load.sh).

Opens N TCP connections one after another, reads the 64-octet Server-Greeting on each (a
connection counts as accepted once its greeting arrived), writes "accepted N of M in S s" to the
--ready file, then sends nothing more and keeps every connection open until the --stop file
exists (or --max seconds passed). At the end it reports how many the daemon closed meanwhile,
and closes the rest.
"""
import argparse
import os
import resource
import socket
import sys
import time

GREETING_LEN = 64


def read_greeting(sock):
    buf = b""
    while len(buf) < GREETING_LEN:
        chunk = sock.recv(GREETING_LEN - len(buf))
        if not chunk:
            return False
        buf += chunk
    return True


def open_all(host, port, count, timeout):
    conns, failed = [], 0
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((host, port))
            if read_greeting(s):
                conns.append(s)
                continue
        except OSError:
            pass
        failed += 1
        s.close()
    return conns, failed


def closed_by_peer(conns):
    """Connections the daemon has closed (readable with EOF or reset)."""
    n = 0
    for s in conns:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                n += 1
        except BlockingIOError:
            pass
        except OSError:
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--ready", required=True, help="file written once all are open")
    ap.add_argument("--stop", required=True, help="file whose existence ends the hold")
    ap.add_argument("--max", type=float, default=300.0, help="longest hold, seconds")
    ap.add_argument("--timeout", type=float, default=5.0, help="per-connection timeout")
    a = ap.parse_args()

    need = a.count + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    t0 = time.monotonic()
    conns, failed = open_all(a.host, a.port, a.count, a.timeout)
    took = time.monotonic() - t0
    with open(a.ready + ".tmp", "w") as f:
        f.write("accepted %d of %d in %.2f s (%d failed)\n" % (len(conns), a.count, took, failed))
    os.rename(a.ready + ".tmp", a.ready)

    end = time.monotonic() + a.max
    while not os.path.exists(a.stop) and time.monotonic() < end:
        time.sleep(0.1)
    gone = closed_by_peer(conns)
    for s in conns:
        s.close()
    print("held %d connections; %d closed by the daemon during the hold" % (len(conns), gone))
    return 0


if __name__ == "__main__":
    sys.exit(main())
