#!/usr/bin/python3
"""make compare RUN=results/<run>: a run against the committed reference, cell by cell.

Prints the machines' differences first (timings across machines are not a regression), then
every metric that moved beyond its tolerance, largest first, and a summary. Exit 0 when nothing
moved, 1 when something did, 2 when a run folder cannot be read. --csv writes every comparison."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sbanalysis.compare import compare_cells, compare_micro, machine_differences, setting_differences  # noqa: E402
from sbanalysis.load import Run, RunError  # noqa: E402

import pandas as pd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def default_reference(run):
    """results/reference/<arch>, or <arch>-emulated for a run under qemu-user."""
    name = run.arch + ("-emulated" if run.emulated else "")
    return os.path.join(os.path.dirname(HERE), "results", "reference", name)


def fmt(v):
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def main(argv):
    ap = argparse.ArgumentParser(prog="compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="the run folder to check (results/<run>)")
    ap.add_argument("--reference", help="reference run folder (default: results/reference/<arch>[-emulated])")
    ap.add_argument("--csv", help="write every comparison (moved or not) to this CSV file")
    ap.add_argument("--all", action="store_true", help="print unmoved metrics too")
    a = ap.parse_args(argv)
    try:
        new = Run(a.run)
        ref_path = a.reference or default_reference(new)
        if not os.path.isdir(ref_path):
            raise RunError(f"{ref_path}: no reference run for {new.arch}{' (emulated)' if new.emulated else ''};"
                           " give one with --reference DIR")
        ref = Run(ref_path)
    except RunError as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2

    print(f"reference: {ref.path}: {ref.label}")
    print(f"run:       {new.path}: {new.label}")
    diffs = machine_differences(ref, new)
    if diffs:
        print("machines differ (timings are not comparable as regressions): " + "; ".join(diffs))
    settings = setting_differences(ref, new)
    if settings:
        print("settings differ: " + "; ".join(settings))
    cells, only_new, only_ref = compare_cells(ref, new)
    micro = compare_micro(ref, new)
    table = pd.concat([cells, micro], ignore_index=True)
    if a.csv:
        table.to_csv(a.csv, index=False)
    if table.empty:
        print("nothing to compare: no cell or microbenchmark of the run matches the reference's factors")
        return 1
    shown = table if a.all else table[table["moved"]]
    shown = shown.reindex(shown["change_pct"].abs().sort_values(ascending=False).index)
    for _, r in shown.iterrows():
        flag = f"MOVED {r['direction']}" if r["moved"] else "ok"
        print(f"  {flag:12s} {r['what']}  {r['metric']}: {fmt(r['reference'])} -> {fmt(r['new'])} "
              f"({r['change_pct']:+.1f}%, tolerance {fmt(r['tolerance'])} = {r['tolerance_from']}, "
              f"n={r['n_ref']}/{r['n_new']})")
    moved = int(table["moved"].sum())
    cells_moved = table[table["moved"]]["what"].nunique()
    print(f"compared {len(table)} metrics of {table['what'].nunique()} cells and microbenchmarks; "
          f"{moved} moved beyond tolerance in {cells_moved}; "
          f"{len(only_new)} cells of the run have no reference counterpart, "
          f"{len(only_ref)} reference cells were not measured")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
