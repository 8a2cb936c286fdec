#!/usr/bin/env bats
# Cancellation at the scale that used to crash (issue 7): --first, --deadline and
# ^C on long lists, and request deadlines that fire while a DNS lookup is pending.
# Every run must give exactly one record per input line.

load helpers

setup_file() {
  start_server
  # 2 000 URLs with delays of 50..1500 ms (a fixed pseudo-random sequence), and a
  # million fast ones: past the 1 024-line read-ahead, where the crashes were.
  awk -v b="$BASE" 'BEGIN { srand(7); for (i = 0; i < 2000; i++) printf "%s/delay/%d\n", b, 50 + int(rand() * 1450) }' \
    >"$BATS_FILE_TMPDIR/slow2000.txt"
  awk -v b="$BASE" 'BEGIN { for (i = 0; i < 1000000; i++) print b "/ok" }' >"$BATS_FILE_TMPDIR/fast1m.txt"
}

# One record per input line: the records' line numbers are exactly 1..N, once each.
one_record_per_line() {
  local n=$1 out=$2
  local got dups
  got=$(cut -f1 "$out" | sort -n | uniq | wc -l)
  dups=$(cut -f1 "$out" | sort -n | uniq -d | head -3 | tr '\n' ' ')
  [ -z "$dups" ] || { echo "duplicated lines: $dups"; return 1; }
  [ "$got" -eq "$n" ] || { echo "$got distinct lines of $n"; return 1; }
  [ "$(cut -f1 "$out" | sort -n | tail -1)" -eq "$n" ]
}

@test "--first 5 on 2 000 slow URLs: no crash, exactly one record per line" {
  run bash -c "'$ACRAWL' --first 5 -c 50 -q '$BATS_FILE_TMPDIR/slow2000.txt' >out.txt"
  assert_success
  one_record_per_line 2000 out.txt
  [ "$(awk -F'\t' '$2 == 200' out.txt | wc -l)" -ge 5 ]
  awk -F'\t' '$2 == "ERR" { print $6 }' out.txt | sort -u | {
    run cat
    assert_output "cancelled"
  }
}

@test "--deadline 1 on 1 000 000 URLs: exit 124, exactly one record per line" {
  run bash -c "'$ACRAWL' --deadline 1 -c 50 -q '$BATS_FILE_TMPDIR/fast1m.txt' >out.txt"
  assert_failure 124
  one_record_per_line 1000000 out.txt
}

@test "^C on 1 000 000 URLs: exit 130, exactly one record per line" {
  "$ACRAWL" -c 50 -q "$BATS_FILE_TMPDIR/fast1m.txt" >out.txt 2>err.txt &
  local pid=$!
  sleep 0.7
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_equal "$rc" 130
  one_record_per_line 1000000 out.txt
}

@test "request deadlines that fire while DNS lookups are pending give timeout records" {
  # A UDP port nothing answers on: every lookup is still pending at the deadline.
  local port
  port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  run timeout 20 "$ACRAWL" -q --dns-servers "127.0.0.1:$port" -t 1 \
    http://a.example.test/ http://b.example.test/ "$BASE/ok"
  assert_failure 1
  assert_line --regexp $'^1\tERR\t.*\ttimeout\tDNS lookup of a.example.test timed out$'
  assert_line --regexp $'^2\tERR\t.*\ttimeout\tDNS lookup of b.example.test timed out$'
  assert_line --regexp $'^3\t200\t'
  [ "${#lines[@]}" -eq 3 ]
}
