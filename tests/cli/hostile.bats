#!/usr/bin/env bats
# acrawl against servers that misbehave on purpose: connections half-closed while
# pooled, endless interim responses. Each must end fast, never by waiting out -t.

load helpers

@test "a pooled connection the server half-closed (FIN) is not reused: two 200s, fast" {
  local t0 t1
  t0=$(now_ms)
  run "$ACRAWL" -q -c 1 -t 5 "$BASE/halfclose" "$BASE/halfclose"
  t1=$(now_ms)
  assert_success
  assert_line --index 0 --regexp $'^1\t200\t'
  assert_line --index 1 --regexp $'^2\t200\t'
  [ $((t1 - t0)) -lt 2000 ] || fail "took $((t1 - t0)) ms"
}

@test "endless 100 Continue: -t 2 ends within 3 s with an error record, and /ok beside it is not starved" {
  local t0 t1
  t0=$(now_ms)
  run "$ACRAWL" -q -c 2 -t 2 "$BASE/1xx-flood" "$BASE/ok"
  t1=$(now_ms)
  assert_failure 1
  assert_line --regexp $'^1\tERR\t0\t[0-9.]+\t'"$BASE"$'/1xx-flood\t(timeout|protocol)\t'
  assert_line --regexp $'^2\t200\t3\t[0-9.]+\t'"$BASE/ok"'$'
  local ok_ms
  ok_ms=$(awk -F'\t' '$2 == 200 { print int($4) }' <<<"$output")
  [ "$ok_ms" -lt 1000 ] || fail "/ok took $ok_ms ms"
  [ $((t1 - t0)) -lt 3000 ] || fail "took $((t1 - t0)) ms"
}

@test "endless 100 Continue with --deadline 5 and no -t: ends by the 1xx cap, long before the deadline" {
  local t0 t1
  t0=$(now_ms)
  run "$ACRAWL" -q --deadline 5 "$BASE/1xx-flood"
  t1=$(now_ms)
  assert_line --regexp $'^1\tERR\t.*\tprotocol\ttoo many 1xx responses'
  [ $((t1 - t0)) -lt 2000 ] || fail "took $((t1 - t0)) ms"
}
