#!/usr/bin/env python3
"""Checks the analysis of a run against the run itself, recomputing with the standard library
only (no pandas, no numpy), so a mistake in the analysis' own arithmetic cannot hide here.

Usage: check_analysis.py RUN ANALYSIS_DIR REPORT_HTML
Ends with "checks: N passed, N failed"."""

import csv
import gzip
import os
import re
import sys
from collections import defaultdict

from checks import check, close, quantile, summary, vector_overheads


def same(a, b, rel=1e-9):
    """Equal but for float printing: the tables keep every digit in their CSV."""
    return close(a, b, rel)

TABLES = ["seal_open_cost", "suite_ranking", "latency_throughput", "overhead_encoding",
          "handshake_cost", "rekey_throughput", "cpu_memory", "auth_psk", "noise"]
FIGURES = ["latency_cdf", "cost_vs_size", "overhead_vs_size", "throughput_vs_rekey"]
MACROS = ["SBRunId", "SBMachine", "SBArch", "SBEmulated", "SBCells", "SBRunsDone", "SBRunsFailed",
          "SBRepetitions", "SBGit", "SBCompiler", "SBOpenSSL", "SBSodium", "SBMbedTLS", "SBPaho",
          "SBMosquitto", "SBPAPI", "SBCounters", "SBConfig", "SBConfigSha", "SBSeed", "SBStarted",
          "SBWallMin", "SBKernel", "SBOS", "SBCPUFlags", "SBNagle"]
# Header + tag per suite, from the independent vectors (not from the code's suite table).
OVERHEAD = vector_overheads()


def fmt(v, decimals):
    """The tables' number format: thin-space thousands from 10 000 up."""
    s = f"{abs(v):.{decimals}f}"
    ip, _, fp = s.partition(".")
    if len(ip) > 4:
        ip = "{:,}".format(int(ip)).replace(",", "\u2009")
    return ("\u2212" if v < 0 else "") + ip + ("." + fp if fp else "")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def opener(path):
    return gzip.open(path, "rt", newline="") if path.endswith(".gz") else open(path, newline="")


def main():
    run, adir, report = sys.argv[1:4]
    cells = [r for r in rows(os.path.join(run, "cells.csv")) if r["status"] == "ok"]
    by_id = defaultdict(list)
    for r in cells:
        by_id[r["cell_id"]].append(r)

    def samples(ids):
        out = []
        for cid in ids:
            for r in by_id[cid]:
                p = os.path.join(run, "samples", f"{cid}.r{r['repetition']}.csv")
                if not os.path.exists(p):
                    p += ".gz"
                with opener(p) as f:
                    out += [x for x in csv.DictReader(f) if x["warmup"] == "0"]
        return out

    # ---- every table, figure and macro is there, in every format ----
    for t in TABLES:
        base = os.path.join(adir, "tables", t)
        for ext in (".tex", ".md", ".csv"):
            check(os.path.getsize(base + ext) > 0 if os.path.exists(base + ext) else False, f"table {t}{ext} written")
        if os.path.exists(base + ".tex"):
            tex = open(base + ".tex").read()
            for part in ("\\begin{table}", "\\toprule", "\\midrule", "\\bottomrule", f"\\label{{tab:{t}}}"):
                check(part in tex, f"{t}.tex has {part}")
            run_id = os.path.basename(os.path.normpath(run))
            check(run_id.replace("_", "\\_") in tex, f"{t}.tex caption names the run {run_id}")
    for fg in FIGURES:
        base = os.path.join(adir, "figures", fg)
        ok_pdf = os.path.exists(base + ".pdf") and open(base + ".pdf", "rb").read(5) == b"%PDF-"
        ok_png = os.path.exists(base + ".png") and open(base + ".png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        check(ok_pdf, f"figure {fg}.pdf is a PDF")
        check(ok_png, f"figure {fg}.png is a PNG")
        check(os.path.exists(base + ".tex") and f"\\label{{fig:{fg}}}" in open(base + ".tex").read(),
              f"figure {fg}.tex is a labelled float")
    numbers = open(os.path.join(adir, "numbers.tex")).read()
    for m in MACROS:
        check(re.search(r"\\newcommand\{?\\" + m + r"\}?", numbers) is not None, f"numbers.tex defines \\{m}")

    # ---- latency and throughput: recomputed from samples and cells.csv ----
    lt = rows(os.path.join(adir, "tables", "latency_throughput.csv"))
    md = open(os.path.join(adir, "tables", "latency_throughput.md")).read()
    check(len(lt) > 0, "latency_throughput has rows")
    for r in lt:
        ids = r["cell_ids"].split(";")
        col = "e2e" if r["latency"] == "e2e" else "rtt"
        xs = [float(x[f"{col}_ns"]) / 1e3 for x in samples(ids) if x[f"{col}_ns"]]
        check(int(r["n_messages"]) == len(xs), f"{ids[0]}: {len(xs)} delivered messages pooled")
        for q, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
            got = float(r[f"{col}_us_{name}"])
            check(same(got, quantile(xs, q)), f"{ids[0]}: {col}_us_{name} {got} == {quantile(xs, q)} from samples")
        check(float(r[f"{col}_us_p50_ci_lo"]) <= float(r[f"{col}_us_p50"]) <= float(r[f"{col}_us_p50_ci_hi"]),
              f"{ids[0]}: the median lies in its bootstrap CI")
        check(fmt(quantile(xs, 0.5), 1) in md, f"{ids[0]}: the Markdown table shows p50 {fmt(quantile(xs, 0.5), 1)}")
        tp = [float(c["throughput_msgs_per_s"]) for i in ids for c in by_id[i]]
        check(same(float(r["throughput_msgs_per_s_median"]), quantile(tp, 0.5)), f"{ids[0]}: throughput median over repetitions")

    # ---- seal and open cost: in situ from samples, micro from micro.csv ----
    micro = {}
    if os.path.exists(os.path.join(run, "micro.csv")):
        for m in rows(os.path.join(run, "micro.csv")):
            micro[(m["op"], m["backend"], m["suite"], m["bytes"])] = m
    for r in rows(os.path.join(adir, "tables", "seal_open_cost.csv")):
        if r["source"] == "in-situ":
            s = samples(r["cell_ids"].split(";"))
            for op in ("seal", "open"):
                want = quantile([float(x[f"{op}_ns"]) for x in s if x[f"{op}_ns"]], 0.5)
                check(same(float(r[f"{op}_ns_p50"]), want), f"in-situ {r['backend']} {r['suite']} {op}_ns_p50 == {want}")
        elif r["source"] == "micro":
            for op in ("seal", "open"):
                m = micro.get((op, r["backend"], r["suite"], str(int(float(r["bytes"])))))
                if m is None or m["status"] != "ok":
                    check(r[f"{op}_ns_p50"] == "", f"micro {r['backend']} {r['suite']} {op}: unavailable shown empty")
                else:
                    check(same(float(r[f"{op}_ns_p50"]), float(m["ns_p50"])),
                          f"micro {r['backend']} {r['suite']} {op} {r['bytes']} B == micro.csv")

    # ---- overhead: recomputed, and 14 + tag when unpadded ----
    for r in rows(os.path.join(adir, "tables", "overhead_encoding.csv")):
        s = samples(r["cell_ids"].split(";"))
        ov = [int(x["wire_bytes"]) - int(x["plaintext_bytes"]) for x in s]
        check(same(float(r["overhead_bytes_mean"]), sum(ov) / len(ov)), f"overhead {r['suite']} {r['payload']} recomputed")
        if r["pad_bytes"] == "0":
            check(float(r["overhead_bytes_min"]) == float(r["overhead_bytes_max"]) == OVERHEAD[r["suite"]],
                  f"overhead {r['suite']} {r['payload']} unpadded is 14 + tag")

    # ---- ranking: ordered, and its medians recomputed ----
    last = {}
    for r in rows(os.path.join(adir, "tables", "suite_ranking.csv")):
        v = float(r["seal_open_ns_p50"])
        s = samples(r["cell_ids"].split(";"))
        want = quantile([float(x["seal_ns"]) + float(x["open_ns"]) for x in s if x["open_ns"]], 0.5)
        check(same(v, want), f"ranking {r['backend']} {r['suite']} seal+open p50 == {want}")
        check(v >= last.get(r["backend"], -1), f"ranking {r['backend']}: rank {r['rank']} not below rank above")
        last[r["backend"]] = v

    # ---- handshakes: protocol byte counts; rekey cost: its arithmetic ----
    for r in rows(os.path.join(adir, "tables", "handshake_cost.csv")):
        if r["handshake_bytes"] == "":     # a group the backend lacks: micro says why
            check(r["handshakes"] == "", f"handshake {r['group']} {r['backend']}: no figures for an unavailable pair")
            continue
        want = 2 * (8 + 16 + (32 if r["group"] == "x25519" else 65) + 32)
        check(int(float(r["handshake_bytes"])) == want, f"handshake bytes {r['group']} {r['backend']} == {want}")
    rk = rows(os.path.join(adir, "tables", "rekey_throughput.csv"))
    check(any(int(r["rekey_messages"]) > 0 for r in rk), "rekey_throughput has rekeying rows")
    for r in rk:
        if int(r["rekey_messages"]) > 0:
            base, tp = float(r["baseline_throughput_msgs_per_s"]), float(r["throughput_msgs_per_s_median"])
            check(same(float(r["throughput_cost_pct"]), 100 * (base - tp) / base, 1e-6),
                  f"rekey {r['group']} every {r['rekey_messages']}: cost % from the two throughputs")
            check(float(r["rekeys_median"]) > 0, f"rekey {r['group']} every {r['rekey_messages']}: rekeys happened")
    check(len(rows(os.path.join(adir, "tables", "auth_psk.csv"))) > 0, "auth_psk pairs a psk cell with its none twin")

    # ---- the report page: every table and figure, the manifest, nothing fetched ----
    html = open(report).read()
    for t in TABLES:
        check(f'id="table-{t}"' in html, f"report has table {t}")
    for fg in FIGURES:
        check(f'id="figure-{fg}"' in html, f"report has figure {fg}")
    check('id="manifest"' in html, "report has the manifest")
    check(html.count("data:image/png;base64,") >= len(FIGURES), "report embeds every figure")
    check(re.search(r'(src|href)\s*=\s*"(https?:)?//', html) is None and "<script src" not in html,
          "report fetches nothing")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
