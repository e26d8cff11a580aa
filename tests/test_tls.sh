#!/usr/bin/env bash
# TLS between the clients and the private broker: `sealbench broker --tls-*` with a throwaway CA
# made here, an independent client (mosquitto_pub/sub) over it, the sealbench gateway and
# devices over it, and each way the TLS setup can be wrong failing fast with one clear line.
# usage: tests/test_tls.sh BIN   (from the repo root; prints "tls: N passed, N failed")
set -u
BIN=${1:?usage: tests/test_tls.sh BIN}
NAME=tls
# The broker is started from inside the scratch folder (relative TLS paths), so BIN must not be.
case $BIN in */*) BIN=$(realpath -m "$BIN") ;; *) BIN=$(command -v "$BIN" || echo "$BIN") ;; esac
TMP=$(realpath "$(mktemp -d)")
. "$(dirname "$0")/assert.sh"
pids=()
cleanup() {
    # TERM first: sealbench stops its broker and removes its folder itself.
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
# Interrupted (Ctrl-C, a runner's timeout): exit, so that the EXIT trap cleans up.
trap 'exit 130' INT TERM HUP


now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A field of a JSON file, by a Python expression on j ("?" if the file is not JSON).
jget() { # file, expression
    /usr/bin/python3 -c 'import json,sys
try:
    j = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2]))
except Exception:
    print("?")' "$1" "$2"
}

gone_within() { # pid, tenths of a second
    for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}

# --- A throwaway CA, a server and a client certificate it signs, and a rogue CA with a client
# certificate of its own. P-256 keys: quick to make.
C=$TMP/ca
mkdir "$C"
ossl() { openssl "$@" >>"$C/openssl.log" 2>&1; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
mkca() { # name, subject
    newkey "$C/$1.key" &&
        ossl req -x509 -new -key "$C/$1.key" -out "$C/$1.pem" -days 2 -subj "$2" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
mkcert() { # name, subject, CA name, extensions
    newkey "$C/$1.key" &&
        ossl req -new -key "$C/$1.key" -out "$C/$1.csr" -subj "$2" &&
        printf '%s\n' "$4" >"$C/$1.ext" &&
        ossl x509 -req -in "$C/$1.csr" -CA "$C/$3.pem" -CAkey "$C/$3.key" -set_serial "0x$(openssl rand -hex 8)" \
            -days 2 -out "$C/$1.pem" -extfile "$C/$1.ext"
}
server_ext=$'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost'
client_ext=$'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'
mkca ca "/CN=sealbench test CA" &&
    mkcert server "/CN=localhost" ca "$server_ext" &&
    mkcert client "/CN=sealbench test client" ca "$client_ext" &&
    mkca rogue-ca "/CN=rogue CA" &&
    mkcert rogue-client "/CN=sealbench test client" rogue-ca "$client_ext"
check "openssl made the CA, server, client and rogue certificates" $? "$(tail -n 5 "$C/openssl.log")"
check "server certificate verifies against the CA" \
    "$(openssl verify -CAfile "$C/ca.pem" "$C/server.pem" >/dev/null 2>&1; echo $?)"

# --- The broker, TLS only, client certificates required. Relative paths: the configuration must
# name the files by absolute path.
OUT=$TMP/broker.out
(cd "$C" && exec "$BIN" broker --tls-cafile ca.pem --tls-cert server.pem --tls-key server.key \
    --require-cert --print-config) >"$OUT" 2>"$TMP/broker.err" &
BP=$!
pids+=("$BP")
for _ in $(seq 100); do grep -q '^connection_messages' "$OUT" && break; kill -0 "$BP" 2>/dev/null || break; sleep 0.05; done
URI=$(sed -n 's/^uri //p' "$OUT")
MP=$(sed -n 's/^pid //p' "$OUT")
DIR=$(sed -n 's/^dir //p' "$OUT")
PORT=${URI##*:}
check "TLS broker started with an ssl:// uri on loopback" \
    "$([[ $URI =~ ^ssl://127\.0\.0\.1:[0-9]+$ ]]; echo $?)" "uri '$URI': $(cat "$TMP/broker.err")"
if [ -z "$URI" ]; then
    # Nothing below can pass without the broker; say so once instead of a screenful.
    echo "tls: $passed passed, $((failed + 1)) failed"
    exit 1
fi
for line in "certfile $C/server.pem" "keyfile $C/server.key" "cafile $C/ca.pem" 'require_certificate true'; do
    check "config has '$line'" "$(grep -qxF "$line" "$OUT"; echo $?)"
done

# --- 1. An independent client over TLS. Retained, so the order of publisher and subscriber
# does not matter.
MQ=(-h 127.0.0.1 -p "$PORT" --cafile "$C/ca.pem")
timeout 10 mosquitto_pub "${MQ[@]}" --cert "$C/client.pem" --key "$C/client.key" -t 'tls-test/hello' \
    -q 1 -r -m 'hello over TLS' 2>"$TMP/pub.err"
check "mosquitto_pub over TLS with a client certificate" $? "$(cat "$TMP/pub.err")"
timeout 10 mosquitto_sub "${MQ[@]}" --cert "$C/client.pem" --key "$C/client.key" -t 'tls-test/hello' \
    -C 1 -W 5 >"$TMP/sub.out" 2>"$TMP/sub.err"
check "mosquitto_sub over TLS receives it" "$([ "$(cat "$TMP/sub.out")" = 'hello over TLS' ]; echo $?)" \
    "got '$(cat "$TMP/sub.out")': $(cat "$TMP/sub.err")"
timeout 10 mosquitto_pub "${MQ[@]}" -t 'tls-test/nocert' -m x >/dev/null 2>&1
check "mosquitto_pub without a client certificate is refused" "$([ $? -ne 0 ]; echo $?)"

# --- 2. The sealbench gateway and two devices over TLS, mutual authentication.
"$BIN" keys --devices 2 >"$TMP/keys.txt" 2>"$TMP/keys.err"
check "keys for 2 devices" "$([ "$(grep -cE '^dev-[0-9]{4} [0-9a-f]{64}$' "$TMP/keys.txt")" -eq 2 ]; echo $?)" \
    "$(cat "$TMP/keys.txt" "$TMP/keys.err")"
TLS=(--cafile "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")
timeout 40 "$BIN" gateway --broker "$URI" "${TLS[@]}" --keys "$TMP/keys.txt" --expect 200 --duration 30 \
    --verify >"$TMP/gw.json" 2>"$TMP/gw.err" &
GP=$!
pids+=("$GP")
for _ in $(seq 100); do grep -q 'gateway: ready' "$TMP/gw.err" && break; kill -0 "$GP" 2>/dev/null || break; sleep 0.1; done
check "gateway ready over TLS" "$(grep -q 'gateway: ready' "$TMP/gw.err"; echo $?)" "$(cat "$TMP/gw.err")"
timeout 20 "$BIN" device --broker "$URI" "${TLS[@]}" --keys "$TMP/keys.txt" --devices 2 --count 100 --size 64 \
    >"$TMP/dev.json" 2>"$TMP/dev.err"
rc=$?
check "device over TLS: exit 0" "$([ $rc -eq 0 ]; echo $?)" "exit $rc: $(cat "$TMP/dev.err")"
check "device sent 200" "$([ "$(jget "$TMP/dev.json" 'j["sent"]')" = 200 ]; echo $?)" "$(cat "$TMP/dev.json")"
# The gateway stops by itself at 200 accepted; a bounded wait, then SIGTERM (it still prints
# its counters).
gone_within "$GP" 100 || kill -TERM "$GP" 2>/dev/null
gone_within "$GP" 30
wait "$GP" 2>/dev/null
rc=$?
check "gateway: exit 0" "$([ $rc -eq 0 ]; echo $?)" "exit $rc: $(cat "$TMP/gw.err")"
G=$TMP/gw.json
check "gateway accepted 200" "$([ "$(jget "$G" 'j["accepted"]')" = 200 ]; echo $?)" "$(head -c 600 "$G")"
check "gateway rejected nothing" "$([ "$(jget "$G" 'all(v == 0 for v in j["rejected"].values())')" = True ]; echo $?)" \
    "$(jget "$G" 'j["rejected"]')"
check "gateway saw 2 handshakes" "$([ "$(jget "$G" 'j["handshakes"]')" = 2 ]; echo $?)" "$(jget "$G" 'j["handshakes"]')"
check "gateway: no mismatched payloads" "$([ "$(jget "$G" 'j["mismatched"]')" = 0 ]; echo $?)" "$(jget "$G" 'j["mismatched"]')"

# --- 3-6. Devices that cannot connect: each fails alone, fast, with one line. They run side by
# side (nothing reaches a gateway) to keep the test short.
bad_device() { # name, broker uri, TLS flags...
    local name=$1 uri=$2 t0
    shift 2
    t0=$(now_ms)
    timeout 20 "$BIN" device --broker "$uri" "$@" --keys "$TMP/keys.txt" --devices 1 --count 1 --size 16 \
        --connect-timeout 5 >"$TMP/$name.out" 2>"$TMP/$name.err"
    echo "$? $(($(now_ms) - t0))" >"$TMP/$name.rc"
}
bad=()
bad_device nocert "$URI" --cafile "$C/ca.pem" &
bad+=($!)
bad_device rogue-client "$URI" --cafile "$C/ca.pem" --cert "$C/rogue-client.pem" --key "$C/rogue-client.key" &
bad+=($!)
bad_device rogue-ca "$URI" --cafile "$C/rogue-ca.pem" --cert "$C/client.pem" --key "$C/client.key" &
bad+=($!)
bad_device plain "tcp://127.0.0.1:$PORT" &
bad+=($!)
pids+=("${bad[@]}")
wait "${bad[@]}"

outcome() { # name, what: "rc" or "ms"
    local rc ms
    read -r rc ms <"$TMP/$1.rc" 2>/dev/null || { rc=x ms=x; }
    if [ "$2" = rc ]; then echo "$rc"; else echo "$ms"; fi
}
one_line() { [ "$(grep -c . "$TMP/$1.err")" -eq 1 ]; }
failed_fast() { # name: non-zero exit, not killed by timeout, within 15 s
    local rc ms
    rc=$(outcome "$1" rc) ms=$(outcome "$1" ms)
    [ "$rc" != x ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$ms" -le 15000 ]
}
desc() { echo "exit $(outcome "$1" rc) after $(outcome "$1" ms) ms: $(cat "$TMP/$1.err")"; }

check "no client certificate: exits non-zero within 15 s" "$(failed_fast nocert; echo $?)" "$(desc nocert)"
check "no client certificate: one line naming the broker" \
    "$(one_line nocert && grep -qF "$URI" "$TMP/nocert.err"; echo $?)" "$(desc nocert)"
check "rogue client certificate: exits non-zero within 15 s" "$(failed_fast rogue-client; echo $?)" "$(desc rogue-client)"
check "rogue client certificate: one line naming the broker" \
    "$(one_line rogue-client && grep -q '^sealbench device: ' "$TMP/rogue-client.err" && grep -qF "$URI" "$TMP/rogue-client.err"; echo $?)" \
    "$(desc rogue-client)"
check "untrusted server certificate: exits non-zero within 15 s" "$(failed_fast rogue-ca; echo $?)" "$(desc rogue-ca)"
check "untrusted server certificate: says TLS or certificate" \
    "$(one_line rogue-ca && grep -qiE 'tls|ssl|certificate' "$TMP/rogue-ca.err"; echo $?)" "$(desc rogue-ca)"
check "plain MQTT to the TLS port: exits non-zero within 15 s" "$(failed_fast plain; echo $?)" "$(desc plain)"
check "plain MQTT to the TLS port: one line" "$(one_line plain && grep -q '^sealbench device: ' "$TMP/plain.err"; echo $?)" "$(desc plain)"

# --- 7. Usage: a client certificate needs its key.
timeout 10 "$BIN" device --broker "$URI" --cafile "$C/ca.pem" --cert "$C/client.pem" --keys "$TMP/keys.txt" \
    >/dev/null 2>"$TMP/usage.err"
rc=$?
check "--cert without --key: exit 2" "$([ $rc -eq 2 ]; echo $?)" "exit $rc: $(cat "$TMP/usage.err")"
check "--cert without --key: names --key" "$(grep -q -- '--key' "$TMP/usage.err"; echo $?)" "$(cat "$TMP/usage.err")"

# --- The broker's own TLS checks: missing files, a key that does not match, flag combinations.
timeout 10 "$BIN" broker --tls-cert "$C/missing.pem" --tls-key "$C/server.key" >/dev/null 2>"$TMP/b1.err"
rc=$?
check "broker, missing certificate: exit 1" "$([ $rc -eq 1 ]; echo $?)" "exit $rc"
check "broker, missing certificate: names the file" \
    "$(one_line b1 && grep -qF "$C/missing.pem" "$TMP/b1.err"; echo $?)" "$(cat "$TMP/b1.err")"
# Mosquitto opens its listen socket before it loads the key, then exits: not "ready".
t0=$(now_ms)
timeout 10 "$BIN" broker --tls-cert "$C/server.pem" --tls-key "$C/client.key" >"$TMP/b2.out" 2>"$TMP/b2.err"
rc=$?
check "broker, key of another certificate: exit 1, fast" "$([ $rc -eq 1 ] && [ $(($(now_ms) - t0)) -lt 5000 ]; echo $?)" \
    "exit $rc after $(($(now_ms) - t0)) ms: $(cat "$TMP/b2.out" "$TMP/b2.err")"
check "broker, key of another certificate: says which file" \
    "$(one_line b2 && grep -qF "$C/client.key" "$TMP/b2.err"; echo $?)" "$(cat "$TMP/b2.err")"
"$BIN" broker --tls-cert "$C/server.pem" >/dev/null 2>"$TMP/b3.err"
rc=$?
check "broker, --tls-cert without --tls-key: exit 2" "$([ $rc -eq 2 ] && grep -q -- '--tls-key' "$TMP/b3.err"; echo $?)" \
    "exit $rc: $(cat "$TMP/b3.err")"
"$BIN" broker --tls-cert "$C/server.pem" --tls-key "$C/server.key" --require-cert >/dev/null 2>"$TMP/b4.err"
rc=$?
check "broker, --require-cert without --tls-cafile: exit 2" "$([ $rc -eq 2 ]; echo $?)" "exit $rc: $(cat "$TMP/b4.err")"

# --- The TLS broker survived every bad client, and stops like the plain one: SIGTERM, broker
# gone, folder removed.
check "TLS broker still running after the bad clients" "$(kill -0 "$BP" 2>/dev/null && kill -0 "$MP" 2>/dev/null; echo $?)" \
    "$(tail -n 3 "$DIR/mosquitto.log" 2>/dev/null)"
kill -TERM "$BP" 2>/dev/null
gone_within "$BP" 60 || kill -9 "$BP" 2>/dev/null
wait "$BP" 2>/dev/null
rc=$?
check "SIGTERM: sealbench broker exits 0" "$([ $rc -eq 0 ]; echo $?)" "exit $rc"
check "SIGTERM: mosquitto stopped" "$(gone_within "$MP" 50; echo $?)"
check "SIGTERM: folder removed" "$([ ! -e "$DIR" ]; echo $?)"

totals
[ "$failed" -eq 0 ]
