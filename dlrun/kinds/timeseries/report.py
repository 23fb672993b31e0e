"""The forecasting report's own section: the series with the walk-forward forecasts of the
top candidates and of the baseline (persistence) over the last test window, with the
prediction intervals of the models that give them.

The forecasts are those the evaluation stored (the fold of the first seed at the
latest origin, i.e. the last ``test_size`` observations), and each model's error
on that window is that fold's score on the leaderboard; the intervals are what the
model stored with them (a statistical model's 80 % and 95 % bands); the
``average+best`` row's forecasts are the mean of its members' stored ones.
Nothing is refitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrun.catalogue import BASELINE, METRICS
from dlrun.report.analysis import label, role
from dlrun.report.model import Bullets, Figure, Paragraph, Section, Strong, Table, text

MAX_TABLE_ROWS = 24


#: top candidates drawn beside the best (besides persistence)
TOP = 3


def last_window(report, row: dict) -> tuple[Any, np.ndarray, float | None] | None:
    """``(fold, forecasts, score)`` of a row's last test window (seed 0, origin 0), from the
    stored out-of-fold predictions; None when they are not stored. An ``average+best`` row:
    the mean of its members' windows."""
    members = row.get("members") if row.get("algorithm") == "average+best" else None
    if members:
        parts = [last_window(report, {"algorithm": m["algorithm"], "view": m["view"]}) for m in members]
        if any(p is None for p in parts) or any(not np.array_equal(p[0].test, parts[0][0].test)
                                                for p in parts):
            return None
        fold, forecasts = parts[0][0], np.mean([p[1] for p in parts], axis=0)
        y = report.dataset.y.to_numpy(dtype=float)
        test = np.asarray(fold.test, dtype=np.int64)
        return fold, forecasts, float(METRICS.get(report.metric).fn(y[test], forecasts, None, 0))
    folds = report.out_of_fold(row)
    if not folds:
        return None
    scores = row.get("scores") or []
    for i, (fold, prediction) in enumerate(folds):
        if fold.repeat == 0 and fold.index == 0:
            score = scores[i] if len(scores) == len(folds) else None
            return fold, np.asarray(prediction.y_pred, dtype=float), score
    return None


def window_intervals(report, row: dict) -> dict | None:
    """The prediction intervals a row's model stored for its last test window, or None."""
    if row.get("members"):
        return None
    for fold, extra in report.fold_extras(row) or []:
        if fold.repeat == 0 and fold.index == 0 and isinstance(extra, dict):
            bands = extra.get("intervals") or {}
            return {level: (np.asarray(b["lo"], float), np.asarray(b["hi"], float))
                    for level, b in bands.items() if "lo" in b and "hi" in b} or None
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
    others = []  # the next best candidates (one row per algorithm), on the same window
    seen = {best["algorithm"]}
    for row in report.rows:
        if len(others) >= TOP - 1:
            break
        if row is best or row is baseline or role(row) == BASELINE or row["algorithm"] in seen:
            continue
        seen.add(row["algorithm"])
        window = last_window(report, row)
        if window is not None and np.array_equal(window[0].test, fold.test):
            others.append((row, window))
    test = np.asarray(fold.test, dtype=np.int64)
    y = dataset.y.to_numpy(dtype=float)
    n, size = dataset.n_rows, len(test)
    horizon = (report.leaderboard.get("protocol") or {}).get("horizon") or \
        (dataset.meta.get("context") or {}).get("horizon", 1)
    times = list(dataset.meta.get("times") or range(n))
    metric, fmt = report.metric, report.fmt
    forecasts = {label(best): best_fc}
    bands = {label(best): window_intervals(report, best)}
    if base_window is not None:
        forecasts[f"{label(baseline)}, persistence"] = base_window[1]
    for row, window in others:
        forecasts[label(row)] = window[1]
        bands[label(row)] = window_intervals(report, row)
    bands = {k: v for k, v in bands.items() if v}
    png = forecast_plot(times, y, test, forecasts, str(dataset.y.name), horizon, bands)

    def score_line(row: dict, score: float | None, what: str) -> tuple:
        shown = fmt(score) if score is not None else "n/a"
        return text(f"{what}: {metric} on this window ", Strong(shown),
                    f" (the leaderboard row: {fmt(row['mean'])} ± {fmt(row.get('std'))} over "
                    f"{len(row.get('scores') or [])} fold(s))")

    lines = [score_line(best, best_score, label(best))]
    if base_window is not None:
        lines.append(score_line(baseline, base_window[2], f"{label(baseline)}, persistence"))
    lines.extend(score_line(row, window[2], label(row)) for row, window in others)
    for name_, band in bands.items():
        covered = {level: float(np.mean((y[test] >= lo) & (y[test] <= hi))) for level, (lo, hi) in band.items()}
        lines.append(text(f"{name_}: prediction intervals from the model; the observations fell inside "
                          + ", ".join(f"the {level} % band {share:.0%} of the time"
                                      for level, share in sorted(covered.items(), key=lambda kv: int(kv[0])))))
    blocks: list[Any] = [
        Paragraph(f"Walk-forward over the last {size} observations, {horizon} step(s) ahead: each "
                  f"model was fitted once on the {int(test[0])} observations before them, and every "
                  "true observation joined its history before the next forecast. These are the "
                  "forecasts the evaluation stored for its first seed (shaded: the prediction "
                  "intervals of the models that give them)."),
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
        banded = [(k, level) for k in bands for level in ("80",) if level in bands[k]][:1]
        rows = tuple((str(times[t]), f"{y[t]:.4g}", *(f"{forecasts[k][i]:.4g}" for k in names),
                      *(f"{bands[k][lv][0][i]:.4g} to {bands[k][lv][1][i]:.4g}" for k, lv in banded))
                     for i, t in enumerate(test))
        columns = ("time", "actual", *names, *(f"{k}, {lv} % interval" for k, lv in banded))
        blocks.append(Table(columns, rows, align=("left",) + ("right",) * (len(columns) - 1)))
    return [Section("forecasts", "Forecasts", tuple(blocks))]


def forecast_plot(times, y, test, forecasts: dict, name: str, horizon: int,
                  bands: dict | None = None) -> bytes | None:
    from dlrun.report.plots import new_figure, to_png

    n = len(y)
    start = max(0, int(test[0]) - max(4 * len(test), 60))
    shown = np.arange(start, n)
    fig = new_figure(9, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(shown, y[shown], color="#444444", lw=1.2, label="observed")
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    for (name_, values), colour in zip(forecasts.items(), colours, strict=False):
        for level, (lo, hi) in sorted((bands or {}).get(name_, {}).items(), key=lambda kv: -int(kv[0])):
            ax.fill_between(test, lo, hi, color=colour, alpha=0.12 if int(level) >= 90 else 0.22, lw=0,
                            label=f"{name_}, {level} % interval")
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
