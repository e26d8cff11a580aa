#!/usr/bin/env bash
# `sealbench dataset generate`, checked from outside: determinism (same options, same bytes;
# the shipped CSVs against datasets/DATACARD.md and regenerated from its commands), the shape
# of the data (header, row count, order, timestamps, physiological bounds, diastolic below
# systolic), the missing values and the events against the summary line and the events file,
# and the one-line usage errors and write failures of cli/cli.h.
#
# Usage, from the repository root: tests/test_generate.sh BIN. Each assertion counts one pass or
# one fail. The data checks run in /usr/bin/python3 (standard library only). The last line is
# "generate: N passed, N failed", and the exit status is 1 if anything failed.
set -u

if [ $# -ne 1 ]; then
    echo "usage: tests/test_generate.sh BIN" >&2
    exit 2
fi
BIN=$1
CARD=datasets/DATACARD.md
PY=/usr/bin/python3
if [ ! -x "$BIN" ]; then
    echo "test_generate: '$BIN' is not an executable file" >&2
    exit 2
fi
if [ ! -r "$CARD" ]; then
    echo "test_generate: $CARD not found; run from the repository root" >&2
    exit 2
fi
[ -x "$PY" ] || PY=python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-gen.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT

# ---- Helpers -------------------------------------------------------------------------------

NAME=test_generate
. tests/assert.sh

sha() { sha256sum "$1" | cut -d' ' -f1; }

# The value of key=value in the summary line on stderr.
summary() { grep -oE "(^| )$1=[^ ]*" <<<"$err" | tail -n 1 | cut -d= -f2; }

# Run the Python checks: each printed "ok ..." counts a pass, each "FAIL ..." a fail.
py() {
    local line any=0
    cmd="check.py $*"
    while IFS= read -r line; do
        any=1
        case $line in
        ok\ *) ok ;;
        FAIL\ *) failed=$((failed + 1)); printf 'test_generate: %s\n' "$line" >&2 ;;
        *) failed=$((failed + 1)); printf 'test_generate: check.py said: %s\n' "$line" >&2 ;;
        esac
    done < <("$PY" "$TMP/check.py" "$@" 2>&1)
    [ $any -eq 1 ] || bad "output from check.py" "nothing"
}

G() { "$BIN" dataset generate "$@"; }

cat >"$TMP/check.py" <<'EOF'
"""Data checks for tests/test_generate.sh; prints "ok WHAT" or "FAIL WHAT: DETAIL" lines."""
import csv, datetime, re, statistics, sys
from collections import defaultdict

HEADER = ("patient_id,timestamp,heart_rate_bpm,spo2_pct,systolic_mmhg,diastolic_mmhg,"
          "temperature_c,respiration_rate_bpm")
# The hard clamps of DATACARD.md.
BOUNDS = {2: (30, 200), 3: (70, 100), 4: (70, 220), 5: (40, 130), 6: (34.0, 41.0), 7: (6, 40)}
INT = re.compile(r"^(0|[1-9][0-9]*)$")
TEMP = re.compile(r"^[0-9]{2}\.[0-9]$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

def result(name, good, detail=""):
    print(("ok " + name) if good else ("FAIL %s: %s" % (name, detail)))

def ms(stamp):
    d = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return round(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)

def read(path):
    with open(path, newline="") as f:
        lines = f.read().split("\n")
    return lines[0], [l.split(",") for l in lines[1:] if l != ""], lines[-1] == ""

def structure(path, patients, samples, start, steps, missing):
    """Shape, order, bounds and the missing count of one generated file."""
    header, rows, final_newline = read(path)
    patients, samples, missing = int(patients), int(samples), int(missing)
    steps = {int(s) for s in steps.split("/")}
    result("header", header == HEADER, header)
    result("final newline", final_newline)
    result("row count", len(rows) == patients * samples, "%d rows" % len(rows))
    result("fields per row", all(len(r) == 8 for r in rows), "a row without 8 fields")
    width = max(4, len(str(patients)))
    ids = ["P%0*d" % (width, i + 1) for i in range(patients)]
    result("patient ids", sorted({r[0] for r in rows}) == ids, "%d distinct" % len({r[0] for r in rows}))
    result("time then patient order",
           all(r[0] == ids[i % patients] for i, r in enumerate(rows)) and
           all(rows[i][1] == rows[i - i % patients][1] for i in range(len(rows))),
           "rows out of order")
    result("timestamp format", all(STAMP.match(r[1]) for r in rows), "a malformed timestamp")
    times = [ms(rows[i][1]) for i in range(0, len(rows), patients)]
    result("first timestamp", times[0] == ms(start), rows[0][1])
    diffs = {b - a for a, b in zip(times, times[1:])}
    result("steps", diffs <= steps and (len(times) < 2 or diffs), "steps %s, expected in %s" % (sorted(diffs), sorted(steps)))
    bad_fmt = bad_bound = bad_bp = empty = 0
    for r in rows:
        for c in range(2, 8):
            v = r[c]
            if v == "":
                empty += 1
                continue
            if not (TEMP if c == 6 else INT).match(v):
                bad_fmt += 1
                continue
            x = float(v) if c == 6 else int(v)
            lo, hi = BOUNDS[c]
            if not lo <= x <= hi:
                bad_bound += 1
        if r[4] and r[5] and not int(r[5]) < int(r[4]):
            bad_bp += 1
    result("number formats", bad_fmt == 0, "%d malformed values" % bad_fmt)
    result("physiological bounds", bad_bound == 0, "%d values out of bounds" % bad_bound)
    result("diastolic below systolic", bad_bp == 0, "%d rows" % bad_bp)
    result("missing count = summary", empty == missing, "%d empty fields, summary says %d" % (empty, missing))

def missing_rate(path, p, missing):
    _, rows, _ = read(path)
    fields = 6 * len(rows)
    empty = sum(v == "" for r in rows for v in r[2:])
    result("missing count = summary", empty == int(missing), "%d vs %s" % (empty, missing))
    expect = float(p) * fields
    # 4 standard deviations of a binomial count
    result("missing fraction near --missing", abs(empty - expect) <= 4 * (expect * (1 - float(p))) ** 0.5 + 1,
           "%d empty of %d fields, expected about %.0f" % (empty, fields, expect))
    result("fields of the patient id and timestamp never empty", all(r[0] and r[1] for r in rows))

def same_values(full, partial):
    """A file made with a higher --missing differs from the full one only by emptied fields."""
    _, a, _ = read(full)
    _, b, _ = read(partial)
    same = len(a) == len(b) and all(
        x[:2] == y[:2] and all(v == "" or v == u for u, v in zip(x[2:], y[2:])) for x, y in zip(a, b))
    result("--missing only empties fields", same, "a value changed")
    result("the full file has no empty field", all(v != "" for r in a for v in r[2:]))

def prefix(small, big, patients):
    """Patient k's rows do not depend on how many patients there are."""
    _, a, _ = read(small)
    _, b, _ = read(big)
    keep = {r[0] for r in a}
    result("patients independent of --patients", a == [r for r in b if r[0] in keep], "rows differ")

def avg30(s):
    pre, cnt = [0], [0]
    for v in s:
        pre.append(pre[-1] + (v or 0))
        cnt.append(cnt[-1] + (v is not None))
    out = []
    for i in range(len(s)):
        a, b = max(0, i - 15), min(len(s), i + 15)
        c = cnt[b] - cnt[a]
        out.append((pre[b] - pre[a]) / c if c else None)
    return out

def episodes(flags, gap=120):
    starts, last = [], None
    for i, f in enumerate(flags):
        if f:
            if last is None or i - last > gap:
                starts.append(i)
            last = i
    return starts

def detect(path):
    """Episodes found in 1 Hz data alone: desaturations as a 30-s mean SpO2 at least 4 points
    under the patient's median, tachycardias as a 30-s mean HR of 118 or more."""
    _, rows, _ = read(path)
    spo2, hr, t = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in rows:
        spo2[r[0]].append(int(r[3]) if r[3] else None)
        hr[r[0]].append(int(r[2]) if r[2] else None)
        t[r[0]].append(ms(r[1]))
    found = {}
    for p in spo2:
        m = statistics.median(v for v in spo2[p] if v is not None)
        d = episodes([a is not None and a <= m - 4 for a in avg30(spo2[p])])
        k = episodes([a is not None and a >= 118 for a in avg30(hr[p])])
        found[p] = ([t[p][i] for i in d], [t[p][i] for i in k])
    return found

def read_events(path):
    with open(path, newline="") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]

def events(data, events_file, desat, tachy, last):
    header, evs = read_events(events_file)
    result("events header", ",".join(header) ==
           "patient_id,event,start,onset_end,plateau_end,end,spo2_drop_pct,hr_target_bpm", header)
    kinds = [e[1] for e in evs]
    result("events file = summary", kinds.count("desaturation") == int(desat) and
           kinds.count("tachycardia") == int(tachy),
           "file %d/%d, summary %s/%s" % (kinds.count("desaturation"), kinds.count("tachycardia"), desat, tachy))
    # Parameters within the DATACARD's ranges, every event inside the recording, none
    # overlapping another of its patient, 10 minutes apart at least.
    ranges = {"desaturation": ((40, 80), (20, 120), (120, 300), 6, (8, 15)),
              "tachycardia": ((10, 30), (120, 600), (30, 90), 7, (120, 160))}
    bad, prev = [], {}
    for e in evs:
        s, o, p, end = (ms(x) for x in e[2:6])
        (on, pl, off, col, mag) = ranges[e[1]]
        ok_ = (on[0] * 1000 <= o - s <= on[1] * 1000 and pl[0] * 1000 <= p - o <= pl[1] * 1000
               and off[0] * 1000 <= end - p <= off[1] * 1000 and end <= ms(last)
               and mag[0] <= float(e[col]) <= mag[1] and e[13 - col] == ""
               and (e[0] not in prev or s >= prev[e[0]] + 600000))
        if not ok_:
            bad.append(",".join(e))
        prev[e[0]] = end
    result("event parameters, spacing and placement", not bad, "; ".join(bad[:3]))
    found = detect(data)
    truth = defaultdict(lambda: ([], []))
    for e in evs:
        truth[e[0]][0 if e[1] == "desaturation" else 1].append((ms(e[2]), ms(e[5])))
    mism = []
    for p in found:
        for k in range(2):
            f, tr = found[p][k], truth[p][k]
            # same number, each detected episode inside its event
            if len(f) != len(tr) or any(not s <= x <= end for x, (s, end) in zip(f, tr)):
                mism.append("%s %s: found %d, events file %d" % (p, ("desaturation", "tachycardia")[k], len(f), len(tr)))
    result("events seen in the data (%d found)" % sum(len(v[0]) + len(v[1]) for v in found.values()),
           not mism, "; ".join(mism[:5]))

def no_events(data):
    found = detect(data)
    n = sum(len(v[0]) + len(v[1]) for v in found.values())
    result("no event signature without events", n == 0, "%d episodes found" % n)

globals()[sys.argv[1]](*sys.argv[2:])
EOF

# ---- help and dispatch -----------------------------------------------------------------------

run "$BIN" dataset --help
expect_rc 0
expect_re out '^  generate '
run "$BIN" help dataset
expect_rc 0
expect_has out "generate"
run "$BIN" dataset generate --help
expect_rc 0
expect_has out "patient_id,timestamp,heart_rate_bpm,spo2_pct,systolic_mmhg,diastolic_mmhg,temperature_c,respiration_rate_bpm"
expect_has out "--events-per-hour"
run "$BIN" help
expect_re out '^  dataset '

run "$BIN" dataset
expect_rc 2
expect_one_err_line
expect_has err "sealbench dataset: a subcommand is required (see 'sealbench dataset --help')"
run "$BIN" dataset frobnicate
expect_rc 2
expect_one_err_line
expect_has err "unknown subcommand 'frobnicate'"
run "$BIN" dataset --patients 3
expect_rc 2
expect_one_err_line

# ---- usage errors: one line naming the flag, exit 2 ------------------------------------------

# bad_flag TEXT ARGS...: exit 2, one line on stderr starting with the command and containing
# TEXT, nothing on stdout, no file made.
bad_flag() {
    local text=$1
    shift
    rm -f "$TMP/bad.csv"
    run "$BIN" dataset generate "$@"
    expect_rc 2
    expect_one_err_line
    expect_re err "^sealbench dataset generate: .*\(see 'sealbench dataset generate --help'\)$"
    expect_has err "$text"
    if [ -z "$out" ] && [ ! -e "$TMP/bad.csv" ]; then ok; else bad "no output" "stdout '$(shown "$out")', file: $(ls "$TMP/bad.csv" 2>&1)"; fi
}

O=(--out "$TMP/bad.csv")
bad_flag "--out FILE is required" --patients 2
bad_flag "--out: empty" --out ""
bad_flag "--patients" "${O[@]}" --patients 0
bad_flag "--patients" "${O[@]}" --patients 100001
bad_flag "--patients" "${O[@]}" --patients two
bad_flag "--patients" "${O[@]}" --patients -3
bad_flag "--hours" "${O[@]}" --hours 0
bad_flag "--hours" "${O[@]}" --hours -1
bad_flag "--hours" "${O[@]}" --hours 1.00001
bad_flag "--hours" "${O[@]}" --hours 8785
bad_flag "--hours" "${O[@]}" --hours 1h
bad_flag "--hours" "${O[@]}" --hours .5
bad_flag "--minutes" "${O[@]}" --minutes 0.0001
bad_flag "not both" "${O[@]}" --hours 1 --minutes 5
bad_flag "--rate" "${O[@]}" --rate 0
bad_flag "--rate" "${O[@]}" --rate 0.0001
bad_flag "--rate" "${O[@]}" --rate 100.001
bad_flag "--rate" "${O[@]}" --rate fast
bad_flag "--seed" "${O[@]}" --seed -1
bad_flag "--seed" "${O[@]}" --seed 18446744073709551616
bad_flag "--seed" "${O[@]}" --seed 12x
bad_flag "--start" "${O[@]}" --start 2026-13-01T00:00:00Z
bad_flag "--start" "${O[@]}" --start 2026-02-29T00:00:00Z
bad_flag "--start" "${O[@]}" --start 2026-01-01
bad_flag "--start" "${O[@]}" --start 2026-01-01T00:00:00
bad_flag "--start" "${O[@]}" --start 2026-01-01T00:00:00+01:00
bad_flag "--start" "${O[@]}" --start 1969-12-31T23:59:59Z
bad_flag "--start" "${O[@]}" --start 2026-01-01T00:00:00.1234Z
bad_flag "start: the recording must lie" "${O[@]}" --start 9999-12-31T23:00:00Z --hours 2
bad_flag "--missing" "${O[@]}" --missing 1.5
bad_flag "--missing" "${O[@]}" --missing -0.1
bad_flag "--missing" "${O[@]}" --missing nan
bad_flag "--events-per-hour" "${O[@]}" --events-per-hour 61
bad_flag "--events-per-hour" "${O[@]}" --events-per-hour -1
bad_flag "--events" "${O[@]}" --events "$TMP/bad.csv"
bad_flag "--events" "${O[@]}" --events -
bad_flag "unknown option '--bogus'" "${O[@]}" --bogus
bad_flag "unexpected argument 'extra'" "${O[@]}" extra
bad_flag "option '--seed' needs a value" "${O[@]}" --seed

# ---- write failures: exit 1, a message, nothing left under the name ---------------------------

if [ -w /dev/full ]; then
    run G --out /dev/full --patients 2 --minutes 10
    expect_rc 1
    expect_one_err_line
    expect_has err "sealbench dataset generate: /dev/full: write failed: No space left on device"
    run G --out "$TMP/x.csv" --events /dev/full --patients 2 --hours 2 --events-per-hour 30
    expect_rc 1
    expect_has err "events file: write failed"
    check "no CSV after a failed events file" "$([ ! -e "$TMP/x.csv" ]; echo $?)" "$TMP/x.csv exists"
fi
run G --out "$TMP/no/such/dir/x.csv"
expect_rc 1
expect_one_err_line
expect_has err "cannot write $TMP/no/such/dir/x.csv"
# A file size limit makes a write fail halfway: the partial file must not stay, under its name
# or a temporary one.
mkdir -p "$TMP/full"
run bash -c "ulimit -f 64; trap '' XFSZ; exec \"\$0\" dataset generate --out \"\$1\" --patients 10" \
    "$BIN" "$TMP/full/v.csv"
expect_rc 1
expect_has err "write failed"
check "no partial file after a failed write" "$([ -z "$(ls -A "$TMP/full")" ]; echo $?)" \
    "left: $(ls -A "$TMP/full")"

# ---- determinism ---------------------------------------------------------------------------

A=(--patients 5 --minutes 20 --rate 1 --seed 42 --missing 0.01 --events-per-hour 6)
run G "${A[@]}" --out "$TMP/a1.csv"
expect_rc 0
run G "${A[@]}" --out "$TMP/a2.csv"
expect_rc 0
check "same seed, same bytes" "$([ "$(sha "$TMP/a1.csv")" = "$(sha "$TMP/a2.csv")" ]; echo $?)" \
    "$(sha "$TMP/a1.csv") vs $(sha "$TMP/a2.csv")"
G "${A[@]}" --out - --quiet >"$TMP/a3.csv" 2>"$TMP/a3.err"
check "--out - writes the same bytes to stdout" "$(cmp -s "$TMP/a1.csv" "$TMP/a3.csv"; echo $?)" "differs"
check "--quiet prints nothing" "$([ ! -s "$TMP/a3.err" ]; echo $?)" "$(cat "$TMP/a3.err")"
run G --patients 5 --minutes 20 --rate 1 --seed 43 --missing 0.01 --events-per-hour 6 --out "$TMP/b.csv"
check "another seed, other bytes" "$([ "$(sha "$TMP/a1.csv")" != "$(sha "$TMP/b.csv")" ]; echo $?)" "same sha256"
run G --patients 5 --minutes 20 --rate 1 --seed 18446744073709551615 --out "$TMP/c.csv"
expect_rc 0

# The shipped files: their sha256 are the DATACARD's, and its commands remake them exactly.
shipped=$(grep -cE '^[0-9a-f]{64}  datasets/vitals_[a-z_]+\.csv$' "$CARD")
check "DATACARD lists sha256 of the shipped files" "$([ "$shipped" -ge 2 ]; echo $?)" "$shipped lines"
grep -E '^[0-9a-f]{64}  datasets/vitals_[a-z_]+\.csv$' "$CARD" >"$TMP/card.sha256"
cmd="sha256sum -c (DATACARD)"
if sha256sum --quiet -c "$TMP/card.sha256" >"$TMP/shaout" 2>&1; then ok; else bad "shipped files match DATACARD" "$(cat "$TMP/shaout")"; fi
for f in datasets/vitals_*.csv; do
    grep -qF "  $f" "$TMP/card.sha256" && ok || bad "$f in the DATACARD's sha256 list" "missing"
done
made=0
while IFS= read -r line; do
    # "sealbench dataset generate ... --out datasets/F.csv [--events datasets/G.csv]"
    read -r -a words <<<"$line"
    args=() targets=()
    for ((i = 3; i < ${#words[@]}; i++)); do
        w=${words[i]}
        if [ "$w" = --out ] || [ "$w" = --events ]; then
            targets+=("${words[i + 1]}")
            args+=("$w" "$TMP/re_$(basename "${words[i + 1]}")")
            i=$((i + 1))
        else
            args+=("$w")
        fi
    done
    run G "${args[@]}"
    expect_rc 0
    for t in "${targets[@]}"; do
        made=$((made + 1))
        cmd="$line (remaking $t)"
        if cmp -s "$t" "$TMP/re_$(basename "$t")"; then ok; else bad "$t remade byte for byte" "differs"; fi
        rows=$(($(grep -c '' "$t") - 1))
        if grep -qE "\| *\`?$(basename "$t")\`? *\| *$rows *\|" "$CARD"; then ok; else
            bad "the DATACARD's table to give $rows rows for $t" "$(grep -F "$(basename "$t")" "$CARD" | head -3)"
        fi
    done
done < <(grep -E '^sealbench dataset generate .*--out datasets/vitals_[a-z_]+\.csv' "$CARD")
check "every shipped file has a command" "$([ "$made" -eq "$(ls datasets/vitals_*.csv | wc -l)" ]; echo $?)" \
    "$made files remade, $(ls datasets/vitals_*.csv | wc -l) shipped"

# ---- shape of the data ---------------------------------------------------------------------

run G --patients 7 --minutes 30 --rate 2 --seed 5 --missing 0.01 --out "$TMP/s.csv"
expect_rc 0
expect_re err '^sealbench dataset generate: rows=25200 patients=7 samples_per_patient=3600 first=2026-01-01T00:00:00.000Z last=2026-01-01T00:29:59.500Z bytes=[0-9]+ desaturation=[0-9]+ tachycardia=[0-9]+ missing=[0-9]+ fields=151200$'
check "summary bytes = file size" "$([ "$(summary bytes)" = "$(stat -c %s "$TMP/s.csv")" ]; echo $?)" \
    "$(summary bytes) vs $(stat -c %s "$TMP/s.csv")"
py structure "$TMP/s.csv" 7 3600 2026-01-01T00:00:00.000Z 500 "$(summary missing)"

# A rate that does not divide a second: 3 Hz steps 333 or 334 ms; 0.5 Hz over half an hour.
run G --patients 3 --minutes 2 --rate 3 --seed 5 --start 2024-02-29T23:59:00.250Z --out "$TMP/r3.csv"
expect_rc 0
expect_has err "last=2024-03-01T00:00:59.916Z" # 0.250 s + floor(359 * 1000 / 3) ms
py structure "$TMP/r3.csv" 3 360 2024-02-29T23:59:00.250Z 333/334 "$(summary missing)"
run G --patients 2 --hours 0.5 --rate 0.5 --seed 5 --out "$TMP/r05.csv"
expect_rc 0
py structure "$TMP/r05.csv" 2 900 2026-01-01T00:00:00.000Z 2000 "$(summary missing)"
# Five-digit ids past 9999 patients; a duration shorter than one sample period gives one sample.
run G --patients 10000 --minutes 0.001 --seed 5 --out "$TMP/wide.csv"
expect_rc 0
check "10000 patients, ids P00001..P10000" \
    "$([ "$(sed -n 2p "$TMP/wide.csv" | cut -d, -f1)" = P00001 ] && [ "$(tail -n 1 "$TMP/wide.csv" | cut -d, -f1)" = P10000 ] && [ "$(grep -c '' "$TMP/wide.csv")" -eq 10001 ]; echo $?)" \
    "$(sed -n 2p "$TMP/wide.csv"), $(tail -n 1 "$TMP/wide.csv"), $(grep -c '' "$TMP/wide.csv") lines"
py structure "$TMP/wide.csv" 10000 1 2026-01-01T00:00:00.000Z 1000 "$(summary missing)"

# Patient k does not depend on the number of patients.
run G --patients 3 --minutes 10 --seed 9 --out "$TMP/p3.csv"
run G --patients 6 --minutes 10 --seed 9 --out "$TMP/p6.csv"
py prefix "$TMP/p3.csv" "$TMP/p6.csv" 3

# ---- missing values ------------------------------------------------------------------------

run G --patients 10 --minutes 30 --seed 3 --missing 0.05 --out "$TMP/m5.csv"
expect_rc 0
check "summary fields = rows x 6" "$([ "$(summary fields)" = 108000 ]; echo $?)" "$(summary fields)"
py missing_rate "$TMP/m5.csv" 0.05 "$(summary missing)"
run G --patients 10 --minutes 30 --seed 3 --missing 0 --out "$TMP/m0.csv"
expect_rc 0
check "--missing 0: summary missing=0" "$([ "$(summary missing)" = 0 ]; echo $?)" "$(summary missing)"
py same_values "$TMP/m0.csv" "$TMP/m5.csv"
run G --patients 2 --minutes 1 --seed 3 --missing 1 --out "$TMP/m1.csv"
check "--missing 1: every value empty" \
    "$([ "$(summary missing)" = 720 ] && [ "$(grep -c ',,,,,,$' "$TMP/m1.csv")" -eq 120 ]; echo $?)" "$(summary missing)"

# ---- events --------------------------------------------------------------------------------

run G --patients 10 --hours 3 --seed 4 --events-per-hour 0 --out "$TMP/e0.csv" --events "$TMP/e0_events.csv"
expect_rc 0
expect_has err " desaturation=0 tachycardia=0 "
check "no events: the events file is its header" "$([ "$(grep -c '' "$TMP/e0_events.csv")" -eq 1 ]; echo $?)" \
    "$(grep -c '' "$TMP/e0_events.csv") lines"
py no_events "$TMP/e0.csv"

run G --patients 12 --hours 6 --seed 4 --events-per-hour 4 --out "$TMP/e3.csv" --events "$TMP/e3_events.csv"
expect_rc 0
d=$(summary desaturation) t=$(summary tachycardia)
check "a high rate makes both kinds of event" "$([ "${d:-0}" -ge 30 ] && [ "${t:-0}" -ge 30 ]; echo $?)" "desaturation=$d tachycardia=$t"
py events "$TMP/e3.csv" "$TMP/e3_events.csv" "$d" "$t" "$(tail -n 1 "$TMP/e3.csv" | cut -d, -f2)"
# The events do not move the other streams: without events the same seed gives the same
# missing-value pattern.
run G --patients 12 --hours 6 --seed 4 --events-per-hour 0 --out "$TMP/e3_none.csv"
empties() { awk -F, '{ m = $1 $2; for (i = 3; i <= 8; i++) m = m ($i == "" ? "_" : "x"); print m }' "$1" | sha256sum; }
check "events leave the missing values alone" "$([ "$(empties "$TMP/e3.csv")" = "$(empties "$TMP/e3_none.csv")" ]; echo $?)" "differ"
# The shipped small file's events, against its data.
if [ -r datasets/vitals_small_events.csv ]; then
    n=$(($(grep -c '' datasets/vitals_small_events.csv) - 1))
    py events datasets/vitals_small.csv datasets/vitals_small_events.csv \
        "$(grep -c ',desaturation,' datasets/vitals_small_events.csv)" \
        "$(grep -c ',tachycardia,' datasets/vitals_small_events.csv)" \
        "$(tail -n 1 datasets/vitals_small.csv | cut -d, -f2)"
    check "the shipped small file has events" "$([ "$n" -ge 3 ]; echo $?)" "$n events"
fi

# ------------------------------------------------------------------------------------------------

echo "generate: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
