#!/usr/bin/env bash
# MQTT benchmarks of issue 3, each in its own processes on one private broker, as a deployment
# would run them (one process per role; `pair` shares Paho's threads and is slower):
#
#   throughput  messages/s through the broker, one device, 256-byte payloads, QoS 0 and 1, for
#               the null suite and every real suite of one backend, against a plain
#               `mosquitto_pub -l` / `mosquitto_sub` pair on the same broker and payloads,
#               and against plain Paho (tests/bench/mqtt_plain.c: sealbench's own MQTT layer
#               moving unsealed payloads), which splits the gap into Paho's share and ours;
#   storm       1000 devices in one process: connect and handshake-storm time, memory.
#
# Usage: tests/bench/mqtt.sh [BIN] [OUTDIR]   (env: N messages, REPS repetitions, BACKEND,
# DEVICES for the storm). Writes OUTDIR/mqtt_throughput.csv and OUTDIR/mqtt_storm.csv (raw
# repetitions, one row each) and prints medians. End-to-end rate = messages accepted by the
# gateway / (its last accept - the device's first publish), both CLOCK_MONOTONIC, so process
# start-up is outside the window. The baseline's window runs from mosquitto_pub's start to
# mosquitto_sub's exit, so it includes a process start and a connect (a few ms in 1-2 s):
# if anything, the comparison flatters sealbench slightly.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/native/sealbench}
PLAIN=$(dirname "$BIN")/bench/mqtt_plain
OUTDIR=${2:-results/bench}
N=${N:-100000}
REPS=${REPS:-5}
BACKEND=${BACKEND:-openssl}
DEVICES=${DEVICES:-1000}
PY=/usr/bin/python3
mkdir -p "$OUTDIR"
WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

start_broker() {
    "$BIN" broker >"$WORK/broker.out" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 100); do
        grep -q '^uri' "$WORK/broker.out" 2>/dev/null && break
        sleep 0.1
    done
    URI=$(awk '/^uri/{print $2}' "$WORK/broker.out")
    [ -n "$URI" ] || { echo "bench: broker did not start" >&2; cat "$WORK/broker.out" >&2; exit 1; }
    VERSION=$(awk '/^version/{print $2}' "$WORK/broker.out")
}

stop_broker() {
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=
}

"$BIN" keys --devices "$DEVICES" >"$WORK/keys.txt"
$PY -c "import sys; sys.stdout.write(('x' * 255 + '\n') * $N)" >"$WORK/lines.txt"
CSV=$OUTDIR/mqtt_throughput.csv
echo "what,backend,suite,qos,rep,messages,received,msgs_per_s,publish_msgs_per_s,broker_version" >"$CSV"

baseline() { # qos rep
    local t0 t1 got n=$N
    # mosquitto_pub -l at QoS 1 waits for each PUBACK before reading the next line (a few
    # hundred messages/s here), so its run is kept short.
    [ "$1" = 0 ] || n=$((N < 2000 ? N : 2000))
    head -n "$n" "$WORK/lines.txt" >"$WORK/lines.now"
    timeout -k 5 120 mosquitto_sub -L "${URI/tcp:/mqtt:}/bench/base" -q "$1" -C "$n" >"$WORK/sub.out" &
    local sp=$!
    sleep 0.3
    t0=$(date +%s%N)
    timeout -k 5 120 mosquitto_pub -L "${URI/tcp:/mqtt:}/bench/base" -q "$1" -l <"$WORK/lines.now"
    wait "$sp" || true
    t1=$(date +%s%N)
    got=$(wc -l <"$WORK/sub.out")
    echo "baseline,mosquitto_pub,-,$1,$2,$n,$got,$($PY -c "print(round($got/(($t1-$t0)/1e9)))"),,$VERSION" >>"$CSV"
}

plain() { # qos rep
    local n=$N
    [ "$1" = 0 ] || n=$((N < 20000 ? N : 20000))
    timeout -k 5 120 "$PLAIN" sub "$URI" bench/plain "$n" "$1" >"$WORK/psub.out" 2>"$WORK/psub.err" &
    local sp=$!
    for _ in $(seq 100); do grep -q subscribed "$WORK/psub.err" 2>/dev/null && break; sleep 0.05; done
    timeout -k 5 120 "$PLAIN" pub "$URI" bench/plain "$n" 256 "$1" >"$WORK/ppub.out"
    wait "$sp" || true
    $PY - "$WORK/psub.out" "$WORK/ppub.out" "$1" "$2" "$n" "$VERSION" >>"$CSV" <<'EOF'
import sys
s = open(sys.argv[1]).read().split(); p = open(sys.argv[2]).read().split()
qos, rep, n, ver = sys.argv[3:7]
got = int(s[1]) if s else 0
rate = round(got / ((int(s[3]) - int(p[2])) / 1e9)) if s and p else 0
print(f"plain,paho,-,{qos},{rep},{n},{got},{rate},,{ver}")
EOF
}

sealed() { # suite qos rep
    timeout -k 5 180 "$BIN" gateway --broker "$URI" --keys "$WORK/keys.txt" --backend "$BACKEND" \
        --suite "$1" --qos "$2" --expect "$N" --duration 120 >"$WORK/gw.json" 2>"$WORK/gw.err" &
    local gp=$!
    for _ in $(seq 100); do grep -q ready "$WORK/gw.err" 2>/dev/null && break; sleep 0.05; done
    timeout -k 5 180 "$BIN" device --broker "$URI" --keys "$WORK/keys.txt" --backend "$BACKEND" \
        --suite "$1" --qos "$2" --count "$N" --size 256 >"$WORK/dev.json"
    wait "$gp"
    $PY - "$WORK/gw.json" "$WORK/dev.json" "$1" "$2" "$3" "$N" "$BACKEND" "$VERSION" >>"$CSV" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
suite, qos, rep, n, be, ver = sys.argv[3:9]
span = (g["t_last_ns"] - d["t_first_ns"]) / 1e9
print(f"sealbench,{be},{suite},{qos},{rep},{n},{g['accepted']},{round(g['accepted'] / span)},"
      f"{round(d['publish_msgs_per_s'])},{ver}")
EOF
}

SUITES=(null)
while IFS=, read -r kind be suite status _; do
    [ "$kind" = suite ] && [ "$be" = "$BACKEND" ] && [ "$status" = ok ] && [ "$suite" != null ] &&
        SUITES+=("$suite")
done < <("$BIN" list --csv | tail -n +2)

start_broker
echo "throughput: $N messages of 256 bytes, one device, $REPS repetitions, mosquitto $VERSION"
for qos in 0 1; do
    for rep in $(seq "$REPS"); do
        # Interleaved, so that a noisy minute hurts every configuration alike.
        baseline "$qos" "$rep"
        plain "$qos" "$rep"
        for s in "${SUITES[@]}"; do sealed "$s" "$qos" "$rep"; done
    done
done
stop_broker

STORM=$OUTDIR/mqtt_storm.csv
echo "devices,rep,connect_s,handshake_storm_s,hs_p50_ms,hs_p99_ms,device_rss_start_kb,device_rss_handshaken_kb,device_kb_per_session,device_peak_kb,gateway_peak_kb,gateway_accepted" >"$STORM"
start_broker
for rep in $(seq 3); do
    /usr/bin/time -f "%M" -o "$WORK/gw.time" "$BIN" gateway --broker "$URI" --keys "$WORK/keys.txt" \
        --backend "$BACKEND" --expect "$DEVICES" --duration 120 >"$WORK/gw.json" 2>"$WORK/gw.err" &
    gp=$!
    for _ in $(seq 100); do grep -q ready "$WORK/gw.err" 2>/dev/null && break; sleep 0.05; done
    timeout -k 5 300 "$BIN" device --broker "$URI" --keys "$WORK/keys.txt" --backend "$BACKEND" \
        --devices "$DEVICES" --count 1 >"$WORK/dev.json"
    wait "$gp"
    $PY - "$WORK/dev.json" "$WORK/gw.json" "$WORK/gw.time" "$rep" >>"$STORM" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); g = json.load(open(sys.argv[2]))
gw_kb = open(sys.argv[3]).read().split()[-1]
r, h = d["rss"], d["handshake_latency"]
print(f"{d['devices']},{sys.argv[4]},{d['connect_s']:.3f},{d['handshake_storm_s']:.3f},"
      f"{h['p50_ms']:.1f},{h['p99_ms']:.1f},{r['start_kb']},{r['handshaken_kb']},"
      f"{r['per_device_kb']:.1f},{r['peak_kb']},{gw_kb},{g['accepted']}")
EOF
done
stop_broker

$PY - "$CSV" "$STORM" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'qos':>3} {'suite':<22} {'median msg/s':>12} {'vs baseline':>11}  (reps)")
for qos in ("0", "1"):
    base = statistics.median(int(r["msgs_per_s"]) for r in rows if r["what"] == "baseline" and r["qos"] == qos)
    print(f"{qos:>3} {'mosquitto_pub/sub':<22} {base:>12.0f} {'100%':>11}")
    v = [int(r["msgs_per_s"]) for r in rows if r["what"] == "plain" and r["qos"] == qos]
    if v:
        print(f"{qos:>3} {'plain Paho, unsealed':<22} {statistics.median(v):>12.0f} {100 * statistics.median(v) / base:>10.0f}%  {v}")
    suites = dict.fromkeys(r["suite"] for r in rows if r["what"] == "sealbench")
    for s in suites:
        v = [int(r["msgs_per_s"]) for r in rows if r["what"] == "sealbench" and r["qos"] == qos and r["suite"] == s]
        print(f"{qos:>3} {s:<22} {statistics.median(v):>12.0f} {100 * statistics.median(v) / base:>10.0f}%  {v}")
print()
for r in csv.DictReader(open(sys.argv[2])):
    print(f"storm: {r['devices']} devices: connect {r['connect_s']} s, handshakes {r['handshake_storm_s']} s "
          f"(p50 {r['hs_p50_ms']} ms, p99 {r['hs_p99_ms']} ms), device process {r['device_kb_per_session']} kB/session, "
          f"peak {r['device_peak_kb']} kB; gateway peak {r['gateway_peak_kb']} kB")
EOF
