"""Figures for the report, as PNG bytes.

matplotlib is imported inside each function (never when dlrun.report is
imported) and only through its object-oriented API with the Agg canvas: no
pyplot, so no global figure registry, no GUI backend and nothing left open
once a function returns.
"""

from __future__ import annotations

import io
import math
from typing import Any

from dlrun.catalogue import BAR, BASELINE
from dlrun.report.analysis import best_per_algorithm, finite, ordered_rows, role

DPI = 110
BEST = "#1f77b4"
TIED = "#6baed6"
OTHER = "#bdbdbd"
FLOOR = "#d62728"
BAR_COLOUR = "#ff7f0e"


def new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    fig.clear()
    return buffer.getvalue()


def _metric_label(leaderboard: dict) -> str:
    name = str(leaderboard.get("metric_label") or leaderboard.get("metric") or "score")
    better = "higher" if leaderboard.get("greater_is_better", True) else "lower"
    return f"{name} ({better} is better)"


def score_boxplot(
    leaderboard: dict, *, reference: dict | None = None, max_algorithms: int = 25
) -> bytes | None:
    """Horizontal box plot of the fold scores, best view per algorithm, best at the top.

    Boxes within noise of the best are blue, the naive floor red, the bar (the
    catalogue's ``bar`` role) orange; published reference scores (same metric) are
    dashed lines.
    """
    rows = [
        r
        for r in best_per_algorithm(ordered_rows(leaderboard))
        if [s for s in r.get("scores") or [] if finite(s)]
    ][:max_algorithms]
    if not rows:
        return None
    data = [[float(s) for s in r["scores"] if finite(s)] for r in rows]
    labels = [f"{r['algorithm']} ({r.get('view')})" for r in rows]
    fig = new_figure(8.0, 1.2 + 0.42 * len(rows))
    ax = fig.add_subplot(1, 1, 1)
    positions = list(range(len(rows), 0, -1))  # best at the top
    parts = ax.boxplot(
        data,
        positions=positions,
        vert=False,
        widths=0.6,
        patch_artist=True,
        showmeans=True,
        meanprops={
            "marker": "D",
            "markerfacecolor": "white",
            "markeredgecolor": "black",
            "markersize": 4,
        },
        medianprops={"color": "black"},
        flierprops={"marker": "o", "markersize": 3, "alpha": 0.6},
    )
    for i, (patch, row) in enumerate(zip(parts["boxes"], rows, strict=True)):
        patch.set_facecolor(_colour(row, i))
        patch.set_alpha(0.85)
    ax.set_yticks(positions)
    ax.set_yticklabels(labels)
    ax.set_xlabel(_metric_label(leaderboard))
    ax.grid(axis="x", alpha=0.3)
    handles = _legend_handles()
    if reference and reference.get("metric") == leaderboard.get("metric"):
        for key, style in (("good", "--"), ("naive", ":")):
            value = reference.get(key)
            if finite(value):
                line = ax.axvline(float(value), color="#2ca02c", linestyle=style, linewidth=1.2)
                line.set_label(f"published {key} score")
                handles.append(line)
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False
    )
    ax.set_title("Fold scores, best view per algorithm (best first)")
    return to_png(fig)


def _colour(row: dict, rank: int) -> str:
    """The floor red, the bar orange, the best blue, rows within noise of it light blue."""
    kind = role(row)
    if kind == BASELINE:
        return FLOOR
    if kind == BAR:
        return BAR_COLOUR
    if rank == 0:
        return BEST
    return TIED if row.get("same_as_best") else OTHER


def _legend_handles() -> list[Any]:
    from matplotlib.patches import Patch

    return [
        Patch(facecolor=BEST, label="best"),
        Patch(facecolor=TIED, label="within noise of best"),
        Patch(facecolor=OTHER, label="worse (real difference)"),
        Patch(facecolor=BAR_COLOUR, label="the bar"),
        Patch(facecolor=FLOOR, label="the naive floor"),
    ]


def view_heatmap(leaderboard: dict, *, max_algorithms: int = 25) -> bytes | None:
    """Mean score of every algorithm x view, algorithms best first; None with a single view."""
    rows = [r for r in ordered_rows(leaderboard) if finite(r.get("mean"))]
    algorithms = [str(r["algorithm"]) for r in best_per_algorithm(rows)][:max_algorithms]
    views: list[str] = []
    for r in rows:
        if str(r.get("view")) not in views:
            views.append(str(r.get("view")))
    if len(views) < 2 or not algorithms:
        return None
    grid = [[math.nan] * len(views) for _ in algorithms]
    for r in rows:
        a, v = str(r["algorithm"]), str(r.get("view"))
        if a in algorithms and math.isnan(grid[algorithms.index(a)][views.index(v)]):
            grid[algorithms.index(a)][views.index(v)] = float(r["mean"])
    import numpy as np

    values = np.ma.masked_invalid(np.array(grid))
    fig = new_figure(1.6 + 1.1 * len(views), 1.2 + 0.38 * len(algorithms))
    ax = fig.add_subplot(1, 1, 1)
    cmap = "viridis" if leaderboard.get("greater_is_better", True) else "viridis_r"
    heat = ax.imshow(values, aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(views)))
    ax.set_xticklabels(views, rotation=30, ha="right")
    ax.set_yticks(range(len(algorithms)))
    ax.set_yticklabels(algorithms)
    lo, hi = float(values.min()), float(values.max())
    mid = (lo + hi) / 2
    spread = max(abs(lo), abs(hi))
    digits = 3 if spread < 10 else 1 if spread < 1000 else 0
    for i in range(len(algorithms)):
        for j in range(len(views)):
            value = grid[i][j]
            if not math.isnan(value):
                dark = (value < mid) == bool(leaderboard.get("greater_is_better", True))
                ax.text(
                    j,
                    i,
                    f"{value:.{digits}f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    fig.colorbar(heat, ax=ax, label=_metric_label(leaderboard))
    ax.set_title("Mean score by algorithm and view")
    return to_png(fig)


def cost_plot(leaderboard: dict, *, max_algorithms: int = 25) -> bytes | None:
    """Mean score against fit time (log scale), best view per algorithm."""
    rows = [
        r
        for r in best_per_algorithm(ordered_rows(leaderboard))
        if finite(r.get("mean")) and finite(r.get("fit_seconds")) and float(r["fit_seconds"]) > 0
    ][:max_algorithms]
    if len(rows) < 2:
        return None
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for i, r in enumerate(rows):
        colour = _colour(r, i)
        x, y = float(r["fit_seconds"]), float(r["mean"])
        err = float(r["std"]) if finite(r.get("std")) else 0.0
        ax.errorbar(x, y, yerr=err, fmt="o", color=colour, ecolor=colour, alpha=0.9, capsize=2)
        ax.annotate(
            str(r["algorithm"]), (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8
        )
    ax.set_xscale("log")
    ax.set_xlabel("fit time (s, log scale)")
    ax.set_ylabel(_metric_label(leaderboard))
    ax.grid(alpha=0.3)
    ax.set_title("Score against cost (mean ± std)")
    return to_png(fig)


def learning_curve_plot(document: dict) -> bytes | None:
    """Mean score against the training rows of a fold, one line per candidate, with a band of
    ± one standard deviation over the folds."""
    curves = []
    for curve in document.get("curves") or []:
        points = sorted((p for p in curve.get("points") or [] if finite(p.get("mean"))),
                        key=lambda p: float(p["fraction"]))
        if len(points) >= 2:
            curves.append((curve, points))
    if not curves:
        return None
    colours = {BAR: BAR_COLOUR, BASELINE: FLOOR}
    palette = [BEST, "#2ca02c", "#9467bd", "#8c564b"]
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for i, (curve, points) in enumerate(curves):
        colour = colours.get(curve.get("role"), palette[i % len(palette)])
        x = [float(p.get("train_rows") or p["fraction"]) for p in points]
        y = [float(p["mean"]) for p in points]
        s = [float(p["std"]) if finite(p.get("std")) else 0.0 for p in points]
        ax.plot(x, y, marker="o", color=colour, label=f"{curve.get('algorithm')} ({curve.get('view')})")
        ax.fill_between(x, [m - d for m, d in zip(y, s, strict=True)],
                        [m + d for m, d in zip(y, s, strict=True)], color=colour, alpha=0.15)
    ax.set_xlabel("training rows per fold")
    name = str(document.get("metric") or "score")
    better = "higher" if document.get("greater_is_better", True) else "lower"
    ax.set_ylabel(f"{name} ({better} is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("Learning curves (mean ± std over the folds)")
    return to_png(fig)
