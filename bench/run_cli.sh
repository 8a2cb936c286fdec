#!/usr/bin/env bash
# run_cli.sh -- the acrawl command against nginx on loopback, beside curl --parallel,
# xargs -P curl and asyncio+aiohttp, all in this session. Prints a ratio table on
# stderr and one JSON object on stdout. SCALE=small runs shorter lists.
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
A=./acrawl
dir=$(mktemp -d /tmp/acrawl-bench-XXXXXX)
trap 'bash bench/nginx.sh stop "$dir"; rm -rf "$dir"' EXIT
read -r port _ < <(bash bench/nginx.sh start "$dir" "$B/certs")
base="http://127.0.0.1:$port"
ulimit -n "$(ulimit -Hn)"
big=${BIG:-1000000}

# measure LABEL CMD... : wall seconds, CPU seconds, peak RSS (KB) of one command
measure() {
  local label=$1
  shift
  /usr/bin/time -o "$dir/t" -f "%e %U %S %M" "$@" >"$dir/out" 2>/dev/null || true
  read -r wall user sys rss <"$dir/t"
  lines=$(wc -l <"$dir/out")
  eval "${label}_wall=$wall ${label}_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}') ${label}_rss=$rss ${label}_lines=$lines"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# 1. 500 URLs delayed 100 ms at -c 50: the ideal is 10 rounds = 1.00 s
for _ in $(seq 500); do echo "$base/delay?s=0.1"; done >"$dir/d500"
measure a1 $A -q -c 50 "$dir/d500"
measure c1 curl -s --parallel --parallel-max 50 --parallel-immediate -K <(sed 's/.*/url = "&"\noutput = \/dev\/null/' "$dir/d500")
measure x1 sh -c "xargs -P 50 -n 1 curl -s -o /dev/null < '$dir/d500'"
measure p1 /usr/bin/python3 bench/aiohttp_fetch.py "$dir/d500" 50

# 2. 20 000 small responses at -c 50: throughput and CPU per request
for _ in $(seq 20000); do echo "$base/ok"; done >"$dir/s20k"
measure a2 taskset -c 0 $A -q -c 50 "$dir/s20k"
measure c2 taskset -c 0 curl -s --parallel --parallel-max 50 --parallel-immediate \
  -K <(sed 's/.*/url = "&"\noutput = \/dev\/null/' "$dir/s20k")
measure p2 taskset -c 0 /usr/bin/python3 bench/aiohttp_fetch.py "$dir/s20k" 50

# 3. 10 000 URLs delayed 1 s at -c 10 000 (within the fd limit)
for _ in $(seq 10000); do echo "$base/delay?s=1"; done >"$dir/d10k"
measure a3 $A -q -c 10000 "$dir/d10k"
measure p3 /usr/bin/python3 bench/aiohttp_fetch.py "$dir/d10k" 10000

# 4. memory does not grow with the list: 10 000 vs $big URLs at -c 200 (streamed from a pipe)
measure a4s sh -c "yes '$base/ok' | head -n 10000 | $A -q -c 200 -"
measure a4b sh -c "yes '$base/ok' | head -n $big | $A -q -c 200 -"

rps() { awk -v n="$1" -v w="$2" 'BEGIN { printf "%.0f", n / w }'; }
cpu_us() { awk -v c="$1" -v n="$2" 'BEGIN { printf "%.2f", c * 1e6 / n }'; }
cat >&2 <<TABLE
                                    acrawl    curl-par   xargs-curl   aiohttp
500 x 100 ms, -c 50: wall (ideal 1 s) $a1_wall      $c1_wall       $x1_wall        $p1_wall
20k small, -c 50: req/s             $(rps 20000 "$a2_wall")     $(rps 20000 "$c2_wall")       -            $(rps 20000 "$p2_wall")
20k small: CPU us/request           $(cpu_us "$a2_cpu" 20000)      $(cpu_us "$c2_cpu" 20000)       -            $(cpu_us "$p2_cpu" 20000)
10k x 1 s, -c 10000: wall           $a3_wall      -            -            $p3_wall
10k x 1 s: peak RSS MB              $((a3_rss / 1024))         -            -            $((p3_rss / 1024))
-c 200 peak RSS: 10k vs $big URLs   $((a4s_rss / 1024)) MB vs $((a4b_rss / 1024)) MB
TABLE
cat <<JSON
{"bench":"cli",
 "delay500":{"ideal_s":1.0,"acrawl_s":$a1_wall,"acrawl_ratio_to_ideal":$(ratio "$a1_wall" 1),"curl_parallel_s":$c1_wall,"xargs_curl_s":$x1_wall,"aiohttp_s":$p1_wall,"records":$a1_lines},
 "small20k":{"acrawl_rps":$(rps 20000 "$a2_wall"),"curl_parallel_rps":$(rps 20000 "$c2_wall"),"aiohttp_rps":$(rps 20000 "$p2_wall"),"acrawl_cpu_us_per_req":$(cpu_us "$a2_cpu" 20000),"curl_parallel_cpu_us_per_req":$(cpu_us "$c2_cpu" 20000),"ratio_vs_curl_parallel":$(ratio "$c2_wall" "$a2_wall"),"records":$a2_lines},
 "delay10k":{"acrawl_wall_s":$a3_wall,"acrawl_peak_rss_kb":$a3_rss,"aiohttp_wall_s":$p3_wall,"aiohttp_peak_rss_kb":$p3_rss,"records":$a3_lines},
 "rss_vs_list_length":{"urls_small":10000,"urls_big":$big,"peak_rss_kb_small":$a4s_rss,"peak_rss_kb_big":$a4b_rss,"ratio":$(ratio "$a4b_rss" "$a4s_rss"),"records_big":$a4b_lines}}
JSON
