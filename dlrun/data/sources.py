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
    HUGE,
    PARQUET_SUFFIXES,
    WHITESPACE,
    clean_names,
    decimal_comma_column,
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
        if fmt == "sklearn":
            raise DataError("format 'sklearn' needs a source 'sklearn:NAME'", field="data.source")
        if fmt not in ("csv", "parquet"):
            raise DataError(f"format '{fmt}' is not a table format; use csv or parquet",
                            field="data.format")
        check_memory(path, data)
        try:
            raw = _read_csv(path, data) if fmt == "csv" else _read_parquet(path, data)
        except MemoryError:
            raise _too_big(path, data) from None
        try:
            frame = clean_frame(raw, data)
        except MemoryError:
            raise _too_big(path, data) from None
        meta = {"source": str(path), "format": fmt, "warnings": []}
        if data.sample and raw.attrs.get("sampled_from"):
            meta["warnings"].append(f"data.sample: {len(frame):,} rows drawn at random (seed 1) from "
                                    f"{raw.attrs['sampled_from']:,}")
        for old, new in raw.attrs.get("renamed") or []:
            meta["warnings"].append(f"the file names a column '{old}' more than once: this one "
                                    f"is read as '{new}' (rename it in the file, or in data.columns)")
        if fmt == "csv" and data.delimiter == ";" and data.decimal == ".":
            commas = [c for c in frame.columns if frame[c].dtype == object
                      and decimal_comma_column(frame[c].dropna().astype(str).head(1000).tolist())]
            if commas:
                meta["warnings"].append(
                    f"column(s) {', '.join(map(str, commas[:5]))} hold numbers with decimal commas "
                    "(e.g. 33,6) and are read as text; set data.decimal: ',' to read them as numbers")
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
        decimal=data.decimal,
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
    sampled_from = 0
    if data.sample:
        keep, sampled_from = _sample_lines(path, data.sample, header=bool(data.header))
        if keep is not None:
            kwargs["skiprows"] = lambda i, keep=keep: i not in keep
    try:
        frame = read_csv_text(path, kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty", field="data.source") from None
    except pd.errors.ParserError as err:
        if "out of memory" in str(err).lower():
            raise MemoryError(str(err)) from None
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
    renamed = []
    if data.header:
        raw_names = ["" if str(c).startswith("Unnamed: ") else str(c) for c in frame.columns]
        # pandas suffixes a repeated name itself ("a.1"); take the file's own names back
        raw_names = [_unmangle(n, raw_names[:i]) for i, n in enumerate(raw_names)]
        names = clean_names(raw_names)
        renamed = [(old, new) for old, new in zip(raw_names, names, strict=True)
                   if old and old.strip() != new]
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
    frame = frame.reset_index(drop=True)
    frame.attrs["renamed"] = renamed
    frame.attrs["sampled_from"] = sampled_from
    return frame


def _sample_lines(path: Path, rows: int, header: bool) -> tuple[set[int] | None, int]:
    """The line numbers to read for a seeded random sample of ``rows`` data rows (the header
    line kept), and how many data rows the file has; None when it has no more than that."""
    import numpy as np

    with open(path, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    first = 1 if header else 0
    total = max(0, lines - first)
    if total <= rows:
        return None, total
    chosen = np.random.default_rng(1).choice(total, size=rows, replace=False) + first
    keep = set(int(i) for i in chosen)
    if header:
        keep.add(0)
    return keep, total


def available_memory() -> int:
    """Bytes this process may still allocate: the smaller of the memory the system has
    available and what its address-space limit (``ulimit -v``) leaves."""
    import resource

    free = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
    except OSError:
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:
            with open("/proc/self/statm", encoding="ascii") as handle:
                used = int(handle.read().split()[0]) * resource.getpagesize()
        except OSError:
            used = 0
        left = max(0, soft - used)
        free = left if free is None else min(free, left)
    return free if free is not None else 1 << 62


#: Reading a CSV into typed columns takes a few times its size at its peak.
READ_FACTOR = 3


def check_memory(path: Path, data: DataSpec) -> None:
    """Refuse, before reading, a file whose table would not fit in the memory left."""
    size = path.stat().st_size
    if data.sample:
        return
    if size * READ_FACTOR > available_memory():
        raise _too_big(path, data)


def _too_big(path: Path, data: DataSpec) -> DataError:
    size = path.stat().st_size
    return DataError(
        f"{path.name} ({size / 2**20:,.0f} MB) does not fit in the memory this process has left "
        f"({available_memory() / 2**20:,.0f} MB; reading a table takes a few times its size)",
        field="data.source",
        hint="Set data.sample: ROWS in project.yaml to read a seeded random sample of the rows "
             "(e.g. 100000), or run dlrun on a machine with more memory.",
    )


def _unmangle(name: str, before: list[str]) -> str:
    """pandas writes a repeated header name ``a`` as ``a.1``: the file said ``a``."""
    base, dot, suffix = name.rpartition(".")
    return base if dot and suffix.isdigit() and base in before else name


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
    total = len(frame)
    if data.sample and total > data.sample:
        frame = frame.sample(n=data.sample, random_state=1).sort_index()
    frame = frame.reset_index(drop=True)
    frame.attrs["sampled_from"] = total if data.sample and total > data.sample else 0
    return frame


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


def check_finite(values: pd.Series, field: str, what: str) -> None:
    """Raise a :class:`~dlrun.errors.DataError` naming ``field`` when the numbers hold
    infinities or values too large to compute with; ``what`` says what they are."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    infinite = np.isinf(numbers)
    huge = np.isfinite(numbers) & (np.abs(numbers) >= HUGE)
    if not (infinite.any() or huge.any()):
        return
    rows = np.flatnonzero(infinite | huge)
    parts = []
    if infinite.any():
        parts.append(f"{int(infinite.sum())} infinite value(s)")
    if huge.any():
        parts.append(f"{int(huge.sum())} value(s) of magnitude {HUGE:.0e} or more, too large to "
                     "compute with")
    shown = ", ".join(str(int(r) + 1) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
    raise DataError(
        f"{what} holds {' and '.join(parts)} (data row(s) {shown}).",
        field=field,
        hint="Replace them with empty cells (read as missing) or with usable numbers, or list the "
             "column under data.drop.",
    )


def read_csv_text(path, kwargs: dict[str, Any]) -> pd.DataFrame | None:
    """``pd.read_csv`` of a text file in UTF-8 (a BOM allowed), else Latin-1; None when
    neither decodes it. Parsing errors are the caller's to name."""
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return pd.read_csv(path, encoding=encoding, **kwargs)
        except UnicodeDecodeError:
            continue
    return None
