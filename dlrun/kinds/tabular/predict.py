"""``dlrun predict`` for a table: new rows read the way users have them.

* **Header or not.** ``header`` (``--header`` / ``--no-header``) says whether the first row
  names the columns; by default it is detected against the training columns: the first row
  is a header when at least half of its fields, or of the model's feature columns, are
  names of training columns. A first row without a single number where the next rows have
  some, naming none of the model's columns, is refused (a header of other names).
* **Columns by name.** With a header, the model's feature columns are picked by name:
  reordered as training had them, other columns ignored (named in a note; the target is
  ignored silently), missing ones refused, naming them. Without one, the columns are the
  training file's in its order (with or without the target), or the features alone.
* **Pass-through.** ``keep`` columns are returned as written (identifiers such as ``007``
  stay text), for the caller to put first in the output.

Cells are read as text, then typed as in training: numbers (empty cells, the spec's
missing markers and the usual ones such as ``?`` are missing values), categories as the
strings training saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.data.sources import check_finite, read_csv_text
from dlrun.errors import DataError

#: ``X.attrs`` keys read (and removed) by :func:`dlrun.predict.predict_file`.
PASSTHROUGH, NOTES = "passthrough", "notes"


def read_new_rows(bundle: dict[str, Any], path: str | Path, *, header: bool | None = None,
                  keep: Sequence[str] = ()) -> pd.DataFrame:
    """The features the pipeline expects, typed as in training; ``X.attrs["passthrough"]``
    holds the ``keep`` columns as written and ``X.attrs["notes"]`` what was ignored."""
    from dlrun.data.sniff import format_from_suffix
    from dlrun.spec import DataSpec

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist", field="--data")
    data = DataSpec(**bundle["data"])
    keep = list(dict.fromkeys(keep or ()))
    notes: list[str] = []
    if format_from_suffix(path) == "parquet":
        from dlrun.data.sources import _read_parquet

        # names from the file, cleaned as training cleaned them
        frame = _read_parquet(path, data.model_copy(update={"columns": None, "sample": None}))
        named = True
    else:
        cells = _read_cells(path, data)
        named = _has_header(cells, bundle, data, path) if header is None else header
        frame = _named(cells, named, bundle, data, path)
    features = list(bundle["columns"])
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''} "
                        f"missing from {path.name}; the model was trained on: {', '.join(features)}",
                        field="--data", hint=f"Its columns: {_listing(frame.columns)}.")
    absent = [c for c in keep if c not in frame.columns]
    if absent:
        how = "" if named else " (without a header row, columns are named as in training)"
        raise DataError(f"column(s) {', '.join(absent)} not in {path.name}{how}; its columns: "
                        f"{_listing(frame.columns)}", field="--keep")
    ignored = [c for c in frame.columns if c not in features and c != data.target and c not in keep]
    if ignored:
        notes.append(f"ignored {len(ignored)} column(s) of {path.name} the model does not use: "
                     f"{_listing(ignored)}")
    X = _typed(frame[features], bundle, data, path)
    X.attrs[PASSTHROUGH] = frame[keep].reset_index(drop=True) if keep else None
    X.attrs[NOTES] = notes
    return X


# --------------------------------------------------------------------------- reading


def _read_cells(path: Path, data) -> pd.DataFrame:
    """Every field of the file as text ('' when empty), columns numbered; blank lines and
    lines of delimiters only are not rows."""
    from dlrun.data.sniff import WHITESPACE

    sep = r"\s+" if data.delimiter == WHITESPACE else data.delimiter
    kwargs: dict[str, Any] = dict(sep=sep, header=None, dtype=str, keep_default_na=False,
                                  na_values=[], skip_blank_lines=True, quotechar='"')
    if sep != r"\s+":
        kwargs["skipinitialspace"] = True
    try:
        frame = read_csv_text(path, kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path.name} is empty", field="--data") from None
    except pd.errors.ParserError as err:
        line = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise DataError(f"{path.name} cannot be read as CSV with the training file's delimiter "
                        f"{data.delimiter!r}: {line}", field="--data",
                        hint="Look for rows with extra fields.") from None
    except OSError as err:
        raise DataError(f"{path.name} cannot be read: {err.strerror or err}", field="--data") from None
    if frame is None:
        raise DataError(f"{path.name} is not a text file", field="--data")
    frame = frame.fillna("")  # short rows
    blank = frame.apply(lambda column: column.str.strip().eq("")).all(axis=1)
    frame = frame.loc[~blank].reset_index(drop=True)
    if frame.empty:
        raise DataError(f"{path.name} has no rows", field="--data")
    return frame


def _known(bundle: dict[str, Any], data) -> set[str]:
    """Every column name training knew: features, target, dropped columns, the names given."""
    return {*bundle["columns"], data.target, *data.drop, *(data.columns or [])}


def _has_header(cells: pd.DataFrame, bundle: dict[str, Any], data, path: Path) -> bool:
    """Whether the first row names the columns (see the module's docstring)."""
    from dlrun.data.sniff import clean_names

    names = clean_names(cells.iloc[0].tolist())
    known = _known(bundle, data)
    hits = sum(name in known for name in names)
    features = list(bundle["columns"])
    if hits and (2 * hits >= len(names) or 2 * sum(f in names for f in features) >= len(features)):
        return True
    if bundle.get("numeric") and len(cells) > 1 and not _numbers(cells.iloc[0]).any() \
            and _numbers(cells.iloc[1]).any():
        raise DataError(
            f"the first row of {path.name} looks like a header ({_listing(names, 8)}) but names "
            f"none of the model's columns ({_listing(features, 8)})", field="--data",
            hint="Name the columns as training did, or pass --no-header if that row is data.")
    return False


def _numbers(row: pd.Series) -> pd.Series:
    return pd.to_numeric(row.str.strip(), errors="coerce").notna()


def _named(cells: pd.DataFrame, header: bool, bundle: dict[str, Any], data, path: Path) -> pd.DataFrame:
    """``cells`` with the columns named: from the first row, or as training named them."""
    from dlrun.data.sniff import clean_names

    if header:
        frame = cells.iloc[1:].reset_index(drop=True)
        frame.columns = clean_names(cells.iloc[0].tolist())
        if frame.empty:
            raise DataError(f"{path.name} has a header row and no data rows", field="--data")
        return frame
    features = list(bundle["columns"])
    layouts = []  # the column lists a file without a header may hold, in file order
    if data.columns:
        layouts += [list(data.columns), [c for c in data.columns if c != data.target]]
    layouts.append(features)
    width = cells.shape[1]
    for names in layouts:
        if len(names) == width:
            frame = cells.copy()
            frame.columns = names
            return frame
    widths = " or ".join(dict.fromkeys(str(len(n)) for n in layouts))
    raise DataError(f"{path.name} has {width} columns and no header row; the model expects {widths} "
                    f"(in training order: {_listing(layouts[0], 12)})", field="--data",
                    hint="Give the file a header row naming its columns (they are then matched by "
                         "name), or pass --header if its first row is one.")


# --------------------------------------------------------------------------- typing


def _typed(frame: pd.DataFrame, bundle: dict[str, Any], data, path: Path) -> pd.DataFrame:
    """The feature columns typed as training typed them."""
    from dlrun.kinds.tabular.data import STANDARD_MARKERS, _numbers_as_labels

    markers = set(data.missing)
    X = frame.reset_index(drop=True).copy()
    forced = set(data.categorical)
    for column in bundle["numeric"]:
        series = X[column]
        if not pd.api.types.is_numeric_dtype(series):
            text = _text(series, markers | {""})
            if data.decimal == ",":
                text = text.str.replace(",", ".", regex=False)
            numbers = pd.to_numeric(text, errors="coerce")
            bad = text.notna() & numbers.isna() & ~text.isin(STANDARD_MARKERS)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"column '{column}' should hold numbers but has {text.iloc[row]!r} "
                                f"(data row {row + 1} of {path.name})", field=column)
            series = numbers
        check_finite(series, column, f"column '{column}' of {path.name}")
        X[column] = series.astype("float64")
    for column in bundle["categorical"]:
        series = X[column]
        if pd.api.types.is_numeric_dtype(series):
            X[column] = (_numbers_as_labels(series.astype("float64")) if column in forced
                         else series.map(str, na_action="ignore").astype(object))
            continue
        text = _text(series, markers)
        if column in forced:  # training read a numeric column as labels: '3' for 3.0
            numbers = pd.to_numeric(text, errors="coerce")
            labels = _numbers_as_labels(numbers)
            text = text.where(numbers.isna(), labels)
        X[column] = text.astype(object)
    return X


def _text(series: pd.Series, markers: set[str]) -> pd.Series:
    """Stripped strings, NaN for the missing-value markers."""
    text = series.map(lambda v: str(v).strip(), na_action="ignore").astype(object)
    return text.where(series.notna() & ~text.isin(markers), np.nan)


def _listing(names, limit: int = 20) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")
