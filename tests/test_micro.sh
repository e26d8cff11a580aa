#!/usr/bin/env bash
# `sealbench micro` checked from outside: the CSV schema, one row per requested case, the
# registry's reasons for what a backend lacks, forgeries refused, statistics that hang
# together, the counters column honest about the machine, the samples files, and the one-line
# usage errors. Short runs (--min-time 0.002 --repetitions 3): the figures themselves are not
# judged, only their consistency.
#
# Usage, from the repository root: tests/test_micro.sh BIN (BIN: the sealbench binary). The
# last line is "micro: N passed, N failed", and the exit status is 1 if anything failed.
set -u

if [ $# -ne 1 ]; then
    echo "usage: tests/test_micro.sh BIN" >&2
    exit 2
fi
BIN=$1
if [ ! -x "$BIN" ]; then
    echo "test_micro: '$BIN' is not an executable file" >&2
    exit 2
fi
command -v python3 >/dev/null || { echo "test_micro: python3 is needed to parse the CSV" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-micro.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT

NAME=test_micro
. tests/assert.sh

HEADER='op,backend,suite,group,bytes,status,why,timer,repetitions,iterations,ns_p50,ns_p25,ns_p75,ns_p99,ns_mean,ns_min,ns_max,cv_pct,mb_per_s_p50,cpu_ns_p50,cycles_per_op,instructions_per_op,cycles_per_byte,counters'
FAST=(--min-time 0.002 --repetitions 3)
export REPS=3
# The backends this binary was built with, from its own list.
BACKENDS=$("$BIN" list --csv | awk -F, '$1 == "library" && $4 == "ok" {printf "%s ", $2}')
SUITES="aes-128-gcm chacha20-poly1305"
SIZES="16 256"

# CSV (quoted fields may hold commas) to tab-separated lines, for awk -F'\t'.
to_tsv() {
    python3 -c 'import csv, sys
for row in csv.reader(sys.stdin):
    print("\t".join(f.replace("\t", " ") for f in row))' <"$1"
}

# check_rows WHAT AWK_PROGRAM: the program prints one line per offending row; none is a pass.
check_rows() {
    local what=$1 prog=$2 bad
    cmd="$what"
    bad=$(awk -F'\t' "$prog" "$TMP/rows.tsv")
    if [ -z "$bad" ]; then ok; else bad "$what" "$(shown "$bad")"; fi
}

# Does this machine count cycles? Ask PAPI the way sealbench does: by the reason it gives.
counters_here=0
if "$BIN" micro --backend openssl --suite null --ops seal --sizes 16 --min-time 0.001 --repetitions 1 2>/dev/null |
    tail -n 1 | grep -q ',papi$'; then
    counters_here=1
fi

# ---- AEAD cases over every backend ---------------------------------------------------------

run "$BIN" micro "${FAST[@]}" --backend openssl,sodium --backend mbedtls \
    --suite aes-128-gcm,chacha20-poly1305 --sizes 16,256 --ops seal,open,forge \
    --samples "$TMP/samples" --out "$TMP/aead.csv"
expect_rc 0
expect_lacks err "FAILED"
cmd="header of --out"
if [ "$(head -n 1 "$TMP/aead.csv")" = "$HEADER" ]; then ok; else
    bad "$HEADER" "$(shown "$(head -n 1 "$TMP/aead.csv")")"
fi
cmd="no temporary file left"
if [ ! -e "$TMP/aead.csv.tmp" ]; then ok; else bad "no $TMP/aead.csv.tmp" "it exists"; fi
to_tsv "$TMP/aead.csv" | tail -n +2 >"$TMP/rows.tsv"

check_rows "24 columns on every row" 'NF != 24 { print NR ": " NF " fields" }'
for op in seal open forge; do
    for be in $BACKENDS; do
        for suite in $SUITES; do
            for size in $SIZES; do
                n=$(awk -F'\t' -v k="$op/$be/$suite/$size" '$1 "/" $2 "/" $3 "/" $5 == k && $4 == ""' "$TMP/rows.tsv" | wc -l)
                cmd="row $op $be $suite $size"
                if [ "$n" -eq 1 ]; then ok; else bad "exactly one row" "$n rows"; fi
            done
        done
    done
done
cmd="row count"
n=$(wc -l <"$TMP/rows.tsv")
if [ "$n" -eq 36 ]; then ok; else bad "36 rows (3 ops x 3 backends x 2 suites x 2 sizes)" "$n"; fi

check_rows "sodium aes-128-gcm unavailable with a reason" \
    '$2 == "sodium" && $3 == "aes-128-gcm" && ($6 != "unavailable" || $7 == "") { print }'
check_rows "every other row ok" \
    '!($2 == "sodium" && $3 == "aes-128-gcm") && $6 != "ok" { print $1, $2, $3, $5, $6, $7 }'
check_rows "forgeries refused every time (forge rows ok)" \
    '$1 == "forge" && !($2 == "sodium" && $3 == "aes-128-gcm") && $6 != "ok" { print }'
check_rows "unavailable rows have no figures" \
    '$6 == "unavailable" && ($9 != "" || $11 != "" || $21 != "") { print }'
check_rows "timer named on measured rows" \
    '$6 == "ok" && $8 !~ /steady_clock|high_resolution_clock/ { print $8 }'
check_rows "repetitions equal to --repetitions" \
    '$6 == "ok" && $9 != ENVIRON["REPS"] { print $1, $2, $3, $5, $9 }'
check_rows "iterations > 0" '$6 == "ok" && !($10 > 0) { print $1, $2, $3, $5, $10 }'
check_rows "ns_min <= ns_p25 <= ns_p50 <= ns_p75 <= ns_max, p99 <= max" \
    '$6 == "ok" && !($16 <= $12 && $12 <= $11 && $11 <= $13 && $13 <= $17 && $14 <= $17 && $16 > 0) { print $1, $2, $3, $5, $16, $12, $11, $13, $14, $17 }'
check_rows "ns_mean within [min, max]" \
    '$6 == "ok" && !($16 <= $15 && $15 <= $17) { print $1, $2, $3, $5, $15 }'
check_rows "cv_pct present and >= 0" '$6 == "ok" && ($18 == "" || $18 < 0) { print $1, $2, $3, $5, $18 }'
check_rows "mb_per_s_p50 = bytes / ns_p50 x 1000 within 1%" \
    '$6 == "ok" { want = $5 / $11 * 1000; d = $19 - want; if (d < 0) d = -d; if (d > want / 100) print $1, $2, $3, $5, $19, want }'
check_rows "cpu_ns_p50 present" '$6 == "ok" && !($20 > 0) { print $1, $2, $3, $5, $20 }'
check_rows "suite set and group empty on AEAD rows" '$3 == "" || $4 != "" { print }'
check_rows "counters column never empty" '$24 == "" { print $1, $2, $3, $5 }'
if [ "$counters_here" -eq 1 ]; then
    check_rows "cycles_per_op > 0 where counted" \
        '$6 == "ok" && ($24 != "papi" || !($21 > 0) || !($22 > 0) || !($23 > 0)) { print $1, $2, $3, $5, $21, $22, $23, $24 }'
else
    check_rows "no cycle figures without counters" \
        '($21 != "" || $22 != "" || $23 != "") { print $1, $2, $3, $5, $21 }'
    check_rows "the reason names PAPI" '$24 !~ /^PAPI/ { print $24 }'
    expect_has err "note: no hardware counters"
    cmd="one note about counters"
    if [ "$(grep -c 'no hardware counters' <<<"$err")" -eq 1 ]; then ok; else bad "one note" "$(shown "$err")"; fi
fi

# ---- Samples files: one per measured case, one row per repetition ---------------------------

for f in seal-openssl-aes-128-gcm-16 open-mbedtls-chacha20-poly1305-256 forge-sodium-chacha20-poly1305-16; do
    p="$TMP/samples/micro-$f.csv"
    cmd="samples $p"
    if [ ! -f "$p" ]; then
        bad "a file" "none"
        continue
    fi
    if [ "$(head -n 1 "$p")" = "repetition,iterations,ns_per_op,cpu_ns_per_op,cycles_per_op,instructions_per_op" ] &&
        [ "$(tail -n +2 "$p" | wc -l)" -eq "$REPS" ]; then ok; else bad "header and $REPS rows" "$(shown "$(cat "$p")")"; fi
done
cmd="samples file count"
n=$(ls "$TMP/samples" | wc -l)
if [ "$n" -eq 30 ]; then ok; else bad "30 files (36 cases, 6 unavailable)" "$n"; fi
cmd="no samples for an unavailable case"
if [ ! -e "$TMP/samples/micro-seal-sodium-aes-128-gcm-16.csv" ]; then ok; else bad "no file" "one"; fi

# The median of the samples is the row's ns_p50.
cmd="ns_p50 is the median of the samples"
want=$(awk -F'\t' '$1 == "open" && $2 == "mbedtls" && $3 == "chacha20-poly1305" && $5 == 256 { print $11 }' "$TMP/rows.tsv")
got=$(tail -n +2 "$TMP/samples/micro-open-mbedtls-chacha20-poly1305-256.csv" | cut -d, -f3 | sort -g | sed -n 2p)
if awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.01) }'; then ok; else
    bad "ns_p50 $want" "median of samples $got"
fi

# ---- Key exchange and handshakes -------------------------------------------------------------

run "$BIN" micro "${FAST[@]}" --ops keygen,ecdh,handshake,rekey --group all --suite null,chacha20-poly1305
expect_rc 0
printf '%s\n' "$out" >"$TMP/kex.csv"
to_tsv "$TMP/kex.csv" | tail -n +2 >"$TMP/rows.tsv"
cmd="kex/handshake row count"
n=$(wc -l <"$TMP/rows.tsv")
if [ "$n" -eq 24 ]; then ok; else bad "24 rows (3 backends x 2 groups x 4 ops)" "$n"; fi
check_rows "sodium p256 unavailable with a reason" \
    '$2 == "sodium" && $4 == "p256" && ($6 != "unavailable" || $7 == "") { print }'
check_rows "the rest ok" '!($2 == "sodium" && $4 == "p256") && $6 != "ok" { print $1, $2, $4, $6, $7 }'
check_rows "keygen/ecdh: no suite, bytes 0" '($1 == "keygen" || $1 == "ecdh") && ($3 != "" || $5 != 0) { print }'
check_rows "handshake/rekey under a real suite, not null" \
    '($1 == "handshake" || $1 == "rekey") && $3 != "chacha20-poly1305" { print $1, $2, $3, $4 }'
check_rows "no throughput for non-AEAD ops" '$19 != "" || $23 != "" { print $1, $2, $4, $19, $23 }'

# ---- Usage errors: exit 2, one line naming the flag ------------------------------------------

usage_error() { # FLAG ARGS...
    local flag=$1
    shift
    run "$BIN" micro "$@"
    expect_rc 2
    expect_one_err_line
    expect_has err "$flag"
    if [ -z "$out" ]; then ok; else bad "nothing on stdout" "$(shown "$out")"; fi
}
usage_error "--backend" --backend openssl,gnutls
expect_has err "'gnutls'"
usage_error "--sizes" --sizes 16,0
expect_has err "'0'"
usage_error "--sizes" --sizes 70000
expect_has err "'70000'"
usage_error "--sizes" --sizes 16,,32
usage_error "--repetitions" --repetitions 0
usage_error "--ops" --ops seal,sign
expect_has err "'sign'"
usage_error "--suite" --suite rot13
usage_error "--group" --group p521
usage_error "--min-time" --min-time 0

# ---- Failures: exit 1, a clear message, no partial file ---------------------------------------

run "$BIN" micro "${FAST[@]}" --backend openssl --suite null --ops seal --sizes 16 --out "$TMP/missing/dir/x.csv"
expect_rc 1
expect_has err "$TMP/missing/dir/x.csv"
expect_has err "No such file or directory"
cmd="nothing left in $TMP/missing"
if [ ! -e "$TMP/missing" ]; then ok; else bad "no $TMP/missing" "$(ls -R "$TMP/missing")"; fi

# --list runs nothing and marks what cannot run.
run "$BIN" micro --list --backend sodium --suite aes-128-gcm --sizes 64 --ops seal
expect_rc 0
expect_re out '^seal,sodium,aes-128-gcm,,64,unavailable,.+$'

run "$BIN" micro --help
expect_rc 0
expect_has out "usage: sealbench micro"
expect_has out "cycles_per_byte"

echo "micro: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
