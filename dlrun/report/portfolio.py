"""The portfolio index: index.md and index.html listing every entry.

``refresh_index`` reads ``*/results.json`` under the portfolio folder. An entry
whose results.json is missing fields, unreadable or not JSON is skipped and
named in a note; it never stops the index from being written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dlrun.report import lessons as L
from dlrun.report.entry import (
    README,
    REPORT,
    RESULTS,
    _environment,
    atomic_write,
)

INDEX_MD = "index.md"
INDEX_HTML = "index.html"


def _score_text(row: dict | None, decimals: int) -> str:
    if not row or not L.finite(row.get("mean")):
        return ""
    fmt = L.Formatter(decimals)
    text = fmt(row["mean"])
    if L.finite(row.get("std")):
        text += f" ± {fmt(row['std'])}"
    return text


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
    project = document.get("project")
    summary = document.get("summary")
    if not isinstance(project, dict) or not isinstance(summary, dict):
        raise ValueError(f"{RESULTS} lacks its 'project' or 'summary' section")
    best = summary.get("best") if isinstance(summary.get("best"), dict) else None
    baseline = summary.get("baseline") if isinstance(summary.get("baseline"), dict) else None
    leaderboard = (
        document.get("leaderboard") if isinstance(document.get("leaderboard"), dict) else {}
    )
    decimals = L.decimals_for(leaderboard) if leaderboard.get("rows") else 3
    reference = document.get("reference") if isinstance(document.get("reference"), dict) else {}
    good = reference.get("good")
    created = str(document.get("created") or "")
    return {
        "name": str(project.get("name") or folder.name),
        "folder": folder.name,
        "link_readme": f"{quote(folder.name)}/{README}",
        "link_report": f"{quote(folder.name)}/{REPORT}",
        "has_report": (folder / REPORT).is_file(),
        "description": " ".join(str(project.get("description") or "").split()),
        "task": str(project.get("task") or ""),
        "metric": str(project.get("metric_label") or project.get("metric") or ""),
        "best": f"{best.get('algorithm')} ({best.get('view')})" if best else "",
        "score": _score_text(best, decimals),
        "baseline": _score_text(baseline, decimals),
        "reference_good": L.Formatter(decimals)(good) if L.finite(good) else "",
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


def refresh_index(portfolio_dir: Path) -> None:
    """(Re)write ``portfolio_dir/index.md`` and ``index.html`` from every entry's results.json."""
    from datetime import datetime, timezone

    from dlrun import __version__

    portfolio_dir = Path(portfolio_dir)
    portfolio_dir.mkdir(parents=True, exist_ok=True)
    entries, notes = collect(portfolio_dir)
    context: dict[str, Any] = {
        "entries": entries,
        "notes": notes,
        "version": __version__,
        "created": datetime.now(timezone.utc)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
        "title": "Portfolio",
    }
    markdown = _environment(html=False).get_template("index.md.j2").render(**context)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"
    html = _environment(html=True).get_template("index.html.j2").render(**context)
    atomic_write(portfolio_dir / INDEX_MD, markdown.encode("utf-8"))
    atomic_write(portfolio_dir / INDEX_HTML, html.encode("utf-8"))
