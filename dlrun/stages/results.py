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

#: Where an evaluation that is not complete (--quick, --only, interrupted, out of time) is kept.
LAST_FILE = "leaderboard-last.json"


def load_leaderboard(context: RunContext) -> dict[str, Any] | None:
    for name in (LEADERBOARD_FILE, LAST_FILE):
        path = context.project_dir / STATE_DIR / name
        if path.is_file():
            return read_json(path)
    return None


def evaluate_command(context: RunContext) -> str:
    import shlex

    return f"dlrun evaluate {shlex.quote(str(context.project_dir))}"


def stored_evaluation(context: RunContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored evaluation a report stands on, and which it is (``file``, ``created``,
    ``checked``): the complete one (``leaderboard.json``) if it matches project.yaml, else the
    last partial one (``--quick``, ``--only``...) if that matches. Refuses (BadInput naming
    ``dlrun evaluate``) when the project was never evaluated or neither matches the spec:
    the report never evaluates anything itself, nor reports on another spec's results."""
    found = []
    for name in (LEADERBOARD_FILE, LAST_FILE):
        path = context.project_dir / STATE_DIR / name
        if path.is_file():
            found.append((name, read_json(path)))
    command = evaluate_command(context)
    if not found:
        raise BadInput("this project has not been evaluated: there is no stored evaluation to report "
                       "(the report never fits the candidates itself)", field="PROJECT",
                       hint=f"Run `{command}` first (or `dlrun run`).")
    refused = []
    for name, board in found:
        problems, checked = evaluation_problems(context, board)
        if not problems:
            return board, {"file": f"{STATE_DIR}/{name}", "created": board.get("created"), "checked": checked}
        refused.append(f"{STATE_DIR}/{name} (made {board.get('created') or 'at an unknown time'}): "
                       + "; ".join(problems))
    raise BadInput("the stored evaluation does not match project.yaml, so a report would describe "
                   "other results than the spec's -- " + " -- and ".join(refused), field="PROJECT",
                   hint=f"Run `{command}` to evaluate the project as it is now (every stored fit "
                        "that still matches is reused), then report again.")


def _plain(row: dict[str, Any]) -> bool:
    """A row of one algorithm on one view (not an ensemble, not re-scored after tuning)."""
    from dlrun.evaluation.ensembles import is_ensemble_row
    from dlrun.stages.tune import TUNED

    return not is_ensemble_row(row) and row.get("role") != TUNED


def evaluation_problems(context: RunContext, board: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Why ``board`` does not describe the project as project.yaml now states it (none when it
    does), and what was checked: task and metric, the data (its fingerprint), the protocol,
    the candidates (algorithms x views, as ``--only`` narrowed them) and the stored fits of
    its best row (their keys hold the parameters, the seed and the metric)."""
    from dlrun.catalogue import KINDS, equivalent_views, views_for
    from dlrun.stages.prepare import selected_algorithms

    spec, dataset = context.spec, context.dataset
    problems: list[str] = []
    rows = [r for r in board.get("rows") or [] if isinstance(r, dict)]
    if not rows:
        problems.append("it ranked no complete row")
    if board.get("task") and board["task"] != spec.task:
        problems.append(f"its task is {board['task']}, project.yaml's {spec.task}")
    if board.get("metric") != spec.metric:
        problems.append(f"it ranks by {board.get('metric')}, project.yaml by {spec.metric}")
    fingerprint = board.get("data_fingerprint")
    if not fingerprint:
        problems.append("it records no fingerprint of its data (an older dlrun made it)")
    elif fingerprint != dataset.fingerprint():
        problems.append("the data changed since (its content fingerprint differs)")
    options = board.get("options") or {}
    plan = KINDS.get(dataset.kind).plan(spec, dataset, bool(options.get("quick")))
    expected, stored = plan.describe(), board.get("protocol") or {}
    differ = [k for k in expected if stored.get(k) != expected[k]]
    if differ:
        problems.append("its protocol differs (" + ", ".join(f"{k.replace('_', ' ')} {stored.get(k)} "
                                                              f"where project.yaml gives {expected[k]}"
                                                              for k in differ) + ")")
    views = list(spec.views or views_for(dataset.kind))
    only = [str(a) for a in options.get("only") or []]
    try:
        algorithms = selected_algorithms(spec, views, only or None)
    except BadInput:
        problems.append(f"it evaluated --only {','.join(only)}, which project.yaml no longer lists")
        algorithms = []
    groups = [(a, group) for a in algorithms for group in equivalent_views(a, views)]
    listed = {(a, v) for a, group in groups for v in group}
    covered: set[tuple[str, str]] = set()
    for row in filter(_plain, rows):
        names = [row.get("view"), *(row.get("views") or []), *(row.get("tied_views") or [])]
        covered |= {(str(row.get("algorithm")), str(v)) for v in names}
    for other in [*(board.get("raced") or []), *(board.get("failures") or [])]:
        if isinstance(other, dict):
            covered.add((str(other.get("algorithm")), str(other.get("view"))))
    extra = sorted({f"{r.get('algorithm')}/{r.get('view')}" for r in filter(_plain, rows)
                    if (str(r.get("algorithm")), str(r.get("view"))) not in listed})
    if extra:
        problems.append(f"it ranks {', '.join(extra[:6])}{' ...' if len(extra) > 6 else ''}, which "
                        "project.yaml no longer lists")
    if not (board.get("interrupted") or board.get("out_of_time")):  # those are flagged, not refused
        missing = [f"{a}/{group[0]}" for a, group in groups if not any((a, v) in covered for v in group)]
        if missing:
            problems.append(f"project.yaml lists {', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}, "
                            "which it did not evaluate")
    checked = ["task and metric", "data fingerprint", "protocol", "candidates"]
    if not problems and _plain(rows[0]):
        checked.append("stored fits of the best row")
        missing_folds = _unstored_folds(context, rows[0], plan)
        if missing_folds:
            problems.append(f"the stored fits of its best row, {rows[0]['algorithm']}/{rows[0]['view']}, "
                            f"were made with other settings ({missing_folds} of {len(plan.folds)} folds "
                            "not stored for project.yaml's parameters, seed and metric)")
    return problems, checked


def _unstored_folds(context: RunContext, row: dict[str, Any], plan) -> int:
    """How many of a plain row's folds have no stored result under the spec as it is now."""
    from dlrun.evaluation.runner import build_context, make_jobs
    from dlrun.evaluation.store import ResultStore

    path = context.project_dir / STATE_DIR / RESULTS_FILE
    if not path.is_file():
        return len(plan.folds)
    dataset, spec = context.dataset, context.spec
    ctx = build_context(dataset, spec.metric, spec.evaluation.seed)
    jobs = make_jobs([candidate_for(row, context)], plan, dataset, ctx, spec.evaluation.max_rows)
    with ResultStore(path) as store:
        have = store.get_many([job.key for job in jobs])
    return sum(1 for job in jobs if job.key not in have)


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
    # a row stands for the views it was fitted once for ("views") and those that tie exactly
    found = [r for r in rows if r["algorithm"] == algorithm
             and (not view or view in [r["view"], *(r.get("views") or []), *(r.get("tied_views") or [])])]
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
