#!/usr/bin/env bats
# A crawl shared by several workers through Redis (issue 11): a real redis-server on a
# free loopback port per test (AOF on, its own directory, stopped by PID), workers
# on the test server's graph spread over several origins (one test server each), and
# the chaos cases: kill -9, a restarted Redis, a paused worker, poison, politeness.

load helpers

setup() {
  cd "$BATS_TEST_TMPDIR" || return 1
  start_redis
}

teardown() {
  for p in $(cat workers.pids 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  stop_redis
  stop_extras
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# redis-server on a free port, AOF on (appendfsync always: a restart loses nothing)
start_redis() {
  RPORT=$(free_port)
  mkdir -p redis
  # timeout: a test that dies leaves no server behind for long (it passes SIGTERM on)
  timeout 600 redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$BATS_TEST_TMPDIR/redis" --save '' \
    --appendonly yes --appendfsync always --daemonize no --logfile "$BATS_TEST_TMPDIR/redis/log" &
  echo $! >redis.pid
  for _ in $(seq 100); do
    redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  REDIS="redis://127.0.0.1:$RPORT"
}

stop_redis() {
  [ -f redis.pid ] || return 0
  local pid
  pid=$(cat redis.pid)
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f redis.pid
}

# worker NAME ARGS...: a worker in the background, records in NAME.json
worker() {
  local name=$1
  shift
  "$ACRAWL" --crawl -l inf -j -q --redis "$REDIS" --job t --redis-records "$@" >"$name.json" 2>"$name.err" &
  echo $! >>workers.pids
  eval "PID_$name=$!"
}

# waits for every worker; their exit statuses in statuses.txt
wait_workers() {
  : >statuses.txt
  for p in $(cat workers.pids); do
    local rc=0
    wait "$p" || rc=$?
    echo "$rc" >>statuses.txt
  done
  rm -f workers.pids
}

# origins: N test servers, their base URLs in O1..ON
origins() {
  for i in $(seq "$1"); do
    start_extra
    eval "O$i=$EXTRA"
  done
}

# expected records of a graph of n pages on each origin given, as full URLs
expect_set() {
  local n=$1
  shift
  for o in "$@"; do graph_set "$n" | sed "s|^|$o|"; done | sort
}

# the records' URLs, sorted; a killed worker's torn last line is not a record
urls() { cat "$@" | python3 -c 'import json, sys
for l in sys.stdin:
    if l.endswith("}\n"): print(json.loads(l)["url"])' | sort; }

@test "three workers share one crawl: every page once across them, and --collect and --status agree" {
  origins 8
  # --wait: a crawl of about 4 s, long enough for the workers' heartbeats (1 s apart)
  # to share the shards out: the first worker takes them all while it is alone
  worker w1 --wait 0.05 "$O1/site/graph/15/0" "$O2/site/graph/15/0" "$O3/site/graph/15/0"
  worker w2 --wait 0.05 "$O4/site/graph/15/0" "$O1/site/graph/15/0" "$O5/site/graph/15/0"
  worker w3 --wait 0.05 "$O6/site/graph/15/0" "$O7/site/graph/15/0" "$O8/site/graph/15/0"
  wait_workers
  assert_equal "$(sort -u statuses.txt)" 0
  cat w1.json w2.json w3.json >all.json
  each_once all.json
  assert_equal "$(urls all.json)" "$(expect_set 15 "$O1" "$O2" "$O3" "$O4" "$O5" "$O6" "$O7" "$O8")"
  # more than one worker fetched pages: the origins were shared out (rendezvous
  # hashing gives all eight origins' shards to one of three workers once in 2187)
  local busy=0
  for w in w1 w2 w3; do [ -s $w.json ] && busy=$((busy + 1)); done
  [ "$busy" -ge 2 ] || { echo "only $busy worker(s) fetched"; false; }
  run bash -c "'$ACRAWL' --redis '$REDIS' --job t --collect >collect.json"
  assert_success
  each_once collect.json
  assert_equal "$(urls collect.json)" "$(expect_set 15 "$O1" "$O2" "$O3" "$O4" "$O5" "$O6" "$O7" "$O8")"
  run "$ACRAWL" --redis "$REDIS" --job t --status -j
  assert_success
  python3 -c 'import json, sys; s = json.loads(sys.argv[1]); assert s["done"] + s["failed"] == 720 and s["queued"] == 0, s' "$output"
}

@test "a worker with other shaping options is refused, naming the difference; seeds may differ" {
  origins 1
  run "$ACRAWL" --crawl -l 1 -q --redis "$REDIS" --job t "$O1/site/graph/3/0"
  assert_success
  run "$ACRAWL" --crawl -l 2 -q --redis "$REDIS" --job t "$O1/site/graph/3/0"
  assert_failure 2
  assert_output --partial "level"
  run "$ACRAWL" --crawl -l 1 -q --redis "$REDIS" --job t "$O1/site/graph/5/0"
  assert_success
}

@test "kill -9 of a worker at seeded points loses nothing: the others take its pages over" {
  origins 3
  RANDOM=11
  for round in 1 2 3; do
    stop_redis
    rm -rf redis
    start_redis
    worker a --wait 0.02 --redis-claim-idle 1 "$O1/site/graph/60/0" "$O2/site/graph/60/0" "$O3/site/graph/60/0"
    worker b --wait 0.02 --redis-claim-idle 1
    worker c --wait 0.02 --redis-claim-idle 1
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$PID_b"
    if [ "$round" = 2 ]; then worker b2 --wait 0.02 --redis-claim-idle 1; fi
    wait_workers
    run bash -c "'$ACRAWL' --redis '$REDIS' --job t --collect >collect.json"
    assert_success
    each_once collect.json
    assert_equal "$(urls collect.json)" "$(expect_set 60 "$O1" "$O2" "$O3")"
    # stdout: every page somewhere (the killed worker may have printed one it never acked)
    cat a.json b.json c.json $([ -f b2.json ] && echo b2.json) >union.out
    assert_equal "$(urls union.out | sort -u)" "$(expect_set 60 "$O1" "$O2" "$O3")"
    rm -f ./*.json union.out
  done
  # the killed worker is summed up as gone, not listed with the ones alive
  run "$ACRAWL" --redis "$REDIS" --job t --status
  assert_success
  assert_output --partial "workers: 0 alive"
  assert_output --regexp "1 gone without leaving \(the last heard of [0-9.]+ s ago"
}

@test "redis-server restarted mid-crawl (AOF): the workers reconnect and finish, nothing lost" {
  origins 2
  worker a --wait 0.02 "$O1/site/graph/80/0"
  worker b --wait 0.02 "$O2/site/graph/80/0"
  sleep 1
  local rpid
  rpid=$(cat redis.pid)
  kill "$rpid"
  while kill -0 "$rpid" 2>/dev/null; do sleep 0.05; done
  sleep 0.5
  timeout 600 redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$BATS_TEST_TMPDIR/redis" --save '' \
    --appendonly yes --appendfsync always --daemonize no --logfile "$BATS_TEST_TMPDIR/redis/log2" &
  echo $! >redis.pid
  wait_workers
  assert_equal "$(sort -u statuses.txt)" 0
  run bash -c "'$ACRAWL' --redis '$REDIS' --job t --collect >collect.json"
  assert_success
  each_once collect.json
  assert_equal "$(urls collect.json)" "$(expect_set 80 "$O1" "$O2")"
}

@test "a worker paused past --redis-claim-idle loses its pages; its late results make no duplicates" {
  origins 2
  worker a --wait 0.05 --redis-claim-idle 1 "$O1/site/graph/40/0" "$O2/site/graph/40/0"
  sleep 0.7
  kill -STOP "$PID_a"
  worker b --wait 0.05 --redis-claim-idle 1
  sleep 3
  kill -CONT "$PID_a"
  wait_workers
  cat a.json b.json >all.json
  each_once all.json
  run bash -c "'$ACRAWL' --redis '$REDIS' --job t --collect >collect.json"
  each_once collect.json
  assert_equal "$(urls collect.json)" "$(expect_set 40 "$O1" "$O2")"
  assert_equal "$(urls all.json)" "$(expect_set 40 "$O1" "$O2")"
  [ -s b.json ] || { echo "b took nothing over"; false; }
}

@test "politeness holds across workers: --wait between any two requests to one origin" {
  start_extra
  worker a --wait 0.2 "$EXTRA/site/graph/6/0"
  worker b --wait 0.2 "$EXTRA/site/graph/6/0"
  worker c --wait 0.2
  wait_workers
  run python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["requests"], s["min_gap_ms"] >= 200)' \
    < <(curl -s "$EXTRA/site-stats")
  assert_output "37 True"
}

@test "politeness holds when origins change hands: workers joining and leaving mid-crawl keep --wait on every origin" {
  origins 4
  worker a --wait 0.2 "$O1/site/graph/6/0" "$O2/site/graph/6/0" "$O3/site/graph/6/0" "$O4/site/graph/6/0"
  sleep 1
  worker b --wait 0.2 # takes half of a's origins over while a is fetching them
  sleep 1
  worker c --wait 0.2 # may take some over (4 busy origins, 2 at most each), then leaves (^C)
  sleep 1.5
  kill -INT "$PID_c"
  wait_workers
  assert_equal "$(tr '\n' ' ' <statuses.txt)" "0 0 130 "
  local i moved=0
  for i in 1 2 3 4; do
    eval "o=\$O$i"
    # 37 requests, more if c's ^C cut some short (fetched again by another worker)
    run python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["requests"] >= 37, s["min_gap_ms"] >= 200)' \
      < <(curl -s "$o/site-stats")
    assert_output "True True"
  done
  # the handovers happened: origins were fetched by more than one worker
  moved=$(python3 -c 'import json, sys, collections
by = collections.defaultdict(set)
for w in "abc":
    for l in open(w + ".json"):
        r = json.loads(l); by[r["url"].split("/site/")[0]].add(w)
print(sum(len(v) > 1 for v in by.values()))')
  [ "$moved" -ge 2 ]
}

@test "a page whose worker dies each time is recorded once as poison" {
  origins 1
  worker a --redis-claim-idle 1 --redis-max-deliveries 1 -l 0 "$O1/delay/8000?p=1" "$O1/delay/8000?p=2"
  sleep 1
  kill -9 "$PID_a"
  wait_workers
  worker b --redis-claim-idle 1 --redis-max-deliveries 1 -l 0
  wait_workers
  run python3 -c 'import json, sys
rs = [json.loads(l) for l in open("b.json")]
print(len(rs), sorted(r["error"]["kind"] for r in rs))'
  assert_output "2 ['poison', 'poison']"
  run "$ACRAWL" --redis "$REDIS" --job t --status -j
  python3 -c 'import json, sys; s = json.loads(sys.argv[1]); assert s["poison"] == 2 and s["queued"] == 0, s' "$output"
}

@test "--drain stops the workers after their pages in flight; workers started later go on at once" {
  origins 1
  worker a --wait 0.05 "$O1/site/graph/40/0"
  sleep 1
  run "$ACRAWL" --redis "$REDIS" --job t --drain
  assert_success
  wait_workers
  assert_equal "$(cat statuses.txt)" 0
  run "$ACRAWL" --redis "$REDIS" --job t --status -j
  python3 -c 'import json, sys; s = json.loads(sys.argv[1]); assert s["queued"] > 0, s' "$output"
  # the drained worker handed its pages back: a new worker (default --redis-claim-idle,
  # 30 s) takes them without waiting for it, and the drain does not stop it
  local t0
  t0=$(now_ms)
  worker b --wait 0.05
  wait_workers
  assert_equal "$(cat statuses.txt)" 0
  [ $(($(now_ms) - t0)) -lt 25000 ] || { echo "took $(($(now_ms) - t0)) ms"; false; }
  run bash -c "'$ACRAWL' --redis '$REDIS' --job t --collect >collect.json"
  each_once collect.json
  assert_equal "$(urls collect.json)" "$(expect_set 40 "$O1")"
  run "$ACRAWL" --redis "$REDIS" --job t --status -j
  python3 -c 'import json, sys; s = json.loads(sys.argv[1]); assert s["queued"] == 0 and s["reclaimed"] == 0, s' "$output"
}

@test "Redis unreachable: a clear error and exit 1 after --redis-timeout; bad flags are usage errors" {
  local dead
  dead=$(free_port)
  run "$ACRAWL" --crawl -q --redis "redis://127.0.0.1:$dead" --job t --redis-timeout 1 "http://127.0.0.1:1/"
  assert_failure 1
  assert_output --partial "127.0.0.1:$dead"
  # ^C while still trying to join: exit 130 at once, not after --redis-timeout
  "$ACRAWL" --crawl -q --redis "redis://127.0.0.1:$dead" --job t --redis-timeout 30 "http://127.0.0.1:1/" 2>int.err &
  local ipid=$! t0 rc=0
  sleep 1
  t0=$(now_ms)
  kill -INT "$ipid"
  wait "$ipid" || rc=$?
  assert_equal "$rc" 130
  [ $(($(now_ms) - t0)) -lt 3000 ]
  run "$ACRAWL" --crawl --redis "$REDIS" http://x/
  assert_failure 2
  assert_output --partial "--job"
  run "$ACRAWL" --crawl --redis "$REDIS" --job 'bad name' http://x/
  assert_failure 2
  run "$ACRAWL" --redis "$REDIS" --job t --status --collect
  assert_failure 2
  run "$ACRAWL" --crawl --redis "$REDIS" --job t --state d http://x/
  assert_failure 2
  # a wrong password: refused at once, exit 2, Redis's words in the message
  local pport
  pport=$(free_port)
  timeout 60 redis-server --port "$pport" --bind 127.0.0.1 --dir "$BATS_TEST_TMPDIR" --save '' --appendonly no \
    --requirepass right --daemonize no --logfile "$BATS_TEST_TMPDIR/pw.log" &
  local ppid=$!
  for _ in $(seq 100); do redis-cli -p "$pport" ping >/dev/null 2>&1 && break; sleep 0.05; done
  run "$ACRAWL" --crawl -q --redis "redis://:wrong@127.0.0.1:$pport" --job t --redis-timeout 5 http://x/
  kill "$ppid"
  assert_failure 2
  assert_output --partial "127.0.0.1:$pport"
  assert_output --partial "WRONGPASS"
}

@test "--max-pages is the job's: all workers together fetch that many pages, and nothing turns into poison" {
  origins 2
  worker a --max-pages 25 --redis-claim-idle 1 --wait 0.01 "$O1/site/graph/40/0" "$O2/site/graph/40/0"
  worker b --max-pages 25 --redis-claim-idle 1 --wait 0.01
  worker c --max-pages 25 --redis-claim-idle 1 --wait 0.01
  wait_workers
  assert_equal "$(sort -u statuses.txt)" 0
  cat a.json b.json c.json >all.json
  each_once all.json
  assert_equal "$(wc -l <all.json)" 25
  run "$ACRAWL" --redis "$REDIS" --job t --status -j
  python3 -c 'import json, sys; s = json.loads(sys.argv[1]); assert s["poison"] == 0 and s["done"] == 25 and s["queued"] > 0, s' "$output"
  # the job's pages are spent: a worker started now fetches none and gives back what it took
  worker d --max-pages 25 --redis-claim-idle 1 --wait 0.01
  wait_workers
  assert_equal "$(cat statuses.txt)" 0
  assert_equal "$(wc -l <d.json)" 0
  run bash -c "'$ACRAWL' --redis '$REDIS' --job t --collect >collect.json"
  each_once collect.json
  assert_equal "$(wc -l <collect.json)" 25
  run grep -c poison collect.json
  assert_output 0
}

@test "--max-host-pages is the job's: the workers together queue that many URLs of a host" {
  origins 2
  worker a --max-host-pages 30 --wait 0.01 "$O1/site/graph/60/0" "$O2/site/graph/60/0"
  worker b --max-host-pages 30 --wait 0.01
  worker c --max-host-pages 30 --wait 0.01
  wait_workers
  assert_equal "$(sort -u statuses.txt)" 0
  run bash -c "'$ACRAWL' --redis '$REDIS' --job t --collect >collect.json"
  each_once collect.json
  # both origins are on one host (127.0.0.1): 30 pages in all, robots.txt aside
  assert_equal "$(urls collect.json | grep -vc robots.txt)" 30
}

@test "--warc with --redis: each worker archives what it fetched, and together every page once" {
  origins 4
  worker a --wait 0.02 --warc a.warc.gz "$O1/site/graph/10/0" "$O2/site/graph/10/0" "$O3/site/graph/10/0" \
    "$O4/site/graph/10/0"
  worker b --wait 0.02 --warc b.warc.gz
  wait_workers
  assert_equal "$(sort -u statuses.txt)" 0
  cat a.json b.json >all.json
  each_once all.json
  assert_equal "$(urls all.json)" "$(expect_set 10 "$O1" "$O2" "$O3" "$O4")"
  # valid archives (warcio.js), whose responses are the worker's records and robots.txt
  for w in a b; do
    node "$ROOT/tests/warc/check_warc.mjs" $w.warc.gz >$w.check
    python3 - $w <<'PY'
import json, sys
w = sys.argv[1]
j = json.load(open(w + ".check"))
assert j["ok"], j
recs = {json.loads(l)["url"] for l in open(w + ".json")}
got = {u for u in j["responses"] if not u.endswith("/robots.txt")}
assert got == recs, (len(got), len(recs), sorted(got ^ recs)[:3])
PY
  done
}
