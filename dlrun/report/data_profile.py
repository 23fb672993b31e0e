"""The data profile section: one row per column and the warnings of
:mod:`dlrun.data.profile` (the same profile ``dlrun validate`` prints)."""

from __future__ import annotations

from typing import Any

from dlrun.catalogue import ReportSection
from dlrun.report import analysis as A
from dlrun.report.model import Badge, Bullets, Code, Note, Paragraph, Section, Table, text

#: Tables longer than this are folded under their summary line.
FOLD_ROWS = 25
CHECK_NAMES = {"zeros": "suspicious zeros", "constant": "constant", "identifier": "identifier-like",
               "leak": "likely leak", "imbalance": "class imbalance"}


def share(value: Any) -> str:
    if not A.finite(value):
        return ""
    value = float(value)
    return "0" if value == 0 else "<0.1%" if value < 0.001 else f"{100 * value:.1f}%"


def number(value: Any) -> str:
    if not A.finite(value):
        return ""
    return f"{float(value):.4g}"


def profile_table(profile: dict) -> Table:
    flagged: dict[str, list[str]] = {}
    for found in profile.get("warnings") or []:
        flagged.setdefault(str(found.get("column")), []).append(str(found.get("check")))
    rows = []
    for column in profile.get("columns") or []:
        name = str(column.get("column"))
        checks = flagged.get(name, [])
        rows.append((Code(name), str(column.get("type") or ""), share(column.get("missing")),
                     share(column.get("zeros")), number(column.get("min")), number(column.get("max")),
                     str(column.get("distinct", "")),
                     text(*[Badge(CHECK_NAMES.get(c, c), "bad") for c in checks]) if checks else ""))
    return Table(("column", "type", "missing", "zeros", "min", "max", "distinct", "warnings"), tuple(rows),
                 align=("left", "left", "right", "right", "right", "right", "right", "left"),
                 collapsed=f"All {len(rows)} columns" if len(rows) > FOLD_ROWS else "")


def data_profile(ctx) -> list[Section]:
    profile = ctx.profile
    if not profile:
        return []
    warnings = profile.get("warnings") or []
    blocks: list[Any] = [Paragraph(
        "Each column as the views read it: the share of missing cells and of zeros, the range and "
        "the number of distinct values. Warnings name what deserves a look before trusting a "
        "score (the rules are in dlrun/data/profile.py).", muted=True)]
    if warnings:
        blocks.append(Note(text(f"{len(warnings)} warning{'s' if len(warnings) > 1 else ''} about the "
                                "data; the models were trained on it as it is."), tone="bad"))
        blocks.append(Bullets(tuple(text(Badge(CHECK_NAMES.get(str(w.get("check")), str(w.get("check"))), "bad"),
                                         " ", str(w.get("message") or "")) for w in warnings)))
    else:
        blocks.append(Paragraph("No warning: no suspicious zeros, constant or identifier-like column, "
                                "likely leak or class imbalance was found."))
    blocks.append(profile_table(profile))
    return [Section("data-profile", "Data profile", tuple(blocks))]


DATA_PROFILE = ReportSection("data_profile", data_profile, 25)
