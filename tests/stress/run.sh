#!/usr/bin/env bash
# run.sh -- acrawl's stress suite: the ASan+UBSan build cancelled at random points
# (--first, --deadline, ^C once and twice, request timeouts in every phase, --retry
# backoff, the libcurl engine, WARC output, resumable crawls killed with SIGKILL) against
# real servers on loopback. Every run must end with no sanitizer report, an expected
# exit, and exactly one record per URL line (a crawl: per page); a WARC must be valid to
# tests/warc/check_warc.mjs and agree with the records.
#
#   tests/stress/run.sh [--short | --full] [--scenario NAME[,NAME...]] [--seed S] [--runs N]
#   tests/stress/run.sh --scenarios          # list the scenarios
#
# --short: a few runs of each scenario, about 2 minutes (make stress-short);
# --full: as many runs as fit in about 18 minutes (make stress). Run I of a scenario uses
# seed S+I; a failure prints the command that repeats it (--scenario X --seed S+I --runs 1).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/stress
cd "$ROOT" || exit 2

MODE=short SEED= FILTER= RUNS=
usage() {
  sed -n '7,12p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

SCENARIOS=(first deadline-fast sigint sigint2 t-dns deadline-slow retry curl-first curl-deadline
           curl-sigint t-connect t-tls t-headers t-body t-mixed crawl warc-cancel state-kill redis-chaos)
declare -A SHORT_RUNS=([first]=3 [deadline-fast]=1 [sigint]=2 [sigint2]=2 [t-dns]=2 [deadline-slow]=1
                       [retry]=2 [curl-first]=1 [curl-deadline]=1 [curl-sigint]=2 [t-connect]=1
                       [t-tls]=1 [t-headers]=1 [t-body]=1 [t-mixed]=1 [crawl]=2 [warc-cancel]=2
                       [state-kill]=1 [redis-chaos]=1)
declare -A ABOUT=(
  [first]="--first N (1..50) on 1k/10k/100k URLs (--short: 1k/2k/10k) delayed 50-1500 ms, random -c"
  [deadline-fast]="--deadline at a random point (0.2-3 s) of 1 000 000 fast URLs"
  [deadline-slow]="--deadline at a random point of 20k/100k URLs delayed 0.5-5 s"
  [sigint]="one ^C at a random point (1M fast, 100k delayed or 20k slow URLs; --short: 200k, 10k, 2k): exit 130"
  [sigint2]="^C, then a second ^C 0-500 ms later: dies by SIGINT (or 130); no duplicates"
  [t-dns]="-t fires during DNS: --dns-servers that never answer / answer late / mixed"
  [t-connect]="-t fires during connect (a listener with a full accept queue)"
  [t-tls]="-t fires during the TLS handshake (a peer that accepts and never speaks)"
  [t-headers]="-t fires while waiting for headers (/stall)"
  [t-body]="-t fires during the body (/drip)"
  [t-mixed]="-t over a list mixing connect, TLS, header and body stalls"
  [retry]="--retry N on 503/429 URLs, cancelled by --deadline or ^C during the backoff"
  [curl-first]="--engine curl with --first N"
  [curl-deadline]="--engine curl with --deadline at a random point"
  [curl-sigint]="--engine curl with ^C (once, or twice) at a random point"
  [crawl]="--crawl of 20 000- and 5 000-page graphs cut by --deadline or ^C: seeds once each, no URL twice"
  [warc-cancel]="--warc (1 in 3 rotating at 64k-1M) on 10k/20k URLs (--full: 10k/100k) cut by --first, --deadline or ^C: WARC valid, a response per status, none past the attempts"
  [redis-chaos]="--crawl --redis: 3 workers on a graph of 2000-4000 pages (--short: 2000), 2-5 events among kill -9 (restarted or not), SIGSTOP past the claim time, ^C and a redis-server restart: --collect has every page once"
  [state-kill]="--crawl --state --warc of a graph of 2000-5000 pages (--short: 2000-2200) killed -9 at 3-8 points (one may be ^C or --deadline), resumed to the end: every page once, WARC valid"
)

while [ $# -gt 0 ]; do
  case $1 in
  --short) MODE=short ;;
  --full) MODE=full ;;
  --scenario) FILTER=${2:?}; shift ;;
  --seed) SEED=${2:?}; shift ;;
  --runs) RUNS=${2:?}; shift ;;
  --scenarios)
    for s in "${SCENARIOS[@]}"; do printf '%-14s %s\n' "$s" "${ABOUT[$s]}"; done
    exit 0 ;;
  -h | --help) usage 0 ;;
  *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
SEED=${SEED:-$(( $(date +%s%N) / 1000 % 1000000 ))}
SELECTED=()
for s in "${SCENARIOS[@]}"; do
  if [ -z "$FILTER" ] || [[ ",$FILTER," == *",$s,"* ]]; then SELECTED+=("$s"); fi
done
if [ ${#SELECTED[@]} -eq 0 ]; then
  echo "run.sh: no scenario matches '$FILTER' (see --scenarios)" >&2
  exit 2
fi

START=$(date +%s)
if [ "$MODE" = short ]; then LIFE=300 BUDGET=100; else LIFE=1500 BUDGET=1080; fi
[ -n "$RUNS" ] && LIFE=3000

# ---- build: the normal tree (test server) and the ASan+UBSan acrawl ----
SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
echo "stress: building (make all, build/asan/acrawl, certificates)"
if ! { make -s -j2 all && make -s -j2 BUILD=build/asan OPT="-O1 -g" SANFLAGS="$SANFLAGS" build/asan/acrawl &&
       make -s build/certs/done; } >/tmp/stress-build.$$ 2>&1; then
  cat /tmp/stress-build.$$; rm -f /tmp/stress-build.$$
  echo "stress: build failed" >&2
  exit 2
fi
rm -f /tmp/stress-build.$$
ACRAWL=$ROOT/build/asan/acrawl
if ! grep -q __asan_init "$ACRAWL"; then
  echo "stress: $ACRAWL is not the ASan build" >&2
  exit 2
fi
SERVER=$ROOT/build/acrawl-testserver
CERTS=$ROOT/build/certs
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=86:handle_abort=1:abort_on_error=0:print_summary=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
export LSAN_OPTIONS=exitcode=86

# The WARC scenarios read the archives back with tests/warc/check_warc.mjs (warcio.js).
for s in "${SELECTED[@]}"; do
  case $s in warc-cancel | state-kill)
    if ! command -v node >/dev/null || ! [ -d "$ROOT/tests/warc/node_modules/warcio" ]; then
      echo "stress: scenario $s needs node and tests/warc/node_modules (scripts/deps.sh)" >&2
      exit 2
    fi ;;
  esac
done

# ---- servers on loopback, each with a bounded lifetime, stopped by PID ----
TMP=$(mktemp -d /tmp/acrawl-stress.XXXXXX)
OUT=$ROOT/build/stress/seed-$SEED
mkdir -p "$OUT"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
  rmdir "$OUT" "$ROOT/build/stress" 2>/dev/null
}
trap cleanup EXIT
trap 'echo "stress: interrupted" >&2; exit 130' INT TERM

# start NAME CMD...: runs CMD under `timeout`, waits for its first line of output and
# leaves it in LINE (no command substitution: the PID must reach this shell's PIDS).
LINE=
start() {
  local name=$1
  shift
  timeout -k 5 "$LIFE" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
  PIDS+=($!)
  for _ in $(seq 100); do
    [ -s "$TMP/$name.out" ] && break
    sleep 0.05
  done
  if ! [ -s "$TMP/$name.out" ]; then
    echo "stress: $name did not start:" >&2
    cat "$TMP/$name.err" >&2
    exit 2
  fi
  read -r LINE <"$TMP/$name.out"
}

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

start_nginx() {
  local dir=$TMP/nginx port
  port=$(free_port)
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8000; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port backlog=4096;
    location = /ok { return 200 "ok"; }
    location = /delay { echo_sleep \$arg_s; echo ok; }
  }
}
CONF
  timeout -k 5 "$LIFE" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" -g 'daemon off;' \
    >"$TMP/nginx.err" 2>&1 </dev/null &
  PIDS+=($!)
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/ok" && break
    sleep 0.05
  done
  NGINX=127.0.0.1:$port
}

start testserver "$SERVER" --max-seconds "$LIFE" --tls "$CERTS/good.pem" "$CERTS/good.key"
HTTP=127.0.0.1:$(sed 's/.*http=\([0-9]*\).*/\1/' <<<"$LINE")
HTTPS=127.0.0.1:$(sed 's/.*https=\([0-9]*\).*/\1/' <<<"$LINE")
start_nginx
start dns-never python3 "$HERE/dnsserver.py" --mode never --max-seconds "$LIFE"
DNS_never=$LINE
start dns-late python3 "$HERE/dnsserver.py" --mode late --min 0.3 --max 3 --max-seconds "$LIFE"
DNS_late=$LINE
start dns-mixed python3 "$HERE/dnsserver.py" --mode mixed --min 0.3 --max 3 --max-seconds "$LIFE"
DNS_mixed=$LINE
start hold python3 "$HERE/holdserver.py" --mode backlog --max-seconds "$LIFE"
HOLD=127.0.0.1:$LINE
start silent python3 "$HERE/holdserver.py" --mode silent --max-seconds "$LIFE"
SILENT=127.0.0.1:$LINE
if ! curl -s -o /dev/null "http://$HTTP/ok" || ! curl -s -o /dev/null "http://$NGINX/ok"; then
  echo "stress: a server did not come up" >&2
  exit 2
fi
echo "stress: servers: test server $HTTP (TLS $HTTPS), nginx $NGINX, DNS never/late/mixed" \
  "$DNS_never/$DNS_late/$DNS_mixed, full backlog $HOLD, silent $SILENT"

# ---- random choices (bash's RANDOM, reseeded per run: the seed repeats a run) ----
R=
rnd() { R=$(( (RANDOM << 15 | RANDOM) % ($2 - $1 + 1) + $1 )); } # R in [LO, HI]
pick() { shift $(( RANDOM % $# )); R=$1; }
secs() { printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); } # ms -> "S.mmm"

# list KIND N: a list generated once per session (fixed seed), path in L.
L=
list() {
  L=$TMP/lists/$1-$2.txt
  if ! [ -f "$L" ]; then
    mkdir -p "$TMP/lists"
    python3 "$HERE/genlist.py" "$1" "$2" 7 http="$HTTP" https="$HTTPS" nginx="$NGINX" hold="$HOLD" \
      silent="$SILENT" port="${HTTP#*:}" >"$L.tmp" && mv "$L.tmp" "$L"
  fi
}

# ---- scenarios: each sets LIST, ARGS, EXPECT and optionally SIG1, SIG2, KINDS, MINOK,
# WARC (the --warc file, checked), or STATE=1 (runstate.py: GRAPH, KILLS, STOP); DIR is
# the run's directory ----
BIG=1000000
maybe_ordered() { if (( RANDOM % 4 == 0 )); then ARGS+=(--ordered); fi; }

sc_first() {
  if [ "$MODE" = full ]; then pick 1000 10000 100000; else pick 1000 2000 10000; fi
  list delay "$R"; LIST=$L
  rnd 1 50; local n=$R
  pick 10 50 200 1000 2000
  ARGS=(--first "$n" -c "$R" --cacert "$CERTS/ca.pem"); maybe_ordered
  EXPECT=0 MINOK=$n
}
sc_deadline-fast() {
  list fast $BIG; LIST=$L
  rnd 200 3000; local d; d=$(secs "$R")
  pick 10 50 200 1000
  ARGS=(--deadline "$d" -c "$R"); maybe_ordered
  EXPECT=124 WATCHDOG=90
}
sc_deadline-slow() {
  if [ "$MODE" = full ]; then pick 20000 100000; else R=20000; fi
  list slow "$R"; LIST=$L
  rnd 300 4000; local d; d=$(secs "$R")
  pick 50 500 2000
  ARGS=(--deadline "$d" -c "$R" --cacert "$CERTS/ca.pem"); maybe_ordered
  EXPECT=124,1 # 1: every URL came back before the deadline (the list has bad-url lines)
}
sigint_list() {
  if [ "$MODE" = full ]; then pick fast-$BIG delay-100000 slow-20000; else pick fast-200000 delay-10000 slow-2000; fi
  list "${R%-*}" "${R#*-}"; LIST=$L
}
sc_sigint() {
  sigint_list
  pick 10 50 200 1000 2000
  ARGS=(-c "$R" --cacert "$CERTS/ca.pem"); maybe_ordered
  rnd 20 3000; SIG1=$R
  EXPECT=130 WATCHDOG=90
}
sc_sigint2() {
  sc_sigint
  rnd 0 500; SIG2=$R
  EXPECT=sig2,130 SUBSET=1
}
sc_t-dns() {
  pick 50 200 1000 2000; local c=$R
  rnd 50 $(( c * 2 )); list dns "$R"; LIST=$L
  pick "$DNS_never" "$DNS_late" "$DNS_mixed"; local dns=$R
  rnd 200 2000; local t; t=$(secs "$R")
  ARGS=(--dns-servers "127.0.0.1:$dns" -t "$t" -c "$c")
  EXPECT=0,1 KINDS=timeout,dns,bad-url,cancelled
  if (( RANDOM % 3 == 0 )); then rnd 300 3000; ARGS+=(--deadline "$(secs "$R")"); EXPECT=0,1,124; fi
}
# t_phase KIND: -t somewhere in 0.2-1.5 s against peers that stall in that phase.
t_phase() {
  pick 100 500 1000 2000; local c=$R
  rnd 50 $(( c * 2 )); list "$1" "$R"; LIST=$L
  rnd 200 1500; local t; t=$(secs "$R")
  ARGS=(-t "$t" -c "$c" --cacert "$CERTS/ca.pem")
  EXPECT=1 KINDS=timeout,bad-url,cancelled
  if (( RANDOM % 3 == 0 )); then rnd 100 2500; ARGS+=(--deadline "$(secs "$R")"); EXPECT=1,124; fi
}
sc_t-connect() { t_phase connect; KINDS+=,connect; }
sc_t-tls() { t_phase tls; KINDS+=,tls-handshake; }
sc_t-headers() { t_phase headers; }
sc_t-body() { t_phase body; }
sc_t-mixed() { t_phase phases; KINDS+=,connect,tls-handshake; }
sc_retry() {
  pick 200 2000; list retry "$R"; LIST=$L
  rnd 1 6; local n=$R
  pick 10 100 500
  ARGS=(--retry "$n" -c "$R")
  if (( RANDOM % 2 )); then
    rnd 300 4000; ARGS+=(--deadline "$(secs "$R")"); EXPECT=124,1
  else
    rnd 100 4000; SIG1=$R EXPECT=130
  fi
}
sc_curl-first() {
  pick 1000 10000; list delay "$R"; LIST=$L
  rnd 1 50; local n=$R
  pick 10 50 200 500
  ARGS=(--engine curl --first "$n" -c "$R" --cacert "$CERTS/ca.pem")
  EXPECT=0 MINOK=$n
}
curl_list() {
  if [ "$MODE" = full ]; then pick delay-10000 fast-100000; else pick delay-10000 fast-20000; fi
}
sc_curl-deadline() {
  curl_list; list "${R%-*}" "${R#*-}"; LIST=$L
  rnd 200 3000; local d; d=$(secs "$R")
  pick 10 50 200 500
  ARGS=(--engine curl --deadline "$d" -c "$R" --cacert "$CERTS/ca.pem")
  EXPECT=124,1 # 1: every URL came back before the deadline (the list has bad-url lines)
}
sc_curl-sigint() {
  curl_list; list "${R%-*}" "${R#*-}"; LIST=$L
  pick 10 50 200 500
  ARGS=(--engine curl -c "$R" --cacert "$CERTS/ca.pem")
  rnd 20 3000; SIG1=$R EXPECT=130
  if (( RANDOM % 2 )); then rnd 0 500; SIG2=$R EXPECT=sig2,130 SUBSET=1; fi
}

sc_crawl() {
  LIST=$OUT/crawl-seeds.txt
  printf '%s\n' "http://$HTTP/site/graph/20000/0" "# a comment" "http://$HTTP/site/graph/5000/7" >"$LIST"
  pick 10 50 200 1000
  ARGS=(--crawl -l inf --page-requisites -c "$R")
  if (( RANDOM % 2 )); then
    rnd 200 3000; ARGS+=(--deadline "$(secs "$R")"); EXPECT=124,0
  else
    rnd 20 2500; SIG1=$R EXPECT=130,0
  fi
  CRAWL=1 WATCHDOG=90
}

sc_warc-cancel() {
  if [ "$MODE" = full ]; then pick delay-10000 delay-100000 fast-100000; else pick delay-10000 fast-20000; fi
  list "${R%-*}" "${R#*-}"; LIST=$L
  pick 10 50 200 1000
  WARC=$DIR/w.warc.gz
  ARGS=(-c "$R" --cacert "$CERTS/ca.pem" --warc "$WARC")
  if (( RANDOM % 3 == 0 )); then rnd 64 1024; ARGS+=(--warc-max-size "${R}k"); fi
  maybe_ordered
  local cut=3000 # ms; --short: 2000, the archive read back in about 2 s at most
  [ "$MODE" = full ] || cut=2000
  case $(( RANDOM % 3 )) in
  0) rnd 1 50; ARGS+=(--first "$R"); EXPECT=0 MINOK=$R ;;
  1) rnd 200 $cut; ARGS+=(--deadline "$(secs "$R")"); EXPECT=124,1 ;; # 1: all done first (bad-url lines)
  *) rnd 20 $cut; SIG1=$R EXPECT=130 ;;
  esac
  WATCHDOG=90
}
sc_redis-chaos() {
  if [ "$MODE" = full ]; then rnd 2000 4000; else rnd 2000 2000; fi
  GRAPH=$R
  rnd 2 5; KILLS=$R
  ARGS=(--crawl -l inf --per-host 4) # a crawl of some seconds, for the events to land in
  REDIS=1 WATCHDOG=150
}
sc_state-kill() {
  if [ "$MODE" = full ]; then rnd 2000 5000; else rnd 2000 2200; fi
  GRAPH=$R
  LIST=$TMP/state-seeds-$GRAPH.txt # copied into the run's directory on a failure
  printf '%s\n' "# a graph of $GRAPH pages" "http://$HTTP/site/graph/$GRAPH/0" >"$LIST"
  WARC=$DIR/w.warc.gz
  ARGS=(--crawl -l inf --state "$DIR/st" --warc "$WARC")
  if (( RANDOM % 3 == 0 )); then rnd 64 1024; ARGS+=(--warc-max-size "${R}k"); fi
  rnd 3 8; KILLS=$R
  case $(( RANDOM % 4 )) in
  0) STOP=sigint ;;
  1) STOP=deadline ;;
  esac
  STATE=1 WATCHDOG=120
}

# ---- running ----
declare -A NRUN NFAIL SECS
FAILS=()
run_one() { # SCENARIO SEED
  local sc=$1 seed=$2 out
  RANDOM=$seed
  LIST= ARGS=() EXPECT= SIG1= SIG2= KINDS= MINOK= SUBSET= CRAWL= WATCHDOG=40
  WARC= STATE= REDIS= GRAPH= KILLS= STOP= DIR=$OUT/$sc-$seed
  "sc_$sc"
  local opt=()
  [ -n "$SIG1" ] && opt+=(--sigint "$SIG1")
  [ -n "$SIG2" ] && opt+=(--sigint2 "$SIG2")
  [ -n "$KINDS" ] && opt+=(--kinds "$KINDS")
  [ -n "$MINOK" ] && opt+=(--min-ok "$MINOK")
  [ -n "$SUBSET" ] && opt+=(--subset)
  [ -n "$CRAWL" ] && opt+=(--crawl)
  [ -n "$WARC" ] && opt+=(--warc "$WARC")
  if [ -n "$REDIS" ]; then
    out=$(python3 "$HERE/runredis.py" --label "$sc seed=$seed" --dir "$DIR" --base "http://$HTTP" --graph "$GRAPH" \
      --events "$KILLS" --seed "$seed" --watchdog "$WATCHDOG" -- "$ACRAWL" "${ARGS[@]}")
  elif [ -n "$STATE" ]; then
    [ -n "$STOP" ] && opt+=(--stop "$STOP")
    out=$(python3 "$HERE/runstate.py" --label "$sc seed=$seed" --dir "$DIR" --list "$LIST" --graph "$GRAPH" \
      --kills "$KILLS" --seed "$seed" --watchdog "$WATCHDOG" "${opt[@]}" -- \
      "$ACRAWL" -j --no-progress "${ARGS[@]}" "$LIST")
  else
    out=$(python3 "$HERE/runone.py" --label "$sc seed=$seed" --dir "$DIR" --list "$LIST" \
      --expect "$EXPECT" --watchdog "$WATCHDOG" "${opt[@]}" -- "$ACRAWL" -j --no-progress "${ARGS[@]}" "$LIST")
  fi
  local rc=$?
  NRUN[$sc]=$(( ${NRUN[$sc]:-0} + 1 ))
  if [ $rc -ne 0 ]; then
    NFAIL[$sc]=$(( ${NFAIL[$sc]:-0} + 1 ))
    printf '%s\n' "$out"
    [ -n "$SIG1" ] && echo "  signals: ^C ${SIG1} ms after the handler was in place${SIG2:+, again ${SIG2} ms later}"
    echo "  repeat: tests/stress/run.sh --scenario $sc --seed $seed --runs 1"
    if [ -n "$LIST" ] && [ "$(stat -c %s "$LIST")" -lt 5000000 ]; then cp "$LIST" "$OUT/$sc-$seed/list"; fi
    FAILS+=("$sc seed=$seed: $(sed -n 's/^  why: //p' <<<"$out" | head -1)")
  else
    printf '%s\n' "$out"
  fi
}

echo "stress: mode $MODE, seed $SEED, scenarios: ${SELECTED[*]}"
left=${#SELECTED[@]}
used=0
for sc in "${SELECTED[@]}"; do
  t0=$(date +%s)
  i=0
  if [ -n "$RUNS" ]; then
    for ((i = 0; i < RUNS; i++)); do run_one "$sc" $((SEED + i)); done
  elif [ "$MODE" = short ]; then
    for ((i = 0; i < ${SHORT_RUNS[$sc]}; i++)); do
      if (( i > 0 && $(date +%s) - START > BUDGET )); then
        echo "stress: $sc: out of time after $i runs"
        break
      fi
      run_one "$sc" $((SEED + i))
    done
  else
    share=$(( (BUDGET - used) / left ))
    while :; do
      run_one "$sc" $((SEED + i))
      i=$((i + 1))
      (( $(date +%s) - t0 >= share )) && break
    done
  fi
  SECS[$sc]=$(( $(date +%s) - t0 ))
  used=$(( used + SECS[$sc] ))
  left=$(( left - 1 ))
done

echo
echo "stress summary (mode $MODE, seed $SEED, $(( $(date +%s) - START )) s):"
printf '  %-14s %5s %5s %6s\n' scenario runs fails secs
total=0 failed=0
for sc in "${SELECTED[@]}"; do
  printf '  %-14s %5d %5d %6d\n' "$sc" "${NRUN[$sc]:-0}" "${NFAIL[$sc]:-0}" "${SECS[$sc]:-0}"
  total=$(( total + ${NRUN[$sc]:-0} )) failed=$(( failed + ${NFAIL[$sc]:-0} ))
done
printf '  %-14s %5d %5d\n' total "$total" "$failed"
if [ "$failed" -gt 0 ]; then
  echo "failures (outputs kept under $OUT):"
  printf '  %s\n' "${FAILS[@]}"
  echo "distinct reasons (count, first seed):"
  printf '%s\n' "${FAILS[@]}" | awk '{ why = $0; sub(/^[^:]*: /, "", why); n[why]++;
    if (!(why in first)) { first[why] = $1 " " $2; sub(/:$/, "", first[why]); order[++k] = why } }
    END { for (i = 1; i <= k; i++) printf "  %4d  %s  (%s)\n", n[order[i]], order[i], first[order[i]] }'
  exit 1
fi
echo "stress: PASS"
