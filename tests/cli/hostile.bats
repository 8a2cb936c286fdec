#!/usr/bin/env bats
# acrawl against servers that misbehave on purpose: connections half-closed while
# pooled, endless interim responses. Each must end fast, never by waiting out -t.

setup_file() {
  load helpers
  start_server
}

teardown_file() {
  load helpers
  stop_server
}

setup() {
  load helpers
  cd "$BATS_TEST_TMPDIR"
}

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
