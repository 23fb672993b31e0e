"""Stage 5, present results: the portfolio entry and the portfolio index.

A report is data (:mod:`dlrun.report.model`): sections of typed blocks, built
by the sections of the ``dlrun.report_sections`` registry
(:mod:`dlrun.report.sections`) and by the kind of data, from a
:class:`dlrun.report.context.ReportContext`. Two renderers turn the same
blocks into Markdown (:mod:`dlrun.report.to_markdown`) and self-contained
HTML (:mod:`dlrun.report.to_html`); :mod:`dlrun.report.entry` writes an
entry, :mod:`dlrun.report.portfolio` the index. Statistics come from
:mod:`dlrun.evaluation.stats` (:mod:`dlrun.report.analysis`), prose from
:mod:`dlrun.report.lessons`, figures from :mod:`dlrun.report.plots`. Nothing
heavy is imported here: matplotlib and jinja2 are imported inside the functions
that use them.
"""

from __future__ import annotations

__all__ = ["refresh_index", "write_entry", "write_report"]


def __getattr__(name: str):
    if name in ("write_entry", "write_report"):
        from dlrun.report import entry

        return getattr(entry, name)
    if name == "refresh_index":
        from dlrun.report.portfolio import refresh_index

        return refresh_index
    raise AttributeError(f"module 'dlrun.report' has no attribute {name!r}")
