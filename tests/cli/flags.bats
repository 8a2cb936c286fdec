#!/usr/bin/env bats
# Flag syntax and the request the flags make: exact option names with a suggestion,
# -X as an RFC 9110 token, -A carried whole, every number checked for syntax and
# range, and -d's default Content-Type.

load helpers

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

# ---- -X ----

@test "-X refuses a method that would inject a header onto the request line" {
  run "$ACRAWL" -q -X $'GET / HTTP/1.1\r\nX-Injected: yes\r\nFoo:' "$BASE/headers"
  assert_failure 2
  assert_output --partial "-X wants an HTTP method"
  assert_output --partial "RFC 9110 token"
  run "$ACRAWL" -q -X 'GET /' "$BASE/headers"
  assert_failure 2
  run "$ACRAWL" -q -X '' "$BASE/headers"
  assert_failure 2
}

@test "-X takes any token method" {
  run "$ACRAWL" -q -o out -X DELETE "$BASE/headers"
  assert_success
  [[ $(cat out/*) == *'"method":"DELETE"'* ]]
}

# ---- -A ----

@test "-A carries a 5000-byte User-Agent whole" {
  ua=$(printf 'a%.0s' $(seq 5000))
  run "$ACRAWL" -q -o out -A "$ua" "$BASE/headers"
  assert_success
  got=$(grep -o '"User-Agent":"a*"' out/*)
  assert_equal "${#got}" $((5000 + 15))
}

@test "-A carries a long User-Agent whole on the curl engine too" {
  ua=$(printf 'a%.0s' $(seq 5000))
  long=$("$ACRAWL" -q --engine curl -A "$ua" -w '%{size_download}\n' "$BASE/headers")
  short=$("$ACRAWL" -q --engine curl -A aaaaa -w '%{size_download}\n' "$BASE/headers")
  assert_equal $((long - short)) 4995
}

@test "-A refuses CR and LF" {
  run "$ACRAWL" -q -A $'x\r\nX-Injected: yes' "$BASE/ok"
  assert_failure 2
}

# ---- numbers ----

@test "--rate 1e-10 is out of range, not a disabled limit" {
  run "$ACRAWL" -q --rate 1e-10 "$BASE/ok"
  assert_failure 2
  assert_output --partial "acrawl: --rate wants requests per second from 0.001 to 1000000, not '1e-10'"
  run "$ACRAWL" -q --rate inf "$BASE/ok"
  assert_failure 2
}

@test "--max-filesize 1e30 and 0.5 are usage errors; suffixes still work" {
  run "$ACRAWL" -q --max-filesize 1e30 "$BASE/ok"
  assert_failure 2
  assert_output --partial "--max-filesize wants a whole number of bytes"
  run "$ACRAWL" -q --max-filesize 0.5 "$BASE/ok"
  assert_failure 2
  run "$ACRAWL" -q --max-filesize 1k "$BASE/bytes/2000"
  assert_output --partial $'\ttoo-large\t'
  run "$ACRAWL" -q --max-filesize 1.5k "$BASE/bytes/1536"
  assert_success
}

@test "every numeric flag refuses junk, NaN and infinity, and states its range" {
  for f in -c -t --max-time --connect-timeout --deadline --retry --per-host --rate --max-redirs --max-filesize; do
    for v in 5x nan inf -1 ''; do
      run "$ACRAWL" -q "$f" "$v" "$BASE/ok"
      assert_failure 2
      assert_output --regexp "^acrawl: $f wants .* from [0-9.]+ to [0-9]+, not '$v'"
    done
  done
  run "$ACRAWL" -q --first=2x "$BASE/ok"
  assert_failure 2
  assert_output --partial "--first wants a whole number from 1 to 1000000000, not '2x'"
}

@test "every numeric flag refuses a value past either end of its range" {
  for fv in "-c 0" "-c 1000001" "-t 0" "-t 1e10" "--connect-timeout 0.0001" "--deadline 2e9" \
            "--retry 101" "--per-host 0" "--rate 2000000" "--max-redirs 1001" "--max-filesize 2048G"; do
    run "$ACRAWL" -q $fv "$BASE/ok"
    assert_failure 2
    assert_output --partial " wants "
  done
  run "$ACRAWL" -q --first=0 "$BASE/ok"
  assert_failure 2
}

@test "numbers at the ends of their ranges are accepted" {
  run "$ACRAWL" -q -c 1 -t 0.5 --connect-timeout 0.5 --deadline 10 --retry 0 --per-host 1 --rate 1000000 \
    --max-redirs 1 --max-filesize 1G "$BASE/ok"
  assert_success
  assert_output --regexp $'^1\t200\t'
}

# ---- -d ----

@test "-d sends Content-Type: application/x-www-form-urlencoded, as curl does" {
  run "$ACRAWL" -q -o out -d 'a=1' "$BASE/headers"
  assert_success
  [[ $(cat out/*) == *'"Content-Type":"application/x-www-form-urlencoded"'* ]]
}

@test "a -H Content-Type of any case replaces -d's default" {
  run "$ACRAWL" -q -o out -d '{}' -H 'content-type: application/json' "$BASE/headers"
  assert_success
  body=$(cat out/*)
  [[ $body == *'"content-type":"application/json"'* ]]
  [[ $body != *'x-www-form-urlencoded'* ]]
}

@test "-H 'Content-Type:' removes it; without -d there is none" {
  run "$ACRAWL" -q -o out -d 'a=1' -H 'Content-Type:' "$BASE/headers"
  assert_success
  [[ $(cat out/*) != *'ontent-Type'* ]]
  rm -r out
  run "$ACRAWL" -q -o out "$BASE/headers"
  [[ $(cat out/*) != *'ontent-Type'* ]]
}
