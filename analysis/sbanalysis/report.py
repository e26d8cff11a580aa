"""The report page of a run: one self-contained HTML file (figures embedded as PNG data URIs,
inline CSS, no script, no request to anywhere) that can be mailed, archived or opened offline.

write_report(run, others, tables, figs, path) takes the Tables of tables.py and the Figures of
figures.py as they are; every text is escaped here, except each table's own to_html(). Elements
have stable ids (header, toc, tables, table-<name>, figures, figure-<name>, failed, manifest,
manifest-<part>) so tests and links can find them."""

import base64
import html
import os
import re

EMULATED_BANNER = ("EMULATED (qemu-user): these timings are of an emulator on another machine, "
                   "not board figures.")

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: #1a1a1a; margin: 0 auto; max-width: 1100px; padding: 0 24px 48px; }
h1 { font-size: 1.6em; margin: 24px 0 4px; }
h2 { font-size: 1.3em; margin-top: 40px; border-bottom: 1px solid #ccc; padding-bottom: 3px; }
h3 { font-size: 1.08em; margin: 28px 0 6px; }
h4 { font-size: 1em; margin: 18px 0 4px; }
.machine { color: #333; margin: 0 0 10px; }
.emulated { background: #b00000; color: #fff; font-weight: bold; padding: 10px 14px;
            border-radius: 4px; margin: 10px 0; font-size: 1.05em; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600;
          font-size: .9em; }
.status-complete { background: #d9f2dd; color: #14532d; }
.status-other { background: #fde2cf; color: #7c2d12; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: .88em; }
th, td { border: 1px solid #d4d4d4; padding: 3px 8px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 14em; font-weight: 600; }
table caption { caption-side: top; text-align: left; padding: 4px 0; color: #333; }
.tablewrap { overflow-x: auto; }
.caption, figcaption { color: #333; font-size: .92em; max-width: 60em; }
.notes { font-size: .86em; color: #444; margin: 4px 0 0; }
figure { margin: 18px 0 30px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; display: block; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: 10px; overflow-x: auto;
      font-size: .84em; line-height: 1.35; }
code, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: .9em; word-break: break-all; }
.na { color: #888; }
.why { color: #777; font-size: .9em; }
nav#toc ol { margin: 4px 0; } nav#toc li { margin: 1px 0; }
nav#toc { background: #fafafa; border: 1px solid #e5e5e5; padding: 8px 16px; margin: 16px 0; }
.ok { color: #14532d; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 8px 0; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
"""


def esc(v):
    return html.escape("" if v is None else str(v), quote=True)


def slug(name):
    """An id-safe form of a table or figure name (names are identifiers already, normally)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-") or "unnamed"


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


# ---- generic rendering of manifest values ----

def _scalar(v):
    if v is None:
        return '<span class="na">—</span>'
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return esc(f"{v:.6g}")
    s = str(v)
    if re.fullmatch(r"[0-9a-f]{40,}", s):  # hashes and long ids: monospace, breakable
        return f'<span class="mono">{esc(s)}</span>'
    return esc(s)


def _value(v, depth=0):
    if isinstance(v, dict) and v and all(isinstance(x, bool) for x in v.values()):
        # flag sets (CPU crypto flags...): one line instead of a table of yes/no rows
        yes = [k for k, x in v.items() if x]
        no = [k for k, x in v.items() if not x]
        return (f"{esc(', '.join(yes) or 'none')}"
                + (f' <span class="why">(absent: {esc(", ".join(no))})</span>' if no else ""))
    if isinstance(v, dict):
        return _kv(v, depth + 1)
    if isinstance(v, list):
        if not v:
            return '<span class="na">none</span>'
        if all(isinstance(x, dict) for x in v):
            return _records(v)
        if all(not isinstance(x, (dict, list)) for x in v):
            return esc(", ".join("—" if x is None else str(x) for x in v))
        return "<ol>" + "".join(f"<li>{_value(x, depth + 1)}</li>" for x in v) + "</ol>"
    return _scalar(v)


def _kv(d, depth=0, skip=()):
    """A dict as a two-column table. The manifest pairs a field that could not be found with
    FIELD_why saying why; the reason is shown beside the value rather than as a row of its own."""
    rows = []
    for k, v in d.items():
        if k in skip or (k.endswith("_why") and k[:-4] in d):
            continue
        cell = _value(v, depth)
        why = d.get(k + "_why")
        if why:
            cell += f' <span class="why">({esc(why)})</span>'
        rows.append(f"<tr><th>{esc(k)}</th><td>{cell}</td></tr>")
    if not rows:
        return '<span class="na">empty</span>'
    return '<table class="kv">' + "".join(rows) + "</table>"


def _records(items, columns=None):
    cols = columns or []
    if not columns:
        for it in items:
            for k in it:
                if k not in cols:
                    cols.append(k)
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_value(it.get(c), 1)}</td>" for c in cols) + "</tr>"
                   for it in items)
    return f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


# ---- sections ----

def _status_badge(status):
    cls = "status-complete" if status == "complete" else "status-other"
    return f'<span class="status {cls}">{esc(status or "unknown")}</span>'


def _header(run, others):
    m = run.manifest
    r = m.get("run", {}) or {}
    sessions = m.get("sessions") or []
    first_start = _get(sessions[0], "run", "started_utc") if sessions else None
    out = ['<header id="header">',
           f"<h1>sealbench run {esc(run.run_id)}</h1>",
           f'<p class="machine">{esc(run.machine)}</p>']
    if run.emulated:
        out.append(f'<div class="emulated" id="emulated-banner">{esc(EMULATED_BANNER)}</div>')
    meta = [("status", _status_badge(r.get("status"))),
            ("started (UTC)", esc(first_start or r.get("started_utc"))
             + (f' <span class="why">(first session; this session {esc(r.get("started_utc"))})</span>'
                if first_start and first_start != r.get("started_utc") else "")),
            ("finished (UTC)", _scalar(r.get("finished_utc"))),
            ("sessions", esc(len(sessions) + 1) + (" (resumed)" if sessions else "")),
            ("cells", f"{run.cells['cell_id'].nunique()} cells, {len(run.cells)} cell × repetitions "
                      f"ok, {len(run.failed)} failed"),
            ("config", f'<code>{esc(_get(m, "config", "path"))}</code> '
                       f'<span class="why">sha256 {esc(_get(m, "config", "sha256"))}</span>'),
            ("build", f'<code>{esc(_get(m, "build", "git_describe"))}</code>, '
                      f'{esc(_get(m, "build", "compiler"))}'),
            ("command", f'<code>{esc(r.get("command_line"))}</code>'),
            ("run folder", f"<code>{esc(run.path)}</code>")]
    if others:
        items = []
        for o in others:
            tag = ' <strong style="color:#b00000">EMULATED (qemu-user), not board figures</strong>' \
                if o.emulated else ""
            items.append(f"{esc(o.label)}{tag}")
        meta.append(("compared with", "<br>".join(items)))
    out.append('<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
               + "</dl>")
    out.append("</header>")
    return "\n".join(out)


def _toc(tables, figs, run):
    def li(href, text, sub=None):
        s = f'<li><a href="#{href}">{esc(text)}</a>'
        if sub:
            s += "<ol>" + "".join(sub) + "</ol>"
        return s + "</li>"
    parts = [li("tables", "Tables", [li(f"table-{slug(t.name)}", t.title) for t in tables]),
             li("figures", "Figures", [li(f"figure-{slug(f.name)}", f.title) for f in figs]),
             li("failed", f"Failed cells ({len(run.failed)})"),
             li("manifest", "Manifest", [li(f"manifest-{k}", t) for k, t in _MANIFEST_PARTS
                                         if k != "other" or _other_fields(run.manifest)])]
    return '<nav id="toc"><strong>Contents</strong><ol>' + "".join(parts) + "</ol></nav>"


def _notes(notes):
    if not notes:
        return ""
    if isinstance(notes, str):
        notes = [notes]
    return '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"


def _tables(tables):
    out = ['<section id="tables"><h2>Tables</h2>']
    if not tables:
        out.append('<p class="na">No tables.</p>')
    for t in tables:
        body = t.to_html()
        out.append(f'<section id="table-{slug(t.name)}" class="table"><h3>{esc(t.title)}</h3>')
        # tables.py puts the caption inside its <table>; a table that does not gets it here.
        cap = getattr(t, "caption", None)
        if cap and esc(cap) not in body:
            out.append(f'<p class="caption">{esc(cap)}</p>')
        out.append(f'<div class="tablewrap">{body}</div>')
        out.append(_notes(getattr(t, "notes", None)))
        out.append("</section>")
    out.append("</section>")
    return "\n".join(out)


def _figures(figs):
    out = ['<section id="figures"><h2>Figures</h2>']
    if not figs:
        out.append('<p class="na">No figures.</p>')
    for f in figs:
        png = f.paths.get("png")
        out.append(f'<figure id="figure-{slug(f.name)}">')
        try:
            with open(png, "rb") as fh:
                data = base64.b64encode(fh.read()).decode("ascii")
            out.append(f'<img src="data:image/png;base64,{data}" alt="{esc(f.title)}">')
        except (OSError, TypeError) as e:
            out.append(f'<p class="na">PNG not readable ({esc(png)}): {esc(e)}</p>')
        pdf = os.path.basename(f.paths.get("pdf") or "")
        cap = str(f.caption or "")
        if cap.startswith(f.title):  # figures.py captions open with the title: bold it once
            text = f"<strong>{esc(f.title)}</strong>{esc(cap[len(f.title):])}"
        else:
            text = f"<strong>{esc(f.title)}.</strong> {esc(cap)}"
        out.append(f"<figcaption>{text}"
                   + (f' <span class="why">(for the paper: <code>{esc(pdf)}</code>)</span>' if pdf else "")
                   + "</figcaption></figure>")
    out.append("</section>")
    return "\n".join(out)


def _failed(run):
    out = ['<section id="failed"><h2>Failed cells</h2>']
    f = run.failed
    if f is None or len(f) == 0:
        out.append('<p class="ok">None: every cell × repetition of the run finished ok.</p>')
    else:
        cols = [c for c in ["cell_id", "repetition", "run_order", "error"] if c in f.columns]
        rows = [{c: (None if _isnan(v) else v) for c, v in zip(cols, r)}
                for r in f[cols].itertuples(index=False)]
        out.append(f"<p>{len(f)} cell × repetition(s) failed; their figures are missing from the "
                   "tables and figures above.</p>")
        out.append(_records(rows, cols))
    out.append("</section>")
    return "\n".join(out)


def _isnan(v):
    try:
        return v != v
    except Exception:
        return False


# ---- the manifest, readably ----

_MANIFEST_PARTS = [("run", "Run"), ("build", "Build"), ("libraries", "Libraries as loaded"),
                   ("host", "Host"), ("config", "Config"), ("datasets", "Datasets"),
                   ("plan", "Plan"), ("sessions", "Earlier sessions"), ("other", "Other fields")]


def _libraries(libs):
    rows = []

    def add(component, d):
        extra = {k: v for k, v in d.items() if k not in ("library", "version", "source")}
        rows.append({"component": component, "library": d.get("library"),
                     "version": d.get("version"), "source": d.get("source"),
                     "more": extra or None})
    for k, v in (libs or {}).items():
        if isinstance(v, dict) and "version" not in v and all(isinstance(x, dict) for x in v.values()):
            for kk, vv in v.items():  # e.g. backends: openssl, sodium, mbedtls
                add(f"{k}: {kk}", vv)
        elif isinstance(v, dict):
            add(k, v)
        else:
            rows.append({"component": k, "library": None, "version": v, "source": None, "more": None})
    if not rows:
        return '<p class="na">No libraries recorded.</p>'
    return _records(rows, ["component", "library", "version", "source", "more"])


def _datasets(ds):
    if not ds:
        return '<p class="na">No datasets (synthetic payloads only).</p>'
    seen, rows = set(), []
    for d in ds:  # one entry per payload level that reads it: list each file once
        key = (d.get("path"), d.get("sha256"))
        if key in seen:
            continue
        seen.add(key)
        rows.append(d)
    return _records(rows)


def _plan(plan):
    if not plan:
        return '<p class="na">No plan recorded.</p>'
    dropped = plan.get("dropped") or []
    out = [_kv(plan, skip=("dropped",))]
    out.append(f"<h4>Dropped cells ({len(dropped)})</h4>")
    if dropped:
        out.append(_records(dropped))
    else:
        out.append('<p class="na">None: every cell of the config was measured.</p>')
    return "\n".join(out)


def _sessions(sessions):
    if not sessions:
        return '<p class="na">None: the run was measured in one session.</p>'
    rows = []
    for s in sessions:
        r = s.get("run", {}) or {}
        rows.append({k: r.get(k) for k in ["started_utc", "finished_utc", "status", "cells_done",
                                            "cells_failed", "command_line"]}
                    | {"git_describe": _get(s, "build", "git_describe")})
    return _records(rows)


_KNOWN = {"run", "build", "libraries", "host", "config", "datasets", "plan", "sessions", "seed",
          "broker", "schema"}


def _other_fields(m):
    return {k: v for k, v in (m or {}).items() if k not in _KNOWN}


def _manifest(run):
    m = run.manifest or {}
    parts = {
        "run": _kv(dict(m.get("run") or {}) | {"seed": m.get("seed"), "broker": m.get("broker"),
                                               "manifest schema": m.get("schema")}),
        "build": _kv(m.get("build") or {}),
        "libraries": _libraries(m.get("libraries")),
        "host": _kv(m.get("host") or {}),
        "config": (_kv(m.get("config") or {}, skip=("text",))
                   + f'<pre id="config-text">{esc(_get(m, "config", "text") or "")}</pre>'),
        "datasets": _datasets(m.get("datasets")),
        "plan": _plan(m.get("plan")),
        "sessions": _sessions(m.get("sessions")),
        "other": _kv(_other_fields(m)),
    }
    if not _other_fields(m):
        del parts["other"]
    out = ['<section id="manifest"><h2>Manifest</h2>',
           f"<p>From <code>{esc(os.path.join(run.path, 'manifest.json'))}</code>: what was built, "
           "what was loaded, where it ran and what was asked.</p>"]
    for key, title in _MANIFEST_PARTS:
        if key not in parts:
            continue
        out.append(f'<section id="manifest-{key}"><h3>{esc(title)}</h3>{parts[key]}</section>')
    out.append("</section>")
    return "\n".join(out)


def write_report(run, others, tables, figs, path):
    """Write the report page of `run` to `path` (one HTML file, nothing fetched when opened)."""
    others = list(others or [])
    tables = list(tables or [])
    figs = list(figs or [])
    title = f"sealbench run {run.run_id}" + (" — EMULATED" if run.emulated else "")
    body = [_header(run, others), _toc(tables, figs, run), _tables(tables), _figures(figs),
            _failed(run), _manifest(run)]
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + f"\n<footer><p class=\"why\">Written by sealbench analysis (report.py) from "
              f"{esc(run.path)}.</p></footer>\n</body>\n</html>\n")
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(tmp, path)  # a reader never sees half a page
    return path
