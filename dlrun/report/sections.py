"""The built-in sections of a portfolio entry, each a :class:`dlrun.catalogue.ReportSection`.

They are entry points of the ``dlrun.report_sections`` group (``pyproject.toml``),
like any plugin's, and appear in the order of their ``order``; the kind of
data adds its own through :meth:`dlrun.kind.Kind.report_sections`
(placed at :data:`KIND_ORDER`). Each ``build(context)`` takes a
:class:`dlrun.report.context.ReportContext` and returns typed sections
(:mod:`dlrun.report.model`), or none when it has nothing to say.

This module stays light (it is imported when the plugins load): matplotlib is
imported by :mod:`dlrun.report.plots` inside the functions that draw.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from dlrun.catalogue import ReportSection
from dlrun.report import analysis as A
from dlrun.report.lessons import bar_names
from dlrun.report.model import (
    Badge,
    Bullets,
    Code,
    CodeBlock,
    Figure,
    Link,
    Note,
    Paragraph,
    Section,
    Strong,
    Table,
    join,
    text,
)
from dlrun.report.reference import (
    match_sentence,
    protocol_match,
    protocol_text,
    reference_sentences,
)

#: Where the kind's own sections go among the built-in ones.
KIND_ORDER = 80


def _protocol(ctx) -> str:
    return protocol_text(ctx.leaderboard.get("protocol"), getattr(ctx.spec, "evaluation", None))


# --------------------------------------------------------------------------- result


def headline_sentences(ctx) -> list[str]:
    """The result in a few sentences: the best, the gain over the floor, the bar."""
    summary, fmt, metric = ctx.summary, ctx.fmt, ctx.metric
    best, baseline, bar = summary["best"], summary["baseline"], summary["bar"]
    if best is None:
        return ["No algorithm produced a score: see the failures below."]
    n = A.n_folds(best)
    out = [f"The best model is {best['algorithm']} {_where(best, quoted=True)}: "
           f"{metric} {fmt(best['mean'])} ± {fmt(best.get('std'))}"
           + (f" over {n} fold{'' if n == 1 else 's'}." if n else ".")]
    if baseline is None:
        out.append("No naive baseline was evaluated, so there is no floor to measure the gain against.")
    elif baseline is best:
        out.append("Nothing beat the naive baseline: the features did not help predict the target.")
    else:
        cmp = summary["vs_baseline"]
        rel = cmp.get("relative")
        rel_text = (f", {abs(rel) * 100:.1f}% {'better' if cmp['margin'] >= 0 else 'worse'}"
                    if rel is not None else "")
        word = "beats" if cmp["margin"] > 0 else "does not beat"
        out.append(f"It {word} the naive baseline ({fmt(baseline['mean'])} ± {fmt(baseline.get('std'))}) "
                   f"by {fmt(abs(cmp['margin']))} {metric}{rel_text}{_noise(cmp, fmt)}.")
    if bar is None:
        out.append(f"The bar ({bar_names()}) was not evaluated, so the bar was not set.")
    elif bar is best:
        out.append(f"The bar every other algorithm has to clear, {bar['algorithm']}, is itself the winner.")
    else:
        cmp = summary["vs_bar"]
        out.append(f"Against the bar, {bar['algorithm']} on '{bar.get('view')}' "
                   f"({fmt(bar['mean'])} ± {fmt(bar.get('std'))}), it is {fmt(abs(cmp['margin']))} "
                   f"{'better' if cmp['margin'] >= 0 else 'worse'}: {A.significance(cmp, fmt)}.")
    return out


def _where(row: dict, quoted: bool = False) -> str:
    """``on the 'raw' view``, or for an ensemble ``of linear/raw, svm/power`` (its members)."""
    if A.is_ensemble(row) and row.get("members"):
        return "of " + ", ".join(f"{m.get('algorithm')}/{m.get('view')}" for m in row["members"])
    view = f"'{row.get('view')}'" if quoted else str(row.get("view"))
    return f"on the {view} view"


def _noise(cmp: dict, fmt: A.Formatter) -> str:
    if cmp["tested"]:
        return f"; {A.significance(cmp, fmt)}"
    return "; with too few fold scores the difference was not tested"


def headline(ctx) -> list[Section]:
    best, fmt = ctx.best, ctx.fmt
    blocks: list[Any] = []
    if best is not None:
        blocks.append(Note(text(Strong("Result:"), f" {best['algorithm']} {_where(best)} scores ",
                                Strong(f"{ctx.metric} {fmt(best['mean'])} ± {fmt(best.get('std'))}"),
                                f" ({ctx.direction})",
                                f" -- {', '.join(f['flag'].replace('_', ' ') for f in ctx.flags)} run"
                                if ctx.flags else None, "."), tone="best"))
    # what makes this evaluation less than the spec's full protocol, before anything else
    blocks += [Note(text(flag["text"]), tone="bad") for flag in ctx.flags]
    blocks.append(Bullets(tuple(headline_sentences(ctx))))
    return [Section("result", "Result", tuple(blocks))]


# --------------------------------------------------------------------------- the problem


SUMMARY_KEYS = ("rows", "features", "numeric", "categorical", "missing_cells", "target", "classes",
                "columns")


def data_text(summary: dict) -> str:
    bits = []
    if summary.get("rows") is not None:
        bits.append(f"{summary['rows']} rows")
    if summary.get("features") is not None:
        kinds = [f"{summary[k]} {k}" for k in ("numeric", "categorical") if summary.get(k)]
        bits.append(f"{summary['features']} features" + (f" ({', '.join(kinds)})" if kinds else ""))
    if summary.get("missing_cells") is not None:
        bits.append(f"{summary['missing_cells']} missing cells")
    for key, value in summary.items():  # the kinds of data add their own facts
        if key not in SUMMARY_KEYS and isinstance(value, (int, float, str)) and not isinstance(value, bool):
            bits.append(f"{key.replace('_', ' ')}: {value}")
    return ", ".join(bits)


def classes_text(summary: dict) -> str:
    classes = summary.get("classes")
    if not isinstance(classes, dict) or not classes:
        return ""
    counts = {str(k): int(v) for k, v in classes.items() if isinstance(v, (int, float))}
    total = sum(counts.values()) or 1
    return ", ".join(f"{name}: {count} ({100 * count / total:.1f}%)" for name, count in counts.items())


def problem(ctx) -> list[Section]:
    source = getattr(getattr(ctx.spec, "data", None), "source", "")
    rows: list[tuple] = [("Task", ctx.task), ("Target", Code(ctx.target) if ctx.target else ""),
                         ("Metric", f"{ctx.metric} ({ctx.direction})"), ("Data", data_text(ctx.data_summary))]
    if source:
        rows.append(("Source", Code(str(source))))
    classes = classes_text(ctx.data_summary)
    if classes:
        rows.append(("Classes", classes))
    rows.append(("Protocol", _protocol(ctx)))
    return [Section("problem", "Problem", (Table(("", ""), tuple(rows), keys=True),))]


def reference(ctx) -> list[Section]:
    ref = ctx.reference
    if not ref:
        return []
    fmt, summary = ctx.fmt, ctx.summary
    matches = protocol_match(ctx.leaderboard.get("protocol"), ref.get("protocol") or "")
    blocks: list[Any] = []
    if ref.get("dataset"):
        blocks.append(Paragraph(text("This data is the standard dataset ", Strong(str(ref["dataset"])), ".")))
    rows: list[tuple] = [("Metric", str(ref.get("metric") or ""))]
    if A.finite(ref.get("naive")):
        rows.append(("Naive score", fmt(ref["naive"])))
    if A.finite(ref.get("good")):
        model = f" ({ref['good_model']})" if ref.get("good_model") else ""
        rows.append(("Good score", f"{fmt(ref['good'])}{model}"))
    rows.append(("Protocol", str(ref.get("protocol") or "not stated")))
    if ref.get("source"):
        source = str(ref["source"])
        rows.append(("Source", Link(source, source) if source.lower().startswith(("http://", "https://"))
                     else source))
    verdict = {True: Badge("yes", "good"), False: Badge("no", "bad")}.get(matches, Badge("unknown"))
    rows.append(("Our protocol matches", verdict))
    blocks.append(Table(("", ""), tuple(rows), keys=True))
    blocks.append(Paragraph(match_sentence(matches, _protocol(ctx), str(ref.get("protocol") or "not stated"))))
    sentences = reference_sentences(ref, summary["best"], summary["baseline"], metric=ctx.metric,
                                    metric_key=ctx.metric_key, greater_is_better=ctx.greater_is_better,
                                    fmt=fmt)
    if sentences:
        blocks.append(Bullets(tuple(sentences)))
    return [Section("reference", "Published reference", tuple(blocks))]


# --------------------------------------------------------------------------- the leaderboard


def marker(ctx, row: dict) -> Badge:
    """The within-noise verdict of a row: the leaderboard's own, with its p-value."""
    best = ctx.best
    if row is best:
        return Badge("best", "best")
    tied = bool(row.get("same_as_best"))
    word = "yes" if tied else "no"
    p = A.versus_best(best, row, ctx.leaderboard)["p_value"] if best and A.finite(row.get("mean")) else None
    if p is not None:
        word += f" ({ctx.fmt.p_is(p)})"
    return Badge(word, "good" if tied else "bad")


def leaderboard_table(ctx, rows: list[dict], *, metric_header: str, collapsed: str = "") -> Table:
    fmt = ctx.fmt
    cells = []
    for rank, row in enumerate(rows, start=1):
        name = str(row.get("algorithm"))
        cells.append((str(rank), Strong(name) if row is ctx.best else name, A.view_text(row),
                      fmt(row.get("mean")), fmt(row.get("std")), fmt.seconds(row.get("fit_seconds")),
                      marker(ctx, row)))
    return Table(("#", "algorithm", "view", metric_header, "std", "fit (s)", "within noise of best"),
                 tuple(cells), align=("right", "left", "left", "right", "right", "right", "left"),
                 highlight=frozenset(i for i, r in enumerate(rows) if r is ctx.best), collapsed=collapsed)


def leaderboard(ctx) -> list[Section]:
    rows = ctx.rows
    if not rows:
        return [Section("leaderboard", "Leaderboard", (Paragraph("No row was scored."),))]
    per_algo = A.best_per_algorithm(rows)
    blocks: list[Any] = [
        Paragraph("Best view per algorithm, best first. “Within noise” means the leaderboard's "
                  "corrected resampled t-test finds no significant difference from the best row at the "
                  "5% level (which is not proof that they are equal). Views joined by “=” scored "
                  "exactly the same on every fold: one row stands for them all.", muted=True),
        leaderboard_table(ctx, per_algo, metric_header=f"{ctx.metric} mean"),
    ]
    if len(rows) > len(per_algo):
        blocks.append(leaderboard_table(ctx, rows, metric_header="mean",
                                        collapsed=f"All {len(rows)} algorithm/view rows"))
    return [Section("leaderboard", "Leaderboard", tuple(blocks))]


def figures(ctx) -> list[Section]:
    from dlrun.report import plots

    board = ctx.leaderboard
    made = (
        ("scores", "Fold scores per algorithm", lambda: plots.score_boxplot(board, reference=ctx.reference),
         "Each box holds one algorithm's scores over every fold, with its best view; the best is at "
         "the top, a diamond marks the mean."),
        ("views", "Mean score by algorithm and view", lambda: plots.view_heatmap(board),
         "Which data preparation suited which algorithm."),
        ("cost", "Score against fit time", lambda: plots.cost_plot(board),
         "What each algorithm's score costs in fit time."),
    )
    blocks = []
    for name, title, make, caption in made:
        png = make()
        if png:
            blocks.append(Figure(name, title, png, caption))
    return [Section("figures", "Figures", tuple(blocks))] if blocks else []


def tried(ctx) -> list[Section]:
    ensembles = [r for r in ctx.rows if A.is_ensemble(r)]
    rows, failures = [r for r in ctx.rows if not A.is_ensemble(r)], ctx.failures
    algorithms = sorted({str(r.get("algorithm")) for r in rows} | {str(f.get("algorithm")) for f in failures})
    views = sorted({str(r.get("view")) for r in rows} | {str(f.get("view")) for f in failures})
    items = [
        f"{len(algorithms)} algorithm{'' if len(algorithms) == 1 else 's'}: {', '.join(algorithms)}.",
        f"{len(views)} data view{'' if len(views) == 1 else 's'}: {', '.join(views)}.",
        f"{len(rows) + len(failures)} algorithm/view combinations, {len(rows)} scored"
        + (f", {len(failures)} failed." if failures else "."),
    ]
    if ensembles:
        items.append(f"{len(ensembles)} ensemble{'' if len(ensembles) == 1 else 's'} of the best, made "
                     "from their stored out-of-fold predictions: "
                     f"{', '.join(str(r.get('algorithm')) for r in ensembles)}.")
    jobs = ctx.leaderboard.get("jobs") or {}
    counts = [f"{jobs[k]} {k}" for k in ("total", "computed", "reused") if jobs.get(k) is not None]
    if counts:
        items.append(f"Fits (algorithm × view × fold) in the last evaluation: {', '.join(counts)}.")
    items.append(f"Protocol: {_protocol(ctx)}.")
    return [Section("tried", "What was tried", (Bullets(tuple(items)),))]


def lessons(ctx) -> list[Section]:
    return [Section("lessons", "Lessons learned", (Bullets(tuple(ctx.lessons)),))]


def _shorten(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def failures(ctx) -> list[Section]:
    notes = [str(n) for n in ctx.leaderboard.get("notes") or []]
    blocks: list[Any] = []
    if notes:
        blocks += [Paragraph("Notes from the evaluation:"), Bullets(tuple(notes))]
    if ctx.failures:
        rows = tuple((str(f.get("algorithm")), str(f.get("view")),
                      _shorten(str(f.get("error") or "unknown error"), 400)) for f in ctx.failures)
        blocks.append(Table(("algorithm", "view", "error"), rows))
    return [Section("notes", "Notes and failures", tuple(blocks))] if blocks else []


# --------------------------------------------------------------------------- the model


def _size(path: Path) -> str:
    try:
        size = float(path.stat().st_size)
    except OSError:
        return "missing"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def model_files(ctx) -> list[str]:
    model = ctx.final_model
    return [str(f) for f in model.get("files") or ([model["path"]] if model.get("path") else [])]


def final_model(ctx) -> list[Section]:
    model = ctx.final_model
    blocks: list[Any] = []
    if model.get("algorithm") and model.get("role") == A.ENSEMBLE:
        fit = ctx.fmt.seconds(model.get("fit_seconds"))
        members = [Code(str(m)) for m in model["params"]["members"]]
        blocks.append(Paragraph(text(Strong(str(model["algorithm"])), ", an ensemble of ", join(members),
                                     ", each refitted on all the data", f" in {fit} s" if fit != "n/a" else "",
                                     " with its preprocessing and combined as the out-of-fold rows chose",
                                     f" ({model['params'].get('method')}).")))
    elif model.get("algorithm"):
        fit = ctx.fmt.seconds(model.get("fit_seconds"))
        blocks.append(Paragraph(text(Strong(str(model["algorithm"])), " on the ", Strong(str(model.get("view") or "")),
                                     " view, fitted on all the data", f" in {fit} s" if fit != "n/a" else "",
                                     ", saved with its preprocessing.")))
    files = model_files(ctx)
    if files:
        blocks.append(Table(("file", "size"), tuple((Link(f, f), _size(ctx.entry_dir / f)) for f in files),
                            align=("left", "right")))
    params = sorted((model.get("params") or {}).items(), key=lambda kv: str(kv[0]))
    if params:
        from dlrun.report.files import jsonable

        rows = tuple((Code(str(k)), Code(v if isinstance(v, str) else json.dumps(jsonable(v), ensure_ascii=False)))
                     for k, v in params)
        blocks.append(Table(("parameter", "value"), rows, collapsed="Parameters"))
    return [Section("model", "Final model", tuple(blocks))] if blocks else []


def _entry_display(entry_dir: Path) -> str:
    try:
        if not entry_dir.is_absolute():
            return entry_dir.as_posix()
        return entry_dir.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return f"{entry_dir.parent.name}/{entry_dir.name}" if entry_dir.parent.name else entry_dir.name


def predict_command(ctx) -> str:
    return (f"dlrun predict {shlex.quote(_entry_display(ctx.entry_dir))} "
            f"--data {shlex.quote(ctx.predict_hint)} --out predictions.csv")


def usage(ctx) -> list[Section]:
    blocks: list[Any] = [CodeBlock(predict_command(ctx), "bash")]
    columns = ctx.data_summary.get("columns") or list(getattr(getattr(ctx.dataset, "X", None), "columns", []))
    hint = Code(ctx.predict_hint)
    if isinstance(columns, list) and columns:
        sentence = text(hint, " needs the same columns as the training data")
        if ctx.target:
            sentence += text("; the target column (", Code(ctx.target), ") may be absent and is ignored if present")
        blocks.append(Paragraph(sentence + (".",)))
        blocks.append(Paragraph(text("Columns: ", join([(Code(str(c)),) for c in columns]), ".")))
    else:
        blocks.append(Paragraph(text(hint, ": new inputs in the form of the training data.")))
    return [Section("use", "Use the model", tuple(blocks))]


# --------------------------------------------------------------------------- the registry's entries

HEADLINE = ReportSection("headline", headline, 10)
PROBLEM = ReportSection("problem", problem, 20)
REFERENCE = ReportSection("reference", reference, 30)
LEADERBOARD = ReportSection("leaderboard", leaderboard, 40)
FIGURES = ReportSection("figures", figures, 50)
TRIED = ReportSection("tried", tried, 60)
LESSONS = ReportSection("lessons", lessons, 70)
FAILURES = ReportSection("failures", failures, 75)
MODEL = ReportSection("model", final_model, 90)
USAGE = ReportSection("usage", usage, 95)

