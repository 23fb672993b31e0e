"""Report content for image projects: sample predictions, confusion matrix, CNN curves.

Predictions shown in the report must not come from images the model trained
on, so the winning pipeline is refitted once on a stratified 80% of the
images and judged on the other 20% (the *hold-out check*): the sample grid
and the confusion matrix show that 20%. The CNN's training curves (loss and
accuracy per epoch, validation = the early-stopping split of its training
data) come from the final model when the CNN won, otherwise from a CNN fitted
on the same 80% with the parameters of its best leaderboard row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrun.report.entry import md_cell

HOLDOUT_FRACTION = 0.2
GRID = 24  # images in the sample grid
MAX_ERRORS_SHOWN = 8


def image_sections(report):
    """The kind's report content: ``(figures, sections)`` for the report stage."""
    return image_report(report.run, report.pipeline, report.board)


def image_report(context, pipeline, leaderboard) -> tuple[list, list]:
    dataset = context.dataset
    if not leaderboard.get("rows"):
        return [], []
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split

    classes = [str(c) for c in dataset.classes]
    y = dataset.encoded_target()
    seed = context.spec.evaluation.seed
    train, test = train_test_split(np.arange(len(y)), test_size=HOLDOUT_FRACTION, random_state=seed,
                                   stratify=y if np.bincount(y).min() >= 2 else None)
    train, test = np.sort(train), np.sort(test)
    X_train, X_test = dataset.X[train], dataset.X[test]
    context.reporter.message(
        f"hold-out check: refitting {leaderboard['rows'][0]['algorithm']} on {len(train)} images"
    )
    check = clone(pipeline).fit(X_train, y[train])
    y_pred = np.asarray(check.predict(X_test), dtype=int)
    accuracy = float(np.mean(y_pred == y[test]))

    figures: list[tuple[str, bytes]] = []
    sections: list[tuple[str, str]] = []
    best = leaderboard["rows"][0]
    figures.append(("Hold-out images: predicted (true)",
                    sample_grid(X_test, y[test], y_pred, classes, seed)))
    matrix = confusion(y[test], y_pred, len(classes))
    figures.append(("Confusion matrix on the hold-out images", confusion_plot(matrix, classes)))
    lines = [
        f"The winner, **{md_cell(best['algorithm'])}** on the {md_cell(best['view'])} view, refitted "
        f"on a stratified {1 - HOLDOUT_FRACTION:.0%} of the images ({len(train)}), scores "
        f"**{accuracy:.4f}** accuracy on the other {len(test)}. The sample grid and the confusion "
        "matrix show those hold-out images; the leaderboard's resampled score is the estimate to quote.",
    ]
    confused = most_confused(matrix, classes)
    if confused:
        lines.append("")
        lines.append("Most frequent confusions (true -> predicted): "
                     + ", ".join(f"{md_cell(t)} -> {md_cell(p)} ({n})" for t, p, n in confused) + ".")
    curves, source = cnn_curves(context, pipeline, leaderboard, X_train, y[train])
    if curves:
        figures.append(("CNN training curves", curves_plot(curves)))
        stopped = int(curves["epoch"][-1]) if curves["epoch"] else 0
        lines.append("")
        lines.append(f"CNN training curves: {source}; it trained {stopped} epochs before early "
                     "stopping (validation = a split of its own training data, never a test fold).")
    sections.append(("Images: hold-out check", "\n".join(lines)))
    return [f for f in figures if f[1]], sections


def cnn_curves(context, pipeline, leaderboard, X_train, y_train) -> tuple[dict | None, str]:
    model = pipeline.named_steps.get("model")
    best = leaderboard["rows"][0]
    if best["algorithm"].split("+", 1)[0] == "cnn" and getattr(model, "curves_", None):
        return model.curves_, "the final model (all images)"
    rows = [r for r in leaderboard["rows"] if r["algorithm"].split("+", 1)[0] == "cnn"]
    if not rows:
        return None, ""
    from dlrun.evaluation.candidates import build_estimator
    from dlrun.evaluation.runner import build_context
    from dlrun.stages.report import candidate_for

    dataset = context.dataset
    candidate = candidate_for(rows[0], context)
    ctx = build_context(dataset, context.spec.metric, context.spec.evaluation.seed)
    context.reporter.message(f"fitting {candidate.name} on {candidate.view} for its training curves")
    cnn = build_estimator(candidate, ctx, dataset.roles, dataset.kind).fit(X_train, y_train)
    return cnn.named_steps["model"].curves_, f"{candidate.name} on the {candidate.view} view, fitted on the hold-out check's training images"


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


def sample_grid(X, y_true, y_pred, classes: list[str], seed: int) -> bytes:
    """Up to GRID hold-out images titled 'predicted (true)', errors (in red) first."""
    from dlrun.report.plots import _figure, _png

    rng = np.random.default_rng(seed)
    wrong = np.flatnonzero(y_true != y_pred)
    right = np.flatnonzero(y_true == y_pred)
    chosen = list(rng.permutation(wrong)[:MAX_ERRORS_SHOWN])
    chosen += list(rng.permutation(right)[: GRID - len(chosen)])
    cols = 8
    rows = max(1, int(np.ceil(len(chosen) / cols)))
    fig = _figure(cols * 1.15, rows * 1.35)
    for k, i in enumerate(chosen):
        ax = fig.add_subplot(rows, cols, k + 1)
        img = _display(X[i])
        ax.imshow(img, cmap="gray_r" if img.ndim == 2 else None, interpolation="nearest")
        ok = y_true[i] == y_pred[i]
        ax.set_title(f"{classes[y_pred[i]][:10]} ({classes[y_true[i]][:10]})", fontsize=7,
                     color="black" if ok else "#d62728")
        ax.set_xticks([])
        ax.set_yticks([])
    return _png(fig)


def confusion_plot(matrix: np.ndarray, classes: list[str]) -> bytes:
    from dlrun.report.plots import _figure, _png

    n = len(classes)
    size = min(9.0, 2.5 + 0.45 * n)
    fig = _figure(size, size * 0.85)
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
    return _png(fig)


def curves_plot(curves: dict[str, Any]) -> bytes:
    from dlrun.report.plots import _figure, _png

    epochs = curves["epoch"]
    fig = _figure(8.5, 3.2)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(epochs, curves["loss"], label="training loss")
    if curves.get("has_val", True):
        ax.plot(epochs, curves["val_loss"], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(epochs, curves["val_metric"], color="#2ca02c")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {curves.get('metric', 'accuracy')}")
    fig.tight_layout()
    return _png(fig)
