"""The catalogue of standard datasets (``configs/datasets.yaml``) and recognising them.

A dataset is recognised by its *content*, never by its file name: the number of
rows and columns, the target's class counts (classification) or mean and
standard deviation (regression), and an order-free checksum of the feature
values. So a Pima file with a header, another delimiter or shuffled rows is
still Pima, and its project carries the published naive and good scores.

Light on purpose: :func:`match` (pandas objects) imports pandas and numpy
when called; :func:`match_stats` (value counts from
:func:`dlrun.data.sniff.sniff_csv`) needs only the standard library, so
``dlrun new`` on a CSV never imports pandas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dlrun.paths import configs_dir

CATALOGUE_FILE = "datasets.yaml"
#: scikit-learn's bundled datasets that ``sklearn:NAME`` sources may name.
SKLEARN_LOADERS = ("iris", "wine", "breast_cancer", "digits", "diabetes")
_TOLERANCE = 1e-3  # relative, for checksums and target moments

if TYPE_CHECKING:
    import pandas as pd

    from dlrun.spec import ReferenceSpec


@dataclass(frozen=True)
class StandardDataset:
    """One catalogue entry."""

    key: str
    title: str
    task: str
    metric: str
    target: int | str = -1
    columns: list[str] | None = None
    sklearn: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None

    def reference_dict(self) -> dict[str, Any] | None:
        """The spec's ``reference`` block as given (plain values, no pydantic)."""
        if not self.reference:
            return None
        ref = {"dataset": self.title, **self.reference}
        ref.setdefault("metric", self.metric)
        return ref

    def reference_spec(self) -> ReferenceSpec | None:
        from dlrun.spec import ReferenceSpec

        ref = self.reference_dict()
        return ReferenceSpec(**ref) if ref is not None else None


@lru_cache(maxsize=1)
def catalogue() -> dict[str, StandardDataset]:
    """All catalogue entries by key (read once)."""
    import yaml

    path = configs_dir() / CATALOGUE_FILE
    if not path.is_file():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 50x faster
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    entries = {}
    for key, item in (raw.get("datasets") or {}).items():
        entries[key] = StandardDataset(
            key=key,
            title=item.get("title", key),
            task=item["task"],
            metric=item["metric"],
            target=item.get("target", -1),
            columns=item.get("columns"),
            sklearn=item.get("sklearn"),
            signature=dict(item.get("signature") or {}),
            reference=item.get("reference"),
        )
    return entries


def _close(value: float, expected: float) -> bool:
    return abs(value - expected) <= _TOLERANCE * max(1.0, abs(expected))


def checksum(X: pd.DataFrame) -> float:
    """Sum of every numeric value of the features (strings that read as numbers included)."""
    import numpy as np
    import pandas as pd

    total = 0.0
    for column in X.columns:
        values = pd.to_numeric(X[column], errors="coerce").to_numpy(dtype="float64")
        total += float(np.nansum(values))
    return total


def _matches(entry: StandardDataset, counts: list[int], moments: tuple[float, float] | None,
             total: float) -> bool:
    sig = entry.signature
    if "classes" in sig and sorted(sig["classes"], reverse=True) != counts:
        return False
    if "target_mean" in sig:
        if moments is None or not _close(moments[0], sig["target_mean"]):
            return False
        if "target_std" in sig and not _close(moments[1], sig["target_std"]):
            return False
    if "checksum" in sig and not _close(total, sig["checksum"]):
        return False
    return "classes" in sig or "target_mean" in sig  # a shape alone is not enough


def _of(entry, task) -> bool:
    """Whether the entry is of ``task`` (a name or several; None: any)."""
    return task is None or entry.task in ((task,) if isinstance(task, str) else tuple(task))


def match(X: pd.DataFrame, y: pd.Series, task=None) -> StandardDataset | None:
    """The catalogue entry whose content matches ``X``/``y`` (of ``task`` -- a task or
    several -- when given)."""
    candidates = [
        e for e in catalogue().values()
        if _of(e, task) and e.signature.get("shape") == [len(X), X.shape[1] + 1]
    ]
    if not candidates:
        return None
    import pandas as pd

    y_present = y.dropna()
    counts = sorted(y_present.value_counts().tolist(), reverse=True)
    numbers = pd.to_numeric(y_present, errors="coerce")
    moments = None
    if len(numbers) and numbers.notna().all():
        std = float(numbers.std()) if len(numbers) > 1 else 0.0
        moments = (float(numbers.mean()), std if math.isfinite(std) else 0.0)
    total = checksum(X)
    for entry in candidates:
        if _matches(entry, counts, moments, total):
            return entry
    return None


def numeric_total(counts: Mapping[str, int]) -> float:
    """:func:`checksum` of one column given as value counts (stripped strings, no missing)."""
    from dlrun.data.sniff import is_number

    return math.fsum(float(v) * n for v, n in counts.items() if is_number(v))


def target_summary(counts: Mapping[str, int]) -> tuple[list[int], tuple[float, float] | None]:
    """Sorted class counts and, for a numeric target, (mean, standard deviation with ddof=1).

    ``counts`` are the target's value counts (stripped strings, missing values
    left out); numbers that are equal as floats (``1``, ``1.0``) count as one value.
    """
    from dlrun.data.sniff import is_number

    if counts and all(is_number(v) for v in counts):
        merged: dict[float, int] = {}
        for value, n in counts.items():
            x = float(value)
            merged[x] = merged.get(x, 0) + n
        size = sum(merged.values())
        mean = math.fsum(x * n for x, n in merged.items()) / size
        var = (math.fsum(n * (x - mean) ** 2 for x, n in merged.items()) / (size - 1)
               if size > 1 else 0.0)
        return sorted(merged.values(), reverse=True), (mean, math.sqrt(var))
    return sorted(counts.values(), reverse=True), None


def match_stats(shape: tuple[int, int], target_counts: Mapping[str, int], total: float,
                task=None) -> StandardDataset | None:
    """:func:`match` without pandas: from the table's ``shape`` (rows, columns with the
    target), the target's value counts (see :func:`target_summary`) and the sum of the
    numeric feature values (see :func:`numeric_total`)."""
    candidates = [
        e for e in catalogue().values()
        if _of(e, task) and e.signature.get("shape") == list(shape)
    ]
    if not candidates:
        return None
    counts, moments = target_summary(target_counts)
    for entry in candidates:
        if _matches(entry, counts, moments, total):
            return entry
    return None


def recognize(X: pd.DataFrame, y: pd.Series, task=None) -> ReferenceSpec | None:
    """The published scores for the data when it is a catalogued standard dataset."""
    entry = match(X, y, task)
    return entry.reference_spec() if entry else None


def sklearn_name(source: str) -> str | None:
    """``'sklearn:load_iris'`` / ``'sklearn:iris'`` -> ``'iris'``; None for other sources."""
    if not source.startswith("sklearn:"):
        return None
    name = source.split(":", 1)[1].strip()
    return name[len("load_"):] if name.startswith("load_") else name


def match_sklearn(name: str) -> StandardDataset | None:
    """The entry for ``sklearn:NAME`` (``iris``, ``load_iris`` ...), if catalogued."""
    name = sklearn_name(name if name.startswith("sklearn:") else f"sklearn:{name}")
    for entry in catalogue().values():
        if entry.sklearn == name:
            return entry
    return None


def recognize_sklearn(name: str) -> ReferenceSpec | None:
    entry = match_sklearn(name)
    return entry.reference_spec() if entry else None
