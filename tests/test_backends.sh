#!/usr/bin/env bash
# A build without one backend (make BACKENDS="openssl sodium" into build/nombedtls/, only the
# sealbench binary: 18 s on the 2-core development VM): `list` and `list --csv` say mbedtls is
# not built and why, for the library and every one of its suites and groups, while the other
# backends' rows are those of the full build; the binary does not need libmbedcrypto; asking
# for mbedtls by name (pair, micro, vectors, keys, a config) fails with a non-zero exit, never
# with another backend in its place; `all` means the backends built; the others still seal and
# open. Then, on the full build, an OpenSSL whose providers offer nothing: each OpenSSL suite
# and group is unavailable with the reason its own fetch gave, not "ok".
#
# Usage, from the repository root: tests/test_backends.sh BIN (the full build's sealbench).
# run.sh: native build only
set -u

if [ $# -ne 1 ]; then
    echo "usage: tests/test_backends.sh BIN" >&2
    exit 2
fi
BIN=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-backends.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
NAME=backends
. tests/assert.sh

# ---- the build ---------------------------------------------------------------------------------

VARIANT=build/nombedtls/sealbench
start=$(date +%s)
run make --no-print-directory -j"$(nproc)" BUILD=nombedtls BACKENDS="openssl sodium" "$VARIANT"
expect_rc 0
echo "make BACKENDS=\"openssl sodium\" $VARIANT: $(($(date +%s) - start)) s" >&2
run make --no-print-directory -n BACKENDS="openssl wolfssl" "$VARIANT"
expect_rc 2
expect_has err "BACKENDS: unknown wolfssl; known: $(awk '!/^#/ && NF {print $1}' ciphers/backends.txt | xargs) (ciphers/backends.txt)"
run make --no-print-directory -n BACKENDS=" " "$VARIANT"
expect_rc 2
expect_has err "BACKENDS is empty"

# Linked without libmbedcrypto (readelf: what the binary itself asks for; ldd: with what its
# libraries ask for).
run readelf -d "$VARIANT"
expect_rc 0
expect_lacks out libmbedcrypto
expect_has out libsodium
run ldd "$VARIANT"
expect_lacks out libmbedcrypto

# ---- list --------------------------------------------------------------------------------------

NOT_BUILT='not built into this binary, made with BACKENDS="openssl sodium"'
run "$VARIANT" list
expect_rc 0
expect_has out 'this binary has: openssl sodium'
expect_re out "^ *mbedtls +Mbed TLS +unavailable: $NOT_BUILT"
expect_re out "^mbedtls +aes-128-gcm +unavailable: $NOT_BUILT"
expect_re out "^mbedtls +p256 +unavailable: $NOT_BUILT"
expect_re out '^openssl +aes-128-gcm +ok$'

run "$VARIANT" list --csv
expect_rc 0
cp "$TMP/stdout" "$TMP/variant.csv"
"$BIN" list --csv >"$TMP/full.csv"
# Every mbedtls row unavailable with the reason; every other row as in the full build.
/usr/bin/python3 - "$TMP/variant.csv" "$TMP/full.csv" <<'PY'
import csv, sys
variant = list(csv.DictReader(open(sys.argv[1])))
full = list(csv.DictReader(open(sys.argv[2])))
bad = []
mb = [r for r in variant if r["backend"] == "mbedtls"]
if len(mb) != len([r for r in full if r["backend"] == "mbedtls"]):
    bad.append(f"{len(mb)} mbedtls rows, the full build has another number")
for r in mb:
    if r["status"] != "unavailable" or not r["reason"].startswith("not built into this binary"):
        bad.append(f"mbedtls {r['kind']} {r['name']}: {r['status']} {r['reason']!r}")
rest = [r for r in variant if r["backend"] != "mbedtls"]
want = [r for r in full if r["backend"] != "mbedtls"]
if rest != want:
    bad.append("the other backends' rows differ from the full build's")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
check "list --csv: mbedtls rows not built, the rest as the full build's" $?

# ---- asking for it by name ---------------------------------------------------------------------

run "$VARIANT" micro --backend mbedtls --list
expect_rc 2
expect_has err "--backend: backend 'mbedtls' is $NOT_BUILT"
expect_one_err_line
run "$VARIANT" vectors --backend mbedtls tests/vectors/sealbench-v1.json
expect_rc 2
expect_has err "backend 'mbedtls' is $NOT_BUILT"
run "$VARIANT" keys --devices 1 --backend mbedtls
expect_rc 2
expect_has err "backend 'mbedtls' is $NOT_BUILT"
# The roles' option reader says the same, for --backend and pair's --gateway-backend.
run "$VARIANT" pair --no-auth --backend mbedtls --count 10
expect_rc 2
expect_has err "backend 'mbedtls' is $NOT_BUILT"
run "$VARIANT" pair --no-auth --gateway-backend mbedtls --count 10
expect_rc 2
expect_has err "backend 'mbedtls' is $NOT_BUILT"

printf '[run]\nname = t\n[defaults]\nbackend = openssl, mbedtls\nsuite = null\n' >"$TMP/named.ini"
run "$VARIANT" run "$TMP/named.ini" --dry-run
expect_rc 2
expect_has err "named.ini:4: key 'backend' in [defaults]: backend 'mbedtls' is $NOT_BUILT"
# `all` is the backends built: no mbedtls cell, and none of another backend in its place.
printf '[run]\nname = t\n[defaults]\nbackend = all\nsuite = null\n' >"$TMP/all.ini"
run "$VARIANT" run "$TMP/all.ini" --dry-run
expect_rc 0
expect_has out 't.openssl.null.'
expect_has out 't.sodium.null.'
expect_lacks out 'mbedtls'

# ---- the others still work ---------------------------------------------------------------------

run "$VARIANT" vectors tests/vectors/sealbench-v1.json
expect_rc 0
expect_re out '^openssl +20 vectors: [0-9]+ passed, 0 failed'
expect_re out '^sodium +20 vectors: [0-9]+ passed, 0 failed'
for be in openssl sodium; do
    run "$VARIANT" pair --no-auth --backend "$be" --suite chacha20-poly1305 --count 50 --qos 1
    expect_rc 0
    got=$(/usr/bin/python3 -c 'import json, sys; g = json.load(sys.stdin)["gateway"]; print(g["backend"], g["accepted"])' <"$TMP/stdout" 2>&1)
    check "pair --backend $be: 50 accepted by the $be gateway" "$([ "$got" = "$be 50" ] && echo 0 || echo 1)" "$got"
done

# ---- OpenSSL: each suite's status is its own fetch's ---------------------------------------------

# Only the base provider (encoders and decoders, no algorithms): every fetch fails, and each
# suite and group must say which of its own fetches did, rather than being listed as ok.
cat >"$TMP/openssl.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
base = base_sect
[base_sect]
activate = 1
CNF
OPENSSL_CONF="$TMP/openssl.cnf" "$BIN" list --csv >"$TMP/noprov.csv"
check "list --csv with no OpenSSL algorithms" $?
for want in 'suite,openssl,aes-128-gcm,unavailable,EVP_CIPHER_fetch(AES-128-GCM) failed' \
    'suite,openssl,aes-256-gcm,unavailable,EVP_CIPHER_fetch(AES-256-GCM) failed' \
    'suite,openssl,chacha20-poly1305,unavailable,EVP_CIPHER_fetch(ChaCha20-Poly1305) failed' \
    'suite,openssl,chacha20-hmac-sha256,unavailable,EVP_CIPHER_fetch(ChaCha20) failed' \
    'suite,openssl,null,unavailable,EVP_MD_fetch(SHA256) failed' \
    'group,openssl,x25519,unavailable,EVP_KEYMGMT_fetch(X25519) failed' \
    'group,openssl,p256,unavailable,RAND_bytes(1 byte) failed'; do
    cmd="OPENSSL_CONF=<base provider only> list --csv"
    if grep -qF "$want" "$TMP/noprov.csv"; then ok; else
        bad "a row '$want...'" "$(grep "^$(cut -d, -f1-3 <<<"$want")," "$TMP/noprov.csv")"
    fi
done
# The other backends do not depend on OpenSSL's providers.
if grep -q '^suite,sodium,chacha20-poly1305,ok,' "$TMP/noprov.csv"; then ok; else
    bad "sodium unaffected" "$(grep '^suite,sodium,chacha20-poly1305' "$TMP/noprov.csv")"
fi

totals
[ "$failed" -eq 0 ]
