#!/usr/bin/env bash
# The analysis on a real run of quick.ini (over the real private broker): every table and figure
# produced, the numbers of the generated tables equal to those recomputed from samples/ with the
# standard library alone (tests/check_analysis.py), the report page rendered by headless
# Chromium with every table and figure in it, `compare` flagging a cell that moved and only it,
# the paper built from the generated files, and bad run folders refused with a clear error.
# run.sh: native build only
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/native/sealbench}
NAME=analysis
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT
. tests/assert.sh

checks() {
    local out p f
    out=$("$PY" tests/check_analysis.py "$@" 2>&1)
    grep -v '^checks:' <<<"$out" | sed 's/^/  /' >&2
    p=$(sed -nE 's/^checks: ([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$out")
    f=$(sed -nE 's/^checks: ([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$out")
    if [ -z "$p" ]; then bad "check_analysis.py summary" "$(shown "$out")"; return; fi
    passed=$((passed + p))
    failed=$((failed + f))
}

# ---- a real run, analysed ----
run "$BIN" run experiments/configs/quick.ini --out "$TMP/quick" --progress lines
expect_rc 0
# A failed cell says which and why (cells.csv keeps the error), for the CI log.
[ "$rc" -eq 0 ] || grep ',failed,' "$TMP/quick/cells.csv" | cut -d, -f2,7 | sed 's/^/  failed cell: /' >&2
run "$PY" analysis/analyze.py "$TMP/quick"
expect_rc 0
expect_has out "9 tables, 4 figures"
checks "$TMP/quick" "$TMP/quick/analysis" "$TMP/quick/report.html"
# The same run analysed twice gives the same tables (bootstrap seeded, order fixed).
run "$PY" analysis/analyze.py "$TMP/quick" --out "$TMP/again" --no-report
expect_rc 0
if diff -r "$TMP/quick/analysis/tables" "$TMP/again/tables" >/dev/null; then ok; else bad "identical tables on a second analysis" "$(diff -r "$TMP/quick/analysis/tables" "$TMP/again/tables" | head -5)"; fi

# ---- the report renders in headless Chromium ----
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    bad "chromium installed (scripts/install-deps.sh installs it)" "not found"
else
    chrome() { timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --user-data-dir="$TMP/chrome" "$@" 2>>"$TMP/chrome.err"; }
    chrome --dump-dom "file://$TMP/quick/report.html" >"$TMP/dom.html"
    for id in table-seal_open_cost table-latency_throughput table-noise figure-latency_cdf \
              figure-cost_vs_size figure-throughput_vs_rekey manifest; do
        grep -q "id=\"$id\"" "$TMP/dom.html" && ok || bad "rendered DOM has #$id" "$(shown "$(tail -c 300 "$TMP/dom.html")")"
    done
    chrome --screenshot="$TMP/shot.png" --window-size=1280,4000 --hide-scrollbars \
        "file://$TMP/quick/report.html" >/dev/null
    # Rendered, not blank: the figures' coloured lines and the tables' text are in the pixels.
    out=$("$PY" - "$TMP/shot.png" <<'PY'
import sys
import matplotlib.image as mpimg
im = mpimg.imread(sys.argv[1])[:, :, :3]
spread = (im.max(axis=2) - im.min(axis=2))
print(im.shape[0], im.shape[1], int((spread > 0.3).sum()), int((im.mean(axis=2) < 0.3).sum()))
PY
)
    read -r h w colour dark <<<"$out"
    [ "${h:-0}" -ge 4000 ] && [ "${w:-0}" -ge 1280 ] && ok || bad "a 1280x4000 screenshot" "$out $(shown "$(cat "$TMP/chrome.err")")"
    [ "${colour:-0}" -gt 2000 ] && ok || bad "coloured pixels of the figures in the screenshot" "$colour"
    [ "${dark:-0}" -gt 5000 ] && ok || bad "dark pixels of text in the screenshot" "$dark"
fi

# ---- compare: a run against itself moves nothing; a changed cell is named, and only it ----
run "$PY" analysis/compare.py "$TMP/quick" --reference "$TMP/quick"
expect_rc 0
expect_has out "0 moved beyond tolerance"
expect_lacks out "settings differ"
# The reference made with Nagle's algorithm on (before the clients set TCP_NODELAY) is said to
# differ in that setting before any cell is listed.
run "$PY" analysis/compare.py "$TMP/quick" --reference results/reference/x86_64-nagle
expect_has out "settings differ: Nagle's algorithm off in the run, on in the reference"
cp -r "$TMP/quick" "$TMP/moved"
cell=suites.openssl.aes-128-gcm.x25519.psk.vitals_small-cbor.pad0.qos1.rekey0.rate0.dev1.inproc
"$PY" - "$TMP/moved/cells.csv" "$cell" <<'PY'
import csv, sys
path, cell = sys.argv[1:3]
rows = list(csv.DictReader(open(path)))
for r in rows:
    if r["cell_id"] == cell:
        r["seal_ns_p50"] = str(float(r["seal_ns_p50"]) * 3)          # three times slower
        r["overhead_bytes_mean"] = str(float(r["overhead_bytes_mean"]) + 1)  # one byte more
w = csv.DictWriter(open(path, "w", newline=""), fieldnames=list(rows[0]))
w.writeheader()
w.writerows(rows)
PY
run "$PY" analysis/compare.py "$TMP/moved" --reference "$TMP/quick"
expect_rc 1
expect_re out "MOVED worse +openssl\.aes-128-gcm\..*seal_ns_p50: .*\(\+200\.0%"
expect_re out "MOVED worse +openssl\.aes-128-gcm\..*overhead_bytes_mean: 30 -> 31 .*exact"
expect_has out "2 moved beyond tolerance in 1"
run "$PY" analysis/compare.py "$TMP/nothere"
expect_rc 2
expect_has err "compare: $TMP/nothere: not a directory"

# ---- the paper, built from this run's generated tables and figures ----
if command -v latexmk >/dev/null; then
    cp -r paper "$TMP/paper"
    rm -rf "$TMP/paper/build" "$TMP/paper/generated"
    run "$PY" analysis/analyze.py "$TMP/quick" --out "$TMP/paper/generated" --no-report
    expect_rc 0
    (cd "$TMP/paper" && latexmk -pdf -interaction=nonstopmode -halt-on-error -quiet paper.tex) >"$TMP/latex.log" 2>&1
    if [ -s "$TMP/paper/build/paper.pdf" ]; then ok; else bad "paper/build/paper.pdf" "$(tail -20 "$TMP/latex.log")"; fi
    text=$(pdftotext "$TMP/paper/build/paper.pdf" - 2>/dev/null)
    grep -q "Run quick" <<<"$text" && ok || bad "the paper names the run it was built from" "$(shown "$text")"
    grep -q "??" <<<"$text" && bad "no undefined reference (??) in the paper" "$(grep -n '??' <<<"$text" | head -3)" || ok
    grep -qE "Warning: (Reference|Citation) .* undefined" "$TMP/paper/build/paper.log" \
        && bad "no undefined references in the LaTeX log" "$(grep -m3 undefined "$TMP/paper/build/paper.log")" || ok
else
    bad "latexmk installed (scripts/install-deps.sh installs it)" "not found"
fi

# ---- bad run folders: one clear line, exit 2, never a traceback ----
run "$PY" analysis/analyze.py "$TMP/nothere"
expect_rc 2
expect_has err "not a directory"
expect_lacks err "Traceback"
mkdir -p "$TMP/broken"
cp "$TMP/quick/manifest.json" "$TMP/broken/"
cut -d, -f1-5 "$TMP/quick/cells.csv" >"$TMP/broken/cells.csv"
run "$PY" analysis/analyze.py "$TMP/broken"
expect_rc 2
expect_has err "cells.csv: columns"
expect_lacks err "Traceback"
cp -r "$TMP/quick" "$TMP/nosamples"
rm "$TMP/nosamples/samples/$cell.r1.csv"
run "$PY" analysis/analyze.py "$TMP/nosamples" --no-report --out "$TMP/nosamples-out"
expect_rc 2
expect_has err "$cell.r1.csv: missing"
expect_lacks err "Traceback"
printf '{"run": \n' >"$TMP/broken/manifest.json"
run "$PY" analysis/analyze.py "$TMP/broken"
expect_rc 2
expect_re err "manifest.json:[0-9]+: not JSON"
expect_lacks err "Traceback"

echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
