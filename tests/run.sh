#!/usr/bin/env bash
# Runs every test program and script, adds up their "N passed, N failed" lines, and ends with
# the total on a line of its own. OUT names the build folder (build/native or build/sanitize).
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-build/native}
BIN=$OUT/sealbench
passed=0 failed=0 broken=()

run() { # name, command...
    local name=$1 log rc line p f
    shift
    log=$(mktemp)
    "$@" >"$log" 2>&1
    rc=$?
    line=$(grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        # A program that died before its summary counts as one failure, and shows its output.
        failed=$((failed + 1))
        broken+=("$name (exit $rc, no summary)")
        sed 's/^/    /' "$log" | tail -n 40
    else
        p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
        f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
        passed=$((passed + p))
        failed=$((failed + f))
        if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
            [ "$f" -gt 0 ] || failed=$((failed + 1))
            broken+=("$name")
            grep -v -E '^[a-z_]+: [0-9]+ passed' "$log" | sed 's/^/    /' | tail -n 60
        fi
        printf '  %-10s %s\n' "$name" "${line#*: }"
    fi
    rm -f "$log"
}

echo "Running tests ($OUT)"
run kat "$OUT/tests/test_kat" tests/kat
run protocol "$OUT/tests/test_protocol"
run interop "$OUT/tests/test_interop"
run cli tests/test_cli.sh "$BIN"
run broker tests/test_broker.sh "$BIN"
run tls tests/test_tls.sh "$BIN"
run transport "$OUT/tests/test_transport"
run datasets "$OUT/tests/test_datasets" ../shared/datasets/real
run encode "$OUT/tests/test_encode"
run generate tests/test_generate.sh "$BIN"
run mqtt tests/test_mqtt.sh "$BIN"
run manifest "$OUT/tests/test_manifest"
run config "$OUT/tests/test_config"
run micro tests/test_micro.sh "$BIN"
run experiments tests/test_experiments.sh "$BIN"
run analysis tests/test_analysis.sh "$BIN"

if [ ${#broken[@]} -gt 0 ]; then
    echo "failing: ${broken[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
