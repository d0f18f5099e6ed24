#!/usr/bin/env python3
"""sendtimes.py - owping's own output against what its saved files read back as.

owping's results for the session it sends use its kernel TX timestamp of each packet as the
send time; the .owp / -T files keep what the server returned: the time each packet carried,
read just before it was sent. A TX timestamp comes after that clock read on the same clock,
so live send times are never earlier and live delays never longer; everything else is the
same. Exit 0 when that holds, 1 (saying where) when not.

  sendtimes.py M LIVE READ     -M summaries: the first of each is the session owping sent,
                               compared but for MIN/MEDIAN/MAX (live <= read), PDV and the
                               delay buckets; the others line for line
  sendtimes.py R N LIVE READ   -R lines: the first N are the session owping sent, the same
                               but for STIME (live >= read, by less than a second, on lines
                               of received packets); the others byte for byte
"""
import sys

DELAY_KEYS = ("MIN", "MEDIAN", "MAX")


def blocks(path):
    """The -M summaries of a file, each a list of lines."""
    out = []
    for line in open(path).read().splitlines():
        if line.startswith("SUMMARY\t"):
            out.append([])
        if out:
            out[-1].append(line)
    return out


def sent_block_ok(live, read):
    """The summary of the sent session: same lines but the delays, which may only be shorter."""
    def split(b):
        keep, delays, inside = [], {}, False
        for line in b:
            key = line.split("\t")[0]
            if line == "<BUCKETS>":
                inside = True
            if inside or key == "PDV":
                inside = inside and line != "</BUCKETS>"
                continue
            if key in DELAY_KEYS:
                delays[key] = float(line.split("\t")[1])
            else:
                keep.append(line)
        return keep, delays
    lk, ld = split(live)
    rk, rd = split(read)
    if lk != rk:
        return "lines other than the delays differ"
    for k in DELAY_KEYS:
        if k not in ld or k not in rd or ld[k] > rd[k]:
            return "%s live %s > read back %s" % (k, ld.get(k), rd.get(k))
    return None


def check_m(live_path, read_path):
    live, read = blocks(live_path), blocks(read_path)
    if len(live) != len(read) or not live:
        return "%d summaries live, %d read back" % (len(live), len(read))
    why = sent_block_ok(live[0], read[0])
    if why:
        return "sent session: " + why
    for i in range(1, len(live)):
        if live[i] != read[i]:
            return "summary %d differs" % (i + 1)
    return None


def check_r(n, live_path, read_path):
    live = open(live_path).read().splitlines()
    read = open(read_path).read().splitlines()
    if len(live) != len(read):
        return "%d lines live, %d read back" % (len(live), len(read))
    for i, (a, b) in enumerate(zip(live, read)):
        if a == b:
            continue
        fa, fb = a.split(), b.split()
        if i >= n or len(fa) != 8 or fa[:1] + fa[2:] != fb[:1] + fb[2:] or fa[4] == "0":
            return "line %d: %r against %r" % (i + 1, a, b)
        if not 0 <= int(fa[1]) - int(fb[1]) < 1 << 32:
            return "line %d: STIME live %s, read back %s" % (i + 1, fa[1], fb[1])
    return None


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "M":
        why = check_m(a[1], a[2])
    elif len(a) == 4 and a[0] == "R":
        why = check_r(int(a[1]), a[2], a[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
    if why:
        print(why)
        sys.exit(1)


if __name__ == "__main__":
    main()
