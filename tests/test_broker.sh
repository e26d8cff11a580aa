#!/usr/bin/env bash
# The private broker (transport/broker.c through `sealbench broker`) against the real Mosquitto:
# it carries messages between independent clients, its configuration is the one promised, and
# it is stopped, with its folder removed, on every way sealbench can end.
# usage: tests/test_broker.sh BIN   (from the repo root; prints "broker: N passed, N failed")
set -u
BIN=${1:?usage: tests/test_broker.sh BIN}
NAME=broker
TMP=$(mktemp -d)
. "$(dirname "$0")/assert.sh"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT


# Start `sealbench broker ARGS` in the background; sets BP, MP (mosquitto pid), PORT, DIR.
start() {
    local out=$TMP/out.$RANDOM
    "$BIN" broker "$@" >"$out" 2>"$TMP/err" &
    BP=$!
    pids+=("$BP")
    for _ in $(seq 100); do grep -q '^dir ' "$out" && break; sleep 0.05; done
    MP=$(awk '/^pid /{print $2}' "$out")
    PORT=$(awk '/^uri /{n=split($2,a,":"); print a[n]}' "$out")
    DIR=$(sed -n 's/^dir //p' "$out")
    OUT=$out
}

gone_within() { # pid, tenths of a second
    for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}

port_closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# 1. A real broker: an independent subscriber receives what an independent publisher sends.
start --print-config
check "broker printed its uri, pid and folder" "$([ -n "$PORT" ] && [ -n "$MP" ] && [ -d "$DIR" ]; echo $?)" "$(cat "$OUT" "$TMP/err")"
check "uri is on loopback" "$(grep -q '^uri tcp://127.0.0.1:[0-9]*$' "$OUT"; echo $?)"
check "version recorded" "$(grep -qE '^version [0-9]+\.[0-9]+' "$OUT"; echo $?)"
timeout 5 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'sealbench/t' -C 1 -q 1 >"$TMP/sub" &
sub=$!
sleep 0.3
mosquitto_pub -h 127.0.0.1 -p "$PORT" -t 'sealbench/t' -q 1 -m 'hello through the private broker'
wait "$sub"
check "message carried between independent clients" "$([ "$(cat "$TMP/sub")" = 'hello through the private broker' ]; echo $?)" "got '$(cat "$TMP/sub")'"

# 2. The configuration promised.
for line in 'set_tcp_nodelay true' 'max_queued_messages 0' 'max_queued_bytes 0' 'persistence false' "listener $PORT 127.0.0.1"; do
    check "config has '$line'" "$(grep -qx "$line" "$OUT"; echo $?)"
done

# 3. A second broker on the same port is refused with a clear error.
"$BIN" broker --port "$PORT" >/dev/null 2>"$TMP/err2"
rc=$?
check "taken port: exit 1" "$([ $rc -eq 1 ]; echo $?)" "exit $rc"
check "taken port: says so" "$(grep -q "port $PORT on 127.0.0.1 is already in use" "$TMP/err2"; echo $?)" "$(cat "$TMP/err2")"

# 4. SIGTERM: clean exit, broker gone, port closed, folder removed.
kill -TERM "$BP"
wait "$BP"
rc=$?
check "SIGTERM: sealbench exits 0" "$([ $rc -eq 0 ]; echo $?)" "exit $rc"
check "SIGTERM: broker stopped" "$(gone_within "$MP" 50; echo $?)"
check "SIGTERM: port closed" "$(port_closed "$PORT"; echo $?)"
check "SIGTERM: folder removed" "$([ ! -e "$DIR" ]; echo $?)"

# 5. SIGINT (Ctrl-C) and persistence on.
start --persistence --print-config
check "--persistence turns persistence on" "$(grep -qx 'persistence true' "$OUT"; echo $?)"
kill -INT "$BP"
wait "$BP"
check "SIGINT: broker stopped" "$(gone_within "$MP" 50; echo $?)"
check "SIGINT: folder removed" "$([ ! -e "$DIR" ]; echo $?)"

# 6. SIGKILL of sealbench: nothing can run in sealbench, yet the broker must not outlive it.
start
kill -9 "$BP"
wait "$BP" 2>/dev/null
check "SIGKILL: broker stopped" "$(gone_within "$MP" 50; echo $?)" "mosquitto $MP still running"
check "SIGKILL: port closed" "$(port_closed "$PORT"; echo $?)"
for _ in $(seq 20); do [ -e "$DIR" ] || break; sleep 0.1; done
check "SIGKILL: folder removed" "$([ ! -e "$DIR" ]; echo $?)"

# 7. No broker binary: a clear error and nothing left behind.
SEALBENCH_MOSQUITTO=/nonexistent/mosquitto "$BIN" broker >/dev/null 2>"$TMP/err3"
rc=$?
check "missing binary: exit 1" "$([ $rc -eq 1 ]; echo $?)" "exit $rc"
check "missing binary: says what to install" "$(grep -q 'install the Debian package mosquitto' "$TMP/err3"; echo $?)" "$(cat "$TMP/err3")"
check "missing binary: one line" "$([ "$(wc -l <"$TMP/err3")" -eq 1 ]; echo $?)"

# 8. Usage errors.
"$BIN" broker --port 70000 >/dev/null 2>"$TMP/err4"
check "bad --port: exit 2" "$([ $? -eq 2 ]; echo $?)"
check "bad --port: names the flag" "$(grep -q -- "--port: expected 1 to 65535, found '70000'" "$TMP/err4"; echo $?)" "$(cat "$TMP/err4")"

totals
[ "$failed" -eq 0 ]
