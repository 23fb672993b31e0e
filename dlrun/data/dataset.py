"""The in-memory dataset every stage works on, whatever its kind."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dlrun.catalogue import is_classification


@dataclass
class Dataset:
    """Inputs and target, with what the views need to know about the columns.

    ``X`` holds the inputs as the kind reads them (a DataFrame keeping the
    original column names and dtypes, or an array of pictures, ...). ``y``
    holds the original target values (class names for classification);
    :meth:`encoded_target` gives the integer codes the algorithms train on, in
    the order of ``classes``. ``numeric`` and ``categorical`` name the columns
    of each role (views read them); a kind may add roles through ``meta["roles"]``.
    """

    X: Any
    y: pd.Series
    task: str
    kind: str
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.numeric and not self.categorical and isinstance(self.X, pd.DataFrame):
            self.numeric = [c for c in self.X.columns if pd.api.types.is_numeric_dtype(self.X[c])]
            self.categorical = [c for c in self.X.columns if c not in self.numeric]

    @property
    def n_rows(self) -> int:
        return len(self.X)

    @property
    def classification(self) -> bool:
        return is_classification(self.task)

    @property
    def roles(self) -> dict[str, list[str]]:
        """Column names by role, for the views: ``{"numeric": [...], "categorical": [...]}``."""
        return {"numeric": list(self.numeric), "categorical": list(self.categorical),
                **{k: list(v) for k, v in (self.meta.get("roles") or {}).items()}}

    @property
    def classes(self) -> list[Any]:
        """Sorted class labels (classification only)."""
        if not self.classification:
            return []
        return sorted(pd.unique(self.y.dropna()).tolist(), key=_sort_key)

    def encoded_target(self) -> np.ndarray:
        """Target as the arrays the algorithms see: class codes, or floats."""
        if self.classification:
            index = {label: i for i, label in enumerate(self.classes)}
            return self.y.map(index).to_numpy(dtype=np.int64)
        return self.y.to_numpy(dtype=np.float64)

    def fingerprint(self) -> str:
        """A content hash of inputs and target: cached results are keyed on it."""
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(self.X, index=False).to_numpy().tobytes())
        digest.update(pd.util.hash_pandas_object(self.y, index=False).to_numpy().tobytes())
        digest.update(repr((list(self.X.columns), self.numeric, self.categorical, self.task)).encode())
        return digest.hexdigest()[:16]


def basic_summary(dataset: Dataset) -> dict[str, Any]:
    """The facts every kind's data summary starts from: size, target, classes or target range."""
    summary: dict[str, Any] = {
        "rows": int(dataset.n_rows),
        "features": int(math.prod(dataset.X.shape[1:])),
        "target": str(dataset.y.name),
    }
    if dataset.classification:
        counts = dataset.y.value_counts()
        summary["classes"] = {str(k): int(counts.get(k, 0)) for k in dataset.classes}
    else:
        y = dataset.y.astype(float)
        summary["target_stats"] = {"mean": float(y.mean()), "std": float(y.std()),
                                   "min": float(y.min()), "max": float(y.max())}
    return summary


def label_text(label: Any) -> str:
    """A class label as the user wrote it, for messages: ``'yes'``, ``1`` (not ``np.int64(1)``)."""
    if isinstance(label, (np.integer, np.floating, np.bool_)):
        label = label.item()
    if isinstance(label, float) and label.is_integer():
        label = int(label)
    return repr(label) if isinstance(label, str) else str(label)


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers before strings, each in natural order
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value))
    return (1, str(value))
