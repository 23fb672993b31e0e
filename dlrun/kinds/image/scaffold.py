"""``dlrun new NAME --template image [--data FOLDER|FILE.npz|sklearn:digits]``.

Infers the classes, the image size and the channels, and writes a spec of
``kind: image`` scored by accuracy (balanced accuracy when the classes are
imbalanced), with the lighter image protocol (5 folds x 1 repeat) and both
image views. A folder is described from its sub-folder names and a sample of
its files (headers for the size, pixels of at most 200 files for the colour);
large images get a proposed size whose longer side is at most 64 pixels.
``sklearn:digits`` -- and an ``.npz`` holding the same digits -- carry the
catalogue's published scores. Light: numpy and Pillow only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dlrun.errors import ArgumentError, DataError
from dlrun.kinds.image import IMAGE_FOLDS, IMAGE_REPEATS, NAME

TARGET = "label"


def infer_image(request):
    from dlrun.scaffold import Draft, classification_metric

    if request.target not in (None, TARGET):
        raise ArgumentError("image projects take their labels from the data; drop --target",
                            field="--target")
    if request.header is not None:
        raise ArgumentError("--no-header applies to CSV files, not images", field="--no-header")
    data = request.data
    if data is None:
        facts = _placeholder()
    elif data.startswith("sklearn:"):
        facts = _sklearn(data)
    else:
        path = Path(data).expanduser()
        if not path.exists():
            raise ArgumentError(f"{path} does not exist", field="--data")
        if path.is_dir():
            facts = _folder(path)
        elif path.suffix.lower() == ".npz":
            facts = _npz(path)
        else:
            raise ArgumentError(
                f"{path.name}: an image project reads a folder of class sub-folders, an .npz file "
                "(arrays x and y) or sklearn:digits",
                field="--data",
            )
        absolute = path.resolve()
        try:
            facts["data"]["source"] = os.path.relpath(absolute, request.project_dir)
        except ValueError:  # another drive (Windows)
            facts["data"]["source"] = str(absolute)

    counts = facts.get("counts") or {}
    metric = classification_metric(counts) if counts else "accuracy"
    spec: dict[str, Any] = {
        "name": request.name,
        "description": facts.get("description", ""),
        "kind": NAME,
        "task": "classification",
        "data": {**facts["data"], "target": TARGET},
        "metric": metric,
        "views": ["pixels", "augment"],
        "images": facts["images"],
        "evaluation": {"folds": IMAGE_FOLDS, "repeats": IMAGE_REPEATS, "seed": 1},
    }
    if facts.get("reference") is not None:
        spec["reference"] = facts["reference"]
    if not spec["description"]:
        del spec["description"]
    return Draft(spec, _lines(facts), facts.get("notes", []))


def _placeholder() -> dict[str, Any]:
    return {
        "data": {"source": "images"},
        "images": {"image_size": [32, 32], "channels": 3, "augment": True},
        "lines": [
            "- No data yet. Put the images in a folder named `images` in this folder, one "
            "sub-folder per class (`images/cat/001.jpg`, `images/dog/002.png`, ...), or point "
            "`data.source` in project.yaml at a folder or at an `.npz` file with arrays `x` and `y`.",
            "- Then check `images.image_size` and `images.channels` in project.yaml; "
            "`dlrun new NAME --template image --data FOLDER` infers them for you.",
        ],
    }


def _sklearn(source: str) -> dict[str, Any]:
    from dlrun.data.standard import match_sklearn, sklearn_name
    from dlrun.kinds.image.data import SKLEARN_IMAGES

    name = sklearn_name(source) or ""
    if name not in SKLEARN_IMAGES:
        raise ArgumentError(
            f"'{source}' is not an image dataset bundled with scikit-learn; choose one of: "
            + ", ".join(f"sklearn:{n}" for n in SKLEARN_IMAGES),
            field="--data",
        )
    entry = match_sklearn(name)
    facts = SKLEARN_IMAGES[name]
    counts = {}
    if entry is not None and "classes" in entry.signature:
        counts = {str(i): n for i, n in enumerate(entry.signature["classes"])}
    ref = entry.reference_dict() if entry is not None else None
    h, w = facts["image_size"]
    return {
        "data": {"source": f"sklearn:{name}"},
        "description": f"{entry.title}, bundled with scikit-learn." if entry else "",
        "images": {**facts, "augment": _digit_augment()},
        "reference": ref,
        "counts": counts,
        "lines": [
            f"- Source: scikit-learn `load_{name}()`"
            + (f" ({entry.title})." if entry else "."),
            f"- {sum(counts.values()) or 'All'} images, {h}x{w} greyscale, pixel values 0..16; "
            f"{len(counts) or 10} classes"
            + (f", {min(counts.values())} to {max(counts.values())} images each." if counts else "."),
            "- Augmentation (the `augment` view): small shifts and rotations, no flips "
            "(a mirrored digit is another symbol).",
        ],
    }


def _digit_augment() -> dict[str, Any]:
    return {"flip": "none", "shift": 0.1, "rotation": 0.03}


def _folder(path: Path) -> dict[str, Any]:
    from dlrun.kinds.image.data import inspect_folder, proposed_size

    try:
        info = inspect_folder(path)
    except DataError as err:
        err.field = "--data"
        raise
    if len(info.classes) < 2:
        raise DataError(f"{path} has a single class sub-folder ({info.classes[0]}); classification "
                        "needs at least two", field="--data")
    h, w = info.typical_size()
    size = proposed_size(h, w)
    channels = 3 if info.colour else 1
    sizes = ", ".join(f"{sh}x{sw} ({n})" for (sh, sw), n in info.sizes.most_common(3))
    lines = [
        f"- Source: the folder `{path.name}`: {len(info.paths)} images in {len(info.classes)} "
        "class sub-folders (the sub-folder name is the label).",
        _class_line(info.counts),
        f"- Sizes found (in a sample of the files): {sizes}; every image is resized to "
        f"{size[0]}x{size[1]} and read as {'colour (RGB)' if channels == 3 else 'greyscale'}.",
    ]
    notes = []
    if [h, w] != size:
        notes.append(f"The images are {h}x{w}; they are reduced to {size[0]}x{size[1]} to keep the "
                     "CNN affordable on a CPU. Raise images.image_size if detail matters.")
    return {
        "data": {"source": str(path), "format": "images"},
        "images": {"image_size": size, "channels": channels, "augment": True},
        "counts": info.counts,
        "lines": lines,
        "notes": notes,
    }


def _npz(path: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from dlrun.data.standard import match
    from dlrun.kinds.image.data import _labels, as_image_array

    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = {k.lower(): k for k in archive.files}
            if "x" not in keys or "y" not in keys:
                raise DataError(f"{path.name} must hold arrays named x and y (it has: "
                                f"{', '.join(archive.files) or 'none'})", field="--data")
            x, y = archive[keys["x"]], archive[keys["y"]]
    except (OSError, ValueError) as err:
        raise DataError(f"{path} cannot be read as .npz: {err}", field="--data") from None
    x = as_image_array(x, field="--data")
    labels = _labels(np.asarray(y).reshape(-1))
    if len(labels) != len(x):
        raise DataError(f"{path.name}: x has {len(x)} images but y has {len(labels)} labels", field="--data")
    counts = {str(k): int(v) for k, v in labels.value_counts().sort_index().items()}
    if len(counts) < 2:
        raise DataError(f"{path.name}: y holds a single class", field="--data")
    n, h, w, c = x.shape
    entry = match(pd.DataFrame(x.reshape(n, -1)), labels, "classification")
    augment: Any = _digit_augment() if entry is not None and entry.key == "digits" else True
    lines = [
        f"- Source: `{path.name}`: {n} images, {h}x{w}, {c} channel(s), pixel values "
        f"{float(x.min()):g}..{float(x.max()):g} ({x.dtype}).",
        _class_line(counts),
    ]
    notes = [f"Recognised by its content as the standard dataset **{entry.title}**."] if entry else []
    ref = entry.reference_dict() if entry is not None else None
    return {
        "data": {"source": str(path), "format": "npz"},
        "description": entry.title if entry else "",
        "images": {"image_size": [h, w], "channels": 1 if c == 1 else 3, "augment": augment},
        "reference": ref,
        "counts": counts,
        "lines": lines,
        "notes": notes,
    }


def _class_line(counts: dict[str, int]) -> str:
    shown = ", ".join(f"{k}: {v}" for k, v in list(counts.items())[:10])
    more = f" (and {len(counts) - 10} more)" if len(counts) > 10 else ""
    total = sum(counts.values())
    return (f"- Label `{TARGET}`: {len(counts)} classes, {shown}{more}; majority share "
            f"{max(counts.values()) / total:.3f}.")


def _lines(facts: dict[str, Any]) -> list[str]:
    return list(facts.get("lines", []))
