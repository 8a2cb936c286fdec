#!/usr/bin/env python3
"""dnsserver.py -- a UDP DNS server on loopback for the stress suite that answers late
or never. Prints its port on stdout when ready; exits by itself after --max-seconds.

  never   drops every query
  late    answers A 127.0.0.1 (AAAA: no data) after a random delay in [--min, --max] s
  mixed   per query name (stable hash): a third fast, a third late, a third never
"""
import argparse
import heapq
import random
import select
import socket
import struct
import sys
import time
import zlib


def parse_question(pkt):
    """(qid, flags, qname labels as bytes, qtype, end offset of the question) or None."""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if qd != 1 or flags & 0x8000:
        return None
    i = 12
    labels = []
    while i < len(pkt):
        n = pkt[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        labels.append(pkt[i + 1:i + 1 + n])
        i += 1 + n
    else:
        return None
    if i + 4 > len(pkt):
        return None
    qtype, _qclass = struct.unpack("!HH", pkt[i:i + 4])
    return qid, flags, b".".join(labels), qtype, i + 4


def answer(pkt, q):
    qid, flags, _name, qtype, qend = q
    rd = flags & 0x0100
    if qtype == 1:  # A 127.0.0.1, TTL 0 so no cache hides the next lookup
        hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1, 1, 0, 0)
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + socket.inet_aton("127.0.0.1")
        return hdr + pkt[12:qend] + rr
    hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1, 0, 0, 0)
    return hdr + pkt[12:qend]  # NOERROR, no data (AAAA and anything else)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["never", "late", "mixed"], required=True)
    ap.add_argument("--min", type=float, default=0.5)
    ap.add_argument("--max", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    print(s.getsockname()[1], flush=True)
    end = time.monotonic() + a.max_seconds
    pending = []  # heap of (due, seq, reply, addr)
    seq = 0
    queries = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        while pending and pending[0][0] <= now:
            _, _, reply, addr = heapq.heappop(pending)
            try:
                s.sendto(reply, addr)
            except OSError:
                pass
        wait = end - now
        if pending:
            wait = min(wait, max(0.0, pending[0][0] - now))
        r, _, _ = select.select([s], [], [], wait)
        if not r:
            continue
        for _ in range(256):
            try:
                pkt, addr = s.recvfrom(4096)
            except BlockingIOError:
                break
            queries += 1
            q = parse_question(pkt)
            if q is None:
                continue
            mode = a.mode
            if mode == "mixed":
                mode = ("fast", "late", "never")[zlib.crc32(q[2]) % 3]
            if mode == "never":
                continue
            delay = 0.0 if mode == "fast" else rng.uniform(a.min, a.max)
            seq += 1
            heapq.heappush(pending, (time.monotonic() + delay, seq, answer(pkt, q), addr))
    print(f"dnsserver: {queries} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
