"""Reading a time series: the time column, the series, the frequency and the protocol's defaults.

A time-series CSV (or Parquet file) holds a date/time column and one
(univariate) or several (multivariate) numeric series; ``data.target`` names
the series to forecast, the others are inputs observed at the same times.

* **time column**: ``series.time_column``, else the first column when it is not
  numeric or its name says time (date, month, year, ...); without one, the row
  order is the time order;
* **times** parse as dates (ISO and the other formats pandas reads); labels
  such as ``1-01`` (year-month without century, the shampoo file) are read as
  consecutive months; anything else falls back to the row order;
* **frequency**: ``series.frequency``, else inferred from the median spacing of
  the dates (``none`` when there are no dates);
* **defaults** from the frequency: season ``period`` (12 monthly, 4 quarterly,
  7 daily, 24 hourly, 52 weekly), lag ``window`` (one season, at least 3),
  ``test_size`` (one season when it is 12 or more steps, else 10% of the series,
  at most 365).

Missing values inside a series are interpolated linearly in time (reported in
``meta["warnings"]``). Light on purpose (pandas and numpy): ``dlrun new`` uses it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.data.dataset import Dataset
from dlrun.data.sources import check_finite
from dlrun.errors import DataError, SpecError

PERIODS = {"minutely": 60, "hourly": 24, "daily": 7, "weekly": 52, "monthly": 12,
           "quarterly": 4, "yearly": 1, "none": 1}
TIME_NAMES = re.compile(r"(date|time|month|year|period|week|day|hour|timestamp|^ds$|^t$)", re.I)
YEAR_MONTH_SHORT = re.compile(r"^(\d{1,2})-(\d{1,2})$")
MIN_TRAIN = 6  # observations the first training part must have at least


@dataclass
class SeriesDataset(Dataset):
    """A :class:`Dataset` whose rows are time steps; ``meta["context"]`` holds the protocol."""

    def fingerprint(self) -> str:
        # the protocol (window, horizon, ...) changes what a job computes: cached results
        # are keyed on it as well as on the values
        digest = hashlib.sha256(super().fingerprint().encode())
        digest.update(json.dumps(self.meta.get("context", {}), sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]


def load_series(spec, project_dir) -> SeriesDataset:
    """The loader registered for ``kind: timeseries``."""
    from dlrun.data.sources import read_frame

    frame, meta = read_frame(spec.data, Path(project_dir))
    return build_series(frame, spec, meta=meta)


def build_series(frame: pd.DataFrame, spec, meta: dict[str, Any] | None = None) -> SeriesDataset:
    """A :class:`SeriesDataset` from a cleaned frame and the spec (its ``series`` options)."""
    from dlrun.kinds.timeseries.spec import TimeSeriesSpec

    options = spec.series or TimeSeriesSpec()
    data = spec.data
    meta = dict(meta or {})
    warnings: list[str] = list(meta.get("warnings", []))
    frame = frame.drop(columns=[c for c in data.drop if c in frame.columns])
    if data.target not in frame.columns:
        raise DataError(f"no column '{data.target}'; the columns are: {', '.join(map(str, frame.columns))}",
                        field="data.target")
    time_column = choose_time_column(frame, data.target, options.time_column)
    if time_column is not None and time_column == data.target:
        raise SpecError("the time column cannot be the target", field="series.time_column")

    series: dict[str, pd.Series] = {}
    for column in frame.columns:
        if column == time_column:
            continue
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column][numbers.isna() & frame[column].notna()]
        if len(bad):
            field = "data.target" if column == data.target else column
            raise DataError(
                f"series '{column}' should hold numbers but has {bad.iloc[0]!r}"
                + ("" if column == data.target else "; list it under data.drop to ignore it"),
                field=field,
            )
        check_finite(numbers, "data.target" if column == data.target else column, f"series '{column}'")
        series[column] = numbers.astype("float64")
    values = pd.DataFrame(series)

    if time_column is not None:
        times, frequency, found = parse_times(frame[time_column], options.frequency)
        if found is not None:
            if found.duplicated().any():
                dup = frame[time_column][found.duplicated()].iloc[0]
                raise DataError(f"the time '{dup}' appears twice", field=time_column)
            if not found.is_monotonic_increasing:
                order = np.argsort(found.to_numpy(), kind="stable")
                values, times = values.iloc[order], [times[i] for i in order]
                warnings.append("rows were not in time order: sorted by the time column")
    else:
        times = [str(i) for i in range(len(values))]
        frequency = options.frequency if options.frequency != "auto" else "none"
    values = values.reset_index(drop=True)

    y_missing = int(values[data.target].isna().sum())
    if values[data.target].notna().sum() < 2:
        raise DataError("the target series has fewer than two values", field="data.target")
    missing = {c: int(n) for c, n in values.isna().sum().items() if n}
    if missing:
        values = values.interpolate(method="linear", limit_direction="both")
        warnings.append("missing values interpolated linearly: "
                        + ", ".join(f"{c} {n}" for c, n in missing.items()))
    still = [c for c in values.columns if values[c].isna().any()]
    if still:
        raise DataError(f"series '{still[0]}' has no values", field=still[0])

    n = len(values)
    period = int(options.period or PERIODS.get(frequency, 1))
    window = int(options.window or max(min(period, 60), 3))
    horizon = int(options.horizon)
    if options.test_size:
        test_size = int(options.test_size)
    elif period >= 12:
        test_size = period
    else:
        test_size = int(max(1, min(365, round(0.1 * n))))
    origins = int(options.origins)
    if n - test_size * origins < max(MIN_TRAIN, horizon + 2):
        raise SpecError(
            f"{n} observations leave too little training data for {origins} walk-forward "
            f"window(s) of {test_size}; lower series.test_size or series.origins",
            field="series.test_size",
        )
    exogenous = [c for c in values.columns if c != data.target]
    context = {
        "target": str(data.target), "exogenous": exogenous, "n_series": 1 + len(exogenous),
        "frequency": frequency, "period": period, "window": window, "horizon": horizon,
        "test_size": test_size, "origins": origins, "seeds": int(options.seeds),
        "time_column": time_column,
    }
    meta.update(context=context, times=list(times), warnings=warnings,
                n_missing={"target": y_missing, **missing} if missing else {})
    y = values[data.target].rename(data.target)
    X = values[exogenous]
    return SeriesDataset(X, y, task="forecasting", kind="timeseries", numeric=exogenous,
                         categorical=[], name=getattr(spec, "name", ""), meta=meta)


def choose_time_column(frame: pd.DataFrame, target: str, given: str | None) -> str | None:
    """``given``, else the first column when it looks like time, else None (row order)."""
    if given:
        if given not in frame.columns:
            raise SpecError(f"no column '{given}'; the columns are: {', '.join(map(str, frame.columns))}",
                            field="series.time_column")
        return given
    first = frame.columns[0]
    if first == target or frame.shape[1] < 2:
        return None
    numbers = pd.to_numeric(frame[first], errors="coerce")
    if numbers.notna().mean() < 0.5 or TIME_NAMES.search(str(first)):
        return first
    return None


def parse_times(values: pd.Series, frequency: str = "auto") -> tuple[list[str], str, pd.DatetimeIndex | None]:
    """Labels, frequency and (when they are dates) the parsed times of a time column."""
    text = values.astype(str).str.strip()
    labels = text.tolist()
    short = text.str.extract(YEAR_MONTH_SHORT)
    if short.notna().all().all() and len(text):
        months = short[1].astype(int)
        if months.between(1, 12).all():  # e.g. shampoo's "1-01": year-month without century
            return labels, frequency if frequency != "auto" else "monthly", None
    parsed = None
    for fmt in ("ISO8601", "mixed"):
        try:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        except (ValueError, TypeError):
            parsed = None
        if parsed is not None and parsed.notna().all():
            break
        parsed = None
    numeric = pd.to_numeric(text, errors="coerce").notna().all()
    if parsed is None or numeric:
        return labels, frequency if frequency != "auto" else "none", None
    index = pd.DatetimeIndex(parsed)
    if frequency == "auto":
        frequency = infer_frequency(index)
    return labels, frequency, index


def infer_frequency(index: pd.DatetimeIndex) -> str:
    """The named spacing closest to the median gap between sorted times."""
    if len(index) < 3:
        return "none"
    gaps = np.diff(np.sort(index.to_numpy())).astype("timedelta64[s]").astype(float)
    days = float(np.median(gaps)) / 86400.0
    for name, low, high in (("minutely", 0.5 / 1440, 1.5 / 1440), ("hourly", 0.5 / 24, 1.5 / 24),
                            ("daily", 0.5, 1.5), ("weekly", 6, 8), ("monthly", 27, 32),
                            ("quarterly", 88, 93), ("yearly", 360, 370)):
        if low <= days <= high:
            return name
    return "none"


def read_history(bundle: dict[str, Any], path) -> pd.DataFrame:
    """``dlrun predict`` for a saved forecaster: the recent history in ``path`` (target and
    other series, same columns as training), interpolated like the training data."""
    from dlrun.data.sources import read_frame
    from dlrun.spec import DataSpec

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist", field="--data")
    data = DataSpec(**bundle["data"]).model_copy(update={"source": str(path.resolve())})
    frame, _ = read_frame(data, path.parent)
    needed = [bundle["target"], *bundle["columns"]]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise DataError(f"column(s) {', '.join(absent)} missing from {path.name}; a forecast needs "
                        f"the recent history of: {', '.join(needed)}", field="--data")
    values = frame[needed].apply(pd.to_numeric, errors="coerce")
    return values.interpolate(method="linear", limit_direction="both")
