"""Reading the table a spec points to: CSV, Parquet or a dataset bundled with scikit-learn.

Sources: a file path (relative to the project folder, or absolute) in CSV or
Parquet format, or ``sklearn:NAME`` for a dataset bundled with scikit-learn
(``load_iris``, ``load_wine``, ``load_breast_cancer``, ``load_digits``,
``load_diabetes``; the ``fetch_*`` ones need the internet and are refused).

Cleaning rules (the same for every format):

* string fields are stripped; ``data.missing`` markers become NaN;
* a column whose every non-missing value is a number becomes ``float64``;
  any other column (and every column listed in ``data.categorical``) becomes a
  categorical column of ``object`` dtype holding ``str`` values and NaN;

Problems raise :class:`~dlrun.errors.DataError` naming the field or column.
Every kind that reads tables (a table of examples, a time series) starts from
:func:`read_frame`; turning the cleaned frame into features and a target is the
kind's own business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.data.sniff import (  # noqa: F401  (format_from_suffix: re-exported)
    PARQUET_SUFFIXES,
    WHITESPACE,
    clean_names,
    format_from_suffix,
    generated_names,
)
from dlrun.data.standard import SKLEARN_LOADERS, sklearn_name  # noqa: F401  (re-exported)
from dlrun.errors import DataError
from dlrun.spec import DataSpec

CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".data", ".dat", ".tab"}


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
                f"{path} is a folder; a table is read from one CSV or Parquet file",
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
                f"format '{fmt}' is not a table format; use csv or parquet",
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
