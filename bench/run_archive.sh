#!/usr/bin/env bash
# run_archive.sh -- what --warc and --state cost (issue 10), all in this session.
# 1. The crawl bench's 20 000-page site (bench/gen_site.py, 5 % under /private/,
#    disallowed by robots.txt) on nginx (loopback, worker on CPU 1), crawled by
#    `acrawl --crawl -l inf -c 50 --per-host 50 -q -j` on CPU 0 in four variants: plain,
#    --warc X.warc.gz, --state DIR, both; interleaved (the order rotates each round),
#    ROUNDS (3) rounds; median pages/s and CPU/page per variant and the costs against
#    plain. Every run is checked with bench/crawl_check.py (every public page once, none
#    disallowed); the first round's WARC files are read back by tests/warc/check_warc.mjs
#    (not timed). WARC files and state directories are fresh for every run, under
#    /tmp (the root file system here: ext4), deleted after each run.
# 2. A smaller site (SMALL_PAGES, 2 000) crawled by GNU wget's WARC writer
#    (`wget -r -l inf --warc-file=...`: one connection; the pages it also saves go to
#    /dev/shm) and by acrawl --warc at -c 50 and at -c 1: pages/s and WARC bytes/page.
# 3. Resume of a RESUME_URLS (1 000 000) URL state: a seeds file of that many distinct
#    URLs on the nginx, crawled with `--crawl -l 0 -c 1 --rate 10 --state DIR` until DIR
#    holds them all (its size stops growing after the first record), killed with kill -9;
#    then the same command again, timed to its first record on stdout and to nginx's
#    first access-log line (nginx writes it when the response is sent, so it is the first
#    request served), killed (kill -9) after that record; RESUME_ROUNDS (3) times.
# Prints one JSON object per measurement and a summary on stdout, a table on stderr.
# shellcheck disable=SC2154  # the per-run figures are set through eval
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
A=${ACRAWL:-./acrawl}  # ACRAWL= another binary (e.g. a copy, so that a rebuild mid-run cannot mix two)
PY=/usr/bin/python3
pages=${PAGES:-20000}
small=${SMALL_PAGES:-2000}
rounds=${ROUNDS:-3}
rurls=${RESUME_URLS:-1000000}
rrounds=${RESUME_ROUNDS:-3}
dir=$(mktemp -d /tmp/acrawl-bench-archive-XXXXXX)
# wget saves what it fetches: to tmpfs, so it pays for the files but not for a disk.
wout=$(mktemp -d /dev/shm/acrawl-bench-wget-XXXXXX)
cur=""
cleanup() {
  # the run being measured: its timeout (or the resume watcher) takes the crawler down
  if [ -n "$cur" ]; then
    pkill -TERM -P "$cur" 2>/dev/null || true
    kill -TERM "$cur" 2>/dev/null || true
  fi
  bash bench/nginx.sh stop "$dir/nginx"
  bash bench/nginx.sh stop "$dir/nginx_s"
  rm -rf "$dir" "$wout"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"
for t in wget node; do
  command -v "$t" >/dev/null || { echo "run_archive.sh: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
[ -f tests/warc/node_modules/warcio/package.json ] ||
  npm ci --no-audit --no-fund --prefix tests/warc >/dev/null

site=$dir/site
mkdir -p "$site" "$dir/site_s"
read -r port _ < <(bash bench/nginx.sh start "$dir/nginx" "$B/certs" "$site")
origin="http://127.0.0.1:$port"
$PY bench/gen_site.py "$site" "$origin" "$pages" 9
read -r sport _ < <(bash bench/nginx.sh start "$dir/nginx_s" "$B/certs" "$dir/site_s")
sorigin="http://127.0.0.1:$sport"
$PY bench/gen_site.py "$dir/site_s" "$sorigin" "$small" 9
npublic=$(wc -l <"$site/public.txt")
nspublic=$(wc -l <"$dir/site_s/public.txt")
log=$dir/nginx/access.log
slog=$dir/nginx_s/access.log
touch "$log" "$slog"

# measure LABEL LIMIT LOG CMD...: wall, CPU (user+sys), peak RSS and exit status of CMD
# on CPU 0, killed after LIMIT seconds; its lines of nginx's access log LOG go to
# $dir/LABEL.log.
measure() {
  local label=$1 limit=$2 lg=$3
  shift 3
  local n0
  n0=$(wc -l <"$lg")
  /usr/bin/time -o "$dir/$label.time" -f "%e %U %S %M %x" \
    taskset -c 0 timeout -k 5 "$limit" "$@" >"$dir/$label.out" 2>"$dir/$label.err" &
  cur=$!
  wait "$cur" || true
  cur=""
  tail -n "+$((n0 + 1))" "$lg" >"$dir/$label.log"
  local wall user sys rss rc
  read -r wall user sys rss rc <"$dir/$label.time" || true
  # /usr/bin/time writes "Command exited with non-zero status N" first on failure
  [ -n "${rc:-}" ] || read -r wall user sys rss rc < <(tail -n 1 "$dir/$label.time")
  eval "${label}_wall=$wall ${label}_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}') ${label}_rss=$rss ${label}_rc=${rc:-0}"
}

jget() { $PY -c 'import json,sys; v=json.loads(sys.argv[1]); exec("for k in sys.argv[2:]: v=v[k]"); print(v if isinstance(v,str) else json.dumps(v))' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
# cost in % of pages/s: 100 * (1 - variant/plain)
cost() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? 100 * (1 - a / b) : 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b ? "true" : "false") }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
jlist() { local IFS=,; echo "[$*]"; }

# run BENCH LABEL CHECKJSON EXTRA: a run's figures (pages from its nginx log lines) as JSON
run_json() {
  local b=$1 l=$2 check=$3 extra=$4 v wall cpu rss rc n pps cpp
  v=${l}_wall wall=${!v}
  v=${l}_cpu cpu=${!v}
  v=${l}_rss rss=${!v}
  v=${l}_rc rc=${!v}
  n=$(jget "$check" page_fetches)
  pps=$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.1f", (w > 0 ? n / w : 0) }')
  cpp=$(awk -v n="$n" -v c="$cpu" 'BEGIN { printf "%.1f", (n > 0 ? c * 1e6 / n : 0) }')
  eval "${l}_pages=$n ${l}_pps=$pps ${l}_cpp=$cpp"
  printf '{"bench":"%s","run":"%s","pages":%s,"wall_s":%s,"pages_per_s":%s,"cpu_s":%s,"cpu_us_per_page":%s,"peak_rss_kb":%s,"exit":%s%s,"check":%s}\n' \
    "$b" "$l" "$n" "$wall" "$pps" "$cpu" "$cpp" "$rss" "$rc" "$extra" "$check"
}

# warc_check FILE: check_warc.mjs's verdict, short
warc_check() {
  local rc=0
  timeout 900 node tests/warc/check_warc.mjs "$1" >"$dir/warc_check.out" 2>"$dir/warc_check.err" || rc=$?
  $PY -c '
import json, sys
rc = int(sys.argv[1])
try:
    j = json.load(open(sys.argv[2]))
except Exception:
    j = {}
err = open(sys.argv[3]).read().splitlines()
print(json.dumps({"file": sys.argv[4].rsplit("/", 1)[-1], "exit": rc, "ok": rc == 0 and j.get("ok") is True,
                  "records": j.get("records"), "types": j.get("types"), "target_uris": len(j.get("responses") or {}),
                  "violations": len(err), "first_violations": err[:3]}))' "$rc" "$dir/warc_check.out" "$dir/warc_check.err" "$1"
}

# ---- 1. the 20 000-page crawl: plain, --warc, --state, both ----
seed="$origin/index.html"
variants=(plain warc state both)
all_once=true
warc_valid=()
for r in $(seq "$rounds"); do
  for k in 0 1 2 3; do
    v=${variants[$(((k + r - 1) % 4))]}
    l=${v}_$r
    w=$dir/out/$l.warc.gz st=$dir/out/$l.state
    rm -rf "$dir/out"
    mkdir -p "$dir/out"
    x=()
    case $v in
    warc) x=(--warc "$w") ;;
    state) x=(--state "$st") ;;
    both) x=(--warc "$w" --state "$st") ;;
    esac
    measure "$l" 120 "$log" "$A" --crawl -l inf -c 50 --per-host 50 -q -j "${x[@]}" "$seed"
    c=$($PY bench/crawl_check.py "$site" "$dir/$l.log" "$dir/$l.out")
    [ "$(jget "$c" every_page_once)" = true ] || all_once=false
    wb=0 sb=0
    [ -f "$w" ] && wb=$(stat -c %s "$w")
    [ -d "$st" ] && sb=$(du -sb "$st" | cut -f1)
    run_json crawl_archive "$l" "$c" ",\"variant\":\"$v\",\"round\":$r,\"warc_bytes\":$wb,\"state_bytes\":$sb"
    if [ "$r" = 1 ] && [ -f "$w" ]; then
      wv=$(warc_check "$w")
      echo "{\"bench\":\"warc_check\",\"run\":\"$l\",\"result\":$wv}"
      warc_valid+=("$(jget "$wv" ok)")
    fi
    rm -rf "$dir/out" "$dir/$l.out"
    timeout 60 sync || true
  done
done

for v in "${variants[@]}"; do
  p=() cc=() wl=()
  for r in $(seq "$rounds"); do
    q=${v}_${r}_pps p+=("${!q}")
    q=${v}_${r}_cpp cc+=("${!q}")
    q=${v}_${r}_wall wl+=("${!q}")
  done
  eval "${v}_pps=$(median "${p[@]}") ${v}_cpp=$(median "${cc[@]}") ${v}_pps_range=$(range "${p[@]}") ${v}_cpp_range=$(range "${cc[@]}")"
  eval "${v}_pps_all=$(jlist "${p[@]}") ${v}_wall_all=$(jlist "${wl[@]}")"
done
# costs from the medians, and the median of each round's own (paired) cost
paired() {
  local v=$1 cs=() r a b
  for r in $(seq "$rounds"); do
    a=${v}_${r}_pps b=plain_${r}_pps
    cs+=("$(cost "${!a}" "${!b}")")
  done
  median "${cs[@]}"
}
warc_cost=$(cost "$warc_pps" "$plain_pps")
state_cost=$(cost "$state_pps" "$plain_pps")
both_cost=$(cost "$both_pps" "$plain_pps")
warc_cost_paired=$(paired warc)
state_cost_paired=$(paired state)
both_cost_paired=$(paired both)
warc_ok=true
for x in "${warc_valid[@]}"; do [ "$x" = true ] || warc_ok=false; done
[ ${#warc_valid[@]} -gt 0 ] || warc_ok=false

# ---- 2. the smaller site: wget's WARC writer beside acrawl's ----
sseed="$sorigin/index.html"
svariants=(wget acrawl acrawl1)
for r in $(seq "$rounds"); do
  for k in 0 1 2; do
    v=${svariants[$(((k + r - 1) % 3))]}
    l=s${v}_$r
    rm -rf "$dir/out"
    mkdir -p "$dir/out"
    case $v in
    wget)
      measure "$l" 300 "$slog" wget -r -l inf --warc-file="$dir/out/$l" --warc-tempdir="$dir/out" \
        -q -P "$wout" "$sseed"
      rm -rf "${wout:?}"/*
      c=$($PY bench/crawl_check.py "$dir/site_s" "$dir/$l.log")
      ;;
    acrawl)
      measure "$l" 300 "$slog" "$A" --crawl -l inf -c 50 --per-host 50 -q -j --warc "$dir/out/$l.warc.gz" "$sseed"
      c=$($PY bench/crawl_check.py "$dir/site_s" "$dir/$l.log" "$dir/$l.out")
      ;;
    acrawl1)
      measure "$l" 300 "$slog" "$A" --crawl -l inf -c 1 --per-host 1 -q -j --warc "$dir/out/$l.warc.gz" "$sseed"
      c=$($PY bench/crawl_check.py "$dir/site_s" "$dir/$l.log" "$dir/$l.out")
      ;;
    esac
    wb=0
    [ -f "$dir/out/$l.warc.gz" ] && wb=$(stat -c %s "$dir/out/$l.warc.gz")
    n=$(jget "$c" page_fetches)
    bpp=$(awk -v b="$wb" -v n="$n" 'BEGIN { printf "%.0f", (n > 0 ? b / n : 0) }')
    eval "${l}_bpp=$bpp"
    run_json crawl_archive_small "$l" "$c" ",\"variant\":\"$v\",\"round\":$r,\"warc_bytes\":$wb,\"warc_bytes_per_page\":$bpp"
    rm -rf "$dir/out" "$dir/$l.out"
    timeout 60 sync || true
  done
done
for v in "${svariants[@]}"; do
  p=() cc=() bp=()
  for r in $(seq "$rounds"); do
    q=s${v}_${r}_pps p+=("${!q}")
    q=s${v}_${r}_cpp cc+=("${!q}")
    q=s${v}_${r}_bpp bp+=("${!q}")
  done
  eval "s${v}_pps=$(median "${p[@]}") s${v}_cpp=$(median "${cc[@]}") s${v}_bpp=$(median "${bp[@]}") s${v}_pps_range=$(range "${p[@]}")"
done

# ---- 3. resume of a RESUME_URLS-URL state ----
# The watcher (on CPU 1): starts CMD in its own process group, reads its stdout, and
# notes when the first record arrives and when nginx's access log first grows (a line
# is written as a response is sent: first_served_s); then
# either kills it (kill -9) at once ("first") or once DIR's size has stopped growing
# (by less than 64 KB in 0.5 s, after the first record: "settle"). LIMIT bounds it.
cat >"$dir/watch.py" <<'PY'
import json, os, select, signal, subprocess, sys, time
mode, log, sdir, limit, errf = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
cmd = sys.argv[6:]
def dsize(d):
    try:
        return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    except OSError:
        return 0
log0 = os.path.getsize(log)
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(errf, 'wb'), start_new_session=True)
def kill(*_):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
signal.signal(signal.SIGTERM, lambda *a: (kill(), sys.exit(143)))
fd = p.stdout.fileno()
t_rec = t_srv = None
first = b''
size_at, size_t = 0, 0.0
done = False
while not done:
    now = time.monotonic() - t0
    if now > limit:
        break
    r, _, _ = select.select([fd], [], [], 0.001)
    if r:
        data = os.read(fd, 1 << 16)
        if not data:
            break
        if t_rec is None:
            t_rec = time.monotonic() - t0
            first = data.split(b'\n', 1)[0]
    if t_srv is None and os.path.getsize(log) > log0:
        t_srv = time.monotonic() - t0
    if t_rec is not None:
        if mode == 'first':
            done = True
        elif now - size_t >= 0.5:
            s = dsize(sdir)
            if now - t_rec >= 0.5 and s - size_at < 65536:
                done = True
            size_at, size_t = s, now
kill()
p.wait()
line = None
try:
    line = json.loads(first).get('line')
except Exception:
    pass
print(json.dumps({'first_record_s': None if t_rec is None else round(t_rec, 3),
                  'first_served_s': None if t_srv is None else round(t_srv, 3),
                  'first_record_line': line, 'killed_at_s': round(time.monotonic() - t0, 3),
                  'state_bytes': dsize(sdir), 'timed_out': not done}))
PY
watch() {
  taskset -c 1 $PY "$dir/watch.py" "$@" &
  cur=$!
  wait "$cur" || true
  cur=""
}
printf 'ok\n' >"$site/r.txt"
$PY -c '
import sys
o, n = sys.argv[1], int(sys.argv[2])
with open(sys.argv[3], "w") as f:
    for i in range(0, n, 10000):
        f.write("".join("%s/r.txt?u=%d\n" % (o, k) for k in range(i, min(n, i + 10000))))' "$origin" "$rurls" "$dir/seeds"
rs=$dir/resume.state
rbase=(taskset -c 0 "$A" --crawl -l 0 -c 1 --rate 10 --max-host-pages 0 -q -j)
rcmd=("${rbase[@]}" --state "$rs" "$dir/seeds")
# without --state, for comparison: reading the seeds alone
watch first "$log" "$dir/nostate" 120 "$dir/fresh.err" "${rbase[@]}" "$dir/seeds" >"$dir/fresh.json"
echo "{\"bench\":\"resume\",\"run\":\"fresh_no_state\",\"urls\":$rurls,\"result\":$(cat "$dir/fresh.json")}"
watch settle "$log" "$rs" 300 "$dir/initial.err" "${rcmd[@]}" >"$dir/initial.json"
echo "{\"bench\":\"resume\",\"run\":\"initial_with_state\",\"urls\":$rurls,\"result\":$(cat "$dir/initial.json")}"
rbytes=$(du -sb "$rs" | cut -f1)
rbpu=$(awk -v b="$rbytes" -v n="$rurls" 'BEGIN { printf "%.1f", b / n }')
rfiles=$(cd "$rs" && for f in *; do printf '"%s":%s,' "$f" "$(stat -c %s "$f")"; done)
echo "{\"bench\":\"resume\",\"run\":\"state_after_kill\",\"urls\":$rurls,\"state_bytes\":$rbytes,\"bytes_per_url\":$rbpu,\"files\":{${rfiles%,}}}"
res_rec=() res_srv=()
for i in $(seq "$rrounds"); do
  watch first "$log" "$rs" 120 "$dir/resume$i.err" "${rcmd[@]}" >"$dir/resume$i.json"
  j=$(cat "$dir/resume$i.json")
  echo "{\"bench\":\"resume\",\"run\":\"resume_$i\",\"urls\":$rurls,\"result\":$j,\"stderr\":$($PY -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()[:300]))' "$dir/resume$i.err")}"
  res_rec+=("$(jget "$j" first_record_s)")
  res_srv+=("$(jget "$j" first_served_s)")
done
res_med=$(median "${res_rec[@]}")
res_ok=true
for x in "${res_rec[@]}"; do [ "$x" != null ] && [ "$(le "$x" 2)" = true ] || res_ok=false; done
res_ok_med=$(le "$res_med" 2)

cat <<JSON
{"bench":"archive","summary":{"site_pages":$pages,"public_pages":$npublic,"concurrency":50,"rounds":$rounds,
 "files_on":"/tmp ($(findmnt -n -o FSTYPE -T "$dir" 2>/dev/null || echo '?'))",
 "every_page_once_all_runs":$all_once,"warc_valid":$warc_ok,
 "pages_per_s":{"plain":$plain_pps,"warc":$warc_pps,"state":$state_pps,"both":$both_pps},
 "pages_per_s_runs":{"plain":$plain_pps_all,"warc":$warc_pps_all,"state":$state_pps_all,"both":$both_pps_all},
 "cpu_us_per_page":{"plain":$plain_cpp,"warc":$warc_cpp,"state":$state_cpp,"both":$both_cpp},
 "ratio_warc_plain":$(ratio "$warc_pps" "$plain_pps"),"ratio_state_plain":$(ratio "$state_pps" "$plain_pps"),
 "ratio_both_plain":$(ratio "$both_pps" "$plain_pps"),
 "warc_cost_pct":$warc_cost,"state_cost_pct":$state_cost,"both_cost_pct":$both_cost,
 "paired_cost_pct_median":{"warc":$warc_cost_paired,"state":$state_cost_paired,"both":$both_cost_paired},
 "small_site_pages":$small,"small_public_pages":$nspublic,
 "wget_warc_pages_per_s":$swget_pps,"acrawl_warc_pages_per_s_small":$sacrawl_pps,"acrawl_warc_c1_pages_per_s_small":$sacrawl1_pps,
 "warc_bytes_per_page_small":{"wget":$swget_bpp,"acrawl":$sacrawl_bpp,"acrawl_c1":$sacrawl1_bpp},
 "cpu_us_per_page_small":{"wget":$swget_cpp,"acrawl":$sacrawl_cpp,"acrawl_c1":$sacrawl1_cpp},
 "resume_urls":$rurls,"resume_state_bytes_per_url":$rbpu,
 "resume_1m_first_record_s":$(jlist "${res_rec[@]}"),"resume_1m_first_served_s":$(jlist "${res_srv[@]}"),
 "targets_met":{"warc_cost_le_15pct":$(le "$warc_cost" 15),"state_cost_le_10pct":$(le "$state_cost" 10),
   "resume_1m_le_2s_median":$res_ok_med,"resume_1m_le_2s_every_run":$res_ok}}}
JSON
cat >&2 <<TABLE
crawl of $npublic public pages, -c 50, $rounds rounds   median pages/s (range)     CPU us/page (range)   cost vs plain (paired)
plain                                   $plain_pps ($plain_pps_range)    $plain_cpp ($plain_cpp_range)
--warc X.warc.gz                        $warc_pps ($warc_pps_range)    $warc_cpp ($warc_cpp_range)   ${warc_cost} % (${warc_cost_paired} %)   target <= 15 %
--state DIR                             $state_pps ($state_pps_range)    $state_cpp ($state_cpp_range)   ${state_cost} % (${state_cost_paired} %)   target <= 10 %
--warc + --state                        $both_pps ($both_pps_range)    $both_cpp ($both_cpp_range)   ${both_cost} % (${both_cost_paired} %)
every public page once in every run: $all_once; WARC valid (check_warc.mjs): $warc_ok
small site, $nspublic public pages      pages/s (range)        CPU us/page   WARC bytes/page
wget -r --warc-file (1 connection)      $swget_pps ($swget_pps_range)    $swget_cpp    $swget_bpp
acrawl --warc -c 50                     $sacrawl_pps ($sacrawl_pps_range)    $sacrawl_cpp    $sacrawl_bpp
acrawl --warc -c 1                      $sacrawl1_pps ($sacrawl1_pps_range)    $sacrawl1_cpp    $sacrawl1_bpp
resume of a $rurls-URL state ($rbpu bytes/URL): first record after $(jlist "${res_rec[@]}") s (median $res_med, target <= 2 s: $res_ok_med); first response logged by nginx after $(jlist "${res_srv[@]}") s
TABLE
