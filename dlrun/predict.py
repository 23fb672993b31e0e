"""``dlrun predict``: a saved portfolio entry's model applied to new inputs.

The kind of data the model was trained on reads the new inputs
(:meth:`dlrun.kind.Kind.read_inputs`: rows of a table -- header or not, columns matched by
name --, a folder of pictures, the recent history of a series). Predictions come back in
the original label space (class names, not codes), with one probability column per class
where the model gives them, at full precision. :func:`predict_file` returns the frame and
prints nothing: writing it out is the caller's business (the CLI writes to stdout or
``--out``).
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.catalogue import is_classification
from dlrun.errors import BadInput

#: The name a stream (standard input) is read under: what messages call it.
STDIN_NAME = "stdin.csv"


def load_bundle(entry: str | Path) -> dict[str, Any]:
    """The saved model of a portfolio entry folder and what it was trained on; only entries
    with a manifest are loaded, and nothing in them can run code (:mod:`dlrun.modelfile`)."""
    from dlrun.modelfile import load_model

    return load_model(entry)


def predict_frame(bundle: dict[str, Any], X) -> pd.DataFrame:
    """``prediction`` (labels for classification) and, where the model gives them, one
    ``p_<class>`` probability column per class, unrounded."""
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
                        out[f"p_{label}"] = proba[:, i].astype("float64")
            except AttributeError:
                pass
        return out
    return pd.DataFrame({"prediction": np.asarray(codes, dtype=float)})


def predict_file(entry, data, *, header: bool | None = None,
                 keep: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Predictions for the inputs at ``data`` (a path, or a binary or text stream such as
    standard input) with the model of ``entry``.

    ``header`` and ``keep`` are for tables: whether the first row names the columns (None:
    detected) and the input columns to pass through, first in the frame. Notes on what was
    ignored are in ``frame.attrs["notes"]``."""
    from dlrun.catalogue import KINDS
    from dlrun.plugins import load_plugins

    bundle = load_bundle(entry)
    load_plugins()
    kind_name = bundle.get("kind")
    if kind_name not in KINDS:
        raise BadInput(f"this model was trained on data of kind '{kind_name}', which this dlrun "
                       f"does not have (installed: {', '.join(KINDS.names())})", field="ENTRY")
    kind = KINDS.get(kind_name)
    options = _options(kind, kind_name, header=header, keep=list(keep or ()))
    with _as_path(data) as path:
        X = kind.read_inputs(bundle, path, **options)
    attrs = getattr(X, "attrs", None)
    passthrough = attrs.pop("passthrough", None) if isinstance(attrs, dict) else None
    notes = list(attrs.pop("notes", None) or []) if isinstance(attrs, dict) else []
    frame = predict_frame(bundle, X)
    if getattr(X, "row_names", None):  # e.g. image files: which prediction is which file
        frame.insert(0, "file", list(X.row_names))
    if passthrough is not None and len(passthrough.columns):
        clash = [c for c in passthrough.columns if c in frame.columns]
        if clash:
            raise BadInput(f"column(s) {', '.join(map(str, clash))} would clash with the prediction "
                           "columns of the output", field="--keep",
                           hint="Rename them in the data, or keep other columns.")
        frame = pd.concat([passthrough.reset_index(drop=True), frame], axis=1)
    frame.attrs["notes"] = notes
    return frame


def _options(kind, kind_name: str, **given) -> dict[str, Any]:
    """The reading options the kind takes; one it does not take is refused when given."""
    wanted = {name: value for name, value in given.items() if value not in (None, [], ())}
    taken = inspect.signature(kind.read_inputs).parameters
    for name in wanted:
        if name not in taken:
            flag = "--header/--no-header" if name == "header" else f"--{name}"
            raise BadInput(f"{flag} is for tables; this model reads {kind_name} inputs",
                           field=flag.split("/")[0], hint="Leave the option out.")
    return wanted


@contextmanager
def _as_path(data):
    """``data`` as a path: a stream (standard input) is copied to a temporary file first."""
    if hasattr(data, "read"):
        folder = tempfile.mkdtemp(prefix="dlrun-predict-")
        try:
            path = Path(folder) / STDIN_NAME
            with open(path, "wb") as handle:
                source = getattr(data, "buffer", data)  # the bytes under a text stream
                chunk = source.read(1 << 20)
                while chunk:
                    handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
                    chunk = source.read(1 << 20)
            yield path
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        yield Path(data)
