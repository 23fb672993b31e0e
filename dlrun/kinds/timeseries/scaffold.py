"""``dlrun new NAME --template timeseries``: a forecasting project inferred from a CSV.

* **reading**: delimiter, header and missing markers sniffed as for tabular data;
* **time column**: the first column when it holds dates/labels or its name says
  time (:func:`dlrun.kinds.timeseries.data.choose_time_column`); the target defaults
  to the last column (``--target`` picks another series);
* **protocol**: ``--test-size N`` (walk-forward over the last N observations)
  and ``--horizon H`` (steps ahead), else the defaults from the frequency;
* **metric**: ``rmse``; a standard dataset (recognised by its content: length,
  number of series and the target's mean and standard deviation) brings the
  catalogue's metric and its published persistence and good scores.

Light on purpose (pandas, PyYAML, pydantic): no scikit-learn, no TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dlrun.errors import ArgumentError, DataError

OPTIONS = ("test_size", "horizon")  # the template's own keyword arguments (CLI --test-size, --horizon)
DEFAULT_METRIC = "rmse"


def timeseries_draft(request):
    from dlrun.scaffold import DEFAULT_SOURCE, Draft

    options = {k: request.extra.get(k) for k in OPTIONS}
    for key, value in options.items():
        if value is not None and int(value) < 1:
            raise ArgumentError(f"--{key.replace('_', '-')} must be a positive number of steps",
                                field=f"--{key.replace('_', '-')}")
    series = {k: int(v) for k, v in options.items() if v is not None}
    if request.data is None:
        target = str(request.target) if request.target is not None else "value"
        spec = {"name": request.name, "kind": "timeseries", "task": "forecasting",
                "data": {"source": DEFAULT_SOURCE, "target": target},
                "metric": DEFAULT_METRIC, "series": {"time_column": "date", **series},
                "evaluation": {"seed": 1}}
        lines = [f"- No data yet. Put a CSV named `{DEFAULT_SOURCE}` here: a `date` column and "
                 f"one numeric column per series, the one to forecast named `{target}`.",
                 "- Then check `data`, `series` and `metric` in project.yaml; "
                 "`dlrun new NAME --template timeseries --data FILE` infers them for you."]
        return Draft(spec, lines)
    return _from_file(request, series)


def _from_file(request, series: dict[str, int]):
    from dlrun.data.sniff import MISSING_MARKERS, sniff_csv
    from dlrun.data.sources import format_from_suffix, read_frame
    from dlrun.kinds.timeseries.data import build_series, choose_time_column
    from dlrun.kinds.timeseries.spec import TimeSeriesSpec
    from dlrun.scaffold import Draft, resolve_target
    from dlrun.spec import DataSpec, spec_model

    path = Path(request.data).expanduser()
    if not path.is_file():
        raise ArgumentError(f"the data file {path} does not exist", field="--data")
    absolute = path.resolve()
    try:
        source = os.path.relpath(absolute, request.project_dir)
    except ValueError:
        source = str(absolute)
    data: dict[str, Any] = {"source": source}
    fmt = format_from_suffix(absolute)
    if fmt == "csv":
        try:
            info = sniff_csv(absolute, header=request.header)
        except ValueError as err:
            raise DataError(str(err), field="--data") from None
        except OSError as err:
            raise DataError(f"{path} cannot be read: {err.strerror or err}", field="--data") from None
        found = set(info.missing) | {""}
        data.update(header=info.header, delimiter=info.delimiter,
                    missing=[m for m in MISSING_MARKERS if m in found])
        if not info.header:
            data["columns"] = list(info.columns)
    elif fmt != "parquet":
        raise ArgumentError(f"{path.name}: time series are read from CSV or Parquet files",
                            field="--data")
    try:
        frame, meta = read_frame(DataSpec(**dict(data, source=str(absolute), target="?")),
                                 absolute.parent)
    except DataError as err:
        err.field = "--data"
        raise
    columns = list(frame.columns)
    time_column = choose_time_column(frame, columns[-1], None)
    candidates = [c for c in columns if c != time_column]
    if not candidates:
        raise DataError(f"{path.name} has no series besides the time column", field="--data")
    target = resolve_target(candidates, request.target)
    if time_column == target:
        time_column = None
    data["target"] = target
    series_spec = {"time_column": time_column, **series} if time_column else dict(series)

    probe = spec_model().model_construct(
        name=request.name, data=DataSpec(**dict(data, source=str(absolute))),
        series=TimeSeriesSpec(**series_spec),
    )
    dataset = build_series(frame, probe, meta=meta)
    ctx = dataset.meta["context"]
    series_spec.setdefault("test_size", ctx["test_size"])

    notes: list[str] = []
    entry = match_series(dataset)
    spec: dict[str, Any] = {"name": request.name, "kind": "timeseries", "task": "forecasting",
                            "data": data, "metric": entry.metric if entry else DEFAULT_METRIC,
                            "series": series_spec, "evaluation": {"seed": 1}}
    if entry is not None:
        spec["description"] = entry.title
        reference = entry.reference_dict()
        if reference is not None:
            spec["reference"] = reference
        notes.append(f"Recognised by its content as the standard dataset **{entry.title}**.")
    notes.extend(dataset.meta.get("warnings", []))
    return Draft(spec, _describe(dataset, path, ctx), notes)


def _describe(dataset, path: Path, ctx: dict[str, Any]) -> list[str]:
    times = dataset.meta.get("times") or []
    y = dataset.y
    others = ctx["exogenous"]
    lines = [
        f"- Source: `{path.name}`: {dataset.n_rows} observations"
        + (f" from {times[0]} to {times[-1]}" if times else "")
        + (f", time column `{ctx['time_column']}`" if ctx["time_column"] else ", in row order")
        + f", frequency {ctx['frequency']}.",
        f"- Forecast `{y.name}`" + (f" from it and {len(others)} other series "
                                     f"({', '.join(others)})" if others else " (univariate)")
        + f": min {y.min():.4g}, median {y.median():.4g}, max {y.max():.4g}.",
        f"- Protocol: walk-forward over the last {ctx['test_size']} observations, "
        f"{ctx['horizon']} step(s) ahead; lag window {ctx['window']}, season {ctx['period']}.",
    ]
    return lines


def match_series(dataset):
    """The catalogue's forecasting entry matching the series' content, or None."""
    import math

    from dlrun.data.standard import _close, catalogue

    y = dataset.y.astype(float)
    shape = [dataset.n_rows, dataset.X.shape[1] + 2]  # + target + time column
    mean, std = float(y.mean()), float(y.std()) if len(y) > 1 else 0.0
    for entry in catalogue().values():
        sig = entry.signature
        if entry.task != "forecasting" or sig.get("shape") not in (shape, [shape[0], shape[1] - 1]):
            continue
        if "target_mean" not in sig or not _close(mean, sig["target_mean"]):
            continue
        if "target_std" in sig and not (math.isfinite(std) and _close(std, sig["target_std"])):
            continue
        return entry
    return None
