#!/usr/bin/env bash
# ab_crawl.sh [ACRAWL...] -- the crawl bench's acrawl and wget2 runs only, repeated
# back to back on one generated site (same nginx, crawlers on CPU 0, nginx on CPU 1),
# for comparing builds on a noisy machine: each round runs every ACRAWL binary (default
# ./acrawl) and wget2 once, in turn; then the median of each per peer.
# REPS= (5) rounds; PAGES= (20000) site size; NO_WGET2=1 leaves wget2 out; WRAP= a
# command the acrawl runs go through (WRAP="perf record -g -o /tmp/p.data" profiles).
# Prints one line per run and a median line per peer: pages/s, CPU us/page, peak RSS,
# and the ratios of each acrawl to wget2 (pages/s, CPU/page).
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
reps=${REPS:-5}
pages=${PAGES:-20000}
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(./acrawl)
dir=$(mktemp -d /tmp/acrawl-ab-crawl-XXXXXX)
wout=$(mktemp -d /dev/shm/acrawl-ab-wget2-XXXXXX)
cleanup() {
  bash bench/nginx.sh stop "$dir/nginx"
  rm -rf "$dir" "$wout"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"
mkdir -p "$dir/site"
read -r port _ < <(bash bench/nginx.sh start "$dir/nginx" "$B/certs" "$dir/site")
origin="http://127.0.0.1:$port"
python3 bench/gen_site.py "$dir/site" "$origin" "$pages" 9
seed="$origin/index.html"
log=$dir/nginx/access.log
touch "$log"
npublic=$(wc -l <"$dir/site/public.txt")

# run LABEL CMD...: one line "LABEL pps cpu_us_per_page rss_kb pages"
run() {
  local label=$1
  shift
  local n0 wall user sys rss n
  n0=$(wc -l <"$log")
  /usr/bin/time -o "$dir/time" -f "%e %U %S %M" taskset -c 0 timeout -k 5 120 "$@" >"$dir/out" 2>"$dir/err" || true
  n=$(tail -n "+$((n0 + 1))" "$log" | awk '$1 == 200 && $2 == "GET" && $3 != "/robots.txt" { n++ } END { print n + 0 }')
  read -r wall user sys rss <"$dir/time"
  awk -v l="$label" -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
    'BEGIN { printf "%s %.1f %.1f %d %d\n", l, n / w, (u + s) * 1e6 / n, r, n }'
}

for rep in $(seq "$reps"); do
  i=0
  for b in "${bins[@]}"; do
    run "acrawl$i" ${WRAP:-} "$b" --crawl -l inf -c 50 --per-host 50 -q -j "$seed" | tee -a "$dir/results"
    i=$((i + 1))
  done
  if [ "${NO_WGET2:-0}" != 1 ]; then
    run wget2 wget2 -r -l inf --max-threads=50 --robots=on -q -P "$wout" "$seed" | tee -a "$dir/results"
    rm -rf "${wout:?}"/*
  fi
  echo "-- round $rep done" >&2
done
echo "medians over $reps rounds ($npublic public pages); binaries: ${bins[*]}"
python3 - "$dir/results" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    l, pps, cpp, rss, n = line.split()
    rows.setdefault(l, []).append((float(pps), float(cpp), int(rss), int(n)))
med = {l: (st.median(r[0] for r in v), st.median(r[1] for r in v), st.median(r[2] for r in v)) for l, v in rows.items()}
w = med.get('wget2')
for l, (pps, cpp, rss) in med.items():
    extra = ''
    if w and l != 'wget2':
        extra = '  vs wget2: %.2fx pages/s, %.2fx CPU/page' % (pps / w[0], cpp / w[1])
    print('%-8s %8.1f pages/s %7.1f us/page %6d KB%s' % (l, pps, cpp, rss, extra))
# paired ratios (each round's acrawl against the same round's wget2)
if 'wget2' in rows:
    for l, v in rows.items():
        if l == 'wget2':
            continue
        pr = [a[0] / b[0] for a, b in zip(v, rows['wget2'])]
        cr = [a[1] / b[1] for a, b in zip(v, rows['wget2'])]
        print('%-8s paired median: %.2fx pages/s, %.2fx CPU/page (per round: %s)' % (
            l, st.median(pr), st.median(cr), ' '.join('%.2f/%.2f' % x for x in zip(pr, cr))))
PY
