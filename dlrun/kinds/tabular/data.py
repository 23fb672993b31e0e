"""A table of examples as a :class:`~dlrun.data.dataset.Dataset`: features and a target.

Cleaning rules on top of :func:`dlrun.data.sources.read_frame`:

* a column whose every non-missing value is a number becomes ``float64``;
  any other column (and every column listed in ``data.categorical``) becomes a
  categorical column of ``object`` dtype holding ``str`` values and NaN;
* classification targets become clean labels: stripped strings, or ``int``
  when every label is an integral number; numeric targets must be numbers;
* rows whose target is missing are dropped.

Problems raise :class:`~dlrun.errors.DataError` naming the field or column.
Non-fatal findings (dropped rows, columns that are numeric but for a few odd
strings, tiny classes) are *not* emitted with :func:`warnings.warn`: they are
returned as sentences in ``Dataset.meta["warnings"]`` so that ``dlrun validate``
and the report can show them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.data.dataset import Dataset, label_text
from dlrun.data.sources import check_finite, read_frame
from dlrun.errors import DataError
from dlrun.spec import DataSpec

KIND = "tabular"
#: Share of numbers above which a column with a few odd strings gets a warning.
_MOSTLY_NUMERIC = 0.9
#: Strings that mean "missing" in an otherwise numeric column even when
#: data.missing does not list them (``dlrun new`` sniffs markers on the first
#: rows of a big file only): read as NaN, with a warning.
STANDARD_MARKERS = ("?", "NA", "N/A", "NaN", "null", "-")


def load_table(spec, project_dir: str | Path) -> Dataset:
    """Load, clean and check the data named by ``spec.data``."""
    frame, meta = read_frame(spec.data, Path(project_dir))
    return build_dataset(frame, spec.data, spec.task, name=spec.name, meta=meta,
                         min_class_rows=spec.evaluation.folds)


def _mostly_text(series: pd.Series, sample: int = 200) -> bool:
    """Cheap check on the first values: most of them are not numbers."""
    head = series[~series.isin(STANDARD_MARKERS)].dropna().head(sample)
    return bool(len(head)) and pd.to_numeric(head, errors="coerce").notna().mean() < 0.5


def _to_numeric(series: pd.Series) -> tuple[pd.Series, list[str]]:
    """Float version of a string column, plus the non-missing values that are not numbers."""
    numbers = pd.to_numeric(series, errors="coerce")
    bad = series[numbers.isna() & series.notna()]
    return numbers.astype("float64"), bad.unique().tolist()


# --------------------------------------------------------------------------- the dataset


def build_dataset(
    frame: pd.DataFrame,
    data: DataSpec,
    task: str,
    *,
    name: str = "",
    meta: dict[str, Any] | None = None,
    min_class_rows: int = 0,
) -> Dataset:
    """Turn a cleaned frame into features and target, checking the spec's column lists."""
    meta = dict(meta or {})
    warnings: list[str] = meta.setdefault("warnings", [])
    available = list(frame.columns)

    if data.target not in frame.columns:
        raise DataError(
            f"target column '{data.target}' not found; the columns are: {_listing(available)}",
            field="data.target",
        )
    for key in ("drop", "categorical"):
        for i, column in enumerate(getattr(data, key)):
            if column not in frame.columns:
                raise DataError(
                    f"column '{column}' not found; the columns are: {_listing(available)}",
                    field=f"data.{key}[{i}]",
                )
    if data.target in data.drop:
        raise DataError(f"the target '{data.target}' cannot be dropped", field="data.drop")

    y = frame[data.target]
    X = frame.drop(columns=[data.target, *data.drop])
    if X.shape[1] == 0:
        raise DataError("no feature columns are left besides the target", field="data.drop")

    # -- target
    keep = y.notna()
    n_dropped = int((~keep).sum())
    if n_dropped:
        if not keep.any():
            raise DataError(f"the target column '{data.target}' has no values", field="data.target")
        warnings.append(
            f"{n_dropped} row(s) with a missing target '{data.target}' were dropped."
        )
        X, y = X.loc[keep], y.loc[keep]
    y = _clean_target(y, task, data.target)
    if task == "classification":
        counts = y.value_counts()
        if len(counts) < 2:
            raise DataError(
                f"the target column '{data.target}' has a single class ({label_text(counts.index[0])}); "
                "classification needs at least two",
                field="data.target",
            )
        small = counts[counts < max(min_class_rows, 2)]
        for label, count in small.items():
            warnings.append(
                f"class {label_text(label)} of '{data.target}' has only {count} row(s); stratified folds "
                "need at least one per fold."
            )

    # -- features
    numeric, categorical = [], []
    columns = {}
    forced = set(data.categorical)
    for column in X.columns:
        series = X[column]
        if series.isna().all():
            raise DataError(
                f"column '{column}' has no values (every cell is missing).",
                field=column,
                hint="Add it to data.drop, or check data.missing and data.delimiter.",
            )
        if column in forced:
            if pd.api.types.is_float_dtype(series):
                series = _numbers_as_labels(series)
            columns[column] = series.astype(object)
            categorical.append(column)
        elif pd.api.types.is_float_dtype(series):
            columns[column] = series
            numeric.append(column)
        elif _mostly_text(series):
            columns[column] = series
            categorical.append(column)
        else:
            numbers, bad = _to_numeric(series)
            if bad and numbers.notna().any() and all(v in STANDARD_MARKERS for v in bad):
                columns[column] = numbers
                numeric.append(column)
                n_bad = int(series.isin(bad).sum())
                shown = ", ".join(repr(v) for v in bad)
                warnings.append(
                    f"column '{column}' holds numbers and {n_bad} cell(s) {shown}, read as "
                    "missing; add them to data.missing to say so in project.yaml."
                )
            elif not bad:
                columns[column] = numbers
                numeric.append(column)
            else:
                columns[column] = series
                categorical.append(column)
                n_present = int(series.notna().sum())
                n_bad = int(series.isin(bad).sum())
                if n_present and (n_present - n_bad) / n_present >= _MOSTLY_NUMERIC:
                    shown = ", ".join(repr(v) for v in bad[:5])
                    warnings.append(
                        f"column '{column}' holds numbers except for {n_bad} cell(s) such as "
                        f"{shown}; it is treated as categorical. If these mean 'missing', "
                        "add them to data.missing."
                    )
    for column in numeric:
        check_finite(columns[column], column, f"column '{column}'")
    X = pd.DataFrame(columns, index=X.index).reset_index(drop=True)
    y = y.reset_index(drop=True)
    y.name = data.target

    meta["n_missing"] = {c: int(n) for c, n in X.isna().sum().items() if n}
    meta["n_rows"] = len(X)
    meta["dropped_rows"] = n_dropped
    return Dataset(
        X=X, y=y, task=task, kind=KIND, numeric=numeric, categorical=categorical,
        name=name, meta=meta,
    )


def _numbers_as_labels(series: pd.Series) -> pd.Series:
    """Floats as category strings: '3' for 3.0, '2.5' for 2.5, NaN kept."""
    def label(v: float) -> Any:
        if pd.isna(v):
            return np.nan
        return str(int(v)) if float(v).is_integer() else repr(float(v))

    return series.map(label).astype(object)


def _clean_target(y: pd.Series, task: str, column: str) -> pd.Series:
    if task == "regression":
        if pd.api.types.is_numeric_dtype(y):
            check_finite(y, "data.target", f"the target '{column}'")
            return y.astype("float64")
        numbers, bad = _to_numeric(y)
        if bad:
            n_bad = int(y.isin(bad).sum())
            raise DataError(
                f"the regression target '{column}' must be numeric, but it holds {bad[0]!r}"
                f" ({n_bad} non-numeric cell(s)).",
                field="data.target",
                hint="Use task: classification for labels, or add the value to data.missing.",
            )
        check_finite(numbers, "data.target", f"the target '{column}'")
        return numbers
    # classification: integral numbers -> int labels, otherwise stripped strings
    numbers = y if pd.api.types.is_numeric_dtype(y) else _to_numeric(y)[0]
    if numbers.notna().all():
        values = numbers.to_numpy(dtype="float64")
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return pd.Series(values.astype(np.int64), index=y.index, name=y.name)
        if pd.api.types.is_numeric_dtype(y):
            return y.astype("float64").astype(object)
    return y.astype(str).astype(object)


def _listing(names: list[str], limit: int = 30) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
