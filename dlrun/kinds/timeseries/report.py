"""The forecasting report's own section: the series with the walk-forward forecasts of the
best model and of the baseline (persistence) over the last test window.

The forecasts are those the evaluation stored (the fold of the first seed at the
latest origin, i.e. the last ``test_size`` observations), and each model's error
on that window is that fold's score on the leaderboard: nothing is refitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrun.catalogue import BASELINE
from dlrun.report.analysis import label, role
from dlrun.report.model import Bullets, Figure, Paragraph, Section, Strong, Table, text

MAX_TABLE_ROWS = 24


def last_window(report, row: dict) -> tuple[Any, np.ndarray, float | None] | None:
    """``(fold, forecasts, score)`` of a row's last test window (seed 0, origin 0), from the
    stored out-of-fold predictions; None when they are not stored."""
    folds = report.out_of_fold(row)
    if not folds:
        return None
    scores = row.get("scores") or []
    for i, (fold, prediction) in enumerate(folds):
        if fold.repeat == 0 and fold.index == 0:
            score = scores[i] if len(scores) == len(folds) else None
            return fold, np.asarray(prediction.y_pred, dtype=float), score
    return None


def forecast_sections(report) -> list[Section]:
    """The kind's report sections, from a :class:`dlrun.report.context.ReportContext`."""
    best, dataset = report.best, report.dataset
    if best is None or dataset is None:
        return []
    best_window = last_window(report, best)
    if best_window is None:
        return [Section("forecasts", "Forecasts", (Paragraph(text(
            "The walk-forward forecasts of ", Strong(label(best)), " are not stored: evaluate the "
            "project again to store them.")),))]
    fold, best_fc, best_score = best_window
    baseline = next((r for r in report.rows if role(r) == BASELINE and r is not best), None)
    base_window = last_window(report, baseline) if baseline is not None else None
    if base_window is not None and not np.array_equal(base_window[0].test, fold.test):
        base_window = None  # another window: not comparable
    test = np.asarray(fold.test, dtype=np.int64)
    y = dataset.y.to_numpy(dtype=float)
    n, size = dataset.n_rows, len(test)
    horizon = (report.leaderboard.get("protocol") or {}).get("horizon") or \
        (dataset.meta.get("context") or {}).get("horizon", 1)
    times = list(dataset.meta.get("times") or range(n))
    metric, fmt = report.metric, report.fmt
    forecasts = {label(best): best_fc}
    if base_window is not None:
        forecasts[f"{label(baseline)}, persistence"] = base_window[1]
    png = forecast_plot(times, y, test, forecasts, str(dataset.y.name), horizon)

    def score_line(row: dict, score: float | None, what: str) -> tuple:
        shown = fmt(score) if score is not None else "n/a"
        return text(f"{what}: {metric} on this window ", Strong(shown),
                    f" (the leaderboard row: {fmt(row['mean'])} ± {fmt(row.get('std'))} over "
                    f"{len(row.get('scores') or [])} fold(s))")

    lines = [score_line(best, best_score, label(best))]
    if base_window is not None:
        lines.append(score_line(baseline, base_window[2], f"{label(baseline)}, persistence"))
    blocks: list[Any] = [
        Paragraph(f"Walk-forward over the last {size} observations, {horizon} step(s) ahead: each "
                  f"model was fitted once on the {int(test[0])} observations before them, and every "
                  "true observation joined its history before the next forecast. These are the "
                  "forecasts the evaluation stored for its first seed."),
    ]
    blocks.append(Bullets(tuple(lines)))
    if base_window is None and baseline is None:
        blocks.append(Paragraph("No baseline was evaluated, so persistence is not shown."))
    if png:
        blocks.append(Figure("forecasts", "Walk-forward forecasts", png,
                             "The observed series, and each model's forecasts over the last test "
                             "window (the dashed line is the forecast origin)."))
    if size <= MAX_TABLE_ROWS:
        names = list(forecasts)
        rows = tuple((str(times[t]), f"{y[t]:.4g}", *(f"{forecasts[k][i]:.4g}" for k in names))
                     for i, t in enumerate(test))
        blocks.append(Table(("time", "actual", *names), rows,
                            align=("left",) + ("right",) * (1 + len(names))))
    return [Section("forecasts", "Forecasts", tuple(blocks))]


def forecast_plot(times, y, test, forecasts: dict, name: str, horizon: int) -> bytes | None:
    from dlrun.report.plots import new_figure, to_png

    n = len(y)
    start = max(0, int(test[0]) - max(4 * len(test), 60))
    shown = np.arange(start, n)
    fig = new_figure(9, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(shown, y[shown], color="#444444", lw=1.2, label="observed")
    colours = ["#1f77b4", "#d62728", "#2ca02c"]
    for (name_, values), colour in zip(forecasts.items(), colours, strict=False):
        ax.plot(test, values, color=colour, lw=1.4, marker="o" if len(test) <= 60 else None,
                ms=3, label=f"{name_}, {horizon} step(s) ahead")
    ax.axvline(int(test[0]) - 0.5, color="#999999", ls="--", lw=1)
    ticks = np.linspace(start, n - 1, num=min(8, len(shown))).astype(int)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(times[t]) for t in ticks], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(name)
    ax.set_title("Walk-forward forecasts over the test window (dashed line: forecast origin)")
    ax.legend(fontsize=8, loc="best")
    return to_png(fig)
