#!/usr/bin/env bash
# Runs every test program and script, adds up their "N passed, N failed" lines, and ends with
# the total on a line of its own. BUILD_DIR names the build folder (build/native or build/sanitize).
# For a cross build run under an emulator (rpi/rpi.mk's `make rpi-test`): EMULATOR is a command
# put before every test program, BIN the sealbench the scripts run, SKIP lines "name: reason"
# of tests not to run (each said with its reason, counted apart), EXTRA_TESTS lines "name
# command args..." run after the others.
set -u
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build/native}
BIN=${BIN:-$BUILD_DIR/sealbench}
EMU=${EMULATOR:-}
passed=0 failed=0 skipped=0 broken=()

run() { # name, command...
    local name=$1 log rc line p f why
    shift
    why=$(sed -n "s/^$name: //p" <<<"${SKIP:-}" | head -n 1)
    if [ -n "$why" ]; then
        printf '  %-10s skipped: %s\n' "$name" "$why"
        skipped=$((skipped + 1))
        return
    fi
    # A test program (in BUILD_DIR) runs under the emulator; a script gets BIN, which does.
    [[ -z $EMU || $1 != "$BUILD_DIR"/* ]] || set -- $EMU "$@"
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
        s=$(sed -nE 's/.* failed, ([0-9]+) skipped.*/\1/p' <<<"$line")
        passed=$((passed + p))
        failed=$((failed + f))
        skipped=$((skipped + ${s:-0}))
        if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
            [ "$f" -gt 0 ] || failed=$((failed + 1))
            broken+=("$name")
            grep -v -E '^[a-z_]+: [0-9]+ passed' "$log" | sed 's/^/    /' | tail -n 60
        fi
        printf '  %-10s %s\n' "$name" "${line#*: }"
        # Each skip inside the program, with its reason ("skip: <why>", tests/check.h and
        # tests/assert.sh), so that the final line's count can be read.
        if [ "${s:-0}" -gt 0 ]; then
            why=$(grep -E '^skip: ' "$log" | sed 's/^skip: /             skipped: /')
            [ -n "$why" ] && printf '%s\n' "$why"
            if [ "$(grep -cE '^skip: ' "$log")" -ne "$s" ]; then
                echo "             $s skipped but $(grep -cE '^skip: ' "$log") with a reason: a test that skips must say why"
                failed=$((failed + 1))
                broken+=("$name (a skip without its reason)")
            fi
        fi
    fi
    rm -f "$log"
}

echo "Running tests ($BUILD_DIR)"
# Every test program the Makefile builds (tests/test_*.c, run without arguments: each knows its
# own inputs), then every test script (given BIN). A script says in a line "# run.sh: ..." when
# it is not for every build: "native build only" (Python and scripts around the binary, which a
# sanitizer or cross build does not change; the runner under either is in test_experiments.sh),
# or "not run by itself" (test_rpi.sh, which make rpi-test runs with its target).
for src in tests/test_*.c; do
    name=${src#tests/test_}
    name=${name%.c}
    run "$name" "$BUILD_DIR/tests/test_$name"
done
for script in tests/test_*.sh; do
    name=${script#tests/test_}
    name=${name%.sh}
    case $(sed -n 's/^# run\.sh: //p' "$script" | head -n 1) in
    "not run by itself"*) continue ;;
    "native build only"*)
        if [ "$BUILD_DIR" != build/native ]; then
            printf '  %-10s skipped: Python and scripts, checked with build/native (not %s)\n' "$name" "$BUILD_DIR"
            skipped=$((skipped + 1))
            continue
        fi
        ;;
    esac
    run "$name" "$script" "$BIN"
done
while read -r name cmd; do
    [ -z "$name" ] || run "$name" $cmd
done <<<"${EXTRA_TESTS:-}"

if [ ${#broken[@]} -gt 0 ]; then
    echo "failing: ${broken[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
