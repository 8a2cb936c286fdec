#!/usr/bin/env bats
# Crawl mode (issue 9) against the test server's crawlable sites (tests/server/SITES.md):
# the exact set fetched, each URL once, scope, depth, limits, patterns, robots.txt,
# politeness measured at the server, cancellation, and a stalled host.

load helpers

@test "a crawl of the graph fetches exactly its pages and links, each once, nothing off-site" {
  run bash -c "'$ACRAWL' --crawl -l inf -j -q '$BASE/site/graph/12/0' >out.json"
  assert_success
  each_once
  assert_equal "$(paths)" "$(graph_set 12)"
  run grep -c '"url":"http://other.invalid' out.json
  assert_output 0
  # redirects are records of their own; their targets were seen already
  run python3 -c '
import json
for l in open("out.json"):
    r = json.loads(l)
    if "/site/redir/" in r["url"]:
        assert r["status"] == 301 and r["via"] == "link", r
    if r["url"].endswith("/site/graph/12/0"):
        assert r["depth"] == 0 and r["via"] == "seed" and r["parent"] is None, r'
  assert_success
}

@test "--page-requisites also fetches images, stylesheets and scripts, once each" {
  run bash -c "'$ACRAWL' --crawl --page-requisites -l inf -j -q '$BASE/site/graph/4/0' >out.json"
  assert_success
  each_once
  run paths
  assert_line /site/css/site.css
  assert_line /site/js/site.js
  assert_line /site/img/3.png
  assert_line /site/img/3-2x.png
}

@test "--level 1 stops one link away from the seed" {
  run bash -c "'$ACRAWL' --crawl -l 1 -j -q '$BASE/site/graph/12/0' >out.json"
  assert_success
  each_once
  run python3 -c 'import json; print(max(json.loads(l)["depth"] for l in open("out.json")))'
  assert_output 1
  run paths
  assert_line /site/graph/12/1
  refute_line /site/graph/12/5
}

@test "--max-pages stops after that many pages" {
  run bash -c "'$ACRAWL' --crawl -l inf --max-pages 5 -j -q '$BASE/site/graph/50/0' >out.json"
  assert_success
  assert_equal "$(wc -l <out.json)" 5
}

@test "--include and --exclude filter by regex" {
  run bash -c "'$ACRAWL' --crawl -l inf --include '/site/graph/' -j -q '$BASE/site/graph/6/0' >out.json"
  assert_success
  assert_equal "$(paths | grep -vc '^/site/graph/6/')" 0
  assert_equal "$(wc -l <out.json)" 6
  run bash -c "'$ACRAWL' --crawl -l inf --exclude '\\.(pdf|json)\$' -j -q '$BASE/site/graph/6/0' >out.json"
  assert_success
  assert_equal "$(paths | grep -cE '\.(pdf|json)$')" 0
  assert_equal "$(paths | grep -c '^/site/graph/6/')" 6
}

@test "--span-hosts follows links to other hosts; --domains to the domains named" {
  # other.invalid resolves to a closed port: its robots.txt is unreachable, which
  # RFC 9309 makes a disallow, so these crawls skip robots.txt to see the fetches.
  local resolve=(--no-robots --resolve other.invalid:80:127.0.0.1 --resolve other.invalid:443:127.0.0.1)
  run bash -c "'$ACRAWL' --crawl -l 1 -j -q ${resolve[*]} '$BASE/site/graph/6/0' >out.json"
  assert_equal "$(grep -c 'other.invalid' out.json)" 0
  run bash -c "'$ACRAWL' --crawl -l 1 --span-hosts -t 2 -j -q ${resolve[*]} '$BASE/site/graph/6/0' >out.json"
  assert_equal "$(grep -c '"url":"http://other.invalid/site/graph/6/1"' out.json)" 1
  run bash -c "'$ACRAWL' --crawl -l 1 --domains invalid -t 2 -j -q ${resolve[*]} '$BASE/site/graph/6/0' >out.json"
  assert_equal "$(grep -c '"url":"http://other.invalid/site/graph/6/1"' out.json)" 1
  run bash -c "'$ACRAWL' --crawl -l 1 --span-hosts --exclude-domains invalid -j -q '$BASE/site/graph/6/0' >out.json"
  assert_equal "$(grep -c 'other.invalid' out.json)" 0
}

@test "robots.txt: disallowed paths are skipped and logged, never fetched" {
  start_extra --robots disallow-private
  run bash -c "'$ACRAWL' --crawl -l inf -j -q --log-skipped skipped.txt '$EXTRA/site/graph/6/0' >out.json"
  assert_success
  each_once
  assert_equal "$(paths | grep -c '^/site/private/')" 0
  assert_equal "$(paths | grep -c '^/site/graph/6/')" 6
  run grep -c $'^robots\t'"$EXTRA/site/private/" skipped.txt
  assert_output 12
  run curl -s "$EXTRA/site-stats"
  refute_output --partial '/site/private/'
  assert_output --partial '"/robots.txt"'
}

@test "robots.txt 4xx allows everything; 5xx disallows the origin until it gives up" {
  start_extra --robots 500
  run bash -c "'$ACRAWL' --crawl -j --log-skipped skipped.txt '$EXTRA/site/graph/3/0' >out.json 2>err.txt"
  assert_success
  assert_equal "$(wc -l <out.json)" 0
  run cat skipped.txt
  assert_output $'robots-unavailable\t'"$EXTRA/site/graph/3/0"$'\t-'
  run grep -E 'robots.txt: 3 fetches: 0 parsed, 0 4xx \(all allowed\), 3 unavailable' err.txt
  assert_success
  run curl -s "$EXTRA/site-stats"
  refute_output --partial '/site/graph/'
}

@test "Crawl-delay and --wait space the requests to one host, measured at the server" {
  start_extra --robots crawl-delay-0.2
  run bash -c "'$ACRAWL' --crawl -l inf --max-pages 5 -q '$EXTRA/site/graph/20/0' >out.txt"
  assert_success
  run python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["requests"], s["min_gap_ms"] >= 200)' \
    < <(curl -s "$EXTRA/site-stats")
  assert_output "6 True"
  start_extra
  run bash -c "'$ACRAWL' --crawl -l inf --max-pages 4 --wait 0.3 -c 10 --per-host 4 -q '$EXTRA/site/graph/20/0' >out.txt"
  assert_success
  run python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["requests"], s["min_gap_ms"] >= 300)' \
    < <(curl -s "$EXTRA/site-stats")
  assert_output "5 True"
}

@test "^C mid-crawl prints the records so far and the report, exit 130" {
  "$ACRAWL" --crawl -l inf --wait 0.05 "$BASE/site/graph/1000/0" >out.txt 2>err.txt &
  local pid=$!
  sleep 1
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_equal "$rc" 130
  [ "$(wc -l <out.txt)" -gt 3 ]
  run grep -c '^crawl: ' err.txt
  assert_output 1
}

@test "a stalled host does not stall the crawl of the others" {
  start_extra --robots stall
  local stalled=$EXTRA
  start_extra
  run bash -c "'$ACRAWL' --crawl -l inf -t 5 --deadline 2 -j -q '$stalled/site/graph/3/0' '$EXTRA/site/graph/5/0' >out.json"
  assert_failure 124
  # every page of the healthy host came back while the other's robots.txt hung
  assert_equal "$(grep -c "\"url\":\"$EXTRA/site/graph/5/[0-4]\",.*\"status\":200" out.json)" 5
}

@test "seeds: a bad one is a bad-url record, a repeated one is crawled once" {
  run bash -c "printf '%s\n' 'not a url' '$BASE/site/graph/2/0' '$BASE/site/graph/2/0' | '$ACRAWL' --crawl -l 0 -q"
  assert_failure 1
  assert_line --regexp $'^1\tERR\t.*\tbad-url\t'
  assert_equal "$(grep -c '/site/graph/2/0' <<<"$output")" 1
}

@test "-w knows depth, parent, links and via" {
  run "$ACRAWL" --crawl -l 1 -q --include '/site/graph/' -w '%{depth} %{via} %{links} %{url} %{parent}\n' \
    "$BASE/site/graph/3/0"
  assert_success
  assert_line --regexp "^0 seed [1-9][0-9]* $BASE/site/graph/3/0 \$"
  assert_line --regexp "^1 link [1-9][0-9]* $BASE/site/graph/3/1 $BASE/site/graph/3/0\$"
}

@test "crawl mode refuses what has no meaning there, and crawl flags need --crawl" {
  run "$ACRAWL" --crawl --engine curl "$BASE/"
  assert_failure 2
  assert_output --partial "--engine curl cannot crawl"
  run "$ACRAWL" --crawl --ordered "$BASE/"
  assert_failure 2
  assert_output --partial "--ordered does not apply in crawl mode"
  run "$ACRAWL" --max-pages 3 "$BASE/"
  assert_failure 2
  assert_output --partial "--max-pages applies to crawl mode only (add --crawl)"
}

@test "sitemaps: robots.txt's Sitemap lines and --sitemap (index, gzip) find pages nothing links" {
  start_extra --robots sitemap
  run bash -c "'$ACRAWL' --crawl -l 0 -j -q '$EXTRA/site/graph/10/0' >out.json"
  assert_success
  each_once
  run python3 -c '
import json
for l in open("out.json"):
    r = json.loads(l)
    print(r["via"], r["url"].split("/site/", 1)[1])' 
  assert_line "sitemap sitemap.xml"
  assert_line "sitemap sitemap-index.xml"
  assert_line "sitemap orphan/1"
  assert_line "sitemap orphan/2"
  assert_line "seed graph/10/0"
  run bash -c "'$ACRAWL' --crawl -l 0 --no-sitemaps -j -q '$EXTRA/site/graph/10/0' >out.json"
  assert_equal "$(grep -c orphan out.json)" 0
  run "$ACRAWL" --crawl -l 0 -q -w '%{url} %{via} %{links}\n' --sitemap "$BASE/site/sitemap.xml.gz"
  assert_success
  assert_line "$BASE/site/sitemap.xml.gz sitemap 3"
  assert_line --regexp "^$BASE/site/orphan/1 sitemap 0\$"
  run "$ACRAWL" --crawl --sitemap 'not a url' "$BASE/"
  assert_failure 2
}

@test "-o mirrors the site's paths under DIR, never outside it, bodies as the server sent them" {
  run bash -c "'$ACRAWL' --crawl -l inf -j -q -o mirror '$BASE/site/graph/3/0' '$BASE/site/graph/3/0?q=../../../../tmp/x' >out.json"
  assert_success
  local host="127.0.0.1_${PORT}"
  [ -f "mirror/$host/site/graph/3/0" ]
  [ -f "mirror/$host/site/private/open/2" ]
  [ -f "mirror/$host/site/file/1.pdf" ]
  # the query is part of a file name, its slashes and dots made harmless
  [ -f "mirror/$host/site/graph/3/0@q_.._.._.._.._tmp_x" ]
  # every file is under mirror/<host>/, each named by its record
  run bash -c "find mirror -type f | grep -vc '^mirror/$host/'"
  assert_output 0
  run python3 -c '
import json, os
for l in open("out.json"):
    r = json.loads(l)
    if r["status"] == 200:
        assert os.path.isfile("mirror/" + r["saved"]), r'
  assert_success
  curl -s "$BASE/site/graph/3/1" >want
  cmp want "mirror/$host/site/graph/3/1"
}

@test "--frontier-mem: past the bound URLs wait on disk; the crawl fetches the same set" {
  run bash -c "'$ACRAWL' --crawl -l inf -j -q '$BASE/site/graph/200/0' >mem.json"
  assert_success
  run bash -c "'$ACRAWL' --crawl -l inf -j --no-progress --frontier-mem 64k '$BASE/site/graph/200/0' >disk.json 2>err.txt"
  assert_success
  each_once disk.json
  assert_equal "$(paths disk.json)" "$(paths mem.json)"
  run grep -E 'frontier peak [0-9]+ \([1-9][0-9]* went to disk\)' err.txt
  assert_success
}

@test "--max-host-pages caps the pages queued for one host" {
  run bash -c "'$ACRAWL' --crawl -l inf -j -q --max-host-pages 10 --log-skipped skipped.txt '$BASE/site/graph/50/0' >out.json"
  assert_success
  assert_equal "$(wc -l <out.json)" 10
  run grep -c $'^trap-host-cap\t' skipped.txt
  refute_output 0
}
