#!/usr/bin/env bash
# demo.sh -- the main job on a fresh machine: install what is missing, build, start
# the local test server, write a URL list like the classic asyncio demo (60 URLs
# whose server delays are random between 20 and 300 ms), and run acrawl on it with
# --compare: the sequential run takes about 10 s, the concurrent one well under 1 s.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make -s all
dir=$(mktemp -d /tmp/acrawl-demo-XXXXXX)
build/acrawl-testserver --max-seconds 120 >"$dir/server.out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -s "$dir/server.out" ] && break; sleep 0.05; done
port=$(sed 's/http=\([0-9]*\).*/\1/' "$dir/server.out")
for _ in $(seq 60); do
  echo "http://127.0.0.1:$port/delay/$((20 + RANDOM % 281))"
done >"$dir/urls.txt"
echo "acrawl: 60 URLs in $dir/urls.txt (server delays 20-300 ms); running: acrawl urls.txt -c 50 --compare --timeline" >&2
./acrawl "$dir/urls.txt" -c 50 --compare --timeline
