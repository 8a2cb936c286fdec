#!/usr/bin/env bats
# Errors before and around the run: each says what failed, in the program's words,
# exits 2, and prints no report for a run that never started.

load helpers

@test "a bad --resolve is exit 2 with its reason and no report" {
  run "$ACRAWL" --resolve bad http://x.test/
  assert_failure 2
  assert_output "acrawl: resolve override 'bad': wants host:port:addr[,addr...]"
}

@test "bad --dns-servers is exit 2 with its reason and no report" {
  run "$ACRAWL" --dns-servers bogus http://x.test/
  assert_failure 2
  assert_output "acrawl: DNS servers 'bogus': Misformatted string"
}

@test "an -o directory that cannot be made is exit 2, naming it" {
  run "$ACRAWL" -o /proc/nope/x http://x.test/
  assert_failure 2
  assert_output "acrawl: output directory /proc/nope/x: No such file or directory"
}

@test "input that cannot be read is exit 2 with the reason, on both engines" {
  for engine in acrawl curl; do
    run "$ACRAWL" -q --engine "$engine" "$BATS_TEST_TMPDIR"
    assert_failure 2
    assert_output "acrawl: cannot read $BATS_TEST_TMPDIR: Is a directory"
  done
}
