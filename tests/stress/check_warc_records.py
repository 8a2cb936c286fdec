#!/usr/bin/env python3
"""check_warc_records.py -- the WARC files of a stress run, checked against its records:
the files are valid to the independent reader (tests/warc/check_warc.mjs, warcio.js),
and the responses they hold agree with acrawl's -j records.

  check_warc_records.py WARC OUT [--mode list|crawl] [--max-count N]

WARC is the name given to --warc; the files checked are WARC itself (when it exists)
and its rotations (NAME-00001.warc.gz, ...: "-%05u" before .warc.gz, .warc or .gz).
--mode list: every record with a status has a response for its URL in the files, and
no URL has more responses than the records for it made attempts (the lists the suite
archives have no redirects, so every response is a record's own URL).
--mode crawl: every record with a status has a response for its URL, every response is
for a recorded URL (or a robots.txt), and none has more than --max-count responses
(robots.txt excepted: each run may fetch it again).
Exit 0 when all holds; 1 with the problems listed. Usable as a module: check(...)
returns (ok, messages, stats).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKER = os.path.join(ROOT, "tests", "warc", "check_warc.mjs")
SHOW = 10


def files_of(base):
    """base and its rotation files, in order (the names acrawl's file_name() makes)."""
    d, name = os.path.split(base)
    low = name.lower()
    at = len(name)
    for ext in (".warc.gz", ".warc", ".gz"):
        if len(low) > len(ext) and low.endswith(ext):
            at = len(name) - len(ext)
            break
    else:
        dot = name.rfind(".")
        if dot > 0:
            at = dot
    pat = os.path.join(d, glob.escape(name[:at]) + "-[0-9][0-9][0-9][0-9][0-9]" + glob.escape(name[at:]))
    out = [base] if os.path.exists(base) else []
    return out + sorted(glob.glob(pat))


def validate(files, keep_dir):
    """Runs check_warc.mjs: (ok, summary or None, violation lines). Its stdout and
    stderr are kept in keep_dir (warc.json, warc.err)."""
    js, errf = os.path.join(keep_dir, "warc.json"), os.path.join(keep_dir, "warc.err")
    with open(js, "wb") as o, open(errf, "wb") as e:
        rc = subprocess.call(["node", CHECKER] + files, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    with open(errf, "rb") as f:
        err = f.read().decode("utf-8", "replace").splitlines()
    try:
        with open(js) as f:
            summary = json.load(f)
    except (OSError, ValueError) as ex:
        return False, None, [f"check_warc.mjs exit {rc}, no JSON summary ({ex})"] + err[:SHOW]
    if rc != 0:
        return False, summary, [f"check_warc.mjs exit {rc}: {len(err)} lines of violations"] + err[:SHOW]
    return True, summary, []


def records(out_path):
    """(url, status, attempt) of each whole record of acrawl's -j output."""
    with open(out_path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                o = json.loads(raw)
            except ValueError:
                continue  # check_records reports it
            yield o.get("url"), o.get("status"), o.get("attempt")


ROBOTS = re.compile(r"^https?://[^/]+/robots\.txt$")


def check(base, out_path, keep_dir, mode="list", max_count=1):
    msgs = []
    files = files_of(base)
    stats = {"warc_files": len(files)}
    if not files:
        return False, [f"no WARC file: neither {base} nor a rotation of it exists"], stats
    ok, summary, viol = validate(files, keep_dir)
    if not ok:
        msgs.append("WARC files not valid (check_warc.mjs):")
        msgs.extend("  " + v for v in viol)
    if summary is None:
        return False, msgs, stats
    resp = summary.get("responses", {})
    stats["warc_records"] = summary.get("records", 0)
    stats["warc_responses"] = sum(r["count"] for r in resp.values())
    attempts = Counter()
    with_status = []
    for url, status, attempt in records(out_path):
        attempts[url] += attempt if isinstance(attempt, int) and attempt > 0 else 0
        if isinstance(status, int) and status > 0:
            with_status.append(url)
    no_resp = [u for u in with_status if u not in resp]
    if mode == "list":
        too_many = [(u, r["count"], attempts.get(u, 0)) for u, r in resp.items() if r["count"] > attempts.get(u, 0)]
        title = "URLs with more responses than attempts"
    else:
        too_many = [(u, r["count"], max_count) for u, r in resp.items()
                    if r["count"] > max_count and not ROBOTS.match(u)]
        title = f"URLs with more than {max_count} responses"
        stray = [u for u in resp if u not in attempts and not ROBOTS.match(u)]
        if stray:
            msgs.append(f"responses for URLs that have no record: {len(stray)}")
            msgs.extend(f"  ? {u}" for u in stray[:SHOW])
    if no_resp:
        msgs.append(f"records with a status but no response in the WARC: {len(no_resp)} of {len(with_status)}")
        msgs.extend(f"  - {u}" for u in no_resp[:SHOW])
    if too_many:
        msgs.append(f"{title}: {len(too_many)}")
        msgs.extend(f"  + {u}: {c} responses, at most {a}" for u, c, a in too_many[:SHOW])
    return not msgs, msgs, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warc")
    ap.add_argument("out")
    ap.add_argument("--mode", choices=("list", "crawl"), default="list")
    ap.add_argument("--max-count", type=int, default=1)
    ap.add_argument("--keep", default=".", help="where warc.json and warc.err go")
    a = ap.parse_args()
    ok, msgs, stats = check(a.warc, a.out, a.keep, a.mode, a.max_count)
    for m in msgs:
        print(m)
    print(" ".join(f"{k}={v}" for k, v in sorted(stats.items())), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
