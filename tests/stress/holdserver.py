#!/usr/bin/env python3
"""holdserver.py -- TCP peers on 127.0.0.1 that never answer, for the stress suite.
Prints its port on stdout when ready; exits by itself after --max-seconds.

  backlog  listens with a full accept queue and never accepts: a client's connect hangs
           (Linux drops SYNs while the queue is full), so a deadline fires during connect
  silent   accepts everything, reads and discards, never writes: a TLS client hangs in
           its handshake, an HTTP client waits for headers that never come
"""
import argparse
import selectors
import socket
import sys
import time


def backlog(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    # Fill the accept queue ourselves (backlog 0 holds one; extra SYNs are dropped).
    fillers = []
    for _ in range(3):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    time.sleep(0.2)
    print(port, flush=True)
    time.sleep(a.max_seconds)


def silent(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    print(ls.getsockname()[1], flush=True)
    end = time.monotonic() + a.max_seconds
    accepted = 0
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=max(0.0, min(1.0, end - time.monotonic()))):
            if key.data is None:
                for _ in range(256):
                    try:
                        c, _ = ls.accept()
                    except (BlockingIOError, OSError):
                        break
                    accepted += 1
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, "conn")
                continue
            try:
                data = key.fileobj.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
    print(f"holdserver: accepted {accepted}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["backlog", "silent"], required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()
    backlog(a) if a.mode == "backlog" else silent(a)


if __name__ == "__main__":
    main()
