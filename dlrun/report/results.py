"""results.json: the machine-readable side of a portfolio entry (what the index reads).

Schema 1: ``schema``, ``dlrun_version``, ``created``, ``project``,
``spec``, ``summary`` (``best``, ``baseline``, ``deep``, the bar's row under
``bar`` and, as it always was, under its algorithm's name, ``margins``,
``protocol_matches_reference``, ``protocol_flags`` -- the names of what makes the
evaluation less than the spec's full protocol: ``quick``, ``partial``, ``raced``,
``out_of_time``, ``interrupted`` -- and ``evaluation``: the stored evaluation used, its
``file``, ``created``, what was ``checked`` and the ``flags`` with their sentences),
``reference``, ``leaderboard``, ``final_model``, ``data_summary``, ``data_profile``
(:mod:`dlrun.data.profile`; null when the data is not a table), ``lessons`` and ``files``.
Fields are only ever added.
"""

from __future__ import annotations

from dlrun.catalogue import BAR
from dlrun.report.analysis import names_with_role
from dlrun.report.model import Report, figure_files
from dlrun.report.reference import protocol_match, protocol_text

SCHEMA = 1
README = "README.md"
REPORT = "report.html"
RESULTS = "results.json"


def row_summary(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {k: row.get(k) for k in ("algorithm", "view", "mean", "std", "fit_seconds", "same_as_best",
                                    "p_value")}


def results_document(ctx, report: Report) -> dict:
    """The results.json document of a report built from ``ctx``."""
    from dlrun import __version__
    from dlrun.report.sections import model_files

    summary = ctx.summary
    bar_key = (names_with_role(BAR) or ["bar"])[0]  # the name results.json always used for the bar
    margins = {}
    if "vs_baseline" in summary:
        margins["over_baseline"] = summary["vs_baseline"]["margin"]
        margins["over_baseline_relative"] = summary["vs_baseline"].get("relative")
    if "vs_bar" in summary:
        for key in dict.fromkeys(("bar", bar_key)):
            margins[f"over_{key}"] = summary["vs_bar"]["margin"]
            margins[f"over_{key}_p_value"] = summary["vs_bar"]["p_value"]
    reference = ctx.reference
    matches = (protocol_match(ctx.leaderboard.get("protocol"), reference.get("protocol") or "")
               if reference else None)
    spec = ctx.spec
    return {
        "schema": SCHEMA,
        "dlrun_version": __version__,
        "created": ctx.created,
        "project": {
            "name": ctx.name,
            "description": str(getattr(spec, "description", "") or ""),
            "task": ctx.task,
            "metric": ctx.metric_key,
            "metric_label": ctx.metric,
            "greater_is_better": ctx.greater_is_better,
            "target": ctx.target,
            "data_source": str(getattr(getattr(spec, "data", None), "source", "") or ""),
            "protocol": protocol_text(ctx.leaderboard.get("protocol"), getattr(spec, "evaluation", None)),
        },
        "spec": spec.model_dump(mode="json") if hasattr(spec, "model_dump") else None,
        "summary": {
            "best": row_summary(summary["best"]),
            "baseline": row_summary(summary["baseline"]),
            **{key: row_summary(summary["bar"]) for key in dict.fromkeys(("bar", bar_key))},
            "deep": row_summary(summary["deep"]),
            "margins": margins,
            "protocol_matches_reference": matches,
            # what makes the evaluation less than the spec's full protocol: names among quick,
            # partial, raced, out_of_time, interrupted (the index flags them)
            "protocol_flags": [flag["flag"] for flag in ctx.flags],
            "evaluation": {**ctx.evaluation, "flags": ctx.flags},
        },
        "reference": reference,
        "leaderboard": ctx.leaderboard,
        "final_model": ctx.final_model,
        "data_summary": ctx.data_summary,
        "data_profile": ctx.profile,
        "lessons": list(ctx.lessons),
        "files": {
            "readme": README,
            "report": REPORT,
            "figures": [path for _, path in figure_files(report)],
            "model": model_files(ctx),
        },
    }
