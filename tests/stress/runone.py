#!/usr/bin/env python3
"""runone.py -- one stress run: start acrawl (the ASan build) on a list, optionally send
^C once or twice at given times, wait with a watchdog, then judge it: no sanitizer
report, the expected exit, and the record invariant (check_records.py).

  runone.py --label L --dir D --list F --expect 124[,0] [--sigint MS [--sigint2 MS]]
            [--subset] [--kinds K,..] [--min-ok N] [--watchdog S] [--warc FILE]
            -- ACRAWL ARGS...

--sigint MS counts from the moment acrawl has a SIGINT handler (read from
/proc/PID/status), so a ^C never lands before the program can take it. Exits are
written as numbers, a death by signal as sig2, sig11, .... Prints one line,
"PASS ..." or "FAIL ...", plus the details of a failure; keeps D only on failure.
--warc FILE (the --warc given to acrawl): the WARC files must also be valid and agree
with the records (check_warc_records.py --mode list).
"""
import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_records  # noqa: E402
import check_warc_records  # noqa: E402

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "AddressSanitizer:DEADLYSIGNAL", "ERROR: UndefinedBehaviorSanitizer",
                   "stack overflow in task", "WARNING: AddressSanitizer")


def has_sigint_handler(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)) != 0
    except OSError:
        pass
    return False


def wait_handler(p, limit=10.0):
    end = time.monotonic() + limit
    while time.monotonic() < end and p.poll() is None:
        if has_sigint_handler(p.pid):
            return True
        time.sleep(0.001)
    return False


def sleep_or_exit(p, ms):
    """Sleeps ms unless p exits first; True when p still runs."""
    try:
        p.wait(timeout=ms / 1000.0)
        return False
    except subprocess.TimeoutExpired:
        return True


def reap(p, limit):
    """Waits limit s for p to end; past that it is hung: SIGABRT (ASan prints the stack
    with handle_abort=1), and SIGKILL 10 s later. True when it was hung."""
    try:
        p.wait(timeout=limit)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGABRT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return True


def exit_name(rc):
    return f"sig{-rc}" if rc < 0 else str(rc)


def sanitizer_excerpt(err_path):
    """The report from its first line to its SUMMARY line, without the shadow-byte map."""
    with open(err_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    at = min((text.find(m) for m in SANITIZER_MARKS if m in text), default=-1)
    if at < 0:
        return None
    keep = []
    for ln in text[at:].splitlines():
        if ln.lstrip().startswith(("0x", "=>0x")) or "Shadow byte" in ln:
            continue
        keep.append(ln)
        if ln.startswith("SUMMARY:") or len(keep) >= 50:
            break
    return "\n".join(keep)


def short_reason(fails):
    """One line for the suite's summary: the sanitizer's SUMMARY (with the first frame
    in acrawl's own code when SUMMARY points into the sanitizer), else the first problem."""
    for f in fails:
        lines = [x.strip() for x in f.splitlines()]
        summary = next((x for x in lines if x.startswith("SUMMARY:")), None)
        if summary is None:
            continue
        if "libsanitizer" in summary or "leaked" in summary:
            frame = next((x for x in lines if x.startswith("#") and " src/" in x), None)
            if frame:
                summary += " [" + frame.split(" in ", 1)[1] + "]"
        return summary
    first = fails[0].splitlines()
    return " ".join(x.strip() for x in first[:2])[:200]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--list", required=True)
    ap.add_argument("--expect", required=True, help="allowed exits: 0,124,sig2")
    ap.add_argument("--sigint", type=float, help="ms after the handler is in place")
    ap.add_argument("--sigint2", type=float, help="ms after the first ^C")
    ap.add_argument("--subset", action="store_true")
    ap.add_argument("--crawl", action="store_true", help="records of a crawl (check_records --crawl)")
    ap.add_argument("--kinds")
    ap.add_argument("--min-ok", type=int)
    ap.add_argument("--watchdog", type=float, default=120)
    ap.add_argument("--warc", help="the --warc FILE of the command: check its files against the records")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    os.makedirs(a.dir, exist_ok=True)
    out_path, err_path = os.path.join(a.dir, "stdout"), os.path.join(a.dir, "stderr")
    with open(os.path.join(a.dir, "cmd"), "w") as f:
        f.write(shlex.join(cmd) + "\n")
    notes = []
    t0 = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        # A new session: a ^C typed at the suite's terminal reaches the suite, not acrawl.
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    sent = 0
    if a.sigint is not None:
        if not wait_handler(p):
            notes.append("exited before installing its SIGINT handler" if p.poll() is not None
                         else "no SIGINT handler after 10 s")
        elif sleep_or_exit(p, a.sigint):
            p.send_signal(signal.SIGINT)
            sent = 1
            if a.sigint2 is not None and sleep_or_exit(p, a.sigint2):
                p.send_signal(signal.SIGINT)
                sent = 2
    hung = reap(p, max(1.0, a.watchdog - (time.monotonic() - t0)))
    wall = time.monotonic() - t0
    rc = exit_name(p.returncode)
    fails = []
    if hung:
        fails.append(f"hung: still running after {a.watchdog:.0f} s (sent SIGABRT)")
    san = sanitizer_excerpt(err_path)
    if san:
        fails.append("sanitizer report:\n" + san)
    expect = a.expect.split(",")
    if a.sigint is not None and sent == 0:
        expect = expect + ["0", "1"]  # finished before the ^C could be sent
    if sent == 1 and a.sigint2 is not None:
        expect = expect + ["130"]  # finished between the two
    if rc not in expect and not hung:
        fails.append(f"exit {rc}, expected {'|'.join(expect)}")
    if p.returncode in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS, -signal.SIGFPE) and not hung:
        fails.append(f"killed by signal {-p.returncode}")
    # A leak report comes after the output is flushed: the records are still whole.
    subset = a.subset or hung or p.returncode < 0 or bool(san and "LeakSanitizer" not in san)
    kinds = set(a.kinds.split(",")) if a.kinds else None
    ok, msgs, stats = check_records.check(a.list, out_path, subset, kinds, a.min_ok if rc == "0" else None,
                                          a.crawl)
    if not ok:
        fails.append("record check:\n" + "\n".join(msgs))
    elif subset and not (a.subset or sent == 2):
        notes.append("records checked as a subset (the process died)")
    if a.warc and not hung:
        t1 = time.monotonic()
        wok, wmsgs, wstats = check_warc_records.check(a.warc, out_path, a.dir, "list")
        wstats["warc_check_s"] = f"{time.monotonic() - t1:.1f}"
        stats.update(wstats)
        if not wok:
            fails.append("WARC check:\n" + "\n".join(wmsgs))
    summary = (f"{a.label} exit={rc} sigint_sent={sent} wall={wall:.2f}s records={stats['records']}"
               f"/{stats['url_lines']} " + " ".join(f"{k}={v}" for k, v in sorted(stats.items())
                                                    if k not in ("records", "url_lines", "missing", "duplicated")
                                                    and v))
    if notes:
        summary += " (" + "; ".join(notes) + ")"
    if fails:
        print("FAIL " + summary)
        print("  why: " + short_reason(fails))
        print("  cmd: " + shlex.join(cmd))
        for f in fails:
            print("  " + f.replace("\n", "\n    "))
        print(f"  kept: {a.dir}")
        return 1
    print("PASS " + summary)
    shutil.rmtree(a.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
