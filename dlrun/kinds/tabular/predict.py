"""``dlrun predict`` for a table: new rows read with the training file's rules.

New rows are read with the same rules as the training data (delimiter, header,
missing-value markers, column names); the target column may be absent or is
ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dlrun.data.sources import check_finite
from dlrun.errors import DataError


def read_new_rows(bundle: dict[str, Any], path: str | Path) -> pd.DataFrame:
    """The features the pipeline expects, typed as in training."""
    from dlrun.data.sources import _read_csv, _read_parquet, clean_frame, format_from_suffix
    from dlrun.spec import DataSpec

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist", field="--data")
    data = DataSpec(**bundle["data"]).model_copy(update={"source": str(path)})
    fmt = format_from_suffix(path)
    if fmt == "parquet":
        raw = _read_parquet(path, data.model_copy(update={"columns": None}))
    else:
        names = data.columns
        raw = _read_csv(path, data.model_copy(update={"columns": None}))
        if not data.header and names:
            without_target = [c for c in names if c != data.target]
            if raw.shape[1] == len(names):
                raw.columns = names
            elif raw.shape[1] == len(without_target):
                raw.columns = without_target
            else:
                raise DataError(
                    f"{path.name} has {raw.shape[1]} columns; the model expects {len(without_target)} "
                    f"(without the target) or {len(names)} (with it)",
                    field="--data",
                )
    frame = clean_frame(raw, data)
    missing = [c for c in bundle["columns"] if c not in frame.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(missing[:10])} missing from {path.name}; the model "
                        f"was trained on: {', '.join(bundle['columns'])}", field="--data")
    X = frame[bundle["columns"]].copy()
    for column in bundle["numeric"]:
        numbers = pd.to_numeric(X[column], errors="coerce")
        bad = X[column][numbers.isna() & X[column].notna()]
        if len(bad):
            raise DataError(f"column '{column}' should hold numbers but has {bad.iloc[0]!r}",
                            field=column)
        check_finite(numbers, column, f"column '{column}' of {path.name}")
        X[column] = numbers.astype("float64")
    for column in bundle["categorical"]:
        X[column] = X[column].map(lambda v: str(v), na_action="ignore").astype(object)
    return X
