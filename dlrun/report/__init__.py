"""Stage 5, present results: the portfolio entry and the portfolio index.

``dlrun.report.entry.write_entry`` writes one entry (README.md, report.html,
results.json, figures/); ``dlrun.report.portfolio.refresh_index`` rewrites the
portfolio's index.md and index.html. Nothing heavy is imported here: matplotlib
and jinja2 are imported inside the functions that use them.
"""

from __future__ import annotations

__all__ = ["refresh_index", "write_entry"]


def __getattr__(name: str):
    if name == "write_entry":
        from dlrun.report.entry import write_entry

        return write_entry
    if name == "refresh_index":
        from dlrun.report.portfolio import refresh_index

        return refresh_index
    raise AttributeError(f"module 'dlrun.report' has no attribute {name!r}")
