#!/usr/bin/env bats
# Input that epoll refuses, NUL bytes in lines, outputs opened before the run, the
# progress line on a shared terminal, and the report's figures and histogram.

load helpers

# ---- input ----

@test "/dev/null as standard input: no records, no error, exit 0" {
  run bash -c "'$ACRAWL' -q </dev/null"
  assert_success
  assert_output ""
  run bash -c "'$ACRAWL' -q - </dev/null"
  assert_success
  assert_output ""
}

@test "/dev/null as a file argument and with the libcurl engine: exit 0" {
  run "$ACRAWL" -q /dev/null
  assert_success
  assert_output ""
  run bash -c "'$ACRAWL' -q --engine curl </dev/null"
  assert_success
  assert_output ""
}

@test "an empty file gives zero records and exit 0, with the report saying 0 URLs" {
  : >empty.txt
  run bash -c "'$ACRAWL' --no-progress empty.txt 2>err.txt"
  assert_success
  assert_output ""
  grep -q "0 URLs in" err.txt
}

@test "/dev/null on stdin then a URL argument: the URL is still fetched" {
  run bash -c "'$ACRAWL' -q - '$BASE/ok' </dev/null"
  assert_success
  assert_output --regexp $'^1\t200\t'
}

@test "a NUL byte inside a line makes a bad-url record, not a fetch of the cut URL" {
  printf '%s\0/garbage\n%s\n' "$BASE/ok" "$BASE/ok" >nul.txt
  run "$ACRAWL" -q nul.txt
  assert_failure 1
  assert_line --regexp $'^1\tERR\t0\t[0-9.]+\t'"$BASE"$'/ok\\\\0/garbage\tbad-url\tline 1: .*NUL byte'
  assert_line --regexp $'^2\t200\t'
  [ "$(wc -l <<<"$output")" -eq 2 ]
}

@test "a NUL byte from a pipe and with the libcurl engine is a bad-url record too" {
  printf '%s\0\n' "$BASE/ok" >nul.txt
  run bash -c "cat nul.txt | '$ACRAWL' -q -"
  assert_failure 1
  assert_output --regexp $'^1\tERR\t.*\tbad-url\tline 1: .*NUL byte'
  run "$ACRAWL" -q --engine curl nul.txt
  assert_failure 1
  assert_output --regexp $'^1\tERR\t.*\tbad-url\tline 1: .*NUL byte'
}

@test "a NUL byte inside a comment line is still a comment" {
  printf '# note\0x\n%s\n' "$BASE/ok" >nul.txt
  run "$ACRAWL" -q nul.txt
  assert_success
  assert_output --regexp $'^2\t200\t'
}

# ---- outputs are opened before the run ----

@test "--report-file that cannot be opened is exit 2 at once, before any fetch" {
  t0=$(now_ms)
  run "$ACRAWL" --report-file /nonexistent/dir/rep.txt "$BASE/delay/2000"
  t1=$(now_ms)
  assert_failure 2
  assert_output --partial "--report-file /nonexistent/dir/rep.txt"
  assert_output --partial "No such file or directory"
  refute_output --regexp $'\t'
  [ $((t1 - t0)) -lt 1500 ]
}

@test "--report-file that cannot be opened stops --compare before its runs" {
  run "$ACRAWL" --compare --report-file /nonexistent/dir/rep.txt "$BASE/delay/2000"
  assert_failure 2
  assert_output --partial "--report-file /nonexistent/dir/rep.txt"
  refute_output --partial "sync (-c 1) run"
}

@test "--report-file still gets the report with -q" {
  run "$ACRAWL" -q --report-file rep.txt "$BASE/ok"
  assert_success
  grep -q "1 URLs in" rep.txt
}

# ---- the progress line and records on one terminal ----

# Replays a terminal capture line by line: what is left of each line after its last
# carriage return, without erase-line sequences. Prints "intact broken" record counts.
count_screen_records() {
  awk -v base="$BASE" '
    { sub(/\r$/, ""); n = split($0, part, "\r"); s = part[n]; gsub(/\033\[K/, "", s) }
    index(s, "\t") == 0 { next }
    s ~ ("^[0-9]+\t200\t3\t[0-9.]+\t" base "/delay/[0-9]+$") { ok++; next }
    { bad++ }
    END { print ok + 0, bad + 0 }' "$1"
}

@test "progress and records on one terminal: every record line stays intact" {
  for i in $(seq 200); do echo "$BASE/delay/$((20 + i % 5 * 10))"; done >list.txt
  script -qec "'$ACRAWL' -c 20 list.txt" /dev/null >tty.out
  grep -q ' done  ' tty.out # the progress line was drawn, or this proves nothing
  run count_screen_records tty.out
  assert_output "200 0"
}

@test "progress and records on one terminal with the libcurl engine" {
  for i in $(seq 100); do echo "$BASE/delay/$((20 + i % 5 * 10))"; done >list.txt
  script -qec "'$ACRAWL' --engine curl -c 10 list.txt" /dev/null >tty.out
  grep -q ' done  ' tty.out
  run count_screen_records tty.out
  assert_output "100 0"
}

# ---- the report ----

@test "req/s counts completed requests, not the cancelled ones (text and JSON)" {
  for i in 1 2 3; do echo "$BASE/ok"; done >list.txt
  for i in $(seq 1000); do echo "$BASE/delay/3000"; done >>list.txt
  run bash -c "'$ACRAWL' --no-progress -c 5 --deadline 0.5 list.txt 2>&1 >/dev/null"
  assert_failure 124
  assert_output --regexp "1003 URLs in 0\.[0-9]+ s \(([0-9]|[1-9][0-9])\.[0-9] req/s, -c 5\)"
  run bash -c "'$ACRAWL' --report json -c 5 --deadline 0.5 list.txt 2>&1 >/dev/null"
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["urls"] == 1003 and d["completed"] == 3 and d["cancelled"] == 1000, d
assert abs(d["req_per_s"] - 3 / d["wall_s"]) < 0.1, d
' "$output"
}

@test "streamed input that kept the run waiting gets no 0.0x speedup, but the reason" {
  run bash -c "(echo '$BASE/ok'; sleep 1.2; echo '$BASE/ok') | '$ACRAWL' --no-progress - 2>&1 >/dev/null"
  assert_success
  assert_output --regexp "no speedup estimate: 1\.[0-9]+ s of it went waiting for streamed input"
  refute_output --partial "0.0x"
  run bash -c "(echo '$BASE/ok'; sleep 1.2; echo '$BASE/ok') | '$ACRAWL' --report json - 2>&1 >/dev/null"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["speedup"] is None and d["input_wait_s"] > 1, d' "$output"
}

@test "a list read from a pipe at once still gets its speedup figure" {
  for i in $(seq 20); do echo "$BASE/delay/100"; done >list.txt
  run bash -c "cat list.txt | '$ACRAWL' --no-progress -c 20 - 2>&1 >/dev/null"
  assert_success
  assert_output --regexp "wall: [0-9]+\.[0-9]x speedup"
}

@test "LC_ALL=C gets ASCII bars; a UTF-8 locale gets block characters" {
  args=(--no-progress -c 4 "$BASE/delay/10" "$BASE/delay/40" "$BASE/delay/80" "$BASE/delay/120")
  LC_ALL=C "$ACRAWL" "${args[@]}" >/dev/null 2>err.txt
  grep -q "latency histogram" err.txt
  grep -q '##' err.txt
  run grep -c -P '[^\x00-\x7f]' err.txt
  assert_output "0"
  LC_ALL=C.UTF-8 "$ACRAWL" "${args[@]}" >/dev/null 2>err.txt
  grep -q '█' err.txt
}

@test "--compare bars follow the locale too" {
  for i in $(seq 4); do echo "$BASE/delay/50"; done >list.txt
  LC_ALL=C "$ACRAWL" --compare -c 4 list.txt >/dev/null 2>err.txt
  grep -Eq '^sync .*#+$' err.txt
  run grep -c -P '[^\x00-\x7f]' err.txt
  assert_output "0"
}

@test "--compare keeps every line after a NUL line and judges that line bad-url" {
  printf '%s\n%s\0x\n%s\n' "$BASE/ok" "$BASE/ok" "$BASE/ok" >nul.txt
  run bash -c "'$ACRAWL' --compare --report none nul.txt 2>/dev/null"
  assert_failure 1
  [ "$(wc -l <<<"$output")" -eq 3 ]
  assert_line --regexp $'^2\tERR\t.*\tbad-url\tline 2: .*NUL byte'
  [ "$(grep -c $'\t200\t' <<<"$output")" -eq 2 ]
}
