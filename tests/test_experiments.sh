#!/usr/bin/env bash
# The experiment runner end to end, over the real private broker: quick.ini (the CI run) and
# its outputs checked cell by cell (tests/check_run.py: every cell present, overhead = 14 +
# tag, nothing lost at QoS 1, statistics equal to those recomputed from samples/, manifest
# complete); an interrupted run completed by --resume without re-measuring what was finished;
# the split topology; and bad input.
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/native/sealbench}
NAME=experiments
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT
. tests/assert.sh

# Adds the "checks: N passed, N failed" of check_run.py to ours, showing its failures.
checks() {
    local out p f
    out=$(python3 tests/check_run.py "$@" 2>&1)
    grep -v '^checks:' <<<"$out" | sed 's/^/  /' >&2
    p=$(sed -nE 's/^checks: ([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$out")
    f=$(sed -nE 's/^checks: ([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$out")
    if [ -z "$p" ]; then bad "check_run.py summary" "$(shown "$out")"; return; fi
    passed=$((passed + p))
    failed=$((failed + f))
}

# ---- quick.ini: what CI runs ----
run "$BIN" run experiments/configs/quick.ini --dry-run
expect_rc 0
printf '%s\n' "$out" >"$TMP/quick.cells"
# 29 cells on x86; 28 where libsodium has no AES-256-GCM (ARM): as many as the plan lists.
nplan=$(grep -c . "$TMP/quick.cells")
[ "$nplan" -ge 28 ] && ok || bad "at least 28 planned cells" "$nplan"
expect_has err "$nplan cells x 1 repetition"
expect_has err "sodium lacks suite aes-128-gcm"
if [ "$BIN" = build/native/sealbench ]; then
    # README's command, through the make target (what a user types), into a temporary OUT=: the
    # run goes there, analysed (report.html), and the build folder is left exactly as it was
    # (OUT once named both). The outer make's flags are not passed down (make test SANITIZE=1
    # would otherwise reach it).
    # The build brought up to date first: a checkout edited since `make test` built it has
    # another `git describe`, which rightly rebuilds the manifest's object.
    snap() { find build/native -printf '%p %s %T@\n' | sort; }
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory build/native/sealbench >/dev/null 2>&1
    snap >"$TMP/build.before"
    cmd="make experiments CONFIG=experiments/configs/quick.ini OUT=$TMP/quick"
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory experiments \
        CONFIG=experiments/configs/quick.ini OUT="$TMP/quick" >"$TMP/make.out" 2>"$TMP/make.err"
    rc=$? out=$(cat "$TMP/make.out") err=$(cat "$TMP/make.err")
    expect_rc 0
    expect_has err "$nplan of $nplan runs finished"
    expect_has out "experiments: open $TMP/quick/report.html"
    for f in cells.csv manifest.json report.html analysis/tables.md; do
        [ -s "$TMP/quick/$f" ] && ok || bad "make experiments wrote $f into OUT" "$(ls "$TMP/quick" 2>&1 | head)"
    done
    snap >"$TMP/build.after"
    diff -q "$TMP/build.before" "$TMP/build.after" >/dev/null && ok ||
        bad "make experiments OUT=... left build/native untouched" "$(diff "$TMP/build.before" "$TMP/build.after" | head -5)"
    [ ! -e "$TMP/quick/obj" ] && [ ! -e "$TMP/quick/sealbench" ] && ok ||
        bad "no build output in the run folder" "$(ls "$TMP/quick")"
else
    run "$BIN" run experiments/configs/quick.ini --out "$TMP/quick" --progress lines
    expect_rc 0
    expect_has err "$nplan of $nplan runs finished"
fi
checks "$TMP/quick" "$TMP/quick.cells" experiments/configs/quick.ini datasets/vitals_small.csv
# The microbenchmarks of [micro]: every backend x suite x size, unavailable ones said so.
if [ -f "$TMP/quick/micro.csv" ]; then ok; else bad "micro.csv" "missing"; fi
n=$(grep -c '^seal,' "$TMP/quick/micro.csv" 2>/dev/null)
[ "$n" = 30 ] && ok || bad "30 seal rows (15 backend x suite pairs x 2 sizes)" "$n"
grep -q '^seal,sodium,aes-128-gcm,,64,unavailable,' "$TMP/quick/micro.csv" && ok || bad "sodium aes-128-gcm unavailable" "$(grep sodium,aes-128 "$TMP/quick/micro.csv")"
n=$(grep -c ',failed,' "$TMP/quick/micro.csv")
[ "$n" = 0 ] && ok || bad "no failed microbenchmark" "$n failed"
# Each child ran from a task the runner kept beside its log (experiments/cell.h): one per
# cell, and one more for the gateway of a split cell.
nsplit=$(grep -c ',split,' "$TMP/quick/cells.csv")
ntask=$(ls "$TMP/quick/logs/" | grep -c '\.task\.json$')
[ "$ntask" = $((nplan + nsplit)) ] && ok || bad "$((nplan + nsplit)) task files ($nplan cells, $nsplit split)" "$ntask"
# A task repeats its measurement: a pair cell's task, pointed at a broker of our own and at
# files of the test's, measures what its row says was measured.
task=$(ls "$TMP/quick/logs/"suites.openssl.aes-128-gcm.*.r1.task.json | head -n 1)
cell=$(basename "$task" .r1.task.json)
"$BIN" broker >"$TMP/broker.out" 2>"$TMP/broker.err" &
bpid=$!
for _ in $(seq 100); do grep -qs '^uri ' "$TMP/broker.out" && break; sleep 0.05; done
uri=$(sed -n 's/^uri //p' "$TMP/broker.out")
# (The run's keys were deleted with its end: keys of our own.)
"$BIN" keys --devices 10 >"$TMP/again.keys"
retask() { # task, broker, out file: the task with its broker, keys and outputs changed
    python3 - "$1" "$2" "$3" "$TMP" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
d = sys.argv[4]
t.update(broker=sys.argv[2], keys=d + "/again.keys", report=d + "/again.out", samples=d + "/again.csv")
json.dump(t, open(sys.argv[3], "w"))
PY
}
retask "$task" "$uri" "$TMP/again.task.json"
cmd="sealbench cell (a quick.ini task, again)"
run "$BIN" cell "$TMP/again.task.json"
expect_rc 0
sent=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["columns"]["messages_sent"])' "$out" 2>&1)
want=$(python3 -c 'import csv,sys; print(next(r["messages_sent"] for r in csv.DictReader(open(sys.argv[1])) if r["cell_id"] == sys.argv[2]))' "$TMP/quick/cells.csv" "$cell" 2>&1)
[ -n "$want" ] && [ "$sent" = "$want" ] && ok || bad "the same messages_sent as its row" "$sent vs $want"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["device"]["sent"] > 0 and "gateway" in d else 1)' "$TMP/again.out" && ok ||
    bad "its report, as 'sealbench pair' prints it" "$(head -c 300 "$TMP/again.out")"
kill $bpid 2>/dev/null
wait $bpid 2>/dev/null
# The broker gone: the child fails, says why, and prints no measured number.
retask "$task" "tcp://127.0.0.1:1" "$TMP/gone.task.json"
cmd="sealbench cell (a task whose broker is gone)"
run "$BIN" cell "$TMP/gone.task.json"
expect_rc 1
expect_has err "sealbench pair: gateway:"
python3 -c 'import json,sys; c=json.loads(sys.argv[1])["columns"]; sys.exit(0 if "messages_sent" not in c and c["handshakes"] is None else 1)' "$out" && ok ||
    bad "no measured number from a cell that did not run" "$(shown "$out")"
# A task it does not understand: refused, naming the field.
printf '{"part": "pair", "deviecs": 100}' >"$TMP/bad.task.json"
cmd="sealbench cell (a misspelt task)"
run "$BIN" cell "$TMP/bad.task.json"
expect_rc 2
expect_has err "unknown field 'deviecs'"

# A run never writes into an existing folder.
run "$BIN" run experiments/configs/quick.ini --out "$TMP/quick"
expect_rc 2
expect_has err "exists; a run never writes into an existing folder"

# ---- interrupted, then resumed; both topologies ----
cat >"$TMP/resume.ini" <<INI
[run]
name = resume
repetitions = 2
seed = 7
warmup = 20
[defaults]
backend = openssl
suite = null, chacha20-poly1305
qos = 1
payload = size:100
messages = 300
topology = inproc, split
INI
run "$BIN" run "$TMP/resume.ini" --dry-run
printf '%s\n' "$out" >"$TMP/resume.cells"
"$BIN" run "$TMP/resume.ini" --out "$TMP/resume" --progress lines 2>"$TMP/resume.log" &
pid=$!
for _ in $(seq 1 300); do # until two runs are stored
    [ "$(ls "$TMP/resume/raw" 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
cmd="run interrupted by SIGINT"
[ $rc -eq 1 ] && ok || bad "exit 1 when interrupted" "exit $rc: $(shown "$(cat "$TMP/resume.log")")"
status=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["status"])' "$TMP/resume/manifest.json")
[ "$status" = interrupted ] && ok || bad "manifest status interrupted" "$status"
grep -q "complete it with 'sealbench run" "$TMP/resume.log" && ok || bad "says how to resume" "$(shown "$(cat "$TMP/resume.log")")"
kept=$(ls "$TMP/resume/raw" | wc -l)
[ "$kept" -ge 2 ] && ok || bad "finished cells kept" "$kept"
rows=$(($(wc -l <"$TMP/resume/cells.csv") - 1))
[ "$rows" = "$kept" ] && ok || bad "cells.csv holds the $kept finished runs" "$rows rows"
sha256sum "$TMP"/resume/raw/*.json >"$TMP/before.sha"
# A different config cannot resume this run.
cp "$TMP/resume.ini" "$TMP/other.ini"
echo "# changed" >>"$TMP/other.ini"
run "$BIN" run "$TMP/other.ini" --resume "$TMP/resume"
expect_rc 2
expect_has err "the config differs"
run "$BIN" run "$TMP/resume.ini" --resume "$TMP/resume" --progress lines
expect_rc 0
expect_has err "8 of 8 runs finished ($kept kept from before)"
sha256sum --quiet -c "$TMP/before.sha" >/dev/null 2>&1 && ok || bad "finished runs not measured again" "raw records changed"
rows=$(($(wc -l <"$TMP/resume/cells.csv") - 1))
[ "$rows" = 8 ] && ok || bad "8 rows after resuming" "$rows"
# Each cell x repetition once, of both topologies, with the checks of quick.
sort -u "$TMP/resume.cells" | awk '{print; print}' >"$TMP/resume.cells2"
checks "$TMP/resume" "$TMP/resume.cells2" "$TMP/resume.ini"

# ---- what ran, against what was asked (issue 15): no ok row claims what did not run ----
# vitals_tiny.csv has 4 patients of 300 records. Six sessions replay them round-robin; 400
# measured messages per device are more than a patient holds (300, of which 5 go to warm-up);
# 500000 Hz is a rate no publisher here keeps; a synthetic cell is checked for its payload
# bytes too.
cat >"$TMP/realised.ini" <<INI
[run]
name = realised
repetitions = 1
seed = 3
warmup = 5
[defaults]
backend = openssl
suite = chacha20-poly1305
qos = 1
payload = dataset:datasets/vitals_tiny.csv:cbor
[study fleet]
devices = 6
messages = 50
[study short]
messages = 400
[study fast]
payload = size:48
rate = 500000
messages = 3000
[study sized]
payload = size:48
messages = 50
INI
cmd="sealbench run realised.ini"
"$BIN" run "$TMP/realised.ini" --out "$TMP/realised" --progress lines >/dev/null 2>"$TMP/realised.log"
rc=$?
[ $rc -eq 1 ] && ok || bad "exit 1: some cells could not run what they asked" "exit $rc: $(shown "$(tail -3 "$TMP/realised.log")")"
field() { # study, column
    python3 -c 'import csv,sys; print(next((r[sys.argv[3]] for r in csv.DictReader(open(sys.argv[1])) if r["study"] == sys.argv[2]), "no row"))' "$TMP/realised/cells.csv" "$1" "$2"
}
got="$(field fleet status) $(field fleet devices) $(field fleet patients) $(field fleet messages_sent) $(field fleet handshakes)"
[ "$got" = "ok 6 4 300 6" ] && ok || bad "6 sessions over 4 patients: ok, devices 6, patients 4, 300 sent, 6 handshakes" "$got"
got="$(field short status): $(field short error)"
case $got in
"failed: messages_per_device: asked 400, realised 295 to 295 over 1 of 1 devices (the dataset holds fewer"*) ok ;;
*) bad "a patient shorter than the cell: failed, naming messages_per_device, asked and realised" "$got" ;;
esac
got="$(field fast status): $(field fast error)"
case $got in
"failed: rate_hz: asked 500000, realised "*" per device (more than 10% off"*) ok ;;
*) bad "a rate not kept: failed, naming rate_hz, asked and realised" "$got" ;;
esac
got="$(field sized status) $(field sized patients) $(field sized plaintext_bytes_mean)"
[ "$got" = "ok  48.0" ] || [ "$got" = "ok  48" ] && ok || bad "a synthetic cell: ok, no patients, 48 plaintext bytes" "$got"

# ---- bad input: the file, the line and the key; nothing run ----
cat >"$TMP/bad.ini" <<INI
[run]
name = bad
[defaults]
qos = 1, 3
INI
run "$BIN" run "$TMP/bad.ini" --out "$TMP/bad"
expect_rc 2
expect_has err "bad.ini:4: key 'qos'"
[ ! -e "$TMP/bad" ] && ok || bad "no run folder for a bad config" "$TMP/bad exists"
run "$BIN" run "$TMP/missing.ini"
expect_rc 2
expect_has err "missing.ini"
run "$BIN" run
expect_rc 2
expect_has err "a CONFIG file is required"
run "$BIN" run experiments/configs/quick.ini --progress sometimes
expect_rc 2
expect_has err "--progress: expected bar, lines or auto"
run "$BIN" run "$TMP/resume.ini" --resume "$TMP/nothing-here"
expect_rc 2
expect_has err "no readable manifest.json"
# The schema the README documents is the one the runner writes.
run "$BIN" run --schema
expect_rc 0
hdr=$(head -1 "$TMP/quick/cells.csv" | tr ',' '\n')
doc=$(sed -nE 's/^\| `([a-z0-9_]+)` \|.*/\1/p' <<<"$out")
[ "$hdr" = "$doc" ] && ok || bad "--schema lists the columns of cells.csv" "$(diff <(echo "$hdr") <(echo "$doc") | head -5)"
grep -qF "$(sed -n 3p <<<"$out")" results/README.md && ok || bad "results/README.md embeds the schema" "first row missing"

echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
