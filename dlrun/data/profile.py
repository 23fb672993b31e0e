"""The data profile: one line of facts per column and the warnings a practitioner wants
before fitting anything (``dlrun validate`` prints it, the report shows it).

Per column: its role (numeric or categorical, as the views will treat it), the share of
missing cells, the share of zeros, min and max (numbers), and the count of distinct
values. The warnings, each naming its column and the check that raised it:

* ``zeros`` -- suspicious zeros: a numeric column with no negative values, at least two
  zeros but in fewer than half of its rows, and a smallest non-zero value more than
  :data:`ZERO_GAP` times the column's typical spacing near zero (the median gap between
  its :data:`SPACING_VALUES` + 1 smallest distinct non-zero values) away from zero. Such
  zeros stand apart from the rest of the column: often a missing value recorded as 0 (a
  blood pressure or a body mass index of 0). A count whose values run 0, 1, 2, ... is not
  flagged, nor a column where zero is the usual value, nor a single zero (one value
  cannot be told from the column's tail).
* ``constant`` -- one value (or none) in every row: nothing to learn from.
* ``identifier`` -- a row label: a categorical column with a different value in at least
  :data:`ID_SHARE` of its rows, or a whole-number column whose values are all distinct and
  run in steps of one or in row order.
* ``leak`` -- a feature that alone predicts the target almost perfectly on held-out rows:
  its values cut into up to :data:`MAX_BINS` quantile bins (categories as they are), each
  bin predicting the majority class (the mean) of the training half of a seeded two-way
  split, scored on the other half; balanced accuracy (R²) of at least :data:`LEAK_SCORE`
  is flagged. Such a column is often recorded after the outcome.
* ``imbalance`` -- the rarest class holds less than :data:`IMBALANCE` of the share it would
  have were the classes balanced.

Only pandas and NumPy: ``dlrun validate`` runs it and must stay light. A dataset whose
inputs are not a table of named columns (pictures, documents, a time series) has no profile.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dlrun.catalogue import is_classification

#: Suspicious zeros: the smallest non-zero value lies more than this many typical spacings
#: from zero.
ZERO_GAP = 5.0
#: ... and zeros are fewer than this share of the column's values (else zero is the norm).
ZERO_SHARE = 0.5
#: The typical spacing: the median gap between the smallest this-many-plus-one distinct
#: non-zero values (the spacing where the column comes nearest to zero).
SPACING_VALUES = 10
#: A categorical column is identifier-like when at least this share of its rows have
#: their own value.
ID_SHARE = 0.95
#: Identifier and leak checks need at least this many rows to mean anything.
MIN_ROWS = 20
#: A single feature scoring at least this on held-out rows (balanced accuracy, R²) may leak.
LEAK_SCORE = 0.98
#: Most quantile bins a numeric feature is cut into for the leak check.
MAX_BINS = 100
#: The rarest class is flagged below this share of its balanced share (1/K).
IMBALANCE = 0.5


def _read_as_table(kind: str) -> bool:
    """Whether every view of ``kind`` reads its data as a table of columns (the registry says)."""
    from dlrun.catalogue import TABLE, VIEWS

    views = [view for view in VIEWS.values() if view.kind == kind]
    return bool(views) and all(tuple(view.provides) == (TABLE,) for view in views)


def profile_dataset(dataset, metric: str | None = None, seed: int = 0) -> dict[str, Any] | None:
    """The profile of a dataset whose inputs are a table of named columns (None otherwise)."""
    X = dataset.X
    kind = getattr(dataset, "kind", None)
    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0 or (kind is not None and not _read_as_table(kind)):
        return None  # documents, series, pictures: each row its own value is their nature
    return profile_frame(X, dataset.y, dataset.task, numeric=dataset.numeric, metric=metric, seed=seed)


def profile_frame(X: pd.DataFrame, y: pd.Series | None, task: str, *, numeric: list[str] | None = None,
                  metric: str | None = None, seed: int = 0) -> dict[str, Any]:
    """``{"rows", "columns": [...], "target": {...}, "warnings": [...]}`` of a table ``X`` and
    its target ``y``. ``numeric`` names the columns the views treat as numbers (default:
    the numeric dtypes); every other column is categorical."""
    numeric_names = set(numeric if numeric is not None else
                        [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])])
    rows = len(X)
    columns, warnings = [], []
    classification = is_classification(task)
    target = None if y is None else _target_codes(y, classification)
    for name in X.columns:
        is_number = name in numeric_names and pd.api.types.is_numeric_dtype(X[name])
        entry, found = column_profile(X[name], "numeric" if is_number else "categorical", rows)
        columns.append(entry)
        warnings.extend(found)
        if target is not None and rows >= MIN_ROWS and entry["distinct"] > 1:
            leak = leak_warning(X[name], is_number, target, classification, seed)
            if leak:
                warnings.append(leak)
    out: dict[str, Any] = {"rows": rows, "columns": columns, "warnings": warnings}
    if y is not None:
        out["target"] = target_profile(y, classification)
        if classification:
            warnings.extend(imbalance_warnings(y, metric))
    return out


# --------------------------------------------------------------------------- columns


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _shown(value: Any) -> str:
    """A number as a warning shows it (``44``, ``0.078``, ``1.2e+06``)."""
    value = _number(value)
    return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%" if share >= 0.001 or share == 0 else "<0.1%"


def warning(column: str, check: str, message: str) -> dict[str, str]:
    return {"column": column, "check": check, "message": message}


def column_profile(column: pd.Series, role: str, rows: int) -> tuple[dict[str, Any], list[dict]]:
    """One column's facts and the warnings they raise (zeros, constant, identifier)."""
    name = str(column.name)
    present = column.dropna()
    distinct = int(present.nunique())
    entry: dict[str, Any] = {"column": name, "type": role, "dtype": str(column.dtype),
                             "missing": round(1 - len(present) / rows, 6) if rows else 0.0,
                             "distinct": distinct, "zeros": None, "min": None, "max": None}
    found: list[dict] = []
    if distinct <= 1:
        value = f"the value {present.iloc[0]!r}" if distinct else "no value at all"
        found.append(warning(name, "constant", f"'{name}' holds {value} in every row: it carries no "
                             "information; list it in data.drop."))
    if role == "numeric" and len(present):
        values = present.to_numpy(dtype=float)
        entry.update(min=_number(values.min()), max=_number(values.max()),
                     zeros=round(float(np.mean(column.to_numpy(dtype=float, na_value=np.nan) == 0)), 6))
        zeros = suspicious_zeros(name, values, rows)
        if zeros:
            found.append(zeros)
        if distinct > 1 and row_label(values):
            found.append(warning(name, "identifier", f"'{name}' looks like a row number: whole "
                                 f"numbers, each row its own, {_order_text(values)}. A row number "
                                 "says nothing about new rows (unless the file is sorted by the "
                                 "target, which is a leak); list it in data.drop."))
    elif len(present) >= MIN_ROWS and distinct >= ID_SHARE * len(present) and distinct > 1:
        found.append(warning(name, "identifier", f"'{name}' looks like an identifier: {distinct} "
                             f"distinct values in {len(present)} rows. A label of its own for each "
                             "row cannot generalise to new rows; list it in data.drop."))
    return entry, found


def suspicious_zeros(name: str, values: np.ndarray, rows: int) -> dict | None:
    """The ``zeros`` warning of a numeric column (see the module's docstring), or None."""
    zero = values == 0
    n_zero = int(zero.sum())
    if n_zero < 2 or values.min() < 0 or n_zero >= ZERO_SHARE * len(values):
        return None
    nonzero = np.unique(values[~zero])
    if len(nonzero) < 3:  # too few values to know their spacing
        return None
    spacing = float(np.median(np.diff(nonzero[: SPACING_VALUES + 1])))
    gap = float(nonzero[0])
    if spacing <= 0 or gap <= ZERO_GAP * spacing:
        return None
    return warning(name, "zeros", (
        f"'{name}' has {n_zero} zero{'s' if n_zero > 1 else ''} ({_percent(n_zero / rows)} of rows) "
        f"though its other values start at {_shown(gap)}, {gap / spacing:.0f} times its typical "
        f"spacing ({_shown(spacing)}) from zero: zeros set apart like this are often missing values "
        "recorded as 0. If they are, blank those cells in the data (or use a marker listed in "
        "data.missing) so that each view imputes them."))


def row_label(values: np.ndarray) -> bool:
    """Whole numbers, all distinct, in steps of one or sorted in row order."""
    if len(values) < MIN_ROWS or not np.all(np.isfinite(values)) or not np.all(np.equal(np.mod(values, 1), 0)):
        return False
    if len(np.unique(values)) != len(values):
        return False
    steps = np.diff(values)
    span = values.max() - values.min()
    return bool(span == len(values) - 1 or np.all(steps > 0) or np.all(steps < 0))


def _order_text(values: np.ndarray) -> str:
    steps = np.diff(values)
    if np.all(steps > 0):
        return "rising in row order"
    if np.all(steps < 0):
        return "falling in row order"
    return f"{_shown(values.min())} to {_shown(values.max())} without a gap"


# --------------------------------------------------------------------------- target


def _target_codes(y: pd.Series, classification: bool) -> np.ndarray | None:
    if classification:
        codes, _ = pd.factorize(y, sort=True)
        return codes.astype(np.int64)
    values = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)
    return values if np.isfinite(values).all() else None


def target_profile(y: pd.Series, classification: bool) -> dict[str, Any]:
    present = y.dropna()
    out: dict[str, Any] = {"column": str(y.name), "missing": round(1 - len(present) / max(len(y), 1), 6),
                           "distinct": int(present.nunique())}
    if classification:
        counts = present.value_counts()
        out["classes"] = {str(k): int(v) for k, v in counts.items()}
    elif len(present):
        values = pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float)
        if len(values):
            out.update(min=_number(values.min()), max=_number(values.max()),
                       zeros=round(float(np.mean(values == 0)), 6))
    return out


def imbalance_warnings(y: pd.Series, metric: str | None) -> list[dict]:
    counts = y.dropna().value_counts()
    if len(counts) < 2:
        return []
    total = int(counts.sum())
    balanced = 1.0 / len(counts)
    rare = [(label, int(n)) for label, n in counts.items() if n / total < IMBALANCE * balanced]
    if not rare:
        return []
    top_label, top_count = counts.index[0], int(counts.iloc[0])
    listed = ", ".join(f"'{label}' {n} ({_percent(n / total)})" for label, n in rare[:5])
    advice = (" Accuracy rewards always predicting the majority; balanced_accuracy, f1 or roc_auc "
              "judge the rare classes too (metric in project.yaml)." if metric in (None, "accuracy")
              else "")
    return [warning(str(y.name), "imbalance", (
        f"class imbalance: {listed} against '{top_label}' {top_count} ({_percent(top_count / total)}); "
        f"below half of the {_percent(balanced)} each of {len(counts)} balanced classes would have. "
        f"The naive baseline already scores the majority's share.{advice}"))]


# --------------------------------------------------------------------------- leaks


def _bins(column: pd.Series, is_number: bool) -> np.ndarray:
    """Bin codes of a column: quantile bins of a number, a category's code; -1 when missing."""
    rows = len(column)
    if is_number:
        values = column.astype(float)
        n_bins = int(min(MAX_BINS, max(2, rows // 10)))
        if values.nunique() > n_bins:
            codes = pd.qcut(values, q=n_bins, labels=False, duplicates="drop")
        else:
            codes = pd.Series(pd.factorize(values, sort=True)[0], index=column.index).where(values.notna())
        return np.nan_to_num(codes.to_numpy(dtype=float), nan=-1).astype(np.int64)
    return pd.factorize(column.astype(object), use_na_sentinel=True)[0].astype(np.int64)


def single_feature_score(column: pd.Series, is_number: bool, target: np.ndarray, classification: bool,
                         seed: int = 0) -> float:
    """How well one column alone predicts the target on held-out rows: balanced accuracy
    (classification) or R² of its bins' majorities (means), fitted on one half of a seeded
    split and scored on the other, both ways, pooled."""
    codes = _bins(column, is_number) + 1  # 0: missing
    order = np.random.default_rng(seed).permutation(len(codes))
    halves = (order[: len(order) // 2], order[len(order) // 2:])
    predicted = np.empty(len(codes), dtype=float)
    size = int(codes.max()) + 1
    for train, test in (halves, halves[::-1]):
        if classification:
            k = int(target.max()) + 1
            table = np.zeros((size, k))
            np.add.at(table, (codes[train], target[train]), 1)
            fallback = int(np.bincount(target[train], minlength=k).argmax())
            seen = table.sum(axis=1) > 0
            guess = np.where(seen, table.argmax(axis=1), fallback)
        else:
            sums = np.bincount(codes[train], weights=target[train], minlength=size)
            counts = np.bincount(codes[train], minlength=size)
            fallback = float(target[train].mean())
            guess = np.divide(sums, counts, out=np.full(size, fallback), where=counts > 0)
        predicted[test] = guess[codes[test]]
    if classification:
        recalls = [np.mean(predicted[target == c] == c) for c in np.unique(target)]
        return float(np.mean(recalls))
    total = float(np.sum((target - target.mean()) ** 2))
    return 1.0 - float(np.sum((target - predicted) ** 2)) / total if total > 0 else 0.0


def leak_warning(column: pd.Series, is_number: bool, target: np.ndarray, classification: bool,
                 seed: int = 0) -> dict | None:
    score = single_feature_score(column, is_number, target, classification, seed)
    if score < LEAK_SCORE:
        return None
    name = str(column.name)
    what = "balanced accuracy" if classification else "R²"
    return warning(name, "leak", (
        f"'{name}' alone predicts the target almost perfectly ({what} {score:.3f} on held-out rows): "
        "a likely target leak -- a value recorded after, or computed from, the outcome. Check that "
        "it is known when a prediction is needed; if not, list it in data.drop."))
