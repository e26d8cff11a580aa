"""A new run against a reference run, cell by cell (make compare).

Cells are matched by their factors, not by cell id, so a run of another config (quick.ini against
the paper reference, say) is compared wherever it measured the same thing; repetitions of the same
factors in several studies are pooled. Each metric has a tolerance drawn from the spread actually
measured: three pooled standard deviations across repetitions of both runs (for microbenchmarks,
three IQR-derived sigmas), never less than a floor per metric, because one repetition has no
spread and a 2-core VM is noisy. Byte counts are protocol facts and must match exactly."""

import math

import numpy as np
import pandas as pd

from .load import FACTORS

# metric -> (floor as a fraction of the reference, exact?, "higher is better"?)
CELL_METRICS = {
    "seal_ns_p50": (0.10, False, False),
    "open_ns_p50": (0.10, False, False),
    "e2e_us_p50": (0.10, False, False),
    "e2e_us_p99": (0.20, False, False),
    "rtt_us_p50": (0.10, False, False),
    "throughput_msgs_per_s": (0.10, False, True),
    "handshake_ms_p50": (0.15, False, False),
    "rekey_ms_p50": (0.15, False, False),
    "cpu_us_per_msg": (0.10, False, False),
    "peak_rss_kb": (0.05, False, False),
    "overhead_bytes_mean": (0.0, True, False),
    "wire_bytes_mean": (0.0, True, False),
    "handshake_bytes": (0.0, True, False),
    "messages_lost": (0.0, True, False),
}
MICRO_KEY = ["op", "backend", "suite", "group", "bytes"]
MICRO_FLOOR = 0.10
SIGMAS = 3.0


def _with_derived(cells):
    c = cells.copy()
    # Group keys must compare equal to themselves: an empty factor (NaN) would not.
    for k in _key_cols(c):
        c[k] = c[k].fillna("")
    got = c["messages_received"].where(c["messages_received"] > 0)
    c["cpu_us_per_msg"] = (c["cpu_user_s"] + c["cpu_sys_s"]) * 1e6 / got
    return c


def _key_cols(df):
    # The study is a name, not a factor of the measurement.
    return [f for f in FACTORS if f != "study" and f in df.columns] + \
        [c for c in ("messages_per_device",) if c in df.columns]


def _tolerance(ref_vals, new_vals, floor_frac, exact):
    ref_med = float(np.median(ref_vals))
    if exact:
        return 0.0, "exact"
    spreads = [np.var(v, ddof=1) * (len(v) - 1) for v in (ref_vals, new_vals) if len(v) > 1]
    dof = sum(len(v) - 1 for v in (ref_vals, new_vals) if len(v) > 1)
    floor = floor_frac * abs(ref_med)
    if dof > 0:
        sd = math.sqrt(sum(spreads) / dof)
        if SIGMAS * sd > floor:
            return SIGMAS * sd, f"{SIGMAS:g} sd of repetitions"
    return floor, f"floor {floor_frac * 100:g}%"


def compare_cells(ref, new):
    """Rows: key, metric, reference, new, change %, tolerance, moved. Also unmatched cells."""
    rc, nc = _with_derived(ref.cells), _with_derived(new.cells)
    keys = _key_cols(rc)
    rows = []
    ref_groups = {k: g for k, g in rc.groupby(keys, dropna=False)}
    only_new = []
    for k, g in nc.groupby(keys, dropna=False):
        r = ref_groups.get(k)
        if r is None:
            only_new.append(k)
            continue
        label = g["cell_id"].iloc[0].split(".", 1)[1]
        for metric, (floor, exact, higher_better) in CELL_METRICS.items():
            if metric not in g.columns or metric not in r.columns:
                continue
            a = r[metric].dropna().to_numpy(dtype=float)
            b = g[metric].dropna().to_numpy(dtype=float)
            if len(a) == 0 or len(b) == 0:
                continue
            ra, nb = float(np.median(a)), float(np.median(b))
            tol, why = _tolerance(a, b, floor, exact)
            diff = nb - ra
            moved = abs(diff) > tol + (1e-9 if exact else 0)
            change = 100.0 * diff / ra if ra else (0.0 if diff == 0 else math.inf)
            worse = (diff < 0) if higher_better else (diff > 0)
            rows.append(dict(what=label, metric=metric, reference=ra, new=nb, change_pct=change,
                             tolerance=tol, tolerance_from=why, n_ref=len(a), n_new=len(b),
                             moved=moved, direction=("worse" if worse else "better") if moved else ""))
    new_keys = {kk for kk, _ in nc.groupby(keys, dropna=False)}
    only_ref = [k for k in ref_groups if k not in new_keys]
    return pd.DataFrame(rows), only_new, only_ref


def compare_micro(ref, new):
    if ref.micro is None or new.micro is None:
        return pd.DataFrame()
    a = ref.micro[ref.micro["status"] == "ok"].fillna({"group": "", "suite": ""})
    b = new.micro[new.micro["status"] == "ok"].fillna({"group": "", "suite": ""})
    m = a.merge(b, on=MICRO_KEY, suffixes=("_ref", "_new"))
    rows = []
    for _, x in m.iterrows():
        ra, nb = float(x["ns_p50_ref"]), float(x["ns_p50_new"])
        # An IQR of a normal sample is 1.349 sigma; the runs' own spread, not a guess.
        sd = max(float(x["ns_p75_ref"] - x["ns_p25_ref"]), float(x["ns_p75_new"] - x["ns_p25_new"])) / 1.349
        tol, why = MICRO_FLOOR * ra, f"floor {MICRO_FLOOR * 100:g}%"
        if SIGMAS * sd > tol:
            tol, why = SIGMAS * sd, f"{SIGMAS:g} sigma from IQR"
        diff = nb - ra
        what = " ".join(str(x[k]) for k in MICRO_KEY if str(x[k]) not in ("", "nan", "0"))
        rows.append(dict(what="micro " + what, metric="ns_p50", reference=ra, new=nb,
                         change_pct=100.0 * diff / ra if ra else math.inf, tolerance=tol,
                         tolerance_from=why, n_ref=int(x["repetitions_ref"]), n_new=int(x["repetitions_new"]),
                         moved=abs(diff) > tol, direction=("worse" if diff > 0 else "better") if abs(diff) > tol else ""))
    return pd.DataFrame(rows)


def machine_differences(ref, new):
    """What differs between the two machines; timings are only comparable when nothing does."""
    out = []
    if ref.arch != new.arch:
        out.append(f"arch {ref.arch} vs {new.arch}")
    if ref.emulated != new.emulated:
        out.append(f"emulated {ref.emulated} vs {new.emulated}")
    rm = ref.manifest.get("host", {}).get("cpu", {}).get("model")
    nm = new.manifest.get("host", {}).get("cpu", {}).get("model")
    if rm != nm:
        out.append(f"CPU '{rm}' vs '{nm}'")
    rl = ref.manifest.get("libraries", {}).get("backends", {})
    nl = new.manifest.get("libraries", {}).get("backends", {})
    for be in sorted(set(rl) | set(nl)):
        a, b = rl.get(be, {}).get("version"), nl.get(be, {}).get("version")
        if a != b:
            out.append(f"{be} {a} vs {b}")
    return out


def nagle(run):
    """'on' or 'off': Nagle's algorithm on the run's MQTT client sockets. A manifest without
    plan.tcp_nodelay predates the setting, when the clients kept Paho's default (on)."""
    nodelay = run.manifest.get("plan", {}).get("tcp_nodelay")
    return "off" if nodelay else "on"


def setting_differences(ref, new):
    """Run settings that change transport timings whatever the machine."""
    out = []
    if nagle(ref) != nagle(new):
        out.append(f"Nagle's algorithm {nagle(new)} in the run, {nagle(ref)} in the reference "
                   "(handshake, rekey and QoS 2 latencies move by up to 40 ms per exchange)")
    return out
