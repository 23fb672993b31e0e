"""Report content for image projects: out-of-fold sample predictions, the confusion matrix,
a net's training curves -- all read from what the evaluation stored, nothing refitted.

Predictions shown in the report must not come from images the model trained
on: every image of the first repeat's folds was predicted by the winner fitted
on the other folds, so the sample grid and the confusion matrix show those
stored out-of-fold predictions (each image once). The training curves (loss
and the metric per epoch, validation = the early-stopping split of the net's
own training data) are the final model's when a net won, else those the best
net recorded on its first fold during the evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrun.catalogue import NET
from dlrun.report.analysis import label, role
from dlrun.report.model import Figure, Paragraph, Section, Strong, text

GRID = 24  # images in the sample grid
MAX_ERRORS_SHOWN = 8


def image_sections(report) -> list[Section]:
    """The kind's report sections, from a :class:`dlrun.report.context.ReportContext`."""
    best, dataset = report.best, report.dataset
    if best is None or dataset is None:
        return []
    blocks: list[Any] = []
    folds = report.out_of_fold(best)
    if folds:
        blocks += prediction_blocks(report, best, folds)
    else:
        blocks.append(Paragraph(text(
            "The out-of-fold predictions of ", Strong(label(best)), " are not stored, so no "
            "confusion matrix is shown: evaluate the project again to store them.")))
    blocks += curves_blocks(report)
    return [Section("images", "Images: out-of-fold predictions", tuple(blocks))]


def prediction_blocks(report, best: dict, folds: list) -> list:
    dataset = report.dataset
    classes = [str(c) for c in dataset.classes]
    first = [(f, p) for f, p in folds if f.repeat == 0] or folds  # every image once
    index = np.concatenate([np.asarray(p.test, dtype=np.int64) for _, p in first])
    y_pred = np.concatenate([np.asarray(p.y_pred, dtype=np.int64) for _, p in first])
    y_true = np.asarray(dataset.encoded_target())[index]
    accuracy = float(np.mean(y_pred == y_true)) if len(index) else float("nan")
    seed = int(getattr(getattr(report.spec, "evaluation", None), "seed", 0) or 0)
    blocks: list[Any] = [Paragraph(text(
        "Every image here was predicted by the winner, ", Strong(str(best["algorithm"])),
        f" on the {best['view']} view, fitted on the other folds of the first repeat "
        f"({len(first)} folds): a model that never saw it. Over those {len(index)} images its "
        "accuracy is ", Strong(f"{accuracy:.4f}"), "; the leaderboard's mean over every fold is the "
        "estimate to quote."))]
    blocks.append(Figure("samples", "Out-of-fold images: predicted (true)",
                         sample_grid(dataset.X, index, y_true, y_pred, classes, seed),
                         "Each image is titled with its predicted class and, in brackets, its true "
                         "class; errors come first, in red."))
    matrix = confusion(y_true, y_pred, len(classes))
    blocks.append(Figure("confusion", "Confusion matrix of the out-of-fold predictions",
                         confusion_plot(matrix, classes), "Rows: the true class; columns: the predicted one."))
    confused = most_confused(matrix, classes)
    if confused:
        blocks.append(Paragraph("Most frequent confusions (true -> predicted): "
                                + ", ".join(f"{t} -> {p} ({n})" for t, p, n in confused) + "."))
    return blocks


def curves_blocks(report) -> list:
    """The training curves of the best net: the final model's when it won (no extra fit),
    else those stored with the evaluation of its first fold."""
    nets = [r for r in report.rows if role(r) == NET]
    if not nets:
        return []
    row = nets[0]
    curves, source = None, ""
    model = getattr(report.pipeline, "named_steps", {}).get("model") if report.pipeline is not None else None
    if row is report.best and isinstance(getattr(model, "curves_", None), dict):
        curves, source = model.curves_, "the final model, fitted on all the images"
    else:
        stored = report.fold_extras(row) or []
        for fold, extra in sorted(stored, key=lambda fe: (fe[0].repeat, fe[0].index)):
            if isinstance(extra, dict) and isinstance(extra.get("curves"), dict):
                curves = extra["curves"]
                source = (f"the model of fold {fold.index + 1} of repeat {fold.repeat + 1}, "
                          "as the evaluation recorded it")
                break
    if not curves or not curves.get("epoch"):
        return [Paragraph(text("No training curves are stored for ", Strong(label(row)),
                               ": evaluate it again with a dlrun whose nets record them."))]
    stopped = int(curves["epoch"][-1])
    return [
        Figure("curves", f"Training curves of {label(row)}", curves_plot(curves)),
        Paragraph(f"Training curves of {label(row)}: {source}; it trained {stopped} epochs before "
                  "early stopping (validation = a split of its own training data, never a test fold)."),
    ]


# --------------------------------------------------------------------------- numbers


def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def most_confused(matrix: np.ndarray, classes: list[str], top: int = 5) -> list[tuple[str, str, int]]:
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    pairs = [(int(off[i, j]), i, j) for i in range(len(off)) for j in range(len(off)) if off[i, j]]
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [(classes[i], classes[j], n) for n, i, j in pairs[:top]]


# --------------------------------------------------------------------------- figures


def _display(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img, dtype=np.float32)
    top = float(img.max()) if img.size else 1.0
    img = img / (255.0 if top > 16 else max(top, 1.0))
    return img[..., 0] if img.shape[-1] == 1 else np.clip(img, 0, 1)


def sample_grid(X, index, y_true, y_pred, classes: list[str], seed: int) -> bytes:
    """Up to GRID images (rows ``index`` of ``X``) titled 'predicted (true)', errors (in red) first."""
    from dlrun.report.plots import new_figure, to_png

    rng = np.random.default_rng(seed)
    wrong = np.flatnonzero(y_true != y_pred)
    right = np.flatnonzero(y_true == y_pred)
    chosen = list(rng.permutation(wrong)[:MAX_ERRORS_SHOWN])
    chosen += list(rng.permutation(right)[: GRID - len(chosen)])
    cols = 8
    rows = max(1, int(np.ceil(len(chosen) / cols)))
    fig = new_figure(cols * 1.15, rows * 1.35)
    for k, i in enumerate(chosen):
        ax = fig.add_subplot(rows, cols, k + 1)
        img = _display(X[int(index[i])])
        ax.imshow(img, cmap="gray_r" if img.ndim == 2 else None, interpolation="nearest")
        ok = y_true[i] == y_pred[i]
        ax.set_title(f"{classes[y_pred[i]][:10]} ({classes[y_true[i]][:10]})", fontsize=7,
                     color="black" if ok else "#d62728")
        ax.set_xticks([])
        ax.set_yticks([])
    return to_png(fig)


def confusion_plot(matrix: np.ndarray, classes: list[str]) -> bytes:
    from dlrun.report.plots import new_figure, to_png

    n = len(classes)
    size = min(9.0, 2.5 + 0.45 * n)
    fig = new_figure(size, size * 0.85)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(matrix, cmap="Blues")
    labels = [c[:12] for c in classes]
    ax.set_xticks(range(n), labels=labels, rotation=90 if n > 10 else 0, fontsize=8)
    ax.set_yticks(range(n), labels=labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        top = matrix.max() or 1
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if matrix[i, j] > top / 2 else "black")
    return to_png(fig)


def curves_plot(curves: dict[str, Any]) -> bytes:
    """Loss per epoch (training, validation) and the validation metric, as recorded."""
    from dlrun.report.plots import new_figure, to_png

    epochs = list(curves["epoch"])
    metric = curves.get("val_metric") if curves.get("has_val", True) else None
    fig = new_figure(8.5 if metric else 4.5, 3.2)
    ax = fig.add_subplot(1, 2 if metric else 1, 1)
    ax.plot(epochs, curves.get("loss") or [], label="training loss")
    if curves.get("has_val", True) and curves.get("val_loss"):
        ax.plot(epochs, curves["val_loss"], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    if metric:
        ax = fig.add_subplot(1, 2, 2)
        ax.plot(epochs, metric, color="#2ca02c")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"validation {curves.get('metric', 'metric')}")
    fig.tight_layout()
    return to_png(fig)
