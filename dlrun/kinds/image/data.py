"""Image data: a folder of class sub-folders, a NumPy ``.npz``, or ``sklearn:digits``.

Every source becomes an :class:`ImageDataset` whose ``X`` holds images as
``(n, height, width, channels)`` and whose ``y`` holds class names.

* **folder** -- one sub-folder per class holding PNG/JPEG/BMP/GIF/TIFF/WebP
  files of any size and mode; each is converted to greyscale (``L``) or colour
  (``RGB``) and resized to ``images.image_size`` (bilinear, aspect ratio not
  kept). Small folders are decoded once, in batches, into one ``uint8``
  array; folders whose resized pixels exceed :data:`EAGER_MAX_BYTES` give a
  lazy :class:`ImageFiles` array that decodes files only when rows are taken
  (``X[index_array]``), so the whole folder never has to sit in memory.
* **npz** -- arrays ``x`` (``(n, h, w)``, ``(n, h, w, c)`` or ``(n, h*w)``
  for square greyscale images) and ``y`` (labels).
* **sklearn:digits** -- scikit-learn's 8x8 digits (pixel values 0..16).

Light: numpy, pandas and Pillow; Pillow only when files are read.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.data.dataset import Dataset, label_text
from dlrun.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
#: Resized pixels (bytes) above which a folder is read lazily rather than at once.
EAGER_MAX_BYTES = 512 * 1024 * 1024
#: Files decoded per batch.
BATCH = 256
#: Longest side ``dlrun new`` proposes for a folder of large images (CPU cost).
MAX_INFERRED_SIDE = 64
#: The image facts of the bundled datasets that are images.
SKLEARN_IMAGES = {"digits": {"image_size": [8, 8], "channels": 1}}


class ImageDataset(Dataset):
    """A :class:`Dataset` whose ``X`` is an image array (or a lazy :class:`ImageFiles`)."""

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        if isinstance(self.X, ImageFiles):
            digest.update(self.X.identity().encode())
        else:
            digest.update(np.ascontiguousarray(self.X).tobytes())
            digest.update(repr((self.X.shape, str(self.X.dtype))).encode())
        digest.update(pd.util.hash_pandas_object(self.y, index=False).to_numpy().tobytes())
        digest.update(repr((self.task, self.kind)).encode())
        return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- decoding


def read_image(path: str | Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """One file as ``uint8 (h, w, c)``: converted to L or RGB, resized to ``size`` (h, w)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                arr = np.asarray(img, dtype=np.float64)
                top = arr.max() or 1.0
                img = Image.fromarray((arr / top * 255).astype(np.uint8))
            elif img.mode in ("RGBA", "LA", "P", "PA"):
                img = _flatten_alpha(img)
            img = img.convert("L" if channels == 1 else "RGB")
            if img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as err:
        raise DataError(f"{path} cannot be read as an image: {err}", field="data.source") from None
    return arr.reshape(size[0], size[1], channels)


def _flatten_alpha(img):
    """Transparent pixels over white (how a viewer shows them)."""
    from PIL import Image

    rgba = img.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def read_images(paths, size: tuple[int, int], channels: int) -> np.ndarray:
    """Several files into one ``uint8 (n, h, w, c)`` array, decoded in batches of :data:`BATCH`."""
    out = np.empty((len(paths), size[0], size[1], channels), dtype=np.uint8)
    for start in range(0, len(paths), BATCH):
        for i, path in enumerate(paths[start : start + BATCH], start=start):
            out[i] = read_image(path, size, channels)
    return out


class ImageFiles:
    """An array-like of image files decoded on demand: ``X[rows]`` reads only those files.

    Supports ``len()``, ``.shape``, ``.dtype``, ``.ndim``, integer, slice, boolean
    and index-array indexing along the first axis, and ``np.asarray`` (which
    reads everything). It pickles as paths, so process pools and Dask workers
    receive the file list, not the pixels.
    """

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, paths: list[str], size: tuple[int, int], channels: int):
        self.paths = [str(p) for p in paths]
        self.size = (int(size[0]), int(size[1]))
        self.channels = int(channels)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.paths), self.size[0], self.size[1], self.channels)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return read_image(self.paths[key], self.size, self.channels)
        if isinstance(key, slice):
            rows = range(len(self.paths))[key]
        else:
            index = np.asarray(key)
            if index.dtype == bool:
                index = np.flatnonzero(index)
            rows = index.astype(np.int64).tolist()
        return read_images([self.paths[i] for i in rows], self.size, self.channels)

    def __array__(self, dtype=None, copy=None):
        arr = self[:]
        return arr if dtype is None else arr.astype(dtype)

    def iter_batches(self, batch: int = BATCH):
        for start in range(0, len(self), batch):
            yield self[start : start + batch]

    def identity(self) -> str:
        """Paths, sizes and modification times: what a content hash would change with."""
        parts = [repr((self.size, self.channels))]
        for path in self.paths:
            try:
                st = os.stat(path)
                parts.append(f"{path}|{st.st_size}|{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{path}|missing")
        return "\n".join(parts)


# --------------------------------------------------------------------------- folders


@dataclass
class FolderInfo:
    """What :func:`inspect_folder` found: files per class and the images' typical shape."""

    paths: list[str]
    labels: list[str]
    classes: list[str]
    counts: dict[str, int]
    sizes: Counter  # (h, w) -> count, over the sampled files
    colour: bool  # some sampled image is not grey

    def typical_size(self) -> tuple[int, int]:
        (h, w), _ = self.sizes.most_common(1)[0]
        return h, w


def list_folder(folder: Path) -> tuple[list[str], list[str]]:
    """Image files of ``folder/CLASS/*`` (sorted) and their class names."""
    paths, labels = [], []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for file in sorted(sub.rglob("*")):
            if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES and not file.name.startswith("."):
                paths.append(str(file))
                labels.append(sub.name)
    return paths, labels


def inspect_folder(folder: str | Path, sample: int = 200) -> FolderInfo:
    """Classes from the sub-folder names; size and colour from a sample of the files
    (headers only for the size, pixels of at most ``sample`` files for the colour)."""
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder", field="data.source")
    paths, labels = list_folder(folder)
    if not paths:
        raise DataError(
            f"{folder} holds no images in class sub-folders (expected {folder}/CLASS/IMAGE.png)",
            field="data.source",
        )
    counts = Counter(labels)
    step = max(1, len(paths) // sample)
    sizes: Counter = Counter()
    colour = False
    for path in paths[::step][:sample]:
        try:
            with Image.open(path) as img:
                sizes[(img.height, img.width)] += 1
                if not colour and img.mode not in ("1", "L", "LA", "I", "I;16", "F"):
                    rgb = np.asarray(img.convert("RGB"), dtype=np.int16)
                    colour = bool(np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 1] != rgb[..., 2]))
        except OSError as err:
            raise DataError(f"{path} cannot be read as an image: {err}", field="data.source") from None
    classes = sorted(counts)
    return FolderInfo(paths, labels, classes, {c: counts[c] for c in classes}, sizes, colour)


def proposed_size(h: int, w: int, limit: int = MAX_INFERRED_SIDE) -> list[int]:
    """The typical size, scaled down so the longer side is at most ``limit``."""
    scale = min(1.0, limit / max(h, w))
    return [max(4, int(round(h * scale))), max(4, int(round(w * scale)))]


# --------------------------------------------------------------------------- loading


def _labels(values) -> pd.Series:
    """Class names; integral ones become ints (so '2' < '10' sort as numbers)."""
    series = pd.Series(list(values), dtype=object)
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().all() and np.all(numbers == np.round(numbers)):
        return pd.Series(numbers.astype(np.int64).to_numpy(), name="label")
    return pd.Series(series.astype(str).to_numpy(dtype=object), name="label")


def source_format(source: str, fmt: str, path: Path | None) -> str:
    if source.startswith("sklearn:"):
        return "sklearn"
    if fmt != "auto":
        return fmt
    if path is not None and path.is_dir():
        return "images"
    if path is not None and path.suffix.lower() == ".npz":
        return "npz"
    return "unknown"


def load_image_dataset(spec, project_dir) -> ImageDataset:
    """The DATA_LOADERS entry for kind ``image``."""
    from dlrun.data.sources import resolve_source

    if spec.task != "classification":
        raise DataError("image projects are classification projects", field="task")
    images = spec.images
    size = tuple(images.image_size) if images and images.image_size else None
    channels = images.channels if images else None
    source = spec.data.source
    path = None if source.startswith("sklearn:") else resolve_source(source, Path(project_dir))
    fmt = source_format(source, spec.data.format, path)
    if path is not None and not path.exists():
        raise DataError(f"{path} does not exist", field="data.source",
                        hint="Give a folder of class sub-folders or an .npz file, relative to the project.")
    if fmt == "sklearn":
        X, y, meta = _load_sklearn(source)
    elif fmt == "npz":
        X, y, meta = _load_npz(path)
    elif fmt == "images":
        X, y, meta = _load_folder(path, size, channels)
    else:
        raise DataError(
            f"'{source}' is not image data: use a folder of class sub-folders, an .npz file "
            "with arrays x and y, or sklearn:digits",
            field="data.source",
        )
    if size is not None and tuple(X.shape[1:3]) != size:
        X = resize_array(X, size)
    if channels is not None and X.shape[3] != channels:
        X = convert_channels(X, channels)
    y = _labels(y)
    y.name = spec.data.target or "label"
    counts = y.value_counts()
    if len(counts) < 2:
        raise DataError("the images belong to a single class; classification needs two", field="data.source")
    warnings = meta.setdefault("warnings", [])
    for label, count in counts.items():
        if count < spec.evaluation.folds:
            warnings.append(f"class {label_text(label)} has only {count} image(s); stratified folds "
                            "need at least one per fold.")
    shape = [int(s) for s in X.shape[1:]]
    augment = images.augment if images is not None else True
    if augment is True:
        from dlrun.kinds.image.spec import AugmentSpec

        augment = AugmentSpec()
    meta.update(
        image_size=shape[:2], channels=shape[2], class_names=[str(c) for c in sorted(counts.index)],
        n_rows=len(y), lazy=isinstance(X, ImageFiles),
        # what builders may know (BuildContext.meta): the image shape and the augmentation
        context={"input_shape": shape,
                 "augment": augment.model_dump() if hasattr(augment, "model_dump") else None},
    )
    return ImageDataset(X=X, y=y, task="classification", kind="image", name=spec.name, meta=meta)


def _load_sklearn(source: str):
    from dlrun.data.standard import sklearn_name

    name = sklearn_name(source)
    if name not in SKLEARN_IMAGES:
        raise DataError(f"'{source}' is not an image dataset; for images use "
                        + ", ".join(f"sklearn:{n}" for n in SKLEARN_IMAGES), field="data.source")
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")()
    X = np.asarray(bunch.images, dtype=np.float32)[..., None]
    return X, bunch.target, {"source": f"scikit-learn load_{name}()", "format": "sklearn",
                             "pixel_max": 16.0}


def _load_npz(path: Path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = {k.lower(): k for k in archive.files}
            if "x" not in keys or "y" not in keys:
                raise DataError(f"{path.name} must hold arrays named x and y (it has: "
                                f"{', '.join(archive.files) or 'none'})", field="data.source")
            x, y = archive[keys["x"]], archive[keys["y"]]
    except (OSError, ValueError) as err:
        raise DataError(f"{path} cannot be read as .npz: {err}", field="data.source") from None
    x = as_image_array(x, field="data.source")
    y = np.asarray(y).reshape(-1)
    if len(y) != len(x):
        raise DataError(f"{path.name}: x has {len(x)} images but y has {len(y)} labels", field="data.source")
    return x, y, {"source": str(path), "format": "npz"}


def as_image_array(x: np.ndarray, field: str) -> np.ndarray:
    """``(n, h, w)``, ``(n, h, w, c)`` or ``(n, h*w)`` (square) as ``(n, h, w, c)``."""
    x = np.asarray(x)
    if x.dtype.kind not in "uif" or x.dtype == np.float16:
        x = x.astype(np.float32)
    if x.ndim == 2:
        side = int(math.isqrt(x.shape[1]))
        if side * side != x.shape[1]:
            raise DataError(f"x has shape {x.shape}: flat rows must be square images", field=field)
        x = x.reshape(len(x), side, side, 1)
    elif x.ndim == 3:
        x = x[..., None]
    elif x.ndim != 4:
        raise DataError(f"x has shape {x.shape}; expected (n, h, w) or (n, h, w, channels)", field=field)
    if x.shape[3] not in (1, 3, 4):
        if x.shape[1] in (1, 3):  # channels first
            x = np.moveaxis(x, 1, 3)
        else:
            raise DataError(f"x has shape {x.shape}: 1 or 3 channels expected", field=field)
    if x.shape[3] == 4:
        x = x[..., :3]
    return x


def _load_folder(path: Path, size, channels):
    info = inspect_folder(path)
    if size is None:
        size = tuple(proposed_size(*info.typical_size()))
    if channels is None:
        channels = 3 if info.colour else 1
    meta = {"source": str(path), "format": "images", "files": len(info.paths), "pixel_max": 255.0}
    n_bytes = len(info.paths) * size[0] * size[1] * channels
    lazy = ImageFiles(info.paths, size, channels)
    if n_bytes > EAGER_MAX_BYTES:
        return lazy, info.labels, meta
    return lazy[:], info.labels, meta


def resize_array(X, size: tuple[int, int]):
    """Images resized to ``size`` (h, w) with Pillow, one by one."""
    if isinstance(X, ImageFiles):
        return ImageFiles(X.paths, size, X.channels)
    from PIL import Image

    out = np.empty((len(X), size[0], size[1], X.shape[3]), dtype=np.float32)
    for i, img in enumerate(X):
        for c in range(img.shape[2]):
            plane = Image.fromarray(img[..., c].astype(np.float32), mode="F")
            out[i, ..., c] = np.asarray(plane.resize((size[1], size[0]), Image.Resampling.BILINEAR))
    if X.dtype == np.uint8:
        return np.clip(np.round(out), 0, 255).astype(np.uint8)
    return out.astype(X.dtype if X.dtype.kind == "f" else np.float32)


def convert_channels(X, channels: int):
    if isinstance(X, ImageFiles):
        return ImageFiles(X.paths, X.size, channels)
    if channels == 1:
        grey = X[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        out = grey[..., None]
        return np.clip(np.round(out), 0, 255).astype(np.uint8) if X.dtype == np.uint8 else out
    return np.repeat(X, 3, axis=3)


def describe(meta: dict[str, Any]) -> str:
    h, w = meta["image_size"]
    colour = "greyscale" if meta["channels"] == 1 else "colour"
    return f"{meta['n_rows']} images, {h}x{w} {colour}, {len(meta['class_names'])} classes"
