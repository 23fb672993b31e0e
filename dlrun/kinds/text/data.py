"""Documents: a folder of class sub-folders of ``.txt`` files, or a CSV/Parquet text column.

Every source becomes a :class:`TextDataset` whose ``X`` is a 1-D array of documents
(``str``; an object array, or a lazy :class:`TextFiles`) and whose ``y`` holds the
class names.

* **folder** -- ``FOLDER/CLASS/*.txt`` (sub-folders of a class folder included);
  each file is decoded as UTF-8 (a byte-order mark is dropped), else as
  Windows-1252, else as Latin-1; a file that is not text (NUL bytes, mostly control
  characters: binary data, UTF-16) stops the load with an error naming it. Folders
  whose files pass :data:`EAGER_MAX_BYTES` are read lazily: ``X[rows]`` is a
  :class:`TextFiles` of those files, decoded one at a time as a view iterates over
  them, so the whole folder never sits in memory.
* **CSV / Parquet** -- read like any table (:func:`dlrun.data.sources.read_frame`);
  ``data.target`` is the label and ``text.column`` the documents (default: the string
  column with the longest values, :func:`longest_text_column`). Missing documents are
  empty; rows without a label are left out (with a warning).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlrun.data.dataset import Dataset, basic_summary, label_text
from dlrun.errors import DataError
from dlrun.kinds.text.documents import list_folder, read_document, word_count

NAME = "text"
#: Bytes of text files above which a folder is read lazily rather than at once.
EAGER_MAX_BYTES = 256 * 1024 * 1024


# --------------------------------------------------------------------------- arrays of documents


class Documents(np.ndarray):
    """Documents with the file each came from (``row_names``), for the predictions file."""

    row_names: list[str] = []


def as_documents(values) -> np.ndarray:
    """A 1-D object array of ``str`` (missing values become empty documents)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        missing = value is None or (not isinstance(value, str) and bool(pd.isna(value)))
        out[i] = "" if missing else str(value)
    return out


class TextFiles:
    """An array-like of text files decoded on demand: ``X[rows]`` is another
    :class:`TextFiles` of those files; iterating decodes one file at a time.

    Supports ``len()``, ``.shape``, integer, slice, boolean and index-array indexing,
    iteration and ``np.asarray`` (which reads every file). It pickles as paths, so
    process pools and Dask workers receive the file list, not the documents.
    """

    dtype = np.dtype(object)
    ndim = 1

    def __init__(self, paths: list[str]):
        self.paths = [str(p) for p in paths]

    @property
    def shape(self) -> tuple[int]:
        return (len(self.paths),)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return read_document(self.paths[key])
        if isinstance(key, slice):
            return TextFiles(self.paths[key])
        index = np.asarray(key)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return TextFiles([self.paths[i] for i in index.astype(np.int64).tolist()])

    def __iter__(self) -> Iterator[str]:
        for path in self.paths:
            yield read_document(path)

    def __array__(self, dtype=None, copy=None):
        return as_documents(list(self))

    def identity(self) -> str:
        """Paths, sizes and modification times: what a content hash would change with."""
        parts = []
        for path in self.paths:
            try:
                st = os.stat(path)
                parts.append(f"{path}|{st.st_size}|{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{path}|missing")
        return "\n".join(parts)


class TextDataset(Dataset):
    """A :class:`Dataset` of documents; its fingerprint covers the views' settings too
    (vocabulary, n-grams, sequence length), so changing them recomputes the results."""

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        if isinstance(self.X, TextFiles):
            digest.update(self.X.identity().encode())
        else:
            hashes = pd.util.hash_pandas_object(pd.Series(self.X, dtype=object), index=False)
            digest.update(hashes.to_numpy().tobytes())
        digest.update(pd.util.hash_pandas_object(self.y, index=False).to_numpy().tobytes())
        context = self.meta.get("context") or {}
        digest.update(repr((self.task, self.kind, sorted(context.get("documents", {}).items()),
                            context.get("sequence_length"), context.get("vocabulary_size"))).encode())
        return digest.hexdigest()[:16]


def iter_documents(X) -> Iterator[str]:
    yield from (X if isinstance(X, TextFiles) else (str(d) for d in X))


# --------------------------------------------------------------------------- folders


def _labels(values) -> pd.Series:
    """Class names; integral ones become ints (so '2' < '10' sort as numbers)."""
    series = pd.Series(list(values), dtype=object)
    numbers = pd.to_numeric(series, errors="coerce")
    if len(series) and numbers.notna().all() and np.all(numbers == np.round(numbers)):
        return pd.Series(numbers.astype(np.int64).to_numpy(), name="label")
    return pd.Series(series.astype(str).to_numpy(dtype=object), name="label")


def _load_folder(path: Path):
    paths, labels = list_folder(path)
    if not paths:
        raise DataError(f"{path} holds no .txt files in class sub-folders (expected "
                        f"{path}/CLASS/DOCUMENT.txt)", field="data.source")
    size = sum(os.path.getsize(p) for p in paths)
    files = [Path(p).relative_to(path).as_posix() for p in paths]
    if size > EAGER_MAX_BYTES:  # one pass for the lengths; the documents stay on disk
        X = TextFiles(paths)
        lengths = np.fromiter((word_count(d) for d in X), dtype=np.int64, count=len(paths))
    else:
        X = as_documents(list(TextFiles(paths)))
        lengths = np.fromiter((word_count(d) for d in X), dtype=np.int64, count=len(paths))
    meta = {"source": str(path), "format": "documents", "files": files, "bytes": int(size)}
    return X, labels, lengths, meta


def longest_text_column(frame: pd.DataFrame, exclude=()) -> str | None:
    """The string column whose values are longest on average (None when there is none)."""
    best, best_length = None, -1.0
    for column in frame.columns:
        if column in exclude or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].dropna().astype(str)
        length = float(values.str.len().mean()) if len(values) else 0.0
        if length > best_length:
            best, best_length = column, length
    return best


def _load_table(spec, project_dir: Path):
    from dlrun.data.sources import read_frame

    frame, meta = read_frame(spec.data, project_dir)
    target = spec.data.target
    if target not in frame.columns:
        raise DataError(f"no column '{target}' in {Path(meta.get('source', spec.data.source)).name}; "
                        f"the columns are: {', '.join(map(str, frame.columns))}", field="data.target")
    given = spec.text.column if spec.text is not None else None
    if given is not None:
        if given not in frame.columns:
            raise DataError(f"no column '{given}'; the columns are: {', '.join(map(str, frame.columns))}",
                            field="text.column")
        if given == target:
            raise DataError(f"'{given}' is the label (data.target); name the column of the "
                            "documents", field="text.column")
        column = given
    else:
        column = longest_text_column(frame, exclude={target, *spec.data.drop})
        if column is None:
            raise DataError("the file has no column of text besides the label", field="text.column",
                            hint="Name the column of the documents in text.column.")
    warnings = meta.setdefault("warnings", [])
    labelled = frame[target].notna()
    if not labelled.all():
        warnings.append(f"{int((~labelled).sum())} row(s) without a label ('{target}') are left out")
        frame = frame.loc[labelled].reset_index(drop=True)
    if frame.empty:
        raise DataError(f"no row has a label in '{target}'", field="data.target")
    X = as_documents(frame[column].tolist())
    lengths = np.fromiter((word_count(d) for d in X), dtype=np.int64, count=len(X))
    meta["column"] = str(column)
    return X, frame[target].tolist(), lengths, meta


def load_text_dataset(spec, project_dir) -> TextDataset:
    """The ``Kind.load`` of kind ``text``."""
    from dlrun.data.sources import resolve_source

    if spec.task != "classification":
        raise DataError("text projects are classification projects", field="task")
    source = spec.data.source
    if source.startswith("sklearn:"):
        raise DataError("text projects read a folder of .txt files or a CSV/Parquet file, not a "
                        "scikit-learn dataset", field="data.source")
    path = resolve_source(source, Path(project_dir))
    if not path.exists():
        raise DataError(f"{path} does not exist", field="data.source",
                        hint="Give a folder of class sub-folders of .txt files, or a CSV/Parquet file, "
                             "relative to the project.")
    if path.is_dir():
        X, labels, lengths, meta = _load_folder(path)
    else:
        if spec.data.format == "documents":
            raise DataError(f"{path.name} is a file; format 'documents' reads a folder of class "
                            "sub-folders", field="data.format")
        X, labels, lengths, meta = _load_table(spec, Path(project_dir))
    y = _labels(labels)
    y.name = spec.data.target or "label"
    counts = y.value_counts()
    if len(counts) < 2:
        raise DataError("the documents belong to a single class; classification needs two",
                        field="data.source" if path.is_dir() else "data.target")
    warnings = meta.setdefault("warnings", [])
    for label, count in counts.items():
        if count < spec.evaluation.folds:
            warnings.append(f"class {label_text(label)} has only {count} document(s); stratified "
                            "folds need at least one per fold.")
    settings = view_settings(spec.text if spec.text is not None else spec_defaults())
    meta.update(
        lengths=lengths, class_names=[str(c) for c in sorted(counts.index, key=str)],
        n_rows=len(y), lazy=isinstance(X, TextFiles),
        context=build_meta(settings),
    )
    return TextDataset(X=X, y=y, task="classification", kind=NAME, name=spec.name, meta=meta)


# --------------------------------------------------------------------------- settings


def spec_defaults():
    from dlrun.kinds.text.spec import TextSpec

    return TextSpec()


def view_settings(block) -> dict[str, Any]:
    """The views' settings from the ``text:`` block (plain values)."""
    return {
        "ngrams": [int(v) for v in block.ngrams],
        "char_ngrams": [int(v) for v in block.char_ngrams],
        "vocabulary": block.vocabulary,
        "char_vocabulary": block.char_vocabulary,
        "min_df": int(block.min_df),
        "lowercase": bool(block.lowercase),
        "sequence_length": int(block.sequence_length),
        "sequence_vocabulary": int(block.sequence_vocabulary),
        "column": block.column,
    }


def build_meta(settings: dict[str, Any]) -> dict[str, Any]:
    """What builders may know (``BuildContext.meta``): the views' settings, and for the
    embedding nets the token ids' range and the sequence length."""
    from dlrun.kinds.text.vectorizers import RESERVED_IDS

    return {"documents": dict(settings),
            "sequence_length": settings["sequence_length"],
            # ids 0 (padding) and 1 (out of vocabulary), then the words
            "vocabulary_size": settings["sequence_vocabulary"] + RESERVED_IDS}


# --------------------------------------------------------------------------- summary


def length_stats(lengths) -> dict[str, Any]:
    lengths = np.asarray(lengths, dtype=np.int64)
    if not len(lengths):
        return {}
    return {"min": int(lengths.min()), "median": int(np.median(lengths)),
            "mean": round(float(lengths.mean()), 1), "p90": int(np.percentile(lengths, 90)),
            "max": int(lengths.max())}


def text_summary(dataset) -> dict[str, Any]:
    summary = basic_summary(dataset)
    summary.pop("features", None)
    meta = dataset.meta
    lengths = meta.get("lengths")
    if lengths is None:
        lengths = [word_count(d) for d in iter_documents(dataset.X)]
    summary.update(documents=int(dataset.n_rows), words=length_stats(lengths),
                   source_format=meta.get("format", ""))
    if meta.get("column"):
        summary["column"] = meta["column"]
    return summary


# --------------------------------------------------------------------------- example

_WORDS = {
    "praise": ["great", "wonderful", "loved", "brilliant", "superb", "excellent", "delight"],
    "complaint": ["awful", "boring", "hated", "terrible", "dull", "waste", "broken"],
    "plain": ["arrived", "tuesday", "box", "blue", "meeting", "page", "station"],
}
_FILLER = ["the", "a", "film", "it", "was", "and", "this", "story", "really", "quite", "of", "very"]


def example_dataset(rows: int = 60, seed: int = 0) -> TextDataset:
    """Tiny documents of three classes: each leans on its own words among shared filler."""
    rng = np.random.default_rng(seed)
    classes = list(_WORDS)
    labels, docs = [], []
    for i in range(rows):
        label = classes[i % 3]
        words = list(rng.choice(_FILLER, size=int(rng.integers(4, 12))))
        words += list(rng.choice(_WORDS[label], size=int(rng.integers(2, 4))))
        if i % 7 == 0:  # a word of another class now and then
            words.append(str(rng.choice(_WORDS[classes[(i + 1) % 3]])))
        rng.shuffle(words)
        docs.append(" ".join(words).capitalize() + ".")
        labels.append(label)
    X = as_documents(docs)
    settings = view_settings(spec_defaults().model_copy(update={"sequence_length": 16,
                                                                "sequence_vocabulary": 200}))
    meta = {"lengths": np.array([word_count(d) for d in docs]), "format": "example",
            "class_names": sorted(classes), "context": build_meta(settings)}
    return TextDataset(X, pd.Series(np.array(labels, dtype=object), name="label"), "classification",
                       NAME, meta=meta)
