"""Report content for text projects, from what the evaluation stored and the final model:

* **informative terms per class** -- the weights of the final model when it is linear
  (logistic regression, a linear SVM, NBSVM, naive Bayes: fitted on all the documents
  by the report stage, its only fit); otherwise the naive-Bayes log-count ratios of the
  final view's terms (of the word n-grams, when a net on token ids won) over all the
  documents: counts that describe the corpus, not a model;
* the **confusion matrix** of the best row's stored out-of-fold predictions (each
  document of the first repeat once, predicted by a model that never saw it);
* a few **misclassified documents** from those predictions (the most confident errors
  first), with their file (or row) and an excerpt;
* the **document lengths** per class, and how many documents the token view cuts.

Every term, excerpt and file name is plain text in a typed block: the renderers
escape it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrun.kinds.text.data import iter_documents, length_stats, word_count
from dlrun.report.analysis import label
from dlrun.report.model import Figure, Heading, Paragraph, Section, Strong, Table, text

TOP_TERMS = 15
ERRORS_SHOWN = 6
EXCERPT = 300
MAX_CLASS_COLUMNS = 6


def text_sections(report) -> list[Section]:
    """The kind's report sections, from a :class:`dlrun.report.context.ReportContext`."""
    best, dataset = report.best, report.dataset
    if best is None or dataset is None:
        return []
    blocks: list[Any] = []
    blocks += term_blocks(report)
    folds = report.out_of_fold(best)
    if folds:
        blocks += prediction_blocks(report, best, folds)
    else:
        blocks.append(Paragraph(text(
            "The out-of-fold predictions of ", Strong(label(best)), " are not stored, so no "
            "confusion matrix or misclassified documents are shown: evaluate the project again "
            "to store them.")))
    blocks += length_blocks(report)
    return [Section("documents", "Documents: informative terms, errors and lengths", tuple(blocks))]


# --------------------------------------------------------------------------- informative terms


def class_weights(model, n_classes: int) -> np.ndarray | None:
    """(classes x terms) weights of a linear model, or None: for two classes one row of the
    second class against the first (its negation stands for the first)."""
    coef = getattr(model, "coef_", None)
    if coef is None and hasattr(model, "feature_log_prob_"):
        logp = np.asarray(model.feature_log_prob_, dtype=float)
        if logp.shape[0] == 2:
            return (logp[1] - logp[0])[None, :]
        return np.vstack([logp[k] - np.delete(logp, k, axis=0).mean(axis=0) for k in range(len(logp))])
    if coef is None:
        return None
    coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=float)
    return coef if coef.ndim == 2 else coef[None, :]


def log_count_ratios(matrix, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Naive-Bayes log-count ratios of each term: class k against the others (alpha 1)."""
    rows = []
    for k in range(n_classes) if n_classes > 2 else [1]:
        mine = np.asarray(matrix[y == k].sum(axis=0), dtype=float).ravel() + 1.0
        rest = np.asarray(matrix[y != k].sum(axis=0), dtype=float).ravel() + 1.0
        rows.append(np.log(mine / mine.sum()) - np.log(rest / rest.sum()))
    return np.vstack(rows)


def term_weights(report) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(classes x terms weights, term names, where they come from), or None."""
    pipeline = report.pipeline
    steps = getattr(pipeline, "named_steps", {}) if pipeline is not None else {}
    view, model = steps.get("view"), steps.get("model")
    n_classes = len(report.dataset.classes)
    final = report.final_model or {}
    y = np.asarray(report.dataset.encoded_target())
    if view is None or not hasattr(view, "vectorizer_"):  # token ids: count the words themselves
        from dlrun.kinds.text.vectorizers import TermWeights

        settings = (report.dataset.meta.get("context") or {}).get("documents") or {}
        view = TermWeights(weighting="binary", ngram_range=tuple(settings.get("ngrams", (1, 2))),
                           min_df=int(settings.get("min_df", 2)))
        matrix = view.fit_transform(report.dataset.X)
        source = ("the naive-Bayes log-count ratios of the word n-grams over every document (the "
                  "winner reads token ids; this describes the corpus, it is no model)")
        return log_count_ratios(matrix, y, n_classes), view.get_feature_names_out(), source
    names = np.asarray(view.get_feature_names_out(), dtype=object)
    weights = class_weights(model, n_classes) if model is not None else None
    if weights is not None and weights.shape[1] == len(names):
        source = (f"the weights of the final model, {final.get('algorithm', 'the winner')} on the "
                  f"{final.get('view', '')} view, fitted on every document")
        return weights, names, source
    matrix = view.transform(report.dataset.X)
    source = (f"the naive-Bayes log-count ratios of the {final.get('view', '')} view's terms over every "
              "document (the winner is not a linear model; this describes the corpus, it is no model)")
    return log_count_ratios(matrix, y, n_classes), names, source


def term_blocks(report) -> list:
    found = term_weights(report)
    if found is None:
        return []
    weights, names, source = found
    classes = [str(c) for c in report.dataset.classes]
    per_class: list[tuple[str, list[tuple[str, float]]]] = []
    if weights.shape[0] == 1 and len(classes) == 2:  # one direction per class
        w = weights[0]
        for cls, sign in ((classes[1], 1.0), (classes[0], -1.0)):
            order = np.argsort(-sign * w, kind="stable")[:TOP_TERMS]
            per_class.append((cls, [(str(names[i]), float(sign * w[i])) for i in order if sign * w[i] > 0]))
    else:
        for k, cls in enumerate(classes[: len(weights)]):
            order = np.argsort(-weights[k], kind="stable")[:TOP_TERMS]
            per_class.append((cls, [(str(names[i]), float(weights[k, i])) for i in order if weights[k, i] > 0]))
    blocks: list[Any] = [Heading("Most informative terms per class"),
                         Paragraph(f"The terms that weigh most towards each class: {source}.")]
    if len(per_class) <= MAX_CLASS_COLUMNS:
        depth = max((len(terms) for _, terms in per_class), default=0)
        rows = []
        for i in range(depth):
            rows.append(tuple([str(i + 1)] + [f"{terms[i][0]} ({terms[i][1]:.2f})" if i < len(terms) else ""
                                              for _, terms in per_class]))
        blocks.append(Table(tuple(["#"] + [cls for cls, _ in per_class]), tuple(rows),
                            align=("right",) + ("left",) * len(per_class)))
    else:
        rows = [(cls, ", ".join(term for term, _ in terms)) for cls, terms in per_class]
        blocks.append(Table(("class", "most informative terms"), tuple(rows)))
    return blocks


# --------------------------------------------------------------------------- out-of-fold predictions


def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def prediction_blocks(report, best: dict, folds: list) -> list:
    dataset = report.dataset
    classes = [str(c) for c in dataset.classes]
    first = [(f, p) for f, p in folds if f.repeat == 0] or folds  # every document once
    index = np.concatenate([np.asarray(p.test, dtype=np.int64) for _, p in first])
    y_pred = np.concatenate([np.asarray(p.y_pred, dtype=np.int64) for _, p in first])
    scores = [p.proba for _, p in first]
    proba = np.concatenate(scores) if all(s is not None for s in scores) else None
    y_true = np.asarray(dataset.encoded_target())[index]
    accuracy = float(np.mean(y_pred == y_true)) if len(index) else float("nan")
    matrix = confusion(y_true, y_pred, len(classes))
    blocks: list[Any] = [
        Heading("Confusion matrix"),
        Paragraph(text(
            "Every document here was predicted by the winner, ", Strong(str(best["algorithm"])),
            f" on the {best['view']} view, fitted on the other folds of the first repeat "
            f"({len(first)} folds): a model that never saw it. Over those {len(index)} documents its "
            "accuracy is ", Strong(f"{accuracy:.4f}"), "; the leaderboard's mean over every fold is "
            "the estimate to quote.")),
        Table(("true \\ predicted", *classes),
              tuple((cls, *[str(int(n)) for n in matrix[i]]) for i, cls in enumerate(classes)),
              align=("left",) + ("right",) * len(classes)),
        Figure("confusion", "Confusion matrix of the out-of-fold predictions",
               confusion_plot(matrix, classes), "Rows: the true class; columns: the predicted one."),
    ]
    blocks += error_blocks(report, index, y_true, y_pred, proba, classes)
    return blocks


def _where(dataset, row: int) -> str:
    files = dataset.meta.get("files")
    if files and row < len(files):
        return str(files[row])
    return f"row {row + 1}"


def excerpt(document: str, limit: int = EXCERPT) -> str:
    flat = " ".join(str(document).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def error_blocks(report, index, y_true, y_pred, proba, classes) -> list:
    wrong = np.flatnonzero(y_true != y_pred)
    if not len(wrong):
        return [Paragraph("No document was misclassified out of fold.")]
    if proba is not None and proba.ndim == 2 and proba.shape[1] == len(classes):
        confidence = proba[wrong, y_pred[wrong]]
        order = wrong[np.argsort(-confidence, kind="stable")]
    else:
        seed = int(getattr(getattr(report.spec, "evaluation", None), "seed", 0) or 0)
        order = np.random.default_rng(seed).permutation(wrong)
    shown = order[:ERRORS_SHOWN]
    dataset = report.dataset
    rows = []
    for i in shown:
        row = int(index[i])
        score = f"{proba[i, y_pred[i]]:.2f}" if proba is not None and proba.ndim == 2 else ""
        rows.append((_where(dataset, row), classes[y_true[i]], classes[y_pred[i]], score,
                     excerpt(dataset.X[row])))
    return [
        Heading("Misclassified documents"),
        Paragraph(f"{len(wrong)} of {len(index)} documents were misclassified out of fold"
                  + ("; the most confident errors first" if proba is not None else "")
                  + f". The first {len(shown)}, with the start of each document:"),
        Table(("document", "true", "predicted", "score", "excerpt"), tuple(rows),
              align=("left", "left", "left", "right", "left")),
    ]


# --------------------------------------------------------------------------- lengths


def length_blocks(report) -> list:
    dataset = report.dataset
    lengths = dataset.meta.get("lengths")
    if lengths is None:
        lengths = [word_count(d) for d in iter_documents(dataset.X)]
    lengths = np.asarray(lengths, dtype=np.int64)
    y = np.asarray(dataset.encoded_target())
    classes = [str(c) for c in dataset.classes]
    rows = []
    for k, cls in enumerate([*classes, "all"]):
        part = lengths if cls == "all" and k == len(classes) else lengths[y == k]
        stats = length_stats(part)
        if stats:
            rows.append((cls, f"{len(part):,}", f"{stats['min']:,}", f"{stats['median']:,}",
                         f"{stats['mean']:,.1f}", f"{stats['p90']:,}", f"{stats['max']:,}"))
    blocks: list[Any] = [
        Heading("Document lengths (words)"),
        Table(("class", "documents", "min", "median", "mean", "90th percentile", "max"), tuple(rows),
              align=("left",) + ("right",) * 6),
        Figure("lengths", "Document lengths", lengths_plot(lengths, y, classes),
               "Words per document, by class."),
    ]
    settings = (dataset.meta.get("context") or {}).get("documents") or {}
    cut = settings.get("sequence_length")
    if cut and len(lengths):
        longer = float(np.mean(lengths > int(cut)))
        blocks.append(Paragraph(f"The tokens view (the embedding nets) reads the last {cut} words of "
                                f"each document: {longer:.0%} of the documents are longer."))
    return blocks


# --------------------------------------------------------------------------- figures


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


def lengths_plot(lengths: np.ndarray, y: np.ndarray, classes: list[str]) -> bytes:
    from dlrun.report.plots import new_figure, to_png

    fig = new_figure(6.0, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    top = int(np.percentile(lengths, 99)) + 1 if len(lengths) else 1
    bins = np.linspace(0, max(top, 1), 40)
    for k, cls in enumerate(classes[:10]):
        ax.hist(np.clip(lengths[y == k], 0, top), bins=bins, alpha=0.5, label=cls[:20])
    ax.set_xlabel("words per document (the longest 1% at the right edge)")
    ax.set_ylabel("documents")
    ax.legend(fontsize=8)
    return to_png(fig)
