#!/usr/bin/env bash
# Makes a committed reference out of a finished run: results/reference/<NAME>/ with the run's
# manifest, cells.csv and micro.csv as they are, and its per-message samples, records and logs
# gzipped (the analysis reads .csv.gz as it reads .csv), so a full paper.ini run stays ~20 MB.
# gzip -n keeps no timestamp: the same run gives the same bytes.
# Usage: scripts/reference.sh RUN_DIR NAME      (NAME: x86_64, aarch64-emulated, pi5, ...)
set -euo pipefail
src=${1:?usage: scripts/reference.sh RUN_DIR NAME}
name=${2:?usage: scripts/reference.sh RUN_DIR NAME}
cd "$(dirname "$0")/.."
dst=results/reference/$name
for f in manifest.json cells.csv; do
    [ -f "$src/$f" ] || { echo "reference: $src/$f missing: give a run folder written by sealbench run" >&2; exit 2; }
done
status=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["status"])' "$src/manifest.json")
[ "$status" = complete ] || { echo "reference: $src is '$status', not complete: finish it with --resume first" >&2; exit 2; }
rm -rf "$dst.new"
mkdir -p "$dst.new"
cp "$src/cells.csv" "$dst.new/"
# Where the checkout sat on the measuring machine says nothing about the result; it is written
# as <checkout>/... so the committed files name no path of one machine.
/usr/bin/python3 - "$src/manifest.json" "$dst.new/manifest.json" "$(pwd -P)" <<'PY'
import json, sys
src, dst, root = sys.argv[1:4]
def rel(v):
    if isinstance(v, str):
        return v.replace(root, "<checkout>")
    if isinstance(v, dict):
        return {k: rel(x) for k, x in v.items()}
    if isinstance(v, list):
        return [rel(x) for x in v]
    return v
with open(src) as f:
    m = json.load(f)
with open(dst, "w") as f:
    json.dump(rel(m), f, indent=2)
    f.write("\n")
PY
[ -f "$src/micro.csv" ] && cp "$src/micro.csv" "$dst.new/"
for d in samples raw logs; do
    [ -d "$src/$d" ] || continue
    (cd "$src" && find "$d" -type f) | while read -r f; do
        mkdir -p "$dst.new/$(dirname "$f")"
        gzip -9 -n -c "$src/$f" >"$dst.new/$f.gz"
    done
done
rm -rf "$dst"
mv "$dst.new" "$dst"
echo "reference: $dst ($(du -sh "$dst" | cut -f1)) from $src"
