#!/usr/bin/env bash
# make experiments: run a config with `sealbench run`, then analyse whatever it measured into
# the run folder (analysis/ tables and figures, report.html). The analysis runs even when some
# cells failed or the run was interrupted, so nothing measured goes unreported; the exit code is
# the runner's, or the analysis' when the run itself succeeded.
# Usage: scripts/experiments.sh BIN CONFIG [OUT] [RESUME] [BROKER]
set -uo pipefail
bin=$1 config=$2 out=${3:-} resume=${4:-} broker=${5:-}
PY=/usr/bin/python3

args=()
[ -n "$broker" ] && args+=(--broker "$broker")
if [ -n "$resume" ]; then
    out=$resume
    args+=(--resume "$resume")
elif [ -z "$out" ]; then
    # The runner's own default would be results/<name>-<UTC time>; choose it here so the
    # analysis knows where the run went. The name is the first word of the dry run's plan.
    name=$("$bin" run "$config" --dry-run 2>&1 >/dev/null | sed -n '1s/:.*//p')
    if [ -z "$name" ]; then
        "$bin" run "$config" --dry-run >/dev/null   # let the runner say what is wrong
        exit 2
    fi
    out=results/$name-$(date -u +%Y%m%dT%H%M%SZ)
fi
[ -z "$resume" ] && args+=(--out "$out")

"$bin" run "$config" "${args[@]}"
rc=$?
if [ -f "$out/cells.csv" ]; then
    echo "experiments: analysing $out (tables, figures, report.html)"
    $PY analysis/analyze.py "$out"
    arc=$?
    [ $rc -eq 0 ] && rc=$arc
    [ $arc -eq 0 ] && echo "experiments: open $out/report.html; tables in $out/analysis/"
fi
exit $rc
