#!/usr/bin/env bash
# deps.sh -- install the Debian packages acrawl's build, tests and benchmarks need,
# then the npm packages of the WARC checker (tests/warc). Idempotent: checks each
# package with dpkg and runs apt-get only for what is missing; runs npm ci only when
# tests/warc/node_modules lacks warcio.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
  # build
  build-essential pkg-config
  libc-ares-dev node-llhttp libssl-dev openssl libcurl4-openssl-dev zlib1g-dev libxml2-dev libisal-dev
  # the Redis client (--redis): hiredis encodes commands and parses replies
  libhiredis-dev
  # tests: Criterion, bats, the CLI tools the bats tests call, dnsmasq as a real DNS peer
  libcriterion-dev bats bats-assert bats-support curl python3 man-db bsdutils valgrind dnsmasq-base
  # a real Redis for the tests of the Redis client and the shared job (tests/unit/test_redis.c, test_job.c)
  redis-server
  # the in-tree fuzzers (make fuzz, fuzz-smoke in make check): clang's libFuzzer
  clang libclang-rt-14-dev
  # the AArch64 context switch, cross-built and run under qemu-user
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  # benchmarks: nginx as the server, wrk and the asyncio+aiohttp peer; wget2 and Scrapy
  # as the crawl bench's peers; GNU wget, whose WARC writer is the archive bench's peer
  nginx-light libnginx-mod-http-echo wrk python3-aiohttp wget2 python3-scrapy wget
)
# the WARC checker runs on node (preinstalled on most machines: only asked for if absent)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done

# The WARC checker's warcio.js, at the versions of tests/warc/package-lock.json.
npm_deps() {
  [ -f "$root/tests/warc/node_modules/warcio/package.json" ] && return 0
  echo "deps.sh: npm ci in tests/warc" >&2
  if ! npm ci --no-audit --no-fund --prefix "$root/tests/warc" >/dev/null; then
    echo "deps.sh: npm ci failed; run by hand:" >&2
    echo "  npm ci --no-audit --no-fund --prefix $root/tests/warc" >&2
    exit 1
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_deps
  exit 0
fi

echo "deps.sh: installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "deps.sh: not root and no sudo; run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -qq || ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "deps.sh: install failed; run by hand:" >&2
  echo "  $sudo apt-get update && $sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
npm_deps
