#!/usr/bin/env bats
# --state DIR (issue 10): a crawl that survives kill -9 anywhere, a full disk and a
# stop, and resumes without fetching or recording a page twice or losing one; the
# WARC output continues in its files, valid after every crash.

load helpers

# The full-disk test's tmpfs goes even when the test fails.
teardown() {
  umount "$BATS_TEST_TMPDIR/disk" 2>/dev/null || true
  stop_extras
}

N=1500 # graph pages: 6 URLs each, 9000 records in all

# The crawl every run of a test repeats; extra flags in "$@". crawl_bg runs it in the
# background with $! its own pid (a simple command: no subshell between).
crawl() {
  "$ACRAWL" --crawl -l inf -j -q -c 8 --state st "$@" "$BASE/site/graph/$N/0" >>out.json 2>>err.txt
}
crawl_bg() {
  "$ACRAWL" --crawl -l inf -j -q -c 8 --state st "$@" "$BASE/site/graph/$N/0" >>out.json 2>>err.txt &
}

# Delays before each kill -9, in seconds: a fixed seed, so a failure can be replayed.
kill_points() {
  python3 -c "
import random
r = random.Random($1)
print(' '.join('%.3f' % r.choice([r.uniform(0.005, 0.05), r.uniform(0.05, 0.4)]) for _ in range($2)))"
}

# Runs crawl under kill -9 after each delay; the last run goes to the end.
crash_and_resume() {
  local seed=$1 n=$2
  shift 2
  for d in $(kill_points "$seed" "$n"); do
    crawl_bg "$@"
    local pid=$!
    sleep "$d"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  crawl "$@"
}

# Every WARC file is valid to an independent reader (tests/warc: warcio.js).
warc_valid() {
  node "$ROOT/tests/warc/check_warc.mjs" "$@" >warc.json
}

@test "kill -9 at 24 points: every page of the graph recorded exactly once, WARC valid" {
  run crash_and_resume 7 24 --wait 0.0003 --warc crawl.warc.gz
  assert_success
  each_once
  assert_equal "$(paths)" "$(graph_set $N)"
  grep -q "resuming after" err.txt
  run warc_valid crawl.warc.gz
  assert_success
  # every page recorded has its response in the archive, once
  run python3 -c '
import json
recs = {json.loads(l)["url"] for l in open("out.json")}
w = json.load(open("warc.json"))
resp = w["responses"]
missing = [u for u in recs if u not in resp]
dup = [u for u, r in resp.items() if r["count"] > 1 and "robots.txt" not in u]
print(len(recs), len(resp), missing[:3], dup[:3])
assert not missing and not dup'
  assert_success
}

@test "kill -9 while WARC files rotate: records exact, every file whole and valid" {
  run crash_and_resume 11 20 --wait 0.0003 --warc rot.warc.gz --warc-max-size 8k
  assert_success
  each_once
  assert_equal "$(paths)" "$(graph_set $N)"
  ls rot-0*.warc.gz >files.txt
  [ "$(wc -l <files.txt)" -gt 50 ]
  run warc_valid rot-0*.warc.gz
  assert_success
}

@test "kill -9 inside 12 WARC rotations, the new file's warcinfo torn: resumes exact and valid" {
  for n in 1 2 3 5 8 13 1 4 9 2 6 11; do
    local rc=0
    ACRAWL_TEST_KILL_IN_ROTATION=$n crawl --warc torn.warc --warc-max-size 4k || rc=$?
    assert_equal "$rc" 137
  done
  crawl --warc torn.warc --warc-max-size 4k
  each_once
  assert_equal "$(paths)" "$(graph_set $N)"
  run warc_valid torn-0*.warc
  assert_success
}

@test "a finished state resumes to nothing: no fetch, no record, exit 0" {
  N=40
  run crawl
  assert_success
  [ "$(wc -l <out.json)" -eq 240 ]
  server_reset
  run "$ACRAWL" --crawl -l inf -j -c 8 --state st --report json "$BASE/site/graph/$N/0"
  assert_success
  [ "$(wc -l <out.json)" -eq 240 ]
  assert_equal "$(server_peak)" 0
  # the report's totals: this run and all runs on the state
  run python3 -c '
import json, sys
rep = json.loads([l for l in sys.stdin.read().splitlines() if l.startswith("{")][-1])
st = rep["crawl"]["state"]
print(st["runs_before"], st["pages_before"], st["pages_all_runs"], rep["crawl"]["pages"], st["deferred"])' <<<"$output"
  assert_output "1 240 240 0 0"
}

@test "a state made with other crawl options is refused, naming the option" {
  N=10
  run crawl -l 3
  assert_success
  run "$ACRAWL" --crawl -l 5 -q --state st "$BASE/site/graph/$N/0"
  assert_failure 2
  assert_output --partial "level=3"
  assert_output --partial "level=5"
  run "$ACRAWL" --crawl -l 3 -q --state st "$BASE/site/graph/$N/1"
  assert_failure 2
  assert_output --partial "seeds"
  # records in another format would mix two formats in one file
  run "$ACRAWL" --crawl -l 3 -q -c 8 --state st "$BASE/site/graph/$N/0"
  assert_failure 2
  assert_output --partial "format=json"
  # headers are bound whole: two that differ only after 2 000 bytes differ
  local long
  long=$(printf 'a%.0s' $(seq 2000))
  run "$ACRAWL" --crawl -l 0 -q --state hs -H "X-A: ${long}1" "$BASE/site/graph/$N/0"
  assert_success
  run "$ACRAWL" --crawl -l 0 -q --state hs -H "X-A: ${long}2" "$BASE/site/graph/$N/0"
  assert_failure 2
}

@test "two runs on one state at once: the second is refused" {
  N=300
  crawl_bg --wait 0.01
  local pid=$!
  sleep 0.3
  run "$ACRAWL" --crawl -l inf -j -q -c 8 --state st "$BASE/site/graph/$N/0"
  kill -9 "$pid"
  wait "$pid" || true
  assert_failure 2
  assert_output --partial "st"
}

@test "--deadline with --state: the pages cut short are left for the next run, not recorded" {
  N=300
  run crawl --wait 0.001 --deadline 0.5
  assert_failure 124
  run grep -c '"kind":"cancelled"' out.json
  assert_output 0
  run crawl
  assert_success
  each_once
  assert_equal "$(paths)" "$(graph_set $N)"
}

@test "^C with --state: resumable, each page once" {
  N=300
  crawl_bg --wait 0.001
  local pid=$!
  sleep 0.4
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_equal "$rc" 130
  run grep -c '"kind":"cancelled"' out.json
  assert_output 0
  run crawl
  assert_success
  each_once
  assert_equal "$(paths)" "$(graph_set $N)"
}

@test "a full disk: a clear error, exit 1, and the state resumes once there is room" {
  [ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
  mkdir disk
  mount -t tmpfs -o size=400k tmpfs disk || skip "cannot mount a tmpfs here"
  N=600
  local rc=0
  "$ACRAWL" --crawl -l inf -j -q -c 8 --state disk/st --warc disk/w.warc "$BASE/site/graph/$N/0" \
    >>out.json 2>err.txt || rc=$?
  mount -o remount,size=64m disk
  assert_equal "$rc" 1
  grep "No space left on device" err.txt
  rc=0
  "$ACRAWL" --crawl -l inf -j -q -c 8 --state disk/st --warc disk/w.warc "$BASE/site/graph/$N/0" \
    >>out.json 2>err.txt || rc=$?
  assert_equal "$rc" 0
  each_once
  assert_equal "$(paths)" "$(graph_set $N)"
  run warc_valid disk/w.warc
  umount disk
  assert_success
}

@test "a command refused for its flags binds no state; records and messages in one file are never cut back" {
  N=20
  run "$ACRAWL" --crawl -q --state st --include '(' "$BASE/site/graph/$N/0"
  assert_failure 2
  run "$ACRAWL" --crawl -q --state st --warc no/such/x.warc "$BASE/site/graph/$N/0"
  assert_failure 2
  [ ! -e st ]
  run bash -c "'$ACRAWL' --crawl -l inf -j -q --state st '$BASE/site/graph/$N/0' >>both.txt 2>&1"
  assert_success
  grep -q "records and messages share a file" both.txt
  [ "$(grep -c '^{' both.txt)" -eq 120 ]
}
