"""What every table of tables.py is made of: the Table (one table in LaTeX, Markdown, HTML and
CSV), the number formats, choosing and ordering cells, and the per-message samples of a
condition. The tables themselves, one function each, are in tables.py."""

import html
import math
import re

import numpy as np
import pandas as pd

from . import stats
from .load import BACKEND_ORDER, FACTORS, GROUP_ORDER, SUITE_ORDER

# A cell's condition: every factor but the study's name.
CONDITION = [f for f in FACTORS if f != "study"]
NA = "–"          # not applicable / no data, in display text
EMULATED_MARK = "EMULATED (qemu-user): not board figures"


# ---------------------------------------------------------------------------------------------
# The Table
# ---------------------------------------------------------------------------------------------

class Table:
    """One table: display (strings), data (full precision), notes (how each number is made)."""

    def __init__(self, name, title, caption, display, data, notes=(), empty=None, latex_max_rows=None):
        self.name = name
        self.title = title
        self.caption = caption
        self.display = display.reset_index(drop=True)
        self.data = data.reset_index(drop=True)
        self.notes = list(notes)
        self.empty = empty                    # why the table has no rows, when it has none
        self.latex_max_rows = latex_max_rows  # a float cannot break across pages: cut, say where the rest is

    def __repr__(self):
        return f"<Table {self.name}: {len(self.display)} rows>"

    def _align(self):
        """'r' for columns of numbers, 'l' for words."""
        out = []
        for col in self.display.columns:
            vals = [str(v) for v in self.display[col] if str(v) not in ("", NA)]
            num = bool(vals) and all(re.match(r"^[−\-+<>]?[0-9]", v) or v.startswith("n/a")
                                     for v in vals)
            out.append("r" if num else "l")
        return out

    def to_latex(self):
        cols = list(self.display.columns)
        align = self._align()
        width = sum(max([len(str(c))] + [len(str(v)) for v in self.display[c]]) + 3 for c in cols)
        wide = len(cols) > 7 or width > 110
        lines = [f"% {self.name}: {_tex_comment(self.title)}"]
        lines += [f"% {_tex_comment(n)}" for n in self.notes]
        lines += ["\\begin{table}[t]", "\\centering", "\\small"]
        if wide:
            lines.append("\\resizebox{\\linewidth}{!}{%")
        lines.append("\\begin{tabular}{" + "".join(align) + "}")
        lines.append("\\toprule")
        lines.append(" & ".join(latex_escape(c) for c in cols) + " \\\\")
        lines.append("\\midrule")
        if self.empty:
            lines.append(f"\\multicolumn{{{len(cols)}}}{{l}}{{{latex_escape(self.empty)}}} \\\\")
        else:
            shown = self.display
            if self.latex_max_rows and len(shown) > self.latex_max_rows:
                shown = shown.head(self.latex_max_rows)
            for _, row in shown.iterrows():
                lines.append(" & ".join(latex_escape(row[c]) for c in cols) + " \\\\")
            if len(shown) < len(self.display):
                more = f"... {len(self.display) - len(shown)} more rows in tables/{self.name}.csv and .md"
                lines.append(f"\\multicolumn{{{len(cols)}}}{{l}}{{{latex_escape(more)}}} \\\\")
        lines.append("\\bottomrule")
        lines.append("\\end{tabular}" + ("}" if wide else ""))
        lines.append(f"\\caption{{{latex_escape(self.caption)}}}")
        lines.append(f"\\label{{tab:{self.name}}}")
        lines.append("\\end{table}")
        return "\n".join(lines) + "\n"

    def to_markdown(self):
        cols = list(self.display.columns)
        align = self._align()
        out = [f"### {self.title}", "", f"*{_md_escape(self.caption)}*", ""]
        out.append("| " + " | ".join(_md_escape(c) for c in cols) + " |")
        out.append("|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|")
        for _, row in self.display.iterrows():
            out.append("| " + " | ".join(_md_escape(row[c]) for c in cols) + " |")
        if self.notes:
            out.append("")
            out += [f"- {_md_escape(n)}" for n in self.notes]
        return "\n".join(out) + "\n"

    def to_html(self, notes=False):
        cols = list(self.display.columns)
        align = self._align()
        out = [f'<table class="sbtable" id="tab-{html.escape(self.name)}">',
               f"<caption><b>{html.escape(self.title)}.</b> {html.escape(self.caption)}</caption>",
               "<thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in cols) + "</tr></thead>",
               "<tbody>"]
        if self.empty:
            out.append(f'<tr><td colspan="{len(cols)}">{html.escape(self.empty)}</td></tr>')
        for _, row in ([] if self.empty else self.display.iterrows()):
            cells = "".join(f'<td class="{"num" if a == "r" else "txt"}">{html.escape(str(row[c]))}</td>'
                            for c, a in zip(cols, align))
            out.append(f"<tr>{cells}</tr>")
        out.append("</tbody></table>")
        if notes and self.notes:
            out.append('<ul class="sbnotes">' + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        return "\n".join(out) + "\n"

    def notes_html(self):
        return '<ul class="sbnotes">' + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>\n"

    def to_csv(self, path=None):
        """The full-precision data; written to path when given, else returned as text."""
        text = self.data.to_csv(index=False, float_format="%.17g")
        if path:
            with open(path, "w") as f:
                f.write(text)
        return text


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "<": r"\textless{}", ">": r"\textgreater{}", "µ": r"$\mu$", "μ": r"$\mu$", "–": "--",
        "—": "---", "×": r"$\times$", "−": r"$-$", "≤": r"$\le$", "≥": r"$\ge$", "±": r"$\pm$",
        "→": r"$\to$", "Δ": r"$\Delta$", "\u2009": r"\,", "≈": r"$\approx$"}


def latex_escape(s):
    """Text for LaTeX (booktabs only): specials escaped, the few symbols we use as math."""
    return "".join(_TEX.get(ch, ch) for ch in str(s))


def _tex_comment(s):
    return str(s).replace("\n", " ")


def _md_escape(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------------
# Number formats: ns with 0 decimals, µs with 1, % with 1; big numbers grouped by thin spaces
# ---------------------------------------------------------------------------------------------

def _isnan(v):
    try:
        return v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v)
    except (TypeError, ValueError):
        return False


def fmt(v, decimals=0, group=True):
    if _isnan(v):
        return NA
    s = f"{abs(float(v)):.{decimals}f}"
    if group:
        ip, _, fp = s.partition(".")
        if len(ip) > 4:                       # 10 000 and up: thin-space thousands
            ip = "{:,}".format(int(ip)).replace(",", "\u2009")
        s = ip + ("." + fp if fp else "")
    return ("−" if float(v) < 0 and s.strip("0.\u2009") else "") + s


def fmt_ns(v):
    return fmt(v, 0)


def fmt_us(v):
    return fmt(v, 1)


def fmt_ms(v):
    return fmt(v, 2)


def fmt_pct(v):
    return fmt(v, 1)


def fmt_signed(v, decimals):
    s = fmt(v, decimals)
    return s if s == NA or s.startswith("−") or float(v) == 0 else "+" + s


def fmt_bytes(v):
    if _isnan(v):
        return NA
    return fmt(v, 0 if float(v) == round(float(v)) else 1)


def fmt_p(p):
    if _isnan(p):
        return NA
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_ci(mid, lo, hi, f):
    if _isnan(mid):
        return NA
    return f"{f(mid)} [{f(lo)}, {f(hi)}]"


def fmt_range(lo, hi, f):
    if _isnan(lo):
        return NA
    return f"{f(lo)}–{f(hi)}"


def _load_label(rate):
    return "saturated" if float(rate) == 0 else f"paced {float(rate):g} Hz"


# ---------------------------------------------------------------------------------------------
# Ordering and selecting cells
# ---------------------------------------------------------------------------------------------

_ORDERS = {"backend": BACKEND_ORDER, "suite": SUITE_ORDER, "group": GROUP_ORDER,
           "auth": ["psk", "none"], "topology": ["inproc", "split"], "source": ["micro", "in-situ"],
           "encoding": ["synthetic"], "op": ["seal", "open", "forge", "keygen", "ecdh", "handshake", "rekey"],
           "kind": ["micro", "cell"],
           "metric": ["ns_p50", "seal_ns_p50", "open_ns_p50", "e2e_us_p50", "rtt_us_p50", "throughput_msgs_per_s"]}


def _rank(col, v):
    """Sort key of one value: the paper's order for known levels, sizes by number, else text."""
    if _isnan(v):
        return (2, 0.0, "")
    if col in _ORDERS:
        order = _ORDERS[col]
        return (0, float(order.index(v)), "") if v in order else (1, 0.0, str(v))
    if col == "payload":
        m = re.fullmatch(r"size(\d+)", str(v))
        return (0, float(m.group(1)), "") if m else (1, 0.0, str(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return (0, float(v), "")
    return (1, 0.0, str(v))


def _sort(df, cols):
    if df.empty:
        return df
    cols = [c for c in cols if c in df.columns]
    keys = [tuple(_rank(c, r[c]) for c in cols) for _, r in df.iterrows()]
    order = sorted(range(len(df)), key=lambda i: keys[i])
    return df.iloc[order].reset_index(drop=True)


def _mode(series):
    """Most common value; ties broken by the paper's order so the choice is reproducible."""
    counts = series.value_counts()
    if counts.empty:
        return None
    top = counts[counts == counts.max()].index
    return sorted(top, key=lambda v: _rank(series.name, v))[0]


def _telemetry_payload(cells):
    """The most common dataset payload (real telemetry records), or the most common payload
    when the selection has no dataset payload."""
    if cells.empty:
        return None
    ds = cells[cells["encoding"] != "synthetic"]
    return _mode((ds if len(ds) else cells)["payload"])


def _insitu_cells(run):
    """Cells for in-situ per-message costs: no rekeying, saturated, one device, no padding, the
    telemetry payload, both roles in one process (as in the microbenchmark; a split gateway
    opens in another process under the echo load); any QoS, group and authentication, none of
    which touches sb_session_seal/open."""
    c = run.cells
    sel = c[(c["rekey_messages"] == 0) & (c["rate_hz"] == 0) & (c["devices"] == 1) & (c["pad_bytes"] == 0)
            & (c["topology"] == "inproc")]
    payload = _telemetry_payload(sel)
    return sel[sel["payload"] == payload], payload


def _varying(df, cols):
    return [c for c in cols if c in df.columns and df[c].nunique(dropna=False) > 1]


def _ids(rows):
    return ";".join(sorted(rows["cell_id"].unique()))


def _levels(rows, col):
    """The distinct values of a column among pooled cells, e.g. messages per device 2000;3000."""
    return ";".join(_factor_text(col, v) for v in sorted(rows[col].dropna().unique()))


def _caption(run, text):
    label = run.label
    s = f"{text} {label[:1].upper()}{label[1:]}."
    if run.emulated:
        s += f" {EMULATED_MARK}."
    return s


def _empty(name, title, caption, columns, data_columns, message, notes=()):
    """A table the run has no cells for: it still exists and says so in its one row."""
    display = pd.DataFrame([[message] + [""] * (len(columns) - 1)], columns=columns)
    return Table(name, title, caption, display, pd.DataFrame(columns=data_columns), notes, empty=message)


def _dropped_why(run, backend=None, suite=None, group=None):
    """Why the plan dropped cells of this backend/suite/group (manifest plan.dropped), if it did."""
    for d in run.manifest.get("plan", {}).get("dropped", []) or []:
        parts = str(d.get("cell", "")).split(".")
        if backend and backend not in parts:
            continue
        if suite and suite not in parts:
            continue
        if group and group not in parts:
            continue
        return d.get("why")
    return None


# ---------------------------------------------------------------------------------------------
# Per-message samples
# ---------------------------------------------------------------------------------------------

class _Messages:
    """The measured messages of each cell x repetition (warm-up dropped), as the tables use them.

    Delivered: the gateway opened it (opens >= 1) in-process, or its echo came back (rtt_ns) in
    the split topology. open_ns and e2e_ns are kept for delivered in-process messages only; a
    split cell's opens happen in the gateway process (<cell>.r<k>-gateway.csv), which no table
    pools."""

    def __init__(self, run):
        self.run = run
        self._cache = {}

    def get(self, cell_id, rep, topology):
        key = (cell_id, int(rep))
        if key in self._cache:
            return self._cache[key]
        s = self.run.samples(cell_id, rep)
        out = pd.DataFrame({"seal_ns": s["seal_ns"].to_numpy(dtype=float),
                            "plaintext_bytes": s["plaintext_bytes"].to_numpy(dtype=float),
                            "wire_bytes": s["wire_bytes"].to_numpy(dtype=float),
                            "rtt_ns": s["rtt_ns"].to_numpy(dtype=float)})
        if topology == "split":
            out["delivered"] = s["rtt_ns"].notna().to_numpy()
            out["open_ns"] = np.nan
            out["e2e_ns"] = np.nan
        else:
            delivered = (s["opens"] >= 1).to_numpy()
            out["delivered"] = delivered
            out["open_ns"] = np.where(delivered, s["open_ns"].to_numpy(dtype=float), np.nan)
            out["e2e_ns"] = np.where(delivered, s["e2e_ns"].to_numpy(dtype=float), np.nan)
        self._cache[key] = out
        return out

    def pool(self, rows, col, delivered_only=False):
        """One column of the measured messages of every cell x repetition in rows, pooled."""
        parts = []
        for _, r in rows.iterrows():
            m = self.get(r["cell_id"], r["repetition"], r["topology"])
            v = m[col].to_numpy(dtype=float)
            if delivered_only:
                v = v[m["delivered"].to_numpy()]
            parts.append(v[~np.isnan(v)])
        return np.concatenate(parts) if parts else np.array([])

    def seal_plus_open(self, rows):
        """seal_ns + open_ns of each message that was both sealed and opened, pooled."""
        parts = []
        for _, r in rows.iterrows():
            m = self.get(r["cell_id"], r["repetition"], r["topology"])
            v = (m["seal_ns"] + m["open_ns"]).to_numpy(dtype=float)
            parts.append(v[~np.isnan(v)])
        return np.concatenate(parts) if parts else np.array([])


def _med_ci(x):
    """Median of pooled samples with its bootstrap 95% interval."""
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    lo, hi = stats.bootstrap_median_ci(x)
    return float(stats.quantile(x, 0.5)), lo, hi


def _per_rep(rows, col):
    return rows[col].to_numpy(dtype=float)


def _med(v):
    v = np.asarray(v, dtype=float)
    v = v[~np.isnan(v)]
    return float(np.median(v)) if v.size else np.nan


def _factor_text(col, v):
    if _isnan(v):
        return NA
    if col == "rate_hz":
        return _load_label(v)
    if col in ("qos", "devices", "pad_bytes", "rekey_messages", "messages_per_device"):
        return str(int(v))
    return str(v)
