"""``dlrun new`` for tables: a spec inferred from a CSV or Parquet file, or ``sklearn:NAME``.

With ``--data`` the spec is inferred from the data:

* **reading**: delimiter, header, missing-value markers and column names come
  from :func:`dlrun.data.sniff.sniff_csv` (``header=False`` forces a header-less
  read); the markers written are those found in the file plus ``""`` (an empty
  field always means missing);
* **target**: the last column, or ``--target`` (a column name, or an integer
  index, negative counting from the end);
* **task**: a non-numeric target -> classification; an integral target with at
  most :data:`MAX_INTEGER_CLASSES` distinct values -> classification; any other
  numeric target (many integers, like abalone's rings, or floats) -> regression;
* **metric**: regression -> ``mae``; classification -> ``accuracy``, or
  ``balanced_accuracy`` when the largest class is at least
  :data:`dlrun.scaffold.IMBALANCE_RATIO` times the smallest (for two classes: a minority share
  below 20%);
* **standard datasets** (recognised by content, see :mod:`dlrun.data.standard`)
  override task and metric with the catalogue's, name the columns of a
  header-less file after the catalogue, and carry ``reference`` scores.

Light on purpose: PyYAML only, not even pydantic (no scikit-learn, no
TensorFlow). Drafts that dlrun makes itself from the data are marked ``light``
and written by :func:`dlrun.specdoc.spec_document`, which lays them out as the
schema would (tests hold the two to each other); the pandas path is validated
by :mod:`dlrun.spec`.
``sklearn:NAME`` data is described from the catalogue, not loaded. A CSV file
is described from the one pass :func:`~dlrun.data.sniff.sniff_csv` makes over
it (value counts per column), without pandas; files that need pandas' reading
rules to be described exactly (ragged rows, duplicate header names, quoting
other than ``"``, boolean words, numbers mixed with text, missing targets,
tiny classes, more than :data:`SCAN_ROWS` rows ...) and Parquet files go
through :func:`dlrun.data.sources.read_frame` and ``build_dataset`` instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dlrun.errors import ArgumentError, DataError
from dlrun.scaffold import DEFAULT_SOURCE, Draft, Request, classification_metric, resolve_target

KIND = "tabular"
TASKS = ("classification", "regression")

MAX_INTEGER_CLASSES = 10
#: CSV rows examined in pure Python; a longer file is read with pandas.
SCAN_ROWS = 50_000
#: Standard datasets are small classics: bigger files are not checked against
#: the catalogue (its content signature needs every row).
RECOGNISE_ROWS = 100_000

SPEC_HEADER = """\
# dlrun project spec (made by `dlrun new`; edit freely, then run `dlrun validate`).
#   name / description  what the project is called and is about
#   task                classification or regression
#   data.source         the data: a path relative to this folder, or sklearn:NAME
#   data.header, delimiter, missing, columns
#                       how to read a CSV: header row or not, field delimiter
#                       (" " = runs of blanks), strings meaning "missing", and
#                       column names for a file without a header row
#   data.target         the column to predict
#   data.categorical    numeric columns to treat as categories; data.drop: columns to ignore
#   metric              ranks the leaderboard (accuracy, balanced_accuracy, f1, roc_auc,
#                       log_loss, mae, rmse, mse, r2)
#   evaluation          repeated k-fold cross-validation: folds x repeats, seed
#   reference           published naive and good scores of a recognised standard dataset
"""

# --------------------------------------------------------------------------- tabular


def infer_task(y) -> str:
    """classification or regression, from the target values (see the module docstring)."""
    import pandas as pd

    values = y.dropna()
    if values.empty:
        raise DataError("the target column has no values", field="--target")
    if pd.api.types.is_bool_dtype(values):
        return "classification"
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        return "classification"
    integral = bool(((numbers - numbers.round()).abs() < 1e-9).all())
    if integral and numbers.nunique() <= MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def default_metric(task: str, y) -> str:
    """mae for regression; accuracy, or balanced_accuracy for imbalanced classes."""
    if task != "classification":
        return "mae"
    return classification_metric(y.dropna().value_counts().to_dict())


def tabular_draft(request: Request) -> Draft:
    """The draft of ``dlrun new`` for a table (kind: tabular)."""
    if request.data is None:
        return _tabular_placeholder(request)
    if request.data.startswith("sklearn:"):
        return _tabular_sklearn(request)
    return _tabular_file(request)


def _tabular_placeholder(request: Request) -> Draft:
    target = str(request.target) if request.target is not None else "target"
    spec = {
        "name": request.name,
        "kind": KIND,
        "task": "classification",
        "data": {"source": DEFAULT_SOURCE, "header": request.header is not False,
                 "delimiter": ",", "target": target},
        "metric": "accuracy",
        "evaluation": protocol_for(0, []),
    }
    lines = [
        f"- No data yet. Put a CSV file named `{DEFAULT_SOURCE}` in this folder "
        f"(one row per example, the target in a column named `{target}`), or point "
        "`data.source` in project.yaml at your file.",
        "- Then check `task`, `metric`, `data.header`, `data.delimiter` and `data.target` "
        "in project.yaml; `dlrun new NAME --data FILE` infers them for you.",
    ]
    return Draft(spec, lines, light=True)


def _tabular_sklearn(request: Request) -> Draft:
    from dlrun.data.standard import SKLEARN_LOADERS, match_sklearn, sklearn_name

    name = sklearn_name(request.data) or ""
    entry = match_sklearn(name)
    if entry is None or name not in SKLEARN_LOADERS:
        raise ArgumentError(
            f"'{request.data}' is not a bundled scikit-learn dataset (fetch_* datasets need "
            "the internet); choose one of: " + ", ".join(f"sklearn:{n}" for n in SKLEARN_LOADERS),
            field="--data",
        )
    if request.target not in (None, "target", -1, "-1"):
        raise ArgumentError(
            f"a scikit-learn dataset has one target, 'target'; got '{request.target}'",
            field="--target",
        )
    spec = {
        "name": request.name,
        "description": f"{entry.title}, bundled with scikit-learn.",
        "kind": KIND,
        "task": entry.task,
        "data": {"source": f"sklearn:{name}", "target": "target"},
        "metric": entry.metric,
    }
    rows, width = entry.signature.get("shape", [None, None])
    spec["evaluation"] = protocol_for(rows or 0, [])  # the bundled sets are small: 10 x 3
    ref = entry.reference_dict()
    if ref is not None:
        spec["reference"] = ref
    lines = [f"- Source: scikit-learn `load_{name}()` ({entry.title})."]
    if rows:
        lines.append(f"- {rows} rows, {width - 1} features, target `target`.")
    if "classes" in entry.signature:
        lines.append(f"- Class counts: {', '.join(map(str, entry.signature['classes']))}.")
    return Draft(spec, lines, light=True)


def _tabular_file(request: Request) -> Draft:
    from dlrun.data.sniff import MISSING_MARKERS, format_from_suffix, sniff_csv

    path = Path(request.data).expanduser()
    if not path.exists():
        raise ArgumentError(f"the data file {path} does not exist", field="--data")
    if path.is_dir():
        raise ArgumentError(
            f"{path} is a folder; a table is one CSV or Parquet file (folders of pictures or "
            "documents take another --template: see `dlrun catalogue`)",
            field="--data",
        )
    absolute = path.resolve()
    try:
        source = os.path.relpath(absolute, request.project_dir)
    except ValueError:  # another drive (Windows)
        source = str(absolute)
    fmt = format_from_suffix(absolute)

    data: dict[str, Any] = {"source": source}
    if fmt == "csv":
        try:
            info = sniff_csv(absolute, header=request.header, max_rows=SCAN_ROWS)
        except ValueError as err:
            raise DataError(str(err), field="--data") from None
        except OSError as err:
            raise DataError(f"{path} cannot be read: {err.strerror or err}", field="--data") from None
        found = set(info.missing) | {""}
        data.update(
            header=info.header,
            delimiter=info.delimiter,
            decimal=info.decimal,
            missing=[m for m in MISSING_MARKERS if m in found],
        )
        if not info.header:
            data["columns"] = list(info.columns)
        draft = _draft_from_sniff(request, info, data, path)
        if draft is not None:
            return draft
    elif fmt != "parquet":
        raise ArgumentError(
            f"{path.name}: '{fmt}' files are not supported for tabular projects yet; "
            "use a CSV or Parquet file",
            field="--data",
        )

    from dlrun.data.sources import read_frame
    from dlrun.data.standard import match
    from dlrun.kinds.tabular.data import build_dataset
    from dlrun.spec import DataSpec

    read_spec = dict(data, source=str(absolute), target="?")
    try:
        frame, meta = read_frame(DataSpec(**read_spec), absolute.parent)
    except DataError as err:
        err.field = "--data"
        raise
    columns = list(frame.columns)
    target = resolve_target(columns, request.target)
    data["target"] = target
    y = frame[target]
    X = frame.drop(columns=[target])
    task = infer_task(y)
    notes: list[str] = []

    entry = match(X, y, TASKS) if len(frame) <= RECOGNISE_ROWS else None
    reference = None
    if entry is not None:
        task, metric = entry.task, entry.metric
        reference = entry.reference_dict()
        if (data.get("columns") and entry.columns and len(entry.columns) == len(columns)
                and columns.index(target) == len(columns) - 1):
            rename = dict(zip(columns, entry.columns, strict=True))
            data["columns"] = list(entry.columns)
            data["target"] = target = rename[target]
            frame = frame.rename(columns=rename)
            y, X = frame[target], frame.drop(columns=[target])
            columns = list(frame.columns)
        notes.append(f"Recognised by its content as the standard dataset **{entry.title}**.")
    else:
        metric = default_metric(task, y)

    empty = [c for c in X.columns if X[c].isna().all()]
    if empty:
        data["drop"] = empty
        notes.append(f"Dropped columns without any value: {', '.join(empty)}.")

    spec = _tabular_spec(request.name, entry, task, data, metric, reference, len(frame), notes)

    # The same checks `dlrun validate` makes, so a scaffolded project loads.
    check = DataSpec(**dict(data, source=str(absolute)))
    dataset = build_dataset(frame, check, task, meta=meta)
    notes.extend(dataset.meta.get("warnings", []))
    return Draft(spec, _describe_data(dataset, path, data), notes)


_BOOLEAN_WORDS = frozenset({"True", "False", "TRUE", "FALSE", "true", "false"})


def _draft_from_sniff(request: Request, info, data: dict[str, Any], path: Path) -> Draft | None:
    """The draft :func:`_tabular_file` would make, from the sniff's value counts alone.

    None when the file needs pandas' reading and cleaning rules to be described
    exactly (see the module docstring): the caller then reads it with pandas.
    The result must equal what the pandas path writes (tests/test_scaffold.py).
    """
    from dlrun.data.sniff import HUGE, is_number
    from dlrun.data.standard import match_stats, numeric_total

    columns, counts, kinds = info.columns, info.counts, info.kinds
    if (info.sampled or info.ragged or info.decimal != "." or info.quotechar != '"' or info.n_rows < 2
            or not counts or any(name.startswith("Unnamed: ") for name in info.header_row)):
        return None
    named = [n for n in info.header_row if n]
    if len(set(named)) < len(named):  # pandas renames duplicates its own way
        return None
    for column in columns:
        values = counts[column]
        if not _BOOLEAN_WORDS.isdisjoint(values):
            return None
        if info.whitespace and any('"' in v for v in values):
            return None
        if kinds[column] == "categorical" and any(is_number(v) for v in values):
            return None  # numbers mixed with text: build_dataset's rules and warnings
        if kinds[column] == "numeric" and any(abs(float(v)) >= HUGE for v in values if is_number(v)):
            return None  # numbers too large to compute with: build_dataset refuses them
    target = resolve_target(columns, request.target)
    if info.missing_counts.get(target) or kinds[target] == "empty":
        return None  # rows are dropped (or none is left): build_dataset says so
    data["target"] = target
    y_counts = _label_counts(counts[target], numeric=kinds[target] == "numeric")
    task = "classification"
    if kinds[target] == "numeric":
        integral = all(abs(x - round(x)) < 1e-9 for x in y_counts)
        if not (integral and len(y_counts) <= MAX_INTEGER_CLASSES):
            task = "regression"

    features = [c for c in columns if c != target]
    entry = None
    if info.n_rows <= RECOGNISE_ROWS:
        total = sum(numeric_total(counts[c]) for c in features if kinds[c] != "empty")
        entry = match_stats((info.n_rows, len(columns)), counts[target], total, TASKS)
    notes: list[str] = []
    if entry is not None:
        task, metric = entry.task, entry.metric
        if (data.get("columns") and entry.columns and len(entry.columns) == len(columns)
                and columns.index(target) == len(columns) - 1):
            rename = dict(zip(columns, entry.columns, strict=True))
            data["columns"] = list(entry.columns)
            data["target"] = target = rename[target]
            counts = {rename[c]: v for c, v in counts.items()}
            kinds = {rename[c]: v for c, v in kinds.items()}
            features = [rename[c] for c in features]
            missing = {rename[c]: n for c, n in info.missing_counts.items()}
        else:
            missing = dict(info.missing_counts)
        notes.append(f"Recognised by its content as the standard dataset **{entry.title}**.")
    else:
        missing = dict(info.missing_counts)
        metric = "mae" if task != "classification" else classification_metric(y_counts)
    if task == "regression" and kinds[target] != "numeric":
        return None  # build_dataset refuses it
    if task == "classification" and (len(y_counts) < 2 or min(y_counts.values()) < 2):
        return None  # a single class (refused) or tiny classes (warned about)

    empty = [c for c in features if kinds[c] == "empty"]
    if empty:
        data["drop"] = empty
        notes.append(f"Dropped columns without any value: {', '.join(empty)}.")
    features = [c for c in features if c not in empty]
    if not features:
        return None

    spec = _tabular_spec(request.name, entry, task, data, metric,
                         entry.reference_dict() if entry is not None else None, info.n_rows, notes)

    n_numeric = sum(kinds[c] == "numeric" for c in features)
    lines = [
        f"- Source: `{path.name}` ({info.n_rows} rows, {len(features)} features: "
        f"{n_numeric} numeric, {len(features) - n_numeric} categorical).",
        _read_as_line(data),
    ]
    if task == "classification":
        labels = y_counts
        if kinds[target] == "numeric":
            finite_int = all(x == round(x) for x in y_counts)
            labels = {(int(x) if finite_int else x): n for x, n in y_counts.items()}
        ranked = sorted(labels.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{label}: {n}" for label, n in ranked[:10])
        more = f" (and {len(ranked) - 10} more)" if len(ranked) > 10 else ""
        lines.append(
            f"- Target `{target}`: {len(ranked)} classes, {shown}{more}; "
            f"majority share {ranked[0][1] / info.n_rows:.3f}."
        )
    else:
        lo, median, hi, mean, std = _moments(y_counts)
        lines.append(
            f"- Target `{target}`: min {lo:.4g}, median {median:.4g}, "
            f"max {hi:.4g}, mean {mean:.4g}, standard deviation {std:.4g}."
        )
    lines.append(_missing_line({c: missing[c] for c in features if missing.get(c)}))
    return Draft(spec, lines, notes, light=True)


def _label_counts(values: dict[str, int], *, numeric: bool) -> dict:
    """Value counts as pandas counts them: numbers equal as floats are one value."""
    if not numeric:
        return dict(values)
    merged: dict[float, int] = {}
    for value, n in values.items():
        x = float(value)
        merged[x] = merged.get(x, 0) + n
    return merged


def _moments(counts: dict[float, int]) -> tuple[float, float, float, float, float]:
    """min, median, max, mean and standard deviation (ddof=1) of counted numbers."""
    import math

    ordered = sorted(counts.items())
    size = sum(counts.values())
    mean = math.fsum(x * n for x, n in ordered) / size
    var = math.fsum(n * (x - mean) ** 2 for x, n in ordered) / (size - 1)

    def nth(k: int) -> float:
        seen = 0
        for x, n in ordered:
            seen += n
            if k < seen:
                return x
        return ordered[-1][0]  # pragma: no cover

    half = size // 2
    median = nth(half) if size % 2 else (nth(half - 1) + nth(half)) / 2
    return ordered[0][0], median, ordered[-1][0], mean, math.sqrt(var)


def _read_as_line(data: dict[str, Any]) -> str:
    delim = {" ": "blanks", "\t": "tab"}.get(data["delimiter"], f"`{data['delimiter']}`")
    return (
        f"- Read as: delimiter {delim}, "
        + ("header row" if data["header"] else "no header row (columns named in project.yaml)")
        + ", missing markers: "
        + ", ".join(f"`{m}`" if m else "empty field" for m in data["missing"])
        + "."
    )


def _missing_line(missing: dict[str, int]) -> str:
    if not missing:
        return "- No missing values found."
    return (
        "- Missing values: "
        + ", ".join(f"`{c}` {n}" for c, n in sorted(missing.items(), key=lambda kv: -kv[1]))
        + "."
    )


def _describe_data(dataset, path: Path, data: dict[str, Any]) -> list[str]:
    lines = [
        f"- Source: `{path.name}` ({dataset.n_rows} rows, {dataset.X.shape[1]} features: "
        f"{len(dataset.numeric)} numeric, {len(dataset.categorical)} categorical).",
    ]
    if "delimiter" in data:
        lines.append(_read_as_line(data))
    y = dataset.y
    if dataset.task == "classification":
        counts = y.value_counts()
        shown = ", ".join(f"{label}: {n}" for label, n in counts.head(10).items())
        more = f" (and {len(counts) - 10} more)" if len(counts) > 10 else ""
        lines.append(
            f"- Target `{data['target']}`: {len(counts)} classes, {shown}{more}; "
            f"majority share {counts.max() / counts.sum():.3f}."
        )
    else:
        lines.append(
            f"- Target `{data['target']}`: min {y.min():.4g}, median {y.median():.4g}, "
            f"max {y.max():.4g}, mean {y.mean():.4g}, standard deviation {y.std():.4g}."
        )
    lines.append(_missing_line(dataset.meta.get("n_missing") or {}))
    return lines


def protocol_for(n_rows: int, notes: list[str]) -> dict[str, int]:
    """The evaluation block for data of this size: 10 x 3, scaled down for large
    data by the rule `dlrun evaluate` applies (the spec then shows the plan, and
    the user may change it); a line for the README's notes when it is scaled."""
    from dlrun.protocol import DEFAULT_FOLDS, DEFAULT_REPEATS, choose_protocol

    folds, repeats, _ = choose_protocol(n_rows, DEFAULT_FOLDS, DEFAULT_REPEATS, explicit=set(), quick=False)
    if (folds, repeats) != (DEFAULT_FOLDS, DEFAULT_REPEATS):
        notes.append(f"{n_rows:,} rows: evaluation uses {folds} folds x {repeats} repeat(s) instead of "
                     f"{DEFAULT_FOLDS} x {DEFAULT_REPEATS}, and the slow algorithms train on a subsample "
                     "of each fold (`dlrun evaluate` prints the plan); edit `evaluation` to change it.")
    return {"folds": folds, "repeats": repeats, "seed": 1}


def _tabular_spec(name, entry, task, data, metric, reference, n_rows: int,
                  notes: list[str]) -> dict[str, Any]:
    """The spec dict both tabular inference paths (stdlib and pandas) write."""
    spec = {
        "name": name,
        "description": entry.title if entry else "",
        "kind": KIND,
        "task": task,
        "data": data,
        "metric": metric,
        "evaluation": protocol_for(n_rows, notes),
    }
    if reference is not None:
        spec["reference"] = reference
    if not spec["description"]:
        del spec["description"]
    return spec

