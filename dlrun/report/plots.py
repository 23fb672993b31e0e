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
        Patch(facecolor=OTHER, label="worse (significant difference)"),
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


# --------------------------------------------------------------------------- diagnostics


def confusion_plot(matrix, labels: list[str]) -> bytes:
    """Counts of (true, predicted) classes, each cell with its share of the true class."""
    import numpy as np

    matrix = np.asarray(matrix, dtype=float)
    k = len(labels)
    size = min(9.0, 2.6 + 0.55 * k)
    fig = new_figure(size + 1.2, size)
    ax = fig.add_subplot(1, 1, 1)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    heat = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(k))
    ax.set_xticklabels(labels, rotation=30 if k > 4 else 0, ha="right" if k > 4 else "center")
    ax.set_yticks(range(k))
    ax.set_yticklabels(labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 15:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{int(matrix[i, j])}\n{100 * shares[i, j]:.0f}%", ha="center", va="center",
                        fontsize=8 if k <= 6 else 6, color="white" if shares[i, j] > 0.6 else "black")
    fig.colorbar(heat, ax=ax, label="share of the true class")
    ax.set_title("Confusion matrix (out-of-fold)")
    return to_png(fig)


PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]


def roc_plot(curves: list[tuple[str, Any, Any, float]]) -> bytes:
    """ROC curves: ``(label, false positive rates, true positive rates, AUC)`` each."""
    fig = new_figure(5.6, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    for i, (label, fpr, tpr, area) in enumerate(curves):
        ax.plot(fpr, tpr, color=PALETTE[i % len(PALETTE)], linewidth=1.6, label=f"{label} (AUC {area:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color=OTHER, linewidth=1, label="chance (AUC 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (recall)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    ax.set_title("ROC curve (out-of-fold)")
    return to_png(fig)


def pr_plot(curves: list[tuple[str, Any, Any, float, float]]) -> bytes:
    """Precision-recall curves: ``(label, recall, precision, average precision, prevalence)``."""
    fig = new_figure(5.6, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    for i, (label, recall, precision, ap, prevalence) in enumerate(curves):
        colour = PALETTE[i % len(PALETTE)]
        ax.step(recall, precision, where="post", color=colour, linewidth=1.6, label=f"{label} (AP {ap:.3f})")
        ax.axhline(prevalence, color=colour, linestyle=":", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left", frameon=False)
    ax.set_title("Precision-recall curve (dotted: the class's share, chance)")
    return to_png(fig)


def calibration_plot(label: str, predicted, observed, counts) -> bytes:
    """Reliability diagram: observed frequency against mean predicted probability per bin,
    with the number of rows in each bin below."""
    fig = new_figure(5.6, 5.6)
    top = fig.add_axes((0.12, 0.36, 0.83, 0.58))
    bottom = fig.add_axes((0.12, 0.08, 0.83, 0.18), sharex=top)
    top.plot([0, 1], [0, 1], linestyle="--", color=OTHER, linewidth=1, label="perfectly calibrated")
    top.plot(predicted, observed, marker="o", color=BEST, linewidth=1.6, label=label)
    top.set_xlim(0, 1)
    top.set_ylim(0, 1.01)
    top.set_ylabel("observed frequency")
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="upper left", frameon=False)
    top.set_title("Calibration (out-of-fold probabilities)")
    widths = [0.04] * len(predicted)
    bottom.bar(predicted, counts, width=widths, color=TIED)
    bottom.set_xlabel("mean predicted probability in the bin")
    bottom.set_ylabel("rows")
    return to_png(fig)


def true_vs_predicted_plot(y_true, y_pred, target: str) -> bytes:
    import numpy as np

    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    fig = new_figure(5.6, 5.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(y_true, y_pred, s=9, alpha=0.5, color=BEST, edgecolors="none")
    lo = float(min(y_true.min(), y_pred.min()))
    hi = float(max(y_true.max(), y_pred.max()))
    ax.plot([lo, hi], [lo, hi], linestyle="--", color=FLOOR, linewidth=1, label="prediction = truth")
    ax.set_xlabel(f"true {target}")
    ax.set_ylabel(f"predicted {target}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("Predicted against true (out-of-fold)")
    return to_png(fig)


def residual_plot(y_pred, residuals, target: str) -> bytes:
    import numpy as np

    y_pred, residuals = np.asarray(y_pred, float), np.asarray(residuals, float)
    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(y_pred, residuals, s=9, alpha=0.5, color=BEST, edgecolors="none")
    ax.axhline(0.0, color=FLOOR, linestyle="--", linewidth=1)
    ax.set_xlabel(f"predicted {target}")
    ax.set_ylabel("residual (true - predicted)")
    ax.grid(alpha=0.3)
    ax.set_title("Residuals against predictions (out-of-fold)")
    return to_png(fig)


def error_histogram(residuals) -> bytes:
    import numpy as np

    residuals = np.asarray(residuals, float)
    fig = new_figure(6.4, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(residuals, bins=min(60, max(10, int(np.sqrt(len(residuals))))), color=TIED, edgecolor="white")
    ax.axvline(0.0, color=FLOOR, linestyle="--", linewidth=1)
    ax.axvline(float(np.mean(residuals)), color=BEST, linewidth=1.4, label=f"mean {np.mean(residuals):.3g}")
    ax.set_xlabel("residual (true - predicted)")
    ax.set_ylabel("rows")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("Distribution of the errors (out-of-fold)")
    return to_png(fig)


# --------------------------------------------------------------------------- explanations


def importance_plot(names: list[str], means, stds, metric: str) -> bytes:
    """Horizontal bars of permutation importance (mean drop in the metric), ± one std."""
    n = len(names)
    fig = new_figure(7.0, 1.2 + 0.32 * n)
    ax = fig.add_subplot(1, 1, 1)
    positions = list(range(n, 0, -1))
    colours = [BEST if m > 0 else OTHER for m in means]
    ax.barh(positions, means, xerr=stds, color=colours, ecolor="#444444", capsize=2, height=0.6)
    ax.set_yticks(positions)
    ax.set_yticklabels(names)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(f"drop in {metric} when the column is shuffled (± std)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Permutation importance on held-out rows")
    return to_png(fig)


def partial_dependence_plot(panels: list[dict], ylabel: str) -> bytes:
    """One panel per feature: ``{"feature", "x", "lines": {label: values}, "categorical",
    "values"}`` (``values``: the feature's sampled values, drawn as a rug)."""
    n = len(panels)
    columns = min(n, 3)
    rows = (n + columns - 1) // columns
    fig = new_figure(3.4 * columns + 0.4, 3.0 * rows + 0.4)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(rows, columns, i + 1)
        xs = panel["x"]
        for j, (label, ys) in enumerate(panel["lines"].items()):
            colour = PALETTE[j % len(PALETTE)]
            if panel.get("categorical"):
                offsets = [k + (j - (len(panel["lines"]) - 1) / 2) * 0.2 for k in range(len(xs))]
                ax.bar(offsets, ys, width=0.2 if len(panel["lines"]) > 1 else 0.6, color=colour, label=label)
            else:
                ax.plot(xs, ys, color=colour, linewidth=1.6, label=label)
        if panel.get("categorical"):
            ax.set_xticks(range(len(xs)))
            ax.set_xticklabels([str(x) for x in xs], rotation=30, ha="right", fontsize=7)
        else:
            rug = panel.get("values")
            if rug is not None and len(rug):
                ax.plot(rug, [0.0] * len(rug), "|", color="#555555", alpha=0.3, markersize=6,
                        transform=ax.get_xaxis_transform())
        ax.set_xlabel(str(panel["feature"]), fontsize=9)
        if i % columns == 0:
            ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(alpha=0.3)
        if len(panel["lines"]) > 1 and i == 0:
            ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Partial dependence of the final model (mean prediction)", fontsize=11)
    return to_png(fig)
