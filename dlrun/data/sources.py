"""Reading the tabular data a spec points to into a :class:`~dlrun.data.Dataset`.

Sources: a file path (relative to the project folder, or absolute) in CSV or
Parquet format, or ``sklearn:NAME`` for a dataset bundled with scikit-learn
(``load_iris``, ``load_wine``, ``load_breast_cancer``, ``load_digits``,
``load_diabetes``; the ``fetch_*`` ones need the internet and are refused).

Cleaning rules (the same for every format):

* string fields are stripped; ``data.missing`` markers become NaN;
* a column whose every non-missing value is a number becomes ``float64``;
  any other column (and every column listed in ``data.categorical``) becomes a
  categorical column of ``object`` dtype holding ``str`` values and NaN;
* classification targets become clean labels: stripped strings, or ``int``
  when every label is an integral number; regression targets must be numeric;
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

from dlrun.data.dataset import Dataset
from dlrun.data.sniff import (  # noqa: F401  (format_from_suffix: re-exported)
    PARQUET_SUFFIXES,
    WHITESPACE,
    clean_names,
    format_from_suffix,
    generated_names,
)
from dlrun.data.standard import SKLEARN_LOADERS, sklearn_name  # noqa: F401  (re-exported)
from dlrun.errors import DataError
from dlrun.spec import DataSpec, ProjectSpec

CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".data", ".dat", ".tab"}
#: Share of numbers above which a column with a few odd strings gets a warning.
_MOSTLY_NUMERIC = 0.9
#: Strings that mean "missing" in an otherwise numeric column even when
#: data.missing does not list them (``dlrun new`` sniffs markers on the first
#: rows of a big file only): read as NaN, with a warning.
STANDARD_MARKERS = ("?", "NA", "N/A", "NaN", "null", "-")


def load_dataset(spec: ProjectSpec, project_dir: str | Path) -> Dataset:
    """Load, clean and check the data named by ``spec.data``."""
    frame, meta = read_frame(spec.data, Path(project_dir))
    return build_dataset(frame, spec.data, spec.task, name=spec.name, meta=meta,
                         min_class_rows=spec.evaluation.folds)


# --------------------------------------------------------------------------- reading


def resolve_source(source: str, project_dir: Path) -> Path:
    path = Path(source).expanduser()
    if not path.is_absolute():
        path = project_dir / path
    return path


def read_frame(data: DataSpec, project_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The cleaned table (features and target, before any column is dropped) and facts about it."""
    name = sklearn_name(data.source)
    if name is not None:
        frame, meta = _read_sklearn(name, data)
    else:
        path = resolve_source(data.source, project_dir)
        fmt = data.format if data.format != "auto" else format_from_suffix(path)
        if not path.exists():
            raise DataError(
                f"the data file {path} does not exist.",
                field="data.source",
                hint="Give a path relative to the project folder (or an absolute path).",
            )
        if path.is_dir():
            raise DataError(
                f"{path} is a folder; tabular projects read one CSV or Parquet file",
                field="data.source",
            )
        if fmt == "csv":
            raw = _read_csv(path, data)
        elif fmt == "parquet":
            raw = _read_parquet(path, data)
        elif fmt == "sklearn":
            raise DataError("format 'sklearn' needs a source 'sklearn:NAME'", field="data.source")
        else:
            raise DataError(
                f"format '{fmt}' is not supported for tabular data yet; use csv or parquet",
                field="data.format",
            )
        frame = clean_frame(raw, data)
        meta = {"source": str(path), "format": fmt}
        if fmt == "csv":
            meta.update(delimiter=data.delimiter, header=data.header)
    meta["n_rows_read"] = len(frame)
    return frame, meta


def _read_csv(path: Path, data: DataSpec) -> pd.DataFrame:
    """The file's columns, named; missing markers already NaN.

    pandas' C parser infers the types (numbers come back as floats, fast and
    compact even for millions of rows); columns holding any text stay strings
    and are cleaned by :func:`clean_frame` like every other source.
    """
    sep = r"\s+" if data.delimiter == WHITESPACE else data.delimiter
    kwargs: dict[str, Any] = dict(
        sep=sep,
        header=0 if data.header else None,
        keep_default_na=False,
        na_values=list(data.missing),
        skipinitialspace=True,
        skip_blank_lines=True,
        quotechar='"',
        low_memory=False,
    )
    if sep == r"\s+":
        kwargs.pop("skipinitialspace")
    frame = None
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            frame = pd.read_csv(path, encoding=encoding, **kwargs)
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise DataError(f"{path} is empty", field="data.source") from None
        except pd.errors.ParserError as err:
            raise DataError(
                f"{path} cannot be read as CSV with delimiter {data.delimiter!r}: {_first_line(err)}.",
                field="data.delimiter",
                hint="Check data.delimiter, or look for rows with extra fields.",
            ) from None
        except OSError as err:
            raise DataError(f"{path} cannot be read: {err.strerror or err}", field="data.source") from None
    if frame is None:
        raise DataError(f"{path} is not a text file", field="data.source")
    # a line holding only delimiters / blanks is not a row
    blank = frame.isna()
    for column in frame.columns:
        if frame[column].dtype == object or isinstance(frame[column].dtype, pd.StringDtype):
            blank[column] |= frame[column].astype(str).str.strip().eq("")
    frame = frame.loc[~blank.all(axis=1)]
    if data.header:
        names = clean_names(["" if str(c).startswith("Unnamed: ") else str(c) for c in frame.columns])
    else:
        names = generated_names(frame.shape[1])
    if data.columns is not None:
        if len(data.columns) != frame.shape[1]:
            raise DataError(
                f"lists {len(data.columns)} names but {path.name} has {frame.shape[1]} columns.",
                field="data.columns",
                hint="Give one name per column, in file order (or check data.delimiter).",
            )
        names = list(data.columns)
    frame.columns = names
    if frame.empty:
        raise DataError(f"{path} has no data rows", field="data.source")
    return frame.reset_index(drop=True)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__


def _read_parquet(path: Path, data: DataSpec) -> pd.DataFrame:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise DataError(
            "reading Parquet needs pyarrow; install it with `pip install dlrun[parquet]`",
            field="data.format",
        ) from None
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises its own error types
        raise DataError(f"{path} cannot be read as Parquet: {_first_line(err)}", field="data.source") from None
    if data.columns is not None:
        if len(data.columns) != frame.shape[1]:
            raise DataError(
                f"lists {len(data.columns)} names but {path.name} has {frame.shape[1]} columns",
                field="data.columns",
            )
        frame.columns = list(data.columns)
    else:
        frame.columns = clean_names([str(c) for c in frame.columns])
    if frame.empty:
        raise DataError(f"{path} has no data rows", field="data.source")
    return frame.reset_index(drop=True)


def _read_sklearn(name: str, data: DataSpec) -> tuple[pd.DataFrame, dict[str, Any]]:
    if data.source.split(":", 1)[1].strip().startswith("fetch_") or name not in SKLEARN_LOADERS:
        raise DataError(
            f"'{data.source}' is not a bundled scikit-learn dataset (the fetch_* datasets need "
            f"the internet, which dlrun does not use); choose one of: "
            + ", ".join(f"sklearn:{n}" for n in SKLEARN_LOADERS),
            field="data.source",
        )
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = clean_names([str(c) for c in frame.columns])
    if data.columns is not None:
        raise DataError("a scikit-learn dataset has its own column names; remove data.columns",
                        field="data.columns")
    meta: dict[str, Any] = {"source": f"scikit-learn load_{name}()", "format": "sklearn"}
    names = getattr(bunch, "target_names", None)
    if names is not None and len(names) and name != "diabetes":
        meta["target_names"] = [str(n) for n in names]
    return clean_frame(frame, data), meta


# --------------------------------------------------------------------------- cleaning


def clean_frame(frame: pd.DataFrame, data: DataSpec) -> pd.DataFrame:
    """Strip strings, turn missing markers into NaN, make numeric-looking columns float64."""
    markers = set(data.missing)
    out = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            series = series.astype("float64")
        if pd.api.types.is_numeric_dtype(series):
            out[column] = series.astype("float64")
            continue
        out[column] = _clean_strings(series, markers)
    return pd.DataFrame(out, index=frame.index)


def _clean_strings(series: pd.Series, markers: set[str]) -> pd.Series:
    """Object series of stripped strings with NaN for missing values."""
    present = series.notna()
    if isinstance(series.dtype, pd.StringDtype):
        text = series.str.strip().astype(object)
    else:
        text = series.map(lambda v: str(v).strip(), na_action="ignore").astype(object)
    return text.where(present & ~text.isin(markers), np.nan)


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
                f"the target column '{data.target}' has a single class ({counts.index[0]!r}); "
                "classification needs at least two",
                field="data.target",
            )
        small = counts[counts < max(min_class_rows, 2)]
        for label, count in small.items():
            warnings.append(
                f"class {label!r} of '{data.target}' has only {count} row(s); stratified folds "
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
    X = pd.DataFrame(columns, index=X.index).reset_index(drop=True)
    y = y.reset_index(drop=True)
    y.name = data.target

    meta["n_missing"] = {c: int(n) for c, n in X.isna().sum().items() if n}
    meta["n_rows"] = len(X)
    meta["dropped_rows"] = n_dropped
    return Dataset(
        X=X, y=y, task=task, kind="tabular", numeric=numeric, categorical=categorical,
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
