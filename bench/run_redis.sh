#!/usr/bin/env bash
# run_redis.sh -- what sharing a crawl through Redis costs and gains (issue 11), all
# in this session.
# SITES (8) sites of PAGES/SITES pages each (bench/gen_site.py; 5 % under /private/,
# disallowed by robots.txt), each on its own nginx (its own origin: a shared crawl
# spreads origins over its workers), crawled from their index pages with
# `--crawl -l inf -c 50 --per-host 50 -q -j` in three variants, interleaved for ROUNDS
# (3) rounds:
#   local   one acrawl, no Redis, on CPU 0;
#   redis1  one worker through a redis-server (on CPU 1, AOF off, a fresh one per run);
#   redis2  two workers, one on CPU 0, one on CPU 1 (where nginx and Redis run too).
# Each run is checked: every public page exactly once across the workers' records,
# none under /private/. pages/s = pages / wall time from the first worker's start to
# the last one's exit. Redis: commands per page (INFO commandstats, summed) and bytes
# per page left in Redis after the crawl (used_memory after - before: the seen-set and
# the counters; acked stream entries are deleted).
# CPU per page of the workers, of Redis and of nginx tell how far two workers can
# go on this machine: with everything on two cores, two workers reach at most
# 2 cores / (worker + Redis + nginx CPU per page) while one reaches 1 core / worker
# CPU per page (nginx and Redis have the other core), so their ratio is at most
# 2w / (w + r + n) of the one-worker run's figures: the summary's redis2_ceiling.
# Prints one JSON object per run and a summary on stdout, a table on stderr.
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
A=${ACRAWL:-./acrawl}
PY=/usr/bin/python3
pages=${PAGES:-20000}
nsites=${SITES:-8}
rounds=${ROUNDS:-3}
dir=$(mktemp -d /tmp/acrawl-bench-redis-XXXXXX)
rpid=""
cleanup() {
  [ -n "$rpid" ] && kill "$rpid" 2>/dev/null
  for i in $(seq "$nsites"); do bash bench/nginx.sh stop "$dir/nginx$i"; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"
command -v redis-server >/dev/null || { echo "run_redis.sh: redis-server missing (scripts/deps.sh)" >&2; exit 1; }

seeds=()
for i in $(seq "$nsites"); do
  mkdir -p "$dir/site$i"
  read -r port _ < <(bash bench/nginx.sh start "$dir/nginx$i" "$B/certs" "$dir/site$i")
  $PY bench/gen_site.py "$dir/site$i" "http://127.0.0.1:$port" "$((pages / nsites))" "$((8 + i))"
  seeds+=("http://127.0.0.1:$port/index.html")
  echo "http://127.0.0.1:$port" >>"$dir/origins.txt"
done

redis_start() {
  local p
  p=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rm -rf "$dir/redis"
  mkdir -p "$dir/redis"
  taskset -c 1 timeout 1200 redis-server --port "$p" --bind 127.0.0.1 --dir "$dir/redis" --save '' --appendonly no \
    --daemonize no --logfile "$dir/redis/log" &
  rpid=$!
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
  rport=$p
  rsrv=$(pgrep -P "$rpid" redis-server) # timeout's child
}
# CPU seconds (user+sys) redis-server has used so far
rcpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$rsrv/stat"; }
redis_stop() { kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null || true; rpid=""; }
rinfo() { redis-cli -p "$rport" info "$1" | tr -d '\r'; }
# CPU seconds (user+sys) the nginx workers have used so far
ncpu() {
  for i in $(seq "$nsites"); do pgrep -P "$(cat "$dir/nginx$i/nginx.pid")"; done |
    while read -r p; do cat "/proc/$p/stat"; done |
    awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.3f", s / hz }'
}
calls() { rinfo commandstats | sed -n 's/.*:calls=\([0-9]*\),.*/\1/p' | awk '{ s += $1 } END { print s + 0 }'; }
mem() { rinfo memory | sed -n 's/^used_memory:\([0-9]*\)$/\1/p'; }

# check OUT...: every public page of every site once across the records, none private
check() {
  $PY - "$dir" "$nsites" "$@" <<'EOF'
import json, sys, urllib.parse
d, n, outs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
origins = [l.strip() for l in open(d + "/origins.txt")]
want = set()
for i, o in enumerate(origins, 1):
    for p in open("%s/site%d/public.txt" % (d, i)):
        want.add(o + p.strip())
seen, dup = set(), 0
for f in outs:
    for l in open(f):
        u = json.loads(l)["url"]
        if u.endswith("/robots.txt"):
            continue
        dup += u in seen
        seen.add(u)
private = sum("/private/" in u for u in seen)
print(json.dumps({"pages": len(seen), "expected": len(want), "duplicates": dup, "private": private,
                  "every_page_once": seen == want and dup == 0 and private == 0}))
EOF
}

jget() { $PY -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# T FILE CMD...: CMD, its CPU seconds (user+sys) in FILE
T() {
  local f=$1
  shift
  /usr/bin/time -f "%U %S" -o "$f" "$@"
}
wcpu() { cat "$@" 2>/dev/null | awk '{ s += $1 + $2 } END { printf "%.3f", s }'; }

variants=(local redis1 redis2)
all_once=true
for r in $(seq "$rounds"); do
  for k in 0 1 2; do
    v=${variants[$(((k + r - 1) % 3))]}
    outs=()
    c0=0 m0=0 rc0=0
    rm -f "$dir/t1" "$dir/t2"
    if [ "$v" != local ]; then
      redis_start
      c0=$(calls)
      m0=$(mem)
      rc0=$(rcpu)
    fi
    nc0=$(ncpu)
    t0=$(date +%s.%N)
    pids=()
    case $v in
    local)
      T "$dir/t1" taskset -c 0 "$A" --crawl -l inf -c 50 --per-host 50 -q -j "${seeds[@]}" >"$dir/o1" 2>"$dir/e1" &
      pids+=($!) outs+=("$dir/o1") ;;
    redis1)
      T "$dir/t1" taskset -c 0 "$A" --crawl -l inf -c 50 --per-host 50 -q -j --redis "redis://127.0.0.1:$rport" --job b \
        "${seeds[@]}" >"$dir/o1" 2>"$dir/e1" &
      pids+=($!) outs+=("$dir/o1") ;;
    redis2)
      T "$dir/t1" taskset -c 0 "$A" --crawl -l inf -c 50 --per-host 50 -q -j --redis "redis://127.0.0.1:$rport" --job b \
        "${seeds[@]}" >"$dir/o1" 2>"$dir/e1" &
      pids+=($!) outs+=("$dir/o1")
      T "$dir/t2" taskset -c 1 "$A" --crawl -l inf -c 50 --per-host 50 -q -j --redis "redis://127.0.0.1:$rport" --job b \
        >"$dir/o2" 2>"$dir/e2" &
      pids+=($!) outs+=("$dir/o2") ;;
    esac
    rc=0
    for p in "${pids[@]}"; do wait "$p" || rc=$?; done
    t1=$(date +%s.%N)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    chk=$(check "${outs[@]}")
    [ "$(jget "$chk" every_page_once)" = True ] || all_once=false
    n=$(jget "$chk" pages)
    pps=$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')
    cpp=0 bpp=0 rus=0
    wus=$(awk -v c="$(wcpu "$dir/t1" "$dir/t2")" -v n="$n" 'BEGIN { printf "%.1f", c * 1e6 / n }')
    nus=$(awk -v a="$(ncpu)" -v b="$nc0" -v n="$n" 'BEGIN { printf "%.1f", (a - b) * 1e6 / n }')
    if [ "$v" != local ]; then
      rus=$(awk -v a="$(rcpu)" -v b="$rc0" -v n="$n" 'BEGIN { printf "%.1f", (a - b) * 1e6 / n }')
      cpp=$(awk -v a="$(calls)" -v b="$c0" -v n="$n" 'BEGIN { printf "%.2f", (a - b) / n }')
      bpp=$(awk -v a="$(mem)" -v b="$m0" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')
      redis_stop
    fi
    eval "${v}_$r=$pps"
    echo "{\"bench\":\"crawl_redis\",\"variant\":\"$v\",\"round\":$r,\"wall_s\":$wall,\"pages\":$n,\"pages_per_s\":$pps,\"exit\":$rc,\"workers_cpu_us_per_page\":$wus,\"redis_cpu_us_per_page\":$rus,\"nginx_cpu_us_per_page\":$nus,\"redis_commands_per_page\":$cpp,\"redis_bytes_per_page\":$bpp,\"check\":$chk}"
    eval "${v}_cpp=$cpp ${v}_bpp=$bpp ${v}_w_$r=$wus ${v}_r_$r=$rus ${v}_n_$r=$nus"
  done
done

for v in "${variants[@]}"; do
  p=()
  for r in $(seq "$rounds"); do q=${v}_$r p+=("${!q}"); done
  eval "${v}_pps=$(median "${p[@]}")"
done
cpu() { # median of variant $1's figure $2 over the rounds
  local p=() q
  for r in $(seq "$rounds"); do q=$1_$2_$r p+=("${!q}"); done
  median "${p[@]}"
}
w=$(cpu redis1 w) rr=$(cpu redis1 r) nn=$(cpu redis1 n)
ceil=$(awk -v w="$w" -v r="$rr" -v n="$nn" 'BEGIN { printf "%.3f", 2 * w / (w + r + n) }')
r1=$(awk -v a="$redis1_pps" -v b="$local_pps" 'BEGIN { printf "%.3f", a / b }')
r2=$(awk -v a="$redis2_pps" -v b="$redis1_pps" 'BEGIN { printf "%.3f", a / b }')
ok1=$(awk -v x="$r1" 'BEGIN { print (x >= 0.7 ? "true" : "false") }')
ok2=$(awk -v x="$r2" 'BEGIN { print (x >= 1.3 ? "true" : "false") }')
echo "{\"bench\":\"crawl_redis_summary\",\"pages\":$pages,\"sites\":$nsites,\"rounds\":$rounds,\"local_pps\":$local_pps,\"redis1_pps\":$redis1_pps,\"redis2_pps\":$redis2_pps,\"redis1_vs_local\":$r1,\"redis1_target_0_7\":$ok1,\"redis2_vs_redis1\":$r2,\"redis2_target_1_3\":$ok2,\"redis2_ceiling\":$ceil,\"worker_cpu_us_per_page\":$w,\"redis_cpu_us_per_page\":$rr,\"nginx_cpu_us_per_page\":$nn,\"redis_commands_per_page\":$redis1_cpp,\"redis_bytes_per_page\":$redis1_bpp,\"every_page_once\":$all_once}"
{
  printf '%s sites, %s pages, %s rounds      median pages/s\n' "$nsites" "$pages" "$rounds"
  printf '%-40s %s\n' "local crawl (CPU 0)" "$local_pps"
  printf '%-40s %s   %s x local (target >= 0.7: %s)\n' "1 worker via Redis (CPU 0)" "$redis1_pps" "$r1" "$ok1"
  printf '%-40s %s   %s x 1 worker (target >= 1.3: %s)\n' "2 workers via Redis (CPU 0, CPU 1)" "$redis2_pps" "$r2" "$ok2"
  printf 'CPU per page (1 worker): worker %s us, Redis %s us, nginx %s us: two workers on these 2 cores reach at most %s x\n' \
    "$w" "$rr" "$nn" "$ceil"
  printf 'Redis commands per page %s, bytes per page kept in Redis %s; every page once in every run: %s\n' \
    "$redis1_cpp" "$redis1_bpp" "$all_once"
} >&2
