"""Saved models that cannot run code when they are loaded.

A portfolio entry's ``model/`` folder holds:

* ``pipeline.skops`` -- the fitted pipeline in scikit-learn's safe persistence
  format (:mod:`skops.io`): loading rebuilds only objects of *trusted types* --
  the types dlrun itself writes (:func:`trusted_types`, an explicit list that
  kinds and algorithms extend with theirs) -- and refuses anything else, so a
  crafted file cannot run code;
* ``net-N.keras`` -- each Keras network inside the pipeline, in Keras' native
  format, loaded with ``safe_mode=True`` (which refuses Lambda layers and any
  other serialized code);
* ``manifest.json`` -- the format version, the library versions that wrote it,
  the SHA-256 of every file (checked before anything is loaded) and what
  ``dlrun predict`` needs to read new inputs (task, kind, classes, columns, ...).

An entry without a manifest (an older dlrun's pickled ``model.joblib``) is
refused with the command that re-creates it: unpickling it could run code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from dlrun.errors import BadInput
from dlrun.io import atomic_write_bytes, atomic_write_json

MODEL_DIR = "model"
MANIFEST = "manifest.json"
PIPELINE = "pipeline.skops"
FORMAT = 2
#: Types of other libraries that dlrun's pipelines hold (beyond those skops trusts itself).
LIBRARY_TYPES = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    # a fitted k-nearest-neighbours model (an ensemble member, or the final model itself)
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    # the seeded, shuffled inner CV with which lasso / elastic net choose their penalty
    "sklearn.model_selection._split.KFold",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
)
#: dlrun's own estimators and transformers (kinds and plugins add theirs: ``trusted_types``).
DLRUN_TYPES = (
    "dlrun.algorithms.linear.AdaptiveLogisticRegression",
    "dlrun.algorithms.boosting.LabelSafeClassifier",
    "dlrun.algorithms.boosting.EarlyStoppingClassifier",
    "dlrun.algorithms.boosting.EarlyStoppingRegressor",
    "dlrun.algorithms.ensemble.EnsembleModel",
    "dlrun.algorithms.keras.mlp.MLPClassifier",
    "dlrun.algorithms.keras.mlp.MLPRegressor",
    "dlrun.algorithms.keras.mlp.SequenceMLPRegressor",
    "dlrun.algorithms.keras.cnn.CNNClassifier",
    "dlrun.algorithms.keras.cnn1d.CNN1DRegressor",
    "dlrun.algorithms.keras.lstm.LSTMRegressor",
    "dlrun.algorithms.keras.lstm.CNNLSTMRegressor",
)


def trusted_types() -> list[str]:
    """Every type a dlrun model file may hold: library types, dlrun's own, and those the
    installed kinds and algorithms declare (``trusted_types`` attributes)."""
    from dlrun.catalogue import ALGORITHMS, KINDS
    from dlrun.plugins import load_plugins

    load_plugins()
    names = set(LIBRARY_TYPES) | set(DLRUN_TYPES)
    for obj in [*KINDS.values(), *ALGORITHMS.values()]:
        names |= set(getattr(obj, "trusted_types", ()) or ())
    return sorted(names)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keras_models(obj, seen=None):
    """(owner, attribute) of every fitted Keras model inside an estimator graph."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _keras_models(item, seen)
        return
    if isinstance(obj, dict):
        for item in obj.values():
            yield from _keras_models(item, seen)
        return
    state = getattr(obj, "__dict__", None)
    if not isinstance(state, dict) or type(obj).__module__.startswith(("numpy", "pandas", "builtins")):
        return
    for key, value in list(state.items()):
        if key == "model_" and type(value).__module__.startswith("keras"):
            yield obj, key
        else:
            yield from _keras_models(value, seen)


def entry_metadata(dataset, spec, algorithm: str, view: str) -> dict[str, Any]:
    """What ``dlrun predict`` needs besides the pipeline: how the training data was read
    (the kind reads new inputs the same way), its columns and classes."""

    def plain(value):
        return value.item() if hasattr(value, "item") else value

    return {
        "project": spec.name,
        "task": dataset.task,
        "kind": dataset.kind,
        "classes": [plain(c) for c in dataset.classes],
        "columns": [str(c) for c in getattr(dataset.X, "columns", [])],  # none for arrays
        "numeric": list(dataset.numeric),
        "categorical": list(dataset.categorical),
        "target": str(dataset.y.name),
        "data": spec.data.model_dump(mode="json"),
        "algorithm": algorithm,
        "view": view,
    }


def save_model(entry_dir: Path, pipeline, metadata: dict[str, Any]) -> list[str]:
    """Write ``pipeline`` (fitted) and ``metadata`` into ``entry_dir/model/``; returns the
    files written, relative to the entry."""
    import io
    import tempfile

    import skops.io as sio

    folder = Path(entry_dir) / MODEL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    nets = list(_keras_models(pipeline))
    detached = []
    try:
        for i, (owner, key) in enumerate(nets):
            name = f"net-{i}.keras"
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / name
                getattr(owner, key).save(str(path))
                files[name] = path.read_bytes()
            detached.append((owner, key, getattr(owner, key)))
            owner.__dict__[key] = None  # the skops file refers to the .keras file instead
            owner.__dict__["keras_file_"] = name
        buffer = io.BytesIO()
        sio.dump(pipeline, buffer, compression=8)  # zipfile.ZIP_DEFLATED
        files[PIPELINE] = buffer.getvalue()
    finally:
        for owner, key, model in detached:
            owner.__dict__[key] = model
            owner.__dict__.pop("keras_file_", None)
    for name, data in files.items():
        atomic_write_bytes(folder / name, data)
    for stale in folder.glob("*"):  # files of an earlier model of this entry
        if stale.name not in files and stale.name != MANIFEST and stale.is_file():
            stale.unlink()
    manifest = {
        "format": FORMAT,
        "libraries": _versions(),
        "files": {name: _sha256(data) for name, data in files.items()},
        "types": sio.get_untrusted_types(data=files[PIPELINE]),
        **metadata,
    }
    atomic_write_json(folder / MANIFEST, manifest)
    return [f"{MODEL_DIR}/{name}" for name in [*files, MANIFEST]]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("dlrun", "scikit-learn", "numpy", "xgboost", "keras", "tensorflow", "skops"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _refuse(message: str, hint: str | None = None):
    raise BadInput(message, field="ENTRY", hint=hint)


def read_manifest(entry) -> tuple[Path, dict[str, Any]]:
    """The entry folder and its manifest; exit-2 errors for anything that is not a sound
    entry of this format (a file, an old pickled model, a damaged or tampered one)."""
    entry = Path(entry)
    if not entry.is_dir():
        _refuse(f"{entry} is not a portfolio entry folder",
                "Pass the folder `dlrun report` wrote (PORTFOLIO/NAME); dlrun loads models only from "
                "entry folders with a manifest.")
    folder = entry / MODEL_DIR
    path = folder / MANIFEST
    if not path.is_file():
        if (folder / "model.joblib").exists():
            project = _project_of(entry)
            _refuse(f"{entry} holds a model saved by an older dlrun as a pickle, which could run "
                    "code when loaded; it is not loaded",
                    f"Re-create the entry with `dlrun report {project}`." if project else
                    "Re-create the entry with `dlrun report PROJECT`.")
        _refuse(f"{entry} has no saved model ({MODEL_DIR}/{MANIFEST} is missing)",
                "Pass a portfolio entry folder written by `dlrun report`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        _refuse(f"{path} cannot be read: {err}")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        _refuse(f"{path} is not a dlrun model manifest of format {FORMAT}",
                "Re-create the entry with `dlrun report PROJECT`.")
    files = manifest.get("files")
    if not isinstance(files, dict) or PIPELINE not in files:
        _refuse(f"{path} lists no {PIPELINE}")
    for name, digest in files.items():
        file = folder / name
        if Path(name).name != name or not file.is_file():
            _refuse(f"{MODEL_DIR}/{name}, listed in the manifest, is missing")
        if _sha256(file.read_bytes()) != digest:
            _refuse(f"{MODEL_DIR}/{name} does not match the digest in the manifest (damaged or "
                    "changed since `dlrun report` wrote it); it is not loaded")
    return entry, manifest


def _project_of(entry: Path) -> str:
    try:
        results = json.loads((entry / "results.json").read_text(encoding="utf-8"))
        return str(results["project"]["name"])
    except Exception:  # noqa: BLE001 - only for a hint
        return ""


def load_model(entry) -> dict[str, Any]:
    """The manifest of ``entry`` with its fitted pipeline under ``"pipeline"``."""
    import skops.io as sio

    entry, manifest = read_manifest(entry)
    folder = entry / MODEL_DIR
    data = (folder / PIPELINE).read_bytes()
    allowed = set(trusted_types())
    try:
        found = set(sio.get_untrusted_types(data=data))
    except Exception as err:  # noqa: BLE001 - not a skops file at all
        _refuse(f"{MODEL_DIR}/{PIPELINE} cannot be read as a model: {type(err).__name__}: {err}")
    foreign = sorted(found - allowed)
    if foreign:
        _refuse(f"{MODEL_DIR}/{PIPELINE} holds types dlrun does not write and will not load: "
                f"{', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}")
    try:
        pipeline = sio.loads(data, trusted=sorted(found))
    except Exception as err:  # noqa: BLE001 - a damaged file
        _refuse(f"{MODEL_DIR}/{PIPELINE} cannot be loaded: {type(err).__name__}: {err}")
    for owner, name in _keras_files(pipeline):
        owner.__dict__["model_"] = _load_keras(folder / name)
        owner.__dict__.pop("keras_file_", None)
    return {**manifest, "pipeline": pipeline}


def _keras_files(obj, seen=None):
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _keras_files(item, seen)
        return
    if isinstance(obj, dict):
        for item in obj.values():
            yield from _keras_files(item, seen)
        return
    state = getattr(obj, "__dict__", None)
    if not isinstance(state, dict) or type(obj).__module__.startswith(("numpy", "pandas", "builtins")):
        return
    name = state.get("keras_file_")
    if isinstance(name, str):
        if Path(name).name != name:
            _refuse(f"a network file name in the model is not a plain file name: {name!r}")
        yield obj, name
    for value in list(state.values()):
        yield from _keras_files(value, seen)


def _load_keras(path: Path):
    from dlrun.algorithms.keras.backend import import_keras as _keras

    keras = _keras()
    if not path.is_file():
        _refuse(f"{MODEL_DIR}/{path.name}, a network of the model, is missing")
    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - Lambda layers and other code are refused here
        _refuse(f"{MODEL_DIR}/{path.name} is not loaded: {type(err).__name__}: "
                f"{str(err).splitlines()[0][:300]}")
