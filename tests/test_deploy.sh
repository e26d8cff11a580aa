#!/usr/bin/env bash
# Deploying to boards, without a board: rpi/deploy.sh and rpi/run.sh against "localhost" with
# SSH and RSYNC replaced by local stand-ins (the board's home is a scratch folder; commands run
# there with bash, files go there with the real rsync when present), and the Ansible fleet
# playbook with a local connection (two "boards" and the gateway, all this machine, running the
# native binary). Checked: the copied tree; missing libraries found by the real ldd (a binary
# whose library was removed) and named with their Debian packages (a canned ldd output); the
# architecture chosen from the board and a binary of another architecture refused; board and
# device runs brought back named after the board, every message sent and opened; a failing
# fleet stopped before it starts anything; and nothing left running.
# run.sh: native build only
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/native/sealbench}
REPO=$(pwd)
NAME=deploy
TMP=$(mktemp -d)
# Everything started here is stopped by its pid, even when a step failed.
cleanup() {
    local f
    for f in "$TMP"/pids/* "$TMP"/fleet/*/results/*/*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    kill $(jobs -p) 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
. tests/assert.sh
BOARD_NAME=$(printf '%s' "$(hostname)" | tr -c 'A-Za-z0-9_.-' '_')
mkdir -p "$TMP/shims" "$TMP/fakebin" "$TMP/pids" "$TMP/home" "$TMP/bin"
# The gateway's and the fleet's binary: a copy, so that a rebuild meanwhile cannot pull it away.
cp "$BIN" "$TMP/bin/sealbench"
SB=$TMP/bin/sealbench

# ---- the stand-ins -----------------------------------------------------------------------------
# ssh: the remote command runs here with bash, in $FAKE_HOME, with $FAKE_PATH first in PATH; a
# tunnel (-N -R) is a forwarder from the "board's" port to ours, as sshd would run it.
cat >"$TMP/shims/ssh" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$SHIM_LOG"
tunnel=0 fwd=""
while [ $# -gt 0 ]; do
    case $1 in
        -N) tunnel=1; shift ;;
        -R) fwd=$2; shift 2 ;;
        -o | -p | -i | -l | -L | -F | -J | -E | -c | -m | -S | -O | -W | -b) shift 2 ;;
        --) shift; break ;;
        -*) shift ;;
        *) break ;;
    esac
done
host=$1
shift
if [ "$host" = unreachable ]; then
    echo "ssh: Could not resolve hostname $host: Name or service not known" >&2
    exit 255
fi
if [ $tunnel = 1 ]; then
    # -R 127.0.0.1:RPORT:127.0.0.1:PORT: a forwarder from RPORT to PORT, as sshd would listen.
    echo $$ >"$SHIM_PIDS/tunnel"
    IFS=: read -r _ rport _ port <<<"$fwd"
    exec python3 - "$rport" "$port" <<'PY'
import asyncio, sys
rport, port = int(sys.argv[1]), int(sys.argv[2])
async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except OSError:
        pass
    finally:
        w.close()
async def handle(r1, w1):
    try:
        r2, w2 = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        w1.close()
        return
    await asyncio.gather(pipe(r1, w2), pipe(r2, w1))
async def main():
    try:
        srv = await asyncio.start_server(handle, "127.0.0.1", rport)
    except OSError:
        print("Error: remote port forwarding failed for listen port %d" % rport, file=sys.stderr)
        sys.exit(255)
    async with srv:
        await asyncio.wait_for(srv.serve_forever(), 600)
asyncio.run(main())
PY
fi
cd "$FAKE_HOME" && HOME=$FAKE_HOME PATH=${FAKE_PATH:+$FAKE_PATH:}$PATH exec bash -c "$*"
EOF
# rsync: HOST:PATH is $FAKE_HOME/PATH; the copy is the real rsync's (cp -a where it is absent).
cat >"$TMP/shims/rsync" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$SHIM_LOG"
args=() del=0
while [ $# -gt 0 ]; do
    case $1 in
        -e) shift 2 ;;
        --delete) del=1; args+=("$1"); shift ;;
        -*) args+=("$1"); shift ;;
        *:*) p=${1#*:}; case $p in /*) ;; *) p=$FAKE_HOME/$p ;; esac; args+=("$p"); shift ;;
        *) args+=("$1"); shift ;;
    esac
done
command -v rsync >/dev/null && exec rsync "${args[@]}"
files=() ; for a in "${args[@]}"; do case $a in -*) ;; *) files+=("$a") ;; esac; done
dest=${files[-1]}; unset 'files[-1]'
[ $del = 1 ] && [ "${files[0]: -1}" = / ] && rm -rf "${dest:?}"/*
for f in "${files[@]}"; do
    if [ "${f: -1}" = / ]; then mkdir -p "$dest" && cp -a "$f". "$dest"; else cp -a "$f" "$dest"; fi
done
EOF
chmod +x "$TMP/shims/ssh" "$TMP/shims/rsync"
export SSH="$TMP/shims/ssh" RSYNC="$TMP/shims/rsync" SHIM_LOG="$TMP/shim.log" SHIM_PIDS="$TMP/pids"
export FAKE_HOME="$TMP/home" FAKE_PATH=""

# ldd's output on a board lacking libcbor and PAPI (what Raspberry Pi OS Lite without them gives).
cat >"$TMP/ldd.canned" <<'EOF'
	linux-vdso.so.1 (0x0000ffff8e5f5000)
	libcrypto.so.3 => /lib/aarch64-linux-gnu/libcrypto.so.3 (0x0000ffff8e000000)
	libsodium.so.23 => /lib/aarch64-linux-gnu/libsodium.so.23 (0x0000ffff8e590000)
	libcbor.so.0.8 => not found
	libpapi.so.7.0 => not found
	libpaho-mqtt3as.so.1 => /lib/aarch64-linux-gnu/libpaho-mqtt3as.so.1 (0x0000ffff8df20000)
	libstdc++.so.6 => /lib/aarch64-linux-gnu/libstdc++.so.6 (0x0000ffff8dd00000)
	libsbnew.so.2 => not found
	libc.so.6 => /lib/aarch64-linux-gnu/libc.so.6 (0x0000ffff8db50000)
EOF
mkdir -p "$TMP/canned"
printf '#!/bin/sh\ncat %s\n' "$TMP/ldd.canned" >"$TMP/canned/ldd"
printf '#!/bin/sh\necho "sudo $*" >>%s\n' "$TMP/sudo.log" >"$TMP/canned/sudo"
chmod +x "$TMP/canned/ldd" "$TMP/canned/sudo"
mkdir -p "$TMP/armhf"
printf '#!/bin/sh\n[ "$1" = --print-architecture ] && echo armhf\n' >"$TMP/armhf/dpkg"
chmod +x "$TMP/armhf/dpkg"

# A binary whose shared library is gone: the real ldd must say "not found".
printf 'int sb_fake(void) { return 0; }\n' >"$TMP/fakelib.c"
printf 'int sb_fake(void);\nint main(void) { return sb_fake(); }\n' >"$TMP/fakemain.c"
if cc -shared -fPIC -Wl,-soname,libsbmissing.so.1 -o "$TMP/libsbmissing.so.1" "$TMP/fakelib.c" &&
    cc -o "$TMP/fakebin/sealbench" "$TMP/fakemain.c" "$TMP/libsbmissing.so.1"; then
    rm -f "$TMP/libsbmissing.so.1"
    ok
else
    bad "a test binary with a missing library (cc)" "the compiler failed"
fi

# What this test started that still runs: processes that carry its SHIM_LOG in their
# environment, other than this shell and the commands asking.
leftovers() {
    local pid me=$BASHPID
    for pid in $(ps -eo pid=); do
        case $pid in $$ | "$me") continue ;; esac
        [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$me" ] && continue
        tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "SHIM_LOG=$SHIM_LOG" && ps -o pid=,args= -p "$pid"
    done
}

# ---- deploy.sh: usage and local errors ---------------------------------------------------------
run rpi/deploy.sh --help
expect_rc 0
expect_has out "usage: rpi/deploy.sh"
run rpi/deploy.sh
expect_rc 2
expect_has err "give HOST"
run rpi/deploy.sh --bogus localhost
expect_rc 2
expect_has err "unknown option '--bogus'"
run rpi/deploy.sh unreachable
expect_rc 1
expect_has err "cannot reach unreachable over ssh"
expect_has err "ssh-copy-id"
run env RSYNC=/nonexistent/rsync rpi/deploy.sh localhost
expect_rc 1
expect_has err "'/nonexistent/rsync' not found on this machine"
run rpi/deploy.sh --arch arm64 --binary "$BIN" localhost
expect_rc 1
expect_has err "is x86-64 (amd64) code, but the board runs arm64"
expect_has err "make rpi"
run rpi/deploy.sh --arch amd64 --binary tests/assert.sh localhost
expect_rc 1
expect_has err "is not an ELF executable"
run rpi/deploy.sh --arch arm64 --binary "$TMP/none/sealbench" localhost
expect_rc 1
expect_has err "none/sealbench not found"
# The board says armhf (dpkg --print-architecture), so an x86-64 binary is refused for it.
run env FAKE_PATH="$TMP/armhf" rpi/deploy.sh --binary "$BIN" localhost
expect_rc 1
expect_has err "but the board runs armhf"
expect_has err "make rpi TARGET=armhf"
[ -z "$(ls -A "$TMP/home")" ] && ok || bad "nothing copied by refused deploys" "$(ls -A "$TMP/home")"

# --dry-run prints the commands and runs none.
: >"$SHIM_LOG"
run rpi/deploy.sh --dry-run localhost
expect_rc 0
expect_re out "^\+ .*ssh localhost 'dpkg --print-architecture \|\| uname -m'  # the board says its architecture$"
expect_re out "^\+ .*rsync -a -e .* 'build/<aarch64\|armhf>/sealbench' localhost:sealbench/sealbench$"
expect_re out "^\+ .*rsync -a --delete .*experiments/configs/ localhost:sealbench/experiments/configs/$"
expect_re out "^\+ .*ssh localhost 'ldd sealbench/sealbench'$"
[ ! -s "$SHIM_LOG" ] && [ -z "$(ls -A "$TMP/home")" ] && ok || bad "nothing run under --dry-run" "$(cat "$SHIM_LOG")"

# ---- deploy.sh to "localhost" ------------------------------------------------------------------
# The binary make builds for each architecture (what deploy.sh copies without --binary).
run bash -c '. rpi/deploy.sh && for a in arm64 aarch64 armhf armv7l amd64 x86_64; do arch_binary "$(arch_norm "$a")"; done'
[ "$out" = "$(printf "$REPO/build/%s/sealbench\n" aarch64 aarch64 armhf armhf native native)" ] && ok ||
    bad "build/aarch64, build/armhf and build/native by architecture" "$(shown "$out")"
run rpi/deploy.sh --binary "$SB" localhost
expect_rc 0
expect_has err "every library found, sealbench runs"
expect_has err "(unknown (no /proc/device-tree/model), amd64)"
D=$TMP/home/sealbench
cmd="the copied tree"
[ -x "$D/sealbench" ] && cmp -s "$D/sealbench" "$SB" && ok || bad "the binary at ~/sealbench/sealbench" "$(ls -l "$D" 2>&1)"
for f in experiments/configs/*.ini datasets/*.csv datasets/*.dataset; do
    cmp -s "$f" "$D/$f" || { bad "$f copied" "missing or different"; continue; }
    ok
done
n_local=$(ls experiments/configs | wc -l) n_board=$(ls "$D/experiments/configs" | wc -l)
[ "$n_local" = "$n_board" ] && ok || bad "$n_local configs on the board" "$n_board"
grep -q "^sha256 $(sha256sum "$SB" | cut -d' ' -f1)$" "$D/deployed.txt" && ok ||
    bad "deployed.txt with the binary's sha256" "$(cat "$D/deployed.txt" 2>&1)"
grep -q "^arch amd64$" "$D/deployed.txt" && ok || bad "deployed.txt: arch amd64" "$(cat "$D/deployed.txt" 2>&1)"
# A stale config on the board goes at the next deploy (configs are mirrored).
touch "$D/experiments/configs/stale.ini"
run rpi/deploy.sh --no-check --binary "$SB" localhost
expect_rc 0
[ ! -e "$D/experiments/configs/stale.ini" ] && ok || bad "stale.ini removed from the board" "still there"

# Missing libraries: the real ldd on a binary whose library was removed...
run rpi/deploy.sh --arch amd64 --binary "$TMP/fakebin/sealbench" localhost
expect_rc 1
expect_has err "localhost lacks 1 shared library that sealbench needs:"
expect_re err "libsbmissing\.so\.1 +\(no Debian package known to deploy.sh: apt-file search libsbmissing\.so\.1\)"
# ... and a canned one, as a Raspberry Pi OS without libcbor and PAPI answers.
run env FAKE_PATH="$TMP/canned" rpi/deploy.sh --arch amd64 --binary "$SB" localhost
expect_rc 1
expect_has err "localhost lacks 3 shared libraries that sealbench needs:"
expect_re err "libcbor\.so\.0\.8 +from libcbor0\.8"
expect_re err "libpapi\.so\.7\.0 +from libpapi7\.0"
expect_has err "install them there: ssh localhost sudo apt-get install -y libcbor0.8 libpapi7.0"
expect_lacks err "libcrypto"
# --install runs apt-get there through sudo (a stand-in that only records), then checks again.
rm -f "$TMP/sudo.log"
run env FAKE_PATH="$TMP/canned" rpi/deploy.sh --arch amd64 --binary "$SB" --install localhost
expect_rc 1
grep -q "sudo apt-get install -y libcbor0.8 libpapi7.0" "$TMP/sudo.log" 2>/dev/null && ok ||
    bad "sudo apt-get install -y libcbor0.8 libpapi7.0 run on the board" "$(cat "$TMP/sudo.log" 2>&1)"
grep -q -- "-t localhost" "$SHIM_LOG" && ok || bad "apt-get run with ssh -t (sudo may ask a password)" "$(tail -n 3 "$SHIM_LOG")"
# The table itself, as the playbook uses it.
run rpi/deploy.sh --libs-to-packages <"$TMP/ldd.canned"
expect_rc 0
[ "$out" = $'libcbor.so.0.8 libcbor0.8\nlibpapi.so.7.0 libpapi7.0\nlibsbnew.so.2 ?' ] && ok || bad "three 'library package' lines" "$(shown "$out")"
run rpi/deploy.sh --libs-to-packages </dev/null
[ -z "$out" ] && ok || bad "nothing for a complete ldd output" "$out"
# Every library the build links has a package in the table (none is left to '?').
ldd "$SB" | sed -E 's/=>.*/=> not found/' >"$TMP/ldd.all"
run rpi/deploy.sh --libs-to-packages <"$TMP/ldd.all"
expect_lacks out " ?"
n=$(grep -c ' lib' <<<"$out")
[ "$n" -ge 12 ] && ok || bad "a package for each of sealbench's libraries" "$(shown "$out")"

# ---- run.sh ------------------------------------------------------------------------------------
cat >"$TMP/tiny.ini" <<'EOF'
[run]
name = tiny
repetitions = 1
seed = 3
warmup = 5
[defaults]
backend = openssl
suite = chacha20-poly1305
payload = size:64, dataset:datasets/vitals_tiny.csv:cbor
qos = 1
messages = 50
[study fleet]
devices = 2
topology = split
EOF
run rpi/run.sh --help
expect_rc 0
expect_has out "--mode device"
run rpi/run.sh localhost
expect_rc 2
expect_has err "give HOST (an ssh destination) and CONFIG"
run rpi/run.sh --mode cloud localhost "$TMP/tiny.ini"
expect_rc 2
expect_has err "--mode is board or device, not 'cloud'"
run rpi/run.sh localhost "$TMP/none.ini"
expect_rc 2
expect_has err "none.ini' not found"
run rpi/run.sh unreachable "$TMP/tiny.ini"
expect_rc 1
expect_has err "cannot reach unreachable over ssh"
run env FAKE_HOME="$TMP/empty" bash -c 'mkdir -p "$FAKE_HOME" && exec "$0" "$@"' rpi/run.sh localhost "$TMP/tiny.ini"
expect_rc 1
expect_has err "localhost has no ~/sealbench/sealbench"
expect_has err "deploy first: rpi/deploy.sh localhost"
printf '[run]\nname = bad\n[defaults]\nqos = 3\n' >"$TMP/bad.ini"
run rpi/run.sh --results "$TMP/results" localhost "$TMP/bad.ini"
expect_rc 2
expect_has err "the board refuses the config"
expect_has err "out of range"

# Board mode: the runner on the board, the run folder back here named after the board.
run rpi/run.sh --results "$TMP/results" --no-micro localhost "$TMP/tiny.ini"
expect_rc 0
R=$(ls -d "$TMP/results/$BOARD_NAME"-tiny-* 2>/dev/null | head -n 1)
cmd="board mode: results/<board>-tiny-<time>/"
if [ -n "$R" ] && [ -d "$R" ]; then ok; else bad "a folder $BOARD_NAME-tiny-<time>" "$(ls "$TMP/results" 2>&1)"; R=$TMP/none; fi
grep -q "^hostname: $(hostname)$" "$R/board.txt" 2>/dev/null && ok || bad "board.txt naming the board" "$(cat "$R/board.txt" 2>&1)"
grep -q "^model: " "$R/board.txt" 2>/dev/null && grep -q "^throttled after: " "$R/board.txt" && ok ||
    bad "board.txt with model and throttling" "$(cat "$R/board.txt" 2>&1)"
rows=$(python3 - "$R" <<'PY' 2>&1
import csv, json, sys
r = sys.argv[1]
rows = list(csv.DictReader(open(r + "/cells.csv")))
m = json.load(open(r + "/manifest.json"))
print(len(rows), sum(x["status"] == "ok" for x in rows),
      sum(int(x["messages_sent"]) == 100 and int(x["messages_received"]) == 100 for x in rows),
      m["run"]["status"], r.rsplit("/", 1)[1] == rows[0]["run_id"])
PY
)
[ "$rows" = "2 2 2 complete True" ] && ok ||
    bad "2 cells ok, 100 messages sent and received each, manifest complete, run_id = folder" "$rows"
[ -d "$TMP/home/sealbench/results/$(basename "$R")" ] && ok || bad "the board keeps its copy" "$(ls "$TMP/home/sealbench/results")"

# Board mode, dry run: the commands, and no run.
run rpi/run.sh --dry-run --results "$TMP/dry" localhost "$TMP/tiny.ini"
expect_rc 0
expect_re out "^\+ .*ssh localhost 'cd sealbench && \./sealbench run configs-local/tiny\.ini --progress lines --out results/"
expect_re out "^\+ .*rsync -a -e .* 'localhost:sealbench/results/"
[ ! -e "$TMP/dry" ] && ok || bad "nothing written under --dry-run" "$(ls -R "$TMP/dry")"

# Device mode: broker and gateway here, devices "on the board", reached through the tunnel.
: >"$SHIM_LOG"
run rpi/run.sh --mode device --gateway-bin "$SB" --results "$TMP/results-dev" localhost "$TMP/tiny.ini"
expect_rc 0
expect_has err "2 of 2 runs ok"
R=$(ls -d "$TMP/results-dev/$BOARD_NAME"-tiny-* 2>/dev/null | head -n 1)
cmd="device mode: results/<board>-tiny-<time>/"
if [ -n "$R" ] && [ -d "$R" ]; then ok; else bad "a folder $BOARD_NAME-tiny-<time>" "$(ls "$TMP/results-dev" 2>&1)"; R=$TMP/none; fi
grep -q "^hostname: $(hostname)$" "$R/board.txt" 2>/dev/null && ok || bad "board.txt naming the board" "$(cat "$R/board.txt" 2>&1)"
grep -q "^tunnel: ssh -R (board 127.0.0.1:[0-9]* -> here 127.0.0.1:[0-9]*)$" "$R/board.txt" 2>/dev/null && ok ||
    bad "board.txt saying the tunnel" "$(grep tunnel "$R/board.txt" 2>&1)"
ports=$(sed -nE 's/^tunnel: ssh -R \(board 127\.0\.0\.1:([0-9]+) -> here 127\.0\.0\.1:([0-9]+)\)$/\1 \2/p' "$R/board.txt" 2>/dev/null)
[ -n "$ports" ] && [ "${ports% *}" != "${ports#* }" ] && ok || bad "the board's port differs from the broker's (traffic crossed the tunnel)" "${ports:-none}"
grep -qE -- "-N .*-R 127\.0\.0\.1:[0-9]+:127\.0\.0\.1:[0-9]+ localhost$" "$SHIM_LOG" && ok ||
    bad "an ssh -N -R tunnel to the local broker's port" "$(grep -- -R "$SHIM_LOG")"
check=$(python3 - "$R" <<'PY' 2>&1
import csv, json, sys
r = sys.argv[1]
rows = list(csv.DictReader(open(r + "/device_cells.csv")))
good = 0
for x in rows:
    # 2 devices x (50 + 5 warm-up): all sent, echoed, opened by the gateway; 100 measured RTTs.
    if (x["status"] == "ok" and x["sent"] == "110" and x["echoes"] == "110" and x["gateway_accepted"] == "110"
            and x["measured_rtts"] == "100" and float(x["rtt_us_p50"]) > 0 and x["gateway_rejected_total"] == "0"):
        good += 1
d = json.load(open(r + "/raw/" + rows[0]["cell_id"] + ".r1-device.json"))
print(len(rows), good, d["devices"], json.load(open(r + "/run.json"))["mode"])
PY
)
[ "$check" = "2 2 2 device" ] && ok || bad "2 rows, each 110 sent = echoed = opened by the gateway, 100 RTTs" "$check"
ls "$R"/samples/*-gateway.csv >/dev/null 2>&1 && [ "$(ls "$R"/samples/ | wc -l)" = 4 ] && ok ||
    bad "device and gateway samples of both cells" "$(ls "$R/samples" 2>&1)"
ls -A "$TMP/home/sealbench" | grep -q '^\.keys' && bad "the keys removed from the board" "$(ls -A "$TMP/home/sealbench")" || ok
tunnel_pid=$(cat "$TMP/pids/tunnel" 2>/dev/null)
[ -n "$tunnel_pid" ] && ! kill -0 "$tunnel_pid" 2>/dev/null && ok || bad "the tunnel stopped" "pid ${tunnel_pid:-none} alive"
left=$(leftovers)
[ -z "$left" ] && ok || bad "nothing left running by run.sh (broker, gateway, tunnel, device)" "$left"

# Device mode with a broker nobody listens on: every cell failed, said so, exit 1, no leftovers.
printf '[run]\nname = nobroker\n[defaults]\nbackend = openssl\nsuite = null\nmessages = 5\n' >"$TMP/one.ini"
run rpi/run.sh --mode device --gateway-bin "$SB" --broker tcp://127.0.0.1:1 --results "$TMP/results-nb" localhost "$TMP/one.ini"
expect_rc 1
expect_has err "failed: the gateway did not get ready"
expect_has err "0 of 1 runs ok"
grep -q ',failed,"the gateway did not get ready' "$TMP"/results-nb/*/device_cells.csv 2>/dev/null && ok ||
    bad "device_cells.csv: the cell failed, with why" "$(cat "$TMP"/results-nb/*/device_cells.csv 2>&1)"
left=$(leftovers)
[ -z "$left" ] && ok || bad "nothing left running after the failed cells" "$left"

# Device mode, dry run: the tunnel and each cell's gateway and device commands.
run rpi/run.sh --mode device --gateway-bin "$SB" --dry-run localhost "$TMP/tiny.ini"
expect_rc 0
expect_re out "^\+ .*ssh -n -N -o ExitOnForwardFailure=yes .*-R '127\.0\.0\.1:<board port>:127\.0\.0\.1:<port>' localhost$"
expect_re out "^\+ .*sealbench gateway --broker 'tcp://127\.0\.0\.1:<port>' .*--echo --suite chacha20-poly1305"
expect_re out "sealbench device --broker tcp://127\.0\.0\.1:<board port> .*--devices 2 --count 50 --warmup 5 --dataset datasets/vitals_tiny\.csv --encoding cbor --echo"

# ---- the same over a real ssh and rsync, where sshd is installed -------------------------------
# A private sshd on 127.0.0.1 (its own host key, config and authorized key, in $TMP), so that
# the ssh and rsync command lines, the remote quoting and the -R tunnel meet the real programs.
if [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null && command -v rsync >/dev/null && [ "$(id -u)" = 0 ]; then
    S=$TMP/sshd
    mkdir -p "$S" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$S/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$S/userkey"
    cp "$S/userkey.pub" "$S/authorized_keys"
    sport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "Port $sport" "ListenAddress 127.0.0.1" "HostKey $S/hostkey" "AuthorizedKeysFile $S/authorized_keys" \
        "PermitRootLogin prohibit-password" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
        "UsePAM no" "StrictModes no" "AllowTcpForwarding yes" "PidFile $TMP/pids/sshd" >"$S/sshd_config"
    /usr/sbin/sshd -f "$S/sshd_config" -E "$S/sshd.log"
    for _ in $(seq 1 50); do [ -s "$TMP/pids/sshd" ] && break; sleep 0.1; done
    real_ssh="ssh -p $sport -i $S/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
    dest=$(id -un)@127.0.0.1
    printf '[run]\nname = real\nwarmup = 5\n[defaults]\nbackend = sodium\nsuite = chacha20-poly1305\nqos = 1\npayload = size:100\nmessages = 100\ndevices = 2\ntopology = split\n' >"$TMP/real.ini"
    run env SSH="$real_ssh" RSYNC=rsync rpi/deploy.sh --binary "$SB" --dir "$S/board/sealbench" "$dest"
    expect_rc 0
    expect_has err "every library found, sealbench runs"
    cmp -s "$S/board/sealbench/sealbench" "$SB" && cmp -s "$S/board/sealbench/datasets/vitals_small.csv" datasets/vitals_small.csv &&
        ok || bad "binary and dataset copied by the real rsync" "$(ls -R "$S/board" 2>&1 | head)"
    run env SSH="$real_ssh" RSYNC=rsync rpi/run.sh --mode device --gateway-bin "$SB" --dir "$S/board/sealbench" --results "$TMP/real" "$dest" "$TMP/real.ini"
    expect_rc 0
    expect_has err "1 of 1 runs ok"
    line=$(tail -n 1 "$TMP"/real/*/device_cells.csv 2>/dev/null | cut -d, -f4,16,18,19,21)
    [ "$line" = "ok,210,210,210,200" ] && ok || bad "over a real ssh -R: 210 sent, echoed and opened, 200 RTTs" "${line:-no device_cells.csv}"
    grep -q "^tunnel: ssh -R (board 127.0.0.1:" "$TMP"/real/*/board.txt 2>/dev/null && ok || bad "board.txt: the tunnel" "$(cat "$TMP"/real/*/board.txt 2>&1)"
    ps -eo args= | grep -F -- "-R 127.0.0.1:" | grep -qF -- "-p $sport" && bad "the real tunnel closed" "$(ps -eo pid,args | grep -F -- "-p $sport")" || ok
    run env SSH="$real_ssh" RSYNC=rsync rpi/run.sh --no-micro --dir "$S/board/sealbench" --results "$TMP/real-board" "$dest" "$TMP/real.ini"
    expect_rc 0
    [ "$(grep -c ',ok,' "$TMP"/real-board/*/cells.csv 2>/dev/null)" = 1 ] && grep -q "^hostname: $(hostname)$" "$TMP"/real-board/*/board.txt &&
        ok || bad "board mode over real ssh: 1 cell ok, board.txt" "$(ls -R "$TMP/real-board" 2>&1 | head)"
    kill "$(cat "$TMP/pids/sshd")" 2>/dev/null
else
    skip "deploy and run over a real ssh and rsync: they need /usr/sbin/sshd (openssh-server), rsync and root"
fi

# ---- the Ansible fleet -------------------------------------------------------------------------
# JSON results: a message stays on one line (the YAML format of ansible.cfg folds long ones).
export ANSIBLE_CONFIG=$REPO/rpi/ansible/ansible.cfg ANSIBLE_LOCAL_TEMP=$TMP/ansible-tmp ANSIBLE_NOCOLOR=1 \
    ANSIBLE_CALLBACK_RESULT_FORMAT=json
if ! command -v ansible-playbook >/dev/null; then
    cmd="ansible-playbook"
    bad "ansible-playbook installed (scripts/install-deps.sh: ansible)" "not found"
else
    run ansible-playbook -i rpi/ansible/inventory.example.ini --syntax-check rpi/ansible/fleet.yml
    expect_rc 0
    expect_has out "playbook: rpi/ansible/fleet.yml"

    F=$TMP/fleet
    mkdir -p "$F"
    cat >"$F/inventory.ini" <<EOF
[boards]
board1 ansible_connection=local sealbench_dir=$F/board1
board2 ansible_connection=local sealbench_dir=$F/board2
[gateway]
gw ansible_connection=local sealbench_dir=$F/gw
[all:vars]
ansible_python_interpreter=/usr/bin/python3
EOF
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    fleet_vars=(-e "results_root=$F/results" -e sealbench_binary="$SB" -e broker_bind=127.0.0.1
        -e broker_address=127.0.0.1 -e broker_port="$port" -e devices_per_board=1 -e fleet_count=50
        -e fleet_warmup=5 -e fleet_start_delay_s=1 -e fleet_timeout_s=120 -e fleet_run=fleet-test)
    run ansible-playbook -i "$F/inventory.ini" rpi/ansible/fleet.yml "${fleet_vars[@]}"
    expect_rc 0
    expect_has out "2 boards x 1 devices x 55 messages: all sent and opened"
    R=$F/results/fleet-test
    check=$(python3 - "$R" "$(hostname)" <<'PY' 2>&1
import json, os, sys
r, host = sys.argv[1], sys.argv[2]
m = json.load(open(r + "/manifest.json"))
res = [len(m["boards"]), m["gateway"]["accepted"], m["gateway"]["devices"]]
for b in m["boards"]:
    d = json.load(open(os.path.join(r, b["folder"], "device.json")))
    txt = open(os.path.join(r, b["folder"], "board.txt")).read()
    res.append("%s:%s:%s:%s:%s:%s" % (b["host"], d["sent"], d["echoes"], b["first_device"],
                                      "hostname: " + host in txt, b["model"] != ""))
print(" ".join(map(str, res)))
PY
)
    [ "$check" = "2 110 2 board1:55:55:dev-0001:True:True board2:55:55:dev-0002:True:True" ] && ok ||
        bad "manifest: 2 boards, each 55 sent and echoed with its own device ids and named; gateway opened 110 from 2 devices" "$check"
    [ -s "$R/gateway/gateway.json" ] && [ -s "$R/boards/board1/device-samples.csv" ] && ok ||
        bad "the gateway's JSON and each board's samples fetched" "$(ls -R "$R" 2>&1)"
    stopped=1
    for f in "$F"/gw/results/fleet-test/gateway.pid "$F"/gw/results/fleet-test/broker.pid; do
        [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && stopped=0
    done
    [ -f "$F/gw/results/fleet-test/broker.pid" ] && [ $stopped = 1 ] && ok || bad "the broker and the gateway stopped" "still running"
    python3 -c 'import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0)' "$port" &&
        ok || bad "nothing listens on the fleet broker's port $port any more" "something does"
    grep -q "listen socket on port $port" "$R/gateway/mosquitto.log" 2>/dev/null && ok ||
        bad "the broker's log fetched, saying its port" "$(cat "$R/gateway/mosquitto.log" 2>&1 | head -n 5)"
    [ ! -e "$F/gw/results/fleet-test/keys" ] && [ ! -e "$F/board1/results/fleet-test/keys" ] && ok ||
        bad "the keys removed from every host" "$(ls "$F"/*/results/fleet-test/)"
    # The same run folder again is refused.
    run ansible-playbook -i "$F/inventory.ini" rpi/ansible/fleet.yml "${fleet_vars[@]}"
    expect_rc 2
    expect_has out "fleet-test exists; a run never writes into an existing folder"

    # A board without libcbor and PAPI (the canned ldd): stopped before anything starts.
    run env PATH="$TMP/canned:$PATH" ansible-playbook -i "$F/inventory.ini" rpi/ansible/fleet.yml \
        "${fleet_vars[@]/fleet-test/fleet-nolibs}"
    expect_rc 2
    expect_has out "lacks libcbor.so.0.8, libpapi.so.7.0, libsbnew.so.2"
    expect_has out "sudo apt-get install -y libcbor0.8 libpapi7.0"
    [ ! -e "$F/results/fleet-nolibs" ] && [ ! -e "$F/gw/results/fleet-nolibs" ] && ok ||
        bad "nothing started nor written for a fleet that failed its checks" "$(ls "$F/results" "$F/gw/results" 2>&1)"
fi

totals
[ "$failed" -eq 0 ]
