#!/usr/bin/env bash
# rpi/run.sh: runs an experiment config on a board prepared by rpi/deploy.sh and brings the
# results back into results/<board>-<config name>-<UTC time>/, with board.txt saying which board
# (model from /proc/device-tree/model, OS, kernel, governor, throttling before and after).
#   --mode board   the whole run on the board: `sealbench run CONFIG` there, private broker there.
#   --mode device  the board is the device, this machine the broker and the gateway: a broker here
#                  (`sealbench broker`, which listens on 127.0.0.1 only, reached from the board
#                  through an `ssh -R` tunnel; or --broker URI), and for every cell of the config
#                  a gateway here and `sealbench device` on the board.
# Usage and options: rpi/run.sh --help. Helpers (ssh, rsync, the board probe) are deploy.sh's.
set -euo pipefail

SB_PROG=run
# shellcheck source=deploy.sh
. "$(dirname "${BASH_SOURCE[0]}")/deploy.sh"

run_usage() {
    cat <<EOF
usage: rpi/run.sh [OPTIONS] HOST CONFIG

Runs the experiment config CONFIG (experiments/configs/*.ini, or any file: it is copied to the
board first) on HOST, a board that rpi/deploy.sh has prepared, and copies the results back
into results/<board hostname>-<config name>-<UTC time>/ with board.txt naming the board.

Modes:
  --mode board    (default) 'sealbench run CONFIG' on the board, private Mosquitto there (the
                  board needs the mosquitto package). The run folder is the runner's own:
                  manifest.json, cells.csv, samples/, raw/, logs/ (results/README.md);
                  'make analyze RUN=...' reads it.
  --mode device   the board runs the devices, this machine the broker and the gateway. For
                  every cell x repetition of the config (the board's own plan): a gateway here
                  ('sealbench gateway --echo'), 'sealbench device --echo' on the board. The
                  broker is 'sealbench broker' here, which listens on 127.0.0.1 only, so the
                  board reaches it through 'ssh -R' (every message and echo crosses the ssh
                  connection: see rpi/README.md on what that adds to round trips); --broker
                  URI uses a broker both machines reach instead. The folder holds raw/ (each
                  process's JSON), samples/, logs/, device_cells.csv (one row per cell x
                  repetition), run.json and board.txt.

Options:
  --mode M          board or device (above)
  --dir DIR         sealbench's folder on the board (default ~/sealbench, as deploy.sh)
  --results DIR     local parent of the run folder (default results)
  --out DIR         the local run folder itself (must not exist)
  --resume RUN      board mode: complete the interrupted run RUN (its folder name)
  --no-micro        board mode: skip the config's [micro] section
  --broker URI      device mode: a broker both this machine and the board reach (no tunnel)
  --gateway-bin F   device mode: the gateway's binary here (default build/native/sealbench)
  --dry-run         print the commands instead of running them
  --help            this text

Environment: SSH (default ssh) and RSYNC (default rsync), with any options, as deploy.sh.

Exit status: 0 every cell ok; 1 some cell failed, the run was interrupted, or a step failed
(the line says which, where, and what to do); 2 a usage error or a bad config.
EOF
}

# ---- the config, read on this machine (device mode) --------------------------------------------

# plan CONFIG DRYRUN_OUTPUT: one tab-separated line per cell x repetition, in the order to run:
# order rep cell backend suite group auth payload_args pad qos rekey rate devices messages warmup
# limit_s. The cells come from the board's own `sealbench run --dry-run` (what its libraries can
# run); the messages, warm-up and payload files, which a cell id does not carry, from the config
# (experiments/README.md: a study's key over [defaults] over the built-in default).
device_plan() {
    python3 - "$1" "$2" <<'PY'
import configparser, os, random, re, shlex, sys
conf_path, dry_path = sys.argv[1], sys.argv[2]
cp = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=", ":"),
                               comment_prefixes=("#", ";"), inline_comment_prefixes=(";",))
cp.optionxform = str
with open(conf_path, encoding="utf-8-sig") as f:
    cp.read_file(f)

def get(section, key):
    return cp.get(section, key).strip() if cp.has_section(section) and cp.has_option(section, key) else None

def levels(v):
    return [x.strip() for x in re.split(r"[,\n]", v) if x.strip()]

dry = open(dry_path).read().splitlines()
# The plan's header is on the runner's stderr, its cells on stdout: over ssh their order varies.
heads = [m for m in (re.match(r"^\S+: \d+ cells? x (\d+) repetitions?", l) for l in dry) if m]
if not heads:
    sys.exit("run: no 'NAME: N cells x R repetitions' line in the plan: %r" % dry[:3])
reps = int(heads[0].group(1))
cells = []
for line in dry:
    mm = re.match(r"^(\S+)\t([0-9.]+) s$", line)
    if mm:
        cells.append((mm.group(1), float(mm.group(2))))
if not cells:
    sys.exit("run: the plan lists no cell")

seed = int(get("run", "seed") or 1)
order = get("run", "order") or "shuffled"
runs = [(rep, c) for rep in range(1, reps + 1) for c in cells]
if order == "shuffled":
    random.Random(seed).shuffle(runs)

for n, (rep, (cell, est)) in enumerate(runs, 1):
    f = cell.split(".")
    if len(f) < 12:
        sys.exit("run: unexpected cell id %r" % cell)
    study = ".".join(f[:-11])
    backend, suite, group, auth, payload, pad, qos, rekey, rate, dev, topo = f[-11:]
    sec = "study " + study
    if not cp.has_section(sec):
        sec = "defaults"   # a config without [study ...] is one study named after [run] name
    def factor(key, default=None):
        v = get(sec, key)
        if v is None:
            v = get("defaults", key)
        return v if v is not None else default
    messages = factor("messages", "1000")
    warmup = factor("warmup")
    if warmup is None:
        warmup = get("run", "warmup") or "0"
    if payload.startswith("size") and payload[4:].isdigit():
        pargs = "--size " + payload[4:]
    else:
        pargs = None
        for lv in levels(factor("payload", "size:256")):
            if lv.startswith("dataset:"):
                path, enc = lv[len("dataset:"):].rsplit(":", 1)
                label = re.sub(r"[^A-Za-z0-9_-]", "_", os.path.splitext(os.path.basename(path))[0]) + "-" + enc
                if label == payload:
                    pargs = "--dataset %s --encoding %s" % (shlex.quote(path), enc)
        if pargs is None:
            sys.exit("run: cell %s: no payload level of the config gives %r" % (cell, payload))
    ratev = rate[4:].replace("p", ".")
    limit = int(60 + 20 * est)
    print("\t".join(str(x) for x in (n, rep, cell, backend, suite, group, auth, pargs, pad[3:], qos[3:],
                                     rekey[5:], ratev, dev[3:], messages, warmup, limit)))
PY
}

# device_summary OUT: device_cells.csv from raw/ and samples/ (measured messages only: the
# warm-up ones are marked in the samples and left out, as in sealbench run).
device_summary() {
    python3 - "$1" <<'PY'
import csv, glob, json, math, os, sys
out = sys.argv[1]
def q(xs, p):  # type 7, as common/stats.c
    if not xs:
        return ""
    xs = sorted(xs)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return round(xs[lo] + (h - lo) * (xs[hi] - xs[lo]), 3)
def load(p):
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
plan = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "plan.tsv"))]
status = {}
if os.path.exists(os.path.join(out, "status.tsv")):
    for l in open(os.path.join(out, "status.tsv")):
        k, rc, why = (l.rstrip("\n").split("\t") + ["", ""])[:3]
        status[k] = (rc, why)
cols = ["cell_id", "repetition", "run_order", "status", "error", "backend", "suite", "group", "auth",
        "payload", "qos", "devices", "messages_per_device", "warmup_per_device", "device_exit",
        "sent", "published_ok", "echoes", "gateway_accepted", "gateway_rejected_total",
        "measured_rtts", "rtt_us_p50", "rtt_us_p95", "rtt_us_p99", "rtt_us_mean",
        "seal_ns_p50", "handshake_ms_p50", "handshake_ms_max", "publish_msgs_per_s"]
with open(os.path.join(out, "device_cells.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for p in plan:
        order, rep, cell = p[0], p[1], p[2]
        key = "%s.r%s" % (cell, rep)
        d = load(os.path.join(out, "raw", key + "-device.json")) or {}
        g = load(os.path.join(out, "raw", key + "-gateway.json")) or {}
        rc, why = status.get(key, ("", "not run"))
        rtts, seals = [], []
        sp = os.path.join(out, "samples", key + ".csv")
        if os.path.exists(sp):
            for r in csv.DictReader(open(sp)):
                if r.get("warmup") == "1":
                    continue
                if r.get("rtt_ns"):
                    rtts.append(float(r["rtt_ns"]) / 1000)
                if r.get("seal_ns"):
                    seals.append(float(r["seal_ns"]))
        hs = d.get("handshake_latency") or {}
        ok = rc == "0" and not why
        w.writerow([cell, rep, order, "ok" if ok else "failed", why, p[3], p[4], p[5], p[6], cell.split(".")[-7],
                    p[9], p[12], p[13], p[14], rc, d.get("sent", ""), d.get("published_ok", ""),
                    d.get("echoes", ""), g.get("accepted", ""),
                    sum((g.get("rejected") or {}).values()) if g else "",
                    len(rtts), q(rtts, .5), q(rtts, .95), q(rtts, .99),
                    round(sum(rtts) / len(rtts), 3) if rtts else "", q(seals, .5),
                    hs.get("p50_ms", ""), hs.get("max_ms", ""), d.get("publish_msgs_per_s", "")])
PY
}

# ---- helpers -----------------------------------------------------------------------------------

# The config as the board sees it: in-repo configs keep their path (deploy.sh copied them, and
# run.sh copies the local file again so the board runs what is here); others go to configs-local/.
config_remote_path() {
    local abs=$1
    case $abs in
        "$SB_REPO"/*) printf '%s' "${abs#"$SB_REPO"/}" ;;
        *) printf 'configs-local/%s' "$(basename "$abs")" ;;
    esac
}

board_txt() { # file mode config extra-lines...
    local f=$1 mode=$2 config=$3
    shift 3
    {
        printf 'board: %s\n' "${BOARD[name]}"
        printf 'ssh destination: %s\n' "$HOST"
        printf 'hostname: %s\n' "${BOARD[hostname]:-}"
        printf 'model: %s\n' "${BOARD[model]:-}"
        printf 'arch: %s (uname -m %s)\n' "${BOARD[dpkg_arch]:-?}" "${BOARD[uname_m]:-?}"
        printf 'os: %s\n' "${BOARD[os]:-}"
        printf 'kernel: %s\n' "${BOARD[kernel]:-}"
        printf 'cpus: %s\n' "${BOARD[cpus]:-}"
        printf 'governor: %s\n' "${BOARD[governor]:-}"
        printf 'mode: %s\n' "$mode"
        printf 'config: %s (sha256 %s)\n' "$config" "$(sha256sum "$CONFIG_ABS" | cut -d' ' -f1)"
        printf '%s\n' "$@"
        if [ -n "${DEPLOYED:-}" ]; then
            printf 'deployed (%s/deployed.txt):\n' "$(remote_dir_shown "$DIR")"
            sed 's/^/  /' <<<"$DEPLOYED"
        fi
    } >"$f"
}

throttle_warning() {
    case $1 in
        0x0 | unknown*) ;;
        *) say "warning: ${BOARD[name]} reports throttling $1 (vcgencmd get_throttled; 0x0 is none): its figures are not those of its nominal clock; see rpi/README.md, cooling" ;;
    esac
}

# ---- main --------------------------------------------------------------------------------------

MODE=board DIR=sealbench RESULTS=results OUT="" RESUME="" NO_MICRO=0 BROKER_URI="" GW_BIN=""
HOST="" CONFIG=""
while [ $# -gt 0 ]; do
    case $1 in
        --help | -h) run_usage; exit 0 ;;
        --mode | --dir | --results | --out | --resume | --broker | --gateway-bin)
            [ $# -ge 2 ] || usage_error "$1 needs a value"
            case $1 in
                --mode) MODE=$2 ;;
                --dir) DIR=$2 ;;
                --results) RESULTS=$2 ;;
                --out) OUT=$2 ;;
                --resume) RESUME=$2 ;;
                --broker) BROKER_URI=$2 ;;
                --gateway-bin) GW_BIN=$2 ;;
            esac
            shift 2 ;;
        --no-micro) NO_MICRO=1; shift ;;
        --dry-run) SB_DRY_RUN=1; shift ;;
        --) shift; break ;;
        -*) usage_error "unknown option '$1'" ;;
        *)
            if [ -z "$HOST" ]; then HOST=$1
            elif [ -z "$CONFIG" ]; then CONFIG=$1
            else usage_error "unexpected argument '$1' (HOST and CONFIG are already '$HOST' and '$CONFIG')"
            fi
            shift ;;
    esac
done
for a in "$@"; do
    if [ -z "$HOST" ]; then HOST=$a
    elif [ -z "$CONFIG" ]; then CONFIG=$a
    else usage_error "unexpected argument '$a'"
    fi
done
[ -n "$HOST" ] && [ -n "$CONFIG" ] || usage_error "give HOST (an ssh destination) and CONFIG (e.g. experiments/configs/quick.ini)"
case $MODE in
    board | device) ;;
    *) usage_error "--mode is board or device, not '$MODE'" ;;
esac
[ -z "$RESUME" ] || [ "$MODE" = board ] || usage_error "--resume is for --mode board (the runner resumes its own runs)"
[ -z "$BROKER_URI" ] || [ "$MODE" = device ] || usage_error "--broker is for --mode device (board mode uses a private broker on the board)"
[ -z "$RESUME" ] || [ -z "$OUT" ] || usage_error "--resume RUN and --out DIR exclude each other"
[ -f "$CONFIG" ] || die 2 "config '$CONFIG' not found (from $(pwd))" "give a path such as experiments/configs/quick.ini"
CONFIG_ABS=$(cd "$(dirname "$CONFIG")" && pwd)/$(basename "$CONFIG")
CONFIG_REMOTE=$(config_remote_path "$CONFIG_ABS")
DIR=$(remote_dir_norm "$DIR")
QDIR=$(printf '%q' "$DIR")
SHOWN_DIR=$(remote_dir_shown "$DIR")
if [ "$SB_DRY_RUN" = 0 ]; then
    have "${RSYNC_CMD[0]}" || die 1 "'${RSYNC_CMD[0]}' not found on this machine (results come back with rsync)" \
        "install it: sudo apt-get install rsync (or set RSYNC)"
    have "${SSH_CMD[0]}" || die 1 "'${SSH_CMD[0]}' not found on this machine" "install it: sudo apt-get install openssh-client (or set SSH)"
fi
SSH_E=$(quoted "${SSH_CMD[@]}")
STAMP=$(date -u +%Y%m%dT%H%M%SZ)

# The board: what it is, and whether deploy.sh has been there.
if [ "$SB_DRY_RUN" = 1 ]; then
    printf '+ %s  # the board: hostname, model, arch, governor, throttling\n' "$(quoted "${SSH_CMD[@]}" "$HOST" '<probe>')"
    BOARD=([name]="<board>" [hostname]="<board>")
else
    probe_board "$HOST"
    DEPLOYED=$(remote "$HOST" "cat $QDIR/deployed.txt 2>/dev/null; test -x $QDIR/sealbench" 2>/dev/null) ||
        die 1 "$HOST has no $SHOWN_DIR/sealbench" "deploy first: rpi/deploy.sh $HOST"
    case ${BOARD[governor]:-} in
        performance | none*) ;;
        *) say "note: ${BOARD[name]}'s governor is '${BOARD[governor]}', not performance: frequency ramps add noise (rpi/README.md)" ;;
    esac
    throttle_warning "${BOARD[throttled]:-unknown}"
fi
THROTTLED_BEFORE=${BOARD[throttled]:-unknown}

# The config goes over every time, so the board runs the file that is here.
do_cmd "${SSH_CMD[@]}" "$HOST" "mkdir -p $QDIR/$(dirname "$CONFIG_REMOTE") $QDIR/results"
do_cmd "${RSYNC_CMD[@]}" -a -e "$SSH_E" "$CONFIG_ABS" "$HOST:$DIR/$CONFIG_REMOTE" ||
    die 1 "copying $CONFIG to $HOST:$SHOWN_DIR/$CONFIG_REMOTE failed (rsync above)" "check the disk there (df -h)"

# The board's plan (also checks the config against the board's libraries and datasets).
QCONF=$(printf '%q' "$CONFIG_REMOTE")
if [ "$SB_DRY_RUN" = 1 ]; then
    do_cmd "${SSH_CMD[@]}" "$HOST" "cd $QDIR && ./sealbench run $QCONF --dry-run"
    PLAN_OUT=$("${GW_BIN:-$SB_REPO/build/native/sealbench}" run "$CONFIG" --dry-run 2>&1) || PLAN_OUT="<config>: plan"
else
    PLAN_OUT=$(remote "$HOST" "cd $QDIR && ./sealbench run $QCONF --dry-run" 2>&1) ||
        die 2 "the board refuses the config: $(grep -v '^\s*$' <<<"$PLAN_OUT" | head -n 3 | tr '\n' ' ')" \
            "fix $CONFIG, or rerun rpi/deploy.sh $HOST if its datasets or binary are stale"
fi
NAME=$(sed -nE 's/^([^ :]+): [0-9]+ cells? x [0-9]+ repetition.*/\1/p' <<<"$PLAN_OUT" | head -n 1)
[ -n "$NAME" ] || NAME=$(basename "$CONFIG" .ini)
if [ -n "$RESUME" ]; then
    RUN_ID=$(basename "$RESUME")
else
    RUN_ID=${BOARD[name]}-$NAME-$STAMP
fi
[ -n "$OUT" ] || OUT=$RESULTS/$RUN_ID
if [ -z "$RESUME" ] && [ -e "$OUT" ]; then
    die 2 "$OUT exists; a run never writes into an existing folder" "give another --out, or move it away"
fi
QRUN=$(printf '%q' "results/$RUN_ID")

# ---- board mode: the runner on the board -------------------------------------------------------
if [ "$MODE" = board ]; then
    if [ "$SB_DRY_RUN" = 0 ] && [ "${BOARD[mosquitto]:-}" = no ]; then
        die 1 "$HOST has no mosquitto (board mode runs a private broker on the board)" \
            "install it there: ssh $HOST sudo apt-get install -y mosquitto; or use --mode device"
    fi
    run_args="--progress lines"
    [ "$NO_MICRO" = 1 ] && run_args+=" --no-micro"
    if [ -n "$RESUME" ]; then
        run_args+=" --resume $QRUN"
    else
        run_args+=" --out $QRUN"
    fi
    tty=()
    [ -t 0 ] && [ -t 1 ] && tty=(-t) # so that Ctrl-C reaches the runner, which then stops cleanly
    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    [ "$SB_DRY_RUN" = 1 ] || say "${BOARD[name]} (${BOARD[model]:-?}): sealbench run $CONFIG_REMOTE into $SHOWN_DIR/results/$RUN_ID"
    rc=0
    do_cmd "${SSH_CMD[@]}" "${tty[@]}" "$HOST" "cd $QDIR && ./sealbench run $QCONF $run_args" || rc=$?
    finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if [ "$SB_DRY_RUN" = 0 ]; then
        after=$(remote "$HOST" 'vcgencmd get_throttled 2>/dev/null | sed "s/^throttled=//"' 2>/dev/null || true)
        [ -n "$after" ] || after="unknown (no vcgencmd)"
        if ! remote "$HOST" "cd $QDIR && test -d $QRUN" </dev/null 2>/dev/null; then
            die 1 "sealbench run on $HOST left no $SHOWN_DIR/results/$RUN_ID (exit $rc; its messages are above)" \
                "check the config and the board (ssh $HOST), then run again"
        fi
        mkdir -p "$OUT"
    fi
    do_cmd "${RSYNC_CMD[@]}" -a -e "$SSH_E" "$HOST:$DIR/results/$RUN_ID/" "$OUT/" ||
        die 1 "copying $HOST:$SHOWN_DIR/results/$RUN_ID back to $OUT failed (rsync above); the run is still on the board" \
            "copy it by hand: rsync -a $HOST:$SHOWN_DIR/results/$RUN_ID/ $OUT/"
    [ "$SB_DRY_RUN" = 1 ] && exit 0
    board_txt "$OUT/board.txt" "board (sealbench run on the board, private broker on the board)" "$CONFIG_REMOTE" \
        "run: $RUN_ID" "started: $started" "finished: $finished" "runner exit: $rc" \
        "throttled before: $THROTTLED_BEFORE" "throttled after: $after"
    throttle_warning "$after"
    say "results in $OUT (board ${BOARD[name]}: ${BOARD[model]:-?}; board.txt); the board keeps its copy in $SHOWN_DIR/results/$RUN_ID"
    [ $rc -eq 1 ] && say "some cells failed or the run was interrupted; complete it with: rpi/run.sh --resume $RUN_ID $HOST $CONFIG"
    say "tables and figures: make analyze RUN=$OUT WITH=<a run of another machine>"
    exit $rc
fi

# ---- device mode: broker and gateway here, devices on the board -------------------------------
[ -n "$GW_BIN" ] || GW_BIN=$SB_REPO/build/native/sealbench
[ -x "$GW_BIN" ] || die 1 "the gateway's binary $GW_BIN is not there" "build it with 'make', or give --gateway-bin FILE"
have python3 || die 1 "python3 not found on this machine (device mode reads the config with it)" "install it: sudo apt-get install python3"

WORK=$(mktemp -d)
chmod 700 "$WORK"
BROKER_PID="" TUNNEL_PID="" GW_PID="" KEYS_REMOTE="" KEYS_NAME=.keys-$RUN_ID
cleanup() {
    set +e
    if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
        kill -INT "$GW_PID"; sleep 0.5; kill -KILL "$GW_PID" 2>/dev/null
    fi
    [ -n "$TUNNEL_PID" ] && kill "$TUNNEL_PID" 2>/dev/null
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null # it stops its Mosquitto and removes its folder
    [ -n "$TUNNEL_PID" ] && wait "$TUNNEL_PID" 2>/dev/null
    [ -n "$BROKER_PID" ] && wait "$BROKER_PID" 2>/dev/null
    [ -n "$KEYS_REMOTE" ] && remote "$HOST" "rm -f $KEYS_REMOTE" </dev/null >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

printf '%s\n' "$PLAN_OUT" >"$WORK/dry"
device_plan "$CONFIG_ABS" "$WORK/dry" >"$WORK/plan" || die 2 "cannot expand $CONFIG for device mode (above)" "check the config with: sealbench run $CONFIG --dry-run"
ncells=$(grep -c '' "$WORK/plan")
maxdev=$(cut -f13 "$WORK/plan" | sort -n | tail -n 1)

# Keys: made here, sent to the board's folder readable by the login only, removed at the end.
if [ "$SB_DRY_RUN" = 1 ]; then
    do_cmd "$GW_BIN" keys --devices "$maxdev"
    do_cmd "${SSH_CMD[@]}" "$HOST" "umask 077 && cat > $QDIR/$KEYS_NAME"
else
    (umask 077 && "$GW_BIN" keys --devices "$maxdev" >"$WORK/keys")
    KEYS_REMOTE="$QDIR/$KEYS_NAME"
    remote "$HOST" "umask 077 && cat > $KEYS_REMOTE" <"$WORK/keys" ||
        die 1 "could not write the keys file on $HOST ($SHOWN_DIR)" "check the disk there (df -h)"
fi

# The broker, and how each side reaches it.
TUNNEL="none (--broker)"
if [ -n "$BROKER_URI" ]; then
    URI_HERE=$BROKER_URI URI_BOARD=$BROKER_URI
elif [ "$SB_DRY_RUN" = 1 ]; then
    do_cmd "$GW_BIN" broker
    do_cmd "${SSH_CMD[@]}" -n -N -o ExitOnForwardFailure=yes -o ServerAliveInterval=15 -R "127.0.0.1:<board port>:127.0.0.1:<port>" "$HOST"
    URI_HERE="tcp://127.0.0.1:<port>" URI_BOARD="tcp://127.0.0.1:<board port>" TUNNEL="ssh -R"
else
    "$GW_BIN" broker >"$WORK/broker.out" 2>"$WORK/broker.err" &
    BROKER_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^uri ' "$WORK/broker.out" 2>/dev/null && break
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.1
    done
    URI_HERE=$(sed -n 's/^uri //p' "$WORK/broker.out")
    [ -n "$URI_HERE" ] || die 1 "sealbench broker did not start here: $(tail -n 1 "$WORK/broker.err")" \
        "check that mosquitto is installed here (scripts/install-deps.sh)"
    port=${URI_HERE##*:}
    # The board's 127.0.0.1:RPORT leads through the ssh connection to our 127.0.0.1:PORT. RPORT
    # is chosen here, among ports free on the board (ssh's own choice, -R 0:..., is only told at
    # log level INFO, which SSH's options may silence); ExitOnForwardFailure ends ssh should the
    # port be taken meanwhile, and another is tried.
    rport=""
    for _ in 1 2 3 4 5; do
        cand=$((20000 + RANDOM % 40000))
        remote "$HOST" "bash -c '(exec 3<>/dev/tcp/127.0.0.1/$cand) 2>/dev/null && exit 1; exit 0'" </dev/null || continue
        "${SSH_CMD[@]}" -n -N -o ExitOnForwardFailure=yes -o ServerAliveInterval=15 \
            -R "127.0.0.1:$cand:127.0.0.1:$port" "$HOST" 2>"$WORK/tunnel.log" &
        TUNNEL_PID=$!
        if remote "$HOST" "bash -c 'for i in \$(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$cand) 2>/dev/null && exit 0; sleep 0.2; done; exit 1'" </dev/null &&
            sleep 0.3 && kill -0 "$TUNNEL_PID" 2>/dev/null; then
            rport=$cand
            break
        fi
        kill "$TUNNEL_PID" 2>/dev/null
        wait "$TUNNEL_PID" 2>/dev/null
        TUNNEL_PID=""
    done
    [ -n "$rport" ] || die 1 "the ssh tunnel to $HOST did not open (ssh -R, 5 tries): $(tail -n 1 "$WORK/tunnel.log")" \
        "check 'AllowTcpForwarding yes' in the board's /etc/ssh/sshd_config and that bash is there; or give --broker URI"
    URI_BOARD=tcp://127.0.0.1:$rport TUNNEL="ssh -R (board 127.0.0.1:$rport -> here 127.0.0.1:$port)"
fi

if [ "$SB_DRY_RUN" = 0 ]; then
    mkdir -p "$OUT/raw" "$OUT/samples" "$OUT/logs"
    cp "$WORK/plan" "$OUT/plan.tsv"
    : >"$OUT/status.tsv"
    remote "$HOST" "mkdir -p $QDIR/$QRUN/samples" </dev/null ||
        die 1 "could not make $SHOWN_DIR/results/$RUN_ID on $HOST" "check the disk there (df -h)"
    if [ -n "$BROKER_URI" ]; then
        say "${BOARD[name]} (${BOARD[model]:-?}) as the device, this machine as gateway, broker $BROKER_URI: $ncells runs into $OUT"
    else
        say "${BOARD[name]} (${BOARD[model]:-?}) as the device, this machine as broker and gateway ($TUNNEL): $ncells runs into $OUT"
    fi
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
failed=0
while IFS=$'\t' read -r order rep cell backend suite group auth pargs pad qos rekey rate devs messages warmup limit; do
    key=$cell.r$rep
    common=(--prefix "sealbench/$RUN_ID/$order" --backend "$backend" --qos "$qos")
    [ "$pad" != 0 ] && common+=(--pad "$pad")
    if [ "$auth" = psk ]; then keys_here=(--keys "$WORK/keys") keys_board="--keys $KEYS_NAME"
    else keys_here=(--no-auth) keys_board="--no-auth"; fi
    gw=("$GW_BIN" gateway --broker "$URI_HERE" "${common[@]}" "${keys_here[@]}" --echo --suite "$suite" --group "$group"
        --samples "$OUT/samples/$key-gateway.csv")
    dev="cd $QDIR && timeout $limit ./sealbench device --broker $URI_BOARD ${common[*]} $keys_board --suite $suite --group $group"
    dev+=" --devices $devs --count $messages --warmup $warmup $pargs --echo --samples results/$RUN_ID/samples/$key.csv --counters"
    [ "$rekey" != 0 ] && dev+=" --rekey-messages $rekey"
    [ "$rate" != 0 ] && dev+=" --rate $rate"
    if [ "$SB_DRY_RUN" = 1 ]; then
        do_cmd "${gw[@]}"
        do_cmd "${SSH_CMD[@]}" "$HOST" "$dev"
        continue
    fi
    why="" drc=""
    "${gw[@]}" >"$OUT/raw/$key-gateway.json" 2>"$OUT/logs/$key-gateway.log" &
    GW_PID=$!
    ready=0
    for _ in $(seq 1 300); do
        if grep -q 'gateway: ready on' "$OUT/logs/$key-gateway.log"; then ready=1; break; fi
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ $ready = 1 ]; then
        drc=0
        remote "$HOST" "$dev" </dev/null \
            >"$OUT/raw/$key-device.json" 2>"$OUT/logs/$key.log" || drc=$?
        [ "$drc" = 0 ] || why="the device on ${BOARD[name]} exited $drc: $(tail -n 1 "$OUT/logs/$key.log")"
        [ "$drc" = 124 ] && why="the device on ${BOARD[name]} took longer than $limit s and was stopped"
    else
        why="the gateway did not get ready: $(tail -n 1 "$OUT/logs/$key-gateway.log")"
    fi
    kill -INT "$GW_PID" 2>/dev/null || true # it prints its JSON and samples, then exits
    for _ in $(seq 1 200); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
    GW_PID=""
    printf '%s\t%s\t%s\n' "$key" "$drc" "$why" >>"$OUT/status.tsv"
    if [ -n "$why" ]; then
        failed=$((failed + 1))
        printf '[%s/%s] %s: failed: %s\n' "$order" "$ncells" "$key" "$why" >&2
    else
        printf '[%s/%s] %s: ok\n' "$order" "$ncells" "$key" >&2
    fi
done <"$WORK/plan"
finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)

do_cmd "${RSYNC_CMD[@]}" -a -e "$SSH_E" "$HOST:$DIR/results/$RUN_ID/samples/" "$OUT/samples/" ||
    die 1 "copying the device samples back from $HOST:$SHOWN_DIR/results/$RUN_ID failed (rsync above)" \
        "copy them by hand: rsync -a $HOST:$SHOWN_DIR/results/$RUN_ID/samples/ $OUT/samples/"
[ "$SB_DRY_RUN" = 1 ] && exit 0

after=$(remote "$HOST" 'vcgencmd get_throttled 2>/dev/null | sed "s/^throttled=//"' </dev/null 2>/dev/null || true)
[ -n "$after" ] || after="unknown (no vcgencmd)"
device_summary "$OUT"
board_txt "$OUT/board.txt" "device (devices on the board; broker and gateway on $(hostname))" "$CONFIG_REMOTE" \
    "run: $RUN_ID" "started: $started" "finished: $finished" "broker: $URI_HERE here, $URI_BOARD on the board" \
    "tunnel: $TUNNEL" "throttled before: $THROTTLED_BEFORE" "throttled after: $after"
python3 - "$OUT/run.json" "$RUN_ID" "$CONFIG_REMOTE" "$URI_HERE" "$URI_BOARD" "$TUNNEL" "$started" "$finished" \
    "$ncells" "$failed" "${BOARD[name]}" "${BOARD[model]:-}" "$(hostname)" <<'PY'
import json, sys
a = sys.argv[1:]
json.dump({"run_id": a[1], "mode": "device", "config": a[2], "broker_here": a[3], "broker_board": a[4],
           "tunnel": a[5], "started": a[6], "finished": a[7], "runs": int(a[8]), "failed": int(a[9]),
           "board": {"name": a[10], "model": a[11]}, "gateway_host": a[12],
           "files": {"device_cells.csv": "one row per cell x repetition", "raw/": "each process's JSON",
                     "samples/": "per message (device: seal, rtt; -gateway: opens)", "logs/": "stderr",
                     "board.txt": "the board"}}, open(a[0], "w"), indent=2)
PY
throttle_warning "$after"
say "results in $OUT (board ${BOARD[name]}: ${BOARD[model]:-?}; device_cells.csv, board.txt): $((ncells - failed)) of $ncells runs ok"
[ "$failed" = 0 ] || exit 1
