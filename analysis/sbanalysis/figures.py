"""The paper's figures, drawn from a Run (load.py) with matplotlib's Agg backend.

build_figures(run, others, out_dir) writes each figure as PDF (for the paper, TrueType fonts
embedded, no timestamp, so a re-run gives the same bytes) and PNG (150 dpi, for the report page),
plus a <name>.tex with its figure environment. Cells are chosen by factor values, never by study
name, so any config's run (quick.ini included) gets every figure; a figure with nothing to show
says so in the plot instead of vanishing. Every figure names its run and machine on itself and in
its caption, and an emulated run is marked as such wherever it appears."""

import math
import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .load import BACKEND_ORDER, GROUP_ORDER, SUITE_ORDER, SUITE_SIZES, order_key  # noqa: E402

# ---- fixed visual vocabulary: a suite has the same colour in every figure ----
# Okabe-Ito colours, distinguishable with the common colour-vision deficiencies and in greyscale
# by lightness; the null baseline is neutral grey.
SUITE_COLOURS = {
    "null": "#666666",
    "aes-128-gcm": "#0072B2",
    "aes-256-gcm": "#56B4E9",
    "chacha20-poly1305": "#D55E00",
    "chacha20-hmac-sha256": "#009E73",
}
_SPARE_COLOURS = ["#CC79A7", "#E69F00", "#000000", "#F0E442"]
BACKEND_STYLES = {  # line style and marker, so backends stay apart without colour
    "openssl": ("-", "o"),
    "sodium": ("--", "s"),
    "mbedtls": (":", "^"),
}
_SPARE_STYLES = [("-.", "D"), ((0, (5, 1, 1, 1)), "v")]
RUN_COLOURS = ["#444444", "#AAAAAA", "#CC79A7", "#E69F00"]  # platform_compare: one per run


def _or_list(values):
    """"0, 16 or 32"."""
    v = [str(x) for x in values]
    return (v[0] if len(v) == 1 else ", ".join(v[:-1]) + " or " + v[-1]) if v else ""


FULL_WIDTH_IN = 7.0
COLUMN_WIDTH_IN = 3.5

# Fonts sized for print at 100 %: a 7 in figure in a two-column paper's figure*, a 3.5 in one in a
# column. Type 42 fonts because publishers reject the Type 3 fonts matplotlib embeds by default.
RC = {
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7,
    "ytick.labelsize": 7, "legend.fontsize": 7, "legend.title_fontsize": 7,
    "pdf.fonttype": 42, "ps.fonttype": 42, "svg.hashsalt": "sealbench",
    "axes.grid": True, "grid.alpha": 0.35, "grid.linewidth": 0.5,
    "axes.spines.top": False, "axes.spines.right": False, "lines.linewidth": 1.2,
    "lines.markersize": 4, "figure.dpi": 100, "savefig.dpi": 150,
}
_PDF_META = {"CreationDate": None, "Creator": "sealbench analysis"}
_PNG_META = {"Software": "sealbench analysis"}
EMULATED_NOTE = "EMULATED (qemu-user), not board figures"


def suite_colour(suite):
    if suite in SUITE_COLOURS:
        return SUITE_COLOURS[suite]
    # A suite added later still gets the same colour on every run and in every figure.
    return _SPARE_COLOURS[sum(map(ord, str(suite))) % len(_SPARE_COLOURS)]


def backend_style(backend):
    if backend in BACKEND_STYLES:
        return BACKEND_STYLES[backend]
    return _SPARE_STYLES[sum(map(ord, str(backend))) % len(_SPARE_STYLES)]


def latex_escape(text):
    """Plain text to LaTeX: the special characters, and the few non-ASCII signs we write."""
    out = []
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
             "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}", "µ": r"\textmu{}", "×": r"$\times$", "–": "--",
             "—": "---", "≥": r"$\geq$", "≤": r"$\leq$", "≈": r"$\approx$", "−": "-",
             "·": r"$\cdot$", "→": r"$\rightarrow$"}
    for ch in str(text):
        out.append(table.get(ch, ch))
    return "".join(out)


class Figure:
    """One figure as written: its files, and what the paper and the report say about it."""

    def __init__(self, name, title, caption, paths, width_in):
        self.name = name
        self.title = title
        self.caption = caption
        self.paths = paths  # {'pdf': ..., 'png': ...}
        self.width_in = width_in
        self.tex_path = None

    @property
    def wide(self):
        return self.width_in > COLUMN_WIDTH_IN + 0.5

    def to_latex(self):
        # A full-width figure spans both columns of a two-column paper (figure*): set in one
        # column its 7-point labels would shrink to half size. Paths are relative to
        # \graphicspath so the paper decides where figures/ lives.
        env = "figure*" if self.wide else "figure"
        return (f"\\begin{{{env}}}[t]\n\\centering\n"
                f"\\includegraphics[width=\\linewidth]{{figures/{self.name}.pdf}}\n"
                f"\\caption{{{latex_escape(self.caption)}}}\n"
                f"\\label{{fig:{self.name}}}\n\\end{{{env}}}\n")

    def __repr__(self):
        return f"Figure({self.name!r})"


# ---- data helpers ----

def _cells(run):
    """ok cells with the null suite spelled out: pandas reads the level 'null' as missing."""
    df = run.cells.copy()
    df["suite"] = df["suite"].fillna("null")
    return df


def _micro(run):
    if run.micro is None or len(run.micro) == 0:
        return None
    df = run.micro.copy()
    cipher_ops = df["op"].isin(["seal", "open", "forge"])
    df.loc[cipher_ops, "suite"] = df.loc[cipher_ops, "suite"].fillna("null")
    return df


def _sorted(values, order):
    values = list(values)
    return [v for _, v in sorted(zip(order_key(values, order), values), key=lambda p: p[0])]


def _fmt_level(factor, value):
    if factor == "devices":
        return f"{value} device{'s' if int(value) != 1 else ''}"
    if factor == "rate_hz":
        return "saturated" if int(value) == 0 else f"{value} Hz/device"
    if factor == "rekey_messages":
        return "no rekey" if int(value) == 0 else f"rekey every {value} msgs"
    if factor == "pad_bytes":
        return "unpadded" if int(value) == 0 else f"padded to {value} B"
    if factor == "qos":
        return f"QoS {value}"
    if factor == "auth":
        return "PSK auth" if value == "psk" else f"auth {value}"
    return str(value)


# Levels that read as "the plain case" when a panel has to hold a factor fixed.
_PREFERRED = {"rekey_messages": 0, "pad_bytes": 0, "auth": "psk"}


def _hold_fixed(df, factors, line_keys=("backend", "suite")):
    """Narrow df to one level of each factor, so a panel's lines differ only in line_keys.

    A preferred level wins when present; otherwise the level covering the most lines (then the
    most cells). Returns the narrowed frame and {factor: level} for factors that had a choice."""
    chosen = {}
    for f in factors:
        levels = _sorted(df[f].dropna().unique(), [])
        if len(levels) <= 1:
            continue
        pref = _PREFERRED.get(f)
        if pref is not None and pref in set(levels):
            best = pref
        else:
            def score(v):
                sub = df[df[f] == v]
                return (len(sub[list(line_keys)].drop_duplicates()), len(sub))
            best = max(levels, key=score)  # first maximum of a sorted list: deterministic
        chosen[f] = best
        df = df[df[f] == best]
    return df, chosen


# ---- drawing helpers ----

def _new_figure(width_in, height_in, nrows=1, ncols=1, **kw):
    fig, axes = plt.subplots(nrows, ncols, figsize=(width_in, height_in), squeeze=False, **kw)
    return fig, axes


def _legend_lines(width_in, rows, fontsize):
    """Wrap rows of legend handles into lines that fit the figure's width (a figure legend that
    is wider than the figure is silently cut off at both ends). Returns (handles, text lines)."""
    char_in = 0.0085 * fontsize  # DejaVu Sans, about 0.6 em per character
    lines = []
    for row in rows:
        cur, used, tall = [], 0.0, 1
        for h in row:
            parts = h.get_label().split("\n")
            w = 0.5 + char_in * max(len(p) for p in parts)
            if cur and used + w > width_in - 0.15:
                lines.append((cur, tall))
                cur, used, tall = [], 0.0, 1
            cur.append(h)
            used += w
            tall = max(tall, len(parts))
        if cur:
            lines.append((cur, tall))
    return lines


def _wrap(text, width_in, fontsize):
    return textwrap.wrap(text, max(20, int((width_in - 0.1) / (0.0085 * fontsize))))


def _finish(fig, run, legend_rows=(), footnote=None, note=None, legend_fontsize=7):
    """Grow the figure by a legend band on top and a footer band below, fill them, lay out.

    The bands are sized in inches so a legend never covers data and the plot area keeps the
    height the figure was made with. Below the axes, from the bottom up: the run and machine
    (so a copied PNG still says where it came from), the emulation warning, the footnote."""
    W, H = fig.get_size_inches()
    lines = _legend_lines(W, [r for r in legend_rows if r], legend_fontsize)
    text_in = 0.018 * legend_fontsize
    top_in = sum(0.05 + text_in * tall for _, tall in lines) + (0.04 if lines else 0.0)
    footer = f"sealbench {run.label}" + (f"  ·  {note}" if note else "")
    blocks = [(_wrap(footer, W, 5.5), dict(fontsize=5.5, color="#444444"))]
    if run.emulated:
        blocks.append(([EMULATED_NOTE], dict(fontsize=7.5, color="#B00000", weight="bold")))
    if footnote:
        blocks.append((_wrap("Not measured: " + footnote, W, 6), dict(fontsize=6, color="#333333")))
    heights = [len(t) * kw["fontsize"] * 1.3 / 72 + 0.03 for t, kw in blocks]
    bottom_in = 0.05 + sum(heights) + 0.05
    Ht = H + top_in + bottom_in
    fig.set_size_inches(W, Ht)
    from_top = 0.04
    for hs, tall in lines:
        fig.legend(handles=hs, loc="upper center", bbox_to_anchor=(0.5, 1 - from_top / Ht),
                   ncol=len(hs), frameon=False, borderpad=0.0, borderaxespad=0.0,
                   handlelength=2.4, columnspacing=1.0, handletextpad=0.4, fontsize=legend_fontsize)
        from_top += 0.05 + text_in * tall
    y = 0.04
    for (text, kw), h in zip(blocks, heights):
        fig.text(0.01, y / Ht, "\n".join(text), ha="left", va="bottom", linespacing=1.2, **kw)
        y += h
    fig.tight_layout(rect=[0, bottom_in / Ht, 1, 1 - top_in / Ht], pad=0.3, h_pad=0.7, w_pad=0.7)


def _log_ticks(axis, lo, hi, plain=False):
    """Decade ticks alone leave an axis spanning under ~1.5 decades with one label or none.
    plain: 20, 50, 0.1 instead of 2×10^1 (for bytes and percentages)."""
    if hi / lo < 30:
        axis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        (lambda v, _p=None: f"{v:g}") if plain else _sci_label))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _sci_label(v, _pos=None):
    """10^n, or m×10^n for the 2 and 5 ticks of a short log axis."""
    if v <= 0:
        return ""
    e = math.floor(math.log10(v) + 1e-9)
    m = round(v / 10 ** e, 6)
    if m == 1:
        return f"$10^{{{e}}}$"
    return f"${m:g}\\times10^{{{e}}}$"


def _empty(ax, message):
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=8,
            color="#555555", wrap=True)


def _suite_handles(suites):
    return [Line2D([], [], color=suite_colour(s), lw=2.2, label=s) for s in suites]


def _backend_handles(backends, markers=True):
    hs = []
    for b in backends:
        ls, mk = backend_style(b)
        hs.append(Line2D([], [], color="black", ls=ls, marker=mk if markers else None, lw=1.2,
                         label=b))
    return hs


def _save(fig, out_dir, name):
    paths = {"pdf": os.path.join(out_dir, f"{name}.pdf"), "png": os.path.join(out_dir, f"{name}.png")}
    fig.savefig(paths["pdf"], format="pdf", metadata=_PDF_META)
    fig.savefig(paths["png"], format="png", dpi=150, metadata=_PNG_META)
    plt.close(fig)
    return paths


def _run_sentence(run):
    s = f"Measured in {run.label}."
    if run.emulated:
        s += f" {EMULATED_NOTE}: times are of an emulator, not of the board."
    return s


# ---- 1. latency CDFs ----

def _ecdf_points(values, n_total, max_points=900):
    """Step-curve points of the empirical CDF, thinned evenly plus every point of the top tail
    (where the curves differ), so PDFs stay small without moving a step that matters."""
    x = np.sort(values)
    m = len(x)
    y = np.arange(1, m + 1) / n_total
    if m > max_points:
        body = np.linspace(0, m - 1, max_points // 2)
        tail = m - np.geomspace(1, m, max_points // 2)
        idx = np.unique(np.clip(np.round(np.concatenate([body, tail])), 0, m - 1).astype(int))
        x, y = x[idx], y[idx]
    return x, y


def _latency_figure(run, out_dir):
    name = "latency_cdf"
    cells = _cells(run)
    cells = cells.assign(paced=cells["rate_hz"] > 0)
    panels = _sorted_panels(cells[["qos", "paced", "topology"]].drop_duplicates())
    n = max(1, len(panels))
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = _new_figure(FULL_WIDTH_IN, 2.05 * nrows if panels else 1.0, nrows, ncols)
    notes = []
    suites_seen, backends_seen = set(), set()
    if not panels:
        _empty(axes[0][0], "no ok cells in this run: no latency to show")
    for k, (qos, paced, topo) in enumerate(panels):
        ax = axes[k // ncols][k % ncols]
        sub = cells[(cells["qos"] == qos) & (cells["paced"] == paced) & (cells["topology"] == topo)]
        factors = ["rekey_messages", "pad_bytes", "devices", "rate_hz", "payload", "encoding",
                   "group", "auth"]
        sub, chosen = _hold_fixed(sub, factors)
        split = topo != "inproc"
        col = "rtt_ns" if split else "e2e_ns"
        drawn = 0
        lines = sub[["backend", "suite"]].drop_duplicates()
        order = sorted(zip(lines["suite"], lines["backend"]),
                       key=lambda sb: (order_key([sb[0]], SUITE_ORDER)[0],
                                       order_key([sb[1]], BACKEND_ORDER)[0]))
        lost_any = False
        lo_hi = [np.inf, 0.0]
        for suite, backend in order:
            ids = sub[(sub["suite"] == suite) & (sub["backend"] == backend)]["cell_id"].unique()
            # A missing sample file raises RunError: the run cannot be analysed, as for tables.
            frames = [f for f in (run.cell_samples(cid) for cid in sorted(ids)) if len(f)]
            if not frames:
                continue
            s = pd.concat(frames, ignore_index=True)
            v = pd.to_numeric(s[col], errors="coerce").to_numpy(dtype=float) / 1000.0
            ok = v[np.isfinite(v) & (v > 0)]
            if len(ok) == 0:
                continue
            lost_any |= len(ok) < len(v)
            lo_hi = [min(lo_hi[0], ok.min()), max(lo_hi[1], ok.max())]
            x, y = _ecdf_points(ok, len(v))
            ls, _ = backend_style(backend)
            ax.step(x, y, where="post", color=suite_colour(suite), ls=ls, lw=1.1)
            suites_seen.add(suite)
            backends_seen.add(backend)
            drawn += 1
        first = sub.iloc[0] if len(sub) else None
        where = "round trip (split)" if split else "one-way"
        load = (f"paced {int(first['rate_hz'])} Hz" if paced and first is not None
                else "saturated")
        head = f"QoS {qos}, {load}"
        if first is not None:
            head += f", {_fmt_level('devices', first['devices'])}"
            where += f" · {first['payload']}"
        ax.set_title(f"{head}\n{where}", fontsize=7.5)
        if drawn == 0:
            _empty(ax, "no latency samples for these cells")
            continue
        ax.set_xscale("log")
        _log_ticks(ax.xaxis, lo_hi[0], lo_hi[1])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("round-trip time (µs)" if split else "end-to-end latency (µs)")
        if k % ncols == 0:
            ax.set_ylabel("fraction of messages ≤ x")
        if chosen:
            notes.append(f"QoS {qos} {load} ({'split' if split else 'in-process'}): "
                         + ", ".join(_fmt_level(f, v) if f in ("rekey_messages", "pad_bytes",
                                                                "devices", "rate_hz", "auth")
                                     else f"{f} {v}" for f, v in chosen.items()))
        if lost_any:
            notes.append(f"QoS {qos} {load}: some curves end below 1 (lost messages)")
    for k in range(max(1, len(panels)), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    _finish(fig, run, [_suite_handles(_sorted(suites_seen, SUITE_ORDER)),
                       _backend_handles(_sorted(backends_seen, BACKEND_ORDER), markers=False)])
    title = "End-to-end latency per suite"
    if not panels:
        caption = f"{title}: nothing to show, no ok cells in this run. {_run_sentence(run)}"
        return Figure(name, title, caption, _save(fig, out_dir, name), FULL_WIDTH_IN)
    caption = (f"{title}: empirical CDFs of each message's latency, pooled over repetitions "
               "and over cells with the same factors (warm-up excluded), in µs on a log axis; "
               "one panel per QoS and load present in the run. Colour is the suite, line style "
               "the backend. In-process panels show seal start to open end on one clock; "
               "split-topology panels show the round trip "
               "(RTT) to the gateway's sealed echo, not a one-way time. Lost messages count as "
               "never delivered, so a curve ending below 1 lost that fraction. ")
    if notes:
        caption += "Where the run has several levels, each panel holds the others fixed at: " + \
                   "; ".join(notes) + ". "
    caption += _run_sentence(run)
    return Figure(name, title, caption, _save(fig, out_dir, name), FULL_WIDTH_IN)


def _sorted_panels(keys):
    rows = [tuple(r) for r in keys.itertuples(index=False)]
    return sorted(rows, key=lambda r: (int(r[0]), bool(r[1]), r[2] != "inproc", str(r[2])))


# ---- 2. cost per message against size (microbenchmarks) ----

def _cost_figure(run, out_dir):
    name = "cost_vs_size"
    micro = _micro(run)
    title = "Seal and open cost against payload size"
    ops = ["seal", "open"]
    ok = None
    if micro is not None:
        ok = micro[micro["op"].isin(ops) & (micro["status"] == "ok")]
    backends = _sorted(ok["backend"].unique(), BACKEND_ORDER) if ok is not None and len(ok) else []
    ncols = max(1, len(backends))
    if backends:
        fig, axes = _new_figure(FULL_WIDTH_IN, 3.6, 2, ncols, sharex=True, sharey=True)
    else:
        fig, axes = _new_figure(FULL_WIDTH_IN, 1.0)
    unavailable = []
    if micro is not None:
        bad = micro[micro["op"].isin(ops) & (micro["status"] != "ok")]
        for (b, s), g in bad.groupby(["backend", "suite"], sort=False):
            unavailable.append((b, s, "; ".join(sorted(set(g["why"].fillna("").astype(str))))))
        unavailable.sort(key=lambda t: (order_key([t[0]], BACKEND_ORDER)[0],
                                        order_key([t[1]], SUITE_ORDER)[0]))
    suites_seen = set()
    if not backends:
        msg = ("no micro.csv in this run" if micro is None
               else "no seal/open microbenchmarks measured in this run")
        _empty(axes[0][0], msg)
    for j, b in enumerate(backends):
        for i, op in enumerate(ops):
            ax = axes[i][j]
            d = ok[(ok["backend"] == b) & (ok["op"] == op)]
            for s in _sorted(d["suite"].unique(), SUITE_ORDER):
                ds = d[d["suite"] == s].sort_values("bytes")
                c = suite_colour(s)
                x = ds["bytes"].to_numpy(float)
                ax.fill_between(x, ds["ns_p25"].to_numpy(float), ds["ns_p75"].to_numpy(float),
                                color=c, alpha=0.25, lw=0)
                ax.plot(x, ds["ns_p50"].to_numpy(float), color=c, marker=".", ms=3, lw=1.1)
                suites_seen.add(s)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            if i == 0:
                ax.set_title(b)
            if i == 1:
                ax.set_xlabel("payload (plaintext bytes)")
            if j == 0:
                ax.set_ylabel(f"{op} time per message (ns)")
            if len(d) == 0:
                ax.text(0.5, 0.5, f"no {op} measured", transform=ax.transAxes, ha="center",
                        fontsize=7, color="#555555")
    if backends:
        sizes = sorted(int(b) for b in ok["bytes"].unique())
        # Powers of 4 (16, 64, 256, 1Ki ...) when there are many sizes: all of them collide.
        ticks = sizes if len(sizes) <= 6 else [b for b in sizes if math.log(b, 4).is_integer()]
        axes[1][0].set_xticks(ticks or sizes)
        axes[1][0].xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axes[1][0].xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    handles = _suite_handles(_sorted(suites_seen, SUITE_ORDER))
    if handles:
        handles.append(Patch(color="#999999", alpha=0.4, label="p25–p75"))
    foot = "; ".join(f"{b} × {s}: {why}" for b, s, why in unavailable)
    _finish(fig, run, [handles], footnote=foot or None)
    timer = ""
    if ok is not None and len(ok) and "timer" in ok:
        timers = sorted(set(ok["timer"].dropna().astype(str)))
        if timers:
            timer = f" Timer: {'; '.join(timers)}."
    caption = (f"{title}: microbenchmark time of one seal (top) and one open (bottom) per "
               "backend, log–log; the line is the median over the microbenchmark's repetitions "
               "and the band its interquartile range (p25–p75). Colour is the suite; the null "
               f"suite is framing alone.{timer} ")
    if foot:
        caption += "Absent pairs are not available: " + foot + ". "
    caption += _run_sentence(run)
    return Figure(name, title, caption, _save(fig, out_dir, name), FULL_WIDTH_IN)


# ---- 3. wire overhead against size ----

_ENCODING_MARKERS = {"synthetic": "o", "json": "s", "csv": "^", "cbor": "D"}


def _overhead_figure(run, out_dir):
    name = "overhead_vs_size"
    title = "Wire overhead against plaintext size"
    cells = _cells(run)
    need = ["plaintext_bytes_mean", "overhead_bytes_mean", "overhead_pct"]
    cells = cells.dropna(subset=need)
    cells = cells[cells["plaintext_bytes_mean"] > 0]
    if len(cells) == 0:
        fig, axes = _new_figure(COLUMN_WIDTH_IN, 1.0)
        _empty(axes[0][0], "no ok cells with sizes in this run")
        _finish(fig, run)
        caption = f"{title}: nothing to show. {_run_sentence(run)}"
        return Figure(name, title, caption, _save(fig, out_dir, name), COLUMN_WIDTH_IN)
    fig, axes = _new_figure(COLUMN_WIDTH_IN, 3.6, 2, 1, sharex=True)
    ax_b, ax_p = axes[0][0], axes[1][0]
    keys = ["suite", "payload", "encoding", "pad_bytes"]
    agg = cells.groupby(keys, sort=False)[need].median().reset_index()
    spread = cells.groupby(keys)["overhead_bytes_mean"].agg(lambda v: v.max() - v.min()).max()
    suites = _sorted(agg["suite"].unique(), SUITE_ORDER)
    # Suites with the same tag length overlap exactly; a small sideways offset keeps each visible.
    offs = {s: 1.0 + 0.045 * (k - (len(suites) - 1) / 2) for k, s in enumerate(suites)}
    for _, r in agg.iterrows():
        c = suite_colour(r["suite"])
        mk = _ENCODING_MARKERS.get(r["encoding"], "v")
        padded = int(r["pad_bytes"]) > 0
        x = r["plaintext_bytes_mean"] * offs[r["suite"]]
        style = dict(marker=mk, ms=4.5, mec=c, mfc="none" if padded else c, mew=1.0, ls="none",
                     zorder=3)
        ax_b.plot([x], [r["overhead_bytes_mean"]], **style)
        ax_p.plot([x], [r["overhead_pct"]], **style)
    lo, hi = agg["plaintext_bytes_mean"].min(), agg["plaintext_bytes_mean"].max()
    xs = np.geomspace(max(1.0, lo / 1.6), hi * 1.6, 200)
    # PROTOCOL.md's header plus the suite's tag, as the run's binary states them (offer.csv).
    theory = sorted({SUITE_SIZES[s]["overhead_bytes"] for s in suites if s in SUITE_SIZES})
    headers = sorted({SUITE_SIZES[s]["header_bytes"] for s in suites if s in SUITE_SIZES})
    tags = sorted({SUITE_SIZES[s]["tag_bytes"] for s in suites if s in SUITE_SIZES})
    for t in theory:
        ax_b.axhline(t, color="#888888", lw=0.8, ls=(0, (4, 2)), zorder=1)
        ax_b.text(xs[-1], t, f" {t} B", va="center", ha="left", fontsize=6, color="#555555",
                  clip_on=False)
        ax_p.plot(xs, 100.0 * t / xs, color="#888888", lw=0.8, ls=(0, (4, 2)), zorder=1)
    ax_b.set_xscale("log")
    ax_p.set_xscale("log")
    ax_p.set_yscale("log")
    ax_b.set_ylim(bottom=0)
    ax_b.set_ylabel("overhead (wire − plaintext, B)")
    ax_p.set_ylabel("overhead (% of plaintext)")
    ax_p.set_xlabel("plaintext bytes per message (log)")
    _log_ticks(ax_p.xaxis, xs[0], xs[-1], plain=True)
    pct = agg["overhead_pct"][agg["overhead_pct"] > 0]
    if len(pct):
        _log_ticks(ax_p.yaxis, pct.min(), pct.max(), plain=True)
    encs = [e for e in ["synthetic", "json", "csv", "cbor"] if e in set(agg["encoding"])]
    encs += sorted(set(agg["encoding"]) - set(encs))
    kinds = [Line2D([], [], color="black", marker=_ENCODING_MARKERS.get(e, "v"), ls="none",
                    ms=4.5, label="sizeN" if e == "synthetic" else e) for e in encs]
    if (agg["pad_bytes"] > 0).any():
        kinds.append(Line2D([], [], color="black", marker="o", mfc="none", ls="none", ms=4.5,
                            label="padded"))
    if theory:
        kinds.append(Line2D([], [], color="#888888", ls=(0, (4, 2)), lw=0.8,
                            label=f"{'/'.join(map(str, headers))} B + tag"))
    _finish(fig, run, [_suite_handles(suites), kinds], legend_fontsize=6.5)
    caption = (f"{title}: bytes added per message (top) and the same as a percentage of the "
               "plaintext (bottom), per suite, from every cell's mean plaintext and wire bytes "
               "(synthetic sizeN payloads and dataset records alike), log x. Dashed grey: the "
               f"protocol's {' or '.join(map(str, headers))}-byte header plus the suite's tag "
               f"({_or_list(tags)} B). "
               "Markers give the payload kind; hollow markers are padded bodies, whose overhead "
               "includes the padding. Suites with equal overhead are offset slightly sideways "
               "to stay visible. ")
    if spread and spread > 0.5:
        caption += (f"Backends differ by up to {spread:.1f} B for the same payload; points show "
                    "the median. ")
    caption += _run_sentence(run)
    return Figure(name, title, caption, _save(fig, out_dir, name), COLUMN_WIDTH_IN)


# ---- 4. throughput against rekey interval ----

def _rekey_figure(run, out_dir):
    name = "throughput_vs_rekey"
    title = "Throughput against rekey interval"
    cells = _cells(run).dropna(subset=["throughput_msgs_per_s"])
    # A sweep is a set of cells identical in everything but the rekey interval (study ignored:
    # two studies measuring the same configuration pool their repetitions).
    same = [f for f in ["backend", "suite", "group", "auth", "payload", "encoding", "pad_bytes",
                        "qos", "rate_hz", "devices", "topology", "messages_per_device",
                        "warmup_per_device"] if f in cells.columns]
    sweeps = []
    if len(cells):
        for key, g in cells.groupby(same, sort=False, dropna=False):
            if (g["rekey_messages"] > 0).any():
                sweeps.append((dict(zip(same, key)), g))
    groups = _sorted({k["group"] for k, _ in sweeps}, GROUP_ORDER)
    ncols = max(1, len(groups))
    width = COLUMN_WIDTH_IN if ncols <= 2 else FULL_WIDTH_IN
    fig, axes = _new_figure(width, 2.1 if sweeps else 1.0, 1, ncols, sharey=True)
    caption_extra = ""
    if not sweeps:
        _empty(axes[0][0], "no cells with rekey > 0 in this run")
        _finish(fig, run)
        caption = f"{title}: nothing to show, no cells with rekey > 0 in this run. " + \
                  _run_sentence(run)
        return Figure(name, title, caption, _save(fig, out_dir, name), width)
    intervals = sorted({int(v) for _, g in sweeps for v in g["rekey_messages"]},
                       key=lambda v: (v == 0, v))  # never (0) last: the longest interval
    pos = {v: i for i, v in enumerate(intervals)}
    # Factors that differ between sweeps besides backend/suite/group go into the line labels.
    varying = [f for f in same if f not in ("backend", "suite", "group")
               and len({str(k[f]) for k, _ in sweeps}) > 1]
    suites_seen, backends_seen = set(), set()
    labelled = False
    for j, grp in enumerate(groups):
        ax = axes[0][j]
        mine = [(k, g) for k, g in sweeps if k["group"] == grp]
        mine.sort(key=lambda kg: (order_key([kg[0]["suite"]], SUITE_ORDER)[0],
                                  order_key([kg[0]["backend"]], BACKEND_ORDER)[0]))
        nl = len(mine)
        for li, (k, g) in enumerate(mine):
            per = g.groupby("rekey_messages")["throughput_msgs_per_s"].agg(["median", "min", "max"])
            per = per.loc[sorted(per.index, key=lambda v: pos[int(v)])]
            # Lines at the same x are nudged apart so their error bars do not hide each other.
            dx = 0.06 * (li - (nl - 1) / 2)
            x = np.array([pos[int(v)] for v in per.index]) + dx
            ls, mk = backend_style(k["backend"])
            c = suite_colour(k["suite"])
            ax.errorbar(x, per["median"], yerr=[per["median"] - per["min"], per["max"] - per["median"]],
                        color=c, ls=ls, marker=mk, ms=4, capsize=2, lw=1.1, elinewidth=0.8)
            if varying:
                lab = ", ".join(f"{k[f]}" for f in varying)
                ax.annotate(lab, (x[-1], per["median"].iloc[-1]), xytext=(3, 0),
                            textcoords="offset points", fontsize=5.5, va="center")
                labelled = True
            suites_seen.add(k["suite"])
            backends_seen.add(k["backend"])
        ax.set_xticks(range(len(intervals)))
        ax.set_xticklabels(["never" if v == 0 else f"{v}" for v in intervals])
        ax.set_xlim(-0.5, len(intervals) - 0.5)
        ax.set_title(f"group {grp}")
        ax.set_xlabel("rekey interval (msgs)" if ncols > 1 else "rekey interval (messages)")
        ax.set_ylim(bottom=0)
        if j == 0:
            ax.set_ylabel("throughput (messages/s)")
        ax.grid(axis="x", visible=False)
    _finish(fig, run, [_suite_handles(_sorted(suites_seen, SUITE_ORDER)),
                       _backend_handles(_sorted(backends_seen, BACKEND_ORDER))])
    held = []
    for f in same:
        if f in ("backend", "suite", "group") or f in varying:
            continue
        held.append(_fmt_level(f, sweeps[0][0][f]) if f in ("qos", "rate_hz", "devices",
                                                              "pad_bytes", "auth")
                    else f"{f.replace('_', ' ')} {sweeps[0][0][f]}")
    if labelled:
        caption_extra = "Line labels give the levels that differ between lines: " + \
                        ", ".join(varying) + ". "
    caption = (f"{title}: messages received per second per cell (median over repetitions, "
               "error bars min–max), against the number of messages between rekeys ('never': "
               "the first handshake only), one panel per key-exchange group. Colour is the "
               "suite, line style and marker the backend; lines at one interval are offset "
               "slightly sideways. The cells share " + ", ".join(held) + ". " + caption_extra
               + _run_sentence(run))
    return Figure(name, title, caption, _save(fig, out_dir, name), width)


# ---- 5. one operation on several machines ----

def _telemetry_size(run, sizes):
    """The micro size nearest (in ratio) to the run's median dataset record, 64 B without one."""
    cells = _cells(run)
    ds = cells[cells["encoding"] != "synthetic"]["plaintext_bytes_mean"].dropna()
    target = float(ds.median()) if len(ds) else 64.0
    best = min(sizes, key=lambda s: (abs(math.log(s / target)), s))
    return best, target, len(ds) > 0


def _platform_figure(run, others, out_dir):
    name = "platform_compare"
    title = "Seal cost across machines"
    runs = [run] + [o for o in others if o is not run]
    micros = [(r, _micro(r)) for r in runs]
    seal = [(r, m[(m["op"] == "seal") & (m["status"] == "ok")]) for r, m in micros if m is not None]
    seal = [(r, m) for r, m in seal if len(m)]
    common = None
    for _, m in seal:
        s = set(int(b) for b in m["bytes"].unique())
        common = s if common is None else common & s
    if not seal or not common or len(seal) < 2:
        fig, axes = _new_figure(FULL_WIDTH_IN, 1.0, 1, 1)
        why = ("fewer than two runs with seal microbenchmarks" if len(seal) < 2
               else "no payload size measured by every run")
        _empty(axes[0][0], why)
        _finish(fig, run)
        caption = f"{title}: nothing to compare, {why}. {_run_sentence(run)}"
        return Figure(name, title, caption, _save(fig, out_dir, name), FULL_WIDTH_IN)
    size, target, from_data = _telemetry_size(run, sorted(common))
    backends = _sorted({b for _, m in seal for b in m["backend"].unique()}, BACKEND_ORDER)
    suites = _sorted({s for _, m in seal for s in m["suite"].unique()}, SUITE_ORDER)
    fig, axes = _new_figure(FULL_WIDTH_IN, 2.3, 1, len(backends), sharey=True)
    nr = len(seal)
    w = 0.8 / nr
    top = 0.0
    for j, b in enumerate(backends):
        ax = axes[0][j]
        for i, (r, m) in enumerate(seal):
            d = m[(m["backend"] == b) & (m["bytes"] == size)].set_index("suite")
            d = d[~d.index.duplicated()]
            xs, ys, lo, hi = [], [], [], []
            for k, s in enumerate(suites):
                if s in d.index:
                    row = d.loc[s]
                    xs.append(k - 0.4 + w * (i + 0.5))
                    ys.append(float(row["ns_p50"]))
                    lo.append(float(row["ns_p50"] - row["ns_p25"]))
                    hi.append(float(row["ns_p75"] - row["ns_p50"]))
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            style = (dict(color="white", edgecolor=colour, hatch="////", lw=0.8) if r.emulated
                     else dict(color=colour, edgecolor=colour, lw=0.8))
            ax.bar(xs, ys, width=w * 0.92, yerr=[lo, hi], capsize=1.5,
                   error_kw=dict(lw=0.6, ecolor="#222222"), **style)
            for x, y, up in zip(xs, ys, hi):
                ax.text(x, (y + up) * 1.25, f"{y:.1f}" if y < 10 else f"{y:.0f}", rotation=90,
                        ha="center", va="bottom", fontsize=5)
            top = max(top, max((y + up for y, up in zip(ys, hi)), default=0))
        ax.set_xticks(range(len(suites)))
        ax.set_xticklabels(suites, rotation=30, ha="right", fontsize=6.5)
        ax.set_yscale("log")
        ax.set_title(b)
        ax.grid(axis="x", visible=False)
        if j == 0:
            ax.set_ylabel(f"seal time, {size} B payload (ns, log)")
        for k, s in enumerate(suites):  # the tick's colour ties a suite to the other figures
            ax.get_xticklabels()[k].set_color(suite_colour(s))
    if top > 0:  # room above the tallest bar for its rotated value
        axes[0][0].set_ylim(top=top * 12)
    handles = []
    for i, (r, _) in enumerate(seal):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        lab = r.label + (f"\n{EMULATED_NOTE}" if r.emulated else "")
        handles.append(Patch(facecolor="white" if r.emulated else colour, edgecolor=colour,
                             hatch="////" if r.emulated else None, label=lab))
    _finish(fig, run, [[h] for h in handles],
            note="compared with " + ", ".join(r.run_id for r, _ in seal[1:]), legend_fontsize=6.5)
    why_size = (f"the measured size nearest the run's median dataset record ({target:.0f} B)"
                if from_data else "a typical telemetry size (no dataset cells in the run)")
    emu = [r for r, _ in seal if r.emulated]
    caption = (f"{title}: median time of one seal at {size} B ({why_size}), per backend and "
               "suite, one bar per run (error bars p25–p75 over repetitions), log y. Runs: "
               + "; ".join(r.label for r, _ in seal) + ". ")
    if emu:
        caption += ("Hatched bars are EMULATED runs (qemu-user): they time the emulator on "
                    "another machine and are not board figures. ")
    caption += _run_sentence(run)
    return Figure(name, title, caption, _save(fig, out_dir, name), FULL_WIDTH_IN)


def _other_machine(run, others):
    return any(o.machine != run.machine or o.emulated != run.emulated for o in others)


# ---- entry point ----

def build_figures(run, others, out_dir):
    """Draw every figure of `run` into out_dir; `others` are runs to compare with (maybe empty).
    Returns the Figure objects in the paper's order."""
    others = list(others or [])
    os.makedirs(out_dir, exist_ok=True)
    builders = [_latency_figure, _cost_figure, _overhead_figure, _rekey_figure]
    figs = []
    with plt.rc_context(RC):
        for build in builders:
            figs.append(build(run, out_dir))
        if _other_machine(run, others):
            figs.append(_platform_figure(run, others, out_dir))
    for f in figs:
        f.tex_path = os.path.join(out_dir, f"{f.name}.tex")
        with open(f.tex_path, "w") as fh:
            fh.write(f.to_latex())
    return figs
