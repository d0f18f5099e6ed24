#!/usr/bin/env python3
"""owamp_client.py - a small OWAMP client (RFC 4656, unauthenticated mode only), written
from the RFC for the tests, independent of the project's library.

Scenarios (each prints one JSON object on stdout and exits 0 when the protocol ran, 1 when
it could not; the calling test judges the figures):

  fetch-running HOST PORT   a session toward the server (zero addresses in the request),
                            100 packets 10 ms apart with seq 5 and 50 never sent; while it
                            runs, a second control connection fetches 0-19, then asks for
                            the whole session; the first connection stops the session; the
                            second one's answer comes then.
  third-party HOST PORT ADDR  a request whose Sender Address is ADDR: the Accept value.
  unknown-sid HOST PORT     Fetch-Session of a SID that does not exist: the Accept value.
"""
import json
import os
import socket
import struct
import sys
import time

NTP_OFFSET = 2208988800  # 1900 -> 1970


def ntp_now():
    t = time.time()
    sec = int(t)
    return ((sec + NTP_OFFSET) << 32) | int((t - sec) * (1 << 32))


def ntp_of(seconds):
    return int(seconds * (1 << 32))


class Control:
    """One control connection in unauthenticated mode."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=10)
        greeting = self.read(64)
        modes = struct.unpack("!I", greeting[12:16])[0]
        if not modes & 1:
            raise RuntimeError("server does not offer unauthenticated mode")
        self.s.sendall(struct.pack("!I", 1) + bytes(80 + 64 + 16))
        start = self.read(48)
        if start[15] != 0:
            raise RuntimeError("Server-Start refused: %d" % start[15])

    def read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise RuntimeError("connection closed")
            buf += chunk
        return buf

    def request(self, ipvn, sender, receiver, sender_port, npackets, start, timeout_s, interval_s,
                conf_receiver=1):
        """Request-Session with one fixed slot. Returns (accept, port, sid)."""
        msg = struct.pack("!BBBBII HH", 1, ipvn, 1 - conf_receiver, conf_receiver, 1, npackets,
                          sender_port, 0)
        msg += sender.ljust(16, b"\0") + receiver.ljust(16, b"\0") + bytes(16)
        msg += struct.pack("!IQQI", 0, start, ntp_of(timeout_s), 0) + bytes(8) + bytes(16)
        msg += struct.pack("!B7xQ", 1, ntp_of(interval_s)) + bytes(16)
        self.s.sendall(msg)
        acc = self.read(48)
        return acc[0], struct.unpack("!H", acc[2:4])[0], acc[4:20]

    def start(self):
        self.s.sendall(struct.pack("!B15x", 2) + bytes(16))
        return self.read(32)[0]

    def stop(self, sid, next_seqno, skips):
        desc = sid + struct.pack("!II", next_seqno, len(skips))
        for first, last in skips:
            desc += struct.pack("!II", first, last)
        desc += bytes(-len(desc) % 16)
        self.s.sendall(struct.pack("!BB2xI8x", 3, 0, 1) + desc + bytes(16))

    def read_stop(self):
        """A Stop-Sessions from the server (its session descriptions are skipped)."""
        head = self.read(16)
        if head[0] != 3:
            raise RuntimeError("expected Stop-Sessions, got command %d" % head[0])
        for _ in range(struct.unpack("!I", head[4:8])[0]):
            d = self.read(24)
            nskips = struct.unpack("!I", d[20:24])[0]
            self.read(nskips * 8 + (-(24 + nskips * 8) % 16))
        self.read(16)
        return head[1]

    def fetch(self, sid, begin, end):
        """Fetch-Session: (ack fields, records [(seq, send, recv)])."""
        self.s.sendall(struct.pack("!B7xII", 4, begin, end) + sid + bytes(16))
        ack = self.read(32)
        accept, finished = ack[0], ack[1]
        next_seqno, nskips, nrec = struct.unpack("!III", ack[4:16])
        out = {"accept": accept, "finished": finished, "next_seqno": next_seqno,
               "nskips": nskips, "nrecords": nrec, "records": []}
        if accept != 0:
            return out
        req = self.read(112)
        nslots = struct.unpack("!I", req[4:8])[0]
        self.read(nslots * 16 + 16)
        self.read(nskips * 8 + (-(nskips * 8) % 16) + 16)
        body = self.read(nrec * 25 + (-(nrec * 25) % 16) + 16)
        out["stored_sid"] = req[48:64].hex()
        out["stored_ports"] = struct.unpack("!HH", req[12:16])
        out["stored_sender"] = req[16:20].hex()
        for i in range(nrec):
            seq, _se, _re, send, recv, ttl = struct.unpack("!IHHQQB", body[i * 25:i * 25 + 25])
            out["records"].append((seq, send, recv))
        return out


def fetch_running(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    a = Control(host, port)
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.bind((a.s.getsockname()[0], 0))
    n, interval, timeout = 100, 0.01, 1.0
    start = ntp_now() + ntp_of(0.3)
    accept, sport, sid = a.request(6 if fam == socket.AF_INET6 else 4, b"", b"",
                                   udp.getsockname()[1], n, start, timeout, interval)
    if accept != 0:
        print(json.dumps({"error": "request refused", "accept": accept}))
        return 1
    if a.start() != 0:
        print(json.dumps({"error": "start refused"}))
        return 1
    t0 = (start >> 32) - NTP_OFFSET + (start & 0xFFFFFFFF) / (1 << 32)
    missing = {5, 50}
    b = Control(host, port)
    result = {"sid": sid.hex()}
    for seq in range(n):
        due = t0 + (seq + 1) * interval
        time.sleep(max(0.0, due - time.time()))
        if seq not in missing:
            udp.sendto(struct.pack("!IQH", seq, ntp_now(), 1) + bytes(0), (host, sport))
        if seq == 49:
            # packets 0-19 are all in or past their loss timeout by now plus one second
            time.sleep(max(0.0, t0 + 20 * interval + timeout + 0.2 - time.time()))
            result["part"] = b.fetch(sid, 0, 19)
            # the whole of it, while it runs: answered once the session ends
            b.s.sendall(struct.pack("!B7xII", 4, 0, 0xFFFFFFFF) + sid + bytes(16))
    time.sleep(timeout)
    a.stop(sid, n, [])
    result["stop_accept"] = a.read_stop()
    ack = b.read(32)
    whole = {"accept": ack[0], "finished": ack[1],
             "next_seqno": struct.unpack("!I", ack[4:8])[0],
             "nrecords": struct.unpack("!I", ack[12:16])[0]}
    if ack[0] == 0:
        nslots = struct.unpack("!I", b.read(112)[4:8])[0]
        nskips = struct.unpack("!I", ack[8:12])[0]
        b.read(nslots * 16 + 16 + nskips * 8 + (-(nskips * 8) % 16) + 16)
        body = b.read(whole["nrecords"] * 25 + (-(whole["nrecords"] * 25) % 16) + 16)
        recs = [struct.unpack("!IHHQQB", body[i * 25:i * 25 + 25])
                for i in range(whole["nrecords"])]
        whole["lost"] = sorted(r[0] for r in recs if r[4] == 0)
        whole["received"] = len([r for r in recs if r[4] != 0])
    result["whole"] = whole
    # fetched whole and finished: gone when the server deletes on fetch
    result["again"] = b.fetch(sid, 0, 0xFFFFFFFF)["accept"]
    part = result["part"]
    part["lost"] = sorted(r[0] for r in part["records"] if r[2] == 0)
    part["received"] = len([r for r in part["records"] if r[2] != 0])
    part["seqs"] = sorted(r[0] for r in part["records"])
    del part["records"]
    print(json.dumps(result))
    return 0


def third_party(host, port, addr):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    a = Control(host, port)
    packed = socket.inet_pton(fam, addr)
    accept, _port, _sid = a.request(6 if fam == socket.AF_INET6 else 4, packed, b"", 9, 10,
                                    ntp_now() + ntp_of(1), 1.0, 0.01)
    print(json.dumps({"accept": accept}))
    return 0


def unknown_sid(host, port):
    b = Control(host, port)
    print(json.dumps({"accept": b.fetch(os.urandom(16), 0, 0xFFFFFFFF)["accept"]}))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "fetch-running":
        return fetch_running(argv[2], int(argv[3]))
    if len(argv) >= 5 and argv[1] == "third-party":
        return third_party(argv[2], int(argv[3]), argv[4])
    if len(argv) >= 4 and argv[1] == "unknown-sid":
        return unknown_sid(argv[2], int(argv[3]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, RuntimeError) as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(1)
