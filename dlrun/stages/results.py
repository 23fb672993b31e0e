"""What an evaluation left in the project: the leaderboard, the candidate behind a row, and
each candidate's stored out-of-fold predictions (what ``dlrun predictions`` writes and
the report's diagnostics read, instead of refitting anything)."""

from __future__ import annotations

from typing import Any

from dlrun.catalogue import is_classification
from dlrun.errors import ArgumentError, BadInput
from dlrun.evaluation.candidates import Candidate
from dlrun.io import read_json
from dlrun.stages.base import STATE_DIR, RunContext
from dlrun.stages.evaluate import LEADERBOARD_FILE, RESULTS_FILE


def load_leaderboard(context: RunContext) -> dict[str, Any] | None:
    for name in (LEADERBOARD_FILE, "leaderboard-last.json"):
        path = context.project_dir / STATE_DIR / name
        if path.is_file():
            return read_json(path)
    return None


def candidate_for(row: dict[str, Any], context: RunContext) -> Candidate:
    """The candidate behind a leaderboard row (tuned rows carry their parameters)."""
    for cand in context.artifacts.get("extra_candidates", []):
        if cand.name == row["algorithm"] and cand.view == row["view"]:
            return cand
    algorithm = row["algorithm"].split("+", 1)[0]
    params = dict(context.spec.params.get(algorithm, {}))
    params.update(row.get("params") or {})
    return Candidate(algorithm, row["view"], params, label=row["algorithm"])


def find_row(board: dict[str, Any], wanted: str | None) -> dict[str, Any]:
    """The leaderboard row ``ALGO/VIEW`` (default: the best)."""
    rows = board.get("rows") or []
    if not rows:
        raise BadInput("the leaderboard has no complete row; run `dlrun evaluate` first", field="PROJECT")
    if not wanted:
        return rows[0]
    algorithm, _, view = wanted.partition("/")
    found = [r for r in rows if r["algorithm"] == algorithm and (not view or r["view"] == view)]
    if not found:
        shown = ", ".join(f"{r['algorithm']}/{r['view']}" for r in rows[:12])
        raise ArgumentError(f"no leaderboard row '{wanted}'; rows: {shown}"
                            + (" ..." if len(rows) > 12 else ""), field="--candidate")
    return found[0]


def stored_folds(context: RunContext, row: dict[str, Any], board: dict[str, Any]) -> list:
    """``[(Fold, store key)]`` of a leaderboard row's folds, in plan order: the jobs of its
    candidate, or for an ensemble row the folds the evaluation stored for it."""
    from dlrun.evaluation.ensembles import fold_keys, is_ensemble_row
    from dlrun.evaluation.runner import build_context, make_jobs
    from dlrun.stages.base import get_stage

    options = board.get("options") or {}
    context.options.setdefault("quick", bool(options.get("quick")))
    prepared = context.artifacts.get("prepare") or get_stage("prepare").run(context)
    context.artifacts["prepare"] = prepared
    if is_ensemble_row(row):
        return fold_keys(row, prepared["plan"])
    dataset, spec = context.dataset, context.spec
    ctx = build_context(dataset, spec.metric, spec.evaluation.seed)
    jobs = make_jobs([candidate_for(row, context)], prepared["plan"], dataset, ctx,
                     prepared["slow_max_rows"])
    return [(job.fold, job.key) for job in jobs]


def out_of_fold(context: RunContext, row: dict[str, Any], board: dict[str, Any]):
    """The stored out-of-fold predictions of a leaderboard row, fold by fold:
    a list of ``(Fold, Prediction)`` in plan order. Nothing is refitted: a fold whose
    predictions are not stored (an older store) is an error naming the command to run."""
    from dlrun.evaluation.store import ResultStore

    folds = stored_folds(context, row, board)
    path = context.project_dir / STATE_DIR / RESULTS_FILE
    if not path.is_file():
        raise BadInput("this project has no stored results; run `dlrun evaluate` first", field="PROJECT")
    with ResultStore(path) as store:
        stored = store.predictions([key for _, key in folds])
    missing = [fold.id for fold, key in folds if key not in stored]
    if missing:
        raise BadInput(
            f"{row['algorithm']}/{row['view']} has no stored predictions for fold(s) "
            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} (the evaluation differs "
            "from the current spec, or came from an older dlrun)",
            field="PROJECT", hint=f"Run `dlrun evaluate {context.project_dir}` to compute them.")
    return [(fold, stored[key]) for fold, key in folds]


def predictions_frame(context: RunContext, row: dict[str, Any], board: dict[str, Any]):
    """``row, repeat, fold, y_true, y_pred`` (labels as the data has them) and, for
    classifiers, one probability column ``p_<class>`` per class."""
    import numpy as np
    import pandas as pd

    dataset = context.dataset
    classes = np.asarray(dataset.classes, dtype=object)
    y_true = dataset.y.to_numpy()
    frames = []
    for fold, prediction in out_of_fold(context, row, board):
        test = np.asarray(prediction.test, dtype=np.int64)
        columns: dict[str, Any] = {"row": test, "repeat": fold.repeat, "fold": fold.index,
                                   "y_true": y_true[test]}
        if is_classification(dataset.task):
            columns["y_pred"] = classes[np.asarray(prediction.y_pred, dtype=np.int64)]
            if prediction.proba is not None:
                for i, label in enumerate(classes):
                    columns[f"p_{label}"] = prediction.proba[:, i]
        else:
            columns["y_pred"] = np.asarray(prediction.y_pred, dtype=float)
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)
