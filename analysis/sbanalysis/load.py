"""Reading a run folder as the runner wrote it (results/README.md is the schema).

Everything downstream reads through Run, so a run's machine label (and whether it was emulated)
travels with every number drawn from it. Samples may be stored gzipped (.csv.gz), as the committed
reference runs are, to keep the repository small."""

import csv
import io
import json
import os
import subprocess

import pandas as pd

# The factors that name a cell; every other column of cells.csv is a measurement.
FACTORS = ["study", "backend", "suite", "group", "auth", "payload", "encoding", "pad_bytes", "qos",
           "rekey_messages", "rate_hz", "devices", "topology"]

# The backends, suites and groups in registry order, and each suite's wire sizes: not a list of
# our own, but what the binary said (`sealbench list --csv`, recorded in the run's manifest as
# offer.csv). Filled by every Run loaded, so that a second run (--with) adds what the first lacked.
SUITE_ORDER = []
BACKEND_ORDER = []
GROUP_ORDER = []
SUITE_SIZES = {}  # suite -> {"tag_bytes": .., "header_bytes": .., "overhead_bytes": .., ...}

SEALBENCH = os.environ.get("SEALBENCH_BIN", os.path.join(os.path.dirname(__file__), "..", "..",
                                                         "build", "native", "sealbench"))


class RunError(Exception):
    """A run folder that cannot be analysed; the message says which file and what to do."""


def _read_csv(path, what):
    try:
        # Only an empty field is missing: pandas would otherwise read the suite "null" (and "NA",
        # "none"...) as NaN and the baseline would vanish from every table.
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise RunError(f"{path}: no {what}; is this a run folder written by `sealbench run`?")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise RunError(f"{path}: cannot read {what}: {e}")


def _find(path):
    """path itself, or path + '.gz' when the run keeps its samples compressed."""
    if os.path.exists(path):
        return path
    if os.path.exists(path + ".gz"):
        return path + ".gz"
    return None


class Run:
    def __init__(self, path):
        self.path = os.path.normpath(path)
        if not os.path.isdir(self.path):
            raise RunError(f"{path}: not a directory; give a run folder such as results/<run>/")
        mpath = os.path.join(self.path, "manifest.json")
        try:
            with open(mpath) as f:
                self.manifest = json.load(f)
        except FileNotFoundError:
            raise RunError(f"{mpath}: missing; a run folder holds the manifest `sealbench run` wrote")
        except json.JSONDecodeError as e:
            raise RunError(f"{mpath}:{e.lineno}: not JSON: {e.msg}")
        cpath = _find(os.path.join(self.path, "cells.csv"))
        self.all_cells = _read_csv(cpath or os.path.join(self.path, "cells.csv"), "cells.csv")
        missing = [c for c in ["cell_id", "repetition", "status"] + FACTORS if c not in self.all_cells.columns]
        if missing:
            raise RunError(f"{cpath}: columns {', '.join(missing)} missing; written by an older sealbench?")
        self.cells = self.all_cells[self.all_cells["status"] == "ok"].copy()
        self.failed = self.all_cells[self.all_cells["status"] != "ok"].copy()
        mipath = _find(os.path.join(self.path, "micro.csv"))
        self.micro = _read_csv(mipath, "micro.csv") if mipath else None
        self.run_id = self.manifest.get("run", {}).get("run_id") or os.path.basename(self.path)
        self._samples = {}
        self.offer = self._offer()
        _learn(self.offer)

    def _offer(self):
        """The rows of `sealbench list --csv` as the run's binary wrote them (manifest offer.csv),
        or, for a run made before manifests carried it, as this checkout's binary writes them."""
        text = (self.manifest.get("offer") or {}).get("csv")
        where = "the manifest's offer.csv"
        if not text:
            where = f"{SEALBENCH} list --csv (the manifest predates offer.csv)"
            try:
                text = subprocess.run([SEALBENCH, "list", "--csv"], capture_output=True, text=True,
                                      check=True).stdout
            except (OSError, subprocess.CalledProcessError) as e:
                raise RunError(f"{self.path}: the manifest has no offer.csv and `sealbench list "
                               f"--csv` failed ({e}); run `make` or set SEALBENCH_BIN")
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or "overhead_bytes" not in rows[0]:
            raise RunError(f"{self.path}: {where} lacks the suites' sizes; written by an older sealbench?")
        return rows

    @property
    def backends_built(self):
        """The backends the run's binary was built with, in registry order."""
        return [r["backend"] for r in self.offer if r["kind"] == "library" and r["status"] == "ok"]

    # ---- who and where: every table and figure carries this ----
    @property
    def emulated(self):
        return bool(self.manifest.get("host", {}).get("emulation", {}).get("emulated"))

    @property
    def arch(self):
        return self.manifest.get("build", {}).get("arch") or "unknown"

    @property
    def machine(self):
        """One line naming the machine: board or CPU model, arch, VM and emulation."""
        host = self.manifest.get("host", {})
        cpu = host.get("cpu", {})
        board = host.get("board", {}).get("device_tree_model") or cpu.get("board_model")
        model = board or cpu.get("model") or "unknown CPU"
        bits = [f"{self.arch}", model]
        if self.emulated:
            kernel = host.get("emulation", {}).get("kernel_arch") or "another arch"
            bits.append(f"EMULATED under qemu-user on {kernel}")
        elif host.get("virtualization", {}).get("vm"):
            bits.append("VM")
        n = cpu.get("logical_online")
        if n:
            bits.append(f"{n} CPUs")
        return ", ".join(str(b) for b in bits)

    @property
    def label(self):
        """Short label for legends and captions: run id and machine."""
        return f"run {self.run_id} ({self.machine})"

    # ---- per-message samples ----
    def sample_path(self, cell_id, repetition, gateway=False):
        name = f"{cell_id}.r{int(repetition)}{'-gateway' if gateway else ''}.csv"
        return _find(os.path.join(self.path, "samples", name))

    def samples(self, cell_id, repetition, measured_only=True):
        """The per-message rows of one cell x repetition; warm-up rows dropped unless asked."""
        key = (cell_id, int(repetition))
        if key not in self._samples:
            p = self.sample_path(cell_id, repetition)
            if p is None:
                raise RunError(f"{self.path}/samples/{cell_id}.r{int(repetition)}.csv: missing; "
                               "the cell's statistics cannot be recomputed without it")
            self._samples[key] = _read_csv(p, "samples")
        df = self._samples[key]
        return df[df["warmup"] == 0] if measured_only else df

    def cell_samples(self, cell_id, measured_only=True):
        """All repetitions of a cell, with a 'repetition' column."""
        reps = self.cells[self.cells["cell_id"] == cell_id]["repetition"].unique()
        frames = []
        for r in sorted(reps):
            df = self.samples(cell_id, r, measured_only).copy()
            df["repetition"] = r
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def micro_samples(self, name):
        """Per-repetition figures of one microbenchmark (samples/micro/<name>.csv)."""
        p = _find(os.path.join(self.path, "samples", "micro", name + ".csv"))
        return _read_csv(p, "micro samples") if p else None


def _learn(rows):
    """Adds the backends, suites and groups of a `sealbench list --csv` to the orders above."""
    for r in rows:
        order = {"library": BACKEND_ORDER, "suite": SUITE_ORDER, "group": GROUP_ORDER}[r["kind"]]
        name = r["backend"] if r["kind"] == "library" else r["name"]
        if name not in order:
            order.append(name)
        if r["kind"] == "suite":
            SUITE_SIZES[name] = {k: int(r[k]) for k in ("wire_id", "key_bytes", "mac_key_bytes",
                                                        "nonce_bytes", "tag_bytes", "header_bytes",
                                                        "overhead_bytes")}


def order_key(values, order):
    """Sort key putting known levels in the paper's order and unknown ones after, alphabetically."""
    return [(order.index(v) if v in order else len(order), str(v)) for v in values]
