#!/usr/bin/env bash
# Dataset benchmarks of issue 4: loader throughput and peak memory on a ~100 MB generated file
# (45 patients x 12 h at 1 Hz, 101 MB; made here, deleted after), and payload bytes per record for each
# encoding on the shipped dataset. Writes OUTDIR/dataset_load.csv (one row per pass) and
# OUTDIR/dataset_payloads.json, and prints the medians.
#
# Usage: tests/bench/datasets.sh [BIN] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/native/sealbench}
OUTDIR=${2:-results/bench}
LOAD=$(dirname "$BIN")/bench/dataset_load
mkdir -p "$OUTDIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM

"$BIN" dataset generate --patients 45 --hours 12 --rate 1 --seed 7 --out "$WORK/big.csv" --quiet
cp datasets/vitals_small.dataset "$WORK/big.dataset"
"$LOAD" "$WORK/big.csv" 5 >"$OUTDIR/dataset_load.csv"
"$BIN" dataset inspect datasets/vitals_small.csv --json >"$OUTDIR/dataset_payloads.json"
/usr/bin/python3 - "$OUTDIR/dataset_payloads.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"payload bytes per record, {j['file']} ({j['records']} records):")
for enc, s in j["payload_bytes"].items():
    print(f"  {enc:<5} min {s['min']} p50 {s['p50']} max {s['max']} mean {s['mean']:.1f}")
PY
