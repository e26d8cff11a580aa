#!/usr/bin/env bash
# Sealed telemetry end to end over the real Mosquitto: every backend x suite through `sealbench
# pair`, devices and gateways of different backends, QoS 1 across broker restarts, attacks
# injected with mosquitto_pub next to an honest device, rekeying, 200 devices with their own
# PSKs, round trips, and bad input failing fast with one line.
# usage: tests/test_mqtt.sh BIN   (from the repo root; prints "mqtt: N passed, N failed")
#        KEEP_TMP=1 keeps the scratch folder (every run's JSON and stderr, the capture) to look at.
#
# The runs are independent, so most of them go side by side (each `pair` has its own private
# broker); the attack scenario runs in the background meanwhile, at its own 100 Hz pace.
set -u
BIN=${1:?usage: tests/test_mqtt.sh BIN}
case $BIN in */*) BIN=$(realpath -m "$BIN") ;; *) BIN=$(command -v "$BIN" || echo "$BIN") ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
FORGE=$HERE/mqtt_forge.py
PY=/usr/bin/python3
NAME=mqtt
unavailable=()
TMP=$(realpath "$(mktemp -d)")
. "$HERE/assert.sh"
JOBS=3 # pair runs at once. Not more: after a broker SIGKILL under load, a Paho 1.3.11 race can
       # leave a device connected but silent (tests/asan.supp); with 6 at once on 2 cores the
       # kill and outage cells wedged in 1 of 4 make test runs (seen after the clients got TCP_NODELAY)

# Everything this script started, however deep: TERM first (sealbench stops its brokers
# itself), then KILL what is left. Background processes are also listed in $TMP/pids, so that
# one whose parent ended first is not missed.
tree() { # pid: its descendants, deepest first
    local c
    for c in $(pgrep -P "$1" 2>/dev/null); do tree "$c"; echo "$c"; done
}
started() { echo "$1" >>"$TMP/pids"; }
cleanup() {
    local all p q
    all=$(tree $$)
    for p in $(cat "$TMP/pids" 2>/dev/null); do
        kill -0 "$p" 2>/dev/null && all="$all $(tree "$p") $p"
    done
    [ -n "$all" ] && kill -TERM $all 2>/dev/null
    for _ in $(seq 30); do
        p=0
        for q in $all; do kill -0 "$q" 2>/dev/null && p=1; done
        [ $p -eq 0 ] && break
        sleep 0.1
    done
    [ -n "$all" ] && kill -9 $all 2>/dev/null
    if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A pair this build's libraries cannot do (reported unavailable by `sealbench list`): not a
# check, since there is nothing to run; listed at the end.
unavailable() { unavailable+=("$1"); }
info() { echo "info: $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
gone_within() { # pid, tenths of a second
    for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}

# --- Running sealbench in the background: $TMP/NAME.json (stdout), .err, .rc ("exit ms").
pool=()
launch() { # name, seconds allowed, command...
    local name=$1 secs=$2 live p
    shift 2
    for (( ; ; )); do
        live=0
        for p in "${pool[@]}"; do kill -0 "$p" 2>/dev/null && live=$((live + 1)); done
        [ "$live" -lt "$JOBS" ] && break
        wait -n 2>/dev/null || sleep 0.05
    done
    (
        t0=$(now_ms)
        timeout -k 5 "$secs" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
        echo "$? $(($(now_ms) - t0))" >"$TMP/$name.rc"
    ) &
    pool+=($!)
    started $!
}
pair() { # name, seconds allowed, pair flags...
    local name=$1 secs=$2
    shift 2
    launch "$name" "$secs" "$BIN" pair "$@"
}

# Checks on a run's JSON: pairs of description and Python expression. The expressions see j
# (the whole object), g (gateway), d (device), d1 (the gateway's dev-0001), rc (exit code),
# rej (all gateway rejects) and r (the gateway's rejects by reason).
jchecks() { # name, label, description, expression, ...
    local name=$1 label=$2 res desc detail
    shift 2
    while IFS=$'\t' read -r res desc detail; do
        check "$label: $desc" "$res" "$detail"
    done < <("$PY" - "$TMP/$name.json" "$TMP/$name.rc" "$TMP/$name.err" "$@" <<'EOF'
import json, sys
path, rcfile, errfile = sys.argv[1:4]
pairs = sys.argv[4:]
try:
    rc, ms = open(rcfile).read().split()
    rc, ms = int(rc), int(ms)
except Exception:
    rc, ms = None, None
try:
    j = json.load(open(path))
except Exception:
    j = {}
if not isinstance(j, dict):
    j = {}
g = j.get("gateway", j if j.get("role") == "gateway" else {})
d = j.get("device", j if j.get("role") == "device" else {})
r = g.get("rejected", {})
rej = sum(r.values()) if r else None
d1 = g.get("devices", {}).get("dev-0001", {})
try:
    err = open(errfile).read().strip().splitlines()
except Exception:
    err = []
def summary():
    s = "exit %s after %s ms" % (rc, ms)
    if g:
        s += "; gateway accepted=%s rejected=%s missing=%s duplicates=%s mismatched=%s handshakes=%s rekeys=%s" % (
            g.get("accepted"), {k: v for k, v in r.items() if v}, g.get("missing"),
            g.get("duplicates"), g.get("mismatched"), g.get("handshakes"), g.get("rekeys"))
    if d:
        s += "; device sent=%s handshakes=%s rekeys=%s echoes=%s errors=%s" % (
            d.get("sent"), d.get("handshakes"), d.get("rekeys"), d.get("echoes"), d.get("errors"))
    if "restart" in j:
        s += "; restart=%s" % j["restart"]
    if not j:
        s += "; no JSON"
    if err:
        s += "; stderr: " + " | ".join(err[:3])
    return s.replace("\t", " ").replace("\n", " ")
for desc, expr in zip(pairs[0::2], pairs[1::2]):
    try:
        ok = bool(eval(expr))
    except Exception:
        ok = False
    print("%d\t%s\t%s" % (0 if ok else 1, desc, "" if ok else summary()))
EOF
    )
}

# What a clean run of n messages from one device looks like.
clean_run() { # name, label, n
    jchecks "$1" "$2" \
        "exit 0" "rc == 0" \
        "gateway accepted $3, device sent $3" "g['accepted'] == $3 and d['sent'] == $3" \
        "nothing rejected" "rej == 0" \
        "nothing missing, opened twice or mismatched" "g['missing'] == 0 and g['duplicates'] == 0 and g['mismatched'] == 0" \
        "one handshake" "g['handshakes'] == 1 and d['handshakes'] == 1"
}

check "mosquitto_pub and mosquitto_sub are installed (Debian: mosquitto-clients)" \
    "$(command -v mosquitto_pub >/dev/null && command -v mosquitto_sub >/dev/null; echo $?)"
"$BIN" keys --devices 2 >"$TMP/keys.txt" 2>"$TMP/keys.err"
check "keys for 2 devices" "$([ "$(grep -cE '^dev-000[12] [0-9a-f]{64}$' "$TMP/keys.txt")" -eq 2 ]; echo $?)" \
    "$(cat "$TMP/keys.txt" "$TMP/keys.err")"
"$BIN" keys --devices 200 >"$TMP/keys200.txt" 2>/dev/null
check "keys for 200 devices, all different" \
    "$([ "$(cut -d' ' -f2 "$TMP/keys200.txt" | sort -u | wc -l)" -eq 200 ]; echo $?)"
K=$TMP/keys.txt
PSK1=$(awk '$1 == "dev-0001" {print $2}' "$K")
PSK2=$(awk '$1 == "dev-0002" {print $2}' "$K")

"$BIN" list --csv >"$TMP/list.csv" 2>&1
check "list --csv" $? "$(head -n 3 "$TMP/list.csv")"
# The backends this binary has and every suite, from the binary's own list.
mapfile -t BACKENDS < <(awk -F, '$1 == "library" && $4 == "ok" {print $2}' "$TMP/list.csv")
mapfile -t SUITES < <(awk -F, '$1 == "suite" && !seen[$3]++ {print $3}' "$TMP/list.csv")
has() { # kind, backend, name
    grep -q "^$1,$2,$3,ok," "$TMP/list.csv"
}
for b in "${BACKENDS[@]}"; do
    check "backend $b is listed" "$(grep -q "^library,$b," "$TMP/list.csv"; echo $?)" "$(grep ^library "$TMP/list.csv")"
done

# ---------------------------------------------------------------------------------------------
# 4. Attacks next to an honest device, with separate processes: sealbench broker, gateway,
# device, and mosquitto_sub/_pub as the attacker. Runs in the background; results in $A.
A=$TMP/attack
mkdir -p "$A"
attack() {
    local port uri mq e0 t_e1 t_pub max_epoch i
    "$BIN" broker >"$A/broker.out" 2>"$A/broker.err" &
    local bp=$!
    started $bp
    for _ in $(seq 100); do grep -q '^dir ' "$A/broker.out" && break; kill -0 $bp 2>/dev/null || break; sleep 0.05; done
    uri=$(sed -n 's/^uri //p' "$A/broker.out")
    port=${uri##*:}
    echo "$uri" >"$A/uri"
    [ -n "$uri" ] || return
    mq=(-h 127.0.0.1 -p "$port")

    # Can the attacker's tools carry binary payloads byte for byte? All 256 byte values, NUL
    # and newlines included, out through mosquitto_pub -f and back through mosquitto_sub -F %x.
    "$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) + b"\n\r\x00\n" + bytes(range(255, -1, -1)))' >"$A/bytes.bin"
    timeout -k 2 10 mosquitto_pub "${mq[@]}" -t sealbench-test/bytes -q 1 -r -f "$A/bytes.bin"
    timeout -k 2 10 mosquitto_sub "${mq[@]}" -t sealbench-test/bytes -q 1 -C 1 -W 5 -F '%t %x' >"$A/bytes.hex" 2>&1
    "$PY" "$FORGE" roundtrip --capture "$A/bytes.hex" --topic sealbench-test/bytes --original "$A/bytes.bin"
    echo $? >"$A/bytes.rc"

    # The attacker listens to dev-0001's telemetry and to dev-0002's ACCEPTs, from before the
    # device starts (a probe message shows the subscription is in place).
    timeout -k 2 60 mosquitto_sub "${mq[@]}" -q 1 -F '%t %x' -t sealbench/dev-0001/up \
        -t sealbench/dev-0002/hs/ack -t sealbench-test/probe >"$A/cap.txt" 2>"$A/cap.err" &
    local cp=$!
    started $cp
    for i in $(seq 50); do
        timeout -k 2 5 mosquitto_pub "${mq[@]}" -t sealbench-test/probe -q 1 -m "$i"
        sleep 0.1
        grep -q '^sealbench-test/probe ' "$A/cap.txt" && break
    done

    timeout -k 5 60 "$BIN" gateway --broker "$uri" --keys "$K" --grace 3 --verify --replay-window 1024 \
        >"$A/gw.json" 2>"$A/gw.err" &
    local gp=$!
    started $gp
    for _ in $(seq 100); do grep -q 'gateway: ready' "$A/gw.err" && break; kill -0 $gp 2>/dev/null || break; sleep 0.1; done
    grep -q 'gateway: ready' "$A/gw.err" || return
    (
        t0=$(now_ms)
        timeout -k 5 60 "$BIN" device --broker "$uri" --keys "$K" --devices 1 --rate 100 --count 1500 \
            --rekey-messages 300 >"$A/dev.json" 2>"$A/dev.err"
        echo "$? $(($(now_ms) - t0))" >"$A/dev.rc"
    ) &
    local dp=$!
    started $dp

    # The capture sees the attacker's messages too; forge and epochs leave those out.
    inject() { # name, topic, file
        od -An -v -tx1 "$3" | tr -d ' \n' >>"$A/injected.hex"
        echo >>"$A/injected.hex"
        timeout -k 2 10 mosquitto_pub "${mq[@]}" -q 1 -t "$2" -f "$3" 2>>"$A/pub.err"
        echo "$1 $?" >>"$A/injected"
    }
    forge() { # mode, out, extra...
        local mode=$1 out=$2
        shift 2
        "$PY" "$FORGE" wire --capture "$A/cap.txt" --topic sealbench/dev-0001/up --exclude "$A/injected.hex" \
            --mode "$mode" --out "$out" "$@" >>"$A/forged" 2>&1
    }
    epochs() { "$PY" "$FORGE" epochs --capture "$A/cap.txt" --topic sealbench/dev-0001/up --exclude "$A/injected.hex"; }
    up_count() { grep -c '^sealbench/dev-0001/up ' "$A/cap.txt"; }
    for _ in $(seq 200); do [ "$(up_count)" -ge 20 ] && break; sleep 0.05; done
    echo "captured $(up_count)" >"$A/started"

    # A fresh copy of a message already opened: replay.
    forge same "$A/same.bin" && inject replay sealbench/dev-0001/up "$A/same.bin"
    # One bit flipped in the authenticated header (seq): the tag cannot verify.
    forge seq-bit "$A/seqbit.bin" && inject auth-seq sealbench/dev-0001/up "$A/seqbit.bin"
    # One bit of the tag flipped (and seq moved ahead of the window): the tag cannot verify.
    forge tag-bit "$A/tagbit.bin" && inject auth-tag sealbench/dev-0001/up "$A/tagbit.bin"
    forge short "$A/short.bin" && inject short sealbench/dev-0001/up "$A/short.bin"
    forge version "$A/version.bin" && inject version sealbench/dev-0001/up "$A/version.bin"
    forge flags "$A/flags.bin" && inject flags sealbench/dev-0001/up "$A/flags.bin"
    forge suite "$A/suite.bin" && inject suite sealbench/dev-0001/up "$A/suite.bin"

    # HELLOs built here from PROTOCOL.md §3. With the right PSK (for dev-0002, which no device
    # uses) the gateway must answer with an ACCEPT whose mac_g verifies: the construction is
    # right. With a PSK one bit off, for dev-0001 and an epoch ahead of the device's, it must
    # be refused as a handshake that failed authentication.
    max_epoch=$(epochs | awk '{print $1}' | sort -n | tail -n 1)
    "$PY" "$FORGE" hello --id dev-0002 --psk "$PSK2" --epoch "$(date +%s)" --out "$A/hello-good.bin" &&
        inject hello-good sealbench/dev-0002/hs "$A/hello-good.bin"
    "$PY" "$FORGE" hello --id dev-0001 --psk "$PSK1" --wrong-psk --epoch $((${max_epoch:-0} + 1000)) \
        --out "$A/hello-bad.bin" && inject hello-bad sealbench/dev-0001/hs "$A/hello-bad.bin"

    # Rekeys: once the first message of the second epoch shows, the first epoch's keys are in
    # their grace period (3 s, room for a loaded machine): a copy of a message from it is a
    # replay. After the grace period
    # the same copy is refused by epoch.
    e0=$(epochs | head -n 1 | awk '{print $1}')
    for _ in $(seq 300); do
        [ "$(epochs | wc -l)" -ge 2 ] && break
        sleep 0.05
    done
    t_e1=$(now_ms)
    forge same "$A/old.bin" --epoch "$e0" && inject grace-replay sealbench/dev-0001/up "$A/old.bin"
    t_pub=$(now_ms)
    echo "$e0 $((t_pub - t_e1))" >"$A/grace"
    sleep "$(awk -v ms=$((t_pub - t_e1)) 'BEGIN { s = 3.8 - ms / 1000; print (s > 0 ? s : 0) }')"
    inject old-epoch sealbench/dev-0001/up "$A/old.bin"

    wait $dp
    sleep 0.5 # the last messages reach the gateway
    kill -TERM $gp 2>/dev/null
    gone_within $gp 50
    wait $gp 2>/dev/null
    echo "$? 0" >"$A/gw.rc"
    kill -TERM $cp $bp 2>/dev/null
    gone_within $bp 50
    gone_within $cp 20
}
attack &
ATTACK=$!
started $ATTACK

# ---------------------------------------------------------------------------------------------
# 3. QoS 1 across broker restarts: the longest runs, so first.
# A window of 64 is ample at 2000 msg/s; the default 1024 leaves a long queue inside Paho when
# the broker dies, which widens a Paho 1.3.11 race (tests/asan.supp) that once wedged a device
# that Paho reported connected but that sent nothing more.
RESTART=(--keys "$K" --persistent --qos 1 --broker-persistence --restart-broker-at 3000 --count 10000
    --rate 2000 --drain 20 --inflight 64)
pair restart-graceful 90 "${RESTART[@]}" --restart-mode graceful
pair restart-kill 90 "${RESTART[@]}" --restart-mode kill
# A crash followed by a 7 s outage: Paho's own retries (every 1-2 s) fail for a while, and the
# 5 s watchdog in transport/mqtt.c starts asking it to retry.
pair restart-outage 150 "${RESTART[@]}" --restart-mode kill --restart-outage 7

# 3b. A client the broker closes right after each connect, as Mosquitto does when Paho resends a
# publish it had freed (transport/mqtt.c, "rebuilding a poisoned client"): a proxy between the
# device and a private broker closes the device's first connection 1.5 s in, then its next three
# 0.1 s after their CONNACK (Paho retries every 1-2 s, so the 10 s run sees all four). The device
# must replace its client once and go on: every message sent, each acknowledged or counted
# failed, and the gateway's accepted + missing exact.
P=$TMP/poison
mkdir -p "$P"
poison() {
    local uri bport pport bp xp gp
    "$BIN" broker --persistence >"$P/broker.out" 2>"$P/broker.err" &
    bp=$!
    started $bp
    for _ in $(seq 100); do grep -q '^dir ' "$P/broker.out" && break; kill -0 $bp 2>/dev/null || break; sleep 0.05; done
    uri=$(sed -n 's/^uri //p' "$P/broker.out")
    bport=${uri##*:}
    [ -n "$uri" ] || return
    "$PY" "$HERE/mqtt_proxy.py" --broker-port "$bport" --drop 1 --drop-at 1.5 --short 2,3,4 \
        >"$P/proxy.out" 2>"$P/proxy.err" &
    xp=$!
    started $xp
    for _ in $(seq 100); do grep -q '^port ' "$P/proxy.out" && break; sleep 0.05; done
    pport=$(sed -n 's/^port //p' "$P/proxy.out")
    timeout -k 5 60 "$BIN" gateway --broker "$uri" --keys "$K" --persistent --qos 1 --verify >"$P/gw.json" 2>"$P/gw.err" &
    gp=$!
    started $gp
    for _ in $(seq 100); do grep -q 'gateway: ready' "$P/gw.err" && break; kill -0 $gp 2>/dev/null || break; sleep 0.1; done
    # Under SANITIZE=1, leak checking is off for this one process: Paho's MQTTAsync_destroy
    # leaks the topic and payload of publishes still queued on a disconnected handle (it NULLs
    # them, MQTTAsync_NULLPublishCommands, as if they were stored publications), and the client
    # a rebuild destroys has such publishes by construction. Every other process keeps it on.
    (
        t0=$(now_ms)
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        timeout -k 5 60 "$BIN" device --broker "tcp://127.0.0.1:$pport" --keys "$K" --devices 1 --qos 1 \
            --persistent --rate 1000 --count 10000 >"$P/dev.json" 2>"$P/dev.err"
        echo "$? $(($(now_ms) - t0))" >"$P/dev.rc"
    )
    # The last messages reach the gateway: 0.5 s was too short under SANITIZE=1 (85 of them
    # still on their way when it was stopped, so neither accepted nor counted missing).
    sleep 3
    kill -TERM $gp 2>/dev/null
    gone_within $gp 50
    kill -TERM $xp $bp 2>/dev/null
    gone_within $bp 50
}
poison &
POISON=$!
started $POISON

# 5. Rekeying every 100 messages.
pair rekey 60 --keys "$K" --rekey-messages 100 --count 10000 --qos 1
# 6. 200 devices, each with its own PSK, in one gateway.
pair fleet200 90 --keys "$TMP/keys200.txt" --devices 200 --count 50
# 7. Steady runs reconnect nothing: Paho sometimes reports the first connect after the
# connect's own completion, which once counted it as a reconnect in about 1 run in 4.
for i in 1 2 3 4 5 6 7 8; do
    pair "steady$i" 30 --keys "$TMP/keys200.txt" --devices 3 --count 50 --qos 1
done
# 8. Round trips.
pair echo 60 --keys "$K" --echo --count 1000 --qos 1
# 9. Dataset replay: the shipped tiny dataset (4 patients x 5 min at 1 Hz) in each encoding,
# paced by its own timestamps, and a real file (PhysioNet 2019 subset: 50 patients, NA values,
# zero-padded ids) when ../shared/datasets/real is there.
"$BIN" keys --devices 50 >"$TMP/keys50.txt" 2>/dev/null
TINY=datasets/vitals_tiny.csv
for enc in json csv cbor; do
    pair "ds-$enc" 60 --keys "$TMP/keys50.txt" --dataset "$TINY" --encoding "$enc" --qos 1
done
pair ds-paced 60 --keys "$TMP/keys50.txt" --dataset "$TINY" --speed 30 --count 100
REAL=${REAL_DATASETS:-../shared/datasets/real}
SEPSIS=$REAL/physionet2019_sepsis_subset_50pt.csv
if [ -f "$SEPSIS" ]; then
    printf '[dataset]\ndevice = PatientID\ntime = obsTime\n[columns]\nHR = hr\nTemp = temp\nResp = resp\n' \
        >"$TMP/sepsis.dataset"
    pair ds-sepsis 60 --keys "$TMP/keys50.txt" --dataset "$SEPSIS" --describe "$TMP/sepsis.dataset" \
        --count 5 --encoding cbor
else
    skip "the real-dataset replay: $SEPSIS not found (the real datasets are optional; REAL_DATASETS= names their folder)"
fi

# 1. Every backend x suite.
for b in "${BACKENDS[@]}"; do
    for s in "${SUITES[@]}"; do
        if has suite "$b" "$s"; then
            pair "m-$b-$s" 60 --keys "$K" --backend "$b" --suite "$s" --count 1000 --qos 1
        else
            unavailable "$b/$s"
        fi
    done
done

# 2. Device and gateway of different backends.
MIXED=()
for a in "${BACKENDS[@]}"; do
    for b in "${BACKENDS[@]}"; do
        [ "$a" = "$b" ] && continue
        for s in chacha20-poly1305 aes-256-gcm; do
            if has suite "$a" "$s" && has suite "$b" "$s"; then
                pair "x-$a-$b-$s" 60 --keys "$K" --backend "$a" --gateway-backend "$b" --suite "$s" --count 1000 --qos 1
                MIXED+=("$a $b $s x25519")
            else
                unavailable "$a->$b/$s"
            fi
        done
        if has group "$a" p256 && has group "$b" p256; then
            pair "x-$a-$b-p256" 60 --keys "$K" --backend "$a" --gateway-backend "$b" --suite chacha20-poly1305 \
                --group p256 --count 1000 --qos 1
            MIXED+=("$a $b chacha20-poly1305 p256")
        fi
    done
done

# ---------------------------------------------------------------------------------------------
# 7. Bad input: one line on stderr, the right exit code, quickly. (Meanwhile the runs above go
# on.)
printf '# sealbench keys\r\n\r\ndev-0001 %s\r\ndev-0002 12345\r\n' "$PSK1" >"$TMP/badline.txt"
printf 'dev-0001 %s\n# the next id cannot be a topic level\ndev/1 %s\n' "$PSK1" "$PSK2" >"$TMP/badid.txt"
refused() { # label, expected exit, text stderr must contain, command...
    local label=$1 want=$2 text=$3 t0 rc ms lines
    shift 3
    t0=$(now_ms)
    timeout -k 2 20 "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
    rc=$? ms=$(($(now_ms) - t0))
    lines=$(grep -c . "$TMP/bad.err")
    check "$label: exit $want" "$([ $rc -eq "$want" ]; echo $?)" "exit $rc after $ms ms: $(cat "$TMP/bad.err")"
    check "$label: one line naming '$text'" "$([ "$lines" -eq 1 ] && grep -qF -- "$text" "$TMP/bad.err"; echo $?)" \
        "$(cat "$TMP/bad.err")"
    BAD_MS=$ms
}
refused "pair, unknown flag" 2 "--frobnicate" "$BIN" pair --keys "$K" --frobnicate
refused "device, unknown flag" 2 "--frobnicate" "$BIN" device --broker tcp://127.0.0.1:1 --keys "$K" --frobnicate
refused "gateway, missing keys file" 1 "$TMP/no-such-keys.txt" "$BIN" gateway --broker tcp://127.0.0.1:1 --keys "$TMP/no-such-keys.txt"
refused "pair, missing keys file" 1 "$TMP/no-such-keys.txt" "$BIN" pair --keys "$TMP/no-such-keys.txt"
refused "pair, malformed key line" 1 "$TMP/badline.txt:4:" "$BIN" pair --keys "$TMP/badline.txt"
refused "gateway, malformed key line" 1 "$TMP/badline.txt:4:" "$BIN" gateway --broker tcp://127.0.0.1:1 --keys "$TMP/badline.txt"
refused "pair, keys file lacks a device" 1 "dev-0003" "$BIN" pair --keys "$K" --devices 3 --count 1
refused "device, keys file lacks a device" 1 "dev-0003" "$BIN" device --broker tcp://127.0.0.1:1 --keys "$K" --first 3
refused "gateway, device id 'dev/1' in the keys file" 1 "$TMP/badid.txt:3:" "$BIN" gateway --broker tcp://127.0.0.1:1 --keys "$TMP/badid.txt"
refused "device, device id 'dev/1' in the keys file" 1 "$TMP/badid.txt:3:" "$BIN" device --broker tcp://127.0.0.1:1 --keys "$TMP/badid.txt"
refused "device, unreachable broker" 1 "tcp://127.0.0.1:1" "$BIN" device --broker tcp://127.0.0.1:1 --keys "$K"
check "device, unreachable broker: within 10 s" "$([ "$BAD_MS" -lt 10000 ]; echo $?)" "$BAD_MS ms"
refused "gateway, unreachable broker" 1 "tcp://127.0.0.1:1" "$BIN" gateway --broker tcp://127.0.0.1:1 --keys "$K"
check "gateway, unreachable broker: within 10 s" "$([ "$BAD_MS" -lt 10000 ]; echo $?)" "$BAD_MS ms"
refused "pair, --prefix with '+'" 2 "wildcard" "$BIN" pair --keys "$K" --prefix 'a/+/b'
refused "gateway, --prefix with '#'" 2 "wildcard" "$BIN" gateway --broker tcp://127.0.0.1:1 --keys "$K" --prefix 'a/#'

refused "pair, missing dataset" 1 "$TMP/no-such.csv" "$BIN" pair --keys "$K" --dataset "$TMP/no-such.csv"
refused "pair, --size with --dataset" 2 "--size" "$BIN" pair --keys "$K" --dataset "$TINY" --size 10
refused "pair, --speed without --dataset" 2 "--dataset" "$BIN" pair --keys "$K" --speed 2
refused "device, unknown encoding" 2 "xml" "$BIN" device --broker tcp://127.0.0.1:1 --keys "$K" --encoding xml
printf 'patient_id,hr\nP1,70\nP1,7 0\n' >"$TMP/badrow.csv"
printf '[dataset]\ndevice = patient_id\n[columns]\nhr = hr:int\n' >"$TMP/badrow.dataset"
refused "pair, bad row in a dataset" 1 "$TMP/badrow.csv:3: column \"hr\"" "$BIN" pair --keys "$K" \
    --dataset "$TMP/badrow.csv"

# ---------------------------------------------------------------------------------------------
# Results of the runs.
for p in "${pool[@]}"; do wait "$p" 2>/dev/null; done

for b in "${BACKENDS[@]}"; do
    for s in "${SUITES[@]}"; do
        [ -e "$TMP/m-$b-$s.rc" ] || continue
        clean_run "m-$b-$s" "$b/$s" 1000
        jchecks "m-$b-$s" "$b/$s" "session used $b and $s" \
            "g['backend'] == d['backend'] == '$b' and d1['suite'] == '$s' and d['suite'] == '$s'"
    done
done

for m in "${MIXED[@]}"; do
    read -r a b s grp <<<"$m"
    name=x-$a-$b-$s
    [ "$grp" = p256 ] && name=x-$a-$b-p256
    clean_run "$name" "device $a -> gateway $b, $s, $grp" 1000
    jchecks "$name" "device $a -> gateway $b, $s, $grp" "backends, suite and group as asked" \
        "d['backend'] == '$a' and g['backend'] == '$b' and d1['suite'] == '$s' and d['group'] == '$grp'"
done

# After a SIGKILL a message has once (1 run in dozens, on CI) reached the gateway damaged, its
# first byte wrong: rejected as 'version' and counted missing, never accepted. The likely cause
# is the Paho 1.3.11 race between its send thread and the cleanup of the lost connection
# (tests/asan.supp). So after a kill, a reject other than a replay must be a lost message.
for mode in graceful kill; do
    jchecks "restart-$mode" "$mode broker restart" \
        "exit 0, restart.ok" "rc == 0 and j['restart']['ok'] is True and j['restart']['mode'] == '$mode'" \
        "the restart hit the run (connection lost and regained)" \
        "j['restart']['at'] < 10000 and d['connection_losses'] >= 1 and d['reconnects'] >= 1" \
        "device sent 10000" "d['sent'] == 10000" \
        "nothing opened twice or mismatched" "g['duplicates'] == 0 and g['mismatched'] == 0" \
        "no rejects but replays and too-old copies, or (after a kill) damaged copies of lost messages" \
        "rej - r['replay'] - r['too_old'] <= ('$mode' == 'kill') * g['missing']"
done
jchecks restart-graceful "graceful broker restart" \
    "all 10000 accepted, none missing" "g['accepted'] == 10000 and g['missing'] == 0"
jchecks restart-kill "killed broker" \
    "accepted + missing == 10000 (loss counted by seq)" "g['accepted'] + g['missing'] == 10000"
jchecks restart-outage "7 s broker outage" \
    "exit 0, broker down >= 7 s" "rc == 0 and j['restart']['ok'] is True and j['restart']['took_s'] >= 7" \
    "device reconnected and sent 10000" "d['reconnects'] >= 1 and d['sent'] == 10000" \
    "accepted + missing == 10000, nothing opened twice" \
    "g['accepted'] + g['missing'] == 10000 and g['duplicates'] == 0 and g['mismatched'] == 0"
for mode in graceful kill outage; do
    info "$mode restart: $("$PY" -c 'import json,sys
j = json.load(open(sys.argv[1])); g = j["gateway"]
print("accepted=%s missing=%s redelivered: replay=%s too_old=%s; restart took %.3f s; published_ok=%s; "
      "retries asked by the watchdog: device %s gateway %s" % (
    g["accepted"], g["missing"], g["rejected"]["replay"], g["rejected"]["too_old"], j["restart"]["took_s"],
    j["device"]["published_ok"], j["device"]["reconnect_nudges"], g["reconnect_nudges"]))' \
        "$TMP/restart-$mode.json" 2>/dev/null)"
done

wait "$POISON" 2>/dev/null
"$PY" -c 'import json,sys; print(json.dumps({"device": json.load(open(sys.argv[1])), "gateway": json.load(open(sys.argv[2]))}))' \
    "$P/dev.json" "$P/gw.json" >"$TMP/poison.json" 2>/dev/null
cp "$P/dev.rc" "$TMP/poison.rc" 2>/dev/null
cp "$P/dev.err" "$TMP/poison.err" 2>/dev/null
jchecks poison "client closed after each reconnect" \
    "device exit 0, all 10000 sent" "rc == 0 and d['sent'] == 10000" \
    "the client was replaced once" "d['client_rebuilds'] == 1 and g['client_rebuilds'] == 0" \
    "every publish acknowledged or counted failed" "d['published_ok'] + d['publish_failed'] == d['sent']" \
    "gateway: accepted + missing == 10000, nothing opened twice, every payload the device's" \
    "d1['accepted'] + d1['missing'] == 10000 and g['duplicates'] == 0 and g['mismatched'] == 0"
info "poisoned client: $("$PY" -c 'import json,sys
j = json.load(open(sys.argv[1])); d, g = j["device"], j["gateway"]
print("rebuilds=%s losses=%s reconnects=%s published_ok=%s failed=%s; gateway accepted=%s missing=%s" % (
    d["client_rebuilds"], d["connection_losses"], d["reconnects"], d["published_ok"], d["publish_failed"],
    g["accepted"], g["missing"]))' "$TMP/poison.json" 2>/dev/null); proxy: $(tr '\n' ';' <"$P/proxy.err")"

for enc in json csv cbor; do
    jchecks "ds-$enc" "dataset replay, $enc" \
        "exit 0, 1200 records of 4 patients sent and accepted, none rejected" \
        "rc == 0 and d['sent'] == 1200 == g['accepted'] and rej == 0 and len(j['dataset']['devices']) == 4" \
        "every opened payload is a record of its patient (mismatched 0, missing 0)" \
        "g['mismatched'] == 0 and g['missing'] == 0" \
        "dev-0001 is patient P0001, dev-0004 is P0004" \
        "j['dataset']['devices']['dev-0001'] == 'P0001' and j['dataset']['devices']['dev-0004'] == 'P0004'" \
        "sealed exactly the encoded bytes" "j['dataset']['payload_bytes'] == d['plaintext_bytes_sent']"
    info "dataset replay, $enc: $("$PY" -c 'import json,sys
j = json.load(open(sys.argv[1])); d = j["device"]
print("%.1f plaintext bytes/record, %.1f on the wire" % (d["plaintext_bytes_sent"] / d["sent"], d["wire_bytes_sent"] / d["sent"]))' "$TMP/ds-$enc.json" 2>/dev/null)"
done
jchecks ds-paced "dataset replay at 30x its timestamps" \
    "exit 0, 400 accepted" "rc == 0 and g['accepted'] == 400" \
    "publishing took at least 99 s / 30 (the data's own pacing)" "(d['t_last_ns'] - d['t_first_ns']) / 1e9 >= 99 / 30"
if [ -f "$SEPSIS" ]; then
    jchecks ds-sepsis "real dataset replay (sepsis subset)" \
        "exit 0, 50 patients x 5 records accepted" "rc == 0 and g['accepted'] == 250 == d['sent']" \
        "dev-0001 is patient 000207 (zero-padded id kept as text)" "j['dataset']['devices']['dev-0001'] == '000207'" \
        "nothing mismatched" "g['mismatched'] == 0"
fi

jchecks rekey "rekey every 100" \
    "exit 0" "rc == 0" \
    "accepted 10000, nothing rejected or missing" "g['accepted'] == 10000 and rej == 0 and g['missing'] == 0" \
    "nothing opened twice or mismatched" "g['duplicates'] == 0 and g['mismatched'] == 0" \
    "gateway rekeys == device rekeys >= 50" "g['rekeys'] == d['rekeys'] >= 50"
info "rekey every 100: $("$PY" -c 'import json,sys
j = json.load(open(sys.argv[1])); print("gateway rekeys=%s device rekeys=%s" % (j["gateway"]["rekeys"], j["device"]["rekeys"]))' "$TMP/rekey.json" 2>/dev/null)"

for i in 1 2 3 4 5 6 7 8; do
    jchecks "steady$i" "steady run $i" \
        "exit 0, no connection lost and none counted as made again" \
        "rc == 0 and d['connection_losses'] == d['reconnects'] == g['connection_losses'] == g['reconnects'] == 0"
done
jchecks fleet200 "200 devices" \
    "exit 0" "rc == 0" \
    "accepted 10000, nothing rejected or missing" "g['accepted'] == 10000 and rej == 0 and g['missing'] == 0" \
    "device_count 200, 200 handshakes" "g['device_count'] == 200 and g['handshakes'] == 200 and d['handshakes'] == 200" \
    "every device accepted 50" \
    "sorted(g['devices']) == ['dev-%04d' % i for i in range(1, 201)] and all(v['accepted'] == 50 for v in g['devices'].values())"

jchecks echo "echo" \
    "exit 0, 1000 sent and accepted" "rc == 0 and d['sent'] == 1000 and g['accepted'] == 1000" \
    "echoes == sent" "d['echoes'] == d['sent'] and g['echoed'] == d['sent']" \
    "a round trip for every message" "d['rtt']['count'] == d['sent'] and d['rtt_unmatched'] == 0"

# --- The attack scenario.
wait "$ATTACK" 2>/dev/null
check "attack: broker started" "$([ -s "$A/uri" ]; echo $?)" "$(cat "$A/broker.err" 2>/dev/null)"
check "attack: mosquitto_pub -f / mosquitto_sub -F %x carry binary payloads exactly" \
    "$([ "$(cat "$A/bytes.rc" 2>/dev/null)" = 0 ]; echo $?)" "$(head -c 300 "$A/bytes.hex" 2>/dev/null)"
check "attack: every injection published" \
    "$([ "$(grep -c ' 0$' "$A/injected" 2>/dev/null)" -eq 11 ]; echo $?)" "$(tr '\n' ' ' <"$A/injected" 2>/dev/null) $(cat "$A/forged" "$A/pub.err" 2>/dev/null)"
read -r E0 GRACE_MS <"$A/grace" 2>/dev/null
info "attack: $(cat "$A/started" 2>/dev/null); replay within grace sent $GRACE_MS ms after the second epoch showed"
check "attack: the grace-period replay went out well within the 3 s grace" "$([ "${GRACE_MS:-9999}" -lt 2000 ]; echo $?)" \
    "$GRACE_MS ms (a slow machine: the 'replay' count below may read 1 and 'epoch' 2)"
check "attack: the ACCEPT to a HELLO built here verifies (mac_g)" \
    "$("$PY" "$FORGE" accept-ok --id dev-0002 --psk "$PSK2" --hello "$A/hello-good.bin" --capture "$A/cap.txt" \
        --topic sealbench/dev-0002/hs/ack >"$A/accept.out" 2>&1; echo $?)" "$(cat "$A/accept.out")"
for f in gw dev; do
    for x in json rc err; do cp "$A/$f.$x" "$TMP/atk-$f.$x" 2>/dev/null; done
done
DEV_REKEYS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rekeys"])' "$A/dev.json" 2>/dev/null)
jchecks atk-gw "attack: gateway" "exit 0 after SIGTERM, with its JSON" "rc == 0 and g.get('role') == 'gateway'"
jchecks atk-dev "attack: honest device" \
    "exit 0, 1500 sent, no errors" "rc == 0 and d['sent'] == 1500 and d['errors'] == []" \
    "rekeyed along the way" "d['rekeys'] >= 3"
jchecks atk-gw "attack: gateway, dev-0001" \
    "honest session carried on: accepted 1500, missing 0" "d1['accepted'] == 1500 and d1['missing'] == 0" \
    "nothing opened twice or mismatched" "d1['duplicates'] == 0 and d1['mismatched'] == 0" \
    "replays: 2 (a fresh copy; an old epoch's copy within grace)" "d1['rejected']['replay'] == 2" \
    "auth: 2 (a header bit, a tag bit)" "d1['rejected']['auth'] == 2" \
    "epoch: 1 (an old epoch's copy after grace)" "d1['rejected']['epoch'] == 1" \
    "handshake: 1 (HELLO with a wrong PSK), handshake_auth_failures 1" \
    "d1['rejected']['handshake'] == 1 and d1['handshake_auth_failures'] == 1" \
    "short: 1" "d1['rejected']['short'] == 1" \
    "version: 1, flags: 1, suite: 1" "d1['rejected']['version'] == 1 and d1['rejected']['flags'] == 1 and d1['rejected']['suite'] == 1" \
    "no too_old or padding rejects" "d1['rejected']['too_old'] == 0 and d1['rejected']['padding'] == 0" \
    "rekeys as many as the device's (${DEV_REKEYS:-?})" "d1['rekeys'] == ${DEV_REKEYS:-None} and d1['rekeys'] >= 3" \
    "the forged-but-valid HELLO for dev-0002 was a handshake" "g['devices']['dev-0002']['handshakes'] == 1" \
    "gateway totals: no unknown devices, rejects all from dev-0001" \
    "g['unknown_device'] == 0 and rej == sum(d1['rejected'].values())"
info "attack: dev-0001 rejects $("$PY" -c 'import json,sys
j = json.load(open(sys.argv[1])); print({k: v for k, v in j["devices"]["dev-0001"]["rejected"].items() if v})' "$A/gw.json" 2>/dev/null)"

if [ ${#unavailable[@]} -gt 0 ]; then
    echo "mqtt: not run, unavailable in this build's libraries: ${unavailable[*]}"
fi
totals
[ "$failed" -eq 0 ]
