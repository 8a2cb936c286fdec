#!/usr/bin/env bats
# The client library (runtime, transport, http) stands alone: programs that use
# include/acrawl/*.h link against libacrawl.a without libcurl or program code.

load helpers

setup() {
  EXAMPLES="$ROOT/build/examples"
}

@test "the examples link without libcurl" {
  run ldd "$EXAMPLES/race"
  assert_success
  refute_output --partial libcurl
  run nm -A "$ROOT/build/libacrawl.a"
  refute_output --regexp ' U curl_'
}

@test "examples/race prints the first URL to answer 2xx and cancels the rest" {
  run timeout 10 "$EXAMPLES/race" "$BASE/delay/3000" "$BASE/delay/50" "$BASE/status/500" http://127.0.0.1:1/
  assert_success
  assert_output --regexp "^$BASE/delay/50"$'\t200\t'
}
