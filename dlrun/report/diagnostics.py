"""Diagnostics of the chosen model from its stored out-of-fold predictions: nothing is refitted.

Classes: the confusion matrix, per-class precision, recall and F1, ROC and
precision-recall curves with their areas, a calibration curve with the Brier score. Numbers:
predicted against true, residuals against predictions, the distribution of the errors, and
the bias. For both, a table of every metric of the task for the top candidates (mean ± std
over their folds), with the Matthews correlation for classes.

The curves and the confusion matrix pool the out-of-fold predictions of the first repeat of
the resampling, where every row is predicted exactly once by a model that never saw it; the
tables average over every fold of every repeat, as the leaderboard does. The pooled areas
therefore differ a little from the per-fold means (a fold's model is scored on its own
fold only).
"""

from __future__ import annotations

import math
from typing import Any

from dlrun.catalogue import METRICS, ReportSection, is_classification
from dlrun.report import analysis as A
from dlrun.report.model import Code, Figure, Heading, Paragraph, Section, Strong, Table, text

#: Rows of the secondary-metric table (the best view of each of the best algorithms).
TOP_CANDIDATES = 6
#: One-vs-rest curves are drawn for at most this many classes.
MAX_CURVE_CLASSES = 10
#: Bins of the calibration curve (quantiles of the predicted probability).
CALIBRATION_BINS = 10
#: An extra metric of the classification table, computed from the stored predictions.
MCC = "mcc"


def pooled(ctx, row: dict) -> dict | None:
    """A row's out-of-fold predictions of the first repeat, pooled: ``test`` (row numbers),
    ``y`` (true codes or numbers), ``pred`` and ``proba`` (None without probabilities)."""
    import numpy as np

    if ctx.dataset is None:
        return None
    folds = ctx.out_of_fold(row)
    if not folds:
        return None
    first = min(int(fold.repeat) for fold, _ in folds)
    chosen = [p for fold, p in folds if int(fold.repeat) == first]
    test = np.concatenate([np.asarray(p.test, dtype=np.int64) for p in chosen])
    pred = np.concatenate([np.asarray(p.y_pred).reshape(len(p.test), -1)[:, 0] if np.ndim(p.y_pred) > 1
                           else np.asarray(p.y_pred) for p in chosen])
    if len(pred) != len(test):
        return None
    y = np.asarray(ctx.dataset.encoded_target())[test]
    proba = None
    if all(p.proba is not None for p in chosen):
        proba = np.concatenate([np.asarray(p.proba, dtype=float) for p in chosen])
        if proba.ndim != 2 or proba.shape[0] != len(test):
            proba = None
    return {"test": test, "y": y, "pred": pred, "proba": proba, "repeat": first, "folds": len(chosen)}


def fold_metrics(ctx, row: dict) -> dict[str, list[float]] | None:
    """Every metric of the task on each stored fold of ``row`` (and the Matthews correlation
    for classes); None when its predictions are not stored."""
    import numpy as np

    from dlrun.evaluation.metrics import score_all

    if ctx.dataset is None:
        return None
    folds = ctx.out_of_fold(row)
    if not folds:
        return None
    y = np.asarray(ctx.dataset.encoded_target())
    classification = is_classification(ctx.task)
    n_classes = len(ctx.dataset.classes) if classification else 0
    out: dict[str, list[float]] = {}
    for _fold, p in folds:
        test = np.asarray(p.test, dtype=np.int64)
        scores = score_all(ctx.task, y[test], p.y_pred, p.proba, n_classes, ctx.dataset.kind)
        if classification:
            scores[MCC] = matthews(y[test], np.asarray(p.y_pred, dtype=np.int64))
        for name, value in scores.items():
            out.setdefault(name, []).append(float(value) if A.finite(value) else math.nan)
    return out


def matthews(y, pred) -> float:
    from sklearn.metrics import matthews_corrcoef

    return float(matthews_corrcoef(y, pred))


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    finite = [v for v in values if A.finite(v)]
    if not finite:
        return None, None
    mean = sum(finite) / len(finite)
    std = math.sqrt(sum((v - mean) ** 2 for v in finite) / len(finite))
    return mean, std


def metric_label(name: str) -> str:
    if name == MCC:
        return "MCC"
    if name in METRICS:
        info = METRICS.get(name)
        return str(info.label or name).split(" (")[0]
    return name


def metric_table(ctx) -> tuple[Table, list[str]] | None:
    """Every metric of the task for the top candidates: mean ± std over their folds."""
    rows = A.best_per_algorithm(ctx.rows)[:TOP_CANDIDATES]
    per_row, names = [], []
    for row in rows:
        values = fold_metrics(ctx, row)
        if values is None and isinstance(row.get("metrics"), dict):  # the leaderboard's means
            values = {k: [v] for k, v in row["metrics"].items() if A.finite(v)}
        if not values:
            continue
        per_row.append((row, values))
        names += [n for n in values if n not in names]
    if not per_row:
        return None
    names.sort(key=lambda n: (METRICS.get(n).rank if n in METRICS else 50, n))
    fmt = A.Formatter(3)
    cells = []
    for row, values in per_row:
        line: list[Any] = [Strong(A.label(row)) if row is ctx.best else A.label(row)]
        for name in names:
            mean, std = _mean_std(values.get(name, []))
            shown = fmt(mean)
            if mean is not None and len(values.get(name, [])) > 1:
                shown += f" ± {fmt(std)}"
            line.append(shown)
        cells.append(tuple(line))
    directions = []
    for name in names:
        better = "higher" if name == MCC or METRICS.get(name).greater_is_better else "lower"
        directions.append(f"{metric_label(name)} {better}")
    table = Table(("candidate", *[metric_label(n) for n in names]), tuple(cells),
                  align=("left", *["right"] * len(names)),
                  highlight=frozenset(i for i, (r, _) in enumerate(per_row) if r is ctx.best))
    return table, directions


# --------------------------------------------------------------------------- classes


def class_labels(ctx) -> list[str]:
    from dlrun.data.dataset import label_text

    return [label_text(c).strip("'") for c in ctx.dataset.classes]


def classification_blocks(ctx, row: dict, data: dict) -> list[Any]:
    import numpy as np
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from dlrun.report import plots

    labels = class_labels(ctx)
    k = len(labels)
    y, pred, proba = data["y"], np.asarray(data["pred"], dtype=np.int64), data["proba"]
    n = len(y)
    matrix = confusion_matrix(y, pred, labels=list(range(k)))
    accuracy = float(np.trace(matrix)) / n if n else math.nan
    blocks: list[Any] = [Paragraph(text(
        "The out-of-fold predictions of ", Strong(A.label(row)), f" in repeat {data['repeat'] + 1} of "
        f"the resampling: each of the {n} rows predicted once, by the model of the fold that held it "
        f"out ({data['folds']} models). Pooled accuracy {accuracy:.3f}."))]
    blocks.append(Figure("confusion-matrix", "Confusion matrix", plots.confusion_plot(matrix, labels), text(
        "Rows: the true class; columns: the predicted one; each cell its count and its share of "
        "the true class (the diagonal: recall).")))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, pred, labels=list(range(k)), zero_division=0)
    rows = tuple((Code(labels[i]), f"{precision[i]:.3f}", f"{recall[i]:.3f}", f"{f1[i]:.3f}",
                  str(int(support[i])), str(int(matrix[:, i].sum()))) for i in range(k))
    blocks.append(Heading("Per class"))
    blocks.append(Table(("class", "precision", "recall", "F1", "rows (true)", "rows predicted"), rows,
                        align=("left", "right", "right", "right", "right", "right")))
    worst = int(np.argmin(recall))
    if k > 1 and support[worst] > 0:
        missed = int(support[worst] - matrix[worst, worst])
        blocks.append(Paragraph(
            f"The class hardest to recognise is '{labels[worst]}': {missed} of its {int(support[worst])} "
            f"rows ({100 * missed / support[worst]:.1f}%) were predicted as another class (recall "
            f"{recall[worst]:.3f}, precision {precision[worst]:.3f})."))
    if proba is None or proba.shape[1] != k:
        blocks.append(Paragraph(f"{row.get('algorithm')} gives no class probabilities: no ROC, "
                                "precision-recall or calibration curve.", muted=True))
        return blocks
    blocks += curve_blocks(y, proba, labels)
    return blocks


def _positive(k: int) -> list[int]:
    """The classes that get a curve: the second class of two (the positive one), else each."""
    return [1] if k == 2 else list(range(min(k, MAX_CURVE_CLASSES)))


def curve_blocks(y, proba, labels: list[str]) -> list[Any]:
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    from dlrun.report import plots

    k = len(labels)
    roc, pr, sentences = [], [], []
    for c in _positive(k):
        positive = (y == c).astype(int)
        if positive.sum() == 0 or positive.sum() == len(positive):
            continue
        fpr, tpr, _ = roc_curve(positive, proba[:, c])
        area = float(auc(fpr, tpr))
        precision, recall, _ = precision_recall_curve(positive, proba[:, c])
        ap = float(average_precision_score(positive, proba[:, c]))
        name = f"'{labels[c]}'" + ("" if k == 2 else " vs rest")
        roc.append((name, fpr, tpr, area))
        pr.append((name, recall, precision, ap, float(positive.mean())))
        sentences.append(f"{name}: ROC AUC {area:.3f}, AP (precision averaged over the recall steps) {ap:.3f} against a chance "
                         f"level of {positive.mean():.3f} (the class's share)")
    blocks: list[Any] = []
    if roc:
        which = (f"positive class '{labels[1]}'" if k == 2 else
                 f"each class against the rest{'' if k <= MAX_CURVE_CLASSES else f' (the first {MAX_CURVE_CLASSES})'}")
        blocks.append(Figure("roc-curve", "ROC curve", plots.roc_plot(roc), text(
            f"True against false positive rate as the probability threshold moves ({which}); the "
            "area under the curve (AUC) is the chance that a random row of the class is ranked "
            "above a random row of the others.")))
        blocks.append(Figure("precision-recall", "Precision-recall curve", plots.pr_plot(pr), text(
            "Precision against recall as the threshold moves: what a screening at a given recall "
            "costs in false alarms. AP, the precision averaged over the recall steps, summarises the curve.")))
        blocks.append(Paragraph("; ".join(sentences) + " (pooled out-of-fold predictions)."))
    blocks += calibration_blocks(y, proba, labels)
    return blocks


def calibration_blocks(y, proba, labels: list[str]) -> list[Any]:
    """Binary: the positive class's probability; more classes: the confidence of the predicted
    class against how often it was right."""
    import numpy as np

    from dlrun.report import plots

    k = len(labels)
    if k == 2:
        score = proba[:, 1]
        hit = (y == 1).astype(float)
        label = f"P('{labels[1]}')"
        brier = float(np.mean((score - hit) ** 2))
        base = float(np.mean((hit.mean() - hit) ** 2))
        what = f"the predicted probability of '{labels[1]}' against how often it was '{labels[1]}'"
    else:
        score = proba.max(axis=1)
        hit = (proba.argmax(axis=1) == y).astype(float)
        label = "confidence of the predicted class"
        onehot = np.eye(k)[y]
        brier = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
        share = onehot.mean(axis=0)
        base = float(np.mean(np.sum((share - onehot) ** 2, axis=1)))
        what = "the probability of the predicted class against how often that class was right"
    edges = np.unique(np.quantile(score, np.linspace(0, 1, CALIBRATION_BINS + 1)))
    if len(edges) < 3:
        return []
    bins = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, len(edges) - 2)
    predicted, observed, counts = [], [], []
    for b in range(len(edges) - 1):
        mask = bins == b
        if mask.any():
            predicted.append(float(score[mask].mean()))
            observed.append(float(hit[mask].mean()))
            counts.append(int(mask.sum()))
    gap = sum(c * abs(p - o) for p, o, c in zip(predicted, observed, counts, strict=True)) / sum(counts)
    return [
        Figure("calibration", "Calibration curve", plots.calibration_plot(label, predicted, observed, counts),
               text(f"Out-of-fold rows in {len(counts)} bins of equal size by {what}: on the diagonal, "
                    "a probability of 0.7 comes true 70% of the time.")),
        Paragraph(f"Brier score {brier:.3f} (always predicting the class shares scores {base:.3f}; "
                  f"lower is better); mean gap between predicted and observed frequency over the "
                  f"bins {gap:.3f}."),
    ]


# --------------------------------------------------------------------------- numbers


def numeric_blocks(ctx, row: dict, data: dict) -> list[Any]:
    import numpy as np

    from dlrun.report import plots

    y, pred = np.asarray(data["y"], float), np.asarray(data["pred"], float)
    residuals = y - pred
    target = ctx.target or "target"
    mae = float(np.mean(np.abs(residuals)))
    rmse = float(np.sqrt(np.mean(residuals ** 2)))
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1 - float(np.sum(residuals ** 2)) / total if total > 0 else math.nan
    fmt = A.Formatter(max(3, A.decimals_for({"rows": [{"mean": mae}]})))
    worst = np.argsort(-np.abs(residuals))[:3]
    blocks: list[Any] = [Paragraph(text(
        "The out-of-fold predictions of ", Strong(A.label(row)), f" in repeat {data['repeat'] + 1} of "
        f"the resampling: each of the {len(y)} rows predicted once, by the model of the fold that "
        f"held it out ({data['folds']} models). Pooled: MAE {fmt(mae)}, RMSE {fmt(rmse)}, "
        f"R² {r2:.3f}; mean residual {fmt(float(residuals.mean()), signed=True)} (a bias when far "
        f"from zero against the RMSE)."))]
    blocks.append(Figure("predicted-vs-true", "Predicted against true",
                         plots.true_vs_predicted_plot(y, pred, target),
                         "Each dot a row; on the dashed line the prediction is exact."))
    blocks.append(Figure("residuals", "Residuals against predictions", plots.residual_plot(pred, residuals, target),
                         "A pattern (a curve, a funnel) means the model misses structure or its errors grow "
                         "with the value."))
    blocks.append(Figure("error-distribution", "Distribution of the errors", plots.error_histogram(residuals),
                         "Residuals (true - predicted) of every row."))
    rows = ", ".join(f"row {int(data['test'][i])} (true {fmt(y[i])}, predicted {fmt(pred[i])})" for i in worst)
    blocks.append(Paragraph(f"Largest errors: {rows}."))
    return blocks


# --------------------------------------------------------------------------- the section


def diagnostics(ctx) -> list[Section]:
    best = ctx.best
    if best is None or ctx.dataset is None:
        return []
    blocks: list[Any] = []
    data = pooled(ctx, best)
    classification = is_classification(ctx.task)
    if data is not None:
        blocks += (classification_blocks if classification else numeric_blocks)(ctx, best, data)
    table = metric_table(ctx)
    if table is not None:
        blocks.append(Heading("Every metric of the task, top candidates"))
        blocks.append(Paragraph("Mean ± std over every fold of the resampling (the leaderboard's folds). "
                                f"Better: {', '.join(table[1])}.", muted=True))
        blocks.append(table[0])
    if not blocks:
        return []
    return [Section("diagnostics", "Diagnostics of the chosen model", tuple(blocks))]


DIAGNOSTICS = ReportSection("diagnostics", diagnostics, 57)
