# The assertion helpers of every shell test (tests/run.sh adds up their summary lines).
# Source it after setting NAME (the prefix of failure lines) and TMP (a scratch folder). `run`
# keeps a command's exit status and output for the expect_* calls after it; each assertion
# counts one pass or one fail, and a failure says what was expected and what came back.

passed=0
failed=0
skipped=0
rc=0 out="" err="" cmd=""

# Run a command, keeping its exit status, stdout and stderr for the assertions that follow.
run() {
    cmd="$*"
    "$@" >"$TMP/stdout" 2>"$TMP/stderr"
    rc=$?
    out=$(cat "$TMP/stdout")
    err=$(cat "$TMP/stderr")
}

ok() { passed=$((passed + 1)); }

# A check this machine cannot run (a missing tool or file): counted, and its reason printed as
# "skip: <why>" for tests/run.sh to show under the final line.
skip() {
    skipped=$((skipped + 1))
    printf 'skip: %s\n' "$1"
}

# check DESCRIPTION STATUS [DETAIL]: one assertion on a status already computed (0 holds),
# with what came back instead when it does not.
check() {
    cmd=$1
    if [ "$2" -eq 0 ]; then ok; else bad "$1" "${3:-}"; fi
}

# The summary line tests/run.sh reads: "<NAME>: N passed, N failed[, N skipped]".
totals() {
    echo "$NAME: $passed passed, $failed failed$([ "$skipped" -eq 0 ] || echo ", $skipped skipped")"
}

bad() {
    failed=$((failed + 1))
    printf '%s: FAIL: %s\n  expected: %s\n  got:      %s\n' "$NAME" "$cmd" "$1" "$2" >&2
}

# What came back, shortened, for failure messages.
shown() {
    local s=$1
    [ -z "$s" ] && s="(nothing)"
    [ ${#s} -gt 600 ] && s="${s:0:600}..."
    printf '%s' "$s"
}

expect_rc() {
    if [ "$rc" -eq "$1" ]; then ok; else bad "exit status $1" "exit status $rc; stderr: $(shown "$err")"; fi
}

# expect_has out|err STRING: fixed-string match anywhere in that stream.
expect_has() {
    local text
    [ "$1" = out ] && text=$out || text=$err
    if grep -qF -- "$2" <<<"$text"; then ok; else bad "std$1 containing '$2'" "$(shown "$text")"; fi
}

expect_lacks() {
    local text
    [ "$1" = out ] && text=$out || text=$err
    if grep -qF -- "$2" <<<"$text"; then bad "std$1 without '$2'" "$(shown "$text")"; else ok; fi
}

# expect_re out|err REGEX: an extended regular expression matching some line.
expect_re() {
    local text
    [ "$1" = out ] && text=$out || text=$err
    if grep -qE -- "$2" <<<"$text"; then ok; else bad "std$1 with a line matching /$2/" "$(shown "$text")"; fi
}

# Exactly one line on stderr (the usage-error and malformed-file convention).
expect_one_err_line() {
    local n
    n=$(grep -c '' "$TMP/stderr")
    if [ "$n" -eq 1 ]; then ok; else bad "one line on stderr" "$n lines: $(shown "$err")"; fi
}
