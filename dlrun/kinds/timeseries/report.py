"""The forecasting report's own section: the series with the walk-forward forecasts of the
best model and of persistence over the last test window (a REPORT_SECTIONS entry)."""

from __future__ import annotations

import math

import numpy as np

MAX_TABLE_ROWS = 24


def forecast_section(context, pipeline, board):
    """``(figures, sections)`` for a forecasting project; ``([], [])`` for any other."""
    if not board.get("rows"):
        return [], []
    from dlrun.evaluation.candidates import Candidate
    from dlrun.evaluation.runner import build_context
    from dlrun.kinds.timeseries.jobs import candidate_forecasts
    from dlrun.stages.results import candidate_for

    def forecasts(candidate):
        return candidate_forecasts(candidate, build_ctx, dataset.X, y, train, test)

    dataset = context.dataset
    ctx = dataset.meta["context"]
    build_ctx = build_context(dataset, context.spec.metric, context.spec.evaluation.seed)
    n, size = dataset.n_rows, ctx["test_size"]
    train, test = np.arange(n - size), np.arange(n - size, n)
    y = dataset.y.to_numpy(dtype=float)
    best_row = board["rows"][0]
    best = candidate_for(best_row, context)
    best_fc, _ = forecasts(best)
    naive_fc, _ = forecasts(Candidate("baseline", "lags"))
    times = list(dataset.meta.get("times") or range(n))
    label = f"{best.name} ({best.view})"
    png = forecast_plot(times, y, test, {label: best_fc, "persistence": naive_fc},
                        str(dataset.y.name), ctx["horizon"])
    rmse_best, rmse_naive = _rmse(y[test], best_fc), _rmse(y[test], naive_fc)
    lines = [
        f"Walk-forward over the last {size} observations, {ctx['horizon']} step(s) ahead: each "
        f"model is fitted once on the {n - size} observations before them, and every true "
        "observation joins its history before the next forecast.",
        "",
        f"- {label}: RMSE **{rmse_best:.4g}** (seed {build_ctx.seed}; the leaderboard row "
        f"averages {len(best_row.get('scores') or [1])} run(s): {best_row['mean']:.4g} "
        f"± {best_row['std']:.3g} {board.get('metric', '')})",
        f"- persistence: RMSE **{rmse_naive:.4g}**"
        + (f" -- the best model's error is {rmse_best / rmse_naive:.0%} of it"
           if rmse_naive > 0 else ""),
    ]
    if size <= MAX_TABLE_ROWS:
        lines += ["", "| time | actual | " + _md(label) + " | persistence |", "|---|---:|---:|---:|"]
        for i, t in enumerate(test):
            lines.append(f"| {_md(times[t])} | {y[t]:.4g} | {best_fc[i]:.4g} | {naive_fc[i]:.4g} |")
    figures = [("Walk-forward forecasts", png)] if png else []
    return figures, [("Forecasts", "\n".join(lines))]


def forecast_plot(times, y, test, forecasts: dict, name: str, horizon: int) -> bytes | None:
    from dlrun.report.plots import _figure, _png

    n = len(y)
    start = max(0, int(test[0]) - max(4 * len(test), 60))
    shown = np.arange(start, n)
    fig = _figure(9, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(shown, y[shown], color="#444444", lw=1.2, label="observed")
    colours = ["#1f77b4", "#d62728", "#2ca02c"]
    for (label, values), colour in zip(forecasts.items(), colours, strict=False):
        ax.plot(test, values, color=colour, lw=1.4, marker="o" if len(test) <= 60 else None,
                ms=3, label=f"{label}, {horizon} step(s) ahead")
    ax.axvline(int(test[0]) - 0.5, color="#999999", ls="--", lw=1)
    ticks = np.linspace(start, n - 1, num=min(8, len(shown))).astype(int)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(times[t]) for t in ticks], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(name)
    ax.set_title("Walk-forward forecasts over the test window (dashed line: forecast origin)")
    ax.legend(fontsize=8, loc="best")
    return _png(fig)


def _rmse(a, b) -> float:
    return float(math.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def _md(value) -> str:
    return str(value).replace("|", "\\|")
