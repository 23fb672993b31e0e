"""``dlrun predict`` for image models: a folder of images (flat, or per-class
sub-folders whose names are ignored) or an ``.npz`` with an array ``x``.

Images are converted and resized exactly as the training images were (the
fitted view knows their shape). Files are brought to the pixel units of the
training data (8-bit files into 0..16 for a model trained on scikit-learn's
digits, for instance); an ``.npz`` is taken to hold the training data's units.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlrun.errors import DataError
from dlrun.kinds.image.data import (
    IMAGE_SUFFIXES,
    ImageFiles,
    as_image_array,
    convert_channels,
    resize_array,
)


class NamedImages(np.ndarray):
    """Images with the file each came from (``row_names``), for the predictions file."""

    row_names: list[str] = []


def _view(bundle):
    view = bundle["pipeline"].named_steps.get("view")
    if view is None or not hasattr(view, "image_shape_"):
        raise DataError("this model was not trained on images", field="ENTRY")
    return view


def read_images_for_model(bundle, path) -> np.ndarray:
    view = _view(bundle)
    h, w, c = view.image_shape_
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist", field="--data")
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
        )
        if not files:
            raise DataError(f"{path} holds no image files", field="--data")
        x = ImageFiles([str(p) for p in files], (h, w), c)[:].astype(np.float32)
        x *= np.float32(view.input_max_ / 255.0)
        out = x.view(NamedImages)
        out.row_names = [p.relative_to(path).as_posix() for p in files]
        return out
    if path.suffix.lower() != ".npz":
        raise DataError(f"{path.name}: give a folder of images or an .npz file", field="--data")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = {k.lower(): k for k in archive.files}
            if "x" not in keys:
                raise DataError(f"{path.name} must hold an array named x", field="--data")
            x = archive[keys["x"]]
    except (OSError, ValueError) as err:
        raise DataError(f"{path} cannot be read as .npz: {err}", field="--data") from None
    x = as_image_array(x, field="--data")
    if tuple(x.shape[1:3]) != (h, w):
        x = resize_array(x, (h, w))
    if x.shape[3] != c:
        x = convert_channels(x, c)
    return x
