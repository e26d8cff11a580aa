#!/usr/bin/python3
"""analyze: a run folder (results/<run>/) to the paper's tables, provenance macros, figures and
report page.

    /usr/bin/python3 analysis/analyze.py RUN [--with OTHER_RUN ...] [--out DIR] [--report PATH]
                                         [--no-report]

Writes into OUT (default RUN/analysis/): tables/<name>.{tex,md,csv}, tables.md, numbers.tex and
figures/; the report page goes to RUN/report.html unless --report or --no-report says otherwise.
Runs under Debian's /usr/bin/python3, whose pandas, numpy, scipy and matplotlib it needs (see
analysis/README.md). A run folder that cannot be read ends it with one line on stderr and
exit status 2."""

import argparse
import os
import sys

from sbanalysis.load import RunError, Run
from sbanalysis.tables import build_tables
from sbanalysis.tablekit import latex_escape


def _get(d, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return default if d is None else d


def _counters(run):
    """'PAPI' when any cell counted with PAPI, else the runner's reason why there were none."""
    c = run.all_cells.get("counters")
    if c is None or c.dropna().empty:
        return "not recorded"
    vals = c.dropna().astype(str)
    if (vals == "papi").any():
        return "PAPI"
    return vals.value_counts().index[0]


def _wall_min(m):
    """Wall time of the run over all its sessions (a resumed run keeps the earlier ones)."""
    total = 0.0
    for s in [m] + list(m.get("sessions") or []):
        w = _get(s, "run", "wall_s")
        if isinstance(w, (int, float)):
            total += w
    return f"{total / 60:.1f}"


def _nagle(m):
    """Whether the MQTT clients of the run had Nagle's algorithm on. Runs made before the
    runner said so (no plan.tcp_nodelay) had it on: Paho's default, which sealbench kept."""
    nodelay = _get(m, "plan", "tcp_nodelay")
    if nodelay is None:
        return "on (the run predates the tcp_nodelay setting)"
    return "off (TCP_NODELAY)" if nodelay else "on (tcp_nodelay = off)"


def _packages(libs):
    """The Debian packages behind the loaded libraries and the broker, as the manifest names
    them (libraries.*.debian_package): what was installed, beside what each library reports."""
    found = []

    def walk(d):
        for v in (d or {}).values():
            if isinstance(v, dict) and isinstance(v.get("debian_package"), dict):
                p = v["debian_package"]
                found.append(f"{p['name'].split(':')[0]} {p['version']}")
            elif isinstance(v, dict) and "library" not in v:
                walk(v)
    walk(libs)
    if not found:
        return "not recorded (the run predates the manifest's debian_package)"
    return ", ".join(sorted(set(found)))


def numbers_tex(run):
    """LaTeX macros quoting the run's provenance in the paper's text."""
    m = run.manifest
    libs = m.get("libraries", {})
    sessions = m.get("sessions") or []
    started = _get(sessions[0], "run", "started_utc") if sessions else None
    flags = _get(m, "host", "cpu", "crypto_flags", default={})
    reps = _get(m, "plan", "repetitions")
    if reps is None and len(run.all_cells):
        reps = int(run.all_cells["repetition"].max())
    values = [
        ("SBRunId", run.run_id),
        ("SBMachine", run.machine),
        ("SBArch", run.arch),
        ("SBEmulated", "yes" if run.emulated else "no"),
        ("SBCells", run.cells["cell_id"].nunique()),
        ("SBRunsDone", len(run.cells)),
        ("SBRunsFailed", len(run.failed)),
        ("SBRepetitions", reps if reps is not None else "unknown"),
        ("SBGit", _get(m, "build", "git_describe", default="unknown")),
        ("SBCompiler", _get(m, "build", "compiler", default="unknown")),
        ("SBOpenSSL", _get(libs, "backends", "openssl", "version", default="not loaded")),
        ("SBSodium", _get(libs, "backends", "sodium", "version", default="not loaded")),
        ("SBMbedTLS", _get(libs, "backends", "mbedtls", "version", default="not loaded")),
        ("SBPaho", _get(libs, "paho", "version", default="unknown")),
        ("SBMosquitto", _get(libs, "mosquitto", "version", default=_get(m, "broker", "mosquitto_version",
                                                                        default="unknown"))),
        ("SBPAPI", _get(libs, "papi", "version", default="not available")),
        ("SBCounters", _counters(run)),
        ("SBConfig", _get(m, "config", "path", default="unknown")),
        ("SBConfigSha", str(_get(m, "config", "sha256", default="unknown"))[:16]),
        ("SBSeed", _get(m, "seed", default="unknown")),
        ("SBStarted", started or _get(m, "run", "started_utc", default="unknown")),
        ("SBWallMin", _wall_min(m)),
        ("SBKernel", _get(m, "host", "kernel", "release", default="unknown")),
        ("SBOS", _get(m, "host", "os", default="unknown")),
        ("SBCPUFlags", ", ".join(k for k, v in flags.items() if v is True) or "none"),
        ("SBNagle", _nagle(m)),
        ("SBPackages", _packages(libs)),
    ]
    lines = [f"% Provenance of run {run.run_id}, from its manifest.json and cells.csv "
             "(written by analysis/analyze.py)."]
    lines += [f"\\newcommand{{\\{k}}}{{{latex_escape(v)}}}" for k, v in values]
    return "\n".join(lines) + "\n"


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="analyze", description="Tables, figures and report of a sealbench run.")
    ap.add_argument("run", metavar="RUN", help="run folder (results/<run>/)")
    ap.add_argument("--with", dest="others", action="append", default=[], metavar="OTHER_RUN",
                    help="another run to set beside this one (e.g. the same config on a board); repeatable")
    ap.add_argument("--out", help="output folder (default RUN/analysis)")
    ap.add_argument("--report", help="report page (default RUN/report.html)")
    ap.add_argument("--no-report", action="store_true", help="do not write the report page")
    args = ap.parse_args(argv)

    try:
        run = Run(args.run)
        others = [Run(p) for p in args.others]
        tables = build_tables(run, others)
    except RunError as e:
        print(f"analyze: {e}", file=sys.stderr)
        return 2

    out = args.out or os.path.join(run.path, "analysis")
    tdir = os.path.join(out, "tables")
    try:
        os.makedirs(tdir, exist_ok=True)
        for t in tables:
            base = os.path.join(tdir, t.name)
            _write(base + ".tex", t.to_latex())
            _write(base + ".md", t.to_markdown())
            t.to_csv(base + ".csv")
        print(f"tables: {len(tables)} x .tex .md .csv in {tdir}/ ({', '.join(t.name for t in tables)})")
        page = [f"# Tables of {run.label}", ""]
        if run.emulated:
            page += ["**EMULATED (qemu-user): these timings are not board figures.**", ""]
        for t in tables:
            page += [t.to_markdown()]
        _write(os.path.join(out, "tables.md"), "\n".join(page))
        print(f"tables.md: {os.path.join(out, 'tables.md')}")
        _write(os.path.join(out, "numbers.tex"), numbers_tex(run))
        print(f"numbers.tex: {os.path.join(out, 'numbers.tex')}")
    except OSError as e:
        print(f"analyze: {e.filename or out}: cannot write: {e.strerror}; choose another --out", file=sys.stderr)
        return 2

    from sbanalysis import figures
    fdir = os.path.join(out, "figures")
    try:
        figs = figures.build_figures(run, others, fdir)
    except RunError as e:
        print(f"analyze: {e}", file=sys.stderr)
        return 2
    print(f"figures: {len(figs)} in {fdir}/")

    report_path = None
    if not args.no_report:
        from sbanalysis import report
        report_path = args.report or os.path.join(run.path, "report.html")
        try:
            report.write_report(run, others, tables, figs, report_path)
        except RunError as e:
            print(f"analyze: {e}", file=sys.stderr)
            return 2
        print(f"report: {report_path}")

    print(f"analyze: {run.label}: {run.cells['cell_id'].nunique()} cells, {len(run.cells)} cell x "
          f"repetitions ok, {len(run.failed)} failed; {len(tables)} tables, {len(figs)} figures"
          + (f", report {report_path}" if report_path else ", no report")
          + (f"; compared with {', '.join(o.run_id for o in others)}" if others else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
