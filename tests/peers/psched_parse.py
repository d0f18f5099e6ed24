#!/usr/bin/env python3
"""psched_parse.py - read raw owping/twping/owstats output the way perfSONAR's pScheduler
tool plugins read it (their documented rules, written here for the tests): one packet per
line of exactly 8 space-separated fields (owping -R, owstats -R: SEQ STIME SS SERR RTIME RS
RERR TTL, RTIME 0 for a lost packet) or 16 (twping -R: the same for the way there, then for
the way back); any other line is ignored, a line that is almost a record is an error here.

usage: psched_parse.py owping|twping FILE
Prints one JSON object: sent, received, lost, duplicates, bad (lines that look like
records but do not parse), min/max delay in seconds, ttls.
"""
import json
import re
import sys

FIELD = r"(\d+) (\d+) (\d) ([-.0-9e+]*) (\d+) (\d) ([-.0-9e+]*) (\d+)"
OW = re.compile("^" + FIELD + "$")
TW = re.compile("^" + FIELD + " " + FIELD + "$")


def main(kind, path):
    rx = OW if kind == "owping" else TW
    sent = received = bad = 0
    seen = set()
    dups = 0
    delays = []
    ttls = {}
    with open(path) as f:
        for line in f.read().split("\n"):
            m = rx.match(line)
            if not m:
                bad += 1 if re.match(r"^\d+ \d{10,}", line) else 0
                continue
            g = m.groups()
            sent += 1
            back = int(g[4]) if kind == "owping" else int(g[12])  # 0: lost
            if back == 0:
                continue
            if g[0] in seen:
                dups += 1
            seen.add(g[0])
            received += 1
            delays.append((back - int(g[1])) / 2 ** 32)
            if kind == "owping":
                ttls[g[7]] = ttls.get(g[7], 0) + 1
    print(json.dumps({"sent": sent, "received": received, "lost": sent - received,
                      "duplicates": dups, "bad": bad,
                      "min": min(delays) if delays else None,
                      "max": max(delays) if delays else None, "ttls": ttls}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("owping", "twping"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
