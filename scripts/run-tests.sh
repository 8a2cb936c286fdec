#!/usr/bin/env bash
# run-tests.sh BIN... -- runs Criterion test binaries one after another. Criterion
# runs each test in a worker whose sanitizer reports (LeakSanitizer above all) do
# not change the test's verdict, so any report in the output fails the run here.
set -u
status=0
for t in "$@"; do
  echo "== $t"
  log=$(mktemp)
  "$t" --jobs 1 >"$log" 2>&1
  rc=$?
  cat "$log"
  if [ $rc -ne 0 ]; then
    status=1
  fi
  if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
    echo "run-tests.sh: sanitizer report in $t" >&2
    status=1
  fi
  rm -f "$log"
done
exit $status
