#!/usr/bin/env bats
# --warc (issue 10): WARC 1.1 archives read back by an independent reader (warcio.js,
# tests/warc/check_warc.mjs): record types and headers, digests recomputed, requests
# paired with responses, one gzip member per record; and the bodies in the archive
# equal what the test server sent.

load helpers

# check FILE...: the independent reader's verdict; its JSON summary in w.json.
check() { node "$ROOT/tests/warc/check_warc.mjs" "$@" >w.json; }

# jq-like access to w.json: py EXPR (w is the summary).
py() { python3 -c "import json; w = json.load(open('w.json')); print($1)"; }

@test "bodies in the WARC are the bodies the server sent: Content-Length, chunked, close-delimited, gzip" {
  local paths="/bytes/70000 /chunked/70000 /eof/70000 /gzip/70000 /deflate/3000 /ok"
  local urls=()
  for p in $paths; do urls+=("$BASE$p"); done
  run "$ACRAWL" -q --warc out.warc.gz "${urls[@]}"
  assert_success
  run check out.warc.gz
  assert_success
  assert_equal "$(py 'w["types"]')" "{'warcinfo': 1, 'request': 6, 'response': 6}"
  for p in $paths; do
    # curl without --compressed: transfer coding removed, content coding kept
    want=$(curl -s "$BASE$p" | sha1sum | cut -d' ' -f1)
    got=$(py "w['responses']['$BASE$p']['payload_sha1']")
    assert_equal "$got" "$want"
  done
  # with --compressed the records show decoded sizes; the archive still holds the wire
  run "$ACRAWL" -q --compressed --warc dec.warc "$BASE/gzip/70000"
  assert_success
  run check dec.warc
  assert_success
  assert_equal "$(py "w['responses']['$BASE/gzip/70000']['payload_sha1']")" \
    "$(curl -s "$BASE/gzip/70000" | sha1sum | cut -d' ' -f1)"
  grep -aq "^Accept-Encoding: gzip" dec.warc
}

@test "warcinfo first, with the format and the command line; the name decides gzip, --warc-gzip forces it" {
  run "$ACRAWL" -q --warc plain.warc "$BASE/ok"
  assert_success
  run head -c 8 plain.warc
  assert_output "WARC/1.1"
  grep -aq "^format: WARC File Format 1.1" plain.warc
  grep -aq "^acrawl-command-line: .*acrawl -q --warc plain.warc $BASE/ok" plain.warc
  run "$ACRAWL" -q --warc forced.warc --warc-gzip "$BASE/ok"
  assert_success
  run od -An -tx1 -N2 forced.warc
  assert_output " 1f 8b"
  run check forced.warc
  assert_success
}

@test "redirect hops are archived, each its own request and response" {
  run "$ACRAWL" -q -L --warc r.warc.gz "$BASE/redirect/2"
  assert_success
  run check r.warc.gz
  assert_success
  assert_equal "$(py 'w["types"]["response"]')" 3
  assert_equal "$(py "w['responses']['$BASE/redirect/2']['status']")" 302
  assert_equal "$(py "w['responses']['$BASE/ok']['status']")" 200
}

@test "failed exchanges: what was received, marked truncated, and a metadata record with the error kind" {
  local dead="http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')/"
  run "$ACRAWL" -q --warc f.warc "$BASE/truncate" "$BASE/reset" "$dead"
  assert_failure 1
  run check f.warc
  assert_success
  assert_equal "$(py "w['responses']['$BASE/truncate']['truncated']")" "disconnect"
  assert_equal "$(py 'w["types"]["metadata"]')" 3
  grep -aq "^error-kind: refused" f.warc
  grep -aq "^error-kind: reset" f.warc
  # a refused connect sent nothing: no request, no response for it
  assert_equal "$(py "'$dead' in w['responses']")" False
}

@test "--warc-max-size rotates: every file starts with warcinfo, no record is split, all valid" {
  for i in $(seq 40); do echo "$BASE/bytes/$((i * 100))"; done >urls.txt
  run "$ACRAWL" -q --warc rot.warc.gz --warc-max-size 4k urls.txt
  assert_success
  [ ! -e rot.warc.gz ]
  run ls rot-00001.warc.gz rot-00002.warc.gz rot-00003.warc.gz
  assert_success
  run check rot-0*.warc.gz
  assert_success
  assert_equal "$(py 'w["types"]["response"]')" 40
  assert_equal "$(py 'w["types"]["warcinfo"]')" "$(ls rot-0*.warc.gz | wc -l)"
  for f in rot-0*.warc.gz; do
    [ "$(stat -c %s "$f")" -le 4096 ] # no record here is larger than 4k on its own
  done
}

@test "a crawl archives robots.txt and every page it records" {
  run bash -c "'$ACRAWL' --crawl -l inf -j -q --warc c.warc.gz '$BASE/site/graph/20/0' >out.json"
  assert_success
  run check c.warc.gz
  assert_success
  assert_equal "$(py "w['responses']['$BASE/robots.txt']['count']")" 1
  run python3 -c '
import json
w = json.load(open("w.json"))
for l in open("out.json"):
    u = json.loads(l)["url"]
    assert w["responses"][u]["count"] == 1, u'
  assert_success
}

@test "10 000 URLs at -c 500 with --warc: one record and one response each" {
  for i in $(seq 10000); do echo "$BASE/bytes/$((i % 50))?i=$i"; done >urls.txt
  run bash -c "'$ACRAWL' -c 500 -q -j --warc big.warc.gz urls.txt >out.json"
  assert_success
  [ "$(wc -l <out.json)" -eq 10000 ]
  run check big.warc.gz
  assert_success
  assert_equal "$(py 'len(w["responses"])')" 10000
  assert_equal "$(py 'sum(r["count"] for r in w["responses"].values())')" 10000
}

@test "--warc refuses what cannot archive: the libcurl engine, --compare, a file it cannot create" {
  run "$ACRAWL" --warc x.warc --engine curl "$BASE/ok"
  assert_failure 2
  assert_output --partial "--warc"
  run "$ACRAWL" --warc x.warc --compare "$BASE/ok"
  assert_failure 2
  run "$ACRAWL" --warc-gzip "$BASE/ok"
  assert_failure 2
  assert_output --partial "--warc-gzip needs --warc"
  run "$ACRAWL" --warc no/such/dir/x.warc "$BASE/ok"
  assert_failure 2
  assert_output --partial "no/such/dir/x.warc"
  refute_output --partial "$BASE/ok"
  run "$ACRAWL" --state st "$BASE/ok"
  assert_failure 2
  assert_output --partial "crawl mode only"
  # the records' own file, a file in the state's directory, a file another acrawl writes
  run bash -c "'$ACRAWL' -q --warc rec.out '$BASE/ok' >rec.out"
  assert_failure 2
  assert_output --partial "is the file the records go to"
  mkdir st
  run "$ACRAWL" --crawl -q --state st --warc st/x.warc "$BASE/site/graph/3/0"
  assert_failure 2
  assert_output --partial "inside the --state directory"
  "$ACRAWL" -q --warc busy.warc "$BASE/delay/1500" >/dev/null &
  sleep 0.5
  run "$ACRAWL" -q --warc busy.warc "$BASE/ok"
  wait
  assert_failure 2
  assert_output --partial "another process is writing it"
  run check busy.warc
  assert_success
}

@test "HEAD, 204 and closed stdout: bodiless responses stay valid, records never land in the WARC" {
  run "$ACRAWL" -q -X HEAD --warc h.warc "$BASE/chunked/100" "$BASE/status/204"
  assert_success
  run check h.warc
  assert_success
  run bash -c "'$ACRAWL' -q -j --warc c.warc '$BASE/ok' >&-"
  run head -c 8 c.warc
  assert_output "WARC/1.1"
  run check c.warc
  assert_success
}
