#!/usr/bin/env python3
"""check_records.py -- acrawl's record invariant, checked from outside: given the input
list and acrawl's -j output, every URL line has exactly one record (none lost, none
duplicated; blank and # lines have none), and each record names its line's URL.

  check_records.py LIST OUT [--subset] [--kinds K,...] [--min-ok N]

--subset: the process was killed (second ^C): records may be missing, but none may be
duplicated or unexpected, and an unfinished last line is ignored.
Exit 0 when the invariant holds; 1 with a diff-like account otherwise. Usable as a module:
check(list, out, ...) returns (ok, messages, stats).
"""
import argparse
import json
import re
import sys

KINDS = {"bad-url", "dns", "connect", "refused", "reset", "tls-handshake", "tls-verify", "timeout",
         "protocol", "too-large", "redirect-loop", "cancelled", "system"}
# Fast path: a regex per record; every FULL_EVERY-th record (and the first FULL_FIRST)
# also goes through json.loads, which costs 5 us a line (too slow for 10^6 records).
REC = re.compile(rb'\{"line":(\d+),"url":"((?:[^"\\]|\\.)*)",.*"status":(null|\d+),.*'
                 rb'"error":(?:null|\{"kind":"([a-z-]+)")')
FULL_FIRST = 20000
FULL_EVERY = 101
SHOW = 10


def expected_lines(path):
    """Line numbers (1-based) that hold a URL line, and the stripped text of every line."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    want = bytearray(len(lines) + 1)
    for i, raw in enumerate(lines, 1):
        t = raw.strip()
        if t and not t.startswith(b"#"):
            want[i] = 1
    return want, lines


def full_parse(raw, n):
    """The same facts as REC, from a real JSON parse; raises ValueError when malformed."""
    o = json.loads(raw)
    if not isinstance(o, dict) or not isinstance(o.get("line"), int):
        raise ValueError("no integer \"line\"")
    for k in ("url", "final_url", "status", "bytes", "timings", "error", "attempt"):
        if k not in o:
            raise ValueError(f"no \"{k}\" field")
    err = o["error"]
    kind = err.get("kind") if isinstance(err, dict) else None
    if err is not None and kind not in KINDS:
        raise ValueError(f"error kind {kind!r} is not in the documented set")
    if (o["status"] is None) != (err is not None):
        raise ValueError("status null exactly when error is set: violated")
    return o["line"], o["url"].encode(), o["status"], kind


def check(list_path, out_path, subset=False, kinds=None, min_ok=None, crawl=False):
    """crawl: records of discovered pages carry line 0 and a URL of their own; no URL
    may have two records, and the seed lines keep the one-record-each rule."""
    want, texts = expected_lines(list_path)
    seen_urls = set()
    dup_urls = []
    count = bytearray(len(want))
    msgs, bad_fmt, wrong_url, unexpected, bad_kind = [], [], [], [], []
    stats = {"records": 0, "ok": 0, "http_err": 0}
    with open(out_path, "rb") as f:
        data = f.read()
    out = data.split(b"\n")
    tail = out.pop()  # b"" when the output ends with a newline
    if tail:
        if subset:
            stats["partial_last_line"] = 1
        else:
            bad_fmt.append((len(out) + 1, tail[:200] + b" (no newline at the end)"))
    for n, raw in enumerate(out, 1):
        try:
            if n <= FULL_FIRST or n % FULL_EVERY == 0:
                line, url, status, kind = full_parse(raw, n)
            else:
                m = REC.match(raw)
                if not m:
                    raise ValueError("not a record")
                line, url = int(m.group(1)), m.group(2)
                status = None if m.group(3) == b"null" else int(m.group(3))
                kind = m.group(4).decode() if m.group(4) else None
                if kind is not None and kind not in KINDS:
                    raise ValueError(f"error kind {kind!r} is not in the documented set")
        except ValueError as e:
            bad_fmt.append((n, raw[:200] + f"  <- {e}".encode()))
            continue
        stats["records"] += 1
        key = kind or ("ok" if status < 400 else "http_err")
        stats[key] = stats.get(key, 0) + 1
        if kinds is not None and kind is not None and kind not in kinds:
            bad_kind.append((line, kind))
        if crawl:
            if url in seen_urls:
                dup_urls.append(url)
            seen_urls.add(url)
            if line == 0:
                continue
        if line <= 0 or line >= len(want) or not want[line]:
            unexpected.append((line, url))
            continue
        if count[line] < 255:
            count[line] += 1
        if not crawl and url != texts[line - 1].strip() and b"\\" not in url:
            wrong_url.append((line, url, texts[line - 1].strip()))
    missing = [] if subset else [i for i in range(1, len(want)) if want[i] and not count[i]]
    dups = [i for i in range(1, len(want)) if count[i] > 1]
    stats["url_lines"] = sum(want)
    if dup_urls:
        msgs.append(f"{len(dup_urls)} URLs fetched twice, e.g. {dup_urls[0][:120]!r}")
    stats["missing"] = len(missing)
    stats["duplicated"] = len(dups)

    def show(title, items, fmt):
        if items:
            msgs.append(f"{title}: {len(items)}")
            msgs.extend(fmt(x) for x in items[:SHOW])
            if len(items) > SHOW:
                msgs.append(f"  ... and {len(items) - SHOW} more")

    def txt(b):
        return b.decode("utf-8", "replace")

    show("URL lines without a record", missing, lambda i: f"  - line {i}: {txt(texts[i - 1].strip())}")
    show("URL lines with more than one record", dups, lambda i: f"  + line {i}: {count[i]} records")
    show("records for lines that hold no URL (blank, comment, or past the end)", unexpected,
         lambda x: f"  + line {x[0]}: {txt(x[1])}")
    show("records naming another line's URL", wrong_url,
         lambda x: f"  ! line {x[0]}: record says {txt(x[1])}, the line is {txt(x[2])}")
    show("output lines that are not records", bad_fmt, lambda x: f"  ? output line {x[0]}: {txt(x[1])}")
    show(f"error kinds outside {sorted(kinds) if kinds else []}", bad_kind,
         lambda x: f"  ! line {x[0]}: {x[1]}")
    if min_ok is not None and stats["ok"] < min_ok:
        msgs.append(f"only {stats['ok']} records < 400, wanted at least {min_ok}")
    return not msgs, msgs, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("list")
    ap.add_argument("out")
    ap.add_argument("--subset", action="store_true")
    ap.add_argument("--crawl", action="store_true")
    ap.add_argument("--kinds", help="comma-separated error kinds allowed (default: any)")
    ap.add_argument("--min-ok", type=int)
    a = ap.parse_args()
    kinds = set(a.kinds.split(",")) if a.kinds else None
    ok, msgs, stats = check(a.list, a.out, a.subset, kinds, a.min_ok, a.crawl)
    for m in msgs:
        print(m)
    print(" ".join(f"{k}={v}" for k, v in sorted(stats.items())), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
