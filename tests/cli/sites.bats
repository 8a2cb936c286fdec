#!/usr/bin/env bats
# sites.bats -- the test server's crawlable sites (tests/server/SITES.md), checked with
# curl: the crawler's tests will rely on exactly these answers.
load helpers

# status and content type of a GET
status_type() { curl -s -o /dev/null -w '%{http_code} %{content_type}' "$@"; }

@test "a graph page is HTML with every form of link" {
  run curl -s "$BASE/site/graph/5/0"
  assert_success
  assert_output --partial '<a href="1">relative</a>'
  assert_output --partial '<a href="./2#frag">'
  assert_output --partial '<a href="../../graph/5/2">'
  assert_output --partial '<a href="/site/graph/5/3">'
  assert_output --partial "<a href=\"http://127.0.0.1:$PORT/site/graph/5/3\">absolute"
  assert_output --partial "<a href=\"HTTP://127.0.0.1:$PORT/site/graph/5/1\">"
  assert_output --partial '<a href="/site/gr%61ph/5/2">'
  assert_output --partial '<a href="/site/redir/5/3">'
  assert_output --partial 'href="http://other.invalid/'
  assert_output --partial 'href="mailto:'
  assert_output --partial 'href="javascript:'
  assert_output --partial 'href="tel:'
  assert_output --partial 'href="data:'
  assert_output --partial 'srcset="/site/img/0.png 1x, /site/img/0-2x.png 2x"'
  assert_output --partial '<link rel="stylesheet" href="/site/css/site.css">'
  assert_output --partial '<script src="/site/js/site.js">'
  assert_output --partial '<a href="/site/file/0.pdf">'
  assert_output --partial '<a href="/site/private/open/0">'
  refute_output --partial '<base'
  [ "$(status_type "$BASE/site/graph/5/0")" = "200 text/html; charset=utf-8" ]
}

@test "graph pages 1 mod 3 carry a base, 4 mod 5 a meta refresh" {
  run curl -s "$BASE/site/graph/5/1"
  assert_output --partial '<base href="/site/">'
  assert_output --partial '<a href="graph/5/2">relative</a>'
  assert_output --partial '<a href="graph/5/1#top">'
  run curl -s "$BASE/site/graph/5/4"
  assert_output --partial '<meta http-equiv="refresh" content="30; url=/site/graph/5/0">'
}

@test "graph links on the TLS listener name https" {
  run curl -sk "https://127.0.0.1:$TLS_GOOD/site/graph/3/0"
  assert_output --partial "href=\"https://127.0.0.1:$TLS_GOOD/site/graph/3/0\""
  assert_output --partial "href=\"HTTPS://127.0.0.1:$TLS_GOOD/site/graph/3/1\""
}

@test "graph paths outside the graph are 404" {
  for p in graph/5/5 graph/05/1 graph/0/0 graph/5/1/ graph/5 graph/1000001/0 redir/5/5; do
    [ "$(status_type "$BASE/site/$p")" = "404 text/plain" ] || { echo "$p"; false; }
  done
}

@test "the redirect link answers 301 to its page" {
  run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/site/redir/5/2"
  assert_output "301 $BASE/site/graph/5/2"
}

@test "graph pages 3 mod 4 are gzip-encoded only when the request accepts gzip" {
  run curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$BASE/site/graph/5/3"
  assert_output --partial 'Content-Encoding: gzip'
  run curl -s --compressed "$BASE/site/graph/5/3"
  assert_output --partial '<a href="./0#frag">'
  run curl -s -D - -o /dev/null "$BASE/site/graph/5/3"
  refute_output --partial 'Content-Encoding'
  run curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$BASE/site/graph/5/2"
  refute_output --partial 'Content-Encoding'
}

@test "the graph's reachable set is pages 0..N-1 plus the documented resources" {
  run python3 - "$BASE" <<'EOF'
import re, sys, urllib.parse, urllib.request
O = sys.argv[1]
def norm(u):
    p = urllib.parse.urlsplit(urllib.parse.urldefrag(u)[0])
    return urllib.parse.urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path.replace('%61', 'a'), p.query, ''))
for n in (1, 2, 3, 7, 12, 60):
    seen, todo, other = {O + f'/site/graph/{n}/0'}, [O + f'/site/graph/{n}/0'], set()
    while todo:
        u = todo.pop()
        body = urllib.request.urlopen(u).read().decode()
        base = u
        m = re.search(r'<base href="([^"]*)">', body)
        if m:
            base = urllib.parse.urljoin(u, m.group(1))
            body = body.replace(m.group(0), '')
        body = re.sub(r'<!--.*?-->', '', body, flags=re.S)
        refs = re.findall(r'(?:href|src)="([^"]*)"', body)
        refs += [c.split()[0] for s in re.findall(r'srcset="([^"]*)"', body) for c in s.split(',')]
        for ref in refs:
            a = norm(urllib.parse.urljoin(base, ref))
            if not a.startswith(O + '/'):
                continue
            if re.fullmatch(re.escape(O) + r'/site/graph/\d+/\d+', a):
                if a not in seen:
                    seen.add(a)
                    todo.append(a)
            else:
                other.add(a[len(O):])
    assert seen == {O + f'/site/graph/{n}/{i}' for i in range(n)}, (n, seen)
    want = {'/site/css/site.css', '/site/js/site.js'}
    for i in range(n):
        want |= {f'/site/redir/{n}/{i}', f'/site/private/{i}', f'/site/private/open/{i}',
                 f'/site/file/{i}.pdf', f'/site/data/{i}.json', f'/site/img/{i}.png', f'/site/img/{i}-2x.png'}
    assert other == want, (n, other ^ want)
    for path in other:
        assert urllib.request.urlopen(O + path).status == 200, path
print('ok')
EOF
  assert_success
  assert_output ok
}

@test "non-HTML resources have their content types" {
  [ "$(status_type "$BASE/site/file/3.pdf")" = "200 application/pdf" ]
  [ "$(status_type "$BASE/site/data/3.json")" = "200 application/json" ]
  [ "$(status_type "$BASE/site/img/3.png")" = "200 image/png" ]
  [ "$(status_type "$BASE/site/img/3-2x.png")" = "200 image/png" ]
  [ "$(status_type "$BASE/site/css/site.css")" = "200 text/css" ]
  [ "$(status_type "$BASE/site/js/site.js")" = "200 application/javascript" ]
  [ "$(status_type "$BASE/site/private/3")" = "200 text/html; charset=utf-8" ]
  [ "$(status_type "$BASE/site/file/3.json")" = "404 text/plain" ]
  run curl -s "$BASE/site/data/3.json"
  assert_output --partial '"i":3'
  run bash -c "curl -s '$BASE/site/img/3.png' | head -c 4 | od -An -c"
  assert_output --partial 'P   N   G'
}

@test "every robots variant is served at /site/robots/VARIANT" {
  [ "$(status_type "$BASE/site/robots/404")" = "404 text/plain" ]
  [ "$(status_type "$BASE/site/robots/500")" = "500 text/plain" ]
  [ "$(status_type "$BASE/site/robots/503")" = "503 text/plain" ]
  [ "$(status_type "$BASE/site/robots/nope")" = "404 text/plain" ]
  run curl -s "$BASE/site/robots/longest-match"
  assert_output --partial $'Disallow: /site/private/\nAllow: /site/private/open/'
  run curl -s "$BASE/site/robots/patterns"
  assert_output --partial 'Disallow: /*.pdf$'
  assert_output --partial 'Allow: /site/data/*.json$'
  run curl -s "$BASE/site/robots/agent-group"
  assert_output --partial $'User-agent: ACrawl\nDisallow: /site/private/'
  run curl -s "$BASE/site/robots/crawl-delay-0.2"
  assert_output --partial 'Crawl-delay: 0.2'
  run curl -s "$BASE/site/robots/sitemap"
  assert_output --partial "Sitemap: $BASE/site/sitemap.xml"
  assert_output --partial "Sitemap: $BASE/site/sitemap-index.xml"
}

@test "the redirect robots variant is a 301 then a 302 then the rules" {
  run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/site/robots/redirect"
  assert_output "301 $BASE/site/robots/redirect/1"
  run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/site/robots/redirect/1"
  assert_output "302 $BASE/site/robots/redirect/2"
  run curl -sL -w '\n%{num_redirects}' "$BASE/site/robots/redirect"
  assert_output $'User-agent: *\nDisallow: /site/private/\n\n2'
}

@test "the large robots variant is 600 KiB with a rule past 500 KiB" {
  curl -s "$BASE/site/robots/large" >robots.txt
  [ "$(wc -c <robots.txt)" -eq 614400 ]
  head -2 robots.txt | grep -qx 'Disallow: /site/file/'
  offset=$(grep -b 'Disallow: /site/private/' robots.txt | cut -d: -f1)
  [ "$offset" -gt 512000 ]
  [ "$(tail -c 1 robots.txt | od -An -c | tr -d ' ')" = '\n' ]
}

@test "--robots selects /robots.txt for the whole server; the default is 404" {
  [ "$(status_type "$BASE/robots.txt")" = "404 text/plain" ]
  start_extra --robots crawl-delay-1
  run curl -s "$EXTRA/robots.txt"
  assert_output $'User-agent: *\nCrawl-delay: 1\nDisallow: /site/private/'
  start_extra --robots redirect
  run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$EXTRA/robots.txt"
  assert_output "301 $EXTRA/site/robots/redirect/1"
}

@test "an unknown --robots variant is a usage error naming the variants" {
  run "$SERVER" --robots nope
  assert_failure 2
  assert_output --partial 'disallow-private'
}

@test "the stall robots variant never answers" {
  start_extra --robots stall
  run curl -s -m 1 "$EXTRA/robots.txt"
  assert_failure 28
}

@test "sitemaps list graph pages and the orphan; the .gz one decodes" {
  run curl -s "$BASE/site/sitemap.xml"
  assert_output --partial "<loc>$BASE/site/graph/10/5</loc>"
  assert_output --partial "<loc>$BASE/site/orphan/1</loc>"
  run curl -s "$BASE/site/sitemap-index.xml"
  assert_output --partial '<sitemapindex'
  assert_output --partial "<loc>$BASE/site/sitemap.xml</loc>"
  assert_output --partial "<loc>$BASE/site/sitemap-2.xml</loc>"
  run curl -s "$BASE/site/sitemap-2.xml"
  assert_output --partial "<loc>$BASE/site/orphan/2</loc>"
  [ "$(status_type "$BASE/site/sitemap.xml.gz")" = "200 application/gzip" ]
  curl -s "$BASE/site/sitemap.xml.gz" | gunzip >decoded.xml
  curl -s "$BASE/site/sitemap.xml" | cmp - decoded.xml
  [ "$(status_type "$BASE/site/orphan/1")" = "200 text/html; charset=utf-8" ]
}

@test "the calendar links the previous and next month without end" {
  run curl -s "$BASE/site/calendar/2026/12"
  assert_output --partial '<a href="../2026/11">'
  assert_output --partial '<a href="/site/calendar/2027/01">'
  run curl -s "$BASE/site/calendar/0001/01"
  refute_output --partial 'previous'
  assert_output --partial '/site/calendar/0001/02'
  [ "$(status_type "$BASE/site/calendar/2026/13")" = "404 text/plain" ]
  [ "$(status_type "$BASE/site/calendar/2026/1")" = "404 text/plain" ]
}

@test "the repeated-segment trap links one level deeper, up to 500" {
  run curl -s "$BASE/site/trap/a/a/"
  assert_output --partial '<a href="a/">'
  deep=$(printf 'a/%.0s' $(seq 500))
  run curl -s "$BASE/site/trap/$deep"
  assert_output --partial 'trap depth 500'
  refute_output --partial 'href'
  [ "$(status_type "$BASE/site/trap/${deep}a/")" = "404 text/plain" ]
  [ "$(status_type "$BASE/site/trap/b/")" = "404 text/plain" ]
}

@test "/site/slow answers after 2 s and /site/stall never" {
  t0=$(now_ms)
  [ "$(status_type "$BASE/site/slow/1")" = "200 text/html; charset=utf-8" ]
  [ $(($(now_ms) - t0)) -ge 1900 ]
  run curl -s -m 1 "$BASE/site/stall"
  assert_failure 28
}

@test "/site-stats logs paths in order with their gaps" {
  start_extra
  run curl -s "$EXTRA/site-stats"
  assert_output '{"requests":0,"logged":0,"min_gap_ms":null,"paths":[],"t_ms":[]}'
  curl -s "$EXTRA/robots.txt" >/dev/null
  sleep 0.3
  curl -s "$EXTRA/site/graph/3/0" >/dev/null
  sleep 0.3
  curl -s "$EXTRA/site/data/1.json?x=1" >/dev/null
  curl -s "$EXTRA/ok" >/dev/null # not a site route: not logged
  run curl -s "$EXTRA/site-stats/reset"
  [ "$(jq -c .paths <<<"$output")" = '["/robots.txt","/site/graph/3/0","/site/data/1.json?x=1"]' ]
  [ "$(jq .requests <<<"$output")" -eq 3 ]
  [ "$(jq '.t_ms[0]' <<<"$output")" = 0 ]
  jq -e '.min_gap_ms >= 250 and .t_ms[2] - .t_ms[1] >= 250 and .t_ms[1] >= 250' <<<"$output"
  run curl -s "$EXTRA/site-stats"
  assert_output --partial '"requests":0'
}
