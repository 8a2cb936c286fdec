#!/usr/bin/env bash
# run_crawl.sh -- acrawl's crawl mode beside wget2 -r and Scrapy, all in this session,
# at concurrency 50, on a generated static site (bench/gen_site.py: 20 000 pages, 5 %
# under /private/, disallowed by robots.txt) served by nginx on loopback (worker on
# CPU 1, crawlers on CPU 0). Then the link extractor alone (bench_links), and with
# BENCH_CRAWL_BIG=1 a 1 000 000-page crawl of the test server at -c 200.
# Prints one JSON object per peer and a summary on stdout, a table on stderr.
# PAGES= (20000) sizes the site; SCRAPY_SECONDS= (60) bounds the Scrapy run.
# shellcheck disable=SC2154  # the per-peer figures are set through eval
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
A=./acrawl
PY=/usr/bin/python3
pages=${PAGES:-20000}
scrapy_s=${SCRAPY_SECONDS:-60}
dir=$(mktemp -d /tmp/acrawl-bench-crawl-XXXXXX)
# wget2 saves what it fetches: to tmpfs, so it pays for the files but not for a disk.
wout=$(mktemp -d /dev/shm/acrawl-bench-wget2-XXXXXX)
srv_pids=()
cur=""
cleanup() {
  # the peer being measured: its timeout passes the signal on to the crawler
  [ -n "$cur" ] && pkill -TERM -P "$cur" 2>/dev/null
  for p in "${srv_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash bench/nginx.sh stop "$dir/nginx"
  rm -rf "$dir" "$wout"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"
site=$dir/site
mkdir -p "$site"
read -r port _ < <(bash bench/nginx.sh start "$dir/nginx" "$B/certs" "$site")
origin="http://127.0.0.1:$port"
$PY bench/gen_site.py "$site" "$origin" "$pages" 9
npublic=$(wc -l <"$site/public.txt")
log=$dir/nginx/access.log
touch "$log"

# measure LABEL LIMIT CMD...: wall, CPU (user+sys) and peak RSS of CMD on CPU 0, killed
# after LIMIT seconds; its lines of nginx's access log go to $dir/LABEL.log.
measure() {
  local label=$1 limit=$2
  shift 2
  local n0
  n0=$(wc -l <"$log")
  /usr/bin/time -o "$dir/$label.time" -f "%e %U %S %M" \
    taskset -c 0 timeout -k 5 "$limit" "$@" >"$dir/$label.out" 2>"$dir/$label.err" &
  cur=$!
  wait "$cur" || true
  cur=""
  tail -n "+$((n0 + 1))" "$log" >"$dir/$label.log"
  local wall user sys rss
  read -r wall user sys rss <"$dir/$label.time" || true
  eval "${label}_wall=$wall ${label}_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}') ${label}_rss=$rss"
}

# peer LABEL CHECKJSON: the peer's JSON object (pages counted from its nginx log lines)
peer() {
  local l=$1 check=$2 v wall cpu rss n pps cpp
  v=${l}_wall wall=${!v}
  v=${l}_cpu cpu=${!v}
  v=${l}_rss rss=${!v}
  n=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["page_fetches"])' "$check")
  pps=$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.1f", (w > 0 ? n / w : 0) }')
  cpp=$(awk -v n="$n" -v c="$cpu" 'BEGIN { printf "%.1f", (n > 0 ? c * 1e6 / n : 0) }')
  eval "${l}_pages=$n ${l}_pps=$pps ${l}_cpp=$cpp"
  printf '{"bench":"crawl","peer":"%s","pages":%s,"wall_s":%s,"pages_per_s":%s,"cpu_s":%s,"cpu_us_per_page":%s,"peak_rss_kb":%s,"check":%s}\n' \
    "$l" "$n" "$wall" "$pps" "$cpu" "$cpp" "$rss" "$check"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
met() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b ? "true" : "false") }'; }

seed="$origin/index.html"
measure acrawl 120 $A --crawl -l inf -c 50 --per-host 50 -q -j "$seed"
a_check=$($PY bench/crawl_check.py "$site" "$dir/acrawl.log" "$dir/acrawl.out")
peer acrawl "$a_check"

measure wget2 120 wget2 -r -l inf --max-threads=50 --robots=on -q -P "$wout" "$seed"
rm -rf "${wout:?}"/*
w_check=$($PY bench/crawl_check.py "$site" "$dir/wget2.log")
peer wget2 "$w_check"

measure scrapy $((scrapy_s + 60)) $PY bench/scrapy_crawl.py "$seed" 50 "$scrapy_s"
s_check=$($PY bench/crawl_check.py "$site" "$dir/scrapy.log")
peer scrapy "$s_check"

links=$("$B/bench/bench_links" 32 3)

vs_w=$(ratio "$acrawl_pps" "$wget2_pps")
vs_s=$(ratio "$acrawl_pps" "$scrapy_pps")
cpu_w=$(ratio "$acrawl_cpp" "$wget2_cpp")
rss_w=$(ratio "$acrawl_rss" "$wget2_rss")
a_once=$($PY -c 'import json,sys; print(str(json.loads(sys.argv[1])["every_page_once"]).lower())' "$a_check")
cat <<JSON
{"bench":"crawl","summary":{"site_pages":$pages,"public_pages":$npublic,"concurrency":50,"scrapy_seconds_cap":$scrapy_s,
 "acrawl_every_page_once_none_disallowed":$a_once,
 "pages_per_s_vs_wget2":$vs_w,"pages_per_s_vs_scrapy":$vs_s,"cpu_per_page_vs_wget2":$cpu_w,"peak_rss_vs_wget2":$rss_w,
 "targets_met":{"pages_per_s_2x_wget2":$(met "$vs_w" 2),"pages_per_s_50x_scrapy":$(met "$vs_s" 50),
   "cpu_per_page_half_wget2":$(met 0.5 "$cpu_w"),"peak_rss_le_wget2":$(met 1 "$rss_w")},
 "links":$links}}
JSON
cat >&2 <<TABLE
crawl of $npublic public pages, -c 50      acrawl     wget2      scrapy (${scrapy_s} s cap)
pages fetched                          $acrawl_pages      $wget2_pages      $scrapy_pages
pages/s                                $acrawl_pps     $wget2_pps     $scrapy_pps
CPU us/page                            $acrawl_cpp      $wget2_cpp      $scrapy_cpp
peak RSS MB                            $((acrawl_rss / 1024))         $((wget2_rss / 1024))         $((scrapy_rss / 1024))
acrawl vs wget2: ${vs_w}x pages/s, ${cpu_w}x CPU/page, ${rss_w}x RSS; vs scrapy: ${vs_s}x pages/s
TABLE

[ "${BENCH_CRAWL_BIG:-0}" = 1 ] || exit 0

# The big crawl, as the issue describes it: one test server's 1 000 000-page graph
# (--include keeps the crawl to the graph; --max-host-pages 0 lifts the per-host trap
# guard), at -c 200. BIG_HOSTS=10 BIG_PER_HOST_PAGES=100000 spreads it over ten servers.
hosts=${BIG_HOSTS:-1}
per=${BIG_PER_HOST_PAGES:-1000000}
limit=${BIG_SECONDS:-1200}
: >"$dir/seeds"
for h in $(seq "$hosts"); do
  taskset -c 1 "$B/acrawl-testserver" --host "127.0.0.$h" --max-seconds "$((limit + 60))" \
    >"$dir/srv$h" 2>/dev/null 3>&- &
  srv_pids+=($!)
  for _ in $(seq 100); do
    [ -s "$dir/srv$h" ] && break
    sleep 0.05
  done
  echo "http://127.0.0.$h:$(sed 's/http=\([0-9]*\).*/\1/' "$dir/srv$h")/site/graph/$per/0" >>"$dir/seeds"
done
/usr/bin/time -o "$dir/big.time" -f "%e %U %S %M" taskset -c 0 $A --crawl -l inf -c 200 --per-host 200 \
  --max-host-pages 0 --include '/site/graph/' --deadline "$limit" -q -w '%{http_code}\n' "$dir/seeds" 2>"$dir/big.err" |
  taskset -c 1 $PY -c '
import sys, time, json, os
# The crawler (found by its seeds file among the processes): its CPU time at each
# thousandth record gives CPU per page over the first and the last tenth, a flatness
# measure that other work on a shared machine disturbs far less than pages/s.
seeds = sys.argv[1].encode()
pid = None
def find():
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
            except OSError:
                continue
            if len(cmd) > 1 and cmd[1] == b"--crawl" and seeds in cmd:
                return d
def cpu():
    try:
        f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None
t0 = time.monotonic(); n = 0; marks = [(0, 0.0)]; codes = {}; cpus = [(0, 0.0)]
for line in sys.stdin:
    n += 1
    codes[line.strip()] = codes.get(line.strip(), 0) + 1
    if pid is None:
        pid = find()
    if n % 1000 == 0:
        marks.append((n, time.monotonic() - t0))
        c = cpu()
        if c is not None:
            cpus.append((n, c))
end = time.monotonic() - t0
marks.append((n, end))
def at(k):  # seconds when record k arrived (interpolated)
    for (n0, t0_), (n1, t1) in zip(marks, marks[1:]):
        if n1 >= k:
            return t0_ + (t1 - t0_) * (k - n0) / max(1, n1 - n0)
    return end
def cpu_at(k):  # CPU seconds at the sample nearest record k
    return min(cpus, key=lambda m: abs(m[0] - k))
tenth = n // 10
first = tenth / at(tenth) if n and at(tenth) > 0 else 0
last = tenth / (end - at(n - tenth)) if n and end > at(n - tenth) else 0
def cpp(a, b):
    (na, ca), (nb, cb) = cpu_at(a), cpu_at(b)
    return round((cb - ca) * 1e6 / (nb - na), 1) if nb > na else 0
cfirst, clast = cpp(0, tenth), cpp(n - tenth, n)
print(json.dumps({"records": n, "codes": codes, "pages_per_s_first_10pct": round(first, 1),
                  "pages_per_s_last_10pct": round(last, 1), "stamp_wall_s": round(end, 2),
                  "cpu_us_per_page_first_10pct": cfirst, "cpu_us_per_page_last_10pct": clast,
                  "cpu_per_page_last_vs_first": round(clast / cfirst, 3) if cfirst else 0}))
' "$dir/seeds" >"$dir/big.json" || true
read -r bwall buser bsys brss <"$dir/big.time" || true
cat <<JSON
{"bench":"crawl_big","hosts":$hosts,"pages_per_host":$per,"concurrency":200,"wall_s":$bwall,
 "cpu_s":$(awk -v u="$buser" -v s="$bsys" 'BEGIN{print u+s}'),"peak_rss_kb":$brss,
 "peak_rss_le_200mb":$(met 204800 "$brss"),"stream":$(cat "$dir/big.json")}
JSON
