#!/usr/bin/env python3
"""genlist.py -- URL lists for the stress suite, deterministic for a seed.

  genlist.py KIND N SEED key=value... > list

Keys: http (test server host:port), https (its TLS port), nginx (host:port), hold and
silent (holdserver ports), port (for names resolved by the stress DNS server).
About 1 line in 200 is blank or a comment and 1 in 500 is not a URL (bad-url), so the
checker's line accounting is exercised too.
KINDS
  delay   /delay/50..1500 ms on the test server; some on nginx, some over TLS
  fast    /ok on the test server (some on nginx)
  slow    /delay/500..5000 ms
  retry   mostly /status/503 (retried with backoff), some /status/429, /ok, /delay
  dns     http://nI.example.test:PORT/ok and some shared names (one lookup, many waiters)
  connect http://127.0.0.1:HOLD/ (a full accept queue: connect hangs)
  tls     https://127.0.0.1:SILENT/ (accepts, never speaks: the handshake hangs)
  headers /stall on the test server (no response ever)
  body    /drip?n=40&ms=100 (4 s of body, a byte at a time)
  phases  all of the above except dns, mixed
"""
import random
import sys


def main():
    kind, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    kv = dict(a.split("=", 1) for a in sys.argv[4:])
    rng = random.Random(seed)
    http, https, nginx = kv.get("http"), kv.get("https"), kv.get("nginx")
    out = []
    w = out.append

    def delay(lo, hi):
        ms = rng.randint(lo, hi)
        r = rng.random()
        if nginx and r < 0.02:
            return f"http://{nginx}/delay?s={ms / 1000:.3f}"
        if https and r < 0.04:
            return f"https://{https}/delay/{ms}"
        return f"http://{http}/delay/{ms}"

    def phase(p):
        if p == "connect":
            return f"http://{kv['hold']}/c{rng.randint(0, 10**6)}"
        if p == "tls":
            return f"https://{kv['silent']}/t{rng.randint(0, 10**6)}"
        if p == "headers":
            return f"http://{http}/stall"
        if p == "body":
            return f"http://{http}/drip?n=40&ms=100"
        raise SystemExit(f"genlist: unknown phase {p}")

    for i in range(n):
        r = rng.random()
        if r < 0.003:
            w("")
            continue
        if r < 0.005:
            w(f"# comment {i}")
            continue
        if r < 0.007:
            w(f"  not-a-url-{i}  ")
            continue
        if kind == "delay":
            w(delay(50, 1500))
        elif kind == "slow":
            w(delay(500, 5000))
        elif kind == "fast":
            w(f"http://{nginx}/ok" if nginx and r < 0.01 else f"http://{http}/ok")
        elif kind == "retry":
            if r < 0.8:
                w(f"http://{http}/status/503")
            elif r < 0.9:
                w(f"http://{http}/status/429?retry-after=1")
            else:
                w(delay(50, 1500))
        elif kind == "dns":
            name = f"s{rng.randint(0, 9)}" if r < 0.3 else f"n{i}"
            w(f"http://{name}.example.test:{kv['port']}/ok")
        elif kind in ("connect", "tls", "headers", "body"):
            w(phase(kind))
        elif kind == "phases":
            w(phase(rng.choice(["connect", "tls", "headers", "body"])))
        else:
            raise SystemExit(f"genlist: unknown kind {kind}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
