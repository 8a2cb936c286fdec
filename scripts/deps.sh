#!/usr/bin/env bash
# deps.sh -- install the Debian packages acrawl's build, tests and benchmarks need.
# Idempotent: checks each package with dpkg and runs apt-get only for what is missing.
set -eu

pkgs=(
  # build
  build-essential pkg-config
  libc-ares-dev node-llhttp libssl-dev openssl libcurl4-openssl-dev zlib1g-dev libxml2-dev
  # tests: Criterion, bats, the CLI tools the bats tests call, dnsmasq as a real DNS peer
  libcriterion-dev bats bats-assert bats-support curl python3 man-db bsdutils valgrind dnsmasq-base
  # the in-tree fuzzers (make fuzz, fuzz-smoke in make check): clang's libFuzzer
  clang libclang-rt-14-dev
  # the AArch64 context switch, cross-built and run under qemu-user
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  # benchmarks: nginx as the server, wrk and the asyncio+aiohttp peer; wget2 and Scrapy
  # as the crawl bench's peers
  nginx-light libnginx-mod-http-echo wrk python3-aiohttp wget2 python3-scrapy
)

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

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
