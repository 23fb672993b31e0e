"""Explanations of the final model: permutation importance on held-out rows, with its spread,
and partial dependence of the top features -- for any model (trees, nets, ensembles alike).

**Permutation importance** (as :func:`sklearn.inspection.permutation_importance` computes
it, the shuffles of a column scored in one prediction call: :func:`shuffled_drops`) needs rows
the model did not see, and the final model has seen them all. So the final model's recipe
(the same candidate: view and algorithm with its parameters, or the same ensemble) is
fitted on the training rows of the first :data:`MAX_FOLDS` folds of the first repeat of the
leaderboard's resampling, and on each held-out fold every column is shuffled
:data:`REPEATS` times; the importance of a column is how much the project's metric drops
(mean and standard deviation over folds x shuffles). These fits are the report's only
ones besides the final model's. Cost is bounded: at most :data:`MAX_FOLDS` fits, each
held-out fold is subsampled (seeded) to :data:`MAX_TEST_ROWS` rows, and a wide table gets
fewer shuffles, then fewer folds, so that shuffled predictions stay within
:data:`MAX_PREDICTIONS` (:func:`budget`) -- the section says so when it happens.

**Partial dependence**: the final model's average prediction (the probability of each
class, or the number) over a seeded sample of :data:`PD_ROWS` rows, as one column is set in
turn to each point of a grid (quantiles from 5% to 95% for a number, the most frequent
categories for a category), for the :data:`PD_FEATURES` most important columns. This is the
brute-force method of :func:`sklearn.inspection.partial_dependence`, done here on the
whole pipeline (every grid point in one prediction call) because scikit-learn's
requires estimator tags that the Keras wrappers and the ensembles do not all carry.

Both need the inputs as a table of named columns and a final model fitted through a
pipeline on rows (the stage provides ``fit_on`` only then).
"""

from __future__ import annotations

import time
from typing import Any

from dlrun.catalogue import METRICS, ReportSection, is_classification
from dlrun.report import analysis as A
from dlrun.report.model import Code, Figure, Paragraph, Section, Table, text

#: Folds of the first repeat the final recipe is refitted on for the permutation importance.
MAX_FOLDS = 5
#: Shuffles of each column on each held-out fold.
REPEATS = 5
#: Rows of a held-out fold the importance is computed on (a seeded subsample beyond).
MAX_TEST_ROWS = 1000
#: Most shuffled predictions (columns x shuffles x folds) one importance may cost.
MAX_PREDICTIONS = 2500
#: Columns shown in the importance figure.
MAX_SHOWN = 20
#: Partial dependence: features, rows of the sample, points of a numeric grid, categories.
PD_FEATURES = 4
PD_ROWS = 300
PD_POINTS = 20
PD_CATEGORIES = 10
#: Classes drawn as separate lines of a partial dependence panel.
PD_CLASSES = 5


def scorer_for(metric: str, n_classes: int):
    """``scorer(model, X, y)`` of the project's metric, oriented so that higher is better."""
    from_outputs, needs_proba = output_scorer(metric, n_classes)

    def score(model, X, y) -> float:
        proba = model.predict_proba(X) if needs_proba and hasattr(model, "predict_proba") else None
        return from_outputs(y, model.predict(X), proba)

    return score


def output_scorer(metric: str, n_classes: int):
    """``(score(y, pred, proba), needs_proba)``: the project's metric on a model's outputs,
    oriented so that higher is better."""
    info = METRICS.get(metric)
    sign = 1.0 if info.greater_is_better else -1.0

    def score(y, pred, proba) -> float:
        return sign * float(info.fn(y, pred, proba, n_classes))

    return score, bool(info.needs_score or info.needs_proba)


def shuffled_drops(model, X, y, metric: str, n_classes: int, repeats: int, seed: int):
    """``columns x repeats`` drops of the metric when each column is shuffled: what
    :func:`sklearn.inspection.permutation_importance` computes, with the ``repeats`` shuffled
    copies of a column scored in one prediction call (a forest or a net pays its per-call cost
    once a column, not once a shuffle)."""
    import numpy as np
    import pandas as pd

    score, needs_proba = output_scorer(metric, n_classes)
    with_proba = needs_proba and hasattr(model, "predict_proba")

    def outputs(frame):
        return model.predict(frame), model.predict_proba(frame) if with_proba else None

    pred, proba = outputs(X)
    base = score(y, pred, proba)
    rng = np.random.default_rng(seed)
    n = len(X)
    drops = np.empty((X.shape[1], repeats))
    for j, column in enumerate(X.columns):
        copies = []
        for _ in range(repeats):
            copy = X.copy()
            copy[column] = X[column].iloc[rng.permutation(n)].set_axis(X.index)  # keeps the dtype
            copies.append(copy)
        pred, proba = outputs(pd.concat(copies, ignore_index=True))
        for r in range(repeats):
            rows = slice(r * n, (r + 1) * n)
            drops[j, r] = base - score(y, pred[rows], None if proba is None else proba[rows])
    return drops


def _rows(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def permutation(ctx, folds) -> dict | None:
    """Importance of each column over the first folds: ``{"columns", "mean", "std", "draws",
    "folds", "subsampled", "seconds"}``."""
    import numpy as np

    dataset = ctx.dataset
    X, y = dataset.X, np.asarray(dataset.encoded_target())
    seed = int(getattr(getattr(ctx.spec, "evaluation", None), "seed", 0) or 0)
    rng = np.random.default_rng(seed)
    first = min(int(f.repeat) for f in folds)
    n_folds, repeats = budget(X.shape[1])
    chosen = [f for f in folds if int(f.repeat) == first][:n_folds]
    n_classes = len(dataset.classes) if dataset.classification else 0
    draws, subsampled, start = [], False, time.perf_counter()
    for fold in chosen:
        ctx.message(f"permutation importance: fitting {A.label(ctx.best)} on fold {fold.id}")
        model = ctx.fit_on(np.asarray(fold.train))
        test = np.asarray(fold.test)
        if len(test) > MAX_TEST_ROWS:
            test, subsampled = np.sort(rng.choice(test, MAX_TEST_ROWS, replace=False)), True
        draws.append(shuffled_drops(model, _rows(X, test), y[test], ctx.metric_key, n_classes, repeats,
                                    seed + int(fold.index)))
    values = np.concatenate(draws, axis=1)  # columns x (folds x shuffles)
    return {"columns": [str(c) for c in X.columns], "mean": values.mean(axis=1), "std": values.std(axis=1),
            "draws": values.shape[1], "folds": len(chosen), "subsampled": subsampled,
            "seconds": time.perf_counter() - start, "test_rows": [len(f.test) for f in chosen],
            "repeats": repeats}


def budget(columns: int) -> tuple[int, int]:
    """``(folds, shuffles)`` keeping columns x shuffles x folds within :data:`MAX_PREDICTIONS`:
    fewer shuffles first (down to 2), then fewer folds (down to 1), then 1 shuffle."""
    columns = max(1, columns)
    repeats = max(2, min(REPEATS, MAX_PREDICTIONS // (columns * MAX_FOLDS)))
    folds = max(1, min(MAX_FOLDS, MAX_PREDICTIONS // (columns * repeats)))
    if columns * repeats * folds > MAX_PREDICTIONS:
        repeats = 1
    return folds, repeats


def importance_blocks(ctx, result: dict) -> list[Any]:
    import numpy as np

    from dlrun.report import plots

    means, stds = np.asarray(result["mean"]), np.asarray(result["std"])
    order = list(np.argsort(-means))
    metric = ctx.metric
    fmt = A.Formatter(max(3, ctx.fmt.decimals))
    shown = order[:MAX_SHOWN]
    blocks: list[Any] = [Paragraph(text(
        f"How much {metric} drops when one column's values are shuffled on rows the model did not "
        f"see: the final model's recipe refitted on the training rows of {result['folds']} folds "
        f"of the first repeat, each column shuffled {result.get('repeats', REPEATS)} times on each held-out fold "
        f"({result['draws']} draws a column"
        + (f"; each held-out fold subsampled to {MAX_TEST_ROWS} rows" if result["subsampled"] else "")
        + f"; {result['seconds']:.1f} s). A column the model does not use scores about 0."))]
    blocks.append(Figure("permutation-importance", "Permutation importance",
                         plots.importance_plot([result["columns"][i] for i in shown], means[shown],
                                               stds[shown], metric),
                         text(f"Mean drop in {metric} (bar) ± one standard deviation over the draws"
                              + (f"; the {MAX_SHOWN} most important of {len(order)} columns." if
                                 len(order) > MAX_SHOWN else "."))))
    used = [i for i in order if means[i] > stds[i]]
    unused = [i for i in order if abs(means[i]) <= stds[i]]
    sentences = []
    if used:
        top = used[:3]
        sentences.append("Shuffling " + A.join_words([f"'{result['columns'][i]}' costs {fmt(means[i])} "
                                                       f"± {fmt(stds[i])}" for i in top]) + f" {metric}"
                         + (f"; {len(used)} column{'s' if len(used) > 1 else ''} in all cost more than "
                            "their spread." if len(used) > len(top) else "."))
    if unused:
        names = [f"'{result['columns'][i]}'" for i in unused[:8]]
        more = f" and {len(unused) - 8} more" if len(unused) > 8 else ""
        sentences.append(f"For {A.join_words(names)}{more} the drop is within its own spread "
                         "(|mean| ≤ std): no clear sign that the model relies on them (which does not "
                         "show they carry no information: a column whose information another column "
                         "also carries shows little importance too).")
    if sentences:
        blocks.append(Paragraph(" ".join(sentences)))
    rows = tuple((Code(result["columns"][i]), fmt(means[i]), fmt(stds[i])) for i in order)
    blocks.append(Table(("column", f"drop in {metric}", "std"), rows, align=("left", "right", "right"),
                        collapsed=f"Importance of all {len(order)} columns"))
    return blocks


def _grid(column, categorical: bool):
    import numpy as np
    import pandas as pd

    present = column.dropna()
    if categorical or not pd.api.types.is_numeric_dtype(column):
        return list(present.value_counts().index[:PD_CATEGORIES]), True
    values = np.unique(np.quantile(present.to_numpy(dtype=float), np.linspace(0.05, 0.95, PD_POINTS)))
    return list(values), False


def partial_dependence(ctx, features: list[str]) -> dict | None:
    """The final model's average prediction along a grid of each feature."""
    import numpy as np
    import pandas as pd

    dataset, model = ctx.dataset, ctx.pipeline
    X = dataset.X
    seed = int(getattr(getattr(ctx.spec, "evaluation", None), "seed", 0) or 0)
    rows = np.random.default_rng(seed).permutation(len(X))[:PD_ROWS]
    sample = X.iloc[np.sort(rows)]
    classification = dataset.classification
    if classification and not hasattr(model, "predict_proba"):
        return None
    labels = []
    if classification:
        from dlrun.report.diagnostics import class_labels

        labels = class_labels(ctx)
    panels = []
    for feature in features:
        grid, categorical = _grid(X[feature], feature in dataset.categorical)
        if len(grid) < 2:
            continue
        copies = []
        for value in grid:
            copy = sample.copy()
            copy[feature] = value
            copies.append(copy)
        stacked = pd.concat(copies, ignore_index=True)
        if classification:
            out = np.asarray(model.predict_proba(stacked), float).reshape(len(grid), len(sample), -1).mean(axis=1)
            classes = [1] if out.shape[1] == 2 else list(range(min(out.shape[1], PD_CLASSES)))
            lines = {f"P('{labels[c]}')": out[:, c] for c in classes}
        else:
            out = np.asarray(model.predict(stacked), float).reshape(len(grid), len(sample)).mean(axis=1)
            lines = {str(ctx.target or "prediction"): out}
        panels.append({"feature": feature, "x": grid, "lines": lines, "categorical": categorical,
                       "values": None if categorical else sample[feature].dropna().to_numpy(dtype=float)})
    if not panels:
        return None
    ylabel = "mean predicted probability" if classification else f"mean predicted {ctx.target or 'value'}"
    return {"panels": panels, "ylabel": ylabel, "rows": len(sample)}


def dependence_blocks(ctx, result: dict) -> list[Any]:
    from dlrun.report import plots

    panels = result["panels"]
    sentences = []
    for panel in panels:
        for label, ys in list(panel["lines"].items())[:1]:
            lo, hi = min(range(len(ys)), key=lambda i: ys[i]), max(range(len(ys)), key=lambda i: ys[i])
            span = float(ys[hi] - ys[lo])
            where = (f"from {float(ys[0]):.3g} at {panel['x'][0]:.4g} to {float(ys[-1]):.3g} at "
                     f"{panel['x'][-1]:.4g}" if not panel["categorical"] else
                     f"from {float(ys[lo]):.3g} ('{panel['x'][lo]}') to {float(ys[hi]):.3g} ('{panel['x'][hi]}')")
            sentences.append(f"'{panel['feature']}': {label} goes {where} (range {span:.3g})")
    return [
        Figure("partial-dependence", "Partial dependence", plots.partial_dependence_plot(panels, result["ylabel"]),
               text(f"The final model's mean prediction over {result['rows']} sampled rows as one "
                    "column is set to each value of its grid (5% to 95% quantiles, or its most frequent "
                    "categories), all else kept; ticks: the sample's values. It shows what the model "
                    "does, not what causes what.")),
        Paragraph("; ".join(sentences) + "."),
    ]


def explanations(ctx) -> list[Section]:
    if ctx.fit_on is None or ctx.dataset is None or ctx.best is None or ctx.pipeline is None:
        return []
    folds = list(ctx.folds or [])
    if not folds or not hasattr(ctx.dataset.X, "columns"):
        return []
    blocks: list[Any] = []
    result = permutation(ctx, folds)
    features: list[str] = []
    if result is not None:
        blocks += importance_blocks(ctx, result)
        order = sorted(range(len(result["columns"])), key=lambda i: -result["mean"][i])
        features = [result["columns"][i] for i in order if result["mean"][i] > 0][:PD_FEATURES]
    if features:
        ctx.message(f"partial dependence of {len(features)} feature(s)")
        dependence = partial_dependence(ctx, features)
        if dependence is not None:
            blocks += dependence_blocks(ctx, dependence)
    if not blocks:
        return []
    what = "classifier" if is_classification(ctx.task) else "model"
    blocks.insert(0, Paragraph(f"What the final {what} relies on. Importance is measured on held-out "
                               "rows; partial dependence describes the final model itself.", muted=True))
    return [Section("explanations", "Explanations", tuple(blocks))]


EXPLANATIONS = ReportSection("explanations", explanations, 58)
