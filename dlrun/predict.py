"""``dlrun predict``: a saved portfolio entry's model applied to new inputs.

The kind of data the model was trained on reads the new inputs
(:meth:`dlrun.kind.Kind.read_inputs`: rows of a table with the training
file's reading rules, a folder of pictures, the recent history of a series).
Predictions come back in the original label space (class names, not codes),
with one probability column per class where the model gives them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.catalogue import is_classification
from dlrun.errors import BadInput


def load_bundle(entry: str | Path) -> dict[str, Any]:
    """The saved model of a portfolio entry folder and what it was trained on; only entries
    with a manifest are loaded, and nothing in them can run code (:mod:`dlrun.modelfile`)."""
    from dlrun.modelfile import load_model

    return load_model(entry)


def predict_frame(bundle: dict[str, Any], X) -> pd.DataFrame:
    pipeline = bundle["pipeline"]
    codes = pipeline.predict(X)
    if is_classification(bundle["task"]):
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
    from dlrun.catalogue import KINDS
    from dlrun.plugins import load_plugins

    bundle = load_bundle(entry)
    load_plugins()
    kind = bundle.get("kind")
    if kind not in KINDS:
        raise BadInput(f"this model was trained on data of kind '{kind}', which this dlrun does "
                       f"not have (installed: {', '.join(KINDS.names())})", field="ENTRY")
    X = KINDS.get(kind).read_inputs(bundle, data)
    frame = predict_frame(bundle, X)
    if getattr(X, "row_names", None):  # e.g. image files: which prediction is which file
        frame.insert(0, "file", list(X.row_names))
    if out:
        from dlrun.io import atomic_write_text

        atomic_write_text(out, frame.to_csv(index=False))
    else:
        frame.to_csv(sys.stdout, index=False)
    return frame
