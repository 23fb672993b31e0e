"""The in-memory dataset every stage works on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Dataset:
    """Features and target, with what the views need to know about the columns.

    ``X`` keeps the original column names and dtypes (numeric columns as floats
    with NaN for missing values, categoricals as pandas ``object``/``category``
    strings). ``y`` holds the original target values (class names for
    classification); :meth:`encoded_target` gives the integer codes the
    algorithms train on, in the order of ``classes``.
    """

    X: pd.DataFrame
    y: pd.Series
    task: str
    kind: str = "tabular"
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.numeric and not self.categorical and self.kind == "tabular":
            self.numeric = [c for c in self.X.columns if pd.api.types.is_numeric_dtype(self.X[c])]
            self.categorical = [c for c in self.X.columns if c not in self.numeric]

    @property
    def n_rows(self) -> int:
        return len(self.X)

    @property
    def classes(self) -> list[Any]:
        """Sorted class labels (classification only)."""
        if self.task != "classification":
            return []
        return sorted(pd.unique(self.y.dropna()).tolist(), key=_sort_key)

    def encoded_target(self) -> np.ndarray:
        """Target as the arrays the algorithms see: class codes, or floats."""
        if self.task == "classification":
            index = {label: i for i, label in enumerate(self.classes)}
            return self.y.map(index).to_numpy(dtype=np.int64)
        return self.y.to_numpy(dtype=np.float64)

    def fingerprint(self) -> str:
        """A content hash of features and target: cached results are keyed on it."""
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(self.X, index=False).to_numpy().tobytes())
        digest.update(pd.util.hash_pandas_object(self.y, index=False).to_numpy().tobytes())
        digest.update(repr((list(self.X.columns), self.numeric, self.categorical, self.task)).encode())
        return digest.hexdigest()[:16]


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers before strings, each in natural order
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value))
    return (1, str(value))
