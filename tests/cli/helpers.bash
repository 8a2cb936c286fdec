# helpers.bash -- shared set-up for the CLI tests: bats-assert, the binaries, and
# the project's test server (plain + TLS) started once per file on loopback.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
ACRAWL=${ACRAWL:-$ROOT/acrawl}
SERVER=${ACR_TESTSERVER:-$ROOT/build/acrawl-testserver}
CERTS=${ACR_CERTS:-$ROOT/build/certs}

start_server() {
  local out="$BATS_FILE_TMPDIR/server.out"
  "$SERVER" --max-seconds 300 --tls "$CERTS/good.pem" "$CERTS/good.key" \
    --tls "$CERTS/expired.pem" "$CERTS/expired.key" >"$out" 2>/dev/null 3>&- &
  echo $! >"$BATS_FILE_TMPDIR/server.pid"
  for _ in $(seq 100); do
    [ -s "$out" ] && break
    sleep 0.05
  done
  read -r line <"$out"
  PORT=$(sed 's/http=\([0-9]*\).*/\1/' <<<"$line")
  TLS_GOOD=$(awk '{print $2}' <<<"$line" | cut -d= -f2)
  TLS_EXPIRED=$(awk '{print $3}' <<<"$line" | cut -d= -f2)
  export PORT TLS_GOOD TLS_EXPIRED BASE="http://127.0.0.1:$PORT"
}

stop_server() {
  kill "$(cat "$BATS_FILE_TMPDIR/server.pid")" 2>/dev/null || true
}

# peak concurrent requests the server saw since the last reset
server_peak() { curl -s "$BASE/stats" | sed 's/.*"peak":\([0-9]*\).*/\1/'; }
server_reset() { curl -s "$BASE/stats/reset" >/dev/null; }

# milliseconds since the epoch
now_ms() { date +%s%3N; }

# A server of its own (its own /robots.txt variant, its own arrival log): sets EXTRA
# to its base URL. teardown stops it.
start_extra() {
  local out="$BATS_TEST_TMPDIR/extra.out"
  "$SERVER" --max-seconds 120 "$@" >"$out" 2>/dev/null 3>&- &
  echo $! >>"$BATS_TEST_TMPDIR/extra.pids"
  for _ in $(seq 100); do
    [ -s "$out" ] && break
    sleep 0.05
  done
  EXTRA="http://127.0.0.1:$(sed 's/http=\([0-9]*\).*/\1/' "$out")"
}

stop_extras() {
  if [ -f "$BATS_TEST_TMPDIR/extra.pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$BATS_TEST_TMPDIR/extra.pids"
  fi
}

# ---- crawl records (JSON Lines) ----

# The URL paths of the records in out.json (JSON Lines), sorted.
paths() { python3 -c '
import json, sys, urllib.parse
for l in open(sys.argv[1]):
    print(urllib.parse.urlsplit(json.loads(l)["url"]).path)' "${1:-out.json}" | sort; }

# No URL has two records.
each_once() {
  local dups
  dups=$(python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)["url"] for l in open(sys.argv[1]))
print(" ".join(u for u, n in c.items() if n > 1))' "${1:-out.json}")
  [ -z "$dups" ] || { echo "fetched twice: $dups"; return 1; }
}

# What a crawl of /site/graph/N/0 fetches with the defaults (pages, no requisites):
# the pages, and every same-origin non-requisite they link.
graph_set() {
  local n=$1
  for ((i = 0; i < n; i++)); do
    printf '%s\n' "/site/graph/$n/$i" "/site/redir/$n/$i" "/site/private/$i" "/site/private/open/$i" \
      "/site/file/$i.pdf" "/site/data/$i.json"
  done | sort
}

# The usual hooks, for files that `load helpers` at their top: one test server per
# file, each test in its own temporary directory. A file that needs more defines its
# own hook after the load and calls start_server / stop_server itself.
setup_file() { start_server; }
teardown_file() { stop_server; }
setup() { cd "$BATS_TEST_TMPDIR" || return 1; }
teardown() { stop_extras; }
