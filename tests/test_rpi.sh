#!/usr/bin/env bash
# A Raspberry Pi cross build under qemu-user (`make rpi-test`, rpi/rpi.mk): the binaries are of
# the target's machine (readelf), `sealbench list` under the emulator loads every backend and
# says its version, the carried test vectors pass on every backend, and quick.ini runs end to
# end under the emulator (its children started through it: there is no binfmt_misc), every
# cell ok and checked by tests/check_run.py, its manifest saying emulated, by which
# interpreter, with the CPU features the emulator offers and no Raspberry Pi claimed.
# Usage: tests/test_rpi.sh TARGET OUT (aarch64 build/aarch64, or armhf build/armhf).
# run.sh: not run by itself (make rpi-test runs it with its target and build folder)
set -u
cd "$(dirname "$0")/.."
TARGET=${1:?usage: tests/test_rpi.sh aarch64|armhf OUT}
OUT=${2:?usage: tests/test_rpi.sh aarch64|armhf OUT}
BIN=$OUT/emulated/sealbench
NAME=rpi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. tests/assert.sh

case $TARGET in
aarch64) MACHINE=AArch64 CLASS=ELF64 QEMU=qemu-aarch64 ARCH=aarch64 FILE='ARM aarch64' ;;
armhf) MACHINE=ARM CLASS=ELF32 QEMU=qemu-arm ARCH=armv7 FILE='ARM, EABI5' ;;
*) echo "test_rpi: unknown target '$TARGET'" >&2; exit 2 ;;
esac

# ---- the binaries are the target's ------------------------------------------------------------

for f in "$OUT/sealbench" "$OUT"/tests/test_*; do
    [ -f "$f" ] || continue
    cmd="readelf -h $f"
    h=$(readelf -h "$f" 2>&1)
    m=$(sed -n 's/^ *Machine: *//p' <<<"$h")
    c=$(sed -n 's/^ *Class: *//p' <<<"$h")
    if [ "$m" = "$MACHINE" ] && [ "$c" = "$CLASS" ]; then ok; else bad "$CLASS $MACHINE" "$c $m"; fi
done
if [ "$TARGET" = armhf ]; then
    # Raspberry Pi OS 32-bit is hard-float: a soft-float binary would not find its libraries.
    cmd="readelf -h $OUT/sealbench (flags)"
    flags=$(readelf -h "$OUT/sealbench" | sed -n 's/^ *Flags: *//p')
    if grep -q 'hard-float ABI' <<<"$flags"; then ok; else bad "hard-float ABI" "$flags"; fi
fi
run file -b "$OUT/sealbench"
expect_has out "$FILE"

# ---- the libraries load under the emulator -------------------------------------------------

run "$BIN" list
expect_rc 0
# Every backend of ciphers/backends.txt (name, then the library's name, its last column).
while read -r name _link _soname _runtime _dev library; do
    case $name in '' | '#'*) continue ;; esac
    expect_re out "^ *$name +$library +[0-9]+\.[0-9]+\.[0-9]+$"
done <ciphers/backends.txt
expect_re out '^openssl +chacha20-poly1305 +ok$'
expect_re out '^mbedtls +p256 +ok$'

# The carried vectors (generated elsewhere) on every backend, byte for byte, in the target's
# code: the endianness, word size and assembly paths of the target's libraries.
run "$BIN" vectors tests/vectors/sealbench-v1.json
expect_rc 0
for be in $(awk '!/^#/ && NF {print $1}' ciphers/backends.txt); do
    expect_re out "^$be +20 vectors: [0-9]+ passed, 0 failed"
done

# ---- quick.ini under the emulator ------------------------------------------------------------

run "$BIN" run experiments/configs/quick.ini --dry-run
expect_rc 0
printf '%s\n' "$out" >"$TMP/quick.cells"
run "$BIN" run experiments/configs/quick.ini --out "$TMP/quick" --progress lines
expect_rc 0
expect_re err '^quick: ([0-9]+) of \1 runs finished \(0 kept from before\), 0 failed'
# The children (pair, gateway, device, micro) went through the emulator: an exec that failed
# would say "cannot run <path>" in a cell's log.
cmd="grep 'cannot run /' $TMP/quick/logs"
if grep -rq 'cannot run /' "$TMP/quick/logs" 2>/dev/null; then
    bad "no child that could not be started" "$(grep -rh 'cannot run /' "$TMP/quick/logs" | head -n 1)"
else ok; fi

# check_run.py: every cell present and ok, overheads, nothing lost at QoS 1, statistics from
# the samples, the manifest complete. Its "checks: N passed, N failed" is added to ours.
out=$(python3 tests/check_run.py "$TMP/quick" "$TMP/quick.cells" experiments/configs/quick.ini \
    datasets/vitals_small.csv 2>&1)
grep -v '^checks:' <<<"$out" | sed 's/^/  /' >&2
p=$(sed -nE 's/^checks: ([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$out")
f=$(sed -nE 's/^checks: ([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$out")
if [ -n "$p" ]; then
    passed=$((passed + p))
    failed=$((failed + f))
else
    cmd="check_run.py"
    bad "a checks summary" "$(shown "$out")"
fi
if [ -f "$TMP/quick/micro.csv" ] && ! grep -q ',failed,' "$TMP/quick/micro.csv"; then ok; else
    cmd="micro.csv"
    bad "the microbenchmarks, none failed" "$(grep -c ',failed,' "$TMP/quick/micro.csv" 2>&1) failed"
fi

# The manifest: emulated, decided from the kernel's /proc/self/exe (the emulator), the build's
# arch; the CPU features those of the emulator (hwcap), the host's /proc/cpuinfo said to be the
# host's; no Raspberry Pi board claimed (qemu-user has no device tree).
cmd="manifest.json"
python3 - "$TMP/quick/manifest.json" "$QEMU" "$ARCH" >"$TMP/manifest.check" 2>&1 <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
qemu, arch = sys.argv[2], sys.argv[3]
e = m["host"]["emulation"]
cpu = m["host"]["cpu"]
board = m["host"]["board"]
checks = [
    (e.get("emulated") is True, f"emulated is true: {e.get('emulated')}"),
    (e.get("interpreter") == qemu, f"interpreter {qemu}: {e.get('interpreter')}"),
    ("interpreter" in (e.get("decided_by") or ""), f"decided by the interpreter: {e.get('decided_by')}"),
    ((e.get("interpreter_command") or [""])[0].endswith("/" + qemu), f"children run through {qemu}: {e.get('interpreter_command')}"),
    (m["build"]["arch"] == arch, f"build arch {arch}: {m['build']['arch']}"),
    (isinstance(cpu.get("hwcap"), dict) and set(cpu["hwcap"]) >= {"aes", "pmull", "neon_asimd"}, f"hwcap aes/pmull/neon: {cpu.get('hwcap')}"),
    ("emulat" in (cpu.get("hwcap_source") or ""), f"hwcap said to be the emulator's: {cpu.get('hwcap_source')}"),
    ("host" in (cpu.get("emulated_note") or ""), f"cpuinfo said to be the host's: {cpu.get('emulated_note')}"),
    (board.get("device_tree_model") is None, f"no board model claimed: {board.get('device_tree_model')}"),
    (m["run"]["status"] == "complete", f"run complete: {m['run']['status']}"),
]
for good, what in checks:
    print(("ok " if good else "FAIL ") + what)
PY
while read -r verdict what; do
    if [ "$verdict" = ok ]; then ok; else bad "$what" "(see above)"; fi
done <"$TMP/manifest.check"
[ -s "$TMP/manifest.check" ] || bad "the manifest checks ran" "$(cat "$TMP/manifest.check")"

echo "rpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
