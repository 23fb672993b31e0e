"""``dlrun predict``: a saved portfolio entry's model applied to new rows.

New rows are read with the same rules as the training data (delimiter, header,
missing-value markers, column names); the target column may be absent or is
ignored. Predictions come back in the original label space (class names, not
codes), with one probability column per class where the model gives them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.errors import BadInput, DataError

MODEL_FILE = Path("model") / "model.joblib"


def load_bundle(entry: str | Path) -> dict[str, Any]:
    import joblib

    entry = Path(entry)
    path = entry / MODEL_FILE if entry.is_dir() else entry
    if not path.is_file():
        raise BadInput(f"no saved model at {path}; pass a portfolio entry folder written by "
                       "`dlrun report`", field="ENTRY")
    try:
        bundle = joblib.load(path)
    except Exception as err:  # noqa: BLE001 - a corrupt or foreign file
        raise BadInput(f"{path} cannot be loaded as a dlrun model: {err}", field="ENTRY") from None
    if not isinstance(bundle, dict) or "pipeline" not in bundle:
        raise BadInput(f"{path} is not a dlrun model bundle", field="ENTRY")
    return bundle


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
        X[column] = numbers.astype("float64")
    for column in bundle["categorical"]:
        X[column] = X[column].map(lambda v: str(v), na_action="ignore").astype(object)
    return X


def predict_frame(bundle: dict[str, Any], X) -> pd.DataFrame:
    pipeline = bundle["pipeline"]
    codes = pipeline.predict(X)
    if bundle["task"] == "classification":
        classes = np.asarray(bundle["classes"], dtype=object)
        out = pd.DataFrame({"prediction": classes[np.asarray(codes, dtype=int)]})
        if hasattr(pipeline, "predict_proba"):
            try:
                from dlrun.evaluation.jobs import aligned_scores

                proba = aligned_scores(pipeline, X, len(classes))
                if proba is not None and np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
                    for i, label in enumerate(classes):
                        out[f"p_{label}"] = np.round(proba[:, i], 6)
            except AttributeError:
                pass
        return out
    return pd.DataFrame({"prediction": np.asarray(codes, dtype=float)})


def predict_file(entry, data, out=None) -> pd.DataFrame:
    bundle = load_bundle(entry)
    kind = bundle.get("kind", "tabular")
    if kind != "tabular":
        from dlrun.catalogue import PREDICTORS

        if kind not in PREDICTORS:
            raise BadInput(f"this dlrun cannot predict for '{kind}' models", field="ENTRY")
        X = PREDICTORS.get(kind)(bundle, data)
    else:
        X = read_new_rows(bundle, data)
    frame = predict_frame(bundle, X)
    if getattr(X, "row_names", None):  # e.g. image files: which prediction is which file
        frame.insert(0, "file", list(X.row_names))
    if out:
        from dlrun.io import atomic_write_text

        atomic_write_text(out, frame.to_csv(index=False))
    else:
        frame.to_csv(sys.stdout, index=False)
    return frame
