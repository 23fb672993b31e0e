"""Write one portfolio entry: README.md, report.html, results.json and figures/.

``write_entry`` is called by the report stage once the final model is fitted
and saved into the entry folder. Every file is written atomically (temporary
file in the same folder, then ``os.replace``); results.json is written last,
so the portfolio index only ever sees complete entries.

Content is computed once (``build_context``) and rendered twice: Markdown for
git hosts and a self-contained HTML page (CSS inline, images as data: URIs).
The HTML environment autoescapes everything; the Markdown one neutralises
``<``/``>`` in every value and ``|`` in table cells, so text that came from the
data (names, descriptions, class labels, error messages) is shown, never run.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shlex
import tempfile
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dlrun.report import lessons as L

README = "README.md"
REPORT = "report.html"
RESULTS = "results.json"
FIGURES = "figures"
RESULTS_SCHEMA = 1


# --------------------------------------------------------------------------- public API


def write_entry(
    entry_dir: Path,
    *,
    spec: Any,
    leaderboard: dict,
    final_model: dict,
    data_summary: dict,
    extra_figures: list | None = None,
    extra_sections: list | None = None,
    predict_hint: str = "new.csv",
) -> Path:
    """Write the portfolio entry for ``spec`` into ``entry_dir`` and return the folder.

    ``spec`` is a :class:`dlrun.spec.ProjectSpec`; ``leaderboard`` the
    ``dlrun evaluate --json`` document; ``final_model`` describes the model
    files the caller already saved into ``entry_dir``; ``data_summary`` the
    data's shape. ``extra_figures`` are ``(title, png_bytes)`` and
    ``extra_sections`` ``(title, markdown)`` pairs added by other problem kinds.
    """
    entry_dir = Path(entry_dir)
    entry_dir.mkdir(parents=True, exist_ok=True)
    figures = make_figures(spec, leaderboard, extra_figures or [])
    context = build_context(
        entry_dir,
        spec=spec,
        leaderboard=leaderboard,
        final_model=final_model,
        data_summary=data_summary,
        figures=figures,
        extra_sections=extra_sections or [],
        predict_hint=predict_hint,
    )
    figure_dir = entry_dir / FIGURES
    if figures:
        figure_dir.mkdir(exist_ok=True)
    keep = {f["file"] for f in figures}
    for figure in figures:
        atomic_write(entry_dir / figure["file"], figure["png"])
    if figure_dir.is_dir():  # figures left by an earlier report of this entry
        for stale in figure_dir.glob("*.png"):
            if f"{FIGURES}/{stale.name}" not in keep:
                stale.unlink(missing_ok=True)
    atomic_write(entry_dir / README, render_markdown(context).encode("utf-8"))
    atomic_write(entry_dir / REPORT, render_html(context).encode("utf-8"))
    atomic_write(entry_dir / RESULTS, dumps_json(results_document(context)).encode("utf-8"))
    return entry_dir


# --------------------------------------------------------------------------- files


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf become null, numpy scalars/arrays and paths are converted."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"))
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def dumps_json(document: Any) -> str:
    return json.dumps(jsonable(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- figures


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return slug[:40] or "figure"


def make_figures(spec: Any, leaderboard: dict, extra_figures: Iterable) -> list[dict]:
    """The report's figures: ``{"title", "file", "png", "caption"}``, built-in ones first."""
    from dlrun.report import plots

    reference = _reference_dict(spec)
    figures = []
    builtin = (
        (
            "scores",
            "Fold scores per algorithm",
            lambda: plots.score_boxplot(leaderboard, reference=reference),
            "Each box holds one algorithm's scores over every fold, with its best view; "
            "the best is at the top, a diamond marks the mean.",
        ),
        (
            "views",
            "Mean score by algorithm and view",
            lambda: plots.view_heatmap(leaderboard),
            "Which data preparation suited which algorithm.",
        ),
        (
            "cost",
            "Score against fit time",
            lambda: plots.cost_plot(leaderboard),
            "What each algorithm's score costs in fit time.",
        ),
    )
    for name, title, make, caption in builtin:
        png = make()
        if png:
            figures.append(
                {"title": title, "file": f"{FIGURES}/{name}.png", "png": png, "caption": caption}
            )
    used = {f["file"] for f in figures}
    for i, item in enumerate(extra_figures, start=1):
        title, png = item[0], item[1]
        if not png:
            continue
        file = f"{FIGURES}/extra-{i}-{_slug(title)}.png"
        if file in used:
            continue
        used.add(file)
        figures.append({"title": str(title), "file": file, "png": bytes(png), "caption": ""})
    return figures


# --------------------------------------------------------------------------- content


def _reference_dict(spec: Any) -> dict | None:
    reference = getattr(spec, "reference", None)
    if reference is None:
        return None
    if hasattr(reference, "model_dump"):
        return reference.model_dump(mode="json")
    return dict(reference)


def protocol_text(protocol: dict | None, evaluation: Any = None) -> str:
    protocol = dict(protocol or {})
    if not protocol and evaluation is not None:
        protocol = {
            "name": "repeated k-fold",
            "folds": getattr(evaluation, "folds", None),
            "repeats": getattr(evaluation, "repeats", None),
            "seed": getattr(evaluation, "seed", None),
        }
    parts = [str(protocol.get("name") or "resampling")]
    folds, repeats = protocol.get("folds"), protocol.get("repeats")
    if folds and repeats:
        parts.append(f"{folds} folds x {repeats} repeat{'s' if repeats > 1 else ''}")
    elif folds:
        parts.append(f"{folds} folds")
    extra = [
        f"{key.replace('_', ' ')} {value}"
        for key, value in protocol.items()
        if key not in ("name", "folds", "repeats", "seed") and isinstance(value, (int, float, str))
    ]
    parts.extend(extra)
    if protocol.get("seed") is not None:
        parts.append(f"seed {protocol['seed']}")
    return ", ".join(parts)


def protocol_match(protocol: dict | None, reference_protocol: str) -> bool | None:
    """Whether our resampling design is the reference's: same kind (k-fold, walk-forward,
    hold-out) and, where the reference names one, the same number of folds. Repeats only
    reduce variance, so they do not count. ``None`` when the reference does not say."""
    text = (reference_protocol or "").lower()
    if not text.strip():
        return None
    protocol = protocol or {}
    ours_name = str(protocol.get("name") or "").lower()

    def kind(name: str, folds: Any = None) -> str | None:
        if "walk" in name or "rolling" in name or "expanding" in name:
            return "walk-forward"
        if "fold" in name or "cross" in name or re.search(r"\bcv\b", name) or folds:
            return "k-fold"
        if "split" in name or "hold" in name or "test set" in name:
            return "hold-out"
        return None

    ours = kind(ours_name, protocol.get("folds"))
    theirs = kind(text)
    if theirs is None or ours is None:
        return None
    if ours != theirs:
        return False
    if ours == "k-fold":
        found = (re.search(r"n_splits\s*=\s*(\d+)", text)
                 or re.search(r"(\d+)\s*-?\s*(?:fold|x\s*\d*\s*cv|cv)", text)
                 or re.search(r"\b(\d+)\s*[x×]\s*\d+\b", text))
        if found and protocol.get("folds") and int(found.group(1)) != int(protocol["folds"]):
            return False
    return True


def _row_view(row: dict, fmt: L.Formatter, best: dict | None, rank: int) -> dict:
    tied = bool(row.get("same_as_best"))
    if row is best:
        marker = "best"
    elif tied:
        marker = "yes"
    else:
        marker = "no"
    p = row.get("p_value")
    if row is not best and L.finite(p):
        marker += f" (p = {fmt.p(p)})"
    return {
        "rank": rank,
        "algorithm": str(row.get("algorithm")),
        "view": str(row.get("view")),
        "mean": fmt(row.get("mean")),
        "std": fmt(row.get("std")),
        "fit": fmt.seconds(row.get("fit_seconds")),
        "n_folds": row.get("n_folds") or len(row.get("scores") or []),
        "tied": tied or row is best,
        "is_best": row is best,
        "marker": marker,
    }


def _headline(summary: dict, leaderboard: dict, fmt: L.Formatter, metric: str) -> list[str]:
    best, baseline, bar = summary["best"], summary["baseline"], summary["bar"]
    if best is None:
        return ["No algorithm produced a score: see the failures below."]
    n = best.get("n_folds") or len(best.get("scores") or [])
    out = [
        f"The best model is {best['algorithm']} on the '{best.get('view')}' view: "
        f"{metric} {fmt(best['mean'])} ± {fmt(best.get('std'))}"
        + (f" over {n} folds." if n else ".")
    ]
    if baseline is None:
        out.append(
            "No naive baseline was evaluated, so there is no floor to measure the gain against."
        )
    elif baseline is best:
        out.append("Nothing beat the naive baseline: the features did not help predict the target.")
    else:
        cmp = summary["vs_baseline"]
        rel = cmp.get("relative")
        rel_text = (
            f", {abs(rel) * 100:.1f}% {'better' if cmp['diff'] >= 0 else 'worse'}"
            if rel is not None
            else ""
        )
        word = "beats" if cmp["diff"] > 0 else "does not beat"
        out.append(
            f"It {word} the naive baseline ({fmt(baseline['mean'])} ± {fmt(baseline.get('std'))}) "
            f"by {fmt(abs(cmp['diff']))} {metric}{rel_text}"
            f"{'' if cmp['real'] else '; the difference is within noise'}."
        )
    if bar is None:
        out.append("XGBoost was not evaluated, so the bar was not set.")
    elif L.base_name(best["algorithm"]) == L.BAR:
        out.append("XGBoost, the bar every other algorithm has to clear, is itself the winner.")
    else:
        cmp = summary["vs_bar"]
        p = f"p = {fmt.p(cmp['p_value'])}" if cmp["p_value"] is not None else "unpaired estimate"
        verdict = "a real difference" if cmp["real"] else "within noise"
        out.append(
            f"Against the bar, XGBoost ({bar['algorithm']} on '{bar.get('view')}', "
            f"{fmt(bar['mean'])} ± {fmt(bar.get('std'))}), it is {fmt(abs(cmp['diff']))} "
            f"{'better' if cmp['diff'] >= 0 else 'worse'}: {verdict} ({p})."
        )
    return out


def _reference_view(
    spec: Any, leaderboard: dict, summary: dict, fmt: L.Formatter, metric: str
) -> dict | None:
    ref = _reference_dict(spec)
    if not ref:
        return None
    best = summary["best"]
    gib = bool(leaderboard.get("greater_is_better", True))
    same_metric = str(ref.get("metric") or "") == str(
        leaderboard.get("metric") or getattr(spec, "metric", "")
    )
    matches = protocol_match(leaderboard.get("protocol"), ref.get("protocol") or "")
    ours = protocol_text(leaderboard.get("protocol"), getattr(spec, "evaluation", None))
    theirs = ref.get("protocol") or "not stated"
    if matches is True:
        match_text = f"Our protocol ({ours}) matches the reference protocol ({theirs}), so the scores are comparable."
    elif matches is False:
        match_text = (
            f"Our protocol ({ours}) does not match the reference protocol ({theirs}): "
            "treat the comparison as indicative only."
        )
    else:
        match_text = (
            f"The reference protocol ({theirs}) cannot be matched with ours ({ours}): "
            "treat the comparison as indicative only."
        )
    sentences = []
    if not same_metric:
        sentences.append(
            f"The reference reports {ref.get('metric')}, not {metric}: its scores are not comparable "
            "with this leaderboard."
        )
    elif best is not None:
        for key, name in (("naive", "naive"), ("good", "good")):
            value = ref.get(key)
            if not L.finite(value):
                continue
            diff = L.better_by(float(best["mean"]), float(value), gib)
            if abs(diff) < 10**-fmt.decimals:
                sentences.append(
                    f"Our best, {fmt(best['mean'])}, equals the published {name} score."
                )
            else:
                sentences.append(
                    f"Our best, {fmt(best['mean'])}, is {fmt(abs(diff))} "
                    f"{'better' if diff > 0 else 'worse'} than the published {name} score ({fmt(value)})."
                )
        baseline = summary["baseline"]
        if baseline is not None and L.finite(ref.get("naive")):
            gap = abs(float(baseline["mean"]) - float(ref["naive"]))
            spread = float(baseline.get("std") or 0.0)
            if gap > max(spread, 10**-fmt.decimals):
                sentences.append(
                    f"Our naive baseline ({fmt(baseline['mean'])}) differs from the published naive "
                    f"score ({fmt(ref['naive'])}) by more than its spread: check that the data and "
                    "the metric are the same as the reference's."
                )
    return {
        "dataset": str(ref.get("dataset") or ""),
        "metric": str(ref.get("metric") or ""),
        "protocol": str(ref.get("protocol") or ""),
        "naive": fmt(ref.get("naive")) if L.finite(ref.get("naive")) else "",
        "good": fmt(ref.get("good")) if L.finite(ref.get("good")) else "",
        "good_model": str(ref.get("good_model") or ""),
        "source": str(ref.get("source") or ""),
        "source_is_url": bool(re.match(r"https?://", str(ref.get("source") or ""))),
        "same_metric": same_metric,
        "protocol_matches": matches,
        "match_text": match_text,
        "sentences": sentences,
    }


def _entry_display(entry_dir: Path) -> str:
    try:
        if not entry_dir.is_absolute():
            return entry_dir.as_posix()
        return entry_dir.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return (
            f"{entry_dir.parent.name}/{entry_dir.name}" if entry_dir.parent.name else entry_dir.name
        )


def _size(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "missing"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def _markdown_to_html(text: str) -> str:
    """Render trusted-structure Markdown with raw HTML disabled (so it is escaped)."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # rich depends on markdown-it-py, so this is a safety net
        from markupsafe import escape

        return f"<pre>{escape(text)}</pre>"
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(str(text))


def build_context(
    entry_dir: Path,
    *,
    spec: Any,
    leaderboard: dict,
    final_model: dict,
    data_summary: dict,
    figures: list[dict],
    extra_sections: Iterable,
    predict_hint: str = "new.csv",
) -> dict:
    """Everything the templates and results.json show, computed from the inputs."""
    from dlrun import __version__

    leaderboard = dict(leaderboard or {})
    final_model = dict(final_model or {})
    data_summary = dict(data_summary or {})
    fmt = L.Formatter(L.decimals_for(leaderboard))
    metric = str(
        leaderboard.get("metric_label") or leaderboard.get("metric") or getattr(spec, "metric", "")
    )
    gib = bool(leaderboard.get("greater_is_better", True))
    rows = L.ordered_rows(leaderboard)
    summary = L.summarize(leaderboard)
    best = summary["best"]

    per_algo = L.best_per_algorithm(rows)
    best_table = [_row_view(r, fmt, best, i) for i, r in enumerate(per_algo, start=1)]
    all_rows = [_row_view(r, fmt, best, i) for i, r in enumerate(rows, start=1)]

    algorithms = sorted(
        {str(r.get("algorithm")) for r in rows}
        | {str(f.get("algorithm")) for f in leaderboard.get("failures") or []}
    )
    views = sorted(
        {str(r.get("view")) for r in rows}
        | {str(f.get("view")) for f in leaderboard.get("failures") or []}
    )
    jobs = leaderboard.get("jobs") or {}
    failures = [
        {
            "algorithm": str(f.get("algorithm")),
            "view": str(f.get("view")),
            "error": _shorten(str(f.get("error") or "unknown error"), 400),
        }
        for f in leaderboard.get("failures") or []
        if isinstance(f, dict)
    ]

    data_source = getattr(getattr(spec, "data", None), "source", "")
    target = str(data_summary.get("target") or getattr(getattr(spec, "data", None), "target", ""))
    classes = []
    raw_classes = data_summary.get("classes") or {}
    if isinstance(raw_classes, dict) and raw_classes:
        total = sum(int(v) for v in raw_classes.values() if isinstance(v, (int, float))) or 1
        for name, count in raw_classes.items():
            classes.append(
                {
                    "label": str(name),
                    "count": int(count),
                    "share": f"{100 * int(count) / total:.1f}%",
                }
            )

    features = data_summary.get("features")
    data_bits = []
    if data_summary.get("rows") is not None:
        data_bits.append(f"{data_summary['rows']} rows")
    if features is not None:
        kinds = []
        for key in ("numeric", "categorical"):
            if data_summary.get(key):
                kinds.append(f"{data_summary[key]} {key}")
        data_bits.append(f"{features} features" + (f" ({', '.join(kinds)})" if kinds else ""))
    if data_summary.get("missing_cells") is not None:
        data_bits.append(f"{data_summary['missing_cells']} missing cells")
    for key, value in data_summary.items():  # other problem kinds add their own facts
        if (
            key
            not in (
                "rows",
                "features",
                "numeric",
                "categorical",
                "missing_cells",
                "target",
                "classes",
                "columns",
            )
            and isinstance(value, (int, float, str))
            and not isinstance(value, bool)
        ):
            data_bits.append(f"{key.replace('_', ' ')}: {value}")

    model_files = []
    for rel in final_model.get("files") or (
        [final_model["path"]] if final_model.get("path") else []
    ):
        model_files.append({"path": str(rel), "size": _size(entry_dir / str(rel))})
    params = [
        {
            "name": str(k),
            "value": json.dumps(jsonable(v), ensure_ascii=False) if not isinstance(v, str) else v,
        }
        for k, v in sorted((final_model.get("params") or {}).items(), key=lambda kv: str(kv[0]))
    ]
    entry_arg = shlex.quote(_entry_display(entry_dir))
    columns = data_summary.get("columns")

    sections = []
    for item in extra_sections:
        title, text = str(item[0]), str(item[1])
        sections.append({"title": title, "markdown": text, "html": _markdown_to_html(text)})

    figure_views = [
        {
            "title": f["title"],
            "file": f["file"],
            "caption": f.get("caption", ""),
            "data_uri": "data:image/png;base64," + base64.b64encode(f["png"]).decode("ascii"),
        }
        for f in figures
    ]
    reference = _reference_view(spec, leaderboard, summary, fmt, metric)
    direction = "higher is better" if gib else "lower is better"
    return {
        "version": __version__,
        "created": _now(),
        "leaderboard_created": str(leaderboard.get("created") or ""),
        "name": str(getattr(spec, "name", "") or leaderboard.get("project") or entry_dir.name),
        "description": str(getattr(spec, "description", "") or ""),
        "task": str(getattr(spec, "task", "") or leaderboard.get("task") or ""),
        "metric": metric,
        "metric_key": str(leaderboard.get("metric") or getattr(spec, "metric", "")),
        "direction": direction,
        "greater_is_better": gib,
        "target": target,
        "data_source": str(data_source or ""),
        "data_text": ", ".join(data_bits),
        "classes": classes,
        "columns": [str(c) for c in columns] if isinstance(columns, list) else [],
        "protocol": protocol_text(leaderboard.get("protocol"), getattr(spec, "evaluation", None)),
        "best": _row_view(best, fmt, best, 1) if best else None,
        "headline": _headline(summary, leaderboard, fmt, metric),
        "reference": reference,
        "best_table": best_table,
        "all_rows": all_rows,
        "tried": {
            "algorithms": algorithms,
            "views": views,
            "rows": len(rows),
            "combinations": len(rows) + len(failures),
            "jobs": {
                k: jobs.get(k) for k in ("total", "computed", "reused") if jobs.get(k) is not None
            },
        },
        "lessons": L.derive_lessons(leaderboard, fmt),
        "notes": [str(n) for n in leaderboard.get("notes") or []],
        "failures": failures,
        "model": {
            "algorithm": str(final_model.get("algorithm") or ""),
            "view": str(final_model.get("view") or ""),
            "fit": fmt.seconds(final_model.get("fit_seconds")),
            "files": model_files,
            "params": params,
        },
        "predict_command": f"dlrun predict {entry_arg} --data {shlex.quote(predict_hint)} "
                           "--out predictions.csv",
        "figures": figure_views,
        "sections": sections,
        # raw inputs, for results.json
        "_raw": {
            "spec": spec,
            "leaderboard": leaderboard,
            "final_model": final_model,
            "data_summary": data_summary,
            "summary": summary,
            "reference": _reference_dict(spec),
            "protocol_matches": reference["protocol_matches"] if reference else None,
        },
    }


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row_summary(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {
        k: row.get(k)
        for k in ("algorithm", "view", "mean", "std", "fit_seconds", "same_as_best", "p_value")
    }


def results_document(context: dict) -> dict:
    raw = context["_raw"]
    spec, summary = raw["spec"], raw["summary"]
    margins = {}
    if "vs_baseline" in summary:
        margins["over_baseline"] = summary["vs_baseline"]["diff"]
        margins["over_baseline_relative"] = summary["vs_baseline"].get("relative")
    if "vs_bar" in summary:
        margins["over_xgboost"] = summary["vs_bar"]["diff"]
        margins["over_xgboost_p_value"] = summary["vs_bar"]["p_value"]
    return {
        "schema": RESULTS_SCHEMA,
        "dlrun_version": context["version"],
        "created": context["created"],
        "project": {
            "name": context["name"],
            "description": context["description"],
            "task": context["task"],
            "metric": context["metric_key"],
            "metric_label": context["metric"],
            "greater_is_better": context["greater_is_better"],
            "target": context["target"],
            "data_source": context["data_source"],
            "protocol": context["protocol"],
        },
        "spec": spec.model_dump(mode="json") if hasattr(spec, "model_dump") else None,
        "summary": {
            "best": _row_summary(summary["best"]),
            "baseline": _row_summary(summary["baseline"]),
            "xgboost": _row_summary(summary["bar"]),
            "deep": _row_summary(summary["deep"]),
            "margins": margins,
            "protocol_matches_reference": raw["protocol_matches"],
        },
        "reference": raw["reference"],
        "leaderboard": raw["leaderboard"],
        "final_model": raw["final_model"],
        "data_summary": raw["data_summary"],
        "lessons": context["lessons"],
        "files": {
            "readme": README,
            "report": REPORT,
            "figures": [f["file"] for f in context["figures"]],
            "model": [f["path"] for f in context["model"]["files"]],
        },
    }


# --------------------------------------------------------------------------- rendering


_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")  # what can open raw HTML in CommonMark
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def md_escape(value: Any) -> str:
    """Neutralise raw HTML and entities in Markdown text: it renders as written, runs nothing.

    Only a ``<`` that could open a tag, comment or autolink is escaped (``p <0.001`` stays
    readable), and only an ``&`` that would form an entity.
    """
    return _HTML_START.sub("&lt;", _ENTITY.sub("&amp;", str(value)))


def md_cell(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(md_escape(value).split()).replace("|", "\\|")


def md_code(value: Any) -> str:
    """Inline code that survives backticks inside the value."""
    text = " ".join(str(value).split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_FENCE = re.compile(r"^(```|~~~).*?(?:^\1[^\n]*$|\Z)", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)


def md_neutralise(markdown: Any) -> str:
    """Markdown with every tag-opening ``<`` outside code written as ``&lt;``: no raw HTML survives,
    code blocks and spans stay literal (an entity there would show as text)."""

    def outside_code(text: str) -> str:
        out, last = [], 0
        for match in _CODE_SPAN.finditer(text):
            out.append(_HTML_START.sub("&lt;", text[last : match.start()]))
            out.append(match.group(0))
            last = match.end()
        out.append(_HTML_START.sub("&lt;", text[last:]))
        return "".join(out)

    text, out, last = str(markdown), [], 0
    for match in _FENCE.finditer(text):
        out.append(outside_code(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(outside_code(text[last:]))
    return "".join(out)


def _environment(html: bool):
    import jinja2
    from markupsafe import Markup

    from dlrun.paths import templates_dir

    if html:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir())),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    else:

        def finalize(value: Any) -> Any:
            # Every {{ value }} in Markdown is escaped unless a filter already made it safe.
            return value if isinstance(value, Markup) else md_escape(value)

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir())),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=finalize,
        )
        env.filters["cell"] = lambda v: Markup(md_cell(v))
        env.filters["code"] = lambda v: Markup(md_code(v))
        env.filters["verbatim"] = lambda v: Markup(str(v))
        env.filters["markdown"] = lambda v: Markup(md_neutralise(v))
        env.filters["urlpath"] = lambda v: Markup(quote(str(v)))
        env.filters["oneline"] = lambda v: Markup(" ".join(md_escape(v).split()))
    return env


def render_markdown(context: dict) -> str:
    text = _environment(html=False).get_template("entry_README.md.j2").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(context: dict) -> str:
    return _environment(html=True).get_template("report.html.j2").render(**context)
