#!/usr/bin/env python3
"""tap_gap.py - the kernel's own time from a capture point to the driver, for accuracy.sh.

  tap_gap.py SRC_PORT DST_ADDR DST_PORT COUNT OUT

Sends COUNT UDP datagrams, 1 ms apart, from SRC_PORT to DST_ADDR:DST_PORT with software TX
timestamps on (SO_TIMESTAMPING), each carrying its sequence number in its first four octets,
and writes {"tx_ns": {seq: TX timestamp}} as JSON to OUT. Run where a capture is taken (an
AF_PACKET tap: dumpcap, the netsim relay), it gives, per packet, the capture's stamp (taken
as the packet is handed to the taps, before the driver) and the driver's TX stamp of the same
packet, from a sender that is not ours: their difference is what any sender whose send time
is its TX timestamp shows against that capture point. Python's own pace does not matter:
both stamps are the kernel's.
"""
import json
import socket
import struct
import sys
import time

SO_TIMESTAMPING = 37
SOF_TIMESTAMPING_TX_SOFTWARE = 1 << 1
SOF_TIMESTAMPING_SOFTWARE = 1 << 4
SOF_TIMESTAMPING_OPT_ID = 1 << 7
SOF_TIMESTAMPING_OPT_TSONLY = 1 << 11
SO_EE_ORIGIN_TIMESTAMPING = 4
IP_RECVERR, IPV6_RECVERR = 11, 25


def tx_stamp(sock, deadline):
    """(id, ns) of the next TX timestamp in the error queue, or None by deadline."""
    stamp = key = None
    while time.monotonic() < deadline:
        try:
            _, anc, _, _ = sock.recvmsg(1, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        except BlockingIOError:
            time.sleep(0.0001)
            continue
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING:
                sec, nsec = struct.unpack("qq", data[:16])
                stamp = sec * 1000000000 + nsec
            elif (level, kind) in ((socket.IPPROTO_IP, IP_RECVERR), (socket.IPPROTO_IPV6, IPV6_RECVERR)):
                # struct sock_extended_err: errno, origin, type, code, pad, info, data
                _, origin, _, _, _, _, data_id = struct.unpack("IBBBBII", data[:16])
                if origin == SO_EE_ORIGIN_TIMESTAMPING:
                    key = data_id
        if stamp is not None and key is not None:
            return key, stamp
    return None


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    src, dst, dport, count, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind(("", src))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING,
                 SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
                 SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY)
    tx = {}
    for seq in range(count):
        s.sendto(struct.pack(">I", seq) + bytes(36), (dst, dport))
        got = tx_stamp(s, time.monotonic() + 0.1)
        if got is not None and got[0] == seq:
            tx[seq] = got[1]
        time.sleep(0.001)
    with open(out, "w") as f:
        json.dump({"tx_ns": tx}, f)
    print("tap_gap: %d of %d TX timestamps" % (len(tx), count), file=sys.stderr)


if __name__ == "__main__":
    main()
