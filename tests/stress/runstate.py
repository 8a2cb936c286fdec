#!/usr/bin/env python3
"""runstate.py -- one stress run of a resumable crawl (--crawl --state DIR): the same
command killed with SIGKILL at random points (one stop may be a ^C or a --deadline
instead), run again each time, then once to the end and once more (a finished state
resumes to nothing). Every run appends its records to one regular file, as
`acrawl ... >> out` would. Then it is judged: no sanitizer report in any run, the
expected exit of each, and in the union of the records every page of the graph
exactly once (the seed line once, no URL twice, no cancelled record, the URL paths
equal to graph_set of tests/cli/helpers.bash), and the WARC files valid with every
recorded page's response in them (check_warc_records.py --mode crawl).

  runstate.py --label L --dir D --list SEEDS --graph N --kills K [--stop sigint|deadline]
              [--warc FILE] --seed S [--watchdog S] -- ACRAWL ARGS...

ARGS get -c 4..64 (a new value each run) and, for the --deadline stop, --deadline.
A kill lands either early (5-300 ms after the start: option and state loading,
robots.txt, the WARC reopened) or when the output has grown to a random share of the
whole crawl. Seeded by S (the timing is not). Prints "PASS ..." or "FAIL ..." like
runone.py; keeps D only on failure.
"""
import argparse
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_records  # noqa: E402
import check_warc_records  # noqa: E402
from runone import exit_name, reap, sanitizer_excerpt, short_reason, wait_handler  # noqa: E402

REC_BYTES = 385  # about the size of one graph record: kill points are shares of 6N of them


def graph_set(n):
    """What a crawl of /site/graph/N/0 records (tests/cli/helpers.bash graph_set)."""
    out = []
    for i in range(n):
        out += [f"/site/graph/{n}/{i}", f"/site/redir/{n}/{i}", f"/site/private/{i}",
                f"/site/private/open/{i}", f"/site/file/{i}.pdf", f"/site/data/{i}.json"]
    return out


def size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


class Step:
    def __init__(self, kind, at_ms=None, share=None):
        self.kind, self.at_ms, self.share = kind, at_ms, share

    def __str__(self):
        what = f"{self.at_ms} ms" if self.at_ms is not None else f"{self.share:.0%} of the output"
        if self.kind == "deadline":
            return f"--deadline {self.at_ms / 1000:.3f}"
        return f"{self.kind}@{what}"


def plan(rng, kills, stop):
    shares = sorted(rng.uniform(0.01, 0.92) for _ in range(kills))
    steps = []
    for s in shares:
        if rng.random() < 0.3:
            steps.append(Step("kill", at_ms=rng.randint(5, 300)))
        else:
            steps.append(Step("kill", share=s))
    if stop:
        i = rng.randrange(len(steps))
        if stop == "deadline":
            steps[i] = Step("deadline", at_ms=rng.randint(300, 2500))
        else:
            steps[i] = Step("sigint", share=steps[i].share if steps[i].share is not None else shares[i])
    return steps


def run_step(i, step, cmd, out_path, d, total_bytes, watchdog, notes):
    """One run of cmd, stopped as step says (None: to the end). Returns (exit name, hung)."""
    err_path = os.path.join(d, f"stderr.{i}")
    t0 = time.monotonic()
    with open(out_path, "ab") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    sent = None
    if step is not None and step.kind in ("kill", "sigint"):
        if step.kind == "sigint" and not wait_handler(p):
            notes.append(f"run {i}: no SIGINT handler seen")
        if step.at_ms is not None:
            deadline = t0 + step.at_ms / 1000.0
            while p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.001)
        else:
            target = step.share * total_bytes
            while p.poll() is None and size(out_path) < target and time.monotonic() - t0 < watchdog:
                time.sleep(0.002)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL if step.kind == "kill" else signal.SIGINT)
            sent = step.kind
    hung = reap(p, max(1.0, watchdog - (time.monotonic() - t0)))
    return exit_name(p.returncode), sent, hung, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--list", required=True)
    ap.add_argument("--graph", type=int, required=True, help="N of the seed /site/graph/N/0")
    ap.add_argument("--kills", type=int, required=True)
    ap.add_argument("--stop", choices=("sigint", "deadline"))
    ap.add_argument("--warc")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--watchdog", type=float, default=120, help="seconds, for each run")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    base = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    rng = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    out_path = os.path.join(a.dir, "stdout")
    open(out_path, "wb").close()
    total_bytes = 6 * a.graph * REC_BYTES
    steps = plan(rng, a.kills, a.stop) + [None, None]  # to the end, then once more
    notes, fails, exits, cmds = [], [], [], []
    t0 = time.monotonic()
    end_size = None
    for i, step in enumerate(steps):
        cmd = list(base)
        cmd[1:1] = ["-c", str(rng.randint(4, 64))]
        if step is not None and step.kind == "deadline":
            cmd[1:1] = ["--deadline", f"{step.at_ms / 1000:.3f}"]
        cmds.append(cmd)
        rc, sent, hung, _ = run_step(i, step, cmd, out_path, a.dir, total_bytes, a.watchdog, notes)
        what = str(step) if step is not None else ("to the end" if i == len(steps) - 2 else "again")
        exits.append(f"{rc}" + ("" if sent or step is None or step.kind == "deadline" else "(done first)"))
        if hung:
            fails.append(f"run {i} ({what}): hung, still running after {a.watchdog:.0f} s (sent SIGABRT)")
        san = sanitizer_excerpt(os.path.join(a.dir, f"stderr.{i}"))
        if san:
            fails.append(f"run {i} ({what}): sanitizer report:\n" + san)
        if step is None:
            want = ["0"]
        elif step.kind == "kill":
            want = ["sig9"] if sent else ["0"]
        elif step.kind == "sigint":
            want = ["130"] if sent else ["0"]
        else:
            want = ["124", "0"]
        if rc not in want and not hung:
            fails.append(f"run {i} ({what}): exit {rc}, expected {'|'.join(want)}")
        if i == len(steps) - 2:
            end_size = size(out_path)
        elif i == len(steps) - 1 and size(out_path) != end_size:
            fails.append(f"run {i} (again, on a finished state): the output went from {end_size} to "
                         f"{size(out_path)} bytes (a finished state must resume to nothing)")
        if fails:
            break
    wall = time.monotonic() - t0
    with open(os.path.join(a.dir, "cmds"), "w") as f:
        for st, c in zip(steps, cmds):
            f.write(f"# {st if st is not None else 'to the end'}\n{shlex.join(c)}\n")

    t1 = time.monotonic()
    ok, msgs, stats = check_records.check(a.list, out_path, crawl=True)
    if not ok:
        fails.append("record check:\n" + "\n".join(msgs))
    want = set(graph_set(a.graph))
    got, cancelled = set(), []
    with open(out_path, "rb") as f:
        for raw in f:
            try:
                o = json.loads(raw)
            except ValueError:
                continue
            got.add(urllib.parse.urlsplit(o["url"]).path)
            if isinstance(o.get("error"), dict) and o["error"].get("kind") == "cancelled":
                cancelled.append(o["url"])
    missing, extra = sorted(want - got), sorted(got - want)
    if missing or extra or cancelled:
        m = []
        if missing:
            m.append(f"pages of the graph without a record: {len(missing)}")
            m += [f"  - {x}" for x in missing[:10]]
        if extra:
            m.append(f"records for URLs outside the graph's set: {len(extra)}")
            m += [f"  + {x}" for x in extra[:10]]
        if cancelled:
            m.append(f"cancelled records (a stop must leave its pages for the next run): {len(cancelled)}")
            m += [f"  ! {x}" for x in cancelled[:10]]
        fails.append("graph check:\n" + "\n".join(m))
    if a.warc:
        # Kills only: the WARC is cut back with the records, so one response a page. A ^C
        # or --deadline may leave a cancelled page's partial exchange, fetched again later.
        max_count = 1 if a.stop is None else len(steps)
        wok, wmsgs, wstats = check_warc_records.check(a.warc, out_path, a.dir, "crawl", max_count)
        stats.update(wstats)
        if not wok:
            fails.append("WARC check:\n" + "\n".join(wmsgs))

    stats["check_s"] = f"{time.monotonic() - t1:.1f}"
    plan_s = " ".join(str(s) for s in steps if s is not None)
    summary = (f"{a.label} runs={len(exits)} exits={','.join(exits)} wall={wall:.2f}s "
               f"records={stats['records']}/{len(want)} " +
               " ".join(f"{k}={v}" for k, v in sorted(stats.items())
                        if k not in ("records", "url_lines", "missing", "duplicated") and v))
    if notes:
        summary += " (" + "; ".join(notes) + ")"
    if fails:
        print("FAIL " + summary)
        print("  why: " + short_reason(fails))
        print("  plan: " + plan_s)
        print("  cmd: " + shlex.join(base) + "   (each run adds -c N; see cmds)")
        for f in fails:
            print("  " + f.replace("\n", "\n    "))
        print(f"  kept: {a.dir}")
        return 1
    print("PASS " + summary + " plan: " + plan_s)
    shutil.rmtree(a.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
