#!/usr/bin/env bats
# Flag syntax and the request the flags make: exact option names with a suggestion.

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

# ---- option names ----

@test "--user is not taken for --user-agent: a usage error that suggests it" {
  run "$ACRAWL" -q --user a:b "$BASE/ok"
  assert_failure 2
  assert_output --partial "acrawl: unknown option '--user'; did you mean '--user-agent'?"
}

@test "--head is not taken for --header: a usage error that suggests it" {
  run "$ACRAWL" -q --head "$BASE/ok" </dev/null
  assert_failure 2
  assert_output --partial "unknown option '--head'; did you mean '--header'?"
}

@test "a mistyped long option suggests the closest one; a far one suggests nothing" {
  run "$ACRAWL" --concurency 5 "$BASE/ok"
  assert_failure 2
  assert_output --partial "did you mean '--concurrency'?"
  run "$ACRAWL" --tiemout 5 "$BASE/ok"
  assert_output --partial "did you mean '--timeout'?"
  run "$ACRAWL" --frobnicate "$BASE/ok"
  assert_failure 2
  assert_output --partial "unknown option '--frobnicate'"
  refute_output --partial "did you mean"
}

@test "full names, the --max-time alias, bundles and options after the URL still work" {
  run "$ACRAWL" "$BASE/ok" --max-time 5 --user-agent x --first=1 -qc5
  assert_success
  assert_output --regexp $'^1\t200\t'
  run "$ACRAWL" -q --first 1 "$BASE/ok" -- "$BASE/bytes/3"
  assert_success
}

@test "a value given to a flag that takes none, or a missing value, is a usage error" {
  run "$ACRAWL" --quiet=yes "$BASE/ok"
  assert_failure 2
  assert_output --partial "option '--quiet' takes no value"
  run "$ACRAWL" "$BASE/ok" --timeout
  assert_failure 2
  assert_output --partial "option '--timeout' needs a value"
}
