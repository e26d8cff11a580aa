"""The paper's tables, computed from a Run (load.py) and rendered as LaTeX, Markdown, HTML and CSV.

Cells are chosen by factor values (suite, qos, rekey_messages, rate_hz, devices...), never by
study name, so any config's run gets every table; a table with no matching cells still exists
and says so in its one row. Cells with the same factors in several studies are one condition:
their samples are pooled and their cell ids listed. Each table keeps two frames: `display`
(formatted text for the paper) and `data` (unrounded numbers with the columns that identify a
row, written as the CSV) so that every figure can be recomputed from samples/ and cells.csv.
Latencies and per-message costs come from the per-message samples (warm-up dropped, type-7
quantiles, stats.py); throughput, CPU, memory and handshake figures from cells.csv, one value
per cell x repetition."""

import math

import numpy as np
import pandas as pd

from . import stats
from .load import SUITE_SIZES
from .tablekit import (
    CONDITION, NA, EMULATED_MARK, Table, _isnan, fmt, fmt_ns, fmt_us, fmt_ms, fmt_pct, fmt_signed,
    fmt_bytes, fmt_p, fmt_ci, fmt_range, _load_label, _rank, _sort, _mode, _insitu_cells,
    _varying, _ids, _levels, _caption, _empty, _dropped_why, _factor_text, _Messages, _med_ci,
    _per_rep, _med,
)


# ---------------------------------------------------------------------------------------------
# 1. seal_open_cost
# ---------------------------------------------------------------------------------------------

def _shown_sizes(sizes):
    """Micro sizes shown in the paper table: all when three or fewer, else the smallest, the
    largest and the one nearest their geometric mean (16, 64, 256 for the usual ladder)."""
    sizes = sorted(int(s) for s in sizes)
    if len(sizes) <= 3:
        return sizes
    lo, hi = sizes[0], sizes[-1]
    mid = min(sizes[1:-1], key=lambda s: abs(math.log(s) - (math.log(lo) + math.log(hi)) / 2))
    return [lo, mid, hi]


def _micro_telemetry(run):
    """micro.csv seal/open rows at telemetry sizes (1..256 bytes)."""
    m = run.micro
    if m is None or m.empty:
        return pd.DataFrame(columns=["op", "backend", "suite", "bytes", "status"]), []
    m = m[m["op"].isin(["seal", "open"]) & (m["bytes"] > 0) & (m["bytes"] <= 256)]
    return m, sorted(int(b) for b in m["bytes"].unique())


def _t_seal_open_cost(run, msgs):
    name, title = "seal_open_cost", "Per-message seal and open cost"
    micro, sizes = _micro_telemetry(run)
    shown = _shown_sizes(sizes)
    cells, payload = _insitu_cells(run)
    data = []
    for (be, su, b), g in micro.groupby(["backend", "suite", "bytes"]):
        rec = dict(backend=be, suite=su, source="micro", bytes=int(b), payload=f"size{int(b)}")
        whys = []
        for op in ("seal", "open"):
            r = g[g["op"] == op]
            if r.empty:
                continue
            r = r.iloc[0]
            rec[f"{op}_status"] = r["status"]
            if r["status"] == "ok":
                rec[f"{op}_ns_p50"] = r["ns_p50"]
                rec[f"{op}_ns_p25"] = r["ns_p25"]
                rec[f"{op}_ns_p75"] = r["ns_p75"]
                rec[f"{op}_ns_iqr"] = r["ns_p75"] - r["ns_p25"]
                rec[f"{op}_mb_per_s_p50"] = r.get("mb_per_s_p50", np.nan)
                rec[f"{op}_cv_pct"] = r.get("cv_pct", np.nan)
                rec["micro_repetitions"] = r.get("repetitions", np.nan)
            elif not _isnan(r.get("why")):
                whys.append(str(r["why"]))
        rec["why"] = "; ".join(dict.fromkeys(whys))
        data.append(rec)
    for (be, su), g in cells.groupby(["backend", "suite"]):
        seal = msgs.pool(g, "seal_ns")
        opn = msgs.pool(g, "open_ns")
        rec = dict(backend=be, suite=su, source="in-situ", payload=payload,
                   plaintext_bytes_mean=float(np.mean(msgs.pool(g, "plaintext_bytes"))),
                   n_seal=len(seal), n_open=len(opn), repetitions=len(g), cell_ids=_ids(g))
        rec["bytes"] = rec["plaintext_bytes_mean"]
        for op, x in (("seal", seal), ("open", opn)):
            mid, lo, hi = _med_ci(x)
            rec[f"{op}_ns_p50"], rec[f"{op}_ns_ci_lo"], rec[f"{op}_ns_ci_hi"] = mid, lo, hi
            rec[f"{op}_ns_p25"] = float(stats.quantile(x, 0.25))
            rec[f"{op}_ns_p75"] = float(stats.quantile(x, 0.75))
            rec[f"{op}_ns_iqr"] = rec[f"{op}_ns_p75"] - rec[f"{op}_ns_p25"]
        data.append(rec)
    cols = ["backend", "suite", "source", "bytes", "payload", "plaintext_bytes_mean", "seal_status",
            "open_status", "why", "seal_ns_p50", "seal_ns_p25", "seal_ns_p75", "seal_ns_iqr",
            "seal_ns_ci_lo", "seal_ns_ci_hi", "seal_mb_per_s_p50", "seal_cv_pct", "open_ns_p50",
            "open_ns_p25", "open_ns_p75", "open_ns_iqr", "open_ns_ci_lo", "open_ns_ci_hi",
            "open_mb_per_s_p50", "open_cv_pct", "micro_repetitions", "n_seal", "n_open",
            "repetitions", "cell_ids"]
    data = _sort(pd.DataFrame(data, columns=cols), ["backend", "suite", "source", "bytes"])
    pt = data.loc[data["source"] == "in-situ", "plaintext_bytes_mean"]
    pt_txt = f"{fmt_bytes(pt.mean())} B mean" if len(pt) else ""
    notes = [
        "Micro: micro.csv rows of ops seal and open at sizes of 1-256 bytes; ns p50 is the median "
        "over the microbenchmark's repetitions of the time per operation, IQR = ns_p75 - ns_p25, "
        "MB/s = mb_per_s_p50 (plaintext bytes per second); all sizes are in the CSV, the table "
        "shows " + (", ".join(f"{s} B" for s in shown) or "none") + ".",
        "In-situ: per-message seal_ns (every measured message) and open_ns (every measured message "
        "the gateway opened) pooled over all repetitions of the in-process cells with rekey_messages "
        f"0, rate_hz 0, devices 1, pad_bytes 0 and payload {payload} (any QoS, group, auth); median = type-7 "
        "quantile, [95% CI] = percentile bootstrap of the median (2000 resamples, seed 1).",
        "Cells in the table: p50 (IQR) in ns. n/a (why): the backend does not provide the suite.",
    ]
    insitu = f"in situ on {payload} payloads ({pt_txt})" if payload else "no in-situ cells in this run"
    caption = (f"Per-message seal and open cost by backend and suite: microbenchmark at telemetry "
               f"sizes, and {insitu}.")
    caption = _caption(run, caption)
    pairs = _sort(data[["backend", "suite"]].drop_duplicates(), ["backend", "suite"])
    disp_cols = (["Backend", "Suite"] + [f"{op} {s} B (ns)" for s in shown for op in ("seal", "open")]
                 + ([f"seal/open MB/s at {shown[-1]} B"] if shown else [])
                 + ["in-situ seal (ns) [95% CI]", "in-situ open (ns) [95% CI]"])
    if pairs.empty:
        return _empty(name, title, caption, disp_cols, cols,
                      "This run has no micro seal/open rows at 1-256 bytes and no in-situ cells "
                      "(rekey 0, rate 0, one device, no padding).", notes)
    rows = []
    for _, p in pairs.iterrows():
        be, su = p["backend"], p["suite"]
        d = data[(data["backend"] == be) & (data["suite"] == su)]
        row = [be, su]
        first_na = True
        for s in shown:
            m = d[(d["source"] == "micro") & (d["bytes"] == s)]
            for op in ("seal", "open"):
                if m.empty:
                    row.append(NA)
                    continue
                r = m.iloc[0]
                if r.get(f"{op}_status") == "ok":
                    row.append(f"{fmt_ns(r[f'{op}_ns_p50'])} ({fmt_ns(r[f'{op}_ns_iqr'])})")
                elif first_na and r["why"]:
                    row.append(f"n/a ({r['why']})")
                    first_na = False
                else:
                    row.append("n/a")
        if shown:
            m = d[(d["source"] == "micro") & (d["bytes"] == shown[-1])]
            if m.empty or m.iloc[0].get("seal_status") != "ok":
                row.append("n/a" if not m.empty else NA)
            else:
                r = m.iloc[0]
                row.append(f"{fmt(r['seal_mb_per_s_p50'], 0)} / {fmt(r['open_mb_per_s_p50'], 0)}")
        ins = d[d["source"] == "in-situ"]
        if ins.empty:
            why = _dropped_why(run, backend=be, suite=su)
            row += [f"n/a ({why})" if why else NA, "n/a" if why else NA]
        else:
            r = ins.iloc[0]
            row += [fmt_ci(r["seal_ns_p50"], r["seal_ns_ci_lo"], r["seal_ns_ci_hi"], fmt_ns),
                    fmt_ci(r["open_ns_p50"], r["open_ns_ci_lo"], r["open_ns_ci_hi"], fmt_ns)]
        rows.append(row)
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------
# 2. suite_ranking
# ---------------------------------------------------------------------------------------------

def _t_suite_ranking(run, msgs):
    name, title = "suite_ranking", "Suites ranked by in-situ seal + open cost"
    cells, payload = _insitu_cells(run)
    caption = _caption(run, f"Suites ranked per backend by in-situ seal + open time per message "
                            f"({payload} payloads), with a Mann-Whitney U test between "
                            f"neighbours.")
    notes = [
        "Cells: in-process topology, rekey_messages 0, rate_hz 0, devices 1, pad_bytes 0, payload "
        f"{payload}; all repetitions pooled (any QoS, group, auth).",
        "Per message: seal_ns + open_ns of each measured message that was opened. Rank by the type-7 "
        "median of these sums; [95% CI] = percentile bootstrap of the median (2000 resamples, seed 1).",
        "Each suite is tested against the one ranked just above it (two-sided Mann-Whitney U, "
        "scipy.stats.mannwhitneyu); r = rank-biserial correlation 2U/(n1 n2) - 1 = "
        "P(this > above) - P(this < above). Δ p50 = this median - the median above. The median of "
        "the per-message sums is not the sum of the seal and open medians.",
        "The messages of one cell are not independent (one process, consecutive messages), so p "
        "understates the uncertainty and with thousands of messages tiny shifts come out "
        "significant: read r and the intervals for size.",
    ]
    disp_cols = ["Backend", "Rank", "Suite", "seal+open p50 (ns) [95% CI]", "seal p50 (ns)",
                 "open p50 (ns)", "messages", "Δ p50 vs above (ns)", "p", "r", "vs above"]
    data_cols = ["backend", "rank", "suite", "seal_open_ns_p50", "seal_open_ns_ci_lo",
                 "seal_open_ns_ci_hi", "seal_ns_p50", "open_ns_p50", "n_messages", "vs_suite",
                 "delta_ns_p50", "mw_u", "mw_p", "rank_biserial_r", "significant_0_05",
                 "repetitions", "cell_ids"]
    if cells.empty:
        return _empty(name, title, caption, disp_cols, data_cols,
                      "This run has no cells with rekey 0, rate 0, one device and no padding.", notes)
    data, rows = [], []
    for be in sorted(cells["backend"].unique(), key=lambda v: _rank("backend", v)):
        per = []
        for su, g in cells[cells["backend"] == be].groupby("suite"):
            x = msgs.seal_plus_open(g)
            if len(x) == 0:
                continue
            per.append((float(stats.quantile(x, 0.5)), su, g, x))
        per.sort(key=lambda t: (t[0], _rank("suite", t[1])))
        prev = None
        for i, (mid, su, g, x) in enumerate(per, 1):
            _, lo, hi = _med_ci(x)
            rec = dict(backend=be, rank=i, suite=su, seal_open_ns_p50=mid, seal_open_ns_ci_lo=lo,
                       seal_open_ns_ci_hi=hi, seal_ns_p50=float(stats.quantile(msgs.pool(g, "seal_ns"), 0.5)),
                       open_ns_p50=float(stats.quantile(msgs.pool(g, "open_ns"), 0.5)),
                       n_messages=len(x), repetitions=len(g), cell_ids=_ids(g))
            verdict = ""
            if prev is not None:
                t = stats.mann_whitney(x, prev[3])
                sig = bool(t.p < 0.05)
                rec.update(vs_suite=prev[1], delta_ns_p50=mid - prev[0], mw_u=t.u, mw_p=t.p,
                           rank_biserial_r=t.r, significant_0_05=sig)
                verdict = (f"differs from {prev[1]} (p<0.05)" if sig
                           else f"not significantly different from {prev[1]} at 0.05")
            data.append(rec)
            rows.append([be, str(i), su, fmt_ci(mid, lo, hi, fmt_ns), fmt_ns(rec["seal_ns_p50"]),
                         fmt_ns(rec["open_ns_p50"]), fmt(len(x), 0),
                         fmt_signed(rec["delta_ns_p50"], 0) if prev else NA,
                         fmt_p(rec.get("mw_p")) if prev else NA,
                         fmt_signed(rec.get("rank_biserial_r"), 2) if prev else NA, verdict or NA])
            prev = (mid, su, g, x)
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols),
                 pd.DataFrame(data, columns=data_cols), notes)


# ---------------------------------------------------------------------------------------------
# 3. latency_throughput
# ---------------------------------------------------------------------------------------------

def _steady_cells(run, inproc_only=False):
    """Steady-state cells: no rekeying, no padding, the run's most common group and
    authentication (neither changes the per-message path), dataset payloads when the run has any."""
    c = run.cells
    sel = c[(c["rekey_messages"] == 0) & (c["pad_bytes"] == 0)]
    if inproc_only:
        sel = sel[sel["topology"] == "inproc"]
    if sel.empty:
        return sel, {}
    ds = sel[sel["encoding"] != "synthetic"]
    if len(ds):
        sel = ds
    group, auth = _mode(sel["group"]), _mode(sel["auth"])
    sel = sel[(sel["group"] == group) & (sel["auth"] == auth)]
    return sel, dict(group=group, auth=auth, datasets=bool(len(ds)))


def _t_latency_throughput(run, msgs):
    name, title = "latency_throughput", "End-to-end latency and throughput"
    sel, chosen = _steady_cells(run)
    caption = _caption(run, "End-to-end latency (µs; split topology: round trip) and throughput "
                            "by load, suite, QoS and backend.")
    notes = [
        "Cells: rekey_messages 0, pad_bytes 0, group "
        f"{chosen.get('group')}, auth {chosen.get('auth')}"
        + (", dataset payloads only (synthetic sizes are left out)" if chosen.get("datasets") else "")
        + "; cells with the same factors in different studies are pooled (their cell_ids and messages_per_device in the CSV).",
        "Latency: e2e_ns (seal start to open end, one clock) of every measured message the "
        "gateway opened, pooled over the row's cells and repetitions; split topology has no "
        "one-way clock and shows rtt_ns (seal start to the echo opened by the device) instead. "
        "p50/p95/p99 are type-7 quantiles; [95% CI] = percentile bootstrap of the median "
        "(2000 resamples, seed 1).",
        "Throughput: throughput_msgs_per_s of cells.csv (messages received / span from the first "
        "measured seal to the last measured open), one value per cell x repetition; median, "
        "min-max and CV (sample sd / mean) over those. lost % = 100 x sum(messages_lost) / "
        "sum(messages_sent).",
        "Saturated (rate 0) rows measure queueing under a full send loop, not the floor: their "
        "latency grows with the queue; paced rows are the latency at that message rate.",
    ]
    data_cols = (CONDITION + ["load", "latency", "n_messages", "repetitions", "e2e_us_p50",
                              "e2e_us_p50_ci_lo", "e2e_us_p50_ci_hi", "e2e_us_p95", "e2e_us_p99",
                              "rtt_us_p50", "rtt_us_p50_ci_lo", "rtt_us_p50_ci_hi", "rtt_us_p95",
                              "rtt_us_p99", "throughput_msgs_per_s_median",
                              "throughput_msgs_per_s_min", "throughput_msgs_per_s_max",
                              "throughput_cv_pct", "messages_sent", "messages_lost", "lost_pct",
                              "messages_per_device", "cell_ids"])
    extra = _varying(sel, ["payload", "devices", "topology"])
    disp_cols = (["Load", "Suite", "QoS", "Backend"]
                 + [{"payload": "Payload", "devices": "Devices", "topology": "Topology"}[e] for e in extra]
                 + ["p50 (µs) [95% CI]", "p95 (µs)", "p99 (µs)", "throughput (msg/s)",
                    "min–max (msg/s)", "CV (%)", "lost (%)"])
    if sel.empty:
        return _empty(name, title, caption, disp_cols, data_cols,
                      "This run has no cells without rekeying and padding.", notes)
    data = []
    for key, g in sel.groupby(CONDITION, dropna=False):
        rec = dict(zip(CONDITION, key))
        split = rec["topology"] == "split"
        pre = "rtt_us" if split else "e2e_us"
        lat = msgs.pool(g, "rtt_ns" if split else "e2e_ns", delivered_only=True) / 1e3
        mid, lo, hi = _med_ci(lat)
        thr = _per_rep(g, "throughput_msgs_per_s")
        sent, lost = g["messages_sent"].sum(), g["messages_lost"].sum()
        rec.update({"load": _load_label(rec["rate_hz"]), "latency": "rtt" if split else "e2e",
                    "n_messages": len(lat), "repetitions": len(g), f"{pre}_p50": mid,
                    f"{pre}_p50_ci_lo": lo, f"{pre}_p50_ci_hi": hi,
                    f"{pre}_p95": float(stats.quantile(lat, 0.95)),
                    f"{pre}_p99": float(stats.quantile(lat, 0.99)),
                    "throughput_msgs_per_s_median": _med(thr),
                    "throughput_msgs_per_s_min": float(np.nanmin(thr)) if len(thr) else np.nan,
                    "throughput_msgs_per_s_max": float(np.nanmax(thr)) if len(thr) else np.nan,
                    "throughput_cv_pct": stats.cv_pct(thr), "messages_sent": int(sent),
                    "messages_lost": int(lost), "lost_pct": 100.0 * lost / sent if sent else np.nan,
                    "messages_per_device": _levels(g, "messages_per_device"), "cell_ids": _ids(g)})
        data.append(rec)
    data = _sort(pd.DataFrame(data, columns=data_cols),
                 ["rate_hz", "payload", "devices", "topology", "suite", "qos", "backend"])
    rows = []
    for _, r in data.iterrows():
        pre = "rtt_us" if r["latency"] == "rtt" else "e2e_us"
        row = [r["load"], r["suite"], str(int(r["qos"])), r["backend"]]
        for e in extra:
            row.append({"payload": r["payload"], "devices": str(int(r["devices"])),
                        "topology": "split (RTT)" if r["topology"] == "split" else "inproc"}[e])
        row += [fmt_ci(r[f"{pre}_p50"], r[f"{pre}_p50_ci_lo"], r[f"{pre}_p50_ci_hi"], fmt_us),
                fmt_us(r[f"{pre}_p95"]), fmt_us(r[f"{pre}_p99"]),
                fmt(r["throughput_msgs_per_s_median"], 0),
                fmt_range(r["throughput_msgs_per_s_min"], r["throughput_msgs_per_s_max"], lambda v: fmt(v, 0)),
                fmt_pct(r["throughput_cv_pct"]) if r["repetitions"] > 1 else "n/a (1 run)",
                fmt_pct(r["lost_pct"])]
        rows.append(row)
    if (data["latency"] == "rtt").any() and "topology" not in extra:
        notes.append("Every row of this table is split topology: latencies are round trips (RTT).")
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------
# 4. overhead_encoding
# ---------------------------------------------------------------------------------------------

def _t_overhead_encoding(run, msgs):
    name, title = "overhead_encoding", "Payload overhead by encoding, padding and suite"
    c = run.cells
    caption = _caption(run, "Bytes added to each message by sealing (header, tag, padding), by "
                            "encoding and padding level, per suite: mean overhead in bytes (% "
                            "of the plaintext).")
    notes = [
        "From the per-message samples of every measured message of every cell (all backends, QoS, "
        "rates...: the overhead is a property of the format, and the backends agree): overhead = "
        "wire_bytes - plaintext_bytes; mean, min and max per message; overhead % = 100 x "
        "(mean wire - mean plaintext) / mean plaintext, as cells.csv's overhead_pct.",
        "Unpadded, the overhead is the header plus the tag (as the run's binary states them, "
        "sealbench list --csv: "
        + ", ".join(f"{s} {z['header_bytes']} + {z['tag_bytes']}"
                    for s, z in SUITE_SIZES.items() if s in set(c["suite"])) +
        " B). pad N: bodies padded to a multiple of N bytes; 'padding "
        "adds' in the CSV is the mean overhead minus the same payload and suite unpadded.",
        "distinct sizes (CSV): how many different plaintext and wire sizes were seen: what "
        "padding hides.",
    ]
    data_cols = ["encoding", "payload", "pad_bytes", "suite", "plaintext_bytes_mean",
                 "wire_bytes_mean", "overhead_bytes_mean", "overhead_bytes_min",
                 "overhead_bytes_max", "overhead_pct", "padding_adds_bytes",
                 "plaintext_sizes_distinct", "wire_sizes_distinct", "n_messages", "backends",
                 "cell_ids"]
    if c.empty:
        return _empty(name, title, caption, ["Encoding", "Payload", "Pad (B)", "plaintext (B)"],
                      data_cols, "This run has no ok cells.", notes)
    data = []
    for (enc, pay, pad, su), g in c.groupby(["encoding", "payload", "pad_bytes", "suite"]):
        pt = msgs.pool(g, "plaintext_bytes")
        wire = msgs.pool(g, "wire_bytes")
        ov = wire - pt
        data.append(dict(encoding=enc, payload=pay, pad_bytes=int(pad), suite=su,
                         plaintext_bytes_mean=pt.mean(), wire_bytes_mean=wire.mean(),
                         overhead_bytes_mean=ov.mean(), overhead_bytes_min=ov.min(),
                         overhead_bytes_max=ov.max(),
                         overhead_pct=100.0 * (wire.mean() - pt.mean()) / pt.mean() if pt.mean() else np.nan,
                         plaintext_sizes_distinct=len(np.unique(pt)),
                         wire_sizes_distinct=len(np.unique(wire)), n_messages=len(pt),
                         backends=";".join(sorted(g["backend"].unique(), key=lambda v: _rank("backend", v))),
                         cell_ids=_ids(g)))
    data = pd.DataFrame(data, columns=data_cols)
    for i, r in data.iterrows():
        base = data[(data["payload"] == r["payload"]) & (data["suite"] == r["suite"]) & (data["pad_bytes"] == 0)]
        if r["pad_bytes"] != 0 and len(base):
            data.loc[i, "padding_adds_bytes"] = r["overhead_bytes_mean"] - base["overhead_bytes_mean"].iloc[0]
    data = _sort(data, ["encoding", "payload", "pad_bytes", "suite"])
    suites = sorted(data["suite"].unique(), key=lambda v: _rank("suite", v))
    disp_cols = ["Encoding", "Payload", "Pad (B)", "plaintext (B)"] + [f"{s}: B (%)" for s in suites]
    rows = []
    for (enc, pay, pad), g in data.groupby(["encoding", "payload", "pad_bytes"], sort=False):
        w = g["n_messages"].to_numpy(dtype=float)
        pt = float(np.sum(g["plaintext_bytes_mean"] * w) / w.sum())
        row = [enc, pay, "none" if pad == 0 else str(int(pad)), fmt_bytes(pt)]
        for s in suites:
            r = g[g["suite"] == s]
            row.append(NA if r.empty else
                       f"{fmt_bytes(r['overhead_bytes_mean'].iloc[0])} ({fmt_pct(r['overhead_pct'].iloc[0])})")
        rows.append(row)
    notes.append("The plaintext column is the mean over all the row's messages (every suite).")
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------
# 5. handshake_cost
# ---------------------------------------------------------------------------------------------

_KEY_OPS = ["keygen", "ecdh", "handshake", "rekey"]


def _micro_key_ops(run):
    """micro.csv keygen/ecdh/handshake/rekey by (backend, group): {op: (ns_p50, status, why, suite)}."""
    out = {}
    m = run.micro
    if m is None or m.empty:
        return out
    for _, r in m[m["op"].isin(_KEY_OPS)].iterrows():
        out.setdefault((r["backend"], r["group"]), {})[r["op"]] = r
    return out


def _t_handshake_cost(run, msgs):
    name, title = "handshake_cost", "Handshake cost"
    c = run.cells
    micro = _micro_key_ops(run)
    caption = _caption(run, "First-handshake latency (HELLO sent to keys installed) and bytes "
                            "per group, backend and authentication, with the key operations "
                            "alone (microbenchmark).")
    notes = [
        "All ok cells, grouped by group, backend, auth and devices (concurrent handshakes queue, "
        "so fleet sizes are not pooled); every other factor is pooled.",
        "handshake p50 (ms): median over the cell x repetitions of handshake_ms_p50 (each the "
        "median over that run's devices; per-device times are not stored); max (ms): the largest "
        "handshake_ms_max. bytes: handshake_bytes (HELLO + ACCEPT MQTT payloads).",
        "keygen, ECDH, handshake, rekey (µs): micro.csv ns_p50 (median over the "
        "microbenchmark's repetitions) of one key generation, one shared-secret computation, and "
        "a whole handshake / rekey in memory (both roles, no network; the micro suite is in the CSV).",
    ]
    data_cols = (["group", "backend", "auth", "devices", "handshake_ms_p50", "handshake_ms_p50_min",
                  "handshake_ms_p50_max", "handshake_ms_max", "handshake_bytes", "handshakes",
                  "repetitions"]
                 + [f"micro_{op}_ns_p50" for op in _KEY_OPS] + ["micro_handshake_suite", "micro_why",
                                                                 "cell_ids"])
    data = []
    for (grp, be, au, dev), g in c.groupby(["group", "backend", "auth", "devices"]):
        p50 = _per_rep(g, "handshake_ms_p50")
        rec = dict(group=grp, backend=be, auth=au, devices=int(dev), handshake_ms_p50=_med(p50),
                   handshake_ms_p50_min=float(np.nanmin(p50)) if len(p50) else np.nan,
                   handshake_ms_p50_max=float(np.nanmax(p50)) if len(p50) else np.nan,
                   handshake_ms_max=float(np.nanmax(_per_rep(g, "handshake_ms_max"))),
                   handshake_bytes=float(g["handshake_bytes"].max()),
                   handshakes=float(g["handshakes"].sum()), repetitions=len(g), cell_ids=_ids(g))
        data.append(rec)
    have = {(r["backend"], r["group"]) for r in data}
    for (be, grp) in micro:
        if (be, grp) not in have:
            data.append(dict(group=grp, backend=be, auth=np.nan, devices=np.nan))
    for rec in data:
        ops = micro.get((rec["backend"], rec["group"]), {})
        whys = []
        for op in _KEY_OPS:
            r = ops.get(op)
            if r is None:
                continue
            if r["status"] == "ok":
                rec[f"micro_{op}_ns_p50"] = r["ns_p50"]
            elif not _isnan(r.get("why")):
                whys.append(str(r["why"]))
        if "handshake" in ops:
            rec["micro_handshake_suite"] = ops["handshake"]["suite"]
        rec["micro_why"] = "; ".join(dict.fromkeys(whys))
    data = _sort(pd.DataFrame(data, columns=data_cols), ["group", "backend", "auth", "devices"])
    varying_dev = data["devices"].dropna().nunique() > 1
    disp_cols = (["Group", "Backend", "Auth"] + (["Devices"] if varying_dev else [])
                 + ["handshake p50 (ms)", "max (ms)", "bytes", "keygen (µs)", "ECDH (µs)",
                    "handshake (µs)", "rekey (µs)"])
    if data.empty:
        return _empty(name, title, caption, disp_cols, data_cols,
                      "This run has no ok cells and no key-operation microbenchmarks.", notes)
    rows = []
    for _, r in data.iterrows():
        no_cells = _isnan(r["auth"])
        row = [r["group"], r["backend"], NA if no_cells else r["auth"]]
        if varying_dev:
            row.append(NA if no_cells else str(int(r["devices"])))
        if no_cells:
            why = _dropped_why(run, backend=r["backend"], group=r["group"])
            row += [f"n/a ({why})" if why else "n/a (no cell)", NA, NA]
        else:
            row += [fmt_ms(r["handshake_ms_p50"]), fmt_ms(r["handshake_ms_max"]), fmt_bytes(r["handshake_bytes"])]
        micro_na = True
        for op in _KEY_OPS:
            v = r[f"micro_{op}_ns_p50"]
            if _isnan(v) and r["micro_why"] and micro_na:
                row.append(f"n/a ({r['micro_why']})")
                micro_na = False
            elif _isnan(v):
                row.append("n/a" if r["micro_why"] else NA)
            else:
                row.append(fmt_us(v / 1e3))
        rows.append(row)
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------
# 6. rekey_throughput
# ---------------------------------------------------------------------------------------------

def _t_rekey_throughput(run, msgs):
    name, title = "rekey_throughput", "What rekeying costs"
    c = run.cells
    key = [f for f in CONDITION if f != "rekey_messages"] + ["messages_per_device"]
    caption = _caption(run, "Throughput against the rekey interval (a new handshake every N "
                            "messages), and the cost relative to never rekeying.")
    notes = [
        "Rows: every set of cells equal in all factors (and messages per device) but "
        "rekey_messages, when one of them rekeys; the baseline is rekey_messages 0 of the same "
        "backend, suite, group and other factors.",
        "throughput: median over cell x repetitions of throughput_msgs_per_s [min-max]; cost % = "
        "100 x (baseline median - median) / baseline median; '(noise)' marks a cost smaller than "
        "the larger throughput CV of the two.",
        "rekeys: median over repetitions of rekeys (all devices); rekey p50 (ms): median of "
        "rekey_ms_p50 (HELLO sent to new keys installed); rekey B per 1000 msgs: median of "
        "rekey_bytes_total / messages_sent x 1000.",
    ]
    data_cols = key + ["rekey_messages", "throughput_msgs_per_s_median", "throughput_msgs_per_s_min",
                       "throughput_msgs_per_s_max", "throughput_cv_pct",
                       "baseline_throughput_msgs_per_s", "baseline_throughput_cv_pct", "throughput_cost_pct", "rekeys_median",
                       "rekey_ms_p50", "rekey_ms_max", "rekey_bytes_per_1000_msgs",
                       "handshake_bytes", "repetitions", "cell_ids"]
    data = []
    for k, g in c.groupby(key, dropna=False):
        if not (g["rekey_messages"] > 0).any():
            continue
        levels = {}
        for rk, h in g.groupby("rekey_messages"):
            thr = _per_rep(h, "throughput_msgs_per_s")
            levels[int(rk)] = dict(zip(key, k), rekey_messages=int(rk),
                                   throughput_msgs_per_s_median=_med(thr),
                                   throughput_msgs_per_s_min=float(np.nanmin(thr)),
                                   throughput_msgs_per_s_max=float(np.nanmax(thr)),
                                   throughput_cv_pct=stats.cv_pct(thr),
                                   rekeys_median=_med(_per_rep(h, "rekeys")),
                                   rekey_ms_p50=_med(_per_rep(h, "rekey_ms_p50")),
                                   rekey_ms_max=float(np.nanmax(_per_rep(h, "rekey_ms_max")))
                                   if h["rekey_ms_max"].notna().any() else np.nan,
                                   rekey_bytes_per_1000_msgs=_med(h["rekey_bytes_total"].to_numpy(dtype=float)
                                                                  / h["messages_sent"].to_numpy(dtype=float) * 1000),
                                   handshake_bytes=float(h["handshake_bytes"].max()),
                                   repetitions=len(h), cell_ids=_ids(h))
        base = levels.get(0)
        for rec in levels.values():
            if base:
                b = base["throughput_msgs_per_s_median"]
                rec["baseline_throughput_msgs_per_s"] = b
                rec["baseline_throughput_cv_pct"] = base["throughput_cv_pct"]
                rec["throughput_cost_pct"] = 100.0 * (b - rec["throughput_msgs_per_s_median"]) / b if b else np.nan
            data.append(rec)
    data = _sort(pd.DataFrame(data, columns=data_cols),
                 ["backend", "suite", "group"] + [x for x in key if x not in ("backend", "suite", "group")]
                 + ["rekey_messages"])
    extra = _varying(data, [x for x in key if x not in ("backend", "suite", "group")])
    disp_cols = (["Backend", "Suite", "Group"] + extra
                 + ["rekey every (msgs)", "throughput (msg/s) [min–max]", "cost (%)", "rekeys",
                    "rekey p50 (ms)", "rekey B per 1000 msgs"])
    if data.empty:
        return _empty(name, title, caption, disp_cols, data_cols,
                      "This run has no cell that rekeys (rekey_messages > 0).", notes)
    rows = []
    for _, r in data.iterrows():
        row = [r["backend"], r["suite"], r["group"]] + [_factor_text(x, r[x]) for x in extra]
        rk = int(r["rekey_messages"])
        cost = r["throughput_cost_pct"]
        if rk == 0:
            cost_txt = "baseline"
        elif _isnan(cost):
            cost_txt = "n/a (no rekey-0 cell)"
        else:
            cost_txt = fmt_signed(cost, 1)
            cvs = [v for v in (r["throughput_cv_pct"], r["baseline_throughput_cv_pct"]) if not _isnan(v)]
            if cvs and abs(cost) < max(cvs):
                cost_txt += " (noise)"
        row += ["never" if rk == 0 else fmt(rk, 0),
                f"{fmt(r['throughput_msgs_per_s_median'], 0)} "
                f"[{fmt_range(r['throughput_msgs_per_s_min'], r['throughput_msgs_per_s_max'], lambda v: fmt(v, 0))}]",
                cost_txt, fmt(r["rekeys_median"], 0), fmt_ms(r["rekey_ms_p50"]),
                fmt(r["rekey_bytes_per_1000_msgs"], 0)]
        rows.append(row)
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------
# 7. cpu_memory
# ---------------------------------------------------------------------------------------------

def _t_cpu_memory(run, msgs):
    name, title = "cpu_memory", "CPU and memory"
    sel, chosen = _steady_cells(run, inproc_only=True)
    caption = _caption(run, "CPU and memory per suite and backend (devices and gateway in one "
                            "process).")
    notes = [
        "Cells: in-process topology (one process holds devices and gateway), rekey_messages 0, "
        f"pad_bytes 0, group {chosen.get('group')}, auth {chosen.get('auth')}"
        + (", dataset payloads only" if chosen.get("datasets") else "")
        + "; cells with equal factors in several studies pooled.",
        "Each figure is the median over the row's cell x repetitions of: CPU % = cpu_pct "
        "(100 x (user + system) / wall; 100 = one core); CPU µs/msg = (cpu_user_s + cpu_sys_s) / "
        "messages_received x 1e6; device thread µs/msg = device_thread_cpu_s / messages_sent x "
        "1e6; broker µs/msg = broker_cpu_s / messages_received x 1e6; peak RSS = peak_rss_kb; "
        "RSS/session = rss_per_session_kb.",
        "Process and thread CPU cover the cell's whole life (connect, handshakes, warm-up, drain), "
        "so per measured message they are upper bounds; the broker's CPU is read in clock ticks "
        "(10 ms), coarse for short cells.",
    ]
    data_cols = CONDITION + ["cpu_pct", "cpu_us_per_msg", "device_thread_us_per_msg",
                             "broker_cpu_us_per_msg", "peak_rss_kb", "rss_per_session_kb",
                             "repetitions", "messages_per_device", "cell_ids"]
    extra = _varying(sel, ["payload", "qos", "rate_hz", "devices"])
    disp_cols = (["Suite", "Backend"] + [{"payload": "Payload", "qos": "QoS", "rate_hz": "Load",
                                          "devices": "Devices"}[e] for e in extra]
                 + ["CPU (%)", "CPU µs/msg", "device thread µs/msg", "broker µs/msg",
                    "peak RSS (kB)", "RSS/session (kB)"])
    if sel.empty:
        return _empty(name, title, caption, disp_cols, data_cols,
                      "This run has no in-process cells without rekeying and padding.", notes)
    data = []
    for k, g in sel.groupby(CONDITION, dropna=False):
        got = g["messages_received"].to_numpy(dtype=float)
        got = np.where(got > 0, got, np.nan)
        sent = g["messages_sent"].to_numpy(dtype=float)
        sent = np.where(sent > 0, sent, np.nan)
        rec = dict(zip(CONDITION, k))
        rec.update(cpu_pct=_med(_per_rep(g, "cpu_pct")),
                   cpu_us_per_msg=_med((_per_rep(g, "cpu_user_s") + _per_rep(g, "cpu_sys_s")) / got * 1e6),
                   device_thread_us_per_msg=_med(_per_rep(g, "device_thread_cpu_s") / sent * 1e6),
                   broker_cpu_us_per_msg=_med(_per_rep(g, "broker_cpu_s") / got * 1e6),
                   peak_rss_kb=_med(_per_rep(g, "peak_rss_kb")),
                   rss_per_session_kb=_med(_per_rep(g, "rss_per_session_kb")),
                   repetitions=len(g), messages_per_device=_levels(g, "messages_per_device"),
                   cell_ids=_ids(g))
        data.append(rec)
    data = _sort(pd.DataFrame(data, columns=data_cols),
                 ["rate_hz", "qos", "payload", "suite", "backend", "devices"])
    rows = []
    for _, r in data.iterrows():
        rows.append([r["suite"], r["backend"]] + [_factor_text(e, r[e]) for e in extra]
                    + [fmt_pct(r["cpu_pct"]), fmt_us(r["cpu_us_per_msg"]),
                       fmt_us(r["device_thread_us_per_msg"]), fmt_us(r["broker_cpu_us_per_msg"]),
                       fmt(r["peak_rss_kb"], 0), fmt(r["rss_per_session_kb"], 1)])
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------
# 8. auth_psk
# ---------------------------------------------------------------------------------------------

def _t_auth_psk(run, msgs):
    name, title = "auth_psk", "With and without PSK authentication"
    c = run.cells
    key = [f for f in CONDITION if f != "auth"] + ["messages_per_device"]
    caption = _caption(run, "Handshakes authenticated by a pre-shared key against "
                            "unauthenticated ones, in cells equal in every other factor.")
    notes = [
        "Rows: pairs of cell sets equal in every factor (and messages per device) but auth, "
        "one psk and one none.",
        "handshake p50 (ms): median over cell x repetitions of handshake_ms_p50; bytes: "
        "handshake_bytes; throughput: median of throughput_msgs_per_s. Δ = psk - none (ms, bytes) "
        "and 100 x (psk - none) / none for throughput.",
    ]
    data_cols = key + ["psk_handshake_ms_p50", "none_handshake_ms_p50", "delta_handshake_ms_p50",
                       "delta_handshake_pct", "psk_handshake_bytes", "none_handshake_bytes",
                       "delta_handshake_bytes", "psk_throughput_msgs_per_s",
                       "none_throughput_msgs_per_s", "delta_throughput_pct", "psk_repetitions",
                       "none_repetitions", "psk_cell_ids", "none_cell_ids"]
    data = []
    for k, g in c.groupby(key, dropna=False):
        if set(g["auth"]) < {"psk", "none"}:
            continue
        rec = dict(zip(key, k))
        for au in ("psk", "none"):
            h = g[g["auth"] == au]
            rec[f"{au}_handshake_ms_p50"] = _med(_per_rep(h, "handshake_ms_p50"))
            rec[f"{au}_handshake_bytes"] = float(h["handshake_bytes"].max())
            rec[f"{au}_throughput_msgs_per_s"] = _med(_per_rep(h, "throughput_msgs_per_s"))
            rec[f"{au}_repetitions"] = len(h)
            rec[f"{au}_cell_ids"] = _ids(h)
        rec["delta_handshake_ms_p50"] = rec["psk_handshake_ms_p50"] - rec["none_handshake_ms_p50"]
        rec["delta_handshake_pct"] = 100.0 * rec["delta_handshake_ms_p50"] / rec["none_handshake_ms_p50"]
        rec["delta_handshake_bytes"] = rec["psk_handshake_bytes"] - rec["none_handshake_bytes"]
        rec["delta_throughput_pct"] = (100.0 * (rec["psk_throughput_msgs_per_s"] - rec["none_throughput_msgs_per_s"])
                                       / rec["none_throughput_msgs_per_s"])
        data.append(rec)
    data = _sort(pd.DataFrame(data, columns=data_cols),
                 ["backend", "group", "suite"] + [x for x in key if x not in ("backend", "group", "suite")])
    extra = _varying(data, [x for x in key if x not in ("backend", "group", "suite")])
    disp_cols = (["Backend", "Group", "Suite"] + extra
                 + ["handshake psk (ms)", "none (ms)", "Δ (ms)", "bytes psk", "none", "Δ (B)",
                    "throughput psk (msg/s)", "none (msg/s)", "Δ (%)"])
    if data.empty:
        return _empty(name, title, caption, disp_cols, data_cols,
                      "This run has no cells that differ only in authentication (psk and none).", notes)
    rows = []
    for _, r in data.iterrows():
        rows.append([r["backend"], r["group"], r["suite"]] + [_factor_text(x, r[x]) for x in extra]
                    + [fmt_ms(r["psk_handshake_ms_p50"]), fmt_ms(r["none_handshake_ms_p50"]),
                       fmt_signed(r["delta_handshake_ms_p50"], 2) + f" ({fmt_signed(r['delta_handshake_pct'], 1)} %)",
                       fmt_bytes(r["psk_handshake_bytes"]), fmt_bytes(r["none_handshake_bytes"]),
                       fmt_signed(r["delta_handshake_bytes"], 0),
                       fmt(r["psk_throughput_msgs_per_s"], 0), fmt(r["none_throughput_msgs_per_s"], 0),
                       fmt_signed(r["delta_throughput_pct"], 1)])
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------
# 9. noise
# ---------------------------------------------------------------------------------------------

_NOISE_METRICS = [("throughput_msgs_per_s", lambda v: fmt(v, 0)), ("seal_ns_p50", fmt_ns),
                  ("e2e_us_p50", fmt_us), ("rtt_us_p50", fmt_us)]


def _t_noise(run, msgs):
    name, title = "noise", "Noisy measurements"
    thr = stats.NOISY_CV_PCT
    c = run.cells
    data_cols = ["source", "cell_id", "op", "backend", "suite", "group", "bytes", "metric",
                 "cv_pct", "n", "value_min", "value_max"]
    data, undefined, checked = [], [], 0
    for cid, g in c.groupby("cell_id"):
        if len(g) < 2:
            undefined.append(cid)
            continue
        for metric, _f in _NOISE_METRICS:
            v = g[metric].to_numpy(dtype=float)
            v = v[~np.isnan(v)]
            if len(v) < 2:
                continue
            checked += 1
            cv = stats.cv_pct(v)
            if stats.is_noisy(cv):
                data.append(dict(source="cell", cell_id=cid, metric=metric, cv_pct=cv, n=len(v),
                                 value_min=v.min(), value_max=v.max()))
    micro_checked = 0
    if run.micro is not None and "cv_pct" in run.micro.columns:
        ok = run.micro[run.micro["status"] == "ok"]
        for _, r in ok.iterrows():
            if _isnan(r["cv_pct"]):
                continue
            micro_checked += 1
            if stats.is_noisy(r["cv_pct"]):
                data.append(dict(source="micro", op=r["op"], backend=r["backend"], suite=r["suite"],
                                 group=r["group"], bytes=r["bytes"], metric="ns_per_op",
                                 cv_pct=r["cv_pct"], n=r.get("repetitions", np.nan),
                                 value_min=r.get("ns_min", np.nan), value_max=r.get("ns_max", np.nan)))
    data = pd.DataFrame(data, columns=data_cols)
    # Worst first: the point of this table is what to distrust.
    data = data.sort_values(["source", "cv_pct"], ascending=[True, False], kind="mergesort").reset_index(drop=True)
    n_cell = int((data["source"] == "cell").sum())
    n_micro = int((data["source"] == "micro").sum())
    summary = (f"{n_cell} of {checked} cell metrics (cells with 2 or more repetitions) and "
               f"{n_micro} of {micro_checked} microbenchmark rows have a CV above {thr:g} %.")
    caption = _caption(run, f"Measurements whose spread across repetitions exceeds a CV of "
                            f"{thr:g} %: {summary}")
    notes = [
        "Cells: CV = sample standard deviation / mean x 100 (stats.cv_pct) across a cell's "
        "repetitions of throughput_msgs_per_s, seal_ns_p50 and e2e_us_p50 (split: rtt_us_p50), "
        "from cells.csv.",
        "Micro: micro.csv cv_pct (CV of the time per operation across the microbenchmark's "
        "repetitions).",
        summary,
    ]
    if undefined:
        notes.append(f"{len(undefined)} cell(s) have a single repetition: their CV across "
                     "repetitions is undefined and they are not checked.")
    disp_cols = ["Source", "What", "Metric", "CV (%)", "n", "range"]
    rows = []
    if undefined and len(undefined) == c["cell_id"].nunique():
        rows.append(["cell", f"all {len(undefined)} cells", "–",
                     "undefined", "1", "one repetition: CV across repetitions is undefined"])
    for _, r in data.iterrows():
        if r["source"] == "cell":
            what = r["cell_id"]
            f = dict(_NOISE_METRICS)[r["metric"]]
        else:
            what = " ".join(str(r[x]) for x in ("op", "backend", "suite", "group") if not _isnan(r[x]))
            what += f" {int(r['bytes'])} B" if not _isnan(r["bytes"]) and r["bytes"] else ""
            f = fmt_ns
        rows.append([r["source"], what, r["metric"], fmt_pct(r["cv_pct"]),
                     NA if _isnan(r["n"]) else str(int(r["n"])), fmt_range(r["value_min"], r["value_max"], f)])
    if not rows:
        rows.append(["–", f"nothing above {thr:g} %", "–", NA, NA, summary])
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes,
                 latex_max_rows=40)


# ---------------------------------------------------------------------------------------------
# 10. platforms
# ---------------------------------------------------------------------------------------------

def _run_header(r):
    s = f"{r.run_id}: {r.machine}"
    return s + (f" ({EMULATED_MARK})" if r.emulated else "")


def _micro_key(df):
    k = df[["op", "backend", "suite", "group", "bytes"]].copy()
    for col in ("suite", "group"):
        k[col] = k[col].fillna("")
    k["bytes"] = k["bytes"].astype(int)
    return k


def _micro_index(r):
    """{(op, backend, suite, group, bytes): ns_p50} of a run's ok microbenchmarks."""
    if r.micro is None:
        return {}
    ok = r.micro[r.micro["status"] == "ok"]
    return dict(zip(map(tuple, _micro_key(ok).to_numpy().tolist()), ok["ns_p50"].to_numpy(dtype=float)))


def _cond_keys(cells):
    """A text key of each cell's condition (numbers normalised, so 50 and 50.0 match across
    runs), for grouping and matching cells of different runs."""
    def norm(v):
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)
    return pd.Series(["|".join(norm(v) for v in row) for row in cells[CONDITION].itertuples(index=False)],
                     index=cells.index, dtype=object)


def _t_platforms(run, others, msgs):
    name, title = "platforms", "The same cells on other machines"
    runs = [run] + list(others)
    caption = _caption(run, "Matched microbenchmarks and cells on other machines ("
                       + "; ".join(_run_header(r) for r in runs[1:]) + ") beside this run, the reference of the ratios.")
    notes = [
        "Micro rows: micro.csv ns_p50 matched by op, backend, suite, group and bytes (seal/open at "
        "the telemetry sizes of seal_open_cost, and the key operations).",
        "Cell rows: the in-situ cells of this run (in-process, rekey 0, rate 0, one device, no "
        "padding, telemetry payload), matched in each other run by every factor but the study; each value "
        "is the median over cell x repetitions of the cells.csv column. ratio = other / this run.",
        "Emulated runs (qemu-user) time the emulator, not the board: they are marked and their "
        "timings are not board figures.",
    ]
    data = []
    # micro
    _, sizes = _micro_telemetry(run)
    shown = set(_shown_sizes(sizes))
    other_micro = {o.run_id: _micro_index(o) for o in others}
    other_cells = {o.run_id: {k: g for k, g in o.cells.groupby(_cond_keys(o.cells))} for o in others}
    if run.micro is not None:
        base = run.micro[run.micro["status"] == "ok"]
        base = base[(base["op"].isin(_KEY_OPS)) | (base["op"].isin(["seal", "open"]) & base["bytes"].isin(shown))]
        for key, v in _micro_index(run).items():
            if key not in set(map(tuple, _micro_key(base).to_numpy().tolist())):
                continue
            rec = dict(kind="micro", op=key[0], backend=key[1], suite=key[2] or np.nan,
                       group=key[3] or np.nan, bytes=key[4], metric="ns_p50",
                       **{f"value_{run.run_id}": v})
            found = False
            for o in others:
                ov = other_micro[o.run_id].get(key)
                if ov is not None:
                    found = True
                    rec[f"value_{o.run_id}"] = ov
                    rec[f"ratio_{o.run_id}"] = ov / v
            if found:
                data.append(rec)
    # cells
    cells, _payload = _insitu_cells(run)
    for k, g in cells.groupby(_cond_keys(cells)):
        cond = {f: g[f].iloc[0] for f in CONDITION}
        split = cond["topology"] == "split"
        for metric in ("seal_ns_p50", "open_ns_p50", "rtt_us_p50" if split else "e2e_us_p50",
                       "throughput_msgs_per_s"):
            rec = dict(kind="cell", metric=metric, **cond, **{f"value_{run.run_id}": _med(_per_rep(g, metric))})
            found = False
            for o in others:
                h = other_cells[o.run_id].get(k)
                if h is not None:
                    found = True
                    v = _med(_per_rep(h, metric))
                    rec[f"value_{o.run_id}"] = v
                    rec[f"ratio_{o.run_id}"] = v / rec[f"value_{run.run_id}"]
            if found:
                rec["cell_ids"] = _ids(g)
                data.append(rec)
    value_cols = [f"value_{r.run_id}" for r in runs] + [f"ratio_{o.run_id}" for o in others]
    data_cols = (["kind", "op", "metric"] + CONDITION + ["bytes"] + value_cols + ["cell_ids"])
    data = pd.DataFrame(data, columns=data_cols)
    data = _sort(data, ["kind", "backend", "suite", "group", "op", "bytes", "payload", "qos", "topology", "metric"])
    disp_cols = (["Kind", "What", "Metric", _run_header(run)]
                 + [h for o in others for h in (_run_header(o), f"ratio {o.run_id}")])
    if data.empty:
        return _empty(name, title, caption, disp_cols, data_cols,
                      "No microbenchmark or cell of this run was measured in the other runs.", notes)
    rows = []
    for _, r in data.iterrows():
        if r["kind"] == "micro":
            what = " ".join(str(r[x]) for x in ("op", "backend", "suite", "group") if not _isnan(r[x]))
            what += f" {int(r['bytes'])} B" if r["bytes"] else ""
            f = lambda v: fmt_ns(v) if v < 1e5 else fmt_us(v / 1e3) + " µs"
        else:
            what = f"{r['backend']} {r['suite']} QoS {int(r['qos'])} {r['payload']} {r['topology']}"
            f = {"seal_ns_p50": fmt_ns, "open_ns_p50": fmt_ns, "e2e_us_p50": fmt_us,
                 "rtt_us_p50": fmt_us, "throughput_msgs_per_s": lambda v: fmt(v, 0)}[r["metric"]]
        row = [r["kind"], what, r["metric"], f(r[f"value_{run.run_id}"])]
        for o in others:
            v = r[f"value_{o.run_id}"]
            row += [NA if _isnan(v) else f(v), NA if _isnan(r[f"ratio_{o.run_id}"]) else f"{r[f'ratio_{o.run_id}']:.2f}×"]
        rows.append(row)
    return Table(name, title, caption, pd.DataFrame(rows, columns=disp_cols), data, notes)


# ---------------------------------------------------------------------------------------------

def build_tables(run, others=()):
    """Every table of `run`, in the paper's order; `others` (other runs) add the platforms table
    when one of them ran on another machine."""
    msgs = _Messages(run)
    tables = [
        _t_seal_open_cost(run, msgs),
        _t_suite_ranking(run, msgs),
        _t_latency_throughput(run, msgs),
        _t_overhead_encoding(run, msgs),
        _t_handshake_cost(run, msgs),
        _t_rekey_throughput(run, msgs),
        _t_cpu_memory(run, msgs),
        _t_auth_psk(run, msgs),
        _t_noise(run, msgs),
    ]
    foreign = [o for o in others if o.machine != run.machine or o.emulated != run.emulated]
    if foreign:
        tables.append(_t_platforms(run, foreign, msgs))
    return tables
