"""The portfolio index: index.md and index.html listing every entry.

``refresh_index`` reads ``*/results.json`` under the portfolio folder. An entry
whose results.json is missing fields, unreadable or not JSON is skipped and
named in a note; it never stops the index from being written. The index is a
:class:`~dlrun.report.model.Report` like an entry, rendered by the same two
renderers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dlrun.report.analysis import Formatter, decimals_for, finite
from dlrun.report.context import now
from dlrun.report.files import atomic_write
from dlrun.report.model import Bullets, Code, Link, Paragraph, Report, Section, Table, text
from dlrun.report.results import README, REPORT, RESULTS

INDEX_MD = "index.md"
INDEX_HTML = "index.html"
DESCRIPTION_LIMIT = 140


def _score_text(row: dict | None, decimals: int) -> str:
    if not row or not finite(row.get("mean")):
        return ""
    fmt = Formatter(decimals)
    score = fmt(row["mean"])
    if finite(row.get("std")):
        score += f" ± {fmt(row['std'])}"
    return score


def read_entry(folder: Path) -> dict:
    """One index row from ``folder/results.json``; raises ValueError when unusable."""
    path = folder / RESULTS
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
    project, summary = document.get("project"), document.get("summary")
    if not isinstance(project, dict) or not isinstance(summary, dict):
        raise ValueError(f"{RESULTS} lacks its 'project' or 'summary' section")
    best = summary.get("best") if isinstance(summary.get("best"), dict) else None
    baseline = summary.get("baseline") if isinstance(summary.get("baseline"), dict) else None
    board = document.get("leaderboard") if isinstance(document.get("leaderboard"), dict) else {}
    decimals = decimals_for(board) if board.get("rows") else 3
    reference = document.get("reference") if isinstance(document.get("reference"), dict) else {}
    good = reference.get("good")
    created = str(document.get("created") or "")
    description = " ".join(str(project.get("description") or "").split())
    if len(description) > DESCRIPTION_LIMIT:
        description = description[: DESCRIPTION_LIMIT - 1] + "…"
    return {
        "name": str(project.get("name") or folder.name),
        "folder": folder.name,
        "has_report": (folder / REPORT).is_file(),
        "description": description,
        "task": str(project.get("task") or ""),
        "metric": str(project.get("metric_label") or project.get("metric") or ""),
        "best": f"{best.get('algorithm')} ({best.get('view')})" if best else "",
        "score": _score_text(best, decimals),
        "baseline": _score_text(baseline, decimals),
        "reference_good": Formatter(decimals)(good) if finite(good) else "",
        "date": created[:10] if re.match(r"\d{4}-\d{2}-\d{2}", created) else created,
    }


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
            rows.append((project, e["task"], e["metric"], e["best"], e["score"], e["baseline"],
                         e["reference_good"], e["date"], e["description"]))
        blocks.append(Table(("project", "task", "metric", "best model", "score", "baseline",
                             "reference (good)", "date", "description"), tuple(rows),
                            align=("left",) * 4 + ("right",) * 3 + ("left",) * 2))
    else:
        blocks.append(Paragraph(text("No finished entries yet: run ", Code("dlrun report PROJECT"),
                                     " to add one.")))
    sections = [Section("projects", "Projects", tuple(blocks))]
    if notes:
        sections.append(Section("notes", "Notes", (Bullets(tuple(notes)),)))
    return Report(title="Portfolio", meta=text(f"{count} · index created {created}"),
                  sections=tuple(sections), footer=text(f"Generated by dlrun {__version__} on {created}."))


def refresh_index(portfolio_dir: Path) -> None:
    """(Re)write ``portfolio_dir/index.md`` and ``index.html`` from every entry's results.json."""
    from dlrun.report.to_html import render_html
    from dlrun.report.to_markdown import render_markdown

    portfolio_dir = Path(portfolio_dir)
    portfolio_dir.mkdir(parents=True, exist_ok=True)
    report = index_report(*collect(portfolio_dir))
    atomic_write(portfolio_dir / INDEX_MD, render_markdown(report).encode("utf-8"))
    atomic_write(portfolio_dir / INDEX_HTML, render_html(report).encode("utf-8"))
