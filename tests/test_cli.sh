#!/usr/bin/env bash
# The sealbench command line, checked from outside: exit codes, the one-line errors of cli/cli.h,
# `vectors` against the carried vector file and against tampered and malformed copies of it,
# `list` and a minimal `speed` run.
#
# Usage, from the repository root: tests/test_cli.sh BIN (BIN: the sealbench binary). Every
# assertion counts one pass or one fail; a failure says what was expected and what came back.
# The last line is "cli: N passed, N failed", and the exit status is 1 if anything failed.
set -u

if [ $# -ne 1 ]; then
    echo "usage: tests/test_cli.sh BIN" >&2
    exit 2
fi
BIN=$1
VECTORS=tests/vectors/sealbench-v1.json
if [ ! -x "$BIN" ]; then
    echo "test_cli: '$BIN' is not an executable file" >&2
    exit 2
fi
if [ ! -r "$VECTORS" ]; then
    echo "test_cli: $VECTORS not found; run from the repository root" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-cli.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT

# ---- Helpers -------------------------------------------------------------------------------

NAME=test_cli
. tests/assert.sh

# The whole of stderr equal to one given line.
expect_err_is() {
    if [ "$err" = "$1" ]; then ok; else bad "stderr exactly '$1'" "$(shown "$err")"; fi
}

# A copy of the vector file with the last hex digit of the nth occurrence of "key": changed.
flip_digit() {
    awk -v key="\"$1\":" -v nth="$2" '
        index($0, key) && ++n == nth && match($0, /[0-9a-f]",?[ \t\r]*$/) {
            c = substr($0, RSTART, 1)
            $0 = substr($0, 1, RSTART - 1) (c == "0" ? "1" : "0") substr($0, RSTART + 1)
        }
        { print }' "$VECTORS"
}

# A copy with the first line holding "key": passed through an awk program (the first vector's
# field, since every vector lists its fields in the same order).
edit_first() {
    awk -v key="\"$1\":" "index(\$0, key) && !done { done = 1; $2 } { print }" "$VECTORS"
}

# A made copy must differ from the original, or the case below would test nothing.
expect_changed() {
    cmd="making $1"
    if cmp -s "$VECTORS" "$1"; then bad "$1 to differ from $VECTORS" "identical"; else ok; fi
}

# ---- vectors: the carried file passes on every backend -------------------------------------

# libsodium 1.0.18 has AES-256-GCM on x86 with AES-NI only: on ARM (a Raspberry Pi, or qemu-user)
# its 2 vectors of that suite are skipped too, and the tampered vector 4 below is not sodium's.
if "$BIN" list --csv | grep -q '^suite,sodium,aes-256-gcm,ok,'; then
    SODIUM_VECTORS='8 passed, 0 failed, 12 skipped; 32 messages' V4_BACKENDS="openssl sodium mbedtls"
else
    SODIUM_VECTORS='6 passed, 0 failed, 14 skipped; 24 messages' V4_BACKENDS="openssl mbedtls"
fi
run "$BIN" vectors "$VECTORS"
expect_rc 0
expect_re out '^openssl +20 vectors: 20 passed, 0 failed, 0 skipped; 80 messages re-sealed and opened$'
expect_re out "^sodium +20 vectors: $SODIUM_VECTORS re-sealed and opened"
expect_re out '^mbedtls +20 vectors: 20 passed, 0 failed, 0 skipped; 80 messages re-sealed and opened$'
if [ -z "$err" ]; then ok; else bad "nothing on stderr" "$(shown "$err")"; fi

run "$BIN" vectors --backend openssl "$VECTORS"
expect_rc 0
if [ "$(grep -c 'vectors:' <<<"$out")" -eq 1 ] && grep -q '^openssl ' <<<"$out"; then ok; else
    bad "one summary line, for openssl" "$(shown "$out")"
fi

# ---- vectors: tampered copies ----------------------------------------------------------------
# Each vector holds 4 messages, so the 18th "wire" is vectors[4].messages[1] and the 5th
# "hs_key" is vectors[4]'s: aes-256-gcm over x25519, which all three backends run (where
# libsodium has it).

flip_digit wire 18 >"$TMP/wire.json"
expect_changed "$TMP/wire.json"
run "$BIN" vectors "$TMP/wire.json"
expect_rc 1
for be in $V4_BACKENDS; do
    expect_re err "^$TMP/wire.json: vector 4 \([^)]*\): $be: messages\[1\]\.wire differs$"
    expect_re out "^$be +20 vectors: [0-9]+ passed, 1 failed,"
done

flip_digit hs_key 5 >"$TMP/hs_key.json"
expect_changed "$TMP/hs_key.json"
run "$BIN" vectors "$TMP/hs_key.json"
expect_rc 1
for be in $V4_BACKENDS; do
    expect_re err "^$TMP/hs_key.json: vector 4 \([^)]*\): $be: hs_key differs$"
done

# ---- vectors: malformed files, each a one-line error naming file, vector and field -----------

# check_malformed FILE EXPECTED_TEXT: exit 1, one line on stderr containing the text.
check_malformed() {
    run "$BIN" vectors "$1"
    expect_rc 1
    expect_one_err_line
    expect_has err "$2"
}

printf 'hello, world\n' >"$TMP/notjson.json"
check_malformed "$TMP/notjson.json" "$TMP/notjson.json:"
expect_re err "^$TMP/notjson.json:1:[0-9]+: "

printf '{"protocol": "sealbench v1", "tests": []}\n' >"$TMP/novectors.json"
check_malformed "$TMP/novectors.json" "$TMP/novectors.json: "
expect_has err '"vectors"'

edit_first psk 'next' >"$TMP/nopsk.json"
expect_changed "$TMP/nopsk.json"
check_malformed "$TMP/nopsk.json" "vector 0: field 'psk': missing"
expect_err_is "$TMP/nopsk.json: vector 0: field 'psk': missing"

# 63 hex digits.
edit_first psk 'sub(/[0-9a-f]"/, "\"")' >"$TMP/psk_odd.json"
expect_changed "$TMP/psk_odd.json"
check_malformed "$TMP/psk_odd.json" "$TMP/psk_odd.json: vector 0: field 'psk': "
expect_has err "even"

# 31 bytes.
edit_first psk 'sub(/[0-9a-f][0-9a-f]"/, "\"")' >"$TMP/psk31.json"
expect_changed "$TMP/psk31.json"
check_malformed "$TMP/psk31.json" "$TMP/psk31.json: vector 0: field 'psk': "
expect_has err "32 bytes"
expect_has err "31"

# 33 bytes: an even count of digits, so the error must be about the size, not the parity.
edit_first psk 'sub(/"$|",$/, "00&")' >"$TMP/psk33.json"
expect_changed "$TMP/psk33.json"
check_malformed "$TMP/psk33.json" "$TMP/psk33.json: vector 0: field 'psk': "
expect_has err "32 bytes"
expect_lacks err "even count"

# 64 characters, not all hex digits.
edit_first psk 'sub(/": "../, "\": \"zz")' >"$TMP/psk_nothex.json"
expect_changed "$TMP/psk_nothex.json"
check_malformed "$TMP/psk_nothex.json" "$TMP/psk_nothex.json: vector 0: field 'psk': "
expect_lacks err "even count"

edit_first suite 'sub(/"null"/, "\"rot13\"")' >"$TMP/suite.json"
expect_changed "$TMP/suite.json"
check_malformed "$TMP/suite.json" "$TMP/suite.json: vector 0: field 'suite': "
expect_has err "rot13"

edit_first epoch 'sub(/[0-9]+/, "\"&\"")' >"$TMP/epoch.json"
expect_changed "$TMP/epoch.json"
check_malformed "$TMP/epoch.json" "$TMP/epoch.json: vector 0: field 'epoch': "
expect_has err "integer"

# Vector 0 has a real PSK; calling it auth "none" contradicts it.
edit_first auth 'sub(/"psk"/, "\"none\"")' >"$TMP/auth.json"
expect_changed "$TMP/auth.json"
check_malformed "$TMP/auth.json" "$TMP/auth.json: vector 0: field 'psk': "
expect_has err "none"

edit_first device_id 'sub(/"dev-/, "\"dev/")' >"$TMP/device_id.json"
expect_changed "$TMP/device_id.json"
check_malformed "$TMP/device_id.json" "$TMP/device_id.json: vector 0: field 'device_id': "

printf '{"protocol": "sealbench v1", "vectors": []}\n' >"$TMP/empty.json"
check_malformed "$TMP/empty.json" "$TMP/empty.json: "
expect_has err "empty"

check_malformed "$TMP/does-not-exist.json" "$TMP/does-not-exist.json: "

# ---- Usage -------------------------------------------------------------------------------------

run "$BIN"
expect_rc 2
expect_has err "usage:"

run "$BIN" nosuchcmd
expect_rc 2
expect_one_err_line
expect_has err "unknown command"
expect_has err "sealbench help"

run "$BIN" vectors --bogus x
expect_rc 2
expect_one_err_line
expect_has err "unknown option '--bogus'"
expect_has err "--help"

run "$BIN" list --help
expect_rc 0
expect_has out "usage:"

run "$BIN" help
expect_rc 0
for c in list vectors speed; do
    expect_re out "^ +$c +[a-z]"
done

run "$BIN" help vectors
expect_rc 0
expect_has out "usage: sealbench vectors"

run "$BIN" vectors
expect_rc 2
expect_one_err_line

run "$BIN" speed --sizes abc
expect_rc 2
expect_one_err_line
expect_has err "--sizes"

# ---- list --------------------------------------------------------------------------------------

run "$BIN" list
expect_rc 0
expect_re out '^sodium +aes-128-gcm +unavailable: libsodium has no AES-128-GCM$'
expect_re out '^ *openssl +OpenSSL +[0-9]+\.[0-9]+'
expect_re out '^ *sodium +libsodium +[0-9]+\.[0-9]+'
expect_re out '^ *mbedtls +Mbed TLS +[0-9]+\.[0-9]+'

run "$BIN" list --csv
expect_rc 0
header=$(head -n 1 "$TMP/stdout")
want_header=kind,backend,name,status,reason,wire_id,key_bytes,mac_key_bytes,nonce_bytes,tag_bytes,header_bytes,overhead_bytes,pub_bytes
if [ "$header" = "$want_header" ]; then ok; else bad "header '$want_header'" "'$header'"; fi
# A row per backend of ciphers/backends.txt, built or not, and per pair with each suite and
# group of the independent vectors (20 vectors: 5 suites x 2 groups).
n_be=$(grep -cv '^#\|^[[:space:]]*$' ciphers/backends.txt)
n_suites=$(grep -o '"suite": "[^"]*"' "$VECTORS" | sort -u | wc -l)
n_groups=$(grep -o '"group": "[^"]*"' "$VECTORS" | sort -u | wc -l)
for want in library:$n_be suite:$((n_be * n_suites)) group:$((n_be * n_groups)); do
    kind=${want%:*} n=${want#*:}
    got=$(grep -c "^$kind," "$TMP/stdout")
    if [ "$got" -eq "$n" ]; then ok; else bad "$n rows of kind $kind" "$got"; fi
done
# Each suite's sizes against the vectors: an unpadded message's wire bytes minus its plaintext
# are overhead_bytes (PROTOCOL.md: the 14-byte header, then the tag).
/usr/bin/python3 - "$VECTORS" "$TMP/stdout" <<'PY'
import csv, json, sys
vectors = json.load(open(sys.argv[1]))["vectors"]
want = {}
for v in vectors:
    for m in v["messages"]:
        if v["pad_to"] == 0:
            want.setdefault(v["suite"], set()).add((len(m["wire"]) - len(m["plaintext"])) // 2)
bad = 0
for r in csv.DictReader(open(sys.argv[2])):
    if r["kind"] != "suite":
        continue
    got = int(r["overhead_bytes"])
    if want.get(r["name"]) != {got} or int(r["header_bytes"]) + int(r["tag_bytes"]) != got:
        print(f"list --csv: {r['backend']} {r['name']} overhead {got} header {r['header_bytes']} "
              f"tag {r['tag_bytes']}; the vectors say {want.get(r['name'])}")
        bad = 1
sys.exit(bad)
PY
if [ $? -eq 0 ]; then ok; else bad "list --csv sizes equal to the vectors'" "see above"; fi
rows=$(($(grep -c '' "$TMP/stdout") - 1))
if [ "$rows" -eq 24 ]; then ok; else bad "24 data rows and nothing else" "$rows: $(shown "$out")"; fi
expect_re out '^suite,sodium,aes-128-gcm,unavailable,'

# ---- speed -------------------------------------------------------------------------------------

run "$BIN" speed --backend openssl --suite aes-128-gcm --sizes 64 --samples 3 --sample-ms 1 --csv
expect_rc 0
expect_re out '^([^,]*,)*seal_ns_p50(,|$)'
lines=$(grep -c '' "$TMP/stdout")
if [ "$lines" -eq 2 ]; then ok; else bad "a header and one data row" "$lines lines: $(shown "$out")"; fi
p50=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seal_ns_p50") col = i }
               NR == 2 && col { print $col }' "$TMP/stdout")
if [[ $p50 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v v="$p50" 'BEGIN { exit !(v > 0) }'; then ok; else
    bad "seal_ns_p50 a positive number" "'$p50'"
fi

# ------------------------------------------------------------------------------------------------

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
