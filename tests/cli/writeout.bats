#!/usr/bin/env bats
# -w templates: curl's variable names mean what curl means (checked against curl -w on
# the same test-server URL), acrawl's own names, templates from files, and JSON that
# stays valid for any input bytes.

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

# ---- JSON for any bytes ----

@test "JSON records stay valid with invalid UTF-8 and control characters in the input" {
  {
    printf '%s/caf\xc3\xa9\xff\xfe\n' "$BASE"
    printf 'http://h\xff\xfe.com/\n'
    printf '%s/ok?\x1b[31m\n' "$BASE"
    printf '%s/redirect-to?url=/ok%%ff&status=302\n' "$BASE"
    printf '\xc0\xaf\xed\xa0\x80\n'
  } >list.txt
  # Strict UTF-8: in the C locale python3 would otherwise smuggle bad bytes through
  # as surrogate escapes and accept raw ones.
  check='import json,sys; [json.loads(l.decode("utf-8")) for l in sys.stdin.buffer]'
  for engine in acrawl curl; do
    "$ACRAWL" -q --engine "$engine" -L -j list.txt >out.json || true
    [ "$(wc -l <out.json)" -eq 5 ]
    python3 -c "$check" <out.json
  done
  grep -q 'café\\ufffd\\ufffd' out.json  # é kept, each stray byte replaced
}
