#!/usr/bin/env python3
"""accuracy_stats.py - figures for bench/accuracy.sh.

  accuracy_stats.py session LOAD PATH KIND RATE DELAY_NS OUT JSONL NETSIM_LOG DAEMON_LOG
                            [CAP_A CAP_B [PROBE]]
      one result object (JSON, one line) on stdout, from one owping/twping run over PATH
      (netsim or loopback): the client's --json document OUT, its --json-packets file JSONL,
      the relay's log (the last pair of "netsim: stats" lines is this run's; /dev/null when
      the run did not go through the relay), what the daemon logged during the run (its -v
      line on the session it sent or reflected: the stamp-to-wire gap, or how many packets
      left with the egress time) and, optionally, captures (pcapng or pcap) taken on the TUN
      of namespace A and of namespace B, and the output of tap_gap.py run in A while A's
      capture was on (PROBE_PORTS: its source and destination ports).
  accuracy_stats.py tables RESULTS
      the Markdown tables of all the result objects in RESULTS.

KIND is owamp or twamp. Errors are measured delay minus DELAY_NS. The captures split each
packet's error into: sender (its timestamp to the moment the packet left the sender's TUN,
where the relay stamps it too), relay (the other TUN's stamp minus the first, minus DELAY_NS)
and receiver (the receive timestamp minus the moment the packet came out of the receiver's
TUN); the three add up to the measured error. RESULTS may also hold objects with a "wake"
key (the machine's wake-up lateness, written by accuracy.sh).
"""
import json
import math
import re
import struct
import sys

PROBE_PORTS = (9198, 9199)  # tap_gap.py's datagrams, as accuracy.sh sends them

def pct(values, p):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def spread(values):
    """{n, p50, p99, p99abs (of the absolute values), min, max} of a list of ns values."""
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99),
            "p99abs": pct([abs(v) for v in values], 99),
            "min": min(values) if values else None, "max": max(values) if values else None}


def load_doc(path):
    """The client's --json run document (the first line that starts with '{')."""
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                return json.loads(line)
    return {}


def load_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    out.append(json.loads(line))
    except OSError:
        pass
    return out


def netsim_stats(path):
    """The last stats line of each direction in the relay's log, as {dir: {key: int}}."""
    stats = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) > 3 and w[0] == "netsim:" and w[1] == "stats":
                stats[w[2]] = {k: int(v) for k, v in (x.split("=", 1) for x in w[3:] if "=" in x)}
    return stats


def read_pcap(path):
    """{(sport, dport, first 4 payload octets as int, octets 24-27 as int or None): ns}
    of the UDP packets of a capture: pcapng (dumpcap's default, ns time stamps on Linux) or
    pcap, link type raw IP or Linux cooked."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return {}
    frames = pcapng_frames(data) if data[:4] == b"\x0a\x0d\x0d\x0a" else pcap_frames(data)
    pkts = {}
    for ns, linktype, frame in frames:
        key = udp_key(frame[16:] if linktype == 113 else frame)
        if key is not None and key not in pkts:
            pkts[key] = ns
    return pkts


def pcap_frames(data):
    """(ns, linktype, frame) of a classic pcap file."""
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    end, scale = {0xa1b23c4d: ("<", 1), 0xa1b2c3d4: ("<", 1000),
                  0x4d3cb2a1: (">", 1), 0xd4c3b2a1: (">", 1000)}.get(magic, (None, 0))
    if end is None:
        return
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        yield sec * 1000000000 + frac * scale, linktype, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def pcapng_frames(data):
    """(ns, linktype, frame) of the enhanced packet blocks of a pcapng file."""
    end, off, ifaces = "<", 0, []
    while off + 12 <= len(data):
        if data[off:off + 4] == b"\x0a\x0d\x0d\x0a":  # section header: byte order, interfaces
            end = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        btype, blen = struct.unpack(end + "II", data[off:off + 8])
        if blen < 12:
            return
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description: link type, if_tsresol option
            ifaces.append((struct.unpack(end + "H", body[:2])[0], tsresol_ns(body[8:], end)))
        elif btype == 6 and len(body) >= 20:
            iface, hi, lo, caplen = struct.unpack(end + "IIII", body[:16])
            if iface < len(ifaces):
                linktype, unit = ifaces[iface]
                yield unit((hi << 32) | lo), linktype, body[20:20 + caplen]
        off += blen


def tsresol_ns(opts, end):
    """A function turning an interface's time stamp units into ns (if_tsresol, default us)."""
    exp10, exp2 = 6, None
    while len(opts) >= 4:
        code, olen = struct.unpack(end + "HH", opts[:4])
        if code == 0:
            break
        if code == 9 and olen >= 1:
            v = opts[4]
            exp10, exp2 = (None, v & 0x7f) if v & 0x80 else (v, None)
        opts = opts[4 + (olen + 3) // 4 * 4:]
    if exp2 is not None:
        return lambda t: t * 1000000000 >> exp2
    return lambda t: t * 10 ** 9 // 10 ** exp10


def udp_key(ip):
    """(sport, dport, payload[0:4], payload[24:28]) of an IPv4/IPv6 UDP datagram, else None."""
    if len(ip) < 1:
        return None
    if ip[0] >> 4 == 4:
        hl, proto = (ip[0] & 15) * 4, ip[9]
    elif ip[0] >> 4 == 6:
        hl, proto = 40, ip[6]
    else:
        return None
    if proto != 17 or len(ip) < hl + 12:
        return None
    sport, dport = struct.unpack(">HH", ip[hl:hl + 4])
    pay = ip[hl + 8:]
    second = struct.unpack(">I", pay[24:28])[0] if len(pay) >= 28 else None
    return sport, dport, struct.unpack(">I", pay[:4])[0], second


def by_seq(pkts, sport, dport):
    """{first payload word (the sequence number): ns} of the packets sport -> dport."""
    return {k[2]: ns for k, ns in pkts.items() if k[0] == sport and k[1] == dport}


def split_error(rows, wire_out, wire_in, delay_ns):
    """Sender/relay/receiver parts of the error of each (key, sent_ns, recv_ns) in rows whose
    key was captured on both TUNs (wire_out: the sender's TUN, wire_in: the receiver's)."""
    parts = {"sender": [], "relay": [], "receiver": [], "ours": []}
    for key, sent, recv in rows:
        if key in wire_out and key in wire_in:
            parts["sender"].append(wire_out[key] - sent)
            parts["relay"].append(wire_in[key] - wire_out[key] - delay_ns)
            parts["receiver"].append(recv - wire_in[key])
            parts["ours"].append(parts["sender"][-1] + parts["receiver"][-1])
    return {k: spread(v) for k, v in parts.items()}


def port(s, side):
    return int(s.get(side, {}).get("port") or 0)


def owamp_dirs(sessions, recs, delay_ns, cap):
    dirs = []
    for s in sessions:
        d = s.get("direction")
        mine = [r for r in recs if r.get("direction") == d and not r.get("lost")]
        name, relay = ("OWAMP to (A->B)", "a2b") if d == "to" else ("OWAMP from (B->A)", "b2a")
        out = {"name": name, "relay_dir": relay,
               "error": spread([r["delay_ns"] - delay_ns for r in mine])}
        if cap:
            a, b = cap
            sp, dp = port(s, "from"), port(s, "to")
            src, dst = (a, b) if d == "to" else (b, a)
            rows = [(r["seq"], r["send_ns"], r["recv_ns"]) for r in mine]
            out["split"] = split_error(rows, by_seq(src, sp, dp), by_seq(dst, sp, dp), delay_ns)
        dirs.append(out)
    return dirs


def twamp_dirs(s, recs, delay_ns, cap):
    got = [r for r in recs if not r.get("lost")]
    fwd = {"name": "TWAMP forward (A->B)", "relay_dir": "a2b",
           "error": spread([r["forward_ns"] - delay_ns for r in got])}
    rev = {"name": "TWAMP reverse (B->A)", "relay_dir": "b2a",
           "error": spread([r["reverse_ns"] - delay_ns for r in got])}
    rtt = {"name": "TWAMP round trip", "relay_dir": None,
           "error": spread([r["round_trip_ns"] - 2 * delay_ns for r in got])}
    if cap:
        a, b = cap
        sp, dp = port(s, "from"), port(s, "to")
        fwd["split"] = split_error([(r["seq"], r["t1_ns"], r["t2_ns"]) for r in got],
                                   by_seq(a, sp, dp), by_seq(b, sp, dp), delay_ns)
        rev["split"] = split_error([(r["reflector_seq"], r["t3_ns"], r["t4_ns"]) for r in got],
                                   by_seq(b, dp, sp), by_seq(a, dp, sp), delay_ns)
    turn = spread([r["t3_ns"] - r["t2_ns"] for r in got])
    return [fwd, rev, rtt], turn


GAP = re.compile(r"(\w+): test session of \S+ (\d+) packets (sent|reflected); stamp-to-wire "
                 r"p50/p99/max ([\d.]+)/([\d.]+)/([\d.]+) us, ([\w-]+) p50/p99/max "
                 r"([\d.]+)/([\d.]+)/([\d.]+) us")


EGRESS = re.compile(r"(\w+): test session of \S+ (\d+) packets (sent|reflected); send time "
                    r"written at the egress in (\d+)")


def daemon_gaps(path):
    """The daemon's -v lines about the sessions it sent or reflected during the run:
    [{daemon, packets, what, gap: {p50, p99, max}, late: {p50, p99, max}}], values in ns, or
    [{daemon, packets, what, egress}] when it wrote its stamps at the egress."""
    out = []
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return out
    for line in lines:
        m = GAP.search(line)
        e = EGRESS.search(line)
        if e:
            out.append({"daemon": e.group(1), "packets": int(e.group(2)), "what": e.group(3),
                        "egress": int(e.group(4))})
        elif m:
            ns = [round(float(v) * 1000) for v in m.groups()[3:6] + m.groups()[7:10]]
            out.append({"daemon": m.group(1), "packets": int(m.group(2)), "what": m.group(3),
                        "gap": dict(zip(("p50", "p99", "max"), ns[:3])),
                        "late": dict(zip(("p50", "p99", "max"), ns[3:]))})
    return out


def probe_gap(path, cap_a):
    """A's capture stamp minus the kernel TX stamp of each of tap_gap.py's datagrams (the
    sender column of a sender that is not ours and sends at its TX timestamp), as spread()."""
    try:
        with open(path) as f:
            tx = {int(k): v for k, v in json.load(f)["tx_ns"].items()}
    except (OSError, ValueError, KeyError):
        return None
    wire = by_seq(cap_a, *PROBE_PORTS)
    return spread([wire[k] - tx[k] for k in tx if k in wire])


def count_sources(recs, key):
    out = {}
    for r in recs:
        v = r.get(key)
        if v is not None:
            out[v] = out.get(v, 0) + 1
    return out


def session_result(args):
    load, path, kind, rate, delay_ns, out, jsonl, log, dlog = args[:9]
    delay_ns = int(delay_ns)
    cap = (read_pcap(args[9]), read_pcap(args[10])) if len(args) >= 11 else None
    probe = probe_gap(args[11], cap[0]) if len(args) >= 12 and cap else None
    doc = load_doc(out)
    sessions = doc.get("sessions", [])
    recs = load_jsonl(jsonl)
    res = {"load": load, "path": path, "kind": kind, "rate": int(rate),
           "status": doc.get("status"),
           "netsim": netsim_stats(log), "daemon": daemon_gaps(dlog), "sessions": []}
    if cap:
        res["captured"] = [len(cap[0]), len(cap[1])]
    if probe:
        res["probe"] = probe
    for s in sessions:
        res["sessions"].append({"direction": s.get("direction"), "loss": s.get("loss"),
                                "timestamp_sources": s.get("timestamp_sources"),
                                "send": s.get("send")})
    if path == "netsim" and recs and kind == "owamp":
        res["dirs"] = owamp_dirs(sessions, recs, delay_ns, cap)
        res["recv_source"] = {d: count_sources([r for r in recs if r.get("direction") == d],
                                               "recv_source") for d in ("to", "from")}
        res["send_source"] = count_sources([r for r in recs if r.get("direction") == "to"
                                            and not r.get("lost")], "send_source")
    elif path == "netsim" and recs and sessions:
        res["dirs"], res["turnaround"] = twamp_dirs(sessions[0], recs, delay_ns, cap)
        res["t1_source"] = count_sources(recs, "t1_source")
        res["t4_source"] = count_sources(recs, "t4_source")
    print(json.dumps(res, separators=(",", ":")))


# ---------------------------------------------------------------- tables

def us(ns):
    return "-" if ns is None else "%.1f" % (ns / 1000.0)


def us_pair(sp):
    return "-" if not sp or sp.get("n", 0) == 0 else "%s / %s" % (us(sp["p50"]), us(sp["p99abs"]))


def relay_late(res, d):
    st = res.get("netsim", {}).get(d)
    if not st:
        return "-"
    return "%s / %s" % (us(st.get("late_avg_ns")), us(st.get("late_max_ns")))


def table_wake(results):
    rows = [r for r in results if r.get("wake")]
    if not rows:
        return
    print("Wake-up lateness of this machine (bench/accuracy_wake: 5,000 absolute deadlines 100 us")
    print("apart, timer slack 1 ns; \"rt\": under SCHED_FIFO 10), us: the floor under a send")
    print("lateness without busy-wait and under a reflector's turnaround.")
    print()
    print("| load | clock_nanosleep median / p99 / max | timerfd + epoll median / p99 / max |")
    print("|---|---:|---:|")
    for r in rows:
        w = r["wake"]
        print("| %s | %s | %s |" % (r["load"], " / ".join(us(v) for v in w.get("sleep", [])),
                                   " / ".join(us(v) for v in w.get("timerfd", []))))


def table_error(results):
    print("One-way error = measured delay - configured delay, in us (round trip: - twice the")
    print("delay); p99 is of the absolute error. Targets (idle): median <= 5 us, p99 <= 30 us.")
    print("Relay late: netsim's own release lateness in that direction (mean / max) during the")
    print("same run.")
    print()
    print("| load | direction | packets | median | p99 abs | min | max | relay late mean / max |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for d in r.get("dirs", []):
            e = d["error"]
            late = relay_late(r, d["relay_dir"]) if d["relay_dir"] else "-"
            print("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                r["load"], d["name"], e["n"], us(e["p50"]), us(e["p99abs"]), us(e["min"]),
                us(e["max"]), late))


def table_split(results):
    if not any("split" in d for r in results for d in r.get("dirs", [])):
        return
    print("Where it comes from (captures on both TUNs; median / p99 of the absolute value, us).")
    print("Sender: its timestamp to the packet leaving its TUN (TWAMP forward: T1 is the kernel")
    print("TX stamp, taken just after that point, hence negative). Relay: netsim's wire-to-wire")
    print("delay minus the configured delay. Receiver: the packet entering the receiver's TUN")
    print("to its receive stamp. Ours: sender + receiver, per packet (the error without the")
    print("relay's).")
    print()
    print("| load | direction | matched | sender | relay | receiver | ours | total |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for d in r.get("dirs", []):
            sp = d.get("split")
            if not sp:
                continue
            print("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                r["load"], d["name"], sp["relay"]["n"], us_pair(sp["sender"]),
                us_pair(sp["relay"]), us_pair(sp["receiver"]), us_pair(sp["ours"]),
                us_pair(d["error"])))


def table_turnaround(results):
    print("Reflector turnaround T3 - T2 (twampd: kernel receive stamp to the send timestamp")
    print("written into the reply), us. Target (idle): median <= 10 us.")
    print()
    print("| load | packets | median | p99 | min | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        t = r.get("turnaround")
        if t:
            print("| %s | %d | %s | %s | %s | %s |" % (
                r["load"], t["n"], us(t["p50"]), us(t["p99"]), us(t["min"]), us(t["max"])))


def table_lateness(results):
    print("Send lateness: kernel TX timestamp minus the scheduled send time, from the client's")
    print("--json \"send\" object (owping: its to-session), us. Bias: TX timestamp minus the")
    print("timestamp written into the packet. Path: through the relay (whose busy-wait shares")
    print("the 2 cores) or over loopback inside namespace B (no relay). Target (idle): p99 <= 20")
    print("us at 10,000 pkt/s.")
    print()
    print("| load | client | path | pkt/s | median | p99 | max | bias median / p99 | TX stamps |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for s in r["sessions"]:
            t = s.get("send")
            if not t:
                continue
            late, bias = t.get("lateness_ns") or {}, t.get("stamp_to_wire_bias_ns") or {}
            print("| %s | %s | %s | %d | %s | %s | %s | %s / %s | %s %s of %s |" % (
                r["load"], "owping" if r["kind"] == "owamp" else "twping", r["path"],
                r["rate"], us(late.get("p50")), us(late.get("p99")), us(late.get("max")),
                us(bias.get("p50")), us(bias.get("p99")), t.get("tx_timestamped"),
                t.get("tx_timestamp_source"), t.get("packets")))


def fmt_counts(c):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(c.items()) if v) or "-"


def table_sources(results):
    print("Timestamp sources (counts). Receive: the summary's timestamp_sources (OWAMP to:")
    print("records fetched from owampd, which carry no source); TWAMP T1/T4 from the records.")
    print()
    print("| load | run | receive stamps | send stamps |")
    print("|---|---|---|---|")
    for r in results:
        if r["path"] != "netsim":
            continue
        for s in r["sessions"]:
            t = s.get("send") or {}
            send = "-"
            if t:
                send = "TX %s on %s of %s" % (t.get("tx_timestamp_source"),
                                              t.get("tx_timestamped"), t.get("packets"))
            if r["kind"] == "twamp":
                send += "; T1: " + fmt_counts(r.get("t1_source", {}))
                recv = fmt_counts(s.get("timestamp_sources") or {}) + \
                    "; T4: " + fmt_counts(r.get("t4_source", {}))
            else:
                recv = fmt_counts(s.get("timestamp_sources") or {})
                if s.get("direction") == "to":
                    send += "; send time: " + fmt_counts(r.get("send_source", {}))
            print("| %s | %s %s | %s | %s |" % (r["load"], r["kind"], s.get("direction"),
                                                recv, send))


def table_daemon_gap(results):
    rows = [(r, d) for r in results for d in r.get("daemon", [])]
    if not rows:
        return
    print("The daemons' own stamps (their -v log at the end of each session): the timestamp")
    print("written into a packet (owampd sending: the send time; twampd reflecting: T3) to the")
    print("kernel TX timestamp of that packet, and the lateness (owampd: TX timestamp - scheduled")
    print("time; twampd: TX timestamp - T2, receive to wire), p50 / p99 / max, us. Their")
    print("histograms have a relative resolution of 1/16 (each figure is its bin's upper bound).")
    print()
    print("| load | run | path | pkt/s | daemon | packets | stamp-to-wire | lateness |")
    print("|---|---|---|---:|---|---:|---:|---:|")
    for r, d in rows:
        if "egress" in d:
            print("| %s | %s | %s | %d | %s %s | %d | written at the egress in %d | - |" % (
                r["load"], r["kind"], r["path"], r["rate"], d["daemon"], d["what"],
                d["packets"], d["egress"]))
            continue
        print("| %s | %s | %s | %d | %s %s | %d | %s | %s |" % (
            r["load"], r["kind"], r["path"], r["rate"], d["daemon"], d["what"], d["packets"],
            " / ".join(us(d["gap"][k]) for k in ("p50", "p99", "max")),
            " / ".join(us(d["late"][k]) for k in ("p50", "p99", "max"))))


def table_relay(results):
    print("netsim's own counters for each run (us): wait = its kernel arrival stamp to its")
    print("read; late = its write after the due time; ts_user = packets without a kernel stamp.")
    print()
    print("| load | run | pkt/s | a2b late mean / max | b2a late mean / max "
          "| wait mean / max (a2b, b2a) | ts_user |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        if r["path"] != "netsim":
            continue
        n = r.get("netsim", {})
        a, b = n.get("a2b", {}), n.get("b2a", {})
        print("| %s | %s | %d | %s | %s | %s / %s, %s / %s | %s |" % (
            r["load"], r["kind"], r["rate"], relay_late(r, "a2b"), relay_late(r, "b2a"),
            us(a.get("wait_avg_ns")), us(a.get("wait_max_ns")), us(b.get("wait_avg_ns")),
            us(b.get("wait_max_ns")), a.get("ts_user", 0) + b.get("ts_user", 0)))


def short(name):
    return name.split(" (")[0].replace("TWAMP ", "").replace("OWAMP ", "")


def target_values(rows, key, part=None):
    """'to 22.9, from 35.6, ...' : one percentile of each direction's error (or its part)."""
    out = []
    for r in rows:
        for d in r.get("dirs", []):
            if d["relay_dir"] is None:
                continue
            sp = d.get("split", {}).get(part) if part else d["error"]
            if sp and sp.get("n"):
                out.append("%s %s" % (short(d["name"]), us(sp[key])))
    return ", ".join(out) or "-"


def table_targets(results):
    idle = [r for r in results if r["load"] == "idle"]
    turn = [r["turnaround"] for r in idle if r.get("turnaround")]
    late = ["%s %s" % ("owping" if r["kind"] == "owamp" else "twping",
                       us(s["send"]["lateness_ns"]["p99"]))
            for r in idle if r["rate"] == 10000 for s in r["sessions"] if s.get("send")]
    print("Targets, with the idle figures (us). End to end includes the relay's error; without")
    print("the relay: the \"ours\" column above (sender + receiver, from the captures).")
    print()
    print("| target | idle, end to end | idle, without the relay |")
    print("|---|---|---|")
    print("| one-way error median <= 5 us | %s | %s |" % (
        target_values(idle, "p50"), target_values(idle, "p50", "ours")))
    print("| one-way error p99 (absolute) <= 30 us | %s | %s |" % (
        target_values(idle, "p99abs"), target_values(idle, "p99abs", "ours")))
    print("| reflector turnaround median <= 10 us | %s | (no relay inside) |" % (
        ", ".join(us(t["p50"]) for t in turn) or "-"))
    print("| send lateness p99 <= 20 us at 10,000 pkt/s | (no relay on that path) | %s |" % (
        ", ".join(late) or "-"))
    print()
    print("Targets of the wire-to-wire work (idle, ours = sender + receiver, us):")
    print()
    print("| target | measured |")
    print("|---|---|")
    print("| OWAMP to: median <= 1, p99 <= 5 | %s |" % split_figure(idle, "OWAMP to"))
    print("| OWAMP to, as above, less the capture-to-driver gap of a sender not ours | %s |" %
          probe_figure(idle))
    print("| TWAMP reverse (reflector T3 to wire): p99 <= 5 | %s |" % split_figure(
        idle, "TWAMP reverse"))


def split_figure(rows, name):
    """'median M, p99 P' of the "ours" part of the direction named name (abs for p99)."""
    for r in rows:
        for d in r.get("dirs", []):
            sp = d.get("split", {}).get("ours")
            if d["name"].startswith(name) and sp and sp.get("n"):
                return "median %s, p99 %s" % (us(sp["p50"]), us(sp["p99abs"]))
    return "-"


def probe_figure(rows):
    """The OWAMP to "ours" median less the median of tap_gap.py's sender column (same run,
    same capture): what is left once the kernel's own capture-to-driver time is taken out."""
    for r in rows:
        pr = r.get("probe")
        for d in r.get("dirs", []):
            sp = d.get("split", {}).get("ours")
            if d["name"].startswith("OWAMP to") and sp and sp.get("n") and pr and pr.get("n"):
                return "median %s (the probe's capture-to-driver gap: median %s, p99 %s, %d packets)" % (
                    us(sp["p50"] - pr["p50"]), us(-pr["p50"]), us(pr["p99abs"]), pr["n"])
    return "-"


def table_probe(results):
    rows = [r for r in results if r.get("probe")]
    if not rows:
        return
    print("A sender that is not ours (bench/tap_gap.py: Python, 1 ms apart, kernel TX stamps),")
    print("in namespace A right after the client, with the same captures on: A's capture stamp")
    print("minus the packet's kernel TX stamp, us. Any sender whose send time is its TX")
    print("timestamp shows this against the capture point, which the kernel stamps as it hands")
    print("the packet to the taps, before the driver.")
    print()
    print("| load | after | packets | median | p99 (abs) | min | max |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        pr = r["probe"]
        print("| %s | %s | %d | %s | %s | %s | %s |" % (
            r["load"], r["kind"], pr["n"], us(pr["p50"]), us(pr["p99abs"]), us(pr["min"]),
            us(pr["max"])))


def tables(path):
    results = load_jsonl(path)
    for t in (table_wake, table_error, table_split, table_probe, table_turnaround, table_lateness,
              table_daemon_gap, table_sources, table_relay, table_targets):
        t(results)
        print()


def main():
    if len(sys.argv) >= 11 and sys.argv[1] == "session":
        session_result(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "tables":
        tables(sys.argv[2])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
