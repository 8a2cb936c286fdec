#!/usr/bin/env python3
"""runredis.py -- one stress run of a crawl shared through Redis (--redis --job): a
redis-server of its own (AOF on, appendfsync always) on a free loopback port, three
ASan workers crawling a graph of N pages (6N records) with --redis-records and a
short --redis-claim-idle, and random events while they run: a worker killed with
SIGKILL (and started again, or not), one paused with SIGSTOP past the claim time and
resumed, one stopped by ^C, redis-server restarted. Then it is judged: no sanitizer
report in any worker, every worker's exit expected (0; 130 after its ^C; 1 when Redis
was away longer than --redis-timeout; -9 when killed), and --collect holding every
page of the graph exactly once, with the union of the workers' records covering it.

  runredis.py --label L --dir D --base URL --graph N --events K --seed S [--watchdog S] -- ACRAWL ARGS...

Prints "PASS ..." or "FAIL ..." like runone.py; keeps D only on failure.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runone import exit_name, sanitizer_excerpt, short_reason, wait_handler  # noqa: E402
from runstate import graph_set  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Redis:
    def __init__(self, d):
        self.dir, self.port, self.p = d, free_port(), None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self.p = subprocess.Popen(
            ["timeout", "600", "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--logfile",
             os.path.join(self.dir, "log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.025)

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--base", required=True, help="the test server, http://HOST:PORT")
    ap.add_argument("--graph", type=int, required=True)
    ap.add_argument("--events", type=int, default=3)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--watchdog", type=float, default=180)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    acrawl, args = cmd[0], cmd[1:]
    rng = random.Random(a.seed)
    shutil.rmtree(a.dir, ignore_errors=True)
    os.makedirs(a.dir)
    redis = Redis(os.path.join(a.dir, "redis"))
    redis.start()
    url = f"redis://127.0.0.1:{redis.port}"
    base = [acrawl, "-j", "--no-progress", "-q", *args, "--redis", url, "--job", "s", "--redis-records",
            "--redis-claim-idle", "1", "--redis-timeout", "20"]
    workers = []  # (name, Popen, expected exits)

    def spawn(seeds):
        name = f"w{len(workers)}"
        out = open(os.path.join(a.dir, name + ".out"), "wb")
        err = open(os.path.join(a.dir, name + ".err"), "wb")
        p = subprocess.Popen(base + ["-c", str(rng.choice([4, 16, 50, 200]))] + seeds, stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL)
        w = {"name": name, "p": p, "ok": {0}}
        workers.append(w)
        return w

    t0 = time.monotonic()
    log = []
    seed_url = f"{a.base}/site/graph/{a.graph}/0"
    spawn([seed_url])
    spawn([])
    spawn([seed_url])
    kinds = ["kill", "kill", "stop", "sigint", "redis"]
    for _ in range(a.events):
        time.sleep(rng.uniform(0.3, 1.5))
        live = [w for w in workers if w["p"].poll() is None]
        if not live:
            break
        k = rng.choice(kinds)
        w = rng.choice(live)
        at = round(time.monotonic() - t0, 2)
        if k == "kill":
            w["p"].send_signal(signal.SIGKILL)
            w["ok"] = {-9, 0} # 0: it finished the job just before the signal landed
            log.append(f"{at}s kill -9 {w['name']}")
            if rng.random() < 0.6:
                nw = spawn([])
                log.append(f"{at}s started {nw['name']}")
        elif k == "stop":
            w["p"].send_signal(signal.SIGSTOP)
            d = rng.uniform(1.5, 3.0)
            log.append(f"{at}s SIGSTOP {w['name']} for {d:.1f}s")
            time.sleep(d)
            w["p"].send_signal(signal.SIGCONT)
        elif k == "sigint":
            if wait_handler(w["p"], 2.0):
                w["p"].send_signal(signal.SIGINT)
                w["ok"] = {0, 130}
                log.append(f"{at}s ^C {w['name']}")
        else:
            redis.stop()
            time.sleep(rng.uniform(0.1, 1.0))
            redis.start()
            log.append(f"{at}s redis-server restarted")
    # every worker that is left ends when the job is complete: one more, in case the
    # events left none (one killed or ^C'd is not left, even before it is reaped)
    if all(w["p"].poll() is not None or w["ok"] != {0} for w in workers):
        spawn([])
        log.append("started one more worker to finish")
    fails = []
    deadline = time.monotonic() + a.watchdog
    for w in workers:
        try:
            w["p"].wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            w["p"].kill()
            w["p"].wait()
            fails.append(f"{w['name']} still ran after the watchdog ({a.watchdog:.0f} s)")
    for w in workers:
        rc = w["p"].returncode
        ex = sanitizer_excerpt(os.path.join(a.dir, w["name"] + ".err"))
        if ex:
            fails.append(f"{w['name']}: sanitizer report:\n{ex}")
        elif rc not in w["ok"]:
            with open(os.path.join(a.dir, w["name"] + ".err"), "rb") as f:
                tail = f.read()[-600:].decode("utf-8", "replace")
            fails.append(f"{w['name']}: exit {exit_name(rc)}, expected {sorted(w['ok'])}: {tail}")
    expected = {seed_url.rsplit("/site/", 1)[0] + p for p in graph_set(a.graph)}
    col = subprocess.run([acrawl, "--redis", url, "--job", "s", "--collect"], capture_output=True, timeout=120)
    got = [json.loads(ln)["url"] for ln in col.stdout.decode().splitlines() if ln]
    if col.returncode != 0:
        fails.append(f"--collect: exit {col.returncode}: {col.stderr.decode()[-300:]}")
    elif len(got) != len(set(got)) or set(got) != expected:
        fails.append(f"--collect: {len(got)} records, {len(set(got))} distinct, {len(expected)} expected; "
                     f"missing {sorted(expected - set(got))[:3]}, extra {sorted(set(got) - expected)[:3]}")
    union = set()
    for w in workers:
        with open(os.path.join(a.dir, w["name"] + ".out"), "rb") as f:
            for ln in f.read().decode("utf-8", "replace").splitlines():
                if ln.endswith("}"):
                    union.add(json.loads(ln)["url"])
    if not expected <= union:
        fails.append(f"the workers' records miss {len(expected - union)} pages, e.g. {sorted(expected - union)[:3]}")
    redis.stop()
    what = f"{a.label}: graph {a.graph} ({len(expected)} records), {len(workers)} workers, " + "; ".join(log)
    if fails:
        print(f"FAIL {what}")
        for f in fails:
            print("  why: " + f.replace("\n", "\n       "))
        print("  summary: " + short_reason(fails))
        print(f"  kept: {a.dir}")
        return 1
    print(f"PASS {what} ({time.monotonic() - t0:.1f} s)")
    shutil.rmtree(a.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
