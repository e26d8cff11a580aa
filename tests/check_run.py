"""Checks a finished run folder (results/<run-id>/) against what the runner promises.

Usage: check_run.py RUN_DIR CELLS_FILE CONFIG [DATASET...]
CELLS_FILE lists the expected cell ids (`sealbench run --dry-run` output). Prints one line per
failed check and ends with "checks: N passed, N failed". Standard library only: it runs under
any Python 3, not just the analysis one.
"""
import csv
import hashlib
import io
import json
import os
import re
import sys

from checks import backends_file, check, close, quantile, summary, vector_overheads


# The Debian package behind each library the sealbench binary loaded, and behind the broker,
# against dpkg itself (asked here, not through the manifest): the package holds that file and
# is installed at that version. Under qemu-user with a private root (debian_package.root: a
# cross target dpkg cannot hold, scripts/install-deps.sh) the host's dpkg knows none of the
# target's packages: the root's own lists must agree instead.
# The backends' packages come from ciphers/backends.txt (its runtime column), for the backends the
# binary was built with.
PACKAGES = {("paho",): "libpaho-mqtt", ("mosquitto",): "mosquitto", ("papi",): "libpapi",
            ("jansson",): "libjansson", ("libcbor",): "libcbor", ("libcsv",): "libcsv",
            ("google_benchmark",): "libbenchmark", ("libinih",): "libinih"}


def check_packages(libs, built):
    import shutil
    import subprocess
    if not check(shutil.which("dpkg-query"), "dpkg-query found (sealbench supports Debian and Raspberry Pi OS)"):
        return
    known = backends_file()
    packages = {("backends", b): known[b]["runtime"] for b in built}
    packages.update(PACKAGES)
    for path, prefix in packages.items():
        e = libs
        for k in path:
            e = e.get(k) or {}
        d = e.get("debian_package")
        label = ".".join(path)
        if not check(isinstance(d, dict), f"libraries.{label}.debian_package ({e.get('debian_package_why')})"):
            continue
        check(d["name"].startswith(prefix), f"libraries.{label}: {d['name']} is a {prefix}* package")
        root = d.get("root")
        if root:
            pkgs = dict(l.split(" ", 1) for l in open(os.path.join(root, ".packages")).read().split("\n") if " " in l)
            check(pkgs.get(d["name"]) == d["version"], f"libraries.{label}: {d['name']} {d['version']} in {root}/.packages")
            held = [l.split("\t", 1)[0] for l in open(os.path.join(root, ".files")) if l.rstrip("\n").endswith("\t" + d["file"])]
            check(d["name"] in held, f"libraries.{label}: {d['name']} holds {d['file']} in {root}")
            continue
        got = subprocess.run(["dpkg-query", "-W", "-f=${Version}", d["name"]], capture_output=True, text=True).stdout
        check(got == d["version"], f"libraries.{label}: {d['name']} at {d['version']} (dpkg-query says {got!r})")
        files = subprocess.run(["dpkg-query", "-L", d["name"]], capture_output=True, text=True).stdout.split("\n")
        check(d["file"] in files, f"libraries.{label}: {d['name']} holds {d['file']}")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# Header + tag per suite, from the independent vectors (not from the code's suite table).
OVERHEAD = vector_overheads()


def show_log(run, cid, rep):
    """A failed cell's own log, so that a failure on a CI machine can be diagnosed from its
    output alone (the run folder is a temporary one)."""
    path = os.path.join(run, "logs", f"{cid}.r{rep}.log")
    try:
        with open(path, errors="replace") as f:
            tail = f.read().splitlines()[-15:]
    except OSError as e:
        print(f"        (no log: {e})")
        return
    print(f"        last lines of logs/{cid}.r{rep}.log:")
    for line in tail:
        print(f"        | {line}")


def main():
    run, cells_file, config = sys.argv[1:4]
    datasets = sys.argv[4:]
    expected = [l.split("\t")[0] for l in open(cells_file).read().splitlines() if l.strip()]
    rows = list(csv.DictReader(open(os.path.join(run, "cells.csv"))))
    header = open(os.path.join(run, "cells.csv")).readline().strip().split(",")
    check(header[:4] == ["run_id", "cell_id", "study", "repetition"], "cells.csv header starts with the identity columns")
    check(len(set(header)) == len(header), "no duplicate column")
    ids = [r["cell_id"] for r in rows]
    check(sorted(ids) == sorted(expected), f"every planned cell once: planned {len(expected)}, found {len(ids)}")
    for r in rows:
        cid = r["cell_id"]
        check(r["status"] == "ok", f"{cid}: status ok (error: {r['error']})")
        if r["status"] != "ok":
            show_log(run, cid, r.get("repetition", "1"))
            continue
        sent, got = int(r["messages_sent"]), int(r["messages_received"])
        check(sent == int(r["messages_per_device"]) * int(r["devices"]), f"{cid}: sent {sent} measured messages")
        if r["qos"] != "0":
            check(int(r["messages_lost"]) == 0 and got == sent, f"{cid}: nothing lost at QoS {r['qos']} ({got}/{sent})")
        check(int(r["rejected_total"]) == 0, f"{cid}: no rejects")
        if r["pad_bytes"] == "0":
            want = OVERHEAD[r["suite"]]
            check(float(r["overhead_bytes_mean"]) == want, f"{cid}: overhead {r['overhead_bytes_mean']} == 14 + tag = {want} (the vectors')")
        check(float(r["seal_ns_p50"]) > 0 and float(r["open_ns_p50"]) > 0, f"{cid}: seal and open timed")
        check(float(r["seal_ns_p50"]) <= float(r["seal_ns_p99"]), f"{cid}: seal p50 <= p99")
        if r["topology"] == "inproc":
            check(0 < float(r["e2e_us_p50"]) <= float(r["e2e_us_p95"]) <= float(r["e2e_us_p99"]) <= float(r["e2e_us_max"]),
                  f"{cid}: e2e quantiles ordered")
        else:
            check(float(r["rtt_us_p50"]) > 0 and r["e2e_us_p50"] == "", f"{cid}: split has round trips, no one-way latency")
        check(float(r["throughput_msgs_per_s"]) > 0, f"{cid}: throughput")
        check(int(r["handshakes"]) == int(r["devices"]) and float(r["handshake_ms_p50"]) > 0, f"{cid}: handshakes")
        check(int(r["handshake_bytes"]) == 2 * (8 + 16 + (32 if r["group"] == "x25519" else 65) + 32), f"{cid}: handshake bytes")
        check(float(r["cpu_user_s"]) + float(r["cpu_sys_s"]) > 0 and int(r["peak_rss_kb"]) > 0, f"{cid}: CPU and memory")
        # Counters: on this kind of machine (no PMU) empty with a reason; elsewhere real.
        if r["counters"] == "papi":
            check(float(r["cycles_per_msg"]) > 0, f"{cid}: cycles counted")
        else:
            check(r["cycles_per_msg"] == "" and len(r["counters"]) > 10, f"{cid}: no counters, and why")
        # The statistics must be recomputable from samples/.
        s = os.path.join(run, "samples", f"{cid}.r{r['repetition']}.csv")
        check(os.path.exists(s), f"{cid}: samples file")
        if not os.path.exists(s):
            continue
        sm = [x for x in csv.DictReader(open(s))]
        measured = [x for x in sm if x["warmup"] == "0"]
        check(len(sm) == sent + int(r["warmup_per_device"]) * int(r["devices"]), f"{cid}: one sample per message")
        check(len(measured) == sent, f"{cid}: measured samples")
        seal = [float(x["seal_ns"]) for x in measured]
        check(close(quantile(seal, 0.5), float(r["seal_ns_p50"])), f"{cid}: seal_ns_p50 recomputed from samples")
        if r["topology"] == "inproc":
            e2e = [float(x["e2e_ns"]) / 1e3 for x in measured if x["e2e_ns"]]
            check(close(quantile(e2e, 0.99), float(r["e2e_us_p99"])), f"{cid}: e2e_us_p99 recomputed from samples")
        ov = [int(x["wire_bytes"]) - int(x["plaintext_bytes"]) for x in measured]
        check(close(sum(ov) / len(ov), float(r["overhead_bytes_mean"])), f"{cid}: overhead recomputed")
    m = json.load(open(os.path.join(run, "manifest.json")))
    for k in ("schema", "run", "build", "libraries", "host", "config", "datasets", "seed", "broker", "plan"):
        check(k in m, f"manifest has {k}")
    check(m["run"]["status"] == "complete", f"manifest status complete ({m['run']['status']})")
    check(m["run"]["cells_done"] == len(expected) and m["run"]["cells_failed"] == 0, "manifest counts")
    # What the config asks for, read from its text (not from the manifest under test).
    nodelay = not re.search(r"^\s*tcp_nodelay\s*=\s*off\b", open(config).read(), re.M)
    check(m["plan"].get("tcp_nodelay") is nodelay, f"manifest plan.tcp_nodelay is {nodelay}")
    outs = []
    for name in sorted(os.listdir(os.path.join(run, "raw"))):
        o = json.load(open(os.path.join(run, "raw", name))).get("output") or {}
        for part in (o.get("pair") or {}).values() if "pair" in o else (o.get("device"), o.get("gateway")):
            if isinstance(part, dict) and "tcp_nodelay" in part:
                outs.append(part["tcp_nodelay"])
    check(outs and all(v is nodelay for v in outs),
          f"every device and gateway says tcp_nodelay {nodelay} ({len(outs)} said, {outs.count(not nodelay)} otherwise)")
    check(bool(m["build"]["git_describe"]), "git describe recorded")
    # The backends built: the manifest's own record, which its `sealbench list --csv` must agree
    # with; every backend of ciphers/backends.txt has an entry, built or not.
    built = m["build"]["backends"]
    offer = list(csv.DictReader(io.StringIO(m["offer"]["csv"])))
    check(built == [r["backend"] for r in offer if r["kind"] == "library" and r["status"] == "ok"],
          f"build.backends {built} are the libraries offer.csv says are ok")
    check(sorted(m["libraries"]["backends"]) == sorted(backends_file()),
          "libraries.backends has every backend of ciphers/backends.txt")
    for be, e in m["libraries"]["backends"].items():
        check(e["built"] == (be in built), f"libraries.backends.{be}.built is {be in built}")
        check(bool(e["version"]) == (be in built), f"{be} version recorded exactly when built")
    for r in offer:
        if r["kind"] == "suite":
            check(int(r["overhead_bytes"]) == OVERHEAD[r["name"]],
                  f"offer.csv {r['backend']} {r['name']}: overhead {r['overhead_bytes']} is the vectors' {OVERHEAD[r['name']]}")
    check(bool(m["libraries"]["paho"]["version"]) and bool(m["libraries"]["mosquitto"]["version"]), "Paho and Mosquitto versions")
    check_packages(m["libraries"], built)
    check(bool(m["host"]["cpu"]["model"]), "CPU model recorded")
    check(m["config"]["sha256"] == sha256(config), "config sha256")
    got = {os.path.normpath(d["path"]): d["sha256"] for d in m["datasets"]}
    for d in datasets:
        check(got.get(os.path.normpath(d)) == sha256(d), f"dataset {d} sha256")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
