#!/usr/bin/env bats
# One option table (src/app/cli.c, printed by the hidden --list-options) is the
# source of -h, of the libcurl engine's note about the flags it ignores, and of
# what acrawl.1 and README.md must document: every flag of the table in both, no
# other flag in their option sections, acrawl-only flags marked, man sections
# matching the table's help groups.

load helpers

setup() {
  cd "$BATS_TEST_TMPDIR"
  "$ACRAWL" --list-options >table.tsv
}

# ---- reading the table and the documents ----

# Column N of the table (1 long, 2 short, 3 value, 4 engines, 5 modes, 6 group),
# one line per row, header skipped.
column() { awk -F'\t' -v c="$1" 'NR > 1 { print $c }' table.tsv; }

# Every flag of the table: long names and short ones.
table_flags() { { column 1; column 2; } | grep . | sort -u; }

# The long flags no engine but acrawl honours.
acrawl_only() { awk -F'\t' 'NR > 1 && $4 == "acrawl" { print $1 }' table.tsv; }

# Flags written in text on stdin: --long-name and -x, not inside words or "--".
flag_tokens() {
  grep -oP -- '(?<![A-Za-z0-9-])(--[a-z0-9][a-z0-9-]*[a-z0-9]|-[A-Za-z0-9](?![A-Za-z0-9-]))' | sort -u
}

# The man page's OPTIONS section from its first .SS (the prose before names
# refused spellings such as --user), with \- and font changes undone.
man_options() {
  sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$1" |
    awk '/^\.SH/ { on = ($2 == "OPTIONS"); next } on && /^\.SS/ { entries = 1 } on && entries'
}

# The table rows of README's "### Options" section (the prose around them names
# refused spellings and other commands' flags).
readme_options() {
  awk '/^#/ { on = ($0 == "### Options"); next } on && /^\| `/' "$1"
}

# One line per man entry (.TP): its tag line, its .SS group, and "marked" when
# its text says "(acrawl engine only)", else "-"; tab-separated.
man_entries() {
  man_options "$1" | awk '
    function flush() { if (tag != "") print tag "\t" group "\t" (marked ? "marked" : "-"); tag = ""; marked = 0 }
    /^\.SS/ { flush(); group = $2; next }
    /^\.TP/ { flush(); want = 1; next }
    want { tag = $0; want = 0; next }
    /\(acrawl engine only\)/ { marked = 1 }
    END { flush() }'
}

# One line per README table row: its first cell, "-" (no groups), marked as above.
readme_entries() {
  readme_options "$1" | awk '{
    cell = substr($0, 3); sub(/` \|.*/, "", cell)
    print cell "\t-\t" (index($0, "(acrawl engine only)") ? "marked" : "-") }'
}

# For each flag that heads an entry (on stdin): the flag, the entry's group, its mark.
entry_flags() {
  local tag group marked f
  while IFS=$'\t' read -r tag group marked; do
    for f in $(flag_tokens <<<"$tag"); do
      printf '%s\t%s\t%s\n' "$f" "$group" "$marked"
    done
  done
}

# Prints every way doc disagrees with the table, and fails if there is one: each
# flag of the table must head an entry (entries_fn: a .TP tag, a README row's
# first cell) that is marked "(acrawl engine only)" exactly when the table says
# so, under the table's help group (man); and every flag that doc's option
# section (section_fn) names must be in the table.
check_doc() {
  local doc=$1 section_fn=$2 entries_fn=$3 name f
  name=$(basename "$doc")
  "$entries_fn" "$doc" | entry_flags >entries
  cut -f1 entries | sort -u >documented
  "$section_fn" "$doc" | flag_tokens >mentioned
  table_flags >tabled
  {
    for f in $(comm -23 tabled documented); do
      echo "$name has no entry for $f, a flag in the option table"
    done
    for f in $(comm -13 tabled mentioned); do
      echo "$name documents $f, which is not in the option table"
    done
    awk -F'\t' -v doc="$name" '
      FNR == NR { group[$1] = $2; marked[$1] = $3 == "marked"; next }
      FNR == 1 || !($1 in group) { next }
      $4 == "acrawl" && !marked[$1] {
        print doc ": " $1 " is acrawl-only in the option table; its entry lacks (acrawl engine only)" }
      $4 != "acrawl" && marked[$1] {
        print doc ": " $1 " is marked (acrawl engine only); the option table gives it to " $4 }
      group[$1] != "-" && group[$1] != $6 {
        print doc ": " $1 " is under .SS " group[$1] "; its group in the option table is " $6 }' entries table.tsv
  } >problems
  cat problems
  [ ! -s problems ]
}

# ---- the table ----

@test "--list-options lists the flags -h shows, each with engines and modes, and is not in -h" {
  [ "$(head -1 table.tsv)" = $'long\tshort\tvalue\tengines\tmodes\tgroup' ]
  "$ACRAWL" -h | flag_tokens | grep -- '^--' >help_longs
  column 1 | sort >table_longs
  run diff help_longs table_longs
  assert_success
  run awk -F'\t' 'NR > 1 && ($4 == "" || $5 == "" || $6 == "")' table.tsv
  assert_output ''
  run "$ACRAWL" -h
  refute_output --partial 'list-options'
  run "$ACRAWL" --list-option
  assert_failure 2
  refute_output --partial 'did you mean'
}

@test "-h shows each row's group as a heading, in table order" {
  run bash -c "'$ACRAWL' -h | grep -E '^[A-Z][A-Za-z]*:\$'"
  assert_output "$(column 6 | uniq | sed 's/$/:/')"
}

# ---- the documents ----

@test "acrawl.1 documents exactly the flags of the option table" {
  run check_doc "$ROOT/acrawl.1" man_options man_entries
  assert_success
  assert_output ''
}

@test "README.md documents exactly the flags of the option table" {
  run check_doc "$ROOT/README.md" readme_options readme_entries
  assert_success
  assert_output ''
}

@test "the check names what drifted: a missing entry, an unknown flag, a group, a mark" {
  # the --retry entry (.TP, its tag, its text) gone from a copy of the man page
  awk '/^\.TP$/ { held = $0; next }
       held != "" { if ($0 ~ /retry " N"/) { skip = 1 } else { print held; skip = 0 }; held = "" }
       /^\.(TP|SS|SH)/ { skip = 0 }
       !skip' "$ROOT/acrawl.1" >acrawl.1
  run check_doc acrawl.1 man_options man_entries
  assert_failure
  assert_output "acrawl.1 has no entry for --retry, a flag in the option table"
  sed 's/^| `--fail` |/| `--fail`, `--no-such-flag` |/' "$ROOT/README.md" >README.md
  run check_doc README.md readme_options readme_entries
  assert_failure
  assert_output "README.md documents --no-such-flag, which is not in the option table"
  sed 's/^\.SS HTTP$/.SS Output/' "$ROOT/acrawl.1" >acrawl.1
  run check_doc acrawl.1 man_options man_entries
  assert_failure
  assert_output --partial "acrawl.1: --header is under .SS Output; its group in the option table is HTTP"
  sed 's/(acrawl engine only) |$/|/' "$ROOT/README.md" >README.md
  run check_doc README.md readme_options readme_entries
  assert_failure
  assert_output --partial "README.md: --rate is acrawl-only in the option table; its entry lacks (acrawl engine only)"
}

# ---- the libcurl engine's note ----

@test "the libcurl engine's note names the acrawl-only flags given, as typed" {
  run bash -c "'$ACRAWL' -q --engine curl --retry 1 -o out '$BASE/ok' 2>&1 >/dev/null"
  assert_output "acrawl: note: --retry and -o apply to the acrawl engine only"
  run bash -c "'$ACRAWL' -q --engine curl --output-dir out --unique '$BASE/ok' 2>&1 >/dev/null"
  assert_output "acrawl: note: --unique and --output-dir apply to the acrawl engine only"
  run bash -c "'$ACRAWL' -q --engine curl --retry 0 '$BASE/ok' 2>&1 >/dev/null"
  assert_output "acrawl: note: --retry applies to the acrawl engine only"
}

@test "no note when the libcurl engine honours every flag given, or on the acrawl engine" {
  run bash -c "'$ACRAWL' -q --engine curl -c 2 -t 5 -L --compressed '$BASE/ok' 2>&1 >/dev/null"
  assert_output ''
  run bash -c "'$ACRAWL' -q --retry 1 -o out '$BASE/ok' 2>&1 >/dev/null"
  assert_output ''
}

@test "every acrawl-only flag of list mode is named by the note" {
  # Crawl-mode flags never get that far: the libcurl engine cannot crawl. The --warc
  # flags are refused instead: an archive silently missing would be worse. The flags
  # of a shared crawl (--redis, --job, --status, ...) go with --crawl or are clients
  # of a job: redis.bats has them.
  for f in $(awk -F'\t' 'NR > 1 && $4 == "acrawl" && $5 ~ /list/ && $1 !~ /^--(warc|redis|job$|status$|collect$|drain$)/ { print $1 }' table.tsv); do
    value=$(awk -F'\t' -v f="$f" '$1 == f && $3 != "" { print "1" }' table.tsv)
    run bash -c "'$ACRAWL' -q --engine curl $f $value '$BASE/ok' 2>&1 >/dev/null"
    assert_output "acrawl: note: $f applies to the acrawl engine only"
  done
  run "$ACRAWL" -q --engine curl --warc x.warc --warc-gzip --warc-max-size 1M "$BASE/ok"
  assert_failure 2
  assert_output --partial "--warc archives what the acrawl engine puts on the wire"
}

@test "crawl-mode flags are refused in list mode, and --crawl with the libcurl engine" {
  for f in $(awk -F'\t' 'NR > 1 && $5 == "crawl" && $1 != "--crawl" && $1 != "--recursive" { print $1 }' table.tsv); do
    value=$(awk -F'\t' -v f="$f" '$1 == f && $3 != "" { print "1" }' table.tsv)
    run "$ACRAWL" -q "$f" $value "$BASE/ok"
    assert_failure 2
    assert_line "acrawl: $f applies to crawl mode only (add --crawl)"
  done
  run "$ACRAWL" -q --crawl --engine curl "$BASE/ok"
  assert_failure 2
}
