#!/usr/bin/env bats
# The acrawl command against the project's test server: records, formats, flags,
# exit codes, error kinds, and the run-control behaviours users rely on.

load helpers

# ---- records and formats ----

@test "text record: line, status, bytes, ms, url, tab-separated" {
  run "$ACRAWL" -q "$BASE/bytes/1234"
  assert_success
  assert_output --regexp $'^1\t200\t1234\t[0-9.]+\t'"$BASE/bytes/1234"'$'
}

@test "error record carries ERR, the kind and the message" {
  run "$ACRAWL" -q "$BASE/reset"
  assert_failure 1
  assert_output --regexp $'^1\tERR\t[0-9]+\t[0-9.]+\t'"$BASE/reset"$'\treset\t.*reset'
}

@test "exactly one record per input URL on a mixed list of good, bad, failing and stalling URLs" {
  {
    echo "# a comment"
    echo "$BASE/ok"
    echo ""
    echo "not a url"
    echo "ftp://example.com/"
    echo "$BASE/status/500"
    echo "$BASE/reset"
    echo "$BASE/truncate"
    echo "$BASE/garbage"
    echo "$BASE/stall"
    echo "   $BASE/delay/50   "
    echo "http://127.0.0.1:1/"
    echo "http://[::1/"
  } >list.txt
  run "$ACRAWL" -q -t 1 list.txt
  assert_failure 1
  [ "$(wc -l <<<"$output")" -eq 11 ]
  # each input line with a URL appears exactly once
  got=$(cut -f1 <<<"$output" | sort -n | tr "\n" " ")
  assert_equal "$got" "2 4 5 6 7 8 9 10 11 12 13 "
  assert_line --regexp $'^4\tERR\t.*\tbad-url\tline 4: '
  assert_line --regexp $'^5\tERR\t.*\tbad-url\t.*unsupported scheme'
  assert_line --regexp $'^7\tERR\t.*\treset\t'
  assert_line --regexp $'^8\tERR\t.*\treset\t.*closed before'
  assert_line --regexp $'^9\tERR\t.*\tprotocol\t'
  assert_line --regexp $'^10\tERR\t.*\ttimeout\t'
  assert_line --regexp $'^12\tERR\t.*\trefused\t'
  assert_line --regexp $'^6\t500\t'
}

@test "--json records have every field" {
  run "$ACRAWL" -q -j -L "$BASE/redirect/2" "$BASE/stall" -t 0.3
  assert_failure 1
  python3 - "$output" <<'PY'
import json, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert len(recs) == 2, recs
ok = [r for r in recs if r["error"] is None][0]
assert ok["status"] == 200 and ok["redirects"] == 2 and ok["final_url"].endswith("/ok"), ok
for k in ("queue", "dns", "connect", "tls", "ttfb", "total"):
    assert k in ok["timings"], k
assert ok["bytes"] == {"raw": 3, "decoded": 3} and ok["attempt"] == 1 and ok["line"] == 1
bad = [r for r in recs if r["error"]][0]
assert bad["error"]["kind"] == "timeout" and bad["status"] is None, bad
PY
}

@test "a line over 64 KiB is a bad-url record in both engines, and the run goes on" {
  { printf 'http://x/%070000d\n' 0; echo "$BASE/ok"; } >list.txt
  for engine in acrawl curl; do
    run "$ACRAWL" -q --engine "$engine" list.txt
    assert_failure 1
    assert_line $'1\tERR\t0\t0.0\t(line too long)\tbad-url\tline 1: line longer than 64 KiB'
    assert_line --regexp $'^2\t200\t'
  done
}

@test "-w uses curl's variable names and acrawl's own" {
  run "$ACRAWL" -q -w '%{line} %{http_code} %{size_download} %{url} %{error_kind}|%{num_redirects}\n' \
    "$BASE/bytes/10" "$BASE/reset"
  assert_line "1 200 10 $BASE/bytes/10 |0"
  assert_line --regexp "^2 200 [0-9]+ $BASE/reset reset\|0$"  # the head came before the reset, as curl
  run "$ACRAWL" -q -w '%{time_total}\t%{time_namelookup}\t%{time_connect}\t%{time_starttransfer}\n' "$BASE/ok"
  assert_output --regexp $'^0\\.[0-9]{6}\t0\\.[0-9]{6}\t0\\.[0-9]{6}\t0\\.[0-9]{6}$'
}

@test "-w with an unknown variable is a usage error" {
  run "$ACRAWL" -w '%{nope}' "$BASE/ok"
  assert_failure 2
  assert_output --partial "unknown -w variable %{nope}"
}

@test "--ordered prints in input order, default is completion order" {
  run "$ACRAWL" -q "$BASE/delay/300" "$BASE/delay/150" "$BASE/delay/10"
  assert_equal "$(cut -f1 <<<"$output" | tr '\n' ' ')" "3 2 1 "
  run "$ACRAWL" -q --ordered "$BASE/delay/300" "$BASE/delay/150" "$BASE/delay/10"
  assert_equal "$(cut -f1 <<<"$output" | tr '\n' ' ')" "1 2 3 "
}

# ---- running ----

@test "-c is never exceeded (the server counts peak concurrent requests)" {
  for i in $(seq 40); do echo "$BASE/delay/60"; done >list.txt
  server_reset
  run "$ACRAWL" -q -c 7 list.txt
  assert_success
  assert_equal "$(server_peak)" 7
  server_reset
  run "$ACRAWL" -q --sync "$BASE/delay/20" "$BASE/delay/20" "$BASE/delay/20"
  assert_equal "$(server_peak)" 1
}

@test "--per-host caps connections to one host" {
  for i in $(seq 12); do echo "$BASE/delay/50"; done >list.txt
  server_reset
  run "$ACRAWL" -q -c 10 --per-host 3 list.txt
  assert_success
  assert_equal "$(server_peak)" 3
}

@test "--first 1 returns the fastest and cancels the rest" {
  t0=$(now_ms)
  run "$ACRAWL" -q --first "$BASE/delay/2000" "$BASE/delay/100" "$BASE/delay/1500"
  t=$(( $(now_ms) - t0 ))
  assert_success
  [ "$t" -lt 1000 ]
  assert_line --regexp $'^2\t200\t'
  assert_line --regexp $'^1\tERR\t.*\tcancelled\t'
  assert_line --regexp $'^3\tERR\t.*\tcancelled\t'
}

@test "--first N waits for N successes; exit 1 when fewer succeed" {
  run "$ACRAWL" -q --first 2 "$BASE/delay/50" "$BASE/delay/100" "$BASE/delay/3000"
  assert_success
  [ "$(grep -c $'\t200\t' <<<"$output")" -eq 2 ]
  run "$ACRAWL" -q --first=2 "$BASE/reset" "$BASE/ok"
  assert_failure 1
}

@test "--deadline cancels what is pending, records it, exits 124" {
  for i in $(seq 10); do echo "$BASE/delay/1000"; done >list.txt
  echo "$BASE/ok" >>list.txt
  t0=$(now_ms)
  run "$ACRAWL" -q -c 2 --deadline 0.3 list.txt
  t=$(( $(now_ms) - t0 ))
  assert_failure 124
  [ "$t" -lt 1500 ]
  [ "$(wc -l <<<"$output")" -eq 11 ]
  [ "$(grep -c $'\tcancelled\t' <<<"$output")" -eq 11 ]
}

@test "--timeout and --connect-timeout bound each request" {
  t0=$(now_ms)
  run "$ACRAWL" -q -t 0.2 --connect-timeout 0.1 "$BASE/stall"
  t=$(( $(now_ms) - t0 ))
  assert_failure 1
  assert_output --partial $'\ttimeout\t'
  [ "$t" -lt 1000 ]
}

@test "--retry retries 5xx with backoff and honours Retry-After" {
  run "$ACRAWL" -q -j --retry 2 "$BASE/status/503?retry-after=0"
  assert_output --partial '"attempt":3'
  assert_output --partial '"status":503'
  run "$ACRAWL" -q -j --retry 2 "$BASE/status/404"
  assert_output --partial '"attempt":1'
}

@test "--rate spaces request starts" {
  t0=$(now_ms)
  run "$ACRAWL" -q --rate 10 "$BASE/ok" "$BASE/ok" "$BASE/ok" "$BASE/ok" "$BASE/ok"
  t=$(( $(now_ms) - t0 ))
  assert_success
  [ "$t" -ge 380 ]
}

@test "--unique skips repeated URLs" {
  printf '%s\n' "$BASE/ok" "$BASE/ok" "$BASE/./ok" "$BASE/bytes/1" >list.txt
  run "$ACRAWL" -q --unique list.txt
  [ "$(wc -l <<<"$output")" -eq 2 ]
}

# ---- HTTP flags ----

@test "-X -H -d -A shape the request" {
  run "$ACRAWL" -q -o out -X PUT -H 'X-Test: yes' -d 'a=1&b=2' -A 'probe/1' "$BASE/headers"
  assert_success
  body=$(cat out/*)
  [[ $body == *'"method":"PUT"'* ]]
  [[ $body == *'"body_length":7'* ]]
  [[ $body == *'"X-Test":"yes"'* ]]
  [[ $body == *'"User-Agent":"probe/1"'* ]]
}

@test "-d alone means POST; -d @file reads the body from a file" {
  printf 'hello' >body.txt
  run "$ACRAWL" -q -o out -d @body.txt "$BASE/headers"
  body=$(cat out/*)
  [[ $body == *'"method":"POST"'* ]]
  [[ $body == *'"body_length":5'* ]]
}

@test "a header with CR or LF is refused" {
  run "$ACRAWL" -H $'X-A: b\r\nX-Injected: 1' "$BASE/ok"
  assert_failure 2
}

@test "-L follows redirects, --max-redirs limits them" {
  run "$ACRAWL" -q "$BASE/redirect/3"
  assert_output --regexp $'^1\t302\t'
  run "$ACRAWL" -q -L "$BASE/redirect/3"
  assert_output --regexp $'^1\t200\t'
  run "$ACRAWL" -q -L --max-redirs 2 "$BASE/redirect/3"
  assert_output --partial $'\tredirect-loop\ttoo many redirects'
  run "$ACRAWL" -q -L "$BASE/loop"
  assert_output --partial $'\tredirect-loop\tredirect loop'
}

@test "certificates are verified by default; --cacert and -k" {
  run "$ACRAWL" -q "https://localhost:$TLS_GOOD/ok"
  assert_output --partial $'\ttls-verify\t'
  run "$ACRAWL" -q --cacert "$CERTS/ca.pem" "https://localhost:$TLS_GOOD/ok"
  assert_output --regexp $'^1\t200\t'
  run "$ACRAWL" -q --cacert "$CERTS/ca.pem" "https://localhost:$TLS_EXPIRED/ok"
  assert_output --partial 'certificate has expired'
  run "$ACRAWL" -q -k "https://localhost:$TLS_EXPIRED/ok"
  assert_output --regexp $'^1\t200\t'
  run "$ACRAWL" -q "https://127.0.0.1:$PORT/ok"
  assert_output --partial $'\ttls-handshake\t'
}

@test "--resolve pins a name; --dns-servers with no server is a dns error" {
  run "$ACRAWL" -q --resolve "pinned.test:$PORT:127.0.0.1" "http://pinned.test:$PORT/ok"
  assert_output --regexp $'^1\t200\t'
  port=$(python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  run "$ACRAWL" -q --dns-servers "127.0.0.1:$port" "http://nothing.test:$PORT/ok"
  assert_output --partial $'\tdns\t'
  run "$ACRAWL" --dns-servers "bogus" "$BASE/ok"
  assert_failure 2
}

@test "--compressed decodes gzip; --max-filesize is too-large" {
  run "$ACRAWL" -q --compressed "$BASE/gzip/5000"
  assert_output --regexp $'^1\t200\t5000\t'
  run "$ACRAWL" -q "$BASE/gzip/5000"
  refute_output --regexp $'^1\t200\t5000\t'
  run "$ACRAWL" -q --max-filesize 1k "$BASE/bytes/5000"
  assert_output --partial $'\ttoo-large\t'
  run "$ACRAWL" -q --compressed "$BASE/bomb/50"
  assert_output --partial 'decompression ratio'
  run "$ACRAWL" -q "$BASE/huge-headers"
  assert_output --partial $'\ttoo-large\tresponse headers exceed'
}

@test "-o saves bodies under safe names made from the URL only" {
  run "$ACRAWL" -q -j -o saved "$BASE/bytes/100" "$BASE/../../etc/passwd" "$BASE/redirect-to?url=/bytes/7"
  assert_success
  [ "$(ls saved | wc -l)" -eq 3 ]
  [ "$(find . -newer saved -type f -not -path './saved/*' | wc -l)" -eq 0 ]
  for f in saved/*; do [[ $(basename "$f") =~ ^[A-Za-z0-9._-]+$ ]]; done
  [ "$(stat -c %s saved/000001_*)" -eq 100 ]
  # a second run never overwrites
  run "$ACRAWL" -q -o saved "$BASE/bytes/100"
  [ -f saved/000001_127.0.0.1_${PORT}_bytes_100.1 ]
}

# ---- input ----

@test "stdin streams: the first record appears before input closes" {
  mkfifo in.fifo
  "$ACRAWL" -q - <in.fifo >out.txt 2>/dev/null &
  pid=$!
  exec 4>in.fifo
  echo "$BASE/ok" >&4
  for _ in $(seq 50); do [ -s out.txt ] && break; sleep 0.05; done
  [ -s out.txt ]                     # input still open here
  echo "$BASE/bytes/5" >&4
  exec 4>&-
  wait "$pid"
  [ "$(wc -l <out.txt)" -eq 2 ]
}

@test "URLs from files, stdin and arguments together" {
  echo "$BASE/bytes/1" >a.txt
  run bash -c "echo '$BASE/bytes/2' | '$ACRAWL' -q --ordered a.txt - '$BASE/bytes/3'"
  assert_success
  assert_equal "$(cut -f1,3 <<<"$output" | tr '\t\n' ': ')" "1:1 2:2 3:3 "
}

@test "an unreadable input file is exit 2" {
  run "$ACRAWL" -q /nonexistent/list.txt
  assert_failure 2
  assert_output --partial "cannot read /nonexistent/list.txt"
}

# ---- signals and pipes ----

@test "SIGINT cancels in-flight requests, prints their records and the report, exits 130" {
  "$ACRAWL" "$BASE/stall" "$BASE/stall" "$BASE/ok" >out.txt 2>err.txt &
  pid=$!
  sleep 0.5
  kill -INT "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 130 ]
  [ "$(grep -c $'\tcancelled\t' out.txt)" -eq 2 ]
  grep -q $'^3\t200\t' out.txt
  grep -q "3 URLs in" err.txt
}

@test "a second SIGINT ends the process at once, even when stdout is blocked" {
  pad=$(printf 'x%.0s' $(seq 100))
  for i in $(seq 3000); do echo "$BASE/ok?$pad"; done >list.txt
  mkfifo out.fifo
  exec 5<>out.fifo                  # a reader that never reads: stdout fills and blocks
  "$ACRAWL" -q list.txt >out.fifo 2>/dev/null &
  pid=$!
  sleep 1
  kill -INT "$pid"
  sleep 0.3
  kill -0 "$pid"                    # the graceful stop cannot finish while stdout is blocked
  kill -INT "$pid"
  status=0
  wait "$pid" || status=$?
  exec 5>&-
  [ "$status" -eq 130 ]
}

@test "| head -1 ends quietly and at once" {
  for i in $(seq 200); do echo "$BASE/delay/100"; done >list.txt
  t0=$(now_ms)
  run bash -c "'$ACRAWL' -c 2 list.txt 2>err.txt | head -1"
  t=$(( $(now_ms) - t0 ))
  assert_success
  [ "$(wc -l <<<"$output")" -eq 1 ]
  [ "$t" -lt 2000 ]
  [ ! -s err.txt ]
}

# ---- report ----

@test "the report: counts, percentiles, sequential estimate, histogram" {
  run "$ACRAWL" -c 5 --no-progress "$BASE/delay/100" "$BASE/delay/100" "$BASE/delay/100" "$BASE/status/404" "$BASE/reset"
  assert_failure 1
  assert_output --partial "5 URLs in"
  assert_output --partial "3 ok, 1 HTTP >= 400, 1 failed, 0 cancelled"
  assert_output --partial "failed by kind: reset 1"
  assert_output --regexp "p50 [0-9.]+ ms +p90"
  assert_output --regexp "sequential estimate 0\.[0-9]+ s \(sum of request times\) vs 0\.[0-9]+ s wall"
  assert_output --partial "latency histogram"
}

@test "--report json, --report-file, --report none, -q" {
  run bash -c "'$ACRAWL' --report json '$BASE/ok' 2>&1 >/dev/null"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"]==1 and "latency_ms" in d' "$output"
  run "$ACRAWL" --report-file rep.txt "$BASE/ok"
  grep -q "1 URLs in" rep.txt
  run bash -c "'$ACRAWL' --report none '$BASE/ok' 2>&1 >/dev/null"
  assert_output ""
  run bash -c "'$ACRAWL' -q '$BASE/ok' 2>&1 >/dev/null"
  assert_output ""
}

@test "--timeline draws a waterfall" {
  run bash -c "'$ACRAWL' -c 1 --timeline '$BASE/delay/50' '$BASE/delay/50' 2>&1 >/dev/null"
  assert_output --partial "timeline: 2 of 2 requests"
  assert_output --regexp "      2 \|.*#+.*\| [0-9]+ ms"
}

@test "progress shows on a terminal only; NO_COLOR turns colour off" {
  run script -qec "'$ACRAWL' '$BASE/delay/300' >/dev/null" /dev/null
  assert_output --partial "in flight"
  assert_output --partial $'\e[1m'
  run script -qec "NO_COLOR=1 '$ACRAWL' '$BASE/delay/300' >/dev/null" /dev/null
  refute_output --partial $'\e[1m'
  run script -qec "'$ACRAWL' --no-progress '$BASE/delay/300' >/dev/null" /dev/null
  refute_output --partial "in flight"
  run bash -c "'$ACRAWL' '$BASE/delay/300' 2>&1 >/dev/null"
  refute_output --partial "in flight"
}

# ---- engines ----

@test "--engine curl gives the same record format" {
  run "$ACRAWL" -q --engine curl "$BASE/bytes/42" "$BASE/reset" "http://[::1/"
  assert_failure 1
  assert_line --regexp $'^1\t200\t42\t[0-9.]+\t'
  assert_line --regexp $'^2\tERR\t.*\treset\t'
  assert_line --regexp $'^3\tERR\t.*\tbad-url\t'
  run "$ACRAWL" -q --engine curl --first "$BASE/delay/1000" "$BASE/delay/20"
  assert_success
  assert_line --regexp $'^1\tERR\t.*\tcancelled\t'
}

@test "--compare runs sync, async and libcurl and tabulates them" {
  for i in $(seq 6); do echo "$BASE/delay/100"; done >list.txt
  run bash -c "'$ACRAWL' --compare -c 6 list.txt 2>err.txt"
  assert_success
  [ "$(wc -l <<<"$output")" -eq 6 ]
  grep -Eq '^sync +1 +0\.[0-9]+s' err.txt
  grep -Eq '^async +6 ' err.txt
  grep -Eq '^libcurl +6 ' err.txt
  grep -q 'speedup' err.txt
  run bash -c "'$ACRAWL' --compare --report json -c 6 list.txt 2>&1 >/dev/null"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert [r["label"] for r in d["compare"]]==["sync","async","libcurl"]' "$output"
}

# ---- the program ----

@test "-h lists every flag; -V names the libraries" {
  run "$ACRAWL" -h
  assert_success
  for f in --concurrency --timeout --connect-timeout --deadline --first --retry --per-host --rate --unique \
           --request --header --data --user-agent --location --max-redirs --insecure --cacert --resolve \
           --dns-servers --compressed --max-filesize --output-dir --sync --engine --compare --ordered --json \
           --write-out --report --report-file --timeline --quiet --no-progress --fail --help --version; do
    assert_output --partial -- "$f"
  done
  run "$ACRAWL" -V
  assert_output --partial "c-ares"
  assert_output --partial "OpenSSL"
  assert_output --partial "libcurl"
  assert_output --partial "llhttp"
}

@test "usage errors are exit 2 with a hint" {
  run "$ACRAWL" --bogus
  assert_failure 2
  assert_output --partial "unknown option"
  run "$ACRAWL" -c 0 "$BASE/ok"
  assert_failure 2
  run "$ACRAWL" --engine nope "$BASE/ok"
  assert_failure 2
}

@test "--fail turns HTTP errors into exit 1" {
  run "$ACRAWL" -q "$BASE/status/404"
  assert_success
  run "$ACRAWL" -q --fail "$BASE/status/404"
  assert_failure 1
}

@test "concurrency beyond the open-file limit is capped, not failed" {
  for i in $(seq 150); do echo "$BASE/delay/20"; done >list.txt
  run bash -c "ulimit -n 100; '$ACRAWL' -q -c 500 list.txt 2>err.txt"
  assert_success
  [ "$(wc -l <<<"$output")" -eq 150 ]
  grep -q "using -c 36" err.txt
}

@test "the man page documents the flags; make install puts both in place" {
  page=$(LANG=C MANWIDTH=120 man -l "$ROOT/acrawl.1" 2>/dev/null)
  for f in $("$ACRAWL" -h | grep -oE -- '--[a-z-]+' | sort -u); do
    grep -q -- "$f" <<<"$page" || { echo "man page lacks $f"; return 1; }
  done
  run make -C "$ROOT" -s install PREFIX=/usr DESTDIR="$BATS_TEST_TMPDIR/dest"
  assert_success
  [ -x "$BATS_TEST_TMPDIR/dest/usr/bin/acrawl" ]
  [ -f "$BATS_TEST_TMPDIR/dest/usr/share/man/man1/acrawl.1" ]
  run man -l "$ROOT/acrawl.1"
  assert_success
}
