"""Resampling plans: which rows train and which test, fold by fold.

A plan is plain data -- a list of :class:`Fold` with index arrays -- so the
job grid, the store and the statistics read it without knowing how it was
made. Repeated (stratified) k-fold is here, the default of every kind whose
rows are exchangeable examples; a kind may bring its own plan (walk-forward).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from dlrun.catalogue import is_classification
from dlrun.errors import DataError
from dlrun.protocol import HUGE_ROWS, LARGE_ROWS, choose_protocol  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class Fold:
    id: str
    train: np.ndarray
    test: np.ndarray
    repeat: int = 0  # which repetition of the plan (k-fold: the repeat; walk-forward: the seed)
    index: int = 0  # which fold within it (k-fold: the fold; walk-forward: the origin)
    seed_offset: int = 0  # added to the seed of the models fitted on it

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.train, dtype=np.int64).tobytes())
        h.update(b"|")
        h.update(np.ascontiguousarray(self.test, dtype=np.int64).tobytes())
        return h.hexdigest()[:16]


@dataclass
class Plan:
    name: str
    folds: list[Fold]
    n_splits: int
    n_repeats: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        return {"name": self.name, "folds": self.n_splits, "repeats": self.n_repeats, "seed": self.seed}


def kfold_plan(y: np.ndarray, task: str, folds: int, repeats: int, seed: int) -> Plan:
    """Repeated stratified k-fold (classification) or repeated k-fold (regression)."""
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    n = len(y)
    notes: list[str] = []
    if n < 4:
        raise DataError(f"only {n} rows: too few to cross-validate", field="data")
    fewest = min(folds, n // 2) if n // 2 >= 2 else 2
    if fewest != folds:
        notes.append(f"folds reduced from {folds} to {fewest}: {n} rows leave fewer than two test "
                     "rows a fold")
        folds = fewest
    if is_classification(task):
        labels, counts = np.unique(y, return_counts=True)
        if len(labels) < 2:
            raise DataError("the target has a single class; nothing to learn", field="data.target")
        smallest = int(counts.min())
        if smallest >= 2 and smallest < folds:
            notes.append(
                f"folds reduced from {folds} to {smallest}: the rarest class has only {smallest} rows"
            )
            folds = smallest
        if smallest >= 2:
            splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
            name = "repeated stratified k-fold"
        else:
            rare = [str(lab) for lab, c in zip(labels, counts, strict=False) if c < 2]
            notes.append(
                f"class(es) {', '.join(rare[:5])} have a single row, so folds cannot be stratified: "
                "using plain repeated k-fold"
            )
            splitter = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
            name = "repeated k-fold"
    else:
        splitter = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
        name = "repeated k-fold"
    out = []
    X_dummy = np.zeros((n, 1))
    for i, (train, test) in enumerate(splitter.split(X_dummy, y)):
        out.append(Fold(f"r{i // folds}f{i % folds}", train, test, repeat=i // folds, index=i % folds))
    return Plan(name, out, folds, repeats, seed, notes)


def kfold_planner(spec, dataset, quick: bool) -> Plan:
    """Repeated (stratified) k-fold with the spec's folds and repeats, scaled to the data size."""
    ev = spec.evaluation
    folds, repeats, notes = choose_protocol(
        dataset.n_rows, ev.folds, ev.repeats, explicit=ev.model_fields_set, quick=quick
    )
    plan = kfold_plan(dataset.encoded_target(), spec.task, folds, repeats, ev.seed)
    plan.notes[:0] = notes
    return plan
