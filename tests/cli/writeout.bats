#!/usr/bin/env bats
# -w templates: curl's variable names mean what curl means (checked against curl -w on
# the same test-server URL), acrawl's own names, templates from files, and JSON that
# stays valid for any input bytes.

load helpers

# Every -w variable acrawl knows; -h, the man page and the README list them all.
VARS="attempt content_type depth error_kind errormsg exitcode filename_effective header_json http_code json line links
num_redirects parent remote_ip remote_port response_code scheme size_decoded size_download size_raw speed_download
time_appconnect time_connect time_namelookup time_queue time_redirect time_starttransfer time_total url
url_effective urlnum via"

# The same template through curl and through both acrawl engines must agree.
same_as_curl() {
  local fmt=$1
  shift
  local want
  want=$(curl -s -o /dev/null -w "$fmt" "$@" || true)
  for engine in acrawl curl; do
    run "$ACRAWL" -q --engine "$engine" -w "$fmt" "$@"
    assert_output "$want"
  done
}

# ---- curl's meaning ----

@test "size_download is the body bytes received, before decoding; size_decoded is after" {
  same_as_curl '%{size_download}' --compressed "$BASE/gzip/10000"
  [ "$output" -lt 1000 ]
  same_as_curl '%{size_download}' "$BASE/chunked/1000"
  for engine in acrawl curl; do
    run "$ACRAWL" -q --engine "$engine" --compressed -w '%{size_decoded}' "$BASE/gzip/10000"
    assert_output 10000
  done
}

@test "http_code is the last status received even when the request then fails" {
  same_as_curl '%{http_code} %{response_code} %{num_redirects} %{exitcode}' -L --max-redirs 1 "$BASE/redirect/3"
  assert_output "302 302 1 47"
  same_as_curl '%{http_code} %{exitcode}' "$BASE/reset"
  assert_output "200 56"
  same_as_curl '%{http_code} %{exitcode}' "http://127.0.0.1:1/"
  assert_output "000 7"
  run "$ACRAWL" -q -w '%{http_code} %{error_kind}\n' -L "$BASE/redirect-to?url=http://127.0.0.1:1/&status=302"
  assert_output "302 refused"
}

@test "phases that did not happen are 0: appconnect on http, connect on a reused connection" {
  for engine in acrawl curl; do
    run "$ACRAWL" -q -c 1 --ordered --engine "$engine" \
      -w '%{urlnum} %{time_connect} %{time_appconnect} %{time_starttransfer}\n' "$BASE/ok" "$BASE/ok"
    assert_line --regexp '^0 0\.0*[1-9][0-9]* 0\.000000 0\.[0-9]{6}$'
    assert_line --regexp '^1 0\.000000 0\.000000 0\.[0-9]{6}$'
    run "$ACRAWL" -q --engine "$engine" --cacert "$CERTS/ca.pem" \
      -w '%{scheme} %{time_connect} %{time_appconnect}' "https://localhost:$TLS_GOOD/ok"
    assert_output --regexp '^HTTPS 0\.[0-9]{6} 0\.[0-9]{6}$'
    read -r _ conn app <<<"$output"
    python3 -c "import sys; assert 0 < $conn < $app, sys.argv" "$output"
    run "$ACRAWL" -q --engine "$engine" -w '%{time_connect} %{time_appconnect} %{time_starttransfer}' \
      "http://127.0.0.1:1/"
    assert_output "0.000000 0.000000 0.000000"
  done
}

@test "connection, type and position variables agree with curl" {
  same_as_curl '%{content_type}|%{remote_ip}|%{remote_port}|%{scheme}|%{errormsg}|%{exitcode}' "$BASE/headers"
  assert_output "application/json|127.0.0.1|$PORT|HTTP||0"
  same_as_curl '[%{remote_ip}] %{remote_port} [%{scheme}] [%{content_type}]' "http://127.0.0.1:1/"
  assert_output "[] 0 [] []"
  run "$ACRAWL" -q --ordered -w '%{urlnum} %{line}\n' "$BASE/ok" "ftp://x/" "$BASE/ok"
  assert_output $'0 1\n1 2\n2 3'
}

@test "time_redirect covers the hops before the final one; speed_download is bytes per second" {
  for engine in acrawl curl; do
    run "$ACRAWL" -q --engine "$engine" -L -w '%{time_redirect} %{time_total} %{speed_download} %{size_download}' \
      "$BASE/redirect-to?url=/delay/200&status=302"
    read -r red tot speed size <<<"$output"
    python3 -c "assert 0 < $red < $tot - 0.15, '$output'; assert abs($speed - $size / $tot) <= 1 + $speed * 0.01"
    run "$ACRAWL" -q --engine "$engine" -w '%{time_redirect}' "$BASE/ok"
    assert_output "0.000000"
  done
}

@test "header_json is curl's, content_type needs no extra flag" {
  same_as_curl '%{header_json}' "$BASE/ok"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["content-type"]==["text/plain"]' "$output"
}

@test "%{json} holds every variable, valid JSON, on both engines" {
  for engine in acrawl curl; do
    run "$ACRAWL" -q --engine "$engine" -w '%{json}\n' "$BASE/ok" "$BASE/reset" "http://127.0.0.1:1/" "ftp://x/"
    [ "$(wc -l <<<"$output")" -eq 4 ]
    python3 -c '
import json, sys
for l in sys.argv[1].splitlines():
    d = json.loads(l)
    for k in ("http_code", "exitcode", "remote_ip", "content_type", "time_total", "urlnum", "size_decoded"):
        assert k in d, (k, d)
    if d["url"].endswith("/ok"):
        assert d["http_code"] == 200 and d["content_type"] == "text/plain" and d["errormsg"] is None, d
' "$output"
  done
}

# ---- templates from files ----

@test "-w @file reads the template from a file, verbatim" {
  printf '%%{http_code} %%{url}\n' >tmpl
  run "$ACRAWL" -q -w @tmpl "$BASE/ok"
  assert_success
  assert_output "200 $BASE/ok"
  run "$ACRAWL" -q -w @missing "$BASE/ok"
  assert_failure 2
  assert_output --partial "cannot read the -w template from missing"
  printf '%%{nope}' >bad
  run "$ACRAWL" -q -w @bad "$BASE/ok"
  assert_failure 2
  assert_output --partial "unknown -w variable %{nope}"
}

@test "-w @- reads the template from stdin; with the URLs on stdin too it is a usage error" {
  echo "$BASE/ok" >list.txt
  run bash -c "printf '%%{http_code}|%%{urlnum}' | '$ACRAWL' -q -w @- list.txt"
  assert_success
  assert_output "200|0"
  run bash -c "printf '%%{http_code}' | '$ACRAWL' -q -w @-"
  assert_failure 2
  assert_output --partial "-w @- reads the template from stdin"
  run bash -c "printf '%%{http_code}' | '$ACRAWL' -q -w @- list.txt -"
  assert_failure 2
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
    "$ACRAWL" -q --engine "$engine" -L -w '%{json}\n' list.txt >out.json || true
    python3 -c "$check" <out.json
  done
  grep -q 'café\\ufffd\\ufffd' out.json  # é kept, each stray byte replaced
}

# ---- documentation ----

@test "-h, the man page and the README list every -w variable, and each is accepted" {
  help=$("$ACRAWL" -h)
  page=$(LANG=C MANWIDTH=200 man -l "$ROOT/acrawl.1" 2>/dev/null)
  for v in $VARS; do
    grep -qw -- "$v" <<<"$help" || { echo "-h lacks $v"; return 1; }
    grep -qw -- "$v" <<<"$page" || { echo "man page lacks $v"; return 1; }
    grep -q -- "%{$v}" "$ROOT/README.md" || { echo "README lacks %{$v}"; return 1; }
    run "$ACRAWL" -q -w "%{$v}" "$BASE/ok"
    assert_success
  done
}
