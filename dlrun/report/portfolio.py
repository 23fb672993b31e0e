"""The portfolio: its index (index.md, index.html) and each entry's history of runs.

**Index.** ``refresh_index`` reads ``*/results.json`` under the portfolio folder. An entry
whose results.json is missing fields, unreadable or not JSON is skipped and named in a
note; it never stops the index from being written. The index is a
:class:`~dlrun.report.model.Report` like an entry, rendered by the same two renderers; the
HTML page gets a small inline script (no external resource) that sorts its table by any
column. Each entry shows its protocol (folds x repeats, and whether the run was quick,
partial or raced), its lift over the baseline and over the published reference score, and
how many runs it keeps.

**History.** Every report of an entry is also kept whole, dated, under
``NAME/runs/RUN/`` (README.md, report.html, results.json, figures/ and the model):
:func:`keep_run` writes it, :func:`with_history` adds the "Runs" section that lists every
kept run with its scores and links, newest first. ``RUN`` is the report's UTC time,
``2024-05-01T12-30-05Z``. The model files the manifest lists are written once and
replaced, never rewritten in place (:mod:`dlrun.modelfile`), so a run keeps them as hard
links (copies where the file system has none); other model files are copied.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

from dlrun.report.analysis import Formatter, better_by, decimals_for, finite
from dlrun.report.context import now
from dlrun.report.files import atomic_write, dumps_json
from dlrun.report.model import (
    Badge,
    Bullets,
    Code,
    Link,
    Paragraph,
    Report,
    Section,
    Table,
    figure_files,
    text,
)
from dlrun.report.results import README, REPORT, RESULTS

INDEX_MD = "index.md"
INDEX_HTML = "index.html"
DESCRIPTION_LIMIT = 140
RUNS = "runs"
#: Runs listed in an entry's "Runs" section (the others stay in runs/, counted).
RUNS_SHOWN = 20
MODEL_DIR, MANIFEST = "model", "manifest.json"


# --------------------------------------------------------------------------- reading results.json


def read_document(folder: Path) -> dict:
    """``folder/results.json`` with its ``project`` and ``summary`` sections; ValueError when
    unusable."""
    path = Path(folder) / RESULTS
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{RESULTS} is not UTF-8 text ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{RESULTS} is not valid JSON (line {err.lineno}: {err.msg})") from None
    except OSError as err:
        raise ValueError(f"{RESULTS} cannot be read ({err.strerror or err})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{RESULTS} does not hold an object")
    if not isinstance(document.get("project"), dict) or not isinstance(document.get("summary"), dict):
        raise ValueError(f"{RESULTS} lacks its 'project' or 'summary' section")
    return document


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _score_text(row: dict | None, decimals: int) -> str:
    if not row or not finite(row.get("mean")):
        return ""
    fmt = Formatter(decimals)
    score = fmt(row["mean"])
    if finite(row.get("std")):
        score += f" ± {fmt(row['std'])}"
    return score


def protocol_label(board: dict) -> str:
    """``10×3 CV``, ``5×1 CV · quick · 2 raced``, ``walk-forward, last 12 · partial``: the
    resampling and what made the run lighter or incomplete."""
    protocol = _dict(board.get("protocol"))
    name = str(protocol.get("name") or "")
    folds, repeats = protocol.get("folds"), protocol.get("repeats")
    if "walk" in name:
        core = "walk-forward"
        if protocol.get("test_size"):
            core += f", last {protocol['test_size']}"
        if isinstance(protocol.get("origins"), int) and protocol["origins"] > 1:
            core += f" × {protocol['origins']} origins"
    elif folds and repeats:
        core = f"{folds}×{repeats} CV"
    else:
        core = name or "?"
    flags = []
    options = _dict(board.get("options"))
    if options.get("quick"):
        flags.append("quick")
    if options.get("only"):
        flags.append("subset")
    if board.get("interrupted") or board.get("out_of_time"):
        flags.append("partial")
    raced = board.get("raced")
    if isinstance(raced, list) and raced:
        flags.append(f"{len(raced)} raced")
    return " · ".join([core, *flags])


def facts(document: dict) -> dict:
    """What the index and the runs table show of one results.json (strings, '' when unknown)."""
    project, summary = _dict(document.get("project")), _dict(document.get("summary"))
    best, baseline = _dict(summary.get("best")), _dict(summary.get("baseline"))
    board = _dict(document.get("leaderboard"))
    decimals = decimals_for(board) if board.get("rows") else 3
    fmt = Formatter(decimals)
    reference = _dict(document.get("reference"))
    good = reference.get("good")
    gib = project.get("greater_is_better", board.get("greater_is_better", True))
    margin = _dict(summary.get("margins")).get("over_baseline")
    over_reference = ""
    if finite(good) and finite(best.get("mean")):
        over_reference = fmt(better_by(float(best["mean"]), float(good), bool(gib)), signed=True)
        if summary.get("protocol_matches_reference") is False:
            over_reference += " *"
    created = str(document.get("created") or "")
    return {
        "best": f"{best.get('algorithm')} ({best.get('view')})" if best else "",
        "score": _score_text(best, decimals),
        "baseline": _score_text(baseline, decimals),
        "over_baseline": fmt(margin, signed=True) if finite(margin) else "",
        "reference_good": fmt(good) if finite(good) else "",
        "over_reference": over_reference,
        "protocol": protocol_label(board),
        "created": created,
        "date": created[:10] if re.match(r"\d{4}-\d{2}-\d{2}", created) else created,
        "task": str(project.get("task") or ""),
        "metric": str(project.get("metric_label") or project.get("metric") or ""),
    }


def read_entry(folder: Path) -> dict:
    """One index row from ``folder/results.json``; raises ValueError when unusable."""
    document = read_document(folder)
    project = document["project"]
    description = " ".join(str(project.get("description") or "").split())
    if len(description) > DESCRIPTION_LIMIT:
        description = description[: DESCRIPTION_LIMIT - 1] + "…"
    return {
        **facts(document),
        "name": str(project.get("name") or folder.name),
        "folder": folder.name,
        "has_report": (folder / REPORT).is_file(),
        "description": description,
        "runs": len(list_runs(folder)),
    }


# --------------------------------------------------------------------------- the index


def collect(portfolio_dir: Path) -> tuple[list[dict], list[str]]:
    """Every readable entry (sorted by name) and a note for each one skipped."""
    entries, notes = [], []
    for folder in sorted(p for p in Path(portfolio_dir).iterdir() if p.is_dir()):
        if folder.name.startswith(".") or not (folder / RESULTS).exists():
            continue
        try:
            entries.append(read_entry(folder))
        except ValueError as err:
            notes.append(f"Skipped {folder.name}/: {err}.")
    entries.sort(key=lambda e: (e["name"].lower(), e["folder"]))
    return entries, notes


INDEX_COLUMNS = ("project", "task", "metric", "best model", "score", "protocol", "over baseline",
                 "reference (good)", "over reference", "runs", "date", "description")


def index_report(entries: list[dict], notes: list[str]) -> Report:
    from dlrun import __version__

    created = now()
    blocks: list = []
    count = f"{len(entries)} project{'' if len(entries) == 1 else 's'}"
    if entries:
        blocks.append(Paragraph(f"{count}, sorted by name. Each links to its report; scores are the "
                                "mean ± std over the resampling folds."))
        rows = []
        for e in entries:
            project = text(Link(e["name"], f"{e['folder']}/{README}"))
            if e["has_report"]:
                project += text(" (", Link("html", f"{e['folder']}/{REPORT}"), ")")
            runs = text(Link(str(e["runs"]), f"{e['folder']}/{README}#runs")) if e["runs"] else ""
            rows.append((project, e["task"], e["metric"], e["best"], e["score"], e["protocol"],
                         e["over_baseline"], e["reference_good"], e["over_reference"], runs,
                         e["date"], e["description"]))
        blocks.append(Table(INDEX_COLUMNS, tuple(rows),
                            align=("left",) * 6 + ("right",) * 4 + ("left",) * 2))
        blocks.append(Paragraph(
            "Protocol: folds × repeats of the resampling, and whether the run was quick "
            "(--quick), on a subset of the algorithms (--only), partial (interrupted or out of "
            "time) or raced (candidates stopped early). Over baseline: the best score's margin "
            "over the naive baseline; over reference: over the published good score of a "
            "standard dataset (* where the published protocol differs); positive is better "
            "whatever the metric. Runs: the reports kept in the entry's history.", muted=True))
    else:
        blocks.append(Paragraph(text("No finished entries yet: run ", Code("dlrun report PROJECT"),
                                     " to add one.")))
    sections = [Section("projects", "Projects", tuple(blocks))]
    if notes:
        sections.append(Section("notes", "Notes", (Bullets(tuple(notes)),)))
    return Report(title="Portfolio", meta=text(f"{count} · index created {created}"),
                  sections=tuple(sections), footer=text(f"Generated by dlrun {__version__} on {created}."))


#: Sorts the index table by the column whose heading is clicked (again: the other way).
#: Numbers (a leading signed number: scores, margins, counts) sort by value, before text;
#: empty cells last. A constant: nothing from the data goes into it.
SORT_SCRIPT = """<style>
  #projects th { cursor: pointer; user-select: none; }
  #projects th[aria-sort="ascending"]::after { content: " \\25B2"; }
  #projects th[aria-sort="descending"]::after { content: " \\25BC"; }
</style>
<script>
(function () {
  var table = document.querySelector("#projects table");
  if (!table || !table.tHead || !table.tBodies.length) { return; }
  var heads = table.tHead.rows[0].cells;
  function key(cell) {
    var t = cell.textContent.trim();
    var m = t.replace(/\\u2212/g, "-").match(/^[+-]?\\d+(\\.\\d+)?([eE][+-]?\\d+)?/);
    if (m) { return [0, parseFloat(m[0]), t.toLowerCase()]; }
    return [t ? 1 : 2, 0, t.toLowerCase()];
  }
  function compare(a, b) {
    for (var i = 0; i < 3; i++) {
      if (a[i] < b[i]) { return -1; }
      if (a[i] > b[i]) { return 1; }
    }
    return 0;
  }
  function sortBy(column) {
    var head = heads[column];
    var descending = head.getAttribute("aria-sort") === "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return {row: row, key: key(row.cells[column]), i: i};
    });
    rows.sort(function (a, b) {
      var empty = (a.key[0] === 2) - (b.key[0] === 2);  /* empty cells last either way */
      var c = empty || compare(a.key, b.key) * (descending ? -1 : 1);
      return c || a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("aria-sort"); }
    head.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  for (var i = 0; i < heads.length; i++) {
    heads[i].title = "Sort by this column (click again to reverse)";
    heads[i].addEventListener("click", sortBy.bind(null, i));
  }
})();
</script>
"""


def sortable(page: str) -> str:
    """The index page with :data:`SORT_SCRIPT` before ``</body>``."""
    at = page.rfind("</body>")
    return page if at < 0 else page[:at] + SORT_SCRIPT + page[at:]


def refresh_index(portfolio_dir: Path) -> list[dict]:
    """(Re)write ``portfolio_dir/index.md`` and ``index.html`` from every entry's results.json;
    returns the entries listed."""
    from dlrun.report.to_html import render_html
    from dlrun.report.to_markdown import render_markdown

    portfolio_dir = Path(portfolio_dir)
    portfolio_dir.mkdir(parents=True, exist_ok=True)
    entries, notes = collect(portfolio_dir)
    report = index_report(entries, notes)
    atomic_write(portfolio_dir / INDEX_MD, render_markdown(report).encode("utf-8"))
    atomic_write(portfolio_dir / INDEX_HTML, sortable(render_html(report)).encode("utf-8"))
    return entries


# --------------------------------------------------------------------------- an entry's runs


def run_id(created: str) -> str:
    """A folder name from the report's time: ``2024-05-01T12:30:05Z`` -> ``2024-05-01T12-30-05Z``."""
    name = re.sub(r"[^0-9A-Za-z.-]+", "-", str(created or "").replace(":", "-")).strip("-.")
    return name or "run"


def list_runs(entry_dir: Path) -> list[dict]:
    """The runs kept under ``entry_dir/runs/``, newest first: ``{"id", "facts", "model"}``
    (folders without a readable results.json are left out)."""
    folder = Path(entry_dir) / RUNS
    if not folder.is_dir():
        return []
    runs = []
    for run in folder.iterdir():
        if not run.is_dir() or run.name.startswith("."):
            continue
        try:
            document = read_document(run)
        except ValueError:
            continue
        runs.append({"id": run.name, "facts": facts(document),
                     "model": (run / MODEL_DIR / MANIFEST).is_file()})
    runs.sort(key=lambda r: (r["facts"]["created"], r["id"]), reverse=True)
    return runs


def history_section(runs: list[dict], current: str, *, base: str) -> Section:
    """The "Runs" section: every kept run with its scores, newest first, ``current`` marked;
    links are ``base + RUN/README.md`` (``runs/`` from the entry, ``../`` from a run)."""
    blocks: list = []
    latest = runs[0]["id"] if runs else current
    if base != f"{RUNS}/":  # the page of a kept run
        blocks.append(Paragraph(text(
            f"This page is the run of {_when(next((r for r in runs if r['id'] == current), None))}, "
            f"kept in the entry's history ({RUNS}/{current}/); the entry shows the latest: ",
            Link(README, f"../../{README}"), ".")))
    rows = []
    for run in runs[:RUNS_SHOWN]:
        f = run["facts"]
        when = text(Link(_when(run), f"{base}{run['id']}/{README}"), " (",
                    Link("html", f"{base}{run['id']}/{REPORT}"), ")")
        mark = []
        if run["id"] == current:
            mark.append(Badge("this report", "best"))
        elif run["id"] == latest:
            mark.append(Badge("latest", "good"))
        if not run["model"]:
            mark.append(Badge("no model kept", "neutral"))
        rows.append((text(when, *[(" ", m) for m in mark]), f["best"], f["score"], f["protocol"],
                     f["over_baseline"], f["over_reference"]))
    if rows:
        blocks.append(Table(("run (UTC)", "best model", "score", "protocol", "over baseline",
                             "over reference"), tuple(rows),
                            align=("left",) * 4 + ("right",) * 2,
                            highlight=frozenset(i for i, r in enumerate(runs[:RUNS_SHOWN])
                                                if r["id"] == current)))
    if len(runs) > RUNS_SHOWN:
        blocks.append(Paragraph(f"{len(runs) - RUNS_SHOWN} earlier run(s) are kept in {RUNS}/.",
                                muted=True))
    blocks.append(Paragraph(
        text("Each ", Code("dlrun report"), f" of this project is kept whole under {RUNS}/ (report, "
             "results.json and the model it saved: ", Code(f"dlrun predict PORTFOLIO/NAME/{RUNS}/RUN"),
             " uses an earlier model). Over baseline / over reference: the best score's margin "
             "over the naive baseline and over the published good score (positive is better)."),
        muted=True))
    return Section("runs", "Runs", tuple(blocks))


def _when(run: dict | None) -> str:
    if not run:
        return "?"
    created = run["facts"]["created"]
    match = re.match(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})", created)
    return f"{match.group(1)} {match.group(2)}" if match else (created or run["id"])


def with_history(report: Report, runs: list[dict], current: str, *, base: str) -> Report:
    """``report`` with the "Runs" section last (replacing one it has)."""
    sections = [s for s in report.sections if s.id != "runs"]
    return replace(report, sections=(*sections, history_section(runs, current, base=base)))


def keep_run(entry_dir: Path, report: Report, results: dict) -> tuple[str, dict, list[dict]]:
    """Keep this report as a dated run, ``entry_dir/runs/RUN/``: README.md, report.html,
    figures, the model in ``entry_dir/model`` (when it is this report's) and, last,
    results.json (with ``"run": RUN``). Returns the run's id, the results document with it,
    and every kept run (newest first). An entry written before runs were kept has its report
    kept first (without its model, replaced by now)."""
    from dlrun.report.to_html import render_html
    from dlrun.report.to_markdown import render_markdown

    entry_dir = Path(entry_dir)
    runs_dir = entry_dir / RUNS
    runs_dir.mkdir(parents=True, exist_ok=True)
    _keep_unkept(entry_dir)
    rid = base_id = run_id(results.get("created") or now())
    n = 1
    while (runs_dir / rid).exists():
        n += 1
        rid = f"{base_id}-{n}"
    results = {**results, "run": rid}
    has_model = _model_of(entry_dir, results)
    runs = sorted([*list_runs(entry_dir), {"id": rid, "facts": facts(results), "model": has_model}],
                  key=lambda r: (r["facts"]["created"], r["id"]), reverse=True)
    page = with_history(report, runs, rid, base="../")
    staging = runs_dir / f".{rid}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for figure, path in figure_files(page):
            (staging / path).parent.mkdir(parents=True, exist_ok=True)
            (staging / path).write_bytes(figure.png)
        if has_model:
            _copy_model(entry_dir / MODEL_DIR, staging / MODEL_DIR)
        (staging / README).write_text(render_markdown(page), encoding="utf-8")
        (staging / REPORT).write_text(render_html(page), encoding="utf-8")
        (staging / RESULTS).write_text(dumps_json(results), encoding="utf-8")
        os.replace(staging, runs_dir / rid)  # the run appears whole
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return rid, results, runs


def _model_of(entry_dir: Path, results: dict) -> bool:
    """Whether ``entry_dir/model`` holds this report's final model (its manifest names the
    same algorithm and view)."""
    try:
        manifest = json.loads((entry_dir / MODEL_DIR / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    final = _dict(results.get("final_model"))
    return (isinstance(manifest, dict) and manifest.get("algorithm") == final.get("algorithm")
            and manifest.get("view") == final.get("view"))


def _copy_model(source: Path, target: Path) -> None:
    """The model folder: the manifest's files and the manifest as hard links (they are only
    ever replaced, never rewritten), anything else copied."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        listed = set(_dict(json.loads((source / MANIFEST).read_text(encoding="utf-8")).get("files")))
    except (OSError, ValueError, AttributeError):
        listed = set()
    for path in source.iterdir():
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.name in listed or path.name == MANIFEST:
            try:
                os.link(path, target / path.name)
                continue
            except OSError:
                pass  # no hard links here: a copy
        shutil.copy2(path, target / path.name)


def _keep_unkept(entry_dir: Path) -> None:
    """An entry whose current report is not among its runs (written before runs were kept):
    keep its README.md, report.html, figures and results.json as a run, without the model
    (already replaced by this report's)."""
    try:
        document = read_document(entry_dir)
    except ValueError:
        return
    rid = str(document.get("run") or run_id(str(document.get("created") or "")))
    target = entry_dir / RUNS / rid
    if document.get("run") or target.exists():
        return
    staging = entry_dir / RUNS / f".{rid}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in (README, REPORT):
        if (entry_dir / name).is_file():
            shutil.copy2(entry_dir / name, staging / name)
    if (entry_dir / "figures").is_dir():
        shutil.copytree(entry_dir / "figures", staging / "figures")
    (staging / RESULTS).write_text(dumps_json({**document, "run": rid}), encoding="utf-8")
    os.replace(staging, target)


def run_summaries(runs: list[dict]) -> list[dict]:
    """The kept runs for results.json: id, time, best model, score and protocol."""
    return [{"run": r["id"], "created": r["facts"]["created"], "best": r["facts"]["best"],
             "score": r["facts"]["score"], "protocol": r["facts"]["protocol"],
             "path": f"{RUNS}/{r['id']}/", "model": r["model"]} for r in runs]
